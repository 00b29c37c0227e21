/* Convolution on OpenCL as im2col + GEMM (opencl/gemm.h), one image's GEMM at a time over a
 * chunk of images whose im2col matrices share the workspace. A 1x1 stride-1 unpadded kernel
 * skips im2col: the image already is its im2col matrix. */
#include "opencl/conv_packed.h"
#include "opencl/gemm.h"
#include "opencl/ocl.h"
#include "ops/conv.h"

#define PROGRAM "conv"

static cl_mem mem_of(const clseg_tensor *t)
{
    return clseg_tensor_buffer(t)->mem;
}

/* Row-major matrix at element offset off of tensor t's buffer. */
static clseg_ocl_matrix mat(const clseg_tensor *t, size_t off, size_t ld)
{
    return (clseg_ocl_matrix){mem_of(t), t->offset + off, ld};
}

/* The geometry arguments every geometric kernel takes last (GEOM_ARGS in cl/conv.cl). */
#define GEOM_ARGS(g)                                                                                                   \
    CLSEG_ARG_UINT((g)->c), CLSEG_ARG_UINT((g)->h), CLSEG_ARG_UINT((g)->w), CLSEG_ARG_UINT((g)->ho),                   \
        CLSEG_ARG_UINT((g)->wo), CLSEG_ARG_UINT((g)->kh), CLSEG_ARG_UINT((g)->kw), CLSEG_ARG_UINT((g)->sh),            \
        CLSEG_ARG_UINT((g)->sw), CLSEG_ARG_UINT((g)->ph), CLSEG_ARG_UINT((g)->pw), CLSEG_ARG_UINT((g)->dh),            \
        CLSEG_ARG_UINT((g)->dw)

typedef struct sizes {
    size_t rows, cols;     /* one image's im2col matrix: C kh kw x Ho Wo */
    size_t image, feature; /* elements of one image on each side */
    size_t col_images;     /* images per chunk */
} sizes;

static sizes sizes_of_geom(const clseg_conv_geom *g, int64_t col_images)
{
    return (sizes){(size_t)clseg_conv_col_rows(g), (size_t)clseg_conv_col_cols(g), (size_t)(g->c * g->h * g->w),
                   (size_t)(g->k * g->ho * g->wo), (size_t)col_images};
}

static sizes sizes_of(const clseg_conv_params *p)
{
    return sizes_of_geom(&p->g, p->col_images);
}

/* The three products, all row-major with R = C kh kw, P = Ho Wo:
 * forward: feature (K x P) = W (K x R) col (R x P); backward to the image: col (R x P) =
 * W^T dF (K x P); weights: dW (K x R) = dF (K x P) col^T. A 1x1 kernel's col is the image. */
static clseg_ocl_gemm_shape forward_gemm(const sizes *s, size_t k)
{
    return (clseg_ocl_gemm_shape){false, false, k, s->cols, s->rows, s->rows, s->cols, s->cols};
}
static clseg_ocl_gemm_shape data_gemm(const sizes *s, size_t k)
{
    return (clseg_ocl_gemm_shape){true, false, s->rows, s->cols, k, s->rows, s->cols, s->cols};
}
static clseg_ocl_gemm_shape weights_gemm(const sizes *s, size_t k)
{
    return (clseg_ocl_gemm_shape){false, true, k, s->rows, s->cols, s->cols, s->cols, s->rows};
}

