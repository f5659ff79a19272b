/* reports/cli.c - helpers shared by the gctune subcommands (see cli.h):
 * error lines, --help, option values, opening databases and output files,
 * number formatting, checked allocation and an int64 hash map. */
#include "reports/cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Writes s on one line: control characters (newlines in SQLite messages
 * that quote a schema) become spaces, runs of spaces one space, and the
 * text is cut at 400 bytes. */
static void put_one_line(const char *s)
{
    size_t n = 0;
    int space = 0;
    for (; *s && n < 400; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || c == ' ') {
            space = 1;
            continue;
        }
        if (space && n > 0) {
            fputc(' ', stderr);
            n++;
        }
        space = 0;
        fputc(c, stderr);
        n++;
    }
    if (*s)
        fputs(" ...", stderr);
}

void cli_error(const char *file, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    fflush(stdout);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fputs("gctune: ", stderr);
    if (file) {
        put_one_line(file);
        fputs(": ", stderr);
    }
    put_one_line(msg);
    fputc('\n', stderr);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    char msg[1024];
    fflush(stdout);
    fprintf(stderr, "gctune%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    put_one_line(msg);
    fprintf(stderr, " (see 'gctune%s%s --help')\n", cmd ? " " : "", cmd ? cmd : "");
    return CLI_USAGE;
}

int cli_bad_option(const char *cmd, int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    int is_long = arg && strncmp(arg, "--", 2) == 0;
    if (c == ':')
        return cli_usage(cmd, "option '%s' needs a value", arg);
    if (is_long || !optopt || optopt >= 256) {
        char name[128];
        snprintf(name, sizeof name, "%s", arg);
        char *eq = strchr(name, '=');
        if (eq && optopt)   /* a value given to an option that takes none */
            return cli_usage(cmd, "option '%.*s' takes no value", (int)(eq - name), name);
        return cli_usage(cmd, "unknown option '%s'", name);
    }
    return cli_usage(cmd, "unknown option '-%c'", optopt);
}

int cli_help(const char *cmd)
{
    for (const cli_command *c = cli_commands; c->name; c++) {
        if (strcmp(c->name, cmd) == 0) {
            fputs(c->usage, stdout);
            return CLI_OK;
        }
    }
    return CLI_OK;
}

int cli_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

gcts_db *cli_open_db(const char *path)
{
    char err[512];
    err[0] = 0;
    gcts_db *db = gcts_open_read(path, err, sizeof err);
    if (!db) {
        fflush(stdout);
        /* The store's message already starts with the path. */
        if (err[0] && strncmp(err, path, strlen(path)) == 0)
            cli_error(NULL, "%s", err);
        else
            cli_error(path, "%s", err[0] ? err : "cannot open");
    }
    return db;
}

int cli_db_error(gcts_db *db)
{
    const char *msg = gcts_errmsg(db);
    sqlite3 *s = gcts_sqlite(db);
    if ((!msg || !*msg) && s)
        msg = sqlite3_errmsg(s);
    cli_error(gcts_path(db), "database error: %s", msg && *msg ? msg : "unknown");
    return CLI_FAIL;
}

int cli_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
        return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

FILE *cli_open_output(const char *path, int binary)
{
    if (!path || strcmp(path, "-") == 0)
        return stdout;
    FILE *f = fopen(path, binary ? "wb" : "w");
    if (!f)
        cli_error(path, "cannot create: %s", strerror(errno));
    return f;
}

int cli_close_output(FILE *f, const char *path)
{
    int bad = ferror(f);
    if (f == stdout) {
        if (fflush(f) != 0)
            bad = 1;
    } else if (fclose(f) != 0) {
        bad = 1;
    }
    if (bad) {
        cli_error(path && strcmp(path, "-") != 0 ? path : "<stdout>",
                  "write error: %s", strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}

char *cli_fmt_bytes(char *buf, int64_t bytes)
{
    static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    double v = (double)bytes;
    double a = fabs(v);
    int u = 0;
    while (a >= 1024.0 && u < 6) {
        a /= 1024.0;
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, CLI_FMT_LEN, "%lld B", (long long)bytes);
    else
        snprintf(buf, CLI_FMT_LEN, "%.1f %s", v, unit[u]);
    return buf;
}

/* A step of a decimal scale: numbers under `below` in magnitude print as
 * v / div with fmt (div 1: v itself, fmt takes a long long). */
typedef struct scale_step {
    double below, div;
    const char *fmt;
} scale_step;

/* Formats v with the first step of steps (the last has below = INFINITY)
 * whose bound its magnitude is under. */
static char *fmt_scaled(char *buf, int64_t v, const scale_step *steps)
{
    double a = fabs((double)v);
    while (a >= steps->below)
        steps++;
    if (steps->div == 1)
        snprintf(buf, CLI_FMT_LEN, steps->fmt, (long long)v);
    else
        snprintf(buf, CLI_FMT_LEN, steps->fmt, (double)v / steps->div);
    return buf;
}

char *cli_fmt_count(char *buf, int64_t n)
{
    static const scale_step steps[] = {
        { 10000, 1, "%lld" }, { 1e6, 1e3, "%.1f k" }, { 1e9, 1e6, "%.1f M" }, { INFINITY, 1e9, "%.1f G" },
    };
    return fmt_scaled(buf, n, steps);
}

char *cli_fmt_ns(char *buf, int64_t ns)
{
    static const scale_step steps[] = {
        { 1e3, 1, "%lld ns" }, { 1e6, 1e3, "%.1f us" }, { 1e9, 1e6, "%.2f ms" }, { INFINITY, 1e9, "%.2f s" },
    };
    return fmt_scaled(buf, ns, steps);
}

char *cli_fmt_pct(char *buf, double fraction)
{
    if (!isfinite(fraction))
        snprintf(buf, CLI_FMT_LEN, "-");
    else
        snprintf(buf, CLI_FMT_LEN, "%.1f%%", fraction * 100.0);
    return buf;
}

int64_t cli_round(double v)
{
    if (!isfinite(v))
        return 0;
    if (v >= 9.2e18)
        return INT64_MAX;
    if (v <= -9.2e18)
        return INT64_MIN + 1;
    return (int64_t)llround(v);
}

static int64_t clamp_min(int64_t v)
{
    return v == INT64_MIN ? INT64_MIN + 1 : v;
}

int64_t cli_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return a > 0 ? INT64_MAX : INT64_MIN + 1;
    return clamp_min(r);
}

int64_t cli_sub(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        return a >= 0 ? INT64_MAX : INT64_MIN + 1;
    return clamp_min(r);
}

int64_t cli_abs(int64_t a)
{
    return a < 0 ? -clamp_min(a) : a;
}

static void oom(void)
{
    cli_error(NULL, "out of memory");
    exit(CLI_FAIL);
}

void *cli_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *cli_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom();
    return p;
}

void *cli_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        oom();
    return p;
}

