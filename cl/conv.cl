/* Convolution helpers around a GEMM (src/opencl/conv.c): im2col, col2im as a gather, bias
 * fill, and a deterministic two-stage per-channel sum for the bias gradient. The geometry is
 * src/ops/conv.h's: an image side (C, H, W) and a feature side (K, Ho, Wo); image row y meets
 * feature row oy through kernel row i when y = oy * sh - ph + i * dh. The im2col matrix of one
 * image has rows (c, i, j) and columns (oy, ox). Counts are 32-bit (the host checks). */

#ifndef CONV_WG
#define CONV_WG 64 /* work-group size of the bias fill */
#endif
#ifndef CONV_TILE
#define CONV_TILE 0 /* implicit GEMM tile, channels x outputs: 0 picks per layer, 1: 16x16, 2: 24x16, 3: 8x32, 4: 12x32 */
#endif
#ifndef CONV_FIXED_TAPS
#define CONV_FIXED_TAPS 1 /* 1: 3x3 convolutions take the implicit GEMM built for 3x3 taps */
#endif
#ifndef CONV_REDUCE_SERIAL
#define CONV_REDUCE_SERIAL 0 /* 1: the bias gradient's stage 1 as one work-item per share, 16 values a step (CPUs) */
#endif
#ifndef CONV_COL_ROWS
#define CONV_COL_ROWS 0 /* 1: im2col and col2im a row per work-item (CPUs); 0: an element per work-item (GPUs) */
#endif
#ifndef CONV_REDUCE_WG
#define CONV_REDUCE_WG 64 /* work-group size of both bias-gradient stages; a power of two */
#endif

/* The geometry as kernel arguments, in this order. */
#define GEOM_ARGS int C, int H, int W, int Ho, int Wo, int KH, int KW, int SH, int SW, int PH, int PW, int DH, int DW
#define GEOM C, H, W, Ho, Wo, KH, KW, SH, SW, PH, PW, DH, DW

/* col (images, C KH KW, Ho Wo) from images (images, C, H, W); zero where the kernel reads padding.
 * A work-item fills one output row of one col row, so the index arithmetic (divisions, which
 * CPUs do slowly) happens once per row and not once per element. */
__kernel void im2col(__global const float *img, uint img_off, __global float *col, uint col_off, uint images,
                     GEOM_ARGS)
{
    int oy = (int)get_global_id(0);
    uint r = (uint)get_global_id(1), b = (uint)get_global_id(2), R = (uint)(C * KH * KW);
    if (oy >= Ho || r >= R || b >= images)
        return;
    int j = (int)(r % (uint)KW), i = (int)(r / (uint)KW % (uint)KH), c = (int)(r / (uint)(KW * KH));
    int y = oy * SH - PH + i * DH, x0 = j * DW - PW;
    __global float *dst = col + col_off + ((b * R + r) * (uint)Ho + (uint)oy) * (uint)Wo;
    if (y < 0 || y >= H) {
        for (int ox = 0; ox < Wo; ox++)
            dst[ox] = 0.0f;
        return;
    }
    __global const float *src = img + img_off + ((b * (uint)C + (uint)c) * (uint)H + (uint)y) * (uint)W;
    for (int ox = 0; ox < Wo; ox++) {
        int x = ox * SW + x0;
        float v = 0.0f;
        if (x >= 0 && x < W)
            v = src[x];
        dst[ox] = v;
    }
}

/* The same col, an element per work-item, (oy, ox) flattened in dimension 0: neighbouring
 * work-items read and write neighbouring addresses, which a GPU's memory coalesces; the row
 * kernel above leaves each work-item its own row, Wo floats from its neighbour's. */
__kernel void im2col_elems(__global const float *img, uint img_off, __global float *col, uint col_off, uint images,
                           GEOM_ARGS)
{
    uint p = (uint)get_global_id(0), r = (uint)get_global_id(1), b = (uint)get_global_id(2);
    uint R = (uint)(C * KH * KW);
    if (p >= (uint)(Ho * Wo) || r >= R || b >= images)
        return;
    int oy = (int)(p / (uint)Wo), ox = (int)(p % (uint)Wo);
    int j = (int)(r % (uint)KW), i = (int)(r / (uint)KW % (uint)KH), c = (int)(r / (uint)(KW * KH));
    int y = oy * SH - PH + i * DH, x = ox * SW + j * DW - PW;
    float v = 0.0f;
    if (y >= 0 && y < H && x >= 0 && x < W)
        v = img[img_off + ((b * (uint)C + (uint)c) * (uint)H + (uint)y) * (uint)W + (uint)x];
    col[col_off + (b * R + r) * (uint)(Ho * Wo) + p] = v;
}

/* --- Implicit GEMM for CPU devices (src/opencl/conv_packed.c) ------------------------------
 * The convolution as the product W (K x C KH KW) x im2col(image), without writing im2col: the
 * micro-kernel reads 16 neighbouring outputs' inputs straight from a zero-padded copy of the
 * image, one vector load per kernel tap, so it needs no bounds checks. */

/* padded[b][c][y][x] = image[b][c][y - PH][x - PW], 0 outside; planes of Hp x Wp, Hp Wp apart. */
__kernel void pad_images(__global const float *img, uint img_off, __global float *padded, uint pad_off, uint Hp,
                         uint Wp, uint planes, int H, int W, int PH, int PW)
{
    uint x = (uint)get_global_id(0), y = (uint)get_global_id(1), plane = (uint)get_global_id(2);
    if (x >= Wp || y >= Hp || plane >= planes)
        return;
    int sy = (int)y - PH, sx = (int)x - PW;
    float v = 0.0f;
    if (sy >= 0 && sy < H && sx >= 0 && sx < W)
        v = img[img_off + (plane * (uint)H + (uint)sy) * (uint)W + (uint)sx];
    padded[pad_off + (plane * Hp + y) * Wp + x] = v;
}

