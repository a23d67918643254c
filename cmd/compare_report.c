/* compare_report: the table, report.json and report.html of gather compare.
 * The page is XHTML-compatible markup (it parses as XML too) with inline
 * CSS and SVG and a small inline script that checks its own charts. */
#define _GNU_SOURCE
#include "compare_report.h"
#include "record.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const cmp_phase_names[CMP_N_PHASES] = {
    "queue", "dns", "connect", "tls", "ttfb", "transfer",
    "write", "parse_wait", "parse", "total",
};

const char cmp_bound_rule[] =
    "cpu when parse_wait + parse exceed dns + connect + tls + ttfb + "
    "transfer (phase sums of a run), or when CPU time (user + sys) reaches "
    "0.8 x the process's wall time (proc s, startup included, as CPU time "
    "includes it): a core was busy all along, as an event loop that "
    "parses is; network otherwise";

static const char *const figures_note =
    "wall, req/s, MB/s, cpu, RSS and ctx sw: median of the completed runs; "
    "latency: nearest rank over every URL of every completed run; "
    "failed: URLs that failed, summed over the completed runs";

/* ---- the table --------------------------------------------------------- */

/* Prints prefix, text and a full stop, wrapped at 78 columns. */
static void print_wrapped(FILE *f, const char *prefix, const char *text)
{
    size_t col = strlen(prefix);
    int line_start = 1; /* the first word follows the prefix directly */
    fputs(prefix, f);
    while (*text) {
        size_t n = strcspn(text, " ");
        if (!line_start && col + 1 + n > 78) {
            fputc('\n', f);
            col = 0;
            line_start = 1;
        }
        if (!line_start) {
            fputc(' ', f);
            col++;
        }
        fwrite(text, 1, n, f);
        col += n;
        line_start = 0;
        text += n;
        text += strspn(text, " ");
    }
    fputs(".\n", f);
}

static int phase_width(int p)
{
    int n = (int)strlen(cmp_phase_names[p]);
    return n > 7 ? n : 7;
}

void compare_print_table(const cmp_result *c, FILE *f)
{
    fprintf(f, "gather compare: %s%s, %zu mode%s x %d repeat%s, %d core%s\n\n",
            c->crawl ? "crawl from " : "", c->list, c->n_modes, c->n_modes == 1 ? "" : "s", c->repeat,
            c->repeat == 1 ? "" : "s", c->cores, c->cores == 1 ? "" : "s");
    fprintf(f, "%-8s %5s %8s %9s %8s %8s %8s %8s %8s %8s %9s %7s\n", "mode",
            "runs", "wall s", "req/s", "MB/s", "p50 ms", "p95 ms", "p99 ms",
            "cpu s", "RSS MB", "ctx sw", "failed");
    for (size_t i = 0; i < c->n_modes; i++) {
        const cmp_mode *m = &c->modes[i];
        char runs[32];
        snprintf(runs, sizeof runs, "%d/%d", m->completed, c->repeat);
        if (!m->has_data) {
            fprintf(f, "%-8s %5s %8s %9s %8s %8s %8s %8s %8s %8s %9s %7s\n",
                    m->name, runs, "-", "-", "-", "-", "-", "-", "-", "-",
                    "-", "-");
            continue;
        }
        fprintf(f,
                "%-8s %5s %8.3f %9.1f %8.2f %8.2f %8.2f %8.2f %8.3f %8.1f "
                "%9lld %7lld\n",
                m->name, runs, m->wall_s, m->req_per_s, m->mb_per_s,
                m->p50_ms, m->p95_ms, m->p99_ms, m->cpu_s,
                (double)m->max_rss_kb / 1024.0, m->ctx_switches, m->failed);
    }
    fprintf(f, "\nwhere the time goes: phases summed over a run's URLs, ms "
               "(median of runs; write is part of transfer)\n");
    fprintf(f, "%-8s", "mode");
    for (int p = 0; p < CMP_N_PHASES; p++)
        fprintf(f, " %*s", phase_width(p), cmp_phase_names[p]);
    fprintf(f, " %7s %8s  %s\n", "proc s", "cpu/wall", "bound");
    for (size_t i = 0; i < c->n_modes; i++) {
        const cmp_mode *m = &c->modes[i];
        if (!m->has_data)
            continue;
        fprintf(f, "%-8s", m->name);
        for (int p = 0; p < CMP_N_PHASES; p++)
            fprintf(f, " %*.1f", phase_width(p), m->phases_ms[p]);
        fprintf(f, " %7.3f %8.2f  %s\n", m->proc_s, m->cpu_ratio,
                m->cpu_bound ? "cpu" : "network");
    }
    fputc('\n', f);
    print_wrapped(f, "", figures_note);
    print_wrapped(f, "bound: ", cmp_bound_rule);
}

/* ---- report.json ------------------------------------------------------- */

