#include "tune_search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tune_workload.h"

/* A candidate replaces the best value only when at least this much faster: timings on a busy
 * machine vary by a few percent from run to run, and a change within that is noise. */
#define KEEP_BELOW 0.97
#define MAX_INFOS 128

typedef struct search {
    const cli_common *common;
    bool quick;
    int samples;
    size_t max_wg;
    clseg_tunable_settings best; /* every tunable of every program: the best value so far */
} search;

static clseg_context *open_context(const cli_common *common, const char *tunables, const char *tuned_dir, char *err,
                                   size_t err_size)
{
    clseg_context_options o = clseg_context_options_default();
    o.device = common->device;
    o.tunables = tunables;
    o.tuned_dir = tuned_dir;
    o.log = cli_log_to_stderr;
    o.log_user = (void *)common;
    clseg_context *ctx = NULL;
    return clseg_context_create(&o, &ctx, err, err_size) == CLSEG_STATUS_SUCCESS ? ctx : NULL;
}

clseg_context *tune_context(const cli_common *common, const char *tunables, const char *tuned_dir)
{
    char err[8192];
    clseg_context *ctx = open_context(common, tunables, tuned_dir, err, sizeof err);
    if (ctx == NULL)
        cli_error("%s", err);
    return ctx;
}

void tune_settings_text(const clseg_tunable_settings *s, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < s->count && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s.%s=%ld", i ? "," : "", s->items[i].program,
                                 s->items[i].name, s->items[i].value);
}

/* One value of a tunable under test: a context that built the kernels with it, and its times. */
typedef struct trial {
    long value;
    clseg_context *ctx;
    tune_workload *w;
    double times[16];
    double ms; /* the median; negative after a failure */
    char why[512];
} trial;

static void trial_failed(trial *t, clseg_status st)
{
    const char *msg = t->ctx != NULL ? clseg_context_last_error(t->ctx) : "";
    snprintf(t->why, sizeof t->why, "%s", msg[0] ? msg : clseg_status_str(st));
    t->ms = -1.0;
}

/* A fresh context with the best settings so far but program.name = t->value, its workload, and
 * a warm-up run (which builds the kernels). */
static void trial_start(search *s, const char *program, const char *name, trial *t)
{
    clseg_tunable_setting *b = (clseg_tunable_setting *)clseg_tunable_settings_find(&s->best, program, name);
    long kept = b->value;
    char text[8192];
    b->value = t->value;
    tune_settings_text(&s->best, text, sizeof text);
    b->value = kept;
    t->ms = 0.0;
    if ((t->ctx = open_context(s->common, text, "off", t->why, sizeof t->why)) == NULL) {
        t->ms = -1.0;
        return;
    }
    clseg_status st = tune_workload_create(t->ctx, program, s->quick, &t->w);
    if (st == CLSEG_STATUS_SUCCESS)
        st = tune_workload_run(t->w);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_context_finish(t->ctx);
    if (st != CLSEG_STATUS_SUCCESS)
        trial_failed(t, st);
}

/* Times every trial's workload, taking turns, so that a change in the machine's other load
 * (another program starting or stopping) falls on all of them alike; keeps each one's median. */
