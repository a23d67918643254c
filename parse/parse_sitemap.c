/* parse_sitemap: the <loc>s of a sitemap or sitemap index. The body is
 * gunzipped (if it is gzip) and pushed through libxml2's SAX parser in
 * chunks, so neither a tree nor the whole inflated text is ever held, and
 * the inflated size is counted against PARSE_SITEMAP_MAX as it grows. */
#include "parse.h"
#include "parse_int.h"

#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define LOC_MAX 8192           /* longer <loc>s are skipped */
#define CHUNK ((size_t)256 << 10) /* bytes per push to the parser */

enum { ROOT_NONE, ROOT_URLSET, ROOT_INDEX, ROOT_OTHER };

/* What the SAX callbacks know while the parser reads. */
typedef struct sitemap_walk {
    xmlParserCtxtPtr ctxt; /* borrowed; to stop it */
    parse_sitemap_fn cb;
    void *ctx;
    int depth;             /* of the element being read; the root is 1 */
    int root;              /* ROOT_ */
    char *ns;              /* owned; the root's namespace URI, or NULL */
    char root_name[64];    /* for the message when it is no sitemap */
    int in_entry;          /* inside a <url> or <sitemap> */
    int in_loc;            /* inside its <loc> */
    char loc[LOC_MAX + 1];
    size_t loc_len;
    int loc_long;          /* the <loc> went past LOC_MAX */
    int stopped;           /* cb asked to stop */
    int failed;            /* out of memory */
    char xml_err[160];     /* the parser's first error, or "" */
    int xml_line;
} sitemap_walk;

/* The children count only in the root's namespace: the sitemaps.org one
 * or none at all, and never an extension's such as <image:loc>. */
static int in_root_ns(const sitemap_walk *w, const xmlChar *uri)
{
    if (!w->ns || !uri)
        return !w->ns && !uri;
    return !strcmp(w->ns, (const char *)uri);
}

static void on_start(void *ctx, const xmlChar *local, const xmlChar *prefix,
                     const xmlChar *uri, int nb_namespaces,
                     const xmlChar **namespaces, int nb_attributes,
                     int nb_defaulted, const xmlChar **attributes)
{
    sitemap_walk *w = ctx;
    const char *name = (const char *)local;
    (void)prefix;
    (void)nb_namespaces;
    (void)namespaces;
    (void)nb_attributes;
    (void)nb_defaulted;
    (void)attributes;

    if (++w->depth == 1) {
        w->root = !strcmp(name, "urlset")         ? ROOT_URLSET
                  : !strcmp(name, "sitemapindex") ? ROOT_INDEX
                                                  : ROOT_OTHER;
        snprintf(w->root_name, sizeof w->root_name, "%s", name);
        if (w->root == ROOT_OTHER ||
            (uri && !(w->ns = strdup((const char *)uri)))) {
            w->failed = w->root != ROOT_OTHER;
            xmlStopParser(w->ctxt);
        }
    } else if (w->depth == 2) {
        w->in_entry = in_root_ns(w, uri) &&
                      !strcmp(name, w->root == ROOT_INDEX ? "sitemap" : "url");
    } else if (w->depth == 3 && w->in_entry && in_root_ns(w, uri) &&
               !strcmp(name, "loc")) {
        w->in_loc = 1;
        w->loc_len = 0;
        w->loc_long = 0;
    }
}

static int xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Hands the finished <loc> to the caller, trimmed. */
static void emit_loc(sitemap_walk *w)
{
    char *s = w->loc;
    size_t n = w->loc_len;

    while (n && xml_space(*s))
        s++, n--;
    while (n && xml_space(s[n - 1]))
        n--;
    if (!n || w->loc_long)
        return;
    s[n] = '\0';
    if (w->cb && w->cb(w->ctx, s)) {
        w->stopped = 1;
        xmlStopParser(w->ctxt);
    }
}

