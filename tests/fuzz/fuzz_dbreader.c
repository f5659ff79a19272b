/* tests/fuzz/fuzz_dbreader.c - fuzzes the run database reader of the
 * gctune command: seeded random mutations of fixture databases (bytes in
 * the 100-byte header, in page 1 with the schema, in later pages, whole
 * pages replaced, truncation) are written to a temporary file and run
 * through gctune_main (analyze, analyze --json, analyze --by function,
 * export pprof/folded/csv, diff) in a forked child, compiled with ASan + UBSan.
 *
 * Every run must end with exit status 0 or 1 (never a signal, never a hang
 * past 20 s); with status 1 stderr is exactly one line "gctune: ...", with
 * status 0 at most one "gctune: ..." warning line.  A failing input is kept
 * as fuzz-fail-<iteration>.sqlite in the current directory.
 *
 *   usage: fuzz_dbreader [-n ITERATIONS] [-s SEED] [-r] DB...
 *
 * -r replays: every command once on each DB as it is (no mutation), e.g. on
 * a kept fuzz-fail-N.sqlite.
 *
 * make check runs 300 iterations on the fixtures of tests/cli/mkfixture
 * (tests/cli/test_fuzz_dbreader.sh); pass -n for a longer run.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reports/cli.h"

#define NCMDS 7   /* the commands of main's cmds[] */

static uint64_t rng;

static uint64_t next(void)
{
    /* xorshift64* */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

static size_t below(size_t n)
{
    return n ? (size_t)(next() % n) : 0;
}

typedef struct blob {
    unsigned char *data;
    size_t len;
    const char *path;
} blob;

static int read_file(const char *path, blob *b)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n <= 0) {
        fclose(f);
        return -1;
    }
    b->data = malloc((size_t)n);
    b->len = fread(b->data, 1, (size_t)n, f);
    b->path = path;
    fclose(f);
    return b->len == (size_t)n ? 0 : -1;
}

/* Mutates buf (len bytes, capacity len) in place; returns the new length. */
static size_t mutate(unsigned char *buf, size_t len, char *what, size_t wlen)
{
    size_t page = 4096;
    if (len >= 18) {
        size_t ps = ((size_t)buf[16] << 8) | buf[17];
        if (ps == 1)
            ps = 65536;
        if (ps >= 512 && ps <= 65536 && (ps & (ps - 1)) == 0)
            page = ps;
    }
    int kind = (int)below(6);
    int n = 1 + (int)below(8);
    switch (kind) {
    case 0: /* header bytes */
        for (int i = 0; i < n; i++)
            buf[below(len < 100 ? len : 100)] = (unsigned char)next();
        snprintf(what, wlen, "%d header bytes", n);
        break;
    case 1: /* page 1: sqlite_schema, the CREATE TABLE texts */
        for (int i = 0; i < n; i++) {
            size_t lo = 100, hi = len < page ? len : page;
            if (hi > lo)
                buf[lo + below(hi - lo)] = (unsigned char)next();
        }
        snprintf(what, wlen, "%d bytes of page 1", n);
        break;
    case 2: /* bytes past page 1 */
        for (int i = 0; i < n * 4; i++) {
            if (len > page)
                buf[page + below(len - page)] = (unsigned char)next();
        }
        snprintf(what, wlen, "%d bytes past page 1", n * 4);
        break;
    case 3: { /* one whole page of random bytes */
        size_t pages = len / page;
        size_t p = below(pages ? pages : 1);
        for (size_t i = p * page; i < (p + 1) * page && i < len; i++)
            buf[i] = (unsigned char)next();
        snprintf(what, wlen, "page %zu replaced", p + 1);
        break;
    }
    case 4: /* truncated */
        len = below(len);
        snprintf(what, wlen, "truncated to %zu bytes", len);
        break;
    default: /* bit flips anywhere */
        for (int i = 0; i < n; i++)
            buf[below(len)] ^= (unsigned char)(1u << below(8));
        snprintf(what, wlen, "%d bit flips", n);
        break;
    }
    return len;
}

static void remove_db(const char *path)
{
    char p[4200];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-journal", path);
    unlink(p);
}

