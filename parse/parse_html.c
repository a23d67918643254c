/* parse_html: the HTML extractor. libxml2's HTML parser reads the page
 * and SAX callbacks collect the title, description, <base>, links, images,
 * the other embedded resources (assets)
 * and visible words, with no tree built; links are resolved afterwards,
 * once <base> is known, and made unique. Only XPath fields need a tree.
 * The module's shared pieces live here too: parse_strerror(), global
 * set-up, and the helpers of parse_int.h. */
#define _GNU_SOURCE
#include "parse.h"
#include "parse_int.h"

#include <libxml/HTMLparser.h>
#include <libxml/dict.h>
#include <libxml/xpath.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PARSE_TEXT(name, text) text,
static const char *const parse_texts[] = {PARSE_ERRORS(PARSE_TEXT)};
#undef PARSE_TEXT

const char *parse_strerror(parse_code code)
{
    if ((int)code < 0 || code >= PARSE_NCODES)
        return "unknown parse error";
    return parse_texts[code];
}

/* libxml2 reports recoverable HTML errors by default; recovery is the
 * point here, so they are silenced for every thread. */
static void silent(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

/* gather never needs a DTD or an external entity, so libxml2's loader for
 * them refuses all: no parser option, present or future, can then make a
 * fetched document read a local file or a URL. */
static xmlParserInputPtr no_loader(const char *url, const char *id,
                                   xmlParserCtxtPtr ctxt)
{
    (void)url;
    (void)id;
    (void)ctxt;
    return NULL;
}

static void tag_index(void);
static void ctxt_key_make(void);

/* The extractor's own tables, made once however often init runs. */
static void init_once(void)
{
    tag_index();
    ctxt_key_make();
}

void parse_global_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once);
    xmlInitParser();
    xmlThrDefSetGenericErrorFunc(NULL, silent);
    xmlSetGenericErrorFunc(NULL, silent);
    xmlSetExternalEntityLoader(no_loader);
}

static void sax_ctxt_drop(void);

void parse_global_cleanup(void)
{
    sax_ctxt_drop(); /* the calling thread's; other threads' at their exit */
    xmlCleanupParser();
}

void parse_errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- string lists ---- */

int parse_strv_push(parse_strv *v, char *s)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        char **nv = realloc(v->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = s;
    return 0;
}

size_t parse_strv_join(const parse_strv *const *lists, size_t n, char **dst)
{
    size_t at = 0;
    for (size_t k = 0; k < n; k++) {
        /* An empty list may have no array at all, and memcpy() from NULL
         * is undefined even for no bytes. */
        if (lists[k]->n)
            memcpy(dst + at, lists[k]->v, lists[k]->n * sizeof *dst);
        at += lists[k]->n;
    }
    return at;
}

void parse_strv_clear(parse_strv *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->v[i]);
    free(v->v);
    memset(v, 0, sizeof *v);
}

void parse_page_clear(parse_page *p)
{
    free(p->title);
    free(p->description);
    parse_strv_clear(&p->links);
    parse_strv_clear(&p->images);
    parse_strv_clear(&p->assets);
    for (size_t i = 0; i < p->n_fields; i++)
        parse_strv_clear(&p->fields[i]);
    free(p->fields);
    memset(p, 0, sizeof *p);
}

/* ---- text helpers ---- */

/* Length of the UTF-8 whitespace sequence at s, of n bytes at most
 * (ASCII blanks, NBSP, ideographic space), or 0. */
