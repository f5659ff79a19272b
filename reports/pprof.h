/* reports/pprof.h - writes a gzipped profile.proto (pprof's format,
 * github.com/google/pprof/proto/profile.proto) from locations, mappings and
 * samples.  Self-contained: a minimal protobuf encoder and zlib's gzip.
 *
 * Usage: pprof_new with the sample types, add mappings, then locations
 * (each with one line: function name, file, line), then samples referring
 * to location ids (leaf first), then pprof_write.  Ids returned are 1-based
 * and stable; strings are interned.  Functions are deduplicated by
 * (name, file).  Not thread-safe.
 */
#ifndef GCTUNE_PPROF_H
#define GCTUNE_PPROF_H

#include <stddef.h>
#include <stdint.h>

typedef struct pprof_builder pprof_builder;

typedef struct pprof_sample_type {
    const char *type;   /* "alloc_objects" */
    const char *unit;   /* "count" */
} pprof_sample_type;

/* ntypes <= 8.  period_type/period: e.g. {"space","bytes"}, 524288.
 * Returns NULL on out of memory. */
pprof_builder *pprof_new(const pprof_sample_type *types, int ntypes,
                         const pprof_sample_type *period_type, int64_t period,
                         int64_t time_nanos, int64_t duration_nanos);
/* Returns the mapping id (>= 1), 0 on out of memory. */
uint64_t pprof_add_mapping(pprof_builder *b, uint64_t start, uint64_t limit,
                           uint64_t file_offset, const char *filename,
                           const char *build_id);
/* mapping_id 0: none.  function/file may be NULL.  Returns the location
 * id (>= 1), 0 on out of memory. */
uint64_t pprof_add_location(pprof_builder *b, uint64_t address,
                            uint64_t mapping_id, const char *function,
                            const char *file, int64_t line);
/* values: ntypes values in the order of pprof_new's types. Returns 0 or -1. */
int pprof_add_sample(pprof_builder *b, const uint64_t *location_ids, int nlocs,
                     const int64_t *values);
/* Writes the gzipped profile to path ("-" = stdout).  Returns 0, or -1
 * with a message in err. */
int pprof_write(pprof_builder *b, const char *path, char *err, size_t errlen);
void pprof_free(pprof_builder *b);

#endif
