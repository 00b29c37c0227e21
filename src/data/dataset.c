/* Walking a kaggle_3m-style folder: patients, slice/mask pairing, the skip report, data.csv;
 * also a single patient folder or a single image file. */
#include "data/dataset.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/internal.h"
#include "data/tiff_io.h"
#include "util/files.h"

/* No slice file comes near this; it bounds what a stray huge .tif can make the reader load. */
#define MAX_FILE_BYTES ((size_t)1 << 30)

bool data_reserve(void **array, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t grown = *cap > 0 ? *cap : 16;
    while (grown < need)
        grown *= 2;
    if (grown > SIZE_MAX / elem)
        return false;
    void *p = realloc(*array, grown * elem);
    if (p == NULL)
        return false;
    *array = p;
    *cap = grown;
    return true;
}

char *data_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy != NULL)
        memcpy(copy, s, n);
    return copy;
}

static const char *const reason_names[CLSEG_SKIP_REASON_COUNT] = {
    "not a TIFF",           "damaged TIFF",     "unsupported TIFF", "image and mask sizes differ",
    "channel count differs", "no mask",         "no image",         "unexpected file name",
    "empty patient folder", "unreadable",       "bad data.csv",
};

const char *clseg_skip_reason_str(clseg_skip_reason reason)
{
    return (unsigned)reason < CLSEG_SKIP_REASON_COUNT ? reason_names[reason] : "unknown reason";
}

typedef struct load_state {
    clseg_dataset *ds;
    bool strict;
    bool allow_missing_masks;
    char *err;
    size_t err_size;
} load_state;

static clseg_status oom(load_state *ls, const char *what)
{
    clseg_errbuf_set(ls->err, ls->err_size, "out of host memory while loading %s", what);
    return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
}

static clseg_status reason_status(clseg_skip_reason reason)
{
    switch (reason) {
    case CLSEG_SKIP_UNSUPPORTED:
        return CLSEG_STATUS_NOT_SUPPORTED;
    case CLSEG_SKIP_UNREADABLE:
        return CLSEG_STATUS_IO;
    default:
        return CLSEG_STATUS_BAD_FORMAT;
    }
}

/* Records a problem. Strict: it becomes the load's error and its status is returned.
 * Otherwise it joins the skip report and the load goes on (SUCCESS). */
CLSEG_PRINTF(3, 4) static clseg_status problem(load_state *ls, clseg_skip_reason reason, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ls->strict) {
        clseg_errbuf_set(ls->err, ls->err_size, "%s (%s)", msg, clseg_skip_reason_str(reason));
        return reason_status(reason);
    }
    clseg_dataset *ds = ls->ds;
    if (!data_reserve((void **)&ds->skips, &ds->skip_cap, ds->skip_count + 1, sizeof *ds->skips))
        return oom(ls, "the skip report");
    char *copy = data_strdup(msg);
    if (copy == NULL)
        return oom(ls, "the skip report");
    ds->skips[ds->skip_count++] = (data_skip){reason, copy};
    ds->skip_by_reason[reason]++;
    return CLSEG_STATUS_SUCCESS;
}

typedef struct slice_file {
    long number;
    bool mask;
    char *path;
} slice_file;

static int cmp_slice_files(const void *a, const void *b)
{
    const slice_file *x = a, *y = b;
    if (x->number != y->number)
        return x->number < y->number ? -1 : 1;
    if (x->mask != y->mask)
        return (int)x->mask - (int)y->mask;
    return strcmp(x->path, y->path); /* qsort is not stable: names break ties */
}

/* 1: a slice name (number and mask flag set); 0: not a .tif (ignored); -1: a .tif misnamed. */
static int parse_slice_name(const char *name, const char *patient, long *number, bool *mask)
{
    size_t n = strlen(name), ext = data_tif_ext_len(name, n);
    if (ext == 0)
        return 0;
    n -= ext;
    *mask = data_ends_with(name, n, "_mask");
    if (*mask)
        n -= 5;
    size_t digits = 0;
    while (digits < n && name[n - 1 - digits] >= '0' && name[n - 1 - digits] <= '9')
        digits++;
    size_t plen = strlen(patient);
    if (digits == 0 || digits > 6 || n - digits != plen + 1 || name[plen] != '_' || strncmp(name, patient, plen) != 0)
        return -1;
    *number = strtol(name + plen + 1, NULL, 10);
    return 1;
}

