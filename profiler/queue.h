/* profiler/queue.h - the bounded lock-free queue between allocating threads
 * (producers) and the profiler's writer (the one consumer: a thread, or a
 * helper process in helper mode).
 *
 * A power-of-two ring of 64-byte cells, each with a sequence number
 * (Vyukov's bounded MPMC queue, used with one consumer), holding
 * variable-length records: a record takes the fewest consecutive cells its
 * bytes need (gctp_rec_len: a free is one cell, a sample with 8 frames
 * three), so the queue touches about a fifth of the memory it would with
 * fixed-size cells.  A producer builds the record on its own stack and
 * claims its cells with one CAS; when the ring is full it fails at once
 * (the caller counts the drop) and never waits.  The consumer takes
 * records in claim order, copying each out; a record claimed but not yet
 * published stops it until the producer finishes.  The ring is mmap'd:
 * pages are touched only as the queue fills.
 */
#ifndef GCTUNE_PROFILER_QUEUE_H
#define GCTUNE_PROFILER_QUEUE_H

#include <stdint.h>
#include <stddef.h>
#include "gctune/backend.h"

#define GCTP_MAX_FRAMES 64

enum gctp_rec_type { GCTP_REC_ALLOC = 1, GCTP_REC_FREE = 2, GCTP_REC_GC = 3, GCTP_REC_TUNER = 4,
                     GCTP_REC_HEAP = 5 };

/* A tuner decision (gct_profiler_tuner_event); strings truncated to fit. */
struct gctp_tuner_rec {
    char knob[24];
    int64_t old_value, new_value;   /* INT64_MIN: NULL */
    char reason[200];
    char measurements[264];
};

/* The fields a FREE carries come first: it is one cell. */
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
        gct_backend_stats heap;           /* HEAP: the backend's statistics,
                                             read in the profiled process */
    } u;
};

#define GCTP_CELL_DATA 56
struct gctp_cell {
    uint64_t seq;                /* sequence number minus the cell's index (queue.c) */
    unsigned char data[GCTP_CELL_DATA];
};

struct gctp_queue {
    struct gctp_cell *cells;
    uint64_t mask;
    size_t map_bytes;
    char pad0[64];
    uint64_t enqueue_pos;        /* producers, CAS */
    uint64_t populated;          /* producers, CAS: cells made resident ahead of them (first lap) */
    char pad1[64];
    uint64_t dequeue_pos;        /* consumer only */
    uint64_t out_cells;          /* consumer: cells of the record in out */
    struct gctp_rec out;         /* consumer: the record peeked */
};

/* The bytes of r that the queue carries (by type; ALLOC: its nframes ips). */
size_t gctp_rec_len(const struct gctp_rec *r);

/* Room for capacity typical records (a sample with 8 frames: 3 cells) and
 * at least two of the largest (64 frames), rounded up to a power of two of
 * cells.  shared: the cells are MAP_SHARED (a forked
 * consumer process sees them).  Returns 0 or errno. */
int gctp_queue_init(struct gctp_queue *q, uint32_t capacity, int shared);
void gctp_queue_destroy(struct gctp_queue *q);

/* Producer: copies r (gctp_rec_len bytes) into the queue and publishes it;
 * -1 when the queue is full (nothing written). */
int gctp_queue_put(struct gctp_queue *q, const struct gctp_rec *r);

/* Consumer: the next published record (a copy, valid until the next call)
 * or NULL; release its cells with gctp_queue_release after use. */
struct gctp_rec *gctp_queue_peek(struct gctp_queue *q);
void gctp_queue_release(struct gctp_queue *q);

#endif
