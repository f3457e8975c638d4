/*
 * NAME
 *	track_log - what the tracker writes at each commit: a log, folded late
 * SUMMARY
 *	Exports track_persist(), track_log_apply(), track_log_lag() and
 *	track_log_free() (see track.h, track_priv.h).
 *
 *	The saved state is the table of entries (namespaces TRACK_NS_REC,
 *	_HELD, _EXPECT: one row per record, held-back message, expectation)
 *	plus a log (TRACK_NS_LOG, key the commit's 8-byte big-endian
 *	sequence number): at each commit track_persist() writes the net
 *	changes of the batch as one log row, not as a row each.  An entry
 *	usually lives a few batches (made, changed, gone), so writing each
 *	change into the table's B-tree cost a statement and a few pages per
 *	change; one row appended at the end of the key range costs about one
 *	statement per commit.
 *
 *	The log is folded into the table late: a row reaches the table
 *	once it is `lag` commits old (or sooner when the rows not folded
 *	hold too many keys).  Folding a row writes, for each of its keys
 *	whose last logged change is that row's, the entry as it is now (or
 *	deletes it), then deletes the row; a key changed again later waits
 *	for that later row.  So an entry made and gone within `lag` commits
 *	never reaches the table at all.  In memory: each key with a change
 *	not folded yet, with the sequence number of its last change and
 *	whether the table can hold it ("born": it was absent from memory,
 *	and so from the table, when it first changed), and the keys of each
 *	row not folded yet, oldest first.
 *
 *	Invariant, after every commit: the table, with the log rows applied
 *	in order over it (put: insert or replace, del: delete), is the
 *	tracker's state at that commit.  A key whose last change was folded
 *	is in the table as it is; one with a later change is in a row not
 *	folded yet, which is applied after the table.  Start-up applies
 *	the rows (track_log_apply(), then deletes them) inside one
 *	transaction, then restores the table as before.
 *
 *	Row format: entries of op (1 byte: 1 put, 0 del), ns (1 byte),
 *	key length (4 bytes little-endian), key, and for a put the value's
 *	length (4 bytes) and value.
 * RETURNS
 *	0, or -1 when an op failed or memory ran out (track_persist: the
 *	tracker's saved state is then unknown, and the caller stops or
 *	reloads it); track_log_apply: -1 for a malformed row (nothing
 *	applied), -2 when an op failed.  Never prints
 *	or exits.
 * UNTRUSTED INPUT
 *	Log rows come from the state database: every read checks the
 *	remaining length and a malformed row is refused whole, not applied
 *	in part.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/hmap.h"
#include "count/track_priv.h"

#define LOG_LAG 40          /* commits a row waits before it is folded */
#define LOG_KEYS_MAX 200000 /* keys of rows not folded yet, at most */
#define LOG_OP_DEL 0
#define LOG_OP_PUT 1

/* The keys of one log row not folded yet, each as a 2-byte length and the bytes. */
struct lrow {
	uint64_t seq;
	struct track_wbuf keys;
	size_t nkeys;
};

struct tlog {
	struct hmap *pend;  /* ns byte + key -> the struct lrow of its last change */
	struct hmap *born;  /* the pending keys the table cannot hold -> &track_born_mark */
	struct lrow **rows; /* ring of rows not folded yet, oldest at head */
	size_t head, n, cap;
	size_t nkeys; /* keys in the ring */
	uint64_t seq; /* the last row's */
	int lag;
};

/* w_u32 - append v as 4 bytes, little-endian */
static void
w_u32(struct track_wbuf *w, uint32_t v)
{
	unsigned char b[4];

	b[0] = (unsigned char)v;
	b[1] = (unsigned char)(v >> 8);
	b[2] = (unsigned char)(v >> 16);
	b[3] = (unsigned char)(v >> 24);
	track_wbytes(w, b, 4);
}

/* tlog_get - the tracker's log state, made on first use; NULL on ENOMEM */
static struct tlog *
tlog_get(struct track *t)
{
	if (t->log != NULL)
		return (t->log);
	if ((t->log = calloc(1, sizeof(*t->log))) == NULL)
		return (NULL);
	if ((t->log->pend = hmap_new()) == NULL || (t->log->born = hmap_new()) == NULL) {
		hmap_free(t->log->pend, NULL);
		free(t->log);
		t->log = NULL;
		return (NULL);
	}
	t->log->lag = LOG_LAG;
	return (t->log);
}