size_t clseg_ocl_conv_gemm_scratch_bytes(const clseg_context *ctx, const clseg_conv_geom *g)
{
    sizes s = sizes_of_geom(g, 1);
    clseg_ocl_gemm_shape forward = forward_gemm(&s, (size_t)g->k), data = data_gemm(&s, (size_t)g->k),
                         weights = weights_gemm(&s, (size_t)g->k);
    clseg_context *c = (clseg_context *)ctx;
    /* the products that run, with room to pack all the images' operands for one launch */
    size_t n = (size_t)g->n, most = 0, b[3] = {0, 0, 0};
    if (!clseg_ocl_conv_packed_applies(c, g, false))
        b[0] = clseg_ocl_gemm_batch_scratch_bytes(ctx, &forward, false, true, n);
    if (!clseg_ocl_conv_packed_applies(c, g, true))
        b[1] = clseg_ocl_gemm_batch_scratch_bytes(ctx, &data, false, true, n);
    if (!clseg_ocl_conv_packed_weights_applies(c, g)) {
        size_t plain = clseg_ocl_gemm_scratch_bytes(ctx, &weights), split = clseg_ocl_gemm_split_k_bytes(c, &weights);
        b[2] = split > plain ? split : plain;
    }
    for (size_t i = 0; i < 3; i++)
        most = b[i] > most ? b[i] : most;
    size_t packed = clseg_ocl_conv_packed_scratch_bytes((clseg_context *)ctx, g);
    return packed > most ? packed : most;
}

int64_t clseg_ocl_conv_col_elems(const clseg_context *ctx, const clseg_conv_geom *g)
{
    clseg_context *c = (clseg_context *)ctx;
    /* the im2col matrix only where a product falls back to it: a chunk of fewer images costs
     * launches, and a large buffer costs time of its own */
    bool im2col = !clseg_conv_is_pointwise(g) &&
                  (!clseg_ocl_conv_packed_applies(c, g, false) || !clseg_ocl_conv_packed_applies(c, g, true) ||
                   !clseg_ocl_conv_packed_weights_applies(c, g));
    size_t plain = im2col ? (size_t)(clseg_conv_col_rows(g) * clseg_conv_col_cols(g)) : 0;
    size_t packed = clseg_ocl_conv_packed_col_elems(c, g);
    return (int64_t)(packed > plain ? packed : plain);
}

/* What the workspace holds after the im2col chunk and the bias partials (ops/conv.c). */
static clseg_ocl_scratch gemm_scratch(const clseg_conv_params *p, const clseg_tensor *ws)
{
    size_t used =
        (size_t)(p->col_images * p->col_elems) + (size_t)(p->g.c > p->g.k ? p->g.c : p->g.k) * CLSEG_CONV_BIAS_PARTIALS;
    if (ws == NULL || clseg_tensor_numel(ws) <= used)
        return (clseg_ocl_scratch){NULL, 0, 0};
    return (clseg_ocl_scratch){mem_of(ws), (ws->offset + used) * sizeof(float),
                               (clseg_tensor_numel(ws) - used) * sizeof(float)};
}

/* Every index a kernel computes stays below 2^32. */
static clseg_status check_counts(clseg_context *ctx, const char *op, const clseg_conv_params *p, const sizes *s)
{
    size_t n = (size_t)p->g.n, most = s->rows * s->cols * s->col_images;
    if (n * s->image > most)
        most = n * s->image;
    if (n * s->feature > most)
        most = n * s->feature;
    return clseg_ocl_check_count(ctx, op, most);
}

/* CONV_COL_ROWS (a row or an element per work-item for im2col and col2im) and the
 * element kernels' work-group size. */
static clseg_status col_kernel_choice(clseg_context *ctx, long *rows, long *wg)
{
    clseg_status st = clseg_ocl_tunable(ctx, PROGRAM, "CONV_COL_ROWS", rows);
    return st == CLSEG_STATUS_SUCCESS ? clseg_ocl_tunable(ctx, PROGRAM, "CONV_WG", wg) : st;
}

static clseg_status im2col(clseg_context *ctx, const clseg_conv_params *p, const sizes *s, const clseg_tensor *img,
                           size_t first, size_t images, const clseg_tensor *ws)
{
    clseg_status st = clseg_ocl_check_count(ctx, "im2col", images * s->rows * s->cols);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    long rows = 0, wg = 0;
    st = col_kernel_choice(ctx, &rows, &wg);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    clseg_ocl_arg args[] = {CLSEG_ARG_MEM(img), CLSEG_ARG_UINT(img->offset + first * s->image), CLSEG_ARG_TENSOR(ws),
                            CLSEG_ARG_UINT(images), GEOM_ARGS(&p->g)};
    if (rows == 1) {
        size_t global[3] = {(size_t)p->g.ho, s->rows, images};
        return clseg_ocl_run(ctx, PROGRAM, "im2col", args, CLSEG_NARGS(args), 3, global, NULL);
    }
    size_t global[3] = {s->cols, s->rows, images}, local[3] = {(size_t)wg, 1, 1};
    return clseg_ocl_run(ctx, PROGRAM, "im2col_elems", args, CLSEG_NARGS(args), 3, global, local);
}

