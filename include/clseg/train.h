/* The training loop of a run folder: epochs of optimiser steps on a patient-level training
 * split, validation Dice and IoU (per slice and per patient volume) after each epoch, a row of
 * RUN_DIR/metrics.csv, the curves as RUN_DIR/curves.png, and checkpoints RUN_DIR/last.safetensors
 * (every epoch, and on interruption) and RUN_DIR/best.safetensors (best validation score).
 * A run can be resumed from its folder and then continues exactly as if never stopped: same
 * batches, same dropout and noise, same optimiser state, the same weights bit for bit. */
#ifndef CLSEG_TRAIN_H
#define CLSEG_TRAIN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clseg/context.h"
#include "clseg/data.h"
#include "clseg/evaluate.h"
#include "clseg/export.h"
#include "clseg/loss.h"
#include "clseg/model.h"
#include "clseg/net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clseg_train_options {
    clseg_model_config model;
    const char *data;            /* dataset root (clseg_dataset_load) */
    const char *run_dir;         /* created if missing */
    int epochs;                  /* >= 1 */
    int batch;                   /* >= 1 */
    int size;                    /* input height = width, a multiple of 16 */
    int steps_per_epoch;         /* 0: every training slice once per epoch; else this many batches */
    float lr;
    clseg_optimizer_kind optimizer;
    clseg_loss_kind loss;        /* the auto-encoder always uses MSE against its clean input */
    double val_fraction;         /* share of patients held out for validation, 0 <= f < 1 */
    uint64_t seed;               /* weights, split, batches, augmentation, dropout, noise */
    clseg_normalize normalize;
    int channels[CLSEG_DATA_MAX_CHANNELS];
    int channel_count;           /* 0: all */
    bool augment;                /* the loader's default augmentation */
    float tumour_fraction;       /* the loader's oversampling of tumour slices; 0: off */
    float noise;                 /* auto-encoder: std of Gaussian noise added to the input
                                  * (denoising; the target stays clean); 0: plain */
} clseg_train_options;

/* U-Net defaults; 10 epochs of batch 8 at 256, Adam lr 1e-3, BCE+Dice, 20% validation, seed
 * 1, unit scaling, all channels, augmentation on, tumour_fraction 0.5, noise 0. data and
 * run_dir are NULL. */
CLSEG_API clseg_train_options clseg_train_options_default(void);

/* After every step. */
typedef struct clseg_train_progress {
    int64_t epoch;               /* 1-based, the epoch in progress */
    int64_t epochs;
    size_t batch, batches;       /* batches done in this epoch, of batches */
    int64_t step;                /* optimiser steps since the run began */
    double loss;                 /* the step's loss */
    double mean_loss;            /* this epoch's mean so far */
    double images_per_s;         /* this epoch's training throughput so far */
    double elapsed_s, eta_s;     /* this epoch's */
} clseg_train_progress;

/* After every epoch, once its checkpoints and metrics row are written. */
typedef struct clseg_epoch_summary {
    int64_t epoch, epochs, step;
    double train_loss;           /* mean over the epoch's steps */
    const clseg_eval_report *val; /* NULL without a validation split */
    double score;                /* what "best" compares: validation volume Dice mean (or
                                  * minus the MSE for the auto-encoder; training loss without
                                  * validation) */
    bool best;                   /* best.safetensors was written for this epoch */
    double train_s, val_s;       /* wall times */
    double images_per_s;
} clseg_epoch_summary;

typedef struct clseg_train_callbacks {
    void (*progress)(void *user, const clseg_train_progress *progress);
    void (*epoch_end)(void *user, const clseg_epoch_summary *summary);
    /* An informational line ("resuming at epoch 3, batch 12", the split, ...). */
    void (*message)(void *user, const char *text);
    void *user;
    /* Checked between steps: when non-zero the trainer writes last.safetensors where it stands
     * and returns CLSEG_STATUS_INTERRUPTED (a signal handler sets it). May be NULL. */
    volatile sig_atomic_t *stop;
} clseg_train_callbacks;

/* Trains a new run in opts->run_dir on ctx. A run folder that already holds a run is an error
 * (resume it, or choose another folder). A non-finite loss stops with CLSEG_STATUS_NOT_FINITE,
 * naming the epoch and step, and leaves the last good checkpoint. A checkpoint that cannot be
 * written (full disk, unwritable folder) stops with its error; the previous one is kept. err
 * (may be NULL) receives the message. cb may be NULL. */
CLSEG_API clseg_status clseg_train(clseg_context *ctx, const clseg_train_options *opts, const clseg_train_callbacks *cb,
                                   char *err, size_t err_size);

/* Continues the run in run_dir from last.safetensors: its options (stored in the checkpoint),
 * its split, epoch, step, optimiser and generator states. epochs > 0 changes the total number
 * of epochs (to train longer); 0 keeps it. data, when not NULL, replaces the stored dataset
 * path (the same data moved). */
CLSEG_API clseg_status clseg_train_resume(clseg_context *ctx, const char *run_dir, int epochs, const char *data,
                                          const clseg_train_callbacks *cb, char *err, size_t err_size);

/* The options a run folder's last checkpoint was trained with (strings point into *storage,
 * which the caller frees with free()). */
CLSEG_API clseg_status clseg_train_options_load(const char *checkpoint, clseg_train_options *opts, char **storage,
                                                char *err, size_t err_size);

#ifdef __cplusplus
}
#endif
#endif
