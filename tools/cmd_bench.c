/* clseg bench ops: time per call and throughput of every op at U-Net's shapes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util/files.h"
#include "util/rng.h"

#define MAX_OWNED 24

typedef struct bench_row {
    char op[40], shape[80];
    double ms, gflops, gbytes; /* median time per call; throughput at that time */
} bench_row;

typedef struct bench {
    clseg_context *ctx;
    const char *filter;
    int repeat;
    bench_row *rows;
    size_t nrows, cap;
    clseg_tensor *owned[MAX_OWNED];
    size_t nowned;
    clseg_rng rng;
    clseg_status st;
} bench;

typedef clseg_status (*bench_fn)(bench *b, const void *arg);

/* A tensor of random values in [-1, 1), freed by release(). */
static clseg_tensor *tensor(bench *b, clseg_shape s)
{
    clseg_tensor *t = NULL;
    size_t n = clseg_shape_numel(s);
    float *host = b->st == CLSEG_STATUS_SUCCESS ? malloc(n * sizeof *host) : NULL;
    if (host == NULL || b->nowned == MAX_OWNED) {
        b->st = b->st != CLSEG_STATUS_SUCCESS ? b->st : CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    } else {
        for (size_t i = 0; i < n; i++)
            host[i] = 2.0f * clseg_rng_uniform(&b->rng) - 1.0f;
        if ((b->st = clseg_tensor_create(b->ctx, s, &t)) == CLSEG_STATUS_SUCCESS)
            b->st = clseg_tensor_upload(t, host, n);
        b->owned[b->nowned++] = t;
    }
    free(host);
    return b->st == CLSEG_STATUS_SUCCESS ? t : NULL;
}

static clseg_tensor *workspace(bench *b, size_t bytes)
{
    return bytes == 0 ? NULL : tensor(b, (clseg_shape){1, 1, 1, (int64_t)((bytes + 3) / 4)});
}

static void release(bench *b)
{
    for (size_t i = 0; i < b->nowned; i++)
        clseg_tensor_destroy(b->owned[i]);
    b->nowned = 0;
}

static void print_row(const bench_row *r)
{
    printf("%-28s %-34s %10.3f %9.2f %9.2f\n", r->op, r->shape, r->ms, r->gflops, r->gbytes);
    fflush(stdout);
}

/* Runs fn once to warm up (kernel builds), then repeat times, each waited for; keeps the median. */
static void measure(bench *b, const char *op, const char *shape, double flops, double bytes, bench_fn fn,
                    const void *arg)
{
    if (b->st != CLSEG_STATUS_SUCCESS || (b->filter != NULL && strstr(op, b->filter) == NULL))
        return;
    if ((b->st = fn(b, arg)) != CLSEG_STATUS_SUCCESS || (b->st = clseg_context_finish(b->ctx)) != CLSEG_STATUS_SUCCESS)
        return;
    double times[64];
    for (int i = 0; i < b->repeat; i++) {
        double t0 = cli_seconds();
        if ((b->st = fn(b, arg)) != CLSEG_STATUS_SUCCESS ||
            (b->st = clseg_context_finish(b->ctx)) != CLSEG_STATUS_SUCCESS)
            return;
        times[i] = cli_seconds() - t0;
    }
    qsort(times, (size_t)b->repeat, sizeof times[0], cli_compare_doubles);
    double t = times[b->repeat / 2];
    if (b->nrows == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        bench_row *rows = realloc(b->rows, cap * sizeof *rows);
        if (rows == NULL) {
            b->st = CLSEG_STATUS_OUT_OF_HOST_MEMORY;
            return;
        }
        b->rows = rows, b->cap = cap;
    }
    bench_row *r = &b->rows[b->nrows++];
    snprintf(r->op, sizeof r->op, "%s", op);
    snprintf(r->shape, sizeof r->shape, "%s", shape);
    r->ms = 1e3 * t;
    r->gflops = t > 0 ? flops / t * 1e-9 : 0.0;
    r->gbytes = t > 0 ? bytes / t * 1e-9 : 0.0;
    print_row(r);
}

static const char *dims(char *buf, size_t size, clseg_shape s)
{
    snprintf(buf, size, "%lldx%lldx%lldx%lld", (long long)s.n, (long long)s.c, (long long)s.h, (long long)s.w);
    return buf;
}

/* --- convolution ------------------------------------------------------------------------ */

