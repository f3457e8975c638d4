/*
 * NAME
 *	store_count - the counting half of the store: messages, verdicts,
 *	the log cursor, the tracker's key/value state
 * SUMMARY
 *	Exports store_add_message(), store_add_verdict(), store_get_cursor(),
 *	store_set_cursor(), store_count_messages(), store_each_message(),
 *	store_each_verdict(), store_prune(), store_prune_some(),
 *	store_last_message_time(), store_kv_put(), store_kv_del(),
 *	store_kv_each(), the delivery outcomes (store_add_outcome(),
 *	store_each_bounce()), and the look-ups of an identity's messages
 *	that enforcement and explain ask for: store_mark_removed(),
 *	store_each_queued(), store_each_recent(), store_each_queued_recent()
 *	(both, from one scan of the identity's messages, at a verdict),
 *	store_get_deliveries(), store_each_client().
 *
 *	Each function names one statement of the core's table (store.c).
 *	A message and a verdict are described once, by a row map that gives
 *	both their columns when read and their parameters when written:
 *	store_put() writes one, store_walk() with store_row() reads them.
 *	Other statements take a short list of values (store_run(),
 *	store_walk()); cursor_row() and kv_row() read what is no struct.
 *
 *	store_each_recent() reads an identity's newest messages without
 *	sorting all of them when the connection knows the order in which it
 *	inserted them (recent_quick(), order_note()): the enforcement asks
 *	for them at every verdict, and while the daemon caught up that sort
 *	was a quarter of its time.
 * RETURNS
 *	0, -1 with "path: what: reason" in err, or the value store.h
 *	documents (1/0 for a cursor found or not, a count, a callback's
 *	non-zero return).  Never prints, never exits.
 * UNTRUSTED INPUT
 *	Hosts, queue IDs, logins, senders, addresses and log paths come from
 *	the log; identities from the log and the control socket.  All are
 *	bound as parameters with their exact lengths; an identity is split
 *	by ident_parse() before its value is bound.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_priv.h"
#include "util/ident.h"

/*
 * msg_map - the columns of messages in the order of MSG_COLS, the
 * parameters of ST_ADD_MSG, and removed_us as a tenth column where a
 * statement reads one (store_each_recent)
 */
#define SC_ROW struct store_msg
static const struct store_col msg_cols[] = { SC_I64(time_us), SC_STR(host, SW_OPT),
	SC_STR(instance, SW_OPT), SC_STR(queue_id, SW_OPT), SC_STR(sasl, SW_OPT),
	SC_STR(sender, SW_OPT), SC_STR(client_ip, SW_OPT), SC_LONG_OPT(uid, -1), SC_LONG(nrcpt),
	SC_I64_OPT(removed_us, 0) };
#undef SC_ROW
static const struct store_map msg_map = { SK_MSG, msg_cols, STORE_NVAL(msg_cols) };
const struct store_map *const store_msg_map = &msg_map;

/* verdict_map - the columns of VERDICT_COLS, the parameters of ST_ADD_VERDICT */
#define SC_ROW struct store_verdict
static const struct store_col verdict_cols[] = { SC_I64(time_us), SC_STR(identity, SW_OPT),
	SC_STR(rule, SW_OPT), SC_STR(limit, SW_OPT), SC_STR(window, SW_OPT), SC_LONG(threshold),
	SC_LONG(count), SC_STR(queue_id, SW_OPT) };
#undef SC_ROW
static const struct store_map verdict_map = { SK_VERDICT, verdict_cols, STORE_NVAL(verdict_cols) };

/* bounce_map - the columns of BOUNCE_COLS, the parameters of ST_ADD_BOUNCE */
#define SC_ROW struct store_bounce
static const struct store_col bounce_cols[] = { SC_I64(time_us), SC_STR(host, SW_OPT),
	SC_STR(instance, SW_OPT), SC_STR(queue_id, SW_OPT), SC_STR(sasl, SW_OPT),
	SC_STR(sender, SW_OPT), SC_STR(client_ip, SW_OPT), SC_LONG_OPT(uid, -1), SC_LONG(n),
	SC_I64(msg_us) };
