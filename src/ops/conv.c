#include "ops/conv.h"

#include "clseg/conv.h"
#include "ops/check.h"

static const clseg_op op_forward = {"conv2d.forward", clseg_ref_conv_forward, clseg_ocl_conv_forward};
static const clseg_op op_backward_data = {"conv2d.backward_data", clseg_ref_conv_backward_data,
                                          clseg_ocl_conv_backward_data};
static const clseg_op op_backward_weights = {"conv2d.backward_weights", clseg_ref_conv_backward_weights,
                                             clseg_ocl_conv_backward_weights};
static const clseg_op op_bias_grad = {"conv2d.bias_grad", clseg_ref_conv_bias_grad, clseg_ocl_conv_bias_grad};

#define T(x) ((clseg_tensor *)(x))

/* The im2col buffer holds this many bytes at most (unless one image needs more), never more
 * than half the device's largest allocation nor a quarter of the context's memory limit, so a
 * whole batch need not fit at once. */
#define COL_CAP_BYTES ((uint64_t)256 << 20)

clseg_conv2d_desc clseg_conv2d_make(int k, int s, int p)
{
    return (clseg_conv2d_desc){.kernel_h = k,
                               .kernel_w = k,
                               .stride_h = s,
                               .stride_w = s,
                               .pad_h = p,
                               .pad_w = p,
                               .dilation_h = 1,
                               .dilation_w = 1};
}

static clseg_status check_desc(clseg_context *ctx, const char *op, const clseg_conv2d_desc *d)
{
    if (d == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: desc is NULL", op);
    const char *bad = d->kernel_h < 1 || d->kernel_w < 1         ? "kernel size below 1"
                      : d->stride_h < 1 || d->stride_w < 1       ? "stride below 1"
                      : d->dilation_h < 1 || d->dilation_w < 1   ? "dilation below 1"
                      : d->pad_h < 0 || d->pad_w < 0             ? "negative padding"
                      : d->transposed != 0 && d->transposed != 1 ? "transposed neither 0 nor 1"
                                                                 : NULL;
    if (bad == NULL && (d->output_pad_h != 0 || d->output_pad_w != 0)) {
        int max_h = d->stride_h > d->dilation_h ? d->stride_h : d->dilation_h;
        int max_w = d->stride_w > d->dilation_w ? d->stride_w : d->dilation_w;
        if (!d->transposed)
            bad = "output padding on a convolution that is not transposed";
        else if (d->output_pad_h < 0 || d->output_pad_w < 0 || d->output_pad_h >= max_h || d->output_pad_w >= max_w)
            bad = "output padding outside [0, max(stride, dilation))";
    }
    if (bad != NULL)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT,
                          "%s: desc has %s (kernel %dx%d, stride %dx%d, pad %dx%d, dilation %dx%d, output pad %dx%d)",
                          op, bad, d->kernel_h, d->kernel_w, d->stride_h, d->stride_w, d->pad_h, d->pad_w,
                          d->dilation_h, d->dilation_w, d->output_pad_h, d->output_pad_w);
    return CLSEG_STATUS_SUCCESS;
}

