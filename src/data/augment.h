/* Random augmentation parameters, and the one inverse mapping from output to source pixels that
 * resizing, flipping, rotation and scaling share, so image and mask move together. */
#ifndef CLSEG_DATA_AUGMENT_H
#define CLSEG_DATA_AUGMENT_H

#include <stdbool.h>

#include "clseg/data.h"
#include "util/rng.h"

typedef struct data_augment_draw {
    bool flip;
    float degrees; /* counter-clockwise on screen */
    float zoom;    /* > 1 enlarges the content */
    float gain, bias; /* image only */
} data_augment_draw;

/* Source pixel coordinates (pixel centres at integers) of output pixel (ox, oy):
 * sx = m[0] ox + m[1] oy + m[2], sy = m[3] ox + m[4] oy + m[5]. */
typedef struct data_affine {
    float m[6];
} data_affine;

/* No change: gain 1, everything else 0 (zoom 1). */
data_augment_draw data_augment_identity(void);

/* Draws every parameter from rng in a fixed order, whatever is turned off, so one option does
 * not change the others' values. */
data_augment_draw data_augment_random(clseg_rng *rng, const clseg_augment_options *opts);

/* Output of out_w x out_h from a source of src_w x src_h: the resize, then the draw's flip,
 * rotation and zoom about the centre. The identity at equal sizes maps pixels exactly. */
data_affine data_affine_make(int src_w, int src_h, int out_w, int out_h, const data_augment_draw *draw);

#endif