/* A JSON number, or null for what JSON cannot hold. */
static json_t *jreal(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Sets key to v (taking it); notes a failure in *bad. */
static void put(json_t *o, const char *key, json_t *v, int *bad)
{
    if (!v || json_object_set_new(o, key, v))
        *bad = 1;
}

static void add(json_t *a, json_t *v, int *bad)
{
    if (!v || json_array_append_new(a, v))
        *bad = 1;
}

static json_t *mode_json(const cmp_result *c, const cmp_mode *m, int *bad)
{
    json_t *o = json_object(), *walls = json_array(), *ph = json_object();
    json_t *cdf = json_array(), *runs = json_array();
    int d = m->has_data;
    if (!o) {
        *bad = 1;
        json_decref(walls);
        json_decref(ph);
        json_decref(cdf);
        json_decref(runs);
        return NULL;
    }
    put(o, "mode", json_string(m->name), bad);
    put(o, "runs_completed", json_integer(m->completed), bad);
    for (int r = 0; walls && r < c->repeat; r++)
        add(walls, m->runs[r].completed ? jreal(m->runs[r].wall_s)
                                        : json_null(), bad);
    put(o, "wall_s", walls, bad);
    put(o, "wall_median_s", d ? jreal(m->wall_s) : json_null(), bad);
    put(o, "req_per_s", d ? jreal(m->req_per_s) : json_null(), bad);
    put(o, "mb_per_s", d ? jreal(m->mb_per_s) : json_null(), bad);
    put(o, "p50_ms", d ? jreal(m->p50_ms) : json_null(), bad);
    put(o, "p95_ms", d ? jreal(m->p95_ms) : json_null(), bad);
    put(o, "p99_ms", d ? jreal(m->p99_ms) : json_null(), bad);
    put(o, "cpu_s", d ? jreal(m->cpu_s) : json_null(), bad);
    put(o, "process_s", d ? jreal(m->proc_s) : json_null(), bad);
    put(o, "cpu_wall_ratio", d ? jreal(m->cpu_ratio) : json_null(), bad);
    put(o, "max_rss_kb", d ? json_integer(m->max_rss_kb) : json_null(), bad);
    put(o, "ctx_switches", d ? json_integer(m->ctx_switches) : json_null(),
        bad);
    put(o, "failed", json_integer(m->failed), bad);
    put(o, "records", json_integer((json_int_t)m->n_lat), bad);
    for (int p = 0; ph && p < CMP_N_PHASES; p++)
        put(ph, cmp_phase_names[p], d ? jreal(m->phases_ms[p]) : json_null(),
            bad);
    put(o, "phases_ms", ph, bad);
    put(o, "bound",
        d ? json_string(m->cpu_bound ? "cpu" : "network") : json_null(), bad);
    for (size_t i = 0; cdf && i < m->n_cdf; i++)
        add(cdf, json_pack("[f,f]", m->cdf[i][0], m->cdf[i][1]), bad);
    put(o, "cdf", cdf, bad);
    for (int r = 0; runs && r < c->repeat; r++) {
        const cmp_run *run = &m->runs[r];
        char *st = record_utf8(run->status, strlen(run->status), NULL);
        add(runs,
            json_pack("{s:i, s:i, s:b, s:s?, s:f, s:f, s:I, s:I, s:I}",
                      "rep", run->rep, "order", run->order, "completed",
                      run->completed, "status", st, "wall_s", run->wall_s,
                      "process_s", run->proc_s, "ok", (json_int_t)run->ok,
                      "failed",
                      (json_int_t)run->failed, "records",
                      (json_int_t)run->records),
            bad);
        free(st);
    }
    put(o, "runs", runs, bad);
    return o;
}

int compare_write_json(const cmp_result *c, const char *path)
{
    int bad = 0;
    json_t *root = json_object(), *modes = json_array();
    char *list = record_utf8(c->list, strlen(c->list), NULL);
    if (root) {
        put(root, c->crawl ? "crawl" : "list",
            list ? json_string(list) : NULL, &bad);
        put(root, "repeat", json_integer(c->repeat), &bad);
        put(root, "cores", json_integer(c->cores), &bad);
        put(root, "cpu_share", json_real(CMP_CPU_SHARE), &bad);
        put(root, "bound_rule", json_string(cmp_bound_rule), &bad);
        for (size_t i = 0; modes && i < c->n_modes; i++)
            add(modes, mode_json(c, &c->modes[i], &bad), &bad);
        put(root, "modes", modes, &bad);
    } else {
        json_decref(modes);
    }
    free(list);
    int rc = -1;
    if (!root || bad)
        errno = ENOMEM;
    else if (!json_dump_file(root, path, JSON_COMPACT))
        rc = 0;
    json_decref(root);
    return rc;
}

/* ---- report.html ------------------------------------------------------- */

static const char *const mode_colors[] = {
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759",
    "#76b7b2", "#b07aa1", "#9c755f", "#edc948",
};
#define N_MODE_COLORS (sizeof mode_colors / sizeof *mode_colors)
#define MODE_COLOR(i) mode_colors[(i) % N_MODE_COLORS]

/* The phases the stacked bars show: those that add up to total. */
static const int stack_phases[] = {
    CMP_QUEUE, CMP_DNS, CMP_CONNECT, CMP_TLS,
    CMP_TTFB,  CMP_TRANSFER, CMP_PARSE_WAIT, CMP_PARSE,
};
#define N_STACK ((int)(sizeof stack_phases / sizeof *stack_phases))
static const char *const phase_colors[N_STACK] = {
    "#bab0ac", "#9c755f", "#76b7b2", "#edc948",
    "#4e79a7", "#59a14f", "#ff9da7", "#e15759",
};

/* Writes s as XML/HTML text or attribute value: markup characters become
 * references, invalid UTF-8 becomes U+FFFD, and so do the characters XML
 * forbids (controls other than tab and newlines, U+FFFE, U+FFFF). */
static void esc(FILE *f, const char *s)
{
    char *u = record_utf8(s, strlen(s), NULL);
    const unsigned char *p = (const unsigned char *)(u ? u : "?");
    for (; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') ||
                (p[0] == 0xEF && p[1] == 0xBF &&
                 (p[2] == 0xBE || p[2] == 0xBF))) {
                fputs("\xEF\xBF\xBD", f);
                if (*p == 0xEF)
                    p += 2;
            } else {
                fputc(*p, f);
            }
        }
    }
    free(u);
}

