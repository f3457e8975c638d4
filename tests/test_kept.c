/*
 * NAME
 *	test_kept - a verdict inside the daemon's batch sees the batch's own
 *	messages exactly as if they had been written, and they stay in memory
 * SUMMARY
 *	The daemon keeps a batch's messages back until its commit
 *	(store_bulk_keep); the enforcement reads an identity's queued and
 *	newest messages at every verdict.  store_kept.c answers those reads
 *	with the kept messages merged into the file's rows instead of
 *	writing them first.  Each script below runs the same store calls on
 *	a file with the daemon's batches and on one without (every message
 *	an INSERT), then, inside the open batch, reads every identity of the
 *	script (queued from a time on, and the newest 2 and 100): the
 *	answers must be the same rows, field for field (NULL and "" told
 *	apart), in the same order.  The scripts put kept messages before,
 *	between and after the file's rows, at the same time as them (the
 *	order then by id), removed ones, messages written at once among kept
 *	ones (an older time, a reused queue ID), rows of an earlier
 *	connection (the newest-first path cannot tell: the kept ones are
 *	written first, as before), a domain identity (written first).  Where
 *	the merge answers, the batch's messages must still be kept back
 *	after the reads (the point: they are written once, at the commit),
 *	and the files must hold the same rows after the commit.  The
 *	enforcement's one scan of both (store_each_queued_recent) must call
 *	back what the two reads give, in their order, and write nothing.
 *	A batch that keeps back more messages than one statement writes
 *	(STORE_BULK_ROWS, and a rest) leaves the same rows, every column,
 *	as one written a message at a time.
 * UNTRUSTED INPUT
 *	None: fixed test data.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <sqlite3.h>

#include "runcmd.h"
#include "store/store.h"
#include "store/store_priv.h"

static char dir[64];

static void
setup(void)
{
	cr_assert_eq(sg_lower_tmpdir(dir, sizeof(dir), "sg-kept"), 0, "mkdtemp: %s",
	    strerror(errno));
	setenv("TZ", "UTC", 1);
}

static void
teardown(void)
{
	sg_rm_tmpdir(dir);
}

TestSuite(kept, .init = setup, .fini = teardown);

/*
 * One step: b begin, c commit, m a message of sender w (an index into
 * who[]) with queue ID qid at `at` seconds, x its queue file removed,
 * n a new connection (the rows so far become another writer's).
 */
struct step {
	char op;
	char qid[12];
	int at;
	int w;
};

#define STEPS_MAX 24
#define B \
	{ \
		'b', "", 0, 0 \
	}
#define C \
	{ \
		'c', "", 0, 0 \
	}
#define N \
	{ \
		'n', "", 0, 0 \
	}
#define M(q, t, w) \
	{ \
		'm', q, t, w \
	}
#define X(q, t) \
	{ \
		'x', q, t, 0 \
	}

struct kcase {
	char name[64];
	int kept; /* the merge answers all reads: the batch's messages stay kept back */
	struct step s[STEPS_MAX];
};

/* Who sent: sasl, sender, client_ip, uid (NULL and "" both absent) */
static const struct {
	const char *sasl, *sender, *ip;
	long uid;
} who[] = {
	{ "alice@example.com", "alice@example.com", "192.0.2.1", -1 },
	{ "bob@example.com", "bob@example.com", "192.0.2.2", -1 },
	{ NULL, "", "192.0.2.1", 33 },
	{ "", "www@example.com", NULL, 33 },
};

/* Every identity the scripts' messages have, and one domain (not merged: written first). */
static const char *const idents[] = { "sasl:alice@example.com", "sasl:bob@example.com",
	"sender:alice@example.com", "sender:www@example.com", "ip:192.0.2.1", "ip:192.0.2.2",
	"uid:33", "uid:34" };

