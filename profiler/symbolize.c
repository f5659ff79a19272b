/* profiler/symbolize.c - the symbolizer (symbolize.h), for this process
 * (gctp_sym_new) or another one (gctp_sym_new_pid: "pid mode").
 *
 * Owns, per gctp_symbolizer:
 *   - segs: the live PT_LOAD segments of every loaded module, sorted by
 *     start, rebuilt from dl_iterate_phdr by refresh() (pid mode: from
 *     /proc/PID/maps and the modules' files by pid_refresh(), see pmods).
 *     An address is "in a module" iff it lies in one of them; nothing else
 *     decides it, and no looked-up address is ever dereferenced (only the
 *     loader's program headers and the PT_NOTE contents of loaded objects
 *     are read; in pid mode, nothing of the target's memory at all).
 *   - pmods (pid mode): the modules of the last good read of the maps,
 *     each with its segments and build-id, reused while the same file
 *     stays mapped at the same place, so a read opens only new files.
 *   - maps: the public mappings list, one entry per executable PT_LOAD
 *     segment ever seen; append-only, so indices handed out stay valid.  A
 *     live executable segment carries the index of its mapping.
 *   - cache: open-addressing hash table, looked-up address (ip, or ip - 1
 *     for a return address) -> result.  A found result is kept until a
 *     module is unloaded (then the whole cache is dropped: the address may
 *     now belong to something else); a not-found result is kept for the
 *     generation of the module list it was computed with.
 *   - strs: interned copies of every string handed out (function, file,
 *     module, build-id), in chunks freed only by gctp_sym_free, so results
 *     outlive libdwfl dropping an unloaded module.
 *   - with libdw (dlopen'ed at the first symbolizer, dwfl_dyn.h; if it
 *     cannot be loaded, dladdr only), a Dwfl reporting this process
 *     (dwfl_linux_proc_report),
 *     re-reported whenever segs is rebuilt, whose debug files are searched
 *     on the local disk only (find_debuginfo_local: never debuginfod); and
 *     per Dwfl_Module a sorted index of its function symbols (symidx),
 *     built at the first lookup in the module and dropped at every refresh
 *     (its names point into libdwfl's copy of the module).  Names match
 *     dwfl_module_addrinfo's but for the choice among aliases.  Pid mode
 *     (dwfl_report_pid): each module reported by hand (dwfl_report_module)
 *     and its file found by path, checked against the build-id read when
 *     the module was seen (find_elf_by_path); a read adds the new modules,
 *     and re-reports all (dropping symidx) only when one went.
 *
 * Invariants: gen changes on every refresh (pid mode: on every read that
 * finds the module list changed); dl_adds/dl_subs are the
 * loader's counters at the last refresh, so a cheap dl_iterate_phdr that
 * stops at the first object tells whether anything was loaded or unloaded
 * since.  backend_calls counts resolve() calls, the only place libdw (or
 * dladdr) is asked about an address.  Memory comes from malloc only.
 * Pid mode: pid_gone, once set, is never cleared (the module list is
 * frozen: no read of a dead, zombie or reused pid replaces it), and
 * dladdr is never called (it answers about this address space).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "symbolize.h"
#include "fnv.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

/* GCTP_SYM_NO_LIBDW forces the dladdr backend (its own unit test). */
#if defined(HAVE_LIBDW) && !defined(GCTP_SYM_NO_LIBDW)
#define SYM_USE_LIBDW 1
#include "dwfl_dyn.h"   /* libdw through dlopen, at the first symbolizer */
#endif

/* ---- interned strings ---- */

#define STR_CHUNK 65536

struct str_chunk {
    struct str_chunk *next;
    size_t used, cap;
    char data[];
};

struct strtab {
    const char **slots;     /* cap slots, NULL = empty; cap a power of 2 */
    size_t cap, n;
    struct str_chunk *chunks;
};

/* ---- the cache ---- */

struct centry {
    uint64_t pc;
    const char *function, *file, *module;
    int line, mapping;
    uint32_t gen;           /* refresh generation (for not-found results) */
    uint8_t used, found;
};

/* ---- modules ---- */

struct seg {
    uint64_t lo, hi;        /* [lo, hi) */
    uint64_t offset;        /* p_offset */
    const char *path, *build_id;   /* interned */
    int exec;
    int mapping;            /* index in maps if exec, else -1 */
};

/* pid mode: one instance of a module mapped in the target, from the
 * lines of /proc/PID/maps naming one file (up to the next line naming
 * another), kept only if one of its lines is executable. */
struct pmod {
    const char *path;       /* interned, without " (deleted)" */
    uint64_t first, hi;     /* start of its first line, end of its last */
    uint64_t base;          /* start of its offset-0 line (the ELF header) */
    unsigned long long dev, ino;
    int deleted;            /* the file was unlinked: never opened */
    int has_base;
    int elf_ok;             /* segs come from the file's PT_LOADs, which agree
                               with the lines and with where libdwfl will
                               place them: libdw may resolve in it */
    const char *build_id;   /* interned, read from the file's PT_NOTE */
    struct seg *segs;       /* its segments (owned) */
    size_t nsegs;
};

struct gctp_symbolizer {
    struct seg *segs;
    size_t nsegs;

    /* pid mode (gctp_sym_new_pid): pid > 0 */
    int pid;
    unsigned long long pid_start;   /* its start time, /proc/PID/stat field 22 */
    int pid_gone;                   /* it exited: the module list is frozen */
    struct pmod *pmods;             /* the modules of the last maps read */
    size_t npmods;

    gctp_mapping *maps;
    int nmaps, capmaps;

    struct centry *cache;
    size_t cache_cap, cache_n;   /* cap a power of 2 */

    struct strtab strs;

    const char *exe;             /* interned readlink(/proc/self/exe) */
    uint64_t vdso;               /* AT_SYSINFO_EHDR, 0 if none */
    unsigned long long dl_adds, dl_subs;
    int dl_counted;              /* the libc reports dlpi_adds/dlpi_subs */
    uint32_t gen;

    gctp_sym_stats stats;
#ifdef SYM_USE_LIBDW
    Dwfl *dwfl;                  /* NULL: dwfl_begin failed, dladdr only */
    uint32_t dwfl_gen;           /* gen of the last re-report on a miss */
    struct symidx *symidx;       /* per Dwfl_Module, built at first use */
    size_t nsymidx, capsymidx;
#endif
};

#ifdef SYM_USE_LIBDW
/* A module's function symbols sorted by (lo, rank): binary search instead
 * of dwfl_module_addrinfo, which scans the whole symbol table per call
 * (150 us an address in libc with its debug symbols). */
