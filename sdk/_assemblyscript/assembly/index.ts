// wasql SDK for AssemblyScript: the types a @wasql function takes and returns, log, rowError,
// and the runtime the generated batch exports (wasql_batch_NAME) call. See ../README.md.
//
// The transform (../transform/index.mjs) appends to each source with a @wasql function the
// export wasql_batch_NAME, which reads the argument columns of the batch descriptor (docs/abi.md
// §4.2) row by row, calls the function and writes the result column, using the __wasql_*
// functions below. Users never call those.

// ---- SQL types without a native AssemblyScript equivalent ----------------------------------

/** json: the JSON text, passed through as is (the host checks results are valid UTF-8). */
export class Json {
  constructor(public text: string) {}
  toString(): string {
    return this.text;
  }
}

/** date: days since 1970-01-01. */
export class SqlDate {
  constructor(public days: i32) {}
}

/** timestamp (without time zone): microseconds since 1970-01-01 00:00 UTC. */
export class Timestamp {
  constructor(public micros: i64) {}
}

/** A value type made nullable: `Box<i64> | null` is a bigint that may be NULL. */
export class Box<T> {
  constructor(public value: T) {}
}

/** some(v) is new Box<T>(v). */
export function some<T>(value: T): Box<T> {
  return new Box<T>(value);
}

// ---- Memory that grew before a state reset ---------------------------------------------------

import { ROOT } from "rt/tlsf";
import { BLOCK_OVERHEAD, AL_MASK } from "rt/common";

// Where the TLSF root keeps its tail block (HL_END of the 32-bit root layout in ~lib/rt/tlsf.ts:
// flMap, 23 second-level maps, 23 × 16 free-list heads).
const TLSF_TAIL: usize = 1568;
// The end of the memory handed to the allocator in this session (reset with the state).
let __wasql_claimed: usize = 0;

// wasql restores memory and globals after each query but cannot shrink the memory: pages the
// allocator grew into are zeroed and its state forgets them, while memory.size() keeps them.
// Left alone, every query that grows would grow again past them (TLSF doubles), creeping up to
// the memory limit. reclaim hands the pages past the allocator's tail back to it, as one free
// block ending in a zero-length used block, the way TLSF's own addMemory lays out a region.
function reclaim(): void {
  if (ASC_RUNTIME == 0) return; // stub: no TLSF
  const root = changetype<usize>(ROOT);
  if (root == 0) return;
  const end = (<usize>memory.size() << 16) & ~AL_MASK;
  let start = <usize>load<u32>(root, TLSF_TAIL) + BLOCK_OVERHEAD;
  if (__wasql_claimed > start) start = __wasql_claimed;
  __wasql_claimed = end;
  start = ((start + BLOCK_OVERHEAD + AL_MASK) & ~AL_MASK) - BLOCK_OVERHEAD;
  if (end <= start + 1024) return;
  const size = end - start - 2 * BLOCK_OVERHEAD;
  store<usize>(start, size); // a used block of size bytes
  store<usize>(start + BLOCK_OVERHEAD + size, 0); // the zero-length used block after it
  heap.free(start + BLOCK_OVERHEAD);
}

// ---- WASI --------------------------------------------------------------------------------

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "fd_write")
declare function __wasi_fd_write(fd: u32, iovs: usize, iovsLen: u32, nwritten: usize): u16;

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "random_get")
declare function __wasi_random_get(buf: usize, len: usize): u16;

// A scratch block for iovecs and the written count (not managed by the GC).
let __wasql_scratch: usize = 0;

function writeFd(fd: u32, s: string): void {
  const n = String.UTF8.byteLength(s);
  const buf = heap.alloc(<usize>n + 1);
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, buf, false, String.UTF8.ErrorMode.REPLACE);
  store<u8>(buf + <usize>n, 10); // '\n'
  if (__wasql_scratch == 0) __wasql_scratch = heap.alloc(16);
  store<u32>(__wasql_scratch, <u32>buf);
  store<u32>(__wasql_scratch, <u32>(n + 1), 4);
  __wasi_fd_write(fd, __wasql_scratch, 1, __wasql_scratch + 8);
  heap.free(buf);
}

/** log writes msg and a newline to stderr; wasql shows each line of a call as a NOTICE. */
export function log(msg: string): void {
  writeFd(2, msg);
}

/** The abort the build maps AssemblyScript's `abort` to (--use abort=...): the message on
 *  stderr, then a trap (wasql reports it as 38000 with the message in the detail). */
