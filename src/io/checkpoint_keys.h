/* The metadata keys a checkpoint's writer owns (besides the net's own keys, its model
 * configuration and whatever a trainer stored): they describe one saved file, so they are
 * written fresh on every save and never taken from, or copied into, a net. */
#ifndef CLSEG_IO_CHECKPOINT_KEYS_H
#define CLSEG_IO_CHECKPOINT_KEYS_H

#include <string.h>

#define KEY_FORMAT "format" /* "pt", as safetensors.torch.save_file writes it */
#define KEY_VERSION "clseg.version"
#define KEY_EPOCH "clseg.epoch"
#define KEY_STEP "clseg.step"
#define KEY_RNG "clseg.rng"
#define KEY_BEST "clseg.best_metric"
#define KEY_OPTIM "clseg.optimizer_file"
#define KEY_SAVE_ID "clseg.save_id"
#define KEY_TRAINABLE "clseg.trainable_scalars"

static inline int clseg_checkpoint_key_is_reserved(const char *k)
{
    static const char *const reserved[] = {KEY_FORMAT, KEY_VERSION, KEY_EPOCH,   KEY_STEP,     KEY_RNG,
                                           KEY_BEST,   KEY_OPTIM,   KEY_SAVE_ID, KEY_TRAINABLE};
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (strcmp(k, reserved[i]) == 0)
            return 1;
    return 0;
}

#endif
