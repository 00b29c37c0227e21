/* clseg: encoder/decoder segmentation networks on any OpenCL device. */
#ifndef CLSEG_CLSEG_H
#define CLSEG_CLSEG_H

#include "clseg/context.h"
#include "clseg/data.h"
#include "clseg/device.h"
#include "clseg/ops.h"
#include "clseg/export.h"
#include "clseg/status.h"
#include "clseg/tensor.h"
#include "clseg/verify.h"

#define CLSEG_VERSION_STRING "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif

CLSEG_API const char *clseg_version(void);

#ifdef __cplusplus
}
#endif
#endif
