/*
 * test_cluster - limits shared through PostgreSQL (issue 15), against a
 * real throwaway PostgreSQL (tests/pgtest.h: initdb in a temporary
 * directory, a Unix socket only); every test skips, saying why, when
 * PostgreSQL is not installed.
 *
 * In process, through store/pg.h:
 *  - the publisher's crash path: an outbox batch sent twice (the node
 *    died before it marked the batch sent) is stored once, and every
 *    byte of hostile log strings comes back as it went;
 *  - two nodes racing (two processes, migrating an empty database at
 *    the same moment, then blocking the same 40 identities at once)
 *    record one block episode per identity, and a table of episodes:
 *    in force, ended by an unblock, run out;
 *  - retention: messages, events and ended episodes older than it are
 *    deleted, a block in force is not.
 * With the daemon ($SG_BIN, two nodes, each its own log and stand-in
 * postsuper/postmap/postfix from tests/runcmd.h):
 *  - a login sends 3 messages through each node under a limit of 5/1h:
 *    both nodes hold that login's queued mail (each only its own queue
 *    IDs), both maps hold the login, PostgreSQL has one block; unblock
 *    --release-held on one node empties both maps and releases each
 *    node's own held mail;
 *  - another process holding a node's state database past the busy
 *    timeout does not stop it: it counts the other's messages after;
 *  - two logs from build/bench/loggen with their truth, appended while
 *    PostgreSQL is stopped half-way and started again, one node
 *    SIGKILLed once: both nodes' status counts equal the union of the two
 *    truths exactly, and PostgreSQL holds each message once.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/pg.h"
#include "store/store.h"
#include "tests/pgtest.h"
#include "tests/queue.h"
#include "util/hmap.h"

static struct sg_pg pg;

/* need_pg - a running PostgreSQL for this test, or the test is skipped with the reason */
static void
need_pg(void)
{
	const char *why = sg_pg_why(&pg);

	if (why != NULL)
		cr_skip_test("%s", why);
	cr_assert_eq(sg_pg_init(&pg), 0, "no throwaway PostgreSQL (see %s/server.log)", pg.dir);
}

static void
pg_gone(void)
{
	sg_pg_destroy(&pg);
}

static int64_t
wall_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return ((int64_t)tv.tv_sec * 1000000 + tv.tv_usec);
}

/* ------------------------------------------------------------------ */
/* driving struct pg in process */

/* What one connection has seen. */
struct seen {
	enum pg_link state;
	char why[512];
	int done, ok;
	int64_t n, last_id, sum, bad;
	int nrows;
	struct store_cmsg row[16];
	char buf[16][7][64];
};

static void
on_state(void *ctx, enum pg_link st, const char *why)
{
	struct seen *s = ctx;

	s->state = st;
	snprintf(s->why, sizeof(s->why), "%s", why != NULL ? why : "");
}

static void
on_done(void *ctx, const struct pg_done *d)
{
	struct seen *s = ctx;

	s->done++;
	s->ok = d->ok;
	s->n = d->n;
	s->sum += d->n;
	s->last_id = d->last_id;
	s->bad = d->bad;
	if (d->why != NULL)
		snprintf(s->why, sizeof(s->why), "%s", d->why);
}

/* pump - run p's socket until cond(s) holds (20 s at most); 1 when it does */
static int
pump(struct pg *p, struct seen *s, int (*cond)(const struct seen *))
{
	int64_t end = wall_us() + 20000000;

	while (!cond(s) && wall_us() < end) {
		int fd = pg_fd(p), w = pg_want(p);
		struct pollfd pf = { fd, (short)((w & PG_WANT_READ ? POLLIN : 0) |
					     (w & PG_WANT_WRITE ? POLLOUT : 0)),
			0 };

		if (fd < 0)
			break;
		(void)poll(&pf, 1, 100);
		pg_io(p);
	}
	return (cond(s));
}

static int
is_up(const struct seen *s)
{
	return (s->state == PG_UP);
}

static int done_want;

static int
all_done(const struct seen *s)
{
	return (s->done >= done_want);
}

/* connect_as - a connection for node, up, or the test fails */
static struct pg *
connect_as(const char *node, struct seen *s)
{
	const struct pg_hooks h = { on_state, NULL, s };
	char err[512];
	struct pg *p;

	memset(s, 0, sizeof(*s));
	cr_assert_not_null(p = pg_new(pg.conninfo, node, &h));
	cr_assert_eq(pg_connect(p, err, sizeof(err)), 0, "%s", err);
	cr_assert(pump(p, s, is_up), "%s never came up: %s", node, s->why);
	return (p);
}

/* wait_done - the next n operations of s's connection end */
static void
wait_done(struct pg *p, struct seen *s, int n)
{
	done_want = s->done + n;
	cr_assert(pump(p, s, all_done), "an operation did not end: %s", s->why);
}

/* ------------------------------------------------------------------ */
/* the publisher: a batch sent twice is stored once */

/* Hostile log strings, each a message's login, sender, host and queue ID. */
static const struct { const char *sasl, *sender, *host, *qid; } hostile[] = {
	{ "alice@example.com", "alice@example.com", "mx", "1A2B3C" },
	{ "o'neil\"; DROP TABLE sendguard_messages;--", "x@y", "mx", "1A2B3D" },
	{ "caf\xc3\xa9@example.org", "\xff\xfe@latin1.example", "mx", "1A2B3E" },
	{ "back\\slash", "{\"json\": [1]}", "h\x01st", "1A2B3F" },
	{ NULL, NULL, "", "1A2B40" },
};
#define NHOSTILE (sizeof(hostile) / sizeof(hostile[0]))

