/* reports/gctrace.c - the gctrace.h parser of GODEBUG=gctrace=1 lines.
 *
 * Owns: nothing but the parse; no global state, no allocation, no locale
 * dependence (numbers are parsed by hand, never with strtod, so "nan",
 * "inf", hex floats, exponents and signs are all rejected).
 *
 * Invariants:
 *   - a line is classified before it is parsed: it is a candidate only if
 *     it begins "gc " + an optionally signed digit + non-blanks + " @";
 *     anything else returns 0 and touches neither *out nor err (beyond
 *     err[0] = '\0').
 *   - times are kept in integer nanoseconds from the decimal text (no
 *     floating point on the way), and every parsed quantity and sum is
 *     checked against LIMIT (2^62) before it is stored, so nothing
 *     overflows int64.
 *   - *out is assigned only after the whole line parsed.
 *   - error messages are one line: "column C: <what>" plus, when there is
 *     text left, ' near "<up to 16 chars, non-printables as ?>"'.
 */
#include "gctrace.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define LIMIT (UINT64_C(1) << 62)      /* largest ns or byte count accepted */
#define MAX_MIB (LIMIT >> 20)
#define MAX_PROCS (UINT64_C(1) << 20)
#define MAX_PERCENT UINT64_C(10000)

typedef struct cursor {
    const char *line;    /* start, for columns */
    const char *s;       /* next character */
    const char *end;     /* end of the line without its \n / \r\n */
    char *err;
    size_t errlen;
} cursor;

