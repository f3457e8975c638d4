/*
 * NAME
 *	hmap - string-keyed hash map (open addressing, linear probing)
 * SUMMARY
 *	Keys are byte strings copied into the map; values are void pointers
 *	owned by the caller.  hmap_get_or_add() is the only insert; there is
 *	no per-key delete except hmap_del() (backward-shift, no tombstones).
 */
#ifndef SG_HMAP_H
#define SG_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap;

struct hmap *hmap_new(void);
void hmap_free(struct hmap *, void (*free_val)(void *));
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

#endif
