/* demo.c - the tuner's demo workload: a garbage-collected program whose
 * allocation behaviour changes in phases, so that a GC tuner has something
 * to react to.
 *
 * Phases (default run ~15 s; --short ~2 s for tests):
 *   steady     live set L, a steady allocation rate            (5/15 of the time)
 *   spike      3x the bytes allocated per unit of work          (2/15)
 *   live_up    a second live set of size L: live 2L             (2/15)
 *   live_down  the second set dropped: back to L                (2/15)
 *   leak       objects retained slowly: live grows to ~1.5L     (4/15)
 * A unit of work allocates short-lived objects (mixed sizes, some holding
 * pointers), replaces one object of the live set (so the live set turns
 * over) and computes a checksum over what it allocated.  Throughput is units
 * per second.
 *
 * Each phase ends with one line on stdout, key=value, for scripts
 * (bench/tuner.sh):
 *   demo: phase=steady secs=5.00 units=... units_per_s=... alloc_mib_s=...
 *         cycles=... gc_cpu=0.0734 p99_pause_ms=... max_pause_ms=... live_mib=... gogc=... limit_mib=...
 * and a final "demo: phase=total ... peak_rss_mib=...".  GC CPU is counted
 * as libgc counts it (pause x marking threads + background + assist CPU, from
 * a cycle hook) over the phase's wall time x marking threads.
 *
 * Options: --short, --seconds S (total), --live MiB (L, default 48; 16 with
 * --short), --work N (compute per unit, default 16000 rounds), --units N
 * (fixed work instead of fixed time: N units in all, shared among the
 * phases as the time is; for comparing settings on the same work),
 * --quiet (only the total line).  Environment as for any libgc
 * program: GOGC, GOMEMLIMIT, GCTUNE_PROFILE, GCTUNE_TUNER, ...
 *
 * Invariant: every pointer the live set holds is in gc_malloc'd memory
 * reachable from the global `live` table (a root), so nothing here depends
 * on malloc'd memory being scanned.  Pointer stores into existing objects
 * use GC_STORE, so the demo also runs with GCTUNE_CONCURRENT=1.
 */
#include <gctune/gc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MiB (1024.0 * 1024.0)
#define MAX_PAUSES 65536

struct obj {
    struct obj *next;           /* a chain inside the live set: marking traverses it */
    uint64_t data[];            /* payload */
};

/* Roots: the live set tables (globals are scanned). */
static struct obj **live;       /* base live set, nlive slots */
static struct obj **extra;      /* second live set (live_up) */
static struct obj **leaked;     /* the leak phase's retained objects */
static size_t nlive, nextra, nleaked, leak_cap;

/* GC accounting from the cycle hook (collecting thread). */
static volatile uint64_t hook_gc_cpu_ns, hook_cycles;
static uint64_t pauses[MAX_PAUSES];
static volatile uint64_t npauses;
static int hook_procs = 1;

