/*
 * NAME
 *	limits - exact sliding-window sums per (rule, identity)
 * SUMMARY
 *	limits_message() adds one accepted message to every rule that applies
 *	to one of its identities (by = sasl|uid|sender|ip|sasl_domain|
 *	sender_domain, match globs, [exempt] skipped) and, for each window of
 *	the rule, computes over the log's own timestamps the messages,
 *	recipients, distinct client IPs or distinct envelope senders (the
 *	null sender left out) in (t - W, t], where t is the message's time and
 *	only messages seen so far count.  limits_outcome() adds a bounce
 *	line's recipients to the bounces windows of the bounced message's
 *	identities, at the bounce line's time t.  When a value goes from at
 *	or below the threshold to above it, the message (or the bounce line)
 *	is an overrun and the verdict callback runs; the verdict names the
 *	client addresses the identity sent from in that window (count/
 *	clients.h keeps them, at most CLIENTS_MAX an identity).
 *	The peak value of each window and when it happened are kept for the
 *	report.  A message older than the newest one of its identity (clock
 *	skew, a late hand-off decision) is inserted in time order and judged
 *	by the same rule at the moment it is seen.  Distinct client IPs are
 *	distinct addresses (parsed, IPv4 and IPv4-mapped IPv6 alike) and
 *	distinct senders distinct strings, compared exactly, never by a hash.
 *
 *	Bounded memory.  The windows' clock is the newest message (or bounce
 *	line) time seen, never the wall clock.  The state of a (rule,
 *	identity) whose windows are all empty at that clock, less
 *	LIMITS_SLACK_US for messages emitted late, is freed: its peaks go to
 *	the retire callback first (the report), and a later message starts a
 *	fresh one, with the same verdicts (an empty window has no "over" mark
 *	to keep).  The block record of an identity is dropped when it is not
 *	blocked and its last block ended longer ago than the longest window;
 *	how many times it was blocked (for block_time_factor) is then asked
 *	of the times source when one is set (the daemon's store), else kept
 *	in a compact identity -> count table.  A sweep runs when the states
 *	and records have doubled since the last one left them (SWEEP_MIN more
 *	at least), so at most about twice those inside the windows are held
 *	and a sweep costs O(1) a state: the memory follows the identities
 *	inside the windows, not those ever seen.
 *
 *	Blocks and re-arming.  The caller tells limits when an identity is
 *	blocked (limits_block, at the log time of the overrun or of a block
 *	by hand) and when a block ends by hand (limits_unblock).  While an
 *	identity is blocked no overrun of it is raised (all the overruns of
 *	the message that blocked it are).  A block with an end ends at the
 *	first message or count at or after that log time.  When a block ends,
 *	every limit of the identity re-arms: its windows count only messages
 *	at or after that moment, so it crosses again after `threshold` new
 *	messages.  limits itself never decides a block; the pipeline does, so
 *	that audit and the daemon decide alike.
 * RETURNS
 *	-1 on ENOMEM where an int is returned; never prints, never exits.
 * UNTRUSTED INPUT
 *	Identities and client IPs of messages (from the log): map keys under
 *	the keyed hash of util/hmap; an IP that does not parse counts as none.
 */
#ifndef SG_LIMITS_H
#define SG_LIMITS_H

#include <stdint.h>

#include "count/clients.h"
#include "count/conf.h"
#include "count/msgid.h"
#include "count/source.h"
#include "count/track.h"
#include "util/ident.h"

/* how late a message may come (held back by the tracker) and still find its state */
#define LIMITS_SLACK_US (2 * TRACK_LINK_WINDOW_US)

struct limits_verdict {
	const char *identity; /* "sasl:alice@example.com" */
	const struct conf_rule *rule;
	const struct conf_window *win;
	long count; /* value after this message */
	int64_t time_us;
	const char *queue_id; /* the message that crossed, or whose bounce did */
	const char
	    *ips; /* the identity's client IPs in the window: "a,b" ("": none), ",..." when cut */
	/* set by the pipeline before the verdict reaches enforcement: */
	int blocks;             /* 1: this overrun began a block */
	int64_t block_until_us; /* its end, log time; 0: until unblocked */
};

typedef void (*limits_verdict_fn)(void *ctx, const struct limits_verdict *);

/* One peak, for limits_each_peak(). */
struct limits_peak {
	const char *identity;
	const struct conf_rule *rule;
	const struct conf_window *win;
	long peak;
	int64_t at_us;
};

struct limits;

/* limits_new - the config must outlive the limits; NULL on ENOMEM */
struct limits *limits_new(const struct conf *);
void limits_free(struct limits *);

/* limits_ident - "kind:value" for message m and kind by into buf; NULL if m has none */
const char *limits_ident(const struct track_msg *, enum conf_by, char *buf, size_t len);

/*
 * limits_message - count m; returns the number of verdicts raised (cb
 * NULL: counts only, none raised), -1 on ENOMEM
 */
int limits_message(struct limits *, const struct track_msg *m, limits_verdict_fn cb, void *ctx);
/*
 * limits_message_ids - the same with m's identities made once by the
 * caller (count/msgid.h) and, in idh[k] where not 0, identity k's
 * hmap_hash (from report_message_ids); idh may be NULL
 */
int limits_message_ids(struct limits *, const struct track_msg *m, const struct msgid *ids,
    const uint64_t idh[BY_COUNT], limits_verdict_fn cb, void *ctx);

#define LIMITS_REF_RULES 8 /* rules whose state a struct limits_ref keeps */

