/* profiler/queue.c - the bounded lock-free MPSC queue of variable-length
 * records (see queue.h).
 *
 * Invariants: for the cell at index i = pos & mask, with seq = cell.seq + i
 * (cells store seq - i, so the zero pages of a fresh mapping already mean
 * "seq == i" and no page is touched before the queue reaches it):
 *   seq == pos            free for position pos (or claimed for it and not
 *                         yet published: the producer holds it);
 *   seq == pos + 1        the first cell of a record, published, ready for
 *                         the consumer at pos (a record's other cells keep
 *                         seq == their position until released);
 *   seq == pos + cap      released by the consumer, free for pos + cap.
 * The consumer releases cells one by one in position order, so when the
 * last cell of a range is free for its position, the whole range is: a
 * producer checks that one cell, then claims the range with one CAS of
 * enqueue_pos (pos -> pos + k).  The consumer reads a record's cells only
 * after the acquire load that sees its first cell published, and the
 * producer writes them all before that release store.
 * enqueue_pos - dequeue_pos <= capacity at all times.
 * Shared mode: the cells are a MAP_SHARED mapping, so that a process made
 * by fork() after init (the profiler's helper, profiler/helper.c)
 * consumes what this process produces; enqueue_pos stays private to the
 * producers' process and dequeue_pos to the consumer's, and only the
 * cells' seq words carry the hand-off, as between threads.
 * Residency: on the first lap, the producers make the next POPULATE_BYTES
 * of cells resident with one madvise(MADV_POPULATE_WRITE) before they
 * reach them (populated only grows, by CAS, so each range is asked for
 * once): a first touch of each page was a page fault in the producing
 * thread, the profiled program (~14 us each on bench/preload.sh's VM;
 * 1.1 ms less per churn run, ~1,400 samples, measured).  Populated pages
 * hold zeros, as untouched ones read, so the seq invariant is unchanged;
 * a kernel without MADV_POPULATE_WRITE (< 5.14) fails the call, and the
 * pages fault in as before.
 */
#include "queue.h"
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

#define MAX_CELLS ((sizeof(struct gctp_rec) + GCTP_CELL_DATA - 1) / GCTP_CELL_DATA)
#define TYPICAL_CELLS 3
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define POPULATE_BYTES 65536
#define POPULATE_CELLS (POPULATE_BYTES / sizeof(struct gctp_cell))

size_t gctp_rec_len(const struct gctp_rec *r)
{
    switch (r->type) {
    case GCTP_REC_FREE:
        return offsetof(struct gctp_rec, addr);
    case GCTP_REC_ALLOC: {
        uint32_t n = r->nframes <= GCTP_MAX_FRAMES ? r->nframes : GCTP_MAX_FRAMES;
        return offsetof(struct gctp_rec, u) + n * sizeof(uintptr_t);
    }
    case GCTP_REC_GC:
        return offsetof(struct gctp_rec, u) + sizeof(gct_gc_event);
    case GCTP_REC_TUNER:
        return offsetof(struct gctp_rec, u) + sizeof(struct gctp_tuner_rec);
    case GCTP_REC_HEAP:
        return offsetof(struct gctp_rec, u) + sizeof(gct_backend_stats);
    default:
        return offsetof(struct gctp_rec, addr);
    }
}

static inline uint64_t cells_of(size_t len)
{
    return (len + GCTP_CELL_DATA - 1) / GCTP_CELL_DATA;
}

int gctp_queue_init(struct gctp_queue *q, uint32_t capacity, int shared)
{
    /* capacity records of TYPICAL_CELLS (a sample of 8 frames, or two
     * frees), and never fewer than two of the largest */
    uint64_t want = (uint64_t)(capacity ? capacity : 1) * TYPICAL_CELLS, cap = 2;
    if (want < 2 * MAX_CELLS)
        want = 2 * MAX_CELLS;
    while (cap < want)
        cap <<= 1;
    size_t bytes = cap * sizeof(struct gctp_cell);
    void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS,
                   -1, 0);
    if (m == MAP_FAILED)
        return errno ? errno : ENOMEM;
    q->cells = m;
    q->mask = cap - 1;
    q->map_bytes = bytes;
    q->enqueue_pos = 0;
    q->populated = 0;
    q->dequeue_pos = 0;
    q->out_cells = 0;
    return 0;
}

