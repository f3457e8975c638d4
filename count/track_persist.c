/*
 * NAME
 *	track_persist - the tracker's in-flight state across restarts
 * SUMMARY
 *	Exports track_keep_dirty(), track_forget_dirty(), track_restore()
 *	(see track.h), track_encode() and track_wbytes() (track_priv.h).
 *	With track_keep_dirty(t, 1) every change to a record, a held-back
 *	message or an expectation is noted in a dirty set (track.c);
 *	track_persist() (track_log.c) writes the net changes of a batch with
 *	the values track_encode() makes; track_restore() rebuilds the state
 *	at start-up, one saved entry at a time.
 * RETURNS
 *	track_restore: 0, or -1 for a malformed saved entry.  Never prints or
 *	exits.
 * UNTRUSTED INPUT
 *	Restored blobs come from the state database: every read checks the
 *	remaining length, a string may hold no NUL, and a malformed entry is
 *	refused, not trusted.
 */
#include <stdlib.h>
#include <string.h>

#include "util/hmap.h"
#include "count/track_priv.h"

/*
 * Serialization.  Little helpers over a byte cursor; every read checks the
 * remaining length so a damaged blob is refused, not trusted.
 *
 * Saved values (i64 little-endian; strings as an i64 length, -1 for NULL,
 * then the bytes):
 *	TRACK_NS_REC	flags, uid, created, sasl, ip [, OWNER]
 *	TRACK_NS_HELD	time_us, reinject | removed << 1, nrcpt, host, instance,
 *			qid, sender, ip [, recv_us] [, OWNER (fwd), npend,
 *			npend x (t, status, n)]
 *	TRACK_NS_EXPECT	time_us [, orig_us] [, OWNER, sent]
 *	OWNER		kind (0: none), and unless 0: seq, time_us, uid,
 *			nrcpt, host, instance, qid, sasl, sender, ip
 * A field in brackets was added later, at the end, so a value saved by an
 * older version is told apart by its length and still read: a held-back
 * message without recv_us is taken as received when it was accepted (the
 * nearest time it kept), an expectation without orig_us as of an unknown
 * original (any message may be its copy, as before); without an OWNER a
 * queue file's deliveries are nobody's (they counted for nothing before).
 */
/* track_wbytes - append n bytes, growing the buffer; bad set when out of memory */
void
track_wbytes(struct track_wbuf *w, const void *p, size_t n)
{
	if (w->bad)
		return;
	if (w->n + n > w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 256;
		unsigned char *np;

		while (nc < w->n + n)
			nc *= 2;
		if ((np = realloc(w->p, nc)) == NULL) {
			w->bad = 1;
			return;
		}
		w->p = np;
		w->cap = nc;
	}
	if (n > 0)
		memcpy(w->p + w->n, p, n);
	w->n += n;
}

/* w_i64 - append v as 8 bytes, little-endian */
static void
w_i64(struct track_wbuf *w, int64_t v)
{
	unsigned char b[8];
	uint64_t u = (uint64_t)v;
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (unsigned char)(u >> (8 * i));
	track_wbytes(w, b, 8);
}

/* w_str - length (i64, -1 for NULL) then bytes */
static void
w_str(struct track_wbuf *w, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	w_i64(w, s ? (int64_t)n : -1);
	track_wbytes(w, s, n);
}

struct rbuf {
	const unsigned char *p;
	size_t n;
	int bad;
};

/* r_i64 - read 8 bytes little-endian; 0 and bad set when too short */
static int64_t
r_i64(struct rbuf *r)
{
	uint64_t u = 0;
	int i;

	if (r->n < 8) {
		r->bad = 1;
		return (0);
	}
	for (i = 0; i < 8; i++)
		u |= (uint64_t)r->p[i] << (8 * i);
	r->p += 8;
	r->n -= 8;
	return ((int64_t)u);
}

