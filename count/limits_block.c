/*
 * NAME
 *	limits_block - the blocks of the limits: re-arming, repeat offenders
 *	(see limits.h)
 * SUMMARY
 *	Blocks are kept per identity (struct lblock, for identities blocked
 *	lately): a re-arm bumps the block's epoch and moves its armed time;
 *	each (rule, identity) state notices the new epoch at its next message
 *	and clears its "over" marks, and every window's lower bound is at
 *	least the armed time.  A record is dropped once its identity is not
 *	blocked and its last block ended before every window can reach
 *	(limits_blk_sweep); how many times it was blocked, for
 *	block_time_factor, is then asked of the times source (the daemon's
 *	store, which records every block) or kept in a compact identity ->
 *	count table (monitor mode, audit).  The records are counted per
 *	kind of identity (nblk): a message's identity of a kind with none
 *	is not looked up (limits.c, idents_of).
 * RETURNS
 *	As limits.h; never prints or exits.
 * UNTRUSTED INPUT
 *	Identities from the log: map keys under util/hmap's keyed hash.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "count/limits_priv.h"

/* what a block record, and an entry of the counts table, cost beside their key, about */
#define BLK_PER (sizeof(struct lblock) + LIMITS_HMAP_SLOT + 2 * LIMITS_MALLOC_OVH)
#define COUNT_PER (sizeof(long) + LIMITS_HMAP_SLOT + 2 * LIMITS_MALLOC_OVH)

struct lblock *
limits_blk_get(const struct limits *l, const char *ident)
{
	size_t n;

	if (hmap_count(l->blocks) == 0)
		return (NULL);
	n = strlen(ident);
	return (limits_blk_get_h(l, ident, n, hmap_hash(ident, n)));
}

/* blk_kind - the kind (enum conf_by) of identity key (n bytes), BY_COUNT for none */
static int
blk_kind(const char *key, size_t n)
{
	int k;

	for (k = 0; k < BY_COUNT; k++) {
		const char *w = conf_by_name((enum conf_by)k);
		size_t wn = strlen(w);

		if (n > wn && key[wn] == ':' && memcmp(key, w, wn) == 0)
			return (k);
	}
	return (BY_COUNT);
}

/* limits_blk_may - see limits_priv.h */
int
limits_blk_may(const struct limits *l, int k)
{
	return (l->nblk[k] > 0 || l->nblk[BY_COUNT] > 0);
}

/* limits_blk_get_h - limits_blk_get with ident's length and hmap_hash given */
struct lblock *
limits_blk_get_h(const struct limits *l, const char *ident, size_t n, uint64_t h)
{
	if (hmap_count(l->blocks) == 0)
		return (NULL);
	return (hmap_get_h(l->blocks, h, ident, n));
}

/* blk_rearm - the block ends at log time at: its identity's limits re-arm */
static void
blk_rearm(struct lblock *b, int64_t at)
{
	b->active = 0;
	if (at > b->armed)
		b->armed = at;
	b->epoch++;
}

void
limits_blk_expire(struct lblock *b, int64_t t)
{
	if (b->active && b->until != 0 && t >= b->until)
		blk_rearm(b, b->until);
}

int64_t
limits_armed_at(const struct lblock *b, int64_t t)
{
	if (b == NULL)
		return (INT64_MIN);
	if (b->active && b->until != 0 && t >= b->until && b->until > b->armed)
		return (b->until);
	return (b->armed);
}

/* count_put - times into the counts table for identity key (n bytes); -1 on ENOMEM */
static int
count_put(struct limits *l, const char *key, size_t n, long times)
{
	void **slot;
	int added;

	if ((slot = hmap_get_or_add(l->counts, key, n, &added)) == NULL)
		return (-1);
	if (added && (*slot = malloc(sizeof(long))) == NULL) {
		hmap_del(l->counts, key, n);
		return (-1);
	}
	*(long *)*slot = times;
	return (0);
}

struct bsweep {
	struct limits *l;
	int64_t horizon; /* now - LIMITS_SLACK_US */
};

/* drop_block - hmap_sweep: forget the record of an identity no window can reach any more */
static int
drop_block(void *ctx, const char *key, size_t n, void *val)
{
	const struct bsweep *w = ctx;
	struct limits *l = w->l;
	struct lblock *b = val;
	int64_t ended = b->active ? b->until : b->armed;

	if ((b->active && (b->until == 0 || b->until > w->horizon)) ||
	    (ended != INT64_MIN && ended > w->horizon - l->maxw))
		return (0);
	if (l->times == NULL && b->times > 0 && count_put(l, key, n, b->times) < 0)
		return (0); /* out of memory: keep the record */
	free(b);
	l->nblk[blk_kind(key, n)]--;
	return (1);
}

void
limits_blk_sweep(struct limits *l, int64_t now)
{
	struct bsweep w = { l, now - LIMITS_SLACK_US };

	if (now != INT64_MIN) {
		l->gen = limits_gen(); /* a struct limits_ref may point at one that goes */
		hmap_sweep(l->blocks, drop_block, &w);
	}
}

