/*
 * NAME
 *	cluster - limits shared by several mail hosts (see cluster.h)
 * SUMMARY
 *	One struct pg (store/pg.h) whose socket is watched through the
 *	daemon's loop (watch(), after every call that may change what it
 *	waits for), and four jobs that each have at most one operation in
 *	PostgreSQL at a time: publishing the outbox, publishing decisions,
 *	fetching messages, fetching events (and, now and then, the node list
 *	and the retention).  A job asked for while its operation runs is
 *	run again when it ends ("again").
 *	Rows fetched are copied (struct rows) and applied when their
 *	operation has ended, in one SQLite transaction with their cursor:
 *	rows and the end of a result can come in different turns of the
 *	loop, between which the daemon runs transactions of its own.
 * RETURNS
 *	As cluster.h says: status through cluster_info(), a local store
 *	failure through env->fatal, everything else logged through env->log.
 *	Never prints, never exits.
 * UNTRUSTED INPUT
 *	Rows other nodes wrote to PostgreSQL (checked in form by pg.c):
 *	identities through act_identity_ok(), rule names through rule_ok(),
 *	node names escaped (util/esc) before they are logged.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cluster/cluster.h"
#include "store/pg.h"
#include "util/arr.h"
#include "util/buf.h"
#include "util/esc.h"

#define SAY_MAX 1024

/* Rows of a fetch, copied: each one allocation holding its strings. */
struct rows {
	void **v;
	size_t n, cap;
	int failed; /* out of memory: the fetch is thrown away and done again */
};

/* One job: at most one operation at a time, and whether to run it again. */
struct job {
	int running, again;
};

struct cluster {
	struct cluster_env env;
	const struct conf *conf;
	char node[CONF_NAME_MAX];
	struct pg *pg;
	int fd, fd_events; /* what the loop watches for pg (-1: nothing) */
	int retry;         /* the reconnect timer (-1: none) */
	int busy;          /* the store-busy retry timer (-1: none) */
	uint64_t backoff_ms;
	/* the link */
	enum pg_link link;
	char why[512];
	int64_t link_since_us, nagged_us;
	/* the jobs */
	struct job pub, dec, msgs, evs, nodes;
	int events_first;         /* just connected: the others' blocks before their messages */
	int64_t pub_last, pub_n;  /* the batch in PostgreSQL's hands */
	int64_t dec_id;           /* the decision in PostgreSQL's hands */
	struct rows mrows, erows; /* fetched, not applied yet */
	int64_t last_prune_us;
	/* for status */
	int64_t published, last_publish_us, fetched;
	struct cluster_node nodes_v[CLUSTER_NODES_MAX];
	size_t nnodes;
};

static void publish(struct cluster *);
static void fetch_messages(struct cluster *);
static void fetch_events(struct cluster *);

/* now_us - the wall clock */
static int64_t
now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return ((int64_t)tv.tv_sec * 1000000 + tv.tv_usec);
}