struct fsym {
    uint64_t lo, hi;        /* [lo, hi) */
    const char *name;       /* libdwfl's: valid until the next refresh */
    uint32_t rank;          /* smaller is preferred among aliases */
};

struct symidx {
    Dwfl_Module *mod;
    struct fsym *syms;
    uint64_t *maxend;       /* maxend[i] = max(syms[0..i].hi) */
    size_t n;
};
#endif

/* ---- strings ---- */

static uint64_t hash_str(const char *p)
{
    return gct_fnv1a_str(p);
}

static int strtab_grow(struct strtab *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 256;
    const char **ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        const char *str = t->slots[i];
        if (!str)
            continue;
        size_t j = hash_str(str) & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = str;
    }
    free(t->slots);
    t->slots = ns;
    t->cap = ncap;
    return 0;
}

static char *strtab_copy(struct strtab *t, const char *str, size_t len)
{
    struct str_chunk *c = t->chunks;
    if (!c || c->cap - c->used < len + 1) {
        size_t cap = len + 1 > STR_CHUNK ? len + 1 : STR_CHUNK;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->used = 0;
        c->cap = cap;
        /* A big string gets its own chunk behind the current one, which
         * keeps its free space. */
        if (t->chunks && cap > STR_CHUNK) {
            c->next = t->chunks->next;
            t->chunks->next = c;
        } else {
            c->next = t->chunks;
            t->chunks = c;
        }
    }
    char *p = c->data + c->used;
    memcpy(p, str, len + 1);
    c->used += len + 1;
    return p;
}

/* The interned copy of str; NULL for NULL or when out of memory. */
static const char *intern(gctp_symbolizer *s, const char *str)
{
    struct strtab *t = &s->strs;
    if (!str)
        return NULL;
    if ((t->n + 1) * 2 > t->cap && strtab_grow(t) != 0)
        return NULL;
    size_t j = hash_str(str) & (t->cap - 1);
    for (; t->slots[j]; j = (j + 1) & (t->cap - 1))
        if (strcmp(t->slots[j], str) == 0)
            return t->slots[j];
    char *p = strtab_copy(t, str, strlen(str));
    if (!p)
        return NULL;
    t->slots[j] = p;
    t->n++;
    return p;
}

static void strtab_free(struct strtab *t)
{
    while (t->chunks) {
        struct str_chunk *next = t->chunks->next;
        free(t->chunks);
        t->chunks = next;
    }
    free(t->slots);
}

/* ---- cache ---- */

static size_t hash_pc(uint64_t pc, size_t cap)
{
    uint64_t h = pc;                 /* murmur3's fmix64 */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return (size_t)h & (cap - 1);
}

static struct centry *cache_find(gctp_symbolizer *s, uint64_t pc)
{
    if (!s->cache)
        return NULL;
    for (size_t j = hash_pc(pc, s->cache_cap);; j = (j + 1) & (s->cache_cap - 1)) {
        struct centry *e = &s->cache[j];
        if (!e->used)
            return NULL;
        if (e->pc == pc)
            return e;
    }
}

static int cache_grow(gctp_symbolizer *s)
{
    size_t ncap = s->cache_cap ? s->cache_cap * 2 : 1024;
    struct centry *nc = calloc(ncap, sizeof *nc);
    if (!nc)
        return -1;
    for (size_t i = 0; i < s->cache_cap; i++) {
        if (!s->cache[i].used)
            continue;
        size_t j = hash_pc(s->cache[i].pc, ncap);
        while (nc[j].used)
            j = (j + 1) & (ncap - 1);
        nc[j] = s->cache[i];
    }
    free(s->cache);
    s->cache = nc;
    s->cache_cap = ncap;
    return 0;
}

/* Inserts or replaces; out of memory leaves the result uncached. */
static void cache_put(gctp_symbolizer *s, const struct centry *e)
{
    struct centry *old = cache_find(s, e->pc);
    if (old) {
        *old = *e;
        return;
    }
    if ((s->cache_n + 1) * 10 > s->cache_cap * 7 && cache_grow(s) != 0)
        return;
    size_t j = hash_pc(e->pc, s->cache_cap);
    while (s->cache[j].used)
        j = (j + 1) & (s->cache_cap - 1);
    s->cache[j] = *e;
    s->cache[j].used = 1;
    s->cache_n++;
}

static void cache_clear(gctp_symbolizer *s)
{
    if (s->cache)
        memset(s->cache, 0, s->cache_cap * sizeof *s->cache);
    s->cache_n = 0;
}

/* ---- modules ---- */

struct collect {
    gctp_symbolizer *s;
    struct seg *segs;
    size_t n, cap;
    int index;
    int failed;
    int counted;
    unsigned long long adds, subs;
};

/* [lo, hi) lies inside the file-backed part of a PT_LOAD segment. */
static int in_loaded_file(const struct dl_phdr_info *info, uint64_t lo, uint64_t hi)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && ph->p_vaddr <= lo && hi <= ph->p_vaddr + ph->p_filesz)
            return 1;
    }
    return 0;
}

/* Writes the NT_GNU_BUILD_ID note among the notes p[0..size) (aligned to
 * align) to hex as lowercase hex; 0 if found, -1 if none. */
static int note_build_id_hex(const unsigned char *p, size_t size, size_t align, char hex[129])
{
    static const char hexdigits[] = "0123456789abcdef";
    size_t off = 0;
    while (size - off >= sizeof(ElfW(Nhdr))) {
        ElfW(Nhdr) nh;
        memcpy(&nh, p + off, sizeof nh);
        if (nh.n_namesz > size || nh.n_descsz > size)
            break;
        size_t name_off = off + sizeof nh;
        size_t desc_off = name_off + ((nh.n_namesz + align - 1) & ~(align - 1));
        if (desc_off > size || size - desc_off < nh.n_descsz)
            break;
        if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
            memcmp(p + name_off, "GNU", 4) == 0 &&
            nh.n_descsz > 0 && nh.n_descsz <= 64) {
            for (size_t k = 0; k < nh.n_descsz; k++) {
                hex[2 * k] = hexdigits[p[desc_off + k] >> 4];
                hex[2 * k + 1] = hexdigits[p[desc_off + k] & 15];
            }
            hex[2 * nh.n_descsz] = '\0';
            return 0;
        }
        off = desc_off + ((nh.n_descsz + align - 1) & ~(align - 1));
        if (off >= size)
            break;
    }
    return -1;
}

/* The NT_GNU_BUILD_ID note of a loaded object, read from its PT_NOTE
 * segments in memory, as lowercase hex (interned); NULL if none. */