#undef SC_ROW
static const struct store_map bounce_map = { SK_BOUNCE, bounce_cols, STORE_NVAL(bounce_cols) };

/* deliv_map - the columns of a DELIVERIES statement */
#define SC_ROW struct store_deliveries
static const struct store_col deliv_cols[] = { SC_I64(messages), SC_I64(delivered),
	SC_I64(deferred), SC_I64(bounced), SC_I64(senders) };
#undef SC_ROW
static const struct store_map deliv_map = { SK_DELIV, deliv_cols, STORE_NVAL(deliv_cols) };

/* client_map - the columns of a CLIENTS statement */
#define SC_ROW struct store_client
static const struct store_col client_cols[] = { SC_STR(ip, SW_ASIS), SC_I64(messages),
	SC_I64(first_us), SC_I64(last_us) };
#undef SC_ROW
static const struct store_map client_map = { SK_CLIENT, client_cols, STORE_NVAL(client_cols) };

/*
 * order_note - message id of time t went in through this connection:
 * keep what store_each_recent's quick path relies on (see there), or
 * give it up for the connection's life
 */
static void
order_note(struct store *s, int64_t id, int64_t t)
{
	struct store_order *o = &s->ord;
	int64_t late;

	if (o->state == 1) {
		o->lo = o->hi = id;
		o->state = 2;
	} else if (o->state == 2 && id == o->hi + 1)
		o->hi = id;
	else {
		o->state = -1; /* a gap: another writer's rows, or ids given again */
		return;
	}
	if (o->top == INT64_MIN || t >= o->top)
		o->top = t;
	else if (__builtin_sub_overflow(o->top, t, &late))
		o->state = -1;
	else if (late > o->slack)
		o->slack = late;
}

/* store_add_message - insert one accepted message (a bulk load's: store_bulk.c) */
int
store_add_message(struct store *s, const struct store_msg *m, char *err, size_t errlen)
{
	int64_t id;

	if (s->ord.state == 0) {
		/* the newest message before the first of ours, of this node or another */
		if (store_last_message_time(s, &s->ord.top, err, errlen) < 0)
			return -1;
		s->ord.slack = 0;
		s->ord.state = 1;
	}
	if (s->load != NULL) { /* kept back, or written with the id it gives */
		if (store_bulk_add(s, m, &id, err, errlen) < 0)
			return -1;
	} else if (store_put(s, ST_ADD_MSG, &msg_map, m, err, errlen) < 0)
		return -1;
	else
		id = sqlite3_last_insert_rowid(s->db);
	order_note(s, id, m->time_us);
	return 0;
}

/* store_add_verdict - insert one overrun; its identity may not be absent */
int
store_add_verdict(struct store *s, const struct store_verdict *vd, char *err, size_t errlen)
{
	if (vd->identity == NULL || vd->identity[0] == '\0')
		return store_seterr(err, errlen, "%s: add verdict: no identity", s->path);
	return store_put(s, ST_ADD_VERDICT, &verdict_map, vd, err, errlen);
}

/* col_copy - text column i into buf[0..size), cut to fit; "" when NULL */
static void
col_copy(sqlite3_stmt *st, int i, char *buf, size_t size)
{
	const char *s = store_col_str(st, i);
	size_t len = s != NULL ? (size_t)sqlite3_column_bytes(st, i) : 0;

	if (len >= size)
		len = size - 1;
	if (len > 0)
		memcpy(buf, s, len);
	buf[len] = 0;
}

/* cursor_row - the cursor row into *arg; stops the walk with 1 (found) */
static int
cursor_row(sqlite3_stmt *st, void *arg)
{
	struct store_cursor *c = arg;

	memset(c, 0, sizeof(*c));
	c->dev = (uint64_t)sqlite3_column_int64(st, 0);
	c->ino = (uint64_t)sqlite3_column_int64(st, 1);
	c->offset = (uint64_t)sqlite3_column_int64(st, 2);
	col_copy(st, 3, c->fingerprint, sizeof(c->fingerprint));
	col_copy(st, 4, c->journal, sizeof(c->journal));
	c->time_us =
	    sqlite3_column_type(st, 5) == SQLITE_NULL ? INT64_MIN : sqlite3_column_int64(st, 5);
	return 1;
}

