#include "tune_workload.h"

#include <stdlib.h>
#include <string.h>

#include "util/rng.h"

/* One op family at one shape; a program's workload is a few of them. */
typedef enum unit_kind {
    U_NONE,
    U_CONV,
    U_BN,
    U_RELU,
    U_ADD_CONCAT,
    U_POOL,
    U_GAP,
    U_UPSAMPLE,
    U_EW,
    U_SUM,
    U_LOSS,
    U_OPTIM
} unit_kind;

typedef struct unit_spec {
    unit_kind kind;
    clseg_shape x;
    int64_t out_c;              /* U_CONV */
    int k, s, transposed, bias; /* U_CONV; p = k / 2 for stride 1 */
    int nearest;                /* U_UPSAMPLE */
    int times;                  /* calls per run, so that one run takes a few milliseconds or more */
} unit_spec;

#define MAX_UNITS 3
typedef struct program_workload {
    const char *program, *what;
    unit_spec units[MAX_UNITS];
} program_workload;

/* clang-format off */
#define CONV(n, c, hw, oc, kk, ss, tr, b) {U_CONV, {n, c, hw, hw}, oc, kk, ss, tr, b, 0, 1}
#define UNIT(kind, n, c, h, w, times) {kind, {n, c, h, w}, 0, 0, 0, 0, 0, 0, times}
/* clang-format on */

/* U-Net (base 32) at 64x64-pixel levels and below, batch 4 to 8: big enough that the times
 * reflect the kernels, not the launches, small enough that a full tune takes minutes. */
static const program_workload workloads[] = {
    {"gemm",
     "conv2d forward, backward data and weights, 3x3 at 4x32x64x64, 4x128x32x32, 4x256x16x16",
     {CONV(4, 32, 64, 32, 3, 1, 0, 0), CONV(4, 128, 32, 128, 3, 1, 0, 0), CONV(4, 256, 16, 256, 3, 1, 0, 0)}},
    {"conv",
     "conv2d with bias at 4x32x64x64 3x3, deconv2d 4x64x32x32 2x2/2, 1x1 head at 4x32x128x128",
     {CONV(4, 32, 64, 32, 3, 1, 0, 1), CONV(4, 64, 32, 32, 2, 2, 1, 1), CONV(4, 32, 128, 1, 1, 1, 0, 1)}},
    {"norm",
     "batchnorm2d forward_train and backward at 8x32x64x64, 8x256x8x8",
     {UNIT(U_BN, 8, 32, 64, 64, 3), UNIT(U_BN, 8, 256, 8, 8, 10)}},
    {"activation",
     "relu forward and backward at 8x32x64x64, add and concat at 4x32x64x64",
     {UNIT(U_RELU, 8, 32, 64, 64, 5), UNIT(U_ADD_CONCAT, 4, 32, 64, 64, 3)}},
    {"pool",
     "maxpool2d 2x2 and unpool, forward and backward at 8x32x64x64; global avgpool at 8x256x16x16",
     {UNIT(U_POOL, 8, 32, 64, 64, 3), UNIT(U_GAP, 8, 256, 16, 16, 5)}},
    {"upsample",
     "upsample2d x2 bilinear and nearest, forward and backward at 8x32x32x32",
     {UNIT(U_UPSAMPLE, 8, 32, 32, 32, 1), {U_UPSAMPLE, {8, 32, 32, 32}, 0, 0, 0, 0, 0, 1, 1}}},
    {"basic",
     "axpby, scale and copy of 2M values; sum of 2M and of 256K values",
     {UNIT(U_EW, 1, 1, 1, 2097152, 5), UNIT(U_SUM, 1, 1, 1, 2097152, 5), UNIT(U_SUM, 1, 1, 1, 262144, 20)}},
    {"loss", "bce+dice loss with gradient and confusion counts at 8x1x128x128", {UNIT(U_LOSS, 8, 1, 128, 128, 5)}},
    {"optim", "adam and sgd steps on 1M parameters", {UNIT(U_OPTIM, 1, 1, 1, 1048576, 5)}},
};

#define MAX_TENSORS 16
typedef struct unit {
    unit_spec spec;
    clseg_tensor *t[MAX_TENSORS];
    clseg_conv2d_desc conv;
    clseg_pool2d_desc pool;
    clseg_upsample_desc up;
    int64_t step;
} unit;

struct tune_workload {
    clseg_context *ctx;
    unit units[MAX_UNITS];
    size_t nunits;
    clseg_rng rng;
};

