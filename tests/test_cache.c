/* The kernel program cache: in memory, on disk, and what happens when the disk copy is bad. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"

static char *cache_dir;

static void setup(void) { cache_dir = test_tmpdir("clseg-cache-test"); }
static void teardown(void)
{
    test_rmdir(cache_dir);
    free(cache_dir);
}

static clseg_context *open_ctx(const char *cache, const char *kernel_dir)
{
    clseg_context_options o = clseg_context_options_default();
    o.device = getenv("CLSEG_TEST_DEVICE"); /* NULL: the default device */
    o.cache_dir = cache;
    o.kernel_dir = kernel_dir;
    clseg_context *ctx = NULL;
    char err[4096] = "";
    ck_assert_msg(clseg_context_create(&o, &ctx, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s", err);
    return ctx;
}

/* Runs the fill kernel (building its program) and checks its result. */
static clseg_status use_kernel(clseg_context *ctx)
{
    clseg_tensor *t = NULL;
    ck_assert_int_eq(clseg_tensor_create(ctx, (clseg_shape){1, 1, 3, 5}, &t), CLSEG_STATUS_SUCCESS);
    clseg_status st = clseg_fill(ctx, t, 2.5f);
    if (st == CLSEG_STATUS_SUCCESS) {
        float got[15];
        ck_assert_int_eq(clseg_tensor_download(t, got, 15), CLSEG_STATUS_SUCCESS);
        for (int i = 0; i < 15; i++)
            ck_assert_float_eq(got[i], 2.5f);
    }
    clseg_tensor_destroy(t);
    return st;
}

/* The one cache file in dir (the test uses one program), or "" when there is none. */
static void cache_file(const char *dir, char *path, size_t size)
{
    path[0] = '\0';
    int found = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        const char *dot = strrchr(e->d_name, '.');
        if (dot != NULL && strcmp(dot, ".clbin") == 0) {
            snprintf(path, size, "%s/%s", dir, e->d_name);
            found++;
        }
    }
    closedir(d);
    ck_assert_int_le(found, 1);
}

static clseg_cache_stats fresh_run(const char *cache, const char *kernel_dir)
{
    clseg_context *ctx = open_ctx(cache, kernel_dir);
    ck_assert_int_eq(use_kernel(ctx), CLSEG_STATUS_SUCCESS);
    clseg_cache_stats s = clseg_context_cache_stats(ctx);
    clseg_context_destroy(ctx);
    return s;
}

static void populate(char *path, size_t size)
{
    clseg_cache_stats s = fresh_run(cache_dir, NULL);
    ck_assert_uint_eq(s.compiled, 1);
    ck_assert_uint_eq(s.disk_writes, 1);
    cache_file(cache_dir, path, size);
    ck_assert_msg(path[0] != '\0', "no cache file written in %s", cache_dir);
}

static void patch_file(const char *path, long offset, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, offset, offset < 0 ? SEEK_END : SEEK_SET), 0);
    ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

static long file_size(const char *path)
{
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    return (long)sb.st_size;
}

START_TEST(test_miss_then_disk_hit_then_memory_hit)
{
    char path[4352];
    populate(path, sizeof path);
    clseg_context *ctx = open_ctx(cache_dir, NULL);
    ck_assert_str_eq(clseg_context_cache_dir(ctx), cache_dir);
    ck_assert_int_eq(use_kernel(ctx), CLSEG_STATUS_SUCCESS);
    clseg_cache_stats s = clseg_context_cache_stats(ctx);
    ck_assert_uint_eq(s.disk_hits, 1);
    ck_assert_uint_eq(s.compiled, 0);
    ck_assert_uint_eq(s.disk_writes, 0);
    uint32_t hits = s.memory_hits;
    ck_assert_int_eq(use_kernel(ctx), CLSEG_STATUS_SUCCESS);
    s = clseg_context_cache_stats(ctx);
    ck_assert_uint_gt(s.memory_hits, hits);
    ck_assert_uint_eq(s.disk_hits, 1);
    ck_assert_uint_eq(s.compiled, 0);
    clseg_context_destroy(ctx);
}
END_TEST

static void expect_rejected_and_rebuilt(void)
{
    clseg_cache_stats s = fresh_run(cache_dir, NULL);
    ck_assert_uint_eq(s.disk_rejected, 1);
    ck_assert_uint_eq(s.compiled, 1);
    ck_assert_uint_eq(s.disk_writes, 1); /* the bad file was replaced */
    s = fresh_run(cache_dir, NULL);
    ck_assert_uint_eq(s.disk_hits, 1);
    ck_assert_uint_eq(s.disk_rejected, 0);
}

