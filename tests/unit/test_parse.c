/* test_parse: parse_html() and its XPath fields. The extraction cases are
 * data: each cases/NAME.html is parsed as fetched from the "url" of
 * cases/NAME.json, links are resolved with the real resolver, and the
 * record is compared with the rest of that file. The --xpath cases are
 * data too, in cases/fields/ (see run_field_case). The C tests below cover
 * what data files cannot: generated documents, XPath and error paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/record.h"
#include "fetch/fetch.h"
#include "parse/parse.h"
#include "unit_cases.h"

#define CASES "cases"
#define PAGE "http://example.com/dir/page.html"

/* The resolver the program uses, so the cases show what users get. */
static int resolve_cb(void *ctx, const char *base, char *const *refs,
                      size_t n, char **out)
{
    (void)ctx;
    return fetch_url_resolve_all(base, refs, n, out, NULL);
}

/* Both groups use these. curl counts its inits and xmlInitParser() may run
 * twice, but libxml2 must be cleaned up only once, at the very end. */
/* ---- the data cases ---- */

/* Parses html as the program does and returns the record parsed back into
 * JSON, or NULL with a message in err. */
static json_t *parse_to_json(const char *html, size_t len, const char *url,
                             const char *charset, char *err, size_t errlen)
{
    parse_opts o = {.resolve = resolve_cb};
    parse_page page = {0};
    fetch_result r = {.url = (char *)url};
    json_t *j = NULL;

    int rc = parse_html(html, len, url, charset, &o, &page, err, errlen);
    if (rc) {
        /* Prefix the parser's own message, which is already in err. */
        size_t n = strlen(err);
        char head[64];
        int h = snprintf(head, sizeof head, "parse_html %d (%s): ", rc,
                         parse_strerror(rc));
        if (h > 0 && n + (size_t)h < errlen) {
            memmove(err + h, err, n + 1);
            memcpy(err, head, (size_t)h);
        }
    } else {
        char *line = record_json(&r, &page, NULL, NULL);
        j = line ? json_loads(line, 0, NULL) : NULL;
        if (!j)
            snprintf(err, errlen, "record_json: no record");
        free(line);
    }
    parse_page_clear(&page);
    return j;
}

static void run_case(void **state)
{
    const char *name = *state;
    char path[512], err[512] = "";
    size_t html_len, json_len;

    snprintf(path, sizeof path, "%s.html", name);
    char *html = unit_slurp(path, &html_len);
    snprintf(path, sizeof path, "%s.json", name);
    char *text = unit_slurp(path, &json_len);
    if (!html || !text) {
        free(html);
        free(text);
        fail_msg("%s: cannot read %s", name, path);
    }
    json_error_t je;
    json_t *want = json_loads(text, 0, &je);
    free(text);
    if (!json_is_object(want)) {
        free(html);
        json_decref(want);
        fail_msg("%s: bad JSON: %s (line %d)", path, je.text, je.line);
    }
    const char *url = json_string_value(json_object_get(want, "url"));
    const char *charset = json_string_value(json_object_get(want, "charset"));

    json_t *got = parse_to_json(html, html_len, url ? url : PAGE, charset,
                                err, sizeof err);
    free(html);

    /* Compare the keys the case names, besides its inputs. */
    json_object_del(want, "url");
    json_object_del(want, "charset");
    json_t *sub = json_object();
    int mismatches = 0;
    const char *key;
    json_t *w;
    json_object_foreach(want, key, w) {
        if (!got)
            break;
        json_t *g = json_object_get(got, key);
        if (g)
            json_object_set(sub, key, g);
        if (g && json_equal(g, w))
            continue;
        char *ws = json_dumps(w, JSON_ENCODE_ANY);
        char *gs = g ? json_dumps(g, JSON_ENCODE_ANY) : NULL;
        print_error("%s: \"%s\" differs\n  want: %s\n  got:  %s\n", name, key,
                    ws, gs ? gs : "(missing)");
        free(ws);
        free(gs);
        mismatches++;
    }
    if (mismatches) {
        /* Both records whole, in the layout of the .json file. */
        const size_t flags = JSON_INDENT(2) | JSON_SORT_KEYS;
        char *ws = json_dumps(want, flags), *gs = json_dumps(sub, flags);
        print_error("%s: want\n%s\n%s: got\n%s\n", name, ws, name, gs);
        free(ws);
        free(gs);
    }
    int parsed = got != NULL;
    json_decref(sub);
    json_decref(want);
    json_decref(got);
    if (!parsed)
        fail_msg("%s: %s", name, err);
    if (mismatches)
        fail_msg("%s: %d field(s) differ", name, mismatches);
}

