/* An RGB picture in memory and the few things charts draw on it: rectangles, straight lines and
 * text. Everything is clipped to the canvas's clip rectangle, so callers may draw past edges. */
#ifndef CLSEG_PICTURE_CANVAS_H
#define CLSEG_PICTURE_CANVAS_H

#include <stdint.h>

typedef struct picture_canvas {
    uint8_t *rgb; /* height x width x 3 */
    int width, height;
    int clip_x0, clip_y0, clip_x1, clip_y1; /* drawable: clip_x0 <= x < clip_x1, likewise y */
} picture_canvas;

/* Draws anywhere on the canvas again. */
void picture_canvas_unclip(picture_canvas *c);

/* Limits drawing to the rectangle (intersected with the canvas). */
void picture_canvas_clip(picture_canvas *c, int x, int y, int w, int h);

void picture_canvas_pixel(picture_canvas *c, int x, int y, uint32_t rgb);
void picture_canvas_fill(picture_canvas *c, int x, int y, int w, int h, uint32_t rgb);

/* A line from (x0, y0) to (x1, y1), both ends included, without anti-aliasing: each step of the
 * line sets a thickness x thickness block whose top-left corner is on the line. */
void picture_canvas_line(picture_canvas *c, int x0, int y0, int x1, int y1, int thickness, uint32_t rgb);

/* Text in the built-in font with its top-left corner at (x, y); scale enlarges each font pixel. */
void picture_canvas_text(picture_canvas *c, int x, int y, const char *text, int scale, uint32_t rgb);

#endif
