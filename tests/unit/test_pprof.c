/* test_pprof.c - reports/pprof.c: the profile it writes, decoded back.
 *
 * Builds a heap profile (2 mappings, functions shared between locations,
 * an address-only location, the four heap sample types), writes it,
 * gunzips it with zlib and decodes it with the small protobuf reader below
 * (independent of the writer's encoder), then checks every field of every
 * message.  Also: writing to stdout ("-"), argument checks, and the error
 * paths of pprof_write (missing directory, a directory, /dev/full).
 *
 * Invariant: the reader accepts both packed and unpacked repeated scalars
 * and fails the test on any wire type or field it does not expect, so an
 * encoding slip shows up as a failure, not as a silently skipped field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "pprof.h"

/* ------------------------------------------------------------------------
 * Decoded profile. */

#define MAXN 64

typedef struct d_mapping {
    uint64_t id, start, limit, offset;
    int64_t filename, build_id;
    int has_functions, has_filenames, has_line_numbers, has_inline_frames;
} d_mapping;

typedef struct d_line {
    uint64_t function_id;
    int64_t line;
} d_line;

typedef struct d_location {
    uint64_t id, mapping_id, address;
    d_line lines[4];
    int nlines;
} d_location;

typedef struct d_function {
    uint64_t id;
    int64_t name, system_name, filename;
} d_function;

typedef struct d_sample {
    uint64_t locs[MAXN];
    int nlocs;
    int64_t values[MAXN];
    int nvalues;
} d_sample;

typedef struct d_profile {
    int64_t st_type[MAXN], st_unit[MAXN];
    int nst;
    d_sample samples[MAXN];
    int nsamples;
    d_mapping mappings[MAXN];
    int nmappings;
    d_location locations[MAXN];
    int nlocations;
    d_function functions[MAXN];
    int nfunctions;
    char *strings[MAXN * 4];
    int nstrings;
    int64_t time_nanos, duration_nanos, period;
    int has_period_type;
    int64_t pt_type, pt_unit;
} d_profile;

/* ------------------------------------------------------------------------
 * Protobuf reader. */

typedef struct rd {
    const uint8_t *p, *end;
} rd;

static uint64_t rd_varint(rd *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        assert_true(r->p < r->end);
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    fail_msg("varint longer than 10 bytes");
    return 0;
}

/* Reads a tag; returns 0 at the end of the message. */
static int rd_tag(rd *r, int *field, int *wt)
{
    if (r->p >= r->end)
        return 0;
    uint64_t t = rd_varint(r);
    *field = (int)(t >> 3);
    *wt = (int)(t & 7);
    assert_true(*field > 0);
    return 1;
}

static rd rd_sub(rd *r)
{
    uint64_t n = rd_varint(r);
    assert_true(n <= (uint64_t)(r->end - r->p));
    rd s = {r->p, r->p + n};
    r->p += n;
    return s;
}

/* A repeated scalar, packed (wire type 2) or not (0). */
static void rd_repeated(rd *r, int wt, uint64_t *out, int *n, int max)
{
    if (wt == 0) {
        assert_true(*n < max);
        out[(*n)++] = rd_varint(r);
        return;
    }
    assert_int_equal(wt, 2);
    rd s = rd_sub(r);
    while (s.p < s.end) {
        assert_true(*n < max);
        out[(*n)++] = rd_varint(&s);
    }
}

/* A message of varint fields numbered 1..nmax: each into v[field] (0 when
 * absent, v has nmax + 1 entries); another wire type or field fails the
 * test, naming the message (what). */
static void rd_varints(rd r, uint64_t *v, int nmax, const char *what)
{
    int f, wt;
    memset(v, 0, (size_t)(nmax + 1) * sizeof *v);
    while (rd_tag(&r, &f, &wt)) {
        assert_int_equal(wt, 0);
        if (f > nmax)
            fail_msg("%s: unexpected field %d", what, f);
        v[f] = rd_varint(&r);
    }
}

static void rd_value_type(rd r, int64_t *type, int64_t *unit)
{
    uint64_t v[3];
    rd_varints(r, v, 2, "ValueType");
    *type = (int64_t)v[1];
    *unit = (int64_t)v[2];
}

