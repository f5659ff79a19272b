/* backends/preload.h - what the parts of libgctune-preload.so tell each
 * other: the backends it holds (malloc.c, bdwgc.c) and the tuner's start
 * from GCTUNE_TUNER (tuner/tuner.c), which uses the backend the preload
 * library chose instead of libgc's.
 *
 * Invariant: the choice is made once, in bdwgc.c's constructor (priority
 * 102, after malloc.c's 101 and before the profiler's and the tuner's
 * default-priority constructors that start from the environment).
 */
#ifndef GCTUNE_BACKENDS_PRELOAD_H
#define GCTUNE_BACKENDS_PRELOAD_H

#include "gctune/backend.h"

const gct_backend *gct_backend_malloc(void);
/* Boehm GC's backend; NULL when the process has no Boehm GC. */
const gct_backend *gct_backend_bdwgc(void);
/* tuner/tuner.c: the backend GCTUNE_TUNER starts on (NULL = libgc);
 * gctt_ (internal) so that libgctune.so does not export it. */
void gctt_set_env_backend(const gct_backend *b);

#endif
