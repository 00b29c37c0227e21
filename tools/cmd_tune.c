/* clseg tune: searches the kernels' tunables on the user's device and stores the fastest values in
 * the device's tuned file, which every later context on that device reads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "opencl/tuned_file.h"
#include "tune_search.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: clseg tune [--device SEL] [--only PROGRAMS] [--quick] [--dry-run] [-v]\n"
               "       clseg tune --show | --reset [--device SEL]\n\n"
               "Searches the kernels' tunables (work-group sizes, reduction widths, the matrix-product\n"
               "kernels) on the device, one at a time: each candidate builds the kernels afresh and times\n"
               "the ops that use them at U-Net's shapes, and is kept when at least 3%% faster. Then checks\n"
               "the chosen values against the plain-C reference and writes them to the device's tuned\n"
               "file, which every later run on this device and driver reads ($CLSEG_TUNED_DIR, default\n"
               "~/.config/clseg/tuned). $CLSEG_TUNABLES still overrides it.\n\n"
               "  --device SEL   the device to tune (see 'clseg devices')\n"
               "  --only P,...   search only these kernel programs (gemm, conv, norm, activation, pool,\n"
               "                 upsample, basic, loss, optim); the file then holds only their values\n"
               "  --quick        tiny shapes and two candidates per tunable (a smoke test, not a tune)\n"
               "  --dry-run      search and print, but neither check nor write anything\n"
               "  --show         print every tunable's value on the device and where it comes from\n"
               "  --reset        delete the device's tuned file: back to the built-in values\n"
               "  -v             also print the library's messages (-vv: debug)\n");
}

/* The device's context as a user's run gets it (with the tuned file), or NULL after an error. */
static clseg_context *device_context(const cli_common *common, const char *tunables)
{
    clseg_context *ctx = tune_context(common, tunables, NULL);
    if (ctx != NULL && clseg_context_device(ctx)->type == CLSEG_DEVICE_TYPE_REF) {
        cli_error("tune: nothing to tune on the plain-C reference (choose an OpenCL device with --device)");
        clseg_context_destroy(ctx);
        return NULL;
    }
    return ctx;
}

static int show(const cli_common *common)
{
    clseg_context *ctx = device_context(common, NULL);
    if (ctx == NULL)
        return CLI_FAILED;
    const char *path = clseg_context_tuned_file(ctx);
    printf("kernel tunables on %s\n", clseg_context_device(ctx)->name);
    if (path == NULL)
        printf("tuned file: off (CLSEG_TUNED_DIR=off)\n\n");
    else
        printf("tuned file: %s (%s)\n\n", path, access(path, F_OK) == 0 ? "present" : "absent");
    clseg_tunable_info infos[128];
    size_t count = 0;
    int rc = CLI_OK;
    if (clseg_context_tunables(ctx, infos, 128, &count) != CLSEG_STATUS_SUCCESS) {
        cli_error("tune: %s", clseg_context_last_error(ctx));
        rc = CLI_FAILED;
    } else {
        printf("%-12s %-16s %8s  %s\n", "program", "tunable", "value", "from");
        for (size_t i = 0; i < count && i < 128; i++)
            printf("%-12s %-16s %8ld  %s\n", infos[i].program, infos[i].name, infos[i].value, infos[i].origin);
    }
    clseg_context_destroy(ctx);
    return rc;
}

static int reset(const cli_common *common)
{
    clseg_context *ctx = device_context(common, "");
    if (ctx == NULL)
        return CLI_FAILED;
    const char *path = clseg_context_tuned_file(ctx);
    int rc = CLI_OK;
    if (path == NULL) {
        cli_error("tune: tuned files are off (CLSEG_TUNED_DIR=off): nothing to reset");
        rc = CLI_FAILED;
    } else if (remove(path) == 0) {
        printf("removed %s: %s uses the built-in values again\n", path, clseg_context_device(ctx)->name);
    } else if (errno == ENOENT) {
        printf("no tuned file for %s (%s): it uses the built-in values\n", clseg_context_device(ctx)->name, path);
    } else {
        cli_error("tune: cannot remove %s: %s", path, strerror(errno));
        rc = CLI_FAILED;
    }
    clseg_context_destroy(ctx);
    return rc;
}

static void count_failures(const clseg_verify_row *r, void *user)
{
    if (!r->pass)
        printf("  FAIL %s %s: max rel err %.3g > %.0e %s\n", r->op, r->shape, r->max_rel_err, r->tolerance, r->message);
    ++*(int *)user;
}

/* Every kernel checked against the plain-C reference with the chosen values: 1 all pass, 0 some
 * fail, -1 the check itself could not run (printed). */
