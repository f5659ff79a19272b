/* tuner/model.c - fitting and prediction of tuner/model.h.
 *
 * Owns nothing global.  gctt_model.seg is the only allocation (malloc, the
 * system heap: this code runs in the gctune command, never in a GC'd
 * program's hot path).  Invariants: frag >= 1, procs >= 1, every segment
 * has live > 0 and alloc >= 0.
 */
#include "model.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MiB (1024.0 * 1024.0)
#define HEAP_MINIMUM (4.0 * MiB)

static int cmp_row(const void *a, const void *b)
{
    const gctt_cycle_row *x = a, *y = b;
    return x->num < y->num ? -1 : x->num > y->num;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double cycle_cpu(const gctt_cycle_row *c, int procs)
{
    double cpu = 0;
    if (c->pause_ns >= 0)
        cpu += (double)c->pause_ns * procs;
    else if (c->mark_cpu_ns >= 0)
        cpu += (double)c->mark_cpu_ns;
    if (c->background_cpu_ns > 0)
        cpu += (double)c->background_cpu_ns;
    if (c->assist_cpu_ns > 0)
        cpu += (double)c->assist_cpu_ns;
    return cpu;
}

/* y = a + b x by least squares; falls back to a = 0, b = sum y / sum x
 * when x barely varies or the fit is negative. */
static void fit_line(const double *x, const double *y, size_t n, double *a, double *b)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        sx += x[i];
        sy += y[i];
        sxx += x[i] * x[i];
        sxy += x[i] * y[i];
    }
    *a = 0;
    *b = sx > 0 ? sy / sx : 0;
    if (n < 3)
        return;
    double mx = sx / n, var = sxx / n - mx * mx;
    if (!(var > 0) || sqrt(var) < 0.1 * mx)
        return;
    double bb = (sxy / n - mx * (sy / n)) / var, aa = sy / n - bb * mx;
    /* only a clean fit separates the fixed cost: R^2 >= 0.8 (a busy machine
     * stretches pauses at random, and the ratio is then more robust) */
    double my = sy / n, ss_tot = 0, ss_res = 0;
    for (size_t i = 0; i < n; i++) {
        double e = y[i] - (aa + bb * x[i]);
        ss_res += e * e;
        ss_tot += (y[i] - my) * (y[i] - my);
    }
    if (!(ss_tot > 0) || 1.0 - ss_res / ss_tot < 0.8)
        return;
    if (bb >= 0 && aa >= 0) {
        *a = aa;
        *b = bb;
    }
}

static double goal_for(int gogc, int64_t limit, double live, double frag, int *limited);

void gctt_model_free(gctt_model *m)
{
    free(m->seg);
    m->seg = NULL;
    m->nseg = 0;
}

