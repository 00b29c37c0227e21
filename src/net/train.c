/* Optimiser settings, the optimiser step over the flat parameter tensor, and the training step. */
#include <string.h>

#include "clseg/ops.h"
#include "net/net_internal.h"

clseg_optimizer clseg_optimizer_make(clseg_optimizer_kind kind, float lr)
{
    clseg_optimizer o;
    memset(&o, 0, sizeof o);
    o.kind = kind;
    o.sgd.lr = lr;
    o.sgd.momentum = 0.9f;
    o.adam.lr = lr;
    o.adam.beta1 = 0.9f;
    o.adam.beta2 = 0.999f;
    o.adam.eps = 1e-8f;
    if (kind == CLSEG_OPTIMIZER_ADAMW) {
        o.adam.weight_decay = 1e-2f;
        o.adam.decoupled = 1;
    }
    return o;
}

const char *clseg_optimizer_kind_str(clseg_optimizer_kind kind)
{
    switch (kind) {
    case CLSEG_OPTIMIZER_SGD: return "sgd";
    case CLSEG_OPTIMIZER_ADAM: return "adam";
    case CLSEG_OPTIMIZER_ADAMW: return "adamw";
    }
    return "?";
}

clseg_status clseg_optimizer_kind_parse(const char *name, clseg_optimizer_kind *kind)
{
    if (name == NULL || kind == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    for (int k = CLSEG_OPTIMIZER_SGD; k <= CLSEG_OPTIMIZER_ADAMW; k++)
        if (strcmp(name, clseg_optimizer_kind_str((clseg_optimizer_kind)k)) == 0) {
            *kind = (clseg_optimizer_kind)k;
            return CLSEG_STATUS_SUCCESS;
        }
    return CLSEG_STATUS_INVALID_ARGUMENT;
}

clseg_status clseg_net_optimizer_step(clseg_net *net, const clseg_optimizer *opt)
{
    const char *what = "clseg_net_optimizer_step";
    if (net == NULL || opt == NULL)
        return clseg_fail(net != NULL ? net->ctx : NULL, CLSEG_STATUS_INVALID_ARGUMENT, "%s: NULL %s", what,
                          net == NULL ? "net" : "opt");
    if (!net->plan.valid || net->plan.mode != CLSEG_NET_TRAIN)
        return clseg_fail(net->ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: the net is not planned for training", what);
    clseg_context *ctx = net->plan.ctx;
    if (net->values == NULL) { /* nothing to train */
        net->steps++;
        return CLSEG_STATUS_SUCCESS;
    }
    int64_t step = net->steps + 1;
    clseg_status st;
    switch (opt->kind) {
    case CLSEG_OPTIMIZER_SGD:
        st = clseg_sgd_step(ctx, &opt->sgd, step, net->values, net->grads,
                            opt->sgd.momentum != 0.0f ? net->moment1 : NULL);
        break;
    case CLSEG_OPTIMIZER_ADAM:
    case CLSEG_OPTIMIZER_ADAMW: {
        clseg_adam_desc d = opt->adam;
        d.decoupled = opt->kind == CLSEG_OPTIMIZER_ADAMW;
        st = clseg_adam_step(ctx, &d, step, net->values, net->grads, net->moment1, net->moment2);
        break;
    }
    default:
        st = clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: unknown optimiser kind %d", what, (int)opt->kind);
    }
    if (st == CLSEG_STATUS_SUCCESS)
        net->steps = step;
    return st;
}

clseg_status clseg_net_train_step(clseg_net *net, const clseg_tensor *input, const clseg_tensor *target,
                                  const clseg_loss_desc *loss, const clseg_optimizer *opt, float *loss_value)
{
    const char *what = "clseg_net_train_step";
    if (net == NULL || loss == NULL || opt == NULL)
        return clseg_fail(net != NULL ? net->ctx : NULL, CLSEG_STATUS_INVALID_ARGUMENT, "%s: NULL argument", what);
    if (!net->plan.valid || net->plan.mode != CLSEG_NET_TRAIN)
        return clseg_fail(net->ctx, CLSEG_STATUS_INVALID_ARGUMENT,
                          "%s: the net is not planned for training (plan it with CLSEG_NET_TRAIN)", what);
    clseg_context *ctx = net->plan.ctx;
    if (target == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: target is NULL", what);
    if (clseg_tensor_context(target) != ctx)
        return clseg_fail(ctx, CLSEG_STATUS_CONTEXT_MISMATCH, "%s: target belongs to another context", what);
    clseg_shape ts = clseg_tensor_shape(target), os = net->plan.output;
    if (ts.n != os.n || ts.c != os.c || ts.h != os.h || ts.w != os.w)
        return clseg_fail(ctx, CLSEG_STATUS_SHAPE_MISMATCH,
                          "%s: target is %lldx%lldx%lldx%lld; the output is %lldx%lldx%lldx%lld", what, (long long)ts.n,
                          (long long)ts.c, (long long)ts.h, (long long)ts.w, (long long)os.n, (long long)os.c,
                          (long long)os.h, (long long)os.w);
    clseg_status st = clseg_net_forward(net, input);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_loss(ctx, loss, clseg_net_output(net), target, net->plan.loss_value, net->plan.doutput,
                        net->plan.workspace);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_net_backward(net, net->plan.doutput);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_net_optimizer_step(net, opt);
    float v = 0.0f;
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_tensor_download(net->plan.loss_value, &v, 1);
    if (st == CLSEG_STATUS_SUCCESS && loss_value != NULL)
        *loss_value = v;
    return st;
}

int64_t clseg_net_step_count(const clseg_net *net) { return net != NULL ? net->steps : 0; }

void clseg_net_set_step_count(clseg_net *net, int64_t steps)
{
    if (net != NULL && steps >= 0)
        net->steps = steps;
}

clseg_status clseg_net_optimizer_state(const clseg_net *net, clseg_tensor **first_moment, clseg_tensor **second_moment)
{
    if (net == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    if (first_moment != NULL)
        *first_moment = net->moment1;
    if (second_moment != NULL)
        *second_moment = net->moment2;
    return CLSEG_STATUS_SUCCESS;
}
