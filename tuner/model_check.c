/* tuner/model_check.c - prints the offline model (tuner/model.h) fitted to
 * a run database and its predictions, key=value: a debugging aid for the
 * model (`gctune recommend` is the command; bench/recommend_validate.sh
 * compares its --json predictions with recordings).  Not installed.
 *
 *   model_check RUN.sqlite [GOGC[:LIMIT_BYTES] ...]
 *
 * Output, one line each, key=value: "fit ..." (the fitted constants and the
 * run's measured figures), then "predict gogc=G limit=L gc_cpu=...
 * cycles_per_s=... peak_heap_mib=... peak_rss_mib=..." per setting, then
 * "recommend ..." for the default goals (5% GC CPU).  Exit 1 when the file
 * cannot be read or fitted (message on stderr), 2 on usage.
 */
#include "model.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MiB (1024.0 * 1024.0)

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: model_check RUN.sqlite [GOGC[:LIMIT_BYTES] ...]\n");
        return 2;
    }
    gctt_model m;
    char err[512];
    if (gctt_model_load(argv[1], &m, err, sizeof err) != 0) {
        fprintf(stderr, "model_check: %s\n", err);
        return 1;
    }
    printf("fit gogc=%d cycles=%d secs=%.2f procs=%d fixed_ms=%.3f mark_ns_per_byte=%.4f garbage_ns_per_byte=%.4f%s "
           "pause_fixed_ms=%.3f "
           "pause_ns_per_byte=%.4f live_mean_mib=%.1f live_max_mib=%.1f alloc_mib_s=%.1f frag=%.2f "
           "gc_cpu=%.4f cycles_per_s=%.2f peak_heap_mib=%.1f peak_rss_mib=%.1f\n",
           m.gogc, m.ncycles, m.duration_s, m.procs, m.fixed_ns / 1e6, m.mark_ns_per_byte, m.garbage_ns_per_byte,
           m.beta_fitted ? "(fitted)" : "(default)", m.pause_fixed_ns / 1e6,
           m.pause_ns_per_byte, m.live_mean / MiB, m.live_max / MiB, m.alloc_rate / MiB, m.frag, m.gc_cpu_fraction,
           m.cycles_per_s, m.peak_heap / MiB, m.peak_rss >= 0 ? m.peak_rss / MiB : -1);
    for (int i = 2; i < argc; i++) {
        int g = strcmp(argv[i], "off") && strncmp(argv[i], "off:", 4) ? atoi(argv[i]) : -1;
        const char *c = strchr(argv[i], ':');
        long long lim = c ? atoll(c + 1) : -1;
        gctt_prediction p;
        gctt_model_predict(&m, g, lim, &p);
        printf("predict gogc=%d limit=%lld gc_cpu=%.4f cycles=%.0f cycles_per_s=%.2f peak_heap_mib=%.1f "
               "peak_rss_mib=%.1f limit_bound=%d\n",
               g, lim, p.gc_cpu_fraction, p.cycles, p.cycles_per_s, p.peak_heap / MiB,
               p.peak_rss >= 0 ? p.peak_rss / MiB : -1, p.limit_bound);
    }
    gctt_goals goals = { 0.05, 0, 0 };
    gctt_recommendation r;
    gctt_model_recommend(&m, &goals, &r);
    printf("recommend %s\n", r.why);
    gctt_model_free(&m);
    return 0;
}
