/* profiler/profiler.c - gct_profiler_start/stop, the sink the backends
 * deliver to, and the start from the environment (GCTUNE_PROFILE).
 *
 * Allocating threads run only the sink functions: capture ips
 * (unwind.c), build the record on the stack, put it in the queue — no
 * lock, no allocation, no system call but clock_gettime.  A thread-local
 * flag makes the sink refuse to recurse (an allocation made while
 * capturing is not sampled).  Lifecycle: start claims the path
 * (gcts_claim_path; a path another live recording holds is refused), then
 * either creates the
 * database (mode 0600), writes the run's meta rows and starts the writer
 * thread, or, in helper mode (want_helper), forks the helper process that
 * does all of that (helper.c); then it attaches the backend.  Stop
 * detaches the backend, clears "active" so no new record starts, waits
 * until no sink call is in flight, sets stop_req, and joins the writer or
 * waits for the helper to close the database.  In a fork child the
 * profiler is off (the parent's connection and writer belong to the
 * parent).
 */
#include "internal.h"
#include "env.h"
#include "unwind.h"
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Where the counters live when no recording runs (and in a fork child):
 * gct_profiler_get_stats keeps answering with the last run's figures. */
static struct gctp_shared idle_shared;
struct gctp_state gctp = { .sh = &idle_shared, .claim_fd = -1 };
static pthread_mutex_t life_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int in_sink;
static __thread uint64_t my_tid;

int64_t gctp_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t gctp_real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void gctp_msg(const char *fmt, ...)
{
    if (gctp.quiet)
        return;
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "gctune: profiler: ");
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + ((size_t)m < sizeof buf - (size_t)n - 1 ? (size_t)m : sizeof buf - (size_t)n - 2);
    buf[len++] = '\n';
    ssize_t w = write(2, buf, len);
    (void)w;
}

/* ---- the sink ---- */

/* inflight and active form a Dekker pair with gct_profiler_stop and the
 * writer (store active, then load inflight): both sides use SEQ_CST, so a
 * call either sees active cleared or is counted before the writer's last
 * check, and no call touches the queue after the writer exits. */
static inline int sink_enter(void)
{
    if (in_sink || !__atomic_load_n(&gctp.active, __ATOMIC_ACQUIRE))
        return 0;
    in_sink = 1;
    __atomic_add_fetch(&gctp.inflight, 1, __ATOMIC_SEQ_CST);
    /* failed: the writer (a helper process, which cannot clear our
     * `active`) stopped recording */
    if (!__atomic_load_n(&gctp.active, __ATOMIC_SEQ_CST) ||
        __atomic_load_n(&gctp.sh->failed, __ATOMIC_RELAXED)) {
        __atomic_sub_fetch(&gctp.inflight, 1, __ATOMIC_RELEASE);
        in_sink = 0;
        return 0;
    }
    return 1;
}

static inline void sink_exit(void)
{
    __atomic_sub_fetch(&gctp.inflight, 1, __ATOMIC_RELEASE);
    in_sink = 0;
}

/* Writes what a record carries beyond the header put_record writes. */
typedef void (*rec_fill_fn)(struct gctp_rec *r, const void *arg);

/* The producer side of every record: writes the header (type, no frames,
 * the time) of a record on this thread's stack, lets fill write the rest,
 * puts it in the queue and counts it in *accepted (if not NULL).  With the
 * queue full it counts the drop in *dropped instead and returns -1.
 * Only between sink_enter and sink_exit. */
static int put_record(uint32_t type, rec_fill_fn fill, const void *arg, uint64_t *accepted, uint64_t *dropped)
{
    struct gctp_rec r;
    r.type = type;
    r.nframes = 0;
    r.time_ns = gctp_mono_ns();
    fill(&r, arg);
    if (gctp_queue_put(&gctp.q, &r) != 0) {
        __atomic_add_fetch(dropped, 1, __ATOMIC_RELAXED);
        return -1;
    }
    if (accepted)
        __atomic_add_fetch(accepted, 1, __ATOMIC_RELAXED);
    return 0;
}

struct alloc_args {
    void *obj;
    size_t size;
    uint64_t rate;
    const uintptr_t *ips;
    int n;
    uint64_t *id;   /* out: the sample's token (0 again if the queue was full) */
};