static const program_workload *find(const char *program)
{
    for (size_t i = 0; i < sizeof workloads / sizeof workloads[0]; i++)
        if (strcmp(workloads[i].program, program) == 0)
            return &workloads[i];
    return NULL;
}

const char *tune_workload_program(size_t i)
{
    return i < sizeof workloads / sizeof workloads[0] ? workloads[i].program : NULL;
}

const char *tune_workload_describe(const char *program, bool quick)
{
    const program_workload *p = find(program);
    return p == NULL ? "" : quick ? "the same ops at tiny shapes (--quick)" : p->what;
}

static int64_t at_most(int64_t v, int64_t most)
{
    return v < most ? v : most;
}

/* --quick: the same ops on a handful of values, each once. */
static unit_spec shrink(unit_spec s)
{
    bool flat = s.kind == U_EW || s.kind == U_SUM || s.kind == U_OPTIM;
    s.x =
        flat ? (clseg_shape){1, 1, 1, 1000} : (clseg_shape){1, at_most(s.x.c, 4), at_most(s.x.h, 8), at_most(s.x.w, 8)};
    s.out_c = at_most(s.out_c, 4);
    s.times = 1;
    return s;
}

/* Slot `slot` of the unit: a tensor of random values in [0, 1); nothing after a failure (kept in *st). */
static void make(tune_workload *w, unit *u, int slot, clseg_shape shape, clseg_status *st)
{
    size_t n = clseg_shape_numel(shape);
    float *host = *st == CLSEG_STATUS_SUCCESS ? malloc((n > 0 ? n : 1) * sizeof *host) : NULL;
    if (*st == CLSEG_STATUS_SUCCESS && host == NULL)
        *st = CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    if (*st == CLSEG_STATUS_SUCCESS) {
        for (size_t i = 0; i < n; i++)
            host[i] = clseg_rng_uniform(&w->rng);
        *st = clseg_tensor_create(w->ctx, shape, &u->t[slot]);
        if (*st == CLSEG_STATUS_SUCCESS)
            *st = clseg_tensor_upload(u->t[slot], host, n);
    }
    free(host);
}

static void make_workspace(tune_workload *w, unit *u, int slot, size_t bytes, clseg_status *st)
{
    if (bytes > 0)
        make(w, u, slot, (clseg_shape){1, 1, 1, (int64_t)((bytes + 3) / 4)}, st);
}

static clseg_shape channels(clseg_shape x)
{
    return (clseg_shape){1, x.c, 1, 1};
}

