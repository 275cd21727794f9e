/* The C SDK's example: one function per v1 type, NULLs, a row error and a log line.
 * make builds types.wasm; integration/sdk_c_test.go runs it over SQL. */
#include "wasql.h"

WASQL_FUNCTION(c_shout, "s text", "text", "IMMUTABLE PARALLEL SAFE") {
    uint32_t len;
    const uint8_t *s = wasql_arg_bytes(row, 0, &len);
    wasql_buf *out = wasql_result(row);
    for (uint32_t i = 0; i < len; i++)
        wasql_buf_putc(out, s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
}

WASQL_FUNCTION(c_next_small, "n smallint", "smallint", "IMMUTABLE") {
    int16_t n = wasql_arg_smallint(row, 0);
    if (n == INT16_MAX)
        wasql_errorf(row, "%d has no successor in smallint", n);
    else
        wasql_return_smallint(row, (int16_t)(n + 1));
}

WASQL_FUNCTION(c_twice_int, "n integer", "integer", "IMMUTABLE") {
    wasql_return_integer(row, (int32_t)((uint32_t)wasql_arg_int(row, 0) * 2u));
}

WASQL_FUNCTION(c_twice_big, "n bigint", "bigint", "IMMUTABLE") {
    wasql_return_bigint(row, (int64_t)((uint64_t)wasql_arg_bigint(row, 0) * 2u));
}

WASQL_FUNCTION(c_half_real, "x real", "real", "IMMUTABLE") { wasql_return_real(row, wasql_arg_real(row, 0) / 2); }

WASQL_FUNCTION(c_half_double, "x double precision", "double precision", "IMMUTABLE") {
    wasql_return_double(row, wasql_arg_double(row, 0) / 2);
}

WASQL_FUNCTION(c_negate, "b boolean", "boolean", "IMMUTABLE") { wasql_return_bool(row, !wasql_arg_bool(row, 0)); }

WASQL_FUNCTION(c_reverse_bytes, "b bytea", "bytea", "IMMUTABLE") {
    uint32_t len;
    const uint8_t *b = wasql_arg_bytes(row, 0, &len);
    wasql_buf *out = wasql_result(row);
    for (uint32_t i = len; i > 0; i--)
        wasql_buf_putc(out, b[i - 1]);
}

WASQL_FUNCTION(c_wrap_json, "doc json", "json", "IMMUTABLE") {
    uint32_t len;
    const uint8_t *d = wasql_arg_bytes(row, 0, &len);
    wasql_buf *out = wasql_result(row);
    wasql_buf_putc(out, '[');
    wasql_buf_append(out, d, len);
    wasql_buf_putc(out, ']');
}

WASQL_FUNCTION(c_next_day, "d date", "date", "IMMUTABLE") { wasql_return_date(row, wasql_arg_date(row, 0) + 1); }

WASQL_FUNCTION(c_plus_second, "t timestamp", "timestamp", "IMMUTABLE") {
    wasql_return_timestamp(row, wasql_arg_timestamp(row, 0) + 1000000);
}

/* CALLED ON NULL INPUT: the body sees NULLs. */
WASQL_FUNCTION_NULLABLE(c_or_default, "s text, fallback text", "text", "IMMUTABLE") {
    uint32_t k = wasql_arg_null(row, 0) ? 1 : 0;
    if (wasql_arg_null(row, k)) {
        wasql_return_null(row);
        return;
    }
    wasql_return_str(row, wasql_arg_cstr(row, k));
}

/* A row error, and a log line for every call. */
WASQL_FUNCTION(c_checked_div, "a bigint, b bigint", "bigint", "IMMUTABLE") {
    int64_t a = wasql_arg_bigint(row, 0), b = wasql_arg_bigint(row, 1);
    wasql_log("c_checked_div(%lld, %lld)", (long long)a, (long long)b);
    if (b == 0)
        wasql_errorf(row, "cannot divide %lld by 0", (long long)a);
    else
        wasql_return_bigint(row, a / b);
}
