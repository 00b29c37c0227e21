#include "opencl/conv_packed.h"

#include <stdio.h>

#include "opencl/ocl.h"

enum { NR = 16, ALIGN = 16 /* floats */, WGRAD_K = 2, DECONV_MR = 12, DECONV3_MR = 12 /* as in cl/conv.cl */ };

static size_t round_up(size_t v, size_t to)
{
    return (v + to - 1) / to * to;
}

/* Convolutions onto at most NARROW_MR channels (a classifier, the input layer's gradient)
 * take panels that narrow, with NARROW_NV vectors of outputs per work-item instead. */
enum { NARROW_MR = 4, NARROW_NV = 4 };

/* The implicit GEMM of a convolution (cl/conv.cl): panels of mr output channels times tiles of
 * 16 outputs along a row, reading a zero-padded copy of the image. */
typedef struct implicit_conv {
    unsigned mr, nv;      /* mr channels x 16 nv outputs per work-item */
    unsigned lanes;       /* the channels a narrow 3x3 panel computes (cl/conv.cl); else mr */
    unsigned rpt;         /* output rows per 16-output tile: 1, or 2 and 4 for rows 8 and 4 wide */
    size_t rows;          /* R = C KH KW */
    size_t panels, tiles; /* channel panels; 16-output tiles per output row */
    size_t hp, wp;        /* the padded planes: every row and column a tile's loads reach */
    size_t padded_elems;  /* per image */
    size_t weight_elems;  /* the packed weights, rounded to ALIGN */
} implicit_conv;

static implicit_conv plan_conv(clseg_context *ctx, const clseg_conv_geom *g)
{
    implicit_conv ic;
    static const unsigned tiles[][2] = {{16, 1}, {24, 1}, {8, 2}, {12, 2}};
    long tile = 0;
    if (clseg_ocl_tunable(ctx, "conv", "CONV_TILE", &tile) != CLSEG_STATUS_SUCCESS || tile < 0 || tile > 4)
        tile = 0;
    ic.rpt = g->wo < NR ? (unsigned)(NR / g->wo) : 1;
    bool narrow = tile == 0 && g->k <= NARROW_MR && g->wo >= NR * NARROW_NV;
    if (narrow) {
        /* a panel of 16 channels would leave 12 or more of every 16 FMAs unused */
        ic.mr = NARROW_MR;
        ic.nv = NARROW_NV;
    } else if (tile == 0 || ic.rpt > 1) {
        ic.mr = clseg_ocl_gemm_panel_height(ctx, (size_t)g->k);
        ic.nv = 1;
    } else {
        ic.mr = tiles[tile - 1][0];
        ic.nv = tiles[tile - 1][1];
    }
    ic.lanes = narrow ? (unsigned)g->k : ic.mr; /* 1 of 4 for a classifier */
    ic.rows = (size_t)clseg_conv_col_rows(g);
    ic.panels = ((size_t)g->k + ic.mr - 1) / ic.mr;
    ic.tiles = ((size_t)g->wo + NR * ic.nv - 1) / (NR * ic.nv);
    ic.hp = (size_t)((g->ho - 1) * g->sh + (g->kh - 1) * g->dh + 1);
    /* a stride-2 vector takes 32 values; a tile of several rows only the rows' own */
    ic.wp = (ic.rpt > 1 ? (size_t)g->wo : ic.tiles * NR * ic.nv) * (size_t)g->sw + (size_t)((g->kw - 1) * g->dw);
    ic.padded_elems = (size_t)g->c * ic.hp * ic.wp;
    ic.weight_elems = round_up(ic.panels * ic.mr * ic.rows, ALIGN);
    return ic;
}

/* Rows of 16 outputs or more (stride 1 or 2), or rows of 8 or 4 taken 2 or 4 at a time (stride
 * 1); other widths would waste most of a tile. */
