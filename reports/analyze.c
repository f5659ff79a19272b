/* reports/analyze.c - `gctune analyze [--json] [--top N] [--stacks]
 * [--by stack|function] run.sqlite`:
 * the one-screen summary of a run (run facts, GC, heap, top allocation
 * sites by allocated and in-use bytes, leak suspects, tuner decisions), as
 * text or as one JSON object (keys documented in docs/cli.md). */
#include "reports/cli.h"
#include "reports/json.h"
#include "reports/model.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TOP 10

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

/* ---- the site lists (text and JSON alike) ---- */

/* A walk down a ranking of sites: the first n of order, stopping, by
 * in-use bytes, at the first site with none in use. */
typedef struct site_walk {
    const rm_run *run;
    const size_t *order;
    size_t n, rank;         /* rank: of the site walk_next gave last, from 1 */
    int by_inuse;
    int64_t total;
    double cum;
} site_walk;

static site_walk walk_start(const rm_run *run, const size_t *order, size_t n, int by_inuse)
{
    return (site_walk){ run, order, n, 0, by_inuse, by_inuse ? run->inuse_bytes : run->alloc_bytes, 0 };
}

/* The next site, with its share of the total and the cumulative share
 * (both NAN when the total is not positive); NULL at the end. */
static const rm_site *walk_next(site_walk *w, double *frac, double *cum)
{
    if (w->rank >= w->n)
        return NULL;
    const rm_site *s = &w->run->sites[w->order[w->rank]];
    int64_t v = w->by_inuse ? s->inuse_bytes : s->alloc_bytes;
    if (w->by_inuse && v == 0)
        return NULL;
    w->rank++;
    *frac = w->total > 0 ? (double)v / (double)w->total : NAN;
    w->cum += isfinite(*frac) ? *frac : 0;
    *cum = w->total > 0 ? w->cum : NAN;
    return s;
}

/* The next leak suspect after position *r of the in-use ranking, while
 * fewer than top (0: no limit) have been given (counted in *shown). */
static const rm_site *next_leak(const rm_run *run, size_t top, size_t *r, size_t *shown)
{
    if (top && *shown >= top)
        return NULL;
    while (*r < run->nsites) {
        const rm_site *s = &run->sites[run->by_inuse[(*r)++]];
        if (s->leak) {
            (*shown)++;
            return s;
        }
    }
    return NULL;
}

/* ---- text ---- */

static void print_i64_bytes(FILE *o, const char *label, int64_t v, const char *note)
{
    char b[CLI_FMT_LEN];
    if (v == RM_NONE)
        fprintf(o, "  %-18s -%s%s\n", label, note ? "  " : "", note ? note : "");
    else
        fprintf(o, "  %-18s %s%s%s\n", label, cli_fmt_bytes(b, v), note ? "  " : "", note ? note : "");
}

/* The values a knob took in the run, comma-separated ("-": none): neg for
 * a negative one (off, none), else the number, as bytes when bytes. */
static void print_seen(FILE *o, const char *label, const int64_t *v, int n, const char *neg, int bytes)
{
    char b[CLI_FMT_LEN];
    fprintf(o, "  %-18s", label);
    if (n == 0)
        fputs(" -", o);
    for (int i = 0; i < n; i++) {
        const char *sep = i ? "," : "";
        if (v[i] < 0)
            fprintf(o, "%s %s", sep, neg);
        else if (bytes)
            fprintf(o, "%s %s", sep, cli_fmt_bytes(b, v[i]));
        else
            fprintf(o, "%s %lld", sep, (long long)v[i]);
    }
    fputc('\n', o);
}

static void print_stack(FILE *o, const rm_run *run, const rm_site *s)
{
    char nb[128];
    for (int i = 1; i < s->nips; i++) {
        const rm_frame *f = rm_frame_of(run, s->ips[i]);
        fprintf(o, "        %s", rm_name(run, s->ips[i], nb, sizeof nb));
        if (f && f->file && *f->file)
            fprintf(o, " (%s:%lld)", f->file, (long long)f->line);
        fputc('\n', o);
    }
}

