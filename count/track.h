/*
 * NAME
 *	track - queue-ID correlation: Postfix events -> accepted messages
 * SUMMARY
 *	track_event() takes parsed events in log order.  smtpd "client=" and
 *	pickup "uid=" lines open a message record keyed by (host, instance,
 *	queue ID); the first qmgr "(queue active)" line completes it and the
 *	message is emitted once through the callback; "removed" ends the
 *	record (queue IDs are reused).  Retries of deferred mail, content-
 *	filter re-injections (linked by "queued as" in either line order, or
 *	by orig_queue_id / orig_client), postsuper -r requeues (orig_id=),
 *	bounces and forwarded copies (no client/pickup line) are not emitted,
 *	nor is mail that root submits with the null sender through pickup
 *	(how sendguard sends its own notices, so they never count).
 *
 *	An unauthenticated smtpd message may be a re-injection whose
 *	hand-off line ("queued as QID") is logged after it, even after its
 *	"removed".  Such a message is held back for TRACK_LINK_WINDOW of log
 *	time before it is emitted (or dropped when a hand-off names it).
 *	Authenticated (sasl) and pickup messages are emitted at once.
 *	A copy is never older than its original: a message with the named
 *	queue ID that was received (client= line) before the original was is
 *	an earlier, unrelated holder of that reused ID, never taken for the
 *	copy, and the hand-off keeps waiting for the real one.
 *
 *	The tracker is bounded by bytes: what its records, held-back messages
 *	and hand-off expectations hold (with their share of the indexes) is
 *	counted, and past max_bytes the oldest records are evicted first,
 *	then the oldest expectations, then the oldest held-back messages
 *	(emitted at once: they count, only their link window is cut short),
 *	each counted in stats.evicted.  A 1 KiB login costs its bytes, not
 *	one entry.  Records older than TRACK_MAX_AGE (longer than Postfix's
 *	default maximal_queue_lifetime) are dropped too.  stats.dropped
 *	counts the records dropped either way.  Ages are measured on the
 *	tracker's clock, the newest log time it was given: the pipeline never
 *	gives it a future-dated line's time.
 * UNTRUSTED INPUT
 *	Every string of the event.  Identities are folded to lower case.
 */
#ifndef SG_TRACK_H
#define SG_TRACK_H

#include <stddef.h>
#include <stdint.h>

#include "parsers/pf.h"

#define TRACK_LINK_WINDOW_US (30LL * 1000000)    /* 30 s */
#define TRACK_MAX_AGE_US (6LL * 86400 * 1000000) /* 6 days */

/* One accepted message.  Strings are valid only during the callback. */
struct track_msg {
	int64_t time_us; /* its first (queue active) line */
	const char *host, *instance, *queue_id;
	const char *sasl;      /* lower case; NULL when not authenticated */
	const char *sender;    /* lower case; NULL for the null sender */
	const char *client_ip; /* lower case; NULL for pickup */
	long uid;              /* -1 unless pickup */
	long nrcpt;
	int removed; /* 1: already removed when emitted (held back) */
};

struct track_stats {
	uint64_t counted;      /* messages emitted */
	uint64_t retries;      /* later (queue active) lines of a counted message */
	uint64_t reinjections; /* content-filter copies not counted */
	uint64_t requeues;     /* postsuper -r copies not counted */
	uint64_t
	    orphans; /* (queue active) without a client/pickup line: bounces, forwards, before the log */
	uint64_t dropped; /* records dropped by age or by the byte cap */
	uint64_t evicted; /* records, expectations and held-back messages evicted by the byte cap */
	uint64_t own;     /* root's null-sender mail through pickup: sendguard's notices */
};

/* A delivery agent's word on one recipient: status=sent, deferred or bounced. */
enum track_status { TRACK_SENT = 0, TRACK_DEFERRED, TRACK_BOUNCED, TRACK_STATUS_COUNT };

/*
 * One delivery outcome of a counted message.  msg is the message as it
 * was counted (for a content-filter copy or a requeue: the original it was
 * made from), time_us the delivery line's time, n its recipients (1 a
 * line).  Strings are valid only during the callback.
 */
struct track_outcome {
	const struct track_msg *msg;
	enum track_status status;
	long n;
	int64_t time_us;
};

typedef void (*track_emit_fn)(void *ctx, const struct track_msg *);
typedef void (*track_outcome_fn)(void *ctx, const struct track_outcome *);
/* a counted message's queue file is gone ("removed") */
typedef void (*track_removed_fn)(void *ctx, const char *host, const char *instance,
    const char *queue_id, int64_t time_us);

