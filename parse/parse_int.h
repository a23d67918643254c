/* parse_int: what the files of parse/ share and no other module sees. */
#ifndef GATHER_PARSE_INT_H
#define GATHER_PARSE_INT_H

#include "parse.h"

#include <stddef.h>

/* Formats a message into err, of errlen bytes; a NULL err or a zero
 * errlen is allowed and leaves nothing. */
void parse_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
