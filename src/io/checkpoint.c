/* Checkpoints: a net's parameters and buffers as a PyTorch state_dict in safetensors, the
 * training state in its metadata, the optimiser's moments in PATH.optim.
 *
 * Saving writes PATH.optim before PATH, each atomically, so PATH never names a moments file
 * that is not there; both carry the same save id, so moments left by a save that crashed
 * before its PATH was written are recognised as not belonging to the PATH that is there.
 * Loading checks the whole file (and the moments file) against the net before uploading
 * anything: a rejected checkpoint leaves the net as it was. */
#include "clseg/checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clseg/clseg.h"
#include "core/internal.h"
#include "io/checkpoint_keys.h"
#include "io/safetensors.h"

#define OPTIM_SUFFIX ".optim"
#define BN_MARK ".running_mean"
#define BN_COUNTER ".num_batches_tracked"
#define FIRST_MOMENT "first_moment"
#define SECOND_MOMENT "second_moment"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static char *strdup_n(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (c != NULL) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

static char *concat(const char *a, const char *b)
{
    size_t n = strlen(a), k = strlen(b);
    char *c = malloc(n + k + 1);
    if (c != NULL) {
        memcpy(c, a, n);
        memcpy(c + n, b, k + 1);
    }
    return c;
}

/* The file name part of path. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

/* A parameter's PyTorch shape: the last dims entries of its padded 4-D shape. */
static void torch_shape(const clseg_param_info *info, clseg_st_tensor *t)
{
    const int64_t padded[4] = {info->shape.n, info->shape.c, info->shape.h, info->shape.w};
    t->ndim = info->dims;
    for (int d = 0; d < info->dims; d++)
        t->shape[d] = padded[4 - info->dims + d];
}

/* --- saving -------------------------------------------------------------------------------- */

/* What a save writes, gathered on the host. */
typedef struct save_set {
    clseg_st_tensor *tensors;
    size_t ntensors;
    float *values;      /* every parameter's values, then the moments */
    int64_t *counters;  /* num_batches_tracked, one per batch norm */
    char **names;       /* the num_batches_tracked names (owned) */
    size_t nnames;
    clseg_st_meta *meta;
    size_t nmeta, cap_meta;
    char text[8][128]; /* formatted metadata values */
} save_set;

static void save_set_free(save_set *s)
{
    for (size_t i = 0; i < s->nnames; i++)
        free(s->names[i]);
    free(s->names);
    free(s->tensors);
    free(s->values);
    free(s->counters);
    free(s->meta);
}

static clseg_status oom(char *err, size_t err_size, const char *path)
{
    clseg_errbuf_set(err, err_size, "%s: out of host memory", path);
    return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
}

/* Downloads every parameter and names the batch norms' counters. */
static clseg_status gather_params(const clseg_net *net, save_set *s, const char *path, char *err, size_t err_size)
{
    size_t n = clseg_net_param_count(net), floats = 0, bns = 0;
    for (size_t i = 0; i < n; i++) {
        clseg_param_info info;
        clseg_status st = clseg_net_param(net, i, &info);
        if (st != CLSEG_STATUS_SUCCESS || info.value == NULL) {
            clseg_errbuf_set(err, err_size, "clseg_checkpoint_save: the net is not planned: '%s' has no value yet",
                             st == CLSEG_STATUS_SUCCESS ? info.name : "?");
            return CLSEG_STATUS_INVALID_ARGUMENT;
        }
        floats += clseg_shape_numel(info.shape);
        bns += ends_with(info.name, BN_MARK);
    }
    s->tensors = calloc(n + bns + 2, sizeof *s->tensors);
    s->values = malloc((floats ? floats : 1) * sizeof *s->values);
    s->counters = malloc((bns ? bns : 1) * sizeof *s->counters);
    s->names = calloc(bns ? bns : 1, sizeof *s->names);
    if (s->tensors == NULL || s->values == NULL || s->counters == NULL || s->names == NULL)
        return oom(err, err_size, path);
    int64_t steps = clseg_net_step_count(net);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        clseg_param_info info;
        clseg_net_param(net, i, &info);
        size_t count = clseg_shape_numel(info.shape);
        clseg_st_tensor *t = &s->tensors[s->ntensors++];
        t->name = info.name;
        t->dtype = CLSEG_ST_F32;
        torch_shape(&info, t);
        t->data = s->values + off;
        clseg_status st = clseg_tensor_download(info.value, s->values + off, count);
        if (st != CLSEG_STATUS_SUCCESS) {
            clseg_errbuf_set(err, err_size, "%s: cannot read '%s' from the device: %s", path, info.name,
                             clseg_status_str(st));
            return st;
        }
        off += count;
        if (ends_with(info.name, BN_MARK)) {
            /* PyTorch's BatchNorm2d holds this buffer too; it counts training batches, which
             * is the optimiser's step count when every step is one batch */
            char *name = strdup_n(info.name, strlen(info.name) - strlen(BN_MARK));
            char *full = name != NULL ? concat(name, BN_COUNTER) : NULL;
            free(name);
            if (full == NULL)
                return oom(err, err_size, path);
            s->names[s->nnames] = full;
            s->counters[s->nnames] = steps;
            s->tensors[n + s->nnames] = (clseg_st_tensor){.name = full, .dtype = CLSEG_ST_I64, .ndim = 0,
                                                          .data = &s->counters[s->nnames]};
            s->nnames++;
        }
    }
    s->ntensors = n + s->nnames;
    return CLSEG_STATUS_SUCCESS;
}