/* Runs gctune with args in a child; returns 0 if it behaved. */
static int run_one(char **args, int nargs, const char *errpath, char *why, size_t wlen,
                   int *exit_code)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, wlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        int e = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (devnull < 0 || e < 0)
            _exit(99);
        dup2(devnull, 1);
        dup2(e, 2);
        alarm(20);
        int rc = gctune_main(nargs, args);
        fflush(stdout);
        fflush(stderr);
        _exit(rc);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            snprintf(why, wlen, "waitpid: %s", strerror(errno));
            return -1;
        }
    }
    if (WIFSIGNALED(st)) {
        snprintf(why, wlen, "killed by signal %d%s", WTERMSIG(st),
                 WTERMSIG(st) == SIGALRM ? " (hang)" : "");
        return -1;
    }
    int code = WEXITSTATUS(st);
    *exit_code = code;
    if (code != 0 && code != 1) {
        snprintf(why, wlen, "exit status %d", code);
        return -1;
    }
    FILE *f = fopen(errpath, "r");
    int lines = 0, bad = 0;
    char line[4096];
    while (f && fgets(line, sizeof line, f)) {
        lines++;
        if (strncmp(line, "gctune: ", 8) != 0)
            bad = 1;
    }
    if (f)
        fclose(f);
    if (bad || lines > 1 || (code == 1 && lines != 1)) {
        snprintf(why, wlen, "exit %d with %d stderr lines%s", code, lines,
                 bad ? " (not 'gctune: ...')" : "");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long iterations = 300;
    uint64_t seed = 0x6763747a66757a7aULL;
    int c, replay = 0;
    while ((c = getopt(argc, argv, "n:s:r")) != -1) {
        switch (c) {
        case 'r': replay = 1; break;
        case 'n': iterations = strtol(optarg, NULL, 10); break;
        case 's': seed = strtoull(optarg, NULL, 0); break;
        default:
            fprintf(stderr, "usage: fuzz_dbreader [-n ITERATIONS] [-s SEED] [-r] DB...\n");
            return 2;
        }
    }
    if (replay)
        iterations = (long)(argc - optind) * NCMDS;
    if (optind >= argc) {
        fprintf(stderr, "usage: fuzz_dbreader [-n ITERATIONS] [-s SEED] [-r] DB...\n");
        return 2;
    }
    int nblobs = argc - optind;
    blob *blobs = calloc((size_t)nblobs, sizeof *blobs);
    for (int i = 0; i < nblobs; i++) {
        if (read_file(argv[optind + i], &blobs[i]) < 0) {
            fprintf(stderr, "fuzz_dbreader: %s: cannot read\n", argv[optind + i]);
            return 2;
        }
    }
    rng = seed ? seed : 1;

    char dir[] = "/tmp/gctune-fuzzdb.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    char db[4096], other[4096], errpath[4096], out[4096];
    snprintf(db, sizeof db, "%s/fuzz.sqlite", dir);
    snprintf(errpath, sizeof errpath, "%s/stderr", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(other, sizeof other, "%s", blobs[0].path);

    int failures = 0;
    size_t maxlen = 0;
    for (int i = 0; i < nblobs; i++)
        if (blobs[i].len > maxlen)
            maxlen = blobs[i].len;
    unsigned char *buf = malloc(maxlen);
    long counts[2] = { 0, 0 };
    for (long it = 0; it < iterations; it++) {
        blob *b = &blobs[it % nblobs];
        memcpy(buf, b->data, b->len);
        char what[128] = "replayed as it is";
        size_t len = replay ? b->len : mutate(buf, b->len, what, sizeof what);
        if (!replay && next() % 3 == 0) {   /* sometimes two mutations */
            char w2[128];
            len = mutate(buf, len, w2, sizeof w2);
            strncat(what, ", ", sizeof what - strlen(what) - 1);
            strncat(what, w2, sizeof what - strlen(what) - 1);
        }
        remove_db(db);
        FILE *f = fopen(db, "wb");
        if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
            perror(db);
            return 2;
        }
        char *cmds[][9] = {
            { "gctune", "analyze", "--json", "--top", "0", db, NULL },
            { "gctune", "analyze", "--stacks", db, NULL },
            { "gctune", "analyze", "--by", "function", "--json", db, NULL },
            { "gctune", "export", "--format", "pprof", "-o", out, db, NULL },
            { "gctune", "export", "--format", "folded", db, NULL },
            { "gctune", "export", "--format", "csv", "-o", out, db, NULL },
            { "gctune", "diff", "--json", other, db, NULL },
        };
        int which = (int)(it / nblobs % NCMDS);
        char **args = cmds[which];
        int nargs = 0;
        while (args[nargs])
            nargs++;
        char why[256];
        int code = -1;
        if (run_one(args, nargs, errpath, why, sizeof why, &code) < 0) {
            char keep[64];
            snprintf(keep, sizeof keep, "fuzz-fail-%ld.sqlite", it);
            FILE *k = fopen(keep, "wb");
            if (k) {
                fwrite(buf, 1, len, k);
                fclose(k);
            }
            printf("FAIL iteration %ld (%s, %s; gctune %s ...): %s; input kept as %s\n", it,
                   b->path, what, args[1], why, keep);
            FILE *e = fopen(errpath, "r");
            char line[512];
            while (e && fgets(line, sizeof line, e))
                printf("    stderr: %s", line);
            if (e)
                fclose(e);
            failures++;
        } else {
            counts[code]++;   /* how the run ended, for the log */
        }
    }
    remove_db(db);
    unlink(errpath);
    unlink(out);
    rmdir(dir);
    printf("fuzz_dbreader: %ld iterations (seed 0x%llx): %ld exit 0, %ld exit 1 with one error "
           "line, %d failures\n", iterations, (unsigned long long)seed, counts[0], counts[1], failures);
    free(buf);
    for (int i = 0; i < nblobs; i++)
        free(blobs[i].data);
    free(blobs);
    return failures ? 1 : 0;
}
