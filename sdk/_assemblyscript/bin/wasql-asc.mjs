#!/usr/bin/env node
// wasql-asc ENTRY.ts... -o OUT.wasm [asc options]: asc with the wasql transform and the options a
// wasql module needs (see README.md). Extra options are passed to asc and win over these.
import { main } from "assemblyscript/asc";
import { fileURLToPath } from "node:url";

const transform = fileURLToPath(new URL("../transform/index.mjs", import.meta.url));
const args = [
  "--transform", transform,
  // The incremental GC keeps memory bounded over a long query; its state is memory and globals,
  // which wasql restores together between queries (docs/abi.md §6).
  "--runtime", "incremental",
  // No env imports: abort writes to stderr and traps, Math.random seeds from WASI random_get.
  "--use", "abort=~lib/wasql-as/assembly/index/__wasql_abort",
  "--use", "seed=~lib/wasql-as/assembly/index/__wasql_seed",
  "--optimizeLevel", "3", "--shrinkLevel", "1",
  "--noAssert",
  ...process.argv.slice(2),
];
const { error } = await main(args, { stdout: process.stdout, stderr: process.stderr });
if (error) process.exit(1);