static void on_end(void *ctx, const xmlChar *local, const xmlChar *prefix,
                   const xmlChar *uri)
{
    sitemap_walk *w = ctx;
    (void)local;
    (void)prefix;
    (void)uri;

    if (w->depth == 3 && w->in_loc) {
        w->in_loc = 0;
        emit_loc(w);
    } else if (w->depth == 2) {
        w->in_entry = 0;
    }
    w->depth--;
}

static void on_text(void *ctx, const xmlChar *ch, int len)
{
    sitemap_walk *w = ctx;

    /* Text of elements nested in <loc> is not the URL. */
    if (!w->in_loc || w->depth != 3 || len <= 0)
        return;
    if ((size_t)len > LOC_MAX - w->loc_len) {
        w->loc_long = 1;
        return;
    }
    memcpy(w->loc + w->loc_len, ch, (size_t)len);
    w->loc_len += (size_t)len;
}

/* Keeps the parser's first error for the message; recovery goes on. */
static void on_error(void *ctx, xmlErrorPtr e)
{
    sitemap_walk *w = ctx;

    if (!e || e->level < XML_ERR_ERROR || w->xml_err[0])
        return;
    snprintf(w->xml_err, sizeof w->xml_err, "%s",
             e->message ? e->message : "error");
    w->xml_err[strcspn(w->xml_err, "\n")] = '\0';
    w->xml_line = e->line;
}

/* True when the parser will take no more input: the document is done,
 * it was stopped, or it gave up. */
static int parser_done(const sitemap_walk *w)
{
    return w->stopped || w->failed || w->ctxt->instate == XML_PARSER_EOF;
}

/* Pushes n bytes to the parser, in chunks it can take (an int each). */
static void push(sitemap_walk *w, const char *p, size_t n)
{
    while (n && !parser_done(w)) {
        size_t c = n < CHUNK ? n : CHUNK;
        /* Errors reach on_error; the return only repeats the last. */
        (void)xmlParseChunk(w->ctxt, p, (int)c, 0);
        p += c;
        n -= c;
    }
}

/* Gunzips buf[0..len) into the parser. The whole stream is inflated even
 * after the parser has stopped on bad XML, so that a body too big to be a
 * sitemap is reported as that, whatever it holds; only cb stopping it ends
 * early. Concatenated gzip members are read as one stream, as gzip -d
 * does. Returns 0 or a parse_code with a message in err. */
static int gunzip(sitemap_walk *w, const char *buf, size_t len, char *err,
                  size_t errlen)
{
    z_stream zs = {0};
    unsigned char *out = malloc(CHUNK);
    size_t total = 0;
    int result = PARSE_OK, zrc = Z_OK, inited = 0;

    if (!out || inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        result = PARSE_ENOMEM;
        parse_errf(err, errlen, "out of memory");
        goto out;
    }
    inited = 1;
    zs.next_in = (unsigned char *)buf;
    while (!w->stopped && !w->failed) {
        /* zlib counts its input in uInt. */
        if (!zs.avail_in && len) {
            zs.avail_in = len < (1u << 30) ? (uInt)len : 1u << 30;
            len -= zs.avail_in;
        }
        zs.next_out = out;
        zs.avail_out = CHUNK;
        zrc = inflate(&zs, Z_NO_FLUSH);
        size_t got = CHUNK - zs.avail_out;
        if ((total += got) > PARSE_SITEMAP_MAX) {
            result = PARSE_ETOOBIG;
            parse_errf(err, errlen, "sitemap larger than %zu MiB unzipped",
                       PARSE_SITEMAP_MAX >> 20);
            goto out;
        }
        push(w, (const char *)out, got);
        if (w->stopped || w->failed)
            break; /* what follows cannot change the outcome */
        if (zrc == Z_STREAM_END) {
            if (!len && !zs.avail_in)
                break;
            if (zs.avail_in < 2 || zs.next_in[0] != 0x1f ||
                zs.next_in[1] != 0x8b)
                break; /* what follows the last member is not gzip: junk */
            if (inflateReset(&zs) != Z_OK) {
                result = PARSE_EGZIP;
                goto out;
            }
        } else if (zrc == Z_BUF_ERROR && !zs.avail_in && !len) {
            result = PARSE_EGZIP;
            parse_errf(err, errlen, "gzip data truncated");
            goto out;
        } else if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
            result = zrc == Z_MEM_ERROR ? PARSE_ENOMEM : PARSE_EGZIP;
            parse_errf(err, errlen, "gzip: %s",
                       zs.msg ? zs.msg : parse_strerror(result));
            goto out;
        }
    }