static void print_sites(FILE *o, const rm_run *run, const size_t *order, size_t n,
                        int by_inuse, int stacks)
{
    char b1[CLI_FMT_LEN], b2[CLI_FMT_LEN], b3[CLI_FMT_LEN], b4[CLI_FMT_LEN], b5[CLI_FMT_LEN];
    char b6[CLI_FMT_LEN], label[512];
    fprintf(o, "  %3s  %11s %6s %6s %9s  %11s %9s  %s\n", "#",
            by_inuse ? "in-use" : "allocated", "%", "cum%", "objects",
            by_inuse ? "allocated" : "in-use", "objects",
            "site: leaf function (file:line) <- caller");
    site_walk sw = walk_start(run, order, n, by_inuse);
    const rm_site *s;
    double frac, cum;
    while ((s = walk_next(&sw, &frac, &cum))) {
        int64_t v = by_inuse ? s->inuse_bytes : s->alloc_bytes;
        int64_t vo = by_inuse ? s->inuse_objects : s->alloc_objects;
        int64_t w = by_inuse ? s->alloc_bytes : s->inuse_bytes;
        int64_t wo = by_inuse ? s->alloc_objects : s->inuse_objects;
        fprintf(o, "  %3zu  %11s %6s %6s %9s  %11s %9s  %s\n", sw.rank, cli_fmt_bytes(b1, v),
                cli_fmt_pct(b2, frac), cli_fmt_pct(b3, cum),
                cli_fmt_count(b4, vo), cli_fmt_bytes(b5, w), cli_fmt_count(b6, wo),
                rm_site_text(run, s, label, sizeof label));
        if (stacks)
            print_stack(o, run, s);
    }
}

