/*
 * test_hardening - the real daemon ($SG_BIN) against what issue 11 found
 * a local user, a second administrator or a bad disk can do: a second
 * daemon on the same state database, block/unblock behind a daemon's
 * back, state files others can read, a symbolic link or an empty or
 * foreign file where the database should be, a state directory others
 * can write, a write lock held by another process for longer than the
 * busy timeout, and the control socket's clients (a peer of another uid,
 * a client that sends nothing, too many clients at once).  Each test
 * starts the binary and judges what an administrator would see: its
 * exit code, its message, the files' modes, the status it answers.
 * Tests that would hang against a daemon without the check wait with a
 * time limit and kill it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "tests/queue.h"
#include "tests/runcmd.h"

static char dir[64], logp[128], confp[128], errp[128], statep[160], sockp[160];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sg-hard-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(logp, sizeof(logp), "%s/mail.log", dir);
	snprintf(confp, sizeof(confp), "%s/agent.conf", dir);
	snprintf(errp, sizeof(errp), "%s/daemon.err", dir);
	snprintf(statep, sizeof(statep), "%s/state.db", dir);
	snprintf(sockp, sizeof(sockp), "%s/ctl.sock", dir);
	setenv("TZ", "UTC", 1);
}

static void
teardown(void)
{
	sg_rm_tmpdir(dir);
}

TestSuite(hardening, .init = setup, .fini = teardown);

/* conf_at - an agent.conf at path: this test's log, the given state and socket, a limit */
static void
conf_at(const char *path, const char *state, const char *sock, const char *extra)
{
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp);
	fprintf(fp, "[agent]\nlog = %s\nstate = %s\nsocket = %s\nstart_at = beginning\n"
	    "retention = 30d\npostfix_config_dir = %s/etc\npostsuper = %s/bin/postsuper\n"
	    "postmap = %s/bin/postmap\npostfix = %s/bin/postfix\nsendmail = %s/bin/sendmail\n"
	    "postcat = %s/bin/postcat\n%s[limit s]\nby = sasl\nmessages = 200/30d\nactions = hold\n"
	    "[action block]\nsasl_map = %s/etc/sasl_access\nsender_map = %s/etc/sender_access\n",
	    logp, state, sock, dir, dir, dir, dir, dir, dir, extra, dir, dir);
	fclose(fp);
}

/* copy_sample - samples/incident.log as the log (carol sends 130 messages) */
static void
copy_sample(void)
{
	char sample[300];
	const char *argv[] = { "/bin/cp", sample, logp, NULL };
	struct cmdres r;

	snprintf(sample, sizeof(sample), "%s/samples/incident.log",
	    getenv("SG_SRCDIR") ? getenv("SG_SRCDIR") : ".");
	r = runcmd(argv, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cmdres_free(&r);
}

static const char carol130[] = "{\"identity\": \"sasl:carol@example.com\", \"rule\": \"s\", "
	"\"limit\": \"messages\", \"window\": \"30d\", \"count\": 130, \"threshold\": 200}";

/* start - `run -f -c conf`, its stderr appended to errp */
static pid_t
start(const char *conf)
{
	pid_t pid = sg_spawn_daemon(conf, errp);

	cr_assert_gt(pid, 0);
	return (pid);
}

/*
 * wait_exit - the exit status of pid within ms milliseconds; -1 when it
 * is still running then (it is killed: a daemon that should have stopped)
 */
static int
wait_exit(pid_t pid, long ms)
{
	int st;
	long waited;

	for (waited = 0; waited < ms; waited += 25) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return (WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		sg_msleep(25);
	}
	(void)sg_kill_wait(pid, SIGKILL);
	return (-1);
}

/* err_text - what the daemons wrote on stderr so far (caller frees) */
static char *
err_text(void)
{
	char *e = sg_slurp_path(errp);

	return (e != NULL ? e : strdup(""));
}

/* mode_of - permission bits of path (not following a link), -1 when missing */
static int
mode_of(const char *path)
{
	struct stat st;

	return (lstat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1);
}

/* stop - SIGTERM and a clean exit */
static void
stop(pid_t pid)
{
	int st = sg_kill_wait(pid, SIGTERM);

	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "clean stop, status %d", st);
}

