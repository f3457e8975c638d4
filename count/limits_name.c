/*
 * NAME
 *	limits_name - the senders and client addresses the limits' entries
 *	point at, interned
 * SUMMARY
 *	A window entry of a rule with senders or ips windows keeps its
 *	envelope sender or parsed client address (16 bytes) as a pointer to
 *	one struct sname per distinct value, counted by reference: distinct
 *	values are told apart by that pointer (count/limits.c's distinct()).
 *	limits_sname_get() takes a reference (the value interned on first
 *	use), limits_sname_put() gives one back and frees the last.
 * RETURNS
 *	NULL on ENOMEM where a pointer is returned; never prints, never exits.
 * UNTRUSTED INPUT
 *	Senders from the log: map keys under util/hmap's keyed hash, compared
 *	whole, never interpreted.
 */
#include <stdlib.h>
#include <string.h>

#include "util/hmap.h"
#include "count/limits_priv.h"

/* limits_sname_get - s (n bytes) interned in map, one more reference; NULL on ENOMEM */
const struct sname *
limits_sname_get(struct hmap *map, const char *s, size_t n)
{
	struct sname *sn;
	void **slot;
	int added;

	if ((slot = hmap_get_or_add(map, s, n, &added)) == NULL)
		return (NULL);
	if (added) {
		if ((sn = calloc(1, sizeof(*sn) + n + 1)) == NULL) {
			hmap_del(map, s, n);
			return (NULL);
		}
		memcpy(sn->s, s, n);
		sn->len = n;
		*slot = sn;
	}
	sn = *slot;
	sn->refs++;
	return (sn);
}

/* limits_sname_put - one reference to sn (interned in map) less; the last frees it */
void
limits_sname_put(struct hmap *map, const struct sname *sn)
{
	struct sname *w;

	if (sn == NULL || (w = hmap_get(map, sn->s, sn->len)) == NULL)
		return;
	if (--w->refs == 0) {
		hmap_del(map, w->s, w->len);
		free(w);
	}
}
