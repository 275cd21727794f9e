//! Write wasql SQL functions in Rust (the columnar batch ABI v1 of wasql's `docs/abi.md`).
//!
//! A function is one declaration inside [`export!`]: a plain Rust function whose argument and
//! result types are SQL types. The macro generates the batch export `wasql_batch_NAME` (one
//! guest call per batch of rows) and the function's SQL signature line in the module's
//! `wasql_signatures` custom section, so `CREATE FUNCTION name LANGUAGE wasm AS <module>`
//! needs no argument list.
//!
//! ```ignore
//! wasql::export! {
//!     #[sql = "IMMUTABLE PARALLEL SAFE"]
//!     fn shout(s: &str) -> String {
//!         s.to_uppercase()
//!     }
//! }
//! ```
//!
//! | Rust | SQL |
//! |---|---|
//! | `i16`, `i32`, `i64` | smallint, integer, bigint |
//! | `f32`, `f64` | real, double precision |
//! | `bool` | boolean |
//! | `&str` (argument), `String` (result) | text |
//! | `&[u8]` (argument), `Vec<u8>` (result) | bytea |
//! | `Json<&str>` (argument), `Json<String>` (result) | json |
//! | `Date` | date (days since 1970-01-01) |
//! | `Timestamp` | timestamp (microseconds since 1970-01-01 00:00 UTC) |
//! | `Option<T>` | T or NULL |
//!
//! A function with an `Option` argument is CALLED ON NULL INPUT; otherwise it is STRICT and
//! never sees a NULL (such rows return NULL). Results may be `T`, `Option<T>` (NULL),
//! `Result<T, E>` or `Result<Option<T>, E>` with `E: Display`: an `Err` fails the row with
//! SQLSTATE 38000 and the error's text. [`log!`] writes one line to stderr, which the client
//! sees as a NOTICE (Postgres wire) or a warning (MySQL wire).

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::fmt::Display;

/// Type codes of the ABI.
pub mod code {
    pub const SMALLINT: u32 = 1;
    pub const INTEGER: u32 = 2;
    pub const BIGINT: u32 = 3;
    pub const REAL: u32 = 4;
    pub const DOUBLE: u32 = 5;
    pub const BOOLEAN: u32 = 6;
    pub const TEXT: u32 = 7;
    pub const BYTEA: u32 = 8;
    pub const JSON: u32 = 9;
    pub const DATE: u32 = 10;
    pub const TIMESTAMP: u32 = 11;
}

/// An SQL json value: `Json<&str>` as an argument, `Json<String>` as a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Json<T>(pub T);

/// An SQL date: days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Date(pub i32);

/// An SQL timestamp: microseconds since 1970-01-01 00:00 UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Timestamp(pub i64);

/// A Rust type that stands for an SQL type.
pub trait SqlType {
    /// The SQL name, as the signature line spells it.
    const SQL: &'static str;
    /// The ABI type code.
    const CODE: u32;
    /// `Option<T>`: the function sees NULLs.
    const NULLABLE: bool = false;
}

macro_rules! sql_types {
    ($($t:ty => $sql:literal, $code:expr;)*) => {$(
        impl SqlType for $t {
            const SQL: &'static str = $sql;
            const CODE: u32 = $code;
        }
    )*};
}
sql_types! {
    i16 => "smallint", code::SMALLINT;
    i32 => "integer", code::INTEGER;
    i64 => "bigint", code::BIGINT;
    f32 => "real", code::REAL;
    f64 => "double precision", code::DOUBLE;
    bool => "boolean", code::BOOLEAN;
    Date => "date", code::DATE;
    Timestamp => "timestamp", code::TIMESTAMP;
    String => "text", code::TEXT;
    Vec<u8> => "bytea", code::BYTEA;
    Json<String> => "json", code::JSON;
}
impl<'a> SqlType for &'a str {
    const SQL: &'static str = "text";
    const CODE: u32 = code::TEXT;
}
impl<'a> SqlType for &'a [u8] {
    const SQL: &'static str = "bytea";
    const CODE: u32 = code::BYTEA;
}
impl<'a> SqlType for Json<&'a str> {
    const SQL: &'static str = "json";
    const CODE: u32 = code::JSON;
}
impl<T: SqlType> SqlType for Option<T> {
    const SQL: &'static str = T::SQL;
    const CODE: u32 = T::CODE;
    const NULLABLE: bool = true;
}
impl<T: SqlType, E> SqlType for Result<T, E> {
    const SQL: &'static str = T::SQL;
    const CODE: u32 = T::CODE;
}

