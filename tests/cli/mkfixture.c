/* tests/cli/mkfixture.c - writes the fixture run databases of the gctune
 * command tests through the store writer (store/store.h), deterministic
 * (a fixed LCG, no clock), shaped like a profiled run of a small server:
 *
 *   usage: mkfixture DIR
 *
 * DIR/basic.sqlite    20000 samples over 10 s at rate 512 KiB, 6 sites:
 *                     tree nodes (make_node, many small objects, freed
 *                     within 50 ms), a cache that leaks (cache_put, never
 *                     freed: the leak suspect), buffers (buf_new, 64 KiB -
 *                     1 MiB, freed after 10 ms: the top site by allocated
 *                     bytes), a frame whose function is unknown (NULL), a
 *                     libc leaf without a frames row, a config parser active
 *                     only in the first 0.5 s and never freed (in use, no
 *                     growth: not a suspect), make_node called from a second
 *                     caller (7 leaf functions, 8 stacks), and one sample
 *                     whose stack row is missing; 50 GC cycles (GOGC 100 then 50, a memory
 *                     limit from cycle 40, cycle 10 forced), 100 heap
 *                     series points.
 * DIR/tuner.sqlite    the same program after a fix: the cache frees, buffers
 *                     are twice as big, and the tuner made 3 decisions.
 * DIR/dropped.sqlite  2000 samples, meta.dropped_samples = 1234.
 * DIR/empty.sqlite    meta only: no samples, cycles or heap series.
 * DIR/newer.sqlite    a gctune database with schema version 99.
 * DIR/notgctune.sqlite an SQLite database without a meta table.
 * DIR/notsqlite.sqlite a text file.
 * DIR/truncated.sqlite the first 3000 bytes of basic.sqlite.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store/store.h"

#define RATE 524288
#define DURATION_NS 10000000000LL
#define START_NS 1700000000000000000LL

#define EXE_LO 0x555555554000ULL
#define EXE_HI 0x555555600000ULL
#define LIBC_LO 0x7ffff7d80000ULL
#define LIBC_HI 0x7ffff7f80000ULL

enum { IP_MAKE_NODE = 0, IP_BUILD_TREE, IP_MAIN, IP_CACHE_PUT, IP_HANDLE, IP_BUF_NEW,
       IP_READ_INPUT, IP_UNKNOWN, IP_LIBC, IP_CONFIG, NIPS };

static const uint64_t ips[NIPS] = {
    0x555555555100, 0x555555555200, 0x555555555300, 0x555555556100, 0x555555556200,
    0x555555557100, 0x555555557200, 0x555555558100, 0x7ffff7d90123, 0x555555559100,
};

static uint64_t lcg_state;
static uint32_t rnd(void)
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(lcg_state >> 33);
}

static void die(const char *what, const char *err)
{
    fprintf(stderr, "mkfixture: %s: %s\n", what, err);
    exit(1);
}

#define CHECK(db, call) do { if ((call) < 0) die(#call, gcts_errmsg(db)); } while (0)

static double weight(uint64_t size)
{
    return 1.0 / (1.0 - exp(-(double)size / RATE));
}

typedef struct params {
    int nsamples;
    int leak;          /* the cache never frees */
    int buf_scale;     /* buffer size multiplier */
    int tuner;         /* write tuner events */
    int64_t dropped;
    uint64_t seed;
} params;