/* say - one line through the daemon's log ("cluster: " first) */
static void say(struct cluster *, int warn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(struct cluster *c, int warn, const char *fmt, ...)
{
	char msg[SAY_MAX];
	struct buf b;
	va_list ap;

	buf_fixed(&b, msg, sizeof(msg));
	buf_adds(&b, "cluster: ");
	va_start(ap, fmt);
	if (buf_vaddf(&b, fmt, ap) < 0) /* cut: what fitted */
		msg[sizeof(msg) - 1] = '\0';
	va_end(ap);
	c->env.log(c->env.ctx, warn, msg);
}

/* ------------------------------------------------------------ the socket */

static void on_io(struct ev *, int, int, void *);

/* watch - the loop watches pg's socket for what pg waits for now */
static void
watch(struct cluster *c)
{
	int fd = pg_fd(c->pg), want = pg_want(c->pg), events = 0;

	if (want & PG_WANT_READ)
		events |= EV_READ;
	if (want & PG_WANT_WRITE)
		events |= EV_WRITE;
	if (c->fd >= 0 && (fd != c->fd || events == 0)) {
		(void)ev_del_fd(c->env.ev, c->fd);
		c->fd = -1;
	}
	if (fd < 0 || events == 0 || (fd == c->fd && events == c->fd_events))
		return;
	if (ev_add_fd(c->env.ev, fd, events, on_io, c) < 0) {
		say(c, 1, "cannot watch the PostgreSQL socket");
		pg_close(c->pg, "cannot watch the socket");
		return;
	}
	c->fd = fd;
	c->fd_events = events;
}

static void
on_io(struct ev *ev, int fd, int events, void *ctx)
{
	struct cluster *c = ctx;

	(void)ev;
	(void)fd;
	(void)events;
	pg_io(c->pg);
	watch(c);
}

/* ------------------------------------------------------------ nodes */

/* node_get - the entry of name, added if new (NULL when the table is full) */
static struct cluster_node *
node_get(struct cluster *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nnodes; i++)
		if (strcmp(c->nodes_v[i].name, name) == 0)
			return (&c->nodes_v[i]);
	if (c->nnodes == CLUSTER_NODES_MAX || strlen(name) >= CONF_NAME_MAX)
		return (NULL);
	memset(&c->nodes_v[c->nnodes], 0, sizeof(c->nodes_v[0]));
	snprintf(c->nodes_v[c->nnodes].name, CONF_NAME_MAX, "%s", name);
	return (&c->nodes_v[c->nnodes++]);
}

static int
node_row(void *ctx, const struct pg_node *pn)
{
	struct cluster_node *n = node_get(ctx, pn->node);

	if (n != NULL) {
		n->last_publish_us = pn->last_publish_us;
		n->newest_us = pn->newest_us;
		n->published = pn->published;
		n->outbox = pn->outbox;
	}
	return (0);
}

static void refresh_nodes(struct cluster *);

static void
nodes_done(void *ctx, const struct pg_done *d)
{
	struct cluster *c = ctx;

	(void)d;
	c->nodes.running = 0;
	if (c->nodes.again)
		refresh_nodes(c);
}

/* refresh_nodes - the node list again from PostgreSQL */
static void
refresh_nodes(struct cluster *c)
{
	if (c->nodes.running) {
		c->nodes.again = 1;
		return;
	}
	c->nodes.again = 0;
	if (pg_nodes(c->pg, node_row, nodes_done, c) == 0)
		c->nodes.running = 1;
}

/* counted_cb - at start: the newest message of each other node counted here */
static int
counted_cb(void *ctx, const char *node, int64_t newest_us, int64_t n)
{
	struct cluster_node *cn = node != NULL ? node_get(ctx, node) : NULL;

	(void)n;
	if (cn != NULL)
		cn->counted_us = newest_us;
	return (0);
}

/* ------------------------------------------------------------ local store */

static void on_busy(struct ev *, int, void *);

/*
 * begin - a transaction of the cluster's own; 0, or -1 after env->fatal.
 * Another process holding the state database past the busy timeout is
 * no reason to stop (as for the daemon's own batches): -1 without fatal,
 * and the fetches and publishes run again after CLUSTER_BUSY_MS, from
 * the cursors and outboxes that were not moved.
 */
static int
begin(struct cluster *c)
{
	char err[512];
	int rc;

	if ((rc = store_begin(c->env.store, err, sizeof(err))) == 0)
		return (0);
	if (rc != STORE_BUSY) {
		c->env.fatal(c->env.ctx, err);
		return (-1);
	}
	if (c->busy < 0) {
		say(c, 1, "%s; the cluster's rows wait: trying again in %d s", err,
		    CLUSTER_BUSY_MS / 1000);
		if ((c->busy = ev_add_timer(c->env.ev, CLUSTER_BUSY_MS, 0, on_busy, c)) < 0)
			say(c, 1, "no timer to try again");
	}
	return (-1);
}

/* commit - end it; on failure roll back and env->fatal; 0 or -1 */
static int
commit(struct cluster *c, const char *failed)
{
	char err[512];

	if (failed == NULL && store_commit(c->env.store, err, sizeof(err)) == 0)
		return (0);
	store_rollback(c->env.store);
	c->env.fatal(c->env.ctx, failed != NULL ? failed : err);
	return (-1);
}

