/* test_symbolize.c - the profiler's symbolizer (profiler/symbolize.h).
 *
 * Built twice: test_symbolize with the configured backend (libdw when
 * configure found it) and test_symbolize_nodw with the dladdr fallback
 * (-DGCTP_SYM_NO_LIBDW, linked with -export-dynamic so that dladdr sees the
 * extern functions below).  File and line are checked only when
 * gctp_sym_backend() is "libdw".
 *
 * gctp_sym_new_pid is tested against a forked child that dlopens
 * SYMTEST_LIB (tests/unit/libsymtest.so, built from symtest_lib.c) after
 * the symbolizer was made, and against this process itself; its answers
 * are checked against known names and lines and against what the
 * in-process symbolizer says in the child for the same addresses.
 *
 * The functions symbolized here must keep their code and line tables
 * simple: the file is compiled at -O0 whatever CFLAGS say (the pragma
 * below; configure's CFLAGS come after the per-target ones), and they are
 * extern, noinline, noclone.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "symbolize.h"

#if defined(__clang__)
#pragma clang optimize off
#elif defined(__GNUC__)
#pragma GCC optimize("O0")
#endif

#define NOINLINE __attribute__((noinline, noclone))

int main(void);
NOINLINE uint64_t sym_target(void);
NOINLINE void sym_callee(uint64_t *ret);
NOINLINE int sym_caller(uint64_t *ret);

/* ---- the code being symbolized (line markers around it) ---- */

enum { TARGET_FIRST = __LINE__ + 1 };
NOINLINE uint64_t sym_target(void)
{
    volatile uint64_t ip;
here:
    ip = (uint64_t)(uintptr_t)&&here;
    return ip;
}
enum { TARGET_LAST = __LINE__ - 1 };

NOINLINE void sym_callee(uint64_t *ret)
{
    *ret = (uint64_t)(uintptr_t)__builtin_return_address(0);
}

/* Returns the line of the call to sym_callee. */
NOINLINE int sym_caller(uint64_t *ret)
{
    int line = __LINE__ + 1;
    sym_callee(ret);
    return line;
}

/* ---- helpers ---- */

