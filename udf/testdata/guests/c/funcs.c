/* Test guest for wasql, built with sdk/c/wasql.h into ../c_funcs.wasm (see ../build.sh).
 * The Go guest in ../go implements the same batch functions with the same semantics. */
/* The tests register these functions under several signatures (must_be_ascii as text and as
 * json, add as plus): no signature section. */
#define WASQL_NO_SIGNATURES
#include "wasql.h"

/* slugify(text) -> text: A-Z are lowercased, a-z and 0-9 kept, every run of any
 * other bytes (including all bytes >= 0x80) becomes one '-', and no '-' is left
 * at either end: "  Hello, World! " -> "hello-world". */
WASQL_FUNCTION(slugify, "s text", "text", "IMMUTABLE PARALLEL SAFE") {
    uint32_t len;
    const uint8_t *in = wasql_arg_bytes(row, 0, &len);
    wasql_buf *out = wasql_result(row);
    int wrote = 0, dash = 0;
    for (uint32_t i = 0; i < len; i++) {
        uint8_t c = in[i];
        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (dash && wrote)
                wasql_buf_putc(out, '-');
            wasql_buf_putc(out, c);
            wrote = 1;
            dash = 0;
        } else {
            dash = 1;
        }
    }
}

/* add(bigint, bigint) -> bigint, wrapping on overflow. */
WASQL_FUNCTION(add, "a bigint, b bigint", "bigint", "IMMUTABLE PARALLEL SAFE") {
    wasql_return_bigint(row, (int64_t)((uint64_t)wasql_arg_bigint(row, 0) + (uint64_t)wasql_arg_bigint(row, 1)));
}

/* nvl_len(text) -> integer, CALLED ON NULL INPUT: NULL -> -1, else the byte length. */
WASQL_FUNCTION_NULLABLE(nvl_len, "s text", "integer", "") {
    uint32_t len;
    wasql_arg_bytes(row, 0, &len);
    wasql_return_integer(row, wasql_arg_null(row, 0) ? -1 : (int32_t)len);
}

/* must_be_ascii(text) -> text: the input unchanged; a row with a byte >= 0x80 fails. */
WASQL_FUNCTION(must_be_ascii, "s text", "text", "IMMUTABLE PARALLEL SAFE") {
    uint32_t len;
    const uint8_t *in = wasql_arg_bytes(row, 0, &len);
    for (uint32_t i = 0; i < len; i++)
        if (in[i] >= 0x80) {
            wasql_error(row, "non-ASCII input");
            return;
        }
    wasql_return_bytes(row, in, len);
}

/* mul(bigint, bigint) -> bigint through the numeric scalar ABI: (i64, i64) -> i64, no batch wrapper. */
WASQL_SIGNATURE("mul(a bigint, b bigint) RETURNS bigint IMMUTABLE PARALLEL SAFE");
WASQL_EXPORT("mul") int64_t mul(int64_t a, int64_t b) {
    return (int64_t)((uint64_t)a * (uint64_t)b);
}
