/* reports/report_charts.c - the charts of `gctune report`: for each chart,
 * its data file NAME.dat and its gnuplot script NAME.gp (reports/report.h
 * says what they are), or the reason it is skipped.
 *
 * The scripts are the templates of reports/gnuplot/ (embedded at build
 * time, reports/gnuplot/templates.c) with their @KEY@ placeholders filled:
 * a header naming the run and the files, the parameters (out, fmt,
 * datafile), common.gp (terminal and style), then the chart's template.
 * What is computed here: the data files (from heap_series, gc_cycles,
 * tuner_events and, through rm_history, the samples), axis ranges and
 * units, and the plot clauses of the series a run has.  The summary
 * numbers (pause percentiles, site estimates, leak suspects) are the
 * model's (reports/model.h), the same as gctune analyze prints.
 */
#include "reports/report.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY_POINTS 200      /* steps of the in-use history and sample windows */
#define INUSE_MAX_SITES 6       /* sites in the leak view (plus leak suspects) */
#define INUSE_MAX_LINES 8
#define SITES_MAX 12            /* bars in the site chart */
#define LABEL_MAX 60            /* characters of a site label on a chart */
#define CPU_MIN_WINDOWS 100     /* GC CPU windows: about T/this at least (0.8 T/this) */

/* ---- growing strings ---- */

typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;

static void sb_vadd(sbuf *b, const char *fmt, va_list ap)
{
    if (!b->s) {
        b->cap = 64;
        b->s = cli_xmalloc(b->cap);
        b->len = 0;
    }
    for (;;) {
        size_t room = b->cap - b->len;
        va_list aq;
        va_copy(aq, ap);
        int n = vsnprintf(b->s + b->len, room, fmt, aq);
        va_end(aq);
        if (n < 0)
            return;
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        b->cap = (b->cap + (size_t)n + 1) * 2;
        b->s = cli_xrealloc(b->s, b->cap);
    }
}

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vadd(b, fmt, ap);
    va_end(ap);
}

static const char *sb_str(sbuf *b)
{
    if (!b->s)
        sb_add(b, "%s", "");
    return b->s;
}

static void sb_free(sbuf *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}

/* A gnuplot single-quoted string: ' doubled, control characters as spaces. */
static void sb_quote(sbuf *b, const char *s)
{
    sb_add(b, "'");
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '\'')
            sb_add(b, "''");
        else if (*p < 0x20 || *p == 0x7f)
            sb_add(b, " ");
        else
            sb_add(b, "%c", *p);
    }
    sb_add(b, "'");
}

/* A clause list: "a, \\\n     b".  A first clause starting with '' (the
 * previous file) names the data file instead. */
static void sb_clause(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_clause(sbuf *b, const char *fmt, ...)
{
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (b->len)
        sb_add(b, ", \\\n     ");
    if (!b->len && !strncmp(tmp, "'' ", 3))
        sb_add(b, "datafile%s", tmp + 2);
    else
        sb_add(b, "%s", tmp);
}

/* Text for a data file field or a comment: no tabs, newlines or control
 * characters (spaces), no double quotes (gnuplot reads one in a data file as
 * the start of a quoted string: single quotes) and no backslashes (slashes).
 * Truncated to max characters ("..." at the end) when max > 0. */
static char *data_text(char *buf, size_t len, const char *s, size_t max)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && n + 1 < len; p++) {
        unsigned char c = *p;
        if (c < 0x20 || c == 0x7f)
            c = ' ';
        else if (c == '"')
            c = '\'';
        else if (c == '\\')
            c = '/';    /* gnuplot: an escape in quoted strings, a line
                         * continuation at the end of a script line */
        buf[n++] = (char)c;
    }
    buf[n] = 0;
    if (max > 3 && n > max) {
        size_t cut = max - 3;
        while (cut > 0 && ((unsigned char)buf[cut] & 0xc0) == 0x80)
            cut--;      /* not inside a UTF-8 sequence */
        strcpy(buf + cut, "...");
    }
    return buf;
}

/* ---- the run's series ---- */

typedef struct hpoint {
    int64_t t, heap_alloc, heap_sys, released, rss, next_gc, total_alloc, gc_percent, limit;
    double cpu;     /* NaN if absent */
} hpoint;

typedef struct cycle {
    int64_t num, start, end, pause, before, after, marked, goal, gc_percent, limit, forced;
    int64_t assist, background, procs;
    double cpu;
} cycle;

typedef struct ctx {
    rp_report *r;
    const rm_run *run;
    hpoint *h;
    size_t nh, hcap;
    cycle *c;
    size_t nc, ccap;
    int64_t T;              /* end of the time axes, ns */
    char run_label[256];    /* "hello (libgc)" */
    /* rm_history (samples): in-use of the leak view's sites, allocations */
    int64_t *hist_ids;
    size_t nhist;
    double *hist_inuse, *hist_alloc;
    int history_loaded;
} ctx;

static int64_t col_i64(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? RM_NONE : sqlite3_column_int64(st, i);
}

static double col_dbl(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return NAN;
    double v = sqlite3_column_double(st, i);
    return isfinite(v) ? v : NAN;
}

static int db_fail(gcts_db *db)
{
    cli_error(gcts_path(db), "database error: %s", sqlite3_errmsg(gcts_sqlite(db)));
    return -1;
}

/* Room for element n of *arr (*cap allocated, doubling from 256). */
static void *grow(void *arr, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return arr;
    *cap = *cap ? *cap * 2 : 256;
    return cli_xrealloc(arr, *cap * size);
}

