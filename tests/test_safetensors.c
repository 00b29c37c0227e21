/* The safetensors writer and reader: files byte-identical to safetensors' own writer's, exact
 * round trips (tensors and awkward metadata strings), every malformation rejected with a
 * message naming the file and the problem, and no crash on random truncations and flips. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "test_util.h"
#include "util/files.h"

#define LABEL "t.safetensors"

/* --- building files by hand ------------------------------------------------------------------ */

typedef struct bytes {
    unsigned char *p;
    size_t n;
} bytes;

static void append(bytes *b, const void *s, size_t n)
{
    b->p = realloc(b->p, b->n + n + 1);
    ck_assert_ptr_nonnull(b->p);
    if (n > 0)
        memcpy(b->p + b->n, s, n);
    b->n += n;
}

/* A file: the 8-byte length of json, json as given (no padding added), then data. */
static bytes file_of(const char *json, const void *data, size_t data_size)
{
    bytes b = {0};
    uint64_t n = strlen(json);
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(n >> (8 * i));
    append(&b, len, 8);
    append(&b, json, strlen(json));
    append(&b, data, data_size);
    return b;
}

/* The file bytes the writer produces (header, then the tensors' data in the writer's order). */
static bytes written(const clseg_st_tensor *t, size_t nt, const clseg_st_meta *m, size_t nm)
{
    unsigned char *header;
    size_t size, *order;
    char err[512] = "";
    ck_assert_msg(clseg_safetensors_header(t, nt, m, nm, &header, &size, &order, err, sizeof err) ==
                      CLSEG_STATUS_SUCCESS,
                  "%s", err);
    bytes b = {0};
    append(&b, header, size);
    for (size_t k = 0; k < nt; k++)
        append(&b, t[order[k]].data, (size_t)(clseg_st_numel(&t[order[k]]) * clseg_st_dtype_size(t[order[k]].dtype)));
    free(header);
    free(order);
    return b;
}

static clseg_status parse(bytes b, clseg_st_file **f, char *err, size_t err_size)
{
    return clseg_safetensors_parse(LABEL, b.p, b.n, f, err, err_size);
}

/* Parsing json (with data_size zero bytes of data) fails with BAD_FORMAT and a message that
 * names the file and contains every one of the words. */
static void expect_rejected_bytes(bytes b, const char *const *words, size_t nwords)
{
    clseg_st_file *f = NULL;
    char err[1024] = "";
    clseg_status st = parse(b, &f, err, sizeof err);
    ck_assert_msg(st == CLSEG_STATUS_BAD_FORMAT, "accepted or wrong status %d: '%s'", st, err);
    ck_assert_ptr_null(f);
    ck_assert_msg(strncmp(err, LABEL ": ", strlen(LABEL) + 2) == 0, "message does not name the file: '%s'", err);
    for (size_t i = 0; i < nwords; i++)
        ck_assert_msg(strstr(err, words[i]) != NULL, "message lacks '%s': '%s'", words[i], err);
}

#define EXPECT_REJECTED(json, data_size, ...)                                                                  \
    do {                                                                                                       \
        static const unsigned char zeros_[64];                                                                 \
        static const char *const words_[] = {__VA_ARGS__};                                                     \
        bytes b_ = file_of(json, zeros_, data_size);                                                           \
        expect_rejected_bytes(b_, words_, sizeof words_ / sizeof *words_);                                     \
        free(b_.p);                                                                                            \
    } while (0)

/* --- files as safetensors writes them ------------------------------------------------------- */

/* The expected bytes below are those of safetensors' own tests (safetensors/src/tensor.rs,
 * test_serialization_forced_alignement and test_empty), which Python's save_file produces
 * as well: compact JSON, spaces to a multiple of 8, data little-endian. */
