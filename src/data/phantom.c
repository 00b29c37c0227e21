/* Synthetic patients in the kaggle_3m layout and file format: head-like slices (pre-contrast,
 * FLAIR, post-contrast) with texture and noise, and tumours that grow and shrink across slices. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clseg/data.h"
#include "core/internal.h"
#include "util/files.h"
#include "util/rng.h"

#define WAVES 6
#define MAX_BLOBS 2

static const char csv_header[] =
    "Patient,RNASeqCluster,MethylationCluster,miRNACluster,CNCluster,RPPACluster,OncosignCluster,COCCluster,"
    "histological_type,neoplasm_histologic_grade,tumor_tissue_site,laterality,tumor_location,gender,"
    "age_at_initial_pathologic,race,ethnicity,death01\n";

/* Tissue intensities per channel: pre-contrast, FLAIR, post-contrast. */
static const float skull_level[3] = {170, 90, 175};
static const float brain_level[3] = {110, 120, 115};
static const float ventricle_level[3] = {60, 40, 60};
static const float tumour_level[3] = {90, 205, 150};

typedef struct blob {
    double x, y, z, rx, ry, rz, phase;
} blob;

typedef struct head {
    double cx, cy, ax, ay;       /* centre and radii at the middle slice, pixels */
    double wave[WAVES][5];       /* kx, ky, kz, phase, amplitude of the texture */
    blob blobs[MAX_BLOBS];
    int nblobs;
} head;

clseg_phantom_options clseg_phantom_options_default(void) { return (clseg_phantom_options){6, 20, 256, 1}; }

static double between(clseg_rng *r, double lo, double hi) { return lo + (hi - lo) * clseg_rng_uniform(r); }

static head make_head(clseg_rng *r, int size, int slices)
{
    head h;
    double s = size;
    h.cx = s * between(r, 0.47, 0.53);
    h.cy = s * between(r, 0.46, 0.52);
    h.ax = s * between(r, 0.33, 0.38);
    h.ay = s * between(r, 0.40, 0.45);
    for (int k = 0; k < WAVES; k++) {
        double period = s * between(r, 0.04, 0.25);
        double angle = between(r, 0.0, 6.283185307179586);
        h.wave[k][0] = 6.283185307179586 / period * cos(angle);
        h.wave[k][1] = 6.283185307179586 / period * sin(angle);
        h.wave[k][2] = between(r, 0.1, 0.6);
        h.wave[k][3] = between(r, 0.0, 6.283185307179586);
        h.wave[k][4] = between(r, 4.0, 10.0);
    }
    h.nblobs = 1 + (clseg_rng_uniform(r) < 0.4f);
    for (int b = 0; b < h.nblobs; b++) {
        double ang = between(r, 0.0, 6.283185307179586), dist = between(r, 0.15, 0.5);
        /* a tumour spans at most about 60% of the slices, so the first and last are clear */
        h.blobs[b] = (blob){h.cx + dist * h.ax * cos(ang), h.cy + dist * h.ay * sin(ang), slices * between(r, 0.38, 0.62),
                            s * between(r, 0.05, 0.12),     s * between(r, 0.05, 0.12),   slices * between(r, 0.12, 0.28),
                            between(r, 0.0, 6.283185307179586)};
    }
    return h;
}

/* Inside a blob at (x, y, z), with a lumpy outline that turns from slice to slice. */
static bool in_blob(const blob *b, double x, double y, double z)
{
    double dx = (x - b->x) / b->rx, dy = (y - b->y) / b->ry, dz = (z - b->z) / b->rz;
    double lump = 1.0 + 0.18 * sin(3.0 * atan2(dy, dx) + b->phase + 0.3 * z);
    return dx * dx + dy * dy + dz * dz <= lump * lump;
}

/* Renders slice z of a head into rgb (size x size x 3) and mask (0/255); true if any tumour. */
static bool render_slice(const head *h, clseg_rng *noise, int size, int slices, int z, uint8_t *rgb, uint8_t *mask)
{
    double zc = 0.5 * (slices - 1), t = slices > 1 ? (z - zc) / (0.62 * slices) : 0.0;
    double shrink = sqrt(fmax(1.0 - t * t, 0.05)); /* the head narrows towards top and bottom */
    double ax = h->ax * shrink, ay = h->ay * shrink;
    bool any = false;
    for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++) {
            double u = (x + 0.5 - h->cx) / ax, v = (y + 0.5 - h->cy) / ay, rr = u * u + v * v;
            double vu = (x + 0.5 - h->cx) / (0.12 * h->ax), vv = (y + 0.5 - h->cy) / (0.22 * h->ay);
            double vl = (fabs(vu) - 1.1) * (fabs(vu) - 1.1) + vv * vv; /* two ventricles */
            bool tumour = false;
            for (int b = 0; b < h->nblobs && rr < 0.85; b++)
                tumour = tumour || in_blob(&h->blobs[b], x + 0.5, y + 0.5, z);
            double texture = 0.0;
            for (int k = 0; k < WAVES; k++)
                texture += h->wave[k][4] * sin(h->wave[k][0] * x + h->wave[k][1] * y + h->wave[k][2] * z + h->wave[k][3]);
            size_t i = (size_t)y * size + (size_t)x;
            for (int c = 0; c < 3; c++) {
                double val = 0.0;
                if (rr < 0.85)
                    val = (tumour ? tumour_level[c] : vl < 1.0 && shrink > 0.8 ? ventricle_level[c] : brain_level[c]) +
                          texture;
                else if (rr < 1.0)
                    val = skull_level[c] + 0.5 * texture;
                val += 8.0 * (clseg_rng_uniform(noise) + clseg_rng_uniform(noise) - 1.0);
                rgb[i * 3 + (size_t)c] = (uint8_t)fmin(fmax(floor(val + 0.5), 0.0), 255.0);
            }
            mask[i] = tumour ? 255 : 0;
            any = any || tumour;
        }
    }
    return any;
}

