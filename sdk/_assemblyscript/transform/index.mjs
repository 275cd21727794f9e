// The wasql transform for asc (--transform): for every top-level function decorated
// @wasql("CLAUSES") in an entry file it generates the columnar batch export
// wasql_batch_NAME(batch: u32): i32 (docs/abi.md §4) and the function's SQL signature line, which
// it writes into a wasql_signatures custom section (§4.5) after compilation.
import { Transform } from "assemblyscript/transform";
import { NodeKind, LiteralKind, ParameterKind, SourceKind } from "assemblyscript";

// AssemblyScript type name -> SQL type, type code, and how a column value is read and written.
// get(col) and put(res, v) are AssemblyScript expressions; i is the row index.
const fixed = (t, w) => ({
  get: (c) => `load<${t}>(__wasql_fixed(${c}, __wasql_i, ${w}))`,
  put: (r, v) => `store<${t}>(__wasql_fixed(${r}, __wasql_i, ${w}), ${v})`,
});
const TYPES = {
  i16: { sql: "smallint", code: 1, value: true, ...fixed("i16", 2) },
  i32: { sql: "integer", code: 2, value: true, ...fixed("i32", 4) },
  i64: { sql: "bigint", code: 3, value: true, ...fixed("i64", 8) },
  f32: { sql: "real", code: 4, value: true, ...fixed("f32", 4) },
  f64: { sql: "double precision", code: 5, value: true, ...fixed("f64", 8) },
  bool: {
    sql: "boolean", code: 6, value: true,
    get: (c) => `(load<u8>(__wasql_fixed(${c}, __wasql_i, 1)) != 0)`,
    put: (r, v) => `store<u8>(__wasql_fixed(${r}, __wasql_i, 1), ${v} ? 1 : 0)`,
  },
  string: { sql: "text", code: 7, varWidth: true, get: (c) => `__wasql_get_text(${c}, __wasql_i)`, put: (r, v) => `__wasql_put_text(${r}, __wasql_i, ${v})` },
  Uint8Array: { sql: "bytea", code: 8, varWidth: true, get: (c) => `__wasql_get_bytes(${c}, __wasql_i)`, put: (r, v) => `__wasql_put_bytes(${r}, __wasql_i, ${v})` },
  ArrayBuffer: { sql: "bytea", code: 8, varWidth: true, get: (c) => `__wasql_get_buffer(${c}, __wasql_i)`, put: (r, v) => `__wasql_put_buffer(${r}, __wasql_i, ${v})` },
  Json: { sql: "json", code: 9, varWidth: true, get: (c) => `__wasql_get_json(${c}, __wasql_i)`, put: (r, v) => `__wasql_put_json(${r}, __wasql_i, ${v})` },
  SqlDate: { sql: "date", code: 10, get: (c) => `__wasql_get_date(${c}, __wasql_i)`, put: (r, v) => `store<i32>(__wasql_fixed(${r}, __wasql_i, 4), ${v}.days)` },
  Timestamp: { sql: "timestamp", code: 11, get: (c) => `__wasql_get_timestamp(${c}, __wasql_i)`, put: (r, v) => `store<i64>(__wasql_fixed(${r}, __wasql_i, 8), ${v}.micros)` },
};
const TYPE_LIST = "i16, i32, i64, f32, f64, bool, string, Uint8Array, ArrayBuffer, Json, SqlDate, Timestamp, " +
  "a reference type | null, or Box<value type> | null";

// A build error without the transform's stack trace (asc prints an error's stack).
function fail(msg) {
  const e = new Error("wasql: " + msg);
  e.stack = e.message;
  return e;
}

const HELPERS = [
  "__wasql_begin", "__wasql_failed", "__wasql_fail", "__wasql_check", "__wasql_end", "__wasql_isnull",
  "__wasql_fixed", "__wasql_setnull", "__wasql_get_text", "__wasql_get_json", "__wasql_get_bytes",
  "__wasql_get_buffer", "__wasql_get_date", "__wasql_get_timestamp", "__wasql_put_text", "__wasql_put_json",
  "__wasql_put_bytes", "__wasql_put_buffer",
];
const CLASSES = ["Box", "Json", "SqlDate", "Timestamp"];

