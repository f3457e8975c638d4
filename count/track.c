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
 *	  was accepted, so it is known as a copy when it is.
 *	Hand-offs are matched by host and queue ID, not instance: a hand-off
 *	to another Postfix instance on the same host names that instance's ID.
 *	A queue ID alone does not say which message a hand-off means, since
 *	Postfix reuses IDs: a held-back message or an open record with that ID
 *	may be an earlier, unrelated one.  So every candidate carries when it
 *	was received (its client= line), every hand-off when its original was,
 *	and track_may_be_copy() is the one test: a copy is never received before
 *	its original.  A candidate that fails it is left alone and the
 *	expectation stays open for the real copy.
 *
 *	Delivery outcomes: each record carries the owner of its deliveries
 *	(the counted message itself, or the original a copy or requeue was
 *	made from), set here as messages are counted, held back or linked;
 *	a hand-off names the copy's owner in all three line orders, and a
 *	status=sent hand-off line is a delivery only when no copy claims it
 *	(its expectation ends unclaimed).  Where an outcome goes is
 *	track_outcome.c.
 *
 *	Persistence (the daemon): when the tracker keeps them, every change
 *	is noted in a dirty set here (track_mark()); writing the net changes
 *	and rebuilding the state at start-up is track_persist.c.
 *	The expectations' own functions are track_expect.c; track_priv.h
 *	holds the structures the tracker's files share.
 * RETURNS
 *	Messages go out through the emit callback, removals through the
 *	removed callback; what was dropped or not counted is in
 *	track_stats().  Never prints, never exits.
 * UNTRUSTED INPUT
 *	Event strings; copied with their lengths, folded to lower case.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/hmap.h"
#include "util/ident.h"
#include "count/source.h"
#include "count/track_priv.h"

/*
 * copy_short - n bytes from src to dst, up to 16 in compares-free moves
 * the compiler makes in line (the first and the last 8 or 4 bytes, which
 * overlap, or 1..3 bytes), memcpy() over that: a key's pieces are a host,
 * a syslog name and a queue ID, a call each before
 */
static inline void
copy_short(char *dst, const char *src, size_t n)
{
	uint64_t a, b;
	uint32_t u, v;

	if (n > 2 * sizeof(a)) {
		memcpy(dst, src, n);
	} else if (n >= sizeof(a)) {
		memcpy(&a, src, sizeof(a));
		memcpy(&b, src + n - sizeof(b), sizeof(b));
		memcpy(dst, &a, sizeof(a));
		memcpy(dst + n - sizeof(b), &b, sizeof(b));
	} else if (n >= sizeof(u)) {
		memcpy(&u, src, sizeof(u));
		memcpy(&v, src + n - sizeof(v), sizeof(v));
		memcpy(dst, &u, sizeof(u));
		memcpy(dst + n - sizeof(v), &v, sizeof(v));
	} else if (n > 0) {
		dst[0] = src[0];
		dst[n / 2] = src[n / 2];
		dst[n - 1] = src[n - 1];
	}
}

/* mkkey - "host\0instance\0qid" (inst NULL: "host\0qid") into buf; its length, 0 if too long */
static size_t
mkkey(char *buf, size_t len, const struct pf_str *host, const struct pf_str *inst,
    const struct pf_str *qid)
{
	size_t n = host->n + 1 + (inst ? inst->n + 1 : 0) + qid->n;

	if (n >= len)
		return (0);
	copy_short(buf, host->p, host->n);
	buf[host->n] = '\0';
	n = host->n + 1;
	if (inst != NULL) {
		copy_short(buf + n, inst->p, inst->n);
		buf[n + inst->n] = '\0';
		n += inst->n + 1;
	}
	copy_short(buf + n, qid->p, qid->n);
	return (n + qid->n);
}

/*
 * track_block - n zeroed bytes: a kept block of n's class (n rounded up
 * to steps of TRACK_POOL_STEP) when t has one, else a new one of the
 * whole class, so that it can serve its class when it is freed
 */
