/* store/store.h - the run database (store/schema.sql): writer and reader
 * helpers shared by the profiler, the tuner and the gctune command.
 *
 * Internal to gctune (prefix gcts_, not exported from libgctune.so).
 *
 * Writer: gcts_create makes a fresh database (replacing any file and its
 * -wal/-shm companions at that path), mode 0600, WAL journal,
 * synchronous=NORMAL, the schema of schema.sql, user_version =
 * GCTS_SCHEMA_VERSION.  All inserts use prepared statements; callers group
 * them with gcts_begin/gcts_commit (a committed transaction survives a
 * SIGKILL of the process).  A gcts_db is used by one thread at a time.
 *
 * Reader: gcts_open_read validates the file and, on failure, writes one
 * line naming the file and the problem into err (no trailing newline):
 *   "<path>: no such file", "<path>: not an SQLite database",
 *   "<path>: not a gctune database (no meta table)",
 *   "<path>: schema version N is newer than this gctune supports (M);
 *   upgrade gctune", ...
 *
 * Every function returning int returns 0 on success and -1 on failure,
 * with the reason in gcts_errmsg(db).
 */
#ifndef GCTUNE_STORE_H
#define GCTUNE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#define GCTS_SCHEMA_VERSION 1

typedef struct gcts_db gcts_db;

typedef struct gcts_mapping {
    int64_t id;               /* 0: assigned by the database */
    const char *path;
    const char *build_id;     /* hex or NULL */
    uint64_t start, end, file_offset;
} gcts_mapping;

typedef struct gcts_frame {
    uint64_t ip;
    const char *function;     /* NULL if unknown */
    const char *file;         /* NULL if unknown */
    int line;                 /* 0 if unknown */
    const char *module;       /* NULL if unknown */
    int64_t mapping_id;       /* 0 if unknown (stored as NULL) */
} gcts_frame;

typedef struct gcts_sample {
    int64_t id;               /* > 0, chosen by the caller (unique) */
    int64_t time_ns;
    uint64_t address;
    uint64_t size;
    int64_t stack_id;
    double weight;
    int64_t freed_ns;         /* < 0: not freed (NULL) */
    int64_t thread;
} gcts_sample;

/* Columns of gc_cycles; a field set to GCTS_NULL is stored as NULL. */
#define GCTS_NULL INT64_MIN
typedef struct gcts_gc_cycle {
    int64_t num, start_ns, end_ns, pause_ns;
    int64_t heap_before, heap_after, heap_marked, heap_goal;
    int64_t gc_percent, memory_limit;
    int64_t mark_cpu_ns, assist_cpu_ns, background_cpu_ns, idle_cpu_ns;
    int64_t concurrent, forced, procs;
    double gc_cpu_fraction;   /* NaN: NULL */
} gcts_gc_cycle;

typedef struct gcts_heap_point {
    int64_t time_ns;
    int64_t heap_alloc, heap_sys, heap_released, rss, next_gc;
    int64_t heap_inuse, total_alloc, num_gc, gc_percent, memory_limit;
    double gc_cpu_fraction;   /* NaN: NULL */
} gcts_heap_point;

typedef struct gcts_tuner_event {
    int64_t time_ns;
    const char *knob;
    int64_t old_value, new_value;   /* GCTS_NULL: NULL */
    const char *reason;
    const char *measurements;       /* JSON object text or NULL */
} gcts_tuner_event;

/* Fills every field of c / p with GCTS_NULL (and NaN). */
void gcts_gc_cycle_init(gcts_gc_cycle *c);
void gcts_heap_point_init(gcts_heap_point *p);

/* ---- writer ---- */
/* One recording per path.  A writer claims the path (gcts_claim_path)
 * before anything of its database exists, and the database keeps the
 * claim until gcts_close has returned: a second recording aimed at the
 * same path, started at any moment of the first one's life, gets EBUSY
 * and leaves the first one's database alone (had it replaced the file
 * under the writer, the writer's close would remove the newcomer's -wal).
 * gcts_create claims the path itself ("another recording is writing this
 * database", errno EBUSY, and the file is left as it is); a recorder
 * that must claim earlier (the profiler, before it forks its helper)
 * hands its claim to gcts_create_claimed, which owns it from then on
 * (closed by gcts_close, or at once if the creation fails).  Where no
 * claim can be made at all (no socket), gcts_create goes on without. */
gcts_db *gcts_create(const char *path, char *err, size_t errlen);
/* As gcts_create, with the path claimed by the caller (claim_fd, or -1:
 * claim it here) and, if init is not NULL, init(db, arg) run in one
 * transaction on the database before it appears at path: what init
 * writes (the profiler's meta: its mode, the helper's pid, ...) is there
 * for any reader that finds the file.  init returns 0, or -1 with the
 * error left in db (gcts_set_meta's); then nothing appears at path and
 * the creation fails with that message. */
