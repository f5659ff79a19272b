/* churn.c - a collector workload with a steady live set (issue "collector").
 *
 * A slot array holds L MB of objects (default 64) of random size, uniform in
 * 16..1024 bytes (mean 520, fixed-seed xorshift); S% of them (default 50) are
 * pointer-kind (scanned) objects, the rest noscan, like a Go heap mixing
 * []byte and structs.  After the fill, each step replaces a random slot with a
 * new object until A x L bytes (default 10x) have been allocated.  The GC
 * variants just overwrite the slot (the old object becomes garbage); the
 * malloc variants free the old object first.  Live heap stays ~L MB, so a
 * collector with GOGC=100 runs roughly A/1 .. A/2 cycles, each marking L MB.
 *
 * Scanned objects hold one pointer to a static (non-heap) anchor and small
 * integers, so conservative scanning does real work but finds no heap edges:
 * the live set is exactly the slot array's objects.  The slot array itself
 * comes from ALLOC_ROOTS (scanned by the collectors).
 *
 * Slot updates go through STORE_PTR (bench_alloc.h): GC_STORE for libgc, so
 * the same binary is correct with concurrent marking (GCTUNE_CONCURRENT=1),
 * a plain store for the other allocators.  Stores into a fresh object (its
 * pointer to the static anchor) need no barrier: objects allocated during
 * marking are black, and the anchor is not a heap address.
 *
 * Usage: churn_<variant> [-l LIVE_MB] [-a ALLOC_MULT] [-s SCAN_PCT] [-v]
 * Prints:
 *   churn <variant> live_mb=L alloc_x=A scan_pct=S slots=N steps=M wall=Ws cpu=Cs maxrss_kb=K gcs=G
 *         churn_wall=Ws Msteps_s=X alloc_MBps=Y
 * wall/cpu cover the fill and the churn; churn_wall, Msteps_s and alloc_MBps
 * (MB = 2^20 bytes requested per second) cover only the churn loop.
 * The libgc variant also records every stop-the-world pause with a cycle
 * hook (gc_add_cycle_hook): the two pauses of a concurrent cycle
 * (stw_start_ns, stw_end_ns) separately, the one pause (stw_ns) of a
 * stop-the-world cycle, over the whole run (fill and churn), and appends
 *   mode=stw|concurrent|mixed cycles=N conc_cycles=C pauses=P p50_ms=.. p99_ms=..
 *   max_ms=.. pause_total_ms=.. stats_pause_total_ms=..
 * (percentiles by nearest rank; stats_pause_total_ms is gc_read_stats'
 * pause_total_ns, a cross-check).  libgc picks the mode (GCTUNE_CONCURRENT=0/1);
 * mode= reports what the cycles actually were.  -v lists every pause on stderr.
 */
#include "bench_alloc.h"

#include <unistd.h>
#if defined(BENCH_ALLOC_LIBGC)
#include <pthread.h>
#endif

#define MIN_SIZE 16
#define MAX_SIZE 1024
#define MEAN_SIZE ((MIN_SIZE + MAX_SIZE) / 2)

static long anchor; /* static, so pointers to it are never heap edges */

static uint64_t rng = 88172645463325252ull;
static uint64_t bytes_requested; /* by the churn loop (and the fill) */

#if defined(BENCH_ALLOC_LIBGC)
/* Every stop-the-world pause, in ns, in system-malloc memory (never scanned:
 * it holds no pointers).  Hooks run on the thread that ran the cycle (the GC
 * controller for triggered cycles), hence the lock. */
static pthread_mutex_t pause_lock = PTHREAD_MUTEX_INITIALIZER;
struct pause {
    uint64_t ns, at_ns; /* length; CLOCK_REALTIME end of the cycle */
    uint32_t cycle;
    char kind;          /* 's' start of a concurrent cycle, 'e' its end, 'w' stop-the-world cycle */
};
static struct pause *pauses;
static size_t npauses, pause_cap;
static unsigned conc_cycles, all_cycles, lost_pauses;