/* store_get_cursor - 1 and *c filled, 0 when the log has no cursor, -1 */
int
store_get_cursor(struct store *s, const char *log, struct store_cursor *c, char *err, size_t errlen)
{
	const struct store_val v[] = { sv_opt(log) };

	if (v[0].type == SV_NULL)
		return store_seterr(err, errlen, "%s: get cursor: no log name", s->path);
	return store_walk(s, ST_GET_CURSOR, v, STORE_NVAL(v), cursor_row, c, err, errlen);
}

/*
 * store_set_cursor - insert or overwrite the cursor of one log.  The
 * unsigned values are stored bit-for-bit in SQLite's signed integers.
 */
int
store_set_cursor(struct store *s, const char *log, const struct store_cursor *c, char *err,
    size_t errlen)
{
	struct store_val v[7];

	if ((v[0] = sv_opt(log)).type == SV_NULL)
		return store_seterr(err, errlen, "%s: set cursor: no log name", s->path);
	if (strnlen(c->fingerprint, sizeof(c->fingerprint)) == sizeof(c->fingerprint) ||
	    strnlen(c->journal, sizeof(c->journal)) == sizeof(c->journal))
		return store_seterr(err, errlen, "%s: set cursor: a cursor is not terminated",
		    s->path);
	v[1] = sv_int((int64_t)c->dev);
	v[2] = sv_int((int64_t)c->ino);
	v[3] = sv_int((int64_t)c->offset);
	v[4] = sv_opt(c->fingerprint);
	v[5] = sv_opt(c->journal);
	v[6] = c->time_us == INT64_MIN ? sv_null() : sv_int(c->time_us);
	return store_run(s, ST_SET_CURSOR, v, STORE_NVAL(v), err, errlen);
}

/* store_count_messages - rows in messages, -1 on error */
int64_t
store_count_messages(struct store *s)
{
	return store_int_query(s, ST_COUNT_MSG);
}

/*
 * store_each_message - call cb for each message with time_us >= since_us in
 * time order (ties in insertion order); the walk's contract is in store.h.
 */
int
store_each_message(struct store *s, int64_t since_us,
    int (*cb)(void *ctx, const struct store_msg *), void *ctx, char *err, size_t errlen)
{
	struct store_rows r = { &msg_map, { .msg = cb }, ctx };
	const struct store_val v[] = { sv_int(since_us) };

	return store_walk(s, ST_EACH_MSG, v, STORE_NVAL(v), store_row, &r, err, errlen);
}

/*
 * store_each_verdict - call cb for each verdict with time_us >= since_us,
 * of one identity or (identity NULL) of all, in time order.
 */
int
store_each_verdict(struct store *s, const char *identity, int64_t since_us,
    int (*cb)(void *ctx, const struct store_verdict *), void *ctx, char *err, size_t errlen)
{
	struct store_rows r = { &verdict_map, { .verdict = cb }, ctx };
	const struct store_val v[] = { sv_int(since_us), sv_opt(identity) };

	return store_walk(s, ST_EACH_VERDICT, v, STORE_NVAL(v), store_row, &r, err, errlen);
}

/* store_prune - delete messages, verdicts and bounces older than before_us */
int
store_prune(struct store *s, int64_t before_us, char *err, size_t errlen)
{
	const struct store_val v[] = { sv_int(before_us) };

	if (store_run(s, ST_PRUNE_MSG, v, STORE_NVAL(v), err, errlen) < 0 ||
	    store_run(s, ST_PRUNE_VERDICT, v, STORE_NVAL(v), err, errlen) < 0)
		return -1;
	return store_run(s, ST_PRUNE_BOUNCE, v, STORE_NVAL(v), err, errlen);
}

/*
 * store_prune_some - delete at most limit messages, limit verdicts,
 * limit bounces, limit messages of other nodes and limit outbox rows
 * older than before_us, oldest first.  Returns how many rows went, or -1.
 */
