/* profiler/queue.c - the bounded lock-free MPSC queue (see queue.h).
 *
 * Invariants: for the cell at index i = pos & mask, with seq = cell.seq + i
 * (cells store seq - i, so the zero pages of a fresh mapping already mean
 * "seq == i" and no page is touched before the queue reaches it):
 *   seq == pos            free for the producer that claims position pos;
 *   seq == pos + 1        published, ready for the consumer at pos;
 *   seq == pos + mask + 1 released by the consumer, free for pos + capacity.
 * enqueue_pos - dequeue_pos <= capacity at all times.
 */
#include "queue.h"
#include <errno.h>
#include <sys/mman.h>

int gctp_queue_init(struct gctp_queue *q, uint32_t capacity)
{
    uint64_t cap = 2;
    while (cap < capacity)
        cap <<= 1;
    size_t bytes = cap * sizeof(struct gctp_cell);
    void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return errno ? errno : ENOMEM;
    q->cells = m;
    q->mask = cap - 1;
    q->map_bytes = bytes;
    q->enqueue_pos = 0;
    q->dequeue_pos = 0;
    return 0;
}

void gctp_queue_destroy(struct gctp_queue *q)
{
    if (q->cells)
        munmap(q->cells, q->map_bytes);
    q->cells = NULL;
}

struct gctp_rec *gctp_queue_claim(struct gctp_queue *q, uint64_t *ticket)
{
    uint64_t pos = __atomic_load_n(&q->enqueue_pos, __ATOMIC_RELAXED);
    for (;;) {
        struct gctp_cell *c = &q->cells[pos & q->mask];
        uint64_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE) + (pos & q->mask);
        int64_t dif = (int64_t)(seq - pos);
        if (dif == 0) {
            if (__atomic_compare_exchange_n(&q->enqueue_pos, &pos, pos + 1, 1,
                                            __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
                *ticket = pos;
                return &c->rec;
            }
            /* pos was reloaded by the failed CAS */
        } else if (dif < 0) {
            return NULL;   /* full: the consumer has not released this cell */
        } else {
            pos = __atomic_load_n(&q->enqueue_pos, __ATOMIC_RELAXED);
        }
    }
}

void gctp_queue_push(struct gctp_queue *q, uint64_t ticket)
{
    uint64_t i = ticket & q->mask;
    __atomic_store_n(&q->cells[i].seq, ticket + 1 - i, __ATOMIC_RELEASE);
}

struct gctp_rec *gctp_queue_peek(struct gctp_queue *q)
{
    uint64_t pos = q->dequeue_pos;
    uint64_t i = pos & q->mask;
    struct gctp_cell *c = &q->cells[i];
    if (__atomic_load_n(&c->seq, __ATOMIC_ACQUIRE) + i != pos + 1)
        return NULL;
    return &c->rec;
}

void gctp_queue_release(struct gctp_queue *q)
{
    uint64_t pos = q->dequeue_pos;
    uint64_t i = pos & q->mask;
    __atomic_store_n(&q->cells[i].seq, pos + q->mask + 1 - i, __ATOMIC_RELEASE);
    q->dequeue_pos = pos + 1;
}
