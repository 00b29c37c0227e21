/* Fusion: a batch norm whose only reader is a ReLU runs that ReLU itself (clseg_batchnorm2d_relu_*),
 * saving the ReLU's pass over the activation forward and its pass over the gradient backward.
 *
 * The memory plan already puts such a ReLU in place on the batch norm's output and its gradient
 * over the batch norm's (memory.c), so the fused batch norm writes exactly the memory the ReLU
 * would have written, and reads the gradient the ReLU would have masked; fusion is checked
 * against that plan rather than assumed, and a net output, a second reader or memory the plan did
 * not share keeps the two layers apart. Node names, kinds and parameters do not change. */
#include <stdlib.h>
#include <string.h>

#include "net/net_internal.h"

/* CLSEG_FUSION=off (or 0) turns fusion off, for A/B measurements and tests. */
static bool fusion_enabled(void)
{
    const char *v = getenv("CLSEG_FUSION");
    return v == NULL || (strcmp(v, "off") != 0 && strcmp(v, "0") != 0);
}

clseg_status clseg_net_plan_fusions(const clseg_net *net, net_plan *plan, char *err, size_t err_size)
{
    size_t n = net->n_nodes;
    for (size_t i = 0; i < n; i++) {
        plan->nodes[i].fused_relu = -1;
        plan->nodes[i].fused = false;
    }
    if (!fusion_enabled())
        return CLSEG_STATUS_SUCCESS;
    int *readers = calloc(n, sizeof *readers), *reader = calloc(n, sizeof *reader);
    if (readers == NULL || reader == NULL) {
        free(readers);
        free(reader);
        clseg_errbuf_set(err, err_size, "clseg_net_plan: out of host memory");
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < net->nodes[i].nin; k++) {
            readers[net->nodes[i].in[k]]++;
            reader[net->nodes[i].in[k]] = (int)i;
        }
    for (size_t b = 0; b < n; b++) {
        int r = reader[b];
        if (net->nodes[b].kind != NET_BATCHNORM || readers[b] != 1 || (int)b == net->output ||
            net->nodes[r].kind != NET_RELU)
            continue;
        net_node_plan *pb = &plan->nodes[b], *pr = &plan->nodes[r];
        if (pb->root != pr->root) /* the ReLU's output is not the batch norm's memory */
            continue;
        /* Backward, the batch norm reads the ReLU's gradient: in the batch norm's own memory, or
         * the caller's dL/doutput when the ReLU is the net's output. */
        bool external = r == net->output && !plan->output_grad_internal;
        if (plan->mode == CLSEG_NET_TRAIN && pr->live && pb->grad_root != pr->grad_root && !external)
            continue;
        pb->fused_relu = r;
        pr->fused = true;
    }
    free(readers);
    free(reader);
    return CLSEG_STATUS_SUCCESS;
}