/* A latency for a label: "0.84 ms", "12.3 ms", "4.42 s". */
static void put_ms(FILE *f, double ms)
{
    if (ms >= 1000)
        fprintf(f, "%.2f s", ms / 1000);
    else
        fprintf(f, ms >= 10 ? "%.1f ms" : "%.2f ms", ms);
}

/* A round step for about `ticks` ticks from 0 to max. */
static double nice_step(double max, int ticks)
{
    if (!(max > 0) || !isfinite(max))
        max = 1;
    double raw = max / ticks, mag = pow(10, floor(log10(raw)));
    double r = raw / mag;
    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 2.5 ? 2.5 : r <= 5 ? 5 : 10) * mag;
}

typedef struct frame {
    double w, h;          /* whole chart */
    double x0, y0, pw, ph; /* plot area */
    double top, step;     /* value axis: 0..top */
} frame;

static void frame_init(frame *fr, double w, double h, double left,
                       double right, double above, double below,
                       double max, int ticks)
{
    fr->w = w;
    fr->h = h;
    fr->x0 = left;
    fr->y0 = above;
    fr->pw = w - left - right;
    fr->ph = h - above - below;
    fr->step = nice_step(max, ticks);
    fr->top = ceil((max > 0 && isfinite(max) ? max : 1) / fr->step) * fr->step;
}

/* y of value v on a vertical value axis. */
static double fy(const frame *fr, double v)
{
    return fr->y0 + fr->ph - (v / fr->top) * fr->ph;
}

/* y of fraction q (0..1) on the CDF's vertical axis. */
static double fy_frac(const frame *fr, double q)
{
    return fr->y0 + fr->ph - q * fr->ph;
}

/* x of value v on a horizontal value axis. */
static double fx(const frame *fr, double v)
{
    return fr->x0 + (v / fr->top) * fr->pw;
}

static void svg_open(FILE *f, const frame *fr, const char *id, int series,
                     const char *label)
{
    fprintf(f,
            "<svg class=\"chart\" id=\"%s\" data-series=\"%d\" width=\"%.0f\" "
            "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
            "aria-label=\"",
            id, series, fr->w, fr->h, fr->w, fr->h);
    esc(f, label);
    fputs("\">\n", f);
}

/* Grid lines and labels of a vertical value axis, and the unit. */
static void y_axis(FILE *f, const frame *fr, const char *unit)
{
    fputs("<g class=\"axis\">\n", f);
    for (double v = 0; v <= fr->top + fr->step / 2; v += fr->step) {
        double y = fy(fr, v);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"#e3e3e3\"/><text x=\"%.1f\" y=\"%.1f\" "
                "text-anchor=\"end\">%g</text>\n",
                fr->x0, y, fr->x0 + fr->pw, y, fr->x0 - 6, y + 4, v);
    }
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "stroke=\"#888\"/>\n<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
            "y2=\"%.1f\" stroke=\"#888\"/>\n",
            fr->x0, fr->y0, fr->x0, fr->y0 + fr->ph, fr->x0, fr->y0 + fr->ph,
            fr->x0 + fr->pw, fr->y0 + fr->ph);
    fprintf(f,
            "<text transform=\"rotate(-90)\" x=\"%.1f\" y=\"14\" "
            "text-anchor=\"middle\">",
            -(fr->y0 + fr->ph / 2));
    esc(f, unit);
    fputs("</text>\n</g>\n", f);
}

