-- store/schema.sql - the gctune run database, schema version 1.
--
-- One SQLite file per run (WAL mode); PRAGMA user_version holds the schema
-- version.  Table and column names are a contract (DESIGN.md): columns may be
-- added, never renamed or removed.  Readers must accept files with a
-- user_version <= theirs and refuse newer ones.
--
-- Conventions:
--   * times are nanoseconds; *_ns columns in samples, gc_cycles, heap_series
--     and tuner_events count from the start of the run (meta.start_time_ns,
--     wall clock, Unix epoch ns);
--   * addresses and instruction pointers are stored as INTEGER (user-space
--     addresses fit in a signed 64-bit value);
--   * sizes are bytes.
-- No secondary indexes are created while recording (insert speed); readers
-- build the ones they need (store.h: gcts_build_indexes).

-- Key/value facts about the run.  Keys written by the profiler:
--   schema_version, gctune_version, program, argv (JSON array), pid, host,
--   backend, capabilities (space-separated names), sample_rate,
--   start_time_ns, end_time_ns, duration_ns, dropped_samples, dropped_frees,
--   samples, clean_exit ("1" when stopped normally), source ("profiler" or
--   "gctrace" for imported runs), gogc, gomemlimit.
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT
) WITHOUT ROWID;

-- Loaded modules (executable and shared objects).
CREATE TABLE IF NOT EXISTS mappings (
    id          INTEGER PRIMARY KEY,
    path        TEXT NOT NULL,
    build_id    TEXT,              -- hex GNU build-id, NULL if none
    start       INTEGER NOT NULL,  -- first mapped address
    end         INTEGER NOT NULL,  -- one past the last
    file_offset INTEGER NOT NULL DEFAULT 0   -- file offset mapped at start
);

-- One row per distinct instruction pointer (a return address as unwound,
-- except the leaf), symbolized once.
CREATE TABLE IF NOT EXISTS frames (
    ip         INTEGER PRIMARY KEY,
    function   TEXT,               -- NULL when unknown
    file       TEXT,               -- source file, NULL without debug info
    line       INTEGER,            -- 0 when unknown
    module     TEXT,               -- path of the module holding ip
    mapping_id INTEGER             -- mappings.id
);

-- Distinct stacks.  frames: the instruction pointers in decimal, space-
-- separated ("94200824053753 94200824058503"), allocation site (leaf) first,
-- the outermost caller last; decimal so that SQL can join them with
-- frames.ip (CAST(token AS INTEGER)).  hash is the profiler's 64-bit hash
-- of the ips.
CREATE TABLE IF NOT EXISTS stacks (
    id     INTEGER PRIMARY KEY,
    hash   INTEGER NOT NULL,
    depth  INTEGER NOT NULL,
    frames TEXT NOT NULL
);

-- Sampled allocations.  An allocation of size s sampled at mean interval r
-- stands for weight = 1 / (1 - exp(-s/r)) allocations (1 at r = 1), so
-- sum(weight * size) estimates allocated bytes and sum(weight) objects.
-- freed_ns is set when the object is freed (collector sweep or explicit
-- free); NULL means still in use at the end of the recording.
CREATE TABLE IF NOT EXISTS samples (
    id       INTEGER PRIMARY KEY,
    time_ns  INTEGER NOT NULL,
    address  INTEGER NOT NULL,
    size     INTEGER NOT NULL,     -- requested bytes
    stack_id INTEGER NOT NULL,     -- stacks.id
    weight   REAL NOT NULL,
    freed_ns INTEGER,
    thread   INTEGER               -- OS thread id of the allocating thread
);

-- Completed GC cycles.  pause_ns is the total stop-the-world time of the
-- cycle.  Go gctrace imports fill what the trace line gives (heap values
-- there have MB resolution) and leave the rest NULL.
CREATE TABLE IF NOT EXISTS gc_cycles (
    num              INTEGER PRIMARY KEY,   -- 1-based cycle number
    start_ns         INTEGER,
    end_ns           INTEGER,
    pause_ns         INTEGER,
    heap_before      INTEGER,   -- heap at the start of the cycle
    heap_after       INTEGER,   -- heap at the end of marking
    heap_marked      INTEGER,   -- live heap found by marking
    heap_goal        INTEGER,   -- goal in effect (libgc: next goal after the cycle)
    gc_percent       INTEGER,   -- GOGC in effect; -1 = off
    memory_limit     INTEGER,   -- bytes; NULL or -1 = none
    mark_cpu_ns      INTEGER,
    assist_cpu_ns    INTEGER,
    background_cpu_ns INTEGER,
    idle_cpu_ns      INTEGER,
    concurrent       INTEGER,   -- 1 if marking ran concurrently
    forced           INTEGER,   -- 1 if requested by the program
    procs            INTEGER,   -- marking threads / GOMAXPROCS
    gc_cpu_fraction  REAL       -- cumulative GC CPU fraction after the cycle
);

-- Heap time series, one row per sampling period (100 ms by default).
CREATE TABLE IF NOT EXISTS heap_series (
    time_ns       INTEGER NOT NULL,
    heap_alloc    INTEGER,
    heap_sys      INTEGER,
    heap_released INTEGER,
    rss           INTEGER,      -- resident set size from /proc, bytes
    next_gc       INTEGER,
    heap_inuse    INTEGER,
    total_alloc   INTEGER,      -- cumulative bytes allocated (rate = delta)
    num_gc        INTEGER,
    gc_percent    INTEGER,
    memory_limit  INTEGER,
    gc_cpu_fraction REAL
);

-- Decisions of the tuner (and knob changes it observed).
CREATE TABLE IF NOT EXISTS tuner_events (
    id           INTEGER PRIMARY KEY,
    time_ns      INTEGER NOT NULL,
    knob         TEXT NOT NULL,   -- "gogc", "memory_limit", or "policy" for notices
    old_value    INTEGER,
    new_value    INTEGER,
    reason       TEXT NOT NULL,   -- in words
    measurements TEXT             -- JSON object of the inputs to the decision
);