static size_t space_len(const unsigned char *s, size_t n)
{
    if (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        return 1;
    if (n >= 2 && s[0] == 0xC2 && s[1] == 0xA0)
        return 2;
    if (n >= 3 && s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80)
        return 3;
    return 0;
}

/* Returns a malloced copy of s with runs of whitespace collapsed to one
 * space and the ends trimmed. */
static char *collapse(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    char *out = malloc(strlen(s) + 1), *o = out;
    int pending = 0;
    if (!out)
        return NULL;
    size_t left = strlen(s);
    while (*p) {
        size_t sp = space_len(p, left);
        left -= sp ? sp : 1;
        if (sp) {
            pending = o != out;
            p += sp;
            continue;
        }
        if (pending)
            *o++ = ' ';
        pending = 0;
        *o++ = (char)*p++;
    }
    *o = '\0';
    return out;
}

/* ---- extraction: SAX events, no tree ---- */

enum {
    TAG_INLINE = 1,  /* does not break a word: "foo<b>bar</b>" is one */
    TAG_HIDDEN = 2,  /* its text is never seen by a reader */
    TAG_LINK = 4,    /* a, area: href is a link */
    TAG_IMG = 8,
    TAG_TITLE = 16,
    TAG_META = 32,
    TAG_BASE = 64,
    /* Embeds a resource (an asset) named by this attribute: */
    TAG_SRC = 128,
    TAG_DATA = 256,
    TAG_POSTER = 512,
    TAG_REL_HREF = 1024, /* href, when rel_wanted() */
    TAG_ASSETS = TAG_SRC | TAG_DATA | TAG_POSTER | TAG_REL_HREF,
};

typedef struct tag_info {
    const char *name;
    int flags;
} tag_info;

/* libxml2's HTML parser lowercases names. */
static const tag_info tags[] = {
    {"a", TAG_INLINE | TAG_LINK},  {"abbr", TAG_INLINE},
    {"area", TAG_LINK},            {"audio", TAG_SRC},
    {"b", TAG_INLINE},             {"base", TAG_BASE},
    {"bdi", TAG_INLINE},           {"bdo", TAG_INLINE},
    {"big", TAG_INLINE},           {"cite", TAG_INLINE},
    {"code", TAG_INLINE},          {"data", TAG_INLINE},
    {"dfn", TAG_INLINE},           {"em", TAG_INLINE},
    {"embed", TAG_SRC},            {"font", TAG_INLINE},
    {"frame", TAG_SRC},            {"head", TAG_HIDDEN},
    {"i", TAG_INLINE},             {"iframe", TAG_SRC},
    {"img", TAG_IMG},              {"kbd", TAG_INLINE},
    {"label", TAG_INLINE},         {"link", TAG_REL_HREF},
    {"mark", TAG_INLINE},          {"meta", TAG_META},
    {"nobr", TAG_INLINE},          {"noscript", TAG_HIDDEN},
    {"object", TAG_DATA},          {"q", TAG_INLINE},
    {"s", TAG_INLINE},             {"samp", TAG_INLINE},
    {"script", TAG_HIDDEN | TAG_SRC}, {"small", TAG_INLINE},
    {"source", TAG_SRC},           {"span", TAG_INLINE},
    {"strike", TAG_INLINE},        {"strong", TAG_INLINE},
    {"style", TAG_HIDDEN},         {"sub", TAG_INLINE},
    {"sup", TAG_INLINE},           {"template", TAG_HIDDEN},
    {"time", TAG_INLINE},          {"title", TAG_HIDDEN | TAG_TITLE},
    {"track", TAG_SRC},            {"tt", TAG_INLINE},
    {"u", TAG_INLINE},             {"var", TAG_INLINE},
    {"video", TAG_SRC | TAG_POSTER},
};

/* tags indexed by a hash of the name, built by parse_global_init(): every
 * start and end tag of a page looks its name up, and a binary search of
 * strcmp calls took 2.5% of a 10 KB page's cost. */
#define TAG_SLOTS 128
#define TAG_MAX_LEN 8 /* "noscript", "template" */
static const tag_info *tag_slots[TAG_SLOTS];

static unsigned tag_hash(const char *s, size_t n)
{
    return ((unsigned)n * 37u + (unsigned char)s[0] * 7u +
            (unsigned char)s[n - 1]) & (TAG_SLOTS - 1);
}

static void tag_index(void)
{
    for (size_t i = 0; i < sizeof tags / sizeof *tags; i++) {
        unsigned h = tag_hash(tags[i].name, strlen(tags[i].name));
        while (tag_slots[h])
            h = (h + 1) & (TAG_SLOTS - 1);
        tag_slots[h] = &tags[i];
    }
}

/* The TAG_ flags of an element name (0 for an element not in tags). */
static int tag_flags(const xmlChar *name)
{
    const char *s = (const char *)name;
    size_t n = s ? strnlen(s, TAG_MAX_LEN + 1) : 0;
    if (n == 0 || n > TAG_MAX_LEN)
        return 0;
    for (unsigned h = tag_hash(s, n); tag_slots[h];
         h = (h + 1) & (TAG_SLOTS - 1))
        if (!strcmp(tag_slots[h]->name, s))
            return tag_slots[h]->flags;
    return 0;
}

/* The attribute each asset flag stands for, in the order they are taken
 * (a video's src before its poster). */
static const struct {
    int flag;
    const char *attr;
} asset_attrs[] = {
    {TAG_SRC, "src"},
    {TAG_DATA, "data"},
    {TAG_POSTER, "poster"},
    {TAG_REL_HREF, "href"},
};

/* What the SAX callbacks build up while libxml2 reads the page. Elements
 * come balanced (the parser closes what the page leaves open), so depth
 * counters are enough to know where the text is. */
typedef struct walk {
    parse_page *page;
    parse_strv raw_links;  /* hrefs as written */
    parse_strv raw_images;
    parse_strv raw_assets;
    char *base;            /* owned; <base href> as written, or NULL */
    char *title;           /* owned; the first <title>'s text so far */
    size_t title_len, title_cap;
    int in_title;          /* inside the first <title> */
    int title_done;
    int hidden;            /* depth of hidden elements around the text */
    int in_word;
    int failed;
} walk;

static walk *walk_of(void *ctx)
{
    return ((htmlParserCtxtPtr)ctx)->_private;
}

/* The value of attribute name in a SAX attribute list, or NULL. */
static const char *attr(const xmlChar **atts, const char *name)
{
    for (; atts && atts[0]; atts += 2)
        if (!strcmp((const char *)atts[0], name))
            return atts[1] ? (const char *)atts[1] : "";
    return NULL;
}

static void push_copy(walk *w, parse_strv *v, const char *s)
{
    char *c = s ? strdup(s) : NULL;
    if (s && (!c || parse_strv_push(v, c))) {
        free(c);
        w->failed = 1;
    }
}

/* Whether a <link rel> (space-separated, any case) names a resource the
 * page needs to display: a style sheet or an icon, as wget's -p takes.
 * alternate, next, canonical... are other pages, not requisites. */
static int rel_wanted(const char *rel)
{
    static const char *const wanted[] = {"stylesheet", "icon",
                                         "apple-touch-icon"};
    for (const char *p = rel ? rel : ""; *p;) {
        size_t n = strcspn(p, " \t\n\f\r");
        for (size_t i = 0; i < sizeof wanted / sizeof *wanted; i++)
            if (n == strlen(wanted[i]) && !strncasecmp(p, wanted[i], n))
                return 1;
        p += n;
        p += strspn(p, " \t\n\f\r");
    }
    return 0;
}

/* The resources an element with TAG_ASSETS flags embeds, as written. */
static void push_assets(walk *w, int flags, const xmlChar **atts)
{
    if ((flags & TAG_REL_HREF) && !rel_wanted(attr(atts, "rel")))
        flags &= ~TAG_REL_HREF;
    for (size_t i = 0; i < sizeof asset_attrs / sizeof *asset_attrs; i++)
        if (flags & asset_attrs[i].flag)
            push_copy(w, &w->raw_assets, attr(atts, asset_attrs[i].attr));
}

static void on_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
    walk *w = walk_of(ctx);
    parse_page *pg = w->page;
    int flags = tag_flags(name);

    if (!(flags & TAG_INLINE))
        w->in_word = 0;
    if (flags & TAG_HIDDEN)
        w->hidden++;
    if (flags & TAG_ASSETS)
        push_assets(w, flags, atts);
    if (flags & TAG_LINK) {
        push_copy(w, &w->raw_links, attr(atts, "href"));
    } else if (flags & TAG_IMG) {
        push_copy(w, &w->raw_images, attr(atts, "src"));
    } else if ((flags & TAG_TITLE) && !w->title_done) {
        w->in_title = 1;
    } else if ((flags & TAG_META) && !pg->description) {
        const char *n = attr(atts, "name"), *c = attr(atts, "content");
        if (n && c && !strcasecmp(n, "description"))
            w->failed |= !(pg->description = collapse(c));
    } else if ((flags & TAG_BASE) && !w->base) {
        const char *h = attr(atts, "href");
        if (h)
            w->failed |= !(w->base = strdup(h));
    }
}