/* The same copy where nothing is padded on the left (PW 0: the image's rows stay where they
 * were): a padded row per work-item, whole vectors of 16. The padded rows of transposed
 * convolutions' gradients are an odd number of values wide, and PoCL keeps pad_images scalar
 * there: 4x slower. Where PW > 0 the shifted vector stores cost more than pad_images. */
__kernel void pad_rows(__global const float *img, uint img_off, __global float *padded, uint pad_off, uint Hp,
                       uint Wp, uint planes, int H, int W, int PH)
{
    uint y = (uint)get_global_id(0), plane = (uint)get_global_id(1);
    if (y >= Hp || plane >= planes)
        return;
    __global float *dst = padded + pad_off + (plane * Hp + y) * Wp;
    int sy = (int)y - PH;
    uint copy = sy >= 0 && sy < H ? min((uint)W, Wp) : 0, x = 0;
    __global const float *src = img + img_off + (plane * (uint)H + (uint)max(sy, 0)) * (uint)W;
    for (; x + 16 <= copy; x += 16)
        vstore16(vload16(0, src + x), 0, dst + x);
    for (; x < copy; x++)
        dst[x] = src[x];
    for (; x + 16 <= Wp; x += 16)
        vstore16((float16)(0.0f), 0, dst + x);
    for (; x < Wp; x++)
        dst[x] = 0.0f;
}

/* The inputs of 16 neighbouring outputs at stride 1, one row apart from the next output row's
 * by pitch: 16 from one row, or, for outputs 8 or 4 wide, rpt = 2 or 4 rows' worth. */
inline float16 tile16(__global const float *r, uint pitch, uint rpt)
{
    if (rpt == 2)
        return (float16)(vload8(0, r), vload8(0, r + pitch));
    if (rpt == 4)
        return (float16)(vload4(0, r), vload4(0, r + pitch), vload4(0, r + 2 * pitch), vload4(0, r + 3 * pitch));
    return vload16(0, r);
}

/* Work-item (tile t, output row oy, z = image b x panels + panel p): the first MR channels of
 * panel p at the 16 NV outputs ox = 16 NV t ... of row oy, in MR x NV float16 registers. The
 * weights are packed as gemm_pack_* packs them (PW >= MR values per tap, taps in (c, i, j)
 * order). Each tap costs MR broadcast loads and NV vector loads for MR NV FMAs: NV > 1 needs
 * fewer loads per FMA, which is what limits a CPU here. Stride 1 or 2 (the host checks);
 * outputs 8 or 4 wide take rpt = 2 or 4 rows per tile (NV 1, stride 1), which are then 16
 * contiguous outputs. The bias (has_bias) is added as the sums are stored, not in a pass of
 * its own. */
#define CONV_IMPLICIT_TAPS(MR, PW, NV, NAME, TH, TW)                                                                 \
    __kernel __attribute__((reqd_work_group_size(1, 1, 1))) void NAME(                         \
        __global const float *xp, uint xp_off, uint Hp, uint Wp, __global const float *wp, uint wp_off,             \
        uint panels, __global float *out, uint out_off, __global const float *bias, uint bias_off, int has_bias,     \
        float beta, int C, int K, int Ho, int Wo, int KH, int KW, int SH, int SW, int DH, int DW, uint rpt)          \
    {                                                                                                                \
        uint t = get_global_id(0), oy = get_global_id(1) * rpt, z = get_global_id(2), p = z % panels, b = z / panels; \
        uint R = (uint)(C * KH * KW), ox0 = t * 16 * NV;                                                             \
        __global const float *w = wp + wp_off + (size_t)p * R * PW;                                                  \
        __global const float *img = xp + xp_off + ((size_t)b * (uint)C * Hp + oy * (uint)SH) * Wp + ox0 * (uint)SW;  \
        float16 acc[MR * NV];                                                                                        \
        _Pragma("unroll") for (int i = 0; i < MR * NV; i++) acc[i] = (float16)(0.0f);                                \
        for (int c = 0; c < C; c++)                                                                                  \
            for (int i = 0; i < TH; i++) {                                                                           \
                __global const float *row = img + ((size_t)c * Hp + (uint)(i * DH)) * Wp;                            \
                for (int j = 0; j < TW; j++, w += PW) {                                                              \
                    float16 v[NV];                                                                                   \
                    _Pragma("unroll") for (int u = 0; u < NV; u++)                                                   \
                    {                                                                                                \
                        if (SW == 1) {                                                                               \
                            /* tiles of several vectors are one row's (rpt 1) */                                     \
                            v[u] = NV > 1 ? vload16(0, row + j * DW + 16 * u)                                        \
                                          : tile16(row + j * DW, (uint)SH * Wp, rpt);                                \
                        } else {                                                                                     \
                            float16 lo = vload16(2 * u, row + j * DW), hi = vload16(2 * u + 1, row + j * DW);        \
                            v[u] = (float16)(lo.even, hi.even);                                                      \
                        }                                                                                            \
                    }                                                                                                \
                    _Pragma("unroll") for (int ii = 0; ii < MR; ii++)                                                \
                    {                                                                                                \
                        float16 wv = (float16)(w[ii]);                                                               \
                        _Pragma("unroll") for (int u = 0; u < NV; u++) acc[ii * NV + u] =                            \
                            fma(wv, v[u], acc[ii * NV + u]);                                                         \
                    }                                                                                                \
                }                                                                                                    \
            }                                                                                                        \
        /* loops over acc are unrolled so that every index is a constant: a variable one would  \
         * make LLVM keep the accumulators in memory instead of registers */                   \
        uint k0 = p * PW;                                                                                            \
        _Pragma("unroll") for (int ii = 0; ii < MR; ii++)                                                            \
        {                                                                                                            \
            _Pragma("unroll") for (int u = 0; u < NV; u++)                                                           \
            {                                                                                                        \
                uint x0 = ox0 + 16 * (uint)u;                                                                        \
                if (k0 + (uint)ii < (uint)K && x0 < (uint)Wo) {                                                      \
                    uint width = rpt > 1 ? 16u : min(16u, (uint)Wo - x0);                                            \
                    __global float *o =                                                                              \
                        out + out_off + (((size_t)b * (uint)K + k0 + (uint)ii) * (uint)Ho + oy) * (uint)Wo + x0;     \
                    float16 a = acc[ii * NV + u] + (has_bias ? bias[bias_off + k0 + (uint)ii] : 0.0f);              \
                    if (width == 16) {                                                                               \
                        vstore16(beta != 0.0f ? a + beta * vload16(0, o) : a, 0, o);                                 \
                    } else {                                                                                         \
                        float tmp[16];                                                                               \
                        vstore16(a, 0, tmp);                                                                         \
                        for (uint jj = 0; jj < width; jj++)                                                          \
                            o[jj] = beta != 0.0f ? tmp[jj] + beta * o[jj] : tmp[jj];                                 \
                    }                                                                                                \
                }                                                                                                    \
            }                                                                                                        \
        }                                                                                                            \
    }

