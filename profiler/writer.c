/* profiler/writer.c - the profiler's writer: a thread of the profiled
 * process, or the main thread of the helper process in helper mode
 * (profiler/helper.c).
 *
 * Owns the database connection (store.h) after start: drains the queue,
 * deduplicates stacks by hash (ips compared on a hash hit), and writes
 * samples, frees, GC cycles and a heap_series row every heap interval, in
 * one transaction committed every flush interval (so a SIGKILL loses at
 * most one interval).  Each new instruction pointer is symbolized once, by
 * the symbolizer thread (symthread.h), and its frames row written when the
 * result comes back: the first lookup in a module can take long, and the
 * writer must keep draining meanwhile.
 * The counters in meta (samples, dropped_samples, ...) are refreshed at
 * every commit.  On a write error it prints one message, stops recording
 * (gctp.active = 0, gctp.sh->failed = 1) and exits; the program runs on.
 * Helper mode differs in three ways: the heap_series figures are those
 * the profiled process last sent (HEAP records: its allocator cannot be
 * read from here), RSS is read from /proc/PID/statm, and the loop also
 * ends, with clean_exit 0, once the profiled process is gone without
 * stopping (gctp_target_gone, checked every 50 ms while the queue is
 * empty).
 *
 * Invariants: a stack id is written before any sample that uses it; a
 * frame row exists for every ip of every written stack once the run ends
 * cleanly (after a SIGKILL in thread mode, ips not yet symbolized have no
 * row: readers show their address); a sample's row is inserted before its free is
 * applied (queue order; see queue.h).
 * This thread never allocates from a garbage-collected heap.
 */
#include "internal.h"
#include "symthread.h"
#include "unwind.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* ---- deduplication tables (writer thread only) ---- */

struct stack_slot { uint64_t hash; int64_t id; uint32_t off, n; };
static struct stack_slot *stacks;
static size_t stacks_cap, stacks_len;
static uintptr_t *stack_ips;            /* all distinct stacks' ips */
static size_t stack_ips_len, stack_ips_cap;

static uint64_t *seen_ips;              /* open addressing set; 0 = empty */
static size_t seen_cap, seen_len;

static int64_t *mapping_ids;            /* symbolizer mapping index -> mappings.id */
static int nmapping_ids;


static int grow_stacks(void)
{
    size_t ncap = stacks_cap ? stacks_cap * 2 : 1024;
    struct stack_slot *n = calloc(ncap, sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < stacks_cap; i++) {
        if (!stacks[i].id)
            continue;
        size_t j = stacks[i].hash & (ncap - 1);
        while (n[j].id)
            j = (j + 1) & (ncap - 1);
        n[j] = stacks[i];
    }
    free(stacks);
    stacks = n;
    stacks_cap = ncap;
    return 0;
}

static int grow_seen(void)
{
    size_t ncap = seen_cap ? seen_cap * 2 : 4096;
    uint64_t *n = calloc(ncap, sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < seen_cap; i++) {
        uint64_t ip = seen_ips[i];
        if (!ip)
            continue;
        size_t j = (ip * 0x9E3779B97F4A7C15ull >> 20) & (ncap - 1);
        while (n[j])
            j = (j + 1) & (ncap - 1);
        n[j] = ip;
    }
    free(seen_ips);
    seen_ips = n;
    seen_cap = ncap;
    return 0;
}

/* Returns 1 if ip was new (and adds it), 0 if seen, -1 on no memory. */
static int see_ip(uint64_t ip)
{
    if (ip == 0)
        ip = 1;   /* 0 marks empty slots */
    if ((seen_len + 1) * 2 > seen_cap && grow_seen() != 0)
        return -1;
    size_t j = (ip * 0x9E3779B97F4A7C15ull >> 20) & (seen_cap - 1);
    while (seen_ips[j]) {
        if (seen_ips[j] == ip)
            return 0;
        j = (j + 1) & (seen_cap - 1);
    }
    seen_ips[j] = ip;
    seen_len++;
    return 1;
}

/* ---- writing ---- */

/* One line, once: the store's message already names the database and the
 * statement ("<path>: commit: database or disk is full"); otherwise the
 * path and what the writer was doing are added. */
static void fail(const char *what)
{
    if (!__atomic_exchange_n(&gctp.sh->failed, 1, __ATOMIC_ACQ_REL)) {
        const char *e = gcts_errmsg(gctp.db);
        size_t pl = strlen(gctp.path);
        if (e && strncmp(e, gctp.path, pl) == 0 && e[pl] == ':')
            gctp_msg("%s; recording stopped, the program continues", e);
        else
            gctp_msg("%s: %s failed: %s; recording stopped, the program continues",
                     gctp.path, what, e && *e ? e : "unknown error");
    }
    __atomic_store_n(&gctp.active, 0, __ATOMIC_RELEASE);   /* thread mode; the helper's sink checks failed */
}

