#include "core/tunable_settings.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
static bool is_ident(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

static bool fail_why(char *why, size_t why_size, const char *msg)
{
    if (why != NULL && why_size > 0)
        snprintf(why, why_size, "%s", msg);
    return false;
}

/* Copies the identifier at *p (advancing it) into buf; false when it is empty or too long. */
static bool take_ident(const char **p, const char *end, char *buf, size_t size)
{
    size_t n = 0;
    while (*p < end && is_ident(**p)) {
        if (n + 1 >= size)
            return false;
        buf[n++] = *(*p)++;
    }
    buf[n] = '\0';
    return n > 0;
}

static const char *skip_blanks(const char *p, const char *end)
{
    while (p < end && is_blank(*p))
        p++;
    return p;
}

bool clseg_tunable_setting_parse(const char *text, size_t len, clseg_tunable_setting *out, char *why, size_t why_size)
{
    const char *p = text, *end = text + len;
    memset(out, 0, sizeof *out);
    p = skip_blanks(p, end);
    if (!take_ident(&p, end, out->program, sizeof out->program))
        return fail_why(why, why_size, "expected program.NAME=value (the program name is missing or too long)");
    if (p == end || *p != '.')
        return fail_why(why, why_size, "expected program.NAME=value (no '.' after the program name)");
    p++;
    if (!take_ident(&p, end, out->name, sizeof out->name))
        return fail_why(why, why_size, "expected program.NAME=value (the tunable name is missing or too long)");
    p = skip_blanks(p, end);
    if (p == end || *p != '=')
        return fail_why(why, why_size, "expected program.NAME=value (no '=' after the tunable name)");
    p = skip_blanks(p + 1, end);
    if (p == end || !isdigit((unsigned char)*p))
        return fail_why(why, why_size, "the value must be a whole number");
    long v = 0;
    while (p < end && isdigit((unsigned char)*p)) {
        v = v * 10 + (*p++ - '0');
        if (v > CLSEG_TUNABLE_VALUE_MAX)
            return fail_why(why, why_size, "the value is too large");
    }
    if (skip_blanks(p, end) != end)
        return fail_why(why, why_size, "unexpected text after the value");
    out->value = v;
    return true;
}

clseg_status clseg_tunable_settings_put(clseg_tunable_settings *s, const clseg_tunable_setting *e)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->items[i].program, e->program) == 0 && strcmp(s->items[i].name, e->name) == 0) {
            s->items[i] = *e;
            return CLSEG_STATUS_SUCCESS;
        }
    if (s->count == CLSEG_MAX_TUNABLE_SETTINGS)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    s->items[s->count++] = *e;
    return CLSEG_STATUS_SUCCESS;
}

const clseg_tunable_setting *clseg_tunable_settings_find(const clseg_tunable_settings *s, const char *program,
                                                         const char *name)
{
    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->items[i].program, program) == 0 && strcmp(s->items[i].name, name) == 0)
            return &s->items[i];
    return NULL;
}

clseg_status clseg_tunable_settings_parse_list(const char *text, clseg_tunable_settings *out, char *err,
                                               size_t err_size)
{
    out->count = 0;
    for (const char *p = text; *p != '\0';) {
        if (*p == ',' || is_blank(*p)) {
            p++;
            continue;
        }
        size_t len = strcspn(p, ", \t\r\n");
        clseg_tunable_setting e;
        char why[128];
        if (!clseg_tunable_setting_parse(p, len, &e, why, sizeof why))
            return clseg_errbuf_fail(err, err_size, CLSEG_STATUS_INVALID_ARGUMENT, "'%.*s': %s", (int)len, p, why);
        if (clseg_tunable_settings_put(out, &e) != CLSEG_STATUS_SUCCESS)
            return clseg_errbuf_fail(err, err_size, CLSEG_STATUS_INVALID_ARGUMENT,
                                     "'%.*s': more than %d tunables given", (int)len, p, CLSEG_MAX_TUNABLE_SETTINGS);
        p += len;
    }
    return CLSEG_STATUS_SUCCESS;
}
