/* tests/profiler/crash_prog.c - the workload of test_sigkill.sh and
 * test_fulldisk.sh: THREADS threads allocate blocks of 16 B .. 64 KiB for
 * MS milliseconds, keeping the last 512 of each thread live (the older
 * ones are freed with free(), or dropped for the collector), so that the
 * profiler records samples, frees (malloc backend) and GC cycles (libgc)
 * at a steady rate until the program is killed or its time is up.
 *
 * Built twice (profiler/local.mk): crash_prog_libgc calls gc_malloc
 * (linked with libgctune, profiled through GCTUNE_PROFILE), crash_prog
 * calls malloc/free (profiled under LD_PRELOAD=libgctune-preload.so).
 *
 *   usage: crash_prog [MS [THREADS]]     (defaults 3000 and 4)
 *
 * Prints "crash_prog: N allocations" and exits 0.  Output and status do
 * not depend on the profiler: test_fulldisk.sh compares them with and
 * without it.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef CRASH_PROG_LIBGC
#include <gctune/gc.h>
#define ALLOC(n) gc_malloc(n)
#define FREE(p) ((void)(p))
#else
#define ALLOC(n) malloc(n)
#define FREE(p) free(p)
#endif

#define LIVE 512

static long run_ms = 3000;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *worker(void *arg)
{
    uint64_t x = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ull + 1;
    void **live = calloc(LIVE, sizeof *live);   /* not scanned: the objects die when replaced */
    if (!live)
        return NULL;
    long n = 0;
    int64_t end = now_ms() + run_ms;
    for (;;) {
        for (int i = 0; i < 256; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t size = 16 + (size_t)(x % 4096) * ((x >> 20) % 16 == 0 ? 16 : 1);
            char *p = ALLOC(size);
            if (!p) {
                fprintf(stderr, "crash_prog: out of memory\n");
                exit(1);
            }
            p[0] = (char)n;
            p[size - 1] = (char)n;
            size_t slot = (size_t)(x >> 32) % LIVE;
            FREE(live[slot]);
            live[slot] = p;
            n++;
        }
        if (now_ms() >= end)
            break;
    }
    for (size_t i = 0; i < LIVE; i++)
        FREE(live[i]);
    free(live);
    return (void *)(uintptr_t)n;
}

int main(int argc, char **argv)
{
    int threads = 4;
    if (argc > 1)
        run_ms = strtol(argv[1], NULL, 10);
    if (argc > 2)
        threads = atoi(argv[2]);
    if (run_ms < 0 || threads < 1 || threads > 64) {
        fprintf(stderr, "usage: crash_prog [MS [THREADS]]\n");
        return 2;
    }
    pthread_t t[64];
    for (int i = 0; i < threads; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1)) != 0) {
            fprintf(stderr, "crash_prog: cannot create a thread\n");
            return 1;
        }
    long total = 0;
    for (int i = 0; i < threads; i++) {
        void *r;
        pthread_join(t[i], &r);
        total += (long)(uintptr_t)r;
    }
    printf("crash_prog: %s allocations\n", total > 0 ? "some" : "no");
    return total > 0 ? 0 : 1;
}