int
limits_sum_cb(void *ctx, const char *key, size_t n, void *val)
{
	struct limits_sum *sum = ctx;

	(void)key;
	(void)val;
	sum->bytes += 2 * (n + 1) + sum->per;
	return (0);
}

size_t
limits_blk_bytes(const struct limits *l)
{
	struct limits_sum blk = { 0, BLK_PER }, cnt = { 0, COUNT_PER };

	hmap_each(l->blocks, limits_sum_cb, &blk);
	hmap_each(l->counts, limits_sum_cb, &cnt);
	return (blk.bytes + cnt.bytes);
}

size_t
limits_blocks(const struct limits *l)
{
	return (hmap_count(l->blocks));
}

void
limits_set_times(struct limits *l, long (*fn)(void *, const char *), void *ctx)
{
	l->times = fn;
	l->times_ctx = ctx;
}

int64_t
limits_block_time(const struct conf_rule *r, long times)
{
	double d;

	if (r == NULL || r->block_time <= 0)
		return (0);
	d = (double)r->block_time * pow(r->block_time_factor, (double)(times > 1 ? times - 1 : 0));
	if (d > 10.0 * 365 * 86400)
		d = 10.0 * 365 * 86400;
	return ((int64_t)d * 1000000);
}

/*
 * blk_add - the block state of ident, created on first use (not blocked,
 * nothing cut, with the count of a dropped record of it)
 */
static struct lblock *
blk_add(struct limits *l, const char *ident)
{
	size_t n = strlen(ident);
	void **slot;
	long *t;
	int added;

	if ((slot = hmap_get_or_add(l->blocks, ident, n, &added)) == NULL)
		return (NULL);
	if (added) {
		struct lblock *b = calloc(1, sizeof(*b));

		if (b == NULL) {
			hmap_del(l->blocks, ident, n);
			return (NULL);
		}
		b->armed = INT64_MIN;
		l->nblk[blk_kind(ident, n)]++;
		l->gen = limits_gen(); /* a struct limits_ref may know it has none */
		if (hmap_count(l->counts) > 0 && (t = hmap_del(l->counts, ident, n)) != NULL) {
			b->times = *t;
			free(t);
		}
		*slot = b;
	}
	return (*slot);
}

long
limits_block(struct limits *l, const char *identity, int64_t from, int64_t dur)
{
	struct lblock *b;

	if ((b = blk_add(l, identity)) == NULL)
		return (-1);
	limits_blk_expire(b, from);
	if (b->active)
		return (b->times);
	b->active = 1;
	b->until = dur > 0 ? from + dur : 0;
	return (++b->times);
}

void
limits_unblock(struct limits *l, const char *identity, int64_t at)
{
	struct lblock *b = limits_blk_get(l, identity);

	if (b != NULL && b->active)
		blk_rearm(b, at);
}

int
limits_blocked(struct limits *l, const char *identity, int64_t t)
{
	const struct lblock *b = limits_blk_get(l, identity);

	return (b != NULL && b->active && (b->until == 0 || t < b->until));
}

long
limits_block_count(struct limits *l, const char *identity)
{
	const struct lblock *b;
	const long *t;

	if (l->times != NULL)
		return (l->times(l->times_ctx, identity));
	if ((b = limits_blk_get(l, identity)) != NULL)
		return (b->times);
	if (hmap_count(l->counts) == 0 ||
	    (t = hmap_get(l->counts, identity, strlen(identity))) == NULL)
		return (0);
	return (*t);
}

int
limits_restore_block(struct limits *l, const char *identity, long times, int active, int64_t until,
    int64_t armed)
{
	struct lblock *b;

	if ((b = blk_add(l, identity)) == NULL)
		return (-1);
	b->times = times;
	b->active = active;
	b->until = active ? until : 0;
	b->armed = armed;
	b->epoch++;
	return (0);
}

static int
copy_cb(void *ctx, const char *key, size_t n, void *val)
{
	struct limits *dst = ctx;
	const struct lblock *src = val;
	void **slot;
	int added;
	struct lblock *b;

	if ((slot = hmap_get_or_add(dst->blocks, key, n, &added)) == NULL)
		return (1);
	if (added && (*slot = calloc(1, sizeof(struct lblock))) == NULL) {
		hmap_del(dst->blocks, key, n);
		return (1);
	}
	if (added) {
		dst->nblk[blk_kind(key, n)]++;
		dst->gen = limits_gen(); /* as blk_add */
	}
	b = *slot;
	*b = *src;
	b->epoch++;
	return (0);
}

/* copy_count_cb - hmap_each: one count of a dropped record into dst */
static int
copy_count_cb(void *ctx, const char *key, size_t n, void *val)
{
	return (count_put(ctx, key, n, *(const long *)val) < 0);
}

int
limits_copy_blocks(struct limits *dst, const struct limits *src)
{
	if (src->clock > dst->clock)
		dst->clock = src->clock;
	return (hmap_each(src->blocks, copy_cb, dst) != 0 ||
		    hmap_each(src->counts, copy_count_cb, dst) != 0
		? -1
		: 0);
}
