/* record: builds records with jansson, after forcing every string from the
 * network into valid UTF-8 (jansson refuses anything else). */
#include "record.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

char *record_utf8(const char *s, size_t n, size_t *outlen)
{
    const unsigned char *p = (const unsigned char *)s;
    /* Each bad byte grows to 3 bytes at most. */
    char *out = malloc(n * 3 + 1);
    size_t o = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2
                               : c >= 0xE0 && c <= 0xEF   ? 3
                               : c >= 0xF0 && c <= 0xF4   ? 4
                                                          : 0;
        int ok = len && i + len <= n;
        for (size_t k = 1; ok && k < len; k++)
            ok = (p[i + k] & 0xC0) == 0x80;
        if (ok && len == 3) {
            /* No overlongs (E0 80..9F) and no surrogates (ED A0..BF). */
            ok = !(c == 0xE0 && p[i + 1] < 0xA0) &&
                 !(c == 0xED && p[i + 1] >= 0xA0);
        } else if (ok && len == 4) {
            /* No overlongs (F0 80..8F) and nothing past U+10FFFF. */
            ok = !(c == 0xF0 && p[i + 1] < 0x90) &&
                 !(c == 0xF4 && p[i + 1] >= 0x90);
        }
        if (!ok) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
            continue;
        }
        memcpy(out + o, p + i, len);
        o += len;
        i += len;
    }
    out[o] = '\0';
    if (outlen)
        *outlen = o;
    return out;
}

/* A JSON string from any bytes, or JSON null for NULL. */
static json_t *jstr(const char *s)
{
    if (!s)
        return json_null();
    size_t n;
    char *u = record_utf8(s, strlen(s), &n);
    json_t *j = u ? json_stringn_nocheck(u, n) : NULL;
    free(u);
    return j;
}

static json_t *jstrv(const parse_strv *v)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < v->n; i++)
        if (json_array_append_new(a, jstr(v->v[i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* Milliseconds, rounded to microseconds so records stay short. */
static json_t *jms(double ms)
{
    /* jansson refuses NaN and infinity, and ms * 1000 is infinite past
     * 1.8e305: a clock oddity must not lose a record. */
    double r = ms > 0 ? round(ms * 1000.0) / 1000.0 : 0;
    return json_real(isfinite(r) ? r : 0);
}

char *record_json(const fetch_result *r, const parse_page *page,
                  const parse_field *fields, const char *parse_error)
{
    json_t *o = json_object(), *t = json_object();
    char *line = NULL;
    int bad = !o || !t;
    const char *error = r->error ? r->error : parse_error;

#define PUT(obj, key, val) bad |= json_object_set_new(obj, key, val) != 0
    PUT(t, "queue", jms(r->t.queue));
    PUT(t, "dns", jms(r->t.dns));
    PUT(t, "connect", jms(r->t.connect));
    PUT(t, "tls", jms(r->t.tls));
    PUT(t, "ttfb", jms(r->t.ttfb));
    PUT(t, "transfer", jms(r->t.transfer));
    PUT(t, "write", jms(r->t.write));
    PUT(t, "parse_wait", jms(r->t.parse_wait));
    PUT(t, "parse", jms(r->t.parse));
    PUT(t, "total", jms(r->t.total));

    PUT(o, "url", jstr(r->url));
    PUT(o, "final_url", jstr(r->final_url));
    PUT(o, "status", json_integer(r->status));
    PUT(o, "bytes", json_integer((json_int_t)r->bytes));
    PUT(o, "content_type", jstr(r->content_type));
    PUT(o, "sha256", r->sha256[0] ? json_string(r->sha256) : json_null());
    PUT(o, "path", jstr(r->path));
    PUT(o, "error", jstr(error));
    PUT(o, "attempts", json_integer(r->attempts));
    PUT(o, "etag", jstr(r->etag));
    PUT(o, "last_modified", jstr(r->last_modified));
    PUT(o, "unchanged", json_boolean(r->not_modified));
    PUT(o, "timings", json_incref(t));
    if (page) {
        PUT(o, "title", jstr(page->title));
        PUT(o, "description", jstr(page->description));
        PUT(o, "links", jstrv(&page->links));
        PUT(o, "images", jstrv(&page->images));
        PUT(o, "words", json_integer((json_int_t)page->words));
        if (page->n_fields) {
            json_t *f = json_object();
            bad |= !f;
            for (size_t i = 0; f && i < page->n_fields; i++) {
                char *key = record_utf8(fields[i].name, strlen(fields[i].name),
                                        NULL);
                bad |= !key;
                if (key)
                    PUT(f, key, jstrv(&page->fields[i]));
                free(key);
            }
            PUT(o, "fields", f);
        }
    }
#undef PUT
    if (!bad)
        line = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(t);
    json_decref(o);
    return line;
}
