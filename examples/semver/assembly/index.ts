// semver_compare(a text, b text) RETURNS integer: -1, 0 or 1 as a's precedence is lower than,
// equal to or higher than b's under Semantic Versioning 2.0.0 (§11): major, minor and patch
// numerically; a pre-release version is lower than its release; pre-release identifiers one by
// one, numeric ones numerically and below alphanumeric ones, which compare in ASCII order; a
// shorter list of equal identifiers is lower. Build metadata (+...) is ignored. A string that
// is not a semantic version is a row error naming it.
import { rowError } from "wasql-as/assembly";

class Version {
  core: string[] = [];
  pre: string[] = [];
}

function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

function isIdentChar(c: i32): bool {
  return isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2d;
}

function isNumeric(s: string): bool {
  for (let i = 0; i < s.length; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

// parse returns null (and sets why) when v is not a semantic version.
let why = "";

function idents(s: string, what: string, numericNoLeadingZero: bool): string[] | null {
  const parts = s.split(".");
  for (let k = 0; k < parts.length; k++) {
    const p = parts[k];
    if (p.length == 0) {
      why = "empty " + what + " identifier";
      return null;
    }
    for (let i = 0; i < p.length; i++) {
      if (!isIdentChar(p.charCodeAt(i))) {
        why = "invalid character in " + what + " identifier \"" + p + "\"";
        return null;
      }
    }
    if (numericNoLeadingZero && p.length > 1 && p.charCodeAt(0) == 0x30 && isNumeric(p)) {
      why = "leading zero in " + what + " identifier \"" + p + "\"";
      return null;
    }
  }
  return parts;
}

function parse(v: string): Version | null {
  let rest = v;
  const plus = rest.indexOf("+");
  if (plus >= 0) {
    if (idents(rest.substring(plus + 1), "build", false) === null) return null;
    rest = rest.substring(0, plus);
  }
  const dash = rest.indexOf("-");
  const out = new Version();
  if (dash >= 0) {
    const pre = idents(rest.substring(dash + 1), "pre-release", true);
    if (pre === null) return null;
    out.pre = pre;
    rest = rest.substring(0, dash);
  }
  const core = rest.split(".");
  if (core.length != 3) {
    why = "want MAJOR.MINOR.PATCH";
    return null;
  }
  for (let k = 0; k < 3; k++) {
    const n = core[k];
    if (n.length == 0 || !isNumeric(n)) {
      why = "want MAJOR.MINOR.PATCH";
      return null;
    }
    if (n.length > 1 && n.charCodeAt(0) == 0x30) {
      why = "leading zero in \"" + n + "\"";
      return null;
    }
  }
  out.core = core;
  return out;
}

// Numeric identifiers without leading zeros, of any length.
function cmpNumeric(a: string, b: string): i32 {
  if (a.length != b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpIdent(a: string, b: string): i32 {
  const an = isNumeric(a), bn = isNumeric(b);
  if (an && bn) return cmpNumeric(a, b);
  if (an) return -1;
  if (bn) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

// @ts-ignore: decorator
@wasql("IMMUTABLE PARALLEL SAFE")
export function semver_compare(a: string, b: string): i32 {
  const va = parse(a);
  if (va === null) return rowError<i32>("invalid semantic version \"" + a + "\": " + why);
  const vb = parse(b);
  if (vb === null) return rowError<i32>("invalid semantic version \"" + b + "\": " + why);
  for (let k = 0; k < 3; k++) {
    const c = cmpNumeric(va.core[k], vb.core[k]);
    if (c != 0) return c;
  }
  const pa = va.pre, pb = vb.pre;
  if (pa.length == 0 || pb.length == 0) {
    return pa.length == pb.length ? 0 : pa.length == 0 ? 1 : -1;
  }
  for (let k = 0; k < pa.length && k < pb.length; k++) {
    const c = cmpIdent(pa[k], pb[k]);
    if (c != 0) return c;
  }
  return pa.length == pb.length ? 0 : pa.length < pb.length ? -1 : 1;
}
