/*
 * NAME
 *	hmap - string-keyed hash map (open addressing, linear probing)
 * SUMMARY
 *	Keys are byte strings copied into the map; values are
 *	void pointers owned by the caller.  hmap_get_or_add() is the only
 *	insert; hmap_del() removes one key and hmap_sweep() every key a
 *	predicate picks (backward-shift deletion, no tombstones).
 *	A map made by hmap_new_ref() copies no key: it keeps the caller's
 *	pointer, given with each value by hmap_put_ref_h(), for a value
 *	whose key lives inside it (one allocation less per entry, and the
 *	key compare of a look-up reads the value's memory the caller reads
 *	next anyway).  A map made by hmap_new_arena() copies its keys into
 *	large blocks of its own, freed with the map (for maps only added to).
 *	Keys are hashed with SipHash-1-3 (util/siphash) under a key drawn
 *	from getrandom(2) once per process: keys come from the log, and an
 *	attacker who cannot compute the hash cannot pick keys that pile up
 *	in one probe chain (hash flooding).  So the order of hmap_each()
 *	differs from run to run: callers that print sort first.
 *	Uses nothing of the project but util/siphash (the lower floor).
 * RETURNS
 *	NULL on ENOMEM where a pointer is returned; never prints, never exits.
 * UNTRUSTED INPUT
 *	Keys: any bytes, NUL included, with their length.
 */
#ifndef SG_HMAP_H
#define SG_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap;

struct hmap *hmap_new(void);
/*
 * hmap_new_ref - a map that keeps its keys' pointers instead of copies:
 * filled only by hmap_put_ref_h() (hmap_get_or_add*() return NULL on it),
 * and a key's bytes must stay as they are, where they are, until the
 * entry is removed or its key replaced.  NULL on ENOMEM.
 */
struct hmap *hmap_new_ref(void);
/*
 * hmap_new_arena - a map that copies its keys into 64 KiB blocks of its
 * own instead of one allocation each, freed together by hmap_free(): for
 * a map that is only added to (a removed key's bytes stay in their block
 * until then).  Fewer allocations while it fills, and far fewer frees at
 * the end.  NULL on ENOMEM.
 */
struct hmap *hmap_new_arena(void);
void hmap_free(struct hmap *, void (*free_val)(void *));
/* hmap_hash - the keyed hash of n bytes at key under the process's key; never 0 */
uint64_t hmap_hash(const void *key, size_t n);
/* hmap_get - the value for key, or NULL */
void *hmap_get(const struct hmap *, const void *key, size_t n);
/*
 * hmap_get_or_add - the slot of key's value; *added = 1 when the key was
 * new (its value slot is NULL for the caller to fill).  NULL on ENOMEM.
 */
void **hmap_get_or_add(struct hmap *, const void *key, size_t n, int *added);
/* hmap_del - remove key; returns its value (NULL if absent) */
void *hmap_del(struct hmap *, const void *key, size_t n);
/*
 * hmap_hash_mix - a hash for a key made of the key h is the hmap_hash of
 * and the number v (still keyed: not to be predicted without the process's
 * key); never 0
 */
uint64_t hmap_hash_mix(uint64_t h, uint64_t v);
/*
 * The same three with the key's hash given: h is hmap_hash(key, n), or a
 * hmap_hash_mix() of a part's; every call on one map must give a key the
 * same hash (a map uses one of the two ways for all its keys).
 */
void *hmap_get_h(const struct hmap *, uint64_t h, const void *key, size_t n);
void **hmap_get_or_add_h(struct hmap *, uint64_t h, const void *key, size_t n, int *added);
void *hmap_del_h(struct hmap *, uint64_t h, const void *key, size_t n);
/*
 * hmap_put_ref_h - in a map of hmap_new_ref(), key (hash h, n bytes, the
 * pointer kept) now maps to val, added or in place of the entry with the
 * same bytes, whose key pointer is replaced by this one.  The old value
 * (NULL when the key was new) is in *old; 0, or -1 on ENOMEM or on a map
 * of hmap_new() (nothing changed then).
 */
int hmap_put_ref_h(struct hmap *, uint64_t h, const void *key, size_t n, void *val, void **old);
size_t hmap_count(const struct hmap *);
/* hmap_each - call cb for every entry; stops when cb returns non-zero */
int hmap_each(const struct hmap *, int (*cb)(void *ctx, const char *key, size_t n, void *val),
    void *ctx);
/*
 * hmap_sweep - remove every entry for which drop() returns non-zero (it
 * owns the value then: free it in drop).  drop() may be called more than
 * once for an entry it keeps, never for one it dropped; it must not
 * change the map.  Returns the number removed.
 */
size_t hmap_sweep(struct hmap *, int (*drop)(void *ctx, const char *key, size_t n, void *val),
    void *ctx);

#endif
