/* wire: the byte format of what crosses between gather and its worker
 * processes: fetch results going to a parse worker, and finished records
 * coming back. Strings are length-prefixed and may be NULL.
 *
 * Ownership: a wire buffer owns its bytes (free with wire_clear()); strings
 * read back are malloced and belong to the caller. No shared state.
 */
#ifndef GATHER_WIRE_H
#define GATHER_WIRE_H

#include "../fetch/fetch.h"

#include <stddef.h>
#include <stdint.h>

typedef struct wire {
    char *buf;     /* owned */
    size_t len, cap;
    int failed;    /* an allocation failed; the buffer is incomplete */
} wire;

typedef struct wire_rd {
    const char *p; /* borrowed */
    size_t left;
    int failed;    /* the input was short or malformed */
} wire_rd;

void wire_clear(wire *w);
/* Appends n bytes as they are; what the others build on, and the growing
 * buffer record.c writes its JSON and CSV lines into. */
void wire_put_bytes(wire *w, const void *p, size_t n);
void wire_put_u64(wire *w, uint64_t v);
void wire_put_f64(wire *w, double v);
void wire_put_str(wire *w, const char *s);

uint64_t wire_get_u64(wire_rd *r);
double wire_get_f64(wire_rd *r);
/* A malloced copy of the next string, or NULL (a NULL string or failure). */
char *wire_get_str(wire_rd *r);

/* Every field of a fetch result except the body. */
void wire_put_result(wire *w, const fetch_result *res);
/* Fills res (zeroed first); returns 0 or -1 when the input is malformed. */
int wire_get_result(wire_rd *r, fetch_result *res);

#endif
