/* clseg eval: a checkpoint scored on a dataset, per patient volume and per slice. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_model.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: clseg eval --checkpoint FILE --data DIR [--split all|train|val] [--device SEL]\n"
               "                  [--batch B] [--threshold T] [--json]\n\n"
               "Runs a trained model over a dataset's slices, prepared as its training prepared them\n"
               "(size, channels and scaling come from the checkpoint), and prints per patient the\n"
               "slices, the slices with tumour, the Dice and IoU of the whole volume and the mean Dice\n"
               "of its slices, with the mean and median over patients; then the slice-level Dice and\n"
               "IoU. An auto-encoder's checkpoint gets its reconstruction error (MSE) instead.\n\n"
               "  --checkpoint FILE  a .safetensors checkpoint written by clseg\n"
               "  --data DIR         the dataset (kaggle_3m layout), a patient's folder or one image\n"
               "  --split S          all (default), or the checkpoint's train or val patients\n"
               "  --device SEL       P:D, cpu, gpu, accel, ref or part of a device name\n"
               "  --batch B          slices per forward pass (default: the training batch, else 8)\n"
               "  --threshold T      tumour where the probability > T (default 0.5)\n"
               "  --json             print the report as JSON instead of tables\n");
}

typedef struct eval_args {
    cli_common common;
    const char *checkpoint, *data, *split;
    cli_infer_args infer;
    bool json;
} eval_args;

static int parse(int argc, char **argv, eval_args *a)
{
    a->split = "all";
    a->infer.threshold = NAN;
    static const char *const names[] = {"--checkpoint", "--data", "--split", "--batch", "--threshold", "--json"};
    static const cli_spec spec = {"eval", names, 5, 1, usage};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = NULL;
        int which = cli_next_arg(&spec, argc, argv, &i, &a->common, &value);
        if (which == CLI_ARG_COMMON)
            continue;
        if (which < 0)
            return which == CLI_ARG_HELP ? -1 : CLI_USAGE;
        if (which == 5) {
            a->json = true;
            continue;
        }
        if (which == 0)
            a->checkpoint = value;
        else if (which == 1)
            a->data = value;
        else if (which == 2)
            a->split = value;
        else if (!cli_parse_infer_option("eval", arg, value, &a->infer))
            return CLI_USAGE;
    }
    const char *missing = a->checkpoint == NULL ? "--checkpoint FILE" : a->data == NULL ? "--data DIR" : NULL;
    if (missing != NULL) {
        cli_error("eval: %s is required", missing);
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(a->split, "all") != 0 && strcmp(a->split, "train") != 0 && strcmp(a->split, "val") != 0) {
        cli_error("eval: unknown --split '%s' (all, train or val)", a->split);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int by_index(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* The slices of the patients the checkpoint's split names (*slices malloc'd, in dataset order). */
static int split_slices(const eval_args *a, const clseg_net *net, const clseg_dataset *ds, size_t **slices,
                        size_t *count)
{
    char key[64];
    snprintf(key, sizeof key, "clseg.train.%s_patients", a->split);
    const char *list = clseg_net_meta(net, key);
    if (list == NULL) {
        cli_error("eval: %s holds no split: its metadata has no '%s' (use --split all)", a->checkpoint, key);
        return CLI_FAILED;
    }
    size_t n = clseg_dataset_patient_count(ds), chosen = 0;
    size_t *patients = malloc((n ? n : 1) * sizeof *patients);
    *slices = malloc((clseg_dataset_slice_count(ds) ? clseg_dataset_slice_count(ds) : 1) * sizeof **slices);
    int rc = patients != NULL && *slices != NULL ? CLI_OK : CLI_FAILED;
    for (const char *p = list; rc == CLI_OK && *p;) {
        size_t len = strcspn(p, ",");
        char name[512];
        if (len > 0 && len < sizeof name) {
            memcpy(name, p, len);
            name[len] = '\0';
            size_t index = clseg_dataset_find_patient(ds, name);
            if (index == (size_t)-1) {
                cli_error("eval: patient '%s' of %s's %s split is not in %s", name, a->checkpoint, a->split, a->data);
                rc = CLI_FAILED;
            } else if (chosen < n) {
                patients[chosen++] = index;
            }
        }
        p += len + (p[len] == ',');
    }
    if (rc == CLI_OK && chosen == 0) {
        cli_error("eval: %s's %s split ('%s') names no patient", a->checkpoint, a->split, key);
        rc = CLI_FAILED;
    }
    *count = 0;
    if (rc == CLI_OK) {
        qsort(patients, chosen, sizeof *patients, by_index);
        for (size_t k = 0; k < chosen; k++) {
            clseg_patient_info info;
            if ((k > 0 && patients[k] == patients[k - 1]) ||
                clseg_dataset_patient(ds, patients[k], &info) != CLSEG_STATUS_SUCCESS)
                continue;
            for (size_t s = 0; s < info.slices; s++)
                (*slices)[(*count)++] = info.first_slice + s;
        }
    }
    free(patients);
    return rc;
}

