/* reports/diff.c - `gctune diff [--json] [--top N] base.sqlite new.sqlite`:
 * GC and heap summary changes and per-site changes in allocated and in-use
 * bytes between two runs.  Sites are matched by the names of their frames
 * (function, or module+offset), since addresses differ between runs. */
#include "reports/cli.h"
#include "reports/json.h"
#include "reports/model.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TOP 10

typedef struct dsite {
    char *key;            /* names joined with ';', leaf first */
    int which;            /* 0 base, 1 new */
    const rm_run *run;
    const rm_site *site;
} dsite;

typedef struct dgroup {
    const char *key;
    const rm_run *run;    /* for names: the run of the representative */
    const rm_site *rep;   /* the largest site of the group */
    int64_t v[2][4];      /* [run][alloc_bytes, alloc_objects, inuse_bytes, inuse_objects] */
    int present[2];
} dgroup;

static char *site_key(const rm_run *run, const rm_site *s)
{
    char nb[128];
    size_t cap = 64, len = 0;
    char *k = cli_xmalloc(cap);
    k[0] = 0;
    if (s->nips == 0)
        snprintf(nb, sizeof nb, "[stack %lld missing]", (long long)s->stack_id);
    for (int i = 0; i < (s->nips ? s->nips : 1); i++) {
        const char *n = s->nips ? rm_name(run, s->ips[i], nb, sizeof nb) : nb;
        size_t l = strlen(n);
        if (len + l + 2 > cap) {
            cap = (len + l + 2) * 2;
            k = cli_xrealloc(k, cap);
        }
        if (i)
            k[len++] = ';';
        memcpy(k + len, n, l);
        len += l;
        k[len] = 0;
    }
    return k;
}

static int dsite_cmp(const void *a, const void *b)
{
    return strcmp(((const dsite *)a)->key, ((const dsite *)b)->key);
}

static int dgroup_cmp(const void *a, const void *b)
{
    const dgroup *x = a, *y = b;
    int64_t ax = cli_abs(cli_sub(x->v[1][0], x->v[0][0]));
    int64_t ay = cli_abs(cli_sub(y->v[1][0], y->v[0][0]));
    if (ax != ay)
        return ax > ay ? -1 : 1;
    ax = cli_abs(cli_sub(x->v[1][2], x->v[0][2]));
    ay = cli_abs(cli_sub(y->v[1][2], y->v[0][2]));
    if (ax != ay)
        return ax > ay ? -1 : 1;
    return strcmp(x->key, y->key);
}

static dgroup *build_groups(const rm_run *base, const rm_run *new, dsite **sites_out,
                            size_t *nsites_out, size_t *ngroups)
{
    size_t n = base->nsites + new->nsites;
    dsite *ds = cli_xmalloc((n ? n : 1) * sizeof *ds);
    size_t k = 0;
    for (int w = 0; w < 2; w++) {
        const rm_run *r = w ? new : base;
        for (size_t i = 0; i < r->nsites; i++) {
            ds[k].key = site_key(r, &r->sites[i]);
            ds[k].which = w;
            ds[k].run = r;
            ds[k].site = &r->sites[i];
            k++;
        }
    }
    qsort(ds, n, sizeof *ds, dsite_cmp);
    dgroup *g = cli_xcalloc(n ? n : 1, sizeof *g);
    size_t ng = 0;
    for (size_t i = 0; i < n; i++) {
        if (ng == 0 || strcmp(g[ng - 1].key, ds[i].key) != 0) {
            g[ng].key = ds[i].key;
            ng++;
        }
        dgroup *cur = &g[ng - 1];
        const rm_site *s = ds[i].site;
        int w = ds[i].which;
        cur->v[w][0] = cli_add(cur->v[w][0], s->alloc_bytes);
        cur->v[w][1] = cli_add(cur->v[w][1], s->alloc_objects);
        cur->v[w][2] = cli_add(cur->v[w][2], s->inuse_bytes);
        cur->v[w][3] = cli_add(cur->v[w][3], s->inuse_objects);
        cur->present[w] = 1;
        if (!cur->rep || s->alloc_bytes > cur->rep->alloc_bytes) {
            cur->rep = s;
            cur->run = ds[i].run;
        }
    }
    qsort(g, ng, sizeof *g, dgroup_cmp);
    *sites_out = ds;
    *nsites_out = n;
    *ngroups = ng;
    return g;
}

/* ---- the summary rows ---- */

typedef struct srow {
    const char *key, *label;
    int kind;   /* 0 count, 1 bytes, 2 ns, 3 fraction */
    int64_t b, n;
    double fb, fn;
} srow;

#define NROWS 15

