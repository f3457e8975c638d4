/*
 * NAME
 *	pg - the cluster's PostgreSQL connection, schema and operations
 *	(see pg.h)
 * SUMMARY
 *	One PGconn in non-blocking mode, through libpq loaded at run time
 *	(pg_lib.h: pg_conninfo_check() and pg_connect() load it first).
 *	Connecting is PQconnectStartParams
 *	(application_name, connect_timeout and TCP keepalives first, so that
 *	the administrator's conninfo can still override them) then
 *	PQconnectPoll each time the socket is ready.  Every statement is an
 *	operation (struct op) in one queue: the head is sent with
 *	PQsendQueryParams (or PQsendQuery for the constant, several-statement
 *	schema steps), flushed as the socket takes it, and its results are
 *	read with PQconsumeInput/PQisBusy/PQgetResult, never blocking.  The
 *	schema steps and the LISTEN run first, as operations of their own
 *	without a caller; PG_UP is said when they are done.
 *	The SQL is constant text here, like the SQLite store's table; the
 *	schema steps (pg_schema.c, append only, as the SQLite migrations)
 *	hold the tables and the server-side functions whose one statement
 *	is one transaction.
 * RETURNS
 *	0 / -1 with err, or through an operation's done.  Never prints,
 *	never exits.
 * UNTRUSTED INPUT
 *	Strings from logs reach PostgreSQL as hex in bound parameters (the
 *	JSON of a batch holds only hex strings and numbers); rows read back
 *	are decoded and checked (get_hex, get_i64) before a callback sees
 *	them, and a row that fails is skipped and counted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg.h"
#include "store/pg_lib.h" /* libpq-fe.h, its PQ names redirected to the loaded library */
#include "store/pg_priv.h"
#include "util/buf.h"
#include "util/hex.h"
#include "util/ident.h"

#define PG_BATCH_MAX ((size_t)64 * 1024 * 1024) /* the JSON of one publish */
#define PG_NODE_MAX 64                          /* bytes of a node name */
#define PG_NPARAM 6

#define SQL_VERSION "SELECT coalesce(max(version), 0) FROM sendguard_schema"
#define SQL_SETUP "SET statement_timeout = '60s'; LISTEN " PG_CHANNEL
#define SQL_PUBLISH "SELECT sendguard_publish($1, $2::jsonb, $3::bigint, $4::bigint)"
#define SQL_FETCH_MSG \
	"SELECT id, node, time_us, encode(host, 'hex'), encode(instance, 'hex')," \
	" encode(queue_id, 'hex'), encode(sasl, 'hex'), encode(sender, 'hex')," \
	" encode(client_ip, 'hex'), uid, nrcpt FROM sendguard_messages" \
	" WHERE id > $1::bigint AND time_us >= $2::bigint ORDER BY id LIMIT $3::integer"
#define SQL_FETCH_EV \
	"SELECT id, time_us, node, kind, encode(identity, 'hex'), rule, until_us, mode" \
	" FROM sendguard_events WHERE id > $1::bigint ORDER BY id LIMIT $2::integer"
#define SQL_BLOCK "SELECT sendguard_block($1, decode($2, 'hex'), $3, $4::bigint, $5::bigint)"
#define SQL_UNBLOCK "SELECT sendguard_unblock($1, decode($2, 'hex'), $3, $4::bigint)"
#define SQL_NODES \
	"SELECT node, last_publish_us, newest_us, published, outbox FROM sendguard_nodes" \
	" ORDER BY node"
#define SQL_PRUNE "SELECT sendguard_prune($1::bigint)"

enum opk {
	OP_VERSION, /* the schema's version, before migrating */
	OP_RECHECK, /* again, after a step failed (another node may have run it) */
	OP_MIGRATE,
	OP_SETUP,
	OP_PUBLISH,
	OP_FETCH_MSG,
	OP_FETCH_EV,
	OP_DECIDE,
	OP_NODES,
	OP_PRUNE
};

