/* Batch normalisation over (N, H, W) per channel of NCHW float32. A tensor arrives as a buffer
 * plus the offset of its first element. Per-channel sums are two-stage and fixed-order: stage 1
 * runs NORM_CHUNKS work-groups per channel (grid dimension 1 is the channel), each writing one
 * partial sum to the workspace; stage 2 adds a channel's partials in index order. The chunk
 * count depends only on the shape and the tunables, so every run gives the same bits.
 *
 * A ReLU after the batch norm can be fused in (argument relu = 1): the forward kernels write
 * fmax(y, 0) as relu_forward would, and the backward kernels read dy through the mask y > 0 of
 * the fused output, as relu_backward would have written it; relu = 0 ignores that y. */

#ifndef NORM_WG
#define NORM_WG 64 /* work-group size of the first reduction stage; a power of two */
#endif
#ifndef NORM_CHUNKS
#define NORM_CHUNKS 16 /* stage-1 work-groups (partial sums) per channel; the host caps it at 64 */
#endif
#ifndef NORM_EW_WG
#define NORM_EW_WG 64 /* work-group size of the per-element and per-channel kernels */
#endif

#ifndef NORM_VEC
#define NORM_VEC 0 /* 1: the per-element kernels take 16 elements of one plane per work-item (CPU devices) */
#endif
#ifndef NORM_SERIAL
#define NORM_SERIAL 0 /* 1: stage 1 as one work-item per chunk walking it with vectors (CPU devices) */
#endif

#define ACCUMULATE(dst, beta, g) ((dst) = (beta) == 0.0f ? (g) : (beta) * (dst) + (g))

/* dy through the fused ReLU's mask (activation.cl's relu_backward). */
inline float relu_grad(float dy, float y, uint relu)
{
    return relu != 0 && !(y > 0.0f) ? 0.0f : dy;
}

inline float16 relu_grad16(float16 dy, float16 y, uint relu)
{
    return relu != 0 ? select((float16)0.0f, dy, y > 0.0f) : dy;
}

/* Channel c's values j = start, start + stride, ... (0 <= j < N hw) walked as (image, position)
 * pairs, so that a loop divides once and not once per element. */
typedef struct plane_walk {
    uint image, pos;
} plane_walk;

inline plane_walk plane_start(uint j, uint hw)
{
    plane_walk w = {j / hw, j % hw};
    return w;
}

inline void plane_step(plane_walk *w, uint stride, uint hw)
{
    w->pos += stride;
    while (w->pos >= hw) {
        w->pos -= hw;
        w->image++;
    }
}

inline uint plane_index(const plane_walk *w, uint c, uint channels, uint hw)
{
    return (w->image * channels + c) * hw + w->pos;
}

/* Compensated (Kahan) running sum: a work-item's serial loop adds up to m / (chunks NORM_WG)
 * values, hundreds on a CPU, and the compensation keeps that part's error at one rounding. */
inline void kahan_add(float *sum, float *comp, float v)
{
    float y = v - *comp;
    float t = *sum + y;
    *comp = (t - *sum) - y;
    *sum = t;
}