static clseg_status col2im(clseg_context *ctx, const clseg_conv_params *p, const sizes *s, const clseg_tensor *ws,
                           const clseg_tensor *img, const clseg_tensor *bias, size_t first, size_t images)
{
    clseg_status st = clseg_ocl_check_count(ctx, "col2im", images * s->image);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    const clseg_tensor *b = bias != NULL ? bias : img; /* a valid buffer the kernel ignores */
    clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(ws),
                            CLSEG_ARG_MEM(img),
                            CLSEG_ARG_UINT(img->offset + first * s->image),
                            CLSEG_ARG_TENSOR(b),
                            CLSEG_ARG_UINT(bias != NULL),
                            CLSEG_ARG_FLOAT(p->beta),
                            CLSEG_ARG_UINT(images),
                            GEOM_ARGS(&p->g)};
    const clseg_conv_geom *g = &p->g;
    if (g->sh == 2 && g->sw == 2 && g->dh == 1 && g->dw == 1 && g->w % 16 == 0) {
        size_t tiles[3] = {(size_t)g->w / 16, (size_t)g->h, (size_t)g->c * images};
        return clseg_ocl_run(ctx, PROGRAM, "col2im_s2", args, CLSEG_NARGS(args), 3, tiles, NULL);
    }
    long rows = 0, wg = 0;
    st = col_kernel_choice(ctx, &rows, &wg);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    if (rows == 1) {
        size_t global[3] = {(size_t)g->h, (size_t)g->c, images};
        return clseg_ocl_run(ctx, PROGRAM, "col2im", args, CLSEG_NARGS(args), 3, global, NULL);
    }
    size_t global[3] = {(size_t)g->h * (size_t)g->w, (size_t)g->c, images}, local[3] = {(size_t)wg, 1, 1};
    return clseg_ocl_run(ctx, PROGRAM, "col2im_elems", args, CLSEG_NARGS(args), 3, global, local);
}

/* y (N, channels, hw) = beta y + bias per channel. */
static clseg_status bias_fill(clseg_context *ctx, const clseg_tensor *y, const clseg_tensor *bias, float beta)
{
    size_t total = clseg_tensor_numel(y), hw = (size_t)(y->shape.h * y->shape.w);
    clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(y), CLSEG_ARG_TENSOR(bias), CLSEG_ARG_UINT(y->shape.c),
                            CLSEG_ARG_UINT(hw),  CLSEG_ARG_FLOAT(beta),  CLSEG_ARG_UINT(total)};
    return clseg_ocl_run_1d(ctx, PROGRAM, "bias_fill", "CONV_WG", args, CLSEG_NARGS(args), total);
}

