/* Patient-level splits: disjoint, complete, deterministic, sized as asked, lists checked. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data_test_util.h"
#include "test_util.h"

static char *root;
static clseg_dataset *ds;

static void setup(void) { ds = dt_fixture_open(10, 3, 16, 5, &root); }

static void teardown(void) { dt_fixture_close(ds, root); }

/* Every patient in at most one set (exactly one when all), slices follow their patient. */
static void check_disjoint(const clseg_split *sp, bool all)
{
    size_t n = clseg_dataset_patient_count(ds);
    int *owner = malloc(n * sizeof *owner);
    for (size_t p = 0; p < n; p++)
        owner[p] = -1;
    for (int s = 0; s < 3; s++) {
        const size_t *pat = NULL, *sl = NULL;
        size_t np = clseg_split_patients(sp, (clseg_subset)s, &pat);
        size_t ns = clseg_split_slices(sp, (clseg_subset)s, &sl);
        size_t want_slices = 0;
        for (size_t i = 0; i < np; i++) {
            ck_assert_uint_lt(pat[i], n);
            ck_assert_msg(owner[pat[i]] == -1, "patient %zu in sets %d and %d", pat[i], owner[pat[i]], s);
            owner[pat[i]] = s;
            if (i > 0)
                ck_assert_uint_lt(pat[i - 1], pat[i]);
            clseg_patient_info pi;
            clseg_dataset_patient(ds, pat[i], &pi);
            want_slices += pi.slices;
        }
        ck_assert_uint_eq(ns, want_slices);
        for (size_t i = 0; i < ns; i++) {
            clseg_slice_info si;
            ck_assert_int_eq(clseg_dataset_slice(ds, sl[i], &si), CLSEG_STATUS_SUCCESS);
            ck_assert_int_eq(owner[si.patient], s);
        }
    }
    for (size_t p = 0; all && p < n; p++)
        ck_assert_int_ge(owner[p], 0);
    free(owner);
}

static size_t count(const clseg_split *sp, clseg_subset s) { return clseg_split_patients(sp, s, NULL); }

/* A random split's set sizes, and its disjointness. */
static void expect_sizes(double val, double test, size_t n_train, size_t n_val, size_t n_test)
{
    char err[1024];
    clseg_split *sp = NULL;
    ck_assert_int_eq(clseg_split_random(ds, 42, val, test, &sp, err, sizeof err), CLSEG_STATUS_SUCCESS);
    ck_assert_uint_eq(count(sp, CLSEG_SUBSET_TRAIN), n_train);
    ck_assert_uint_eq(count(sp, CLSEG_SUBSET_VAL), n_val);
    ck_assert_uint_eq(count(sp, CLSEG_SUBSET_TEST), n_test);
    check_disjoint(sp, true);
    clseg_split_destroy(sp);
}

START_TEST(random_split_sizes_and_disjointness)
{
    expect_sizes(0.2, 0.1, 7, 2, 1);
    /* tiny fractions still give one patient each; training keeps at least one */
    expect_sizes(0.01, 0.01, 8, 1, 1);
    expect_sizes(0.5, 0.45, 1, 4, 5); /* 5 + 5 leaves none: validation gives way */
    expect_sizes(0.0, 0.0, 10, 0, 0);
}
END_TEST

START_TEST(random_split_is_deterministic)
{
    char err[1024];
    clseg_split *a = NULL, *b = NULL;
    ck_assert_int_eq(clseg_split_random(ds, 7, 0.2, 0.2, &a, err, sizeof err), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_split_random(ds, 7, 0.2, 0.2, &b, err, sizeof err), CLSEG_STATUS_SUCCESS);
    for (int s = 0; s < 3; s++) {
        const size_t *pa, *pb;
        size_t na = clseg_split_patients(a, (clseg_subset)s, &pa), nb = clseg_split_patients(b, (clseg_subset)s, &pb);
        ck_assert_uint_eq(na, nb);
        ck_assert_int_eq(memcmp(pa, pb, na * sizeof *pa), 0);
    }
    clseg_split_destroy(b);
    /* some other seed gives another test set */
    bool differs = false;
    for (uint64_t seed = 8; seed < 40 && !differs; seed++) {
        ck_assert_int_eq(clseg_split_random(ds, seed, 0.2, 0.2, &b, err, sizeof err), CLSEG_STATUS_SUCCESS);
        const size_t *pa, *pb;
        size_t na = clseg_split_patients(a, CLSEG_SUBSET_TEST, &pa);
        clseg_split_patients(b, CLSEG_SUBSET_TEST, &pb);
        differs = memcmp(pa, pb, na * sizeof *pa) != 0;
        clseg_split_destroy(b);
    }
    ck_assert(differs);
    clseg_split_destroy(a);
}
END_TEST

START_TEST(bad_fractions)
{
    char err[1024] = "";
    clseg_split *sp = NULL;
    ck_assert_int_eq(clseg_split_random(ds, 1, 0.5, 0.5, &sp, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err, "fractions"));
    ck_assert_int_eq(clseg_split_random(ds, 1, -0.1, 0.2, &sp, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_split_random(ds, 1, (double)NAN, 0.2, &sp, err, sizeof err), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_null(sp);
}
END_TEST

START_TEST(explicit_lists)
{
    const char *train[] = {"PHANTOM_XX_0001_20260101", "PHANTOM_XX_0003_20260101", "PHANTOM_XX_0004_20260101"};
    const char *val[] = {"PHANTOM_XX_0002_20260101"};
    const char *test[] = {"PHANTOM_XX_0010_20260101"};
    char err[1024] = "";
    clseg_split *sp = NULL;
    ck_assert_int_eq(clseg_split_from_lists(ds, train, 3, val, 1, test, 1, &sp, err, sizeof err),
                     CLSEG_STATUS_SUCCESS);
    const size_t *p;
    ck_assert_uint_eq(clseg_split_patients(sp, CLSEG_SUBSET_TRAIN, &p), 3);
    ck_assert_uint_eq(p[0], 0);
    ck_assert_uint_eq(p[2], 3);
    ck_assert_uint_eq(clseg_split_patients(sp, CLSEG_SUBSET_VAL, &p), 1);
    ck_assert_uint_eq(p[0], 1);
    ck_assert_uint_eq(clseg_split_patients(sp, CLSEG_SUBSET_TEST, &p), 1);
    ck_assert_uint_eq(p[0], 9);
    ck_assert_uint_eq(clseg_split_slices(sp, CLSEG_SUBSET_TRAIN, NULL), 9);
    check_disjoint(sp, false);
    clseg_split_destroy(sp);
    sp = NULL;

    const char *unknown[] = {"TCGA_CS_5396_20010302"};
    ck_assert_int_eq(clseg_split_from_lists(ds, train, 3, unknown, 1, NULL, 0, &sp, err, sizeof err),
                     CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err, "TCGA_CS_5396_20010302") && strstr(err, "not a patient"), "%s", err);
    ck_assert_int_eq(clseg_split_from_lists(ds, train, 3, val, 1, train + 1, 1, &sp, err, sizeof err),
                     CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err, "PHANTOM_XX_0003_20260101") && strstr(err, "twice") && strstr(err, "training"), "%s",
                  err);
    ck_assert_ptr_null(sp);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("data_split");
    TCase *tc = tcase_create("split");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, random_split_sizes_and_disjointness);
    tcase_add_test(tc, random_split_is_deterministic);
    tcase_add_test(tc, bad_fractions);
    tcase_add_test(tc, explicit_lists);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return test_run(suite(), true); }
