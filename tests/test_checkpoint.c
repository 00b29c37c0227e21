/* Checkpoints: a trained net saved and loaded into a fresh one gives back every parameter,
 * buffer and optimiser moment bit for bit, the step, epoch, RNG and best metric, and training
 * goes on identically; the file is what PyTorch expects (names, dims, num_batches_tracked);
 * truncated, corrupted, wrong-shape and wrong-name files are rejected with a message that says
 * why, leaving the net untouched; a failed save leaves the previous file intact. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clseg/clseg.h"
#include "io/safetensors.h"
#include "test_util.h"
#include "util/files.h"

static const clseg_shape in_shape = {2, 3, 8, 8}, out_shape = {2, 1, 8, 8};

/* conv(bias)-BN-ReLU, max pooling, conv(no bias)-BN-ReLU (width channels), transposed conv
 * (bias) to 2 channels, 1x1 head; first names the first layer (for wrong-name files). */
static clseg_net *tiny_net(int64_t width, const char *first)
{
    clseg_net *net = NULL;
    ck_assert_int_eq(clseg_net_create(&net), CLSEG_STATUS_SUCCESS);
    clseg_conv2d_desc k3 = clseg_conv2d_make(3, 1, 1), k1 = clseg_conv2d_make(1, 1, 0), up = clseg_conv2d_make(2, 2, 0);
    up.transposed = 1;
    clseg_batchnorm_desc bn = {0.1f, 1e-5f};
    clseg_pool2d_desc pool = clseg_pool2d_make(2, 2, 0);
    clseg_node x = clseg_net_input(net, in_shape.c);
    x = clseg_net_relu(net, clseg_net_batchnorm2d(net, "enc.bn", clseg_net_conv2d(net, first, x, width, &k3, 1), &bn));
    x = clseg_net_maxpool2d(net, x, &pool);
    x = clseg_net_relu(net, clseg_net_batchnorm2d(net, "mid.bn", clseg_net_conv2d(net, "mid.conv", x, width, &k3, 0),
                                                  &bn));
    x = clseg_net_conv2d(net, "dec.up", x, 2, &up, 1);
    x = clseg_net_conv2d(net, "head", x, out_shape.c, &k1, 1);
    ck_assert_int_eq(clseg_net_set_output(net, x), CLSEG_STATUS_SUCCESS);
    const char *msg = NULL;
    ck_assert_msg(clseg_net_build_status(net, &msg) == CLSEG_STATUS_SUCCESS, "build: %s", msg);
    char w[32];
    snprintf(w, sizeof w, "%lld", (long long)width);
    ck_assert_int_eq(clseg_net_set_meta(net, "clseg.model", "tiny"), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_net_set_meta(net, "clseg.base", w), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_net_set_meta(net, "note", "a \"quoted\" \\ value\n\xc3\xa9"), CLSEG_STATUS_SUCCESS);
    return net;
}

static void plan(clseg_net *net, clseg_context *ctx, clseg_net_mode mode, uint64_t seed)
{
    clseg_status st = clseg_net_plan(net, ctx, in_shape, mode, seed);
    ck_assert_msg(st == CLSEG_STATUS_SUCCESS, "plan: %s", clseg_context_last_error(ctx));
}

static float *values(size_t n, uint64_t seed, int binary)
{
    float *v = malloc(n * sizeof *v);
    ck_assert_ptr_nonnull(v);
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        float u = (float)(s >> 40) * 0x1.0p-24f;
        v[i] = binary ? (u > 0.5f ? 1.0f : 0.0f) : 2.0f * u - 1.0f;
    }
    return v;
}