static void on_end(void *ctx, const xmlChar *name)
{
    walk *w = walk_of(ctx);
    int flags = tag_flags(name);

    if (!(flags & TAG_INLINE))
        w->in_word = 0;
    if ((flags & TAG_HIDDEN) && w->hidden > 0)
        w->hidden--;
    if ((flags & TAG_TITLE) && w->in_title) {
        w->in_title = 0;
        w->title_done = 1;
    }
}

/* Bit 7 of each byte of x (8 ASCII bytes) set where it is an ASCII
 * blank: ' ' or '\t' to '\r'. No sum carries into the next byte. */
static uint64_t ascii_blanks(uint64_t x)
{
    const uint64_t lo7 = 0x7f7f7f7f7f7f7f7fULL, hi = 0x8080808080808080ULL;
    uint64_t t = x ^ 0x2020202020202020ULL;
    uint64_t is_sp = ~(((t & lo7) + lo7) | t | lo7);    /* byte == ' ' */
    uint64_t ctl = (x + 0x7777777777777777ULL) &        /* byte >= 9 */
                   ~(x + 0x7272727272727272ULL) & hi;   /* byte < 14 */
    return (is_sp | ctl) & hi;
}

/* Counts the words of n bytes of visible text into w: runs of bytes
 * other than ASCII blanks, no-break spaces and ideographic spaces. A word
 * may go on in the next chunk (w->in_word). Blocks of 8 ASCII bytes are
 * done at once: a word starts where a non-blank follows a blank. */