static void fill_alloc(struct gctp_rec *r, const void *arg)
{
    const struct alloc_args *a = arg;
    if (!my_tid)
        my_tid = (uint64_t)syscall(SYS_gettid);
    *a->id = __atomic_add_fetch(&gctp.next_id, 1, __ATOMIC_RELAXED);
    r->nframes = (uint32_t)a->n;
    r->token = *a->id;
    r->addr = (uint64_t)(uintptr_t)a->obj;
    r->size = a->size;
    r->rate = a->rate;
    r->tid = my_tid;
    r->hash = gctp_hash_ips(a->ips, a->n);
    memcpy(r->u.ips, a->ips, (size_t)a->n * sizeof a->ips[0]);
}

static void fill_heap(struct gctp_rec *r, const void *arg)
{
    r->u.heap = *(const gct_backend_stats *)arg;
}

/* Helper mode: the backend's statistics can only be read here, in the
 * profiled process, which has no thread of ours to do it on a timer; so
 * the sink sends them (a HEAP record) when it runs and a heap interval has
 * passed since the last, and at start and stop (force).  Between
 * sink_enter and sink_exit. */
static void send_heap(int force)
{
    const gct_backend *b = gctp.backend;
    if (!gctp.helper || !(b->caps & GCT_CAP_STATS) || !b->read_stats)
        return;
    int64_t now = gctp_mono_ns();
    int64_t next = __atomic_load_n(&gctp.next_heap_ns, __ATOMIC_RELAXED);
    if (!force && now < next)
        return;
    if (!__atomic_compare_exchange_n(&gctp.next_heap_ns, &next, now + (int64_t)gctp.heap_ms * 1000000, 0,
                                     __ATOMIC_RELAXED, __ATOMIC_RELAXED) && !force)
        return;   /* another thread sends this one */
    gct_backend_stats st;
    memset(&st, 0, sizeof st);
    /* the helper reads the RSS itself (writer.c): not sys */
    int (*rd)(gct_backend_stats *) = b->read_heap_stats ? b->read_heap_stats : b->read_stats;
    if (rd(&st) == 0)
        put_record(GCTP_REC_HEAP, fill_heap, &st, NULL, &gctp.sh->dropped_heap);
}

static uint64_t sink_sample(void *ctx, void *obj, size_t size, uint64_t rate, uintptr_t ret)
{
    (void)ctx;
    if (!sink_enter())
        return 0;
    uintptr_t ips[GCTP_MAX_FRAMES];
    /* fallback skip when ret is not found: this function, the backend
     * hook, the allocator's sampling path */
    int n = gctp_capture(ips, GCTP_MAX_FRAMES, ret, 3);
    uint64_t id = 0;
    struct alloc_args a = {obj, size, rate, ips, n, &id};
    if (put_record(GCTP_REC_ALLOC, fill_alloc, &a, &gctp.sh->samples, &gctp.sh->dropped_samples) != 0)
        id = 0;   /* not recorded: its free must not be either */
    send_heap(0);
    sink_exit();
    return id;
}

static void fill_free(struct gctp_rec *r, const void *arg)
{
    r->token = *(const uint64_t *)arg;
}

static void sink_freed(void *ctx, uint64_t token)
{
    (void)ctx;
    if (!sink_enter())
        return;
    put_record(GCTP_REC_FREE, fill_free, &token, &gctp.sh->frees, &gctp.sh->dropped_frees);
    sink_exit();
}

static void fill_gc(struct gctp_rec *r, const void *arg)
{
    r->u.gc = *(const gct_gc_event *)arg;
}

static void sink_gc_cycle(void *ctx, const gct_gc_event *ev)
{
    (void)ctx;
    if (!sink_enter())
        return;
    put_record(GCTP_REC_GC, fill_gc, ev, &gctp.sh->gc_cycles, &gctp.sh->dropped_gc);
    send_heap(0);
    sink_exit();
}

