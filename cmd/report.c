/* report: progress line, error lines and the summary of a run. */
#include "report.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

struct report {
    int progress;
    long total;
    uint64_t ok, failed, bytes;
    float *lat;         /* owned; latency of every URL, ms */
    size_t n, cap;
    double t0, last_draw;
    int drawn;          /* a progress line is on screen */
    long child_rss_kb;  /* summed peaks of worker processes, or 0 */
    long queue_peak;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

report *report_new(int progress, long total)
{
    report *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->progress = progress;
    r->total = total;
    r->t0 = now_s();
    return r;
}

void report_free(report *r)
{
    if (!r)
        return;
    free(r->lat);
    free(r);
}

void report_add(report *r, int ok, uint64_t bytes, double latency_ms)
{
    if (ok)
        r->ok++;
    else
        r->failed++;
    r->bytes += bytes;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4096;
        float *l = realloc(r->lat, cap * sizeof *l);
        if (!l)
            return; /* percentiles then cover fewer URLs; counts stay right */
        r->lat = l;
        r->cap = cap;
    }
    r->lat[r->n++] = (float)latency_ms;
}

void report_add_child_rss(report *r, long kb)
{
    r->child_rss_kb += kb;
}

void report_queue_depth(report *r, long n)
{
    if (n > r->queue_peak)
        r->queue_peak = n;
}

static void clear_line(report *r)
{
    if (r->drawn) {
        fputs("\r\033[K", stderr);
        r->drawn = 0;
    }
}

void report_error(report *r, const char *url, const char *msg)
{
    clear_line(r);
    fprintf(stderr, "gather: %s: %s\n", url, msg);
}

void report_tick(report *r)
{
    double t = now_s();
    if (!r->progress || t - r->last_draw < 0.2)
        return;
    r->last_draw = t;
    double el = t - r->t0;
    uint64_t done = r->ok + r->failed;
    char total[32] = "?";
    if (r->total >= 0)
        snprintf(total, sizeof total, "%ld", r->total);
    fprintf(stderr, "\r\033[K%llu/%s  %.1f req/s  %.1f MB  %llu failed",
            (unsigned long long)done, total, el > 0 ? (double)done / el : 0.0,
            (double)r->bytes / 1e6, (unsigned long long)r->failed);
    r->drawn = 1;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v. */
static double pct(const float *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (k < 1)
        k = 1;
    return v[k > n ? n - 1 : k - 1];
}

void report_summarise(report *r, report_summary *s)
{
    struct rusage self, kids;
    memset(s, 0, sizeof *s);
    clear_line(r);
    s->ok = r->ok;
    s->failed = r->failed;
    s->bytes = r->bytes;
    s->wall_s = now_s() - r->t0;
    if (s->wall_s > 0) {
        s->req_per_s = (double)(r->ok + r->failed) / s->wall_s;
        s->mb_per_s = (double)r->bytes / 1e6 / s->wall_s;
    }
    if (r->n) /* qsort wants a non-null array, even empty */
        qsort(r->lat, r->n, sizeof *r->lat, cmp_float);
    s->p50_ms = pct(r->lat, r->n, 50);
    s->p95_ms = pct(r->lat, r->n, 95);
    s->p99_ms = pct(r->lat, r->n, 99);
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
#define TV(tv) ((double)(tv).tv_sec + (double)(tv).tv_usec / 1e6)
    s->user_s = TV(self.ru_utime) + TV(kids.ru_utime);
    s->sys_s = TV(self.ru_stime) + TV(kids.ru_stime);
#undef TV
    s->max_rss_kb = self.ru_maxrss +
                    (r->child_rss_kb ? r->child_rss_kb : kids.ru_maxrss);
    s->vol_cs = self.ru_nvcsw + kids.ru_nvcsw;
    s->invol_cs = self.ru_nivcsw + kids.ru_nivcsw;
    s->parse_queue_peak = r->queue_peak;
}

void report_print(const report_summary *s, const char *mode, FILE *f)
{
    fprintf(f,
            "gather: %s: %llu ok, %llu failed, %.2f MB in %.3f s "
            "(%.1f req/s, %.2f MB/s)\n"
            "gather: latency p50 %.1f ms, p95 %.1f ms, p99 %.1f ms; "
            "cpu %.2f s user, %.2f s sys; peak RSS %.1f MB\n",
            mode, (unsigned long long)s->ok, (unsigned long long)s->failed,
            (double)s->bytes / 1e6, s->wall_s, s->req_per_s, s->mb_per_s,
            s->p50_ms, s->p95_ms, s->p99_ms, s->user_s, s->sys_s,
            (double)s->max_rss_kb / 1024.0);
}

int report_write_json(const report_summary *s, const char *mode,
                      void *extra, const char *path)
{
    json_t *o = json_pack(
        "{s:s, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I,"
        " s:I, s:I, s:I}",
        "mode", mode, "ok", (json_int_t)s->ok, "failed", (json_int_t)s->failed,
        "bytes", (json_int_t)s->bytes, "wall_s", s->wall_s, "req_per_s",
        s->req_per_s, "mb_per_s", s->mb_per_s, "p50_ms", s->p50_ms, "p95_ms",
        s->p95_ms, "p99_ms", s->p99_ms, "user_s", s->user_s, "sys_s",
        s->sys_s, "max_rss_kb", (json_int_t)s->max_rss_kb, "vol_cs",
        (json_int_t)s->vol_cs, "invol_cs", (json_int_t)s->invol_cs,
        "parse_queue_peak", (json_int_t)s->parse_queue_peak);
    if (!o) {
        errno = ENOMEM;
        return -1;
    }
    if (extra)
        json_object_update(o, extra);
    int rc = json_dump_file(o, path, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(o);
    return rc ? -1 : 0;
}
