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
 * Usage: churn_<variant> [-l LIVE_MB] [-a ALLOC_MULT] [-s SCAN_PCT]
 * Prints:
 *   churn <variant> live_mb=L alloc_x=A scan_pct=S slots=N steps=M wall=Ws cpu=Cs maxrss_kb=K gcs=G
 * wall/cpu cover the fill and the churn.
 */
#include "bench_alloc.h"

#include <unistd.h>

#define MIN_SIZE 16
#define MAX_SIZE 1024
#define MEAN_SIZE ((MIN_SIZE + MAX_SIZE) / 2)

static long anchor; /* static, so pointers to it are never heap edges */

static uint64_t rng = 88172645463325252ull;

static void *new_object(unsigned scan_pct, uint64_t tag)
{
    uint64_t r = bench_rand(&rng);
    size_t n = MIN_SIZE + (size_t)(r % (MAX_SIZE - MIN_SIZE + 1));
    int scanned = (unsigned)((r >> 32) % 100) < scan_pct;

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
    fprintf(stderr, "usage: %s [-l LIVE_MB] [-a ALLOC_MULT] [-s SCAN_PCT]\n"
                    "  defaults: -l 64 -a 10 -s 50\n", prog);
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned long long live_mb = 64, mult = 10;
    unsigned scan_pct = 50;
    int c;

    BENCH_INIT();
    while ((c = getopt(argc, argv, "l:a:s:h")) != -1) {
        switch (c) {
        case 'l': live_mb = bench_arg(argv[0], "-l", optarg); break;
        case 'a': mult = bench_arg(argv[0], "-a", optarg); break;
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

    double t0 = bench_now(), c0 = bench_cpu();

    void **slots = ALLOC_ROOTS(nslots * sizeof *slots);
    if (slots == NULL) {
        fprintf(stderr, "churn: cannot allocate %zu slots\n", nslots);
        return 1;
    }
    for (size_t i = 0; i < nslots; i++)
        slots[i] = new_object(scan_pct, i);

    uint64_t check = 0;
    for (uint64_t i = 0; i < steps; i++) {
        size_t k = (size_t)(bench_rand(&rng) % nslots);
        void *obj = new_object(scan_pct, i);
#if BENCH_IS_GC
        slots[k] = obj;
#else
        check += *(unsigned char *)slots[k];
        FREE(slots[k]);
        slots[k] = obj;
#endif
    }

    double wall = bench_now() - t0, cpu = bench_cpu() - c0;
    printf("churn %s live_mb=%llu alloc_x=%llu scan_pct=%u slots=%zu steps=%llu "
           "wall=%.3fs cpu=%.3fs maxrss_kb=%ld gcs=%llu\n",
           BENCH_NAME, live_mb, mult, scan_pct, nslots, (unsigned long long)steps,
           wall, cpu, bench_maxrss_kb(), (unsigned long long)bench_gc_count());
    /* keep the slot array (and the check) observable until the end */
    if (check == 1 && slots[0] == NULL)
        puts("");
    return 0;
}
