/* hello.c - the smallest libgc program: allocate freely, never free.
 *
 * Builds a list of strings, drops it, churns through garbage, and prints
 * what the collector did.  Run with GODEBUG=gctrace=1 to see each cycle.
 */
#include <gctune/gc.h>
#include <stdio.h>
#include <string.h>

struct item {
    struct item *next;
    char *name;                 /* gc_strdup'd: reachable through the item */
};

int main(void)
{
    struct item *list = NULL;
    for (int i = 0; i < 100000; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "item-%d", i);
        struct item *it = gc_malloc(sizeof *it);
        it->name = gc_strdup(buf);
        it->next = list;
        list = it;
    }
    /* Garbage: 1 GiB in total, never freed by hand. */
    for (int i = 0; i < 1 << 18; i++) {
        char *tmp = gc_malloc_atomic(4096);
        tmp[0] = (char)i;
    }
    long n = 0;
    for (struct item *it = list; it; it = it->next)
        n++;
    gc_stats st;
    gc_read_stats(&st);
    printf("hello: %ld items still reachable (first: %s)\n", n, list->name);
    printf("hello: allocated %.1f MiB in total, %.1f MiB live now, heap %.1f MiB from the OS, %u collections, "
           "total pause %.2f ms\n",
           st.total_alloc / 1048576.0, st.heap_alloc / 1048576.0, st.heap_sys / 1048576.0, st.num_gc,
           st.pause_total_ns / 1e6);
    return n == 100000 ? 0 : 1;
}