START_TEST(test_corrupted_binary_is_rebuilt)
{
    char path[4352];
    populate(path, sizeof path);
    const unsigned char junk[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    patch_file(path, -32, junk, sizeof junk); /* inside the device binary: the checksum catches it */
    expect_rejected_and_rebuilt();
}
END_TEST

START_TEST(test_truncated_file_is_rebuilt)
{
    char path[4352];
    populate(path, sizeof path);
    ck_assert_int_eq(truncate(path, file_size(path) / 2), 0);
    expect_rejected_and_rebuilt();
    ck_assert_int_eq(truncate(path, 5), 0);
    expect_rejected_and_rebuilt();
    ck_assert_int_eq(truncate(path, 0), 0);
    expect_rejected_and_rebuilt();
}
END_TEST

START_TEST(test_foreign_or_old_format_is_rebuilt)
{
    char path[4352];
    populate(path, sizeof path);
    patch_file(path, 0, "NOTCLSEG", 8);
    expect_rejected_and_rebuilt();
    const unsigned char old_version[4] = {0xff, 0, 0, 0};
    patch_file(path, 8, old_version, 4);
    expect_rejected_and_rebuilt();
    patch_file(path, 40, "x", 1); /* inside the stored key */
    expect_rejected_and_rebuilt();
}
END_TEST

START_TEST(test_changed_source_is_a_miss)
{
    char path[4352], src[4352], dst[4352];
    populate(path, sizeof path);
    char *kdir = test_tmpdir("clseg-kernels");
    snprintf(src, sizeof src, "%s/cl/basic.cl", CLSEG_SOURCE_ROOT);
    snprintf(dst, sizeof dst, "%s/basic.cl", kdir);
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    ck_assert(in != NULL && out != NULL);
    fputs("/* an edited source */\n", out);
    for (int c; (c = fgetc(in)) != EOF;)
        fputc(c, out);
    fclose(in);
    fclose(out);
    clseg_cache_stats s = fresh_run(cache_dir, kdir);
    ck_assert_uint_eq(s.disk_hits, 0);
    ck_assert_uint_eq(s.compiled, 1); /* never the stale binary of the old source */
    ck_assert_uint_eq(s.disk_writes, 1);
    s = fresh_run(cache_dir, kdir);
    ck_assert_uint_eq(s.disk_hits, 1);
    test_rmdir(kdir);
    free(kdir);
}
END_TEST

START_TEST(test_cache_off_and_unwritable)
{
    clseg_cache_stats s = fresh_run("off", NULL);
    ck_assert_uint_eq(s.compiled, 1);
    ck_assert_uint_eq(s.disk_writes + s.disk_hits + s.disk_rejected, 0);
    clseg_context *ctx = open_ctx("off", NULL);
    ck_assert_ptr_null(clseg_context_cache_dir(ctx));
    clseg_context_destroy(ctx);
    setenv("CLSEG_CACHE_DIR", "off", 1);
    ctx = open_ctx(NULL, NULL);
    ck_assert_ptr_null(clseg_context_cache_dir(ctx));
    clseg_context_destroy(ctx);
    /* a cache folder that cannot be created costs the cache, never the computation */
    s = fresh_run("/proc/clseg-cannot-exist/cache", NULL);
    ck_assert_uint_eq(s.compiled, 1);
    ck_assert_uint_eq(s.disk_writes, 0);
}
END_TEST

START_TEST(test_build_failure_carries_the_log)
{
    char *kdir = test_tmpdir("clseg-broken");
    char path[4352];
    snprintf(path, sizeof path, "%s/basic.cl", kdir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("__kernel void fill(__global float *x, uint off, uint n, float v)\n{ x[off] = undeclared_thing; }\n", f);
    fclose(f);
    clseg_context *ctx = open_ctx(cache_dir, kdir);
    ck_assert_int_eq(use_kernel(ctx), CLSEG_STATUS_BUILD_PROGRAM_FAILURE);
    const char *msg = clseg_context_last_error(ctx);
    ck_assert_msg(strstr(msg, "'basic'") != NULL, "program not named: %s", msg);
    ck_assert_msg(strstr(msg, "build log") != NULL && strstr(msg, "undeclared_thing") != NULL, "no log: %s", msg);
    clseg_context_destroy(ctx);
    unlink(path);
    ctx = open_ctx(cache_dir, kdir);
    ck_assert_int_eq(use_kernel(ctx), CLSEG_STATUS_KERNEL_SOURCE);
    ck_assert_msg(strstr(clseg_context_last_error(ctx), path) != NULL, "file not named: %s",
                  clseg_context_last_error(ctx));
    clseg_context_destroy(ctx);
    test_rmdir(kdir);
    free(kdir);
}
END_TEST

int main(void)
{
    if (!test_have_opencl()) {
        puts("no OpenCL device: skipped");
        return TEST_SKIP;
    }
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("program cache");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_miss_then_disk_hit_then_memory_hit);
    tcase_add_test(tc, test_corrupted_binary_is_rebuilt);
    tcase_add_test(tc, test_truncated_file_is_rebuilt);
    tcase_add_test(tc, test_foreign_or_old_format_is_rebuilt);
    tcase_add_test(tc, test_changed_source_is_a_miss);
    tcase_add_test(tc, test_cache_off_and_unwritable);
    tcase_add_test(tc, test_build_failure_carries_the_log);
    suite_add_tcase(s, tc);
    return test_run(s, false);
}