/* The unit's tensors, in the slots its run function reads them from. */
static clseg_status setup_unit(tune_workload *w, unit *u)
{
    clseg_status st = CLSEG_STATUS_SUCCESS;
    const unit_spec *s = &u->spec;
    clseg_shape x = s->x, y = x;
    switch (s->kind) {
    case U_CONV: {
        u->conv = clseg_conv2d_make(s->k, s->s, s->s == 1 ? s->k / 2 : 0);
        u->conv.transposed = s->transposed;
        clseg_shape ws =
            s->transposed ? (clseg_shape){x.c, s->out_c, s->k, s->k} : (clseg_shape){s->out_c, x.c, s->k, s->k};
        if ((st = clseg_conv2d_output_shape(&u->conv, x, ws, &y)) != CLSEG_STATUS_SUCCESS)
            return st;
        /* 0 x, 1 w, 2 y, 3 dy, 4 dx, 5 dw, 6 bias, 7 dbias (NULL without bias), 8 workspace */
        make(w, u, 0, x, &st), make(w, u, 1, ws, &st), make(w, u, 2, y, &st), make(w, u, 3, y, &st);
        make(w, u, 4, x, &st), make(w, u, 5, ws, &st);
        if (s->bias)
            make(w, u, 6, channels(y), &st), make(w, u, 7, channels(y), &st);
        make_workspace(w, u, 8, clseg_conv2d_workspace_bytes(w->ctx, &u->conv, x, ws), &st);
        return st;
    }
    case U_BN:
        /* 0 x, 1 y, 2 dy, 3 dx; 4 weight, 5 bias, 6 running mean, 7 var, 8 save mean, 9 invstd, 10 dw,
         * 11 db; 12 workspace */
        for (int i = 0; i < 4; i++)
            make(w, u, i, x, &st);
        for (int i = 4; i < 12; i++)
            make(w, u, i, channels(x), &st);
        make_workspace(w, u, 12, clseg_batchnorm2d_workspace_bytes(w->ctx, x), &st);
        return st;
    case U_RELU:
    case U_UPSAMPLE:
    case U_GAP:
        if (s->kind == U_UPSAMPLE) {
            u->up = (clseg_upsample_desc){s->nearest ? CLSEG_UPSAMPLE_NEAREST : CLSEG_UPSAMPLE_BILINEAR, 0, 2.0f, 2.0f};
            if ((st = clseg_upsample2d_output_shape(&u->up, x, &y)) != CLSEG_STATUS_SUCCESS)
                return st;
        } else if (s->kind == U_GAP) {
            y = (clseg_shape){x.n, x.c, 1, 1};
        }
        make(w, u, 0, x, &st), make(w, u, 1, y, &st), make(w, u, 2, y, &st), make(w, u, 3, x, &st); /* x y dy dx */
        return st;
    case U_ADD_CONCAT:
        for (int i = 0; i < 5; i++)
            make(w, u, i, x, &st); /* a, b, a + b, da, db; 5: the concatenation */
        make(w, u, 5, (clseg_shape){x.n, 2 * x.c, x.h, x.w}, &st);
        return st;
    case U_POOL:
        u->pool = clseg_pool2d_make(2, 2, 0);
        if ((st = clseg_pool2d_output_shape(&u->pool, x, &y)) != CLSEG_STATUS_SUCCESS)
            return st;
        make(w, u, 0, x, &st), make(w, u, 1, y, &st), make(w, u, 2, y, &st), make(w, u, 3, y, &st);
        make(w, u, 4, x, &st); /* x, y, indices, dy, dx */
        /* the indices must be valid before anything reads them */
        return st == CLSEG_STATUS_SUCCESS ? clseg_maxpool2d_forward(w->ctx, &u->pool, u->t[0], u->t[1], u->t[2]) : st;
    case U_EW: make(w, u, 0, x, &st), make(w, u, 1, x, &st), make(w, u, 2, x, &st); return st;
    case U_SUM:
        make(w, u, 0, x, &st), make(w, u, 1, (clseg_shape){1, 1, 1, 1}, &st);
        make_workspace(w, u, 2, clseg_sum_workspace_bytes(w->ctx, clseg_shape_numel(x)), &st);
        return st;
    case U_LOSS:
        make(w, u, 0, x, &st), make(w, u, 1, x, &st), make(w, u, 2, x, &st); /* pred, target, grad */
        make(w, u, 3, (clseg_shape){1, 1, 1, 1}, &st), make(w, u, 4, (clseg_shape){x.n, 4, 1, 1}, &st);
        make_workspace(w, u, 5, clseg_loss_workspace_bytes(w->ctx, x), &st);
        return st;
    case U_OPTIM:
        for (int i = 0; i < 4; i++)
            make(w, u, i, x, &st); /* param, grad, m, v (v >= 0: uniform in [0, 1)) */
        return st;
    default: return CLSEG_STATUS_INVALID_ARGUMENT;
    }
}

static clseg_status run_conv(clseg_context *ctx, unit *u)
{
    clseg_tensor **t = u->t;
    clseg_status st = clseg_conv2d_forward(ctx, &u->conv, t[0], t[1], t[6], t[2], t[8]);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_conv2d_backward_data(ctx, &u->conv, t[3], t[1], t[4], 0.0f, t[8]);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_conv2d_backward_weights(ctx, &u->conv, t[0], t[3], t[5], t[7], 0.0f, t[8]);
    return st;
}

