/* reports/model.c - reads a run database into an rm_run (reports/model.h):
 * one pass over samples (per-site estimates and in-use history), then the
 * small tables (meta, stacks, frames, mappings, gc_cycles, heap_series,
 * tuner_events).  No indexes are needed and the database is not written. */
#include "reports/model.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---- */

static int64_t col_i64(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return RM_NONE;
    return sqlite3_column_int64(st, i);
}

static char *col_str(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return NULL;
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? cli_xstrdup((const char *)t) : NULL;
}

static int64_t parse_i64(const char *s)
{
    if (!s || !*s)
        return RM_NONE;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return RM_NONE;
    return (int64_t)v;
}

static int prepare(gcts_db *db, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(gcts_sqlite(db), sql, -1, st, NULL) != SQLITE_OK) {
        cli_error(gcts_path(db), "database error: %s", sqlite3_errmsg(gcts_sqlite(db)));
        *st = NULL;
        return -1;
    }
    return 0;
}

/* Steps st; returns 1 for a row, 0 when done, -1 after printing an error. */
static int step(gcts_db *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    cli_error(gcts_path(db), "database error: %s", sqlite3_errmsg(gcts_sqlite(db)));
    return -1;
}

static void add_seen(int64_t *seen, int *n, int64_t v)
{
    for (int i = 0; i < *n; i++)
        if (seen[i] == v)
            return;
    if (*n < RM_MAX_SEEN)
        seen[(*n)++] = v;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int64_t norm_limit(int64_t v)
{
    /* Go's "no limit" is math.MaxInt64; the store uses -1 or NULL. */
    return (v < 0 || v >= INT64_MAX / 2) ? -1 : v;
}

/* ---- meta ---- */

static void parse_argv(gcts_db *db, rm_run *run)
{
    sqlite3 *s = gcts_sqlite(db);
    sqlite3_stmt *st = NULL;
    if (!run->argv_raw)
        return;
    int ok = 0;
    if (sqlite3_prepare_v2(s, "SELECT json_valid(?1) AND json_type(?1) = 'array'", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, run->argv_raw, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            ok = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (ok && sqlite3_prepare_v2(s, "SELECT value FROM json_each(?1)", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, run->argv_raw, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const unsigned char *t = sqlite3_column_text(st, 0);
            run->argv = cli_xrealloc(run->argv, (size_t)(run->argc + 1) * sizeof *run->argv);
            run->argv[run->argc++] = cli_xstrdup(t ? (const char *)t : "");
        }
        sqlite3_finalize(st);
        return;
    }
    sqlite3_finalize(st);
    /* Not a JSON array: one string. */
    run->argv = cli_xmalloc(sizeof *run->argv);
    run->argv[0] = cli_xstrdup(run->argv_raw);
    run->argc = 1;
}

static int load_meta(gcts_db *db, rm_run *run)
{
    sqlite3_stmt *st;
    if (prepare(db, "SELECT key, value FROM meta", &st) < 0)
        return -1;
    int r;
    while ((r = step(db, st)) == 1) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        const char *v = (const char *)sqlite3_column_text(st, 1);
        if (!k || !v)
            continue;
        if (!strcmp(k, "program")) { free(run->program); run->program = cli_xstrdup(v); }
        else if (!strcmp(k, "backend")) { free(run->backend); run->backend = cli_xstrdup(v); }
        else if (!strcmp(k, "host")) { free(run->host); run->host = cli_xstrdup(v); }
        else if (!strcmp(k, "source")) { free(run->source); run->source = cli_xstrdup(v); }
        else if (!strcmp(k, "capabilities")) { free(run->capabilities); run->capabilities = cli_xstrdup(v); }
        else if (!strcmp(k, "argv")) { free(run->argv_raw); run->argv_raw = cli_xstrdup(v); }
        else if (!strcmp(k, "pid")) run->pid = parse_i64(v);
        else if (!strcmp(k, "sample_rate")) run->sample_rate = parse_i64(v);
        else if (!strcmp(k, "start_time_ns")) run->start_time_ns = parse_i64(v);
        else if (!strcmp(k, "duration_ns")) run->duration_ns = parse_i64(v);
        else if (!strcmp(k, "dropped_samples")) run->dropped_samples = parse_i64(v);
        else if (!strcmp(k, "dropped_frees")) run->dropped_frees = parse_i64(v);
        else if (!strcmp(k, "clean_exit")) run->clean_exit = parse_i64(v);
        else if (!strcmp(k, "dropped_gc_cycles")) run->dropped_gc_cycles = parse_i64(v);
        else if (!strcmp(k, "dropped_tuner_events")) run->dropped_tuner_events = parse_i64(v);
        else if (!strcmp(k, "gogc")) {
            if (!strcmp(v, "off"))
                add_seen(run->gogc_seen, &run->ngogc, -1);
            else if (parse_i64(v) != RM_NONE)
                add_seen(run->gogc_seen, &run->ngogc, parse_i64(v));
        } else if (!strcmp(k, "gomemlimit")) {
            if (parse_i64(v) != RM_NONE)
                add_seen(run->limit_seen, &run->nlimit, norm_limit(parse_i64(v)));
        }
    }
    sqlite3_finalize(st);
    if (r < 0)
        return -1;
    parse_argv(db, run);
    return 0;
}

/* ---- samples: one pass ---- */

/* Index of the window end t_k = k*T/W (k = 1..W) at or after time t;
 * W + 1 when t > T. */
static int window_at_or_after(double t, double T, int W)
{
    if (t <= 0)
        return 1;
    double k = ceil(t * W / T);
    if (!(k >= 1))
        return 1;
    if (k > W)
        return W + 1;
    return (int)k;
}

/* The windows [kA, kF] (1..W) at whose ends a sample allocated at t and
 * freed at f (freed = 0: never) is in use; kA > kF when at none.  A freed
 * sample is never in use at the end (t_W), even when f is after T. */
static void inuse_windows(int64_t t, int freed, int64_t f, double T, int W, int *kA, int *kF)
{
    *kA = window_at_or_after((double)t, T, W);
    if (*kA > W)
        *kA = W;
    if (!freed) {
        *kF = W;
    } else {
        *kF = window_at_or_after((double)f, T, W) - 1;  /* last t_k < f */
        if (*kF > W - 1)
            *kF = W - 1;
    }
}

/* T of the leak windows: meta duration_ns, else the time of the last sample
 * written (rowid order), else 1.  0 or -1 (error printed). */
static int end_time(gcts_db *db, rm_run *run, int64_t *T)
{
    *T = 1;
    if (run->duration_ns != RM_NONE && run->duration_ns > 0) {
        *T = run->duration_ns;
        return 0;
    }
    sqlite3_stmt *st;
    if (prepare(db, "SELECT time_ns FROM samples ORDER BY rowid DESC LIMIT 1", &st) < 0)
        return -1;
    int r = step(db, st);
    if (r == 1 && sqlite3_column_int64(st, 0) > 0)
        *T = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return r < 0 ? -1 : 0;
}

/* rises and leak from the in-use history (model.h states the rule). */
static void judge_leak(rm_site *s)
{
    s->rises = 0;
    for (int k = 1; k <= RM_WINDOWS; k++) {
        /* a rise bigger than rounding noise */
        if (s->inuse_at[k] > s->inuse_at[k - 1] + 0.5)
            s->rises++;
    }
    double end = s->inuse_at[RM_WINDOWS];
    s->leak = s->rises >= RM_LEAK_MIN_RISES && s->samples >= RM_LEAK_MIN_SAMPLES &&
              s->a_bytes > 0 && end >= RM_LEAK_MIN_RETAINED * s->a_bytes;
}

static int load_samples(gcts_db *db, rm_run *run)
{
    int64_t T;
    if (end_time(db, run, &T) < 0)
        return -1;
    run->end_ns = T;
    double Td = (double)T;

    sqlite3_stmt *st;
    if (prepare(db, "SELECT stack_id, size, weight, time_ns, freed_ns FROM samples", &st) < 0)
        return -1;
    cli_map idx;
    cli_map_init(&idx);
    size_t cap = 0;
    int64_t last_id = 0;
    size_t last = (size_t)-1;
    int r;
    /* deltas per site at window index, in inuse_at[] until the prefix sum */
    while ((r = step(db, st)) == 1) {
        int64_t sid = sqlite3_column_int64(st, 0);
        double size = sqlite3_column_double(st, 1);
        double w = sqlite3_column_double(st, 2);
        int64_t t = sqlite3_column_int64(st, 3);
        int freed = sqlite3_column_type(st, 4) != SQLITE_NULL;
        int64_t f = freed ? sqlite3_column_int64(st, 4) : 0;
        run->samples++;
        if (!isfinite(w) || w < 0)
            w = 0;
        if (!isfinite(size) || size < 0)
            size = 0;

        size_t i;
        if (last != (size_t)-1 && sid == last_id) {
            i = last;
        } else {
            size_t *p = cli_map_get(&idx, sid);
            if (p) {
                i = *p;
            } else {
                if (run->nsites == cap) {
                    cap = cap ? cap * 2 : 256;
                    run->sites = cli_xrealloc(run->sites, cap * sizeof *run->sites);
                }
                i = run->nsites++;
                memset(&run->sites[i], 0, sizeof run->sites[i]);
                run->sites[i].stack_id = sid;
                cli_map_put(&idx, sid, i);
            }
            last = i;
            last_id = sid;
        }
        rm_site *s = &run->sites[i];
        double b = w * size;
        s->samples++;
        s->a_bytes += b;
        s->a_objs += w;
        if (!freed) {
            s->i_bytes += b;
            s->i_objs += w;
        }
        /* in use at t_k for kA <= k <= kF */
        int kA, kF;
        inuse_windows(t, freed, f, Td, RM_WINDOWS, &kA, &kF);
        if (kA <= kF) {
            s->inuse_at[kA] += b;
            if (kF + 1 <= RM_WINDOWS)
                s->inuse_at[kF + 1] -= b;
        }
    }
    sqlite3_finalize(st);
    cli_map_free(&idx);
    if (r < 0)
        return -1;

    for (size_t i = 0; i < run->nsites; i++) {
        rm_site *s = &run->sites[i];
        s->alloc_bytes = cli_round(s->a_bytes);
        s->alloc_objects = cli_round(s->a_objs);
        s->inuse_bytes = cli_round(s->i_bytes);
        s->inuse_objects = cli_round(s->i_objs);
        run->alloc_bytes = cli_add(run->alloc_bytes, s->alloc_bytes);
        run->alloc_objects = cli_add(run->alloc_objects, s->alloc_objects);
        run->inuse_bytes = cli_add(run->inuse_bytes, s->inuse_bytes);
        run->inuse_objects = cli_add(run->inuse_objects, s->inuse_objects);
        double acc = 0;
        s->inuse_at[0] = 0;
        for (int k = 1; k <= RM_WINDOWS; k++) {
            acc += s->inuse_at[k];
            s->inuse_at[k] = acc;
        }
        judge_leak(s);
        if (s->leak)
            run->nleaks++;
    }
    return 0;
}

int rm_history(gcts_db *db, const rm_run *run, const int64_t *stack_ids, size_t nsel, int W,
               double *inuse, double *alloc)
{
    if (W < 1)
        return -1;
    size_t stride = (size_t)W + 1;
    if (inuse)
        memset(inuse, 0, nsel * stride * sizeof *inuse);
    if (alloc)
        memset(alloc, 0, stride * sizeof *alloc);
    cli_map idx;
    cli_map_init(&idx);
    for (size_t i = 0; i < nsel; i++)
        if (!cli_map_get(&idx, stack_ids[i]))
            cli_map_put(&idx, stack_ids[i], i);
    double Td = (double)(run->end_ns > 0 ? run->end_ns : 1);
    sqlite3_stmt *st;
    if (prepare(db, "SELECT stack_id, size, weight, time_ns, freed_ns FROM samples", &st) < 0) {
        cli_map_free(&idx);
        return -1;
    }
    int r;
    while ((r = step(db, st)) == 1) {
        double size = sqlite3_column_double(st, 1);
        double w = sqlite3_column_double(st, 2);
        int64_t t = sqlite3_column_int64(st, 3);
        int freed = sqlite3_column_type(st, 4) != SQLITE_NULL;
        int64_t f = freed ? sqlite3_column_int64(st, 4) : 0;
        if (!isfinite(w) || w < 0)
            w = 0;
        if (!isfinite(size) || size < 0)
            size = 0;
        double b = w * size;
        int kA, kF;
        inuse_windows(t, freed, f, Td, W, &kA, &kF);
        if (alloc)
            alloc[kA] += b;
        size_t *p = inuse && nsel ? cli_map_get(&idx, sqlite3_column_int64(st, 0)) : NULL;
        if (p && kA <= kF) {
            double *h = inuse + *p * stride;
            h[kA] += b;
            if (kF + 1 <= W)
                h[kF + 1] -= b;
        }
    }
    sqlite3_finalize(st);
    cli_map_free(&idx);
    if (r < 0)
        return -1;
    for (size_t i = 0; inuse && i < nsel; i++) {
        double *h = inuse + i * stride, acc = 0;
        h[0] = 0;
        for (int k = 1; k <= W; k++) {
            acc += h[k];
            h[k] = acc > 0 ? acc : 0;    /* rounding: never below zero */
        }
    }
    return 0;
}

static const rm_run *sort_run;

static int by_alloc_cmp(const void *a, const void *b)
{
    const rm_site *x = &sort_run->sites[*(const size_t *)a];
    const rm_site *y = &sort_run->sites[*(const size_t *)b];
    if (x->alloc_bytes != y->alloc_bytes)
        return x->alloc_bytes > y->alloc_bytes ? -1 : 1;
    return x->stack_id < y->stack_id ? -1 : x->stack_id > y->stack_id;
}

static int by_inuse_cmp(const void *a, const void *b)
{
    const rm_site *x = &sort_run->sites[*(const size_t *)a];
    const rm_site *y = &sort_run->sites[*(const size_t *)b];
    if (x->inuse_bytes != y->inuse_bytes)
        return x->inuse_bytes > y->inuse_bytes ? -1 : 1;
    if (x->alloc_bytes != y->alloc_bytes)
        return x->alloc_bytes > y->alloc_bytes ? -1 : 1;
    return x->stack_id < y->stack_id ? -1 : x->stack_id > y->stack_id;
}

static void rank_sites(rm_run *run)
{
    run->by_alloc = cli_xmalloc(run->nsites * sizeof *run->by_alloc);
    run->by_inuse = cli_xmalloc(run->nsites * sizeof *run->by_inuse);
    for (size_t i = 0; i < run->nsites; i++)
        run->by_alloc[i] = run->by_inuse[i] = i;
    sort_run = run;
    qsort(run->by_alloc, run->nsites, sizeof *run->by_alloc, by_alloc_cmp);
    qsort(run->by_inuse, run->nsites, sizeof *run->by_inuse, by_inuse_cmp);
    sort_run = NULL;
}

/* ---- sites by leaf function ---- */

typedef struct fkey {
    char *key;
    size_t site;
} fkey;

static int fkey_cmp(const void *a, const void *b)
{
    const fkey *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->site < y->site ? -1 : x->site > y->site);
}

void rm_group_by_function(rm_run *run)
{
    if (run->nsites == 0) {
        run->by_function = 1;
        return;
    }
    fkey *k = cli_xmalloc(run->nsites * sizeof *k);
    char nb[128], kb[1024];
    for (size_t i = 0; i < run->nsites; i++) {
        const rm_site *s = &run->sites[i];
        if (s->nips == 0) {
            snprintf(kb, sizeof kb, "[stack %lld]", (long long)s->stack_id);
        } else {
            const rm_frame *f = rm_frame_of(run, s->ips[0]);
            snprintf(kb, sizeof kb, "%s%c%s", rm_name(run, s->ips[0], nb, sizeof nb), 1,
                     f && f->file ? f->file : "");
        }
        k[i].key = cli_xstrdup(kb);
        k[i].site = i;
    }
    qsort(k, run->nsites, sizeof *k, fkey_cmp);
    rm_site *out = cli_xcalloc(run->nsites, sizeof *out);
    size_t n = 0;
    run->nleaks = 0;
    for (size_t i = 0; i < run->nsites; i++) {
        rm_site *s = &run->sites[k[i].site];
        if (n == 0 || strcmp(k[i].key, k[i - 1].key) != 0) {
            out[n++] = *s;      /* takes s->ips */
            s->ips = NULL;
            continue;
        }
        rm_site *g = &out[n - 1];
        if (s->alloc_bytes > g->alloc_bytes && s->ips) {
            /* the largest member's stack and id represent the group */
            free(g->ips);
            g->ips = s->ips;
            g->nips = s->nips;
            g->stack_id = s->stack_id;
            s->ips = NULL;
        }
        g->alloc_bytes = cli_add(g->alloc_bytes, s->alloc_bytes);
        g->alloc_objects = cli_add(g->alloc_objects, s->alloc_objects);
        g->inuse_bytes = cli_add(g->inuse_bytes, s->inuse_bytes);
        g->inuse_objects = cli_add(g->inuse_objects, s->inuse_objects);
        g->samples += s->samples;
        g->a_bytes += s->a_bytes;
        g->a_objs += s->a_objs;
        g->i_bytes += s->i_bytes;
        g->i_objs += s->i_objs;
        for (int w = 0; w <= RM_WINDOWS; w++)
            g->inuse_at[w] += s->inuse_at[w];
        g->merged++;
    }
    for (size_t i = 0; i < run->nsites; i++) {
        free(run->sites[i].ips);
        free(k[i].key);
    }
    free(k);
    free(run->sites);
    run->sites = out;
    run->nsites = n;
    for (size_t i = 0; i < n; i++) {
        judge_leak(&out[i]);
        if (out[i].leak)
            run->nleaks++;
    }
    free(run->by_alloc);
    free(run->by_inuse);
    rank_sites(run);
    run->by_function = 1;
}

/* ---- stacks, frames, mappings ---- */

static int load_stacks(gcts_db *db, rm_run *run)
{
    if (run->nsites == 0)
        return 0;
    cli_map idx;
    cli_map_init(&idx);
    for (size_t i = 0; i < run->nsites; i++)
        cli_map_put(&idx, run->sites[i].stack_id, i);
    sqlite3_stmt *st;
    if (prepare(db, "SELECT id, frames FROM stacks", &st) < 0) {
        cli_map_free(&idx);
        return -1;
    }
    uint64_t ips[RM_MAX_DEPTH];
    int r;
    while ((r = step(db, st)) == 1) {
        size_t *p = cli_map_get(&idx, sqlite3_column_int64(st, 0));
        if (!p)
            continue;
        rm_site *s = &run->sites[*p];
        const unsigned char *text = sqlite3_column_text(st, 1);
        if (!text || s->ips)
            continue;
        int n = gcts_parse_frames((const char *)text, ips, RM_MAX_DEPTH);
        if (n < 0)
            n = 0;
        if (n > RM_MAX_DEPTH)
            n = RM_MAX_DEPTH;
        s->ips = cli_xmalloc((size_t)(n ? n : 1) * sizeof *s->ips);
        memcpy(s->ips, ips, (size_t)n * sizeof *ips);
        s->nips = n;
    }
    sqlite3_finalize(st);
    cli_map_free(&idx);
    return r < 0 ? -1 : 0;
}

static int load_frames(gcts_db *db, rm_run *run)
{
    sqlite3_stmt *st;
    if (prepare(db, "SELECT ip, function, file, line, module, mapping_id FROM frames", &st) < 0)
        return -1;
    size_t cap = 0;
    int r;
    while ((r = step(db, st)) == 1) {
        uint64_t ip = (uint64_t)sqlite3_column_int64(st, 0);
        if (cli_map_get(&run->frame_index, (int64_t)ip))
            continue;
        if (run->nframes == cap) {
            cap = cap ? cap * 2 : 256;
            run->frames = cli_xrealloc(run->frames, cap * sizeof *run->frames);
        }
        rm_frame *f = &run->frames[run->nframes];
        f->ip = ip;
        f->function = col_str(st, 1);
        f->file = col_str(st, 2);
        f->line = col_i64(st, 3);
        if (f->line == RM_NONE || f->line < 0)
            f->line = 0;
        f->module = col_str(st, 4);
        f->mapping_id = col_i64(st, 5);
        cli_map_put(&run->frame_index, (int64_t)ip, run->nframes);
        run->nframes++;
    }
    sqlite3_finalize(st);
    if (r < 0)
        return -1;

    if (prepare(db, "SELECT id, path, build_id, start, end, file_offset FROM mappings ORDER BY id", &st) < 0)
        return -1;
    cap = 0;
    while ((r = step(db, st)) == 1) {
        if (run->nmappings == cap) {
            cap = cap ? cap * 2 : 16;
            run->mappings = cli_xrealloc(run->mappings, cap * sizeof *run->mappings);
        }
        rm_mapping *m = &run->mappings[run->nmappings++];
        m->id = sqlite3_column_int64(st, 0);
        m->path = col_str(st, 1);
        if (!m->path)
            m->path = cli_xstrdup("?");
        m->build_id = col_str(st, 2);
        m->start = (uint64_t)sqlite3_column_int64(st, 3);
        m->end = (uint64_t)sqlite3_column_int64(st, 4);
        m->file_offset = (uint64_t)sqlite3_column_int64(st, 5);
    }
    sqlite3_finalize(st);
    return r < 0 ? -1 : 0;
}

/* ---- gc_cycles, heap_series, tuner_events ---- */

static int load_gc(gcts_db *db, rm_run *run)
{
    sqlite3_stmt *st;
    if (prepare(db, "SELECT pause_ns, heap_goal, gc_percent, memory_limit, gc_cpu_fraction, "
                    "forced, mark_cpu_ns, assist_cpu_ns FROM gc_cycles ORDER BY num", &st) < 0)
        return -1;
    size_t cap = 0;
    int64_t *pauses = NULL;
    int r;
    while ((r = step(db, st)) == 1) {
        run->cycles++;
        int64_t p = col_i64(st, 0);
        if (p != RM_NONE && p >= 0) {
            if ((size_t)run->npauses == cap) {
                cap = cap ? cap * 2 : 256;
                pauses = cli_xrealloc(pauses, cap * sizeof *pauses);
            }
            pauses[run->npauses++] = p;
        }
        int64_t g = col_i64(st, 1);
        if (g != RM_NONE && g > 0) {
            if (run->heap_goal_min == RM_NONE || g < run->heap_goal_min)
                run->heap_goal_min = g;
            if (run->heap_goal_max == RM_NONE || g > run->heap_goal_max)
                run->heap_goal_max = g;
        }
        int64_t pc = col_i64(st, 2);
        if (pc != RM_NONE)
            add_seen(run->gogc_seen, &run->ngogc, pc < 0 ? -1 : pc);
        int64_t lim = col_i64(st, 3);
        if (lim != RM_NONE)
            add_seen(run->limit_seen, &run->nlimit, norm_limit(lim));
        if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
            double f = sqlite3_column_double(st, 4);
            if (isfinite(f))
                run->gc_cpu_fraction = f;
        }
        if (col_i64(st, 5) == 1)
            run->forced_cycles++;
        int64_t m = col_i64(st, 6);
        if (m != RM_NONE && m > 0)
            run->mark_cpu_ns = cli_add(run->mark_cpu_ns == RM_NONE ? 0 : run->mark_cpu_ns, m);
        int64_t a = col_i64(st, 7);
        if (a != RM_NONE && a > 0)
            run->assist_cpu_ns = cli_add(run->assist_cpu_ns == RM_NONE ? 0 : run->assist_cpu_ns, a);
    }
    sqlite3_finalize(st);
    if (r < 0) {
        free(pauses);
        return -1;
    }
    if (run->npauses > 0) {
        qsort(pauses, (size_t)run->npauses, sizeof *pauses, cmp_i64);
        int64_t n = run->npauses;
        /* nearest rank: the ceil(p*n)-th smallest */
        run->pause_p50 = pauses[(n * 50 + 99) / 100 - 1];
        run->pause_p90 = pauses[(n * 90 + 99) / 100 - 1];
        run->pause_p99 = pauses[(n * 99 + 99) / 100 - 1];
        run->pause_max = pauses[n - 1];
        run->pause_total = 0;
        for (int64_t i = 0; i < n; i++)
            run->pause_total = cli_add(run->pause_total, pauses[i]);
    }
    free(pauses);
    return 0;
}

