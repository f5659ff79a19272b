/* reports/report_html.c - DIR/index.html of `gctune report`: one
 * self-contained page (inline CSS, no scripts) with the summary tables of
 * gctune analyze (run, GC, heap, top sites by allocated and in-use bytes,
 * leak suspects, tuner decisions), every chart as an <img> with its caption
 * and links to its data and script, and the charts skipped and why.
 *
 * The numbers are the model's (reports/model.h), formatted as analyze
 * formats them (a site's whole stack is its cell's tooltip).  Every text
 * from the database is HTML-escaped.  The page is
 * also well-formed XML (void elements closed, only the XML entities), so
 * that the tests can check it with an XML parser.
 */
#include "reports/report.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static void esc(FILE *o, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", o); break;
        case '<': fputs("&lt;", o); break;
        case '>': fputs("&gt;", o); break;
        case '"': fputs("&quot;", o); break;
        case '\'': fputs("&#39;", o); break;
        default:
            if (*p < 0x20 && *p != '\n' && *p != '\t')
                fputc(' ', o);      /* not allowed in XML */
            else
                fputc(*p, o);
        }
    }
}

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

/* <tr><th>label</th><td>value (escaped)</td></tr> */
static void row(FILE *o, const char *label, const char *value)
{
    fputs("<tr><th>", o);
    esc(o, label);
    fputs("</th><td>", o);
    esc(o, value);
    fputs("</td></tr>\n", o);
}

static void row_bytes(FILE *o, const char *label, int64_t v, const char *note)
{
    char b[CLI_FMT_LEN], t[256];
    if (v == RM_NONE)
        snprintf(t, sizeof t, "-");
    else
        snprintf(t, sizeof t, "%s%s%s", cli_fmt_bytes(b, v), note ? " " : "", note ? note : "");
    row(o, label, t);
}

static const char css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "margin:0 auto;max-width:1320px;padding:0 20px 40px;color:#222;line-height:1.4}\n"
    "h1{font-size:1.6em;margin:24px 0 4px}h2{font-size:1.3em;margin:32px 0 8px;"
    "border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:1.05em;margin:20px 0 6px}\n"
    ".sub{color:#666;margin:0 0 12px}nav a{margin-right:14px}\n"
    ".tables{display:flex;flex-wrap:wrap;gap:20px;align-items:flex-start}\n"
    "table{border-collapse:collapse;font-size:0.92em}"
    "th,td{padding:3px 10px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}\n"
    "table.kv th{color:#555;font-weight:600;white-space:nowrap}"
    "table.kv caption{text-align:left;font-weight:700;padding:4px 0}\n"
    "table.sites td.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}"
    "table.sites th{background:#f4f4f4}\n"
    "code,.site{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:0.95em}\n"
    "figure{margin:24px 0;border:1px solid #ddd;border-radius:4px;padding:10px;background:#fff}\n"
    "figure img{display:block;max-width:100%;height:auto}"
    "figcaption{margin-top:8px;color:#333}\n"
    ".missing{padding:40px;text-align:center;background:#f7f7f7;color:#666}\n"
    ".warn{background:#fff4d6;border:1px solid #e6c36a;padding:8px 12px;margin:10px 0;"
    "border-radius:4px}\n"
    ".note{color:#666;font-size:0.92em}.leak{color:#b00020;font-weight:600}\n";