static void decode(const uint8_t *buf, size_t len, d_profile *d)
{
    memset(d, 0, sizeof *d);
    rd r = {buf, buf + len};
    int f, wt;
    while (rd_tag(&r, &f, &wt)) {
        switch (f) {
        case 1: {
            assert_int_equal(wt, 2);
            assert_true(d->nst < MAXN);
            rd_value_type(rd_sub(&r), &d->st_type[d->nst], &d->st_unit[d->nst]);
            d->nst++;
            break;
        }
        case 2: {
            assert_int_equal(wt, 2);
            assert_true(d->nsamples < MAXN);
            d_sample *s = &d->samples[d->nsamples++];
            rd m = rd_sub(&r);
            int g, w;
            while (rd_tag(&m, &g, &w)) {
                if (g == 1) {
                    rd_repeated(&m, w, s->locs, &s->nlocs, MAXN);
                } else if (g == 2) {
                    uint64_t v[MAXN];
                    int n = 0;
                    rd_repeated(&m, w, v, &n, MAXN);
                    for (int i = 0; i < n; i++)
                        s->values[s->nvalues++] = (int64_t)v[i];
                } else {
                    fail_msg("Sample: unexpected field %d", g);
                }
            }
            break;
        }
        case 3: {
            assert_int_equal(wt, 2);
            assert_true(d->nmappings < MAXN);
            uint64_t v[11];
            rd_varints(rd_sub(&r), v, 10, "Mapping");
            d->mappings[d->nmappings++] = (d_mapping){
                v[1], v[2], v[3], v[4], (int64_t)v[5], (int64_t)v[6],
                (int)v[7], (int)v[8], (int)v[9], (int)v[10],
            };
            break;
        }
        case 4: {
            assert_int_equal(wt, 2);
            assert_true(d->nlocations < MAXN);
            d_location *l = &d->locations[d->nlocations++];
            rd m = rd_sub(&r);
            int g, w;
            while (rd_tag(&m, &g, &w)) {
                if (g == 4) {
                    assert_int_equal(w, 2);
                    assert_true(l->nlines < 4);
                    uint64_t v[3];
                    rd_varints(rd_sub(&m), v, 2, "Line");
                    l->lines[l->nlines++] = (d_line){ v[1], (int64_t)v[2] };
                    continue;
                }
                assert_int_equal(w, 0);
                uint64_t v = rd_varint(&m);
                switch (g) {
                case 1: l->id = v; break;
                case 2: l->mapping_id = v; break;
                case 3: l->address = v; break;
                default: fail_msg("Location: unexpected field %d", g);
                }
            }
            break;
        }
        case 5: {
            assert_int_equal(wt, 2);
            assert_true(d->nfunctions < MAXN);
            uint64_t v[5];
            rd_varints(rd_sub(&r), v, 4, "Function");
            d->functions[d->nfunctions++] =
                (d_function){ v[1], (int64_t)v[2], (int64_t)v[3], (int64_t)v[4] };
            break;
        }
        case 6: {
            assert_int_equal(wt, 2);
            assert_true(d->nstrings < MAXN * 4);
            rd m = rd_sub(&r);
            size_t n = (size_t)(m.end - m.p);
            char *s = malloc(n + 1);
            assert_non_null(s);
            memcpy(s, m.p, n);
            s[n] = '\0';
            assert_int_equal(strlen(s), n);   /* no NUL inside */
            d->strings[d->nstrings++] = s;
            break;
        }
        case 9: assert_int_equal(wt, 0); d->time_nanos = (int64_t)rd_varint(&r); break;
        case 10: assert_int_equal(wt, 0); d->duration_nanos = (int64_t)rd_varint(&r); break;
        case 11:
            assert_int_equal(wt, 2);
            d->has_period_type = 1;
            rd_value_type(rd_sub(&r), &d->pt_type, &d->pt_unit);
            break;
        case 12: assert_int_equal(wt, 0); d->period = (int64_t)rd_varint(&r); break;
        default:
            fail_msg("Profile: unexpected field %d (wire type %d)", f, wt);
        }
    }
}

static void d_free(d_profile *d)
{
    for (int i = 0; i < d->nstrings; i++)
        free(d->strings[i]);
}

