/*
 * NAME
 *	hmap - string-keyed open-addressing hash map (see hmap.h)
 * SUMMARY
 *	A power-of-two table of slots (hash, key copy, length, value), at
 *	most 3/4 full, linear probing from hash & (cap - 1).  The hash is
 *	SipHash-1-3 under one random key per process (proc_key, drawn at the
 *	first hash); 0 marks an empty slot, so a hash of 0 is taken as 1.
 *	Deletion shifts the rest of the probe chain back (no tombstones).
 *	The _h variants take the key's hash from the caller, who looked the
 *	same key (or the identity a key is made of) up in another map first.
 *	A map of hmap_new_ref() (ref set) holds the callers' key pointers:
 *	it neither copies nor frees a key.  A map of hmap_new_arena() (arena
 *	set) copies its keys into 64 KiB blocks (struct kblock), freed only
 *	by hmap_free().
 * RETURNS
 *	See hmap.h.
 * UNTRUSTED INPUT
 *	Keys, copied with their length.
 */
#include <stdlib.h>
#include <string.h>

#include "util/hmap.h"
#include "util/siphash.h"

/* a slot's key: its own copy, or (ref map) the caller's bytes, only read */
union skey {
	char *own;
	const char *ref;
};

struct slot {
	uint64_t hash; /* 0: empty */
	union skey key;
	size_t n;
	void *val;
};

/* A block of key copies of a map of hmap_new_arena(), newest first. */
struct kblock {
	struct kblock *next;
	size_t used, size;
	char data[];
};

#define KBLOCK_SIZE ((size_t)65536 - sizeof(struct kblock)) /* bytes of keys a block */

struct hmap {
	struct slot *s;
	size_t cap; /* power of two */
	size_t count;
	int ref;                /* keys are the callers' pointers (hmap_new_ref) */
	int arena;              /* keys copied into blocks (hmap_new_arena) */
	struct kblock *kblocks; /* its blocks */
};

static unsigned char proc_key[SIPHASH_KEY_LEN];
static int proc_key_set;

/* hmap_hash - SipHash-1-3 under the process's random key, never 0 */
uint64_t
hmap_hash(const void *key, size_t n)
{
	uint64_t h;

	if (!proc_key_set) {
		(void)siphash_key_random(proc_key); /* a weaker key still varies per process */
		proc_key_set = 1;
	}
	h = siphash13(proc_key, key, n);
	return (h == 0 ? 1 : h);
}

/*
 * hmap_hash_mix - h (a hmap_hash) made into another as keyed, for the
 * pair (the key h stands for, v): h xor-shifted, v's multiple of an odd
 * constant xored in, multiplied by another odd constant and folded, each
 * step a bijection of h for one v, so the low bits that pick the slot
 * depend on all of h and v
 */
uint64_t
hmap_hash_mix(uint64_t h, uint64_t v)
{
	h = (h ^ (h >> 29) ^ (v + 1) * 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (h == 0 ? 1 : h);
}

struct hmap *
hmap_new(void)
{
	struct hmap *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return (NULL);
	m->cap = 64;
	if ((m->s = calloc(m->cap, sizeof(*m->s))) == NULL) {
		free(m);
		return (NULL);
	}
	return (m);
}

/* hmap_new_ref - a map that keeps its callers' key pointers (see hmap.h) */
struct hmap *
hmap_new_ref(void)
{
	struct hmap *m = hmap_new();

	if (m != NULL)
		m->ref = 1;
	return (m);
}

/* hmap_new_arena - a map that copies its keys into blocks of its own (see hmap.h) */
struct hmap *
hmap_new_arena(void)
{
	struct hmap *m = hmap_new();

	if (m != NULL)
		m->arena = 1;
	return (m);
}

/* key_copy - room for a key of n bytes and its NUL: malloc, or (arena) a block's; NULL on ENOMEM */
static char *
key_copy(struct hmap *m, size_t n)
{
	struct kblock *b = m->kblocks;
	size_t size;
	char *k;

	if (!m->arena)
		return (malloc(n + 1));
	if (b == NULL || b->size - b->used < n + 1) {
		size = n + 1 > KBLOCK_SIZE ? n + 1 : KBLOCK_SIZE;
		if ((b = malloc(sizeof(*b) + size)) == NULL)
			return (NULL);
		b->size = size;
		b->used = 0;
		b->next = m->kblocks;
		m->kblocks = b;
	}
	k = b->data + b->used;
	b->used += n + 1;
	return (k);
}

void
hmap_free(struct hmap *m, void (*free_val)(void *))
{
	struct kblock *b;
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->cap; i++) {
		if (m->s[i].hash == 0)
			continue;
		if (!m->ref && !m->arena)
			free(m->s[i].key.own);
		if (free_val != NULL)
			free_val(m->s[i].val);
	}
	while ((b = m->kblocks) != NULL) {
		m->kblocks = b->next;
		free(b);
	}
	free(m->s);
	free(m);
}

/* find - slot index of key, or of the empty slot where it would go */
static size_t
find(const struct hmap *m, uint64_t h, const void *key, size_t n)
{
	size_t i = (size_t)h & (m->cap - 1);

	while (m->s[i].hash != 0) {
		if (m->s[i].hash == h && m->s[i].n == n && memcmp(m->s[i].key.ref, key, n) == 0)
			return (i);
		i = (i + 1) & (m->cap - 1);
	}
	return (i);
}

