/* Forward and backward passes over the planned tensors: calls to the public ops only, enqueued
 * without waiting and without allocating. */
#include <stdio.h>
#include <string.h>

#include "clseg/activation.h"
#include "clseg/ops.h"
#include "net/net_internal.h"

/* Adds the layer to the op's message. */
static clseg_status layer_failed(const clseg_net *net, const char *what, size_t i, clseg_status st)
{
    char msg[1024];
    clseg_context *ctx = net->plan.ctx;
    snprintf(msg, sizeof msg, "%s", clseg_context_last_error(ctx));
    const net_node *n = &net->nodes[i];
    return clseg_fail(ctx, st, "%s: %s%s%s%s (node %zu): %s", what, clseg_net_kind_str(n), n->name[0] ? " '" : "",
                      n->name, n->name[0] ? "'" : "", i, msg);
}

static clseg_tensor *param_value(const clseg_net *net, const net_node *n, int slot)
{
    return n->param[slot] >= 0 ? net->params[n->param[slot]].value : NULL;
}

static clseg_tensor *param_grad(const clseg_net *net, const net_node *n, int slot)
{
    return n->param[slot] >= 0 ? net->params[n->param[slot]].grad : NULL;
}

/* The dropout seed of a node at the current step: the net's seed, the step and the node mixed. */
static uint64_t dropout_seed(const clseg_net *net, size_t node)
{
    uint64_t z = net->seed ^ ((uint64_t)net->steps * UINT64_C(0x9e3779b97f4a7c15)) ^
                 ((uint64_t)(node + 1) * UINT64_C(0xd1b54a32d192ed03));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Checks what every run needs: a plan, and a tensor of the planned shape on the net's context. */
static clseg_status check_run(const clseg_net *net, const char *what, const char *arg, const clseg_tensor *t,
                              clseg_shape want, bool need_train)
{
    if (net == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    clseg_context *ctx = net->plan.ctx;
    if (!net->plan.valid)
        return clseg_fail(net->ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: the net is not planned (call clseg_net_plan)",
                          what);
    if (need_train && net->plan.mode != CLSEG_NET_TRAIN)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: the net is planned for inference; plan it with "
                          "CLSEG_NET_TRAIN to train", what);
    if (t == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: %s is NULL", what, arg);
    if (clseg_tensor_context(t) != ctx)
        return clseg_fail(ctx, CLSEG_STATUS_CONTEXT_MISMATCH, "%s: %s belongs to another context than the net", what,
                          arg);
    clseg_shape s = clseg_tensor_shape(t);
    if (s.n != want.n || s.c != want.c || s.h != want.h || s.w != want.w)
        return clseg_fail(ctx, CLSEG_STATUS_SHAPE_MISMATCH,
                          "%s: %s is %lldx%lldx%lldx%lld; the net is planned for %lldx%lldx%lldx%lld", what, arg,
                          (long long)s.n, (long long)s.c, (long long)s.h, (long long)s.w, (long long)want.n,
                          (long long)want.c, (long long)want.h, (long long)want.w);
    return CLSEG_STATUS_SUCCESS;
}

/* A batch norm with the ReLU after it fused in: y is the ReLU's output (fuse.c). */
static clseg_status forward_bn_relu(clseg_net *net, size_t i, const clseg_tensor *x, clseg_tensor *y)
{
    const net_node *n = &net->nodes[i];
    const net_node_plan *p = &net->plan.nodes[i];
    clseg_context *ctx = net->plan.ctx;
    clseg_tensor *w = param_value(net, n, NET_P_WEIGHT), *b = param_value(net, n, NET_P_BIAS);
    clseg_tensor *rm = param_value(net, n, NET_P_RUNNING_MEAN), *rv = param_value(net, n, NET_P_RUNNING_VAR);
    if (net->plan.mode == CLSEG_NET_TRAIN)
        return clseg_batchnorm2d_relu_forward_train(ctx, &n->bn, x, w, b, rm, rv, y, p->extra[0], p->extra[1],
                                                    net->plan.workspace);
    return clseg_batchnorm2d_relu_forward_infer(ctx, &n->bn, x, w, b, rm, rv, y);
}

static clseg_status forward_node(clseg_net *net, size_t i, const clseg_tensor *input)
{
    const net_node *n = &net->nodes[i];
    const net_node_plan *p = &net->plan.nodes[i];
    clseg_context *ctx = net->plan.ctx;
    clseg_tensor *ws = net->plan.workspace;
    clseg_tensor *y = clseg_net_node_out(net, (int)i, input);
    clseg_tensor *x = n->nin > 0 ? clseg_net_node_out(net, n->in[0], input) : NULL;
    bool train = net->plan.mode == CLSEG_NET_TRAIN;
    switch (n->kind) {
    case NET_INPUT:
        return CLSEG_STATUS_SUCCESS;
    case NET_CONV:
        return clseg_conv2d_forward(ctx, &n->conv, x, param_value(net, n, NET_P_WEIGHT),
                                    param_value(net, n, NET_P_BIAS), y, ws);
    case NET_BATCHNORM:
        if (p->fused_relu >= 0)
            return forward_bn_relu(net, i, x, clseg_net_node_out(net, p->fused_relu, input));
        if (train)
            return clseg_batchnorm2d_forward_train(ctx, &n->bn, x, param_value(net, n, NET_P_WEIGHT),
                                                   param_value(net, n, NET_P_BIAS),
                                                   param_value(net, n, NET_P_RUNNING_MEAN),
                                                   param_value(net, n, NET_P_RUNNING_VAR), y, p->extra[0],
                                                   p->extra[1], ws);
        return clseg_batchnorm2d_forward_infer(ctx, &n->bn, x, param_value(net, n, NET_P_WEIGHT),
                                               param_value(net, n, NET_P_BIAS),
                                               param_value(net, n, NET_P_RUNNING_MEAN),
                                               param_value(net, n, NET_P_RUNNING_VAR), y);
    case NET_RELU:
        if (p->fused) /* its batch norm wrote y */
            return CLSEG_STATUS_SUCCESS;
        return clseg_relu_forward(ctx, x, y);
    case NET_SIGMOID:
        return clseg_sigmoid_forward(ctx, x, y);
    case NET_DROPOUT:
        if (!train) /* the identity, in its input's memory */
            return CLSEG_STATUS_SUCCESS;
        return clseg_dropout_forward(ctx, x, n->p, dropout_seed(net, i), y, p->extra[0]);
    case NET_MAXPOOL:
        return clseg_maxpool2d_forward(ctx, &n->pool, x, y, p->extra[0]);
    case NET_MAXUNPOOL:
        return clseg_maxunpool2d_forward(ctx, &n->pool, x, net->plan.nodes[n->ref].extra[0], y);
    case NET_UPSAMPLE:
        return clseg_upsample2d_forward(ctx, &n->up, x, y);
    case NET_GAP:
        return clseg_global_avgpool_forward(ctx, x, y);
    case NET_ADD:
        return clseg_add(ctx, x, clseg_net_node_out(net, n->in[1], input), y);
    case NET_CONCAT: {
        const clseg_tensor *in[2] = {x, clseg_net_node_out(net, n->in[1], input)};
        return clseg_concat_forward(ctx, in, 2, y);
    }
    }
    return CLSEG_STATUS_INTERNAL;
}

clseg_status clseg_net_forward(clseg_net *net, const clseg_tensor *input)
{
    const char *what = "clseg_net_forward";
    clseg_status st = check_run(net, what, "input", input, net != NULL ? net->plan.input : (clseg_shape){0}, false);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    net->plan.last_input = input; /* backward reads it (a first conv's weight gradient) */
    for (size_t i = 0; i < net->n_nodes; i++)
        if ((st = forward_node(net, i, input)) != CLSEG_STATUS_SUCCESS)
            return layer_failed(net, what, i, st);
    return CLSEG_STATUS_SUCCESS;
}

/* The gradient of input k of node n, or NULL where nothing needs it (the net's input). */
static clseg_tensor *input_grad(const clseg_net *net, const net_node *n, int k, const clseg_tensor *doutput)
{
    if (n->in[k] == net->input && n->kind != NET_BATCHNORM && n->kind != NET_CONCAT)
        return NULL;
    return clseg_net_node_grad(net, n->in[k], doutput);
}

static clseg_status backward_node(clseg_net *net, size_t i, const clseg_tensor *doutput)
{
    const net_node *n = &net->nodes[i];
    const net_node_plan *p = &net->plan.nodes[i];
    clseg_context *ctx = net->plan.ctx;
    clseg_tensor *ws = net->plan.workspace;
    if (n->kind == NET_INPUT)
        return CLSEG_STATUS_SUCCESS;
    if (!p->live) { /* does not reach the output: its parameters get zero gradients */
        clseg_status st = CLSEG_STATUS_SUCCESS;
        for (int s = 0; s < NET_P_MAX && st == CLSEG_STATUS_SUCCESS; s++)
            if (param_grad(net, n, s) != NULL)
                st = clseg_fill(ctx, param_grad(net, n, s), 0.0f);
        return st;
    }
    const clseg_tensor *in0 = clseg_net_node_out(net, n->in[0], net->plan.last_input);
    clseg_tensor *dy = clseg_net_node_grad(net, (int)i, doutput);
    clseg_tensor *dx = input_grad(net, n, 0, doutput);
    clseg_status st = CLSEG_STATUS_SUCCESS;
    switch (n->kind) {
    case NET_INPUT:
        break;
    case NET_CONV:
        if (dx != NULL)
            st = clseg_conv2d_backward_data(ctx, &n->conv, dy, param_value(net, n, NET_P_WEIGHT), dx, p->beta[0], ws);
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_conv2d_backward_weights(ctx, &n->conv, in0, dy, param_grad(net, n, NET_P_WEIGHT),
                                               param_grad(net, n, NET_P_BIAS), 0.0f, ws);
        break;
    case NET_BATCHNORM:
        if (p->fused_relu >= 0) /* the ReLU's gradient, masked by its output */
            st = clseg_batchnorm2d_relu_backward(
                ctx, &n->bn, in0, clseg_net_node_out(net, p->fused_relu, net->plan.last_input),
                clseg_net_node_grad(net, p->fused_relu, doutput), param_value(net, n, NET_P_WEIGHT), p->extra[0],
                p->extra[1], dx, p->beta[0], param_grad(net, n, NET_P_WEIGHT), param_grad(net, n, NET_P_BIAS), 0.0f,
                ws);
        else
            st = clseg_batchnorm2d_backward(ctx, &n->bn, in0, dy, param_value(net, n, NET_P_WEIGHT), p->extra[0],
                                            p->extra[1], dx, p->beta[0], param_grad(net, n, NET_P_WEIGHT),
                                            param_grad(net, n, NET_P_BIAS), 0.0f, ws);
        break;
    case NET_RELU:
        if (dx != NULL && !p->fused) /* fused: its batch norm masks the gradient */
            st = clseg_relu_backward(ctx, clseg_net_node_out(net, (int)i, net->plan.last_input), dy, dx, p->beta[0]);
        break;
    case NET_SIGMOID:
        if (dx != NULL)
            st = clseg_sigmoid_backward(ctx, clseg_net_node_out(net, (int)i, net->plan.last_input), dy, dx, p->beta[0]);
        break;
    case NET_DROPOUT:
        if (dx != NULL)
            st = clseg_dropout_backward(ctx, dy, p->extra[0], dx, p->beta[0]);
        break;
    case NET_MAXPOOL:
        if (dx != NULL)
            st = clseg_maxpool2d_backward(ctx, &n->pool, dy, p->extra[0], dx, p->beta[0]);
        break;
    case NET_MAXUNPOOL:
        if (dx != NULL)
            st = clseg_maxunpool2d_backward(ctx, &n->pool, dy, net->plan.nodes[n->ref].extra[0], dx, p->beta[0]);
        break;
    case NET_UPSAMPLE:
        if (dx != NULL)
            st = clseg_upsample2d_backward(ctx, &n->up, dy, dx, p->beta[0]);
        break;
    case NET_GAP:
        if (dx != NULL)
            st = clseg_global_avgpool_backward(ctx, dy, dx, p->beta[0]);
        break;
    case NET_ADD:
        for (int k = 0; k < 2 && st == CLSEG_STATUS_SUCCESS; k++) {
            clseg_tensor *d = input_grad(net, n, k, doutput);
            if (d != NULL && !p->alias_in[k])
                st = clseg_axpby(ctx, 1.0f, dy, p->beta[k], d);
        }
        break;
    case NET_CONCAT: {
        /* concat_backward writes both parts, so a concat of the net's input is planned with a
         * gradient for the input too (see plan.c) */
        clseg_tensor *d[2] = {dx, input_grad(net, n, 1, doutput)};
        float beta = p->beta[0];
        if (p->beta[0] != p->beta[1]) { /* one input written already, one not: zero the other */
            int first = p->beta[0] == 0.0f ? 0 : 1;
            st = clseg_fill(ctx, d[first], 0.0f);
            beta = 1.0f;
        }
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_concat_backward(ctx, dy, d, 2, beta);
        break;
    }
    }
    return st;
}

clseg_status clseg_net_backward(clseg_net *net, const clseg_tensor *doutput)
{
    const char *what = "clseg_net_backward";
    clseg_status st = check_run(net, what, "doutput", doutput, net != NULL ? net->plan.output : (clseg_shape){0}, true);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    if (net->plan.last_input == NULL)
        return clseg_fail(net->plan.ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: run clseg_net_forward first", what);
    if (net->plan.output_grad_internal &&
        (st = clseg_copy(net->plan.ctx, doutput, clseg_net_node_grad(net, net->output, doutput))) != CLSEG_STATUS_SUCCESS)
        return st;
    for (size_t i = net->n_nodes; i-- > 0;)
        if ((st = backward_node(net, i, doutput)) != CLSEG_STATUS_SUCCESS)
            return layer_failed(net, what, i, st);
    return CLSEG_STATUS_SUCCESS;
}
