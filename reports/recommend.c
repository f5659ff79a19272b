/* reports/recommend.c - `gctune recommend [--max-pause D] [--max-gc-cpu P]
 * [--memory B] [--gogc LIST] [--limits LIST] [--json] run.sqlite`: fits the
 * offline GC model (tuner/model.h) to a recorded run, predicts GC CPU,
 * cycle rate, peak heap, peak RSS and p99 pause for candidate GOGC /
 * memory-limit settings, and names the cheapest one meeting the goals.
 *
 * Owns only the command's output; the model, its fit and the choice are
 * tuner/model.c's.  Invariants: the recommendation is one of the printed
 * candidates (the same list goes to gctt_model_recommend_among and to the
 * table); every limit candidate is a whole number of MiB, so the printed
 * GOMEMLIMIT line is exactly the predicted setting; text and --json carry
 * the same figures.  Option values are parsed with the syntax of the
 * tuner's environment knobs (GCTUNE_MAX_PAUSE, GCTUNE_MAX_GC_CPU,
 * GCTUNE_MEMORY): gct_tuner_parse_* of tuner/parse.c, which
 * libgctune_model.la carries so that the command need not link the runtime.
 */
#include "gctune/tuner.h"
#include "reports/cli.h"
#include "reports/json.h"
#include "tuner/model.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MiB (1024.0 * 1024.0)
#define MAX_LIST 32
#define DEFAULT_MAX_GC_CPU 0.05   /* GCT_TUNER_DEFAULT_MAX_GC_CPU */

/* ---- option values ---- */

/* Calls item(text, i, out) for each comma-separated item of s (at most
 * MAX_LIST, each non-empty and shorter than 48 bytes).  Returns the count,
 * or -1 when the list or an item is bad. */
static int parse_list(const char *s, int (*item)(const char *, int, void *), void *out)
{
    int n = 0;
    for (const char *p = s;; n++) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char buf[48];
        if (len == 0 || len >= sizeof buf || n == MAX_LIST)
            return -1;
        memcpy(buf, p, len);
        buf[len] = 0;
        if (item(buf, n, out) != 0)
            return -1;
        if (!e)
            return n + 1;
        p = e + 1;
    }
}

/* A GOGC value 1..100000 or off (-1). */
static int gogc_item(const char *item, int i, void *out)
{
    int *v = out;
    if (!strcmp(item, "off")) {
        v[i] = -1;
        return 0;
    }
    char *end;
    errno = 0;
    long x = strtol(item, &end, 10);
    if (errno || *end || item[0] < '0' || item[0] > '9' || x < 1 || x > 100000)
        return -1;
    v[i] = (int)x;
    return 0;
}

/* A byte count of at least 4 MiB, rounded down to whole MiB. */
static int limit_item(const char *item, int i, void *out)
{
    int64_t *v = out, x;
    if (gct_tuner_parse_bytes(item, &x) != 0 || x < (int64_t)(4 * MiB))
        return -1;
    v[i] = (int64_t)(x / (int64_t)MiB) * (int64_t)MiB;
    return 0;
}

/* "50,100,off" */
static int parse_gogc_list(const char *s, int *out) { return parse_list(s, gogc_item, out); }
/* "256MiB,1G" */
static int parse_limit_list(const char *s, int64_t *out) { return parse_list(s, limit_item, out); }

/* ---- output helpers ---- */

static const char *gogc_str(char *buf, size_t len, int gogc)
{
    if (gogc < 0)
        snprintf(buf, len, "off");
    else
        snprintf(buf, len, "%d", gogc);
    return buf;
}

/* "GOGC=200" or "GOGC=off GOMEMLIMIT=144MiB" (limits are whole MiB). */
static const char *env_str(char *buf, size_t len, int gogc, int64_t limit)
{
    char g[16];
    if (limit > 0)
        snprintf(buf, len, "GOGC=%s GOMEMLIMIT=%lldMiB", gogc_str(g, sizeof g, gogc),
                 (long long)(limit / (int64_t)MiB));
    else
        snprintf(buf, len, "GOGC=%s", gogc_str(g, sizeof g, gogc));
    return buf;
}