function typeName(node) {
  // A NamedTypeNode's name is a TypeName chain (a.b.c).
  let parts = [], n = node.name;
  while (n) { parts.push(n.identifier.text); n = n.next; }
  return parts.join(".");
}

// sqlType describes an AssemblyScript type node as a wasql column type.
function sqlType(node, where) {
  if (!node || node.kind !== NodeKind.NamedType) throw fail(`${where}: the type must be one of ${TYPE_LIST}`);
  const name = typeName(node);
  if (name === "Box") {
    const arg = node.typeArguments && node.typeArguments[0];
    const inner = arg && arg.kind === NodeKind.NamedType ? TYPES[typeName(arg)] : null;
    if (!inner || !inner.value || arg.isNullable) throw fail(`${where}: Box<T> takes a value type (i16, i32, i64, f32, f64, bool)`);
    if (!node.isNullable) throw fail(`${where}: write Box<${typeName(arg)}> | null for a nullable ${inner.sql}, or plain ${typeName(arg)}`);
    return { ...inner, nullable: true, box: typeName(arg) };
  }
  const t = TYPES[name];
  if (!t) throw fail(`${where}: type ${name} has no SQL type; use one of ${TYPE_LIST}`);
  if (node.isNullable && t.value) throw fail(`${where}: ${name} | null: a value type is made nullable with Box<${name}> | null`);
  return { ...t, name, nullable: !!node.isNullable };
}

// The AssemblyScript spelling of a (non-null) type for casts and annotations.
const asType = (t) => (t.box ? `__wasql_Box<${t.box}>` : (CLASSES.includes(t.name) ? `__wasql_${t.name}` : t.name));

const CLAUSE = /^\s*((IMMUTABLE|STABLE|VOLATILE|PARALLEL\s+(SAFE|RESTRICTED|UNSAFE))\s*)*$/i;

function generate(fn, sourcePath) {
  const name = fn.name.text;
  const where = `${sourcePath}: @wasql function ${name}`;
  const deco = fn.decorators.find((d) => d.name.kind === NodeKind.Identifier && d.name.text === "wasql");
  let clauses = "";
  if (deco.args && deco.args.length) {
    const a = deco.args[0];
    if (deco.args.length > 1 || a.kind !== NodeKind.Literal || a.literalKind !== LiteralKind.String)
      throw fail(`${where}: @wasql takes one string of clauses, e.g. @wasql("IMMUTABLE PARALLEL SAFE")`);
    clauses = a.value.trim().replace(/\s+/g, " ");
    if (!CLAUSE.test(clauses))
      throw fail(`${where}: @wasql("${clauses}"): only IMMUTABLE, STABLE, VOLATILE and PARALLEL SAFE/RESTRICTED/UNSAFE; ` +
        "STRICT or CALLED ON NULL INPUT follows from the parameter types (a | null parameter sees NULLs)");
  }
  if (fn.typeParameters && fn.typeParameters.length) throw fail(`${where}: a generic function cannot be a SQL function`);
  const params = fn.signature.parameters.map((p, k) => {
    if (p.parameterKind !== ParameterKind.Default) throw fail(`${where}: parameter ${p.name.text} must be a plain one (no default, no rest)`);
    return { name: p.name.text, t: sqlType(p.type, `${where}: parameter ${p.name.text}`) };
  });
  const ret = sqlType(fn.signature.returnType, `${where}: the result`);
  const nullable = params.some((p) => p.t.nullable);
  const sig = `${name}(${params.map((p) => `${p.name} ${p.t.sql}`).join(", ")}) RETURNS ${ret.sql}`;
  const line = `${sig} ${nullable ? "CALLED ON NULL INPUT" : "STRICT"}${clauses ? " " + clauses.toUpperCase() : ""}`;

  const want = [ret, ...params.map((p) => p.t)].map((t) => String.fromCharCode(64 + t.code)).join("");
  let body = "";
  params.forEach((p, k) => {
    body += `    const __wasql_v${k}: ${asType(p.t)}${p.t.nullable ? " | null" : ""} = `;
    const get = p.t.box ? `new ${asType(p.t)}(${p.t.get(`__wasql_c${k}`)})` : p.t.get(`__wasql_c${k}`);
    body += p.t.nullable ? `__wasql_isnull(__wasql_c${k}, __wasql_i) ? null : ${get};\n` : `${get};\n`;
  });
  body += `    const __wasql_r = ${name}(${params.map((_, k) => `__wasql_v${k}`).join(", ")});\n`;
  body += `    if (__wasql_failed()) return __wasql_fail(__wasql_b, __wasql_i);\n`;
  const rv = ret.nullable ? `changetype<${asType(ret)}>(__wasql_r)` : "__wasql_r";
  const put = ret.put("__wasql_res", ret.box ? `${rv}.value` : rv);
  body += ret.nullable
    ? `    if (__wasql_r === null) __wasql_setnull(__wasql_res, __wasql_i, ${!!ret.varWidth}); else ${put};\n`
    : `    ${put};\n`;
  const code = `
export function wasql_batch_${name}(batch: u32): i32 {
  const __wasql_b = <usize>batch;
  if (__wasql_check(__wasql_b, "${want}", "${sig}") != 0) return 2;
  const __wasql_rows = load<u32>(__wasql_b, 4);
  const __wasql_res = __wasql_b + 16;
${params.map((_, k) => `  const __wasql_c${k} = __wasql_b + ${48 + 20 * k};\n`).join("")}  __wasql_begin();
  for (let __wasql_i: u32 = 0; __wasql_i < __wasql_rows; __wasql_i++) {
${body}  }
  return __wasql_end(__wasql_b);
}
`;
  return { name, line, code };
}

