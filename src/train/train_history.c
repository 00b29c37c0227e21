/* The run's per-epoch history: metrics.csv (one row per epoch, rewritten whole and atomically
 * so a crash never leaves half a row) and the curves drawn from it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clseg/picture.h"
#include "core/internal.h"
#include "train/train_internal.h"
#include "util/files.h"

#define COLUMNS 16
static const char header[] = "epoch,step,train_loss,val_dice_slice_mean,val_dice_slice_median,"
                             "val_dice_volume_mean,val_dice_volume_median,val_iou_slice_mean,"
                             "val_iou_slice_median,val_iou_volume_mean,val_iou_volume_median,val_mse,"
                             "train_images_per_s,train_s,val_s,best";

char *train_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

clseg_status train_history_add(train_history *h, const train_epoch_row *row)
{
    if (h->count == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 64;
        train_epoch_row *r = realloc(h->rows, cap * sizeof *r);
        if (r == NULL)
            return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
        h->rows = r;
        h->cap = cap;
    }
    h->rows[h->count++] = *row;
    return CLSEG_STATUS_SUCCESS;
}

void train_history_free(train_history *h)
{
    free(h->rows);
    *h = (train_history){0};
}

static void row_values(const train_epoch_row *r, double v[COLUMNS])
{
    const double all[COLUMNS] = {(double)r->epoch,      (double)r->step,      r->train_loss,
                                 r->dice_slice_mean,    r->dice_slice_median, r->dice_volume_mean,
                                 r->dice_volume_median, r->iou_slice_mean,    r->iou_slice_median,
                                 r->iou_volume_mean,    r->iou_volume_median, r->mse,
                                 r->images_per_s,       r->train_s,           r->val_s,
                                 (double)r->best};
    memcpy(v, all, sizeof all);
}

static train_epoch_row row_from(const double v[COLUMNS])
{
    return (train_epoch_row){(int64_t)v[0], (int64_t)v[1], v[2],  v[3],  v[4],  v[5],  v[6],  v[7],
                             v[8],          v[9],          v[10], v[11], v[12], v[13], v[14], (int)v[15]};
}

clseg_status train_history_read(train_history *h, const char *path, int64_t up_to_epoch, char *err, size_t err_size)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return CLSEG_STATUS_SUCCESS;
    char line[1024];
    clseg_status st = CLSEG_STATUS_SUCCESS;
    int lineno = 0;
    while (st == CLSEG_STATUS_SUCCESS && fgets(line, sizeof line, f) != NULL) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (lineno == 1 || line[0] == '\0')
            continue;
        double v[COLUMNS];
        const char *p = line;
        int k = 0;
        for (; k < COLUMNS; k++) {
            char *end = NULL;
            v[k] = (*p == ',' || *p == '\0') ? NAN : strtod(p, &end);
            if (end == NULL)
                end = (char *)p;
            if (*end != (k + 1 < COLUMNS ? ',' : '\0'))
                break;
            p = end + (k + 1 < COLUMNS);
        }
        if (k < COLUMNS) {
            clseg_errbuf_set(err, err_size, "%s:%d: not a row of %d numbers", path, lineno, COLUMNS);
            st = CLSEG_STATUS_BAD_FORMAT;
        } else if (v[0] <= (double)up_to_epoch) {
            train_epoch_row r = row_from(v);
            st = train_history_add(h, &r);
        }
    }
    fclose(f);
    return st;
}

static char *format_csv(const train_history *h)
{
    size_t cap = sizeof header + 1 + h->count * COLUMNS * 26;
    char *s = malloc(cap);
    if (s == NULL)
        return NULL;
    size_t n = (size_t)snprintf(s, cap, "%s\n", header);
    for (size_t i = 0; i < h->count; i++) {
        double v[COLUMNS];
        row_values(&h->rows[i], v);
        for (int k = 0; k < COLUMNS; k++) {
            const char *sep = k + 1 < COLUMNS ? "," : "\n";
            if (isnan(v[k]))
                n += (size_t)snprintf(s + n, cap - n, "%s", sep);
            else if (k <= 1 || k == COLUMNS - 1)
                n += (size_t)snprintf(s + n, cap - n, "%.0f%s", v[k], sep);
            else
                n += (size_t)snprintf(s + n, cap - n, "%.6g%s", v[k], sep);
        }
    }
    return s;
}

static clseg_status write_curves(const train_history *h, const char *png_path, bool autoencoder, char *err,
                                 size_t err_size)
{
    size_t n = h->count;
    double *v = malloc((n ? n : 1) * 4 * sizeof *v);
    if (v == NULL)
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    double *loss = v, *a = v + n, *b = v + 2 * n, *c = v + 3 * n;
    for (size_t i = 0; i < n; i++) {
        loss[i] = h->rows[i].train_loss;
        a[i] = autoencoder ? h->rows[i].mse : h->rows[i].dice_volume_mean;
        b[i] = h->rows[i].dice_slice_mean;
        c[i] = h->rows[i].iou_volume_mean;
    }
    clseg_curve loss_curves[] = {{"training loss", loss, n}};
    clseg_curve val_curves[] = {{autoencoder ? "validation MSE" : "Dice per volume (mean)", a, n},
                                {"Dice per slice (mean)", b, n},
                                {"IoU per volume (mean)", c, n}};
    clseg_chart panels[] = {{"training loss per epoch", loss_curves, 1, 1},
                            {autoencoder ? "validation reconstruction error" : "validation scores per epoch",
                             val_curves, autoencoder ? 1 : 3, 1}};
    clseg_status st = clseg_chart_png(png_path, panels, 2, err, err_size);
    free(v);
    return st;
}

clseg_status train_history_write(const train_history *h, const char *csv_path, const char *png_path, bool autoencoder,
                                 char *err, size_t err_size)
{
    char *csv = format_csv(h);
    if (csv == NULL)
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    const void *parts[] = {csv};
    size_t sizes[] = {strlen(csv)};
    clseg_status st = clseg_write_file_atomic(csv_path, parts, sizes, 1, err, err_size);
    free(csv);
    if (st == CLSEG_STATUS_SUCCESS)
        st = write_curves(h, png_path, autoencoder, err, err_size);
    return st;
}
