/* clseg predict: a checkpoint run over new slices, writing a mask and an overlay per slice (or
 * the auto-encoder's reconstruction) and a CSV of what it found. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_model.h"
#include "util/files.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: clseg predict --checkpoint FILE --input FILE|DIR --out DIR [--device SEL]\n"
               "                     [--batch B] [--threshold T]\n\n"
               "Segments slices with a trained model. For every slice it writes, under\n"
               "OUT/<PATIENT>/, <image>_mask.tif (0/255 at the slice's own size) and\n"
               "<image>_overlay.png (the FLAIR channel in grey, the predicted outline in red and,\n"
               "when the slice has a mask, the true outline in green); an auto-encoder's checkpoint\n"
               "writes <image>_reconstruction.png (input and reconstruction side by side) instead.\n"
               "OUT/predictions.csv lists every slice with its predicted pixels and, where a mask\n"
               "exists, its Dice.\n\n"
               "  --checkpoint FILE  a .safetensors checkpoint written by clseg\n"
               "  --input FILE|DIR   one image, one patient's folder, or a dataset of patient folders;\n"
               "                     masks (<image>_mask.tif) are optional\n"
               "  --out DIR          where the files go (created if missing)\n"
               "  --device SEL       P:D, cpu, gpu, accel, ref or part of a device name\n"
               "  --batch B          slices per forward pass (default: the training batch, else 8)\n"
               "  --threshold T      tumour where the probability > T (default 0.5)\n");
}

typedef struct predict_args {
    cli_common common;
    const char *checkpoint, *input, *out;
    cli_infer_args infer;
} predict_args;

static int parse(int argc, char **argv, predict_args *a)
{
    a->infer.threshold = NAN;
    static const char *const names[] = {"--checkpoint", "--input", "--out", "--batch", "--threshold"};
    static const cli_spec spec = {"predict", names, 5, 0, usage};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = NULL;
        int which = cli_next_arg(&spec, argc, argv, &i, &a->common, &value);
        if (which == CLI_ARG_COMMON)
            continue;
        if (which < 0)
            return which == CLI_ARG_HELP ? -1 : CLI_USAGE;
        if (which == 0)
            a->checkpoint = value;
        else if (which == 1)
            a->input = value;
        else if (which == 2)
            a->out = value;
        else if (!cli_parse_infer_option("predict", arg, value, &a->infer))
            return CLI_USAGE;
    }
    const char *missing = a->checkpoint == NULL ? "--checkpoint FILE"
                          : a->input == NULL    ? "--input FILE|DIR"
                          : a->out == NULL      ? "--out DIR"
                                                : NULL;
    if (missing != NULL) {
        cli_error("predict: %s is required", missing);
        usage(stderr);
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* --- the files --------------------------------------------------------------------------- */

/* What the callback needs and keeps. */
typedef struct writer {
    const predict_args *a;
    const clseg_dataset *ds;
    const cli_model *m;
    int flair_input;        /* the FLAIR channel's place among the net's input channels */
    size_t patient;         /* the patient whose folder exists, or SIZE_MAX */
    uint8_t *grey, *pixels; /* the largest slice's pixels; pixels holds 3 per pixel */
    char *csv;
    size_t csv_len, csv_cap;
    size_t slices, files, with_mask, predicted_pixels;
    double dice_sum;
    char error[4608];
} writer;

static clseg_status failed(writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static clseg_status failed(writer *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->error, sizeof w->error, fmt, ap);
    va_end(ap);
    return CLSEG_STATUS_IO;
}

