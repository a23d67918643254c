/* test_sched: politeness decisions, on a clock the test moves by hand, so
 * every assertion is about which URL may start, never about time passing.
 * Also the fingerprint set the crawl deduplicates with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/fpset.h"
#include "cmd/sched.h"

/* A source that hands out a fixed list. */
typedef struct src {
    const char *const *urls;
    size_t n, next;
} src;

static int pull(void *ctx, int block, sched_entry *out)
{
    src *s = ctx;
    (void)block;
    if (s->next == s->n)
        return -1;
    out->url = strdup(s->urls[s->next++]);
    out->depth = 0;
    out->requisite = 0;
    return 1;
}

static sched *make(src *s, long per_host, long delay_ms, size_t window)
{
    sched_opts o = {.per_host = per_host, .delay_ms = delay_ms,
                    .window = window, .pull = pull, .ctx = s};
    sched *sc = sched_new(&o);
    assert_non_null(sc);
    return sc;
}

/* Takes one URL at time now; returns it (malloced) or NULL. */
static char *take(sched *sc, double now, double *wait)
{
    sched_entry e = {0};
    double w = -2;
    int rc = sched_take(sc, now, &e, &w);
    if (wait)
        *wait = w;
    return rc == 1 ? e.url : NULL;
}

static void test_per_host_cap(void **state)
{
    (void)state;
    static const char *const urls[] = {
        "http://a.test/1", "http://a.test/2", "http://a.test/3",
        "http://b.test/1", "http://A.TEST:80/4",
    };
    src s = {urls, 5, 0};
    sched *sc = make(&s, 2, 0, 0);
    char *u1 = take(sc, 0, NULL), *u2 = take(sc, 0, NULL);
    assert_string_equal(u1, "http://a.test/1");
    assert_string_equal(u2, "http://a.test/2");
    /* a.test has 2 in flight: b.test goes next, then nothing. */
    char *u3 = take(sc, 0, NULL);
    assert_string_equal(u3, "http://b.test/1");
    double wait;
    assert_null(take(sc, 0, &wait));
    assert_true(wait < 0); /* not before a transfer ends */
    assert_int_equal(sched_inflight(sc), 3);
    sched_done(sc, u1, 0);
    char *u4 = take(sc, 1, NULL);
    assert_string_equal(u4, "http://a.test/3");
    sched_done(sc, u2, 0);
    /* The same host, however it is spelled. */
    char *u5 = take(sc, 1, NULL);
    assert_string_equal(u5, "http://A.TEST:80/4");
    sched_done(sc, u3, 0);
    sched_done(sc, u4, 0);
    sched_done(sc, u5, 0);
    assert_int_equal(take(sc, 3, NULL) == NULL, 1);
    sched_entry e;
    double w;
    assert_int_equal(sched_take(sc, 3, &e, &w), -1); /* the end */
    free(u1), free(u2), free(u3), free(u4), free(u5);
    sched_free(sc);
}

static void test_delay(void **state)
{
    (void)state;
    static const char *const urls[] = {"http://a.test/1", "http://a.test/2",
                                       "http://b.test/1"};
    src s = {urls, 3, 0};
    sched *sc = make(&s, 0, 500, 0);
    char *u1 = take(sc, 1000, NULL);
    assert_string_equal(u1, "http://a.test/1");
    /* a.test waits 500 ms; b.test has not started yet and goes now. */
    char *u2 = take(sc, 1000, NULL);
    assert_string_equal(u2, "http://b.test/1");
    double wait;
    assert_null(take(sc, 1200, &wait));
    assert_true(wait > 299 && wait <= 300);
    char *u3 = take(sc, 1500, NULL);
    assert_string_equal(u3, "http://a.test/2");
    free(u1), free(u2), free(u3);
    sched_free(sc);
}

