/* store/store_read.c - the reader half of store.h: gcts_open_read and its
 * checks, indexes for analysis, meta look-ups, stacks.frames parsing, and
 * the accessors and gcts_close shared with the writer.
 *
 * Invariants:
 *   - gcts_open_read hands out a database only after every check passed,
 *     in this order: the file exists, can be opened and read, starts with
 *     the 16-byte SQLite header, SQLite can read its schema, it has a meta
 *     table, and its user_version is <= GCTS_SCHEMA_VERSION; otherwise it
 *     returns NULL with exactly one line (no newline) naming the path in err;
 *   - the connection is read-write when the file allows it (so that a WAL
 *     left by a killed writer is recovered and indexes can be built), else
 *     read-only; nothing here writes to the database except
 *     gcts_build_indexes (and SQLite's own WAL recovery);
 *   - a missing file whose path is claimed (a recording being created
 *     there) is waited for (wait_for_file);
 *   - a recording still being finished by its helper process (the
 *     profiled program gone, the helper running) is handed out only once
 *     the helper has finished it or is gone (wait_for_helper);
 *   - gcts_parse_frames never writes more than max entries and never reads
 *     past the terminating NUL.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store_priv.h"

static const char sqlite_header[16] = "SQLite format 3";   /* + its NUL: 16 bytes */

/* Reads the first 16 bytes of path: 1 if they are the SQLite header, 0 if
 * not (short file included), -1 with errno if the file cannot be read. */
static int has_sqlite_header(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    unsigned char buf[sizeof sqlite_header];
    size_t got = 0;
    while (got < sizeof buf) {
        ssize_t n = read(fd, buf + got, sizeof buf - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);   /* read-only descriptor: nothing to lose on close */
    return got == sizeof buf && memcmp(buf, sqlite_header, sizeof buf) == 0;
}

/* Whether SQLite could not even read the file (as opposed to finding it
 * corrupt): what a read-only open of a WAL database in a directory we cannot
 * write, with no -shm to share, runs into. */
static int cannot_read(int rc)
{
    int prim = rc & 0xff;
    return prim == SQLITE_CANTOPEN || prim == SQLITE_READONLY;
}

static int file_exists(const char *path, const char *suffix)
{
    size_t n = strlen(path), m = strlen(suffix);
    char *name = malloc(n + m + 1);
    if (!name)
        return 1;   /* when in doubt, assume a WAL is there */
    memcpy(name, path, n);
    memcpy(name + n, suffix, m + 1);
    struct stat st;
    int r = stat(name, &st) == 0;
    free(name);
    return r;
}

/* Opens path as an immutable, read-only URI: used only for a file SQLite
 * cannot open read-only otherwise, and only when there is no -wal beside it
 * (so that nothing committed is left unseen). */
static int open_immutable(gcts_db *db)
{
    static const char prefix[] = "file:", suffix[] = "?immutable=1";
    size_t n = strlen(db->path);
    char *uri = malloc(sizeof prefix + 3 * n + sizeof suffix);
    if (!uri)
        return SQLITE_NOMEM;
    char *q = uri + sizeof prefix - 1;
    memcpy(uri, prefix, sizeof prefix - 1);
    for (const unsigned char *p = (const unsigned char *)db->path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
            || *p == '/' || *p == '.' || *p == '-' || *p == '_') {
            *q++ = (char)*p;
        } else {
            static const char hex[] = "0123456789ABCDEF";
            *q++ = '%';
            *q++ = hex[*p >> 4];
            *q++ = hex[*p & 15];
        }
    }
    memcpy(q, suffix, sizeof suffix);
    int rc = sqlite3_open_v2(uri, &db->db,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
    free(uri);
    return rc;
}

/* Runs sql (one integer column, at most one row) into *out (left alone
 * without a row).  SQLITE_OK or the error code. */
static int query_int(sqlite3 *db, const char *sql, const char *arg, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    if (arg)
        rc = sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
    }
    int frc = sqlite3_finalize(st);
    return rc != SQLITE_OK ? rc : frc;
}