static int
outbox_cb(void *ctx, const struct store_cmsg *m)
{
	struct pg *p = ((void **)ctx)[0];
	int64_t *last = ((void **)ctx)[1];

	cr_assert_eq(pg_publish_add(p, &m->m), 0);
	*last = m->id;
	return (0);
}

static int
fetch_cb(void *ctx, const struct store_cmsg *m)
{
	struct seen *s = ctx;
	const char *f[7] = { m->node, m->m.host, m->m.instance, m->m.queue_id, m->m.sasl,
		m->m.sender, m->m.client_ip };
	int i;

	if (s->nrows >= 16)
		return (1);
	s->row[s->nrows] = *m;
	for (i = 0; i < 7; i++)
		if (f[i] != NULL)
			snprintf(s->buf[s->nrows][i], 64, "%s", f[i]);
	s->row[s->nrows].m.sasl = m->m.sasl != NULL ? s->buf[s->nrows][4] : NULL;
	s->row[s->nrows].m.sender = m->m.sender != NULL ? s->buf[s->nrows][5] : NULL;
	s->row[s->nrows].m.host = s->buf[s->nrows][1];
	s->row[s->nrows].m.queue_id = s->buf[s->nrows][3];
	s->row[s->nrows].node = s->buf[s->nrows][0];
	s->nrows++;
	return (0);
}

