/*
 * wasql.h - write wasql SQL functions in C (columnar batch ABI v1, docs/abi.md).
 *
 * One header, no dependencies beyond wasi-libc. A function is one declaration:
 * its name, its SQL arguments, its SQL result and its options. From it the
 * header generates the batch export wasql_batch_NAME (one call per batch of
 * rows) and the line of the module's wasql_signatures custom section, so the
 * module carries its SQL signature and registers without one. The body runs
 * once per row and sees the row as `row`:
 *
 *     #include "wasql.h"
 *
 *     WASQL_FUNCTION(upper, "s text", "text", "IMMUTABLE PARALLEL SAFE") {
 *         uint32_t len;
 *         const uint8_t *s = wasql_arg_bytes(row, 0, &len);
 *         wasql_buf *out = wasql_result(row);
 *         for (uint32_t i = 0; i < len; i++)
 *             wasql_buf_putc(out, s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
 *     }
 *
 *     WASQL_FUNCTION(add, "a bigint, b bigint", "bigint", "IMMUTABLE") {
 *         wasql_return_bigint(row, wasql_arg_bigint(row, 0) + wasql_arg_bigint(row, 1));
 *     }
 *
 *     WASQL_FUNCTION_NULLABLE(nvl, "a integer, b integer", "integer", "") {
 *         if (wasql_arg_null(row, 0) && wasql_arg_null(row, 1))
 *             wasql_return_null(row);
 *         else
 *             wasql_return_integer(row, wasql_arg_int(row, wasql_arg_null(row, 0) ? 1 : 0));
 *     }
 *
 * Build a reactor. On Debian 12 or Ubuntu that needs clang, the wasm linker,
 * the WASI C library and the wasm32 compiler runtime:
 *
 *     apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32
 *
 * (without wasi-libc clang finds no C library: "stdlib.h" not found; without
 * lld or libclang-rt-14-dev-wasm32 the link fails). Then, from the repository root:
 *
 *     clang --target=wasm32-wasi --sysroot=/usr -mexec-model=reactor -O2 -Wl,--strip-debug -I sdk/c -o funcs.wasm funcs.c
 *
 * or include sdk/c/wasql.mk from a Makefile (examples/haversine). Register every
 * function the module declares with `wasql function create funcs.wasm`, or one
 * of them from SQL without repeating its signature:
 *
 *     CREATE FUNCTION upper LANGUAGE wasm AS <module>;
 *
 * Try it without a server: wasql eval --module funcs.wasm --function upper hello
 *
 * Declarations:
 *
 *   WASQL_FUNCTION(name, "args", "result", "options") { body }
 *       STRICT: the body never sees a NULL argument; such rows return NULL.
 *   WASQL_FUNCTION_NULLABLE(name, "args", "result", "options") { body }
 *       CALLED ON NULL INPUT: the body checks wasql_arg_null(row, k).
 *   WASQL_SIGNATURE("line")
 *       only the section line, for a numeric scalar export written by hand.
 *
 * "args" is the SQL argument list ("lat double precision, lon double precision",
 * names optional), "result" one SQL type, "options" the rest of the line:
 * IMMUTABLE | STABLE | VOLATILE, PARALLEL SAFE | RESTRICTED | UNSAFE (docs/abi.md
 * §4.5). `name` is the SQL name and the export's.
 *
 * In a body (k is the 0-based argument number):
 *
 *   wasql_arg_null(row, k)                 1 if argument k is NULL
 *   wasql_arg_smallint, _int, _bigint,     the value of a smallint, integer,
 *   _real, _double, _bool, _date,          bigint, real, double precision,
 *   _timestamp (row, k)                    boolean, date (days since 1970-01-01)
 *                                          or timestamp (microseconds since
 *                                          1970-01-01 00:00 UTC) argument
 *   wasql_arg_bytes(row, k, &len)          the bytes of a text, bytea or json
 *                                          argument (not NUL-terminated)
 *   wasql_arg_cstr(row, k)                 the same as a NUL-terminated copy
 *                                          (valid until the body returns)
 *   wasql_return_smallint, _integer,       set the result
 *   _bigint, _real, _double, _bool,
 *   _date, _timestamp (row, v)
 *   wasql_return_bytes(row, p, n)          a text, bytea or json result
 *   wasql_return_str(row, s)               the same from a NUL-terminated string
 *   wasql_result(row)                      a text, bytea or json result built in
 *                                          place: append to the wasql_buf
 *   wasql_return_null(row)                 the result is NULL
 *   wasql_error(row, msg)                  the row fails (SQLSTATE 38000) with msg
 *   wasql_errorf(row, fmt, ...)            the same, printf-formatted
 *   wasql_log(fmt, ...)                    one line to stderr: a NOTICE on the
 *                                          client's connection
 *
 * A body that sets no result and raises no error fails the row ("returned no
 * value"). Reading an argument of another type, or one past the last, refuses
 * the batch (status 2) with a message naming the argument and both types: the
 * C code and the registered signature disagree.
 *
 * #define WASQL_NO_SIGNATURES before the include leaves the section out: for a
 * module meant to be registered under several signatures (the declarations'
 * types are then only checked at run time, against the descriptor).
 *
 * To use the header in several .c files of one module, #define
 * WASQL_NO_RUNTIME before including it in all but one of them, so that
 * wasql_abi_v1, wasql_alloc and wasql_free are defined once.
 */