static int has_lineinfo(void)
{
    return strcmp(gctp_sym_backend(), "libdw") == 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void assert_none(const gctp_sym *sym)
{
    assert_null(sym->function);
    assert_null(sym->file);
    assert_int_equal(sym->line, 0);
    assert_null(sym->module);
    assert_int_equal(sym->mapping, -1);
}

static const char *self_exe(void)
{
    static char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    assert_true(n > 0);
    path[n] = '\0';
    return path;
}

/* ---- tests ---- */

static void test_own_function(void **state)
{
    (void)state;
    gctp_symbolizer *s = gctp_sym_new();
    assert_non_null(s);
    gctp_sym sym;

    /* An ip in the middle of sym_target. */
    uint64_t ip = sym_target();
    assert_int_equal(gctp_sym_lookup(s, ip, 0, &sym), 0);
    assert_non_null(sym.function);
    assert_string_equal(sym.function, "sym_target");
    assert_non_null(sym.module);
    assert_string_equal(sym.module, self_exe());
    assert_true(sym.mapping >= 0);
    if (has_lineinfo()) {
        assert_non_null(sym.file);
        assert_true(ends_with(sym.file, "test_symbolize.c"));
        assert_in_range(sym.line, TARGET_FIRST, TARGET_LAST);
    } else {
        assert_null(sym.file);
        assert_int_equal(sym.line, 0);
    }

    /* Its entry point. */
    assert_int_equal(gctp_sym_lookup(s, (uint64_t)(uintptr_t)sym_target, 0, &sym), 0);
    assert_string_equal(sym.function, "sym_target");
    if (has_lineinfo())
        assert_in_range(sym.line, TARGET_FIRST, TARGET_LAST);

    /* A return address: the caller, at the line of the call. */
    uint64_t ret = 0;
    int call_line = sym_caller(&ret);
    assert_int_equal(gctp_sym_lookup(s, ret, 1, &sym), 0);
    assert_non_null(sym.function);
    assert_string_equal(sym.function, "sym_caller");
    if (has_lineinfo()) {
        assert_true(ends_with(sym.file, "test_symbolize.c"));
        assert_int_equal(sym.line, call_line);
    }

    gctp_sym_free(s);
}

static void test_libc(void **state)
{
    (void)state;
    gctp_symbolizer *s = gctp_sym_new();
    assert_non_null(s);
    /* lfind: neither an IFUNC nor intercepted by ASan (qsort is, under
     * --enable-sanitizers, and would resolve into libasan) */
    void *lfind_addr = dlsym(RTLD_DEFAULT, "lfind");
    assert_non_null(lfind_addr);

    gctp_sym sym;
    assert_int_equal(gctp_sym_lookup(s, (uint64_t)(uintptr_t)lfind_addr, 0, &sym), 0);
    assert_non_null(sym.module);
    assert_non_null(strstr(sym.module, "libc"));
    assert_non_null(sym.function);
    assert_string_equal(sym.function, "lfind");
    assert_true(sym.mapping >= 0);

    const gctp_mapping *maps;
    int n = gctp_sym_mappings(s, &maps);
    assert_in_range(sym.mapping, 0, n - 1);
    assert_string_equal(maps[sym.mapping].path, sym.module);
    assert_true(maps[sym.mapping].start <= (uint64_t)(uintptr_t)lfind_addr);
    assert_true((uint64_t)(uintptr_t)lfind_addr < maps[sym.mapping].end);
    gctp_sym_free(s);
}

static void test_mappings(void **state)
{
    (void)state;
    gctp_symbolizer *s = gctp_sym_new();
    assert_non_null(s);
    uint64_t main_addr = (uint64_t)(uintptr_t)main;

    const gctp_mapping *maps;
    int n = gctp_sym_mappings(s, &maps);
    assert_true(n > 0);
    int found = -1;
    for (int i = 0; i < n; i++) {
        assert_non_null(maps[i].path);
        assert_true(maps[i].start < maps[i].end);
        if (maps[i].start <= main_addr && main_addr < maps[i].end) {
            assert_int_equal(found, -1);        /* mappings do not overlap */
            found = i;
        }
    }
    assert_true(found >= 0);
    const gctp_mapping *m = &maps[found];
    assert_string_equal(m->path, self_exe());
    assert_non_null(m->build_id);
    assert_int_equal(strlen(m->build_id), 40);
    assert_int_equal(strspn(m->build_id, "0123456789abcdef"), 40);

    gctp_sym sym;
    assert_int_equal(gctp_sym_lookup(s, main_addr, 0, &sym), 0);
    assert_int_equal(sym.mapping, found);
    assert_string_equal(sym.function, "main");
    assert_string_equal(sym.module, m->path);

    /* The list does not change without dlopen/dlclose. */
    const gctp_mapping *again;
    assert_int_equal(gctp_sym_mappings(s, &again), n);
    gctp_sym_free(s);
}

static void test_dlopen_after_new(void **state)
{
    (void)state;
    /* The first of these libraries not loaded yet (libdw pulls in libz). */
    static const struct { const char *lib, *stem, *fn; } cands[] = {
        { "libsqlite3.so.0", "libsqlite3", "sqlite3_libversion" },
        { "libm.so.6", "libm", "cbrt" },
        { "libz.so.1", "libz", "zlibVersion" },
    };
    gctp_symbolizer *s = gctp_sym_new();
    assert_non_null(s);
    const gctp_mapping *maps;
    int n0 = gctp_sym_mappings(s, &maps);
    gctp_sym sym;
    assert_int_equal(gctp_sym_lookup(s, (uint64_t)(uintptr_t)sym_target, 0, &sym), 0);

    void *h = NULL;
    size_t c;
    for (c = 0; c < sizeof cands / sizeof cands[0]; c++) {
        void *loaded = dlopen(cands[c].lib, RTLD_NOW | RTLD_NOLOAD);
        if (loaded) {
            dlclose(loaded);
            continue;
        }
        h = dlopen(cands[c].lib, RTLD_NOW | RTLD_LOCAL);
        if (h)
            break;
    }
    if (!h) {
        gctp_sym_free(s);
        skip();
    }
    void *fn = dlsym(h, cands[c].fn);
    assert_non_null(fn);

    gctp_sym_stats st0, st1;
    gctp_sym_get_stats(s, &st0);
    assert_int_equal(gctp_sym_lookup(s, (uint64_t)(uintptr_t)fn, 0, &sym), 0);
    gctp_sym_get_stats(s, &st1);
    assert_int_equal(st1.refreshes, st0.refreshes + 1);
    assert_non_null(sym.module);
    assert_non_null(strstr(sym.module, cands[c].stem));
    /* The name, or an alias at the same address (libm's cbrtf64...). */
    assert_non_null(sym.function);
    assert_ptr_equal(dlsym(h, sym.function), fn);

    int n1 = gctp_sym_mappings(s, &maps);
    assert_true(n1 > n0);
    assert_in_range(sym.mapping, n0, n1 - 1);
    assert_string_equal(maps[sym.mapping].path, sym.module);

    /* Indices handed out before the refresh keep their meaning. */
    gctp_sym again;
    assert_int_equal(gctp_sym_lookup(s, (uint64_t)(uintptr_t)sym_target + 1, 0, &again), 0);
    assert_string_equal(maps[again.mapping].path, self_exe());

    gctp_sym_free(s);
    dlclose(h);
}

/* Looking up an ip in a module without a local debug file (cmocka) must
 * not make libdwfl try debuginfod, which dlopens libdebuginfod and libcurl
 * into the process.  Runs first, before any other lookup could. */
/* libdw is dlopen'ed by the first symbolizer (profiler/dwfl_dyn.h), not
 * linked: not mapped before, mapped after, and the backend is libdw; the
 * dladdr build never loads it. */
static void test_libdw_loaded_lazily(void **state)
{
    (void)state;
    void *before = dlopen("libdw.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (before)
        dlclose(before);
    assert_null(before);
    gctp_symbolizer *s = gctp_sym_new();
    assert_non_null(s);
    gctp_sym_free(s);
    void *after = dlopen("libdw.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (after)
        dlclose(after);
#if defined(HAVE_LIBDW) && !defined(GCTP_SYM_NO_LIBDW)
    assert_non_null(after);
    assert_string_equal(gctp_sym_backend(), "libdw");
#else
    assert_null(after);
    assert_string_equal(gctp_sym_backend(), "dladdr");
#endif
}

static void test_no_debuginfod(void **state)
{
    (void)state;
    void *loaded = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (loaded) {                                 /* loaded by someone else */
        dlclose(loaded);
        skip();
    }
    void *fn = dlsym(RTLD_DEFAULT, "_cmocka_run_group_tests");
    assert_non_null(fn);
    gctp_symbolizer *s = gctp_sym_new();
    assert_non_null(s);
    gctp_sym sym;
    assert_int_equal(gctp_sym_lookup(s, (uint64_t)(uintptr_t)fn + 4, 1, &sym), 0);
    assert_non_null(strstr(sym.module, "cmocka"));
    assert_string_equal(sym.function, "_cmocka_run_group_tests");
    assert_null(dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_NOLOAD));
    gctp_sym_stats st;
    gctp_sym_get_stats(s, &st);
    assert_int_equal(st.refreshes, 1);            /* nothing was loaded */
    gctp_sym_free(s);
}

static void test_garbage(void **state)
{
    (void)state;
    gctp_symbolizer *s = gctp_sym_new();
    assert_non_null(s);

    long page = sysconf(_SC_PAGESIZE);
    void *anon = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_EXEC,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(anon != MAP_FAILED);
    assert_int_equal(munmap((char *)anon + page, (size_t)page), 0);
    void *heap = malloc(64);
    assert_non_null(heap);

    const uint64_t bad[] = {
        0, 1, 2, 0xffffffffffff0000ull, 0xffffffffffffffffull,
        0xffffffff81000000ull,                    /* kernel text */
        (uint64_t)(uintptr_t)((char *)anon + page + 16),   /* unmapped */
        (uint64_t)(uintptr_t)anon + 16,           /* anonymous, not a module */
        (uint64_t)(uintptr_t)heap,
    };
    for (int round = 0; round < 2; round++)       /* second round: cached */
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
            for (int ret = 0; ret <= 1; ret++) {
                gctp_sym sym = { "x", "x", 1, "x", 7 };
                assert_int_equal(gctp_sym_lookup(s, bad[i], ret, &sym), -1);
                assert_none(&sym);
            }
    gctp_sym_stats st;
    gctp_sym_get_stats(s, &st);
    assert_int_equal(st.backend_calls, 0);

    /* A NULL symbolizer. */
    gctp_sym sym;
    assert_int_equal(gctp_sym_lookup(NULL, (uint64_t)(uintptr_t)sym_target, 0, &sym), -1);
    assert_none(&sym);

    free(heap);
    munmap(anon, (size_t)page);
    gctp_sym_free(s);
    gctp_sym_free(NULL);
}

static void test_cache(void **state)
{
    (void)state;
    enum { NIPS = 100, ROUNDS = 1000 };
    gctp_symbolizer *s = gctp_sym_new();
    assert_non_null(s);
    gctp_sym first[NIPS];
    uint64_t base = (uint64_t)(uintptr_t)sym_target;

    gctp_sym_stats st0, st1;
    gctp_sym_get_stats(s, &st0);
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < NIPS; i++) {
            gctp_sym sym;
            assert_int_equal(gctp_sym_lookup(s, base + (uint64_t)i, 0, &sym), 0);
            if (r == 0) {
                first[i] = sym;
            } else {
                assert_ptr_equal(sym.function, first[i].function);
                assert_ptr_equal(sym.file, first[i].file);
                assert_int_equal(sym.line, first[i].line);
                assert_ptr_equal(sym.module, first[i].module);
                assert_int_equal(sym.mapping, first[i].mapping);
            }
        }
    gctp_sym_get_stats(s, &st1);
    assert_int_equal(st1.lookups - st0.lookups, NIPS * ROUNDS);
    assert_int_equal(st1.backend_calls - st0.backend_calls, NIPS);
    assert_int_equal(st1.cache_hits - st0.cache_hits, NIPS * (ROUNDS - 1));
    assert_int_equal(st1.refreshes, st0.refreshes);

    /* A return address is a different key (ip - 1): one more call. */
    gctp_sym sym;
    assert_int_equal(gctp_sym_lookup(s, base + NIPS, 1, &sym), 0);
    gctp_sym_get_stats(s, &st0);
    assert_int_equal(st0.backend_calls, st1.backend_calls);   /* base+99 cached */
    assert_int_equal(gctp_sym_lookup(s, base + NIPS + 1, 1, &sym), 0);
    gctp_sym_get_stats(s, &st1);
    assert_int_equal(st1.backend_calls, st0.backend_calls + 1);
    gctp_sym_free(s);
}


/* ---- another process (gctp_sym_new_pid) ---- */

/* One address in the child, with what the child's in-process symbolizer
 * (gctp_sym_new) says about it. */
struct probe {
    uint64_t ip;
    int is_ret;
    int line_lo, line_hi;        /* where its line must be */
    int found;                   /* the in-process lookup returned 0 */
    int line;
    uint64_t map_start, map_end, map_offset;
    char function[128], file[512], module[512], build_id[132];
};

enum {
    P_EXE_IP,        /* inside sym_target */
    P_EXE_RET,       /* a return address in sym_caller */
    P_LIB_RET,       /* a return address in symtest_call (libsymtest.so) */
    P_ANON,          /* an anonymous executable mapping */
    P_LIB_SECOND,    /* inside symtest_second: looked up after the exit */
    P_LIBC,          /* lfind in libc: looked up after the exit */
    NPROBES
};

static pid_t child_pid = -1;             /* killed and reaped by pid_teardown */

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void child_fill(gctp_symbolizer *s, struct probe *p)
{
    gctp_sym sym;
    p->found = gctp_sym_lookup(s, p->ip, p->is_ret, &sym) == 0;
    copy_str(p->function, sizeof p->function, sym.function);
    copy_str(p->file, sizeof p->file, sym.file);
    copy_str(p->module, sizeof p->module, sym.module);
    p->line = sym.line;
    const gctp_mapping *maps;
    int n = gctp_sym_mappings(s, &maps);
    if (sym.mapping >= 0 && sym.mapping < n) {
        copy_str(p->build_id, sizeof p->build_id, maps[sym.mapping].build_id);
        p->map_start = maps[sym.mapping].start;
        p->map_end = maps[sym.mapping].end;
        p->map_offset = maps[sym.mapping].file_offset;
    }
}

/* The child: waits for the parent's go, dlopens lib (a copy of the test
 * library), sends its probes, waits for the parent to close its pipe,
 * exits. */
static void child_main(int in, int out, const char *lib)
{
    static struct probe p[NPROBES];
    char c;
    if (read(in, &c, 1) != 1)
        _exit(2);
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        _exit(3);
    int (*call)(uint64_t *) = (int (*)(uint64_t *))dlsym(h, "symtest_call");
    uint64_t (*second)(int *, int *) = (uint64_t (*)(int *, int *))dlsym(h, "symtest_second");
    void *lfind_addr = dlsym(RTLD_DEFAULT, "lfind");
    long page = sysconf(_SC_PAGESIZE);
    void *anon = mmap(NULL, (size_t)page, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);
    if (!call || !second || !lfind_addr || anon == MAP_FAILED)
        _exit(4);

    uint64_t ret;
    p[P_EXE_IP].ip = sym_target();
    p[P_EXE_IP].line_lo = TARGET_FIRST;
    p[P_EXE_IP].line_hi = TARGET_LAST;
    p[P_EXE_RET].line_lo = p[P_EXE_RET].line_hi = sym_caller(&ret);
    p[P_EXE_RET].ip = ret;
    p[P_EXE_RET].is_ret = 1;
    p[P_LIB_RET].line_lo = p[P_LIB_RET].line_hi = call(&ret);
    p[P_LIB_RET].ip = ret;
    p[P_LIB_RET].is_ret = 1;
    p[P_ANON].ip = (uint64_t)(uintptr_t)anon + 16;
    p[P_LIB_SECOND].ip = second(&p[P_LIB_SECOND].line_lo, &p[P_LIB_SECOND].line_hi);
    p[P_LIBC].ip = (uint64_t)(uintptr_t)lfind_addr;

    gctp_symbolizer *s = gctp_sym_new();
    if (!s)
        _exit(5);
    for (int i = 0; i < NPROBES; i++)
        child_fill(s, &p[i]);
    const char *buf = (const char *)p;
    for (size_t done = 0; done < sizeof p;) {
        ssize_t n = write(out, buf + done, sizeof p - done);
        if (n <= 0)
            _exit(6);
        done += (size_t)n;
    }
    while (read(in, &c, 1) > 0)          /* until the parent closes */
        ;
    _exit(0);
}

static int pid_teardown(void **state)
{
    (void)state;
    if (child_pid > 0) {
        kill(child_pid, SIGKILL);
        waitpid(child_pid, NULL, 0);
        child_pid = -1;
    }
    return 0;
}

static void read_full(int fd, void *buf, size_t size)
{
    for (size_t done = 0; done < size;) {
        ssize_t n = read(fd, (char *)buf + done, size - done);
        assert_true(n > 0);                 /* 0: the child failed early */
        done += (size_t)n;
    }
}

/* a and b name the same file (in-process paths are the loader's, e.g.
 * /lib/... for /usr/lib/...; pid mode's are the kernel's canonical ones). */
static void assert_same_file(const char *a, const char *b)
{
    assert_non_null(a);
    assert_non_null(b);
    char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
    assert_non_null(ra);
    assert_non_null(rb);
    int same = strcmp(ra, rb) == 0;
    free(ra);
    free(rb);
    assert_true(same);
}

static void assert_build_id(const char *id)
{
    assert_non_null(id);
    assert_int_equal(strlen(id), 40);
    assert_int_equal(strspn(id, "0123456789abcdef"), 40);
}

/* Looks p up in s; checks the module (ending with module_suffix), the
 * mapping against the child's in-process one, and function and file:line
 * (file ending with file_suffix, NULL: not checked) with libdw, or their
 * absence without. */
static void check_probe(gctp_symbolizer *s, const struct probe *p, const char *function,
                        const char *module_suffix, const char *file_suffix, gctp_sym *sym)
{
    assert_true(p->found);
    assert_int_equal(gctp_sym_lookup(s, p->ip, p->is_ret, sym), 0);
    assert_non_null(sym->module);
    assert_true(ends_with(sym->module, module_suffix));
    assert_same_file(sym->module, p->module);

    const gctp_mapping *maps;
    int n = gctp_sym_mappings(s, &maps);
    assert_in_range(sym->mapping, 0, n - 1);
    const gctp_mapping *m = &maps[sym->mapping];
    assert_string_equal(m->path, sym->module);
    assert_build_id(m->build_id);
    assert_string_equal(m->build_id, p->build_id);
    assert_true(m->start <= p->ip - (uint64_t)p->is_ret && p->ip - (uint64_t)p->is_ret < m->end);
    assert_int_equal(m->start, p->map_start);
    assert_int_equal(m->end, p->map_end);
    assert_int_equal(m->file_offset, p->map_offset);

    if (!has_lineinfo()) {
        assert_null(sym->function);
        assert_null(sym->file);
        assert_int_equal(sym->line, 0);
        return;
    }
    assert_non_null(sym->function);
    assert_string_equal(sym->function, function);
    assert_string_equal(sym->function, p->function);
    if (file_suffix) {
        assert_non_null(sym->file);
        assert_true(ends_with(sym->file, file_suffix));
        assert_in_range(sym->line, p->line_lo, p->line_hi);
    }
    if (p->file[0]) {
        assert_non_null(sym->file);
        assert_string_equal(sym->file, p->file);
        assert_int_equal(sym->line, p->line);
    } else {
        assert_null(sym->file);
    }
}

/* Forks the child that will dlopen lib; *to: its go (write a byte) and
 * exit (close) pipe, *from: its probes. */
static void start_child(const char *lib, int *to, int *from)
{
    int to_child[2], from_child[2];
    assert_int_equal(pipe(to_child), 0);
    assert_int_equal(pipe(from_child), 0);
    child_pid = fork();
    assert_true(child_pid >= 0);
    if (child_pid == 0) {
        close(to_child[1]);
        close(from_child[0]);
        child_main(to_child[0], from_child[1], lib);
    }
    close(to_child[0]);
    close(from_child[1]);
    *to = to_child[1];
    *from = from_child[0];
}

static void test_pid_child(void **state)
{
    (void)state;
    static struct probe p[NPROBES];
    int to_child[2], from_child[2];
    start_child(SYMTEST_LIB, &to_child[1], &from_child[0]);

    gctp_symbolizer *s = gctp_sym_new_pid(child_pid);
    assert_non_null(s);
    const gctp_mapping *maps;
    int n0 = gctp_sym_mappings(s, &maps);
    assert_true(n0 > 0);
    for (int i = 0; i < n0; i++)
        assert_false(ends_with(maps[i].path, "/libsymtest.so"));   /* not loaded yet */
    gctp_sym_stats st0, st1;
    gctp_sym_get_stats(s, &st0);
    assert_int_equal(st0.refreshes, 1);

    assert_int_equal(write(to_child[1], "g", 1), 1);
    read_full(from_child[0], p, sizeof p);
    close(from_child[0]);

    /* The executable, known from the start: no new read of the maps. */
    gctp_sym sym, lib;
    check_probe(s, &p[P_EXE_IP], "sym_target", self_exe(), "test_symbolize.c", &sym);
    check_probe(s, &p[P_EXE_RET], "sym_caller", self_exe(), "test_symbolize.c", &sym);
    gctp_sym_get_stats(s, &st1);
    assert_int_equal(st1.refreshes, st0.refreshes);

    /* The library dlopened since: found by reading the maps again. */
    check_probe(s, &p[P_LIB_RET], "symtest_call", "/libsymtest.so", "symtest_lib.c", &lib);
    assert_same_file(lib.module, SYMTEST_LIB);
    assert_true(lib.mapping >= n0);                /* appended */
    gctp_sym_get_stats(s, &st0);
    assert_int_equal(st0.refreshes, st1.refreshes + 1);

    /* Garbage: -1; a new address outside the modules reads the maps once. */
    assert_false(p[P_ANON].found);
    const uint64_t bad[] = { p[P_ANON].ip, 0, 1, 0xffffffff81000000ull };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int round = 0; round < 2; round++) {
            gctp_sym_get_stats(s, &st0);
            gctp_sym none = { "x", "x", 1, "x", 7 };
            assert_int_equal(gctp_sym_lookup(s, bad[i], 0, &none), -1);
            assert_none(&none);
            gctp_sym_get_stats(s, &st1);
            assert_int_equal(st1.refreshes, st0.refreshes + (round == 0));
        }
    }

    /* The child exits.  A zombie's maps are empty: a miss must not take
     * that for the module list. */
    close(to_child[1]);
    siginfo_t info;
    assert_int_equal(waitid(P_PID, (id_t)child_pid, &info, WEXITED | WNOWAIT), 0);
    int n1 = gctp_sym_mappings(s, &maps);
    gctp_sym none;
    assert_int_equal(gctp_sym_lookup(s, 3, 0, &none), -1);
    check_probe(s, &p[P_LIB_SECOND], "symtest_second", "/libsymtest.so", "symtest_lib.c", &sym);
    assert_int_equal(sym.mapping, lib.mapping);

    /* Reaped: new addresses in known modules still resolve, in libc too,
     * whose file libdw has not opened before. */
    int status;
    assert_int_equal(waitpid(child_pid, &status, 0), child_pid);
    child_pid = -1;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    check_probe(s, &p[P_LIBC], "lfind", "/libc.so.6", NULL, &sym);
    assert_non_null(strstr(sym.module, "/libc"));
    /* A miss finds the process gone and keeps the modules. */
    gctp_sym_get_stats(s, &st0);
    assert_int_equal(gctp_sym_lookup(s, 2, 0, &none), -1);
    assert_int_equal(gctp_sym_lookup(s, p[P_LIB_SECOND].ip + 2, 0, &sym), 0);
    assert_ptr_equal(sym.module, lib.module);
    if (has_lineinfo())
        assert_string_equal(sym.function, "symtest_second");
    gctp_sym_get_stats(s, &st1);
    assert_int_equal(st1.refreshes, st0.refreshes);
    assert_int_equal(gctp_sym_mappings(s, &maps), n1);
    gctp_sym_free(s);
}

