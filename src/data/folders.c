/* Folders and file names of a dataset on disk: listing, .tif endings, and telling a dataset
 * root from one patient's folder. */
#define _XOPEN_SOURCE 700 /* realpath, to name the patient of "." */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/internal.h"
#include "data/dataset.h"

char *data_join_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    if (path != NULL)
        snprintf(path, n, "%s/%s", dir, name);
    return path;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void data_free_names(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

/* The visible entries of dir that are folders (want_dirs) or files, sorted by name. */
clseg_status data_list_dir(const char *dir, bool want_dirs, char ***names_out, size_t *count_out, char *err,
                           size_t err_size)
{
    *names_out = NULL;
    *count_out = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        clseg_errbuf_set(err, err_size, "cannot open folder '%s': %s", dir, strerror(errno));
        return CLSEG_STATUS_IO;
    }
    char **names = NULL;
    size_t count = 0, cap = 0;
    clseg_status st = CLSEG_STATUS_SUCCESS;
    for (struct dirent *e; st == CLSEG_STATUS_SUCCESS && (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        char *path = data_join_path(dir, e->d_name);
        struct stat sb;
        bool keep = path != NULL && stat(path, &sb) == 0 && (want_dirs ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode));
        free(path);
        if (!keep)
            continue;
        char *copy = data_strdup(e->d_name);
        if (copy == NULL || !data_reserve((void **)&names, &cap, count + 1, sizeof *names)) {
            free(copy);
            clseg_errbuf_set(err, err_size, "out of host memory listing '%s'", dir);
            st = CLSEG_STATUS_OUT_OF_HOST_MEMORY;
            break;
        }
        names[count++] = copy;
    }
    closedir(d);
    if (st != CLSEG_STATUS_SUCCESS) {
        data_free_names(names, count);
        return st;
    }
    if (count > 1)
        qsort(names, count, sizeof *names, cmp_names);
    *names_out = names;
    *count_out = count;
    return CLSEG_STATUS_SUCCESS;
}

bool data_ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

/* The length of the .tif or .tiff ending of name's first n characters; 0 when it has none. */
size_t data_tif_ext_len(const char *name, size_t n)
{
    return data_ends_with(name, n, ".tiff") ? 5 : data_ends_with(name, n, ".tif") ? 4 : 0;
}

/* A malloc'd copy of the first n characters of s. */
char *data_copy_prefix(const char *s, size_t n)
{
    char *copy = malloc(n + 1);
    if (copy != NULL) {
        memcpy(copy, s, n);
        copy[n] = '\0';
    }
    return copy;
}

/* The folder part of a file's path ("." when it has none); malloc'd. */
char *data_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return data_strdup(".");
    return data_copy_prefix(path, slash == path ? 1 : (size_t)(slash - path));
}

/* The folder's own name, trailing slashes dropped; ".", ".." and "/" are resolved to a real
 * name (the patient of "clseg data --data ." is the current folder's). malloc'd or NULL. */
char *data_folder_name(const char *dir)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    size_t b = n;
    while (b > 0 && dir[b - 1] != '/')
        b--;
    bool odd = n == b || (n - b == 1 && dir[b] == '.') || (n - b == 2 && dir[b] == '.' && dir[b + 1] == '.') ||
               (n == 1 && dir[0] == '/');
    if (!odd)
        return data_copy_prefix(dir + b, n - b);
    char *real = realpath(dir, NULL);
    if (real == NULL)
        return data_strdup(dir);
    const char *last = strrchr(real, '/');
    char *name = data_strdup(last != NULL && last[1] != '\0' ? last + 1 : real);
    free(real);
    return name;
}

/* Whether dir holds a .tif or .tiff file directly; a folder that cannot be listed holds none. */
static bool holds_tif_files(const char *dir)
{
    char **names = NULL;
    size_t count = 0;
    bool found = false;
    if (data_list_dir(dir, false, &names, &count, NULL, 0) != CLSEG_STATUS_SUCCESS)
        return false;
    for (size_t i = 0; i < count && !found; i++)
        found = data_tif_ext_len(names[i], strlen(names[i])) > 0;
    data_free_names(names, count);
    return found;
}

/* The rule for a folder given as root: it is ONE patient's folder when it holds .tif files
 * itself and none of its subfolders holds any; otherwise it is a dataset root of patient
 * folders (where stray .tif files beside them are ignored, as the kaggle_3m root has none).
 * Subfolders are looked into only when the folder has .tif files, so a dataset root costs
 * nothing extra. */
clseg_status data_is_patient_folder(const char *root, bool *patient, char *err, size_t err_size)
{
    *patient = false;
    if (!holds_tif_files(root))
        return CLSEG_STATUS_SUCCESS;
    char **subdirs = NULL;
    size_t count = 0;
    clseg_status st = data_list_dir(root, true, &subdirs, &count, err, err_size);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    bool nested = false;
    for (size_t i = 0; i < count && !nested && st == CLSEG_STATUS_SUCCESS; i++) {
        char *sub = data_join_path(root, subdirs[i]);
        if (sub == NULL) {
            clseg_errbuf_set(err, err_size, "out of host memory listing '%s'", root);
            st = CLSEG_STATUS_OUT_OF_HOST_MEMORY;
        } else {
            nested = holds_tif_files(sub);
        }
        free(sub);
    }
    data_free_names(subdirs, count);
    *patient = st == CLSEG_STATUS_SUCCESS && !nested;
    return st;
}