/* ------------------------------------------------ one daemon per state */

/* two_confs - confp, and conf2 (160 bytes) on the same state with another socket, sock2 */
static void
two_confs(char *conf2, char *sock2)
{
	conf_at(confp, statep, sockp, "");
	snprintf(conf2, 160, "%s/other.conf", dir);
	snprintf(sock2, 160, "%s/other.sock", dir);
	conf_at(conf2, statep, sock2, "");
}

/*
 * A second daemon on the same state database, given another socket, stops
 * at once with exit 3 naming the first one's pid; the first goes on
 * counting alone.  After the first is killed -9 (no clean exit), the
 * kernel has let go of its lock and a daemon starts again.
 */
Test(hardening, one_daemon_per_state_database)
{
	char conf2[160], sock2[160], want[160], *e, *js;
	pid_t a, b;
	int rc;

	copy_sample();
	two_confs(conf2, sock2);
	a = start(confp);
	cr_assert(sg_wait_running(confp), "the first daemon never answered");
	cr_assert(sg_wait_caught_up(confp, logp, 1200));
	b = start(conf2);
	rc = wait_exit(b, 10000);
	e = err_text();
	cr_expect_eq(rc, 3, "the second daemon exits 3, not %d:\n%s", rc, e);
	snprintf(want, sizeof(want), "another sendguard (pid %d) is running on this state database",
	    (int)a);
	cr_expect_not_null(strstr(e, want), "it names the first one's pid:\n%s", e);
	free(e);
	cr_expect(access(sockp, F_OK) == 0, "the first one's socket is left alone");
	cr_assert_not_null(js = sg_status_running(confp), "the first one still answers");
	cr_expect_not_null(strstr(js, carol130), "every message counted once: %s", js);
	free(js);
	(void)sg_kill_wait(a, SIGKILL);
	b = start(conf2);
	cr_expect(sg_wait_running(conf2), "after a crash the lock is free:\n%s", err_text());
	cr_assert_not_null(js = sg_status_running(conf2));
	cr_expect_not_null(strstr(js, carol130), "%s", js);
	free(js);
	stop(b);
}

/*
 * block without an answering daemon changes the database itself, but not
 * while a daemon holds it: given a configuration whose socket nobody
 * answers on, it refuses (exit 3, naming the daemon) and nothing is
 * blocked or run.
 */
