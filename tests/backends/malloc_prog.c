/* tests/backends/malloc_prog.c - a plain malloc program for the malloc
 * backend's end-to-end tests (test_preload.sh, test_record.sh).
 *
 * Three allocation sites with known totals, each a noinline function so
 * that the leaf frame of its samples names it:
 *   site_small:  4 threads x 20000 x malloc(1000), all freed  (80 000 000 bytes)
 *   site_calloc: 5000 x calloc(8, 1024), half kept live        (40 960 000 bytes)
 *   site_grow:   2000 x realloc chains to 16 KiB, freed        (realloc traffic)
 * plus posix_memalign / aligned_alloc / memalign / valloc / reallocarray
 * calls, and a fork whose child allocates and exits 0.  Prints one line
 * per site with its byte count; exits with argv[1] when given (status
 * passthrough tests).  `malloc_prog shuffle`: two threads allocate
 * 2 x 50000 blocks at site_shuffle, the main thread frees them in a
 * shuffled order (cross-thread frees of sampled blocks).
 * `malloc_prog exit`: calls exit(5) from main while two threads are still
 * allocating (the profiler's atexit flush under load).
 * `malloc_prog ring`: four threads each keep a ring of RING_LIVE blocks
 * from site_ring, freeing the oldest before each of RING_N allocations,
 * and pass every 7th block to the next thread to free: a small live set
 * under constant allocations and frees from several threads, so that
 * glibc reuses the same addresses for new blocks over and over.
 * `malloc_prog doublefree`: frees a 100-byte block twice (glibc aborts).
 * `malloc_prog badfree`: frees a pointer into a block whose word below it
 * has its top bit set, as a sampled block's tag has (glibc aborts: it is
 * no chunk).
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NTHREADS 4
#define SMALL_N 20000
#define SMALL_SIZE 1000

static __attribute__((noinline)) void *site_small(size_t n)
{
    void *p = malloc(n);
    if (p)
        memset(p, 1, n);
    return p;
}

/* `sink` keeps the calls below from becoming tail calls (the return
 * address would then be in main). */
static volatile unsigned long sink;

static __attribute__((noinline)) void *site_calloc(size_t n)
{
    void *p = calloc(8, n);
    sink += (unsigned long)p;
    return p;
}

static __attribute__((noinline)) void *site_grow(void *p, size_t n)
{
    void *q = realloc(p, n);
    sink += (unsigned long)q;
    return q;
}

static void *worker(void *arg)
{
    (void)arg;
    void *keep[64] = {0};
    for (int i = 0; i < SMALL_N; i++) {
        void *p = site_small(SMALL_SIZE);
        if (!p)
            abort();
        free(keep[i % 64]);
        keep[i % 64] = p;
    }
    for (int i = 0; i < 64; i++)
        free(keep[i]);
    return NULL;
}

#define SHUF_N 50000
static void *shuf[2 * SHUF_N];

static __attribute__((noinline)) void *site_shuffle(size_t n)
{
    void *p = malloc(n);
    sink += (unsigned long)p;
    return p;
}

static void *shuffle_worker(void *arg)
{
    void **out = arg;
    for (int i = 0; i < SHUF_N; i++)
        if (!(out[i] = site_shuffle(16 + (size_t)(i % 97) * 8)))
            abort();
    return NULL;
}

static int shuffle_main(void)
{
    pthread_t a, b;
    if (pthread_create(&a, NULL, shuffle_worker, shuf) != 0 ||
        pthread_create(&b, NULL, shuffle_worker, shuf + SHUF_N) != 0)
        return 1;
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    unsigned long x = 88172645463325252ul;
    for (int i = 2 * SHUF_N - 1; i > 0; i--) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int j = (int)(x % (unsigned long)(i + 1));
        void *t = shuf[i];
        shuf[i] = shuf[j];
        shuf[j] = t;
    }
    for (int i = 0; i < 2 * SHUF_N; i++)
        free(shuf[i]);
    printf("shuffle %d\n", 2 * SHUF_N);
    return 0;
}

#define RING_THREADS 4
#define RING_LIVE 48
#define RING_N 50000
static void *ring_handoff[RING_THREADS];   /* a block for thread i to free */
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;

/* not the same code as site_shuffle: GCC would fold the two into one */
static __attribute__((noinline)) void *site_ring(size_t n)
{
    void *p = malloc(n);
    sink ^= (unsigned long)p;
    return p;
}