/* Room was made for every key in clseg_checkpoint_save. */
static void add_meta(save_set *s, const char *key, const char *value)
{
    if (s->nmeta < s->cap_meta)
        s->meta[s->nmeta++] = (clseg_st_meta){key, value};
}

static const char *fmt_i64(save_set *s, int slot, int64_t v)
{
    snprintf(s->text[slot], sizeof s->text[slot], "%" PRId64, v);
    return s->text[slot];
}

/* A token shared by the two files of one save. */
static void make_save_id(char *out, size_t size, const clseg_net *net)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^
                 (uint64_t)(uintptr_t)net;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    snprintf(out, size, "%016" PRIx64, x);
}

/* Writes PATH.optim from the net's moments (when it has them); *written says whether it did. */
static clseg_status save_optimizer(const clseg_net *net, const char *optim_path, const char *save_id, int *written,
                                   char *err, size_t err_size)
{
    *written = 0;
    clseg_tensor *m[2] = {NULL, NULL};
    clseg_status st = clseg_net_optimizer_state(net, &m[0], &m[1]);
    if (st != CLSEG_STATUS_SUCCESS) {
        clseg_errbuf_set(err, err_size, "%s: cannot get the optimiser state: %s", optim_path, clseg_status_str(st));
        return st;
    }
    if (m[0] == NULL && m[1] == NULL)
        return CLSEG_STATUS_SUCCESS;
    static const char *const names[2] = {FIRST_MOMENT, SECOND_MOMENT};
    clseg_st_tensor t[2];
    float *host[2] = {NULL, NULL};
    size_t nt = 0;
    for (int k = 0; k < 2 && st == CLSEG_STATUS_SUCCESS; k++) {
        if (m[k] == NULL)
            continue;
        size_t count = clseg_tensor_numel(m[k]);
        host[k] = malloc((count ? count : 1) * sizeof(float));
        if (host[k] == NULL) {
            st = oom(err, err_size, optim_path);
            break;
        }
        st = clseg_tensor_download(m[k], host[k], count);
        if (st != CLSEG_STATUS_SUCCESS)
            clseg_errbuf_set(err, err_size, "%s: cannot read the optimiser's %s from the device: %s", optim_path,
                             names[k], clseg_status_str(st));
        t[nt++] = (clseg_st_tensor){.name = names[k], .dtype = CLSEG_ST_F32, .ndim = 1,
                                    .shape = {(int64_t)count}, .data = host[k]};
    }
    if (st == CLSEG_STATUS_SUCCESS) {
        char step[32], trainable[32];
        snprintf(step, sizeof step, "%" PRId64, clseg_net_step_count(net));
        snprintf(trainable, sizeof trainable, "%" PRId64, clseg_net_trainable_scalars(net));
        clseg_st_meta meta[] = {{KEY_FORMAT, "pt"},   {KEY_VERSION, clseg_version()}, {KEY_STEP, step},
                                {KEY_SAVE_ID, save_id}, {KEY_TRAINABLE, trainable}};
        st = clseg_safetensors_write(optim_path, t, nt, meta, sizeof meta / sizeof *meta, err, err_size);
        *written = st == CLSEG_STATUS_SUCCESS;
    }
    free(host[0]);
    free(host[1]);
    return st;
}