/* Sums NORM_WG values in local memory by halving; the order depends only on NORM_WG. */
inline float group_sum(__local float *acc, float mine)
{
    uint lid = get_local_id(0);
    acc[lid] = mine;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = NORM_WG / 2; s > 0; s >>= 1) {
        if (lid < s)
            acc[lid] += acc[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return acc[0];
}

/* Stage 1 of the mean: partial[c chunks + k] = the sum of x over chunk k of channel c. */
__kernel __attribute__((reqd_work_group_size(NORM_WG, 1, 1)))
void bn_sum_x(__global const float *x, uint x_off, uint channels, uint hw, uint m, __global float *partial,
              uint p_off)
{
    __local float acc[NORM_WG];
    uint c = get_global_id(1), chunks = get_num_groups(0), stride = chunks * NORM_WG;
    float mine = 0.0f, comp = 0.0f;
    plane_walk w = plane_start(get_global_id(0), hw);
    for (uint j = get_global_id(0); j < m; j += stride, plane_step(&w, stride, hw))
        kahan_add(&mine, &comp, x[x_off + plane_index(&w, c, channels, hw)]);
    float total = group_sum(acc, mine);
    if (get_local_id(0) == 0)
        partial[p_off + c * chunks + get_group_id(0)] = total;
}

/* Stage 1 of the variance: squared deviations from the finished mean (a second pass over x
 * rather than E[x^2] - E[x]^2, which cancels badly when the mean is large). */
__kernel __attribute__((reqd_work_group_size(NORM_WG, 1, 1)))
void bn_sum_sqdev(__global const float *x, uint x_off, __global const float *mean, uint mean_off, uint channels,
                  uint hw, uint m, __global float *partial, uint p_off)
{
    __local float acc[NORM_WG];
    uint c = get_global_id(1), chunks = get_num_groups(0), stride = chunks * NORM_WG;
    float mu = mean[mean_off + c], mine = 0.0f, comp = 0.0f;
    plane_walk w = plane_start(get_global_id(0), hw);
    for (uint j = get_global_id(0); j < m; j += stride, plane_step(&w, stride, hw)) {
        float d = x[x_off + plane_index(&w, c, channels, hw)] - mu;
        kahan_add(&mine, &comp, d * d);
    }
    float total = group_sum(acc, mine);
    if (get_local_id(0) == 0)
        partial[p_off + c * chunks + get_group_id(0)] = total;
}

/* Stage 1 of the backward sums: sum dy at partial[c chunks + k], sum dy (x - mean) at
 * partial[(channels + c) chunks + k]. */
__kernel __attribute__((reqd_work_group_size(NORM_WG, 1, 1)))
void bn_sum_grad(__global const float *x, uint x_off, __global const float *dy, uint dy_off,
                 __global const float *y, uint y_off, uint relu, __global const float *mean, uint mean_off,
                 uint channels, uint hw, uint m, __global float *partial, uint p_off)
{
    __local float acc_dy[NORM_WG];
    __local float acc_dyx[NORM_WG];
    uint c = get_global_id(1), chunks = get_num_groups(0), stride = chunks * NORM_WG;
    float mu = mean[mean_off + c], sum_dy = 0.0f, sum_dyx = 0.0f, comp_dy = 0.0f, comp_dyx = 0.0f;
    plane_walk w = plane_start(get_global_id(0), hw);
    for (uint j = get_global_id(0); j < m; j += stride, plane_step(&w, stride, hw)) {
        uint i = plane_index(&w, c, channels, hw);
        float g = relu_grad(dy[dy_off + i], y[y_off + i], relu);
        kahan_add(&sum_dy, &comp_dy, g);
        kahan_add(&sum_dyx, &comp_dyx, g * (x[x_off + i] - mu));
    }
    float total_dy = group_sum(acc_dy, sum_dy);
    float total_dyx = group_sum(acc_dyx, sum_dyx);
    if (get_local_id(0) == 0) {
        partial[p_off + c * chunks + get_group_id(0)] = total_dy;
        partial[p_off + (channels + c) * chunks + get_group_id(0)] = total_dyx;
    }
}

/* --- Stage 1 for CPU devices (NORM_SERIAL) ----------------------------------------------------
 * Work-item (chunk k, channel c) sums a contiguous share of the channel's m values, a plane at a
 * time, 16 values per step into float16 compensated sums whose lanes it adds up at the end in a
 * fixed order: every load is a vector one and nothing waits on a barrier. */
inline void kahan_add16(float16 *sum, float16 *comp, float16 v)
{
    float16 y = v - *comp;
    float16 t = *sum + y;
    *comp = (t - *sum) - y;
    *sum = t;
}

inline float lanes_total(float16 v)
{
    float8 a = v.lo + v.hi;
    float4 b = a.lo + a.hi;
    float2 d = b.lo + b.hi;
    return d.x + d.y;
}

/* Runs STEP16(i) for the vector at element index i and STEP1(i) for a single one over chunk k's
 * share of channel c. */
#define WALK_SHARE(STEP16, STEP1)                                                                                    \
    uint k = get_global_id(0), c = get_global_id(1), chunks = get_global_size(0);                                    \
    uint share = (m + chunks - 1) / chunks, j = min(m, k * share), end = min(m, j + share);                          \
    while (j < end) {                                                                                                \
        uint image = j / hw, pos = j % hw, run = min(end - j, hw - pos), base = (image * channels + c) * hw + pos;    \
        uint t = 0;                                                                                                  \
        for (; t + 16 <= run; t += 16) {                                                                             \
            STEP16(base + t)                                                                                         \
        }                                                                                                            \
        for (; t < run; t++) {                                                                                       \
            STEP1(base + t)                                                                                          \
        }                                                                                                            \
        j += run;                                                                                                    \
    }

__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void bn_sum_x_serial(__global const float *x, uint x_off, uint channels, uint hw, uint m, __global float *partial,
                     uint p_off)
{
    float16 s = 0.0f, comp = 0.0f;
    float s1 = 0.0f, comp1 = 0.0f;
    x += x_off;
#define SUM16(i) kahan_add16(&s, &comp, vload16(0, x + (i)));
#define SUM1(i) kahan_add(&s1, &comp1, x[i]);
    WALK_SHARE(SUM16, SUM1)
    partial[p_off + c * chunks + k] = lanes_total(s) + s1;
}

__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void bn_sum_sqdev_serial(__global const float *x, uint x_off, __global const float *mean, uint mean_off,
                         uint channels, uint hw, uint m, __global float *partial, uint p_off)
{
    float16 s = 0.0f, comp = 0.0f;
    float s1 = 0.0f, comp1 = 0.0f, mu = mean[mean_off + get_global_id(1)];
    x += x_off;
#define SQ16(i)                                                                                                      \
    {                                                                                                                \
        float16 d = vload16(0, x + (i)) - mu;                                                                        \
        kahan_add16(&s, &comp, d * d);                                                                               \
    }
#define SQ1(i)                                                                                                       \
    {                                                                                                                \
        float d = x[i] - mu;                                                                                         \
        kahan_add(&s1, &comp1, d * d);                                                                               \
    }
    WALK_SHARE(SQ16, SQ1)
    partial[p_off + c * chunks + k] = lanes_total(s) + s1;
}

__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void bn_sum_grad_serial(__global const float *x, uint x_off, __global const float *dy, uint dy_off,
                        __global const float *y, uint y_off, uint relu, __global const float *mean, uint mean_off,
                        uint channels, uint hw, uint m, __global float *partial, uint p_off)
{
    float16 s = 0.0f, comp = 0.0f, sx = 0.0f, compx = 0.0f;
    float s1 = 0.0f, comp1 = 0.0f, sx1 = 0.0f, compx1 = 0.0f, mu = mean[mean_off + get_global_id(1)];
    x += x_off;
    dy += dy_off;
    y += y_off;
#define GRAD16(i)                                                                                                    \
    {                                                                                                                \
        float16 g = relu_grad16(vload16(0, dy + (i)), vload16(0, y + (i)), relu);                                    \
        kahan_add16(&s, &comp, g);                                                                                   \
        kahan_add16(&sx, &compx, g * (vload16(0, x + (i)) - mu));                                                    \
    }
#define GRAD1(i)                                                                                                     \
    {                                                                                                                \
        float g = relu_grad(dy[i], y[i], relu);                                                                      \
        kahan_add(&s1, &comp1, g);                                                                                   \
        kahan_add(&sx1, &compx1, g * (x[i] - mu));                                                                   \
    }
    WALK_SHARE(GRAD16, GRAD1)
    partial[p_off + c * chunks + k] = lanes_total(s) + s1;
    partial[p_off + (channels + c) * chunks + k] = lanes_total(sx) + sx1;
}

/* Stage 2: channel c's partials in index order. */
inline float chunk_total(__global const float *partial, uint p_off, uint c, uint chunks)
{
    float s = 0.0f;
    for (uint k = 0; k < chunks; k++)
        s += partial[p_off + c * chunks + k];
    return s;
}

__kernel __attribute__((reqd_work_group_size(NORM_EW_WG, 1, 1)))
void bn_finish_mean(__global const float *partial, uint p_off, uint chunks, uint channels, uint m,
                    __global float *mean, uint mean_off)
{
    uint c = get_global_id(0);
    if (c < channels)
        mean[mean_off + c] = chunk_total(partial, p_off, c, chunks) / (float)m;
}

/* The batch's biased variance normalises; the unbiased one (m > 1, checked by the host) goes
 * into the running variance, as in PyTorch. */
__kernel __attribute__((reqd_work_group_size(NORM_EW_WG, 1, 1)))
void bn_finish_var(__global const float *partial, uint p_off, uint chunks, uint channels, uint m, float momentum,
                   float eps, __global const float *mean, uint mean_off, __global float *invstd, uint invstd_off,
                   __global float *running_mean, uint rm_off, __global float *running_var, uint rv_off)
{
    uint c = get_global_id(0);
    if (c >= channels)
        return;
    float sq = chunk_total(partial, p_off, c, chunks);
    invstd[invstd_off + c] = 1.0f / sqrt(sq / (float)m + eps);
    running_mean[rm_off + c] = (1.0f - momentum) * running_mean[rm_off + c] + momentum * mean[mean_off + c];
    running_var[rv_off + c] = (1.0f - momentum) * running_var[rv_off + c] + momentum * (sq / (float)(m - 1));
}

/* sums[c] = sum dy, sums[channels + c] = sum dy xhat (for the dx kernel); dbias and dweight
 * get the same values, accumulated. */
__kernel __attribute__((reqd_work_group_size(NORM_EW_WG, 1, 1)))
void bn_finish_grad(__global const float *partial, uint p_off, uint chunks, uint channels,
                    __global const float *invstd, uint invstd_off, __global float *sums, uint sums_off,
                    __global float *dweight, uint dw_off, __global float *dbias, uint db_off, float beta)
{
    uint c = get_global_id(0);
    if (c >= channels)
        return;
    float sum_dy = chunk_total(partial, p_off, c, chunks);
    float sum_dy_xhat = chunk_total(partial, p_off, channels + c, chunks) * invstd[invstd_off + c];
    sums[sums_off + c] = sum_dy;
    sums[sums_off + channels + c] = sum_dy_xhat;
    ACCUMULATE(dweight[dw_off + c], beta, sum_dy_xhat);
    ACCUMULATE(dbias[db_off + c], beta, sum_dy);
}

/* y = (x - mean) weight invstd + bias; y may be x. */
__kernel __attribute__((reqd_work_group_size(NORM_EW_WG, 1, 1)))
void bn_normalize(__global const float *x, uint x_off, __global const float *mean, uint mean_off,
                  __global const float *invstd, uint invstd_off, __global const float *weight, uint w_off,
                  __global const float *bias, uint b_off, __global float *y, uint y_off, uint channels, uint hw,
                  uint n, uint relu)
{
    uint p = get_global_id(0), plane = get_global_id(1), i = plane * hw + p, c = plane % channels;
    if (p >= hw || i >= n)
        return;
    float v = (x[x_off + i] - mean[mean_off + c]) * (weight[w_off + c] * invstd[invstd_off + c]) + bias[b_off + c];
    y[y_off + i] = relu != 0 ? fmax(v, 0.0f) : v;
}

/* Inference: the running statistics normalise. */
__kernel __attribute__((reqd_work_group_size(NORM_EW_WG, 1, 1)))
void bn_infer(__global const float *x, uint x_off, __global const float *running_mean, uint rm_off,
              __global const float *running_var, uint rv_off, __global const float *weight, uint w_off,
              __global const float *bias, uint b_off, __global float *y, uint y_off, uint channels, uint hw, uint n,
              float eps, uint relu)
{
    uint p = get_global_id(0), plane = get_global_id(1), i = plane * hw + p, c = plane % channels;
    if (p >= hw || i >= n)
        return;
    float scale = weight[w_off + c] / sqrt(running_var[rv_off + c] + eps);
    float v = (x[x_off + i] - running_mean[rm_off + c]) * scale + bias[b_off + c];
    y[y_off + i] = relu != 0 ? fmax(v, 0.0f) : v;
}

/* dx = weight invstd / m (m dy - sum dy - xhat sum dy xhat), accumulated. */
__kernel __attribute__((reqd_work_group_size(NORM_EW_WG, 1, 1)))
void bn_backward_dx(__global const float *x, uint x_off, __global const float *dy, uint dy_off,
                    __global const float *y, uint y_off, uint relu, __global const float *weight, uint w_off,
                    __global const float *mean, uint mean_off, __global const float *invstd, uint invstd_off,
                    __global const float *sums, uint sums_off, __global float *dx, uint dx_off, uint channels,
                    uint hw, uint n, uint m, float beta)
{
    uint p = get_global_id(0), plane = get_global_id(1), i = plane * hw + p, c = plane % channels;
    if (p >= hw || i >= n)
        return;
    float is = invstd[invstd_off + c], fm = (float)m;
    float xhat = (x[x_off + i] - mean[mean_off + c]) * is;
    float g = weight[w_off + c] * is / fm *
              (fm * relu_grad(dy[dy_off + i], y[y_off + i], relu) - sums[sums_off + c] -
               xhat * sums[sums_off + channels + c]);
    ACCUMULATE(dx[dx_off + i], beta, g);
}

/* --- The per-element kernels for CPU devices (NORM_VEC): the same arithmetic, 16 elements of
 * one plane per work-item (the host checks that planes hold whole vectors), so that the
 * per-channel values are loaded once per vector and not gathered per element. */

__kernel __attribute__((reqd_work_group_size(NORM_EW_WG, 1, 1)))
void bn_normalize_vec(__global const float *x, uint x_off, __global const float *mean, uint mean_off,
                      __global const float *invstd, uint invstd_off, __global const float *weight, uint w_off,
                      __global const float *bias, uint b_off, __global float *y, uint y_off, uint channels, uint hw,
                      uint n, uint relu)
{
    uint i = get_global_id(0) * 16, c = i / hw % channels;
    if (i >= n)
        return;
    float16 v = (vload16(0, x + x_off + i) - mean[mean_off + c]) * (weight[w_off + c] * invstd[invstd_off + c]) +
                bias[b_off + c];
    vstore16(relu != 0 ? fmax(v, 0.0f) : v, 0, y + y_off + i);
}

__kernel __attribute__((reqd_work_group_size(NORM_EW_WG, 1, 1)))
void bn_infer_vec(__global const float *x, uint x_off, __global const float *running_mean, uint rm_off,
                  __global const float *running_var, uint rv_off, __global const float *weight, uint w_off,
                  __global const float *bias, uint b_off, __global float *y, uint y_off, uint channels, uint hw,
                  uint n, float eps, uint relu)
{
    uint i = get_global_id(0) * 16, c = i / hw % channels;
    if (i >= n)
        return;
    float scale = weight[w_off + c] / sqrt(running_var[rv_off + c] + eps);
    float16 v = (vload16(0, x + x_off + i) - running_mean[rm_off + c]) * scale + bias[b_off + c];
    vstore16(relu != 0 ? fmax(v, 0.0f) : v, 0, y + y_off + i);
}

__kernel __attribute__((reqd_work_group_size(NORM_EW_WG, 1, 1)))
void bn_backward_dx_vec(__global const float *x, uint x_off, __global const float *dy, uint dy_off,
                        __global const float *y, uint y_off, uint relu, __global const float *weight, uint w_off,
                        __global const float *mean, uint mean_off, __global const float *invstd, uint invstd_off,
                        __global const float *sums, uint sums_off, __global float *dx, uint dx_off, uint channels,
                        uint hw, uint n, uint m, float beta)
{
    uint i = get_global_id(0) * 16, c = i / hw % channels;
    if (i >= n)
        return;
    float is = invstd[invstd_off + c], fm = (float)m;
    float16 xhat = (vload16(0, x + x_off + i) - mean[mean_off + c]) * is;
    float16 dyv = relu_grad16(vload16(0, dy + dy_off + i), vload16(0, y + y_off + i), relu);
    float16 g = weight[w_off + c] * is / fm * (fm * dyv - sums[sums_off + c] - xhat * sums[sums_off + channels + c]);
    __global float *d = dx + dx_off + i;
    vstore16(beta == 0.0f ? g : beta * vload16(0, d) + g, 0, d);
}
