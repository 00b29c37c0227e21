/* Training losses with their gradients, and the pixel counts behind Dice and IoU; float32.
 *
 * A loss reduces a prediction and a target of one shape to one number, written to a
 * one-element device tensor (reading it is the only reason a training step talks to the
 * host), and writes dL/dprediction (overwriting: it is where backpropagation starts). Sums go
 * through the caller's workspace in a fixed order: the same bits on every run. */
#ifndef CLSEG_LOSS_H
#define CLSEG_LOSS_H

#include <stddef.h>

#include "clseg/context.h"
#include "clseg/export.h"
#include "clseg/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum clseg_loss_kind {
    /* mean over elements of max(z, 0) - z t + log(1 + exp(-|z|)), z a logit, t in [0, 1] */
    CLSEG_LOSS_BCE,
    /* 1 - (2 sum(p t) + smooth) / (sum(p) + sum(t) + smooth), p = sigmoid(z), over the whole
     * batch (as brain-segmentation-pytorch trains on this dataset) */
    CLSEG_LOSS_DICE,
    /* bce_weight BCE + dice_weight Dice */
    CLSEG_LOSS_BCE_DICE,
    /* mean over elements of (x - t)^2, x a value (auto-encoder reconstructions) */
    CLSEG_LOSS_MSE
} clseg_loss_kind;

typedef struct clseg_loss_desc {
    clseg_loss_kind kind;
    float dice_smooth;             /* Dice's smoothing term, usually 1; with 0, an empty mask
                                    * predicted empty (sum(p) + sum(t) == 0) has loss 0 */
    float bce_weight, dice_weight; /* BCE_DICE only */
} clseg_loss_desc;

/* The usual settings of a kind: smooth 1, weights 1 and 1. */
CLSEG_API clseg_loss_desc clseg_loss_make(clseg_loss_kind kind);
/* "bce", "dice", "bce+dice", "mse"; parse returns CLSEG_STATUS_INVALID_ARGUMENT for others. */
CLSEG_API const char *clseg_loss_kind_str(clseg_loss_kind kind);
CLSEG_API clseg_status clseg_loss_kind_parse(const char *name, clseg_loss_kind *kind);

CLSEG_API size_t clseg_loss_workspace_bytes(const clseg_context *ctx, clseg_shape pred);

/* loss (1 element) = the loss of pred against target; grad (shape of pred, may be NULL) =
 * dloss/dpred. */
CLSEG_API clseg_status clseg_loss(clseg_context *ctx, const clseg_loss_desc *desc, const clseg_tensor *pred,
                                  const clseg_tensor *target, clseg_tensor *loss, clseg_tensor *grad,
                                  clseg_tensor *workspace);

/* Per-image pixel counts of a binary segmentation: counts (4 N elements) receives, for image n,
 * [4n] true positives, [4n+1] false positives, [4n+2] false negatives, [4n+3] true negatives,
 * where pred > threshold is a predicted positive (0 for logits, 0.5 for probabilities) and
 * target > 0.5 a true one. Counts are exact integers (an image may hold up to 2^24 pixels). */
CLSEG_API clseg_status clseg_confusion_counts(clseg_context *ctx, const clseg_tensor *pred, const clseg_tensor *target,
                                              float threshold, clseg_tensor *counts);

/* Dice = 2 TP / (2 TP + FP + FN) and IoU = TP / (TP + FP + FN), from counts of one slice or
 * summed over a volume. A prediction that is empty where the mask is empty too (all three
 * zero) scores 1: nothing to find, nothing found. */
CLSEG_API double clseg_dice_score(double tp, double fp, double fn);
CLSEG_API double clseg_iou_score(double tp, double fp, double fn);

#ifdef __cplusplus
}
#endif
#endif
