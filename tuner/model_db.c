/* tuner/model_db.c - gctt_model_load: the model of tuner/model.h fitted
 * to a run database (gc_cycles and heap_series of store/schema.sql).
 *
 * Owns nothing global; the rows live in malloc'd arrays for the duration
 * of the call.  The file is opened read-only through store.h, which names
 * the file in every error.
 */
#include "model.h"
#include "store.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t col(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, i);
}

/* GOMEMLIMIT's syntax: bytes with an optional B, KiB, MiB, GiB, TiB (or
 * K, M, G, T) suffix; "off" or anything else is -1 (none). */
static int64_t parse_limit(const char *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v || *v == '-')
        return -1;
    static const char *const suf[][2] = { { "", "B" }, { "K", "KiB" }, { "M", "MiB" }, { "G", "GiB" }, { "T", "TiB" } };
    for (int i = 0; i < 5; i++) {
        if (strcmp(end, suf[i][0]) && strcmp(end, suf[i][1]))
            continue;
        if (x == 0 || x > ((unsigned long long)INT64_MAX >> (10 * i)) - 1)
            return -1;
        return (int64_t)(x << (10 * i));
    }
    return -1;
}

int gctt_model_load(const char *path, gctt_model *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    gcts_db *db = gcts_open_read(path, err, errlen);
    if (!db)
        return -1;
    sqlite3 *q = gcts_sqlite(db);
    gctt_cycle_row *c = NULL;
    gctt_heap_row *h = NULL;
    size_t nc = 0, capc = 0, nh = 0, caph = 0;
    int rc = -1;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(q,
                           "SELECT num, start_ns, end_ns, pause_ns, heap_before, heap_marked, heap_goal, gc_percent, "
                           "memory_limit, mark_cpu_ns, assist_cpu_ns, background_cpu_ns, procs, forced, concurrent "
                           "FROM gc_cycles ORDER BY num",
                           -1, &s, NULL) != SQLITE_OK)
        goto sqlerr;
    /* a Go run's gctrace does not carry GOGC or the limit: `gctune record`
     * keeps the environment's in meta.gogc / meta.gomemlimit */
    int64_t meta_gogc = 100, meta_limit = -1;
    {
        char v[64] = "";
        if (gcts_get_meta(db, "gogc", v, sizeof v) == 0 && v[0]) {
            char *end;
            long long g = strtoll(v, &end, 10);
            if (!strcmp(v, "off"))
                meta_gogc = -1;
            else if (!*end && end != v && g >= 0)
                meta_gogc = g;
        }
        v[0] = 0;
        if (gcts_get_meta(db, "gomemlimit", v, sizeof v) == 0 && v[0])
            meta_limit = parse_limit(v);
    }
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        if (nc == capc) {
            capc = capc ? 2 * capc : 256;
            gctt_cycle_row *t = realloc(c, capc * sizeof *c);
            if (!t)
                goto oom;
            c = t;
        }
        gctt_cycle_row *x = &c[nc++];
        int64_t v[15];
        for (int i = 0; i < 15; i++)
            v[i] = col(s, i);
        *x = (gctt_cycle_row){ v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14] };
        if (sqlite3_column_type(s, 7) == SQLITE_NULL)
            x->gc_percent = meta_gogc;
        if (sqlite3_column_type(s, 8) == SQLITE_NULL)
            x->memory_limit = meta_limit;
        if (x->forced < 0)
            x->forced = 0;
    }
    if (r != SQLITE_DONE)
        goto sqlerr;
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(q,
                           "SELECT time_ns, heap_alloc, heap_sys, heap_released, rss, next_gc, total_alloc "
                           "FROM heap_series ORDER BY time_ns",
                           -1, &s, NULL) != SQLITE_OK)
        goto sqlerr;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        if (nh == caph) {
            caph = caph ? 2 * caph : 256;
            gctt_heap_row *t = realloc(h, caph * sizeof *h);
            if (!t)
                goto oom;
            h = t;
        }
        h[nh++] = (gctt_heap_row){ col(s, 0), col(s, 1), col(s, 2), col(s, 3), col(s, 4), col(s, 5), col(s, 6) };
    }
    if (r != SQLITE_DONE)
        goto sqlerr;
    sqlite3_finalize(s);
    s = NULL;
    {
        /* libgc's stop-the-world cycles cost per heap byte too; others (Go
         * imports, concurrent marking) are modelled on the live heap only */
        char backend[64] = "";
        gcts_get_meta(db, "backend", backend, sizeof backend);
        int concurrent = 0;
        for (size_t i = 0; i < nc; i++)
            concurrent += c[i].concurrent > 0;
        double beta = !strcmp(backend, "libgc") && concurrent * 2 < (int)nc ? GCTT_MODEL_LIBGC_HEAP_BETA : 0;
        char why[200];
        if (nc == 0) {
            /* a malloc-backend recording (or a program that never collected) */
            snprintf(err, errlen, "%s: no GC cycles recorded (backend %s): there is no GC to tune", path,
                     backend[0] ? backend : "unknown");
            goto out;
        }
        if (gctt_model_fit(c, nc, h, nh, beta, m, why, sizeof why) != 0)
            snprintf(err, errlen, "%s: %s", path, why);
        else
            rc = 0;
    }
    goto out;
sqlerr:
    snprintf(err, errlen, "%s: cannot read the GC tables: %s", path, sqlite3_errmsg(q));
    goto out;
oom:
    snprintf(err, errlen, "%s: out of memory", path);
out:
    if (s)
        sqlite3_finalize(s);
    free(c);
    free(h);
    gcts_close(db);
    return rc;
}
