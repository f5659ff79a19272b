/* reports/pprof.c - the pprof.h writer: a gzipped profile.proto
 * (github.com/google/pprof/proto/profile.proto) built in memory and written
 * with zlib's gzip (deflateInit2, windowBits 31).
 *
 * Owns: the builder's tables and the protobuf encoding.  Nothing here is
 * shared with the rest of gctune; no global state.
 *
 * Invariants:
 *   - strings[0] is "" (profile.proto requires string_table[0] == ""), and
 *     every string is interned once: its index never changes.  The builder
 *     keeps its own copies of every string it is given.
 *   - mapping, function and location ids are their index + 1 in their
 *     arrays (so ids are dense, 1-based and stable).  Functions are unique
 *     by (name, file) string indices.
 *   - a sample's location ids all name existing locations (checked by
 *     pprof_add_sample), and it has exactly ntypes values.
 *   - a location gets one Line when it has a function or a file (a NULL
 *     function is then the empty name); otherwise it is address-only.
 *   - a mapping says has_functions / has_filenames / has_line_numbers when
 *     any of its locations has a function name / a file / a line != 0, so
 *     pprof does not try to symbolize it again.
 *   - bad arguments fail the way out of memory does (NULL / 0 / -1) and
 *     add nothing: pprof_new with ntypes outside 0..8, a location in a
 *     mapping id not yet returned, a sample naming a location id not yet
 *     returned (or nlocs < 0, or NULL values with ntypes > 0).
 *   - pprof_write leaves no partial file behind: a regular file it fails
 *     to write completely is removed (devices and pipes are left alone).
 *   - on out of memory a call fails and adds no mapping, location or
 *     sample (arrays grow before anything is appended; at worst a string
 *     stays interned, unused).
 *
 * Wire format notes: Profile fields 1 sample_type, 2 sample, 3 mapping,
 * 4 location, 5 function, 6 string_table, 9 time_nanos, 10 duration_nanos,
 * 11 period_type, 12 period; ValueType 1 type, 2 unit; Sample 1 location_id
 * (packed), 2 value (packed); Mapping 1 id, 2 memory_start, 3 memory_limit,
 * 4 file_offset, 5 filename, 6 build_id, 7 has_functions, 8 has_filenames,
 * 9 has_line_numbers; Location 1 id, 2 mapping_id, 3 address, 4 line;
 * Line 1 function_id, 2 line; Function 1 id, 2 name, 3 system_name,
 * 4 filename.  Zero scalars are omitted (proto3 defaults); int64 values
 * are encoded as two's complement varints, as protobuf's int64 is.
 */
#include "pprof.h"
#include "fnv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define PPROF_MAX_TYPES 8

typedef struct pp_mapping {
    uint64_t start, limit, offset;
    int64_t filename, build_id;       /* string indices */
} pp_mapping;

typedef struct pp_function {
    int64_t name, filename;           /* string indices */
} pp_function;

typedef struct pp_location {
    uint64_t address, mapping_id, function_id;   /* function_id 0: no line */
    int64_t line;
} pp_location;

typedef struct pp_sample {
    size_t loc_off;                   /* into b->sample_locs */
    int nlocs;
} pp_sample;

struct pprof_builder {
    int ntypes;
    int64_t type_str[PPROF_MAX_TYPES], unit_str[PPROF_MAX_TYPES];
    int has_period_type;
    int64_t period_type_str, period_unit_str;
    int64_t period, time_nanos, duration_nanos;

    /* string table + open-addressing index (slots hold index + 1) */
    char **strings;
    size_t nstrings, cap_strings;
    uint32_t *str_slots;
    size_t str_nslots;                /* power of two */

    pp_mapping *mappings;
    size_t nmappings, cap_mappings;

    pp_function *functions;
    size_t nfunctions, cap_functions;
    uint32_t *fn_slots;               /* function index + 1 */
    size_t fn_nslots;

    pp_location *locations;
    size_t nlocations, cap_locations;

    pp_sample *samples;
    size_t nsamples, cap_samples;
    uint64_t *sample_locs;
    size_t nsample_locs, cap_sample_locs;
    int64_t *sample_values;           /* nsamples * ntypes */
    size_t cap_sample_values;
};

/* ------------------------------------------------------------------------
 * Growable arrays and hashing. */

/* Makes room for `need` elements of size `elem`; 0 or -1 (out of memory). */
static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return -1;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / elem)
        return -1;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

static uint64_t hash_bytes(const char *s, size_t n)
{
    return gct_fnv1a(s, n);
}