static clseg_status run_unit(clseg_context *ctx, unit *u)
{
    clseg_tensor **t = u->t;
    clseg_status st = CLSEG_STATUS_SUCCESS;
    switch (u->spec.kind) {
    case U_CONV: return run_conv(ctx, u);
    case U_BN: {
        clseg_batchnorm_desc d = {0.1f, 1e-5f};
        st = clseg_batchnorm2d_forward_train(ctx, &d, t[0], t[4], t[5], t[6], t[7], t[1], t[8], t[9], t[12]);
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_batchnorm2d_backward(ctx, &d, t[0], t[2], t[4], t[8], t[9], t[3], 0.0f, t[10], t[11], 0.0f,
                                            t[12]);
        return st;
    }
    case U_RELU:
        st = clseg_relu_forward(ctx, t[0], t[1]);
        return st == CLSEG_STATUS_SUCCESS ? clseg_relu_backward(ctx, t[1], t[2], t[3], 0.0f) : st;
    case U_ADD_CONCAT:
        st = clseg_add(ctx, t[0], t[1], t[2]);
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_concat_forward(ctx, (const clseg_tensor *[]){t[0], t[1]}, 2, t[5]);
        return st == CLSEG_STATUS_SUCCESS ? clseg_concat_backward(ctx, t[5], (clseg_tensor *[]){t[3], t[4]}, 2, 0.0f)
                                          : st;
    case U_POOL:
        st = clseg_maxpool2d_forward(ctx, &u->pool, t[0], t[1], t[2]);
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_maxpool2d_backward(ctx, &u->pool, t[3], t[2], t[4], 0.0f);
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_maxunpool2d_forward(ctx, &u->pool, t[1], t[2], t[4]);
        return st == CLSEG_STATUS_SUCCESS ? clseg_maxunpool2d_backward(ctx, &u->pool, t[0], t[2], t[3], 0.0f) : st;
    case U_GAP:
        st = clseg_global_avgpool_forward(ctx, t[0], t[1]);
        return st == CLSEG_STATUS_SUCCESS ? clseg_global_avgpool_backward(ctx, t[2], t[3], 0.0f) : st;
    case U_UPSAMPLE:
        st = clseg_upsample2d_forward(ctx, &u->up, t[0], t[1]);
        return st == CLSEG_STATUS_SUCCESS ? clseg_upsample2d_backward(ctx, &u->up, t[2], t[3], 0.0f) : st;
    case U_EW:
        st = clseg_axpby(ctx, 0.5f, t[0], 0.5f, t[1]);
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_scale(ctx, t[1], 0.999f);
        return st == CLSEG_STATUS_SUCCESS ? clseg_copy(ctx, t[1], t[2]) : st;
    case U_SUM: return clseg_sum(ctx, t[0], t[1], t[2]);
    case U_LOSS: {
        clseg_loss_desc d = clseg_loss_make(CLSEG_LOSS_BCE_DICE);
        st = clseg_loss(ctx, &d, t[0], t[1], t[3], t[2], t[5]);
        return st == CLSEG_STATUS_SUCCESS ? clseg_confusion_counts(ctx, t[0], t[1], 0.5f, t[4]) : st;
    }
    case U_OPTIM: {
        clseg_adam_desc adam = {1e-4f, 0.9f, 0.999f, 1e-8f, 0.0f, 0};
        clseg_sgd_desc sgd = {1e-2f, 0.9f, 0.0f, 1e-4f, 1};
        u->step++;
        st = clseg_adam_step(ctx, &adam, u->step, t[0], t[1], t[2], t[3]);
        return st == CLSEG_STATUS_SUCCESS ? clseg_sgd_step(ctx, &sgd, u->step, t[0], t[1], t[2]) : st;
    }
    default: return CLSEG_STATUS_INVALID_ARGUMENT;
    }
}

clseg_status tune_workload_create(clseg_context *ctx, const char *program, bool quick, tune_workload **out)
{
    *out = NULL;
    const program_workload *p = find(program);
    if (p == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    tune_workload *w = calloc(1, sizeof *w);
    if (w == NULL)
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    w->ctx = ctx;
    w->rng.state = 0x7e4e;
    clseg_status st = CLSEG_STATUS_SUCCESS;
    for (size_t i = 0; i < MAX_UNITS && p->units[i].kind != U_NONE && st == CLSEG_STATUS_SUCCESS; i++) {
        unit *u = &w->units[w->nunits++];
        u->spec = quick ? shrink(p->units[i]) : p->units[i];
        st = setup_unit(w, u);
    }
    if (st != CLSEG_STATUS_SUCCESS) {
        tune_workload_destroy(w);
        return st;
    }
    *out = w;
    return CLSEG_STATUS_SUCCESS;
}

clseg_status tune_workload_run(tune_workload *w)
{
    clseg_status st = CLSEG_STATUS_SUCCESS;
    for (size_t i = 0; i < w->nunits && st == CLSEG_STATUS_SUCCESS; i++)
        for (int k = 0; k < w->units[i].spec.times && st == CLSEG_STATUS_SUCCESS; k++)
            st = run_unit(w->ctx, &w->units[i]);
    return st;
}

void tune_workload_destroy(tune_workload *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->nunits; i++)
        for (size_t k = 0; k < MAX_TENSORS; k++)
            clseg_tensor_destroy(w->units[i].t[k]);
    free(w);
}
