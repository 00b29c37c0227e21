/* clseg_checkpoint_build_net: the model a checkpoint describes, rebuilt from its metadata alone
 * (the header is read, the tensors are not), so a command can plan it and then load it. */
#include "clseg/checkpoint.h"

#include "clseg/model.h"
#include "core/internal.h"
#include "io/checkpoint_keys.h"
#include "io/safetensors.h"

/* Copies the file's metadata into net, leaving out the writer's own keys: they describe that one
 * file (its step, save id, optimiser file), and a net carrying stale copies would report them
 * as its own. Every other key, the model's and the trainer's, is kept. */
static clseg_status copy_meta(const clseg_st_file *f, clseg_net *net)
{
    clseg_status st = CLSEG_STATUS_SUCCESS;
    for (size_t i = 0; i < clseg_safetensors_meta_count(f) && st == CLSEG_STATUS_SUCCESS; i++) {
        const clseg_st_meta *m = clseg_safetensors_meta_at(f, i);
        if (!clseg_checkpoint_key_is_reserved(m->key))
            st = clseg_net_set_meta(net, m->key, m->value);
    }
    return st;
}

clseg_status clseg_checkpoint_build_net(const char *path, clseg_net **out, char *err, size_t err_size)
{
    if (path == NULL || out == NULL) {
        clseg_errbuf_set(err, err_size, "clseg_checkpoint_build_net: %s is NULL", path == NULL ? "path" : "out");
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    *out = NULL;
    clseg_st_file *f = NULL;
    clseg_status st = clseg_safetensors_open(path, 1, &f, err, err_size);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    if (clseg_safetensors_meta(f, "clseg.model") == NULL) {
        clseg_safetensors_close(f);
        clseg_errbuf_set(err, err_size,
                         "%s: not a clseg checkpoint: its metadata has no 'clseg.model' (a bare PyTorch state dict "
                         "cannot say which model to build)",
                         path);
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    /* the configuration parser reads a net's metadata: give it a scratch net holding the file's */
    clseg_net *scratch = NULL, *net = NULL;
    clseg_model_config cfg;
    char why[512] = "";
    st = clseg_net_create(&scratch);
    if (st == CLSEG_STATUS_SUCCESS)
        st = copy_meta(f, scratch);
    if (st != CLSEG_STATUS_SUCCESS) {
        clseg_errbuf_set(err, err_size, "%s: cannot hold its metadata: %s", path, clseg_status_str(st));
    } else if ((st = clseg_model_config_from_net(scratch, &cfg, why, sizeof why)) != CLSEG_STATUS_SUCCESS) {
        clseg_errbuf_set(err, err_size, "%s: its model configuration is unusable: %s", path, why);
    } else if ((st = clseg_model_build(&cfg, &net, why, sizeof why)) != CLSEG_STATUS_SUCCESS) {
        clseg_errbuf_set(err, err_size, "%s: cannot build its model: %s", path, why);
    } else if ((st = copy_meta(f, net)) != CLSEG_STATUS_SUCCESS) {
        clseg_errbuf_set(err, err_size, "%s: cannot copy its metadata: %s", path, clseg_status_str(st));
        clseg_net_destroy(net);
        net = NULL;
    }
    clseg_net_destroy(scratch);
    clseg_safetensors_close(f);
    if (st == CLSEG_STATUS_SUCCESS)
        *out = net;
    return st;
}
