/* profiler/env.c - the profiler's environment parsers (see env.h).
 *
 * Pure functions: no global state, no allocation, errno restored to what
 * it was only where strtoull needs it cleared.  Owned here so that the
 * fuzzer (tests/fuzz/fuzz_env.c) runs exactly the code the constructor in
 * profiler.c runs.
 */
#include "env.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t gctp_env_bytes(const char *s)
{
    if (!s || !isdigit((unsigned char)*s))   /* no sign, no blank: strtoull would take them */
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    uint64_t mul = 1;
    if (!strcmp(end, "K") || !strcmp(end, "KiB"))
        mul = 1ull << 10;
    else if (!strcmp(end, "M") || !strcmp(end, "MiB"))
        mul = 1ull << 20;
    else if (!strcmp(end, "G") || !strcmp(end, "GiB"))
        mul = 1ull << 30;
    else if (*end)
        return -1;
    if (v > (uint64_t)INT64_MAX / mul)
        return -1;
    return (int64_t)(v * mul);
}

int gctp_env_queue(const char *s, uint32_t *out)
{
    int64_t v = gctp_env_bytes(s);
    if (v <= 0 || v > (1 << 24))
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int gctp_env_seed(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

/* A decimal CPU number below CPU_SETSIZE at *pp, advanced past it. */
static int cpu_number(const char **pp, unsigned *out)
{
    const char *p = *pp;
    if (!isdigit((unsigned char)*p))
        return -1;
    unsigned v = 0;
    for (; isdigit((unsigned char)*p); p++) {
        v = v * 10 + (unsigned)(*p - '0');
        if (v >= CPU_SETSIZE)
            return -1;
    }
    *pp = p;
    *out = v;
    return 0;
}

int gctp_env_cpus(const char *s, cpu_set_t *out)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (!s || !*s)
        return -1;
    const char *p = s;
    for (;;) {
        unsigned lo, hi;
        if (cpu_number(&p, &lo) != 0)
            return -1;
        hi = lo;
        if (*p == '-') {
            p++;
            if (cpu_number(&p, &hi) != 0 || hi < lo)
                return -1;
        }
        for (unsigned c = lo; c <= hi; c++)
            CPU_SET(c, &set);
        if (*p == '\0')
            break;
        if (*p++ != ',')
            return -1;
    }
    *out = set;
    return 0;
}

int gctp_env_expand_path(const char *in, long pid, char *out, size_t len)
{
    if (len == 0)
        return -1;
    char num[24];
    int numlen = snprintf(num, sizeof num, "%ld", pid);
    size_t n = 0;
    const char *p = in;
    for (; *p; p++) {
        const char *piece = p;
        size_t plen = 1;
        if (p[0] == '%' && p[1] == 'p') {
            piece = num;
            plen = (size_t)numlen;
            p++;
        }
        if (plen > len - 1 - n) {
            memcpy(out + n, piece, len - 1 - n);
            out[len - 1] = '\0';
            return -1;
        }
        memcpy(out + n, piece, plen);
        n += plen;
    }
    out[n] = '\0';
    return 0;
}
