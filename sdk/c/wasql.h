/*
 * wasql.h - C guest helper for wasql's columnar batch ABI v1 (docs/abi.md).
 *
 * It hides the batch descriptor behind a per-row C function. Single header,
 * no dependencies beyond wasi-libc's malloc/realloc/free and memcpy/strlen
 * (which import nothing from WASI).
 *
 * Usage (one .c file):
 *
 *     #include "wasql.h"
 *
 *     // text -> text. Append the result to `out`; return NULL on success or
 *     // an error message (a string that outlives the call, e.g. a literal).
 *     static const char *upper(const uint8_t *in, uint32_t len, wasql_buf *out) {
 *         for (uint32_t i = 0; i < len; i++) {
 *             uint8_t c = in[i];
 *             wasql_buf_putc(out, c >= 'a' && c <= 'z' ? c - 32 : c);
 *         }
 *         return NULL;
 *     }
 *     WASQL_TEXT_TO_TEXT(upper, upper)       // exports wasql_batch_upper
 *
 *     static const char *add(int64_t a, int64_t b, int64_t *out) {
 *         *out = a + b;
 *         return NULL;
 *     }
 *     WASQL_BIGINT2_TO_BIGINT(add, add)      // exports wasql_batch_add
 *
 * Build a reactor (exports _initialize, which runs the C constructors). On Debian 12
 * or Ubuntu it needs clang, the wasm linker, the WASI C library and the wasm32
 * compiler runtime:
 *
 *     apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32
 *
 * (without wasi-libc clang finds no C library for wasm: "stdlib.h" or
 * "bits/libc-header-start.h" not found; without lld (wasm-ld) or
 * libclang-rt-14-dev-wasm32 (libclang_rt.builtins-wasm32.a) the link fails).
 * Then, from the repository root:
 *
 *     clang --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -O2 -Wl,--strip-debug -I sdk/c -o funcs.wasm funcs.c
 *
 * (with wasi-sdk instead: its clang and --sysroot=<wasi-sdk>/share/wasi-sysroot),
 * and register it with
 *
 *     CREATE FUNCTION upper(text) RETURNS text LANGUAGE wasm AS <module>, 'upper';
 *     CREATE FUNCTION add(bigint, bigint) RETURNS bigint LANGUAGE wasm AS <module>, 'add';
 *
 * or try it without a server:
 *
 *     wasql eval --module funcs.wasm --export upper --args text --returns text hello
 *
 * Macros (first argument: the SQL-visible export name, second: the C function):
 *
 *   WASQL_TEXT_TO_TEXT(name, fn)
 *       const char *fn(const uint8_t *in, uint32_t len, wasql_buf *out)
 *   WASQL_NULLABLE_TEXT_TO_TEXT(name, fn)                 CALLED ON NULL INPUT
 *       const char *fn(const uint8_t *in, uint32_t len, int in_null,
 *                      wasql_buf *out, int *out_null)
 *   WASQL_NULLABLE_TEXT_TO_FIXED(name, fn, RT, RCODE)     CALLED ON NULL INPUT
 *       const char *fn(const uint8_t *in, uint32_t len, int in_null, RT *out, int *out_null)
 *   WASQL_FIXED1(name, fn, RT, RCODE, AT, ACODE)
 *       const char *fn(AT a, RT *out)
 *   WASQL_FIXED2(name, fn, RT, RCODE, AT, ACODE, BT, BCODE)
 *       const char *fn(AT a, BT b, RT *out)
 *   WASQL_NULLABLE_FIXED2(name, fn, RT, RCODE, AT, ACODE, BT, BCODE)   CALLED ON NULL INPUT
 *       const char *fn(AT a, int a_null, BT b, int b_null, RT *out, int *out_null)
 *   Shorthands: WASQL_BIGINT2_TO_BIGINT(name, fn), WASQL_NULLABLE_TEXT_TO_INTEGER(name, fn).
 *
 * "text" here means any variable-width type: text, bytea or json (for text and
 * json results the host checks that the bytes are valid UTF-8). Fixed-width C
 * types must have the column's width: int16_t smallint, int32_t integer and
 * date, int64_t bigint and timestamp, float real, double double precision,
 * uint8_t boolean (0 or 1). Every per-row function returns NULL for success or
 * an error message that fails the row (status 1); the message must stay valid
 * until the batch export returns (a literal or a static buffer).
 *
 * The macros without NULLABLE are for STRICT functions: if the host ever
 * passes a NULL argument anyway, the result is NULL and fn is not called.
 *
 * A batch whose descriptor doesn't fit the macro (argument count or type
 * codes) returns status 2 (ABI violation) with a message in error_ptr/len.
 *
 * Result bytes go to one growable buffer per translation unit, reused across
 * batches: the ABI only asks guest buffers to live until the batch returns.
 *
 * To use the header in several .c files of one module, #define
 * WASQL_NO_RUNTIME before including it in all but one of them, so that
 * wasql_abi_v1, wasql_alloc and wasql_free are defined once.
 */
