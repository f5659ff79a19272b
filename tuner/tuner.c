/* tuner/tuner.c - gct_tuner_start/stop: the controller thread, the GC
 * listener and the environment start (GCTUNE_TUNER; the goals' syntax is
 * tuner/parse.c).
 *
 * Owns: the tuner's single instance (struct tuner T), its thread and its
 * eventfd.  The decisions are made by tuner/controller.c; this file only
 * measures, applies and records.
 *
 * Threads:
 *   - the collecting thread runs on_gc (a backend GC listener): it copies
 *     the cycle's pause, GC CPU and live heap into a ring (a slot claimed
 *     with one atomic add, published with a sequence number), and writes
 *     the eventfd when the live heap crosses the budget threshold the tuner
 *     left for it, or every WAKE_CYCLES cycles.  No lock, no allocation.
 *   - the tuner thread (not a registered libgc thread: it never allocates
 *     from the gc heap and reads statistics through the backend without
 *     stopping the world; all signals blocked) waits on the eventfd with a
 *     timeout of one interval.  Woken early it applies the hard budget
 *     check (gctt_cycle_end); at each interval (or after WAKE_CYCLES
 *     cycles, at most four times per interval) it builds a gctt_sample from
 *     the ring, read_stats and /proc/self/statm, runs gctt_step, applies
 *     the decisions through the backend and records each one
 *     (gct_profiler_tuner_event; stderr when verbose).
 * Environment start: GCTUNE_TUNER starts the tuner from a constructor on
 * libgc's backend, or on the one the preload library set with
 * gctt_set_env_backend (malloc or bdwgc).  A backend without knobs
 * is said once on stderr ("<name> backend has no GC knobs; policy P
 * observes only"); the controller then records notices and observations.
 * Lifecycle: start/stop under life_lock; the eventfd is created by the
 * first start and kept (a listener call in flight at stop may write it);
 * in a fork child the tuner is off (the listener ignores cycles there).
 */
#define _GNU_SOURCE
#include <gctune/tuner.h>
#include <gctune/profiler.h>
#include "controller.h"
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define RING 256
#define WAKE_CYCLES 16

struct cyc {
    uint64_t seq;                 /* index + 1 once written */
    int64_t pause_ns, gc_cpu_ns, mark_cpu_ns, live;
    int procs;
};

static struct tuner {
    int running;                  /* under life_lock */
    int stop;                     /* atomic */
    int forked;                   /* set in a fork child */
    pthread_t thread;
    int efd;
    const gct_backend *be;
    gct_tuner_config cfg;
    char policy[16];
    int64_t budget;
    char budget_src[160];
    int64_t interval_ns;
    int verbose;
    int listening;
    int wait_profiler;            /* env start with GCTUNE_PROFILE: see tuner_main */
    gctt_state st;                /* the tuner thread's only */
    /* the listener's ring */
    struct cyc ring[RING];
    uint64_t head;                /* atomic: slots claimed */
    uint64_t tail;                /* the thread's: next slot to read */
    int64_t wake_live;            /* atomic: wake the thread when a cycle's live heap exceeds this */
    uint64_t since_wake;          /* atomic */
    /* stats (atomic) */
    uint64_t ticks, decisions, reverts, events_recorded, cpu_ns;
    int gogc;
    int64_t limit;
} T = { .efd = -1 };

static pthread_mutex_t life_lock = PTHREAD_MUTEX_INITIALIZER;
static int env_start;             /* start_from_env is starting, with GCTUNE_PROFILE set */

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void msg(const char *fmt, ...)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "gctune: tuner: ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = strlen(buf);
    buf[len++] = '\n';
    ssize_t w = write(2, buf, len);
    (void)w;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- config ---- */