static bool rows_fit(const clseg_conv_geom *g)
{
    if (g->wo >= NR)
        return g->sw == 1 || g->sw == 2;
    return (g->wo == 8 || g->wo == 4) && g->sw == 1 && g->ho % (NR / g->wo) == 0;
}

static bool implicit_fits(const clseg_conv_geom *g)
{
    return rows_fit(g) && !clseg_conv_is_pointwise(g);
}

/* The implicit weight gradient where it beats one matrix product over all the images (measured
 * with `clseg bench ops` on PoCL): 3x3 taps, whole 16-output vectors per row, and enough outputs
 * that a work-item's sums outweigh its set-up (8 images of 32x32 and more: 125 against 100-115
 * GFLOP/s; of 16x16: 118 against 150-180). 2x2 stride-2 kernels load twice per vector and lose
 * at every size (24-34 against 70-110). */
static bool implicit_weights_fit(const clseg_conv_geom *g)
{
    return g->kh == 3 && g->kw == 3 && (g->wo % NR == 0 || g->wo < NR) && rows_fit(g) && g->n * g->ho * g->wo >= 8192;
}

/* The stride-1 convolution that backward_data is: from the feature side (K, Ho, Wo) to the
 * image side (C, H, W), padded so that every tap that met a pixel meets it again. */
static bool gradient_geom(const clseg_conv_geom *g, clseg_conv_geom *out)
{
    int64_t ph = g->dh * (g->kh - 1) - g->ph, pw = g->dw * (g->kw - 1) - g->pw;
    if (g->sh != 1 || g->sw != 1 || ph < 0 || pw < 0)
        return false;
    *out = (clseg_conv_geom){g->n, g->k, g->ho, g->wo, g->c, g->h, g->w, g->kh, g->kw, 1, 1, ph, pw, g->dh, g->dw};
    return g->ho + 2 * ph - g->dh * (g->kh - 1) == g->h && g->wo + 2 * pw - g->dw * (g->kw - 1) == g->w;
}

/* The weight gradient dW (K x R) = sum over images of dF (K x P) col^T (P x R), as one product
 * whose k runs over the pixels of every image of a chunk: the im2col rows and the feature
 * gradient's rows are both written as panels over that k. */
typedef struct packed_weights {
    clseg_ocl_packing plan;
    size_t rows, pixels;        /* R and P */
    unsigned col_width;         /* panel width on the im2col side */
    unsigned grad_width;        /* ... and on the feature-gradient side */
    size_t col_rows, grad_rows; /* R and K rounded up to whole panels */
} packed_weights;

static packed_weights plan_weights(clseg_context *ctx, const clseg_conv_geom *g)
{
    packed_weights pw;
    pw.rows = (size_t)clseg_conv_col_rows(g);
    pw.pixels = (size_t)clseg_conv_col_cols(g);
    clseg_ocl_gemm_shape shape = {false, true, (size_t)g->k, pw.rows, pw.pixels, pw.pixels, pw.pixels, pw.rows};
    pw.plan = clseg_ocl_gemm_plan(ctx, &shape);
    pw.col_width = pw.plan.swapped ? pw.plan.mr : NR;
    pw.grad_width = pw.plan.swapped ? NR : pw.plan.mr;
    pw.col_rows = round_up(pw.rows, pw.col_width);
    pw.grad_rows = round_up((size_t)g->k, pw.grad_width);
    return pw;
}

/* U-Net's up-convolution: backward_data of a 2x2 stride-2 kernel without padding, feature rows
 * of whole 16-value vectors. */
static bool deconv2_fits(const clseg_conv_geom *g)
{
    return g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && g->ph == 0 && g->pw == 0 && g->dh == 1 &&
           g->dw == 1 && g->h == 2 * g->ho && g->w == 2 * g->wo && g->wo % NR == 0;
}

/* LinkNet's transposed convolutions and the gradients of 3x3 stride-2 layers: backward_data of
 * a 3x3 stride-2 kernel with padding 1 onto twice the feature size, feature rows of whole
 * 16-value vectors. */