int64_t
store_prune_some(struct store *s, int64_t before_us, int64_t limit, char *err, size_t errlen)
{
	static const enum store_st which[] = { ST_PRUNE_SOME_MSG, ST_PRUNE_SOME_VERDICT,
		ST_PRUNE_SOME_BOUNCE, ST_PRUNE_SOME_REMOTE, ST_PRUNE_SOME_OUTBOX };
	const struct store_val v[] = { sv_int(before_us), sv_int(limit) };
	int64_t n = 0;
	size_t i;

	for (i = 0; i < STORE_NVAL(which); i++) {
		if (store_run(s, which[i], v, STORE_NVAL(v), err, errlen) < 0)
			return -1;
		n += sqlite3_changes(s->db);
	}
	return n;
}

/* store_last_message_time - 0 and the newest message time (INT64_MIN: none), or -1 */
int
store_last_message_time(struct store *s, int64_t *t, char *err, size_t errlen)
{
	*t = INT64_MIN;
	if (store_walk(s, ST_LAST_TIME, NULL, 0, store_int_row, t, err, errlen) < 0)
		return -1;
	return 0;
}

/* store_kv_put - insert or replace (ns, key) -> val in track_state */
int
store_kv_put(struct store *s, int ns, const void *key, size_t klen, const void *val, size_t vlen,
    char *err, size_t errlen)
{
	const struct store_val v[] = {
		sv_int(ns),
		sv_blob(key, klen),
		sv_blob(vlen ? val : "", vlen),
	};

	return store_run(s, ST_KV_PUT, v, STORE_NVAL(v), err, errlen);
}

/* store_kv_del - delete (ns, key) from track_state; absent is not an error */
int
store_kv_del(struct store *s, int ns, const void *key, size_t klen, char *err, size_t errlen)
{
	const struct store_val v[] = { sv_int(ns), sv_blob(key, klen) };

	return store_run(s, ST_KV_DEL, v, STORE_NVAL(v), err, errlen);
}

/* A walk over key/value state: the caller's callback. */
struct kv_walk {
	int (*cb)(void *ctx, const void *key, size_t klen, const void *val, size_t vlen);
	void *ctx;
};

/* kv_row - one (key, value) pair; an empty blob is "" with length 0, never NULL */
static int
kv_row(sqlite3_stmt *st, void *arg)
{
	const struct kv_walk *w = arg;
	const void *k = sqlite3_column_blob(st, 0);
	size_t kn = (size_t)sqlite3_column_bytes(st, 0);
	const void *v = sqlite3_column_blob(st, 1);
	size_t vn = (size_t)sqlite3_column_bytes(st, 1);

	return w->cb(w->ctx, k ? k : "", kn, v ? v : "", vn);
}

/* store_kv_each - call cb for every entry of ns in key order (memcmp) */
int
store_kv_each(struct store *s, int ns,
    int (*cb)(void *ctx, const void *key, size_t klen, const void *val, size_t vlen), void *ctx,
    char *err, size_t errlen)
{
	struct kv_walk w = { cb, ctx };
	const struct store_val v[] = { sv_int(ns) };

	return store_walk(s, ST_KV_EACH, v, STORE_NVAL(v), kv_row, &w, err, errlen);
}

/* store_mark_removed - the queued message (host, instance, qid) is gone */
int
store_mark_removed(struct store *s, const char *host, const char *instance, const char *qid,
    int64_t time_us, char *err, size_t errlen)
{
	const struct store_val v[] = {
		sv_int(time_us),
		sv_opt(qid),
		sv_opt(host),
		sv_opt(instance),
	};

	store_bulk_removed(s, host, instance, qid, time_us);
	return store_run(s, ST_MARK_REMOVED, v, STORE_NVAL(v), err, errlen);
}

/*
 * store_ident_vals - ?1 and ?2 of an identity family's statement: the
 * value of identity "kind:value" (a uid as an integer) and arg2
 */
int
store_ident_vals(const char *identity, int64_t arg2, struct store_val v[2], enum ident_kind *kind,
    char *err, size_t errlen)
{
	const char *value, *why;
	char *end;
	long long uid;

	if (ident_parse(identity, kind, &value, &why) < 0)
		return store_seterr(err, errlen, "%.200s: not an identity: %s", identity, why);
	v[0] = sv_text(value);
	if (*kind == IDENT_UID) {
		errno = 0;
		uid = strtoll(value, &end, 10);
		if (*end != '\0' || errno != 0)
			return store_seterr(err, errlen, "%.200s: not a uid", identity);
		v[0] = sv_int(uid);
	}
	v[1] = sv_int(arg2);
	return 0;
}