typedef struct conv_bench {
    clseg_conv2d_desc d;
    clseg_tensor *x, *w, *bias, *y, *dy, *dx, *dw, *db, *ws;
    int pass; /* 0 forward, 1 backward data, 2 backward weights */
} conv_bench;

static clseg_status run_conv(bench *b, const void *arg)
{
    const conv_bench *c = arg;
    if (c->pass == 0)
        return clseg_conv2d_forward(b->ctx, &c->d, c->x, c->w, c->bias, c->y, c->ws);
    if (c->pass == 1)
        return clseg_conv2d_backward_data(b->ctx, &c->d, c->dy, c->w, c->dx, 0.0f, c->ws);
    return clseg_conv2d_backward_weights(b->ctx, &c->d, c->x, c->dy, c->dw, c->db, 0.0f, c->ws);
}

static void bench_conv(bench *b, clseg_conv2d_desc d, clseg_shape x, int64_t out_channels, int bias)
{
    clseg_shape w = d.transposed ? (clseg_shape){x.c, out_channels, d.kernel_h, d.kernel_w}
                                 : (clseg_shape){out_channels, x.c, d.kernel_h, d.kernel_w};
    clseg_shape y;
    if (b->st != CLSEG_STATUS_SUCCESS || (b->st = clseg_conv2d_output_shape(&d, x, w, &y)) != CLSEG_STATUS_SUCCESS)
        return;
    conv_bench c = {.d = d};
    c.x = tensor(b, x), c.w = tensor(b, w), c.y = tensor(b, y), c.dy = tensor(b, y), c.dx = tensor(b, x);
    c.dw = tensor(b, w);
    if (bias) {
        c.bias = tensor(b, (clseg_shape){1, y.c, 1, 1});
        c.db = tensor(b, (clseg_shape){1, y.c, 1, 1});
    }
    c.ws = workspace(b, clseg_conv2d_workspace_bytes(b->ctx, &d, x, w));
    const char *name = d.transposed ? "deconv2d" : "conv2d";
    char shape[80], xs[48], op[40];
    snprintf(shape, sizeof shape, "%s k%dx%d/%d ->%lld", dims(xs, sizeof xs, x), d.kernel_h, d.kernel_w, d.stride_h,
             (long long)y.c);
    double flops = clseg_conv2d_flops(&d, x, w);
    double bytes = 4.0 * (double)(clseg_shape_numel(x) + clseg_shape_numel(w) + clseg_shape_numel(y));
    static const char *const passes[] = {"forward", "backward_data", "backward_weights"};
    for (c.pass = 0; c.pass < 3; c.pass++) {
        snprintf(op, sizeof op, "%s.%s", name, passes[c.pass]);
        measure(b, op, shape, flops, bytes, run_conv, &c);
    }
    release(b);
}

/* --- batch norm, ReLU, pooling, concatenation, upsampling ---------------------------------- */

typedef struct layer_bench {
    clseg_tensor *x, *y, *dy, *dx, *a, *c, *d, *e, *f, *g, *ws;
    clseg_pool2d_desc pool;
    clseg_upsample_desc up;
    clseg_batchnorm_desc bn;
    int pass;
} layer_bench;

static clseg_status run_bn(bench *b, const void *arg)
{
    const layer_bench *l = arg;
    if (l->pass == 0)
        return clseg_batchnorm2d_forward_train(b->ctx, &l->bn, l->x, l->a, l->c, l->d, l->e, l->y, l->f, l->g, l->ws);
    return clseg_batchnorm2d_backward(b->ctx, &l->bn, l->x, l->dy, l->a, l->f, l->g, l->dx, 0.0f, l->d, l->e, 0.0f,
                                      l->ws);
}

static void bench_bn(bench *b, clseg_shape x)
{
    if (x.n * x.h * x.w < 2)
        return; /* training statistics need two values per channel */
    clseg_shape ch = {1, x.c, 1, 1};
    layer_bench l = {.bn = {0.1f, 1e-5f}};
    l.x = tensor(b, x), l.y = tensor(b, x), l.dy = tensor(b, x), l.dx = tensor(b, x);
    l.a = tensor(b, ch), l.c = tensor(b, ch), l.d = tensor(b, ch), l.e = tensor(b, ch), l.f = tensor(b, ch);
    l.g = tensor(b, ch);
    l.ws = workspace(b, clseg_batchnorm2d_workspace_bytes(b->ctx, x));
    char shape[80];
    double n = (double)clseg_shape_numel(x);
    dims(shape, sizeof shape, x);
    measure(b, "batchnorm2d.forward_train", shape, 7.0 * n, 4.0 * 3.0 * n, run_bn, &l);
    l.pass = 1;
    measure(b, "batchnorm2d.backward", shape, 9.0 * n, 4.0 * 5.0 * n, run_bn, &l);
    release(b);
}