/* r_str - a string as written by w_str; *len set; NULL for NULL or bad */
static const char *
r_str(struct rbuf *r, size_t *len)
{
	int64_t n = r_i64(r);
	const char *s;

	*len = 0;
	if (r->bad || n < 0)
		return (NULL);
	if ((uint64_t)n > r->n || memchr(r->p, '\0', (size_t)n) != NULL) {
		r->bad = 1;
		return (NULL);
	}
	s = (const char *)r->p;
	r->p += n;
	r->n -= (size_t)n;
	*len = (size_t)n;
	return (s);
}

/* w_owner - an owner (NULL: kind 0 alone) */
static void
w_owner(struct track_wbuf *w, const struct owner *o)
{
	w_i64(w, o != NULL ? o->kind : 0);
	if (o == NULL)
		return;
	w_i64(w, (int64_t)o->seq);
	w_i64(w, o->msg.time_us);
	w_i64(w, o->msg.uid);
	w_i64(w, o->msg.nrcpt);
	w_str(w, o->msg.host);
	w_str(w, o->msg.instance);
	w_str(w, o->msg.queue_id);
	w_str(w, o->msg.sasl);
	w_str(w, o->msg.sender);
	w_str(w, o->msg.client_ip);
}

/*
 * r_owner - an owner as w_owner wrote it; *o NULL for kind 0.  0, or -1
 * for a malformed one or ENOMEM (*o NULL).
 */
static int
r_owner(struct rbuf *r, struct owner **o)
{
	const char *p[6];
	size_t n[6], i, total = 0;
	struct track_msg m;
	int64_t kind = r_i64(r), seq;
	char *buf, *q;
	const char **dst[6];

	*o = NULL;
	if (r->bad || kind == 0)
		return (r->bad ? -1 : 0);
	if (kind != OWN_MSG && kind != OWN_HELD)
		return (-1);
	memset(&m, 0, sizeof(m));
	seq = r_i64(r);
	m.time_us = r_i64(r);
	m.uid = (long)r_i64(r);
	m.nrcpt = (long)r_i64(r);
	for (i = 0; i < 6; i++) {
		p[i] = r_str(r, &n[i]);
		total += n[i] + 1;
	}
	if (r->bad || p[0] == NULL || p[2] == NULL || (buf = malloc(total)) == NULL)
		return (-1);
	dst[0] = &m.host;
	dst[1] = &m.instance;
	dst[2] = &m.queue_id;
	dst[3] = &m.sasl;
	dst[4] = &m.sender;
	dst[5] = &m.client_ip;
	for (i = 0, q = buf; i < 6; i++) {
		if (p[i] == NULL)
			continue;
		memcpy(q, p[i], n[i]);
		q[n[i]] = '\0';
		*dst[i] = q;
		q += n[i] + 1;
	}
	*o = track_own_new((int)kind, (uint64_t)seq, &m);
	free(buf);
	return (*o != NULL ? 0 : -1);
}

/* w_rec - a record's saved value (see above) */
static void
w_rec(struct track_wbuf *w, const void *v)
{
	const struct rec *rec = v;

	w_i64(w, rec->flags);
	w_i64(w, rec->uid);
	w_i64(w, rec->created);
	w_str(w, rec->sasl);
	w_str(w, rec->ip);
	w_owner(w, rec->own);
}

/* w_held - a held-back message's saved value (see above) */
static void
w_held(struct track_wbuf *w, const void *v)
{
	const struct held *h = v;
	size_t i;

	w_i64(w, h->msg.time_us);
	w_i64(w, h->reinject | (h->msg.removed << 1));
	w_i64(w, h->msg.nrcpt);
	w_str(w, h->msg.host);
	w_str(w, h->msg.instance);
	w_str(w, h->msg.queue_id);
	w_str(w, h->msg.sender);
	w_str(w, h->msg.client_ip);
	w_i64(w, h->recv_us);
	w_owner(w, h->fwd);
	w_i64(w, (int64_t)h->npend);
	for (i = 0; i < h->npend; i++) {
		w_i64(w, h->pend[i].t);
		w_i64(w, h->pend[i].status);
		w_i64(w, h->pend[i].n);
	}
}

