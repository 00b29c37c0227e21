/* The model table behind include/clseg/model.h: defaults, checks, building, and the
 * configuration kept in a net's metadata ("clseg.model", "clseg.in_channels", ...). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clseg/model.h"
#include "models/models.h"

typedef struct model_entry {
    const char *name;
    int64_t base;     /* default width of the first level */
    int64_t multiple; /* inputs must be multiples of this */
    int64_t min_size; /* and at least this large */
    clseg_node (*build)(clseg_net *net, const clseg_model_config *cfg);
} model_entry;

/* convdeconv's five poolings need 32 pixels; its unpooling restores any size. deeplabv3 rounds
 * up at every stride and resizes its logits to the input, so any size works. */
static const model_entry models[] = {
    {"convdeconv", 64, 1, 32, clseg_model_build_convdeconv},    {"unet", 32, 16, 16, clseg_model_build_unet},
    {"linknet", 64, 32, 32, clseg_model_build_linknet},         {"deeplabv3", 64, 1, 1, clseg_model_build_deeplabv3},
    {"autoencoder", 32, 16, 16, clseg_model_build_autoencoder},
};
enum { MODEL_COUNT = sizeof models / sizeof models[0] };

/* Widths and channel counts above this are surely mistakes (and would overflow sizes). */
#define MAX_CHANNELS 65536

__attribute__((format(printf, 3, 4))) static clseg_status fail(char *err, size_t err_size, const char *fmt, ...)
{
    if (err != NULL && err_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return CLSEG_STATUS_INVALID_ARGUMENT;
}

static const model_entry *find(const char *name)
{
    for (size_t i = 0; i < MODEL_COUNT; i++)
        if (strcmp(models[i].name, name) == 0)
            return &models[i];
    return NULL;
}

static clseg_status unknown(const char *name, char *err, size_t err_size)
{
    return fail(err, err_size, "unknown model '%.40s' (known: convdeconv, unet, linknet, deeplabv3, autoencoder)",
                name);
}

size_t clseg_model_count(void)
{
    return MODEL_COUNT;
}

const char *clseg_model_name(size_t index)
{
    return index < MODEL_COUNT ? models[index].name : NULL;
}

clseg_status clseg_model_config_default(const char *name, clseg_model_config *cfg)
{
    const model_entry *m = name != NULL ? find(name) : NULL;
    if (m == NULL || cfg == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->name, sizeof cfg->name, "%s", m->name);
    cfg->in_channels = 3;
    cfg->classes = 1;
    cfg->base = m->base;
    cfg->depth = 18;
    cfg->output_stride = 16;
    return CLSEG_STATUS_SUCCESS;
}

/* The entry of a valid configuration, or NULL with the reason in err. */
static const model_entry *check_config(const clseg_model_config *cfg, char *err, size_t err_size)
{
    if (cfg == NULL) {
        fail(err, err_size, "clseg_model: cfg is NULL");
        return NULL;
    }
    if (memchr(cfg->name, '\0', sizeof cfg->name) == NULL) {
        fail(err, err_size, "the model name is not terminated within %zu characters", sizeof cfg->name);
        return NULL;
    }
    const model_entry *m = find(cfg->name);
    const char *what = NULL;
    int64_t value = 0;
    if (m == NULL) {
        unknown(cfg->name, err, err_size);
        return NULL;
    }
    if (cfg->in_channels < 1 || cfg->in_channels > MAX_CHANNELS)
        what = "in_channels", value = cfg->in_channels;
    else if (cfg->classes < 1 || cfg->classes > MAX_CHANNELS)
        what = "classes", value = cfg->classes;
    else if (cfg->base < 1 || cfg->base > MAX_CHANNELS)
        what = "base", value = cfg->base;
    if (what != NULL) {
        fail(err, err_size, "%s: %s must be from 1 to %d, not %" PRId64, m->name, what, MAX_CHANNELS, value);
        return NULL;
    }
    if (cfg->depth != 18 && cfg->depth != 50) {
        fail(err, err_size, "%s: depth must be 18 or 50 (the ResNet), not %d", m->name, cfg->depth);
        return NULL;
    }
    if (cfg->depth == 50 && strcmp(m->name, "linknet") == 0) {
        fail(err, err_size, "linknet: depth must be 18 (its decoder is sized for ResNet-18's widths), not 50");
        return NULL;
    }
    if (cfg->output_stride != 8 && cfg->output_stride != 16) {
        fail(err, err_size, "%s: output_stride must be 8 or 16, not %d", m->name, cfg->output_stride);
        return NULL;
    }
    return m;
}

clseg_status clseg_model_check_input(const clseg_model_config *cfg, int64_t h, int64_t w, char *err, size_t err_size)
{
    const model_entry *m = check_config(cfg, err, err_size);
    if (m == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    if (h < m->min_size || w < m->min_size || h % m->multiple != 0 || w % m->multiple != 0) {
        if (m->multiple > 1)
            return fail(err, err_size,
                        "%s needs a height and width that are multiples of %" PRId64 ", not %" PRId64 "x%" PRId64,
                        m->name, m->multiple, h, w);
        return fail(err, err_size, "%s needs a height and width of at least %" PRId64 ", not %" PRId64 "x%" PRId64,
                    m->name, m->min_size, h, w);
    }
    return CLSEG_STATUS_SUCCESS;
}

/* Writes the configuration into the net's metadata. */
static clseg_status set_meta(clseg_net *net, const clseg_model_config *cfg)
{
    const char *keys[] = {"clseg.in_channels", "clseg.classes", "clseg.base", "clseg.depth", "clseg.output_stride"};
    int64_t values[] = {cfg->in_channels, cfg->classes, cfg->base, cfg->depth, cfg->output_stride};
    clseg_status st = clseg_net_set_meta(net, "clseg.model", cfg->name);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0] && st == CLSEG_STATUS_SUCCESS; i++) {
        char text[24];
        snprintf(text, sizeof text, "%" PRId64, values[i]);
        st = clseg_net_set_meta(net, keys[i], text);
    }
    return st;
}