/*
 * ident_walk - walk the rows of identity "kind:value" with the statement
 * of family base (ST_QUEUED_SASL, ST_RECENT_SASL, ST_DELIV_SASL or
 * ST_CLIENTS_SASL) for its kind, through r: ?1 is the value (a uid as an
 * integer), ?2 is arg2.
 */
static int
ident_walk(struct store *s, enum store_st base, const char *identity, int64_t arg2,
    struct store_rows *r, char *err, size_t errlen)
{
	struct store_val v[2];
	enum ident_kind k;

	if (store_ident_vals(identity, arg2, v, &k, err, errlen) < 0)
		return -1;
	return store_walk(s, (enum store_st)(base + (int)k), v, STORE_NVAL(v), store_row, r, err,
	    errlen);
}

/* store_each_queued - messages of identity accepted since since_us and not removed */
int
store_each_queued(struct store *s, const char *identity, int64_t since_us,
    int (*cb)(void *, const struct store_msg *), void *ctx, char *err, size_t errlen)
{
	struct store_rows r = { &msg_map, { .msg = cb }, ctx };
	struct store_val v[2];
	enum ident_kind k;

	if (store_ident_vals(identity, since_us, v, &k, err, errlen) < 0)
		return -1;
	/* a batch's kept messages merged in (store_kept.c); the domain kinds write them first */
	if (k == IDENT_SASL || k == IDENT_UID || k == IDENT_SENDER || k == IDENT_IP)
		return store_kept_queued(s, (enum store_st)(ST_QUEUED_SASL + (int)k), k, v, &r, err,
		    errlen);
	return store_walk(s, (enum store_st)(ST_QUEUED_SASL + (int)k), v, STORE_NVAL(v), store_row,
	    &r, err, errlen);
}

/*
 * The quick path's scan of an identity's messages, newest id first: the
 * limit greatest so far in a min-heap by key, and whether a row not of
 * ours (or a failed allocation) ended it.
 */
struct recent_scan {
	const struct store_order *o;
	struct store_msg_copy **h;
	size_t n, cap;
	int64_t t, id; /* of the row being read */
	struct store_msg_copy *copy;
	int foreign, nomem;
	/* store_each_queued_recent: QUEUED's rows too (time_us >= since, not removed) */
	int queued;
	int64_t since;
	struct store_msg_copy **q;
	size_t nq, qcap;
};

/* key_less - a before b in RECENT's order, (time_us, id) */
static int
key_less(const struct store_msg_copy *a, const struct store_msg_copy *b)
{
	return store_msg_copy_less(a, b->t, b->id);
}

/* heap_down - restore the min-heap below slot i */
static void
heap_down(struct store_msg_copy **h, size_t n, size_t i)
{
	struct store_msg_copy *x = h[i];
	size_t c;

	for (; (c = 2 * i + 1) < n; i = c) {
		if (c + 1 < n && key_less(h[c + 1], h[c]))
			c++;
		if (!key_less(h[c], x))
			break;
		h[i] = h[c];
	}
	h[i] = x;
}

/* heap_add - keep r (the heap has room, or r is greater than its least, which goes) */
static void
heap_add(struct recent_scan *sc, struct store_msg_copy *r)
{
	size_t i, p;

	if (sc->n == sc->cap) {
		free(sc->h[0]);
		sc->h[0] = r;
		heap_down(sc->h, sc->n, 0);
		return;
	}
	for (i = sc->n++; i > 0 && key_less(r, sc->h[p = (i - 1) / 2]); i = p)
		sc->h[i] = sc->h[p];
	sc->h[i] = r;
}

/* store_copy_str - copy s (NULL stays NULL) to *pp, which moves past it; the copy */
const char *
store_copy_str(char **pp, const char *s)
{
	size_t n;
	char *d = *pp;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	memcpy(d, s, n);
	*pp += n;
	return d;
}