static void count_words(walk *w, const unsigned char *p, size_t n)
{
    const uint64_t hi = 0x8080808080808080ULL;
    const unsigned char *end = p + n;
    uint64_t words = 0;
    int in = w->in_word;

    while (p < end) {
        if (end - p >= 8) {
            uint64_t x;
            memcpy(&x, p, 8);
            if (!(x & hi)) {
                uint64_t blank = ascii_blanks(x);
                uint64_t before = (blank << 8) | (in ? 0 : 0x80);
                uint64_t starts = ~blank & hi & before;
                words += ((starts >> 7) * 0x0101010101010101ULL) >> 56;
                in = !(blank >> 63);
                p += 8;
                continue;
            }
        }
        size_t sp = space_len(p, (size_t)(end - p));
        if (sp) {
            in = 0;
            p += sp;
        } else {
            words += !in;
            in = 1;
            p++;
        }
    }
    w->page->words += words;
    w->in_word = in;
}

static void on_text(void *ctx, const xmlChar *ch, int len)
{
    walk *w = walk_of(ctx);

    if (w->in_title && len > 0) {
        size_t want = w->title_len + (size_t)len + 1;
        if (want > w->title_cap) {
            size_t cap = w->title_cap ? w->title_cap * 2 : 128;
            while (cap < want)
                cap *= 2;
            char *t = realloc(w->title, cap);
            if (!t) {
                w->failed = 1;
                return;
            }
            w->title = t;
            w->title_cap = cap;
        }
        memcpy(w->title + w->title_len, ch, (size_t)len);
        w->title_len += (size_t)len;
        w->title[w->title_len] = '\0';
    }
    if (!w->hidden)
        count_words(w, ch, (size_t)len);
}

/* Whitespace the parser deems insignificant still separates words. */
static void on_blank(void *ctx, const xmlChar *ch, int len)
{
    (void)ch;
    (void)len;
    walk_of(ctx)->in_word = 0;
}

/* ---- resolution and uniqueness ---- */