static void summary_rows(const rm_run *b, const rm_run *n, srow *r)
{
    srow rows[NROWS] = {
        { "samples", "samples", 0, b->samples, n->samples, 0, 0 },
        { "gc_cycles", "GC cycles", 0, b->cycles, n->cycles, 0, 0 },
        { "gc_cpu_fraction", "GC CPU fraction", 3, 0, 0, b->gc_cpu_fraction, n->gc_cpu_fraction },
        { "pause_p50_ns", "pause p50", 2, b->pause_p50, n->pause_p50, 0, 0 },
        { "pause_p90_ns", "pause p90", 2, b->pause_p90, n->pause_p90, 0, 0 },
        { "pause_p99_ns", "pause p99", 2, b->pause_p99, n->pause_p99, 0, 0 },
        { "pause_max_ns", "pause max", 2, b->pause_max, n->pause_max, 0, 0 },
        { "pause_total_ns", "pause total", 2, b->pause_total, n->pause_total, 0, 0 },
        { "peak_heap_alloc", "peak heap_alloc", 1, b->peak_heap_alloc, n->peak_heap_alloc, 0, 0 },
        { "peak_rss", "peak RSS", 1, b->peak_rss, n->peak_rss, 0, 0 },
        { "final_heap_alloc", "final heap_alloc", 1, b->final_heap_alloc, n->final_heap_alloc, 0, 0 },
        { "alloc_bytes", "allocated bytes", 1, b->alloc_bytes, n->alloc_bytes, 0, 0 },
        { "alloc_objects", "allocated objects", 0, b->alloc_objects, n->alloc_objects, 0, 0 },
        { "inuse_bytes", "in-use bytes", 1, b->inuse_bytes, n->inuse_bytes, 0, 0 },
        { "inuse_objects", "in-use objects", 0, b->inuse_objects, n->inuse_objects, 0, 0 },
    };
    memcpy(r, rows, sizeof rows);
}

static const char *fmt_val(char *buf, int kind, int64_t v, double f)
{
    if (kind == 3)
        return cli_fmt_pct(buf, f);
    if (v == RM_NONE)
        return "-";
    if (kind == 1)
        return cli_fmt_bytes(buf, v);
    if (kind == 2)
        return cli_fmt_ns(buf, v);
    return cli_fmt_count(buf, v);
}

static void print_text(FILE *o, const rm_run *b, const rm_run *n, dgroup *g, size_t ng,
                       size_t top)
{
    char c1[CLI_FMT_LEN], c2[CLI_FMT_LEN], c3[CLI_FMT_LEN], c4[CLI_FMT_LEN], c5[CLI_FMT_LEN];
    char c6[CLI_FMT_LEN], label[512];
    srow rows[NROWS];
    summary_rows(b, n, rows);
    fprintf(o, "gctune diff: %s -> %s\n\n", b->path, n->path);
    fprintf(o, "  %-20s %14s %14s %14s %9s\n", "", "base", "new", "change", "");
    for (int i = 0; i < NROWS; i++) {
        srow *r = &rows[i];
        char ch[CLI_FMT_LEN + 8] = "-", rel[32] = "";
        if (r->kind == 3) {
            if (isfinite(r->fb) && isfinite(r->fn))
                snprintf(ch, sizeof ch, "%+.2f pt", (r->fn - r->fb) * 100);
        } else if (r->b != RM_NONE && r->n != RM_NONE) {
            int64_t d = cli_sub(r->n, r->b);
            const char *s = fmt_val(c3, r->kind, cli_abs(d), 0);
            snprintf(ch, sizeof ch, "%s%s", d < 0 ? "-" : "+", s);
            if (r->b != 0)
                snprintf(rel, sizeof rel, "%+.1f%%", 100.0 * (double)d / (double)r->b);
        }
        fprintf(o, "  %-20s %14s %14s %14s %9s\n", r->label, fmt_val(c1, r->kind, r->b, r->fb),
                fmt_val(c2, r->kind, r->n, r->fn), ch, rel);
    }
    if (ng == 0) {
        fprintf(o, "\nno allocation sites in either run\n");
        return;
    }
    size_t shown = top == 0 || top > ng ? ng : top;
    fprintf(o, "\nSites by change in allocated bytes (%zu of %zu; matched by the function names "
               "of their stacks)\n", shown, ng);
    fprintf(o, "  %11s %11s %12s  %11s %11s %12s  %s\n", "alloc base", "alloc new", "change",
            "in-use base", "in-use new", "change", "site (leaf function, file:line)");
    for (size_t i = 0; i < shown; i++) {
        dgroup *x = &g[i];
        int64_t da = cli_sub(x->v[1][0], x->v[0][0]), di = cli_sub(x->v[1][2], x->v[0][2]);
        char sa[CLI_FMT_LEN + 2], si[CLI_FMT_LEN + 2];
        snprintf(sa, sizeof sa, "%s%s", da < 0 ? "-" : "+", cli_fmt_bytes(c3, cli_abs(da)));
        snprintf(si, sizeof si, "%s%s", di < 0 ? "-" : "+", cli_fmt_bytes(c6, cli_abs(di)));
        fprintf(o, "  %11s %11s %12s  %11s %11s %12s  %s%s\n",
                x->present[0] ? cli_fmt_bytes(c1, x->v[0][0]) : "-",
                x->present[1] ? cli_fmt_bytes(c2, x->v[1][0]) : "-", sa,
                x->present[0] ? cli_fmt_bytes(c4, x->v[0][2]) : "-",
                x->present[1] ? cli_fmt_bytes(c5, x->v[1][2]) : "-", si,
                rm_site_label(x->run, x->rep, label, sizeof label),
                !x->present[0] ? "  [new]" : !x->present[1] ? "  [gone]" : "");
    }
}