int gctt_model_fit(const gctt_cycle_row *cycles_in, size_t n, const gctt_heap_row *heap, size_t nheap,
                   double heap_beta, gctt_model *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (n < 3) {
        snprintf(err, errlen, "%zu GC cycles recorded: at least 3 are needed to fit a model", n);
        return -1;
    }
    gctt_cycle_row *c = malloc(n * sizeof *c);
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *pz = malloc(n * sizeof *pz);
    double *gb = malloc(n * sizeof *gb);
    m->seg = malloc((n + 1) * sizeof *m->seg);   /* a segment per cycle, and the tail */
    if (!c || !x || !y || !pz || !gb || !m->seg) {
        free(c), free(x), free(y), free(pz), free(gb);
        gctt_model_free(m);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(c, cycles_in, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_row);

    /* procs, GOGC and limit of the recording: the most common values */
    m->procs = 1;
    for (size_t i = 0; i < n; i++)
        if (c[i].procs > m->procs)
            m->procs = (int)c[i].procs;
    {
        int best = 100, bestn = 0;
        for (size_t i = 0; i < n; i++) {
            int cnt = 0;
            for (size_t j = 0; j < n; j++)
                cnt += c[j].gc_percent == c[i].gc_percent;
            if (cnt > bestn) {
                bestn = cnt;
                best = (int)c[i].gc_percent;
            }
        }
        m->gogc = best;
        m->memory_limit = -1;
        for (size_t i = 0; i < n; i++)
            if (c[i].memory_limit > 0 && c[i].memory_limit < INT64_MAX)
                m->memory_limit = c[i].memory_limit;
    }

    /* cost and pause fits over cycles with a live heap */
    size_t k = 0;
    double cpu_total = 0, pause_sum_live = 0;
    for (size_t i = 0; i < n; i++) {
        double cpu = cycle_cpu(&c[i], m->procs);
        cpu_total += cpu;
        if (c[i].heap_marked <= 0)
            continue;
        x[k] = (double)c[i].heap_marked;
        gb[k] = c[i].heap_before > c[i].heap_marked ? (double)(c[i].heap_before - c[i].heap_marked) : 0;
        y[k] = cpu;
        pz[k] = c[i].pause_ns > 0 ? (double)c[i].pause_ns : 0;
        pause_sum_live += x[k];
        k++;
    }
    if (k < 3 || !(pause_sum_live > 0)) {
        free(c), free(x), free(y), free(pz), free(gb);
        gctt_model_free(m);
        snprintf(err, errlen, "GC cycles without live heap sizes (heap_marked): cannot fit a model");
        return -1;
    }
    fit_line(x, pz, k, &m->pause_fixed_ns, &m->pause_ns_per_byte);
    /* cost: live and garbage terms separately when their ratio varies */
    {
        double rs = 0, rss = 0;
        for (size_t i = 0; i < k; i++) {
            double r = gb[i] / x[i];
            rs += r;
            rss += r * r;
        }
        double rm = rs / k, rsd = sqrt(fmax(0, rss / k - rm * rm));
        int fitted = 0;
        if (k >= 6 && rm > 0 && rsd > 0.15 * rm) {
            /* y = F + a L + b garbage: 3x3 normal equations, Gauss-Jordan;
             * without F when the live heap hardly varied (F and a L are then
             * one term) */
            double lm = 0, lss = 0;
            for (size_t i = 0; i < k; i++) {
                lm += x[i];
                lss += x[i] * x[i];
            }
            lm /= k;
            int with_f = sqrt(fmax(0, lss / k - lm * lm)) > 0.1 * lm;
            double A[3][4] = { { 0 } };
            if (!with_f) {
                A[0][0] = 1;   /* F = 0 */
            }
            for (size_t i = 0; i < k; i++) {
                double v[3] = { with_f ? 1.0 : 0.0, x[i], gb[i] };
                for (int r = 0; r < 3; r++) {
                    for (int q = 0; q < 3; q++)
                        A[r][q] += v[r] * v[q];
                    A[r][3] += v[r] * y[i];
                }
            }
            int ok = 1;
            for (int col = 0; col < 3 && ok; col++) {
                int piv = col;
                for (int r = col + 1; r < 3; r++)
                    if (fabs(A[r][col]) > fabs(A[piv][col]))
                        piv = r;
                if (!(fabs(A[piv][col]) > 1e-300)) {
                    ok = 0;
                    break;
                }
                for (int q = 0; q < 4; q++) {
                    double t = A[col][q];
                    A[col][q] = A[piv][q];
                    A[piv][q] = t;
                }
                for (int r = 0; r < 3; r++) {
                    if (r == col)
                        continue;
                    double f = A[r][col] / A[col][col];
                    for (int q = col; q < 4; q++)
                        A[r][q] -= f * A[col][q];
                }
            }
            if (ok) {
                double F = A[0][3] / A[0][0], a = A[1][3] / A[1][1], b = A[2][3] / A[2][2];
                double my = 0, ss_tot = 0, ss_res = 0;
                for (size_t i = 0; i < k; i++)
                    my += y[i];
                my /= k;
                for (size_t i = 0; i < k; i++) {
                    double e = y[i] - (F + a * x[i] + b * gb[i]);
                    ss_res += e * e;
                    ss_tot += (y[i] - my) * (y[i] - my);
                }
                if (b < 0 && b > -0.01 * a)
                    b = 0;   /* rounding around a true zero */
                if (F < 0 && F > -1e-6 * my)
                    F = 0;
                if (F >= 0 && a >= 0 && b >= 0 && ss_tot > 0 && 1.0 - ss_res / ss_tot >= 0.8) {
                    m->fixed_ns = F;
                    m->mark_ns_per_byte = a;
                    m->garbage_ns_per_byte = b;
                    m->beta_fitted = fitted = 1;
                }
            }
        }
        if (!fitted) {
            double beta = heap_beta > 0 ? heap_beta : 0;
            for (size_t i = 0; i < k; i++)
                gb[i] = x[i] + beta * gb[i];   /* effective bytes */
            fit_line(gb, y, k, &m->fixed_ns, &m->mark_ns_per_byte);
            m->garbage_ns_per_byte = beta * m->mark_ns_per_byte;
        }
    }
    double lsum = 0;
    for (size_t i = 0; i < k; i++) {
        lsum += x[i];
        if (x[i] > m->live_max)
            m->live_max = x[i];
    }
    m->live_mean = lsum / k;
    /* pause p99 measured */
    {
        size_t np = 0;
        for (size_t i = 0; i < n; i++)
            if (c[i].pause_ns >= 0)
                pz[np++] = (double)c[i].pause_ns;
        qsort(pz, np, sizeof *pz, cmp_d);
        size_t r = (size_t)ceil(0.99 * np);
        m->pause_p99_ns = np ? pz[(r ? r : 1) - 1] : -1;
    }

    /* segments: allocation from one cycle's end to the next cycle's start */
    double prev_live = -1, peak = 0;
    for (size_t i = 0; i < n; i++) {
        if (c[i].heap_before > peak)
            peak = (double)c[i].heap_before;
        double live_here = c[i].heap_marked > 0 ? (double)c[i].heap_marked : prev_live;
        double before = c[i].heap_before > 0 ? (double)c[i].heap_before : 0;
        double base = prev_live > 0 ? prev_live : 0;
        double alloc = before > base ? before - base : 0;
        double live = prev_live > 0 ? prev_live : live_here;
        if (live > 0 && !c[i].forced) {
            m->seg[m->nseg].alloc = alloc;
            m->seg[m->nseg].live = live;
            m->seg[m->nseg].live_mark = live_here > 0 ? live_here : live;
            m->nseg++;
            m->alloc_total += alloc;
        } else if (live > 0 && m->nseg) {
            m->seg[m->nseg - 1].alloc += alloc;   /* a forced cycle's allocation still happened */
            m->alloc_total += alloc;
        }
        if (live_here > 0)
            prev_live = live_here;
    }
    m->ncycles = (int)n;
    m->gc_cpu_ns = cpu_total;

    /* duration, RSS, fragmentation from the heap series */
    double t_end = c[n - 1].end_ns > 0 ? (double)c[n - 1].end_ns : 0, t_start = 0;
    double peak_rss = -1, peak_mem = 0, last_total = -1;
    for (size_t i = 0; i < nheap; i++) {
        const gctt_heap_row *h = &heap[i];
        if ((double)h->time_ns > t_end)
            t_end = (double)h->time_ns;
        if (h->rss > peak_rss)
            peak_rss = (double)h->rss;
        if (h->heap_alloc > peak)
            peak = (double)h->heap_alloc;
        if (h->heap_sys > 0) {
            double mem = (double)h->heap_sys - (h->heap_released > 0 ? (double)h->heap_released : 0);
            if (mem > peak_mem)
                peak_mem = mem;
        }
        if (h->total_alloc > last_total)
            last_total = (double)h->total_alloc;
    }
    (void)last_total;
    /* the heap after the last cycle (the run can end on its highest heap):
     * one more segment, up to the highest heap_alloc the series saw there */
    if (prev_live > 0 && m->nseg) {
        double tail_peak = 0, last_end = c[n - 1].end_ns > 0 ? (double)c[n - 1].end_ns : INFINITY;
        for (size_t i = 0; i < nheap; i++)
            if ((double)heap[i].time_ns > last_end && (double)heap[i].heap_alloc > tail_peak)
                tail_peak = (double)heap[i].heap_alloc;
        if (tail_peak > prev_live) {
            m->seg[m->nseg].alloc = tail_peak - prev_live;
            m->seg[m->nseg].live = prev_live;
            m->seg[m->nseg].live_mark = prev_live;
            m->nseg++;
            m->alloc_total += tail_peak - prev_live;
        }
    }
    m->duration_s = (t_end - t_start) / 1e9;
    if (!(m->duration_s > 0))
        m->duration_s = 1e-9;
    m->alloc_rate = m->alloc_total / m->duration_s;
    m->peak_heap = peak;
    m->peak_rss = peak_rss;
    m->frag = peak > 0 && peak_mem > peak ? peak_mem / peak : 1.0;
    if (m->frag > 2.0)
        m->frag = 2.0;
    m->gc_cpu_fraction = m->gc_cpu_ns / (m->duration_s * 1e9 * m->procs);
    /* trigger: the runway each paced cycle used over the runway of the goal
     * the model computes for its setting (median; a collector that starts
     * marking early, Go's, uses a part of it) */
    m->trigger = 1.0;
    {
        size_t nr = 0;
        double pl = -1;
        for (size_t i = 0; i < n; i++) {
            if (pl > 0 && !c[i].forced && c[i].heap_before > 0) {
                int lim = 0;
                int gp = c[i].gc_percent >= 0 ? (int)c[i].gc_percent : -1;
                double g = goal_for(gp, c[i].memory_limit > 0 && c[i].memory_limit < INT64_MAX ? c[i].memory_limit : -1,
                                    pl, m->frag, &lim);
                if (isfinite(g) && g > pl)
                    pz[nr++] = ((double)c[i].heap_before - pl) / (g - pl);
            }
            if (c[i].heap_marked > 0)
                pl = (double)c[i].heap_marked;
        }
        if (nr >= 3) {
            qsort(pz, nr, sizeof *pz, cmp_d);
            double med = nr % 2 ? pz[nr / 2] : 0.5 * (pz[nr / 2 - 1] + pz[nr / 2]);
            m->trigger = med < 0.2 ? 0.2 : med > 1.2 ? 1.2 : med;
        }
    }
    m->cycles_per_s = n / m->duration_s;
    free(c), free(x), free(y), free(pz), free(gb);
    if (!m->nseg) {
        gctt_model_free(m);
        snprintf(err, errlen, "no paced GC cycles (all forced): cannot fit a model");
        return -1;
    }
    return 0;
}

static double goal_for(int gogc, int64_t limit, double live, double frag, int *limited)
{
    double g = gogc < 0 ? INFINITY : live * (1.0 + gogc / 100.0);
    double minimum = gogc < 0 ? 0 : HEAP_MINIMUM * gogc / 100.0;
    if (g < minimum)
        g = minimum;
    if (limit > 0) {
        double lg = (double)limit * 0.97 / frag;
        if (lg < 1.05 * live)
            lg = 1.05 * live;
        if (lg < g) {
            g = lg;
            *limited = 1;
        }
    }
    return g;
}

void gctt_model_predict(const gctt_model *m, int gogc, int64_t limit, gctt_prediction *out)
{
    memset(out, 0, sizeof *out);
    out->gogc = gogc;
    out->memory_limit = limit > 0 && limit < INT64_MAX ? limit : -1;
    double carry = 0, cycles = 0, cpu = 0, peak = 0, live_max = 0;
    int limited = 0;
    for (size_t i = 0; i < m->nseg; i++) {
        double L = m->seg[i].live;
        double G = goal_for(gogc, out->memory_limit, L, m->frag, &limited);
        double runway = (G - L) * (m->trigger > 0 ? m->trigger : 1.0);
        carry += m->seg[i].alloc;
        if (m->seg[i].live_mark > live_max)
            live_max = m->seg[i].live_mark;
        double h = L + (isfinite(runway) && carry > runway ? runway : carry);
        if (h > peak)
            peak = h;
        if (isfinite(runway) && runway > 0 && carry >= runway) {
            double k = floor(carry / runway);
            cycles += k;
            cpu += k * (m->fixed_ns + m->mark_ns_per_byte * m->seg[i].live_mark + m->garbage_ns_per_byte * runway);
            carry -= k * runway;
        }
    }
    out->cycles = cycles;
    out->gc_cpu_ns = cpu;
    double wall = m->duration_s + (cpu - m->gc_cpu_ns) / 1e9 / m->procs;
    if (!(wall > 0))
        wall = m->duration_s;
    out->wall_s = wall;
    out->gc_cpu_fraction = cpu / (wall * 1e9 * m->procs);
    out->cycles_per_s = cycles / wall;
    out->peak_heap = peak;
    out->peak_rss = m->peak_rss >= 0 ? m->peak_rss + (peak - m->peak_heap) * m->frag : -1;
    if (out->peak_rss >= 0 && out->peak_rss < peak)
        out->peak_rss = peak;
    /* the pause follows the live heap, which the setting does not change:
     * the recorded p99 (the fitted line at the largest live heap when the
     * recording has no pauses) */
    out->pause_p99_ns = m->pause_p99_ns >= 0 ? m->pause_p99_ns : m->pause_fixed_ns + m->pause_ns_per_byte * live_max;
    out->limit_bound = limited;
}

static const int grid[] = { 25, 50, 75, 100, 150, 200, 300, 400, 600, 800, 1000, -1 };

const int *gctt_model_gogc_grid(size_t *n)
{
    *n = sizeof grid / sizeof grid[0];
    return grid;
}

int64_t gctt_model_limit_for(const gctt_model *m, int64_t memory)
{
    if (memory <= 0)
        return -1;
    /* the limit covers the collector's memory: the memory goal less what RSS holds besides */
    double other = m->peak_rss >= 0 ? m->peak_rss - m->peak_heap * m->frag : 0;
    if (other < 0)
        other = 0;
    double lim = (double)memory - other;
    return lim > 4 * MiB ? (int64_t)lim : -1;
}

void gctt_model_judge(const gctt_goals *g, const gctt_prediction *p, int *cpu, int *memory, int *pause)
{
    double max_cpu = g->max_gc_cpu > 0 ? g->max_gc_cpu : 0.05;
    double mem = p->peak_rss >= 0 ? p->peak_rss : p->peak_heap;
    *cpu = p->gc_cpu_fraction <= max_cpu;
    *memory = !g->memory || mem <= (double)g->memory;
    *pause = !g->max_pause_ns || p->pause_p99_ns <= (double)g->max_pause_ns;
}

void gctt_model_recommend(const gctt_model *m, const gctt_goals *goals, gctt_recommendation *out)
{
    int64_t limits[2] = { -1, gctt_model_limit_for(m, goals->memory) };
    gctt_model_recommend_among(m, goals, grid, sizeof grid / sizeof grid[0], limits, limits[1] > 0 ? 2 : 1, out);
}

void gctt_model_recommend_among(const gctt_model *m, const gctt_goals *goals, const int *gogcs, size_t ngogc,
                                const int64_t *limits, size_t nlim, gctt_recommendation *out)
{
    memset(out, 0, sizeof *out);
    double max_cpu = goals->max_gc_cpu > 0 ? goals->max_gc_cpu : 0.05;
    int have = 0, best_class = 99;
    for (size_t i = 0; i < ngogc; i++) {
        for (size_t j = 0; j < nlim; j++) {
            if (gogcs[i] < 0 && limits[j] <= 0)
                continue;   /* off without a limit: no collection */
            gctt_prediction p;
            gctt_model_predict(m, gogcs[i], limits[j], &p);
            out->ncandidates++;
            double mem = p.peak_rss >= 0 ? p.peak_rss : p.peak_heap;
            int ok_cpu, ok_mem, ok_pause;
            gctt_model_judge(goals, &p, &ok_cpu, &ok_mem, &ok_pause);
            /* class 0: both; 1: memory only (then least CPU); 2: neither (then least memory) */
            int cls = ok_cpu && ok_mem ? 0 : ok_mem ? 1 : 2;
            int better = 0;
            if (!have || cls < best_class) {
                better = 1;
            } else if (cls == best_class) {
                double bmem = out->best.peak_rss >= 0 ? out->best.peak_rss : out->best.peak_heap;
                if (cls == 0)
                    better = mem < bmem * 0.999 || (mem <= bmem * 1.001 && p.gc_cpu_fraction < out->best.gc_cpu_fraction);
                else if (cls == 1)
                    better = p.gc_cpu_fraction < out->best.gc_cpu_fraction;
                else
                    better = mem < bmem;
            }
            if (better) {
                out->best = p;
                best_class = cls;
                have = 1;
                out->meets_cpu = ok_cpu;
                out->meets_memory = ok_mem;
            }
        }
    }
    if (!have) {
        snprintf(out->why, sizeof out->why, "no candidate setting (GOGC=off needs a limit)");
        return;
    }
    out->meets_pause = !goals->max_pause_ns || out->best.pause_p99_ns <= (double)goals->max_pause_ns;
    char gs[16], ls[32];
    if (out->best.gogc < 0)
        snprintf(gs, sizeof gs, "off");
    else
        snprintf(gs, sizeof gs, "%d", out->best.gogc);
    if (out->best.memory_limit > 0)
        snprintf(ls, sizeof ls, "%.0fMiB", (double)out->best.memory_limit / MiB);
    else
        snprintf(ls, sizeof ls, "none");
    snprintf(out->why, sizeof out->why,
             "GOGC=%s GOMEMLIMIT=%s: predicted GC CPU %.1f%% (goal %.1f%%%s), peak heap %.1f MiB%s, %.1f cycles/s%s",
             gs, ls, 100 * out->best.gc_cpu_fraction, 100 * max_cpu, out->meets_cpu ? "" : ", not met",
             out->best.peak_heap / MiB, goals->memory && !out->meets_memory ? " (over the memory goal)" : "",
             out->best.cycles_per_s,
             out->meets_pause ? "" : "; the pause goal is not achievable with GOGC or a limit (pauses follow the live heap)");
}
