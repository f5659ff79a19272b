/* fuzz_gctrace.c - fuzzes gctrace_parse_line (reports/gctrace.c).
 *
 * LLVMFuzzerTestOneInput takes any bytes (up to the first NUL, as the line)
 * and checks the parser's contract: the result is -1, 0 or 1; err is
 * NUL-terminated within errlen whatever errlen is (the buffers are heap
 * allocations of exactly errlen bytes, so ASan sees any write past them);
 * err is "" unless -1, and then one line starting "column "; *out is left
 * alone unless 1, and a parsed cycle is consistent (end >= start, pause
 * within the cycle, mark CPU = assist + background + idle, no negative
 * field, nothing above 2^62 ns).
 *
 * Without -DGCTUNE_LIBFUZZER (the `make check` build, under ASan + UBSan)
 * main does the fuzzing itself:
 *   fuzz_gctrace [N [CORPUS_DIR]]
 *   (a) replays every file of CORPUS_DIR (default: the source tree's
 *       tests/fuzz/corpus/gctrace), whose name says the expected result:
 *       ok-* parses (1), no-* is not gctrace (0), bad-* is malformed (-1);
 *   (b) runs N (default 20000) mutations of corpus entries, from a fixed
 *       seed: bit flips, byte changes, insertions of bytes and of tokens of
 *       the format, deletions, duplications, and splices of two entries.
 * It prints one summary line and exits 0, or aborts on the first broken
 * check, printing the input.  With -DGCTUNE_LIBFUZZER there is no main:
 * LLVMFuzzerTestOneInput is the entry point of the libFuzzer target
 * (clang -fsanitize=fuzzer, `make stress-fuzz`, tests/fuzz/libfuzzer.sh)
 * and of tests/fuzz/replay_gctrace (tests/fuzz/replay_main.c, which
 * replays the corpus in make check); see tests/fuzz/local.mk.
 */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gctrace.h"

#ifndef FUZZ_CORPUS_DIR
#define FUZZ_CORPUS_DIR "tests/fuzz/corpus/gctrace"
#endif

/* Stands in for the store library's definition when that is not linked. */
__attribute__((weak)) void gcts_gc_cycle_init(gcts_gc_cycle *c)
{
    c->num = c->start_ns = c->end_ns = c->pause_ns = GCTS_NULL;
    c->heap_before = c->heap_after = c->heap_marked = c->heap_goal = GCTS_NULL;
    c->gc_percent = c->memory_limit = GCTS_NULL;
    c->mark_cpu_ns = c->assist_cpu_ns = c->background_cpu_ns = c->idle_cpu_ns = GCTS_NULL;
    c->concurrent = c->forced = c->procs = GCTS_NULL;
    c->gc_cpu_fraction = NAN;
}

static const char *current;     /* the input, for failure messages */

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "fuzz_gctrace: %s:%d: check failed: %s\ninput: \"%s\"\n", \
                    __FILE__, __LINE__, #cond, current ? current : "");                 \
            abort();                                                                    \
        }                                                                               \
    } while (0)

static long counts[3];          /* results -1, 0, 1 */
static int last_rc;

#define LIMIT (INT64_C(1) << 62)

static void check_cycle(const gcts_gc_cycle *c)
{
    const int64_t v[] = {c->num, c->start_ns, c->end_ns, c->pause_ns, c->heap_before, c->heap_after,
                         c->heap_marked, c->heap_goal, c->mark_cpu_ns, c->assist_cpu_ns,
                         c->background_cpu_ns, c->idle_cpu_ns, c->procs};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        CHECK(v[i] >= 0 && v[i] <= LIMIT);
    CHECK(c->end_ns >= c->start_ns);
    CHECK(c->pause_ns <= c->end_ns - c->start_ns);
    CHECK(c->mark_cpu_ns == c->assist_cpu_ns + c->background_cpu_ns + c->idle_cpu_ns);
    CHECK(c->heap_before % (1 << 20) == 0 && c->heap_goal % (1 << 20) == 0);
    CHECK(c->procs >= 1);
    CHECK(c->forced == 0 || c->forced == 1);
    CHECK(c->concurrent == 1);
    CHECK(c->gc_percent == GCTS_NULL && c->memory_limit == GCTS_NULL);
    CHECK(c->gc_cpu_fraction >= 0.0 && c->gc_cpu_fraction <= 100.0);
}

