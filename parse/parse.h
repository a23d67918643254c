/* parse: turns fetched bytes into records: page facts with libxml2's HTML
 * parser, robots.txt rules, and the URLs of sitemaps.
 *
 * Ownership: what a function returns or fills in is owned by the caller
 * and released with the matching _clear() or _free(); strings passed in
 * are borrowed for the call. Every function here is thread-safe once
 * parse_global_init() has run (once, before any thread starts); each thread
 * uses its own parser, kept from page to page.
 */
#ifndef GATHER_PARSE_H
#define GATHER_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define PARSE_ERRORS(X)                                                        \
    X(PARSE_OK, "ok")                                                          \
    X(PARSE_ENOMEM, "out of memory")                                           \
    X(PARSE_EPARSE, "HTML could not be parsed")                                \
    X(PARSE_EXPATH, "invalid XPath expression")                                \
    X(PARSE_ETOOBIG, "document too large")                                     \
    X(PARSE_EGZIP, "gzip data is corrupt or truncated")                        \
    X(PARSE_EXML, "XML is not well-formed")                                    \
    X(PARSE_ENOTSITEMAP, "not a sitemap")

#define PARSE_ENUM(name, text) name,
typedef enum parse_code { PARSE_ERRORS(PARSE_ENUM) PARSE_NCODES } parse_code;
#undef PARSE_ENUM

const char *parse_strerror(parse_code code);

/* Initialises libxml2 and turns off its loading of external entities and
 * DTDs for the whole process: no document can make gather read a file or
 * a URL. Call once before any thread starts. */
void parse_global_init(void);
void parse_global_cleanup(void);

/* Resolves refs[0..n) against base: out[i] is a malloced absolute URL, or
 * NULL to drop refs[i] (malformed, not http(s)). Called once per page
 * and list, so the base is parsed once. Returns 0, or nonzero when out of
 * memory. */
typedef int (*parse_resolve_fn)(void *ctx, const char *base,
                                char *const *refs, size_t n, char **out);

/* A named XPath expression; its string values become a field. */
typedef struct parse_field {
    const char *name; /* borrowed */
    const char *expr; /* borrowed */
} parse_field;

typedef struct parse_opts {
    parse_resolve_fn resolve; /* borrowed; NULL: links are kept as written */
    void *resolve_ctx;        /* borrowed */
    const parse_field *fields;/* borrowed; n_fields entries */
    size_t n_fields;
} parse_opts;

/* A growable list of owned strings. */
typedef struct parse_strv {
    char **v;   /* owned */
    size_t n, cap;
} parse_strv;

/* Appends s to v, which then owns it. Returns 0, or -1 when out of memory
 * (s is then still the caller's). */
int parse_strv_push(parse_strv *v, char *s);

/* Frees every string of v and v's array, and zeroes v. */
void parse_strv_clear(parse_strv *v);

/* Copies the string pointers of the n lists, one list after another, to
 * dst (room for all of them); the lists still own the strings. Returns
 * how many were copied. */
size_t parse_strv_join(const parse_strv *const *lists, size_t n, char **dst);

typedef struct parse_page {
    char *title;        /* owned; whitespace collapsed; NULL if none */
    char *description;  /* owned; meta description; NULL if none */
    parse_strv links;   /* absolute, unique, in document order */
    parse_strv images;
    parse_strv assets;  /* the other resources the page embeds: style
                           sheets and icons (<link rel>), scripts, frames,
                           objects, audio and video; like links */
    uint64_t words;     /* words of visible text */
    parse_strv *fields; /* owned; one list per parse_opts field, or NULL */
    size_t n_fields;
} parse_page;

/* Parses len bytes of HTML fetched from url (used as the base, unless the
 * page has a <base href>) into out, which must be zeroed. charset is the
 * encoding the server declared (borrowed; NULL: the document's own
 * <meta charset>, else UTF-8). Recovery is on, network access and entity
 * expansion are off. Returns 0 or a parse_code with a message in err; out
 * is complete only on 0, but must be cleared either way. */
int parse_html(const char *buf, size_t len, const char *url,
               const char *charset, const parse_opts *o, parse_page *out,
               char *err, size_t errlen);

/* Checks that expr compiles as XPath. Returns 0 or PARSE_EXPATH with a
 * message in err. */
int parse_xpath_check(const char *expr, char *err, size_t errlen);

/* Releases what p owns and zeroes it. */
void parse_page_clear(parse_page *p);

/* ---- robots.txt (RFC 9309) ----
 *
 * What the caller decides, not this parser: a 2xx robots.txt is parsed
 * here; a 4xx one (404 included) means there are no rules, so every path
 * is allowed (pass NULL, or parse an empty body); a 5xx one, or none
 * because the server could not be reached, means every path is disallowed
 * until a later fetch succeeds (RFC 9309 2.3.1.3 and 2.3.1.4). */