static const char *str(const d_profile *d, int64_t i)
{
    assert_true(i >= 0 && i < d->nstrings);
    return d->strings[i];
}

/* ------------------------------------------------------------------------
 * Files. */

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    assert_int_equal(ferror(f), 0);
    fclose(f);
    *len = n;
    return buf;
}

/* Gunzips a whole file (exactly one gzip member, nothing after it). */
static uint8_t *gunzip_file(const char *path, size_t *outlen)
{
    size_t zlen;
    uint8_t *z = read_file(path, &zlen);
    assert_true(zlen > 18);
    assert_int_equal(z[0], 0x1f);
    assert_int_equal(z[1], 0x8b);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(inflateInit2(&zs, 31), Z_OK);
    size_t cap = 1 << 16;
    uint8_t *out = malloc(cap);
    assert_non_null(out);
    zs.next_in = z;
    zs.avail_in = (uInt)zlen;
    int rc;
    do {
        if (zs.total_out == cap) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
        zs.next_out = out + zs.total_out;
        zs.avail_out = (uInt)(cap - zs.total_out);
        rc = inflate(&zs, Z_NO_FLUSH);
        assert_true(rc == Z_OK || rc == Z_STREAM_END);
    } while (rc != Z_STREAM_END);
    assert_int_equal(zs.avail_in, 0);
    *outlen = zs.total_out;
    inflateEnd(&zs);
    free(z);
    return out;
}