/* grow - double the table */
static int
grow(struct hmap *m)
{
	struct slot *old = m->s, *ns;
	size_t oldcap = m->cap, i, j;

	if ((ns = calloc(oldcap * 2, sizeof(*ns))) == NULL)
		return (-1);
	m->s = ns;
	m->cap = oldcap * 2;
	for (i = 0; i < oldcap; i++) {
		if (old[i].hash == 0)
			continue;
		j = (size_t)old[i].hash & (m->cap - 1);
		while (ns[j].hash != 0)
			j = (j + 1) & (m->cap - 1);
		ns[j] = old[i];
	}
	free(old);
	return (0);
}

void *
hmap_get(const struct hmap *m, const void *key, size_t n)
{
	return (hmap_get_h(m, hmap_hash(key, n), key, n));
}

/* hmap_get_h - hmap_get with the key's hash given (see hmap.h) */
void *
hmap_get_h(const struct hmap *m, uint64_t h, const void *key, size_t n)
{
	size_t i = find(m, h, key, n);

	return (m->s[i].hash != 0 ? m->s[i].val : NULL);
}

void **
hmap_get_or_add(struct hmap *m, const void *key, size_t n, int *added)
{
	return (hmap_get_or_add_h(m, hmap_hash(key, n), key, n, added));
}

/* hmap_get_or_add_h - hmap_get_or_add with the key's hash given (see hmap.h) */
void **
hmap_get_or_add_h(struct hmap *m, uint64_t h, const void *key, size_t n, int *added)
{
	size_t i = find(m, h, key, n);
	char *k;

	*added = 0;
	if (m->ref)
		return (NULL); /* a key copy is what this map does not keep */
	if (m->s[i].hash != 0)
		return (&m->s[i].val);
	if ((m->count + 1) * 4 > m->cap * 3) {
		if (grow(m) < 0)
			return (NULL);
		i = find(m, h, key, n);
	}
	if ((k = key_copy(m, n)) == NULL)
		return (NULL);
	memcpy(k, key, n);
	k[n] = '\0';
	m->s[i].hash = h;
	m->s[i].key.own = k;
	m->s[i].n = n;
	m->s[i].val = NULL;
	m->count++;
	*added = 1;
	return (&m->s[i].val);
}

/* hmap_put_ref_h - key (pointer kept) maps to val, new or replaced (see hmap.h) */
int
hmap_put_ref_h(struct hmap *m, uint64_t h, const void *key, size_t n, void *val, void **old)
{
	size_t i;

	*old = NULL;
	if (!m->ref)
		return (-1);
	i = find(m, h, key, n);
	if (m->s[i].hash == 0) {
		if ((m->count + 1) * 4 > m->cap * 3) {
			if (grow(m) < 0)
				return (-1);
			i = find(m, h, key, n);
		}
		m->s[i].hash = h;
		m->s[i].n = n;
		m->count++;
	} else {
		*old = m->s[i].val;
	}
	m->s[i].key.ref = key;
	m->s[i].val = val;
	return (0);
}

/* del_slot - empty slot i, shifting the rest of its probe chain back */
static void
del_slot(struct hmap *m, size_t i)
{
	size_t j, home;

	if (!m->ref && !m->arena)
		free(m->s[i].key.own); /* an arena's stays in its block until hmap_free */
	m->s[i].hash = 0;
	m->count--;
	j = i;
	for (;;) {
		j = (j + 1) & (m->cap - 1);
		if (m->s[j].hash == 0)
			break;
		home = (size_t)m->s[j].hash & (m->cap - 1);
		if (((j - home) & (m->cap - 1)) >= ((j - i) & (m->cap - 1))) {
			m->s[i] = m->s[j];
			m->s[j].hash = 0;
			i = j;
		}
	}
}

void *
hmap_del(struct hmap *m, const void *key, size_t n)
{
	return (hmap_del_h(m, hmap_hash(key, n), key, n));
}

/* hmap_del_h - hmap_del with the key's hash given (see hmap.h) */
void *
hmap_del_h(struct hmap *m, uint64_t h, const void *key, size_t n)
{
	size_t i = find(m, h, key, n);
	void *val;

	if (m->s[i].hash == 0)
		return (NULL);
	val = m->s[i].val;
	del_slot(m, i);
	return (val);
}

/*
 * hmap_sweep - one pass over the table.  A deletion at i may shift a
 * later entry of the chain into i, so i is looked at again; an entry
 * shifted from the start of the table to its end is looked at twice,
 * which drop() allows (see hmap.h); none is skipped.
 */
size_t
hmap_sweep(struct hmap *m, int (*drop)(void *, const char *, size_t, void *), void *ctx)
{
	size_t i = 0, n = 0;

	while (i < m->cap) {
		if (m->s[i].hash != 0 && drop(ctx, m->s[i].key.ref, m->s[i].n, m->s[i].val)) {
			del_slot(m, i);
			n++;
			continue;
		}
		i++;
	}
	return (n);
}

size_t
hmap_count(const struct hmap *m)
{
	return (m->count);
}

int
hmap_each(const struct hmap *m, int (*cb)(void *, const char *, size_t, void *), void *ctx)
{
	size_t i;
	int r;

	for (i = 0; i < m->cap; i++)
		if (m->s[i].hash != 0 &&
		    (r = cb(ctx, m->s[i].key.ref, m->s[i].n, m->s[i].val)) != 0)
			return (r);
	return (0);
}
