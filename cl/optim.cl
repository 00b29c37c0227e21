/* Optimiser updates, one work-item per parameter, with torch.optim's algorithms (see
 * include/clseg/optim.h). Tensors arrive as a buffer plus the offset of their first element. */

#ifndef OPTIM_WG
#define OPTIM_WG 64 /* work-group size of every kernel here */
#endif

/* momentum 0: param -= lr (grad + wd param). */
__kernel __attribute__((reqd_work_group_size(OPTIM_WG, 1, 1)))
void sgd_plain(__global float *param, uint p_off, __global const float *grad, uint g_off, uint n, float lr,
               float weight_decay)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    float p = param[p_off + i], g = grad[g_off + i];
    if (weight_decay != 0.0f)
        g += weight_decay * p;
    param[p_off + i] = p - lr * g;
}

/* v = g on the first step (whatever v held), else momentum v + (1 - dampening) g. */
__kernel __attribute__((reqd_work_group_size(OPTIM_WG, 1, 1)))
void sgd_momentum(__global float *param, uint p_off, __global const float *grad, uint g_off,
                  __global float *velocity, uint v_off, uint n, float lr, float momentum, float dampening,
                  float weight_decay, uint nesterov, uint first)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    float p = param[p_off + i], g = grad[g_off + i];
    if (weight_decay != 0.0f)
        g += weight_decay * p;
    float v = first ? g : momentum * velocity[v_off + i] + (1.0f - dampening) * g;
    velocity[v_off + i] = v;
    param[p_off + i] = p - lr * (nesterov ? g + momentum * v : v);
}

/* step_size = lr / (1 - beta1^t) and bias2_sqrt = sqrt(1 - beta2^t) come from the host;
 * decoupled (AdamW) scales param by decay = 1 - lr wd, otherwise wd param joins the gradient. */
__kernel __attribute__((reqd_work_group_size(OPTIM_WG, 1, 1)))
void adam_step(__global float *param, uint p_off, __global const float *grad, uint g_off, __global float *m,
               uint m_off, __global float *v, uint v_off, uint n, float beta1, float beta2, float eps,
               float weight_decay, uint decoupled, float decay, float step_size, float bias2_sqrt)
{
    uint i = get_global_id(0);
    if (i >= n)
        return;
    float p = param[p_off + i], g = grad[g_off + i];
    if (decoupled)
        p *= decay;
    else if (weight_decay != 0.0f)
        g += weight_decay * p;
    float mi = beta1 * m[m_off + i] + (1.0f - beta1) * g;
    float vi = beta2 * v[v_off + i] + (1.0f - beta2) * g * g;
    m[m_off + i] = mi;
    v[v_off + i] = vi;
    param[p_off + i] = p - step_size * mi / (sqrt(vi) / bias2_sqrt + eps);
}