/* publish_outbox - the outbox to PostgreSQL as the node's publisher does; the rows new there */
static int64_t
publish_outbox(struct pg *p, struct seen *s, struct store *st, int64_t *last)
{
	char err[512];
	void *ctx[2] = { p, last };

	cr_assert_eq(store_each_outbox(st, 1000, outbox_cb, ctx, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(pg_publish(p, 0, wall_us(), on_done, s), 0);
	wait_done(p, s, 1);
	cr_assert(s->ok, "publish: %s", s->why);
	return (s->n);
}

Test(cluster, publish_twice_stores_once, .fini = pg_gone)
{
	struct store *st;
	struct seen s, o;
	struct pg *p, *other;
	char err[512];
	int64_t last = 0, t0 = wall_us() - 60000000;
	size_t i;

	need_pg();
	cr_assert_eq(store_open(&st, NULL, 0, err, sizeof(err)), 0, "%s", err);
	for (i = 0; i < NHOSTILE; i++) {
		const struct store_msg m = { .time_us = t0 + (int64_t)i, .host = hostile[i].host,
			.instance = "postfix", .queue_id = hostile[i].qid, .sasl = hostile[i].sasl,
			.sender = hostile[i].sender, .client_ip = "192.0.2.7", .uid = -1,
			.nrcpt = (long)i + 1 };

		cr_assert_eq(store_add_outbox(st, &m, err, sizeof(err)), 0, "%s", err);
	}
	p = connect_as("mx1", &s);
	cr_expect_eq(publish_outbox(p, &s, st, &last), (int64_t)NHOSTILE, "first publish");
	/* the node dies here, before store_outbox_sent(): at its restart the batch goes again */
	cr_expect_eq(publish_outbox(p, &s, st, &last), 0, "the batch again: nothing new");
	cr_expect_eq(sg_pg_num(&pg, "SELECT count(*) FROM sendguard_messages"), (long long)NHOSTILE);
	cr_expect_eq(sg_pg_num(&pg, "SELECT published FROM sendguard_nodes WHERE node = 'mx1'"),
	    (long long)NHOSTILE, "the node's count of published messages counts each once");
	cr_assert_eq(store_outbox_sent(st, last, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(store_count_outbox(st), 0);

	/* a row no node could publish: a login with a newline, which no log line gives */
	cr_assert_eq(sg_pg_num(&pg,
			 "WITH i AS (INSERT INTO sendguard_messages (node, host, instance, queue_id, "
			 "time_us, sasl, nrcpt) VALUES ('mx9', 'mx', 'postfix', 'ZZ1', 1, "
			 "decode('6576650a6576', 'hex'), 1) RETURNING 1) SELECT count(*) FROM i"),
	    1);
	/* another node reads them back, byte for byte, and skips that one */
	other = connect_as("mx2", &o);
	cr_assert_eq(pg_fetch_messages(other, 0, 0, 100, fetch_cb, on_done, &o), 0);
	wait_done(other, &o, 1);
	cr_assert(o.ok, "fetch: %s", o.why);
	cr_expect_eq(o.bad, 1, "the login with a control byte is skipped and counted");
	cr_assert_eq(o.nrows, (int)NHOSTILE);
	for (i = 0; i < NHOSTILE; i++) {
		const struct store_cmsg *r = &o.row[i];

		cr_expect_str_eq(r->node, "mx1");
		cr_expect_str_eq(r->m.host, hostile[i].host);
		cr_expect_str_eq(r->m.queue_id, hostile[i].qid);
		if (hostile[i].sasl == NULL)
			cr_expect_null(r->m.sasl, "an absent login comes back absent");
		else
			cr_expect_str_eq(r->m.sasl, hostile[i].sasl, "row %zu's login", i);
		if (hostile[i].sender != NULL)
			cr_expect_str_eq(r->m.sender, hostile[i].sender, "row %zu's sender", i);
		cr_expect_eq(r->m.time_us, t0 + (int64_t)i);
		cr_expect_eq(r->m.nrcpt, (long)i + 1);
		cr_expect_eq(r->m.uid, -1);
	}
	cr_expect_gt(o.last_id, o.row[NHOSTILE - 1].id,
	    "the skipped row's id counts in the fetch position: it is not fetched again");
	pg_free(other);
	pg_free(p);
	store_close(st);
}

/* ------------------------------------------------------------------ */
/* retention: rows older than it go, blocks in force stay */

/* decide - node p's block (until_us; 0: until unblocked) or unblock of id at now_us */
static void
decide(struct pg *p, struct seen *s, const char *kind, const char *id, int64_t until_us,
    int64_t now_us)
{
	const struct store_decision d = { 0, 0, kind, id, "submission", until_us, "keep" };

	cr_assert_eq(pg_decide(p, &d, now_us, on_done, s), 0);
	wait_done(p, s, 1);
	cr_assert(s->ok, "%s %s: %s", kind, id, s->why);
}

Test(cluster, retention_prunes_old_rows, .fini = pg_gone)
{
	const int64_t now = wall_us(), day = 86400000000LL, old = now - 2 * day;
	struct store *st;
	struct seen s;
	struct pg *p;
	char err[512], qid[16];
	int64_t last = 0;
	int i;

	need_pg();
	cr_assert_eq(store_open(&st, NULL, 0, err, sizeof(err)), 0, "%s", err);
	for (i = 0; i < 5; i++) { /* three two days old, two of the last minute */
		const struct store_msg m = { .time_us = i < 3 ? old + i : now - 60000000 + i,
			.host = "mx",
			.instance = "postfix",
			.queue_id = qid,
			.sasl = "alice@example.com",
			.uid = -1,
			.nrcpt = 1 };

		snprintf(qid, sizeof(qid), "AB%04d", i);
		cr_assert_eq(store_add_outbox(st, &m, err, sizeof(err)), 0, "%s", err);
	}
	p = connect_as("mx1", &s);
	cr_assert_eq(publish_outbox(p, &s, st, &last), 5);
	decide(p, &s, "block", "sasl:old@example.com", 0, old);
	decide(p, &s, "unblock", "sasl:old@example.com", 0, old + 1000000);
	decide(p, &s, "block", "sasl:stale@example.com", old + 3600000000LL, old);
	decide(p, &s, "block", "sasl:new@example.com", now + 3600000000LL, now);

	cr_assert_eq(pg_prune(p, now - day, on_done, &s), 0);
	wait_done(p, &s, 1);
	cr_assert(s.ok, "prune: %s", s.why);
	cr_expect_eq(s.n, 8, "3 messages, 3 events and 2 ended blocks older than a day");
	cr_expect_eq(sg_pg_num(&pg, "SELECT count(*) FROM sendguard_messages"), 2,
	    "the last minute's messages stay");
	cr_expect_eq(sg_pg_num(&pg, "SELECT count(*) FROM sendguard_events"), 1);
	cr_expect_eq(sg_pg_num(&pg,
			 "SELECT count(*) FROM sendguard_blocks WHERE ended_us IS NULL "
			 "AND identity = convert_to('sasl:new@example.com', 'UTF8')"),
	    1, "the block in force stays");
	cr_expect_eq(sg_pg_num(&pg, "SELECT count(*) FROM sendguard_blocks"), 1,
	    "the unblocked and the long expired episodes are gone");
	pg_free(p);
	store_close(st);
}

/* ------------------------------------------------------------------ */
/* ------------------------------------------------------------------ */
/* blocks: one episode per identity, whoever crosses */

#define RACE_IDS 40

/* race_child - node name: wait for the start, connect, block every identity; writes how many it recorded */
static void
race_child(const char *node, int go, int out)
{
	const struct pg_hooks h = { on_state, NULL, NULL };
	struct pg_hooks hk = h;
	struct seen s;
	char b, err[512], id[64];
	struct pg *p;
	int i, won = 0;

	memset(&s, 0, sizeof(s));
	hk.ctx = &s;
	(void)read(go, &b, 1); /* EOF: both start now */
	if ((p = pg_new(pg.conninfo, node, &hk)) == NULL || pg_connect(p, err, sizeof(err)) < 0 ||
	    !pump(p, &s, is_up))
		_exit(2);
	for (i = 0; i < RACE_IDS; i++) {
		const struct store_decision d = { 0, 0, "block", id, "submission",
			wall_us() + 3600000000LL, NULL };

		snprintf(id, sizeof(id), "sasl:u%d@example.com", i);
		if (pg_decide(p, &d, wall_us(), on_done, &s) < 0)
			_exit(3);
		done_want = s.done + 1;
		if (!pump(p, &s, all_done) || !s.ok)
			_exit(4);
		won += s.n == 1;
	}
	if (write(out, &won, sizeof(won)) != (ssize_t)sizeof(won))
		_exit(5);
	pg_free(p);
	_exit(0);
}

Test(cluster, racing_nodes_make_one_block, .fini = pg_gone)
{
	static const char *const nodes[] = { "mxa", "mxb" };
	int go[2], out[2], k, st, won, total = 0;
	pid_t pid[2];

	need_pg();
	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(out), 0);
	for (k = 0; k < 2; k++) {
		cr_assert_geq(pid[k] = fork(), 0);
		if (pid[k] == 0) {
			close(go[1]);
			race_child(nodes[k], go[0], out[1]);
		}
	}
	close(go[0]);
	close(go[1]); /* go */
	close(out[1]);
	for (k = 0; k < 2; k++) {
		cr_assert_eq(read(out[0], &won, sizeof(won)), (ssize_t)sizeof(won),
		    "a racing node failed");
		total += won;
	}
	for (k = 0; k < 2; k++) {
		cr_assert_eq(waitpid(pid[k], &st, 0), pid[k]);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "node %s: status %d", nodes[k], st);
	}
	cr_expect_eq(total, RACE_IDS, "the nodes recorded %d blocks for %d identities", total,
	    RACE_IDS);
	cr_expect_eq(sg_pg_num(&pg, "SELECT count(*) FROM sendguard_blocks WHERE ended_us IS NULL"),
	    RACE_IDS);
	cr_expect_eq(sg_pg_num(&pg, "SELECT count(DISTINCT identity) FROM sendguard_blocks"),
	    RACE_IDS);
	cr_expect_eq(sg_pg_num(&pg, "SELECT count(*) FROM sendguard_events WHERE kind = 'block'"),
	    RACE_IDS, "one event per block, for the other nodes to apply");
	cr_expect_eq(sg_pg_num(&pg, "SELECT max(version) FROM sendguard_schema"), PG_SCHEMA_LATEST,
	    "both nodes found an empty database; the schema was made once");
}

/* One decision of the episode table, at now (seconds after t0). */
struct episode_row {
	const char *what;
	const char *node, *kind, *identity;
	int64_t until; /* seconds after t0; 0: until unblocked */
	int64_t now;
	int64_t event; /* 1: it made an event (a new episode, an end) */
};

Test(cluster, block_episodes, .fini = pg_gone)
{
	static const struct episode_row rows[] = {
		{ "a block", "mxa", "block", "sasl:x@example.com", 3600, 0, 1 },
		{ "the same in force: none", "mxb", "block", "sasl:x@example.com", 7200, 1, 0 },
		{ "unblocked on the other node", "mxb", "unblock", "sasl:x@example.com", 0, 2, 1 },
		{ "a new episode after it", "mxb", "block", "sasl:x@example.com", 0, 3, 1 },
		{ "another identity is its own", "mxa", "block", "sender:x@example.com", 10, 4, 1 },
		{ "before its end: none", "mxb", "block", "sender:x@example.com", 100, 9, 0 },
		{ "after its end: a new one", "mxb", "block", "sender:x@example.com", 100, 14, 1 },
		{ "unblock of one never blocked", "mxa", "unblock", "uid:33", 0, 20, 1 },
	};
	struct seen s[2];
	struct pg *p[2];
	size_t i;
	int64_t t0 = wall_us();

	need_pg();
	p[0] = connect_as("mxa", &s[0]);
	p[1] = connect_as("mxb", &s[1]);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct episode_row *r = &rows[i];
		const struct store_decision d = { 0, 0, r->kind, r->identity, "submission",
			r->until ? t0 + r->until * 1000000 : 0, "release" };
		int k = strcmp(r->node, "mxb") == 0;

		cr_assert_eq(pg_decide(p[k], &d, t0 + r->now * 1000000, on_done, &s[k]), 0);
		wait_done(p[k], &s[k], 1);
		cr_assert(s[k].ok, "%s: %s", r->what, s[k].why);
		cr_expect_eq(s[k].n, r->event, "%s", r->what);
	}
	cr_expect_eq(sg_pg_num(&pg,
			 "SELECT count(*) FROM sendguard_blocks WHERE ended_us IS NULL"),
	    2, "in force: x's second episode and the sender's second");
	cr_expect_eq(sg_pg_num(&pg,
			 "SELECT count(*) FROM sendguard_blocks WHERE ended_how = 'expired'"),
	    1);
	cr_expect_eq(sg_pg_num(&pg,
			 "SELECT count(*) FROM sendguard_blocks WHERE ended_how = 'unblocked' "
			 "AND ended_by = 'mxb'"),
	    1);
	cr_expect_eq(sg_pg_num(&pg, "SELECT count(*) FROM sendguard_events WHERE mode = 'release'"),
	    2, "the unblocks carry --release-held to every node");
	pg_free(p[0]);
	pg_free(p[1]);
}

/* ------------------------------------------------------------------ */
/* two daemons */

struct node {
	char dir[64];
	char conf[128], log[128], err[128], calls[128], map[160];
	pid_t pid;
};

static struct node nodes[2];

static void
nodes_gone(void)
{
	int k;

	for (k = 0; k < 2; k++) {
		if (nodes[k].pid > 0)
			(void)sg_kill_wait(nodes[k].pid, SIGKILL);
		nodes[k].pid = 0;
		if (nodes[k].dir[0] != '\0')
			sg_rm_tmpdir(nodes[k].dir);
	}
	pg_gone();
}

/* node_setup - a node's directory, stand-ins, empty log and agent.conf (rules: its [limit] sections) */
static void
node_setup(struct node *n, const char *name, const char *agent, const char *rules)
{
	FILE *fp;

	memset(n, 0, sizeof(*n));
	cr_assert_eq(sg_lower_tmpdir(n->dir, sizeof(n->dir), "sg-node"), 0);
	cr_assert_eq(sg_standins(n->dir), 0);
	cr_assert_eq(sg_postcat_standin(n->dir), 0);
	snprintf(n->conf, sizeof(n->conf), "%s/agent.conf", n->dir);
	snprintf(n->log, sizeof(n->log), "%s/mail.log", n->dir);
	snprintf(n->err, sizeof(n->err), "%s/daemon.err", n->dir);
	snprintf(n->calls, sizeof(n->calls), "%s/calls.log", n->dir);
	snprintf(n->map, sizeof(n->map), "%s/etc/sasl_access", n->dir);
	cr_assert_not_null(fp = fopen(n->log, "w"));
	fclose(fp);
	cr_assert_not_null(fp = fopen(n->conf, "w"));
	fprintf(fp,
	    "[agent]\nlog = %s\nstate = %s/state.db\nsocket = %s/ctl.sock\nstart_at = beginning\n"
	    "postfix_config_dir = %s/etc\npostsuper = %s/bin/postsuper\npostmap = %s/bin/postmap\n"
	    "postfix = %s/bin/postfix\nsendmail = %s/bin/sendmail\npostcat = %s/bin/postcat\n"
	    "hostname = mx\n%s\n%s\n"
	    "[action block]\nsasl_map = %s\nsender_map = %s/etc/sender_access\n\n"
	    "[cluster]\nconninfo = %s\nnode = %s\n",
	    n->log, n->dir, n->dir, n->dir, n->dir, n->dir, n->dir, n->dir, n->dir, agent, rules,
	    n->map,
	    n->dir, pg.conninfo, name);
	fclose(fp);
}

static void
node_start(struct node *n)
{
	cr_assert_gt(n->pid = sg_spawn_daemon(n->conf, n->err), 0);
	cr_assert(sg_wait_running(n->conf), "%s never answered:\n%s", n->conf,
	    sg_slurp_path(n->err));
}

/* wait_for - cond(arg) within secs seconds (tried every 100 ms); 1 when it holds */
static int
wait_for(int (*cond)(void *), void *arg, int secs)
{
	int64_t end = wall_us() + (int64_t)secs * 1000000;

	while (wall_us() < end) {
		if (cond(arg))
			return (1);
		sg_msleep(100);
	}
	return (cond(arg));
}

/* link_is - the node's status says its link to PostgreSQL is ((const char **)arg)[1] */
static int
link_is(void *arg)
{
	const char *const *a = arg;
	char want[64], *js = sg_status_running(a[0]);
	int ok;

	snprintf(want, sizeof(want), "\"connection\": \"%s\"", a[1]);
	ok = js != NULL && strstr(js, want) != NULL;
	free(js);
	return (ok);
}

static void
wait_link(const struct node *n, const char *state)
{
	const char *a[] = { n->conf, state };

	cr_assert(wait_for(link_is, a, 60), "%s: the link never became %s:\n%s", n->conf, state,
	    sg_slurp_path(n->err));
}

/* both_hold - each node held its login's mail and has the login in its map */
static int
both_hold(void *arg)
{
	const char *login = arg;
	int k, ok = 1;

	for (k = 0; k < 2; k++) {
		char *m = sg_map_entries(nodes[k].map, NULL);

		ok = ok && sg_ncalls(nodes[k].calls, "postsuper", "-h", 0) > 0 && m != NULL &&
		    strstr(m, login) != NULL;
		free(m);
	}
	return (ok);
}

/* neither_maps - no node's map has the login any more */
static int
neither_maps(void *arg)
{
	int k, ok = 1;

	for (k = 0; k < 2; k++) {
		char *m = sg_map_entries(nodes[k].map, NULL);

		ok = ok && m != NULL && strstr(m, (const char *)arg) == NULL;
		free(m);
	}
	return (ok);
}

/* both_released - each node ran postsuper -H (unblock --release-held reached it) */
static int
both_released(void *arg)
{
	(void)arg;
	return (sg_ncalls(nodes[0].calls, "postsuper", "-H", 0) > 0 &&
	    sg_ncalls(nodes[1].calls, "postsuper", "-H", 0) > 0);
}

Test(cluster, two_nodes_block_and_unblock_everywhere, .fini = nodes_gone)
{
	static const char *const names[] = { "mxa", "mxb" };
	static const char *const qids[2][3] = { { "A0A0A01", "A0A0A02", "A0A0A03" },
		{ "B0B0B01", "B0B0B02", "B0B0B03" } };
	static char login[] = "carol@example.com";
	char *held, *js, want[128];
	time_t t = time(NULL) - 600;
	int k, i;

	need_pg();
	setenv("TZ", "UTC", 1);
	for (k = 0; k < 2; k++) {
		node_setup(&nodes[k], names[k], "",
		    "[limit submission]\nby = sasl\nmessages = 5/1h\nactions = hold, block\n");
		node_start(&nodes[k]);
	}
	for (k = 0; k < 2; k++)
		wait_link(&nodes[k], "up");
	/* three messages through each node */
	for (k = 0; k < 2; k++) {
		FILE *fp = fopen(nodes[k].log, "a");

		cr_assert_not_null(fp);
		for (i = 0; i < 3; i++) { /* in its log, and in its queue (which confirms holds) */
			sg_log_msg(fp, t + k * 10 + i, qids[k][i], login, login);
			cr_assert_eq(sg_queue_msg(nodes[k].dir, qids[k][i], login, login, "192.0.2.10"),
			    0);
		}
		fclose(fp);
	}
	cr_assert(wait_for(both_hold, login, 30),
	    "both nodes should hold %s and map it\nA:\n%s\nB:\n%s", login,
	    sg_slurp_path(nodes[0].err), sg_slurp_path(nodes[1].err));
	for (k = 0; k < 2; k++) {
		char mine[64];

		snprintf(mine, sizeof(mine), "%s\n%s\n%s\n", qids[k][0], qids[k][1], qids[k][2]);
		held = sg_stdin_union(nodes[k].calls, "postsuper", "-h", 0);
		cr_expect_str_eq(held, mine, "node %s holds its own queue IDs, and only them",
		    names[k]);
		free(held);
	}
	cr_expect_eq(sg_pg_num(&pg, "SELECT count(*) FROM sendguard_blocks"), 1,
	    "one block, whichever node crossed first");
	/* each node counts the union, and says who sent what */
	cr_assert_not_null(js = sg_status_running(nodes[0].conf));
	snprintf(want, sizeof(want), "\"count\": 6, \"threshold\": 5, \"nodes\": {\"mxa\": 3, \"mxb\": 3}");
	cr_expect(strstr(js, want) != NULL, "node A's status:\n%s", js);
	free(js);
	/* and as text: the link, every node, who sent the count's messages */
	{
		const char *argv[] = { sg_bin(), "status", "-c", nodes[0].conf, NULL };
		struct cmdres r = runcmd(argv, NULL);

		cr_expect_eq(r.status, 0, "status: %s", r.err);
		cr_expect_not_null(strstr(r.out, "CLUSTER: node mxa, PostgreSQL up since "), "%s",
		    r.out);
		cr_expect_not_null(strstr(r.out, "\n  mxb "), "node B's row:\n%s", r.out);
		cr_expect_not_null(strstr(r.out, "MESSAGES PER NODE"), "%s", r.out);
		cr_expect_not_null(strstr(r.out, "6/5  mxa:3 mxb:3"), "%s", r.out);
		cmdres_free(&r);
	}
	/* unblock --release-held on one node ends it on both, and releases on both */
	{
		char id[96];
		const char *argv[] = { sg_bin(), "unblock", "--release-held", "-c", nodes[1].conf, id,
			NULL };
		struct cmdres r;

		snprintf(id, sizeof(id), "sasl:%s", login);
		r = runcmd(argv, NULL);
		cr_expect_eq(r.status, 0, "unblock: %s%s", r.out, r.err);
		cmdres_free(&r);
	}
	cr_expect(wait_for(neither_maps, login, 30), "both maps should be empty\nA:\n%s",
	    sg_slurp_path(nodes[0].err));
	cr_assert(wait_for(both_released, NULL, 30), "both nodes should release\nA:\n%s",
	    sg_slurp_path(nodes[0].err));
	for (k = 0; k < 2; k++) {
		char mine[64];

		snprintf(mine, sizeof(mine), "%s\n%s\n%s\n", qids[k][0], qids[k][1], qids[k][2]);
		held = sg_stdin_union(nodes[k].calls, "postsuper", "-H", 0);
		cr_expect_str_eq(held, mine, "node %s releases its own queue IDs, and only them",
		    names[k]);
		free(held);
	}
	cr_expect_eq(sg_pg_num(&pg,
			 "SELECT count(*) FROM sendguard_blocks WHERE ended_by = 'mxb'"),
	    1);
}

/* counted_on - node ((void **)arg)[0]'s status has the count ((void **)arg)[1] */
static int
counted_on(void *arg)
{
	void **a = arg;
	char *js = sg_status_running(((const struct node *)a[0])->conf);
	int ok = js != NULL && strstr(js, (const char *)a[1]) != NULL;

	free(js);
	return (ok);
}

/*
 * Another process holds node B's state database past the busy timeout
 * while node A publishes (issue 11's busy write lock, met by the
 * cluster's own transaction): B says so and keeps running, and counts
 * A's messages once the lock is let go.
 */
Test(cluster, busy_state_database_is_waited_out, .fini = nodes_gone)
{
	static const char *const names[] = { "mxa", "mxb" };
	const char *login = "dave@example.com";
	const time_t t = time(NULL) - 600;
	char statep[160], *e;
	char want[] = "\"count\": 3, \"threshold\": 100, \"nodes\": {\"mxa\": 3}";
	void *arg[2] = { &nodes[1], want };
	int k, st, release;
	pid_t holder;
	FILE *fp;

	need_pg();
	setenv("TZ", "UTC", 1);
	for (k = 0; k < 2; k++) {
		node_setup(&nodes[k], names[k], "mode = monitor\n",
		    "[limit submission]\nby = sasl\nmessages = 100/1h\nactions = hold\n");
		node_start(&nodes[k]);
	}
	for (k = 0; k < 2; k++)
		wait_link(&nodes[k], "up");
	snprintf(statep, sizeof(statep), "%s/state.db", nodes[1].dir);
	cr_assert_gt(holder = sg_lock_hold(statep, &release), 0, "the lock was never taken");
	cr_assert_not_null(fp = fopen(nodes[0].log, "a"));
	for (k = 0; k < 3; k++) {
		char qid[] = "D0D0D00";

		qid[6] = (char)('0' + k);
		sg_log_msg(fp, t + k, qid, login, login);
	}
	fclose(fp);
	sg_msleep(7000);
	cr_expect_eq(waitpid(nodes[1].pid, &st, WNOHANG), 0, "node B stopped (status %d):\n%s",
	    st, sg_slurp_path(nodes[1].err));
	cr_assert(sg_lock_release(holder, release));
	cr_expect(wait_for(counted_on, arg, 30), "node B should count A's 3 messages:\n%s",
	    sg_slurp_path(nodes[1].err));
	e = sg_slurp_path(nodes[1].err);
	cr_expect_not_null(strstr(e, "the cluster's rows wait"), "%s", e);
	free(e);
}

/* ------------------------------------------------------------------ */
/* the union of two truths, through an outage and a crash */

/* num_at - the decimal number at s, which must end at a byte of stops; -1 when it does not */
static long
num_at(const char *s, const char *stops)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE || end == s || v < 0 || v > 1000000000LL || strchr(stops, *end) == NULL)
		return (-1);
	return ((long)v);
}
/* The truth of both logs: identity -> messages, recipients. */
struct tally {
	long msgs, rcpts;
	long got_msgs, got_rcpts;
	int seen;
};