/* Checks desc, x and w and fills the shared geometry and y's shape. */
static clseg_status geometry(clseg_context *ctx, const char *op, const clseg_conv2d_desc *d, clseg_shape x,
                             clseg_shape w, clseg_conv_geom *g, clseg_shape *y)
{
    clseg_status st = check_desc(ctx, op, d);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_check_shape_valid(ctx, op, "x", x);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_check_shape_valid(ctx, op, "w", w);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    char a[96], b[96];
    int64_t in_ch = d->transposed ? w.n : w.c;
    if (in_ch != x.c || w.h != d->kernel_h || w.w != d->kernel_w)
        return clseg_fail(ctx, CLSEG_STATUS_SHAPE_MISMATCH,
                          "%s: w is %s; x %s and a %dx%d kernel need %s (%s channels, kernel_h, kernel_w)", op,
                          clseg_shape_str(w, a, sizeof a), clseg_shape_str(x, b, sizeof b), d->kernel_h, d->kernel_w,
                          d->transposed ? "(C_in, C_out, ...)" : "(K, C, ...)",
                          d->transposed ? "C_in = x's" : "C = x's");
    int64_t span_h = (int64_t)d->dilation_h * (d->kernel_h - 1), span_w = (int64_t)d->dilation_w * (d->kernel_w - 1);
    *g = (clseg_conv_geom){.n = x.n,
                           .kh = d->kernel_h,
                           .kw = d->kernel_w,
                           .sh = d->stride_h,
                           .sw = d->stride_w,
                           .ph = d->pad_h,
                           .pw = d->pad_w,
                           .dh = d->dilation_h,
                           .dw = d->dilation_w};
    if (!d->transposed) {
        int64_t rh = x.h + 2 * (int64_t)d->pad_h - span_h - 1, rw = x.w + 2 * (int64_t)d->pad_w - span_w - 1;
        g->c = x.c, g->h = x.h, g->w = x.w, g->k = w.n;
        g->ho = rh < 0 ? 0 : rh / d->stride_h + 1;
        g->wo = rw < 0 ? 0 : rw / d->stride_w + 1;
        *y = (clseg_shape){x.n, w.n, g->ho, g->wo};
    } else {
        g->k = x.c, g->ho = x.h, g->wo = x.w, g->c = w.c;
        g->h = (x.h - 1) * d->stride_h - 2 * (int64_t)d->pad_h + span_h + d->output_pad_h + 1;
        g->w = (x.w - 1) * d->stride_w - 2 * (int64_t)d->pad_w + span_w + d->output_pad_w + 1;
        *y = (clseg_shape){x.n, w.c, g->h < 0 ? 0 : g->h, g->w < 0 ? 0 : g->w};
    }
    if (y->h < 1 || y->w < 1)
        return clseg_fail(ctx, CLSEG_STATUS_SHAPE_MISMATCH,
                          "%s: x %s gives an empty output (%lldx%lld) with kernel %dx%d, stride %dx%d, pad %dx%d, "
                          "dilation %dx%d",
                          op, clseg_shape_str(x, a, sizeof a), (long long)y->h, (long long)y->w, d->kernel_h,
                          d->kernel_w, d->stride_h, d->stride_w, d->pad_h, d->pad_w, d->dilation_h, d->dilation_w);
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_conv2d_output_shape(const clseg_conv2d_desc *desc, clseg_shape x, clseg_shape w, clseg_shape *y)
{
    clseg_conv_geom g;
    clseg_shape out;
    if (y == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    clseg_status st = geometry(NULL, "clseg_conv2d_output_shape", desc, x, w, &g, &out);
    if (st == CLSEG_STATUS_SUCCESS)
        *y = out;
    return st;
}

/* Elements per image of the im2col buffer; on the reference, 0 for a pointwise kernel, which
 * needs none (an OpenCL device may still want room for packed copies). */
static int64_t col_elems(const clseg_context *ctx, const clseg_conv_geom *g)
{
    if (ctx != NULL && ctx->device.type != CLSEG_DEVICE_TYPE_REF)
        return clseg_ocl_conv_col_elems(ctx, g);
    return clseg_conv_is_pointwise(g) ? 0 : clseg_conv_col_rows(g) * clseg_conv_col_cols(g);
}

/* Images per chunk of the im2col buffer: depends only on the shapes, the device and the
 * context's memory limit, never on timing. */
static int64_t col_images(const clseg_context *ctx, const clseg_conv_geom *g)
{
    uint64_t per_image = (uint64_t)col_elems(ctx, g) * sizeof(float);
    uint64_t cap = COL_CAP_BYTES;
    if (ctx != NULL && ctx->device.max_alloc_bytes > 0 && ctx->device.max_alloc_bytes / 2 < cap)
        cap = ctx->device.max_alloc_bytes / 2;
    if (ctx != NULL && ctx->memory_limit > 0 && ctx->memory_limit / 4 < cap)
        cap = ctx->memory_limit / 4;
    uint64_t images = per_image > 0 ? cap / per_image : 1;
    return images < 1 ? 1 : (images > (uint64_t)g->n ? g->n : (int64_t)images);
}

/* im2col chunk, then the bias gradient's partial sums, then the GEMMs' scratch. */
static size_t workspace_bytes(const clseg_context *ctx, const clseg_conv_geom *g)
{
    size_t col = (size_t)col_images(ctx, g) * (size_t)col_elems(ctx, g);
    size_t channels = (size_t)(g->c > g->k ? g->c : g->k);
    size_t gemm =
        ctx != NULL && ctx->device.type != CLSEG_DEVICE_TYPE_REF ? clseg_ocl_conv_gemm_scratch_bytes(ctx, g) : 0;
    return (col + channels * CLSEG_CONV_BIAS_PARTIALS) * sizeof(float) + gemm;
}

size_t clseg_conv2d_workspace_bytes(const clseg_context *ctx, const clseg_conv2d_desc *desc, clseg_shape x,
                                    clseg_shape w)
{
    clseg_conv_geom g;
    clseg_shape y;
    if (geometry(NULL, "clseg_conv2d_workspace_bytes", desc, x, w, &g, &y) != CLSEG_STATUS_SUCCESS)
        return 0;
    return workspace_bytes(ctx, &g);
}

double clseg_conv2d_flops(const clseg_conv2d_desc *desc, clseg_shape x, clseg_shape w)
{
    clseg_conv_geom g;
    clseg_shape y;
    if (geometry(NULL, "clseg_conv2d_flops", desc, x, w, &g, &y) != CLSEG_STATUS_SUCCESS)
        return 0.0;
    /* one multiply-add per (image, K, C, kernel tap, feature pixel), whichever way it runs */
    return 2.0 * (double)g.n * (double)g.k * (double)g.c * (double)(g.kh * g.kw) * (double)(g.ho * g.wo);
}

/* Checks what every call shares: the tensors, the geometry from (x shape, w), y's shape and
 * the workspace. */
static clseg_status prepare(clseg_context *ctx, const char *op, const clseg_conv2d_desc *desc, const char *xn,
                            const clseg_tensor *x, const clseg_tensor *w, const char *yn, const clseg_tensor *y,
                            const clseg_tensor *workspace, clseg_conv_params *p)
{
    clseg_shape ys;
    clseg_status st = CLSEG_CHECK_TENSORS(ctx, op, {xn, x}, {"w", w}, {yn, y});
    if (st == CLSEG_STATUS_SUCCESS)
        st = geometry(ctx, op, desc, x->shape, w->shape, &p->g, &ys);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_check_shape(ctx, op, yn, y, ys);
    if (st == CLSEG_STATUS_SUCCESS && workspace != NULL)
        st = CLSEG_CHECK_TENSORS(ctx, op, {"workspace", workspace});
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_check_workspace(ctx, op, workspace, workspace_bytes(ctx, &p->g));
    p->col_images = col_images(ctx, &p->g);
    p->col_elems = col_elems(ctx, &p->g);
    return st;
}

/* A bias (or its gradient) of `channels` elements, when present. */
static clseg_status check_bias(clseg_context *ctx, const char *op, const char *name, const clseg_tensor *bias,
                               int64_t channels)
{
    if (bias == NULL)
        return CLSEG_STATUS_SUCCESS;
    clseg_status st = CLSEG_CHECK_TENSORS(ctx, op, {name, bias});
    return st != CLSEG_STATUS_SUCCESS ? st : clseg_check_numel(ctx, op, name, bias, (size_t)channels);
}

clseg_status clseg_conv2d_forward(clseg_context *ctx, const clseg_conv2d_desc *desc, const clseg_tensor *x,
                                  const clseg_tensor *w, const clseg_tensor *bias, clseg_tensor *y,
                                  clseg_tensor *workspace)
{
    const char *op = "clseg_conv2d_forward";
    clseg_conv_params p = {.beta = 0.0f};
    clseg_status st = prepare(ctx, op, desc, "x", x, w, "y", y, workspace, &p);
    if (st == CLSEG_STATUS_SUCCESS)
        st = check_bias(ctx, op, "bias", bias, y->shape.c);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    /* a transposed convolution's forward pass is the convolution's backward pass to its input */
    if (desc->transposed)
        return clseg_launch(ctx, &op_backward_data, &p, (clseg_tensor *[]){T(x), T(w), T(bias), y, workspace});
    return clseg_launch(ctx, &op_forward, &p, (clseg_tensor *[]){T(x), T(w), T(bias), y, workspace});
}

clseg_status clseg_conv2d_backward_data(clseg_context *ctx, const clseg_conv2d_desc *desc, const clseg_tensor *dy,
                                        const clseg_tensor *w, clseg_tensor *dx, float beta, clseg_tensor *workspace)
{
    clseg_conv_params p = {.beta = beta};
    clseg_status st = prepare(ctx, "clseg_conv2d_backward_data", desc, "dx", dx, w, "dy", dy, workspace, &p);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    /* and its backward pass to its input is the convolution's forward pass */
    if (desc->transposed)
        return clseg_launch(ctx, &op_forward, &p, (clseg_tensor *[]){T(dy), T(w), NULL, dx, workspace});
    return clseg_launch(ctx, &op_backward_data, &p, (clseg_tensor *[]){T(dy), T(w), NULL, dx, workspace});
}

clseg_status clseg_conv2d_backward_weights(clseg_context *ctx, const clseg_conv2d_desc *desc, const clseg_tensor *x,
                                           const clseg_tensor *dy, clseg_tensor *dw, clseg_tensor *dbias, float beta,
                                           clseg_tensor *workspace)
{
    const char *op = "clseg_conv2d_backward_weights";
    clseg_conv_params p = {.beta = beta};
    clseg_status st = prepare(ctx, op, desc, "x", x, dw, "dy", dy, workspace, &p);
    if (st == CLSEG_STATUS_SUCCESS)
        st = check_bias(ctx, op, "dbias", dbias, dy->shape.c);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    /* the transposed convolution's image side is its output: x and dy swap roles */
    clseg_tensor *image = desc->transposed ? T(dy) : T(x), *feature = desc->transposed ? T(x) : T(dy);
    st = clseg_launch(ctx, &op_backward_weights, &p, (clseg_tensor *[]){image, feature, dw, workspace});
    if (st == CLSEG_STATUS_SUCCESS && dbias != NULL)
        st = clseg_launch(ctx, &op_bias_grad, &p, (clseg_tensor *[]){T(dy), dbias, workspace});
    return st;
}
