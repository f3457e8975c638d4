/*
 * NAME
 *	test_recent - Criterion tests of store_each_recent(): an identity's
 *	newest messages, as the enforcement's recheck of "removed" ones and
 *	explain read them
 * SUMMARY
 *	store_each_recent() has a quick path (store/store_count.c,
 *	recent_quick) that reads an identity's messages newest id first and
 *	stops early, relying on what the connection knows of the order in
 *	which it inserted them.  Each row of the table is a story of inserts
 *	(messages that arrive late, ties in time, a reopen between, a
 *	rollback, a prune that gives an id again, another connection writing
 *	between): after every step the newest `limit` messages of each
 *	identity must be those a plain sort of every message gives, in the
 *	same order, with their removed_us.  The sort is made here, from the
 *	rows the test knows it wrote (SQLite gives each new row max(id) + 1).
 * UNTRUSTED INPUT
 *	None.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "runcmd.h"
#include "store/store.h"

static char tmpdir[64];
static char dbpath[600];

static void
mk_tmpdir(void)
{
	cr_assert_eq(sg_lower_tmpdir(tmpdir, sizeof(tmpdir), "sg-recent"), 0,
	    "mkdtemp: %s", strerror(errno));
	snprintf(dbpath, sizeof(dbpath), "%s", sg_path(tmpdir, "state.db"));
}

static void
rm_tmpdir(void)
{
	if (tmpdir[0] != '\0')
		sg_rm_tmpdir(tmpdir);
}

#define MAXMSG 1200

/* What the test wrote: the rows the file holds, with the ids SQLite gave. */
struct model {
	struct row {
		int64_t	id, t, removed;
		int	who;		/* index into idents[] */
		char	qid[16];
	} r[MAXMSG];
	size_t	n;
	int	serial;
};

/* The identities: each message has one login, one uid, one sender, one address. */
static const char *const idents[] = {
	"sasl:a@example.com", "sasl:b@example.com", "uid:33",
	"sender:c@example.org", "ip:192.0.2.7",
};
#define NIDENT (sizeof(idents) / sizeof(idents[0]))

/* model_next_id - the id SQLite gives the next row: max(id) + 1 */
static int64_t
model_next_id(const struct model *md)
{
	int64_t	max = 0;
	size_t	i;

	for (i = 0; i < md->n; i++)
		if (md->r[i].id > max)
			max = md->r[i].id;
	return max + 1;
}

/* add - one message of identity set `who` at time t, through store s */
static void
add(struct store *s, struct model *md, int64_t t, int who)
{
	struct row *r = &md->r[md->n];
	char	err[512] = "";
	/* login, uid, sender and address of each identity set */
	static const char *const sasl[] = { "a@example.com", "b@example.com",
					    NULL, NULL, NULL };
	static const long uid[] = { -1, -1, 33, -1, -1 };
	static const char *const sender[] = { "x@example.net", "x@example.net",
					      "x@example.net", "c@example.org",
					      "x@example.net" };
	static const char *const ip[] = { "198.51.100.1", "198.51.100.1",
					  NULL, "198.51.100.1", "192.0.2.7" };
	struct store_msg m = { 0 };

	cr_assert_lt(md->n, MAXMSG);
	snprintf(r->qid, sizeof(r->qid), "Q%dZ", ++md->serial);
	r->id = model_next_id(md);
	r->t = t;
	r->removed = 0;
	r->who = who;
	m.time_us = t;
	m.host = "mx1";
	m.instance = "postfix";
	m.queue_id = r->qid;
	m.sasl = sasl[who];
	m.sender = sender[who];
	m.client_ip = ip[who];
	m.uid = uid[who];
	m.nrcpt = 1;
	cr_assert_eq(store_add_message(s, &m, err, sizeof(err)), 0, "%s", err);
	md->n++;
}

/* has - message r belongs to identity i (each set is one identity of idents[]) */
static int
has(const struct row *r, size_t i)
{
	return r->who == (int) i;
}

