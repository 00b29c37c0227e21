#include "opencl/program_cache.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "opencl/tunables.h"
#include "util/files.h"
#include "util/hash.h"

#define MAX_KERNELS 64
#define MAX_CACHE_FILE_BYTES ((size_t)256 << 20)
static const char cache_magic[8] = {'C', 'L', 'S', 'E', 'G', 'K', 'C', '\0'};

typedef struct program_entry {
    char name[64];
    cl_program program;
    clseg_tunable_set tunables;
    struct {
        char name[64];
        cl_kernel kernel;
    } kernels[MAX_KERNELS];
    size_t nkernels;
    struct program_entry *next;
} program_entry;

struct clseg_program_cache {
    program_entry *first;
};

clseg_status clseg_program_cache_create(clseg_program_cache **out)
{
    *out = calloc(1, sizeof **out);
    return *out != NULL ? CLSEG_STATUS_SUCCESS : CLSEG_STATUS_OUT_OF_HOST_MEMORY;
}

void clseg_program_cache_destroy(clseg_program_cache *pc)
{
    if (pc == NULL)
        return;
    for (program_entry *e = pc->first, *next; e != NULL; e = next) {
        next = e->next;
        for (size_t k = 0; k < e->nkernels; k++)
            clReleaseKernel(e->kernels[k].kernel);
        clReleaseProgram(e->program);
        free(e);
    }
    free(pc);
}

/* The program's source: from CLSEG_KERNEL_DIR when set (malloc'd into *owned), else embedded. */
static clseg_status load_source(clseg_context *ctx, const char *program, const char **text, size_t *size,
                                unsigned char **owned)
{
    *owned = NULL;
    if (ctx->kernel_dir != NULL) {
        char path[4096], err[512];
        snprintf(path, sizeof path, "%s/%s.cl", ctx->kernel_dir, program);
        if (clseg_read_file(path, (size_t)16 << 20, owned, size, err, sizeof err) != CLSEG_STATUS_SUCCESS)
            return clseg_fail(ctx, CLSEG_STATUS_KERNEL_SOURCE, "kernel program '%s' (CLSEG_KERNEL_DIR): %s", program,
                              err);
        *text = (const char *)*owned;
        return CLSEG_STATUS_SUCCESS;
    }
    for (size_t i = 0; i < clseg_kernel_source_count; i++)
        if (strcmp(clseg_kernel_sources[i].program, program) == 0) {
            *text = clseg_kernel_sources[i].text;
            *size = clseg_kernel_sources[i].size;
            return CLSEG_STATUS_SUCCESS;
        }
    return clseg_fail(ctx, CLSEG_STATUS_KERNEL_SOURCE, "no kernel program named '%s' is built into clseg", program);
}

/* "-cl-std=CL1.2 -DNAME=value ..." */
static void build_options(const clseg_context *ctx, const clseg_tunable_set *t, char *buf, size_t size)
{
    int major = 0, minor = 0;
    size_t used = 0;
    if (sscanf(ctx->device.opencl_c_version, "OpenCL C %d.%d", &major, &minor) == 2 &&
        (major > 1 || (major == 1 && minor >= 2)))
        used = (size_t)snprintf(buf, size, "-cl-std=CL1.2");
    else
        buf[0] = '\0';
    for (size_t i = 0; i < t->count && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s-D%s=%ld", used ? " " : "", t->items[i].name,
                                 t->items[i].value);
}

static void build_log(clseg_context *ctx, cl_program prog, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    if (clGetProgramBuildInfo(prog, ctx->backend->device, CL_PROGRAM_BUILD_LOG, size, buf, &n) != CL_SUCCESS)
        snprintf(buf, size, "(no build log)");
    buf[size - 1] = '\0';
}

