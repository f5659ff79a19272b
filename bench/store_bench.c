/* bench/store_bench.c - insert rate of the run database writer (store.h).
 *
 *   bench/store_bench [rows [batch [path]]]
 *
 * Creates a database (default: a file in $TMPDIR or /tmp, removed at the
 * end), records 1,000 stacks and then `rows` samples (default 2,000,000) in
 * transactions of `batch` rows (default 10,000), as the profiler does, and
 * prints the sample rows per second, counting from the first insert to the
 * last commit (the final checkpoint done by gcts_close is shown apart).
 * Not a test: nothing checks the figure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "store.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? atol(argv[1]) : 2000000;
    long batch = argc > 2 ? atol(argv[2]) : 10000;
    char path[4096];
    int own = argc <= 3;
    if (!own) {
        snprintf(path, sizeof path, "%s", argv[3]);
    } else {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/store_bench.%ld.db", dir && *dir ? dir : "/tmp",
                 (long)getpid());
    }
    if (rows <= 0 || batch <= 0) {
        fprintf(stderr, "usage: %s [rows [batch [path]]]\n", argv[0]);
        return 2;
    }
    char err[512];
    gcts_db *db = gcts_create(path, err, sizeof err);
    if (!db) {
        fprintf(stderr, "store_bench: %s\n", err);
        return 1;
    }
    uint64_t ips[32];
    if (gcts_begin(db) != 0)
        goto fail;
    for (int s = 1; s <= 1000; s++) {
        for (int i = 0; i < 32; i++)
            ips[i] = 0x55d0c0a00000ull + (uint64_t)(s * 97 + i * 13) * 16;
        if (gcts_add_stack(db, s, (uint64_t)s * 0x9e3779b97f4a7c15ull, ips, 8 + s % 24) != 0)
            goto fail;
    }
    if (gcts_commit(db) != 0)
        goto fail;

    double t0 = now();
    gcts_sample smp = { 0 };
    for (long i = 1; i <= rows;) {
        if (gcts_begin(db) != 0)
            goto fail;
        for (long j = 0; j < batch && i <= rows; j++, i++) {
            smp.id = i;
            smp.time_ns = i * 1000;
            smp.address = 0x7f0000000000ull + (uint64_t)i * 64;
            smp.size = (uint64_t)(16 + i % 4000);
            smp.stack_id = 1 + i % 1000;
            smp.weight = 1.0 + (double)(i % 7) * 0.25;
            smp.freed_ns = i % 3 ? -1 : i * 1000 + 500;
            smp.thread = 1000 + i % 4;
            if (gcts_add_sample(db, &smp) != 0)
                goto fail;
        }
        if (gcts_commit(db) != 0)
            goto fail;
    }
    double t1 = now();
    gcts_close(db);
    double t2 = now();
    printf("store_bench: %ld sample rows in batches of %ld: %.3f s, %.0f rows/s"
           " (close and checkpoint: %.3f s)\n",
           rows, batch, t1 - t0, (double)rows / (t1 - t0), t2 - t1);
    if (own)
        unlink(path);
    return 0;

fail:
    fprintf(stderr, "store_bench: %s\n", gcts_errmsg(db));
    gcts_close(db);
    if (own)
        unlink(path);
    return 1;
}