/* One call with an err buffer of exactly errlen bytes (NULL if 0). */
static int run_one(const char *line, size_t errlen)
{
    char *err = errlen ? malloc(errlen) : NULL;
    if (errlen)
        CHECK(err != NULL);
    if (err)
        memset(err, 'z', errlen);
    gcts_gc_cycle c;
    memset(&c, 0x5a, sizeof c);
    gcts_gc_cycle before = c;
    int rc = gctrace_parse_line(line, &c, err, errlen);
    CHECK(rc == -1 || rc == 0 || rc == 1);
    if (err) {
        CHECK(memchr(err, '\0', errlen) != NULL);
        if (rc != -1)
            CHECK(err[0] == '\0');
        if (rc == -1) {
            CHECK(strchr(err, '\n') == NULL);
            CHECK(strncmp(err, "column ", errlen - 1 < 7 ? errlen - 1 : 7) == 0);
            if (errlen > 40)
                CHECK(strlen(err) > 10);
        }
    }
    if (rc == 1)
        check_cycle(&c);
    else
        CHECK(memcmp(&c, &before, sizeof c) == 0);
    free(err);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);     /* exactly: ASan catches over-reads */
    if (!line)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';
    current = line;
    int rc = run_one(line, 256);
    /* Same answer with a short err buffer and with none. */
    size_t small = size ? (size_t)data[0] % 24 : 1;
    CHECK(run_one(line, small) == rc);
    CHECK(run_one(line, 0) == rc);
    counts[rc + 1]++;
    last_rc = rc;
    current = NULL;
    free(line);
    return 0;
}

#ifndef GCTUNE_LIBFUZZER

typedef struct entry {
    char *name;
    uint8_t *data;
    size_t len;
} entry;

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

static entry *load_corpus(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "fuzz_gctrace: cannot open corpus %s\n", dir);
        exit(1);
    }
    entry *e = NULL;
    size_t cap = 0;
    *n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        uint8_t buf[8192];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            e = realloc(e, cap * sizeof *e);
            CHECK(e != NULL);
        }
        e[*n].name = strdup(de->d_name);
        e[*n].data = malloc(len ? len : 1);
        CHECK(e[*n].name && e[*n].data);
        memcpy(e[*n].data, buf, len);
        e[*n].len = len;
        (*n)++;
    }
    closedir(d);
    qsort(e, *n, sizeof *e, cmp_entry);   /* readdir order varies: keep runs reproducible */
    return e;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng(void)   /* xorshift64* */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static size_t rnd(size_t n) { return n ? (size_t)(rng() % n) : 0; }

static const char *const tokens[] = {
    "gc ", " @", "s ", "%: ", "+", "/", " ms clock, ", " ms cpu, ", "->", " MB, ", " MB goal, ",
    " MB stacks, ", " MB globals, ", " P", " (forced)", ", ", "0", "1", "9", ".", "-", "e9", "NaN",
    "inf", "0x", "4611686018427387904", "4611686018427387905", "99999999999999999999", "4398046511104",
    "1048576", "10000", "\r\n", "\n", "\t", " ", "\xff", "\x7f",
};

#define MAXLEN 2048

