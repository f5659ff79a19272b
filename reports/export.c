/* reports/export.c - `gctune export --format pprof|folded|csv [-o FILE]
 * [--value TYPE] run.sqlite`: a run in the formats of other tools.  pprof
 * goes through reports/pprof.h; the values are the per-site estimates of
 * reports/model.h, so `go tool pprof` totals equal `gctune analyze`'s. */
#include "reports/cli.h"
#include "reports/model.h"
#include "reports/pprof.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum { V_ALLOC_OBJECTS, V_ALLOC_SPACE, V_INUSE_OBJECTS, V_INUSE_SPACE };
static const char *const value_names[] = {
    "alloc_objects", "alloc_space", "inuse_objects", "inuse_space",
};

static int64_t site_value(const rm_site *s, int v)
{
    switch (v) {
    case V_ALLOC_OBJECTS: return s->alloc_objects;
    case V_ALLOC_SPACE: return s->alloc_bytes;
    case V_INUSE_OBJECTS: return s->inuse_objects;
    default: return s->inuse_bytes;
    }
}

/* ---- pprof ---- */

static const rm_mapping *mapping_by_id(const rm_run *run, int64_t id)
{
    for (size_t i = 0; i < run->nmappings; i++)
        if (run->mappings[i].id == id)
            return &run->mappings[i];
    return NULL;
}

static int export_pprof(const rm_run *run, const char *out)
{
    static const pprof_sample_type types[] = {
        { "alloc_objects", "count" }, { "alloc_space", "bytes" },
        { "inuse_objects", "count" }, { "inuse_space", "bytes" },
    };
    static const pprof_sample_type period_type = { "space", "bytes" };
    int64_t rate = run->sample_rate == RM_NONE ? 0 : run->sample_rate;
    int64_t start = run->start_time_ns == RM_NONE ? 0 : run->start_time_ns;
    int64_t dur = run->duration_ns == RM_NONE ? 0 : run->duration_ns;
    pprof_builder *b = pprof_new(types, 4, &period_type, rate, start, dur);
    if (!b) {
        cli_error(out, "out of memory");
        return CLI_FAIL;
    }
    int rc = CLI_FAIL;
    uint64_t *map_ids = cli_xcalloc(run->nmappings ? run->nmappings : 1, sizeof *map_ids);
    uint64_t *locs = NULL;
    size_t locs_cap = 0;
    cli_map loc_of;
    cli_map_init(&loc_of);
    uint64_t missing_loc = 0;

    for (size_t i = 0; i < run->nmappings; i++) {
        const rm_mapping *m = &run->mappings[i];
        map_ids[i] = pprof_add_mapping(b, m->start, m->end, m->file_offset, m->path, m->build_id);
        if (!map_ids[i])
            goto oom;
    }
    for (size_t r = 0; r < run->nsites; r++) {
        const rm_site *s = &run->sites[run->by_alloc[r]];
        int64_t values[4];
        for (int v = 0; v < 4; v++)
            values[v] = site_value(s, v);
        if (!values[0] && !values[1] && !values[2] && !values[3])
            continue;
        int n = s->nips;
        if ((size_t)(n + 1) > locs_cap) {
            locs_cap = (size_t)n + 16;
            locs = cli_xrealloc(locs, locs_cap * sizeof *locs);
        }
        if (n == 0) {
            if (!missing_loc) {
                missing_loc = pprof_add_location(b, 0, 0, "[stack missing from the database]", NULL, 0);
                if (!missing_loc)
                    goto oom;
            }
            locs[0] = missing_loc;
            n = 1;
        }
        for (int i = 0; i < s->nips; i++) {
            uint64_t ip = s->ips[i];
            size_t *p = cli_map_get(&loc_of, (int64_t)ip);
            if (p) {
                locs[i] = (uint64_t)*p;
                continue;
            }
            const rm_frame *f = rm_frame_of(run, ip);
            const rm_mapping *m = NULL;
            if (f && f->mapping_id != RM_NONE)
                m = mapping_by_id(run, f->mapping_id);
            if (!m)
                m = rm_mapping_of(run, ip);
            uint64_t mid = m ? map_ids[m - run->mappings] : 0;
            uint64_t id = pprof_add_location(b, ip, mid, f ? f->function : NULL,
                                             f ? f->file : NULL, f ? f->line : 0);
            if (!id)
                goto oom;
            cli_map_put(&loc_of, (int64_t)ip, (size_t)id);
            locs[i] = id;
        }
        if (pprof_add_sample(b, locs, n, values) < 0)
            goto oom;
    }
    char err[512];
    err[0] = 0;
    if (pprof_write(b, out ? out : "-", err, sizeof err) < 0) {
        const char *o = out && strcmp(out, "-") ? out : "<stdout>";
        if (strncmp(err, o, strlen(o)) == 0)
            cli_error(NULL, "%s", err);
        else
            cli_error(o, "%s", err[0] ? err : "write error");
        goto done;
    }
    rc = CLI_OK;
    goto done;
oom:
    cli_error(out && strcmp(out, "-") ? out : "<stdout>", "out of memory");
done:
    cli_map_free(&loc_of);
    free(locs);
    free(map_ids);
    pprof_free(b);
    return rc;
}

/* ---- folded ---- */

static void put_folded_name(FILE *o, const char *name)
{
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (c == ';')
            c = ':';
        else if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
        fputc(c, o);
    }
}