static void summary(FILE *o, const rm_run *run)
{
    char b[CLI_FMT_LEN], b2[CLI_FMT_LEN], b3[CLI_FMT_LEN], b4[CLI_FMT_LEN], t[1024];

    fputs("<div class=\"tables\">\n<table class=\"kv\"><caption>Run</caption>\n", o);
    row(o, "program", or_dash(run->program));
    size_t n = 0;
    t[0] = 0;
    for (int i = 0; i < run->argc && n + 2 < sizeof t; i++)
        n += (size_t)snprintf(t + n, sizeof t - n, "%s%s", i ? " " : "", run->argv[i]);
    row(o, "argv", run->argc ? t : "-");
    row(o, "backend", or_dash(run->backend));
    if (run->source)
        row(o, "source", run->source);
    row(o, "duration", run->duration_ns == RM_NONE ? "-" : cli_fmt_ns(b, run->duration_ns));
    if (run->sample_rate == RM_NONE)
        row(o, "sample rate", "-");
    else {
        snprintf(t, sizeof t, "%s (mean bytes between samples)", cli_fmt_bytes(b, run->sample_rate));
        row(o, "sample rate", t);
    }
    snprintf(t, sizeof t, "%lld", (long long)run->samples);
    row(o, "samples", t);
    row(o, "dropped samples",
        run->dropped_samples == RM_NONE ? "-" : cli_fmt_count(b, run->dropped_samples));
    if (run->capabilities)
        row(o, "capabilities", run->capabilities);
    fputs("</table>\n", o);

    fputs("<table class=\"kv\"><caption>GC</caption>\n", o);
    if (run->forced_cycles > 0)
        snprintf(t, sizeof t, "%lld (%lld forced)", (long long)run->cycles,
                 (long long)run->forced_cycles);
    else
        snprintf(t, sizeof t, "%lld", (long long)run->cycles);
    row(o, "cycles", t);
    row(o, "GC CPU fraction", cli_fmt_pct(b, run->gc_cpu_fraction));
    if (run->npauses > 0) {
        snprintf(t, sizeof t, "p50 %s, p90 %s, p99 %s, max %s", cli_fmt_ns(b, run->pause_p50),
                 cli_fmt_ns(b2, run->pause_p90), cli_fmt_ns(b3, run->pause_p99),
                 cli_fmt_ns(b4, run->pause_max));
        row(o, "STW pauses", t);
        snprintf(t, sizeof t, "%s in %lld pauses", cli_fmt_ns(b, run->pause_total),
                 (long long)run->npauses);
        row(o, "STW total", t);
    } else {
        row(o, "STW pauses", "-");
    }
    if (run->heap_goal_min != RM_NONE) {
        snprintf(t, sizeof t, "%s .. %s", cli_fmt_bytes(b, run->heap_goal_min),
                 cli_fmt_bytes(b2, run->heap_goal_max));
        row(o, "heap goal", t);
    } else {
        row(o, "heap goal", "-");
    }
    n = 0;
    t[0] = 0;
    for (int i = 0; i < run->ngogc; i++) {
        if (run->gogc_seen[i] < 0)
            n += (size_t)snprintf(t + n, sizeof t - n, "%soff", i ? ", " : "");
        else
            n += (size_t)snprintf(t + n, sizeof t - n, "%s%lld", i ? ", " : "",
                                  (long long)run->gogc_seen[i]);
    }
    row(o, "GOGC seen", run->ngogc ? t : "-");
    n = 0;
    t[0] = 0;
    for (int i = 0; i < run->nlimit; i++) {
        if (run->limit_seen[i] < 0)
            n += (size_t)snprintf(t + n, sizeof t - n, "%snone", i ? ", " : "");
        else
            n += (size_t)snprintf(t + n, sizeof t - n, "%s%s", i ? ", " : "",
                                  cli_fmt_bytes(b, run->limit_seen[i]));
    }
    row(o, "memory limit seen", run->nlimit ? t : "-");
    fputs("</table>\n", o);

    fputs("<table class=\"kv\"><caption>Heap</caption>\n", o);
    row_bytes(o, "peak heap_alloc", run->peak_heap_alloc,
              run->heap_points == 0 && run->peak_heap_alloc != RM_NONE
                  ? "(largest heap at a GC start: no heap series)" : NULL);
    row_bytes(o, "peak RSS", run->peak_rss, NULL);
    row_bytes(o, "final heap_alloc", run->final_heap_alloc, NULL);
    if (run->samples > 0) {
        snprintf(t, sizeof t, "%s in %s objects (estimated from samples)",
                 cli_fmt_bytes(b, run->inuse_bytes), cli_fmt_count(b2, run->inuse_objects));
        row(o, "in use at end", t);
        snprintf(t, sizeof t, "%s in %s objects (estimated from samples)",
                 cli_fmt_bytes(b, run->alloc_bytes), cli_fmt_count(b2, run->alloc_objects));
        row(o, "allocated", t);
    } else {
        row(o, "allocation sites", "none: no allocation samples in this run");
    }
    fputs("</table>\n</div>\n", o);
}