/* steps Adam steps on a fixed batch; the last loss. */
static float train(clseg_net *net, clseg_context *ctx, int steps)
{
    float *xv = values(clseg_shape_numel(in_shape), 1, 0), *tv = values(clseg_shape_numel(out_shape), 2, 1);
    clseg_tensor *x = test_tensor(ctx, in_shape, xv), *t = test_tensor(ctx, out_shape, tv);
    clseg_loss_desc ld = clseg_loss_make(CLSEG_LOSS_BCE);
    clseg_optimizer opt = clseg_optimizer_make(CLSEG_OPTIMIZER_ADAM, 1e-2f);
    float loss = 0;
    for (int i = 0; i < steps; i++) {
        clseg_status st = clseg_net_train_step(net, x, t, &ld, &opt, &loss);
        ck_assert_msg(st == CLSEG_STATUS_SUCCESS, "train step: %s", clseg_context_last_error(ctx));
    }
    clseg_tensor_destroy(x);
    clseg_tensor_destroy(t);
    free(xv);
    free(tv);
    return loss;
}

/* Every parameter and buffer, then the moments, in one malloc'd array of *count floats. */
static float *snapshot(const clseg_net *net, size_t *count)
{
    size_t total = 0, n = clseg_net_param_count(net);
    clseg_tensor *m[2] = {NULL, NULL};
    ck_assert_int_eq(clseg_net_optimizer_state(net, &m[0], &m[1]), CLSEG_STATUS_SUCCESS);
    for (size_t i = 0; i < n; i++) {
        clseg_param_info info;
        ck_assert_int_eq(clseg_net_param(net, i, &info), CLSEG_STATUS_SUCCESS);
        total += clseg_tensor_numel(info.value);
    }
    for (int k = 0; k < 2; k++)
        total += m[k] != NULL ? clseg_tensor_numel(m[k]) : 0;
    float *all = malloc((total ? total : 1) * sizeof *all);
    ck_assert_ptr_nonnull(all);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        clseg_param_info info;
        clseg_net_param(net, i, &info);
        size_t c = clseg_tensor_numel(info.value);
        ck_assert_int_eq(clseg_tensor_download(info.value, all + off, c), CLSEG_STATUS_SUCCESS);
        off += c;
    }
    for (int k = 0; k < 2; k++) {
        if (m[k] != NULL) {
            ck_assert_int_eq(clseg_tensor_download(m[k], all + off, clseg_tensor_numel(m[k])), CLSEG_STATUS_SUCCESS);
            off += clseg_tensor_numel(m[k]);
        }
    }
    *count = total;
    return all;
}