/* symthread callbacks: rows for resolved mappings and frames */
static int on_mapping(const gctp_mapping *m, void *arg)
{
    (void)arg;
    int64_t *ids = realloc(mapping_ids, (size_t)(nmapping_ids + 1) * sizeof *ids);
    if (!ids)
        return -1;
    mapping_ids = ids;
    gcts_mapping row = {
        .path = m->path, .build_id = m->build_id,
        .start = m->start, .end = m->end, .file_offset = m->file_offset,
    };
    mapping_ids[nmapping_ids] = gcts_add_mapping(gctp.db, &row);
    return mapping_ids[nmapping_ids++] < 0 ? -1 : 0;
}

static int on_frame(uint64_t ip, const gctp_sym *s, int found, void *arg)
{
    (void)arg;
    gcts_frame f = { .ip = ip };
    if (found) {
        f.function = s->function;
        f.file = s->file;
        f.line = s->line;
        f.module = s->module;
        f.mapping_id = (s->mapping >= 0 && s->mapping < nmapping_ids) ? mapping_ids[s->mapping] : 0;
    }
    return gcts_add_frame(gctp.db, &f);
}

static int collect_frames(void)
{
    return gctp_symq_collect(on_mapping, on_frame, NULL);
}

/* The id of the stack of r, writing it (and its new frames) if new. */
static int64_t stack_id(const struct gctp_rec *r)
{
    if ((stacks_len + 1) * 2 > stacks_cap && grow_stacks() != 0)
        return -1;
    size_t j = r->hash & (stacks_cap - 1);
    for (; stacks[j].id; j = (j + 1) & (stacks_cap - 1)) {
        const struct stack_slot *s = &stacks[j];
        if (s->hash == r->hash && s->n == r->nframes &&
            memcmp(stack_ips + s->off, r->u.ips, r->nframes * sizeof(uintptr_t)) == 0)
            return s->id;
    }
    if (stack_ips_len + r->nframes > stack_ips_cap) {
        size_t ncap = stack_ips_cap ? stack_ips_cap * 2 : 16384;
        while (ncap < stack_ips_len + r->nframes)
            ncap *= 2;
        uintptr_t *n = realloc(stack_ips, ncap * sizeof *n);
        if (!n)
            return -1;
        stack_ips = n;
        stack_ips_cap = ncap;
    }
    for (uint32_t i = 0; i < r->nframes; i++) {
        int isnew = see_ip(r->u.ips[i]);
        if (isnew < 0)
            return -1;
        if (isnew && gctp_symq_add(r->u.ips[i]) != 0)
            return -1;
    }
    uint64_t ips64[GCTP_MAX_FRAMES];
    for (uint32_t i = 0; i < r->nframes; i++)
        ips64[i] = r->u.ips[i];
    int64_t id = (int64_t)stacks_len + 1;
    if (gcts_add_stack(gctp.db, id, r->hash, ips64, (int)r->nframes) != 0)
        return -1;
    memcpy(stack_ips + stack_ips_len, r->u.ips, r->nframes * sizeof(uintptr_t));
    stacks[j] = (struct stack_slot){ r->hash, id, (uint32_t)stack_ips_len, r->nframes };
    stack_ips_len += r->nframes;
    stacks_len++;
    return id;
}

static double weight_of(uint64_t size, uint64_t rate)
{
    if (rate <= 1)
        return 1.0;
    double s = size ? (double)size : 1.0;
    return 1.0 / -expm1(-s / (double)rate);   /* 1 / (1 - exp(-s/r)) */
}

/* Sample rows wait in memory for one to two "generations" (GEN_NS) before
 * they are inserted: a free that arrives meanwhile sets freed_ns in memory
 * instead of costing an UPDATE, and most short-lived objects die that
 * soon.  Two buffers: new rows go to young; every GEN_NS (or when young is
 * full) old is inserted and young becomes old, so each flush is small and
 * draining the queue never waits long.  Everything is flushed before each
 * commit.  Each buffer maps sample id -> slot + 1 by open addressing (0 =
 * empty).  The buffers are malloc'd: in .bss the sampled addresses would
 * be roots to a program that links the profiler statically. */
#define PEND_MAX 8192
#define GEN_NS 20000000
struct pend_buf {
    gcts_sample *rows;
    uint32_t *idx;      /* PEND_MAX * 2 */
    size_t n;
};
static struct pend_buf gens[2];
static int young;       /* index of the young buffer in gens */
static int64_t gen_start_ns;