static void json_vals(json_w *w, const char *key, const int64_t *v)
{
    json_begin_object(w, key);
    json_int(w, "alloc_bytes", v[0]);
    json_int(w, "alloc_objects", v[1]);
    json_int(w, "inuse_bytes", v[2]);
    json_int(w, "inuse_objects", v[3]);
    json_end_object(w);
}

static void print_json(FILE *o, const rm_run *b, const rm_run *n, dgroup *g, size_t ng,
                       size_t top)
{
    char nb[128];
    srow rows[NROWS];
    summary_rows(b, n, rows);
    json_w w;
    json_init(&w, o);
    json_begin_object(&w, NULL);
    json_string(&w, "gctune_version", PACKAGE_VERSION);
    json_string(&w, "base", b->path);
    json_string(&w, "new", n->path);
    json_begin_object(&w, "summary");
    for (int i = 0; i < NROWS; i++) {
        srow *r = &rows[i];
        json_begin_object(&w, r->key);
        if (r->kind == 3) {
            json_double(&w, "base", r->fb);
            json_double(&w, "new", r->fn);
            json_double(&w, "delta", r->fn - r->fb);
        } else {
            json_int_or_null(&w, "base", r->b);
            json_int_or_null(&w, "new", r->n);
            json_int_or_null(&w, "delta", r->b != RM_NONE && r->n != RM_NONE ? cli_sub(r->n, r->b) : RM_NONE);
        }
        json_end_object(&w);
    }
    json_end_object(&w);
    json_int(&w, "site_count", (int64_t)ng);
    size_t shown = top == 0 || top > ng ? ng : top;
    json_begin_array(&w, "sites");
    for (size_t i = 0; i < shown; i++) {
        dgroup *x = &g[i];
        const rm_site *s = x->rep;
        const rm_frame *f = s->nips ? rm_frame_of(x->run, s->ips[0]) : NULL;
        json_begin_object(&w, NULL);
        json_string(&w, "status", !x->present[0] ? "added" : !x->present[1] ? "removed" : "changed");
        if (s->nips)
            json_string(&w, "function", rm_name(x->run, s->ips[0], nb, sizeof nb));
        else
            json_null(&w, "function");
        json_string(&w, "file", f ? f->file : NULL);
        json_int(&w, "line", f ? f->line : 0);
        json_begin_array(&w, "stack");
        for (int k = 0; k < s->nips; k++)
            json_string(&w, NULL, rm_name(x->run, s->ips[k], nb, sizeof nb));
        json_end_array(&w);
        json_vals(&w, "base", x->v[0]);
        json_vals(&w, "new", x->v[1]);
        int64_t d[4];
        for (int k = 0; k < 4; k++)
            d[k] = cli_sub(x->v[1][k], x->v[0][k]);
        json_vals(&w, "delta", d);
        json_end_object(&w);
    }
    json_end_array(&w);
    json_end_object(&w);
}

int cmd_diff(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "top", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int json = 0;
    uint64_t top = DEFAULT_TOP;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hn:", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'h': return cli_help("diff");
        case 'n':
            if (cli_parse_u64(optarg, &top) < 0 || top > 1000000000)
                return cli_usage("diff", "--top: '%s' is not a count", optarg);
            break;
        default: return cli_bad_option("diff", c, argv);
        }
    }
    if (argc - optind < 2)
        return cli_usage("diff", "needs two run databases: base.sqlite new.sqlite");
    if (argc - optind > 2)
        return cli_usage("diff", "unexpected argument '%s'", argv[optind + 2]);

    gcts_db *db[2] = { NULL, NULL };
    rm_run run[2];
    int loaded[2] = { 0, 0 };
    int rc = CLI_FAIL;
    for (int i = 0; i < 2; i++) {
        db[i] = cli_open_db(argv[optind + i]);
        if (!db[i])
            goto done;
        loaded[i] = 1;
        if (rm_load(db[i], &run[i]) < 0)
            goto done;
        if (rm_empty(&run[i]))
            cli_error(argv[optind + i], "warning: empty run: no samples, no GC cycles, no heap series");
    }
    dsite *ds;
    size_t nds, ng;
    dgroup *g = build_groups(&run[0], &run[1], &ds, &nds, &ng);
    if (json)
        print_json(stdout, &run[0], &run[1], g, ng, (size_t)top);
    else
        print_text(stdout, &run[0], &run[1], g, ng, (size_t)top);
    free(g);
    for (size_t i = 0; i < nds; i++)
        free(ds[i].key);
    free(ds);
    rc = cli_close_output(stdout, "-") < 0 ? CLI_FAIL : CLI_OK;
done:
    for (int i = 0; i < 2; i++) {
        if (loaded[i])
            rm_free(&run[i]);
        gcts_close(db[i]);
    }
    return rc;
}
