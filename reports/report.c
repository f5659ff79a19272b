/* reports/report.c - `gctune report [-o DIR] [--format png|svg] [--top N]
 * run.sqlite`: the charts of a run (reports/report_charts.c) rendered by
 * gnuplot, and DIR/index.html (reports/report_html.c) showing them with the
 * summary tables of gctune analyze.
 *
 * gnuplot runs as a child process (fork/exec) in DIR on each chart's
 * script, its output captured: a failure is exit 1 naming the chart's
 * script and gnuplot's message.  The gnuplot program is GCTUNE_GNUPLOT
 * when set, else `gnuplot` found in PATH.  Without one, the data files,
 * scripts and index.html are still written, one warning line names the
 * Debian package (gnuplot-nox) and the exit status is 0.
 */
#define _GNU_SOURCE     /* memmem */
#include "reports/cli.h"
#include "reports/model.h"
#include "reports/report.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_TOP 10
#define GNUPLOT_PACKAGE "gnuplot-nox"

/* The default output directory: the database path without its .sqlite
 * (or .db) suffix, plus "-report". */
static char *default_dir(const char *db)
{
    size_t n = strlen(db);
    static const char *suffixes[] = { ".sqlite", ".sqlite3", ".db" };
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t k = strlen(suffixes[i]);
        if (n > k && !strcmp(db + n - k, suffixes[i]) && db[n - k - 1] != '/') {
            n -= k;
            break;
        }
    }
    char *d = cli_xmalloc(n + sizeof "-report");
    memcpy(d, db, n);
    strcpy(d + n, "-report");
    return d;
}

/* Creates dir unless it is a directory already.  0, or -1 after the error line. */
static int make_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return 0;
        cli_error(dir, "not a directory");
        return -1;
    }
    if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
        cli_error(dir, "cannot create directory: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* gnuplot: GCTUNE_GNUPLOT, else "gnuplot" in PATH; an absolute path (the
 * child changes directory) into buf, or NULL.  *what names what was
 * looked for, for the warning. */
static char *find_gnuplot(char *buf, size_t len, const char **what)
{
    const char *env = getenv("GCTUNE_GNUPLOT");
    const char *name = env && *env ? env : "gnuplot";
    *what = env && *env ? "GCTUNE_GNUPLOT" : "PATH";
    if (strchr(name, '/')) {
        if (access(name, X_OK) != 0)
            return NULL;
        if (name[0] == '/') {
            snprintf(buf, len, "%s", name);
            return buf;
        }
        char *abs = realpath(name, NULL);
        if (!abs)
            return NULL;
        snprintf(buf, len, "%s", abs);
        free(abs);
        return buf;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        char cand[PATH_MAX];
        if (n == 0)
            snprintf(cand, sizeof cand, "./%s", name);
        else
            snprintf(cand, sizeof cand, "%.*s/%s", (int)n, path, name);
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
            if (cand[0] != '/') {
                char *abs = realpath(cand, NULL);
                if (!abs)
                    return NULL;
                snprintf(buf, len, "%s", abs);
                free(abs);
            } else {
                snprintf(buf, len, "%s", cand);
            }
            return buf;
        }
        path += n + (colon != NULL);
    }
    return NULL;
}

/* The line of gnuplot's output that says what went wrong: the one naming
 * a script line ("heap.gp" line 12: ...), else the last non-empty one. */
static void gnuplot_message(const char *out, char *msg, size_t len)
{
    const char *best = NULL, *last = NULL;
    size_t best_n = 0, last_n = 0;
    for (const char *p = out; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        int blank = 1;
        for (size_t i = 0; i < n; i++)
            if (p[i] != ' ' && p[i] != '\t' && p[i] != '^' && p[i] != '\r')
                blank = 0;
        if (!blank) {
            last = p;
            last_n = n;
            if (!best && memmem(p, n, "\" line ", 7)) {
                best = p;
                best_n = n;
            }
        }
        p += n + (e != NULL);
    }
    if (!best) {
        best = last;
        best_n = last_n;
    }
    if (!best) {
        snprintf(msg, len, "no message");
        return;
    }
    while (best_n > 0 && (*best == ' ' || *best == '\t')) {
        best++;
        best_n--;
    }
    snprintf(msg, len, "%.*s", (int)(best_n < 400 ? best_n : 400), best);
    for (char *q = msg; *q; q++)
        if ((unsigned char)*q < 0x20)
            *q = ' ';
}