static int load_heap(gcts_db *db, rm_run *run)
{
    sqlite3_stmt *st;
    int r;
    if (prepare(db, "SELECT MAX(heap_alloc), MAX(rss), MAX(heap_sys), COUNT(*) FROM heap_series", &st) < 0)
        return -1;
    if ((r = step(db, st)) == 1) {
        run->peak_heap_alloc = col_i64(st, 0);
        run->peak_rss = col_i64(st, 1);
        run->peak_heap_sys = col_i64(st, 2);
        run->heap_points = sqlite3_column_int64(st, 3);
    }
    sqlite3_finalize(st);
    if (r < 0)
        return -1;

    if (prepare(db, "SELECT heap_alloc, rss FROM heap_series ORDER BY time_ns DESC, rowid DESC LIMIT 1", &st) < 0)
        return -1;
    if ((r = step(db, st)) == 1) {
        run->final_heap_alloc = col_i64(st, 0);
        run->final_rss = col_i64(st, 1);
    }
    sqlite3_finalize(st);
    if (r < 0)
        return -1;

    if (prepare(db, "SELECT DISTINCT gc_percent, memory_limit FROM heap_series LIMIT 64", &st) < 0)
        return -1;
    while ((r = step(db, st)) == 1) {
        int64_t pc = col_i64(st, 0), lim = col_i64(st, 1);
        if (pc != RM_NONE)
            add_seen(run->gogc_seen, &run->ngogc, pc < 0 ? -1 : pc);
        if (lim != RM_NONE)
            add_seen(run->limit_seen, &run->nlimit, norm_limit(lim));
    }
    sqlite3_finalize(st);
    if (r < 0)
        return -1;

    /* Runs without a heap series (gctrace imports): the heap before each
     * cycle is the best peak we have. */
    if (run->peak_heap_alloc == RM_NONE) {
        if (prepare(db, "SELECT MAX(heap_before) FROM gc_cycles", &st) < 0)
            return -1;
        if ((r = step(db, st)) == 1)
            run->peak_heap_alloc = col_i64(st, 0);
        sqlite3_finalize(st);
        if (r < 0)
            return -1;
    }
    if (run->gc_cpu_fraction != run->gc_cpu_fraction) {   /* NaN: from the series */
        if (prepare(db, "SELECT gc_cpu_fraction FROM heap_series WHERE gc_cpu_fraction IS NOT NULL "
                        "ORDER BY time_ns DESC LIMIT 1", &st) < 0)
            return -1;
        if ((r = step(db, st)) == 1 && isfinite(sqlite3_column_double(st, 0)))
            run->gc_cpu_fraction = sqlite3_column_double(st, 0);
        sqlite3_finalize(st);
        if (r < 0)
            return -1;
    }
    return 0;
}