/* title="...": the site's whole stack, leaf first (a tooltip). */
static void stack_title(FILE *o, const rm_run *run, const rm_site *s)
{
    char nb[128];
    fputs(" title=\"", o);
    for (int i = 0; i < s->nips; i++) {
        const rm_frame *f = rm_frame_of(run, s->ips[i]);
        if (i)
            fputs(" &lt;- ", o);
        esc(o, rm_name(run, s->ips[i], nb, sizeof nb));
        if (f && f->file && *f->file) {
            fputs(" (", o);
            esc(o, f->file);
            fprintf(o, ":%lld)", (long long)f->line);
        }
    }
    fputc('"', o);
}

static void sites_table(FILE *o, const rm_run *run, const size_t *order, size_t n, int by_inuse)
{
    char b1[CLI_FMT_LEN], b2[CLI_FMT_LEN], b3[CLI_FMT_LEN], b4[CLI_FMT_LEN], b5[CLI_FMT_LEN];
    char b6[CLI_FMT_LEN], label[1024];
    int64_t total = by_inuse ? run->inuse_bytes : run->alloc_bytes;
    double cum = 0;
    fprintf(o, "<table class=\"sites\">\n<tr><th>#</th><th>%s</th><th>%%</th><th>cum%%</th>"
               "<th>objects</th><th>%s</th><th>objects</th><th>site: leaf function "
               "(file:line) &lt;- caller</th></tr>\n",
            by_inuse ? "in use" : "allocated", by_inuse ? "allocated" : "in use");
    for (size_t r = 0; r < n; r++) {
        const rm_site *s = &run->sites[order[r]];
        int64_t v = by_inuse ? s->inuse_bytes : s->alloc_bytes;
        int64_t vo = by_inuse ? s->inuse_objects : s->alloc_objects;
        int64_t w = by_inuse ? s->alloc_bytes : s->inuse_bytes;
        int64_t wo = by_inuse ? s->alloc_objects : s->inuse_objects;
        if (by_inuse && v == 0)
            break;
        double frac = total > 0 ? (double)v / (double)total : NAN;
        cum += isfinite(frac) ? frac : 0;
        fprintf(o, "<tr><td class=\"n\">%zu</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                   "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                   "<td class=\"n\">%s</td><td class=\"site\"", r + 1, cli_fmt_bytes(b1, v),
                cli_fmt_pct(b2, frac), cli_fmt_pct(b3, total > 0 ? cum : NAN),
                cli_fmt_count(b4, vo), cli_fmt_bytes(b5, w), cli_fmt_count(b6, wo));
        stack_title(o, run, s);
        fputc('>', o);
        esc(o, rm_site_text(run, s, label, sizeof label));
        if (s->leak)
            fputs(" <span class=\"leak\">leak suspect</span>", o);
        fputs("</td></tr>\n", o);
    }
    fputs("</table>\n", o);
}

