/*
 * test_enforce - `sendguard run` enforcing limits as an administrator sees
 * it: the daemon runs stand-in postsuper, postmap, postfix, sendmail and an
 * exec recorder (shell scripts that append their argv, one element a line,
 * and their standard input to calls.log), and the tests check which queue
 * IDs were held, what the access map holds, how many reloads a burst
 * causes, unblock with release/delete (daemon running or not), expiry and
 * repeat offenders, a crash between recording a block and running
 * postmap, failing or hanging programs being retried, and the order of
 * one decision's runs.  What only needs a decision (the actions of a
 * rule for each kind of identity, monitor mode, hostile logins, a rule
 * without hold, domain totals) is tested in process by test_act, without
 * a daemon and without waiting.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/queue.h"
#include "tests/runcmd.h"

static char dir[64];
static char logp[128], confp[128], errp[128], callsp[128], etcd[128];
static char saslmap[160], sendermap[160];
static time_t base;		/* log time of the scenarios' first line */
static pid_t daemon_pid;	/* the running daemon, killed at teardown if a test failed */

#define DEFAULT_REPLY "450 4.7.1 Sending rate limit exceeded, contact the postmaster"

#define msleep sg_msleep
#define jnum sg_jnum
#define slurp_path sg_slurp_path
#define file_has sg_file_has
#define blocked_entry sg_blocked_entry

static long
file_size(const char *path)
{
	struct stat st;

	return (stat(path, &st) == 0 ? (long)st.st_size : 0);
}

static void
touch(const char *name)
{
	char p[200];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	cr_assert_geq(fd = open(p, O_WRONLY | O_CREAT, 0644), 0);
	close(fd);
}

static void
unflag(const char *name)
{
	char p[200];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	unlink(p);
}

/* setup - a temporary directory (lower case: logins may name files in it), the stand-ins */
static void
setup(void)
{
	cr_assert_eq(sg_lower_tmpdir(dir, sizeof(dir), "sg-enf"), 0, "no temporary directory");
	cr_assert_eq(sg_standins(dir), 0, "stand-ins in %s", dir);
	cr_assert_eq(sg_postcat_standin(dir), 0, "stand-in postcat in %s", dir);
	snprintf(logp, sizeof(logp), "%s/mail.log", dir);
	snprintf(confp, sizeof(confp), "%s/agent.conf", dir);
	snprintf(errp, sizeof(errp), "%s/daemon.err", dir);
	snprintf(callsp, sizeof(callsp), "%s/calls.log", dir);
	snprintf(etcd, sizeof(etcd), "%s/etc", dir);
	snprintf(saslmap, sizeof(saslmap), "%s/sasl_access", etcd);
	snprintf(sendermap, sizeof(sendermap), "%s/sender_access", etcd);
	setenv("TZ", "UTC", 1);
	base = time(NULL) - 1800;
}

/* keep - a string for an assertion message, freed at teardown */
static char *kept[64];
static int nkept;

static const char *
keep(char *p)
{
	if (nkept < 64)
		kept[nkept++] = p;
	return (p ? p : "(none)");
}

static void
teardown(void)
{
	if (daemon_pid > 0) {		/* a failed test left it running */
		kill(daemon_pid, SIGKILL);
		waitpid(daemon_pid, NULL, 0);
		daemon_pid = 0;
	}
	unflag("hang-postsuper");	/* let a hanging stand-in go */
	unflag("hang-postmap");
	sg_rm_tmpdir(dir);
	while (nkept > 0)
		free(kept[--nkept]);
}

TestSuite(enforce, .init = setup, .fini = teardown);

/* Configuration */
struct cf {
	const char *agent;		/* extra [agent] lines */
	const char *messages;		/* default 3/1h */
	const char *actions;		/* default hold, block */
	const char *block_time;		/* default 1h */
	const char *factor;		/* default 2 */
	const char *blockx;		/* extra [action block] lines */
	const char *by;			/* default sasl */
	const char *extra;		/* more sections at the end */
};

static void
write_conf(const struct cf *c)
{
	FILE *fp = fopen(confp, "w");

	cr_assert_not_null(fp);
	fprintf(fp, "[agent]\nlog = %s\nstate = %s/state.db\nsocket = %s/ctl.sock\n"
	    "start_at = beginning\nretention = 30d\npostfix_config_dir = %s\n"
	    "postsuper = %s/bin/postsuper\npostmap = %s/bin/postmap\npostfix = %s/bin/postfix\n"
	    "sendmail = %s/bin/sendmail\npostcat = %s/bin/postcat\nhostname = mx\n%s\n"
	    "[limit s]\nby = %s\nmessages = %s\nactions = %s\nblock_time = %s\n"
	    "block_time_factor = %s\n\n"
	    "[action block]\nsasl_map = %s\nsender_map = %s\n%s\n"
	    "[action notify]\nto = postmaster@example.com\n\n"
	    "[action exec]\ncommand = %s/bin/exec %%i %%r %%c %%w\n%s",
	    logp, dir, dir, etcd, dir, dir, dir, dir, dir, c->agent ? c->agent : "",
	    c->by ? c->by : "sasl", c->messages ? c->messages : "3/1h", c->actions ? c->actions : "hold, block",
	    c->block_time ? c->block_time : "1h", c->factor ? c->factor : "2", saslmap, sendermap,
	    c->blockx ? c->blockx : "", dir, c->extra ? c->extra : "");
	fclose(fp);
}

/* The daemon */
static pid_t
start(void)
{
	pid_t pid = sg_spawn_daemon(confp, errp);

	cr_assert_gt(pid, 0);
	daemon_pid = pid;
	return (pid);
}

static void
stop(pid_t pid, int sig)
{
	int st = sg_kill_wait(pid, sig);

	cr_assert_neq(st, -1);
	daemon_pid = 0;
	if (sig == SIGTERM)
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "clean stop, status %d", st);
}

/* status_any - status --json whether or not the daemon runs (caller frees) */
static char *
status_any(void)
{
	return (sg_status_json(confp));
}

/* status - the running daemon's JSON (NULL while it does not answer) */
static char *
status(void)
{
	return (sg_status_running(confp));
}

static void
wait_caught_up(void)
{
	cr_assert(sg_wait_caught_up(confp, logp, 400), "the daemon did not catch up with the log:\n%s",
	    keep(slurp_path(errp)));
}

static void
wait_running(void)
{
	cr_assert(sg_wait_running(confp), "the daemon never answered:\n%s", keep(slurp_path(errp)));
}