/* w_expect - an expectation's saved value (see above) */
static void
w_expect(struct track_wbuf *w, const void *v)
{
	const struct expect *e = v;

	w_i64(w, e->time_us);
	w_i64(w, e->orig_us);
	w_owner(w, e->own);
	w_i64(w, e->sent);
}

/*
 * track_encode - the saved value of entry (ns, key) as it is now: 1 with
 * *val and *vn set (valid until the next call), 0 when the entry is gone,
 * 2 for a namespace not saved this way, -1 out of memory
 */
int
track_encode(struct track *t, int ns, const char *key, size_t kn, const void **val, size_t *vn)
{
	const struct hmap *m;
	void (*put)(struct track_wbuf *, const void *);
	const void *v;
	uint64_t seq = 0;
	size_t i;

	switch (ns) {
	case TRACK_NS_REC:
		m = t->recs, put = w_rec;
		break;
	case TRACK_NS_HELD:
		m = t->held_seq, put = w_held;
		break;
	case TRACK_NS_EXPECT:
		m = t->expect, put = w_expect;
		break;
	default:
		return (2);
	}
	if (m == t->held_seq) { /* hashed by its seq (track_seqhash), the key's 8 bytes */
		if (kn != 8)
			return (0);
		for (i = 0; i < kn; i++)
			seq = seq << 8 | (unsigned char)key[i];
		v = hmap_get_h(m, track_seqhash(seq), key, kn);
	} else
		v = hmap_get(m, key, kn);
	if (v == NULL)
		return (0);
	t->enc.n = 0;
	t->enc.bad = 0;
	put(&t->enc, v);
	if (t->enc.bad)
		return (-1);
	*val = t->enc.p;
	*vn = t->enc.n;
	return (1);
}

/* track_keep_dirty - note changes for track_persist() (off by default) */
void
track_keep_dirty(struct track *t, int on)
{
	t->keep = on;
}

/* track_forget_dirty - drop the noted changes and the log's pending keys (after a rollback) */
void
track_forget_dirty(struct track *t)
{
	struct hmap *n = hmap_new();

	track_log_free(t);
	if (n == NULL)
		return;
	hmap_free(t->dirty, NULL);
	t->dirty = n;
}

/* restore_rec - a saved record (see the top); 0, or -1 for a malformed one */
static int
restore_rec(struct track *t, const void *key, size_t kn, struct rbuf *rb)
{
	int64_t flags = r_i64(rb), uid = r_i64(rb), created = r_i64(rb);
	size_t sn, in;
	const char *sasl = r_str(rb, &sn), *ip = r_str(rb, &in);
	struct owner *own = NULL;
	struct rec *r;

	if (rb->n > 0 && r_owner(rb, &own) < 0)
		return (-1);
	if (rb->bad || rb->n != 0 || kn == 0 || kn >= 512 || hmap_get(t->recs, key, kn) != NULL ||
	    (r = track_rec_alloc(key, kn, sasl, sn, ip, in, 0)) == NULL) {
		free(own);
		return (-1);
	}
	r->flags = (unsigned)flags;
	r->uid = (long)uid;
	r->created = created;
	r->own = own;
	r->cost += track_own_cost(own); /* counted by track_rec_link */
	if (track_rec_link(t, r) < 0) {
		free(own);
		free(r);
		return (-1);
	}
	return (0);
}

/* restore_pend - the forward and the waiting outcomes of held-back h; 0 or -1 */
static int
restore_pend(struct held *h, struct rbuf *rb)
{
	int64_t n, i, tm, st, cnt;

	if (rb->n == 0)
		return (0); /* saved before outcomes were kept */
	if (r_owner(rb, &h->fwd) < 0)
		return (-1);
	n = r_i64(rb);
	if (rb->bad || n < 0 || n > TRACK_PEND_MAX)
		return (-1);
	for (i = 0; i < n; i++) {
		tm = r_i64(rb);
		st = r_i64(rb);
		cnt = r_i64(rb);
		if (rb->bad || st < 0 || st >= TRACK_STATUS_COUNT || cnt <= 0 ||
		    track_pend_add(h, (int)st, (long)cnt, tm) < 0)
			return (-1);
	}
	return (0);
}

