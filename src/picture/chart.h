/* The chart's fixed look, shared with the tests that check the pixels it draws. */
#ifndef CLSEG_PICTURE_CHART_H
#define CLSEG_PICTURE_CHART_H

#include <stddef.h>
#include <stdint.h>

#define PICTURE_CHART_PANEL_WIDTH 480
#define PICTURE_CHART_PANEL_HEIGHT 320
#define PICTURE_CHART_BACKGROUND 0xFFFFFFu

/* The colour of a panel's curve i (i < CLSEG_CHART_MAX_CURVES): blue, orange, green, purple,
 * told apart easily and none of them the overlays' red or green. */
static inline uint32_t picture_chart_colour(size_t i)
{
    static const uint32_t colours[4] = {0x1F5FD0u, 0xF08000u, 0x1A9A3Au, 0x8A3FC0u};
    return colours[i % 4];
}

#endif
