/* data.csv: optional per-patient metadata; rows are kept as written, keyed by the Patient column. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/internal.h"
#include "data/dataset.h"
#include "util/files.h"

#define MAX_CSV_BYTES ((size_t)64 << 20)

/* Copies field number index of a comma-separated line (no quoting: data.csv has none) into
 * out; false when the line has fewer fields. */
static bool csv_field(const char *line, size_t len, size_t index, char *out, size_t out_size)
{
    size_t start = 0;
    for (size_t f = 0; f < index; f++) {
        const char *comma = memchr(line + start, ',', len - start);
        if (comma == NULL)
            return false;
        start = (size_t)(comma - line) + 1;
    }
    const char *comma = memchr(line + start, ',', len - start);
    size_t end = comma != NULL ? (size_t)(comma - line) : len;
    size_t n = end - start < out_size - 1 ? end - start : out_size - 1;
    memcpy(out, line + start, n);
    out[n] = '\0';
    return true;
}

/* The patient folders called id or id_<something>, as TCGA_CS_5396 names TCGA_CS_5396_20010302. */
static void attach_row(clseg_dataset *ds, const char *id, const char *line, size_t len, bool *oom)
{
    size_t idlen = strlen(id);
    for (size_t p = 0; idlen > 0 && p < ds->patient_count; p++) {
        const char *name = ds->patients[p].name;
        if (ds->patients[p].csv_row != NULL || strncmp(name, id, idlen) != 0 ||
            (name[idlen] != '\0' && name[idlen] != '_'))
            continue;
        char *row = malloc(len + 1);
        if (row == NULL) {
            *oom = true;
            return;
        }
        memcpy(row, line, len);
        row[len] = '\0';
        ds->patients[p].csv_row = row;
    }
}

clseg_status data_read_csv(clseg_dataset *ds, const char *path, char *msg, size_t msg_size)
{
    unsigned char *text = NULL;
    size_t size = 0;
    clseg_status st = clseg_read_file(path, MAX_CSV_BYTES, &text, &size, msg, msg_size);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    const char *p = (const char *)text, *end = p + size;
    size_t column = (size_t)-1;
    bool oom = false;
    for (size_t line_no = 0; p < end && !oom; line_no++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        const char *next = nl != NULL ? nl + 1 : end;
        if (len > 0 && p[len - 1] == '\r')
            len--;
        char field[256];
        if (line_no == 0) {
            for (size_t f = 0; csv_field(p, len, f, field, sizeof field); f++)
                if (strcasecmp(field, "Patient") == 0) {
                    column = f;
                    break;
                }
            if (column == (size_t)-1)
                break;
        } else if (csv_field(p, len, column, field, sizeof field)) {
            attach_row(ds, field, p, len, &oom);
        }
        p = next;
    }
    free(text);
    if (oom) {
        clseg_errbuf_set(msg, msg_size, "%s: out of host memory", path);
        return CLSEG_STATUS_OUT_OF_HOST_MEMORY;
    }
    if (column == (size_t)-1) {
        clseg_errbuf_set(msg, msg_size, "%s: no Patient column in its first line", path);
        return CLSEG_STATUS_BAD_FORMAT;
    }
    return CLSEG_STATUS_SUCCESS;
}