/* Runs `gnuplot SCRIPT` in dir.  Returns 0 on success (warnings printed,
 * one line each), else -1 with the reason in err. */
static int run_gnuplot(const char *gnuplot, const char *dir, const char *script,
                       const char *script_path, char *err, size_t errlen)
{
    int pfd[2];
    if (pipe(pfd) < 0) {
        snprintf(err, errlen, "cannot run gnuplot: pipe: %s", strerror(errno));
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot run gnuplot: fork: %s", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) {
            dup2(nul, 0);
            close(nul);
        }
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        close(pfd[0]);
        close(pfd[1]);
        if (chdir(dir) < 0) {
            dprintf(2, "cannot change to directory %s: %s\n", dir, strerror(errno));
            _exit(126);
        }
        execl(gnuplot, "gnuplot", script, (char *)NULL);
        dprintf(2, "cannot execute %s: %s\n", gnuplot, strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    size_t cap = 4096, len = 0;
    char *out = cli_xmalloc(cap);
    for (;;) {
        if (len + 1024 > cap && cap < (1 << 20)) {
            cap *= 2;
            out = cli_xrealloc(out, cap);
        }
        char tmp[1024];
        ssize_t n = read(pfd[0], len + 1024 <= cap ? out + len : tmp, 1023);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (len + 1024 <= cap)
            len += (size_t)n;   /* else: beyond 1 MiB, dropped */
    }
    out[len] = 0;
    close(pfd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int rc = 0;
    char msg[512];
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        /* success: pass gnuplot's warnings on, one line each */
        for (char *p = out; *p;) {
            char *e = strchr(p, '\n');
            if (e)
                *e = 0;
            if (strstr(p, "warning"))
                cli_error(script_path, "gnuplot: %s", p + strspn(p, " \t"));
            p = e ? e + 1 : p + strlen(p);
        }
    } else {
        gnuplot_message(out, msg, sizeof msg);
        if (WIFEXITED(status))
            snprintf(err, errlen, "gnuplot failed (exit status %d): %s", WEXITSTATUS(status), msg);
        else
            snprintf(err, errlen, "gnuplot was killed by signal %d: %s",
                     WIFSIGNALED(status) ? WTERMSIG(status) : 0, msg);
        rc = -1;
    }
    free(out);
    return rc;
}

/* Removes DIR/NAME if it exists (files of an earlier report). */
static void remove_stale(const rp_report *r, const char *name, const char *ext)
{
    char file[64], path[PATH_MAX];
    snprintf(file, sizeof file, "%s.%s", name, ext);
    rp_path(path, r, file);
    if (unlink(path) < 0 && errno != ENOENT)
        cli_error(path, "warning: cannot remove the file of an earlier report: %s",
                  strerror(errno));
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' },
        { "format", required_argument, NULL, 'f' },
        { "top", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *out = NULL, *format = "png";
    uint64_t top = DEFAULT_TOP;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'f':
            if (strcmp(optarg, "png") && strcmp(optarg, "svg"))
                return cli_usage("report", "unknown format '%s' (png or svg)", optarg);
            format = optarg;
            break;
        case 'n':
            if (cli_parse_u64(optarg, &top) < 0 || top > 1000000000)
                return cli_usage("report", "--top: '%s' is not a count", optarg);
            break;
        case 'h': return cli_help("report");
        default: return cli_bad_option("report", c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage("report", "missing the run database");
    if (optind + 1 < argc)
        return cli_usage("report", "unexpected argument '%s'", argv[optind + 1]);
    const char *path = argv[optind];
    if (out && !*out)
        return cli_usage("report", "-o: empty directory name");

    gcts_db *db = cli_open_db(path);
    if (!db)
        return CLI_FAIL;
    rm_run run;
    if (rm_load(db, &run) < 0) {
        rm_free(&run);
        gcts_close(db);
        return CLI_FAIL;
    }
    char *dir = out ? cli_xstrdup(out) : default_dir(path);
    int rc = CLI_OK;
    rp_report r;
    memset(&r, 0, sizeof r);
    r.run = &run;
    r.db = db;
    r.dir = dir;
    r.format = format;
    r.top = (size_t)top;
    if (make_dir(dir) < 0 || rp_write_charts(&r) < 0) {
        rc = CLI_FAIL;
        goto done;
    }
    if (rm_empty(&run))
        cli_error(path, "warning: empty run: no samples, no GC cycles, no heap series");

    /* the files of an earlier report that this one does not write */
    for (int i = 0; i < RP_NCHARTS; i++) {
        const rp_chart *ch = &r.charts[i];
        remove_stale(&r, ch->name, "png");
        remove_stale(&r, ch->name, "svg");
        if (ch->skipped[0]) {
            remove_stale(&r, ch->name, "dat");
            remove_stale(&r, ch->name, "gp");
        }
    }

    char gnuplot[PATH_MAX];
    const char *looked_in;
    int charts = 0;
    for (int i = 0; i < RP_NCHARTS; i++)
        charts += !r.charts[i].skipped[0];
    if (charts > 0 && !find_gnuplot(gnuplot, sizeof gnuplot, &looked_in)) {
        r.no_gnuplot = 1;
        const char *env = getenv("GCTUNE_GNUPLOT");
        if (!strcmp(looked_in, "GCTUNE_GNUPLOT"))
            cli_error(NULL, "warning: gnuplot not found (GCTUNE_GNUPLOT=%s): install the Debian "
                            "package " GNUPLOT_PACKAGE "; wrote the data files and gnuplot scripts "
                            "to %s without images", env, dir);
        else
            cli_error(NULL, "warning: gnuplot not found in PATH: install the Debian package "
                            GNUPLOT_PACKAGE "; wrote the data files and gnuplot scripts to %s "
                            "without images", dir);
    }
    if (charts > 0 && !r.no_gnuplot) {
        for (int i = 0; i < RP_NCHARTS; i++) {
            rp_chart *ch = &r.charts[i];
            if (ch->skipped[0])
                continue;
            char script[64], image[64], spath[PATH_MAX], ipath[PATH_MAX];
            snprintf(script, sizeof script, "%s.gp", ch->name);
            snprintf(image, sizeof image, "%s.%s", ch->name, format);
            rp_path(spath, &r, script);
            rp_path(ipath, &r, image);
            if (run_gnuplot(gnuplot, dir, script, spath, ch->error, sizeof ch->error) < 0) {
                cli_error(spath, "%s", ch->error);
                rc = CLI_FAIL;
                continue;
            }
            struct stat st;
            if (stat(ipath, &st) < 0 || st.st_size == 0) {
                snprintf(ch->error, sizeof ch->error, "gnuplot wrote no image (%s)", image);
                cli_error(spath, "%s", ch->error);
                rc = CLI_FAIL;
                continue;
            }
            ch->rendered = 1;
        }
    }
    if (rp_write_html(&r) < 0) {
        rc = CLI_FAIL;
        goto done;
    }

    char index[PATH_MAX];
    printf("gctune report: %s\n", rp_path(index, &r, "index.html"));
    for (int i = 0; i < RP_NCHARTS; i++) {
        const rp_chart *ch = &r.charts[i];
        char file[64];
        if (ch->skipped[0]) {
            printf("  skipped  %-14s %s\n", ch->name, ch->skipped);
            continue;
        }
        if (ch->rendered)
            snprintf(file, sizeof file, "%s.%s", ch->name, format);
        else
            snprintf(file, sizeof file, "%s.gp", ch->name);
        printf("  %-8s %-14s %s%s\n", ch->rendered ? "chart" : "script", file, ch->title,
               ch->rendered ? "" : ch->error[0] ? " (gnuplot failed)" : " (not rendered: no gnuplot)");
    }
    if (cli_close_output(stdout, "-") < 0)
        rc = CLI_FAIL;
done:
    free(dir);
    rm_free(&run);
    gcts_close(db);
    return rc;
}
