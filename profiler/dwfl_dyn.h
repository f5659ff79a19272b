/* profiler/dwfl_dyn.h - libdw for the symbolizer (symbolize.c, its only
 * includer), loaded with dlopen("libdw.so.1") at the first symbolizer
 * instead of linked.
 *
 * Why: a linked libdw (with libelf, libz, liblzma, libbz2) is loaded and
 * relocated in every process that loads gctune, including each program
 * run under LD_PRELOAD=libgctune-preload.so that records nothing, and
 * each program whose recording's writer is a helper process (only the
 * helper symbolizes): ~1.3 ms and tens of page faults at start-up,
 * measured with bench/preload.sh's churn -l 2 -a 2.  Loaded here, only
 * the process that symbolizes pays, once.
 *
 * Owns: gctp_dw, the table of the libdw (and libelf) functions
 * symbolize.c calls, and the macros that make each of those names call
 * through it; symbolize.c is written as against the library.
 * Invariants: gctp_dwfl_load() loads at most once per process (a
 * pthread_once) and returns 0 only if every function was found; until
 * then, and forever if it failed, no name below may be called (the
 * symbolizer then has no Dwfl and names frames with dladdr, as when
 * configure found no libdw).
 */
#ifndef GCTUNE_PROFILER_DWFL_DYN_H
#define GCTUNE_PROFILER_DWFL_DYN_H

#include <dlfcn.h>
#include <pthread.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>

#define GCTP_DWFL_FUNCS(X)                                                        \
    X(dwfl_addrmodule) X(dwfl_begin) X(dwfl_build_id_find_debuginfo) X(dwfl_end)  \
    X(dwfl_lineinfo) X(dwfl_linux_proc_find_elf) X(dwfl_linux_proc_report)        \
    X(dwfl_module_address_section) X(dwfl_module_addrinfo) X(dwfl_module_getsrc)  \
    X(dwfl_module_getsym_info) X(dwfl_module_getsymtab) X(dwfl_module_info)       \
    X(dwfl_report_begin) X(dwfl_report_begin_add) X(dwfl_report_end)              \
    X(dwfl_report_module) X(dwfl_standard_find_debuginfo) X(gelf_getshdr)

static struct {
#define GCTP_DWFL_MEMBER(f) __typeof__(&f) f;
    GCTP_DWFL_FUNCS(GCTP_DWFL_MEMBER)
#undef GCTP_DWFL_MEMBER
} gctp_dw;

static int gctp_dw_ok;
static pthread_once_t gctp_dw_once = PTHREAD_ONCE_INIT;

static void gctp_dwfl_load_once(void)
{
    void *h = dlopen("libdw.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return;
    int ok = 1;
    /* dlsym from the handle searches libdw and its dependencies (libelf) */
#define GCTP_DWFL_SYM(f) ok &= (*(void **)&gctp_dw.f = dlsym(h, #f)) != NULL;
    GCTP_DWFL_FUNCS(GCTP_DWFL_SYM)
#undef GCTP_DWFL_SYM
    if (!ok) {
        dlclose(h);
        return;
    }
    gctp_dw_ok = 1;   /* the handle stays open for the process's life */
}

/* 0 once libdw is loaded and complete, else -1 (then: dladdr only). */
static int gctp_dwfl_load(void)
{
    pthread_once(&gctp_dw_once, gctp_dwfl_load_once);
    return gctp_dw_ok ? 0 : -1;
}

#define dwfl_addrmodule (gctp_dw.dwfl_addrmodule)
#define dwfl_begin (gctp_dw.dwfl_begin)
#define dwfl_build_id_find_debuginfo (gctp_dw.dwfl_build_id_find_debuginfo)
#define dwfl_end (gctp_dw.dwfl_end)
#define dwfl_lineinfo (gctp_dw.dwfl_lineinfo)
#define dwfl_linux_proc_find_elf (gctp_dw.dwfl_linux_proc_find_elf)
#define dwfl_linux_proc_report (gctp_dw.dwfl_linux_proc_report)
#define dwfl_module_address_section (gctp_dw.dwfl_module_address_section)
#define dwfl_module_addrinfo (gctp_dw.dwfl_module_addrinfo)
#define dwfl_module_getsrc (gctp_dw.dwfl_module_getsrc)
#define dwfl_module_getsym_info (gctp_dw.dwfl_module_getsym_info)
#define dwfl_module_getsymtab (gctp_dw.dwfl_module_getsymtab)
#define dwfl_module_info (gctp_dw.dwfl_module_info)
#define dwfl_report_begin (gctp_dw.dwfl_report_begin)
#define dwfl_report_begin_add (gctp_dw.dwfl_report_begin_add)
#define dwfl_report_end (gctp_dw.dwfl_report_end)
#define dwfl_report_module (gctp_dw.dwfl_report_module)
#define dwfl_standard_find_debuginfo (gctp_dw.dwfl_standard_find_debuginfo)
#define gelf_getshdr (gctp_dw.gelf_getshdr)

#endif