/* {image, weights, bias or NULL, feature, workspace}: feature = beta feature + W im2col(image) + bias */
clseg_status clseg_ocl_conv_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    const clseg_conv_params *p = params;
    sizes s = sizes_of(p);
    size_t n = (size_t)p->g.n, k = (size_t)p->g.k;
    clseg_tensor *img = t[0], *w = t[1], *bias = t[2], *feat = t[3], *ws = t[4];
    clseg_status st = check_counts(ctx, "conv2d.forward", p, &s);
    clseg_ocl_gemm_shape shape = forward_gemm(&s, k);
    clseg_ocl_scratch scratch = gemm_scratch(p, ws);
    if (st == CLSEG_STATUS_SUCCESS && clseg_ocl_conv_packed_applies(ctx, &p->g, false))
        return clseg_ocl_conv_packed_run(ctx, p, false, img, w, bias, feat, ws, scratch);
    float gemm_beta = p->beta;
    if (st == CLSEG_STATUS_SUCCESS && bias != NULL) {
        st = bias_fill(ctx, feat, bias, p->beta);
        gemm_beta = 1.0f;
    }
    if (clseg_conv_is_pointwise(&p->g)) {
        return st == CLSEG_STATUS_SUCCESS
                   ? clseg_ocl_gemm_batched(ctx, &shape, 1.0f, mat(w, 0, s.rows), 0, mat(img, 0, s.cols), s.image,
                                            gemm_beta, mat(feat, 0, s.cols), s.feature, n, scratch)
                   : st;
    }
    for (size_t first = 0; st == CLSEG_STATUS_SUCCESS && first < n; first += s.col_images) {
        size_t images = n - first < s.col_images ? n - first : s.col_images;
        st = im2col(ctx, p, &s, img, first, images, ws);
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_ocl_gemm_batched(ctx, &shape, 1.0f, mat(w, 0, s.rows), 0, mat(ws, 0, s.cols), s.rows * s.cols,
                                        gemm_beta, mat(feat, first * s.feature, s.cols), s.feature, images, scratch);
    }
    return st;
}

/* {feature, weights, bias or NULL, image, workspace}: image = beta image + col2im(W^T feature) + bias */
clseg_status clseg_ocl_conv_backward_data(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    const clseg_conv_params *p = params;
    sizes s = sizes_of(p);
    size_t n = (size_t)p->g.n, k = (size_t)p->g.k;
    clseg_tensor *feat = t[0], *w = t[1], *bias = t[2], *img = t[3], *ws = t[4];
    clseg_status st = check_counts(ctx, "conv2d.backward_data", p, &s);
    clseg_ocl_gemm_shape shape = data_gemm(&s, k);
    clseg_ocl_scratch scratch = gemm_scratch(p, ws);
    if (st == CLSEG_STATUS_SUCCESS && clseg_ocl_conv_packed_applies(ctx, &p->g, true))
        return clseg_ocl_conv_packed_data(ctx, p, feat, w, bias, img, ws, scratch);
    if (clseg_conv_is_pointwise(&p->g)) {
        float gemm_beta = p->beta;
        if (st == CLSEG_STATUS_SUCCESS && bias != NULL) {
            st = bias_fill(ctx, img, bias, p->beta);
            gemm_beta = 1.0f;
        }
        return st == CLSEG_STATUS_SUCCESS
                   ? clseg_ocl_gemm_batched(ctx, &shape, 1.0f, mat(w, 0, s.rows), 0, mat(feat, 0, s.cols), s.feature,
                                            gemm_beta, mat(img, 0, s.cols), s.image, n, scratch)
                   : st;
    }
    for (size_t first = 0; st == CLSEG_STATUS_SUCCESS && first < n; first += s.col_images) {
        size_t images = n - first < s.col_images ? n - first : s.col_images;
        st = clseg_ocl_gemm_batched(ctx, &shape, 1.0f, mat(w, 0, s.rows), 0, mat(feat, first * s.feature, s.cols),
                                    s.feature, 0.0f, mat(ws, 0, s.cols), s.rows * s.cols, images, scratch);
        if (st == CLSEG_STATUS_SUCCESS)
            st = col2im(ctx, p, &s, ws, img, bias, first, images);
    }
    return st;
}

/* {image, feature_grad, dweights, workspace}: dW = beta dW + sum over images of dF im2col(image)^T,
 * image after image, so the order of the sum is fixed. */
