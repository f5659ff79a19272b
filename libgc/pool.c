/* pool.c - gc_pool: caches of reusable objects (Go's sync.Pool).
 *
 * Owns: struct gc_pool, the per-thread private slots, the shared and victim
 * lists, and their part in a collection (gci_pool_cycle_start).
 *
 * Structure (Go's poolLocal, with threads for Ps):
 *   every thread that used a pool has a struct pool_thread, found through
 *   the TLS pointer pool_self, holding one private slot per pool, indexed
 *   by gc_pool.index (indices are reused after gc_pool_delete; a slot
 *   counts only if its serial matches the pool's, serials never repeat);
 *   every pool has a shared list (primary) and a victim list (what was
 *   primary before the last collection), LIFO stacks of object pointers
 *   in 512-byte chunks.
 * Get: private slot, shared list, victim list, new_fn().  Put: private
 * slot if empty, else shared list.
 * Lifetime: pool memory (structs, slots, chunks) is runtime metadata,
 * which the collector does not scan, so pooled objects are not roots.
 * Instead, at the start of each cycle (world stopped) the old victim is
 * dropped, all primary objects (private slots and shared lists) become the
 * victim, and every victim object is marked: an object survives one
 * collection in the victim cache and is freed by the next unless got back.
 * Locking: a thread reads and writes its own private slots only inside a
 * critical section, so the world never stops half-way through, and the
 * stopped-world hook needs no lock.  ps->lock (registry: pools, threads,
 * indices), then a pool's lock (its shared and victim lists), then
 * fixalloc locks; all are taken only inside critical sections (the lock
 * rule of gc_internal.h) and nothing else is called while they are held.
 * Threads: a pthread key destructor marks a dying thread's pool_thread
 * dead (no lock: it may run after the thread left the gc registry); the
 * next cycle start moves its slots into the victim caches and frees it.
 * After fork, the pool_thread of each thread that did not survive is never
 * freed (no destructor runs for it: a few dozen bytes and a slot table
 * each); its objects still age out through the victim cache.
 */
#include "gc_internal.h"
#include "pool.h"
#include <errno.h>

#define CHUNK_OBJS 62          /* struct pool_chunk is 512 bytes */
#define SLOTS_MIN 256          /* first slot table: 4 KiB */

struct pool_chunk {
    struct pool_chunk *next;
    uint64_t n;                /* objects in obj[0..n) */
    void *obj[CHUNK_OBJS];
};

struct gc_pool {
    struct gc_pool *next, *prev;   /* ps->pools; ps->lock */
    uint64_t serial;               /* unique for the process's life */
    uint32_t index;                /* slot in every pool_thread */
    void *(*new_fn)(void);
    pthread_mutex_t lock;          /* shared, victim */
    struct pool_chunk *shared;     /* primary; only the head chunk may be partly full */
    struct pool_chunk *victim;
};

struct pool_slot {
    uint64_t serial;               /* pool the slot belongs to; owner thread */
    void *obj;                     /* private object or NULL; owner thread */
};

struct pool_thread {
    struct pool_thread *next, *prev;   /* ps->threads; ps->lock, or world stopped */
    struct pool_slot *slots;           /* cap slots, metadata mapping; owner, in a critical section */
    uint32_t cap;
    int dead;                          /* atomic; set by the thread's key destructor */
};

static struct pool_state {
    pthread_mutex_t lock;
    struct gc_pool *pools;
    struct pool_thread *threads;
    uint64_t next_serial;
    uint32_t next_index;           /* indices ever handed out */
    uint32_t *free_index;          /* stack of indices of deleted pools; metadata mapping */
    uint32_t nfree_index, free_index_cap;
    struct fixalloc pool_fa, chunk_fa, thread_fa;
    pthread_key_t key;
} *ps;                             /* metadata mapping; set once */

static pthread_once_t ps_once = PTHREAD_ONCE_INIT;
static __thread struct pool_thread *pool_self __attribute__((tls_model("initial-exec")));

static void thread_dead(void *arg)
{
    struct pool_thread *pt = arg;
    if (pool_self == pt)
        pool_self = NULL;
    __atomic_store_n(&pt->dead, 1, __ATOMIC_RELEASE);
}