static const char *read_build_id(gctp_symbolizer *s, const struct dl_phdr_info *info)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE || ph->p_memsz < sizeof(ElfW(Nhdr)))
            continue;
        if (!in_loaded_file(info, ph->p_vaddr, ph->p_vaddr + ph->p_memsz))
            continue;
        char hex[129];
        if (note_build_id_hex((const unsigned char *)(info->dlpi_addr + ph->p_vaddr),
                              ph->p_memsz, ph->p_align == 8 ? 8 : 4, hex) == 0)
            return intern(s, hex);
    }
    return NULL;
}

/* dl_iterate_phdr callback: one loaded object's PT_LOAD segments.  Runs
 * with the loader's lock held: plain malloc only, no dl* calls. */
static int collect_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    struct collect *c = data;
    gctp_symbolizer *s = c->s;
    int index = c->index++;

    if (c->failed)
        return 1;
    if (index == 0 && size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
        c->counted = 1;
        c->adds = info->dlpi_adds;
        c->subs = info->dlpi_subs;
    }

    int is_vdso = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && ph->p_offset == 0 &&
            s->vdso != 0 && info->dlpi_addr + ph->p_vaddr == s->vdso)
            is_vdso = 1;
    }
    const char *path;
    if (is_vdso)
        path = intern(s, "[vdso]");
    else if (info->dlpi_name && info->dlpi_name[0])
        path = intern(s, info->dlpi_name);
    else if (index == 0 && s->exe)
        path = s->exe;
    else
        path = intern(s, "[unknown]");
    if (!path) {
        c->failed = 1;
        return 1;
    }
    const char *build_id = read_build_id(s, info);

    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
            continue;
        if (c->n == c->cap) {
            size_t ncap = c->cap ? c->cap * 2 : 64;
            struct seg *ns = realloc(c->segs, ncap * sizeof *ns);
            if (!ns) {
                c->failed = 1;
                return 1;
            }
            c->segs = ns;
            c->cap = ncap;
        }
        struct seg *g = &c->segs[c->n++];
        g->lo = (uint64_t)info->dlpi_addr + ph->p_vaddr;
        g->hi = g->lo + ph->p_memsz;
        g->offset = ph->p_offset;
        g->path = path;
        g->build_id = build_id;
        g->exec = (ph->p_flags & PF_X) != 0;
        g->mapping = -1;
    }
    return 0;
}

static int seg_cmp(const void *a, const void *b)
{
    const struct seg *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The segment of segs[0..n) (sorted) containing pc, NULL if none. */
static const struct seg *seg_find(const struct seg *segs, size_t n, uint64_t pc)
{
    size_t lo = 0, hi = n;           /* first segment with lo > pc */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (segs[mid].lo <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || pc >= segs[lo - 1].hi)
        return NULL;
    return &segs[lo - 1];
}

/* Index of a mapping for executable segment g: the one it had at the last
 * refresh if the same object is still there, else a new entry. */
static int mapping_for(gctp_symbolizer *s, const struct seg *g)
{
    const struct seg *old = seg_find(s->segs, s->nsegs, g->lo);
    if (old && old->mapping >= 0 && old->lo == g->lo && old->hi == g->hi &&
        old->offset == g->offset && old->path == g->path && old->build_id == g->build_id)
        return old->mapping;
    if (s->nmaps == s->capmaps) {
        int ncap = s->capmaps ? s->capmaps * 2 : 32;
        gctp_mapping *nm = realloc(s->maps, (size_t)ncap * sizeof *nm);
        if (!nm)
            return -1;
        s->maps = nm;
        s->capmaps = ncap;
    }
    gctp_mapping *m = &s->maps[s->nmaps];
    m->path = g->path;
    m->build_id = g->build_id;
    m->start = g->lo;
    m->end = g->hi;
    m->file_offset = g->offset;
    return s->nmaps++;
}

#ifdef SYM_USE_LIBDW
/* ---- libdw: finding debug files ----
 *
 * dwfl_standard_find_debuginfo ends with debuginfod, and merely trying it
 * makes libdwfl 0.188 dlopen libdebuginfod and its ~30 dependencies
 * (libcurl, gnutls, krb5...) into the profiled process, and fetch over the
 * network when DEBUGINFOD_URLS is set.  This callback searches the local
 * disk only: the build-id tree of the debuginfo path
 * (/usr/lib/debug/.build-id/xx/yyyy.debug: Debian's -dbg and -dbgsym
 * packages, dwz files), then the .gnu_debuglink file next to the module,
 * in its .debug/ directory and under /usr/lib/debug, checked by CRC. */

/* The CRC-32 (as in .gnu_debuglink) of the file open at fd is crc. */
static int crc_matches(int fd, uint32_t crc)
{
    enum { BUF = 65536 };
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    unsigned char *buf = malloc(BUF);
    if (!buf)
        return 0;
    uint32_t c = 0xffffffffu;
    off_t off = 0;
    ssize_t n;
    while ((n = pread(fd, buf, BUF, off)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            c = table[(c ^ buf[i]) & 0xff] ^ (c >> 8);
        off += n;
    }
    free(buf);
    return n == 0 && ~c == crc;
}

/* Opens dir + mid + name if its CRC is crc; sets *path (malloc'd). */
static int try_debuglink(const char *dir, const char *mid, const char *name,
                         uint32_t crc, char **path)
{
    size_t len = strlen(dir) + strlen(mid) + strlen(name) + 2;
    char *p = malloc(len);
    if (!p)
        return -1;
    snprintf(p, len, "%s%s/%s", dir, mid, name);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && crc_matches(fd, crc)) {
        *path = p;
        return fd;
    }
    if (fd >= 0)
        close(fd);
    free(p);
    return -1;
}

/* Separate debug files of the system's own libraries (libc6-dbg and other
 * -dbgsym packages) are large: loading libc's takes 0.1 to 0.6 s, which a
 * short profiled run would pay at exit for line numbers inside libc that
 * nobody tuning an allocation site needs.  So modules under the system
 * library directories use their own symbol tables only, unless
 * GCTUNE_SYSTEM_DEBUGINFO=1. */
static int system_module(const char *file_name)
{
    static int all = -1;
    if (all < 0) {
        const char *e = getenv("GCTUNE_SYSTEM_DEBUGINFO");
        all = e && strcmp(e, "1") == 0;
    }
    if (all || !file_name)
        return 0;
    static const char *const dirs[] = { "/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/" };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        if (strncmp(file_name, dirs[i], strlen(dirs[i])) == 0)
            return 1;
    return 0;
}

static int find_debuginfo_local(Dwfl_Module *mod, void **userdata, const char *modname,
                                Dwarf_Addr base, const char *file_name,
                                const char *debuglink_file, GElf_Word debuglink_crc,
                                char **debuginfo_file_name)
{
    if (system_module(file_name))
        return -1;
    int fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name,
                                          debuglink_file, debuglink_crc,
                                          debuginfo_file_name);
    if (fd >= 0 || !file_name || file_name[0] != '/' || !debuglink_file ||
        !debuglink_file[0] || strchr(debuglink_file, '/') || debuglink_crc == 0)
        return fd;
    char *real = realpath(file_name, NULL);
    const char *files[2] = { file_name, real };
    for (int f = 0; f < 2 && fd < 0; f++) {
        if (!files[f] || (f == 1 && strcmp(files[0], files[1]) == 0))
            continue;
        const char *slash = strrchr(files[f], '/');
        char dir[PATH_MAX];
        size_t dlen = (size_t)(slash - files[f]);
        if (dlen >= sizeof dir)
            continue;
        memcpy(dir, files[f], dlen);
        dir[dlen] = '\0';
        static const char *const mids[] = { "", "/.debug" };
        for (int m = 0; m < 2 && fd < 0; m++)
            fd = try_debuglink(dir, mids[m], debuglink_file, debuglink_crc,
                               debuginfo_file_name);
        if (fd < 0)
            fd = try_debuglink("/usr/lib/debug", dir, debuglink_file, debuglink_crc,
                               debuginfo_file_name);
    }
    free(real);
    return fd;
}