/* wait_file - until path contains needle; 1 when it does */
static int
wait_file(const char *path, const char *needle, long ms)
{
	long t;

	for (t = 0; t < ms; t += 50) {
		if (file_has(path, needle))
			return (1);
		msleep(50);
	}
	return (file_has(path, needle));
}

/* wait_blocked - until status lists identity as blocked; its entry */
static char *
wait_blocked(const char *identity, long ms)
{
	char *js, *b = NULL;
	long t;

	for (t = 0; t <= ms && b == NULL; t += 50) {
		if ((js = status()) != NULL) {
			b = blocked_entry(js, identity);
			free(js);
		}
		if (b == NULL)
			msleep(50);
	}
	return (b);
}

/* Log lines */
static FILE *logfp;

static void
log_open(void)
{
	cr_assert_not_null(logfp = fopen(logp, "a"));
}

static void
log_close(void)
{
	fclose(logfp);
	logfp = NULL;
}

/*
 * msg - an accepted message of login: the smtpd line and the qmgr line
 * (where it counts), and the message in the stand-in queue
 */
static void
msg(time_t t, const char *qid, const char *login)
{
	int own = logfp == NULL;

	/* first in the queue, then in the log, as Postfix does it */
	cr_assert_eq(sg_queue_msg(dir, qid, login, "a@example.com", "192.0.2.10"), 0);
	if (own)
		log_open();
	sg_log_msg(logfp, t, qid, login, "a@example.com");
	if (own)
		log_close();
}

/* forged_line - a line anyone who can write to syslog can write: the queue is not changed */
static void
forged_line(time_t t, const char *daemon, const char *qid, const char *what)
{
	int own = logfp == NULL;

	if (own)
		log_open();
	sg_log_line(logfp, t, daemon, qid, what);
	if (own)
		log_close();
}

/* line - any other line of Postfix's: "removed" (the message leaves the queue), "placed on hold" */
static void
line(time_t t, const char *daemon, const char *qid, const char *what)
{
	forged_line(t, daemon, qid, what);
	if (strcmp(what, "removed") == 0)
		sg_queue_rm(dir, qid);
}

/* The calls the stand-ins recorded (tests/runcmd.h), in this test's calls.log. */
static int
ncalls(const char *name, const char *flag, long from)
{
	return (sg_ncalls(callsp, name, flag, from));
}

static int
wait_ncalls(const char *name, const char *flag, long from, int atleast, long ms)
{
	long t;

	for (t = 0; t < ms && ncalls(name, flag, from) < atleast; t += 50)
		msleep(50);
	return (ncalls(name, flag, from) >= atleast);
}

static char *
stdin_union(const char *name, const char *flag, long from)
{
	return (sg_stdin_union(callsp, name, flag, from));
}

/* call_is - some call of name since offset has exactly the argv given (NULL-terminated) */
static int
call_is(long from, const char *name, ...)
{
	const char *want[16];
	va_list ap;
	int nw = 0;

	va_start(ap, name);
	while (nw < 15 && (want[nw] = va_arg(ap, const char *)) != NULL)
		nw++;
	va_end(ap);
	want[nw] = NULL;
	return (sg_call_is(callsp, from, name, want));
}

static char *
map_entries(const char *path, int *headers)
{
	return (sg_map_entries(path, headers));
}

/* wait_map - until the map's entries are exactly want */
static int
wait_map(const char *want, long ms)
{
	char *m;
	long t;
	int ok = 0;

	for (t = 0; t <= ms && !ok; t += 50) {
		m = map_entries(saslmap, NULL);
		ok = m != NULL && strcmp(m, want) == 0;
		free(m);
		if (!ok)
			msleep(50);
	}
	return (ok);
}

/* rfc3339 - seconds since the epoch of "YYYY-MM-DDTHH:MM:SSZ" */
static time_t
rfc3339(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	cr_assert_not_null(strptime(s, "%Y-%m-%dT%H:%M:%S", &tm), "time %s", s);
	return (timegm(&tm));
}

static time_t
jtime(const char *entry, const char *key)
{
	const char *p = strstr(entry, key);

	cr_assert_not_null(p, "%s in %s", key, entry);
	return (rfc3339(p + strlen(key)));
}

static struct cmdres
sg(const char *cmd, const char *identity, const char *opt)
{
	const char *argv[] = { sg_bin(), cmd, "-c", confp, identity, opt, NULL };

	return (runcmd(argv, NULL));
}

/* alice_scenario - scenario 1's log up to the crossing message A00004 */
static void
alice_scenario(void)
{
	log_open();
	msg(base, "A00001", "alice@example.com");
	msg(base + 1, "A00002", "alice@example.com");
	line(base + 2, "qmgr[50]", "A00001", "removed");
	line(base + 3, "qmgr[50]", "A00002", "removed");
	msg(base + 4, "B00001", "bob@example.com");
	msg(base + 5, "A00003", "alice@example.com");
	msg(base + 6, "B00002", "bob@example.com");
	msg(base + 7, "A00004", "alice@example.com");
	log_close();
}