static bool deconv3s2_fits(const clseg_conv_geom *g)
{
    return g->kh == 3 && g->kw == 3 && g->sh == 2 && g->sw == 2 && g->ph == 1 && g->pw == 1 && g->dh == 1 &&
           g->dw == 1 && g->h == 2 * g->ho && g->w == 2 * g->wo && g->wo % NR == 0;
}

/* The transposed convolutions with kernels of their own (cl/conv.cl), which share their
 * arguments: U-Net's 2x2 and LinkNet's 3x3 at stride 2. */
typedef struct transposed_kernel {
    const char *pack, *run;
    size_t mr;     /* image channels per panel */
    size_t taps;   /* weights per (panel row, feature channel) */
    size_t pack_z; /* the packing grid's third dimension */
} transposed_kernel;

static const transposed_kernel deconv2_kernel = {"pack_deconv2_weights", "deconv2_forward", DECONV_MR, 4, 2};
static const transposed_kernel deconv3s2_kernel = {"pack_deconv3s2_weights", "deconv3s2_forward", DECONV3_MR, 9, 1};

static size_t transposed_weight_elems(const transposed_kernel *tk, const clseg_conv_geom *g)
{
    return ((size_t)g->c + tk->mr - 1) / tk->mr * (size_t)g->k * tk->taps * tk->mr;
}

/* The implicit weight gradient of images whose planes are this large (and of 16 channels or
 * more) runs a grid of work-items per image, each summing into a partial gradient of its own,
 * added afterwards: an image's planes then stay in cache while the neighbouring work-items
 * (the other output channels) read them again. Faster by 10-20% at 64x64 and 12-17% at 32x32
 * (PoCL, 8 images); at 16x16 adding the partial sums costs what the cache saves. Planes of
 * WGRAD_SPLIT_ALL_PIXELS and more split whatever their channels: unsplit, the 48 work-items of
 * U-Net's first layer (3 channels) stream the whole batch's planes from memory once per pair of
 * output channels: its kernel took 11.0 ms a call at 256x256 instead of 9.3 split (medians of 8
 * runs in turns); at 128x128 split was slower (2.1 against 1.8). */
#define WGRAD_SPLIT_PIXELS 1024
#define WGRAD_SPLIT_ALL_PIXELS 65536

static size_t wgrad_partials(const clseg_conv_geom *g)
{
    int64_t pixels = g->ho * g->wo;
    bool split = (pixels >= WGRAD_SPLIT_PIXELS && g->c >= 16) || pixels >= WGRAD_SPLIT_ALL_PIXELS;
    return split && g->n > 1 ? (size_t)g->n * (size_t)(g->k * clseg_conv_col_rows(g)) : 0;
}

bool clseg_ocl_conv_packed_applies(clseg_context *ctx, const clseg_conv_geom *g, bool gradient)
{
    clseg_conv_geom gg;
    if (clseg_conv_is_pointwise(g) || !clseg_ocl_gemm_is_packed(ctx))
        return false;
    return gradient ? deconv2_fits(g) || deconv3s2_fits(g) || (gradient_geom(g, &gg) && implicit_fits(&gg))
                    : implicit_fits(g);
}

/* The weight gradient's path: every convolution (a pointwise one packs the images themselves). */
bool clseg_ocl_conv_packed_weights_applies(clseg_context *ctx, const clseg_conv_geom *g)
{
    (void)g;
    return clseg_ocl_gemm_is_packed(ctx);
}