/* Appends to the CSV text; false when out of memory. */
static bool csv_add(writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool csv_add(writer *w, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(w->csv + w->csv_len, w->csv_cap - w->csv_len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return false;
        if ((size_t)n < w->csv_cap - w->csv_len) {
            w->csv_len += (size_t)n;
            return true;
        }
        size_t cap = 2 * w->csv_cap + (size_t)n + 1;
        char *s = realloc(w->csv, cap);
        if (s == NULL)
            return false;
        w->csv = s;
        w->csv_cap = cap;
    }
}

/* A CSV field: quoted when it holds a comma, a quote or a line break. */
static bool csv_field(writer *w, const char *s, const char *after)
{
    if (strpbrk(s, ",\"\r\n") == NULL)
        return csv_add(w, "%s%s", s, after);
    bool ok = csv_add(w, "\"");
    for (const char *p = s; *p && ok; p++)
        ok = *p == '"' ? csv_add(w, "\"\"") : csv_add(w, "%c", *p);
    return ok && csv_add(w, "\"%s", after);
}

/* The image file's name without its folder and its .tif extension. */
static void stem_of(const char *path, char *stem, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    snprintf(stem, size, "%s", base);
    char *dot = strrchr(stem, '.');
    if (dot != NULL && dot != stem)
        *dot = '\0';
}

/* OUT/<PATIENT>/<stem><suffix>; false when it does not fit. */
static bool out_path(const writer *w, const char *patient, const char *stem, const char *suffix, char *path,
                     size_t size)
{
    int n = snprintf(path, size, "%s/%s/%s%s", w->a->out, patient, stem, suffix);
    return n > 0 && (size_t)n < size;
}

/* A normalised value as a grey level: unit scaling maps [0, 1]; volume scaling (standardised
 * values) maps the input plane's range [lo, hi]. */
static uint8_t grey_level(float v, float lo, float hi)
{
    float g = hi > lo ? (v - lo) / (hi - lo) * 255.0f : 0.0f;
    return g <= 0.0f ? 0 : g >= 255.0f ? 255 : (uint8_t)(g + 0.5f);
}

static clseg_status write_reconstruction(writer *w, const clseg_slice_prediction *p, const char *path)
{
    int s = p->size;
    size_t plane = (size_t)s * (size_t)s;
    const float *in = p->input + (size_t)w->flair_input * plane, *out = p->output + (size_t)w->flair_input * plane;
    float lo = 0.0f, hi = 1.0f;
    if (w->m->opts.normalize == CLSEG_NORMALIZE_VOLUME) {
        lo = hi = in[0];
        for (size_t i = 1; i < plane; i++) {
            lo = in[i] < lo ? in[i] : lo;
            hi = in[i] > hi ? in[i] : hi;
        }
    }
    for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++) {
            w->pixels[(size_t)y * 2 * (size_t)s + (size_t)x] =
                grey_level(in[(size_t)y * (size_t)s + (size_t)x], lo, hi);
            w->pixels[(size_t)y * 2 * (size_t)s + (size_t)s + (size_t)x] =
                grey_level(out[(size_t)y * (size_t)s + (size_t)x], lo, hi);
        }
    char err[4608];
    if (clseg_png_write(path, w->pixels, 2 * s, s, 1, err, sizeof err) != CLSEG_STATUS_SUCCESS)
        return failed(w, "%s", err);
    w->files++;
    return CLSEG_STATUS_SUCCESS;
}

static clseg_status write_mask_and_overlay(writer *w, const clseg_slice_prediction *p, const clseg_slice_info *info,
                                           const char *mask_path, const char *overlay_path)
{
    size_t pixels = (size_t)p->width * (size_t)p->height, set = 0;
    for (size_t i = 0; i < pixels; i++) {
        w->pixels[i] = p->mask[i] ? 255 : 0;
        set += p->mask[i] != 0;
    }
    char err[4608];
    if (clseg_tiff_write(mask_path, w->pixels, p->width, p->height, 1, err, sizeof err) != CLSEG_STATUS_SUCCESS)
        return failed(w, "%s", err);
    int flair = info->channels == 3 ? 1 : 0;
    for (size_t i = 0; i < pixels; i++)
        w->grey[i] = info->image[i * (size_t)info->channels + (size_t)flair];
    if (clseg_overlay_render(w->grey, info->has_mask ? info->mask : NULL, p->mask, p->width, p->height, w->pixels) !=
            CLSEG_STATUS_SUCCESS ||
        clseg_png_write(overlay_path, w->pixels, p->width, p->height, 3, err, sizeof err) != CLSEG_STATUS_SUCCESS)
        return failed(w, "%s", err);
    w->files += 2;
    w->predicted_pixels += set;
    return CLSEG_STATUS_SUCCESS;
}