/* Runs sql and hands each row to row; -1 (reported) on a database error. */
static int read_rows(ctx *c, const char *sql, void (*row)(ctx *c, sqlite3_stmt *st))
{
    gcts_db *db = c->r->db;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(gcts_sqlite(db), sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(db);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        row(c, st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_fail(db);
}

static void heap_row(ctx *c, sqlite3_stmt *st)
{
    c->h = grow(c->h, c->nh, &c->hcap, sizeof *c->h);
    hpoint *p = &c->h[c->nh++];
    p->t = sqlite3_column_int64(st, 0);
    p->heap_alloc = col_i64(st, 1);
    p->heap_sys = col_i64(st, 2);
    p->released = col_i64(st, 3);
    p->rss = col_i64(st, 4);
    p->next_gc = col_i64(st, 5);
    p->total_alloc = col_i64(st, 6);
    p->gc_percent = col_i64(st, 7);
    p->limit = col_i64(st, 8);
    p->cpu = col_dbl(st, 9);
}

static void cycle_row(ctx *c, sqlite3_stmt *st)
{
    c->c = grow(c->c, c->nc, &c->ccap, sizeof *c->c);
    cycle *g = &c->c[c->nc++];
    g->num = sqlite3_column_int64(st, 0);
    g->start = col_i64(st, 1);
    g->end = col_i64(st, 2);
    g->pause = col_i64(st, 3);
    g->before = col_i64(st, 4);
    g->after = col_i64(st, 5);
    g->marked = col_i64(st, 6);
    g->goal = col_i64(st, 7);
    g->gc_percent = col_i64(st, 8);
    g->limit = col_i64(st, 9);
    g->forced = col_i64(st, 10);
    g->cpu = col_dbl(st, 11);
    g->assist = col_i64(st, 12);
    g->background = col_i64(st, 13);
    g->procs = col_i64(st, 14);
}

static int load_series(ctx *c)
{
    if (read_rows(c, "SELECT time_ns, heap_alloc, heap_sys, heap_released, rss, next_gc, "
                     "total_alloc, gc_percent, memory_limit, gc_cpu_fraction "
                     "FROM heap_series ORDER BY time_ns, rowid", heap_row) < 0)
        return -1;
    return read_rows(c, "SELECT num, start_ns, end_ns, pause_ns, heap_before, heap_after, "
                        "heap_marked, heap_goal, gc_percent, memory_limit, forced, "
                        "gc_cpu_fraction, assist_cpu_ns, background_cpu_ns, procs "
                        "FROM gc_cycles ORDER BY num", cycle_row);
}

/* ---- values and units ---- */

typedef struct unit {
    double scale;
    const char *name;
} unit;

/* The binary unit in which max reads best (at least 2 of it). */
static unit bytes_unit(double max)
{
    if (max >= 2.0 * 1073741824.0)
        return (unit){ 1073741824.0, "GiB" };
    if (max >= 2.0 * 1048576.0)
        return (unit){ 1048576.0, "MiB" };
    if (max >= 2.0 * 1024.0)
        return (unit){ 1024.0, "KiB" };
    return (unit){ 1.0, "bytes" };
}

static int valid(int64_t v)
{
    return v != RM_NONE;
}

/* A memory limit: -1 (none) for NULL, negative, or Go's MaxInt64. */
static int64_t limit_value(int64_t v)
{
    return v == RM_NONE || v < 0 || v >= INT64_MAX / 2 ? -1 : v;
}

static void put_i64(FILE *f, int64_t v)
{
    if (valid(v))
        fprintf(f, "\t%lld", (long long)v);
    else
        fputs("\tNaN", f);
}

static void put_dbl(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "\t%.9g", v);
    else
        fputs("\tNaN", f);
}

static char *secs(char *buf, int64_t ns)
{
    snprintf(buf, CLI_FMT_LEN, "%.9g", (double)ns / 1e9);
    return buf;
}

/* A y (or x) axis maximum in the chart's unit: max with head room, at least
 * a small positive value so that an all-zero series still has an axis. */
static char *axis_max(char *buf, double max, double headroom)
{
    double v = max * headroom;
    if (!(v > 0))
        v = 1;
    snprintf(buf, CLI_FMT_LEN, "%.6g", v);
    return buf;
}

/* ---- files ---- */

static FILE *open_out(const rp_report *r, const char *name, char *path)
{
    rp_path(path, r, name);
    FILE *f = fopen(path, "w");
    if (!f)
        cli_error(path, "cannot create: %s", strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *path)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        cli_error(path, "write error: %s", strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}

/* The header of a data file. */
static void data_header(FILE *f, const ctx *c, const rp_chart *ch)
{
    char t[1024];
    fprintf(f, "# %s.dat - gctune report: %s\n", ch->name, ch->title);
    fprintf(f, "# run: %s\n", data_text(t, sizeof t, c->run->path, 0));
    fprintf(f, "# Tab-separated.  Times are ns since the start of the run, sizes are bytes,\n"
               "# NaN is no value.  Blocks (gnuplot 'index N') are separated by two blank lines.\n"
               "# Plotted by %s.gp.\n", ch->name);
}

static void block_sep(FILE *f)
{
    fputs("\n\n", f);
}

/* Creates NAME.dat of chart ch (its path into path) and writes its header. */
static FILE *open_data(const ctx *c, const rp_chart *ch, char *path)
{
    char file[64];
    snprintf(file, sizeof file, "%s.dat", ch->name);
    FILE *f = open_out(c->r, file, path);
    if (f)
        data_header(f, c, ch);
    return f;
}

/* Placeholders of a template. */
typedef struct dict {
    const char *key[32];
    char *val[32];
    int n;
} dict;

static void dset(dict *d, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void dset(dict *d, const char *key, const char *fmt, ...)
{
    sbuf b = { 0 };
    va_list ap;
    va_start(ap, fmt);
    sb_vadd(&b, fmt, ap);
    va_end(ap);
    for (int i = 0; i < d->n; i++) {
        if (!strcmp(d->key[i], key)) {
            free(d->val[i]);
            d->val[i] = b.s;
            return;
        }
    }
    if (d->n >= 32)
        abort();
    d->key[d->n] = key;
    d->val[d->n++] = b.s;
}

static void dset_quoted(dict *d, const char *key, const char *text)
{
    sbuf b = { 0 };
    sb_quote(&b, text);
    dset(d, key, "%s", sb_str(&b));
    sb_free(&b);
}

static void dfree(dict *d)
{
    for (int i = 0; i < d->n; i++)
        free(d->val[i]);
    d->n = 0;
}

/* Frees a chart's placeholders and the strings it built them from (a
 * NULL-ended list of sbuf *). */
static void chart_free(dict *d, ...) __attribute__((sentinel));
static void chart_free(dict *d, ...)
{
    va_list ap;
    va_start(ap, d);
    for (sbuf *b; (b = va_arg(ap, sbuf *));)
        sb_free(b);
    va_end(ap);
    dfree(d);
}

/* Appends template name with its @KEY@ placeholders replaced.  An unknown
 * placeholder is a bug in gctune: abort. */
static void expand(sbuf *out, const char *name, const dict *d)
{
    const char *t = rp_template(name);
    if (!t) {
        fprintf(stderr, "gctune: internal error: no chart template '%s'\n", name);
        abort();
    }
    while (*t) {
        const char *at = strchr(t, '@');
        const char *end = at ? strchr(at + 1, '@') : NULL;
        if (!at || !end) {
            sb_add(out, "%s", t);
            break;
        }
        sb_add(out, "%.*s", (int)(at - t), t);
        size_t klen = (size_t)(end - at - 1);
        int found = 0;
        for (int i = 0; i < d->n; i++) {
            if (strlen(d->key[i]) == klen && !strncmp(d->key[i], at + 1, klen)) {
                sb_add(out, "%s", d->val[i]);
                found = 1;
                break;
            }
        }
        if (!found) {
            fprintf(stderr, "gctune: internal error: template '%s': no value for @%.*s@\n",
                    name, (int)klen, at + 1);
            abort();
        }
        t = end + 1;
    }
}

/* Writes NAME.gp: header, parameters, common.gp, then the template(s). */
static int write_script(const ctx *c, const rp_chart *ch, const char *tmpl, const dict *d)
{
    char path[PATH_MAX], t[1024], file[64];
    snprintf(file, sizeof file, "%s.gp", ch->name);
    FILE *f = open_out(c->r, file, path);
    if (!f)
        return -1;
    sbuf b = { 0 };
    sb_add(&b, "# %s.gp - gctune report: %s\n", ch->name, ch->title);
    sb_add(&b, "# run: %s\n", data_text(t, sizeof t, c->run->path, 0));
    sb_add(&b, "# Written by gctune %s.  Self-contained: `gnuplot %s.gp` in this directory\n"
               "# reads %s.dat and writes %s.%s (fmt and out below: 'png' or 'svg').\n\n",
           PACKAGE_VERSION, ch->name, ch->name, ch->name, c->r->format);
    sb_add(&b, "fmt = '%s'\nout = '%s.%s'\ndatafile = '%s.dat'\n\n", c->r->format, ch->name,
           c->r->format, ch->name);
    expand(&b, "common", d);
    sb_add(&b, "\n");
    expand(&b, tmpl, d);
    fputs(sb_str(&b), f);
    sb_free(&b);
    return close_out(f, path);
}

static void chart_title(const ctx *c, const rp_chart *ch, dict *d)
{
    char t[512];
    snprintf(t, sizeof t, "%s - %s", ch->title, c->run_label);
    dset_quoted(d, "TITLE", t);
}

/* The placeholders of a chart with a byte axis: TITLE; UNIT (the binary
 * unit max reads best in, then per: "" or "/s") and SCALE; max_key, the
 * axis maximum in that unit (max times headroom). */
static void byte_axis(const ctx *c, const rp_chart *ch, dict *d, double max, const char *per,
                      const char *max_key, double headroom)
{
    char b[CLI_FMT_LEN];
    unit u = bytes_unit(max);
    chart_title(c, ch, d);
    dset(d, "UNIT", "%s%s", u.name, per);
    dset(d, "SCALE", "%.0f", u.scale);
    dset(d, max_key, "%s", axis_max(b, max / u.scale, headroom));
}

static void skip(rp_chart *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void skip(rp_chart *ch, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ch->skipped, sizeof ch->skipped, fmt, ap);
    va_end(ap);
}

static int is_gctrace(const rm_run *run)
{
    return run->source && !strcmp(run->source, "gctrace");
}

/* ---- 1. heap over time ---- */

/* Notes which of the n sizes v are known (has[k]) and the largest (*max). */
static void note_values(const int64_t *v, int n, int *has, double *max)
{
    for (int k = 0; k < n; k++) {
        if (valid(v[k])) {
            has[k] = 1;
            if ((double)v[k] > *max)
                *max = (double)v[k];
        }
    }
}

/* The memory limit (lmax, the largest; -1: none), from column 7 of index 0:
 * a step line, or a label when it would squash the chart (above 2.5 times
 * the largest size *max, which otherwise grows to include it). */
static void limit_line(sbuf *plot, sbuf *labels, int64_t lmax, double *max)
{
    char b[CLI_FMT_LEN];
    if (lmax < 0)
        return;
    if ((double)lmax > 2.5 * *max) {
        sb_add(labels, "set label 1 'memory limit %s: above the chart' at graph 0.99, "
               "graph 0.96 right front tc rgb '#9467bd'", cli_fmt_bytes(b, lmax));
    } else {
        sb_clause(plot, "'' index 0 using ($1/1e9):($7/scale) with steps ls 5 lw 2.5 "
                  "title 'memory limit'");
        if ((double)lmax > *max)
            *max = (double)lmax;
    }
}

static int chart_heap(ctx *c, rp_chart *ch)
{
    const rm_run *run = c->run;
    size_t with_heap = 0;
    for (size_t i = 0; i < c->nc; i++)
        with_heap += valid(c->c[i].before) || valid(c->c[i].marked);
    size_t series_heap = 0;     /* heap_series rows with a size */
    for (size_t i = 0; i < c->nh; i++)
        series_heap += valid(c->h[i].heap_alloc) || valid(c->h[i].next_gc) ||
                       valid(c->h[i].rss) || valid(c->h[i].released) || valid(c->h[i].heap_sys);
    if (series_heap == 0 && with_heap == 0) {
        skip(ch, "%s and no GC cycle with heap sizes%s",
             c->nh ? "no heap sizes in the heap series" : "no heap series",
             rm_empty(run) ? " (an empty run)" : "");
        return 0;
    }
    char path[PATH_MAX], b2[CLI_FMT_LEN];
    FILE *f = open_data(c, ch, path);
    if (!f)
        return -1;
    dict d = { 0 };
    sbuf plot = { 0 }, labels = { 0 };
    double max = 0;
    int64_t lmax = -1;
    int has[8] = { 0 };

    if (series_heap > 0) {
        /* from heap_series */
        fputs("# index 0: heap_series, one row per point\n"
              "# time_ns\theap_alloc\tnext_gc\trss\theap_released\theap_sys\tmemory_limit"
              " (NaN: none)\n", f);
        for (size_t i = 0; i < c->nh; i++) {
            const hpoint *p = &c->h[i];
            int64_t lim = limit_value(p->limit);
            fprintf(f, "%lld", (long long)p->t);
            put_i64(f, p->heap_alloc);
            put_i64(f, p->next_gc);
            put_i64(f, p->rss);
            put_i64(f, p->released);
            put_i64(f, p->heap_sys);
            put_i64(f, lim >= 0 ? lim : RM_NONE);
            fputc('\n', f);
            int64_t v[5] = { p->heap_alloc, p->next_gc, p->rss, p->released, p->heap_sys };
            note_values(v, 5, has, &max);
            if (lim > lmax)
                lmax = lim;
        }
        block_sep(f);
        fputs("# index 1: GC cycles: the start of each and the heap then\n"
              "# start_ns\theap_before\tnum\n", f);
        size_t marks = 0, marks_heap = 0;
        for (size_t i = 0; i < c->nc; i++) {
            const cycle *g = &c->c[i];
            if (!valid(g->start))
                continue;
            fprintf(f, "%lld", (long long)g->start);
            put_i64(f, g->before);
            fprintf(f, "\t%lld\n", (long long)g->num);
            marks++;
            if (valid(g->before)) {
                marks_heap++;
                if ((double)g->before > max)
                    max = (double)g->before;
            }
        }
        static const char *names[5] = {
            "heap_alloc (allocated, not yet freed)", "heap goal (next_gc)",
            "RSS (resident memory)", "heap_released (returned to the OS)",
            "heap_sys (obtained from the OS)",
        };
        static const int cols[5] = { 2, 3, 4, 5, 6 };
        static const char *styles[5] = {
            "with lines ls 1", "with steps ls 2 dt 2", "with lines ls 4",
            "with lines ls 3", "with lines ls 9",
        };
        static const int order[5] = { 0, 1, 2, 4, 3 };
        for (int o = 0; o < 5; o++) {
            int k = order[o];
            if (has[k])
                sb_clause(&plot, "%s index 0 using ($1/1e9):($%d/scale) %s title '%s'",
                          plot.len ? "''" : "datafile", cols[k], styles[k], names[k]);
        }
        limit_line(&plot, &labels, lmax, &max);
        if (marks_heap > 0)
            sb_clause(&plot, "'' index 1 using ($1/1e9):($2/scale) with points ls 9 pt 2 ps 0.7 "
                      "title 'GC cycle start: the heap then (%zu cycles)'", marks);
        else if (marks > 0)
            sb_clause(&plot, "'' index 1 using ($1/1e9):(0) with points ls 9 pt 9 ps 0.9 "
                      "title 'GC cycle start (%zu cycles)'", marks);
        snprintf(ch->caption, sizeof ch->caption,
                 "From heap_series (%zu points): heap_alloc, the heap goal (next_gc), RSS, "
                 "heap_sys and memory released to the OS%s; each GC cycle (gc_cycles, %zu) "
                 "is marked at its start by the heap then.", c->nh,
                 lmax >= 0 ? ", and the memory limit" : "", marks);
    } else {
        /* from gc_cycles (a gctrace import) */
        fputs("# index 0: gc_cycles, one row per cycle\n"
              "# start_ns\tend_ns\theap_before\theap_after\theap_marked\theap_goal\t"
              "memory_limit (NaN: none)\tnum\n", f);
        for (size_t i = 0; i < c->nc; i++) {
            const cycle *g = &c->c[i];
            int64_t lim = limit_value(g->limit);
            fprintf(f, "%lld", (long long)(valid(g->start) ? g->start : 0));
            put_i64(f, g->end);
            put_i64(f, g->before);
            put_i64(f, g->after);
            put_i64(f, g->marked);
            put_i64(f, g->goal);
            put_i64(f, lim >= 0 ? lim : RM_NONE);
            fprintf(f, "\t%lld\n", (long long)g->num);
            int64_t v[4] = { g->before, g->after, g->marked, g->goal };
            note_values(v, 4, has, &max);
            if (lim > lmax)
                lmax = lim;
        }
        block_sep(f);
        fputs("# index 1: the heap through the cycles: at the start (heap_before), at the end\n"
              "# of marking (heap_after), then the live heap (heap_marked)\n"
              "# time_ns\theap\n", f);
        for (size_t i = 0; i < c->nc; i++) {
            const cycle *g = &c->c[i];
            if (valid(g->start) && valid(g->before))
                fprintf(f, "%lld\t%lld\n", (long long)g->start, (long long)g->before);
            if (valid(g->end) && valid(g->after))
                fprintf(f, "%lld\t%lld\n", (long long)g->end, (long long)g->after);
            if (valid(g->end) && valid(g->marked))
                fprintf(f, "%lld\t%lld\n", (long long)g->end, (long long)g->marked);
        }
        sb_clause(&plot, "datafile index 1 using ($1/1e9):($2/scale) with lines ls 1 "
                  "title 'heap (GC start, end of marking, live after)'");
        if (has[3])
            sb_clause(&plot, "'' index 0 using ($1/1e9):($6/scale) with steps ls 2 dt 2 "
                      "title 'heap goal'");
        if (has[2])
            sb_clause(&plot, "'' index 0 using ($2/1e9):($5/scale) with points ls 3 pt 7 ps 0.5 "
                      "title 'live heap (marked)'");
        if (has[0])
            sb_clause(&plot, "'' index 0 using ($1/1e9):($3/scale) with points ls 9 pt 2 ps 0.7 "
                      "title 'GC cycle start: the heap then (%zu cycles)'", c->nc);
        limit_line(&plot, &labels, lmax, &max);
        snprintf(ch->caption, sizeof ch->caption,
                 "No heap series in this run%s: the heap from gc_cycles (%zu cycles): at the "
                 "start of each cycle, at the end of marking and the live heap marking found, "
                 "with the heap goal%s.", is_gctrace(run) ? " (a gctrace import)" : "", c->nc,
                 is_gctrace(run) ? "; gctrace gives sizes in MB" : "");
    }
    if (close_out(f, path) < 0) {
        chart_free(&d, &plot, &labels, (sbuf *)NULL);
        return -1;
    }
    if (plot.len == 0) {
        chart_free(&d, &plot, &labels, (sbuf *)NULL);
        skip(ch, "the heap series and GC cycles have no heap sizes");
        rp_path(path, c->r, "heap.dat");
        remove(path);
        return 0;
    }
    byte_axis(c, ch, &d, max, "", "Y_MAX", 1.3);
    dset(&d, "T_END", "%s", secs(b2, c->T));
    dset(&d, "LABELS", "%s", sb_str(&labels));
    dset(&d, "PLOT", "%s", sb_str(&plot));
    int rc = write_script(c, ch, series_heap > 0 ? "heap" : "heap_gc", &d);
    chart_free(&d, &plot, &labels, (sbuf *)NULL);
    return rc;
}

/* ---- 2. stop-the-world pauses ---- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int chart_pauses(ctx *c, rp_chart *ch)
{
    const rm_run *run = c->run;
    if (run->npauses == 0) {
        skip(ch, "%s", c->nc ? "no GC cycle has a pause time" : "no GC cycles in this run");
        return 0;
    }
    char path[PATH_MAX], b1[CLI_FMT_LEN], b2[CLI_FMT_LEN];
    FILE *f = open_data(c, ch, path);
    if (!f)
        return -1;
    fputs("# index 0: GC cycles\n# num\tstart_ns\tpause_ns\tforced\n", f);
    int64_t *p = cli_xmalloc(c->nc * sizeof *p);
    size_t n = 0, forced = 0, timed = 0;
    for (size_t i = 0; i < c->nc; i++) {
        const cycle *g = &c->c[i];
        if (!valid(g->pause) || g->pause < 0)
            continue;
        p[n++] = g->pause;
        fprintf(f, "%lld", (long long)g->num);
        put_i64(f, g->start);
        fprintf(f, "\t%lld\t%d\n", (long long)g->pause, g->forced == 1);
        forced += g->forced == 1 && valid(g->start);
        timed += valid(g->start);
    }
    qsort(p, n, sizeof *p, cmp_i64);
    block_sep(f);
    fputs("# index 1: the pauses sorted, with the share of cycles at or below each\n"
          "# pause_ns\tfraction\n", f);
    fprintf(f, "%lld\t0\n", (long long)p[0]);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%lld\t%.9g\n", (long long)p[i], (double)(i + 1) / (double)n);
    int64_t max = p[n - 1], min = p[0];
    free(p);
    if (close_out(f, path) < 0)
        return -1;

    dict d = { 0 };
    sbuf pt = { 0 }, pc = { 0 };
    chart_title(c, ch, &d);
    dset(&d, "P50_MS", "%.9g", (double)run->pause_p50 / 1e6);
    dset(&d, "P99_MS", "%.9g", (double)run->pause_p99 / 1e6);
    char lab[96];
    snprintf(lab, sizeof lab, "p50 %s", cli_fmt_ns(b1, run->pause_p50));
    dset_quoted(&d, "P50_LABEL", lab);
    snprintf(lab, sizeof lab, "p99 %s", cli_fmt_ns(b1, run->pause_p99));
    dset_quoted(&d, "P99_LABEL", lab);
    dset(&d, "T_END", "%s", secs(b1, c->T));
    dset(&d, "Y_MAX", "%s", axis_max(b2, (double)max / 1e6, 1.25));
    /* the distribution's x axis: room right of p99 for its label (about
     * a third of the panel's width) */
    double p99 = (double)run->pause_p99 / 1e6;
    int logx = run->pause_p50 > 0 && min > 0 && max > 10 * run->pause_p50;
    if (logx) {
        double lo = (double)min / 1e6 / 1.25, hi = (double)max / 1e6 * 1.25;
        while (log(hi / p99) < 0.42 * log(hi / lo))
            hi *= 1.1;
        dset(&d, "CDF_XAXIS", "set logscale x\nset format x '%%g'\nset xrange [%.6g:%.6g]", lo, hi);
    } else {
        double hi = fmax((double)max / 1e6 * 1.05, p99 * 1.6);
        dset(&d, "CDF_XAXIS", "set xrange [0:%s]", axis_max(b2, hi, 1.0));
    }
    if (timed > 0)
        sb_clause(&pt, "datafile index 0 using ($2/1e9):($3/1e6) with impulses ls 1 lw 1.5 "
                  "title 'pause of a cycle (%zu)'", timed);
    else
        sb_clause(&pt, "NaN notitle");

    if (forced > 0)
        sb_clause(&pt, "'' index 0 using ($2/1e9):($4 == 1 ? $3/1e6 : NaN) with points ls 4 pt 7 "
                  "ps 0.8 title 'forced cycle (%zu)'", forced);
    snprintf(lab, sizeof lab, "p50 %s", cli_fmt_ns(b1, run->pause_p50));
    sb_clause(&pt, "p50 with lines ls 2 dt 2 title '%s'", lab);
    snprintf(lab, sizeof lab, "p99 %s", cli_fmt_ns(b1, run->pause_p99));
    sb_clause(&pt, "p99 with lines ls 4 dt 2 title '%s'", lab);
    sb_clause(&pc, "datafile index 1 using ($1/1e6):($2*100) with steps ls 1 "
              "title '%zu pauses'", n);
    dset(&d, "PLOT_TIME", "%s", sb_str(&pt));
    dset(&d, "PLOT_CDF", "%s", sb_str(&pc));
    snprintf(ch->caption, sizeof ch->caption,
             "The stop-the-world pause of each GC cycle (gc_cycles.pause_ns, %zu cycles) at its "
             "start, and their distribution: the share of cycles whose pause is at most x. "
             "p50 %s and p99 %s are nearest-rank percentiles, as in the GC table.%s", n,
             cli_fmt_ns(b1, run->pause_p50), cli_fmt_ns(b2, run->pause_p99),
             timed < n ? " Cycles without a start time are only in the distribution." : "");
    int rc = write_script(c, ch, "pauses", &d);
    chart_free(&d, &pt, &pc, (sbuf *)NULL);
    return rc;
}

/* ---- 3. GC CPU fraction and the knobs ---- */

typedef struct tv {
    int64_t t;
    double v;
} tv;

/* A knob as a staircase: (t, v) rows with explicit steps, for `with lines`
 * (a NaN value, "off" or "none", breaks the line). */
typedef struct stairs {
    tv *p;
    size_t n, cap;
    int any;            /* a value that is not NaN */
    double max;
} stairs;

static void st_add(stairs *s, int64_t t, double v)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->p = cli_xrealloc(s->p, s->cap * sizeof *s->p);
    }
    s->p[s->n++] = (tv){ t, v };
    if (isfinite(v)) {
        s->any = 1;
        if (v > s->max)
            s->max = v;
    }
}

