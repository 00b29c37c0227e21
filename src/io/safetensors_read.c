/* safetensors: the reader. A small strict JSON parser for exactly the header's structure (an
 * object of tensor entries and one optional __metadata__ object of strings), then the checks
 * safetensors itself makes: known dtypes, shape x dtype size == data_offsets' span, offsets
 * that tile the data buffer from 0 to its end without gaps or overlaps, no duplicated names.
 * Any file, however malformed, gives a status and a message, never a crash: every read is
 * bounds-checked and every size computation overflow-checked. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/internal.h"
#include "io/safetensors.h"
#include "io/safetensors_internal.h"

struct clseg_st_file {
    unsigned char *bytes; /* the file (or only its length and header, when header_only) */
    const unsigned char *data;
    uint64_t data_size;
    clseg_st_tensor *tensors; /* by data offset */
    size_t ntensors;
    size_t *by_name; /* tensor indices sorted by name, for lookup */
    clseg_st_meta *meta;
    size_t nmeta;
    uint64_t *begin; /* data_offsets, parallel to tensors */
};

typedef struct parser {
    const unsigned char *s; /* the JSON header */
    size_t n, pos;
    const char *label;
    char *err;
    size_t err_size;
    clseg_status status;
    clseg_st_file *file;
    size_t tensor_cap, meta_cap;
    int seen_metadata;
} parser;

static int fail(parser *p, const char *fmt, ...) CLSEG_PRINTF(2, 3);

/* Records the first failure as "LABEL: message" and returns 0, so parsers can `return fail()`. */
static int fail(parser *p, const char *fmt, ...)
{
    if (p->status != CLSEG_STATUS_SUCCESS)
        return 0;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    clseg_errbuf_set(p->err, p->err_size, "%s: %s", p->label, msg);
    p->status = CLSEG_STATUS_BAD_FORMAT;
    return 0;
}

static int fail_oom(parser *p)
{
    if (p->status == CLSEG_STATUS_SUCCESS) {
        clseg_errbuf_set(p->err, p->err_size, "%s: out of host memory reading the header", p->label);
        p->status = CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    return 0;
}

/* A position as the byte's offset in the file (the header starts after the 8-byte length). */
static size_t at(const parser *p) { return p->pos + 8; }

static void skip_ws(parser *p)
{
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
                             p->s[p->pos] == '\r'))
        p->pos++;
}

static int expect(parser *p, char c, const char *what)
{
    skip_ws(p);
    if (p->pos >= p->n)
        return fail(p, "bad header JSON: it ends where %s was expected", what);
    if (p->s[p->pos] != (unsigned char)c)
        return fail(p, "bad header JSON at byte %zu: expected %s", at(p), what);
    p->pos++;
    return 1;
}

/* After an object's member: 1 when a ',' announces another, 0 at the closing '}', -1 (with the
 * error recorded) for anything else. */
static int next_member(parser *p)
{
    skip_ws(p);
    if (p->pos < p->n && p->s[p->pos] == ',') {
        p->pos++;
        return 1;
    }
    return expect(p, '}', "',' or '}'") ? 0 : -1;
}

static int hex4(parser *p, uint32_t *v)
{
    if (p->n - p->pos < 4)
        return fail(p, "bad header JSON: a \\u escape is cut short");
    *v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p->s[p->pos++];
        unsigned d = c >= '0' && c <= '9' ? c - '0'
                     : c >= 'a' && c <= 'f' ? c - 'a' + 10
                     : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                            : 16;
        if (d == 16)
            return fail(p, "bad header JSON at byte %zu: bad hexadecimal digit in a \\u escape", at(p) - 1);
        *v = (*v << 4) | d;
    }
    return 1;
}

static void put_utf8(char *out, size_t *len, uint32_t cp)
{
    if (cp < 0x80) {
        out[(*len)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*len)++] = (char)(0xC0 | (cp >> 6));
        out[(*len)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*len)++] = (char)(0xE0 | (cp >> 12));
        out[(*len)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*len)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*len)++] = (char)(0xF0 | (cp >> 18));
        out[(*len)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*len)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*len)++] = (char)(0x80 | (cp & 0x3F));
    }
}

/* A JSON string, decoded into a malloc'd C string (*out). Raw bytes (the whole header was
 * checked to be UTF-8 already) must not be control characters; escapes decode to UTF-8 (surrogate pairs joined, lone ones refused);
 * a NUL, which a C string cannot hold, is refused. */