/* recent_copy - the row store_row() filled, copied for after the walk */
static int
recent_copy(void *ctx, const struct store_msg *m)
{
	struct recent_scan *sc = ctx;

	if ((sc->copy = store_msg_copy(m, sc->id)) == NULL) {
		sc->nomem = 1;
		return 1;
	}
	return 0;
}

/* queued_add - the row being read (a QUEUED one) copied to sc->q; 1: no memory (stops the scan) */
static int
queued_add(struct recent_scan *sc, sqlite3_stmt *st)
{
	struct store_rows r = { &msg_map, { .msg = recent_copy }, sc };
	struct store_msg_copy **nq;

	if (sc->nq == sc->qcap) {
		sc->qcap = sc->qcap ? sc->qcap * 2 : 16;
		if ((nq = reallocarray(sc->q, sc->qcap, sizeof(struct store_msg_copy *))) == NULL) {
			sc->nomem = 1;
			return 1;
		}
		sc->q = nq;
	}
	if (store_row(st, &r) != 0)
		return 1;
	sc->copy->m.removed_us = 0; /* as QUEUED reads it */
	sc->q[sc->nq++] = sc->copy;
	return 0;
}

/*
 * recent_row_fn - one message, newest id first: kept when it is among
 * the limit newest so far; 1 stops the scan, when the row is not ours
 * or when no older id can be among the newest
 */
static int
recent_row_fn(sqlite3_stmt *st, void *arg)
{
	struct recent_scan *sc = arg;
	struct store_rows r = { &msg_map, { .msg = recent_copy }, sc };
	int64_t reach;

	sc->t = sqlite3_column_int64(st, 0);
	sc->id = sqlite3_column_int64(st, 10);
	if (sc->id < sc->o->lo || sc->id > sc->o->hi) {
		sc->foreign = 1;
		return 1;
	}
	if (sc->queued && sc->t >= sc->since && sqlite3_column_type(st, 9) == SQLITE_NULL &&
	    queued_add(sc, st))
		return 1;
	if (sc->n < sc->cap || store_msg_copy_less(sc->h[0], sc->t, sc->id)) {
		if (store_row(st, &r) != 0)
			return 1;
		heap_add(sc, sc->copy);
	}
	/*
	 * the rows not read yet: ids below this one's, times at most reach;
	 * the least kept may be a batch's kept message of a smaller id
	 * (store_kept.c), so at its very time it must not be of a greater id;
	 * QUEUED's rows: none of them before since
	 */
	return sc->n == sc->cap && !__builtin_add_overflow(sc->t, sc->o->slack, &reach) &&
	    (reach < sc->h[0]->t || (reach == sc->h[0]->t && sc->id <= sc->h[0]->id)) &&
	    (!sc->queued || reach < sc->since);
}

/* row_cmp - qsort the kept rows into RECENT's order */
static int
row_cmp(const void *a, const void *b)
{
	const struct store_msg_copy *x = *(struct store_msg_copy *const *)a;
	const struct store_msg_copy *y = *(struct store_msg_copy *const *)b;

	return key_less(x, y) ? -1 : key_less(y, x);
}

/* What store_each_queued_recent() asks of the scan besides RECENT's rows. */
struct queued_ask {
	int64_t since;
	int (*cb)(void *, const struct store_msg *);
};

/*
 * queued_tell - QUEUED's rows of the scan and the batch's kept ones that
 * pass its test, in (time_us, id) order, to qa->cb until it says stop;
 * 0, or -1 with err
 */
static int
queued_tell(struct store *s, enum ident_kind k, const struct store_val *v, struct recent_scan *sc,
    const struct queued_ask *qa, void *ctx, char *err, size_t errlen)
{
	struct store_msg_copy **kept, **all;
	size_t i, nkept;

	if (store_kept_rows(s, k, v, 1, qa->since, &kept, &nkept, err, errlen) < 0)
		return -1;
	if (nkept > 0) {
		if ((all = reallocarray(sc->q, sc->nq + nkept, sizeof(struct store_msg_copy *))) ==
		    NULL) {
			store_msg_copies_free(kept, nkept);
			return store_seterr(err, errlen, "%s: read messages: out of memory",
			    s->path);
		}
		memcpy(all + sc->nq, kept, nkept * sizeof(struct store_msg_copy *));
		sc->q = all;
		sc->nq += nkept;
		free(kept);
	}
	if (sc->nq > 1)
		qsort(sc->q, sc->nq, sizeof(struct store_msg_copy *), row_cmp);
	for (i = 0; i < sc->nq; i++)
		if (qa->cb(ctx, &sc->q[i]->m) != 0)
			break;
	return 0;
}

