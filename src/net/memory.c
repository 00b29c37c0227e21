/* Memory planning: which node's memory each output and gradient uses, and the slots.
 *
 * Activations: a node's output lives from its forward step to its last consumer; in training
 * it stays to the end when a backward pass reads it (the input of a conv or batch norm, the
 * output of a ReLU or sigmoid) or it is the net's output. Element-wise layers run in place on
 * an input that has no other consumer and whose own backward does not read it; inference
 * dropout is the identity and uses its input's memory.
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
#include <stdlib.h>

#include "net/net_internal.h"

#define KEEP INT32_MAX /* memory needed until the end of the step */

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

/* --- lifetimes and slots ----------------------------------------------------------------- */

static bool reads_own_output(net_kind k) { return k == NET_RELU || k == NET_SIGMOID; }
static bool reads_input(net_kind k) { return k == NET_CONV || k == NET_BATCHNORM; }

/* Fills plan->nodes (roots, lifetimes, slots, betas) and the slot sizes. */
clseg_status clseg_net_assign_memory(const clseg_net *net, net_plan *plan, char *err, size_t err_size)
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
    int *reader = calloc(n, sizeof *reader);
    bool *exclusive = calloc(n, sizeof *exclusive); /* only this node reads its memory from now on */
    slot_pool acts = {0}, grads = {0};
    clseg_status st = CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    if (!consumers || !last_consumer || !kept || !needs_grad || !written || !has_grad_slot || !released ||
        !grad_released || !reader ||
        !exclusive)
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

    /* Activation roots. Inference dropout is the identity: its input's memory. ReLU, sigmoid,
     * training dropout, add and inference batch norm write over an input that nothing else
     * reads: not the net's input or output, not memory that an identity shares, and in
     * training not the output of a layer whose backward reads it (ReLU, sigmoid). Chains work
     * (an add, then a ReLU over it, in the add's input's memory): each link's input had no
     * other reader. Training batch norm's backward reads its input: never in place there. */
    for (size_t i = 0; i < n; i++) {
        const net_node *nd = &net->nodes[i];
        exclusive[i] = true;
        if (nd->kind == NET_DROPOUT && !train) {
            plan->nodes[i].root = plan->nodes[nd->in[0]].root;
            exclusive[i] = false;
            continue;
        }
        bool candidate = nd->kind == NET_RELU || nd->kind == NET_SIGMOID || nd->kind == NET_DROPOUT ||
                         nd->kind == NET_ADD || (nd->kind == NET_BATCHNORM && !train);
        for (int k = 0; candidate && k < nd->nin; k++) {
            int x = nd->in[k];
            const net_node *xn = &net->nodes[x];
            bool ok = consumers[x] == 1 && xn->kind != NET_INPUT && x != net->output && exclusive[x] &&
                      !(train && reads_own_output(xn->kind));
            if (ok) {
                plan->nodes[i].root = plan->nodes[x].root;
                break;
            }
        }
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
        if (net->nodes[i].kind != NET_INPUT && !(net->nodes[i].kind == NET_DROPOUT && !train))
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
        for (size_t v = n; v-- > 0;) /* the lowest node reading each gradient memory */
            if (plan->nodes[v].grad_root >= 0)
                reader[plan->nodes[v].grad_root] = (int)v;
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
                if (reader[g] > (int)j) {
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
    free(reader);
    free(exclusive);
    return st;
}

