/* test_store.c - the run database helpers (store/store.h).
 *
 * What is checked: every table written by the writer reads back with plain
 * SQL, NULLs included; the file is created 0600 whatever the umask and
 * replaces an old database and its stale -wal; stacks.frames parsing on
 * huge and garbage input never writes past max; gcts_open_read's error
 * messages, one per kind of bad file; rows committed before a SIGKILL
 * survive it and rows of the open transaction do not; indexes are built on
 * a writable file and skipped on a read-only one; a path's claim
 * (gcts_claim_path) is held by one descriptor at a time, whatever the
 * spelling of the path, lives on in a fork's copy, and ends with the last
 * copy or a SIGKILL; gcts_create refuses a claimed path without touching
 * its file, and a database holds its claim until gcts_close.
 *
 * Every file lives in one mkdtemp directory, removed by the group teardown.
 * Read-only and unreadable files need a user the permission bits apply
 * to: when the tests run as root, those checks run in a child that first
 * drops to nobody (uid/gid 65534).  Children never use cmocka asserts:
 * they report through their exit status.  Nothing asserts on time.
 */
#define _GNU_SOURCE   /* nftw, MAP_ANONYMOUS, setgroups */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "store.h"

#define NOBODY 65534

static char dir[256];

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static int group_setup(void **state)
{
    (void)state;
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/test_store.XXXXXX", t && *t ? t : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    chmod(dir, 0700);
    return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* dir/name in a static rotating buffer (4 live at a time). */
static const char *in_dir(const char *name)
{
    static char buf[4][512];
    static int next;
    char *b = buf[next++ & 3];
    snprintf(b, sizeof buf[0], "%s/%s", dir, name);
    return b;
}

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    assert_int_equal(sqlite3_finalize(st), SQLITE_OK);
    return v;
}

/* The text of the one row sql returns, in buf. */
static const char *query_text(sqlite3 *db, const char *sql, char *buf, size_t len)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(st, 0);
    snprintf(buf, len, "%s", t ? (const char *)t : "(null)");
    assert_int_equal(sqlite3_finalize(st), SQLITE_OK);
    return buf;
}

static void integrity_ok(sqlite3 *db)
{
    char buf[256];
    assert_string_equal(query_text(db, "PRAGMA integrity_check", buf, sizeof buf), "ok");
}

/* Column checks on a statement positioned on a row. */
static void col_int(sqlite3_stmt *st, int i, int64_t v)
{
    assert_int_equal(sqlite3_column_type(st, i), SQLITE_INTEGER);
    assert_true(sqlite3_column_int64(st, i) == v);
}

static void col_null(sqlite3_stmt *st, int i)
{
    assert_int_equal(sqlite3_column_type(st, i), SQLITE_NULL);
}

static void col_text(sqlite3_stmt *st, int i, const char *s)
{
    assert_int_equal(sqlite3_column_type(st, i), SQLITE_TEXT);
    assert_string_equal((const char *)sqlite3_column_text(st, i), s);
}

static void col_real(sqlite3_stmt *st, int i, double v)
{
    assert_int_equal(sqlite3_column_type(st, i), SQLITE_FLOAT);
    assert_true(sqlite3_column_double(st, i) == v);
}

/* A statement over sql, stepped onto its first row (or to its end). */
static sqlite3_stmt *rows(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    return st;
}

static void next_row(sqlite3_stmt *st)
{
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
}

static void no_more_rows(sqlite3_stmt *st)
{
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    assert_int_equal(sqlite3_finalize(st), SQLITE_OK);
}

/* Shared with the children of in_child(): a message they pass back. */
static char *child_msg;
#define CHILD_MSG_LEN 1024

/* Runs fn(arg) in a child, as nobody when we are root (so that permission
 * bits apply); returns its exit status (fn's return value), or -1 if it
 * did not exit.  fn may leave a line in child_msg. */