static clseg_status write_slice(void *user, const clseg_slice_prediction *p)
{
    writer *w = user;
    clseg_slice_info info;
    clseg_patient_info patient;
    if (clseg_dataset_slice(w->ds, p->slice, &info) != CLSEG_STATUS_SUCCESS ||
        clseg_dataset_patient(w->ds, info.patient, &patient) != CLSEG_STATUS_SUCCESS)
        return failed(w, "slice %zu vanished from the dataset", p->slice);
    char err[4608], stem[1024], path[4096], second[4096];
    if (info.patient != w->patient) {
        int n = snprintf(path, sizeof path, "%s/%s", w->a->out, patient.name);
        if (n < 0 || (size_t)n >= sizeof path)
            return failed(w, "%s/%s: the path is too long", w->a->out, patient.name);
        if (clseg_mkdir_p(path, err, sizeof err) != CLSEG_STATUS_SUCCESS)
            return failed(w, "%s", err);
        w->patient = info.patient;
    }
    stem_of(info.image_path, stem, sizeof stem);
    bool ok = csv_field(w, patient.name, ",") && csv_add(w, "%d,", info.number) && csv_field(w, info.image_path, ",");
    if (w->m->autoencoder) {
        if (!out_path(w, patient.name, stem, "_reconstruction.png", path, sizeof path))
            return failed(w, "%s/%s/%s: the path is too long", w->a->out, patient.name, stem);
        clseg_status st = write_reconstruction(w, p, path);
        if (st != CLSEG_STATUS_SUCCESS)
            return st;
        ok = ok && csv_field(w, path, ",") && csv_add(w, "%.9g\n", p->mse);
    } else {
        if (!out_path(w, patient.name, stem, "_mask.tif", path, sizeof path) ||
            !out_path(w, patient.name, stem, "_overlay.png", second, sizeof second))
            return failed(w, "%s/%s/%s: the path is too long", w->a->out, patient.name, stem);
        clseg_status st = write_mask_and_overlay(w, p, &info, path, second);
        if (st != CLSEG_STATUS_SUCCESS)
            return st;
        ok = ok && csv_field(w, path, ",") && csv_add(w, "%.0f,", p->tp + p->fp);
        if (info.has_mask) {
            ok = ok && csv_add(w, "%.6f\n", p->dice);
            w->with_mask++;
            w->dice_sum += p->dice;
        } else {
            ok = ok && csv_add(w, "\n");
        }
    }
    if (!ok)
        return failed(w, "out of memory for the CSV");
    w->slices++;
    return CLSEG_STATUS_SUCCESS;
}

/* Buffers for the largest slice and the CSV's header. */
static bool writer_init(writer *w, const predict_args *a, const clseg_dataset *ds, const cli_model *m)
{
    memset(w, 0, sizeof *w);
    w->a = a;
    w->ds = ds;
    w->m = m;
    w->patient = SIZE_MAX;
    size_t largest = 2 * (size_t)m->opts.size * (size_t)m->opts.size;
    for (size_t i = 0; i < clseg_dataset_slice_count(ds); i++) {
        clseg_slice_info s;
        if (clseg_dataset_slice(ds, i, &s) == CLSEG_STATUS_SUCCESS && (size_t)s.width * (size_t)s.height > largest)
            largest = (size_t)s.width * (size_t)s.height;
    }
    /* the auto-encoder pictures the FLAIR channel: where it sits among the channels fed */
    int flair = clseg_dataset_channels(ds) == 3 ? 1 : 0;
    for (int k = 0; k < m->opts.channel_count; k++)
        if (m->opts.channels[k] == flair)
            w->flair_input = k;
    if (m->opts.channel_count == 0)
        w->flair_input = flair;
    w->grey = malloc(largest);
    w->pixels = malloc(3 * largest);
    return w->grey != NULL && w->pixels != NULL &&
           csv_add(w, m->autoencoder ? "patient,slice,image,reconstruction_file,mse\n"
                                     : "patient,slice,image,mask_file,predicted_pixels,dice\n");
}

