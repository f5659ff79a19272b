/* alloc_churn.c - allocation throughput with a steady live set (issue "allocator").
 *
 * Workload: an array of N slots (default 20000) is filled with objects of
 * random size, uniform in 16..4096 bytes (fixed-seed xorshift).  Each step then
 * picks a random slot, frees the object there, allocates a new object of a
 * random size and writes a few bytes into it.  M steps (default 20 million)
 * are timed with CLOCK_MONOTONIC; the fill is not timed.  The live set is
 * about N * 2 KiB (~40 MB by default), so this measures the allocator's
 * malloc/free fast paths and its reuse of freed memory, not a collector.
 *
 * With -t T, T threads each run M/T steps on their own N slots (the live set
 * grows T-fold); Mops is the aggregate rate.
 *
 * Usage: alloc_churn_<allocator> [-t THREADS] [-n SLOTS] [STEPS]
 * Prints one line:
 *   alloc_churn <allocator> threads=T slots=N steps=M seconds=S Mops=X cpu=Cs maxrss_kb=K gcs=G
 * seconds and cpu cover the churn loop only (cpu: all threads of the process).
 * (libgc objects come from gc_malloc_atomic and are freed with gc_free; the
 * slot array is gc_malloc'd so the collector sees the live set.)
 */
#include "bench_alloc.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#define MIN_SIZE 16
#define MAX_SIZE 4096

struct worker {
    uint64_t steps;       /* steps to run */
    size_t nslots;        /* slots owned by this worker */
    uint64_t seed;        /* xorshift state, distinct per worker */
    uint64_t check;       /* sum of bytes read back, printed so nothing is elided */
    pthread_barrier_t *start; /* NULL when single-threaded */
    double t_start, t_end; /* CLOCK_MONOTONIC seconds around the churn loop */
    double c_start, c_end; /* process CPU seconds around the churn loop */
};

static size_t rand_size(uint64_t *s)
{
    return MIN_SIZE + (size_t)(bench_rand(s) % (MAX_SIZE - MIN_SIZE + 1));
}

static unsigned char *alloc_touch(size_t n, uint64_t tag)
{
    unsigned char *p = ALLOC(n);
    if (p == NULL) {
        fprintf(stderr, "alloc_churn: allocation of %zu bytes failed\n", n);
        exit(1);
    }
    p[0] = (unsigned char)tag;
    p[n / 2] = (unsigned char)(tag >> 8);
    p[n - 1] = (unsigned char)(tag >> 16);
    return p;
}

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    /* The slot array is a root for the collectors (ALLOC_ROOTS is scanned);
     * this local keeps the array itself alive. */
    unsigned char **slots = ALLOC_ROOTS(w->nslots * sizeof *slots);
    uint64_t s = w->seed, check = 0;

    if (slots == NULL) {
        fprintf(stderr, "alloc_churn: cannot allocate %zu slots\n", w->nslots);
        exit(1);
    }
    for (size_t i = 0; i < w->nslots; i++)
        slots[i] = alloc_touch(rand_size(&s), i);

    if (w->start != NULL)
        pthread_barrier_wait(w->start);
    w->c_start = bench_cpu();
    w->t_start = bench_now();

    for (uint64_t i = 0; i < w->steps; i++) {
        size_t k = (size_t)(bench_rand(&s) % w->nslots);
        size_t n = rand_size(&s);
        unsigned char *old = slots[k];
        check += old[0];
        FREE(old);
        slots[k] = alloc_touch(n, i);
    }
    w->t_end = bench_now();
    w->c_end = bench_cpu();
    w->check = check;
    return slots; /* keep slots reachable until here */
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-t THREADS] [-n SLOTS] [STEPS]\n"
                    "  defaults: 1 thread, 20000 slots, 20000000 steps\n", prog);
    exit(2);
}

int main(int argc, char **argv)
{
    uint64_t steps = 20000000;
    size_t nslots = 20000;
    unsigned threads = 1;
    int c;

    BENCH_INIT();
    while ((c = getopt(argc, argv, "t:n:h")) != -1) {
        switch (c) {
        case 't': threads = (unsigned)bench_arg(argv[0], "-t", optarg); break;
        case 'n': nslots = (size_t)bench_arg(argv[0], "-n", optarg); break;
        default: usage(argv[0]);
        }
    }
    if (optind < argc)
        steps = bench_arg(argv[0], "STEPS", argv[optind++]);
    if (optind != argc || threads > 1024)
        usage(argv[0]);

    struct worker *w = calloc(threads, sizeof *w);
    pthread_t *tid = calloc(threads, sizeof *tid);
    pthread_barrier_t start;
    if (w == NULL || tid == NULL)
        return 1;
    for (unsigned t = 0; t < threads; t++) {
        w[t].steps = steps / threads + (t < steps % threads);
        w[t].nslots = nslots;
        w[t].seed = 0x9E3779B97F4A7C15ull ^ ((uint64_t)t * 0xBF58476D1CE4E5B9ull) ^ 88172645463325252ull;
        if (w[t].seed == 0)
            w[t].seed = 1;
    }

    double t0, t1, c0, c1;
    if (threads == 1) {
        w[0].start = NULL;
        worker_run(&w[0]);
        t0 = w[0].t_start;
        t1 = w[0].t_end;
        c0 = w[0].c_start;
        c1 = w[0].c_end;
    } else {
        pthread_barrier_init(&start, NULL, threads + 1);
        for (unsigned t = 0; t < threads; t++) {
            w[t].start = &start;
            if (pthread_create(&tid[t], NULL, worker_run, &w[t]) != 0) {
                fprintf(stderr, "alloc_churn: pthread_create failed\n");
                return 1;
            }
        }
        pthread_barrier_wait(&start);
        c0 = bench_cpu();
        t0 = bench_now();
        for (unsigned t = 0; t < threads; t++)
            pthread_join(tid[t], NULL);
        t1 = bench_now();
        c1 = bench_cpu();
    }

    uint64_t check = 0;
    for (unsigned t = 0; t < threads; t++)
        check += w[t].check;
    double secs = t1 - t0;
    printf("alloc_churn %s threads=%u slots=%zu steps=%llu seconds=%.3f Mops=%.2f "
           "cpu=%.2fs maxrss_kb=%ld gcs=%llu check=%llu\n",
           BENCH_NAME, threads, nslots, (unsigned long long)steps, secs,
           secs > 0 ? (double)steps / secs / 1e6 : 0.0, c1 - c0, bench_maxrss_kb(),
           (unsigned long long)bench_gc_count(), (unsigned long long)(check & 0xffff));
    return 0;
}