static int in_child(int (*fn)(void *), void *arg)
{
    if (!child_msg) {
        child_msg = mmap(NULL, CHILD_MSG_LEN, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        assert_true(child_msg != MAP_FAILED);
    }
    child_msg[0] = '\0';
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0
            && (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0))
            _exit(100);
        _exit(fn(arg));
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ------------------------------------------------------------------ */
/* Round trip                                                           */

static void test_round_trip(void **state)
{
    (void)state;
    const char *path = in_dir("round.db");
    char err[512] = "";
    gcts_db *db = gcts_create(path, err, sizeof err);
    assert_non_null(db);
    assert_string_equal(gcts_path(db), path);
    assert_non_null(gcts_sqlite(db));

    assert_int_equal(gcts_begin(db), 0);
    assert_int_equal(gcts_set_meta(db, "program", "./a.out \"quoted\" 'x'"), 0);
    assert_int_equal(gcts_set_meta(db, "program", "./prog"), 0);   /* replaces */
    assert_int_equal(gcts_set_meta(db, "host", NULL), 0);
    assert_int_equal(gcts_set_meta_int(db, "pid", 4242), 0);
    assert_int_equal(gcts_set_meta_int(db, "start_time_ns", INT64_MIN + 1), 0);

    gcts_mapping m1 = { 0, "/usr/bin/prog", "0badc0de", 0x555500000000ull, 0x555500100000ull, 0 };
    gcts_mapping m2 = { 7, "/lib/libc.so.6", NULL, 0x7f0000000000ull, 0x7f0000200000ull, 0x1000 };
    int64_t id1 = gcts_add_mapping(db, &m1);
    assert_true(id1 > 0);
    assert_true(gcts_add_mapping(db, &m2) == 7);
    gcts_mapping m3 = { 0, "/lib/ld.so", NULL, 1, 2, 3 };
    int64_t id3 = gcts_add_mapping(db, &m3);
    assert_true(id3 > 7);

    gcts_frame f1 = { 0x555500001234ull, "main", "prog.c", 42, "/usr/bin/prog", id1 };
    gcts_frame f2 = { 0x7f0000001000ull, NULL, NULL, 0, NULL, 0 };
    gcts_frame f2b = { 0x7f0000001000ull, "malloc", NULL, 0, "/lib/libc.so.6", 7 };
    assert_int_equal(gcts_add_frame(db, &f1), 0);
    assert_int_equal(gcts_add_frame(db, &f2), 0);

    uint64_t ips[3] = { 0x7f0000001000ull, 0x555500001234ull, 0xffffffffffffffffull };
    assert_int_equal(gcts_add_stack(db, 1, 0xfedcba9876543210ull, ips, 3), 0);
    assert_int_equal(gcts_add_stack(db, 2, 5, ips, 0), 0);
    uint64_t zero = 0;
    assert_int_equal(gcts_add_stack(db, 3, 0, &zero, 1), 0);

    gcts_sample s1 = { 1, 100, 0x7f00deadbeefull, 48, 1, 1.0, -1, 1234 };
    gcts_sample s2 = { 2, 200, 0xfffffffffffffff0ull, 1ull << 40, 2, 17.25, 999, 5678 };
    gcts_sample s3 = { 3, 300, 0x1000, 8, 3, 2.5, -7, 0 };
    assert_int_equal(gcts_add_sample(db, &s1), 0);
    assert_int_equal(gcts_add_sample(db, &s2), 0);
    assert_int_equal(gcts_add_sample(db, &s3), 0);
    assert_int_equal(gcts_commit(db), 0);

    /* Outside a transaction, each statement commits on its own. */
    assert_int_equal(gcts_add_frame(db, &f2b), 0);   /* replaces by ip */
    assert_int_equal(gcts_mark_freed(db, 1, 150), 0);
    assert_int_equal(gcts_mark_freed(db, 2, -1), 0);   /* back to NULL */
    assert_int_equal(gcts_mark_freed(db, 99, 150), 1);   /* no such sample: not an error */

    gcts_gc_cycle c;
    gcts_gc_cycle_init(&c);
    assert_true(c.num == GCTS_NULL && c.procs == GCTS_NULL && isnan(c.gc_cpu_fraction));
    c.num = 1;
    c.start_ns = 10;
    c.end_ns = 90;   /* replaced below */
    assert_int_equal(gcts_add_gc_cycle(db, &c), 0);
    c.end_ns = 20;
    c.pause_ns = 3;
    assert_int_equal(gcts_add_gc_cycle(db, &c), 0);   /* replaces by num */
    gcts_gc_cycle full = { 2, 1, 2, 3, 4, 5, 6, 7, 100, -1, 11, 12, 13, 14, 1, 0, 4, 0.125 };
    assert_int_equal(gcts_add_gc_cycle(db, &full), 0);

    gcts_heap_point hp;
    gcts_heap_point_init(&hp);
    assert_true(hp.time_ns == GCTS_NULL && isnan(hp.gc_cpu_fraction));
    hp.time_ns = 100000000;
    hp.rss = 4096;
    assert_int_equal(gcts_add_heap_point(db, &hp), 0);
    gcts_heap_point hp2 = { 200000000, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0.5 };
    assert_int_equal(gcts_add_heap_point(db, &hp2), 0);

    gcts_tuner_event e1 = { 500, "gogc", 100, 150, "heap goal too small", "{\"a\":1}" };
    gcts_tuner_event e2 = { 600, "policy", GCTS_NULL, GCTS_NULL, "notice", NULL };
    assert_int_equal(gcts_add_tuner_event(db, &e1), 0);
    assert_int_equal(gcts_add_tuner_event(db, &e2), 0);

    /* Failures: constraint violations name the file and leave the db usable. */
    assert_int_equal(gcts_add_sample(db, &s1), -1);   /* duplicate id */
    assert_non_null(strstr(gcts_errmsg(db), path));
    assert_non_null(strstr(gcts_errmsg(db), "UNIQUE"));
    gcts_tuner_event bad = { 1, NULL, 0, 0, "r", NULL };   /* knob NOT NULL */
    assert_int_equal(gcts_add_tuner_event(db, &bad), -1);
    assert_int_equal(gcts_add_stack(db, 4, 0, NULL, 2), -1);
    assert_int_equal(gcts_add_stack(db, 4, 0, ips, -1), -1);
    gcts_close(db);

    db = gcts_open_read(path, err, sizeof err);
    assert_non_null(db);
    sqlite3 *q = gcts_sqlite(db);
    char buf[256];
    assert_int_equal(gcts_schema_version(db), GCTS_SCHEMA_VERSION);
    assert_int_equal(query_int(q, "PRAGMA user_version"), GCTS_SCHEMA_VERSION);
    assert_string_equal(query_text(q, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    int64_t v = 0;
    assert_int_equal(gcts_get_meta_int(db, "schema_version", &v), 0);
    assert_true(v == GCTS_SCHEMA_VERSION);
    assert_int_equal(gcts_get_meta_int(db, "pid", &v), 0);
    assert_true(v == 4242);
    assert_int_equal(gcts_get_meta_int(db, "start_time_ns", &v), 0);
    assert_true(v == INT64_MIN + 1);
    assert_int_equal(gcts_get_meta_int(db, "program", &v), -1);   /* not a number */
    assert_int_equal(gcts_get_meta(db, "program", buf, sizeof buf), 0);
    assert_string_equal(buf, "./prog");
    char small[4];
    assert_int_equal(gcts_get_meta(db, "program", small, sizeof small), 0);
    assert_string_equal(small, "./p");   /* truncated, terminated */
    assert_int_equal(gcts_get_meta(db, "host", buf, sizeof buf), -1);   /* NULL value */
    assert_int_equal(gcts_get_meta(db, "no such key", buf, sizeof buf), -1);
    assert_non_null(strstr(gcts_errmsg(db), "no such key"));

    sqlite3_stmt *st = rows(q, "SELECT key, value FROM meta ORDER BY key");
    next_row(st); col_text(st, 0, "host"); col_null(st, 1);
    next_row(st); col_text(st, 0, "pid"); col_text(st, 1, "4242");
    next_row(st); col_text(st, 0, "program"); col_text(st, 1, "./prog");
    next_row(st); col_text(st, 0, "schema_version"); col_text(st, 1, "1");
    next_row(st); col_text(st, 0, "start_time_ns"); col_text(st, 1, "-9223372036854775807");
    no_more_rows(st);

    st = rows(q, "SELECT id, path, build_id, start, end, file_offset FROM mappings ORDER BY id");
    next_row(st); col_int(st, 0, id1); col_text(st, 1, "/usr/bin/prog"); col_text(st, 2, "0badc0de");
    col_int(st, 3, 0x555500000000ll); col_int(st, 4, 0x555500100000ll); col_int(st, 5, 0);
    next_row(st); col_int(st, 0, 7); col_text(st, 1, "/lib/libc.so.6"); col_null(st, 2);
    col_int(st, 3, 0x7f0000000000ll); col_int(st, 4, 0x7f0000200000ll); col_int(st, 5, 0x1000);
    next_row(st); col_int(st, 0, id3); col_text(st, 1, "/lib/ld.so"); col_null(st, 2);
    col_int(st, 3, 1); col_int(st, 4, 2); col_int(st, 5, 3);
    no_more_rows(st);

    st = rows(q, "SELECT ip, function, file, line, module, mapping_id FROM frames ORDER BY ip");
    next_row(st); col_int(st, 0, 0x555500001234ll); col_text(st, 1, "main"); col_text(st, 2, "prog.c");
    col_int(st, 3, 42); col_text(st, 4, "/usr/bin/prog"); col_int(st, 5, id1);
    next_row(st); col_int(st, 0, 0x7f0000001000ll); col_text(st, 1, "malloc"); col_null(st, 2);
    col_int(st, 3, 0); col_text(st, 4, "/lib/libc.so.6"); col_int(st, 5, 7);
    no_more_rows(st);

    st = rows(q, "SELECT id, hash, depth, frames FROM stacks ORDER BY id");
    next_row(st); col_int(st, 0, 1); col_int(st, 1, (int64_t)0xfedcba9876543210ull); col_int(st, 2, 3);
    col_text(st, 3, "139637976731648 93823560585780 18446744073709551615");
    uint64_t back[8];
    assert_int_equal(gcts_parse_frames((const char *)sqlite3_column_text(st, 3), back, 8), 3);
    assert_memory_equal(back, ips, sizeof ips);
    next_row(st); col_int(st, 0, 2); col_int(st, 1, 5); col_int(st, 2, 0); col_text(st, 3, "");
    next_row(st); col_int(st, 0, 3); col_int(st, 1, 0); col_int(st, 2, 1); col_text(st, 3, "0");
    no_more_rows(st);

    st = rows(q, "SELECT id, time_ns, address, size, stack_id, weight, freed_ns, thread"
                 " FROM samples ORDER BY id");
    next_row(st); col_int(st, 0, 1); col_int(st, 1, 100); col_int(st, 2, 0x7f00deadbeefll);
    col_int(st, 3, 48); col_int(st, 4, 1); col_real(st, 5, 1.0); col_int(st, 6, 150); col_int(st, 7, 1234);
    next_row(st); col_int(st, 0, 2); col_int(st, 1, 200);
    assert_true((uint64_t)sqlite3_column_int64(st, 2) == 0xfffffffffffffff0ull);
    col_int(st, 3, 1ll << 40); col_int(st, 4, 2); col_real(st, 5, 17.25); col_null(st, 6); col_int(st, 7, 5678);
    next_row(st); col_int(st, 0, 3); col_null(st, 6); col_int(st, 7, 0);
    no_more_rows(st);

    st = rows(q, "SELECT * FROM gc_cycles ORDER BY num");
    assert_int_equal(sqlite3_column_count(st), 18);
    next_row(st); col_int(st, 0, 1); col_int(st, 1, 10); col_int(st, 2, 20); col_int(st, 3, 3);
    for (int i = 4; i < 18; i++)
        col_null(st, i);
    next_row(st);
    for (int i = 0; i < 17; i++) {
        int64_t want[17] = { 2, 1, 2, 3, 4, 5, 6, 7, 100, -1, 11, 12, 13, 14, 1, 0, 4 };
        col_int(st, i, want[i]);
    }
    col_real(st, 17, 0.125);
    no_more_rows(st);

    st = rows(q, "SELECT * FROM heap_series ORDER BY time_ns");
    assert_int_equal(sqlite3_column_count(st), 12);
    next_row(st); col_int(st, 0, 100000000);
    for (int i = 1; i < 12; i++) {
        if (i == 4)
            col_int(st, i, 4096);
        else
            col_null(st, i);
    }
    next_row(st); col_int(st, 0, 200000000);
    for (int i = 1; i < 11; i++)
        col_int(st, i, i);
    col_real(st, 11, 0.5);
    no_more_rows(st);

    st = rows(q, "SELECT time_ns, knob, old_value, new_value, reason, measurements"
                 " FROM tuner_events ORDER BY id");
    next_row(st); col_int(st, 0, 500); col_text(st, 1, "gogc"); col_int(st, 2, 100); col_int(st, 3, 150);
    col_text(st, 4, "heap goal too small"); col_text(st, 5, "{\"a\":1}");
    next_row(st); col_int(st, 0, 600); col_text(st, 1, "policy"); col_null(st, 2); col_null(st, 3);
    col_text(st, 4, "notice"); col_null(st, 5);
    no_more_rows(st);

    integrity_ok(q);
    gcts_close(db);
    gcts_close(NULL);
    assert_string_equal(gcts_errmsg(NULL), "no database");
}

/* ------------------------------------------------------------------ */
/* Creation                                                             */

static void test_create_mode_0600(void **state)
{
    (void)state;
    mode_t old = umask(0);
    const char *path = in_dir("mode.db");
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", path);
    char err[512];
    gcts_db *db = gcts_create(path, err, sizeof err);
    umask(old);
    assert_non_null(db);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    gcts_sample s = { 1, 1, 1, 1, 1, 1.0, -1, 1 };
    assert_int_equal(gcts_add_sample(db, &s), 0);
    assert_int_equal(stat(wal, &st), 0);   /* SQLite copies the database's mode */
    assert_int_equal(st.st_mode & 07777, 0600);
    gcts_close(db);
    assert_false(file_exists(wal));   /* checkpointed and removed at close */
}

static void test_create_errors(void **state)
{
    (void)state;
    char err[512];
    const char *path = in_dir("no/such/dir.db");
    assert_null(gcts_create(path, err, sizeof err));
    char want[600];
    snprintf(want, sizeof want, "%s: cannot create: %s", path, strerror(ENOENT));
    assert_string_equal(err, want);

    assert_null(gcts_create(dir, err, sizeof err));   /* a directory */
    assert_non_null(strstr(err, ": cannot create: "));
    assert_null(gcts_create(path, NULL, 0));            /* no err buffer: fine */
    assert_null(gcts_create(NULL, err, sizeof err));
}

/* The writer's half of the crash test: creates path, commits `batches`
 * transactions of `per` samples, opens one more with `open_rows` samples,
 * says so on fd and waits to be killed.  Exit status: what failed. */
struct crash_writer {
    const char *path;
    int batches, per, open_rows;
    int fd;
};

static int crash_writer(const struct crash_writer *w)
{
    char err[512];
    gcts_db *db = gcts_create(w->path, err, sizeof err);
    if (!db)
        return 1;
    if (gcts_set_meta(db, "program", "crash") != 0)
        return 2;
    int64_t id = 1;
    for (int b = 0; b <= w->batches; b++) {
        int n = b < w->batches ? w->per : w->open_rows;
        if (gcts_begin(db) != 0)
            return 3;
        for (int i = 0; i < n; i++, id++) {
            gcts_sample s = { id, id * 10, 0x7f0000000000ull + (uint64_t)id * 16, 32,
                              1 + id % 5, 1.5, id % 2 ? -1 : id * 10 + 5, 77 };
            if (gcts_add_sample(db, &s) != 0)
                return 4;
        }
        if (b < w->batches && gcts_commit(db) != 0)
            return 5;
    }
    /* Inside the open transaction: tell the parent, then wait for SIGKILL. */
    char c = 'k';
    if (write(w->fd, &c, 1) != 1)
        return 6;
    for (;;)
        pause();
}

/* Runs crash_writer in a child and SIGKILLs it inside its open transaction. */
static void crash_run(const char *path, int batches, int per, int open_rows)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        struct crash_writer w = { path, batches, per, open_rows, fds[1] };
        _exit(crash_writer(&w));
    }
    close(fds[1]);
    char c = 0;
    ssize_t n;
    while ((n = read(fds[0], &c, 1)) < 0 && errno == EINTR)
        ;
    close(fds[0]);
    if (n == 1)
        assert_int_equal(kill(pid, SIGKILL), 0);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    if (n != 1)
        fail_msg("writer child failed early (status %d)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void test_create_replaces_old_db_and_stale_wal(void **state)
{
    (void)state;
    const char *path = in_dir("replace.db");
    char wal[600], shm[600], journal[600];
    snprintf(wal, sizeof wal, "%s-wal", path);
    snprintf(shm, sizeof shm, "%s-shm", path);
    snprintf(journal, sizeof journal, "%s-journal", path);

    /* A killed writer leaves a database whose rows live in its -wal. */
    crash_run(path, 3, 500, 10);
    assert_true(file_exists(wal));
    assert_true(file_exists(shm));
    write_file(journal, "stale journal", 13);

    char err[512];
    gcts_db *db = gcts_create(path, err, sizeof err);
    assert_non_null(db);
    assert_false(file_exists(journal));
    assert_int_equal(query_int(gcts_sqlite(db), "SELECT count(*) FROM samples"), 0);
    assert_int_equal(query_int(gcts_sqlite(db), "SELECT count(*) FROM meta"), 1);
    gcts_sample s = { 1, 1, 1, 1, 1, 1.0, -1, 1 };
    assert_int_equal(gcts_add_sample(db, &s), 0);
    gcts_close(db);

    db = gcts_open_read(path, err, sizeof err);
    assert_non_null(db);
    assert_int_equal(query_int(gcts_sqlite(db), "SELECT count(*) FROM samples"), 1);
    char buf[64];
    assert_int_equal(gcts_get_meta(db, "program", buf, sizeof buf), -1);
    integrity_ok(gcts_sqlite(db));
    gcts_close(db);

    /* Junk at every name is replaced too. */
    write_file(path, "junk", 4);
    write_file(wal, "junk wal", 8);
    write_file(shm, "junk shm", 8);
    db = gcts_create(path, err, sizeof err);
    assert_non_null(db);
    assert_int_equal(query_int(gcts_sqlite(db), "SELECT count(*) FROM samples"), 0);
    integrity_ok(gcts_sqlite(db));
    gcts_close(db);
}

/* ------------------------------------------------------------------ */
/* Crash safety                                                         */

static void test_sigkill_keeps_committed_rows(void **state)
{
    (void)state;
    const char *path = in_dir("crash.db");
    enum { BATCHES = 7, PER = 3000, OPEN_ROWS = 60000 };   /* the open one spills to the WAL */
    crash_run(path, BATCHES, PER, OPEN_ROWS);

    char err[512];
    gcts_db *db = gcts_open_read(path, err, sizeof err);
    if (!db)
        fail_msg("%s", err);
    sqlite3 *q = gcts_sqlite(db);
    assert_int_equal(query_int(q, "SELECT count(*) FROM samples"), BATCHES * PER);
    assert_int_equal(query_int(q, "SELECT max(id) FROM samples"), BATCHES * PER);
    assert_int_equal(query_int(q, "SELECT count(*) FROM samples WHERE freed_ns IS NULL"),
                     BATCHES * PER / 2 + (BATCHES * PER) % 2);
    char buf[64];
    assert_int_equal(gcts_get_meta(db, "program", buf, sizeof buf), 0);
    assert_string_equal(buf, "crash");
    integrity_ok(q);
    assert_int_equal(gcts_build_indexes(db), 0);
    integrity_ok(q);
    gcts_close(db);
}

/* ------------------------------------------------------------------ */
/* The path's claim                                                     */

static int claim_busy(const char *path)
{
    int fd = gcts_claim_path(path);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    return errno == EBUSY ? 1 : -errno;
}

static void test_claim_path(void **state)
{
    (void)state;
    char same[600], other[600], longname[600], longname2[600];
    const char *path = in_dir("claim.db");
    snprintf(same, sizeof same, "%s/./claim.db", dir);
    snprintf(other, sizeof other, "%s/claim2.db", dir);
    /* no file is needed, and none is made */
    assert_false(file_exists(path));
    int fd = gcts_claim_path(path);
    assert_true(fd >= 3);
    assert_false(file_exists(path));
    assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    assert_int_equal(claim_busy(path), 1);
    assert_int_equal(claim_busy(same), 1);     /* another spelling */
    assert_int_equal(claim_busy(other), 0);    /* another file */

    /* a fork's copy holds it after ours is closed; its exit ends it */
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char c;
        close(go[1]);
        _exit(read(go[0], &c, 1) == 1 ? 0 : 1);
    }
    close(go[0]);
    close(fd);
    assert_int_equal(claim_busy(path), 1);
    assert_int_equal(write(go[1], "x", 1), 1);
    close(go[1]);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_int_equal(claim_busy(path), 0);

    /* SIGKILL ends it too */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (gcts_claim_path(path) < 0)
            _exit(1);
        raise(SIGSTOP);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &st, WUNTRACED), pid);
    assert_true(WIFSTOPPED(st));
    assert_int_equal(claim_busy(path), 1);
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_int_equal(claim_busy(path), 0);

    /* names too long for the socket address are hashed: still one per file */
    char as[201];
    memset(as, 'a', 200);
    as[200] = 0;
    snprintf(longname, sizeof longname, "%s/%sc", dir, as);
    snprintf(longname2, sizeof longname2, "%s/%sb", dir, as);
    fd = gcts_claim_path(longname);
    assert_true(fd >= 0);
    assert_int_equal(claim_busy(longname), 1);
    assert_int_equal(claim_busy(longname2), 0);   /* differs in the last byte only */
    close(fd);

    /* gcts_create claims the path: refused while another holds it, and
     * the file there is left alone; a database made by
     * gcts_create_claimed owns the claim until gcts_close */
    char err[512];
    fd = gcts_claim_path(other);
    assert_true(fd >= 0);
    FILE *f = fopen(other, "w");
    assert_non_null(f);
    fputs("someone else's", f);
    fclose(f);
    errno = 0;
    assert_null(gcts_create(other, err, sizeof err));
    assert_int_equal(errno, EBUSY);
    assert_non_null(strstr(err, "another recording is writing this database"));
    struct stat sb;
    assert_int_equal(stat(other, &sb), 0);
    assert_int_equal(sb.st_size, 14);
    gcts_db *db = gcts_create_claimed(other, fd, NULL, NULL, err, sizeof err);
    if (!db)
        fail_msg("%s", err);
    assert_int_equal(claim_busy(other), 1);
    gcts_close(db);
    assert_int_equal(claim_busy(other), 0);
    db = gcts_create(other, err, sizeof err);
    if (!db)
        fail_msg("%s", err);
    assert_int_equal(claim_busy(other), 1);
    gcts_close(db);
    assert_int_equal(claim_busy(other), 0);

    /* errors */
    assert_int_equal(gcts_claim_path(in_dir("no/such/dir.db")), -1);
    assert_int_equal(errno, ENOENT);
    char slash[600];
    snprintf(slash, sizeof slash, "%s/", dir);
    assert_int_equal(gcts_claim_path(slash), -1);
    assert_int_equal(errno, EISDIR);
}

