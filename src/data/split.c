/* Patient-level train/validation/test splits: a patient's slices never sit in two sets. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "data/dataset.h"
#include "util/rng.h"

#define SUBSETS 3

struct clseg_split {
    size_t *patients[SUBSETS];
    size_t patient_count[SUBSETS];
    size_t *slices[SUBSETS];
    size_t slice_count[SUBSETS];
};

void clseg_split_destroy(clseg_split *split)
{
    if (split == NULL)
        return;
    for (int s = 0; s < SUBSETS; s++) {
        free(split->patients[s]);
        free(split->slices[s]);
    }
    free(split);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Builds a split from a set number per patient (-1: in no set); sets keep ascending order. */
static clseg_status build(const clseg_dataset *ds, const int *set_of, clseg_split **out, char *err, size_t err_size)
{
    clseg_split *sp = calloc(1, sizeof *sp);
    bool ok = sp != NULL;
    for (int s = 0; ok && s < SUBSETS; s++) {
        size_t np = 0, ns = 0;
        for (size_t p = 0; p < ds->patient_count; p++)
            if (set_of[p] == s) {
                np++;
                ns += ds->patients[p].count;
            }
        sp->patients[s] = malloc((np > 0 ? np : 1) * sizeof(size_t));
        sp->slices[s] = malloc((ns > 0 ? ns : 1) * sizeof(size_t));
        ok = sp->patients[s] != NULL && sp->slices[s] != NULL;
        for (size_t p = 0; ok && p < ds->patient_count; p++) {
            if (set_of[p] != s)
                continue;
            sp->patients[s][sp->patient_count[s]++] = p;
            for (size_t i = 0; i < ds->patients[p].count; i++)
                sp->slices[s][sp->slice_count[s]++] = ds->patients[p].first + i;
        }
        if (ok)
            qsort(sp->slices[s], sp->slice_count[s], sizeof(size_t), cmp_size);
    }
    if (!ok) {
        clseg_split_destroy(sp);
        clseg_errbuf_set(err, err_size, "out of host memory for a split of %zu patients", ds->patient_count);
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    *out = sp;
    return CLSEG_STATUS_SUCCESS;
}

/* round(f * n), but at least one patient for a non-zero fraction when n allows it. */
static size_t set_size(double fraction, size_t n)
{
    size_t k = (size_t)floor(fraction * (double)n + 0.5);
    return fraction > 0.0 && k == 0 && n >= 3 ? 1 : k;
}

clseg_status clseg_split_random(const clseg_dataset *ds, uint64_t seed, double val_fraction, double test_fraction,
                                clseg_split **out, char *err, size_t err_size)
{
    if (ds == NULL || out == NULL || !(val_fraction >= 0.0) || !(test_fraction >= 0.0) ||
        !(val_fraction + test_fraction < 1.0)) {
        clseg_errbuf_set(err, err_size,
                         "split: fractions must be >= 0 and add up to less than 1 (validation %g, test %g)",
                         val_fraction, test_fraction);
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    *out = NULL;
    size_t n = ds->patient_count;
    size_t n_test = set_size(test_fraction, n), n_val = set_size(val_fraction, n);
    /* training keeps at least one patient: the larger of the other two gives way first */
    while (n > 0 && n_test + n_val >= n) {
        if (n_val >= n_test && n_val > 0)
            n_val--;
        else
            n_test--;
    }
    size_t *order = malloc((n > 0 ? n : 1) * sizeof *order);
    int *set_of = malloc((n > 0 ? n : 1) * sizeof *set_of);
    if (order == NULL || set_of == NULL) {
        free(order);
        free(set_of);
        clseg_errbuf_set(err, err_size, "out of host memory for a split of %zu patients", n);
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    clseg_rng rng = {seed};
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
        size_t j = (size_t)(clseg_rng_next(&rng) % i);
        size_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    for (size_t i = 0; i < n; i++)
        set_of[order[i]] = i < n_test ? CLSEG_SUBSET_TEST : i < n_test + n_val ? CLSEG_SUBSET_VAL : CLSEG_SUBSET_TRAIN;
    clseg_status st = build(ds, set_of, out, err, err_size);
    free(order);
    free(set_of);
    return st;
}

static const char *const subset_names[SUBSETS] = {"training", "validation", "test"};

clseg_status clseg_split_from_lists(const clseg_dataset *ds, const char *const *train, size_t train_count,
                                    const char *const *val, size_t val_count, const char *const *test,
                                    size_t test_count, clseg_split **out, char *err, size_t err_size)
{
    if (ds == NULL || out == NULL) {
        clseg_errbuf_set(err, err_size, "split: dataset or out is NULL");
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    *out = NULL;
    size_t n = ds->patient_count;
    int *set_of = malloc((n > 0 ? n : 1) * sizeof *set_of);
    if (set_of == NULL) {
        clseg_errbuf_set(err, err_size, "out of host memory for a split of %zu patients", n);
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    for (size_t i = 0; i < n; i++)
        set_of[i] = -1;
    const char *const *lists[SUBSETS] = {train, val, test};
    size_t counts[SUBSETS] = {train_count, val_count, test_count};
    for (int s = 0; s < SUBSETS; s++) {
        for (size_t i = 0; i < counts[s]; i++) {
            const char *name = lists[s][i];
            size_t p = clseg_dataset_find_patient(ds, name);
            const char *problem = p == (size_t)-1 ? "is not a patient of the dataset"
                                  : set_of[p] >= 0 ? "is named twice"
                                                   : NULL;
            if (problem != NULL) {
                clseg_errbuf_set(err, err_size, "split: patient '%s' in the %s list %s%s%s", name ? name : "(null)",
                                 subset_names[s], problem, p != (size_t)-1 ? ", first in the " : "",
                                 p != (size_t)-1 ? subset_names[set_of[p]] : "");
                free(set_of);
                return CLSEG_STATUS_INVALID_ARGUMENT;
            }
            set_of[p] = s;
        }
    }
    clseg_status st = build(ds, set_of, out, err, err_size);
    free(set_of);
    return st;
}

static bool subset_ok(const clseg_split *split, clseg_subset subset)
{
    return split != NULL && (unsigned)subset < SUBSETS;
}

size_t clseg_split_patients(const clseg_split *split, clseg_subset subset, const size_t **patients)
{
    if (!subset_ok(split, subset))
        return 0;
    if (patients != NULL)
        *patients = split->patients[subset];
    return split->patient_count[subset];
}

size_t clseg_split_slices(const clseg_split *split, clseg_subset subset, const size_t **slices)
{
    if (!subset_ok(split, subset))
        return 0;
    if (slices != NULL)
        *slices = split->slices[subset];
    return split->slice_count[subset];
}