static int parse_string(parser *p, char **out, const char *what)
{
    *out = NULL;
    skip_ws(p);
    if (p->pos >= p->n || p->s[p->pos] != '"')
        return p->pos >= p->n ? fail(p, "bad header JSON: it ends where %s was expected", what)
                              : fail(p, "bad header JSON at byte %zu: expected %s (a string)", at(p), what);
    size_t start = ++p->pos, end = start;
    while (end < p->n && p->s[end] != '"')
        end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->n)
        return fail(p, "bad header JSON: a string starting at byte %zu is not closed", start + 8 - 1);
    /* decoding never makes a string longer than its escaped form */
    char *s = malloc(end - start + 1);
    if (s == NULL)
        return fail_oom(p);
    size_t len = 0;
    while (p->pos < end) {
        unsigned c = p->s[p->pos];
        if (c < 0x20) {
            free(s);
            return fail(p, "bad header JSON at byte %zu: a raw control character in a string", at(p));
        }
        if (c != '\\') {
            s[len++] = (char)c;
            p->pos++;
            continue;
        }
        p->pos++;
        unsigned e = p->s[p->pos++];
        uint32_t cp;
        switch (e) {
        case '"': s[len++] = '"'; break;
        case '\\': s[len++] = '\\'; break;
        case '/': s[len++] = '/'; break;
        case 'b': s[len++] = '\b'; break;
        case 'f': s[len++] = '\f'; break;
        case 'n': s[len++] = '\n'; break;
        case 'r': s[len++] = '\r'; break;
        case 't': s[len++] = '\t'; break;
        case 'u':
            if (!hex4(p, &cp)) {
                free(s);
                return 0;
            }
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                free(s);
                return fail(p, "bad header JSON at byte %zu: a lone low surrogate \\u%04" PRIX32, at(p) - 6, cp);
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo;
                if (p->n - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
                    free(s);
                    return fail(p, "bad header JSON at byte %zu: a high surrogate without its low half", at(p));
                }
                p->pos += 2;
                if (!hex4(p, &lo)) {
                    free(s);
                    return 0;
                }
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    free(s);
                    return fail(p, "bad header JSON at byte %zu: a high surrogate without its low half", at(p) - 6);
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (cp == 0) {
                free(s);
                return fail(p, "bad header JSON at byte %zu: a string holds a NUL character (\\u0000)", at(p) - 6);
            }
            put_utf8(s, &len, cp);
            break;
        default:
            free(s);
            return fail(p, "bad header JSON at byte %zu: unknown escape '\\%c'", at(p) - 2,
                        e >= 0x20 && e < 0x7F ? (char)e : '?');
        }
    }
    p->pos = end + 1;
    s[len] = '\0';
    *out = s;
    return 1;
}

/* A non-negative JSON integer that fits int64 (shapes and offsets). */
/* An object's key and the ':' after it; *out is malloc'd (NULL on failure). */
static int parse_key(parser *p, char **out, const char *what)
{
    if (!parse_string(p, out, what))
        return 0;
    if (expect(p, ':', "':'"))
        return 1;
    free(*out);
    *out = NULL;
    return 0;
}

static int parse_uint(parser *p, int64_t *v, const char *what)
{
    skip_ws(p);
    if (p->pos >= p->n)
        return fail(p, "bad header JSON: it ends where %s was expected", what);
    size_t start = p->pos;
    if (p->s[p->pos] == '-')
        return fail(p, "bad header at byte %zu: %s is negative", at(p), what);
    if (p->s[p->pos] < '0' || p->s[p->pos] > '9')
        return fail(p, "bad header JSON at byte %zu: expected %s (an integer)", at(p), what);
    uint64_t x = 0;
    while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
        unsigned d = p->s[p->pos] - '0';
        if (x > ((uint64_t)INT64_MAX - d) / 10)
            return fail(p, "bad header at byte %zu: %s is too large", start + 8, what);
        x = x * 10 + d;
        p->pos++;
    }
    if (p->s[start] == '0' && p->pos - start > 1)
        return fail(p, "bad header JSON at byte %zu: a number with a leading zero", start + 8);
    if (p->pos < p->n && (p->s[p->pos] == '.' || p->s[p->pos] == 'e' || p->s[p->pos] == 'E'))
        return fail(p, "bad header at byte %zu: %s is not an integer", start + 8, what);
    *v = (int64_t)x;
    return 1;
}