static void print_text(FILE *o, const rm_run *run, size_t top, int stacks)
{
    char b[CLI_FMT_LEN], b2[CLI_FMT_LEN], b3[CLI_FMT_LEN], b4[CLI_FMT_LEN];
    char label[512];

    fprintf(o, "gctune analyze: %s\n\nRun\n", run->path);
    fprintf(o, "  %-18s %s\n", "program", or_dash(run->program));
    fprintf(o, "  %-18s", "argv");
    if (run->argc == 0)
        fputs(" -", o);
    for (int i = 0; i < run->argc; i++)
        fprintf(o, " %s", run->argv[i]);
    fputc('\n', o);
    fprintf(o, "  %-18s %s\n", "backend", or_dash(run->backend));
    if (run->source)
        fprintf(o, "  %-18s %s\n", "source", run->source);
    fprintf(o, "  %-18s %s\n", "duration",
            run->duration_ns == RM_NONE ? "-" : cli_fmt_ns(b, run->duration_ns));
    if (run->sample_rate == RM_NONE)
        fprintf(o, "  %-18s -\n", "sample rate");
    else
        fprintf(o, "  %-18s %s (mean bytes between samples)\n", "sample rate",
                cli_fmt_bytes(b, run->sample_rate));
    fprintf(o, "  %-18s %lld\n", "samples", (long long)run->samples);
    fprintf(o, "  %-18s %s\n", "dropped samples",
            run->dropped_samples == RM_NONE ? "-" : cli_fmt_count(b, run->dropped_samples));
    if (run->dropped_samples != RM_NONE && run->dropped_samples > 0)
        fprintf(o, "  WARNING: %lld samples were dropped (profiler queue full): the estimates "
                   "below are too low by about %s\n", (long long)run->dropped_samples,
                cli_fmt_pct(b, (double)run->dropped_samples /
                                   ((double)run->dropped_samples + (double)run->samples)));
    if (run->dropped_frees != RM_NONE && run->dropped_frees > 0)
        fprintf(o, "  WARNING: %lld frees of sampled objects were dropped: in-use estimates "
                   "are too high\n", (long long)run->dropped_frees);
    if (run->dropped_gc_cycles != RM_NONE && run->dropped_gc_cycles > 0)
        fprintf(o, "  WARNING: %lld GC cycles were dropped: the GC figures miss them\n",
                (long long)run->dropped_gc_cycles);
    if (run->dropped_tuner_events != RM_NONE && run->dropped_tuner_events > 0)
        fprintf(o, "  WARNING: %lld tuner decisions were dropped\n",
                (long long)run->dropped_tuner_events);
    if (run->capabilities)
        fprintf(o, "  %-18s %s\n", "capabilities", run->capabilities);
    if (!rm_has_frees(run))
        fprintf(o, "  NOTE: the backend does not report frees: in-use figures count every "
                   "sampled object as live\n");
    if (rm_empty(run))
        fprintf(o, "  NOTE: empty run: no samples, no GC cycles, no heap series\n");

    fprintf(o, "\nGC\n");
    if (run->forced_cycles > 0)
        fprintf(o, "  %-18s %lld (%lld forced)\n", "cycles", (long long)run->cycles,
                (long long)run->forced_cycles);
    else
        fprintf(o, "  %-18s %lld\n", "cycles", (long long)run->cycles);
    fprintf(o, "  %-18s %s\n", "GC CPU fraction", cli_fmt_pct(b, run->gc_cpu_fraction));
    if (run->npauses > 0) {
        fprintf(o, "  %-18s p50 %s  p90 %s  p99 %s  max %s\n", "STW pauses",
                cli_fmt_ns(b, run->pause_p50), cli_fmt_ns(b2, run->pause_p90),
                cli_fmt_ns(b3, run->pause_p99), cli_fmt_ns(b4, run->pause_max));
        fprintf(o, "  %-18s %s in %lld pauses\n", "STW total", cli_fmt_ns(b, run->pause_total),
                (long long)run->npauses);
    } else {
        fprintf(o, "  %-18s -\n", "STW pauses");
    }
    if (run->heap_goal_min != RM_NONE)
        fprintf(o, "  %-18s %s .. %s\n", "heap goal", cli_fmt_bytes(b, run->heap_goal_min),
                cli_fmt_bytes(b2, run->heap_goal_max));
    else
        fprintf(o, "  %-18s -\n", "heap goal");
    print_seen(o, "GOGC seen", run->gogc_seen, run->ngogc, "off", 0);
    print_seen(o, "memory limit seen", run->limit_seen, run->nlimit, "none", 1);

    fprintf(o, "\nHeap\n");
    print_i64_bytes(o, "peak heap_alloc", run->peak_heap_alloc,
                    run->heap_points == 0 && run->peak_heap_alloc != RM_NONE
                        ? "(largest heap at a GC start: no heap series)" : NULL);
    print_i64_bytes(o, "peak RSS", run->peak_rss, NULL);
    print_i64_bytes(o, "final heap_alloc", run->final_heap_alloc, NULL);
    if (run->samples == 0)
        fprintf(o, "  %-18s none: no allocation samples in this run%s\n", "allocation sites",
                run->source && !strcmp(run->source, "gctrace") ? " (a gctrace import)" : "");
    if (run->samples > 0) {
        fprintf(o, "  %-18s %s in %s objects (estimated from samples)\n", "in use at end",
                cli_fmt_bytes(b, run->inuse_bytes), cli_fmt_count(b2, run->inuse_objects));
        fprintf(o, "  %-18s %s in %s objects (estimated from samples)\n", "allocated",
                cli_fmt_bytes(b, run->alloc_bytes), cli_fmt_count(b2, run->alloc_objects));
    }

    if (run->nsites > 0) {
        size_t n = top == 0 || top > run->nsites ? run->nsites : top;
        fprintf(o, "\nTop allocation sites by allocated bytes (%zu of %zu sites; a site is %s; "
                   "unbiased estimates from samples)\n", n, run->nsites,
                run->by_function ? "a leaf function, its stacks merged (--by function)"
                                 : "a distinct call stack");
        print_sites(o, run, run->by_alloc, n, 0, stacks);
        fprintf(o, "\nTop allocation sites by in-use bytes at the end of the run\n");
        if (run->inuse_bytes == 0)
            fprintf(o, "  none: every sampled object was freed\n");
        else
            print_sites(o, run, run->by_inuse, n, 1, stacks);
        if (!stacks)
            fprintf(o, "  (gctune analyze --stacks shows the callers of each site%s)\n",
                    run->by_function ? ": those of its largest stack" : "");

        fprintf(o, "\nLeak suspects (in-use bytes rose in >= %d of %d equal time windows, "
                   ">= %.0f%% of allocated bytes still in use at the end, >= %d samples)\n",
                RM_LEAK_MIN_RISES, RM_WINDOWS, RM_LEAK_MIN_RETAINED * 100, RM_LEAK_MIN_SAMPLES);
        size_t r = 0, shown = 0;
        for (const rm_site *s; (s = next_leak(run, top, &r, &shown));) {
            fprintf(o, "  %3zu  %s in use at the end (%s of its allocations), rose in %d/%d "
                       "windows  %s\n", shown, cli_fmt_bytes(b, s->inuse_bytes),
                    cli_fmt_pct(b2, s->a_bytes > 0 ? s->inuse_at[RM_WINDOWS] / s->a_bytes : NAN),
                    s->rises, RM_WINDOWS, rm_site_text(run, s, label, sizeof label));
            if (stacks)
                print_stack(o, run, s);
        }
        if (shown == 0)
            fprintf(o, "  none\n");
    }

    if (run->nevents > 0) {
        fprintf(o, "\nTuner decisions (%zu)\n", run->nevents);
        for (size_t i = 0; i < run->nevents; i++) {
            const rm_event *e = &run->events[i];
            char ov[CLI_FMT_LEN], nv[CLI_FMT_LEN];
            rm_fmt_knob(ov, e->knob, e->old_value);
            rm_fmt_knob(nv, e->knob, e->new_value);
            fprintf(o, "  %10s  %-12s %s -> %s  %s\n", cli_fmt_ns(b, e->time_ns), e->knob, ov,
                    nv, e->reason);
        }
    }
}

