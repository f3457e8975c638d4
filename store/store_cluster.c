/*
 * NAME
 *	store_cluster - the cluster's half of the store: the outbox of this
 *	node's messages, the outbox of its block decisions, the other nodes'
 *	messages and the fetch cursors
 * SUMMARY
 *	Exports store_add_outbox(), store_each_outbox(), store_outbox_sent(),
 *	store_count_outbox(), store_add_decision(), store_each_decision(),
 *	store_decision_sent(), store_add_remote(), store_get_ccursor(),
 *	store_set_ccursor(), store_each_remote_node() and
 *	store_each_node_time().
 *
 *	Each function names one statement of the core's table (store.c).
 *	An outbox row and another node's message are one struct (store_cmsg:
 *	an id, a node and a struct store_msg), a decision another, each
 *	described once by a row map; the message's own columns are those of
 *	store_count.c's message map, written through it.
 *	Exactly once is the callers' transactions: an outbox row is written
 *	with the log cursor of its batch, and deleted only after PostgreSQL
 *	has committed it (a crash in between sends it again, which
 *	PostgreSQL's key ignores); another node's message is written with
 *	the fetch cursor past it, and its id (PostgreSQL's) is its key here.
 * RETURNS
 *	0, -1 with "path: what: reason" in err, or the value store.h
 *	documents (a count, a callback's non-zero return).  Never prints,
 *	never exits.
 * UNTRUSTED INPUT
 *	Hosts, queue IDs, logins, senders and addresses from this node's log
 *	or, through PostgreSQL, from the other nodes' logs; identities and
 *	node names: all bound as parameters, never pasted into SQL.
 */
#include <string.h>

#include "store/store_priv.h"

/* cmsg_map - the columns of CMSG_COLS (id, node, then the message's) */
#define SC_ROW struct store_cmsg
static const struct store_col cmsg_cols[] = { SC_I64(id), SC_STR(node, SW_OPT), SC_I64(m.time_us),
	SC_STR(m.host, SW_OPT), SC_STR(m.instance, SW_OPT), SC_STR(m.queue_id, SW_OPT),
	SC_STR(m.sasl, SW_OPT), SC_STR(m.sender, SW_OPT), SC_STR(m.client_ip, SW_OPT),
	SC_LONG_OPT(m.uid, -1), SC_LONG(m.nrcpt) };
#undef SC_ROW
static const struct store_map cmsg_map = { SK_CMSG, cmsg_cols, STORE_NVAL(cmsg_cols) };

/* decision_map - the columns of DECISION_COLS, the parameters of ST_ADD_DECISION */
#define SC_ROW struct store_decision
static const struct store_col decision_cols[] = { SC_I64(id), SC_I64(time_us),
	SC_STR(kind, SW_ASIS), SC_STR(identity, SW_ASIS), SC_STR(rule, SW_OPT), SC_I64(until_us),
	SC_STR(mode, SW_OPT) };
#undef SC_ROW
static const struct store_map decision_map = { SK_DECISION, decision_cols,
	STORE_NVAL(decision_cols) };

/* store_add_outbox - this node's accepted message, to be published */
int
store_add_outbox(struct store *s, const struct store_msg *m, char *err, size_t errlen)
{
	return store_put(s, ST_ADD_OUTBOX, store_msg_map, m, err, errlen);
}

/* store_each_outbox - the oldest limit rows of the outbox, oldest first */
int
store_each_outbox(struct store *s, int limit, int (*cb)(void *ctx, const struct store_cmsg *),
    void *ctx, char *err, size_t errlen)
{
	struct store_rows r = { &cmsg_map, { .cmsg = cb }, ctx };
	const struct store_val v[] = { sv_int(limit) };

	return store_walk(s, ST_EACH_OUTBOX, v, STORE_NVAL(v), store_row, &r, err, errlen);
}

/* sent - delete the rows up to id with statement which */
static int
sent(struct store *s, enum store_st which, int64_t id, char *err, size_t errlen)
{
	const struct store_val v[] = { sv_int(id) };

	return store_run(s, which, v, STORE_NVAL(v), err, errlen);
}

/* store_outbox_sent - PostgreSQL has the rows up to id */
int
store_outbox_sent(struct store *s, int64_t id, char *err, size_t errlen)
{
	return sent(s, ST_OUTBOX_SENT, id, err, errlen);
}

