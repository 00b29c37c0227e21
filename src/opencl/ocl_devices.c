#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opencl/ocl.h"

static void get_str(cl_device_id d, cl_device_info what, char *buf, size_t size)
{
    buf[0] = '\0';
    if (clGetDeviceInfo(d, what, size, buf, NULL) != CL_SUCCESS)
        snprintf(buf, size, "?");
    buf[size - 1] = '\0';
}

static bool has_extension(cl_device_id d, const char *ext)
{
    size_t size = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &size) != CL_SUCCESS || size == 0)
        return false;
    char *all = malloc(size + 1);
    if (all == NULL)
        return false;
    bool found = false;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, size, all, NULL) == CL_SUCCESS) {
        all[size] = '\0';
        size_t n = strlen(ext);
        for (const char *p = strstr(all, ext); p != NULL && !found; p = strstr(p + 1, ext))
            found = (p == all || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0');
    }
    free(all);
    return found;
}

static clseg_device_type map_type(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU)
        return CLSEG_DEVICE_TYPE_GPU;
    if (t & CL_DEVICE_TYPE_CPU)
        return CLSEG_DEVICE_TYPE_CPU;
    if (t & CL_DEVICE_TYPE_ACCELERATOR)
        return CLSEG_DEVICE_TYPE_ACCEL;
    return CLSEG_DEVICE_TYPE_OTHER;
}

static void describe(cl_platform_id p, cl_device_id d, int pi, int di, clseg_device_info *info)
{
    memset(info, 0, sizeof *info);
    info->platform_index = pi;
    info->device_index = di;
    cl_device_type type = 0;
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    info->type = map_type(type);
    get_str(d, CL_DEVICE_NAME, info->name, sizeof info->name);
    get_str(d, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
    get_str(d, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
    get_str(d, CL_DEVICE_OPENCL_C_VERSION, info->opencl_c_version, sizeof info->opencl_c_version);
    if (clGetPlatformInfo(p, CL_PLATFORM_NAME, sizeof info->platform_name, info->platform_name, NULL) != CL_SUCCESS)
        snprintf(info->platform_name, sizeof info->platform_name, "?");
    if (clGetPlatformInfo(p, CL_PLATFORM_VERSION, sizeof info->platform_version, info->platform_version, NULL) !=
        CL_SUCCESS)
        snprintf(info->platform_version, sizeof info->platform_version, "?");
    info->platform_name[sizeof info->platform_name - 1] = '\0';
    info->platform_version[sizeof info->platform_version - 1] = '\0';
    cl_uint cu = 0;
    cl_ulong global = 0, max_alloc = 0, local = 0;
    size_t wg = 0;
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global, &global, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL);
    clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local, &local, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
    info->compute_units = cu;
    info->global_mem_bytes = global;
    info->max_alloc_bytes = max_alloc;
    info->local_mem_bytes = local;
    info->max_work_group_size = wg;
    info->fp16 = has_extension(d, "cl_khr_fp16");
    info->fp64 = has_extension(d, "cl_khr_fp64");
}

static clseg_status platforms(cl_platform_id **out, cl_uint *count, char *err, size_t err_size)
{
    *out = NULL;
    *count = 0;
    cl_int rc = clGetPlatformIDs(0, NULL, count);
    if (rc == CL_PLATFORM_NOT_FOUND_KHR || (rc == CL_SUCCESS && *count == 0)) {
        *count = 0;
        return CLSEG_STATUS_SUCCESS; /* no driver installed: an empty list, not an error */
    }
    if (rc != CL_SUCCESS) {
        clseg_errbuf_set(err, err_size, "clGetPlatformIDs failed: %s", clseg_status_str((clseg_status)rc));
        return (clseg_status)rc;
    }
    *out = calloc(*count, sizeof **out);
    if (*out == NULL)
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    rc = clGetPlatformIDs(*count, *out, NULL);
    if (rc != CL_SUCCESS) {
        free(*out);
        *out = NULL;
        clseg_errbuf_set(err, err_size, "clGetPlatformIDs failed: %s", clseg_status_str((clseg_status)rc));
        return (clseg_status)rc;
    }
    return CLSEG_STATUS_SUCCESS;
}

/* Calls visit for every device; stops early when it returns true. */
typedef bool (*device_visitor)(cl_platform_id p, cl_device_id d, int pi, int di, void *user);

static clseg_status each_device(device_visitor visit, void *user, char *err, size_t err_size)
{
    cl_platform_id *plats = NULL;
    cl_uint nplat = 0;
    clseg_status st = platforms(&plats, &nplat, err, err_size);
    bool stop = false;
    for (cl_uint p = 0; st == CLSEG_STATUS_SUCCESS && p < nplat && !stop; p++) {
        cl_uint ndev = 0;
        /* A platform whose devices cannot be listed is skipped, not fatal: others may work. */
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &ndev) != CL_SUCCESS || ndev == 0)
            continue;
        cl_device_id *devs = calloc(ndev, sizeof *devs);
        if (devs == NULL) {
            st = CLSEG_STATUS_OUT_OF_HOST_MEMORY;
            break;
        }
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, ndev, devs, NULL) == CL_SUCCESS)
            for (cl_uint d = 0; d < ndev && !stop; d++)
                stop = visit(plats[p], devs[d], (int)p, (int)d, user);
        free(devs);
    }
    free(plats);
    return st;
}

typedef struct list_state {
    clseg_device_info *items;
    size_t count, cap;
    bool oom;
} list_state;

static bool add_device(cl_platform_id p, cl_device_id d, int pi, int di, void *user)
{
    list_state *s = user;
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        clseg_device_info *grown = realloc(s->items, cap * sizeof *grown);
        if (grown == NULL) {
            s->oom = true;
            return true;
        }
        s->items = grown;
        s->cap = cap;
    }
    describe(p, d, pi, di, &s->items[s->count++]);
    return false;
}

clseg_status clseg_device_list(clseg_device_info **devices, size_t *count, char *err, size_t err_size)
{
    if (devices == NULL || count == NULL) {
        clseg_errbuf_set(err, err_size, "clseg_device_list: NULL argument");
        return CLSEG_STATUS_INVALID_ARGUMENT;
    }
    list_state s = {0};
    clseg_status st = each_device(add_device, &s, err, err_size);
    if (st == CLSEG_STATUS_SUCCESS && s.oom)
        st = CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    if (st != CLSEG_STATUS_SUCCESS) {
        free(s.items);
        *devices = NULL;
        *count = 0;
        return st;
    }
    *devices = s.items;
    *count = s.count;
    return CLSEG_STATUS_SUCCESS;
}

void clseg_device_list_free(clseg_device_info *devices) { free(devices); }

typedef struct find_state {
    int pi, di;
    cl_platform_id platform;
    cl_device_id device;
    bool found;
} find_state;

static bool match_device(cl_platform_id p, cl_device_id d, int pi, int di, void *user)
{
    find_state *s = user;
    if (pi != s->pi || di != s->di)
        return false;
    s->platform = p;
    s->device = d;
    s->found = true;
    return true;
}

clseg_status clseg_ocl_find_device(const clseg_device_info *want, cl_platform_id *platform, cl_device_id *device)
{
    find_state s = {.pi = want->platform_index, .di = want->device_index};
    clseg_status st = each_device(match_device, &s, NULL, 0);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    if (!s.found)
        return CLSEG_STATUS_DEVICE_NOT_FOUND;
    *platform = s.platform;
    *device = s.device;
    return CLSEG_STATUS_SUCCESS;
}