static int fail(cursor *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(cursor *c, const char *fmt, ...)
{
    if (!c->err || c->errlen == 0)
        return -1;
    int n = snprintf(c->err, c->errlen, "column %d: ", (int)(c->s - c->line) + 1);
    if (n < 0 || (size_t)n >= c->errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    if (m < 0 || (size_t)(n + m) >= c->errlen)
        return -1;
    if (c->s < c->end) {
        char near[17];
        size_t k = 0;
        for (const char *p = c->s; p < c->end && k < sizeof near - 1; p++)
            near[k++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
        near[k] = '\0';
        snprintf(c->err + n + m, c->errlen - (size_t)(n + m), " near \"%s\"", near);
    }
    return -1;
}

static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }

static int is_word(char ch)
{
    return is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static int at_end(const cursor *c) { return c->s >= c->end; }

/* Consumes lit if the text continues with it. */
static int accept(cursor *c, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(c->end - c->s) < n || memcmp(c->s, lit, n) != 0)
        return 0;
    c->s += n;
    return 1;
}

static int expect(cursor *c, const char *lit, const char *after)
{
    if (accept(c, lit))
        return 0;
    if (at_end(c))
        return fail(c, "line ends after %s: expected \"%s\"", after, lit);
    return fail(c, "expected \"%s\" after %s", lit, after);
}

static int starts_ci(const cursor *c, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(c->end - c->s) < n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = c->s[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (ch != word[i])
            return 0;
    }
    return 1;
}

/* A plain decimal number: digits, and when scale > 0 an optional '.' and
 * digits.  *out = value * 10^scale (fraction digits past scale truncated).
 * Fails unless the result is <= max. */
static int number(cursor *c, int scale, uint64_t max, const char *what, const char *unit, uint64_t *out)
{
    if (at_end(c))
        return fail(c, "line ends where %s was expected", what);
    if (*c->s == '-')
        return fail(c, "%s is negative", what);
    if (starts_ci(c, "nan") || starts_ci(c, "inf") || starts_ci(c, "+inf"))
        return fail(c, "%s is not a finite number", what);
    if (!is_digit(*c->s))
        return fail(c, "expected %s (a decimal number)", what);
    uint64_t mul = 1;
    for (int i = 0; i < scale; i++)
        mul *= 10;
    uint64_t whole = 0;
    const char *start = c->s;
    while (!at_end(c) && is_digit(*c->s)) {
        uint64_t d = (uint64_t)(*c->s - '0');
        if (whole > max / mul / 10 || whole * 10 + d > max / mul) {
            c->s = start;
            return fail(c, "%s is out of range (at most %llu%s)", what, (unsigned long long)(max / mul), unit);
        }
        whole = whole * 10 + d;
        c->s++;
    }
    uint64_t frac = 0;
    if (!at_end(c) && *c->s == '.') {
        if (scale == 0)
            return fail(c, "%s must be an integer", what);
        c->s++;
        if (at_end(c) || !is_digit(*c->s))
            return fail(c, "%s has no digits after the decimal point", what);
        uint64_t place = mul;
        while (!at_end(c) && is_digit(*c->s)) {
            place /= 10;
            frac += (uint64_t)(*c->s - '0') * place;   /* place is 0 past scale digits */
            c->s++;
        }
    }
    if (!at_end(c) && (*c->s == 'e' || *c->s == 'E') && c->s + 1 < c->end &&
        (is_digit(c->s[1]) || c->s[1] == '+' || c->s[1] == '-'))
        return fail(c, "%s has an exponent", what);
    uint64_t v = whole * mul + frac;
    if (v > max) {
        c->s = start;
        return fail(c, "%s is out of range (at most %llu%s)", what, (unsigned long long)(max / mul), unit);
    }
    *out = v;
    return 0;
}

#define NS_PER_MS 6       /* ms text -> ns: 6 decimal places */
#define NS_PER_S 9

/* "A<sep>B<sep>C" of milliseconds; seps[i] separates value i and i+1. */
static int ms_list(cursor *c, uint64_t *v, int n, const char *const *seps, const char *const *names)
{
    for (int i = 0; i < n; i++) {
        if (i > 0 && expect(c, seps[i - 1], names[i - 1]) < 0)
            return -1;
        if (number(c, NS_PER_MS, LIMIT, names[i], " ms", &v[i]) < 0)
            return -1;
    }
    return 0;
}

/* Sum of values that are each <= LIMIT; fails if the sum exceeds LIMIT. */
static int sum_ok(cursor *c, uint64_t total, const char *what)
{
    if (total > LIMIT)
        return fail(c, "%s is out of range (more than 2^62 ns)", what);
    return 0;
}

int gctrace_parse_line(const char *line, gcts_gc_cycle *out, char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = '\0';
    if (!line)
        return 0;
    size_t len = strlen(line);
    if (len > 0 && line[len - 1] == '\n') {
        len--;
        if (len > 0 && line[len - 1] == '\r')
            len--;
    }
    cursor c = {line, line, line + len, err, errlen};

    /* Classify: "gc " [+-]? digit non-blanks " @". */
    if (!accept(&c, "gc "))
        return 0;
    const char *p = c.s;
    if (p < c.end && (*p == '-' || *p == '+'))
        p++;
    if (p >= c.end || !is_digit(*p))
        return 0;
    while (p < c.end && *p != ' ' && *p != '\t')
        p++;
    if (c.end - p < 2 || p[0] != ' ' || p[1] != '@')
        return 0;

    /* gctrace lines are printable ASCII (a \n inside means two lines). */
    for (const char *q = c.s; q < c.end; q++) {
        if ((unsigned char)*q < 0x20 || *q == 0x7f) {
            c.s = q;
            return fail(&c, "control character 0x%02x in the line", (unsigned)(unsigned char)*q);
        }
    }

    gcts_gc_cycle cy;
    gcts_gc_cycle_init(&cy);
    uint64_t num, start, pct;
    if (*c.s == '+')
        return fail(&c, "the cycle number has a sign");
    if (number(&c, 0, LIMIT, "the cycle number", "", &num) < 0)
        return -1;
    if (expect(&c, " @", "the cycle number") < 0)
        return -1;
    if (number(&c, NS_PER_S, LIMIT, "the start time", " s", &start) < 0)
        return -1;
    if (expect(&c, "s ", "the start time") < 0)
        return -1;
    if (number(&c, 0, MAX_PERCENT, "the GC CPU percentage", "%", &pct) < 0)
        return -1;
    if (expect(&c, "%: ", "the GC CPU percentage") < 0)
        return -1;

    uint64_t clk[3], cpu[5];
    static const char *const clk_seps[] = {"+", "+"};
    static const char *const clk_names[] = {"the sweep termination clock time", "the mark clock time",
                                            "the mark termination clock time"};
    if (ms_list(&c, clk, 3, clk_seps, clk_names) < 0)
        return -1;
    if (expect(&c, " ms clock, ", "the clock times") < 0)
        return -1;
    static const char *const cpu_seps[] = {"+", "/", "/", "+"};
    static const char *const cpu_names[] = {"the sweep termination CPU time", "the assist CPU time",
                                            "the background mark CPU time", "the idle mark CPU time",
                                            "the mark termination CPU time"};
    if (ms_list(&c, cpu, 5, cpu_seps, cpu_names) < 0)
        return -1;
    if (expect(&c, " ms cpu, ", "the CPU times") < 0)
        return -1;

    uint64_t heap[4];
    if (number(&c, 0, MAX_MIB, "the heap size at the start", " MB", &heap[0]) < 0 ||
        expect(&c, "->", "the heap size at the start") < 0 ||
        number(&c, 0, MAX_MIB, "the heap size at the end", " MB", &heap[1]) < 0 ||
        expect(&c, "->", "the heap size at the end") < 0 ||
        number(&c, 0, MAX_MIB, "the marked heap size", " MB", &heap[2]) < 0 ||
        expect(&c, " MB, ", "the heap sizes") < 0 ||
        number(&c, 0, MAX_MIB, "the heap goal", " MB", &heap[3]) < 0 ||
        expect(&c, " MB goal", "the heap goal") < 0)
        return -1;

    /* ", <num> <unit>" items up to "Q P": "M MB stacks", "N MB globals",
     * or fields of a newer Go; then " (forced)" or anything. */
    uint64_t procs = 0;
    int have_procs = 0, forced = 0;
    while (!have_procs) {
        if (at_end(&c))
            return fail(&c, "line ends before the processor count (\"<N> P\")");
        if (expect(&c, ", ", "the previous field") < 0)
            return -1;
        uint64_t v;
        const char *item = c.s;
        if (number(&c, 0, LIMIT, "a number", "", &v) < 0)
            return -1;
        if (expect(&c, " ", "the number") < 0)
            return -1;
        if (!at_end(&c) && *c.s == 'P' && (c.s + 1 == c.end || !is_word(c.s[1]))) {
            c.s++;
            if (v < 1 || v > MAX_PROCS) {
                c.s = item;
                return fail(&c, "the processor count %llu is out of range (1..%llu)", (unsigned long long)v,
                            (unsigned long long)MAX_PROCS);
            }
            procs = v;
            have_procs = 1;
        } else if (accept(&c, "MB ")) {
            if (v > MAX_MIB) {
                c.s = item;
                return fail(&c, "the size is out of range (at most %llu MB)", (unsigned long long)MAX_MIB);
            }
        } else if (at_end(&c) || *c.s == ',' || *c.s == ' ') {
            return fail(&c, "expected a unit after the number");
        }
        /* The rest of a non-P item: up to the next ", ". */
        if (!have_procs)
            while (!at_end(&c) && !(c.s[0] == ',' && c.s + 1 < c.end && c.s[1] == ' '))
                c.s++;
    }
    if (accept(&c, " (forced)"))
        forced = 1;

    uint64_t pause = clk[0] + clk[2], wall = clk[0] + clk[1] + clk[2];
    uint64_t mark = cpu[1] + cpu[2] + cpu[3];
    if (sum_ok(&c, wall, "the cycle's clock time") < 0 || sum_ok(&c, mark, "the mark CPU time") < 0 ||
        sum_ok(&c, start + wall, "the end time") < 0)
        return -1;

    cy.num = (int64_t)num;
    cy.start_ns = (int64_t)start;
    cy.end_ns = (int64_t)(start + wall);
    cy.pause_ns = (int64_t)pause;
    cy.assist_cpu_ns = (int64_t)cpu[1];
    cy.background_cpu_ns = (int64_t)cpu[2];
    cy.idle_cpu_ns = (int64_t)cpu[3];
    cy.mark_cpu_ns = (int64_t)mark;
    cy.heap_before = (int64_t)(heap[0] << 20);
    cy.heap_after = (int64_t)(heap[1] << 20);
    cy.heap_marked = (int64_t)(heap[2] << 20);
    cy.heap_goal = (int64_t)(heap[3] << 20);
    cy.procs = (int64_t)procs;
    cy.forced = forced;
    cy.concurrent = 1;
    cy.gc_cpu_fraction = (double)pct / 100.0;
    *out = cy;
    return 1;
}
