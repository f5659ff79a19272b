/* bench/cli_bench.c - writes a large synthetic run database for timing
 * `gctune analyze` (bench/cli_bench.sh runs it and times the command).
 *
 *   bench/cli_bench SAMPLES OUT.sqlite
 *
 * Through the store writer (store/store.h), deterministic: 2 mappings,
 * 600 symbolized frames, 3,000 stacks of depth 6..29, SAMPLES samples over
 * a 60 s run at rate 512 KiB (sizes 16 B .. 1 MiB, 70% freed later, a few
 * sites never freed), one GC cycle per 20,000 samples, a heap series point
 * every 100 ms; written in transactions of 50,000 rows as the profiler
 * does.  Not a test: nothing checks anything.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

#define RATE 524288.0
#define NFRAMES 600
#define NSTACKS 3000
#define DURATION_NS 60000000000LL
#define BASE 0x555555554000ULL

static uint64_t state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 2685821657736338717ULL;
}

#define CHECK(call) do { if ((call) < 0) { fprintf(stderr, "cli_bench: %s: %s\n", #call, gcts_errmsg(db)); return 1; } } while (0)

int main(int argc, char **argv)
{
    if (argc != 3 || atol(argv[1]) <= 0) {
        fprintf(stderr, "usage: cli_bench SAMPLES OUT.sqlite\n");
        return 2;
    }
    long n = atol(argv[1]);
    char err[512];
    gcts_db *db = gcts_create(argv[2], err, sizeof err);
    if (!db) {
        fprintf(stderr, "cli_bench: %s\n", err);
        return 1;
    }
    CHECK(gcts_begin(db));
    CHECK(gcts_set_meta(db, "program", "/usr/bin/cli-bench-app"));
    CHECK(gcts_set_meta(db, "argv", "[\"cli-bench-app\"]"));
    CHECK(gcts_set_meta(db, "backend", "libgc"));
    CHECK(gcts_set_meta(db, "source", "profiler"));
    CHECK(gcts_set_meta_int(db, "sample_rate", (int64_t)RATE));
    CHECK(gcts_set_meta_int(db, "start_time_ns", 1700000000000000000LL));
    CHECK(gcts_set_meta_int(db, "duration_ns", DURATION_NS));
    CHECK(gcts_set_meta_int(db, "dropped_samples", 0));
    CHECK(gcts_set_meta_int(db, "samples", n));
    gcts_mapping exe = { 0, "/usr/bin/cli-bench-app", "feedface", BASE, BASE + 0x1000000, 0 };
    int64_t mid = gcts_add_mapping(db, &exe);
    if (mid < 0)
        return 1;
    char fn[64], file[64];
    for (int i = 0; i < NFRAMES; i++) {
        snprintf(fn, sizeof fn, "function_%03d", i);
        snprintf(file, sizeof file, "src/module_%02d.c", i % 40);
        gcts_frame f = { BASE + 0x1000 + (uint64_t)i * 0x40, fn, file, 10 + i % 500,
                         "/usr/bin/cli-bench-app", mid };
        CHECK(gcts_add_frame(db, &f));
    }
    uint64_t ips[32];
    for (int s = 1; s <= NSTACKS; s++) {
        int depth = 6 + (int)(rnd() % 24);
        for (int d = 0; d < depth; d++)
            ips[d] = BASE + 0x1000 + (rnd() % NFRAMES) * 0x40;
        CHECK(gcts_add_stack(db, s, rnd(), ips, depth));
    }
    CHECK(gcts_commit(db));

    int64_t step = DURATION_NS / n;
    long ncycles = 0;
    for (long i = 0; i < n; i++) {
        if (i % 50000 == 0)
            CHECK(gcts_begin(db));
        int64_t t = i * (step ? step : 1);
        /* skewed site popularity: a few hot stacks */
        uint64_t r = rnd();
        int64_t stack = 1 + (int64_t)((r % NSTACKS) * (r % NSTACKS) / NSTACKS);
        uint64_t size = 16ULL << (rnd() % 17);
        int64_t freed = stack % 10 < 7 ? t + (int64_t)(rnd() % 2000000000) : -1;
        if (freed >= DURATION_NS)
            freed = -1;
        gcts_sample smp = { i + 1, t, 0x7f0000000000ULL + (uint64_t)i * 16, size, stack,
                            1.0 / (1.0 - exp(-(double)size / RATE)), freed, 1 };
        CHECK(gcts_add_sample(db, &smp));
        if (i % 20000 == 19999) {
            gcts_gc_cycle c;
            gcts_gc_cycle_init(&c);
            c.num = ++ncycles;
            c.start_ns = t;
            c.pause_ns = 50000 + (int64_t)(rnd() % 500000);
            c.end_ns = t + c.pause_ns + 2000000;
            c.heap_goal = 64 << 20;
            c.gc_percent = 100;
            c.gc_cpu_fraction = 0.02;
            CHECK(gcts_add_gc_cycle(db, &c));
        }
        if (i % 50000 == 49999 || i == n - 1)
            CHECK(gcts_commit(db));
    }
    CHECK(gcts_begin(db));
    for (int64_t t = 0; t < DURATION_NS; t += 100000000) {
        gcts_heap_point h;
        gcts_heap_point_init(&h);
        h.time_ns = t;
        h.heap_alloc = (int64_t)(32 << 20) + (int64_t)(rnd() % (16 << 20));
        h.rss = h.heap_alloc + (16 << 20);
        CHECK(gcts_add_heap_point(db, &h));
    }
    CHECK(gcts_commit(db));
    gcts_close(db);
    return 0;
}