static clseg_status run_relu(bench *b, const void *arg)
{
    const layer_bench *l = arg;
    return l->pass == 0 ? clseg_relu_forward(b->ctx, l->x, l->y) : clseg_relu_backward(b->ctx, l->y, l->dy, l->dx, 0.0f);
}

static void bench_relu(bench *b, clseg_shape x)
{
    layer_bench l = {0};
    l.x = tensor(b, x), l.y = tensor(b, x), l.dy = tensor(b, x), l.dx = tensor(b, x);
    char shape[80];
    double n = (double)clseg_shape_numel(x);
    dims(shape, sizeof shape, x);
    measure(b, "relu.forward", shape, n, 8.0 * n, run_relu, &l);
    l.pass = 1;
    measure(b, "relu.backward", shape, n, 12.0 * n, run_relu, &l);
    release(b);
}

static clseg_status run_pool(bench *b, const void *arg)
{
    const layer_bench *l = arg;
    switch (l->pass) {
    case 0: return clseg_maxpool2d_forward(b->ctx, &l->pool, l->x, l->y, l->a);
    case 1: return clseg_maxpool2d_backward(b->ctx, &l->pool, l->dy, l->a, l->dx, 0.0f);
    case 2: return clseg_maxunpool2d_forward(b->ctx, &l->pool, l->y, l->a, l->dx);
    default: return clseg_maxunpool2d_backward(b->ctx, &l->pool, l->x, l->a, l->dy, 0.0f);
    }
}

static void bench_pool(bench *b, clseg_shape x)
{
    layer_bench l = {.pool = clseg_pool2d_make(2, 2, 0)};
    clseg_shape y;
    if (b->st != CLSEG_STATUS_SUCCESS || (b->st = clseg_pool2d_output_shape(&l.pool, x, &y)) != CLSEG_STATUS_SUCCESS)
        return;
    l.x = tensor(b, x), l.y = tensor(b, y), l.a = tensor(b, y), l.dy = tensor(b, y), l.dx = tensor(b, x);
    /* the indices must be valid before anything reads them */
    if (b->st == CLSEG_STATUS_SUCCESS)
        b->st = clseg_maxpool2d_forward(b->ctx, &l.pool, l.x, l.y, l.a);
    char shape[80];
    double n = (double)clseg_shape_numel(x), m = (double)clseg_shape_numel(y);
    dims(shape, sizeof shape, x);
    static const char *const ops[] = {"maxpool2d.forward", "maxpool2d.backward", "maxunpool2d.forward",
                                      "maxunpool2d.backward"};
    for (l.pass = 0; l.pass < 4; l.pass++)
        measure(b, ops[l.pass], shape, l.pass == 0 ? n : m, 4.0 * (n + 2.0 * m), run_pool, &l);
    release(b);
}

static clseg_status run_concat(bench *b, const void *arg)
{
    const layer_bench *l = arg;
    if (l->pass == 0)
        return clseg_concat_forward(b->ctx, (const clseg_tensor *[]){l->x, l->a}, 2, l->y);
    return clseg_concat_backward(b->ctx, l->y, (clseg_tensor *[]){l->dx, l->c}, 2, 1.0f);
}

static void bench_concat(bench *b, clseg_shape half)
{
    clseg_shape both = {half.n, 2 * half.c, half.h, half.w};
    layer_bench l = {0};
    l.x = tensor(b, half), l.a = tensor(b, half), l.dx = tensor(b, half), l.c = tensor(b, half);
    l.y = tensor(b, both);
    char shape[80], hs[48];
    snprintf(shape, sizeof shape, "2 x %s", dims(hs, sizeof hs, half));
    double n = (double)clseg_shape_numel(both);
    measure(b, "concat.forward", shape, 0.0, 8.0 * n, run_concat, &l);
    l.pass = 1;
    measure(b, "concat.backward", shape, 2.0 * n, 12.0 * n, run_concat, &l);
    release(b);
}