clseg_status clseg_ocl_conv_backward_weights(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    const clseg_conv_params *p = params;
    sizes s = sizes_of(p);
    size_t n = (size_t)p->g.n, k = (size_t)p->g.k;
    clseg_tensor *img = t[0], *fgrad = t[1], *dw = t[2], *ws = t[3];
    clseg_status st = check_counts(ctx, "conv2d.backward_weights", p, &s);
    clseg_ocl_gemm_shape shape = weights_gemm(&s, k);
    clseg_ocl_scratch scratch = gemm_scratch(p, ws);
    bool pointwise = clseg_conv_is_pointwise(&p->g);
    if (st == CLSEG_STATUS_SUCCESS && clseg_ocl_conv_packed_weights_applies(ctx, &p->g))
        return clseg_ocl_conv_packed_weights(ctx, p, img, fgrad, dw, ws, scratch);
    for (size_t first = 0; st == CLSEG_STATUS_SUCCESS && first < n; first += s.col_images) {
        size_t images = n - first < s.col_images ? n - first : s.col_images;
        if (!pointwise)
            st = im2col(ctx, p, &s, img, first, images, ws);
        for (size_t b = 0; st == CLSEG_STATUS_SUCCESS && b < images; b++) {
            clseg_ocl_matrix col =
                pointwise ? mat(img, (first + b) * s.image, s.cols) : mat(ws, b * s.rows * s.cols, s.cols);
            st = clseg_ocl_gemm_split_k(ctx, &shape, 1.0f, mat(fgrad, (first + b) * s.feature, s.cols), col,
                                        first + b == 0 ? p->beta : 1.0f, mat(dw, 0, s.rows), scratch);
        }
    }
    return st;
}

/* {grad, dbias, workspace}: dbias = beta dbias + per-channel sums of grad, in two stages whose
 * grouping depends only on the shape and CONV_REDUCE_WG. The partials sit after the im2col
 * chunk in the workspace. */
clseg_status clseg_ocl_conv_bias_grad(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    const clseg_conv_params *p = params;
    clseg_tensor *grad = t[0], *dbias = t[1], *ws = t[2];
    size_t channels = (size_t)grad->shape.c, hw = (size_t)(grad->shape.h * grad->shape.w);
    size_t count = (size_t)grad->shape.n * hw;
    long wg = 0, serial = 0;
    clseg_status st = clseg_ocl_check_count(ctx, "conv2d.bias_grad", clseg_tensor_numel(grad));
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_tunable(ctx, PROGRAM, "CONV_REDUCE_WG", &wg);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_tunable(ctx, PROGRAM, "CONV_REDUCE_SERIAL", &serial);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    /* serial: shares of 16384 values, enough work-items for the cores and few partials */
    size_t local = (size_t)wg, groups = serial == 1 ? count / 16384 : (count + local - 1) / local;
    groups = groups < 1 ? 1 : groups > CLSEG_CONV_BIAS_PARTIALS ? CLSEG_CONV_BIAS_PARTIALS : groups;
    size_t partials = ws->offset + (size_t)(p->col_images * p->col_elems);
    size_t global1[2] = {groups * local, channels}, global2[2] = {local, channels}, lsize[2] = {local, 1};
    clseg_ocl_arg stage1[] = {CLSEG_ARG_TENSOR(grad), CLSEG_ARG_UINT(channels), CLSEG_ARG_UINT(hw),
                              CLSEG_ARG_UINT(count),  CLSEG_ARG_MEM(ws),        CLSEG_ARG_UINT(partials)};
    if (serial == 1) {
        size_t shares[2] = {groups, channels}, one[2] = {1, 1};
        st = clseg_ocl_run(ctx, PROGRAM, "channel_sum_serial", stage1, CLSEG_NARGS(stage1), 2, shares, one);
    } else {
        st = clseg_ocl_run(ctx, PROGRAM, "channel_sum_partial", stage1, CLSEG_NARGS(stage1), 2, global1, lsize);
    }
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    clseg_ocl_arg stage2[] = {CLSEG_ARG_MEM(ws), CLSEG_ARG_UINT(partials), CLSEG_ARG_UINT(groups),
                              CLSEG_ARG_TENSOR(dbias), CLSEG_ARG_FLOAT(p->beta)};
    return clseg_ocl_run(ctx, PROGRAM, "channel_sum_final", stage2, CLSEG_NARGS(stage2), 2, global2, lsize);
}
