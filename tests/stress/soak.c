/* soak.c - GC soak: threads mutate a shared graph for N seconds against the
 * debug runtime (GCTUNE_DEBUG=2: asserts, poisoned frees, gci_heap_verify at
 * every cycle); checks that no reachable object is ever reclaimed and that
 * RSS stays within the pacer's heap goal.
 *
 * Usage: soak [--seconds N] [--threads N] [--slots N] [--quiet] [--inject-miss]
 *   (defaults 10 s, 8 threads, 1024 slots; SOAK_SECONDS in the environment
 *   sets the default duration).  GCTUNE_CONCURRENT=1 etc. apply as usual.
 *   Exit 0 = pass, 1 = a check failed, 2 = bad usage.
 *   --inject-miss (self-test of the checker; needs GCTUNE_CONCURRENT=1): after
 *   the first second, with the mutators paused, hides a reachable node from
 *   one concurrent cycle (gci_test_hide_from_mark) and checks the graph: the
 *   run must fail with "live object reclaimed" (or, with gccheckmark=1,
 *   abort in the checkmark pass).
 *
 * The graph: an array of `slots` root slots (in the gc heap, reached from a
 * global) each holding a node or NULL.  A node is gc_malloc'd with a random
 * size (log-uniform, header..64 KiB), has NEDGES edges to other nodes and a
 * noscan blob (gc_malloc_atomic, 8 B..4 KiB, log-uniform).  Its payload
 * words and blob bytes are a function of its id, and its header carries a
 * checksum of (id, size, blob size).
 * Invariants:
 *   - every pointer to a node is stored next to the node's id (slot.id,
 *     edge_id[k]); both are written together under one lock (slot_lock or
 *     the source node's node_lock stripe), so a reader knows which node it
 *     must find.  A reclaimed node is poisoned or reused by then: its id,
 *     checksum, payload or blob no longer match -> failure "live object
 *     reclaimed".
 *   - pointer stores into the gc heap go through GC_STORE (the concurrent
 *     mode's write barrier).
 *   - a node removed from its slot has its edges cleared ("dead"), so the
 *     graph reachable from the slots stays about 1 + NEDGES times the slots.
 * Threads: `threads` mutators (replace / drop / rewire / walk a few steps,
 * each op under a shared rwlock in read mode) and the main thread, which
 * once a second samples RSS (/proc/self/statm) and gc_stats.next_gc and
 * then takes the rwlock for writing and verifies every reachable node in
 * full (payload and blob).
 * Memory check at the end (the samples after the first second):
 *   max RSS <= max heap goal x SOAK_FRAG + SOAK_SLACK   (bounded by the goal)
 *   max RSS(second half) <= max RSS(first half) x 1.10 + SOAK_CREEP
 *                                                      (no creeping growth)
 * SOAK_FRAG = 1.5: size-class rounding (up to 12.5%), partly filled spans
 * and free pages the scavenger has not yet returned; SOAK_SLACK = 48 MiB:
 * the program, libc, thread stacks, runtime metadata and mark buffers,
 * which the heap goal does not count.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "gc_internal.h"

#define NEDGES 4
#define NSTRIPES 256
#define MAX_NODE (64u << 10)
#define MIN_BLOB 8u
#define MAX_BLOB (4u << 10)
#define WALK_STEPS 8
#define MAX_SAMPLES 100000

#define SOAK_FRAG 1.5
#define SOAK_SLACK (48ull << 20)
#define SOAK_CREEP (16ull << 20)

struct node {
    uint64_t id;
    uint64_t check;              /* hdr_check(id, size, blob_size) */
    uint32_t size, blob_size;    /* bytes requested for this node / its blob */
    uint64_t seen;               /* epoch of the last full check (main, exclusive) */
    int dead;                    /* removed from its slot; node_lock stripe */
    unsigned char *blob;
    struct node *edge[NEDGES];   /* node_lock stripe of this node's id */
    uint64_t edge_id[NEDGES];
    uint64_t payload[];          /* (size - sizeof header) / 8 words */
};

struct slot {
    struct node *p;              /* slot_lock stripe of the slot index */
    uint64_t id;
};

static struct slot *volatile slots;    /* gc heap; this global is its root */
static unsigned nslots = 1024, nthreads = 8;
static pthread_mutex_t slot_lock[NSTRIPES];
static pthread_mutex_t node_lock[NSTRIPES];
static pthread_rwlock_t world_lock;    /* mutators: read; full check: write */
static volatile int stop;
static uint64_t next_id = 1;           /* atomic */