/* clang-format off */
static const struct kcase cases[] = {
	{ "kept messages after the file's", 1,
	    { B, M("A1", 10, 0), M("A2", 20, 2), C, B, M("A3", 30, 0), M("A4", 40, 2),
	      M("A5", 50, 3) } },
	{ "kept ones with a message written at once among them", 1,
	    { B, M("A1", 10, 0), M("A2", 30, 0), C, B, M("A3", 40, 0), M("A4", 35, 0),
	      M("A5", 25, 0), M("A6", 45, 2) } },
	{ "the same time in the file and kept, ordered by id", 1,
	    { B, M("A1", 10, 0), C, B, M("C1", 40, 0), M("A2", 40, 0), M("A2", 45, 0),
	      M("B1", 40, 0), M("B2", 40, 2), M("B3", 38, 2) } },
	{ "removed kept messages and removed rows", 1,
	    { B, M("A1", 10, 0), M("A2", 20, 0), C, B, X("A1", 10), M("A3", 30, 0),
	      M("A4", 40, 0), X("A3", 30), M("A5", 50, 1), X("A5", 50) } },
	{ "a queue ID reused: the older one written, the newer kept", 1,
	    { B, M("A1", 10, 0), C, B, M("A2", 20, 0), X("A2", 20), M("A2", 70, 0),
	      M("A3", 75, 2) } },
	{ "several batches", 1,
	    { B, M("A1", 10, 0), C, B, M("A2", 20, 0), M("A3", 22, 3), C, B, M("A4", 30, 0),
	      M("A5", 30, 3), M("A6", 31, 1) } },
	{ "more than the newest 2", 1,
	    { B, M("A1", 10, 0), M("A2", 11, 0), M("A3", 12, 0), C, B, M("A4", 13, 0),
	      M("A5", 14, 0), M("A6", 15, 0), M("A7", 9, 0), M("A8", 16, 2) } },
	{ "nothing kept", 1, { B, M("A1", 10, 0), M("A2", 20, 2), C, B } },
	{ "rows of an earlier connection", 0,
	    { B, M("A1", 10, 0), M("A2", 20, 2), C, N, B, M("A3", 30, 0), M("A4", 40, 2) } },
};
/* clang-format on */

/* open_rw - a writable store */
static struct store *
open_rw(const char *path, int keep)
{
	struct store *s = NULL;
	char err[512] = "";

	cr_assert_eq(store_open(&s, path, 0, err, sizeof(err)), 0, "%s", err);
	if (keep)
		cr_assert_eq(store_bulk_keep(s, err, sizeof(err)), 0, "%s", err);
	return (s);
}

/* run_step - one step on *s (the path to open it again, keep: the daemon's batches) */
static void
run_step(struct store **s, const char *path, int keep, const struct step *st)
{
	char err[512] = "";
	struct store_msg m = { .time_us = 1000000 * (int64_t)st->at,
		.host = "mx",
		.instance = "postfix",
		.queue_id = st->qid,
		.sasl = who[st->w].sasl,
		.sender = who[st->w].sender,
		.client_ip = who[st->w].ip,
		.uid = who[st->w].uid,
		.nrcpt = 1 + st->at % 3 };

	switch (st->op) {
	case 'b':
		cr_assert_eq(store_begin(*s, err, sizeof(err)), 0, "%s", err);
		break;
	case 'c':
		cr_assert_eq(store_commit(*s, err, sizeof(err)), 0, "%s", err);
		break;
	case 'n':
		store_close(*s);
		*s = open_rw(path, keep);
		break;
	case 'm':
		cr_assert_eq(store_add_message(*s, &m, err, sizeof(err)), 0, "%s", err);
		break;
	case 'x':
		cr_assert_eq(store_mark_removed(*s, m.host, m.instance, m.queue_id, m.time_us + 1,
				 err, sizeof(err)),
		    0, "%s", err);
		break;
	default:
		cr_assert_fail("bad step %c", st->op);
	}
}

/* The text of the answers. */
struct out {
	FILE *fp;
};

/* opt - a string field as text, NULL told apart */
static const char *
opt(const char *p)
{
	return p == NULL ? "(null)" : p;
}

/* msg_cb - one message of an answer, every field */
static int
msg_cb(void *ctx, const struct store_msg *m)
{
	struct out *o = ctx;

	fprintf(o->fp, "  %lld %s %s %s %s %s %s %ld %ld %lld\n", (long long)m->time_us,
	    opt(m->host), opt(m->instance), opt(m->queue_id), opt(m->sasl), opt(m->sender),
	    opt(m->client_ip), m->uid, m->nrcpt, (long long)m->removed_us);
	return (0);
}