static int same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* The value v from time t on. */
static void st_step(stairs *s, int64_t t, double v)
{
    if (s->n > 0) {
        double last = s->p[s->n - 1].v;
        if (same(last, v))
            return;
        st_add(s, t, last);     /* the old value up to t */
    }
    st_add(s, t, v);
}

static void st_end(stairs *s, int64_t T)
{
    if (s->n > 0 && s->p[s->n - 1].t < T)
        st_add(s, T, s->p[s->n - 1].v);
}

static double gogc_value(int64_t v)
{
    return !valid(v) || v < 0 ? NAN : (double)v;
}

static double limit_dbl(int64_t v)
{
    int64_t l = limit_value(v);
    return l < 0 ? NAN : (double)l;
}

/* Steps of a knob: from the tuner's decisions on it when there are any,
 * else from what heap_series (else gc_cycles) recorded.  Returns 1 when
 * from tuner events. */
static int knob_stairs(const ctx *c, const char *knob, stairs *s)
{
    int is_gogc = !strcmp(knob, "gogc");
    size_t nev = 0;
    for (size_t i = 0; i < c->run->nevents; i++)
        nev += !strcmp(c->run->events[i].knob, knob);
    double first = NAN;     /* the first recorded value */
    int have_first = 0;
    if (c->nh > 0) {
        for (size_t i = 0; i < c->nh && !have_first; i++) {
            int64_t v = is_gogc ? c->h[i].gc_percent : c->h[i].limit;
            if (valid(v)) {
                first = is_gogc ? gogc_value(v) : limit_dbl(v);
                have_first = 1;
            }
        }
    } else {
        for (size_t i = 0; i < c->nc && !have_first; i++) {
            int64_t v = is_gogc ? c->c[i].gc_percent : c->c[i].limit;
            if (valid(v)) {
                first = is_gogc ? gogc_value(v) : limit_dbl(v);
                have_first = 1;
            }
        }
    }
    if (nev > 0) {
        int started = 0;
        for (size_t i = 0; i < c->run->nevents; i++) {
            const rm_event *e = &c->run->events[i];
            if (strcmp(e->knob, knob))
                continue;
            if (!started) {
                double v0 = valid(e->old_value)
                                ? (is_gogc ? gogc_value(e->old_value) : limit_dbl(e->old_value))
                                : first;
                if (valid(e->old_value) || have_first)
                    st_add(s, 0, v0);
                started = 1;
            }
            if (valid(e->new_value))
                st_step(s, e->time_ns, is_gogc ? gogc_value(e->new_value) : limit_dbl(e->new_value));
        }
        st_end(s, c->T);
        return 1;
    }
    if (c->nh > 0) {
        for (size_t i = 0; i < c->nh; i++) {
            int64_t v = is_gogc ? c->h[i].gc_percent : c->h[i].limit;
            if (valid(v))
                st_step(s, s->n ? c->h[i].t : 0, is_gogc ? gogc_value(v) : limit_dbl(v));
        }
    } else {
        for (size_t i = 0; i < c->nc; i++) {
            int64_t v = is_gogc ? c->c[i].gc_percent : c->c[i].limit;
            int64_t t = valid(c->c[i].start) ? c->c[i].start : c->c[i].end;
            if (valid(v) && valid(t))
                st_step(s, s->n ? t : 0, is_gogc ? gogc_value(v) : limit_dbl(v));
        }
    }
    st_end(s, c->T);
    return 0;
}