/* store_count_outbox - messages not yet published, -1 on error */
int64_t
store_count_outbox(struct store *s)
{
	return store_int_query(s, ST_COUNT_OUTBOX);
}

/* store_add_decision - a block decided or ended here, for the other nodes */
int
store_add_decision(struct store *s, const struct store_decision *d, char *err, size_t errlen)
{
	if (d->identity == NULL || d->kind == NULL)
		return store_seterr(err, errlen, "%s: add to outbox: no identity", s->path);
	return store_put(s, ST_ADD_DECISION, &decision_map, d, err, errlen);
}

/* store_each_decision - the oldest limit decisions, oldest first */
int
store_each_decision(struct store *s, int limit, int (*cb)(void *ctx, const struct store_decision *),
    void *ctx, char *err, size_t errlen)
{
	struct store_rows r = { &decision_map, { .decision = cb }, ctx };
	const struct store_val v[] = { sv_int(limit) };

	return store_walk(s, ST_EACH_DECISION, v, STORE_NVAL(v), store_row, &r, err, errlen);
}

/* store_decision_sent - PostgreSQL has the decisions up to id */
int
store_decision_sent(struct store *s, int64_t id, char *err, size_t errlen)
{
	return sent(s, ST_DECISION_SENT, id, err, errlen);
}

/* store_add_remote - another node's message, under its PostgreSQL id: 1 new, 0 known */
int
store_add_remote(struct store *s, const struct store_cmsg *m, char *err, size_t errlen)
{
	if (m->node == NULL || m->node[0] == '\0')
		return store_seterr(err, errlen, "%s: add remote message: no node", s->path);
	if (store_put(s, ST_ADD_REMOTE, &cmsg_map, m, err, errlen) < 0)
		return -1;
	return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

/* store_get_ccursor - the last id fetched of a stream, 0 when none */
int
store_get_ccursor(struct store *s, const char *name, int64_t *id, char *err, size_t errlen)
{
	const struct store_val v[] = { sv_text(name) };

	*id = 0;
	return store_walk(s, ST_GET_CCURSOR, v, STORE_NVAL(v), store_int_row, id, err, errlen) < 0
	    ? -1
	    : 0;
}

/* store_set_ccursor - the last id fetched of a stream, in the fetch's transaction */
int
store_set_ccursor(struct store *s, const char *name, int64_t id, char *err, size_t errlen)
{
	const struct store_val v[] = { sv_text(name), sv_int(id) };

	return store_run(s, ST_SET_CCURSOR, v, STORE_NVAL(v), err, errlen);
}

/* A walk whose rows are no struct: the caller's callback. */
struct node_walk {
	int (*per_node)(void *, const char *, int64_t, int64_t);
	int (*per_msg)(void *, const char *, int64_t);
	void *ctx;
};

/* node_row - one other node: its name, newest message and count */
static int
node_row(sqlite3_stmt *st, void *arg)
{
	const struct node_walk *w = arg;

	return w->per_node(w->ctx, store_col_str(st, 0), store_col_int(st, 1, 0),
	    store_col_int(st, 2, 0));
}

/* store_each_remote_node - per other node: newest message and count, by node */
int
store_each_remote_node(struct store *s,
    int (*cb)(void *ctx, const char *node, int64_t newest_us, int64_t n), void *ctx, char *err,
    size_t errlen)
{
	struct node_walk w = { cb, NULL, ctx };

	return store_walk(s, ST_EACH_REMOTE_NODE, NULL, 0, node_row, &w, err, errlen);
}

/* time_row - one message: its node (NULL: this node's) and time */
static int
time_row(sqlite3_stmt *st, void *arg)
{
	const struct node_walk *w = arg;

	return w->per_msg(w->ctx, store_col_str(st, 0), store_col_int(st, 1, 0));
}

/* store_each_node_time - who sent identity's messages since since_us, and when */
int
store_each_node_time(struct store *s, const char *identity, int64_t since_us,
    int (*cb)(void *ctx, const char *node, int64_t time_us), void *ctx, char *err, size_t errlen)
{
	struct node_walk w = { NULL, cb, ctx };
	struct store_val v[2];
	enum ident_kind k;

	if (store_ident_vals(identity, since_us, v, &k, err, errlen) < 0)
		return -1;
	return store_walk(s, (enum store_st)(ST_NODES_SASL + (int)k), v, STORE_NVAL(v), time_row,
	    &w, err, errlen);
}