/* ---- JSON ---- */

static void json_frame(json_w *w, const rm_run *run, uint64_t ip)
{
    char nb[128], addr[32];
    const rm_frame *f = rm_frame_of(run, ip);
    json_begin_object(w, NULL);
    json_string(w, "function", rm_name(run, ip, nb, sizeof nb));
    json_string(w, "file", f ? f->file : NULL);
    json_int(w, "line", f ? f->line : 0);
    snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)ip);
    json_string(w, "address", addr);
    const rm_mapping *m = rm_mapping_of(run, ip);
    json_string(w, "module", f && f->module ? f->module : m ? m->path : NULL);
    json_end_object(w);
}

static void json_site(json_w *w, const rm_run *run, const rm_site *s, double cum, int history)
{
    char nb[128];
    const rm_frame *f = s->nips > 0 ? rm_frame_of(run, s->ips[0]) : NULL;
    json_begin_object(w, NULL);
    json_int(w, "stack_id", s->stack_id);
    if (s->nips > 0)
        json_string(w, "function", rm_name(run, s->ips[0], nb, sizeof nb));
    else
        json_null(w, "function");
    json_string(w, "file", f ? f->file : NULL);
    json_int(w, "line", f ? f->line : 0);
    json_int(w, "alloc_bytes", s->alloc_bytes);
    json_int(w, "alloc_objects", s->alloc_objects);
    json_int(w, "inuse_bytes", s->inuse_bytes);
    json_int(w, "inuse_objects", s->inuse_objects);
    json_int(w, "samples", s->samples);
    json_int(w, "stacks", 1 + s->merged);
    json_double(w, "alloc_fraction", run->alloc_bytes > 0 ? (double)s->alloc_bytes / (double)run->alloc_bytes : NAN);
    json_double(w, "inuse_fraction", run->inuse_bytes > 0 ? (double)s->inuse_bytes / (double)run->inuse_bytes : NAN);
    json_double(w, "cum_fraction", cum);
    json_bool(w, "leak_suspect", s->leak);
    json_int(w, "inuse_rises", s->rises);
    if (history) {
        json_begin_array(w, "inuse_at");
        for (int k = 1; k <= RM_WINDOWS; k++)
            json_int(w, NULL, cli_round(s->inuse_at[k]));
        json_end_array(w);
    }
    json_begin_array(w, "stack");
    for (int i = 0; i < s->nips; i++)
        json_frame(w, run, s->ips[i]);
    json_end_array(w);
    json_end_object(w);
}