static uint64_t hash_pair(int64_t a, int64_t b)
{
    uint64_t h = (uint64_t)a * 0x9E3779B97F4A7C15ULL ^ ((uint64_t)b + 0x632BE59BD9B4E019ULL);
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 32;
    return h;
}

/* Rebuilds the string index with nslots slots. */
static int str_rehash(pprof_builder *b, size_t nslots)
{
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < b->nstrings; i++) {
        size_t j = (size_t)hash_bytes(b->strings[i], strlen(b->strings[i])) & (nslots - 1);
        while (slots[j])
            j = (j + 1) & (nslots - 1);
        slots[j] = (uint32_t)(i + 1);
    }
    free(b->str_slots);
    b->str_slots = slots;
    b->str_nslots = nslots;
    return 0;
}

/* Index of s in the string table, adding it if new; NULL is "" (0).
 * Returns -1 on out of memory. */
static int64_t intern(pprof_builder *b, const char *s)
{
    if (!s || !*s)
        return 0;
    size_t n = strlen(s);
    uint64_t h = hash_bytes(s, n);
    size_t j = (size_t)h & (b->str_nslots - 1);
    while (b->str_slots[j]) {
        const char *t = b->strings[b->str_slots[j] - 1];
        if (strcmp(t, s) == 0)
            return (int64_t)(b->str_slots[j] - 1);
        j = (j + 1) & (b->str_nslots - 1);
    }
    if (b->nstrings >= UINT32_MAX - 1)
        return -1;
    if ((b->nstrings + 1) * 2 > b->str_nslots) {
        if (b->str_nslots > SIZE_MAX / 2 / sizeof(uint32_t) || str_rehash(b, b->str_nslots * 2) < 0)
            return -1;
        j = (size_t)h & (b->str_nslots - 1);
        while (b->str_slots[j])
            j = (j + 1) & (b->str_nslots - 1);
    }
    if (grow((void **)&b->strings, &b->cap_strings, b->nstrings + 1, sizeof *b->strings) < 0)
        return -1;
    char *copy = malloc(n + 1);
    if (!copy)
        return -1;
    memcpy(copy, s, n + 1);
    b->strings[b->nstrings] = copy;
    b->str_slots[j] = (uint32_t)(b->nstrings + 1);
    return (int64_t)b->nstrings++;
}

static int fn_rehash(pprof_builder *b, size_t nslots)
{
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < b->nfunctions; i++) {
        size_t j = (size_t)hash_pair(b->functions[i].name, b->functions[i].filename) & (nslots - 1);
        while (slots[j])
            j = (j + 1) & (nslots - 1);
        slots[j] = (uint32_t)(i + 1);
    }
    free(b->fn_slots);
    b->fn_slots = slots;
    b->fn_nslots = nslots;
    return 0;
}

/* Function id (>= 1) of (name, file), adding it if new; 0 on out of memory. */
static uint64_t function_id(pprof_builder *b, int64_t name, int64_t file)
{
    uint64_t h = hash_pair(name, file);
    size_t j = (size_t)h & (b->fn_nslots - 1);
    while (b->fn_slots[j]) {
        const pp_function *f = &b->functions[b->fn_slots[j] - 1];
        if (f->name == name && f->filename == file)
            return b->fn_slots[j];
        j = (j + 1) & (b->fn_nslots - 1);
    }
    if (b->nfunctions >= UINT32_MAX - 1)
        return 0;
    if ((b->nfunctions + 1) * 2 > b->fn_nslots) {
        if (b->fn_nslots > SIZE_MAX / 2 / sizeof(uint32_t) || fn_rehash(b, b->fn_nslots * 2) < 0)
            return 0;
        j = (size_t)h & (b->fn_nslots - 1);
        while (b->fn_slots[j])
            j = (j + 1) & (b->fn_nslots - 1);
    }
    if (grow((void **)&b->functions, &b->cap_functions, b->nfunctions + 1, sizeof *b->functions) < 0)
        return 0;
    b->functions[b->nfunctions].name = name;
    b->functions[b->nfunctions].filename = file;
    b->fn_slots[j] = (uint32_t)(b->nfunctions + 1);
    return ++b->nfunctions;
}

/* ------------------------------------------------------------------------
 * Builder API. */