/* ------------------------------------------------------------ copied rows */

/* rows_add - a copy of n strings (NULL kept) after a head of hsize bytes; the head, or NULL */
static void *
rows_add(struct rows *r, size_t hsize, const char *const s[], char *out[], size_t n)
{
	size_t i, len = hsize;
	void **nv;
	char *blk, *p;

	for (i = 0; i < n; i++)
		len += s[i] != NULL ? strlen(s[i]) + 1 : 0;
	if ((nv = arr_grow(r->v, r->n, &r->cap, sizeof(*nv), 64)) == NULL ||
	    (blk = calloc(1, len)) == NULL) {
		if (nv != NULL)
			r->v = nv;
		r->failed = 1;
		return (NULL);
	}
	r->v = nv;
	for (p = blk + hsize, i = 0; i < n; i++) {
		out[i] = NULL;
		if (s[i] == NULL)
			continue;
		out[i] = p;
		memcpy(p, s[i], strlen(s[i]) + 1);
		p += strlen(s[i]) + 1;
	}
	r->v[r->n++] = blk;
	return (blk);
}

/* rows_clear - free the copies */
static void
rows_clear(struct rows *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->v[i]);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------ messages of the others */

/* A fetched message: its fields point into its own allocation. */
struct rmsg {
	struct store_cmsg cm;
};

static int
msg_row(void *ctx, const struct store_cmsg *m)
{
	struct cluster *c = ctx;
	const char *s[] = { m->node, m->m.host, m->m.instance, m->m.queue_id, m->m.sasl,
		m->m.sender, m->m.client_ip };
	char *o[7];
	struct rmsg *r;

	if (strcmp(m->node, c->node) == 0)
		return (0); /* our own, back from PostgreSQL */
	if ((r = rows_add(&c->mrows, sizeof(*r), s, o, 7)) == NULL)
		return (1);
	r->cm = *m;
	r->cm.node = o[0];
	r->cm.m.host = o[1];
	r->cm.m.instance = o[2];
	r->cm.m.queue_id = o[3];
	r->cm.m.sasl = o[4];
	r->cm.m.sender = o[5];
	r->cm.m.client_ip = o[6];
	return (0);
}

/* count_one - one message of another node into the store and the limits; -1 on a failure */
static int
count_one(struct cluster *c, const struct store_cmsg *cm, char *err, size_t errlen)
{
	const struct track_msg m = { .time_us = cm->m.time_us,
		.host = cm->m.host,
		.instance = cm->m.instance,
		.queue_id = cm->m.queue_id,
		.sasl = cm->m.sasl,
		.sender = cm->m.sender,
		.client_ip = cm->m.client_ip,
		.uid = cm->m.uid,
		.nrcpt = cm->m.nrcpt };
	struct cluster_node *n;
	int r;

	if ((r = store_add_remote(c->env.store, cm, err, errlen)) <= 0)
		return (r); /* counted before (0), or a failure */
	pipeline_remote(c->env.pl, &m);
	if (c->env.pl->failed) {
		snprintf(err, errlen, "%s", c->env.pl->err);
		return (-1);
	}
	c->fetched++;
	if ((n = node_get(c, cm->node)) != NULL && cm->m.time_us > n->counted_us)
		n->counted_us = cm->m.time_us;
	return (0);
}

