/* Planning: shapes (shapes.c), lifetimes and slots (memory.c), then byte counts and, for
 * clseg_net_plan, the tensors. One pass serves clseg_net_plan and clseg_net_plan_estimate. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clseg/ops.h"
#include "net/net_internal.h"
#include "ops/check.h"

static uint64_t sum_floats(const size_t *f, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += (uint64_t)f[i] * sizeof(float);
    return s;
}

static size_t layer_workspace(const clseg_net *net, const clseg_context *ctx, size_t i, clseg_net_mode mode)
{
    const net_node *n = &net->nodes[i];
    clseg_shape x = n->nin > 0 ? net->nodes[n->in[0]].shape : n->shape;
    if (n->kind == NET_CONV)
        return clseg_conv2d_workspace_bytes(ctx, &n->conv, x, clseg_net_conv_weight_shape(n));
    if (n->kind == NET_BATCHNORM && mode == CLSEG_NET_TRAIN)
        return clseg_batchnorm2d_workspace_bytes(ctx, x);
    return 0;
}

/* Extra per-layer tensors: shapes (zero n: none). */
static void extra_shapes(const clseg_net *net, size_t i, clseg_net_mode mode, clseg_shape out[2])
{
    const net_node *n = &net->nodes[i];
    out[0] = out[1] = (clseg_shape){0, 0, 0, 0};
    if (n->kind == NET_BATCHNORM && mode == CLSEG_NET_TRAIN)
        out[0] = out[1] = (clseg_shape){1, 1, 1, n->channels};
    else if (n->kind == NET_MAXPOOL)
        out[0] = n->shape;
    else if (n->kind == NET_DROPOUT && mode == CLSEG_NET_TRAIN)
        out[0] = n->shape;
}

