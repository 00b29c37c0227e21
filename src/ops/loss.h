/* The loss family's parameters and its two implementations (ref/loss.c, opencl/loss.c); the
 * public entry points and their checks are in ops/loss.c. */
#ifndef CLSEG_OPS_LOSS_H
#define CLSEG_OPS_LOSS_H

#include "clseg/loss.h"
#include "core/internal.h"

/* Stage-1 partial sums never exceed this many work-groups, whatever the tunables say, so the
 * workspace size is known without asking the device. */
#define CLSEG_LOSS_MAX_PARTIALS 1024
/* Sums per partial: BCE, sum(p t), sum(p), sum(t) (MSE uses the first for squared errors). */
#define CLSEG_LOSS_QUANTITIES 4
/* Scalars stage 2 leaves at the start of the workspace for the gradient kernel. */
#define CLSEG_LOSS_SCALARS 4

typedef struct clseg_loss_params {
    clseg_loss_kind kind;
    float smooth;
    float bce_weight, dice_weight; /* 1 and 0, or 0 and 1, for the single kinds */
} clseg_loss_params;

typedef struct clseg_confusion_params {
    float threshold;
} clseg_confusion_params;

/* tensors {pred, target, loss, grad (may be NULL), workspace} */
clseg_status clseg_ref_loss(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_loss(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors {pred, target, counts} */
clseg_status clseg_ref_confusion_counts(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_confusion_counts(clseg_context *ctx, const void *params, clseg_tensor *const *t);

#endif