/* Grid lines and labels of a horizontal value axis, and the unit. */
static void x_axis(FILE *f, const frame *fr, const char *unit)
{
    fputs("<g class=\"axis\">\n", f);
    for (double v = 0; v <= fr->top + fr->step / 2; v += fr->step) {
        double x = fx(fr, v);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"#e3e3e3\"/><text x=\"%.1f\" y=\"%.1f\" "
                "text-anchor=\"middle\">%g</text>\n",
                x, fr->y0, x, fr->y0 + fr->ph, x, fr->y0 + fr->ph + 14, v);
    }
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "stroke=\"#888\"/>\n<text x=\"%.1f\" y=\"%.1f\" "
            "text-anchor=\"middle\">",
            fr->x0, fr->y0 + fr->ph, fr->x0 + fr->pw, fr->y0 + fr->ph,
            fr->x0 + fr->pw / 2, fr->y0 + fr->ph + 30);
    esc(f, unit);
    fputs("</text>\n</g>\n", f);
}

static void no_data(FILE *f, const frame *fr)
{
    fprintf(f,
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">no run "
            "completed</text>\n",
            fr->w / 2, fr->h / 2);
}

static int data_modes(const cmp_result *c)
{
    int n = 0;
    for (size_t i = 0; i < c->n_modes; i++)
        n += c->modes[i].has_data;
    return n;
}

enum { BARS_WALL, BARS_RPS };

/* One bar per mode: median wall time (with a dot per run) or requests/s. */
static void chart_bars(FILE *f, const cmp_result *c, int which)
{
    int k = data_modes(c), slot_i = 0;
    double max = 0;
    frame fr;
    for (size_t i = 0; i < c->n_modes; i++) {
        const cmp_mode *m = &c->modes[i];
        if (!m->has_data)
            continue;
        double v = which == BARS_WALL ? m->wall_s : m->req_per_s;
        if (v > max)
            max = v;
        for (int r = 0; which == BARS_WALL && r < c->repeat; r++)
            if (m->runs[r].completed && m->runs[r].wall_s > max)
                max = m->runs[r].wall_s;
    }
    frame_init(&fr, 440, 260, 60, 16, 18, 40, max, 5);
    svg_open(f, &fr, which == BARS_WALL ? "chart-wall" : "chart-throughput",
             k, which == BARS_WALL ? "wall time per mode"
                                : "requests per second per mode");
    y_axis(f, &fr, which == BARS_WALL ? "wall time, s" : "requests/s");
    if (!k)
        no_data(f, &fr);
    double slot = fr.pw / (k ? k : 1);
    for (size_t i = 0; i < c->n_modes; i++) {
        const cmp_mode *m = &c->modes[i];
        if (!m->has_data)
            continue;
        double v = which == BARS_WALL ? m->wall_s : m->req_per_s;
        double cx = fr.x0 + slot * (slot_i++ + 0.5), bw = slot * 0.56;
        double y = fy(&fr, v), hgt = fr.y0 + fr.ph - y;
        fputs("<rect class=\"series\" data-mode=\"", f);
        esc(f, m->name);
        fprintf(f,
                "\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                "fill=\"%s\"><title>",
                cx - bw / 2, y, bw, hgt > 0.5 ? hgt : 0.5, MODE_COLOR(i));
        esc(f, m->name);
        if (which == BARS_WALL)
            fprintf(f, ": median %.4f s of %d run%s</title></rect>\n",
                    m->wall_s, m->completed, m->completed == 1 ? "" : "s");
        else
            fprintf(f, ": %.1f requests/s, %.2f MB/s</title></rect>\n",
                    m->req_per_s, m->mb_per_s);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                cx, y - 5);
        if (which == BARS_WALL)
            fprintf(f, "%.3f s</text>\n", m->wall_s);
        else
            fprintf(f, m->req_per_s >= 100 ? "%.0f/s</text>\n"
                                           : "%.3g/s</text>\n",
                    m->req_per_s);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", cx,
                fr.y0 + fr.ph + 16);
        esc(f, m->name);
        fputs("</text>\n", f);
        for (int r = 0; which == BARS_WALL && r < c->repeat; r++) {
            const cmp_run *run = &m->runs[r];
            if (!run->completed)
                continue;
            double dx = c->repeat > 1
                            ? (bw * 0.6) * ((double)r / (c->repeat - 1) - 0.5)
                            : 0;
            fprintf(f,
                    "<circle class=\"rep\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
                    "fill=\"#222\" fill-opacity=\"0.55\"><title>run %d: "
                    "%.4f s</title></circle>\n",
                    cx + dx, fy(&fr, run->wall_s), run->rep, run->wall_s);
        }
    }
    fputs("</svg>\n", f);
}