static size_t pend_hash(int64_t id)
{
    return (size_t)(((uint64_t)id * 0x9E3779B97F4A7C15ull) >> 40) & (PEND_MAX * 2 - 1);
}

static int flush_buf(struct pend_buf *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (gcts_add_sample(gctp.db, &b->rows[i]) != 0)
            return -1;
    __atomic_add_fetch(&gctp.sh->written_samples, b->n, __ATOMIC_RELAXED);
    if (b->n)
        memset(b->idx, 0, PEND_MAX * 2 * sizeof *b->idx);
    b->n = 0;
    return 0;
}

/* Old generation out, young becomes old. */
static int rotate(int64_t now)
{
    if (flush_buf(&gens[1 - young]) != 0)
        return -1;
    young = 1 - young;
    gen_start_ns = now;
    return 0;
}

static int flush_pending(void)
{
    return flush_buf(&gens[1 - young]) != 0 || flush_buf(&gens[young]) != 0 ? -1 : 0;
}

static gcts_sample *pend_find(struct pend_buf *b, int64_t id)
{
    if (!b->n)
        return NULL;
    for (size_t j = pend_hash(id); b->idx[j]; j = (j + 1) & (PEND_MAX * 2 - 1))
        if (b->rows[b->idx[j] - 1].id == id)
            return &b->rows[b->idx[j] - 1];
    return NULL;
}

static int apply_free(int64_t id, int64_t freed_ns)
{
    gcts_sample *s = pend_find(&gens[young], id);
    if (!s)
        s = pend_find(&gens[1 - young], id);
    if (s) {
        s->freed_ns = freed_ns;
        return 0;
    }
    /* 1 (no such row) cannot happen by queue order; not fatal if it does */
    return gcts_mark_freed(gctp.db, id, freed_ns) < 0 ? -1 : 0;
}

static int pend_add(const gcts_sample *s, int64_t now)
{
    if ((gens[young].n == PEND_MAX || now - gen_start_ns >= GEN_NS) && rotate(now) != 0)
        return -1;
    struct pend_buf *b = &gens[young];
    size_t j = pend_hash(s->id);
    while (b->idx[j])
        j = (j + 1) & (PEND_MAX * 2 - 1);
    b->rows[b->n] = *s;
    b->idx[j] = (uint32_t)++b->n;
    return 0;
}

static void pend_free_all(void)
{
    for (int i = 0; i < 2; i++) {
        free(gens[i].rows);
        free(gens[i].idx);
        gens[i] = (struct pend_buf){ 0 };
    }
}

static int pend_alloc(void)
{
    for (int i = 0; i < 2; i++) {
        gens[i].rows = malloc(PEND_MAX * sizeof *gens[i].rows);
        gens[i].idx = calloc(PEND_MAX * 2, sizeof *gens[i].idx);
        gens[i].n = 0;
        if (!gens[i].rows || !gens[i].idx) {
            pend_free_all();
            return -1;
        }
    }
    young = 0;
    gen_start_ns = gctp_mono_ns();
    return 0;
}

static int write_alloc(const struct gctp_rec *r)
{
    int64_t sid = stack_id(r);
    if (sid < 0)
        return -1;
    gcts_sample s = {
        .id = (int64_t)r->token,
        .time_ns = r->time_ns - gctp.start_mono_ns,
        .address = r->addr,
        .size = r->size,
        .stack_id = sid,
        .weight = weight_of(r->size, r->rate),
        .freed_ns = -1,
        .thread = (int64_t)r->tid,
    };
    return pend_add(&s, r->time_ns);
}

static int64_t real_rel(uint64_t real_ns)
{
    return real_ns ? (int64_t)real_ns - gctp.start_real_ns : GCTS_NULL;
}

static int write_gc(const gct_gc_event *e)
{
    gcts_gc_cycle c;
    gcts_gc_cycle_init(&c);
    c.num = e->num;
    c.start_ns = real_rel(e->start_ns);
    c.end_ns = real_rel(e->end_ns);
    c.pause_ns = (int64_t)e->pause_ns;
    c.heap_before = (int64_t)e->heap_before;
    c.heap_marked = (int64_t)e->heap_marked;
    c.heap_goal = (int64_t)e->heap_goal;
    c.gc_percent = e->gc_percent;
    c.memory_limit = e->memory_limit == INT64_MAX ? GCTS_NULL : e->memory_limit;
    c.mark_cpu_ns = (int64_t)e->mark_cpu_ns;
    c.assist_cpu_ns = (int64_t)e->assist_cpu_ns;
    c.background_cpu_ns = (int64_t)e->background_cpu_ns;
    c.concurrent = e->concurrent;
    c.forced = e->forced;
    c.procs = e->procs;
    c.gc_cpu_fraction = e->gc_cpu_fraction;
    return gcts_add_gc_cycle(gctp.db, &c);
}