static void measure(search *s, const char *program, const char *name, trial *trials, size_t n)
{
    for (size_t i = 0; i < n; i++)
        trial_start(s, program, name, &trials[i]);
    for (int r = 0; r < s->samples; r++)
        for (size_t i = 0; i < n; i++) {
            trial *t = &trials[i];
            if (t->ms < 0)
                continue;
            double t0 = cli_seconds();
            clseg_status st = tune_workload_run(t->w);
            if (st == CLSEG_STATUS_SUCCESS)
                st = clseg_context_finish(t->ctx);
            if (st != CLSEG_STATUS_SUCCESS)
                trial_failed(t, st);
            t->times[r] = cli_seconds() - t0;
        }
    for (size_t i = 0; i < n; i++) {
        trial *t = &trials[i];
        if (t->ms >= 0) {
            qsort(t->times, (size_t)s->samples, sizeof t->times[0], cli_compare_doubles);
            t->ms = 1e3 * t->times[s->samples / 2];
        }
        tune_workload_destroy(t->w);
        clseg_context_destroy(t->ctx);
        t->w = NULL, t->ctx = NULL;
    }
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The values to try for a tunable, by its name or what its name ends with. --quick tries two. */
typedef struct candidate_rule {
    const char *name;
    bool suffix;
    long full[6];
    size_t nfull;
    long quick[2];
} candidate_rule;

/* clang-format off */
static const candidate_rule rules[] = {
    {"GEMM_PACKED", false, {1, 0}, 2, {1, 0}},
    {"GEMM_MR", false, {0, 16, 24}, 3, {0, 16}},
    {"CONV_TILE", false, {0, 1, 2, 3, 4}, 5, {0, 3}},
    {"_SERIAL", true, {1, 0}, 2, {1, 0}},
    {"_VEC", true, {1, 0}, 2, {1, 0}},
    {"CONV_FIXED_TAPS", false, {1, 0}, 2, {1, 0}},
    {"CONV_COL_ROWS", false, {0, 1}, 2, {0, 1}},
    {"_WG", true, {16, 32, 64, 128, 256}, 5, {32, 64}},
    {"_GROUPS", true, {8, 16, 32, 64, 128}, 5, {16, 64}},
    {"_CHUNKS", true, {1, 2, 4, 8, 16, 32}, 6, {4, 16}},
};
/* clang-format on */

/* The candidates of a tunable (work-group sizes only those the device allows); 0: none known. */
static size_t candidates(const search *s, const char *name, long *out)
{
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        const candidate_rule *c = &rules[r];
        if (c->suffix ? !ends_with(name, c->name) : strcmp(name, c->name) != 0)
            continue;
        const long *list = s->quick ? c->quick : c->full;
        size_t n = s->quick ? 2 : c->nfull, count = 0;
        for (size_t i = 0; i < n; i++)
            if (!ends_with(name, "_WG") || (size_t)list[i] <= s->max_wg)
                out[count++] = list[i];
        return count;
    }
    return 0;
}

static clseg_tunable_setting *best_of(search *s, const char *program, const char *name)
{
    return (clseg_tunable_setting *)clseg_tunable_settings_find(&s->best, program, name);
}

/* Why a tunable is not searched now, or NULL: the packed kernels' settings do nothing while the
 * matrix products go to CLBlast. */
static const char *skip_reason(search *s, const char *program, const char *name)
{
    const clseg_tunable_setting *packed = best_of(s, "gemm", "GEMM_PACKED");
    if (strcmp(program, "gemm") == 0 && strcmp(name, "GEMM_PACKED") != 0 && packed != NULL && packed->value == 0)
        return "only used with GEMM_PACKED=1";
    return NULL;
}

/* Times every candidate of one tunable against its current value; leaves the chosen one in
 * s->best. False when even the current value fails. */
static bool search_tunable(search *s, const char *program, const char *name)
{
    long values[8];
    size_t n = candidates(s, name, values);
    clseg_tunable_setting *b = best_of(s, program, name);
    const char *skip = n == 0 ? "no candidates known for it" : skip_reason(s, program, name);
    if (skip != NULL) {
        printf("  %s.%s = %ld (%s)\n", program, name, b->value, skip);
        return true;
    }
    trial trials[9] = {{.value = b->value}};
    size_t count = 1;
    for (size_t i = 0; i < n; i++)
        if (values[i] != b->value)
            trials[count++].value = values[i];
    printf("  %s.%s\n      value   median ms\n", program, name);
    fflush(stdout);
    measure(s, program, name, trials, count);
    if (trials[0].ms < 0) {
        cli_error("tune: the %s kernels fail with their current settings: %s", program, trials[0].why);
        return false;
    }
    size_t best = 0;
    for (size_t i = 0; i < count; i++) {
        if (trials[i].ms < 0) {
            /* e.g. a work-group too large for the kernel's registers or local memory here */
            printf("    %7ld   failed: %.200s\n", trials[i].value, trials[i].why);
            continue;
        }
        printf("    %7ld   %9.3f%s\n", trials[i].value, trials[i].ms, i == 0 ? "   current" : "");
        if (trials[i].ms < trials[best].ms)
            best = i;
    }
    if (trials[best].ms < KEEP_BELOW * trials[0].ms) {
        b->value = trials[best].value;
        printf("    -> %ld (%.1f%% faster than %ld)\n", b->value, 100.0 * (1.0 - trials[best].ms / trials[0].ms),
               trials[0].value);
    } else {
        printf("    -> %ld (kept: nothing was 3%% faster)\n", b->value);
    }
    fflush(stdout);
    return true;
}

