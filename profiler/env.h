/* profiler/env.h - the parsers of the profiler's environment variables
 * (GCTUNE_PROFILE's "%p", GCTUNE_SAMPLE_RATE, GCTUNE_PROFILE_QUEUE,
 * GCTUNE_SAMPLE_SEED, GCTUNE_HELPER_CPUS), as pure functions: profiler.c calls them from its
 * constructor, tests/fuzz/fuzz_env.c fuzzes them.
 *
 * Contract: every function takes any NUL-terminated string, never reads
 * past its NUL, never writes past the output it is given, and never
 * touches *out unless it returns 0 (or a value >= 0 for gctp_env_bytes).
 */
#ifndef GCTUNE_PROFILER_ENV_H
#define GCTUNE_PROFILER_ENV_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* cpu_set_t */
#endif
#include <sched.h>
#include <stddef.h>
#include <stdint.h>

/* Decimal bytes with an optional K/KiB/M/MiB/G/GiB suffix (1024-based);
 * -1 if s is not that, or if the value exceeds INT64_MAX. */
int64_t gctp_env_bytes(const char *s);

/* GCTUNE_PROFILE_QUEUE: a record count in 1..2^24 (suffixes as above);
 * 0 and *out set, or -1. */
int gctp_env_queue(const char *s, uint32_t *out);

/* GCTUNE_SAMPLE_SEED: an unsigned integer, decimal, 0x hex or 0 octal, up
 * to 2^64-1, nothing after it; 0 and *out set, or -1. */
int gctp_env_seed(const char *s, uint64_t *out);

/* GCTUNE_HELPER_CPUS: a list of CPU numbers and ranges, "1", "0-3,6",
 * each below CPU_SETSIZE (1024), no blanks, no empty item, ranges
 * ascending.  0 and *out set to those CPUs (for sched_setaffinity), or -1
 * (*out untouched). */
int gctp_env_cpus(const char *s, cpu_set_t *out);

/* GCTUNE_PROFILE's path: copies in to out (len > 0 bytes), each "%p"
 * replaced by pid; always NUL-terminates, truncating to len - 1 bytes.
 * Returns 0, or -1 if the result was truncated. */
int gctp_env_expand_path(const char *in, long pid, char *out, size_t len);

#endif