static void test_robots_delay(void **state)
{
    (void)state;
    static const char *const urls[] = {"http://a.test/1", "http://a.test/2"};
    src s = {urls, 2, 0};
    sched *sc = make(&s, 0, 0, 0);
    sched_host_delay(sc, "a.test:80", 2000);
    char *u1 = take(sc, 0, NULL);
    assert_non_null(u1);
    double wait;
    assert_null(take(sc, 1999, &wait));
    char *u2 = take(sc, 2000, NULL);
    assert_string_equal(u2, "http://a.test/2");
    free(u1), free(u2);
    sched_free(sc);
}

/* A 429 halves the host's concurrency and spaces its starts. */
static void test_throttled(void **state)
{
    (void)state;
    const char *urls[12];
    char buf[12][32];
    for (int i = 0; i < 12; i++) {
        snprintf(buf[i], sizeof buf[i], "http://a.test/%d", i);
        urls[i] = buf[i];
    }
    src s = {urls, 12, 0};
    sched *sc = make(&s, 4, 0, 0);
    char *got[12] = {0};
    for (int i = 0; i < 4; i++)
        assert_non_null(got[i] = take(sc, 0, NULL));
    assert_null(take(sc, 0, NULL)); /* the cap of 4 */
    sched_done(sc, got[0], 1);  /* throttled: cap 2, 3 still in flight */
    assert_null(take(sc, 10, NULL));
    sched_done(sc, got[1], 0);
    sched_done(sc, got[2], 0);
    /* 1 in flight, cap back to 4 after two good answers, but the penalty
     * (500 ms, halved twice: 125 ms) spaces the next start. */
    double wait;
    assert_null(take(sc, 20, &wait));
    assert_true(wait > 0);
    assert_non_null(got[4] = take(sc, 10 + 500, NULL));
    for (int i = 0; i < 12; i++)
        free(got[i]);
    sched_free(sc);
}

/* The window bounds read-ahead: a blocked host does not make the
 * scheduler read the whole list. */
static void test_window(void **state)
{
    (void)state;
    const char *urls[100];
    for (int i = 0; i < 100; i++)
        urls[i] = "http://a.test/same";
    src s = {urls, 100, 0};
    sched *sc = make(&s, 1, 0, 10);
    char *u = take(sc, 0, NULL);
    assert_non_null(u);
    assert_null(take(sc, 0, NULL));
    assert_true(sched_queued(sc) <= 10);
    assert_true(s.next <= 11);
    free(u);
    sched_free(sc);
}

/* A host new_host holds (its robots.txt being read elsewhere). */
typedef struct holder {
    src s;
    sched *sc;
    int new_hosts;      /* new_host calls */
    int polls;          /* poll calls */
    int release;        /* the next poll releases a.test */
    size_t found;       /* with release: the source's list grows to this */
    char first[64];     /* the URL new_host saw for a.test */
} holder;

static int hold_pull(void *ctx, int block, sched_entry *out)
{
    return pull(&((holder *)ctx)->s, block, out);
}

static void hold_new_host(void *ctx, const char *host, const char *url)
{
    holder *h = ctx;
    h->new_hosts++;
    if (!strcmp(host, "a.test:80")) {
        snprintf(h->first, sizeof h->first, "%s", url);
        sched_host_hold(h->sc, host);
    }
}

static void hold_poll(void *ctx)
{
    holder *h = ctx;
    h->polls++;
    if (h->release) {
        h->release = 0;
        if (h->found)
            h->s.n = h->found;
        sched_host_ready(h->sc, "a.test:80");
    }
}

/* A held host's URLs wait, in order, while the other hosts go on; there
 * is no time to wait for (the holder wakes the caller when it releases the
 * host), and the release comes through poll. */