/* msgs_done - count the fetched messages with their cursor in one transaction */
static void
msgs_done(void *ctx, const struct pg_done *d)
{
	struct cluster *c = ctx;
	char err[512];
	const char *failed = NULL;
	size_t i;

	c->msgs.running = 0;
	if (!d->ok || c->mrows.failed) {
		if (d->ok || pg_state(c->pg) == PG_UP)
			say(c, 1, "fetching the other nodes' messages: %s",
			    d->ok ? "out of memory" : d->why);
		rows_clear(&c->mrows);
		return;
	}
	if (d->bad > 0)
		say(c, 1, "%lld malformed message%s in PostgreSQL skipped", (long long)d->bad,
		    d->bad == 1 ? "" : "s");
	if (d->last_id > 0 && begin(c) == 0) {
		for (i = 0; i < c->mrows.n && failed == NULL; i++)
			if (count_one(c, &((struct rmsg *)c->mrows.v[i])->cm, err, sizeof(err)) < 0)
				failed = err;
		if (failed == NULL &&
		    store_set_ccursor(c->env.store, "messages", d->last_id, err, sizeof(err)) < 0)
			failed = err;
		if (commit(c, failed) == 0) {
			act_kick(c->env.act); /* what their messages made this node decide */
			publish(c);
		}
	}
	rows_clear(&c->mrows);
	if (d->n >= CLUSTER_FETCH || c->msgs.again)
		fetch_messages(c);
	if (d->n > 0)
		refresh_nodes(c);
}

/* fetch_messages - the others' messages after the last one counted here */
static void
fetch_messages(struct cluster *c)
{
	char err[512];
	int64_t after, base = now_us();

	if (c->msgs.running || c->events_first) {
		c->msgs.again = 1;
		return;
	}
	c->msgs.again = 0;
	if (store_get_ccursor(c->env.store, "messages", &after, err, sizeof(err)) < 0) {
		say(c, 1, "%s", err);
		return;
	}
	/* what can still be in a window: from the longest window before the log's clock */
	if (c->env.pl->last_us != INT64_MIN && c->env.pl->last_us < base)
		base = c->env.pl->last_us;
	if (pg_fetch_messages(c->pg, after, base - pipeline_max_window(c->conf), CLUSTER_FETCH,
		msg_row, msgs_done, c) == 0)
		c->msgs.running = 1;
}

/* ------------------------------------------------------------ blocks of the others */

/* A fetched event. */
struct revent {
	struct pg_event e;
};

static int
ev_row(void *ctx, const struct pg_event *e)
{
	struct cluster *c = ctx;
	const char *s[] = { e->node, e->kind, e->identity, e->rule, e->mode };
	char *o[5];
	struct revent *r;

	if (strcmp(e->node, c->node) == 0)
		return (0);
	if ((r = rows_add(&c->erows, sizeof(*r), s, o, 5)) == NULL)
		return (1);
	r->e = *e;
	r->e.node = o[0];
	r->e.kind = o[1];
	r->e.identity = o[2];
	r->e.rule = o[3];
	r->e.mode = o[4];
	return (0);
}

/* rule_ok - a rule name as the config allows one (1 to CONF_NAME_MAX - 1 of [A-Za-z0-9_.-]) */
static int
rule_ok(const char *r)
{
	size_t n = r != NULL ? strlen(r) : 0;

	return (n >= 1 && n < CONF_NAME_MAX &&
	    strspn(r,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"0123456789_.-") == n);
}

/* apply_event - another node's block or unblock, through act */
static void
apply_event(struct cluster *c, const struct pg_event *e)
{
	char id[IDENT_MAX], vis[256];
	const char *why = NULL;
	enum act_unblock_mode mode = ACT_UNBLOCK_KEEP;

	if (!act_identity_ok(e->identity, id, sizeof(id), &why)) {
		say(c, 1, "event %lld of node %s skipped: %s: %s", (long long)e->id,
		    esc_vis(e->node, vis, sizeof(vis)), esc_vis(e->identity, id, sizeof(id)), why);
		return;
	}
	if (strcmp(e->kind, "block") == 0) {
		act_cluster_block(c->env.act, id, rule_ok(e->rule) ? e->rule : "cluster",
		    e->until_us, e->node);
		return;
	}
	if (strcmp(e->kind, "unblock") != 0)
		return;
	if (e->mode != NULL && strcmp(e->mode, "release") == 0)
		mode = ACT_UNBLOCK_RELEASE;
	else if (e->mode != NULL && strcmp(e->mode, "delete") == 0)
		mode = ACT_UNBLOCK_DELETE;
	act_cluster_unblock(c->env.act, id, mode, e->node);
}

