/*
 * NAME
 *	track_outcome - whose delivery outcomes a queue file's are
 * SUMMARY
 *	Every record, held-back message and hand-off expectation of the
 *	tracker may carry an owner (struct owner, track_priv.h): the counted
 *	message its deliveries belong to.  A delivery line (status=sent,
 *	deferred or bounced) of a queue file goes to its owner through
 *	track_deliver(): out through the outcome callback at once when the
 *	owner is counted; kept on the owner's held-back message while that
 *	waits to be emitted (track_pend_add); passed on to the original when
 *	that held-back message turned out to be a content-filter copy.  When
 *	a held-back message is emitted, or found to be a copy, what waits on
 *	it goes out or on (track_pend_flush).
 *
 *	What waits on one held-back message is bounded by TRACK_PEND_MAX
 *	entries: an outcome with the status and time of the last one adds to
 *	its count; past the bound it adds to the newest entry of its status
 *	(keeping that entry's time).  A held-back message waits at most the
 *	link window (30 s of log time), so only a message with more than 64
 *	recipients whose deliveries all come inside that window is affected.
 * RETURNS
 *	Never prints or exits; out of memory drops the one outcome.
 * UNTRUSTED INPUT
 *	The status word of a delivery line (compared, never copied) and the
 *	identities of the owner (copied with their lengths by track.c).
 */
#include <stdlib.h>
#include <string.h>

#include "util/hmap.h"
#include "count/track_priv.h"

#define OWN_DEPTH 8 /* copies of copies followed at most */

/* own_len - bytes of string s with its NUL, 0 for NULL */
static size_t
own_len(const char *s)
{
	return (s != NULL ? strlen(s) + 1 : 0);
}

/* own_put - copy s (n bytes with its NUL, own_len(s); NULL stays NULL) to *pp; the copy */
static const char *
own_put(char **pp, const char *s, size_t n)
{
	char *d = *pp;

	if (s == NULL)
		return (NULL);
	memcpy(d, s, n);
	*pp += n;
	return (d);
}

/* track_own_new - an owner of kind for message m (strings copied); NULL on ENOMEM */
struct owner *
track_own_new(int kind, uint64_t seq, const struct track_msg *m)
{
	return (track_own_make(NULL, kind, seq, m));
}

/* track_own_make - track_own_new from t's pool (t may be NULL) */
struct owner *
track_own_make(struct track *t, int kind, uint64_t seq, const struct track_msg *m)
{
	/* each string's length taken once, for the size and the copy */
	size_t hn = own_len(m->host), in = own_len(m->instance), qn = own_len(m->queue_id);
	size_t sn = own_len(m->sasl), fn = own_len(m->sender), cn = own_len(m->client_ip);
	size_t n = hn + in + qn + sn + fn + cn;
	struct owner *o;
	char *p;

	if ((o = track_block(t, sizeof(*o) + n)) == NULL)
		return (NULL);
	o->kind = kind;
	o->seq = seq;
	o->len = n;
	o->msg = *m;
	o->msg.removed = 0;
	p = o->data;
	o->msg.host = own_put(&p, m->host, hn);
	o->msg.instance = own_put(&p, m->instance, in);
	o->msg.queue_id = own_put(&p, m->queue_id, qn);
	o->msg.sasl = own_put(&p, m->sasl, sn);
	o->msg.sender = own_put(&p, m->sender, fn);
	o->msg.client_ip = own_put(&p, m->client_ip, cn);
	return (o);
}

/*
 * track_own_cost - the bytes o holds, about (0 for NULL): for
 * max_tracked_bytes (its strings' length kept from track_own_new(): they
 * are not read again, an owner's strings are cold by the time it is costed)
 */
size_t
track_own_cost(const struct owner *o)
{
	if (o == NULL)
		return (0);
	return (sizeof(*o) + TRACK_ALLOC_BYTES + o->len);
}

/* rebase - string s of the owner from (NULL stays NULL) at the same place in to */
static const char *
rebase(const struct owner *from, struct owner *to, const char *s)
{
	return (s != NULL ? to->data + (s - from->data) : NULL);
}

/* track_own_dup - a copy of o (NULL for NULL or ENOMEM): one block copied, its strings re-pointed */
struct owner *
track_own_dup(struct track *t, const struct owner *o)
{
	struct owner *d;

	if (o == NULL || (d = track_block(t, sizeof(*o) + o->len)) == NULL)
		return (NULL);
	memcpy(d, o, sizeof(*o) + o->len);
	d->msg.host = rebase(o, d, o->msg.host);
	d->msg.instance = rebase(o, d, o->msg.instance);
	d->msg.queue_id = rebase(o, d, o->msg.queue_id);
	d->msg.sasl = rebase(o, d, o->msg.sasl);
	d->msg.sender = rebase(o, d, o->msg.sender);
	d->msg.client_ip = rebase(o, d, o->msg.client_ip);
	return (d);
}

