/*
 * NAME
 *	test_future - log time is not trusted blindly
 * SUMMARY
 *	A line stamped far ahead of the clock (2099, or a BSD "Dec 31" or
 *	"Jan  1" arriving late by network syslog) must not switch enforcement
 *	off: it is counted at the time of the line before it, reported in
 *	future_lines, and moves no window, no tracker age and no year.  One
 *	table runs through the pipeline as the daemon does (live: the wall
 *	clock) and as audit does (replay: the log's recent lines); the same
 *	stories then run through the real binary, `sendguard audit` and
 *	`sendguard run` with `status --json`.  Every row's story: alice sends
 *	under `messages = 3/1h`; her fourth message in the hour must cross.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "count/pipeline.h"
#include "count/report.h"
#include "tests/runcmd.h"

#define T2099 (INT64_MIN + 1)  /* 2099-01-01T00:00:00Z */
#define TDEC31 (INT64_MIN + 2) /* Dec 31 23:59:59 of the base's year */
#define TJAN1 (INT64_MIN + 3)  /* Jan  1 00:00:01 of the year after the base's */
#define TMAY10 (INT64_MIN + 4) /* May 10 10:00:00 of the year after the base's */
#define TNOV10 (INT64_MIN + 5) /* Nov 10 10:00:00 of the base's year */
#define DAYS(n) ((int64_t)(n) * 86400)
#define REPLAY_BASE 1752141600 /* 2025-07-10T10:00:00Z: before any wall clock the test sees */

/* One line of a story: a client= line (C), a (queue active) line (Q), noise (N). */
struct step {
	char kind;
	int64_t t; /* seconds after the base, or T2099 / TDEC31 / TJAN1 */
	const char *qid;
};

struct frow {
	const char *name;
	time_t base;   /* the story's start; 0: REPLAY_BASE (replay) or 10 minutes ago (live) */
	int replay;    /* 1: as audit (a report); 0: as the daemon */
	int bsd;       /* BSD headers, else RFC 3339 */
	int64_t skew;  /* max_clock_skew, seconds */
	struct step steps[24];
	const char *want;    /* the queue IDs that crossed */
	uint64_t future;     /* future_lines */
	size_t records;      /* the tracker's records at the end */
};

/* M - a message of alice at t: its client= and (queue active) lines */
#define M(t, q) { 'C', (t), (q) }, { 'Q', (t), (q) }

static const struct frow rows[] = {
	{ "RFC 3339: a qmgr line stamped 2099 (replay)", 0, 1, 0, 300,
	    { M(0, "A00001"), M(10, "A00002"), { 'C', 15, "A00003" }, { 'Q', T2099, "A00003" },
		M(20, "A00004"), M(30, "A00005") },
	    "A00004", 1, 5 },
	{ "RFC 3339: a qmgr line stamped 2099 (live)", 0, 0, 0, 300,
	    { M(0, "A00001"), M(10, "A00002"), { 'C', 15, "A00003" }, { 'Q', T2099, "A00003" },
		M(20, "A00004"), M(30, "A00005") },
	    "A00004", 1, 5 },
	{ "BSD: a forged Dec 31 line in July (replay)", 0, 1, 1, 300,
	    { M(0, "A00001"), M(10, "A00002"), { 'C', 15, "A00003" }, { 'Q', TDEC31, "A00003" },
		M(20, "A00004"), M(30, "A00005") },
	    "A00004", 1, 5 },
	{ "BSD: a forged Jan 1 line in September (replay)", 1757498400, 1, 1, 300,
	    { M(0, "A00001"), M(10, "A00002"), { 'C', 15, "A00003" }, { 'Q', TJAN1, "A00003" },
		M(20, "A00004"), M(30, "A00005") },
	    "A00004", 1, 5 },
	{ "BSD: a line 60 days ahead (live)", 0, 0, 1, 300,
	    { M(0, "A00001"), M(10, "A00002"), { 'C', 15, "A00003" },
		{ 'Q', DAYS(60), "A00003" }, M(20, "A00004"), M(30, "A00005") },
	    "A00004", 1, 5 },
	{ "BSD: four forged lines in a row (replay)", 0, 1, 1, 300,
	    { M(0, "A00001"), M(10, "A00002"), { 'N', TDEC31, NULL }, { 'N', TDEC31, NULL },
		{ 'N', TDEC31, NULL }, { 'N', TDEC31, NULL }, M(20, "A00003"), M(30, "A00004"),
		M(40, "A00005"), M(50, "A00006"), M(60, "A00007") },
	    "A00004", 4, 7 },
	{ "BSD: two forged lines in December move no year (replay)", 1733824800, 1, 1, 300,
	    { M(0, "A00001"), M(10, "A00002"), { 'N', TMAY10, NULL }, { 'N', TNOV10, NULL },
		M(20, "A00003"), M(30, "A00004"), M(40, "A00005") },
	    "A00004", 1, 5 },
	{ "a real two-hour gap is not future-dated (replay)", 0, 1, 0, 300,
	    { M(0, "A00001"), M(10, "A00002"), M(20, "A00003"), M(7200, "A00004"),
		M(7210, "A00005"), M(7220, "A00006"), M(7230, "A00007") },
	    "A00007", 0, 7 },
	{ "a gap before the last line is not future-dated (replay)", 0, 1, 0, 300,
	    { M(0, "A00001"), M(10, "A00002"), M(20, "A00003"), M(7200, "A00004") }, "", 0, 4 },
	{ "a line less than the skew ahead is taken as it is (replay)", 0, 1, 0, 300,
	    { M(0, "A00001"), M(10, "A00002"), { 'C', 15, "A00003" }, { 'Q', 250, "A00003" },
		M(20, "A00004"), M(30, "A00005") },
	    "A00005", 0, 5 },
	{ "a future-dated first line is not counted (replay)", 0, 1, 0, 300,
	    { { 'N', T2099, NULL }, M(0, "A00001"), M(10, "A00002"), M(20, "A00003"),
		M(30, "A00004") },
	    "A00004", 1, 4 },
	{ "max_clock_skew = 0 trusts the log (replay)", 0, 1, 0, 0,
	    { M(0, "A00001"), M(10, "A00002"), { 'C', 15, "A00003" }, { 'Q', T2099, "A00003" },
		M(20, "A00004"), M(30, "A00005") },
	    "", 0, 1 },
};

