/*
 * NAME
 *	hmap - string-keyed hash map, and a counted set of 16-byte keys
 *	(open addressing, linear probing)
 * SUMMARY
 *	struct hmap: keys are byte strings copied into the map; values are
 *	void pointers owned by the caller.  hmap_get_or_add() is the only
 *	insert; hmap_del() removes one key and hmap_sweep() every key a
 *	predicate picks (backward-shift deletion, no tombstones).
 *	struct hcount: how many times each 16-byte key (a client address)
 *	was added and not yet deleted, the keys kept in the table itself (20
 *	bytes a slot, no allocation per key), for small sets that come and go
 *	by the thousand.
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

#define HCOUNT_KEY 16

struct hcount_slot;

/* A counted set; all zero is an empty one. */
struct hcount {
	struct hcount_slot *s;
	size_t cap;      /* slots, a power of two (0: none yet) */
	size_t distinct; /* keys with a count */
};

/* hcount_add - one more of key; -1 on ENOMEM (nothing changed) */
int hcount_add(struct hcount *, const unsigned char key[HCOUNT_KEY]);
/* hcount_del - one fewer of key (nothing when it has none); its slot empties at 0 */
void hcount_del(struct hcount *, const unsigned char key[HCOUNT_KEY]);
/* hcount_clear - every count to 0, keeping the table */
void hcount_clear(struct hcount *);
/* hcount_free - the table; the set is empty again */
void hcount_free(struct hcount *);
/* hcount_bytes - the bytes of its table */
size_t hcount_bytes(const struct hcount *);

#endif