/* 1: the held queue IDs are exactly the identity's queued ones, then its new ones */
Test(enforce, holds_exactly_queued_and_new_mail_maps_and_reloads)
{
	struct cf c = { .actions = "hold, block, notify" };
	char *u, *m, *e, *js, want[300], *err;
	int headers = -1;
	pid_t pid;

	write_conf(&c);
	alice_scenario();
	pid = start();
	wait_running();
	wait_caught_up();
	cr_assert(wait_ncalls("postsuper", "-h", 0, 1, 5000), "no hold ran:\n%s", keep(slurp_path(errp)));
	msg(base + 8, "A00005", "alice@example.com");	/* new mail while blocked */
	wait_caught_up();
	for (int i = 0; i < 100; i++) {
		u = stdin_union("postsuper", "-h", 0);
		if (strstr(u, "A00005"))
			break;
		free(u);
		u = NULL;
		msleep(50);
	}
	if (u == NULL)
		u = stdin_union("postsuper", "-h", 0);
	cr_expect_str_eq(u, "A00003\nA00004\nA00005\n",
	    "held: only alice's queued (A3, the crossing A4) and new (A5) mail");
	free(u);
	cr_expect(call_is(0, "postsuper", "-c", etcd, "-h", "-", NULL), "postsuper -c DIR -h -");

	snprintf(want, sizeof(want), "alice@example.com %s\n", DEFAULT_REPLY);
	cr_expect(wait_map(want, 5000), "the map holds exactly alice with the default reply: %s",
	    keep(map_entries(saslmap, NULL)));
	m = map_entries(saslmap, &headers);
	cr_expect_eq(headers, 2, "a two-line # header");
	free(m);
	snprintf(want, sizeof(want), "hash:%s", saslmap);
	cr_expect(wait_ncalls("postfix", "reload", 0, 1, 5000), "postfix reload ran");
	cr_expect(call_is(0, "postmap", "-c", etcd, want, NULL), "postmap -c DIR hash:%s", saslmap);
	cr_expect(call_is(0, "postfix", "-c", etcd, "reload", NULL), "postfix -c DIR reload");
	cr_expect(wait_ncalls("sendmail", NULL, 0, 1, 5000), "the postmaster was notified");
	cr_expect(call_is(0, "sendmail", "-C", etcd, "-i", "-f", "<>", "--", "postmaster@example.com",
	    NULL), "sendmail -C DIR -i -f <> -- postmaster@example.com");
	cr_expect_eq(ncalls("sendmail", NULL, 0), 1, "one report per overrun, not per message");
	u = stdin_union("sendmail", "postmaster@example.com", 0);
	cr_expect_not_null(strstr(u, "To: postmaster@example.com\n"), "%s", u);
	cr_expect_not_null(strstr(u, "Auto-Submitted: auto-generated\n"), "%s", u);
	cr_expect_not_null(strstr(u, "sasl:alice@example.com"), "the report names alice: %s", u);
	cr_expect_null(strstr(u, "bob@"), "the report does not name bob: %s", u);
	cr_expect_not_null(strstr(u, "outcomes: hold: ok (exit 0; queue: 2 confirmed, 0 unconfirmed, "
	    "0 gone)"), "the report tells how the hold it reports went: %s", u);
	free(u);

	cr_assert_not_null(js = status());
	e = blocked_entry(js, "sasl:alice@example.com");
	cr_expect_not_null(e, "alice is listed as blocked: %s", js);
	if (e != NULL) {
		cr_expect_not_null(strstr(e, "\"in_map\": true"), "%s", e);
		cr_expect_not_null(strstr(e, "\"rule\": \"s\""), "%s", e);
	}
	cr_expect_null(blocked_entry(js, "sasl:bob@example.com"), "bob is not blocked: %s", js);
	free(e);
	free(js);
	err = slurp_path(errp);
	cr_expect_not_null(strstr(err, "crossed by A00004"), "the log names the crossing message: %s", err);
	free(err);
	stop(pid, SIGTERM);

	/* explain, from the database: the crossing, the holds, the actions and outcomes */
	{
		struct cmdres r = sg("explain", "sasl:alice@example.com", NULL);
		char *h = strstr(r.out, "holds:"), *a = h ? strstr(h, "actions") : NULL;

		cr_expect_eq(r.status, 0, "%s", r.err);
		cr_expect_not_null(strstr(r.out, "crossed by A00004"), "%s", r.out);
		cr_expect(h != NULL && a != NULL, "explain has holds and actions: %s", r.out);
		if (h != NULL && a != NULL) {
			*a = '\0';
			/* A1 and A2, removed in the log, were asked about too: gone */
			cr_expect(strstr(h, "A00003           requested") &&
			    strstr(h, "A00004           requested") &&
			    strstr(h, "A00005           requested") &&
			    strstr(h, "A00001           removed") &&
			    strstr(h, "A00002           removed") && !strstr(h, "B0000"),
			    "explain's holds are A3, A4, A5, and A1, A2 gone: %s", h);
			*a = 'a';
			cr_expect_not_null(strstr(a, "notify"), "explain lists the notify run: %s", a);
			cr_expect_not_null(strstr(a, "ok"), "with its outcome: %s", a);
		}
		cmdres_free(&r);
	}
}

/* 2: fifty blocks in the same second: few reloads, one map with every key */
Test(enforce, burst_of_blocks_is_debounced)
{
	struct cf c = { .blockx = "reply = 554 5.7.1 go away\n" };
	char qid[16], login[64], *want;
	size_t o = 0;
	int i, k, reloads;
	pid_t pid;

	write_conf(&c);
	pid = start();
	wait_running();
	msleep(300);
	want = malloc(50 * 64);
	log_open();
	for (i = 0; i < 50; i++) {
		snprintf(login, sizeof(login), "u%02d@burst.example", i);
		for (k = 0; k < 4; k++) {
			snprintf(qid, sizeof(qid), "C%02X%03X", i, k + 1);
			msg(base + 60, qid, login);
		}
		o += (size_t)snprintf(want + o, 50 * 64 - o, "%s 554 5.7.1 go away\n", login);
	}
	log_close();			/* one write: the whole burst at once */
	wait_caught_up();
	cr_expect(wait_map(want, 10000), "the map has all 50 keys:\n%s",
	    keep(map_entries(saslmap, NULL)));
	msleep(2500);			/* any late reload */
	reloads = ncalls("postfix", "reload", 0);
	cr_expect_geq(reloads, 1, "Postfix was reloaded");
	cr_expect_leq(reloads, 3, "50 blocks in one second caused %d reloads", reloads);
	free(want);
	stop(pid, SIGTERM);
}

/* offender - four messages of login (crossing 3/1h), qids P<n>00001..4 */
static void
offender(const char *login, int n, time_t t, char qids[4][16])
{
	int k;

	for (k = 0; k < 4; k++) {
		snprintf(qids[k], 16, "%c%05X", 'A' + n, k + 1);
		msg(t + k, qids[k], login);
	}
}