/// A column of the batch descriptor.
#[repr(C)]
struct Col {
    ty: u32,
    validity: u32,
    values: u32,
    data: u32,
    data_len: u32,
}

/// The batch descriptor (its argument columns follow it).
#[repr(C)]
struct Desc {
    version: u32,
    rows: u32,
    nargs: u32,
    flags: u32,
    result: Col,
    error_row: u32,
    error_ptr: u32,
    error_len: u32,
}

/// The row a function is called for. Only the code [`export!`] generates uses it.
pub struct Row {
    desc: *mut Desc,
    i: usize,
}

impl Row {
    fn arg(&self, k: usize) -> &Col {
        // SAFETY: run checked k < nargs; the columns follow the descriptor.
        unsafe { &*((self.desc as *const u8).add(48 + 20 * k) as *const Col) }
    }

    fn result(&self) -> &Col {
        unsafe { &(*self.desc).result }
    }

    fn valid(col: &Col, i: usize) -> bool {
        col.validity == 0 || unsafe { *((col.validity as usize + i / 8) as *const u8) } >> (i % 8) & 1 == 1
    }

    fn fixed<T: Copy>(&self, k: usize) -> T {
        let c = self.arg(k);
        unsafe { ((c.values as usize) as *const T).add(self.i).read_unaligned() }
    }

    fn bytes(&self, k: usize) -> &'static [u8] {
        let c = self.arg(k);
        unsafe {
            let off = (c.values as usize) as *const u32;
            let (a, b) = (off.add(self.i).read_unaligned(), off.add(self.i + 1).read_unaligned());
            std::slice::from_raw_parts((c.data as usize + a as usize) as *const u8, (b - a) as usize)
        }
    }

    fn is_null(&self, k: usize) -> bool {
        !Row::valid(self.arg(k), self.i)
    }

    fn put_fixed<T: Copy>(&self, v: T) {
        let c = self.result();
        unsafe { ((c.values as usize) as *mut T).add(self.i).write_unaligned(v) }
    }

    fn put_bytes(&self, b: &[u8]) {
        unsafe { OUT.extend_from_slice(b) }
    }

    fn put_null(&self) {
        let c = self.result();
        unsafe {
            let p = (c.validity as usize + self.i / 8) as *mut u8;
            *p &= !(1u8 << (self.i % 8));
        }
    }
}

/// An argument type: reads row `i` of argument `k`.
pub trait Arg: SqlType + Sized {
    /// Whether a column of type code `code` can be read as this type.
    fn accepts(code: u32) -> bool {
        code == Self::CODE
    }
    #[doc(hidden)]
    fn get(row: &Row, k: usize) -> Self;
}

macro_rules! fixed_args {
    ($($t:ty),*) => {$(
        impl Arg for $t {
            fn get(row: &Row, k: usize) -> Self { row.fixed(k) }
        }
    )*};
}
fixed_args!(i16, i32, i64, f32, f64, Date, Timestamp);

impl Arg for bool {
    fn get(row: &Row, k: usize) -> Self {
        row.fixed::<u8>(k) != 0
    }
}
impl<'a> Arg for &'a str {
    fn accepts(code: u32) -> bool {
        code == code::TEXT || code == code::JSON
    }
    fn get(row: &Row, k: usize) -> Self {
        // The host sends valid UTF-8 for text and json.
        unsafe { std::str::from_utf8_unchecked(row.bytes(k)) }
    }
}
impl<'a> Arg for &'a [u8] {
    fn accepts(code: u32) -> bool {
        code == code::TEXT || code == code::BYTEA || code == code::JSON
    }
    fn get(row: &Row, k: usize) -> Self {
        row.bytes(k)
    }
}
impl<'a> Arg for Json<&'a str> {
    fn get(row: &Row, k: usize) -> Self {
        Json(<&str>::get(row, k))
    }
}
impl<T: Arg> Arg for Option<T> {
    fn accepts(code: u32) -> bool {
        T::accepts(code)
    }
    fn get(row: &Row, k: usize) -> Self {
        if row.is_null(k) {
            None
        } else {
            Some(T::get(row, k))
        }
    }
}

/// A result type: writes row `i` of the result, or fails the row.
pub trait Ret: SqlType {
    #[doc(hidden)]
    fn put(self, row: &Row) -> Result<(), String>;
}

macro_rules! fixed_rets {
    ($($t:ty),*) => {$(
        impl Ret for $t {
            fn put(self, row: &Row) -> Result<(), String> { row.put_fixed(self); Ok(()) }
        }
    )*};
}
fixed_rets!(i16, i32, i64, f32, f64, Date, Timestamp);