void gct_tuner_config_init(gct_tuner_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->policy = "adaptive";
    cfg->max_gc_cpu = GCT_TUNER_DEFAULT_MAX_GC_CPU;
    cfg->gogc_min = GCT_TUNER_DEFAULT_GOGC_MIN;
    cfg->gogc_max = GCT_TUNER_DEFAULT_GOGC_MAX;
    cfg->interval_ms = GCT_TUNER_DEFAULT_INTERVAL_MS;
    cfg->budget_ratio = GCT_TUNER_DEFAULT_BUDGET_RATIO;
}

/* ---- the listener (collecting thread) ---- */

static void on_gc(const gct_gc_event *ev, void *arg)
{
    (void)arg;
    if (__atomic_load_n(&T.forked, __ATOMIC_RELAXED))
        return;
    uint64_t i = __atomic_fetch_add(&T.head, 1, __ATOMIC_RELAXED);
    struct cyc *c = &T.ring[i % RING];
    int procs = ev->procs > 0 ? ev->procs : 1;
    __atomic_store_n(&c->seq, 0, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    c->pause_ns = (int64_t)ev->pause_ns;
    c->gc_cpu_ns = (int64_t)(ev->pause_ns * (uint64_t)procs + ev->background_cpu_ns + ev->assist_cpu_ns);
    c->mark_cpu_ns = (int64_t)(ev->mark_cpu_ns + ev->assist_cpu_ns);
    c->live = (int64_t)ev->heap_marked;
    c->procs = procs;
    __atomic_store_n(&c->seq, i + 1, __ATOMIC_RELEASE);
    uint64_t n = __atomic_add_fetch(&T.since_wake, 1, __ATOMIC_RELAXED);
    int64_t wl = __atomic_load_n(&T.wake_live, __ATOMIC_RELAXED);
    if ((wl > 0 && (int64_t)ev->heap_marked > wl) || n >= WAKE_CYCLES) {
        __atomic_store_n(&T.since_wake, 0, __ATOMIC_RELAXED);
        uint64_t one = 1;
        ssize_t w = write(T.efd, &one, sizeof one);   /* eventfd: never blocks (counter) */
        (void)w;
    }
}

/* ---- the thread ---- */

struct pending {
    uint32_t ncycles, npauses;
    int64_t pauses[GCTT_SAMPLE_PAUSES];
    int64_t gc_cpu_ns, mark_cpu_ns, live;
    int procs;
};

/* Moves the ring's new entries into p; returns the newest live heap (0 if
 * none) and adds the number of entries to *n. */
static int64_t drain(struct pending *p, uint32_t *n)
{
    uint64_t head = __atomic_load_n(&T.head, __ATOMIC_ACQUIRE);
    int64_t live = 0;
    if (head - T.tail > RING) {
        p->ncycles += (uint32_t)(head - T.tail - RING);   /* overwritten: counted, not measured */
        T.tail = head - RING;
    }
    while (T.tail < head) {
        struct cyc *c = &T.ring[T.tail % RING];
        if (__atomic_load_n(&c->seq, __ATOMIC_ACQUIRE) != T.tail + 1)
            break;   /* still being written: next time */
        struct cyc v = *c;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&c->seq, __ATOMIC_RELAXED) != T.tail + 1) {
            T.tail++;   /* overwritten while read */
            continue;
        }
        p->ncycles++;
        (*n)++;
        if (p->npauses < GCTT_SAMPLE_PAUSES)
            p->pauses[p->npauses++] = v.pause_ns;
        p->gc_cpu_ns += v.gc_cpu_ns;
        p->mark_cpu_ns += v.mark_cpu_ns;
        p->live = v.live;
        p->procs = v.procs;
        live = v.live;
        T.tail++;
    }
    return live;
}

static int64_t read_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "re");
    if (!f)
        return -1;
    long size, rss;
    int ok = fscanf(f, "%ld %ld", &size, &rss) == 2;
    fclose(f);
    return ok ? (int64_t)rss * sysconf(_SC_PAGESIZE) : -1;
}

static const char *knob_name(int knob)
{
    return knob == GCTT_KNOB_GOGC ? "gogc" : knob == GCTT_KNOB_LIMIT ? "memory_limit" : "policy";
}

