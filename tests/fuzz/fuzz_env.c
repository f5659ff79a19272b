/* tests/fuzz/fuzz_env.c - libFuzzer target for every parser of an
 * environment variable:
 *   runtime (libgc/options.c): GOGC (gci_parse_gogc), GOMEMLIMIT
 *     (gci_parse_memlimit), GODEBUG (gci_godebug_lookup, keys gctrace and
 *     gccheckmark), GCTUNE_PROCS / GCTUNE_GCSTRESS / GCTUNE_CONCURRENT
 *     (gci_parse_uint with their maxima);
 *   tuner (tuner/tuner.c): gct_tuner_parse_duration / _percent / _bytes;
 *   profiler (profiler/env.c): GCTUNE_SAMPLE_RATE, GCTUNE_PROFILE_QUEUE,
 *     GCTUNE_SAMPLE_SEED, GCTUNE_HELPER_CPUS, GCTUNE_PROFILE's "%p"
 *     expansion.
 *
 * The input (up to its first NUL) is the variable's value, copied into a
 * heap block of exactly its length + 1, so ASan sees any read past the
 * NUL.  Every parser runs on it; the checks are each parser's contract:
 * a result in range, the output left alone on failure, and a round trip
 * (a value printed back in canonical form parses to itself).  A broken
 * check prints the input and aborts.
 *
 * Built two ways (tests/fuzz/local.mk): with gcc + ASan + UBSan and
 * tests/fuzz/replay_main.c (make check replays tests/fuzz/corpus/env), and
 * with clang -fsanitize=fuzzer (make stress-fuzz).
 */
#define _GNU_SOURCE   /* cpu_set_t, for gctp_env_cpus */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc_internal.h"
#include "gctune/tuner.h"
#include "profiler/env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *current;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "fuzz_env: %s:%d: check failed: %s\ninput: \"%s\"\n",   \
                    __FILE__, __LINE__, #cond, current ? current : "");               \
            abort();                                                                  \
        }                                                                             \
    } while (0)

static void fuzz_runtime(const char *s)
{
    int gogc = 12345;
    int rc = gci_parse_gogc(s, &gogc);
    CHECK(rc == 0 || rc == -1);
    if (rc == 0) {
        CHECK(gogc >= -1);
        if (gogc >= 0) {
            char buf[32];
            int back = -7;
            snprintf(buf, sizeof buf, "%d", gogc);
            CHECK(gci_parse_gogc(buf, &back) == 0 && back == gogc);
        }
    } else {
        CHECK(gogc == 12345);
    }

    int64_t lim = 42;
    rc = gci_parse_memlimit(s, &lim);
    CHECK(rc == 0 || rc == -1);
    if (rc == 0) {
        CHECK(lim >= 0);
        if (lim != INT64_MAX || strcmp(s, "off") != 0) {
            char buf[32];
            int64_t back = -1;
            snprintf(buf, sizeof buf, "%" PRId64, lim);
            CHECK(gci_parse_memlimit(buf, &back) == 0 && back == lim);
        }
    } else {
        CHECK(lim == 42);
    }

    static const uint64_t maxima[] = { 1, 256, UINT32_MAX, INT_MAX, UINT64_MAX };
    for (size_t i = 0; i < sizeof maxima / sizeof maxima[0]; i++) {
        uint64_t v = 7;
        rc = gci_parse_uint(s, maxima[i], &v);
        CHECK(rc == 0 || rc == -1);
        if (rc == 0)
            CHECK(v <= maxima[i]);
        else
            CHECK(v == 7);
    }

    static const char *const keys[] = { "gctrace", "gccheckmark" };
    for (size_t i = 0; i < 2; i++) {
        int v = -5;
        rc = gci_godebug_lookup(s, keys[i], &v);
        CHECK(rc == -1 || rc == 0 || rc == 1);
        if (rc == 1)
            CHECK(v >= 0);
        else if (rc == 0)
            CHECK(v == -5);
        if (rc == 1) {   /* then "key=" is in the string */
            char k[16];
            snprintf(k, sizeof k, "%s=", keys[i]);
            CHECK(strstr(s, k) != NULL);
        }
    }
}