/* Shapes, memory assignment and byte counts, without allocating tensors. */
static clseg_status plan_layout(clseg_net *net, const clseg_context *ctx, clseg_shape input, clseg_net_mode mode,
                                net_plan *plan, char *err, size_t err_size)
{
    char s1[64];
    if (net->build_status != CLSEG_STATUS_SUCCESS) {
        clseg_errbuf_set(err, err_size, "clseg_net_plan: the net failed to build: %s", net->build_message);
        return net->build_status;
    }
    if (net->input < 0 || net->output < 0) {
        clseg_errbuf_set(err, err_size, "clseg_net_plan: the net has no %s", net->input < 0 ? "input" : "output");
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    if (mode != CLSEG_NET_INFER && mode != CLSEG_NET_TRAIN) {
        clseg_errbuf_set(err, err_size, "clseg_net_plan: unknown mode %d", (int)mode);
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    if (input.n < 1 || input.c < 1 || input.h < 1 || input.w < 1 || clseg_shape_numel(input) == 0) {
        clseg_errbuf_set(err, err_size, "clseg_net_plan: input shape %s is invalid",
                         clseg_shape_str(input, s1, sizeof s1));
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    if (input.c != net->nodes[net->input].channels) {
        clseg_errbuf_set(err, err_size, "clseg_net_plan: the input has %lld channels; the net's input node takes %lld",
                         (long long)input.c, (long long)net->nodes[net->input].channels);
        return CLSEG_STATUS_SHAPE_MISMATCH;
    }
    clseg_status st = clseg_net_infer_shapes(net, input, err, err_size);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    if (mode == CLSEG_NET_TRAIN)
        for (size_t i = 0; i < net->n_nodes; i++) {
            clseg_shape x = net->nodes[i].shape;
            if (net->nodes[i].kind == NET_BATCHNORM && x.n * x.h * x.w < 2) {
                char lab[160];
                clseg_errbuf_set(err, err_size, "%s: training needs more than one value per channel (input %s)",
                                 clseg_net_layer_label(net, i, lab, sizeof lab), clseg_shape_str(x, s1, sizeof s1));
                return CLSEG_STATUS_SHAPE_MISMATCH;
            }
        }
    plan->mode = mode;
    plan->input = input;
    plan->output = net->nodes[net->output].shape;
    plan->nodes = calloc(net->n_nodes, sizeof *plan->nodes);
    plan->n_nodes = net->n_nodes;
    if (plan->nodes == NULL) {
        clseg_errbuf_set(err, err_size, "clseg_net_plan: out of host memory");
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    if ((st = clseg_net_assign_memory(net, plan, err, err_size)) != CLSEG_STATUS_SUCCESS ||
        (st = clseg_net_plan_fusions(net, plan, err, err_size)) != CLSEG_STATUS_SUCCESS)
        return st;

    clseg_net_memory *m = &plan->mem;
    memset(m, 0, sizeof *m);
    m->params = (uint64_t)(net->trainable_floats + net->buffer_floats) * sizeof(float);
    m->activations = sum_floats(plan->act_slot_floats, plan->n_act_slots);
    size_t ws = 0;
    for (size_t i = 0; i < net->n_nodes; i++) {
        size_t b = layer_workspace(net, ctx, i, mode);
        ws = b > ws ? b : ws;
        clseg_shape e[2];
        extra_shapes(net, i, mode, e);
        for (int k = 0; k < 2; k++)
            m->activations += (uint64_t)clseg_shape_numel(e[k]) * sizeof(float);
    }
    if (mode == CLSEG_NET_TRAIN) {
        size_t b = clseg_loss_workspace_bytes(ctx, net->nodes[net->output].shape);
        ws = b > ws ? b : ws;
        m->grads = (uint64_t)net->trainable_floats * sizeof(float) + sum_floats(plan->grad_slot_floats, plan->n_grad_slots) +
                   (uint64_t)clseg_shape_numel(net->nodes[net->output].shape) * sizeof(float);
        m->optimizer = 2 * (uint64_t)net->trainable_floats * sizeof(float);
        m->activations += sizeof(float); /* the loss value */
    }
    plan->workspace_bytes = ws < sizeof(float) ? sizeof(float) : ws;
    m->workspace = plan->workspace_bytes;
    m->total = m->params + m->grads + m->optimizer + m->activations + m->workspace;
    return CLSEG_STATUS_SUCCESS;
}

void clseg_net_plan_release(net_plan *plan)
{
    for (size_t i = 0; plan->nodes != NULL && i < plan->n_nodes; i++) {
        net_node_plan *p = &plan->nodes[i];
        clseg_tensor_destroy(p->out);
        clseg_tensor_destroy(p->grad);
        clseg_tensor_destroy(p->extra[0]);
        clseg_tensor_destroy(p->extra[1]);
    }
    for (size_t i = 0; plan->act_slots != NULL && i < plan->n_act_slots; i++)
        clseg_tensor_destroy(plan->act_slots[i]);
    for (size_t i = 0; plan->grad_slots != NULL && i < plan->n_grad_slots; i++)
        clseg_tensor_destroy(plan->grad_slots[i]);
    clseg_tensor_destroy(plan->workspace);
    clseg_tensor_destroy(plan->loss_value);
    clseg_tensor_destroy(plan->doutput);
    free(plan->act_slots);
    free(plan->grad_slots);
    free(plan->act_slot_floats);
    free(plan->grad_slot_floats);
    free(plan->nodes);
    memset(plan, 0, sizeof *plan);
}

static clseg_tensor *flat_tensor(clseg_context *ctx, size_t floats, clseg_status *st)
{
    clseg_tensor *t = NULL;
    if (*st == CLSEG_STATUS_SUCCESS && floats > 0)
        *st = clseg_tensor_create(ctx, (clseg_shape){1, 1, 1, (int64_t)floats}, &t);
    return t;
}

/* Views of every parameter (and, with gradients allocated, of every gradient) into the flat
 * tensors, replacing any earlier ones. */
static clseg_status make_views(clseg_net *net)
{
    clseg_status st = CLSEG_STATUS_SUCCESS;
    for (size_t i = 0; i < net->n_params; i++) {
        net_param *p = &net->params[i];
        clseg_tensor_destroy(p->value);
        clseg_tensor_destroy(p->grad);
        p->value = p->grad = NULL;
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_tensor_view(p->trainable ? net->values : net->buffers, p->offset, p->shape, &p->value);
        if (st == CLSEG_STATUS_SUCCESS && p->trainable && net->grads != NULL)
            st = clseg_tensor_view(net->grads, p->offset, p->shape, &p->grad);
    }
    return st;
}

/* Moves the parameters, buffers, gradients and optimiser moments to ctx, through the host
 * (blocking copies); on failure everything stays where it was. */
static clseg_status move_params(clseg_net *net, clseg_context *ctx)
{
    clseg_tensor **flat[5] = {&net->values, &net->buffers, &net->grads, &net->moment1, &net->moment2};
    clseg_tensor *moved[5] = {NULL, NULL, NULL, NULL, NULL};
    clseg_status st = CLSEG_STATUS_SUCCESS;
    for (int k = 0; k < 5 && st == CLSEG_STATUS_SUCCESS; k++) {
        if (*flat[k] == NULL)
            continue;
        size_t n = clseg_tensor_numel(*flat[k]);
        float *host = malloc(n * sizeof *host);
        if (host == NULL)
            st = clseg_fail(ctx, CLSEG_STATUS_OUT_OF_HOST_MEMORY, "clseg_net_plan: out of host memory");
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_tensor_download(*flat[k], host, n);
        moved[k] = flat_tensor(ctx, n, &st);
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_tensor_upload(moved[k], host, n);
        free(host);
    }
    if (st != CLSEG_STATUS_SUCCESS) {
        for (int k = 0; k < 5; k++)
            clseg_tensor_destroy(moved[k]);
        return st;
    }
    for (int k = 0; k < 5; k++) {
        clseg_tensor_destroy(*flat[k]);
        *flat[k] = moved[k];
    }
    net->ctx = ctx;
    return make_views(net);
}

/* Parameters (first plan) and, for training, gradients and moments: allocated once, kept. */
static clseg_status ensure_params(clseg_net *net, clseg_context *ctx, clseg_net_mode mode, uint64_t seed)
{
    clseg_status st = CLSEG_STATUS_SUCCESS;
    if (net->ctx == NULL) {
        net->ctx = ctx;
        net->values = flat_tensor(ctx, net->trainable_floats, &st);
        net->buffers = flat_tensor(ctx, net->buffer_floats, &st);
        if (st == CLSEG_STATUS_SUCCESS)
            st = make_views(net);
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_net_init_values(net, seed);
        if (st != CLSEG_STATUS_SUCCESS) { /* back to unplanned, so a later plan starts over */
            for (size_t i = 0; i < net->n_params; i++) {
                clseg_tensor_destroy(net->params[i].value);
                net->params[i].value = NULL;
            }
            clseg_tensor_destroy(net->values);
            clseg_tensor_destroy(net->buffers);
            net->values = net->buffers = NULL;
            net->ctx = NULL;
            return st;
        }
    }
    if (mode == CLSEG_NET_TRAIN && net->grads == NULL && net->trainable_floats > 0) {
        net->grads = flat_tensor(ctx, net->trainable_floats, &st);
        net->moment1 = flat_tensor(ctx, net->trainable_floats, &st);
        net->moment2 = flat_tensor(ctx, net->trainable_floats, &st);
        if (st == CLSEG_STATUS_SUCCESS)
            st = make_views(net);
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_fill(ctx, net->grads, 0.0f);
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_fill(ctx, net->moment1, 0.0f);
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_fill(ctx, net->moment2, 0.0f);
        if (st != CLSEG_STATUS_SUCCESS) {
            for (size_t i = 0; i < net->n_params; i++) {
                clseg_tensor_destroy(net->params[i].grad);
                net->params[i].grad = NULL;
            }
            clseg_tensor_destroy(net->grads);
            clseg_tensor_destroy(net->moment1);
            clseg_tensor_destroy(net->moment2);
            net->grads = net->moment1 = net->moment2 = NULL;
        }
    }
    return st;
}

static clseg_status allocate_plan(clseg_net *net, clseg_context *ctx, net_plan *plan)
{
    clseg_status st = CLSEG_STATUS_SUCCESS;
    plan->act_slots = calloc(plan->n_act_slots + 1, sizeof *plan->act_slots);
    plan->grad_slots = calloc(plan->n_grad_slots + 1, sizeof *plan->grad_slots);
    if (plan->act_slots == NULL || plan->grad_slots == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_OUT_OF_HOST_MEMORY, "clseg_net_plan: out of host memory");
    for (size_t s = 0; st == CLSEG_STATUS_SUCCESS && s < plan->n_act_slots; s++)
        plan->act_slots[s] = flat_tensor(ctx, plan->act_slot_floats[s], &st);
    for (size_t s = 0; st == CLSEG_STATUS_SUCCESS && s < plan->n_grad_slots; s++)
        plan->grad_slots[s] = flat_tensor(ctx, plan->grad_slot_floats[s], &st);
    plan->workspace = flat_tensor(ctx, (plan->workspace_bytes + sizeof(float) - 1) / sizeof(float), &st);
    if (plan->mode == CLSEG_NET_TRAIN) {
        plan->loss_value = flat_tensor(ctx, 1, &st);
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_tensor_create(ctx, net->nodes[net->output].shape, &plan->doutput);
    }
    for (size_t i = 0; st == CLSEG_STATUS_SUCCESS && i < net->n_nodes; i++) {
        net_node_plan *p = &plan->nodes[i];
        if (p->act_slot >= 0)
            st = clseg_tensor_view(plan->act_slots[p->act_slot], 0, net->nodes[i].shape, &p->out);
        if (st == CLSEG_STATUS_SUCCESS && p->grad_slot >= 0)
            st = clseg_tensor_view(plan->grad_slots[p->grad_slot], 0, net->nodes[i].shape, &p->grad);
        clseg_shape e[2];
        extra_shapes(net, i, plan->mode, e);
        for (int k = 0; k < 2 && st == CLSEG_STATUS_SUCCESS; k++)
            if (e[k].n > 0)
                st = clseg_tensor_create(ctx, e[k], &p->extra[k]);
    }
    return st;
}

clseg_status clseg_net_plan(clseg_net *net, clseg_context *ctx, clseg_shape input, clseg_net_mode mode, uint64_t seed)
{
    if (net == NULL || ctx == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "clseg_net_plan: NULL %s", net == NULL ? "net" : "ctx");
    clseg_net_plan_release(&net->plan);
    if (net->ctx != NULL && net->ctx != ctx) {
        clseg_status mst = move_params(net, ctx);
        if (mst != CLSEG_STATUS_SUCCESS) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", clseg_context_last_error(ctx));
            return clseg_fail(ctx, mst, "clseg_net_plan: moving the parameters to this context failed: %s", msg);
        }
    }
    char err[512] = "";
    net_plan plan = {0};
    clseg_status st = plan_layout(net, ctx, input, mode, &plan, err, sizeof err);
    if (st != CLSEG_STATUS_SUCCESS) {
        clseg_net_plan_release(&plan);
        return clseg_fail(ctx, st, "%s", err);
    }
    st = ensure_params(net, ctx, mode, seed);
    plan.ctx = ctx;
    net->plan = plan;
    if (st == CLSEG_STATUS_SUCCESS)
        st = allocate_plan(net, ctx, &net->plan);
    if (st != CLSEG_STATUS_SUCCESS) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", clseg_context_last_error(ctx));
            clseg_net_plan_release(&net->plan);
        return clseg_fail(ctx, st, "clseg_net_plan: allocating the plan failed: %s", msg);
    }
    net->plan.valid = true;
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_net_plan_estimate(clseg_net *net, const clseg_context *ctx, clseg_shape input, clseg_net_mode mode,
                                     clseg_net_memory *mem)
{
    if (net == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    char err[512] = "";
    net_plan plan = {0};
    clseg_status st = plan_layout(net, ctx, input, mode, &plan, err, sizeof err);
    if (st == CLSEG_STATUS_SUCCESS && mem != NULL)
        *mem = plan.mem;
    if (st != CLSEG_STATUS_SUCCESS && ctx != NULL)
        clseg_fail((clseg_context *)ctx, st, "%s", err);
    clseg_net_plan_release(&plan);
    return st;
}