#ifndef WASQL_H
#define WASQL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WASQL_EXPORT(name) __attribute__((export_name(name)))

/* Type codes (abi.md §2). */
enum {
    WASQL_SMALLINT = 1,
    WASQL_INTEGER = 2,
    WASQL_BIGINT = 3,
    WASQL_REAL = 4,
    WASQL_DOUBLE = 5,
    WASQL_BOOLEAN = 6,
    WASQL_TEXT = 7,
    WASQL_BYTEA = 8,
    WASQL_JSON = 9,
    WASQL_DATE = 10,
    WASQL_TIMESTAMP = 11,
};

/* Width in bytes of a fixed-width type code, 0 for variable width. */
#define WASQL_WIDTH(code)                                                      \
    ((code) == WASQL_SMALLINT ? 2                                              \
     : (code) == WASQL_INTEGER || (code) == WASQL_REAL || (code) == WASQL_DATE \
         ? 4                                                                   \
     : (code) == WASQL_BIGINT || (code) == WASQL_DOUBLE ||                     \
             (code) == WASQL_TIMESTAMP                                         \
         ? 8                                                                   \
     : (code) == WASQL_BOOLEAN ? 1                                             \
                               : 0)

/* Batch export return values (abi.md §4.3). */
enum { WASQL_OK = 0, WASQL_ROW_ERROR = 1, WASQL_ABI_ERROR = 2 };

/* A column (abi.md §4.2). Pointers are 32-bit on wasm32, so the layout is the ABI's. */
typedef struct wasql_col {
    uint32_t type;     /* type code */
    uint8_t *validity; /* bit i set = row i not NULL; NULL = no NULLs */
    void *values;      /* rows x width bytes, or rows+1 uint32_t offsets */
    uint8_t *data;     /* variable width: the bytes the offsets index */
    uint32_t data_len; /* variable width: bytes in data */
} wasql_col;

/* The batch descriptor (abi.md §4.2). */
typedef struct wasql_batch {
    uint32_t version; /* 1 */
    uint32_t rows;
    uint32_t nargs;
    uint32_t flags;
    wasql_col result;
    uint32_t error_row;    /* set with status 1 */
    const char *error_ptr; /* UTF-8 message, set with status 1 */
    uint32_t error_len;
    wasql_col args[];
} wasql_batch;

_Static_assert(sizeof(void *) == 4, "wasql.h targets wasm32");
_Static_assert(sizeof(wasql_col) == 20, "column layout");
_Static_assert(offsetof(wasql_batch, result) == 16, "batch layout");
_Static_assert(offsetof(wasql_batch, error_row) == 36, "batch layout");
_Static_assert(offsetof(wasql_batch, args) == 48, "batch layout");

/* ---- growable byte buffer ------------------------------------------------ */

/* A growable buffer. On allocation failure it sets `failed` and ignores
 * further writes; the batch wrappers turn that into a row error. */
typedef struct wasql_buf {
    uint8_t *ptr;
    uint32_t len, cap;
    int failed;
} wasql_buf;

/* Makes room for n more bytes and returns where they go (len unchanged),
 * or NULL if memory ran out. */
static inline uint8_t *wasql_buf_reserve(wasql_buf *b, uint32_t n) {
    if (b->failed)
        return NULL;
    if (n > b->cap - b->len) {
        if (n > UINT32_MAX / 2 - b->len) {
            b->failed = 1;
            return NULL;
        }
        uint32_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n)
            cap *= 2;
        uint8_t *p = realloc(b->ptr, cap);
        if (!p) {
            b->failed = 1;
            return NULL;
        }
        b->ptr = p;
        b->cap = cap;
    }
    return b->ptr + b->len;
}

