/* How inference prepares slices, read back from what the trainer wrote into the net's metadata. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clseg/evaluate.h"
#include "core/internal.h"

#define KEY_SIZE "clseg.train.size"
#define KEY_BATCH "clseg.train.batch"
#define KEY_NORMALIZE "clseg.train.normalize"
#define KEY_CHANNELS "clseg.train.channels"

/* A whole number in [lo, hi] that is all of text (up to end, or the whole string when end is
 * NULL); false otherwise. */
static bool parse_int(const char *text, const char *end, long lo, long hi, long *out)
{
    if (text[0] < '0' || text[0] > '9')
        return false;
    char *stop = NULL;
    errno = 0;
    long v = strtol(text, &stop, 10);
    if (errno == ERANGE || stop == text || (end != NULL ? stop != end : *stop != '\0') || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static clseg_status malformed(char *err, size_t err_size, const char *key, const char *value, const char *want)
{
    clseg_errbuf_set(err, err_size, "the net's metadata '%s' is '%.60s', not %s", key, value, want);
    return CLSEG_STATUS_INVALID_ARGUMENT;
}

/* "1" or "0,1,2": distinct image channels, at most CLSEG_DATA_MAX_CHANNELS of them. */
static bool parse_channels(const char *text, clseg_infer_options *o)
{
    int count = 0;
    for (const char *p = text;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma != NULL ? comma : p + strlen(p);
        long c;
        if (count == CLSEG_DATA_MAX_CHANNELS || !parse_int(p, end, 0, CLSEG_DATA_MAX_CHANNELS - 1, &c))
            return false;
        for (int k = 0; k < count; k++)
            if (o->channels[k] == (int)c)
                return false;
        o->channels[count++] = (int)c;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    o->channel_count = count;
    return true;
}

clseg_status clseg_infer_options_from_net(const clseg_net *net, clseg_infer_options *opts, char *err, size_t err_size)
{
    if (net == NULL || opts == NULL) {
        clseg_errbuf_set(err, err_size, "clseg_infer_options_from_net: %s is NULL", net == NULL ? "net" : "opts");
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    clseg_infer_options o;
    memset(&o, 0, sizeof o);
    o.batch = 8;
    o.size = 256;
    o.normalize = CLSEG_NORMALIZE_UNIT;
    o.threshold = 0.5f;
    const char *v;
    long n;
    if ((v = clseg_net_meta(net, KEY_SIZE)) != NULL) {
        if (!parse_int(v, NULL, 16, 4096, &n) || n % 16 != 0)
            return malformed(err, err_size, KEY_SIZE, v, "a multiple of 16 from 16 to 4096");
        o.size = (int)n;
    }
    if ((v = clseg_net_meta(net, KEY_BATCH)) != NULL) {
        if (!parse_int(v, NULL, 1, 4096, &n))
            return malformed(err, err_size, KEY_BATCH, v, "a whole number from 1 to 4096");
        o.batch = (int)n;
    }
    if ((v = clseg_net_meta(net, KEY_NORMALIZE)) != NULL &&
        clseg_normalize_parse(v, &o.normalize) != CLSEG_STATUS_SUCCESS)
        return malformed(err, err_size, KEY_NORMALIZE, v, "'unit' or 'volume'");
    if ((v = clseg_net_meta(net, KEY_CHANNELS)) != NULL && !parse_channels(v, &o))
        return malformed(err, err_size, KEY_CHANNELS, v, "distinct channel numbers 0 to 2 separated by commas");
    *opts = o;
    return CLSEG_STATUS_SUCCESS;
}
