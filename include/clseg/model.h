/* The seed's networks, each built from clseg_net layers in its own source file (src/models/). */
#ifndef CLSEG_MODEL_H
#define CLSEG_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "clseg/export.h"
#include "clseg/net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clseg_model_config {
    char name[32];       /* "convdeconv", "unet", "linknet", "deeplabv3", "autoencoder" */
    int64_t in_channels; /* image channels: 3 for the LGG slices */
    int64_t classes;     /* output channels (1: a tumour logit per pixel); the auto-encoder
                          * reconstructs its input and ignores it */
    int64_t base;        /* width of the first level: unet 32, convdeconv 64, linknet 64,
                          * deeplabv3 64 (the ResNet stem), autoencoder 32 */
    int depth;           /* deeplabv3 and linknet: the ResNet, 18 (default) or 50 (deeplabv3) */
    int output_stride;   /* deeplabv3: 16 (default) or 8 */
} clseg_model_config;

/* The model's defaults; INVALID_ARGUMENT for an unknown name. */
CLSEG_API clseg_status clseg_model_config_default(const char *name, clseg_model_config *cfg);

/* Builds the model; the net carries its configuration as metadata (keys "clseg.model",
 * "clseg.in_channels", ...), which checkpoints keep. err (may be NULL) says what is wrong. */
CLSEG_API clseg_status clseg_model_build(const clseg_model_config *cfg, clseg_net **out, char *err, size_t err_size);

/* The configuration a built (or checkpointed) net's metadata describes. */
CLSEG_API clseg_status clseg_model_config_from_net(const clseg_net *net, clseg_model_config *cfg, char *err,
                                                   size_t err_size);

CLSEG_API size_t clseg_model_count(void);
CLSEG_API const char *clseg_model_name(size_t index);

#ifdef __cplusplus
}
#endif
#endif