size_t clseg_ocl_conv_packed_col_elems(clseg_context *ctx, const clseg_conv_geom *g)
{
    size_t most = 0;
    clseg_conv_geom gg;
    if (clseg_ocl_conv_packed_applies(ctx, g, false))
        most = plan_conv(ctx, g).padded_elems;
    if (clseg_ocl_conv_packed_applies(ctx, g, true) && gradient_geom(g, &gg)) {
        size_t e = plan_conv(ctx, &gg).padded_elems;
        most = e > most ? e : most;
    }
    if (clseg_ocl_conv_packed_weights_applies(ctx, g)) {
        packed_weights pw = plan_weights(ctx, g);
        size_t e = implicit_weights_fit(g) ? plan_conv(ctx, g).padded_elems : (pw.col_rows + pw.grad_rows) * pw.pixels;
        most = e > most ? e : most;
    }
    return most;
}

size_t clseg_ocl_conv_packed_scratch_bytes(clseg_context *ctx, const clseg_conv_geom *g)
{
    size_t elems = 0;
    clseg_conv_geom gg;
    if (clseg_ocl_conv_packed_applies(ctx, g, false))
        elems = plan_conv(ctx, g).weight_elems;
    if (clseg_ocl_conv_packed_applies(ctx, g, true) && gradient_geom(g, &gg)) {
        size_t e = plan_conv(ctx, &gg).weight_elems;
        elems = e > elems ? e : elems;
    }
    if (clseg_ocl_conv_packed_weights_applies(ctx, g) && implicit_weights_fit(g)) {
        size_t e = wgrad_partials(g);
        elems = e > elems ? e : elems;
    }
    if (clseg_ocl_conv_packed_weights_applies(ctx, g) && !implicit_weights_fit(g)) {
        /* the partial products of a split k: a whole batch's k needs the most */
        packed_weights pw = plan_weights(ctx, g);
        size_t e = clseg_ocl_gemm_split_elems(&pw.plan, (size_t)g->n * pw.pixels, pw.rows);
        elems = e > elems ? e : elems;
    }
    if (clseg_ocl_conv_packed_applies(ctx, g, true) && (deconv2_fits(g) || deconv3s2_fits(g))) {
        size_t e = round_up(transposed_weight_elems(deconv2_fits(g) ? &deconv2_kernel : &deconv3s2_kernel, g), ALIGN);
        elems = e > elems ? e : elems;
    }
    return elems == 0 ? 0 : (elems + ALIGN) * sizeof(float);
}

#define GEOM_ARGS(g)                                                                                                   \
    CLSEG_ARG_UINT((g)->c), CLSEG_ARG_UINT((g)->h), CLSEG_ARG_UINT((g)->w), CLSEG_ARG_UINT((g)->ho),                   \
        CLSEG_ARG_UINT((g)->wo), CLSEG_ARG_UINT((g)->kh), CLSEG_ARG_UINT((g)->kw), CLSEG_ARG_UINT((g)->sh),            \
        CLSEG_ARG_UINT((g)->sw), CLSEG_ARG_UINT((g)->ph), CLSEG_ARG_UINT((g)->pw), CLSEG_ARG_UINT((g)->dh),            \
        CLSEG_ARG_UINT((g)->dw)

/* The gradient convolution's packed weights, flipped and transposed from w in one pass. */
static clseg_status pack_flipped_weights(clseg_context *ctx, const clseg_conv_geom *g, const implicit_conv *ic,
                                         const clseg_tensor *w, clseg_ocl_panels dst)
{
    clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(w),   {sizeof(cl_mem), &dst.mem}, CLSEG_ARG_UINT(dst.offset),
                            CLSEG_ARG_UINT(g->k),  CLSEG_ARG_UINT(g->c),       CLSEG_ARG_UINT(g->kh * g->kw),
                            CLSEG_ARG_UINT(ic->mr)};
    size_t global[2] = {(size_t)(g->k * g->kh * g->kw), ic->panels};
    return clseg_ocl_run(ctx, "conv", "pack_flipped_weights", args, CLSEG_NARGS(args), 2, global, NULL);
}

/* Copies images [first, first + images) of src into the workspace's col region, zero-padded
 * to ic's planes. */