static void ps_init(void)
{
    struct pool_state *s = gci_os_map_meta(sizeof *s);
    if (!s)
        return;
    gci_add(&gci->metadata_sys, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    gci_fixalloc_init(&s->pool_fa, sizeof(struct gc_pool), NULL);
    gci_fixalloc_init(&s->chunk_fa, sizeof(struct pool_chunk), NULL);
    gci_fixalloc_init(&s->thread_fa, sizeof(struct pool_thread), NULL);
    if (pthread_key_create(&s->key, thread_dead) != 0)
        return;   /* leaves ps NULL: pools unavailable */
    __atomic_store_n(&ps, s, __ATOMIC_RELEASE);
}

/* ---- chunk stacks (the pool's lock, or world stopped) ---- */

static int chunk_push(struct pool_chunk **head, void *obj)
{
    struct pool_chunk *c = *head;
    if (!c || c->n == CHUNK_OBJS) {
        struct pool_chunk *nc = gci_fixalloc_alloc(&ps->chunk_fa);
        if (!nc)
            return -1;
        nc->next = c;
        nc->n = 0;
        *head = c = nc;
    }
    c->obj[c->n++] = obj;
    return 0;
}

static void *chunk_pop(struct pool_chunk **head)
{
    struct pool_chunk *c = *head;
    if (!c)
        return NULL;
    void *obj = c->obj[--c->n];
    if (c->n == 0) {
        *head = c->next;
        gci_fixalloc_free(&ps->chunk_fa, c);
    }
    return obj;
}

static void chunks_free(struct pool_chunk *c)
{
    while (c) {
        struct pool_chunk *next = c->next;
        gci_fixalloc_free(&ps->chunk_fa, c);
        c = next;
    }
}

/* ---- per-thread slots ---- */

/* Gives the calling thread its pool_thread.  Outside a critical section
 * (pthread_setspecific may call malloc, which must not run inside one). */
static GC_NOINLINE void thread_setup(void)
{
    struct gthread *t = gci_crit_enter();
    if (!t)
        return;
    struct pool_thread *pt = gci_fixalloc_alloc(&ps->thread_fa);
    if (pt) {
        pthread_mutex_lock(&ps->lock);
        pt->prev = NULL;
        pt->next = ps->threads;
        if (ps->threads)
            ps->threads->prev = pt;
        ps->threads = pt;
        pthread_mutex_unlock(&ps->lock);
        pool_self = pt;
    }
    gci_crit_exit(t);
    if (pt)
        pthread_setspecific(ps->key, pt);
}

/* The caller's slot for p, NULL on ENOMEM.  Inside a critical section. */
static struct pool_slot *my_slot(gc_pool *p)
{
    struct pool_thread *pt = pool_self;
    if (!pt)
        return NULL;
    if (p->index >= pt->cap) {
        uint32_t cap = pt->cap ? pt->cap : SLOTS_MIN;
        while (cap <= p->index)
            cap *= 2;
        struct pool_slot *n = gci_meta_resize(pt->slots, pt->cap * sizeof *n, pt->cap * sizeof *n, cap * sizeof *n);
        if (!n)
            return NULL;
        pt->slots = n;
        pt->cap = cap;
    }
    struct pool_slot *sl = &pt->slots[p->index];
    if (sl->serial != p->serial) {   /* left over from a deleted pool */
        sl->serial = p->serial;
        sl->obj = NULL;
    }
    return sl;
}

/* ---- public ---- */

gc_pool *gc_pool_new(void *(*new_fn)(void))
{
    gci_init();
    pthread_once(&ps_once, ps_init);
    if (!ps) {
        errno = ENOMEM;
        return NULL;
    }
    struct gthread *t = gci_crit_enter();
    if (!t) {
        errno = ENOMEM;
        return NULL;
    }
    gc_pool *p = gci_fixalloc_alloc(&ps->pool_fa);
    if (p) {
        pthread_mutex_init(&p->lock, NULL);
        p->new_fn = new_fn;
        pthread_mutex_lock(&ps->lock);
        p->index = ps->nfree_index ? ps->free_index[--ps->nfree_index] : ps->next_index++;
        p->serial = ++ps->next_serial;
        p->prev = NULL;
        p->next = ps->pools;
        if (ps->pools)
            ps->pools->prev = p;
        ps->pools = p;
        pthread_mutex_unlock(&ps->lock);
    }
    gci_crit_exit(t);
    if (!p)
        errno = ENOMEM;
    return p;
}

void gc_pool_delete(gc_pool *p)
{
    if (!p || !ps)
        return;
    struct gthread *t = gci_crit_enter();
    if (!t)
        return;
    pthread_mutex_lock(&ps->lock);
    if (p->prev)
        p->prev->next = p->next;
    else
        ps->pools = p->next;
    if (p->next)
        p->next->prev = p->prev;
    if (ps->nfree_index == ps->free_index_cap) {
        uint32_t cap = ps->free_index_cap ? ps->free_index_cap * 2 : 1024;
        uint32_t *n = gci_meta_resize(ps->free_index, ps->free_index_cap * sizeof *n,
                                      ps->nfree_index * sizeof *n, cap * sizeof *n);
        if (n) {
            ps->free_index = n;
            ps->free_index_cap = cap;
        }
    }
    if (ps->nfree_index < ps->free_index_cap)
        ps->free_index[ps->nfree_index++] = p->index;   /* else the index is never reused */
    pthread_mutex_unlock(&ps->lock);
    pthread_mutex_lock(&p->lock);
    chunks_free(p->shared);
    chunks_free(p->victim);
    p->shared = p->victim = NULL;
    pthread_mutex_unlock(&p->lock);
    pthread_mutex_destroy(&p->lock);
    gci_fixalloc_free(&ps->pool_fa, p);
    gci_crit_exit(t);
}

void *gc_pool_get(gc_pool *p)
{
    if (!p)
        return NULL;
    if (GC_UNLIKELY(!pool_self))
        thread_setup();
    void *obj = NULL;
    struct gthread *t = gci_crit_enter();
    if (t) {   /* an unregistered thread cannot use the caches safely */
        struct pool_slot *sl = my_slot(p);
        if (sl && sl->obj) {
            obj = sl->obj;
            sl->obj = NULL;
        } else {
            pthread_mutex_lock(&p->lock);
            obj = chunk_pop(&p->shared);
            if (!obj)
                obj = chunk_pop(&p->victim);
            pthread_mutex_unlock(&p->lock);
        }
        gci_crit_exit(t);
    }
    if (!obj && p->new_fn)
        obj = p->new_fn();
    return obj;
}

void gc_pool_put(gc_pool *p, void *obj)
{
    if (!p || !obj)
        return;
    if (GC_UNLIKELY(!pool_self))
        thread_setup();
    struct gthread *t = gci_crit_enter();
    if (!t)
        return;   /* dropped */
    struct pool_slot *sl = my_slot(p);
    if (sl && !sl->obj) {
        sl->obj = obj;
    } else {
        pthread_mutex_lock(&p->lock);
        chunk_push(&p->shared, obj);   /* on ENOMEM the object is dropped */
        pthread_mutex_unlock(&p->lock);
    }
    gci_crit_exit(t);
}

/* ---- the collector's hook ---- */

void gci_pool_cycle_start(void)
{
    struct pool_state *s = __atomic_load_n(&ps, __ATOMIC_ACQUIRE);
    if (!s)
        return;
    /* World stopped: no thread is inside a critical section, so no pool
     * lock is held and every slot table is consistent. */
    for (gc_pool *p = s->pools; p; p = p->next) {
        chunks_free(p->victim);
        p->victim = p->shared;
        p->shared = NULL;
    }
    struct pool_thread *pt, *next;
    for (pt = s->threads; pt; pt = next) {
        next = pt->next;
        for (gc_pool *p = s->pools; p; p = p->next) {
            if (p->index >= pt->cap)
                continue;
            struct pool_slot *sl = &pt->slots[p->index];
            if (sl->serial == p->serial && sl->obj) {
                chunk_push(&p->victim, sl->obj);   /* on ENOMEM the object is dropped */
                sl->obj = NULL;
            }
        }
        if (__atomic_load_n(&pt->dead, __ATOMIC_ACQUIRE)) {
            if (pt->prev)
                pt->prev->next = pt->next;
            else
                s->threads = pt->next;
            if (pt->next)
                pt->next->prev = pt->prev;
            if (pt->slots) {
                gci_os_unmap(pt->slots, pt->cap * sizeof *pt->slots);
                gci_sub(&gci->metadata_sys, (uint64_t)pt->cap * sizeof *pt->slots);
            }
            gci_fixalloc_free(&s->thread_fa, pt);
        }
    }
    for (gc_pool *p = s->pools; p; p = p->next)
        for (struct pool_chunk *c = p->victim; c; c = c->next)
            for (uint64_t i = 0; i < c->n; i++)
                gci_mark_object((uintptr_t)c->obj[i], 1 /* scan */);
}