/* ---- the --xpath field cases ---- */

#define MAX_FIELDS 16

/* Reads the NAME=XPATH lines of text into f, in place; blank lines and
 * lines starting with '#' are skipped. Returns how many, or -1 for a line
 * without '=' or more than MAX_FIELDS fields. */
static int read_fields(char *text, parse_field *f)
{
    int n = 0;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        line[strcspn(line, "\r")] = '\0';
        if (!*line || *line == '#')
            continue;
        char *eq = strchr(line, '=');
        if (!eq || n == MAX_FIELDS)
            return -1;
        *eq = '\0';
        f[n++] = (parse_field){.name = line, .expr = eq + 1};
    }
    return n;
}

/* cases/fields/NAME.html is parsed with the fields of NAME.fields, as
 * --xpath NAME=XPATH gives them, and the "fields" object of the record
 * (what users see) is compared with NAME.json. When NAME.json holds a
 * string instead of an object, the parse must fail with a message that
 * contains the string. */
static void run_field_case(void **state)
{
    const char *name = *state;
    char path[512], err[256] = "", why[640] = "";
    size_t html_len, spec_len;
    parse_field fields[MAX_FIELDS];
    json_error_t je = {.text = ""};

    snprintf(path, sizeof path, "%s.html", name);
    char *html = unit_slurp(path, &html_len);
    snprintf(path, sizeof path, "%s.fields", name);
    char *spec = unit_slurp(path, &spec_len);
    snprintf(path, sizeof path, "%s.json", name);
    json_t *want = json_load_file(path, JSON_DECODE_ANY, &je);
    int n = spec ? read_fields(spec, fields) : -1;
    if (!html || n <= 0 || !want) {
        free(html);
        free(spec);
        json_decref(want);
        fail_msg("%s: cannot read the case (%d fields) %s", name, n, je.text);
    }

    parse_opts o = {.resolve = resolve_cb, .fields = fields,
                    .n_fields = (size_t)n};
    parse_page page = {0};
    json_t *got = NULL;
    int rc = parse_html(html, html_len, PAGE, NULL, &o, &page, err,
                        sizeof err);
    if (rc == PARSE_OK) {
        fetch_result r = {.url = (char *)PAGE};
        char *line = record_json(&r, &page, fields, NULL);
        json_t *rec = line ? json_loads(line, 0, NULL) : NULL;
        got = json_incref(json_object_get(rec, "fields"));
        json_decref(rec);
        free(line);
    }
    parse_page_clear(&page);

    if (json_is_string(want)) {
        if (rc == PARSE_OK)
            snprintf(why, sizeof why, "parsed, want an error");
        else if (!strstr(err, json_string_value(want)))
            snprintf(why, sizeof why, "message [%s] lacks [%s]", err,
                     json_string_value(want));
    } else if (rc != PARSE_OK) {
        snprintf(why, sizeof why, "parse_html %d: %s", rc, err);
    } else if (!json_equal(got, want)) {
        const size_t flags = JSON_INDENT(2) | JSON_SORT_KEYS;
        char *ws = json_dumps(want, flags), *gs = json_dumps(got, flags);
        print_error("%s: want\n%s\n%s: got\n%s\n", name, ws, name,
                    gs ? gs : "(no fields)");
        free(ws);
        free(gs);
        snprintf(why, sizeof why, "fields differ");
    }
    free(html);
    free(spec);
    json_decref(want);
    json_decref(got);
    if (why[0])
        fail_msg("%s: %s", name, why);
}

