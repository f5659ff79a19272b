/* helper_lib.c - a shared library helper_prog dlopens after its recording
 * started (built as tests/backends/libhelpertest.so, -O0 -g): its samples'
 * leaf frame must be named by the profiler's helper process, which did not
 * have the library when it was forked.
 */
#include <stdlib.h>

__attribute__((visibility("default"), noinline)) void *helper_lib_alloc(size_t n)
{
    void *p = malloc(n);
    if (p)
        *(volatile char *)p = 1;
    return p;
}
