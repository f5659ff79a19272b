/* reports/record.c - `gctune record`: runs a program with the profiler on
 * and leaves a run database.
 *
 * Owns: choosing the backend (--backend, else from the program's ELF file:
 * DT_NEEDED libgctune.so -> libgc, a Go build id / .go.buildinfo section
 * -> go, DT_NEEDED libgc.so* (Boehm GC) -> bdwgc, anything else -> malloc;
 * malloc and bdwgc through LD_PRELOAD of libgctune-preload.so, told which
 * with GCTUNE_PRELOAD_BACKEND), the child's environment (GCTUNE_PROFILE,
 * GCTUNE_SAMPLE_RATE, GCTUNE_TUNER, LD_PRELOAD, GCTUNE_PRELOAD_BACKEND,
 * GODEBUG), the go backend's
 * live import of gctrace lines from the child's stderr, and the exit
 * status (the child's; 128+N when killed by signal N, as a shell).
 *
 * Invariants: stdin and stdout are the child's unchanged; stderr too,
 * except for the go backend, where it goes through a pipe and is copied
 * byte for byte (lines) to ours.  The database of the libgc, malloc and
 * bdwgc backends is written by the child itself; record only reads it for
 * the summary.  Usage errors (unknown option or backend) exit 2 before
 * anything runs.
 */
#define _GNU_SOURCE
#include "reports/cli.h"
#include "reports/gctrace.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { B_AUTO, B_LIBGC, B_MALLOC, B_BDWGC, B_GO };
static const char *const backend_names[] = { "auto", "libgc", "malloc", "bdwgc", "go" };

static pid_t child_pid;

static void forward_signal(int sig)
{
    if (child_pid > 0)
        kill(child_pid, sig);
}

/* ---- the program's file ---- */

/* Finds name in PATH (names with a '/' are taken as they are). */
static int find_program(const char *name, char *out, size_t len)
{
    if (strchr(name, '/')) {
        snprintf(out, len, "%s", name);
        return access(out, X_OK) == 0 ? 0 : -1;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        int w = snprintf(out, len, "%.*s%s%s", (int)n, n ? path : ".", "/", name);
        struct stat st;
        if (w > 0 && (size_t)w < len && access(out, X_OK) == 0 && stat(out, &st) == 0 &&
            S_ISREG(st.st_mode))
            return 0;
        path += n + (colon ? 1 : 0);
    }
    return -1;
}

static int read_at(int fd, void *buf, size_t n, uint64_t off)
{
    return pread(fd, buf, n, (off_t)off) == (ssize_t)n ? 0 : -1;
}

/* Classifies an ELF64 file: B_GO, B_LIBGC, B_BDWGC (DT_NEEDED libgc.so*,
 * Boehm's; libgctune.so wins over it), B_MALLOC (any other ELF), or B_AUTO
 * (not an ELF64 file). */
static int classify_elf(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return B_AUTO;
    int kind = B_AUTO;
    Elf64_Ehdr eh;
    if (read_at(fd, &eh, sizeof eh, 0) != 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) ||
        eh.e_shnum == 0 || eh.e_shnum > 4096)
        goto out;
    kind = B_MALLOC;
    Elf64_Shdr *sh = calloc(eh.e_shnum, sizeof *sh);
    if (!sh || read_at(fd, sh, eh.e_shnum * sizeof *sh, eh.e_shoff) != 0 ||
        eh.e_shstrndx >= eh.e_shnum) {
        free(sh);
        goto out;
    }
    Elf64_Shdr *strs = &sh[eh.e_shstrndx];
    char *names = strs->sh_size < (1u << 24) ? malloc(strs->sh_size + 1) : NULL;
    if (names && read_at(fd, names, strs->sh_size, strs->sh_offset) == 0) {
        names[strs->sh_size] = 0;
        for (unsigned i = 0; i < eh.e_shnum && kind == B_MALLOC; i++) {
            if (sh[i].sh_name >= strs->sh_size)
                continue;
            const char *nm = names + sh[i].sh_name;
            if (!strcmp(nm, ".note.go.buildid") || !strcmp(nm, ".go.buildinfo"))
                kind = B_GO;
        }
    }
    free(names);
    /* DT_NEEDED entries: .dynamic with its string table (sh_link) */
    for (unsigned i = 0; i < eh.e_shnum && (kind == B_MALLOC || kind == B_BDWGC); i++) {
        if (sh[i].sh_type != SHT_DYNAMIC || sh[i].sh_link >= eh.e_shnum)
            continue;
        Elf64_Shdr *ds = &sh[sh[i].sh_link];
        size_t nd = sh[i].sh_size / sizeof(Elf64_Dyn);
        if (nd > 65536 || ds->sh_size > (1u << 24))
            continue;
        Elf64_Dyn *dyn = calloc(nd ? nd : 1, sizeof *dyn);
        char *dstr = malloc(ds->sh_size + 1);
        if (dyn && dstr && read_at(fd, dyn, nd * sizeof *dyn, sh[i].sh_offset) == 0 &&
            read_at(fd, dstr, ds->sh_size, ds->sh_offset) == 0) {
            dstr[ds->sh_size] = 0;
            for (size_t j = 0; j < nd && dyn[j].d_tag != DT_NULL && kind != B_LIBGC; j++) {
                if (dyn[j].d_tag != DT_NEEDED || dyn[j].d_un.d_val >= ds->sh_size)
                    continue;
                const char *need = dstr + dyn[j].d_un.d_val;
                if (!strncmp(need, "libgctune.so", 12))
                    kind = B_LIBGC;
                else if (!strncmp(need, "libgc.so", 8))
                    kind = B_BDWGC;
            }
        }
        free(dyn);
        free(dstr);
    }
    free(sh);
