/* store/store.c - the writer half of store.h: the path's claim
 * (gcts_claim_path), gcts_create and the inserts
 * (schema in store/schema.sql, embedded at build time as schema_sql.h).
 *
 * Invariants:
 *   - gcts_create hands out a database only once the file exists with mode
 *     0600, is in WAL mode, holds the whole schema,
 *     has user_version = GCTS_SCHEMA_VERSION and meta.schema_version set,
 *     and holds what gcts_create_claimed's init wrote;
 *     the file appears at its path only in that state (built under a
 *     temporary name, then renamed), so a kill at any moment never leaves
 *     a half-made database; on any failure it removes what it created and
 *     returns NULL;
 *   - every insert goes through a statement prepared once (store_priv.h)
 *     and reset after its step, whatever the outcome;
 *   - GCTS_NULL integers, NaN doubles, freed_ns < 0, mapping_id 0 and NULL
 *     strings are stored as SQL NULL; uint64_t values are stored as their
 *     two's-complement int64_t (user-space addresses are below 2^63);
 *   - stacks.frames is each ip in decimal, single spaces, leaf
 *     first, no leading or trailing space ("" for depth 0).
 *   - gcts_claim_path's claim is an abstract socket bound to a name made
 *     of the directory's identity and the file's name: bind() is the one
 *     atomic test-and-set, and the kernel ends the claim with its last
 *     descriptor, whatever ends the process.
 *   - a new database's first transaction writes the WAL's header without
 *     a sync (synchronous=OFF, no automatic checkpoint: fresh_wal); the
 *     first gcts_commit, or else gcts_close, sets synchronous=NORMAL (and
 *     the default checkpoints of 1000 pages) for the rest.  The file was
 *     synced whole before the rename, and only a checkpoint writes to it,
 *     which NORMAL precedes with a sync of the WAL: a crash before that
 *     loses the WAL's transactions (as NORMAL does anyway), never the
 *     file's consistency.  What it saves: the WAL's and the directory's
 *     syncs at the first commit (~1.3 ms), and, as the WAL's blocks are
 *     then not yet allocated on disk, most of the cost of removing it at
 *     the close (on ext4: 0.7 ms against ~0.1), which a recorded program
 *     waits for at its exit.
 * Nothing here starts or ends a transaction except gcts_begin/gcts_commit
 * (and gcts_create, around the schema and init).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fnv.h"
#include "store_priv.h"
#include "schema_sql.h"     /* generated: static const char gcts_schema_sql[] */

/* ---- binding helpers: each binds only while *rc is still SQLITE_OK ---- */

static inline void bind_i64(sqlite3_stmt *st, int i, int64_t v, int *rc)
{
    if (*rc == SQLITE_OK)
        *rc = sqlite3_bind_int64(st, i, v);
}

static inline void bind_u64(sqlite3_stmt *st, int i, uint64_t v, int *rc)
{
    bind_i64(st, i, (int64_t)v, rc);
}

/* GCTS_NULL -> NULL */
static inline void bind_opt(sqlite3_stmt *st, int i, int64_t v, int *rc)
{
    if (*rc == SQLITE_OK)
        *rc = v == GCTS_NULL ? sqlite3_bind_null(st, i) : sqlite3_bind_int64(st, i, v);
}

/* NaN -> NULL */
static inline void bind_dbl(sqlite3_stmt *st, int i, double v, int *rc)
{
    if (*rc == SQLITE_OK)
        *rc = isnan(v) ? sqlite3_bind_null(st, i) : sqlite3_bind_double(st, i, v);
}

/* NULL -> NULL; the text is copied (callers' strings need not outlive the call). */
static inline void bind_text(sqlite3_stmt *st, int i, const char *s, int *rc)
{
    if (*rc == SQLITE_OK)
        *rc = s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

/* Steps st once if binding succeeded (rc), then resets it.  Returns 0, or
 * -1 with "<path>: <what>: <SQLite's message>" in db->err. */
static int step_reset(gcts_db *db, sqlite3_stmt *st, int rc, const char *what)
{
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE || rc == SQLITE_ROW)
            rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK)
        gcts_i_fail_sqlite(db, what);   /* before the reset, which keeps the message anyway */
    /* sqlite3_reset repeats the step's error code, already handled above. */
    (void)sqlite3_reset(st);
    return rc == SQLITE_OK ? 0 : -1;
}