static void pause_add(const gc_cycle_info *info, uint64_t ns, char kind)
{
    if (npauses == pause_cap) {
        size_t cap = pause_cap ? 2 * pause_cap : 1024;
        struct pause *p = realloc(pauses, cap * sizeof *p);
        if (p == NULL) {
            lost_pauses++;
            return;
        }
        pauses = p;
        pause_cap = cap;
    }
    pauses[npauses++] = (struct pause){ns, info->end_ns, info->num, kind};
}

static void pause_hook(const gc_cycle_info *info, void *arg)
{
    (void)arg;
    pthread_mutex_lock(&pause_lock);
    all_cycles++;
    if (info->concurrent) {
        conc_cycles++;
        pause_add(info, info->stw_start_ns, 's');
        pause_add(info, info->stw_end_ns, 'e');
    } else {
        pause_add(info, info->stw_ns, 'w');
    }
    pthread_mutex_unlock(&pause_lock);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* nearest rank: the smallest value with at least q of the pauses <= it */
static double pct_ms(const uint64_t *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t r = (size_t)(q * (double)n + 0.999999999);
    if (r < 1)
        r = 1;
    if (r > n)
        r = n;
    return (double)v[r - 1] / 1e6;
}

/* -v: every pause on stderr, in the order recorded */
static void list_pauses(void)
{
    pthread_mutex_lock(&pause_lock);
    for (size_t i = 0; i < npauses; i++)
        fprintf(stderr, "pause cycle=%u kind=%s ms=%.3f at=%.3fs\n", pauses[i].cycle,
                pauses[i].kind == 's' ? "conc-start" : pauses[i].kind == 'e' ? "conc-end" : "stw",
                (double)pauses[i].ns / 1e6, (double)(pauses[i].at_ns - pauses[0].at_ns) / 1e9);
    pthread_mutex_unlock(&pause_lock);
}

/* Appends the pause fields to the summary line. */
static void print_pauses(void)
{
    static gc_stats st; /* large; keep it off the stack */
    gc_read_stats(&st);
    pthread_mutex_lock(&pause_lock);
    size_t n = npauses;
    uint64_t *v = malloc((n ? n : 1) * sizeof *v);
    if (v == NULL)
        n = 0;
    for (size_t i = 0; i < n; i++)
        v[i] = pauses[i].ns;
    unsigned cc = conc_cycles, ac = all_cycles, lost = lost_pauses;
    pthread_mutex_unlock(&pause_lock);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += v[i];
    qsort(v, n, sizeof *v, cmp_u64);
    /* mode from the cycles themselves (GCTUNE_CONCURRENT decides them) */
    printf(" mode=%s cycles=%u conc_cycles=%u pauses=%zu p50_ms=%.3f p99_ms=%.3f max_ms=%.3f "
           "pause_total_ms=%.1f stats_pause_total_ms=%.1f",
           cc == 0 ? "stw" : cc == ac ? "concurrent" : "mixed", ac, cc, n,
           pct_ms(v, n, 0.50), pct_ms(v, n, 0.99), n ? (double)v[n - 1] / 1e6 : 0.0,
           (double)total / 1e6, (double)st.pause_total_ns / 1e6);
    if (lost)
        printf(" lost_pauses=%u", lost);
    free(v);
}
#endif

static void *new_object(unsigned scan_pct, uint64_t tag)
{
    uint64_t r = bench_rand(&rng);
    size_t n = MIN_SIZE + (size_t)(r % (MAX_SIZE - MIN_SIZE + 1));
    int scanned = (unsigned)((r >> 32) % 100) < scan_pct;

    bytes_requested += n;
    if (scanned) {
        void **p = ALLOC_SCANNED(n);
        if (p == NULL)
            goto oom;
        p[0] = &anchor;
        p[1] = (void *)(uintptr_t)(tag & 0xfff); /* small int: never a heap address */
        return p;
    }
    unsigned char *b = ALLOC(n);
    if (b == NULL)
        goto oom;
    b[0] = (unsigned char)tag;
    b[n / 2] = (unsigned char)(tag >> 8);
    b[n - 1] = (unsigned char)(tag >> 16);
    return b;
oom:
    fprintf(stderr, "churn: allocation of %zu bytes failed\n", n);
    exit(1);
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-l LIVE_MB] [-a ALLOC_MULT] [-s SCAN_PCT] [-v]\n"
                    "  defaults: -l 64 -a 10 -s 50; -v: libgc: every pause on stderr\n", prog);
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned long long live_mb = 64, mult = 10;
    unsigned scan_pct = 50;
    int c, verbose = 0;

    BENCH_INIT();
    while ((c = getopt(argc, argv, "l:a:s:vh")) != -1) {
        switch (c) {
        case 'l': live_mb = bench_arg(argv[0], "-l", optarg); break;
        case 'a': mult = bench_arg(argv[0], "-a", optarg); break;
        case 'v': verbose = 1; break;
        case 's':
            /* 0 is allowed here: all noscan */
            scan_pct = optarg[0] == '0' && optarg[1] == '\0'
                           ? 0 : (unsigned)bench_arg(argv[0], "-s", optarg);
            if (scan_pct > 100)
                usage(argv[0]);
            break;
        default: usage(argv[0]);
        }
    }
    if (optind != argc || live_mb > (1ull << 20))
        usage(argv[0]);

    size_t nslots = (size_t)(live_mb << 20) / MEAN_SIZE;
    uint64_t steps = (uint64_t)nslots * mult;