impl Ret for bool {
    fn put(self, row: &Row) -> Result<(), String> {
        row.put_fixed(self as u8);
        Ok(())
    }
}
impl Ret for String {
    fn put(self, row: &Row) -> Result<(), String> {
        row.put_bytes(self.as_bytes());
        Ok(())
    }
}
impl Ret for Vec<u8> {
    fn put(self, row: &Row) -> Result<(), String> {
        row.put_bytes(&self);
        Ok(())
    }
}
impl Ret for Json<String> {
    fn put(self, row: &Row) -> Result<(), String> {
        row.put_bytes(self.0.as_bytes());
        Ok(())
    }
}
impl<T: Ret> Ret for Option<T> {
    fn put(self, row: &Row) -> Result<(), String> {
        match self {
            Some(v) => v.put(row),
            None => {
                row.put_null();
                Ok(())
            }
        }
    }
}
impl<T: Ret, E: Display> Ret for Result<T, E> {
    fn put(self, row: &Row) -> Result<(), String> {
        match self {
            Ok(v) => v.put(row),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Variable-width result bytes, reused across batches.
static mut OUT: Vec<u8> = Vec::new();
/// The message of the last failed batch.
static mut MESSAGE: String = String::new();

fn type_name(code: u32) -> &'static str {
    match code {
        code::SMALLINT => "smallint",
        code::INTEGER => "integer",
        code::BIGINT => "bigint",
        code::REAL => "real",
        code::DOUBLE => "double precision",
        code::BOOLEAN => "boolean",
        code::TEXT => "text",
        code::BYTEA => "bytea",
        code::JSON => "json",
        code::DATE => "date",
        code::TIMESTAMP => "timestamp",
        _ => "an unknown type",
    }
}

unsafe fn fail(desc: *mut Desc, status: u32, row: usize, msg: String) -> u32 {
    MESSAGE = msg;
    (*desc).error_row = row as u32;
    (*desc).error_ptr = MESSAGE.as_ptr() as u32;
    (*desc).error_len = MESSAGE.len() as u32;
    status
}

/// Runs one batch: checks the descriptor against the Rust types (`args`: each argument's
/// `accepts`, `names`: their SQL names for messages), then calls `f` for every row. A row with
/// a NULL in an argument that is not an `Option` returns NULL without calling `f` (in a STRICT
/// function the host never sends one). Only the code [`export!`] generates calls it.
///
/// # Safety
/// `batch` must be a descriptor the host laid out in this module's memory.
#[doc(hidden)]
pub unsafe fn run(
    batch: u32,
    name: &str,
    nullable: &[bool],
    args: &[fn(u32) -> bool],
    names: &[&str],
    result: u32,
    result_sql: &str,
    f: &mut dyn FnMut(&Row) -> Result<(), String>,
) -> u32 {
    let desc = batch as usize as *mut Desc;
    if (*desc).version != 1 {
        return fail(desc, 2, 0, format!("{}: unknown batch version {}", name, (*desc).version));
    }
    if (*desc).nargs as usize != args.len() {
        return fail(desc, 2, 0, format!("{}: the Rust function takes {} arguments, the batch has {}", name, args.len(), (*desc).nargs));
    }
    let row = Row { desc, i: 0 };
    for (k, accepts) in args.iter().enumerate() {
        let ty = row.arg(k).ty;
        if !accepts(ty) {
            return fail(desc, 2, 0, format!("{}: argument {} is {}, the Rust function takes {}", name, k + 1, type_name(ty), names[k]));
        }
    }
    let rty = (*desc).result.ty;
    let var = matches!(rty, code::TEXT | code::BYTEA | code::JSON);
    if rty != result && !(var && result == code::TEXT && rty == code::JSON) {
        return fail(desc, 2, 0, format!("{}: the result is {}, the Rust function returns {}", name, type_name(rty), result_sql));
    }
    OUT.clear();
    let rows = (*desc).rows as usize;
    let offsets = (*desc).result.values as usize as *mut u32;
    if var {
        offsets.write_unaligned(0);
    }
    let mut row = row;
    for i in 0..rows {
        row.i = i;
        let skip = (0..args.len()).any(|k| !nullable[k] && row.is_null(k));
        if skip {
            row.put_null();
        } else if let Err(msg) = f(&row) {
            return fail(desc, 1, i, msg);
        }
        if var {
            offsets.add(i + 1).write_unaligned(OUT.len() as u32);
        }
    }
    if var {
        (*desc).result.data = if OUT.is_empty() { 0 } else { OUT.as_ptr() as u32 };
        (*desc).result.data_len = OUT.len() as u32;
    }
    0
}

/// Signature lines, built at compile time. Only the code [`export!`] generates uses them.
#[doc(hidden)]
pub mod sig {
    const fn eq(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }

    /// parts is NAME, "(", then ", ", ARG, " ", TYPE for each argument, then the rest: the
    /// separator before the first argument is skipped.
    const fn skip(parts: &[&str], i: usize) -> bool {
        i == 2 && parts.len() > 2 && eq(parts[2], ", ")
    }

    pub const fn len(parts: &[&str]) -> usize {
        let (mut n, mut i) = (0, 0);
        while i < parts.len() {
            if !skip(parts, i) {
                n += parts[i].len();
            }
            i += 1;
        }
        n
    }

    pub const fn line<const N: usize>(parts: &[&str]) -> [u8; N] {
        let mut out = [0u8; N];
        let (mut at, mut i) = (0, 0);
        while i < parts.len() {
            if !skip(parts, i) {
                let b = parts[i].as_bytes();
                let mut j = 0;
                while j < b.len() {
                    out[at] = b[j];
                    at += 1;
                    j += 1;
                }
            }
            i += 1;
        }
        out
    }
}

/// Declares SQL functions: each `fn` becomes a Rust function, its batch export
/// `wasql_batch_NAME` and its line in the module's `wasql_signatures` section. An optional
/// `#[sql = "..."]` adds clauses (`IMMUTABLE`, `STABLE`, `VOLATILE`, `PARALLEL SAFE`, ...).
#[macro_export]
macro_rules! export {
    ($( $(#[doc = $doc:literal])* $(#[sql = $opts:literal])? fn $name:ident ( $($arg:ident : $t:ty),* $(,)? ) -> $r:ty $body:block )*) => {$(
        $(#[doc = $doc])*
        fn $name($($arg: $t),*) -> $r $body

        const _: () = {
            const STRICT: bool = !(false $(|| <$t as $crate::SqlType>::NULLABLE)*);
            const NULLS: &str = if STRICT { "STRICT" } else { "CALLED ON NULL INPUT" };
            const OPTIONS: &str = concat!("" $(, $opts)?);
            const RESULT: &str = <$r as $crate::SqlType>::SQL;
            const PARTS: &[&str] = &[
                stringify!($name), "(",
                $(", ", stringify!($arg), " ", <$t as $crate::SqlType>::SQL,)*
                ") RETURNS ", RESULT, " ", NULLS, " ", OPTIONS, "\n",
            ];
            const LEN: usize = $crate::sig::len(PARTS);

            #[link_section = "wasql_signatures"]
            #[used]
            static SIGNATURE: [u8; LEN] = $crate::sig::line::<LEN>(PARTS);

            #[export_name = concat!("wasql_batch_", stringify!($name))]
            extern "C" fn batch(b: u32) -> u32 {
                unsafe {
                    $crate::run(
                        b,
                        stringify!($name),
                        &[$(<$t as $crate::SqlType>::NULLABLE),*],
                        &[$(<$t as $crate::Arg>::accepts as fn(u32) -> bool),*],
                        &[$(<$t as $crate::SqlType>::SQL),*],
                        <$r as $crate::SqlType>::CODE,
                        RESULT,
                        &mut |row: &$crate::Row| {
                            let mut k = 0usize;
                            $(let $arg = <$t as $crate::Arg>::get(row, k); k += 1;)*
                            let _ = k;
                            $crate::Ret::put($name($($arg),*), row)
                        },
                    )
                }
            }
        };
    )*};
}

/// Writes one line to stderr: the client sees it as a NOTICE (Postgres wire) or a warning
/// (MySQL wire), prefixed with the function's name.
#[macro_export]
macro_rules! log {
    ($($t:tt)*) => { eprintln!($($t)*) };
}

/// ABI version marker; never called.
#[no_mangle]
pub extern "C" fn wasql_abi_v1() {}

/// Returns an 8-byte aligned, zeroed block of `size` bytes, 0 if memory ran out.
#[no_mangle]
pub extern "C" fn wasql_alloc(size: u32) -> u32 {
    match Layout::from_size_align(size.max(1) as usize, 8) {
        Ok(l) => unsafe { alloc_zeroed(l) as u32 },
        Err(_) => 0,
    }
}

/// Gives back a block from wasql_alloc.
#[no_mangle]
pub extern "C" fn wasql_free(ptr: u32, size: u32) {
    if ptr != 0 {
        if let Ok(l) = Layout::from_size_align(size.max(1) as usize, 8) {
            unsafe { dealloc(ptr as *mut u8, l) }
        }
    }
}