/* ---- creation ---- */

void gcts_gc_cycle_init(gcts_gc_cycle *c)
{
    c->num = c->start_ns = c->end_ns = c->pause_ns = GCTS_NULL;
    c->heap_before = c->heap_after = c->heap_marked = c->heap_goal = GCTS_NULL;
    c->gc_percent = c->memory_limit = GCTS_NULL;
    c->mark_cpu_ns = c->assist_cpu_ns = c->background_cpu_ns = c->idle_cpu_ns = GCTS_NULL;
    c->concurrent = c->forced = c->procs = GCTS_NULL;
    c->gc_cpu_fraction = NAN;
}

void gcts_heap_point_init(gcts_heap_point *p)
{
    p->time_ns = GCTS_NULL;
    p->heap_alloc = p->heap_sys = p->heap_released = p->rss = p->next_gc = GCTS_NULL;
    p->heap_inuse = p->total_alloc = p->num_gc = p->gc_percent = p->memory_limit = GCTS_NULL;
    p->gc_cpu_fraction = NAN;
}

/* Removes path+suffix if it exists; 0, or -1 with errno set. */
static int remove_file(const char *path, const char *suffix)
{
    size_t n = strlen(path), m = strlen(suffix);
    char *name = malloc(n + m + 1);
    if (!name) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(name, path, n);
    memcpy(name + n, suffix, m + 1);
    int rc = unlink(name);
    int e = errno;
    free(name);
    if (rc != 0 && e == ENOENT)
        rc = 0;
    errno = e;
    return rc;
}

/* The companions SQLite may leave beside a database: a stale -journal would
 * be taken for a hot journal and rolled back into the new file, a stale
 * -wal replayed over it. */
static const char *const companions[] = { "-wal", "-shm", "-journal" };

/* Removes path and its companions, all it can: 0, or -1 with errno and
 * *failed (if not NULL) the suffix of the first that could not go ("" for
 * path itself). */
static int remove_all(const char *path, const char **failed)
{
    int rc = remove_file(path, ""), e = errno;
    const char *first = "";
    for (size_t i = 0; i < sizeof companions / sizeof companions[0]; i++) {
        if (remove_file(path, companions[i]) != 0 && rc == 0) {
            rc = -1;
            e = errno;
            first = companions[i];
        }
    }
    if (failed)
        *failed = first;
    errno = e;
    return rc;
}

/* Runs one statement of SQL that returns at most one text row; copies the
 * first column into out (if out) .  SQLITE_OK or the error code. */
static int exec1(sqlite3 *db, const char *sql, char *out, size_t outlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out && outlen) {
            const unsigned char *t = sqlite3_column_text(st, 0);
            snprintf(out, outlen, "%s", t ? (const char *)t : "");
        }
    }
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    int frc = sqlite3_finalize(st);
    return rc != SQLITE_OK ? rc : frc;
}

/* Creates name (O_EXCL) with mode 0600 whatever the umask (a umask can
 * only take bits away, but make the mode exact); SQLite gives -wal and
 * -shm the database's mode.  0, or -1 with errno set (name removed). */
static int create_0600(const char *name)
{
    int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (fchmod(fd, 0600) != 0 || close(fd) != 0) {
        int e = errno;
        close(fd);   /* EBADF after a failed close: harmless */
        unlink(name);
        errno = e;
        return -1;
    }
    return 0;
}

/* On the temporary file: SQLite's syncs off (nothing needs to be durable
 * before gcts_create_claimed syncs the whole file once, just before the
 * rename; a crash before that leaves a stale temporary file, never a
 * database at the path), the switch to WAL (recorded in the file's
 * header), then the schema, its version and meta.schema_version in one
 * transaction.  Eleven syncs of the journal, the file and the directory
 * became one: creating a database took ~12 ms of a short recorded
 * program's exit.  0, or -1 with the reason in db->err. */