/* The latency CDF: a step line per mode over the pooled records. */
static void chart_cdf(FILE *f, const cmp_result *c)
{
    int k = data_modes(c), li = 0;
    double max = 0;
    frame fr;
    for (size_t i = 0; i < c->n_modes; i++) {
        const cmp_mode *m = &c->modes[i];
        if (m->n_cdf && m->cdf[m->n_cdf - 1][0] > max)
            max = m->cdf[m->n_cdf - 1][0];
    }
    frame_init(&fr, 640, 300, 56, 180, 16, 44, max, 6);
    svg_open(f, &fr, "chart-cdf", k, "latency CDF per mode");
    fputs("<g class=\"axis\">\n", f);
    for (int q = 0; q <= 4; q++) {
        double y = fy_frac(&fr, q / 4.0);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"#e3e3e3\"/><text x=\"%.1f\" y=\"%.1f\" "
                "text-anchor=\"end\">%d%%</text>\n",
                fr.x0, y, fr.x0 + fr.pw, y, fr.x0 - 6, y + 4, q * 25);
    }
    static const int marks[] = {95, 99};
    for (int q = 0; q < 2; q++) {
        double y = fy_frac(&fr, marks[q] / 100.0);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"#bbb\" stroke-dasharray=\"3 3\"/><text x=\"%.1f\" "
                "y=\"%.1f\" fill=\"#888\">p%d</text>\n",
                fr.x0, y, fr.x0 + fr.pw, y, fr.x0 + fr.pw + 4, y + 4,
                marks[q]);
    }
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "stroke=\"#888\"/>\n<text transform=\"rotate(-90)\" x=\"%.1f\" "
            "y=\"14\" text-anchor=\"middle\">URLs done within</text>\n</g>\n",
            fr.x0, fr.y0, fr.x0, fr.y0 + fr.ph, -(fr.y0 + fr.ph / 2));
    x_axis(f, &fr, "latency (total per URL), ms");
    if (!k)
        no_data(f, &fr);
    for (size_t i = 0; i < c->n_modes; i++) {
        const cmp_mode *m = &c->modes[i];
        if (!m->has_data)
            continue;
        fputs("<path class=\"series\" data-mode=\"", f);
        esc(f, m->name);
        fprintf(f, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" d=\"",
                MODE_COLOR(i));
        /* a step line from 0 at the fastest URL */
        if (m->n_cdf)
            fprintf(f, "M%.2f %.2f", fx(&fr, m->cdf[0][0]), fy_frac(&fr, 0));
        for (size_t j = 0; j < m->n_cdf; j++)
            fprintf(f, "H%.2fV%.2f", fx(&fr, m->cdf[j][0]),
                    fy_frac(&fr, m->cdf[j][1]));
        fputs("\"><title>", f);
        esc(f, m->name);
        fprintf(f, ": p50 %.2f ms, p95 %.2f ms, p99 %.2f ms over %zu "
                   "URLs</title></path>\n",
                m->p50_ms, m->p95_ms, m->p99_ms, m->n_lat);
        double ly = fr.y0 + 8 + 20 * li++, lx = fr.x0 + fr.pw + 30;
        fprintf(f,
                "<g class=\"legend\"><line x1=\"%.1f\" y1=\"%.1f\" "
                "x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>"
                "<text x=\"%.1f\" y=\"%.1f\">",
                lx, ly, lx + 18, ly, MODE_COLOR(i), lx + 24, ly + 4);
        esc(f, m->name);
        fputs(" (p50 ", f);
        put_ms(f, m->p50_ms);
        fputs(")</text></g>\n", f);
    }
    fputs("</svg>\n", f);
}

