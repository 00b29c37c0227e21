/* Preparing a run: a new one from options, or a stopped one from its folder's last checkpoint
 * (options, split, weights, optimiser moments, step and history as they were). */
#define _XOPEN_SOURCE 700 /* realpath */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clseg/checkpoint.h"
#include "io/safetensors.h"
#include "models/models.h"
#include "train/train_internal.h"
#include "util/files.h"

void trainer_say(const trainer *t, const char *fmt, ...)
{
    if (t->cb == NULL || t->cb->message == NULL)
        return;
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    t->cb->message(t->cb->user, text);
}

static clseg_status set_paths(trainer *t, const char *run_dir)
{
    t->run_dir = train_path(run_dir, ".");
    t->last_path = train_path(run_dir, TRAIN_LAST);
    t->best_path = train_path(run_dir, TRAIN_BEST);
    t->csv_path = train_path(run_dir, TRAIN_METRICS);
    t->png_path = train_path(run_dir, TRAIN_CURVES);
    if (!t->run_dir || !t->last_path || !t->best_path || !t->csv_path || !t->png_path)
        return trainer_fail(t, CLSEG_STATUS_OUT_OF_HOST_MEMORY, "out of host memory");
    t->run_dir[strlen(run_dir)] = '\0'; /* drop the "/." */
    return CLSEG_STATUS_SUCCESS;
}

static clseg_status load_data(trainer *t)
{
    char msg[1024];
    clseg_status st = clseg_dataset_load(t->o.data, NULL, &t->ds, msg, sizeof msg);
    if (st != CLSEG_STATUS_SUCCESS)
        return trainer_fail(t, st, "cannot use the dataset %s: %s", t->o.data, msg);
    int have = clseg_dataset_channels(t->ds);
    for (int i = 0; i < t->o.channel_count; i++)
        if (t->o.channels[i] >= have)
            return trainer_fail(t, CLSEG_STATUS_INVALID_ARGUMENT, "channel %d was chosen, but the slices in %s have %d",
                                t->o.channels[i], t->o.data, have);
    int fed = t->o.channel_count > 0 ? t->o.channel_count : have;
    if (fed != t->o.model.in_channels)
        return trainer_fail(t, CLSEG_STATUS_INVALID_ARGUMENT,
                            "the model takes %lld input channels, but %d are fed from %s (choose the channels)",
                            (long long)t->o.model.in_channels, fed, t->o.data);
    t->shape = (clseg_shape){t->o.batch, fed, t->o.size, t->o.size};
    if (t->o.channel_count == 0) { /* "all" made explicit, so inference feeds the same ones */
        t->o.channel_count = fed;
        for (int i = 0; i < fed; i++)
            t->o.channels[i] = i;
    }
    trainer_say(t, "dataset %s: %zu patients, %zu slices (%zu with tumour)%s", t->o.data,
                clseg_dataset_patient_count(t->ds), clseg_dataset_slice_count(t->ds),
                clseg_dataset_tumour_slice_count(t->ds), clseg_dataset_skipped(t->ds) ? "; some files skipped" : "");
    return CLSEG_STATUS_SUCCESS;
}

