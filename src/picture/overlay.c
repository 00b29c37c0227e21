#include "clseg/picture.h"

#include <stdbool.h>

/* A region pixel whose 4-neighbourhood leaves the region, or the image: the one-pixel outline a
 * reader sees as the region's boundary, while the inside keeps showing the scan. */
static bool on_contour(const uint8_t *mask, int width, int height, int x, int y)
{
    size_t i = (size_t)y * (size_t)width + (size_t)x;
    if (mask == NULL || mask[i] == 0)
        return false;
    if (x == 0 || y == 0 || x == width - 1 || y == height - 1)
        return true;
    return mask[i - 1] == 0 || mask[i + 1] == 0 || mask[i - (size_t)width] == 0 || mask[i + (size_t)width] == 0;
}

static void put(uint8_t *p, uint32_t rgb)
{
    p[0] = (uint8_t)(rgb >> 16);
    p[1] = (uint8_t)(rgb >> 8);
    p[2] = (uint8_t)rgb;
}

clseg_status clseg_overlay_render(const uint8_t *grey, const uint8_t *truth, const uint8_t *prediction, int width,
                                  int height, uint8_t *rgb)
{
    if (grey == NULL || rgb == NULL || width <= 0 || height <= 0)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
            size_t i = (size_t)y * (size_t)width + (size_t)x;
            bool t = on_contour(truth, width, height, x, y);
            bool p = on_contour(prediction, width, height, x, y);
            uint8_t *out = rgb + 3 * i;
            if (t && p)
                put(out, CLSEG_OVERLAY_BOTH_RGB);
            else if (t)
                put(out, CLSEG_OVERLAY_TRUTH_RGB);
            else if (p)
                put(out, CLSEG_OVERLAY_PREDICTION_RGB);
            else
                out[0] = out[1] = out[2] = grey[i];
        }
    }
    return CLSEG_STATUS_SUCCESS;
}