Test(hardening, block_refused_while_a_daemon_holds_the_state)
{
	char conf2[160], sock2[160], calls[160], want[400], *js;
	const char *argv[] = { sg_bin(), "block", "-c", conf2, "sasl:mallory@example.com", NULL };
	struct cmdres r;
	pid_t a;

	cr_assert_eq(sg_standins(dir), 0);
	cr_assert_eq(sg_postcat_standin(dir), 0);
	copy_sample();
	two_confs(conf2, sock2);
	a = start(confp);
	cr_assert(sg_wait_running(confp));
	r = runcmd(argv, NULL);
	cr_expect_eq(r.status, 3, "refused with exit 3, not %d: %s", r.status, r.err);
	snprintf(want, sizeof(want), "a sendguard daemon (pid %d) holds %s but does not answer on %s",
	    (int)a, statep, sock2);
	cr_expect_not_null(strstr(r.err, want), "%s", r.err);
	cmdres_free(&r);
	snprintf(calls, sizeof(calls), "%s/calls.log", dir);
	cr_expect(access(calls, F_OK) != 0, "no program ran");
	cr_assert_not_null(js = sg_status_running(confp));
	cr_expect_not_null(strstr(js, "\"blocked\": []"), "nothing was blocked: %s", js);
	free(js);
	stop(a);
	/* with no daemon at all, block works on the database itself */
	r = runcmd(argv, NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect_not_null(strstr(r.err, "no daemon running"), "%s", r.err);
	cmdres_free(&r);
}

/* ------------------------------------------------------- private state */

/*
 * Under a umask of 022, the daemon makes its state and socket
 * directories 0700, and the database, -wal, -shm, lock and socket 0600.
 * State files an older version left 0644 are made 0600 at the next start,
 * which says so; a state directory others may read is named in a warning.
 */
Test(hardening, state_files_and_socket_private)
{
	static const char *const sfx[] = { "", "-wal", "-shm", ".lock" };
	char sdir[160], rdir[160], st[200], sock[200], p[220], *e;
	mode_t old = umask(022);
	pid_t a;
	size_t i;

	copy_sample();
	snprintf(sdir, sizeof(sdir), "%s/lib", dir);
	snprintf(rdir, sizeof(rdir), "%s/run", dir);
	snprintf(st, sizeof(st), "%s/state.db", sdir);
	snprintf(sock, sizeof(sock), "%s/ctl.sock", rdir);
	conf_at(confp, st, sock, "");
	a = start(confp);
	cr_assert(sg_wait_running(confp), "%s", err_text());
	cr_assert(sg_wait_caught_up(confp, logp, 1200));
	cr_expect_eq(mode_of(sdir), 0700, "state directory %o", mode_of(sdir));
	cr_expect_eq(mode_of(rdir), 0700, "socket directory %o", mode_of(rdir));
	cr_expect_eq(mode_of(sock), 0600, "socket %o", mode_of(sock));
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", st, sfx[i]);
		cr_expect_eq(mode_of(p), 0600, "%s is %o", p, mode_of(p));
	}
	stop(a);
	/* as an older sendguard left them */
	cr_assert_eq(chmod(sdir, 0755), 0);
	cr_assert_eq(chmod(st, 0644), 0);
	a = start(confp);
	cr_assert(sg_wait_running(confp), "%s", err_text());
	cr_expect_eq(mode_of(st), 0600, "%s is %o after a start", st, mode_of(st));
	e = err_text();
	cr_expect_not_null(strstr(e, "was mode 0644 (others could read it): made 0600"), "%s", e);
	cr_expect_not_null(strstr(e, "is mode 0755: others can list the names"), "%s", e);
	free(e);
	stop(a);
	umask(old);
}

/*
 * A symbolic link where the database should be is not followed: the
 * daemon stops (exit 3) and the link's target, an empty file SQLite would
 * happily have made a database of, is untouched.  A state directory that
 * others may write is refused the same way.
 */