/* The subset's patient names, comma-separated, malloc'd. */
static char *patient_list(const trainer *t, clseg_subset subset)
{
    const size_t *p = NULL;
    size_t n = clseg_split_patients(t->split, subset, &p), len = 1;
    clseg_patient_info info;
    for (size_t i = 0; i < n; i++)
        if (clseg_dataset_patient(t->ds, p[i], &info) == CLSEG_STATUS_SUCCESS)
            len += strlen(info.name) + 1;
    char *s = malloc(len);
    if (s == NULL)
        return NULL;
    s[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (clseg_dataset_patient(t->ds, p[i], &info) == CLSEG_STATUS_SUCCESS)
            strcat(strcat(s, i ? "," : ""), info.name);
    return s;
}

/* Records the split in the net's metadata (for resuming and for clseg eval --split) and in
 * split.txt (for people). */
static clseg_status use_split(trainer *t)
{
    t->train_count = clseg_split_slices(t->split, CLSEG_SUBSET_TRAIN, &t->train_slices);
    t->val_count = clseg_split_slices(t->split, CLSEG_SUBSET_VAL, &t->val_slices);
    if (t->train_count < (size_t)t->o.batch)
        return trainer_fail(t, CLSEG_STATUS_INVALID_ARGUMENT,
                            "the training split of %s has %zu slices, fewer than one batch of %d (lower the batch size "
                            "or the validation fraction)",
                            t->o.data, t->train_count, t->o.batch);
    char *train = patient_list(t, CLSEG_SUBSET_TRAIN), *val = patient_list(t, CLSEG_SUBSET_VAL);
    clseg_status st = train && val ? CLSEG_STATUS_SUCCESS : CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_net_set_meta(t->net, TRAIN_KEY_TRAIN_PATIENTS, train);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_net_set_meta(t->net, TRAIN_KEY_VAL_PATIENTS, val);
    char *path = train_path(t->run_dir, TRAIN_SPLIT);
    if (st == CLSEG_STATUS_SUCCESS && path != NULL) {
        size_t len = strlen(train) + strlen(val) + 64;
        char *text = malloc(len);
        if (text != NULL) {
            snprintf(text, len, "train: %s\nvalidation: %s\n", train, val);
            const void *parts[] = {text};
            size_t sizes[] = {strlen(text)};
            st = clseg_write_file_atomic(path, parts, sizes, 1, t->err, t->err_size);
            free(text);
        }
    }
    trainer_say(t, "split: %zu training slices, %zu validation slices (patients %s)", t->train_count, t->val_count,
                val && val[0] ? val : "none");
    free(path);
    free(train);
    free(val);
    return st == CLSEG_STATUS_OUT_OF_HOST_MEMORY ? trainer_fail(t, st, "out of host memory") : st;
}

static clseg_status build_and_plan(trainer *t)
{
    char msg[512];
    clseg_status st = clseg_model_check_input(&t->o.model, t->o.size, t->o.size, msg, sizeof msg);
    if (st != CLSEG_STATUS_SUCCESS)
        return trainer_fail(t, st, "%s (choose another --size)", msg);
    st = clseg_model_build(&t->o.model, &t->net, msg, sizeof msg);
    if (st != CLSEG_STATUS_SUCCESS)
        return trainer_fail(t, st, "cannot build the model: %s", msg);
    st = train_options_store(t->net, &t->o);
    if (st != CLSEG_STATUS_SUCCESS)
        return trainer_fail(t, st, "cannot record the options: %s", clseg_status_str(st));
    return CLSEG_STATUS_SUCCESS;
}

static clseg_status plan(trainer *t)
{
    clseg_status st = clseg_net_plan(t->net, t->ctx, t->shape, CLSEG_NET_TRAIN, t->o.seed);
    if (st != CLSEG_STATUS_SUCCESS)
        return trainer_fail(t, st, "cannot plan the %s for training at %lldx%lldx%lldx%lld on this device: %s",
                            t->o.model.name, (long long)t->shape.n, (long long)t->shape.c, (long long)t->shape.h,
                            (long long)t->shape.w, clseg_context_last_error(t->ctx));
    return CLSEG_STATUS_SUCCESS;
}

static bool file_exists(const char *path)
{
    struct stat s;
    return stat(path, &s) == 0;
}

clseg_status trainer_setup_new(trainer *t, const clseg_train_options *opts)
{
    clseg_status st = train_options_check(opts, t->err, t->err_size);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    t->o = *opts;
    /* stored absolute, so that the run resumes from any working folder */
    t->data_storage = realpath(opts->data, NULL);
    if (t->data_storage != NULL)
        t->o.data = t->data_storage;
    t->autoencoder = strcmp(t->o.model.name, "autoencoder") == 0;
    if (t->autoencoder)
        t->o.loss = CLSEG_LOSS_MSE;
    if ((st = set_paths(t, opts->run_dir)) != CLSEG_STATUS_SUCCESS)
        return st;
    if (file_exists(t->last_path))
        return trainer_fail(t, CLSEG_STATUS_INVALID_ARGUMENT,
                            "%s already holds a run (%s): resume it (--resume %s) or choose another folder", t->run_dir,
                            TRAIN_LAST, t->run_dir);
    if ((st = clseg_mkdir_p(t->run_dir, t->err, t->err_size)) != CLSEG_STATUS_SUCCESS)
        return st;
    if ((st = load_data(t)) != CLSEG_STATUS_SUCCESS)
        return st;
    char msg[512];
    st = clseg_split_random(t->ds, t->o.seed, t->o.val_fraction, 0.0, &t->split, msg, sizeof msg);
    if (st != CLSEG_STATUS_SUCCESS)
        return trainer_fail(t, st, "cannot split %s: %s", t->o.data, msg);
    if ((st = build_and_plan(t)) != CLSEG_STATUS_SUCCESS || (st = use_split(t)) != CLSEG_STATUS_SUCCESS)
        return st;
    t->state = (clseg_train_state){0, 0, {t->o.seed, 0, 0, 0}, -INFINITY};
    return plan(t);
}

/* A copy of a comma-separated list cut in place into names (*names and **names malloc'd);
 * false when out of memory. An empty list has no names. */
static bool split_names(const char *list, char **copy, char ***names, size_t *count)
{
    size_t n = list[0] != '\0';
    for (const char *p = list; *p != '\0'; p++)
        n += *p == ',';
    *copy = malloc(strlen(list) + 1);
    *names = malloc((n ? n : 1) * sizeof **names);
    if (*copy == NULL || *names == NULL)
        return false;
    strcpy(*copy, list);
    *count = 0;
    for (char *p = *copy; n > 0; p++) {
        (*names)[(*count)++] = p;
        p = strchr(p, ',');
        if (p == NULL)
            break;
        *p = '\0';
    }
    return true;
}

/* The run's split and the position inside an interrupted epoch, from last.safetensors. */
static clseg_status restore_split_and_position(trainer *t)
{
    clseg_st_file *f = NULL;
    clseg_status st = clseg_safetensors_open(t->last_path, 1, &f, t->err, t->err_size);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    const char *lists[2] = {clseg_safetensors_meta(f, TRAIN_KEY_TRAIN_PATIENTS),
                            clseg_safetensors_meta(f, TRAIN_KEY_VAL_PATIENTS)};
    const char *batch = clseg_safetensors_meta(f, TRAIN_KEY_BATCH_IN_EPOCH);
    const char *sum = clseg_safetensors_meta(f, TRAIN_KEY_EPOCH_LOSS_SUM);
    t->batch_in_epoch = batch != NULL ? (size_t)strtoull(batch, NULL, 10) : 0;
    t->epoch_loss_sum = sum != NULL ? strtod(sum, NULL) : 0.0;
    char *copies[2] = {NULL, NULL}, **names[2] = {NULL, NULL};
    size_t counts[2] = {0, 0};
    for (int k = 0; k < 2 && st == CLSEG_STATUS_SUCCESS; k++)
        if (lists[k] == NULL)
            st = trainer_fail(t, CLSEG_STATUS_BAD_FORMAT, "%s: no '%s' in its metadata", t->last_path,
                              k ? TRAIN_KEY_VAL_PATIENTS : TRAIN_KEY_TRAIN_PATIENTS);
        else if (!split_names(lists[k], &copies[k], &names[k], &counts[k]))
            st = trainer_fail(t, CLSEG_STATUS_OUT_OF_HOST_MEMORY, "out of host memory");
    char msg[512];
    if (st == CLSEG_STATUS_SUCCESS) {
        st = clseg_split_from_lists(t->ds, (const char *const *)names[0], counts[0], (const char *const *)names[1],
                                    counts[1], NULL, 0, &t->split, msg, sizeof msg);
        if (st != CLSEG_STATUS_SUCCESS)
            trainer_fail(t, st, "the run's split does not fit %s: %s", t->o.data, msg);
    }
    for (int k = 0; k < 2; k++) {
        free(copies[k]);
        free(names[k]);
    }
    clseg_safetensors_close(f);
    return st;
}

clseg_status trainer_setup_resume(trainer *t, const char *run_dir, int epochs, const char *data)
{
    if (run_dir == NULL || run_dir[0] == '\0')
        return trainer_fail(t, CLSEG_STATUS_INVALID_ARGUMENT, "no run folder given to resume");
    clseg_status st = set_paths(t, run_dir);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    if (!file_exists(t->last_path))
        return trainer_fail(t, CLSEG_STATUS_INVALID_ARGUMENT, "%s holds no run to resume (no %s)", t->run_dir,
                            TRAIN_LAST);
    if ((st = clseg_train_options_load(t->last_path, &t->o, &t->data_storage, t->err, t->err_size)) !=
        CLSEG_STATUS_SUCCESS)
        return st;
    t->o.run_dir = t->run_dir;
    if (data != NULL) {
        char *moved = realpath(data, NULL);
        if (moved != NULL) {
            free(t->data_storage);
            t->data_storage = moved;
        }
        t->o.data = moved != NULL ? moved : data;
    }
    if (epochs > 0)
        t->o.epochs = epochs;
    t->autoencoder = strcmp(t->o.model.name, "autoencoder") == 0;
    if ((st = train_options_check(&t->o, t->err, t->err_size)) != CLSEG_STATUS_SUCCESS ||
        (st = load_data(t)) != CLSEG_STATUS_SUCCESS || (st = restore_split_and_position(t)) != CLSEG_STATUS_SUCCESS ||
        (st = build_and_plan(t)) != CLSEG_STATUS_SUCCESS || (st = use_split(t)) != CLSEG_STATUS_SUCCESS ||
        (st = plan(t)) != CLSEG_STATUS_SUCCESS)
        return st;
    if ((st = clseg_checkpoint_load(t->net, t->last_path, &t->state, t->err, t->err_size)) != CLSEG_STATUS_SUCCESS)
        return st;
    if ((st = train_history_read(&t->history, t->csv_path, t->state.epoch, t->err, t->err_size)) !=
        CLSEG_STATUS_SUCCESS)
        return st;
    trainer_say(t, "resuming %s at epoch %lld, batch %zu (step %lld)", t->run_dir, (long long)t->state.epoch + 1,
                t->batch_in_epoch, (long long)t->state.step);
    return CLSEG_STATUS_SUCCESS;
}

void trainer_release(trainer *t)
{
    clseg_net_destroy(t->net);
    clseg_split_destroy(t->split);
    clseg_dataset_destroy(t->ds);
    train_history_free(&t->history);
    free(t->data_storage);
    free(t->run_dir);
    free(t->last_path);
    free(t->best_path);
    free(t->csv_path);
    free(t->png_path);
}
