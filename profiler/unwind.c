/* profiler/unwind.c - stack capture with libunwind.
 *
 * unw_backtrace walks the stack with libunwind's cached DWARF/frame
 * information (its fast path on x86-64) and writes return addresses only;
 * nothing here allocates.  The frames above the program's call into the
 * allocator (profiler, backend hooks, allocator) are found by matching the
 * return address the public allocation function saw, which is robust to
 * inlining and tail calls inside the library.
 * gctp_in_capture is set around the unwinder's walk, so that the preload
 * library can populate the memory libunwind maps for itself then
 * (backends/populate.c); it is 0 everywhere else.
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include "unwind.h"
#include <string.h>

/* Frames between the capture and the program: sink, backend hook,
 * libgc's sampling slow path, the allocation function; a few spare. */
#define OWN_FRAMES_MAX 16

__thread int gctp_in_capture __attribute__((tls_model("initial-exec")));

int gctp_capture(uintptr_t *ips, int max, uintptr_t ret, int skip_hint)
{
    void *buf[64 + OWN_FRAMES_MAX];
    int want = max + OWN_FRAMES_MAX;
    if (want > (int)(sizeof buf / sizeof buf[0]))
        want = (int)(sizeof buf / sizeof buf[0]);
    gctp_in_capture = 1;
    int n = unw_backtrace(buf, want);
    gctp_in_capture = 0;
    if (n <= 0)
        return 0;
    int start = -1;
    if (ret) {
        for (int i = 0; i < n && i < OWN_FRAMES_MAX + 1; i++) {
            if ((uintptr_t)buf[i] == ret) {
                start = i;
                break;
            }
        }
    }
    if (start < 0)
        start = skip_hint < n ? skip_hint : n - 1;
    int k = n - start;
    if (k > max)
        k = max;
    memcpy(ips, buf + start, (size_t)k * sizeof *ips);
    return k;
}

uint64_t gctp_hash_ips(const uintptr_t *ips, int n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < n; i++) {
        h ^= (uint64_t)ips[i];
        h *= 0x100000001b3ull;
        h ^= h >> 29;
    }
    return h ? h : 1;
}