static void put_stairs(FILE *f, const stairs *s, const char *what)
{
    if (s->n == 0)
        fprintf(f, "# (no %s values)\n", what);
    for (size_t i = 0; i < s->n; i++) {
        fprintf(f, "%lld", (long long)s->p[i].t);
        put_dbl(f, s->p[i].v);
        fputc('\n', f);
    }
}

typedef struct window {
    int64_t t0, t1;
    double v;
} window;

/* GC CPU per window from the cycles' CPU times: a cycle's GC CPU is its
 * pause x procs (every thread stopped: libgc marks in the pause on procs
 * threads; Go's sweep and mark termination stop every P) + assist +
 * background marking CPU, spread evenly over the cycle [start, end]; a
 * window's fraction is the GC CPU in it over its length x procs.  This is
 * how libgc and Go count GCCPUFraction, without the aliasing of a
 * cumulative fraction that jumps at each cycle's end (and Go's gctrace
 * rounds it to whole percents).  Returns the number of windows (0: the
 * cycles lack start times, procs or CPU times). */
static size_t cycle_windows(const ctx *c, window **out)
{
    size_t usable = 0;
    for (size_t i = 0; i < c->nc; i++) {
        const cycle *g = &c->c[i];
        usable += valid(g->start) && valid(g->procs) && g->procs > 0 &&
                  (valid(g->pause) || valid(g->assist) || valid(g->background));
    }
    if (usable < 2 || usable < (c->nc + 1) / 2)
        return 0;
    size_t k = usable / 2;
    if (k < 10)
        k = 10;
    if (k > CPU_MIN_WINDOWS)
        k = CPU_MIN_WINDOWS;
    double *cpu = cli_xcalloc(k, sizeof *cpu);
    double w = (double)c->T / (double)k;
    int64_t procs = 1;
    for (size_t i = 0; i < c->nc; i++) {
        const cycle *g = &c->c[i];
        if (!(valid(g->start) && valid(g->procs) && g->procs > 0))
            continue;
        procs = g->procs;
        double v = (valid(g->pause) && g->pause > 0 ? (double)g->pause * (double)g->procs : 0) +
                   (valid(g->assist) && g->assist > 0 ? (double)g->assist : 0) +
                   (valid(g->background) && g->background > 0 ? (double)g->background : 0);
        double a = (double)g->start;
        double b = valid(g->end) && g->end > g->start ? (double)g->end : a;
        if (a < 0)
            a = 0;
        if (b < a)
            b = a;
        if (b == a) {           /* no duration: all in the window of its start */
            size_t j = (size_t)(a / w);
            cpu[j < k ? j : k - 1] += v;
            continue;
        }
        size_t j0 = (size_t)(a / w), j1 = (size_t)(b / w);
        for (size_t j = j0; j <= j1 && j < k; j++) {
            double lo = fmax(a, w * (double)j), hi = fmin(b, w * (double)(j + 1));
            if (hi > lo)
                cpu[j] += v * (hi - lo) / (b - a);
        }
        if (j1 >= k && b > w * (double)k)     /* past the end of the axis */
            cpu[k - 1] += v * (b - fmax(a, w * (double)k)) / (b - a);
    }
    window *win = cli_xmalloc(k * sizeof *win);
    for (size_t j = 0; j < k; j++)   /* procs: of the last cycle (rarely changes) */
        win[j] = (window){ cli_round(w * (double)j), cli_round(w * (double)(j + 1)),
                           cpu[j] / (w * (double)procs) };
    free(cpu);
    *out = win;
    return k;
}

