#include "test_util.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool test_have_opencl(void)
{
    clseg_device_info *list = NULL;
    size_t count = 0;
    if (clseg_device_list(&list, &count, NULL, 0) == CLSEG_STATUS_SUCCESS)
        clseg_device_list_free(list);
    if (count == 0 && getenv("CLSEG_REQUIRE_OPENCL") != NULL) {
        /* tools/test.sh installs PoCL: no device there means a broken set-up, not a skip */
        fprintf(stderr, "CLSEG_REQUIRE_OPENCL is set but no OpenCL device was found\n");
        exit(EXIT_FAILURE);
    }
    return count > 0;
}

clseg_context *test_context_with(const char *selector, const char *tunables)
{
    clseg_context_options opts = clseg_context_options_default();
    opts.device = selector;
    opts.tunables = tunables;
    clseg_context *ctx = NULL;
    char err[4096] = "";
    clseg_status st = clseg_context_create(&opts, &ctx, err, sizeof err);
    ck_assert_msg(st == CLSEG_STATUS_SUCCESS, "context on '%s' (tunables %s): %s", selector ? selector : "(default)",
                  tunables ? tunables : "of the table", err);
    return ctx;
}

clseg_context *test_context(const char *selector)
{
    return test_context_with(selector, NULL);
}

char *test_tmpdir(const char *prefix)
{
    const char *base = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s-XXXXXX", base != NULL && base[0] ? base : "/tmp", prefix);
    char *made = mkdtemp(path);
    ck_assert_msg(made != NULL, "mkdtemp %s failed", path);
    char *copy = malloc(strlen(made) + 1);
    ck_assert_ptr_nonnull(copy);
    strcpy(copy, made);
    return copy;
}

void test_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        for (struct dirent *e; (e = readdir(d)) != NULL;) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char path[4352];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (unlink(path) != 0)
                test_rmdir(path); /* a folder: the run and phantom folders nest */
        }
        closedir(d);
    }
    rmdir(dir);
}

int test_run(Suite *suite, bool fork_each_test)
{
    SRunner *sr = srunner_create(suite);
    if (!fork_each_test)
        srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

clseg_tensor *test_tensor_from(clseg_context *ctx, const float *values, size_t count)
{
    clseg_tensor *t = NULL;
    ck_assert_int_eq(clseg_tensor_create(ctx, (clseg_shape){1, 1, 1, (int64_t)count}, &t), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_tensor_upload(t, values, count), CLSEG_STATUS_SUCCESS);
    return t;
}

clseg_tensor *test_tensor(clseg_context *ctx, clseg_shape s, const float *values)
{
    clseg_tensor *t = NULL;
    ck_assert_int_eq(clseg_tensor_create(ctx, s, &t), CLSEG_STATUS_SUCCESS);
    if (values != NULL)
        ck_assert_int_eq(clseg_tensor_upload(t, values, clseg_shape_numel(s)), CLSEG_STATUS_SUCCESS);
    return t;
}

float *test_download(const clseg_tensor *t)
{
    size_t n = clseg_tensor_numel(t);
    float *v = malloc((n ? n : 1) * sizeof *v);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(clseg_tensor_download(t, v, n), CLSEG_STATUS_SUCCESS);
    return v;
}

float *test_ints(size_t n, unsigned seed, int range)
{
    float *v = malloc((n ? n : 1) * sizeof *v);
    ck_assert_ptr_nonnull(v);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)((int)((i * 2654435761u + seed * 40503u) % (unsigned)(2 * range + 1)) - range);
    return v;
}

size_t test_first_difference(const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof a[i]) != 0 && !(isnan(a[i]) && isnan(b[i])))
            return i;
    return n;
}