static void add_frames(gcts_db *db)
{
    gcts_mapping exe = { 0, "/usr/bin/fixture-app", "0123456789abcdef", EXE_LO, EXE_HI, 0 };
    gcts_mapping libc = { 0, "/lib/x86_64-linux-gnu/libc.so.6", NULL, LIBC_LO, LIBC_HI, 0x28000 };
    int64_t m_exe = gcts_add_mapping(db, &exe);
    int64_t m_libc = gcts_add_mapping(db, &libc);
    if (m_exe < 0 || m_libc < 0)
        die("gcts_add_mapping", gcts_errmsg(db));
    static const struct { int ip; const char *fn, *file; int line; } fr[] = {
        { IP_MAKE_NODE, "make_node", "src/tree.c", 42 },
        { IP_BUILD_TREE, "build_tree", "src/tree.c", 60 },
        { IP_MAIN, "main", "src/main.c", 20 },
        { IP_CACHE_PUT, "cache_put", "src/cache.c", 88 },
        { IP_HANDLE, "handle_request", "src/server.c", 130 },
        { IP_BUF_NEW, "buf_new", "src/buffer.c", 15 },
        { IP_READ_INPUT, "read_input", "src/io.c", 33 },
        { IP_UNKNOWN, NULL, NULL, 0 },
        /* IP_LIBC: no frames row */
        { IP_CONFIG, "config::parse<a, \"b\">;v2", "src/config.c", 12 },
    };
    for (size_t i = 0; i < sizeof fr / sizeof fr[0]; i++) {
        gcts_frame f = { ips[fr[i].ip], fr[i].fn, fr[i].file, fr[i].line,
                         "/usr/bin/fixture-app", m_exe };
        CHECK(db, gcts_add_frame(db, &f));
    }
}

/* Stacks 1..7 (leaf first); 7 has the leaf of 1 under another caller. */
#define NSTACKS 7
static const int stack_ips[NSTACKS][4] = {
    { IP_MAKE_NODE, IP_BUILD_TREE, IP_MAIN, -1 },
    { IP_CACHE_PUT, IP_HANDLE, IP_MAIN, -1 },
    { IP_BUF_NEW, IP_READ_INPUT, IP_MAIN, -1 },
    { IP_UNKNOWN, IP_MAIN, -1, -1 },
    { IP_LIBC, IP_READ_INPUT, IP_MAIN, -1 },
    { IP_CONFIG, IP_MAIN, -1, -1 },
    { IP_MAKE_NODE, IP_HANDLE, IP_MAIN, -1 },
};

static void add_stacks(gcts_db *db)
{
    for (int s = 0; s < NSTACKS; s++) {
        uint64_t v[4];
        int n = 0;
        while (n < 4 && stack_ips[s][n] >= 0) {
            v[n] = ips[stack_ips[s][n]];
            n++;
        }
        CHECK(db, gcts_add_stack(db, s + 1, 0x9e3779b97f4a7c15ULL * (uint64_t)(s + 1), v, n));
    }
}

static void add_meta(gcts_db *db, const params *p, const char *argv_json)
{
    CHECK(db, gcts_set_meta_int(db, "schema_version", GCTS_SCHEMA_VERSION));
    CHECK(db, gcts_set_meta(db, "gctune_version", "fixture"));
    CHECK(db, gcts_set_meta(db, "program", "/usr/bin/fixture-app"));
    CHECK(db, gcts_set_meta(db, "argv", argv_json));
    CHECK(db, gcts_set_meta_int(db, "pid", 4242));
    CHECK(db, gcts_set_meta(db, "host", "fixture-host"));
    CHECK(db, gcts_set_meta(db, "backend", "libgc"));
    CHECK(db, gcts_set_meta(db, "capabilities", "samples frees gc_cycles set_gc_percent set_memory_limit"));
    CHECK(db, gcts_set_meta_int(db, "sample_rate", RATE));
    CHECK(db, gcts_set_meta_int(db, "start_time_ns", START_NS));
    CHECK(db, gcts_set_meta_int(db, "end_time_ns", START_NS + DURATION_NS));
    CHECK(db, gcts_set_meta_int(db, "duration_ns", DURATION_NS));
    CHECK(db, gcts_set_meta_int(db, "dropped_samples", p->dropped));
    CHECK(db, gcts_set_meta_int(db, "dropped_frees", 0));
    CHECK(db, gcts_set_meta_int(db, "samples", p->nsamples));
    CHECK(db, gcts_set_meta(db, "clean_exit", "1"));
    CHECK(db, gcts_set_meta(db, "source", "profiler"));
    CHECK(db, gcts_set_meta(db, "gogc", "100"));
}