static int chart_gc_cpu(ctx *c, rp_chart *ch)
{
    /* the cumulative fraction: heap_series, else gc_cycles (end of each) */
    tv *pts = cli_xmalloc((c->nh + c->nc + 1) * sizeof *pts);
    size_t n = 0;
    for (size_t i = 0; i < c->nh; i++)
        if (isfinite(c->h[i].cpu) && c->h[i].t > 0)
            pts[n++] = (tv){ c->h[i].t, c->h[i].cpu };
    int from_series = n >= 2;
    if (!from_series) {
        /* the cycles', when they have more points */
        tv *cp = cli_xmalloc((c->nc + 1) * sizeof *cp);
        size_t m = 0;
        for (size_t i = 0; i < c->nc; i++) {
            int64_t t = valid(c->c[i].end) ? c->c[i].end : c->c[i].start;
            if (isfinite(c->c[i].cpu) && valid(t) && t > 0 && (m == 0 || t > cp[m - 1].t))
                cp[m++] = (tv){ t, c->c[i].cpu };
        }
        if (m > n) {
            free(pts);
            pts = cp;
            n = m;
        } else {
            free(cp);
            from_series = n > 0;
        }
    }
    /* the windows: differences of the series' cumulative fraction; else the
     * cycles' CPU times; else differences of the cycles' fraction */
    window *win = NULL;
    size_t nwin = 0;
    char b1[CLI_FMT_LEN], b2[CLI_FMT_LEN];
    char how[512];
    if ((nwin = cycle_windows(c, &win)) > 0) {
        snprintf(how, sizeof how, "from the GC cycles' CPU times (pause x procs + assist + "
                 "background marking, spread over each cycle) over the window's length x "
                 "procs, %zu windows of %s", nwin, cli_fmt_ns(b1, win[0].t1 - win[0].t0));
    } else if (n >= 1) {
        /* windows at least 0.8 T/CPU_MIN_WINDOWS long (a series sampled every
         * T/100 keeps its points), from t = 0 (fraction 0) */
        int64_t minw = c->T / CPU_MIN_WINDOWS / 10 * 8, t1 = 0;
        double f1 = 0;
        win = cli_xmalloc(n * sizeof *win);
        for (size_t i = 0; i < n; i++) {
            if ((pts[i].t - t1 < minw && i + 1 < n) || pts[i].t <= t1)
                continue;
            double v = (pts[i].v * (double)pts[i].t - f1 * (double)t1) / (double)(pts[i].t - t1);
            /* below 0: rounding, or the fraction's clock starting a little
             * after the run's */
            win[nwin++] = (window){ t1, pts[i].t, v > 0 ? v : 0 };
            t1 = pts[i].t;
            f1 = pts[i].v;
        }
        snprintf(how, sizeof how, "from the cumulative fraction f recorded in %s (the cycles "
                 "lack CPU times): (f2*t2 - f1*t1)/(t2 - t1), 0 when below, over %zu windows of "
                 "at least %s", from_series
                     ? "heap_series" : "gc_cycles at the end of each cycle", nwin,
                 cli_fmt_ns(b1, minw > 0 ? minw : 1));
    } else {
        free(pts);
        skip(ch, "no GC CPU fraction recorded (%s)",
             rm_empty(c->run) ? "an empty run" : "no heap series or GC cycle has one");
        return 0;
    }
    char path[PATH_MAX];
    FILE *f = open_data(c, ch, path);
    if (!f) {
        free(pts);
        free(win);
        return -1;
    }
    fprintf(f, "# index 0: GC CPU fraction per window (0..1), as steps (each window's value at\n"
               "# its start and its end): %s\n# time_ns\tfraction\n", how);
    double cpu_max = 0;
    for (size_t i = 0; i < nwin; i++) {
        fprintf(f, "%lld\t%.9g\n%lld\t%.9g\n", (long long)win[i].t0, win[i].v,
                (long long)win[i].t1, win[i].v);
        if (win[i].v > cpu_max)
            cpu_max = win[i].v;
    }
    free(win);
    block_sep(f);
    fputs("# index 1: the cumulative GC CPU fraction since the start (0..1)\n"
          "# time_ns\tfraction\n", f);
    if (n == 0)
        fputs("# (none recorded)\n", f);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%lld\t%.9g\n", (long long)pts[i].t, pts[i].v);
        if (pts[i].v > cpu_max)
            cpu_max = pts[i].v;
    }
    free(pts);

    stairs gogc = { 0 }, lim = { 0 };
    int gogc_ev = knob_stairs(c, "gogc", &gogc);
    int lim_ev = knob_stairs(c, "memory_limit", &lim);
    block_sep(f);
    fprintf(f, "# index 2: GOGC (%%) as steps, from %s; NaN: off\n# time_ns\tgogc\n",
            gogc_ev ? "the tuner's decisions (tuner_events)" : "the recorded gc_percent");
    put_stairs(f, &gogc, "GOGC");
    block_sep(f);
    fprintf(f, "# index 3: the memory limit (bytes) as steps, from %s; NaN: none\n"
               "# time_ns\tmemory_limit\n",
            lim_ev ? "the tuner's decisions (tuner_events)" : "the recorded memory_limit");
    put_stairs(f, &lim, "memory limit");
    block_sep(f);
    fputs("# index 4: tuner decisions\n# time_ns\tknob\tnew_value\n", f);
    size_t ev_gogc = 0, ev_lim = 0;
    for (size_t i = 0; i < c->run->nevents; i++) {
        const rm_event *e = &c->run->events[i];
        char kt[64];
        int g = !strcmp(e->knob, "gogc"), l = !strcmp(e->knob, "memory_limit");
        fprintf(f, "%lld\t%s", (long long)e->time_ns, data_text(kt, sizeof kt, e->knob, 0));
        double v = !valid(e->new_value) ? NAN : g ? gogc_value(e->new_value)
                 : l ? limit_dbl(e->new_value) : (double)e->new_value;
        put_dbl(f, v);
        fputc('\n', f);
        ev_gogc += g && isfinite(v);
        ev_lim += l && isfinite(v);
    }
    if (c->run->nevents == 0)
        fputs("# (no tuner decisions)\n", f);
    if (close_out(f, path) < 0) {
        free(gogc.p);
        free(lim.p);
        return -1;
    }

    dict d = { 0 };
    sbuf pc = { 0 }, pk = { 0 }, kl = { 0 };
    int knobs = gogc.any || lim.any;
    char title[512];
    snprintf(title, sizeof title, "%s - %s", ch->title, c->run_label);
    dset(&d, "KNOB_SOURCE", "%s", gogc_ev || lim_ev ? "from the tuner's decisions when it made any, "
                                                    "else as recorded" : "as recorded");
    dset(&d, "T_END", "%s", secs(b1, c->T));
    dset(&d, "CPU_Y_MAX", "%s", axis_max(b2, cpu_max * 100, 1.3));
    sb_clause(&pc, "datafile index 0 using ($1/1e9):($2*100) with lines ls 1 "
              "title 'GC CPU per window (%zu)'", nwin);
    if (n > 0)
        sb_clause(&pc, "'' index 1 using ($1/1e9):($2*100) with lines ls 2 dt 2 "
                  "title 'cumulative since the start'");
    dset(&d, "PLOT_CPU", "%s", sb_str(&pc));
    if (knobs) {
        sbuf lay = { 0 };
        sb_add(&lay, "set multiplot title ");
        sb_quote(&lay, title);
        sb_add(&lay, " font ',16'\nset tmargin at screen 0.88\nset bmargin at screen 0.50\n"
                     "set lmargin at screen 0.08\nset rmargin at screen 0.90");
        dset(&d, "LAYOUT", "%s", sb_str(&lay));
        sb_free(&lay);
        dset(&d, "PANEL_TITLE", "unset title");
        dset(&d, "CPU_KEY", "set key at graph 0, graph 1 left bottom horizontal Left reverse "
                            "nobox noopaque width 2");
        dset(&d, "CPU_XLABEL", "unset xlabel");
        unit u = bytes_unit(lim.max);
        dset(&d, "UNIT", "%s", u.name);
        dset(&d, "SCALE", "%.0f", u.scale);
        dset(&d, "GOGC_Y_MAX", "%s", axis_max(b1, gogc.any ? gogc.max : 100, 1.35));
        dset(&d, "LIMIT_Y_MAX", "%s", axis_max(b2, lim.any ? lim.max / u.scale : 1, 1.8));
        dset(&d, "Y2TICS", "%s", lim.any ? "set y2tics nomirror" : "unset y2label");
        if (gogc.any)
            sb_clause(&pk, "datafile index 2 using ($1/1e9):2 axes x1y1 with lines ls 1 "
                      "title 'GOGC (%%)'");
        else
            sb_add(&kl, "set label 1 'GOGC off' at graph 0.5, graph 0.5 center\n");
        if (lim.any)
            sb_clause(&pk, "%s index 3 using ($1/1e9):($2/scale) axes x1y2 with lines ls 5 "
                      "title 'memory limit (right axis)'", pk.len ? "''" : "datafile");
        else
            sb_add(&kl, "set label 2 'memory limit: none' at graph 0.99, graph 0.9 right\n");
        if (ev_gogc)
            sb_clause(&pk, "'' index 4 using ($1/1e9):(strcol(2) eq 'gogc' ? $3 : NaN) axes x1y1 "
                      "with points ls 4 pt 9 ps 1.6 title 'tuner decision (GOGC)'");
        if (ev_lim)
            sb_clause(&pk, "'' index 4 using ($1/1e9):(strcol(2) eq 'memory_limit' ? $3/scale : NaN) "
                      "axes x1y2 with points ls 6 pt 11 ps 1.6 title 'tuner decision (memory limit)'");
        dset(&d, "KNOB_LABELS", "%s", sb_str(&kl));
        dset(&d, "PLOT_KNOBS", "%s", sb_str(&pk));
        sbuf kn = { 0 };
        expand(&kn, "gc_cpu_knobs", &d);
        dset(&d, "KNOBS", "%s", sb_str(&kn));
        sb_free(&kn);
    } else {
        dset(&d, "LAYOUT", "%s", "");
        sbuf tl = { 0 };
        sb_add(&tl, "set title ");
        sb_quote(&tl, title);
        dset(&d, "PANEL_TITLE", "%s", sb_str(&tl));
        sb_free(&tl);
        dset(&d, "CPU_KEY", "set key below center horizontal Left reverse nobox noopaque width 2 height 1");
        dset(&d, "CPU_XLABEL", "set xlabel 'time since the start of the run (s)'");
        dset(&d, "KNOBS", "%s", "");
    }
    snprintf(ch->caption, sizeof ch->caption,
             "The share of the available CPU the GC used in each window, %s; and the "
             "cumulative fraction since the start. %s", how,
             !knobs ? "No GOGC or memory-limit values were recorded."
             : gogc_ev || lim_ev ? "Below: GOGC and the memory limit as step lines from the "
                                   "tuner's decisions (tuner_events), marked as points."
             : "Below: GOGC and the memory limit as the runtime recorded them (no tuner "
               "decisions in this run).");
    int rc = write_script(c, ch, "gc_cpu", &d);
    chart_free(&d, &pc, &pk, &kl, (sbuf *)NULL);
    free(gogc.p);
    free(lim.p);
    return rc;
}

