/* libFuzzer harness for the safetensors reader: any bytes must give a clean status, never a
 * crash, a hang or a leak. Built with -Dfuzz=true and clang; see README.md. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clseg_st_file *f = NULL;
    char err[1024];
    if (clseg_safetensors_parse("fuzz-input", data, size, &f, err, sizeof err) == CLSEG_STATUS_SUCCESS) {
        /* reading every tensor's bytes and finding it by name lets the sanitizers see bad offsets */
        unsigned sum = 0;
        for (size_t i = 0; i < clseg_safetensors_count(f); i++) {
            const clseg_st_tensor *t = clseg_safetensors_tensor(f, i);
            if (clseg_safetensors_find(f, t->name) != t)
                __builtin_trap();
            for (uint64_t b = 0; b < t->nbytes; b++)
                sum += ((const unsigned char *)t->data)[b];
        }
        for (size_t i = 0; i < clseg_safetensors_meta_count(f); i++)
            sum += (unsigned)strlen(clseg_safetensors_meta_at(f, i)->value);
        volatile unsigned sink = sum;
        (void)sink;
        clseg_safetensors_close(f);
    } else if (memchr(err, '\0', sizeof err) == NULL || err[0] == '\0') {
        __builtin_trap(); /* a failure must always come with a message */
    }
    return 0;
}