void *
track_block(struct track *t, size_t n)
{
	size_t c = n == 0 ? 0 : (n - 1) / TRACK_POOL_STEP;
	void *p;

	if (c >= TRACK_POOL_CLASSES)
		return (calloc(1, n));
	if (t != NULL && (p = t->pool[c]) != NULL) {
		memcpy(&t->pool[c], p, sizeof(void *)); /* its link to the next */
		t->npool[c]--;
		memset(p, 0, n);
		return (p);
	}
	return (calloc(1, (c + 1) * TRACK_POOL_STEP));
}

/*
 * track_unblock - keep p for its class, or free it.  The class is what
 * the block holds (malloc_usable_size, rounded down), not what it was
 * asked for: a block from anywhere is kept only where it fits.
 */
void
track_unblock(struct track *t, void *p)
{
	size_t u, c;

	if (p == NULL)
		return;
	if (t == NULL || (u = malloc_usable_size(p)) < TRACK_POOL_STEP ||
	    (c = u / TRACK_POOL_STEP - 1) >= TRACK_POOL_CLASSES || t->npool[c] >= TRACK_POOL_KEEP) {
		free(p);
		return;
	}
	memcpy(p, &t->pool[c], sizeof(void *));
	t->pool[c] = p;
	t->npool[c]++;
}

/* pool_free - the kept blocks */
static void
pool_free(struct track *t)
{
	void *p, *next;
	int c;

	for (c = 0; c < TRACK_POOL_CLASSES; c++) {
		for (p = t->pool[c]; p != NULL; p = next) {
			memcpy(&next, p, sizeof(void *));
			free(p);
		}
		t->pool[c] = NULL;
		t->npool[c] = 0;
	}
}

/* track_born_mark - the dirty value of an entry made since the last track_persist() */
char track_born_mark;

/* track_mark_note - track_mark_born() of a tracker that keeps its changes (see track_priv.h) */
void
track_mark_note(struct track *t, int ns, const void *key, size_t n, int born)
{
	char buf[1024];
	void **slot;
	int added;

	if (n + 1 > sizeof(buf))
		return;
	buf[0] = (char)ns;
	memcpy(buf + 1, key, n);
	/*
	 * The first change of a key in a batch tells whether the store can
	 * have it: one absent from memory was absent at the last commit too
	 */
	if ((slot = hmap_get_or_add(t->dirty, buf, n + 1, &added)) != NULL && added && born)
		*slot = &track_born_mark;
}

/* track_seqkey - the 8-byte big-endian key of a held-back message */
void
track_seqkey(uint64_t seq, unsigned char out[8])
{
	int i;

	for (i = 7; i >= 0; i--) {
		out[i] = (unsigned char)(seq & 0xff);
		seq >>= 8;
	}
}

/* track_mark_held - note a held-back message as changed */
void
track_mark_held(struct track *t, const struct held *h)
{
	unsigned char k[8];

	if (!t->keep)
		return; /* no key to make */
	track_seqkey(h->seq, k);
	track_mark(t, TRACK_NS_HELD, k, sizeof(k));
}

/* track_new - an empty tracker; see track.h */
struct track *
track_new(size_t max_bytes, track_emit_fn emit, void *ctx)
{
	struct track *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (NULL);
	t->recs = hmap_new_ref();
	t->held_ix = hmap_new_ref();
	t->held_seq = hmap_new();
	t->expect = hmap_new_ref();
	t->dirty = hmap_new();
	if (t->recs == NULL || t->held_ix == NULL || t->held_seq == NULL || t->expect == NULL ||
	    t->dirty == NULL) {
		track_free(t);
		return (NULL);
	}
	t->max_bytes = max_bytes ? max_bytes : TRACK_DEFAULT_BYTES;
	t->emit = emit;
	t->ctx = ctx;
	t->now = INT64_MIN;
	t->seq = 1;
	return (t);
}

/* track_set_removed - report removals of counted messages to fn */
void
track_set_removed(struct track *t, track_removed_fn fn, void *ctx)
{
	t->removed = fn;
	t->rctx = ctx;
}

/* track_set_outcome - report the delivery outcomes of counted messages to fn */
void
track_set_outcome(struct track *t, track_outcome_fn fn, void *ctx)
{
	t->outcome = fn;
	t->octx = ctx;
}

/* rec_free - a record and its owner */
static void
rec_free(struct track *t, struct rec *r)
{
	track_unblock(t, r->own);
	track_unblock(t, r);
}