static void
truth_load(struct hmap *h, const char *path)
{
	char *all = sg_slurp_path(path), *line, *next, *f[4];
	int n;

	cr_assert_not_null(all, "%s", path);
	for (line = all; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strncmp(line, "identity\t", 9) != 0)
			continue;
		for (n = 0, f[0] = line; n < 3 && (f[n + 1] = strchr(f[n], '\t')) != NULL; n++)
			*f[n + 1]++ = '\0';
		cr_assert_eq(n, 3, "odd truth line");
		{
			void **slot;
			int added;
			struct tally *t;

			cr_assert_not_null(slot = hmap_get_or_add(h, f[1], strlen(f[1]), &added));
			if (added)
				cr_assert_not_null(*slot = calloc(1, sizeof(struct tally)));
			t = *slot;
			cr_assert(num_at(f[2], "") >= 0 && num_at(f[3], "\t") >= 0, "odd truth counts");
			t->msgs += num_at(f[2], "");
			t->rcpts += num_at(f[3], "\t");
		}
	}
	free(all);
}

/* The status of one node against the truth. */
struct check {
	struct hmap *h;
	int extra, wrong, missing;
	char first[512];
};

static int
reset_cb(void *ctx, const char *k, size_t n, void *v)
{
	struct tally *t = v;

	(void)ctx;
	(void)k;
	(void)n;
	t->got_msgs = t->got_rcpts = 0;
	t->seen = 0;
	return (0);
}