/* 4: unblock with --release-held / --delete-held, the daemon running or not */
Test(enforce, unblock_release_and_delete_held)
{
	struct cf c = { 0 };
	char q[3][4][16], want[3][200], *u, *m, *js, *e;
	const char *who[3] = { "alice@example.com", "carol@example.com", "dave@example.com" };
	struct cmdres r;
	long off;
	int i, k;
	pid_t pid;

	write_conf(&c);
	for (i = 0; i < 3; i++) {
		offender(who[i], i, base + 20 * i, q[i]);
		snprintf(want[i], sizeof(want[i]), "%s\n%s\n%s\n%s\n", q[i][0], q[i][1], q[i][2], q[i][3]);
	}
	pid = start();
	wait_running();
	wait_caught_up();
	for (i = 0; i < 3; i++) {
		char id[80];

		snprintf(id, sizeof(id), "sasl:%s", who[i]);
		e = wait_blocked(id, 5000);
		cr_assert_not_null(e, "%s blocked:\n%s", id, keep(slurp_path(errp)));
		free(e);
	}
	cr_assert(wait_ncalls("postsuper", "-h", 0, 1, 5000));
	for (int t = 0; t < 100; t++) {
		u = stdin_union("postsuper", "-h", 0);
		k = strstr(u, q[2][3]) != NULL && strstr(u, q[0][3]) != NULL && strstr(u, q[1][3]) != NULL;
		free(u);
		if (k)
			break;
		msleep(50);
	}
	for (i = 0; i < 3; i++)		/* postsuper confirms the holds */
		for (k = 0; k < 4; k++)
			line(base + 100, "postsuper[77]", q[i][k], "placed on hold");
	wait_caught_up();
	cr_assert(wait_map("alice@example.com " DEFAULT_REPLY "\ncarol@example.com " DEFAULT_REPLY
	    "\ndave@example.com " DEFAULT_REPLY "\n", 5000), "all three mapped");

	/* release alice's held mail, then delete carol's */
	for (i = 0; i < 2; i++) {
		static const char *const flag[] = { "-H", "-d" };

		off = file_size(callsp);
		r = sg("unblock", i == 0 ? "sasl:alice@example.com" : "sasl:carol@example.com",
		    i == 0 ? "--release-held" : "--delete-held");
		cr_expect_eq(r.status, 0, "unblock: %s%s", r.out, r.err);
		cmdres_free(&r);
		cr_expect(wait_ncalls("postsuper", flag[i], off, 1, 5000), "postsuper %s ran", flag[i]);
		u = stdin_union("postsuper", flag[i], off);
		cr_expect_str_eq(u, want[i], "%s exactly %s's held mail", i == 0 ? "released" :
		    "deleted", i == 0 ? "alice" : "carol");
		free(u);
		cr_expect(call_is(off, "postsuper", "-c", etcd, flag[i], "-", NULL),
		    "postsuper -c DIR %s -", flag[i]);
		if (i == 0)
			cr_expect_eq(ncalls("postsuper", "-d", 0), 0, "nothing deleted");
	}
	cr_expect(wait_map("dave@example.com " DEFAULT_REPLY "\n", 5000), "alice and carol left the map: %s",
	    keep(map_entries(saslmap, NULL)));
	cr_assert_not_null(js = status());
	cr_expect_null(blocked_entry(js, "sasl:alice@example.com"), "alice no longer blocked: %s", js);
	cr_expect_null(blocked_entry(js, "sasl:carol@example.com"), "carol no longer blocked: %s", js);
	cr_expect_not_null(e = blocked_entry(js, "sasl:dave@example.com"), "dave still blocked: %s", js);
	free(e);
	free(js);
	stop(pid, SIGTERM);

	/* no daemon: the command changes the database and runs the programs itself */
	off = file_size(callsp);
	r = sg("unblock", "sasl:dave@example.com", "--release-held");
	cr_expect_eq(r.status, 0, "unblock without a daemon: %s%s", r.out, r.err);
	cmdres_free(&r);
	u = stdin_union("postsuper", "-H", off);
	cr_expect_str_eq(u, want[2], "released exactly dave's held mail");
	free(u);
	snprintf(want[0], sizeof(want[0]), "hash:%s", saslmap);
	cr_expect(call_is(off, "postmap", "-c", etcd, want[0], NULL), "the map was rebuilt");
	m = map_entries(saslmap, NULL);
	cr_expect(m != NULL && strstr(m, "dave@") == NULL, "dave left the map: %s", m ? m : "(no map)");
	free(m);
	cr_assert_not_null(js = status_any());
	cr_expect_null(blocked_entry(js, "sasl:dave@example.com"), "dave no longer blocked: %s", js);
	free(js);
}

/* 5: a block expires on time; a repeat offender is blocked factor times longer */
Test(enforce, expiry_and_repeat_offender)
{
	struct cf c = { .messages = "3/1m", .block_time = "2s", .factor = "3" };
	char q[4][16], *e, *err, *l;
	int seen = 0, t;
	pid_t pid;

	write_conf(&c);
	offender("alice@example.com", 0, base, q);
	pid = start();
	wait_running();
	cr_assert_not_null(e = wait_blocked("sasl:alice@example.com", 5000), "%s", keep(slurp_path(errp)));
	cr_expect_eq(jtime(e, "\"until\": \"") - jtime(e, "\"since\": \""), 2, "first block: 2 s: %s", e);
	cr_expect_not_null(strstr(e, "\"times\": 1"), "%s", e);
	free(e);
	for (t = 0; t < 80 && !seen; t++) {	/* the map holds alice during the block */
		seen = file_has(saslmap, "alice@example.com ");
		if (!seen)
			msleep(25);
	}
	cr_expect(seen, "alice was in the map during her block");
	cr_expect(wait_file(errp, "expired", 6000), "the log says the block expired");
	err = slurp_path(errp);
	l = strstr(err, "block of sasl:alice@example.com expired");
	cr_expect_not_null(l, "%s", err);
	free(err);
	cr_expect(wait_map("", 4000), "the map was rewritten without alice: %s",
	    keep(map_entries(saslmap, NULL)));
	e = status();
	cr_assert_not_null(e);
	cr_expect_null(blocked_entry(e, "sasl:alice@example.com"), "not blocked after expiry: %s", e);
	free(e);

	offender("alice@example.com", 1, base + 300, q);	/* 5 minutes later in log time */
	cr_assert_not_null(e = wait_blocked("sasl:alice@example.com", 5000), "%s", keep(slurp_path(errp)));
	cr_expect_eq(jtime(e, "\"until\": \"") - jtime(e, "\"since\": \""), 6, "second block: 2 s * 3: %s", e);
	cr_expect_not_null(strstr(e, "\"times\": 2"), "%s", e);
	free(e);
	stop(pid, SIGTERM);
}

/* 7: killed between recording the block and finishing postmap: done at restart */
Test(enforce, restart_reruns_pending_postmap)
{
	struct cf c = { 0 };
	char want[300];
	long off;
	pid_t pid;

	write_conf(&c);
	pid = start();
	wait_running();
	msleep(1500);			/* whatever the start does with an empty store */
	touch("hang-postmap");
	off = file_size(callsp);
	alice_scenario();
	cr_assert(wait_ncalls("postmap", NULL, off, 1, 5000), "postmap started:\n%s", keep(slurp_path(errp)));
	stop(pid, SIGKILL);
	unflag("hang-postmap");
	msleep(300);			/* the orphaned stand-in ends */
	off = file_size(callsp);
	pid = start();
	wait_running();
	snprintf(want, sizeof(want), "hash:%s", saslmap);
	cr_expect(wait_ncalls("postmap", want, off, 1, 5000), "postmap ran after the restart:\n%s",
	    keep(slurp_path(callsp)));
	cr_expect(wait_ncalls("postfix", "reload", off, 1, 5000), "postfix reload ran after the restart");
	snprintf(want, sizeof(want), "alice@example.com %s\n", DEFAULT_REPLY);
	cr_expect(wait_map(want, 3000), "the map holds alice: %s",
	    keep(map_entries(saslmap, NULL)));
	stop(pid, SIGTERM);
}