/* restore_held - a saved held-back message (see the top); 0, or -1 for a malformed one */
static int
restore_held(struct track *t, const unsigned char *k, size_t kn, struct rbuf *rb)
{
	int64_t time_us = r_i64(rb), reinject = r_i64(rb), nrcpt = r_i64(rb);
	size_t hn, in, qn, en, ipn, i;
	const char *host = r_str(rb, &hn), *inst = r_str(rb, &in);
	const char *qid = r_str(rb, &qn), *sender = r_str(rb, &en);
	const char *ip = r_str(rb, &ipn);
	int64_t recv_us = rb->n == 0 ? time_us : r_i64(rb); /* older: none */
	char hb[256], ib[256], qb[PF_QID_MAX + 1], ipb[256] = "";
	uint64_t seq = 0;
	struct held *h;

	if (rb->bad || kn != 8 || !host || !inst || !qid || hn >= sizeof(hb) || in >= sizeof(ib) ||
	    qn >= sizeof(qb) || (ip != NULL && ipn >= sizeof(ipb)))
		return (-1);
	for (i = 0; i < 8; i++)
		seq = (seq << 8) | k[i];
	memcpy(hb, host, hn);
	hb[hn] = '\0';
	memcpy(ib, inst, in);
	ib[in] = '\0';
	memcpy(qb, qid, qn);
	qb[qn] = '\0';
	if (ip) {
		memcpy(ipb, ip, ipn);
		ipb[ipn] = '\0';
	}
	h = track_held_add(t, seq, time_us, recv_us, hb, ib, qb, sender, en, ip ? ipb : NULL,
	    (long)nrcpt, (int)(reinject & 1), 0);
	if (h == NULL)
		return (-1);
	h->msg.removed = (int)((reinject >> 1) & 1);
	/* a malformed tail loses the outcomes, not the message */
	return (restore_pend(h, rb) < 0 || rb->n != 0 ? -1 : 0);
}

/* restore_expect - a saved expectation (see the top); 0, or -1 for a malformed one */
static int
restore_expect(struct track *t, const void *key, size_t kn, struct rbuf *rb)
{
	int64_t time_us = r_i64(rb);
	int64_t orig_us = rb->n == 0 ? INT64_MIN : r_i64(rb); /* older: none */
	struct owner *own = NULL;
	int64_t sent = 0;
	struct expect *e;

	if (rb->n > 0 && (r_owner(rb, &own) < 0 || (sent = r_i64(rb)) < 0)) {
		free(own);
		return (-1);
	}
	if (rb->bad || rb->n != 0 || kn == 0 || kn >= 512 ||
	    (e = track_expect_add(t, key, kn, time_us, orig_us)) == NULL) {
		free(own);
		return (-1);
	}
	e->own = own;
	e->cost += track_own_cost(own);
	t->bytes += track_own_cost(own);
	e->sent = (long)sent;
	return (0);
}

/* track_restore - add one saved entry at start-up; -1 for a malformed one */
int
track_restore(struct track *t, int ns, const void *key, size_t kn, const void *val, size_t vn)
{
	struct rbuf rb = { val, vn, 0 };
	int keep = t->keep, rc = -1;

	t->keep = 0; /* restoring is not a change */
	if (ns == TRACK_NS_REC)
		rc = restore_rec(t, key, kn, &rb);
	else if (ns == TRACK_NS_HELD)
		rc = restore_held(t, key, kn, &rb);
	else if (ns == TRACK_NS_EXPECT)
		rc = restore_expect(t, key, kn, &rb);
	t->keep = keep;
	return (rc);
}
