/*
 * NAME
 *	store_kept - an identity's messages as the daemon's batch has them:
 *	the rows of the file and the messages the batch keeps back, merged
 * SUMMARY
 *	The daemon keeps a batch's messages back in memory until its commit
 *	(store_bulk.c, store_bulk_keep()).  The enforcement reads an
 *	identity's messages at every verdict (store_each_queued(),
 *	store_each_recent(): actions/hold.c), and those reads must see every
 *	message counted so far.  Writing the kept messages before each read
 *	gave that, at about a fifth of a catch-up's time; here the reads of
 *	the four plain kinds (sasl, uid, sender, ip) take the kept messages
 *	from memory instead, each as the file would give it back once
 *	written (store_kept_as_read()), merged into the rows of the file in
 *	the statement's order: the answers are the same rows in the same
 *	order, and the batch is written at its commit.  The domain kinds
 *	(a suffix compare in SQL, by characters) and the full sort of
 *	store_each_recent() (when its quick path cannot tell) still write
 *	the kept messages first (store_kept_leaves() says which statements
 *	may leave them in memory).
 *
 *	A kept message's row as read back: an absent string ("" or NULL) is
 *	NULL, a uid of -1 or less is -1, a removal time of 0 or less is 0,
 *	as store_row() reads SQL NULL (store.c's row maps).  It matches an
 *	identity as the statement's condition does: sasl, sender or
 *	client_ip byte for byte equal to the value (SQLite's = on TEXT, the
 *	BINARY collation), or uid equal to the number.
 *
 *	store_each_queued(): the file's rows (time_us >= since, not removed,
 *	by (time_us, id)) and the kept messages that pass the same test,
 *	copied and sorted by (time_us, id), called back in one merged order.
 *	The copies are made before the walk, so a callback that writes
 *	(hold records) may even make the kept messages written meanwhile.
 * RETURNS
 *	0, a callback's non-zero return, or -1 with "path: what: reason" in
 *	err (out of memory).  Never prints, never exits.
 * UNTRUSTED INPUT
 *	Hosts, queue IDs, logins, senders and addresses of the log, compared
 *	with their lengths and copied; identities are split by
 *	store_ident_vals() (util/ident) before their value is compared.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_priv.h"
#include "util/ident.h"

/*
 * store_kept_leaves - statement which neither reads nor writes the
 * messages table, or takes the messages kept back into account
 * (outcomes, removals, the load's own inserts, the reads merged here):
 * they may stay kept back over it
 */
int
store_kept_leaves(enum store_st which)
{
	switch (which) {
	case ST_BEGIN:
	case ST_COMMIT:
	case ST_ROLLBACK:
	case ST_ADD_VERDICT:
	case ST_GET_CURSOR:
	case ST_SET_CURSOR:
	case ST_KV_PUT:
	case ST_KV_DEL:
	case ST_KV_EACH:
	case ST_MARK_REMOVED:
	case ST_ADD_OUTCOME:
	case ST_ADD_BOUNCE:
	case ST_BULK_MSG:
	case ST_BULK_MSGS:
	case ST_KEPT_MSGS:
	case ST_GET_BLOCK:
	case ST_PUT_BLOCK:
	case ST_EACH_BLOCK:
	case ST_ADD_HOLD:
	case ST_HOLD_STATE:
	case ST_EACH_HOLD:
	case ST_COUNT_HOLDS:
	case ST_EACH_ON_HOLD:
	case ST_HOLDS_STATE_IDENT:
	case ST_ADD_JOB:
	case ST_UPDATE_JOB:
	case ST_EACH_JOB:
	case ST_EACH_JOB_ID:
	case ST_ADD_OUTBOX:
	case ST_ADD_DECISION:
	/* merged with the kept messages (store_kept_rows) */
	case ST_QUEUED_SASL:
	case ST_QUEUED_UID:
	case ST_QUEUED_SENDER:
	case ST_QUEUED_IP:
	case ST_RECENT_BYID_SASL:
	case ST_RECENT_BYID_UID:
	case ST_RECENT_BYID_SENDER:
	case ST_RECENT_BYID_IP:
		return 1;
	default:
		return 0;
	}
}

/* opt - an absent string as SQL gives it back: NULL */
static const char *
opt(const char *p)
{
	return p != NULL && p[0] != '\0' ? p : NULL;
}

/* store_kept_as_read - message m as store_row() reads its row back once written */
struct store_msg
store_kept_as_read(const struct store_msg *m)
{
	struct store_msg r = *m;

	r.host = opt(m->host);
	r.instance = opt(m->instance);
	r.queue_id = opt(m->queue_id);
	r.sasl = opt(m->sasl);
	r.sender = opt(m->sender);
	r.client_ip = opt(m->client_ip);
	if (r.uid <= -1)
		r.uid = -1;
	if (r.removed_us <= 0)
		r.removed_us = 0;
	return r;
}

/* same_text - column c (NULL: SQL NULL) equals the bound text v, byte for byte */
static int
same_text(const char *c, const struct store_val *v)
{
	return c != NULL && v->type == SV_TEXT && strlen(c) == v->n && memcmp(c, v->p, v->n) == 0;
}