clseg_status clseg_checkpoint_save(const clseg_net *net, const char *path, const clseg_train_state *state,
                                   char *err, size_t err_size)
{
    if (net == NULL || path == NULL || path[0] == '\0') {
        clseg_errbuf_set(err, err_size, "clseg_checkpoint_save: net or path is NULL or empty");
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    if (state != NULL && state->epoch < 0) {
        clseg_errbuf_set(err, err_size, "clseg_checkpoint_save: state->epoch %" PRId64 " is negative", state->epoch);
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    save_set s = {0};
    char *optim_path = concat(path, OPTIM_SUFFIX);
    if (optim_path == NULL)
        return oom(err, err_size, path);
    clseg_status st = gather_params(net, &s, path, err, err_size);
    char save_id[32];
    make_save_id(save_id, sizeof save_id, net);
    int optim_written = 0;
    if (st == CLSEG_STATUS_SUCCESS)
        st = save_optimizer(net, optim_path, save_id, &optim_written, err, err_size);
    if (st == CLSEG_STATUS_SUCCESS) {
        s.cap_meta = clseg_net_meta_count(net) + 9;
        s.meta = malloc(s.cap_meta * sizeof *s.meta);
        if (s.meta == NULL)
            st = oom(err, err_size, path);
    }
    if (st == CLSEG_STATUS_SUCCESS) {
        /* the net's own keys (the model's configuration) may not shadow the ones written here */
        for (size_t i = 0; i < clseg_net_meta_count(net); i++) {
            const char *k = NULL, *v = NULL;
            if (clseg_net_meta_at(net, i, &k, &v) == CLSEG_STATUS_SUCCESS && !clseg_checkpoint_key_is_reserved(k))
                add_meta(&s, k, v);
        }
    }
    if (st == CLSEG_STATUS_SUCCESS) {
        add_meta(&s, KEY_FORMAT, "pt");
        add_meta(&s, KEY_VERSION, clseg_version());
        add_meta(&s, KEY_STEP, fmt_i64(&s, 0, clseg_net_step_count(net)));
        add_meta(&s, KEY_SAVE_ID, save_id);
        if (state != NULL) {
            add_meta(&s, KEY_EPOCH, fmt_i64(&s, 1, state->epoch));
            snprintf(s.text[2], sizeof s.text[2], "%016" PRIx64 ",%016" PRIx64 ",%016" PRIx64 ",%016" PRIx64,
                     state->rng[0], state->rng[1], state->rng[2], state->rng[3]);
            add_meta(&s, KEY_RNG, s.text[2]);
            snprintf(s.text[3], sizeof s.text[3], "%.17g", state->best_metric);
            add_meta(&s, KEY_BEST, s.text[3]);
        }
        if (optim_written)
            add_meta(&s, KEY_OPTIM, base_name(optim_path));
        st = clseg_safetensors_write(path, s.tensors, s.ntensors, s.meta, s.nmeta, err, err_size);
    }
    save_set_free(&s);
    free(optim_path);
    return st;
}

/* --- loading ------------------------------------------------------------------------------- */

static clseg_status bad(char *err, size_t err_size, clseg_status st, const char *fmt, ...) CLSEG_PRINTF(4, 5);

static clseg_status bad(char *err, size_t err_size, clseg_status st, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    clseg_errbuf_set(err, err_size, "%s", msg);
    return st;
}

/* A whole decimal int64 >= 0. */
static int parse_count(const char *s, int64_t *v)
{
    if (s == NULL || *s < '0' || *s > '9')
        return 0;
    errno = 0;
    char *end;
    long long x = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || x < 0)
        return 0;
    *v = x;
    return 1;
}

static int parse_hex64(const char *s, uint64_t *v)
{
    uint64_t x = 0;
    for (int i = 0; i < 16; i++) {
        char c = s[i];
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16;
        if (d == 16)
            return 0;
        x = x << 4 | d;
    }
    *v = x;
    return 1;
}

/* The training state the metadata holds (zeros for what it lacks). */
static clseg_status read_state(const clseg_st_file *f, const char *path, clseg_train_state *state, char *err,
                               size_t err_size)
{
    memset(state, 0, sizeof *state);
    const char *epoch = clseg_safetensors_meta(f, KEY_EPOCH), *step = clseg_safetensors_meta(f, KEY_STEP);
    const char *rng = clseg_safetensors_meta(f, KEY_RNG), *best = clseg_safetensors_meta(f, KEY_BEST);
    if (epoch != NULL && !parse_count(epoch, &state->epoch))
        return bad(err, err_size, CLSEG_STATUS_BAD_FORMAT, "%s: metadata %s \"%.40s\" is not a count", path,
                   KEY_EPOCH, epoch);
    if (step != NULL && !parse_count(step, &state->step))
        return bad(err, err_size, CLSEG_STATUS_BAD_FORMAT, "%s: metadata %s \"%.40s\" is not a count", path, KEY_STEP,
                   step);
    if (rng != NULL) {
        int ok = strlen(rng) == 4 * 16 + 3;
        for (int k = 0; k < 4 && ok; k++)
            ok = parse_hex64(rng + 17 * k, &state->rng[k]) && (k == 3 || rng[17 * k + 16] == ',');
        if (!ok)
            return bad(err, err_size, CLSEG_STATUS_BAD_FORMAT,
                       "%s: metadata %s \"%.80s\" is not four 16-digit hexadecimal words", path, KEY_RNG, rng);
    }
    if (best != NULL) {
        char *end;
        state->best_metric = strtod(best, &end);
        if (end == best || *end != '\0')
            return bad(err, err_size, CLSEG_STATUS_BAD_FORMAT, "%s: metadata %s \"%.40s\" is not a number", path,
                       KEY_BEST, best);
    }
    return CLSEG_STATUS_SUCCESS;
}

/* Appends name to a "'a', 'b', ..." list of at most a few names. */
static void list_name(char *list, size_t size, size_t *count, const char *name)
{
    if (*count < 5) {
        size_t n = strlen(list);
        snprintf(list + n, size - n, "%s'%.100s'", *count ? ", " : "", name);
    }
    (*count)++;
}

static void list_end(char *list, size_t size, size_t count)
{
    if (count > 5) {
        size_t n = strlen(list);
        snprintf(list + n, size - n, " and %zu more", count - 5);
    }
}

static int by_string(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static int has_name(const char *const *sorted, size_t n, const char *name)
{
    return bsearch(&name, sorted, n, sizeof *sorted, by_string) != NULL;
}

/* Is name the counter of one of the net's batch norms ("<prefix>.num_batches_tracked" where
 * the net has "<prefix>.running_mean")? */
static int is_bn_counter(const char *const *sorted, size_t n, const char *name)
{
    if (!ends_with(name, BN_COUNTER))
        return 0;
    size_t prefix = strlen(name) - strlen(BN_COUNTER);
    char *mean = malloc(prefix + strlen(BN_MARK) + 1);
    if (mean == NULL)
        return 0;
    memcpy(mean, name, prefix);
    strcpy(mean + prefix, BN_MARK);
    int found = has_name(sorted, n, mean);
    free(mean);
    return found;
}

/* Every name of the net in the file with its shape as F32, nothing else but batch norms'
 * counters (I64 scalars) in the file. */
static clseg_status check_params(const clseg_net *net, const clseg_st_file *f, const char *path, char *err,
                                 size_t err_size)
{
    char missing[1024] = "", extra[1024] = "";
    size_t nmissing = 0, nextra = 0;
    size_t n = clseg_net_param_count(net);
    for (size_t i = 0; i < n; i++) {
        clseg_param_info info;
        clseg_net_param(net, i, &info);
        const clseg_st_tensor *t = clseg_safetensors_find(f, info.name);
        if (t == NULL) {
            list_name(missing, sizeof missing, &nmissing, info.name);
            continue;
        }
        if (t->dtype != CLSEG_ST_F32)
            return bad(err, err_size, CLSEG_STATUS_BAD_FORMAT, "%s: '%s' is %s, not F32", path, info.name,
                       clseg_st_dtype_name(t->dtype));
        clseg_st_tensor want = {0};
        torch_shape(&info, &want);
        int same = t->ndim == want.ndim;
        for (int d = 0; d < want.ndim && same; d++)
            same = t->shape[d] == want.shape[d];
        if (!same) {
            char have_s[128] = "", want_s[128] = "";
            for (int d = 0; d < t->ndim; d++)
                snprintf(have_s + strlen(have_s), sizeof have_s - strlen(have_s), "%s%" PRId64, d ? ", " : "",
                         t->shape[d]);
            for (int d = 0; d < want.ndim; d++)
                snprintf(want_s + strlen(want_s), sizeof want_s - strlen(want_s), "%s%" PRId64, d ? ", " : "",
                         want.shape[d]);
            return bad(err, err_size, CLSEG_STATUS_SHAPE_MISMATCH,
                       "%s: '%s' has shape [%s] in the file, the net's is [%s] (a model built with another "
                       "configuration?)",
                       path, info.name, have_s, want_s);
        }
    }
    const char **sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (sorted == NULL)
        return oom(err, err_size, path);
    for (size_t i = 0; i < n; i++) {
        clseg_param_info info;
        clseg_net_param(net, i, &info);
        sorted[i] = info.name;
    }
    qsort(sorted, n, sizeof *sorted, by_string);
    for (size_t i = 0; i < clseg_safetensors_count(f); i++) {
        const clseg_st_tensor *t = clseg_safetensors_tensor(f, i);
        if (is_bn_counter(sorted, n, t->name)) {
            if (t->dtype != CLSEG_ST_I64 || t->ndim != 0) {
                free(sorted);
                return bad(err, err_size, CLSEG_STATUS_BAD_FORMAT, "%s: '%s' is not an I64 scalar", path, t->name);
            }
        } else if (!has_name(sorted, n, t->name)) {
            list_name(extra, sizeof extra, &nextra, t->name);
        }
    }
    free(sorted);
    list_end(missing, sizeof missing, nmissing);
    list_end(extra, sizeof extra, nextra);
    if (nmissing > 0 && nextra > 0)
        return bad(err, err_size, CLSEG_STATUS_BAD_FORMAT,
                   "%s: does not match the net: %zu missing (%s) and %zu unexpected tensors (%s)", path, nmissing,
                   missing, nextra, extra);
    if (nmissing > 0)
        return bad(err, err_size, CLSEG_STATUS_BAD_FORMAT, "%s: %zu of the net's tensors are missing: %s", path,
                   nmissing, missing);
    if (nextra > 0)
        return bad(err, err_size, CLSEG_STATUS_BAD_FORMAT, "%s: %zu unexpected tensors, not in the net: %s", path,
                   nextra, extra);
    return CLSEG_STATUS_SUCCESS;
}

/* Opens and checks the moments file the checkpoint names, against the net's moments. */
static clseg_status open_optimizer(const clseg_st_file *f, const char *path,
                                   clseg_tensor *const m[2], clseg_st_file **optim, char *err, size_t err_size)
{
    *optim = NULL;
    const char *name = clseg_safetensors_meta(f, KEY_OPTIM);
    if (name == NULL || (m[0] == NULL && m[1] == NULL))
        return CLSEG_STATUS_SUCCESS;
    if (name[0] == '\0' || strchr(name, '/') != NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return bad(err, err_size, CLSEG_STATUS_BAD_FORMAT, "%s: metadata %s \"%.100s\" is not a file name", path,
                   KEY_OPTIM, name);
    /* beside the checkpoint, whatever folder it was saved in */
    size_t dir = (size_t)(base_name(path) - path);
    char *dir_part = strdup_n(path, dir);
    char *optim_path = dir_part != NULL ? concat(dir_part, name) : NULL;
    free(dir_part);
    if (optim_path == NULL)
        return oom(err, err_size, path);
    char why[1024] = "";
    clseg_status st = clseg_safetensors_open(optim_path, 0, optim, why, sizeof why);
    if (st == CLSEG_STATUS_IO)
        st = bad(err, err_size, CLSEG_STATUS_IO, "%s names an optimiser file that cannot be read: %s", path, why);
    else if (st != CLSEG_STATUS_SUCCESS)
        clseg_errbuf_set(err, err_size, "%s", why);
    const char *id = clseg_safetensors_meta(f, KEY_SAVE_ID);
    const char *optim_id = *optim != NULL ? clseg_safetensors_meta(*optim, KEY_SAVE_ID) : NULL;
    if (st == CLSEG_STATUS_SUCCESS && (id == NULL || optim_id == NULL || strcmp(id, optim_id) != 0))
        st = bad(err, err_size, CLSEG_STATUS_BAD_FORMAT,
                 "%s: comes from another save than %s (save ids %s and %s; a save interrupted between the two "
                 "files?): remove it to load the weights without the optimiser's moments",
                 optim_path, path, optim_id ? optim_id : "(none)", id ? id : "(none)");
    static const char *const names[2] = {FIRST_MOMENT, SECOND_MOMENT};
    for (int k = 0; k < 2 && st == CLSEG_STATUS_SUCCESS; k++) {
        const clseg_st_tensor *t = clseg_safetensors_find(*optim, names[k]);
        if (m[k] == NULL)
            continue;
        uint64_t want = clseg_tensor_numel(m[k]);
        if (t == NULL || t->dtype != CLSEG_ST_F32 || t->ndim != 1 || (uint64_t)t->shape[0] != want)
            st = bad(err, err_size, t == NULL ? CLSEG_STATUS_BAD_FORMAT : CLSEG_STATUS_SHAPE_MISMATCH,
                     "%s: '%s' %s (the net has %" PRIu64 " trainable scalars)", optim_path, names[k],
                     t == NULL ? "is missing" : "is not an F32 vector of the net's size", want);
    }
    for (size_t i = 0; i < (*optim != NULL ? clseg_safetensors_count(*optim) : 0) && st == CLSEG_STATUS_SUCCESS;
         i++) {
        const char *t = clseg_safetensors_tensor(*optim, i)->name;
        if (strcmp(t, FIRST_MOMENT) != 0 && strcmp(t, SECOND_MOMENT) != 0)
            st = bad(err, err_size, CLSEG_STATUS_BAD_FORMAT, "%s: unexpected tensor '%.100s'", optim_path, t);
    }
    free(optim_path);
    if (st != CLSEG_STATUS_SUCCESS) {
        clseg_safetensors_close(*optim);
        *optim = NULL;
    }
    return st;
}

/* Copies t's F32 values (no alignment promised in the file) and uploads them into dst. */
static clseg_status upload(clseg_tensor *dst, const clseg_st_tensor *t, float *scratch, const char *path,
                           char *err, size_t err_size)
{
    size_t count = (size_t)(t->nbytes / sizeof(float));
    if (count > 0)
        memcpy(scratch, t->data, (size_t)t->nbytes);
    clseg_status st = clseg_tensor_upload(dst, scratch, count);
    if (st != CLSEG_STATUS_SUCCESS)
        clseg_errbuf_set(err, err_size, "%s: cannot upload '%s' to the device: %s", path, t->name,
                         clseg_status_str(st));
    return st;
}

clseg_status clseg_checkpoint_load(clseg_net *net, const char *path, clseg_train_state *state, char *err,
                                   size_t err_size)
{
    if (net == NULL || path == NULL) {
        clseg_errbuf_set(err, err_size, "clseg_checkpoint_load: net or path is NULL");
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    size_t n = clseg_net_param_count(net);
    for (size_t i = 0; i < n; i++) {
        clseg_param_info info;
        if (clseg_net_param(net, i, &info) != CLSEG_STATUS_SUCCESS || info.value == NULL)
            return bad(err, err_size, CLSEG_STATUS_INVALID_ARGUMENT,
                       "clseg_checkpoint_load: the net is not planned (plan it before loading %s)", path);
    }
    clseg_st_file *f = NULL, *optim = NULL;
    clseg_status st = clseg_safetensors_open(path, 0, &f, err, err_size);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    clseg_train_state got;
    st = read_state(f, path, &got, err, err_size);
    if (st == CLSEG_STATUS_SUCCESS)
        st = check_params(net, f, path, err, err_size);
    clseg_tensor *m[2] = {NULL, NULL};
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_net_optimizer_state(net, &m[0], &m[1]);
    if (st == CLSEG_STATUS_SUCCESS)
        st = open_optimizer(f, path, m, &optim, err, err_size);

    /* everything checked: from here on only the device can fail */
    float *scratch = NULL;
    if (st == CLSEG_STATUS_SUCCESS) {
        uint64_t largest = 0;
        for (size_t i = 0; i < clseg_safetensors_count(f); i++)
            largest = clseg_safetensors_tensor(f, i)->nbytes > largest ? clseg_safetensors_tensor(f, i)->nbytes
                                                                         : largest;
        for (size_t i = 0; optim != NULL && i < clseg_safetensors_count(optim); i++)
            largest = clseg_safetensors_tensor(optim, i)->nbytes > largest
                          ? clseg_safetensors_tensor(optim, i)->nbytes
                          : largest;
        scratch = malloc(largest > 0 ? (size_t)largest : 1);
        if (scratch == NULL)
            st = oom(err, err_size, path);
    }
    for (size_t i = 0; i < n && st == CLSEG_STATUS_SUCCESS; i++) {
        clseg_param_info info;
        clseg_net_param(net, i, &info);
        st = upload(info.value, clseg_safetensors_find(f, info.name), scratch, path, err, err_size);
    }
    static const char *const names[2] = {FIRST_MOMENT, SECOND_MOMENT};
    for (int k = 0; k < 2 && st == CLSEG_STATUS_SUCCESS; k++) {
        if (m[k] == NULL)
            continue;
        if (optim != NULL) {
            st = upload(m[k], clseg_safetensors_find(optim, names[k]), scratch, path, err, err_size);
        } else {
            /* weights without moments (an inference save, a PyTorch state dict): the optimiser
             * starts afresh rather than with moments of other weights */
            st = clseg_fill(clseg_tensor_context(m[k]), m[k], 0.0f);
            if (st != CLSEG_STATUS_SUCCESS)
                clseg_errbuf_set(err, err_size, "%s: cannot clear the optimiser's moments: %s", path,
                                 clseg_status_str(st));
        }
    }
    if (st == CLSEG_STATUS_SUCCESS) {
        if (clseg_safetensors_meta(f, KEY_STEP) == NULL) {
            /* a state dict from PyTorch: its batch norms count the training batches */
            for (size_t i = 0; i < clseg_safetensors_count(f); i++) {
                const clseg_st_tensor *t = clseg_safetensors_tensor(f, i);
                if (t->dtype == CLSEG_ST_I64 && t->ndim == 0 && ends_with(t->name, BN_COUNTER)) {
                    int64_t v;
                    memcpy(&v, t->data, sizeof v);
                    got.step = v > got.step ? v : got.step;
                }
            }
        }
        clseg_net_set_step_count(net, got.step);
        if (state != NULL)
            *state = got;
    }
    free(scratch);
    clseg_safetensors_close(optim);
    clseg_safetensors_close(f);
    return st;
}

clseg_status clseg_checkpoint_meta(const char *path, const char *key, char *value, size_t value_size, char *err,
                                   size_t err_size)
{
    if (path == NULL || key == NULL || value == NULL || value_size == 0) {
        clseg_errbuf_set(err, err_size, "clseg_checkpoint_meta: path, key or value is NULL or empty");
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    value[0] = '\0';
    clseg_st_file *f = NULL;
    clseg_status st = clseg_safetensors_open(path, 1, &f, err, err_size);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    const char *v = clseg_safetensors_meta(f, key);
    if (v == NULL)
        st = bad(err, err_size, CLSEG_STATUS_INVALID_ARGUMENT, "%s: no metadata key '%s'", path, key);
    else if (strlen(v) >= value_size)
        st = bad(err, err_size, CLSEG_STATUS_INVALID_ARGUMENT,
                 "%s: the value of '%s' has %zu bytes, more than the %zu the caller's buffer holds", path, key,
                 strlen(v), value_size - 1);
    else
        memcpy(value, v, strlen(v) + 1);
    clseg_safetensors_close(f);
    return st;
}
