/* Planning: shapes per layer, then lifetimes, then memory. One pass serves clseg_net_plan
 * (which then allocates) and clseg_net_plan_estimate (which only counts).
 *
 * Activations: a node's output lives from its forward step to its last consumer; in training
 * it stays to the end when a backward pass reads it (the input of a conv or batch norm, the
 * output of a ReLU or sigmoid) or it is the net's output. ReLU runs in place on an input that
 * has no other consumer and whose own backward does not read it; inference dropout is the
 * identity and uses its input's memory.
 *
 * Gradients: node i's output gradient lives, in backward order, from the backward step of its
 * last consumer (its first writer, beta 0) to node i's own backward step (its reader). Later
 * writers accumulate (beta 1): that is how skip connections and residual adds sum their
 * gradients without copies. Element-wise layers (ReLU, sigmoid, dropout) write their input's
 * gradient over their own where the input has no other consumer, and an add passes its gradient
 * on unchanged to an input with no other consumer (same memory, no call at all).
 *
 * Both kinds of memory go into slots handed out greedily (the smallest free one that fits,
 * else the largest free one grown, else a new one); every slot is its own tensor, since one
 * device allocation may be limited (PoCL: 1 GiB). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clseg/activation.h"
#include "clseg/ops.h"
#include "net/net_internal.h"
#include "ops/check.h"

#define KEEP INT32_MAX

static const char *layer_label(const clseg_net *net, size_t i, char *buf, size_t size)
{
    const net_node *n = &net->nodes[i];
    if (n->name[0] != '\0')
        snprintf(buf, size, "%s '%s' (node %zu)", clseg_net_kind_str(n), n->name, i);
    else
        snprintf(buf, size, "%s (node %zu)", clseg_net_kind_str(n), i);
    return buf;
}

static clseg_shape conv_weight_shape(const net_node *n)
{
    return n->conv.transposed ? (clseg_shape){n->conv_in, n->channels, n->conv.kernel_h, n->conv.kernel_w}
                              : (clseg_shape){n->channels, n->conv_in, n->conv.kernel_h, n->conv.kernel_w};
}

static bool same_shape(clseg_shape a, clseg_shape b) { return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w; }

clseg_status clseg_net_infer_shapes(clseg_net *net, clseg_shape input, char *err, size_t err_size)
{
    char lab[160], s1[64], s2[64];
    for (size_t i = 0; i < net->n_nodes; i++) {
        net->nodes[i].shape = (clseg_shape){0, 0, 0, 0};
        net->nodes[i].flops = 0.0;
    }
    for (size_t i = 0; i < net->n_nodes; i++) {
        net_node *n = &net->nodes[i];
        clseg_shape x = n->nin > 0 ? net->nodes[n->in[0]].shape : input, y = x;
        double per_out = 0.0; /* nominal flops per output element */
        layer_label(net, i, lab, sizeof lab);
        switch (n->kind) {
        case NET_INPUT:
            y = input;
            break;
        case NET_CONV: {
            clseg_shape w = conv_weight_shape(n);
            if (clseg_conv2d_output_shape(&n->conv, x, w, &y) != CLSEG_STATUS_SUCCESS) {
                clseg_errbuf_set(err, err_size, "%s: input %s is too small for its kernel", lab,
                                 clseg_shape_str(x, s1, sizeof s1));
                return CLSEG_STATUS_SHAPE_MISMATCH;
            }
            n->flops = clseg_conv2d_flops(&n->conv, x, w);
            if (n->param[NET_P_BIAS] >= 0)
                n->flops += (double)clseg_shape_numel(y);
            break;
        }
        case NET_BATCHNORM:
            per_out = 2.0; /* one multiply and one add per element (statistics not counted) */
            break;
        case NET_RELU:
        case NET_DROPOUT:
            per_out = 1.0;
            break;
        case NET_SIGMOID:
            per_out = 4.0; /* negate, exp, add, divide */
            break;
        case NET_MAXPOOL:
            if (clseg_pool2d_output_shape(&n->pool, x, &y) != CLSEG_STATUS_SUCCESS) {
                clseg_errbuf_set(err, err_size, "%s: input %s is too small for its window", lab,
                                 clseg_shape_str(x, s1, sizeof s1));
                return CLSEG_STATUS_SHAPE_MISMATCH;
            }
            per_out = (double)n->pool.kernel_h * n->pool.kernel_w - 1.0; /* comparisons */
            break;
        case NET_MAXUNPOOL: {
            const net_node *p = &net->nodes[n->ref];
            if (!same_shape(x, p->shape)) {
                clseg_errbuf_set(err, err_size, "%s: x is %s but pooling node %d produced %s", lab,
                                 clseg_shape_str(x, s1, sizeof s1), n->ref, clseg_shape_str(p->shape, s2, sizeof s2));
                return CLSEG_STATUS_SHAPE_MISMATCH;
            }
            y = net->nodes[p->in[0]].shape;
            break;
        }
        case NET_UPSAMPLE:
            if (n->ref >= 0) {
                y = (clseg_shape){x.n, x.c, net->nodes[n->ref].shape.h, net->nodes[n->ref].shape.w};
            } else if (clseg_upsample2d_output_shape(&n->up, x, &y) != CLSEG_STATUS_SUCCESS || y.h < 1 || y.w < 1) {
                clseg_errbuf_set(err, err_size, "%s: input %s scaled by %gx%g is empty", lab,
                                 clseg_shape_str(x, s1, sizeof s1), (double)n->up.scale_h, (double)n->up.scale_w);
                return CLSEG_STATUS_SHAPE_MISMATCH;
            }
            per_out = n->up.mode == CLSEG_UPSAMPLE_BILINEAR ? 7.0 : 0.0; /* 4 multiplies, 3 adds */
            break;
        case NET_GAP:
            y = (clseg_shape){x.n, x.c, 1, 1};
            n->flops = (double)clseg_shape_numel(x); /* one add per input element */
            break;
        case NET_ADD:
        case NET_CONCAT: {
            clseg_shape b = net->nodes[n->in[1]].shape;
            bool ok = n->kind == NET_ADD ? same_shape(x, b) : (x.n == b.n && x.h == b.h && x.w == b.w);
            if (!ok) {
                clseg_errbuf_set(err, err_size, "%s: inputs %s (node %d) and %s (node %d) do not fit together", lab,
                                 clseg_shape_str(x, s1, sizeof s1), n->in[0], clseg_shape_str(b, s2, sizeof s2),
                                 n->in[1]);
                return CLSEG_STATUS_SHAPE_MISMATCH;
            }
            if (n->kind == NET_CONCAT)
                y.c = x.c + b.c;
            else
                per_out = 1.0;
            break;
        }
        }
        n->shape = y;
        if (per_out > 0.0)
            n->flops = per_out * (double)clseg_shape_numel(y);
    }
    return CLSEG_STATUS_SUCCESS;
}