static unsigned long hash_str(const char *s)
{
    unsigned long h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

/* Appends the unique strings of abs[0..n) to out, in first-seen order,
 * taking them out of abs. Returns 0 or -1 when out of memory. */
static int add_unique(char **abs, size_t n, parse_strv *out)
{
    size_t cap = 16;
    while (cap < n * 2)
        cap *= 2;
    size_t *slots = calloc(cap, sizeof *slots); /* index+1 into out */
    if (!slots)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!abs[i])
            continue;
        size_t h = hash_str(abs[i]) & (cap - 1);
        int dup = 0;
        while (slots[h]) {
            if (!strcmp(out->v[slots[h] - 1], abs[i])) {
                dup = 1;
                break;
            }
            h = (h + 1) & (cap - 1);
        }
        if (dup)
            continue;
        if (parse_strv_push(out, abs[i])) {
            free(slots);
            return -1;
        }
        abs[i] = NULL; /* out owns it now */
        slots[h] = out->n;
    }
    free(slots);
    return 0;
}

/* Resolves the raw references of n lists against base, in one call of
 * the resolver (which then reads the base once a page, not once a list),
 * and appends each list's unique results to its out, in first-seen order.
 * Returns 0 or -1 when out of memory. */
static int resolve_all(const parse_opts *o, const char *base,
                       const parse_strv *const *raw, parse_strv *const *out,
                       size_t n)
{
    size_t total = 0;
    for (size_t k = 0; k < n; k++)
        total += raw[k]->n;
    if (!total)
        return 0;
    char **refs = malloc(total * sizeof *refs);
    char **abs = calloc(total, sizeof *abs);
    int result = 0;
    if (!refs || !abs) {
        result = -1;
        goto out;
    }
    parse_strv_join(raw, n, refs);
    if (o && o->resolve) {
        if (o->resolve(o->resolve_ctx, base, refs, total, abs)) {
            result = -1;
            goto out;
        }
    } else {
        for (size_t i = 0; i < total; i++)
            if (!(abs[i] = strdup(refs[i]))) {
                result = -1;
                goto out;
            }
    }
    for (size_t k = 0, at = 0; k < n && !result; at += raw[k]->n, k++)
        result = add_unique(abs + at, raw[k]->n, out[k]);
out:
    for (size_t i = 0; abs && i < total; i++)
        free(abs[i]);
    free(abs);
    free(refs);
    return result;
}

/* ---- XPath fields ---- */

int parse_xpath_check(const char *expr, char *err, size_t errlen)
{
    int result = PARSE_EXPATH;
    xmlDocPtr doc = NULL;
    xmlXPathContextPtr ctx = NULL;
    xmlXPathObjectPtr r = NULL;
    xmlXPathCompExprPtr c = xmlXPathCompile((const xmlChar *)expr);

    /* libxml2 compiles some broken expressions ("count(", unknown
     * functions, unbound variables) and fails them only when they run, so
     * run it once on an empty document as well. */
    if (c && (doc = xmlNewDoc(NULL)) &&
        (ctx = xmlXPathNewContext(doc)) && (r = xmlXPathCompiledEval(c, ctx)))
        result = PARSE_OK;
    else
        parse_errf(err, errlen, "invalid XPath expression: %s", expr);
    xmlXPathFreeObject(r);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    xmlXPathFreeCompExpr(c);
    return result;
}

/* Appends the string value of each result of expr (or the single value of
 * a string, number or boolean expression) to v. */
static int eval_field(xmlXPathContextPtr ctx, const char *expr, parse_strv *v)
{
    xmlXPathObjectPtr r = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
    int result = PARSE_OK;
    if (!r)
        return PARSE_EXPATH;
    if (r->type == XPATH_NODESET) {
        for (int i = 0; r->nodesetval && i < r->nodesetval->nodeNr; i++) {
            xmlChar *t = xmlNodeGetContent(r->nodesetval->nodeTab[i]);
            char *s = collapse(t ? (const char *)t : "");
            xmlFree(t);
            if (!s || parse_strv_push(v, s)) {
                free(s);
                result = PARSE_ENOMEM;
                break;
            }
        }
    } else {
        xmlChar *t = xmlXPathCastToString(r);
        char *s = t ? collapse((const char *)t) : NULL;
        xmlFree(t);
        if (!s || parse_strv_push(v, s)) {
            free(s);
            result = PARSE_ENOMEM;
        }
    }
    xmlXPathFreeObject(r);
    return result;
}