out:
    if (inited)
        inflateEnd(&zs);
    free(out);
    return result;
}

int parse_sitemap(const char *buf, size_t len, parse_sitemap_fn cb, void *ctx,
                  int *is_index, char *err, size_t errlen)
{
    /* Not XML_PARSE_NOENT, DTDLOAD, DTDATTR or DTDVALID: with those off
     * and no entity callbacks, declared entities are never stored, so
     * none can be expanded or loaded. */
    const int opts = XML_PARSE_NONET | XML_PARSE_RECOVER |
                     XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    xmlSAXHandler sax = {0};
    sitemap_walk *w = calloc(1, sizeof *w); /* LOC_MAX is big for a stack */
    int result = PARSE_OK;

    if (is_index)
        *is_index = 0;
    if (err && errlen)
        err[0] = '\0';
    if (!w) {
        parse_errf(err, errlen, "out of memory");
        return PARSE_ENOMEM;
    }
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = on_start;
    sax.endElementNs = on_end;
    sax.characters = on_text;
    sax.cdataBlock = on_text;
    sax.serror = on_error;
    w->cb = cb;
    w->ctx = ctx;
    if (!(w->ctxt = xmlCreatePushParserCtxt(&sax, w, NULL, 0, NULL)) ||
        xmlCtxtUseOptions(w->ctxt, opts) != 0) {
        result = PARSE_ENOMEM;
        parse_errf(err, errlen, "out of memory");
        goto out;
    }
    if (len >= 2 && (unsigned char)buf[0] == 0x1f &&
        (unsigned char)buf[1] == 0x8b) {
        if ((result = gunzip(w, buf, len, err, errlen)))
            goto out;
    } else if (len > PARSE_SITEMAP_MAX) {
        result = PARSE_ETOOBIG;
        parse_errf(err, errlen, "sitemap larger than %zu MiB",
                   PARSE_SITEMAP_MAX >> 20);
        goto out;
    } else {
        push(w, buf, len);
    }
    if (!parser_done(w))
        (void)xmlParseChunk(w->ctxt, NULL, 0, 1);

    if (w->failed) {
        result = PARSE_ENOMEM;
        parse_errf(err, errlen, "out of memory");
    } else if (w->stopped) {
        result = PARSE_OK;
    } else if (w->root == ROOT_OTHER) {
        result = PARSE_ENOTSITEMAP;
        parse_errf(err, errlen, "not a sitemap: the root element is <%s>",
                   w->root_name);
    } else if (w->root == ROOT_NONE) {
        result = PARSE_EXML;
        parse_errf(err, errlen, "sitemap XML: no root element");
    } else if (!w->ctxt->wellFormed) {
        result = PARSE_EXML;
        parse_errf(err, errlen, "sitemap XML, line %d: %s", w->xml_line,
                   w->xml_err[0] ? w->xml_err : "not well-formed");
    }
out:
    if (is_index)
        *is_index = w->root == ROOT_INDEX;
    if (w->ctxt) {
        /* For "expat compatibility" libxml2 keeps internal entities in a
         * document of its own even in SAX mode (never used here, as no
         * getEntity callback asks for them), and leaves it to the caller. */
        if (w->ctxt->myDoc)
            xmlFreeDoc(w->ctxt->myDoc);
        xmlFreeParserCtxt(w->ctxt);
    }
    free(w->ns);
    free(w);
    return result;
}