static char *fmt_mib(char *buf, double bytes)
{
    if (bytes < 0)
        snprintf(buf, CLI_FMT_LEN, "?");
    else
        snprintf(buf, CLI_FMT_LEN, "%.1f MiB", bytes / MiB);
    return buf;
}

static void json_num_or_null(json_w *w, const char *key, double v)
{
    if (v < 0)
        json_null(w, key);
    else
        json_double(w, key, v);
}

static void json_limit(json_w *w, const char *key, int64_t v)
{
    if (v > 0)
        json_int(w, key, v);
    else
        json_null(w, key);
}

static void json_prediction(json_w *w, const gctt_prediction *p)
{
    json_double(w, "gc_cpu_fraction", p->gc_cpu_fraction);
    json_double(w, "cycles_per_s", p->cycles_per_s);
    json_double(w, "cycles", p->cycles);
    json_double(w, "gc_cpu_ns", p->gc_cpu_ns);
    json_double(w, "peak_heap", p->peak_heap);
    json_num_or_null(w, "peak_rss", p->peak_rss);
    json_double(w, "pause_p99_ns", p->pause_p99_ns);
}

static const char *mark(int set, int ok)
{
    return !set ? "-" : ok ? "yes" : "NO";
}

int cmd_recommend(int argc, char **argv)
{
    static const struct option opts[] = {
        { "max-pause", required_argument, NULL, 'p' },
        { "max-gc-cpu", required_argument, NULL, 'c' },
        { "memory", required_argument, NULL, 'm' },
        { "gogc", required_argument, NULL, 'g' },
        { "limits", required_argument, NULL, 'l' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *cmd = "recommend";
    gctt_goals goals = { DEFAULT_MAX_GC_CPU, 0, 0 };
    int json = 0, ngogc = 0, nlim_opt = 0;
    int gogcs[MAX_LIST];
    int64_t lim_opt[MAX_LIST];
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (gct_tuner_parse_duration(optarg, &goals.max_pause_ns) != 0)
                return cli_usage(cmd, "--max-pause: '%s' is not a duration (like 5ms, 500us, 0.2s)", optarg);
            break;
        case 'c':
            if (gct_tuner_parse_percent(optarg, &goals.max_gc_cpu) != 0)
                return cli_usage(cmd, "--max-gc-cpu: '%s' is not a percentage in (0, 100] (like 5 or 5%%)", optarg);
            break;
        case 'm':
            if (gct_tuner_parse_bytes(optarg, &goals.memory) != 0 || goals.memory <= 0)
                return cli_usage(cmd, "--memory: '%s' is not a positive byte count (like 512MiB)", optarg);
            break;
        case 'g':
            if ((ngogc = parse_gogc_list(optarg, gogcs)) <= 0)
                return cli_usage(cmd, "--gogc: '%s' is not a list of GOGC values 1..100000 or off (like 50,100,200)",
                                 optarg);
            break;
        case 'l':
            if ((nlim_opt = parse_limit_list(optarg, lim_opt)) <= 0)
                return cli_usage(cmd, "--limits: '%s' is not a list of byte counts of at least 4MiB (like 256MiB,1GiB)",
                                 optarg);
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            return cli_help(cmd);
        default:
            return cli_bad_option(cmd, c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage(cmd, "missing run database");
    if (optind + 1 < argc)
        return cli_usage(cmd, "extra argument '%s'", argv[optind + 1]);
    const char *path = argv[optind];

    /* the backend, for the header (and so that open errors come first, in the usual words) */
    char backend[64] = "";
    {
        gcts_db *db = cli_open_db(path);
        if (!db)
            return CLI_FAIL;
        gcts_get_meta(db, "backend", backend, sizeof backend);
        gcts_close(db);
    }
    gctt_model m;
    char err[512];
    if (gctt_model_load(path, &m, err, sizeof err) != 0) {
        cli_error(NULL, "%s", err);
        return CLI_FAIL;
    }

    /* candidates: the GOGC list x { none, --limits, the --memory limit, the recorded limit } */
    size_t ngrid;
    const int *grid = gctt_model_gogc_grid(&ngrid);
    if (ngogc == 0) {
        for (size_t i = 0; i < ngrid && i < MAX_LIST; i++)
            gogcs[i] = grid[i];
        ngogc = (int)(ngrid < MAX_LIST ? ngrid : MAX_LIST);
    }
    int64_t limits[MAX_LIST + 3];
    size_t nlim = 0;
    limits[nlim++] = -1;
    int64_t cand[MAX_LIST + 2];
    size_t ncand = 0;
    for (int i = 0; i < nlim_opt; i++)
        cand[ncand++] = lim_opt[i];
    int64_t from_memory = gctt_model_limit_for(&m, goals.memory);
    if (from_memory > 0)
        from_memory = (from_memory / (int64_t)MiB) * (int64_t)MiB;
    if (from_memory >= (int64_t)(4 * MiB))
        cand[ncand++] = from_memory;
    else
        from_memory = -1;
    if (m.memory_limit > 0)
        cand[ncand++] = (m.memory_limit / (int64_t)MiB) * (int64_t)MiB;
    for (size_t i = 0; i < ncand; i++) {
        int dup = cand[i] < (int64_t)(4 * MiB);
        for (size_t j = 0; j < nlim; j++)
            dup |= limits[j] == cand[i];
        if (!dup)
            limits[nlim++] = cand[i];
    }

    gctt_recommendation rec;
    gctt_model_recommend_among(&m, &goals, gogcs, (size_t)ngogc, limits, nlim, &rec);
    if (rec.ncandidates == 0) {
        gctt_model_free(&m);
        return cli_usage(cmd, "--gogc off needs a memory limit (--limits or --memory)");
    }
    gctt_prediction self;
    gctt_model_predict(&m, m.gogc, m.memory_limit, &self);
    /* the pause does not depend on the setting: one figure for all candidates */
    int pause_ok = !goals.max_pause_ns || rec.best.pause_p99_ns <= (double)goals.max_pause_ns;
    char env[96], g1[16], b1[CLI_FMT_LEN], b2[CLI_FMT_LEN], b3[CLI_FMT_LEN], b4[CLI_FMT_LEN];
    env_str(env, sizeof env, rec.best.gogc, rec.best.memory_limit);

    if (json) {
        json_w w;
        json_init(&w, stdout);
        json_begin_object(&w, NULL);
        json_string(&w, "file", path);
        json_string(&w, "backend", backend[0] ? backend : NULL);
        json_begin_object(&w, "goals");
        json_double(&w, "max_gc_cpu", goals.max_gc_cpu);
        if (goals.max_pause_ns > 0)
            json_int(&w, "max_pause_ns", goals.max_pause_ns);
        else
            json_null(&w, "max_pause_ns");
        json_limit(&w, "memory", goals.memory);
        json_end_object(&w);
        json_begin_object(&w, "model");
        json_int(&w, "cycles", m.ncycles);
        json_double(&w, "duration_s", m.duration_s);
        json_int(&w, "procs", m.procs);
        json_double(&w, "live_heap_mean", m.live_mean);
        json_double(&w, "live_heap_max", m.live_max);
        json_double(&w, "alloc_bytes", m.alloc_total);
        json_double(&w, "alloc_rate", m.alloc_rate);
        json_double(&w, "fixed_cost_ns", m.fixed_ns);
        json_double(&w, "mark_ns_per_byte", m.mark_ns_per_byte);
        json_double(&w, "garbage_ns_per_byte", m.garbage_ns_per_byte);
        json_bool(&w, "garbage_cost_fitted", m.beta_fitted);
        json_double(&w, "pause_fixed_ns", m.pause_fixed_ns);
        json_double(&w, "pause_ns_per_byte", m.pause_ns_per_byte);
        json_double(&w, "trigger", m.trigger);
        json_double(&w, "frag", m.frag);
        json_end_object(&w);
        json_begin_object(&w, "recorded");
        json_int(&w, "gogc", m.gogc);
        json_limit(&w, "memory_limit", m.memory_limit);
        json_begin_object(&w, "measured");
        json_double(&w, "gc_cpu_fraction", m.gc_cpu_fraction);
        json_double(&w, "cycles_per_s", m.cycles_per_s);
        json_int(&w, "cycles", m.ncycles);
        json_double(&w, "gc_cpu_ns", m.gc_cpu_ns);
        json_double(&w, "peak_heap", m.peak_heap);
        json_num_or_null(&w, "peak_rss", m.peak_rss);
        json_num_or_null(&w, "pause_p99_ns", m.pause_p99_ns);
        json_end_object(&w);
        json_begin_object(&w, "predicted");
        json_prediction(&w, &self);
        json_end_object(&w);
        json_end_object(&w);
        json_begin_array(&w, "candidates");
        for (int i = 0; i < ngogc; i++) {
            for (size_t j = 0; j < nlim; j++) {
                if (gogcs[i] < 0 && limits[j] <= 0)
                    continue;
                gctt_prediction p;
                int okc, okm, okp;
                gctt_model_predict(&m, gogcs[i], limits[j], &p);
                gctt_model_judge(&goals, &p, &okc, &okm, &okp);
                json_begin_object(&w, NULL);
                json_int(&w, "gogc", p.gogc);
                json_limit(&w, "memory_limit", p.memory_limit);
                json_prediction(&w, &p);
                json_bool(&w, "limit_bound", p.limit_bound);
                json_bool(&w, "meets_cpu", okc);
                json_bool(&w, "meets_memory", okm);
                json_bool(&w, "meets_pause", okp);
                json_bool(&w, "meets_all", okc && okm && okp);
                json_end_object(&w);
            }
        }
        json_end_array(&w);
        json_begin_object(&w, "recommendation");
        json_int(&w, "gogc", rec.best.gogc);
        json_limit(&w, "memory_limit", rec.best.memory_limit);
        json_prediction(&w, &rec.best);
        json_bool(&w, "meets_cpu", rec.meets_cpu);
        json_bool(&w, "meets_memory", rec.meets_memory);
        json_bool(&w, "meets_pause", pause_ok);
        json_bool(&w, "pause_achievable", pause_ok);
        json_string(&w, "env", env);
        json_string(&w, "why", rec.why);
        json_end_object(&w);
        json_end_object(&w);
    } else {
        printf("Model of %s (%s backend): %d GC cycles in %.2f s, %d procs\n", path,
               backend[0] ? backend : "unknown", m.ncycles, m.duration_s, m.procs);
        printf("  live heap            mean %s, max %s\n", fmt_mib(b1, m.live_mean), fmt_mib(b2, m.live_max));
        printf("  allocation rate      %.1f MiB/s (%s in paced cycles)\n", m.alloc_rate / MiB,
               fmt_mib(b1, m.alloc_total));
        printf("  mark cost            %.4f ns per live byte + %.4f ns per garbage byte (%s)\n",
               m.mark_ns_per_byte, m.garbage_ns_per_byte,
               m.beta_fitted ? "fitted" : "garbage share assumed");
        printf("  fixed cost per cycle %s\n", cli_fmt_ns(b1, cli_round(m.fixed_ns)));
        printf("  pause model          %s + %.4f ns per live byte (measured p99 %s)\n",
               cli_fmt_ns(b1, cli_round(m.pause_fixed_ns)), m.pause_ns_per_byte,
               m.pause_p99_ns >= 0 ? cli_fmt_ns(b2, cli_round(m.pause_p99_ns)) : "?");
        printf("  pacing               cycles start at %.2f of the goal's runway; fragmentation %.2f\n", m.trigger,
               m.frag);
        printf("\nSelf-check at the recorded setting %s%s%s (measured / predicted):\n",
               env_str(b3, sizeof b3, m.gogc, -1), m.memory_limit > 0 ? ", limit " : "",
               m.memory_limit > 0 ? fmt_mib(b4, (double)m.memory_limit) : "");
        printf("  GC CPU %.1f%% / %.1f%%, cycles/s %.2f / %.2f, peak heap %s / %s\n", 100 * m.gc_cpu_fraction,
               100 * self.gc_cpu_fraction, m.cycles_per_s, self.cycles_per_s, fmt_mib(b1, m.peak_heap),
               fmt_mib(b2, self.peak_heap));

        printf("\nCandidates (goals: GC CPU <= %.1f%%", 100 * goals.max_gc_cpu);
        if (goals.memory > 0)
            printf(", peak RSS <= %s", fmt_mib(b1, (double)goals.memory));
        if (goals.max_pause_ns > 0)
            printf(", p99 pause <= %s", cli_fmt_ns(b1, goals.max_pause_ns));
        printf("):\n");
        printf("  %-5s %-11s %7s %9s %11s %11s %10s  %-4s %-4s %-5s\n", "GOGC", "limit", "GC CPU", "cycles/s",
               "peak heap", "peak RSS", "p99 pause", "cpu", "mem", "pause");
        int hidden = 0;
        for (int i = 0; i < ngogc; i++) {
            for (size_t j = 0; j < nlim; j++) {
                if (gogcs[i] < 0 && limits[j] <= 0)
                    continue;
                gctt_prediction p;
                int okc, okm, okp;
                gctt_model_predict(&m, gogcs[i], limits[j], &p);
                gctt_model_judge(&goals, &p, &okc, &okm, &okp);
                int best = p.gogc == rec.best.gogc && p.memory_limit == rec.best.memory_limit;
                if (p.memory_limit > 0 && !p.limit_bound && p.gogc >= 0 && !best) {
                    hidden++;   /* the same as without the limit */
                    continue;
                }
                char lim[CLI_FMT_LEN];
                if (p.memory_limit > 0)
                    snprintf(lim, sizeof lim, "%lldMiB%s", (long long)(p.memory_limit / (int64_t)MiB),
                             p.limit_bound ? "*" : "");
                else
                    snprintf(lim, sizeof lim, "none");
                printf("%s %-5s %-11s %6.1f%% %9.2f %11s %11s %10s  %-4s %-4s %-5s\n", best ? ">" : " ",
                       gogc_str(g1, sizeof g1, p.gogc), lim, 100 * p.gc_cpu_fraction, p.cycles_per_s,
                       fmt_mib(b1, p.peak_heap), fmt_mib(b2, p.peak_rss), cli_fmt_ns(b3, cli_round(p.pause_p99_ns)),
                       mark(1, okc), mark(goals.memory > 0, okm),
                       mark(goals.max_pause_ns > 0, okp));
            }
        }
        if (nlim > 1)
            printf("  (* the limit, not GOGC, sets the heap goal somewhere in the run; %d rows with a limit\n"
                   "   that never binds are omitted: they are the rows without it)\n", hidden);

        printf("\nRecommendation: %s.\n", rec.why);
        if (!rec.meets_cpu || !rec.meets_memory)
            printf("No candidate meets every goal: %s.\n",
                   !rec.meets_memory ? "none fits the memory goal, this one uses the least memory"
                   : goals.memory > 0 ? "none meets the GC CPU goal within the memory goal, this one has the least GC CPU"
                                      : "none meets the GC CPU goal, this one has the least GC CPU");
        if (goals.max_pause_ns > 0 && !pause_ok)
            printf("The pause goal (p99 <= %s) cannot be met by any GOGC or memory limit: the model's p99 pause, %s,\n"
                   "follows the live heap (max %s), not GOGC; shorter pauses need a smaller live heap or\n"
                   "concurrent marking (GCTUNE_CONCURRENT=1 for libgc).\n",
                   cli_fmt_ns(b1, goals.max_pause_ns), cli_fmt_ns(b2, cli_round(rec.best.pause_p99_ns)),
                   fmt_mib(b3, m.live_max));
        else if (goals.max_pause_ns > 0)
            printf("The pause goal (p99 <= %s) is met at every setting: the model's p99 pause is %s.\n",
                   cli_fmt_ns(b1, goals.max_pause_ns), cli_fmt_ns(b2, cli_round(rec.best.pause_p99_ns)));
        printf("\nTo apply it, run the program with:\n  %s\n", env);
    }
    gctt_model_free(&m);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error(NULL, "write error on standard output");
        return CLI_FAIL;
    }
    return CLI_OK;
}