static int load_events(gcts_db *db, rm_run *run)
{
    sqlite3_stmt *st;
    if (prepare(db, "SELECT time_ns, knob, old_value, new_value, reason, measurements "
                    "FROM tuner_events ORDER BY time_ns, id", &st) < 0)
        return -1;
    size_t cap = 0;
    int r;
    while ((r = step(db, st)) == 1) {
        if (run->nevents == cap) {
            cap = cap ? cap * 2 : 32;
            run->events = cli_xrealloc(run->events, cap * sizeof *run->events);
        }
        rm_event *e = &run->events[run->nevents++];
        e->time_ns = sqlite3_column_int64(st, 0);
        e->knob = col_str(st, 1);
        if (!e->knob)
            e->knob = cli_xstrdup("?");
        e->old_value = col_i64(st, 2);
        e->new_value = col_i64(st, 3);
        e->reason = col_str(st, 4);
        if (!e->reason)
            e->reason = cli_xstrdup("");
        e->measurements = col_str(st, 5);
    }
    sqlite3_finalize(st);
    return r < 0 ? -1 : 0;
}

/* ---- public ---- */

int rm_load(gcts_db *db, rm_run *run)
{
    memset(run, 0, sizeof *run);
    run->path = gcts_path(db);
    run->schema_version = gcts_schema_version(db);
    run->pid = run->sample_rate = run->start_time_ns = run->duration_ns = RM_NONE;
    run->dropped_samples = run->dropped_frees = run->clean_exit = RM_NONE;
    run->dropped_gc_cycles = run->dropped_tuner_events = RM_NONE;
    run->pause_p50 = run->pause_p90 = run->pause_p99 = run->pause_max = RM_NONE;
    run->pause_total = RM_NONE;
    run->gc_cpu_fraction = NAN;
    run->heap_goal_min = run->heap_goal_max = RM_NONE;
    run->mark_cpu_ns = run->assist_cpu_ns = RM_NONE;
    run->peak_heap_alloc = run->peak_rss = run->peak_heap_sys = RM_NONE;
    run->final_heap_alloc = run->final_rss = RM_NONE;
    cli_map_init(&run->frame_index);

    if (load_meta(db, run) < 0 || load_samples(db, run) < 0 || load_stacks(db, run) < 0 ||
        load_frames(db, run) < 0 || load_gc(db, run) < 0 || load_heap(db, run) < 0 ||
        load_events(db, run) < 0)
        return -1;
    rank_sites(run);
    qsort(run->gogc_seen, (size_t)run->ngogc, sizeof(int64_t), cmp_i64);
    qsort(run->limit_seen, (size_t)run->nlimit, sizeof(int64_t), cmp_i64);
    return 0;
}