static inline void wasql_buf_append(wasql_buf *b, const void *p, uint32_t n) {
    uint8_t *dst = wasql_buf_reserve(b, n);
    if (dst) {
        memcpy(dst, p, n);
        b->len += n;
    }
}

static inline void wasql_buf_putc(wasql_buf *b, uint8_t c) {
    uint8_t *dst = wasql_buf_reserve(b, 1);
    if (dst) {
        *dst = c;
        b->len++;
    }
}

static inline void wasql_buf_puts(wasql_buf *b, const char *s) {
    wasql_buf_append(b, s, (uint32_t)strlen(s));
}

/* ---- column access ------------------------------------------------------- */

static inline int wasql_is_null(const wasql_col *c, uint32_t row) {
    return c->validity && !(c->validity[row >> 3] & (1u << (row & 7)));
}

static inline void wasql_set_null(wasql_col *c, uint32_t row) {
    c->validity[row >> 3] &= (uint8_t) ~(1u << (row & 7));
}

/* Offsets are read and written with memcpy: abi.md does not promise alignment. */
static inline uint32_t wasql__ld32(const void *base, uint32_t i) {
    uint32_t v;
    memcpy(&v, (const uint8_t *)base + 4 * i, 4);
    return v;
}

static inline void wasql__st32(void *base, uint32_t i, uint32_t v) {
    memcpy((uint8_t *)base + 4 * i, &v, 4);
}

/* Row `row` of a variable-width column: its bytes, length in *len. */
static inline const uint8_t *wasql_var_arg(const wasql_col *c, uint32_t row, uint32_t *len) {
    uint32_t start = wasql__ld32(c->values, row);
    *len = wasql__ld32(c->values, row + 1) - start;
    return c->data + start;
}

static inline int wasql__is_var(uint32_t type) {
    return type == WASQL_TEXT || type == WASQL_BYTEA || type == WASQL_JSON;
}

/* ---- batch plumbing ------------------------------------------------------ */

static wasql_buf wasql__out; /* result bytes, reused across batches */

static inline uint32_t wasql__fail(wasql_batch *b, uint32_t status, uint32_t row, const char *msg) {
    b->error_row = row;
    b->error_ptr = msg;
    b->error_len = (uint32_t)strlen(msg);
    return status;
}

/* Checks version, argument count and type codes (0 = any variable-width type). */
static inline uint32_t wasql__check(wasql_batch *b, uint32_t rtype, uint32_t nargs, uint32_t a0,
                                    uint32_t a1) {
    uint32_t want[2] = {a0, a1};
    if (b->version != 1)
        return wasql__fail(b, WASQL_ABI_ERROR, 0, "wasql.h: unknown batch version");
    if (b->nargs != nargs)
        return wasql__fail(b, WASQL_ABI_ERROR, 0, "wasql.h: wrong number of arguments");
    if (rtype ? b->result.type != rtype : !wasql__is_var(b->result.type))
        return wasql__fail(b, WASQL_ABI_ERROR, 0, "wasql.h: result type does not match the C function");
    for (uint32_t k = 0; k < nargs; k++) {
        uint32_t t = b->args[k].type;
        if (want[k] ? t != want[k] : !wasql__is_var(t))
            return wasql__fail(b, WASQL_ABI_ERROR, 0, "wasql.h: argument type does not match the C function");
    }
    return WASQL_OK;
}

/* Starts a variable-width result: empty buffer, offsets[0] = 0. */
static inline int wasql__var_begin(wasql_batch *b) {
    wasql__out.len = 0;
    wasql__out.failed = 0;
    wasql_buf_reserve(&wasql__out, 0); /* so that data is never a null pointer */
    wasql__st32(b->result.values, 0, 0);
    return !wasql__out.failed;
}

/* Ends row `row` of a variable-width result; `start` is the buffer length before it. */
static inline void wasql__var_row(wasql_batch *b, uint32_t row, uint32_t start, int is_null) {
    if (is_null) {
        wasql__out.len = start;
        wasql_set_null(&b->result, row);
    }
    wasql__st32(b->result.values, row + 1, wasql__out.len);
}

static inline uint32_t wasql__var_end(wasql_batch *b) {
    b->result.data = wasql__out.ptr;
    b->result.data_len = wasql__out.len;
    return WASQL_OK;
}

#define WASQL__OOM "wasql.h: out of memory"

typedef const char *(*wasql_text_fn)(const uint8_t *, uint32_t, wasql_buf *);
typedef const char *(*wasql_ntext_fn)(const uint8_t *, uint32_t, int, wasql_buf *, int *);