/* One statement in the queue. */
struct op {
	struct op *next;
	enum opk kind;
	const char *sql; /* constant, or own_sql */
	char *own_sql;   /* a schema step with its prelude */
	int simple;      /* PQsendQuery: no parameters, maybe several statements */
	int nparam;
	char *param[PG_NPARAM]; /* owned; NULL is SQL NULL */
	int step;               /* OP_MIGRATE, OP_RECHECK: the version it is about */
	union {
		int (*msg)(void *, const struct store_cmsg *);
		int (*ev)(void *, const struct pg_event *);
		int (*node)(void *, const struct pg_node *);
	} row;
	pg_done_fn done; /* NULL: one of pg's own */
	void *ctx;
	/* what came back */
	int failed, stopped;
	int64_t n, last_id, bad;
	char state[6];   /* SQLSTATE of the error */
	char why[512];   /* the error */
	char cause[512]; /* OP_RECHECK: why the step failed */
};

struct pg {
	char *conninfo, *node;
	struct pg_hooks h;
	PGconn *conn;
	enum pg_link state;
	int polling;  /* connecting: PG_WANT_* of the last PQconnectPoll */
	int flushing; /* output is waiting for the socket */
	int sent;     /* the head of the queue is sent */
	struct op *head, *tail;
	struct buf batch; /* the JSON array of the next publish */
	size_t nbatch;
};

/* ---------------------------------------------------------------- helpers */

/* flat - libpq's message on one line: each run of blanks and newlines one space, none at the ends */
static char *
flat(char *s)
{
	char *r = s, *w = s;

	for (; *r != '\0'; r++) {
		if (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r') {
			if (w > s && w[-1] != ' ')
				*w++ = ' ';
		} else
			*w++ = *r;
	}
	if (w > s && w[-1] == ' ')
		w--;
	*w = '\0';
	return (s);
}

int
pg_conninfo_check(const char *conninfo, char *err, size_t errlen)
{
	PQconninfoOption *o, *opts;
	char *perr = NULL;
	int r = 0;

	if (pg_lib_load(err, errlen) < 0)
		return (-1);
	if ((opts = PQconninfoParse(conninfo, &perr)) == NULL) {
		snprintf(err, errlen, "%s", perr != NULL ? perr : "out of memory");
		flat(err);
		PQfreemem(perr);
		return (-1);
	}
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL && o->val[0] != '\0') {
			snprintf(err, errlen,
			    "holds a password; give it in ~/.pgpass (or the file PGPASSFILE names) "
			    "instead: agent.conf is read by more than the daemon");
			r = -1;
		}
	PQconninfoFree(opts);
	return (r);
}

struct pg *
pg_new(const char *conninfo, const char *node, const struct pg_hooks *h)
{
	struct pg *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (NULL);
	if ((p->conninfo = strdup(conninfo)) == NULL || (p->node = strdup(node)) == NULL) {
		pg_free(p);
		return (NULL);
	}
	p->h = *h;
	buf_init(&p->batch, PG_BATCH_MAX);
	return (p);
}

/* op_free - an operation and its parameters */
static void
op_free(struct op *o)
{
	int i;

	for (i = 0; i < o->nparam; i++)
		free(o->param[i]);
	free(o->own_sql);
	free(o);
}

/* op_new - an operation of kind with constant sql, queued at the end (front: first); NULL: ENOMEM */
static struct op *
op_new(struct pg *p, enum opk kind, const char *sql, int front)
{
	struct op *o;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return (NULL);
	o->kind = kind;
	o->sql = sql;
	if (front && p->head != NULL && !p->sent) {
		o->next = p->head;
		p->head = o;
	} else if (front && p->head != NULL) { /* behind the one running */
		o->next = p->head->next;
		p->head->next = o;
		if (p->tail == p->head)
			p->tail = o;
	} else {
		if (p->tail != NULL)
			p->tail->next = o;
		else
			p->head = o;
		p->tail = o;
	}
	return (o);
}

