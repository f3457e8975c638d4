/*
 * test_act - enforcement's decisions in process: no daemon, no sleeps.
 * act runs on an in-memory store with the synchronous runner
 * (runner_new_sync), so act_kick() returns when every program has run
 * once; the programs are the stand-ins of tests/runcmd.h (they record
 * their argv and standard input in calls.log).
 *
 * The tables: one row per (actions listed, identity kind, mappable or
 * not, monitor or enforce) with the block state it leaves, the action
 * log it writes (action:status, in order) and the programs it runs (in
 * order); the same for blocks and unblocks by hand.  Then the stories
 * that used to need a running daemon although they only check decisions
 * (monitor mode, hostile logins, a rule without hold, domain totals):
 * log lines go through the real pipeline (parse, track, limits, store)
 * into act, as `sendguard run` wires them, in one batch each.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actions/act.h"
#include "actions/exec.h"
#include "actions/hold.h"
#include "actions/notify.h"
#include "actions/run.h"
#include "agent/explain.h"
#include "agent/status.h"
#include "count/conf.h"
#include "count/pipeline.h"
#include "store/store.h"
#include "tests/queue.h"
#include "tests/runcmd.h"
#include "util/buf.h"

#define NROWS(t)	(sizeof(t) / sizeof((t)[0]))
#define REPLY		"450 4.7.1 Sending rate limit exceeded, contact the postmaster"

static char dir[64], confp[128], callsp[128], saslmap[160], sendermap[160];

/* setup - a temporary directory (lower case: the hostile logins name files in it) */
static void
setup(void)
{
	cr_assert_eq(sg_lower_tmpdir(dir, sizeof(dir), "sg-act"), 0, "no temporary directory");
	cr_assert_eq(sg_standins(dir), 0, "stand-ins in %s", dir);
	cr_assert_eq(sg_postcat_standin(dir), 0, "stand-in postcat in %s", dir);
	snprintf(confp, sizeof(confp), "%s/agent.conf", dir);
	snprintf(callsp, sizeof(callsp), "%s/calls.log", dir);
	snprintf(saslmap, sizeof(saslmap), "%s/etc/sasl_access", dir);
	snprintf(sendermap, sizeof(sendermap), "%s/etc/sender_access", dir);
	setenv("TZ", "UTC", 1);
}

static void
teardown(void)
{
	sg_rm_tmpdir(dir);
}

TestSuite(act, .init = setup, .fini = teardown);

