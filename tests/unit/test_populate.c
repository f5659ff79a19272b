/* test_populate.c - backends/populate.c, the preload library's mmap: the
 * anonymous private writable mappings a thread makes inside a stack
 * capture (gctp_in_capture) are populated, nothing else is, and the calls
 * behave as glibc's mmap (errno, MAP_FAILED, file mappings).  Linked into
 * this executable, populate.c's mmap is the one libunwind calls here too,
 * as it is under LD_PRELOAD: so the last case counts the page faults of a
 * thread's first capture (perf_event_open; skipped when not permitted).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>
#include "unwind.h"

#define LEN (1u << 20)

/* pages of [p, p + len) resident now */
static size_t resident(void *p, size_t len)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE), n = len / pg, r = 0;
    unsigned char *v = calloc(n, 1);
    assert_non_null(v);
    assert_int_equal(mincore(p, len, v), 0);
    for (size_t i = 0; i < n; i++)
        r += v[i] & 1;
    free(v);
    return r;
}

static void test_outside_capture(void **state)
{
    (void)state;
    assert_int_equal(gctp_in_capture, 0);
    void *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    assert_int_equal(resident(p, LEN), 0);
    munmap(p, LEN);
}

static void test_inside_capture(void **state)
{
    (void)state;
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    gctp_in_capture = 1;
    void *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void *q = mmap64(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    /* not populated: read-only, shared */
    void *ro = mmap(NULL, LEN, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void *sh = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    gctp_in_capture = 0;
    assert_true(p != MAP_FAILED && q != MAP_FAILED && ro != MAP_FAILED && sh != MAP_FAILED);
    assert_int_equal(resident(p, LEN), LEN / pg);
    assert_int_equal(resident(q, LEN), LEN / pg);
    assert_int_equal(resident(ro, LEN), 0);
    assert_int_equal(resident(sh, LEN), 0);
    /* the memory is the program's as usual: zeroed, writable */
    assert_int_equal(((unsigned char *)p)[LEN - 1], 0);
    ((unsigned char *)p)[LEN - 1] = 7;
    munmap(p, LEN);
    munmap(q, LEN);
    munmap(ro, LEN);
    munmap(sh, LEN);
}

static void test_errors_and_files(void **state)
{
    (void)state;
    /* an offset that is not page-aligned: EINVAL, as from glibc */
    errno = 0;
    assert_true(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 1) == MAP_FAILED);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_true(mmap64(NULL, 4096, PROT_READ, MAP_PRIVATE, -1, 0) == MAP_FAILED);
    assert_int_equal(errno, EBADF);
    errno = 0;
    assert_true(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED);
    assert_int_equal(errno, EINVAL);

    /* a file mapping, with an offset, shows the file */
    char path[] = "/tmp/gctune-populate-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    char *buf = malloc(2 * pg);
    assert_non_null(buf);
    memset(buf, 'a', pg);
    memset(buf + pg, 'b', pg);
    assert_int_equal(write(fd, buf, 2 * pg), (ssize_t)(2 * pg));
    free(buf);
    gctp_in_capture = 1;   /* a file mapping is left alone even here */
    char *m = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, (off_t)pg);
    gctp_in_capture = 0;
    assert_true(m != MAP_FAILED);
    assert_int_equal(m[0], 'b');
    assert_int_equal(m[pg - 1], 'b');
    munmap(m, pg);
    close(fd);
}

/* ---- a thread's first capture ---- */

static int perf_faults_open(void)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_PAGE_FAULTS;
    a.disabled = 1;
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);   /* this thread */
}

struct first { int fd; long long faults; int frames; };

static void *first_capture(void *arg)
{
    struct first *f = arg;
    f->fd = perf_faults_open();
    if (f->fd < 0)
        return NULL;
    uintptr_t ips[64];
    ioctl(f->fd, PERF_EVENT_IOC_RESET, 0);
    ioctl(f->fd, PERF_EVENT_IOC_ENABLE, 0);
    f->frames = gctp_capture(ips, 64, 0, 0);
    ioctl(f->fd, PERF_EVENT_IOC_DISABLE, 0);
    if (read(f->fd, &f->faults, sizeof f->faults) != (ssize_t)sizeof f->faults)
        f->faults = -1;
    close(f->fd);
    return NULL;
}

static void test_first_capture(void **state)
{
    (void)state;
    uintptr_t ips[64];
    /* the process's first capture: libunwind's code and tables, once */
    assert_true(gctp_capture(ips, 64, 0, 0) > 0);
    assert_int_equal(gctp_in_capture, 0);
    struct first f = { -1, 0, 0 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, first_capture, &f), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    if (f.fd < 0)
        skip();   /* perf_event_open not permitted here */
    assert_true(f.frames > 0);
    /* the thread's own trace cache: 64 pages written; populated, their
     * faults are not the thread's (a fault counted here is a trap) */
    if (f.faults >= 32)
        fail_msg("a thread's first capture took %lld page faults", f.faults);
}

int main(void)
{
#if !defined(__x86_64__) && !defined(__aarch64__)
    return 77;   /* populate.c interposes nothing here */
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outside_capture),
        cmocka_unit_test(test_inside_capture),
        cmocka_unit_test(test_errors_and_files),
        cmocka_unit_test(test_first_capture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