static size_t mutate(uint8_t *buf, size_t len, const entry *corpus, size_t ncorpus)
{
    int rounds = 1 + (int)rnd(4);
    for (int r = 0; r < rounds; r++) {
        switch (rnd(7)) {
        case 0:   /* flip a bit */
            if (len)
                buf[rnd(len)] ^= (uint8_t)(1u << rnd(8));
            break;
        case 1:   /* set a byte */
            if (len)
                buf[rnd(len)] = (uint8_t)rnd(256);
            break;
        case 2: { /* insert a token */
            const char *t = tokens[rnd(sizeof tokens / sizeof tokens[0])];
            size_t tl = strlen(t), at = rnd(len + 1);
            if (len + tl > MAXLEN)
                break;
            memmove(buf + at + tl, buf + at, len - at);
            memcpy(buf + at, t, tl);
            len += tl;
            break;
        }
        case 3: { /* insert a random byte */
            if (len + 1 > MAXLEN)
                break;
            size_t at = rnd(len + 1);
            memmove(buf + at + 1, buf + at, len - at);
            buf[at] = (uint8_t)rnd(256);
            len++;
            break;
        }
        case 4: { /* delete a range */
            if (!len)
                break;
            size_t at = rnd(len), n = 1 + rnd(len - at < 16 ? len - at : 16);
            memmove(buf + at, buf + at + n, len - at - n);
            len -= n;
            break;
        }
        case 5: { /* duplicate a range */
            if (!len)
                break;
            size_t at = rnd(len), n = 1 + rnd(len - at < 32 ? len - at : 32);
            if (len + n > MAXLEN)
                break;
            memmove(buf + at + n, buf + at, len - at);
            len += n;
            break;
        }
        default: { /* splice: our head, another entry's tail */
            const entry *o = &corpus[rnd(ncorpus)];
            size_t at = rnd(len + 1), from = rnd(o->len + 1);
            size_t n = o->len - from;
            if (at + n > MAXLEN)
                n = MAXLEN - at;
            memcpy(buf + at, o->data + from, n);
            len = at + n;
            break;
        }
        }
    }
    return len;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
    const char *dir = argc > 2 ? argv[2] : FUZZ_CORPUS_DIR;
    if (n < 0) {
        fprintf(stderr, "usage: fuzz_gctrace [N [CORPUS_DIR]]\n");
        return 2;
    }
    size_t ncorpus;
    entry *corpus = load_corpus(dir, &ncorpus);
    if (ncorpus == 0) {
        fprintf(stderr, "fuzz_gctrace: empty corpus %s\n", dir);
        return 1;
    }

    /* (a) replay, checking what each file's name promises */
    for (size_t i = 0; i < ncorpus; i++) {
        LLVMFuzzerTestOneInput(corpus[i].data, corpus[i].len);
        int want = strncmp(corpus[i].name, "ok-", 3) == 0 ? 1 : strncmp(corpus[i].name, "no-", 3) == 0 ? 0
                 : strncmp(corpus[i].name, "bad-", 4) == 0 ? -1 : 2;
        if (want != 2 && last_rc != want) {
            fprintf(stderr, "fuzz_gctrace: %s: result %d, expected %d\n", corpus[i].name, last_rc, want);
            return 1;
        }
    }
    long replay[3] = {counts[0], counts[1], counts[2]};

    /* (b) seeded mutations */
    uint8_t *buf = malloc(MAXLEN);
    CHECK(buf != NULL);
    for (long i = 0; i < n; i++) {
        const entry *e = &corpus[rnd(ncorpus)];
        size_t len = e->len > MAXLEN ? MAXLEN : e->len;
        memcpy(buf, e->data, len);
        len = mutate(buf, len, corpus, ncorpus);
        LLVMFuzzerTestOneInput(buf, len);
    }
    free(buf);

    printf("fuzz_gctrace: replayed %zu corpus files (%ld ok, %ld not gctrace, %ld malformed); "
           "%ld mutations: %ld ok, %ld not gctrace, %ld malformed\n",
           ncorpus, replay[2], replay[1], replay[0], n, counts[2] - replay[2], counts[1] - replay[1],
           counts[0] - replay[0]);
    /* The mutations must reach every outcome, or they test little. */
    if (n >= 1000 && (counts[2] == replay[2] || counts[1] == replay[1] || counts[0] == replay[0])) {
        fprintf(stderr, "fuzz_gctrace: some outcome never occurred among the mutations\n");
        return 1;
    }
    for (size_t i = 0; i < ncorpus; i++) {
        free(corpus[i].name);
        free(corpus[i].data);
    }
    free(corpus);
    return 0;
}

#endif /* GCTUNE_LIBFUZZER */