static int verify_settings(const cli_common *common, const char *text)
{
    printf("\nchecking the chosen values against the plain-C reference...\n");
    fflush(stdout);
    cli_common ref_common = *common;
    ref_common.device = "ref";
    clseg_context *dev = tune_context(common, text, "off");
    clseg_context *ref = dev != NULL ? tune_context(&ref_common, "", "off") : NULL;
    int rows = 0, failed = 0, result = -1;
    if (ref != NULL) {
        clseg_status st = clseg_verify(dev, ref, NULL, count_failures, &rows, &failed);
        if (st == CLSEG_STATUS_SUCCESS || failed > 0) {
            printf("%d passed, %d failed\n", rows - failed, failed);
            result = failed == 0 ? 1 : 0;
        } else {
            cli_error("tune: verify: %s", clseg_context_last_error(dev));
        }
    }
    clseg_context_destroy(ref);
    clseg_context_destroy(dev);
    return result;
}

static int tune(const cli_common *common, bool quick, bool dry_run, const char *only)
{
    clseg_context *ctx = device_context(common, "");
    if (ctx == NULL)
        return CLI_FAILED;
    clseg_device_info device = *clseg_context_device(ctx);
    char path[4200] = "";
    if (clseg_context_tuned_file(ctx) != NULL)
        snprintf(path, sizeof path, "%s", clseg_context_tuned_file(ctx));
    clseg_context_destroy(ctx);
    if (path[0] == '\0' && !dry_run) {
        cli_error("tune: tuned files are off (CLSEG_TUNED_DIR=off): set it to a folder, or use --dry-run");
        return CLI_FAILED;
    }
    printf("tuning %s (%s, driver %s)%s\n", device.name, clseg_device_type_str(device.type), device.driver_version,
           quick ? ", quick" : "");
    if (getenv("CLSEG_TUNABLES") != NULL && getenv("CLSEG_TUNABLES")[0] != '\0')
        printf("(CLSEG_TUNABLES is ignored while tuning; it still overrides the result afterwards)\n");
    printf("median of %d runs after a warm-up; a value is kept when at least 3%% faster\n", quick ? 3 : 7);
    double t0 = cli_seconds();
    clseg_tunable_settings *chosen = malloc(sizeof *chosen);
    if (chosen == NULL || !tune_search(common, quick, only, chosen)) {
        free(chosen);
        return CLI_FAILED;
    }
    char text[8192];
    tune_settings_text(chosen, text, sizeof text);
    printf("\nchosen in %.1f s:\n", cli_seconds() - t0);
    for (size_t i = 0; i < chosen->count; i++)
        printf("  %s.%s=%ld\n", chosen->items[i].program, chosen->items[i].name, chosen->items[i].value);
    int rc = CLI_OK, verified = 0;
    char err[4096];
    if (dry_run) {
        printf("\n--dry-run: nothing checked or written\n");
    } else if ((verified = verify_settings(common, text)) != 1) {
        if (verified == 0)
            cli_error("tune: the chosen values give wrong results on this device: nothing written");
        rc = CLI_FAILED;
    } else if (clseg_tuned_file_write(path, &device, chosen, err, sizeof err) != CLSEG_STATUS_SUCCESS) {
        cli_error("tune: writing the tuned file: %s", err);
        rc = CLI_FAILED;
    } else {
        printf("\nwrote %s\n(clseg tune --reset, or deleting it, goes back to the built-in values)\n", path);
    }
    free(chosen);
    return rc;
}

int cmd_tune(int argc, char **argv)
{
    static const char *const names[] = {"--only", "--quick", "--dry-run", "--show", "--reset"};
    const cli_spec spec = {"tune", names, 1, 4, usage};
    cli_common common = {0};
    bool flag[5] = {false};
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        const char *value = NULL;
        int k = cli_next_arg(&spec, argc, argv, &i, &common, &value);
        if (k == CLI_ARG_HELP)
            return CLI_OK;
        if (k == CLI_ARG_BAD)
            return CLI_USAGE;
        if (k == 0)
            only = value;
        else if (k > 0)
            flag[k] = true;
    }
    bool quick = flag[1], dry_run = flag[2], show_only = flag[3], reset_only = flag[4];
    if (only != NULL && !tune_programs_known(only))
        return CLI_USAGE;
    if (show_only + reset_only + (quick || dry_run || only != NULL) > 1) {
        cli_error("tune: --show and --reset go alone (with --device)");
        return CLI_USAGE;
    }
    if (show_only)
        return show(&common);
    if (reset_only)
        return reset(&common);
    return tune(&common, quick, dry_run, only);
}
