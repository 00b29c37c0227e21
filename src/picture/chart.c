#include "clseg/picture.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "picture/canvas.h"
#include "picture/chart.h"
#include "picture/font.h"

#define INK 0x000000u
#define SOFT_INK 0x404040u
#define GRID 0xE4E4E4u

#define TITLE_TOP 8
#define LEGEND_TOP 30
#define LEGEND_ROW 12
#define SWATCH 14
#define MARGIN_RIGHT 14
#define MARGIN_BOTTOM 32
#define TICK 4
#define CURVE_THICKNESS 2
#define MAX_PANELS (32768 / PICTURE_CHART_PANEL_WIDTH) /* clseg_png_write's widest picture */

/* Values this large would overflow the axis arithmetic; no training curve gets near them. */
static bool plotted(double v)
{
    return isfinite(v) && fabs(v) <= 1e300;
}

/* 1, 2 or 5 times a power of ten, at least x: tick steps a reader adds up without effort. */
static double nice_step(double x)
{
    double p = pow(10.0, floor(log10(x)));
    double f = x / p;
    return (f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0) * p;
}

/* Ticks k * step for k0 <= k <= k1, which also bound the axis. */
typedef struct ticks {
    double step;
    double k0, k1;
} ticks;

typedef struct panel_frame {
    int left;             /* the panel's left edge on the canvas */
    int plot_x0, plot_x1; /* the plot area, ends excluded; the axes lie on its left and bottom */
    int plot_y0, plot_y1;
    double x_lo, x_hi, y_lo, y_hi; /* epochs and values at the data area's edges */
    ticks x, y;
} panel_frame;

/* The y axis: the finite values (and zero when asked), widened to whole ticks, about 5 of them. */
static ticks y_ticks(const clseg_chart *panel, bool *any)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t c = 0; c < panel->curve_count; c++)
        for (size_t i = 0; i < panel->curves[c].count; i++) {
            double v = panel->curves[c].values[i];
            if (plotted(v)) {
                lo = fmin(lo, v);
                hi = fmax(hi, v);
            }
        }
    *any = lo <= hi;
    if (!*any)
        lo = hi = 0.0;
    if (panel->y_from_zero) {
        lo = fmin(lo, 0.0);
        hi = fmax(hi, 0.0);
    }
    /* A flat curve still needs a range to sit in: its own value +-10%, or +-1 around zero (and
     * around values so tiny that a tenth of them would underflow). */
    if (hi - lo <= 1e-9 * fmax(fabs(lo), fabs(hi)) || hi - lo < 1e-290) {
        double d = fabs(hi) > 1e-290 ? fabs(hi) * 0.1 : 1.0;
        lo = panel->y_from_zero && lo == 0.0 ? 0.0 : lo - d;
        hi += d;
    }
    ticks t;
    t.step = nice_step((hi - lo) / 5.0);
    t.k0 = floor(lo / t.step + 1e-9);
    t.k1 = ceil(hi / t.step - 1e-9);
    /* the loops over ticks count k up in doubles: never let a rounding surprise make that endless */
    if (!(t.step > 0.0 && isfinite(t.k0) && isfinite(t.k1) && t.k0 <= t.k1 && t.k1 - t.k0 <= 64)) {
        t.step = 0.2;
        t.k0 = 0.0;
        t.k1 = 5.0;
    }
    return t;
}

/* The x axis: epochs 1..n (one epoch sits in the middle), ticks on whole epochs, about 6. */
static ticks x_ticks(double n, double *lo, double *hi)
{
    *lo = n > 1.0 ? 1.0 : 0.0;
    *hi = n > 1.0 ? n : 2.0;
    ticks t;
    t.step = fmax(1.0, round(nice_step(fmax(n - 1.0, 1.0) / 6.0)));
    t.k0 = ceil(1.0 / t.step);
    t.k1 = floor(n / t.step);
    return t;
}