void gctp_queue_destroy(struct gctp_queue *q)
{
    if (q->cells)
        munmap(q->cells, q->map_bytes);
    q->cells = NULL;
}

/* A producer that has claimed cells up to end (a position): keeps one
 * POPULATE_CELLS range resident ahead of it on the first lap. */
static inline void populate_ahead(struct gctp_queue *q, uint64_t end)
{
    uint64_t have = __atomic_load_n(&q->populated, __ATOMIC_RELAXED), cap = q->mask + 1;
    if (__builtin_expect(end + POPULATE_CELLS <= have || have >= cap, 1))
        return;
    uint64_t n = cap - have < POPULATE_CELLS ? cap - have : POPULATE_CELLS;
    if (__atomic_compare_exchange_n(&q->populated, &have, have + n, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        (void)madvise(&q->cells[have], n * sizeof(struct gctp_cell), MADV_POPULATE_WRITE);
}

int gctp_queue_put(struct gctp_queue *q, const struct gctp_rec *r)
{
    size_t len = gctp_rec_len(r);
    uint64_t k = cells_of(len);
    uint64_t pos = __atomic_load_n(&q->enqueue_pos, __ATOMIC_RELAXED);
    for (;;) {
        uint64_t last = pos + k - 1;
        struct gctp_cell *c = &q->cells[last & q->mask];
        uint64_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE) + (last & q->mask);
        int64_t dif = (int64_t)(seq - last);
        if (dif == 0) {
            if (__atomic_compare_exchange_n(&q->enqueue_pos, &pos, pos + k, 1, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED))
                break;
            /* pos was reloaded by the failed CAS */
        } else if (dif < 0) {
            return -1;   /* full: the consumer has not released this cell */
        } else {
            pos = __atomic_load_n(&q->enqueue_pos, __ATOMIC_RELAXED);
        }
    }
    populate_ahead(q, pos + k);
    const unsigned char *src = (const unsigned char *)r;
    for (uint64_t j = 0; j < k; j++) {
        size_t n = len - j * GCTP_CELL_DATA;
        memcpy(q->cells[(pos + j) & q->mask].data, src + j * GCTP_CELL_DATA,
               n < GCTP_CELL_DATA ? n : GCTP_CELL_DATA);
    }
    uint64_t i = pos & q->mask;
    __atomic_store_n(&q->cells[i].seq, pos + 1 - i, __ATOMIC_RELEASE);
    return 0;
}

struct gctp_rec *gctp_queue_peek(struct gctp_queue *q)
{
    uint64_t pos = q->dequeue_pos;
    uint64_t i = pos & q->mask;
    struct gctp_cell *c = &q->cells[i];
    if (__atomic_load_n(&c->seq, __ATOMIC_ACQUIRE) + i != pos + 1)
        return NULL;
    unsigned char *dst = (unsigned char *)&q->out;
    memcpy(dst, c->data, GCTP_CELL_DATA);
    size_t len = gctp_rec_len(&q->out);
    uint64_t k = cells_of(len);
    for (uint64_t j = 1; j < k; j++) {
        size_t n = len - j * GCTP_CELL_DATA;
        memcpy(dst + j * GCTP_CELL_DATA, q->cells[(pos + j) & q->mask].data,
               n < GCTP_CELL_DATA ? n : GCTP_CELL_DATA);
    }
    q->out_cells = k;
    return &q->out;
}

void gctp_queue_release(struct gctp_queue *q)
{
    uint64_t pos = q->dequeue_pos, cap = q->mask + 1;
    for (uint64_t j = 0; j < q->out_cells; j++, pos++) {
        uint64_t i = pos & q->mask;
        __atomic_store_n(&q->cells[i].seq, pos + cap - i, __ATOMIC_RELEASE);
    }
    q->dequeue_pos = pos;
    q->out_cells = 0;
}
