#include "opencl/profile.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS 1024

typedef struct profile_row {
    char name[96]; /* program/kernel, and the global size with CLSEG_PROFILE_SHAPES=1 */
    unsigned long calls;
    double ms;
} profile_row;

struct clseg_ocl_profile {
    char path[4096], device[256];
    bool shapes; /* one row per kernel and global size: which layer a kernel's time belongs to */
    profile_row rows[MAX_ROWS];
    size_t nrows;
};

clseg_ocl_profile *clseg_ocl_profile_create(const char *device_name, cl_command_queue_properties *queue_props)
{
    const char *path = getenv("CLSEG_PROFILE");
    if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof((clseg_ocl_profile *)0)->path)
        return NULL;
    clseg_ocl_profile *p = calloc(1, sizeof *p);
    if (p != NULL) {
        strcpy(p->path, path);
        snprintf(p->device, sizeof p->device, "%s", device_name);
        const char *shapes = getenv("CLSEG_PROFILE_SHAPES");
        p->shapes = shapes != NULL && strcmp(shapes, "1") == 0;
        *queue_props |= CL_QUEUE_PROFILING_ENABLE;
    }
    return p;
}

void clseg_ocl_profile_record(clseg_ocl_profile *p, const char *program, const char *kernel, cl_uint dims,
                              const size_t *global, cl_event ev)
{
    cl_ulong start = 0, end = 0;
    if (clWaitForEvents(1, &ev) == CL_SUCCESS &&
        clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL) == CL_SUCCESS &&
        clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL) == CL_SUCCESS) {
        char name[96];
        int len = snprintf(name, sizeof name, "%s/%s", program, kernel);
        for (cl_uint d = 0; p->shapes && d < dims && len > 0 && (size_t)len < sizeof name; d++)
            len += snprintf(name + len, sizeof name - (size_t)len, "%c%zu", d == 0 ? ' ' : 'x', global[d]);
        size_t i = 0;
        while (i < p->nrows && strcmp(p->rows[i].name, name) != 0)
            i++;
        if (i == p->nrows && p->nrows < MAX_ROWS)
            strcpy(p->rows[p->nrows++].name, name);
        if (i < p->nrows) {
            p->rows[i].calls++;
            p->rows[i].ms += (double)(end - start) * 1e-6;
        }
    }
    clReleaseEvent(ev);
}

static int by_time(const void *a, const void *b)
{
    double x = ((const profile_row *)a)->ms, y = ((const profile_row *)b)->ms;
    return (x < y) - (x > y);
}

void clseg_ocl_profile_finish(clseg_ocl_profile *p)
{
    if (p == NULL)
        return;
    double total = 0.0;
    for (size_t i = 0; i < p->nrows; i++)
        total += p->rows[i].ms;
    qsort(p->rows, p->nrows, sizeof p->rows[0], by_time);
    FILE *f = fopen(p->path, "w");
    if (f != NULL) {
        fprintf(f, "# clseg kernel profile on %s: %.1f ms of kernels\n", p->device, total);
        fprintf(f, "%-60s %8s %11s %10s %6s\n", "kernel", "calls", "total ms", "ms/call", "share");
        for (size_t i = 0; i < p->nrows; i++)
            fprintf(f, "%-60s %8lu %11.1f %10.3f %5.1f%%\n", p->rows[i].name, p->rows[i].calls, p->rows[i].ms,
                    p->rows[i].ms / (double)p->rows[i].calls, total > 0 ? 100.0 * p->rows[i].ms / total : 0.0);
        fclose(f);
    }
    free(p);
}
