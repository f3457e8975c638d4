/*
 * NAME
 *	track_priv - what track.c, track_persist.c and track_log.c share (private)
 * SUMMARY
 *	The tracker's structures (records, held-back messages, expectations,
 *	struct track), the functions that rebuild them from saved state and
 *	the expectations' functions (track_expect.c).  Nothing outside
 *	count/track*.c includes it.
 * RETURNS
 *	As track.h; never prints or exits.
 * UNTRUSTED INPUT
 *	See track.h.
 */
#ifndef SG_TRACK_PRIV_H
#define SG_TRACK_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "count/source.h"
#include "count/track.h"

#define F_SMTPD 0x01    /* opened by smtpd client= */
#define F_PICKUP 0x02   /* opened by pickup uid= */
#define F_REINJECT 0x04 /* content-filter copy or requeue: never counted */
#define F_ACTIVE 0x08   /* first (queue active) seen */
#define F_REQUEUE 0x10
#define F_COUNTED 0x20 /* emitted: its removal is reported */

/*
 * The blocks of records, owners, held-back messages and expectations come
 * from track_block(): a block of up to TRACK_POOL_CLASSES * TRACK_POOL_STEP
 * bytes is allocated at its size rounded up to a multiple of the step, and
 * track_unblock() keeps up to TRACK_POOL_KEEP freed blocks of each such
 * size for the next track_block() (a queue ID's blocks live for seconds to
 * minutes: malloc's own caches kept too few of them, so most allocations
 * and frees took its slow path).  Each block is malloc's still: free() of
 * one (track_persist.c's error paths) is right too.
 */
#define TRACK_POOL_STEP ((size_t)64)
#define TRACK_POOL_CLASSES 8
#define TRACK_POOL_KEEP 128

/* What one entry of a util/hmap and one allocation cost beside their bytes, about. */
#define TRACK_SLOT_BYTES ((size_t)48)
#define TRACK_ALLOC_BYTES ((size_t)16)

/*
 * The owner of a queue file's deliveries: the counted message whose
 * outcomes they are.  That is the message itself, or, for a content-
 * filter copy or a postsuper -r requeue, the message it was made from.
 * OWN_HELD: that message is still held back (seq) and its outcomes wait
 * on it until it is emitted (or found to be a copy itself).  msg holds
 * its identities as it is (or will be) counted, strings at data[].
 * Every record, held-back message and expectation owns its own copy.
 */
enum { OWN_MSG = 1, OWN_HELD = 2 };

struct owner {
	int kind;
	uint64_t seq; /* OWN_HELD: the held-back message */
	struct track_msg msg;
	size_t len; /* bytes of data[]: the strings of msg, copied */
	char data[];
};

struct rec {
	struct rec *older, *newer; /* age list */
	int64_t created;
	unsigned flags;
	unsigned keylen; /* < 512: beside flags, so the struct is no larger with hash */
	long uid;
	const char *sasl, *ip; /* into the allocation, NULL when absent */
	size_t cost;           /* bytes it holds, with its index entry and owner, about */
	struct owner *own;     /* whose its deliveries are; NULL: nobody's */
	uint64_t hash;         /* hmap_hash of key, set by track_rec_link (0: not yet) */
	char key[];            /* host \0 instance \0 qid, then sasl \0 ip \0 (the table's key) */
};

/* One delivery outcome waiting on a held-back message. */
struct pend {
	int64_t t;
	int status; /* enum track_status */
	long n;
};

#define TRACK_PEND_MAX 64 /* outcomes kept apart per held-back message */

struct held {
	struct held *next;
	uint64_t seq;
	/*
	 * What it is emitted as, its strings at data[]: unauthenticated (no
	 * login, uid -1); removed: its "removed" came while it was held back
	 */
	struct track_msg msg;
	int64_t recv_us; /* when it was received: its record's client= line */
	int reinject;
	unsigned linklen;  /* host \0 qid, at data[] (< 512): its key in held_ix; beside reinject */
	size_t cost;       /* bytes it holds, with its index entries and forward, about */
	struct owner *fwd; /* reinject: where its outcomes go instead (NULL: nowhere) */
	struct pend *pend; /* outcomes of its deliveries, until it is emitted */
	size_t npend;
	uint64_t linkhash; /* hmap_hash of its key in held_ix, for its removal */
	char data[];
};

struct expect {
	struct expect *next;
	int64_t time_us;   /* the hand-off line */
	int64_t orig_us;   /* its original was received; INT64_MIN: unknown */
	struct owner *own; /* the original's owner, for the copy (NULL: none) */
	size_t cost;       /* bytes it holds, with its index entry and owner, about */
	long sent;         /* status=sent lines naming it: a delivery unless a copy comes */
	size_t n;
	uint64_t hash; /* hmap_hash of key, for its removal (not in cost: TRACK_EXPECT_BYTES) */
	char key[];    /* host \0 qid: its key in the expect table */
};

