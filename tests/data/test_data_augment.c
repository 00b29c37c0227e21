/* Resizing, normalisation and augmentation: exact where exactness is possible, and image/mask
 * alignment under every geometric transform. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/augment.h"
#include "data/preprocess.h"
#include "data_test_util.h"
#include "test_util.h"

static float unit_lut[3 * 256];
static const int all_channels[3] = {0, 1, 2};

static void fill_unit_lut(void)
{
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++)
            unit_lut[c * 256 + v] = (float)v / 255.0f;
}

static data_render_args args_for(const uint8_t *img, const uint8_t *mask, int w, int h, int out_w, int out_h,
                                 const data_augment_draw *d)
{
    data_render_args a = {img, mask, w, h, 3, all_channels, 3, unit_lut, data_affine_make(w, h, out_w, out_h, d),
                          out_w, out_h, d->gain, d->bias, true};
    return a;
}

/* A w x h RGB image whose channel 0 is 255 where the mask (a lopsided blob) is set. */
static void blob_pair(uint8_t *img, uint8_t *mask, int w, int h, uint32_t seed)
{
    dt_pattern(img, NULL, w, h, 3, seed);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double dx = x - 0.35 * w, dy = y - 0.6 * h;
            bool in = dx * dx / (0.04 * w * w) + dy * dy / (0.01 * h * h) < 1.0 || (x > w / 2 && x < w / 2 + 4);
            mask[y * w + x] = in;
            img[(y * w + x) * 3] = in ? 255 : 0;
        }
}

START_TEST(identity_is_exact)
{
    fill_unit_lut();
    enum { W = 37, H = 23 };
    uint8_t img[W * H * 3], mask[W * H];
    dt_pattern(img, mask, W, H, 3, 1);
    for (int i = 0; i < W * H; i++)
        mask[i] = mask[i] ? 1 : 0;
    float out[3 * W * H], mout[W * H];
    data_augment_draw id = data_augment_identity();
    data_render_args a = args_for(img, mask, W, H, W, H, &id);
    data_render(&a, out, mout);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            for (int c = 0; c < 3; c++)
                ck_assert_float_eq(out[c * W * H + y * W + x], img[(y * W + x) * 3 + c] / 255.0f);
            ck_assert_float_eq(mout[y * W + x], mask[y * W + x]);
        }
    /* channel selection: FLAIR alone, then channels swapped */
    const int flair[1] = {1}, swapped[2] = {2, 0};
    a.channels = flair;
    a.nsel = 1;
    data_render(&a, out, mout);
    for (int i = 0; i < W * H; i++)
        ck_assert_float_eq(out[i], img[i * 3 + 1] / 255.0f);
    a.channels = swapped;
    a.nsel = 2;
    data_render(&a, out, mout);
    for (int i = 0; i < W * H; i++) {
        ck_assert_float_eq(out[i], img[i * 3 + 2] / 255.0f);
        ck_assert_float_eq(out[W * H + i], img[i * 3] / 255.0f);
    }
}
END_TEST

START_TEST(flip_mirrors_exactly)
{
    fill_unit_lut();
    enum { W = 20, H = 9 };
    uint8_t img[W * H * 3], mask[W * H];
    blob_pair(img, mask, W, H, 2);
    float out[3 * W * H], mout[W * H];
    data_augment_draw d = data_augment_identity();
    d.flip = true;
    data_render_args a = args_for(img, mask, W, H, W, H, &d);
    data_render(&a, out, mout);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int m = y * W + (W - 1 - x);
            for (int c = 0; c < 3; c++)
                ck_assert_float_eq(out[c * W * H + y * W + x], img[m * 3 + c] / 255.0f);
            ck_assert_float_eq(mout[y * W + x], mask[m]);
        }
}
END_TEST

START_TEST(quarter_turn_moves_pixels)
{
    fill_unit_lut();
    enum { S = 16 };
    uint8_t img[S * S * 3], mask[S * S];
    blob_pair(img, mask, S, S, 3);
    float out[3 * S * S], mout[S * S];
    data_augment_draw d = data_augment_identity();
    d.degrees = 90.0f;
    data_render_args a = args_for(img, mask, S, S, S, S, &d);
    data_render(&a, out, mout);
    /* output (x, y) reads source (y, S - 1 - x) */
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            int m = (S - 1 - x) * S + y;
            ck_assert_float_eq_tol(out[S * S + y * S + x], img[m * 3 + 1] / 255.0f, 1e-4f);
            ck_assert_float_eq(mout[y * S + x], mask[m]);
        }
}
END_TEST