static int export_folded(const rm_run *run, FILE *o, int value)
{
    char nb[128];
    for (size_t r = 0; r < run->nsites; r++) {
        const rm_site *s = &run->sites[run->by_alloc[r]];
        int64_t v = site_value(s, value);
        if (v <= 0)
            continue;
        if (s->nips == 0) {
            fprintf(o, "[stack %lld missing]", (long long)s->stack_id);
        } else {
            for (int i = s->nips - 1; i >= 0; i--) {
                put_folded_name(o, rm_name(run, s->ips[i], nb, sizeof nb));
                if (i)
                    fputc(';', o);
            }
        }
        fprintf(o, " %lld\n", (long long)v);
    }
    return CLI_OK;
}

/* ---- csv ---- */

static void put_csv(FILE *o, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, o);
        return;
    }
    fputc('"', o);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', o);
        fputc(*s, o);
    }
    fputc('"', o);
}

static int export_csv(gcts_db *db, const rm_run *run, FILE *o)
{
    cli_map site_of;
    cli_map_init(&site_of);
    for (size_t i = 0; i < run->nsites; i++)
        cli_map_put(&site_of, run->sites[i].stack_id, i);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(gcts_sqlite(db),
                           "SELECT id, time_ns, address, size, weight, freed_ns, thread, stack_id "
                           "FROM samples ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
        cli_map_free(&site_of);
        return cli_db_error(db);
    }
    fputs("sample_id,time_ns,address,size,weight,freed_ns,thread,stack_id,function,file,line\n", o);
    char nb[128];
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t sid = sqlite3_column_int64(st, 7);
        fprintf(o, "%lld,%lld,0x%llx,%lld,%.9g,",
                (long long)sqlite3_column_int64(st, 0), (long long)sqlite3_column_int64(st, 1),
                (unsigned long long)sqlite3_column_int64(st, 2),
                (long long)sqlite3_column_int64(st, 3), sqlite3_column_double(st, 4));
        if (sqlite3_column_type(st, 5) != SQLITE_NULL)
            fprintf(o, "%lld", (long long)sqlite3_column_int64(st, 5));
        fputc(',', o);
        if (sqlite3_column_type(st, 6) != SQLITE_NULL)
            fprintf(o, "%lld", (long long)sqlite3_column_int64(st, 6));
        fprintf(o, ",%lld,", (long long)sid);
        size_t *p = cli_map_get(&site_of, sid);
        const rm_site *s = p ? &run->sites[*p] : NULL;
        if (s && s->nips > 0) {
            const rm_frame *f = rm_frame_of(run, s->ips[0]);
            put_csv(o, rm_name(run, s->ips[0], nb, sizeof nb));
            fputc(',', o);
            put_csv(o, f ? f->file : NULL);
            fprintf(o, ",%lld\n", (long long)(f ? f->line : 0));
        } else {
            fputs(",,0\n", o);
        }
    }
    sqlite3_finalize(st);
    cli_map_free(&site_of);
    if (rc != SQLITE_DONE)
        return cli_db_error(db);
    return CLI_OK;
}

int cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, 'o' },
        { "value", required_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *format = NULL, *out = NULL, *value_s = NULL;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hf:o:", opts, NULL)) != -1) {
        switch (c) {
        case 'f': format = optarg; break;
        case 'o': out = optarg; break;
        case 'v': value_s = optarg; break;
        case 'h': return cli_help("export");
        default: return cli_bad_option("export", c, argv);
        }
    }
    if (!format)
        return cli_usage("export", "missing --format pprof|folded|csv");
    if (strcmp(format, "pprof") && strcmp(format, "folded") && strcmp(format, "csv"))
        return cli_usage("export", "unknown format '%s' (pprof, folded or csv)", format);
    int value = V_ALLOC_SPACE;
    if (value_s) {
        if (strcmp(format, "folded"))
            return cli_usage("export", "--value applies to --format folded only");
        value = -1;
        for (int v = 0; v < 4; v++)
            if (!strcmp(value_s, value_names[v]))
                value = v;
        if (value < 0)
            return cli_usage("export", "unknown --value '%s' (alloc_space, alloc_objects, "
                                       "inuse_space or inuse_objects)", value_s);
    }
    if (optind >= argc)
        return cli_usage("export", "missing the run database");
    if (optind + 1 < argc)
        return cli_usage("export", "unexpected argument '%s'", argv[optind + 1]);
    const char *path = argv[optind];
    if (out && cli_same_file(out, path))
        return cli_usage("export", "the output '%s' is the run database", out);

    gcts_db *db = cli_open_db(path);
    if (!db)
        return CLI_FAIL;
    rm_run run;
    int rc;
    if (rm_load(db, &run) < 0) {
        rc = CLI_FAIL;
        goto done;
    }
    if (run.samples == 0)
        cli_error(path, "warning: no samples to export");
    if (!strcmp(format, "pprof")) {
        rc = export_pprof(&run, out);
    } else {
        FILE *o = cli_open_output(out, 0);
        if (!o) {
            rc = CLI_FAIL;
            goto done;
        }
        if (!strcmp(format, "folded"))
            rc = export_folded(&run, o, value);
        else
            rc = export_csv(db, &run, o);
        if (cli_close_output(o, out) < 0)
            rc = CLI_FAIL;
    }
done:
    rm_free(&run);
    gcts_close(db);
    return rc;
}