/*
 * The bytes an expectation's cost counts for its struct: without its hash,
 * kept since the cost was first counted, so that max_tracked_bytes evicts
 * exactly where it did
 */
#define TRACK_EXPECT_BYTES (sizeof(struct expect) - sizeof(uint64_t))

/* A growing byte buffer for saved values; bad: out of memory, what followed is lost. */
struct track_wbuf {
	unsigned char *p;
	size_t n, cap;
	int bad;
};

/*
 * recs, held_ix and expect hold their values' own key pointers
 * (hmap_new_ref): a record, held-back message or expectation carries its
 * key, and its entry is removed before it is freed, or has its key
 * pointer replaced along with the value.  The byte costs still count a
 * key copy for each (an over-estimate now): the cap evicts exactly when it
 * did, so no output changes with it.
 */
struct track {
	struct hmap *recs; /* key -> struct rec */
	struct rec *oldest, *newest;
	size_t max_bytes; /* the byte cap */
	size_t bytes;     /* held by records, held-back messages and expectations, about */
	struct held *hhead, *htail; /* FIFO */
	struct hmap *held_ix;       /* host \0 qid -> newest struct held */
	struct hmap *held_seq;      /* seq (8 bytes) -> struct held */
	uint64_t seq;
	struct hmap *expect;          /* host \0 qid -> struct expect */
	struct expect *ehead, *etail; /* FIFO by time */
	struct hmap *dirty;           /* ns byte + key -> (void *)1, when keeping */
	int keep;
	struct tlog *log; /* the saved log's keys not folded yet (track_log.c) */
	int64_t now;      /* newest log time seen */
	track_emit_fn emit;
	void *ctx;
	track_removed_fn removed;
	void *rctx;
	track_outcome_fn outcome;
	void *octx;
	struct track_stats st;
	void *pool[TRACK_POOL_CLASSES];     /* freed blocks of (class + 1) steps, linked */
	unsigned npool[TRACK_POOL_CLASSES]; /* how many */
	struct track_wbuf enc;              /* track_encode()'s value */
	char sbuf[SOURCE_LINE_MAX + 1];     /* folded sender */
};

/* track_block - n zeroed bytes, a kept block when t has one that fits (t may be NULL); NULL on ENOMEM */
void *track_block(struct track *t, size_t n);
/* track_unblock - free block p (NULL: nothing), or keep it in t's pool (t may be NULL) */
void track_unblock(struct track *t, void *p);

/* track_rec_alloc - a record with its key and identity strings; NULL on ENOMEM */
struct rec *track_rec_alloc(const char *key, size_t keylen, const char *sasl, size_t sn,
    const char *ip, size_t in, int fold);

/* track_rec_link - put r into the table and at the young end of the age list */
int track_rec_link(struct track *t, struct rec *r);

/*
 * track_held_add - queue a held-back message (strings copied), accepted at
 * time_us and received at recv_us; lh: the hmap_hash of its link key
 * host \0 qid (0: not known, hashed here); NULL on ENOMEM
 */
struct held *track_held_add(struct track *t, uint64_t seq, int64_t time_us, int64_t recv_us,
    const char *host, const char *inst, const char *qid, const char *sender, size_t en,
    const char *ip, long nrcpt, int reinject, uint64_t lh);

/*
 * track_expect_add - remember that a hand-off at time now named (host, qid)
 * as the copy of an original received at orig_us; NULL on ENOMEM
 */
struct expect *track_expect_add(struct track *t, const char *lk, size_t ln, int64_t now,
    int64_t orig_us);

/*
 * track_may_be_copy - can a message received at recv_us be the copy of an
 * original received at orig_us (INT64_MIN: not known)?  A copy is made
 * from its original, so it is never older: an older holder of the queue ID
 * is an unrelated message that Postfix gave the same ID before.
 */
static inline int
track_may_be_copy(int64_t recv_us, int64_t orig_us)
{
	return (recv_us >= orig_us);
}

/*
 * The expectations (track_expect.c).
 * track_expect_add_h - track_expect_add with the key's hash lh given
 */
struct expect *track_expect_add_h(struct track *t, const char *lk, size_t ln, uint64_t lh,
    int64_t now, int64_t orig_us);
/*
 * track_expect_take - the expectation of (host \0 qid, hash lh; 0: not
 * hashed yet) when a message received at recv_us may be its copy: used up
 * (out of the table), else NULL
 */