/* op_param - a copy of s (NULL: SQL NULL) as the next parameter; -1 when out of memory */
static int
op_param(struct op *o, const char *s)
{
	if (o->nparam >= PG_NPARAM)
		return (-1);
	if (s != NULL && (o->param[o->nparam] = strdup(s)) == NULL)
		return (-1);
	o->nparam++;
	return (0);
}

/* op_int - an integer parameter */
static int
op_int(struct op *o, int64_t v)
{
	char b[32];

	snprintf(b, sizeof(b), "%lld", (long long)v);
	return (op_param(o, b));
}

/* fail_all - every queued operation fails with why (their done called after they are off the queue) */
static void
fail_all(struct pg *p, const char *why)
{
	struct op *o = p->head, *next;
	const struct pg_done d = { 0, 0, 0, 0, why };

	p->head = p->tail = NULL;
	p->sent = 0;
	for (; o != NULL; o = next) {
		next = o->next;
		if (o->done != NULL)
			o->done(o->ctx, &d);
		op_free(o);
	}
}

/* drop - forget the connection (no callback) */
static void
drop(struct pg *p)
{
	if (p->conn != NULL)
		PQfinish(p->conn);
	p->conn = NULL;
	p->state = PG_DOWN;
	p->polling = p->flushing = p->sent = 0;
	buf_reset(&p->batch);
	p->nbatch = 0;
}

void
pg_close(struct pg *p, const char *why)
{
	int was = p->state;

	drop(p);
	fail_all(p, why);
	if (was != PG_DOWN && p->h.on_state != NULL)
		p->h.on_state(p->h.ctx, PG_DOWN, why);
}

/* lost - the connection broke: close it with libpq's reason */
static void
lost(struct pg *p, const char *what)
{
	char why[512];
	const char *m = p->conn != NULL ? PQerrorMessage(p->conn) : "";

	snprintf(why, sizeof(why), "%s%s%s", what, m[0] != '\0' ? ": " : "", m);
	pg_close(p, flat(why));
}

void
pg_free(struct pg *p)
{
	struct op *o, *next;

	if (p == NULL)
		return;
	drop(p);
	for (o = p->head; o != NULL; o = next) {
		next = o->next;
		op_free(o);
	}
	buf_free(&p->batch);
	free(p->conninfo);
	free(p->node);
	free(p);
}

/* quiet - the server's notices ("already exists, skipping") are nobody's business */
static void
quiet(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}