/* ---- generated documents ---- */

/* Far deeper than any real page, and deeper than libxml2's default limit
 * of 256: the text and links after the deep part must not be lost. */
static void test_deep_nesting(void **state)
{
    (void)state;
    const int depth = 5000;
    const char *head = "<html><body><p>before</p>";
    const char *mid = "deep words here <a href=\"deep.html\">x</a>";
    const char *tail = "<p>after</p><a href=\"after.html\">y</a></body></html>";
    size_t cap = strlen(head) + strlen(mid) + strlen(tail) + depth * 11 + 1;
    char *doc = malloc(cap), *p = doc;
    assert_non_null(doc);
    p += sprintf(p, "%s", head);
    for (int i = 0; i < depth; i++)
        p += sprintf(p, "<div>");
    p += sprintf(p, "%s", mid);
    for (int i = 0; i < depth; i++)
        p += sprintf(p, "</div>");
    p += sprintf(p, "%s", tail);

    parse_opts o = {.resolve = resolve_cb};
    parse_page page = {0};
    char err[256] = "";
    int rc = parse_html(doc, (size_t)(p - doc), PAGE, NULL, &o, &page, err,
                        sizeof err);
    free(doc);
    uint64_t words = page.words;
    size_t nlinks = page.links.n;
    int after = nlinks == 2 && !strcmp(page.links.v[1],
                                       "http://example.com/dir/after.html");
    parse_page_clear(&page);
    assert_int_equal(rc, 0);
    /* before, deep, words, here, x, after, y */
    if (words != 7 || !after)
        fail_msg("depth %d: %llu words (want 7), %zu links (want 2)", depth,
                 (unsigned long long)words, nlinks);
}

/* Many links, most of them repeated: each unique URL once, in order. */
static void test_many_duplicate_links(void **state)
{
    (void)state;
    const int n = 3000, unique = 100;
    size_t cap = (size_t)n * 40 + 64;
    char *doc = malloc(cap), *p = doc;
    assert_non_null(doc);
    p += sprintf(p, "<html><body>");
    for (int i = 0; i < n; i++)
        p += sprintf(p, "<a href=\"p%d.html#%d\">l</a>\n", i % unique, i);
    p += sprintf(p, "</body></html>");

    parse_opts o = {.resolve = resolve_cb};
    parse_page page = {0};
    char err[256];
    int rc = parse_html(doc, (size_t)(p - doc), PAGE, NULL, &o, &page, err,
                        sizeof err);
    free(doc);
    int in_order = page.links.n == (size_t)unique;
    for (size_t i = 0; in_order && i < page.links.n; i++) {
        char want[64];
        snprintf(want, sizeof want, "http://example.com/dir/p%zu.html", i);
        in_order = !strcmp(page.links.v[i], want);
    }
    size_t got = page.links.n;
    uint64_t words = page.words;
    parse_page_clear(&page);
    assert_int_equal(rc, 0);
    assert_int_equal(got, unique);
    assert_true(in_order);
    assert_int_equal(words, n);
}

/* Words are runs of anything but ASCII blanks, no-break spaces (also as
 * &nbsp;) and ideographic spaces, wherever the parser cuts the text into
 * chunks. Random text from pieces that stress the 8-byte blocks of the
 * counter (ASCII runs, multi-byte characters at every offset, blanks at
 * block edges) must give the count of a plain byte-by-byte reference.
 * (libxml2 drops \f and \v, which XML does not allow, so they are left
 * out.) */
static int ref_blank(const unsigned char *p, size_t left)
{
    if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
        return 1;
    if (left >= 2 && p[0] == 0xC2 && p[1] == 0xA0)
        return 2;
    if (left >= 3 && p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80)
        return 3;
    return 0;
}

