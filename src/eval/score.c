/* Scores from per-slice counts: Dice and IoU per slice and per patient volume, their means and
 * medians, or the auto-encoder's reconstruction error. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clseg/loss.h"
#include "eval/eval_internal.h"

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

clseg_score_stats clseg_eval_stats(double *values, size_t n)
{
    if (n == 0)
        return (clseg_score_stats){NAN, NAN};
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += values[i];
    qsort(values, n, sizeof *values, by_value);
    double median = n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
    return (clseg_score_stats){sum / (double)n, median};
}

void clseg_eval_report_destroy(clseg_eval_report *report)
{
    if (report == NULL)
        return;
    for (size_t i = 0; i < report->patient_count; i++)
        free((char *)report->patients[i].name);
    free(report->patients);
    free(report);
}

static char *copy_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c != NULL)
        memcpy(c, s, n);
    return c;
}

/* Each patient's slot in the report, or SIZE_MAX for patients without a slice here; returns
 * how many have one. */
static size_t number_patients(const clseg_eval_slice_counts *slices, size_t count, size_t *slot, size_t name_count)
{
    for (size_t p = 0; p < name_count; p++)
        slot[p] = SIZE_MAX;
    for (size_t i = 0; i < count; i++)
        slot[slices[i].patient] = 0;
    size_t used = 0;
    for (size_t p = 0; p < name_count; p++)
        if (slot[p] != SIZE_MAX)
            slot[p] = used++;
    return used;
}

/* Sums the slices into their patients and gathers the per-slice scores into dice and iou (or
 * mse) for the statistics. */
static void accumulate(clseg_eval_report *r, const clseg_eval_slice_counts *slices, size_t count, const size_t *slot,
                       double *dice, double *iou, double *mse)
{
    for (size_t i = 0; i < count; i++) {
        const clseg_eval_slice_counts *s = &slices[i];
        clseg_patient_score *p = &r->patients[slot[s->patient]];
        p->slices++;
        p->tumour_slices += s->tumour;
        if (r->autoencoder) {
            p->mse += s->mse;
            mse[i] = s->mse;
            continue;
        }
        p->tp += s->tp;
        p->fp += s->fp;
        p->fn += s->fn;
        p->tn += s->tn;
        dice[i] = clseg_dice_score(s->tp, s->fp, s->fn);
        iou[i] = clseg_iou_score(s->tp, s->fp, s->fn);
        p->slice_dice_mean += dice[i];
    }
}

/* The report's totals once every slice is in: per-patient means and scores, then statistics. */
static void finish(clseg_eval_report *r, double *dice, double *iou, double *mse, size_t count)
{
    for (size_t k = 0; k < r->patient_count; k++) {
        clseg_patient_score *p = &r->patients[k];
        if (r->autoencoder) {
            p->mse /= (double)p->slices;
            p->tp = p->fp = p->fn = p->tn = p->dice = p->iou = p->slice_dice_mean = NAN;
        } else {
            p->slice_dice_mean /= (double)p->slices;
            p->dice = clseg_dice_score(p->tp, p->fp, p->fn);
            p->iou = clseg_iou_score(p->tp, p->fp, p->fn);
            p->mse = NAN;
        }
    }
    clseg_score_stats none = {NAN, NAN};
    r->slice_dice = r->slice_iou = r->volume_dice = r->volume_iou = r->mse = none;
    if (r->autoencoder) {
        r->mse = clseg_eval_stats(mse, count);
        return;
    }
    r->slice_dice = clseg_eval_stats(dice, count);
    r->slice_iou = clseg_eval_stats(iou, count);
    /* the per-slice arrays are spent: reuse them for the volumes */
    for (size_t k = 0; k < r->patient_count; k++) {
        dice[k] = r->patients[k].dice;
        iou[k] = r->patients[k].iou;
    }
    r->volume_dice = clseg_eval_stats(dice, r->patient_count);
    r->volume_iou = clseg_eval_stats(iou, r->patient_count);
}

clseg_status clseg_eval_report_build(const clseg_eval_slice_counts *slices, size_t count, const char *const *names,
                                     size_t name_count, bool autoencoder, clseg_eval_report **out)
{
    if (out == NULL || (count > 0 && (slices == NULL || names == NULL)))
        return CLSEG_STATUS_INVALID_ARGUMENT;
    *out = NULL;
    for (size_t i = 0; i < count; i++)
        if (slices[i].patient >= name_count)
            return CLSEG_STATUS_INVALID_ARGUMENT;
    size_t n = count ? count : 1;
    size_t *slot = malloc((name_count ? name_count : 1) * sizeof *slot);
    double *scratch = malloc(3 * n * sizeof *scratch);
    clseg_eval_report *r = calloc(1, sizeof *r);
    clseg_status st =
        slot != NULL && scratch != NULL && r != NULL ? CLSEG_STATUS_SUCCESS : CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    if (st == CLSEG_STATUS_SUCCESS) {
        r->autoencoder = autoencoder;
        r->slice_count = count;
        size_t used = number_patients(slices, count, slot, name_count);
        r->patients = calloc(used ? used : 1, sizeof *r->patients);
        if (r->patients == NULL)
            st = CLSEG_STATUS_OUT_OF_HOST_MEMORY;
        for (size_t p = 0; p < name_count && st == CLSEG_STATUS_SUCCESS; p++) {
            if (slot[p] == SIZE_MAX)
                continue;
            clseg_patient_score *ps = &r->patients[slot[p]];
            ps->patient = p;
            ps->name = copy_string(names[p] != NULL ? names[p] : "");
            r->patient_count++;
            if (ps->name == NULL)
                st = CLSEG_STATUS_OUT_OF_HOST_MEMORY;
        }
    }
    if (st == CLSEG_STATUS_SUCCESS) {
        accumulate(r, slices, count, slot, scratch, scratch + n, scratch + 2 * n);
        finish(r, scratch, scratch + n, scratch + 2 * n, count);
        *out = r;
    } else {
        clseg_eval_report_destroy(r);
    }
    free(slot);
    free(scratch);
    return st;
}
