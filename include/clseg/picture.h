/* Pictures a person looks at: PNG files (libpng), segmentation overlays and training curves.
 * Host-only; nothing here touches OpenCL. */
#ifndef CLSEG_PICTURE_H
#define CLSEG_PICTURE_H

#include <stddef.h>
#include <stdint.h>

#include "clseg/export.h"
#include "clseg/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes an 8-bit PNG of height x width pixels, channels 1 (grey), 3 (RGB) or 4 (RGBA),
 * interleaved, rows top to bottom. Atomic: a temporary file in the same folder is renamed over
 * path, so a failed write (full disk, unwritable folder) leaves any old file as it was. err
 * (may be NULL) receives "path: problem". */
CLSEG_API clseg_status clseg_png_write(const char *path, const uint8_t *pixels, int width, int height, int channels,
                                       char *err, size_t err_size);

/* The overlay colours: ground truth green, prediction red; where both contours meet, yellow. */
#define CLSEG_OVERLAY_TRUTH_RGB 0x00E000u
#define CLSEG_OVERLAY_PREDICTION_RGB 0xFF2020u
#define CLSEG_OVERLAY_BOTH_RGB 0xFFFF00u

/* rgb (height x width x 3) = grey (height x width, e.g. the FLAIR channel) with the one-pixel
 * contours (the region's pixels that have a 4-neighbour outside it or lie on the image border)
 * of truth and of prediction drawn over it. truth and prediction are 0/non-zero masks of the
 * same size; either may be NULL (not drawn). */
CLSEG_API clseg_status clseg_overlay_render(const uint8_t *grey, const uint8_t *truth, const uint8_t *prediction,
                                            int width, int height, uint8_t *rgb);

/* One line of a chart: a value per epoch (values[i] is epoch i + 1); NaN leaves a gap. */
typedef struct clseg_curve {
    const char *label;
    const double *values;
    size_t count;
} clseg_curve;

/* A chart panel: a title, and up to 4 curves drawn in distinct colours with a legend. The y
 * range covers the finite values (from 0 when y_from_zero), with labelled ticks; x is the epoch. */
#define CLSEG_CHART_MAX_CURVES 4
typedef struct clseg_chart {
    const char *title;
    const clseg_curve *curves;
    size_t curve_count;
    int y_from_zero;
} clseg_chart;

/* Draws the panels side by side (each 480 x 320 pixels) with axes, tick labels, titles and
 * legends in a built-in bitmap font (printable ASCII) and writes them as a PNG (atomically, as
 * clseg_png_write). Works for one epoch as well as for thousands. */
CLSEG_API clseg_status clseg_chart_png(const char *path, const clseg_chart *panels, size_t panel_count, char *err,
                                       size_t err_size);

#ifdef __cplusplus
}
#endif
#endif
