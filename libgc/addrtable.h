/* addrtable.h - address-keyed hash table for runtime metadata (addrtable.c).
 *
 * Owns: one open-addressing table of fixed-size entries whose first member
 * is a uintptr_t key (an address, never 0).  Used by the finalizer table
 * (finalizer.c, struct fin_entry) and by the table of sampled objects
 * (profile.c, struct prof_entry).
 *
 * Invariants:
 *   - cap is 0 (nothing mapped yet) or a power of two >= min_cap, and
 *     count * 4 <= cap * 3 (the table grows before an insert passes 3/4);
 *   - a slot whose key is 0 is empty; there are no tombstones: deletion
 *     shifts the rest of the probe chain back (linear probing, backward
 *     shift), so every entry is reachable from its home slot
 *     (hash(key)) without crossing an empty slot;
 *   - several entries may share a key (insert does not look for one);
 *     they all lie in the chain that starts at the key's home slot;
 *   - the slots live in a metadata mapping (gci_os_map_meta, counted in
 *     metadata_sys), never in malloc'd memory or the data segments: the
 *     collector scans those as roots, and the keys must not keep objects
 *     alive.  The struct itself lives inside struct gcstate (mmap'd too)
 *     or wherever the caller keeps runtime state.
 *   - an entry pointer is valid until the next insert or delete.
 * Locking: none here; each caller holds its own lock (fin_lock, prof_lock)
 * or has the world stopped.
 */
#ifndef GC_ADDRTABLE_H
#define GC_ADDRTABLE_H

#include "gc_types.h"
#include <stddef.h>
#include <stdint.h>

struct gci_addrtable {
    unsigned char *slots;   /* cap * esize bytes; metadata mapping; NULL while cap == 0 */
    size_t esize;           /* bytes per entry; the entry starts with its uintptr_t key */
    size_t min_cap;         /* capacity of the first mapping (power of two) */
    size_t cap;             /* 0 or a power of two */
    size_t count;           /* entries in use */
    unsigned shift;         /* 64 - log2(cap): the hash keeps the top bits */
};

/* Sets up an empty table (maps nothing) for entries of esize bytes. */
GC_HIDDEN void gci_addrtable_init(struct gci_addrtable *t, size_t esize, size_t min_cap);

/* The first entry with key, or NULL. */
GC_HIDDEN void *gci_addrtable_find(const struct gci_addrtable *t, uintptr_t key);

/* A new entry for key (key set, the rest zeroed), even if key is there
 * already; NULL if the table had to grow and no memory was left. */
GC_HIDDEN void *gci_addrtable_insert(struct gci_addrtable *t, uintptr_t key);

/* Removes the entry e (from find, insert or gci_addrtable_at).  The slot
 * may then hold another entry, moved back from later in its chain. */
GC_HIDDEN void gci_addrtable_delete(struct gci_addrtable *t, void *e);

/* Removes every entry with key, calling fn (if not NULL) with a copy of
 * each, after it has left the table; returns how many there were. */
GC_HIDDEN size_t gci_addrtable_remove_all(struct gci_addrtable *t, uintptr_t key,
                                          void (*fn)(void *entry, void *arg), void *arg);

/* The entry in slot i (i < cap), or NULL if the slot is empty.  To delete
 * while walking the slots, do not advance past i after a delete: a later
 * entry may have moved into slot i (one from the start of the table may
 * move to its end, and is then seen twice). */
static inline void *gci_addrtable_at(const struct gci_addrtable *t, size_t i)
{
    void *e = t->slots + i * t->esize;
    return *(uintptr_t *)e ? e : NULL;
}

/* Empties the table, keeping its mapping. */
GC_HIDDEN void gci_addrtable_clear(struct gci_addrtable *t);

#endif