/* track_log_free - drop what the log keeps in memory (the saved log stays as it is) */
void
track_log_free(struct track *t)
{
	struct tlog *l = t->log;
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++) {
		free(l->rows[(l->head + i) % l->cap]->keys.p);
		free(l->rows[(l->head + i) % l->cap]);
	}
	free(l->rows);
	hmap_free(l->pend, NULL);
	hmap_free(l->born, NULL);
	free(l);
	t->log = NULL;
}

/* track_log_lag - fold a row once it is lag commits old (0: at its own commit); see track.h */
int
track_log_lag(struct track *t, int lag)
{
	struct tlog *l = tlog_get(t);

	if (l == NULL || lag < 0)
		return (-1);
	l->lag = lag;
	return (0);
}

/* row_push - a new row at the young end of the ring; NULL on ENOMEM */
static struct lrow *
row_push(struct tlog *l, uint64_t seq)
{
	struct lrow *r;

	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64, i;
		struct lrow **nr = calloc(nc, sizeof(struct lrow *));

		if (nr == NULL)
			return (NULL);
		for (i = 0; i < l->n; i++)
			nr[i] = l->rows[(l->head + i) % l->cap];
		free(l->rows);
		l->rows = nr;
		l->cap = nc;
		l->head = 0;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (NULL);
	r->seq = seq;
	l->rows[(l->head + l->n) % l->cap] = r;
	l->n++;
	return (r);
}

/* The walk of track_persist() over the dirty set. */
struct log_walk {
	struct track *t;
	struct tlog *l;
	struct track_wbuf row; /* the ops of this commit's row */
	struct lrow *keys;     /* NULL until the first op */
	int failed;
};

/*
 * log_cb - one dirty entry (ns byte + key) into this commit's row: its
 * value, or its deletion, unless it was made and is gone since the last
 * commit (the saved state never had it); 1 stops on failure
 */
static int
log_cb(void *ctx, const char *dk, size_t dn, void *val)
{
	struct log_walk *lw = ctx;
	struct tlog *l = lw->l;
	const void *v = NULL;
	size_t vn = 0;
	void **slot;
	unsigned char kl[2], op;
	int r, added, born = val == &track_born_mark;

	if ((r = track_encode(lw->t, (unsigned char)dk[0], dk + 1, dn - 1, &v, &vn)) == 2 ||
	    (r == 0 && born))
		return (0);
	if (r < 0 || dn > 0xffff || vn > UINT32_MAX ||
	    (lw->keys == NULL && (lw->keys = row_push(l, l->seq + 1)) == NULL) ||
	    (slot = hmap_get_or_add(l->pend, dk, dn, &added)) == NULL) {
		lw->failed = 1;
		return (1);
	}
	/* the first pending change tells whether the table can hold it; a later one keeps that */
	*slot = lw->keys;
	if (added && r == 1 && born && (slot = hmap_get_or_add(l->born, dk, dn, &added)) != NULL)
		*slot = &track_born_mark;
	if (slot == NULL) {
		lw->failed = 1;
		return (1);
	}
	op = r == 1 ? LOG_OP_PUT : LOG_OP_DEL;
	track_wbytes(&lw->row, &op, 1);
	track_wbytes(&lw->row, dk, 1);
	w_u32(&lw->row, (uint32_t)(dn - 1));
	track_wbytes(&lw->row, dk + 1, dn - 1);
	if (r == 1) {
		w_u32(&lw->row, (uint32_t)vn);
		track_wbytes(&lw->row, v, vn);
	}
	kl[0] = (unsigned char)(dn >> 8);
	kl[1] = (unsigned char)dn;
	track_wbytes(&lw->keys->keys, kl, 2);
	track_wbytes(&lw->keys->keys, dk, dn);
	lw->keys->nkeys++;
	l->nkeys++;
	if (lw->row.bad || lw->keys->keys.bad) {
		lw->failed = 1;
		return (1);
	}
	return (0);
}

/*
 * fold - the oldest row into the table: each key whose last change is
 * that row's is written as it is now (or deleted, unless the table
 * cannot hold it), then the row is deleted; 0 or -1
 */