static clseg_skip_reason decode_reason(clseg_status st)
{
    return st == CLSEG_STATUS_NOT_SUPPORTED ? CLSEG_SKIP_UNSUPPORTED : CLSEG_SKIP_DAMAGED;
}

/* Reads and decodes one file; a problem with it is recorded and *ok stays false. */
static clseg_status read_tiff(load_state *ls, const char *path, tiff_image *im, bool *ok)
{
    *ok = false;
    unsigned char *bytes = NULL;
    size_t size = 0;
    char msg[1024];
    clseg_status st = clseg_read_file(path, MAX_FILE_BYTES, &bytes, &size, msg, sizeof msg);
    if (st == CLSEG_STATUS_OUT_OF_HOST_MEMORY)
        return oom(ls, path);
    if (st != CLSEG_STATUS_SUCCESS)
        return problem(ls, st == CLSEG_STATUS_IO ? CLSEG_SKIP_UNREADABLE : CLSEG_SKIP_UNSUPPORTED, "%s", msg);
    if (!tiff_io_is_tiff(bytes, size)) {
        free(bytes);
        return problem(ls, CLSEG_SKIP_NOT_TIFF, "%s: not a TIFF file (%zu bytes, no TIFF header)", path, size);
    }
    st = tiff_io_decode(bytes, size, path, im, msg, sizeof msg);
    free(bytes);
    if (st == CLSEG_STATUS_OUT_OF_HOST_MEMORY)
        return oom(ls, path);
    if (st != CLSEG_STATUS_SUCCESS)
        return problem(ls, decode_reason(st), "%s", msg);
    *ok = true;
    return CLSEG_STATUS_SUCCESS;
}

/* Turns mask samples into {0,1} in dst: 0/255 masks split at 128, 0/1 masks at 1. */
static bool binarize_mask(const tiff_image *m, uint8_t *dst)
{
    size_t px = (size_t)m->width * m->height, c = m->channels;
    uint8_t peak = 0;
    for (size_t i = 0; i < px * c; i++)
        peak = m->pixels[i] > peak ? m->pixels[i] : peak;
    uint8_t cut = peak > 1 ? 128 : 1;
    bool any = false;
    for (size_t i = 0; i < px; i++) {
        uint8_t v = 0;
        for (size_t k = 0; k < c; k++)
            v = m->pixels[i * c + k] >= cut ? 1 : v;
        dst[i] = v;
        any = any || v;
    }
    return any;
}