static void writer_free(writer *w)
{
    free(w->grey);
    free(w->pixels);
    free(w->csv);
}

static int run(const predict_args *a, cli_model *m, const clseg_dataset *ds)
{
    writer w;
    if (!writer_init(&w, a, ds, m)) {
        writer_free(&w);
        cli_error("predict: out of memory");
        return CLI_FAILED;
    }
    char err[4608], csv_path[4096];
    int rc = CLI_OK;
    clseg_status st = clseg_predict_slices(m->net, m->ctx, ds, NULL, 0, &m->opts, write_slice, &w, err, sizeof err);
    if (st != CLSEG_STATUS_SUCCESS) {
        cli_error("predict: %s", w.error[0] ? w.error : err);
        rc = CLI_FAILED;
    }
    snprintf(csv_path, sizeof csv_path, "%s/predictions.csv", a->out);
    const void *parts[] = {w.csv};
    if (rc == CLI_OK &&
        clseg_write_file_atomic(csv_path, parts, &w.csv_len, 1, err, sizeof err) != CLSEG_STATUS_SUCCESS) {
        cli_error("predict: %s", err);
        rc = CLI_FAILED;
    }
    if (rc == CLI_OK) {
        size_t patients = clseg_dataset_patient_count(ds);
        printf("%s: %zu slice%s of %zu patient%s on %s\n", a->input, w.slices, w.slices == 1 ? "" : "s", patients,
               patients == 1 ? "" : "s", clseg_context_device(m->ctx)->name);
        if (m->autoencoder)
            printf("wrote %zu reconstruction%s and predictions.csv to %s/\n", w.files, w.files == 1 ? "" : "s", a->out);
        else
            printf("wrote %zu mask%s, %zu overlay%s and predictions.csv to %s/ (%zu tumour pixels predicted)\n",
                   w.files / 2, w.files == 2 ? "" : "s", w.files / 2, w.files == 2 ? "" : "s", a->out,
                   w.predicted_pixels);
        if (w.with_mask > 0)
            printf("mean Dice over the %zu slices with a mask: %.4f\n", w.with_mask, w.dice_sum / (double)w.with_mask);
    }
    writer_free(&w);
    return rc;
}

int cmd_predict(int argc, char **argv)
{
    predict_args a;
    memset(&a, 0, sizeof a);
    int rc = parse(argc, argv, &a);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    cli_model m;
    if ((rc = cli_model_open("predict", a.checkpoint, &a.infer, &m)) != CLI_OK)
        return rc;
    clseg_dataset_options dopts = {.allow_missing_masks = true};
    clseg_dataset *ds = NULL;
    char err[4096];
    if (clseg_dataset_load(a.input, &dopts, &ds, err, sizeof err) != CLSEG_STATUS_SUCCESS) {
        cli_error("predict: %s", err);
        rc = CLI_FAILED;
    }
    if (rc == CLI_OK && clseg_mkdir_p(a.out, err, sizeof err) != CLSEG_STATUS_SUCCESS) {
        cli_error("predict: --out %s: %s", a.out, err);
        rc = CLI_FAILED;
    }
    if (rc == CLI_OK)
        rc = cli_model_load("predict", &a.common, a.checkpoint, &m);
    if (rc == CLI_OK)
        rc = run(&a, &m, ds);
    clseg_dataset_destroy(ds);
    cli_model_close(&m);
    return rc;
}