/* True when a <meta> tag that starts in buf[0..n) names a charset, in
 * any letter case. Text and scripts that merely say "charset" do not. */
static int meta_charset(const char *buf, size_t n)
{
    const char *end = buf + n;
    for (const char *p = buf; (p = memchr(p, '<', (size_t)(end - p))); p++) {
        if (end - p < 5 || strncasecmp(p + 1, "meta", 4))
            continue;
        const char *gt = memchr(p, '>', (size_t)(end - p));
        for (const char *q = p; q + 7 <= (gt ? gt : end); q++)
            if (!strncasecmp(q, "charset", 7))
                return 1;
    }
    return 0;
}

/* Without a declared charset or a <meta charset> near the top, assume
 * UTF-8 as browsers do today; libxml2 alone would assume Latin-1. */
static const char *pick_encoding(const char *buf, size_t len,
                                 const char *charset)
{
    if (charset && *charset) {
        /* libxml2 ignores a charset it has no converter for and falls back
         * to Latin-1, so an unknown one counts as none declared. */
        xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(charset);
        if (h) {
            xmlCharEncCloseFunc(h);
            return charset;
        }
    }
    return meta_charset(buf, len < 2048 ? len : 2048) ? NULL : "UTF-8";
}

/* One SAX parser context per thread, reused page after page: a fresh one
 * costs a dictionary and a dozen tables, malloc's slow paths, on every page
 * (12% of the event loop's cycles went to malloc and free). Each read
 * starts with htmlCtxtReset(), which keeps only the dictionary, and that
 * holds element and attribute names; past CTXT_NAMES_MAX of them (hostile
 * pages can invent names) the context is dropped and a new one made. At
 * most CTXT_KEPT_MAX threads keep one, so that -m threads with a thousand
 * threads does not hold a thousand: the others parse as before, with a
 * context of their own for each page. */
#define CTXT_NAMES_MAX 4096
#define CTXT_KEPT_MAX 8
static pthread_key_t ctxt_key;
static int ctxt_key_ok; /* made by parse_global_init() */
static int ctxt_kept; /* contexts held by threads; atomic */

static void ctxt_free(void *ctxt)
{
    htmlFreeParserCtxt(ctxt);
    __atomic_fetch_sub(&ctxt_kept, 1, __ATOMIC_RELAXED);
}

static void ctxt_key_make(void)
{
    ctxt_key_ok = pthread_key_create(&ctxt_key, ctxt_free) == 0;
}

/* This thread's SAX context, or a new one just for this page; NULL when
 * out of memory. */
static htmlParserCtxtPtr sax_ctxt(void)
{
    htmlParserCtxtPtr ctxt = ctxt_key_ok ? pthread_getspecific(ctxt_key)
                                         : NULL;
    if (ctxt || !(ctxt = htmlNewParserCtxt()) || !ctxt_key_ok)
        return ctxt;
    if (__atomic_fetch_add(&ctxt_kept, 1, __ATOMIC_RELAXED) >= CTXT_KEPT_MAX ||
        pthread_setspecific(ctxt_key, ctxt) != 0)
        __atomic_fetch_sub(&ctxt_kept, 1, __ATOMIC_RELAXED);
    return ctxt;
}

/* Gives back the context sax_ctxt() lent: kept for the next page when it
 * is this thread's and its dictionary has not grown too big. */
static void sax_ctxt_done(htmlParserCtxtPtr ctxt)
{
    ctxt->_private = NULL;
    if (!ctxt_key_ok || pthread_getspecific(ctxt_key) != ctxt)
        htmlFreeParserCtxt(ctxt);
    else if (xmlDictSize(ctxt->dict) > CTXT_NAMES_MAX) {
        pthread_setspecific(ctxt_key, NULL);
        ctxt_free(ctxt);
    }
}

static void sax_ctxt_drop(void)
{
    htmlParserCtxtPtr ctxt = ctxt_key_ok ? pthread_getspecific(ctxt_key)
                                         : NULL;
    if (ctxt) {
        pthread_setspecific(ctxt_key, NULL);
        ctxt_free(ctxt);
    }
}