struct expect *track_expect_take(struct track *t, const char *lk, size_t ln, uint64_t lh,
    int64_t recv_us, int64_t now);
/* track_expect_owner - the owner of a used-up expectation e, taken over; NULL when none */
struct owner *track_expect_owner(struct track *t, struct expect *e);
/* track_expect_pop - forget the oldest expectation; deliver: its unclaimed sent lines count */
void track_expect_pop(struct track *t, int deliver);
/* track_expect_expire - forget expectations older than twice the link window (INT64_MAX: all) */
void track_expect_expire(struct track *t, int64_t now, int deliver);

/* track_wbytes - append n bytes to w */
void track_wbytes(struct track_wbuf *w, const void *p, size_t n);
/*
 * track_encode - the saved value of entry (ns, key) as it is now: 1 with
 * *val, *vn set (valid until the next call), 0 when it is gone, 2 for a
 * namespace not saved this way, -1 on ENOMEM (track_persist.c)
 */
int track_encode(struct track *t, int ns, const char *key, size_t kn, const void **val, size_t *vn);
/* track_log_free - drop what the saved log keeps in memory (track_log.c) */
void track_log_free(struct track *t);

/* track_mark_note - note (ns, key) as changed in t->dirty (t keeps its changes) */
void track_mark_note(struct track *t, int ns, const void *key, size_t n, int born);

/*
 * track_mark_born - note (ns, key) as changed since the last
 * track_persist(); born: it was just made, absent from memory before.
 * Tested here: the audit keeps no changes, and a call for each of its
 * tracker's changes cost more than the test.
 */
static inline void
track_mark_born(struct track *t, int ns, const void *key, size_t n, int born)
{
	if (t->keep)
		track_mark_note(t, ns, key, n, born);
}

/* track_mark - note (ns, key) as changed since the last track_persist() */
static inline void
track_mark(struct track *t, int ns, const void *key, size_t n)
{
	track_mark_born(t, ns, key, n, 0);
}
/*
 * track_born_mark - its address is the value of a dirty entry whose key
 * was made after the last track_persist(): the store cannot have it, so
 * if it is gone again by then there is nothing to delete
 */
extern char track_born_mark;
/* track_mark_held - note a held-back message as changed */
void track_mark_held(struct track *t, const struct held *h);
/* track_seqkey - the 8-byte key of a held-back message */
void track_seqkey(uint64_t seq, unsigned char out[8]);

/*
 * track_seqhash - held_seq's hash of a held-back message's seq (its
 * track_seqkey() bytes are the map's key), for the map's _h calls: the
 * splitmix64 finaliser, never 0.  A seq is the tracker's own counter, not
 * text from the log, so no one can choose seqs that collide: SipHash's
 * hundred-odd instructions a look-up buy nothing here.
 */
static inline uint64_t
track_seqhash(uint64_t seq)
{
	uint64_t z = seq + UINT64_C(0x9e3779b97f4a7c15);

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	z ^= z >> 31;
	return (z == 0 ? 1 : z);
}

/*
 * Delivery outcomes (track_outcome.c).
 * track_own_new - an owner of kind for message m (strings copied); NULL on ENOMEM
 * track_own_make - the same from t's pool (track_block)
 * track_own_dup - a copy of o from t's pool (NULL for NULL or ENOMEM)
 */
struct owner *track_own_new(int kind, uint64_t seq, const struct track_msg *m);
struct owner *track_own_make(struct track *t, int kind, uint64_t seq, const struct track_msg *m);
/* track_own_cost - the bytes o holds, about (0 for NULL): counted in max_tracked_bytes */
size_t track_own_cost(const struct owner *);
struct owner *track_own_dup(struct track *t, const struct owner *o);
/* track_own_same - 1 when a and b (either may be NULL) are the same message's */
int track_own_same(const struct owner *a, const struct owner *b);
/*
 * track_deliver - n recipients of owner o had status at time_us: emitted
 * now when o is counted, kept on its held-back message while that waits,
 * sent on to the original when that message turned out to be a copy;
 * nothing for a NULL owner
 */
void track_deliver(struct track *t, const struct owner *o, int status, long n, int64_t time_us);
/*
 * track_pend_flush - the outcomes waiting on h go out: as h's own (self:
 * h was emitted, counted as h->msg) or to o (h is a copy of o's message;
 * NULL: nobody's)
 */
void track_pend_flush(struct track *t, struct held *h, const struct owner *o, int self);
/* track_pend_add - keep one outcome on h (bounded: see track_outcome.c); -1 on ENOMEM */
int track_pend_add(struct held *h, int status, long n, int64_t time_us);
/* track_status_of - the enum track_status of a status= word, -1 for others */
int track_status_of(const struct pf_str *status);

#endif