struct mutator {
    pthread_t th;
    unsigned idx;
    uint64_t rng;
    uint64_t allocs, alloc_bytes, ops, visits;
    char pad[64];
};

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("soak: FAIL: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    _exit(1);
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static uint64_t hdr_check(uint64_t id, uint32_t size, uint32_t blob)
{
    return mix(id ^ ((uint64_t)size << 40) ^ ((uint64_t)blob << 20) ^ 0x5eedull);
}

static uint64_t word_of(uint64_t id, size_t i) { return mix(id * 0x9E3779B97F4A7C15ull + i); }
static unsigned char byte_of(uint64_t id, size_t i) { return (unsigned char)(id * 31 + i * 7); }

/* About log-uniform in [lo, hi]: a uniform power of two, then uniform
 * within it (lo >= 1). */
static uint32_t rand_size(uint64_t *rng, uint32_t lo, uint32_t hi)
{
    unsigned b0 = 31 - (unsigned)__builtin_clz(lo), b1 = 31 - (unsigned)__builtin_clz(hi);
    unsigned b = b0 + (unsigned)(xorshift(rng) % (b1 - b0 + 1));
    uint64_t n = (1ull << b) + xorshift(rng) % (1ull << b);
    return n < lo ? lo : n > hi ? hi : (uint32_t)n;
}

static size_t payload_words(const struct node *n) { return (n->size - sizeof *n) / 8; }

/* Checks the node that a pointer stored next to `want` must designate.
 * full: every payload word and blob byte; else the ends only. */
static void verify(const struct node *n, uint64_t want, int full, const char *where)
{
    if (n->id != want)
        die("live object reclaimed: %s: node %p has id %#llx, expected %#llx", where, (const void *)n,
            (unsigned long long)n->id, (unsigned long long)want);
    if (n->check != hdr_check(n->id, n->size, n->blob_size) || n->size < sizeof *n || n->size > MAX_NODE)
        die("live object reclaimed: %s: node %p (id %#llx) header corrupt", where, (const void *)n,
            (unsigned long long)want);
    size_t w = payload_words(n);
    if (gc_usable_size(n) < n->size)
        die("live object reclaimed: %s: node %p (id %#llx) is not a %u-byte gc object", where, (const void *)n,
            (unsigned long long)want, n->size);
    for (size_t i = 0; i < w; i += full || i + 1 >= w ? 1 : w - 1)
        if (n->payload[i] != word_of(n->id, i))
            die("live object reclaimed: %s: node %p (id %#llx) payload word %zu changed", where, (const void *)n,
                (unsigned long long)want, i);
    const unsigned char *b = n->blob;
    if (!b)
        die("live object reclaimed: %s: node %p (id %#llx) lost its blob", where, (const void *)n,
            (unsigned long long)want);
    size_t bl = n->blob_size;
    for (size_t i = 0; i < bl; i += full || i + 1 >= bl ? 1 : bl - 1)
        if (b[i] != byte_of(n->id, i))
            die("live object reclaimed: %s: blob %p of node %p (id %#llx) byte %zu changed", where,
                (const void *)b, (const void *)n, (unsigned long long)want, i);
}

static struct slot read_slot(unsigned i)
{
    pthread_mutex_lock(&slot_lock[i % NSTRIPES]);
    struct slot s = slots[i];
    pthread_mutex_unlock(&slot_lock[i % NSTRIPES]);
    return s;
}

static struct node *new_node(struct mutator *m)
{
    uint32_t size = rand_size(&m->rng, (uint32_t)sizeof(struct node), MAX_NODE);
    uint32_t bsize = rand_size(&m->rng, MIN_BLOB, MAX_BLOB);
    struct node *n = gc_malloc(size);
    unsigned char *b = gc_malloc_atomic(bsize);
    if (!n || !b)
        die("out of memory allocating %u + %u bytes", size, bsize);
    m->allocs += 2;
    m->alloc_bytes += size + bsize;
    uint64_t id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
    for (uint32_t i = 0; i < bsize; i++)
        b[i] = byte_of(id, i);
    n->id = id;
    n->size = size;
    n->blob_size = bsize;
    n->check = hdr_check(id, size, bsize);
    GC_STORE(n->blob, b);
    size_t w = payload_words(n);
    for (size_t i = 0; i < w; i++)
        n->payload[i] = word_of(id, i);
    for (int k = 0; k < NEDGES; k++) {
        struct slot t = read_slot((unsigned)(xorshift(&m->rng) % nslots));
        if (t.p)
            verify(t.p, t.id, 0, "new edge target");
        /* n is not shared yet: no lock needed */
        GC_STORE(n->edge[k], t.p);
        n->edge_id[k] = t.id;
    }
    return n;
}

/* Puts n (or NULL) into slot i; the node it replaces is marked dead and its
 * edges are cleared. */
static void replace_slot(unsigned i, struct node *n)
{
    pthread_mutex_lock(&slot_lock[i % NSTRIPES]);
    struct slot old = slots[i];
    GC_STORE(slots[i].p, n);
    slots[i].id = n ? n->id : 0;
    pthread_mutex_unlock(&slot_lock[i % NSTRIPES]);
    if (!old.p)
        return;
    verify(old.p, old.id, 0, "replaced node");
    pthread_mutex_t *l = &node_lock[old.id % NSTRIPES];
    pthread_mutex_lock(l);
    old.p->dead = 1;
    for (int k = 0; k < NEDGES; k++) {
        GC_STORE(old.p->edge[k], NULL);
        old.p->edge_id[k] = 0;
    }
    pthread_mutex_unlock(l);
}

static void rewire(struct mutator *m)
{
    struct slot a = read_slot((unsigned)(xorshift(&m->rng) % nslots));
    struct slot b = read_slot((unsigned)(xorshift(&m->rng) % nslots));
    if (!a.p)
        return;
    verify(a.p, a.id, 0, "rewired node");
    if (b.p)
        verify(b.p, b.id, 0, "rewire target");
    int k = (int)(xorshift(&m->rng) % NEDGES);
    pthread_mutex_t *l = &node_lock[a.id % NSTRIPES];
    pthread_mutex_lock(l);
    if (!a.p->dead) {
        GC_STORE(a.p->edge[k], b.p);
        a.p->edge_id[k] = b.id;
    }
    pthread_mutex_unlock(l);
}

static void walk(struct mutator *m)
{
    struct slot s = read_slot((unsigned)(xorshift(&m->rng) % nslots));
    struct node *n = s.p;
    uint64_t id = s.id;
    for (int step = 0; n && step < WALK_STEPS; step++) {
        verify(n, id, step == 0, "walk");
        m->visits++;
        int k = (int)(xorshift(&m->rng) % NEDGES);
        pthread_mutex_t *l = &node_lock[id % NSTRIPES];
        pthread_mutex_lock(l);
        struct node *next = n->edge[k];
        uint64_t nid = n->edge_id[k];
        pthread_mutex_unlock(l);
        n = next;
        id = nid;
    }
}

static void *mutator_main(void *arg)
{
    struct mutator *m = arg;
    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        pthread_rwlock_rdlock(&world_lock);
        for (int j = 0; j < 32; j++) {
            unsigned r = (unsigned)(xorshift(&m->rng) % 100);
            unsigned i = (unsigned)(xorshift(&m->rng) % nslots);
            if (r < 25)
                replace_slot(i, new_node(m));
            else if (r < 30)
                replace_slot(i, NULL);
            else if (r < 75)
                rewire(m);
            else
                walk(m);
            m->ops++;
        }
        pthread_rwlock_unlock(&world_lock);
    }
    return NULL;
}

