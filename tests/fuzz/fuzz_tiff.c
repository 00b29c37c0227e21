/* libFuzzer harness for the TIFF reader: any bytes must give a clean status, never a crash, a
 * hang or a leak. Built with -Dfuzz=true and clang; see README.md. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "data/tiff_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tiff_image im;
    char err[1024];
    if (tiff_io_decode(data, size, "fuzz-input", &im, err, sizeof err) == CLSEG_STATUS_SUCCESS) {
        /* reading every pixel lets the sanitizers see a buffer shorter than its dimensions */
        size_t n = (size_t)im.width * im.height * im.channels;
        unsigned sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += im.pixels[i];
        volatile unsigned sink = sum;
        (void)sink;
        tiff_image_free(&im);
    } else if (memchr(err, '\0', sizeof err) == NULL || err[0] == '\0') {
        __builtin_trap(); /* a failure must always come with a message */
    }
    return 0;
}