pprof_builder *pprof_new(const pprof_sample_type *types, int ntypes,
                         const pprof_sample_type *period_type, int64_t period,
                         int64_t time_nanos, int64_t duration_nanos)
{
    if (ntypes < 0 || ntypes > PPROF_MAX_TYPES || (ntypes > 0 && !types))
        return NULL;
    pprof_builder *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->str_nslots = 64;
    b->str_slots = calloc(b->str_nslots, sizeof *b->str_slots);
    b->fn_nslots = 64;
    b->fn_slots = calloc(b->fn_nslots, sizeof *b->fn_slots);
    if (!b->str_slots || !b->fn_slots)
        goto oom;
    /* string_table[0] = "" */
    if (grow((void **)&b->strings, &b->cap_strings, 1, sizeof *b->strings) < 0)
        goto oom;
    b->strings[0] = calloc(1, 1);
    if (!b->strings[0])
        goto oom;
    b->nstrings = 1;
    if (str_rehash(b, b->str_nslots) < 0)
        goto oom;

    b->ntypes = ntypes;
    for (int i = 0; i < ntypes; i++) {
        b->type_str[i] = intern(b, types[i].type);
        b->unit_str[i] = intern(b, types[i].unit);
        if (b->type_str[i] < 0 || b->unit_str[i] < 0)
            goto oom;
    }
    if (period_type) {
        b->has_period_type = 1;
        b->period_type_str = intern(b, period_type->type);
        b->period_unit_str = intern(b, period_type->unit);
        if (b->period_type_str < 0 || b->period_unit_str < 0)
            goto oom;
    }
    b->period = period;
    b->time_nanos = time_nanos;
    b->duration_nanos = duration_nanos;
    return b;
oom:
    pprof_free(b);
    return NULL;
}

uint64_t pprof_add_mapping(pprof_builder *b, uint64_t start, uint64_t limit,
                           uint64_t file_offset, const char *filename,
                           const char *build_id)
{
    if (!b)
        return 0;
    if (grow((void **)&b->mappings, &b->cap_mappings, b->nmappings + 1, sizeof *b->mappings) < 0)
        return 0;
    int64_t fs = intern(b, filename), bs = intern(b, build_id);
    if (fs < 0 || bs < 0)
        return 0;
    pp_mapping *m = &b->mappings[b->nmappings];
    m->start = start;
    m->limit = limit;
    m->offset = file_offset;
    m->filename = fs;
    m->build_id = bs;
    return ++b->nmappings;
}

uint64_t pprof_add_location(pprof_builder *b, uint64_t address,
                            uint64_t mapping_id, const char *function,
                            const char *file, int64_t line)
{
    if (!b || mapping_id > b->nmappings)
        return 0;
    if (grow((void **)&b->locations, &b->cap_locations, b->nlocations + 1, sizeof *b->locations) < 0)
        return 0;
    uint64_t fid = 0;
    if (function || file) {
        int64_t ns = intern(b, function), fs = intern(b, file);
        if (ns < 0 || fs < 0)
            return 0;
        fid = function_id(b, ns, fs);
        if (fid == 0)
            return 0;
    }
    pp_location *l = &b->locations[b->nlocations];
    l->address = address;
    l->mapping_id = mapping_id;
    l->function_id = fid;
    l->line = fid ? line : 0;
    return ++b->nlocations;
}

int pprof_add_sample(pprof_builder *b, const uint64_t *location_ids, int nlocs,
                     const int64_t *values)
{
    if (!b || nlocs < 0 || (nlocs > 0 && !location_ids) || (b->ntypes > 0 && !values))
        return -1;
    for (int i = 0; i < nlocs; i++)
        if (location_ids[i] == 0 || location_ids[i] > b->nlocations)
            return -1;
    if (grow((void **)&b->samples, &b->cap_samples, b->nsamples + 1, sizeof *b->samples) < 0 ||
        grow((void **)&b->sample_locs, &b->cap_sample_locs, b->nsample_locs + (size_t)nlocs,
             sizeof *b->sample_locs) < 0 ||
        grow((void **)&b->sample_values, &b->cap_sample_values, (b->nsamples + 1) * (size_t)b->ntypes,
             sizeof *b->sample_values) < 0)
        return -1;
    pp_sample *s = &b->samples[b->nsamples];
    s->loc_off = b->nsample_locs;
    s->nlocs = nlocs;
    if (nlocs > 0)
        memcpy(b->sample_locs + b->nsample_locs, location_ids, (size_t)nlocs * sizeof *location_ids);
    b->nsample_locs += (size_t)nlocs;
    if (b->ntypes > 0)
        memcpy(b->sample_values + b->nsamples * (size_t)b->ntypes, values,
               (size_t)b->ntypes * sizeof *values);
    b->nsamples++;
    return 0;
}

void pprof_free(pprof_builder *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->nstrings; i++)
        free(b->strings[i]);
    free(b->strings);
    free(b->str_slots);
    free(b->mappings);
    free(b->functions);
    free(b->fn_slots);
    free(b->locations);
    free(b->samples);
    free(b->sample_locs);
    free(b->sample_values);
    free(b);
}

