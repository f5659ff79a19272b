/* test_profiler.c - the sampling heap profiler on the libgc backend:
 * statistical accuracy (default rate, fixed seed) and exactness (rate 1),
 * frees recorded for collected and gc_free'd objects, stacks naming the
 * allocating functions, 4 threads, dropped-sample accounting with a tiny
 * queue, SIGKILL mid-run leaving a valid database, unwritable paths.
 *
 * Built with -g so the symbolizer finds this file's functions; the
 * allocation functions are noinline and use the result after the call,
 * so their call into the allocator is not a tail call.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include "gc_internal.h"
#include "gctune/profiler.h"
#include "test_util.h"
#include "internal.h"
#include "symthread.h"

static char tmpdir[] = "/tmp/gctune-prof-XXXXXX";
static volatile void *volatile sink_ptr;

static void db_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", tmpdir, name);
}

static int start(const char *path, int64_t rate, uint32_t queue)
{
    gct_profiler_config cfg;
    gct_profiler_config_init(&cfg);
    cfg.db_path = path;
    cfg.sample_rate = rate;
    cfg.seed = 12345;
    cfg.queue_capacity = queue;
    return gct_profiler_start(&cfg);
}

/* Starts the profiler on tmpdir/name (the path into path[256]) and
 * asserts that it started. */
static void start_recording(char *path, const char *name, int64_t rate, uint32_t queue)
{
    db_path(path, 256, name);
    assert_int_equal(start(path, rate, queue), 0);
}

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    return db;
}

static int64_t q_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