static clseg_status run_upsample(bench *b, const void *arg)
{
    const layer_bench *l = arg;
    if (l->pass == 0)
        return clseg_upsample2d_forward(b->ctx, &l->up, l->x, l->y);
    return clseg_upsample2d_backward(b->ctx, &l->up, l->dy, l->dx, 0.0f);
}

static void bench_upsample(bench *b, clseg_shape x)
{
    layer_bench l = {.up = {CLSEG_UPSAMPLE_BILINEAR, 0, 2.0f, 2.0f}};
    clseg_shape y;
    if (b->st != CLSEG_STATUS_SUCCESS || (b->st = clseg_upsample2d_output_shape(&l.up, x, &y)) != CLSEG_STATUS_SUCCESS)
        return;
    l.x = tensor(b, x), l.y = tensor(b, y), l.dy = tensor(b, y), l.dx = tensor(b, x);
    char shape[80], xs[48];
    snprintf(shape, sizeof shape, "%s bilinear x2", dims(xs, sizeof xs, x));
    double n = (double)clseg_shape_numel(y);
    measure(b, "upsample2d.forward", shape, 7.0 * n, 4.0 * 1.25 * n, run_upsample, &l);
    l.pass = 1;
    measure(b, "upsample2d.backward", shape, 7.0 * n, 4.0 * 1.25 * n, run_upsample, &l);
    release(b);
}

/* --- the loss, the metrics and the optimisers ---------------------------------------------- */

typedef struct head_bench {
    clseg_loss_desc loss;
    clseg_tensor *pred, *target, *out, *grad, *counts, *ws;
    int pass;
} head_bench;

static clseg_status run_head(bench *b, const void *arg)
{
    const head_bench *h = arg;
    if (h->pass == 0)
        return clseg_loss(b->ctx, &h->loss, h->pred, h->target, h->out, h->grad, h->ws);
    return clseg_confusion_counts(b->ctx, h->pred, h->target, 0.0f, h->counts);
}

static void bench_head(bench *b, clseg_shape mask)
{
    head_bench h = {.loss = clseg_loss_make(CLSEG_LOSS_BCE_DICE)};
    h.pred = tensor(b, mask), h.target = tensor(b, mask), h.grad = tensor(b, mask);
    h.out = tensor(b, (clseg_shape){1, 1, 1, 1}), h.counts = tensor(b, (clseg_shape){mask.n, 4, 1, 1});
    h.ws = workspace(b, clseg_loss_workspace_bytes(b->ctx, mask));
    char shape[80];
    double n = (double)clseg_shape_numel(mask);
    dims(shape, sizeof shape, mask);
    measure(b, "loss.bce+dice", shape, 30.0 * n, 12.0 * n, run_head, &h);
    h.pass = 1;
    measure(b, "confusion.counts", shape, 4.0 * n, 8.0 * n, run_head, &h);
    release(b);
}

typedef struct optim_bench {
    clseg_tensor *p, *g, *m, *v;
    int64_t step;
    int pass;
} optim_bench;

static clseg_status run_optim(bench *b, const void *arg)
{
    optim_bench *o = (optim_bench *)arg;
    o->step++;
    if (o->pass == 0) {
        clseg_adam_desc d = {1e-4f, 0.9f, 0.999f, 1e-8f, 0.0f, 0};
        return clseg_adam_step(b->ctx, &d, o->step, o->p, o->g, o->m, o->v);
    }
    clseg_sgd_desc d = {1e-2f, 0.9f, 0.0f, 1e-4f, 1};
    return clseg_sgd_step(b->ctx, &d, o->step, o->p, o->g, o->m);
}

static void bench_optim(bench *b, int64_t params)
{
    clseg_shape s = {1, 1, 1, params};
    optim_bench o = {0};
    o.p = tensor(b, s), o.g = tensor(b, s), o.m = tensor(b, s), o.v = tensor(b, s);
    if (b->st == CLSEG_STATUS_SUCCESS)
        b->st = clseg_fill(b->ctx, o.v, 0.0f); /* Adam's second moment is never negative */
    char shape[80];
    snprintf(shape, sizeof shape, "%lld parameters", (long long)params);
    double n = (double)params;
    measure(b, "adam.step", shape, 12.0 * n, 4.0 * 7.0 * n, run_optim, &o);
    o.pass = 1, o.step = 0;
    measure(b, "sgd.step", shape, 6.0 * n, 4.0 * 5.0 * n, run_optim, &o);
    release(b);
}