/* Short tick text: no trailing zeros, no "-0"; exponent form where plain digits would be long. */
static void format_tick(char *out, size_t size, double v, double step)
{
    int decimals = step >= 1.0 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (fabs(v) < step * 1e-6)
        v = 0.0;
    if (decimals > 6 || fabs(v) >= 1e7) {
        snprintf(out, size, "%.4g", v);
        return;
    }
    snprintf(out, size, "%.*f", decimals, v);
    if (strchr(out, '.') != NULL) {
        size_t n = strlen(out);
        while (n > 0 && out[n - 1] == '0')
            out[--n] = '\0';
        if (n > 0 && out[n - 1] == '.')
            out[--n] = '\0';
    }
    if (strcmp(out, "-0") == 0)
        snprintf(out, size, "0");
}

/* Data positions to pixels: every curve block (CURVE_THICKNESS square) stays inside the plot,
 * clear of the axes. Results are clamped before conversion, so no value can overflow an int. */
static int to_pixel(double lo, double hi, double v, int from, int span)
{
    double t = (v - lo) / (hi - lo);
    t = isfinite(t) ? fmin(fmax(t, -1.0), 2.0) : 0.0;
    return from + (int)lround(t * span);
}

static int px(const panel_frame *f, double epoch)
{
    int from = f->plot_x0 + 2;
    return to_pixel(f->x_lo, f->x_hi, epoch, from, f->plot_x1 - CURVE_THICKNESS - from);
}

static int py(const panel_frame *f, double v)
{
    int bottom = f->plot_y1 - 1 - 2 - (CURVE_THICKNESS - 1); /* a block's top row for the lowest value */
    return to_pixel(f->y_hi, f->y_lo, v, f->plot_y0, bottom - f->plot_y0);
}

static int legend_rows(const clseg_chart *panel, int width)
{
    int rows = 0, x = width;
    for (size_t c = 0; c < panel->curve_count; c++) {
        const char *label = panel->curves[c].label;
        if (label == NULL || label[0] == '\0')
            continue;
        int w = SWATCH + 4 + picture_font_text_width(label, 1);
        if (rows == 0 || x + w > width) {
            rows++;
            x = 0;
        }
        x += w + 12;
    }
    return rows;
}

static panel_frame frame_panel(const clseg_chart *panel, int left, bool *any)
{
    panel_frame f;
    f.left = left;
    f.y = y_ticks(panel, any);
    f.y_lo = f.y.k0 * f.y.step;
    f.y_hi = f.y.k1 * f.y.step;
    int label_w = 0;
    for (double k = f.y.k0; k <= f.y.k1; k++) {
        char text[32];
        format_tick(text, sizeof text, k * f.y.step, f.y.step);
        int w = picture_font_text_width(text, 1);
        label_w = w > label_w ? w : label_w;
    }
    f.plot_x0 = left + 8 + label_w + TICK + 3;
    f.plot_x1 = left + PICTURE_CHART_PANEL_WIDTH - MARGIN_RIGHT;
    f.plot_y0 = LEGEND_TOP + LEGEND_ROW * legend_rows(panel, f.plot_x1 - f.plot_x0) + 6;
    f.plot_y1 = PICTURE_CHART_PANEL_HEIGHT - MARGIN_BOTTOM;
    double n = 1.0;
    for (size_t c = 0; c < panel->curve_count; c++)
        n = fmax(n, (double)panel->curves[c].count);
    f.x = x_ticks(n, &f.x_lo, &f.x_hi);
    return f;
}