static void expect_same_bits(const clseg_net *a, const clseg_net *b)
{
    size_t na, nb;
    float *va = snapshot(a, &na), *vb = snapshot(b, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert_msg(memcmp(va, vb, na * sizeof *va) == 0, "the loaded net's values differ from the saved net's");
    free(va);
    free(vb);
}

static char *path_in(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    ck_assert_ptr_nonnull(p);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static void save_ok(const clseg_net *net, const char *path, const clseg_train_state *state)
{
    char err[2048] = "";
    clseg_status st = clseg_checkpoint_save(net, path, state, err, sizeof err);
    ck_assert_msg(st == CLSEG_STATUS_SUCCESS, "save: %s", err);
}

/* Loading path into net fails with status and a message holding every word; the net keeps
 * its values. */
static void expect_load_fails(clseg_net *net, const char *path, clseg_status status, const char *const *words,
                              size_t nwords)
{
    size_t n0;
    float *before = snapshot(net, &n0);
    int64_t steps = clseg_net_step_count(net);
    char err[4096] = "";
    clseg_train_state state;
    clseg_status st = clseg_checkpoint_load(net, path, &state, err, sizeof err);
    ck_assert_msg(st == status, "status %d (%s), wanted %d: '%s'", st, clseg_status_str(st), status, err);
    for (size_t i = 0; i < nwords; i++)
        ck_assert_msg(strstr(err, words[i]) != NULL, "message lacks '%s': '%s'", words[i], err);
    size_t n1;
    float *after = snapshot(net, &n1);
    ck_assert(n0 == n1 && memcmp(before, after, n0 * sizeof *before) == 0);
    ck_assert_int_eq(clseg_net_step_count(net), steps);
    free(before);
    free(after);
}

#define EXPECT_LOAD_FAILS(net, path, status, ...)                                                              \
    do {                                                                                                       \
        const char *const words_[] = {__VA_ARGS__};                                                            \
        expect_load_fails(net, path, status, words_, sizeof words_ / sizeof *words_);                          \
    } while (0)

/* --- round trip ------------------------------------------------------------------------------- */

static void round_trip_on(const char *selector)
{
    clseg_context *ctx = test_context(selector);
    char *dir = test_tmpdir("clseg-ckpt");
    char *path = path_in(dir, "model.safetensors");
    clseg_net *a = tiny_net(4, "enc.conv"), *b = tiny_net(4, "enc.conv");
    plan(a, ctx, CLSEG_NET_TRAIN, 1);
    train(a, ctx, 3);
    ck_assert_int_eq(clseg_net_step_count(a), 3);
    clseg_train_state saved = {.epoch = 7, .step = -1, .rng = {1, UINT64_MAX, 0x0123456789abcdefull, 0},
                               .best_metric = 0.1 + 0.2};
    save_ok(a, path, &saved);

    plan(b, ctx, CLSEG_NET_TRAIN, 99); /* other initial values, zero moments */
    char err[2048] = "";
    clseg_train_state got;
    memset(&got, 0xAB, sizeof got);
    ck_assert_msg(clseg_checkpoint_load(b, path, &got, err, sizeof err) == CLSEG_STATUS_SUCCESS, "load: %s", err);
    expect_same_bits(a, b);
    ck_assert_int_eq(clseg_net_step_count(b), 3);
    ck_assert_int_eq(got.step, 3);
    ck_assert_int_eq(got.epoch, 7);
    for (int k = 0; k < 4; k++)
        ck_assert_uint_eq(got.rng[k], saved.rng[k]);
    ck_assert(got.best_metric == saved.best_metric); /* %.17g keeps every bit of a double */

    /* training goes on exactly as it would have: the moments and Adam's step count came back */
    float la = train(a, ctx, 2), lb = train(b, ctx, 2);
    ck_assert(memcmp(&la, &lb, sizeof la) == 0);
    expect_same_bits(a, b);

    clseg_net_destroy(a);
    clseg_net_destroy(b);
    char *optim = path_in(dir, "model.safetensors.optim");
    unlink(optim);
    unlink(path);
    free(optim);
    free(path);
    test_rmdir(dir);
    free(dir);
    clseg_context_destroy(ctx);
}

START_TEST(test_round_trip_bit_exact_ref) { round_trip_on("ref"); }
END_TEST

START_TEST(test_round_trip_bit_exact_opencl) { round_trip_on(NULL); }
END_TEST

/* What Python sees: state_dict names with PyTorch's dims, num_batches_tracked, the metadata. */
START_TEST(test_file_is_a_pytorch_state_dict)
{
    clseg_context *ctx = test_context("ref");
    char *dir = test_tmpdir("clseg-ckpt");
    char *path = path_in(dir, "m.safetensors");
    clseg_net *net = tiny_net(4, "enc.conv");
    plan(net, ctx, CLSEG_NET_TRAIN, 1);
    train(net, ctx, 2);
    /* the net's metadata cannot shadow the keys the checkpoint writes itself */
    ck_assert_int_eq(clseg_net_set_meta(net, "format", "np"), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_net_set_meta(net, "clseg.step", "999"), CLSEG_STATUS_SUCCESS);
    save_ok(net, path, NULL);

    clseg_st_file *f = NULL;
    char err[2048] = "";
    ck_assert_msg(clseg_safetensors_open(path, 0, &f, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    static const struct {
        const char *name;
        int ndim;
        int64_t shape[4];
    } want[] = {
        {"enc.conv.weight", 4, {4, 3, 3, 3}}, {"enc.conv.bias", 1, {4}},    {"enc.bn.weight", 1, {4}},
        {"enc.bn.bias", 1, {4}},              {"enc.bn.running_mean", 1, {4}}, {"enc.bn.running_var", 1, {4}},
        {"mid.conv.weight", 4, {4, 4, 3, 3}}, {"dec.up.weight", 4, {4, 2, 2, 2}}, /* transposed: in, out, kh, kw */
        {"dec.up.bias", 1, {2}},              {"head.weight", 4, {1, 2, 1, 1}}, {"head.bias", 1, {1}},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const clseg_st_tensor *t = clseg_safetensors_find(f, want[i].name);
        ck_assert_msg(t != NULL, "no '%s'", want[i].name);
        ck_assert_int_eq(t->dtype, CLSEG_ST_F32);
        ck_assert_int_eq(t->ndim, want[i].ndim);
        for (int d = 0; d < t->ndim; d++)
            ck_assert_int_eq(t->shape[d], want[i].shape[d]);
    }
    ck_assert_ptr_null(clseg_safetensors_find(f, "mid.conv.bias"));
    ck_assert_uint_eq(clseg_safetensors_count(f), clseg_net_param_count(net) + 2);
    for (int k = 0; k < 2; k++) {
        const clseg_st_tensor *t = clseg_safetensors_find(f, k ? "mid.bn.num_batches_tracked" : "enc.bn.num_batches_tracked");
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(t->dtype, CLSEG_ST_I64);
        ck_assert_int_eq(t->ndim, 0);
        int64_t v;
        memcpy(&v, t->data, 8);
        ck_assert_int_eq(v, 2);
    }
    ck_assert_str_eq(clseg_safetensors_meta(f, "format"), "pt");
    ck_assert_str_eq(clseg_safetensors_meta(f, "clseg.model"), "tiny");
    ck_assert_str_eq(clseg_safetensors_meta(f, "note"), "a \"quoted\" \\ value\n\xc3\xa9");
    ck_assert_str_eq(clseg_safetensors_meta(f, "clseg.step"), "2");
    ck_assert_str_eq(clseg_safetensors_meta(f, "clseg.version"), clseg_version());
    ck_assert_str_eq(clseg_safetensors_meta(f, "clseg.optimizer_file"), "m.safetensors.optim");
    ck_assert_ptr_null(clseg_safetensors_meta(f, "clseg.epoch")); /* no state given */
    clseg_safetensors_close(f);

    char *optim = path_in(dir, "m.safetensors.optim");
    ck_assert(clseg_safetensors_open(optim, 1, &f, err, sizeof err) == CLSEG_STATUS_SUCCESS);
    ck_assert_uint_eq(clseg_safetensors_count(f), 2);
    ck_assert_int_eq(clseg_safetensors_find(f, "first_moment")->shape[0], clseg_net_trainable_scalars(net));
    ck_assert_int_eq(clseg_safetensors_find(f, "second_moment")->shape[0], clseg_net_trainable_scalars(net));
    clseg_safetensors_close(f);

    /* the metadata alone, as a command reads the model's configuration before building it */
    char value[64];
    ck_assert_int_eq(clseg_checkpoint_meta(path, "clseg.base", value, sizeof value, err, sizeof err),
                     CLSEG_STATUS_SUCCESS);
    ck_assert_str_eq(value, "4");
    ck_assert_int_eq(clseg_checkpoint_meta(path, "clseg.nope", value, sizeof value, err, sizeof err),
                     CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err, "no metadata key 'clseg.nope'"));
    ck_assert_int_eq(clseg_checkpoint_meta(path, "note", value, 4, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_checkpoint_meta(optim, "clseg.step", value, sizeof value, err, sizeof err),
                     CLSEG_STATUS_SUCCESS);
    ck_assert_str_eq(value, "2");

    /* an inference net takes the weights and leaves moments alone */
    clseg_net *infer = tiny_net(4, "enc.conv");
    plan(infer, ctx, CLSEG_NET_INFER, 5);
    ck_assert_msg(clseg_checkpoint_load(infer, path, NULL, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    ck_assert_int_eq(clseg_net_step_count(infer), 2);
    clseg_net_destroy(infer);

    /* a net that is not planned has nowhere to put values */
    clseg_net *unplanned = tiny_net(4, "enc.conv");
    ck_assert_int_eq(clseg_checkpoint_load(unplanned, path, NULL, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_checkpoint_save(unplanned, path, NULL, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err, "not planned"));
    clseg_net_destroy(unplanned);

    clseg_net_destroy(net);
    unlink(optim);
    free(optim);
    free(path);
    test_rmdir(dir);
    free(dir);
    clseg_context_destroy(ctx);
}
END_TEST

/* A state dict written by Python (safetensors.torch.save_file(model.state_dict())): no clseg
 * metadata, no moments (so the net's are cleared); the step comes from num_batches_tracked. */
START_TEST(test_loads_a_python_state_dict)
{
    clseg_context *ctx = test_context("ref");
    char *dir = test_tmpdir("clseg-ckpt");
    char *path = path_in(dir, "torch.safetensors");
    clseg_net *net = tiny_net(4, "enc.conv");
    plan(net, ctx, CLSEG_NET_TRAIN, 1);
    train(net, ctx, 1); /* moments that belong to other weights */
    size_t n = clseg_net_param_count(net);
    clseg_st_tensor *t = calloc(n + 2, sizeof *t);
    float **host = calloc(n, sizeof *host);
    ck_assert(t != NULL && host != NULL);
    for (size_t i = 0; i < n; i++) {
        clseg_param_info info;
        clseg_net_param(net, i, &info);
        size_t c = clseg_tensor_numel(info.value);
        host[i] = values(c, 100 + i, 0);
        const int64_t s4[4] = {info.shape.n, info.shape.c, info.shape.h, info.shape.w};
        t[i] = (clseg_st_tensor){.name = info.name, .dtype = CLSEG_ST_F32, .ndim = info.dims, .data = host[i]};
        for (int d = 0; d < info.dims; d++)
            t[i].shape[d] = s4[4 - info.dims + d];
    }
    static const int64_t tracked = 41;
    t[n] = (clseg_st_tensor){.name = "enc.bn.num_batches_tracked", .dtype = CLSEG_ST_I64, .data = &tracked};
    t[n + 1] = (clseg_st_tensor){.name = "mid.bn.num_batches_tracked", .dtype = CLSEG_ST_I64, .data = &tracked};
    clseg_st_meta fmt = {"format", "pt"};
    char err[2048] = "";
    ck_assert(clseg_safetensors_write(path, t, n + 2, &fmt, 1, err, sizeof err) == CLSEG_STATUS_SUCCESS);
    clseg_train_state state;
    ck_assert_msg(clseg_checkpoint_load(net, path, &state, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    ck_assert_int_eq(clseg_net_step_count(net), 41);
    ck_assert_int_eq(state.step, 41);
    ck_assert_int_eq(state.epoch, 0);
    for (size_t i = 0; i < n; i++) {
        clseg_param_info info;
        clseg_net_param(net, i, &info);
        float *v = test_download(info.value);
        ck_assert_msg(memcmp(v, host[i], clseg_tensor_numel(info.value) * sizeof *v) == 0, "'%s'", info.name);
        free(v);
        free(host[i]);
    }
    /* no moments in the file: the optimiser starts afresh */
    clseg_tensor *m[2];
    ck_assert_int_eq(clseg_net_optimizer_state(net, &m[0], &m[1]), CLSEG_STATUS_SUCCESS);
    for (int k = 0; k < 2; k++) {
        float *v = test_download(m[k]);
        for (size_t i = 0; i < clseg_tensor_numel(m[k]); i++)
            ck_assert_msg(v[i] == 0.0f, "moment %d [%zu] = %g", k, i, (double)v[i]);
        free(v);
    }
    free(host);
    free(t);
    clseg_net_destroy(net);
    free(path);
    test_rmdir(dir);
    free(dir);
    clseg_context_destroy(ctx);
}
END_TEST

/* --- rejections ------------------------------------------------------------------------------- */

static void copy_file(const char *from, const char *to, size_t keep, long flip_at)
{
    unsigned char *data;
    size_t size;
    char err[1024];
    ck_assert(clseg_read_file(from, (size_t)1 << 30, &data, &size, err, sizeof err) == CLSEG_STATUS_SUCCESS);
    if (flip_at >= 0)
        data[flip_at] ^= 0x5A;
    FILE *fp = fopen(to, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(data, 1, keep < size ? keep : size, fp), keep < size ? keep : size);
    fclose(fp);
    free(data);
}

static size_t file_size(const char *path)
{
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    return (size_t)sb.st_size;
}

START_TEST(test_rejects_bad_files)
{
    clseg_context *ctx = test_context("ref");
    char *dir = test_tmpdir("clseg-ckpt");
    char *path = path_in(dir, "good.safetensors"), *bad = path_in(dir, "bad.safetensors");
    clseg_net *src = tiny_net(4, "enc.conv");
    plan(src, ctx, CLSEG_NET_TRAIN, 1);
    train(src, ctx, 1);
    save_ok(src, path, NULL);
    clseg_net *net = tiny_net(4, "enc.conv");
    plan(net, ctx, CLSEG_NET_TRAIN, 2);

    EXPECT_LOAD_FAILS(net, "/nonexistent/x.safetensors", CLSEG_STATUS_IO, "/nonexistent/x.safetensors", "cannot open");

    /* truncated: by one byte, inside the data, inside the header */
    size_t size = file_size(path);
    copy_file(path, bad, size - 1, -1);
    EXPECT_LOAD_FAILS(net, bad, CLSEG_STATUS_BAD_FORMAT, bad, "truncated", "bytes of data");
    copy_file(path, bad, size / 2, -1);
    EXPECT_LOAD_FAILS(net, bad, CLSEG_STATUS_BAD_FORMAT, "truncated");
    copy_file(path, bad, 100, -1);
    EXPECT_LOAD_FAILS(net, bad, CLSEG_STATUS_BAD_FORMAT, "truncated", "header length");

    /* a corrupted byte in the header's JSON, and in its length */
    copy_file(path, bad, size, 8);
    EXPECT_LOAD_FAILS(net, bad, CLSEG_STATUS_BAD_FORMAT, bad, "does not start with '{'");
    copy_file(path, bad, size, 9);
    EXPECT_LOAD_FAILS(net, bad, CLSEG_STATUS_BAD_FORMAT, bad, "bad header JSON");
    copy_file(path, bad, size, 3);
    EXPECT_LOAD_FAILS(net, bad, CLSEG_STATUS_BAD_FORMAT, "bad header length");

    /* a wider model's file: shapes differ */
    clseg_net *wide = tiny_net(5, "enc.conv");
    plan(wide, ctx, CLSEG_NET_INFER, 1);
    char *wide_path = path_in(dir, "wide.safetensors");
    save_ok(wide, wide_path, NULL);
    EXPECT_LOAD_FAILS(net, wide_path, CLSEG_STATUS_SHAPE_MISMATCH, wide_path, "'enc.conv.weight' has shape [5, 3, 3, 3]",
                      "the net's is [4, 3, 3, 3]");

    /* a model whose first layer has another name: missing and unexpected names listed */
    clseg_net *renamed = tiny_net(4, "enc.conv0");
    plan(renamed, ctx, CLSEG_NET_INFER, 1);
    char *renamed_path = path_in(dir, "renamed.safetensors");
    save_ok(renamed, renamed_path, NULL);
    EXPECT_LOAD_FAILS(net, renamed_path, CLSEG_STATUS_BAD_FORMAT, "2 missing ('enc.conv.weight', 'enc.conv.bias')",
                      "2 unexpected tensors ('enc.conv0.bias', 'enc.conv0.weight')");

    /* a file lacking one parameter, and one with an extra tensor, and one with an F64 */
    size_t n = clseg_net_param_count(src);
    clseg_st_file *f = NULL;
    char err[2048];
    ck_assert(clseg_safetensors_open(path, 0, &f, err, sizeof err) == CLSEG_STATUS_SUCCESS);
    clseg_st_tensor *t = calloc(clseg_safetensors_count(f) + 1, sizeof *t);
    ck_assert_ptr_nonnull(t);
    size_t nt = 0;
    for (size_t i = 0; i < clseg_safetensors_count(f); i++) {
        if (strcmp(clseg_safetensors_tensor(f, i)->name, "mid.bn.running_var") != 0)
            t[nt++] = *clseg_safetensors_tensor(f, i);
    }
    ck_assert_uint_eq(nt, n + 1);
    ck_assert(clseg_safetensors_write(bad, t, nt, NULL, 0, err, sizeof err) == CLSEG_STATUS_SUCCESS);
    EXPECT_LOAD_FAILS(net, bad, CLSEG_STATUS_BAD_FORMAT, "1 of the net's tensors are missing: 'mid.bn.running_var'");
    static const float one = 1;
    t[nt++] = (clseg_st_tensor){.name = "mid.bn.running_var", .dtype = CLSEG_ST_F32, .ndim = 1, .shape = {4},
                                .data = clseg_safetensors_find(f, "mid.bn.running_var")->data};
    t[nt++] = (clseg_st_tensor){.name = "extra.weight", .dtype = CLSEG_ST_F32, .ndim = 1, .shape = {1}, .data = &one};
    ck_assert(clseg_safetensors_write(bad, t, nt, NULL, 0, err, sizeof err) == CLSEG_STATUS_SUCCESS);
    EXPECT_LOAD_FAILS(net, bad, CLSEG_STATUS_BAD_FORMAT, "1 unexpected tensors, not in the net: 'extra.weight'");
    nt--;
    static const double twice[4] = {1, 1, 1, 1};
    for (size_t i = 0; i < nt; i++)
        if (strcmp(t[i].name, "enc.bn.running_var") == 0)
            t[i] = (clseg_st_tensor){.name = "enc.bn.running_var", .dtype = CLSEG_ST_F64, .ndim = 1, .shape = {4},
                                     .data = twice};
    ck_assert(clseg_safetensors_write(bad, t, nt, NULL, 0, err, sizeof err) == CLSEG_STATUS_SUCCESS);
    EXPECT_LOAD_FAILS(net, bad, CLSEG_STATUS_BAD_FORMAT, "'enc.bn.running_var' is F64, not F32");
    free(t);
    clseg_safetensors_close(f);

    /* the moments file: missing, from another save, or the wrong size */
    char *optim = path_in(dir, "good.safetensors.optim"), *kept = path_in(dir, "kept.optim");
    copy_file(optim, kept, SIZE_MAX, -1);
    unlink(optim);
    EXPECT_LOAD_FAILS(net, path, CLSEG_STATUS_IO, "names an optimiser file that cannot be read", optim);
    copy_file(kept, optim, SIZE_MAX, -1);
    save_ok(src, path, NULL); /* a second save: new main file and moments */
    copy_file(kept, optim, SIZE_MAX, -1);  /* ...as if it had crashed after the moments of a third */
    EXPECT_LOAD_FAILS(net, path, CLSEG_STATUS_BAD_FORMAT, "comes from another save", "remove it");
    save_ok(src, path, NULL);
    save_ok(wide, wide_path, NULL); /* INFER: no moments file, none named */
    char *wide_optim = path_in(dir, "wide.safetensors.optim");
    ck_assert_int_eq(access(wide_optim, F_OK), -1);
    free(wide_optim);

    /* after all of that, the good file still loads */
    char err2[2048] = "";
    ck_assert_msg(clseg_checkpoint_load(net, path, NULL, err2, sizeof err2) == CLSEG_STATUS_SUCCESS, "%s", err2);
    expect_same_bits(src, net);

    clseg_net_destroy(src);
    clseg_net_destroy(net);
    clseg_net_destroy(wide);
    clseg_net_destroy(renamed);
    free(optim);
    free(kept);
    free(wide_path);
    free(renamed_path);
    free(path);
    free(bad);
    test_rmdir(dir);
    free(dir);
    clseg_context_destroy(ctx);
}
END_TEST

/* A save that fails (here: its temporary files cannot be created, their names being too long
 * for the file system, which stops root as well as anyone) leaves the previous file intact. */
START_TEST(test_failed_save_keeps_the_previous_file)
{
    clseg_context *ctx = test_context("ref");
    char *dir = test_tmpdir("clseg-ckpt");
    char name[249];
    memset(name, 'c', 248);
    name[248] = '\0';
    char *path = path_in(dir, name);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    fputs("previous", fp);
    fclose(fp);
    clseg_net *net = tiny_net(4, "enc.conv");
    plan(net, ctx, CLSEG_NET_TRAIN, 1);
    char err[2048] = "";
    ck_assert_int_eq(clseg_checkpoint_save(net, path, NULL, err, sizeof err), CLSEG_STATUS_IO);
    ck_assert_ptr_nonnull(strstr(err, "cannot create"));
    ck_assert_uint_eq(file_size(path), 8);
    clseg_train_state negative = {.epoch = -1};
    ck_assert_int_eq(clseg_checkpoint_save(net, path, &negative, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_checkpoint_save(NULL, path, NULL, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_checkpoint_load(net, NULL, NULL, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    char v[4];
    ck_assert_int_eq(clseg_checkpoint_meta(NULL, "k", v, sizeof v, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    char *missing = path_in(dir, "no/such/folder/x.safetensors");
    ck_assert_int_eq(clseg_checkpoint_save(net, missing, NULL, err, sizeof err), CLSEG_STATUS_IO);
    if (geteuid() != 0) { /* permissions do not stop root */
        char *ro = path_in(dir, "ro");
        ck_assert_int_eq(mkdir(ro, 0755), 0);
        char *in_ro = path_in(ro, "x.safetensors");
        save_ok(net, in_ro, NULL);
        size_t before = file_size(in_ro);
        ck_assert_int_eq(chmod(ro, 0555), 0);
        train(net, ctx, 1);
        ck_assert_int_eq(clseg_checkpoint_save(net, in_ro, NULL, err, sizeof err), CLSEG_STATUS_IO);
        ck_assert_uint_eq(file_size(in_ro), before);
        chmod(ro, 0755);
        test_rmdir(ro);
        free(in_ro);
        free(ro);
    }
    clseg_net_destroy(net);
    free(missing);
    unlink(path);
    free(path);
    test_rmdir(dir);
    free(dir);
    clseg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *ref = tcase_create("ref");
    tcase_set_timeout(ref, 120);
    tcase_add_test(ref, test_round_trip_bit_exact_ref);
    tcase_add_test(ref, test_file_is_a_pytorch_state_dict);
    tcase_add_test(ref, test_loads_a_python_state_dict);
    tcase_add_test(ref, test_rejects_bad_files);
    tcase_add_test(ref, test_failed_save_keeps_the_previous_file);
    suite_add_tcase(s, ref);
    if (!test_have_opencl())
        return test_run(s, true) == EXIT_SUCCESS ? TEST_SKIP : EXIT_FAILURE;
    TCase *dev = tcase_create("device");
    tcase_set_timeout(dev, 300);
    tcase_add_test(dev, test_round_trip_bit_exact_opencl);
    suite_add_tcase(s, dev);
    return test_run(s, false);
}