static int64_t read_rss(void)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/statm", gctp.target_pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return GCTS_NULL;
    long size, rss;
    int ok = fscanf(f, "%ld %ld", &size, &rss) == 2;
    fclose(f);
    return ok ? (int64_t)rss * sysconf(_SC_PAGESIZE) : GCTS_NULL;
}

/* Helper mode: the backend's statistics as the profiled process last sent
 * them (a HEAP record); read_stats here would read the helper's own heap. */
static gct_backend_stats heap_last;
static int heap_have;

static int write_heap_point(int64_t now)
{
    gcts_heap_point p;
    gcts_heap_point_init(&p);
    p.time_ns = now - gctp.start_mono_ns;
    p.rss = read_rss();
    gct_backend_stats st;
    int have = 0;
    if (gctp.helper) {
        st = heap_last;
        have = heap_have;
    } else {
        have = (gctp.backend->caps & GCT_CAP_STATS) && gctp.backend->read_stats &&
               gctp.backend->read_stats(&st) == 0;
    }
    if (have) {
        p.heap_alloc = (int64_t)st.heap_alloc;
        p.heap_sys = (int64_t)st.heap_sys;
        p.heap_released = (int64_t)st.heap_released;
        p.next_gc = (int64_t)st.next_gc;
        p.heap_inuse = (int64_t)st.heap_inuse;
        p.total_alloc = (int64_t)st.total_alloc;
        p.num_gc = st.num_gc;
        p.gc_percent = st.gc_percent;
        p.memory_limit = st.memory_limit == INT64_MAX ? GCTS_NULL : st.memory_limit;
        p.gc_cpu_fraction = st.gc_cpu_fraction;
    }
    return gcts_add_heap_point(gctp.db, &p);
}