/*
 * recent_quick - store_each_recent() without sorting all the identity's
 * messages: what the callback returned (or -1), with *told 1; *told 0
 * when it cannot tell (nothing was called back: the caller asks RECENT).
 *
 * Every message this connection inserted got the next id (SQLite gives
 * max(id) + 1, so an id smaller than another's went in before it), and
 * was at most slack older than the newest message in the table then
 * (top: read before our first insert, then kept).  So for a message j of
 * ours, every message with a smaller id is at most j's time_us + slack:
 * reading the identity's messages newest id first (its index backwards),
 * once limit of them are kept and j's time_us + slack is not past the
 * oldest kept, no older id can be among the newest limit, and those kept
 * are RECENT's rows exactly; they are sorted here and called back after
 * the walk.  A row not of ours (an id outside lo..hi: rows from before
 * this connection's first insert, or another writer's) ends the quick
 * path; the order is given up for good at a gap in our ids
 * (order_note()) and at a rollback.  Held-back messages go in up to the
 * tracker's link window late, so the scan reads a little past the newest
 * limit; RECENT reads all of them and sorts.
 */
static int
recent_quick(struct store *s, const char *identity, int limit, const struct queued_ask *qa,
    int (*cb)(void *, const struct store_msg *), void *ctx, int *told, char *err, size_t errlen)
{
	struct recent_scan sc = { .o = &s->ord, .cap = (size_t)limit };
	struct store_msg_copy **kept;
	struct store_val v[2];
	enum ident_kind k;
	size_t i, nkept;
	int rc;

	*told = 0;
	if (s->ord.state != 2 || limit <= 0 ||
	    store_ident_vals(identity, limit, v, &k, err, errlen) < 0 ||
	    (k != IDENT_SASL && k != IDENT_UID && k != IDENT_SENDER && k != IDENT_IP) ||
	    (sc.h = malloc(sc.cap * sizeof(struct store_msg_copy *))) == NULL)
		return 0;
	/* the batch's kept messages first (store_kept.c): their ids are ours too */
	if (store_kept_rows(s, k, &v[0], 0, 0, &kept, &nkept, err, errlen) < 0) {
		free(sc.h);
		*told = 1;
		return -1;
	}
	for (i = 0; i < nkept; i++)
		if (sc.n < sc.cap || key_less(sc.h[0], kept[i]))
			heap_add(&sc, kept[i]);
		else
			free(kept[i]);
	free(kept);
	if (qa != NULL) {
		sc.queued = 1;
		sc.since = qa->since;
	}
	rc = store_walk(s, (enum store_st)(ST_RECENT_BYID_SASL + (int)k), v, 1, recent_row_fn, &sc,
	    err, errlen);
	*told = rc < 0 || (!sc.foreign && !sc.nomem);
	if (*told && rc >= 0 && qa != NULL)
		rc = queued_tell(s, k, &v[0], &sc, qa, ctx, err, errlen) < 0 ? -1 : 0;
	if (*told && rc >= 0) {
		qsort(sc.h, sc.n, sizeof(struct store_msg_copy *), row_cmp);
		for (i = 0, rc = 0; i < sc.n && rc == 0; i++)
			rc = cb(ctx, &sc.h[i]->m);
	}
	for (i = 0; i < sc.n; i++)
		free(sc.h[i]);
	free(sc.h);
	store_msg_copies_free(sc.q, sc.nq);
	return rc;
}

/*
 * store_each_queued_recent - store_each_queued() then store_each_recent()
 * (see store.h) from one scan of the identity's messages, newest id
 * first, when the quick path can tell (it reads on until no row of
 * QUEUED's can come): the same rows to the same callbacks in the same
 * order, the identity's index read once instead of twice at a verdict
 */
