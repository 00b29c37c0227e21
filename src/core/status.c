#include "clseg/status.h"

#include "clseg/clseg.h"

#define S(code, text)                                                                                                  \
    case CLSEG_STATUS_##code:                                                                                          \
        return text " (" #code ")"

const char *clseg_status_str(clseg_status status)
{
    switch (status) {
        S(SUCCESS, "success");
        S(DEVICE_NOT_FOUND, "device not found");
        S(DEVICE_NOT_AVAILABLE, "device not available");
        S(COMPILER_NOT_AVAILABLE, "compiler not available");
        S(MEM_OBJECT_ALLOCATION_FAILURE, "device memory allocation failed");
        S(OUT_OF_RESOURCES, "out of device resources");
        S(OUT_OF_HOST_MEMORY, "out of host memory");
        S(PROFILING_INFO_NOT_AVAILABLE, "profiling info not available");
        S(MEM_COPY_OVERLAP, "memory copy overlap");
        S(IMAGE_FORMAT_MISMATCH, "image format mismatch");
        S(IMAGE_FORMAT_NOT_SUPPORTED, "image format not supported");
        S(BUILD_PROGRAM_FAILURE, "kernel program build failed");
        S(MAP_FAILURE, "map failure");
        S(MISALIGNED_SUB_BUFFER_OFFSET, "misaligned sub-buffer offset");
        S(EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST, "an event in the wait list failed");
        S(COMPILE_PROGRAM_FAILURE, "kernel program compilation failed");
        S(LINKER_NOT_AVAILABLE, "linker not available");
        S(LINK_PROGRAM_FAILURE, "kernel program link failed");
        S(DEVICE_PARTITION_FAILED, "device partition failed");
        S(KERNEL_ARG_INFO_NOT_AVAILABLE, "kernel argument info not available");
        S(INVALID_VALUE, "invalid value");
        S(INVALID_DEVICE_TYPE, "invalid device type");
        S(INVALID_PLATFORM, "invalid platform");
        S(INVALID_DEVICE, "invalid device");
        S(INVALID_CONTEXT, "invalid OpenCL context");
        S(INVALID_QUEUE_PROPERTIES, "invalid queue properties");
        S(INVALID_COMMAND_QUEUE, "invalid command queue");
        S(INVALID_HOST_PTR, "invalid host pointer");
        S(INVALID_MEM_OBJECT, "invalid memory object");
        S(INVALID_IMAGE_FORMAT_DESCRIPTOR, "invalid image format descriptor");
        S(INVALID_IMAGE_SIZE, "invalid image size");
        S(INVALID_SAMPLER, "invalid sampler");
        S(INVALID_BINARY, "invalid program binary");
        S(INVALID_BUILD_OPTIONS, "invalid build options");
        S(INVALID_PROGRAM, "invalid program");
        S(INVALID_PROGRAM_EXECUTABLE, "invalid program executable");
        S(INVALID_KERNEL_NAME, "invalid kernel name");
        S(INVALID_KERNEL_DEFINITION, "invalid kernel definition");
        S(INVALID_KERNEL, "invalid kernel");
        S(INVALID_ARG_INDEX, "invalid kernel argument index");
        S(INVALID_ARG_VALUE, "invalid kernel argument value");
        S(INVALID_ARG_SIZE, "invalid kernel argument size");
        S(INVALID_KERNEL_ARGS, "invalid kernel arguments");
        S(INVALID_WORK_DIMENSION, "invalid work dimension");
        S(INVALID_WORK_GROUP_SIZE, "invalid work-group size");
        S(INVALID_WORK_ITEM_SIZE, "invalid work-item size");
        S(INVALID_GLOBAL_OFFSET, "invalid global offset");
        S(INVALID_EVENT_WAIT_LIST, "invalid event wait list");
        S(INVALID_EVENT, "invalid event");
        S(INVALID_OPERATION, "invalid operation");
        S(INVALID_GL_OBJECT, "invalid GL object");
        S(INVALID_BUFFER_SIZE, "invalid buffer size");
        S(INVALID_MIP_LEVEL, "invalid mip level");
        S(INVALID_GLOBAL_WORK_SIZE, "invalid global work size");
        S(INVALID_PROPERTY, "invalid property");
        S(INVALID_IMAGE_DESCRIPTOR, "invalid image descriptor");
        S(INVALID_COMPILER_OPTIONS, "invalid compiler options");
        S(INVALID_LINKER_OPTIONS, "invalid linker options");
        S(INVALID_DEVICE_PARTITION_COUNT, "invalid device partition count");
        S(PLATFORM_NOT_FOUND, "no OpenCL platform found");
        S(INVALID_ARGUMENT, "invalid argument");
        S(SHAPE_MISMATCH, "shape mismatch");
        S(UNKNOWN_DEVICE, "unknown device");
        S(MEMORY_LIMIT, "memory limit exceeded");
        S(KERNEL_SOURCE, "kernel source unavailable");
        S(IO, "input/output error");
        S(BAD_FORMAT, "bad file format");
        S(NOT_SUPPORTED, "not supported");
        S(CONTEXT_MISMATCH, "objects from different contexts");
        S(VERIFY_FAILED, "verification failed");
        S(INTERRUPTED, "interrupted");
        S(INTERNAL, "internal error");
        S(NOT_FINITE, "a value is NaN or infinite");
    }
    return "unknown status";
}

const char *clseg_version(void) { return CLSEG_VERSION_STRING; }