static void write_page(FILE *o, const rp_report *r)
{
    const rm_run *run = r->run;
    char b[CLI_FMT_LEN], b2[CLI_FMT_LEN], label[1024];
    const char *prog = run->program && *run->program ? run->program : run->path;
    const char *base = strrchr(prog, '/');
    base = base && base[1] ? base + 1 : prog;

    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n"
          "<title>gctune report: ", o);
    esc(o, base);
    fprintf(o, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>gctune report: ", css);
    esc(o, base);
    fputs("</h1>\n<p class=\"sub\">Run database <code>", o);
    esc(o, run->path);
    fprintf(o, "</code>; written by gctune %s (<code>gctune report</code>; the same tables as "
               "<code>gctune analyze</code>).</p>\n", PACKAGE_VERSION);
    fputs("<nav><a href=\"#summary\">Summary</a><a href=\"#charts\">Charts</a>"
          "<a href=\"#sites\">Allocation sites</a><a href=\"#leaks\">Leak suspects</a>"
          "<a href=\"#tuner\">Tuner decisions</a></nav>\n", o);

    char warn[RM_MAX_WARNINGS][RM_MSG_LEN];
    size_t nwarn = rm_warnings(run, warn, RM_MAX_WARNINGS);
    for (size_t i = 0; i < nwarn; i++) {
        fputs("<p class=\"warn\">Warning: ", o);
        esc(o, warn[i]);
        fputs("</p>\n", o);
    }
    if (r->no_gnuplot)
        fputs("<p class=\"warn\">gnuplot was not found when this report was written: the charts "
              "below are data files and gnuplot scripts without images. Install gnuplot (Debian "
              "package <code>gnuplot-nox</code>) and run <code>gctune report</code> again, or "
              "<code>gnuplot NAME.gp</code> in this directory.</p>\n", o);

    fputs("<h2 id=\"summary\">Summary</h2>\n", o);
    summary(o, run);

    fputs("<h2 id=\"charts\">Charts</h2>\n", o);
    int shown = 0, skipped = 0;
    for (int i = 0; i < RP_NCHARTS; i++) {
        const rp_chart *ch = &r->charts[i];
        if (ch->skipped[0]) {
            skipped++;
            continue;
        }
        shown++;
        fprintf(o, "<figure id=\"chart-%s\">\n", ch->name);
        if (ch->rendered) {
            fprintf(o, "<a href=\"%s.%s\"><img src=\"%s.%s\" width=\"1280\" height=\"720\" alt=\"",
                    ch->name, r->format, ch->name, r->format);
            esc(o, ch->title);
            fputs("\" /></a>\n", o);
        } else {
            fputs("<div class=\"missing\">", o);
            if (ch->error[0]) {
                fputs("Not rendered: ", o);
                esc(o, ch->error);
            } else {
                fputs("Not rendered: gnuplot was not found.", o);
            }
            fputs("</div>\n", o);
        }
        fputs("<figcaption><strong>", o);
        esc(o, ch->title);
        fputs(".</strong> ", o);
        esc(o, ch->caption);
        fprintf(o, " <span class=\"note\">Data: <a href=\"%s.dat\">%s.dat</a>, script: "
                   "<a href=\"%s.gp\">%s.gp</a> (<code>gnuplot %s.gp</code> in this directory "
                   "draws it again).</span></figcaption>\n</figure>\n",
                ch->name, ch->name, ch->name, ch->name, ch->name);
    }
    if (shown == 0)
        fputs("<p>No chart: this run has no data to draw.</p>\n", o);
    if (skipped > 0) {
        fputs("<h3 id=\"skipped\">Charts skipped</h3>\n<ul class=\"skipped\">\n", o);
        for (int i = 0; i < RP_NCHARTS; i++) {
            const rp_chart *ch = &r->charts[i];
            if (!ch->skipped[0])
                continue;
            fprintf(o, "<li id=\"skipped-%s\"><strong>", ch->name);
            esc(o, ch->title);
            fputs("</strong>: ", o);
            esc(o, ch->skipped);
            fputs("</li>\n", o);
        }
        fputs("</ul>\n", o);
    }

    fputs("<h2 id=\"sites\">Allocation sites</h2>\n", o);
    if (run->nsites == 0) {
        fprintf(o, "<p>None: no allocation samples in this run%s.</p>\n",
                run->source && !strcmp(run->source, "gctrace") ? " (a gctrace import)" : "");
    } else {
        size_t n = r->top == 0 || r->top > run->nsites ? run->nsites : r->top;
        fprintf(o, "<h3>Top allocation sites by allocated bytes</h3>\n<p class=\"note\">%zu of "
                   "%zu sites; a site is a distinct call stack; unbiased estimates from the "
                   "samples.</p>\n", n, run->nsites);
        sites_table(o, run, run->by_alloc, n, 0);
        fputs("<h3>Top allocation sites by in-use bytes at the end of the run</h3>\n", o);
        if (run->inuse_bytes == 0)
            fputs("<p>None: every sampled object was freed.</p>\n", o);
        else
            sites_table(o, run, run->by_inuse, n, 1);
    }

    fputs("<h2 id=\"leaks\">Leak suspects</h2>\n<p class=\"note\">Rule: ", o);
    char rule[256];
    esc(o, rm_leak_rule(rule, sizeof rule));
    fputs(".</p>\n", o);
    size_t nl = 0;
    for (size_t i = 0; i < run->nsites; i++) {
        const rm_site *s = &run->sites[run->by_inuse[i]];
        if (!s->leak)
            continue;
        if (r->top && nl >= r->top)
            break;
        if (nl++ == 0)
            fputs("<table class=\"sites\">\n<tr><th>#</th><th>in use at the end</th>"
                  "<th>of its allocations</th><th>rose in</th><th>site</th></tr>\n", o);
        fprintf(o, "<tr><td class=\"n\">%zu</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                   "<td class=\"n\">%d/%d windows</td><td class=\"site\"", nl,
                cli_fmt_bytes(b, s->inuse_bytes),
                cli_fmt_pct(b2, s->a_bytes > 0 ? s->inuse_at[RM_WINDOWS] / s->a_bytes : NAN),
                s->rises, RM_WINDOWS);
        stack_title(o, run, s);
        fputc('>', o);
        esc(o, rm_site_text(run, s, label, sizeof label));
        fputs("</td></tr>\n", o);
    }
    if (nl)
        fputs("</table>\n", o);
    else
        fputs("<p>None.</p>\n", o);

    fputs("<h2 id=\"tuner\">Tuner decisions</h2>\n", o);
    if (run->nevents == 0) {
        fputs("<p>None: the tuner made no decision in this run (or did not run).</p>\n", o);
    } else {
        fprintf(o, "<table class=\"sites\">\n<tr><th>time</th><th>knob</th><th>old</th>"
                   "<th>new</th><th>reason</th><th>measurements</th></tr>\n");
        for (size_t i = 0; i < run->nevents; i++) {
            const rm_event *e = &run->events[i];
            char ov[CLI_FMT_LEN], nv[CLI_FMT_LEN];
            fprintf(o, "<tr><td class=\"n\">%s</td><td>", cli_fmt_ns(b, e->time_ns));
            esc(o, e->knob);
            fputs("</td><td class=\"n\">", o);
            esc(o, rm_fmt_knob(ov, e->knob, e->old_value));
            fputs("</td><td class=\"n\">", o);
            esc(o, rm_fmt_knob(nv, e->knob, e->new_value));
            fputs("</td><td>", o);
            esc(o, e->reason);
            fputs("</td><td><code>", o);
            esc(o, e->measurements ? e->measurements : "");
            fputs("</code></td></tr>\n", o);
        }
        fputs("</table>\n", o);
    }
    fputs("<p class=\"note\">Sizes in binary units (1 MiB = 1048576 bytes). Times on the "
          "charts are seconds since the start of the run; the data files hold nanoseconds and "
          "bytes.</p>\n</body>\n</html>\n", o);
}

int rp_write_html(const rp_report *r)
{
    char path[PATH_MAX];
    rp_path(path, r, "index.html");
    FILE *o = fopen(path, "w");
    if (!o) {
        cli_error(path, "cannot create: %s", strerror(errno));
        return -1;
    }
    write_page(o, r);
    int bad = ferror(o);
    if (fclose(o) != 0 || bad) {
        cli_error(path, "write error: %s", strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}