/* The taps' loops with the kernel's own sizes, and with 3x3 fixed so that LLVM unrolls them */
#define CONV_IMPLICIT(MR, NV)                                                                                        \
    CONV_IMPLICIT_TAPS(MR, MR, NV, conv_implicit_##MR##x##NV, KH, KW)                                                \
    CONV_IMPLICIT_TAPS(MR, MR, NV, conv_implicit3x3_##MR##x##NV, 3, 3)

CONV_IMPLICIT(4, 4)
/* 3x3 convolutions onto 1 to 3 channels (a classifier, the gradient to a 3-channel input):
 * panels of 4, as gemm_pack_4 packs them, of which only the channels there are computed. Other
 * kernel sizes take CONV_IMPLICIT(4, 4): every kernel here adds to the program's build time. */
CONV_IMPLICIT_TAPS(1, 4, 4, conv_implicit3x3_1x4, 3, 3)
CONV_IMPLICIT_TAPS(2, 4, 4, conv_implicit3x3_2x4, 3, 3)
CONV_IMPLICIT_TAPS(3, 4, 4, conv_implicit3x3_3x4, 3, 3)
CONV_IMPLICIT(16, 1)
CONV_IMPLICIT(24, 1)
CONV_IMPLICIT(8, 2)
CONV_IMPLICIT(12, 2)

/* The weight gradient, implicit: dw[k][c][i][j] = beta dw + the sum over images and outputs of
 * grad[b][k][oy][ox] xp[b][c][oy SH + i DH][ox SW + j DW], xp the padded images. A work-item
 * keeps WGRAD_K channels x the KH KW taps of one input channel as float16 partial sums over 16
 * neighbouring outputs (every load then feeds several FMAs) and adds the lanes up at the end,
 * in a fixed order. Rows are whole vectors: Wo is a multiple of 16, or 8 or 4 with rpt rows per
 * vector at stride 1 (the host checks). */
#define WGRAD_K 2
#define CONV_WGRAD(KH, KW)                                                                                           \
    __kernel __attribute__((reqd_work_group_size(1, 1, 1))) void conv_wgrad_##KH##x##KW(                            \
        __global const float *xp, uint xp_off, uint Hp, uint Wp, __global const float *grad, uint grad_off,         \
        __global float *dw, uint dw_off, uint dw_stride, float beta, uint images, int C, int K, int Ho, int Wo,      \
        int SH, int SW, int DH, int DW, uint rpt)                                                                    \
    {                                                                                                                \
        uint kb = get_global_id(0), c = get_global_id(1), z = get_global_id(2);                                      \
        /* z: the z-th group of images, its sums written dw_stride further on */                                    \
        xp_off += z * images * (uint)C * Hp * Wp;                                                                    \
        grad_off += z * images * (uint)(K * Ho * Wo);                                                                \
        dw_off += z * dw_stride;                                                                                     \
        if (kb * WGRAD_K >= (uint)K || c >= (uint)C)                                                                 \
            return;                                                                                                  \
        uint ch[WGRAD_K]; /* channels past K repeat the first; their sums are not stored */                         \
        _Pragma("unroll") for (int m = 0; m < WGRAD_K; m++) ch[m] = kb * WGRAD_K + m < (uint)K ? kb * WGRAD_K + m    \
                                                                                              : kb * WGRAD_K;        \
        float16 acc[WGRAD_K * KH * KW];                                                                              \
        _Pragma("unroll") for (int t = 0; t < WGRAD_K * KH * KW; t++) acc[t] = (float16)(0.0f);                      \
        /* two output rows at a time where they share KH - 1 input rows (stride and dilation 1):   \
         * KH + 1 row loads per tap column feed 2 KH rows' FMAs */                                \
        bool pairs = SW == 1 && SH == 1 && DH == 1 && rpt == 1 && Ho % 2 == 0;                                       \
        for (uint b = 0; pairs && b < images; b++)                                                                   \
            for (uint oy = 0; oy < (uint)Ho; oy += 2) {                                                              \
                __global const float *g = grad + grad_off + ((size_t)b * (uint)K * (uint)Ho + oy) * (uint)Wo;        \
                __global const float *x = xp + xp_off + (((size_t)b * (uint)C + c) * Hp + oy) * Wp;                  \
                for (uint ox = 0; ox < (uint)Wo; ox += 16) {                                                         \
                    float16 d0[WGRAD_K], d1[WGRAD_K];                                                                \
                    _Pragma("unroll") for (int m = 0; m < WGRAD_K; m++)                                              \
                    {                                                                                                \
                        d0[m] = vload16(0, g + (size_t)ch[m] * (uint)(Ho * Wo) + ox);                                \
                        d1[m] = vload16(0, g + (size_t)ch[m] * (uint)(Ho * Wo) + (uint)Wo + ox);                     \
                    }                                                                                                \
                    _Pragma("unroll") for (int q = 0; q <= KH; q++)                                                  \
                    {                                                                                                \
                        _Pragma("unroll") for (int j = 0; j < KW; j++)                                               \
                        {                                                                                            \
                            float16 v = vload16(0, x + (uint)q * Wp + ox + (uint)(j * DW));                          \
                            _Pragma("unroll") for (int m = 0; m < WGRAD_K; m++)                                      \
                            {                                                                                        \
                                if (q < KH)                                                                          \
                                    acc[(m * KH + q) * KW + j] = fma(d0[m], v, acc[(m * KH + q) * KW + j]);          \
                                if (q >= 1)                                                                          \
                                    acc[(m * KH + q - 1) * KW + j] = fma(d1[m], v, acc[(m * KH + q - 1) * KW + j]);  \
                            }                                                                                        \
                        }                                                                                            \
                    }                                                                                                \
                }                                                                                                    \
            }                                                                                                        \
        for (uint b = 0; !pairs && b < images; b++)                                                                  \
            for (uint oy = 0; oy < (uint)Ho; oy += rpt) {                                                            \
                __global const float *g = grad + grad_off + ((size_t)b * (uint)K * (uint)Ho + oy) * (uint)Wo;        \
                __global const float *x = xp + xp_off + (((size_t)b * (uint)C + c) * Hp + oy * (uint)SH) * Wp;       \
                for (uint ox = 0; ox < (uint)Wo; ox += 16) {                                                         \
                    float16 d[WGRAD_K];                                                                              \
                    _Pragma("unroll") for (int m = 0; m < WGRAD_K; m++) d[m] =                                       \
                        vload16(0, g + (size_t)ch[m] * (uint)(Ho * Wo) + ox);                                        \
                    _Pragma("unroll") for (int i = 0; i < KH; i++)                                                   \
                    {                                                                                                \
                        _Pragma("unroll") for (int j = 0; j < KW; j++)                                               \
                        {                                                                                            \
                            __global const float *r = x + (uint)(i * DH) * Wp + ox * (uint)SW + (uint)(j * DW);      \
                            float16 v;                                                                               \
                            if (SW == 1) {                                                                           \
                                v = tile16(r, (uint)SH * Wp, rpt);                                                   \
                            } else {                                                                                 \
                                float16 lo = vload16(0, r), hi = vload16(1, r);                                      \
                                v = (float16)(lo.even, hi.even);                                                     \
                            }                                                                                        \
                            _Pragma("unroll") for (int m = 0; m < WGRAD_K; m++) acc[(m * KH + i) * KW + j] =         \
                                fma(d[m], v, acc[(m * KH + i) * KW + j]);                                            \
                        }                                                                                            \
                    }                                                                                                \
                }                                                                                                    \
            }                                                                                                        \
        _Pragma("unroll") for (int m = 0; m < WGRAD_K; m++)                                                          \
        {                                                                                                            \
            _Pragma("unroll") for (int t = 0; t < KH * KW; t++)                                                      \
            {                                                                                                        \
                float16 a = acc[m * KH * KW + t];                                                                    \
                float8 s8 = a.lo + a.hi;                                                                             \
                float4 s4 = s8.lo + s8.hi;                                                                           \
                float2 s2 = s4.lo + s4.hi;                                                                           \
                float sum = s2.x + s2.y;                                                                             \
                if (kb * WGRAD_K + m < (uint)K) {                                                                    \
                    __global float *o = dw + dw_off + ((kb * WGRAD_K + m) * (uint)C + c) * (uint)(KH * KW) + t;      \
                    *o = beta != 0.0f ? beta * *o + sum : sum;                                                       \
                }                                                                                                    \
            }                                                                                                        \
        }                                                                                                            \
    }

CONV_WGRAD(3, 3)

/* o[0 .. 31] = beta o + the even and odd columns interleaved, + add; beta == 0 overwrites. */
inline void store_interleaved(__global float *o, float16 even, float16 odd, float add, float beta)
{
    const uint16 lo = (uint16)(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), hi = lo + 8;
    float16 v0 = shuffle2(even, odd, lo) + add, v1 = shuffle2(even, odd, hi) + add;
    if (beta != 0.0f) {
        v0 += beta * vload16(0, o);
        v1 += beta * vload16(1, o);
    }
    vstore16(v0, 0, o);
    vstore16(v1, 1, o);
}

/* --- Transposed convolution with 2x2 kernels at stride 2 (U-Net's up-convolution) -----------
 * Each output pixel meets exactly one input pixel through one tap: image[c][y][x] = bias[c] +
 * sum over k of w[k][c][y % 2][x % 2] feat[k][y / 2][x / 2]. Work-item (tile t, image row y,
 * z = image b x panels + panel p) computes DECONV_MR channels at 32 outputs from 16 inputs:
 * the even and the odd columns in two sets of float16 sums, interleaved when stored. */
#define DECONV_MR 12

/* packed[(((i panels + p) K + k) 2 + j) DECONV_MR + ii] = w[k][p DECONV_MR + ii][i][j], 0 past C. */
__kernel void pack_deconv2_weights(__global const float *w, uint w_off, __global float *packed, uint p_off, uint K,
                                   uint C, uint panels)
{
    uint k = get_global_id(0), p = get_global_id(1), i = get_global_id(2);
    if (k >= K || p >= panels || i >= 2)
        return;
    __global float *out = packed + p_off + (((size_t)i * panels + p) * K + k) * 2 * DECONV_MR;
    for (uint j = 0; j < 2; j++)
        for (uint ii = 0; ii < DECONV_MR; ii++) {
            uint c = p * DECONV_MR + ii;
            out[j * DECONV_MR + ii] = c < C ? w[w_off + ((k * C + c) * 2 + i) * 2 + j] : 0.0f;
        }
}

__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void deconv2_forward(__global const float *feat, uint f_off, __global const float *packed, uint p_off, uint panels,
                     __global float *img, uint img_off, __global const float *bias, uint bias_off, int has_bias,
                     float beta, int C, int K, int Ho, int Wo)
{
    uint t = get_global_id(0), y = get_global_id(1), z = get_global_id(2), p = z % panels, b = z / panels;
    uint i = y % 2, ox0 = t * 16, H = 2 * (uint)Ho, W = 2 * (uint)Wo;
    __global const float *f = feat + f_off + ((size_t)b * (uint)K * (uint)Ho + y / 2) * (uint)Wo + ox0;
    __global const float *w = packed + p_off + ((size_t)i * panels + p) * (uint)K * 2 * DECONV_MR;
    float16 even[DECONV_MR], odd[DECONV_MR];
    _Pragma("unroll") for (int ii = 0; ii < DECONV_MR; ii++) even[ii] = odd[ii] = (float16)(0.0f);
    for (int k = 0; k < K; k++, f += Ho * Wo, w += 2 * DECONV_MR) {
        float16 v = vload16(0, f);
        _Pragma("unroll") for (int ii = 0; ii < DECONV_MR; ii++)
        {
            even[ii] = fma((float16)(w[ii]), v, even[ii]);
            odd[ii] = fma((float16)(w[DECONV_MR + ii]), v, odd[ii]);
        }
    }
    _Pragma("unroll") for (int ii = 0; ii < DECONV_MR; ii++)
    {
        uint c = p * DECONV_MR + (uint)ii;
        if (c < (uint)C)
            store_interleaved(img + img_off + (((size_t)b * (uint)C + c) * H + y) * W + 2 * ox0, even[ii], odd[ii],
                              has_bias ? bias[bias_off + c] : 0.0f, beta);
    }
}

/* The image-side gradient of a 3x3 stride-2 convolution with padding 1 onto twice its size
 * (LinkNet's transposed convolutions, a strided layer's backward pass), without a col matrix.
 * Image row y takes kernel row 1 at feature row y / 2 (y even), or rows 0 and 2 at feature rows
 * (y + 1) / 2 and (y - 1) / 2 (y odd). Columns likewise: 16 feature columns n0 ... give the even
 * image columns 2 n (kernel column 1 at n) and the odd ones 2 n + 1 (column 0 at n + 1, column
 * 2 at n), kept in two register sets and interleaved on store. Weights packed by
 * pack_deconv3s2_weights. Work-item (tile, image row, image x panels + panel). */
#define DECONV3_MR 12

/* packed[((p K + k) 9 + 3 i + j) DECONV3_MR + ii] = w[k][p DECONV3_MR + ii][i][j], 0 past C. */
__kernel void pack_deconv3s2_weights(__global const float *w, uint w_off, __global float *packed, uint p_off, uint K,
                                     uint C, uint panels)
{
    uint k = get_global_id(0), p = get_global_id(1);
    if (k >= K || p >= panels)
        return;
    __global float *out = packed + p_off + ((size_t)p * K + k) * 9 * DECONV3_MR;
    for (uint t = 0; t < 9; t++)
        for (uint ii = 0; ii < DECONV3_MR; ii++) {
            uint c = p * DECONV3_MR + ii;
            out[t * DECONV3_MR + ii] = c < C ? w[w_off + (k * C + c) * 9 + t] : 0.0f;
        }
}

/* Feature row f's contribution for kernel row i; LAST: the tile ends the row, so column n + 1
 * of its last lane is past the edge and reads 0. That lane loads the next row's first value
 * and a blend drops it (shifting a 0 in compiles to a dozen instructions on PoCL); only an
 * image's last row, which may have nothing after it, takes the shift. */
#define DECONV3_ROW(LAST)                                                                                            \
    {                                                                                                                \
        const uint16 shift_in_right = (uint16)(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);               \
        const int16 past_edge = (int16)(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1);                            \
        float16 f0 = vload16(0, f), f1;                                                                              \
        if (!LAST)                                                                                                   \
            f1 = vload16(0, f + 1);                                                                                  \
        else if (f + 16 < feat_end)                                                                                  \
            f1 = select(vload16(0, f + 1), (float16)(0.0f), past_edge);                                              \
        else                                                                                                         \
            f1 = shuffle2(f0, (float16)(0.0f), shift_in_right);                                                      \
        _Pragma("unroll") for (int ii = 0; ii < DECONV3_MR; ii++)                                                    \
        {                                                                                                            \
            even[ii] = fma((float16)(wk[DECONV3_MR + ii]), f0, even[ii]);                                            \
            odd[ii] = fma((float16)(wk[ii]), f1, odd[ii]);                                                           \
            odd[ii] = fma((float16)(wk[2 * DECONV3_MR + ii]), f0, odd[ii]);                                          \
        }                                                                                                            \
    }

#define DECONV3_SUMS(LAST)                                                                                           \
    for (uint k = 0; k < (uint)K; k++) {                                                                             \
        __global const float *fk = feat + f_off + ((size_t)b * (uint)K + k) * (uint)(Ho * Wo) + ox0;                  \
        __global const float *wk0 = packed + p_off + ((size_t)p * (uint)K + k) * 9 * DECONV3_MR;                      \
        if (y % 2 == 0) {                                                                                            \
            __global const float *f = fk + y / 2 * (uint)Wo, *wk = wk0 + 3 * DECONV3_MR;                             \
            DECONV3_ROW(LAST)                                                                                        \
        } else {                                                                                                     \
            if ((y + 1) / 2 < (uint)Ho) {                                                                            \
                __global const float *f = fk + (y + 1) / 2 * (uint)Wo, *wk = wk0;                                    \
                DECONV3_ROW(LAST)                                                                                    \
            }                                                                                                        \
            __global const float *f = fk + (y - 1) / 2 * (uint)Wo, *wk = wk0 + 6 * DECONV3_MR;                       \
            DECONV3_ROW(LAST)                                                                                        \
        }                                                                                                            \
    }

__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void deconv3s2_forward(__global const float *feat, uint f_off, __global const float *packed, uint p_off, uint panels,
                       __global float *img, uint img_off, __global const float *bias, uint bias_off, int has_bias,
                       float beta, int C, int K, int Ho, int Wo)
{
    uint t = get_global_id(0), y = get_global_id(1), z = get_global_id(2), p = z % panels, b = z / panels;
    uint ox0 = t * 16, H = 2 * (uint)Ho, W = 2 * (uint)Wo;
    __global const float *feat_end = feat + f_off + (size_t)(b + 1) * (uint)(K * Ho * Wo);
    float16 even[DECONV3_MR], odd[DECONV3_MR];
    _Pragma("unroll") for (int ii = 0; ii < DECONV3_MR; ii++) even[ii] = odd[ii] = (float16)(0.0f);
    if (ox0 + 16 < (uint)Wo)
        DECONV3_SUMS(false)
    else
        DECONV3_SUMS(true)
    _Pragma("unroll") for (int ii = 0; ii < DECONV3_MR; ii++)
    {
        uint c = p * DECONV3_MR + (uint)ii;
        if (c < (uint)C)
            store_interleaved(img + img_off + (((size_t)b * (uint)C + c) * H + y) * W + 2 * ox0, even[ii], odd[ii],
                              has_bias ? bias[bias_off + c] : 0.0f, beta);
    }
}

#define PANEL_MAX 24
/* The packed path's im2col for a product whose operand is the im2col matrix itself, over the
 * pixels of all images (the weight gradient sums over them): panels of `width` rows r,
 * dst[(p k_total + b P + pixel) width + ii] = col_b[p width + ii][pixel], zero for rows past R.
 * A work-item writes one output row of one image for one panel: Wo runs of width values. */
__kernel void im2col_row_panels(__global const float *img, uint img_off, __global float *dst, uint dst_off,
                                uint k_total, uint images, uint width, GEOM_ARGS)
{
    int oy = (int)get_global_id(0);
    uint p = (uint)get_global_id(1), b = (uint)get_global_id(2), R = (uint)(C * KH * KW);
    if (oy >= Ho || p * width >= R || b >= images)
        return;
    int row[PANEL_MAX], x0[PANEL_MAX]; /* per panel row: its source row's offset (-1: padding), first x */
    for (uint ii = 0; ii < width; ii++) {
        uint r = p * width + ii;
        int j = (int)(r % (uint)KW), i = (int)(r / (uint)KW % (uint)KH), c = (int)(r / (uint)(KW * KH));
        int y = oy * SH - PH + i * DH;
        row[ii] = r < R && y >= 0 && y < H ? ((int)b * C + c) * H * W + y * W : -1;
        x0[ii] = j * DW - PW;
    }
    __global float *out = dst + dst_off + ((size_t)p * k_total + b * (uint)(Ho * Wo) + (uint)(oy * Wo)) * width;
    __global const float *src = img + img_off;
    for (int ox = 0; ox < Wo; ox++) {
        for (uint ii = 0; ii < width; ii++) {
            int x = ox * SW + x0[ii];
            out[ii] = row[ii] >= 0 && x >= 0 && x < W ? src[row[ii] + x] : 0.0f;
        }
        out += width;
    }
}

/* The weights of the convolution that maps a feature-side gradient back to the image side at
 * stride 1, flipped[c][k][i][j] = w[k][c][KH-1-i][KW-1-j], written straight into the panels
 * the implicit GEMM reads (gemm_pack_*'s layout: panels of `width` rows c, each K KH KW long,
 * zero past row C). A work-item per (k KH KW index, panel). */
__kernel void pack_flipped_weights(__global const float *w, uint w_off, __global float *dst, uint dst_off, uint K,
                                   uint C, uint taps, uint width)
{
    uint kk = get_global_id(0), p = get_global_id(1), R = K * taps;
    if (kk >= R)
        return;
    uint k = kk / taps, t = kk % taps;
    __global float *out = dst + dst_off + ((size_t)p * R + kk) * width;
    for (uint ii = 0; ii < width; ii++) {
        uint c = p * width + ii;
        out[ii] = c < C ? w[w_off + (k * C + c) * taps + taps - 1 - t] : 0.0f;
    }
}

/* Image pixel (c, y, x)'s sum over the col entries that read it, in (i, j) order. */
inline float col2im_sum(__global const float *cb, uint c, int y, int x, GEOM_ARGS)
{
    uint P = (uint)(Ho * Wo);
    float s = 0.0f;
    for (int i = 0; i < KH; i++) {
        int oy = y + PH - i * DH;
        if (oy < 0 || (SH != 1 && oy % SH != 0))
            continue;
        oy = SH != 1 ? oy / SH : oy;
        if (oy >= Ho)
            continue;
        __global const float *crow = cb + (c * (uint)KH + (uint)i) * (uint)KW * P + (uint)(oy * Wo);
        for (int j = 0; j < KW; j++) {
            int ox = x + PW - j * DW;
            if (ox < 0 || (SW != 1 && ox % SW != 0))
                continue;
            ox = SW != 1 ? ox / SW : ox;
            if (ox < Wo)
                s += crow[(uint)j * P + (uint)ox];
        }
    }
    return s;
}

/* images = beta images + bias + the sum of every col entry that im2col would have read from
 * this pixel, gathered in a fixed order (kernel row, kernel column): no atomics, same bits on
 * every run. beta == 0 overwrites; has_bias == 0 ignores bias. A work-item fills one image row
 * of one channel, and stride 1 (most layers) needs no division at all. */
__kernel void col2im(__global const float *col, uint col_off, __global float *img, uint img_off,
                     __global const float *bias, uint bias_off, int has_bias, float beta, uint images, GEOM_ARGS)
{
    int y = (int)get_global_id(0);
    uint c = (uint)get_global_id(1), b = (uint)get_global_id(2);
    if (y >= H || c >= (uint)C || b >= images)
        return;
    uint P = (uint)(Ho * Wo), R = (uint)(C * KH * KW);
    __global const float *cb = col + col_off + b * R * P;
    __global float *dst = img + img_off + ((b * (uint)C + c) * (uint)H + (uint)y) * (uint)W;
    float bias_value = has_bias ? bias[bias_off + c] : 0.0f;
    for (int x = 0; x < W; x++) {
        float s = col2im_sum(cb, c, y, x, GEOM);
        if (has_bias)
            s += bias_value;
        dst[x] = beta == 0.0f ? s : beta * dst[x] + s;
    }
}

/* col2im an element per work-item (CONV_COL_ROWS 0, GPUs), (y, x) flattened in dimension 0:
 * the same sum in the same order as col2im, so the same bits. */
__kernel void col2im_elems(__global const float *col, uint col_off, __global float *img, uint img_off,
                           __global const float *bias, uint bias_off, int has_bias, float beta, uint images, GEOM_ARGS)
{
    uint p = (uint)get_global_id(0), c = (uint)get_global_id(1), b = (uint)get_global_id(2);
    if (p >= (uint)(H * W) || c >= (uint)C || b >= images)
        return;
    int y = (int)(p / (uint)W), x = (int)(p % (uint)W);
    __global const float *cb = col + col_off + b * (uint)(C * KH * KW) * (uint)(Ho * Wo);
    float s = col2im_sum(cb, c, y, x, GEOM);
    if (has_bias)
        s += bias[bias_off + c];
    __global float *dst = img + img_off + (b * (uint)C + c) * (uint)(H * W) + p;
    *dst = beta == 0.0f ? s : beta * *dst + s;
}

/* col2im for stride 2 (dilation 1) over rows of whole 16-pixel tiles: the same sums in the same
 * order as col2im, vector-wide. In a tile of 16 pixels starting at an even column, kernel column
 * j meets only the even or only the odd pixels, at 8 consecutive feature columns: one 8-wide
 * load per tap. Work-item (tile, image row, image plane). */
inline float8 col2im_s2_taps(__global const float *crow, int ox0, int Wo)
{
    if (ox0 >= 0 && ox0 + 8 <= Wo)
        return vload8(0, crow + ox0);
    float8 v = 0.0f;
#pragma unroll
    for (int l = 0; l < 8; l++)
        if (ox0 + l >= 0 && ox0 + l < Wo)
            v[l] = crow[ox0 + l];
    return v;
}

__kernel void col2im_s2(__global const float *col, uint col_off, __global float *img, uint img_off,
                        __global const float *bias, uint bias_off, int has_bias, float beta, uint images, GEOM_ARGS)
{
    int x0 = (int)get_global_id(0) * 16, y = (int)get_global_id(1);
    uint plane = (uint)get_global_id(2), c = plane % (uint)C, b = plane / (uint)C;
    if (x0 >= W || y >= H || b >= images)
        return;
    uint P = (uint)(Ho * Wo);
    __global const float *cb = col + col_off + (b * (uint)C + c) * (uint)(KH * KW) * P;
    float8 even = 0.0f, odd = 0.0f;
    for (int i = 0; i < KH; i++) {
        int oy = y + PH - i;
        if (oy < 0 || oy % 2 != 0 || oy / 2 >= Ho)
            continue;
        __global const float *crow = cb + (uint)(i * KW) * P + (uint)(oy / 2 * Wo);
        for (int j = 0; j < KW; j++) {
            int first = (PW - j) & 1; /* the first pixel of the tile j meets: 0 even, 1 odd */
            float8 v = col2im_s2_taps(crow + (uint)j * P, (x0 + first + PW - j) / 2, Wo);
            if (first == 0)
                even += v;
            else
                odd += v;
        }
    }
    float16 s = (float16)(even.s0, odd.s0, even.s1, odd.s1, even.s2, odd.s2, even.s3, odd.s3, even.s4, odd.s4, even.s5,
                          odd.s5, even.s6, odd.s6, even.s7, odd.s7);
    if (has_bias)
        s += bias[bias_off + c];
    __global float *dst = img + img_off + (plane * (uint)H + (uint)y) * (uint)W + (uint)x0;
    vstore16(beta == 0.0f ? s : beta * vload16(0, dst) + s, 0, dst);
}

/* y = beta y + bias[channel] over (N, channels, hw); beta == 0 overwrites. */
__kernel __attribute__((reqd_work_group_size(CONV_WG, 1, 1)))
void bias_fill(__global float *y, uint y_off, __global const float *bias, uint bias_off, uint channels, uint hw,
               float beta, uint total)
{
    uint idx = get_global_id(0);
    if (idx >= total)
        return;
    float v = bias[bias_off + idx / hw % channels];
    y[y_off + idx] = beta == 0.0f ? v : beta * y[y_off + idx] + v;
}

/* Sums CONV_REDUCE_WG values in local memory by halving; the order depends only on the size. */
inline float conv_tree_sum(__local float *acc, float mine)
{
    uint lid = get_local_id(0);
    acc[lid] = mine;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = CONV_REDUCE_WG / 2; s > 0; s >>= 1) {
        if (lid < s)
            acc[lid] += acc[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return acc[0];
}

/* Stage 1, grid (groups CONV_REDUCE_WG, channels): group g of channel c sums the elements
 * e = g CONV_REDUCE_WG + lid + t groups CONV_REDUCE_WG of that channel's n hw elements. */
__kernel __attribute__((reqd_work_group_size(CONV_REDUCE_WG, 1, 1)))
void channel_sum_partial(__global const float *x, uint x_off, uint channels, uint hw, uint count,
                         __global float *partial, uint p_off)
{
    __local float acc[CONV_REDUCE_WG];
    uint c = get_global_id(1), groups = get_num_groups(0), stride = groups * CONV_REDUCE_WG;
    float mine = 0.0f;
    for (uint e = get_global_id(0); e < count; e += stride)
        mine += x[x_off + (e / hw * channels + c) * hw + e % hw];
    float total = conv_tree_sum(acc, mine);
    if (get_local_id(0) == 0)
        partial[p_off + c * groups + get_group_id(0)] = total;
}

/* Stage 1 for CPU devices (CONV_REDUCE_SERIAL), grid (groups, channels): work-item g of
 * channel c sums a contiguous share of c's count values, a plane at a time, 16 values a step
 * into vector lanes that it adds up at the end in a fixed order; no divisions per element and
 * no barriers. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void channel_sum_serial(__global const float *x, uint x_off, uint channels, uint hw, uint count,
                        __global float *partial, uint p_off)
{
    uint g = get_global_id(0), c = get_global_id(1), groups = get_global_size(0);
    uint share = (count + groups - 1) / groups, j = min(count, g * share), end = min(count, j + share);
    float16 s = 0.0f;
    float s1 = 0.0f;
    while (j < end) {
        uint image = j / hw, pos = j % hw, run = min(end - j, hw - pos), t = 0;
        __global const float *p = x + x_off + (image * channels + c) * hw + pos;
        for (; t + 16 <= run; t += 16)
            s += vload16(0, p + t);
        for (; t < run; t++)
            s1 += p[t];
        j += run;
    }
    float8 a = s.lo + s.hi;
    float4 b = a.lo + a.hi;
    float2 d = b.lo + b.hi;
    partial[p_off + c * groups + g] = d.x + d.y + s1;
}

/* Stage 2, grid (CONV_REDUCE_WG, channels): out[c] = beta out[c] + the sum of c's partials. */
__kernel __attribute__((reqd_work_group_size(CONV_REDUCE_WG, 1, 1)))
void channel_sum_final(__global const float *partial, uint p_off, uint groups, __global float *out, uint out_off,
                       float beta)
{
    __local float acc[CONV_REDUCE_WG];
    uint c = get_global_id(1);
    float mine = 0.0f;
    for (uint g = get_local_id(0); g < groups; g += CONV_REDUCE_WG)
        mine += partial[p_off + c * groups + g];
    float total = conv_tree_sum(acc, mine);
    if (get_local_id(0) == 0)
        out[out_off + c] = beta == 0.0f ? total : beta * out[out_off + c] + total;
}