/* Copies the file from to the new file to (mode 0755); with build_id
 * (hex), one byte of that build-id changed in the copy. */
static void copy_file(const char *from, int to, const char *build_id)
{
    FILE *in = fopen(from, "rb");
    assert_non_null(in);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, in);
    assert_true(n > 0 && n < sizeof buf);
    fclose(in);
    if (build_id) {
        unsigned char id[64];
        size_t len = strlen(build_id) / 2;
        assert_in_range(len, 1, sizeof id);
        for (size_t i = 0; i < len; i++)
            assert_int_equal(sscanf(build_id + 2 * i, "%2hhx", &id[i]), 1);
        char *at = memmem(buf, n, id, len);
        assert_non_null(at);
        at[0] ^= 0x5a;
    }
    assert_int_equal(write(to, buf, n), (ssize_t)n);
    assert_int_equal(fchmod(to, 0755), 0);
    assert_int_equal(close(to), 0);
}

static char deleted_lib[PATH_MAX];       /* removed by deleted_teardown */

static int deleted_teardown(void **state)
{
    pid_teardown(state);
    if (deleted_lib[0])
        unlink(deleted_lib);
    deleted_lib[0] = '\0';
    return 0;
}

/* The library's file is replaced (by a copy with another build-id, as a
 * rebuild or an upgrade would) after the module was seen but before
 * anything was looked up in it: the module and its mapping (with the
 * build-id read when it was seen) are found, not the new file's symbols.
 * The maps then say " (deleted)": still the same module. */