/* What parse_robots_new() reads of a body; the rest is ignored, as
 * RFC 9309 2.5 allows and Google does. */
#define PARSE_ROBOTS_MAX (500 * 1024)

typedef struct parse_robots parse_robots;

/* Parses len bytes of a robots.txt body for the crawler whose product
 * token leads agent ("gather" in "gather/0.1.0"; letters, '_' and '-').
 * Any bytes are accepted: a UTF-8 BOM, CR, LF or CRLF line ends, comments,
 * a missing final newline, binary junk (lines that are not records are
 * skipped). Only the first PARSE_ROBOTS_MAX bytes are read, up to the last
 * line end within them.
 *
 * The rules kept are those of every group whose user-agent names the token
 * (case-insensitively; "gather/2" and "GATHER" do, "gatherbot" does not),
 * merged; when no group names it, those of every "*" group, merged; else
 * none. Crawl-delay is the first valid one in those groups. Sitemap lines
 * count wherever they stand.
 *
 * Returns a handle for parse_robots_free(), or NULL only when out of
 * memory. The handle is read-only: any number of threads may query it at
 * once. */
parse_robots *parse_robots_new(const char *buf, size_t len, const char *agent);

/* Releases r. NULL is a no-op. */
void parse_robots_free(parse_robots *r);

/* Returns 1 when the rules let the crawler fetch path_and_query (the URL's
 * path and "?query" as sent, without scheme, host or "#fragment"; "" counts
 * as "/"), else 0. The longest matching Allow or Disallow pattern decides,
 * Allow on a tie; no match allows, and so does r == NULL (no robots.txt).
 * "/robots.txt" itself is always allowed. Patterns use '*' for any run of
 * bytes and a final '$' for the end of the path.
 *
 * Both sides are compared after the same normalisation: %XX escapes of
 * unreserved characters (A-Z a-z 0-9 - . _ ~) are decoded, other escapes
 * get upper-case hex, and bytes outside printable ASCII are percent-encoded
 * (RFC 9309 2.2.2). Returns 0 when out of memory for a long path: not
 * fetching is the safe side. */
int parse_robots_allowed(const parse_robots *r, const char *path_and_query);

/* Whether r allows every path: NULL, or no rule for the crawler. A caller
 * can then skip working out a URL's path. */
int parse_robots_allows_all(const parse_robots *r);

/* The crawl-delay for the crawler in seconds (fractions allowed), or -1
 * when its groups set none, or r is NULL. Not bounded here: the caller
 * caps it. */
double parse_robots_crawl_delay(const parse_robots *r);

/* Points *out at the Sitemap URLs of the file, in file order, repeats
 * kept, and returns how many (0 and NULL for r == NULL). Only absolute
 * http(s) URLs are kept. The strings belong to r. */
size_t parse_robots_sitemaps(const parse_robots *r, const char *const **out);

/* ---- sitemaps (sitemaps.org) ---- */

/* The most bytes of XML parse_sitemap() reads, after gunzip. Sitemaps
 * are limited to 50 MB uncompressed; this leaves room and stops a gzip
 * bomb. */
#define PARSE_SITEMAP_MAX ((size_t)64 << 20)

/* Called once per <loc>, in document order, with its text trimmed of
 * whitespace (borrowed: valid during the call). Return nonzero to stop. */
typedef int (*parse_sitemap_fn)(void *ctx, const char *loc);

/* Reads a sitemap: a <urlset> (each <url>'s <loc>) or a <sitemapindex>
 * (each <sitemap>'s <loc>), in the sitemaps.org namespace or in none (the
 * children must be in the namespace of the root, so <image:loc> and other
 * extensions are not taken). A body that starts with the gzip magic is
 * gunzipped first (a .xml.gz served as is), concatenated members too. The
 * XML is streamed through SAX: no tree is built, and the inflated text is
 * never held whole. No DTD is read and nothing is loaded
 * from a file or the network; entities declared in the document are
 * ignored, so a reference to one is an undefined entity (PARSE_EXML), and
 * only the five predefined ones and character references are expanded.
 * <loc>s over 8 KiB are skipped. cb may be NULL, to check a document.
 *
 * *is_index (if not NULL) is set to 1 for a <sitemapindex>, else 0.
 * Returns 0 when the whole document was read or cb stopped it; else a
 * parse_code with a message in err: PARSE_ETOOBIG past PARSE_SITEMAP_MAX
 * bytes of XML (for gzip, the whole stream is inflated to find out, even
 * after bad XML), PARSE_EGZIP, PARSE_ENOTSITEMAP for another root element
 * (an HTML error page, a feed), PARSE_EXML when the XML is not well-formed
 * (the parser recovers where it can), PARSE_ENOMEM. The URLs passed to cb
 * before an error stand: the caller may keep them. */
int parse_sitemap(const char *buf, size_t len, parse_sitemap_fn cb, void *ctx,
                  int *is_index, char *err, size_t errlen);

#endif
