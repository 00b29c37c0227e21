/* Max pooling with indices, max-unpooling and global average pooling. A tensor arrives as a
 * buffer plus the offset of its first element. Indices are floats holding h * W + w within a
 * plane (exact: the host checks planes <= 2^24). Every backward kernel is a gather with one
 * work-item per element it writes, so results are the same bits on every run, without atomics.
 * dst = beta dst + g, and beta == 0 overwrites so NaNs in an unset dst cannot leak through. */

#ifndef POOL_WG
#define POOL_WG 64 /* work-group size of the one-item-per-element kernels */
#endif
#ifndef GAP_WG
#define GAP_WG 64 /* work-items that sum one plane for global average pooling (a power of two) */
#endif

#define ACCUMULATE(dst, beta, g) ((dst) = (beta) == 0.0f ? (g) : (beta) * (dst) + (g))

/* The pooling geometry, in the order the host passes it. */
#define GEOM_ARGS uint H, uint W, uint OH, uint OW, uint KH, uint KW, uint SH, uint SW, uint PH, uint PW

/* One output per work-item: the first maximum in row-major order, a NaN beating everything
 * (the first NaN stays); padding is skipped, so it never wins. */
__kernel void maxpool_forward(__global const float *x, uint x_off, __global float *y, uint y_off,
                              __global float *indices, uint i_off, uint n, GEOM_ARGS)
{
    /* an (ow, oh, plane) grid: the output's coordinates without dividing */
    uint ow = get_global_id(0), oh = get_global_id(1), plane = get_global_id(2), o = (plane * OH + oh) * OW + ow;
    if (ow >= OW || oh >= OH || o >= n)
        return;
    __global const float *xp = x + x_off + plane * H * W;
    int h0 = (int)(oh * SH) - (int)PH, w0 = (int)(ow * SW) - (int)PW;
    int h_end = min(h0 + (int)KH, (int)H), w_end = min(w0 + (int)KW, (int)W);
    int best = -1;
    float best_v = 0.0f;
    for (int h = max(h0, 0); h < h_end; h++)
        for (int w = max(w0, 0); w < w_end; w++) {
            float v = xp[h * (int)W + w];
            if (best < 0 || v > best_v || (isnan(v) && !isnan(best_v))) {
                best = h * (int)W + w;
                best_v = v;
            }
        }
    y[y_off + o] = best_v;
    indices[i_off + o] = (float)best;
}

/* --- 2x2 windows at stride 2 without padding, on whole 16-output tiles (the host checks):
 * each input is in exactly one window, so both directions are vector loads, selects and
 * stores. Work-item (tile t, output row oh, plane): outputs ow = 16 t ... 16 t + 15. */

/* The same choice as maxpool_forward: the first maximum in row-major order, a NaN beating
 * everything and the first NaN staying. */
inline void pool2_take(float16 v, float16 at, float16 *best, float16 *idx)
{
    int16 take = isgreater(v, *best) | (isnan(v) & ~isnan(*best));
    *best = select(*best, v, take);
    *idx = select(*idx, at, take);
}

__kernel void maxpool2_forward(__global const float *x, uint x_off, __global float *y, uint y_off,
                               __global float *indices, uint i_off, uint H, uint W, uint OH, uint OW)
{
    uint t = get_global_id(0), oh = get_global_id(1), plane = get_global_id(2), ow0 = t * 16;
    if (ow0 >= OW || oh >= OH)
        return;
    __global const float *r0 = x + x_off + (plane * H + 2 * oh) * W + 2 * ow0, *r1 = r0 + W;
    float16 a0 = vload16(0, r0), a1 = vload16(1, r0), b0 = vload16(0, r1), b1 = vload16(1, r1);
    float16 col = (float16)(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30) + (float)(2 * ow0);
    float16 top = (float)(2 * oh * W) + col, bottom = top + (float)W;
    float16 best = (float16)(a0.even, a1.even), idx = top;
    pool2_take((float16)(a0.odd, a1.odd), top + 1.0f, &best, &idx);
    pool2_take((float16)(b0.even, b1.even), bottom, &best, &idx);
    pool2_take((float16)(b0.odd, b1.odd), bottom + 1.0f, &best, &idx);
    uint o = (plane * OH + oh) * OW + ow0;
    vstore16(best, 0, y + y_off + o);
    vstore16(idx, 0, indices + i_off + o);
}