/* dwfl_linux_proc_find_elf, whose address is known only once libdw is
 * loaded (dwfl_dyn.h), while the callbacks are constant */
static int find_elf_proc(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                         char **file_name, Elf **elfp)
{
    return dwfl_linux_proc_find_elf(mod, userdata, modname, base, file_name, elfp);
}

static char *dwfl_debuginfo_path;    /* NULL: the default, /usr/lib/debug */
static const Dwfl_Callbacks dwfl_callbacks = {
    .find_elf = find_elf_proc,
    .find_debuginfo = find_debuginfo_local,
    .debuginfo_path = &dwfl_debuginfo_path,
};

/* ---- libdw: function symbols ---- */

/* Among symbols at one address: global, then weak, then local; a
 * function before an untyped label; fewer leading underscores ("malloc"
 * before "__libc_malloc"); shorter. */
static uint32_t sym_rank(const GElf_Sym *sym, const char *name)
{
    uint32_t bind = GELF_ST_BIND(sym->st_info) == STB_GLOBAL ? 0
                  : GELF_ST_BIND(sym->st_info) == STB_WEAK ? 1 : 2;
    uint32_t notype = GELF_ST_TYPE(sym->st_info) == STT_NOTYPE;
    uint32_t under = 0;
    while (name[under] == '_' && under < 15)
        under++;
    size_t len = strlen(name);
    return bind << 28 | notype << 27 | under << 20 | (uint32_t)(len < 0xfffff ? len : 0xfffff);
}

static int fsym_cmp(const void *a, const void *b)
{
    const struct fsym *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* The function symbols of mod (none if it has no symbol table). */
static int symidx_build(Dwfl_Module *mod, struct symidx *x)
{
    *x = (struct symidx){ .mod = mod };
    int n = dwfl_module_getsymtab(mod);
    if (n <= 0)
        return 0;
    x->syms = malloc((size_t)n * sizeof *x->syms);
    if (!x->syms)
        return -1;
    for (int i = 0; i < n; i++) {
        GElf_Sym sym;
        GElf_Addr addr;
        GElf_Word shndx;
        const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, &shndx, NULL, NULL);
        if (!name || !name[0] || shndx == SHN_UNDEF || shndx == SHN_ABS ||
            shndx == (GElf_Word)-1)
            continue;
        int type = GELF_ST_TYPE(sym.st_info);
        if (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_NOTYPE)
            continue;
        struct fsym *f = &x->syms[x->n++];
        f->lo = addr;
        f->hi = addr + sym.st_size;
        f->name = name;
        f->rank = sym_rank(&sym, name);
    }
    if (x->n == 0)
        return 0;
    qsort(x->syms, x->n, sizeof *x->syms, fsym_cmp);
    /* A size-less symbol (assembly without .size, labels) extends to the
     * next symbol or the end of its section, as in libdwfl's lookup; an
     * untyped one only in code. */
    for (size_t i = 0, next = 0; i < x->n; i++) {
        struct fsym *f = &x->syms[i];
        if (f->hi != f->lo)
            continue;
        while (next < x->n && x->syms[next].lo <= f->lo)
            next++;
        Dwarf_Addr rel = f->lo, bias;
        Elf_Scn *scn = dwfl_module_address_section(mod, &rel, &bias);
        GElf_Shdr shdr;
        if (!scn || !gelf_getshdr(scn, &shdr) ||
            ((f->rank >> 27 & 1) && !(shdr.sh_flags & SHF_EXECINSTR)))
            continue;                    /* stays empty: never matches */
        uint64_t end = f->lo - rel + shdr.sh_size;
        if (next < x->n && x->syms[next].lo < end)
            end = x->syms[next].lo;
        f->hi = end;
    }
    x->maxend = malloc(x->n * sizeof *x->maxend);
    if (!x->maxend) {
        free(x->syms);
        *x = (struct symidx){ .mod = mod };
        return -1;
    }
    uint64_t m = 0;
    for (size_t i = 0; i < x->n; i++)
        x->maxend[i] = m = x->syms[i].hi > m ? x->syms[i].hi : m;
    return 0;
}

/* The innermost function symbol containing pc, the best ranked of its
 * aliases; NULL if none. */
static const char *symidx_find(const struct symidx *x, uint64_t pc)
{
    size_t lo = 0, hi = x->n;            /* first symbol with lo > pc */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x->syms[mid].lo <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* maxend stops the walk down once nothing below can contain pc. */
    for (size_t i = lo; i > 0 && x->maxend[i - 1] > pc; i--) {
        const struct fsym *f = &x->syms[i - 1];
        if (pc < f->hi) {
            while (f > x->syms && f[-1].lo == f->lo && pc < f[-1].hi)
                f--;
            return f->name;
        }
    }
    return NULL;
}