/* held_free - a held-back message, its waiting outcomes and its forward */
static void
held_free(struct track *t, struct held *h)
{
	free(h->pend);
	track_unblock(t, h->fwd);
	track_unblock(t, h);
}

/* rec_own - r's deliveries are o's from now on (o taken over; NULL: nobody's) */
static void
rec_own(struct track *t, struct rec *r, struct owner *o)
{
	size_t was = track_own_cost(r->own), now = track_own_cost(o);

	r->cost += now - was;
	t->bytes += now - was;
	track_unblock(t, r->own);
	r->own = o;
	track_mark(t, TRACK_NS_REC, r->key, r->keylen);
}

/* track_rec_link - put r into the table and at the young end of the age list */
int
track_rec_link(struct track *t, struct rec *r)
{
	void *old;

	if (r->hash == 0)
		r->hash = hmap_hash(r->key, r->keylen);
	if (hmap_put_ref_h(t->recs, r->hash, r->key, r->keylen, r, &old) < 0)
		return (-1);
	t->bytes += r->cost;
	r->newer = NULL;
	r->older = t->newest;
	if (t->newest)
		t->newest->newer = r;
	else
		t->oldest = r;
	t->newest = r;
	track_mark_born(t, TRACK_NS_REC, r->key, r->keylen, old == NULL);
	return (0);
}

/* rec_drop - take r out of the age list and the table, free it */
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
	track_mark(t, TRACK_NS_REC, r->key, r->keylen);
	hmap_del_h(t->recs, r->hash, r->key, r->keylen);
	t->bytes -= r->cost;
	rec_free(t, r);
}

/* track_free - free the tables; held-back messages are dropped, not emitted */
void
track_free(struct track *t)
{
	struct held *h, *next;
	struct rec *r, *rnext;

	if (t == NULL)
		return;
	t->keep = 0;
	track_expect_expire(t, INT64_MAX, 0);
	/* the age list walked with a saved next: the table goes below, as a whole */
	for (r = t->oldest; r != NULL; r = rnext) {
		rnext = r->newer;
		rec_free(t, r);
	}
	t->oldest = t->newest = NULL;
	for (h = t->hhead; h != NULL; h = next) {
		next = h->next;
		held_free(t, h);
	}
	pool_free(t);
	hmap_free(t->recs, NULL);
	hmap_free(t->held_ix, NULL);
	hmap_free(t->held_seq, NULL);
	hmap_free(t->expect, NULL);
	hmap_free(t->dirty, NULL);
	track_log_free(t);
	free(t->enc.p);
	free(t);
}

static void emit_held(struct track *t, struct held *h);

/*
 * evict - drop records past the age bound, and while the tracker holds
 * more than max_bytes the oldest records, then the oldest expectations,
 * then the oldest held-back messages (emitted now, not lost)
 */
static void
evict(struct track *t)
{
	struct rec *o;
	struct held *h;
	int over;

	while ((o = t->oldest) != NULL &&
	    ((over = t->bytes > t->max_bytes) ||
		(t->now != INT64_MIN && o->created < t->now - TRACK_MAX_AGE_US))) {
		/* pop the oldest: it has no older neighbour */
		t->oldest = o->newer;
		if (t->oldest != NULL)
			t->oldest->older = NULL;
		else
			t->newest = NULL;
		track_mark(t, TRACK_NS_REC, o->key, o->keylen);
		hmap_del_h(t->recs, o->hash, o->key, o->keylen);
		t->bytes -= o->cost;
		rec_free(t, o);
		t->st.dropped++;
		t->st.evicted += (uint64_t)over;
	}
	for (; t->bytes > t->max_bytes && t->ehead != NULL; t->st.evicted++)
		track_expect_pop(t, 1);
	for (; t->bytes > t->max_bytes && (h = t->hhead) != NULL; t->st.evicted++) {
		t->hhead = h->next;
		if (t->hhead == NULL)
			t->htail = NULL;
		emit_held(t, h);
		held_free(t, h);
	}
}

