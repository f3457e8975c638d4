/*
 * test_journal - the systemd journal as a source.  No journald runs: the
 * journals are made by the real /lib/systemd/systemd-journal-remote from
 * journal export format, which lets a test set the fields journald takes
 * from the sender's credentials (_UID, _COMM, _EXE, _SYSTEMD_UNIT), and
 * which appends to the journal file when run again.  The logs are
 * loggen's (bench/loggen.c, RFC 3339 headers), each line turned into an
 * entry as journald would keep it: __REALTIME_TIMESTAMP, _HOSTNAME,
 * SYSLOG_IDENTIFIER, SYSLOG_PID, MESSAGE, and a Postfix process's _UID and
 * _COMM.  The real sendguard binary reads them ($SG_BIN):
 *  - audit equals the generator's truth, and entries forged under the
 *    same names and texts by _UID=1000 _COMM=logger count nothing: the
 *    forged login is absent, a real login keeps its count, and
 *    `untrusted` is the number of forged entries;
 *  - the same log as a file and as a journal gives the same identities,
 *    counts and overruns, also with --since/--until (a seek);
 *  - the daemon follows a journal directory through four appends with a
 *    SIGKILL after the second: every count exact;
 *  - a cursor whose entry was vacuumed resumes after its time and says
 *    so; start_at = end; untrusted entries logged once, not 300 times;
 *    an idle daemon on the journal uses no CPU; a database write lock held
 *    by another process is waited out, the entries meanwhile counted once;
 * The tables of count/journal's small functions are in test_journal_fn.c.
 * Without systemd-journal-remote (its Debian package of that name) the
 * tests that need it are skipped with that reason.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "count/journal.h"
#include "count/source.h"
#include "tests/runcmd.h"

#define REMOTE "/lib/systemd/systemd-journal-remote"
#define PF_UID 4242 /* the tests' mail owner: postfix_user = 4242 */
#define BOOT "0123456789abcdef0123456789abcdef"

static char dir[64], jdir[128], confp[128], errp[128], logp[128], truthp[128];
static uint64_t mono; /* __MONOTONIC_TIMESTAMP of the next entry */
static long owner;    /* postfix_user of write_conf() */
static pid_t running; /* the daemon start() started and stop() has not stopped */

static void
setup(void)
{
	cr_assert_eq(sg_lower_tmpdir(dir, sizeof(dir), "sg-journal"), 0);
	snprintf(jdir, sizeof(jdir), "%s/j", dir);
	snprintf(confp, sizeof(confp), "%s/agent.conf", dir);
	snprintf(errp, sizeof(errp), "%s/daemon.err", dir);
	snprintf(logp, sizeof(logp), "%s/mail.log", dir);
	snprintf(truthp, sizeof(truthp), "%s/truth", dir);
	cr_assert_eq(mkdir(jdir, 0755), 0);
	mono = 1;
	owner = PF_UID;
	running = 0;
	setenv("TZ", "UTC", 1);
	setenv("SG_NO_DEFAULT_CONF", "1", 1);
}

static void
teardown(void)
{
	if (running > 0) /* a test that failed on the way: no daemon outlives it */
		(void)sg_kill_wait(running, SIGKILL);
	sg_rm_tmpdir(dir);
}

TestSuite(journal, .init = setup, .fini = teardown);

/* need_remote - skip the test, saying why, when journal files cannot be made here */
static void
need_remote(void)
{
	if (access(REMOTE, X_OK) != 0)
		cr_skip_test("%s not installed (Debian package systemd-journal-remote)", REMOTE);
}

/* ------------------------------------------------------------------ */
/* log lines and journal entries */

/* One log line of loggen, taken apart. */
struct line {
	int64_t us;
	char host[64], ident[96];
	long pid;
	const char *text;
	size_t tlen;
};