static int
judge_cb(void *ctx, const char *k, size_t n, void *v)
{
	struct check *c = ctx;
	struct tally *t = v;

	if (t->got_msgs == t->msgs && t->got_rcpts == t->rcpts)
		return (0);
	if (t->seen)
		c->wrong++;
	else
		c->missing++;
	if (c->first[0] == '\0')
		snprintf(c->first, sizeof(c->first), "%.*s: %ld messages, %ld recipients; truth %ld, %ld",
		    (int)n, k, t->got_msgs, t->got_rcpts, t->msgs, t->rcpts);
	return (0);
}

/* union_ok - node conf's status counts are the union of the truths, exactly */
static int
union_ok(struct check *c, const char *conf)
{
	char *js = sg_status_running(conf), *p, *e;

	c->extra = c->wrong = c->missing = 0;
	c->first[0] = '\0';
	if (js == NULL)
		return (0);
	hmap_each(c->h, reset_cb, NULL);
	for (p = strstr(js, "\"counts\": ["); p != NULL && (p = strstr(p, "{\"identity\": \"")) != NULL;
	     p = e) {
		struct tally *t;
		long v;
		int msgs;

		p += 14;
		if ((e = strchr(p, '"')) == NULL)
			break;
		t = hmap_get(c->h, p, (size_t)(e - p));
		msgs = strstr(e, "\"limit\": \"messages\"") == strstr(e, "\"limit\": ");
		v = num_at(strstr(e, "\"count\": ") + 9, ",}");
		if (t == NULL) {
			c->extra++;
			continue;
		}
		t->seen = 1;
		if (msgs)
			t->got_msgs = v;
		else
			t->got_rcpts = v;
	}
	free(js);
	hmap_each(c->h, judge_cb, c);
	return (c->extra == 0 && c->wrong == 0 && c->missing == 0);
}