/* out = beta out + values scattered to their indices, two input rows of 32 per work-item. */
__kernel void maxpool2_scatter(__global const float *values, uint v_off, __global const float *indices, uint i_off,
                               __global float *out, uint out_off, float beta, uint H, uint W, uint OH, uint OW)
{
    uint t = get_global_id(0), oh = get_global_id(1), plane = get_global_id(2), ow0 = t * 16;
    if (ow0 >= OW || oh >= OH)
        return;
    uint o = (plane * OH + oh) * OW + ow0;
    float16 g = vload16(0, values + v_off + o), at = vload16(0, indices + i_off + o);
    float16 col = (float16)(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30) + (float)(2 * ow0);
    const uint16 lo = (uint16)(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const uint16 hi = lo + 8;
    for (uint r = 0; r < 2; r++) {
        float16 left = (float)((2 * oh + r) * W) + col, zero = 0.0f;
        float16 even = select(zero, g, isequal(at, left)), odd = select(zero, g, isequal(at, left + 1.0f));
        float16 v0 = shuffle2(even, odd, lo), v1 = shuffle2(even, odd, hi);
        __global float *dst = out + out_off + (plane * H + 2 * oh + r) * W + 2 * ow0;
        if (beta != 0.0f) {
            v0 += beta * vload16(0, dst);
            v1 += beta * vload16(1, dst);
        }
        vstore16(v0, 0, dst);
        vstore16(v1, 1, dst);
    }
}

/* --- 3x3 windows at stride 2 and padding 1 (ResNet's stem) onto half the size, on whole
 * 16-output tiles (the host checks): output ow sees columns 2 ow - 1 ... 2 ow + 1, so a tile
 * reads its 32 columns plus the last one of the tile before; only row -1 and column -1 are
 * padding, as the last row and column (2 OH - 1, 2 OW - 1) exist. */

/* Output row oh's window rows, skipping the padding row -1, in the order maxpool_forward
 * visits them. Padding column -1 (lane 0 of the first tile) is replaced by column 0 with its
 * own index: seeing the first element twice never changes the choice, so padding never wins. */
__kernel void maxpool3_forward(__global const float *x, uint x_off, __global float *y, uint y_off,
                               __global float *indices, uint i_off, uint H, uint W, uint OH, uint OW)
{
    uint t = get_global_id(0), oh = get_global_id(1), plane = get_global_id(2), ow0 = t * 16;
    if (ow0 >= OW || oh >= OH)
        return;
    __global const float *xp = x + x_off + plane * H * W + 2 * ow0;
    float16 col = (float16)(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30) + (float)(2 * ow0);
    float16 best = 0.0f, idx = 0.0f;
    uint h0 = oh == 0 ? 0 : 2 * oh - 1;
    for (uint h = h0; h <= 2 * oh + 1; h++) {
        __global const float *r = xp + h * W;
        float16 a0 = vload16(0, r), a1 = vload16(1, r);
        float16 mid = (float16)(a0.even, a1.even), right = (float16)(a0.odd, a1.odd);
        float16 at = (float)(h * W) + col, left_at = at - 1.0f;
        float prev = ow0 == 0 ? mid.s0 : r[-1];
        if (ow0 == 0)
            left_at.s0 = at.s0;
        float16 left = (float16)(prev, right.s0123, right.s456, right.s789a, right.sbcde);
        if (h == h0) { /* the window's first element starts the choice */
            best = left;
            idx = left_at;
        } else
            pool2_take(left, left_at, &best, &idx);
        pool2_take(mid, at, &best, &idx);
        pool2_take(right, at + 1.0f, &best, &idx);
    }
    uint o = (plane * OH + oh) * OW + ow0;
    vstore16(best, 0, y + y_off + o);
    vstore16(idx, 0, indices + i_off + o);
}

/* out = beta out + values gathered over the windows holding each input, for one input row h
 * of 32 columns per work-item. Row h lies in output rows h / 2 ... (h + 1) / 2 (one row when h
 * is even or the last); an even column 2 ow in window ow only, an odd one 2 ow + 1 in ow and
 * ow + 1 (the next tile's first, if any). The additions run in maxpool_scatter's order (oh,
 * then ow, ascending) from 0, and a window that does not name the input adds +0, which
 * changes no sum that starts at +0: the same bits. */
__kernel void maxpool3_scatter(__global const float *values, uint v_off, __global const float *indices, uint i_off,
                               __global float *out, uint out_off, float beta, uint H, uint W, uint OH, uint OW)
{
    uint t = get_global_id(0), h = get_global_id(1), plane = get_global_id(2), ow0 = t * 16;
    if (ow0 >= OW || h >= H)
        return;
    float16 col = (float16)(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30) + (float)(2 * ow0);
    float16 even_at = (float)(h * W) + col, odd_at = even_at + 1.0f, zero = 0.0f, even = zero, odd = zero;
    bool has_next = ow0 + 16 < OW;
    for (uint oh = h / 2; oh <= min((h + 1) / 2, OH - 1); oh++) {
        uint o = (plane * OH + oh) * OW + ow0;
        float16 g = vload16(0, values + v_off + o), at = vload16(0, indices + i_off + o);
        /* window ow + 1 of each lane: the tile shifted by one; -1 names no input */
        float g_next = has_next ? values[v_off + o + 16] : 0.0f;
        float at_next = has_next ? indices[i_off + o + 16] : -1.0f;
        float16 g1 = (float16)(g.s1234, g.s5678, g.s9abc, g.sdef, g_next),
                at1 = (float16)(at.s1234, at.s5678, at.s9abc, at.sdef, at_next);
        even += select(zero, g, isequal(at, even_at));
        odd += select(zero, g, isequal(at, odd_at));
        odd += select(zero, g1, isequal(at1, odd_at));
    }
    const uint16 lo = (uint16)(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const uint16 hi = lo + 8;
    float16 v0 = shuffle2(even, odd, lo), v1 = shuffle2(even, odd, hi);
    __global float *dst = out + out_off + (plane * H + h) * W + 2 * ow0;
    if (beta != 0.0f) {
        v0 = beta * vload16(0, dst) + v0;
        v1 = beta * vload16(1, dst) + v1;
    }
    vstore16(v0, 0, dst);
    vstore16(v1, 1, dst);
}

/* The outputs [lo, hi] along one axis whose windows contain input coordinate i (the same as
 * clseg_pool_window_range in src/ref/pool_math.h). */
inline void window_range(int i, int k, int s, int p, int out, int *lo, int *hi)
{
    int first = i + p - k + 1;
    *lo = first <= 0 ? 0 : (first + s - 1) / s;
    *hi = min((i + p) / s, out - 1);
}

/* One unpooled element per work-item: out = beta out + the values (pooled shape) whose index
 * names it, over the windows containing it in row-major order. Max pooling's backward (values
 * dy) and max-unpooling's forward (values x, beta 0). */
__kernel void maxpool_scatter(__global const float *values, uint v_off, __global const float *indices, uint i_off,
                              __global float *out, uint out_off, uint n, float beta, GEOM_ARGS)
{
    /* a (w, h, plane) grid: the element's coordinates without dividing */
    uint w = get_global_id(0), h = get_global_id(1), plane = get_global_id(2), e = (plane * H + h) * W + w;
    if (w >= W || h >= H || e >= n)
        return;
    int oh_lo, oh_hi, ow_lo, ow_hi;
    window_range((int)h, (int)KH, (int)SH, (int)PH, (int)OH, &oh_lo, &oh_hi);
    window_range((int)w, (int)KW, (int)SW, (int)PW, (int)OW, &ow_lo, &ow_hi);
    float self = (float)(h * W + w), sum = 0.0f;
    uint base = plane * OH * OW;
    for (int oh = oh_lo; oh <= oh_hi; oh++)
        for (int ow = ow_lo; ow <= ow_hi; ow++) {
            uint o = base + (uint)oh * OW + (uint)ow;
            if (indices[i_off + o] == self)
                sum += values[v_off + o];
        }
    ACCUMULATE(out[out_off + e], beta, sum);
}

/* One pooled element per work-item: dx = beta dx + dy at its index (zero for an index outside
 * the plane, which no pooling writes). */
__kernel __attribute__((reqd_work_group_size(POOL_WG, 1, 1)))
void maxunpool_backward(__global const float *dy, uint dy_off, __global const float *indices, uint i_off,
                        __global float *dx, uint dx_off, uint n, float beta, uint HW, uint OHW)
{
    uint o = get_global_id(0);
    if (o >= n)
        return;
    float at = indices[i_off + o];
    float g = at >= 0.0f && at < (float)HW ? dy[dy_off + (o / OHW) * HW + (uint)at] : 0.0f;
    ACCUMULATE(dx[dx_off + o], beta, g);
}

/* One work-group per plane: each item sums a strided share, then a fixed tree adds the shares,
 * so the summation order depends only on hw and GAP_WG. */
__kernel __attribute__((reqd_work_group_size(GAP_WG, 1, 1)))
void global_avgpool_forward(__global const float *x, uint x_off, __global float *y, uint y_off, uint hw)
{
    __local float part[GAP_WG];
    uint plane = get_group_id(0), lid = get_local_id(0);
    __global const float *xp = x + x_off + plane * hw;
    float s = 0.0f;
    for (uint i = lid; i < hw; i += GAP_WG)
        s += xp[i];
    part[lid] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint step = GAP_WG / 2; step > 0; step /= 2) {
        if (lid < step)
            part[lid] += part[lid + step];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0)
        y[y_off + plane] = part[0] / (float)hw;
}

__kernel __attribute__((reqd_work_group_size(POOL_WG, 1, 1)))
void global_avgpool_backward(__global const float *dy, uint dy_off, __global float *dx, uint dx_off, uint n, uint hw,
                             float beta)
{
    uint i = get_global_id(0);
    if (i < n)
        ACCUMULATE(dx[dx_off + i], beta, dy[dy_off + i / hw] / (float)hw);
}