START_TEST(test_writes_the_bytes_safetensors_writes)
{
    static const float values[6] = {0, 1, 2, 3, 4, 5};
    clseg_st_tensor t = {.name = "attn0", .dtype = CLSEG_ST_F32, .ndim = 4, .shape = {1, 1, 2, 3}, .data = values};
    const char *json = "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ";
    ck_assert_uint_eq(strlen(json), 72);
    static const unsigned char data[24] = {0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64};
    bytes want = file_of(json, data, sizeof data), got = written(&t, 1, NULL, 0);
    ck_assert_uint_eq(got.n, want.n);
    ck_assert_mem_eq(got.p, want.p, want.n);
    ck_assert_uint_eq(got.p[0], 72);
    free(got.p);

    /* no tensors, one metadata pair: 40 bytes, the last five of the header spaces */
    clseg_st_meta m = {"framework", "pt"};
    got = written(NULL, 0, &m, 1);
    static const unsigned char empty_with_meta[48] = {
        40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95, 95, 34, 58, 123, 34, 102, 114,
        97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112, 116, 34, 125, 125, 32, 32, 32, 32, 32};
    ck_assert_uint_eq(got.n, sizeof empty_with_meta);
    ck_assert_mem_eq(got.p, empty_with_meta, sizeof empty_with_meta);
    free(got.p);
    got = written(NULL, 0, NULL, 0);
    ck_assert_uint_eq(got.n, 16);
    ck_assert_mem_eq(got.p, "\x08\0\0\0\0\0\0\0{}      ", 16);
    free(got.p);

    /* the reader takes the reference file, data where it should be */
    clseg_st_file *f = NULL;
    char err[512] = "";
    ck_assert_msg(parse(want, &f, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    ck_assert_uint_eq(clseg_safetensors_count(f), 1);
    const clseg_st_tensor *r = clseg_safetensors_find(f, "attn0");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->dtype, CLSEG_ST_F32);
    ck_assert_int_eq(r->ndim, 4);
    ck_assert_int_eq(r->shape[3], 3);
    ck_assert_uint_eq(r->nbytes, 24);
    ck_assert_mem_eq(r->data, values, sizeof values);
    ck_assert_ptr_null(clseg_safetensors_find(f, "attn"));
    clseg_safetensors_close(f);
    free(want.p);
}
END_TEST

/* A state dict like PyTorch's: the I64 scalar (num_batches_tracked) goes first, being the
 * most aligned, then the F32 tensors by name — the order safetensors' writer uses. */
START_TEST(test_orders_tensors_like_safetensors)
{
    static const float w[2] = {1.5f, -2.0f}, v[1] = {0.25f};
    static const int64_t steps = 7;
    clseg_st_tensor t[3] = {
        {.name = "bn.weight", .dtype = CLSEG_ST_F32, .ndim = 1, .shape = {2}, .data = w},
        {.name = "bn.num_batches_tracked", .dtype = CLSEG_ST_I64, .ndim = 0, .data = &steps},
        {.name = "bn.bias", .dtype = CLSEG_ST_F32, .ndim = 1, .shape = {1}, .data = v},
    };
    const char *json = "{\"bn.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
                       "\"bn.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]},"
                       "\"bn.weight\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}";
    bytes want = {0};
    char padded[512];
    snprintf(padded, sizeof padded, "%s%.*s", json, (int)((8 - strlen(json) % 8) % 8), "        ");
    unsigned char data[20];
    memcpy(data, &steps, 8);
    memcpy(data + 8, v, 4);
    memcpy(data + 12, w, 8);
    want = file_of(padded, data, sizeof data);
    bytes got = written(t, 3, NULL, 0);
    ck_assert_uint_eq(got.n, want.n);
    ck_assert_mem_eq(got.p, want.p, want.n);
    free(got.p);
    free(want.p);
}
END_TEST

/* --- round trips ----------------------------------------------------------------------------- */

START_TEST(test_file_round_trip_exact)
{
    char *dir = test_tmpdir("clseg-st");
    char path[4200];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    enum { N = 1000 };
    float *a = malloc(N * sizeof *a);
    ck_assert_ptr_nonnull(a);
    uint32_t x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 1664525u + 1013904223u;
        memcpy(&a[i], &x, 4); /* any bit pattern, NaNs included, must come back unchanged */
    }
    int64_t ids[3] = {-1, INT64_MAX, 42};
    clseg_st_tensor t[4] = {
        {.name = "enc.weight", .dtype = CLSEG_ST_F32, .ndim = 4, .shape = {10, 5, 4, 5}, .data = a},
        {.name = "ids", .dtype = CLSEG_ST_I64, .ndim = 1, .shape = {3}, .data = ids},
        {.name = "empty", .dtype = CLSEG_ST_F32, .ndim = 2, .shape = {0, 7}, .data = NULL},
        {.name = "scalar", .dtype = CLSEG_ST_F32, .ndim = 0, .data = a + 5},
    };
    clseg_st_meta m[2] = {{"format", "pt"}, {"clseg.step", "17"}};
    char err[1024] = "";
    ck_assert_msg(clseg_safetensors_write(path, t, 4, m, 2, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);

    unsigned char *disk;
    size_t size;
    ck_assert(clseg_read_file(path, 1 << 20, &disk, &size, err, sizeof err) == CLSEG_STATUS_SUCCESS);
    bytes want = written(t, 4, m, 2);
    ck_assert_uint_eq(size, want.n);
    ck_assert_mem_eq(disk, want.p, size);
    free(want.p);
    free(disk);

    for (int header_only = 0; header_only <= 1; header_only++) {
        clseg_st_file *f = NULL;
        ck_assert_msg(clseg_safetensors_open(path, header_only, &f, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s",
                      err);
        ck_assert_uint_eq(clseg_safetensors_count(f), 4);
        for (int i = 0; i < 4; i++) {
            const clseg_st_tensor *r = clseg_safetensors_find(f, t[i].name);
            ck_assert_ptr_nonnull(r);
            ck_assert_int_eq(r->dtype, t[i].dtype);
            ck_assert_int_eq(r->ndim, t[i].ndim);
            for (int d = 0; d < t[i].ndim; d++)
                ck_assert_int_eq(r->shape[d], t[i].shape[d]);
            size_t nbytes = (size_t)(clseg_st_numel(&t[i]) * clseg_st_dtype_size(t[i].dtype));
            ck_assert_uint_eq(r->nbytes, nbytes);
            if (header_only)
                ck_assert_ptr_null(r->data);
            else if (nbytes > 0)
                ck_assert_mem_eq(r->data, t[i].data, nbytes);
        }
        /* data order: I64 first, then F32 by name */
        ck_assert_str_eq(clseg_safetensors_tensor(f, 0)->name, "ids");
        ck_assert_str_eq(clseg_safetensors_tensor(f, 1)->name, "empty");
        ck_assert_ptr_null(clseg_safetensors_tensor(f, 4));
        ck_assert_uint_eq(clseg_safetensors_meta_count(f), 2);
        ck_assert_str_eq(clseg_safetensors_meta(f, "format"), "pt");
        ck_assert_str_eq(clseg_safetensors_meta(f, "clseg.step"), "17");
        ck_assert_str_eq(clseg_safetensors_meta_at(f, 1)->key, "clseg.step");
        ck_assert_ptr_null(clseg_safetensors_meta(f, "missing"));
        clseg_safetensors_close(f);
    }
    free(a);
    test_rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(test_awkward_metadata_round_trip)
{
    static const char *const values[] = {
        "",
        "say \"hi\"",
        "back\\slash \\\" \\u0041",
        "caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80",
        "\x01\x02\x1f\x7f tab\tnewline\ncr\rbs\bff\f",
        "/slash/ {\"json\": [1, 2]} , : __metadata__",
    };
    enum { K = sizeof values / sizeof *values };
    clseg_st_meta m[K];
    char keys[K][32];
    for (int i = 0; i < K; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d \"\\\n\xc3\xa9", i);
        m[i] = (clseg_st_meta){keys[i], values[i]};
    }
    static const float one = 1;
    clseg_st_tensor t = {.name = "a \"quoted\" \\ name \xe2\x9c\x93", .dtype = CLSEG_ST_F32, .ndim = 1, .shape = {1},
                         .data = &one};
    bytes b = written(&t, 1, m, K);
    /* control characters never appear raw in the header, and the header is UTF-8 */
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | b.p[i];
    for (uint64_t i = 8; i < 8 + n; i++)
        ck_assert_msg(b.p[i] >= 0x20, "raw control byte %u at %u", b.p[i], (unsigned)i);
    ck_assert_ptr_nonnull(strstr((const char *)b.p + 8, "\\u0001\\u0002\\u001f\x7f tab\\tnewline\\ncr\\rbs\\bff\\f"));
    clseg_st_file *f = NULL;
    char err[512] = "";
    ck_assert_msg(parse(b, &f, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    for (int i = 0; i < K; i++)
        ck_assert_str_eq(clseg_safetensors_meta(f, keys[i]), values[i]);
    ck_assert_ptr_nonnull(clseg_safetensors_find(f, t.name));
    clseg_safetensors_close(f);
    free(b.p);

    /* escapes other writers use: \/, \u00e9, a surrogate pair, upper-case hex, whitespace */
    b = file_of("{ \"__metadata__\" : { \"k\" : \"\\/\\u00e9\\uD83D\\uDE00\\u4E2d\" } ,\n\t\"a\" : {\"shape\": [ ] ,"
                "\"data_offsets\":[0,4], \"dtype\":\"I32\"}}\r\n",
                "abcd", 4);
    ck_assert_msg(parse(b, &f, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    ck_assert_str_eq(clseg_safetensors_meta(f, "k"), "/\xc3\xa9\xf0\x9f\x98\x80\xe4\xb8\xad");
    ck_assert_int_eq(clseg_safetensors_find(f, "a")->dtype, CLSEG_ST_I32);
    clseg_safetensors_close(f);
    free(b.p);

    /* entries in any order in the JSON are taken by their offsets; null metadata is allowed */
    b = file_of("{\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[1,3]},\"__metadata__\":null,"
                "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
                "xyz", 3);
    ck_assert_msg(parse(b, &f, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    ck_assert_str_eq(clseg_safetensors_tensor(f, 0)->name, "a");
    ck_assert_mem_eq(clseg_safetensors_find(f, "b")->data, "yz", 2);
    ck_assert_uint_eq(clseg_safetensors_meta_count(f), 0);
    clseg_safetensors_close(f);
    free(b.p);
}
END_TEST

/* --- rejections ------------------------------------------------------------------------------- */

#define T(name, dtype, shape, offsets) "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":" offsets "}"

START_TEST(test_rejects_bad_lengths)
{
    static const float v[4] = {1, 2, 3, 4};
    clseg_st_tensor t = {.name = "w", .dtype = CLSEG_ST_F32, .ndim = 1, .shape = {4}, .data = v};
    bytes good = written(&t, 1, NULL, 0);
    static const char *const truncated_data[] = {"truncated", "the header says 16 bytes of data, the file has 15"};
    expect_rejected_bytes((bytes){good.p, good.n - 1}, truncated_data, 2);
    static const char *const no_data[] = {"truncated", "the file has 0"};
    expect_rejected_bytes((bytes){good.p, good.n - 16}, no_data, 2);
    static const char *const short_header[] = {"truncated", "header length says"};
    expect_rejected_bytes((bytes){good.p, 20}, short_header, 2);
    static const char *const tiny[] = {"truncated", "fewer than the 8"};
    expect_rejected_bytes((bytes){good.p, 5}, tiny, 2);
    expect_rejected_bytes((bytes){good.p, 0}, tiny, 2);

    bytes longer = {0};
    append(&longer, good.p, good.n);
    append(&longer, "junk", 4);
    static const char *const trailing[] = {"4 bytes after the 16 bytes of data"};
    expect_rejected_bytes(longer, trailing, 1);
    free(longer.p);

    good.p[5] = 0x01; /* a header length of 2^40 + ... */
    static const char *const huge[] = {"bad header length"};
    expect_rejected_bytes(good, huge, 1);
    good.p[5] = 0;
    good.p[0] = 0xF8; /* 248: more header than the file holds */
    expect_rejected_bytes(good, short_header, 2);
    free(good.p);
}
END_TEST

START_TEST(test_rejects_bad_json)
{
    EXPECT_REJECTED("", 0, "does not start with '{'");
    EXPECT_REJECTED(" {}", 0, "does not start with '{'");
    EXPECT_REJECTED("[]", 0, "does not start with '{'");
    EXPECT_REJECTED("{", 0, "bad header JSON", "ends");
    EXPECT_REJECTED("{}x", 0, "bad header JSON", "unexpected bytes after");
    EXPECT_REJECTED("{}{}", 0, "unexpected bytes after");
    EXPECT_REJECTED("{\"a\" {}}", 0, "bad header JSON", "expected ':'");
    EXPECT_REJECTED("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},}", 4, "bad header JSON");
    EXPECT_REJECTED("{" T("a", "F32", "[1]", "[0,4]") " " T("b", "F32", "[1]", "[4,8]") "}", 8, "expected ',' or '}'");
    EXPECT_REJECTED("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,],\"data_offsets\":[0,4]}}", 4, "bad header JSON");
    EXPECT_REJECTED("{\"a:{}}", 0, "not closed");
    EXPECT_REJECTED("{a:{}}", 0, "expected a tensor name");
    EXPECT_REJECTED("{\"a\":[]}", 0, "expected '{'");
    EXPECT_REJECTED("{\"a\":{}}", 0, "entry is empty");
    EXPECT_REJECTED("{\"\":{}}", 0, "empty name");
    EXPECT_REJECTED("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "no data_offsets");
    EXPECT_REJECTED("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "no shape");
    EXPECT_REJECTED("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "no dtype");
    EXPECT_REJECTED("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "given twice");
    EXPECT_REJECTED("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", 4, "unexpected key");
    EXPECT_REJECTED("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", 4, "not an integer");
    EXPECT_REJECTED("{\"a\":{\"dtype\":\"F32\",\"shape\":[1e0],\"data_offsets\":[0,4]}}", 4, "not an integer");
    EXPECT_REJECTED("{\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}", 4, "leading zero");
    EXPECT_REJECTED("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "negative");
    EXPECT_REJECTED("{\"a\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", 4, "expected a dimension");
    EXPECT_REJECTED("{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", 4, "too large");
    EXPECT_REJECTED("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
                    "more than 8");
    EXPECT_REJECTED("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8, "more than 2");
    EXPECT_REJECTED("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "1 entries, not 2");
    EXPECT_REJECTED("{\"a\":{\"dtype\":F32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "expected a dtype");
    /* strings */
    EXPECT_REJECTED("{\"__metadata__\":{\"k\":\"a\tb\"}}", 0, "raw control character");
    EXPECT_REJECTED("{\"__metadata__\":{\"k\":\"\\x41\"}}", 0, "unknown escape");
    EXPECT_REJECTED("{\"__metadata__\":{\"k\":\"\\u00g1\"}}", 0, "bad hexadecimal");
    EXPECT_REJECTED("{\"__metadata__\":{\"k\":\"\\u00\"}}", 0, "bad hexadecimal");
    EXPECT_REJECTED("{\"__metadata__\":{\"k\":\"\\uDE00\"}}", 0, "lone low surrogate");
    EXPECT_REJECTED("{\"__metadata__\":{\"k\":\"\\uD83Dx\"}}", 0, "without its low half");
    EXPECT_REJECTED("{\"__metadata__\":{\"k\":\"\\uD83D\\u0041\"}}", 0, "without its low half");
    EXPECT_REJECTED("{\"__metadata__\":{\"k\":\"\\u0000\"}}", 0, "NUL");
    EXPECT_REJECTED("{\"__metadata__\":{\"k\":\"\xc3\"}}", 0, "not valid UTF-8");
    EXPECT_REJECTED("{\"__metadata__\":{\"k\":\"\xc0\xaf\"}}", 0, "not valid UTF-8");   /* overlong '/' */
    EXPECT_REJECTED("{\"__metadata__\":{\"k\":\"\xed\xa0\x80\"}}", 0, "not valid UTF-8"); /* a surrogate */
    EXPECT_REJECTED("{}  \xff", 0, "not valid UTF-8");
    /* metadata */
    EXPECT_REJECTED("{\"__metadata__\":{\"k\":1}}", 0, "metadata \"k\"", "not a string");
    EXPECT_REJECTED("{\"__metadata__\":{\"k\":{\"x\":\"y\"}}}", 0, "not a string");
    EXPECT_REJECTED("{\"__metadata__\":[]}", 0, "expected '{'");
    EXPECT_REJECTED("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "\"__metadata__\" is given twice");
    EXPECT_REJECTED("{\"__metadata__\":{\"k\":\"1\",\"j\":\"2\",\"k\":\"3\"}}", 0, "metadata key \"k\" appears twice");
}
END_TEST

START_TEST(test_rejects_bad_tensors)
{
    EXPECT_REJECTED("{" T("a", "F33", "[1]", "[0,4]") "}", 4, "tensor 'a'", "unknown dtype \"F33\"");
    EXPECT_REJECTED("{" T("a", "f32", "[1]", "[0,4]") "}", 4, "unknown dtype");
    EXPECT_REJECTED("{" T("a", "F32", "[2]", "[0,4]") "}", 4, "tensor 'a'", "make 8 bytes", "[0, 4] 4");
    EXPECT_REJECTED("{" T("a", "I64", "[]", "[0,4]") "}", 4, "make 8 bytes");
    EXPECT_REJECTED("{" T("a", "F32", "[1]", "[4,0]") "}", 4, "end before they begin");
    EXPECT_REJECTED("{" T("a", "F32", "[4294967296,4294967296]", "[0,4]") "}", 4, "overflows");
    EXPECT_REJECTED("{" T("a", "F32", "[1]", "[4,8]") "}", 8, "tensor 'a'", "gap");
    EXPECT_REJECTED("{" T("a", "F32", "[1]", "[0,4]") "," T("b", "F32", "[1]", "[8,12]") "}", 12, "tensor 'b'", "gap");
    EXPECT_REJECTED("{" T("a", "F32", "[2]", "[0,8]") "," T("b", "F32", "[1]", "[4,8]") "}", 8, "overlapping");
    EXPECT_REJECTED("{" T("a", "F32", "[1]", "[0,4]") "," T("a", "F32", "[1]", "[4,8]") "}", 8, "'a' appears twice");
    EXPECT_REJECTED("{" T("a", "F32", "[1]", "[0,4]") "}", 3, "truncated", "4 bytes of data, the file has 3");
    EXPECT_REJECTED("{" T("a", "F32", "[1]", "[0,4]") "}", 5, "1 bytes after");
    /* shapes with a zero are fine, and take no bytes */
    static const unsigned char four[4] = {0};
    bytes b = file_of("{" T("z", "F32", "[0,3]", "[0,0]") "," T("a", "F32", "[1]", "[0,4]") "}", four, 4);
    clseg_st_file *f = NULL;
    char err[512] = "";
    ck_assert_msg(parse(b, &f, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    ck_assert_str_eq(clseg_safetensors_tensor(f, 0)->name, "z");
    clseg_safetensors_close(f);
    free(b.p);
}
END_TEST

START_TEST(test_writer_rejects_bad_arguments)
{
    static const float v[2] = {1, 2};
    unsigned char *h;
    size_t n;
    char err[512] = "";
    clseg_st_tensor two[2] = {{.name = "a", .dtype = CLSEG_ST_F32, .ndim = 1, .shape = {1}, .data = v},
                              {.name = "a", .dtype = CLSEG_ST_F32, .ndim = 1, .shape = {1}, .data = v}};
    ck_assert_int_eq(clseg_safetensors_header(two, 2, NULL, 0, &h, &n, NULL, err, sizeof err),
                     CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err, "twice"));
    const char *bad_names[] = {NULL, "", "__metadata__", "bad\xff"};
    for (int i = 0; i < 4; i++) {
        clseg_st_tensor t = {.name = bad_names[i], .dtype = CLSEG_ST_F32, .ndim = 1, .shape = {1}, .data = v};
        ck_assert_int_eq(clseg_safetensors_header(&t, 1, NULL, 0, &h, &n, NULL, err, sizeof err),
                         CLSEG_STATUS_INVALID_ARGUMENT);
    }
    clseg_st_tensor bad[] = {
        {.name = "neg", .dtype = CLSEG_ST_F32, .ndim = 1, .shape = {-1}, .data = v},
        {.name = "nodata", .dtype = CLSEG_ST_F32, .ndim = 1, .shape = {2}, .data = NULL},
        {.name = "dims", .dtype = CLSEG_ST_F32, .ndim = 9, .shape = {1}, .data = v},
        {.name = "dtype", .dtype = CLSEG_ST_DTYPE_COUNT, .ndim = 1, .shape = {1}, .data = v},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_int_eq(clseg_safetensors_header(&bad[i], 1, NULL, 0, &h, &n, NULL, err, sizeof err),
                         CLSEG_STATUS_INVALID_ARGUMENT);
    clseg_st_meta m[2] = {{"k", "1"}, {"k", "2"}};
    ck_assert_int_eq(clseg_safetensors_header(NULL, 0, m, 2, &h, &n, NULL, err, sizeof err),
                     CLSEG_STATUS_INVALID_ARGUMENT);
    clseg_st_meta bad_value = {"k", "\xc3("};
    ck_assert_int_eq(clseg_safetensors_header(NULL, 0, &bad_value, 1, &h, &n, NULL, err, sizeof err),
                     CLSEG_STATUS_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_file_errors_name_the_file)
{
    char *dir = test_tmpdir("clseg-st");
    char path[4200], err[1024] = "";
    snprintf(path, sizeof path, "%s/missing.safetensors", dir);
    clseg_st_file *f = NULL;
    ck_assert_int_eq(clseg_safetensors_open(path, 0, &f, err, sizeof err), CLSEG_STATUS_IO);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_int_eq(clseg_safetensors_open(dir, 0, &f, err, sizeof err), CLSEG_STATUS_IO);

    static const float v[4] = {1, 2, 3, 4};
    clseg_st_tensor t = {.name = "w", .dtype = CLSEG_ST_F32, .ndim = 1, .shape = {4}, .data = v};
    snprintf(path, sizeof path, "%s/cut.safetensors", dir);
    ck_assert(clseg_safetensors_write(path, &t, 1, NULL, 0, err, sizeof err) == CLSEG_STATUS_SUCCESS);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(truncate(path, sb.st_size - 3), 0);
    for (int header_only = 0; header_only <= 1; header_only++) {
        ck_assert_int_eq(clseg_safetensors_open(path, header_only, &f, err, sizeof err), CLSEG_STATUS_BAD_FORMAT);
        ck_assert_ptr_null(f);
        ck_assert_msg(strstr(err, path) == err && strstr(err, "truncated: the header says 16 bytes of data, the file has 13"),
                      "%s", err);
    }
    ck_assert_int_eq(truncate(path, 4), 0);
    ck_assert_int_eq(clseg_safetensors_open(path, 0, &f, err, sizeof err), CLSEG_STATUS_BAD_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "truncated"));

    /* a failed write (its temporary file cannot be made) leaves the old file as it was */
    char long_name[4400];
    snprintf(long_name, sizeof long_name, "%s/%0248d", dir, 0);
    ck_assert(clseg_safetensors_write(long_name, &t, 1, NULL, 0, err, sizeof err) != CLSEG_STATUS_SUCCESS);
    FILE *fp = fopen(long_name, "wb");
    ck_assert_ptr_nonnull(fp);
    fputs("old", fp);
    fclose(fp);
    ck_assert_int_eq(clseg_safetensors_write(long_name, &t, 1, NULL, 0, err, sizeof err), CLSEG_STATUS_IO);
    ck_assert_int_eq(stat(long_name, &sb), 0);
    ck_assert_int_eq(sb.st_size, 3);
    unlink(long_name);
    test_rmdir(dir);
    free(dir);
}
END_TEST

/* --- hostile input --------------------------------------------------------------------------- */

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random truncations, byte flips and structural characters dropped into a valid file: every
 * result is SUCCESS with tensors inside the buffer, or BAD_FORMAT with a message; nothing
 * crashes or reads out of bounds (run under ASan). */
START_TEST(test_random_corruption_never_crashes)
{
    static const float v[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    static const int64_t steps = 3;
    clseg_st_tensor t[3] = {
        {.name = "conv.weight", .dtype = CLSEG_ST_F32, .ndim = 4, .shape = {2, 1, 2, 3}, .data = v},
        {.name = "bn.num_batches_tracked", .dtype = CLSEG_ST_I64, .ndim = 0, .data = &steps},
        {.name = "bn.bias", .dtype = CLSEG_ST_F32, .ndim = 1, .shape = {0}, .data = NULL},
    };
    clseg_st_meta m[2] = {{"format", "pt"}, {"note", "\"q\" \\ \xc3\xa9 \n"}};
    bytes good = written(t, 3, m, 2);
    static const char structural[] = "{}[]\",:\\0123456789-.eE u";
    unsigned char *buf = malloc(good.n + 16);
    ck_assert_ptr_nonnull(buf);
    uint64_t s = 0x9E3779B97F4A7C15ull;
    int accepted = 0, rejected = 0;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(buf, good.p, good.n);
        size_t n = good.n;
        int flips = 1 + (int)(next(&s) % 4);
        for (int k = 0; k < flips; k++) {
            size_t at = (size_t)(next(&s) % n);
            switch (next(&s) % 4) {
            case 0: buf[at] ^= (unsigned char)(1u << (next(&s) % 8)); break;
            case 1: buf[at] = (unsigned char)next(&s); break;
            default: buf[at] = (unsigned char)structural[next(&s) % (sizeof structural - 1)]; break;
            }
        }
        if (next(&s) % 3 == 0)
            n = (size_t)(next(&s) % (n + 1));
        /* the parser copies its input, so an exact-size allocation shows any overread */
        unsigned char *exact = malloc(n ? n : 1);
        ck_assert_ptr_nonnull(exact);
        memcpy(exact, buf, n);
        clseg_st_file *f = NULL;
        char err[1024] = "";
        clseg_status st = clseg_safetensors_parse(LABEL, exact, n, &f, err, sizeof err);
        if (st == CLSEG_STATUS_SUCCESS) {
            accepted++;
            for (size_t i = 0; i < clseg_safetensors_count(f); i++) {
                const clseg_st_tensor *r = clseg_safetensors_tensor(f, i);
                ck_assert_ptr_eq(clseg_safetensors_find(f, r->name), r);
                volatile unsigned char sum = 0;
                for (uint64_t b = 0; b < r->nbytes; b++)
                    sum ^= ((const unsigned char *)r->data)[b];
                (void)sum;
            }
            for (size_t i = 0; i < clseg_safetensors_meta_count(f); i++)
                ck_assert_ptr_nonnull(clseg_safetensors_meta_at(f, i)->value);
            clseg_safetensors_close(f);
        } else {
            rejected++;
            ck_assert_msg(st == CLSEG_STATUS_BAD_FORMAT, "status %d: %s", st, err);
            ck_assert_ptr_null(f);
            ck_assert_msg(strncmp(err, LABEL ": ", strlen(LABEL) + 2) == 0 && strlen(err) > strlen(LABEL) + 8,
                          "'%s'", err);
        }
        free(exact);
    }
    ck_assert_int_gt(rejected, 10000);
    ck_assert_int_gt(accepted, 0); /* flips inside the data or metadata text are still valid files */
    free(buf);
    free(good.p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("safetensors");
    TCase *format = tcase_create("format");
    tcase_add_test(format, test_writes_the_bytes_safetensors_writes);
    tcase_add_test(format, test_orders_tensors_like_safetensors);
    tcase_add_test(format, test_file_round_trip_exact);
    tcase_add_test(format, test_awkward_metadata_round_trip);
    suite_add_tcase(s, format);
    TCase *bad = tcase_create("rejection");
    tcase_add_test(bad, test_rejects_bad_lengths);
    tcase_add_test(bad, test_rejects_bad_json);
    tcase_add_test(bad, test_rejects_bad_tensors);
    tcase_add_test(bad, test_writer_rejects_bad_arguments);
    tcase_add_test(bad, test_file_errors_name_the_file);
    tcase_add_test(bad, test_random_corruption_never_crashes);
    suite_add_tcase(s, bad);
    return test_run(s, true);
}