static void *ring_worker(void *arg)
{
    int me = (int)(long)arg;
    void *ring[RING_LIVE] = { 0 };
    for (int i = 0; i < RING_N; i++) {
        free(ring[i % RING_LIVE]);
        if (!(ring[i % RING_LIVE] = site_ring(24 + (size_t)(i % 61) * 16)))
            abort();
        pthread_mutex_lock(&ring_lock);
        void *mine = ring_handoff[me];
        ring_handoff[me] = NULL;
        if (i % 7 == 0) {
            void *given = ring[(i + 1) % RING_LIVE];
            ring[(i + 1) % RING_LIVE] = NULL;
            int to = (me + 1) % RING_THREADS;
            void *old = ring_handoff[to];
            ring_handoff[to] = given;
            pthread_mutex_unlock(&ring_lock);
            free(old);
        } else {
            pthread_mutex_unlock(&ring_lock);
        }
        free(mine);
    }
    for (int i = 0; i < RING_LIVE; i++)
        free(ring[i]);
    return NULL;
}

static int ring_main(void)
{
    pthread_t th[RING_THREADS];
    for (long i = 0; i < RING_THREADS; i++)
        if (pthread_create(&th[i], NULL, ring_worker, (void *)i) != 0)
            return 1;
    for (int i = 0; i < RING_THREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < RING_THREADS; i++)
        free(ring_handoff[i]);
    printf("ring %d\n", RING_THREADS * RING_N);
    return 0;
}

static void *spin_worker(void *arg)
{
    (void)arg;
    for (;;)
        free(site_small(SMALL_SIZE));
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "shuffle"))
        return shuffle_main();
    if (argc > 1 && !strcmp(argv[1], "ring"))
        return ring_main();
    if (argc > 1 && !strcmp(argv[1], "doublefree")) {
        char *volatile p = malloc(100);
        free(p);
        free(p);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "badfree")) {
        uint64_t *q = malloc(64);
        if (!q)
            return 1;
        /* q + 2 as a sample's header would see it: off (q[0]) leads
         * back to q, a valid block, so that taking it for a sample would
         * free q quietly instead of aborting; tag (q[1]) has the top bit */
        q[0] = 16;
        q[1] = 0x8000000000000010ull;
        /* GCC drops stores into a block that is freed next: keep them */
        __asm__ volatile("" : : "r"(q) : "memory");
        free(q + 2);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "exit")) {
        pthread_t a, b;
        if (pthread_create(&a, NULL, spin_worker, NULL) != 0 ||
            pthread_create(&b, NULL, spin_worker, NULL) != 0)
            return 1;
        for (int i = 0; i < 20000; i++)
            free(site_small(SMALL_SIZE));
        exit(5);
    }
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        if (pthread_create(&th[i], NULL, worker, NULL) != 0)
            return 1;
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    printf("site_small %llu\n", (unsigned long long)NTHREADS * SMALL_N * SMALL_SIZE);

    static void *live[5000];
    for (int i = 0; i < 5000; i++) {
        live[i] = site_calloc(1024);
        if (!live[i])
            return 1;
        if (i % 2)
            free(live[i]), live[i] = NULL;
    }
    printf("site_calloc %llu\n", 5000ull * 8 * 1024);

    for (int i = 0; i < 2000; i++) {
        void *p = NULL;
        for (size_t n = 1024; n <= 16384; n *= 2)
            if (!(p = site_grow(p, n)))
                return 1;
        free(p);
    }
    printf("site_grow done\n");

    for (int i = 0; i < 100; i++) {
        void *a = NULL;
        if (posix_memalign(&a, 64, 4096) != 0 || ((unsigned long)a & 63))
            return 1;
        void *b = aligned_alloc(128, 1024);
        void *c = memalign(256, 512);
        void *d = valloc(100);
        int *e = reallocarray(NULL, 100, sizeof(int));
        if (!b || !c || !d || !e || malloc_usable_size(e) < 100 * sizeof(int))
            return 1;
        free(a), free(b), free(c), free(d), free(e);
    }
    if (reallocarray(NULL, (size_t)-1, 16) != NULL)
        return 1;
    printf("aligned done\n");
    fflush(stdout);

    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        for (int i = 0; i < 10000; i++)
            free(site_small(SMALL_SIZE));
        for (int i = 0; i < 5000; i++)
            free(live[i]);
        _exit(0);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return 1;
    printf("child ok\n");
    for (int i = 0; i < 5000; i++)
        free(live[i]);
    return argc > 1 ? atoi(argv[1]) : 0;
}
