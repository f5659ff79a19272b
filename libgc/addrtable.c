/* addrtable.c - the address-keyed open-addressing table (see addrtable.h
 * for the invariants).
 *
 * Owns: probing (linear, from the home slot hash(key)), growth (doubling
 * into a fresh metadata mapping once an insert would pass 3/4 full) and
 * deletion by backward shift: the entries after a freed slot, up to the
 * next empty one, move back into it when their home slot does not lie
 * between the freed slot and where they stand, so no tombstones are left
 * and lookups stop at the first empty slot.
 * Locking: none; callers lock (addrtable.h).
 */
#include "gc_internal.h"

/* Largest entry remove_all copies out before calling back. */
#define MAX_ESIZE 64

static size_t home(const struct gci_addrtable *t, uintptr_t key)
{
    /* Fibonacci hashing on the address without its always-zero low bits:
     * the top log2(cap) bits of the product. */
    return (size_t)(((uint64_t)(key >> 4) * 0x9E3779B97F4A7C15ull) >> t->shift);
}

static unsigned char *slot(const struct gci_addrtable *t, size_t i)
{
    return t->slots + i * t->esize;
}

static uintptr_t key_at(const struct gci_addrtable *t, size_t i)
{
    return *(const uintptr_t *)slot(t, i);
}

static unsigned log2_of(size_t pow2)
{
    return (unsigned)__builtin_ctzll((unsigned long long)pow2);
}

void gci_addrtable_init(struct gci_addrtable *t, size_t esize, size_t min_cap)
{
    gc_assert_always(esize >= sizeof(uintptr_t) && esize <= MAX_ESIZE);
    gc_assert_always(min_cap >= 2 && (min_cap & (min_cap - 1)) == 0);
    *t = (struct gci_addrtable){.esize = esize, .min_cap = min_cap};
}

static int grow(struct gci_addrtable *t)
{
    size_t ncap = t->cap ? t->cap * 2 : t->min_cap;
    unsigned char *n = gci_os_map_meta(ncap * t->esize);
    if (!n)
        return -1;
    struct gci_addrtable nt = *t;
    nt.slots = n;
    nt.cap = ncap;
    nt.shift = 64 - log2_of(ncap);
    for (size_t i = 0; i < t->cap; i++) {
        uintptr_t k = key_at(t, i);
        if (!k)
            continue;
        size_t j = home(&nt, k);
        while (key_at(&nt, j))
            j = (j + 1) & (ncap - 1);
        memcpy(slot(&nt, j), slot(t, i), t->esize);
    }
    if (t->slots)
        gci_os_unmap(t->slots, t->cap * t->esize);
    gci_add(&gci->metadata_sys, (ncap - t->cap) * t->esize);
    *t = nt;
    return 0;
}

void *gci_addrtable_find(const struct gci_addrtable *t, uintptr_t key)
{
    if (!t->cap)
        return NULL;
    for (size_t i = home(t, key);; i = (i + 1) & (t->cap - 1)) {
        uintptr_t k = key_at(t, i);
        if (k == key)
            return slot(t, i);
        if (!k)
            return NULL;
    }
}

void *gci_addrtable_insert(struct gci_addrtable *t, uintptr_t key)
{
    gc_assert(key != 0);
    if ((t->count + 1) * 4 > t->cap * 3 && grow(t) != 0)
        return NULL;
    size_t i = home(t, key);
    while (key_at(t, i))
        i = (i + 1) & (t->cap - 1);
    unsigned char *e = slot(t, i);
    memset(e, 0, t->esize);
    memcpy(e, &key, sizeof key);
    t->count++;
    return e;
}

/* Frees slot i and shifts the rest of its chain back over it. */
static void delete_at(struct gci_addrtable *t, size_t i)
{
    size_t mask = t->cap - 1;
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        uintptr_t k = key_at(t, j);
        if (!k)
            break;
        /* The entry at j may fill the hole at i if its home is at or
         * before i along the probe sequence that reaches j. */
        if (((j - home(t, k)) & mask) >= ((j - i) & mask)) {
            memcpy(slot(t, i), slot(t, j), t->esize);
            i = j;
        }
    }
    memset(slot(t, i), 0, t->esize);
    t->count--;
}

void gci_addrtable_delete(struct gci_addrtable *t, void *e)
{
    size_t off = (size_t)((unsigned char *)e - t->slots);
    gc_assert(off % t->esize == 0 && off / t->esize < t->cap && key_at(t, off / t->esize) != 0);
    delete_at(t, off / t->esize);
}

size_t gci_addrtable_remove_all(struct gci_addrtable *t, uintptr_t key,
                                void (*fn)(void *entry, void *arg), void *arg)
{
    if (!t->cap)
        return 0;
    size_t n = 0;
    uint64_t copy[MAX_ESIZE / sizeof(uint64_t)];   /* aligned for any entry struct */
    for (size_t i = home(t, key); key_at(t, i);) {
        if (key_at(t, i) != key) {
            i = (i + 1) & (t->cap - 1);
            continue;
        }
        memcpy(copy, slot(t, i), t->esize);
        delete_at(t, i);   /* slot i may now hold a later entry: look again */
        n++;
        if (fn)
            fn(copy, arg);
    }
    return n;
}

void gci_addrtable_clear(struct gci_addrtable *t)
{
    if (t->slots)
        memset(t->slots, 0, t->cap * t->esize);
    t->count = 0;
}