/* same_str - two strings, either NULL, equal */
static int
same_str(const char *a, const char *b)
{
	return (a == b || (a != NULL && b != NULL && strcmp(a, b) == 0));
}

/* track_own_same - 1 when a and b (either may be NULL) are the same message's */
int
track_own_same(const struct owner *a, const struct owner *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (a->msg.time_us == b->msg.time_us && same_str(a->msg.host, b->msg.host) &&
	    same_str(a->msg.instance, b->msg.instance) &&
	    same_str(a->msg.queue_id, b->msg.queue_id));
}

/*
 * track_status_of - the enum track_status of a status= word, -1 for others:
 * the three words differ in length, so the length picks the one word to
 * compare (a delivery line's status, without a strlen and memcmp call for
 * each word)
 */
int
track_status_of(const struct pf_str *s)
{
	if (s->p == NULL)
		return (-1);
	switch (s->n) {
	case 4:
		return (memcmp(s->p, "sent", 4) == 0 ? TRACK_SENT : -1);
	case 8:
		return (memcmp(s->p, "deferred", 8) == 0 ? TRACK_DEFERRED : -1);
	case 7:
		return (memcmp(s->p, "bounced", 7) == 0 ? TRACK_BOUNCED : -1);
	default:
		return (-1);
	}
}

/* emit - one outcome of the counted message m out through the callback */
static void
emit(struct track *t, const struct track_msg *m, int status, long n, int64_t time_us)
{
	struct track_outcome o;

	if (t->outcome == NULL || n <= 0)
		return;
	o.msg = m;
	o.status = (enum track_status)status;
	o.n = n;
	o.time_us = time_us;
	t->outcome(t->octx, &o);
}

/*
 * held_of - the held-back message of owner o, NULL when it is gone
 * (emitted or dropped).  The sequence number alone is not enough: after a
 * restart a new held-back message may have the number of one emitted
 * before, so the message itself must be the same.
 */
static struct held *
held_of(const struct track *t, const struct owner *o)
{
	unsigned char k[8];
	struct held *h;

	track_seqkey(o->seq, k);
	if ((h = hmap_get_h(t->held_seq, track_seqhash(o->seq), k, sizeof(k))) == NULL ||
	    h->msg.time_us != o->msg.time_us || strcmp(h->msg.queue_id, o->msg.queue_id) != 0 ||
	    strcmp(h->msg.host, o->msg.host) != 0)
		return (NULL);
	return (h);
}

/* track_pend_add - keep one outcome on h, bounded (see the top); -1 on ENOMEM */
int
track_pend_add(struct held *h, int status, long n, int64_t time_us)
{
	struct pend *p;
	size_t i;

	if (h->npend > 0 && h->pend[h->npend - 1].status == status &&
	    h->pend[h->npend - 1].t == time_us) {
		h->pend[h->npend - 1].n += n;
		return (0);
	}
	if (h->npend >= TRACK_PEND_MAX) {
		for (i = h->npend; i > 0; i--)
			if (h->pend[i - 1].status == status) {
				h->pend[i - 1].n += n;
				return (0);
			}
		/* all of other statuses: the newest takes it, with its status */
		h->pend[h->npend - 1].n += n;
		return (0);
	}
	if ((p = realloc(h->pend, (h->npend + 1) * sizeof(*p))) == NULL)
		return (-1);
	h->pend = p;
	h->pend[h->npend].t = time_us;
	h->pend[h->npend].status = status;
	h->pend[h->npend].n = n;
	h->npend++;
	return (0);
}

/* track_deliver - n recipients of owner o had status at time_us; see track_priv.h */
void
track_deliver(struct track *t, const struct owner *o, int status, long n, int64_t time_us)
{
	struct held *h;
	int depth;

	for (depth = 0; o != NULL && depth < OWN_DEPTH; depth++) {
		if (o->kind != OWN_HELD || (h = held_of(t, o)) == NULL) {
			/* counted, or held back and emitted since: counted as o says */
			emit(t, &o->msg, status, n, time_us);
			return;
		}
		if (!h->reinject) {
			if (track_pend_add(h, status, n, time_us) == 0)
				track_mark_held(t, h);
			return;
		}
		o = h->fwd; /* a copy: its outcomes are its original's */
	}
}

/* track_pend_flush - h's waiting outcomes out as h's own (self) or to o; see track_priv.h */
void
track_pend_flush(struct track *t, struct held *h, const struct owner *o, int self)
{
	struct pend *p = h->pend;
	size_t i, n = h->npend;

	if (n == 0)
		return;
	h->pend = NULL;
	h->npend = 0;
	track_mark_held(t, h);
	for (i = 0; i < n; i++) {
		if (self)
			emit(t, &h->msg, p[i].status, p[i].n, p[i].t);
		else
			track_deliver(t, o, p[i].status, p[i].n, p[i].t);
	}
	free(p);
}