/* ---- samples: rm_history for charts 5 and 6 ---- */

static int load_history(ctx *c)
{
    if (c->history_loaded)
        return 0;
    c->history_loaded = 1;
    const rm_run *run = c->run;
    /* candidates: the sites holding the most at the end, leak suspects, and
     * the largest allocators (for runs where nothing is in use at the end) */
    size_t cap = INUSE_MAX_SITES + run->nleaks + 20;
    c->hist_ids = cli_xmalloc(cap * sizeof *c->hist_ids);
    cli_map seen;
    cli_map_init(&seen);
#define ADD_SITE(s)                                                  \
    do {                                                             \
        if (c->nhist < cap && !cli_map_get(&seen, (s)->stack_id)) {  \
            cli_map_put(&seen, (s)->stack_id, c->nhist);             \
            c->hist_ids[c->nhist++] = (s)->stack_id;                 \
        }                                                            \
    } while (0)
    for (size_t r = 0; r < run->nsites && r < INUSE_MAX_SITES; r++)
        if (run->sites[run->by_inuse[r]].inuse_bytes > 0)
            ADD_SITE(&run->sites[run->by_inuse[r]]);
    for (size_t r = 0; r < run->nsites; r++)
        if (run->sites[run->by_inuse[r]].leak)
            ADD_SITE(&run->sites[run->by_inuse[r]]);
    for (size_t r = 0; r < run->nsites && r < 20; r++)
        ADD_SITE(&run->sites[run->by_alloc[r]]);
#undef ADD_SITE
    cli_map_free(&seen);
    c->hist_inuse = cli_xmalloc((c->nhist ? c->nhist : 1) * (HISTORY_POINTS + 1) * sizeof(double));
    c->hist_alloc = cli_xmalloc((HISTORY_POINTS + 1) * sizeof(double));
    return rm_history(c->r->db, run, c->hist_ids, c->nhist, HISTORY_POINTS, c->hist_inuse,
                      c->hist_alloc);
}

static const rm_site *site_of(const rm_run *run, int64_t id)
{
    for (size_t i = 0; i < run->nsites; i++)
        if (run->sites[i].stack_id == id)
            return &run->sites[i];
    return NULL;
}

/* The labels of sites on a chart: "leaf (file:line) <- caller:line" (the
 * caller's line tells apart the sites analyze shows as "leaf <- caller"),
 * at most LABEL_MAX characters, data-file safe (data_text); labels still
 * the same get " [stack ID]". */