Test(hardening, state_link_and_open_directory_refused)
{
	char victim[160], sub[160], st[200], *e;
	struct stat sb;
	int fd, rc;

	copy_sample();
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	cr_assert_geq(fd = open(victim, O_WRONLY | O_CREAT, 0600), 0);
	close(fd);
	cr_assert_eq(symlink(victim, statep), 0);
	conf_at(confp, statep, sockp, "");
	rc = wait_exit(start(confp), 10000);
	e = err_text();
	cr_expect_eq(rc, 3, "exit %d:\n%s", rc, e);
	cr_expect_not_null(strstr(e, "symbolic link"), "%s", e);
	free(e);
	cr_assert_eq(stat(victim, &sb), 0);
	cr_expect_eq(sb.st_size, 0, "the link's target was written (%lld bytes)",
	    (long long)sb.st_size);

	snprintf(sub, sizeof(sub), "%s/open", dir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	cr_assert_eq(chmod(sub, 01777), 0);
	snprintf(st, sizeof(st), "%s/state.db", sub);
	conf_at(confp, st, sockp, "");
	unlink(errp);
	rc = wait_exit(start(confp), 10000);
	e = err_text();
	cr_expect_eq(rc, 3, "exit %d:\n%s", rc, e);
	cr_expect_not_null(strstr(e, "writable by others (mode 1777)"), "%s", e);
	free(e);
	cr_expect(access(st, F_OK) != 0, "no database was made there");
}

/*
 * An empty state database (a full disk or a crash emptied it) is refused
 * at start: taking it for a new one would forget every block.  So is a
 * file that is not SQLite.
 */
Test(hardening, empty_or_foreign_state_refused)
{
	static const struct {
		const char *label, *bytes, *want;
	} rows[] = {
		{ "empty", "", "an empty file (0 bytes), not a sendguard database" },
		{ "text", "these are my notes\n", "not a database (no SQLite header)" },
	};
	struct stat sb;
	size_t i;
	char *e;
	int fd, rc;

	copy_sample();
	conf_at(confp, statep, sockp, "");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		unlink(errp);
		cr_assert_geq(fd = open(statep, O_WRONLY | O_CREAT | O_TRUNC, 0600), 0);
		cr_assert_eq(write(fd, rows[i].bytes, strlen(rows[i].bytes)),
		    (ssize_t)strlen(rows[i].bytes));
		close(fd);
		rc = wait_exit(start(confp), 10000);
		e = err_text();
		cr_expect_eq(rc, 3, "%s: exit %d:\n%s", rows[i].label, rc, e);
		cr_expect_not_null(strstr(e, rows[i].want), "%s: %s", rows[i].label, e);
		free(e);
		cr_assert_eq(stat(statep, &sb), 0);
		cr_expect_eq(sb.st_size, (off_t)strlen(rows[i].bytes), "%s: the file was changed",
		    rows[i].label);
	}
}

/* ------------------------------------------------------------- faults */

/* log_carol - n more messages of carol, queue IDs C0000..., appended to the log */
static void
log_carol(int n)
{
	FILE *fp = fopen(logp, "a");
	char qid[16];
	int i;

	cr_assert_not_null(fp);
	for (i = 0; i < n; i++) {
		snprintf(qid, sizeof(qid), "C%05X", i);
		sg_log_msg(fp, time(NULL) - 60, qid, "carol@example.com", "carol@example.com");
	}
	fclose(fp);
}

/*
 * Another process (a backup, sqlite3 by hand) holds the database's write
 * lock for 7 s, longer than the 5 s busy timeout: the daemon says so and
 * waits instead of stopping, and counts the lines written meanwhile once
 * the lock is let go.
 */
Test(hardening, write_lock_held_by_another_process_is_waited_for)
{
	int release, st;
	char *js, *e;
	pid_t a, holder;

	copy_sample();
	conf_at(confp, statep, sockp, "");
	a = start(confp);
	cr_assert(sg_wait_running(confp));
	cr_assert(sg_wait_caught_up(confp, logp, 1200));
	cr_assert_gt(holder = sg_lock_hold(statep, &release), 0, "the lock was never taken");
	log_carol(5);
	sg_msleep(7000);
	cr_expect_eq(waitpid(a, &st, WNOHANG), 0, "the daemon stopped (status %d):\n%s", st,
	    err_text());
	cr_assert(sg_lock_release(holder, release));
	cr_expect(sg_wait_caught_up(confp, logp, 1200), "it caught up after the lock:\n%s",
	    err_text());
	js = sg_status_running(confp);
	cr_expect(js != NULL && strstr(js, "\"identity\": \"sasl:carol@example.com\", \"rule\": "
	    "\"s\", \"limit\": \"messages\", \"window\": \"30d\", \"count\": 135,") != NULL,
	    "the 5 messages written meanwhile counted: %s", js ? js : "(no answer)");
	free(js);
	e = err_text();
	cr_expect_not_null(strstr(e, "database is locked: another process has held it for over 5 s; "
	    "not stopping"), "%s", e);
	cr_expect_not_null(strstr(e, "ours again after"), "%s", e);
	free(e);
	stop(a);
}

/* ------------------------------------------------ the control socket */