static void record(const char *knob, int64_t old, int64_t new_, const char *reason, const char *json)
{
    if (gct_profiler_tuner_event(knob, old, new_, reason, json) == 0)
        __atomic_add_fetch(&T.events_recorded, 1, __ATOMIC_RELAXED);
    if (T.verbose) {
        if (old == INT64_MIN && new_ == INT64_MIN)
            msg("%s: %s", knob, reason);
        else
            msg("%s %" PRId64 " -> %" PRId64 ": %s %s", knob, old, new_, reason, json ? json : "");
    }
}

static void apply(const gctt_decision *d, int n)
{
    for (int i = 0; i < n; i++) {
        if (d[i].knob == GCTT_KNOB_GOGC && T.be->set_gc_percent) {
            T.be->set_gc_percent((int)d[i].new_value);
            __atomic_store_n(&T.gogc, (int)d[i].new_value, __ATOMIC_RELAXED);
        } else if (d[i].knob == GCTT_KNOB_LIMIT && T.be->set_memory_limit) {
            T.be->set_memory_limit(d[i].new_value);
            __atomic_store_n(&T.limit, d[i].new_value, __ATOMIC_RELAXED);
        }
        if (d[i].knob != GCTT_KNOB_NOTICE)
            __atomic_add_fetch(&T.decisions, 1, __ATOMIC_RELAXED);
        if (d[i].revert)
            __atomic_add_fetch(&T.reverts, 1, __ATOMIC_RELAXED);
        record(knob_name(d[i].knob), d[i].old_value, d[i].new_value, d[i].reason, d[i].json);
    }
}

/* Live heap above which the current GOGC would plan past the budget. */
static void update_wake_live(void)
{
    int64_t wl = 0;
    if (T.budget > 0 && T.st.gogc >= 0) {
        double room = (double)T.budget - (T.st.other.n ? T.st.other.avg + T.st.other.dev : 0);
        double frag = T.st.frag.n ? T.st.frag.avg : 1.1;
        if (frag < 1)
            frag = 1;
        wl = (int64_t)(room / frag / (1.0 + T.st.gogc / 100.0));
        if (wl < 1)
            wl = 1;
    }
    __atomic_store_n(&T.wake_live, wl, __ATOMIC_RELAXED);
}