int
store_each_queued_recent(struct store *s, const char *identity, int64_t since_us, int limit,
    int (*qcb)(void *, const struct store_msg *), int (*rcb)(void *, const struct store_msg *),
    void *ctx, char *err, size_t errlen)
{
	const struct queued_ask qa = { since_us, qcb };
	int told, rc = recent_quick(s, identity, limit, &qa, rcb, ctx, &told, err, errlen);

	if (told)
		return rc;
	if (store_each_queued(s, identity, since_us, qcb, ctx, err, errlen) < 0)
		return -1;
	return store_each_recent(s, identity, limit, rcb, ctx, err, errlen);
}

/* store_each_recent - the identity's newest limit messages, oldest first, with removed_us */
int
store_each_recent(struct store *s, const char *identity, int limit,
    int (*cb)(void *, const struct store_msg *), void *ctx, char *err, size_t errlen)
{
	struct store_rows r = { &msg_map, { .msg = cb }, ctx };
	int told, rc = recent_quick(s, identity, limit, NULL, cb, ctx, &told, err, errlen);

	if (told)
		return rc;
	return ident_walk(s, ST_RECENT_SASL, identity, limit, &r, err, errlen);
}

/*
 * store_add_outcome - n more recipients of the message's status; a bounce
 * is kept too (see store.h)
 */
int
store_add_outcome(struct store *s, const struct store_outcome *o, char *err, size_t errlen)
{
	const struct store_msg *m = o->msg;
	const struct store_val v[] = {
		sv_int(o->status),
		sv_int(o->n),
		sv_opt(m->queue_id),
		sv_opt(m->host),
		sv_opt(m->instance),
		sv_int(m->time_us),
	};
	const struct store_bounce b = {
		.time_us = o->time_us,
		.host = m->host,
		.instance = m->instance,
		.queue_id = m->queue_id,
		.sasl = m->sasl,
		.sender = m->sender,
		.client_ip = m->client_ip,
		.uid = m->uid,
		.n = o->n,
		.msg_us = m->time_us,
	};

	if (o->status < STORE_SENT || o->status > STORE_BOUNCED)
		return store_seterr(err, errlen, "%s: save outcome: bad status %d", s->path,
		    o->status);
	/* a message a bulk load keeps back takes it in memory (store_bulk.c) */
	if (!store_bulk_outcome(s, o) &&
	    store_run(s, ST_ADD_OUTCOME, v, STORE_NVAL(v), err, errlen) < 0)
		return -1;
	if (o->status != STORE_BOUNCED)
		return 0;
	return store_put(s, ST_ADD_BOUNCE, &bounce_map, &b, err, errlen);
}

/* store_each_bounce - every bounce with time_us >= since_us, in time order */
int
store_each_bounce(struct store *s, int64_t since_us,
    int (*cb)(void *ctx, const struct store_bounce *), void *ctx, char *err, size_t errlen)
{
	struct store_rows r = { &bounce_map, { .bounce = cb }, ctx };
	const struct store_val v[] = { sv_int(since_us) };

	return store_walk(s, ST_EACH_BOUNCE, v, STORE_NVAL(v), store_row, &r, err, errlen);
}

/* copy_deliveries - the one row of a DELIVERIES statement into *ctx; stops the walk */
static int
copy_deliveries(void *ctx, const struct store_deliveries *d)
{
	*(struct store_deliveries *)ctx = *d;
	return 1;
}

/* store_get_deliveries - the identity's outcomes and distinct senders since since_us */
int
store_get_deliveries(struct store *s, const char *identity, int64_t since_us,
    struct store_deliveries *out, char *err, size_t errlen)
{
	struct store_rows r = { &deliv_map, { .deliv = copy_deliveries }, out };

	memset(out, 0, sizeof(*out));
	return ident_walk(s, ST_DELIV_SASL, identity, since_us, &r, err, errlen) < 0 ? -1 : 0;
}

/* store_each_client - the identity's client IPs, most messages first, at most limit */
int
store_each_client(struct store *s, const char *identity, int limit,
    int (*cb)(void *ctx, const struct store_client *), void *ctx, char *err, size_t errlen)
{
	struct store_rows r = { &client_map, { .client = cb }, ctx };

	return ident_walk(s, ST_CLIENTS_SASL, identity, limit, &r, err, errlen);
}
