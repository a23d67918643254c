/* fpset: URL fingerprints in an open-addressing table with linear
 * probing; the fingerprint is already a uniform hash, so its low bits
 * pick the slot. */
#include "fpset.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
/* xxHash's functions inlined from its header: a fingerprint is taken twice
 * for every link a crawl finds. */
#define XXH_INLINE_ALL
#include <xxhash.h>

struct fpset {
    uint64_t *keys;   /* owned; 0 marks an empty slot */
    uint64_t *values; /* owned; NULL without values */
    size_t cap, n;
    int with_values;
};

/* The seed of the run's fingerprints: random, so that nobody can make up
 * URLs that share one (which would make a crawl skip a page). Taken once,
 * by the process that keeps the sets; forked workers keep a seed taken
 * before the fork. */
static uint64_t seed;
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;

static void take_seed(void)
{
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != sizeof seed)
        seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL ^
               (uint64_t)getpid();
}

fpset *fpset_new(int with_values)
{
    pthread_once(&seed_once, take_seed);
    fpset *s = calloc(1, sizeof *s);
    if (s)
        s->with_values = with_values;
    return s;
}

void fpset_free(fpset *s)
{
    if (!s)
        return;
    free(s->keys);
    free(s->values);
    free(s);
}

uint64_t fpset_key(const char *str)
{
    pthread_once(&seed_once, take_seed);
    uint64_t k = XXH3_64bits_withSeed(str, strlen(str), seed);
    return k ? k : 1;
}

/* The slot of key: where it is, or the empty slot where it would go. */
static size_t slot_of(const fpset *s, uint64_t key)
{
    size_t h = key & (s->cap - 1);
    while (s->keys[h] && s->keys[h] != key)
        h = (h + 1) & (s->cap - 1);
    return h;
}

static int grow(fpset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 1024;
    fpset t = {calloc(cap, sizeof *t.keys), NULL, cap, 0, s->with_values};
    if (!t.keys ||
        (s->with_values && !(t.values = calloc(cap, sizeof *t.values)))) {
        free(t.keys);
        return -1;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->keys[i])
            continue;
        size_t h = slot_of(&t, s->keys[i]);
        t.keys[h] = s->keys[i];
        if (t.values)
            t.values[h] = s->values[i];
    }
    free(s->keys);
    free(s->values);
    s->keys = t.keys;
    s->values = t.values;
    s->cap = cap;
    return 0;
}

int fpset_add(fpset *s, uint64_t key, uint64_t value)
{
    if ((s->n + 1) * 4 > s->cap * 3 && grow(s))
        return -1;
    size_t h = slot_of(s, key);
    if (s->keys[h])
        return 0;
    s->keys[h] = key;
    if (s->values)
        s->values[h] = value;
    s->n++;
    return 1;
}

int fpset_get(const fpset *s, uint64_t key, uint64_t *value)
{
    if (!s->n)
        return 0;
    size_t h = slot_of(s, key);
    if (!s->keys[h])
        return 0;
    if (value)
        *value = s->values ? s->values[h] : 0;
    return 1;
}

int fpset_del(fpset *s, uint64_t key)
{
    if (!s->n)
        return 0;
    size_t h = slot_of(s, key), mask = s->cap - 1;
    if (!s->keys[h])
        return 0;
    /* Backward shift: move later keys of the probe run into the hole, so
     * that every key stays reachable from its home slot. */
    for (size_t j = (h + 1) & mask; s->keys[j]; j = (j + 1) & mask) {
        size_t home = s->keys[j] & mask;
        if (((j - home) & mask) >= ((j - h) & mask)) {
            s->keys[h] = s->keys[j];
            if (s->values)
                s->values[h] = s->values[j];
            h = j;
        }
    }
    s->keys[h] = 0;
    s->n--;
    return 1;
}

size_t fpset_count(const fpset *s)
{
    return s->n;
}

size_t fpset_bytes(const fpset *s)
{
    return sizeof *s + s->cap * sizeof(uint64_t) * (s->values ? 2 : 1);
}