export default class WasqlTransform extends Transform {
  afterParse(parser) {
    this.lines = [];
    let reexported = false;
    for (const source of [...parser.sources]) {
      if (source.normalizedPath.startsWith("~lib/") || source.internalPath.includes("/__wasql_gen_")) continue;
      const fns = source.statements.filter((s) => s.kind === NodeKind.FunctionDeclaration && s.decorators &&
        s.decorators.some((d) => d.name.kind === NodeKind.Identifier && d.name.text === "wasql"));
      if (!fns.length) continue;
      if (source.sourceKind !== SourceKind.UserEntry)
        throw fail(`${source.normalizedPath}: @wasql functions must be in an entry file (the file given to asc)`);
      let code = `import { ${HELPERS.join(", ")}, ${CLASSES.map((c) => `${c} as __wasql_${c}`).join(", ")} } from "wasql-as/assembly";\n`;
      if (!reexported) {
        code += `export { wasql_abi_v1, wasql_alloc, wasql_free } from "wasql-as/assembly";\n`;
        reexported = true;
      }
      for (const fn of fns) {
        const g = generate(fn, source.normalizedPath);
        if (this.lines.some((l) => l.startsWith(g.name + "("))) throw fail(`${source.normalizedPath}: @wasql function ${g.name} is declared twice`);
        this.lines.push(g.line);
        code += g.code;
        fn.decorators = fn.decorators.filter((d) => !(d.name.kind === NodeKind.Identifier && d.name.text === "wasql"));
        if (!fn.decorators.length) fn.decorators = null;
      }
      // Parse the generated code as a file beside the source (so its imports resolve the same
      // way), then move its statements into the source, where the functions are in scope.
      const dir = source.normalizedPath.includes("/") ? source.normalizedPath.replace(/\/[^/]*$/, "/") : "";
      const base = source.normalizedPath.replace(/^.*\//, "");
      const genPath = `${dir}__wasql_gen_${base}`;
      parser.parseFile(code, genPath, false);
      const gen = parser.sources.find((s) => s.normalizedPath === genPath);
      if (!gen) throw fail(`wasql transform: the generated ${genPath} was not parsed`);
      source.statements.push(...gen.statements);
      gen.statements.length = 0;
      if (process.env.WASQL_AS_DEBUG) this.stderr.write(code);
    }
  }

  afterCompile(module) {
    if (!this.lines || !this.lines.length) return;
    const text = "# wasql signatures (wasql-as)\n" + this.lines.join("\n") + "\n";
    module.addCustomSection("wasql_signatures", new TextEncoder().encode(text));
  }
}