static clseg_status pad_images(clseg_context *ctx, const clseg_conv_geom *g, const implicit_conv *ic,
                               const clseg_tensor *src, size_t first, size_t images, const clseg_tensor *ws)
{
    size_t image = (size_t)(g->c * g->h * g->w);
    clseg_ocl_arg args[] = {CLSEG_ARG_MEM(src),
                            CLSEG_ARG_UINT(src->offset + first * image),
                            CLSEG_ARG_MEM(ws),
                            CLSEG_ARG_UINT(ws->offset),
                            CLSEG_ARG_UINT(ic->hp),
                            CLSEG_ARG_UINT(ic->wp),
                            CLSEG_ARG_UINT(images * (size_t)g->c),
                            CLSEG_ARG_UINT(g->h),
                            CLSEG_ARG_UINT(g->w),
                            CLSEG_ARG_UINT(g->ph),
                            CLSEG_ARG_UINT(g->pw)};
    if (g->pw == 0) { /* rows copied vector for vector; pad_rows takes no PW */
        size_t rows[2] = {ic->hp, images * (size_t)g->c};
        return clseg_ocl_run(ctx, "conv", "pad_rows", args, CLSEG_NARGS(args) - 1, 2, rows, NULL);
    }
    size_t global[3] = {ic->wp, ic->hp, images * (size_t)g->c};
    return clseg_ocl_run(ctx, "conv", "pad_images", args, CLSEG_NARGS(args), 3, global, NULL);
}

/* image = beta image + the transposed convolution of feat (+ bias): no col matrix. */
static clseg_status transposed(clseg_context *ctx, const transposed_kernel *tk, const clseg_conv_geom *g,
                               const clseg_tensor *feat, const clseg_tensor *w, const clseg_tensor *bias,
                               const clseg_tensor *img, float beta, clseg_ocl_scratch scratch)
{
    size_t panels = ((size_t)g->c + tk->mr - 1) / tk->mr, start = round_up(scratch.offset / sizeof(float), ALIGN);
    clseg_status st = (start + transposed_weight_elems(tk, g)) * sizeof(float) <= scratch.offset + scratch.bytes
                          ? CLSEG_STATUS_SUCCESS
                          : clseg_fail(ctx, CLSEG_STATUS_INTERNAL, "conv2d: the workspace has no room for the weights");
    clseg_ocl_arg pack[] = {CLSEG_ARG_TENSOR(w),  {sizeof(cl_mem), &scratch.mem}, CLSEG_ARG_UINT(start),
                            CLSEG_ARG_UINT(g->k), CLSEG_ARG_UINT(g->c),           CLSEG_ARG_UINT(panels)};
    size_t pack_global[3] = {(size_t)g->k, panels, tk->pack_z};
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_run(ctx, "conv", tk->pack, pack, CLSEG_NARGS(pack), 3, pack_global, NULL);
    const clseg_tensor *b = bias != NULL ? bias : img; /* a valid buffer the kernel ignores */
    clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(feat),       {sizeof(cl_mem), &scratch.mem}, CLSEG_ARG_UINT(start),
                            CLSEG_ARG_UINT(panels),       CLSEG_ARG_TENSOR(img),          CLSEG_ARG_TENSOR(b),
                            CLSEG_ARG_UINT(bias != NULL), CLSEG_ARG_FLOAT(beta),          CLSEG_ARG_UINT(g->c),
                            CLSEG_ARG_UINT(g->k),         CLSEG_ARG_UINT(g->ho),          CLSEG_ARG_UINT(g->wo)};
    size_t global[3] = {(size_t)g->wo / NR, (size_t)g->h, (size_t)g->n * panels}, one[3] = {1, 1, 1};
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_run(ctx, "conv", tk->run, args, CLSEG_NARGS(args), 3, global, one);
    return st;
}

