/* reports/cli.h - helpers shared by the gctune subcommands: the command
 * table, exit codes, one-line error messages, option parsing helpers,
 * human-readable formatting, output files, an int64 hash map.
 *
 * Conventions of every subcommand (DESIGN.md "gctune command"):
 *   exit 0 success, 1 runtime failure (unreadable or bad database, I/O),
 *   2 usage error (unknown option, missing or extra argument);
 *   every error is one line on stderr: "gctune: <file>: <problem>"
 *   (usage errors: "gctune <cmd>: <problem> (see 'gctune <cmd> --help')").
 */
#ifndef GCTUNE_REPORTS_CLI_H
#define GCTUNE_REPORTS_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store/store.h"

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* One entry of the command table (reports/commands.c).  run gets argv with
 * argv[0] = the command name. */
typedef struct cli_command {
    const char *name;
    const char *summary;    /* one line for `gctune --help` */
    const char *usage;      /* full text of `gctune CMD --help` */
    int (*run)(int argc, char **argv);
} cli_command;

extern const cli_command cli_commands[];   /* terminated by a NULL name */

/* The whole command line interface; main() is a call to this. */
int gctune_main(int argc, char **argv);

/* The subcommands (one file each). */
int cmd_analyze(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* "gctune: <file>: <message>\n" on stderr; file may be NULL. */
void cli_error(const char *file, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "gctune <cmd>: <message> (see 'gctune <cmd> --help')\n"; returns CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* After getopt_long returned ':' or '?' (optstring starting with ':'):
 * prints the usage error; returns CLI_USAGE. */
int cli_bad_option(const char *cmd, int c, char **argv);
/* Prints the command's --help text to stdout; returns CLI_OK. */
int cli_help(const char *cmd);

/* Parses a non-negative decimal integer (the whole string). 0 or -1. */
int cli_parse_u64(const char *s, uint64_t *out);

/* Opens a run database for reading; on failure prints the error line and
 * returns NULL. */
gcts_db *cli_open_db(const char *path);
/* Prints "gctune: <path>: database error: <sqlite message>"; returns CLI_FAIL. */
int cli_db_error(gcts_db *db);

/* 1 when both paths exist and are the same file. */
int cli_same_file(const char *a, const char *b);

/* Output: "-" or NULL is stdout.  cli_close_output reports write errors
 * (returns -1 after printing the error line). */
FILE *cli_open_output(const char *path, int binary);
int cli_close_output(FILE *f, const char *path);

/* Formatting into a caller buffer (returned).  Binary units. */
#define CLI_FMT_LEN 48
char *cli_fmt_bytes(char *buf, int64_t bytes);       /* "12.3 MiB", "512 B" */
char *cli_fmt_count(char *buf, int64_t n);           /* "1.2 M", "950" */
char *cli_fmt_ns(char *buf, int64_t ns);             /* "1.23 ms", "45.0 us", "950 ns" */
char *cli_fmt_pct(char *buf, double fraction);       /* "12.3%" */

/* double -> int64 rounding that never overflows (NaN -> 0). */
int64_t cli_round(double v);
/* a + b, a - b and |a|, saturated at INT64_MIN + 1 .. INT64_MAX (values in a
 * damaged database can be anything). */
int64_t cli_add(int64_t a, int64_t b);
int64_t cli_sub(int64_t a, int64_t b);
int64_t cli_abs(int64_t a);

/* malloc/calloc/realloc/strdup that exit(1) with a message on failure. */
void *cli_xmalloc(size_t n);
void *cli_xcalloc(size_t n, size_t size);
void *cli_xrealloc(void *p, size_t n);
char *cli_xstrdup(const char *s);   /* NULL -> NULL */

/* Open-addressing map int64 key -> size_t value. */
typedef struct cli_map {
    int64_t *keys;
    size_t *vals;
    unsigned char *used;
    size_t cap, len;
} cli_map;
void cli_map_init(cli_map *m);
void cli_map_free(cli_map *m);
/* Returns a pointer to the value of key, or NULL. */
size_t *cli_map_get(const cli_map *m, int64_t key);
/* Inserts (or replaces) key. */
void cli_map_put(cli_map *m, int64_t key, size_t val);

#endif
