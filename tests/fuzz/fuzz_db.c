/* tests/fuzz/fuzz_db.c - libFuzzer target for the gctune command's run
 * database reader: the input bytes are written to a temporary file, which
 * `gctune analyze --json --top 0 FILE`, `gctune analyze --stacks --by
 * function FILE` and `gctune recommend --json FILE` (the GC model's
 * reader) read in-process (gctune_main).
 *
 * The contract checked (as tests/fuzz/fuzz_dbreader.c does for its
 * mutations): exit status 0 or 1; with 1, exactly one stderr line, and it
 * starts "gctune: "; with 0, at most one such line (the empty-run
 * warning).  Anything else, and any sanitizer report, aborts.  stdout goes
 * to /dev/null; stderr is captured per call (the FILE *stderr of stdio is
 * swapped, fd 2 is left to the sanitizers and libFuzzer).
 *
 * The temporary file is "$TMPDIR/gctune-fuzzdb-<pid>.sqlite" (each
 * libFuzzer worker has its own), removed with its -wal/-shm/-journal
 * after every input and at exit.
 *
 * Built with gcc + ASan + UBSan and tests/fuzz/replay_main.c (make check
 * replays tests/fuzz/corpus/db) and with clang -fsanitize=fuzzer (make
 * stress-fuzz).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reports/cli.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char db_path[4096];

static void remove_db(void)
{
    static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
    char p[4200];
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        snprintf(p, sizeof p, "%s%s", db_path, suffix[i]);
        unlink(p);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(db_path, sizeof db_path, "%s/gctune-fuzzdb-%ld.sqlite", tmp && *tmp ? tmp : "/tmp",
             (long)getpid());
    atexit(remove_db);
    FILE *null = fopen("/dev/null", "w");
    if (!null) {
        perror("fuzz_db: /dev/null");
        abort();
    }
    stdout = null;
    return 0;
}

static void fail(const char *what, const char *cmd, int rc, const char *err)
{
    fprintf(stderr, "fuzz_db: gctune %s: %s (exit %d), stderr:\n%s", cmd, what, rc,
            err ? err : "");
    abort();
}

static void run(char **argv, int argc, const char *label)
{
    char *err = NULL;
    size_t errlen = 0;
    FILE *saved = stderr;
    FILE *mem = open_memstream(&err, &errlen);
    if (!mem)
        abort();
    stderr = mem;
    int rc = gctune_main(argc, argv);
    stderr = saved;
    fclose(mem);
    int lines = 0, bad = 0;
    for (char *p = err; p && *p;) {
        char *nl = strchr(p, '\n');
        if (strncmp(p, "gctune: ", 8) != 0)
            bad = 1;
        lines++;
        if (!nl) {
            bad = 1;   /* not newline-terminated */
            break;
        }
        p = nl + 1;
    }
    if (rc != 0 && rc != 1)
        fail("exit status not 0 or 1", label, rc, err);
    if (bad)
        fail("a stderr line not 'gctune: ...'", label, rc, err);
    if (rc == 1 && lines != 1)
        fail("exit 1 without exactly one error line", label, rc, err);
    if (rc == 0 && lines > 1)
        fail("more than one warning line", label, rc, err);
    free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db_path[0])
        LLVMFuzzerInitialize(NULL, NULL);
    remove_db();
    int fd = open(db_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        perror(db_path);
        abort();
    }
    for (size_t off = 0; off < size;) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) {
            perror(db_path);
            abort();
        }
        off += (size_t)w;
    }
    close(fd);
    char *a1[] = { "gctune", "analyze", "--json", "--top", "0", db_path, NULL };
    char *a2[] = { "gctune", "analyze", "--stacks", "--by", "function", db_path, NULL };
    char *a3[] = { "gctune", "recommend", "--json", db_path, NULL };
    run(a1, 6, "analyze --json --top 0");
    run(a2, 6, "analyze --stacks --by function");
    run(a3, 4, "recommend --json");
    remove_db();
    return 0;
}
