/*
 * NAME
 *	hmap - string-keyed open-addressing hash map (see hmap.h)
 */
#include <stdlib.h>
#include <string.h>

#include "util/hmap.h"

struct slot {
	uint64_t hash; /* 0: empty */
	char *key;
	size_t n;
	void *val;
};

struct hmap {
	struct slot *s;
	size_t cap; /* power of two */
	size_t count;
};

/* hmap_hash - FNV-1a 64, never 0 */
uint64_t
hmap_hash(const void *key, size_t n)
{
	const unsigned char *p = key;
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	h ^= h >> 29;
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

void
hmap_free(struct hmap *m, void (*free_val)(void *))
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->cap; i++) {
		if (m->s[i].hash == 0)
			continue;
		free(m->s[i].key);
		if (free_val != NULL)
			free_val(m->s[i].val);
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
		if (m->s[i].hash == h && m->s[i].n == n && memcmp(m->s[i].key, key, n) == 0)
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
	size_t i = find(m, hmap_hash(key, n), key, n);

	return (m->s[i].hash != 0 ? m->s[i].val : NULL);
}

void **
hmap_get_or_add(struct hmap *m, const void *key, size_t n, int *added)
{
	uint64_t h = hmap_hash(key, n);
	size_t i = find(m, h, key, n);
	char *k;

	*added = 0;
	if (m->s[i].hash != 0)
		return (&m->s[i].val);
	if ((m->count + 1) * 4 > m->cap * 3) {
		if (grow(m) < 0)
			return (NULL);
		i = find(m, h, key, n);
	}
	if ((k = malloc(n + 1)) == NULL)
		return (NULL);
	memcpy(k, key, n);
	k[n] = '\0';
	m->s[i].hash = h;
	m->s[i].key = k;
	m->s[i].n = n;
	m->s[i].val = NULL;
	m->count++;
	*added = 1;
	return (&m->s[i].val);
}

void *
hmap_del(struct hmap *m, const void *key, size_t n)
{
	size_t i = find(m, hmap_hash(key, n), key, n), j, home;
	void *val;

	if (m->s[i].hash == 0)
		return (NULL);
	val = m->s[i].val;
	free(m->s[i].key);
	m->s[i].hash = 0;
	m->count--;
	/* backward-shift deletion keeps probe chains intact */
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
	return (val);
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
		if (m->s[i].hash != 0 && (r = cb(ctx, m->s[i].key, m->s[i].n, m->s[i].val)) != 0)
			return (r);
	return (0);
}