char *cli_xstrdup(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        oom();
    return d;
}

/* ---- int64 -> size_t map (linear probing, power-of-two capacity) ---- */

static size_t map_hash(int64_t k)
{
    uint64_t x = (uint64_t)k;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return (size_t)x;
}

void cli_map_init(cli_map *m)
{
    memset(m, 0, sizeof *m);
}

void cli_map_free(cli_map *m)
{
    free(m->keys);
    free(m->vals);
    free(m->used);
    memset(m, 0, sizeof *m);
}

size_t *cli_map_get(const cli_map *m, int64_t key)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = map_hash(key) & mask;; i = (i + 1) & mask) {
        if (!m->used[i])
            return NULL;
        if (m->keys[i] == key)
            return &m->vals[i];
    }
}

static void map_grow(cli_map *m)
{
    cli_map n;
    n.cap = m->cap ? m->cap * 2 : 64;
    n.len = 0;
    n.keys = cli_xmalloc(n.cap * sizeof *n.keys);
    n.vals = cli_xmalloc(n.cap * sizeof *n.vals);
    n.used = cli_xcalloc(n.cap, 1);
    for (size_t i = 0; i < m->cap; i++)
        if (m->used[i])
            cli_map_put(&n, m->keys[i], m->vals[i]);
    cli_map_free(m);
    *m = n;
}

void cli_map_put(cli_map *m, int64_t key, size_t val)
{
    if ((m->len + 1) * 2 > m->cap)
        map_grow(m);
    size_t mask = m->cap - 1;
    for (size_t i = map_hash(key) & mask;; i = (i + 1) & mask) {
        if (!m->used[i]) {
            m->used[i] = 1;
            m->keys[i] = key;
            m->vals[i] = val;
            m->len++;
            return;
        }
        if (m->keys[i] == key) {
            m->vals[i] = val;
            return;
        }
    }
}
