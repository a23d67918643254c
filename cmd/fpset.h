/* fpset: a compact set of URLs, kept as 64-bit hashes (fingerprints:
 * XXH3 with a seed drawn at random for the run, so they cannot be aimed
 * at), optionally with a 64-bit value each. Fingerprints are good for
 * one run: do not store them. With 2^64
 * fingerprints, a million URLs collide with a probability near 3e-8.
 * Open addressing at a load of at most 3/4: 11 to 21 bytes per URL without
 * values, twice that with them.
 *
 * Ownership: fpset_new() returns a set freed with fpset_free(). One thread
 * at a time.
 */
#ifndef GATHER_FPSET_H
#define GATHER_FPSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct fpset fpset;

/* An empty set; with_values keeps a value beside each fingerprint.
 * NULL when out of memory. */
fpset *fpset_new(int with_values);
void fpset_free(fpset *s);

/* The fingerprint of s (never 0). */
uint64_t fpset_key(const char *s);

/* Adds key with value (ignored without values). Returns 1 when added, 0
 * when it was there already (its value is kept), -1 when out of memory. */
int fpset_add(fpset *s, uint64_t key, uint64_t value);

/* 1 and *value (when value is not NULL) if key is in s, else 0. */
int fpset_get(const fpset *s, uint64_t key, uint64_t *value);

/* Removes key; 1 when it was there, else 0. */
int fpset_del(fpset *s, uint64_t key);

size_t fpset_count(const fpset *s);

/* Bytes of memory the set holds now. */
size_t fpset_bytes(const fpset *s);

#endif
