/* Losses with their gradients, and confusion counts. A tensor arrives as a buffer plus the
 * offset of its first element; counts are 32-bit (the host refuses larger tensors).
 *
 * A loss runs as up to three kernels with no trip to the host: stage 1 (loss_partial, or
 * loss_partial_serial on CPU devices) sums, per work-group or share, the four quantities a loss
 * needs (BCE terms, p t, p, t; MSE puts squared errors in the first) into the workspace;
 * loss_final, one work-group, adds those partials in a fixed order, writes the loss and leaves
 * the two scalars of Dice's gradient at the start of the workspace; loss_grad (or
 * loss_grad_vec) reads them back. The partial count depends only on n and the tunables, so
 * every bit of the result is the same on every run.
 *
 * What is fused: BCE's gradient scale (p - t) and MSE's scale (x - t) need nothing but the
 * element and n, so stage 1 writes them in the same pass that reads x and t for the sums, and
 * no third kernel runs. What is not: Dice's gradient (c0 - c1 t) p (1 - p) needs c0 and c1,
 * which come from the sums over every element, so it cannot be written before the last share
 * has been added up; Dice and BCE + Dice keep the third pass. Writing BCE + Dice's BCE half in
 * stage 1 would not save that pass either: the third would then read the gradient back as well
 * as x and t, and it recomputes the sigmoid anyway for p (1 - p). */

#ifndef LOSS_WG
#define LOSS_WG 64 /* work-group size of the loss kernels; a power of two */
#endif
#ifndef LOSS_GROUPS
#define LOSS_GROUPS 64 /* partial sums of stage 1: its work-groups, or its shares (the host caps it at 1024) */
#endif
#ifndef LOSS_SERIAL
#define LOSS_SERIAL 0 /* 1: stage 1 as one work-item per share walking it 16 values a step (CPU devices) */
#endif
#ifndef LOSS_VEC
#define LOSS_VEC 0 /* 1: the gradient kernel takes 16 elements per work-item (CPU devices) */
#endif
#ifndef CONF_WG
#define CONF_WG 64 /* work-group size of confusion_counts (one group per image); a power of two */
#endif

/* clseg_loss_kind's values (include/clseg/loss.h) */
#define KIND_BCE 0
#define KIND_DICE 1
#define KIND_BCE_DICE 2
#define KIND_MSE 3
/* The workspace starts with CLSEG_LOSS_SCALARS floats (src/ops/loss.h), then the partials. */
#define SCALARS 4

/* sigmoid(z) into *p and 1 - sigmoid(z) into *q, both from e = exp(-|z|) <= 1: no overflow
 * for any z and no cancellation in 1 - p. Returns e (log1p(e) is BCE's soft part). */
inline float sigmoid_parts(float z, float *p, float *q)
{
    float e = exp(-fabs(z)), big = 1.0f / (1.0f + e), small = e * big;
    *p = z >= 0.0f ? big : small;
    *q = z >= 0.0f ? small : big;
    return e;
}

/* The same for 16 values. */
inline float16 sigmoid_parts16(float16 z, float16 *p, float16 *q)
{
    float16 e = exp(-fabs(z)), big = 1.0f / (1.0f + e), small = e * big;
    int16 positive = z >= 0.0f;
    *p = select(small, big, positive);
    *q = select(big, small, positive);
    return e;
}

/* BCE with logits of one value or 16, from sigmoid_parts' e. */
#define BCE_TERM(z, tt, e) (fmax((z), 0.0f) - (z) * (tt) + log1p(e))