clseg_status clseg_ocl_conv_packed_data(clseg_context *ctx, const clseg_conv_params *p, const clseg_tensor *feat,
                                        const clseg_tensor *w, const clseg_tensor *bias, const clseg_tensor *img,
                                        const clseg_tensor *ws, clseg_ocl_scratch scratch)
{
    if (deconv2_fits(&p->g) || deconv3s2_fits(&p->g))
        return transposed(ctx, deconv2_fits(&p->g) ? &deconv2_kernel : &deconv3s2_kernel, &p->g, feat, w, bias, img,
                          p->beta, scratch);
    return clseg_ocl_conv_packed_run(ctx, p, true, feat, w, bias, img, ws, scratch);
}

clseg_status clseg_ocl_conv_packed_run(clseg_context *ctx, const clseg_conv_params *p, bool gradient,
                                       const clseg_tensor *src, const clseg_tensor *w, const clseg_tensor *bias,
                                       const clseg_tensor *out, const clseg_tensor *ws, clseg_ocl_scratch scratch)
{
    float beta = p->beta;
    const clseg_tensor *bias_buf = bias != NULL ? bias : out; /* a valid buffer the kernel ignores */
    clseg_conv_geom g = p->g;
    if (gradient && !gradient_geom(&p->g, &g))
        return clseg_fail(ctx, CLSEG_STATUS_INTERNAL, "conv2d.backward_data: no stride-1 gradient convolution");
    implicit_conv ic = plan_conv(ctx, &g);
    size_t start = round_up(scratch.offset / sizeof(float), ALIGN);
    size_t feature = (size_t)(g.k * g.ho * g.wo);
    clseg_ocl_matrix weights = {clseg_tensor_buffer(w)->mem, w->offset, ic.rows};
    clseg_status st =
        (start + ic.weight_elems) * sizeof(float) <= scratch.offset + scratch.bytes
            ? clseg_ocl_check_count(ctx, "conv2d", ws->offset + (size_t)p->col_images * (size_t)p->col_elems)
            : clseg_fail(ctx, CLSEG_STATUS_INTERNAL, "conv2d: the workspace has no room for the weights");
    clseg_ocl_panels packed_w = {scratch.mem, start, 0};
    if (st == CLSEG_STATUS_SUCCESS)
        st = gradient ? pack_flipped_weights(ctx, &p->g, &ic, w, packed_w)
                      : clseg_ocl_gemm_pack(ctx, (size_t)g.k, ic.rows, ic.mr, false, weights, 0, packed_w, ic.rows, 1);
    size_t n = (size_t)g.n, chunk = (size_t)p->col_images;
    for (size_t first = 0; st == CLSEG_STATUS_SUCCESS && first < n; first += chunk) {
        size_t images = n - first < chunk ? n - first : chunk;
        st = pad_images(ctx, &g, &ic, src, first, images, ws);
        clseg_ocl_arg conv[] = {CLSEG_ARG_MEM(ws),
                                CLSEG_ARG_UINT(ws->offset),
                                CLSEG_ARG_UINT(ic.hp),
                                CLSEG_ARG_UINT(ic.wp),
                                {sizeof(cl_mem), &scratch.mem},
                                CLSEG_ARG_UINT(start),
                                CLSEG_ARG_UINT(ic.panels),
                                CLSEG_ARG_MEM(out),
                                CLSEG_ARG_UINT(out->offset + first * feature),
                                CLSEG_ARG_TENSOR(bias_buf),
                                CLSEG_ARG_UINT(bias != NULL),
                                CLSEG_ARG_FLOAT(beta),
                                CLSEG_ARG_UINT(g.c),
                                CLSEG_ARG_UINT(g.k),
                                CLSEG_ARG_UINT(g.ho),
                                CLSEG_ARG_UINT(g.wo),
                                CLSEG_ARG_UINT(g.kh),
                                CLSEG_ARG_UINT(g.kw),
                                CLSEG_ARG_UINT(g.sh),
                                CLSEG_ARG_UINT(g.sw),
                                CLSEG_ARG_UINT(g.dh),
                                CLSEG_ARG_UINT(g.dw),
                                CLSEG_ARG_UINT(ic.rpt)};
        size_t global[3] = {ic.tiles, (size_t)g.ho / ic.rpt, images * ic.panels}, one[3] = {1, 1, 1};
        if (st == CLSEG_STATUS_SUCCESS) {
            char kernel[32];
            long fixed = 0;
            st = clseg_ocl_tunable(ctx, "conv", "CONV_FIXED_TAPS", &fixed);
            bool taps3x3 = fixed == 1 && g.kh == 3 && g.kw == 3;
            snprintf(kernel, sizeof kernel, "conv_implicit%s_%ux%u", taps3x3 ? "3x3" : "", taps3x3 ? ic.lanes : ic.mr,
                     ic.nv);
            if (st == CLSEG_STATUS_SUCCESS)
                st = clseg_ocl_run(ctx, "conv", kernel, conv, CLSEG_NARGS(conv), 3, global, one);
        }
    }
    return st;
}