void rm_free(rm_run *run)
{
    free(run->program);
    free(run->backend);
    free(run->host);
    free(run->source);
    free(run->argv_raw);
    free(run->capabilities);
    for (int i = 0; i < run->argc; i++)
        free(run->argv[i]);
    free(run->argv);
    for (size_t i = 0; i < run->nsites; i++)
        free(run->sites[i].ips);
    free(run->sites);
    free(run->by_alloc);
    free(run->by_inuse);
    for (size_t i = 0; i < run->nevents; i++) {
        free(run->events[i].knob);
        free(run->events[i].reason);
        free(run->events[i].measurements);
    }
    free(run->events);
    for (size_t i = 0; i < run->nframes; i++) {
        free(run->frames[i].function);
        free(run->frames[i].file);
        free(run->frames[i].module);
    }
    free(run->frames);
    cli_map_free(&run->frame_index);
    for (size_t i = 0; i < run->nmappings; i++) {
        free(run->mappings[i].path);
        free(run->mappings[i].build_id);
    }
    free(run->mappings);
    memset(run, 0, sizeof *run);
}

int rm_has_frees(const rm_run *run)
{
    if (!run->capabilities)
        return 1;
    const char *p = run->capabilities;
    size_t n = strlen("frees");
    while ((p = strstr(p, "frees")) != NULL) {
        int start = p == run->capabilities || p[-1] == ' ' || p[-1] == ',';
        int end = p[n] == 0 || p[n] == ' ' || p[n] == ',';
        if (start && end)
            return 1;
        p += n;
    }
    return 0;
}