#define CHART_LABEL_LEN 256
static void chart_labels(const rm_run *run, const rm_site *const *sites, size_t n,
                         char (*out)[CHART_LABEL_LEN])
{
    char label[1024], nb[128];
    for (size_t i = 0; i < n; i++) {
        const rm_site *s = sites[i];
        rm_site_label(run, s, label, sizeof label);
        if (s->nips > 1) {
            size_t len = strlen(label);
            const rm_frame *f = rm_frame_of(run, s->ips[1]);
            snprintf(label + len, sizeof label - len, " <- %s", rm_name(run, s->ips[1], nb, sizeof nb));
            len = strlen(label);
            if (f && f->line > 0)
                snprintf(label + len, sizeof label - len, ":%lld", (long long)f->line);
        }
        data_text(out[i], CHART_LABEL_LEN, label, LABEL_MAX);
    }
    unsigned char *dup = cli_xcalloc(n ? n : 1, 1);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (!strcmp(out[i], out[j]))
                dup[i] = dup[j] = 1;
    for (size_t i = 0; i < n; i++) {
        if (!dup[i])
            continue;
        char suffix[48];
        snprintf(suffix, sizeof suffix, " [stack %lld]", (long long)sites[i]->stack_id);
        rm_site_label(run, sites[i], label, sizeof label);
        /* the base again, shortened so that the suffix fits */
        size_t keep = LABEL_MAX > strlen(suffix) + 4 ? LABEL_MAX - strlen(suffix) : 4;
        char base[CHART_LABEL_LEN];
        snprintf(base, sizeof base, "%s", out[i]);
        if (strlen(base) > keep)
            data_text(base, sizeof base, out[i], keep);
        snprintf(out[i], CHART_LABEL_LEN, "%.200s%.40s", base, suffix);
    }
    free(dup);
}
/* ---- 4. top allocation sites ---- */

static int chart_sites(ctx *c, rp_chart *ch)
{
    const rm_run *run = c->run;
    if (run->nsites == 0 || run->alloc_bytes <= 0) {
        skip(ch, "no allocation samples in this run%s",
             is_gctrace(run) ? " (a gctrace import has none)" : "");
        return 0;
    }
    size_t n = c->r->top == 0 || c->r->top > SITES_MAX ? SITES_MAX : c->r->top;
    if (n > run->nsites)
        n = run->nsites;
    char path[PATH_MAX], b1[CLI_FMT_LEN], b2[CLI_FMT_LEN];
    FILE *f = open_data(c, ch, path);
    if (!f)
        return -1;
    fprintf(f, "# The top %zu of %zu sites by allocated bytes (unbiased estimates from the\n"
               "# samples, as gctune analyze reports them).\n"
               "# rank\tsite\talloc_bytes\tinuse_bytes\talloc_text\tinuse_text\tleak_suspect\t"
               "stack_id\n", n, run->nsites);
    double max = 0;
    size_t leaks = 0;
    const rm_site **ss = cli_xmalloc(n * sizeof *ss);
    char (*labels)[CHART_LABEL_LEN] = cli_xmalloc(n * sizeof *labels);
    for (size_t r = 0; r < n; r++)
        ss[r] = &run->sites[run->by_alloc[r]];
    chart_labels(run, ss, n, labels);
    for (size_t r = 0; r < n; r++) {
        const rm_site *s = ss[r];
        char it[96];
        snprintf(it, sizeof it, "%s%s", cli_fmt_bytes(b2, s->inuse_bytes),
                 s->leak ? " (leak suspect)" : "");
        fprintf(f, "%zu\t%s\t%lld\t%lld\t%s\t%s\t%d\t%lld\n", r + 1,
                labels[r], (long long)s->alloc_bytes,
                (long long)s->inuse_bytes, cli_fmt_bytes(b1, s->alloc_bytes), it, s->leak,
                (long long)s->stack_id);
        if ((double)s->alloc_bytes > max)
            max = (double)s->alloc_bytes;
        if ((double)s->inuse_bytes > max)
            max = (double)s->inuse_bytes;
        leaks += s->leak;
    }
    free(ss);
    free(labels);
    if (close_out(f, path) < 0)
        return -1;
    dict d = { 0 };
    sbuf p = { 0 };
    byte_axis(c, ch, &d, max, "", "X_MAX", 1.28);
    dset(&d, "Y_MAX", "%.1f", (double)n + 0.6);
    sb_clause(&p, "datafile using (0):1:(0):($3/scale):($1-0.4):($1-0.02):ytic(2) "
              "with boxxyerror ls 1 title 'allocated'");
    sb_clause(&p, "'' using (0):1:(0):($4/scale):($1+0.02):($1+0.4) with boxxyerror ls 2 "
              "title 'in use at the end'");
    sb_clause(&p, "'' using ($3/scale):($1-0.21):(' '.strcol(5)) with labels left font ',11' "
              "notitle");
    sb_clause(&p, "'' using ($4/scale):($1+0.21):(' '.strcol(6)) with labels left font ',11' "
              "notitle");
    dset(&d, "PLOT", "%s", sb_str(&p));
    snprintf(ch->caption, sizeof ch->caption,
             "The %zu sites (of %zu) that allocated the most bytes, each shown by its leaf "
             "function and its caller: bytes allocated and bytes still in use at the end of the "
             "run, unbiased estimates from the samples as in the tables below%s.%s", n,
             run->nsites, leaks ? "; leak suspects are marked" : "",
             rm_has_frees(run) ? "" : " The backend does not report frees: every sampled object "
                                      "counts as in use.");
    int rc = write_script(c, ch, "sites", &d);
    chart_free(&d, &p, (sbuf *)NULL);
    return rc;
}

/* ---- 5. allocation rate ---- */

static int chart_alloc_rate(ctx *c, rp_chart *ch)
{
    const rm_run *run = c->run;
    size_t nta = 0;
    for (size_t i = 0; i < c->nh; i++)
        nta += valid(c->h[i].total_alloc);
    int runtime = nta >= 2, sampled = run->samples > 0 && run->alloc_bytes > 0;
    if (!runtime && !sampled) {
        skip(ch, "no total_alloc series and no allocation samples%s",
             is_gctrace(run) ? " (a gctrace import has neither)" : "");
        return 0;
    }
    if (sampled && load_history(c) < 0)
        return -1;
    char path[PATH_MAX], b1[CLI_FMT_LEN];
    FILE *f = open_data(c, ch, path);
    if (!f)
        return -1;
    double max = 0;
    fputs("# index 0: from the runtime's cumulative total_alloc (heap_series): bytes per\n"
          "# second between consecutive points, as steps (each interval's start and end)\n"
          "# time_ns\tbytes_per_s\n", f);
    size_t nrt = 0;
    if (runtime) {
        int64_t pt = RM_NONE, pv = RM_NONE;
        for (size_t i = 0; i < c->nh; i++) {
            const hpoint *h = &c->h[i];
            if (!valid(h->total_alloc))
                continue;
            if (valid(pt) && h->t > pt && h->total_alloc >= pv) {
                double rate = ((double)h->total_alloc - (double)pv) /
                              (((double)h->t - (double)pt) / 1e9);
                fprintf(f, "%lld\t%.9g\n%lld\t%.9g\n", (long long)pt, rate, (long long)h->t, rate);
                if (rate > max)
                    max = rate;
                nrt++;
            }
            pt = h->t;
            pv = h->total_alloc;
        }
    } else {
        fputs("# (no total_alloc series)\n", f);
    }
    block_sep(f);
    /* sample windows: groups of g history steps, g dividing HISTORY_POINTS,
     * the smallest with about 50 samples per window on average */
    static const int divs[] = { 1, 2, 4, 5, 8, 10, 20, 25, 40, 50, 100, 200 };
    int g = HISTORY_POINTS;
    for (size_t i = 0; i < sizeof divs / sizeof divs[0]; i++) {
        if ((double)run->samples * divs[i] / HISTORY_POINTS >= 50) {
            g = divs[i];
            break;
        }
    }
    double step_ns = (double)run->end_ns / HISTORY_POINTS;
    fprintf(f, "# index 1: estimated from the allocation samples (sum of weight x size) per\n"
               "# window of %s, as steps\n# time_ns\tbytes_per_s\n",
            cli_fmt_ns(b1, cli_round(step_ns * g)));
    size_t nsw = 0;
    if (sampled) {
        for (int k = 1; k + g - 1 <= HISTORY_POINTS; k += g) {
            double sum = 0;
            for (int j = 0; j < g; j++)
                sum += c->hist_alloc[k + j];
            double t0 = step_ns * (k - 1), t1 = step_ns * (k - 1 + g);
            double rate = sum / ((t1 - t0) / 1e9);
            fprintf(f, "%.0f\t%.9g\n%.0f\t%.9g\n", t0, rate, t1, rate);
            if (rate > max)
                max = rate;
            nsw++;
        }
    } else {
        fputs("# (no allocation samples)\n", f);
    }
    if (close_out(f, path) < 0)
        return -1;
    dict d = { 0 };
    sbuf p = { 0 };
    byte_axis(c, ch, &d, max, "/s", "Y_MAX", 1.3);
    dset(&d, "T_END", "%s", secs(b1, c->T));
    if (runtime && nrt > 0)
        sb_clause(&p, "datafile index 0 using ($1/1e9):($2/scale) with lines ls 1 "
                  "title 'runtime (total_alloc, %zu intervals)'", nrt);
    if (sampled && nsw > 0)
        sb_clause(&p, "%s index 1 using ($1/1e9):($2/scale) with lines ls 2 "
                  "title 'estimated from the samples (%zu windows)'", p.len ? "''" : "datafile", nsw);
    if (p.len == 0) {
        chart_free(&d, &p, (sbuf *)NULL);
        skip(ch, "total_alloc never grew between heap series points");
        return 0;
    }
    dset(&d, "PLOT", "%s", sb_str(&p));
    snprintf(ch->caption, sizeof ch->caption, "Bytes allocated per second%s%s%s.",
             runtime && nrt ? ": from the runtime's cumulative total_alloc (heap_series), "
                              "between consecutive points" : "",
             runtime && nrt && sampled ? "; and" : sampled ? ":" : "",
             sampled ? " estimated from the allocation samples (weight x size) per window" : "");
    int rc = write_script(c, ch, "alloc_rate", &d);
    chart_free(&d, &p, (sbuf *)NULL);
    return rc;
}

