/* What the trainer's files share: the run's stored options, the per-epoch history behind
 * metrics.csv and curves.png, and the run folder's file names. */
#ifndef CLSEG_TRAIN_INTERNAL_H
#define CLSEG_TRAIN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clseg/checkpoint.h"
#include "clseg/train.h"
#include "core/internal.h"

#define TRAIN_LAST "last.safetensors"
#define TRAIN_BEST "best.safetensors"
#define TRAIN_METRICS "metrics.csv"
#define TRAIN_CURVES "curves.png"
#define TRAIN_SPLIT "split.txt"

/* Metadata keys a trainer writes beside the model's. */
#define TRAIN_KEY_TRAIN_PATIENTS "clseg.train.train_patients"
#define TRAIN_KEY_VAL_PATIENTS "clseg.train.val_patients"
#define TRAIN_KEY_BATCH_IN_EPOCH "clseg.train.batch_in_epoch"
#define TRAIN_KEY_EPOCH_LOSS_SUM "clseg.train.epoch_loss_sum"

/* Writes every option into the net's metadata ("clseg.train.<name>"). */
clseg_status train_options_store(clseg_net *net, const clseg_train_options *opts);

/* Checks the options a user gave; err names the bad one. */
clseg_status train_options_check(const clseg_train_options *opts, char *err, size_t err_size);

/* One row of metrics.csv. */
typedef struct train_epoch_row {
    int64_t epoch, step;
    double train_loss;
    double dice_slice_mean, dice_slice_median, dice_volume_mean, dice_volume_median;
    double iou_slice_mean, iou_slice_median, iou_volume_mean, iou_volume_median;
    double mse;
    double images_per_s, train_s, val_s;
    int best;
} train_epoch_row;

typedef struct train_history {
    train_epoch_row *rows;
    size_t count, cap;
} train_history;

clseg_status train_history_add(train_history *h, const train_epoch_row *row);
void train_history_free(train_history *h);
/* Reads dir/metrics.csv, keeping the rows of epochs <= up_to_epoch (a checkpoint older than the
 * file: the rows after it are redone). A missing file is an empty history. */
clseg_status train_history_read(train_history *h, const char *path, int64_t up_to_epoch, char *err, size_t err_size);
/* Rewrites metrics.csv and curves.png from the history (both atomically). */
clseg_status train_history_write(const train_history *h, const char *csv_path, const char *png_path, bool autoencoder,
                                 char *err, size_t err_size);

/* "dir/name" in a malloc'd string, or NULL. */
char *train_path(const char *dir, const char *name);

/* A run in progress: what set-up (new or resumed) prepares and the loop uses. */
typedef struct trainer {
    clseg_context *ctx;
    clseg_train_options o;
    char *data_storage; /* o.data when loaded from a checkpoint */
    char *run_dir, *last_path, *best_path, *csv_path, *png_path;
    bool autoencoder;
    clseg_dataset *ds;
    clseg_split *split;
    const size_t *train_slices, *val_slices;
    size_t train_count, val_count;
    clseg_net *net;
    clseg_shape shape;       /* batch x channels x size x size */
    clseg_train_state state; /* epoch: epochs completed; step: optimiser steps */
    size_t batch_in_epoch;   /* of the epoch in progress (a resumed interruption) */
    double epoch_loss_sum;
    train_history history;
    const clseg_train_callbacks *cb;
    char *err;
    size_t err_size;
} trainer;

/* Set-up of a new run in opts->run_dir, or of the run in run_dir from its last checkpoint:
 * dataset, split, model (planned for training, values loaded when resuming) and history. */
clseg_status trainer_setup_new(trainer *t, const clseg_train_options *opts);
clseg_status trainer_setup_resume(trainer *t, const char *run_dir, int epochs, const char *data);
void trainer_release(trainer *t);

/* Puts the message into the caller's error buffer and returns st. */
#define trainer_fail(t, st, ...) clseg_errbuf_fail((t)->err, (t)->err_size, st, __VA_ARGS__)

/* An informational line to the caller's message callback. */
void trainer_say(const trainer *t, const char *fmt, ...) CLSEG_PRINTF(2, 3);

#endif
