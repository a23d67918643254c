/* record: the JSON Lines record of one URL (written directly, read back
 * with jansson).
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
/* How every JSON record (and so every journal line) starts. */
#define RECORD_JSON_PREFIX "{\"url\":"

char *record_json(const fetch_result *r, const parse_page *page,
                  const parse_field *fields, const char *parse_error);

/* CSV (RFC 4180) instead of JSON lines: the header row, and the row of a
 * record line. Columns: url, final_url, status, bytes, content_type,
 * sha256, path, error, attempts, total_ms, title, description, words,
 * links, images, assets, then one per field; lists are joined with ',' in one
 * cell, as Scrapy's CSV exporter does. Rows end in CRLF, as RFC 4180
 * says. Malloced; NULL when out of memory (or line is not a record). */
char *record_csv_header(const parse_field *fields, size_t n_fields);
char *record_csv(const char *line, const parse_field *fields,
                 size_t n_fields);

/* The record of a URL whose server answered 304 to a conditional request:
 * the record old_line an earlier run wrote (its file, digest, title,
 * links, fields...), with what the new answer says (new_line: status,
 * final_url, attempts, timings, error, and its validators when it sent
 * any) and "unchanged": true. Malloced; NULL when out of memory or a line
 * is not a record. */
char *record_unchanged(const char *old_line, const char *new_line);

/* The ETag and Last-Modified of a record line, malloced into *etag and
 * *last_modified (NULL when absent). Returns 0, or -1 when line is not a
 * record or memory ran out. */
int record_validators(const char *line, char **etag, char **last_modified);

/* The links and requisites of a record line (as record_json() writes
 * them): *found gets the links, then the images and assets, all
 * malloced; the counts in *nl and *nr. Returns 0 (none is not an error),
 * or -1 when line is not a record or memory ran out. */
int record_found(const char *line, char ***found, size_t *nl, size_t *nr);

#endif
