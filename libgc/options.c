/* options.c - settings read from the environment, once, at initialisation.
 *
 * Owns: parsing of GOGC, GOMEMLIMIT, GODEBUG (gctrace, gccheckmark),
 * GCTUNE_PROCS, GCTUNE_GCSTRESS and GCTUNE_CONCURRENT with Go's syntax.
 * A bad value produces exactly one warning naming the variable, the value
 * and the default used instead (unlike Go, which silently ignores some).
 * The parsers are pure functions (tested in test_options.c and fuzzed).
 */
#include "gc_internal.h"
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

/* "off" or a decimal integer (optionally signed); negative means off. */
int gci_parse_gogc(const char *s, int *out)
{
    if (!s)
        return -1;
    if (strcmp(s, "off") == 0) {
        *out = -1;
        return 0;
    }
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return -1;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || errno == ERANGE || v > INT_MAX || v < INT_MIN)
        return -1;
    *out = v < 0 ? -1 : (int)v;
    return 0;
}

/* Bytes with an optional suffix B, KiB, MiB, GiB or TiB, or "off". */
int gci_parse_memlimit(const char *s, int64_t *out)
{
    if (!s || !*s)
        return -1;
    if (strcmp(s, "off") == 0) {
        *out = INT64_MAX;
        return 0;
    }
    uint64_t v = 0;
    const char *p = s;
    if (!isdigit((unsigned char)*p))
        return -1;
    while (isdigit((unsigned char)*p)) {
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*p++ - '0');
    }
    static const struct { const char *suffix; unsigned shift; } units[] = {
        {"", 0}, {"B", 0}, {"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(p, units[i].suffix) == 0) {
            if (units[i].shift && v > ((uint64_t)INT64_MAX >> units[i].shift))
                return -1;
            v <<= units[i].shift;
            if (v > (uint64_t)INT64_MAX)
                return -1;
            *out = (int64_t)v;
            return 0;
        }
    }
    return -1;
}

int gci_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || errno == ERANGE || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Finds key=value in a comma-separated GODEBUG string.  Returns 1 and sets
 * *out when found with an integer value, 0 when absent, -1 when malformed. */
int gci_godebug_lookup(const char *godebug, const char *key, int *out)
{
    size_t klen = strlen(key);
    const char *p = godebug;
    int found = 0;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            char buf[32];
            size_t vlen = len - klen - 1;
            uint64_t v;
            if (vlen == 0 || vlen >= sizeof buf)
                return -1;
            memcpy(buf, p + klen + 1, vlen);
            buf[vlen] = 0;
            if (gci_parse_uint(buf, INT_MAX, &v) != 0)
                return -1;
            *out = (int)v;
            found = 1;   /* the last occurrence wins, as in Go */
        }
        p = end ? end + 1 : NULL;
    }
    return found;
}

void gci_options_init(void)
{
    const char *v;
    int gogc = 100;
    if ((v = getenv("GOGC")) != NULL && gci_parse_gogc(v, &gogc) != 0) {
        gci_warn("GOGC=\"%s\" is not a percent or \"off\"; using 100", v);
        gogc = 100;
    }
    gci->gc_percent = gogc;

    int64_t limit = INT64_MAX;
    if ((v = getenv("GOMEMLIMIT")) != NULL && gci_parse_memlimit(v, &limit) != 0) {
        gci_warn("GOMEMLIMIT=\"%s\" is not a byte count with an optional KiB/MiB/GiB/TiB suffix or \"off\"; "
                 "using no limit", v);
        limit = INT64_MAX;
    }
    gci->memory_limit = limit;

    if ((v = getenv("GODEBUG")) != NULL) {
        int val = 0;
        int r = gci_godebug_lookup(v, "gctrace", &val);
        if (r < 0)
            gci_warn("GODEBUG=\"%s\": gctrace wants a number; using gctrace=0", v);
        else if (r > 0)
            gci->gctrace = val;
        val = 0;
        r = gci_godebug_lookup(v, "gccheckmark", &val);
        if (r < 0)
            gci_warn("GODEBUG=\"%s\": gccheckmark wants a number; using gccheckmark=0", v);
        else if (r > 0)
            gci->gccheckmark = val;
    }

    int ncpu = gci_ncpu();
    uint64_t procs = (uint64_t)ncpu;
    if ((v = getenv("GCTUNE_PROCS")) != NULL && (gci_parse_uint(v, 256, &procs) != 0 || procs == 0)) {
        gci_warn("GCTUNE_PROCS=\"%s\" is not a number of threads in 1..256; using %d", v, ncpu);
        procs = (uint64_t)ncpu;
    }
    gci->procs = (int)procs;

    uint64_t stress = 0;
    if ((v = getenv("GCTUNE_GCSTRESS")) != NULL && gci_parse_uint(v, UINT32_MAX, &stress) != 0) {
        gci_warn("GCTUNE_GCSTRESS=\"%s\" is not a number of allocations; stress mode off", v);
        stress = 0;
    }
    gci->stress_every = stress;

    uint64_t conc = 0;
    if ((v = getenv("GCTUNE_CONCURRENT")) != NULL && (gci_parse_uint(v, 1, &conc) != 0)) {
        gci_warn("GCTUNE_CONCURRENT=\"%s\" is not 0 or 1; using stop-the-world marking", v);
        conc = 0;
    }
    gci->concurrent = (int)conc;
}