static void test_held_host(void **state)
{
    (void)state;
    static const char *const urls[] = {"http://a.test/1", "http://b.test/1",
                                       "http://a.test/2"};
    holder h = {.s = {urls, 3, 0}};
    sched_opts o = {.pull = hold_pull, .new_host = hold_new_host,
                    .poll = hold_poll, .ctx = &h};
    assert_non_null(h.sc = sched_new(&o));
    char *u1 = take(h.sc, 0, NULL);
    assert_string_equal(u1, "http://b.test/1");
    assert_string_equal(h.first, "http://a.test/1");
    double wait;
    assert_null(take(h.sc, 0, &wait));
    assert_true(wait < 0);
    sched_done(h.sc, u1, 0);
    sched_entry e;
    assert_int_equal(sched_take(h.sc, 1, &e, &wait), 0); /* not the end */
    h.release = 1;
    char *u2 = take(h.sc, 2, NULL), *u3 = take(h.sc, 2, NULL);
    assert_string_equal(u2, "http://a.test/1");
    assert_string_equal(u3, "http://a.test/2");
    assert_int_equal(h.new_hosts, 2);
    assert_int_equal(h.polls, 5);
    sched_done(h.sc, u2, 0);
    sched_done(h.sc, u3, 0);
    assert_int_equal(sched_take(h.sc, 3, &e, &wait), -1);
    free(u1), free(u2), free(u3);
    sched_free(h.sc);
}

static int drop_seed(void *ctx, const char *host, const sched_entry *e)
{
    (void)ctx, (void)host;
    return strcmp(e->url, "http://a.test/seed") != 0;
}

/* What the holder found while the host was held (a crawl's sitemaps) is
 * still asked for after the source ran dry, even when no transfer ever
 * ends: here the only URL before it is dropped (robots.txt). */
static void test_held_host_finds_more(void **state)
{
    (void)state;
    static const char *const urls[] = {"http://a.test/seed",
                                       "http://a.test/from-sitemap"};
    holder h = {.s = {urls, 1, 0}, .found = 2};
    sched_opts o = {.pull = hold_pull, .new_host = hold_new_host,
                    .poll = hold_poll, .admit = drop_seed, .ctx = &h};
    assert_non_null(h.sc = sched_new(&o));
    double wait;
    assert_null(take(h.sc, 0, &wait)); /* held; the source is dry */
    assert_true(wait < 0);
    h.release = 1;
    char *u = take(h.sc, 1, NULL);
    assert_non_null(u);
    assert_string_equal(u, "http://a.test/from-sitemap");
    sched_done(h.sc, u, 0);
    sched_entry e;
    assert_int_equal(sched_take(h.sc, 2, &e, &wait), -1);
    free(u);
    sched_free(h.sc);
}

static void test_fpset(void **state)
{
    (void)state;
    fpset *s = fpset_new(1);
    assert_non_null(s);
    char url[64];
    for (int i = 0; i < 20000; i++) {
        snprintf(url, sizeof url, "http://h/%d", i);
        assert_int_equal(fpset_add(s, fpset_key(url), (uint64_t)i), 1);
    }
    assert_int_equal(fpset_add(s, fpset_key("http://h/7"), 99), 0);
    assert_int_equal(fpset_count(s), 20000);
    /* Remove every third, then every value must still be found. */
    for (int i = 0; i < 20000; i += 3) {
        snprintf(url, sizeof url, "http://h/%d", i);
        assert_int_equal(fpset_del(s, fpset_key(url)), 1);
    }
    for (int i = 0; i < 20000; i++) {
        uint64_t v = 0;
        snprintf(url, sizeof url, "http://h/%d", i);
        assert_int_equal(fpset_get(s, fpset_key(url), &v), i % 3 != 0);
        if (i % 3)
            assert_int_equal(v, (uint64_t)i);
    }
    assert_false(fpset_get(s, fpset_key("http://h/absent"), NULL));
    /* At most 21.4 bytes per fingerprint plus values: 3/8 to 3/4 load. */
    assert_true(fpset_bytes(s) <= 20000 * 2 * 8 * 8 / 3 + 1024);
    fpset_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_per_host_cap),
        cmocka_unit_test(test_delay),
        cmocka_unit_test(test_robots_delay),
        cmocka_unit_test(test_throttled),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_held_host),
        cmocka_unit_test(test_held_host_finds_more),
        cmocka_unit_test(test_fpset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
