/* Pictures: PNG files read back pixel for pixel with libpng, atomic replacement, overlays checked
 * pixel by pixel on hand-drawn masks, charts checked by the colours they put where. */
#include <dirent.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "picture/chart.h"
#include "picture/font.h"
#include "test_util.h"
#include "util/files.h"

/* --- reading PNGs back ----------------------------------------------------------------------- */

typedef struct png_read {
    int width, height, channels;
    uint8_t *pixels; /* NULL when the file is not a plain 8-bit grey, RGB or RGBA PNG */
} png_read;

/* Kept out of read_png so that nothing it changes lives in a frame libpng longjmps across. */
static int read_rows(png_structp png, png_infop info, FILE *f, png_read *out)
{
    if (setjmp(png_jmpbuf(png)))
        return -1;
    png_init_io(png, f);
    png_read_info(png, info);
    int type = png_get_color_type(png, info);
    if (png_get_bit_depth(png, info) != 8 || png_get_interlace_type(png, info) != PNG_INTERLACE_NONE)
        return -1;
    out->channels = type == PNG_COLOR_TYPE_GRAY   ? 1
                    : type == PNG_COLOR_TYPE_RGB  ? 3
                    : type == PNG_COLOR_TYPE_RGBA ? 4
                                                  : 0;
    if (out->channels == 0)
        return -1;
    out->width = (int)png_get_image_width(png, info);
    out->height = (int)png_get_image_height(png, info);
    size_t stride = (size_t)out->width * (size_t)out->channels;
    ck_assert_uint_eq(png_get_rowbytes(png, info), stride);
    out->pixels = malloc(stride * (size_t)out->height);
    ck_assert_ptr_nonnull(out->pixels);
    for (int y = 0; y < out->height; y++)
        png_read_row(png, out->pixels + (size_t)y * stride, NULL);
    png_read_end(png, NULL);
    return 0;
}

