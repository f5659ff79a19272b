/* tests/backends/bdwgc_prog.c - a Boehm GC program for test_bdwgc.sh
 * (built only when configure found bdw-gc).
 *
 * Three allocation sites with known totals, each a noinline function whose
 * allocation is not a tail call (the return address is in the site):
 *   site_keep: 32768 x GC_malloc(256), all kept reachable from a global
 *              (8 388 608 bytes; never freed)
 *   site_drop: 32768 x GC_malloc_atomic(1024), dropped at once
 *              (33 554 432 bytes; reclaimed by the collector)
 *   site_free: 4096 x GC_malloc(2048), each freed with GC_free at once
 *              (8 388 608 bytes)
 * interleaved, then two GC_gcollect calls.  Prints the free space divisor
 * at start and at the end, whether GC is disabled, and a checksum of the
 * kept objects; exits with argv[1] (default 0).
 */
#include <gc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEEP_N 32768
#define KEEP_SIZE 256
#define DROP_N 32768
#define DROP_SIZE 1024
#define FREE_N 4096
#define FREE_SIZE 2048

static void **keep;              /* a root: the kept objects stay reachable */
static volatile unsigned long sink;

static __attribute__((noinline)) void site_keep(int i)
{
    unsigned long *p = GC_MALLOC(KEEP_SIZE);
    p[0] = (unsigned long)i;
    keep[i] = p;
}

static __attribute__((noinline)) void site_drop(int i)
{
    unsigned char *p = GC_MALLOC_ATOMIC(DROP_SIZE);
    p[0] = (unsigned char)i;
    sink += p[0];
}

static __attribute__((noinline)) void site_free(int i)
{
    unsigned char *p = GC_MALLOC(FREE_SIZE);
    p[0] = (unsigned char)i;
    sink += p[0];
    GC_FREE(p);
}

/* Overwrites the stack area the loops used, so that stale pointers to
 * dropped objects do not keep them alive. */
static __attribute__((noinline)) void clear_stack(void)
{
    volatile char buf[16384];
    memset((char *)buf, 0, sizeof buf);
}

int main(int argc, char **argv)
{
    GC_INIT();
    printf("divisor %lu disabled %d\n", (unsigned long)GC_get_free_space_divisor(), GC_is_disabled());
    keep = GC_MALLOC(KEEP_N * sizeof *keep);
    for (int i = 0; i < DROP_N; i++) {
        site_drop(i);
        if (i < KEEP_N)
            site_keep(i);
        if (i % 8 == 0)
            site_free(i);
    }
    clear_stack();
    GC_gcollect();
    GC_gcollect();
    unsigned long sum = 0;
    for (int i = 0; i < KEEP_N; i++)
        sum += ((unsigned long *)keep[i])[0];
    printf("kept %d checksum %lu\n", KEEP_N, sum);
    printf("divisor_end %lu\n", (unsigned long)GC_get_free_space_divisor());
    fflush(stdout);
    return argc > 1 ? atoi(argv[1]) : 0;
}
