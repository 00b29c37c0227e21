/* clseg_evaluate: predictions scored into a report. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clseg/evaluate.h"
#include "core/internal.h"
#include "eval/eval_internal.h"

typedef struct collect {
    const clseg_dataset *ds;
    clseg_eval_slice_counts *slices;
    size_t used, cap;
} collect;

static clseg_status keep(void *user, const clseg_slice_prediction *p)
{
    collect *c = user;
    clseg_slice_info s;
    if (c->used == c->cap || clseg_dataset_slice(c->ds, p->slice, &s) != CLSEG_STATUS_SUCCESS)
        return CLSEG_STATUS_INTERNAL;
    c->slices[c->used++] = (clseg_eval_slice_counts){s.patient, s.tumour, p->tp, p->fp, p->fn, p->tn, p->mse};
    return CLSEG_STATUS_SUCCESS;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

clseg_status clseg_evaluate(clseg_net *net, clseg_context *ctx, const clseg_dataset *ds, const size_t *slices,
                            size_t count, const clseg_infer_options *opts, clseg_eval_report **report, char *err,
                            size_t err_size)
{
    if (report == NULL || ds == NULL) {
        clseg_errbuf_set(err, err_size, "clseg_evaluate: %s is NULL", report == NULL ? "report" : "ds");
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    *report = NULL;
    double start = now_seconds();
    size_t total = count > 0 ? count : clseg_dataset_slice_count(ds);
    size_t patients = clseg_dataset_patient_count(ds);
    collect c = {ds, malloc((total ? total : 1) * sizeof *c.slices), 0, total};
    const char **names = malloc((patients ? patients : 1) * sizeof *names);
    if (c.slices == NULL || names == NULL) {
        free(c.slices);
        free(names);
        clseg_errbuf_set(err, err_size, "clseg_evaluate: out of host memory for %zu slices", total);
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    for (size_t p = 0; p < patients; p++) {
        clseg_patient_info info;
        names[p] = clseg_dataset_patient(ds, p, &info) == CLSEG_STATUS_SUCCESS ? info.name : "";
    }
    clseg_status st = clseg_predict_slices(net, ctx, ds, slices, count, opts, keep, &c, err, err_size);
    if (st == CLSEG_STATUS_SUCCESS) {
        const char *model = clseg_net_meta(net, "clseg.model");
        bool autoencoder = model != NULL && strcmp(model, "autoencoder") == 0;
        st = clseg_eval_report_build(c.slices, c.used, names, patients, autoencoder, report);
        if (st != CLSEG_STATUS_SUCCESS)
            clseg_errbuf_set(err, err_size, "clseg_evaluate: scoring %zu slices failed: %s", c.used,
                             clseg_status_str(st));
        else
            (*report)->seconds = now_seconds() - start;
    }
    free(c.slices);
    free(names);
    return st;
}