/*
 * struct limits_ref - what the limits found of one identity, kept by the
 * caller beside it (the audit report's row of it; zeroed at first), so
 * that the identity's next message looks none of it up again: the state
 * of each of the first LIMITS_REF_RULES rules, the rules whose match list
 * refused it, its block record and its client addresses.  It belongs to
 * one limits (owner, a number of limits_new()); the states and the block
 * record are good until a sweep or a new block record (gen).
 */
struct limits_ref {
	uint64_t owner, gen;
	void *st[LIMITS_REF_RULES]; /* rule i's state; NULL: not noted */
	void *blk;                  /* the block record, when blk_known */
	unsigned nomatch;           /* 1 << i: rule i's match list refused the identity */
	int blk_known;
	struct clients_ref cl;
};

/*
 * limits_message_refs - limits_message_ids with, in ref[k] where not
 * NULL, what the caller keeps of identity k (struct limits_ref)
 */
int limits_message_refs(struct limits *, const struct track_msg *m, const struct msgid *ids,
    const uint64_t idh[BY_COUNT], struct limits_ref *const ref[BY_COUNT], limits_verdict_fn cb,
    void *ctx);

/*
 * limits_outcome - count a delivery outcome: a bounce goes to the bounces
 * windows of its message's identities (other outcomes count in no
 * window); returns the number of verdicts raised (cb NULL: none), -1 on
 * ENOMEM
 */
int limits_outcome(struct limits *, const struct track_outcome *o, limits_verdict_fn cb, void *ctx);

/*
 * limits_ips - the client IPs identity sent from within the longest window
 * of any rule ending at log time to_us, "a,b" (",..." when cut) into buf
 * (len at least CLIENTS_TEXT_MAX; "" for none); returns buf
 */
const char *limits_ips(struct limits *, const char *identity, int64_t to_us, char *buf, size_t len);

/* limits_each_peak - every (identity, rule, window) with a non-zero peak */
void limits_each_peak(struct limits *, void (*cb)(void *ctx, const struct limits_peak *),
    void *ctx);

/* One current value, for limits_each_count(). */
struct limits_count {
	const char *identity;
	const struct conf_rule *rule;
	const struct conf_window *win;
	long count; /* value in (now - W, now] */
};

/* limits_each_count - every (identity, rule, window) whose value at now_us is non-zero */
void limits_each_count(struct limits *, int64_t now_us,
    void (*cb)(void *ctx, const struct limits_count *), void *ctx);

/*
 * limits_block_time - how long the times-th block (1 = the first) of
 * rule r lasts, microseconds: block_time * block_time_factor^(times-1),
 * at most ten years; 0 for "until unblocked by hand" (block_time 0).
 */
int64_t limits_block_time(const struct conf_rule *r, long times);

/*
 * limits_block - identity is blocked from log time from_us for dur_us
 * (0: until limits_unblock).  Does nothing when it is blocked already.
 * Returns the number of blocks of the identity so far, -1 on ENOMEM.
 */
long limits_block(struct limits *, const char *identity, int64_t from_us, int64_t dur_us);
/*
 * limits_unblock - a block ended by hand at log time at_us: the identity's
 * limits re-arm (only messages at or after at_us count).  Does nothing
 * when the identity is not blocked.
 */
void limits_unblock(struct limits *, const char *identity, int64_t at_us);
/* limits_blocked - 1 when identity is blocked at log time t_us */
int limits_blocked(struct limits *, const char *identity, int64_t t_us);
/* limits_block_count - blocks of identity so far (0: never) */
long limits_block_count(struct limits *, const char *identity);
/*
 * limits_restore_block - at start-up, what the store knows: times blocked,
 * whether a block is in force (until_us its end, 0: none), and armed_us,
 * the end of its last block (INT64_MIN: none).  -1 on ENOMEM.
 */
int limits_restore_block(struct limits *, const char *identity, long times, int active,
    int64_t until_us, int64_t armed_us);
/*
 * limits_copy_blocks - the block states of src into dst (a reload), with
 * its table of dropped records' counts and its clock; -1 on ENOMEM
 */
int limits_copy_blocks(struct limits *dst, const struct limits *src);

/*
 * limits_prune - free the entries of every state whose windows are all
 * empty and every state and block record no longer needed at now_us, or
 * at the windows' clock (the newest message) when that is earlier: a wall
 * clock ahead of a lagging log must not free what its next lines still
 * count; and the client addresses of identities none of whose windows
 * reaches them
 */
void limits_prune(struct limits *, int64_t now_us);
/* limits_size - (rule, identity) states held */
size_t limits_size(const struct limits *);
/* limits_blocks - block records held (identities blocked lately) */
size_t limits_blocks(const struct limits *);
/* limits_bytes - bytes held by the states, their entries and the block records, about */
size_t limits_bytes(const struct limits *);
/* limits_clock - the windows' clock: the newest message time seen (INT64_MIN: none) */
int64_t limits_clock(const struct limits *);

/*
 * limits_set_retire - cb gets every non-zero peak of a state that is
 * freed, before it goes (the audit's report keeps them); NULL: dropped
 */
void limits_set_retire(struct limits *, void (*cb)(void *ctx, const struct limits_peak *),
    void *ctx);
/*
 * limits_set_times - where limits_block_count() asks how many times an
 * identity was blocked: fn (the daemon's store, which records every
 * block) instead of the records kept here; the compact table of dropped
 * records is then not kept.  NULL: the records and the table.
 */
void limits_set_times(struct limits *, long (*fn)(void *ctx, const char *identity), void *ctx);

#endif