struct track;

#define TRACK_DEFAULT_BYTES ((size_t)64 * 1024 * 1024) /* max_tracked_bytes */
#define TRACK_KEY_MAX 512 /* a record key's buffer (track_key): a longer key is none */

/* track_new - NULL on ENOMEM.  max_bytes 0 means TRACK_DEFAULT_BYTES. */
struct track *track_new(size_t max_bytes, track_emit_fn emit, void *ctx);
void track_free(struct track *);

/*
 * track_event - feed one parsed line whose resolved time is time_us; the
 * event's hint, when not 0, is its track_key_hash(), and its hint_key,
 * when not NULL, the track_key() that is the hash of
 */
void track_event(struct track *, const struct pf_event *, int64_t time_us);
/*
 * track_key_hash - the hash of the tracker's key of a parsed line (host,
 * instance, queue ID), 0 for a line the tracker does not look up: work
 * track_event() would do, for a reader thread to do instead (it uses no
 * tracker).  The process's hash key must be drawn before two threads hash
 * (count/prefetch.c does it before its thread starts).
 */
uint64_t track_key_hash(const struct pf_event *);
/*
 * track_key - the tracker's key of a parsed line into buf (len bytes): its
 * length, 0 for a line the tracker does not look up or a key of len bytes
 * or more (track_key_hash() is the hmap_hash of these bytes)
 */
size_t track_key(const struct pf_event *, char *buf, size_t len);

/*
 * track_flush - emit held-back messages accepted at or before
 * now_us - TRACK_LINK_WINDOW_US; INT64_MAX emits all (the daemon's idle
 * log).
 */
void track_flush(struct track *, int64_t now_us);
/*
 * track_finish - the end of the input: emit every held-back message and
 * end every hand-off expectation (its status=sent lines, which no copy
 * claimed, are deliveries)
 */
void track_finish(struct track *);

const struct track_stats *track_stats(const struct track *);
size_t track_size(const struct track *);  /* records (queue IDs in flight) */
size_t track_held(const struct track *);  /* messages held back now */
size_t track_bytes(const struct track *); /* what the byte cap counts, now */

/*
 * Persistence for the daemon.  Namespaces of the saved state: */
#define TRACK_NS_REC 1    /* open records, key host \0 instance \0 qid */
#define TRACK_NS_HELD 2   /* held-back messages, key an 8-byte sequence */
#define TRACK_NS_EXPECT 3 /* hand-off expectations, key host \0 qid */
#define TRACK_NS_LOG 4    /* the changes of a commit, key its 8-byte sequence number */

struct track_persist_ops {
	int (*put)(void *ctx, int ns, const void *key, size_t klen, const void *val, size_t vlen);
	int (*del)(void *ctx, int ns, const void *key, size_t klen);
};

/* track_set_removed - report the removal of counted messages (the daemon) */
void track_set_removed(struct track *, track_removed_fn, void *ctx);
/* track_set_outcome - report the delivery outcomes of counted messages */
void track_set_outcome(struct track *, track_outcome_fn, void *ctx);

/* track_keep_dirty - note changes for track_persist() (off by default) */
void track_keep_dirty(struct track *, int on);
/*
 * track_persist - write the net changes since the last call through ops
 * (inside the caller's transaction, with the log's position): one
 * TRACK_NS_LOG row of them, and the rows old enough folded into the
 * entries of namespaces 1 to 3 (count/track_log.c says how).  0, or -1
 * when an op failed or memory ran out: what was saved is then unknown to
 * the tracker, so the caller rolls back and stops (or forgets and reloads).
 * To restore, first apply every TRACK_NS_LOG row in key order with
 * track_log_apply() and delete it, then track_restore() namespaces 1 to 3.
 */
int track_persist(struct track *, const struct track_persist_ops *, void *ctx);
/*
 * track_log_apply - apply one saved TRACK_NS_LOG row through ops: 0, -1
 * for a malformed row (nothing applied), -2 when an op failed
 */
int track_log_apply(const void *row, size_t n, const struct track_persist_ops *ops, void *ctx);
/* track_log_lag - fold a log row when it is lag commits old (default 40; 0: at once) */
int track_log_lag(struct track *, int lag);
/* track_forget_dirty - drop the noted changes and pending log keys (after a rollback, to reload) */
void track_forget_dirty(struct track *);
/* track_restore - add one saved entry at start-up; -1 for a malformed one */
int track_restore(struct track *, int ns, const void *key, size_t klen, const void *val,
    size_t vlen);

#endif