/* stamp - the time of step s of a story based at base (epoch seconds) */
static time_t
stamp(const struct step *s, time_t base)
{
	struct tm tm;

	gmtime_r(&base, &tm);
	if (s->t == T2099)
		return ((time_t)4070908800LL);
	if (s->t == TDEC31 || s->t == TJAN1 || s->t == TMAY10 || s->t == TNOV10) {
		static const int when[4][5] = { /* years after the base's, month, day, h, m:s */
			{ 0, 11, 31, 23, 59 }, { 1, 0, 1, 0, 0 }, { 1, 4, 10, 10, 0 },
			{ 0, 10, 10, 10, 0 } };
		const int *w = when[s->t - TDEC31];

		tm.tm_year += w[0];
		tm.tm_mon = w[1];
		tm.tm_mday = w[2];
		tm.tm_hour = w[3];
		tm.tm_min = w[4];
		tm.tm_sec = s->t == TDEC31 ? 59 : s->t == TJAN1 ? 1 : 0;
		return (timegm(&tm));
	}
	return (base + (time_t)s->t);
}

/* line - step s as a log line into buf */
static void
line(const struct step *s, time_t base, int bsd, char *buf, size_t len)
{
	time_t t = stamp(s, base);
	struct tm tm;
	char tb[64];
	int n;

	gmtime_r(&t, &tm);
	strftime(tb, sizeof(tb), bsd ? "%b %e %H:%M:%S" : "%Y-%m-%dT%H:%M:%S.000000+00:00", &tm);
	if (s->kind == 'C')
		n = snprintf(buf, len,
		    "%s mx postfix/submission/smtpd[100]: %s: client=h.example.net[192.0.2.10], "
		    "sasl_method=PLAIN, sasl_username=alice@example.com",
		    tb, s->qid);
	else if (s->kind == 'Q')
		n = snprintf(buf, len,
		    "%s mx postfix/qmgr[50]: %s: from=<alice@example.com>, size=100, nrcpt=1 "
		    "(queue active)",
		    tb, s->qid);
	else
		n = snprintf(buf, len, "%s mx postfix/smtpd[60]: connect from h.example.net[192.0.2.10]",
		    tb);
	cr_assert(n > 0 && (size_t)n < len);
}

/* nsteps - the steps of row r */
static int
nsteps(const struct frow *r)
{
	int n = 0;

	while (n < 24 && r->steps[n].kind != 0)
		n++;
	return (n);
}