#ifndef WASQL_H
#define WASQL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* ---- rows ---------------------------------------------------------------- */

/* The row a function body is called for. */
typedef struct wasql_row {
    wasql_batch *b;
    uint32_t i;        /* the row, 0-based within the batch */
    uint32_t start;    /* variable-width result: buffer length before this row */
    uint32_t status;   /* WASQL_OK, or the failure the body raised */
    int done;          /* the body set a result */
    const char *error; /* the message of a failure */
} wasql_row;

static wasql_buf wasql__out;       /* variable-width result bytes, reused across batches */
static char wasql__message[1024];  /* the message of a failed row */

static inline const char *wasql__type_name(uint32_t code) {
    static const char *const names[] = {"?", "smallint", "integer", "bigint", "real", "double precision",
                                        "boolean", "text", "bytea", "json", "date", "timestamp"};
    return code < sizeof names / sizeof names[0] ? names[code] : "?";
}

static inline int wasql__is_var(uint32_t type) {
    return type == WASQL_TEXT || type == WASQL_BYTEA || type == WASQL_JSON;
}

static inline int wasql__bit(const uint8_t *validity, uint32_t i) {
    return !validity || (validity[i >> 3] >> (i & 7)) & 1;
}

/* Offsets are read and written with memcpy: the ABI does not promise their alignment. */
static inline uint32_t wasql__ld32(const void *base, uint32_t i) {
    uint32_t v;
    memcpy(&v, (const uint8_t *)base + 4 * i, 4);
    return v;
}

static inline void wasql__st32(void *base, uint32_t i, uint32_t v) {
    memcpy((uint8_t *)base + 4 * i, &v, 4);
}

/* Builds wasql__message from pieces (NULL ends the list): no printf for the SDK's own messages. */
static inline const char *wasql__say(const char *a, const char *b, const char *c, const char *d,
                                     const char *e, const char *f) {
    const char *parts[] = {a, b, c, d, e, f};
    size_t n = 0;
    for (int i = 0; i < 6 && parts[i]; i++)
        for (const char *p = parts[i]; *p && n < sizeof wasql__message - 1; p++)
            wasql__message[n++] = *p;
    wasql__message[n] = 0;
    return wasql__message;
}

static inline const char *wasql__utoa(uint32_t v, char buf[12]) {
    char *p = buf + 11;
    *p = 0;
    do
        *--p = (char)('0' + v % 10);
    while (v /= 10);
    return p;
}

