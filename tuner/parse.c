/* tuner/parse.c - the syntax of the tuner's goals: durations ("5ms"),
 * percentages ("5%") and byte counts ("512MiB"), as GCTUNE_MAX_PAUSE,
 * GCTUNE_MAX_GC_CPU and GCTUNE_MEMORY take them (tuner/tuner.c) and as
 * `gctune recommend` takes --max-pause, --max-gc-cpu and --memory
 * (reports/recommend.c).  Compiled into both libgctune_tuner.la and
 * libgctune_model.la, so the runtime and the command read one syntax.
 *
 * Pure functions: each returns 0 and stores the value, or -1 and leaves
 * *out untouched; never reads past the string's NUL; the results are in
 * range (duration and byte count fit int64_t, fraction in (0, 1]).
 */
#include "gctune/tuner.h"
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


int gct_tuner_parse_duration(const char *s, int64_t *out_ns)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !(v >= 0) || !isfinite(v))
        return -1;
    double mul;
    if (!*end || !strcmp(end, "ms"))
        mul = 1e6;
    else if (!strcmp(end, "ns"))
        mul = 1;
    else if (!strcmp(end, "us") || !strcmp(end, "\xc2\xb5s"))
        mul = 1e3;
    else if (!strcmp(end, "s"))
        mul = 1e9;
    else
        return -1;
    if (v * mul > 9e18)
        return -1;
    *out_ns = (int64_t)llround(v * mul);
    return 0;
}

int gct_tuner_parse_percent(const char *s, double *out_fraction)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || (*end && strcmp(end, "%") != 0) || !(v > 0) || v > 100)
        return -1;
    *out_fraction = v / 100.0;
    return 0;
}

int gct_tuner_parse_bytes(const char *s, int64_t *out)
{
    if (!s || *s < '0' || *s > '9')   /* no sign, no blanks (strtoull takes both) */
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    uint64_t mul = 1;
    if (!*end || !strcmp(end, "B"))
        mul = 1;
    else if (!strcmp(end, "K") || !strcmp(end, "KiB"))
        mul = 1ull << 10;
    else if (!strcmp(end, "M") || !strcmp(end, "MiB"))
        mul = 1ull << 20;
    else if (!strcmp(end, "G") || !strcmp(end, "GiB"))
        mul = 1ull << 30;
    else if (!strcmp(end, "T") || !strcmp(end, "TiB"))
        mul = 1ull << 40;
    else
        return -1;
    if (v > (uint64_t)INT64_MAX / mul)
        return -1;
    *out = (int64_t)(v * mul);
    return 0;
}