out:
    close(fd);
    return kind;
}

/* The backend for a program file; a libtool wrapper script (build trees)
 * is judged by the binary it runs, .libs/NAME next to it. */
static int detect_backend(const char *path)
{
    int kind = classify_elf(path);
    if (kind != B_AUTO)
        return kind;
    char alt[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int w = slash ? snprintf(alt, sizeof alt, "%.*s/.libs/%s", (int)(slash - path), path, slash + 1)
                  : snprintf(alt, sizeof alt, ".libs/%s", path);
    if (w > 0 && (size_t)w < sizeof alt && (kind = classify_elf(alt)) != B_AUTO)
        return kind;
    return B_MALLOC;   /* scripts: the interpreter is a malloc program */
}

/* libgctune-preload.so: $GCTUNE_PRELOAD, else next to this program (build
 * tree: .libs/; installed: ../lib). */
static int find_preload(char *out, size_t len)
{
    const char *e = getenv("GCTUNE_PRELOAD");
    if (e && *e) {
        snprintf(out, len, "%s", e);
        return access(out, R_OK) == 0 ? 0 : -1;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (!slash)
        return -1;
    *slash = 0;
    static const char *const rel[] = {
        ".libs", "../.libs", "../lib", "../lib64", "../lib/x86_64-linux-gnu",
    };
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        int w = snprintf(out, len, "%s/%s/libgctune-preload.so", self, rel[i]);
        if (w > 0 && (size_t)w < len && access(out, R_OK) == 0) {
            char real[PATH_MAX];
            if (realpath(out, real))
                snprintf(out, len, "%s", real);
            return 0;
        }
    }
    return -1;
}

/* Same syntax as the profiler's GCTUNE_SAMPLE_RATE. */
static int valid_rate(const char *s)
{
    const char *p = s;
    while (*p >= '0' && *p <= '9')
        p++;
    if (p == s)
        return 0;
    return !*p || !strcmp(p, "K") || !strcmp(p, "KiB") || !strcmp(p, "M") ||
           !strcmp(p, "MiB") || !strcmp(p, "G") || !strcmp(p, "GiB");
}

static void prepend_env(const char *name, const char *value, char sep)
{
    const char *old = getenv(name);
    if (!old || !*old) {
        setenv(name, value, 1);
        return;
    }
    size_t n = strlen(value) + strlen(old) + 2;
    char *v = malloc(n);
    if (!v)
        return;
    snprintf(v, n, "%s%c%s", value, sep, old);
    setenv(name, v, 1);
    free(v);
}

/* ---- the go backend: gctrace lines from the child's stderr ---- */

static int64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Copies the pipe to stderr, importing gctrace lines into db (committed
 * after each cycle, so a reader sees them live).  Returns the number of
 * cycles, -1 on a database error (the copying goes on). */
static int64_t pump_gctrace(int fd, gcts_db *db)
{
    FILE *f = fdopen(fd, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int64_t cycles = 0;
    int dberr = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        write_all(2, line, (size_t)len);
        if (dberr)
            continue;
        gcts_gc_cycle cyc;
        gcts_gc_cycle_init(&cyc);
        char err[256];
        if (gctrace_parse_line(line, &cyc, err, sizeof err) != 1)
            continue;
        if (gcts_add_gc_cycle(db, &cyc) < 0 || gcts_commit(db) < 0 || gcts_begin(db) < 0) {
            cli_db_error(db);
            dberr = 1;
            continue;
        }
        cycles++;
    }
    free(line);
    fclose(f);
    return dberr ? -1 : cycles;
}

static int go_meta(gcts_db *db, char **argv, const char *prog, int64_t start_ns)
{
    char json[8192];
    size_t n = 0;
    json[n++] = '[';
    for (int i = 0; argv[i] && n + 16 < sizeof json; i++) {
        if (i)
            json[n++] = ',';
        json[n++] = '"';
        for (const char *p = argv[i]; *p && n + 10 < sizeof json; p++) {
            unsigned char c = (unsigned char)*p;
            if (c == '"' || c == '\\')
                json[n++] = '\\', json[n++] = (char)c;
            else if (c < 0x20)
                n += (size_t)snprintf(json + n, sizeof json - n, "\\u%04x", c);
            else
                json[n++] = (char)c;
        }
        json[n++] = '"';
    }
    json[n++] = ']';
    json[n] = 0;
    int rc = 0;
    rc |= gcts_set_meta_int(db, "schema_version", GCTS_SCHEMA_VERSION);
    rc |= gcts_set_meta(db, "gctune_version", PACKAGE_VERSION);
    rc |= gcts_set_meta(db, "source", "record");
    rc |= gcts_set_meta(db, "backend", "go");
    rc |= gcts_set_meta(db, "capabilities", "gc_events");
    rc |= gcts_set_meta(db, "program", prog);
    rc |= gcts_set_meta(db, "argv", json);
    rc |= gcts_set_meta_int(db, "start_time_ns", start_ns);
    rc |= gcts_set_meta_int(db, "samples", 0);
    rc |= gcts_set_meta_int(db, "dropped_samples", 0);
    rc |= gcts_set_meta(db, "clean_exit", "0");
    const char *e = getenv("GOGC");
    if (e)
        rc |= gcts_set_meta(db, "gogc", e);
    e = getenv("GOMEMLIMIT");
    if (e)
        rc |= gcts_set_meta(db, "gomemlimit", e);
    return rc ? -1 : 0;
}

/* ---- the command ---- */

static int exit_status(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return CLI_FAIL;
}

static void summary(const char *pattern, int backend, pid_t pid)
{
    /* %p (the profiler expands it) is the child's pid: exec keeps it */
    char path[PATH_MAX];
    size_t n = 0;
    for (const char *p = pattern; *p && n + 1 < sizeof path; p++) {
        if (p[0] == '%' && p[1] == 'p' && pid > 0) {
            int w = snprintf(path + n, sizeof path - n, "%ld", (long)pid);
            n = w > 0 && (size_t)w < sizeof path - n ? n + (size_t)w : sizeof path - 1;
            p++;
        } else {
            path[n++] = *p;
        }
    }
    path[n] = 0;
    if (access(path, F_OK) != 0) {
        fprintf(stderr, "gctune record: no database written (%s)\n", path);
        return;
    }
    char err[512];
    gcts_db *db = gcts_open_read(path, err, sizeof err);
    if (!db) {
        fprintf(stderr, "gctune record: %s: %s\n", path, err);
        return;
    }
    int64_t samples = 0, dropped = 0, cycles = 0;
    gcts_get_meta_int(db, "samples", &samples);
    gcts_get_meta_int(db, "dropped_samples", &dropped);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(gcts_sqlite(db), "SELECT count(*) FROM gc_cycles", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            cycles = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    gcts_close(db);
    fprintf(stderr, "gctune record: backend %s: %lld samples, %lld dropped, %lld GC cycles: %s\n",
            backend_names[backend], (long long)samples, (long long)dropped, (long long)cycles, path);
}

int cmd_record(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' },
        { "backend", required_argument, NULL, 'b' },
        { "rate", required_argument, NULL, 'r' },
        { "tuner", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *out = NULL, *rate = NULL, *tuner = NULL;
    int backend = B_AUTO, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'r':
            if (!valid_rate(optarg))
                return cli_usage("record", "--rate %s: not a byte count (e.g. 4096, 512K, 1M)", optarg);
            rate = optarg;
            break;
        case 't': tuner = optarg; break;
        case 'b':
            backend = -1;
            for (int i = B_LIBGC; i <= B_GO; i++)
                if (!strcmp(optarg, backend_names[i]))
                    backend = i;
            if (backend < 0)
                return cli_usage("record", "unknown backend '%s' (libgc, malloc, bdwgc or go)", optarg);
            break;
        case 'h': return cli_help("record");
        default: return cli_bad_option("record", c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage("record", "missing program");
    char **prog_argv = argv + optind;
    char prog[PATH_MAX];
    if (find_program(prog_argv[0], prog, sizeof prog) != 0) {
        cli_error(prog_argv[0], "command not found or not executable");
        return 127;
    }
    if (backend == B_AUTO)
        backend = detect_backend(prog);

    const char *base = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
    char dbpath[2 * PATH_MAX + 64], cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        snprintf(cwd, sizeof cwd, ".");
    int w;
    if (out)
        w = snprintf(dbpath, sizeof dbpath, "%s%s%s", out[0] == '/' ? "" : cwd,
                     out[0] == '/' ? "" : "/", out);
    else
        w = snprintf(dbpath, sizeof dbpath, "%s/gctune-%s.sqlite", cwd, base);
    if (w < 0 || (size_t)w >= PATH_MAX) {
        cli_error(out, "path too long");
        return CLI_FAIL;
    }

    char preload[PATH_MAX];
    int preloaded = backend == B_MALLOC || backend == B_BDWGC;
    if (preloaded && find_preload(preload, sizeof preload) != 0) {
        cli_error(NULL, "libgctune-preload.so not found next to gctune (set GCTUNE_PRELOAD)");
        return CLI_FAIL;
    }

    gcts_db *db = NULL;
    int64_t start_ns = real_ns();
    if (backend == B_GO) {
        char err[512];
        unlink(dbpath);
        db = gcts_create(dbpath, err, sizeof err);
        if (!db) {
            cli_error(NULL, "%s", err);
            return CLI_FAIL;
        }
        if (gcts_begin(db) < 0 || go_meta(db, prog_argv, prog, start_ns) < 0 || gcts_commit(db) < 0 ||
            gcts_begin(db) < 0) {
            int rc = cli_db_error(db);
            gcts_close(db);
            return rc;
        }
        prepend_env("GODEBUG", "gctrace=1", ',');
    } else {
        /* the libgc, malloc and bdwgc backends: the program's profiler
         * writes it */
        setenv("GCTUNE_PROFILE", dbpath, 1);
        if (rate)
            setenv("GCTUNE_SAMPLE_RATE", rate, 1);
        if (preloaded) {
            prepend_env("LD_PRELOAD", preload, ':');
            setenv("GCTUNE_PRELOAD_BACKEND", backend_names[backend], 1);
        }
    }
    if (tuner)
        setenv("GCTUNE_TUNER", tuner, 1);

    int pfd[2] = { -1, -1 };
    if (backend == B_GO && pipe2(pfd, O_CLOEXEC) != 0) {
        cli_error(NULL, "pipe: %s", strerror(errno));
        gcts_close(db);
        return CLI_FAIL;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        cli_error(NULL, "fork: %s", strerror(errno));
        gcts_close(db);
        return CLI_FAIL;
    }
    if (pid == 0) {
        if (pfd[1] >= 0)
            dup2(pfd[1], 2);
        execv(prog, prog_argv);
        int e = errno;
        fprintf(stderr, "gctune: %s: %s\n", prog, strerror(e));
        _exit(e == ENOENT ? 127 : 126);
    }
    child_pid = pid;
    signal(SIGINT, SIG_IGN);     /* the terminal signals the child too */
    signal(SIGQUIT, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    int64_t cycles = 0;
    if (backend == B_GO) {
        close(pfd[1]);
        cycles = pump_gctrace(pfd[0], db);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    int rc = exit_status(st);
    if (backend == B_GO) {
        if (cycles >= 0 &&
            (gcts_set_meta_int(db, "duration_ns", real_ns() - start_ns) < 0 ||
             gcts_set_meta_int(db, "exit_status", rc) < 0 ||
             gcts_set_meta(db, "clean_exit", WIFEXITED(st) ? "1" : "0") < 0 || gcts_commit(db) < 0))
            cli_db_error(db);
        gcts_close(db);
    }
    summary(dbpath, backend, backend == B_GO ? -1 : pid);   /* go: record wrote the path as given */
    return rc;
}