static void json_sites(json_w *w, const char *key, const rm_run *run, const size_t *order,
                       size_t n, int by_inuse)
{
    site_walk sw = walk_start(run, order, n, by_inuse);
    const rm_site *s;
    double frac, cum;
    json_begin_array(w, key);
    while ((s = walk_next(&sw, &frac, &cum)))
        json_site(w, run, s, cum, 0);
    json_end_array(w);
}

static void print_json(FILE *o, const rm_run *run, size_t top)
{
    json_w w;
    json_init(&w, o);
    json_begin_object(&w, NULL);
    json_string(&w, "gctune_version", PACKAGE_VERSION);
    json_string(&w, "file", run->path);
    json_int(&w, "schema_version", run->schema_version);

    json_begin_object(&w, "run");
    json_string(&w, "program", run->program);
    json_begin_array(&w, "argv");
    for (int i = 0; i < run->argc; i++)
        json_string(&w, NULL, run->argv[i]);
    json_end_array(&w);
    json_string(&w, "backend", run->backend);
    json_string(&w, "source", run->source);
    json_string(&w, "host", run->host);
    json_int_or_null(&w, "pid", run->pid);
    json_string(&w, "capabilities", run->capabilities);
    json_int_or_null(&w, "start_time_ns", run->start_time_ns);
    json_int_or_null(&w, "duration_ns", run->duration_ns);
    json_int_or_null(&w, "sample_rate", run->sample_rate);
    json_int(&w, "samples", run->samples);
    json_int(&w, "dropped_samples", run->dropped_samples == RM_NONE ? 0 : run->dropped_samples);
    json_int_or_null(&w, "dropped_frees", run->dropped_frees);
    json_int_or_null(&w, "dropped_gc_cycles", run->dropped_gc_cycles);
    json_int_or_null(&w, "dropped_tuner_events", run->dropped_tuner_events);
    json_bool(&w, "has_frees", rm_has_frees(run));
    if (run->clean_exit == RM_NONE)
        json_null(&w, "clean_exit");
    else
        json_bool(&w, "clean_exit", run->clean_exit == 1);
    json_bool(&w, "empty", rm_empty(run));
    json_end_object(&w);

    json_begin_object(&w, "gc");
    json_int(&w, "cycles", run->cycles);
    json_int(&w, "forced_cycles", run->forced_cycles);
    json_double(&w, "gc_cpu_fraction", run->gc_cpu_fraction);
    json_begin_object(&w, "pause_ns");
    json_int(&w, "count", run->npauses);
    json_int_or_null(&w, "p50", run->pause_p50);
    json_int_or_null(&w, "p90", run->pause_p90);
    json_int_or_null(&w, "p99", run->pause_p99);
    json_int_or_null(&w, "max", run->pause_max);
    json_int(&w, "total", run->pause_total == RM_NONE ? 0 : run->pause_total);
    json_end_object(&w);
    json_begin_object(&w, "heap_goal");
    json_int_or_null(&w, "min", run->heap_goal_min);
    json_int_or_null(&w, "max", run->heap_goal_max);
    json_end_object(&w);
    json_begin_array(&w, "gogc_seen");
    for (int i = 0; i < run->ngogc; i++)
        json_int(&w, NULL, run->gogc_seen[i]);
    json_end_array(&w);
    json_begin_array(&w, "memory_limit_seen");
    for (int i = 0; i < run->nlimit; i++)
        json_int(&w, NULL, run->limit_seen[i]);
    json_end_array(&w);
    json_int_or_null(&w, "mark_cpu_ns", run->mark_cpu_ns);
    json_int_or_null(&w, "assist_cpu_ns", run->assist_cpu_ns);
    json_end_object(&w);

    json_begin_object(&w, "heap");
    json_int_or_null(&w, "peak_heap_alloc", run->peak_heap_alloc);
    json_int_or_null(&w, "peak_rss", run->peak_rss);
    json_int_or_null(&w, "peak_heap_sys", run->peak_heap_sys);
    json_int_or_null(&w, "final_heap_alloc", run->final_heap_alloc);
    json_int_or_null(&w, "final_rss", run->final_rss);
    json_int(&w, "alloc_bytes", run->alloc_bytes);
    json_int(&w, "alloc_objects", run->alloc_objects);
    json_int(&w, "inuse_bytes", run->inuse_bytes);
    json_int(&w, "inuse_objects", run->inuse_objects);
    json_end_object(&w);

    size_t n = top == 0 || top > run->nsites ? run->nsites : top;
    json_string(&w, "site_kind", run->by_function ? "function" : "stack");
    json_int(&w, "site_count", (int64_t)run->nsites);
    json_sites(&w, "sites", run, run->by_alloc, n, 0);
    json_sites(&w, "sites_by_inuse", run, run->by_inuse, n, 1);

    json_begin_object(&w, "leak_suspects");
    char rule[256];
    rm_leak_rule(rule, sizeof rule);
    json_string(&w, "rule", rule);
    json_int(&w, "windows", RM_WINDOWS);
    json_int(&w, "window_ns", run->end_ns / RM_WINDOWS);
    json_int(&w, "min_rises", RM_LEAK_MIN_RISES);
    json_double(&w, "min_retained_fraction", RM_LEAK_MIN_RETAINED);
    json_int(&w, "min_samples", RM_LEAK_MIN_SAMPLES);
    json_int(&w, "count", (int64_t)run->nleaks);
    json_begin_array(&w, "sites");
    size_t r = 0, shown = 0;
    for (const rm_site *s; (s = next_leak(run, top, &r, &shown));)
        json_site(&w, run, s, NAN, 1);
    json_end_array(&w);
    json_end_object(&w);

    json_begin_array(&w, "tuner_events");
    for (size_t i = 0; i < run->nevents; i++) {
        const rm_event *e = &run->events[i];
        json_begin_object(&w, NULL);
        json_int(&w, "time_ns", e->time_ns);
        json_string(&w, "knob", e->knob);
        json_int_or_null(&w, "old_value", e->old_value);
        json_int_or_null(&w, "new_value", e->new_value);
        json_string(&w, "reason", e->reason);
        json_string(&w, "measurements", e->measurements);
        json_end_object(&w);
    }
    json_end_array(&w);

    json_begin_array(&w, "warnings");
    char warn[RM_MAX_WARNINGS][RM_MSG_LEN];
    size_t nwarn = rm_warnings(run, warn, RM_MAX_WARNINGS);
    for (size_t i = 0; i < nwarn; i++)
        json_string(&w, NULL, warn[i]);
    json_end_array(&w);
    json_end_object(&w);
}

