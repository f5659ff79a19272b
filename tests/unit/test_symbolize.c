/* test_symbolize.c - the profiler's symbolizer (profiler/symbolize.h).
 *
 * Built twice: test_symbolize with the configured backend (libdw when
 * configure found it) and test_symbolize_nodw with the dladdr fallback
 * (-DGCTP_SYM_NO_LIBDW, linked with -export-dynamic so that dladdr sees the
 * extern functions below).  File and line are checked only when
 * gctp_sym_backend() is "libdw".
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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_debuginfod),     /* first: nothing loaded yet */
        cmocka_unit_test(test_own_function),
        cmocka_unit_test(test_libc),
        cmocka_unit_test(test_mappings),
        cmocka_unit_test(test_dlopen_after_new),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