static char *temp_path(void)
{
    const char *dir = getenv("TMPDIR");
    char *p = malloc(4096);
    assert_non_null(p);
    snprintf(p, 4096, "%s/test_pprof.XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(p);
    assert_true(fd >= 0);
    close(fd);
    return p;
}

/* ------------------------------------------------------------------------
 * The profile under test. */

static const pprof_sample_type heap_types[4] = {
    {"alloc_objects", "count"},
    {"alloc_space", "bytes"},
    {"inuse_objects", "count"},
    {"inuse_space", "bytes"},
};
static const pprof_sample_type period_type = {"space", "bytes"};

#define T_NANOS INT64_C(1700000000123456789)
#define D_NANOS INT64_C(2500000000)
#define PERIOD INT64_C(524288)

struct want_loc {
    uint64_t address, mapping;
    const char *function, *file;
    int64_t line;
};
static const struct want_loc want_locs[] = {
    {0x401000, 1, "main", "app.c", 10},
    {0x401100, 1, "alloc_node", "app.c", 42},
    {0x401200, 1, "alloc_node", "app.c", 43},        /* same function as 2 */
    {0x7f0000001234, 2, "malloc", NULL, 0},           /* no file, no line */
    {0x7f0000005678, 2, NULL, NULL, 0},               /* address only */
    {0x401300, 0, "main", "other.c", 5},              /* no mapping; other file */
};
#define NLOCS 6

struct want_sample {
    uint64_t locs[4];
    int nlocs;
    int64_t values[4];
};
static const struct want_sample want_samples[] = {
    {{2, 1}, 2, {1, 1024, 1, 1024}},
    {{3, 1}, 2, {10, 4096, 2, 512}},
    {{4, 2, 1}, 3, {100, INT64_C(1) << 20, 0, 0}},
    {{5, 6}, 2, {7, INT64_C(7) << 40, -1, INT64_MIN}},   /* large and negative int64 */
    {{0}, 0, {1, 2, 3, 4}},                               /* no locations */
};
#define NSAMPLES 5

static pprof_builder *build_profile(void)
{
    pprof_builder *b = pprof_new(heap_types, 4, &period_type, PERIOD, T_NANOS, D_NANOS);
    assert_non_null(b);
    assert_int_equal(pprof_add_mapping(b, 0x400000, 0x500000, 0, "/usr/bin/app", "abc123"), 1);
    assert_int_equal(pprof_add_mapping(b, 0x7f0000000000, 0x7f0000100000, 0x1000, "/lib/libc.so.6", NULL), 2);
    for (int i = 0; i < NLOCS; i++) {
        const struct want_loc *w = &want_locs[i];
        assert_int_equal(pprof_add_location(b, w->address, w->mapping, w->function, w->file, w->line),
                         (uint64_t)i + 1);
    }
    for (int i = 0; i < NSAMPLES; i++)
        assert_int_equal(pprof_add_sample(b, want_samples[i].locs, want_samples[i].nlocs, want_samples[i].values),
                         0);
    return b;
}

static void check_profile(const d_profile *d)
{
    /* string table: [0] is "", no duplicates */
    assert_true(d->nstrings >= 1);
    assert_string_equal(d->strings[0], "");
    for (int i = 0; i < d->nstrings; i++)
        for (int j = i + 1; j < d->nstrings; j++)
            assert_string_not_equal(d->strings[i], d->strings[j]);

    assert_int_equal(d->nst, 4);
    for (int i = 0; i < 4; i++) {
        assert_string_equal(str(d, d->st_type[i]), heap_types[i].type);
        assert_string_equal(str(d, d->st_unit[i]), heap_types[i].unit);
    }
    assert_true(d->has_period_type);
    assert_string_equal(str(d, d->pt_type), "space");
    assert_string_equal(str(d, d->pt_unit), "bytes");
    assert_int_equal(d->period, PERIOD);
    assert_int_equal(d->time_nanos, T_NANOS);
    assert_int_equal(d->duration_nanos, D_NANOS);

    /* mappings */
    assert_int_equal(d->nmappings, 2);
    const d_mapping *m1 = &d->mappings[0], *m2 = &d->mappings[1];
    assert_int_equal(m1->id, 1);
    assert_int_equal(m1->start, 0x400000);
    assert_int_equal(m1->limit, 0x500000);
    assert_int_equal(m1->offset, 0);
    assert_string_equal(str(d, m1->filename), "/usr/bin/app");
    assert_string_equal(str(d, m1->build_id), "abc123");
    assert_int_equal(m1->has_functions, 1);
    assert_int_equal(m1->has_filenames, 1);
    assert_int_equal(m1->has_line_numbers, 1);
    assert_int_equal(m1->has_inline_frames, 0);
    assert_int_equal(m2->id, 2);
    assert_int_equal(m2->start, 0x7f0000000000);
    assert_int_equal(m2->limit, 0x7f0000100000);
    assert_int_equal(m2->offset, 0x1000);
    assert_string_equal(str(d, m2->filename), "/lib/libc.so.6");
    assert_string_equal(str(d, m2->build_id), "");
    assert_int_equal(m2->has_functions, 1);      /* malloc */
    assert_int_equal(m2->has_filenames, 0);
    assert_int_equal(m2->has_line_numbers, 0);

    /* functions: deduplicated by (name, file), ids 1..n in order */
    assert_int_equal(d->nfunctions, 4);
    static const char *const fn_names[] = {"main", "alloc_node", "malloc", "main"};
    static const char *const fn_files[] = {"app.c", "app.c", "", "other.c"};
    for (int i = 0; i < d->nfunctions; i++) {
        assert_int_equal(d->functions[i].id, (uint64_t)i + 1);
        assert_string_equal(str(d, d->functions[i].name), fn_names[i]);
        assert_string_equal(str(d, d->functions[i].system_name), fn_names[i]);
        assert_string_equal(str(d, d->functions[i].filename), fn_files[i]);
    }

    /* locations */
    assert_int_equal(d->nlocations, NLOCS);
    for (int i = 0; i < NLOCS; i++) {
        const d_location *l = &d->locations[i];
        const struct want_loc *w = &want_locs[i];
        assert_int_equal(l->id, (uint64_t)i + 1);
        assert_int_equal(l->mapping_id, w->mapping);
        assert_int_equal(l->address, w->address);
        if (!w->function && !w->file) {
            assert_int_equal(l->nlines, 0);
            continue;
        }
        assert_int_equal(l->nlines, 1);
        assert_int_equal(l->lines[0].line, w->line);
        uint64_t fid = l->lines[0].function_id;
        assert_true(fid >= 1 && fid <= (uint64_t)d->nfunctions);
        const d_function *fn = &d->functions[fid - 1];
        assert_string_equal(str(d, fn->name), w->function ? w->function : "");
        assert_string_equal(str(d, fn->filename), w->file ? w->file : "");
    }
    assert_int_equal(d->locations[1].lines[0].function_id, d->locations[2].lines[0].function_id);
    assert_int_not_equal(d->locations[0].lines[0].function_id, d->locations[5].lines[0].function_id);

    /* samples */
    assert_int_equal(d->nsamples, NSAMPLES);
    for (int i = 0; i < NSAMPLES; i++) {
        const d_sample *s = &d->samples[i];
        const struct want_sample *w = &want_samples[i];
        assert_int_equal(s->nlocs, w->nlocs);
        for (int j = 0; j < w->nlocs; j++)
            assert_int_equal(s->locs[j], w->locs[j]);
        assert_int_equal(s->nvalues, 4);
        for (int j = 0; j < 4; j++)
            assert_true(s->values[j] == w->values[j]);
    }
}

static void test_pprof_roundtrip(void **state)
{
    (void)state;
    pprof_builder *b = build_profile();
    char *path = temp_path();
    char err[256] = "untouched";
    assert_int_equal(pprof_write(b, path, err, sizeof err), 0);
    assert_string_equal(err, "");

    size_t len;
    uint8_t *raw = gunzip_file(path, &len);
    d_profile *d = malloc(sizeof *d);
    assert_non_null(d);
    decode(raw, len, d);
    check_profile(d);

    /* Writing again gives the same bytes (no timestamps in the gzip header). */
    size_t len1, len2;
    uint8_t *z1 = read_file(path, &len1);
    assert_int_equal(pprof_write(b, path, err, sizeof err), 0);
    uint8_t *z2 = read_file(path, &len2);
    assert_int_equal(len1, len2);
    assert_memory_equal(z1, z2, len1);

    free(z1);
    free(z2);
    d_free(d);
    free(d);
    free(raw);
    unlink(path);
    free(path);
    pprof_free(b);
}

static void test_pprof_stdout(void **state)
{
    (void)state;
    pprof_builder *b = build_profile();
    char *path = temp_path();
    int fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    fflush(stdout);
    int saved = dup(1);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fd, 1), 1);
    close(fd);
    char err[256];
    int rc = pprof_write(b, "-", err, sizeof err);
    fflush(stdout);
    assert_int_equal(dup2(saved, 1), 1);
    close(saved);
    assert_int_equal(rc, 0);

    size_t len;
    uint8_t *raw = gunzip_file(path, &len);
    d_profile *d = malloc(sizeof *d);
    assert_non_null(d);
    decode(raw, len, d);
    check_profile(d);
    d_free(d);
    free(d);
    free(raw);
    unlink(path);
    free(path);
    pprof_free(b);
}