/* Reads buf with libxml2's HTML parser and options opts: through the
 * extraction callbacks into w when w is set, else into a tree (returned;
 * for XPath). */
static htmlDocPtr read_html(const char *buf, size_t len, const char *url,
                            const char *enc, int opts, walk *w)
{
    htmlDocPtr doc = NULL;
    htmlParserCtxtPtr ctxt = w ? sax_ctxt() : htmlNewParserCtxt();
    if (!ctxt)
        return NULL;
    if (w) {
        xmlSAXHandler *sax = (xmlSAXHandler *)ctxt->sax;
        memset(sax, 0, sizeof *sax);
        sax->initialized = 1; /* SAX1 callbacks: what the HTML parser uses */
        sax->startElement = on_start;
        sax->endElement = on_end;
        sax->characters = on_text;
        sax->cdataBlock = on_text;
        sax->ignorableWhitespace = on_blank;
        ctxt->_private = w;
    }
    doc = htmlCtxtReadMemory(ctxt, buf, (int)len, url, enc, opts);
    if (w)
        sax_ctxt_done(ctxt);
    else
        htmlFreeParserCtxt(ctxt);
    return doc;
}

int parse_html(const char *buf, size_t len, const char *url,
               const char *charset, const parse_opts *o, parse_page *out,
               char *err, size_t errlen)
{
    const int opts = HTML_PARSE_RECOVER | HTML_PARSE_NONET |
                     HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                     HTML_PARSE_COMPACT |
                     /* Lifts libxml2's depth limit of 256, past which it
                      * silently drops the rest of the page. */
                     XML_PARSE_HUGE;
    int result = PARSE_OK;
    walk w = {.page = out};
    htmlDocPtr doc = NULL;
    xmlXPathContextPtr xctx = NULL;
    char *base = NULL;

    if (len > (size_t)INT32_MAX) {
        parse_errf(err, errlen, "document too large");
        return PARSE_ETOOBIG;
    }
    /* The page facts come from SAX events: no tree is built for them. */
    const char *enc = pick_encoding(buf, len, charset);
    doc = read_html(buf, len, url, enc, opts, &w);
    if (doc) /* not expected without tree callbacks */
        xmlFreeDoc(doc);
    doc = NULL;
    if (w.title && !(out->title = collapse(w.title)))
        w.failed = 1;
    if (w.failed) {
        result = PARSE_ENOMEM;
        parse_errf(err, errlen, "out of memory");
        goto out;
    }
    /* <base href> is itself relative to the page's URL. */
    if (w.base && o && o->resolve &&
        o->resolve(o->resolve_ctx, url, &w.base, 1, &base) == 0 && base)
        ;
    else
        base = strdup(url ? url : "");
    const parse_strv *const raw[] = {&w.raw_links, &w.raw_images,
                                     &w.raw_assets};
    parse_strv *const lists[] = {&out->links, &out->images, &out->assets};
    if (!base || resolve_all(o, base, raw, lists, 3)) {
        result = PARSE_ENOMEM;
        parse_errf(err, errlen, "out of memory");
        goto out;
    }
    if (o && o->n_fields) {
        /* XPath needs the tree: only --xpath pays for building one. */
        doc = read_html(buf, len, url, enc, opts, NULL);
        if (!(out->fields = calloc(o->n_fields, sizeof *out->fields)) ||
            (doc && !(xctx = xmlXPathNewContext(doc)))) {
            result = PARSE_ENOMEM;
            parse_errf(err, errlen, "out of memory");
            goto out;
        }
        out->n_fields = o->n_fields;
        for (size_t i = 0; xctx && i < o->n_fields; i++) {
            if ((result = eval_field(xctx, o->fields[i].expr,
                                     &out->fields[i]))) {
                parse_errf(err, errlen, "XPath field %s: %s",
                           o->fields[i].name, parse_strerror(result));
                goto out;
            }
        }
    }
out:
    xmlXPathFreeContext(xctx);
    free(base);
    free(w.base);
    free(w.title);
    parse_strv_clear(&w.raw_links);
    parse_strv_clear(&w.raw_images);
    parse_strv_clear(&w.raw_assets);
    if (doc)
        xmlFreeDoc(doc);
    return result;
}