/* failing_hold - status's failing_actions entry for alice's hold, or NULL */
static char *
failing_hold(void)
{
	char *js = status(), *sec, *p, *e, *r = NULL;

	if (js == NULL)
		return (NULL);
	sec = sg_section(js, "\"failing_actions\": [");
	if ((p = strstr(sec, "\"action\": \"hold\"")) != NULL) {
		while (p > sec && *p != '{')
			p--;
		if ((e = strchr(p, '}')) != NULL)
			r = strndup(p, (size_t)(e - p + 1));
	}
	free(sec);
	free(js);
	return (r);
}

static int
no_failing(void)
{
	char *js = status();
	int ok = js != NULL && strstr(js, "\"failing_actions\": []") != NULL;

	free(js);
	return (ok);
}

/* 8: a failing postsuper is reported and retried; the log is followed meanwhile */
Test(enforce, failing_postsuper_retried)
{
	struct cf c = { 0 };
	char *f = NULL, *js, *u;
	int t;
	pid_t pid;

	write_conf(&c);
	touch("fail-postsuper");
	pid = start();
	wait_running();
	alice_scenario();
	for (t = 0; t < 100 && (f == NULL || strstr(f, "refuses") == NULL); t++) {
		free(f);
		if ((f = failing_hold()) == NULL || strstr(f, "refuses") == NULL)
			msleep(50);
	}
	cr_assert_not_null(f, "failing_actions lists the hold:\n%s", keep(slurp_path(errp)));
	cr_expect_not_null(strstr(f, "\"identity\": \"sasl:alice@example.com\""), "%s", f);
	cr_expect_not_null(strstr(f, "stand-in postsuper refuses: fail flag set"),
	    "the outcome has the program's stderr: %s", f);
	cr_expect(jnum(f, "\"attempts\": ") >= 1, "%s", f);
	free(f);
	cr_expect(file_has(errp, "stand-in postsuper refuses"), "the daemon logs the stderr");

	msg(base + 30, "E00001", "erin@example.com");		/* still following the log */
	msg(base + 31, "E00002", "erin@example.com");
	wait_caught_up();
	cr_assert_not_null(js = status());
	cr_expect_not_null(strstr(js, "\"identity\": \"sasl:erin@example.com\", \"rule\": \"s\", "
	    "\"limit\": \"messages\", \"window\": \"1h\", \"count\": 2"), "erin counted: %s", js);
	free(js);

	unflag("fail-postsuper");
	for (t = 0; t < 400 && !no_failing(); t++)
		msleep(50);
	cr_expect(no_failing(), "the retried hold succeeded within 20 s:\n%s", keep(slurp_path(errp)));
	cr_expect_geq(ncalls("postsuper", "-h", 0), 2, "postsuper was run again");
	u = stdin_union("postsuper", "-h", 0);
	cr_expect_str_eq(u, "A00003\nA00004\n", "the retry holds the same mail");
	free(u);
	stop(pid, SIGTERM);
}

/* 8b: a hanging postsuper is killed at action_timeout and reported */
Test(enforce, hanging_postsuper_times_out)
{
	struct cf c = { .agent = "action_timeout = 1s\n" };
	char *f = NULL;
	int t;
	pid_t pid;

	write_conf(&c);
	pid = start();
	wait_running();
	msleep(300);
	touch("hang-postsuper");
	alice_scenario();
	for (t = 0; t < 160 && (f == NULL || strstr(f, "timed out") == NULL); t++) {
		free(f);
		if ((f = failing_hold()) == NULL || strstr(f, "timed out") == NULL)
			msleep(50);
	}
	cr_expect(f != NULL && strstr(f, "timed out") != NULL,
	    "the hold is listed as timed out: %s\n%s", f ? f : "(none)", keep(slurp_path(errp)));
	free(f);
	unflag("hang-postsuper");
	for (t = 0; t < 400 && !no_failing(); t++)
		msleep(50);
	cr_expect(no_failing(), "the retried hold succeeded:\n%s", keep(slurp_path(errp)));
	stop(pid, SIGTERM);
}

/* 7b: stopped (SIGTERM) while postsuper runs: a clean, quick stop, and the hold is run at the restart */
Test(enforce, sigterm_during_hold_reruns_it_at_restart)
{
	struct cf c = { 0 };
	struct timespec t0, t1;
	char *u;
	long off;
	pid_t pid;

	write_conf(&c);
	pid = start();
	wait_running();
	msleep(300);
	touch("hang-postsuper");
	alice_scenario();
	cr_assert(wait_ncalls("postsuper", "-h", 0, 1, 5000), "postsuper started:\n%s",
	    keep(slurp_path(errp)));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	stop(pid, SIGTERM);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_expect_lt(t1.tv_sec - t0.tv_sec, 10, "SIGTERM took %ld s with a program running",
	    (long)(t1.tv_sec - t0.tv_sec));
	unflag("hang-postsuper");
	msleep(300);
	off = file_size(callsp);
	pid = start();
	wait_running();
	cr_expect(wait_ncalls("postsuper", "-h", off, 1, 5000), "the pending hold ran after the restart:\n%s",
	    keep(slurp_path(errp)));
	u = stdin_union("postsuper", "-h", off);
	cr_expect_str_eq(u, "A00003\nA00004\n", "the same mail is held");
	free(u);
	stop(pid, SIGTERM);
}

/* msgs_from - n messages of login from t on, queue IDs PREFIX0001.. */
static void
msgs_from(const char *login, const char *prefix, int first, int n, time_t t)
{
	char qid[16];
	int k;

	log_open();
	for (k = 0; k < n; k++) {
		snprintf(qid, sizeof(qid), "%s%04X", prefix, first + k);
		msg(t + k, qid, login);
	}
	log_close();
}

/* not_blocked - status lists no block of identity */
static int
not_blocked(const char *identity)
{
	char *js = status(), *e;
	int ok;

	cr_assert_not_null(js);
	e = blocked_entry(js, identity);
	ok = e == NULL;
	free(e);
	free(js);
	return (ok);
}

