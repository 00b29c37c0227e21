#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "util/rng.h"
#include "verify/verify_case.h"

#define GUARD 64            /* floats on each side of an output */
#define MAX_TENSORS 32      /* per case and backend */
#define GUARD_BITS 0x7fc0debfu /* a NaN no kernel writes by accident */

/* In the order clseg verify prints them: the helpers, then a network's layers, input to loss. */
static const verify_family *const families[] = {&clseg_verify_basic,    &clseg_verify_conv,     &clseg_verify_norm,
                                                 &clseg_verify_activation, &clseg_verify_pool, &clseg_verify_upsample,
                                                 &clseg_verify_loss,     &clseg_verify_optim};

struct verify_run {
    clseg_context *ctx;
    clseg_rng rng;
    clseg_tensor *owned[MAX_TENSORS];
    size_t nowned;
    struct {
        clseg_tensor *whole; /* the output with its guards */
        size_t numel;
    } outputs[MAX_TENSORS];
    size_t noutputs;
    bool failed; /* a helper could not allocate: the case reports it */
};

clseg_context *verify_ctx(verify_run *r) { return r->ctx; }

static void draw(verify_run *r, float *v, size_t n, verify_values kind)
{
    for (size_t i = 0; i < n; i++) {
        float u = clseg_rng_uniform(&r->rng);
        v[i] = kind == VERIFY_POSITIVE ? u : kind == VERIFY_INTEGERS ? floorf(u * 17.0f) - 8.0f : 2.0f * u - 1.0f;
    }
}

static clseg_tensor *keep(verify_run *r, clseg_tensor *t)
{
    if (t == NULL || r->nowned == MAX_TENSORS) {
        clseg_tensor_destroy(t);
        r->failed = true;
        return NULL;
    }
    return r->owned[r->nowned++] = t;
}

static clseg_tensor *upload_new(verify_run *r, clseg_shape shape, const float *host)
{
    clseg_tensor *t = NULL;
    if (r->failed || clseg_tensor_create(r->ctx, shape, &t) != CLSEG_STATUS_SUCCESS ||
        clseg_tensor_upload(t, host, clseg_shape_numel(shape)) != CLSEG_STATUS_SUCCESS) {
        clseg_tensor_destroy(t);
        r->failed = true;
        return NULL;
    }
    return keep(r, t);
}

clseg_tensor *verify_input(verify_run *r, clseg_shape shape, verify_values values)
{
    size_t n = clseg_shape_numel(shape);
    float *host = malloc((n ? n : 1) * sizeof *host);
    clseg_tensor *t = NULL;
    if (host != NULL && n > 0) {
        draw(r, host, n, values);
        t = upload_new(r, shape, host);
    } else {
        r->failed = true;
    }
    free(host);
    return t;
}

clseg_tensor *verify_output(verify_run *r, clseg_shape shape, verify_values initial)
{
    size_t n = clseg_shape_numel(shape);
    float *host = malloc((n + 2 * GUARD) * sizeof *host);
    clseg_tensor *whole = NULL, *view = NULL;
    if (host != NULL && n > 0 && r->noutputs < MAX_TENSORS) {
        uint32_t bits = GUARD_BITS;
        for (size_t i = 0; i < GUARD; i++) {
            memcpy(&host[i], &bits, sizeof bits);
            memcpy(&host[GUARD + n + i], &bits, sizeof bits);
        }
        draw(r, host + GUARD, n, initial);
        whole = upload_new(r, (clseg_shape){1, 1, 1, (int64_t)(n + 2 * GUARD)}, host);
        if (whole != NULL && clseg_tensor_view(whole, GUARD, shape, &view) == CLSEG_STATUS_SUCCESS) {
            view = keep(r, view);
            if (view != NULL) {
                r->outputs[r->noutputs].whole = whole;
                r->outputs[r->noutputs++].numel = n;
            }
        } else {
            r->failed = true;
        }
    } else {
        r->failed = true;
    }
    free(host);
    return view;
}

clseg_tensor *verify_temp(verify_run *r, clseg_shape shape)
{
    clseg_tensor *t = NULL;
    if (r->failed || clseg_tensor_create(r->ctx, shape, &t) != CLSEG_STATUS_SUCCESS) {
        r->failed = true;
        return NULL;
    }
    return keep(r, t);
}

clseg_tensor *verify_workspace(verify_run *r, size_t bytes)
{
    clseg_tensor *t = NULL;
    if (bytes == 0)
        return NULL;
    size_t n = (bytes + sizeof(float) - 1) / sizeof(float);
    if (r->failed || clseg_tensor_create(r->ctx, (clseg_shape){1, 1, 1, (int64_t)(n ? n : 1)}, &t) != CLSEG_STATUS_SUCCESS) {
        r->failed = true;
        return NULL;
    }
    return keep(r, t);
}

/* A case's outputs after a run on one backend: each as [guard | values | guard], in order. */
typedef struct run_result {
    float *data;
    size_t numel[MAX_TENSORS];
    size_t noutputs, total;
} run_result;