/* CPU time (user + sys, children included) beside wall time, per mode. */
static void chart_cpu(FILE *f, const cmp_result *c)
{
    int k = data_modes(c), si = 0;
    double max = 0;
    frame fr;
    for (size_t i = 0; i < c->n_modes; i++) {
        const cmp_mode *m = &c->modes[i];
        if (m->has_data)
            max = fmax(max, fmax(m->proc_s, m->cpu_s));
    }
    frame_init(&fr, 440, 260, 60, 16, 34, 40, max, 5);
    svg_open(f, &fr, "chart-cpu", k, "CPU time against wall time per mode");
    y_axis(f, &fr, "seconds");
    fprintf(f,
            "<g class=\"legend\"><rect x=\"%.1f\" y=\"6\" width=\"12\" "
            "height=\"12\" fill=\"#777\" fill-opacity=\"0.3\" "
            "stroke=\"#777\"/><text x=\"%.1f\" y=\"16\">process wall</text>"
            "<rect "
            "x=\"%.1f\" y=\"6\" width=\"12\" height=\"12\" fill=\"#777\"/>"
            "<text x=\"%.1f\" y=\"16\">CPU user+sys (&#215; wall)</text></g>\n",
            fr.x0 + 4, fr.x0 + 20, fr.x0 + 104, fr.x0 + 120);
    if (!k)
        no_data(f, &fr);
    double slot = fr.pw / (k ? k : 1);
    for (size_t i = 0; i < c->n_modes; i++) {
        const cmp_mode *m = &c->modes[i];
        if (!m->has_data)
            continue;
        double cx = fr.x0 + slot * (si++ + 0.5), bw = slot * 0.3;
        double yw = fy(&fr, m->proc_s), yc = fy(&fr, m->cpu_s);
        double base = fr.y0 + fr.ph;
        fputs("<g class=\"series\" data-mode=\"", f);
        esc(f, m->name);
        fputs("\"><title>", f);
        esc(f, m->name);
        fprintf(f,
                ": process wall %.4f s, CPU %.4f s (%.2f x wall, %d "
                "cores)</title>\n",
                m->proc_s, m->cpu_s, m->cpu_ratio, c->cores);
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                "fill=\"%s\" fill-opacity=\"0.3\" stroke=\"%s\"/>\n"
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                "fill=\"%s\"/>\n</g>\n",
                cx - bw, yw, bw, fmax(base - yw, 0.5), MODE_COLOR(i),
                MODE_COLOR(i), cx, yc, bw, fmax(base - yc, 0.5),
                MODE_COLOR(i));
        fprintf(f,
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">&#215;"
                "%.2f</text>\n<text x=\"%.1f\" y=\"%.1f\" "
                "text-anchor=\"middle\">",
                cx + bw / 2, yc - 5, m->cpu_ratio, cx, base + 16);
        esc(f, m->name);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
}

/* Where the time goes: a bar per mode stacking the phase sums. */
static void chart_phases(FILE *f, const cmp_result *c)
{
    int k = data_modes(c), row = 0;
    double max = 0, rowh = 28;
    frame fr;
    for (size_t i = 0; i < c->n_modes; i++) {
        const cmp_mode *m = &c->modes[i];
        double sum = 0;
        for (int p = 0; m->has_data && p < N_STACK; p++)
            sum += m->phases_ms[stack_phases[p]];
        max = fmax(max, sum);
    }
    double plot = rowh * (k ? k : 1);
    frame_init(&fr, 600, 12 + plot + 90, 72, 96, 12, 90, max, 6);
    svg_open(f, &fr, "chart-phases", k, "phase sums per mode");
    x_axis(f, &fr, "ms, summed over a run's URLs (median of runs)");
    if (!k)
        no_data(f, &fr);
    for (size_t i = 0; i < c->n_modes; i++) {
        const cmp_mode *m = &c->modes[i];
        if (!m->has_data)
            continue;
        double y = fr.y0 + rowh * row++ + 4, bh = rowh - 8, x = fr.x0;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
                fr.x0 - 6, y + bh / 2 + 4);
        esc(f, m->name);
        fputs("</text>\n<g class=\"series\" data-mode=\"", f);
        esc(f, m->name);
        fputs("\">\n", f);
        for (int p = 0; p < N_STACK; p++) {
            double v = m->phases_ms[stack_phases[p]];
            double w = v / fr.top * fr.pw;
            if (!(w > 0))
                continue;
            fprintf(f,
                    "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" "
                    "height=\"%.1f\" fill=\"%s\"><title>",
                    x, y, w, bh, phase_colors[p]);
            esc(f, m->name);
            fprintf(f, " %s: %.2f ms</title></rect>\n",
                    cmp_phase_names[stack_phases[p]], v);
            x += w;
        }
        fprintf(f, "</g>\n<text x=\"%.1f\" y=\"%.1f\">%s-bound</text>\n",
                fr.x0 + fr.pw + 8, y + bh / 2 + 4,
                m->cpu_bound ? "cpu" : "network");
    }
    fputs("<g class=\"legend\">\n", f);
    for (int p = 0; p < N_STACK; p++) {
        double lx = fr.x0 + 120 * (p % 4);
        double ly = fr.y0 + fr.ph + 48 + 18 * (p / 4);
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" "
                "fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                lx, ly, phase_colors[p], lx + 16, ly + 10,
                cmp_phase_names[stack_phases[p]]);
    }
    fputs("</g>\n</svg>\n", f);
}

static void td_num(FILE *f, const char *fmt, double v)
{
    fputs("<td>", f);
    fprintf(f, fmt, v);
    fputs("</td>", f);
}

static void td_mode(FILE *f, const cmp_mode *m, size_t i)
{
    fprintf(f, "<td><span class=\"swatch\" style=\"background:%s\"></span>",
            MODE_COLOR(i));
    esc(f, m->name);
    fputs("</td>", f);
}