/* evs_done - apply the fetched events with their cursor in one transaction */
static void
evs_done(void *ctx, const struct pg_done *d)
{
	struct cluster *c = ctx;
	char err[512];
	const char *failed = NULL;
	size_t i;

	c->evs.running = 0;
	if (c->events_first && (!d->ok || d->n < CLUSTER_FETCH)) { /* now their messages */
		c->events_first = 0;
		c->msgs.again = 1;
	}
	if (!d->ok || c->erows.failed) {
		if (d->ok || pg_state(c->pg) == PG_UP)
			say(c, 1, "fetching the other nodes' blocks: %s",
			    d->ok ? "out of memory" : d->why);
		rows_clear(&c->erows);
		if (c->msgs.again)
			fetch_messages(c);
		return;
	}
	if (d->last_id > 0 && begin(c) == 0) {
		for (i = 0; i < c->erows.n; i++)
			apply_event(c, &((struct revent *)c->erows.v[i])->e);
		if (store_set_ccursor(c->env.store, "events", d->last_id, err, sizeof(err)) < 0)
			failed = err;
		if (commit(c, failed) == 0)
			act_kick(c->env.act);
	}
	rows_clear(&c->erows);
	if (d->n >= CLUSTER_FETCH || c->evs.again)
		fetch_events(c);
	if (c->msgs.again)
		fetch_messages(c);
}

/* fetch_events - the others' blocks and unblocks after the last one applied here */
static void
fetch_events(struct cluster *c)
{
	char err[512];
	int64_t after;

	if (c->evs.running) {
		c->evs.again = 1;
		return;
	}
	c->evs.again = 0;
	if (store_get_ccursor(c->env.store, "events", &after, err, sizeof(err)) < 0) {
		say(c, 1, "%s", err);
		return;
	}
	if (pg_fetch_events(c->pg, after, CLUSTER_FETCH, ev_row, evs_done, c) == 0)
		c->evs.running = 1;
}

/* ------------------------------------------------------------ publishing */

static void publish_messages(struct cluster *);
static void publish_decision(struct cluster *);

/* gone - an operation of a job failed while the link is up: start the link afresh */
static void
gone(struct cluster *c, const char *what, const char *why)
{
	char msg[600];

	if (pg_state(c->pg) != PG_UP)
		return; /* the link went down and says so */
	snprintf(msg, sizeof(msg), "%s: %s", what, why);
	pg_close(c->pg, msg);
}

static void
pruned(void *ctx, const struct pg_done *d)
{
	struct cluster *c = ctx;

	if (d->ok && d->n > 0)
		say(c, 0, "%lld rows older than the retention deleted from PostgreSQL",
		    (long long)d->n);
}

static void
published(void *ctx, const struct pg_done *d)
{
	struct cluster *c = ctx;
	char err[512];
	int64_t now = now_us();

	c->pub.running = 0;
	if (!d->ok) {
		gone(c, "publishing", d->why);
		return;
	}
	if (begin(c) < 0 ||
	    commit(c,
		store_outbox_sent(c->env.store, c->pub_last, err, sizeof(err)) < 0 ? err : NULL) <
		0)
		return;
	c->published += c->pub_n;
	c->last_publish_us = now;
	if (now - c->last_prune_us > CLUSTER_PRUNE_US) {
		c->last_prune_us = now;
		(void)pg_prune(c->pg, now - c->conf->retention * 1000000, pruned, c);
	}
	refresh_nodes(c);
	publish_messages(c);
}

static int
outbox_row(void *ctx, const struct store_cmsg *m)
{
	struct cluster *c = ctx;

	if (pg_publish_add(c->pg, &m->m) < 0)
		return (1);
	c->pub_last = m->id;
	c->pub_n++;
	return (0);
}