static inline __attribute__((always_inline)) uint32_t wasql__text_to_text(wasql_batch *b,
                                                                          wasql_text_fn fn,
                                                                          wasql_ntext_fn nfn) {
    uint32_t st = wasql__check(b, 0, 1, 0, 0);
    if (st)
        return st;
    if (!wasql__var_begin(b))
        return wasql__fail(b, WASQL_ROW_ERROR, 0, WASQL__OOM);
    for (uint32_t i = 0; i < b->rows; i++) {
        uint32_t len, start = wasql__out.len;
        const uint8_t *in = wasql_var_arg(&b->args[0], i, &len);
        int in_null = wasql_is_null(&b->args[0], i), out_null = 0;
        const char *err;
        if (nfn)
            err = nfn(in_null ? NULL : in, in_null ? 0 : len, in_null, &wasql__out, &out_null);
        else if (in_null)
            err = NULL, out_null = 1;
        else
            err = fn(in, len, &wasql__out);
        if (err)
            return wasql__fail(b, WASQL_ROW_ERROR, i, err);
        if (wasql__out.failed)
            return wasql__fail(b, WASQL_ROW_ERROR, i, WASQL__OOM);
        wasql__var_row(b, i, start, out_null);
    }
    return wasql__var_end(b);
}

/* ---- the macros ---------------------------------------------------------- */

