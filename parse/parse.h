/* parse: turns fetched bytes into page facts with libxml2's HTML parser.
 *
 * Ownership: a parse_page owns every string in it; parse_page_clear()
 * releases them. parse_html() is thread-safe once parse_global_init() has
 * run (once, before any thread starts); each call uses its own parser.
 */
#ifndef GATHER_PARSE_H
#define GATHER_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define PARSE_ERRORS(X)                                                        \
    X(PARSE_OK, "ok")                                                          \
    X(PARSE_ENOMEM, "out of memory")                                           \
    X(PARSE_EPARSE, "HTML could not be parsed")                                \
    X(PARSE_EXPATH, "invalid XPath expression")

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

typedef struct parse_page {
    char *title;        /* owned; whitespace collapsed; NULL if none */
    char *description;  /* owned; meta description; NULL if none */
    parse_strv links;   /* absolute, unique, in document order */
    parse_strv images;
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

#endif