/*
 * 12: unblocking re-arms the limit (issue 8, defect 1): 3/10m, alice goes
 * over and is blocked; unblocked, three new messages pass and the fourth
 * blocks her again.  Before the fix her count never fell back below the
 * threshold, so nothing fired again.
 */
Test(enforce, unblock_rearms_the_limit)
{
	struct cf c = { .messages = "3/10m" };
	struct cmdres r;
	char *e;
	pid_t pid;

	write_conf(&c);
	msgs_from("alice@example.com", "A0", 1, 4, base);
	pid = start();
	wait_running();
	cr_assert_not_null(e = wait_blocked("sasl:alice@example.com", 5000), "%s",
	    keep(slurp_path(errp)));
	free(e);
	r = sg("unblock", "sasl:alice@example.com", "--release-held");
	cr_expect_eq(r.status, 0, "unblock: %s%s", r.out, r.err);
	cr_expect_not_null(strstr(r.out, "count afresh"), "unblock says the limits re-arm: %s", r.out);
	cmdres_free(&r);
	msgs_from("alice@example.com", "A0", 5, 3, base + 60);
	wait_caught_up();
	cr_expect(not_blocked("sasl:alice@example.com"), "three new messages pass");
	msgs_from("alice@example.com", "A0", 8, 1, base + 70);
	cr_assert_not_null(e = wait_blocked("sasl:alice@example.com", 5000),
	    "the fourth new message blocks her again:\n%s", keep(slurp_path(errp)));
	cr_expect_not_null(strstr(e, "\"times\": 2"), "%s", e);
	free(e);
	cr_expect(wait_file(errp, "crossed by A00008", 2000), "the fourth new one crossed: %s",
	    keep(slurp_path(errp)));
	stop(pid, SIGTERM);
}

/* 13: a block that expires re-arms the limit too (3/1h, block_time 2s) */
Test(enforce, expiry_rearms_the_limit)
{
	struct cf c = { .messages = "3/1h", .block_time = "2s", .factor = "1" };
	time_t now = time(NULL);
	char *e;
	pid_t pid;

	write_conf(&c);
	msgs_from("alice@example.com", "A0", 1, 4, now - 10);
	pid = start();
	wait_running();
	cr_assert_not_null(e = wait_blocked("sasl:alice@example.com", 5000), "%s",
	    keep(slurp_path(errp)));
	free(e);
	cr_expect(wait_file(errp, "expired", 6000), "the block expired");
	msleep(500);
	now = time(NULL);
	msgs_from("alice@example.com", "A0", 5, 3, now - 3);
	wait_caught_up();
	cr_expect(not_blocked("sasl:alice@example.com"), "three new messages pass after the expiry");
	msgs_from("alice@example.com", "A0", 8, 1, now);
	cr_assert_not_null(e = wait_blocked("sasl:alice@example.com", 5000),
	    "the fourth new message after the expiry blocks her again:\n%s", keep(slurp_path(errp)));
	free(e);
	stop(pid, SIGTERM);
}

/* say - the stand-in name will print text on its standard error */
static void
say_flag(const char *name, const char *text)
{
	char p[200];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/say-%s", dir, name);
	cr_assert_not_null(fp = fopen(p, "w"));
	fputs(text, fp);
	fclose(fp);
}

/* call_order - the names of the calls since offset, space-separated (caller frees) */
static char *
call_order(long from)
{
	return (sg_call_order(callsp, from));
}

/*
 * 14: the actions of one overrun run in the rule's order, each after the
 * one before has run (issue 8, defect 5): while postsuper hangs nothing
 * else starts; then the map (postmap, reload), then the notice, then exec.
 */
Test(enforce, actions_run_in_order)
{
	struct cf c = { .actions = "hold, block, notify, exec" };
	char q[4][16], *order;
	pid_t pid;

	write_conf(&c);
	touch("hang-postsuper");
	offender("alice@example.com", 0, base, q);
	pid = start();
	wait_running();
	cr_assert(wait_ncalls("postsuper", "-h", 0, 1, 5000), "the hold started:\n%s",
	    keep(slurp_path(errp)));
	msleep(2000);		/* well past the map's debounce */
	order = call_order(0);
	cr_expect_str_eq(order, "postsuper", "nothing starts while the hold runs: %s", order);
	free(order);
	unflag("hang-postsuper");
	cr_assert(wait_ncalls("exec", NULL, 0, 1, 8000), "exec ran in the end:\n%s",
	    keep(slurp_path(errp)));
	order = call_order(0);
	cr_expect_str_eq(order, "postsuper postmap postmap postfix sendmail exec",
	    "hold, then the map in force, then notify, then exec: %s", order);
	free(order);
	stop(pid, SIGTERM);
}

/*
 * 15: block by hand tells what postsuper counted, not the queue IDs it
 * was given (issue 8, defect 4), through the daemon and without one
 */
Test(enforce, block_reports_postsuper_count)
{
	struct cf c = { .messages = "100/1h" };
	struct cmdres r;
	pid_t pid;

	write_conf(&c);
	msgs_from("carol@example.com", "C0", 1, 2, base);
	say_flag("postsuper", "postsuper: Placed on hold: 0 messages\n");
	pid = start();
	wait_running();
	wait_caught_up();
	r = sg("block", "sasl:carol@example.com", NULL);
	cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_expect_not_null(strstr(r.out, "hold: 2 queued messages sent to postsuper -h"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "hold: ok: exit 0: postsuper: Placed on hold: 0 messages"),
	    "the count postsuper gave: %s", r.out);
	cr_expect_null(strstr(r.out, "put on hold"), "no claim of its own: %s", r.out);
	cr_expect_not_null(strstr(r.out, "map: ok: in force"), "the map is in force when it answers: %s",
	    r.out);
	cr_expect(file_has(saslmap, "carol@example.com "), "carol is in the map when block returns");
	cmdres_free(&r);
	stop(pid, SIGTERM);

	msgs_from("dave@example.com", "D0", 1, 3, base + 10);
	say_flag("postsuper", "postsuper: Placed on hold: 3 messages\n");
	r = sg("block", "sasl:dave@example.com", NULL);		/* no daemon */
	cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_expect_not_null(strstr(r.out, "hold: 0 queued messages sent to postsuper -h"),
	    "no daemon read dave's lines: %s", r.out);
	cmdres_free(&r);
	say_flag("postsuper", "postsuper: Released from hold: 2 messages\n");
	r = sg("unblock", "sasl:carol@example.com", "--release-held");
	cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_expect_not_null(strstr(r.out, "2 held messages sent to postsuper -H"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "release: ok: exit 0: postsuper: Released from hold: 2 messages"), "%s", r.out);
	cmdres_free(&r);
}