static clseg_status implicit_weights(clseg_context *ctx, const clseg_conv_params *p, const clseg_tensor *img,
                                     const clseg_tensor *grad, const clseg_tensor *dw, const clseg_tensor *ws,
                                     clseg_ocl_scratch scratch)
{
    const clseg_conv_geom *g = &p->g;
    implicit_conv ic = plan_conv(ctx, g);
    size_t n = (size_t)g->n, chunk = (size_t)p->col_images, feature = (size_t)(g->k * g->ho * g->wo);
    size_t rows = (size_t)clseg_conv_col_rows(g), weights = (size_t)g->k * rows;
    size_t start = round_up(scratch.offset / sizeof(float), ALIGN), partials = wgrad_partials(g);
    bool split =
        partials > 0 && scratch.mem != NULL && (start + partials) * sizeof(float) <= scratch.offset + scratch.bytes;
    clseg_status st = clseg_ocl_check_count(ctx, "conv2d", ws->offset + (size_t)p->col_images * (size_t)p->col_elems);
    for (size_t first = 0; st == CLSEG_STATUS_SUCCESS && first < n; first += chunk) {
        size_t images = n - first < chunk ? n - first : chunk;
        float beta = first == 0 ? p->beta : 1.0f;
        st = pad_images(ctx, g, &ic, img, first, images, ws);
        cl_mem out = split ? scratch.mem : clseg_tensor_buffer(dw)->mem;
        clseg_ocl_arg args[] = {CLSEG_ARG_MEM(ws),
                                CLSEG_ARG_UINT(ws->offset),
                                CLSEG_ARG_UINT(ic.hp),
                                CLSEG_ARG_UINT(ic.wp),
                                CLSEG_ARG_MEM(grad),
                                CLSEG_ARG_UINT(grad->offset + first * feature),
                                {sizeof(cl_mem), &out},
                                CLSEG_ARG_UINT(split ? start : dw->offset),
                                CLSEG_ARG_UINT(split ? weights : 0),
                                CLSEG_ARG_FLOAT(split ? 0.0f : beta),
                                CLSEG_ARG_UINT(split ? 1 : images),
                                CLSEG_ARG_UINT(g->c),
                                CLSEG_ARG_UINT(g->k),
                                CLSEG_ARG_UINT(g->ho),
                                CLSEG_ARG_UINT(g->wo),
                                CLSEG_ARG_UINT(g->sh),
                                CLSEG_ARG_UINT(g->sw),
                                CLSEG_ARG_UINT(g->dh),
                                CLSEG_ARG_UINT(g->dw),
                                CLSEG_ARG_UINT(ic.rpt)};
        size_t global[3] = {((size_t)g->k + WGRAD_K - 1) / WGRAD_K, (size_t)g->c, split ? images : 1};
        size_t one[3] = {1, 1, 1};
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_ocl_run(ctx, "conv", "conv_wgrad_3x3", args, CLSEG_NARGS(args), 3, global, one);
        if (st == CLSEG_STATUS_SUCCESS && split)
            st = clseg_ocl_sum_partials(ctx, (clseg_ocl_panels){scratch.mem, start, weights}, images,
                                        (clseg_ocl_matrix){clseg_tensor_buffer(dw)->mem, dw->offset, rows},
                                        (size_t)g->k, rows, beta);
    }
    return st;
}