static void copy_str(char *dst, size_t len, const char *src)
{
    size_t n = src ? strnlen(src, len - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = 0;
}

struct tuner_args {
    const char *knob, *reason, *measurements_json;
    int64_t old_value, new_value;
};

static void fill_tuner(struct gctp_rec *r, const void *arg)
{
    const struct tuner_args *a = arg;
    copy_str(r->u.tuner.knob, sizeof r->u.tuner.knob, a->knob);
    r->u.tuner.old_value = a->old_value;
    r->u.tuner.new_value = a->new_value;
    copy_str(r->u.tuner.reason, sizeof r->u.tuner.reason, a->reason);
    copy_str(r->u.tuner.measurements, sizeof r->u.tuner.measurements, a->measurements_json);
}

int gct_profiler_tuner_event(const char *knob, int64_t old_value, int64_t new_value,
                             const char *reason, const char *measurements_json)
{
    if (!knob || !reason || !sink_enter())
        return -1;
    struct tuner_args a = {knob, reason, measurements_json, old_value, new_value};
    int rc = put_record(GCTP_REC_TUNER, fill_tuner, &a, NULL, &gctp.sh->dropped_tuner);
    sink_exit();
    return rc;
}

static const gct_sink the_sink = {
    .sample = sink_sample,
    .freed = sink_freed,
    .gc_cycle = sink_gc_cycle,
};

/* ---- meta ---- */

/* Appends s to out as a JSON string; returns the new length. */
static size_t json_str(char *out, size_t len, size_t n, const char *s, size_t slen)
{
    if (n + 2 >= len)
        return n;
    out[n++] = '"';
    for (size_t i = 0; i < slen && n + 8 < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(out + n, len - n, "\\u%04x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    out[n++] = '"';
    out[n] = 0;
    return n;
}

/* gcts_create_claimed's init: the run's meta, in the database before it
 * appears at its path, so that a reader finding the file knows the
 * recording's mode and helper (store_read.c waits for a helper still
 * finishing a database: a program killed before the helper had written
 * this used to leave readers an empty recording to read). */
static int write_meta(gcts_db *db, void *arg)
{
    (void)arg;
    char buf[8192];
    ssize_t k = readlink("/proc/self/exe", buf, sizeof buf - 1);
    buf[k > 0 ? k : 0] = 0;
    int rc = gcts_set_meta(db, "program", buf);
    /* argv as a JSON array, from /proc/self/cmdline (NUL-separated) */
    char cmd[4096], json[8192];
    size_t n = 0, jn = 0;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t r = read(fd, cmd, sizeof cmd - 1);
        n = r > 0 ? (size_t)r : 0;
        close(fd);
    }
    json[jn++] = '[';
    for (size_t i = 0; i < n;) {
        size_t l = strnlen(cmd + i, n - i);
        if (jn > 1)
            json[jn++] = ',';
        jn = json_str(json, sizeof json - 2, jn, cmd + i, l);
        i += l + 1;
    }
    json[jn++] = ']';
    json[jn] = 0;
    rc |= gcts_set_meta(db, "argv", json);
    rc |= gcts_set_meta_int(db, "pid", gctp.target_pid);
    rc |= gcts_set_meta(db, "profiler_mode", gctp.helper ? "helper" : "thread");
    if (gctp.helper)
        rc |= gcts_set_meta_int(db, "writer_pid", getpid());   /* the helper (store_read.c waits for it) */
    if (gethostname(buf, sizeof buf) != 0)
        strcpy(buf, "unknown");
    buf[sizeof buf - 1] = 0;
    rc |= gcts_set_meta(db, "host", buf);
    rc |= gcts_set_meta(db, "backend", gctp.backend->name);
    rc |= gcts_set_meta(db, "capabilities", gct_backend_caps_string(gctp.backend->caps, buf, sizeof buf));
    rc |= gcts_set_meta_int(db, "sample_rate", (int64_t)gctp.rate);
    rc |= gcts_set_meta_int(db, "start_time_ns", gctp.start_real_ns);
    rc |= gcts_set_meta(db, "gctune_version", PACKAGE_VERSION);
    rc |= gcts_set_meta(db, "source", "profiler");
    rc |= gcts_set_meta(db, "clean_exit", "0");
    rc |= gcts_set_meta_int(db, "queue_capacity", (int64_t)gctp.queue_capacity);
    rc |= gcts_set_meta_int(db, "queue_cells", (int64_t)(gctp.q.mask + 1));
    rc |= gcts_set_meta_int(db, "samples", 0);
    rc |= gcts_set_meta_int(db, "dropped_samples", 0);
    rc |= gcts_set_meta_int(db, "dropped_frees", 0);
    const char *e = getenv("GOGC");
    if (e)
        rc |= gcts_set_meta(db, "gogc", e);
    e = getenv("GOMEMLIMIT");
    if (e)
        rc |= gcts_set_meta(db, "gomemlimit", e);
    return rc ? -1 : 0;
}

/* ---- lifecycle ---- */

/* Set by the thread that forks the helper: its fork children keep the
 * state (the other threads' forks drop it, child_after_fork). */
static __thread int forking_helper;
/* Set while start_from_env runs. */
static int from_env;
/* Set by the stop at the process's exit (stop_at_exit). */
static int stopping_at_exit;

void gct_profiler_config_init(gct_profiler_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->sample_rate = -1;
}

static void child_after_fork(void)
{
    if (forking_helper)
        return;   /* the helper (profiler/helper.c) and its parent */
    /* The parent's connection and writer are not ours: forget them. */
    gctp.running = 0;
    gctp.active = 0;
    gcts_forget_claim(gctp.db);  /* thread mode: our copy of the database's claim */
    gctp.db = NULL;
    gctp_release_claim();        /* our copy of the claim (the parent's stays) */
    gctp.q.cells = NULL;
    gctp.sh = &idle_shared;
    pthread_mutex_init(&life_lock, NULL);
}

int gctp_open_db(void)
{
    char msg[PATH_MAX + 256];
    /* the database takes the claim over (and drops it if it fails) */
    gctp.db = gcts_create_claimed(gctp.path, gctp.claim_fd, write_meta, NULL, msg, sizeof msg);
    gctp.claim_fd = -1;
    if (!gctp.db) {
        int err = errno ? errno : EIO;
        gctp_msg("%s; running without profiling", msg);
        return err;
    }
    if (gctp_writer_prepare() != 0) {   /* it said why */
        gctp_msg("%s: running without profiling", gctp.path);
        gcts_close(gctp.db);
        gctp.db = NULL;
        return EIO;
    }
    return 0;
}

/* Helper mode by default where the backend has no collector of its own
 * (malloc: the profiler's threads would be the process's only other
 * threads, and glibc's malloc is much slower once any exists);
 * GCTUNE_PROFILE_HELPER=0/1 overrides it. */
static int want_helper(const gct_backend *b)
{
    const char *e = getenv("GCTUNE_PROFILE_HELPER");
    if (e && (e[0] == '0' || e[0] == '1') && !e[1])
        return e[0] == '1';
    return !(b->caps & GCT_CAP_GC_EVENTS);
}

/* Closes this process's descriptor of the path's claim while no database
 * owns it yet (the claim ends with the last copy: the helper's, in helper
 * mode). */
void gctp_release_claim(void)
{
    if (gctp.claim_fd >= 0)
        close(gctp.claim_fd);
    gctp.claim_fd = -1;
}

/* Points sh back at idle_shared, with the counters the recording ended
 * with.  The recording's page stays mapped (one page per recording):
 * gct_profiler_get_stats may be reading it on another thread (the
 * tuner's) with no lock, and nothing counts into it any more. */
static void drop_shared(void)
{
    struct gctp_shared *old = gctp.sh;
    if (old && old != &idle_shared) {
        idle_shared = *old;
        __atomic_store_n(&gctp.sh, &idle_shared, __ATOMIC_RELEASE);
    }
}

int gct_profiler_start(const gct_profiler_config *cfg)
{
    static int atfork_done;
    if (!cfg || !cfg->db_path || !*cfg->db_path) {
        errno = EINVAL;
        return -1;
    }
    pthread_mutex_lock(&life_lock);
    if (gctp.running) {
        pthread_mutex_unlock(&life_lock);
        errno = EBUSY;
        return -1;
    }
    if (!atfork_done) {
        pthread_atfork(NULL, NULL, child_after_fork);
        atfork_done = 1;
    }
    struct gctp_state *g = &gctp;
    /* everything but sh, which gct_profiler_get_stats may be reading on
     * another thread: it keeps pointing at the last counters until the
     * new page is in place */
    memset(g, 0, offsetof(struct gctp_state, sh));
    memset((char *)&g->sh + sizeof g->sh, 0, sizeof *g - offsetof(struct gctp_state, sh) - sizeof g->sh);
    g->claim_fd = -1;
    g->quiet = cfg->quiet;
    g->backend = cfg->backend ? cfg->backend : gct_backend_libgc();
    g->rate = cfg->sample_rate < 0 ? GCT_DEFAULT_SAMPLE_RATE : (uint64_t)cfg->sample_rate;
    if (!(g->backend->caps & GCT_CAP_SAMPLING))
        g->rate = 0;
    g->seed = cfg->seed ? cfg->seed : ((uint64_t)gctp_real_ns() ^ ((uint64_t)getpid() << 32));
    g->flush_ms = cfg->flush_interval_ms ? cfg->flush_interval_ms : 100;
    g->heap_ms = cfg->heap_interval_ms ? cfg->heap_interval_ms : 100;
    /* The ring's pages are touched as the producers go round it, so over
     * a long run all of them are: each first touch is a page fault in the
     * program (~14 us on bench/preload.sh's VM) and each page counts in
     * its RSS.  4096 records (1 MiB of cells) hold ~0.4 s of samples at
     * the default rate for a program allocating 5 GB/s, far more than the
     * writer's longest pause; sampling more often than every 64 KiB takes
     * the big ring (16 MiB). */
    g->queue_capacity = cfg->queue_capacity ? cfg->queue_capacity
                      : (g->rate == 0 || g->rate >= 65536) ? 4096 : 65536;
    g->helper = want_helper(g->backend);
    g->target_pid = (int)getpid();
    if (gctp_env_expand_path(cfg->db_path, (long)getpid(), g->path, sizeof g->path) != 0) {
        gctp_msg("%s: path too long; running without profiling", cfg->db_path);
        pthread_mutex_unlock(&life_lock);
        errno = ENAMETOOLONG;
        return -1;
    }
    int err;
    g->claim_fd = gcts_claim_path(g->path);
    if (g->claim_fd < 0 && errno == EBUSY) {
        /* Another live process records into this path (a program that
         * runs others with the same GCTUNE_PROFILE and no %p): leave its
         * database alone.  Silent when started from the environment, so
         * that the other programs' output stays as it was. */
        if (!from_env)
            gctp_msg("%s: another process is recording into this database; running without profiling", g->path);
        pthread_mutex_unlock(&life_lock);
        errno = EBUSY;
        return -1;
    }
    /* The old recording goes now, not when the helper creates the new
     * one: a reader finding the path claimed waits for the file that
     * appears there (store_read.c), never reads the old one meanwhile.
     * What cannot be removed, gcts_create_claimed reports. */
    if (g->claim_fd >= 0)
        (void)gcts_remove_db(g->path);
    void *shp = mmap(NULL, sizeof *g->sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shp == MAP_FAILED) {
        err = errno;
        gctp_msg("cannot map the profiler's shared page: %s; running without profiling", strerror(err));
        pthread_mutex_unlock(&life_lock);
        errno = err;
        return -1;
    }
    __atomic_store_n(&g->sh, (struct gctp_shared *)shp, __ATOMIC_RELEASE);
    if ((err = gctp_queue_init(&g->q, g->queue_capacity, g->helper)) != 0) {
        gctp_msg("%s: cannot allocate the sample queue: %s; running without profiling", g->path, strerror(err));
        goto fail;
    }
    g->start_mono_ns = gctp_mono_ns();
    g->start_real_ns = gctp_real_ns();
    if (g->helper) {
        /* The helper opens the database itself, while the program runs
         * on: a failure there is printed by it and stops the sink
         * (sh->failed). */
        forking_helper = 1;
        err = gctp_helper_spawn();
        forking_helper = 0;
        if (err) {
            gctp_msg("cannot start the recording helper process: %s; running without profiling", strerror(err));
            goto fail;
        }
        gctp_release_claim();   /* the helper holds it now */
        g->active = 1;
    } else {
        if ((err = gctp_open_db()) != 0)
            goto fail;
        g->active = 1;
        if ((err = pthread_create(&g->writer, NULL, gctp_writer_main, NULL)) != 0) {
            gctp_msg("cannot start the writer thread: %s; running without profiling", strerror(err));
            g->active = 0;
            gcts_close(g->db);
            g->db = NULL;
            goto fail;
        }
    }
    g->running = 1;
    if (g->helper && sink_enter()) {
        send_heap(1);
        sink_exit();
    }
    if ((err = g->backend->attach(&the_sink, g->rate, g->seed)) != 0) {
        gctp_msg("backend %s: cannot attach: %s; running without profiling", g->backend->name, strerror(err));
        pthread_mutex_unlock(&life_lock);
        gct_profiler_stop();
        errno = err;
        return -1;
    }
    pthread_mutex_unlock(&life_lock);
    return 0;
fail:
    gctp_release_claim();
    gctp_queue_destroy(&g->q);
    drop_shared();
    pthread_mutex_unlock(&life_lock);
    errno = err;
    return -1;
}

static void stop_impl(void)
{
    pthread_mutex_lock(&life_lock);
    if (!gctp.running) {
        pthread_mutex_unlock(&life_lock);
        return;
    }
    gctp.backend->detach();
    if (gctp.helper && sink_enter()) {
        send_heap(1);   /* the last figures */
        sink_exit();
    }
    __atomic_store_n(&gctp.active, 0, __ATOMIC_SEQ_CST);
    /* A sink call either saw active cleared or is counted in inflight
     * (sink_enter): once inflight is 0, nothing more enters the queue. */
    while (__atomic_load_n(&gctp.inflight, __ATOMIC_SEQ_CST))
        sched_yield();
    __atomic_store_n(&gctp.sh->stop_req, 1, __ATOMIC_SEQ_CST);
    if (gctp.helper) {
        gctp_helper_wait();
    } else {
        pthread_join(gctp.writer, NULL);
        gcts_close(gctp.db);   /* and its claim */
        gctp.db = NULL;
    }
    /* At exit the queue's mapping goes with the process: unmapping it
     * here took ~0.9 ms of the program's exit (bench/preload.sh's churn,
     * ~90 pages touched, shared with the helper). */
    if (stopping_at_exit)
        gctp.q.cells = NULL;
    else
        gctp_queue_destroy(&gctp.q);
    drop_shared();
    gctp.running = 0;
    pthread_mutex_unlock(&life_lock);
}

void gct_profiler_stop(void)
{
    stop_impl();
}

void gctp_before_exec(void)
{
    /* a vfork child shares our memory but is not the recording process:
     * it must leave the recording alone */
    if (!__atomic_load_n(&gctp.running, __ATOMIC_ACQUIRE) || (int)getpid() != gctp.target_pid)
        return;
    stop_impl();
}

void gct_profiler_get_stats(gct_profiler_stats *out)
{
    const struct gctp_shared *sh = __atomic_load_n(&gctp.sh, __ATOMIC_ACQUIRE);
    out->samples = __atomic_load_n(&sh->samples, __ATOMIC_RELAXED);
    out->dropped_samples = __atomic_load_n(&sh->dropped_samples, __ATOMIC_RELAXED);
    out->frees = __atomic_load_n(&sh->frees, __ATOMIC_RELAXED);
    out->dropped_frees = __atomic_load_n(&sh->dropped_frees, __ATOMIC_RELAXED);
    out->written_samples = __atomic_load_n(&sh->written_samples, __ATOMIC_RELAXED);
    out->gc_cycles = __atomic_load_n(&sh->gc_cycles, __ATOMIC_RELAXED);
    out->frames_pending = __atomic_load_n(&sh->frames_pending, __ATOMIC_RELAXED);
    out->running = __atomic_load_n(&gctp.running, __ATOMIC_RELAXED);
    out->failed = __atomic_load_n(&sh->failed, __ATOMIC_RELAXED);
}

const char *gct_profiler_path(void)
{
    return gctp.running ? gctp.path : NULL;
}

/* ---- start from the environment ---- */

static const gct_backend *env_backend;

void gctp_set_env_backend(const gct_backend *b)
{
    env_backend = b;
}

static void stop_at_exit(void)
{
    stopping_at_exit = 1;
    gct_profiler_stop();
}

__attribute__((constructor)) static void start_from_env(void)
{
    const char *path = getenv("GCTUNE_PROFILE");
    if (!path || !*path)
        return;
    gct_profiler_config cfg;
    gct_profiler_config_init(&cfg);
    cfg.db_path = path;
    cfg.backend = env_backend;
    const char *r = getenv("GCTUNE_SAMPLE_RATE");
    if (r && *r) {
        cfg.sample_rate = gctp_env_bytes(r);
        if (cfg.sample_rate < 0) {
            gctp_msg("GCTUNE_SAMPLE_RATE=%s: not a byte count; using %u", r, GCT_DEFAULT_SAMPLE_RATE);
            cfg.sample_rate = -1;
        }
    }
    const char *q = getenv("GCTUNE_PROFILE_QUEUE");
    if (q && *q) {
        if (gctp_env_queue(q, &cfg.queue_capacity) != 0)
            gctp_msg("GCTUNE_PROFILE_QUEUE=%s: not a record count in 1..16777216; using the default", q);
    }
    const char *sd = getenv("GCTUNE_SAMPLE_SEED");
    if (sd && *sd && gctp_env_seed(sd, &cfg.seed) != 0)
        gctp_msg("GCTUNE_SAMPLE_SEED=%s: not an unsigned integer; using a random seed", sd);
    from_env = 1;
    int rc = gct_profiler_start(&cfg);
    from_env = 0;
    if (rc == 0)
        atexit(stop_at_exit);
}