clseg_status clseg_model_build(const clseg_model_config *cfg, clseg_net **out, char *err, size_t err_size)
{
    if (out == NULL)
        return fail(err, err_size, "clseg_model_build: out is NULL");
    *out = NULL;
    const model_entry *m = check_config(cfg, err, err_size);
    if (m == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    clseg_net *net = NULL;
    clseg_status st = clseg_net_create(&net);
    if (st != CLSEG_STATUS_SUCCESS) {
        fail(err, err_size, "%s: cannot create the net: %s", m->name, clseg_status_str(st));
        return st;
    }
    clseg_node output = m->build(net, cfg);
    const char *message = NULL;
    st = clseg_net_build_status(net, &message);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_net_set_output(net, output);
    if (st == CLSEG_STATUS_SUCCESS)
        st = set_meta(net, cfg);
    if (st != CLSEG_STATUS_SUCCESS) {
        fail(err, err_size, "%s: building failed: %s", m->name, message != NULL ? message : clseg_status_str(st));
        clseg_net_destroy(net);
        return st;
    }
    *out = net;
    return CLSEG_STATUS_SUCCESS;
}

/* Reads an integer metadata value; false (with the reason in err) when absent or malformed. */
static int meta_int(const clseg_net *net, const char *key, int64_t lo, int64_t hi, int64_t *value, char *err,
                    size_t err_size)
{
    const char *text = clseg_net_meta(net, key);
    if (text == NULL) {
        fail(err, err_size, "the net's metadata has no '%s'", key);
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (text[0] == '\0' || *end != '\0' || errno == ERANGE || v < lo || v > hi) {
        fail(err, err_size, "the net's metadata '%s' is '%.40s', not a whole number from %" PRId64 " to %" PRId64, key,
             text, lo, hi);
        return 0;
    }
    *value = (int64_t)v;
    return 1;
}

clseg_status clseg_model_config_from_net(const clseg_net *net, clseg_model_config *cfg, char *err, size_t err_size)
{
    if (net == NULL || cfg == NULL)
        return fail(err, err_size, "clseg_model_config_from_net: %s is NULL", net == NULL ? "net" : "cfg");
    const char *name = clseg_net_meta(net, "clseg.model");
    if (name == NULL)
        return fail(err, err_size, "the net's metadata has no 'clseg.model' (was it built by clseg_model_build?)");
    if (find(name) == NULL)
        return unknown(name, err, err_size);
    clseg_model_config c;
    clseg_model_config_default(name, &c);
    int64_t depth = 0, stride = 0;
    if (!meta_int(net, "clseg.in_channels", 1, MAX_CHANNELS, &c.in_channels, err, err_size) ||
        !meta_int(net, "clseg.classes", 1, MAX_CHANNELS, &c.classes, err, err_size) ||
        !meta_int(net, "clseg.base", 1, MAX_CHANNELS, &c.base, err, err_size) ||
        !meta_int(net, "clseg.depth", 1, 1000, &depth, err, err_size) ||
        !meta_int(net, "clseg.output_stride", 1, 1000, &stride, err, err_size))
        return CLSEG_STATUS_INVALID_ARGUMENT;
    c.depth = (int)depth;
    c.output_stride = (int)stride;
    if (check_config(&c, err, err_size) == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    *cfg = c;
    return CLSEG_STATUS_SUCCESS;
}