static double q_double(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    double v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_double(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

/* The leaf frame of a sample is the first ip of its stack's frames text. */
#define LEAF_FN_SQL \
    "(SELECT f.function FROM stacks k JOIN frames f ON f.ip = " \
    "CAST(substr(k.frames, 1, instr(k.frames || ' ', ' ') - 1) AS INTEGER) " \
    "WHERE k.id = s.stack_id)"

/* sum(weight * size) of samples whose leaf function is fn */
static double est_bytes(sqlite3 *db, const char *fn)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(sum(s.weight * s.size), 0) FROM samples s WHERE " LEAF_FN_SQL " = '%s'", fn);
    return q_double(db, sql);
}

/* ---- workloads ---- */

/* Two sizes per function, so the weights differ within a site. */
/* noipa: identical bodies must not be folded into one function. */
#define SITE __attribute__((noinline, noipa))
static SITE void alloc_site_a(size_t n) { void *p = gc_malloc_atomic(n); sink_ptr = p; gc_free(p); }
static SITE void alloc_site_b(size_t n) { void *p = gc_malloc_atomic(n); sink_ptr = p; gc_free(p); }
static SITE void alloc_site_c(size_t n) { void *p = gc_malloc_atomic(n); sink_ptr = p; gc_free(p); }

/* Allocates units * (3000 + 200) bytes from a, 2x from b, 3x from c. */
static void three_sites(unsigned units, uint64_t truth[3])
{
    truth[0] = truth[1] = truth[2] = 0;
    for (unsigned i = 0; i < units; i++) {
        alloc_site_a(3000); alloc_site_a(200);
        truth[0] += 3200;
        for (int k = 0; k < 2; k++) { alloc_site_b(3000); alloc_site_b(200); }
        truth[1] += 6400;
        for (int k = 0; k < 3; k++) { alloc_site_c(3000); alloc_site_c(200); }
        truth[2] += 9600;
    }
}

static const char *const site_names[3] = { "alloc_site_a", "alloc_site_b", "alloc_site_c" };

static void test_accuracy_default_rate(void **state)
{
    (void)state;
    char path[256];
    start_recording(path, "accuracy.sqlite", -1, 0);
    uint64_t truth[3];
    unsigned units = tu_stress() ? 20000 : 350000;   /* 350000 units: 6.7 GB allocated */
    three_sites(units, truth);
    gct_profiler_stop();
    gct_profiler_stats st;
    gct_profiler_get_stats(&st);
    assert_int_equal(st.dropped_samples, 0);
    sqlite3 *db = open_db(path);
    assert_int_equal(q_int(db, "SELECT value FROM meta WHERE key = 'sample_rate'"), 524288);
    for (int i = 0; i < 3; i++) {
        double est = est_bytes(db, site_names[i]);
        double err = (est - (double)truth[i]) / (double)truth[i];
        print_message("%s: true %llu bytes, estimated %.0f (%+.2f%%)\n", site_names[i],
                      (unsigned long long)truth[i], est, 100 * err);
        if (!tu_stress())
            assert_true(err > -0.10 && err < 0.10);
    }
    sqlite3_close(db);
}

static void test_exact_at_rate_1(void **state)
{
    (void)state;
    char path[256];
    start_recording(path, "exact.sqlite", 1, 1 << 16);
    uint64_t truth[3];
    three_sites(1000, truth);
    gct_profiler_stop();
    gct_profiler_stats st;
    gct_profiler_get_stats(&st);
    assert_int_equal(st.dropped_samples, 0);
    sqlite3 *db = open_db(path);
    for (int i = 0; i < 3; i++) {
        assert_true(est_bytes(db, site_names[i]) == (double)truth[i]);
        char sql[512];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM samples s WHERE " LEAF_FN_SQL " = '%s'", site_names[i]);
        assert_int_equal(q_int(db, sql), 2000 * (i + 1));
        /* every one was freed with gc_free */
        snprintf(sql, sizeof sql, "SELECT count(*) FROM samples s WHERE freed_ns IS NULL AND " LEAF_FN_SQL " = '%s'",
                 site_names[i]);
        assert_int_equal(q_int(db, sql), 0);
    }
    /* the file name and a line come from the debug info */
    assert_int_equal(q_int(db, "SELECT count(*) FROM frames WHERE function = 'alloc_site_a' "
                               "AND file LIKE '%test_profiler.c' AND line > 0"), 1);
    assert_int_equal(q_int(db, "SELECT value FROM meta WHERE key = 'samples'"), 12000);
    assert_int_equal(q_int(db, "SELECT value FROM meta WHERE key = 'clean_exit'"), 1);
    sqlite3_close(db);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
}

/* ---- stacks ---- */

static SITE void *deep_leaf(void) { void *p = gc_malloc(48); sink_ptr = p; return p; }
static SITE void *deep_middle(void) { void *p = deep_leaf(); sink_ptr = p; return p; }
static SITE void *deep_outer(void) { void *p = deep_middle(); sink_ptr = p; return p; }

static void test_stack_order(void **state)
{
    (void)state;
    char path[256];
    start_recording(path, "stack.sqlite", 1, 0);
    for (int i = 0; i < 10; i++)
        deep_outer();
    gct_profiler_stop();
    sqlite3 *db = open_db(path);
    /* one distinct stack, whose first three frames are leaf, middle, outer */
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT k.frames FROM samples s JOIN stacks k ON k.id = s.stack_id "
                                            "GROUP BY k.id", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char frames[4096];
    snprintf(frames, sizeof frames, "%s", (const char *)sqlite3_column_text(st, 0));
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    const char *want[3] = { "deep_leaf", "deep_middle", "deep_outer" };
    char *save = NULL, *tok = strtok_r(frames, " ", &save);
    for (int i = 0; i < 3; i++, tok = strtok_r(NULL, " ", &save)) {
        assert_non_null(tok);
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM frames WHERE ip = %llu AND function = '%s'",
                 (unsigned long long)strtoull(tok, NULL, 0), want[i]);
        assert_int_equal(q_int(db, sql), 1);
    }
    sqlite3_close(db);
}

/* ---- in-use: frees by the collector ---- */

#define NOBJ 2000
static void **volatile objs;   /* a gc object: the only reference to the sampled objects */

static __attribute__((noinline)) void make_objects(void)
{
    objs = gc_malloc(NOBJ * sizeof(void *));
    for (int i = 0; i < NOBJ; i++)
        objs[i] = gc_malloc(64 + (size_t)(i % 7) * 100);
}

static __attribute__((noinline)) void drop_even(void)
{
    for (int i = 0; i < NOBJ; i += 2)
        objs[i] = NULL;
}