/* conf_3_per_hour - a sasl rule messages = 3/1h and the given skew */
static struct conf *
conf_3_per_hour(int64_t skew)
{
	struct conf *c = conf_default();
	struct conf_rule *r;

	cr_assert_not_null(c);
	c->rules = calloc(1, sizeof(*c->rules));
	c->nrules = 1;
	r = &c->rules[0];
	snprintf(r->name, sizeof(r->name), "submission");
	r->by = BY_SASL;
	r->win[0].limit = LIM_MESSAGES;
	r->win[0].threshold = 3;
	r->win[0].seconds = 3600;
	r->nwin = 1;
	r->block_time = 3600;
	r->block_time_factor = 1;
	c->max_clock_skew = skew;
	return (c);
}

struct crossed {
	char qids[256];
};

static void
on_verdict(void *ctx, const struct limits_verdict *v)
{
	struct crossed *x = ctx;
	size_t o = strlen(x->qids);

	snprintf(x->qids + o, sizeof(x->qids) - o, "%s%s", o ? " " : "", v->queue_id);
}

Test(future, pipeline_table)
{
	size_t i;
	int k;

	setenv("TZ", "UTC", 1);
	tzset();
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct frow *r = &rows[i];
		time_t base = r->base ? r->base : r->replay ? REPLAY_BASE : time(NULL) - 600;
		struct conf *c = conf_3_per_hour(r->skew);
		struct report *rep = r->replay ? report_new(c) : NULL;
		struct pipeline pl;
		struct pf_clock clk;
		struct crossed x = { "" };
		char err[256], buf[512];
		struct tm tm;

		gmtime_r(&base, &tm);
		cr_assert_eq(pipeline_init(&pl, c, NULL, rep, err, sizeof(err)), 0, "%s", err);
		pl.on_verdict = on_verdict;
		pl.ctx = &x;
		/* audit --year, or the daemon's clock: the year of now */
		pf_clock_init(&clk, r->replay ? tm.tm_year + 1900 : 0, time(NULL), &zone_local);
		for (k = 0; k < nsteps(r); k++) {
			line(&r->steps[k], base, r->bsd, buf, sizeof(buf));
			pipeline_line(&pl, &clk, buf, strlen(buf));
		}
		cr_assert_eq(pipeline_finish(&pl), 0, "%s", pl.err);
		cr_expect_str_eq(x.qids, r->want, "%s: crossed by [%s], want [%s]", r->name, x.qids,
		    r->want);
		cr_expect_eq(pl.future_lines, r->future, "%s: %llu future lines", r->name,
		    (unsigned long long)pl.future_lines);
		cr_expect_eq(track_size(pl.track), r->records, "%s: the tracker holds %zu records",
		    r->name, track_size(pl.track));
		if (r->skew > 0)
			cr_expect_leq(pl.last_us, (int64_t)(time(NULL) + 300) * 1000000,
			    "%s: the newest line counted moved past the clock", r->name);
		pipeline_free(&pl);
		report_free(rep);
		conf_free(c);
	}
}

/* ---- the real binary ---- */

static char dir[64], logp[128], confp[128], errp[128];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sg-future-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(logp, sizeof(logp), "%s/mail.log", dir);
	snprintf(confp, sizeof(confp), "%s/agent.conf", dir);
	snprintf(errp, sizeof(errp), "%s/daemon.err", dir);
	setenv("TZ", "UTC", 1);
	tzset();
}

static void
teardown(void)
{
	sg_rm_tmpdir(dir);
}

/* write_story - row r's lines into the log (appended), based at base */
static void
write_story(const struct frow *r, time_t base)
{
	FILE *fp = fopen(logp, "a");
	char buf[512];
	int k;

	cr_assert_not_null(fp);
	for (k = 0; k < nsteps(r); k++) {
		line(&r->steps[k], base, r->bsd, buf, sizeof(buf));
		fprintf(fp, "%s\n", buf);
	}
	cr_assert_eq(fclose(fp), 0);
}

/* write_conf - the test's agent.conf; metrics: a metrics_file to write (NULL: none) */
static void
write_conf(const char *metrics)
{
	FILE *fp = fopen(confp, "w");

	cr_assert_not_null(fp);
	fprintf(fp,
	    "[agent]\nlog = %s\nstate = %s/state.db\nsocket = %s/ctl.sock\n"
	    "start_at = beginning\nmode = monitor\n",
	    logp, dir, dir);
	if (metrics != NULL)
		fprintf(fp, "metrics_file = %s\n", metrics);
	fprintf(fp, "[limit submission]\nby = sasl\nmessages = 3/1h\nactions = hold\n");
	cr_assert_eq(fclose(fp), 0);
}