/* ctl_connect - a connection to the daemon's socket, reads limited to secs */
static int
ctl_connect(const char *path, int secs)
{
	struct sockaddr_un sun;
	struct timeval tv = { secs, 0 };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0)
		return (-1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return (-1);
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return (fd);
}

/* ctl_read - the answer up to end of file into buf; -1 when the read timed out first */
static ssize_t
ctl_read(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r = 0;

	while (n + 1 < len && (r = read(fd, buf + n, len - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	return (r < 0 ? -1 : (ssize_t)n);
}

/*
 * A local user who can reach the socket (an administrator opened its
 * directory and mode by mistake) is refused by its credentials: "error:
 * not allowed", and the daemon logs the uid.  Needs root, to be another
 * user.
 */
Test(hardening, control_peer_of_another_uid_refused)
{
	char ans[4096], *e;
	int p[2], st;
	pid_t a, child;
	ssize_t n;

	if (geteuid() != 0)
		cr_skip_test("needs root, to connect as another user (nobody)");
	copy_sample();
	conf_at(confp, statep, sockp, "");
	a = start(confp);
	cr_assert(sg_wait_running(confp));
	cr_assert_eq(chmod(dir, 0711), 0);
	cr_assert_eq(chmod(sockp, 0666), 0);
	cr_assert_eq(pipe(p), 0);
	if ((child = fork()) == 0) {
		int fd;

		close(p[0]);
		signal(SIGPIPE, SIG_IGN); /* it may be closed on before it writes */
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		if ((fd = ctl_connect(sockp, 10)) < 0)
			_exit(3);
		sg_msleep(200); /* refused by then, or waiting for the request */
		(void)!write(fd, "status json\n", 12);
		n = ctl_read(fd, ans, sizeof(ans));
		(void)!write(p[1], ans, n > 0 ? (size_t)n : 0);
		_exit(0);
	}
	close(p[1]);
	n = ctl_read(p[0], ans, sizeof(ans));
	close(p[0]);
	cr_assert_eq(waitpid(child, &st, 0), child);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the other user could not connect "
	    "(status %#x: 2 setuid, 3 connect)", st);
	cr_expect_str_eq(ans, "error: not allowed\n", "another uid was answered: %.200s", ans);
	e = err_text();
	cr_expect_not_null(strstr(e, "control: refused a client of uid 65534"), "%s", e);
	free(e);
	chmod(dir, 0700);
	stop(a);
}

/*
 * A client that connects and sends nothing is closed after 5 s (with
 * "error: timeout"), and the CONTROL_CLIENTS_MAX (16) clients at once are
 * the most: the 17th is told "error: busy" at once.  Once the idle ones
 * are gone, status answers again.
 */
Test(hardening, control_idle_clients_timed_out_and_limited)
{
	int fds[16], extra, i;
	char ans[4096], *js;
	struct timespec t0, t1;
	double secs;
	pid_t a;

	copy_sample();
	conf_at(confp, statep, sockp, "");
	a = start(confp);
	cr_assert(sg_wait_running(confp));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 16; i++)
		cr_assert_geq(fds[i] = ctl_connect(sockp, 10), 0, "client %d", i);
	sg_msleep(200);
	cr_assert_geq(extra = ctl_connect(sockp, 2), 0);
	cr_expect_geq(ctl_read(extra, ans, sizeof(ans)), 0, "the 17th client waits unanswered");
	cr_expect_eq(strncmp(ans, "error: busy", 11), 0, "the 17th: [%s]", ans);
	close(extra);
	cr_expect_geq(ctl_read(fds[0], ans, sizeof(ans)), 0,
	    "an idle client is never closed (waited 10 s)");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_expect_str_eq(ans, "error: timeout: no request within 5 s\n");
	cr_expect(secs >= 4.5 && secs < 9.0, "closed after %.1f s", secs);
	for (i = 0; i < 16; i++)
		close(fds[i]);
	cr_expect_not_null(js = sg_status_running(confp), "status answers again");
	free(js);
	stop(a);
}