/* gcts_close_unsynced: the same database as gcts_close leaves (WAL
 * checkpointed into the file, -wal and -shm gone, the claim ended), plus
 * a read-only, close-on-exec descriptor of that file for the caller's
 * fdatasync; NULL gives -1. */
static void test_close_unsynced(void **state)
{
    (void)state;
    const char *path = in_dir("unsynced.db");
    char wal[600], shm[600], err[512] = "";
    snprintf(wal, sizeof wal, "%s-wal", path);
    snprintf(shm, sizeof shm, "%s-shm", path);
    gcts_db *db = gcts_create(path, err, sizeof err);
    if (!db)
        fail_msg("%s", err);
    assert_int_equal(gcts_begin(db), 0);
    for (int i = 1; i <= 2000; i++) {
        gcts_sample s = { i, 10 * i, 0x1000 + 16 * (uint64_t)i, 32, 1, 1.0, -1, 1 };
        assert_int_equal(gcts_add_sample(db, &s), 0);
    }
    assert_int_equal(gcts_set_meta(db, "program", "unsynced"), 0);
    assert_int_equal(gcts_commit(db), 0);
    assert_true(file_exists(wal));   /* the rows are in the WAL so far */
    int fd = gcts_close_unsynced(db);
    assert_true(fd >= 0);
    int fl = fcntl(fd, F_GETFD);
    assert_true(fl >= 0 && (fl & FD_CLOEXEC));
    assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
    struct stat a, b;
    assert_int_equal(fstat(fd, &a), 0);
    assert_int_equal(stat(path, &b), 0);
    assert_true(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
    assert_int_equal(fdatasync(fd), 0);
    close(fd);
    assert_false(file_exists(wal));
    assert_false(file_exists(shm));
    assert_int_equal(claim_busy(path), 0);   /* the claim ended with the close */
    sqlite3 *q = NULL;
    assert_int_equal(sqlite3_open_v2(path, &q, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(query_int(q, "SELECT count(*) FROM samples"), 2000);
    assert_int_equal(query_int(q, "SELECT sum(time_ns) FROM samples"), 10 * 2000 * 2001 / 2);
    integrity_ok(q);
    sqlite3_close(q);
    assert_int_equal(gcts_close_unsynced(NULL), -1);
}

/* gcts_create_claimed's init runs before the file is at its path (a
 * reader can never find the database without what init writes), and
 * its rows are there when the file appears; an init that fails leaves
 * nothing at the path (nor the temporary file), ends the claim and gives
 * its error. */
struct init_probe {
    const char *path;
    int calls, path_existed, fail;
};

static int init_cb(gcts_db *db, void *arg)
{
    struct init_probe *p = arg;
    p->calls++;
    p->path_existed = file_exists(p->path);
    if (gcts_set_meta(db, "profiler_mode", "helper") != 0 || gcts_set_meta_int(db, "writer_pid", 4242) != 0)
        return -1;
    if (p->fail == 1)
        return gcts_set_meta(db, NULL, "x");   /* fails, with gcts's message */
    return p->fail == 2 ? -1 : 0;              /* fails without one */
}

static void test_create_init(void **state)
{
    (void)state;
    const char *path = in_dir("init.db");
    char err[512] = "";
    struct init_probe p = { path, 0, 0, 0 };
    gcts_db *db = gcts_create_claimed(path, -1, init_cb, &p, err, sizeof err);
    if (!db)
        fail_msg("%s", err);
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.path_existed, 0);
    assert_int_equal(claim_busy(path), 1);
    sqlite3 *q = NULL;   /* another connection sees init's rows at once */
    assert_int_equal(sqlite3_open_v2(path, &q, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(query_int(q, "SELECT count(*) FROM meta WHERE key = 'profiler_mode' AND value = 'helper'"), 1);
    assert_int_equal(query_int(q, "SELECT value FROM meta WHERE key = 'writer_pid'"), 4242);
    sqlite3_close(q);
    /* the temporary file was built with SQLite's syncs off; the
     * handed-out connection writes its first transaction (the WAL's
     * header) without a sync or a checkpoint, then is the usual one:
     * synchronous=NORMAL (1), checkpoints every 1000 pages */
    assert_int_equal(query_int(gcts_sqlite(db), "PRAGMA synchronous"), 0);
    assert_int_equal(query_int(gcts_sqlite(db), "PRAGMA wal_autocheckpoint"), 0);
    /* the statements init prepared were finalized with the temporary
     * connection: the handed-out database prepares its own */
    assert_int_equal(gcts_begin(db), 0);
    assert_int_equal(gcts_set_meta(db, "program", "init"), 0);
    assert_int_equal(query_int(gcts_sqlite(db), "PRAGMA synchronous"), 0);
    assert_int_equal(gcts_commit(db), 0);
    assert_int_equal(query_int(gcts_sqlite(db), "PRAGMA synchronous"), 1);
    assert_int_equal(query_int(gcts_sqlite(db), "PRAGMA wal_autocheckpoint"), 1000);
    assert_int_equal(gcts_begin(db), 0);
    assert_int_equal(gcts_set_meta(db, "program", "init2"), 0);
    assert_int_equal(gcts_commit(db), 0);
    assert_int_equal(query_int(gcts_sqlite(db), "PRAGMA synchronous"), 1);
    gcts_close(db);
    assert_int_equal(claim_busy(path), 0);

    for (int mode = 1; mode <= 2; mode++) {
        const char *bad = in_dir(mode == 1 ? "init-fail1.db" : "init-fail2.db");
        struct init_probe f = { bad, 0, 0, mode };
        err[0] = 0;
        assert_null(gcts_create_claimed(bad, -1, init_cb, &f, err, sizeof err));
        assert_int_equal(f.calls, 1);
        assert_false(file_exists(bad));
        char tmpname[600];
        snprintf(tmpname, sizeof tmpname, "%s.tmp-%ld", bad, (long)getpid());
        assert_false(file_exists(tmpname));
        assert_int_equal(claim_busy(bad), 0);
        assert_non_null(strstr(err, mode == 1 ? "no key" : "cannot write the first records"));
    }
}

/* gcts_path_claimed tells a claimed path without taking its claim;
 * gcts_remove_db removes a database with its companions.  A reader
 * (gcts_open_read) that finds a claimed path without a file waits for the
 * recording being created there (a child claims, then creates the
 * database 300 ms later); an unclaimed missing path fails at once. */
static void test_open_read_waits_for_claimed_path(void **state)
{
    (void)state;
    const char *path = in_dir("claimed-later.db");
    char err[512] = "";
    assert_int_equal(gcts_path_claimed(path), 0);
    assert_int_equal(claim_busy(path), 0);   /* the probe took nothing */
    int fd = gcts_claim_path(path);
    assert_true(fd >= 0);
    assert_int_equal(gcts_path_claimed(path), 1);
    assert_int_equal(claim_busy(path), 1);
    close(fd);
    assert_int_equal(gcts_path_claimed(path), 0);
    assert_int_equal(gcts_path_claimed(NULL), 0);
    assert_int_equal(gcts_path_claimed(in_dir("no/such/dir.db")), 0);

    /* gcts_remove_db */
    char side[600];
    write_file(path, "x", 1);
    for (int i = 0; i < 3; i++) {
        static const char *const sfx[] = { "-wal", "-shm", "-journal" };
        snprintf(side, sizeof side, "%s%s", path, sfx[i]);
        write_file(side, "x", 1);
    }
    assert_int_equal(gcts_remove_db(path), 0);
    assert_false(file_exists(path));
    assert_false(file_exists(side));
    assert_int_equal(gcts_remove_db(path), 0);   /* nothing there: fine */
    assert_int_equal(gcts_remove_db(""), -1);

    /* unclaimed and missing: no wait */
    assert_null(gcts_open_read(path, err, sizeof err));
    assert_non_null(strstr(err, "no such file"));

    int sync[2];
    assert_int_equal(pipe(sync), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        int cfd = gcts_claim_path(path);
        char c = cfd >= 0 ? 'y' : 'n';
        if (write(sync[1], &c, 1) != 1 || cfd < 0)
            _exit(2);
        usleep(300000);
        char cerr[512];
        gcts_db *cdb = gcts_create_claimed(path, cfd, NULL, NULL, cerr, sizeof cerr);
        if (!cdb || gcts_set_meta(cdb, "program", "late") != 0)
            _exit(3);
        gcts_close(cdb);
        _exit(0);
    }
    char c = 0;
    assert_int_equal(read(sync[0], &c, 1), 1);
    assert_int_equal(c, 'y');
    close(sync[0]);
    close(sync[1]);
    gcts_db *db = gcts_open_read(path, err, sizeof err);
    if (!db)
        fail_msg("%s", err);
    gcts_close(db);
    int st = 0;
    assert_int_equal(waitpid(child, &st, 0), child);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    db = gcts_open_read(path, err, sizeof err);
    if (!db)
        fail_msg("%s", err);
    char v[32];
    assert_int_equal(gcts_get_meta(db, "program", v, sizeof v), 0);
    assert_string_equal(v, "late");
    gcts_close(db);
}

/* ------------------------------------------------------------------ */
/* Frames parsing                                                       */

static void test_parse_frames_basic(void **state)
{
    (void)state;
    uint64_t ips[8];
    assert_int_equal(gcts_parse_frames("0x1 0xabc 0XFF", ips, 8), 3);
    assert_true(ips[0] == 1 && ips[1] == 0xabc && ips[2] == 0xff);
    assert_int_equal(gcts_parse_frames("  0x10\t0x20\n", ips, 8), 2);
    assert_true(ips[0] == 0x10 && ips[1] == 0x20);
    assert_int_equal(gcts_parse_frames("0xffffffffffffffff 0x0", ips, 8), 2);
    assert_true(ips[0] == UINT64_MAX && ips[1] == 0);
    assert_int_equal(gcts_parse_frames("1f 2e", ips, 8), 0);   /* no prefix: decimal */
    assert_int_equal(gcts_parse_frames("31 46 18446744073709551615", ips, 8), 3);   /* decimal, as written */
    assert_int_equal(ips[0], 31);
    assert_int_equal(ips[1], 46);
    assert_int_equal(ips[2], UINT64_MAX);
    assert_int_equal(gcts_parse_frames("18446744073709551616", ips, 8), 0);   /* overflows */
    assert_true(ips[0] == 0x1f && ips[1] == 0x2e);

    /* Never more than max. */
    uint64_t guard[6] = { 7, 7, 7, 7, 7, 7 };
    assert_int_equal(gcts_parse_frames("0x1 0x2 0x3 0x4 0x5", guard, 3), 3);
    assert_true(guard[2] == 3 && guard[3] == 7 && guard[4] == 7);
    assert_int_equal(gcts_parse_frames("0x1", guard, 0), 0);
    assert_int_equal(gcts_parse_frames("0x1", guard, -5), 0);
    assert_int_equal(gcts_parse_frames("0x1", NULL, 4), 0);
    assert_int_equal(gcts_parse_frames(NULL, guard, 4), 0);
}

static void test_parse_frames_garbage(void **state)
{
    (void)state;
    struct { const char *text; int n; } cases[] = {
        { "", 0 }, { "   ", 0 }, { "0x", 0 }, { "0x ", 0 }, { "0xg", 0 }, { "zz 0x1", 0 },
        { "0x1 0x2 junk 0x3", 2 }, { "0x1,0x2", 0 }, { "0x1 0x2,", 1 }, { "-0x1", 0 },
        { "0x12345678901234567", 0 },   /* 17 digits: would overflow */
        { "0x1 0x00000000000000001", 1 }, { "0x0x1", 0 }, { "0x1 \xff\xfe", 1 },
        { "0x1 0x", 1 }, { "0x1  0x2   ", 2 }, { "+1", 0 }, { "0x1\x01", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t ips[4] = { 0 };
        int n = gcts_parse_frames(cases[i].text, ips, 4);
        if (n != cases[i].n)
            fail_msg("\"%s\": %d frames, expected %d", cases[i].text, n, cases[i].n);
    }

    /* Random bytes: never past max (the guard words stay), never a crash. */
    srand(12345);
    for (int round = 0; round < 20000; round++) {
        char text[64];
        static const char alphabet[] = "0xX123456789abcdefABCDEF \t\n-g,\xff";
        int len = rand() % 63;
        for (int i = 0; i < len; i++)
            text[i] = alphabet[rand() % (int)(sizeof alphabet - 1)];
        text[len] = '\0';
        uint64_t ips[8];
        for (int i = 0; i < 8; i++)
            ips[i] = 0x5a5a5a5a5a5a5a5aull;
        int max = rand() % 5;
        int n = gcts_parse_frames(text, ips, max);
        assert_true(n >= 0 && n <= max);
        for (int i = max; i < 8; i++)
            assert_true(ips[i] == 0x5a5a5a5a5a5a5a5aull);
    }
}

static void test_parse_frames_million_chars(void **state)
{
    (void)state;
    enum { LEN = 1000000 };
    char *text = malloc(LEN + 1);
    assert_non_null(text);

    /* 250,000 frames of "0x1 " (exactly 1,000,000 characters). */
    for (int i = 0; i < LEN; i += 4)
        memcpy(text + i, "0xa ", 4);
    text[LEN] = '\0';
    uint64_t *ips = malloc((LEN / 4 + 2) * sizeof *ips);
    assert_non_null(ips);
    ips[100] = 42;
    assert_int_equal(gcts_parse_frames(text, ips, 100), 100);
    assert_true(ips[99] == 0xa && ips[100] == 42);
    ips[LEN / 4] = 42;
    assert_int_equal(gcts_parse_frames(text, ips, LEN / 4 + 1), LEN / 4);
    assert_true(ips[LEN / 4 - 1] == 0xa && ips[LEN / 4] == 42);

    /* One token of a million hex digits: overflow, nothing parsed. */
    memset(text, 'f', LEN);
    text[0] = '0';
    text[1] = 'x';
    assert_int_equal(gcts_parse_frames(text, ips, 8), 0);
    /* A million zeros is still too long a token. */
    memset(text, '0', LEN);
    assert_int_equal(gcts_parse_frames(text, ips, 8), 0);
    /* A million spaces: no frame. */
    memset(text, ' ', LEN);
    assert_int_equal(gcts_parse_frames(text, ips, 8), 0);

    /* A stack that deep written by the writer comes back. */
    const char *path = in_dir("deep.db");
    char err[512];
    gcts_db *db = gcts_create(path, err, sizeof err);
    assert_non_null(db);
    enum { DEPTH = 60000 };
    for (int i = 0; i < DEPTH; i++)
        ips[i] = 0x7f0000000000ull + (uint64_t)i * 0x10001ull;
    assert_int_equal(gcts_add_stack(db, 1, 1, ips, DEPTH), 0);
    assert_int_equal(gcts_add_stack(db, 2, 2, ips, 2), 0);   /* buffer reused */
    gcts_close(db);
    db = gcts_open_read(path, err, sizeof err);
    assert_non_null(db);
    sqlite3_stmt *st = rows(gcts_sqlite(db), "SELECT frames FROM stacks WHERE id = 1");
    next_row(st);
    uint64_t *back = malloc(DEPTH * sizeof *back);
    assert_non_null(back);
    assert_int_equal(gcts_parse_frames((const char *)sqlite3_column_text(st, 0), back, DEPTH), DEPTH);
    assert_memory_equal(back, ips, DEPTH * sizeof *back);
    no_more_rows(st);
    gcts_close(db);
    free(back);
    free(ips);
    free(text);
}

/* ------------------------------------------------------------------ */
/* Reader errors                                                        */

/* gcts_open_read(path) fails with exactly "<path>: <what>". */
static void open_fails(const char *path, const char *what)
{
    char err[1024], want[1024];
    memset(err, 'x', sizeof err);
    err[sizeof err - 1] = '\0';
    assert_null(gcts_open_read(path, err, sizeof err));
    snprintf(want, sizeof want, "%s: %s", path, what);
    assert_string_equal(err, want);
    assert_null(strchr(err, '\n'));
}

static void test_open_read_errors(void **state)
{
    (void)state;
    char what[256];

    open_fails(in_dir("missing.db"), "no such file");

    const char *empty = in_dir("empty.db");
    write_file(empty, "", 0);
    open_fails(empty, "not an SQLite database");
    const char *shortf = in_dir("short.db");
    write_file(shortf, "SQLite format 3", 15);   /* no NUL: 15 bytes */
    open_fails(shortf, "not an SQLite database");
    const char *text = in_dir("text.db");
    write_file(text, "this is plainly not a database at all\n", 38);
    open_fails(text, "not an SQLite database");

    /* Unreadable: a path through a regular file, and a directory. */
    char through[600];
    snprintf(through, sizeof through, "%s/x.db", text);
    snprintf(what, sizeof what, "cannot open: %s", strerror(ENOTDIR));
    open_fails(through, what);
    snprintf(what, sizeof what, "cannot open: %s", strerror(EISDIR));
    open_fails(dir, what);

    /* An SQLite file that is not ours. */
    const char *other = in_dir("other.db");
    sqlite3 *s;
    assert_int_equal(sqlite3_open(other, &s), SQLITE_OK);
    assert_int_equal(sqlite3_exec(s, "CREATE TABLE foo(x)", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(s), SQLITE_OK);
    open_fails(other, "not a gctune database (no meta table)");

    /* A newer schema. */
    const char *newer = in_dir("newer.db");
    char err[512];
    gcts_db *db = gcts_create(newer, err, sizeof err);
    assert_non_null(db);
    snprintf(what, sizeof what, "PRAGMA user_version=%d", GCTS_SCHEMA_VERSION + 1);
    assert_int_equal(sqlite3_exec(gcts_sqlite(db), what, NULL, NULL, NULL), SQLITE_OK);
    gcts_close(db);
    snprintf(what, sizeof what,
             "schema version %d is newer than this gctune supports (%d); upgrade gctune",
             GCTS_SCHEMA_VERSION + 1, GCTS_SCHEMA_VERSION);
    open_fails(newer, what);

    /* Corrupt: the header intact, the rest of page 1 (the schema) garbage. */
    const char *bad = in_dir("corrupt.db");
    db = gcts_create(bad, err, sizeof err);
    assert_non_null(db);
    gcts_close(db);
    int fd = open(bad, O_WRONLY);
    assert_true(fd >= 0);
    char junk[1000];
    memset(junk, 0xa5, sizeof junk);
    assert_int_equal(pwrite(fd, junk, sizeof junk, 100), (ssize_t)sizeof junk);
    assert_int_equal(close(fd), 0);
    open_fails(bad, sqlite3_errstr(SQLITE_CORRUPT));

    /* A header and nothing SQLite can use after it. */
    const char *hdr = in_dir("header.db");
    char page[512];
    memset(page, 0xff, sizeof page);
    memcpy(page, "SQLite format 3", 16);
    write_file(hdr, page, sizeof page);
    open_fails(hdr, sqlite3_errstr(SQLITE_NOTADB));

    /* Small buffers are truncated and terminated; NULL is fine. */
    char tiny[8];
    assert_null(gcts_open_read(in_dir("missing.db"), tiny, sizeof tiny));
    assert_int_equal(strlen(tiny), 7);
    assert_null(gcts_open_read(in_dir("missing.db"), NULL, 0));
    assert_null(gcts_open_read(NULL, err, sizeof err));
}

/* In the unprivileged child: an unreadable file's message into child_msg. */
static int open_unreadable(void *arg)
{
    char err[CHILD_MSG_LEN];
    gcts_db *db = gcts_open_read(arg, err, sizeof err);
    if (db) {
        gcts_close(db);
        return 1;
    }
    snprintf(child_msg, CHILD_MSG_LEN, "%s", err);
    return 0;
}

static void test_open_read_unreadable(void **state)
{
    (void)state;
    const char *path = in_dir("unreadable.db");
    char err[512];
    gcts_db *db = gcts_create(path, err, sizeof err);
    assert_non_null(db);
    gcts_close(db);
    assert_int_equal(chmod(path, 0), 0);
    assert_int_equal(chmod(dir, 0755), 0);   /* nobody may look in */
    int rc = in_child(open_unreadable, (void *)path);
    assert_int_equal(chmod(dir, 0700), 0);
    assert_int_equal(rc, 0);
    char want[600];
    snprintf(want, sizeof want, "%s: cannot open: %s", path, strerror(EACCES));
    assert_string_equal(child_msg, want);
}

/* ------------------------------------------------------------------ */
/* Indexes                                                              */

static int64_t index_count(sqlite3 *q)
{
    return query_int(q, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
                        " AND tbl_name = 'samples' AND name NOT LIKE 'sqlite_%'");
}

static void make_samples_db(const char *path, int n)
{
    char err[512];
    gcts_db *db = gcts_create(path, err, sizeof err);
    assert_non_null(db);
    assert_int_equal(gcts_begin(db), 0);
    for (int i = 1; i <= n; i++) {
        gcts_sample s = { i, i, (uint64_t)i * 16, 16, i % 3, 1.0, i % 2 ? -1 : i + 1, 1 };
        assert_int_equal(gcts_add_sample(db, &s), 0);
    }
    assert_int_equal(gcts_commit(db), 0);
    gcts_close(db);
}

static void test_build_indexes(void **state)
{
    (void)state;
    const char *path = in_dir("index.db");
    make_samples_db(path, 100);
    char err[512];
    gcts_db *db = gcts_open_read(path, err, sizeof err);
    assert_non_null(db);
    assert_int_equal(index_count(gcts_sqlite(db)), 0);
    assert_int_equal(gcts_build_indexes(db), 0);
    assert_int_equal(index_count(gcts_sqlite(db)), 3);
    assert_int_equal(gcts_build_indexes(db), 0);   /* IF NOT EXISTS */
    assert_int_equal(index_count(gcts_sqlite(db)), 3);
    sqlite3_stmt *st = rows(gcts_sqlite(db),
                            "EXPLAIN QUERY PLAN SELECT count(*) FROM samples WHERE freed_ns > 10");
    next_row(st);
    assert_non_null(strstr((const char *)sqlite3_column_text(st, 3), "samples_freed_ns"));
    assert_int_equal(sqlite3_finalize(st), SQLITE_OK);
    integrity_ok(gcts_sqlite(db));
    gcts_close(db);
}

/* In the unprivileged child: open a read-only file, build indexes.
 * Exit status: what went wrong (0: nothing). */
static int open_read_only(void *arg)
{
    char err[CHILD_MSG_LEN];
    gcts_db *db = gcts_open_read(arg, err, sizeof err);
    if (!db) {
        snprintf(child_msg, CHILD_MSG_LEN, "%s", err);
        return 1;
    }
    int rc = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_db_readonly(gcts_sqlite(db), "main") != 1)
        rc = 2;
    else if (gcts_build_indexes(db) != 0)
        rc = 3;
    else if (sqlite3_prepare_v2(gcts_sqlite(db), "SELECT count(*) FROM samples", -1, &st, NULL)
                 != SQLITE_OK
             || sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int64(st, 0) != 100)
        rc = 4;
    sqlite3_finalize(st);
    int64_t v = 0;
    if (!rc && (gcts_get_meta_int(db, "schema_version", &v) != 0 || v != GCTS_SCHEMA_VERSION))
        rc = 5;
    if (rc)
        snprintf(child_msg, CHILD_MSG_LEN, "%s", gcts_errmsg(db));
    gcts_close(db);
    return rc;
}

static void test_build_indexes_read_only(void **state)
{
    (void)state;
    char sub[600];
    snprintf(sub, sizeof sub, "%s/ro", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    char path[700];
    snprintf(path, sizeof path, "%s/ro.db", sub);
    make_samples_db(path, 100);
    /* Neither the file nor its directory writable (nor -wal/-shm creatable). */
    assert_int_equal(chmod(path, 0444), 0);
    assert_int_equal(chmod(sub, 0555), 0);
    assert_int_equal(chmod(dir, 0755), 0);
    int rc = in_child(open_read_only, path);
    assert_int_equal(chmod(dir, 0700), 0);
    assert_int_equal(chmod(sub, 0700), 0);
    if (rc != 0)
        fail_msg("read-only child: status %d: %s", rc, child_msg);

    char err[512];
    gcts_db *db = gcts_open_read(path, err, sizeof err);
    assert_non_null(db);
    assert_int_equal(index_count(gcts_sqlite(db)), 0);   /* none were built */
    integrity_ok(gcts_sqlite(db));
    gcts_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_create_mode_0600),
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_create_replaces_old_db_and_stale_wal),
        cmocka_unit_test(test_sigkill_keeps_committed_rows),
        cmocka_unit_test(test_claim_path),
        cmocka_unit_test(test_close_unsynced),
        cmocka_unit_test(test_create_init),
        cmocka_unit_test(test_open_read_waits_for_claimed_path),
        cmocka_unit_test(test_parse_frames_basic),
        cmocka_unit_test(test_parse_frames_garbage),
        cmocka_unit_test(test_parse_frames_million_chars),
        cmocka_unit_test(test_open_read_errors),
        cmocka_unit_test(test_open_read_unreadable),
        cmocka_unit_test(test_build_indexes),
        cmocka_unit_test(test_build_indexes_read_only),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
