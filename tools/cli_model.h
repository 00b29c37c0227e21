/* eval and predict: a checkpoint's model, its inference settings and a device holding its
 * weights (tools/cli_checkpoint.c). */
#ifndef CLSEG_CLI_MODEL_H
#define CLSEG_CLI_MODEL_H

#include <stdbool.h>

#include "cli.h"

/* What the command line may override of the settings the checkpoint stores. */
typedef struct cli_infer_args {
    int batch;        /* 0: the checkpoint's (or the default) */
    double threshold; /* NaN: 0.5 */
} cli_infer_args;

typedef struct cli_model {
    clseg_net *net;
    clseg_context *ctx;
    clseg_model_config config;
    clseg_infer_options opts;
    bool autoencoder;
} cli_model;

/* Builds the checkpoint's model and reads its inference options (no device yet, no weights);
 * prints what is wrong and returns CLI_FAILED otherwise. */
int cli_model_open(const char *cmd, const char *checkpoint, const cli_infer_args *args, cli_model *m);

/* Creates the context, plans the net for inference and loads the checkpoint's weights. */
int cli_model_load(const char *cmd, const cli_common *common, const char *checkpoint, cli_model *m);

void cli_model_close(cli_model *m);

/* The inference options eval and predict share: --batch B and --threshold T (a probability in
 * [0, 1]) into args; prints what is wrong and returns false otherwise. */
bool cli_parse_infer_option(const char *cmd, const char *opt, const char *value, cli_infer_args *args);

#endif