static inline void wasql__refuse(wasql_row *r, const char *what, uint32_t k) {
    char n[12], m[12];
    if (r->status)
        return;
    r->status = WASQL_ABI_ERROR;
    if (k >= r->b->nargs)
        r->error = wasql__say("wasql.h: the C code reads argument ", wasql__utoa(k + 1, n), ", the function has ",
                              wasql__utoa(r->b->nargs, m), NULL, NULL);
    else
        r->error = wasql__say("wasql.h: argument ", wasql__utoa(k + 1, n), " is ",
                              wasql__type_name(r->b->args[k].type), ", the C code reads ", what);
}

/* The column of argument k if it has type code `code` (0: any variable-width type), else NULL. */
static inline const wasql_col *wasql__arg(wasql_row *r, uint32_t k, uint32_t code, const char *what) {
    if (k < r->b->nargs) {
        const wasql_col *c = &r->b->args[k];
        if (code ? c->type == code : wasql__is_var(c->type))
            return c;
    }
    wasql__refuse(r, what, k);
    return NULL;
}

static inline int wasql_arg_null(wasql_row *r, uint32_t k) {
    if (k >= r->b->nargs) {
        wasql__refuse(r, "any type", k);
        return 1;
    }
    return !wasql__bit(r->b->args[k].validity, r->i);
}

#define WASQL__ARG(fn, T, code, what)                                            \
    static inline T fn(wasql_row *r, uint32_t k) {                               \
        const wasql_col *c = wasql__arg(r, k, code, what);                       \
        T v = 0;                                                                 \
        if (c && wasql__bit(c->validity, r->i))                                  \
            memcpy(&v, (const uint8_t *)c->values + (size_t)r->i * sizeof v, sizeof v); \
        return v;                                                                \
    }
WASQL__ARG(wasql_arg_smallint, int16_t, WASQL_SMALLINT, "smallint")
WASQL__ARG(wasql_arg_int, int32_t, WASQL_INTEGER, "integer")
WASQL__ARG(wasql_arg_bigint, int64_t, WASQL_BIGINT, "bigint")
WASQL__ARG(wasql_arg_real, float, WASQL_REAL, "real")
WASQL__ARG(wasql_arg_double, double, WASQL_DOUBLE, "double precision")
WASQL__ARG(wasql_arg_bool, uint8_t, WASQL_BOOLEAN, "boolean")
WASQL__ARG(wasql_arg_date, int32_t, WASQL_DATE, "date")
WASQL__ARG(wasql_arg_timestamp, int64_t, WASQL_TIMESTAMP, "timestamp")

static inline const uint8_t *wasql_arg_bytes(wasql_row *r, uint32_t k, uint32_t *len) {
    const wasql_col *c = wasql__arg(r, k, 0, "text, bytea or json");
    *len = 0;
    if (!c || !wasql__bit(c->validity, r->i))
        return (const uint8_t *)"";
    uint32_t start = wasql__ld32(c->values, r->i);
    *len = wasql__ld32(c->values, r->i + 1) - start;
    return c->data + start;
}

/* wasql_arg_cstr's copies: a list freed when the next row starts. */
typedef struct wasql__cstring {
    struct wasql__cstring *next;
    char s[];
} wasql__cstring;
static wasql__cstring *wasql__cstrings;
static int wasql__cstrings_failed;

static inline void wasql__free_cstrings(void) {
    while (wasql__cstrings) {
        wasql__cstring *next = wasql__cstrings->next;
        free(wasql__cstrings);
        wasql__cstrings = next;
    }
}

static inline const char *wasql_arg_cstr(wasql_row *r, uint32_t k) {
    uint32_t len;
    const uint8_t *p = wasql_arg_bytes(r, k, &len);
    wasql__cstring *c = malloc(sizeof *c + (size_t)len + 1);
    if (!c) {
        wasql__cstrings_failed = 1;
        return "";
    }
    memcpy(c->s, p, len);
    c->s[len] = 0;
    c->next = wasql__cstrings;
    wasql__cstrings = c;
    return c->s;
}