static const char *dw_function(gctp_symbolizer *s, Dwfl_Module *mod, uint64_t pc)
{
    struct symidx *x = NULL;
    for (size_t i = 0; i < s->nsymidx; i++)
        if (s->symidx[i].mod == mod) {
            x = &s->symidx[i];
            break;
        }
    if (!x) {
        if (s->nsymidx == s->capsymidx) {
            size_t ncap = s->capsymidx ? s->capsymidx * 2 : 16;
            struct symidx *n = realloc(s->symidx, ncap * sizeof *n);
            if (!n)
                return NULL;
            s->symidx = n;
            s->capsymidx = ncap;
        }
        x = &s->symidx[s->nsymidx];
        if (symidx_build(mod, x) != 0)
            return NULL;
        s->nsymidx++;
    }
    return symidx_find(x, pc);
}

static void symidx_clear(gctp_symbolizer *s)
{
    for (size_t i = 0; i < s->nsymidx; i++) {
        free(s->symidx[i].syms);
        free(s->symidx[i].maxend);
    }
    s->nsymidx = 0;
}

/* Re-reports the process's modules; libdwfl keeps the modules (and their
 * loaded symbol and line tables) that are still there.  The symbol indices
 * point into modules that may go: rebuilt on demand. */
static void dwfl_reload(gctp_symbolizer *s)
{
    symidx_clear(s);
    if (!s->dwfl)
        return;
    dwfl_report_begin(s->dwfl);
    dwfl_linux_proc_report(s->dwfl, getpid());   /* failure: fewer modules */
    dwfl_report_end(s->dwfl, NULL, NULL);
}
#endif

/* Rebuilds segs (and the Dwfl) from the loaded objects.  0, or -1 out of
 * memory (the previous state is kept). */
static int refresh(gctp_symbolizer *s)
{
    struct collect c = { .s = s };
    dl_iterate_phdr(collect_cb, &c);
    if (c.failed) {
        free(c.segs);
        return -1;
    }
    qsort(c.segs, c.n, sizeof *c.segs, seg_cmp);
    for (size_t i = 0; i < c.n; i++)
        if (c.segs[i].exec)
            c.segs[i].mapping = mapping_for(s, &c.segs[i]);

    int unloaded = s->gen != 0 && (!c.counted || c.subs != s->dl_subs);
    free(s->segs);
    s->segs = c.segs;
    s->nsegs = c.n;
    s->dl_counted = c.counted;
    s->dl_adds = c.adds;
    s->dl_subs = c.subs;
    s->gen++;
    s->stats.refreshes++;
    if (unloaded)
        cache_clear(s);
#ifdef SYM_USE_LIBDW
    dwfl_reload(s);
#endif
    return 0;
}

static int count_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    struct collect *c = data;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
        c->counted = 1;
        c->adds = info->dlpi_adds;
        c->subs = info->dlpi_subs;
    }
    return 1;                        /* the first object is enough */
}

/* Refreshes if anything was loaded or unloaded since the last refresh. */
static void sync_modules(gctp_symbolizer *s)
{
    struct collect c = { .s = s };
    dl_iterate_phdr(count_cb, &c);
    if (c.counted && s->dl_counted && c.adds == s->dl_adds && c.subs == s->dl_subs)
        return;
    refresh(s);                      /* out of memory: try again next miss */
}

/* ---- another process (gctp_sym_new_pid) ----
 *
 * The module list comes from /proc/PID/maps; build-ids and PT_LOAD
 * segments from the mapped files on disk (opened by path; a file shown
 * " (deleted)" is never opened: the path may now name another file), and
 * nothing from the target's memory.  A read of the maps counts only if the
 * process was alive, the same process (its start time), and still had its
 * address space (vsize > 0: exit drops the mm before the process becomes a
 * zombie) both before and after it: the maps come in many read()s, each
 * under the mm's lock, so a read across exit is truncated or empty; and
 * the pid may be reused.  Once a read fails that way, the list is frozen.
 * (An exec keeps pid and start time: a read across one is not detected.) */

/* The start time (field 22 of /proc/PID/stat) of pid and whether it is a
 * live process (not a zombie, its address space still there: vsize, field
 * 23, not 0).  -1 if it does not exist. */
static int pid_stat(int pid, unsigned long long *start, int *alive)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');     /* comm may hold spaces and ')' */
    if (!p || p[1] != ' ' || !p[2])
        return -1;
    char state = p[2];
    p += 3;
    for (int field = 4; field <= 21; field++) {  /* skip to field 22 */
        p = strchr(p + 1, ' ');
        if (!p)
            return -1;
    }
    char *end, *end2;
    *start = strtoull(p + 1, &end, 10);
    unsigned long long vsize = strtoull(end, &end2, 10);
    if (end == p + 1 || end2 == end)
        return -1;
    *alive = state != 'Z' && state != 'X' && state != 'x' && vsize > 0;
    return 0;
}

/* 1 if the target is alive and the process gctp_sym_new_pid saw. */
static int pid_same_alive(gctp_symbolizer *s)
{
    unsigned long long start;
    int alive;
    return pid_stat(s->pid, &start, &alive) == 0 && alive && start == s->pid_start;
}

/* The whole of /proc/PID/maps, NUL-terminated (malloc'd); NULL on error. */
static char *read_maps(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (cap - len < 4096) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0) {
            free(buf);
            buf = NULL;
        } else if (n == 0) {
            buf[len] = '\0';
            break;
        } else {
            len += (size_t)n;
        }
    }
    close(fd);
    return buf;
}

/* One line of the maps naming a file. */
struct mline {
    uint64_t start, end, offset;
    unsigned long long dev, ino;
    int exec, deleted;
    const char *path;          /* into the maps buffer, suffix cut */
};

/* Parses one line (NUL-terminated, no newline); 0 if it names a file. */
static int parse_mline(char *line, struct mline *m)
{
    static const char deleted[] = " (deleted)";
    unsigned long long start, end, offset, ino;
    unsigned int major, minor;
    char perms[8];
    int pos = 0;
    if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &offset,
               &major, &minor, &ino, &pos) < 7 || pos == 0)
        return -1;
    char *path = line + pos;
    if (path[0] != '/' || start >= end)   /* anonymous, [heap], [vdso]... */
        return -1;
    size_t len = strlen(path), dl = sizeof deleted - 1;
    m->deleted = len > dl && strcmp(path + len - dl, deleted) == 0;
    if (m->deleted)
        path[len - dl] = '\0';
    m->start = start;
    m->end = end;
    m->offset = offset;
    m->dev = (unsigned long long)major << 32 | minor;
    m->ino = ino;
    m->exec = strchr(perms, 'x') != NULL;
    m->path = path;
    return 0;
}

/* What gctp_sym_new_pid reads of a module's file: its PT_LOAD headers and
 * build-id. */