/* The mean and median of the patients' mean slice Dice (the report holds the volumes'). */
static void patient_slice_dice(const clseg_eval_report *r, double *mean, double *median)
{
    size_t n = r->patient_count;
    double *v = malloc((n ? n : 1) * sizeof *v);
    *mean = *median = NAN;
    if (v != NULL && n > 0) {
        double sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += v[i] = r->patients[i].slice_dice_mean;
        qsort(v, n, sizeof *v, cli_compare_doubles);
        *mean = sum / (double)n;
        *median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    }
    free(v);
}

static void print_tables(const eval_args *a, const cli_model *m, const clseg_eval_report *r)
{
    const char *device = clseg_context_device(m->ctx)->name;
    printf("%s (%s, base %lld) on %s: %zu patient%s, %zu slices (split %s), %dx%d, %s scaling\n\n", a->checkpoint,
           m->config.name, (long long)m->config.base, a->data, r->patient_count, r->patient_count == 1 ? "" : "s",
           r->slice_count, a->split, m->opts.size, m->opts.size, clseg_normalize_str(m->opts.normalize));
    if (r->autoencoder) {
        printf("%-32s %7s %7s %12s\n", "patient", "slices", "tumour", "MSE");
        for (size_t i = 0; i < r->patient_count; i++) {
            const clseg_patient_score *p = &r->patients[i];
            printf("%-32s %7zu %7zu %12.6f\n", p->name, p->slices, p->tumour_slices, p->mse);
        }
        printf("\nslice MSE   mean %.6f  median %.6f  (%zu slices)\n", r->mse.mean, r->mse.median, r->slice_count);
    } else {
        double mean, median;
        patient_slice_dice(r, &mean, &median);
        printf("%-32s %7s %7s %12s %11s %16s\n", "patient", "slices", "tumour", "volume Dice", "volume IoU",
               "mean slice Dice");
        for (size_t i = 0; i < r->patient_count; i++) {
            const clseg_patient_score *p = &r->patients[i];
            printf("%-32s %7zu %7zu %12.4f %11.4f %16.4f\n", p->name, p->slices, p->tumour_slices, p->dice, p->iou,
                   p->slice_dice_mean);
        }
        printf("%-32s %7s %7s %12.4f %11.4f %16.4f\n", "mean", "", "", r->volume_dice.mean, r->volume_iou.mean, mean);
        printf("%-32s %7s %7s %12.4f %11.4f %16.4f\n", "median", "", "", r->volume_dice.median, r->volume_iou.median,
               median);
        printf("\nslice Dice  mean %.4f  median %.4f  (%zu slices)\n", r->slice_dice.mean, r->slice_dice.median,
               r->slice_count);
        printf("slice IoU   mean %.4f  median %.4f\n", r->slice_iou.mean, r->slice_iou.median);
    }
    printf("device: %s; %.2f s (%.1f slices/s)\n", device, r->seconds,
           r->seconds > 0 ? (double)r->slice_count / r->seconds : 0.0);
}

/* A JSON string literal. */
static void print_json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

/* The report's object with the run's context as its first members. */
static int print_json(const eval_args *a, const cli_model *m, const clseg_eval_report *r)
{
    char *json = clseg_eval_report_json(r);
    if (json == NULL || strncmp(json, "{\n", 2) != 0) {
        free(json);
        cli_error("eval: out of memory writing the JSON report");
        return CLI_FAILED;
    }
    printf("{\n  \"checkpoint\": ");
    print_json_string(a->checkpoint);
    printf(",\n  \"data\": ");
    print_json_string(a->data);
    printf(",\n  \"split\": ");
    print_json_string(a->split);
    printf(",\n  \"device\": ");
    print_json_string(clseg_context_device(m->ctx)->name);
    printf(",\n  \"model\": ");
    print_json_string(m->config.name);
    printf(",\n%s", json + 2);
    free(json);
    return CLI_OK;
}

int cmd_eval(int argc, char **argv)
{
    eval_args a;
    memset(&a, 0, sizeof a);
    int rc = parse(argc, argv, &a);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    cli_model m;
    if ((rc = cli_model_open("eval", a.checkpoint, &a.infer, &m)) != CLI_OK)
        return rc;
    clseg_dataset *ds = NULL;
    size_t *slices = NULL, count = 0;
    clseg_eval_report *report = NULL;
    char err[4096];
    if (clseg_dataset_load(a.data, NULL, &ds, err, sizeof err) != CLSEG_STATUS_SUCCESS) {
        cli_error("eval: %s", err);
        rc = CLI_FAILED;
    }
    if (rc == CLI_OK && strcmp(a.split, "all") != 0)
        rc = split_slices(&a, m.net, ds, &slices, &count);
    if (rc == CLI_OK)
        rc = cli_model_load("eval", &a.common, a.checkpoint, &m);
    if (rc == CLI_OK &&
        clseg_evaluate(m.net, m.ctx, ds, slices, count, &m.opts, &report, err, sizeof err) != CLSEG_STATUS_SUCCESS) {
        cli_error("eval: %s", err);
        rc = CLI_FAILED;
    }
    if (rc == CLI_OK && a.json)
        rc = print_json(&a, &m, report);
    else if (rc == CLI_OK)
        print_tables(&a, &m, report);
    clseg_eval_report_destroy(report);
    free(slices);
    clseg_dataset_destroy(ds);
    cli_model_close(&m);
    return rc;
}