static void test_pid_deleted(void **state)
{
    (void)state;
    static struct probe p[NPROBES];
    snprintf(deleted_lib, sizeof deleted_lib, "%s.XXXXXX", SYMTEST_LIB);
    int fd = mkstemp(deleted_lib);
    assert_true(fd >= 0);
    copy_file(SYMTEST_LIB, fd, NULL);
    int to, from;
    start_child(deleted_lib, &to, &from);
    gctp_symbolizer *s = gctp_sym_new_pid(child_pid);
    assert_non_null(s);
    assert_int_equal(write(to, "g", 1), 1);
    read_full(from, p, sizeof p);
    close(from);

    /* A miss reads the maps: the library is seen, nothing looked up in it. */
    gctp_sym sym;
    assert_int_equal(gctp_sym_lookup(s, p[P_ANON].ip, 0, &sym), -1);
    const gctp_mapping *maps;
    int n = gctp_sym_mappings(s, &maps), lib = -1;
    for (int i = 0; i < n; i++)
        if (strcmp(maps[i].path, deleted_lib) == 0)
            lib = i;
    assert_true(lib >= 0);
    assert_string_equal(maps[lib].build_id, p[P_LIB_RET].build_id);

    assert_int_equal(unlink(deleted_lib), 0);
    fd = open(deleted_lib, O_WRONLY | O_CREAT | O_EXCL, 0755);
    assert_true(fd >= 0);
    copy_file(SYMTEST_LIB, fd, p[P_LIB_RET].build_id);

    assert_int_equal(gctp_sym_lookup(s, p[P_LIB_RET].ip, 1, &sym), 0);
    assert_string_equal(sym.module, deleted_lib);
    assert_int_equal(sym.mapping, lib);
    assert_null(sym.function);
    assert_null(sym.file);
    assert_int_equal(sym.line, 0);

    gctp_sym_stats st0, st1;
    gctp_sym_get_stats(s, &st0);
    assert_int_equal(gctp_sym_lookup(s, p[P_ANON].ip + 1, 0, &sym), -1);
    gctp_sym_get_stats(s, &st1);
    assert_int_equal(st1.refreshes, st0.refreshes + 1);
    assert_int_equal(gctp_sym_mappings(s, &maps), n);
    assert_int_equal(gctp_sym_lookup(s, p[P_LIB_SECOND].ip, 0, &sym), 0);
    assert_string_equal(sym.module, deleted_lib);
    assert_int_equal(sym.mapping, lib);
    assert_null(sym.function);

    close(to);
    assert_int_equal(waitpid(child_pid, NULL, 0), child_pid);
    child_pid = -1;
    gctp_sym_free(s);
}