static void test_pprof_empty(void **state)
{
    (void)state;
    /* No types, no period type, nothing added: string_table [""] only. */
    pprof_builder *b = pprof_new(NULL, 0, NULL, 0, 0, 0);
    assert_non_null(b);
    char *path = temp_path();
    char err[256];
    assert_int_equal(pprof_write(b, path, err, sizeof err), 0);
    size_t len;
    uint8_t *raw = gunzip_file(path, &len);
    assert_int_equal(len, 2);            /* field 6, length 0 */
    assert_int_equal(raw[0], (6 << 3) | 2);
    assert_int_equal(raw[1], 0);
    free(raw);
    unlink(path);
    free(path);
    pprof_free(b);
}

static void test_pprof_bad_arguments(void **state)
{
    (void)state;
    assert_null(pprof_new(heap_types, 9, NULL, 0, 0, 0));
    assert_null(pprof_new(heap_types, -1, NULL, 0, 0, 0));
    assert_null(pprof_new(NULL, 2, NULL, 0, 0, 0));
    pprof_builder *b = pprof_new(heap_types, 4, NULL, 0, 0, 0);
    assert_non_null(b);
    /* a location in a mapping that does not exist */
    assert_int_equal(pprof_add_location(b, 0x10, 1, "f", "f.c", 1), 0);
    assert_int_equal(pprof_add_mapping(b, 0, 0x1000, 0, "x", NULL), 1);
    assert_int_equal(pprof_add_location(b, 0x10, 1, "f", "f.c", 1), 1);
    int64_t v[4] = {1, 2, 3, 4};
    uint64_t bad0[] = {0}, bad2[] = {1, 2}, good[] = {1};
    assert_int_equal(pprof_add_sample(b, bad0, 1, v), -1);
    assert_int_equal(pprof_add_sample(b, bad2, 2, v), -1);
    assert_int_equal(pprof_add_sample(b, good, -1, v), -1);
    assert_int_equal(pprof_add_sample(b, NULL, 1, v), -1);
    assert_int_equal(pprof_add_sample(b, good, 1, NULL), -1);
    assert_int_equal(pprof_add_sample(b, good, 1, v), 0);
    pprof_free(b);
    pprof_free(NULL);
}