/* key_cmp - qsort by (time, id) */
static int
key_cmp(const void *a, const void *b)
{
	const struct row *x = *(const struct row *const *) a;
	const struct row *y = *(const struct row *const *) b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* want - the newest limit messages of identity i, oldest first: "QID/removed ..." */
static void
want(const struct model *md, size_t i, int limit, char *out, size_t size)
{
	const struct row *v[MAXMSG];
	size_t	n = 0, k, off = 0;

	for (k = 0; k < md->n; k++)
		if (has(&md->r[k], i))
			v[n++] = &md->r[k];
	qsort(v, n, sizeof(v[0]), key_cmp);
	out[0] = '\0';
	for (k = n > (size_t) limit ? n - (size_t) limit : 0; k < n; k++)
		off += (size_t) snprintf(out + off, size - off, "%s/%lld ",
		    v[k]->qid, (long long) v[k]->removed);
}

/* What store_each_recent() called back with. */
struct got {
	char	s[MAXMSG * 24];
	size_t	off;
};

static int
on_msg(void *ctx, const struct store_msg *m)
{
	struct got *g = ctx;

	g->off += (size_t) snprintf(g->s + g->off, sizeof(g->s) - g->off,
	    "%s/%lld ", m->queue_id, (long long) m->removed_us);
	return 0;
}

/* check - every identity, several limits: the store's answer is the sort's */
static void
check(struct store *s, const struct model *md, const char *story, int step)
{
	static const int limits[] = { 1, 3, 10, 40, 1000 };
	static char w[MAXMSG * 24];
	char	err[512] = "";
	size_t	i, j;

	for (i = 0; i < NIDENT; i++)
		for (j = 0; j < sizeof(limits) / sizeof(limits[0]); j++) {
			struct got g = { .off = 0 };

			g.s[0] = '\0';
			cr_assert_eq(store_each_recent(s, idents[i], limits[j],
			    on_msg, &g, err, sizeof(err)), 0, "%s", err);
			want(md, i, limits[j], w, sizeof(w));
			cr_assert_str_eq(g.s, w, "%s, step %d: %s, newest %d",
			    story, step, idents[i], limits[j]);
		}
}

/* The stories. */
enum step_kind {
	S_ADD,		/* n messages: time t0 + k * dt, every `late`-th late by back */
	S_REOPEN,	/* close and open the file again */
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_REMOVE,	/* mark the newest message of identity set `who` removed */
	S_PRUNE,	/* drop every message older than t0 */
	S_OTHER,	/* another connection adds n messages */
	S_END
};

struct step {
	enum step_kind k;
	int	n;
	int64_t	t0, dt;
	int	late;
	int64_t	back;
};

#define ONLY(k) { (k), 0, 0, 0, 0, 0 }

static const struct {
	const char *name;
	struct step s[8];
} stories[] = {
	{ "in time order", {
		{ S_ADD, 200, 1000, 10, 0, 0 }, ONLY(S_END) } },
	{ "late messages, back less than a limit's span", {
		{ S_ADD, 300, 1000, 10, 3, 25 }, ONLY(S_END) } },
	{ "late messages, back more than the whole span", {
		{ S_ADD, 150, 1000, 10, 7, 5000 }, ONLY(S_END) } },
	{ "ties in time", {
		{ S_ADD, 120, 1000, 0, 0, 0 }, { S_ADD, 60, 1000, 1, 4, 1 },
		ONLY(S_END) } },
	{ "messages from before a reopen, then newer and older ones", {
		{ S_ADD, 100, 1000, 10, 5, 40 }, ONLY(S_REOPEN),
		{ S_ADD, 30, 1500, 10, 2, 800 }, { S_ADD, 200, 3000, 5, 0, 0 },
		ONLY(S_END) } },
	{ "a batch rolled back, then more", {
		{ S_ADD, 80, 1000, 10, 0, 0 }, ONLY(S_BEGIN),
		{ S_ADD, 50, 2000, 10, 3, 30 }, ONLY(S_ROLLBACK),
		{ S_ADD, 90, 1500, 10, 4, 700 }, ONLY(S_END) } },
	{ "a prune takes the newest id, which is given again", {
		{ S_ADD, 60, 5000, 10, 0, 0 }, { S_ADD, 1, 10, 0, 0, 0 },
		{ S_PRUNE, 0, 100, 0, 0, 0 }, { S_ADD, 120, 6000, 3, 5, 2000 },
		ONLY(S_END) } },
	{ "another connection writes between ours, older and newer", {
		{ S_ADD, 70, 1000, 10, 0, 0 }, { S_OTHER, 20, 100, 1, 0, 0 },
		{ S_ADD, 70, 2000, 10, 0, 0 }, { S_OTHER, 20, 90000, 1, 0, 0 },
		{ S_ADD, 70, 3000, 10, 0, 0 }, { S_OTHER, 5, 5000, 1, 0, 0 },
		ONLY(S_END) } },
	{ "another connection takes the ids a rollback gave back", {
		{ S_ADD, 80, 1000, 10, 0, 0 }, ONLY(S_BEGIN),
		{ S_ADD, 50, 2000, 10, 0, 0 }, ONLY(S_ROLLBACK),
		{ S_OTHER, 50, 90000, 1, 0, 0 }, { S_ADD, 90, 1800, 10, 0, 0 },
		ONLY(S_END) } },
	{ "removed messages keep their removed_us", {
		{ S_ADD, 90, 1000, 10, 4, 15 }, { S_REMOVE, 0, 0, 0, 0, 0 },
		{ S_REMOVE, 0, 0, 0, 0, 2 }, ONLY(S_BEGIN),
		{ S_ADD, 90, 2000, 10, 6, 100 }, { S_REMOVE, 0, 0, 0, 0, 4 },
		ONLY(S_COMMIT), ONLY(S_END) } },
};

/* remove_newest - mark the newest message of identity set who removed, in the store and the model */
static void
remove_newest(struct store *s, struct model *md, int who)
{
	struct row *best = NULL;
	char	err[512] = "";
	size_t	i;

	for (i = 0; i < md->n; i++)
		if (md->r[i].who == who && md->r[i].removed == 0 &&
		    (best == NULL || md->r[i].id > best->id))
			best = &md->r[i];
	cr_assert_not_null(best);
	cr_assert_eq(store_mark_removed(s, "mx1", "postfix", best->qid,
	    best->t + 7, err, sizeof(err)), 0, "%s", err);
	best->removed = best->t + 7;
}

/* run_step - one step of a story on s (which a reopen replaces) */
static void
run_step(struct store **s, struct model *md, const struct step *st,
    size_t *batch_from)
{
	char	err[512] = "";
	struct store *o;
	size_t	i, k;
	int	j;

	switch (st->k) {
	case S_ADD:
		for (j = 0; j < st->n; j++)
			add(*s, md, st->t0 + j * st->dt -
			    (st->late && j % st->late == st->late - 1 ? st->back : 0),
			    (j * 7 + j / 3) % (int) NIDENT);
		break;
	case S_REOPEN:
		store_close(*s);
		cr_assert_eq(store_open(s, dbpath, 0, err, sizeof(err)), 0, "%s", err);
		break;
	case S_BEGIN:
		cr_assert_eq(store_begin(*s, err, sizeof(err)), 0, "%s", err);
		*batch_from = md->n;
		break;
	case S_COMMIT:
		cr_assert_eq(store_commit(*s, err, sizeof(err)), 0, "%s", err);
		break;
	case S_ROLLBACK:
		cr_assert_eq(store_rollback(*s), 0);
		md->n = *batch_from;
		break;
	case S_REMOVE:
		remove_newest(*s, md, (int) st->back);
		break;
	case S_PRUNE:
		cr_assert_eq(store_prune(*s, st->t0, err, sizeof(err)), 0, "%s", err);
		for (i = k = 0; i < md->n; i++)
			if (md->r[i].t >= st->t0)
				md->r[k++] = md->r[i];
		md->n = k;
		break;
	case S_OTHER:
		cr_assert_eq(store_open(&o, dbpath, 0, err, sizeof(err)), 0, "%s", err);
		for (j = 0; j < st->n; j++)
			add(o, md, st->t0 + j * st->dt, j % (int) NIDENT);
		store_close(o);
		break;
	default:
		break;
	}
}

Test(recent, newest_of_each_identity_as_a_full_sort_gives, .init = mk_tmpdir,
     .fini = rm_tmpdir)
{
	static struct model md;
	size_t	i, b = 0;
	int	k;

	for (i = 0; i < sizeof(stories) / sizeof(stories[0]); i++) {
		struct store *s = NULL;
		char	err[512] = "";

		rm_tmpdir();
		mk_tmpdir();
		memset(&md, 0, sizeof(md));
		cr_assert_eq(store_open(&s, dbpath, 0, err, sizeof(err)), 0, "%s", err);
		for (k = 0; stories[i].s[k].k != S_END; k++) {
			run_step(&s, &md, &stories[i].s[k], &b);
			check(s, &md, stories[i].name, k);
		}
		store_close(s);
	}
}