/* --- U-Net's shapes ------------------------------------------------------------------------- */

/* Base 32, four levels and a bottleneck (brain-segmentation-pytorch's U-Net) at input S. */
static void bench_unet(bench *b, int64_t batch, int64_t size)
{
    for (int l = 0; l < 5 && b->st == CLSEG_STATUS_SUCCESS; l++) {
        int64_t s = size >> l, c = (int64_t)32 << l, cin = l == 0 ? 3 : c / 2;
        if (s < 1)
            break;
        clseg_shape x = {batch, c, s, s};
        bench_conv(b, clseg_conv2d_make(3, 1, 1), (clseg_shape){batch, cin, s, s}, c, 0);
        bench_conv(b, clseg_conv2d_make(3, 1, 1), x, c, 0);
        bench_bn(b, x);
        bench_relu(b, x);
        if (l < 4 && s >= 2) {
            bench_pool(b, x);
            clseg_conv2d_desc up = clseg_conv2d_make(2, 2, 0);
            up.transposed = 1;
            bench_conv(b, up, (clseg_shape){batch, 2 * c, s / 2, s / 2}, c, 1);
            bench_concat(b, x);
            bench_conv(b, clseg_conv2d_make(3, 1, 1), (clseg_shape){batch, 2 * c, s, s}, c, 0);
            bench_upsample(b, (clseg_shape){batch, c, s / 2, s / 2});
        }
    }
    bench_conv(b, clseg_conv2d_make(1, 1, 0), (clseg_shape){batch, 32, size, size}, 1, 1);
    bench_head(b, (clseg_shape){batch, 1, size, size});
}

/* The string as JSON wants it inside quotes (device names come from drivers). */
static const char *json_text(char *buf, size_t size, const char *s)
{
    size_t n = 0;
    for (; *s != '\0' && n + 7 < size; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            buf[n++] = '\\', buf[n++] = (char)ch;
        else if (ch < 0x20)
            n += (size_t)snprintf(buf + n, size - n, "\\u%04x", ch);
        else
            buf[n++] = (char)ch;
    }
    buf[n] = '\0';
    return buf;
}

static clseg_status write_json(const char *path, const bench *b, const clseg_device_info *d, int64_t batch,
                               char *err, size_t err_size)
{
    char name[1024];
    size_t cap = 2048 + b->nrows * 256, used = 0;
    char *json = malloc(cap);
    if (json == NULL)
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    used += (size_t)snprintf(json + used, cap - used,
                             "{\n  \"device\": \"%s\",\n  \"device_type\": \"%s\",\n  \"batch\": %lld,\n"
                             "  \"repeat\": %d,\n  \"ops\": [\n",
                             json_text(name, sizeof name, d->name), clseg_device_type_str(d->type), (long long)batch,
                             b->repeat);
    for (size_t i = 0; i < b->nrows; i++) {
        const bench_row *r = &b->rows[i];
        used += (size_t)snprintf(json + used, cap - used,
                                 "    {\"op\": \"%s\", \"shape\": \"%s\", \"ms_per_call\": %.6f, \"gflops\": %.4f, "
                                 "\"gbytes_per_s\": %.4f}%s\n",
                                 r->op, r->shape, r->ms, r->gflops, r->gbytes, i + 1 < b->nrows ? "," : "");
    }
    used += (size_t)snprintf(json + used, cap - used, "  ]\n}\n");
    const void *parts[] = {json};
    size_t sizes[] = {used};
    clseg_status st = clseg_write_file_atomic(path, parts, sizes, 1, err, err_size);
    free(json);
    return st;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: clseg bench ops [--device SEL] [--batch B] [--size S] [--repeat R] [--op NAME]\n"
               "                       [--json FILE] [-v]\n"
               "       clseg bench train [--model M] [--size S] [--batch B] ...  (clseg bench train --help)\n\n"
               "Times every op, forward and backward, at the shapes of U-Net (base 32, 32 to 512\n"
               "channels) for inputs of 256x256 and 128x128, and prints the median time per call,\n"
               "GFLOP/s and GB/s (nominal: the op's arithmetic and the bytes it must move).\n\n"
               "  --device SEL   the device to measure (see 'clseg devices')\n"
               "  --batch B      images per batch (default 8)\n"
               "  --size S       only this input size (default: 256 and 128)\n"
               "  --repeat R     timed calls per op after one warm-up call (default 5, at most 64)\n"
               "  --op NAME      only the ops whose name contains NAME\n"
               "  --json FILE    also write the table as JSON\n");
}