static void add_samples(gcts_db *db, const params *p)
{
    int n = p->nsamples;
    for (int i = 0; i < n; i++) {
        int64_t t = (int64_t)((double)DURATION_NS * i / n) + (int64_t)(rnd() % 1000);
        uint32_t r = rnd() % 100;
        int site;
        uint64_t size;
        int64_t freed;
        if (r < 40) {                   /* tree nodes, a quarter from requests */
            site = r < 10 ? 7 : 1;
            size = 64;
            freed = t + 50000000;
        } else if (r < 55) {            /* cache */
            site = 2;
            size = 256;
            freed = p->leak ? -1 : t + 200000000;
        } else if (r < 85) {            /* buffers */
            site = 3;
            size = (uint64_t)(65536 << (rnd() % 5)) * (uint64_t)p->buf_scale;
            freed = t + 10000000;
        } else if (r < 92) {            /* unknown function */
            site = 4;
            size = 1024;
            freed = t + 1000000;
        } else if (r < 97) {            /* libc leaf, second half only */
            if (t < DURATION_NS / 2)
                continue;
            site = 5;
            size = 4096;
            freed = -1;
        } else {                        /* config, first 0.5 s only */
            if (t > DURATION_NS / 20)
                continue;
            site = 6;
            size = 512;
            freed = -1;
        }
        if (freed >= DURATION_NS)
            freed = -1;                 /* still in use when the run ended */
        gcts_sample s = { i + 1, t, 0x7f0000000000ULL + (uint64_t)i * 4096, size, site,
                          weight(size), freed, 1000 + site };
        CHECK(db, gcts_add_sample(db, &s));
    }
    /* a sample whose stack row is missing */
    gcts_sample s = { n + 1, DURATION_NS / 2, 0x7f1000000000ULL, 128, 99, weight(128), -1, 999 };
    CHECK(db, gcts_add_sample(db, &s));
}

static void add_gc(gcts_db *db, const params *p)
{
    for (int k = 1; k <= 50; k++) {
        gcts_gc_cycle c;
        gcts_gc_cycle_init(&c);
        c.num = k;
        c.start_ns = (int64_t)k * 200000000;
        c.pause_ns = 100000 + (int64_t)((k * 7919) % 50) * 1000 + (k == 37 ? 2000000 : 0);
        c.end_ns = c.start_ns + c.pause_ns + 3000000;
        c.heap_before = (int64_t)(4 + k % 5) << 20;
        c.heap_after = c.heap_before + (256 << 10);
        c.heap_marked = (int64_t)(2 + k % 3) << 20;
        c.heap_goal = (int64_t)(4 << 20) * (1 + k % 5);
        c.gc_percent = k <= 25 ? 100 : 50;
        c.memory_limit = k >= 40 ? 268435456 : -1;
        c.mark_cpu_ns = 2000000;
        c.assist_cpu_ns = 100000;
        c.background_cpu_ns = 1900000;
        c.idle_cpu_ns = 0;
        c.concurrent = 0;
        c.forced = k == 10;
        c.procs = 2;
        c.gc_cpu_fraction = 0.01 + k * 0.0002 * (p->tuner ? 0.5 : 1.0);
        CHECK(db, gcts_add_gc_cycle(db, &c));
    }
}

static void add_heap(gcts_db *db, const params *p)
{
    for (int k = 0; k < 100; k++) {
        gcts_heap_point h;
        gcts_heap_point_init(&h);
        h.time_ns = (int64_t)k * 100000000;
        h.heap_alloc = ((int64_t)(3 + (k * 37) % 11) << 20) + (p->leak ? (int64_t)k * 40000 : 0);
        h.heap_sys = 32 << 20;
        h.heap_released = 1 << 20;
        h.rss = (40 << 20) + (int64_t)((k * 13) % 7) * 1000000;
        h.next_gc = (int64_t)(4 << 20) * (1 + k % 5);
        h.heap_inuse = h.heap_alloc + (1 << 20);
        h.total_alloc = (int64_t)k * 50000000;
        h.num_gc = k / 2;
        h.gc_percent = k < 50 ? 100 : 50;
        h.memory_limit = k >= 80 ? 268435456 : -1;
        h.gc_cpu_fraction = 0.01 + k * 0.0001;
        CHECK(db, gcts_add_heap_point(db, &h));
    }
}