/* Loads and builds a cached binary; any mismatch or failure returns NULL (then: recompile). */
static cl_program load_cached(clseg_context *ctx, const char *path, const char *key, const char *options)
{
    unsigned char *data = NULL;
    size_t size = 0;
    if (clseg_read_file(path, MAX_CACHE_FILE_BYTES, &data, &size, NULL, 0) != CLSEG_STATUS_SUCCESS)
        return NULL; /* absent: the ordinary miss */
    cl_program prog = NULL;
    uint32_t version = 0, key_len = 0;
    uint64_t bin_len = 0, checksum = 0;
    size_t head = sizeof cache_magic + 8;
    bool ok = size >= head && memcmp(data, cache_magic, sizeof cache_magic) == 0;
    if (ok) {
        memcpy(&version, data + 8, 4);
        memcpy(&key_len, data + 12, 4);
        ok = version == CLSEG_CACHE_FORMAT_VERSION && key_len == strlen(key) && size - head >= (size_t)key_len + 16 &&
             memcmp(data + head, key, key_len) == 0;
    }
    if (ok) {
        memcpy(&bin_len, data + head + key_len, 8);
        memcpy(&checksum, data + head + key_len + 8, 8);
        const unsigned char *bin = data + head + key_len + 16;
        ok = bin_len == size - head - key_len - 16 && bin_len > 0 &&
             clseg_fnv1a64(bin, (size_t)bin_len, CLSEG_FNV_SEED) == checksum;
        if (ok) {
            size_t len = (size_t)bin_len;
            cl_int bin_status = CL_SUCCESS, rc = CL_SUCCESS;
            prog = clCreateProgramWithBinary(ctx->backend->context, 1, &ctx->backend->device, &len, &bin, &bin_status,
                                             &rc);
            if (rc != CL_SUCCESS || bin_status != CL_SUCCESS ||
                clBuildProgram(prog, 1, &ctx->backend->device, options, NULL, NULL) != CL_SUCCESS) {
                if (prog != NULL)
                    clReleaseProgram(prog);
                prog = NULL;
            }
        }
    }
    free(data);
    if (prog == NULL) {
        ctx->cache.disk_rejected++;
        clseg_log(ctx, CLSEG_LOG_DEBUG, "kernel cache file %s is stale or corrupt: recompiling", path);
    }
    return prog;
}

static void save_cached(clseg_context *ctx, cl_program prog, const char *path, const char *key)
{
    size_t bin_size = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof bin_size, &bin_size, NULL) != CL_SUCCESS ||
        bin_size == 0)
        return;
    unsigned char *bin = malloc(bin_size);
    if (bin == NULL)
        return;
    char err[512];
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == CL_SUCCESS &&
        clseg_mkdir_p(ctx->cache_dir, err, sizeof err) == CLSEG_STATUS_SUCCESS) {
        unsigned char head[16];
        uint32_t version = CLSEG_CACHE_FORMAT_VERSION, key_len = (uint32_t)strlen(key);
        uint64_t len = bin_size, checksum = clseg_fnv1a64(bin, bin_size, CLSEG_FNV_SEED);
        unsigned char tail[16];
        memcpy(head, cache_magic, 8);
        memcpy(head + 8, &version, 4);
        memcpy(head + 12, &key_len, 4);
        memcpy(tail, &len, 8);
        memcpy(tail + 8, &checksum, 8);
        const void *parts[] = {head, key, tail, bin};
        const size_t sizes[] = {sizeof head, key_len, sizeof tail, bin_size};
        if (clseg_write_file_atomic(path, parts, sizes, 4, err, sizeof err) == CLSEG_STATUS_SUCCESS)
            ctx->cache.disk_writes++;
        else
            clseg_log(ctx, CLSEG_LOG_WARN, "kernel cache not written: %s", err);
    } else {
        clseg_log(ctx, CLSEG_LOG_WARN, "kernel cache not written: %s", err);
    }
    free(bin);
}

static clseg_status compile(clseg_context *ctx, const char *name, const char *src, size_t src_size,
                            const char *options, cl_program *out)
{
    cl_int rc = CL_SUCCESS;
    cl_program prog = clCreateProgramWithSource(ctx->backend->context, 1, &src, &src_size, &rc);
    if (rc != CL_SUCCESS)
        return clseg_ocl_fail(ctx, rc, "creating kernel program '%s'", name);
    rc = clBuildProgram(prog, 1, &ctx->backend->device, options, NULL, NULL);
    if (rc != CL_SUCCESS) {
        char log[12000];
        build_log(ctx, prog, log, sizeof log);
        clReleaseProgram(prog);
        return clseg_ocl_fail(ctx, rc, "building kernel program '%s' (options: %s) for %s failed; build log:\n%s",
                              name, options, ctx->device.name, log);
    }
    ctx->cache.compiled++;
    *out = prog;
    return CLSEG_STATUS_SUCCESS;
}