static void *tuner_main(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);

    char start[512], pause[32];
    if (T.cfg.max_pause_ns > 0)
        snprintf(pause, sizeof pause, "%.3f ms", (double)T.cfg.max_pause_ns / 1e6);
    else
        snprintf(pause, sizeof pause, "none");
    if (snprintf(start, sizeof start, "tuner started: policy %s; budget %s; p99 pause goal %s; GC CPU goal %.2f%%; GOGC %d..%d",
                 T.policy, T.budget > 0 ? T.budget_src : "none", pause, 100 * T.cfg.max_gc_cpu, T.cfg.gogc_min,
                 T.cfg.gogc_max) >= (int)sizeof start)
        start[sizeof start - 1] = 0;   /* the profiler keeps 199 bytes anyway */
    char json[264];
    snprintf(json, sizeof json,
             "{\"policy\":\"%s\",\"budget\":%" PRId64 ",\"max_pause_ns\":%" PRId64 ",\"max_gc_cpu\":%.4f,"
             "\"gogc_min\":%d,\"gogc_max\":%d,\"interval_ms\":%u,\"backend\":\"%s\"}",
             T.policy, T.budget, T.cfg.max_pause_ns, T.cfg.max_gc_cpu, T.cfg.gogc_min, T.cfg.gogc_max,
             T.cfg.interval_ms, T.be->name);
    int announced = 0;   /* the start row is recorded (once) */
    /* Started from the environment with GCTUNE_PROFILE set: the profiler's
     * constructor may run after ours (same library, unspecified order), so
     * the first step, which records the start row and the notices, waits
     * until the profiler runs (at most one interval or one second). */
    if (T.wait_profiler) {
        int64_t until = mono_ns() + (T.interval_ns > 1000000000 ? T.interval_ns : 1000000000);
        gct_profiler_stats ps;
        for (;;) {
            gct_profiler_get_stats(&ps);
            if (ps.running || ps.failed || mono_ns() >= until || __atomic_load_n(&T.stop, __ATOMIC_ACQUIRE))
                break;
            poll(NULL, 0, 1);
        }
    }
    /* The profiler runs: the start row now, so that a program shorter than
     * the first step (a quarter interval) still has it; otherwise it waits
     * for the first step or the stop, where a profiler started later by the
     * program can take it. */
    {
        gct_profiler_stats ps;
        gct_profiler_get_stats(&ps);
        if (ps.running) {
            record("policy", INT64_MIN, INT64_MIN, start, json);
            announced = 1;
        }
    }

    gct_backend_stats bs;
    memset(&bs, 0, sizeof bs);
    T.be->read_stats(&bs);
    uint64_t prev_alloc = bs.total_alloc;
    /* the first step comes after a quarter interval: a program starts
     * with the defaults, so the first correction should not wait */
    int64_t t_prev = mono_ns(), next = t_prev + T.interval_ns / 4;
    struct pending p;
    memset(&p, 0, sizeof p);
    uint32_t since_end = 0;   /* cycles drained since the last gctt_cycle_end or step */
    gctt_decision d[GCTT_MAX_DECISIONS];
    update_wake_live();

    while (!__atomic_load_n(&T.stop, __ATOMIC_ACQUIRE)) {
        int64_t now = mono_ns();
        int timeout = next > now ? (int)((next - now + 999999) / 1000000) : 0;
        struct pollfd pfd = { .fd = T.efd, .events = POLLIN };
        int r = poll(&pfd, 1, timeout);
        if (__atomic_load_n(&T.stop, __ATOMIC_ACQUIRE))
            break;
        if (r > 0) {
            uint64_t v;
            ssize_t rd = read(T.efd, &v, sizeof v);
            (void)rd;
        }
        int64_t live = drain(&p, &since_end);
        now = mono_ns();
        int tick = now >= next || (p.ncycles >= WAKE_CYCLES && now - t_prev >= T.interval_ns / 4);
        if (!tick) {
            if (live > 0) {
                int n = gctt_cycle_end(&T.st, live, since_end, d, GCTT_MAX_DECISIONS);
                since_end = 0;
                apply(d, n);
                if (n)
                    update_wake_live();
            }
            continue;
        }
        if (T.be->read_stats(&bs) != 0)
            memset(&bs, 0, sizeof bs);
        gctt_sample s;
        memset(&s, 0, sizeof s);
        s.t_ns = now;
        s.dt_ns = now - t_prev > 0 ? now - t_prev : 1;
        s.ncycles = p.ncycles;
        s.npauses = p.npauses;
        memcpy(s.pauses, p.pauses, sizeof s.pauses);
        s.gc_cpu_ns = T.st.p.have_cycles ? p.gc_cpu_ns : -1;
        s.mark_cpu_ns = T.st.p.have_cycles && p.mark_cpu_ns > 0 ? p.mark_cpu_ns : -1;
        s.procs = p.procs > 0 ? p.procs : (T.st.p.have_cycles ? 1 : 1);
        s.gc_cpu_fraction = bs.gc_cpu_fraction;
        s.live = p.live;
        s.alloc_bytes = bs.total_alloc >= prev_alloc ? (int64_t)(bs.total_alloc - prev_alloc) : 0;
        prev_alloc = bs.total_alloc;
        s.heap_alloc = (int64_t)bs.heap_alloc;
        s.heap_goal = bs.next_gc > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)bs.next_gc;
        s.sys = (int64_t)bs.sys;
        s.heap_released = (int64_t)bs.heap_released;
        s.rss = read_rss();
        s.gogc = bs.gc_percent;
        s.limit = bs.memory_limit;
        int procs_keep = p.procs;
        memset(&p, 0, sizeof p);
        p.procs = procs_keep;
        t_prev = now;
        next = now + T.interval_ns;
        if (!announced) {
            record("policy", INT64_MIN, INT64_MIN, start, json);
            announced = 1;
        }
        since_end = 0;
        int n = gctt_step(&T.st, &s, d, GCTT_MAX_DECISIONS);
        apply(d, n);
        update_wake_live();
        __atomic_add_fetch(&T.ticks, 1, __ATOMIC_RELAXED);
        struct timespec ts;
        if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
            __atomic_store_n(&T.cpu_ns, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec, __ATOMIC_RELAXED);
    }
    if (!announced)
        record("policy", INT64_MIN, INT64_MIN, start, json);
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
        __atomic_store_n(&T.cpu_ns, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec, __ATOMIC_RELAXED);
    return NULL;
}