export function __wasql_abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let m = "abort: " + (message !== null ? message : "");
  if (fileName !== null) m += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  writeFd(2, m);
  unreachable();
}

/** The seed of Math.random (--use seed=...), from WASI random_get. */
export function __wasql_seed(): f64 {
  if (__wasql_scratch == 0) __wasql_scratch = heap.alloc(16);
  __wasi_random_get(__wasql_scratch, 8);
  return <f64>(load<u64>(__wasql_scratch) >>> 11) + 1.0;
}

// ---- Row errors ----------------------------------------------------------------------------

let __wasql_err: string | null = null;

/** rowError records msg as this row's error and returns a placeholder of type T for the
 *  function to return: `return rowError<i32>("invalid version: " + a);`. The generated loop
 *  stops at this row and wasql fails the statement with 38000 and the message. */
export function rowError<T>(msg: string): T {
  __wasql_err = msg;
  if (isReference<T>()) return changetype<T>(0);
  // @ts-ignore: a number type
  return <T>0;
}

// ---- ABI exports ---------------------------------------------------------------------------

/** The ABI marker (docs/abi.md §1). */
export function wasql_abi_v1(): void {}

/** An 8-byte aligned block (TLSF blocks are 16-byte aligned), outside the GC's reach. */
export function wasql_alloc(size: u32): u32 {
  reclaim();
  const n: usize = size > 0 ? <usize>size : 1;
  return <u32>heap.alloc(n);
}

export function wasql_free(ptr: u32, size: u32): void {
  if (ptr != 0) heap.free(<usize>ptr);
}

// ---- What the generated batch exports call ---------------------------------------------------

// The result's variable-width bytes, reused across batches (unmanaged).
let __wasql_out: usize = 0;
let __wasql_outCap: usize = 0;
let __wasql_outLen: usize = 0;
// The error message's bytes.
let __wasql_msg: usize = 0;

const COL_TYPE: usize = 0;
const COL_VALIDITY: usize = 4;
const COL_VALUES: usize = 8;
const COL_DATA: usize = 12;
const COL_DATA_LEN: usize = 16;

export function __wasql_begin(): void {
  __wasql_err = null;
  __wasql_outLen = 0;
}

export function __wasql_failed(): bool {
  return __wasql_err !== null;
}

function setMessage(batch: usize, msg: string): void {
  const n = String.UTF8.byteLength(msg);
  if (__wasql_msg != 0) heap.free(__wasql_msg);
  __wasql_msg = heap.alloc(<usize>n + 1);
  String.UTF8.encodeUnsafe(changetype<usize>(msg), msg.length, __wasql_msg, false, String.UTF8.ErrorMode.REPLACE);
  store<u32>(batch, <u32>__wasql_msg, 40);
  store<u32>(batch, <u32>n, 44);
}

/** Status 1 for row i with the message rowError recorded. */
export function __wasql_fail(batch: usize, i: u32): i32 {
  const m = __wasql_err;
  __wasql_err = null;
  store<u32>(batch, i, 36);
  setMessage(batch, m !== null ? m : "row error");
  return 1;
}

function typeName(code: u32): string {
  switch (code) {
    case 1: return "smallint";
    case 2: return "integer";
    case 3: return "bigint";
    case 4: return "real";
    case 5: return "double precision";
    case 6: return "boolean";
    case 7: return "text";
    case 8: return "bytea";
    case 9: return "json";
    case 10: return "date";
    case 11: return "timestamp";
  }
  return "type " + code.toString();
}

/** Status 2 unless the descriptor has the argument and result types the function was built
 *  for (`want` is the type codes, result first); the message says what was expected. */
export function __wasql_check(batch: usize, want: string, expected: string): i32 {
  reclaim();
  const nargs = load<u32>(batch, 8);
  let ok = load<u32>(batch, 0) == 1 && nargs == <u32>(want.length - 1) && load<u32>(batch + 16, COL_TYPE) == <u32>want.charCodeAt(0) - 64;
  for (let k: u32 = 0; ok && k < nargs; k++) {
    ok = load<u32>(batch + 48 + 20 * <usize>k, COL_TYPE) == <u32>want.charCodeAt(<i32>k + 1) - 64;
  }
  if (ok) return 0;
  let got = "(";
  for (let k: u32 = 0; k < nargs && k < 100; k++) {
    if (k > 0) got += ", ";
    got += typeName(load<u32>(batch + 48 + 20 * <usize>k, COL_TYPE));
  }
  got += ") RETURNS " + typeName(load<u32>(batch + 16, COL_TYPE));
  setMessage(batch, "built for " + expected + ", called with " + got);
  return 2;
}