static png_read read_png(const char *path)
{
    png_read out = {0, 0, 0, NULL};
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    ck_assert_ptr_nonnull(info);
    if (read_rows(png, info, f, &out) != 0) {
        free(out.pixels);
        out.pixels = NULL;
    }
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    ck_assert_msg(out.pixels != NULL, "%s is not a plain 8-bit PNG that libpng reads", path);
    return out;
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* --- PNG files ------------------------------------------------------------------------------- */

START_TEST(test_png_round_trip_exact)
{
    static const int sizes[][2] = {{1, 1}, {7, 5}, {13, 3}, {3, 13}, {33, 17}, {250, 2}};
    static const int channel_counts[] = {1, 3, 4};
    char *dir = test_tmpdir("clseg-png");
    char *path = join(dir, "x.png");
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (size_t c = 0; c < 3; c++) {
            int w = sizes[s][0], h = sizes[s][1], ch = channel_counts[c];
            size_t n = (size_t)w * (size_t)h * (size_t)ch;
            uint8_t *px = malloc(n);
            ck_assert_ptr_nonnull(px);
            for (size_t i = 0; i < n; i++) /* every byte value, in no smooth order */
                px[i] = (uint8_t)(i * 151u + s * 7u + c);
            char err[512] = "";
            ck_assert_msg(clseg_png_write(path, px, w, h, ch, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
            png_read back = read_png(path);
            ck_assert_int_eq(back.width, w);
            ck_assert_int_eq(back.height, h);
            ck_assert_int_eq(back.channels, ch);
            ck_assert_msg(memcmp(back.pixels, px, n) == 0, "%d x %d x %d pixels differ", w, h, ch);
            free(back.pixels);
            free(px);
        }
    ck_assert_uint_eq(count_entries(dir), 1); /* no temporary file left beside it */
    unlink(path);
    free(path);
    test_rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(test_png_replaces_a_longer_file_completely)
{
    char *dir = test_tmpdir("clseg-png");
    char *path = join(dir, "x.png");
    uint8_t big[64 * 64 * 3], small[2 * 2] = {0, 85, 170, 255};
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 2654435761u >> 13);
    ck_assert_int_eq(clseg_png_write(path, big, 64, 64, 3, NULL, 0), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_png_write(path, small, 2, 2, 1, NULL, 0), CLSEG_STATUS_SUCCESS);
    png_read back = read_png(path);
    ck_assert_int_eq(back.width, 2);
    ck_assert_int_eq(back.channels, 1);
    ck_assert_mem_eq(back.pixels, small, sizeof small);
    free(back.pixels);
    ck_assert_uint_eq(count_entries(dir), 1);
    unlink(path);
    free(path);
    test_rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(test_png_failed_write_names_the_path_and_keeps_old_files)
{
    char *dir = test_tmpdir("clseg-png");
    uint8_t px[4] = {1, 2, 3, 4};
    char err[1024] = "";

    /* a folder that cannot exist: its parent is a regular file (root ignores permissions, not this) */
    char *file = join(dir, "plain");
    write_text(file, "not a folder");
    char *inside = join(file, "x.png");
    ck_assert_int_eq(clseg_png_write(inside, px, 2, 2, 1, err, sizeof err), CLSEG_STATUS_IO);
    ck_assert_msg(strncmp(err, inside, strlen(inside)) == 0 && strstr(err, ": ") != NULL,
                  "message does not start with the path: '%s'", err);

    /* an old file under the name survives a write that fails before the rename */
    char *old = join(dir, "old.png");
    write_text(old, "old contents");
    ck_assert_int_eq(clseg_png_write(old, px, 2, 2, 2, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err, old) != NULL, "'%s'", err);
    unsigned char *data = NULL;
    size_t size = 0;
    ck_assert_int_eq(clseg_read_file(old, 1024, &data, &size, NULL, 0), CLSEG_STATUS_SUCCESS);
    ck_assert_uint_eq(size, strlen("old contents"));
    ck_assert_mem_eq(data, "old contents", size);
    free(data);

    /* a folder in the way of the rename: it stays, and no temporary file is left behind */
    char *busy = join(dir, "busy.png");
    ck_assert_int_eq(mkdir(busy, 0777), 0);
    char *kept = join(busy, "kept");
    write_text(kept, "kept");
    ck_assert_int_eq(clseg_png_write(busy, px, 2, 2, 1, err, sizeof err), CLSEG_STATUS_IO);
    ck_assert_msg(strncmp(err, busy, strlen(busy)) == 0, "'%s'", err);
    ck_assert_int_eq(access(kept, F_OK), 0);
    ck_assert_uint_eq(count_entries(dir), 3); /* plain, old.png, busy.png */

    unlink(kept);
    rmdir(busy);
    free(kept);
    free(busy);
    free(old);
    free(inside);
    free(file);
    test_rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(test_png_rejects_bad_arguments)
{
    uint8_t px[16] = {0};
    char err[512];
    ck_assert_int_eq(clseg_png_write(NULL, px, 2, 2, 1, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_png_write("", px, 2, 2, 1, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    static const int bad[][3] = {{0, 2, 1},     {2, 0, 1}, {-1, 2, 1}, {2, -5, 1}, {32769, 1, 1},
                                 {1, 32769, 1}, {2, 2, 0}, {2, 2, 2},  {2, 2, 5},  {2, 2, -3}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        ck_assert_int_eq(clseg_png_write("/nonexistent/a.png", px, bad[i][0], bad[i][1], bad[i][2], err, sizeof err),
                         CLSEG_STATUS_INVALID_ARGUMENT);
        ck_assert_msg(strncmp(err, "/nonexistent/a.png: ", 20) == 0, "case %zu: '%s'", i, err);
    }
    ck_assert_int_eq(clseg_png_write("/nonexistent/a.png", NULL, 2, 2, 1, NULL, 0), CLSEG_STATUS_INVALID_ARGUMENT);
}
END_TEST

/* --- overlays -------------------------------------------------------------------------------- */

/* A mask from rows of text: '#' inside, anything else outside. */
static uint8_t *mask_of(const char *const *rows, int w, int h)
{
    uint8_t *m = malloc((size_t)w * (size_t)h);
    ck_assert_ptr_nonnull(m);
    for (int y = 0; y < h; y++) {
        ck_assert_int_eq((int)strlen(rows[y]), w);
        for (int x = 0; x < w; x++)
            m[y * w + x] = rows[y][x] == '#' ? (uint8_t)(1 + x) : 0; /* any non-zero counts */
    }
    return m;
}

/* Checks every pixel against a map: '.' the grey value, G truth, R prediction, Y both. */
static void expect_overlay(const uint8_t *grey, const uint8_t *rgb, const char *const *map, int w, int h)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *p = rgb + 3 * (y * w + x);
            uint32_t want;
            switch (map[y][x]) {
            case 'G': want = CLSEG_OVERLAY_TRUTH_RGB; break;
            case 'R': want = CLSEG_OVERLAY_PREDICTION_RGB; break;
            case 'Y': want = CLSEG_OVERLAY_BOTH_RGB; break;
            default: want = grey[y * w + x] * 0x010101u; break;
            }
            uint32_t got = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
            ck_assert_msg(got == want, "pixel (%d, %d): %06X, expected %06X ('%c')", x, y, got, want, map[y][x]);
        }
}

static uint8_t *grey_ramp(int w, int h)
{
    uint8_t *g = malloc((size_t)w * (size_t)h);
    ck_assert_ptr_nonnull(g);
    for (int i = 0; i < w * h; i++)
        g[i] = (uint8_t)(3 * i + 5);
    return g;
}

static const char *const square[8] = {
    "........", "........", "..###...", "..###...", "..###...", "........", "........", "........",
};

START_TEST(test_overlay_square_contour)
{
    uint8_t *grey = grey_ramp(8, 8), *truth = mask_of(square, 8, 8), rgb[8 * 8 * 3];
    static const char *const truth_only[8] = {
        "........", "........", "..GGG...", "..G.G...", "..GGG...", "........", "........", "........",
    };
    ck_assert_int_eq(clseg_overlay_render(grey, truth, NULL, 8, 8, rgb), CLSEG_STATUS_SUCCESS);
    expect_overlay(grey, rgb, truth_only, 8, 8);
    ck_assert_int_eq(clseg_overlay_render(grey, NULL, truth, 8, 8, rgb), CLSEG_STATUS_SUCCESS);
    static const char *const prediction_only[8] = {
        "........", "........", "..RRR...", "..R.R...", "..RRR...", "........", "........", "........",
    };
    expect_overlay(grey, rgb, prediction_only, 8, 8);
    static const char *const both[8] = {
        "........", "........", "..YYY...", "..Y.Y...", "..YYY...", "........", "........", "........",
    };
    ck_assert_int_eq(clseg_overlay_render(grey, truth, truth, 8, 8, rgb), CLSEG_STATUS_SUCCESS);
    expect_overlay(grey, rgb, both, 8, 8);
    ck_assert_int_eq(clseg_overlay_render(grey, NULL, NULL, 8, 8, rgb), CLSEG_STATUS_SUCCESS);
    static const char *const none[8] = {
        "........", "........", "........", "........", "........", "........", "........", "........",
    };
    expect_overlay(grey, rgb, none, 8, 8);
    free(truth);
    free(grey);
}
END_TEST

START_TEST(test_overlay_overlapping_regions)
{
    static const char *const shifted[8] = {
        "........", "........", "...###..", "...###..", "...###..", "........", "........", "........",
    };
    /* where both outlines run, yellow; the prediction's left edge crosses the truth's inside */
    static const char *const want[8] = {
        "........", "........", "..GYYR..", "..GRGR..", "..GYYR..", "........", "........", "........",
    };
    uint8_t *grey = grey_ramp(8, 8), *truth = mask_of(square, 8, 8), *pred = mask_of(shifted, 8, 8);
    uint8_t rgb[8 * 8 * 3];
    ck_assert_int_eq(clseg_overlay_render(grey, truth, pred, 8, 8, rgb), CLSEG_STATUS_SUCCESS);
    expect_overlay(grey, rgb, want, 8, 8);
    free(pred);
    free(truth);
    free(grey);
}
END_TEST

START_TEST(test_overlay_regions_on_the_border)
{
    /* The image border closes a region. (5, 2) and (0, 2) have all their in-image neighbours
     * inside, and so do their neighbours in memory across the row ends. */
    static const char *const region[5] = {"###...", "###..#", "###.##", "###..#", "###..."};
    static const char *const want[5] = {"GGG...", "G.G..G", "G.G.GG", "G.G..G", "GGG..."};
    uint8_t *grey = grey_ramp(6, 5), *truth = mask_of(region, 6, 5), rgb[6 * 5 * 3];
    ck_assert_int_eq(clseg_overlay_render(grey, truth, NULL, 6, 5, rgb), CLSEG_STATUS_SUCCESS);
    expect_overlay(grey, rgb, want, 6, 5);
    free(truth);
    free(grey);

    /* a full mask on a one-row image: every pixel is on the border */
    static const char *const full[1] = {"#####"};
    static const char *const full_want[1] = {"RRRRR"};
    grey = grey_ramp(5, 1);
    uint8_t *pred = mask_of(full, 5, 1);
    ck_assert_int_eq(clseg_overlay_render(grey, NULL, pred, 5, 1, rgb), CLSEG_STATUS_SUCCESS);
    expect_overlay(grey, rgb, full_want, 5, 1);
    free(pred);
    free(grey);
}
END_TEST

START_TEST(test_overlay_rejects_bad_arguments)
{
    uint8_t grey[4] = {0}, rgb[12];
    ck_assert_int_eq(clseg_overlay_render(NULL, NULL, NULL, 2, 2, rgb), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_overlay_render(grey, NULL, NULL, 2, 2, NULL), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_overlay_render(grey, NULL, NULL, 0, 2, rgb), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_overlay_render(grey, NULL, NULL, 2, -1, rgb), CLSEG_STATUS_INVALID_ARGUMENT);
}
END_TEST

/* --- the font -------------------------------------------------------------------------------- */

START_TEST(test_font_glyphs_distinct_and_visible)
{
    for (int c = 32; c <= 126; c++) {
        const uint8_t *g = picture_font_glyph((char)c);
        int lit = 0;
        for (int r = 0; r < PICTURE_FONT_ROWS; r++) {
            ck_assert_msg((g[r] & ~0x1Fu) == 0, "'%c' row %d wider than the glyph", c, r);
            lit += g[r] != 0;
        }
        ck_assert_msg((lit == 0) == (c == ' '), "'%c' has %d lit rows", c, lit);
        for (int d = 32; d < c; d++)
            ck_assert_msg(memcmp(g, picture_font_glyph((char)d), PICTURE_FONT_ROWS) != 0, "'%c' looks like '%c'", c, d);
    }
    ck_assert_ptr_eq(picture_font_glyph('\n'), picture_font_glyph('?'));
    ck_assert_ptr_eq(picture_font_glyph((char)200), picture_font_glyph('?'));
    ck_assert_int_eq(picture_font_text_width("", 1), 0);
    ck_assert_int_eq(picture_font_text_width("ab", 1), 2 * PICTURE_FONT_ADVANCE - 1);
    ck_assert_int_eq(picture_font_text_width("ab", 2), 2 * (2 * PICTURE_FONT_ADVANCE - 1));
}
END_TEST

/* --- charts ---------------------------------------------------------------------------------- */

static uint32_t pixel_at(const png_read *p, int x, int y)
{
    const uint8_t *q = p->pixels + 3 * ((size_t)y * (size_t)p->width + (size_t)x);
    return (uint32_t)q[0] << 16 | (uint32_t)q[1] << 8 | q[2];
}

/* Rows from here down lie below a one-row legend, where only curves use the curve colours. */
#define BELOW_LEGEND 44

/* Pixels of colour in columns [x0, x1) below the legend. */
static size_t count_colour(const png_read *p, uint32_t colour, int x0, int x1)
{
    size_t n = 0;
    for (int y = BELOW_LEGEND; y < p->height; y++)
        for (int x = x0; x < x1; x++)
            n += pixel_at(p, x, y) == colour;
    return n;
}

static double mean_row(const png_read *p, uint32_t colour, int x0, int x1)
{
    double sum = 0, n = 0;
    for (int y = BELOW_LEGEND; y < p->height; y++)
        for (int x = x0; x < x1; x++)
            if (pixel_at(p, x, y) == colour) {
                sum += y;
                n++;
            }
    ck_assert_msg(n > 0, "no pixels of %06X in columns %d..%d", colour, x0, x1);
    return sum / n;
}

/* Writes the chart, reads it back (RGB, one 480 x 320 panel per panel given). */
static png_read chart(const char *dir, const clseg_chart *panels, size_t n)
{
    char *path = join(dir, "curves.png");
    char err[1024] = "";
    ck_assert_msg(clseg_chart_png(path, panels, n, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    png_read p = read_png(path);
    ck_assert_int_eq(p.width, (int)n * PICTURE_CHART_PANEL_WIDTH);
    ck_assert_int_eq(p.height, PICTURE_CHART_PANEL_HEIGHT);
    ck_assert_int_eq(p.channels, 3);
    unlink(path);
    free(path);
    return p;
}

START_TEST(test_chart_two_panels)
{
    double train[20], val[20], dice[20];
    for (int i = 0; i < 20; i++) {
        train[i] = 1.0 / (1 + i); /* falls */
        val[i] = 1.2 / (1 + i) + 0.05;
        dice[i] = 0.9 * i / 19.0; /* rises */
    }
    clseg_curve loss_curves[2] = {{"train loss", train, 20}, {"validation loss", val, 20}};
    clseg_curve dice_curves[1] = {{"validation Dice", dice, 20}};
    clseg_chart panels[2] = {{"Loss", loss_curves, 2, 0}, {"Dice", dice_curves, 1, 1}};
    char *dir = test_tmpdir("clseg-chart");
    png_read p = chart(dir, panels, 2);
    uint32_t c0 = picture_chart_colour(0), c1 = picture_chart_colour(1);
    ck_assert_uint_ne(c0, c1);
    ck_assert_uint_eq(pixel_at(&p, 0, 0), PICTURE_CHART_BACKGROUND);
    ck_assert_uint_eq(pixel_at(&p, 959, 319), PICTURE_CHART_BACKGROUND);
    ck_assert_uint_eq(pixel_at(&p, 479, 160), PICTURE_CHART_BACKGROUND);
    /* both loss curves in the left panel, the Dice curve (first colour) alone in the right one */
    ck_assert_uint_gt(count_colour(&p, c0, 0, 480), 300);
    ck_assert_uint_gt(count_colour(&p, c1, 0, 480), 300);
    ck_assert_uint_gt(count_colour(&p, c0, 480, 960), 300);
    ck_assert_uint_eq(count_colour(&p, c1, 480, 960), 0);
    /* falling loss: high (small rows) on the left; rising Dice: low on the left */
    ck_assert_double_lt(mean_row(&p, c0, 0, 160), mean_row(&p, c0, 320, 480) - 50);
    ck_assert_double_gt(mean_row(&p, c0, 480, 640), mean_row(&p, c0, 800, 960) + 50);
    /* titles and legends: black text at the top of each panel; black axes further down */
    size_t ink_top[2] = {0, 0}, ink_below[2] = {0, 0};
    for (int y = 0; y < 320; y++)
        for (int x = 0; x < 960; x++)
            if (pixel_at(&p, x, y) == 0)
                (y < BELOW_LEGEND ? ink_top : ink_below)[x / 480]++;
    ck_assert_uint_gt(ink_top[0], 100);
    ck_assert_uint_gt(ink_top[1], 100);
    ck_assert_uint_gt(ink_below[0], 400);
    ck_assert_uint_gt(ink_below[1], 400);
    free(p.pixels);
    test_rmdir(dir);
    free(dir);
}
END_TEST

/* The longest run of columns in [x0, x1) without the colour, between columns that have it. */
static int widest_gap(const png_read *p, uint32_t colour, int x0, int x1)
{
    int last = -1, widest = 0;
    for (int x = x0; x < x1; x++) {
        if (count_colour(p, colour, x, x + 1) == 0)
            continue;
        if (last >= 0 && x - last - 1 > widest)
            widest = x - last - 1;
        last = x;
    }
    return widest;
}

START_TEST(test_chart_gaps_single_points_and_empty_curves)
{
    double gappy[10] = {0.1, 0.3, 0.2, 0.4, NAN, NAN, NAN, 0.6, 0.5, 0.7};
    double whole[10] = {0.9, 1.1, 1.0, 1.2, 1.25, 1.3, 1.35, 1.4, 1.3, 1.5}; /* clear of the other */
    double nothing[3] = {NAN, INFINITY, NAN};
    double one[1] = {0.5};
    clseg_curve curves[3] = {{"with a gap", gappy, 10}, {"none", nothing, 3}, {"whole", whole, 10}};
    clseg_chart panel = {"Gaps", curves, 3, 0};
    char *dir = test_tmpdir("clseg-chart");
    png_read p = chart(dir, &panel, 1);
    ck_assert_int_gt(widest_gap(&p, picture_chart_colour(0), 0, 480), 120); /* epochs 4 to 8 */
    ck_assert_int_lt(widest_gap(&p, picture_chart_colour(2), 0, 480), 3);
    ck_assert_uint_eq(count_colour(&p, picture_chart_colour(1), 0, 480), 0);
    free(p.pixels);

    /* nothing finite anywhere, then a single epoch: a marker, not an empty chart */
    clseg_curve only_nan = {"nan", nothing, 3};
    clseg_chart empty = {"Empty", &only_nan, 1, 1};
    p = chart(dir, &empty, 1);
    ck_assert_uint_eq(count_colour(&p, picture_chart_colour(0), 0, 480), 0);
    free(p.pixels);
    clseg_curve single = {"one epoch", one, 1};
    clseg_chart first = {"First epoch", &single, 1, 1};
    p = chart(dir, &first, 1);
    ck_assert_uint_ge(count_colour(&p, picture_chart_colour(0), 0, 480), 16);
    ck_assert_uint_le(count_colour(&p, picture_chart_colour(0), 0, 480), 36);
    free(p.pixels);
    /* no curves and no title at all */
    clseg_chart bare = {NULL, NULL, 0, 0};
    p = chart(dir, &bare, 1);
    free(p.pixels);
    test_rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(test_chart_thousands_of_epochs)
{
    enum { N = 3000 };
    double *v = malloc(N * sizeof *v), *w = malloc(N * sizeof *w), flat[N];
    ck_assert_ptr_nonnull(v);
    ck_assert_ptr_nonnull(w);
    for (int i = 0; i < N; i++) {
        v[i] = 2.0 + sin(i / 100.0);
        w[i] = -3e6 + 1e5 * cos(i / 70.0); /* large negative values label fine too */
        flat[i] = 0.25;
    }
    clseg_curve a = {"sine", v, N}, b = {"cosine", w, N}, c = {"flat", flat, N};
    clseg_chart panels[3] = {{"Sine", &a, 1, 0}, {"Big", &b, 1, 0}, {"Flat", &c, 1, 0}};
    char *dir = test_tmpdir("clseg-chart");
    png_read p = chart(dir, panels, 3);
    for (int k = 0; k < 3; k++) {
        ck_assert_uint_gt(count_colour(&p, picture_chart_colour(0), 480 * k, 480 * k + 480), 400);
        ck_assert_int_lt(widest_gap(&p, picture_chart_colour(0), 480 * k, 480 * k + 480), 3);
    }
    free(p.pixels);
    free(v);
    free(w);
    test_rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(test_chart_rejects_bad_arguments)
{
    double v[2] = {1, 2};
    clseg_curve curves[5] = {{"a", v, 2}, {"b", v, 2}, {"c", v, 2}, {"d", v, 2}, {"e", v, 2}};
    clseg_curve no_values = {"x", NULL, 2};
    clseg_chart too_many = {"t", curves, 5, 0}, no_curves = {"t", NULL, 1, 0}, missing = {"t", &no_values, 1, 0};
    clseg_chart ok = {"t", curves, 4, 0};
    clseg_chart lots[69];
    for (int i = 0; i < 69; i++)
        lots[i] = ok;
    const char *path = "/nonexistent/curves.png";
    char err[512];
    ck_assert_int_eq(clseg_chart_png(NULL, &ok, 1, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    struct {
        const clseg_chart *panels;
        size_t n;
    } bad[] = {{NULL, 1}, {&ok, 0}, {&too_many, 1}, {&no_curves, 1}, {&missing, 1}, {lots, 69}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        ck_assert_int_eq(clseg_chart_png(path, bad[i].panels, bad[i].n, err, sizeof err),
                         CLSEG_STATUS_INVALID_ARGUMENT);
        ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "case %zu: '%s'", i, err);
    }
    /* good panels, unwritable place: the PNG writer's error, naming the path */
    err[0] = '\0';
    ck_assert_int_eq(clseg_chart_png(path, &ok, 1, err, sizeof err), CLSEG_STATUS_IO);
    ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "'%s'", err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("picture");
    TCase *png = tcase_create("png");
    tcase_add_test(png, test_png_round_trip_exact);
    tcase_add_test(png, test_png_replaces_a_longer_file_completely);
    tcase_add_test(png, test_png_failed_write_names_the_path_and_keeps_old_files);
    tcase_add_test(png, test_png_rejects_bad_arguments);
    suite_add_tcase(s, png);
    TCase *overlay = tcase_create("overlay");
    tcase_add_test(overlay, test_overlay_square_contour);
    tcase_add_test(overlay, test_overlay_overlapping_regions);
    tcase_add_test(overlay, test_overlay_regions_on_the_border);
    tcase_add_test(overlay, test_overlay_rejects_bad_arguments);
    suite_add_tcase(s, overlay);
    TCase *charts = tcase_create("chart");
    tcase_add_test(charts, test_font_glyphs_distinct_and_visible);
    tcase_add_test(charts, test_chart_two_panels);
    tcase_add_test(charts, test_chart_gaps_single_points_and_empty_curves);
    tcase_add_test(charts, test_chart_thousands_of_epochs);
    tcase_add_test(charts, test_chart_rejects_bad_arguments);
    suite_add_tcase(s, charts);
    return test_run(s, true);
}