static int write_counters(void)
{
    struct { const char *key; uint64_t *v; } c[] = {
        { "samples", &gctp.sh->written_samples },
        { "dropped_samples", &gctp.sh->dropped_samples },
        { "dropped_frees", &gctp.sh->dropped_frees },
        { "dropped_gc_cycles", &gctp.sh->dropped_gc },
        { "dropped_tuner_events", &gctp.sh->dropped_tuner },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        if (gcts_set_meta_int(gctp.db, c[i].key, (int64_t)__atomic_load_n(c[i].v, __ATOMIC_RELAXED)) != 0)
            return -1;
    return gcts_set_meta_int(gctp.db, "end_time_ns", gctp_real_ns());
}

/* Writes up to max records; returns how many, or -1 on a write error. */
static long drain(long max)
{
    long n = 0;
    struct gctp_rec *r;
    while (n < max && (r = gctp_queue_peek(&gctp.q)) != NULL) {
        int rc = 0;
        switch (r->type) {
        case GCTP_REC_ALLOC: rc = write_alloc(r); break;
        case GCTP_REC_FREE:
            rc = apply_free((int64_t)r->token, r->time_ns - gctp.start_mono_ns);
            break;
        case GCTP_REC_GC: rc = write_gc(&r->u.gc); break;
        case GCTP_REC_HEAP:
            heap_last = r->u.heap;
            heap_have = 1;
            break;
        case GCTP_REC_TUNER: {
            gcts_tuner_event e = {
                .time_ns = r->time_ns - gctp.start_mono_ns,
                .knob = r->u.tuner.knob,
                .old_value = r->u.tuner.old_value,
                .new_value = r->u.tuner.new_value,
                .reason = r->u.tuner.reason,
                .measurements = r->u.tuner.measurements[0] ? r->u.tuner.measurements : NULL,
            };
            rc = gcts_add_tuner_event(gctp.db, &e);
            break;
        }
        default: break;
        }
        gctp_queue_release(&gctp.q);
        if (rc != 0)
            return -1;
        n++;
    }
    return n;
}

int gctp_writer_prepare(void)
{
    if (pend_alloc() != 0) {
        gctp_msg("out of memory for the writer's buffers");
        return -1;
    }
    int err = gctp_symq_start();
    if (err)
        gctp_msg("cannot start the symbolizer thread: %s; frames keep their addresses only", strerror(err));
    return 0;
}

static void writer_cleanup(void)
{
    pend_free_all();
    gctp_symq_stop();
    free(stacks); stacks = NULL; stacks_cap = stacks_len = 0;
    free(stack_ips); stack_ips = NULL; stack_ips_len = stack_ips_cap = 0;
    free(seen_ips); seen_ips = NULL; seen_cap = seen_len = 0;
    free(mapping_ids); mapping_ids = NULL; nmapping_ids = 0;
}

/* Discards what producers still queue after a failure, until stopped.
 * A helper just exits: the profiled process sees `failed` and stops
 * producing, and its cells die with the last process mapping them. */
static void discard_until_stopped(void)
{
    if (gctp.helper)
        return;
    while (!__atomic_load_n(&gctp.sh->stop_req, __ATOMIC_SEQ_CST)) {
        while (gctp_queue_peek(&gctp.q))
            gctp_queue_release(&gctp.q);
        struct timespec ts = { 0, 5000000 };
        nanosleep(&ts, NULL);
    }
    while (gctp_queue_peek(&gctp.q))
        gctp_queue_release(&gctp.q);
}

__thread int gctp_profiler_thread;

int gctp_is_profiler_thread(void)
{
    return gctp_profiler_thread;
}

void *gctp_writer_main(void *arg)
{
    (void)arg;
    gctp_profiler_thread = 1;
    int64_t flush_ns = (int64_t)gctp.flush_ms * 1000000, heap_ns = (int64_t)gctp.heap_ms * 1000000;
    int64_t last_commit = gctp_mono_ns(), last_heap = 0, last_alive = last_commit;
    int idle_loops = 0;   /* helper: loops in a row with an empty queue */
    const char *what = "begin";
    if (gcts_begin(gctp.db) != 0)
        goto failed;
    for (;;) {
        /* stop_req is set only once no sink call is in flight
         * (gct_profiler_stop), so the queue then holds all there is */
        int stopping = __atomic_load_n(&gctp.sh->stop_req, __ATOMIC_SEQ_CST) || gctp.target_died;
        what = "insert";
        long n = drain(4096);
        if (n < 0)
            goto failed;
        if (n > 0)
            idle_loops = 0;
        int64_t now = gctp_mono_ns();
        if (now - last_heap >= heap_ns || (stopping && n == 0)) {
            if (write_heap_point(now) != 0)
                goto failed;
            last_heap = now;
        }
        if (stopping && n == 0)
            break;   /* nothing in flight and the queue is empty */
        if (n < 4096) {
            what = "insert frame";
            if (collect_frames() != 0)
                goto failed;
            __atomic_store_n(&gctp.sh->frames_pending, gctp_symq_pending(), __ATOMIC_RELAXED);
        }
        if (now - last_commit >= flush_ns) {
            what = "commit";
            if (flush_pending() != 0 || write_counters() != 0 || gcts_commit(gctp.db) != 0 ||
                gcts_begin(gctp.db) != 0)
                goto failed;
            last_commit = now;
        }
        if (n == 0) {
            /* helper: a profiled process that ended without stopping the
             * profiler (_exit, a signal) leaves what it queued; the loop
             * drains it and ends with clean_exit 0 */
            if (gctp.helper && !stopping && now - last_alive >= 50000000) {
                last_alive = now;
                if (gctp_target_gone())
                    gctp.target_died = 1;
                continue;
            }
            if (gctp.helper) {
                gctp_helper_idle(idle_loops++);
            } else {
                struct timespec ts = { 0, 2000000 };   /* 2 ms: the queue absorbs bursts */
                nanosleep(&ts, NULL);
            }
        }
    }
    what = "final commit";
    if (gctp.helper) {
        /* the helper's own CPU (its threads included): the profiled
         * process's accounting does not see it */
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) == 0 &&
            gcts_set_meta_int(gctp.db, "writer_cpu_ns",
                              ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
                                  ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000) != 0)
            goto failed;
    }
    gctp_symq_wait_idle();
    if (flush_pending() != 0 || collect_frames() != 0 || write_counters() != 0 ||
        gcts_set_meta_int(gctp.db, "duration_ns", gctp_real_ns() - gctp.start_real_ns) != 0 ||
        gcts_set_meta(gctp.db, "clean_exit", gctp.target_died ? "0" : "1") != 0 || gcts_commit(gctp.db) != 0)
        goto failed;
    /* A helper closes the database and _exits right after, while the
     * profiled program waits (profiler/helper.c): its idle symbolizer
     * thread and its buffers end with it, unjoined and unfreed. */
    if (!gctp.helper)
        writer_cleanup();
    return NULL;
failed:
    fail(what);
    writer_cleanup();
    discard_until_stopped();
    return NULL;
}