static void add_tuner(gcts_db *db)
{
    gcts_tuner_event e[3] = {
        { 2000000000, "gogc", 100, 75, "p99 pause 2.1 ms above the 1 ms goal",
          "{\"p99_pause_ns\":2100000,\"gc_cpu_fraction\":0.012}" },
        { 5000000000, "gogc", 75, 50, "p99 pause 1.4 ms still above the 1 ms goal",
          "{\"p99_pause_ns\":1400000}" },
        { 8000000000, "memory_limit", GCTS_NULL, 268435456,
          "memory budget: cgroup limit 512 MiB x 0.5", NULL },
    };
    for (int i = 0; i < 3; i++)
        CHECK(db, gcts_add_tuner_event(db, &e[i]));
}

static void write_run(const char *dir, const char *name, const params *p, int empty)
{
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    gcts_db *db = gcts_create(path, err, sizeof err);
    if (!db)
        die(path, err);
    lcg_state = p->seed;
    CHECK(db, gcts_begin(db));
    add_meta(db, p, "[\"fixture-app\",\"--size\",\"10\",\"--name=a \\\"b\\\"\"]");
    if (!empty) {
        add_frames(db);
        add_stacks(db);
        add_samples(db, p);
        add_gc(db, p);
        add_heap(db, p);
        if (p->tuner)
            add_tuner(db);
    }
    CHECK(db, gcts_commit(db));
    gcts_close(db);
}

static void sql_file(const char *dir, const char *name, const char *sql)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    remove(path);
    sqlite3 *s;
    if (sqlite3_open(path, &s) != SQLITE_OK)
        die(path, sqlite3_errmsg(s));
    char *msg = NULL;
    if (sqlite3_exec(s, sql, NULL, NULL, &msg) != SQLITE_OK)
        die(path, msg ? msg : "?");
    sqlite3_close(s);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkfixture DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    params basic = { 20000, 1, 1, 0, 0, 1 };
    write_run(dir, "basic.sqlite", &basic, 0);
    params tuned = { 20000, 0, 2, 1, 0, 2 };
    write_run(dir, "tuner.sqlite", &tuned, 0);
    params dropped = { 2000, 1, 1, 0, 1234, 3 };
    write_run(dir, "dropped.sqlite", &dropped, 0);
    params none = { 0, 0, 1, 0, 0, 4 };
    write_run(dir, "empty.sqlite", &none, 1);
    write_run(dir, "newer.sqlite", &none, 1);
    char path[4096];
    snprintf(path, sizeof path, "%s/newer.sqlite", dir);
    sqlite3 *s;
    if (sqlite3_open(path, &s) != SQLITE_OK ||
        sqlite3_exec(s, "PRAGMA user_version = 99", NULL, NULL, NULL) != SQLITE_OK)
        die(path, sqlite3_errmsg(s));
    sqlite3_close(s);
    sql_file(dir, "notgctune.sqlite", "CREATE TABLE t(x); INSERT INTO t VALUES (1);");

    snprintf(path, sizeof path, "%s/notsqlite.sqlite", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        die(path, "cannot create");
    fputs("this is not a database\n", f);
    fclose(f);

    /* truncated: the first 3000 bytes of basic.sqlite (checkpointed) */
    snprintf(path, sizeof path, "%s/basic.sqlite", dir);
    if (sqlite3_open(path, &s) == SQLITE_OK) {
        sqlite3_exec(s, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
        sqlite3_close(s);
    }
    FILE *in = fopen(path, "rb");
    snprintf(path, sizeof path, "%s/truncated.sqlite", dir);
    FILE *out = fopen(path, "wb");
    if (!in || !out)
        die(path, "cannot copy");
    char buf[3000];
    size_t n = fread(buf, 1, sizeof buf, in);
    fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
    return 0;
}
