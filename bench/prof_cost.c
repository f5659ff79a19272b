/* prof_cost.c - the profiler's own costs, measured in one run:
 *
 *   per-sample cost: allocations made 32 frames deep, timed with the
 *   profiler at rate 1 (every allocation sampled: stack capture, queue)
 *   against the same loop with the profiler stopped; the difference per
 *   allocation is the cost of one sample on the allocating thread.  A
 *   warm-up pass first cycles through the whole queue (its pages are
 *   touched lazily, once), then the timed pass fits in the queue, so
 *   nothing is dropped (a dropped sample would skip the enqueue and look
 *   cheaper).
 *
 *   write throughput: a burst of rate-1 samples, timed from the first
 *   allocation until gct_profiler_stop returns (everything committed);
 *   reports samples written per second and drops.
 *
 * Usage: prof_cost [DIR]   (databases go to DIR, default /tmp)
 * Prints one "name value unit" line per figure.
 */
#include <gctune/gc.h>
#include <gctune/profiler.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile void *sink;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static __attribute__((noinline, noipa)) void leaf_loop(long n)
{
    for (long i = 0; i < n; i++) {
        void *p = gc_malloc_atomic(64);
        sink = p;
        gc_free(p);
    }
}

/* Recurses to depth, then runs the loop: the loop's samples have depth + a
 * few frames (main, libc start). */
static __attribute__((noinline, noipa)) void deep(int depth, long n)
{
    if (depth <= 1)
        leaf_loop(n);
    else
        deep(depth - 1, n);
    sink = &depth;
}

static void start(const char *path, int64_t rate, uint32_t queue)
{
    gct_profiler_config cfg;
    gct_profiler_config_init(&cfg);
    cfg.db_path = path;
    cfg.sample_rate = rate;
    cfg.queue_capacity = queue;
    cfg.seed = 1;
    if (gct_profiler_start(&cfg) != 0) {
        perror(path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    char path[4096];
    snprintf(path, sizeof path, "%s/prof_cost-%ld.sqlite", dir, (long)getpid());
    const long n = 50000;    /* x2 records (sample, free) fit the queue below */
    const uint32_t queue = 1u << 17;
    const int depth = 30;   /* + main + libc frames: 32 or more in all */

    /* warm up the heap and the unwinder's caches */
    deep(depth, n);
    double best_off = 1e9, best_on = 1e9;
    gct_profiler_stats st = { 0 };
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        deep(depth, n);
        double off = now() - t0;
        start(path, 1, queue);
        deep(depth, 2 * n);   /* warm-up: wraps around the queue */
        gct_profiler_stats w;
        do {   /* until the writer has drained it */
            gct_profiler_get_stats(&w);
            usleep(10000);
        } while (w.written_samples + w.dropped_samples < w.samples + w.dropped_samples ||
                 w.written_samples + w.dropped_samples < (uint64_t)(2 * n));
        usleep(50000);
        t0 = now();
        deep(depth, n);
        double on = now() - t0;
        gct_profiler_get_stats(&st);
        st.dropped_samples -= w.dropped_samples;
        gct_profiler_stop();
        if (st.dropped_samples) {
            fprintf(stderr, "prof_cost: %llu samples dropped; per-sample figure invalid\n",
                    (unsigned long long)st.dropped_samples);
            return 1;
        }
        if (off < best_off) best_off = off;
        if (on < best_on) best_on = on;
    }
    printf("alloc_ns_unprofiled %.1f ns\n", best_off / n * 1e9);
    printf("alloc_ns_rate1 %.1f ns\n", best_on / n * 1e9);
    printf("sample_cost_32_frames %.2f us\n", (best_on - best_off) / n * 1e6);

    /* write throughput: 1,000,000 samples through the default queue */
    const long burst = 1000000;
    start(path, 1, 0);
    double t0 = now();
    deep(4, burst);
    gct_profiler_get_stats(&st);
    gct_profiler_stop();
    double dt = now() - t0;
    gct_profiler_get_stats(&st);
    printf("rate1_samples %ld\n", burst);
    printf("rate1_written %llu\n", (unsigned long long)st.written_samples);
    printf("rate1_dropped %llu\n", (unsigned long long)st.dropped_samples);
    printf("rate1_written_per_s %.0f samples/s\n", (double)st.written_samples / dt);
    unlink(path);
    char aux[4200];
    snprintf(aux, sizeof aux, "%s-wal", path); unlink(aux);
    snprintf(aux, sizeof aux, "%s-shm", path); unlink(aux);
    return 0;
}
