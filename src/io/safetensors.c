/* safetensors: what reader and writer share, and the writer. The header is written the way
 * safetensors' own (Rust, serde_json) writer writes it — compact JSON, __metadata__ first,
 * tensors by decreasing alignment then name, spaces to a multiple of 8 — so a file from here
 * is byte for byte the file Python's save_file would write for the same tensors (up to the
 * order of the metadata keys, which Python does not fix either). */
#include "io/safetensors.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "io/safetensors_internal.h"
#include "util/files.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; this host is not (add byte swapping before using it here)"
#endif

static const struct {
    const char *name;
    size_t size;
} dtypes[CLSEG_ST_DTYPE_COUNT] = {
    [CLSEG_ST_BOOL] = {"BOOL", 1},       [CLSEG_ST_U8] = {"U8", 1},     [CLSEG_ST_I8] = {"I8", 1},
    [CLSEG_ST_F8_E5M2] = {"F8_E5M2", 1}, [CLSEG_ST_F8_E4M3] = {"F8_E4M3", 1},
    [CLSEG_ST_I16] = {"I16", 2},         [CLSEG_ST_U16] = {"U16", 2},   [CLSEG_ST_F16] = {"F16", 2},
    [CLSEG_ST_BF16] = {"BF16", 2},       [CLSEG_ST_I32] = {"I32", 4},   [CLSEG_ST_U32] = {"U32", 4},
    [CLSEG_ST_F32] = {"F32", 4},         [CLSEG_ST_F64] = {"F64", 8},   [CLSEG_ST_I64] = {"I64", 8},
    [CLSEG_ST_U64] = {"U64", 8},
};

const char *clseg_st_dtype_name(clseg_st_dtype dtype)
{
    return (unsigned)dtype < CLSEG_ST_DTYPE_COUNT ? dtypes[dtype].name : NULL;
}

size_t clseg_st_dtype_size(clseg_st_dtype dtype)
{
    return (unsigned)dtype < CLSEG_ST_DTYPE_COUNT ? dtypes[dtype].size : 0;
}

int clseg_st_dtype_parse(const char *name, clseg_st_dtype *dtype)
{
    for (int i = 0; i < CLSEG_ST_DTYPE_COUNT; i++) {
        if (strcmp(dtypes[i].name, name) == 0) {
            *dtype = (clseg_st_dtype)i;
            return 1;
        }
    }
    return 0;
}

uint64_t clseg_st_numel(const clseg_st_tensor *t)
{
    uint64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= (uint64_t)t->shape[i];
    return n;
}

int clseg_st_checked_nbytes(const clseg_st_tensor *t, uint64_t *nbytes)
{
    uint64_t n = clseg_st_dtype_size(t->dtype);
    for (int i = 0; i < t->ndim; i++) {
        uint64_t d = (uint64_t)t->shape[i];
        if (t->shape[i] < 0 || (d != 0 && n > UINT64_MAX / d))
            return 0;
        n *= d;
    }
    *nbytes = n;
    return 1;
}

size_t clseg_utf8_valid_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return i;
        }
        if (n - i < len)
            return i;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        /* overlong forms, UTF-16 surrogates and values past Unicode are not UTF-8 */
        if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return i;
        i += len;
    }
    return n;
}

/* --- a growing byte buffer ---------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const void *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

/* A JSON string as serde_json writes it: quote, backslash and control characters escaped
 * (the short forms where JSON has them, \u00xx otherwise), everything else as UTF-8. */
static void sb_json_string(sbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    sb_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (*p) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            if (*p >= 0x20) {
                sb_put(b, p, 1);
                continue;
            }
            esc[1] = 'u', esc[2] = '0', esc[3] = '0', esc[4] = hex[*p >> 4], esc[5] = hex[*p & 15];
            n = 6;
        }
        sb_put(b, esc, n);
    }
    sb_put(b, "\"", 1);
}

static void sb_u64(sbuf *b, uint64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRIu64, v);
    sb_put(b, num, (size_t)n);
}

/* --- the writer ----------------------------------------------------------------------------- */

typedef struct sort_key {
    const clseg_st_tensor *t;
    size_t index;
} sort_key;