static uint64_t ref_words(const char *text, size_t n)
{
    const unsigned char *p = (const unsigned char *)text, *end = p + n;
    uint64_t words = 0;
    int in = 0;
    while (p < end) {
        int b = ref_blank(p, (size_t)(end - p));
        if (!b && !in)
            words++;
        in = !b;
        p += b ? (size_t)b : 1;
    }
    return words;
}

static void test_word_count_random(void **state)
{
    (void)state;
    /* As written in the page, and as the parser hands it over. */
    static const char *const pieces[][2] = {
        {"a", "a"}, {"word", "word"}, {"longerword", "longerword"},
        {" ", " "}, {"  ", "  "}, {"\t", "\t"}, {"\n", "\n"},
        {"\r\n", "\r\n"}, {"\xc2\xa0", "\xc2\xa0"}, {"&nbsp;", "\xc2\xa0"},
        {"\xe3\x80\x80", "\xe3\x80\x80"}, {"\xc3\xa9", "\xc3\xa9"},
        {"\xe2\x82\xac", "\xe2\x82\xac"}, {"&amp;", "&"}, {"~", "~"},
        {"\x7f", "\x7f"}, {"0123456", "0123456"},
    };
    const size_t npieces = sizeof pieces / sizeof *pieces;
    enum { DOCS = 400, MAXP = 600 };
    char *doc = malloc(MAXP * 16 + 64), *text = malloc(MAXP * 16 + 1);
    assert_non_null(doc);
    assert_non_null(text);
    srand(20261121);
    for (int d = 0; d < DOCS; d++) {
        size_t np = (size_t)(rand() % MAXP), dl = 0, tl = 0;
        dl += (size_t)sprintf(doc, "<html><body><p>");
        for (size_t i = 0; i < np; i++) {
            size_t k = (size_t)rand() % npieces;
            size_t a = strlen(pieces[k][0]), b = strlen(pieces[k][1]);
            memcpy(doc + dl, pieces[k][0], a);
            memcpy(text + tl, pieces[k][1], b);
            dl += a;
            tl += b;
        }
        dl += (size_t)sprintf(doc + dl, "</p></body></html>");
        parse_page page = {0};
        char err[128];
        int rc = parse_html(doc, dl, PAGE, "utf-8", NULL, &page, err,
                            sizeof err);
        uint64_t got = page.words, want = ref_words(text, tl);
        parse_page_clear(&page);
        assert_int_equal(rc, 0);
        if (got != want) {
            free(doc);
            free(text);
            fail_msg("document %d: %llu words, want %llu", d,
                     (unsigned long long)got, (unsigned long long)want);
        }
    }
    free(doc);
    free(text);
}

static void test_empty_document(void **state)
{
    (void)state;
    parse_page page = {0};
    char err[64] = "";
    assert_int_equal(parse_html("", 0, PAGE, NULL, NULL, &page, err,
                                sizeof err), 0);
    assert_null(page.title);
    assert_null(page.description);
    assert_int_equal(page.links.n, 0);
    assert_int_equal(page.images.n, 0);
    assert_int_equal(page.words, 0);
    parse_page_clear(&page);
}

/* Each thread keeps its parser context from page to page. Whatever a page
 * leaves behind (cut off inside <title> or <script>, a declared Latin-1
 * charset, more invented element names than the kept dictionary may hold)
 * must not change the next page's record: it must equal the record of a
 * thread that parses that page first, with a new context. */
static const char reuse_ref[] =
    "<html><head><base href=\"/b/\"><title> Caf\xc3\xa9  menu </title>"
    "<meta name=\"description\" content=\"Daily &amp; fresh\"></head>"
    "<body><p>one two <b>three</b></p><a href=\"x.html#top\">x</a>"
    "<img src=\"i.png\"><a href=\"x.html\">again</a></body></html>";

static void *reuse_fresh(void *out)
{
    parse_opts o = {.resolve = resolve_cb};
    parse_page page = {0};
    fetch_result r = {.url = PAGE};
    char err[128];
    if (parse_html(reuse_ref, sizeof reuse_ref - 1, PAGE, NULL, &o, &page,
                   err, sizeof err) == 0)
        *(char **)out = record_json(&r, &page, NULL, NULL);
    parse_page_clear(&page);
    return NULL;
}