static clseg_status write_patient(const char *dir, int p, const clseg_phantom_options *o, uint8_t *rgb,
                                  uint8_t *mask, clseg_phantom_summary *sum, char *err, size_t err_size)
{
    char id[64], folder[4200], path[4400];
    snprintf(id, sizeof id, "PHANTOM_XX_%04d_20260101", p + 1);
    snprintf(folder, sizeof folder, "%s/%s", dir, id);
    clseg_status st = clseg_mkdir_p(folder, err, err_size);
    clseg_rng r = {o->seed};
    r.state = clseg_rng_next(&r) ^ (uint64_t)p;
    head h = make_head(&r, o->size, o->slices);
    for (int z = 0; z < o->slices && st == CLSEG_STATUS_SUCCESS; z++) {
        sum->tumour_slices += render_slice(&h, &r, o->size, o->slices, z, rgb, mask);
        snprintf(path, sizeof path, "%s/%s_%d.tif", folder, id, z + 1);
        st = clseg_tiff_write(path, rgb, o->size, o->size, 3, err, err_size);
        snprintf(path, sizeof path, "%s/%s_%d_mask.tif", folder, id, z + 1);
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_tiff_write(path, mask, o->size, o->size, 1, err, err_size);
        sum->slices += st == CLSEG_STATUS_SUCCESS;
    }
    sum->patients += st == CLSEG_STATUS_SUCCESS;
    return st;
}

static clseg_status write_csv(const char *dir, int patients, char *err, size_t err_size)
{
    size_t cap = sizeof csv_header + (size_t)patients * 40;
    char *text = malloc(cap);
    if (text == NULL) {
        clseg_errbuf_set(err, err_size, "out of host memory for data.csv");
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    size_t len = (size_t)snprintf(text, cap, "%s", csv_header);
    for (int p = 0; p < patients; p++)
        len += (size_t)snprintf(text + len, cap - len, "PHANTOM_XX_%04d,,,,,,,,,,,,,,,,,\n", p + 1);
    char path[4200];
    snprintf(path, sizeof path, "%s/data.csv", dir);
    const void *parts[] = {text};
    clseg_status st = clseg_write_file_atomic(path, parts, &len, 1, err, err_size);
    free(text);
    return st;
}

clseg_status clseg_phantoms_write(const char *dir, const clseg_phantom_options *opts, clseg_phantom_summary *summary,
                                  char *err, size_t err_size)
{
    clseg_phantom_options o = opts != NULL ? *opts : clseg_phantom_options_default();
    const char *bad = dir == NULL || dir[0] == '\0'        ? "no output folder given"
                      : strlen(dir) > 4000                 ? "output folder name too long"
                      : o.patients < 1 || o.patients > 9999 ? "patients must be 1..9999"
                      : o.slices < 1 || o.slices > 1000    ? "slices must be 1..1000"
                      : o.size < 16 || o.size > 4096       ? "size must be 16..4096"
                                                           : NULL;
    if (bad != NULL) {
        clseg_errbuf_set(err, err_size, "phantoms: %s", bad);
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    clseg_phantom_summary sum = {0, 0, 0};
    clseg_status st = clseg_mkdir_p(dir, err, err_size);
    size_t px = (size_t)o.size * (size_t)o.size;
    uint8_t *rgb = malloc(px * 3), *mask = malloc(px);
    if (st == CLSEG_STATUS_SUCCESS && (rgb == NULL || mask == NULL)) {
        clseg_errbuf_set(err, err_size, "phantoms: out of host memory for %dx%d slices", o.size, o.size);
        st = CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    for (int p = 0; p < o.patients && st == CLSEG_STATUS_SUCCESS; p++)
        st = write_patient(dir, p, &o, rgb, mask, &sum, err, err_size);
    if (st == CLSEG_STATUS_SUCCESS)
        st = write_csv(dir, o.patients, err, err_size);
    free(rgb);
    free(mask);
    if (summary != NULL)
        *summary = sum;
    return st;
}
