/*
 * NAME
 *	limits_priv - what count/limits.c and count/limits_block.c share (private)
 * SUMMARY
 *	struct limits and the block record of an identity (struct lblock):
 *	limits.c counts the windows and frees the states they left behind,
 *	limits_block.c keeps the blocks, drops the records no window can
 *	reach and keeps a repeat offender's count.  Nothing outside these
 *	two files includes it.
 * RETURNS
 *	As limits.h; never prints or exits.
 * UNTRUSTED INPUT
 *	Identities from the log, as map keys (util/hmap: keyed hash).
 */
#ifndef SG_LIMITS_PRIV_H
#define SG_LIMITS_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "count/clients.h"
#include "count/limits.h"
#include "util/hmap.h"

#define LIMITS_HMAP_SLOT ((size_t)48)  /* what one util/hmap entry costs beside its key, about */
#define LIMITS_MALLOC_OVH ((size_t)16) /* what one allocation costs beside its bytes, about */

/* The block state of one identity. */
struct lblock {
	int64_t until;  /* log time the block ends; 0: until unblocked */
	int64_t armed;  /* only messages at or after this count; INT64_MIN: all */
	long times;     /* blocks so far */
	unsigned epoch; /* bumped at each re-arm */
	int active;
};

struct limits {
	const struct conf *conf;
	struct hmap *states; /* "ruleindex\0identity" -> struct lstate */
	struct hmap *blocks; /* identity -> struct lblock */
	/* how many of them are of each kind (limits_blk_kind), [BY_COUNT] of none */
	size_t nblk[BY_COUNT + 1];
	struct hmap *counts;     /* identity -> long times (allocated), of dropped records */
	struct hmap *senders;    /* sender -> struct sname */
	struct hmap *addrs;      /* client address (16 bytes) -> struct sname */
	struct clients *clients; /* identity -> its client addresses */
	int64_t maxw;            /* longest window of any rule, microseconds */
	int64_t clock;           /* the windows' clock: the newest time seen (INT64_MIN: none) */
	size_t swept_left;       /* states and records the last sweep left */
	uint64_t id;             /* its number (struct limits_ref's owner) */
	uint64_t gen;            /* changed by a sweep and a new block record (struct limits_ref) */
	uint64_t *set;           /* scratch set for distinct IPs and senders */
	size_t setcap;
	char ips[CLIENTS_TEXT_MAX]; /* a verdict's addresses */
	void (*retire)(void *, const struct limits_peak *);
	void *retire_ctx;
	long (*times)(void *, const char *);
	void *times_ctx;
};

/* An envelope sender or a client address, interned: as many references as entries point at it. */
struct sname {
	size_t refs;
	size_t len;
	char s[];
};

/* limits_sname_get - s (n bytes) interned in map, one more reference; NULL on ENOMEM (count/limits_name.c) */
const struct sname *limits_sname_get(struct hmap *map, const char *s, size_t n);
/* limits_sname_put - one reference to sn (interned in map, NULL: none) less; the last frees it */
void limits_sname_put(struct hmap *map, const struct sname *sn);

/* limits_gen - a number no limits had as its id or gen before in this process */
uint64_t limits_gen(void);

/* limits_blk_get - the block state of ident, NULL when it was not blocked lately */
struct lblock *limits_blk_get(const struct limits *, const char *ident);
/* limits_blk_get_h - the same with ident's length n and its hmap_hash h */
struct lblock *limits_blk_get_h(const struct limits *, const char *ident, size_t n, uint64_t h);
/*
 * limits_blk_may - whether an identity of kind k (enum conf_by) may have a
 * block record: a look-up of one of a kind without any finds nothing
 */
int limits_blk_may(const struct limits *, int k);
/* limits_blk_expire - end b if its time ran out at log time t */
void limits_blk_expire(struct lblock *, int64_t t);
/* limits_armed_at - the armed time of b (NULL: INT64_MIN) as seen at log time t */
int64_t limits_armed_at(const struct lblock *, int64_t t);
/*
 * limits_blk_sweep - drop the records of identities not blocked whose
 * last block ended before every window ending at now - LIMITS_SLACK_US
 * begins; their counts go to the counts table unless a times source is set
 */
void limits_blk_sweep(struct limits *, int64_t now);
/*
 * A sum of what the entries of a util/hmap hold: each its key twice (the
 * map's copy and the value's, or the value's bytes) and per beside it.
 */
struct limits_sum {
	size_t bytes;
	size_t per;
};

/* limits_sum_cb - hmap_each: one entry of key n bytes into the struct limits_sum at ctx */
int limits_sum_cb(void *ctx, const char *key, size_t n, void *val);

/* limits_blk_bytes - what the block records and the counts table hold, about */
size_t limits_blk_bytes(const struct limits *);

#endif