static void test_reused_parser(void **state)
{
    (void)state;
    char *want = NULL;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, reuse_fresh, &want), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_non_null(want);
    assert_non_null(strstr(want, "\"title\":\"Caf\xc3\xa9 menu\""));

    /* 5,000 distinct element names: past the kept dictionary's bound. */
    size_t cap = 5000 * 24 + 16;
    char *names = malloc(cap), *p = names;
    assert_non_null(names);
    for (int i = 0; i < 5000; i++)
        p += sprintf(p, "<el%d>w</el%d>", i, i);
    const struct {
        const char *doc;
        size_t len;
    } before[] = {
#define DOC(s) {s, sizeof s - 1}
        DOC("<html><head><title>cut off"),
        DOC("<html><body><script>var s = '<a href=\"s.html\">"),
        DOC("<meta charset=\"iso-8859-1\"><title>caf\xe9</title>"),
        {names, (size_t)(p - names)},
        DOC("<p>a <b>b <i>c"),
#undef DOC
    };
    int same = 1;
    for (size_t i = 0; i < sizeof before / sizeof *before; i++) {
        parse_opts o = {.resolve = resolve_cb};
        parse_page page = {0};
        fetch_result r = {.url = PAGE};
        char err[128];
        int rc = parse_html(before[i].doc, before[i].len, PAGE, NULL, &o,
                            &page, err, sizeof err);
        parse_page_clear(&page);
        assert_int_equal(rc, 0);
        rc = parse_html(reuse_ref, sizeof reuse_ref - 1, PAGE, NULL, &o,
                        &page, err, sizeof err);
        char *got = rc ? NULL : record_json(&r, &page, NULL, NULL);
        parse_page_clear(&page);
        if (!got || strcmp(got, want)) {
            print_error("after document %zu:\n got %s\nwant %s\n", i,
                        got ? got : "(none)", want);
            same = 0;
        }
        free(got);
    }
    free(names);
    free(want);
    assert_true(same);
}

/* Twenty threads at once, each parsing twice with all of them alive in
 * between: some keep their context (at most 8 do), the rest parse with
 * one of their own per page; every record must be the same. */
#define PARSE_THREADS 20
static pthread_barrier_t parse_barrier;

static void *parse_twice(void *out)
{
    char **got = out;
    reuse_fresh(&got[0]);
    pthread_barrier_wait(&parse_barrier);
    reuse_fresh(&got[1]);
    return NULL;
}

static void test_parser_threads(void **state)
{
    (void)state;
    pthread_t t[PARSE_THREADS];
    char *got[PARSE_THREADS][2] = {{NULL}};
    char *want = NULL;
    reuse_fresh(&want);
    assert_non_null(want);
    assert_int_equal(pthread_barrier_init(&parse_barrier, NULL, PARSE_THREADS),
                     0);
    for (int i = 0; i < PARSE_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, parse_twice, got[i]), 0);
    int same = 1;
    for (int i = 0; i < PARSE_THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        for (int k = 0; k < 2; k++) {
            same &= got[i][k] && !strcmp(got[i][k], want);
            free(got[i][k]);
        }
    }
    pthread_barrier_destroy(&parse_barrier);
    free(want);
    assert_true(same);
}

/* Without a resolver, links are kept as written (still unique). */
static void test_no_resolver(void **state)
{
    (void)state;
    static const char doc[] =
        "<a href=\"a.html\">1</a><a href=\"a.html\">2</a>"
        "<a href=\"mailto:x@y\">3</a><img src=\"i.png\">";
    parse_page page = {0};
    char err[64];
    assert_int_equal(parse_html(doc, sizeof doc - 1, PAGE, NULL, NULL, &page,
                                err, sizeof err), 0);
    int ok = page.links.n == 2 && !strcmp(page.links.v[0], "a.html") &&
             !strcmp(page.links.v[1], "mailto:x@y") && page.images.n == 1 &&
             !strcmp(page.images.v[0], "i.png");
    parse_page_clear(&page);
    assert_true(ok);
}

