/*
 * NAME
 *	clients - the client IP addresses each counted identity sent from
 *	(see clients.h)
 * SUMMARY
 *	One map, identity -> struct cset: a small array of addresses (grown
 *	to CLIENTS_MAX at most, most identities have one or two) and the
 *	newest last-seen time of an address it had to forget.
 * RETURNS
 *	See clients.h.
 * UNTRUSTED INPUT
 *	Identities and addresses from the log (see clients.h).
 */
#include <stdlib.h>
#include <string.h>

#include "util/arr.h"
#include "util/buf.h"
#include "util/hmap.h"
#include "util/ident.h"
#include "count/clients.h"

struct cset {
	struct clients_ip *e;
	size_t n, cap;
	int64_t forgot_us; /* newest last_us of a forgotten address; INT64_MIN: none */
};

struct clients {
	struct hmap *ids; /* identity -> struct cset */
	uint64_t gen;     /* changed whenever an identity is forgotten (struct clients_ref) */
};

/* gen_next - a generation no set had before in this process */
static uint64_t
gen_next(void)
{
	static _Atomic uint64_t last;

	return (++last);
}

struct clients *
clients_new(void)
{
	struct clients *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	if ((c->ids = hmap_new()) == NULL) {
		free(c);
		return (NULL);
	}
	c->gen = gen_next();
	return (c);
}

/* cset_free - one identity's addresses */
static void
cset_free(void *v)
{
	struct cset *cs = v;

	if (cs != NULL)
		free(cs->e);
	free(cs);
}

void
clients_free(struct clients *c)
{
	if (c == NULL)
		return;
	hmap_free(c->ids, cset_free);
	free(c);
}

/* cset_get - the addresses of identity (n bytes, hash h), created on first use; NULL on ENOMEM */
static struct cset *
cset_get(struct clients *c, const char *identity, size_t n, uint64_t h)
{
	struct cset *cs;
	void **slot;
	int added;

	if ((slot = hmap_get_or_add_h(c->ids, h, identity, n, &added)) == NULL)
		return (NULL);
	if (!added)
		return (*slot);
	if ((cs = calloc(1, sizeof(*cs))) == NULL) {
		hmap_del_h(c->ids, h, identity, n);
		return (NULL);
	}
	cs->forgot_us = INT64_MIN;
	*slot = cs;
	return (cs);
}

/* clients_add - identity sent a message from ip at t; see clients.h */
int
clients_add(struct clients *c, const char *identity, const char *ip, int64_t t)
{
	size_t idn = strlen(identity);

	if (!clients_ip_ok(ip))
		return (0); /* "unknown", or text a forged line put there */
	return (clients_add_h(c, identity, idn, hmap_hash(identity, idn), ip, t));
}

/* clients_ip_fits - clients_ip_ok with ip's ident_ip() answer given; see clients.h */
int
clients_ip_fits(const char *ip, int parsed)
{
	size_t n = ip != NULL ? strlen(ip) : 0;

	return (n > 0 && n < CLIENTS_IP_MAX && parsed);
}

/* clients_ip_ok - ip is an address clients_add keeps; see clients.h */
int
clients_ip_ok(const char *ip)
{
	unsigned char a[16];

	return (clients_ip_fits(ip, ip != NULL && ident_ip(ip, a)));
}

/* clients_add_h - clients_add of an ip clients_ip_ok took, with the identity's length and hash */
int
clients_add_h(struct clients *c, const char *identity, size_t idn, uint64_t h, const char *ip,
    int64_t t)
{
	return (clients_add_ref(c, NULL, identity, idn, h, ip, t));
}

