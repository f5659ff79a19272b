/* pool.h - gc_pool internals (pool.c): the collector's hook.
 *
 * gci_pool_cycle_start() is called by the collector with the world stopped,
 * after every mcache is flushed (gci_find_object must be exact) and before
 * marking starts (gci_mark_run): it drops each pool's victim cache, moves
 * the primary cache (every thread's private slot and the shared lists)
 * into the victim cache, and marks every victim object as a root with
 * gci_mark_object(obj, 1) (scan).  So a pooled object survives exactly
 * one collection, and is freed by the second unless taken back.
 */
#ifndef GC_POOL_H
#define GC_POOL_H

#include "gc_internal.h"

GC_HIDDEN void gci_pool_cycle_start(void);   /* world stopped, mcaches flushed, before marking */

#endif