#if defined(BENCH_ALLOC_LIBGC)
    if (gc_add_cycle_hook(pause_hook, NULL) != 0) {
        fprintf(stderr, "churn: gc_add_cycle_hook failed\n");
        return 1;
    }
#endif
    double t0 = bench_now(), c0 = bench_cpu();

    void **slots = ALLOC_ROOTS(nslots * sizeof *slots);
    if (slots == NULL) {
        fprintf(stderr, "churn: cannot allocate %zu slots\n", nslots);
        return 1;
    }
    for (size_t i = 0; i < nslots; i++)
        STORE_PTR(slots[i], new_object(scan_pct, i));

    uint64_t check = 0;
    double t1 = bench_now();
    uint64_t bytes0 = bytes_requested;
    for (uint64_t i = 0; i < steps; i++) {
        size_t k = (size_t)(bench_rand(&rng) % nslots);
        void *obj = new_object(scan_pct, i);
#if BENCH_IS_GC
        STORE_PTR(slots[k], obj);
#else
        check += *(unsigned char *)slots[k];
        FREE(slots[k]);
        STORE_PTR(slots[k], obj);
#endif
    }

    double t2 = bench_now();
    double wall = t2 - t0, cpu = bench_cpu() - c0, cwall = t2 - t1;
#if defined(BENCH_ALLOC_LIBGC)
    if (verbose)
        list_pauses();
#else
    (void)verbose;
#endif
    printf("churn %s live_mb=%llu alloc_x=%llu scan_pct=%u slots=%zu steps=%llu "
           "wall=%.3fs cpu=%.3fs maxrss_kb=%ld gcs=%llu churn_wall=%.3fs Msteps_s=%.3f alloc_MBps=%.1f",
           BENCH_NAME, live_mb, mult, scan_pct, nslots, (unsigned long long)steps,
           wall, cpu, bench_maxrss_kb(), (unsigned long long)bench_gc_count(), cwall,
           cwall > 0 ? (double)steps / cwall / 1e6 : 0.0,
           cwall > 0 ? (double)(bytes_requested - bytes0) / (1 << 20) / cwall : 0.0);
#if defined(BENCH_ALLOC_LIBGC)
    print_pauses();
#endif
    putchar('\n');
    /* keep the slot array (and the check) observable until the end */
    if (check == 1 && slots[0] == NULL)
        puts("");
    return 0;
}