static int write_schema(gcts_db *db)
{
    if (exec1(db->db, "PRAGMA synchronous=OFF", NULL, 0) != SQLITE_OK)
        return gcts_i_fail_sqlite(db, "synchronous=OFF");
    char mode[16] = "";
    if (exec1(db->db, "PRAGMA journal_mode=WAL", mode, sizeof mode) != SQLITE_OK)
        return gcts_i_fail_sqlite(db, "journal_mode=WAL");
    if (strcmp(mode, "wal") != 0)
        return gcts_i_fail(db, "cannot use a WAL journal here (journal_mode is %s)", mode);
    char ver[128];
    snprintf(ver, sizeof ver,
             "PRAGMA user_version=%d;"
             "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', '%d');"
             "COMMIT;", GCTS_SCHEMA_VERSION, GCTS_SCHEMA_VERSION);
    char *msg = NULL;
    if (sqlite3_exec(db->db, "BEGIN", NULL, NULL, &msg) != SQLITE_OK
        || sqlite3_exec(db->db, gcts_schema_sql, NULL, NULL, &msg) != SQLITE_OK
        || sqlite3_exec(db->db, ver, NULL, NULL, &msg) != SQLITE_OK) {
        gcts_i_fail(db, "cannot create the schema: %s", msg ? msg : sqlite3_errmsg(db->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* The handed-out connection's syncs (see fresh_wal above): normal 1,
 * synchronous=NORMAL and SQLite's default checkpoints every 1000 pages;
 * 0, synchronous=OFF and no automatic checkpoint.  0, or -1 with the
 * reason in db->err. */
static int set_syncs(gcts_db *db, int normal)
{
    const char *sql = normal ? "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=1000"
                             : "PRAGMA synchronous=OFF; PRAGMA wal_autocheckpoint=0";
    if (sqlite3_exec(db->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return gcts_i_fail_sqlite(db, normal ? "synchronous=NORMAL" : "synchronous=OFF");
    return 0;
}

/* fdatasync of the file at name: 0, or -1 with errno. */
static int sync_file(const char *name)
{
    int fd = open(name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fdatasync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

static int open_rw(gcts_db *db, const char *name)
{
    int rc = sqlite3_open_v2(name, &db->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        if (db->db)
            gcts_i_fail(db, "cannot open: %s", sqlite3_errmsg(db->db));
        else
            gcts_i_fail(db, "cannot open: %s", sqlite3_errstr(rc));
        return -1;
    }
    (void)sqlite3_extended_result_codes(db->db, 1);   /* always SQLITE_OK */
    return 0;
}

/* The abstract socket address naming path's claim: "\0gctune-rec/" and
 * the directory's device and inode, then the file's name, or a 64-bit
 * FNV-1a hash of it where the name would not fit.  0, or -1 with errno
 * (the directory cannot be stat'ed). */
static int claim_address(const char *path, struct sockaddr_un *sa, socklen_t *len)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char dir[PATH_MAX];
    if (!slash) {
        strcpy(dir, ".");
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        if (n >= sizeof dir) {
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(dir, path, n);
        dir[n] = 0;
    }
    struct stat st;
    if (*base == 0 || stat(dir, &st) != 0) {
        if (*base == 0)
            errno = EISDIR;
        return -1;
    }
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    char *name = sa->sun_path + 1;   /* sun_path[0] = 0: abstract */
    size_t room = sizeof sa->sun_path - 1;
    int n = snprintf(name, room, "gctune-rec/%jx/%jx/%s", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino, base);
    if (n < 0 || (size_t)n >= room) {
        uint64_t h = gct_fnv1a_str(base);
        n = snprintf(name, room, "gctune-rec/%jx/%jx/#%016" PRIx64, (uintmax_t)st.st_dev,
                     (uintmax_t)st.st_ino, h);
    }
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    return 0;
}

int gcts_claim_path(const char *path)
{
    struct sockaddr_un sa;
    socklen_t len;
    if (!path || claim_address(path, &sa, &len) != 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&sa, len) != 0) {
        int e = errno;
        close(fd);
        errno = e == EADDRINUSE ? EBUSY : e;
        return -1;
    }
    if (fd < 3) {
        /* a process without its standard descriptors: keep 0-2 free
         * for whoever reopens them (the profiler's helper does) */
        int hi = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        int e = errno;
        close(fd);
        errno = e;
        return hi;
    }
    return fd;
}

int gcts_path_claimed(const char *path)
{
    struct sockaddr_un sa;
    socklen_t len;
    if (!path || claim_address(path, &sa, &len) != 0)
        return 0;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    /* connecting a datagram socket to a bound name succeeds, to a name
     * nobody has bound fails (ECONNREFUSED); nothing is sent */
    int rc = connect(fd, (struct sockaddr *)&sa, len);
    close(fd);
    return rc == 0;
}

int gcts_remove_db(const char *path)
{
    if (!path || !*path) {
        errno = EINVAL;
        return -1;
    }
    return remove_all(path, NULL);
}

void gcts_forget_claim(gcts_db *db)
{
    if (db && db->claim_fd >= 0) {
        close(db->claim_fd);
        db->claim_fd = -1;
    }
}

/* The database is built under a temporary name beside path
 * ("<path>.tmp-<pid>", rollback journal) and renamed to path once it holds
 * the whole schema in WAL mode: a process killed at any moment leaves at
 * path either nothing or a complete, empty run database (at worst a stale
 * temporary file beside it), never an empty or half-made file.  The
 * path is claimed before anything of an old file is touched. */
gcts_db *gcts_create(const char *path, char *err, size_t errlen)
{
    return gcts_create_claimed(path, -1, NULL, NULL, err, errlen);
}

/* Closes claim_fd (if >= 0), keeping errno. */
static void drop_claim(int claim_fd)
{
    int e = errno;
    if (claim_fd >= 0)
        close(claim_fd);
    errno = e;
}

/* init(db, arg) in one transaction on the temporary file, then every
 * statement it prepared finalized (the connection is closed next). */
static int run_init(gcts_db *db, gcts_init_fn init, void *arg)
{
    if (!init)
        return 0;
    if (gcts_begin(db) != 0)
        return -1;
    if (init(db, arg) != 0) {
        if (!db->err[0])
            gcts_i_fail(db, "cannot write the first records");
        return -1;   /* the close rolls back, and the file is removed */
    }
    if (gcts_commit(db) != 0)
        return -1;
    for (int i = 0; i < GCTS_ST_COUNT; i++) {
        (void)sqlite3_finalize(db->stmt[i]);
        db->stmt[i] = NULL;
    }
    return 0;
}

gcts_db *gcts_create_claimed(const char *path, int claim_fd, gcts_init_fn init, void *arg,
                             char *err, size_t errlen)
{
    if (!path || !*path) {
        drop_claim(claim_fd);
        gcts_i_put_err(err, errlen, "gcts_create: no path");
        return NULL;
    }
    if (claim_fd < 0) {
        claim_fd = gcts_claim_path(path);
        if (claim_fd < 0 && errno == EBUSY) {
            gcts_i_put_err(err, errlen, "%s: another recording is writing this database", path);
            return NULL;
        }
        /* no claim could be made (no socket here): go on without one;
         * a missing directory fails below, with its own message */
    }
    const char *failed;
    if (remove_all(path, &failed) != 0) {
        drop_claim(claim_fd);   /* keeps errno */
        if (!*failed)
            gcts_i_put_err(err, errlen, "%s: cannot create: %s", path, strerror(errno));
        else
            gcts_i_put_err(err, errlen, "%s: cannot remove %s%s: %s", path, path, failed, strerror(errno));
        return NULL;
    }
    size_t tlen = strlen(path) + 32;
    char *tmp = malloc(tlen);
    gcts_db *db = tmp ? gcts_i_new(path) : NULL;
    if (!db) {
        drop_claim(claim_fd);
        free(tmp);
        gcts_i_put_err(err, errlen, "%s: cannot create: %s", path, strerror(ENOMEM));
        return NULL;
    }
    db->claim_fd = claim_fd;   /* closed by gcts_close, whatever happens below */
    snprintf(tmp, tlen, "%s.tmp-%ld", path, (long)getpid());
    (void)remove_all(tmp, NULL);   /* a stale one of a killed process with our pid */
    if (create_0600(tmp) != 0) {
        gcts_i_fail(db, "cannot create: %s", strerror(errno));
        goto fail;
    }
    if (open_rw(db, tmp) != 0 || write_schema(db) != 0 || run_init(db, init, arg) != 0)
        goto fail;
    /* Closing checkpoints the WAL into the file and removes -wal/-shm. */
    if (sqlite3_close(db->db) != SQLITE_OK) {
        gcts_i_fail_sqlite(db, "close");
        goto fail;
    }
    db->db = NULL;
    if (sync_file(tmp) != 0) {
        gcts_i_fail(db, "cannot create: sync: %s", strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        gcts_i_fail(db, "cannot create: %s", strerror(errno));
        goto fail;
    }
    if (open_rw(db, path) != 0)
        goto fail_path;
    char mode[16] = "";
    if (exec1(db->db, "PRAGMA journal_mode", mode, sizeof mode) != SQLITE_OK) {
        gcts_i_fail_sqlite(db, "journal_mode");
        goto fail_path;
    }
    if (strcmp(mode, "wal") != 0) {
        gcts_i_fail(db, "cannot use a WAL journal here (journal_mode is %s)", mode);
        goto fail_path;
    }
    if (set_syncs(db, 0) != 0)
        goto fail_path;
    db->fresh_wal = 1;
    free(tmp);
    return db;

fail_path:
    gcts_i_put_err(err, errlen, "%s", db->err);
    gcts_close(db);
    (void)remove_all(path, NULL);
    free(tmp);
    return NULL;
fail:
    gcts_i_put_err(err, errlen, "%s", db->err);
    gcts_close(db);
    (void)remove_all(tmp, NULL);
    free(tmp);
    return NULL;
}

int gcts_close_unsynced(gcts_db *db)
{
    if (!db)
        return -1;
    int fd = db->db ? open(db->path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd >= 0)
        db->fresh_wal = 0;   /* gcts_close leaves synchronous=OFF */
    if (fd >= 0 && exec1(db->db, "PRAGMA synchronous=OFF", NULL, 0) != SQLITE_OK) {
        close(fd);   /* the close syncs as usual */
        fd = -1;
    }
    gcts_close(db);
    return fd;
}

/* ---- transactions and inserts ---- */

static int run_plain(gcts_db *db, enum gcts_stmt_id id, const char *what)
{
    if (!db)
        return -1;
    sqlite3_stmt *st = gcts_i_stmt(db, id, what);
    if (!st)
        return -1;
    return step_reset(db, st, SQLITE_OK, what);
}

int gcts_begin(gcts_db *db)
{
    return run_plain(db, GCTS_ST_BEGIN, "begin");
}

/* After a new database's first commit (or before its close without
 * one): the syncs and checkpoints of every later transaction. */
int gcts_i_end_fresh_wal(gcts_db *db)
{
    if (!db->fresh_wal || !db->db)
        return 0;
    db->fresh_wal = 0;
    return set_syncs(db, 1);
}

int gcts_commit(gcts_db *db)
{
    if (run_plain(db, GCTS_ST_COMMIT, "commit") != 0)
        return -1;
    return gcts_i_end_fresh_wal(db);
}

int gcts_set_meta(gcts_db *db, const char *key, const char *value)
{
    if (!db)
        return -1;
    if (!key)
        return gcts_i_fail(db, "set_meta: no key");
    sqlite3_stmt *st = gcts_i_stmt(db, GCTS_ST_SET_META, "set_meta");
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    bind_text(st, 1, key, &rc);
    bind_text(st, 2, value, &rc);
    return step_reset(db, st, rc, "set_meta");
}

int gcts_set_meta_int(gcts_db *db, const char *key, int64_t value)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, value);
    return gcts_set_meta(db, key, buf);
}

int64_t gcts_add_mapping(gcts_db *db, const gcts_mapping *m)
{
    if (!db)
        return -1;
    if (!m || !m->path)
        return gcts_i_fail(db, "add_mapping: no path");
    sqlite3_stmt *st = gcts_i_stmt(db, GCTS_ST_ADD_MAPPING, "add_mapping");
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    if (m->id > 0)
        bind_i64(st, 1, m->id, &rc);
    else if (rc == SQLITE_OK)
        rc = sqlite3_bind_null(st, 1);
    bind_text(st, 2, m->path, &rc);
    bind_text(st, 3, m->build_id, &rc);
    bind_u64(st, 4, m->start, &rc);
    bind_u64(st, 5, m->end, &rc);
    bind_u64(st, 6, m->file_offset, &rc);
    if (step_reset(db, st, rc, "add_mapping") != 0)
        return -1;
    return m->id > 0 ? m->id : (int64_t)sqlite3_last_insert_rowid(db->db);
}

int gcts_add_frame(gcts_db *db, const gcts_frame *f)
{
    if (!db)
        return -1;
    if (!f)
        return gcts_i_fail(db, "add_frame: no frame");
    sqlite3_stmt *st = gcts_i_stmt(db, GCTS_ST_ADD_FRAME, "add_frame");
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    bind_u64(st, 1, f->ip, &rc);
    bind_text(st, 2, f->function, &rc);
    bind_text(st, 3, f->file, &rc);
    bind_i64(st, 4, f->line, &rc);
    bind_text(st, 5, f->module, &rc);
    bind_opt(st, 6, f->mapping_id == 0 ? GCTS_NULL : f->mapping_id, &rc);
    return step_reset(db, st, rc, "add_frame");
}

/* Appends v in decimal at p; returns the end. */
static char *put_dec(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

int gcts_add_stack(gcts_db *db, int64_t id, uint64_t hash, const uint64_t *ips, int depth)
{
    if (!db)
        return -1;
    if (depth < 0 || (depth > 0 && !ips))
        return gcts_i_fail(db, "add_stack: bad depth %d", depth);
    /* 20 digits + a space per frame, and the NUL. */
    size_t need = (size_t)depth * 21 + 1;
    if (need > db->frames_cap) {
        size_t cap = db->frames_cap ? db->frames_cap : 256;
        while (cap < need)
            cap *= 2;
        char *p = realloc(db->frames, cap);
        if (!p)
            return gcts_i_fail(db, "add_stack: %s", strerror(ENOMEM));
        db->frames = p;
        db->frames_cap = cap;
    }
    char *p = db->frames;
    for (int i = 0; i < depth; i++) {
        if (i)
            *p++ = ' ';
        p = put_dec(p, ips[i]);
    }
    *p = '\0';

    sqlite3_stmt *st = gcts_i_stmt(db, GCTS_ST_ADD_STACK, "add_stack");
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    bind_i64(st, 1, id, &rc);
    bind_u64(st, 2, hash, &rc);
    bind_i64(st, 3, depth, &rc);
    /* SQLITE_STATIC: db->frames is only changed by the next gcts_add_stack,
     * which rebinds the parameter first. */
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 4, db->frames, (int)(p - db->frames), SQLITE_STATIC);
    return step_reset(db, st, rc, "add_stack");
}

int gcts_add_sample(gcts_db *db, const gcts_sample *s)
{
    if (!db)
        return -1;
    if (!s)
        return gcts_i_fail(db, "add_sample: no sample");
    sqlite3_stmt *st = gcts_i_stmt(db, GCTS_ST_ADD_SAMPLE, "add_sample");
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    bind_i64(st, 1, s->id, &rc);
    bind_i64(st, 2, s->time_ns, &rc);
    bind_u64(st, 3, s->address, &rc);
    bind_u64(st, 4, s->size, &rc);
    bind_i64(st, 5, s->stack_id, &rc);
    bind_dbl(st, 6, s->weight, &rc);
    bind_opt(st, 7, s->freed_ns < 0 ? GCTS_NULL : s->freed_ns, &rc);
    bind_i64(st, 8, s->thread, &rc);
    return step_reset(db, st, rc, "add_sample");
}

/* A sample that does not exist is not an error: returns 1. */
int gcts_mark_freed(gcts_db *db, int64_t sample_id, int64_t freed_ns)
{
    if (!db)
        return -1;
    sqlite3_stmt *st = gcts_i_stmt(db, GCTS_ST_MARK_FREED, "mark_freed");
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    bind_i64(st, 1, sample_id, &rc);
    bind_opt(st, 2, freed_ns < 0 ? GCTS_NULL : freed_ns, &rc);
    if (step_reset(db, st, rc, "mark_freed") != 0)
        return -1;
    return sqlite3_changes(db->db) == 0 ? 1 : 0;
}

int gcts_add_gc_cycle(gcts_db *db, const gcts_gc_cycle *c)
{
    if (!db)
        return -1;
    if (!c)
        return gcts_i_fail(db, "add_gc_cycle: no cycle");
    sqlite3_stmt *st = gcts_i_stmt(db, GCTS_ST_ADD_GC_CYCLE, "add_gc_cycle");
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    bind_opt(st, 1, c->num, &rc);
    bind_opt(st, 2, c->start_ns, &rc);
    bind_opt(st, 3, c->end_ns, &rc);
    bind_opt(st, 4, c->pause_ns, &rc);
    bind_opt(st, 5, c->heap_before, &rc);
    bind_opt(st, 6, c->heap_after, &rc);
    bind_opt(st, 7, c->heap_marked, &rc);
    bind_opt(st, 8, c->heap_goal, &rc);
    bind_opt(st, 9, c->gc_percent, &rc);
    bind_opt(st, 10, c->memory_limit, &rc);
    bind_opt(st, 11, c->mark_cpu_ns, &rc);
    bind_opt(st, 12, c->assist_cpu_ns, &rc);
    bind_opt(st, 13, c->background_cpu_ns, &rc);
    bind_opt(st, 14, c->idle_cpu_ns, &rc);
    bind_opt(st, 15, c->concurrent, &rc);
    bind_opt(st, 16, c->forced, &rc);
    bind_opt(st, 17, c->procs, &rc);
    bind_dbl(st, 18, c->gc_cpu_fraction, &rc);
    return step_reset(db, st, rc, "add_gc_cycle");
}

int gcts_add_heap_point(gcts_db *db, const gcts_heap_point *p)
{
    if (!db)
        return -1;
    if (!p)
        return gcts_i_fail(db, "add_heap_point: no point");
    sqlite3_stmt *st = gcts_i_stmt(db, GCTS_ST_ADD_HEAP_POINT, "add_heap_point");
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    bind_opt(st, 1, p->time_ns, &rc);
    bind_opt(st, 2, p->heap_alloc, &rc);
    bind_opt(st, 3, p->heap_sys, &rc);
    bind_opt(st, 4, p->heap_released, &rc);
    bind_opt(st, 5, p->rss, &rc);
    bind_opt(st, 6, p->next_gc, &rc);
    bind_opt(st, 7, p->heap_inuse, &rc);
    bind_opt(st, 8, p->total_alloc, &rc);
    bind_opt(st, 9, p->num_gc, &rc);
    bind_opt(st, 10, p->gc_percent, &rc);
    bind_opt(st, 11, p->memory_limit, &rc);
    bind_dbl(st, 12, p->gc_cpu_fraction, &rc);
    return step_reset(db, st, rc, "add_heap_point");
}

int gcts_add_tuner_event(gcts_db *db, const gcts_tuner_event *e)
{
    if (!db)
        return -1;
    if (!e)
        return gcts_i_fail(db, "add_tuner_event: no event");
    sqlite3_stmt *st = gcts_i_stmt(db, GCTS_ST_ADD_TUNER_EVENT, "add_tuner_event");
    if (!st)
        return -1;
    int rc = SQLITE_OK;
    bind_i64(st, 1, e->time_ns, &rc);
    bind_text(st, 2, e->knob, &rc);
    bind_opt(st, 3, e->old_value, &rc);
    bind_opt(st, 4, e->new_value, &rc);
    bind_text(st, 5, e->reason, &rc);
    bind_text(st, 6, e->measurements, &rc);
    return step_reset(db, st, rc, "add_tuner_event");
}
