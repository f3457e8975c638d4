/*
 * test_track_pool - the tracker's kept blocks (count/track.c,
 * track_block and track_unblock; count/track_priv.h): a freed block comes
 * back zeroed for a size of its class, never for a larger one, whatever
 * allocated it; at most TRACK_POOL_KEEP are kept per class; a block of
 * track_block() can be given to free() too; and a day of a busy log goes
 * through with the same messages counted as before (the blocks reused
 * under ASan, which sees any write past what a block holds).
 */
#include <criterion/criterion.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hmap.h"
#include "count/track.h"
#include "count/track_priv.h"

static void
no_emit(void *ctx, const struct track_msg *m)
{
	(void)m;
	(*(int *)ctx)++;
}

Test(track_pool, freed_blocks_come_back_zeroed_in_their_class)
{
	int n = 0;
	struct track *t = track_new(0, no_emit, &n);
	unsigned char *a, *b, *c;
	void *odd;

	cr_assert_not_null(t);
	a = track_block(t, 100); /* class of 128 bytes */
	cr_assert_not_null(a);
	cr_expect_geq(malloc_usable_size(a), 128, "a block is its whole class");
	memset(a, 0xa5, 128);
	track_unblock(t, a);
	b = track_block(t, 120);
	cr_expect_eq(b, a, "the kept block was not given again");
	for (size_t i = 0; i < 120; i++)
		cr_assert_eq(b[i], 0, "byte %zu of a kept block not zeroed", i);
	/* a block of plain malloc that holds less than a class is kept in the one below */
	odd = malloc(100);
	cr_assert_not_null(odd);
	track_unblock(t, odd);
	c = track_block(t, 128);
	cr_expect_neq(c, odd, "a block that holds %zu bytes given for 128",
	    malloc_usable_size(odd));
	track_unblock(t, c);
	free(b); /* a block of track_block() is malloc's */
	track_free(t);
}

Test(track_pool, keeps_a_bounded_number)
{
	int n = 0;
	struct track *t = track_new(0, no_emit, &n);
	void *p[TRACK_POOL_KEEP + 20];
	size_t i;

	cr_assert_not_null(t);
	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		cr_assert_not_null(p[i] = track_block(t, 64));
	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		track_unblock(t, p[i]);
	cr_expect_eq(t->npool[0], TRACK_POOL_KEEP, "%u kept", t->npool[0]);
	track_free(t); /* ASan's leak check: the kept ones are freed */
}

/* event - a parsed line of kind k for queue ID q */
static struct pf_event
event(enum pf_kind k, const char *q, const char *login)
{
	struct pf_event e;

	memset(&e, 0, sizeof(e));
	e.hdr = PF_HDR_ISO;
	e.kind = k;
	e.host = (struct pf_str){ "mx", 2 };
	e.instance = (struct pf_str){ "postfix", 7 };
	e.queue_id = (struct pf_str){ q, strlen(q) };
	e.uid = -1;
	e.nrcpt = k == PF_ACTIVE ? 1 : -1;
	e.size = -1;
	if (k == PF_CLIENT) {
		e.client_ip = (struct pf_str){ "192.0.2.1", 9 };
		if (login != NULL)
			e.sasl_username = (struct pf_str){ login, strlen(login) };
	}
	if (k == PF_ACTIVE)
		e.sender = (struct pf_str){ "a@example.com", 13 };
	if (k == PF_DELIVERY)
		e.status = (struct pf_str){ "sent", 4 };
	return (e);
}

Test(track_pool, messages_through_reused_blocks)
{
	int n = 0;
	struct track *t = track_new(0, no_emit, &n);
	char q[32], login[64];
	int i;

	cr_assert_not_null(t);
	for (i = 0; i < 20000; i++) {
		struct pf_event c, a, d, r;

		snprintf(q, sizeof(q), "%08X", i);
		/* logins of many lengths: blocks of several classes */
		snprintf(login, sizeof(login), "%.*s@example.com", 1 + i % 40,
		    "userxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		c = event(PF_CLIENT, q, i % 3 == 0 ? NULL : login);
		a = event(PF_ACTIVE, q, NULL);
		d = event(PF_DELIVERY, q, NULL);
		r = event(PF_REMOVED, q, NULL);
		track_event(t, &c, (int64_t)i * 1000000);
		track_event(t, &a, (int64_t)i * 1000000 + 1);
		track_event(t, &d, (int64_t)i * 1000000 + 2);
		track_event(t, &r, (int64_t)i * 1000000 + 3);
	}
	track_finish(t);
	cr_expect_eq(n, 20000, "%d counted", n);
	cr_expect_eq(track_size(t), 0);
	track_free(t);
}

/*
 * An expectation and a held-back message keep their link key's hash for
 * their removal, and the bytes they count are the ones they counted before
 * they kept it (max_tracked_bytes evicts where it did): 56 bytes for an
 * expectation's struct beside its key and entry, and a held-back message
 * no larger than its 152 bytes.
 */
Test(track_pool, link_hashes_kept_bytes_unchanged)
{
	static const char lk[] = "mail\0QID1"; /* host \0 qid */
	int n = 0;
	struct track *t = track_new(1 << 20, no_emit, &n);
	struct expect *e;
	struct held *h, *h2;
	size_t before;

	cr_assert_not_null(t);
	e = track_expect_add(t, lk, sizeof(lk) - 1, 1000000, INT64_MIN);
	cr_assert_not_null(e);
	cr_expect_eq(e->hash, hmap_hash(lk, sizeof(lk) - 1), "the expectation's hash");
	cr_expect_eq(track_bytes(t), 56 + 2 * (sizeof(lk) + TRACK_ALLOC_BYTES) + TRACK_SLOT_BYTES,
	    "an expectation counts %zu bytes", track_bytes(t));
	before = track_bytes(t);
	h = track_held_add(t, 1, 1000000, 1000000, "mail", "postfix", "QID2", NULL, 0, NULL, 1, 0,
	    0);
	cr_assert_not_null(h);
	cr_expect_eq(h->linkhash, hmap_hash("mail\0QID2", 9), "hashed when not given");
	cr_expect_eq(sizeof(struct held), 152, "struct held grew: its cost would change");
	cr_expect_eq(track_bytes(t) - before, h->cost);
	h2 = track_held_add(t, 2, 1000000, 1000000, "mail", "postfix", "QID3", NULL, 0, NULL, 1, 0,
	    hmap_hash("mail\0QID3", 9));
	cr_assert_not_null(h2);
	cr_expect_eq(h2->linkhash, hmap_hash("mail\0QID3", 9), "the hash given");
	cr_expect_eq(track_held(t), 2);
	track_flush(t, INT64_MAX); /* both emitted: out of held_ix by their kept hashes */
	cr_expect_eq(track_held(t), 0);
	cr_expect_eq(hmap_count(t->held_ix), 0, "a held-back message left in held_ix");
	track_expect_expire(t, INT64_MAX, 1);
	cr_expect_eq(hmap_count(t->expect), 0, "an expectation left in its table");
	cr_expect_eq(track_bytes(t), 0);
	cr_expect_eq(n, 2);
	track_free(t);
}
