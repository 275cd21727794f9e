/* Test guest for wasql, built with sdk/c/wasql.h into ../c_funcs.wasm (see ../build.sh).
 * The Go guest in ../go implements the same batch functions with the same semantics. */
#include "wasql.h"

/* slugify(text) -> text: A-Z are lowercased, a-z and 0-9 kept, every run of any
 * other bytes (including all bytes >= 0x80) becomes one '-', and no '-' is left
 * at either end: "  Hello, World! " -> "hello-world". */
static const char *slugify(const uint8_t *in, uint32_t len, wasql_buf *out) {
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
    return NULL;
}
WASQL_TEXT_TO_TEXT(slugify, slugify)

/* add(bigint, bigint) -> bigint, wrapping on overflow. */
static const char *add(int64_t a, int64_t b, int64_t *out) {
    *out = (int64_t)((uint64_t)a + (uint64_t)b);
    return NULL;
}
WASQL_BIGINT2_TO_BIGINT(add, add)

/* nvl_len(text) -> integer, CALLED ON NULL INPUT: NULL -> -1, else the byte length. */
static const char *nvl_len(const uint8_t *in, uint32_t len, int in_null, int32_t *out, int *out_null) {
    (void)in;
    (void)out_null;
    *out = in_null ? -1 : (int32_t)len;
    return NULL;
}
WASQL_NULLABLE_TEXT_TO_INTEGER(nvl_len, nvl_len)

/* must_be_ascii(text) -> text: the input unchanged; a row with a byte >= 0x80 fails. */
static const char *must_be_ascii(const uint8_t *in, uint32_t len, wasql_buf *out) {
    for (uint32_t i = 0; i < len; i++)
        if (in[i] >= 0x80)
            return "non-ASCII input";
    wasql_buf_append(out, in, len);
    return NULL;
}
WASQL_TEXT_TO_TEXT(must_be_ascii, must_be_ascii)

/* mul(bigint, bigint) -> bigint through the numeric scalar ABI: (i64, i64) -> i64, no batch wrapper. */
WASQL_EXPORT("mul") int64_t mul(int64_t a, int64_t b) {
    return (int64_t)((uint64_t)a * (uint64_t)b);
}