/* --- slots ----------------------------------------------------------------------------- */

typedef struct slot_pool {
    size_t count, cap;
    size_t *floats;
    bool *busy;
} slot_pool;

static int slot_take(slot_pool *p, size_t floats)
{
    int best = -1, largest = -1;
    for (size_t i = 0; i < p->count; i++) {
        if (p->busy[i])
            continue;
        if (p->floats[i] >= floats && (best < 0 || p->floats[i] < p->floats[best]))
            best = (int)i;
        if (largest < 0 || p->floats[i] > p->floats[largest])
            largest = (int)i;
    }
    if (best < 0 && largest >= 0) {
        best = largest;
        p->floats[best] = floats;
    }
    if (best < 0) {
        if (p->count == p->cap) {
            size_t cap = p->cap ? 2 * p->cap : 16;
            size_t *f = realloc(p->floats, cap * sizeof *f);
            if (f != NULL)
                p->floats = f;
            bool *b = realloc(p->busy, cap * sizeof *b);
            if (b != NULL)
                p->busy = b;
            if (f == NULL || b == NULL)
                return -1;
            p->cap = cap;
        }
        best = (int)p->count++;
        p->floats[best] = floats;
    }
    p->busy[best] = true;
    return best;
}

static void slot_pool_free(slot_pool *p)
{
    free(p->floats);
    free(p->busy);
}