/*
 * 16: mail still on hold after its block ended is listed (issue 8,
 * defect 3) with how many, since when, and how to release or delete it
 */
Test(enforce, held_mail_listed_after_the_block_ends)
{
	struct cf c = { .messages = "3/1h", .block_time = "2s" };
	const char *text[] = { sg_bin(), "status", "-c", confp, NULL };
	char q[4][16], *js, *sec;
	struct cmdres r;
	int k;
	pid_t pid;

	write_conf(&c);
	offender("alice@example.com", 0, base, q);
	for (k = 0; k < 4; k++)
		line(base + 10, "postsuper[77]", q[k], "placed on hold");
	pid = start();
	wait_running();
	cr_assert(wait_file(errp, "expired", 8000), "the block expired:\n%s", keep(slurp_path(errp)));
	wait_caught_up();
	cr_assert_not_null(js = status());
	sec = sg_section(js, "\"on_hold\": [");
	cr_expect_not_null(strstr(sec, "{\"identity\": \"sasl:alice@example.com\", \"held\": 4, "
	    "\"since\": \""), "alice's 4 held messages are listed: %s", js);
	cr_expect_not_null(strstr(sec, "\"block_ended\": \"2"), "with when her block ended: %s", sec);
	if (strstr(sec, "\"block_ended\": \"2") != NULL)
		cr_expect_geq(jtime(sec, "\"block_ended\": \""), jtime(sec, "\"since\": \""),
		    "the block ended after her mail was held (wall clock): %s", sec);
	cr_expect_null(blocked_entry(js, "sasl:alice@example.com"), "not blocked any more: %s", js);
	free(sec);
	free(js);
	r = runcmd(text, NULL);
	cr_expect_not_null(strstr(r.out, "ON HOLD"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "sendguard unblock sasl:alice@example.com --release-held"),
	    "the text says how to release: %s", r.out);
	cmdres_free(&r);
	r = sg("unblock", "sasl:alice@example.com", "--release-held");
	cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
	cmdres_free(&r);
	cr_assert_not_null(js = status());
	sec = sg_section(js, "\"on_hold\": [");
	cr_expect_null(strstr(sec, "alice"), "released: no longer listed: %s", js);
	free(sec);
	free(js);
	stop(pid, SIGTERM);
}

/*
 * 17: a half-finished edit does not lock the administrator out (issue 8,
 * defect 2): status, block, unblock and explain warn and go on; run and
 * check-config refuse the file
 */
Test(enforce, broken_config_does_not_lock_out)
{
	struct cf c = { 0 };
	const char *st[] = { sg_bin(), "status", "--json", "-c", confp, NULL };
	const char *cc[] = { sg_bin(), "check-config", "-c", confp, NULL };
	struct cmdres r;
	FILE *fp;
	pid_t pid;

	write_conf(&c);
	msgs_from("erin@example.com", "E0", 1, 2, base);
	pid = start();
	wait_running();
	wait_caught_up();
	cr_assert_not_null(fp = fopen(confp, "a"));
	fputs("[limit half]\nby = sasl\nmessages = 10 minutes\n", fp);
	fclose(fp);
	r = runcmd(st, NULL);
	cr_expect_eq(r.status, 0, "status works with a broken file: %s", r.err);
	cr_expect_not_null(strstr(r.out, "\"running\": true"), "%s", r.out);
	cr_expect_not_null(strstr(r.err, "agent.conf:"), "it says where the error is: %s", r.err);
	cr_expect_not_null(strstr(r.err, "warning"), "%s", r.err);
	cmdres_free(&r);
	r = sg("block", "sasl:erin@example.com", NULL);
	cr_expect_eq(r.status, 0, "block works: %s%s", r.out, r.err);
	cmdres_free(&r);
	r = sg("explain", "sasl:erin@example.com", NULL);
	cr_expect_eq(r.status, 0, "explain works: %s%s", r.out, r.err);
	cr_expect_not_null(strstr(r.out, "state: blocked"), "%s", r.out);
	cmdres_free(&r);
	r = sg("unblock", "sasl:erin@example.com", NULL);
	cr_expect_eq(r.status, 0, "unblock works: %s%s", r.out, r.err);
	cmdres_free(&r);
	r = runcmd(cc, NULL);
	cr_expect_eq(r.status, 2, "check-config refuses it: %s%s", r.out, r.err);
	cmdres_free(&r);
	stop(pid, SIGTERM);
	r = sg("explain", "sasl:erin@example.com", NULL);	/* no daemon: the database */
	cr_expect_eq(r.status, 0, "explain without a daemon: %s%s", r.out, r.err);
	cmdres_free(&r);
	{
		const char *run[] = { sg_bin(), "run", "-f", "-c", confp, NULL };

		r = runcmd(run, NULL);
		cr_expect_eq(r.status, 2, "run refuses a broken file: %s", r.err);
		cmdres_free(&r);
	}
}


/*
 * 19: one cap on identities (issue 9): a login of 1024 bytes (the longest)
 * is counted, blocked and can be unblocked by hand through the daemon; a
 * line with a longer login is unparsed, never a shortened identity.
 */
Test(enforce, longest_login_round_trip)
{
	struct cf c = { 0 };
	char login[1100], longer[1100], id[1200], *e, *js;
	struct cmdres r;
	pid_t pid;

	memset(login, 'l', 1011);
	snprintf(login + 1011, sizeof(login) - 1011, "@x.example");	/* 1021 bytes */
	memset(login + 1021, 'z', 3);
	login[1024] = '\0';
	memset(longer, 'm', 1015);
	snprintf(longer + 1015, sizeof(longer) - 1015, "@y.example");	/* 1025 bytes */
	cr_assert_eq(strlen(login), 1024);
	cr_assert_eq(strlen(longer), 1025);
	write_conf(&c);
	msgs_from(longer, "B0", 1, 4, base);
	msgs_from(login, "A0", 1, 4, base + 10);
	pid = start();
	wait_running();
	snprintf(id, sizeof(id), "sasl:%s", login);
	cr_assert_not_null(e = wait_blocked(id, 5000), "the 1024-byte login is blocked:\n%s",
	    keep(slurp_path(errp)));
	free(e);
	cr_assert_not_null(js = status());
	cr_expect_null(strstr(js, "mmmmmmmmmm"), "the 1025-byte login is not an identity: %s", js);
	free(js);
	r = sg("unblock", id, NULL);
	cr_expect_eq(r.status, 0, "unblock takes the longest login: %s%s", r.out, r.err);
	cr_expect_not_null(strstr(r.out, "unblocked"), "%s", r.out);
	cmdres_free(&r);
	snprintf(id, sizeof(id), "sasl:%s", longer);
	r = sg("block", id, NULL);
	cr_expect_eq(r.status, 2, "a longer one is refused as typed: %s%s", r.out, r.err);
	cmdres_free(&r);
	stop(pid, SIGTERM);
}