/* ---- start / stop ---- */

static void atfork_child(void)
{
    __atomic_store_n(&T.forked, 1, __ATOMIC_RELAXED);
    T.running = 0;   /* the thread does not exist in the child */
}

int gct_tuner_start(const gct_tuner_config *cfg_in)
{
    gct_tuner_config cfg;
    if (cfg_in)
        cfg = *cfg_in;
    else
        gct_tuner_config_init(&cfg);
    if (!cfg.policy)
        cfg.policy = "adaptive";
    if (!cfg.max_gc_cpu)
        cfg.max_gc_cpu = GCT_TUNER_DEFAULT_MAX_GC_CPU;
    if (!cfg.gogc_min)
        cfg.gogc_min = GCT_TUNER_DEFAULT_GOGC_MIN;
    if (!cfg.gogc_max)
        cfg.gogc_max = GCT_TUNER_DEFAULT_GOGC_MAX;
    if (!cfg.interval_ms)
        cfg.interval_ms = GCT_TUNER_DEFAULT_INTERVAL_MS;
    if (!(cfg.budget_ratio > 0))
        cfg.budget_ratio = GCT_TUNER_DEFAULT_BUDGET_RATIO;
    if (!cfg.backend)
        cfg.backend = gct_backend_libgc();
    int policy = gctt_policy_parse(cfg.policy);
    if (policy < 0 || cfg.max_pause_ns < 0 || !(cfg.max_gc_cpu > 0 && cfg.max_gc_cpu <= 1) || cfg.gogc_min < 1 ||
        cfg.gogc_max < cfg.gogc_min || cfg.budget_ratio > 1) {
        errno = EINVAL;
        return -1;
    }
    const gct_backend *be = cfg.backend;
    if (!(be->caps & GCT_CAP_STATS) || !be->read_stats) {
        errno = ENOTSUP;
        return -1;
    }
    /* A backend without knobs (malloc): the policy runs and records its
     * observations and notices, and says so once per process. */
    static int said_no_knobs;
    if (!(be->caps & (GCT_CAP_SET_GC_PERCENT | GCT_CAP_SET_MEMORY_LIMIT)) &&
        !__atomic_exchange_n(&said_no_knobs, 1, __ATOMIC_RELAXED))
        msg("%s backend has no GC knobs; policy %s observes only", be->name, gctt_policy_name(policy));
    pthread_mutex_lock(&life_lock);
    if (T.running) {
        pthread_mutex_unlock(&life_lock);
        errno = EBUSY;
        return -1;
    }
    static int atfork_done;
    if (!atfork_done) {
        pthread_atfork(NULL, NULL, atfork_child);
        atfork_done = 1;
    }
    T.cfg = cfg;
    T.cfg.policy = NULL;   /* the caller's string is not kept */
    T.cfg.cgroup_root = NULL;
    snprintf(T.policy, sizeof T.policy, "%s", gctt_policy_name(policy));
    T.be = be;
    T.verbose = cfg.verbose;
    T.wait_profiler = env_start;
    T.interval_ns = (int64_t)cfg.interval_ms * 1000000;
    /* the budget */
    T.budget = 0;
    snprintf(T.budget_src, sizeof T.budget_src, "none");
    if (cfg.memory_budget > 0) {
        T.budget = cfg.memory_budget;
        snprintf(T.budget_src, sizeof T.budget_src, "%.1f MiB (explicit)", (double)T.budget / 1048576.0);
    } else if (cfg.memory_budget == 0) {
        int64_t lim;
        char src[120];
        if (gct_tuner_cgroup_limit(cfg.cgroup_root, &lim, src, sizeof src) == 0) {
            T.budget = (int64_t)((double)lim * cfg.budget_ratio);
            snprintf(T.budget_src, sizeof T.budget_src, "%.1f MiB (%.0f%% of %s)", (double)T.budget / 1048576.0,
                     100 * cfg.budget_ratio, src);
        }
    }
    gct_backend_stats bs;
    memset(&bs, 0, sizeof bs);
    be->read_stats(&bs);
    gctt_params p = {
        .policy = policy,
        .max_pause_ns = cfg.max_pause_ns,
        .max_gc_cpu = cfg.max_gc_cpu,
        .budget = T.budget,
        .gogc_min = cfg.gogc_min,
        .gogc_max = cfg.gogc_max,
        .have_gogc = (be->caps & GCT_CAP_SET_GC_PERCENT) && be->set_gc_percent,
        .have_limit = (be->caps & GCT_CAP_SET_MEMORY_LIMIT) && be->set_memory_limit,
        .have_cycles = (be->caps & GCT_CAP_GC_EVENTS) && be->add_gc_listener,
    };
    gctt_init(&T.st, &p, bs.gc_percent, bs.memory_limit);
    T.gogc = bs.gc_percent;
    T.limit = bs.memory_limit;
    T.ticks = T.decisions = T.reverts = T.events_recorded = T.cpu_ns = 0;
    T.head = T.tail = 0;
    T.since_wake = 0;
    T.wake_live = 0;
    T.stop = 0;
    T.forked = 0;
    /* The eventfd is made once and never closed: a listener call already
     * under way when the tuner stops may still write it. */
    if (T.efd < 0)
        T.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (T.efd < 0) {
        int err = errno;
        pthread_mutex_unlock(&life_lock);
        errno = err;
        return -1;
    }
    T.listening = 0;
    if (p.have_cycles && be->add_gc_listener(on_gc, NULL) == 0)
        T.listening = 1;
    else if (p.have_cycles)
        T.st.p.have_cycles = 0;
    int err = pthread_create(&T.thread, NULL, tuner_main, NULL);
    if (err) {
        if (T.listening)
            be->remove_gc_listener(on_gc, NULL);
        pthread_mutex_unlock(&life_lock);
        errno = err;
        return -1;
    }
    T.running = 1;
    pthread_mutex_unlock(&life_lock);
    return 0;
}

