/* The built-in bitmap font for chart text: printable ASCII, 5 x 7 glyphs (capitals and digits)
 * with one more row below the baseline for descenders, drawn in 6 x 10 cells. */
#ifndef CLSEG_PICTURE_FONT_H
#define CLSEG_PICTURE_FONT_H

#include <stdint.h>

#define PICTURE_FONT_WIDTH 5
#define PICTURE_FONT_ROWS 8    /* 7 above the baseline, 1 below */
#define PICTURE_FONT_ADVANCE 6 /* one blank column between letters */
#define PICTURE_FONT_LINE 10   /* one line of text, with room between lines */

/* The glyph's rows, top to bottom; bit 4 is the leftmost column. Characters outside printable
 * ASCII (32..126) get the '?' glyph, so unexpected text stays visible rather than vanishing. */
const uint8_t *picture_font_glyph(char c);

/* Pixel width of text drawn at scale (each font pixel a scale x scale block), without the blank
 * column after the last letter. */
int picture_font_text_width(const char *text, int scale);

#endif
