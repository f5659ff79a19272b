/* test_checkmark.c - GODEBUG=gccheckmark=1 really verifies concurrent marks.
 *
 * Owns: deterministic proofs, with the test-only hook gci_test_hide_from_mark
 * (GC_TESTING builds only), that
 *   1. the hook simulates a real marking miss: without checkmark the cycle
 *      reclaims the hidden object although it is reachable;
 *   2. with checkmark on, the same miss aborts the program with a clear
 *      message naming the hidden object and the marked object referring to
 *      it (in a forked child);
 *   3. with nothing hidden, checkmark runs once per concurrent cycle and
 *      reports nothing; it does not run for stop-the-world cycles.
 * Every scenario runs in a forked child, whatever GODEBUG/GCTUNE_CONCURRENT
 * the parent got (gcstress.sh reruns this file in its modes): the child sets
 * the mode it needs directly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include "gc_internal.h"
#include "test_util.h"

struct cell {
    struct cell *next;
    uint64_t tag;
    uint64_t pad[6];
};

/* The only root of the test graph: root -> hidden. */
static struct cell *volatile root;

/* Builds root -> B in the gc heap; returns B (kept only through root). */
static __attribute__((noinline)) struct cell *build_pair(void)
{
    struct cell *a = gc_malloc(sizeof *a);
    struct cell *b = gc_malloc(sizeof *b);
    a->tag = 0xA;
    b->tag = 0xB;
    a->next = b;
    root = a;
    return b;
}

struct scenario {
    int checkmark;   /* gci->gccheckmark in the child */
    int concurrent;  /* gc_set_concurrent */
    int hide;        /* hide B from the next concurrent cycle */
    int cycles;      /* gc_collect calls */
};

/* Exit codes: 0 = B survived and checkmark ran once per concurrent cycle,
 * 10 = B was reclaimed, 11 = wrong checkmark count, 12 = setup failed. */
static int child(void *arg)
{
    const struct scenario *sc = arg;
    gci->gccheckmark = sc->checkmark;
    if (gc_set_concurrent(sc->concurrent) < 0)
        return 12;
    struct cell *b = build_pair();
    uintptr_t b_addr = (uintptr_t)b;
    fprintf(stderr, "root=%p hidden=%p\n", (void *)root, (void *)b);
    fflush(stderr);
    b = NULL;
    if (sc->hide)
        gci_test_hide_from_mark((void *)b_addr);
    uint64_t runs0 = gci_test_checkmark_runs();
    tu_scrub_stack();
    for (int i = 0; i < sc->cycles; i++)
        gc_collect();   /* sweeps everything before returning */
    uint64_t runs = gci_test_checkmark_runs() - runs0;
    uint64_t want = sc->checkmark && sc->concurrent ? (uint64_t)sc->cycles : 0;
    uintptr_t base;
    uint32_t idx;
    if (!gci_find_object(b_addr, &base, &idx) || root->next->tag != 0xB)
        return 10;
    return (want ? runs >= want : runs == 0) ? 0 : 11;   /* triggered cycles may add runs */
}

static int run(const struct scenario *sc, char *err, size_t errlen)
{
    int status = tu_run_in_child(child, (void *)sc, err, errlen);
    assert_true(status != -1);
    return status;
}

/* The addresses the child printed before collecting. */
static void parse_addrs(const char *err, char *rootp, char *hiddenp, size_t len)
{
    char fmt[64];
    snprintf(fmt, sizeof fmt, "root=%%%zus hidden=%%%zus", len - 1, len - 1);
    assert_int_equal(sscanf(err, fmt, rootp, hiddenp), 2);
}

static void test_hide_reclaims_without_checkmark(void **state)
{
    (void)state;
    static char err[4096];
    struct scenario sc = {.checkmark = 0, .concurrent = 1, .hide = 1, .cycles = 1};
    int status = run(&sc, err, sizeof err);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 10)
        fail_msg("hidden object not reclaimed: status %#x, stderr: %s", status, err);
}

static void test_checkmark_detects_hidden_object(void **state)
{
    (void)state;
    static char err[8192];
    struct scenario sc = {.checkmark = 1, .concurrent = 1, .hide = 1, .cycles = 1};
    int status = run(&sc, err, sizeof err);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
        fail_msg("checkmark did not abort: status %#x, stderr: %s", status, err);
    char rootp[40], hiddenp[40], want[200];
    parse_addrs(err, rootp, hiddenp, sizeof rootp);
    snprintf(want, sizeof want, "gccheckmark: object %s (", hiddenp);
    if (!strstr(err, want))
        fail_msg("no report naming %s: %s", hiddenp, err);
    snprintf(want, sizeof want, "referenced from marked object %s (word at offset 0)", rootp);
    if (!strstr(err, want))
        fail_msg("report does not name the referrer %s: %s", rootp, err);
}

static void test_checkmark_quiet_and_counted(void **state)
{
    (void)state;
    static char err[4096];
    struct scenario sc = {.checkmark = 1, .concurrent = 1, .hide = 0, .cycles = 3};
    int status = run(&sc, err, sizeof err);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("concurrent cycles with checkmark: status %#x, stderr: %s", status, err);
    assert_null(strstr(err, "gccheckmark"));
}

static void test_checkmark_not_in_stw_mode(void **state)
{
    (void)state;
    static char err[4096];
    /* Stop-the-world marking has no barrier to check; the hook is not
     * applied there either, so B survives. */
    struct scenario sc = {.checkmark = 1, .concurrent = 0, .hide = 1, .cycles = 2};
    int status = run(&sc, err, sizeof err);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("stop-the-world cycles: status %#x, stderr: %s", status, err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hide_reclaims_without_checkmark),
        cmocka_unit_test(test_checkmark_detects_hidden_object),
        cmocka_unit_test(test_checkmark_quiet_and_counted),
        cmocka_unit_test(test_checkmark_not_in_stw_mode),
    };
    return cmocka_run_group_tests(tests, tu_group_setup, NULL);
}
