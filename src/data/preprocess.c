#include "data/preprocess.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"

static const char *const normalize_names[] = {"unit", "volume"};

const char *clseg_normalize_str(clseg_normalize mode)
{
    return (unsigned)mode < sizeof normalize_names / sizeof normalize_names[0] ? normalize_names[mode] : "unknown";
}

clseg_status clseg_normalize_parse(const char *name, clseg_normalize *mode)
{
    for (size_t i = 0; name != NULL && mode != NULL && i < sizeof normalize_names / sizeof normalize_names[0]; i++)
        if (strcmp(name, normalize_names[i]) == 0) {
            *mode = (clseg_normalize)i;
            return CLSEG_STATUS_SUCCESS;
        }
    return CLSEG_STATUS_INVALID_ARGUMENT;
}

/* numpy.percentile's default (linear between order statistics) from a histogram of n values. */
static double hist_percentile(const uint64_t *hist, uint64_t n, double q)
{
    double pos = q / 100.0 * (double)(n - 1);
    uint64_t lo = (uint64_t)floor(pos), hi = lo + 1 < n ? lo + 1 : lo;
    double vlo = 0.0, vhi = 0.0;
    uint64_t below = 0;
    for (int v = 0; v < 256; v++) {
        uint64_t upto = below + hist[v];
        if (lo >= below && lo < upto)
            vlo = v;
        if (hi >= below && hi < upto) {
            vhi = v;
            break;
        }
        below = upto;
    }
    return vlo + (vhi - vlo) * (pos - (double)lo);
}

static void volume_luts(const clseg_dataset *ds, size_t p, const int *channels, int nsel, float *luts)
{
    uint64_t hist[CLSEG_DATA_MAX_CHANNELS][256], all[256];
    memset(hist, 0, sizeof hist);
    memset(all, 0, sizeof all);
    const data_patient *pt = &ds->patients[p];
    size_t c = (size_t)ds->channels;
    for (size_t i = pt->first; i < pt->first + pt->count; i++) {
        const data_slice *s = &ds->slices[i];
        size_t px = (size_t)s->width * s->height;
        for (int k = 0; k < nsel; k++)
            for (size_t j = 0; j < px; j++)
                hist[k][s->image[j * c + (size_t)channels[k]]]++;
    }
    uint64_t n = 0;
    for (int k = 0; k < nsel; k++)
        for (int v = 0; v < 256; v++) {
            all[v] += hist[k][v];
            n += hist[k][v];
        }
    double p10 = hist_percentile(all, n, 10.0), p99 = hist_percentile(all, n, 99.0);
    double range = p99 - p10;
    double r[256];
    for (int v = 0; v < 256; v++)
        r[v] = range > 0.0 ? fmin(fmax((v - p10) / range, 0.0), 1.0) : 0.0;
    for (int k = 0; k < nsel; k++) {
        double count = (double)n / nsel, sum = 0.0, sq = 0.0;
        for (int v = 0; v < 256; v++)
            sum += (double)hist[k][v] * r[v];
        double mean = sum / count;
        for (int v = 0; v < 256; v++)
            sq += (double)hist[k][v] * (r[v] - mean) * (r[v] - mean);
        double sd = sqrt(sq / count);
        if (!(sd > 1e-12)) /* a constant channel: centre it, do not blow it up */
            sd = 1.0;
        for (int v = 0; v < 256; v++)
            luts[k * 256 + v] = (float)((r[v] - mean) / sd);
    }
}

void data_make_luts(const clseg_dataset *ds, clseg_normalize mode, const int *channels, int nsel, const bool *need,
                    float *luts)
{
    for (size_t p = 0; p < ds->patient_count; p++) {
        if (need != NULL && !need[p])
            continue;
        float *t = luts + p * (size_t)nsel * 256;
        if (mode == CLSEG_NORMALIZE_VOLUME) {
            volume_luts(ds, p, channels, nsel, t);
        } else {
            for (int k = 0; k < nsel; k++)
                for (int v = 0; v < 256; v++)
                    t[k * 256 + v] = (float)v / 255.0f;
        }
    }
}

/* floorf without a libm call (baseline x86-64 has no rounding instruction); |x| < 2^31. */
static inline int ifloor(float x)
{
    int i = (int)x;
    return i - (x < (float)i);
}

/* One output row: bilinear image samples, nearest mask samples. Locals and restrict keep the
 * compiler from reloading the arguments after every store to out. */
static void render_row(const data_render_args *a, int oy, float *restrict img_out, float *restrict mask_out,
                       size_t plane)
{
    const int w = a->src_w, h = a->src_h, sc = a->src_channels, nsel = a->nsel, out_w = a->out_w;
    const uint8_t *restrict image = a->image, *restrict mask = a->mask;
    const float *restrict luts = a->luts;
    const float gain = a->gain, bias = a->bias;
    const bool clamp01 = a->clamp01;
    int ch[CLSEG_DATA_MAX_CHANNELS];
    for (int c = 0; c < nsel; c++)
        ch[c] = a->channels[c];
    const float *m = a->map.m;
    float sx = m[1] * (float)oy + m[2], sy = m[4] * (float)oy + m[5];
    for (int ox = 0; ox < out_w; ox++, sx += m[0], sy += m[3]) {
        int xn = ifloor(sx + 0.5f), yn = ifloor(sy + 0.5f);
        mask_out[ox] = xn >= 0 && xn < w && yn >= 0 && yn < h ? (float)mask[(size_t)yn * w + xn] : 0.0f;
        int x0 = ifloor(sx), y0 = ifloor(sy);
        float fx = sx - (float)x0, fy = sy - (float)y0;
        float wt[4] = {(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy};
        /* neighbours outside the source read sample 0, whose table entry is the background */
        static const uint8_t zero[CLSEG_DATA_MAX_CHANNELS] = {0, 0, 0};
        const uint8_t *px[4];
        for (int k = 0; k < 4; k++) {
            int x = x0 + (k & 1), y = y0 + (k >> 1);
            px[k] = x >= 0 && x < w && y >= 0 && y < h ? image + ((size_t)y * w + x) * sc : zero;
        }
        for (int c = 0; c < nsel; c++) {
            const float *lut = luts + c * 256;
            int k = ch[c];
            float v = wt[0] * lut[px[0][k]] + wt[1] * lut[px[1][k]] + wt[2] * lut[px[2][k]] + wt[3] * lut[px[3][k]];
            v = v * gain + bias;
            if (clamp01)
                v = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
            img_out[c * plane + (size_t)ox] = v;
        }
    }
}

void data_render(const data_render_args *a, float *img_out, float *mask_out)
{
    const size_t plane = (size_t)a->out_w * a->out_h;
    for (int oy = 0; oy < a->out_h; oy++)
        render_row(a, oy, img_out + (size_t)oy * a->out_w, mask_out + (size_t)oy * a->out_w, plane);
}