static void table_summary(FILE *f, const cmp_result *c)
{
    fputs("<table id=\"summary\">\n<thead><tr><th>mode</th><th>runs</th>"
          "<th>wall s</th><th>req/s</th><th>MB/s</th><th>p50 ms</th>"
          "<th>p95 ms</th><th>p99 ms</th><th>cpu s</th><th>RSS MB</th>"
          "<th>ctx sw</th><th>failed</th><th>bound</th></tr></thead>\n"
          "<tbody>\n", f);
    for (size_t i = 0; i < c->n_modes; i++) {
        const cmp_mode *m = &c->modes[i];
        fputs("<tr data-mode=\"", f);
        esc(f, m->name);
        fputs("\">", f);
        td_mode(f, m, i);
        fprintf(f, "<td>%d/%d</td>", m->completed, c->repeat);
        if (!m->has_data) {
            fputs("<td colspan=\"11\">no run completed</td></tr>\n", f);
            continue;
        }
        td_num(f, "%.3f", m->wall_s);
        td_num(f, "%.1f", m->req_per_s);
        td_num(f, "%.2f", m->mb_per_s);
        td_num(f, "%.2f", m->p50_ms);
        td_num(f, "%.2f", m->p95_ms);
        td_num(f, "%.2f", m->p99_ms);
        td_num(f, "%.3f", m->cpu_s);
        td_num(f, "%.1f", (double)m->max_rss_kb / 1024.0);
        fprintf(f, "<td>%lld</td><td>%lld</td><td>%s</td></tr>\n",
                m->ctx_switches, m->failed, m->cpu_bound ? "cpu" : "network");
    }
    fputs("</tbody>\n</table>\n", f);
}

static void table_phases(FILE *f, const cmp_result *c)
{
    fputs("<table id=\"phases\">\n<thead><tr><th>mode</th>", f);
    for (int p = 0; p < CMP_N_PHASES; p++)
        fprintf(f, "<th>%s</th>", cmp_phase_names[p]);
    fputs("<th>proc s</th><th>cpu/wall</th><th>bound</th></tr></thead>\n"
          "<tbody>\n", f);
    for (size_t i = 0; i < c->n_modes; i++) {
        const cmp_mode *m = &c->modes[i];
        if (!m->has_data)
            continue;
        fputs("<tr data-mode=\"", f);
        esc(f, m->name);
        fputs("\">", f);
        td_mode(f, m, i);
        for (int p = 0; p < CMP_N_PHASES; p++)
            td_num(f, "%.1f", m->phases_ms[p]);
        td_num(f, "%.3f", m->proc_s);
        td_num(f, "%.2f", m->cpu_ratio);
        fprintf(f, "<td>%s</td></tr>\n", m->cpu_bound ? "cpu" : "network");
    }
    fputs("</tbody>\n</table>\n", f);
}

static void table_runs(FILE *f, const cmp_result *c)
{
    fputs("<table id=\"runs\">\n<thead><tr><th>mode</th><th>repeat</th>"
          "<th>order</th><th>outcome</th><th>wall s</th><th>ok</th>"
          "<th>failed</th><th>records</th><th>files in runs/</th></tr>"
          "</thead>\n<tbody>\n", f);
    for (size_t i = 0; i < c->n_modes; i++) {
        const cmp_mode *m = &c->modes[i];
        for (int r = 0; r < c->repeat; r++) {
            const cmp_run *run = &m->runs[r];
            if (!run->order)
                continue; /* never ran: compare was stopped */
            fputs("<tr>", f);
            td_mode(f, m, i);
            fprintf(f, "<td>%d</td><td>%d</td><td>", run->rep, run->order);
            esc(f, run->status);
            fputs("</td>", f);
            if (run->completed) {
                td_num(f, "%.4f", run->wall_s);
                fprintf(f, "<td>%lld</td><td>%lld</td><td>%lld</td>", run->ok,
                        run->failed, run->records);
            } else {
                fputs("<td>-</td><td>-</td><td>-</td><td>-</td>", f);
            }
            fputs("<td>", f);
            esc(f, m->name);
            fprintf(f, "-%d.{jsonl,json,stderr}</td></tr>\n", run->rep);
        }
    }
    fputs("</tbody>\n</table>\n", f);
}

/* The page's own check that its charts were drawn: after load it measures
 * each chart and each series with getBBox() and writes what it found into
 * #render-check (tests read it with chromium --dump-dom). The CDATA
 * markers keep the script well-formed XML and are comments to JS. */
