/*
 * NAME
 *	report_cache - the report's cache of recent messages' identity rows
 * SUMMARY
 *	The identity rows of the last REPORT_CACHE messages (struct rcache,
 *	report_priv.h) by the fields their identities are made of: a delivery
 *	outcome of a message with the same fields takes its rows from here
 *	instead of making and looking up its identities again
 *	(count/report.c's report_outcome).  Split from report.c.
 * RETURNS
 *	See report_priv.h; never prints, never exits.
 * UNTRUSTED INPUT
 *	The messages' fields (log text), copied with their lengths, up to
 *	IDENT_MAX bytes: a longer one is not cached.
 */
#include <string.h>

#include "count/report_priv.h"

/*
 * same - field a of a cached message equals b (NULL as "": msgid_make()
 * takes both as absent).  The first bytes compared here: most entries a
 * look-up passes over differ in them, and a strcmp() call for each field
 * of each entry cost more than the compare
 */
static inline int
same(const char *a, const char *b)
{
	if (b == NULL)
		b = "";
	return (a[0] == b[0] && (a[0] == '\0' || strcmp(a + 1, b + 1) == 0));
}

/* report_cache_find - the cached rows of a message with m's identity fields, or NULL */
const struct rcache *
report_cache_find(const struct report *r, const struct track_msg *m)
{
	size_t i;

	for (i = 1; i <= REPORT_CACHE; i++) { /* the newest first: outcomes follow their message */
		const struct rcache *c =
		    &r->cache[(r->cache_next + REPORT_CACHE - i) % REPORT_CACHE];

		if (c->used && c->uid == m->uid && c->has_sasl == (m->sasl != NULL) &&
		    same(c->sasl, m->sasl) && same(c->sender, m->sender) &&
		    same(c->ip, m->client_ip))
			return (c);
	}
	return (NULL);
}

/* put_field - s (NULL as "") into dst of IDENT_MAX bytes; 0 when it does not fit */
static int
put_field(char *dst, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n >= IDENT_MAX)
		return (0);
	memcpy(dst, s != NULL ? s : "", n);
	dst[n] = '\0';
	return (1);
}

/* report_cache_put - m's rows ri[0..n) into the cache, over its oldest entry */
void
report_cache_put(struct report *r, const struct track_msg *m, struct rident *const *ri, int n)
{
	struct rcache *c = &r->cache[r->cache_next];
	int i;

	c->used = 0;
	if (!put_field(c->sasl, m->sasl) || !put_field(c->sender, m->sender) ||
	    !put_field(c->ip, m->client_ip))
		return;
	c->uid = m->uid;
	c->has_sasl = m->sasl != NULL;
	c->n = n;
	for (i = 0; i < n; i++)
		c->ri[i] = ri[i];
	c->used = 1;
	r->cache_next = (r->cache_next + 1) % REPORT_CACHE;
}