static void draw_axes(picture_canvas *cv, const panel_frame *f)
{
    char text[32];
    for (double k = f->y.k0; k <= f->y.k1; k++) {
        double v = k * f->y.step;
        int y = py(f, v);
        picture_canvas_fill(cv, f->plot_x0 + 1, y, f->plot_x1 - f->plot_x0 - 1, 1, GRID);
        picture_canvas_fill(cv, f->plot_x0 - TICK, y, TICK, 1, INK);
        format_tick(text, sizeof text, v, f->y.step);
        picture_canvas_text(cv, f->plot_x0 - TICK - 3 - picture_font_text_width(text, 1), y - 3, text, 1, SOFT_INK);
    }
    for (double k = f->x.k0; k <= f->x.k1; k++) {
        int x = px(f, k * f->x.step);
        picture_canvas_fill(cv, x, f->plot_y1, 1, TICK, INK);
        snprintf(text, sizeof text, "%.0f", k * f->x.step);
        picture_canvas_text(cv, x - picture_font_text_width(text, 1) / 2, f->plot_y1 + TICK + 3, text, 1, SOFT_INK);
    }
    picture_canvas_fill(cv, f->plot_x0, f->plot_y0, 1, f->plot_y1 - f->plot_y0 + 1, INK);
    picture_canvas_fill(cv, f->plot_x0, f->plot_y1, f->plot_x1 - f->plot_x0, 1, INK);
    const char *axis = "epoch";
    picture_canvas_text(cv, (f->plot_x0 + f->plot_x1 - picture_font_text_width(axis, 1)) / 2,
                        f->plot_y1 + TICK + 3 + PICTURE_FONT_LINE + 2, axis, 1, INK);
}

/* Lines between neighbouring finite values; a finite value with no finite neighbour gets a
 * marker, so a lone point (one epoch, or one between gaps) is still seen. */
static void draw_curve(picture_canvas *cv, const panel_frame *f, const clseg_curve *curve, uint32_t colour)
{
    picture_canvas_clip(cv, f->plot_x0 + 1, f->plot_y0, f->plot_x1 - f->plot_x0 - 1, f->plot_y1 - f->plot_y0);
    for (size_t i = 0; i < curve->count; i++) {
        double v = curve->values[i];
        if (!plotted(v))
            continue;
        int x = px(f, (double)i + 1.0), y = py(f, v);
        bool before = i > 0 && plotted(curve->values[i - 1]);
        bool after = i + 1 < curve->count && plotted(curve->values[i + 1]);
        if (after)
            picture_canvas_line(cv, x, y, px(f, (double)i + 2.0), py(f, curve->values[i + 1]), CURVE_THICKNESS, colour);
        else if (!before)
            picture_canvas_fill(cv, x - 2, y - 2, CURVE_THICKNESS + 4, CURVE_THICKNESS + 4, colour);
    }
    picture_canvas_unclip(cv);
}

static void draw_legend(picture_canvas *cv, const panel_frame *f, const clseg_chart *panel)
{
    int x = f->plot_x0, y = LEGEND_TOP - LEGEND_ROW, width = f->plot_x1 - f->plot_x0;
    bool first = true;
    for (size_t c = 0; c < panel->curve_count; c++) {
        const char *label = panel->curves[c].label;
        if (label == NULL || label[0] == '\0')
            continue;
        int w = SWATCH + 4 + picture_font_text_width(label, 1);
        if (first || x + w > f->plot_x0 + width) {
            x = f->plot_x0;
            y += LEGEND_ROW;
            first = false;
        }
        picture_canvas_fill(cv, x, y + 2, SWATCH, 3, picture_chart_colour(c));
        picture_canvas_text(cv, x + SWATCH + 4, y, label, 1, INK);
        x += w + 12;
    }
}

static void draw_title(picture_canvas *cv, const panel_frame *f, const char *title)
{
    if (title == NULL || title[0] == '\0')
        return;
    /* large when it fits, else small; still too long, it is cut at the panel's edge */
    int scale = picture_font_text_width(title, 2) <= PICTURE_CHART_PANEL_WIDTH - 16 ? 2 : 1;
    int w = picture_font_text_width(title, scale);
    int x = f->left + (w < PICTURE_CHART_PANEL_WIDTH - 16 ? (PICTURE_CHART_PANEL_WIDTH - w) / 2 : 8);
    picture_canvas_clip(cv, f->left, 0, PICTURE_CHART_PANEL_WIDTH, PICTURE_CHART_PANEL_HEIGHT);
    picture_canvas_text(cv, x, TITLE_TOP + (2 - scale) * 4, title, scale, INK);
    picture_canvas_unclip(cv);
}