static uint64_t sum_floats(const size_t *f, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += (uint64_t)f[i] * sizeof(float);
    return s;
}

/* --- lifetimes and slots ----------------------------------------------------------------- */

static bool reads_own_output(net_kind k) { return k == NET_RELU || k == NET_SIGMOID; }
static bool reads_input(net_kind k) { return k == NET_CONV || k == NET_BATCHNORM; }

/* Fills plan->nodes (roots, lifetimes, slots, betas) and the slot sizes. */
static clseg_status assign_memory(const clseg_net *net, net_plan *plan, char *err, size_t err_size)
{
    size_t n = net->n_nodes;
    bool train = plan->mode == CLSEG_NET_TRAIN;
    int *consumers = calloc(n, sizeof *consumers);     /* data uses, with multiplicity */
    int *last_consumer = calloc(n, sizeof *last_consumer);
    bool *kept = calloc(n, sizeof *kept);
    bool *needs_grad = calloc(n, sizeof *needs_grad);
    bool *written = calloc(n, sizeof *written);
    bool *has_grad_slot = calloc(n, sizeof *has_grad_slot);
    bool *released = calloc(n, sizeof *released), *grad_released = calloc(n, sizeof *grad_released);
    slot_pool acts = {0}, grads = {0};
    clseg_status st = CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    if (!consumers || !last_consumer || !kept || !needs_grad || !written || !has_grad_slot || !released ||
        !grad_released)
        goto done;
    for (size_t i = 0; i < n; i++) {
        const net_node *nd = &net->nodes[i];
        last_consumer[i] = (int)i;
        for (int k = 0; k < nd->nin; k++) {
            consumers[nd->in[k]]++;
            last_consumer[nd->in[k]] = (int)i;
            if (train && reads_input(nd->kind))
                kept[nd->in[k]] = true;
        }
        if (train && reads_own_output(nd->kind))
            kept[i] = true;
    }
    kept[net->output] = true;
    /* An output that also feeds other layers gets its own gradient memory, into which backward
     * first copies dL/doutput; a final output's gradient is dL/doutput itself. */
    plan->output_grad_internal = consumers[net->output] > 0;
    int ext = plan->output_grad_internal ? -1 : net->output;

    /* live: contributes to the output. */
    for (size_t j = n; j-- > 0;) {
        net_node_plan *p = &plan->nodes[j];
        p->root = (int)j;
        p->grad_root = -1;
        p->act_slot = p->grad_slot = -1;
        p->live = (int)j == net->output;
    }
    for (size_t j = n; j-- > 0;)
        if (plan->nodes[j].live)
            for (int k = 0; k < net->nodes[j].nin; k++)
                plan->nodes[net->nodes[j].in[k]].live = true;

    /* Activation roots: in-place ReLU, inference dropout as the identity. */
    for (size_t i = 0; i < n; i++) {
        const net_node *nd = &net->nodes[i];
        if (nd->kind != NET_RELU && !(nd->kind == NET_DROPOUT && !train))
            continue;
        int x = nd->in[0];
        const net_node *xn = &net->nodes[x];
        if (nd->kind == NET_DROPOUT) {
            plan->nodes[i].root = plan->nodes[x].root;
            continue;
        }
        bool ok = consumers[x] == 1 && xn->kind != NET_INPUT && x != net->output && plan->nodes[x].root == x &&
                  !(train && reads_own_output(xn->kind));
        if (ok)
            plan->nodes[i].root = x;
    }
    /* A root's memory is needed until the last use of any node living in it. */
    for (size_t i = 0; i < n; i++)
        plan->nodes[i].last_use = (int)i;
    for (size_t i = 0; i < n; i++) {
        int r = plan->nodes[i].root;
        int use = kept[i] ? KEEP : last_consumer[i];
        if (use > plan->nodes[r].last_use)
            plan->nodes[r].last_use = use;
    }
    plan->act_unshared_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (net->nodes[i].kind != NET_INPUT && plan->nodes[i].root == (int)i)
            plan->act_unshared_bytes += clseg_shape_numel(net->nodes[i].shape) * sizeof(float);
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t r = 0; r < i; r++) /* free what no later step reads */
            if (plan->nodes[r].act_slot >= 0 && plan->nodes[r].last_use < (int)i && !released[r]) {
                acts.busy[plan->nodes[r].act_slot] = false;
                released[r] = true;
            }
        if (net->nodes[i].kind == NET_INPUT || plan->nodes[i].root != (int)i)
            continue;
        plan->nodes[i].act_slot = slot_take(&acts, clseg_shape_numel(net->nodes[i].shape));
        if (plan->nodes[i].act_slot < 0)
            goto done;
    }

    if (train) {
        /* Which gradients exist: every live node's but the input's, unless a batch norm reads the
         * input (its backward always writes dx). */
        for (size_t i = 0; i < n; i++) {
            if (!plan->nodes[i].live || net->nodes[i].kind == NET_INPUT)
                continue;
            needs_grad[i] = true;
            const net_node *nd = &net->nodes[i];
            /* batch norm and concat backward calls always write their inputs' gradients */
            for (int k = 0; k < nd->nin; k++)
                if ((nd->kind == NET_BATCHNORM || nd->kind == NET_CONCAT) && nd->in[k] == net->input)
                    needs_grad[net->input] = true;
        }
        for (size_t j = n; j-- > 0;) {
            net_node_plan *p = &plan->nodes[j];
            if (needs_grad[j] && p->grad_root < 0)
                p->grad_root = (int)j;
            if (!p->live || (int)j == ext)
                continue;
            const net_node *nd = &net->nodes[j];
            bool elementwise = nd->kind == NET_RELU || nd->kind == NET_SIGMOID || nd->kind == NET_DROPOUT;
            for (int k = 0; k < nd->nin; k++) {
                int x = nd->in[k];
                if (!(elementwise || nd->kind == NET_ADD) || !needs_grad[x] || consumers[x] != 1 ||
                    net->nodes[x].kind == NET_INPUT)
                    continue;
                if (nd->kind == NET_ADD && (p->alias_in[0] || p->alias_in[1]))
                    continue;
                plan->nodes[x].grad_root = p->grad_root;
                if (nd->kind == NET_ADD)
                    p->alias_in[k] = true;
            }
        }
        /* The output's gradient: plan->doutput (or the caller's). Betas, and slots in backward order. */
        plan->grad_unshared_bytes = 0;
        for (size_t i = 0; i < n; i++)
            if (needs_grad[i] && (int)i != ext)
                plan->grad_unshared_bytes += clseg_shape_numel(net->nodes[i].shape) * sizeof(float);
        if (ext < 0) { /* written first, by the copy of dL/doutput */
            int g = plan->nodes[net->output].grad_root;
            plan->nodes[g].grad_slot = slot_take(&grads, clseg_shape_numel(net->nodes[g].shape));
            if (plan->nodes[g].grad_slot < 0)
                goto done;
            has_grad_slot[g] = true;
            written[net->output] = true;
        }
        for (size_t j = n; j-- > 0;) {
            /* Gradients whose reader (the lowest node using that memory) is above j are free. */
            for (size_t g = j + 1; g < n; g++) {
                int s = plan->nodes[g].grad_slot;
                if (s < 0 || grad_released[g])
                    continue;
                bool done_reading = true;
                for (size_t v = 0; v <= j; v++)
                    if (plan->nodes[v].grad_root == (int)g) {
                        done_reading = false;
                        break;
                    }
                if (done_reading) {
                    grads.busy[s] = false;
                    grad_released[g] = true;
                }
            }
            const net_node *nd = &net->nodes[j];
            net_node_plan *p = &plan->nodes[j];
            if (!p->live)
                continue;
            for (int k = 0; k < nd->nin; k++) {
                int x = nd->in[k];
                if (x == net->input && nd->kind != NET_BATCHNORM && nd->kind != NET_CONCAT)
                    continue; /* the call skips the net input's gradient */
                p->beta[k] = written[x] ? 1.0f : 0.0f;
                written[x] = true;
                int g = plan->nodes[x].grad_root;
                if (g < 0 || g == ext || has_grad_slot[g])
                    continue;
                plan->nodes[g].grad_slot = slot_take(&grads, clseg_shape_numel(net->nodes[g].shape));
                if (plan->nodes[g].grad_slot < 0)
                    goto done;
                has_grad_slot[g] = true;
            }
        }
    }

    plan->n_act_slots = acts.count;
    plan->act_slot_floats = acts.floats;
    acts.floats = NULL;
    plan->n_grad_slots = grads.count;
    plan->grad_slot_floats = grads.floats;
    grads.floats = NULL;
    st = CLSEG_STATUS_SUCCESS;