/* The result column if it has type code `code` (0: any variable-width type), marking the row done. */
static inline wasql_col *wasql__ret(wasql_row *r, uint32_t code, const char *what) {
    wasql_col *c = &r->b->result;
    if (!(code ? c->type == code : wasql__is_var(c->type))) {
        if (!r->status) {
            r->status = WASQL_ABI_ERROR;
            r->error = wasql__say("wasql.h: the result is ", wasql__type_name(c->type), ", the C code returns ",
                                  what, NULL, NULL);
        }
        return NULL;
    }
    r->done = 1;
    return c;
}

#define WASQL__RET(fn, T, code, what)                                           \
    static inline void fn(wasql_row *r, T v) {                                  \
        wasql_col *c = wasql__ret(r, code, what);                               \
        if (c)                                                                  \
            memcpy((uint8_t *)c->values + (size_t)r->i * sizeof v, &v, sizeof v); \
    }
WASQL__RET(wasql_return_smallint, int16_t, WASQL_SMALLINT, "smallint")
WASQL__RET(wasql_return_integer, int32_t, WASQL_INTEGER, "integer")
WASQL__RET(wasql_return_bigint, int64_t, WASQL_BIGINT, "bigint")
WASQL__RET(wasql_return_real, float, WASQL_REAL, "real")
WASQL__RET(wasql_return_double, double, WASQL_DOUBLE, "double precision")
WASQL__RET(wasql_return_date, int32_t, WASQL_DATE, "date")
WASQL__RET(wasql_return_timestamp, int64_t, WASQL_TIMESTAMP, "timestamp")

static inline void wasql_return_bool(wasql_row *r, int v) {
    wasql_col *c = wasql__ret(r, WASQL_BOOLEAN, "boolean");
    if (c)
        ((uint8_t *)c->values)[r->i] = v != 0;
}

/* The buffer a variable-width result is appended to (NULL-safe: on a type mismatch
 * it returns a scratch buffer whose bytes are dropped). */
static inline wasql_buf *wasql_result(wasql_row *r) {
    static wasql_buf scratch;
    if (!wasql__ret(r, 0, "text, bytea or json")) {
        scratch.len = 0;
        return &scratch;
    }
    return &wasql__out;
}

static inline void wasql_return_bytes(wasql_row *r, const void *p, uint32_t n) {
    wasql_buf_append(wasql_result(r), p, n);
}

static inline void wasql_return_str(wasql_row *r, const char *s) {
    wasql_return_bytes(r, s, (uint32_t)strlen(s));
}

static inline void wasql_return_null(wasql_row *r) {
    wasql_col *c = &r->b->result;
    c->validity[r->i >> 3] &= (uint8_t) ~(1u << (r->i & 7));
    if (wasql__is_var(c->type))
        wasql__out.len = r->start;
    r->done = 1;
}

static inline void wasql__row_error(wasql_row *r, const char *msg) {
    if (!r->status) {
        r->status = WASQL_ROW_ERROR;
        r->error = msg;
    }
}

/* The row fails with msg (copied). */
static inline void wasql_error(wasql_row *r, const char *msg) {
    wasql__row_error(r, wasql__say(msg, NULL, NULL, NULL, NULL, NULL));
}

/* The row fails with a printf-formatted message (links wasi-libc's printf). */
__attribute__((format(printf, 2, 3))) static inline void wasql_errorf(wasql_row *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(wasql__message, sizeof wasql__message, fmt, ap);
    va_end(ap);
    wasql__row_error(r, wasql__message);
}

__attribute__((format(printf, 1, 2))) static inline void wasql_log(const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    fwrite(line, 1, (size_t)n, stderr);
}

/* ---- the batch loop ------------------------------------------------------ */