void gct_tuner_stop(void)
{
    pthread_mutex_lock(&life_lock);
    if (!T.running) {
        pthread_mutex_unlock(&life_lock);
        return;
    }
    __atomic_store_n(&T.stop, 1, __ATOMIC_RELEASE);
    uint64_t one = 1;
    ssize_t w = write(T.efd, &one, sizeof one);
    (void)w;
    pthread_join(T.thread, NULL);
    if (T.listening)
        T.be->remove_gc_listener(on_gc, NULL);
    T.listening = 0;
    /* A listener call that started before the removal may still write the
     * eventfd: it stays open, and the next start reuses it. */
    T.running = 0;
    if (T.verbose)
        msg("stopped: %" PRIu64 " steps, %" PRIu64 " decisions (%" PRIu64 " reverted), tuner CPU %.3f ms",
            T.ticks, T.decisions, T.reverts, (double)T.cpu_ns / 1e6);
    pthread_mutex_unlock(&life_lock);
}

void gct_tuner_get_stats(gct_tuner_stats *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&life_lock);
    out->running = T.running;
    snprintf(out->policy, sizeof out->policy, "%s", T.policy[0] ? T.policy : "none");
    out->gogc = __atomic_load_n(&T.gogc, __ATOMIC_RELAXED);
    out->memory_limit = __atomic_load_n(&T.limit, __ATOMIC_RELAXED);
    out->memory_budget = T.budget;
    out->budget_source = T.budget > 0 ? T.budget_src : "none";
    out->ticks = __atomic_load_n(&T.ticks, __ATOMIC_RELAXED);
    out->decisions = __atomic_load_n(&T.decisions, __ATOMIC_RELAXED);
    out->reverts = __atomic_load_n(&T.reverts, __ATOMIC_RELAXED);
    out->events_recorded = __atomic_load_n(&T.events_recorded, __ATOMIC_RELAXED);
    out->cpu_ns = __atomic_load_n(&T.cpu_ns, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&life_lock);
}