static const char render_check_js[] =
    "<script>//<![CDATA[\n"
    "window.addEventListener('load', function () {\n"
    "  var out = [], charts = document.querySelectorAll('svg.chart');\n"
    "  for (var i = 0; i < charts.length; i++) {\n"
    "    var svg = charts[i], b = svg.getBBox();\n"
    "    var series = svg.querySelectorAll('.series'), drawn = 0;\n"
    "    for (var j = 0; j < series.length; j++) {\n"
    "      var s = series[j].getBBox();\n"
    "      if (s.width > 0 || s.height > 0) drawn++;\n"
    "    }\n"
    "    out.push('chart ' + svg.id + ' width=' + b.width.toFixed(1) +\n"
    "             ' height=' + b.height.toFixed(1) + ' series=' +\n"
    "             series.length + ' drawn=' + drawn + ' expected=' +\n"
    "             svg.getAttribute('data-series'));\n"
    "  }\n"
    "  out.push('charts ' + charts.length);\n"
    "  document.getElementById('render-check').textContent = out.join('\\n');\n"
    "});\n"
    "//]]></script>\n";

static const char page_css[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;"
    "max-width:1240px;padding:0 16px;color:#222;background:#fff}\n"
    "h1{font-size:21px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 6px}\n"
    "h3{font-size:14px;margin:0 0 4px}\n"
    "table{border-collapse:collapse;margin:6px 0}\n"
    "th,td{padding:3px 9px;border-bottom:1px solid #ddd;text-align:right;"
    "font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "th{background:#f3f3f3}\n"
    "th:first-child,td:first-child{text-align:left}\n"
    "#runs td:nth-child(4),#runs td:last-child{text-align:left}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:14px}\n"
    ".panel{border:1px solid #ddd;border-radius:6px;padding:10px 12px;"
    "background:#fcfcfc}\n"
    "svg text{font:11px system-ui,sans-serif;fill:#333}\n"
    ".note{color:#555;font-size:12.5px;max-width:1000px}\n"
    ".swatch{display:inline-block;width:10px;height:10px;margin-right:6px;"
    "border-radius:2px}\n"
    "code{background:#f3f3f3;padding:1px 4px;border-radius:3px}\n"
    "#render-check{color:#888;font-size:11px}\n";

static void panel(FILE *f, const char *title)
{
    fputs("<div class=\"panel\">\n<h3>", f);
    esc(f, title);
    fputs("</h3>\n", f);
}

int compare_write_html(const cmp_result *c, const char *path)
{
    FILE *f = fopen(path, "we");
    if (!f)
        return -1;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
          "<meta charset=\"utf-8\"/>\n"
          "<meta name=\"viewport\" content=\"width=device-width, "
          "initial-scale=1\"/>\n<title>gather compare: ", f);
    if (c->crawl)
        fputs("crawl from ", f);
    esc(f, c->list);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", page_css);
    fputs(c->crawl ? "<h1>gather compare</h1>\n<p>Crawl from <code>"
                   : "<h1>gather compare</h1>\n<p>URL list <code>", f);
    esc(f, c->list);
    fprintf(f, "</code>: %zu mode%s &#215; %d repeat%s, modes interleaved; "
               "%d core%s.</p>\n",
            c->n_modes, c->n_modes == 1 ? "" : "s", c->repeat,
            c->repeat == 1 ? "" : "s", c->cores, c->cores == 1 ? "" : "s");

    fputs("<h2>Summary</h2>\n", f);
    table_summary(f, c);
    fputs("<p class=\"note\">", f);
    esc(f, figures_note);
    fputs(".</p>\n<div class=\"charts\">\n", f);
    panel(f, "Wall time per mode (bar: median; dots: runs)");
    chart_bars(f, c, BARS_WALL);
    fputs("</div>\n", f);
    panel(f, "Throughput per mode (median requests/s)");
    chart_bars(f, c, BARS_RPS);
    fputs("</div>\n", f);
    panel(f, "Latency CDF (every URL of every run)");
    chart_cdf(f, c);
    fputs("</div>\n", f);
    panel(f, "CPU time against the process's wall time");
    chart_cpu(f, c);
    fputs("</div>\n", f);
    panel(f, "Where the time goes");
    chart_phases(f, c);
    fputs("</div>\n</div>\n", f);

    fputs("<h2>Phases</h2>\n", f);
    table_phases(f, c);
    fputs("<p class=\"note\">Per-URL timings from the records, summed over "
          "a run and then the median over runs; <code>write</code> is the "
          "part of <code>transfer</code> spent writing to disk, the other "
          "phases add up to <code>total</code>. Bound: ", f);
    esc(f, cmp_bound_rule);
    fputs(".</p>\n<h2>Runs</h2>\n", f);
    table_runs(f, c);
    fputs("<pre id=\"render-check\">render check did not run</pre>\n", f);
    fputs(render_check_js, f);
    fputs("</body>\n</html>\n", f);

    int rc = ferror(f) ? -1 : 0;
    int e = errno;
    if (fclose(f))
        return -1;
    errno = e;
    return rc;
}