int cmd_analyze(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "top", required_argument, NULL, 'n' },
        { "stacks", no_argument, NULL, 's' },
        { "by", required_argument, NULL, 'b' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int json = 0, stacks = 0, by_function = 0;
    uint64_t top = DEFAULT_TOP;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hn:", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 's': stacks = 1; break;
        case 'b':
            if (!strcmp(optarg, "function"))
                by_function = 1;
            else if (!strcmp(optarg, "stack"))
                by_function = 0;
            else
                return cli_usage("analyze", "--by: '%s' is not stack or function", optarg);
            break;
        case 'h': return cli_help("analyze");
        case 'n':
            if (cli_parse_u64(optarg, &top) < 0 || top > 1000000000)
                return cli_usage("analyze", "--top: '%s' is not a count", optarg);
            break;
        default: return cli_bad_option("analyze", c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage("analyze", "missing the run database");
    if (optind + 1 < argc)
        return cli_usage("analyze", "unexpected argument '%s'", argv[optind + 1]);
    const char *path = argv[optind];

    gcts_db *db = cli_open_db(path);
    if (!db)
        return CLI_FAIL;
    rm_run run;
    if (rm_load(db, &run) < 0) {
        rm_free(&run);
        gcts_close(db);
        return CLI_FAIL;
    }
    if (by_function)
        rm_group_by_function(&run);
    if (rm_empty(&run))
        cli_error(path, "warning: empty run: no samples, no GC cycles, no heap series");
    if (json)
        print_json(stdout, &run, (size_t)top);
    else
        print_text(stdout, &run, (size_t)top, stacks);
    rm_free(&run);
    gcts_close(db);
    return cli_close_output(stdout, "-") < 0 ? CLI_FAIL : CLI_OK;
}
