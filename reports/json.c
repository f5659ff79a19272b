/* reports/json.c - the streaming JSON writer of reports/json.h. */
#include "reports/json.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

void json_init(json_w *w, FILE *f)
{
    memset(w, 0, sizeof *w);
    w->f = f;
}

static void indent(json_w *w)
{
    for (int i = 0; i < w->depth; i++)
        fputs("  ", w->f);
}

/* Separator, newline, indentation and key before a value. */
static void prefix(json_w *w, const char *key)
{
    if (w->depth > 0) {
        int d = w->depth < JSON_MAX_DEPTH ? w->depth : JSON_MAX_DEPTH - 1;
        if (w->count[d]++)
            fputc(',', w->f);
        fputc('\n', w->f);
        indent(w);
    }
    if (key) {
        json_write_string(w->f, key);
        fputs(": ", w->f);
    }
}

static void open_c(json_w *w, const char *key, char c)
{
    prefix(w, key);
    fputc(c, w->f);
    w->depth++;
    if (w->depth < JSON_MAX_DEPTH)
        w->count[w->depth] = 0;
}

static void close_c(json_w *w, char c)
{
    int d = w->depth < JSON_MAX_DEPTH ? w->depth : JSON_MAX_DEPTH - 1;
    int had = w->count[d];
    w->depth--;
    if (had) {
        fputc('\n', w->f);
        indent(w);
    }
    fputc(c, w->f);
    if (w->depth == 0)
        fputc('\n', w->f);
}

void json_begin_object(json_w *w, const char *key) { open_c(w, key, '{'); }
void json_end_object(json_w *w) { close_c(w, '}'); }
void json_begin_array(json_w *w, const char *key) { open_c(w, key, '['); }
void json_end_array(json_w *w) { close_c(w, ']'); }

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static int utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    int n;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; }
    else return 0;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void json_write_string(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', f);
    while (*s) {
        unsigned c = *s;
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc((int)c, f);
            s++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n': fputs("\\n", f); break;
            case '\t': fputs("\\t", f); break;
            case '\r': fputs("\\r", f); break;
            case '\b': fputs("\\b", f); break;
            case '\f': fputs("\\f", f); break;
            default: fprintf(f, "\\u%04x", c); break;
            }
            s++;
        } else if (c < 0x80) {
            fputc((int)c, f);
            s++;
        } else {
            int n = utf8_len(s);
            if (n == 0) {
                fputs("\\ufffd", f);
                s++;
            } else {
                fwrite(s, 1, (size_t)n, f);
                s += n;
            }
        }
    }
    fputc('"', f);
}

void json_string(json_w *w, const char *key, const char *v)
{
    prefix(w, key);
    if (v)
        json_write_string(w->f, v);
    else
        fputs("null", w->f);
}

void json_int(json_w *w, const char *key, int64_t v)
{
    prefix(w, key);
    fprintf(w->f, "%" PRId64, v);
}

void json_int_or_null(json_w *w, const char *key, int64_t v)
{
    if (v == INT64_MIN)
        json_null(w, key);
    else
        json_int(w, key, v);
}

void json_double(json_w *w, const char *key, double v)
{
    prefix(w, key);
    if (isfinite(v))
        fprintf(w->f, "%.6g", v);
    else
        fputs("null", w->f);
}

void json_bool(json_w *w, const char *key, int v)
{
    prefix(w, key);
    fputs(v ? "true" : "false", w->f);
}

void json_null(json_w *w, const char *key)
{
    prefix(w, key);
    fputs("null", w->f);
}