/** Sets the result's data and data_len; status 0. */
export function __wasql_end(batch: usize): i32 {
  store<u32>(batch + 16, <u32>__wasql_out, COL_DATA);
  store<u32>(batch + 16, <u32>__wasql_outLen, COL_DATA_LEN);
  return 0;
}

// @ts-ignore: decorator
@inline export function __wasql_isnull(col: usize, i: u32): bool {
  const v = <usize>load<u32>(col, COL_VALIDITY);
  return v != 0 && (load<u8>(v + <usize>(i >> 3)) & (<u8>1 << <u8>(i & 7))) == 0;
}

// @ts-ignore: decorator
@inline export function __wasql_fixed(col: usize, i: u32, width: usize): usize {
  return <usize>load<u32>(col, COL_VALUES) + <usize>i * width;
}

function varStart(col: usize, i: u32): usize {
  return <usize>load<u32>(col, COL_DATA) + <usize>load<u32>(<usize>load<u32>(col, COL_VALUES) + (<usize>i << 2));
}

function varLen(col: usize, i: u32): usize {
  const off = <usize>load<u32>(col, COL_VALUES) + (<usize>i << 2);
  return <usize>(load<u32>(off, 4) - load<u32>(off));
}

export function __wasql_get_text(col: usize, i: u32): string {
  return String.UTF8.decodeUnsafe(varStart(col, i), varLen(col, i));
}

export function __wasql_get_json(col: usize, i: u32): Json {
  return new Json(__wasql_get_text(col, i));
}

export function __wasql_get_bytes(col: usize, i: u32): Uint8Array {
  const n = <i32>varLen(col, i);
  const a = new Uint8Array(n);
  memory.copy(a.dataStart, varStart(col, i), <usize>n);
  return a;
}

export function __wasql_get_buffer(col: usize, i: u32): ArrayBuffer {
  const n = <i32>varLen(col, i);
  const a = new ArrayBuffer(n);
  memory.copy(changetype<usize>(a), varStart(col, i), <usize>n);
  return a;
}

export function __wasql_get_date(col: usize, i: u32): SqlDate {
  return new SqlDate(load<i32>(__wasql_fixed(col, i, 4)));
}

export function __wasql_get_timestamp(col: usize, i: u32): Timestamp {
  return new Timestamp(load<i64>(__wasql_fixed(col, i, 8)));
}

/** Clears row i's validity bit of the result column. */
export function __wasql_setnull(res: usize, i: u32, varWidth: bool): void {
  const v = <usize>load<u32>(res, COL_VALIDITY);
  const p = v + <usize>(i >> 3);
  store<u8>(p, load<u8>(p) & ~(<u8>1 << <u8>(i & 7)));
  if (varWidth) store<u32>(<usize>load<u32>(res, COL_VALUES) + (<usize>(i + 1) << 2), <u32>__wasql_outLen);
}

function reserve(n: usize): usize {
  const need = __wasql_outLen + n;
  if (need > __wasql_outCap) {
    let cap = __wasql_outCap < 4096 ? <usize>4096 : __wasql_outCap;
    while (cap < need) cap <<= 1;
    __wasql_out = __wasql_out == 0 ? heap.alloc(cap) : heap.realloc(__wasql_out, cap);
    __wasql_outCap = cap;
  }
  return __wasql_out + __wasql_outLen;
}

function endVar(res: usize, i: u32, n: usize): void {
  __wasql_outLen += n;
  store<u32>(<usize>load<u32>(res, COL_VALUES) + (<usize>(i + 1) << 2), <u32>__wasql_outLen);
}

export function __wasql_put_text(res: usize, i: u32, s: string): void {
  const n = <usize>String.UTF8.byteLength(s);
  const dst = reserve(n);
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, dst, false, String.UTF8.ErrorMode.REPLACE);
  endVar(res, i, n);
}

export function __wasql_put_json(res: usize, i: u32, j: Json): void {
  __wasql_put_text(res, i, j.text);
}

export function __wasql_put_bytes(res: usize, i: u32, a: Uint8Array): void {
  const n = <usize>a.byteLength;
  memory.copy(reserve(n), a.dataStart, n);
  endVar(res, i, n);
}

export function __wasql_put_buffer(res: usize, i: u32, a: ArrayBuffer): void {
  const n = <usize>a.byteLength;
  memory.copy(reserve(n), changetype<usize>(a), n);
  endVar(res, i, n);
}