/*
 * 12 (issue 11): forged log lines claim bob's queued message for mallory
 * and call one of mallory's own queued messages removed; the daemon asks
 * the queue: bob's message is not held, mallory's "removed" one is.  Then
 * mallory's D00003 leaves the queue unseen and Postfix reuses its ID for
 * a message of bob's: `unblock --delete-held` deletes only what the queue
 * still shows as mallory's.
 */
Test(enforce, forged_lines_hold_and_delete_nothing_of_others)
{
	struct cf c = { 0 };
	char *u, *e, *js;
	struct cmdres r;
	long off;
	int t, ok = 0;
	pid_t pid;

	write_conf(&c);
	log_open();
	msg(base, "B00001", "bob@example.com");
	msg(base + 1, "D00001", "mallory@example.com");
	msg(base + 2, "D00002", "mallory@example.com");
	msg(base + 3, "D00003", "mallory@example.com");
	forged_line(base + 4, "qmgr[50]", "D00002", "removed");	/* still queued */
	forged_line(base + 5, "qmgr[50]", "B00001", "removed");	/* bob's, still queued */
	sg_log_msg(logfp, base + 6, "B00001", "mallory@example.com", "a@example.com");	/* forged */
	log_close();
	pid = start();
	wait_running();
	wait_caught_up();
	cr_assert_not_null(e = wait_blocked("sasl:mallory@example.com", 5000), "mallory blocked:\n%s",
	    keep(slurp_path(errp)));
	free(e);
	for (t = 0; t < 200 && !ok; t++) {	/* the hold, then the recheck of D00002 */
		u = stdin_union("postsuper", "-h", 0);
		ok = strcmp(u, "D00001\nD00002\nD00003\n") == 0;
		free(u);
		if (!ok)
			msleep(50);
	}
	u = stdin_union("postsuper", "-h", 0);
	cr_expect_str_eq(u, "D00001\nD00002\nD00003\n",
	    "held: mallory's queued mail, D00002 too (its 'removed' was forged), not bob's B00001");
	free(u);
	cr_expect_geq(sg_postcat_asks(dir, "B00001"), 1, "the queue was asked about B00001");
	cr_expect(wait_file(errp, "queue ID B00001 not confirmed by the queue", 5000),
	    "the log says B00001 was left alone:\n%s", keep(slurp_path(errp)));
	cr_assert_not_null(js = status());
	e = blocked_entry(js, "sasl:mallory@example.com");
	cr_expect(e != NULL && strstr(e, "\"unconfirmed\": 1,") != NULL, "status counts B00001: %s",
	    js);
	free(e);
	free(js);

	/* D00003 left the queue unseen; its ID now names a message of bob's */
	cr_assert_eq(sg_queue_msg(dir, "D00003", "bob@example.com", "b@example.com", "192.0.2.20"), 0);
	off = file_size(callsp);
	r = sg("unblock", "sasl:mallory@example.com", "--delete-held");
	cr_expect_eq(r.status, 0, "unblock: %s%s", r.out, r.err);
	cmdres_free(&r);
	cr_expect(wait_ncalls("postsuper", "-d", off, 1, 5000), "postsuper -d ran");
	u = stdin_union("postsuper", "-d", off);
	cr_expect_str_eq(u, "D00001\nD00002\n", "deleted: only what the queue shows as mallory's");
	free(u);
	stop(pid, SIGTERM);
	r = sg("explain", "sasl:mallory@example.com", NULL);
	cr_expect_not_null(strstr(r.out, "unconfirmed: 2 "), "explain: B00001 and D00003: %s", r.out);
	cmdres_free(&r);
}

/*
 * 13 (issue 11): a central log where another host and another Postfix
 * instance logged the same login: only this Postfix's queue IDs are held,
 * and postcat is not even asked about the others
 */
Test(enforce, other_hosts_and_instances_are_not_held_here)
{
	struct cf c = { 0 };
	char *u, *e, tb[64];
	int t, ok = 0;
	pid_t pid;

	write_conf(&c);
	log_open();
	msg(base, "A00001", "alice@example.com");
	cr_assert_eq(sg_queue_msg(dir, "C00001", "alice@example.com", "a@example.com", "192.0.2.10"),
	    0);			/* the same ID exists here too: still another host's message */
	sg_stamp(tb, sizeof(tb), base + 1);
	fprintf(logfp, "%s mx2 postfix/submission/smtpd[9]: C00001: client=h.example.net[192.0.2.10], "
	    "sasl_method=PLAIN, sasl_username=alice@example.com\n", tb);
	fprintf(logfp, "%s mx2 postfix/qmgr[9]: C00001: from=<a@example.com>, size=1, nrcpt=1 "
	    "(queue active)\n", tb);
	fprintf(logfp, "%s mx postfix-out/submission/smtpd[9]: C00002: client=h.example.net"
	    "[192.0.2.10], sasl_method=PLAIN, sasl_username=alice@example.com\n", tb);
	fprintf(logfp, "%s mx postfix-out/qmgr[9]: C00002: from=<a@example.com>, size=1, nrcpt=1 "
	    "(queue active)\n", tb);
	msg(base + 2, "A00002", "alice@example.com");
	log_close();
	pid = start();
	wait_running();
	wait_caught_up();
	cr_assert_not_null(e = wait_blocked("sasl:alice@example.com", 5000), "%s",
	    keep(slurp_path(errp)));
	free(e);
	for (t = 0; t < 100 && !ok; t++) {
		u = stdin_union("postsuper", "-h", 0);
		ok = strcmp(u, "A00001\nA00002\n") == 0;
		free(u);
		if (!ok)
			msleep(50);
	}
	cr_expect(ok, "held only this Postfix's A00001 and A00002: %s",
	    keep(stdin_union("postsuper", "-h", 0)));
	cr_expect_eq(sg_postcat_asks(dir, "C00001") + sg_postcat_asks(dir, "C00002"), 0,
	    "the other host's and instance's queue IDs are never asked about");
	cr_expect(wait_file(errp, "2 queue IDs logged by another host or Postfix instance", 5000),
	    "the log says so:\n%s", keep(slurp_path(errp)));
	stop(pid, SIGTERM);
}
