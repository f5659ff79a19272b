/* profiler/symthread.c - the symbolizer thread (see symthread.h).
 *
 * The first lookup in a module can take a long time (libdw reads its
 * symbol tables and, where installed, its separate debug info), so lookups
 * run here and not on the writer thread, which must keep draining the
 * sample queue.  State under lock: todo (ips to resolve), done (results),
 * new_maps (mappings discovered since the last collect), busy (a lookup in
 * progress).  The symbolizer object is made and used by this thread only,
 * except for gctp_symq_stop, which frees it after the thread is joined.
 */
#include "symthread.h"
#include "internal.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct result { uint64_t ip; gctp_sym s; int found; };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cond = PTHREAD_COND_INITIALIZER;   /* todo or quit */
static pthread_cond_t idle_cond = PTHREAD_COND_INITIALIZER;   /* todo empty, not busy */
static uint64_t *todo;
static size_t ntodo, todo_cap, todo_head;
static struct result *done;
static size_t ndone, done_cap;
static gctp_mapping *new_maps;
static size_t nnew_maps, new_maps_cap;
static int busy, quit, started;
static int maps_seen;
static gctp_symbolizer *sym;
static pthread_t thread;

static int push(void **arr, size_t *n, size_t *cap, size_t elem, const void *v)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        void *p = realloc(*arr, ncap * elem);
        if (!p)
            return -1;
        *arr = p;
        *cap = ncap;
    }
    memcpy((char *)*arr + *n * elem, v, elem);
    (*n)++;
    return 0;
}

/* The symbolizer, made by the thread itself (reading the target's maps,
 * the modules' build-ids and loading libdw take ~2.5 ms): the writer does
 * not wait for it, and a recording that never queues an ip (a short
 * program: no sample) ends without waiting for it either.  ips queued
 * meanwhile wait in todo. */
static gctp_symbolizer *make_symbolizer(void)
{
    /* helper mode: the profiled process is another process (our copy of
     * its modules is as of the fork; it may dlopen more).  When it is
     * already gone (killed before the helper got here, which a loaded
     * machine makes likely for a short program), its maps cannot be read:
     * our own modules are its modules as of the fork, which name every
     * frame but those in libraries it dlopen'ed later. */
    gctp_symbolizer *s = gctp.helper ? gctp_sym_new_pid(gctp.target_pid) : gctp_sym_new();
    if (!s && gctp.helper)
        s = gctp_sym_new();
    return s;
}

static void *main_fn(void *arg)
{
    (void)arg;
    gctp_profiler_thread = 1;
    gctp_symbolizer *s = make_symbolizer();
    pthread_mutex_lock(&lock);
    sym = s;
    for (;;) {
        while (todo_head == ntodo && !quit)
            pthread_cond_wait(&work_cond, &lock);
        if (todo_head == ntodo && quit)
            break;
        uint64_t ip = todo[todo_head++];
        if (todo_head == ntodo)
            todo_head = ntodo = 0;
        busy = 1;
        pthread_mutex_unlock(&lock);

        struct result r = { .ip = ip };
        r.found = sym && gctp_sym_lookup(sym, ip, 1, &r.s) == 0;
        const gctp_mapping *m = NULL;
        int nm = sym ? gctp_sym_mappings(sym, &m) : 0;

        pthread_mutex_lock(&lock);
        for (; maps_seen < nm; maps_seen++)
            if (push((void **)&new_maps, &nnew_maps, &new_maps_cap, sizeof *new_maps, &m[maps_seen]) != 0)
                break;
        if (push((void **)&done, &ndone, &done_cap, sizeof *done, &r) != 0) {
            /* out of memory: the frame stays unresolved */
        }
        busy = 0;
        if (todo_head == ntodo)
            pthread_cond_broadcast(&idle_cond);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int gctp_symq_start(void)
{
    sym = NULL;   /* made by the thread (make_symbolizer) */
    quit = busy = 0;
    maps_seen = 0;
    int err = pthread_create(&thread, NULL, main_fn, NULL);
    started = err == 0;
    return err;
}

int gctp_symq_add(uint64_t ip)
{
    pthread_mutex_lock(&lock);
    int rc = push((void **)&todo, &ntodo, &todo_cap, sizeof *todo, &ip);
    if (!started && rc == 0) {
        /* no thread: deliver it unresolved */
        struct result r = { .ip = ip, .found = 0 };
        ntodo--;
        rc = push((void **)&done, &ndone, &done_cap, sizeof *done, &r);
    }
    pthread_cond_signal(&work_cond);
    pthread_mutex_unlock(&lock);
    return rc;
}

int gctp_symq_collect(int (*on_mapping)(const gctp_mapping *m, void *arg),
                      int (*on_frame)(uint64_t ip, const gctp_sym *s, int found, void *arg),
                      void *arg)
{
    pthread_mutex_lock(&lock);
    gctp_mapping *maps = new_maps;
    size_t nmaps = nnew_maps;
    struct result *res = done;
    size_t nres = ndone;
    new_maps = NULL;
    nnew_maps = new_maps_cap = 0;
    done = NULL;
    ndone = done_cap = 0;
    pthread_mutex_unlock(&lock);
    int rc = 0;
    for (size_t i = 0; i < nmaps && rc == 0; i++)
        rc = on_mapping(&maps[i], arg);
    for (size_t i = 0; i < nres && rc == 0; i++)
        rc = on_frame(res[i].ip, &res[i].s, res[i].found, arg);
    free(maps);
    free(res);
    return rc;
}

size_t gctp_symq_pending(void)
{
    pthread_mutex_lock(&lock);
    size_t n = ntodo - todo_head + (size_t)busy;
    pthread_mutex_unlock(&lock);
    return n;
}

void gctp_symq_wait_idle(void)
{
    pthread_mutex_lock(&lock);
    while (started && (todo_head != ntodo || busy))
        pthread_cond_wait(&idle_cond, &lock);
    pthread_mutex_unlock(&lock);
}

void gctp_symq_stop(void)
{
    if (started) {
        pthread_mutex_lock(&lock);
        quit = 1;
        pthread_cond_signal(&work_cond);
        pthread_mutex_unlock(&lock);
        pthread_join(thread, NULL);
        started = 0;
    }
    gctp_sym_free(sym);
    sym = NULL;
    free(todo); todo = NULL; ntodo = todo_cap = todo_head = 0;
    free(done); done = NULL; ndone = done_cap = 0;
    free(new_maps); new_maps = NULL; nnew_maps = new_maps_cap = 0;
}