static void fuzz_tuner(const char *s)
{
    int64_t ns = -3;
    int rc = gct_tuner_parse_duration(s, &ns);
    CHECK(rc == 0 || rc == -1);
    if (rc == 0) {
        CHECK(ns >= 0 && ns <= (int64_t)9e18);
        char buf[40];
        int64_t back = -1;
        snprintf(buf, sizeof buf, "%" PRId64 "ns", ns);
        CHECK(gct_tuner_parse_duration(buf, &back) == 0 && back == ns);
    } else {
        CHECK(ns == -3);
    }

    double f = -2.0;
    rc = gct_tuner_parse_percent(s, &f);
    CHECK(rc == 0 || rc == -1);
    if (rc == 0)
        CHECK(f > 0.0 && f <= 1.0);
    else
        CHECK(f == -2.0);

    int64_t b = -4;
    rc = gct_tuner_parse_bytes(s, &b);
    CHECK(rc == 0 || rc == -1);
    if (rc == 0) {
        CHECK(b >= 0);
        char buf[32];
        int64_t back = -1;
        snprintf(buf, sizeof buf, "%" PRId64, b);
        CHECK(gct_tuner_parse_bytes(buf, &back) == 0 && back == b);
    } else {
        CHECK(b == -4);
    }
}

static void fuzz_profiler(const char *s, size_t size, uint8_t first)
{
    int64_t v = gctp_env_bytes(s);
    CHECK(v >= -1);
    if (v >= 0) {
        char buf[32];
        snprintf(buf, sizeof buf, "%" PRId64, v);
        CHECK(gctp_env_bytes(buf) == v);
    }

    uint32_t q = 99;
    int rc = gctp_env_queue(s, &q);
    CHECK(rc == 0 || rc == -1);
    if (rc == 0)
        CHECK(q >= 1 && q <= (1u << 24) && (int64_t)q == v);
    else
        CHECK(q == 99);

    uint64_t seed = 11;
    rc = gctp_env_seed(s, &seed);
    CHECK(rc == 0 || rc == -1);
    if (rc == 0) {
        char buf[32];
        uint64_t back = 0;
        snprintf(buf, sizeof buf, "%" PRIu64, seed);
        CHECK(gctp_env_seed(buf, &back) == 0 && back == seed);
    } else {
        CHECK(seed == 11);
    }

    /* a CPU list: at least one CPU; printed back as ranges, it parses to
     * the same set */
    cpu_set_t cpus, untouched;
    memset(&cpus, 0xa5, sizeof cpus);
    untouched = cpus;
    rc = gctp_env_cpus(s, &cpus);
    CHECK(rc == 0 || rc == -1);
    if (rc == 0) {
        char buf[8 * CPU_SETSIZE];
        size_t n = 0;
        for (unsigned c = 0; c < CPU_SETSIZE; c++) {
            if (!CPU_ISSET(c, &cpus))
                continue;
            unsigned e = c;
            while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, &cpus))
                e++;
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%u-%u", n ? "," : "", c, e);
            c = e;
        }
        CHECK(CPU_COUNT(&cpus) >= 1);
        cpu_set_t back;
        CHECK(gctp_env_cpus(buf, &back) == 0 && CPU_EQUAL(&back, &cpus));
    } else {
        CHECK(memcmp(&cpus, &untouched, sizeof cpus) == 0);
    }

    /* %p expansion into buffers of exactly len bytes, len from the input */
    size_t npct = 0;
    for (const char *p = s; (p = strstr(p, "%p")) != NULL; p += 2)
        npct++;
    static const long pids[] = { 1, 4194304, LONG_MAX, -1 };
    long pid = pids[first % 4];
    char num[24];
    size_t numlen = (size_t)snprintf(num, sizeof num, "%ld", pid);
    size_t want = size + npct * numlen - npct * 2;   /* the full expansion's length */
    size_t lens[] = { 1, 1 + (size_t)first % 32, want, want + 1, 4096 };
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t len = lens[i] ? lens[i] : 1;
        char *out = malloc(len);
        CHECK(out != NULL);
        memset(out, 'z', len);
        rc = gctp_env_expand_path(s, pid, out, len);
        CHECK(rc == 0 || rc == -1);
        CHECK(memchr(out, '\0', len) != NULL);
        if (rc == 0) {
            CHECK(strlen(out) == want);
            CHECK(len > want);
        } else {
            CHECK(len <= want);
            CHECK(strlen(out) == len - 1);
        }
        free(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    if (nul)
        size = (size_t)(nul - data);
    char *s = malloc(size + 1);   /* exactly: ASan catches over-reads */
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    current = s;
    fuzz_runtime(s);
    fuzz_tuner(s);
    fuzz_profiler(s, size, size ? data[0] : 0);
    current = NULL;
    free(s);
    return 0;
}