static void on_cycle(const gc_cycle_info *ci, void *arg)
{
    (void)arg;
    uint64_t cpu = ci->stw_ns * (uint64_t)(ci->procs > 0 ? ci->procs : 1) + ci->background_cpu_ns + ci->assist_cpu_ns;
    __atomic_add_fetch(&hook_gc_cpu_ns, cpu, __ATOMIC_RELAXED);
    __atomic_add_fetch(&hook_cycles, 1, __ATOMIC_RELAXED);
    hook_procs = ci->procs > 0 ? ci->procs : 1;
    uint64_t i = __atomic_fetch_add(&npauses, 1, __ATOMIC_RELAXED);
    if (i < MAX_PAUSES)
        pauses[i] = ci->stw_ns;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static inline uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* An object of 64..1023 bytes (mean ~540), its chain pointer set. */
static struct obj *new_obj(struct obj *next)
{
    size_t sz = 64 + (size_t)(next_rand() % 960);
    struct obj *o = gc_malloc(sz);
    if (!o) {
        fprintf(stderr, "demo: out of memory\n");
        exit(1);
    }
    o->next = next;
    o->data[0] = sz;
    return o;
}

#define OBJ_MEAN 544.0

/* Fills a table of n slots with objects chained in groups of 8. */
static struct obj **fill(size_t n)
{
    struct obj **t = gc_malloc(n * sizeof *t);
    if (!t) {
        fprintf(stderr, "demo: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        GC_STORE(t[i], new_obj(i % 8 ? t[i - 1] : NULL));
    return t;
}

static uint64_t sink;

/* One unit of work: `bytes` of short-lived objects, one live object
 * replaced, some computing. */
static int work_iters = 16000;

static void unit(size_t bytes, int leak)
{
    uint64_t sum = 0;
    size_t done = 0;
    struct obj *chain = NULL;
    while (done < bytes) {
        size_t sz = 32 + (size_t)(next_rand() % 2016);
        if (next_rand() % 4 == 0) {
            struct obj *o = gc_malloc(sz);
            o->next = chain;   /* o is new: allocated black during a mark, no barrier needed */
            chain = o;
            o->data[0] = sz;
        } else {
            uint64_t *p = gc_malloc_atomic(sz);
            p[0] = sz;
            sum += p[0];
        }
        done += sz;
    }
    for (struct obj *o = chain; o; o = o->next)
        sum += o->data[0];
    /* replace one object of the live set: the new one takes its place in
     * its chain (the next object's link is moved to it), so the old one
     * becomes garbage and the live set keeps its size */
    size_t i = (size_t)(next_rand() % nlive);
    struct obj *o = new_obj(i % 8 ? live[i - 1] : NULL);
    GC_STORE(live[i], o);
    if (i % 8 != 7 && i + 1 < nlive)
        GC_STORE(live[i + 1]->next, o);
    if (leak && nleaked < leak_cap) {
        GC_STORE(leaked[nleaked], new_obj(NULL));
        nleaked++;
    }
    for (int k = 0; k < work_iters; k++)   /* the program's own work */
        sum = sum * 6364136223846793005ull + 1442695040888963407ull;
    sink += sum;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double peak_rss_mib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double v = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6))
            v = strtod(line + 6, NULL) / 1024.0;
    if (f)
        fclose(f);
    return v;
}

struct phase_acc {
    double t0;
    uint64_t units, bytes, cpu0, cyc0, p0;
};

static void phase_begin(struct phase_acc *a)
{
    a->t0 = now_s();
    a->units = a->bytes = 0;
    a->cpu0 = __atomic_load_n(&hook_gc_cpu_ns, __ATOMIC_RELAXED);
    a->cyc0 = __atomic_load_n(&hook_cycles, __ATOMIC_RELAXED);
    a->p0 = __atomic_load_n(&npauses, __ATOMIC_RELAXED);
}

static void phase_end(const char *name, const struct phase_acc *a, int print)
{
    double secs = now_s() - a->t0;
    uint64_t cpu = __atomic_load_n(&hook_gc_cpu_ns, __ATOMIC_RELAXED) - a->cpu0;
    uint64_t cyc = __atomic_load_n(&hook_cycles, __ATOMIC_RELAXED) - a->cyc0;
    uint64_t p1 = __atomic_load_n(&npauses, __ATOMIC_RELAXED);
    if (p1 > MAX_PAUSES)
        p1 = MAX_PAUSES;
    size_t np = p1 > a->p0 ? (size_t)(p1 - a->p0) : 0;
    double p99 = 0, pmax = 0;
    if (np) {
        uint64_t *tmp = malloc(np * sizeof *tmp);
        if (tmp) {
            memcpy(tmp, pauses + a->p0, np * sizeof *tmp);
            qsort(tmp, np, sizeof *tmp, cmp_u64);
            size_t r = (size_t)(0.99 * (double)np + 0.999999);   /* nearest rank */
            p99 = (double)tmp[(r ? r : 1) - 1] / 1e6;
            pmax = (double)tmp[np - 1] / 1e6;
            free(tmp);
        }
    }
    if (!print)
        return;
    double live_mib = ((double)(nlive + nextra + nleaked) * OBJ_MEAN) / MiB;
    int64_t lim = gc_set_memory_limit(-1);
    int gogc = gc_set_percent(100);
    gc_set_percent(gogc);   /* query: set it back at once */
    printf("demo: phase=%s secs=%.2f units=%llu units_per_s=%.0f alloc_mib_s=%.1f cycles=%llu gc_cpu=%.4f "
           "p99_pause_ms=%.3f max_pause_ms=%.3f live_mib=%.1f gogc=%d limit_mib=%.0f%s\n",
           name, secs, (unsigned long long)a->units, secs > 0 ? (double)a->units / secs : 0,
           secs > 0 ? (double)a->bytes / MiB / secs : 0, (unsigned long long)cyc,
           secs > 0 ? (double)cpu / (secs * 1e9 * hook_procs) : 0, p99, pmax, live_mib, gogc,
           lim == INT64_MAX ? -1.0 : (double)lim / MiB,
           strcmp(name, "total") ? "" : "");
    fflush(stdout);
}

static void usage(void)
{
    fprintf(stderr, "usage: demo [--short] [--seconds S] [--live MiB] [--work N] [--units N] [--quiet]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    double total = 15, live_mib = 48, fixed_units = 0;
    int shortrun = 0, quiet = 0, live_set = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--short")) {
            shortrun = 1;
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            total = strtod(argv[++i], NULL);
            if (!(total > 0.1))
                usage();
        } else if (!strcmp(argv[i], "--units") && i + 1 < argc) {
            fixed_units = strtod(argv[++i], NULL);
            if (!(fixed_units >= 15))
                usage();
        } else if (!strcmp(argv[i], "--work") && i + 1 < argc) {
            work_iters = atoi(argv[++i]);
            if (work_iters < 0)
                usage();
        } else if (!strcmp(argv[i], "--live") && i + 1 < argc) {
            live_mib = strtod(argv[++i], NULL);
            live_set = 1;
            if (!(live_mib >= 1))
                usage();
        } else {
            usage();
        }
    }
    if (shortrun) {
        total = 2;
        if (!live_set)
            live_mib = 16;
    }
    gc_add_cycle_hook(on_cycle, NULL);

    nlive = (size_t)(live_mib * MiB / OBJ_MEAN);
    live = fill(nlive);
    leak_cap = nlive / 2;
    leaked = gc_malloc(leak_cap * sizeof *leaked);

    /* Bytes of garbage per unit: 16 KiB (steady). */
    const size_t per_unit = 16384;
    struct {
        const char *name;
        double share;
        size_t bytes;
        int leak;
    } phases[] = {
        { "steady", 5, per_unit, 0 },
        { "spike", 2, 3 * per_unit, 0 },
        { "live_up", 2, per_unit, 0 },
        { "live_down", 2, per_unit, 0 },
        { "leak", 4, per_unit, 1 },
    };
    struct phase_acc all, ph;
    phase_begin(&all);
    for (size_t p = 0; p < sizeof phases / sizeof phases[0]; p++) {
        if (!strcmp(phases[p].name, "live_up")) {
            nextra = nlive;
            extra = fill(nextra);
        } else if (!strcmp(phases[p].name, "live_down")) {
            extra = NULL;
            nextra = 0;
        }
        double secs = total * phases[p].share / 15.0;
        phase_begin(&ph);
        double end = ph.t0 + secs;
        /* The leak phase retains leak_cap objects spread over its length. */
        uint64_t n = 0;
        size_t leak_every = 1;
        uint64_t units = fixed_units > 0 ? (uint64_t)(fixed_units * phases[p].share / 15.0) : 0;
        for (;;) {
            if (units ? n >= units : (n & 63) == 0 && now_s() >= end)
                break;
            int leak = 0;
            if (phases[p].leak) {
                double frac = units ? (double)n / (double)units : (now_s() - ph.t0) / secs;
                leak = (double)nleaked < frac * (double)leak_cap;
                (void)leak_every;
            }
            unit(phases[p].bytes, leak);
            ph.units++;
            ph.bytes += phases[p].bytes;
            n++;
        }
        all.units += ph.units;
        all.bytes += ph.bytes;
        phase_end(phases[p].name, &ph, !quiet);
    }
    phase_end("total", &all, 1);
    printf("demo: peak_rss_mib=%.1f checksum=%llu\n", peak_rss_mib(), (unsigned long long)(sink & 0xffff));
    return 0;
}
