/*
 * NAME
 *	track_priv - what track.c and track_persist.c share (private)
 * SUMMARY
 *	The tracker's structures (records, held-back messages, expectations,
 *	struct track) and the four functions that rebuild them from saved
 *	state.  Nothing outside count/track*.c includes it.
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

/* What one entry of a util/hmap and one allocation cost beside their bytes, about. */
#define TRACK_SLOT_BYTES ((size_t)48)
#define TRACK_ALLOC_BYTES ((size_t)16)

struct rec {
	struct rec *older, *newer; /* age list */
	int64_t created;
	unsigned flags;
	long uid;
	const char *sasl, *ip; /* into the allocation, NULL when absent */
	size_t cost;           /* bytes it holds, with its index entry, about */
	size_t keylen;
	char key[]; /* host \0 instance \0 qid, then sasl \0 ip \0 */
};

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
	size_t cost;    /* bytes it holds, with its index entries, about */
	size_t linklen; /* host \0 qid, at data[] */
	char data[];
};

struct expect {
	struct expect *next;
	int64_t time_us; /* the hand-off line */
	int64_t orig_us; /* its original was received; INT64_MIN: unknown */
	size_t cost;     /* bytes it holds, with its index entry, about */
	size_t n;
	char key[];
};

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
	int64_t now; /* newest log time seen */
	track_emit_fn emit;
	void *ctx;
	track_removed_fn removed;
	void *rctx;
	struct track_stats st;
	char sbuf[SOURCE_LINE_MAX + 1]; /* folded sender */
};

/* track_rec_alloc - a record with its key and identity strings; NULL on ENOMEM */
struct rec *track_rec_alloc(const char *key, size_t keylen, const char *sasl, size_t sn,
    const char *ip, size_t in, int fold);

/* track_rec_link - put r into the table and at the young end of the age list */
int track_rec_link(struct track *t, struct rec *r);

/*
 * track_held_add - queue a held-back message (strings copied), accepted at
 * time_us and received at recv_us; NULL on ENOMEM
 */
struct held *track_held_add(struct track *t, uint64_t seq, int64_t time_us, int64_t recv_us,
    const char *host, const char *inst, const char *qid, const char *sender, size_t en,
    const char *ip, long nrcpt, int reinject);

/*
 * track_expect_add - remember that a hand-off at time now named (host, qid)
 * as the copy of an original received at orig_us
 */
void track_expect_add(struct track *t, const char *lk, size_t ln, int64_t now, int64_t orig_us);

#endif
