//! The Rust SDK's example: one function per v1 type, NULLs, a row error and a log line.
use wasql::{Date, Json, Timestamp};

wasql::export! {
    /// Upper-cases text.
    #[sql = "IMMUTABLE PARALLEL SAFE"]
    fn shout(s: &str) -> String {
        s.to_uppercase()
    }

    #[sql = "IMMUTABLE"]
    fn next_small(n: i16) -> Result<i16, String> {
        n.checked_add(1).ok_or_else(|| format!("{} has no successor in smallint", n))
    }

    fn twice_int(n: i32) -> i32 { n.wrapping_mul(2) }

    fn twice_big(n: i64) -> i64 { n.wrapping_mul(2) }

    fn half_real(x: f32) -> f32 { x / 2.0 }

    fn half_double(x: f64) -> f64 { x / 2.0 }

    fn negate(b: bool) -> bool { !b }

    fn reverse_bytes(b: &[u8]) -> Vec<u8> { b.iter().rev().copied().collect() }

    fn wrap_json(doc: Json<&str>) -> Json<String> { Json(format!("[{}]", doc.0)) }

    fn next_day(d: Date) -> Date { Date(d.0 + 1) }

    fn plus_second(t: Timestamp) -> Timestamp { Timestamp(t.0 + 1_000_000) }

    /// NULL-aware: CALLED ON NULL INPUT because of the Option argument.
    fn or_default(s: Option<&str>, fallback: &str) -> String {
        s.unwrap_or(fallback).to_string()
    }

    /// NULL result for an empty string.
    fn nonempty(s: &str) -> Option<String> {
        if s.is_empty() { None } else { Some(s.to_string()) }
    }

    /// A row error, and a log line for every call.
    fn checked_div(a: i64, b: i64) -> Result<i64, String> {
        wasql::log!("checked_div({}, {})", a, b);
        a.checked_div(b).ok_or_else(|| format!("cannot divide {} by {}", a, b))
    }
}
