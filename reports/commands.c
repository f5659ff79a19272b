/* reports/commands.c - the command table of `gctune` and its dispatcher
 * (gctune_main): `gctune --help`, `gctune --version`, `gctune CMD ...`,
 * `gctune help CMD`.  A new subcommand is one file with its cmd_* function
 * (declared in cli.h) plus one row here. */
#include "reports/cli.h"

#include <string.h>

static const char analyze_usage[] =
    "usage: gctune analyze [--json] [--top N] [--stacks] [--by stack|function] run.sqlite\n"
    "\n"
    "Summarizes a run on one screen: the run (program, argv, backend, duration,\n"
    "sample rate, samples, dropped samples), the GC (cycles, GC CPU fraction,\n"
    "stop-the-world pauses p50/p90/p99/max/total, heap goal range, GOGC and memory\n"
    "limits seen), the heap (peak heap_alloc, peak RSS, final in-use), the top\n"
    "allocation sites by allocated and by in-use bytes, leak suspects and the\n"
    "tuner's decisions.\n"
    "\n"
    "A site is a distinct call stack, shown by its leaf function and file:line\n"
    "(--by function: a leaf function, its stacks merged).\n"
    "Bytes and objects are unbiased estimates from the samples (each sample of\n"
    "size s taken at rate r stands for 1/(1-exp(-s/r)) objects).\n"
    "Leak suspects: the run is split into 10 equal time windows; a site is a\n"
    "suspect when its in-use bytes rose in at least 8 of them, it still holds at\n"
    "least 25% of the bytes it allocated at the end, and it has at least 10\n"
    "samples.\n"
    "\n"
    "options:\n"
    "  --json       print one JSON object (keys: see docs/cli.md)\n"
    "  --top N      sites per list (default 10, 0 = all)\n"
    "  --stacks     print the callers of each site under it\n"
    "  --by KIND    stack (default): a site is a call stack; function: a site\n"
    "               is a leaf function (name and file), its stacks merged\n"
    "  -h, --help   this help\n"
    "\n"
    "exit status: 0 success (an empty run too, with a warning on stderr),\n"
    "1 unreadable or invalid database, 2 usage error.\n";

static const char export_usage[] =
    "usage: gctune export --format pprof|folded|csv [-o FILE] [--value TYPE] run.sqlite\n"
    "\n"
    "Writes the samples of a run in another tool's format (to stdout by default):\n"
    "  pprof   gzipped profile.proto heap profile with Go's four sample types\n"
    "          alloc_objects/count, alloc_space/bytes, inuse_objects/count,\n"
    "          inuse_space/bytes (for go tool pprof, speedscope, Pyroscope, Parca);\n"
    "          one sample per site, values as `gctune analyze` estimates them\n"
    "  folded  one line per site, `outermost;...;leaf VALUE`, for flamegraph.pl\n"
    "          and speedscope; VALUE is the --value type (sites of value 0 omitted)\n"
    "  csv     one row per sample with its leaf function, file and line\n"
    "\n"
    "options:\n"
    "  -f, --format FMT   pprof, folded or csv (required)\n"
    "  -o, --output FILE  output file (default: stdout; '-' is stdout)\n"
    "  --value TYPE       folded only: alloc_space (default), alloc_objects,\n"
    "                     inuse_space or inuse_objects\n"
    "  -h, --help         this help\n"
    "\n"
    "exit status: 0 success, 1 unreadable database or write error, 2 usage error.\n";

static const char import_usage[] =
    "usage: gctune import gctrace [-o out.sqlite] [--backend NAME] [--lenient] FILE|-\n"
    "\n"
    "Reads the GC trace lines a Go program prints with GODEBUG=gctrace=1 (libgc\n"
    "prints the same format) from FILE or standard input ('-') into the\n"
    "gc_cycles table of a new run database, so that `gctune analyze` works on\n"
    "Go programs too.  Lines that are not gctrace lines (program output, scvg\n"
    "lines) are ignored; a malformed gctrace line is an error, or with --lenient\n"
    "a warning (the program's own stderr output can split a trace line in two).\n"
    "\n"
    "options:\n"
    "  -o, --output FILE  the database to create (replaced if it exists);\n"
    "                     default FILE.sqlite, or gctrace.sqlite for stdin\n"
    "  --backend NAME     meta.backend of the run (default: go)\n"
    "  --lenient          skip malformed gctrace lines, one warning line each on\n"
    "                     stderr (counted in meta.gctrace_skipped_lines)\n"
    "  -h, --help         this help\n"
    "\n"
    "exit status: 0 success, 1 unreadable input, a malformed gctrace line\n"
    "(without --lenient), no gctrace line at all or database error (no database\n"
    "is left behind), 2 usage error.\n";