/* Many strings and functions: the interning tables rehash. */
static void test_pprof_many(void **state)
{
    (void)state;
    pprof_builder *b = pprof_new(heap_types, 4, &period_type, PERIOD, 0, 0);
    assert_non_null(b);
    uint64_t m = pprof_add_mapping(b, 0, UINT64_MAX, 0, "big", NULL);
    char name[64];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "fn_%d", i % 2500);
        uint64_t id = pprof_add_location(b, (uint64_t)i * 16, m, name, (i % 2) ? "a.c" : "b.c", i);
        assert_int_equal(id, (uint64_t)i + 1);
        int64_t v[4] = {i, i, i, i};
        assert_int_equal(pprof_add_sample(b, &id, 1, v), 0);
    }
    char *path = temp_path();
    char err[256];
    assert_int_equal(pprof_write(b, path, err, sizeof err), 0);
    size_t len;
    uint8_t *raw = gunzip_file(path, &len);
    /* Count top-level messages without the fixed-size decoder. */
    rd r = {raw, raw + len};
    int f, wt, nfn = 0, nloc = 0, nstr = 0;
    while (rd_tag(&r, &f, &wt)) {
        if (wt == 2) {
            (void)rd_sub(&r);
            nfn += f == 5;
            nloc += f == 4;
            nstr += f == 6;
        } else {
            (void)rd_varint(&r);
        }
    }
    /* fn_i with b.c (even i) and a.c (odd i): 2500 names, each with one
     * file since i % 2500 keeps the parity of i. */
    assert_int_equal(nfn, 2500);
    assert_int_equal(nloc, 5000);
    /* "", 4 types + 2 units, "space" (bytes shared), "big", 2500 names, 2 files */
    assert_int_equal(nstr, 1 + 6 + 1 + 1 + 2500 + 2);
    free(raw);
    unlink(path);
    free(path);
    pprof_free(b);
}

static void test_pprof_write_errors(void **state)
{
    (void)state;
    pprof_builder *b = build_profile();
    char err[512];

    const char *missing = "/nonexistent-gctune-dir/sub/profile.pb.gz";
    strcpy(err, "x");
    assert_int_equal(pprof_write(b, missing, err, sizeof err), -1);
    assert_non_null(strstr(err, missing));
    assert_non_null(strstr(err, strerror(ENOENT)));
    assert_null(strchr(err, '\n'));

    /* a directory */
    const char *dir = "/";
    assert_int_equal(pprof_write(b, dir, err, sizeof err), -1);
    assert_true(strncmp(err, "/: ", 3) == 0);

    /* the device is full: fails at write or close, and /dev/full is left alone */
    if (access("/dev/full", W_OK) == 0) {
        assert_int_equal(pprof_write(b, "/dev/full", err, sizeof err), -1);
        assert_non_null(strstr(err, "/dev/full"));
        assert_non_null(strstr(err, strerror(ENOSPC)));
        assert_int_equal(access("/dev/full", F_OK), 0);
    }

    /* a short err buffer is truncated and NUL-terminated; none is fine */
    char small[8];
    memset(small, 'z', sizeof small);
    assert_int_equal(pprof_write(b, missing, small, sizeof small), -1);
    assert_int_equal(small[7], '\0');
    assert_int_equal(pprof_write(b, missing, NULL, 0), -1);
    assert_int_equal(pprof_write(NULL, missing, err, sizeof err), -1);
    pprof_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pprof_roundtrip),
        cmocka_unit_test(test_pprof_stdout),
        cmocka_unit_test(test_pprof_empty),
        cmocka_unit_test(test_pprof_bad_arguments),
        cmocka_unit_test(test_pprof_many),
        cmocka_unit_test(test_pprof_write_errors),
    };
    return cmocka_run_group_tests_name("pprof", tests, NULL, NULL);
}
