/* reports/report.h - `gctune report`: what its three parts share.
 *
 *   reports/report.c         the command: options, the output directory,
 *                            running gnuplot on each chart's script
 *   reports/report_charts.c  each chart's data file and gnuplot script
 *                            (from the reports/gnuplot/NAME.gp templates)
 *   reports/report_html.c    index.html: the charts and analyze's tables
 *   reports/gnuplot/templates.c  generated from reports/gnuplot/NAME.gp
 *
 * Every chart NAME is three files in the output directory: NAME.dat (the
 * data, tab-separated, database units: ns and bytes; comment lines say
 * what each column is), NAME.gp (a self-contained gnuplot script reading
 * NAME.dat and writing NAME.png or NAME.svg by relative names: `cd DIR &&
 * gnuplot NAME.gp` reproduces the image) and the image.
 */
#ifndef GCTUNE_REPORTS_REPORT_H
#define GCTUNE_REPORTS_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "reports/model.h"

enum {
    RP_HEAP,        /* heap over time */
    RP_PAUSES,      /* stop-the-world pauses: per cycle and distribution */
    RP_GC_CPU,      /* GC CPU fraction over time, GOGC and memory limit */
    RP_SITES,       /* top allocation sites: allocated and in-use bytes */
    RP_ALLOC_RATE,  /* allocation rate over time */
    RP_INUSE,       /* in-use bytes of the top sites over time (leaks) */
    RP_NCHARTS
};

#define RP_TEXT_LEN 1024

typedef struct rp_chart {
    const char *name;               /* file stem: "heap" */
    const char *title;              /* "Heap over time" */
    char caption[RP_TEXT_LEN];      /* what the chart shows and from what */
    char skipped[RP_TEXT_LEN];      /* why it was skipped; "" = written */
    int rendered;                   /* the image exists */
    char error[RP_TEXT_LEN];        /* why gnuplot failed; "" = it did not */
} rp_chart;

typedef struct rp_report {
    const rm_run *run;
    gcts_db *db;
    const char *dir;                /* output directory */
    const char *format;             /* "png" or "svg" */
    size_t top;                     /* sites in the site chart and tables */
    int no_gnuplot;                 /* gnuplot was not found: no images */
    rp_chart charts[RP_NCHARTS];
} rp_report;

/* Writes the data file and script of every chart that makes sense for the
 * run, and fills charts[] (name, title, caption or skipped).  Returns 0, or
 * -1 after printing the error line (a write error, a database error). */
int rp_write_charts(rp_report *r);

/* Writes DIR/index.html.  Returns 0, or -1 after printing the error line. */
int rp_write_html(const rp_report *r);

/* A template of reports/gnuplot/ by base name ("heap"), or NULL. */
const char *rp_template(const char *name);

/* DIR/NAME into buf (PATH_MAX bytes). */
char *rp_path(char *buf, const rp_report *r, const char *name);

#endif