/* '[' integers ']' into v (at most max of them); *count receives how many. */
static int parse_uint_array(parser *p, int64_t *v, int max, int *count, const char *name, const char *what)
{
    *count = 0;
    if (!expect(p, '[', "'[' (an array)"))
        return 0;
    skip_ws(p);
    if (p->pos < p->n && p->s[p->pos] == ']') {
        p->pos++;
        return 1;
    }
    for (;;) {
        int64_t x = 0;
        if (!parse_uint(p, &x, what))
            return 0;
        if (*count == max)
            return fail(p, "tensor '%s': %s has more than %d entries", name, what, max);
        v[(*count)++] = x;
        skip_ws(p);
        if (p->pos < p->n && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        return expect(p, ']', "',' or ']'");
    }
}

static int parse_tensor(parser *p, char *name)
{
    clseg_st_file *f = p->file;
    if (f->ntensors == p->tensor_cap) {
        size_t cap = p->tensor_cap ? p->tensor_cap * 2 : 16;
        clseg_st_tensor *t = realloc(f->tensors, cap * sizeof *t);
        uint64_t *b = t ? realloc(f->begin, cap * sizeof *b) : NULL;
        if (t != NULL)
            f->tensors = t;
        if (b == NULL) {
            free(name);
            return fail_oom(p);
        }
        f->begin = b;
        p->tensor_cap = cap;
    }
    clseg_st_tensor *t = &f->tensors[f->ntensors];
    memset(t, 0, sizeof *t);
    t->name = name;
    f->ntensors++; /* owned by the file from here: freed with it */

    int have_dtype = 0, have_shape = 0, have_offsets = 0;
    int64_t offsets[2] = {0, 0};
    if (!expect(p, '{', "'{' (a tensor's entry)"))
        return 0;
    skip_ws(p);
    if (p->pos < p->n && p->s[p->pos] == '}')
        return fail(p, "tensor '%s': its entry is empty", name);
    for (;;) {
        char *key;
        if (!parse_key(p, &key, "a key of a tensor's entry"))
            return 0;
        int ok;
        if (strcmp(key, "dtype") == 0 && !have_dtype) {
            char *dtype;
            ok = parse_string(p, &dtype, "a dtype");
            if (ok && !clseg_st_dtype_parse(dtype, &t->dtype))
                ok = fail(p, "tensor '%s': unknown dtype \"%.32s\"", name, dtype);
            free(dtype);
            have_dtype = 1;
        } else if (strcmp(key, "shape") == 0 && !have_shape) {
            ok = parse_uint_array(p, t->shape, CLSEG_ST_MAX_DIMS, &t->ndim, name, "a dimension of the shape");
            have_shape = 1;
        } else if (strcmp(key, "data_offsets") == 0 && !have_offsets) {
            int count = 0;
            ok = parse_uint_array(p, offsets, 2, &count, name, "a data offset");
            if (ok && count != 2)
                ok = fail(p, "tensor '%s': data_offsets has %d entries, not 2", name, count);
            have_offsets = 1;
        } else if (strcmp(key, "dtype") == 0 || strcmp(key, "shape") == 0 || strcmp(key, "data_offsets") == 0) {
            ok = fail(p, "tensor '%s': \"%s\" is given twice", name, key);
        } else {
            ok = fail(p, "tensor '%s': unexpected key \"%.64s\" (a tensor has dtype, shape and data_offsets)",
                      name, key);
        }
        free(key);
        if (!ok)
            return 0;
        int more = next_member(p);
        if (more < 0)
            return 0;
        if (more == 0)
            break;
    }
    if (!have_dtype || !have_shape || !have_offsets)
        return fail(p, "tensor '%s': its entry has no %s", name,
                    !have_dtype ? "dtype" : !have_shape ? "shape" : "data_offsets");
    uint64_t nbytes;
    if (!clseg_st_checked_nbytes(t, &nbytes))
        return fail(p, "tensor '%s': its shape's size overflows", name);
    if (offsets[1] < offsets[0])
        return fail(p, "tensor '%s': data_offsets [%" PRId64 ", %" PRId64 "] end before they begin", name, offsets[0],
                    offsets[1]);
    if ((uint64_t)(offsets[1] - offsets[0]) != nbytes)
        return fail(p,
                    "tensor '%s': its shape and dtype %s make %" PRIu64 " bytes, its data_offsets [%" PRId64
                    ", %" PRId64 "] %" PRId64,
                    name, clseg_st_dtype_name(t->dtype), nbytes, offsets[0], offsets[1], offsets[1] - offsets[0]);
    f->begin[f->ntensors - 1] = (uint64_t)offsets[0];
    t->nbytes = nbytes;
    return 1;
}

static int parse_metadata(parser *p)
{
    clseg_st_file *f = p->file;
    if (p->seen_metadata)
        return fail(p, "\"__metadata__\" is given twice");
    p->seen_metadata = 1;
    skip_ws(p);
    /* serde accepts null for the optional metadata, so Python files may hold it */
    if (p->n - p->pos >= 4 && memcmp(p->s + p->pos, "null", 4) == 0) {
        p->pos += 4;
        return 1;
    }
    if (!expect(p, '{', "'{' (the metadata object)"))
        return 0;
    skip_ws(p);
    if (p->pos < p->n && p->s[p->pos] == '}') {
        p->pos++;
        return 1;
    }
    for (;;) {
        if (f->nmeta == p->meta_cap) {
            size_t cap = p->meta_cap ? p->meta_cap * 2 : 16;
            clseg_st_meta *m = realloc(f->meta, cap * sizeof *m);
            if (m == NULL)
                return fail_oom(p);
            f->meta = m;
            p->meta_cap = cap;
        }
        clseg_st_meta *m = &f->meta[f->nmeta];
        char *key, *value;
        if (!parse_string(p, &key, "a metadata key"))
            return 0;
        m->key = key;
        m->value = NULL;
        f->nmeta++;
        if (!expect(p, ':', "':'"))
            return 0;
        skip_ws(p);
        if (p->pos < p->n && p->s[p->pos] != '"')
            return fail(p, "metadata \"%.64s\": its value is not a string (safetensors metadata holds strings only)",
                        key);
        if (!parse_string(p, &value, "a metadata value"))
            return 0;
        m->value = value;
        int more = next_member(p);
        if (more <= 0)
            return more == 0;
    }
}

static int parse_header(parser *p)
{
    if (p->n == 0 || p->s[0] != '{')
        return fail(p, "the header does not start with '{': not a safetensors file?");
    p->pos = 1;
    skip_ws(p);
    if (p->pos < p->n && p->s[p->pos] == '}') {
        p->pos++;
    } else {
        for (;;) {
            char *name;
            if (!parse_key(p, &name, "a tensor name"))
                return 0;
            int ok;
            if (strcmp(name, "__metadata__") == 0) {
                free(name);
                ok = parse_metadata(p);
            } else if (name[0] == '\0') {
                free(name);
                ok = fail(p, "a tensor has an empty name");
            } else {
                ok = parse_tensor(p, name);
            }
            if (!ok)
                return 0;
            int more = next_member(p);
            if (more < 0)
                return 0;
            if (more == 0)
                break;
        }
    }
    /* safetensors pads with spaces; JSON allows any whitespace after the object */
    skip_ws(p);
    if (p->pos != p->n)
        return fail(p, "bad header JSON at byte %zu: unexpected bytes after the header's object", at(p));
    return 1;
}

/* --- checks on the whole ------------------------------------------------------------------- */

typedef struct order_key {
    const char *name;
    uint64_t begin, end;
    size_t index;
} order_key;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const order_key *)a)->name, ((const order_key *)b)->name);
}