START_TEST(resize_bilinear_and_nearest)
{
    fill_unit_lut();
    enum { W = 8, H = 4 };
    uint8_t img[W * H * 3], mask[W * H];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            for (int c = 0; c < 3; c++)
                img[(y * W + x) * 3 + c] = (uint8_t)(x * 20 + c);
            mask[y * W + x] = (uint8_t)(x % 2);
        }
    data_augment_draw id = data_augment_identity();
    float up[3 * 16 * 8], mup[16 * 8];
    data_render_args a = args_for(img, mask, W, H, 16, 8, &id);
    data_render(&a, up, mup);
    for (int x = 1; x < 15; x++) { /* interior: exactly linear, sx = (x + 0.5) / 2 - 0.5 */
        float sx = (x + 0.5f) / 2.0f - 0.5f;
        ck_assert_float_eq_tol(up[3 * 16 + x], sx * 20.0f / 255.0f, 1e-6f);
        ck_assert_float_eq(mup[3 * 16 + x], (float)((int)floorf(sx + 0.5f) % 2));
    }
    float down[3 * 4 * 2], mdown[4 * 2];
    a = args_for(img, mask, W, H, 4, 2, &id);
    data_render(&a, down, mdown);
    for (int x = 0; x < 4; x++) /* the average of source pixels 2x and 2x + 1 */
        ck_assert_float_eq_tol(down[x], (40.0f * x + 10.0f) / 255.0f, 1e-6f);
}
END_TEST

/* For every pixel: mask 1 needs image >= 0.25 (the nearest source pixel weighs at least a
 * quarter in the bilinear sum), mask 0 needs image <= 0.75. Returns the share of pixels where
 * image > 0.5 and mask agree. */
static double check_alignment(const float *img0, const float *mask, int n, bool *ok)
{
    int agree = 0;
    *ok = true;
    for (int i = 0; i < n; i++) {
        if ((mask[i] == 1.0f && img0[i] < 0.25f - 1e-5f) || (mask[i] == 0.0f && img0[i] > 0.75f + 1e-5f))
            *ok = false;
        agree += (img0[i] > 0.5f) == (mask[i] == 1.0f);
    }
    return (double)agree / n;
}

START_TEST(alignment_kept_by_every_augmentation)
{
    fill_unit_lut();
    enum { W = 40, H = 30, S = 48 };
    uint8_t img[W * H * 3], mask[W * H];
    blob_pair(img, mask, W, H, 4);
    float out[3 * S * S], mout[S * S], out2[3 * S * S], mout2[S * S];
    const clseg_augment_options kinds[] = {
        {1.0f, 0, 0, 0}, {0, 15.0f, 0, 0}, {0, 0, 0.05f, 0}, {0.5f, 15.0f, 0.05f, 0}, {0.5f, 180.0f, 0.5f, 0}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        clseg_rng rng = {k + 100};
        for (int trial = 0; trial < 40; trial++) {
            data_augment_draw d = data_augment_random(&rng, &kinds[k]);
            data_render_args a = args_for(img, mask, W, H, S, S, &d);
            data_render(&a, out, mout);
            bool ok;
            double agree = check_alignment(out, mout, S * S, &ok);
            ck_assert_msg(ok && agree > 0.97, "kind %zu trial %d: flip %d, %.2f deg, zoom %.3f: agreement %.3f", k,
                          trial, d.flip, (double)d.degrees, (double)d.zoom, agree);
            /* intensity jitter: the image moves, the mask does not */
            data_augment_draw j = d;
            j.gain = 1.2f;
            j.bias = -0.1f;
            a = args_for(img, mask, W, H, S, S, &j);
            a.clamp01 = false;
            data_render(&a, out2, mout2);
            ck_assert_int_eq(memcmp(mout, mout2, sizeof mout), 0);
            for (int i = 0; i < 3 * S * S; i++)
                ck_assert_float_eq_tol(out2[i], out[i] * 1.2f - 0.1f, 1e-5f);
        }
    }
    /* the check has teeth: a mask that missed the image's flip fails it */
    data_augment_draw flip = data_augment_identity(), none = data_augment_identity();
    flip.flip = true;
    data_render_args a = args_for(img, mask, W, H, S, S, &flip);
    data_render(&a, out, mout);
    a = args_for(img, mask, W, H, S, S, &none);
    data_render(&a, out2, mout2);
    bool ok;
    check_alignment(out, mout2, S * S, &ok);
    ck_assert(!ok);
}
END_TEST

START_TEST(zoom_scales_about_the_centre)
{
    fill_unit_lut();
    enum { S = 64 };
    static uint8_t img[S * S * 3], mask[S * S];
    size_t before = 0;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            double dx = x + 0.5 - S / 2.0, dy = y + 0.5 - S / 2.0;
            mask[y * S + x] = dx * dx + dy * dy < 100.0;
            before += mask[y * S + x];
        }
    static float out[3 * S * S], mout[S * S];
    data_augment_draw d = data_augment_identity();
    d.zoom = 1.5f;
    data_render_args a = args_for(img, mask, S, S, S, S, &d);
    data_render(&a, out, mout);
    double after = 0;
    for (int i = 0; i < S * S; i++)
        after += mout[i];
    ck_assert_msg(fabs(after / (double)before - 2.25) < 0.15, "area ratio %.3f", after / (double)before);
    ck_assert_float_eq(mout[(S / 2) * S + S / 2], 1.0f);
}
END_TEST

