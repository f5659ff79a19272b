/* reports/gctrace.h - parses GODEBUG=gctrace=1 lines (Go's runtime and
 * libgc print the same format) into gc_cycles rows of the run database.
 *
 * Format (Go 1.18+ and libgc; older Go lacks the stacks/globals fields,
 * and newer fields before "Q P" are skipped, as is anything after it):
 *   gc N @T s P%: A+B+C ms clock, D+E/F/G+H ms cpu, I->J->K MB, L MB goal,
 *   [M MB stacks, N MB globals, ]Q P[ (forced)]
 *
 * Mapping into gcts_gc_cycle (every other field stays GCTS_NULL / NaN):
 *   num = N                     start_ns = T s        gc_cpu_fraction = P / 100
 *   pause_ns = (A + C) ms       end_ns = start_ns + (A + B + C) ms
 *   assist_cpu_ns = E ms        background_cpu_ns = F ms
 *   idle_cpu_ns = G ms          mark_cpu_ns = (E + F + G) ms
 *   heap_before/after/marked/goal = I/J/K/L MiB (Go's "MB" is 2^20 bytes)
 *   procs = Q                   forced = "(forced)" present (1) or not (0)
 *   concurrent = 1
 * Decimal fractions convert exactly (ms to ns: up to 6 decimals, s to ns:
 * up to 9; further digits are truncated).  Numbers are plain decimals: no
 * sign, exponent, NaN or inf.  Every time and byte count must be at most
 * 2^62, procs in 1..2^20, P at most 10000.  A control character (tab, a
 * \n before the last) makes a candidate line malformed.
 */
#ifndef GCTUNE_GCTRACE_H
#define GCTUNE_GCTRACE_H

#include <stddef.h>
#include "store.h"   /* gcts_gc_cycle, GCTS_NULL, gcts_gc_cycle_init */

/* Returns 1 and fills *out when line is a gctrace cycle line; 0 when it is
 * not a gctrace line (other program output, "scvg" lines, blank); -1 when
 * it starts like one ("gc <N> @", N possibly signed or malformed) but is
 * malformed, with one line in err saying what is wrong (no trailing
 * newline).  The line may end with \n or \r\n.  err (if errlen > 0) is
 * always NUL-terminated, and "" unless -1 is returned.  *out is written
 * only when 1 is returned.  out may not be NULL; err may be NULL if errlen
 * is 0.  Thread-safe (no state). */
int gctrace_parse_line(const char *line, gcts_gc_cycle *out, char *err, size_t errlen);

#endif