/* answers - what the enforcement reads of every identity (caller frees) */
static char *
answers(struct store *s, int domain)
{
	static const int since[] = { 0, 30, 40 };
	static const int limit[] = { 2, 100 };
	char err[512] = "", *text = NULL;
	size_t len = 0, i, j;
	struct out o = { open_memstream(&text, &len) };

	cr_assert_not_null(o.fp);
	for (i = 0; i < sizeof(idents) / sizeof(idents[0]) + (domain ? 1 : 0); i++) {
		const char *id =
		    i < sizeof(idents) / sizeof(idents[0]) ? idents[i] : "sasl_domain:example.com";

		for (j = 0; j < sizeof(since) / sizeof(since[0]); j++) {
			fprintf(o.fp, "%s queued since %d:\n", id, since[j]);
			cr_assert_eq(store_each_queued(s, id, 1000000 * (int64_t)since[j], msg_cb,
					 &o, err, sizeof(err)),
			    0, "%s", err);
		}
		for (j = 0; j < sizeof(limit) / sizeof(limit[0]); j++) {
			fprintf(o.fp, "%s newest %d:\n", id, limit[j]);
			cr_assert_eq(store_each_recent(s, id, limit[j], msg_cb, &o, err,
					 sizeof(err)),
			    0, "%s", err);
		}
	}
	fclose(o.fp);
	return (text);
}

/*
 * one_scan_same - for every identity, time and limit: the enforcement's
 * one scan (store_each_queued_recent) calls back the rows the two reads
 * give, in their order
 */
static void
one_scan_same(struct store *s, const char *name)
{
	static const int since[] = { 0, 30, 40 };
	static const int limit[] = { 2, 100 };
	char err[512] = "", *one, *two;
	size_t len, i, j, l;
	struct out o;

	for (i = 0; i < sizeof(idents) / sizeof(idents[0]); i++)
		for (j = 0; j < sizeof(since) / sizeof(since[0]); j++)
			for (l = 0; l < sizeof(limit) / sizeof(limit[0]); l++) {
				int64_t t = 1000000 * (int64_t)since[j];

				o.fp = open_memstream(&one, &len);
				cr_assert_not_null(o.fp);
				cr_assert_geq(store_each_queued_recent(s, idents[i], t, limit[l],
						  msg_cb, msg_cb, &o, err, sizeof(err)),
				    0, "%s", err);
				fclose(o.fp);
				o.fp = open_memstream(&two, &len);
				cr_assert_not_null(o.fp);
				cr_assert_eq(store_each_queued(s, idents[i], t, msg_cb, &o, err,
						 sizeof(err)),
				    0, "%s", err);
				cr_assert_eq(store_each_recent(s, idents[i], limit[l], msg_cb, &o,
						 err, sizeof(err)),
				    0, "%s", err);
				fclose(o.fp);
				cr_expect_str_eq(one, two,
				    "%s: %s since %d, newest %d: one scan differs", name, idents[i],
				    since[j], limit[l]);
				free(one);
				free(two);
			}
}

/* nkept - how many messages the daemon's batch keeps back */
static size_t
nkept(const struct store *s)
{
	const void *it = NULL;
	int64_t id;
	size_t n = 0;

	while (store_bulk_kept(s, &it, &id) != NULL)
		n++;
	return (n);
}

/* rows - every message row of the file, in id order (caller frees) */
static char *
rows(struct store *s)
{
	char *text = NULL, err[512] = "";
	size_t len = 0;
	struct out o = { open_memstream(&text, &len) };

	cr_assert_not_null(o.fp);
	cr_assert_eq(store_each_message(s, 0, msg_cb, &o, err, sizeof(err)), 0, "%s", err);
	fclose(o.fp);
	return (text);
}

ParameterizedTestParameters(kept, reads_inside_a_batch_see_its_messages)
{
	return cr_make_param_array(struct kcase, cases, sizeof(cases) / sizeof(cases[0]));
}

/*
 * The same answers with the daemon's batches as without, the batch's
 * messages still kept back after them, the same rows after the commit
 */