/* Loads an image and its mask (mask_path NULL: no mask file, the slice gets an all-zero mask). */
static clseg_status add_slice(load_state *ls, size_t patient, long number, const char *image_path,
                              const char *mask_path)
{
    clseg_dataset *ds = ls->ds;
    tiff_image im = {0}, mk = {0};
    bool im_ok = false, mk_ok = mask_path == NULL;
    clseg_status st = read_tiff(ls, image_path, &im, &im_ok);
    if (st == CLSEG_STATUS_SUCCESS && mask_path != NULL)
        st = read_tiff(ls, mask_path, &mk, &mk_ok);
    if (st == CLSEG_STATUS_SUCCESS && im_ok && mk_ok) {
        if (mask_path != NULL && (im.width != mk.width || im.height != mk.height)) {
            st = problem(ls, CLSEG_SKIP_SIZE_MISMATCH, "%s: image is %ux%u but its mask %s is %ux%u", image_path,
                         im.width, im.height, mask_path, mk.width, mk.height);
            im_ok = false;
        } else if (ds->channels != 0 && (int)im.channels != ds->channels) {
            st = problem(ls, CLSEG_SKIP_CHANNEL_MISMATCH, "%s: %u channels where the dataset's slices have %d",
                         image_path, im.channels, ds->channels);
            im_ok = false;
        }
    }
    if (st != CLSEG_STATUS_SUCCESS || !im_ok || !mk_ok) {
        tiff_image_free(&im);
        tiff_image_free(&mk);
        return st;
    }
    size_t px = (size_t)im.width * im.height;
    uint8_t *both = realloc(im.pixels, px * (im.channels + 1));
    data_slice s = {.patient = patient,
                    .number = (int)number,
                    .width = im.width,
                    .height = im.height,
                    .has_mask = mask_path != NULL,
                    .image = both,
                    .image_path = data_strdup(image_path),
                    .mask_path = mask_path != NULL ? data_strdup(mask_path) : NULL};
    if (both == NULL || s.image_path == NULL || (mask_path != NULL && s.mask_path == NULL) ||
        !data_reserve((void **)&ds->slices, &ds->slice_cap, ds->slice_count + 1, sizeof *ds->slices)) {
        free(both != NULL ? both : im.pixels);
        free(s.image_path);
        free(s.mask_path);
        tiff_image_free(&mk);
        return oom(ls, image_path);
    }
    s.mask = both + px * im.channels;
    if (mask_path != NULL)
        s.tumour = binarize_mask(&mk, s.mask);
    else
        memset(s.mask, 0, px);
    tiff_image_free(&mk);
    ds->channels = (int)im.channels;
    ds->slices[ds->slice_count++] = s;
    ds->tumour_count += s.tumour;
    return CLSEG_STATUS_SUCCESS;
}

/* Pairs a patient's sorted slice files by number and loads each complete pair. */
static clseg_status load_pairs(load_state *ls, size_t patient, slice_file *files, size_t count)
{
    clseg_status st = CLSEG_STATUS_SUCCESS;
    for (size_t i = 0; i < count && st == CLSEG_STATUS_SUCCESS;) {
        size_t j = i;
        while (j < count && files[j].number == files[i].number)
            j++;
        const char *image = NULL, *mask = NULL;
        bool repeated = false;
        for (size_t k = i; k < j && st == CLSEG_STATUS_SUCCESS; k++) {
            const char **slot = files[k].mask ? &mask : &image;
            if (*slot != NULL) { /* which of the two is meant is anyone's guess: skip the slice */
                repeated = true;
                st = problem(ls, CLSEG_SKIP_BAD_NAME, "%s: slice number %ld repeats %s", files[k].path,
                             files[k].number, *slot);
            }
            *slot = files[k].path;
        }
        if (st == CLSEG_STATUS_SUCCESS && !repeated) {
            if (image == NULL)
                st = problem(ls, CLSEG_SKIP_NO_IMAGE, "%s: mask without its image", mask);
            else if (mask == NULL && !ls->allow_missing_masks)
                st = problem(ls, CLSEG_SKIP_NO_MASK, "%s: image without its _mask file", image);
            else
                st = add_slice(ls, patient, files[i].number, image, mask);
        }
        i = j;
    }
    return st;
}

static void free_slice_files(slice_file *files, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(files[i].path);
    free(files);
}

/* Records the patient whose slices are first .. the last one loaded, when it has any. */
static clseg_status add_patient(load_state *ls, const char *name, size_t first, const char *where)
{
    clseg_dataset *ds = ls->ds;
    if (ds->slice_count == first)
        return CLSEG_STATUS_SUCCESS;
    data_patient p = {data_strdup(name), first, ds->slice_count - first, 0, NULL};
    for (size_t i = first; i < ds->slice_count; i++)
        p.tumour += ds->slices[i].tumour;
    if (p.name == NULL ||
        !data_reserve((void **)&ds->patients, &ds->patient_cap, ds->patient_count + 1, sizeof *ds->patients)) {
        free(p.name);
        return oom(ls, where);
    }
    ds->patients[ds->patient_count++] = p;
    return CLSEG_STATUS_SUCCESS;
}

