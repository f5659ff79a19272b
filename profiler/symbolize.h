/* profiler/symbolize.h - the heap profiler's symbolizer: turns raw
 * instruction pointers captured in this process (gctp_sym_new) or in
 * another one (gctp_sym_new_pid) into function, source file:line and
 * module, and lists the executable mappings of the loaded modules with
 * their GNU build-ids (the store's frames and mappings tables).
 *
 * Internal to gctune (prefix gctp_, not exported from libgctune.so).
 *
 * Backends: with elfutils libdw (configure's HAVE_LIBDW), libdwfl reports
 * this process's modules from /proc/self/maps and resolves names from the
 * ELF symbol tables and file:line from the DWARF line tables.  Separate
 * debug files are looked for on the local disk only: by build-id under
 * /usr/lib/debug/.build-id (Debian's -dbg and -dbgsym packages), then by
 * .gnu_debuglink next to the module, in its .debug/ directory and under
 * /usr/lib/debug; never debuginfod (libdwfl's standard search would dlopen
 * libdebuginfod and libcurl into the process, and download when
 * DEBUGINFOD_URLS is set).  Without libdw, dladdr: the function name only
 * where the symbol is dynamic (exported, or the program linked with
 * -rdynamic), file NULL and line 0.  Mappings and build-ids come from
 * dl_iterate_phdr in both cases.
 *
 * Threads: ONE thread at a time may be inside gctp_sym_* calls (the
 * profile writer); there is no lock inside.  This holds across
 * symbolizers too: libdw promises no more.  Any thread may dlopen or
 * dlclose meanwhile.  It allocates with plain malloc only (never the collected
 * heap) and is meant to run off the allocating path: a first lookup of an
 * ip costs microseconds (the first in a module reads its symbol and line
 * tables: milliseconds), a repeated one is a hash-table probe.
 *
 * Garbage ips (0, 1, kernel addresses, unmapped or anonymous memory) are
 * answered -1; nothing is ever read at the looked-up address.
 */
#ifndef GCTUNE_SYMBOLIZE_H
#define GCTUNE_SYMBOLIZE_H

#include <stdint.h>

typedef struct gctp_symbolizer gctp_symbolizer;

typedef struct gctp_sym {
    const char *function;   /* NULL if unknown; not demangled */
    const char *file;       /* source file path, NULL without debug info */
    int line;               /* 0 if unknown */
    const char *module;     /* path of the module (executable or .so), NULL if none */
    int mapping;            /* index into the mappings list, -1 if none */
} gctp_sym;

/* One executable PT_LOAD segment of a loaded module: [start, end) in this
 * process's address space, mapped from file_offset of path.  The main
 * program's path is readlink("/proc/self/exe"); the vDSO's is "[vdso]". */
typedef struct gctp_mapping {
    const char *path;
    const char *build_id;   /* GNU build-id in lowercase hex, NULL if none */
    uint64_t start, end, file_offset;
} gctp_mapping;

/* Debug counters (gctp_sym_get_stats), cumulative since gctp_sym_new. */
typedef struct gctp_sym_stats {
    uint64_t lookups;        /* gctp_sym_lookup calls */
    uint64_t cache_hits;     /* answered from the cache (found or not) */
    uint64_t backend_calls;  /* ips resolved by libdw (or dladdr): one per
                                distinct address found in a module, again
                                after a module was unloaded */
    uint64_t refreshes;      /* module list rebuilt (gctp_sym_new, dlopen, dlclose;
                                pid mode: /proc/PID/maps read) */
} gctp_sym_stats;

/* Reads the loaded modules.  NULL on failure (out of memory). */
gctp_symbolizer *gctp_sym_new(void);

/* A symbolizer for the process pid (not necessarily this one, e.g. the
 * parent of a helper process that symbolizes for it).
 *
 * Modules come from /proc/PID/maps: each file with an executable mapping
 * whose path starts with '/' (the vDSO, anonymous and [special] mappings
 * are not modules; " (deleted)" is cut off the path).  Paths are the
 * kernel's canonical ones: /usr/lib/x86_64-linux-gnu/libc.so.6 where the
 * loader, and so gctp_sym_new, may say /lib/x86_64-linux-gnu/libc.so.6.
 * A module's build-id and PT_LOAD segments are read from its file on disk,
 * so its mappings are those gctp_sym_new reports in that process (the
 * lines of the maps themselves when the file cannot be read, was deleted,
 * or does not agree with them).  Nothing is read from the target's memory.
 *
 * Same lookup and mapping semantics as gctp_sym_new (cache, append-only
 * mappings list, interned strings), except:
 *   - a lookup of a new address outside every known module reads
 *     /proc/PID/maps again (at most once per new address; a not-found
 *     result is cached for the generation of the module list, which
 *     changes only when a read finds modules loaded or unloaded);
 *     gctp_sym_mappings never reads it; a new address inside a known
 *     module is looked up there without reading it (so an unload followed
 *     by a load at the same place goes unseen until some other miss);
 *   - once the process has exited (a read finds it gone, a zombie, or
 *     another process under pid), the modules known then keep resolving
 *     and the list never changes again;
 *   - with libdw, function and file:line come from the files' symbol and
 *     DWARF line tables (separate debug files as above), each file opened
 *     at the first lookup in it, by path, and used only if its build-id is
 *     still the one read when the module was seen: a module whose file is
 *     gone or was replaced (or already deleted when seen) resolves to its
 *     module and mapping only.  dladdr is never used.  Without libdw:
 *     module and mapping only (function and file NULL, line 0);
 *   - stats.refreshes counts the reads of /proc/PID/maps that found the
 *     process alive.
 * The caller needs the right to read /proc/PID/maps (same user, or
 * ptrace-read access).  NULL if pid is not a live process whose maps can
 * be read, or out of memory.  Only native ELF files (this process's class
 * and byte order) give build-ids and symbols. */
gctp_symbolizer *gctp_sym_new_pid(int pid);

/* Symbolizes ip.  is_return_address: ip is a return address (every frame
 * of unw_backtrace but the leaf), so look up ip - 1, inside the call
 * instruction, for the caller's function and the line of the call.
 * Results are cached per looked-up address.  Strings stay valid until
 * gctp_sym_free.  Returns 0 if the address lies in a loaded module
 * (function, file may still be NULL), -1 otherwise with every field
 * NULL/0/-1.  Modules loaded since the last lookup are found: a miss
 * rebuilds the module list when dlopen or dlclose ran in between. */
int gctp_sym_lookup(gctp_symbolizer *s, uint64_t ip, int is_return_address, gctp_sym *out);

/* The mappings seen so far (brought up to date first if modules were
 * loaded or unloaded); returns the count.  The list is append-only: an
 * index, once returned by gctp_sym_lookup, keeps meaning the same mapping,
 * and mappings of unloaded modules stay listed, so a writer can store
 * entries [n_written, count) incrementally.  *out is valid until the next
 * gctp_sym_lookup or gctp_sym_mappings call; the strings until
 * gctp_sym_free. */
int gctp_sym_mappings(gctp_symbolizer *s, const gctp_mapping **out);

void gctp_sym_get_stats(const gctp_symbolizer *s, gctp_sym_stats *out);

/* "libdw" or "dladdr": the backend compiled in (only "libdw" gives file
 * and line). */
const char *gctp_sym_backend(void);

/* NULL is accepted. */
void gctp_sym_free(gctp_symbolizer *s);

#endif /* GCTUNE_SYMBOLIZE_H */