/* Every node reachable from the slots, in full; the world lock is held for
 * writing (no mutator runs).  Returns the nodes visited. */
static uint64_t full_check(uint64_t epoch, uint64_t *bytes)
{
    size_t cap = 4096, len = 0;
    struct { struct node *p; uint64_t id; } *stack = malloc(cap * sizeof *stack);
    if (!stack)
        die("out of memory (check stack)");
    uint64_t nodes = 0;
    *bytes = 0;
    for (unsigned i = 0; i < nslots; i++) {
        if (!slots[i].p)
            continue;
        stack[len].p = slots[i].p;
        stack[len++].id = slots[i].id;
        while (len) {
            struct node *n = stack[--len].p;
            uint64_t id = stack[len].id;
            verify(n, id, 0, "full check");
            if (n->seen == epoch)
                continue;
            verify(n, id, 1, "full check");
            n->seen = epoch;
            nodes++;
            *bytes += n->size + n->blob_size;
            for (int k = 0; k < NEDGES; k++) {
                if (!n->edge[k])
                    continue;
                if (len == cap) {
                    cap *= 2;
                    void *q = realloc(stack, cap * sizeof *stack);
                    if (!q)
                        die("out of memory (check stack)");
                    stack = q;
                }
                stack[len].p = n->edge[k];
                stack[len++].id = n->edge_id[k];
            }
        }
    }
    free(stack);
    return nodes;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (!f)
        die("cannot open /proc/self/statm: %s", strerror(errno));
    if (fscanf(f, "%lu %lu", &size, &res) != 2)
        die("cannot parse /proc/self/statm");
    fclose(f);
    return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

static int parse_num(const char *opt, const char *v, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long x = v ? strtoul(v, &end, 10) : 0;
    if (!v || errno || end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "soak: %s wants a number in %lu..%lu, got \"%s\"\n", opt, lo, hi, v ? v : "");
        return -1;
    }
    *out = x;
    return 0;
}

