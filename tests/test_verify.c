/* The verification harness: everything passes on a real device, and it does catch a kernel
 * that computes the wrong value or writes outside its output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"

typedef struct tally {
    int rows, failed, guard_failures;
    char failed_ops[1024];
} tally;

static void count_row(const clseg_verify_row *r, void *user)
{
    tally *t = user;
    t->rows++;
    ck_assert_ptr_nonnull(r->op);
    ck_assert_ptr_nonnull(r->shape);
    ck_assert_ptr_nonnull(r->message);
    if (!r->pass) {
        t->failed++;
        size_t used = strlen(t->failed_ops);
        snprintf(t->failed_ops + used, sizeof t->failed_ops - used, "%s(%s) ", r->op, r->message);
    }
    if (!r->guards_intact && r->status == CLSEG_STATUS_SUCCESS)
        t->guard_failures++;
}

START_TEST(test_all_checks_pass_on_the_device)
{
    clseg_context *dev = test_context(NULL), *ref = test_context("ref");
    tally t = {0};
    int failed = -1;
    ck_assert_int_eq(clseg_verify(dev, ref, NULL, count_row, &t, &failed), CLSEG_STATUS_SUCCESS);
    ck_assert_msg(failed == 0 && t.failed == 0, "failed: %s", t.failed_ops);
    ck_assert_int_ge(t.rows, 17);
    tally only_sum = {0};
    ck_assert_int_eq(clseg_verify(dev, ref, "sum", count_row, &only_sum, &failed), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(only_sum.rows, 5);
    clseg_context_destroy(ref);
    clseg_context_destroy(dev);
}
END_TEST

/* Writes a copy of cl/basic.cl into dir with one text replaced. */
static void write_sabotaged(const char *dir, const char *from, const char *to)
{
    char path[4352];
    snprintf(path, sizeof path, "%s/cl/basic.cl", CLSEG_SOURCE_ROOT);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static char src[1 << 16];
    size_t n = fread(src, 1, sizeof src - 1, f);
    fclose(f);
    src[n] = '\0';
    char *at = strstr(src, from);
    ck_assert_msg(at != NULL, "cl/basic.cl no longer contains '%s': update this test", from);
    snprintf(path, sizeof path, "%s/basic.cl", dir);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite(src, 1, (size_t)(at - src), f);
    fputs(to, f);
    fputs(at + strlen(from), f);
    fclose(f);
}

static tally verify_sabotaged(const char *from, const char *to, const char *filter)
{
    char *dir = test_tmpdir("clseg-sabotage");
    write_sabotaged(dir, from, to);
    clseg_context_options o = clseg_context_options_default();
    o.kernel_dir = dir;
    o.cache_dir = "off";
    clseg_context *dev = NULL, *ref = test_context("ref");
    ck_assert_int_eq(clseg_context_create(&o, &dev, NULL, 0), CLSEG_STATUS_SUCCESS);
    tally t = {0};
    int failed = 0;
    ck_assert_int_eq(clseg_verify(dev, ref, filter, count_row, &t, &failed), CLSEG_STATUS_VERIFY_FAILED);
    ck_assert_int_eq(failed, t.failed);
    clseg_context_destroy(dev);
    clseg_context_destroy(ref);
    char path[4352];
    snprintf(path, sizeof path, "%s/basic.cl", dir);
    unlink(path);
    test_rmdir(dir);
    free(dir);
    return t;
}

START_TEST(test_wrong_values_fail)
{
    tally t = verify_sabotaged("x[x_off + i] = value;", "x[x_off + i] = value + 1e-3f;", "fill");
    ck_assert_int_eq(t.failed, 3); /* every fill case */
    ck_assert_int_eq(t.guard_failures, 0);
}
END_TEST

START_TEST(test_out_of_bounds_write_fails)
{
    tally t = verify_sabotaged("if (i < n)\n        dst[dst_off + i] = src[src_off + i];",
                               "if (i <= n)\n        dst[dst_off + i] = src[src_off + (i < n ? i : 0)];", "copy");
    ck_assert_int_eq(t.failed, 3);
    ck_assert_int_eq(t.guard_failures, 3);
}
END_TEST

int main(void)
{
    if (!test_have_opencl()) {
        puts("no OpenCL device: skipped");
        return TEST_SKIP;
    }
    Suite *s = suite_create("verify");
    TCase *tc = tcase_create("harness");
    tcase_add_test(tc, test_all_checks_pass_on_the_device);
    tcase_add_test(tc, test_wrong_values_fail);
    tcase_add_test(tc, test_out_of_bounds_write_fails);
    suite_add_tcase(s, tc);
    return test_run(s, false);
}
