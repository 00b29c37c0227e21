/* The pieces behind include/clseg/evaluate.h that tests reach directly: the host-side resize of
 * a probability map, and the scoring that turns per-slice counts into a report. */
#ifndef CLSEG_EVAL_INTERNAL_H
#define CLSEG_EVAL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "clseg/evaluate.h"

/* out (out_h x out_w) = in (in_h x in_w) resized bilinearly as PyTorch's F.interpolate with
 * align_corners=False does: source = (destination + 0.5) * in / out - 0.5, clamped at 0, and
 * the last row and column repeated past the edge. */
void clseg_eval_resize_bilinear(const float *in, int in_w, int in_h, float *out, int out_w, int out_h);

/* What scoring needs of one predicted slice. */
typedef struct clseg_eval_slice_counts {
    size_t patient;        /* dataset patient index */
    bool tumour;           /* its mask has a pixel set */
    double tp, fp, fn, tn; /* NaN for the auto-encoder */
    double mse;            /* NaN for segmentation nets */
} clseg_eval_slice_counts;

/* A report from count slices: patients (in increasing index; only those with a slice here) get
 * their names from names[patient] (copied into the report), volume counts summed over their
 * slices and the Dice, IoU and MSE statistics the report documents. names has name_count
 * entries; a slice whose patient is not below name_count is INVALID_ARGUMENT. */
clseg_status clseg_eval_report_build(const clseg_eval_slice_counts *slices, size_t count, const char *const *names,
                                     size_t name_count, bool autoencoder, clseg_eval_report **out);

/* The mean and the median (an even count: the mean of the two middle values) of n values,
 * which are sorted in place; NaN for n 0. */
clseg_score_stats clseg_eval_stats(double *values, size_t n);

#endif