/* Sums LOSS_WG float4s in local memory by halving; the order depends only on LOSS_WG. */
inline float4 tree_sum4(__local float4 *acc, float4 mine)
{
    uint lid = get_local_id(0);
    acc[lid] = mine;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = LOSS_WG / 2; s > 0; s >>= 1) {
        if (lid < s)
            acc[lid] += acc[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return acc[0];
}

/* Stage 1: group g sums elements g*LOSS_WG + lid, stepping by the whole grid, into partial g.
 * With fused != 0 (BCE or MSE) it also writes grad[i] = scale (p - t) or scale (x - t). */
__kernel __attribute__((reqd_work_group_size(LOSS_WG, 1, 1)))
void loss_partial(__global const float *x, uint x_off, __global const float *t, uint t_off, uint n, uint kind,
                  __global float *ws, uint ws_off, __global float *grad, uint grad_off, uint fused, float scale)
{
    __local float4 acc[LOSS_WG];
    uint stride = get_num_groups(0) * LOSS_WG;
    float4 mine = (float4)(0.0f);
    for (uint i = get_global_id(0); i < n; i += stride) {
        float z = x[x_off + i], tt = t[t_off + i];
        if (kind == KIND_MSE) {
            float d = z - tt;
            mine.x += d * d;
            if (fused)
                grad[grad_off + i] = scale * d;
        } else {
            float p, q, e = sigmoid_parts(z, &p, &q);
            if (kind != KIND_DICE)
                mine.x += BCE_TERM(z, tt, e);
            mine.yzw += (float3)(p * tt, p, tt);
            if (fused)
                grad[grad_off + i] = scale * (p - tt);
        }
    }
    float4 total = tree_sum4(acc, mine);
    if (get_local_id(0) == 0)
        vstore4(total, 0, ws + ws_off + SCALARS + 4 * get_group_id(0));
}

/* --- Stage 1 for CPU devices (LOSS_SERIAL) -----------------------------------------------------
 * Work-item k of the grid's `shares` walks a contiguous share of the n elements, 16 a step into
 * float16 lanes, then the share's ragged tail one at a time, and adds its lanes up at the end in
 * a fixed order: every load is a vector one, nothing waits on a barrier, nothing divides per
 * element, and n and the share count alone decide which lane each element lands in. */
inline float lanes_total(float16 v)
{
    float8 a = v.lo + v.hi;
    float4 b = a.lo + a.hi;
    float2 d = b.lo + b.hi;
    return d.x + d.y;
}

/* Runs STEP16(i) for each whole vector of the work-item's share, then STEP1(i) for each value
 * left over (x, t and grad already moved on by their offsets). */
#define WALK_SHARE(STEP16, STEP1)                                                                                    \
    {                                                                                                                \
        uint k = get_global_id(0), shares = get_global_size(0);                                                      \
        uint share = (n + shares - 1) / shares, i = min(n, k * share), end = min(n, i + share);                      \
        for (; i + 16 <= end; i += 16) {                                                                             \
            STEP16(i)                                                                                                \
        }                                                                                                            \
        for (; i < end; i++) {                                                                                       \
            STEP1(i)                                                                                                 \
        }                                                                                                            \
    }

/* One value (float) or 16 (float16) of x and t at i into the sums s0..s3 (r0..r3 for single
 * values), and with FUSED its gradient: the kinds' steps of loss_partial's loop. */
#define MSE_STEP(TYPE, LOAD, STORE, S0, FUSED, i)                                                                    \
    {                                                                                                                \
        TYPE d = LOAD(x, i) - LOAD(t, i);                                                                            \
        S0 += d * d;                                                                                                 \
        if (FUSED)                                                                                                   \
            STORE(scale * d, grad, i);                                                                               \
    }
#define SIGMOID_STEP(TYPE, SIGMOID, LOAD, STORE, S0, S1, S2, S3, BCE, FUSED, i)                                      \
    {                                                                                                                \
        TYPE z = LOAD(x, i), tt = LOAD(t, i), p, q, e = SIGMOID(z, &p, &q);                                          \
        if (BCE)                                                                                                     \
            S0 += BCE_TERM(z, tt, e);                                                                                \
        S1 += p * tt;                                                                                                \
        S2 += p;                                                                                                     \
        S3 += tt;                                                                                                    \
        if (FUSED)                                                                                                   \
            STORE(scale * (p - tt), grad, i);                                                                        \
    }
#define LOAD16(a, i) vload16(0, (a) + (i))
#define STORE16(v, a, i) vstore16((v), 0, (a) + (i))
#define LOAD1(a, i) (a)[i]
#define STORE1(v, a, i) ((a)[i] = (v))

/* The loops for one kind and fused flag, both compile-time constants here so that each
 * instance has no per-element branches. */
#define MSE16(i) MSE_STEP(float16, LOAD16, STORE16, s0, FUSED_NOW, i)
#define MSE1(i) MSE_STEP(float, LOAD1, STORE1, r0, FUSED_NOW, i)
#define SIG16(i) SIGMOID_STEP(float16, sigmoid_parts16, LOAD16, STORE16, s0, s1, s2, s3, BCE_NOW, FUSED_NOW, i)
#define SIG1(i) SIGMOID_STEP(float, sigmoid_parts, LOAD1, STORE1, r0, r1, r2, r3, BCE_NOW, FUSED_NOW, i)

__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void loss_partial_serial(__global const float *x, uint x_off, __global const float *t, uint t_off, uint n, uint kind,
                         __global float *ws, uint ws_off, __global float *grad, uint grad_off, uint fused,
                         float scale)
{
    float16 s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    float r0 = 0.0f, r1 = 0.0f, r2 = 0.0f, r3 = 0.0f;
    x += x_off;
    t += t_off;
    grad += grad_off;
    if (kind == KIND_MSE && fused) {
#define FUSED_NOW 1
        WALK_SHARE(MSE16, MSE1)
#undef FUSED_NOW
    } else if (kind == KIND_MSE) {
#define FUSED_NOW 0
        WALK_SHARE(MSE16, MSE1)
#undef FUSED_NOW
    } else if (kind == KIND_BCE && fused) {
#define FUSED_NOW 1
#define BCE_NOW 1
        WALK_SHARE(SIG16, SIG1)
#undef FUSED_NOW
#undef BCE_NOW
    } else if (kind == KIND_DICE) {
#define FUSED_NOW 0
#define BCE_NOW 0
        WALK_SHARE(SIG16, SIG1)
#undef FUSED_NOW
#undef BCE_NOW
    } else { /* BCE without its gradient, or BCE + Dice */
#define FUSED_NOW 0
#define BCE_NOW 1
        WALK_SHARE(SIG16, SIG1)
#undef FUSED_NOW
#undef BCE_NOW
    }
    float4 total = (float4)(lanes_total(s0), lanes_total(s1), lanes_total(s2), lanes_total(s3));
    vstore4(total + (float4)(r0, r1, r2, r3), 0, ws + ws_off + SCALARS + 4 * get_global_id(0));
}

/* Stage 2: one group adds the partials, writes the loss and Dice's gradient scalars
 * c0 = wd num / den^2 and c1 = 2 wd / den (dDice/dp_i = c0 - c1 t_i). */
__kernel __attribute__((reqd_work_group_size(LOSS_WG, 1, 1)))
void loss_final(__global float *ws, uint ws_off, uint groups, uint n, uint kind, float smooth, float wb, float wd,
                __global float *loss, uint loss_off)
{
    __local float4 acc[LOSS_WG];
    float4 mine = (float4)(0.0f);
    for (uint g = get_local_id(0); g < groups; g += LOSS_WG)
        mine += vload4(0, ws + ws_off + SCALARS + 4 * g);
    float4 s = tree_sum4(acc, mine);
    if (get_local_id(0) != 0)
        return;
    float value, c0 = 0.0f, c1 = 0.0f;
    if (kind == KIND_MSE) {
        value = s.x / (float)n;
    } else {
        /* an empty prediction of an empty mask with no smoothing (den == 0) is a perfect match */
        float num = 2.0f * s.y + smooth, den = s.z + s.w + smooth, ratio = 1.0f;
        if (den > 0.0f) {
            ratio = num / den;
            c0 = wd * ratio / den;
            c1 = 2.0f * wd / den;
        }
        value = wb * (s.x / (float)n) + wd * (1.0f - ratio);
    }
    loss[loss_off] = value;
    ws[ws_off] = c0;
    ws[ws_off + 1] = c1;
}

/* dloss/dx, overwriting grad, for the kinds stage 1 does not write it for (Dice, BCE + Dice):
 * scale (p - t) + (c0 - c1 t) p (1 - p) with scale = wb / n. */
__kernel __attribute__((reqd_work_group_size(LOSS_WG, 1, 1)))
void loss_grad(__global const float *x, uint x_off, __global const float *t, uint t_off, __global float *grad,
               uint grad_off, uint n, float scale, __global const float *ws, uint ws_off)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    float tt = t[t_off + i], p, q;
    sigmoid_parts(x[x_off + i], &p, &q);
    grad[grad_off + i] = scale * (p - tt) + (ws[ws_off] - ws[ws_off + 1] * tt) * p * q;
}