static void draw_panel(picture_canvas *cv, const clseg_chart *panel, int left)
{
    bool any;
    panel_frame f = frame_panel(panel, left, &any);
    picture_canvas_clip(cv, left, 0, PICTURE_CHART_PANEL_WIDTH, PICTURE_CHART_PANEL_HEIGHT);
    draw_axes(cv, &f);
    draw_legend(cv, &f, panel);
    picture_canvas_unclip(cv);
    draw_title(cv, &f, panel->title);
    if (!any) {
        const char *none = "no data yet";
        picture_canvas_text(cv, (f.plot_x0 + f.plot_x1 - picture_font_text_width(none, 1)) / 2,
                            (f.plot_y0 + f.plot_y1) / 2 - 4, none, 1, SOFT_INK);
    }
    for (size_t c = 0; c < panel->curve_count; c++)
        draw_curve(cv, &f, &panel->curves[c], picture_chart_colour(c));
}

static clseg_status check_panels(const char *path, const clseg_chart *panels, size_t panel_count, char *err,
                                 size_t err_size)
{
    if (path == NULL || path[0] == '\0') {
        clseg_errbuf_set(err, err_size, "(no path): a chart needs a file name");
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    if (panels == NULL || panel_count == 0 || panel_count > MAX_PANELS) {
        clseg_errbuf_set(err, err_size, "%s: %zu panels given, expected 1 to %d", path, panels ? panel_count : 0,
                         MAX_PANELS);
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    for (size_t p = 0; p < panel_count; p++) {
        const clseg_chart *panel = &panels[p];
        if (panel->curve_count > CLSEG_CHART_MAX_CURVES || (panel->curve_count > 0 && panel->curves == NULL)) {
            clseg_errbuf_set(err, err_size, "%s: panel %zu has %zu curves%s, expected at most %d", path, p + 1,
                             panel->curve_count, panel->curves == NULL ? " but no curve array" : "",
                             CLSEG_CHART_MAX_CURVES);
            return CLSEG_STATUS_INVALID_ARGUMENT;
        }
        for (size_t c = 0; c < panel->curve_count; c++)
            if (panel->curves[c].count > 0 && panel->curves[c].values == NULL) {
                clseg_errbuf_set(err, err_size, "%s: panel %zu, curve %zu has %zu values but no value array", path,
                                 p + 1, c + 1, panel->curves[c].count);
                return CLSEG_STATUS_INVALID_ARGUMENT;
            }
    }
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_chart_png(const char *path, const clseg_chart *panels, size_t panel_count, char *err,
                             size_t err_size)
{
    clseg_status st = check_panels(path, panels, panel_count, err, err_size);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    picture_canvas cv = {0};
    cv.width = (int)panel_count * PICTURE_CHART_PANEL_WIDTH;
    cv.height = PICTURE_CHART_PANEL_HEIGHT;
    cv.rgb = malloc((size_t)cv.width * (size_t)cv.height * 3);
    if (cv.rgb == NULL) {
        clseg_errbuf_set(err, err_size, "%s: out of host memory for a %d x %d chart", path, cv.width, cv.height);
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    picture_canvas_unclip(&cv);
    picture_canvas_fill(&cv, 0, 0, cv.width, cv.height, PICTURE_CHART_BACKGROUND);
    for (size_t p = 0; p < panel_count; p++)
        draw_panel(&cv, &panels[p], (int)p * PICTURE_CHART_PANEL_WIDTH);
    st = clseg_png_write(path, cv.rgb, cv.width, cv.height, 3, err, err_size);
    free(cv.rgb);
    return st;
}
