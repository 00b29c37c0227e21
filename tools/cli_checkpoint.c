/* What eval and predict share: a checkpoint's model rebuilt, its inference settings, a device
 * with the trained weights on it. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli_model.h"

int cli_model_open(const char *cmd, const char *checkpoint, const cli_infer_args *args, cli_model *m)
{
    memset(m, 0, sizeof *m);
    char err[4096];
    if (clseg_checkpoint_build_net(checkpoint, &m->net, err, sizeof err) != CLSEG_STATUS_SUCCESS) {
        cli_error("%s: %s", cmd, err);
        return CLI_FAILED;
    }
    if (clseg_model_config_from_net(m->net, &m->config, err, sizeof err) != CLSEG_STATUS_SUCCESS ||
        clseg_infer_options_from_net(m->net, &m->opts, err, sizeof err) != CLSEG_STATUS_SUCCESS) {
        cli_error("%s: %s: %s", cmd, checkpoint, err);
        cli_model_close(m);
        return CLI_FAILED;
    }
    if (args->batch > 0)
        m->opts.batch = args->batch;
    if (!isnan(args->threshold))
        m->opts.threshold = (float)args->threshold;
    m->autoencoder = strcmp(m->config.name, "autoencoder") == 0;
    return CLI_OK;
}

int cli_model_load(const char *cmd, const cli_common *common, const char *checkpoint, cli_model *m)
{
    if ((m->ctx = cli_context(common, common->device)) == NULL)
        return CLI_FAILED;
    clseg_shape in = {m->opts.batch, m->config.in_channels, m->opts.size, m->opts.size};
    if (clseg_net_plan(m->net, m->ctx, in, CLSEG_NET_INFER, 1) != CLSEG_STATUS_SUCCESS) {
        cli_error("%s: planning %s for %dx%lldx%dx%d inputs failed: %s", cmd, m->config.name, m->opts.batch,
                  (long long)m->config.in_channels, m->opts.size, m->opts.size, clseg_context_last_error(m->ctx));
        return CLI_FAILED;
    }
    char err[4096];
    if (clseg_checkpoint_load(m->net, checkpoint, NULL, err, sizeof err) != CLSEG_STATUS_SUCCESS) {
        cli_error("%s: %s", cmd, err);
        return CLI_FAILED;
    }
    return CLI_OK;
}

void cli_model_close(cli_model *m)
{
    /* the net's tensors live on the context: the net goes first */
    clseg_net_destroy(m->net);
    clseg_context_destroy(m->ctx);
    memset(m, 0, sizeof *m);
}

bool cli_parse_infer_option(const char *cmd, const char *opt, const char *value, cli_infer_args *args)
{
    if (strcmp(opt, "--batch") == 0) {
        unsigned long long batch = 0;
        if (!cli_parse_uint(cmd, opt, value, 1, 4096, &batch))
            return false;
        args->batch = (int)batch;
        return true;
    }
    char *end = NULL;
    errno = 0;
    double v = strtod(value, &end);
    if (value[0] == '\0' || *end != '\0' || errno == ERANGE || !(v >= 0.0 && v <= 1.0)) {
        cli_error("%s: --threshold needs a probability from 0 to 1, not '%s'", cmd, value);
        return false;
    }
    args->threshold = v;
    return true;
}
