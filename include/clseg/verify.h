/* Checks every registered kernel on a device against the plain-C reference backend. */
#ifndef CLSEG_VERIFY_H
#define CLSEG_VERIFY_H

#include <stdbool.h>

#include "clseg/context.h"

#include "clseg/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clseg_verify_row {
    const char *op;    /* "sum", "conv2d.backward_data", ... */
    const char *shape; /* a readable case description, e.g. "n=1000003" */
    double max_abs_err;
    double max_rel_err;
    double tolerance;   /* the bound the errors were held to (relative, with an absolute floor) */
    bool guards_intact; /* nothing was written outside an output tensor */
    bool pass;
    clseg_status status; /* not success: the op itself failed (see message) */
    const char *message; /* why it failed, or "" */
} clseg_verify_row;

typedef void (*clseg_verify_row_fn)(const clseg_verify_row *row, void *user);

/* Runs every check whose op name contains filter (NULL: all) on dev and on ref, calling
 * on_row once per case. *failed receives the number of failing rows. Returns
 * CLSEG_STATUS_VERIFY_FAILED when any row failed, else success (or the setup's failure). */
CLSEG_API clseg_status clseg_verify(clseg_context *dev, clseg_context *ref, const char *filter, clseg_verify_row_fn on_row,
                          void *user, int *failed);

#ifdef __cplusplus
}
#endif
#endif