/* The slices of the patient folder dir, whose files are named after name. */
static clseg_status load_patient(load_state *ls, const char *dir, const char *name)
{
    clseg_dataset *ds = ls->ds;
    char **names = NULL;
    size_t count = 0;
    char msg[1024];
    clseg_status st = data_list_dir(dir, false, &names, &count, msg, sizeof msg);
    if (st != CLSEG_STATUS_SUCCESS)
        return st == CLSEG_STATUS_IO ? problem(ls, CLSEG_SKIP_UNREADABLE, "%s", msg) : oom(ls, dir);
    slice_file *files = calloc(count > 0 ? count : 1, sizeof *files);
    size_t nfiles = 0, misnamed = 0;
    if (files == NULL)
        st = oom(ls, dir);
    for (size_t i = 0; i < count && st == CLSEG_STATUS_SUCCESS; i++) {
        slice_file f = {0, false, data_join_path(dir, names[i])};
        if (f.path == NULL) {
            st = oom(ls, dir);
            break;
        }
        int kind = parse_slice_name(names[i], name, &f.number, &f.mask);
        if (kind == 1) {
            files[nfiles++] = f;
            continue;
        }
        misnamed += kind < 0;
        if (kind < 0)
            st = problem(ls, CLSEG_SKIP_BAD_NAME, "%s: not named %s_<N>.tif or %s_<N>_mask.tif", f.path, name,
                         name);
        free(f.path);
    }
    data_free_names(names, count);
    if (st == CLSEG_STATUS_SUCCESS && nfiles == 0 && misnamed == 0)
        st = problem(ls, CLSEG_SKIP_EMPTY_FOLDER, "%s: patient folder without slices", dir);
    size_t first = ds->slice_count;
    if (st == CLSEG_STATUS_SUCCESS && nfiles > 0) {
        qsort(files, nfiles, sizeof *files, cmp_slice_files);
        st = load_pairs(ls, ds->patient_count, files, nfiles);
    }
    free_slice_files(files, nfiles);
    if (st == CLSEG_STATUS_SUCCESS)
        st = add_patient(ls, name, first, dir);
    return st;
}

/* data.csv is optional; a broken one is a problem like a broken slice. */
static clseg_status load_csv(load_state *ls, const char *root)
{
    char *path = data_join_path(root, "data.csv");
    if (path == NULL)
        return oom(ls, root);
    struct stat sb;
    clseg_status st = CLSEG_STATUS_SUCCESS;
    if (stat(path, &sb) == 0) {
        char msg[1024];
        st = data_read_csv(ls->ds, path, msg, sizeof msg);
        if (st == CLSEG_STATUS_OUT_OF_HOST_MEMORY)
            st = oom(ls, path);
        else if (st != CLSEG_STATUS_SUCCESS)
            st = problem(ls, st == CLSEG_STATUS_IO ? CLSEG_SKIP_UNREADABLE : CLSEG_SKIP_BAD_CSV, "%s", msg);
    }
    free(path);
    return st;
}

/* Every patient folder under root, then data.csv. */
static clseg_status load_root(load_state *ls, const char *root, size_t *folders)
{
    char **names = NULL;
    size_t count = 0;
    clseg_status st = data_list_dir(root, true, &names, &count, ls->err, ls->err_size);
    for (size_t i = 0; i < count && st == CLSEG_STATUS_SUCCESS; i++) {
        char *dir = data_join_path(root, names[i]);
        st = dir != NULL ? load_patient(ls, dir, names[i]) : oom(ls, root);
        free(dir);
    }
    data_free_names(names, count);
    *folders = count;
    return st == CLSEG_STATUS_SUCCESS ? load_csv(ls, root) : st;
}

/* root as one patient's folder, named after it. */
static clseg_status load_patient_folder(load_state *ls, const char *root)
{
    char *name = data_folder_name(root);
    clseg_status st = name != NULL ? load_patient(ls, root, name) : oom(ls, root);
    free(name);
    return st;
}

/* A one-slice dataset: the image at path (a .tif whose extension is ext characters long), its
 * mask <stem>_mask.tif beside it, N from a trailing _<N> of its name (else 0), and the patient
 * named after its folder. */