static int by_offsets(const void *a, const void *b)
{
    const order_key *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const clseg_st_meta *)a)->key, ((const clseg_st_meta *)b)->key);
}

/* Orders the tensors by offset, checks that they tile [0, *data_size), builds the name index
 * and refuses duplicated names and metadata keys. */
static int check_layout(parser *p, uint64_t *data_size)
{
    clseg_st_file *f = p->file;
    size_t n = f->ntensors;
    order_key *keys = malloc((n ? n : 1) * sizeof *keys);
    clseg_st_tensor *sorted = malloc((n ? n : 1) * sizeof *sorted);
    f->by_name = malloc((n ? n : 1) * sizeof *f->by_name);
    if (keys == NULL || sorted == NULL || f->by_name == NULL) {
        free(keys);
        free(sorted);
        return fail_oom(p);
    }
    for (size_t i = 0; i < n; i++)
        keys[i] = (order_key){f->tensors[i].name, f->begin[i], f->begin[i] + f->tensors[i].nbytes, i};
    qsort(keys, n, sizeof *keys, by_offsets);
    uint64_t end = 0;
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        if (keys[i].begin != end)
            ok = fail(p,
                      keys[i].begin > end
                          ? "tensor '%s': data_offsets begin at %" PRIu64 ", leaving a gap after byte %" PRIu64
                          : "tensor '%s': data_offsets begin at %" PRIu64 ", overlapping the data before byte %" PRIu64,
                      keys[i].name, keys[i].begin, end);
        end = keys[i].end;
        sorted[i] = f->tensors[keys[i].index];
        f->begin[i] = keys[i].begin;
    }
    if (ok) {
        if (n > 0)
            memcpy(f->tensors, sorted, n * sizeof *sorted);
        for (size_t i = 0; i < n; i++)
            keys[i] = (order_key){f->tensors[i].name, 0, 0, i};
        qsort(keys, n, sizeof *keys, by_name);
        for (size_t i = 0; i < n && ok; i++) {
            if (i > 0 && strcmp(keys[i].name, keys[i - 1].name) == 0)
                ok = fail(p, "tensor '%s' appears twice", keys[i].name);
            f->by_name[i] = keys[i].index;
        }
    }
    free(keys);
    free(sorted);
    if (ok && f->nmeta > 1) {
        clseg_st_meta *m = malloc(f->nmeta * sizeof *m);
        if (m == NULL)
            return fail_oom(p);
        memcpy(m, f->meta, f->nmeta * sizeof *m);
        qsort(m, f->nmeta, sizeof *m, by_key);
        for (size_t i = 1; i < f->nmeta && ok; i++) {
            if (strcmp(m[i].key, m[i - 1].key) == 0)
                ok = fail(p, "metadata key \"%.64s\" appears twice", m[i].key);
        }
        free(m);
    }
    *data_size = end;
    return ok;
}