/* publish_messages - the oldest CLUSTER_BATCH messages of the outbox to PostgreSQL */
static void
publish_messages(struct cluster *c)
{
	char err[512];
	int64_t left;

	if (c->pub.running)
		return;
	c->pub_n = 0;
	if (store_each_outbox(c->env.store, CLUSTER_BATCH, outbox_row, c, err, sizeof(err)) < 0)
		say(c, 1, "%s", err);
	if (c->pub_n == 0)
		return;
	left = store_count_outbox(c->env.store) - c->pub_n;
	if (pg_publish(c->pg, left > 0 ? left : 0, now_us(), published, c) == 0)
		c->pub.running = 1;
}

static void
decided(void *ctx, const struct pg_done *d)
{
	struct cluster *c = ctx;
	char err[512];

	c->dec.running = 0;
	if (!d->ok) {
		gone(c, "publishing a block", d->why);
		return;
	}
	if (begin(c) < 0 ||
	    commit(c,
		store_decision_sent(c->env.store, c->dec_id, err, sizeof(err)) < 0 ? err : NULL) <
		0)
		return;
	publish_decision(c);
}

static int
decision_row(void *ctx, const struct store_decision *d)
{
	struct cluster *c = ctx;

	if (pg_decide(c->pg, d, now_us(), decided, c) == 0) {
		c->dec.running = 1;
		c->dec_id = d->id;
	}
	return (1); /* one at a time */
}

/* publish_decision - the oldest decision of the outbox to PostgreSQL */
static void
publish_decision(struct cluster *c)
{
	char err[512];

	if (!c->dec.running &&
	    store_each_decision(c->env.store, 1, decision_row, c, err, sizeof(err)) < 0)
		say(c, 1, "%s", err);
}

/* publish - both outboxes, when the link is up */
static void
publish(struct cluster *c)
{
	if (c->link != PG_UP)
		return;
	publish_messages(c);
	publish_decision(c);
}

/* ------------------------------------------------------------ the link */

static void connect_now(struct cluster *);

/* on_busy - the state database was busy: fetch and publish again what waited */
static void
on_busy(struct ev *ev, int id, void *ctx)
{
	struct cluster *c = ctx;

	(void)ev;
	(void)id;
	c->busy = -1;
	if (c->link != PG_UP)
		return; /* connecting again fetches and publishes anyway */
	fetch_events(c);
	fetch_messages(c);
	publish(c);
	watch(c);
}

static void
on_retry(struct ev *ev, int id, void *ctx)
{
	struct cluster *c = ctx;

	(void)ev;
	(void)id;
	c->retry = -1;
	connect_now(c);
}

/* retry_later - connect again after the backoff, which doubles up to its maximum */
static void
retry_later(struct cluster *c)
{
	if (c->retry >= 0)
		return;
	if ((c->retry = ev_add_timer(c->env.ev, c->backoff_ms, 0, on_retry, c)) < 0)
		say(c, 1, "no timer to connect again");
	c->backoff_ms *= 2;
	if (c->backoff_ms > CLUSTER_RETRY_MAX_MS)
		c->backoff_ms = CLUSTER_RETRY_MAX_MS;
}

/* down - the link is down, or connecting failed: say so (loudly, now and then), retry */
static void
down(struct cluster *c, const char *why)
{
	int64_t now = now_us(), waiting = store_count_outbox(c->env.store);
	int first = c->link != PG_DOWN || c->link_since_us == 0;

	snprintf(c->why, sizeof(c->why), "%s", why != NULL ? why : "unknown");
	if (first)
		c->link_since_us = now;
	c->link = PG_DOWN;
	c->pub.running = c->dec.running = c->msgs.running = c->evs.running = 0;
	c->nodes.running = c->events_first = 0;
	rows_clear(&c->mrows);
	rows_clear(&c->erows);
	if (first || now - c->nagged_us >= CLUSTER_NAG_US) {
		c->nagged_us = now;
		say(c, 1,
		    "PostgreSQL %s (%s): this node counts and enforces on its own view; "
		    "%lld message%s wait in its outbox",
		    first ? "is unreachable" : "is still unreachable", c->why, (long long)waiting,
		    waiting == 1 ? "" : "s");
	}
	retry_later(c);
}