static clseg_status build_entry(clseg_context *ctx, const char *name, program_entry *e)
{
    const char *src = NULL;
    size_t src_size = 0;
    unsigned char *owned = NULL;
    clseg_status st = load_source(ctx, name, &src, &src_size, &owned);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    char err[256], options[2048], key[4096], path[4200];
    const clseg_tunable_layers layers = {ctx->tuned, ctx->overrides};
    st = clseg_tunables_resolve(&ctx->device, &layers, name, src, src_size, &e->tunables, err, sizeof err);
    if (st != CLSEG_STATUS_SUCCESS) {
        free(owned);
        return clseg_fail(ctx, st, "%s", err);
    }
    build_options(ctx, &e->tunables, options, sizeof options);
    const clseg_device_info *d = &ctx->device;
    snprintf(key, sizeof key,
             "clseg kernel cache v%d\nprogram=%s\noptions=%s\ndevice=%s\ndriver=%s\nplatform=%s\nsource=%016" PRIx64
             ":%zu",
             CLSEG_CACHE_FORMAT_VERSION, name, options, d->name, d->driver_version, d->platform_version,
             clseg_fnv1a64(src, src_size, CLSEG_FNV_SEED), src_size);
    if (ctx->cache_dir != NULL) {
        snprintf(path, sizeof path, "%s/%016" PRIx64 ".clbin", ctx->cache_dir,
                 clseg_fnv1a64(key, strlen(key), CLSEG_FNV_SEED));
        e->program = load_cached(ctx, path, key, options);
        if (e->program != NULL)
            ctx->cache.disk_hits++;
    }
    if (e->program == NULL) {
        st = compile(ctx, name, src, src_size, options, &e->program);
        if (st == CLSEG_STATUS_SUCCESS && ctx->cache_dir != NULL)
            save_cached(ctx, e->program, path, key);
    }
    free(owned);
    return st;
}

static clseg_status get_entry(clseg_context *ctx, const char *name, program_entry **out)
{
    clseg_program_cache *pc = ctx->backend->programs;
    for (program_entry *e = pc->first; e != NULL; e = e->next)
        if (strcmp(e->name, name) == 0) {
            ctx->cache.memory_hits++;
            *out = e;
            return CLSEG_STATUS_SUCCESS;
        }
    if (strlen(name) >= sizeof pc->first->name)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "kernel program name '%s' is too long", name);
    program_entry *e = calloc(1, sizeof *e);
    if (e == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_OUT_OF_HOST_MEMORY, "out of host memory");
    strcpy(e->name, name);
    clseg_status st = build_entry(ctx, name, e);
    if (st != CLSEG_STATUS_SUCCESS) {
        free(e);
        return st;
    }
    e->next = pc->first;
    pc->first = e;
    *out = e;
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_program_cache_kernel(clseg_context *ctx, const char *program, const char *kernel, cl_kernel *out)
{
    program_entry *e = NULL;
    clseg_status st = get_entry(ctx, program, &e);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    for (size_t k = 0; k < e->nkernels; k++)
        if (strcmp(e->kernels[k].name, kernel) == 0) {
            *out = e->kernels[k].kernel;
            return CLSEG_STATUS_SUCCESS;
        }
    if (e->nkernels == MAX_KERNELS || strlen(kernel) >= sizeof e->kernels[0].name)
        return clseg_fail(ctx, CLSEG_STATUS_INTERNAL, "kernel '%s' of program '%s': too many kernels or too long a name",
                          kernel, program);
    cl_int rc = CL_SUCCESS;
    cl_kernel k = clCreateKernel(e->program, kernel, &rc);
    if (rc != CL_SUCCESS)
        return clseg_ocl_fail(ctx, rc, "creating kernel '%s' of program '%s'", kernel, program);
    strcpy(e->kernels[e->nkernels].name, kernel);
    e->kernels[e->nkernels++].kernel = k;
    *out = k;
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_program_cache_tunable(clseg_context *ctx, const char *program, const char *name, long *value)
{
    program_entry *e = NULL;
    clseg_status st = get_entry(ctx, program, &e);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    for (size_t i = 0; i < e->tunables.count; i++)
        if (strcmp(e->tunables.items[i].name, name) == 0) {
            *value = e->tunables.items[i].value;
            return CLSEG_STATUS_SUCCESS;
        }
    return clseg_fail(ctx, CLSEG_STATUS_INTERNAL, "program '%s' declares no tunable %s", program, name);
}

clseg_status clseg_program_cache_tunables(clseg_context *ctx, const char *program, const clseg_tunable_set **out)
{
    program_entry *e = NULL;
    clseg_status st = get_entry(ctx, program, &e);
    if (st == CLSEG_STATUS_SUCCESS)
        *out = &e->tunables;
    return st;
}
