/*
 * store: sets of keys. The keyset is an open-addressing hash table of 128-bit
 * keys with linear probing, grown at 1/2 load; tkd_idset (problem ids for
 * resume) is a keyset whose second word is zero, and merge uses the full
 * width for (pid, sample, phase).
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t a, uint64_t b) {
    uint64_t z = a ^ (b * 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void store_keyset_init(store_keyset *ks) {
    memset(ks, 0, sizeof *ks);
}

void store_keyset_free(store_keyset *ks) {
    free(ks->k);
    free(ks->used);
    memset(ks, 0, sizeof *ks);
}

static size_t find(const store_keyset *ks, uint64_t a, uint64_t b, int *found) {
    size_t mask = ks->cap - 1, i = (size_t)mix(a, b) & mask;
    while (ks->used[i]) {
        if (ks->k[2 * i] == a && ks->k[2 * i + 1] == b) {
            *found = 1;
            return i;
        }
        i = (i + 1) & mask;
    }
    *found = 0;
    return i;
}

static int grow(store_keyset *ks) {
    size_t cap = ks->cap ? ks->cap * 2 : 64;
    if (cap > SIZE_MAX / (2 * sizeof(uint64_t)))
        return TKD_ENOMEM;
    store_keyset n = {calloc(cap * 2, sizeof(uint64_t)), calloc(cap, 1), cap, 0};
    if (!n.k || !n.used) {
        free(n.k);
        free(n.used);
        return TKD_ENOMEM;
    }
    for (size_t i = 0; i < ks->cap; i++) {
        if (!ks->used[i])
            continue;
        int found;
        size_t j = find(&n, ks->k[2 * i], ks->k[2 * i + 1], &found);
        n.k[2 * j] = ks->k[2 * i];
        n.k[2 * j + 1] = ks->k[2 * i + 1];
        n.used[j] = 1;
        n.n++;
    }
    store_keyset_free(ks);
    *ks = n;
    return 0;
}

int store_keyset_add(store_keyset *ks, uint64_t a, uint64_t b) {
    if ((ks->n + 1) * 2 > ks->cap && grow(ks))
        return TKD_ENOMEM;
    int found;
    size_t i = find(ks, a, b, &found);
    if (found)
        return 0;
    ks->k[2 * i] = a;
    ks->k[2 * i + 1] = b;
    ks->used[i] = 1;
    ks->n++;
    return 1;
}

int store_keyset_has(const store_keyset *ks, uint64_t a, uint64_t b) {
    if (!ks->cap)
        return 0;
    int found;
    find(ks, a, b, &found);
    return found;
}

struct tkd_idset {
    store_keyset ks;
};

tkd_idset *tkd_idset_new(void) {
    tkd_idset *s = calloc(1, sizeof *s);
    if (s)
        store_keyset_init(&s->ks);
    return s;
}

void tkd_idset_free(tkd_idset *set) {
    if (!set)
        return;
    store_keyset_free(&set->ks);
    free(set);
}

int tkd_idset_add(tkd_idset *set, uint64_t id) {
    return store_keyset_add(&set->ks, id, 0);
}
int tkd_idset_has(const tkd_idset *set, uint64_t id) {
    return store_keyset_has(&set->ks, id, 0);
}
size_t tkd_idset_size(const tkd_idset *set) {
    return set->ks.n;
}
