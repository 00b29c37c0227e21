/* clseg: encoder/decoder segmentation networks on any OpenCL device. */
#ifndef CLSEG_CLSEG_H
#define CLSEG_CLSEG_H

#include "clseg/activation.h"
#include "clseg/checkpoint.h"
#include "clseg/context.h"
#include "clseg/conv.h"
#include "clseg/data.h"
#include "clseg/device.h"
#include "clseg/evaluate.h"
#include "clseg/export.h"
#include "clseg/loss.h"
#include "clseg/model.h"
#include "clseg/net.h"
#include "clseg/norm.h"
#include "clseg/ops.h"
#include "clseg/optim.h"
#include "clseg/picture.h"
#include "clseg/pool.h"
#include "clseg/status.h"
#include "clseg/tensor.h"
#include "clseg/train.h"
#include "clseg/upsample.h"
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