/* The audit rows of the table: the report says what crossed and how many lines were future-dated. */
Test(future, audit_reports_future_lines, .init = setup, .fini = teardown)
{
	static const size_t pick[] = { 0, 2, 3, 6 }; /* 2099, Dec 31, Jan 1, two in December */
	size_t i;

	write_conf(NULL);
	for (i = 0; i < sizeof(pick) / sizeof(pick[0]); i++) {
		const struct frow *r = &rows[pick[i]];
		time_t base = r->base ? r->base : REPLAY_BASE;
		struct tm tm;
		char year[8];
		const char *jargv[] = { sg_bin(), "audit", "--year", year, "--format", "json", "-c",
			confp, logp, NULL };
		const char *targv[] = { sg_bin(), "audit", "--year", year, "-c", confp, logp, NULL };
		struct cmdres j, t;

		gmtime_r(&base, &tm);
		snprintf(year, sizeof(year), "%d", tm.tm_year + 1900);
		unlink(logp);
		write_story(r, base);
		j = runcmd(jargv, NULL);
		t = runcmd(targv, NULL);
		cr_expect_eq(j.status, 1, "%s: exit %d, want 1 (an overrun): %s", r->name, j.status,
		    j.err);
		cr_expect_not_null(strstr(j.out, "\"future_lines\": 1,"), "%s: %s", r->name, j.out);
		cr_expect_not_null(strstr(j.out, "\"queue_id\": \"A00004\""), "%s: %s", r->name,
		    j.out);
		cr_expect_not_null(strstr(t.out, "\nFuture:     1 lines stamped more than 5m ahead"),
		    "%s: %s", r->name, t.out);
		cmdres_free(&j);
		cmdres_free(&t);
	}
}

/*
 * The daemon: the 4th message crosses, status (JSON and text) and
 * metrics_file say 1 future line, the log says so once.
 */
Test(future, daemon_counts_future_lines, .init = setup, .fini = teardown)
{
	static const size_t pick[] = { 1, 4 }; /* RFC 3339 2099, BSD 60 days ahead */
	size_t i;

	for (i = 0; i < sizeof(pick) / sizeof(pick[0]); i++) {
		const struct frow *r = &rows[pick[i]];
		char *js = NULL, *err, *prom, metrics[160];
		pid_t pid;
		int k;

		sg_rm_tmpdir(dir);
		cr_assert_eq(mkdir(dir, 0700), 0);
		snprintf(metrics, sizeof(metrics), "%s/sendguard.prom", dir);
		write_conf(metrics);
		write_story(r, time(NULL) - 600);
		pid = sg_spawn_daemon(confp, errp);
		cr_assert_gt(pid, 0);
		cr_assert(sg_wait_caught_up(confp, logp, 400), "%s: the daemon did not catch up",
		    r->name);
		for (k = 0; k < 100; k++) {
			free(js);
			js = sg_status_running(confp);
			if (js != NULL && strstr(js, "\"future_lines\": 1") != NULL)
				break;
			sg_msleep(50);
		}
		cr_expect(js != NULL && strstr(js, "\"future_lines\": 1") != NULL, "%s: %s", r->name,
		    js ? js : "(no status)");
		free(js);
		{
			const char *sargv[] = { sg_bin(), "status", "-c", confp, NULL };
			struct cmdres st = runcmd(sargv, NULL);

			cr_expect_not_null(strstr(st.out, "\nFuture-dated lines: 1 (stamped ahead"),
			    "%s: status says: %s", r->name, st.out);
			cmdres_free(&st);
		}
		/* written once the log the daemon found was read */
		prom = sg_slurp_path(metrics);
		cr_expect(prom != NULL && strstr(prom, "\nsendguard_future_lines_total 1\n") != NULL,
		    "%s: %s", r->name, prom ? prom : "(no metrics file)");
		free(prom);
		cr_expect_neq(sg_kill_wait(pid, SIGTERM), -1);
		err = sg_slurp_path(errp);
		cr_assert_not_null(err);
		cr_expect_not_null(strstr(err, "over limit: sasl:alice@example.com: rule submission, "
					       "messages 4 > 3 in 1h, crossed by A00004"),
		    "%s: %s", r->name, err);
		cr_expect_not_null(strstr(err, "1 lines stamped more than 5m ahead of the clock"),
		    "%s: %s", r->name, err);
		free(err);
	}
}