/* Checks a freshly opened connection (see the header): 0, or the SQLite
 * error code of a failed query (message in the connection) or -1 with
 * db->err set. */
static int check_schema(gcts_db *db)
{
    int64_t has_meta = 0;
    int rc = query_int(db->db,
                       "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                       "meta", &has_meta);
    if (rc != SQLITE_OK)
        return rc;
    if (!has_meta) {
        gcts_i_fail(db, "not a gctune database (no meta table)");
        return -1;
    }
    int64_t version = 0;
    rc = query_int(db->db, "PRAGMA user_version", NULL, &version);
    if (rc != SQLITE_OK)
        return rc;
    if (version > GCTS_SCHEMA_VERSION) {
        gcts_i_fail(db, "schema version %" PRId64 " is newer than this gctune supports (%d);"
                    " upgrade gctune", version, GCTS_SCHEMA_VERSION);
        return -1;
    }
    /* Reads the meta table itself, so a damaged one shows here. */
    int64_t rows = 0;
    return query_int(db->db, "SELECT count(*) FROM meta", NULL, &rows);
}

int gcts_process_runs(long pid, const char *comm)
{
    char path[64], buf[512];
    if (pid <= 0)
        return 0;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
    if (!open_paren || !close_paren || close_paren[1] != ' ' || close_paren[2] == 'Z' || close_paren[2] == 'X')
        return 0;
    if (comm) {
        size_t l = (size_t)(close_paren - open_paren - 1);
        if (l != strlen(comm) || strncmp(open_paren + 1, comm, l) != 0)
            return 0;
    }
    return 1;
}

/* A recording in helper mode (profiler/helper.c) is finished by its
 * helper process shortly after the profiled program ends: while the
 * program (meta pid) is gone, the helper (meta writer_pid) still runs and
 * clean_exit is not 1, wait for it (10 ms steps, 120 s at most; a note on
 * stderr after 1 s).  A recording whose program still runs is read as it
 * is (a live view). */
/* meta[key] in buf, "" when absent (no error left behind: a recording
 * in thread mode has no writer_pid). */
static void meta_or_empty(gcts_db *db, const char *key, char *buf, size_t len)
{
    if (gcts_get_meta(db, key, buf, len) != 0) {
        buf[0] = '\0';
        db->err[0] = '\0';
    }
}

static void wait_for_helper(gcts_db *db)
{
    char mode[16], v[32];
    meta_or_empty(db, "profiler_mode", mode, sizeof mode);
    if (strcmp(mode, "helper") != 0)
        return;
    meta_or_empty(db, "writer_pid", v, sizeof v);
    long wpid = strtol(v, NULL, 10);
    meta_or_empty(db, "pid", v, sizeof v);
    long pid = strtol(v, NULL, 10);
    for (int i = 0; i < 12000; i++) {
        meta_or_empty(db, "clean_exit", v, sizeof v);
        if (strcmp(v, "1") == 0 || !gcts_process_runs(wpid, "gctune-writer") || gcts_process_runs(pid, NULL))
            return;
        if (i == 100)
            fprintf(stderr, "gctune: %s: waiting for the recording helper (pid %ld) to finish the database\n",
                    db->path, wpid);
        struct timespec ts = { 0, 10000000 };
        nanosleep(&ts, NULL);
    }
}

/* A recording's file appears at its path only once its writer has
 * created it (store.c), and a profiled program can end before its
 * helper has: while path is missing and claimed, wait for it (10 ms
 * steps, 120 s at most, a note on stderr after 1 s).  Then the header
 * check again: has_sqlite_header's result. */
static int wait_for_file(const char *path)
{
    int h = -1;
    for (int i = 0; i < 12000 && gcts_path_claimed(path); i++) {
        if (i == 100)
            fprintf(stderr, "gctune: %s: waiting for the recording being created there\n", path);
        struct timespec ts = { 0, 10000000 };
        nanosleep(&ts, NULL);
        if ((h = has_sqlite_header(path)) >= 0 || errno != ENOENT)
            return h;
    }
    h = has_sqlite_header(path);
    return h;
}

gcts_db *gcts_open_read(const char *path, char *err, size_t errlen)
{
    if (!path || !*path) {
        gcts_i_put_err(err, errlen, "gcts_open_read: no path");
        return NULL;
    }
    int h = has_sqlite_header(path);
    if (h < 0 && errno == ENOENT)
        h = wait_for_file(path);
    if (h < 0) {
        if (errno == ENOENT)
            gcts_i_put_err(err, errlen, "%s: no such file", path);
        else
            gcts_i_put_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (h == 0) {
        gcts_i_put_err(err, errlen, "%s: not an SQLite database", path);
        return NULL;
    }

    gcts_db *db = gcts_i_new(path);
    if (!db) {
        gcts_i_put_err(err, errlen, "%s: cannot open: %s", path, strerror(ENOMEM));
        return NULL;
    }
    /* READWRITE without CREATE: SQLite falls back to read-only by itself
     * when the file is not writable. */
    int rc = sqlite3_open_v2(path, &db->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_close_v2(db->db);
        db->db = NULL;
        rc = sqlite3_open_v2(path, &db->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    }
    if (rc == SQLITE_OK) {
        (void)sqlite3_extended_result_codes(db->db, 1);   /* always SQLITE_OK */
        /* a writer closing the database (its last checkpoint) locks it
         * for a moment: wait instead of failing */
        (void)sqlite3_busy_timeout(db->db, 10000);
    }
    if (rc == SQLITE_OK)
        rc = check_schema(db);
    if (rc > 0 && cannot_read(rc) && sqlite3_db_readonly(db->db, "main") == 1
        && !file_exists(path, "-wal")) {
        sqlite3_close_v2(db->db);
        db->db = NULL;
        rc = open_immutable(db);
        if (rc == SQLITE_OK)
            rc = check_schema(db);
    }
    if (rc > 0) {   /* an SQLite error code: SQLite's own words */
        if (db->db)
            gcts_i_fail(db, "%s", sqlite3_errmsg(db->db));
        else
            gcts_i_fail(db, "%s", sqlite3_errstr(rc));
    }
    if (rc != SQLITE_OK) {
        gcts_i_put_err(err, errlen, "%s", db->err);
        gcts_close(db);
        return NULL;
    }
    wait_for_helper(db);
    return db;
}

int gcts_build_indexes(gcts_db *db)
{
    if (!db)
        return -1;
    if (sqlite3_db_readonly(db->db, "main") == 1)
        return 0;
    static const char sql[] =
        "CREATE INDEX IF NOT EXISTS samples_stack_id ON samples(stack_id);"
        "CREATE INDEX IF NOT EXISTS samples_freed_ns ON samples(freed_ns);"
        "CREATE INDEX IF NOT EXISTS samples_time_ns ON samples(time_ns);";
    char *msg = NULL;
    int rc = sqlite3_exec(db->db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return 0;
    if ((rc & 0xff) == SQLITE_READONLY) {
        sqlite3_free(msg);
        return 0;
    }
    gcts_i_fail(db, "build_indexes: %s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return -1;
}

/* Steps the meta look-up for key; on 0 the statement is on its row and the
 * caller resets it. */
static int meta_row(gcts_db *db, const char *key, sqlite3_stmt **out)
{
    if (!key)
        return gcts_i_fail(db, "get_meta: no key");
    sqlite3_stmt *st = gcts_i_stmt(db, GCTS_ST_GET_META, "get_meta");
    if (!st)
        return -1;
    int rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *out = st;
        return 0;
    }
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        gcts_i_fail(db, "meta %s is not set", key);
    else
        gcts_i_fail_sqlite(db, "get_meta");
    (void)sqlite3_reset(st);   /* repeats the step's error, handled above */
    return -1;
}

int gcts_get_meta(gcts_db *db, const char *key, char *buf, size_t len)
{
    if (!db)
        return -1;
    sqlite3_stmt *st;
    if (meta_row(db, key, &st) != 0)
        return -1;
    const unsigned char *t = sqlite3_column_text(st, 0);
    int rc = 0;
    if (!t)
        rc = gcts_i_fail(db, "get_meta: %s", sqlite3_errmsg(db->db));   /* out of memory */
    else if (buf && len) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        if (n >= len)
            n = len - 1;
        memcpy(buf, t, n);
        buf[n] = '\0';
    }
    (void)sqlite3_reset(st);   /* the step succeeded: SQLITE_OK */
    return rc;
}

int gcts_get_meta_int(gcts_db *db, const char *key, int64_t *out)
{
    if (!db)
        return -1;
    sqlite3_stmt *st;
    if (meta_row(db, key, &st) != 0)
        return -1;
    const char *t = (const char *)sqlite3_column_text(st, 0);
    int rc = -1;
    if (!t) {
        gcts_i_fail(db, "get_meta: %s", sqlite3_errmsg(db->db));
    } else {
        char *end;
        errno = 0;
        long long v = strtoll(t, &end, 10);
        if (end == t || *end != '\0' || errno == ERANGE)
            gcts_i_fail(db, "meta %s is not an integer: \"%.64s\"", key, t);
        else {
            if (out)
                *out = (int64_t)v;
            rc = 0;
        }
    }
    (void)sqlite3_reset(st);
    return rc;
}

int gcts_schema_version(gcts_db *db)
{
    if (!db)
        return -1;
    int64_t v = -1;
    int rc = query_int(db->db, "PRAGMA user_version", NULL, &v);
    if (rc != SQLITE_OK)
        return gcts_i_fail_sqlite(db, "schema_version");
    return (int)v;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Tokens: decimal (what gcts_add_stack writes), or "0x"/"0X" and 1 to 16
 * hex digits, separated by whitespace.  Parsing stops at the first token that is not one (too long,
 * a stray character) or when ips is full. */
int gcts_parse_frames(const char *text, uint64_t *ips, int max)
{
    if (!text || !ips || max <= 0)
        return 0;
    int n = 0;
    const char *p = text;
    while (n < max) {
        while (is_space(*p))
            p++;
        if (!*p)
            break;
        uint64_t v = 0;
        int digits = 0, d;
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
            p += 2;
            while ((d = hex_value(*p)) >= 0) {
                if (++digits > 16)
                    return n;
                v = v << 4 | (uint64_t)d;
                p++;
            }
        } else {
            while (*p >= '0' && *p <= '9') {
                d = *p - '0';
                if (++digits > 20 || v > (UINT64_MAX - (uint64_t)d) / 10)
                    return n;
                v = v * 10 + (uint64_t)d;
                p++;
            }
        }
        if (digits == 0 || (*p && !is_space(*p)))
            return n;
        ips[n++] = v;
    }
    return n;
}

sqlite3 *gcts_sqlite(gcts_db *db)
{
    return db ? db->db : NULL;
}

const char *gcts_path(gcts_db *db)
{
    return db ? db->path : NULL;
}

const char *gcts_errmsg(gcts_db *db)
{
    return db ? db->err : "no database";
}

void gcts_close(gcts_db *db)
{
    if (!db)
        return;
    for (int i = 0; i < GCTS_ST_COUNT; i++)
        (void)sqlite3_finalize(db->stmt[i]);   /* repeats the last step's error, if any */
    /* never committed: the close's checkpoint syncs as NORMAL does */
    (void)gcts_i_end_fresh_wal(db);
    /* close_v2 never fails with every statement finalized; an open
     * transaction is rolled back.  The last connection to a WAL database
     * checkpoints it and removes -wal and -shm. */
    (void)sqlite3_close_v2(db->db);
    if (db->claim_fd >= 0)
        close(db->claim_fd);   /* after the close's checkpoint and -wal removal */
    free(db->frames);
    free(db->path);
    free(db);
}
