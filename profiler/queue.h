/* profiler/queue.h - the bounded lock-free queue between allocating threads
 * (producers) and the profiler's writer thread (the one consumer).
 *
 * Fixed-size records in a power-of-two ring of cells, each with a sequence
 * number (Vyukov's bounded MPMC queue, used with one consumer).  A producer
 * claims a cell with one CAS, fills it and publishes it with a release
 * store; when the ring is full it fails at once (the caller counts the
 * drop) and never waits.  The consumer takes cells in claim order; a cell
 * claimed but not yet published stops it until the producer finishes.
 * The ring is mmap'd: pages are touched only as the queue fills.
 */
#ifndef GCTUNE_PROFILER_QUEUE_H
#define GCTUNE_PROFILER_QUEUE_H

#include <stdint.h>
#include <stddef.h>
#include "gctune/backend.h"

#define GCTP_MAX_FRAMES 64

enum gctp_rec_type { GCTP_REC_ALLOC = 1, GCTP_REC_FREE = 2, GCTP_REC_GC = 3, GCTP_REC_TUNER = 4 };

/* A tuner decision (gct_profiler_tuner_event); strings truncated to fit. */
struct gctp_tuner_rec {
    char knob[24];
    int64_t old_value, new_value;   /* INT64_MIN: NULL */
    char reason[200];
    char measurements[264];
};

struct gctp_rec {
    uint32_t type;               /* enum gctp_rec_type */
    uint32_t nframes;            /* ALLOC: ips used */
    uint64_t token;              /* ALLOC, FREE: the sample id */
    int64_t time_ns;             /* CLOCK_MONOTONIC */
    uint64_t addr, size;         /* ALLOC */
    uint64_t rate;               /* ALLOC: sampling rate in effect */
    uint64_t tid;                /* ALLOC: OS thread id */
    uint64_t hash;               /* ALLOC: hash of ips[0..nframes) */
    union {
        uintptr_t ips[GCTP_MAX_FRAMES];   /* ALLOC: leaf first */
        gct_gc_event gc;                  /* GC */
        struct gctp_tuner_rec tuner;      /* TUNER */
    } u;
};

struct gctp_cell {
    uint64_t seq;                /* sequence number minus the cell's index (queue.c) */
    struct gctp_rec rec;
};

struct gctp_queue {
    struct gctp_cell *cells;
    uint64_t mask;
    size_t map_bytes;
    char pad0[64];
    uint64_t enqueue_pos;        /* producers, CAS */
    char pad1[64];
    uint64_t dequeue_pos;        /* consumer only */
};

/* capacity is rounded up to a power of two (>= 2).  Returns 0 or errno. */
int gctp_queue_init(struct gctp_queue *q, uint32_t capacity);
void gctp_queue_destroy(struct gctp_queue *q);

/* Producer: claims a cell; NULL when the queue is full.  Fill the record,
 * then publish it with gctp_queue_push. */
struct gctp_rec *gctp_queue_claim(struct gctp_queue *q, uint64_t *ticket);
void gctp_queue_push(struct gctp_queue *q, uint64_t ticket);

/* Consumer: the next published record or NULL; release it with
 * gctp_queue_release after use. */
struct gctp_rec *gctp_queue_peek(struct gctp_queue *q);
void gctp_queue_release(struct gctp_queue *q);

#endif
