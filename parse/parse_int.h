/* parse_int: what the files of parse/ share and no other module sees. */
#ifndef GATHER_PARSE_INT_H
#define GATHER_PARSE_INT_H

#include "parse.h"

#include <stddef.h>

/* Appends s to v, which then owns it. Returns 0, or -1 when out of memory
 * (s is then still the caller's). */
int parse_strv_push(parse_strv *v, char *s);

/* Frees every string of v and v's array, and zeroes v. */
void parse_strv_clear(parse_strv *v);

/* Formats a message into err, of errlen bytes; a NULL err or a zero
 * errlen is allowed and leaves nothing. */
void parse_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