static void test_inuse_collector_frees(void **state)
{
    (void)state;
    char path[256];
    start_recording(path, "inuse.sqlite", 1, 0);
    make_objects();
    drop_even();
    tu_scrub_stack();
    gc_collect();
    gc_collect();
    gct_profiler_stop();
    sqlite3 *db = open_db(path);
    char sql[512];
    /* the odd objects are alive: none freed */
    int64_t live_freed = 0, dead_freed = 0;
    for (int i = 0; i < NOBJ; i++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM samples WHERE address = %llu AND freed_ns IS NOT NULL",
                 (unsigned long long)(uintptr_t)objs[i]);
        if (i % 2)
            live_freed += q_int(db, sql);
    }
    assert_int_equal(live_freed, 0);
    /* the even ones: freed (a conservative collector may keep a few) */
    dead_freed = q_int(db, "SELECT count(*) FROM samples WHERE size >= 64 AND freed_ns IS NOT NULL");
    print_message("dropped %d objects, %lld recorded freed\n", NOBJ / 2, (long long)dead_freed);
    assert_true(dead_freed >= NOBJ / 2 * 95 / 100);
    assert_true(dead_freed <= NOBJ / 2);
    /* gc_cycles were recorded */
    assert_true(q_int(db, "SELECT count(*) FROM gc_cycles") >= 2);
    assert_true(q_int(db, "SELECT count(*) FROM gc_cycles WHERE pause_ns > 0 AND heap_goal > 0") >= 2);
    assert_true(q_int(db, "SELECT count(*) FROM heap_series WHERE rss > 0 AND heap_alloc > 0") >= 1);
    sqlite3_close(db);
    objs = NULL;
}

/* ---- threads ---- */

#define NTHREADS 4
#define PER_THREAD 5000

static SITE void thread_site(void)
{
    void *p = gc_malloc(40);
    sink_ptr = p;
}

static void *thread_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++)
        thread_site();
    return NULL;
}

static void run_threads(void)
{
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, thread_main, NULL), 0);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
}

static void test_threads(void **state)
{
    (void)state;
    char path[256];
    start_recording(path, "threads.sqlite", 1, 1 << 16);
    run_threads();
    gct_profiler_stop();
    gct_profiler_stats st;
    gct_profiler_get_stats(&st);
    sqlite3 *db = open_db(path);
    int64_t rows = q_int(db, "SELECT count(*) FROM samples s WHERE " LEAF_FN_SQL " = 'thread_site'");
    print_message("%d threads: %lld samples written, %llu dropped\n", NTHREADS, (long long)rows,
                  (unsigned long long)st.dropped_samples);
    assert_int_equal(rows + (int64_t)st.dropped_samples, NTHREADS * PER_THREAD);
    assert_int_equal(st.dropped_samples, 0);   /* a 65536-record queue holds all 20000 */
    assert_int_equal(q_int(db, "SELECT count(DISTINCT thread) FROM samples s WHERE " LEAF_FN_SQL " = 'thread_site'"),
                     NTHREADS);
    /* every sample's stack exists */
    assert_int_equal(q_int(db, "SELECT count(*) FROM samples WHERE stack_id NOT IN (SELECT id FROM stacks)"), 0);
    sqlite3_close(db);
}

/* gct_profiler_get_stats on another thread (as the tuner's) while
 * recordings start and stop: it must never read freed memory (the
 * counters live in a page of their own per recording). */
static int stats_stop;
static void *stats_reader(void *arg)
{
    uint64_t *reads = arg;
    while (!__atomic_load_n(&stats_stop, __ATOMIC_ACQUIRE)) {
        gct_profiler_stats st;
        gct_profiler_get_stats(&st);
        assert_true(st.dropped_samples <= st.samples + st.dropped_samples);
        (*reads)++;
    }
    return NULL;
}