static const char diff_usage[] =
    "usage: gctune diff [--json] [--top N] base.sqlite new.sqlite\n"
    "\n"
    "Compares two runs: GC summary (cycles, GC CPU fraction, pauses, peak heap,\n"
    "peak RSS, allocated and in-use totals) and per-site changes in allocated\n"
    "and in-use bytes.  Sites are matched by the function names of their stacks\n"
    "(addresses differ between runs); sites with the same names are merged.\n"
    "Sites are listed by the size of their change in allocated bytes.\n"
    "\n"
    "options:\n"
    "  --json       print one JSON object (keys: see docs/cli.md)\n"
    "  --top N      sites listed (default 10, 0 = all)\n"
    "  -h, --help   this help\n"
    "\n"
    "exit status: 0 success, 1 unreadable or invalid database, 2 usage error.\n";

static const char record_usage[] =
    "usage: gctune record [-o out.sqlite] [--backend libgc|malloc|bdwgc|go] [--rate B]\n"
    "                     [--tuner POLICY] [--] PROGRAM ARGS...\n"
    "\n"
    "Runs PROGRAM with the heap profiler on and leaves a run database.  stdin,\n"
    "stdout and stderr are the program's; the exit status is the program's\n"
    "(128+N when it is killed by signal N).  A summary line goes to stderr.\n"
    "\n"
    "Backends (default: from the program's file):\n"
    "  libgc   programs linked with libgctune.so (DT_NEEDED): GCTUNE_PROFILE\n"
    "  malloc  any other program: LD_PRELOAD of libgctune-preload.so (found\n"
    "          next to gctune: .libs/ or ../lib; GCTUNE_PRELOAD overrides);\n"
    "          samples and frees, no GC events, no GC knobs; the writer runs\n"
    "          in a helper process (the program gets no thread of ours);\n"
    "          programs it starts with the same database do not record\n"
    "  go      Go binaries (.note.go.buildid): run with GODEBUG=gctrace=1, the\n"
    "          trace lines go into gc_cycles as they come (stderr is passed on)\n"
    "  bdwgc   programs linked with Boehm GC (DT_NEEDED libgc.so*): the same\n"
    "          preload library interposes GC_malloc and friends; samples,\n"
    "          frees (found at each collection), GC cycles, GOGC / GOMEMLIMIT\n"
    "          mapped to Boehm's free space divisor and a soft limit\n"
    "\n"
    "options:\n"
    "  -o, --output FILE  the database (default: gctune-PROGRAM.sqlite in the\n"
    "                     current directory); replaced if it exists\n"
    "  --backend NAME     libgc, malloc, bdwgc or go\n"
    "  --rate B           mean sampling interval in bytes (GCTUNE_SAMPLE_RATE;\n"
    "                     K, M, G suffixes; 1 = every allocation, 0 = none)\n"
    "  --tuner POLICY     GCTUNE_TUNER for the program\n"
    "  -h, --help         this help\n"
    "\n"
    "exit status: the program's; 2 usage error (unknown option or backend),\n"
    "127 program not found, 1 other failure before the program ran.\n";

int cmd_record(int argc, char **argv);

static const char report_usage[] =
    "usage: gctune report [-o DIR] [--format png|svg] [--top N] run.sqlite\n"
    "\n"
    "Draws the charts of a run with gnuplot and writes DIR/index.html showing\n"
    "them with the summary tables of gctune analyze.  Charts: heap over time,\n"
    "stop-the-world pauses (per cycle and their distribution), GC CPU fraction\n"
    "with GOGC and the memory limit, top allocation sites, allocation rate, and\n"
    "the in-use bytes of the top sites over time (the leak view).  A chart the\n"
    "run has no data for is skipped, and the page and the output say why.\n"
    "\n"
    "Each chart NAME is NAME.dat (its data), NAME.gp (a gnuplot script: `gnuplot\n"
    "NAME.gp` in DIR draws it again) and NAME.png or NAME.svg.  Without gnuplot\n"
    "(GCTUNE_GNUPLOT, else gnuplot in PATH; Debian package gnuplot-nox) the data,\n"
    "scripts and index.html are still written, with a warning.\n"
    "\n"
    "options:\n"
    "  -o, --output DIR  the directory to write (created if needed; files of an\n"
    "                    earlier report there are replaced); default: the\n"
    "                    database path without .sqlite, plus -report\n"
    "  --format FMT      png (default, 1280x720) or svg\n"
    "  --top N           sites in the site chart (at most 12) and tables\n"
    "                    (default 10, 0 = all)\n"
    "  -h, --help        this help\n"
    "\n"
    "exit status: 0 success (also without gnuplot, or an empty run: a warning on\n"
    "stderr), 1 unreadable or invalid database, a write error or a gnuplot\n"
    "failure (naming the chart's script), 2 usage error.\n";

int cmd_recommend(int argc, char **argv);

