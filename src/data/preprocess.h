/* Intensity normalisation as 8-bit lookup tables, and the sampler that resizes, selects
 * channels and applies an affine map: bilinear for images, nearest for masks. */
#ifndef CLSEG_DATA_PREPROCESS_H
#define CLSEG_DATA_PREPROCESS_H

#include <stdbool.h>
#include <stdint.h>

#include "clseg/data.h"
#include "data/augment.h"

/* Fills luts[(p * nsel + k) * 256 + v]: the normalised value of sample v in selected channel k
 * of patient p, for every patient whose need[p] is true (need NULL: all). UNIT: v / 255.
 * VOLUME: clip to the volume's 10th..99th percentile of the selected channels, scale to
 * [0, 1], then standardise by the channel's mean and standard deviation over the volume. */
void data_make_luts(const clseg_dataset *ds, clseg_normalize mode, const int *channels, int nsel, const bool *need,
                    float *luts);

/* One slice in, one sample out. image: src_h x src_w x src_channels bytes; mask: src_h x src_w
 * in {0,1}; luts: nsel tables of 256. Writes nsel planes of out_h x out_w to img_out and one
 * to mask_out. Pixels mapped outside the source read sample 0 and mask 0. Image values become
 * value * gain + bias, clamped to [0, 1] when clamp01. */
typedef struct data_render_args {
    const uint8_t *image, *mask;
    int src_w, src_h, src_channels;
    const int *channels;
    int nsel;
    const float *luts;
    data_affine map;
    int out_w, out_h;
    float gain, bias;
    bool clamp01;
} data_render_args;

void data_render(const data_render_args *a, float *img_out, float *mask_out);

#endif