/* ------------------------------------------------------------------------
 * Protobuf encoding.  A pb_buf records out of memory in `oom` and ignores
 * further appends, so encoders check once at the end. */

typedef struct pb_buf {
    uint8_t *p;
    size_t len, cap;
    int oom;
} pb_buf;

enum { WT_VARINT = 0, WT_LEN = 2 };

static void pb_append(pb_buf *b, const void *data, size_t n)
{
    if (b->oom)
        return;
    if (n > SIZE_MAX - b->len || grow((void **)&b->p, &b->cap, b->len + n, 1) < 0) {
        b->oom = 1;
        return;
    }
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
}

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static void pb_varint(pb_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    pb_append(b, tmp, n);
}

static void pb_tag(pb_buf *b, int field, int wt)
{
    pb_varint(b, ((uint64_t)field << 3) | (uint64_t)wt);
}

/* An optional scalar: omitted when zero. */
static void pb_uint(pb_buf *b, int field, uint64_t v)
{
    if (v == 0)
        return;
    pb_tag(b, field, WT_VARINT);
    pb_varint(b, v);
}

static void pb_int(pb_buf *b, int field, int64_t v)
{
    pb_uint(b, field, (uint64_t)v);
}

static void pb_bytes(pb_buf *b, int field, const void *data, size_t n)
{
    pb_tag(b, field, WT_LEN);
    pb_varint(b, n);
    pb_append(b, data, n);
}

/* A length-delimited submessage from the content of m. */
static void pb_message(pb_buf *b, int field, const pb_buf *m)
{
    if (m->oom) {
        b->oom = 1;
        return;
    }
    pb_bytes(b, field, m->p, m->len);
}

static void pb_packed_u64(pb_buf *b, int field, const uint64_t *v, size_t n)
{
    if (n == 0)
        return;
    size_t size = 0;
    for (size_t i = 0; i < n; i++)
        size += varint_size(v[i]);
    pb_tag(b, field, WT_LEN);
    pb_varint(b, size);
    for (size_t i = 0; i < n; i++)
        pb_varint(b, v[i]);
}

static void pb_packed_i64(pb_buf *b, int field, const int64_t *v, size_t n)
{
    if (n == 0)
        return;
    size_t size = 0;
    for (size_t i = 0; i < n; i++)
        size += varint_size((uint64_t)v[i]);
    pb_tag(b, field, WT_LEN);
    pb_varint(b, size);
    for (size_t i = 0; i < n; i++)
        pb_varint(b, (uint64_t)v[i]);
}

static void encode_value_type(pb_buf *out, pb_buf *m, int field, int64_t type, int64_t unit)
{
    m->len = 0;
    pb_int(m, 1, type);
    pb_int(m, 2, unit);
    pb_message(out, field, m);
}

/* Encodes the whole Profile message into out; 0 or -1 (out of memory). */
static int encode_profile(const pprof_builder *b, pb_buf *out)
{
    pb_buf m = {0}, line = {0};

    for (int i = 0; i < b->ntypes; i++)
        encode_value_type(out, &m, 1, b->type_str[i], b->unit_str[i]);

    for (size_t i = 0; i < b->nsamples; i++) {
        const pp_sample *s = &b->samples[i];
        m.len = 0;
        pb_packed_u64(&m, 1, b->sample_locs + s->loc_off, (size_t)s->nlocs);
        pb_packed_i64(&m, 2, b->sample_values + i * (size_t)b->ntypes, (size_t)b->ntypes);
        pb_message(out, 2, &m);
    }

    for (size_t i = 0; i < b->nmappings; i++) {
        const pp_mapping *mp = &b->mappings[i];
        int has_fn = 0, has_file = 0, has_line = 0;
        for (size_t j = 0; j < b->nlocations; j++) {
            const pp_location *l = &b->locations[j];
            if (l->mapping_id != i + 1 || !l->function_id)
                continue;
            const pp_function *f = &b->functions[l->function_id - 1];
            has_fn |= f->name != 0;
            has_file |= f->filename != 0;
            has_line |= l->line != 0;
        }
        m.len = 0;
        pb_uint(&m, 1, i + 1);
        pb_uint(&m, 2, mp->start);
        pb_uint(&m, 3, mp->limit);
        pb_uint(&m, 4, mp->offset);
        pb_int(&m, 5, mp->filename);
        pb_int(&m, 6, mp->build_id);
        pb_uint(&m, 7, (uint64_t)has_fn);
        pb_uint(&m, 8, (uint64_t)has_file);
        pb_uint(&m, 9, (uint64_t)has_line);
        pb_message(out, 3, &m);
    }

    for (size_t i = 0; i < b->nlocations; i++) {
        const pp_location *l = &b->locations[i];
        m.len = 0;
        pb_uint(&m, 1, i + 1);
        pb_uint(&m, 2, l->mapping_id);
        pb_uint(&m, 3, l->address);
        if (l->function_id) {
            line.len = 0;
            pb_uint(&line, 1, l->function_id);
            pb_int(&line, 2, l->line);
            pb_message(&m, 4, &line);
        }
        pb_message(out, 4, &m);
    }

    for (size_t i = 0; i < b->nfunctions; i++) {
        const pp_function *f = &b->functions[i];
        m.len = 0;
        pb_uint(&m, 1, i + 1);
        pb_int(&m, 2, f->name);
        pb_int(&m, 3, f->name);        /* system_name: the same (no demangling) */
        pb_int(&m, 4, f->filename);
        pb_message(out, 5, &m);
    }

    for (size_t i = 0; i < b->nstrings; i++)
        pb_bytes(out, 6, b->strings[i], strlen(b->strings[i]));

    pb_int(out, 9, b->time_nanos);
    pb_int(out, 10, b->duration_nanos);
    if (b->has_period_type)
        encode_value_type(out, &m, 11, b->period_type_str, b->period_unit_str);
    pb_int(out, 12, b->period);

    free(m.p);
    free(line.p);
    return out->oom ? -1 : 0;
}

