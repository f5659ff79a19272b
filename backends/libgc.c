/* backends/libgc.c - the libgc backend: gctune's own collector seen through
 * <gctune/backend.h>.
 *
 * Sampling and frees go through libgc's profile hooks (libgc/profile.c:
 * per-thread countdowns in the allocator, a table of sampled objects
 * consulted by gc_free and the sweeper); GC cycles through a cycle hook;
 * stats and knobs through the public API.  One sink at a time (sink_lock).
 */
#include "gc_internal.h"
#include "gctune/backend.h"
#include <errno.h>
#include <stdio.h>

static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
/* The attached sink.  Read by the hooks without the lock: it is copied
 * here before the hooks are installed and not changed until they are
 * removed (gci_prof_configure stops the world in between). */
static gct_sink cur;
static int attached;
/* GC listeners (add_gc_listener), under sink_lock; copied by the hook. */
static struct { void (*fn)(const gct_gc_event *, void *); void *arg; } listeners[4];
static int nlisteners, hook_installed;

static uint64_t on_sample(void *obj, size_t size, uint64_t rate, uintptr_t ret, void *arg)
{
    (void)arg;
    return cur.sample ? cur.sample(cur.ctx, obj, size, rate, ret) : 0;
}

static void on_free(uint64_t token, void *obj, void *arg)
{
    (void)obj; (void)arg;
    if (cur.freed)
        cur.freed(cur.ctx, token);
}

static void on_cycle(const gc_cycle_info *info, void *arg)
{
    (void)arg;
    pthread_mutex_lock(&sink_lock);
    int nl = nlisteners;
    __typeof__(listeners) ls;
    memcpy(ls, listeners, sizeof ls);
    int want_sink = attached && cur.gc_cycle;
    pthread_mutex_unlock(&sink_lock);
    if (!want_sink && nl == 0)
        return;
    gc_stats st;
    gci_read_stats_nostw(&st);
    gct_gc_event ev = {
        .num = info->num,
        .forced = info->forced,
        .concurrent = info->concurrent,
        .procs = info->procs,
        .start_ns = info->start_ns,
        .end_ns = info->end_ns,
        .pause_ns = info->stw_ns,
        .heap_before = info->heap_before,
        .heap_marked = info->heap_marked,
        .heap_goal = info->heap_goal,
        .mark_cpu_ns = info->mark_cpu_ns,
        .assist_cpu_ns = info->assist_cpu_ns,
        .background_cpu_ns = info->background_cpu_ns,
        .gc_percent = info->gc_percent,
        .memory_limit = info->memory_limit,
        .gc_cpu_fraction = st.gc_cpu_fraction,
    };
    if (want_sink)
        cur.gc_cycle(cur.ctx, &ev);
    for (int i = 0; i < nl; i++)
        ls[i].fn(&ev, ls[i].arg);
}

/* The cycle hook is installed while the sink or a listener needs it;
 * sink_lock held. */
static int update_hook(void)
{
    int want = attached || nlisteners > 0;
    if (want && !hook_installed) {
        int err = gc_add_cycle_hook(on_cycle, NULL);
        if (err)
            return err;
        hook_installed = 1;
    } else if (!want && hook_installed) {
        gc_remove_cycle_hook(on_cycle, NULL);
        hook_installed = 0;
    }
    return 0;
}

static int lg_add_listener(void (*fn)(const gct_gc_event *, void *), void *arg)
{
    pthread_mutex_lock(&sink_lock);
    int err = 0;
    if (nlisteners == (int)(sizeof listeners / sizeof listeners[0])) {
        err = ENOSPC;
    } else {
        listeners[nlisteners].fn = fn;
        listeners[nlisteners].arg = arg;
        nlisteners++;
        if ((err = update_hook()) != 0)
            nlisteners--;
    }
    pthread_mutex_unlock(&sink_lock);
    return err;
}

static void lg_remove_listener(void (*fn)(const gct_gc_event *, void *), void *arg)
{
    pthread_mutex_lock(&sink_lock);
    for (int i = 0; i < nlisteners; i++) {
        if (listeners[i].fn == fn && listeners[i].arg == arg) {
            listeners[i] = listeners[--nlisteners];
            break;
        }
    }
    update_hook();
    pthread_mutex_unlock(&sink_lock);
}

static int lg_attach(const gct_sink *sink, uint64_t rate, uint64_t seed)
{
    pthread_mutex_lock(&sink_lock);
    if (attached) {
        pthread_mutex_unlock(&sink_lock);
        return EBUSY;
    }
    cur = *sink;
    attached = 1;
    int err = update_hook();
    if (err) {
        attached = 0;
        memset(&cur, 0, sizeof cur);
        pthread_mutex_unlock(&sink_lock);
        return err;
    }
    gci_prof_configure(rate, seed, rate ? on_sample : NULL, on_free, NULL);
    pthread_mutex_unlock(&sink_lock);
    return 0;
}

static void lg_detach(void)
{
    pthread_mutex_lock(&sink_lock);
    if (attached) {
        attached = 0;
        update_hook();
        /* After this no thread starts a sample; frees of objects still in
         * the table are no longer reported. */
        gci_prof_configure(0, 0, NULL, NULL, NULL);
    }
    pthread_mutex_unlock(&sink_lock);
}

/* Without stopping the world: the profiler's heap series and the tuner
 * call this every 100 ms or so. */
static int lg_read_stats(gct_backend_stats *out)
{
    gc_stats st;
    gci_read_stats_nostw(&st);
    memset(out, 0, sizeof *out);
    out->heap_alloc = st.heap_alloc;
    out->heap_sys = st.heap_sys;
    out->heap_idle = st.heap_idle;
    out->heap_inuse = st.heap_inuse;
    out->heap_released = st.heap_released;
    out->heap_objects = st.heap_objects;
    out->total_alloc = st.total_alloc;
    out->mallocs = st.mallocs;
    out->frees = st.frees;
    out->sys = st.sys;
    out->next_gc = st.next_gc;
    out->pause_total_ns = st.pause_total_ns;
    out->num_gc = st.num_gc;
    out->gc_cpu_fraction = st.gc_cpu_fraction;
    out->gc_percent = st.gc_percent;
    out->memory_limit = st.memory_limit;
    return 0;
}

static const gct_backend libgc_backend = {
    .name = "libgc",
    .caps = GCT_CAP_SAMPLING | GCT_CAP_FREES | GCT_CAP_GC_EVENTS | GCT_CAP_STATS |
            GCT_CAP_SET_GC_PERCENT | GCT_CAP_SET_MEMORY_LIMIT,
    .attach = lg_attach,
    .detach = lg_detach,
    .read_stats = lg_read_stats,
    .add_gc_listener = lg_add_listener,
    .remove_gc_listener = lg_remove_listener,
    .set_gc_percent = gc_set_percent,
    .set_memory_limit = gc_set_memory_limit,
};

const gct_backend *gct_backend_libgc(void)
{
    return &libgc_backend;
}

const char *gct_backend_caps_string(unsigned caps, char *buf, size_t len)
{
    static const char *const names[] = {
        "sampling", "frees", "gc_events", "stats", "set_gc_percent", "set_memory_limit",
    };
    size_t n = 0;
    if (len)
        buf[0] = 0;
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(caps & (1u << i)))
            continue;
        int w = snprintf(buf + n, len > n ? len - n : 0, "%s%s", n ? " " : "", names[i]);
        if (w < 0 || (size_t)w >= (len > n ? len - n : 0))
            break;
        n += (size_t)w;
    }
    return buf;
}