/* This process through /proc/PID/maps: the same answers and mappings as
 * the in-process symbolizer.  Bad pids give NULL. */
static void test_pid_self(void **state)
{
    (void)state;
    gctp_symbolizer *in = gctp_sym_new(), *by_pid = gctp_sym_new_pid((int)getpid());
    assert_non_null(in);
    assert_non_null(by_pid);
    uint64_t ret;
    sym_caller(&ret);
    const struct { uint64_t ip; int is_ret; } ips[] = {
        { sym_target(), 0 },
        { (uint64_t)(uintptr_t)sym_target, 0 },
        { ret, 1 },
        { (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, "lfind"), 0 },
    };
    for (size_t i = 0; i < sizeof ips / sizeof ips[0]; i++) {
        gctp_sym a, b;
        assert_int_equal(gctp_sym_lookup(in, ips[i].ip, ips[i].is_ret, &a), 0);
        assert_int_equal(gctp_sym_lookup(by_pid, ips[i].ip, ips[i].is_ret, &b), 0);
        assert_same_file(a.module, b.module);
        if (has_lineinfo()) {
            assert_non_null(b.function);
            assert_string_equal(a.function, b.function);
            assert_int_equal(a.line, b.line);
            if (a.file)
                assert_string_equal(a.file, b.file);
            else
                assert_null(b.file);
        } else {
            assert_null(b.function);
            assert_null(b.file);
        }
        const gctp_mapping *ma, *mb;
        int na = gctp_sym_mappings(in, &ma), nb = gctp_sym_mappings(by_pid, &mb);
        assert_in_range(a.mapping, 0, na - 1);
        assert_in_range(b.mapping, 0, nb - 1);
        assert_same_file(ma[a.mapping].path, mb[b.mapping].path);
        assert_string_equal(b.module, mb[b.mapping].path);
        assert_build_id(mb[b.mapping].build_id);
        assert_string_equal(ma[a.mapping].build_id, mb[b.mapping].build_id);
        assert_int_equal(ma[a.mapping].start, mb[b.mapping].start);
        assert_int_equal(ma[a.mapping].end, mb[b.mapping].end);
        assert_int_equal(ma[a.mapping].file_offset, mb[b.mapping].file_offset);
    }
    gctp_sym_free(in);
    gctp_sym_free(by_pid);

    assert_null(gctp_sym_new_pid(0));
    assert_null(gctp_sym_new_pid(-1));
    pid_t gone = fork();
    assert_true(gone >= 0);
    if (gone == 0)
        _exit(0);
    assert_int_equal(waitpid(gone, NULL, 0), gone);
    assert_null(gctp_sym_new_pid((int)gone));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libdw_loaded_lazily),   /* first: libdw not loaded yet */
        cmocka_unit_test(test_no_debuginfod),     /* nothing loaded yet but libdw */
        cmocka_unit_test(test_own_function),
        cmocka_unit_test(test_libc),
        cmocka_unit_test(test_mappings),
        cmocka_unit_test(test_dlopen_after_new),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_cache),
        cmocka_unit_test_teardown(test_pid_child, pid_teardown),
        cmocka_unit_test(test_pid_self),
        cmocka_unit_test_teardown(test_pid_deleted, deleted_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
