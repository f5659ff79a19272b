/* reports/json.h - a small streaming JSON writer for `--json` output:
 * objects, arrays, strings (escaped; invalid UTF-8 becomes U+FFFD),
 * integers, doubles (non-finite -> null), booleans, null.  Pretty-printed
 * with two-space indentation.  Members of an object pass their key; values
 * inside arrays (and the top-level value) pass key = NULL. */
#ifndef GCTUNE_REPORTS_JSON_H
#define GCTUNE_REPORTS_JSON_H

#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

typedef struct json_w {
    FILE *f;
    int depth;
    int count[JSON_MAX_DEPTH];
} json_w;

void json_init(json_w *w, FILE *f);
void json_begin_object(json_w *w, const char *key);
void json_end_object(json_w *w);      /* the top-level one ends the line */
void json_begin_array(json_w *w, const char *key);
void json_end_array(json_w *w);
void json_string(json_w *w, const char *key, const char *v);   /* NULL -> null */
void json_int(json_w *w, const char *key, int64_t v);
/* v == INT64_MIN (GCTS_NULL) -> null */
void json_int_or_null(json_w *w, const char *key, int64_t v);
void json_double(json_w *w, const char *key, double v);
void json_bool(json_w *w, const char *key, int v);
void json_null(json_w *w, const char *key);
/* Writes s as a JSON string literal (quotes included). */
void json_write_string(FILE *f, const char *s);

#endif
