// The wasql-as example: one function per v1 type, NULL handling both ways, a row error and a
// log line. Build: npm ci && npm run build (example.wasm).
import { log, rowError, Box, Json, SqlDate, Timestamp } from "wasql-as/assembly";

// ---- every v1 type, STRICT ----

// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function as_smallint(x: i16): i16 { return x; }

// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function as_integer(x: i32): i32 { return x; }

// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function as_bigint(x: i64): i64 { return x; }

// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function as_real(x: f32): f32 { return x; }

// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function as_double(x: f64): f64 { return x; }

// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function as_not(x: bool): bool { return !x; }

// The text in UTF-16 (AssemblyScript's strings) and back: reversed by code point.
// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function as_reverse(s: string): string {
  const cps: i32[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.codePointAt(i);
    cps.push(c);
    if (c > 0xffff) i++;
  }
  let out = "";
  for (let i = cps.length - 1; i >= 0; i--) out += String.fromCodePoint(cps[i]);
  return out;
}

// Length in UTF-16 code units (an AssemblyScript string's length).
// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function as_utf16_length(s: string): i32 { return s.length; }

// bytea as Uint8Array: every byte xor 0xff.
// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function as_invert(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = b[i] ^ 0xff;
  return out;
}

// bytea as ArrayBuffer: its length.
// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function as_bytea_length(b: ArrayBuffer): i32 { return b.byteLength; }

// json: wraps the value in {"v": ...}.
// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function as_wrap(j: Json): Json { return new Json('{"v":' + j.text + "}"); }

// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function as_add_days(d: SqlDate, n: i32): SqlDate { return new SqlDate(d.days + n); }

// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function as_add_micros(t: Timestamp, us: i64): Timestamp { return new Timestamp(t.micros + us); }

// ---- NULLs ----

// CALLED ON NULL INPUT: a Box<T> | null parameter sees NULL as null.
// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function as_coalesce(x: Box<i64> | null, dflt: i64): i64 { return x !== null ? x.value : dflt; }

// CALLED ON NULL INPUT on a reference type, and a NULL result: NULL when s is NULL or empty.
// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function as_describe(s: string | null): string | null {
  if (s === null) return "null";
  if (s.length == 0) return null;
  return "text:" + s;
}

// STRICT with a nullable result: half of an even number, NULL for an odd one.
// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function as_half(x: i32): Box<i32> | null { return x % 2 == 0 ? new Box<i32>(x / 2) : null; }

// A nullable date result.
// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function as_epoch_or_null(d: SqlDate | null): Timestamp | null {
  return d === null ? null : new Timestamp(<i64>d.days * 86400000000);
}

// ---- a row error and a log line ----

// @ts-ignore: decorator
@wasql("IMMUTABLE")
export function as_div(a: i64, b: i64): i64 {
  if (b == 0) {
    log("as_div: " + a.toString() + " / 0");
    return rowError<i64>("division of " + a.toString() + " by zero");
  }
  return a / b;
}

// Uses the GC heavily (a string per row, then garbage): memory must stay bounded and the
// state reset between queries must leave a working heap.
// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function as_repeat(s: string, n: i32): string {
  let out = "";
  for (let i = 0; i < n; i++) out += s;
  return out;
}

// Allocates n bytes (a large n makes the memory grow) and returns the memory's size in pages:
// repeated over queries, the memory that grew and that wasql zeroed on reset must be reused,
// not leaked.
// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function as_alloc(n: i32): i32 {
  const a = new Uint8Array(n);
  a[n - 1] = 1;
  return memory.size() - 1 + a[n - 1];
}