static int
fold(struct track *t, struct tlog *l, const struct track_persist_ops *ops, void *ctx)
{
	struct lrow *row = l->rows[l->head];
	const unsigned char *p = row->keys.p;
	unsigned char sk[8];
	size_t i, off = 0;

	for (i = 0; i < row->nkeys; i++) {
		size_t dn = ((size_t)p[off] << 8) | p[off + 1];
		const char *dk = (const char *)p + off + 2;
		const void *v;
		size_t vn;
		int r, born;

		off += 2 + dn;
		if (hmap_get(l->pend, dk, dn) != row)
			continue; /* changed again later: that row writes it */
		born = hmap_del(l->born, dk, dn) != NULL;
		r = track_encode(t, (unsigned char)dk[0], dk + 1, dn - 1, &v, &vn);
		if (r < 0 ||
		    (r == 1 && ops->put(ctx, (unsigned char)dk[0], dk + 1, dn - 1, v, vn) < 0) ||
		    (r == 0 && !born && ops->del(ctx, (unsigned char)dk[0], dk + 1, dn - 1) < 0))
			return (-1);
		(void)hmap_del(l->pend, dk, dn);
	}
	track_seqkey(row->seq, sk);
	if (ops->del(ctx, TRACK_NS_LOG, sk, sizeof(sk)) < 0)
		return (-1);
	l->nkeys -= row->nkeys;
	free(row->keys.p);
	free(row);
	l->rows[l->head] = NULL;
	l->head = (l->head + 1) % l->cap;
	l->n--;
	return (0);
}

/* track_persist - this commit's changes as one log row, then the old rows folded; see track.h */
int
track_persist(struct track *t, const struct track_persist_ops *ops, void *ctx)
{
	struct log_walk lw;
	struct tlog *l;
	unsigned char sk[8];

	if ((l = tlog_get(t)) == NULL)
		return (-1);
	memset(&lw, 0, sizeof(lw));
	lw.t = t;
	lw.l = l;
	hmap_each(t->dirty, log_cb, &lw);
	if (!lw.failed && lw.keys != NULL) {
		l->seq++;
		track_seqkey(l->seq, sk);
		if (ops->put(ctx, TRACK_NS_LOG, sk, sizeof(sk), lw.row.p, lw.row.n) < 0)
			lw.failed = 1;
	}
	free(lw.row.p);
	while (!lw.failed && l->n > 0 &&
	    (l->rows[l->head]->seq + (uint64_t)l->lag <= l->seq || l->nkeys > LOG_KEYS_MAX))
		if (fold(t, l, ops, ctx) < 0)
			lw.failed = 1;
	if (lw.failed)
		return (-1);
	hmap_free(t->dirty, NULL);
	if ((t->dirty = hmap_new()) == NULL)
		return (-1);
	return (0);
}

/* r_u32 - 4 bytes little-endian at *p, advancing; -1 when fewer than 4 remain */
static int64_t
r_u32(const unsigned char **p, size_t *n)
{
	const unsigned char *q = *p;

	if (*n < 4)
		return (-1);
	*p += 4;
	*n -= 4;
	return ((int64_t)((uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
	    (uint32_t)q[3] << 24));
}

/*
 * walk_row - check a row (ops NULL) or apply it; 0, -1 for a malformed
 * row, -2 for a failed op
 */
static int
walk_row(const unsigned char *p, size_t n, const struct track_persist_ops *ops, void *ctx)
{
	while (n > 0) {
		int op, ns;
		int64_t kn, vn = 0;
		const unsigned char *k, *v = NULL;

		if (n < 2)
			return (-1);
		op = p[0];
		ns = p[1];
		p += 2;
		n -= 2;
		if ((op != LOG_OP_PUT && op != LOG_OP_DEL) ||
		    (ns != TRACK_NS_REC && ns != TRACK_NS_HELD && ns != TRACK_NS_EXPECT) ||
		    (kn = r_u32(&p, &n)) < 0 || (uint64_t)kn > n)
			return (-1);
		k = p;
		p += kn;
		n -= (size_t)kn;
		if (op == LOG_OP_PUT) {
			if ((vn = r_u32(&p, &n)) < 0 || (uint64_t)vn > n)
				return (-1);
			v = p;
			p += vn;
			n -= (size_t)vn;
		}
		if (ops == NULL)
			continue;
		if (op == LOG_OP_PUT ? ops->put(ctx, ns, k, (size_t)kn, v, (size_t)vn)
				     : ops->del(ctx, ns, k, (size_t)kn))
			return (-2);
	}
	return (0);
}

/* track_log_apply - apply one saved log row through ops (start-up); see track.h */
int
track_log_apply(const void *row, size_t n, const struct track_persist_ops *ops, void *ctx)
{
	if (walk_row(row, n, NULL, NULL) < 0)
		return (-1); /* refused whole */
	return (walk_row(row, n, ops, ctx));
}