int
pg_connect(struct pg *p, char *err, size_t errlen)
{
	/* ours first: the administrator's conninfo (expanded from dbname) overrides them */
	static const char *const keys[] = { "application_name", "connect_timeout", "keepalives",
		"keepalives_idle", "keepalives_interval", "keepalives_count", "dbname", NULL };
	const char *vals[] = { "sendguard", "10", "1", "60", "10", "3", p->conninfo, NULL };

	if (p->state != PG_DOWN)
		return (0);
	if (pg_lib_load(err, errlen) < 0)
		return (-1);
	if ((p->conn = PQconnectStartParams(keys, vals, 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	PQsetNoticeProcessor(p->conn, quiet, NULL); /* a library never prints */
	if (PQstatus(p->conn) == CONNECTION_BAD) {
		snprintf(err, errlen, "%s", PQerrorMessage(p->conn));
		flat(err);
		drop(p);
		return (-1);
	}
	p->state = PG_CONNECTING;
	p->polling = PG_WANT_WRITE; /* as if PQconnectPoll had said PGRES_POLLING_WRITING */
	return (0);
}

int
pg_fd(const struct pg *p)
{
	return (p->conn != NULL ? PQsocket(p->conn) : -1);
}

int
pg_want(const struct pg *p)
{
	if (p->conn == NULL)
		return (0);
	if (p->polling)
		return (p->polling);
	return (PG_WANT_READ | (p->flushing ? PG_WANT_WRITE : 0));
}

enum pg_link
pg_state(const struct pg *p)
{
	return (p->state);
}

int
pg_busy(const struct pg *p)
{
	return (p->head != NULL);
}

/* ------------------------------------------------------------ reading rows */

/* get_i64 - column c of row r as an integer (dflt for NULL); 0, or -1 when it is none */
static int
get_i64(const PGresult *res, int r, int c, int64_t dflt, int64_t *out)
{
	const char *s;
	char *end;
	long long v;

	if (PQgetisnull(res, r, c)) {
		*out = dflt;
		return (0);
	}
	s = PQgetvalue(res, r, c);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || errno == ERANGE)
		return (-1);
	*out = v;
	return (0);
}

/*
 * get_hex - column c of row r, hex, as a C string in out (size bytes):
 * NULL for SQL NULL; -1 (*ok) when it is not hex, too long, or holds a NUL
 */
static const char *
get_hex(const PGresult *res, int r, int c, char *out, size_t size, int *ok)
{
	const char *s;
	long n;

	if (PQgetisnull(res, r, c))
		return (NULL);
	s = PQgetvalue(res, r, c);
	if ((n = hex_decode(s, strlen(s), out, size)) < 0 || strlen(out) != (size_t)n)
		*ok = 0;
	return (out);
}

/* get_text - column c of row r as text of at most max bytes; NULL for SQL NULL or longer */
static const char *
get_text(const PGresult *res, int r, int c, size_t max, int *ok)
{
	const char *s;

	if (PQgetisnull(res, r, c))
		return (NULL);
	s = PQgetvalue(res, r, c);
	if (strlen(s) > max)
		*ok = 0;
	return (s);
}

/*
 * row_id - the id in column 0 of a fetched row, counted in o as read
 * whether the rest of the row is sound or not; -1 when it is no number
 */
static int
row_id(struct op *o, const PGresult *res, int r, int64_t *id)
{
	if (get_i64(res, r, 0, 0, id) < 0)
		return (-1);
	o->last_id = *id;
	return (0);
}

/*
 * value_ok - a field identities are made of (NULL: absent) has no control
 * byte, as the parser requires of a log's (parsers/postfix.c)
 */
static int
value_ok(const char *v)
{
	for (; v != NULL && *v != '\0'; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return (0);
	return (1);
}

/* msg_row - a row of SQL_FETCH_MSG to the caller; -1 for a malformed one, 1: stop */
static int
msg_row(struct op *o, const PGresult *res, int r)
{
	char f[6][IDENT_VALUE_MAX + 1];
	struct store_cmsg m;
	int64_t uid, nrcpt;
	int ok = 1;

	memset(&m, 0, sizeof(m));
	if (row_id(o, res, r, &m.id) < 0)
		return (-1);
	m.node = get_text(res, r, 1, PG_NODE_MAX, &ok);
	m.m.host = get_hex(res, r, 3, f[0], sizeof(f[0]), &ok);
	m.m.instance = get_hex(res, r, 4, f[1], sizeof(f[1]), &ok);
	m.m.queue_id = get_hex(res, r, 5, f[2], sizeof(f[2]), &ok);
	m.m.sasl = get_hex(res, r, 6, f[3], sizeof(f[3]), &ok);
	m.m.sender = get_hex(res, r, 7, f[4], sizeof(f[4]), &ok);
	m.m.client_ip = get_hex(res, r, 8, f[5], sizeof(f[5]), &ok);
	if (!ok || m.node == NULL || !value_ok(m.m.sasl) || !value_ok(m.m.sender) ||
	    !value_ok(m.m.client_ip) || get_i64(res, r, 2, 0, &m.m.time_us) < 0 ||
	    get_i64(res, r, 9, -1, &uid) < 0 || get_i64(res, r, 10, 0, &nrcpt) < 0 || uid < -1 ||
	    uid > 0x7fffffff || nrcpt < 0 || nrcpt > 0x7fffffff)
		return (-1);
	m.m.uid = (long)uid;
	m.m.nrcpt = (long)nrcpt;
	return (o->row.msg(o->ctx, &m) != 0 ? 1 : 0);
}

/* ev_row - a row of SQL_FETCH_EV to the caller; -1 for a malformed one, 1: stop */
static int
ev_row(struct op *o, const PGresult *res, int r)
{
	char id[IDENT_MAX];
	struct pg_event e;
	int ok = 1;

	memset(&e, 0, sizeof(e));
	if (row_id(o, res, r, &e.id) < 0)
		return (-1);
	e.node = get_text(res, r, 2, PG_NODE_MAX, &ok);
	e.kind = get_text(res, r, 3, 16, &ok);
	e.identity = get_hex(res, r, 4, id, sizeof(id), &ok);
	e.rule = get_text(res, r, 5, 128, &ok);
	e.mode = get_text(res, r, 7, 16, &ok);
	if (!ok || e.node == NULL || e.kind == NULL || e.identity == NULL ||
	    get_i64(res, r, 1, 0, &e.time_us) < 0 || get_i64(res, r, 6, 0, &e.until_us) < 0)
		return (-1);
	return (o->row.ev(o->ctx, &e) != 0 ? 1 : 0);
}

/* node_row - a row of SQL_NODES to the caller; -1 for a malformed one, 1: stop */
static int
node_row(struct op *o, const PGresult *res, int r)
{
	struct pg_node n;
	int ok = 1;

	memset(&n, 0, sizeof(n));
	n.node = get_text(res, r, 0, PG_NODE_MAX, &ok);
	if (!ok || n.node == NULL || get_i64(res, r, 1, 0, &n.last_publish_us) < 0 ||
	    get_i64(res, r, 2, 0, &n.newest_us) < 0 || get_i64(res, r, 3, 0, &n.published) < 0 ||
	    get_i64(res, r, 4, 0, &n.outbox) < 0)
		return (-1);
	return (o->row.node(o->ctx, &n) != 0 ? 1 : 0);
}

/*
 * rows - one result of o's: each row to its caller (n counts them), or,
 * for an operation with one value (a count, a version, an id; NULL is
 * 0), that value in n
 */
static void
rows(struct op *o, const PGresult *res)
{
	int r, nt = PQntuples(res), x;

	for (r = 0; r < nt && !o->stopped; r++) {
		switch (o->kind) {
		case OP_FETCH_MSG:
			x = msg_row(o, res, r);
			break;
		case OP_FETCH_EV:
			x = ev_row(o, res, r);
			break;
		case OP_NODES:
			x = node_row(o, res, r);
			break;
		default:
			(void)get_i64(res, r, 0, 0, &o->n); /* left as it was when malformed */
			continue;                           /* not a row that is counted */
		}
		o->n++;
		if (x < 0)
			o->bad++;
		else if (x > 0)
			o->stopped = 1;
	}
}

/* ------------------------------------------------------- the queue itself */

static void op_end(struct pg *p, struct op *o);

/* send_head - send the operation at the head of the queue, if any and not sent yet */
static void
send_head(struct pg *p)
{
	struct op *o = p->head;
	int r;

	if (o == NULL || p->sent || p->conn == NULL || p->polling)
		return;
	if (o->simple)
		r = PQsendQuery(p->conn, o->sql);
	else
		r = PQsendQueryParams(p->conn, o->sql, o->nparam, NULL,
		    (const char *const *)o->param, NULL, NULL, 0);
	if (r != 1) {
		lost(p, "sending a query");
		return;
	}
	p->sent = 1;
	if ((r = PQflush(p->conn)) < 0)
		lost(p, "sending a query");
	else
		p->flushing = r == 1;
}

/* result - one result of the running operation */
static void
result(struct op *o, PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);
	const char *m, *s;

	if (st == PGRES_TUPLES_OK)
		rows(o, res);
	else if (st != PGRES_COMMAND_OK && !o->failed) {
		o->failed = 1;
		m = PQresultErrorMessage(res);
		s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		snprintf(o->why, sizeof(o->why), "%s", m != NULL && m[0] ? m : PQresStatus(st));
		flat(o->why);
		snprintf(o->state, sizeof(o->state), "%s", s != NULL ? s : "");
	}
}

/* read_results - take what has come; end the running operation when its last result has */
static void
read_results(struct pg *p)
{
	PGresult *res;

	while (p->conn != NULL && p->sent && !PQisBusy(p->conn)) {
		struct op *o = p->head;

		if ((res = PQgetResult(p->conn)) == NULL) {
			p->sent = 0;
			p->head = o->next;
			if (p->head == NULL)
				p->tail = NULL;
			op_end(p, o);
			op_free(o);
			send_head(p);
			continue;
		}
		result(o, res);
		PQclear(res);
	}
}

/* notifies - every notification that has come, to on_notify */
static void
notifies(struct pg *p)
{
	PGnotify *n;

	while (p->conn != NULL && (n = PQnotifies(p->conn)) != NULL) {
		if (p->h.on_notify != NULL)
			p->h.on_notify(p->h.ctx, n->extra != NULL ? n->extra : "");
		PQfreemem(n);
	}
}

/* ------------------------------------------------- connecting, the schema */

/* schema_ops - after the version is known: the steps that are missing, then the setup */
static int
schema_ops(struct pg *p, int64_t version)
{
	struct op *o;
	int v;

	for (v = (int)version + 1; v <= PG_SCHEMA_LATEST; v++) {
		if ((o = op_new(p, OP_MIGRATE, NULL, 0)) == NULL ||
		    (o->sql = o->own_sql = pg_schema_sql(v)) == NULL)
			return (-1);
		o->simple = 1;
		o->step = v;
	}
	if ((o = op_new(p, OP_SETUP, SQL_SETUP, 0)) == NULL)
		return (-1);
	o->simple = 1;
	return (0);
}

/* op_end_own - one of pg's own operations ended: the next step of getting ready */
static void
op_end_own(struct pg *p, struct op *o)
{
	char why[600];
	struct op *r;

	switch (o->kind) {
	case OP_VERSION:
	case OP_RECHECK:
		if (o->failed && strcmp(o->state, "42P01") != 0) { /* 42P01: no table yet */
			snprintf(why, sizeof(why), "reading the schema version: %s", o->why);
			pg_close(p, why);
		} else if (o->n > PG_SCHEMA_LATEST) {
			snprintf(why, sizeof(why),
			    "the database's schema is version %lld, newer than this sendguard's "
			    "(%d): "
			    "upgrade this node",
			    (long long)o->n, PG_SCHEMA_LATEST);
			pg_close(p, why);
		} else if (o->kind == OP_RECHECK && o->n < o->step) {
			snprintf(why, sizeof(why), "creating the schema (version %d): %s", o->step,
			    o->cause);
			pg_close(p, why);
		} else if (o->kind == OP_VERSION && schema_ops(p, o->failed ? 0 : o->n) < 0)
			pg_close(p, "out of memory");
		break;
	case OP_MIGRATE:
		if (!o->failed)
			break;
		/* another node may have run this step first: look again */
		if ((r = op_new(p, OP_RECHECK, SQL_VERSION, 1)) == NULL) {
			pg_close(p, "out of memory");
			break;
		}
		r->simple = 1;
		r->step = o->step;
		snprintf(r->cause, sizeof(r->cause), "%s", o->why);
		break;
	case OP_SETUP:
		if (o->failed) {
			snprintf(why, sizeof(why), "LISTEN " PG_CHANNEL ": %s", o->why);
			pg_close(p, why);
			break;
		}
		p->state = PG_UP;
		if (p->h.on_state != NULL)
			p->h.on_state(p->h.ctx, PG_UP, NULL);
		break;
	default:
		break;
	}
}

/* op_end - o (off the queue) ended: tell its caller, or take the next step of getting ready */
static void
op_end(struct pg *p, struct op *o)
{
	struct pg_done d = { !o->failed && !o->stopped, o->n, o->last_id, o->bad, NULL };

	if (o->done == NULL) {
		op_end_own(p, o);
		return;
	}
	if (o->kind == OP_DECIDE)
		d.n = o->n != 0; /* the block's id, or 1 for an unblock: an event was made */
	if (o->failed)
		d.why = o->why;
	else if (o->stopped)
		d.why = "stopped by the caller";
	o->done(o->ctx, &d);
}

/* connected - the connection is made: non-blocking, then the schema and LISTEN */
static void
connected(struct pg *p)
{
	struct op *o;

	p->polling = 0;
	if (PQsetnonblocking(p->conn, 1) != 0) {
		lost(p, "non-blocking mode");
		return;
	}
	if ((o = op_new(p, OP_VERSION, SQL_VERSION, 1)) == NULL) {
		pg_close(p, "out of memory");
		return;
	}
	o->simple = 1;
	send_head(p);
}

/* poll_connect - one step of connecting */
static void
poll_connect(struct pg *p)
{
	switch (PQconnectPoll(p->conn)) {
	case PGRES_POLLING_READING:
		p->polling = PG_WANT_READ;
		break;
	case PGRES_POLLING_WRITING:
		p->polling = PG_WANT_WRITE;
		break;
	case PGRES_POLLING_OK:
		connected(p);
		break;
	default:
		lost(p, "connecting");
		break;
	}
}

void
pg_io(struct pg *p)
{
	int r;

	if (p->conn == NULL)
		return;
	if (p->polling) {
		poll_connect(p);
		return;
	}
	if (p->flushing) {
		if ((r = PQflush(p->conn)) < 0) {
			lost(p, "sending a query");
			return;
		}
		p->flushing = r == 1;
	}
	if (PQconsumeInput(p->conn) != 1) {
		lost(p, "connection lost");
		return;
	}
	read_results(p);
	notifies(p);
	send_head(p);
}

/* ------------------------------------------------------------- operations */

/* user_op - a caller's operation of kind, queued and started if it may be; NULL: not up, ENOMEM */
static struct op *
user_op(struct pg *p, enum opk kind, const char *sql, pg_done_fn done, void *ctx)
{
	struct op *o;

	if (p->state != PG_UP || (o = op_new(p, kind, sql, 0)) == NULL)
		return (NULL);
	o->done = done;
	o->ctx = ctx;
	return (o);
}

/* user_go - o's parameters are set (ok) or not: start it, or take it back; 0 or -1 */
static int
user_go(struct pg *p, struct op *o, int ok)
{
	struct op *q;

	if (!ok) { /* the last queued: take it off again */
		for (q = p->head; q != NULL && q->next != o; q = q->next)
			;
		if (q == NULL)
			p->head = NULL;
		else
			q->next = NULL;
		p->tail = q;
		op_free(o);
		return (-1);
	}
	send_head(p);
	return (0);
}

/* add_hex - "," then s as a JSON string of hex digits, or null */
static void
add_hex(struct buf *b, const char *s, int null_ok)
{
	buf_addc(b, ',');
	if (s == NULL && null_ok) {
		buf_adds(b, "null");
		return;
	}
	buf_addc(b, '"');
	if (s != NULL)
		hex_encode(b, s, strlen(s));
	buf_addc(b, '"');
}

int
pg_publish_add(struct pg *p, const struct store_msg *m)
{
	struct buf *b = &p->batch;
	size_t mark = b->len;

	buf_adds(b, p->nbatch == 0 ? "[[" : ",[");
	buf_addf(b, "%lld", (long long)m->time_us);
	add_hex(b, m->host, 0);
	add_hex(b, m->instance, 0);
	add_hex(b, m->queue_id, 0);
	add_hex(b, m->sasl != NULL && m->sasl[0] ? m->sasl : NULL, 1);
	add_hex(b, m->sender != NULL && m->sender[0] ? m->sender : NULL, 1);
	add_hex(b, m->client_ip != NULL && m->client_ip[0] ? m->client_ip : NULL, 1);
	if (m->uid >= 0)
		buf_addf(b, ",%ld", m->uid);
	else
		buf_adds(b, ",null");
	buf_addf(b, ",%ld]", m->nrcpt);
	if (b->failed) { /* too big, or ENOMEM: the batch is as it was */
		b->len = mark;
		b->p[mark] = '\0';
		b->failed = 0;
		return (-1);
	}
	p->nbatch++;
	return (0);
}

int
pg_publish(struct pg *p, int64_t outbox_left, int64_t now_us, pg_done_fn done, void *ctx)
{
	struct op *o;
	int ok;

	if ((o = user_op(p, OP_PUBLISH, SQL_PUBLISH, done, ctx)) == NULL) {
		buf_reset(&p->batch);
		p->nbatch = 0;
		return (-1);
	}
	ok = buf_adds(&p->batch, p->nbatch == 0 ? "[]" : "]") == 0 && op_param(o, p->node) == 0 &&
	    op_param(o, buf_str(&p->batch)) == 0 && op_int(o, outbox_left) == 0 &&
	    op_int(o, now_us) == 0;
	buf_reset(&p->batch);
	p->nbatch = 0;
	return (user_go(p, o, ok));
}

int
pg_fetch_messages(struct pg *p, int64_t after_id, int64_t since_us, int limit,
    int (*row)(void *ctx, const struct store_cmsg *), pg_done_fn done, void *ctx)
{
	struct op *o;

	if ((o = user_op(p, OP_FETCH_MSG, SQL_FETCH_MSG, done, ctx)) == NULL)
		return (-1);
	o->row.msg = row;
	return (user_go(p, o,
	    op_int(o, after_id) == 0 && op_int(o, since_us) == 0 && op_int(o, limit) == 0));
}

int
pg_fetch_events(struct pg *p, int64_t after_id, int limit,
    int (*row)(void *ctx, const struct pg_event *), pg_done_fn done, void *ctx)
{
	struct op *o;

	if ((o = user_op(p, OP_FETCH_EV, SQL_FETCH_EV, done, ctx)) == NULL)
		return (-1);
	o->row.ev = row;
	return (user_go(p, o, op_int(o, after_id) == 0 && op_int(o, limit) == 0));
}

int
pg_decide(struct pg *p, const struct store_decision *d, int64_t now_us, pg_done_fn done, void *ctx)
{
	int block = strcmp(d->kind, "block") == 0;
	struct buf hex;
	struct op *o;
	int ok;

	if ((o = user_op(p, OP_DECIDE, block ? SQL_BLOCK : SQL_UNBLOCK, done, ctx)) == NULL)
		return (-1);
	buf_init(&hex, (size_t)2 * IDENT_MAX);
	ok = hex_encode(&hex, d->identity, strlen(d->identity)) == 0 && op_param(o, p->node) == 0 &&
	    op_param(o, buf_str(&hex)) == 0 &&
	    (block ? op_param(o, d->rule != NULL ? d->rule : "manual") == 0 &&
			op_int(o, d->until_us) == 0
		   : op_param(o, d->mode != NULL ? d->mode : "keep") == 0) &&
	    op_int(o, now_us) == 0;
	buf_free(&hex);
	return (user_go(p, o, ok));
}

int
pg_nodes(struct pg *p, int (*row)(void *ctx, const struct pg_node *), pg_done_fn done, void *ctx)
{
	struct op *o;

	if ((o = user_op(p, OP_NODES, SQL_NODES, done, ctx)) == NULL)
		return (-1);
	o->row.node = row;
	return (user_go(p, o, 1));
}

int
pg_prune(struct pg *p, int64_t before_us, pg_done_fn done, void *ctx)
{
	struct op *o;

	if ((o = user_op(p, OP_PRUNE, SQL_PRUNE, done, ctx)) == NULL)
		return (-1);
	return (user_go(p, o, op_int(o, before_us) == 0));
}