ParameterizedTest(const struct kcase *c, kept, reads_inside_a_batch_see_its_messages)
{
	char kp[256], pp[256], err[512] = "", *ak, *ap, *rk, *rp;
	struct store *k, *p;
	size_t before;
	int i;

	snprintf(kp, sizeof(kp), "%s", sg_path(dir, "keep.db"));
	snprintf(pp, sizeof(pp), "%s", sg_path(dir, "plain.db"));
	k = open_rw(kp, 1);
	p = open_rw(pp, 0);
	for (i = 0; i < STEPS_MAX && c->s[i].op != 0; i++) {
		run_step(&k, kp, 1, &c->s[i]);
		run_step(&p, pp, 0, &c->s[i]);
	}
	before = nkept(k);
	ak = answers(k, 0);
	ap = answers(p, 0);
	cr_expect_str_eq(ak, ap, "%s: the answers differ\nkept:\n%s\nwritten:\n%s", c->name, ak,
	    ap);
	if (c->kept)
		cr_expect_eq(nkept(k), before, "%s: %zu of %zu messages kept back after the reads",
		    c->name, nkept(k), before);
	free(ak);
	free(ap);
	one_scan_same(k, c->name);
	one_scan_same(p, c->name);
	if (c->kept)
		cr_expect_eq(nkept(k), before, "%s: the one scan wrote the kept messages", c->name);
	/* a domain identity: the kept messages are written first, the same answers */
	ak = answers(k, 1);
	ap = answers(p, 1);
	cr_expect_str_eq(ak, ap, "%s: the answers with a domain differ", c->name);
	free(ak);
	free(ap);
	cr_assert_eq(store_commit(k, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_commit(p, err, sizeof(err)), 0, "%s", err);
	rk = rows(k);
	rp = rows(p);
	cr_expect_str_eq(rk, rp, "%s: the rows differ after the commit", c->name);
	free(rk);
	free(rp);
	store_close(k);
	store_close(p);
}

/* table - every message row of the file at path, each column, in id order (caller frees) */
static char *
table(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	sqlite3_stmt *st;
	sqlite3 *db;
	int i;

	cr_assert_not_null(fp);
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT * FROM messages ORDER BY id", -1, &st, NULL),
	    SQLITE_OK, "%s", sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (i = 0; i < sqlite3_column_count(st); i++) {
			const unsigned char *t = sqlite3_column_text(st, i);

			fprintf(fp, " %s", t == NULL ? "(null)" : (const char *)t);
		}
		fputc('\n', fp);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	fclose(fp);
	return (text);
}

/* many - message i of the many-message batch: who and queue ID by i, every third removed */
static void
many(struct store *s, int i, char *err, size_t errlen)
{
	char qid[16];
	struct store_msg m = { .time_us = 1000000 * (int64_t)(100 + i),
		.host = "mx",
		.instance = "postfix",
		.queue_id = qid,
		.sasl = who[i % 4].sasl,
		.sender = who[i % 4].sender,
		.client_ip = who[i % 4].ip,
		.uid = who[i % 4].uid,
		.nrcpt = 1 + i % 3 };
	struct store_outcome o = { m.time_us + 500000, i % 3, 1 + i % 2, &m };

	snprintf(qid, sizeof(qid), "B%04d", i);
	cr_assert_eq(store_add_message(s, &m, err, errlen), 0, "%s", err);
	cr_assert_eq(store_add_outcome(s, &o, err, errlen), 0, "%s", err);
	if (i % 3 == 0)
		cr_assert_eq(store_mark_removed(s, m.host, m.instance, qid, m.time_us + 1, err,
				 errlen),
		    0, "%s", err);
}

/*
 * A batch that keeps more messages back than one statement writes
 * (STORE_BULK_ROWS, and a rest): its commit leaves the same rows, every
 * column (ids, outcomes, removals), as a message written at a time.
 */
Test(kept, a_commit_of_many_kept_messages_writes_the_same_rows)
{
	char kp[256], pp[256], err[512] = "", *rk, *rp;
	struct store *k, *p;
	int i;

	snprintf(kp, sizeof(kp), "%s", sg_path(dir, "keep.db"));
	snprintf(pp, sizeof(pp), "%s", sg_path(dir, "plain.db"));
	k = open_rw(kp, 1);
	p = open_rw(pp, 0);
	cr_assert_eq(store_begin(k, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_begin(p, err, sizeof(err)), 0, "%s", err);
	for (i = 0; i < 3 * STORE_BULK_ROWS + 5; i++) {
		many(k, i, err, sizeof(err));
		many(p, i, err, sizeof(err));
	}
	cr_expect_eq(nkept(k), (size_t)(3 * STORE_BULK_ROWS + 5), "kept back until the commit");
	cr_assert_eq(store_commit(k, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_commit(p, err, sizeof(err)), 0, "%s", err);
	store_close(k);
	store_close(p);
	rk = table(kp);
	rp = table(pp);
	cr_expect_str_eq(rk, rp, "the rows differ after the commit\nkept:\n%s\nwritten:\n%s", rk,
	    rp);
	cr_expect_gt(strlen(rk), 0);
	free(rk);
	free(rp);
}