/* fresh - no calls recorded, no maps, no flags: each row starts clean */
static void
fresh(void)
{
	static const char *const files[] = { "calls.log", "etc/sasl_access", "etc/sender_access",
	    "fail-postfix", "fail-postmap", "say-postsuper", "postcat.log", "fail-postcat" };
	char p[200];
	const char *rm[] = { "/bin/rm", "-rf", p, NULL };
	struct cmdres r;
	size_t i;

	for (i = 0; i < NROWS(files); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/queue", dir);	/* an empty stand-in queue */
	r = runcmd(rm, NULL);
	cmdres_free(&r);
	cr_assert_eq(mkdir(p, 0755), 0, "%s", p);
}

/* flag - the stand-in flag file NAME (fail-postfix, say-postsuper) with text */
static void
flag(const char *name, const char *text)
{
	char p[200];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	cr_assert_not_null(fp = fopen(p, "w"));
	fputs(text, fp);
	fclose(fp);
}

/* load_conf_exec - agent.conf with one rule "s" by kind by, 3/1h, actions; exec's arguments */
static struct conf *
load_conf_exec(const char *by, const char *actions, int monitor, const char *exec_args)
{
	struct conf_errs errs = { NULL, 0 };
	struct conf *c = NULL;
	FILE *fp = fopen(confp, "w");

	cr_assert_not_null(fp);
	fprintf(fp, "[agent]\nlog = %s/mail.log\nstate = %s/state.db\nsocket = %s/ctl.sock\n"
	    "postfix_config_dir = %s/etc\nmode = %s\n"
	    "postsuper = %s/bin/postsuper\npostmap = %s/bin/postmap\npostfix = %s/bin/postfix\n"
	    "sendmail = %s/bin/sendmail\npostcat = %s/bin/postcat\nhostname = mx\n\n"
	    "[limit s]\nby = %s\nmessages = 3/1h\nactions = %s\nblock_time = 1h\n\n"
	    "[action block]\nsasl_map = %s\nsender_map = %s\n\n"
	    "[action notify]\nto = postmaster@example.com\n\n"
	    "[action exec]\ncommand = %s/bin/exec %s\n",
	    dir, dir, dir, dir, monitor ? "monitor" : "enforce", dir, dir, dir, dir, dir, by, actions,
	    saslmap, sendermap, dir, exec_args);
	fclose(fp);
	cr_assert_eq(conf_load(confp, &c, &errs), 0, "%s", errs.n ? errs.msg[0] : "?");
	conf_errs_free(&errs);
	return (c);
}

/* load_conf - the same with exec's arguments %i %r %c %w; mode monitor or not */
static struct conf *
load_conf(const char *by, const char *actions, int monitor)
{
	return (load_conf_exec(by, actions, monitor, "%i %r %c %w"));
}

/* One act over an in-memory store, its log lines kept. */
struct fx {
	struct conf *conf;
	struct store *st;
	struct act *act;
	struct buf said;		/* act's log lines, one a line */
	struct buf report;		/* what a block or unblock by hand reported */
};

static void
fx_log(void *ctx, enum act_level lv, const char *msg)
{
	struct fx *f = ctx;

	buf_addf(&f->said, "%s%s\n", lv == ACT_WARN ? "warning: " : "", msg);
}

static void
fx_report(void *ctx, const char *report)
{
	buf_adds(&((struct fx *)ctx)->report, report);
}

static void
fx_open(struct fx *f, struct conf *c)
{
	char err[512];

	memset(f, 0, sizeof(*f));
	f->conf = c;
	buf_init(&f->said, 1 << 20);
	buf_init(&f->report, 1 << 20);
	cr_assert_eq(store_open(&f->st, ":memory:", 0, err, sizeof(err)), 0, "%s", err);
	cr_assert_not_null(f->act = act_new(runner_new_sync(), f->st, c, fx_log, f));
}

static void
fx_close(struct fx *f)
{
	act_free(f->act);
	store_close(f->st);
	conf_free(f->conf);
	buf_free(&f->said);
	buf_free(&f->report);
}

/*
 * queue_as - Q in the stand-in queue as a message of identity: over SMTP
 * with its login, sender or client address, or through sendmail (uid:)
 */
static void
queue_as(const char *qid, const char *identity)
{
	const char *v = strchr(identity, ':') + 1;
	char addr[300];

	snprintf(addr, sizeof(addr), "u@%s", v);
	if (strncmp(identity, "sasl:", 5) == 0)
		cr_assert_eq(sg_queue_msg(dir, qid, v, "a@example.com", "192.0.2.10"), 0);
	else if (strncmp(identity, "sasl_domain:", 12) == 0)
		cr_assert_eq(sg_queue_msg(dir, qid, addr, "a@example.com", "192.0.2.10"), 0);
	else if (strncmp(identity, "sender:", 7) == 0)
		cr_assert_eq(sg_queue_msg(dir, qid, NULL, v, "192.0.2.10"), 0);
	else if (strncmp(identity, "sender_domain:", 14) == 0)
		cr_assert_eq(sg_queue_msg(dir, qid, NULL, addr, "192.0.2.10"), 0);
	else if (strncmp(identity, "uid:", 4) == 0)
		cr_assert_eq(sg_queue_msg(dir, qid, NULL, "www-data@example.com", NULL), 0);
	else
		cr_assert_eq(sg_queue_msg(dir, qid, NULL, "a@example.com", v), 0);
}

/*
 * seed - a queued message of identity (qid Q00001) and one of somebody
 * else (Q00009), in the store (as the log gave them) and in the queue
 */
static void
seed(struct fx *f, const char *identity, int64_t t)
{
	struct store_msg m[2];
	const char *v = strchr(identity, ':') + 1;
	char addr[300], err[512];
	int i;

	memset(m, 0, sizeof(m));
	for (i = 0; i < 2; i++) {
		m[i].time_us = t;
		m[i].host = "mx";
		m[i].instance = "postfix";
		m[i].uid = -1;
		m[i].nrcpt = 1;
	}
	m[0].queue_id = "Q00001";
	snprintf(addr, sizeof(addr), "u@%s", v);
	if (strncmp(identity, "sasl:", 5) == 0)
		m[0].sasl = v;
	else if (strncmp(identity, "sender:", 7) == 0)
		m[0].sender = v;
	else if (strncmp(identity, "sender_domain:", 14) == 0)
		m[0].sender = addr;
	else if (strncmp(identity, "sasl_domain:", 12) == 0)
		m[0].sasl = addr;
	else if (strncmp(identity, "uid:", 4) == 0)
		m[0].uid = strtol(v, NULL, 10);
	else
		m[0].client_ip = v;
	m[1].queue_id = "Q00009";
	m[1].sasl = "somebody@else.example";
	m[1].client_ip = "198.51.100.1";
	cr_assert_eq(store_begin(f->st, err, sizeof(err)), 0, "%s", err);
	for (i = 0; i < 2; i++)
		cr_assert_eq(store_add_message(f->st, &m[i], err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_commit(f->st, err, sizeof(err)), 0, "%s", err);
	queue_as("Q00001", identity);
	cr_assert_eq(sg_queue_msg(dir, "Q00009", "somebody@else.example", "s@else.example",
	    "198.51.100.1"), 0);
}

/* state - the stored block state of identity, "-" when none is recorded */
static const char *
state(struct fx *f, const char *identity, char *buf, size_t len)
{
	struct store_block b;
	char sbuf[2048], err[256];

	if (store_get_block(f->st, identity, &b, sbuf, sizeof(sbuf), err, sizeof(err)) != 1)
		return ("-");
	snprintf(buf, len, "%s", b.state);
	return (buf);
}

/* job_cb - "action:status" of each action_log row, in order */
static int
job_cb(void *ctx, const struct store_job *j)
{
	struct buf *b = ctx;

	buf_addf(b, "%s%s:%s", b->len ? " " : "", j->action, j->status);
	return (0);
}

/* joblog - the action log (caller frees) */
static char *
joblog(struct fx *f)
{
	struct buf b;
	char err[256], *s;

	buf_init(&b, 1 << 16);
	store_each_job(f->st, NULL, NULL, job_cb, &b, err, sizeof(err));
	s = strdup(buf_str(&b));
	buf_free(&b);
	return (s);
}

/* map_has - the map at path lists key (NULL: the map has no entry at all) */
static int
map_has(const char *path, const char *key)
{
	char *m = sg_map_entries(path, NULL), want[400];
	int ok;

	snprintf(want, sizeof(want), "%s %s\n", key ? key : "", REPLY);
	ok = key == NULL ? (m == NULL || m[0] == '\0') : (m != NULL && strstr(m, want) != NULL);
	free(m);
	return (ok);
}

/* ---------------------------------------------------------------------- */
/* verdicts */

struct vrow {
	const char *actions;		/* the rule's actions, in its order */
	const char *identity;		/* its kind decides the map, its value whether it is a key */
	int	monitor;
	const char *state;		/* the block recorded; "-": none */
	const char *log;		/* the action log, action:status in order */
	const char *ran;		/* the programs run, in order */
	const char *map;		/* the map that lists it: "sasl", "sender", NULL none */
};

#define ALL	"hold, block, notify, exec"
#define MAPPED	"postmap:ok postmap:ok reload:ok"

static const struct vrow vrows[] = {
	/* every action, each kind of identity */
	{ ALL, "sasl:alice@example.com", 0, "blocked", "hold:ok map:ok notify:ok exec:ok " MAPPED,
	  "postsuper postmap postmap postfix sendmail exec", "sasl" },
	{ ALL, "sender:bob@example.com", 0, "blocked", "hold:ok map:ok notify:ok exec:ok " MAPPED,
	  "postsuper postmap postmap postfix sendmail exec", "sender" },
	{ ALL, "sender_domain:shop.example", 0, "blocked",
	  "hold:ok map:ok notify:ok exec:ok " MAPPED,
	  "postsuper postmap postmap postfix sendmail exec", "sender" },
	{ ALL, "sasl:evil ok", 0, "holding", "hold:ok notify:ok exec:ok",
	  "postsuper sendmail exec", NULL },
	{ ALL, "sasl_domain:example.org", 0, "holding", "hold:ok notify:ok exec:ok",
	  "postsuper sendmail exec", NULL },
	{ ALL, "uid:1000", 0, "holding", "hold:ok notify:ok exec:ok", "postsuper sendmail exec",
	  NULL },
	{ ALL, "ip:192.0.2.10", 0, "holding", "hold:ok notify:ok exec:ok",
	  "postsuper sendmail exec", NULL },
	/* fewer actions, other orders */
	{ "hold, block", "sasl:alice@example.com", 0, "blocked", "hold:ok map:ok " MAPPED,
	  "postsuper postmap postmap postfix", "sasl" },
	{ "block, hold", "sasl:alice@example.com", 0, "blocked", "map:ok hold:ok " MAPPED,
	  "postmap postmap postfix postsuper", "sasl" },
	{ "block, notify", "sasl:alice@example.com", 0, "mapped", "map:ok notify:ok " MAPPED,
	  "postmap postmap postfix sendmail", "sasl" },
	{ "block", "sender:bob@example.com", 0, "mapped", "map:ok " MAPPED,
	  "postmap postmap postfix", "sender" },
	{ "block", "uid:1000", 0, "noted", "", "", NULL },
	{ "block, exec", "sasl:evil ok", 0, "noted", "exec:ok", "exec", NULL },
	{ "hold", "sasl:alice@example.com", 0, "holding", "hold:ok", "postsuper", NULL },
	{ "exec, hold", "ip:192.0.2.10", 0, "holding", "exec:ok hold:ok", "exec postsuper", NULL },
	{ "notify, exec", "sasl:alice@example.com", 0, "noted", "notify:ok exec:ok",
	  "sendmail exec", NULL },
	/* monitor: every decision made and logged, nothing run, no block recorded */
	{ ALL, "sasl:alice@example.com", 1, "-", "hold:monitor notify:monitor exec:monitor", "",
	  NULL },
	{ ALL, "sasl:evil ok", 1, "-", "hold:monitor notify:monitor exec:monitor", "", NULL },
	{ ALL, "uid:1000", 1, "-", "hold:monitor notify:monitor exec:monitor", "", NULL },
	{ "block", "sender:bob@example.com", 1, "-", "", "", NULL },
	{ "hold, block", "sender_domain:shop.example", 1, "-", "hold:monitor", "", NULL },
};

/*
 * kind_by - the rule's "by" for an identity ("sasl:..." -> "sasl").  The
 * configuration refuses block with by = uid, ip or sasl_domain, so such a
 * verdict cannot come from a rule of that kind; those rows use a sasl
 * rule, to show what act decides for an identity no map can hold.
 */
static const char *
kind_by(const char *identity, const char *actions, char *buf, size_t len)
{
	snprintf(buf, len, "%.*s", (int)(strchr(identity, ':') - identity), identity);
	if (strstr(actions, "block") != NULL && (strcmp(buf, "uid") == 0 ||
	    strcmp(buf, "ip") == 0 || strcmp(buf, "sasl_domain") == 0))
		snprintf(buf, len, "sasl");
	return (buf);
}

/* cross - identity crosses the rule's 3/1h at t, by Q00001: its verdict, in a batch, then kicked */
static void
cross(struct fx *f, const char *identity, int64_t t)
{
	struct limits_verdict v;
	char err[512];

	memset(&v, 0, sizeof(v));
	v.identity = identity;
	v.rule = &f->conf->rules[0];
	v.win = &f->conf->rules[0].win[0];
	v.count = 4;
	v.time_us = t;
	v.queue_id = "Q00001";
	v.blocks = 1;
	v.block_until_us = t + 3600 * 1000000LL;
	cr_assert_eq(store_begin(f->st, err, sizeof(err)), 0, "%s", err);
	act_verdict(f->act, &v);
	cr_assert_eq(store_commit(f->st, err, sizeof(err)), 0, "%s", err);
	act_kick(f->act);
}

Test(act, verdict_table)
{
	size_t i;

	for (i = 0; i < NROWS(vrows); i++) {
		const struct vrow *r = &vrows[i];
		struct fx f;
		char by[32], sb[32], *log, *ran;
		const char *map = r->map == NULL ? NULL : strcmp(r->map, "sasl") == 0 ? saslmap :
		    sendermap, *key = strchr(r->identity, ':') + 1;
		int64_t t = (int64_t)time(NULL) * 1000000;

		fresh();
		fx_open(&f, load_conf(kind_by(r->identity, r->actions, by, sizeof(by)), r->actions,
		    r->monitor));
		seed(&f, r->identity, t - 60 * 1000000LL);
		cross(&f, r->identity, t);
		cr_expect_str_eq(state(&f, r->identity, sb, sizeof(sb)), r->state,
		    "row %zu (%s, %s, %s): state %s", i, r->actions, r->identity,
		    r->monitor ? "monitor" : "enforce", sb);
		log = joblog(&f);
		cr_expect_str_eq(log, r->log, "row %zu (%s, %s): action log \"%s\"", i, r->actions,
		    r->identity, log);
		ran = sg_call_order(callsp, 0);
		cr_expect_str_eq(ran, r->ran, "row %zu (%s, %s): ran \"%s\"", i, r->actions,
		    r->identity, ran);
		cr_expect_eq(act_running(f.act), 0, "row %zu: runs left", i);
		if (map != NULL)
			cr_expect(map_has(map, key), "row %zu: %s lists %s", i, map, key);
		cr_expect(map_has(saslmap, NULL) || (map == saslmap), "row %zu: sasl map", i);
		cr_expect(map_has(sendermap, NULL) || (map == sendermap), "row %zu: sender map", i);
		if (strstr(r->ran, "postsuper") != NULL) {
			char *u = sg_stdin_union(callsp, "postsuper", "-h", 0);

			cr_expect_str_eq(u, "Q00001\n", "row %zu: held exactly its queued mail", i);
			free(u);
		}
		if (r->monitor)
			cr_expect(strstr(buf_str(&f.said), "monitor: ") != NULL,
			    "row %zu: monitor mode says what it would do:\n%s", i, buf_str(&f.said));
		free(log);
		free(ran);
		fx_close(&f);
	}
}

/* ---------------------------------------------------------------------- */
/* by hand */

struct hrow {
	const char *identity;
	int	monitor;
	const char *state;
	const char *log;
	const char *ran;
	const char *report;		/* a line of what it reports */
};

static const struct hrow hrows[] = {
	{ "sasl:alice@example.com", 0, "blocked", "hold:ok map:ok " MAPPED,
	  "postsuper postmap postmap postfix",
	  "sasl:alice@example.com: hold: 1 queued message sent to postsuper -h, each once the queue confirms it; block: added to "
	  "the access map; until unblocked\n  hold: ok: exit 0; queue: 1 confirmed, 0 unconfirmed, "
	  "0 gone\n  map: ok: in force" },
	{ "sender:bob@example.com", 0, "blocked", "hold:ok map:ok " MAPPED,
	  "postsuper postmap postmap postfix", "  map: ok: in force" },
	{ "sasl:evil ok", 0, "holding", "hold:ok", "postsuper",
	  "sasl:evil ok: hold: 1 queued message sent to postsuper -h, each once the queue confirms it; block: contains whitespace; "
	  "until unblocked\n  hold: ok: exit 0; queue: 1 confirmed, 0 unconfirmed, 0 gone\n" },
	{ "uid:1000", 0, "holding", "hold:ok", "postsuper",
	  "uid:1000: hold: 1 queued message sent to postsuper -h, each once the queue confirms it; until unblocked\n" },
	{ "sasl:alice@example.com", 1, "-", "hold:monitor", "",
	  "sasl:alice@example.com: hold: 1 queued message sent to postsuper -h, each once the queue confirms it; block: added" },
};

Test(act, block_by_hand_table)
{
	size_t i;

	for (i = 0; i < NROWS(hrows); i++) {
		const struct hrow *r = &hrows[i];
		struct fx f;
		char by[32], sb[32], err[512], *log, *ran;

		fresh();
		fx_open(&f, load_conf(kind_by(r->identity, "hold, block", by, sizeof(by)), "hold, block",
		    r->monitor));
		seed(&f, r->identity, (int64_t)time(NULL) * 1000000 - 60 * 1000000LL);
		cr_assert_eq(act_block(f.act, r->identity, 0, fx_report, &f, err, sizeof(err)), 0,
		    "row %zu: %s", i, err);
		cr_expect_str_eq(state(&f, r->identity, sb, sizeof(sb)), r->state, "row %zu: state", i);
		log = joblog(&f);
		cr_expect_str_eq(log, r->log, "row %zu: action log \"%s\"", i, log);
		ran = sg_call_order(callsp, 0);
		cr_expect_str_eq(ran, r->ran, "row %zu: ran \"%s\"", i, ran);
		cr_expect(strstr(buf_str(&f.report), r->report) != NULL,
		    "row %zu: the report, when act_block returns, has \"%s\":\n%s", i, r->report,
		    buf_str(&f.report));
		free(log);
		free(ran);
		fx_close(&f);
	}
}

struct urow {
	enum act_unblock_mode mode;
	const char *log;		/* the action log after the block's */
	const char *ran;		/* the programs after the block's */
	const char *report;
};

static const struct urow urows[] = {
	{ ACT_UNBLOCK_KEEP, MAPPED, "postmap postmap postfix",
	  "sasl:alice@example.com: unblocked; removed from the access map; its limits count "
	  "afresh from now\n  map: in force (postmap and postfix reload ran)\n" },
	{ ACT_UNBLOCK_RELEASE, "release:ok " MAPPED, "postsuper postmap postmap postfix",
	  "sasl:alice@example.com: 1 held message sent to postsuper -H (release)\n"
	  "  release: ok: exit 0: postsuper: Released from hold: 1 message; queue: 1 confirmed, 0 "
	  "unconfirmed, 0 gone\n" },
	{ ACT_UNBLOCK_DELETE, "delete:ok " MAPPED, "postsuper postmap postmap postfix",
	  "sasl:alice@example.com: 1 held message sent to postsuper -d (delete)\n" },
};

Test(act, unblock_by_hand_table)
{
	const char *id = "sasl:alice@example.com";
	size_t i;

	for (i = 0; i < NROWS(urows); i++) {
		const struct urow *r = &urows[i];
		struct fx f;
		char sb[32], err[512], *log, *ran, want[200];
		long off;

		fresh();
		fx_open(&f, load_conf("sasl", "hold, block", 0));
		seed(&f, id, (int64_t)time(NULL) * 1000000 - 60 * 1000000LL);
		cr_assert_eq(act_block(f.act, id, 0, fx_report, &f, err, sizeof(err)), 0, "%s", err);
		cr_assert(map_has(saslmap, "alice@example.com"));
		{
			char *all = sg_slurp_path(callsp);

			off = all ? (long)strlen(all) : 0;
			free(all);
		}
		buf_reset(&f.report);
		flag("say-postsuper", "postsuper: Released from hold: 1 message\n");
		cr_assert_eq(act_unblock(f.act, id, r->mode, fx_report, &f, err, sizeof(err)), 0,
		    "row %zu: %s", i, err);
		cr_expect_str_eq(state(&f, id, sb, sizeof(sb)), "unblocked", "row %zu: state", i);
		log = joblog(&f);
		snprintf(want, sizeof(want), "hold:ok map:ok " MAPPED " %s", r->log);
		cr_expect_str_eq(log, want, "row %zu: action log \"%s\"", i, log);
		ran = sg_call_order(callsp, off);
		cr_expect_str_eq(ran, r->ran, "row %zu: ran \"%s\"", i, ran);
		cr_expect(strstr(buf_str(&f.report), r->report) != NULL, "row %zu: report has \"%s\":\n%s",
		    i, r->report, buf_str(&f.report));
		cr_expect(map_has(saslmap, NULL), "row %zu: alice left the map", i);
		if (r->mode != ACT_UNBLOCK_KEEP) {
			char *u = sg_stdin_union(callsp, "postsuper", r->mode == ACT_UNBLOCK_RELEASE ?
			    "-H" : "-d", off);

			cr_expect_str_eq(u, "Q00001\n", "row %zu: exactly the held mail", i);
			free(u);
		}
		free(log);
		free(ran);
		fx_close(&f);
	}
}

/*
 * A failing postfix reload is run once: the rewrite is tried again later
 * (by the daemon, a minute on), not at once and again and again; the one
 * who blocked hears the map is not in force yet.
 */
Test(act, failing_reload_is_not_run_again_at_once)
{
	struct fx f;
	char err[512];

	fresh();
	flag("fail-postfix", "");
	fx_open(&f, load_conf("sasl", "hold, block", 0));
	cr_assert_eq(act_block(f.act, "sasl:alice@example.com", 0, fx_report, &f, err, sizeof(err)),
	    0, "%s", err);
	cr_expect_eq(sg_ncalls(callsp, "postfix", "reload", 0), 1, "reload ran once");
	cr_expect_eq(sg_ncalls(callsp, "postmap", NULL, 0), 2, "each map once");
	cr_expect(strstr(buf_str(&f.report), "  map: failed: not in force yet") != NULL, "%s",
	    buf_str(&f.report));
	cr_expect(strstr(buf_str(&f.said), "reload for -: ") != NULL &&
	    strstr(buf_str(&f.said), "giving up") != NULL, "the log says reload failed:\n%s",
	    buf_str(&f.said));
	fx_close(&f);
}

/* ---------------------------------------------------------------------- */
/* log lines through the pipeline into act, as `sendguard run` wires them */

struct pfx {
	struct fx f;
	struct pipeline pl;
	struct pf_clock clk;
};

static void
p_verdict(void *ctx, const struct limits_verdict *v)
{
	act_verdict(((struct pfx *)ctx)->f.act, v);
}

static void
p_message(void *ctx, const struct track_msg *m)
{
	act_message(((struct pfx *)ctx)->f.act, m);
}

static void
p_open(struct pfx *p, struct conf *c)
{
	char err[512];

	fx_open(&p->f, c);
	cr_assert_eq(pipeline_init(&p->pl, c, p->f.st, NULL, err, sizeof(err)), 0, "%s", err);
	p->pl.external_txn = 1;
	p->pl.on_verdict = p_verdict;
	p->pl.on_message = p_message;
	p->pl.ctx = p;
	pf_clock_init(&p->clk, 0, time(NULL), &zone_local);
}

static void
p_close(struct pfx *p)
{
	pipeline_free(&p->pl);
	fx_close(&p->f);
}

/* p_feed - text's lines as one batch: read, the held-back messages released, committed, kicked */
static void
p_feed(struct pfx *p, const char *text)
{
	const char *s, *nl;
	char err[512];

	cr_assert_eq(store_begin(p->f.st, err, sizeof(err)), 0, "%s", err);
	for (s = text; (nl = strchr(s, '\n')) != NULL; s = nl + 1)
		pipeline_line(&p->pl, &p->clk, s, (size_t)(nl - s));
	track_flush(p->pl.track, INT64_MAX);
	cr_assert(!p->pl.failed, "%s", p->pl.err);
	cr_assert_eq(store_commit(p->f.st, err, sizeof(err)), 0, "%s", err);
	act_kick(p->f.act);
}

/* p_status - status --json as the daemon would answer (caller frees) */
static char *
p_status(struct pfx *p)
{
	struct status_info si;
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);

	memset(&si, 0, sizeof(si));
	si.running = 1;
	si.last_us = p->pl.last_us;
	si.mode = "enforce";
	cr_assert_not_null(fp);
	status_print(fp, p->pl.limits, p->f.st, status_now(p->pl.last_us), &si, 1);
	fclose(fp);
	return (out);
}

/* The log text of a story, written with the helpers of tests/runcmd.h. */
struct text {
	char   *s;
	size_t	len;
	FILE   *fp;
};

static void
text_open(struct text *t)
{
	t->s = NULL;
	cr_assert_not_null(t->fp = open_memstream(&t->s, &t->len));
}

static char *
text_close(struct text *t)
{
	fclose(t->fp);
	return (t->s);
}

/* qmsg - sg_log_msg, and that message in the stand-in queue: the log and the queue agree */
static void
qmsg(FILE *fp, time_t t, const char *qid, const char *login, const char *from)
{
	cr_assert_eq(sg_queue_msg(dir, qid, login, from, "192.0.2.10"), 0);
	sg_log_msg(fp, t, qid, login, from);
}

/* qremoved - a true "removed": the log says so and the queue no longer has it */
static void
qremoved(FILE *fp, time_t t, const char *qid)
{
	sg_log_line(fp, t, "qmgr[50]", qid, "removed");
	sg_queue_rm(dir, qid);
}

/* alice_scenario - alice crosses 3/1h with A00004, bob stays under; A1 and A2 are gone */
static char *
alice_scenario(time_t base)
{
	struct text t;

	text_open(&t);
	qmsg(t.fp, base, "A00001", "alice@example.com", "a@example.com");
	qmsg(t.fp, base + 1, "A00002", "alice@example.com", "a@example.com");
	qremoved(t.fp, base + 2, "A00001");
	qremoved(t.fp, base + 3, "A00002");
	qmsg(t.fp, base + 4, "B00001", "bob@example.com", "a@example.com");
	qmsg(t.fp, base + 5, "A00003", "alice@example.com", "a@example.com");
	qmsg(t.fp, base + 6, "B00002", "bob@example.com", "a@example.com");
	qmsg(t.fp, base + 7, "A00004", "alice@example.com", "a@example.com");
	return (text_close(&t));
}

/* one message more of login */
static char *
one_more(time_t t0, const char *qid, const char *login)
{
	struct text t;

	text_open(&t);
	qmsg(t.fp, t0, qid, login, "a@example.com");
	return (text_close(&t));
}

/* monitor mode decides everything and runs nothing (was test_enforce 6) */
Test(act, monitor_mode_runs_nothing)
{
	struct pfx p;
	time_t base = time(NULL) - 1800;
	char *text, *js, *l, *save = NULL, *said;
	int saysmap = 0;

	fresh();
	p_open(&p, load_conf("sasl", ALL, 1));
	p_feed(&p, text = alice_scenario(base));
	free(text);
	p_feed(&p, text = one_more(base + 8, "A00005", "alice@example.com"));
	free(text);
	said = strdup(buf_str(&p.f.said));
	cr_expect_not_null(strstr(said, "would run"), "the log says what would run:\n%s", said);
	cr_expect_not_null(strstr(said, "monitor:"), "%s", said);
	for (l = strtok_r(said, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (strstr(l, "monitor:") && strstr(l, "would") && strstr(l, saslmap) &&
		    strstr(l, "postmap"))
			saysmap = 1;
	cr_expect(saysmap, "monitor mode says it would write the access map and run postmap:\n%s",
	    buf_str(&p.f.said));
	free(said);
	cr_expect_null(sg_slurp_path(callsp), "no program ran");
	cr_expect(access(saslmap, F_OK) != 0, "no map was written");
	js = p_status(&p);
	cr_expect_null(sg_blocked_entry(js, "sasl:alice@example.com"), "no block recorded: %s", js);
	cr_expect_not_null(strstr(js, "\"identity\": \"sasl:alice@example.com\", \"rule\": \"s\", "
	    "\"limit\": \"messages\", \"window\": \"1h\", \"count\": 5"), "same counts: %s", js);
	free(js);
	p_close(&p);
}

/* A rule without the hold action blocks (and maps) but holds nothing (was test_enforce). */
Test(act, no_hold_action_holds_nothing)
{
	struct pfx p;
	time_t base = time(NULL) - 1800;
	char *text, *js, *e;

	fresh();
	p_open(&p, load_conf("sasl", "block, notify", 0));
	p_feed(&p, text = alice_scenario(base));
	free(text);
	cr_expect(map_has(saslmap, "alice@example.com"), "alice is in the map: %s",
	    sg_map_entries(saslmap, NULL));
	p_feed(&p, text = one_more(base + 8, "A00005", "alice@example.com"));	/* new mail while blocked */
	free(text);
	cr_expect_eq(sg_ncalls(callsp, "postsuper", NULL, 0), 0, "no postsuper run without the hold action");
	js = p_status(&p);
	e = sg_blocked_entry(js, "sasl:alice@example.com");
	cr_assert_not_null(e, "alice is blocked: %s", js);
	cr_expect_not_null(strstr(e, "\"in_map\": true, \"holds_new\": false"), "%s", e);
	free(e);
	free(js);
	p_close(&p);
}

/*
 * Domain totals: a tenant's senders add up; sender_domain is blocked
 * through the sender map as a bare domain, and its mail is held (was
 * test_enforce 18)
 */
Test(act, sender_domain_total)
{
	struct pfx p;
	struct text t;
	time_t base = time(NULL) - 1800;
	char *u;

	fresh();
	p_open(&p, load_conf("sender_domain", "hold, block", 0));
	text_open(&t);
	qmsg(t.fp, base, "F00001", "u1@shop.example", "a@shop.example");
	qmsg(t.fp, base + 1, "F00002", "u2@shop.example", "b@Shop.Example");
	qmsg(t.fp, base + 2, "F00003", "u3@shop.example", "c@shop.example");
	qmsg(t.fp, base + 3, "F00004", "u4@other.example", "d@other.example");
	qmsg(t.fp, base + 4, "F00005", "u1@shop.example", "e@shop.example");
	p_feed(&p, text_close(&t));
	free(t.s);
	cr_expect_not_null(strstr(buf_str(&p.f.said), "crossed by F00005"),
	    "the fourth message of the domain crosses:\n%s", buf_str(&p.f.said));
	{
		char *m = sg_map_entries(sendermap, NULL), want[300];

		snprintf(want, sizeof(want), "shop.example %s\n", REPLY);
		cr_expect(m != NULL && strcmp(m, want) == 0, "the sender map has the bare domain: %s",
		    m ? m : "(none)");
		free(m);
	}
	u = sg_stdin_union(callsp, "postsuper", "-h", 0);
	cr_expect_str_eq(u, "F00001\nF00002\nF00003\nF00005\n", "the domain's queued mail is held");
	free(u);
	p_close(&p);
}

/*
 * Hostile logins reach no shell and no map, are held, and exec gets each
 * as one element (was test_enforce 3)
 */
Test(act, hostile_logins)
{
	char logins[9][1100], qid[16], want[2000], *m, *u, p[200];
	const char *mappable[3], *said;
	char unsafe_short[4][200];
	struct sg_calls cs;
	struct pfx px;
	struct text t;
	time_t base = time(NULL) - 1800;
	int i, k, j, nl = 0, found, nnot = 0;

	snprintf(logins[nl++], sizeof(logins[0]), "evil OK");
	snprintf(logins[nl++], sizeof(logins[0]), "x@y.example 550");
	snprintf(logins[nl++], sizeof(logins[0]), "$(touch %s/p1)@h", dir);
	snprintf(logins[nl++], sizeof(logins[0]), "`>%s/p2`@h", dir);
	snprintf(logins[nl++], sizeof(logins[0]), "a;touch %s/p3", dir);
	snprintf(logins[nl++], sizeof(logins[0]), "b;>%s/p4", dir);
	memset(logins[nl], 'l', 990);
	snprintf(logins[nl++] + 990, 100, "@long.example");
	snprintf(logins[nl++], sizeof(logins[0]), "#hash@h");
	snprintf(logins[nl++], sizeof(logins[0]), "plain@example.com");
	snprintf(unsafe_short[0], sizeof(unsafe_short[0]), "evil ok");
	snprintf(unsafe_short[1], sizeof(unsafe_short[1]), "x@y.example 550");
	snprintf(unsafe_short[2], sizeof(unsafe_short[2]), "a;touch %s/p3", dir);
	snprintf(unsafe_short[3], sizeof(unsafe_short[3]), "#hash@h");
	mappable[0] = logins[3];	/* no whitespace: a valid key as itself */
	mappable[1] = logins[5];
	mappable[2] = logins[8];

	fresh();
	p_open(&px, load_conf("sasl", "hold, block, exec", 0));
	text_open(&t);
	for (i = 0; i < nl; i++)
		for (k = 0; k < 4; k++) {
			snprintf(qid, sizeof(qid), "D%02X%03X", i, k + 1);
			qmsg(t.fp, base + 10 * i + k, qid, logins[i], "a@example.com");
		}
	p_feed(&px, text_close(&t));
	free(t.s);
	cr_expect_eq(sg_ncalls(callsp, "exec", NULL, 0), nl, "exec ran for every login");

	/* the map: exactly the mappable logins, as themselves, sorted */
	{
		const char *s[3] = { mappable[0], mappable[1], mappable[2] };
		size_t o = 0;

		qsort(s, 3, sizeof(s[0]), sg_cmp_str);
		for (i = 0; i < 3; i++)
			o += (size_t)snprintf(want + o, sizeof(want) - o, "%s %s\n", s[i], REPLY);
	}
	m = sg_map_entries(saslmap, NULL);
	cr_expect(m != NULL && strcmp(m, want) == 0,
	    "map keys are exactly the safe logins:\nwant:\n%s\ngot:\n%s", want, m ? m : "(none)");
	free(m);

	/* every login's mail was held */
	u = sg_stdin_union(callsp, "postsuper", "-h", 0);
	for (i = 0; i < nl; i++)
		for (k = 0; k < 4; k++) {
			char q[20];

			snprintf(qid, sizeof(qid), "D%02X%03X", i, k + 1);
			snprintf(q, sizeof(q), "%s\n", qid);
			cr_expect_not_null(strstr(u, q), "%s of login %d (%.40s) was held", qid, i, logins[i]);
		}
	free(u);

	/* exec got each identity as one argv element, byte for byte (logins are folded) */
	sg_calls_load(&cs, callsp, 0);
	for (i = 0; i < nl; i++) {
		char id[1200];

		snprintf(id, sizeof(id), "sasl:%s", logins[i]);
		for (j = 0; id[j]; j++)
			id[j] = (char)tolower((unsigned char)id[j]);
		for (found = 0, j = 0; j < cs.n; j++)
			if (strcmp(cs.c[j].name, "exec") == 0 && cs.c[j].narg == 4 &&
			    strcmp(cs.c[j].arg[0], id) == 0 && strcmp(cs.c[j].arg[1], "s") == 0 &&
			    strcmp(cs.c[j].arg[2], "4") == 0 && strcmp(cs.c[j].arg[3], "1h") == 0)
				found = 1;
		cr_expect(found, "exec argv is [%.60s, s, 4, 1h] with the identity as one element", id);
	}
	sg_calls_free(&cs);

	/* nothing was run through a shell */
	for (i = 1; i <= 4; i++) {
		snprintf(p, sizeof(p), "%s/p%d", dir, i);
		cr_expect(access(p, F_OK) != 0, "%s was created: a login reached a shell", p);
	}

	/* the log says why the unsafe ones are not in the map */
	said = buf_str(&px.f.said);
	for (m = strstr(said, "is not written to the access map"); m != NULL;
	    m = strstr(m + 1, "is not written to the access map"))
		nnot++;
	cr_expect_geq(nnot, 6, "six unsafe logins, %d said so:\n%s", nnot, said);
	for (i = 0; i < 4; i++) {
		char line[300];

		snprintf(line, sizeof(line), "sasl:%s is not written to the access map", unsafe_short[i]);
		cr_expect_not_null(strstr(said, line), "the log says: %s", line);
	}
	{
		char *js = p_status(&px), *e;

		e = sg_blocked_entry(js, "sasl:evil ok");
		cr_expect(e != NULL && strstr(e, "\"in_map\": false"), "evil ok blocked, not in map: %s", js);
		free(e);
		free(js);
	}
	p_close(&px);
}

/*
 * An identity with more queued mail than one argument can list: exec's
 * %q is cut after its last whole queue ID and ends in ",...", and the
 * hook runs (it used to be skipped without a word).  exec_job() gets the
 * decision's list of queue IDs as decide() hands it over.
 */
Test(act, exec_long_queue_list_cut_and_run)
{
	struct hold_list ql = { NULL, 0, 0 };
	struct sg_calls cs;
	struct fx f;
	char qid[16], *log;
	const char *arg = NULL;
	int i, n = 7000, execs = 0;
	size_t len;

	fresh();
	fx_open(&f, load_conf_exec("sasl", "hold, exec", 0, "--ids=%q %i"));
	for (i = 0; i < n; i++) {
		snprintf(qid, sizeof(qid), "Q%09d", i);
		cr_assert_eq(hold_list_push(&ql, qid), 0);
	}
	{
		struct notify_info what = { .identity = "sasl:alice@example.com", .rule = "s",
			.window = "1h", .count = n };

		exec_job(f.act, &what, &ql);
	}
	hold_list_clear(&ql);
	act_kick(f.act);
	log = joblog(&f);
	cr_expect_str_eq(log, "exec:ok", "the hook ran: %s\n%s", log, buf_str(&f.said));
	free(log);
	sg_calls_load(&cs, callsp, 0);
	for (i = 0; i < cs.n; i++)
		if (strcmp(cs.c[i].name, "exec") == 0 && cs.c[i].narg == 2) {
			execs++;
			arg = cs.c[i].arg[0];
			cr_expect_str_eq(cs.c[i].arg[1], "sasl:alice@example.com");
		}
	cr_expect_eq(execs, 1, "exec ran once with two arguments");
	if (arg != NULL && (len = strlen(arg)) > 40) {
		cr_expect_leq(len, 64 * 1024, "%%q fits one argument: %zu bytes", len);
		cr_expect_eq(strncmp(arg, "--ids=Q000000000,Q000000001,", 28), 0, "%.40s", arg);
		cr_expect_str_eq(arg + len - 4, ",...", "the cut is marked: ...%s", arg + len - 20);
		cr_expect_eq((len - 6 - 3) % 11, 0, "whole queue IDs only (%zu bytes)", len);
	} else
		cr_expect_fail("exec's first argument: %s", arg ? arg : "(none)");
	sg_calls_free(&cs);
	cr_expect_not_null(strstr(buf_str(&f.said), "cut after its last whole entry"),
	    "the log says the list was cut:\n%.2000s", buf_str(&f.said));
	fx_close(&f);
}

/* ---------------------------------------------------------------------- */
/* the queue confirms before anything is held (issue 11) */

/* A message as the log gave it, and what the queue holds under its ID. */
struct qrow {
	const char *qid, *host, *instance;
	int removed;		/* the log says it was removed */
	const char *queue;	/* the queue's login for it; NULL: not in the queue */
};

/* put - the rows into the store (all alice's, as the log says) and into the stand-in queue */
static void
put(struct fx *f, const struct qrow *rows, size_t n, int64_t t)
{
	struct store_msg m;
	char err[512];
	size_t i;

	cr_assert_eq(store_begin(f->st, err, sizeof(err)), 0, "%s", err);
	for (i = 0; i < n; i++) {
		memset(&m, 0, sizeof(m));
		m.time_us = t + (int64_t)i;
		m.host = rows[i].host;
		m.instance = rows[i].instance;
		m.queue_id = rows[i].qid;
		m.sasl = "alice@example.com";
		m.client_ip = "192.0.2.10";
		m.uid = -1;
		m.nrcpt = 1;
		cr_assert_eq(store_add_message(f->st, &m, err, sizeof(err)), 0, "%s", err);
		if (rows[i].removed)
			cr_assert_eq(store_mark_removed(f->st, rows[i].host, rows[i].instance,
			    rows[i].qid, t + 100, err, sizeof(err)), 0, "%s", err);
		if (rows[i].queue != NULL)
			cr_assert_eq(sg_queue_msg(dir, rows[i].qid, rows[i].queue, "a@example.com",
			    "192.0.2.10"), 0);
	}
	cr_assert_eq(store_commit(f->st, err, sizeof(err)), 0, "%s", err);
}

/* hold_state_cb - "QID=state" of each hold, in order */
static int
hold_state_cb(void *ctx, const struct store_hold *h)
{
	buf_addf(ctx, "%s=%s ", h->queue_id, h->state);
	return (0);
}

/* held_states - the holds of identity, "QID=state ..." sorted by QID (caller frees) */
static char *
held_states(struct fx *f, const char *identity)
{
	struct buf b;
	char err[256], *s, *w[64], *save = NULL, *t;
	size_t n = 0, i, o = 0;

	buf_init(&b, 1 << 16);
	store_each_hold(f->st, identity, NULL, hold_state_cb, &b, err, sizeof(err));
	s = strdup(buf_str(&b));
	buf_free(&b);
	for (t = strtok_r(s, " ", &save); t != NULL && n < 64; t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	qsort(w, n, sizeof(w[0]), sg_cmp_str);
	t = calloc(1, 4096);
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(t + o, 4096 - o, "%s%s", i ? " " : "", w[i]);
	free(s);
	return (t);
}

/* explain_text - explain's output for identity (caller frees) */
static char *
explain_text(struct fx *f, const char *identity)
{
	char *out = NULL, err[256];
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);

	cr_assert_not_null(fp);
	cr_assert_eq(explain_print(f->st, identity, fp, err, sizeof(err)), 0, "%s", err);
	fclose(fp);
	return (out);
}

/*
 * The log gives alice seven queue IDs; the queue, asked about each,
 * confirms two: postsuper holds exactly those.  Q2 is bob's (a forged
 * line claimed it), Q3 is gone, Q4's "removed" was forged (it is still
 * queued, alice's), Q5 was really removed, Q6 and Q7 were logged by
 * another host and another instance (never asked, never held).
 */
Test(act, queue_confirms_what_is_held)
{
	static const struct qrow rows[] = {
		{ "Q00001", "mx", "postfix", 0, "alice@example.com" },
		{ "Q00002", "mx", "postfix", 0, "bob@example.com" },
		{ "Q00003", "mx", "postfix", 0, NULL },
		{ "Q00004", "mx", "postfix", 1, "alice@example.com" },
		{ "Q00005", "mx", "postfix", 1, NULL },
		{ "Q00006", "mx2", "postfix", 0, "alice@example.com" },
		{ "Q00007", "MX.example.com", "postfix-out", 0, "alice@example.com" },
		{ "Q00008", "MX.example.com", "postfix", 0, "alice@example.com" },
	};
	struct fx f;
	char *u, *hs, *js, *e, *ex;
	int64_t t = (int64_t)time(NULL) * 1000000;

	fresh();
	fx_open(&f, load_conf("sasl", "hold, block", 0));
	put(&f, rows, NROWS(rows), t - 600 * 1000000LL);
	cross(&f, "sasl:alice@example.com", t);
	u = sg_stdin_union(callsp, "postsuper", "-h", 0);
	cr_expect_str_eq(u, "Q00001\nQ00004\nQ00008\n",
	    "held: exactly the queue IDs the queue shows as alice's (the first label of the host counts)");
	free(u);
	cr_expect_eq(sg_postcat_asks(dir, "Q00006"), 0, "another host's queue ID is not asked about");
	cr_expect_eq(sg_postcat_asks(dir, "Q00007"), 0, "another instance's queue ID is not asked about");
	cr_expect_eq(sg_postcat_asks(dir, "Q00004"), 1, "a forged 'removed' does not spare Q4");
	hs = held_states(&f, "sasl:alice@example.com");
	cr_expect_str_eq(hs, "Q00001=requested Q00002=unconfirmed Q00003=removed Q00004=requested "
	    "Q00005=removed Q00006=unconfirmed Q00007=unconfirmed Q00008=requested", "holds: %s", hs);
	free(hs);
	cr_expect_not_null(strstr(buf_str(&f.said), "queue ID Q00002 not confirmed by the queue: the "
	    "queue file's sasl_username is another login"), "the log says why Q2 was left alone:\n%s",
	    buf_str(&f.said));
	cr_expect_not_null(strstr(buf_str(&f.said), "2 queue IDs logged by another host or Postfix "
	    "instance"), "the log counts the foreign ones:\n%s", buf_str(&f.said));
	{
		struct pfx p = { .f = f };

		p.pl.last_us = t;
		js = p_status(&p);
	}
	e = sg_blocked_entry(js, "sasl:alice@example.com");
	cr_expect(e != NULL && strstr(e, "\"held\": 3, \"unconfirmed\": 3,") != NULL,
	    "status counts the unconfirmed: %s", js);
	free(e);
	free(js);
	ex = explain_text(&f, "sasl:alice@example.com");
	cr_expect_not_null(strstr(ex, "unconfirmed: 3 "), "explain counts them: %s", ex);
	cr_expect_not_null(strstr(ex, "queue: 2 confirmed, 1 unconfirmed, 1 gone"),
	    "explain has what the queue said: %s", ex);
	free(ex);
	fx_close(&f);
}

/*
 * unblock --delete-held and --release-held ask the queue again: a held
 * queue ID that is now another's message (reused, or claimed by a
 * forged line) is neither deleted nor released
 */
Test(act, unblock_deletes_only_what_the_queue_confirms)
{
	static const struct qrow rows[] = {
		{ "Q00001", "mx", "postfix", 0, "alice@example.com" },
		{ "Q00002", "mx", "postfix", 0, "alice@example.com" },
		{ "Q00003", "mx", "postfix", 0, "alice@example.com" },
	};
	static const enum act_unblock_mode modes[] = { ACT_UNBLOCK_DELETE, ACT_UNBLOCK_RELEASE };
	static const char *const flags[] = { "-d", "-H" };
	size_t i;

	for (i = 0; i < NROWS(modes); i++) {
		struct fx f;
		char err[512], *u, *hs;

		fresh();
		fx_open(&f, load_conf("sasl", "hold, block", 0));
		put(&f, rows, NROWS(rows), (int64_t)time(NULL) * 1000000 - 600 * 1000000LL);
		cr_assert_eq(act_block(f.act, "sasl:alice@example.com", 0, fx_report, &f, err,
		    sizeof(err)), 0, "%s", err);
		u = sg_stdin_union(callsp, "postsuper", "-h", 0);
		cr_assert_str_eq(u, "Q00001\nQ00002\nQ00003\n", "all three held");
		free(u);
		cr_assert_eq(sg_queue_msg(dir, "Q00002", "bob@example.com", "b@example.com",
		    "192.0.2.20"), 0);		/* now bob's */
		sg_queue_rm(dir, "Q00003");	/* delivered meanwhile */
		cr_assert_eq(act_unblock(f.act, "sasl:alice@example.com", modes[i], fx_report, &f, err,
		    sizeof(err)), 0, "%s", err);
		u = sg_stdin_union(callsp, "postsuper", flags[i], 0);
		cr_expect_str_eq(u, "Q00001\n", "row %zu: postsuper %s got only Q1: %s", i, flags[i], u);
		free(u);
		hs = held_states(&f, "sasl:alice@example.com");
		cr_expect_str_eq(hs, i == 0 ? "Q00001=deleted Q00002=unconfirmed Q00003=removed" :
		    "Q00001=released Q00002=unconfirmed Q00003=removed", "row %zu: holds %s", i, hs);
		free(hs);
		fx_close(&f);
	}
}

/*
 * postcat that cannot answer holds nothing and fails the run, which is
 * tried again later (by the daemon's timer), with postcat's words kept
 */
Test(act, postcat_failing_holds_nothing_and_retries)
{
	static const struct qrow rows[] = { { "Q00001", "mx", "postfix", 0, "alice@example.com" } };
	struct fx f;
	char *log;

	fresh();
	flag("fail-postcat", "");
	fx_open(&f, load_conf("sasl", "hold", 0));
	put(&f, rows, 1, (int64_t)time(NULL) * 1000000 - 600 * 1000000LL);
	cross(&f, "sasl:alice@example.com", (int64_t)time(NULL) * 1000000);
	cr_expect_eq(sg_ncalls(callsp, "postsuper", NULL, 0), 0, "postsuper did not run");
	log = joblog(&f);
	cr_expect_str_eq(log, "hold:pending", "the hold waits for a retry: %s", log);
	free(log);
	cr_expect_not_null(strstr(buf_str(&f.said), "1 not answered (postcat: exit 1: postcat: "
	    "fatal: stand-in refuses)"), "the log says why:\n%s", buf_str(&f.said));
	fx_close(&f);
}

/*
 * Sender map keys are whole addresses: each identity is written to the
 * sender map or not, and the log says why not (the mail is still held)
 */
Test(act, sender_map_keys_table)
{
	static const struct {
		const char *by, *identity, *key, *why;
	} rows[] = {
		{ "sender", "sender:alice@example.com", "alice@example.com", NULL },
		{ "sender", "sender:example.com", NULL, "not a whole address (no @)" },
		{ "sender", "sender:@example.com", NULL, "no local part before the @" },
		{ "sender", "sender:alice@", NULL, "no domain after the @" },
		{ "sender", "sender:<>", NULL, "not a whole address (no @)" },
		{ "sender", "sender:alice@localhost", NULL, "the domain is not a dotted domain name" },
		{ "sender_domain", "sender_domain:shop.example", "shop.example", NULL },
		{ "sender_domain", "sender_domain:com", NULL, "not a dotted domain name" },
	};
	size_t i;

	for (i = 0; i < NROWS(rows); i++) {
		struct fx f;
		char line[300];

		fresh();
		fx_open(&f, load_conf(rows[i].by, "block, hold", 0));
		cross(&f, rows[i].identity, (int64_t)time(NULL) * 1000000);
		if (rows[i].key != NULL) {
			cr_expect(map_has(sendermap, rows[i].key), "row %zu: %s is a key", i,
			    rows[i].identity);
		} else {
			cr_expect(map_has(sendermap, NULL), "row %zu: %s is not written: %s", i,
			    rows[i].identity, sg_map_entries(sendermap, NULL));
			snprintf(line, sizeof(line), "%s is not written to the access map: %s",
			    rows[i].identity, rows[i].why);
			cr_expect_not_null(strstr(buf_str(&f.said), line), "row %zu: the log says \"%s\":\n%s",
			    i, line, buf_str(&f.said));
		}
		fx_close(&f);
	}
}
