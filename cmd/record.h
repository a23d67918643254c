/* record: the JSON Lines record of one URL, built with jansson.
 *
 * Ownership: functions returning char * return malloced strings the caller
 * frees. Everything here is thread-safe (no shared state).
 */
#ifndef GATHER_RECORD_H
#define GATHER_RECORD_H

#include "../fetch/fetch.h"
#include "../parse/parse.h"

#include <stddef.h>

/* Returns a malloced, NUL-terminated copy of s[0..n) that is valid UTF-8:
 * each invalid byte (bad lead, truncated or overlong sequence, surrogate,
 * code point above U+10FFFF) becomes U+FFFD. NUL bytes are kept (JSON
 * escapes them); *outlen gets the length. NULL when out of memory. */
char *record_utf8(const char *s, size_t n, size_t *outlen);

/* Builds the one-line JSON record for r. page is NULL when the body was not
 * parsed; fields names the XPath fields of page->fields. parse_error, when
 * not NULL, replaces a NULL r->error. Returns the line without a newline,
 * or NULL when out of memory. */
char *record_json(const fetch_result *r, const parse_page *page,
                  const parse_field *fields, const char *parse_error);

#endif