int rm_empty(const rm_run *run)
{
    return run->samples == 0 && run->cycles == 0 && run->heap_points == 0;
}

const rm_frame *rm_frame_of(const rm_run *run, uint64_t ip)
{
    size_t *p = cli_map_get(&run->frame_index, (int64_t)ip);
    return p ? &run->frames[*p] : NULL;
}

const rm_mapping *rm_mapping_of(const rm_run *run, uint64_t ip)
{
    for (size_t i = 0; i < run->nmappings; i++)
        if (ip >= run->mappings[i].start && ip < run->mappings[i].end)
            return &run->mappings[i];
    return NULL;
}

const char *rm_name(const rm_run *run, uint64_t ip, char *buf, size_t len)
{
    const rm_frame *f = rm_frame_of(run, ip);
    if (f && f->function && *f->function)
        return f->function;
    const rm_mapping *m = rm_mapping_of(run, ip);
    if (m) {
        const char *base = strrchr(m->path, '/');
        base = base ? base + 1 : m->path;
        snprintf(buf, len, "%s+0x%llx", base,
                 (unsigned long long)(ip - m->start + m->file_offset));
    } else {
        snprintf(buf, len, "0x%llx", (unsigned long long)ip);
    }
    return buf;
}

const char *rm_site_label(const rm_run *run, const rm_site *s, char *buf, size_t len)
{
    char nb[128];
    if (!s->ips || s->nips == 0) {
        snprintf(buf, len, "<stack %lld: no frames>", (long long)s->stack_id);
        return buf;
    }
    const rm_frame *f = rm_frame_of(run, s->ips[0]);
    const char *name = rm_name(run, s->ips[0], nb, sizeof nb);
    if (f && f->file && *f->file) {
        const char *base = strrchr(f->file, '/');
        base = base ? base + 1 : f->file;
        if (f->line > 0)
            snprintf(buf, len, "%s (%s:%lld)", name, base, (long long)f->line);
        else
            snprintf(buf, len, "%s (%s)", name, base);
    } else {
        snprintf(buf, len, "%s", name);
    }
    return buf;
}