clseg_status clseg_ocl_conv_packed_weights(clseg_context *ctx, const clseg_conv_params *p, const clseg_tensor *img,
                                           const clseg_tensor *grad, const clseg_tensor *dw, const clseg_tensor *ws,
                                           clseg_ocl_scratch scratch)
{
    if (implicit_weights_fit(&p->g))
        return implicit_weights(ctx, p, img, grad, dw, ws, scratch);
    const clseg_conv_geom *g = &p->g;
    packed_weights pw = plan_weights(ctx, g);
    size_t n = (size_t)g->n, chunk = (size_t)p->col_images, feature = (size_t)(g->k * g->ho * g->wo);
    size_t image = (size_t)(g->c * g->h * g->w);
    cl_mem col_mem = clseg_tensor_buffer(ws)->mem;
    clseg_status st = clseg_ocl_check_count(ctx, "conv2d", ws->offset + (size_t)p->col_images * (size_t)p->col_elems);
    for (size_t first = 0; st == CLSEG_STATUS_SUCCESS && first < n; first += chunk) {
        size_t images = n - first < chunk ? n - first : chunk, k_total = images * pw.pixels;
        clseg_ocl_panels cols = {col_mem, ws->offset, 0}, grads = {col_mem, ws->offset + pw.col_rows * k_total, 0};
        clseg_ocl_arg args[] = {CLSEG_ARG_MEM(img),
                                CLSEG_ARG_UINT(img->offset + first * image),
                                CLSEG_ARG_MEM(ws),
                                CLSEG_ARG_UINT(cols.offset),
                                CLSEG_ARG_UINT(k_total),
                                CLSEG_ARG_UINT(images),
                                CLSEG_ARG_UINT(pw.col_width),
                                GEOM_ARGS(g)};
        size_t global[3] = {(size_t)g->ho, pw.col_rows / pw.col_width, images};
        clseg_ocl_matrix im = {clseg_tensor_buffer(img)->mem, img->offset + first * image, pw.pixels};
        if (clseg_conv_is_pointwise(g))
            st = clseg_ocl_gemm_pack(ctx, (size_t)g->c, pw.pixels, pw.col_width, false, im, image,
                                     (clseg_ocl_panels){cols.mem, cols.offset, pw.pixels * pw.col_width}, k_total,
                                     images);
        else
            st = clseg_ocl_run(ctx, "conv", "im2col_row_panels", args, CLSEG_NARGS(args), 3, global, NULL);
        /* image z's gradient rows fill k from z P on: panels images P long, images z P apart */
        clseg_ocl_panels grads_z = {grads.mem, grads.offset, pw.pixels * pw.grad_width};
        clseg_ocl_matrix gm = {clseg_tensor_buffer(grad)->mem, grad->offset + first * feature, pw.pixels};
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_ocl_gemm_pack(ctx, (size_t)g->k, pw.pixels, pw.grad_width, false, gm, feature, grads_z, k_total,
                                     images);
        clseg_ocl_matrix c = {clseg_tensor_buffer(dw)->mem, dw->offset, pw.rows};
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_ocl_gemm_panels_split(ctx, &pw.plan, k_total, 1.0f, pw.plan.swapped ? cols : grads,
                                             pw.plan.swapped ? grads : cols, first == 0 ? p->beta : 1.0f, c, scratch);
    }
    return st;
}
