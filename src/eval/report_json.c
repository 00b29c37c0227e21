/* An evaluation report as JSON, for scripts and notebooks. */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clseg/evaluate.h"
#include "core/internal.h"

/* A growing string; ok turns false (and stays) when memory runs out. */
typedef struct text {
    char *s;
    size_t len, cap;
    bool ok;
} text;

static void add(text *t, const char *fmt, ...) CLSEG_PRINTF(2, 3);

static void add(text *t, const char *fmt, ...)
{
    if (!t->ok)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->ok = false;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = 2 * t->cap + (size_t)n + 1;
        char *s = realloc(t->s, cap);
        if (s == NULL) {
            t->ok = false;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
}

/* A number, or null for NaN and infinities (which JSON cannot hold). */
static void number(text *t, const char *key, double v)
{
    if (isfinite(v))
        add(t, "\"%s\": %.15g", key, v);
    else
        add(t, "\"%s\": null", key);
}

static void string(text *t, const char *s)
{
    add(t, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            add(t, "\\%c", *p);
        else if (*p < 0x20)
            add(t, "\\u%04x", *p);
        else
            add(t, "%c", *p);
    }
    add(t, "\"");
}

static void stats(text *t, const char *key, clseg_score_stats s)
{
    add(t, "  \"%s\": {", key);
    number(t, "mean", s.mean);
    add(t, ", ");
    number(t, "median", s.median);
    add(t, "},\n");
}

static void patient(text *t, const clseg_patient_score *p, bool last)
{
    add(t, "    {\"name\": ");
    string(t, p->name);
    add(t, ", \"patient\": %zu, \"slices\": %zu, \"tumour_slices\": %zu, ", p->patient, p->slices, p->tumour_slices);
    const char *keys[] = {"tp", "fp", "fn", "tn", "dice", "iou", "slice_dice_mean", "mse"};
    const double values[] = {p->tp, p->fp, p->fn, p->tn, p->dice, p->iou, p->slice_dice_mean, p->mse};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        number(t, keys[k], values[k]);
        add(t, k + 1 < sizeof keys / sizeof *keys ? ", " : "}");
    }
    add(t, last ? "\n" : ",\n");
}

char *clseg_eval_report_json(const clseg_eval_report *report)
{
    if (report == NULL)
        return NULL;
    text t = {malloc(1024), 0, 1024, true};
    if (t.s == NULL)
        return NULL;
    add(&t, "{\n  \"autoencoder\": %s,\n  \"patient_count\": %zu,\n  \"slice_count\": %zu,\n  ",
        report->autoencoder ? "true" : "false", report->patient_count, report->slice_count);
    number(&t, "seconds", report->seconds);
    add(&t, ",\n");
    stats(&t, "slice_dice", report->slice_dice);
    stats(&t, "slice_iou", report->slice_iou);
    stats(&t, "volume_dice", report->volume_dice);
    stats(&t, "volume_iou", report->volume_iou);
    stats(&t, "mse", report->mse);
    add(&t, "  \"patients\": [\n");
    for (size_t i = 0; i < report->patient_count; i++)
        patient(&t, &report->patients[i], i + 1 == report->patient_count);
    add(&t, "  ]\n}\n");
    if (!t.ok) {
        free(t.s);
        return NULL;
    }
    return t.s;
}