/* An entity declared in the document must not pull in a local file. */
static void test_external_entity_not_expanded(void **state)
{
    (void)state;
    /* The test means something only if the file would leak "root:". */
    size_t plen;
    char *passwd = unit_slurp("/etc/passwd", &plen);
    if (!passwd || !strstr(passwd, "root:")) {
        free(passwd);
        skip();
    }
    free(passwd);

    static const char *const docs[] = {
        "<!DOCTYPE html [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
        "<html><head><title>&x;</title></head><body><p>&x;</p></body></html>",
        "<?xml version=\"1.0\"?><!DOCTYPE html ["
        "<!ENTITY x SYSTEM \"/etc/passwd\">]><html><body><p>&x;</p>"
        "<a href=\"&x;\">l</a></body></html>",
        "<!DOCTYPE html SYSTEM \"file:///etc/passwd\"><p>&x;</p>",
    };
    const parse_field fields[] = {{"all", "string(/)"}};
    parse_opts o = {.fields = fields, .n_fields = 1};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        parse_page page = {0};
        char err[256] = "";
        int rc = parse_html(docs[i], strlen(docs[i]), PAGE, NULL, &o, &page,
                            err, sizeof err);
        int leaked = page.title && strstr(page.title, "root:");
        for (size_t k = 0; k < page.links.n; k++)
            leaked |= strstr(page.links.v[k], "root:") != NULL;
        for (size_t k = 0; page.n_fields && k < page.fields[0].n; k++)
            leaked |= strstr(page.fields[0].v[k], "root:") != NULL;
        uint64_t words = page.words;
        parse_page_clear(&page);
        assert_int_equal(rc, 0);
        if (leaked)
            fail_msg("document %zu: /etc/passwd leaked into the page", i);
        /* A passwd file has dozens of words; &x; is at most one. */
        assert_true(words < 8);
    }
}

/* ---- XPath fields ---- */

static const char xpath_doc[] =
    "<html><head><title>T</title></head><body>"
    "<h1>First  heading</h1><p>text <a href=\"a.html\">a</a></p>"
    "<h1>Second\n heading</h1><a href=\"b.html\">b</a>"
    "<a href=\"c.html\" class=\"x\">c</a></body></html>";

static void test_xpath_fields(void **state)
{
    (void)state;
    const parse_field fields[] = {
        {"h1s", "//h1"},
        {"count", "count(//a)"},
        {"hrefs", "//a/@href"},
        {"title", "string(//title)"},
        {"has_x", "boolean(//a[@class='x'])"},
        {"none", "//table"},
    };
    parse_opts o = {.resolve = resolve_cb, .fields = fields, .n_fields = 6};
    parse_page page = {0};
    char err[256] = "";
    int rc = parse_html(xpath_doc, sizeof xpath_doc - 1, PAGE, NULL, &o, &page,
                        err, sizeof err);
    if (rc) {
        parse_page_clear(&page);
        fail_msg("parse_html: %d: %s", rc, err);
    }

    /* Check through the record, as users see the fields. */
    fetch_result r = {.url = (char *)PAGE};
    char *line = record_json(&r, &page, fields, NULL);
    size_t n_fields = page.n_fields;
    parse_page_clear(&page);
    assert_non_null(line);
    json_t *got = json_loads(line, 0, NULL);
    free(line);
    json_t *want = json_loads("{\"h1s\": [\"First heading\", \"Second "
                              "heading\"], \"count\": [\"3\"],"
                              " \"hrefs\": [\"a.html\", \"b.html\", \"c.html\"],"
                              " \"title\": [\"T\"], \"has_x\": [\"true\"],"
                              " \"none\": []}",
                              0, NULL);
    assert_non_null(want);
    json_t *f = json_object_get(got, "fields");
    int same = f && json_equal(f, want);
    if (!same) {
        char *gs = json_dumps(f, JSON_ENCODE_ANY);
        char *ws = json_dumps(want, 0);
        print_error("fields\n  want: %s\n  got:  %s\n", ws, gs);
        free(gs);
        free(ws);
    }
    json_decref(got);
    json_decref(want);
    assert_int_equal(n_fields, 6);
    assert_true(same);
}