/* kept_match - m (as read) is a row of identity kind k with value v */
static int
kept_match(const struct store_msg *m, enum ident_kind k, const struct store_val *v)
{
	switch (k) {
	case IDENT_SASL:
		return same_text(m->sasl, v);
	case IDENT_SENDER:
		return same_text(m->sender, v);
	case IDENT_IP:
		return same_text(m->client_ip, v);
	case IDENT_UID:
		return m->uid != -1 && v->type == SV_INT && (int64_t)m->uid == v->i;
	default:
		return 0;
	}
}

/* store_msg_copy - a copy of m with its place (time_us, id), strings in it; NULL: no memory */
struct store_msg_copy *
store_msg_copy(const struct store_msg *m, int64_t id)
{
	const char *const str[] = { m->host, m->instance, m->queue_id, m->sasl, m->sender,
		m->client_ip };
	struct store_msg_copy *c;
	size_t i, len = 0;
	char *p;

	for (i = 0; i < sizeof(str) / sizeof(str[0]); i++)
		len += str[i] != NULL ? strlen(str[i]) + 1 : 0;
	if ((c = malloc(sizeof(*c) + len)) == NULL)
		return NULL;
	c->t = m->time_us;
	c->id = id;
	c->m = *m;
	p = c->data;
	c->m.host = store_copy_str(&p, m->host);
	c->m.instance = store_copy_str(&p, m->instance);
	c->m.queue_id = store_copy_str(&p, m->queue_id);
	c->m.sasl = store_copy_str(&p, m->sasl);
	c->m.sender = store_copy_str(&p, m->sender);
	c->m.client_ip = store_copy_str(&p, m->client_ip);
	return c;
}

/* store_msg_copies_free - free n copies and their array */
void
store_msg_copies_free(struct store_msg_copy **c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(c[i]);
	free(c);
}

/*
 * store_kept_rows - copies of the kept messages (as read back) of
 * identity kind k with value v, oldest id first; queued: only those
 * from since_us on and not removed.  0 with *rows (NULL when none) and
 * *n, or -1 with err (out of memory).
 */
int
store_kept_rows(struct store *s, enum ident_kind k, const struct store_val *v, int queued,
    int64_t since_us, struct store_msg_copy ***rows, size_t *n, char *err, size_t errlen)
{
	struct store_msg_copy **r = NULL, **nr, *c;
	const struct store_msg *km;
	const void *it = NULL;
	struct store_msg m;
	size_t cap = 0;
	int64_t id;

	*rows = NULL;
	*n = 0;
	while ((km = store_bulk_kept(s, &it, &id)) != NULL) {
		m = store_kept_as_read(km);
		if (!kept_match(&m, k, v) ||
		    (queued && (m.time_us < since_us || m.removed_us != 0)))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nr = reallocarray(r, cap, sizeof(struct store_msg_copy *))) == NULL)
				goto nomem;
			r = nr;
		}
		if ((c = store_msg_copy(&m, id)) == NULL)
			goto nomem;
		r[(*n)++] = c;
	}
	*rows = r;
	return 0;
nomem:
	store_msg_copies_free(r, *n);
	*n = 0;
	return store_seterr(err, errlen, "%s: read messages: out of memory", s->path);
}

/* store_msg_copy_less - a before b in (time_us, id) order */
int
store_msg_copy_less(const struct store_msg_copy *a, int64_t t, int64_t id)
{
	return a->t < t || (a->t == t && a->id < id);
}

/* copy_cmp - qsort copies into (time_us, id) order */
static int
copy_cmp(const void *a, const void *b)
{
	const struct store_msg_copy *x = *(struct store_msg_copy *const *)a;
	const struct store_msg_copy *y = *(struct store_msg_copy *const *)b;

	return store_msg_copy_less(x, y->t, y->id) ? -1 : store_msg_copy_less(y, x->t, x->id);
}

/* A walk of the file's rows with the kept ones merged in. */
struct kept_merge {
	struct store_msg_copy **k; /* the kept rows, in (time_us, id) order */
	size_t n, i;               /* k[i..n) are still to be called back */
	struct store_rows r;       /* the caller's callback */
};

/* merge_row - one row of the file (column 10 its id): first the kept rows before it */
static int
merge_row(sqlite3_stmt *st, void *arg)
{
	struct kept_merge *km = arg;
	int64_t t = sqlite3_column_int64(st, 0), id = sqlite3_column_int64(st, 10);
	int rc;

	while (km->i < km->n && store_msg_copy_less(km->k[km->i], t, id))
		if ((rc = km->r.cb.msg(km->r.ctx, &km->k[km->i++]->m)) != 0)
			return rc;
	return store_row(st, &km->r);
}

/*
 * store_kept_queued - the walk of statement which (a QUEUED one of kind
 * k, values v) with the kept messages of its identity merged in; what
 * store_walk() returns
 */
int
store_kept_queued(struct store *s, enum store_st which, enum ident_kind k,
    const struct store_val v[2], struct store_rows *r, char *err, size_t errlen)
{
	struct kept_merge km = { .r = *r };
	int rc;

	if (store_kept_rows(s, k, &v[0], 1, v[1].i, &km.k, &km.n, err, errlen) < 0)
		return -1;
	if (km.n == 0)
		return store_walk(s, which, v, 2, store_row, r, err, errlen);
	qsort(km.k, km.n, sizeof(struct store_msg_copy *), copy_cmp);
	rc = store_walk(s, which, v, 2, merge_row, &km, err, errlen);
	while (rc == 0 && km.i < km.n)
		rc = r->cb.msg(r->ctx, &km.k[km.i++]->m);
	store_msg_copies_free(km.k, km.n);
	return rc;
}
