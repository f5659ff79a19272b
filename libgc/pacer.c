/* pacer.c - when to collect: the GOGC heap goal.
 *
 * Owns: next_gc (the heap goal), trigger, gc_percent.
 * Goal (Go's gcControllerState.heapGoal without the memory limit):
 *   goal = marked + marked * GOGC / 100,   at least 4 MiB * GOGC / 100
 * where marked is the live heap found by the last mark.  With GOGC off the
 * goal is infinite.  In stop-the-world mode a cycle starts when heap_live
 * (bytes allocated or claimed by mcaches since the last mark, plus the
 * marked heap) reaches the goal: trigger == goal.  The concurrent pacer
 * (trigger before the goal, from mark and allocation rates) is not part of
 * this build.
 * Writers: pacer_end_cycle with gc_mutex held; gc_set_percent (atomics).
 */
#include "gc_internal.h"
#include "scavenge.h"

#define HEAP_MINIMUM ((uint64_t)4 << 20)

uint64_t gci_pacer_goal(uint64_t marked, int percent)
{
    if (percent < 0)
        return UINT64_MAX;
    uint64_t goal = marked + marked / 100 * (uint64_t)percent + (marked % 100) * (uint64_t)percent / 100;
    if (goal < marked)
        return UINT64_MAX;
    uint64_t minimum = HEAP_MINIMUM * (uint64_t)percent / 100;   /* percent < 2^31: no overflow */
    return goal < minimum ? minimum : goal;
}

/* Trigger.  Stop-the-world mode: at the goal.  Concurrent mode: early
 * enough that allocation during marking (the runway, smoothed over cycles
 * like Go's pacer adapts its trigger) ends near the goal, kept between 70%
 * and 95% of the way from the marked heap to the goal (Go 1.18's bounds);
 * the first cycle uses 7/8. */
static void commit(void)
{
    uint64_t marked = gci->heap_marked;
    uint64_t goal = gci_pacer_goal(marked, gci_load(&gci->gc_percent));
    uint64_t limit_goal = gci_memlimit_goal();
    if (limit_goal < goal)
        goal = limit_goal;
    uint64_t trigger = goal;
    if (gci_load(&gci->concurrent) && goal != UINT64_MAX && goal > marked) {
        uint64_t span = goal - marked;
        uint64_t lo = marked + span / 10 * 7, hi = marked + span / 20 * 19;
        trigger = gci->runway_smoothed > 0 ? goal - (uint64_t)(gci->runway_smoothed * 1.1) : marked + span / 8 * 7;
        if (gci->runway_smoothed > 0 && (double)goal < gci->runway_smoothed * 1.1)
            trigger = lo;
        if (trigger < lo) trigger = lo;
        if (trigger > hi) trigger = hi;
    }
    gci_store(&gci->next_gc, goal);
    gci_store(&gci->trigger, trigger);
}

/* Concurrent mode: the heap size past which an allocating thread waits for
 * the running cycle (threads.c): the GOGC goal, or the memory limit's goal
 * when lower and at least 1/8 above the marked heap.  Closer to (or over)
 * the limit, waiting would turn into a cycle every few allocations; the GC
 * CPU limiter governs that case, as in Go. */
uint64_t gci_pacer_wait_goal(void)
{
    uint64_t marked = gci_load_relaxed(&gci->heap_marked);
    uint64_t goal = gci_pacer_goal(marked, gci_load_relaxed(&gci->gc_percent));
    uint64_t limit_goal = gci_memlimit_goal();
    return limit_goal < goal && marked < limit_goal - limit_goal / 8 ? limit_goal : goal;
}

/* Bytes allocated during the last concurrent mark: the runway the next
 * trigger leaves (exponentially smoothed, weight 1/2). */
void gci_pacer_end_concurrent(uint64_t alloc_during_mark)
{
    double r = (double)alloc_during_mark;
    gci->runway_smoothed = gci->runway_smoothed > 0 ? 0.5 * gci->runway_smoothed + 0.5 * r : r;
}

void gci_pacer_init(void)
{
    gci->heap_marked = 0;
    commit();
}

void gci_pacer_end_cycle(uint64_t marked)
{
    gci->heap_marked = marked;
    commit();
}

int gc_set_percent(int percent)
{
    gci_init();
    pthread_mutex_lock(&gci->gc_mutex);
    int old = gci->gc_percent;
    gci_store(&gci->gc_percent, percent < 0 ? -1 : percent);
    commit();
    pthread_mutex_unlock(&gci->gc_mutex);
    return old;
}

int64_t gc_set_memory_limit(int64_t bytes)
{
    gci_init();
    if (bytes < 0)
        return gci_load(&gci->memory_limit);
    pthread_mutex_lock(&gci->gc_mutex);
    int64_t old = __atomic_exchange_n(&gci->memory_limit, bytes, __ATOMIC_ACQ_REL);
    commit();
    pthread_mutex_unlock(&gci->gc_mutex);
    return old;
}