/* ---- start from the environment ---- */

static void stop_at_exit(void)
{
    gct_tuner_stop();
}

/* The backend the environment start uses: libgc's unless the preload
 * library (backends/preload.h) set its own from a constructor that runs
 * before this file's. */
static const gct_backend *env_backend;

void gctt_set_env_backend(const gct_backend *b);
void gctt_set_env_backend(const gct_backend *b)
{
    env_backend = b;
}

__attribute__((constructor)) static void start_from_env(void)
{
    const char *pol = getenv("GCTUNE_TUNER");
    if (!pol || !*pol || !strcmp(pol, "off") || !strcmp(pol, "0"))
        return;
    gct_tuner_config cfg;
    gct_tuner_config_init(&cfg);
    cfg.backend = env_backend;
    if (gctt_policy_parse(pol) < 0)
        msg("GCTUNE_TUNER=%s: not a policy (static, throughput, latency, memory, adaptive); using adaptive", pol);
    else
        cfg.policy = pol;
    const char *v;
    if ((v = getenv("GCTUNE_MAX_PAUSE")) && *v && gct_tuner_parse_duration(v, &cfg.max_pause_ns) != 0)
        msg("GCTUNE_MAX_PAUSE=%s: not a duration (like 5ms, 500us, 0.2s); using none", v);
    if ((v = getenv("GCTUNE_MAX_GC_CPU")) && *v && gct_tuner_parse_percent(v, &cfg.max_gc_cpu) != 0)
        msg("GCTUNE_MAX_GC_CPU=%s: not a percentage in (0, 100] (like 5 or 5%%); using %g%%", v,
            100 * GCT_TUNER_DEFAULT_MAX_GC_CPU);
    if ((v = getenv("GCTUNE_MEMORY")) && *v && gct_tuner_parse_bytes(v, &cfg.memory_budget) != 0) {
        msg("GCTUNE_MEMORY=%s: not a byte count (like 512MiB); using the cgroup limit or none", v);
        cfg.memory_budget = 0;
    }
    if ((v = getenv("GCTUNE_TUNER_INTERVAL")) && *v) {
        int64_t ns;
        if (gct_tuner_parse_duration(v, &ns) != 0 || ns < 1000000 || ns > 3600000000000ll)
            msg("GCTUNE_TUNER_INTERVAL=%s: not a duration between 1ms and 1h; using %d ms", v,
                GCT_TUNER_DEFAULT_INTERVAL_MS);
        else
            cfg.interval_ms = (uint32_t)(ns / 1000000);
    }
    if ((v = getenv("GCTUNE_TUNER_VERBOSE")) && *v && strcmp(v, "0") != 0)
        cfg.verbose = 1;
    v = getenv("GCTUNE_PROFILE");
    env_start = v && *v;
    int rc = gct_tuner_start(&cfg);
    env_start = 0;
    if (rc == 0)
        atexit(stop_at_exit);
    else
        msg("not started: %s", strerror(errno));
}