int cmd_bench(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "train") == 0)
        return cmd_bench_train(argc - 1, argv + 1);
    if (strcmp(argv[1], "ops") != 0) {
        cli_error("bench: unknown benchmark '%s' (there are: ops, train)", argv[1]);
        return CLI_USAGE;
    }
    cli_common common = {0};
    bench b = {.repeat = 5, .rng = {0xbe4c4}};
    unsigned long long batch = 8, size = 0, repeat = 5;
    const char *json = NULL;
    for (int i = 2; i < argc; i++) {
        int used = cli_parse_common(argc, argv, i, &common);
        if (used < 0)
            return CLI_USAGE;
        if (used > 0) {
            i += used - 1;
            continue;
        }
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            return CLI_OK;
        } else if (value == NULL && (strcmp(arg, "--batch") == 0 || strcmp(arg, "--size") == 0 ||
                                     strcmp(arg, "--repeat") == 0 || strcmp(arg, "--op") == 0 ||
                                     strcmp(arg, "--json") == 0)) {
            cli_error("bench: %s needs a value", arg);
            return CLI_USAGE;
        } else if (strcmp(arg, "--batch") == 0) {
            ok = cli_parse_uint("bench", arg, value, 1, 1024, &batch), i++;
        } else if (strcmp(arg, "--size") == 0) {
            ok = cli_parse_uint("bench", arg, value, 16, 4096, &size), i++;
        } else if (strcmp(arg, "--repeat") == 0) {
            ok = cli_parse_uint("bench", arg, value, 1, 64, &repeat), i++;
        } else if (strcmp(arg, "--op") == 0) {
            b.filter = value, i++;
        } else if (strcmp(arg, "--json") == 0) {
            json = value, i++;
        } else {
            cli_error("bench: unknown argument '%s'", arg);
            usage(stderr);
            return CLI_USAGE;
        }
        if (!ok)
            return CLI_USAGE;
    }
    b.repeat = (int)repeat;
    if ((b.ctx = cli_context(&common, common.device)) == NULL)
        return CLI_FAILED;
    const clseg_device_info *d = clseg_context_device(b.ctx);
    printf("clseg bench ops on %s (%s), batch %llu, median of %d calls after a warm-up\n\n", d->name,
           clseg_device_type_str(d->type), batch, b.repeat);
    printf("%-28s %-34s %10s %9s %9s\n", "op", "shape", "ms/call", "GFLOP/s", "GB/s");
    double t0 = cli_seconds();
    int64_t sizes[2] = {256, 128};
    size_t nsizes = 2;
    if (size != 0)
        sizes[0] = (int64_t)size, nsizes = 1;
    for (size_t k = 0; k < nsizes && b.st == CLSEG_STATUS_SUCCESS; k++)
        bench_unet(&b, (int64_t)batch, sizes[k]);
    if (b.st == CLSEG_STATUS_SUCCESS)
        bench_optim(&b, 7763041); /* U-Net's parameters */
    release(&b);
    int rc = CLI_OK;
    if (b.st != CLSEG_STATUS_SUCCESS) {
        cli_error("bench: %s", clseg_context_last_error(b.ctx)[0] ? clseg_context_last_error(b.ctx)
                                                                   : clseg_status_str(b.st));
        rc = CLI_FAILED;
    } else if (b.nrows == 0) {
        cli_error("bench: no op matches '%s'", b.filter != NULL ? b.filter : "");
        rc = CLI_FAILED;
    } else {
        printf("\n%zu measurements in %.1f s\n", b.nrows, cli_seconds() - t0);
        char err[4096];
        if (json != NULL && write_json(json, &b, d, (int64_t)batch, err, sizeof err) != CLSEG_STATUS_SUCCESS) {
            cli_error("bench: writing %s: %s", json, err);
            rc = CLI_FAILED;
        } else if (json != NULL) {
            printf("wrote %s\n", json);
        }
    }
    free(b.rows);
    clseg_context_destroy(b.ctx);
    return rc;
}
