/* reports/import.c - `gctune import gctrace [-o out.sqlite] [--backend NAME]
 * [--lenient] FILE|-`: Go's GODEBUG=gctrace=1 lines (and libgc's, same format) into the
 * gc_cycles table of a new run database.  Parsing is reports/gctrace.h;
 * other lines are ignored, a malformed gctrace line fails the import and
 * no database is left behind (with --lenient it is skipped with a warning:
 * a program writing to stderr while the runtime prints a trace line can
 * split that line in two). */
#include "reports/cli.h"
#include "reports/gctrace.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void remove_db(const char *path)
{
    size_t n = strlen(path) + 8;
    char *p = cli_xmalloc(n);
    unlink(path);
    snprintf(p, n, "%s-wal", path);
    unlink(p);
    snprintf(p, n, "%s-shm", path);
    unlink(p);
    snprintf(p, n, "%s-journal", path);
    unlink(p);
    free(p);
}

int cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' },
        { "backend", required_argument, NULL, 'b' },
        { "lenient", no_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *out = NULL, *backend = "go";
    int lenient = 0;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'b': backend = optarg; break;
        case 'l': lenient = 1; break;
        case 'h': return cli_help("import");
        default: return cli_bad_option("import", c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage("import", "missing the input format (gctrace)");
    if (strcmp(argv[optind], "gctrace"))
        return cli_usage("import", "unknown input format '%s' (gctrace)", argv[optind]);
    if (optind + 1 >= argc)
        return cli_usage("import", "missing the gctrace file ('-' for standard input)");
    if (optind + 2 < argc)
        return cli_usage("import", "unexpected argument '%s'", argv[optind + 2]);
    const char *in = argv[optind + 1];
    int from_stdin = strcmp(in, "-") == 0;
    const char *in_name = from_stdin ? "<stdin>" : in;

    char *out_buf = NULL;
    if (!out || !*out) {
        if (from_stdin) {
            out = "gctrace.sqlite";
        } else {
            size_t n = strlen(in) + 8;
            out_buf = cli_xmalloc(n);
            snprintf(out_buf, n, "%s.sqlite", in);
            out = out_buf;
        }
    }
    if (!from_stdin && cli_same_file(in, out)) {
        free(out_buf);
        return cli_usage("import", "the output '%s' is the input file", out);
    }

    FILE *f = from_stdin ? stdin : fopen(in, "r");
    if (!f) {
        cli_error(in, "%s", errno == ENOENT ? "no such file" : strerror(errno));
        free(out_buf);
        return CLI_FAIL;
    }

    int rc = CLI_FAIL;
    char err[512];
    err[0] = 0;
    gcts_db *db = gcts_create(out, err, sizeof err);
    if (!db) {
        if (strncmp(err, out, strlen(out)) == 0)
            cli_error(NULL, "%s", err);
        else
            cli_error(out, "%s", err[0] ? err : "cannot create");
        goto close_in;
    }
    if (gcts_begin(db) < 0) {
        cli_db_error(db);
        goto fail;
    }

    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    int64_t cycles = 0, last_ns = 0, skipped = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        gcts_gc_cycle cyc;
        gcts_gc_cycle_init(&cyc);
        err[0] = 0;
        int r = gctrace_parse_line(line, &cyc, err, sizeof err);
        if (r == 0)
            continue;
        if (r < 0 && lenient) {
            cli_error(NULL, "%s:%ld: warning: skipped a malformed gctrace line: %s", in_name,
                      lineno, err[0] ? err : "cannot parse");
            skipped++;
            continue;
        }
        if (r < 0) {
            cli_error(NULL, "%s:%ld: malformed gctrace line: %s (--lenient skips such lines)",
                      in_name, lineno, err[0] ? err : "cannot parse");
            free(line);
            goto fail;
        }
        if (gcts_add_gc_cycle(db, &cyc) < 0) {
            free(line);
            cli_db_error(db);
            goto fail;
        }
        cycles++;
        if (cyc.end_ns != GCTS_NULL && cyc.end_ns > last_ns)
            last_ns = cyc.end_ns;
        if (cyc.start_ns != GCTS_NULL && cyc.start_ns > last_ns)
            last_ns = cyc.start_ns;
    }
    free(line);
    if (ferror(f)) {
        cli_error(in_name, "read error: %s", strerror(errno));
        goto fail;
    }
    if (cycles == 0) {
        cli_error(in_name, "no gctrace lines (run the Go program with GODEBUG=gctrace=1)");
        goto fail;
    }
    if (gcts_set_meta_int(db, "schema_version", GCTS_SCHEMA_VERSION) < 0 ||
        gcts_set_meta(db, "gctune_version", PACKAGE_VERSION) < 0 ||
        gcts_set_meta(db, "source", "gctrace") < 0 ||
        gcts_set_meta(db, "backend", backend) < 0 ||
        gcts_set_meta(db, "gctrace_file", in_name) < 0 ||
        gcts_set_meta_int(db, "samples", 0) < 0 ||
        gcts_set_meta_int(db, "dropped_samples", 0) < 0 ||
        gcts_set_meta_int(db, "duration_ns", last_ns) < 0 ||
        gcts_set_meta_int(db, "gctrace_skipped_lines", skipped) < 0 ||
        gcts_commit(db) < 0) {
        cli_db_error(db);
        goto fail;
    }
    gcts_close(db);
    db = NULL;
    rc = CLI_OK;
    goto close_in;

fail:
    gcts_close(db);
    remove_db(out);
close_in:
    if (!from_stdin)
        fclose(f);
    free(out_buf);
    return rc;
}
