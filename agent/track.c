/*
 * NAME
 *	track - queue-ID correlation (see track.h)
 * SUMMARY
 *	Three structures:
 *	- the record table: (host, instance, QID) -> struct rec, with an age
 *	  list in creation order for bounded eviction;
 *	- the hold-back FIFO of unauthenticated smtpd messages (struct held),
 *	  indexed by (host, QID) so a late hand-off line can find them even
 *	  after their "removed";
 *	- expectations: (host, QID) named by a hand-off line before that QID
 *	  appeared, so its client line marks it a re-injection.
 *	Hand-offs are matched by host and queue ID, not instance: a hand-off
 *	to another Postfix instance on the same host names that instance's ID.
 * UNTRUSTED INPUT
 *	Event strings; copied with their lengths, folded to lower case.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/hmap.h"
#include "agent/source.h"
#include "agent/track.h"

#define F_SMTPD		0x01	/* opened by smtpd client= */
#define F_PICKUP	0x02	/* opened by pickup uid= */
#define F_REINJECT	0x04	/* content-filter copy or requeue: never counted */
#define F_ACTIVE	0x08	/* first (queue active) seen */
#define F_REQUEUE	0x10

struct rec {
	struct rec *older, *newer;	/* age list */
	int64_t	created;
	unsigned flags;
	long	uid;
	char   *sasl, *ip;		/* into the allocation, NULL when absent */
	size_t	keylen;
	char	key[];			/* host \0 instance \0 qid, then sasl \0 ip \0 */
};

struct held {
	struct held *next;
	int64_t	time_us;
	int	reinject;
	long	uid, nrcpt;
	const char *host, *instance, *qid, *sasl, *sender, *ip;
	size_t	linklen;		/* host \0 qid, at link[] */
	char	data[];
};

struct expect {
	struct expect *next;
	int64_t	time_us;
	size_t	n;
	char	key[];
};

struct track {
	struct hmap *recs;		/* key -> struct rec */
	struct rec *oldest, *newest;
	size_t	max_entries;
	struct held *hhead, *htail;	/* FIFO */
	size_t	nheld;
	struct hmap *held_ix;		/* host \0 qid -> newest struct held */
	struct hmap *expect;		/* host \0 qid -> struct expect */
	struct expect *ehead, *etail;	/* FIFO by time */
	char	sbuf[SOURCE_LINE_MAX + 1];	/* folded sender */
	int64_t	now;			/* newest log time seen */
	track_emit_fn emit;
	void   *ctx;
	struct track_stats st;
};

static void expect_expire(struct track *, int64_t);