static void test_stats_during_stop(void **state)
{
    (void)state;
    char path[256];
    uint64_t reads = 0;
    pthread_t t;
    stats_stop = 0;
    assert_int_equal(pthread_create(&t, NULL, stats_reader, &reads), 0);
    for (int i = 0; i < 20; i++) {
        start_recording(path, "stats.sqlite", 4096, 0);
        for (int k = 0; k < 2000; k++)
            assert_non_null(gc_malloc(256));
        gct_profiler_stop();
        gct_profiler_stats st;
        gct_profiler_get_stats(&st);
        assert_true(st.samples > 0);   /* the last run's figures, after its stop */
        assert_int_equal(st.running, 0);
    }
    __atomic_store_n(&stats_stop, 1, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
    assert_true(reads > 0);
}

/* Helper mode (GCTUNE_PROFILE_HELPER=1) on the libgc backend, so that
 * the helper process (profiler/helper.c) also runs in this suite's
 * sanitizer build: every allocation at rate 1 is a row, the frees made by
 * gc_free are applied, and once stop has returned (it waits until the
 * helper has closed the database) the database is complete, says
 * "helper" and names the helper's pid. */
static void test_helper_mode(void **state)
{
    (void)state;
    char path[256];
    setenv("GCTUNE_PROFILE_HELPER", "1", 1);
    start_recording(path, "helper.sqlite", 1, 0);
    unsetenv("GCTUNE_PROFILE_HELPER");
    for (int i = 0; i < 3000; i++)
        alloc_site_a(4000 + (size_t)(i % 7));
    gct_profiler_stop();
    gct_profiler_stats st;
    gct_profiler_get_stats(&st);
    assert_int_equal(st.samples, 3000);
    assert_int_equal(st.dropped_samples, 0);
    assert_int_equal(st.written_samples, 3000);   /* counted by the helper, seen here */
    sqlite3 *db = open_db(path);
    assert_int_equal(q_int(db, "SELECT count(*) FROM samples s WHERE " LEAF_FN_SQL " = 'alloc_site_a'"), 3000);
    assert_int_equal(q_int(db, "SELECT count(*) FROM samples WHERE freed_ns >= 0"), 3000);
    assert_int_equal(q_int(db, "SELECT value = 'helper' FROM meta WHERE key = 'profiler_mode'"), 1);
    assert_int_equal(q_int(db, "SELECT value FROM meta WHERE key = 'clean_exit'"), 1);
    assert_int_equal(q_int(db, "SELECT value FROM meta WHERE key = 'pid'"), (int64_t)getpid());
    int64_t wpid = q_int(db, "SELECT value FROM meta WHERE key = 'writer_pid'");
    assert_true(wpid > 0 && wpid != (int64_t)getpid());
    assert_true(q_int(db, "SELECT count(*) FROM heap_series WHERE heap_alloc > 0") >= 1);
    sqlite3_close(db);
}

/* queue_capacity 0: 4096 records at the default rate, at 64 KiB and at
 * rate 0 (the ring's pages are all touched over a long run), 65536 when
 * sampling more often than every 64 KiB; a given capacity is kept. */
static void test_default_queue_capacity(void **state)
{
    (void)state;
    static const struct { int64_t rate; uint32_t queue; int64_t want; } cases[] = {
        { -1, 0, 4096 }, { 65536, 0, 4096 }, { 0, 0, 4096 }, { 65535, 0, 65536 }, { 1, 0, 65536 },
        { -1, 100, 100 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[256], name[32];
        snprintf(name, sizeof name, "queue%zu.sqlite", i);
        start_recording(path, name, cases[i].rate, cases[i].queue);
        gct_profiler_stop();
        sqlite3 *db = open_db(path);
        assert_int_equal(q_int(db, "SELECT value FROM meta WHERE key = 'queue_capacity'"), cases[i].want);
        sqlite3_close(db);
    }
}

static void test_dropped_with_tiny_queue(void **state)
{
    (void)state;
    char path[256];
    start_recording(path, "dropped.sqlite", 1, 2);
    run_threads();
    gct_profiler_stop();
    gct_profiler_stats st;
    gct_profiler_get_stats(&st);
    sqlite3 *db = open_db(path);
    int64_t rows = q_int(db, "SELECT count(*) FROM samples s WHERE " LEAF_FN_SQL " = 'thread_site'");
    print_message("queue of 2: %lld written, %llu dropped\n", (long long)rows, (unsigned long long)st.dropped_samples);
    assert_true(st.dropped_samples > 0);
    /* nothing silent: every allocation is either a row or counted as dropped */
    assert_int_equal(rows + (int64_t)st.dropped_samples, NTHREADS * PER_THREAD);
    assert_int_equal(q_int(db, "SELECT value FROM meta WHERE key = 'dropped_samples'"), (int64_t)st.dropped_samples);
    assert_int_equal(q_int(db, "SELECT value FROM meta WHERE key = 'queue_capacity'"), 2);
    sqlite3_close(db);
}

/* ---- SIGKILL ---- */

static void test_sigkill_mid_run(void **state)
{
    (void)state;
    char path[256];
    db_path(path, sizeof path, "killed.sqlite");
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        if (start(path, 4096, 0) != 0)
            _exit(3);
        int told = 0;
        for (unsigned long i = 0;; i++) {
            deep_outer();
            if (!told && (i & 1023) == 0) {
                gct_profiler_stats st;
                gct_profiler_get_stats(&st);
                if (st.written_samples > 2000 && st.frames_pending == 0) {
                    usleep(300 * 1000);   /* a few flush intervals */
                    if (write(pfd[1], "x", 1) != 1)
                        _exit(4);
                    told = 1;
                }
            }
        }
    }
    close(pfd[1]);
    char c;
    assert_int_equal(read(pfd[0], &c, 1), 1);
    close(pfd[0]);
    kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    sqlite3 *db = open_db(path);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    int64_t n = q_int(db, "SELECT count(*) FROM samples");
    print_message("killed child left %lld samples\n", (long long)n);
    assert_true(n > 2000);
    assert_int_equal(q_int(db, "SELECT count(*) FROM samples WHERE stack_id NOT IN (SELECT id FROM stacks)"), 0);
    assert_int_equal(q_int(db, "SELECT value FROM meta WHERE key = 'clean_exit'"), 0);
    assert_true(q_int(db, "SELECT value FROM meta WHERE key = 'samples'") > 0);
    assert_true(q_int(db, "SELECT count(*) FROM frames WHERE function = 'deep_leaf'") == 1);
    sqlite3_close(db);
}

/* ---- tuner events and GC listeners ---- */

static void test_tuner_event(void **state)
{
    (void)state;
    char path[256];
    assert_int_equal(gct_profiler_tuner_event("gogc", 100, 150, "not running", NULL), -1);
    start_recording(path, "tuner.sqlite", 0, 0);
    assert_int_equal(gct_profiler_tuner_event("gogc", 100, 150, "GC CPU 9% over the 5% goal", "{\"gc_cpu\":0.09}"), 0);
    assert_int_equal(gct_profiler_tuner_event("memory_limit", INT64_MIN, 1 << 30, "budget from cgroup", NULL), 0);
    gct_profiler_stop();
    sqlite3 *db = open_db(path);
    assert_int_equal(q_int(db, "SELECT count(*) FROM tuner_events"), 2);
    assert_int_equal(q_int(db, "SELECT count(*) FROM tuner_events WHERE knob = 'gogc' AND old_value = 100 "
                               "AND new_value = 150 AND reason LIKE 'GC CPU 9%' AND measurements = '{\"gc_cpu\":0.09}'"), 1);
    assert_int_equal(q_int(db, "SELECT count(*) FROM tuner_events WHERE knob = 'memory_limit' AND old_value IS NULL "
                               "AND new_value = 1073741824 AND measurements IS NULL"), 1);
    sqlite3_close(db);
}

static int listener_calls;
static uint32_t listener_last;
static void listener(const gct_gc_event *ev, void *arg)
{
    listener_calls += arg == &listener_calls;
    listener_last = ev->num;
}

static void test_gc_listener(void **state)
{
    (void)state;
    const gct_backend *b = gct_backend_libgc();
    assert_true(b->caps & GCT_CAP_GC_EVENTS);
    assert_int_equal(b->add_gc_listener(listener, &listener_calls), 0);
    gc_collect();
    gc_collect();
    assert_int_equal(listener_calls, 2);
    gc_stats st;
    gc_read_stats(&st);
    assert_int_equal(listener_last, st.num_gc);
    b->remove_gc_listener(listener, &listener_calls);
    gc_collect();
    assert_int_equal(listener_calls, 2);
}

/* ---- errors ---- */

static void test_unwritable_path(void **state)
{
    (void)state;
    gct_profiler_config cfg;
    gct_profiler_config_init(&cfg);
    cfg.db_path = "/nonexistent-dir/x.sqlite";
    cfg.quiet = 1;
    assert_int_equal(gct_profiler_start(&cfg), -1);
    assert_int_equal(errno, ENOENT);
    assert_null(gct_profiler_path());
    /* the program runs on: allocation works, and a later start succeeds */
    assert_non_null(gc_malloc(100));
    char path[256];
    start_recording(path, "after-%p.sqlite", 1, 0);
    char want[256];
    snprintf(want, sizeof want, "%s/after-%ld.sqlite", tmpdir, (long)getpid());
    assert_string_equal(gct_profiler_path(), want);
    assert_int_equal(start(path, 1, 0), -1);   /* already running */
    assert_int_equal(errno, EBUSY);
    gct_profiler_stop();
    gct_profiler_stop();   /* twice is harmless */
    assert_int_equal(access(want, R_OK), 0);
}

static int group_setup(void **state)
{
    if (!mkdtemp(tmpdir))
        return -1;
    return tu_group_setup(state);
}

static int group_teardown(void **state)
{
    (void)state;
    if (!getenv("GCTUNE_KEEP_TEST_FILES")) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            return -1;
    }
    return 0;
}