/* loss_grad for CPU devices (LOSS_VEC): work-item j takes elements 16 j .. 16 j + 15, the last
 * one whatever is left of them one at a time. */
__kernel __attribute__((reqd_work_group_size(LOSS_WG, 1, 1)))
void loss_grad_vec(__global const float *x, uint x_off, __global const float *t, uint t_off, __global float *grad,
                   uint grad_off, uint n, float scale, __global const float *ws, uint ws_off)
{
    uint i = 16 * get_global_id(0);
    if (i >= n)
        return;
    float c0 = ws[ws_off], c1 = ws[ws_off + 1];
    x += x_off;
    t += t_off;
    grad += grad_off;
    if (i + 16 <= n) {
        float16 tt = vload16(0, t + i), p, q;
        sigmoid_parts16(vload16(0, x + i), &p, &q);
        vstore16(scale * (p - tt) + (c0 - c1 * tt) * p * q, 0, grad + i);
        return;
    }
    for (; i < n; i++) {
        float tt = t[i], p, q;
        sigmoid_parts(x[i], &p, &q);
        grad[i] = scale * (p - tt) + (c0 - c1 * tt) * p * q;
    }
}

/* Sums CONF_WG uint4s by halving; integer sums are exact in any order. */
inline uint4 tree_sum_u4(__local uint4 *acc, uint4 mine)
{
    uint lid = get_local_id(0);
    acc[lid] = mine;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = CONF_WG / 2; s > 0; s >>= 1) {
        if (lid < s)
            acc[lid] += acc[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return acc[0];
}

/* One work-group per image of `pixels` values: [TP, FP, FN, TN] as floats (exact: the host
 * keeps pixels <= 2^24). */
__kernel __attribute__((reqd_work_group_size(CONF_WG, 1, 1)))
void confusion_counts(__global const float *x, uint x_off, __global const float *t, uint t_off, uint pixels,
                      float threshold, __global float *counts, uint counts_off)
{
    __local uint4 acc[CONF_WG];
    uint image = get_group_id(0), base = image * pixels;
    uint4 mine = (uint4)(0u);
    for (uint i = get_local_id(0); i < pixels; i += CONF_WG) {
        uint predicted = x[x_off + base + i] > threshold ? 1u : 0u;
        uint real = t[t_off + base + i] > 0.5f ? 1u : 0u;
        mine.xyz += (uint3)(predicted & real, predicted & ~real & 1u, ~predicted & real & 1u);
    }
    uint4 c = tree_sum_u4(acc, mine);
    if (get_local_id(0) == 0) {
        c.w = pixels - c.x - c.y - c.z;
        vstore4(convert_float4(c), 0, counts + counts_off + 4 * image);
    }
}