static struct check checks[2];

static int
both_union(void *arg)
{
	int a, b;

	(void)arg;
	a = union_ok(&checks[0], nodes[0].conf);
	b = union_ok(&checks[1], nodes[1].conf);
	return (a && b);
}

/* append - lines [from, to) of the generated log src to the node's log */
static void
append(const char *src, long from, long to, const char *dst)
{
	FILE *in = fopen(src, "r"), *out = fopen(dst, "a");
	char *line = NULL;
	size_t cap = 0;
	long n = 0;

	cr_assert(in != NULL && out != NULL);
	while (getline(&line, &cap, in) > 0 && n < to)
		if (n++ >= from)
			fputs(line, out);
	free(line);
	fclose(in);
	fclose(out);
}

static void
caught_up(const struct node *n)
{
	cr_assert(sg_wait_caught_up(n->conf, n->log, 600), "%s did not catch up:\n%s", n->conf,
	    sg_slurp_path(n->err));
}

#define TRUTH_LINES 8000

Test(cluster, union_of_two_truths_through_outage_and_kill, .fini = nodes_gone)
{
	static const char *const names[] = { "mxa", "mxb" };
	char gen[256], logs[2][128], truths[2][128], start[32], seed[16], flush[160];
	struct hmap *h;
	long long total;
	int k;

	need_pg();
	setenv("TZ", "UTC", 1);
	snprintf(gen, sizeof(gen), "%s/loggen", getenv("SG_TOOLS") ? getenv("SG_TOOLS") : "build/bench");
	cr_assert(access(gen, X_OK) == 0, "%s: %s (make tools)", gen, strerror(errno));
	snprintf(start, sizeof(start), "%lld", (long long)time(NULL) - 3 * 3600);
	for (k = 0; k < 2; k++) {
		const char *mon = "mode = monitor\n";

		node_setup(&nodes[k], names[k], mon,
		    "[limit s]\nby = sasl\nmessages = 1000000/1d\nrecipients = 1000000/1d\nactions = hold\n"
		    "[limit u]\nby = uid\nmessages = 1000000/1d\nrecipients = 1000000/1d\nactions = hold\n"
		    "[limit f]\nby = sender\nmessages = 1000000/1d\nrecipients = 1000000/1d\n"
		    "actions = hold\n"
		    "[limit i]\nby = ip\nmessages = 1000000/1d\nrecipients = 1000000/1d\nactions = hold\n");
		snprintf(logs[k], sizeof(logs[k]), "%s/gen.log", nodes[k].dir);
		snprintf(truths[k], sizeof(truths[k]), "%s/gen.truth", nodes[k].dir);
		snprintf(seed, sizeof(seed), "%d", 5 + k);
		{
			char lines[16];
			const char *argv[] = { gen, "--lines", lines, "--seed", seed, "--start", start,
				"--out", logs[k], "--truth", truths[k], NULL };
			struct cmdres r;

			snprintf(lines, sizeof(lines), "%d", TRUTH_LINES);
			r = runcmd(argv, NULL);
			cr_assert_eq(r.status, 0, "loggen: %s", r.err);
			cmdres_free(&r);
		}
		node_start(&nodes[k]);
	}
	cr_assert_not_null(h = hmap_new());
	truth_load(h, truths[0]);
	truth_load(h, truths[1]);
	checks[0].h = checks[1].h = h;
	for (k = 0; k < 2; k++)
		wait_link(&nodes[k], "up");

	/* the first half of each log, with PostgreSQL up */
	for (k = 0; k < 2; k++)
		append(logs[k], 0, TRUTH_LINES / 2, nodes[k].log);
	for (k = 0; k < 2; k++)
		caught_up(&nodes[k]);
	/* PostgreSQL goes away; the nodes go on alone and say so */
	cr_assert_eq(sg_pg_stop(&pg), 0);
	append(logs[1], TRUTH_LINES / 2, TRUTH_LINES, nodes[1].log);
	append(logs[0], TRUTH_LINES / 2, TRUTH_LINES * 3 / 4, nodes[0].log);
	for (k = 0; k < 2; k++)
		caught_up(&nodes[k]);
	wait_link(&nodes[1], "down");
	/* node A dies hard, its log goes on, it comes back */
	(void)sg_kill_wait(nodes[0].pid, SIGKILL);
	nodes[0].pid = 0;
	append(logs[0], TRUTH_LINES * 3 / 4, TRUTH_LINES, nodes[0].log);
	/* a last line a minute later releases the messages held back for a hand-off */
	for (k = 0; k < 2; k++) {
		FILE *fp = fopen(nodes[k].log, "a");
		char tb[64];

		cr_assert_not_null(fp);
		sg_stamp(tb, sizeof(tb), time(NULL) - 60);
		snprintf(flush, sizeof(flush), "%s mail postfix/smtpd[9]: connect from x[192.0.2.99]\n", tb);
		fputs(flush, fp);
		fclose(fp);
	}
	node_start(&nodes[0]);
	for (k = 0; k < 2; k++)
		caught_up(&nodes[k]);
	/* PostgreSQL is back: the outboxes go out, each node catches up with the other */
	cr_assert_eq(sg_pg_start(&pg), 0);
	cr_expect(wait_for(both_union, NULL, 90),
	    "the counts are not the union of the truths\nA: %d extra, %d wrong, %d missing (%s)\n"
	    "B: %d extra, %d wrong, %d missing (%s)",
	    checks[0].extra, checks[0].wrong, checks[0].missing, checks[0].first, checks[1].extra,
	    checks[1].wrong, checks[1].missing, checks[1].first);
	total = sg_pg_num(&pg, "SELECT count(*) FROM sendguard_messages");
	cr_expect_eq(total,
	    sg_pg_num(&pg, "SELECT count(DISTINCT (node, host, instance, queue_id, time_us)) "
			   "FROM sendguard_messages"));
	{
		char *t0 = sg_slurp_path(truths[0]), *t1 = sg_slurp_path(truths[1]), *p;
		long long want = 0;

		for (p = t0; (p = strstr(p, "\nmessage\t")) != NULL; p++)
			want++;
		for (p = t1; (p = strstr(p, "\nmessage\t")) != NULL; p++)
			want++;
		want += strncmp(t0, "message\t", 8) == 0;
		want += strncmp(t1, "message\t", 8) == 0;
		cr_expect_eq(total, want, "PostgreSQL holds each message of both logs once");
		free(t0);
		free(t1);
	}
	hmap_free(h, free);
}