static void
on_state(void *ctx, enum pg_link st, const char *why)
{
	struct cluster *c = ctx;
	int was_down = c->link_since_us != 0 && c->link == PG_DOWN;

	if (st != PG_UP) {
		down(c, why);
		watch(c);
		return;
	}
	c->link = PG_UP;
	c->link_since_us = now_us();
	c->backoff_ms = CLUSTER_RETRY_MIN_MS;
	say(c, 0, "%s PostgreSQL as node %s%s", was_down ? "back in touch with" : "connected to",
	    c->node, was_down ? ": publishing the outbox, catching up with the others" : "");
	c->events_first = 1; /* a block in force keeps its messages from raising verdicts here */
	fetch_events(c);
	publish(c);
	refresh_nodes(c);
	watch(c);
}

static void
on_notify(void *ctx, const char *payload)
{
	struct cluster *c = ctx;

	if (strlen(payload) > 2 && strcmp(payload + 2, c->node) == 0)
		return; /* our own publish */
	if (payload[0] == 'm')
		fetch_messages(c);
	else if (payload[0] == 'e')
		fetch_events(c);
}

/* connect_now - start connecting; a failure at once waits for the next try */
static void
connect_now(struct cluster *c)
{
	char err[512];

	if (pg_connect(c->pg, err, sizeof(err)) < 0)
		down(c, err);
	watch(c);
}

/* ------------------------------------------------------------ the API */

struct cluster *
cluster_new(const struct conf *conf, const struct cluster_env *env)
{
	const struct pg_hooks h = { on_state, on_notify, NULL };
	struct pg_hooks hk = h;
	struct cluster *c;
	char err[512];

	if (conf->cluster_conninfo == NULL || conf->cluster_node == NULL ||
	    (c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->env = *env;
	c->conf = conf;
	c->fd = -1;
	c->retry = -1;
	c->busy = -1;
	c->backoff_ms = CLUSTER_RETRY_MIN_MS;
	c->link = PG_CONNECTING;
	snprintf(c->node, sizeof(c->node), "%s", conf->cluster_node);
	hk.ctx = c;
	if ((c->pg = pg_new(conf->cluster_conninfo, c->node, &hk)) == NULL) {
		free(c);
		return (NULL);
	}
	(void)node_get(c, c->node);
	if (store_each_remote_node(c->env.store, counted_cb, c, err, sizeof(err)) < 0)
		say(c, 1, "%s", err);
	connect_now(c);
	return (c);
}

void
cluster_free(struct cluster *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		(void)ev_del_fd(c->env.ev, c->fd);
	if (c->retry >= 0)
		(void)ev_del_timer(c->env.ev, c->retry);
	if (c->busy >= 0)
		(void)ev_del_timer(c->env.ev, c->busy);
	pg_free(c->pg);
	rows_clear(&c->mrows);
	rows_clear(&c->erows);
	free(c);
}

void
cluster_set_conf(struct cluster *c, const struct conf *conf)
{
	if (conf->cluster_conninfo == NULL || conf->cluster_node == NULL ||
	    strcmp(conf->cluster_node, c->node) != 0 ||
	    strcmp(conf->cluster_conninfo, c->conf->cluster_conninfo) != 0)
		say(c, 1, "changes of [cluster] take effect at the next start");
	c->conf = conf;
}

void
cluster_kick(struct cluster *c)
{
	publish(c);
	watch(c);
}

void
cluster_info(struct cluster *c, struct cluster_info *ci)
{
	static const char *const links[] = { "down", "connecting", "up" };

	memset(ci, 0, sizeof(*ci));
	ci->node = c->node;
	ci->link = links[c->link];
	ci->why = c->why[0] != '\0' ? c->why : NULL;
	ci->link_since_us = c->link_since_us;
	ci->outbox = store_count_outbox(c->env.store);
	ci->published = c->published;
	ci->last_publish_us = c->last_publish_us;
	ci->fetched = c->fetched;
	ci->nodes = c->nodes_v;
	ci->nnodes = c->nnodes;
}
