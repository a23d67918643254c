/* wire: length-prefixed serialisation for the worker protocol. */
#include "wire.h"

#include <stdlib.h>
#include <string.h>

#define WIRE_NULL UINT32_MAX

void wire_clear(wire *w)
{
    free(w->buf);
    memset(w, 0, sizeof *w);
}

void wire_put_bytes(wire *w, const void *p, size_t n)
{
    if (w->failed)
        return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n)
            cap *= 2;
        char *b = realloc(w->buf, cap);
        if (!b) {
            w->failed = 1;
            return;
        }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

void wire_put_u64(wire *w, uint64_t v)
{
    wire_put_bytes(w, &v, sizeof v);
}

void wire_put_f64(wire *w, double v)
{
    wire_put_bytes(w, &v, sizeof v);
}

void wire_put_str(wire *w, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    uint32_t len = s && n < WIRE_NULL ? (uint32_t)n : WIRE_NULL;
    wire_put_bytes(w, &len, sizeof len);
    if (len != WIRE_NULL)
        wire_put_bytes(w, s, len);
}

static int get(wire_rd *r, void *out, size_t n)
{
    if (r->failed || r->left < n) {
        r->failed = 1;
        memset(out, 0, n);
        return -1;
    }
    memcpy(out, r->p, n);
    r->p += n;
    r->left -= n;
    return 0;
}

uint64_t wire_get_u64(wire_rd *r)
{
    uint64_t v;
    get(r, &v, sizeof v);
    return v;
}

double wire_get_f64(wire_rd *r)
{
    double v;
    get(r, &v, sizeof v);
    return v;
}

char *wire_get_str(wire_rd *r)
{
    uint32_t len;
    if (get(r, &len, sizeof len) || len == WIRE_NULL)
        return NULL;
    if (r->left < len) {
        r->failed = 1;
        return NULL;
    }
    char *s = malloc((size_t)len + 1);
    if (!s) {
        r->failed = 1;
        return NULL;
    }
    memcpy(s, r->p, len);
    s[len] = '\0';
    r->p += len;
    r->left -= len;
    return s;
}

void wire_put_result(wire *w, const fetch_result *res)
{
    wire_put_str(w, res->url);
    wire_put_str(w, res->final_url);
    wire_put_u64(w, (uint64_t)res->status);
    wire_put_u64(w, res->bytes);
    wire_put_str(w, res->content_type);
    wire_put_str(w, res->sha256);
    wire_put_str(w, res->path);
    wire_put_str(w, res->error);
    const double *t = &res->t.queue;
    for (size_t i = 0; i < sizeof res->t / sizeof *t; i++)
        wire_put_f64(w, t[i]);
    wire_put_u64(w, (uint64_t)res->is_html);
    wire_put_f64(w, res->done_ms);
    wire_put_u64(w, (uint64_t)res->attempts);
    wire_put_u64(w, (uint64_t)res->interrupted);
    wire_put_str(w, res->etag);
    wire_put_str(w, res->last_modified);
    wire_put_u64(w, (uint64_t)res->not_modified);
    wire_put_u64(w, (uint64_t)res->throttled);
}

int wire_get_result(wire_rd *r, fetch_result *res)
{
    memset(res, 0, sizeof *res);
    res->url = wire_get_str(r);
    res->final_url = wire_get_str(r);
    res->status = (long)wire_get_u64(r);
    res->bytes = wire_get_u64(r);
    res->content_type = wire_get_str(r);
    char *sha = wire_get_str(r);
    if (sha && strlen(sha) < sizeof res->sha256)
        strcpy(res->sha256, sha);
    free(sha);
    res->path = wire_get_str(r);
    res->error = wire_get_str(r);
    double *t = &res->t.queue;
    for (size_t i = 0; i < sizeof res->t / sizeof *t; i++)
        t[i] = wire_get_f64(r);
    res->is_html = (int)wire_get_u64(r);
    res->done_ms = wire_get_f64(r);
    res->attempts = (int)wire_get_u64(r);
    res->interrupted = (int)wire_get_u64(r);
    res->etag = wire_get_str(r);
    res->last_modified = wire_get_str(r);
    res->not_modified = (int)wire_get_u64(r);
    res->throttled = (int)wire_get_u64(r);
    return r->failed ? -1 : 0;
}
