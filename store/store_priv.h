/* store/store_priv.h - what store.c (writer) and store_read.c (reader)
 * share: the layout of struct gcts_db, its cached prepared statements and
 * error helpers.  Private to store/: nobody outside includes it.
 *
 * Invariants:
 *   - db->db is an open connection for the whole life of a gcts_db (a
 *     gcts_db is only handed out once its connection is open and checked);
 *   - db->stmt[i] is NULL or a statement prepared from gcts_i_sql(i) on
 *     db->db; each is prepared at most once and finalized by gcts_close;
 *   - a statement is always reset after it has been stepped, so that no
 *     statement holds a read transaction open between calls;
 *   - db->err holds the last failure as one line "<path>: <what>", no
 *     trailing newline ("" when nothing has failed yet).
 * Everything here is static (inline), so no symbol beyond store.h's leaves
 * the library.
 */
#ifndef GCTUNE_STORE_PRIV_H
#define GCTUNE_STORE_PRIV_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"

/* Cached statements, prepared on first use. */
enum gcts_stmt_id {
    GCTS_ST_BEGIN,
    GCTS_ST_COMMIT,
    GCTS_ST_SET_META,
    GCTS_ST_ADD_MAPPING,
    GCTS_ST_ADD_FRAME,
    GCTS_ST_ADD_STACK,
    GCTS_ST_ADD_SAMPLE,
    GCTS_ST_MARK_FREED,
    GCTS_ST_ADD_GC_CYCLE,
    GCTS_ST_ADD_HEAP_POINT,
    GCTS_ST_ADD_TUNER_EVENT,
    GCTS_ST_GET_META,
    GCTS_ST_COUNT
};

struct gcts_db {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *stmt[GCTS_ST_COUNT];
    char *frames;               /* gcts_add_stack's text buffer */
    int claim_fd;               /* gcts_create_claimed: the path's claim, closed by gcts_close; -1 none */
    int fresh_wal;              /* gcts_create: synchronous=OFF until the first gcts_commit (store.c) */
    size_t frames_cap;
    char err[1024];
};

static inline const char *gcts_i_sql(enum gcts_stmt_id id)
{
    switch (id) {
    case GCTS_ST_BEGIN:
        return "BEGIN";
    case GCTS_ST_COMMIT:
        return "COMMIT";
    case GCTS_ST_SET_META:
        return "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)";
    case GCTS_ST_ADD_MAPPING:
        return "INSERT INTO mappings(id, path, build_id, start, end, file_offset)"
               " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    case GCTS_ST_ADD_FRAME:
        return "INSERT OR REPLACE INTO frames(ip, function, file, line, module, mapping_id)"
               " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    case GCTS_ST_ADD_STACK:
        return "INSERT INTO stacks(id, hash, depth, frames) VALUES (?1, ?2, ?3, ?4)";
    case GCTS_ST_ADD_SAMPLE:
        return "INSERT INTO samples(id, time_ns, address, size, stack_id, weight, freed_ns, thread)"
               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
    case GCTS_ST_MARK_FREED:
        return "UPDATE samples SET freed_ns = ?2 WHERE id = ?1";
    case GCTS_ST_ADD_GC_CYCLE:
        return "INSERT OR REPLACE INTO gc_cycles(num, start_ns, end_ns, pause_ns,"
               " heap_before, heap_after, heap_marked, heap_goal, gc_percent, memory_limit,"
               " mark_cpu_ns, assist_cpu_ns, background_cpu_ns, idle_cpu_ns,"
               " concurrent, forced, procs, gc_cpu_fraction)"
               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
               " ?15, ?16, ?17, ?18)";
    case GCTS_ST_ADD_HEAP_POINT:
        return "INSERT INTO heap_series(time_ns, heap_alloc, heap_sys, heap_released, rss,"
               " next_gc, heap_inuse, total_alloc, num_gc, gc_percent, memory_limit,"
               " gc_cpu_fraction)"
               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
    case GCTS_ST_ADD_TUNER_EVENT:
        return "INSERT INTO tuner_events(time_ns, knob, old_value, new_value, reason, measurements)"
               " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    case GCTS_ST_GET_META:
        return "SELECT value FROM meta WHERE key = ?1";
    case GCTS_ST_COUNT:
        break;
    }
    return NULL;
}

/* Messages are one line: control characters (SQLite quotes schema text
 * with newlines) become spaces. */
static inline void gcts_i_one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
}

/* Formats one line into err[errlen] (NULL or 0 length: nothing). */
static inline __attribute__((format(printf, 3, 4)))
void gcts_i_put_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    gcts_i_one_line(err);
}

/* db->err = "<path>: " + fmt ...; returns -1 for `return gcts_i_fail(...)`. */
static inline __attribute__((format(printf, 2, 3)))
int gcts_i_fail(gcts_db *db, const char *fmt, ...)
{
    int n = snprintf(db->err, sizeof db->err, "%s: ", db->path);
    if (n < 0 || (size_t)n >= sizeof db->err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(db->err + n, sizeof db->err - (size_t)n, fmt, ap);
    va_end(ap);
    gcts_i_one_line(db->err);
    return -1;
}

/* store.c: a new database's first transaction is over (fresh_wal) */
int gcts_i_end_fresh_wal(gcts_db *db);

/* "<path>: <what>: <SQLite's message>"; returns -1. */
static inline int gcts_i_fail_sqlite(gcts_db *db, const char *what)
{
    return gcts_i_fail(db, "%s: %s", what, sqlite3_errmsg(db->db));
}

/* A new gcts_db for path, with no connection yet (NULL: out of memory). */
static inline gcts_db *gcts_i_new(const char *path)
{
    gcts_db *db = calloc(1, sizeof *db);
    if (!db)
        return NULL;
    db->claim_fd = -1;
    db->path = strdup(path);
    if (!db->path) {
        free(db);
        return NULL;
    }
    return db;
}

/* The cached statement id, prepared on first use (NULL: failure, in
 * db->err). */
static inline sqlite3_stmt *gcts_i_stmt(gcts_db *db, enum gcts_stmt_id id, const char *what)
{
    if (db->stmt[id])
        return db->stmt[id];
    int rc = sqlite3_prepare_v3(db->db, gcts_i_sql(id), -1, SQLITE_PREPARE_PERSISTENT,
                                &db->stmt[id], NULL);
    if (rc != SQLITE_OK) {
        gcts_i_fail_sqlite(db, what);
        sqlite3_finalize(db->stmt[id]);
        db->stmt[id] = NULL;
        return NULL;
    }
    return db->stmt[id];
}

#endif