static const char recommend_usage[] =
    "usage: gctune recommend [--max-pause D] [--max-gc-cpu P] [--memory B]\n"
    "                        [--gogc LIST] [--limits LIST] [--json] run.sqlite\n"
    "\n"
    "Fits a model of the collector to a recorded run (live heap, allocation rate,\n"
    "GC cost per live and per garbage byte, fixed cost per cycle, pause against\n"
    "the live heap, pacing) and predicts, for candidate GOGC and memory-limit\n"
    "settings, the GC CPU fraction, cycles per second, peak heap, peak RSS and\n"
    "p99 pause.  It recommends the cheapest setting that meets the goals: the\n"
    "smallest peak memory among those meeting the GC CPU and memory goals (if\n"
    "none does, the least GC CPU within the memory goal, else the least memory).\n"
    "Prints the model, a self-check (the recorded setting measured against\n"
    "predicted), the candidates, the recommendation and its GOGC/GOMEMLIMIT line.\n"
    "Works on libgc recordings and Go runs (gctune record --backend go, gctune\n"
    "import gctrace).  The model's pause follows the live heap, not GOGC: a pause\n"
    "goal the recording misses is reported as not achievable.\n"
    "\n"
    "options:\n"
    "  --max-pause D    p99 stop-the-world pause goal (5ms, 500us, 0.2s; a bare\n"
    "                   number is ms; 0 = none, the default)\n"
    "  --max-gc-cpu P   GC CPU fraction goal in percent (5 or 5%%; default 5)\n"
    "  --memory B       peak RSS goal (512MiB, 1G, bytes); adds the memory limit\n"
    "                   that keeps RSS within it to the candidates\n"
    "  --gogc LIST      GOGC candidates, comma-separated, 1..100000 or off\n"
    "                   (default 25,50,75,100,150,200,300,400,600,800,1000,off)\n"
    "  --limits LIST    memory-limit candidates (256MiB,1GiB; at least 4MiB,\n"
    "                   rounded down to MiB), each tried with every GOGC\n"
    "  --json           print one JSON object (keys: see docs/cli.md)\n"
    "  -h, --help       this help\n"
    "\n"
    "Without a limit candidate (--limits, --memory or a limit in the recording),\n"
    "GOGC=off is not a candidate.\n"
    "\n"
    "exit status: 0 success, 1 unreadable database or a run the model cannot fit\n"
    "(fewer than 3 GC cycles, no GC at all: a malloc-backend recording), 2 usage\n"
    "error (bad option value).\n";

const cli_command cli_commands[] = {
    { "record", "run a program with the heap profiler on: a run database",
      record_usage, cmd_record },
    { "analyze", "summarize a run: GC, heap, top allocation sites, leak suspects",
      analyze_usage, cmd_analyze },
    { "export", "write a run as pprof, folded stacks or CSV", export_usage, cmd_export },
    { "import", "read Go gctrace output into a run database", import_usage, cmd_import },
    { "diff", "compare two runs: GC summary and per-site changes", diff_usage, cmd_diff },
    { "report", "charts (gnuplot) and an HTML page of a run", report_usage, cmd_report },
    { "recommend", "fit a GC model to a run, predict GOGC/limit settings, pick one",
      recommend_usage, cmd_recommend },
    { NULL, NULL, NULL, NULL },
};

static void main_help(FILE *o)
{
    fprintf(o, "usage: gctune COMMAND [OPTIONS] ARGS...\n\n"
               "Analyzes the run databases of the gctune heap profiler and GC traces.\n\n"
               "commands:\n");
    for (const cli_command *c = cli_commands; c->name; c++)
        fprintf(o, "  %-10s %s\n", c->name, c->summary);
    fprintf(o, "\n'gctune COMMAND --help' describes a command.\n"
               "options: -h, --help (this help), --version\n"
               "exit status: 0 success, 1 runtime failure, 2 usage error.\n");
}

int gctune_main(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage(NULL, "missing command");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        main_help(stdout);
        return CLI_OK;
    }
    if (!strcmp(cmd, "--version")) {
        printf("gctune %s\n", PACKAGE_VERSION);
        return CLI_OK;
    }
    if (!strcmp(cmd, "help")) {
        if (argc < 3) {
            main_help(stdout);
            return CLI_OK;
        }
        cmd = argv[2];
        for (const cli_command *c = cli_commands; c->name; c++)
            if (!strcmp(c->name, cmd))
                return cli_help(cmd);
        return cli_usage(NULL, "unknown command '%s'", cmd);
    }
    if (cmd[0] == '-')
        return cli_usage(NULL, "unknown option '%s'", cmd);
    for (const cli_command *c = cli_commands; c->name; c++)
        if (!strcmp(c->name, cmd))
            return c->run(argc - 1, argv + 1);
    return cli_usage(NULL, "unknown command '%s'", cmd);
}