/* put_str - append s (n bytes) + NUL at *pp, folded if asked; returns the copy */
static const char *
put_str(char **pp, const char *s, size_t n, int fold)
{
	char *d = *pp;

	if (fold)
		ident_lower(d, s, n);
	else {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	*pp += n + 1;
	return (d);
}

/* rec_alloc - track_rec_alloc from t's pool (t may be NULL) */
static struct rec *
rec_alloc(struct track *t, const char *key, size_t keylen, const char *sasl, size_t sn,
    const char *ip, size_t in, int fold)
{
	struct rec *r;
	char *p;

	if ((r = track_block(t, sizeof(*r) + keylen + 1 + sn + 1 + in + 1)) == NULL)
		return (NULL);
	r->cost = sizeof(*r) + keylen + 1 + sn + 1 + in + 1 + TRACK_ALLOC_BYTES + keylen + 1 +
	    TRACK_ALLOC_BYTES + TRACK_SLOT_BYTES;
	memcpy(r->key, key, keylen);
	r->keylen = (unsigned)keylen;
	r->uid = -1;
	p = r->key + keylen + 1;
	if (sasl != NULL && sn > 0)
		r->sasl = put_str(&p, sasl, sn, fold);
	if (ip != NULL && in > 0)
		r->ip = put_str(&p, ip, in, fold);
	return (r);
}

/* track_rec_alloc - a record with its key and identity strings; NULL on ENOMEM */
struct rec *
track_rec_alloc(const char *key, size_t keylen, const char *sasl, size_t sn, const char *ip,
    size_t in, int fold)
{
	return (rec_alloc(NULL, key, keylen, sasl, sn, ip, in, fold));
}

/* rec_open - a new record for key (hash kh), replacing any old one; NULL on ENOMEM */
static struct rec *
rec_open(struct track *t, const char *key, size_t keylen, uint64_t kh, const struct pf_event *ev,
    int64_t now)
{
	struct rec *r, *old;

	if ((old = hmap_get_h(t->recs, kh, key, keylen)) != NULL)
		rec_drop(t, old); /* its "removed" was never logged */
	evict(t);                 /* before linking r, so r itself is never dropped */
	if ((r = rec_alloc(t, key, keylen, ev->sasl_username.p, ev->sasl_username.n,
		 ev->client_ip.p, ev->client_ip.n, 1)) == NULL)
		return (NULL);
	r->created = now;
	r->hash = kh;
	if (track_rec_link(t, r) < 0) {
		track_unblock(t, r);
		return (NULL);
	}
	return (r);
}

/*
 * track_held_add - queue a held-back message (strings copied), accepted at
 * time_us and received at recv_us; NULL on ENOMEM
 */
struct held *
track_held_add(struct track *t, uint64_t seq, int64_t time_us, int64_t recv_us, const char *host,
    const char *inst, const char *qid, const char *sender, size_t en, const char *ip, long nrcpt,
    int reinject, uint64_t lh)
{
	size_t hn = strlen(host), in = strlen(inst), qn = strlen(qid);
	size_t ipn = ip ? strlen(ip) : 0;
	size_t size = sizeof(struct held) + hn + 1 + qn + 1 + in + 1 + qn + 1 + en + 1 + ipn + 1;
	unsigned char sk[8];
	struct held *h;
	void **slot;
	void *old;
	int added;
	char *p;

	if ((h = track_block(t, size)) == NULL)
		return (NULL);
	/* itself, its 8-byte key in held_seq, its link key in held_ix */
	h->cost = size + TRACK_ALLOC_BYTES + 2 * (TRACK_ALLOC_BYTES + TRACK_SLOT_BYTES) + 9 + hn +
	    1 + qn + 1;
	p = h->data;
	h->linklen = (unsigned)(hn + 1 + qn);
	h->msg.host = put_str(&p, host, hn, 0);
	put_str(&p, qid, qn, 0);
	h->msg.instance = put_str(&p, inst, in, 0);
	h->msg.queue_id = put_str(&p, qid, qn, 0);
	if (sender != NULL && en > 0)
		h->msg.sender = put_str(&p, sender, en, 1);
	if (ip != NULL && ipn > 0)
		h->msg.client_ip = put_str(&p, ip, ipn, 0);
	h->seq = seq;
	h->msg.time_us = time_us;
	h->recv_us = recv_us;
	h->msg.uid = -1;
	h->msg.nrcpt = nrcpt;
	h->reinject = reinject;
	track_seqkey(seq, sk);
	if ((slot = hmap_get_or_add_h(t->held_seq, track_seqhash(seq), sk, sizeof(sk), &added)) ==
	    NULL) {
		track_unblock(t, h);
		return (NULL);
	}
	*slot = h;
	track_mark_born(t, TRACK_NS_HELD, sk, sizeof(sk), added);
	t->bytes += h->cost;
	h->linkhash = lh != 0 ? lh : hmap_hash(h->data, h->linklen);
	(void)hmap_put_ref_h(t->held_ix, h->linkhash, h->data, h->linklen, h,
	    &old); /* on ENOMEM it is not in held_ix: no copy can find it, as before */
	if (t->htail)
		t->htail->next = h;
	else
		t->hhead = h;
	t->htail = h;
	if (seq >= t->seq)
		t->seq = seq + 1;
	return (h);
}

/*
 * held_rec - the open record of held-back message h: the queue file with
 * its key, unless h's "removed" came (the key may be a newer message's)
 */
static struct rec *
held_rec(const struct track *t, const struct held *h)
{
	char key[512];
	size_t hn = strlen(h->msg.host), in = strlen(h->msg.instance), qn = strlen(h->msg.queue_id);

	if (h->msg.removed || hn + in + qn + 2 >= sizeof(key))
		return (NULL);
	memcpy(key, h->msg.host, hn + 1);
	memcpy(key + hn + 1, h->msg.instance, in + 1);
	memcpy(key + hn + 1 + in + 1, h->msg.queue_id, qn);
	return (hmap_get(t->recs, key, hn + in + qn + 2));
}

/* emit_held - emit or drop one held-back message taken off the FIFO */
static void
emit_held(struct track *t, struct held *h)
{
	uint64_t lh = h->linkhash;
	unsigned char sk[8];
	struct rec *r;

	if (hmap_get_h(t->held_ix, lh, h->data, h->linklen) == h)
		hmap_del_h(t->held_ix, lh, h->data, h->linklen);
	track_seqkey(h->seq, sk);
	hmap_del_h(t->held_seq, track_seqhash(h->seq), sk, sizeof(sk));
	t->bytes -= h->cost;
	track_mark_held(t, h);
	if (h->reinject) {
		t->st.reinjections++;
		return;
	}
	if ((r = held_rec(t, h)) != NULL) {
		r->flags |= F_COUNTED;
		if (r->own != NULL && r->own->kind == OWN_HELD && r->own->seq == h->seq)
			r->own->kind = OWN_MSG; /* counted now */
		track_mark(t, TRACK_NS_REC, r->key, r->keylen);
	}
	t->st.counted++;
	t->emit(t->ctx, &h->msg);
	track_pend_flush(t, h, NULL, 1);
}

/* track_flush - emit held-back messages whose link window has passed; see track.h */
void
track_flush(struct track *t, int64_t now)
{
	struct held *h;

	while ((h = t->hhead) != NULL &&
	    (now == INT64_MAX || h->msg.time_us <= now - TRACK_LINK_WINDOW_US)) {
		t->hhead = h->next;
		if (t->hhead == NULL)
			t->htail = NULL;
		emit_held(t, h);
		held_free(t, h);
	}
}

/* track_finish - the end of the input; see track.h */
void
track_finish(struct track *t)
{
	track_flush(t, INT64_MAX);
	track_expect_expire(t, INT64_MAX, 1);
}

/* on_active - the first (queue active) of a record: emit, hold back or skip */
static void
on_active(struct track *t, struct rec *r, const struct pf_event *ev, int64_t now)
{
	const char *host = r->key, *inst = host + strlen(host) + 1;
	const char *qid = inst + strlen(inst) + 1;
	size_t hn = (size_t)(inst - host) - 1, qn = strlen(qid);
	long nrcpt = ev->nrcpt < 0 ? 0 : ev->nrcpt;
	struct track_msg m;
	struct expect *e;
	struct held *h;
	uint64_t lh = 0;
	char lk[512];

	r->flags |= F_ACTIVE;
	track_mark(t, TRACK_NS_REC, r->key, r->keylen);
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
	if ((r->flags & F_PICKUP) && r->uid == 0 && ev->sender.p != NULL && ev->sender.n == 0) {
		/* root with the null sender: sendguard's own notices (and the like) */
		t->st.own++;
		return;
	}
	if ((r->flags & F_PICKUP) || r->sasl != NULL) {
		/* authenticated or local: certainly the user's own message */
		memset(&m, 0, sizeof(m));
		if (ev->sender.p != NULL && ev->sender.n > 0 && ev->sender.n <= SOURCE_LINE_MAX) {
			ident_lower(t->sbuf, ev->sender.p, ev->sender.n);
			m.sender = t->sbuf;
		}
		m.time_us = now;
		m.host = host;
		m.instance = inst;
		m.queue_id = qid;
		m.sasl = r->sasl;
		m.client_ip = r->ip;
		m.uid = r->uid;
		m.nrcpt = nrcpt;
		r->flags |= F_COUNTED;
		rec_own(t, r, track_own_make(t, OWN_MSG, 0, &m));
		t->st.counted++;
		t->emit(t->ctx, &m);
		return;
	}
	/* a hand-off may have named it between its client and active lines */
	if (hn + 1 + qn < sizeof(lk)) {
		memcpy(lk, host, hn + 1);
		memcpy(lk + hn + 1, qid, qn);
		lh = hmap_hash(lk, hn + 1 + qn); /* for the look-up, or held_ix's entry below */
		if ((e = track_expect_take(t, lk, hn + 1 + qn, lh, r->created, now)) != NULL) {
			r->flags |= F_REINJECT;
			rec_own(t, r, track_expect_owner(t, e));
			t->st.reinjections++;
			return;
		}
	}
	/* unauthenticated smtpd: may be a re-injection named later */
	if ((h = track_held_add(t, t->seq, now, r->created, host, inst, qid, ev->sender.p,
		 ev->sender.n, r->ip, nrcpt, 0, lh)) == NULL)
		t->st.dropped++;
	else
		rec_own(t, r, track_own_make(t, OWN_HELD, h->seq, &h->msg));
}

/* rec_named - the open record (host, instance of ev, qid), NULL when none */
static struct rec *
rec_named(const struct track *t, const struct pf_event *ev, const struct pf_str *qid)
{
	char key[512];
	size_t kn;

	if (qid->p == NULL || (kn = mkkey(key, sizeof(key), &ev->host, &ev->instance, qid)) == 0)
		return (NULL);
	return (hmap_get(t->recs, key, kn));
}

/* copy_found - held-back h is the copy of orig's message: its outcomes are orig's */
static void
copy_found(struct track *t, struct held *h, const struct owner *own)
{
	struct rec *c;

	if (h->reinject)
		return; /* named again: another recipient's hand-off line */
	h->reinject = 1;
	h->fwd = track_own_dup(t, own);
	h->cost += track_own_cost(h->fwd);
	t->bytes += track_own_cost(h->fwd);
	track_mark_held(t, h);
	track_pend_flush(t, h, h->fwd, 0);
	if ((c = held_rec(t, h)) != NULL && c->own != NULL && c->own->kind == OWN_HELD &&
	    c->own->seq == h->seq)
		rec_own(t, c, track_own_dup(t, own));
}

/*
 * on_handoff - "queued as NEWID" on a delivery line of orig (NULL: not
 * tracked): NEWID is a copy, not a new message.  The newest held-back
 * NEWID is the copy unless it is older than the original (then so is
 * every other held-back NEWID); so is an open re-injected NEWID record
 * (orig_queue_id=, or named between its client and active lines);
 * otherwise the copy is still to come, or still before its (queue
 * active) line: expect it.  The copy's deliveries are orig's owner's.
 * A status=sent hand-off line is no delivery when its copy is found; it
 * is one (a remote server's "queued as", a forward) when no copy claims
 * its expectation before it ends.
 */
static void
on_handoff(struct track *t, const struct pf_event *ev, int64_t now, struct rec *orig, int status)
{
	const struct owner *own = orig != NULL ? orig->own : NULL;
	int64_t orig_us = orig != NULL ? orig->created : INT64_MIN;
	struct expect *e, *old;
	struct held *h;
	struct rec *c;
	char lk[512];
	uint64_t lh;
	size_t ln;

	if (status == TRACK_DEFERRED || status == TRACK_BOUNCED)
		track_deliver(t, own, status, 1, now); /* not a hand-off of a whole copy */
	if ((ln = mkkey(lk, sizeof(lk), &ev->host, NULL, &ev->queued_as)) == 0)
		return;
	lh = hmap_hash(lk, ln); /* held_ix and expect share their keys */
	if ((h = hmap_get_h(t->held_ix, lh, lk, ln)) != NULL &&
	    track_may_be_copy(h->recv_us, orig_us)) {
		copy_found(t, h, own);
		return;
	}
	if ((c = rec_named(t, ev, &ev->queued_as)) != NULL && (c->flags & F_REINJECT) &&
	    !(c->flags & F_REQUEUE) && track_may_be_copy(c->created, orig_us)) {
		if (c->own == NULL)
			rec_own(t, c, track_own_dup(t, own));
		return;
	}
	old = hmap_get_h(t->expect, lh, lk, ln);
	if ((e = track_expect_add_h(t, lk, ln, lh, now, orig_us)) == NULL)
		return;
	e->own = track_own_dup(t, own);
	e->cost += track_own_cost(e->own);
	t->bytes += track_own_cost(e->own);
	if (status == TRACK_SENT) {
		e->sent = 1;
		if (old != NULL && track_own_same(old->own, e->own)) {
			e->sent += old->sent; /* one copy named by each recipient's line */
			old->sent = 0;
		}
	}
}

/* on_client - smtpd "client=": a new record, a content-filter copy's if one is known */
static void
on_client(struct track *t, const struct pf_event *ev, const char *key, size_t kn, uint64_t kh,
    int64_t now)
{
	struct expect *e;
	struct rec *r, *o;
	char lk[512];
	size_t ln;

	if ((r = rec_open(t, key, kn, kh, ev, now)) == NULL)
		return;
	r->flags |= F_SMTPD;
	ln = mkkey(lk, sizeof(lk), &ev->host, NULL, &ev->queue_id);
	if (ln > 0 && (e = track_expect_take(t, lk, ln, 0, r->created, now)) != NULL) {
		r->flags |= F_REINJECT;
		rec_own(t, r, track_expect_owner(t, e));
	} else if (ev->orig_queue_id.p != NULL || ev->orig_client_ip.p != NULL) {
		r->flags |= F_REINJECT;
		if ((o = rec_named(t, ev, &ev->orig_queue_id)) != NULL && o != r)
			rec_own(t, r, track_own_dup(t, o->own));
	}
}

/* on_pickup - pickup "uid=": a new record; a requeue's deliveries are its original's */
static void
on_pickup(struct track *t, const struct pf_event *ev, const char *key, size_t kn, uint64_t kh,
    int64_t now)
{
	struct rec *r, *o;

	if ((r = rec_open(t, key, kn, kh, ev, now)) == NULL)
		return;
	r->flags |= F_PICKUP;
	r->uid = ev->uid;
	if (ev->orig_id.p != NULL) {
		r->flags |= F_REINJECT | F_REQUEUE;
		if ((o = rec_named(t, ev, &ev->orig_id)) != NULL && o != r)
			rec_own(t, r, track_own_dup(t, o->own));
	}
}

/* on_removed - "removed": the record ends; a message still held back is emitted as removed */
static void
on_removed(struct track *t, const struct pf_event *ev, const char *key, size_t kn, uint64_t kh,
    int64_t now)
{
	struct held *h;
	struct rec *r;
	char lk[512];
	size_t ln;

	if ((r = hmap_get_h(t->recs, kh, key, kn)) != NULL) {
		if ((r->flags & F_COUNTED) && t->removed != NULL) {
			const char *hs = r->key, *in = hs + strlen(hs) + 1;

			t->removed(t->rctx, hs, in, in + strlen(in) + 1, now);
		}
		rec_drop(t, r);
	}
	ln = hmap_count(t->held_ix) > 0 ? mkkey(lk, sizeof(lk), &ev->host, NULL, &ev->queue_id) : 0;
	if (ln > 0 && (h = hmap_get(t->held_ix, lk, ln)) != NULL && h->msg.instance != NULL &&
	    strlen(h->msg.instance) == ev->instance.n &&
	    memcmp(h->msg.instance, ev->instance.p, ev->instance.n) == 0 && !h->msg.removed) {
		h->msg.removed = 1;
		track_mark_held(t, h);
	}
}

/* keyed - the kinds of event track_event() looks a record up for */
static int
keyed(const struct pf_event *ev)
{
	return (ev->queue_id.p != NULL &&
	    (ev->kind == PF_CLIENT || ev->kind == PF_PICKUP || ev->kind == PF_ACTIVE ||
		ev->kind == PF_DELIVERY || ev->kind == PF_REMOVED));
}

/* track_key - ev's record key into buf; see track.h */
size_t
track_key(const struct pf_event *ev, char *buf, size_t len)
{
	if (!keyed(ev))
		return (0);
	return (mkkey(buf, len, &ev->host, &ev->instance, &ev->queue_id));
}

/* track_key_hash - the hash of ev's record key, 0 when none; see track.h */
uint64_t
track_key_hash(const struct pf_event *ev)
{
	char key[TRACK_KEY_MAX];
	size_t kn;

	if ((kn = track_key(ev, key, sizeof(key))) == 0)
		return (0);
	return (hmap_hash(key, kn));
}

/*
 * keyed_event - track_event() of a line whose kind has a record key: the
 * key (the reader's, or made here) and its hash, then the kind's handler.
 * Out of track_event's line: its key buffers and the handlers' make a
 * frame of kilobytes with a stack guard, which the other lines (most of
 * a log) no longer set up.
 */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void
keyed_event(struct track *t, const struct pf_event *ev, int64_t now)
{
	char kbuf[TRACK_KEY_MAX];
	const char *key = kbuf;
	size_t kn;
	uint64_t kh;
	struct rec *r;
	int status;

	if (ev->hint != 0 && ev->hint_key != NULL) { /* the reader's key and hash */
		key = ev->hint_key;
		kn = ev->hint_kn;
		kh = ev->hint;
	} else {
		if ((kn = track_key(ev, kbuf, sizeof(kbuf))) == 0)
			return;
		/* once for every look-up, addition and removal of the record (or by the reader) */
		kh = ev->hint != 0 ? ev->hint : hmap_hash(key, kn);
	}
	switch (ev->kind) {
	case PF_CLIENT:
		on_client(t, ev, key, kn, kh, now);
		break;
	case PF_PICKUP:
		on_pickup(t, ev, key, kn, kh, now);
		break;
	case PF_ACTIVE:
		if ((r = hmap_get_h(t->recs, kh, key, kn)) == NULL) {
			/* no origin line: a bounce, a forwarded copy, or before the log */
			if ((r = rec_open(t, key, kn, kh, &(struct pf_event){ .kind = PF_NONE },
				 now)) == NULL)
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
		status = track_status_of(&ev->status);
		r = hmap_get_h(t->recs, kh, key, kn);
		if (ev->queued_as.p != NULL)
			on_handoff(t, ev, now, r, status);
		else if (r != NULL && status >= 0)
			track_deliver(t, r->own, status, 1, now);
		break;
	case PF_REMOVED:
		on_removed(t, ev, key, kn, kh, now);
		break;
	default:
		break;
	}
}

/* track_event - one parsed line; see track.h */
void
track_event(struct track *t, const struct pf_event *ev, int64_t now)
{
	if (now > t->now) {
		t->now = now;
		/* the oldest of each tested here: most lines have nothing to emit or expire */
		if (t->hhead != NULL && t->hhead->msg.time_us <= now - TRACK_LINK_WINDOW_US)
			track_flush(t, now);
		if (t->ehead != NULL && t->ehead->time_us < now - 2 * TRACK_LINK_WINDOW_US)
			track_expect_expire(t, now, 1);
	}
	if (keyed(ev))
		keyed_event(t, ev, now);
}

/* track_stats - counters since track_new */
const struct track_stats *
track_stats(const struct track *t)
{
	return (&t->st);
}

/* track_size - open records */
size_t
track_size(const struct track *t)
{
	return (hmap_count(t->recs));
}

/* track_held - messages held back now */
size_t
track_held(const struct track *t)
{
	return (hmap_count(t->held_seq));
}

/* track_bytes - what the byte cap counts */
size_t
track_bytes(const struct track *t)
{
	return (t->bytes);
}