static int by_alignment_then_name(const void *a, const void *b)
{
    const clseg_st_tensor *x = ((const sort_key *)a)->t, *y = ((const sort_key *)b)->t;
    if (x->dtype != y->dtype)
        return x->dtype > y->dtype ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int valid_text(const char *s) { return clseg_utf8_valid_prefix((const unsigned char *)s, strlen(s)) == strlen(s); }

static clseg_status check_inputs(const clseg_st_tensor *tensors, size_t ntensors, const clseg_st_meta *meta,
                                 size_t nmeta, char *err, size_t err_size)
{
    for (size_t i = 0; i < ntensors; i++) {
        const clseg_st_tensor *t = &tensors[i];
        uint64_t nbytes;
        if (t->name == NULL || t->name[0] == '\0' || !valid_text(t->name) || strcmp(t->name, "__metadata__") == 0) {
            clseg_errbuf_set(err, err_size, "safetensors: tensor %zu's name is missing, empty, reserved or not UTF-8",
                             i);
            return CLSEG_STATUS_INVALID_ARGUMENT;
        }
        if (clseg_st_dtype_name(t->dtype) == NULL || t->ndim < 0 || t->ndim > CLSEG_ST_MAX_DIMS ||
            !clseg_st_checked_nbytes(t, &nbytes) || (nbytes > 0 && t->data == NULL)) {
            clseg_errbuf_set(err, err_size, "safetensors: tensor '%s' has a bad dtype, shape or no data", t->name);
            return CLSEG_STATUS_INVALID_ARGUMENT;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(tensors[j].name, t->name) == 0) {
                clseg_errbuf_set(err, err_size, "safetensors: tensor name '%s' is given twice", t->name);
                return CLSEG_STATUS_INVALID_ARGUMENT;
            }
        }
    }
    for (size_t i = 0; i < nmeta; i++) {
        if (meta[i].key == NULL || meta[i].value == NULL || !valid_text(meta[i].key) || !valid_text(meta[i].value)) {
            clseg_errbuf_set(err, err_size, "safetensors: metadata pair %zu is NULL or not UTF-8", i);
            return CLSEG_STATUS_INVALID_ARGUMENT;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(meta[j].key, meta[i].key) == 0) {
                clseg_errbuf_set(err, err_size, "safetensors: metadata key '%s' is given twice", meta[i].key);
                return CLSEG_STATUS_INVALID_ARGUMENT;
            }
        }
    }
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_safetensors_header(const clseg_st_tensor *tensors, size_t ntensors, const clseg_st_meta *meta,
                                      size_t nmeta, unsigned char **header, size_t *header_size, size_t **order,
                                      char *err, size_t err_size)
{
    *header = NULL;
    *header_size = 0;
    if (order != NULL)
        *order = NULL;
    if ((tensors == NULL && ntensors > 0) || (meta == NULL && nmeta > 0)) {
        clseg_errbuf_set(err, err_size, "safetensors: tensors or metadata are NULL");
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    clseg_status st = check_inputs(tensors, ntensors, meta, nmeta, err, err_size);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    size_t *idx = malloc((ntensors ? ntensors : 1) * sizeof *idx);
    sort_key *keys = malloc((ntensors ? ntensors : 1) * sizeof *keys);
    if (idx == NULL || keys == NULL) {
        free(idx);
        free(keys);
        clseg_errbuf_set(err, err_size, "safetensors: out of host memory");
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    for (size_t i = 0; i < ntensors; i++)
        keys[i] = (sort_key){&tensors[i], i};
    qsort(keys, ntensors, sizeof *keys, by_alignment_then_name);
    for (size_t i = 0; i < ntensors; i++)
        idx[i] = keys[i].index;
    free(keys);

    sbuf b = {0};
    sb_put(&b, "\0\0\0\0\0\0\0\0", 8); /* the length, filled in below */
    sb_str(&b, "{");
    if (nmeta > 0) {
        sb_str(&b, "\"__metadata__\":{");
        for (size_t i = 0; i < nmeta; i++) {
            if (i > 0)
                sb_str(&b, ",");
            sb_json_string(&b, meta[i].key);
            sb_str(&b, ":");
            sb_json_string(&b, meta[i].value);
        }
        sb_str(&b, "}");
    }
    uint64_t offset = 0;
    for (size_t k = 0; k < ntensors; k++) {
        const clseg_st_tensor *t = &tensors[idx[k]];
        uint64_t nbytes = 0;
        clseg_st_checked_nbytes(t, &nbytes);
        if (nmeta > 0 || k > 0)
            sb_str(&b, ",");
        sb_json_string(&b, t->name);
        sb_str(&b, ":{\"dtype\":\"");
        sb_str(&b, clseg_st_dtype_name(t->dtype));
        sb_str(&b, "\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) {
            if (d > 0)
                sb_str(&b, ",");
            sb_u64(&b, (uint64_t)t->shape[d]);
        }
        sb_str(&b, "],\"data_offsets\":[");
        sb_u64(&b, offset);
        sb_str(&b, ",");
        sb_u64(&b, offset + nbytes);
        sb_str(&b, "]}");
        offset += nbytes;
    }
    sb_str(&b, "}");
    while ((b.len - 8) % 8 != 0)
        sb_str(&b, " ");
    if (b.oom) {
        free(b.p);
        free(idx);
        clseg_errbuf_set(err, err_size, "safetensors: out of host memory");
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    uint64_t n = b.len - 8;
    for (int i = 0; i < 8; i++)
        b.p[i] = (char)(unsigned char)(n >> (8 * i));
    *header = (unsigned char *)b.p;
    *header_size = b.len;
    if (order != NULL)
        *order = idx;
    else
        free(idx);
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_safetensors_write(const char *path, const clseg_st_tensor *tensors, size_t ntensors,
                                     const clseg_st_meta *meta, size_t nmeta, char *err, size_t err_size)
{
    if (path == NULL) {
        clseg_errbuf_set(err, err_size, "safetensors: path is NULL");
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    unsigned char *header;
    size_t header_size, *order;
    clseg_status st =
        clseg_safetensors_header(tensors, ntensors, meta, nmeta, &header, &header_size, &order, err, err_size);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    /* the header, then each tensor's bytes straight from the caller's arrays: no copy */
    const void **parts = malloc((ntensors + 1) * sizeof *parts);
    size_t *sizes = malloc((ntensors + 1) * sizeof *sizes);
    if (parts == NULL || sizes == NULL) {
        clseg_errbuf_set(err, err_size, "%s: out of host memory", path);
        st = CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    } else {
        parts[0] = header;
        sizes[0] = header_size;
        for (size_t k = 0; k < ntensors; k++) {
            uint64_t nbytes = 0;
            clseg_st_checked_nbytes(&tensors[order[k]], &nbytes);
            parts[k + 1] = nbytes > 0 ? tensors[order[k]].data : header;
            sizes[k + 1] = (size_t)nbytes;
        }
        st = clseg_write_file_atomic(path, (const void *const *)parts, sizes, ntensors + 1, err, err_size);
    }
    free(parts);
    free(sizes);
    free(order);
    free(header);
    return st;
}