static inline uint32_t wasql__fail(wasql_batch *b, uint32_t status, uint32_t row, const char *msg) {
    b->error_row = row;
    b->error_ptr = msg;
    b->error_len = (uint32_t)strlen(msg);
    return status;
}

#define WASQL__OOM "wasql.h: out of memory"

static inline __attribute__((always_inline)) uint32_t wasql__run(wasql_batch *b, int strict, const char *name,
                                                                 void (*fn)(wasql_row *)) {
    if (b->version != 1)
        return wasql__fail(b, WASQL_ABI_ERROR, 0, "wasql.h: unknown batch version");
    int var = wasql__is_var(b->result.type);
    wasql__cstrings_failed = 0;
    if (var) {
        wasql__out.len = 0;
        wasql__out.failed = 0;
        if (!wasql_buf_reserve(&wasql__out, 1)) /* so that data is never a null pointer */
            return wasql__fail(b, WASQL_ROW_ERROR, 0, WASQL__OOM);
        wasql__st32(b->result.values, 0, 0);
    }
    wasql_row r = {b, 0, 0, WASQL_OK, 0, NULL};
    for (uint32_t i = 0; i < b->rows; i++) {
        r.i = i;
        r.start = wasql__out.len;
        r.done = 0;
        wasql__free_cstrings();
        int skip = 0;
        if (strict)
            for (uint32_t k = 0; k < b->nargs; k++)
                skip |= !wasql__bit(b->args[k].validity, i);
        if (skip)
            wasql_return_null(&r);
        else
            fn(&r);
        if (r.status)
            return wasql__fail(b, r.status, i, r.error);
        if (var && wasql__out.failed)
            return wasql__fail(b, WASQL_ROW_ERROR, i, WASQL__OOM);
        if (wasql__cstrings_failed)
            return wasql__fail(b, WASQL_ROW_ERROR, i, WASQL__OOM);
        if (!r.done) {
            return wasql__fail(b, WASQL_ROW_ERROR, i, wasql__say(name, " returned no value", NULL, NULL, NULL, NULL));
        }
        if (var)
            wasql__st32(b->result.values, i + 1, wasql__out.len);
    }
    wasql__free_cstrings();
    if (var) {
        b->result.data = wasql__out.ptr;
        b->result.data_len = wasql__out.len;
    }
    return WASQL_OK;
}

/* ---- declarations -------------------------------------------------------- */

/* A line of the module's wasql_signatures custom section (docs/abi.md §4.5), at file scope.
 * clang 14 has no attribute for custom sections, but its assembler puts a section named
 * .custom_section.NAME into custom section NAME, and the linker concatenates the lines of
 * every declaration. The line must not contain a double quote or a backslash. */
#ifdef WASQL_NO_SIGNATURES
#define WASQL_SIGNATURE(line) _Static_assert(1, "no signature section")
#else
#define WASQL_SIGNATURE(line)                                                          \
    __asm__(".section .custom_section.wasql_signatures,\"\",@\n.ascii \"" line "\\n\"\n" \
            ".text\n")
#endif

#define WASQL__DECLARE(name, args, result, nulls, options, strict)                           \
    WASQL_SIGNATURE(#name "(" args ") RETURNS " result " " nulls " " options);              \
    static void wasql__body_##name(wasql_row *row);                                          \
    WASQL_EXPORT("wasql_batch_" #name) uint32_t wasql_batch_##name(wasql_batch *b) {         \
        return wasql__run(b, strict, #name, wasql__body_##name);                             \
    }                                                                                        \
    static void wasql__body_##name(__attribute__((unused)) wasql_row *row)

#define WASQL_FUNCTION(name, args, result, options) \
    WASQL__DECLARE(name, args, result, "STRICT", options, 1)
#define WASQL_FUNCTION_NULLABLE(name, args, result, options) \
    WASQL__DECLARE(name, args, result, "CALLED ON NULL INPUT", options, 0)

/* ---- runtime exports ----------------------------------------------------- */

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
