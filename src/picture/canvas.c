#include "picture/canvas.h"

#include <stdlib.h>

#include "picture/font.h"

void picture_canvas_unclip(picture_canvas *c)
{
    c->clip_x0 = 0;
    c->clip_y0 = 0;
    c->clip_x1 = c->width;
    c->clip_y1 = c->height;
}

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void picture_canvas_clip(picture_canvas *c, int x, int y, int w, int h)
{
    c->clip_x0 = clamp(x, 0, c->width);
    c->clip_y0 = clamp(y, 0, c->height);
    c->clip_x1 = clamp(x + w, c->clip_x0, c->width);
    c->clip_y1 = clamp(y + h, c->clip_y0, c->height);
}

void picture_canvas_pixel(picture_canvas *c, int x, int y, uint32_t rgb)
{
    if (x < c->clip_x0 || x >= c->clip_x1 || y < c->clip_y0 || y >= c->clip_y1)
        return;
    uint8_t *p = c->rgb + ((size_t)y * (size_t)c->width + (size_t)x) * 3;
    p[0] = (uint8_t)(rgb >> 16);
    p[1] = (uint8_t)(rgb >> 8);
    p[2] = (uint8_t)rgb;
}

void picture_canvas_fill(picture_canvas *c, int x, int y, int w, int h, uint32_t rgb)
{
    int x0 = clamp(x, c->clip_x0, c->clip_x1), x1 = clamp(x + w, c->clip_x0, c->clip_x1);
    int y0 = clamp(y, c->clip_y0, c->clip_y1), y1 = clamp(y + h, c->clip_y0, c->clip_y1);
    for (int yy = y0; yy < y1; yy++)
        for (int xx = x0; xx < x1; xx++)
            picture_canvas_pixel(c, xx, yy, rgb);
}

void picture_canvas_line(picture_canvas *c, int x0, int y0, int x1, int y1, int thickness, uint32_t rgb)
{
    /* Bresenham: integer steps only, so a line looks the same wherever it is drawn */
    int dx = abs(x1 - x0), dy = -abs(y1 - y0);
    int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int e = dx + dy;
    for (;;) {
        picture_canvas_fill(c, x0, y0, thickness, thickness, rgb);
        if (x0 == x1 && y0 == y1)
            break;
        int e2 = 2 * e;
        if (e2 >= dy) {
            e += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            e += dx;
            y0 += sy;
        }
    }
}

void picture_canvas_text(picture_canvas *c, int x, int y, const char *text, int scale, uint32_t rgb)
{
    /* stops at the clip edge, so however long the text, x never overflows */
    for (const char *s = text; *s != '\0' && x < c->clip_x1; s++, x += PICTURE_FONT_ADVANCE * scale) {
        const uint8_t *rows = picture_font_glyph(*s);
        for (int r = 0; r < PICTURE_FONT_ROWS; r++)
            for (int col = 0; col < PICTURE_FONT_WIDTH; col++)
                if (rows[r] & (0x10u >> col))
                    picture_canvas_fill(c, x + col * scale, y + r * scale, scale, scale, rgb);
    }
}