static clseg_status load_image_file(load_state *ls, const char *path, size_t ext)
{
    size_t stem = strlen(path) - ext;
    const char *base = strrchr(path, '/');
    size_t base_at = base != NULL ? (size_t)(base - path) + 1 : 0;
    size_t digits = 0;
    while (digits < stem - base_at && path[stem - 1 - digits] >= '0' && path[stem - 1 - digits] <= '9')
        digits++;
    long number = 0;
    if (digits > 0 && digits <= 6 && stem - digits > base_at && path[stem - digits - 1] == '_')
        number = strtol(path + stem - digits, NULL, 10);
    /* the mask's ending as the image's first (.TIF beside .TIF), then the usual spellings */
    const char *endings[] = {path + stem, ".tif", ".tiff"};
    char *mask = NULL, *first_try = NULL;
    clseg_status st = CLSEG_STATUS_SUCCESS;
    for (size_t k = 0; k < 3 && mask == NULL && st == CLSEG_STATUS_SUCCESS; k++) {
        size_t n = stem + strlen("_mask") + strlen(endings[k]) + 1;
        char *candidate = malloc(n);
        if (candidate == NULL) {
            st = oom(ls, path);
            break;
        }
        snprintf(candidate, n, "%.*s_mask%s", (int)stem, path, endings[k]);
        struct stat sb;
        if (stat(candidate, &sb) == 0 && S_ISREG(sb.st_mode))
            mask = candidate;
        else if (first_try == NULL)
            first_try = candidate;
        else
            free(candidate);
    }
    char *dir = st == CLSEG_STATUS_SUCCESS ? data_parent_dir(path) : NULL;
    char *name = dir != NULL ? data_folder_name(dir) : NULL;
    if (st == CLSEG_STATUS_SUCCESS && name == NULL)
        st = oom(ls, path);
    if (st == CLSEG_STATUS_SUCCESS) {
        if (mask == NULL && !ls->allow_missing_masks)
            st = problem(ls, CLSEG_SKIP_NO_MASK, "%s: image without its _mask file (no %s)", path, first_try);
        else
            st = add_slice(ls, 0, number, path, mask);
    }
    if (st == CLSEG_STATUS_SUCCESS)
        st = add_patient(ls, name, 0, path);
    free(name);
    free(dir);
    free(mask);
    free(first_try);
    return st;
}

