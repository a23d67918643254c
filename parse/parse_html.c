/* parse_html: the HTML extractor. One walk over libxml2's tree collects
 * the title, description, <base>, links, images and visible words; links
 * are resolved afterwards, once <base> is known, and made unique. */
#define _GNU_SOURCE
#include "parse.h"

#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>
#include <stdarg.h>
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

void parse_global_init(void)
{
    xmlInitParser();
    xmlThrDefSetGenericErrorFunc(NULL, silent);
    xmlSetGenericErrorFunc(NULL, silent);
}

void parse_global_cleanup(void)
{
    xmlCleanupParser();
}

static void errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- string lists ---- */

static int strv_push(parse_strv *v, char *s)
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

static void strv_clear(parse_strv *v)
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
    strv_clear(&p->links);
    strv_clear(&p->images);
    for (size_t i = 0; i < p->n_fields; i++)
        strv_clear(&p->fields[i]);
    free(p->fields);
    memset(p, 0, sizeof *p);
}

/* ---- text helpers ---- */

/* Length of the UTF-8 whitespace sequence at s (ASCII blanks, NBSP,
 * ideographic space), or 0. */
static size_t space_len(const unsigned char *s)
{
    if (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        return 1;
    if (s[0] == 0xC2 && s[1] == 0xA0)
        return 2;
    if (s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80)
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
    while (*p) {
        size_t sp = space_len(p);
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

/* ---- the walk ---- */

enum {
    TAG_INLINE = 1,  /* does not break a word: "foo<b>bar</b>" is one */
    TAG_HIDDEN = 2,  /* its text is never seen by a reader */
    TAG_LINK = 4,    /* a, area: href is a link */
    TAG_IMG = 8,
    TAG_TITLE = 16,
    TAG_META = 32,
    TAG_BASE = 64,
};

typedef struct tag_info {
    const char *name;
    int flags;
} tag_info;

/* Sorted by name for bsearch. libxml2's HTML parser lowercases names. */
static const tag_info tags[] = {
    {"a", TAG_INLINE | TAG_LINK}, {"abbr", TAG_INLINE},
    {"area", TAG_LINK},           {"b", TAG_INLINE},
    {"base", TAG_BASE},           {"bdi", TAG_INLINE},
    {"bdo", TAG_INLINE},          {"big", TAG_INLINE},
    {"cite", TAG_INLINE},         {"code", TAG_INLINE},
    {"data", TAG_INLINE},         {"dfn", TAG_INLINE},
    {"em", TAG_INLINE},           {"font", TAG_INLINE},
    {"head", TAG_HIDDEN},         {"i", TAG_INLINE},
    {"img", TAG_IMG},             {"kbd", TAG_INLINE},
    {"label", TAG_INLINE},        {"mark", TAG_INLINE},
    {"meta", TAG_META},           {"nobr", TAG_INLINE},
    {"noscript", TAG_HIDDEN},     {"q", TAG_INLINE},
    {"s", TAG_INLINE},            {"samp", TAG_INLINE},
    {"script", TAG_HIDDEN},       {"small", TAG_INLINE},
    {"span", TAG_INLINE},         {"strike", TAG_INLINE},
    {"strong", TAG_INLINE},       {"style", TAG_HIDDEN},
    {"sub", TAG_INLINE},          {"sup", TAG_INLINE},
    {"template", TAG_HIDDEN},     {"time", TAG_INLINE},
    {"title", TAG_HIDDEN | TAG_TITLE}, {"tt", TAG_INLINE},
    {"u", TAG_INLINE},            {"var", TAG_INLINE},
};

static int cmp_tag(const void *key, const void *elem)
{
    return strcmp(key, ((const tag_info *)elem)->name);
}

/* The TAG_ flags of an element, found by binary search. */
static int tag_flags(const xmlNode *n)
{
    if (!n->name)
        return 0;
    const tag_info *t = bsearch(n->name, tags, sizeof tags / sizeof *tags,
                                sizeof *tags, cmp_tag);
    return t ? t->flags : 0;
}

typedef struct walk {
    parse_page *page;
    parse_strv raw_links;  /* hrefs as written */
    parse_strv raw_images;
    char *base;            /* owned; <base href> as written, or NULL */
    int hidden;            /* depth of hidden elements around the walk */
    int in_word;
    int failed;
} walk;

static void count_words(walk *w, const xmlNode *n)
{
    const unsigned char *p = n->content;
    if (!p || w->hidden)
        return;
    while (*p) {
        size_t sp = space_len(p);
        if (sp) {
            w->in_word = 0;
            p += sp;
            continue;
        }
        if (!w->in_word)
            w->page->words++;
        w->in_word = 1;
        p++;
    }
}

/* Pushes a copy of attribute attr of n onto v, if present. */
static void take_attr(walk *w, const xmlNode *n, const char *attr,
                      parse_strv *v)
{
    xmlChar *val = xmlGetProp(n, (const xmlChar *)attr);
    if (!val)
        return;
    char *s = strdup((const char *)val);
    xmlFree(val);
    if (!s || strv_push(v, s)) {
        free(s);
        w->failed = 1;
    }
}

static void enter_element(walk *w, const xmlNode *n, int flags)
{
    parse_page *pg = w->page;

    if (!(flags & TAG_INLINE))
        w->in_word = 0;
    if (flags & TAG_LINK) {
        take_attr(w, n, "href", &w->raw_links);
    } else if (flags & TAG_IMG) {
        take_attr(w, n, "src", &w->raw_images);
    } else if ((flags & TAG_TITLE) && !pg->title) {
        xmlChar *t = xmlNodeGetContent(n);
        if (t) {
            pg->title = collapse((const char *)t);
            xmlFree(t);
            w->failed |= !pg->title;
        }
    } else if ((flags & TAG_META) && !pg->description) {
        xmlChar *name = xmlGetProp(n, (const xmlChar *)"name");
        if (name && !strcasecmp((const char *)name, "description")) {
            xmlChar *c = xmlGetProp(n, (const xmlChar *)"content");
            if (c) {
                pg->description = collapse((const char *)c);
                xmlFree(c);
                w->failed |= !pg->description;
            }
        }
        xmlFree(name);
    } else if ((flags & TAG_BASE) && !w->base) {
        xmlChar *h = xmlGetProp(n, (const xmlChar *)"href");
        if (h) {
            w->base = strdup((const char *)h);
            xmlFree(h);
        }
    }
}

/* Visits the tree in document order without recursion, so a deeply nested
 * page cannot exhaust the stack. Entering and leaving an element both
 * break a word unless it is inline; hidden elements are counted on the
 * way in and out, so text needs no look at its ancestors. */
static void walk_tree(walk *w, xmlNode *root)
{
    xmlNode *n = root;
    while (n && !w->failed) {
        int flags = 0;
        if (n->type == XML_ELEMENT_NODE)
            enter_element(w, n, flags = tag_flags(n));
        else if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE)
            count_words(w, n);
        if (n->children && n->type == XML_ELEMENT_NODE) {
            w->hidden += (flags & TAG_HIDDEN) != 0;
            n = n->children;
            continue;
        }
        while (n && n != root && !n->next) {
            n = n->parent;
            if (n && n->type == XML_ELEMENT_NODE) {
                int f = tag_flags(n);
                w->hidden -= (f & TAG_HIDDEN) != 0;
                if (!(f & TAG_INLINE))
                    w->in_word = 0;
            }
        }
        if (!n || n == root)
            break;
        n = n->next;
    }
}

/* ---- resolution and uniqueness ---- */

static unsigned long hash_str(const char *s)
{
    unsigned long h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

/* Resolves every raw reference against base and appends the unique
 * results to out, in first-seen order. Returns 0 or -1 when out of
 * memory. */
static int resolve_all(const parse_opts *o, const char *base,
                       const parse_strv *raw, parse_strv *out)
{
    size_t cap = 16;
    while (cap < raw->n * 2)
        cap *= 2;
    size_t *slots = calloc(cap, sizeof *slots); /* index+1 into out */
    char **abs = calloc(raw->n ? raw->n : 1, sizeof *abs);
    int result = 0;
    if (!slots || !abs) {
        result = -1;
        goto out;
    }
    if (o && o->resolve) {
        if (o->resolve(o->resolve_ctx, base, raw->v, raw->n, abs)) {
            result = -1;
            goto out;
        }
    } else {
        for (size_t i = 0; i < raw->n; i++)
            if (!(abs[i] = strdup(raw->v[i]))) {
                result = -1;
                goto out;
            }
    }
    for (size_t i = 0; i < raw->n; i++) {
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
        if (strv_push(out, abs[i])) {
            result = -1;
            goto out;
        }
        abs[i] = NULL; /* out owns it now */
        slots[h] = out->n;
    }
out:
    for (size_t i = 0; abs && i < raw->n; i++)
        free(abs[i]);
    free(abs);
    free(slots);
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
        errf(err, errlen, "invalid XPath expression: %s", expr);
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
            if (!s || strv_push(v, s)) {
                free(s);
                result = PARSE_ENOMEM;
                break;
            }
        }
    } else {
        xmlChar *t = xmlXPathCastToString(r);
        char *s = t ? collapse((const char *)t) : NULL;
        xmlFree(t);
        if (!s || strv_push(v, s)) {
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
    htmlParserCtxtPtr ctxt = htmlNewParserCtxt();

    if (!ctxt || len > (size_t)INT32_MAX) {
        result = ctxt ? PARSE_EPARSE : PARSE_ENOMEM;
        errf(err, errlen, "%s", ctxt ? "document too large" : "out of memory");
        goto out;
    }
    const char *enc = pick_encoding(buf, len, charset);
    doc = htmlCtxtReadMemory(ctxt, buf, (int)len, url, enc, opts);
    if (!doc && enc) /* an encoding iconv does not know: let libxml2 guess */
        doc = htmlCtxtReadMemory(ctxt, buf, (int)len, url, NULL, opts);
    if (!doc) {
        result = len ? PARSE_EPARSE : PARSE_OK; /* an empty page is fine */
        if (result)
            errf(err, errlen, "HTML could not be parsed");
        goto out;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    if (root)
        walk_tree(&w, root);
    if (w.failed) {
        result = PARSE_ENOMEM;
        errf(err, errlen, "out of memory");
        goto out;
    }
    /* <base href> is itself relative to the page's URL. */
    if (w.base && o && o->resolve &&
        o->resolve(o->resolve_ctx, url, &w.base, 1, &base) == 0 && base)
        ;
    else
        base = strdup(url ? url : "");
    if (!base || resolve_all(o, base, &w.raw_links, &out->links) ||
        resolve_all(o, base, &w.raw_images, &out->images)) {
        result = PARSE_ENOMEM;
        errf(err, errlen, "out of memory");
        goto out;
    }
    if (o && o->n_fields) {
        if (!(out->fields = calloc(o->n_fields, sizeof *out->fields)) ||
            !(xctx = xmlXPathNewContext(doc))) {
            result = PARSE_ENOMEM;
            errf(err, errlen, "out of memory");
            goto out;
        }
        out->n_fields = o->n_fields;
        for (size_t i = 0; i < o->n_fields; i++) {
            if ((result = eval_field(xctx, o->fields[i].expr,
                                     &out->fields[i]))) {
                errf(err, errlen, "XPath field %s: %s", o->fields[i].name,
                     parse_strerror(result));
                goto out;
            }
        }
    }
out:
    xmlXPathFreeContext(xctx);
    free(base);
    free(w.base);
    strv_clear(&w.raw_links);
    strv_clear(&w.raw_images);
    if (doc)
        xmlFreeDoc(doc);
    if (ctxt)
        htmlFreeParserCtxt(ctxt);
    return result;
}