/* ---- 6. in-use bytes of the top sites over time ---- */

static int chart_inuse(ctx *c, rp_chart *ch)
{
    const rm_run *run = c->run;
    if (run->samples == 0 || run->nsites == 0) {
        skip(ch, "no allocation samples in this run%s",
             is_gctrace(run) ? " (a gctrace import has none)" : "");
        return 0;
    }
    if (load_history(c) < 0)
        return -1;
    /* the lines: candidates in order (in use at the end, leak suspects, the
     * largest allocators) with in-use bytes at the end; when none has any,
     * those with the largest peak */
    size_t sel[INUSE_MAX_LINES], nsel = 0;
    int by_peak = 0;
    for (size_t i = 0; i < c->nhist && nsel < INUSE_MAX_LINES; i++) {
        const rm_site *s = site_of(run, c->hist_ids[i]);
        if (s && s->inuse_bytes > 0 && (nsel < INUSE_MAX_SITES || s->leak))
            sel[nsel++] = i;
    }
    if (nsel == 0) {
        by_peak = 1;
        double peak[INUSE_MAX_SITES] = { 0 };
        for (size_t i = 0; i < c->nhist; i++) {
            double pk = 0;
            for (int k = 0; k <= HISTORY_POINTS; k++)
                pk = fmax(pk, c->hist_inuse[i * (HISTORY_POINTS + 1) + (size_t)k]);
            if (!(pk > 0))
                continue;
            size_t j = nsel < INUSE_MAX_SITES ? nsel++ : INUSE_MAX_SITES - 1;
            if (j == INUSE_MAX_SITES - 1 && nsel == INUSE_MAX_SITES && pk <= peak[j])
                continue;
            while (j > 0 && peak[j - 1] < pk) {
                peak[j] = peak[j - 1];
                sel[j] = sel[j - 1];
                j--;
            }
            peak[j] = pk;
            sel[j] = i;
        }
    }
    if (nsel == 0) {
        skip(ch, "no sampled object was in use at any time");
        return 0;
    }
    char path[PATH_MAX], b1[CLI_FMT_LEN];
    FILE *f = open_data(c, ch, path);
    if (!f)
        return -1;
    fprintf(f, "# Estimated in-use bytes of each site at %d equal steps of the run (the rule of\n"
               "# the leak windows of gctune analyze); the first row names the sites:\n"
               "# time_ns, then one column per site\n", HISTORY_POINTS);
    fputs("time_ns", f);
    double max = 0;
    size_t leaks = 0;
    const rm_site *ss[INUSE_MAX_LINES] = { 0 };
    char labels[INUSE_MAX_LINES][CHART_LABEL_LEN];
    for (size_t j = 0; j < nsel; j++)
        ss[j] = site_of(run, c->hist_ids[sel[j]]);
    chart_labels(run, ss, nsel, labels);
    for (size_t j = 0; j < nsel; j++) {
        fprintf(f, "\t\"%s%s\"", labels[j], ss[j]->leak ? " [leak suspect]" : "");
        leaks += ss[j]->leak;
    }
    fputc('\n', f);
    for (int k = 0; k <= HISTORY_POINTS; k++) {
        fprintf(f, "%.0f", (double)run->end_ns * k / HISTORY_POINTS);
        for (size_t j = 0; j < nsel; j++) {
            double v = c->hist_inuse[sel[j] * (HISTORY_POINTS + 1) + (size_t)k];
            fprintf(f, "\t%.0f", v);
            if (v > max)
                max = v;
        }
        fputc('\n', f);
    }
    if (close_out(f, path) < 0)
        return -1;
    dict d = { 0 };
    byte_axis(c, ch, &d, max, "", "Y_MAX", 1.1);
    dset(&d, "T_END", "%s", secs(b1, c->T));
    dset(&d, "POINTS", "%d", HISTORY_POINTS);
    dset(&d, "LAST_COLUMN", "%zu", nsel + 1);
    snprintf(ch->caption, sizeof ch->caption,
             "Estimated bytes held by %s over the run (sampled objects allocated and not yet "
             "freed, at %d equal steps)%s. A leak climbs and stays up; a cache levels off; "
             "transient allocations fall back to zero.%s", by_peak
                 ? "the sites with the largest peak (none holds memory at the end)"
                 : "the sites holding the most at the end",
             HISTORY_POINTS, leaks ? ", leak suspects marked" : "",
             rm_has_frees(run) ? "" : " The backend does not report frees: every sampled "
                                      "object counts as in use.");
    int rc = write_script(c, ch, "inuse", &d);
    dfree(&d);
    return rc;
}

/* ---- all charts ---- */

static const struct {
    const char *name, *title;
    int (*write)(ctx *, rp_chart *);
} charts[RP_NCHARTS] = {
    [RP_HEAP] = { "heap", "Heap over time", chart_heap },
    [RP_PAUSES] = { "pauses", "Stop-the-world pauses", chart_pauses },
    [RP_GC_CPU] = { "gc_cpu", "GC CPU fraction over time", chart_gc_cpu },
    [RP_SITES] = { "sites", "Top allocation sites", chart_sites },
    [RP_ALLOC_RATE] = { "alloc_rate", "Allocation rate over time", chart_alloc_rate },
    [RP_INUSE] = { "inuse", "In-use bytes of the top sites over time", chart_inuse },
};

char *rp_path(char *buf, const rp_report *r, const char *name)
{
    size_t n = strlen(r->dir);
    snprintf(buf, PATH_MAX, "%s%s%s", r->dir, n && r->dir[n - 1] == '/' ? "" : "/", name);
    return buf;
}

int rp_write_charts(rp_report *r)
{
    ctx c;
    memset(&c, 0, sizeof c);
    c.r = r;
    c.run = r->run;
    int rc = load_series(&c);
    if (rc == 0) {
        /* the time axes: the run's duration, or as far as anything was recorded */
        c.T = r->run->duration_ns != RM_NONE && r->run->duration_ns > 0 ? r->run->duration_ns : 0;
        if (c.T < r->run->end_ns && r->run->samples > 0)
            c.T = r->run->end_ns;
        if (c.nh > 0 && c.h[c.nh - 1].t > c.T)
            c.T = c.h[c.nh - 1].t;
        for (size_t i = 0; i < c.nc; i++) {
            if (valid(c.c[i].end) && c.c[i].end > c.T)
                c.T = c.c[i].end;
            if (valid(c.c[i].start) && c.c[i].start > c.T)
                c.T = c.c[i].start;
        }
        if (c.T <= 0)
            c.T = 1;
        const char *prog = r->run->program && *r->run->program ? r->run->program : r->run->path;
        const char *base = strrchr(prog, '/');
        base = base && base[1] ? base + 1 : prog;
        char t[200];
        data_text(t, sizeof t, base, 80);
        if (r->run->backend)
            snprintf(c.run_label, sizeof c.run_label, "%s (%s)", t, r->run->backend);
        else
            snprintf(c.run_label, sizeof c.run_label, "%s", t);
    }
    for (int i = 0; i < RP_NCHARTS && rc == 0; i++) {
        rp_chart *ch = &r->charts[i];
        memset(ch, 0, sizeof *ch);
        ch->name = charts[i].name;
        ch->title = charts[i].title;
        rc = charts[i].write(&c, ch);
    }
    free(c.h);
    free(c.c);
    free(c.hist_ids);
    free(c.hist_inuse);
    free(c.hist_alloc);
    return rc;
}
