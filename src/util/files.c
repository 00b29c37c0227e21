#include "util/files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/internal.h"

clseg_status clseg_mkdir_p(const char *dir, char *err, size_t err_size)
{
    char path[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path) {
        clseg_errbuf_set(err, err_size, "folder name '%s' is empty or too long", dir);
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            clseg_errbuf_set(err, err_size, "cannot create folder '%s': %s", path, strerror(errno));
            return CLSEG_STATUS_IO;
        }
        path[i] = saved;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        clseg_errbuf_set(err, err_size, "'%s' exists and is not a folder", dir);
        return CLSEG_STATUS_IO;
    }
    return CLSEG_STATUS_SUCCESS;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

clseg_status clseg_write_file_atomic(const char *path, const void *const *parts, const size_t *sizes, size_t nparts,
                                     char *err, size_t err_size)
{
    char tmp[4200];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* pid and time make the name unique among concurrent writers of the same file */
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%ld", path, (long)getpid(), (long)ts.tv_nsec);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        clseg_errbuf_set(err, err_size, "file name '%s' is too long", path);
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0) {
        clseg_errbuf_set(err, err_size, "cannot create '%s': %s", tmp, strerror(errno));
        return CLSEG_STATUS_IO;
    }
    const char *step = "write";
    int fail = 0;
    for (size_t i = 0; i < nparts && !fail; i++)
        fail = write_all(fd, parts[i], sizes[i]);
    if (!fail) {
        step = "flush";
        fail = fsync(fd);
    }
    int saved_errno = errno;
    if (close(fd) != 0 && !fail) {
        step = "close";
        fail = -1;
        saved_errno = errno;
    }
    if (!fail) {
        step = "rename";
        fail = rename(tmp, path);
        saved_errno = errno;
    }
    if (fail) {
        unlink(tmp);
        clseg_errbuf_set(err, err_size, "cannot %s '%s': %s", step, path, strerror(saved_errno));
        return CLSEG_STATUS_IO;
    }
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_read_file(const char *path, size_t max_bytes, unsigned char **data, size_t *size, char *err,
                             size_t err_size)
{
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        clseg_errbuf_set(err, err_size, "cannot open '%s': %s", path, strerror(errno));
        return CLSEG_STATUS_IO;
    }
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    clseg_status st = buf != NULL ? CLSEG_STATUS_SUCCESS : CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    while (st == CLSEG_STATUS_SUCCESS) {
        if (len == cap) {
            if (cap >= max_bytes) {
                st = CLSEG_STATUS_BAD_FORMAT;
                break;
            }
            size_t grown_cap = cap > max_bytes / 2 ? max_bytes : cap * 2;
            unsigned char *grown = realloc(buf, grown_cap);
            if (grown == NULL) {
                st = CLSEG_STATUS_OUT_OF_HOST_MEMORY;
                break;
            }
            buf = grown;
            cap = grown_cap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                st = CLSEG_STATUS_IO;
            break;
        }
    }
    int saved_errno = errno;
    fclose(f);
    if (st != CLSEG_STATUS_SUCCESS) {
        if (st == CLSEG_STATUS_BAD_FORMAT)
            clseg_errbuf_set(err, err_size, "'%s' is larger than the %zu bytes expected at most", path, max_bytes);
        else if (st == CLSEG_STATUS_IO)
            clseg_errbuf_set(err, err_size, "cannot read '%s': %s", path, strerror(saved_errno));
        else
            clseg_errbuf_set(err, err_size, "out of host memory reading '%s'", path);
        free(buf);
        return st;
    }
    *data = buf;
    *size = len;
    return CLSEG_STATUS_SUCCESS;
}
