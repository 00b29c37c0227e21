/* The models' builders, which src/models/registry.c dispatches to (include/clseg/model.h is the
 * public side). Each adds its layers to an empty net whose configuration the registry has
 * checked, and returns the output node (negative after a build error). */
#ifndef CLSEG_MODELS_MODELS_H
#define CLSEG_MODELS_MODELS_H

#include <stddef.h>
#include <stdint.h>

#include "clseg/model.h"

clseg_node clseg_model_build_convdeconv(clseg_net *net, const clseg_model_config *cfg);
clseg_node clseg_model_build_unet(clseg_net *net, const clseg_model_config *cfg);
clseg_node clseg_model_build_linknet(clseg_net *net, const clseg_model_config *cfg);
clseg_node clseg_model_build_deeplabv3(clseg_net *net, const clseg_model_config *cfg);
clseg_node clseg_model_build_autoencoder(clseg_net *net, const clseg_model_config *cfg);

/* Whether inputs of height h and width w fit the model: its skips, unpoolings and
 * reconstructions only line up for multiples of 16 (unet, autoencoder) or 32 (linknet), and
 * every model needs at least one pixel left at its coarsest level. INVALID_ARGUMENT with a
 * message in err otherwise. */
clseg_status clseg_model_check_input(const clseg_model_config *cfg, int64_t h, int64_t w, char *err, size_t err_size);

#endif