/* clients_add_ref - clients_add_h through ref where it is good; see clients.h */
int
clients_add_ref(struct clients *c, struct clients_ref *ref, const char *identity, size_t idn,
    uint64_t h, const char *ip, int64_t t)
{
	size_t n = strlen(ip), i, old = 0;
	struct clients_ip *ne, *e;
	struct cset *cs;

	if (ref != NULL && ref->cs != NULL && ref->gen == c->gen)
		cs = ref->cs;
	else if ((cs = cset_get(c, identity, idn, h != 0 ? h : hmap_hash(identity, idn))) == NULL)
		return (-1);
	if (ref != NULL) {
		ref->cs = cs;
		ref->gen = c->gen;
	}
	for (i = 0; i < cs->n; i++) {
		e = &cs->e[i];
		if (strcmp(e->ip, ip) == 0) {
			e->messages++;
			if (t < e->first_us)
				e->first_us = t;
			if (t > e->last_us)
				e->last_us = t;
			return (0);
		}
		if (e->last_us < cs->e[old].last_us)
			old = i;
	}
	if (cs->n < CLIENTS_MAX) {
		if ((ne = arr_grow(cs->e, cs->n, &cs->cap, sizeof(*ne), 1)) == NULL)
			return (-1);
		cs->e = ne;
		old = cs->n++;
	} else if (cs->e[old].last_us > cs->forgot_us) {
		cs->forgot_us = cs->e[old].last_us; /* the one seen least lately goes */
	}
	e = &cs->e[old];
	memcpy(e->ip, ip, n + 1);
	e->messages = 1;
	e->first_us = e->last_us = t;
	return (0);
}

/* ip_cmp - most messages first, then the one seen last, then by address */
static int
ip_cmp(const void *a, const void *b)
{
	const struct clients_ip *x = a, *y = b;

	if (x->messages != y->messages)
		return (x->messages > y->messages ? -1 : 1);
	if (x->last_us != y->last_us)
		return (x->last_us > y->last_us ? -1 : 1);
	return (strcmp(x->ip, y->ip));
}

/* clients_list - the addresses of identity in (from, to]; see clients.h */
size_t
clients_list(const struct clients *c, const char *identity, int64_t from, int64_t to,
    struct clients_ip *out, int *cut)
{
	const struct cset *cs = hmap_get(c->ids, identity, strlen(identity));
	size_t i, n = 0;

	*cut = 0;
	if (cs == NULL)
		return (0);
	for (i = 0; i < cs->n; i++)
		if (cs->e[i].first_us <= to && cs->e[i].last_us > from)
			out[n++] = cs->e[i];
	if (n > 1)
		qsort(out, n, sizeof(*out), ip_cmp);
	*cut = cs->forgot_us > from;
	return (n);
}

/* clients_join - "a,b,c" (",..." when cut) into buf; see clients.h */
const char *
clients_join(const struct clients_ip *list, size_t n, int cut, char *buf, size_t len)
{
	struct buf b;
	size_t i;

	buf_fixed(&b, buf, len);
	for (i = 0; i < n; i++)
		(void)buf_addf(&b, "%s%s", i ? "," : "", list[i].ip);
	if (cut)
		(void)buf_adds(&b, n ? ",..." : "...");
	return (buf);
}

/* A walk of clients_prune(): the identities to forget. */
struct pwalk {
	int64_t before;
	char **gone;
	size_t n, cap;
	int oom;
};

static int
prune_cb(void *ctx, const char *key, size_t n, void *val)
{
	struct pwalk *w = ctx;
	const struct cset *cs = val;
	char **ng;
	size_t i;

	for (i = 0; i < cs->n; i++)
		if (cs->e[i].last_us > w->before)
			return (0);
	if ((ng = arr_grow(w->gone, w->n, &w->cap, sizeof(*ng), 16)) == NULL ||
	    (ng[w->n] = strndup(key, n)) == NULL) {
		if (ng != NULL)
			w->gone = ng;
		w->oom = 1;
		return (1);
	}
	w->gone = ng;
	w->n++;
	return (0);
}

/* clients_prune - forget what is older than before_us; see clients.h */
void
clients_prune(struct clients *c, int64_t before_us)
{
	struct pwalk w = { before_us, NULL, 0, 0, 0 };
	size_t i;

	hmap_each(c->ids, prune_cb, &w);
	if (w.n > 0)
		c->gen = gen_next(); /* a struct clients_ref may point at one of them */
	for (i = 0; i < w.n; i++) {
		cset_free(hmap_del(c->ids, w.gone[i], strlen(w.gone[i])));
		free(w.gone[i]);
	}
	free(w.gone);
}

size_t
clients_size(const struct clients *c)
{
	return (hmap_count(c->ids));
}