static clseg_status run_case(clseg_context *ctx, const verify_case *c, uint64_t seed, run_result *res, char *msg,
                             size_t msg_size)
{
    verify_run r = {.ctx = ctx, .rng = {seed}};
    clseg_status st = c->run(&r, c->arg);
    if (st == CLSEG_STATUS_SUCCESS && r.failed)
        st = CLSEG_STATUS_OUT_OF_RESOURCES;
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_context_finish(ctx);
    res->noutputs = r.noutputs;
    res->total = 0;
    for (size_t i = 0; i < r.noutputs; i++) {
        res->numel[i] = r.outputs[i].numel;
        res->total += r.outputs[i].numel + 2 * GUARD;
    }
    res->data = st == CLSEG_STATUS_SUCCESS ? malloc((res->total ? res->total : 1) * sizeof(float)) : NULL;
    if (st == CLSEG_STATUS_SUCCESS && res->data == NULL)
        st = CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    for (size_t i = 0, at = 0; st == CLSEG_STATUS_SUCCESS && i < r.noutputs; i++) {
        size_t n = r.outputs[i].numel + 2 * GUARD;
        st = clseg_tensor_download(r.outputs[i].whole, res->data + at, n);
        at += n;
    }
    if (st != CLSEG_STATUS_SUCCESS)
        snprintf(msg, msg_size, "%s on %.200s: %.1500s", c->op, ctx->device.name,
                 ctx->error[0] ? ctx->error : clseg_status_str(st));
    for (size_t i = r.nowned; i > 0; i--)
        clseg_tensor_destroy(r.owned[i - 1]);
    return st;
}

static bool guards_intact(const float *g)
{
    for (size_t i = 0; i < GUARD; i++) {
        uint32_t bits;
        memcpy(&bits, &g[i], sizeof bits);
        if (bits != GUARD_BITS)
            return false;
    }
    return true;
}

static void compare_values(const float *dev, const float *ref, size_t n, double rtol, clseg_verify_row *row)
{
    for (size_t i = 0; i < n; i++) {
        double a = dev[i], b = ref[i], diff = fabs(a - b);
        if (isnan(a) || isnan(b) || isinf(a) || isinf(b))
            diff = (isnan(a) && isnan(b)) || a == b ? 0.0 : INFINITY; /* non-finite values must agree */
        if (diff > row->max_abs_err)
            row->max_abs_err = diff;
        if (b != 0.0 && diff / fabs(b) > row->max_rel_err)
            row->max_rel_err = diff / fabs(b);
        if (!(diff <= rtol * fmax(1.0, fabs(b))))
            row->pass = false;
    }
}

static void compare(const run_result *dev, const run_result *ref, double rtol, clseg_verify_row *row)
{
    row->guards_intact = true;
    row->pass = true;
    for (size_t o = 0, at = 0; o < dev->noutputs; o++) {
        size_t n = dev->numel[o];
        if (!guards_intact(dev->data + at) || !guards_intact(dev->data + at + GUARD + n))
            row->guards_intact = false;
        compare_values(dev->data + at + GUARD, ref->data + at + GUARD, n, rtol, row);
        at += n + 2 * GUARD;
    }
    if (!row->guards_intact)
        row->pass = false;
}

clseg_status clseg_verify(clseg_context *dev, clseg_context *ref, const char *filter, clseg_verify_row_fn on_row,
                          void *user, int *failed)
{
    if (dev == NULL || ref == NULL || failed == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    *failed = 0;
    uint64_t seed = 0x5eed;
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
        for (size_t i = 0; i < families[f]->count; i++) {
            const verify_case *c = &families[f]->cases[i];
            seed++;
            if (filter != NULL && strstr(c->op, filter) == NULL)
                continue;
            char msg[2048] = "";
            clseg_verify_row row = {.op = c->op, .shape = c->shape, .tolerance = c->rtol, .message = msg};
            run_result a = {0}, b = {0};
            row.status = run_case(dev, c, seed, &a, msg, sizeof msg);
            if (row.status == CLSEG_STATUS_SUCCESS)
                row.status = run_case(ref, c, seed, &b, msg, sizeof msg);
            if (row.status == CLSEG_STATUS_SUCCESS &&
                (a.total != b.total || a.noutputs != b.noutputs || a.noutputs == 0)) {
                row.status = CLSEG_STATUS_INTERNAL;
                snprintf(msg, sizeof msg, "the two backends produced different output layouts");
            }
            if (row.status == CLSEG_STATUS_SUCCESS) {
                compare(&a, &b, c->rtol, &row);
                if (!row.guards_intact)
                    snprintf(msg, sizeof msg, "wrote outside its output (guard region overwritten)");
                else if (!row.pass)
                    snprintf(msg, sizeof msg, "error above the tolerance");
            }
            free(a.data);
            free(b.data);
            if (!row.pass || row.status != CLSEG_STATUS_SUCCESS) {
                row.pass = false;
                (*failed)++;
            }
            if (on_row != NULL)
                on_row(&row, user);
        }
    }
    return *failed > 0 ? CLSEG_STATUS_VERIFY_FAILED : CLSEG_STATUS_SUCCESS;
}