struct sample {
    uint64_t rss, goal;
};

#define MIB(x) ((double)(x) / 1048576.0)

int main(int argc, char **argv)
{
    unsigned long seconds = 10, v;
    int quiet = 0, inject = 0;
    const char *env = getenv("SOAK_SECONDS");
    if (env && parse_num("SOAK_SECONDS", env, 1, 86400, &seconds) != 0)
        return 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds")) {
            if (parse_num("--seconds", argv[++i], 1, 86400, &seconds) != 0)
                return 2;
        } else if (!strcmp(argv[i], "--threads")) {
            if (parse_num("--threads", argv[++i], 1, 256, &v) != 0)
                return 2;
            nthreads = (unsigned)v;
        } else if (!strcmp(argv[i], "--slots")) {
            if (parse_num("--slots", argv[++i], 1, 1u << 20, &v) != 0)
                return 2;
            nslots = (unsigned)v;
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if (!strcmp(argv[i], "--inject-miss")) {
            inject = 1;
        } else {
            fprintf(stderr, "usage: soak [--seconds N] [--threads N] [--slots N] [--quiet] [--inject-miss]\n");
            return 2;
        }
    }

    if (inject) {
        gc_stats c;
        gc_read_stats(&c);
        if (!c.concurrent) {
            fprintf(stderr, "soak: --inject-miss needs concurrent marking (GCTUNE_CONCURRENT=1)\n");
            return 2;
        }
    }
    for (int i = 0; i < NSTRIPES; i++) {
        pthread_mutex_init(&slot_lock[i], NULL);
        pthread_mutex_init(&node_lock[i], NULL);
    }
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&world_lock, &ra);

    slots = gc_malloc((size_t)nslots * sizeof *slots);
    if (!slots)
        die("out of memory for %u slots", nslots);
    uint64_t verify0 = gci_test_heap_verify_runs(), checkmark0 = gci_test_checkmark_runs();

    struct mutator *ms = calloc(nthreads, sizeof *ms);
    if (!ms)
        die("out of memory");
    for (unsigned t = 0; t < nthreads; t++) {
        ms[t].idx = t;
        ms[t].rng = mix(0x50a4ull + t) | 1;
        if (pthread_create(&ms[t].th, NULL, mutator_main, &ms[t]) != 0)
            die("cannot create thread %u", t);
    }

    static struct sample samples[MAX_SAMPLES];
    size_t ns = 0;
    uint64_t checks = 0, last_nodes = 0, last_bytes = 0, max_nodes = 0;
    double t0 = now_s(), next = t0 + 1.0, end = t0 + (double)seconds;
    gc_stats st;
    while (now_s() < end) {
        double d;
        while ((d = next - now_s()) > 0)   /* the collector's signals cut sleeps short */
            usleep((useconds_t)(d * 1e6) + 1);
        next += 1.0;
        gc_read_stats(&st);
        if (ns < MAX_SAMPLES)
            samples[ns++] = (struct sample){rss_bytes(), st.next_gc};
        pthread_rwlock_wrlock(&world_lock);
        if (inject) {   /* self-test: a reachable node missed by marking must be caught */
            inject = 0;
            for (unsigned i = 0; i < nslots; i++)
                if (slots[i].p) {
                    printf("soak: hiding node %p (id %#llx, slot %u) from one cycle\n", (void *)slots[i].p,
                           (unsigned long long)slots[i].id, i);
                    fflush(stdout);
                    gci_test_hide_from_mark(slots[i].p);
                    break;
                }
            gc_collect();   /* concurrent; sweeps everything before returning */
        }
        last_nodes = full_check(++checks, &last_bytes);
        pthread_rwlock_unlock(&world_lock);
        if (last_nodes > max_nodes)
            max_nodes = last_nodes;
        if (!quiet)
            printf("soak: t=%3.0fs rss %.1f MiB goal %.1f MiB heap_alloc %.1f MiB cycles %u reachable %llu nodes "
                   "(%.1f MiB)\n",
                   now_s() - t0, MIB(samples[ns - 1].rss), MIB(st.next_gc), MIB(st.heap_alloc), st.num_gc,
                   (unsigned long long)last_nodes, MIB(last_bytes));
        fflush(stdout);
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    uint64_t allocs = 0, abytes = 0, ops = 0, visits = 0;
    for (unsigned t = 0; t < nthreads; t++) {
        pthread_join(ms[t].th, NULL);
        allocs += ms[t].allocs;
        abytes += ms[t].alloc_bytes;
        ops += ms[t].ops;
        visits += ms[t].visits;
    }
    free(ms);
    pthread_rwlock_wrlock(&world_lock);
    last_nodes = full_check(++checks, &last_bytes);
    pthread_rwlock_unlock(&world_lock);
    gc_read_stats(&st);
    double elapsed = now_s() - t0;
    uint64_t verifies = gci_test_heap_verify_runs() - verify0;
    uint64_t checkmarks = gci_test_checkmark_runs() - checkmark0;

    /* Memory: samples after the first second (start-up growth to the
     * steady heap is not creep). */
    size_t first = ns > 2 ? 1 : 0, half = first + (ns - first) / 2;
    uint64_t max_rss = 0, max_goal = 0, max1 = 0, max2 = 0;
    for (size_t i = first; i < ns; i++) {
        if (samples[i].rss > max_rss)
            max_rss = samples[i].rss;
        if (samples[i].goal > max_goal)
            max_goal = samples[i].goal;
        if (i < half && samples[i].rss > max1)
            max1 = samples[i].rss;
        if (i >= half && samples[i].rss > max2)
            max2 = samples[i].rss;
    }
    double bound = (double)max_goal * SOAK_FRAG + (double)SOAK_SLACK;
    double creep_bound = (double)max1 * 1.10 + (double)SOAK_CREEP;

    printf("soak: %s marking, %u threads, %u slots, %.1f s\n", st.concurrent ? "concurrent" : "stop-the-world",
           nthreads, nslots, elapsed);
    printf("soak: cycles %u, heap verifications %llu, checkmark passes %llu, full graph checks %llu\n", st.num_gc,
           (unsigned long long)verifies, (unsigned long long)checkmarks, (unsigned long long)checks);
    printf("soak: allocations %llu (%.1f MiB), ops %llu, nodes verified on walks %llu, reachable at end %llu "
           "(max %llu)\n",
           (unsigned long long)allocs, MIB(abytes), (unsigned long long)ops, (unsigned long long)visits,
           (unsigned long long)last_nodes, (unsigned long long)(max_nodes > last_nodes ? max_nodes : last_nodes));
    printf("soak: max RSS %.1f MiB (first half %.1f, second half %.1f); max goal %.1f MiB; bound goal x %.2f + "
           "%.0f MiB = %.1f MiB; creep bound %.1f MiB\n",
           MIB(max_rss), MIB(max1), MIB(max2), MIB(max_goal), SOAK_FRAG, MIB(SOAK_SLACK), bound / 1048576.0,
           creep_bound / 1048576.0);
    int ok = 1;
    if (ns < 2) {
        fprintf(stderr, "soak: FAIL: only %zu memory samples (one a second, at least 2 needed): run longer\n", ns);
        ok = 0;
    }
    if ((double)max_rss > bound) {
        fprintf(stderr, "soak: FAIL: max RSS %.1f MiB exceeds the goal bound %.1f MiB\n", MIB(max_rss),
                bound / 1048576.0);
        ok = 0;
    }
    if (max1 && (double)max2 > creep_bound) {
        fprintf(stderr, "soak: FAIL: RSS crept from %.1f MiB (first half) to %.1f MiB (second half)\n", MIB(max1),
                MIB(max2));
        ok = 0;
    }
    if (st.num_gc == 0 || verifies < st.num_gc) {
        fprintf(stderr, "soak: FAIL: %u cycles but %llu heap verifications (not the debug runtime?)\n", st.num_gc,
                (unsigned long long)verifies);
        ok = 0;
    }
    printf("soak: %s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