typedef int (*gcts_init_fn)(gcts_db *db, void *arg);
gcts_db *gcts_create_claimed(const char *path, int claim_fd, gcts_init_fn init, void *arg,
                             char *err, size_t errlen);
/* Claims path for one recording: a descriptor (close-on-exec) that holds
 * the claim while it, or a fork's copy of it, is open; -1 with errno
 * EBUSY if a live process holds a claim on the same file (same directory,
 * by device and inode, and same name), or another errno if no claim
 * could be made (the directory is missing, no socket).  The claim is an abstract Unix
 * socket named after the file: the kernel drops it when its last
 * descriptor is closed, a killed process included, and it never leaves a
 * file behind. */
int gcts_claim_path(const char *path);
/* 1 while a live process holds path's claim (a recording is being written
 * there: the file is missing only while it is being created), else 0
 * (none, or it cannot be told).  Never takes the claim, so a probe cannot
 * make a starting recording fail. */
int gcts_path_claimed(const char *path);
/* Removes path's database and its -wal, -shm and -journal files (absent
 * ones are fine): 0, or -1 with errno.  A recorder that claims a path
 * long before it creates the database (the profiler, whose helper
 * creates it) removes the old one at the claim, so that a claimed path
 * never holds an older recording than the claimer's. */
int gcts_remove_db(const char *path);
/* 1 while process pid exists and is not a zombie and, if comm is not
 * NULL, is named comm (/proc/PID/stat); else 0. */
int gcts_process_runs(long pid, const char *comm);
/* In a fork child: closes this process's copy of the claim (the parent's
 * stays), without touching the connection. */
void gcts_forget_claim(gcts_db *db);
int gcts_begin(gcts_db *db);
int gcts_commit(gcts_db *db);
int gcts_set_meta(gcts_db *db, const char *key, const char *value);   /* insert or replace */
int gcts_set_meta_int(gcts_db *db, const char *key, int64_t value);
/* Inserts a mapping; returns its id (> 0) or -1. */
int64_t gcts_add_mapping(gcts_db *db, const gcts_mapping *m);
int gcts_add_frame(gcts_db *db, const gcts_frame *f);                 /* insert or replace by ip */
/* ips[0] is the leaf.  id > 0 chosen by the caller. */
int gcts_add_stack(gcts_db *db, int64_t id, uint64_t hash, const uint64_t *ips, int depth);
int gcts_add_sample(gcts_db *db, const gcts_sample *s);
/* Returns 0, 1 if there is no such sample (nothing changed), or -1. */
int gcts_mark_freed(gcts_db *db, int64_t sample_id, int64_t freed_ns);
int gcts_add_gc_cycle(gcts_db *db, const gcts_gc_cycle *c);           /* insert or replace by num */
int gcts_add_heap_point(gcts_db *db, const gcts_heap_point *p);
int gcts_add_tuner_event(gcts_db *db, const gcts_tuner_event *e);

/* ---- reader ---- */
gcts_db *gcts_open_read(const char *path, char *err, size_t errlen);
/* Creates the indexes analysis needs (samples by stack, freed): needs a
 * writable file; silently skipped (returns 0) when the file is read-only. */
int gcts_build_indexes(gcts_db *db);
/* Copies meta[key] into buf (NUL-terminated, truncated); returns 0, or -1
 * if the key is absent. */
int gcts_get_meta(gcts_db *db, const char *key, char *buf, size_t len);
int gcts_get_meta_int(gcts_db *db, const char *key, int64_t *out);
int gcts_schema_version(gcts_db *db);
/* Parses a stacks.frames string (decimal tokens as written, or 0x-prefixed
 * hex) into ips (at most max); returns the count. */
int gcts_parse_frames(const char *text, uint64_t *ips, int max);

/* ---- both ---- */
sqlite3 *gcts_sqlite(gcts_db *db);
const char *gcts_path(gcts_db *db);
const char *gcts_errmsg(gcts_db *db);
void gcts_close(gcts_db *db);   /* NULL is fine; finalizes statements, commits nothing */
/* gcts_close for a writer whose caller waits on its close (a profiled
 * program at exit): the close's checkpoint copies the WAL into the file
 * and removes it without waiting for the disk (synchronous=OFF), and the
 * returned descriptor of the file (read-only, close-on-exec; -1 if it
 * could not be opened, then the close syncs as usual) is for the caller
 * to fdatasync, then close, once nobody waits.  The database is whole
 * at every moment for every process (the pages are in the kernel's
 * cache); only a machine that loses power before that fdatasync can lose
 * the end of it. */
int gcts_close_unsynced(gcts_db *db);

#endif