/* The helper's symbolizer thread when the profiled program is already
 * gone (killed before the helper had started it, as happens on a loaded
 * machine; CI once saw a recording of 2301 samples with no frame named):
 * it names frames from the helper's own modules, the program's as of the
 * fork.  Here the "program" is a reaped child, and the ip one of ours
 * (a return address: the lookup is of ip - 1). */
static int symq_seen_mapping(const gctp_mapping *m, void *arg)
{
    (void)m;
    (void)arg;
    return 0;
}

static int symq_seen_frame(uint64_t ip, const gctp_sym *s, int found, void *arg)
{
    char *name = arg;
    (void)ip;
    snprintf(name, 128, "%s", found && s->function ? s->function : "(none)");
    return 0;
}

static __attribute__((noinline)) int symq_target_fn(int x)
{
    return x * 3 + 1;
}

static void test_symq_target_gone(void **state)
{
    (void)state;
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    assert_int_equal(waitpid(child, NULL, 0), child);
    int helper = gctp.helper, target = gctp.target_pid;
    gctp.helper = 1;
    gctp.target_pid = (int)child;
    assert_int_equal(gctp_symq_start(), 0);
    assert_int_equal(gctp_symq_add((uint64_t)(uintptr_t)&symq_target_fn + 1), 0);
    gctp_symq_wait_idle();
    char name[128] = "";
    assert_int_equal(gctp_symq_collect(symq_seen_mapping, symq_seen_frame, name), 0);
    gctp_symq_stop();
    gctp.helper = helper;
    gctp.target_pid = target;
    assert_int_equal(symq_target_fn(1), 4);
    assert_string_equal(name, "symq_target_fn");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_at_rate_1),
        cmocka_unit_test(test_accuracy_default_rate),
        cmocka_unit_test(test_stack_order),
        cmocka_unit_test(test_inuse_collector_frees),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_default_queue_capacity),
        cmocka_unit_test(test_stats_during_stop),
        cmocka_unit_test(test_helper_mode),
        cmocka_unit_test(test_symq_target_gone),
        cmocka_unit_test(test_dropped_with_tiny_queue),
        cmocka_unit_test(test_sigkill_mid_run),
        cmocka_unit_test(test_unwritable_path),
        cmocka_unit_test(test_tuner_event),
        cmocka_unit_test(test_gc_listener),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
