/* Checkpoints in the safetensors format (https://huggingface.co/docs/safetensors): the net's
 * parameters and buffers under their PyTorch state_dict names, as F32 (and batch norm's
 * num_batches_tracked as I64), so `safetensors.torch.load_file` and a PyTorch model's
 * load_state_dict open them. The model's configuration and the training state go in the
 * header's __metadata__. The optimiser's moments, which PyTorch's state_dict does not hold,
 * go to a second safetensors file beside it, PATH.optim, named in the metadata.
 *
 * Files are written atomically (a temporary file, fsync, rename): a crash leaves the old file
 * or the new one. Loading checks every name, shape and dtype and the file's structure, and
 * rejects truncated or corrupted files with a message naming the file and the problem. */
#ifndef CLSEG_CHECKPOINT_H
#define CLSEG_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "clseg/export.h"
#include "clseg/net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clseg_train_state {
    int64_t epoch;       /* epochs completed */
    int64_t step;        /* optimiser steps taken (saved from and restored to the net) */
    uint64_t rng[4];     /* the trainer's random generator state */
    double best_metric;  /* e.g. the best validation Dice so far */
} clseg_train_state;

/* Writes path (and path.optim when the net holds optimiser state). state may be NULL. Blocks
 * until the device has delivered the values. */
CLSEG_API clseg_status clseg_checkpoint_save(const clseg_net *net, const char *path, const clseg_train_state *state,
                                             char *err, size_t err_size);

/* Loads the values into a planned net (every name of the net must be in the file with its
 * shape; extra names are an error too) and, when path.optim exists and the net is planned for
 * training, the optimiser state. state (may be NULL) receives the training state. */
CLSEG_API clseg_status clseg_checkpoint_load(clseg_net *net, const char *path, clseg_train_state *state, char *err,
                                             size_t err_size);

/* The metadata value of key in the checkpoint at path, copied into value; NOT_FOUND-style
 * errors are INVALID_ARGUMENT with a message. Lets a command rebuild the model before loading. */
CLSEG_API clseg_status clseg_checkpoint_meta(const char *path, const char *key, char *value, size_t value_size,
                                             char *err, size_t err_size);

/* Builds the model a checkpoint's metadata describes (clseg_model_build with the stored
 * configuration) and copies the checkpoint's other metadata (e.g. the trainer's "clseg.train.*"
 * keys) into the new net; the net is not planned and holds no values yet: plan it, then
 * clseg_checkpoint_load. A checkpoint without clseg's model keys (e.g. a bare PyTorch state
 * dict) is INVALID_ARGUMENT, with a message naming path. */
CLSEG_API clseg_status clseg_checkpoint_build_net(const char *path, clseg_net **out, char *err, size_t err_size);

#ifdef __cplusplus
}
#endif
#endif