#define WASQL__BATCH(name) \
    WASQL_EXPORT("wasql_batch_" #name) uint32_t wasql_batch_##name(wasql_batch *b)

/* Fixed-width load/store at row i (memcpy: no alignment assumed). */
#define WASQL__LD(var, col, i) \
    memcpy(&(var), (const uint8_t *)(col).values + (size_t)(i) * sizeof(var), sizeof(var))
#define WASQL__ST(T, col, i, v) \
    do { T v_ = (v); memcpy((uint8_t *)(col).values + (size_t)(i) * sizeof(T), &v_, sizeof(T)); } while (0)
#define WASQL__WIDTH_OK(T, code) \
    _Static_assert(sizeof(T) == WASQL_WIDTH(code), #T " does not have the width of type code " #code)

#define WASQL_TEXT_TO_TEXT(name, fn) \
    WASQL__BATCH(name) { return wasql__text_to_text(b, fn, NULL); }

#define WASQL_NULLABLE_TEXT_TO_TEXT(name, fn) \
    WASQL__BATCH(name) { return wasql__text_to_text(b, NULL, fn); }

#define WASQL_NULLABLE_TEXT_TO_FIXED(name, fn, RT, RCODE)                                  \
    WASQL__WIDTH_OK(RT, RCODE);                                                             \
    WASQL__BATCH(name) {                                                                    \
        uint32_t st = wasql__check(b, RCODE, 1, 0, 0);                                      \
        if (st)                                                                             \
            return st;                                                                      \
        for (uint32_t i = 0; i < b->rows; i++) {                                            \
            uint32_t len;                                                                   \
            const uint8_t *in = wasql_var_arg(&b->args[0], i, &len);                        \
            int in_null = wasql_is_null(&b->args[0], i), out_null = 0;                      \
            RT r = 0;                                                                       \
            const char *err = fn(in_null ? NULL : in, in_null ? 0 : len, in_null, &r, &out_null); \
            if (err)                                                                        \
                return wasql__fail(b, WASQL_ROW_ERROR, i, err);                             \
            if (out_null)                                                                   \
                wasql_set_null(&b->result, i);                                              \
            else                                                                            \
                WASQL__ST(RT, b->result, i, r);                                             \
        }                                                                                   \
        return WASQL_OK;                                                                    \
    }

#define WASQL_FIXED1(name, fn, RT, RCODE, AT, ACODE)                   \
    WASQL__WIDTH_OK(RT, RCODE);                                         \
    WASQL__WIDTH_OK(AT, ACODE);                                         \
    WASQL__BATCH(name) {                                                \
        uint32_t st = wasql__check(b, RCODE, 1, ACODE, 0);              \
        if (st)                                                         \
            return st;                                                  \
        for (uint32_t i = 0; i < b->rows; i++) {                        \
            if (wasql_is_null(&b->args[0], i)) {                        \
                wasql_set_null(&b->result, i);                          \
                continue;                                               \
            }                                                           \
            AT a;                                                       \
            RT r = 0;                                                   \
            WASQL__LD(a, b->args[0], i);                                \
            const char *err = fn(a, &r);                                \
            if (err)                                                    \
                return wasql__fail(b, WASQL_ROW_ERROR, i, err);         \
            WASQL__ST(RT, b->result, i, r);                             \
        }                                                               \
        return WASQL_OK;                                                \
    }

#define WASQL_FIXED2(name, fn, RT, RCODE, AT, ACODE, BT, BCODE)                        \
    WASQL__WIDTH_OK(RT, RCODE);                                                         \
    WASQL__WIDTH_OK(AT, ACODE);                                                         \
    WASQL__WIDTH_OK(BT, BCODE);                                                         \
    WASQL__BATCH(name) {                                                                \
        uint32_t st = wasql__check(b, RCODE, 2, ACODE, BCODE);                          \
        if (st)                                                                         \
            return st;                                                                  \
        for (uint32_t i = 0; i < b->rows; i++) {                                        \
            if (wasql_is_null(&b->args[0], i) || wasql_is_null(&b->args[1], i)) {       \
                wasql_set_null(&b->result, i);                                          \
                continue;                                                               \
            }                                                                           \
            AT a;                                                                       \
            BT c;                                                                       \
            RT r = 0;                                                                   \
            WASQL__LD(a, b->args[0], i);                                                \
            WASQL__LD(c, b->args[1], i);                                                \
            const char *err = fn(a, c, &r);                                             \
            if (err)                                                                    \
                return wasql__fail(b, WASQL_ROW_ERROR, i, err);                         \
            WASQL__ST(RT, b->result, i, r);                                             \
        }                                                                               \
        return WASQL_OK;                                                                \
    }

#define WASQL_NULLABLE_FIXED2(name, fn, RT, RCODE, AT, ACODE, BT, BCODE)              \
    WASQL__WIDTH_OK(RT, RCODE);                                                         \
    WASQL__WIDTH_OK(AT, ACODE);                                                         \
    WASQL__WIDTH_OK(BT, BCODE);                                                         \
    WASQL__BATCH(name) {                                                                \
        uint32_t st = wasql__check(b, RCODE, 2, ACODE, BCODE);                          \
        if (st)                                                                         \
            return st;                                                                  \
        for (uint32_t i = 0; i < b->rows; i++) {                                        \
            int an = wasql_is_null(&b->args[0], i), bn = wasql_is_null(&b->args[1], i); \
            AT a = 0;                                                                   \
            BT c = 0;                                                                   \
            if (!an)                                                                    \
                WASQL__LD(a, b->args[0], i);                                            \
            if (!bn)                                                                    \
                WASQL__LD(c, b->args[1], i);                                            \
            RT r = 0;                                                                   \
            int out_null = 0;                                                           \
            const char *err = fn(a, an, c, bn, &r, &out_null);                          \
            if (err)                                                                    \
                return wasql__fail(b, WASQL_ROW_ERROR, i, err);                         \
            if (out_null)                                                               \
                wasql_set_null(&b->result, i);                                          \
            else                                                                        \
                WASQL__ST(RT, b->result, i, r);                                         \
        }                                                                               \
        return WASQL_OK;                                                                \
    }

#define WASQL_BIGINT2_TO_BIGINT(name, fn) \
    WASQL_FIXED2(name, fn, int64_t, WASQL_BIGINT, int64_t, WASQL_BIGINT, int64_t, WASQL_BIGINT)

#define WASQL_NULLABLE_TEXT_TO_INTEGER(name, fn) \
    WASQL_NULLABLE_TEXT_TO_FIXED(name, fn, int32_t, WASQL_INTEGER)

/* ---- module-level exports (abi.md §4.1) ---------------------------------- */

#ifndef WASQL_NO_RUNTIME

/* ABI version marker; never called. */
WASQL_EXPORT("wasql_abi_v1") void wasql_abi_v1(void) {}

/* wasi-libc's malloc (dlmalloc) returns 16-byte aligned blocks, more than the 8 the ABI asks. */
WASQL_EXPORT("wasql_alloc") void *wasql_alloc(uint32_t size) { return malloc(size ? size : 1); }

WASQL_EXPORT("wasql_free") void wasql_free(void *ptr, uint32_t size) {
    (void)size;
    free(ptr);
}

#endif /* WASQL_NO_RUNTIME */

#endif /* WASQL_H */