struct elf_info {
    ElfW(Phdr) *loads;       /* malloc'd */
    size_t nloads;
    char build_id[129];      /* lowercase hex, "" if none */
};

/* Reads the ELF and program headers of the file open at fd (the native
 * class and byte order only) and its PT_NOTE build-id.  0, or -1 if it is
 * not such an ELF file or cannot be read. */
static int elf_info_fd(int fd, struct elf_info *ei)
{
    *ei = (struct elf_info){ 0 };
    ElfW(Ehdr) eh;
    ElfW(Phdr) *ph = NULL;
    int rc = -1;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32) ||
        eh.e_ident[EI_DATA] != (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB
                                                                           : ELFDATA2MSB) ||
        eh.e_phentsize != sizeof *ph || eh.e_phnum == 0 || eh.e_phnum >= PN_XNUM)
        return -1;
    size_t phsize = (size_t)eh.e_phnum * sizeof *ph;
    ph = malloc(phsize);
    ei->loads = malloc(phsize);
    if (!ph || !ei->loads || pread(fd, ph, phsize, (off_t)eh.e_phoff) != (ssize_t)phsize)
        goto out;
    for (int i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && ph[i].p_memsz > 0)
            ei->loads[ei->nloads++] = ph[i];
        if (ph[i].p_type != PT_NOTE || ei->build_id[0] ||
            ph[i].p_filesz < sizeof(ElfW(Nhdr)) || ph[i].p_filesz > 65536)
            continue;
        unsigned char *notes = malloc(ph[i].p_filesz);
        if (notes && pread(fd, notes, ph[i].p_filesz, (off_t)ph[i].p_offset) ==
                         (ssize_t)ph[i].p_filesz &&
            note_build_id_hex(notes, ph[i].p_filesz, ph[i].p_align == 8 ? 8 : 4,
                              ei->build_id) != 0)
            ei->build_id[0] = '\0';
        free(notes);
    }
    rc = 0;
out:
    free(ph);
    if (rc != 0) {
        free(ei->loads);
        *ei = (struct elf_info){ 0 };
    }
    return rc;
}

/* Opens path if it is a regular file (never a FIFO or a device, where
 * open or read may block); -1 otherwise. */