/* lower - fold ASCII upper case into dst (n bytes, NUL added) */
static void
lower(char *dst, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = src[i];

		dst[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	dst[n] = '\0';
}

/* mkkey - "host\0instance\0qid" into buf; returns its length or 0 if too long */
static size_t
mkkey(char *buf, size_t len, const struct pf_str *host, const struct pf_str *inst,
      const struct pf_str *qid)
{
	size_t n = host->n + 1 + (inst ? inst->n + 1 : 0) + qid->n;

	if (n >= len)
		return (0);
	memcpy(buf, host->p ? host->p : "", host->n);
	buf[host->n] = '\0';
	n = host->n + 1;
	if (inst != NULL) {
		memcpy(buf + n, inst->p ? inst->p : "", inst->n);
		buf[n + inst->n] = '\0';
		n += inst->n + 1;
	}
	memcpy(buf + n, qid->p, qid->n);
	return (n + qid->n);
}

struct track *
track_new(size_t max_entries, track_emit_fn emit, void *ctx)
{
	struct track *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (NULL);
	t->recs = hmap_new();
	t->held_ix = hmap_new();
	t->expect = hmap_new();
	if (t->recs == NULL || t->held_ix == NULL || t->expect == NULL) {
		track_free(t);
		return (NULL);
	}
	t->max_entries = max_entries ? max_entries : 1000000;
	t->emit = emit;
	t->ctx = ctx;
	t->now = INT64_MIN;
	return (t);
}

/* rec_unlink - take r out of the age list and the table, free it */
static void
rec_drop(struct track *t, struct rec *r)
{
	if (r->older)
		r->older->newer = r->newer;
	else
		t->oldest = r->newer;
	if (r->newer)
		r->newer->older = r->older;
	else
		t->newest = r->older;
	hmap_del(t->recs, r->key, r->keylen);
	free(r);
}

void
track_free(struct track *t)
{
	struct held *h, *next;

	if (t == NULL)
		return;
	expect_expire(t, INT64_MAX);
	while (t->oldest != NULL)
		rec_drop(t, t->oldest);
	for (h = t->hhead; h != NULL; h = next) {
		next = h->next;
		free(h);
	}
	hmap_free(t->recs, NULL);
	hmap_free(t->held_ix, NULL);
	hmap_free(t->expect, NULL);
	free(t);
}

/* evict - drop records past the age or size bound */
static void
evict(struct track *t)
{
	struct rec *o;

	while ((o = t->oldest) != NULL &&
	    (hmap_count(t->recs) >= t->max_entries ||
	     (t->now != INT64_MIN && o->created < t->now - TRACK_MAX_AGE_US))) {
		/* pop the oldest: it has no older neighbour */
		t->oldest = o->newer;
		if (t->oldest != NULL)
			t->oldest->older = NULL;
		else
			t->newest = NULL;
		hmap_del(t->recs, o->key, o->keylen);
		free(o);
		t->st.dropped++;
	}
}

/* rec_open - a new record for key, replacing any old one; NULL on ENOMEM */
static struct rec *
rec_open(struct track *t, const char *key, size_t keylen, const struct pf_event *ev,
	 int64_t now)
{
	struct rec *r, *old;
	size_t sn = ev->sasl_username.n, in = ev->client_ip.n;
	void **slot;
	int added;
	char *p;

	if ((old = hmap_get(t->recs, key, keylen)) != NULL)
		rec_drop(t, old);	/* its "removed" was never logged */
	evict(t);		/* before linking r, so r itself is never dropped */
	if ((r = calloc(1, sizeof(*r) + keylen + 1 + sn + 1 + in + 1)) == NULL)
		return (NULL);
	memcpy(r->key, key, keylen);
	r->keylen = keylen;
	r->created = now;
	r->uid = -1;
	p = r->key + keylen + 1;
	if (ev->sasl_username.p != NULL && sn > 0) {
		r->sasl = p;
		lower(p, ev->sasl_username.p, sn);
		p += sn + 1;
	}
	if (ev->client_ip.p != NULL && in > 0) {
		r->ip = p;
		lower(p, ev->client_ip.p, in);
	}
	if ((slot = hmap_get_or_add(t->recs, key, keylen, &added)) == NULL) {
		free(r);
		return (NULL);
	}
	*slot = r;
	r->older = t->newest;
	if (t->newest)
		t->newest->newer = r;
	else
		t->oldest = r;
	t->newest = r;
	return (r);
}

/* expect_take - 1 when a hand-off named (host, qid) within the link window */
static int
expect_take(struct track *t, const char *lk, size_t ln, int64_t now)
{
	struct expect *e = hmap_del(t->expect, lk, ln);

	return (e != NULL && now - e->time_us <= 2 * TRACK_LINK_WINDOW_US);
}

/* expect_add - remember that a hand-off named (host, qid) */
static void
expect_add(struct track *t, const char *lk, size_t ln, int64_t now)
{
	struct expect *e;
	void **slot;
	int added;

	if ((e = calloc(1, sizeof(*e) + ln + 1)) == NULL)
		return;
	memcpy(e->key, lk, ln);
	e->n = ln;
	e->time_us = now;
	if ((slot = hmap_get_or_add(t->expect, lk, ln, &added)) == NULL) {
		free(e);
		return;
	}
	*slot = e;
	if (t->etail)
		t->etail->next = e;
	else
		t->ehead = e;
	t->etail = e;
}

/* expect_expire - forget expectations older than twice the link window */
static void
expect_expire(struct track *t, int64_t now)
{
	struct expect *e;

	while ((e = t->ehead) != NULL && (now == INT64_MAX ||
	    e->time_us < now - 2 * TRACK_LINK_WINDOW_US)) {
		t->ehead = e->next;
		if (t->ehead == NULL)
			t->etail = NULL;
		if (hmap_get(t->expect, e->key, e->n) == e)
			hmap_del(t->expect, e->key, e->n);
		free(e);
	}
}

/* emit_held - emit or drop one held-back message */
static void
emit_held(struct track *t, struct held *h)
{
	struct track_msg m;

	if (hmap_get(t->held_ix, h->data, h->linklen) == h)
		hmap_del(t->held_ix, h->data, h->linklen);
	if (h->reinject) {
		t->st.reinjections++;
		return;
	}
	memset(&m, 0, sizeof(m));
	m.time_us = h->time_us;
	m.host = h->host;
	m.instance = h->instance;
	m.queue_id = h->qid;
	m.sasl = h->sasl;
	m.sender = h->sender;
	m.client_ip = h->ip;
	m.uid = h->uid;
	m.nrcpt = h->nrcpt;
	t->st.counted++;
	t->emit(t->ctx, &m);
}

void
track_flush(struct track *t, int64_t now)
{
	struct held *h;

	while ((h = t->hhead) != NULL &&
	    (now == INT64_MAX || h->time_us <= now - TRACK_LINK_WINDOW_US)) {
		t->hhead = h->next;
		if (t->hhead == NULL)
			t->htail = NULL;
		t->nheld--;
		emit_held(t, h);
		free(h);
	}
}

/* copy_str - append s (n bytes) + NUL at *pp, folded; returns the copy */
static const char *
copy_str(char **pp, const char *s, size_t n, int fold)
{
	char *d = *pp;

	if (fold)
		lower(d, s, n);
	else {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	*pp += n + 1;
	return (d);
}

/* on_active - the first (queue active) of a record: emit, hold back or skip */
static void
on_active(struct track *t, struct rec *r, const struct pf_event *ev, int64_t now)
{
	const char *host = r->key, *inst = host + strlen(host) + 1;
	const char *qid = inst + strlen(inst) + 1;
	size_t hn = strlen(host), in = strlen(inst), qn = strlen(qid);
	size_t sn = r->sasl ? strlen(r->sasl) : 0, ipn = r->ip ? strlen(r->ip) : 0;
	size_t en = ev->sender.n;
	struct track_msg m;
	struct held *h;
	char *p;
	void **slot;
	int added;

	r->flags |= F_ACTIVE;
	if (r->flags & F_REINJECT) {
		if (r->flags & F_REQUEUE)
			t->st.requeues++;
		else
			t->st.reinjections++;
		return;
	}
	if (!(r->flags & (F_SMTPD | F_PICKUP))) {
		t->st.orphans++;
		return;
	}
	if ((r->flags & F_PICKUP) || r->sasl != NULL) {
		/* authenticated or local: certainly the user's own message */
		memset(&m, 0, sizeof(m));
		if (en > 0 && en <= SOURCE_LINE_MAX) {
			lower(t->sbuf, ev->sender.p, en);
			m.sender = t->sbuf;
		}
		m.time_us = now;
		m.host = host;
		m.instance = inst;
		m.queue_id = qid;
		m.sasl = r->sasl;
		m.client_ip = r->ip;
		m.uid = r->uid;
		m.nrcpt = ev->nrcpt < 0 ? 0 : ev->nrcpt;
		t->st.counted++;
		t->emit(t->ctx, &m);
		return;
	}
	/* a hand-off may have named it between its client and active lines */
	{
		char lk[512];
		size_t ln = hn + 1 + qn;

		if (ln < sizeof(lk)) {
			memcpy(lk, host, hn + 1);
			memcpy(lk + hn + 1, qid, qn);
			if (expect_take(t, lk, ln, now)) {
				t->st.reinjections++;
				return;
			}
		}
	}
	/* unauthenticated smtpd: may be a re-injection named later */
	if ((h = calloc(1, sizeof(*h) + hn + 1 + qn + 1 + in + 1 + qn + 1 + en + 1 + ipn + 1 + sn + 1)) == NULL) {
		t->st.dropped++;
		return;
	}
	p = h->data;
	h->linklen = hn + 1 + qn;
	h->host = copy_str(&p, host, hn, 0);
	copy_str(&p, qid, qn, 0);
	h->instance = copy_str(&p, inst, in, 0);
	h->qid = copy_str(&p, qid, qn, 0);
	if (en > 0)
		h->sender = copy_str(&p, ev->sender.p, en, 1);
	if (r->ip)
		h->ip = copy_str(&p, r->ip, ipn, 0);
	h->time_us = now;
	h->uid = -1;
	h->nrcpt = ev->nrcpt < 0 ? 0 : ev->nrcpt;
	if (t->htail)
		t->htail->next = h;
	else
		t->hhead = h;
	t->htail = h;
	t->nheld++;
	if ((slot = hmap_get_or_add(t->held_ix, h->data, h->linklen, &added)) != NULL)
		*slot = h;
}

/* on_handoff - "queued as NEWID": NEWID is a copy, not a new message */
static void
on_handoff(struct track *t, const struct pf_event *ev, int64_t now)
{
	char lk[512];
	size_t ln;
	struct held *h;

	if ((ln = mkkey(lk, sizeof(lk), &ev->host, NULL, &ev->queued_as)) == 0)
		return;
	if ((h = hmap_get(t->held_ix, lk, ln)) != NULL) {
		h->reinject = 1;
		return;
	}
	expect_add(t, lk, ln, now);
}

void
track_event(struct track *t, const struct pf_event *ev, int64_t now)
{
	char key[512], lk[512];
	size_t kn, ln;
	struct rec *r;

	if (now > t->now) {
		t->now = now;
		if (t->hhead != NULL)
			track_flush(t, now);
		if (t->ehead != NULL)
			expect_expire(t, now);
	}
	if (ev->kind == PF_NONE || ev->queue_id.p == NULL)
		return;
	if ((kn = mkkey(key, sizeof(key), &ev->host, &ev->instance, &ev->queue_id)) == 0)
		return;
	switch (ev->kind) {
	case PF_CLIENT:
		if ((r = rec_open(t, key, kn, ev, now)) == NULL)
			return;
		r->flags |= F_SMTPD;
		ln = mkkey(lk, sizeof(lk), &ev->host, NULL, &ev->queue_id);
		if (ev->orig_queue_id.p != NULL || ev->orig_client_ip.p != NULL ||
		    (ln > 0 && expect_take(t, lk, ln, now)))
			r->flags |= F_REINJECT;
		break;
	case PF_PICKUP:
		if ((r = rec_open(t, key, kn, ev, now)) == NULL)
			return;
		r->flags |= F_PICKUP;
		r->uid = ev->uid;
		if (ev->orig_id.p != NULL)
			r->flags |= F_REINJECT | F_REQUEUE;
		break;
	case PF_ACTIVE:
		if ((r = hmap_get(t->recs, key, kn)) == NULL) {
			/* no origin line: a bounce, a forwarded copy, or before the log */
			if ((r = rec_open(t, key, kn, &(struct pf_event){ .kind = PF_NONE }, now)) == NULL)
				return;
			t->st.orphans++;
			r->flags |= F_ACTIVE;
			break;
		}
		if (r->flags & F_ACTIVE) {
			t->st.retries++;
			break;
		}
		on_active(t, r, ev, now);
		break;
	case PF_DELIVERY:
		if (ev->queued_as.p != NULL)
			on_handoff(t, ev, now);
		break;
	case PF_REMOVED:
		if ((r = hmap_get(t->recs, key, kn)) != NULL)
			rec_drop(t, r);
		break;
	default:
		break;
	}
}

const struct track_stats *
track_stats(const struct track *t)
{
	return (&t->st);
}

size_t
track_size(const struct track *t)
{
	return (hmap_count(t->recs));
}