static void test_xpath_check(void **state)
{
    (void)state;
    char err[256] = "";
    assert_int_equal(parse_xpath_check("//h1", err, sizeof err), PARSE_OK);
    assert_int_equal(parse_xpath_check("count(//a[@href])", err, sizeof err),
                     PARSE_OK);
    static const char *const bad[] = {"//[", "", "//a[@", "!!", "1 +",
                                      "concat('a'", "(//a", "//a)"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        int rc = parse_xpath_check(bad[i], err, sizeof err);
        if (rc != PARSE_EXPATH)
            fail_msg("\"%s\": rc %d, want PARSE_EXPATH", bad[i], rc);
        /* The message names the expression, so the user can find it. */
        if (!strstr(err, bad[i]) || !err[0])
            fail_msg("\"%s\": message [%s]", bad[i], err);
    }
}

/* parse_xpath_check() exists so that a bad --field is refused before any
 * page is fetched; an expression it passes must not then fail on every
 * page. libxml2 compiles these, and fails them only when they run. */
static void test_xpath_check_agrees_with_eval(void **state)
{
    (void)state;
    static const char *const exprs[] = {"count(", "count()", "nosuchfn(1)",
                                        "$undefined", "//h1", "count(//a)"};
    for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
        const parse_field fields[] = {{"f", exprs[i]}};
        parse_opts o = {.fields = fields, .n_fields = 1};
        parse_page page = {0};
        char err[256] = "";
        int eval = parse_html(xpath_doc, sizeof xpath_doc - 1, PAGE, NULL, &o,
                              &page, err, sizeof err);
        parse_page_clear(&page);
        int check = parse_xpath_check(exprs[i], err, sizeof err);
        if ((eval == PARSE_OK) != (check == PARSE_OK))
            fail_msg("\"%s\": parse_xpath_check says %d, evaluation %d",
                     exprs[i], check, eval);
    }
}

/* A field that fails at evaluation time fails the parse, naming the
 * field. */
static void test_xpath_field_error(void **state)
{
    (void)state;
    const parse_field fields[] = {{"ok", "//h1"}, {"broken", "//["}};
    parse_opts o = {.fields = fields, .n_fields = 2};
    parse_page page = {0};
    char err[256] = "";
    int rc = parse_html(xpath_doc, sizeof xpath_doc - 1, PAGE, NULL, &o, &page,
                        err, sizeof err);
    parse_page_clear(&page);
    assert_int_equal(rc, PARSE_EXPATH);
    assert_non_null(strstr(err, "broken"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_many_duplicate_links),
        cmocka_unit_test(test_word_count_random),
        cmocka_unit_test(test_empty_document),
        cmocka_unit_test(test_reused_parser),
        cmocka_unit_test(test_parser_threads),
        cmocka_unit_test(test_no_resolver),
        cmocka_unit_test(test_external_entity_not_expanded),
        cmocka_unit_test(test_xpath_fields),
        cmocka_unit_test(test_xpath_check),
        cmocka_unit_test(test_xpath_check_agrees_with_eval),
        cmocka_unit_test(test_xpath_field_error),
    };
    int failed = cmocka_run_group_tests(tests, unit_global_setup,
                                        unit_global_teardown);

    /* One test per case file, named after it. */
    failed += unit_run_cases("parse_cases", CASES, ".html", 12, run_case,
                             unit_global_setup, unit_global_teardown);
    failed += unit_run_cases("field_cases", CASES "/fields", ".fields", 6,
                             run_field_case, unit_global_setup,
                             unit_global_teardown);
    parse_global_cleanup();
    return failed ? 1 : 0;
}
