/* reports/model.h - a run database read into memory for the reports:
 * run facts (meta), GC summary (gc_cycles), heap peaks (heap_series),
 * allocation sites with unbiased estimates and their in-use history,
 * leak suspects, tuner decisions, and the symbols of the frames.
 * analyze, export and diff all work from an rm_run.
 *
 * Estimates: a sample of size s and weight w (samples.weight =
 * 1/(1-exp(-s/rate))) stands for w objects and w*s bytes.  A site is a
 * distinct stack (stacks.id).  Per-site values are rounded to integers;
 * run totals are the sums of the rounded site values (so the sites add up
 * to the totals, and an export agrees with them to the byte).
 *
 * Leak suspects: the run [0, T] (T = meta duration_ns, else the time of the
 * last sample) is split into RM_WINDOWS equal windows; a site's in-use bytes
 * at each window end t_k are those of its samples allocated at or before
 * t_k and not freed by then.  A site is a suspect when its in-use bytes rose
 * in at least RM_LEAK_MIN_RISES of the RM_WINDOWS windows, it still holds at
 * least RM_LEAK_MIN_RETAINED of the bytes it allocated at the end, and it
 * has at least RM_LEAK_MIN_SAMPLES samples.
 */
#ifndef GCTUNE_REPORTS_MODEL_H
#define GCTUNE_REPORTS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "reports/cli.h"

#define RM_NONE INT64_MIN            /* an absent value (== GCTS_NULL) */
#define RM_WINDOWS 10
#define RM_LEAK_MIN_RISES 8
#define RM_LEAK_MIN_RETAINED 0.25
#define RM_LEAK_MIN_SAMPLES 10
#define RM_MAX_DEPTH 256             /* frames kept per stack */
#define RM_MAX_SEEN 16               /* distinct GOGC / limit values kept */

typedef struct rm_frame {
    uint64_t ip;
    char *function;     /* NULL if unknown */
    char *file;         /* NULL if unknown */
    int64_t line;       /* 0 if unknown */
    char *module;
    int64_t mapping_id; /* RM_NONE if unknown */
} rm_frame;

typedef struct rm_mapping {
    int64_t id;
    char *path, *build_id;
    uint64_t start, end, file_offset;
} rm_mapping;

typedef struct rm_site {
    int64_t stack_id;
    int nips;
    uint64_t *ips;                  /* leaf first; NULL if the stack row is missing */
    int64_t alloc_bytes, alloc_objects, inuse_bytes, inuse_objects;
    int64_t samples;
    double inuse_at[RM_WINDOWS + 1];    /* [k]: estimated in-use bytes at t_k; [0] = 0 */
    int rises;                      /* windows in which in-use bytes rose */
    int leak;                       /* a leak suspect */
    int merged;                     /* rm_group_by_function: other stacks merged in */
    /* accumulators */
    double a_bytes, a_objs, i_bytes, i_objs;
} rm_site;

typedef struct rm_event {
    int64_t time_ns;
    char *knob;
    int64_t old_value, new_value;
    char *reason, *measurements;
} rm_event;

typedef struct rm_run {
    const char *path;
    int schema_version;
    /* meta */
    char *program, *backend, *host, *source, *argv_raw, *capabilities;
    char **argv;
    int argc;
    int64_t pid, sample_rate, start_time_ns, duration_ns;
    int64_t dropped_samples, dropped_frees, clean_exit;
    int64_t dropped_gc_cycles, dropped_tuner_events;
    int64_t samples;                /* rows of samples */
    int64_t end_ns;                 /* T of the leak windows */
    /* gc */
    int64_t cycles, forced_cycles;
    int64_t pause_p50, pause_p90, pause_p99, pause_max, pause_total;
    int64_t npauses;
    double gc_cpu_fraction;         /* NaN if unknown */
    int64_t heap_goal_min, heap_goal_max;
    int64_t gogc_seen[RM_MAX_SEEN];
    int ngogc;
    int64_t limit_seen[RM_MAX_SEEN];   /* -1 = no limit */
    int nlimit;
    int64_t mark_cpu_ns, assist_cpu_ns;
    /* heap */
    int64_t peak_heap_alloc, peak_rss, peak_heap_sys;
    int64_t final_heap_alloc, final_rss;
    int64_t heap_points;
    /* totals of the sites */
    int64_t alloc_bytes, alloc_objects, inuse_bytes, inuse_objects;
    /* sites */
    rm_site *sites;
    size_t nsites;
    size_t *by_alloc, *by_inuse;    /* indexes into sites, ranked */
    size_t nleaks;
    int by_function;                /* sites are leaf functions (rm_group_by_function) */
    /* tuner */
    rm_event *events;
    size_t nevents;
    /* symbols */
    rm_frame *frames;
    size_t nframes;
    cli_map frame_index;            /* ip -> index in frames */
    rm_mapping *mappings;
    size_t nmappings;
} rm_run;