/* The built-in values of every tunable: no overrides, no tuned file. */
static bool load_start(search *s, clseg_tunable_info *infos, size_t *count)
{
    clseg_context *ctx = tune_context(s->common, "", "off");
    if (ctx == NULL)
        return false;
    s->max_wg = clseg_context_device(ctx)->max_work_group_size;
    clseg_status st = clseg_context_tunables(ctx, infos, MAX_INFOS, count);
    if (st != CLSEG_STATUS_SUCCESS)
        cli_error("tune: %s", clseg_context_last_error(ctx));
    clseg_context_destroy(ctx);
    if (st != CLSEG_STATUS_SUCCESS)
        return false;
    if (*count > MAX_INFOS)
        *count = MAX_INFOS;
    s->best.count = 0;
    for (size_t i = 0; i < *count; i++) {
        clseg_tunable_setting e = {.value = infos[i].value};
        snprintf(e.program, sizeof e.program, "%s", infos[i].program);
        snprintf(e.name, sizeof e.name, "%s", infos[i].name);
        if (clseg_tunable_settings_put(&s->best, &e) != CLSEG_STATUS_SUCCESS) {
            cli_error("tune: more than %d tunables", CLSEG_MAX_TUNABLE_SETTINGS);
            return false;
        }
    }
    return true;
}

static bool has_workload(const char *program)
{
    for (size_t k = 0; tune_workload_program(k) != NULL; k++)
        if (strcmp(tune_workload_program(k), program) == 0)
            return true;
    return false;
}

/* Whether program is one of the comma-separated names in list. */
static bool in_list(const char *list, const char *program)
{
    size_t n = strlen(program);
    for (const char *p = list; p != NULL && *p != '\0'; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (strncmp(p, program, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return true;
    return false;
}

bool tune_programs_known(const char *list)
{
    for (const char *p = list; p != NULL && *p != '\0'; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
        size_t n = strcspn(p, ",");
        bool found = false;
        const char *program = NULL;
        for (size_t k = 0; !found && (program = tune_workload_program(k)) != NULL; k++)
            found = strlen(program) == n && strncmp(p, program, n) == 0;
        if (!found) {
            char names[256] = "";
            for (size_t k = 0; (program = tune_workload_program(k)) != NULL; k++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? ", " : "", program);
            cli_error("tune: --only: no program '%.*s' to tune (there are: %s)", (int)n, p, names);
            return false;
        }
    }
    return true;
}

bool tune_search(const cli_common *common, bool quick, const char *only, clseg_tunable_settings *chosen)
{
    search *s = calloc(1, sizeof *s);
    clseg_tunable_info *infos = calloc(MAX_INFOS, sizeof *infos);
    size_t count = 0;
    bool ok = s != NULL && infos != NULL;
    if (ok) {
        s->common = common, s->quick = quick, s->samples = quick ? 3 : 7;
        ok = load_start(s, infos, &count);
    }
    chosen->count = 0;
    const char *program = NULL;
    for (size_t k = 0; ok && (program = tune_workload_program(k)) != NULL; k++) {
        if (only != NULL && !in_list(only, program))
            continue;
        printf("\n%s: %s\n", program, tune_workload_describe(program, quick));
        for (size_t i = 0; ok && i < count; i++) {
            if (strcmp(infos[i].program, program) != 0)
                continue;
            long values[8];
            ok = search_tunable(s, program, infos[i].name);
            if (ok && candidates(s, infos[i].name, values) > 0 && skip_reason(s, program, infos[i].name) == NULL)
                clseg_tunable_settings_put(chosen, best_of(s, program, infos[i].name));
        }
    }
    for (size_t i = 0; ok && only == NULL && i < count; i++)
        if (!has_workload(infos[i].program))
            printf("\n%s.%s = %ld (no workload times the program %s: not searched)\n", infos[i].program, infos[i].name,
                   infos[i].value, infos[i].program);
    free(infos);
    free(s);
    return ok;
}
