#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: clseg data --data DIR [--strict] [--allow-missing-masks]\n\n"
               "Loads a kaggle_3m-style dataset (one folder per patient of <PATIENT>_<N>.tif slices\n"
               "and <PATIENT>_<N>_mask.tif masks) and prints its patients, slices and slices with\n"
               "tumour, and every file it skipped with the reason.\n\n"
               "  --data DIR             the dataset's root folder, one patient's folder, or one\n"
               "                         image file (its mask <stem>_mask.tif beside it)\n"
               "  --strict               fail on the first bad file or folder instead of skipping it\n"
               "  --allow-missing-masks  keep images without a mask (scans to predict on)\n");
}

static void print_report(const clseg_dataset *ds)
{
    size_t skipped = clseg_dataset_skipped(ds);
    if (skipped == 0) {
        printf("skipped: none\n");
        return;
    }
    printf("skipped %zu:", skipped);
    const char *sep = " ";
    for (int r = 0; r < CLSEG_SKIP_REASON_COUNT; r++) {
        size_t n = clseg_dataset_skipped_by_reason(ds, (clseg_skip_reason)r);
        if (n > 0) {
            printf("%s%zu %s", sep, n, clseg_skip_reason_str((clseg_skip_reason)r));
            sep = ", ";
        }
    }
    printf("\n");
    clseg_skip_reason reason;
    for (size_t i = 0; i < skipped; i++) {
        const char *msg = clseg_dataset_skip_message(ds, i, &reason);
        printf("  %s [%s]\n", msg, clseg_skip_reason_str(reason));
    }
}

int cmd_data(int argc, char **argv)
{
    clseg_dataset_options opts = {.strict = false};
    const char *root = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "--strict") == 0) {
            opts.strict = true;
        } else if (strcmp(argv[i], "--allow-missing-masks") == 0) {
            opts.allow_missing_masks = true;
        } else if (strncmp(argv[i], "--data=", 7) == 0) {
            root = argv[i] + 7;
        } else if (strcmp(argv[i], "--data") == 0) {
            if (i + 1 >= argc) {
                cli_error("data: --data needs a folder");
                return CLI_USAGE;
            }
            root = argv[++i];
        } else {
            cli_error("data: unknown argument '%s'", argv[i]);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (root == NULL || root[0] == '\0') {
        cli_error("data: --data DIR is required");
        usage(stderr);
        return CLI_USAGE;
    }
    clseg_dataset *ds = NULL;
    char err[4096];
    if (clseg_dataset_load(root, &opts, &ds, err, sizeof err) != CLSEG_STATUS_SUCCESS) {
        cli_error("data: %s", err);
        return CLI_FAILED;
    }
    printf("%s: %zu patients, %zu slices, %zu with tumour, %d channel%s\n", root, clseg_dataset_patient_count(ds),
           clseg_dataset_slice_count(ds), clseg_dataset_tumour_slice_count(ds), clseg_dataset_channels(ds),
           clseg_dataset_channels(ds) == 1 ? "" : "s");
    size_t unmasked = 0;
    for (size_t i = 0; i < clseg_dataset_slice_count(ds); i++) {
        clseg_slice_info si;
        clseg_dataset_slice(ds, i, &si);
        unmasked += !si.has_mask;
    }
    if (unmasked > 0)
        printf("%zu slice%s without a mask\n", unmasked, unmasked == 1 ? "" : "s");
    bool csv = false; /* flag the patients data.csv leaves out, when there is one */
    for (size_t p = 0; p < clseg_dataset_patient_count(ds); p++) {
        clseg_patient_info pi;
        clseg_dataset_patient(ds, p, &pi);
        csv = csv || pi.csv_row != NULL;
    }
    printf("\n%-32s %7s %7s  %s\n", "patient", "slices", "tumour", "size");
    for (size_t p = 0; p < clseg_dataset_patient_count(ds); p++) {
        clseg_patient_info pi;
        clseg_slice_info si;
        clseg_dataset_patient(ds, p, &pi);
        clseg_dataset_slice(ds, pi.first_slice, &si);
        printf("%-32s %7zu %7zu  %dx%d%s\n", pi.name, pi.slices, pi.tumour_slices, si.width, si.height,
               csv && pi.csv_row == NULL ? "  (not in data.csv)" : "");
    }
    printf("\n");
    print_report(ds);
    clseg_dataset_destroy(ds);
    return CLI_OK;
}