void clseg_safetensors_close(clseg_st_file *file)
{
    if (file == NULL)
        return;
    for (size_t i = 0; i < file->ntensors; i++)
        free((char *)file->tensors[i].name);
    for (size_t i = 0; i < file->nmeta; i++) {
        free((char *)file->meta[i].key);
        free((char *)file->meta[i].value);
    }
    free(file->tensors);
    free(file->begin);
    free(file->by_name);
    free(file->meta);
    free(file->bytes);
    free(file);
}

static uint64_t le64(const unsigned char *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

/* Checks the length field against the file's size (total bytes); 1 when the header fits. */
static int check_length(parser *p, uint64_t total, const unsigned char *first8, uint64_t *n)
{
    if (total < 8)
        return fail(p, "truncated: the file has %" PRIu64 " bytes, fewer than the 8 that hold the header's length",
                    total);
    *n = le64(first8);
    if (*n > CLSEG_ST_MAX_HEADER)
        return fail(p,
                    "bad header length %" PRIu64 " (more than %" PRIu64
                    " bytes): corrupted, or not a safetensors file",
                    *n, CLSEG_ST_MAX_HEADER);
    if (*n > total - 8)
        return fail(p, "truncated: the header length says %" PRIu64 " bytes of header, the file has %" PRIu64
                    " after the length", *n, total - 8);
    return 1;
}

/* Parses the header bytes and checks the layout against the file's total size. */
static clseg_status finish(parser *p, const unsigned char *header, uint64_t n, uint64_t total)
{
    p->s = header;
    p->n = (size_t)n;
    if (clseg_utf8_valid_prefix(header, (size_t)n) != n) {
        fail(p, "the header is not valid UTF-8 (at byte %zu)", clseg_utf8_valid_prefix(header, (size_t)n) + 8);
        return p->status;
    }
    uint64_t data_size = 0;
    if (!parse_header(p) || !check_layout(p, &data_size))
        return p->status;
    uint64_t have = total - 8 - n;
    if (have < data_size)
        fail(p, "truncated: the header says %" PRIu64 " bytes of data, the file has %" PRIu64, data_size, have);
    else if (have > data_size)
        fail(p, "%" PRIu64 " bytes after the %" PRIu64 " bytes of data the header describes: corrupted?",
             have - data_size, data_size);
    p->file->data_size = data_size;
    return p->status;
}

static void link_data(clseg_st_file *f, const unsigned char *data)
{
    f->data = data;
    for (size_t i = 0; i < f->ntensors; i++)
        f->tensors[i].data = data != NULL ? data + f->begin[i] : NULL;
}

static clseg_status new_file(const char *label, clseg_st_file **out, parser *p, char *err, size_t err_size)
{
    *p = (parser){.label = label, .err = err, .err_size = err_size};
    *out = calloc(1, sizeof **out);
    if (*out == NULL) {
        clseg_errbuf_set(err, err_size, "%s: out of host memory", label);
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    p->file = *out;
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_safetensors_parse(const char *label, const unsigned char *bytes, size_t size,
                                     clseg_st_file **out, char *err, size_t err_size)
{
    if (out == NULL || (bytes == NULL && size > 0)) {
        clseg_errbuf_set(err, err_size, "clseg_safetensors_parse: out or bytes is NULL");
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    *out = NULL;
    parser p;
    clseg_st_file *f;
    clseg_status st = new_file(label ? label : "safetensors", &f, &p, err, err_size);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    f->bytes = malloc(size ? size : 1);
    uint64_t n = 0;
    if (f->bytes == NULL) {
        fail_oom(&p);
    } else {
        if (size > 0)
            memcpy(f->bytes, bytes, size);
        if (check_length(&p, size, f->bytes, &n))
            finish(&p, f->bytes + 8, n, size);
    }
    if (p.status != CLSEG_STATUS_SUCCESS) {
        clseg_safetensors_close(f);
        return p.status;
    }
    link_data(f, f->bytes + 8 + n);
    *out = f;
    return CLSEG_STATUS_SUCCESS;
}

static int read_exact(FILE *fp, unsigned char *buf, size_t n)
{
    return fread(buf, 1, n, fp) == n;
}

clseg_status clseg_safetensors_open(const char *path, int header_only, clseg_st_file **out, char *err,
                                    size_t err_size)
{
    if (out == NULL || path == NULL) {
        clseg_errbuf_set(err, err_size, "clseg_safetensors_open: out or path is NULL");
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        clseg_errbuf_set(err, err_size, "%s: cannot open: %s", path, strerror(errno));
        return CLSEG_STATUS_IO;
    }
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(fp);
        clseg_errbuf_set(err, err_size, "%s: cannot open: not a regular file", path);
        return CLSEG_STATUS_IO;
    }
    parser p;
    clseg_st_file *f;
    clseg_status st = new_file(path, &f, &p, err, err_size);
    if (st != CLSEG_STATUS_SUCCESS) {
        fclose(fp);
        return st;
    }
    uint64_t total = (uint64_t)sb.st_size, n = 0;
    unsigned char first8[8] = {0};
    int read_ok = total < 8 || read_exact(fp, first8, 8);
    if (read_ok && check_length(&p, total, first8, &n)) {
        /* the header (and the data unless header_only) in one buffer, read after the length */
        uint64_t want = header_only ? n : total - 8;
        f->bytes = want <= SIZE_MAX - 8 ? malloc((size_t)want + 8) : NULL;
        if (f->bytes == NULL) {
            fail_oom(&p);
        } else {
            memcpy(f->bytes, first8, 8);
            read_ok = read_exact(fp, f->bytes + 8, (size_t)want);
            if (read_ok)
                finish(&p, f->bytes + 8, n, total);
        }
    }
    if (!read_ok && p.status == CLSEG_STATUS_SUCCESS) {
        clseg_errbuf_set(err, err_size, "%s: cannot read: %s", path,
                         ferror(fp) ? strerror(errno) : "the file shrank while being read");
        p.status = CLSEG_STATUS_IO;
    }
    fclose(fp);
    if (p.status != CLSEG_STATUS_SUCCESS) {
        clseg_safetensors_close(f);
        return p.status;
    }
    link_data(f, header_only ? NULL : f->bytes + 8 + n);
    *out = f;
    return CLSEG_STATUS_SUCCESS;
}

size_t clseg_safetensors_count(const clseg_st_file *file) { return file->ntensors; }

const clseg_st_tensor *clseg_safetensors_tensor(const clseg_st_file *file, size_t index)
{
    return index < file->ntensors ? &file->tensors[index] : NULL;
}

const clseg_st_tensor *clseg_safetensors_find(const clseg_st_file *file, const char *name)
{
    size_t lo = 0, hi = file->ntensors;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(file->tensors[file->by_name[mid]].name, name);
        if (c == 0)
            return &file->tensors[file->by_name[mid]];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t clseg_safetensors_meta_count(const clseg_st_file *file) { return file->nmeta; }

const clseg_st_meta *clseg_safetensors_meta_at(const clseg_st_file *file, size_t index)
{
    return index < file->nmeta ? &file->meta[index] : NULL;
}

const char *clseg_safetensors_meta(const clseg_st_file *file, const char *key)
{
    for (size_t i = 0; i < file->nmeta; i++) {
        if (strcmp(file->meta[i].key, key) == 0)
            return file->meta[i].value;
    }
    return NULL;
}
