/*
 * NAME
 *	track_expect - the tracker's expectations (count/track.c's third structure)
 * SUMMARY
 *	A hand-off line ("queued as NEWID") that names a queue ID no message
 *	has yet leaves an expectation under (host, NEWID): the copy, when its
 *	client= or (queue active) line comes within the link window, takes
 *	its owner (track_expect_take, track_expect_owner), and an expectation
 *	no copy claimed ends as the deliveries of its status=sent lines
 *	(track_expect_pop).  FIFO by time, in t->expect by key; each carries
 *	its key's hash for its removal.  Split from track.c, which calls
 *	these from its event handlers, its eviction and track_free().
 * RETURNS
 *	See track_priv.h; never prints, never exits.
 * UNTRUSTED INPUT
 *	Keys (host \0 qid) from the log, copied with their lengths.
 */
#include <stdint.h>
#include <string.h>

#include "util/hmap.h"
#include "count/track_priv.h"

/*
 * track_expect_pop - forget the oldest expectation; with deliver, its change is
 * noted and its status=sent hand-off lines that no copy claimed are
 * deliveries of their original's message (a remote server's "queued
 * as", a forward)
 */
void
track_expect_pop(struct track *t, int deliver)
{
	struct expect *e = t->ehead;

	t->ehead = e->next;
	if (t->ehead == NULL)
		t->etail = NULL;
	if (hmap_get_h(t->expect, e->hash, e->key, e->n) == e) {
		hmap_del_h(t->expect, e->hash, e->key, e->n);
		if (deliver)
			track_mark(t, TRACK_NS_EXPECT, e->key, e->n);
	}
	if (deliver && e->sent > 0)
		track_deliver(t, e->own, TRACK_SENT, e->sent, e->time_us);
	t->bytes -= e->cost;
	track_unblock(t, e->own);
	track_unblock(t, e);
}

/* track_expect_expire - forget expectations older than twice the link window (INT64_MAX: all) */
void
track_expect_expire(struct track *t, int64_t now, int deliver)
{
	while (t->ehead != NULL &&
	    (now == INT64_MAX || t->ehead->time_us < now - 2 * TRACK_LINK_WINDOW_US))
		track_expect_pop(t, deliver);
}

/*
 * track_expect_take - the expectation when a hand-off named (host, qid; lh
 * its hash, 0: not hashed yet) within
 * the link window and the message with that ID received at recv_us may be
 * its copy, else NULL.  The expectation is used up then: its sent lines
 * were the hand-off, not deliveries, and the caller may take its owner
 * (it stays in the FIFO until it expires).  An older message keeps it
 * open for the real copy.
 */
struct expect *
track_expect_take(struct track *t, const char *lk, size_t ln, uint64_t lh, int64_t recv_us,
    int64_t now)
{
	uint64_t h = lh;
	struct expect *e;

	if (hmap_count(t->expect) == 0)
		return (NULL); /* nothing to hash the key for */
	if (h == 0)
		h = hmap_hash(lk, ln);
	e = hmap_get_h(t->expect, h, lk, ln);

	if (e == NULL || !track_may_be_copy(recv_us, e->orig_us))
		return (NULL);
	(void)hmap_del_h(t->expect, h, lk, ln);
	track_mark(t, TRACK_NS_EXPECT, lk, ln);
	if (now - e->time_us > 2 * TRACK_LINK_WINDOW_US)
		return (NULL);
	e->sent = 0;
	return (e);
}

/* track_expect_owner - the owner of a used-up expectation e, taken over; NULL when none */
struct owner *
track_expect_owner(struct track *t, struct expect *e)
{
	struct owner *o = e->own;
	size_t c = track_own_cost(o);

	e->cost -= c;
	t->bytes -= c;
	e->own = NULL;
	return (o);
}

/* track_expect_add_h - track_expect_add with the key's hash lh given */
struct expect *
track_expect_add_h(struct track *t, const char *lk, size_t ln, uint64_t lh, int64_t now,
    int64_t orig_us)
{
	struct expect *e;
	void *old;

	if ((e = track_block(t, sizeof(*e) + ln + 1)) == NULL)
		return (NULL);
	e->cost = TRACK_EXPECT_BYTES + 2 * (ln + 1 + TRACK_ALLOC_BYTES) + TRACK_SLOT_BYTES;
	memcpy(e->key, lk, ln);
	e->n = ln;
	e->hash = lh;
	e->time_us = now;
	e->orig_us = orig_us;
	/* an older one with this key stays in the FIFO until it expires */
	if (hmap_put_ref_h(t->expect, lh, e->key, ln, e, &old) < 0) {
		track_unblock(t, e);
		return (NULL);
	}
	t->bytes += e->cost;
	if (t->etail)
		t->etail->next = e;
	else
		t->ehead = e;
	t->etail = e;
	track_mark_born(t, TRACK_NS_EXPECT, lk, ln, old == NULL);
	return (e);
}

/*
 * track_expect_add - remember that a hand-off at time now named (host, qid) as
 * the copy of an original received at orig_us; NULL on ENOMEM
 */
struct expect *
track_expect_add(struct track *t, const char *lk, size_t ln, int64_t now, int64_t orig_us)
{
	return (track_expect_add_h(t, lk, ln, hmap_hash(lk, ln), now, orig_us));
}