const char *rm_site_text(const rm_run *run, const rm_site *s, char *buf, size_t len)
{
    char nb[128];
    rm_site_label(run, s, buf, len);
    if (s->nips > 1) {
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, " <- %s", rm_name(run, s->ips[1], nb, sizeof nb));
    }
    return buf;
}

char *rm_fmt_knob(char *buf, const char *knob, int64_t v)
{
    if (v == RM_NONE)
        snprintf(buf, CLI_FMT_LEN, "-");
    else if (knob && !strcmp(knob, "memory_limit") && v >= 0)
        cli_fmt_bytes(buf, v);
    else
        snprintf(buf, CLI_FMT_LEN, "%lld", (long long)v);
    return buf;
}

char *rm_leak_rule(char *buf, size_t len)
{
    snprintf(buf, len, "in-use bytes rose in >= %d of %d equal time windows, "
             ">= %.0f%% of allocated bytes still in use at the end, >= %d samples",
             RM_LEAK_MIN_RISES, RM_WINDOWS, RM_LEAK_MIN_RETAINED * 100, RM_LEAK_MIN_SAMPLES);
    return buf;
}

size_t rm_warnings(const rm_run *run, char (*out)[RM_MSG_LEN], size_t max)
{
    size_t n = 0;
#define RM_WARN(...) do { if (n < max) snprintf(out[n++], RM_MSG_LEN, __VA_ARGS__); } while (0)
    if (run->dropped_samples != RM_NONE && run->dropped_samples > 0)
        RM_WARN("%lld samples were dropped (profiler queue full): estimates are too low",
                (long long)run->dropped_samples);
    if (run->dropped_frees != RM_NONE && run->dropped_frees > 0)
        RM_WARN("%lld frees were dropped: in-use estimates are too high",
                (long long)run->dropped_frees);
    if (run->dropped_gc_cycles != RM_NONE && run->dropped_gc_cycles > 0)
        RM_WARN("%lld GC cycles were dropped", (long long)run->dropped_gc_cycles);
    if (run->dropped_tuner_events != RM_NONE && run->dropped_tuner_events > 0)
        RM_WARN("%lld tuner decisions were dropped", (long long)run->dropped_tuner_events);
    if (!rm_has_frees(run))
        RM_WARN("the backend does not report frees: in-use figures count every sampled "
                "object as live");
    if (rm_empty(run))
        RM_WARN("empty run: no samples, no GC cycles, no heap series");
#undef RM_WARN
    return n;
}