/* parse_line - "2026-03-02T10:00:00.123456+00:00 host ident[pid]: text"; 0 or -1 */
static int
parse_line(const char *l, size_t n, struct line *out)
{
	struct tm tm;
	const char *p, *sp, *colon, *br, *end = l + n;
	long frac;
	char *e;

	memset(&tm, 0, sizeof(tm));
	memset(out, 0, sizeof(*out));
	if ((p = strptime(l, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL || *p != '.')
		return (-1);
	frac = strtol(p + 1, &e, 10);
	if (e != p + 7 || strncmp(e, "+00:00 ", 7) != 0)
		return (-1);
	out->us = (int64_t)timegm(&tm) * 1000000 + frac;
	p = e + 7;
	if ((sp = memchr(p, ' ', (size_t)(end - p))) == NULL || (size_t)(sp - p) >= sizeof(out->host))
		return (-1);
	snprintf(out->host, sizeof(out->host), "%.*s", (int)(sp - p), p);
	p = sp + 1;
	if ((colon = memchr(p, ':', (size_t)(end - p))) == NULL || colon + 1 >= end)
		return (-1);
	br = memchr(p, '[', (size_t)(colon - p));
	snprintf(out->ident, sizeof(out->ident), "%.*s", (int)((br ? br : colon) - p), p);
	out->pid = br ? strtol(br + 1, NULL, 10) : -1;
	out->text = colon + 2;
	out->tlen = (size_t)(end - out->text);
	return (0);
}

/* program - the last part of a syslog name, as a Postfix process's _COMM */
static const char *
program(const char *ident)
{
	const char *s = strrchr(ident, '/');

	return (s ? s + 1 : ident);
}

/*
 * put_entry - one entry in export format.  uid < 0: a Postfix process
 * (root for master, local, pipe, virtual and postsuper, else the mail
 * owner), its _COMM the program part of ident; else that uid and comm.
 */
static void
put_entry(FILE *fp, const struct line *l, long uid, const char *comm)
{
	static const char *const root_progs[] = { "master", "local", "pipe", "virtual",
		"postsuper" };
	const char *prog = program(l->ident);
	size_t i;

	if (uid < 0) {
		uid = PF_UID;
		for (i = 0; i < sizeof(root_progs) / sizeof(root_progs[0]); i++)
			if (strcmp(prog, root_progs[i]) == 0)
				uid = 0;
		comm = prog;
	}
	fprintf(fp, "__REALTIME_TIMESTAMP=%lld\n__MONOTONIC_TIMESTAMP=%llu\n_BOOT_ID=%s\n",
	    (long long)l->us, (unsigned long long)mono++, BOOT);
	fprintf(fp, "_HOSTNAME=%s\n_UID=%ld\n_GID=%ld\n_COMM=%s\n", l->host, uid, uid, comm);
	if (strcmp(comm, "logger") == 0)
		fputs("_EXE=/usr/bin/logger\n_SYSTEMD_UNIT=session-2.scope\n", fp);
	else
		fprintf(fp, "_EXE=/usr/lib/postfix/sbin/%s\n_SYSTEMD_UNIT=postfix@-.service\n", comm);
	fprintf(fp, "SYSLOG_IDENTIFIER=%s\n", l->ident);
	if (l->pid >= 0)
		fprintf(fp, "SYSLOG_PID=%ld\n", l->pid);
	fprintf(fp, "MESSAGE=%.*s\n\n", (int)l->tlen, l->text);
}

/* Who sent an entry: a Postfix process (uid < 0), or that uid and _COMM. */
struct sender {
	long uid;
	const char *comm;
};

static const struct sender postfix = { -1, NULL }, forger = { 1000, "logger" };

/* put_made - an entry made here at time us, of ident, from who */
static void
put_made(FILE *fp, int64_t us, const char *ident, const char *text, const struct sender *who)
{
	struct line l;

	memset(&l, 0, sizeof(l));
	l.us = us;
	snprintf(l.host, sizeof(l.host), "mail");
	snprintf(l.ident, sizeof(l.ident), "%s", ident);
	l.pid = 4000;
	l.text = text;
	l.tlen = strlen(text);
	put_entry(fp, &l, who->uid, who->comm);
}

/*
 * put_msg_as - the three entries of one accepted message of login, under
 * instance (the syslog name's first part) from who: smtpd's client= line,
 * qmgr's "queue active" line where it counts, "removed"
 */
static void
put_msg_as(FILE *fp, int64_t us, unsigned qid, const char *login, const char *instance,
    const struct sender *who)
{
	char t[300], id[100];

	snprintf(t, sizeof(t), "F%09X: client=h.example.net[192.0.2.99], sasl_method=PLAIN, "
	    "sasl_username=%s", qid, login);
	snprintf(id, sizeof(id), "%s/submission/smtpd", instance);
	put_made(fp, us, id, t, who);
	snprintf(t, sizeof(t), "F%09X: from=<%s>, size=900, nrcpt=2 (queue active)", qid, login);
	snprintf(id, sizeof(id), "%s/qmgr", instance);
	put_made(fp, us + 10, id, t, who);
	snprintf(t, sizeof(t), "F%09X: removed", qid);
	put_made(fp, us + 20, id, t, who);
}

/* put_msg - put_msg_as() under "postfix", from Postfix or forged */
static void
put_msg(FILE *fp, int64_t us, unsigned qid, const char *login, int forged)
{
	put_msg_as(fp, us, qid, login, "postfix", forged ? &forger : &postfix);
}

/* append - DIR/x.journal grows by the entries of export file ex (the real journal-remote) */
static void
append(const char *ex)
{
	char out[200];
	const char *argv[] = { REMOTE, "-o", out, ex, NULL };
	struct cmdres r;

	snprintf(out, sizeof(out), "%s/x.journal", jdir);
	r = runcmd(argv, NULL);
	cr_assert_eq(r.status, 0, "%s: %s", REMOTE, r.err);
	cmdres_free(&r);
}

/* The lines of a log, in memory. */
struct log {
	char *data;
	size_t n;
	struct line *l;
};

/* load_log - every line of logp into lg */
static void
load_log(struct log *lg)
{
	char *p, *nl;
	size_t cap = 0;

	lg->data = sg_slurp_path(logp);
	cr_assert_not_null(lg->data);
	lg->n = 0;
	lg->l = NULL;
	for (p = lg->data; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		if (lg->n == cap)
			lg->l = realloc(lg->l, (cap = cap ? cap * 2 : 4096) * sizeof(*lg->l));
		cr_assert_eq(parse_line(p, (size_t)(nl - p), &lg->l[lg->n]), 0, "line %.*s",
		    (int)(nl - p), p);
		lg->n++;
	}
}

static void
free_log(struct log *lg)
{
	free(lg->data);
	free(lg->l);
}

/*
 * gen - loggen's log of n lines at rate lines a second from start (epoch)
 * into logp, its truth into truthp
 */
static void
gen(int n, int seed, time_t start, const char *rate, struct log *lg)
{
	const char *t = getenv("SG_TOOLS");
	char loggen[300], ns[16], ss[16], st[32];
	const char *argv[] = { loggen, "--lines", ns, "--seed", ss, "--format", "rfc3339",
		"--start", st, "--rate", rate, "--out", logp, "--truth", truthp, NULL };
	struct cmdres r;

	snprintf(loggen, sizeof(loggen), "%s/loggen", t ? t : "build/bench");
	snprintf(ns, sizeof(ns), "%d", n);
	snprintf(ss, sizeof(ss), "%d", seed);
	snprintf(st, sizeof(st), "%lld", (long long)start);
	r = runcmd(argv, NULL);
	cr_assert_eq(r.status, 0, "loggen: %s", r.err);
	cmdres_free(&r);
	load_log(lg);
}

/* export_open - a new export file DIR/name.export, its path in ex */
static FILE *
export_open(const char *name, char *ex, size_t len)
{
	FILE *fp;

	snprintf(ex, len, "%s/%s.export", dir, name);
	cr_assert_not_null(fp = fopen(ex, "w"));
	return (fp);
}

/* export_range - lines [from, to) of lg appended to the journal, through name.export */
static void
export_range(const struct log *lg, size_t from, size_t to, const char *name)
{
	char ex[200];
	FILE *fp = export_open(name, ex, sizeof(ex));
	size_t i;

	for (i = from; i < to; i++)
		put_entry(fp, &lg->l[i], -1, NULL);
	cr_assert_eq(fclose(fp), 0);
	append(ex);
}

/* write_conf - the agent.conf of the tests: the journal directory, mail owner owner */
static void
write_conf(const char *extra)
{
	FILE *fp = fopen(confp, "w");

	cr_assert_not_null(fp);
	fprintf(fp, "[agent]\nlog = journal:%s\npostfix_user = %ld\nstate = %s/state.db\n"
	    "socket = %s/ctl.sock\nretention = 30d\n%s", jdir, owner, dir, dir, extra);
	fclose(fp);
}

/* audit - `sendguard audit -c confp --format json ARGS...`; the result */
static struct cmdres
audit(const char *a1, const char *a2, const char *a3, const char *a4, const char *a5)
{
	const char *argv[] = { sg_bin(), "audit", "-c", confp, "--format", "json", a1, a2, a3, a4,
		a5, NULL };
	struct cmdres r = runcmd(argv, NULL);

	cr_assert(r.status == 0 || r.status == 1, "audit exit %d: %s", r.status, r.err);
	return (r);
}

/* from_identities - the report from its identity rows on (what both sources must share) */
static const char *
from_identities(const char *js)
{
	const char *p = strstr(js, "\n \"identities\": [");

	cr_assert_not_null(p, "no identities in %s", js);
	return (p);
}

/*
 * audit_truth - every identity of the truth with its messages and
 * recipients in the audit JSON, and no other identity
 */
static void
audit_truth(const char *js)
{
	char *truth = sg_slurp_path(truthp), *line, *save = NULL, want[600];
	int ids = 0, rows = 0, bad = 0;
	const char *p, *end = strstr(js, "\n \"overruns\": [");

	cr_assert_not_null(truth);
	for (line = strtok_r(truth, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f2, *f3;

		if (strncmp(line, "identity\t", 9) != 0)
			continue;
		cr_assert_not_null(f2 = strchr(line + 9, '\t'));
		*f2++ = '\0';
		cr_assert_not_null(f3 = strchr(f2, '\t'));
		*f3++ = '\0';
		f3[strcspn(f3, "\t")] = '\0'; /* loggen's fifth field: bounced recipients */
		snprintf(want, sizeof(want), "{\"identity\": \"%s\", \"messages\": %s, "
		    "\"recipients\": %s,", line + 9, f2, f3);
		if (strstr(js, want) == NULL && ++bad <= 20)
			cr_log_error("audit lacks %s", want);
		ids++;
	}
	cr_assert_not_null(end);
	for (p = from_identities(js); (p = strstr(p, "{\"identity\": ")) != NULL && p < end; p++)
		rows++;
	free(truth);
	cr_expect_eq(bad, 0, "%d identities differ from the truth", bad);
	cr_expect_gt(ids, 50);
	cr_expect_eq(rows, ids, "the audit has %d identities, the truth %d", rows, ids);
}

/* first_sasl - the first SASL login of the truth ("sasl:" left off) into buf */
static void
first_sasl(char *buf, size_t len, long *msgs)
{
	char *truth = sg_slurp_path(truthp), *p, *tab;

	cr_assert_not_null(truth);
	cr_assert_not_null(p = strstr(truth, "\nidentity\tsasl:"));
	p += strlen("\nidentity\tsasl:");
	cr_assert_not_null(tab = strchr(p, '\t'));
	snprintf(buf, len, "%.*s", (int)(tab - p), p);
	*msgs = strtol(tab + 1, NULL, 10);
	free(truth);
}

/* ------------------------------------------------------------------ */
/* audit */

Test(journal, audit_matches_truth_and_forged_entries_count_nothing)
{
	struct log lg;
	char ex[200], real[256], want[400];
	FILE *fp;
	size_t i;
	long real_msgs;
	unsigned forged = 0, qid = 1;
	struct cmdres r;

	need_remote();
	gen(60000, 11, 1772409600, "2", &lg);
	first_sasl(real, sizeof(real), &real_msgs);
	fp = export_open("all", ex, sizeof(ex));
	for (i = 0; i < lg.n; i++) {
		put_entry(fp, &lg.l[i], -1, NULL);
		/* every 150th line: a forged message, mostly for a login nobody uses */
		if (i % 150 == 0) {
			put_msg(fp, lg.l[i].us, qid++, i % 600 == 0 ? real : "victim@example.org", 1);
			forged += 3;
		}
	}
	cr_assert_eq(fclose(fp), 0);
	append(ex);
	write_conf("");
	snprintf(want, sizeof(want), "journal:%s", jdir);
	r = audit(want, NULL, NULL, NULL, NULL);
	audit_truth(r.out);
	cr_expect_null(strstr(r.out, "victim@example.org"), "a forged login was counted");
	snprintf(want, sizeof(want), "{\"identity\": \"sasl:%s\", \"messages\": %ld,", real,
	    real_msgs);
	cr_expect_not_null(strstr(r.out, want), "forged messages changed %s's count", real);
	cr_expect_gt(forged, 1000);
	cr_expect_eq(sg_jnum(r.out, "\"untrusted\": "), forged, "untrusted %llu, forged %u",
	    sg_jnum(r.out, "\"untrusted\": "), forged);
	cmdres_free(&r);
	/* under another mail owner, only root's Postfix entries are trusted: none is counted */
	owner = PF_UID + 1;
	write_conf("");
	snprintf(want, sizeof(want), "journal:%s", jdir);
	r = audit(want, NULL, NULL, NULL, NULL);
	cr_expect_eq(sg_jnum(r.out, "\"counted\": "), 0, "%s", r.out);
	cr_expect_gt(sg_jnum(r.out, "\"untrusted\": "), 30000, "%.300s", r.out);
	cmdres_free(&r);
	free_log(&lg);
}

/*
 * Who may write Postfix's entries: one message (three entries) per row,
 * under the row's instance, from the row's sender; it counts, or it is
 * untrusted.  Then an entry without a Postfix name (neither) and one
 * whose MESSAGE is over-long (skipped and counted).
 */
Test(journal, who_is_trusted)
{
	enum { COUNTED, UNTRUSTED };
	static const struct {
		const char *why, *instance;
		long uid;
		const char *comm;
		int want;
	} tab[] = {
		{ "the mail owner's smtpd and qmgr", "postfix", PF_UID, "smtpd", COUNTED },
		{ "root's Postfix program", "postfix", 0, "qmgr", COUNTED },
		{ "a second instance", "postfix-out", PF_UID, "smtpd", COUNTED },
		{ "a local user", "postfix", 1000, "logger", UNTRUSTED },
		{ "root's logger", "postfix", 0, "logger", UNTRUSTED },
		{ "a user's program named smtpd", "postfix", 1000, "smtpd", UNTRUSTED },
		{ "the mail owner's sendmail", "postfix", PF_UID, "sendmail", UNTRUSTED },
		{ "another mail owner", "postfix", PF_UID + 1, "smtpd", UNTRUSTED },
		{ "a comm padded", "postfix", PF_UID, "smtpd ", UNTRUSTED },
	};
	char ex[200], x[200], login[64], want[200], jarg[200];
	static char big[SOURCE_LINE_MAX + 100];
	struct cmdres r;
	FILE *fp;
	size_t i;

	need_remote();
	snprintf(jarg, sizeof(jarg), "journal:%s", jdir);
	snprintf(x, sizeof(x), "%s/x.journal", jdir);
	write_conf("");
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct sender who = { tab[i].uid, tab[i].comm };

		snprintf(login, sizeof(login), "row%zu@example.com", i);
		(void)unlink(x);
		fp = export_open("row", ex, sizeof(ex));
		put_msg_as(fp, 1772409600000000 + (int64_t)i * 1000000, 0x500 + (unsigned)i, login,
		    tab[i].instance, &who);
		cr_assert_eq(fclose(fp), 0);
		append(ex);
		r = audit(jarg, NULL, NULL, NULL, NULL);
		snprintf(want, sizeof(want), "{\"identity\": \"sasl:%s\", \"messages\": 1,", login);
		cr_expect_eq(strstr(r.out, want) != NULL, tab[i].want == COUNTED, "%s: %s",
		    tab[i].why, r.out);
		cr_expect_eq(sg_jnum(r.out, "\"untrusted\": "), tab[i].want == UNTRUSTED ? 3 : 0,
		    "%s: %s", tab[i].why, r.out);
		cmdres_free(&r);
	}
	(void)unlink(x);
	fp = export_open("other", ex, sizeof(ex));
	put_made(fp, 1772409600000000, "myapp", "3A1B2C3D4E: removed", &forger);
	memset(big, 'x', sizeof(big) - 1);
	memcpy(big, "3A1B2C3D4E: removed ", 20);
	put_made(fp, 1772409601000000, "postfix/qmgr", big, &postfix);
	put_made(fp, 1772409602000000, "postfix/qmgr", "3A1B2C3D4E: removed", &postfix);
	cr_assert_eq(fclose(fp), 0);
	append(ex);
	r = audit(jarg, NULL, NULL, NULL, NULL);
	cr_expect_eq(sg_jnum(r.out, "\"untrusted\": "), 0, "%s", r.out);
	cr_expect_eq(sg_jnum(r.out, "\"too_long\": "), 1, "%s", r.out);
	cr_expect_eq(sg_jnum(r.out, "\"lines\": "), 2, "%s", r.out);
	cmdres_free(&r);
}

/*
 * audit_both - the file and the journal, both with --since and --until
 * when since is not NULL, agree from the identities on; the journal is
 * then read from read_from on (a seek), the file whole
 */
static void
audit_both(const char *since, const char *until, const char *read_from)
{
	char jarg[200];
	struct cmdres f, j;
	const char *first;

	snprintf(jarg, sizeof(jarg), "journal:%s", jdir);
	if (since == NULL) {
		f = audit(logp, NULL, NULL, NULL, NULL);
		j = audit(jarg, NULL, NULL, NULL, NULL);
	} else {
		f = audit("--since", since, "--until", until, logp);
		j = audit("--since", since, "--until", until, jarg);
	}
	cr_expect_gt(strlen(from_identities(f.out)), 1000);
	cr_expect_null(strstr(f.out, "\"overruns\": []"), "no overrun to compare");
	cr_expect_str_eq(from_identities(j.out), from_identities(f.out),
	    "the journal's report differs from the file's (%s .. %s)", since ? since : "",
	    until ? until : "");
	cr_expect_eq(f.status, j.status);
	if (since != NULL) {
		first = strstr(strstr(j.out, "\"input\""), "\"first\": \"");
		cr_assert_not_null(first, "%s", j.out);
		cr_expect_geq(strncmp(first + 10, read_from, strlen(read_from)), 0,
		    "the journal was read from %.20s, not sought", first + 10);
		cr_expect_lt(sg_jnum(strstr(j.out, "\"input\""), "\"lines\": "),
		    sg_jnum(strstr(f.out, "\"input\""), "\"lines\": "));
	}
	cmdres_free(&f);
	cmdres_free(&j);
}

Test(journal, file_and_journal_give_the_same_report)
{
	struct log lg;
	char *limits;

	need_remote();
	gen(60000, 12, 1772409600, "2", &lg);
	export_range(&lg, 0, lg.n, "all");
	/* tests/truth.conf's limits, so that there are peaks and overruns */
	limits = sg_slurp_path("tests/truth.conf");
	cr_assert_not_null(limits, "tests/truth.conf");
	write_conf(limits);
	free(limits);
	audit_both(NULL, NULL, NULL);
	/* an interval: the file is read whole, the journal from a seek an hour before */
	audit_both("2026-03-02T03:00:00Z", "2026-03-02T05:30:00Z", "2026-03-02T02:00:00Z");
	free_log(&lg);
}

/* ------------------------------------------------------------------ */
/* the daemon */

/* start - `sendguard run -f -c confp`, stderr appended to errp; waits until it answers */
static pid_t
start(void)
{
	pid_t pid = sg_spawn_daemon(confp, errp);

	cr_assert_gt(pid, 0);
	running = pid;
	cr_assert(sg_wait_running(confp), "the daemon never answered:\n%s", sg_slurp_path(errp));
	return (pid);
}

/* stop - signal the daemon and reap it; a SIGTERM must stop it cleanly */
static void
stop(pid_t pid, int sig)
{
	running = 0;
	cr_assert(sg_stopped(pid, sig), "the daemon did not stop %s", sig == SIGTERM ? "cleanly" : "");
}

/* at_time - the running daemon stands at an entry of the second of us */
static int
at_time(int64_t us)
{
	char *js = sg_status_running(confp), want[80], tb[40];
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	int ok;

	if (js == NULL)
		return (0);
	gmtime_r(&t, &tm);
	strftime(tb, sizeof(tb), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(want, sizeof(want), "\"time\": \"%s\"}", tb);
	ok = strstr(js, "\"position\": {\"cursor\": ") != NULL && strstr(js, want) != NULL;
	free(js);
	return (ok);
}

/* wait_at - until the daemon has read the entry at us (an unique second), 60 s at most */
static void
wait_at(int64_t us)
{
	int i;

	for (i = 0; i < 1200 && !at_time(us); i++)
		sg_msleep(50);
	cr_assert(at_time(us), "the daemon did not read up to %lld:\n%s", (long long)us,
	    sg_slurp_path(errp));
}

/*
 * marker - a Postfix line that is no event, gap after the last line of lg
 * before to: the point a test waits for (gap >= 1 s makes its second its
 * own), or, an hour on, the end of the link window that lets held-back
 * messages count
 */
static int64_t
marker(const struct log *lg, size_t to, int64_t gap, const char *name)
{
	char ex[200];
	FILE *fp = export_open(name, ex, sizeof(ex));
	int64_t t = lg->l[to - 1].us + gap;

	put_made(fp, t, "postfix/anvil", "statistics: max cache size 1", &postfix);
	cr_assert_eq(fclose(fp), 0);
	append(ex);
	return (t);
}

/* compare - the status of the running daemon against the truth */
static void
compare(void)
{
	char *js = sg_status_running(confp);
	int ids = 0;

	cr_assert_not_null(js);
	cr_expect_eq(sg_truth_mismatches(js, truthp, &ids), 0, "status differs from the truth");
	cr_expect_gt(ids, 50);
	free(js);
}

Test(journal, daemon_follows_four_appends_and_a_sigkill_exactly)
{
	struct log lg;
	size_t q[5];
	pid_t pid;
	int k;

	need_remote();
	gen(40000, 13, time(NULL) - 2 * 86400, "20", &lg);
	for (k = 0; k <= 4; k++)
		q[k] = lg.n * (size_t)k / 4;
	write_conf("start_at = beginning\n" SG_COUNT_ALL);
	pid = start(); /* the directory is empty: the journal is still to come */
	export_range(&lg, q[0], q[1], "c1");
	wait_at(marker(&lg, q[1], 1000000, "m1"));
	export_range(&lg, q[1], q[2], "c2");
	stop(pid, SIGKILL); /* at once: in the middle of reading the second */
	export_range(&lg, q[2], q[3], "c3");
	pid = start();
	export_range(&lg, q[3], q[4], "c4");
	wait_at(marker(&lg, q[4], 3600 * (int64_t)1000000, "m4"));
	compare();
	stop(pid, SIGTERM);
	/* a restart reads nothing again */
	pid = start();
	sg_msleep(500);
	compare();
	stop(pid, SIGTERM);
	free_log(&lg);
}

/* first_after - an index i with lg's line i later than line i - 1, near at */
static size_t
first_after(const struct log *lg, size_t at)
{
	while (at < lg->n && lg->l[at].us <= lg->l[at - 1].us)
		at++;
	cr_assert_lt(at, lg->n);
	return (at);
}

Test(journal, vacuumed_cursor_resumes_after_its_time)
{
	struct log lg;
	char x[200], ex[200];
	size_t cut, i;
	pid_t pid;
	char *js;
	FILE *fp;

	need_remote();
	gen(20000, 14, time(NULL) - 2 * 86400, "20", &lg);
	cut = first_after(&lg, 12000);
	write_conf("start_at = beginning\n" SG_COUNT_ALL);
	export_range(&lg, 0, cut, "a");
	pid = start();
	for (i = 0, js = NULL; i < 1200; i++, js = NULL) {
		js = sg_status_running(confp);
		if (js != NULL && sg_jnum(js, "\"lines\": ") == cut)
			break;
		free(js);
		sg_msleep(50);
	}
	cr_assert_not_null(js, "the daemon did not read the first %zu entries", cut);
	free(js);
	stop(pid, SIGTERM);
	/* vacuumed while down: a new file, without the entry of the cursor */
	snprintf(x, sizeof(x), "%s/x.journal", jdir);
	cr_assert_eq(unlink(x), 0);
	fp = export_open("b", ex, sizeof(ex));
	for (i = cut - 50; i < lg.n; i++)
		if (i != cut - 1)
			put_entry(fp, &lg.l[i], -1, NULL);
	cr_assert_eq(fclose(fp), 0);
	append(ex);
	pid = start();
	wait_at(marker(&lg, lg.n, 3600 * (int64_t)1000000, "m"));
	compare();
	stop(pid, SIGTERM);
	cr_expect(sg_file_has(errp, "is no longer in the journal (vacuumed or rotated away"),
	    "no word of the vacuumed cursor:\n%s", sg_slurp_path(errp));
	free_log(&lg);
}

Test(journal, start_at_end_counts_only_new_entries)
{
	struct log lg;
	char ex[200], *js;
	pid_t pid;
	FILE *fp;
	const char *p;
	int rows = 0, k;

	need_remote();
	gen(5000, 15, time(NULL) - 2 * 86400, "20", &lg);
	export_range(&lg, 0, lg.n, "old");
	write_conf(SG_COUNT_ALL); /* start_at = end, the default */
	pid = start();
	fp = export_open("new", ex, sizeof(ex));
	for (k = 0; k < 3; k++)
		put_msg(fp, lg.l[lg.n - 1].us + 1000000 + k * 1000, 0x100 + (unsigned)k,
		    "late@example.com", 0);
	cr_assert_eq(fclose(fp), 0);
	append(ex);
	wait_at(marker(&lg, lg.n, 3600 * (int64_t)1000000, "m"));
	for (k = 0; k < 2; k++) {
		if (k == 1) {
			stop(pid, SIGTERM);
			pid = start(); /* a known journal resumes where it stopped */
			sg_msleep(300);
		}
		cr_assert_not_null(js = sg_status_running(confp));
		cr_expect_not_null(strstr(js, "{\"identity\": \"sasl:late@example.com\", \"rule\": "
					      "\"s\", \"limit\": \"messages\", \"window\": \"30d\", "
					      "\"count\": 3,"),
		    "%s", js);
		for (rows = 0, p = js; (p = strstr(p, "{\"identity\": ")) != NULL; p++)
			rows++;
		cr_expect_eq(rows, 6, "only late@'s messages count (sasl, sender, ip): %s", js);
		free(js);
	}
	stop(pid, SIGTERM);
	free_log(&lg);
}

Test(journal, untrusted_entries_logged_once_a_minute)
{
	char ex[200], *js;
	FILE *fp;
	pid_t pid;
	int64_t t = (int64_t)(time(NULL) - 3600) * 1000000;
	unsigned k;
	const char *p;
	int n = 0;

	need_remote();
	fp = export_open("forged", ex, sizeof(ex));
	for (k = 0; k < 100; k++)
		put_msg(fp, t + k * 1000, k + 1, "victim@example.org", 1);
	put_made(fp, t + 1000000, "postfix/anvil", "statistics: max cache size 1", &postfix);
	cr_assert_eq(fclose(fp), 0);
	append(ex);
	write_conf("start_at = beginning\n" SG_COUNT_ALL);
	pid = start();
	wait_at(t + 1000000);
	cr_assert_not_null(js = sg_status_running(confp));
	cr_expect_eq(sg_jnum(js, "\"untrusted\": "), 300, "%s", js);
	cr_expect_null(strstr(js, "victim"), "%s", js);
	free(js);
	stop(pid, SIGTERM);
	js = sg_slurp_path(errp);
	for (p = js; (p = strstr(p, "journal: not counted:")) != NULL; p++)
		n++;
	cr_expect_eq(n, 1, "300 untrusted entries in a second, %d reports:\n%s", n, js);
	cr_expect_not_null(strstr(js, "an entry as postfix/submission/smtpd from _UID=1000 "
				      "_COMM=logger, which is not a Postfix process"),
	    "%s", js);
	free(js);
}

/*
 * Another process holds the database's write lock past the 5 s busy
 * timeout while entries come: the daemon on the journal waits (its
 * journal descriptor off the loop, so the wakes that pile up do not spin)
 * instead of stopping, then reads them, each counted once.
 */
Test(journal, write_lock_held_by_another_process_is_waited_for)
{
	char ex[200], db[160], *js;
	int release, st;
	int64_t t = (int64_t)(time(NULL) - 3600) * 1000000;
	pid_t pid, holder;
	FILE *fp;
	unsigned k;

	need_remote();
	fp = export_open("first", ex, sizeof(ex));
	put_made(fp, t, "postfix/anvil", "statistics: max cache size 1", &postfix);
	cr_assert_eq(fclose(fp), 0);
	append(ex);
	write_conf("start_at = beginning\n" SG_COUNT_ALL);
	pid = start();
	wait_at(t);
	snprintf(db, sizeof(db), "%s/state.db", dir);
	cr_assert_gt(holder = sg_lock_hold(db, &release), 0, "the lock was never taken");
	fp = export_open("meanwhile", ex, sizeof(ex));
	for (k = 0; k < 3; k++)
		put_msg(fp, t + 1000000 + k * 1000, 0x200 + k, "busy@example.com", 0);
	put_made(fp, t + 3600 * (int64_t)1000000, "postfix/anvil", "statistics: max cache size 1",
	    &postfix);
	cr_assert_eq(fclose(fp), 0);
	append(ex);
	sg_msleep(7000);
	cr_expect_eq(waitpid(pid, &st, WNOHANG), 0, "the daemon stopped (status %d):\n%s", st,
	    sg_slurp_path(errp));
	cr_assert(sg_lock_release(holder, release));
	wait_at(t + 3600 * (int64_t)1000000);
	cr_assert_not_null(js = sg_status_running(confp));
	cr_expect_not_null(strstr(js, "{\"identity\": \"sasl:busy@example.com\", \"rule\": \"s\", "
				      "\"limit\": \"messages\", \"window\": \"30d\", \"count\": 3,"),
	    "the 3 messages written meanwhile, counted once: %s", js);
	free(js);
	stop(pid, SIGTERM);
	cr_expect(sg_file_has(errp, "another process has held it for over 5 s; not stopping"),
	    "%s", sg_slurp_path(errp));
	cr_expect(sg_file_has(errp, "ours again after"), "%s", sg_slurp_path(errp));
}

Test(journal, idle_daemon_on_the_journal_uses_no_cpu)
{
	char ex[200];
	FILE *fp;
	pid_t pid;
	long ticks;
	int64_t t = (int64_t)(time(NULL) - 60) * 1000000;
	int k;

	need_remote();
	write_conf("start_at = beginning\n");
	pid = start(); /* an empty directory */
	/* woken by entries that come after it started, then idle */
	for (k = 0; k < 2; k++) {
		fp = export_open(k ? "two" : "one", ex, sizeof(ex));
		put_made(fp, t + k * 1000000, "postfix/anvil", "statistics: max cache size 1", &postfix);
		cr_assert_eq(fclose(fp), 0);
		append(ex);
		wait_at(t + k * 1000000);
	}
	cr_assert_geq(ticks = sg_idle_ticks(pid), 0);
	cr_expect_leq(ticks, 1, "an idle daemon on the journal used %ld clock ticks in 10 s",
	    ticks);
	stop(pid, SIGTERM);
}