done:
    if (st == CLSEG_STATUS_OUT_OF_HOST_MEMORY)
        clseg_errbuf_set(err, err_size, "clseg_net_plan: out of host memory");
    slot_pool_free(&acts);
    slot_pool_free(&grads);
    free(consumers);
    free(last_consumer);
    free(kept);
    free(needs_grad);
    free(written);
    free(has_grad_slot);
    free(released);
    free(grad_released);
    return st;
}

static size_t layer_workspace(const clseg_net *net, const clseg_context *ctx, size_t i, clseg_net_mode mode)
{
    const net_node *n = &net->nodes[i];
    clseg_shape x = n->nin > 0 ? net->nodes[n->in[0]].shape : n->shape;
    if (n->kind == NET_CONV)
        return clseg_conv2d_workspace_bytes(ctx, &n->conv, x, conv_weight_shape(n));
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
                                 layer_label(net, i, lab, sizeof lab), clseg_shape_str(x, s1, sizeof s1));
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
    if ((st = assign_memory(net, plan, err, err_size)) != CLSEG_STATUS_SUCCESS)
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

/* Parameters (first plan) and, for training, gradients and moments: allocated once, kept. */
static clseg_status ensure_params(clseg_net *net, clseg_context *ctx, clseg_net_mode mode, uint64_t seed)
{
    clseg_status st = CLSEG_STATUS_SUCCESS;
    if (net->ctx == NULL) {
        net->ctx = ctx;
        net->values = flat_tensor(ctx, net->trainable_floats, &st);
        net->buffers = flat_tensor(ctx, net->buffer_floats, &st);
        for (size_t i = 0; st == CLSEG_STATUS_SUCCESS && i < net->n_params; i++) {
            net_param *p = &net->params[i];
            st = clseg_tensor_view(p->trainable ? net->values : net->buffers, p->offset, p->shape, &p->value);
        }
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
        for (size_t i = 0; st == CLSEG_STATUS_SUCCESS && i < net->n_params; i++) {
            net_param *p = &net->params[i];
            if (p->trainable)
                st = clseg_tensor_view(net->grads, p->offset, p->shape, &p->grad);
        }
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
    if (net->ctx != NULL && net->ctx != ctx)
        return clseg_fail(ctx, CLSEG_STATUS_CONTEXT_MISMATCH,
                          "clseg_net_plan: the net's parameters live on another context; build a new net for this one");
    clseg_net_plan_release(&net->plan);
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