/* Loads everything.  Returns 0, or -1 after printing the error line. */
int rm_load(gcts_db *db, rm_run *run);
void rm_free(rm_run *run);
/* Turns the sites into leaf functions: the sites whose leaf has the same
 * name and file are merged (values and in-use history summed, leak rule
 * applied again); the stack and stack_id of the largest one stand for the
 * group.  Totals do not change. */
void rm_group_by_function(rm_run *run);

/* 0 when meta.capabilities is present and lacks "frees" (the backend does
 * not report frees: every sampled object looks live), else 1. */
int rm_has_frees(const rm_run *run);

/* 1 when the run has no samples, no GC cycles and no heap series. */
int rm_empty(const rm_run *run);

/* The frame of ip, or NULL when the frames table has no row for it. */
const rm_frame *rm_frame_of(const rm_run *run, uint64_t ip);
/* A printable name of ip: the function, else "module+0xoffset" when a
 * mapping holds ip, else "0x<ip>".  Returns buf or a string of the run. */
const char *rm_name(const rm_run *run, uint64_t ip, char *buf, size_t len);
/* "function (file:line)" of the site's leaf, or its rm_name. */
const char *rm_site_label(const rm_run *run, const rm_site *s, char *buf, size_t len);
/* The mapping holding ip, or NULL. */
const rm_mapping *rm_mapping_of(const rm_run *run, uint64_t ip);

/* The in-use history of some sites at a finer grain than inuse_at[], and
 * the estimated bytes allocated per window, in one pass over the samples,
 * by the rule of the leak windows (inuse_at[]) with W windows instead of
 * RM_WINDOWS: t_k = k*T/W (T = run->end_ns).
 *   inuse[i*(W+1) + k]: estimated in-use bytes of the site with
 *                       stack_ids[i] at t_k, k = 0..W ([0] = 0); NULL: not
 *                       wanted.  With W = RM_WINDOWS it equals inuse_at[].
 *   alloc[k]:           estimated bytes allocated in (t_{k-1}, t_k], k =
 *                       1..W (before 0: in 1, after T: in W); alloc[0] = 0;
 *                       NULL: not wanted.
 * Sites are stacks (not after rm_group_by_function).  Returns 0, or -1
 * after printing the error line. */
int rm_history(gcts_db *db, const rm_run *run, const int64_t *stack_ids, size_t nsel, int W,
               double *inuse, double *alloc);

/* "leaf (file:line) <- caller": the site's label and its immediate caller. */
const char *rm_site_text(const rm_run *run, const rm_site *s, char *buf, size_t len);
/* A tuner knob value: bytes for memory_limit, "-" when absent (buf has
 * CLI_FMT_LEN bytes). */
char *rm_fmt_knob(char *buf, const char *knob, int64_t v);
/* The leak rule in words (as analyze prints it). */
char *rm_leak_rule(char *buf, size_t len);
/* The run's warnings (dropped records, a backend without frees, an empty
 * run), one sentence each, as analyze --json lists them; returns how many
 * (at most max; RM_MAX_WARNINGS is enough). */
#define RM_MSG_LEN 192
#define RM_MAX_WARNINGS 8
size_t rm_warnings(const rm_run *run, char (*out)[RM_MSG_LEN], size_t max);

#endif