static int open_regular(const char *path)
{
    struct stat st;
    if (!path || path[0] != '/' || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    return open(path, O_RDONLY | O_CLOEXEC);
}

/* Appends a segment to m->segs; -1 out of memory. */
static int pmod_add_seg(struct pmod *m, uint64_t lo, uint64_t hi, uint64_t offset, int exec)
{
    struct seg *ns = realloc(m->segs, (m->nsegs + 1) * sizeof *ns);
    if (!ns)
        return -1;
    m->segs = ns;
    ns[m->nsegs++] = (struct seg){ .lo = lo, .hi = hi, .offset = offset, .path = m->path,
                                   .build_id = m->build_id, .exec = exec, .mapping = -1 };
    return 0;
}

/* Fills m's build-id and segments from its file and lines[0..n): the file's
 * PT_LOAD segments placed as the loader does (as dl_iterate_phdr reports
 * them in-process) when its executable ones agree with the lines, else the
 * lines themselves.  -1 out of memory. */
static int pmod_segments(gctp_symbolizer *s, struct pmod *m, const struct mline *lines, size_t n)
{
    struct elf_info ei = { 0 };
    int fd = m->deleted ? -1 : open_regular(m->path);
    int elf = fd >= 0 && elf_info_fd(fd, &ei) == 0;
    if (fd >= 0)
        close(fd);
    if (elf) {
        m->build_id = ei.build_id[0] ? intern(s, ei.build_id) : NULL;
        uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
        int ok = m->has_base && ei.nloads > 0 && (ei.loads[0].p_offset & ~(page - 1)) == 0;
        uint64_t bias = m->base - (ei.loads[0].p_vaddr & ~(page - 1));
        /* The loader maps the first PT_LOAD (file offset 0) at its page;
         * libdwfl assumes it at its p_align boundary. */
        int dwfl_agrees = ok && (ei.loads[0].p_align <= 1 ||
                                 (ei.loads[0].p_vaddr & ~(ei.loads[0].p_align - 1)) ==
                                     (ei.loads[0].p_vaddr & ~(page - 1)));
        for (size_t i = 0; ok && i < ei.nloads; i++) {
            const ElfW(Phdr) *ph = &ei.loads[i];
            if (!(ph->p_flags & PF_X))
                continue;
            int matched = 0;
            for (size_t k = 0; k < n && !matched; k++)
                matched = lines[k].exec &&
                          lines[k].start == ((bias + ph->p_vaddr) & ~(page - 1)) &&
                          lines[k].offset == (ph->p_offset & ~(page - 1));
            ok = matched;
        }
        for (size_t i = 0; ok && i < ei.nloads; i++) {
            const ElfW(Phdr) *ph = &ei.loads[i];
            if (pmod_add_seg(m, bias + ph->p_vaddr, bias + ph->p_vaddr + ph->p_memsz,
                             ph->p_offset, (ph->p_flags & PF_X) != 0) != 0) {
                free(ei.loads);
                return -1;
            }
        }
        m->elf_ok = ok && dwfl_agrees;
        free(ei.loads);
        if (ok)
            return 0;
    }
    for (size_t k = 0; k < n; k++)
        if (pmod_add_seg(m, lines[k].start, lines[k].end, lines[k].offset, lines[k].exec) != 0)
            return -1;
    return 0;
}

static void pmods_free(struct pmod *mods, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(mods[i].segs);
    free(mods);
}

/* Same module instance (same file at the same place; a file deleted
 * since it was first seen stays the same module, with what was read of
 * it then). */
static int pmod_same(const struct pmod *a, const struct pmod *b)
{
    return a->path == b->path && a->first == b->first && a->hi == b->hi &&
           a->dev == b->dev && a->ino == b->ino;
}

static const struct pmod *pmod_find(const struct pmod *mods, size_t n, const struct pmod *m)
{
    for (size_t i = 0; i < n; i++)
        if (pmod_same(&mods[i], m))
            return &mods[i];
    return NULL;
}

/* Adds the module whose lines are lines[0..n) to mods if one of them is
 * executable, its segments copied from the previous read when it was
 * there already.  -1 out of memory. */
static int pmod_collect(gctp_symbolizer *s, struct pmod **mods, size_t *nmods, size_t *cap,
                        const struct mline *lines, size_t n)
{
    int exec = 0;
    for (size_t k = 0; k < n; k++)
        exec |= lines[k].exec;
    if (!exec)
        return 0;                    /* a data file, not a module */
    if (*nmods == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        struct pmod *nm = realloc(*mods, ncap * sizeof *nm);
        if (!nm)
            return -1;
        *mods = nm;
        *cap = ncap;
    }
    struct pmod *m = &(*mods)[*nmods];
    *m = (struct pmod){ .path = intern(s, lines[0].path), .first = lines[0].start,
                        .hi = lines[n - 1].end, .dev = lines[0].dev, .ino = lines[0].ino,
                        .deleted = lines[0].deleted };
    if (!m->path)
        return -1;
    for (size_t k = 0; k < n && !m->has_base; k++)
        if (lines[k].offset == 0) {
            m->has_base = 1;
            m->base = lines[k].start;
        }
    const struct pmod *old = pmod_find(s->pmods, s->npmods, m);
    if (old) {
        *m = *old;
        m->segs = malloc(old->nsegs * sizeof *m->segs);
        if (!m->segs)
            return -1;
        memcpy(m->segs, old->segs, old->nsegs * sizeof *m->segs);
    } else if (pmod_segments(s, m, lines, n) != 0) {
        free(m->segs);
        return -1;
    }
    (*nmods)++;
    return 0;
}

/* The modules in maps (modified: lines cut).  0, or -1 out of memory. */
static int parse_maps(gctp_symbolizer *s, char *maps, struct pmod **out, size_t *nout)
{
    struct pmod *mods = NULL;
    size_t nmods = 0, cap = 0;
    struct mline *lines = NULL;      /* the current module's lines */
    size_t nlines = 0, caplines = 0;
    int rc = 0;
    for (char *line = maps; rc == 0 && line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        struct mline m;
        if (parse_mline(line, &m) == 0) {
            /* Another file, or the same one mapped again from its start,
             * begins a new module. */
            if (nlines > 0 && (strcmp(lines[0].path, m.path) != 0 || lines[0].dev != m.dev ||
                               lines[0].ino != m.ino || m.offset == 0)) {
                rc = pmod_collect(s, &mods, &nmods, &cap, lines, nlines);
                nlines = 0;
            }
            if (rc == 0 && nlines == caplines) {
                size_t ncap = caplines ? caplines * 2 : 16;
                struct mline *nl2 = realloc(lines, ncap * sizeof *nl2);
                if (nl2) {
                    lines = nl2;
                    caplines = ncap;
                } else {
                    rc = -1;
                }
            }
            if (rc == 0)
                lines[nlines++] = m;
        }
        line = nl ? nl + 1 : NULL;
    }
    if (rc == 0 && nlines > 0)
        rc = pmod_collect(s, &mods, &nmods, &cap, lines, nlines);
    free(lines);
    if (rc != 0) {
        pmods_free(mods, nmods);
        return -1;
    }
    *out = mods;
    *nout = nmods;
    return 0;
}

#ifdef SYM_USE_LIBDW
/* libdwfl's find_elf in pid mode: the module's file by path (the module
 * name), never the target's memory (dwfl_linux_proc_find_elf reads the
 * vDSO and deleted files from /proc/PID/mem).  *userdata is the build-id
 * read when the module was first seen (interned, or NULL): a file with
 * another one (replaced since, e.g. by an upgrade) is not used. */
static int find_elf_by_path(Dwfl_Module *mod, void **userdata, const char *modname,
                            Dwarf_Addr base, char **file_name, Elf **elfp)
{
    (void)mod;
    (void)base;
    *elfp = NULL;
    int fd = open_regular(modname);
    if (fd < 0)
        return -1;
    const char *want = *userdata;
    struct elf_info ei;
    if (want) {
        int same = elf_info_fd(fd, &ei) == 0 && strcmp(ei.build_id, want) == 0;
        free(ei.loads);
        if (!same) {
            close(fd);
            return -1;
        }
    }
    *file_name = strdup(modname);
    return fd;
}

static const Dwfl_Callbacks dwfl_pid_callbacks = {
    .find_elf = find_elf_by_path,
    .find_debuginfo = find_debuginfo_local,
    .debuginfo_path = &dwfl_debuginfo_path,
};

/* Reports mods[0..n) to libdwfl: all of them, dropping the others (all),
 * or only those not in old[0..nold) (added to the ones it has). */
static void dwfl_report_pid(gctp_symbolizer *s, const struct pmod *mods, size_t n,
                            const struct pmod *old, size_t nold, int all)
{
    if (!s->dwfl)
        return;
    if (all) {
        symidx_clear(s);             /* the dropped modules' names go */
        dwfl_report_begin(s->dwfl);
    } else {
        dwfl_report_begin_add(s->dwfl);
    }
    for (size_t i = 0; i < n; i++) {
        if (!mods[i].elf_ok || (!all && pmod_find(old, nold, &mods[i])))
            continue;
        Dwfl_Module *dm = dwfl_report_module(s->dwfl, mods[i].path, mods[i].base, mods[i].hi);
        void **userdata;
        if (dm && dwfl_module_info(dm, &userdata, NULL, NULL, NULL, NULL, NULL, NULL))
            *userdata = (void *)(uintptr_t)mods[i].build_id;   /* for find_elf_by_path */
    }
    dwfl_report_end(s->dwfl, NULL, NULL);
}
#endif

/* Reads the target's modules again.  0 if read (s->gen changes only if
 * the list did), -1 if the target is gone (from now on the list stays as
 * it is) or out of memory. */
static int pid_refresh(gctp_symbolizer *s)
{
    if (s->pid_gone)
        return -1;
    char *maps = pid_same_alive(s) ? read_maps(s->pid) : NULL;
    if (!pid_same_alive(s)) {
        free(maps);
        s->pid_gone = 1;
        return -1;
    }
    if (!maps)
        return -1;                   /* out of memory: again at the next miss */
    struct pmod *mods;
    size_t nmods;
    int rc = parse_maps(s, maps, &mods, &nmods);
    free(maps);
    if (rc != 0)
        return -1;
    if (nmods == 0) {                /* cannot be: the program is mapped */
        free(mods);
        return -1;
    }
    s->stats.refreshes++;

    int added = 0, removed = 0;
    for (size_t i = 0; i < nmods; i++)
        added |= !pmod_find(s->pmods, s->npmods, &mods[i]);
    for (size_t i = 0; i < s->npmods; i++)
        removed |= !pmod_find(mods, nmods, &s->pmods[i]);
    if (s->gen != 0 && !added && !removed) {
        pmods_free(mods, nmods);
        return 0;
    }

    size_t nsegs = 0;
    for (size_t i = 0; i < nmods; i++)
        nsegs += mods[i].nsegs;
    struct seg *segs = malloc((nsegs ? nsegs : 1) * sizeof *segs);
    if (!segs) {
        pmods_free(mods, nmods);
        return -1;
    }
    nsegs = 0;
    for (size_t i = 0; i < nmods; i++)
        for (size_t k = 0; k < mods[i].nsegs; k++)
            segs[nsegs++] = mods[i].segs[k];
    qsort(segs, nsegs, sizeof *segs, seg_cmp);
    for (size_t i = 0; i < nsegs; i++)
        if (segs[i].exec)
            segs[i].mapping = mapping_for(s, &segs[i]);

#ifdef SYM_USE_LIBDW
    dwfl_report_pid(s, mods, nmods, s->pmods, s->npmods, removed || s->gen == 0);
#endif
    if (removed)
        cache_clear(s);              /* an address may now be another's */
    free(s->segs);
    s->segs = segs;
    s->nsegs = nsegs;
    pmods_free(s->pmods, s->npmods);
    s->pmods = mods;
    s->npmods = nmods;
    s->gen++;
    return 0;
}

/* ---- symbolization ---- */

/* Fills e->function, file, line for pc, which lies in a loaded module. */
static void resolve(gctp_symbolizer *s, uint64_t pc, struct centry *e)
{
    const char *function = NULL, *file = NULL;
    int line = 0;

    s->stats.backend_calls++;
#ifdef SYM_USE_LIBDW
    Dwfl_Module *mod = s->dwfl ? dwfl_addrmodule(s->dwfl, pc) : NULL;
    if (!mod && s->dwfl && !s->pid && s->dwfl_gen != s->gen) {
        /* /proc/self/maps was read while another thread was in dlopen:
         * read it again, once per generation of the module list. */
        s->dwfl_gen = s->gen;
        dwfl_reload(s);
        mod = dwfl_addrmodule(s->dwfl, pc);
    }
    if (mod) {
        function = dw_function(s, mod, pc);
        Dwfl_Line *ln = dwfl_module_getsrc(mod, pc);
        if (ln) {
            int lineno = 0;
            file = dwfl_lineinfo(ln, NULL, &lineno, NULL, NULL, NULL);
            if (file)
                line = lineno > 0 ? lineno : 0;
        }
    }
#endif
    if (!function && !s->pid) {
        /* glibc's dladdr names a symbol only if it contains pc (in this
         * process: never in pid mode). */
        Dl_info di;
        if (dladdr((void *)(uintptr_t)pc, &di) && di.dli_sname && di.dli_saddr)
            function = di.dli_sname;
    }
    e->function = intern(s, function);
    e->file = intern(s, file);
    e->line = e->file ? line : 0;
}

static void fill(gctp_sym *out, const struct centry *e)
{
    out->function = e->function;
    out->file = e->file;
    out->line = e->line;
    out->module = e->module;
    out->mapping = e->mapping;
}

int gctp_sym_lookup(gctp_symbolizer *s, uint64_t ip, int is_return_address, gctp_sym *out)
{
    static const gctp_sym none = { NULL, NULL, 0, NULL, -1 };
    *out = none;
    if (!s)
        return -1;
    s->stats.lookups++;
    uint64_t pc = is_return_address ? ip - 1 : ip;

    struct centry *e = cache_find(s, pc);
    if (e && e->found) {
        s->stats.cache_hits++;
        fill(out, e);
        return 0;
    }
    if (s->pid) {
        if (e && e->gen == s->gen) {
            s->stats.cache_hits++;
            return -1;
        }
        /* Only a new address missing every known module reads the maps:
         * an old miss is checked against the list as it is now. */
        if (!e && !seg_find(s->segs, s->nsegs, pc))
            pid_refresh(s);
    } else if (e) {                  /* not found when the list had gen */
        uint32_t gen = e->gen;
        sync_modules(s);
        if (gen == s->gen) {
            s->stats.cache_hits++;
            return -1;
        }
    } else {
        sync_modules(s);
    }

    struct centry n = { .pc = pc, .gen = s->gen, .mapping = -1 };
    const struct seg *g = seg_find(s->segs, s->nsegs, pc);
    if (g) {
        n.found = 1;
        n.module = g->path;
        n.mapping = g->mapping;
        resolve(s, pc, &n);
    }
    cache_put(s, &n);
    if (!n.found)
        return -1;
    fill(out, &n);
    return 0;
}

int gctp_sym_mappings(gctp_symbolizer *s, const gctp_mapping **out)
{
    if (!s) {
        *out = NULL;
        return 0;
    }
    if (!s->pid)
        sync_modules(s);
    *out = s->maps;
    return s->nmaps;
}

void gctp_sym_get_stats(const gctp_symbolizer *s, gctp_sym_stats *out)
{
    static const gctp_sym_stats zero;
    *out = s ? s->stats : zero;
}

const char *gctp_sym_backend(void)
{
#ifdef SYM_USE_LIBDW
    return gctp_dwfl_load() == 0 ? "libdw" : "dladdr";
#else
    return "dladdr";
#endif
}

gctp_symbolizer *gctp_sym_new(void)
{
    gctp_symbolizer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        s->exe = intern(s, exe);
    }
    s->vdso = getauxval(AT_SYSINFO_EHDR);
#ifdef SYM_USE_LIBDW
    if (gctp_dwfl_load() == 0)
        s->dwfl = dwfl_begin(&dwfl_callbacks);   /* NULL: names from dladdr */
#endif
    if (refresh(s) != 0) {
        gctp_sym_free(s);
        return NULL;
    }
    return s;
}

gctp_symbolizer *gctp_sym_new_pid(int pid)
{
    unsigned long long start;
    int alive;
    if (pid <= 0 || pid_stat(pid, &start, &alive) != 0 || !alive)
        return NULL;
    gctp_symbolizer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->pid = pid;
    s->pid_start = start;
#ifdef SYM_USE_LIBDW
    if (gctp_dwfl_load() == 0)
        s->dwfl = dwfl_begin(&dwfl_pid_callbacks);   /* NULL: modules only */
#endif
    if (pid_refresh(s) != 0) {
        gctp_sym_free(s);
        return NULL;
    }
    return s;
}

void gctp_sym_free(gctp_symbolizer *s)
{
    if (!s)
        return;
#ifdef SYM_USE_LIBDW
    symidx_clear(s);
    free(s->symidx);
    if (s->dwfl)
        dwfl_end(s->dwfl);
#endif
    free(s->segs);
    pmods_free(s->pmods, s->npmods);
    free(s->maps);
    free(s->cache);
    strtab_free(&s->strs);
    free(s);
}