clseg_status clseg_dataset_load(const char *root, const clseg_dataset_options *opts, clseg_dataset **out, char *err,
                                size_t err_size)
{
    if (out == NULL || root == NULL || root[0] == '\0') {
        clseg_errbuf_set(err, err_size, "clseg_dataset_load: %s", out == NULL ? "out is NULL" : "no folder given");
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    *out = NULL;
    struct stat sb;
    if (stat(root, &sb) != 0) {
        clseg_errbuf_set(err, err_size, "dataset folder '%s': %s", root, strerror(errno));
        return CLSEG_STATUS_IO;
    }
    size_t n = strlen(root), ext = 0;
    bool folder = S_ISDIR(sb.st_mode), patient = false;
    if (!folder) {
        ext = S_ISREG(sb.st_mode) ? data_tif_ext_len(root, n) : 0;
        if (ext == 0) {
            clseg_errbuf_set(err, err_size, "dataset folder '%s': not a folder, nor a .tif image", root);
            return CLSEG_STATUS_IO;
        }
        if (data_ends_with(root, n - ext, "_mask")) {
            clseg_errbuf_set(err, err_size,
                             "'%s' is a mask: give its image (the name without _mask) or the folder holding it", root);
            return CLSEG_STATUS_INVALID_ARGUMENT;
        }
    } else {
        clseg_status st = data_is_patient_folder(root, &patient, err, err_size);
        if (st != CLSEG_STATUS_SUCCESS)
            return st;
    }
    clseg_dataset *ds = calloc(1, sizeof *ds);
    if (ds == NULL) {
        clseg_errbuf_set(err, err_size, "out of host memory loading '%s'", root);
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    load_state ls = {ds, opts != NULL && opts->strict, opts != NULL && opts->allow_missing_masks, err, err_size};
    size_t folders = 0;
    clseg_status st = !folder ? load_image_file(&ls, root, ext)
                      : patient ? load_patient_folder(&ls, root)
                                : load_root(&ls, root, &folders);
    if (st == CLSEG_STATUS_SUCCESS && ds->slice_count == 0) {
        const char *first = ds->skip_count > 0 ? ds->skips[0].message : "";
        if (!folder)
            clseg_errbuf_set(err, err_size, "image '%s': not usable (%s)", root, first);
        else if (patient)
            clseg_errbuf_set(err, err_size, "patient folder '%s': no usable slices (%zu problems%s%s)", root,
                             ds->skip_count, ds->skip_count > 0 ? ", first: " : "", first);
        else
            clseg_errbuf_set(err, err_size,
                             "dataset folder '%s': no usable slices (%zu patient folders, %zu problems%s%s)", root,
                             folders, ds->skip_count, ds->skip_count > 0 ? ", first: " : "", first);
        st = CLSEG_STATUS_BAD_FORMAT;
    }
    if (st != CLSEG_STATUS_SUCCESS) {
        clseg_dataset_destroy(ds);
        return st;
    }
    *out = ds;
    return CLSEG_STATUS_SUCCESS;
}

void clseg_dataset_destroy(clseg_dataset *ds)
{
    if (ds == NULL)
        return;
    for (size_t i = 0; i < ds->slice_count; i++) {
        free(ds->slices[i].image);
        free(ds->slices[i].image_path);
        free(ds->slices[i].mask_path);
    }
    for (size_t i = 0; i < ds->patient_count; i++) {
        free(ds->patients[i].name);
        free(ds->patients[i].csv_row);
    }
    for (size_t i = 0; i < ds->skip_count; i++)
        free(ds->skips[i].message);
    free(ds->slices);
    free(ds->patients);
    free(ds->skips);
    free(ds);
}

size_t clseg_dataset_patient_count(const clseg_dataset *ds) { return ds->patient_count; }
size_t clseg_dataset_slice_count(const clseg_dataset *ds) { return ds->slice_count; }
size_t clseg_dataset_tumour_slice_count(const clseg_dataset *ds) { return ds->tumour_count; }
int clseg_dataset_channels(const clseg_dataset *ds) { return ds->channels; }

clseg_status clseg_dataset_patient(const clseg_dataset *ds, size_t index, clseg_patient_info *info)
{
    if (index >= ds->patient_count || info == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    const data_patient *p = &ds->patients[index];
    *info = (clseg_patient_info){p->name, p->first, p->count, p->tumour, p->csv_row};
    return CLSEG_STATUS_SUCCESS;
}

size_t clseg_dataset_find_patient(const clseg_dataset *ds, const char *name)
{
    for (size_t i = 0; name != NULL && i < ds->patient_count; i++)
        if (strcmp(ds->patients[i].name, name) == 0)
            return i;
    return (size_t)-1;
}

clseg_status clseg_dataset_slice(const clseg_dataset *ds, size_t index, clseg_slice_info *info)
{
    if (index >= ds->slice_count || info == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    const data_slice *s = &ds->slices[index];
    *info = (clseg_slice_info){s->patient, s->number, (int)s->width, (int)s->height, ds->channels, s->tumour,
                               s->has_mask, s->image, s->mask, s->image_path, s->mask_path};
    return CLSEG_STATUS_SUCCESS;
}

size_t clseg_dataset_skipped(const clseg_dataset *ds) { return ds->skip_count; }

size_t clseg_dataset_skipped_by_reason(const clseg_dataset *ds, clseg_skip_reason reason)
{
    return (unsigned)reason < CLSEG_SKIP_REASON_COUNT ? ds->skip_by_reason[reason] : 0;
}

const char *clseg_dataset_skip_message(const clseg_dataset *ds, size_t i, clseg_skip_reason *reason)
{
    if (i >= ds->skip_count)
        return NULL;
    if (reason != NULL)
        *reason = ds->skips[i].reason;
    return ds->skips[i].message;
}