START_TEST(draws_are_seeded_and_bounded)
{
    clseg_augment_options o = clseg_augment_options_default();
    clseg_rng a = {9}, b = {9};
    int flips = 0;
    for (int i = 0; i < 2000; i++) {
        data_augment_draw x = data_augment_random(&a, &o), y = data_augment_random(&b, &o);
        ck_assert(x.flip == y.flip && x.degrees == y.degrees && x.zoom == y.zoom && x.gain == y.gain && x.bias == y.bias);
        ck_assert(fabsf(x.degrees) <= 15.0f && fabsf(x.zoom - 1.0f) <= 0.05f + 1e-6f);
        ck_assert(fabsf(x.gain - 1.0f) <= 0.1f + 1e-6f && fabsf(x.bias) <= 0.1f + 1e-6f);
        flips += x.flip;
    }
    ck_assert_int_gt(flips, 900);
    ck_assert_int_lt(flips, 1100);
    clseg_augment_options off = {0, 0, 0, 0};
    data_augment_draw z = data_augment_random(&a, &off), id = data_augment_identity();
    ck_assert(!z.flip && z.degrees == 0.0f && z.zoom == 1.0f && z.gain == 1.0f && z.bias == 0.0f);
    ck_assert(!id.flip && id.zoom == 1.0f && id.gain == 1.0f);
}
END_TEST

static int cmp_u8(const void *a, const void *b) { return (int)*(const uint8_t *)a - (int)*(const uint8_t *)b; }

static double percentile_sorted(const uint8_t *v, size_t n, double q)
{
    double pos = q / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(pos), hi = lo + 1 < n ? lo + 1 : lo;
    return v[lo] + (v[hi] - v[lo]) * (pos - (double)lo);
}

/* Volume normalisation against a brute-force computation (sorting every sample). */
START_TEST(volume_standardisation)
{
    char *root = dt_phantoms(2, 4, 32, 11);
    char err[1024];
    clseg_dataset *ds = dt_load(root, true, CLSEG_STATUS_SUCCESS, err, sizeof err);
    const int sel[2] = {1, 2};
    float *luts = malloc(2 * 2 * 256 * sizeof *luts);
    data_make_luts(ds, CLSEG_NORMALIZE_VOLUME, sel, 2, NULL, luts);
    clseg_patient_info pi;
    clseg_dataset_patient(ds, 1, &pi);
    size_t px = 32 * 32, n = pi.slices * px * 2;
    uint8_t *all = malloc(n);
    size_t k = 0;
    for (size_t s = 0; s < pi.slices; s++) {
        clseg_slice_info si;
        clseg_dataset_slice(ds, pi.first_slice + s, &si);
        for (size_t i = 0; i < px; i++)
            for (int c = 0; c < 2; c++)
                all[k++] = si.image[i * 3 + (size_t)sel[c]];
    }
    qsort(all, n, 1, cmp_u8);
    double p10 = percentile_sorted(all, n, 10.0), p99 = percentile_sorted(all, n, 99.0);
    ck_assert(p99 > p10);
    for (int c = 0; c < 2; c++) {
        const float *lut = luts + (1 * 2 + c) * 256;
        double sum = 0, sq = 0, cnt = 0;
        for (size_t s = 0; s < pi.slices; s++) {
            clseg_slice_info si;
            clseg_dataset_slice(ds, pi.first_slice + s, &si);
            for (size_t i = 0; i < px; i++) {
                double v = lut[si.image[i * 3 + (size_t)sel[c]]];
                sum += v;
                sq += v * v;
                cnt++;
            }
        }
        double mean = sum / cnt, sd = sqrt(sq / cnt - mean * mean);
        ck_assert_msg(fabs(mean) < 1e-4 && fabs(sd - 1.0) < 1e-4, "channel %d: mean %g sd %g", c, mean, sd);
        /* flat below p10 and above p99, affine between */
        int lo = (int)ceil(p10), hi = (int)floor(p99);
        ck_assert_float_eq(lut[0], lut[(int)floor(p10)]);
        ck_assert_float_eq(lut[255], lut[(int)ceil(p99)]);
        double slope = (lut[hi] - lut[lo]) / (hi - lo);
        for (int v = lo; v <= hi; v++)
            ck_assert_float_eq_tol(lut[v], lut[lo] + slope * (v - lo), 1e-4);
        ck_assert_float_eq_tol(lut[lo] - slope * (lo - p10), lut[0], 1e-4);
    }
    data_make_luts(ds, CLSEG_NORMALIZE_UNIT, sel, 2, NULL, luts);
    ck_assert_float_eq(luts[255], 1.0f);
    ck_assert_float_eq(luts[3 * 256 + 51], 0.2f);
    free(all);
    free(luts);
    clseg_dataset_destroy(ds);
    dt_rmtree(root);
    free(root);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("data_augment");
    TCase *tc = tcase_create("augment");
    tcase_add_test(tc, identity_is_exact);
    tcase_add_test(tc, flip_mirrors_exactly);
    tcase_add_test(tc, quarter_turn_moves_pixels);
    tcase_add_test(tc, resize_bilinear_and_nearest);
    tcase_add_test(tc, alignment_kept_by_every_augmentation);
    tcase_add_test(tc, zoom_scales_about_the_centre);
    tcase_add_test(tc, draws_are_seeded_and_bounded);
    tcase_add_test(tc, volume_standardisation);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return test_run(suite(), true); }