/* ------------------------------------------------------------------------
 * gzip and the file. */

static void set_err(char *err, size_t errlen, const char *fmt, const char *path, const char *what)
{
    if (err && errlen > 0)
        snprintf(err, errlen, fmt, path, what);
}

/* Deflates data as one gzip member into f; 0, or -1 with errno set (EIO
 * for a zlib failure, the stdio errno for a write failure). */
static int write_gzip(FILE *f, const uint8_t *data, size_t len, int *zfail)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        *zfail = 1;
        return -1;
    }
    unsigned char chunk[16384];
    size_t pos = 0;
    int flush, rc = 0;
    do {
        size_t n = len - pos;
        if (n > (1u << 30))
            n = 1u << 30;
        zs.next_in = (Bytef *)(uintptr_t)(data + pos);
        zs.avail_in = (uInt)n;
        pos += n;
        flush = pos == len ? Z_FINISH : Z_NO_FLUSH;
        do {
            zs.next_out = chunk;
            zs.avail_out = sizeof chunk;
            int zr = deflate(&zs, flush);
            if (zr == Z_STREAM_ERROR) {
                *zfail = 1;
                rc = -1;
                goto done;
            }
            size_t have = sizeof chunk - zs.avail_out;
            if (have && fwrite(chunk, 1, have, f) != have) {
                rc = -1;
                goto done;
            }
        } while (zs.avail_out == 0);
    } while (flush != Z_FINISH);
done:
    deflateEnd(&zs);
    return rc;
}

int pprof_write(pprof_builder *b, const char *path, char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = '\0';
    if (!b || !path) {
        set_err(err, errlen, "%s%s", path ? path : "(null)", ": invalid argument");
        return -1;
    }
    pb_buf out = {0};
    if (encode_profile(b, &out) < 0) {
        free(out.p);
        set_err(err, errlen, "%s: %s", path, "out of memory encoding the profile");
        return -1;
    }

    int to_stdout = strcmp(path, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(path, "wb");
    if (!f) {
        set_err(err, errlen, "%s: %s", path, strerror(errno));
        free(out.p);
        return -1;
    }
    /* Only a regular file we wrote is removed on failure (never a device
     * such as /dev/full, nor a pipe). */
    struct stat st;
    int regular = !to_stdout && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
    int zfail = 0;
    errno = 0;
    int rc = write_gzip(f, out.p, out.len, &zfail);
    int saved = errno;
    free(out.p);
    if (rc == 0) {
        if (to_stdout) {
            if (fflush(f) != 0 || ferror(f)) {
                saved = errno;
                rc = -1;
            }
        } else if (fclose(f) != 0) {
            saved = errno;
            rc = -1;
        }
    } else if (!to_stdout) {
        fclose(f);
    }
    if (rc < 0) {
        if (zfail)
            set_err(err, errlen, "%s: %s", path, "zlib deflate failed");
        else
            set_err(err, errlen, "%s: %s", path, saved ? strerror(saved) : "write error");
        if (regular)
            remove(path);
        return -1;
    }
    return 0;
}
