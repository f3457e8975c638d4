/*
 * test_daemon - `sendguard run` as an administrator lives with it: the log
 * is written in random chunks (many ending mid-line) while it is rotated by
 * rename, copied and truncated, and the daemon is killed and restarted;
 * `sendguard status --json` must still equal the generator's truth, every
 * message counted once.  Also: an idle daemon uses no CPU, and SIGHUP
 * applies a new limit without losing counts and keeps the old
 * configuration when the new one is broken.  In monitor mode a restart
 * raises the verdicts an uninterrupted run raises.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "tests/runcmd.h"

static char dir[64];
static char logp[128], confp[128], truthp[128], errp[128];
static const char *status_conf;		/* the config `status` reads (default confp) */

static const char *
tools(void)
{
	const char *t = getenv("SG_TOOLS");

	return (t ? t : "build/bench");
}

#define msleep sg_msleep

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *b;
	long n;

	cr_assert_not_null(fp, "%s", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	b = malloc((size_t)n + 1);
	cr_assert_eq(fread(b, 1, (size_t)n, fp), (size_t)n);
	b[n] = '\0';
	fclose(fp);
	if (len)
		*len = (size_t)n;
	return (b);
}

static void
write_conf(const char *extra)
{
	FILE *fp = fopen(confp, "w");

	cr_assert_not_null(fp);
	fprintf(fp, "[agent]\nlog = %s\nstate = %s/state.db\nsocket = %s/ctl.sock\n"
	    "start_at = beginning\nretention = 30d\n%s", logp, dir, dir, extra);
	fclose(fp);
}

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sg-daemon-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(logp, sizeof(logp), "%s/mail.log", dir);
	snprintf(confp, sizeof(confp), "%s/agent.conf", dir);
	snprintf(truthp, sizeof(truthp), "%s/truth.tsv", dir);
	snprintf(errp, sizeof(errp), "%s/daemon.err", dir);
	setenv("TZ", "UTC", 1);
}

static void
teardown(void)
{
	sg_rm_tmpdir(dir);
}

TestSuite(daemon, .init = setup, .fini = teardown);

/* start - the daemon in the foreground, stderr appended to errp */
static pid_t
start(void)
{
	pid_t pid = sg_spawn_daemon(confp, errp);

	cr_assert_gt(pid, 0);
	return (pid);
}

/* stop - signal the daemon and reap it; a SIGTERM must stop it cleanly */
static void
stop(pid_t pid, int sig)
{
	cr_assert(sg_stopped(pid, sig), "the daemon did not stop %s", sig == SIGTERM ? "cleanly" : "");
}

/* status_conf_path - the config `status` reads */
static const char *
status_conf_path(void)
{
	return (status_conf ? status_conf : confp);
}

/* status - the daemon's JSON (NULL while it does not answer) */
static char *
status(void)
{
	return (sg_status_running(status_conf_path()));
}

#define jnum sg_jnum

static void
wait_caught_up(const char *path)
{
	cr_assert(sg_wait_caught_up(status_conf_path(), path, 1200),
	    "the daemon did not catch up with %s", path);
}

static void
wait_running(void)
{
	cr_assert(sg_wait_running(status_conf_path()), "the daemon never answered:\n%s",
	    slurp(errp, NULL));
}

/* The writer: syslog appending to the log, rotated under it. */
struct writer {
	const char *data;
	size_t	len, off;
	int	fd;
	int	rot;			/* rotated files so far */
	int	r1, r2, ct;		/* planned rotations and copytruncate done */
	unsigned seed;
	long	unterminated;
};

static void
w_open(struct writer *w)
{
	w->fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0644);
	cr_assert_geq(w->fd, 0);
}

/* w_chunk - append the next random-size chunk (often ending mid-line) */
static void
w_chunk(struct writer *w)
{
	size_t n = 1 + (size_t)rand_r(&w->seed) % 6000;

	if (n > w->len - w->off)
		n = w->len - w->off;
	cr_assert_eq(write(w->fd, w->data + w->off, n), (ssize_t)n);
	w->off += n;
	if (w->off < w->len && w->data[w->off - 1] != '\n')
		w->unterminated++;
}

/* w_line_end - write up to the end of the current line (a rotation point) */
static void
w_line_end(struct writer *w)
{
	const char *nl = memchr(w->data + w->off, '\n', w->len - w->off);
	size_t n = nl ? (size_t)(nl - (w->data + w->off)) + 1 : w->len - w->off;

	cr_assert_eq(write(w->fd, w->data + w->off, n), (ssize_t)n);
	w->off += n;
}

/*
 * rotate - as logrotate does by default: mail.log.N -> mail.log.N+1, ...,
 * mail.log -> mail.log.1; a few more lines reach the old file before the
 * writer reopens (syslogd has not had its HUP yet).
 */
static void
rotate(struct writer *w)
{
	char from[160], to[160];
	int k;

	w_line_end(w);
	for (k = w->rot; k >= 1; k--) {
		snprintf(from, sizeof(from), "%s.%d", logp, k);
		snprintf(to, sizeof(to), "%s.%d", logp, k + 1);
		cr_assert_eq(rename(from, to), 0);
	}
	snprintf(to, sizeof(to), "%s.1", logp);
	cr_assert_eq(rename(logp, to), 0);
	w->rot++;
	for (k = 0; k < 3 && w->off < w->len; k++)
		w_line_end(w);
	close(w->fd);
	w_open(w);
}

/* copytruncate - logrotate's copy, then truncate in place; the writer keeps its fd */
static void
copytruncate(struct writer *w)
{
	char cmd[400];
	int fd;

	w_line_end(w);
	wait_caught_up(logp);		/* logrotate's own race: see agent/tail.c */
	snprintf(cmd, sizeof(cmd), "%s.ct", logp);
	{
		const char *argv[] = { "/bin/cp", logp, cmd, NULL };
		struct cmdres r = runcmd(argv, NULL);

		cr_assert_eq(r.status, 0);
		cmdres_free(&r);
	}
	cr_assert_geq(fd = open(logp, O_WRONLY | O_TRUNC), 0);
	close(fd);
}

/* gen - 100,000 lines ending an hour ago, plus a later line that ends the link window */
static char *
gen(size_t *len, int lines)
{
	char start[32], nlines[32], marker[200], tb[64];
	time_t now = time(NULL), mt = now - 3600;
	struct tm tm;
	struct cmdres r;
	char *data, *all;
	const char *argv[] = { NULL, "--lines", nlines, "--seed", "7", "--start", start,
	    "--rate", "20", "--out", NULL, "--truth", truthp, NULL };
	char path[200], loggen[300];

	snprintf(loggen, sizeof(loggen), "%s/loggen", tools());
	snprintf(path, sizeof(path), "%s/gen.log", dir);
	snprintf(nlines, sizeof(nlines), "%d", lines);
	snprintf(start, sizeof(start), "%lld", (long long)(now - 2 * 86400));
	argv[0] = loggen;
	argv[10] = path;
	r = runcmd(argv, NULL);
	cr_assert_eq(r.status, 0, "loggen: %s", r.err);
	cmdres_free(&r);
	data = slurp(path, len);
	gmtime_r(&mt, &tm);
	strftime(tb, sizeof(tb), "%Y-%m-%dT%H:%M:%S.000000+00:00", &tm);
	snprintf(marker, sizeof(marker), "%s mail postfix/anvil[9]: statistics: max cache size 1\n", tb);
	all = malloc(*len + strlen(marker) + 1);
	memcpy(all, data, *len);
	memcpy(all + *len, marker, strlen(marker) + 1);
	*len += strlen(marker);
	free(data);
	return (all);
}

/*
 * compare - every identity of the truth, and nothing else, in status:
 * its messages, recipients and (but for uid:, which counts none) its
 * bounced recipients, loggen's truth of the status=bounced lines of its
 * messages and their content-filter copies
 */
static void
compare(const char *js)
{
	int ids = 0;

	cr_expect_eq(sg_truth_mismatches(js, truthp, &ids), 0, "status differs from the truth");
	cr_expect_gt(ids, 100);
}

static void
finish_and_compare(pid_t pid)
{
	char *js;

	wait_caught_up(logp);
	cr_assert_not_null(js = status());
	compare(js);
	free(js);
	stop(pid, SIGTERM);
}

Test(daemon, chunks_rotations_copytruncate_exact)
{
	struct writer w = { 0 };
	pid_t pid;
	size_t len;

	w.data = gen(&len, 100000);
	w.len = len;
	w.seed = 1234;
	write_conf(SG_COUNT_ALL);
	pid = start();			/* before the log exists: it waits for it */
	wait_running();
	w_open(&w);
	while (w.off < w.len) {
		double f = (double)w.off / (double)w.len;

		w_chunk(&w);
		if ((!w.r1 && f > 0.25 && (w.r1 = 1)) || (!w.r2 && f > 0.5 && (w.r2 = 1)))
			rotate(&w);
		if (!w.ct && f > 0.75) {
			copytruncate(&w);
			w.ct = 1;
		}
		if (rand_r(&w.seed) % 8 == 0)
			msleep(1);
	}
	cr_expect_gt(w.unterminated, 100, "many chunks must end mid-line");
	finish_and_compare(pid);
	free((void *)(uintptr_t)w.data);
}

Test(daemon, sigkill_restarts_exact)
{
	struct writer w = { 0 };
	pid_t pid;
	size_t len;
	int kills = 0, rotated_down = 0;
	double next_kill = 0.12;

	w.data = gen(&len, 100000);
	w.len = len;
	w.seed = 99;
	write_conf(SG_COUNT_ALL);
	pid = start();
	wait_running();
	w_open(&w);
	while (w.off < w.len) {
		double f = (double)w.off / (double)w.len;

		w_chunk(&w);
		if ((!w.r1 && f > 0.3 && (w.r1 = 1)) || (!w.r2 && f > 0.6 && (w.r2 = 1)))
			rotate(&w);
		if (!w.ct && f > 0.85) {
			copytruncate(&w);
			w.ct = 1;
		}
		if (kills < 5 && f > next_kill) {
			stop(pid, SIGKILL);
			kills++;
			next_kill += 0.13 + (rand_r(&w.seed) % 100) / 2000.0;
			/* write while it is down, once with a rename rotation */
			w_chunk(&w);
			if (kills == 3 && !rotated_down) {
				rotate(&w);
				w_chunk(&w);
				rotated_down = 1;
			}
			pid = start();
			if (rand_r(&w.seed) % 2)
				wait_running();
		}
	}
	cr_expect_eq(kills, 5);
	cr_expect(rotated_down);
	wait_running();
	finish_and_compare(pid);
	free((void *)(uintptr_t)w.data);
}

Test(daemon, idle_uses_no_cpu)
{
	FILE *fp;
	pid_t pid;
	long ticks;

	write_conf(SG_COUNT_ALL);
	cr_assert_not_null(fp = fopen(logp, "w"));
	fputs("2026-11-28T10:00:00.000000+00:00 mail postfix/anvil[9]: statistics: x\n", fp);
	fclose(fp);
	pid = start();
	wait_running();
	cr_assert_geq(ticks = sg_idle_ticks(pid), 0);
	cr_expect_leq(ticks, 1, "an idle daemon used %ld clock ticks in 10 s", ticks);
	stop(pid, SIGTERM);
}

Test(daemon, sighup_new_limit_keeps_counts_broken_config_kept)
{
	char sample[300], *js, *err;
	const char *cpargv[] = { "/bin/cp", sample, logp, NULL };
	struct cmdres r;
	pid_t pid;
	FILE *fp;

	snprintf(sample, sizeof(sample), "%s/samples/incident.log",
	    getenv("SG_SRCDIR") ? getenv("SG_SRCDIR") : ".");
	r = runcmd(cpargv, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cmdres_free(&r);
	write_conf("[limit s]\nby = sasl\nmessages = 1000000/30d\n");
	pid = start();
	wait_running();
	wait_caught_up(logp);
	cr_assert_not_null(js = status());
	cr_expect_not_null(strstr(js, "\"identity\": \"sasl:carol@example.com\", \"rule\": \"s\", "
	    "\"limit\": \"messages\", \"window\": \"30d\", \"count\": 130, \"threshold\": 1000000}"), "%s", js);
	free(js);

	write_conf("[limit s]\nby = sasl\nmessages = 100/30d\n");
	kill(pid, SIGHUP);
	msleep(300);
	cr_assert_not_null(js = status());
	cr_expect_not_null(strstr(js, "\"identity\": \"sasl:carol@example.com\", \"rule\": \"s\", "
	    "\"limit\": \"messages\", \"window\": \"30d\", \"count\": 130, \"threshold\": 100}"),
	    "new limit, same count: %s", js);
	free(js);

	{
		/* the client keeps a good copy: a broken file stops `status` too */
		static char good[160];
		const char *cp[] = { "/bin/cp", confp, good, NULL };

		snprintf(good, sizeof(good), "%s/good.conf", dir);
		r = runcmd(cp, NULL);
		cmdres_free(&r);
		status_conf = good;
	}
	cr_assert_not_null(fp = fopen(confp, "w"));
	fputs("[agent\nlog = \n[limit s]\nby = nobody\n", fp);
	fclose(fp);
	kill(pid, SIGHUP);
	msleep(300);
	cr_assert_not_null(js = status(), "still running after a broken reload");
	cr_expect_not_null(strstr(js, "\"count\": 130, \"threshold\": 100}"), "old config kept: %s", js);
	free(js);
	err = slurp(errp, NULL);
	cr_expect_not_null(strstr(err, "configuration not reloaded"), "%s", err);
	cr_expect_not_null(strstr(err, "agent.conf:1:"), "errors name file and line: %s", err);
	free(err);
	write_conf("[limit s]\nby = sasl\nmessages = 100/30d\n");	/* for a clean stop */
	stop(pid, SIGTERM);
}

static void
copy_sample(void)
{
	char sample[300];
	const char *cpargv[] = { "/bin/cp", sample, logp, NULL };
	struct cmdres r;

	snprintf(sample, sizeof(sample), "%s/samples/incident.log",
	    getenv("SG_SRCDIR") ? getenv("SG_SRCDIR") : ".");
	r = runcmd(cpargv, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cmdres_free(&r);
}

static const char carol130[] = "{\"identity\": \"sasl:carol@example.com\", \"rule\": \"s\", "
	"\"limit\": \"messages\", \"window\": \"30d\", \"count\": 130, \"threshold\": 200}";

Test(daemon, socket_private_and_status_from_database_when_stopped)
{
	const char *argv[] = { sg_bin(), "status", "--json", "-c", confp, NULL };
	char sock[160];
	struct cmdres r;
	struct stat st;
	pid_t pid;

	copy_sample();
	write_conf("[limit s]\nby = sasl\nmessages = 200/30d\n");
	pid = start();
	wait_running();
	snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
	cr_assert_eq(stat(sock, &st), 0);
	cr_expect(S_ISSOCK(st.st_mode));
	cr_expect_eq(st.st_mode & 0777, 0600, "socket mode %o", (unsigned)(st.st_mode & 0777));
	wait_caught_up(logp);
	stop(pid, SIGTERM);
	cr_expect_neq(stat(sock, &st), 0, "the socket is removed at a clean stop");
	r = runcmd(argv, NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect_not_null(strstr(r.out, "\"running\": false"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, carol130), "counts from the database: %s", r.out);
	cmdres_free(&r);
}

Test(daemon, standard_input_counts_and_stops_at_its_end)
{
	const char *run[] = { sg_bin(), "run", "-f", "-c", confp, NULL };
	const char *stat_argv[] = { sg_bin(), "status", "--json", "-c", confp, NULL };
	struct cmdres r;
	FILE *fp;

	copy_sample();
	cr_assert_not_null(fp = fopen(confp, "w"));
	fprintf(fp, "[agent]\nlog = -\nstate = %s/state.db\nsocket = %s/ctl.sock\nretention = 30d\n"
	    "[limit s]\nby = sasl\nmessages = 100/30d\n", dir, dir);
	fclose(fp);
	r = runcmd(run, logp);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect_not_null(strstr(r.err, "over limit: sasl:carol@example.com: rule s, messages 101 > 100 in 30d, crossed by 1A48F7E60"),
	    "the verdict is logged with the crossing queue ID: %s", r.err);
	cmdres_free(&r);
	r = runcmd(stat_argv, NULL);
	cr_expect_not_null(strstr(r.out, "\"blocked\": [\n  {\"identity\": \"sasl:carol@example.com\""),
	    "the overrun blocked carol: %s", r.out);
	cmdres_free(&r);
}

/* alive - pid exists and is not a zombie (a detached daemon's parent may not reap it here) */
static int
alive(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return (0);
	p = fgets(buf, sizeof(buf), fp);
	fclose(fp);
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return (0);
	return (p[2] != 'Z' && p[2] != 'X');
}

Test(daemon, detaches_without_f)
{
	const char *run[] = { sg_bin(), "run", "-c", confp, NULL };
	struct cmdres r;
	char *js;
	long pid;
	int i;

	copy_sample();
	write_conf("[limit s]\nby = sasl\nmessages = 200/30d\n");
	r = runcmd(run, NULL);
	cr_expect_eq(r.status, 0, "the starting process returns once the daemon runs: %s", r.err);
	cmdres_free(&r);
	wait_running();
	wait_caught_up(logp);
	cr_assert_not_null(js = status());
	cr_expect_not_null(strstr(js, carol130), "%s", js);
	pid = (long)jnum(js, "\"pid\": ");
	free(js);
	cr_assert_gt(pid, 1);
	kill((pid_t)pid, SIGTERM);
	for (i = 0; i < 200 && alive((pid_t)pid); i++)
		msleep(25);
	cr_expect(!alive((pid_t)pid), "the detached daemon stops on SIGTERM");
}

Test(daemon, retention_prunes_old_rows)
{
	struct store *s = NULL;
	char err[256], db[160];
	pid_t pid;
	int i;
	int64_t n = -1;

	copy_sample();			/* its messages are from 2026-11-20 */
	cr_assert_not_null(getenv("TZ"));
	{
		FILE *fp = fopen(confp, "w");

		cr_assert_not_null(fp);
		fprintf(fp, "[agent]\nlog = %s\nstate = %s/state.db\nsocket = %s/ctl.sock\n"
		    "start_at = beginning\nretention = 1d\n[limit s]\nby = sasl\nmessages = 100/1h\n",
		    logp, dir, dir);
		fclose(fp);
	}
	pid = start();
	wait_running();
	wait_caught_up(logp);
	snprintf(db, sizeof(db), "%s/state.db", dir);
	for (i = 0; i < 100 && n != 0; i++) {
		msleep(50);
		cr_assert_eq(store_open(&s, db, 1, err, sizeof(err)), 0, "%s", err);
		n = store_count_messages(s);
		store_close(s);
	}
	cr_expect_eq(n, 0, "messages older than retention are deleted (left: %lld)", (long long)n);
	{
		char *js = status();

		cr_assert_not_null(js, "still following the log");
		free(js);
	}
	stop(pid, SIGTERM);
}

/* raw_request - one line to the control socket, the whole answer back */
static char *
raw_request(const char *sock, const char *req, size_t len)
{
	struct sockaddr_un sun;
	char *buf = malloc(65536);
	size_t n = 0;
	ssize_t r;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	cr_assert_geq(fd, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	if (write(fd, req, len) < 0)
		cr_log_warn("write: %s", strerror(errno));
	while (n < 65535 && (r = read(fd, buf + n, 65535 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	close(fd);
	return (buf);
}

Test(daemon, control_socket_refuses_malformed_requests)
{
	static const struct {
		const char *req;
		size_t	len;
		const char *want;
	} tab[] = {
		{ "reboot now\n", 11, "error: unknown request" },
		{ "block zz 60\n", 12, "error: bad identity" },			/* not hex */
		{ "block 73617331 60\n", 18, "error: bad identity" },		/* "sas1": no kind */
		{ "block 7361736c3a610a62 60\n", 26, "error: bad identity" },	/* "sasl:a\nb" */
		{ "block 7361736c3a61 -5\n", 22, "error: bad duration" },
		{ "block 7361736c3a61 6x\n", 22, "error: bad duration" },
		{ "unblock 7361736c3a61 explode\n", 29, "error: bad unblock mode" },
		{ "status json;rm -rf /\n", 21, "error: unknown request" },
	};
	char sock[160], *ans, *js, big[3000];
	size_t i;
	pid_t pid;

	copy_sample();
	write_conf("[limit s]\nby = sasl\nmessages = 1000/30d\n");
	pid = start();
	wait_running();
	snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		ans = raw_request(sock, tab[i].req, tab[i].len);
		cr_expect_not_null(strstr(ans, tab[i].want), "request %zu: answer [%s], want [%s]",
		    i, ans, tab[i].want);
		free(ans);
	}
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	ans = raw_request(sock, big, sizeof(big));
	cr_expect_not_null(strstr(ans, "error: request too long"), "%s", ans);
	free(ans);
	cr_assert_not_null(js = status(), "the daemon still answers");
	cr_expect_not_null(strstr(js, "\"blocked\": []"), "nothing was blocked: %s", js);
	free(js);
	stop(pid, SIGTERM);
}

/* put_file - write (append: add) n bytes of data to path */
static void
put_file(const char *path, const char *data, size_t n, int append)
{
	FILE *fp = fopen(path, append ? "ab" : "wb");

	cr_assert_not_null(fp, "%s", path);
	cr_assert_eq(fwrite(data, 1, n, fp), n);
	cr_assert_eq(fclose(fp), 0);
}

/* verdicts - the stored verdicts in their order, a line each; *n set to how many */
static char *
verdicts(int *n)
{
	char path[160], *out = NULL;
	size_t len = 0;
	sqlite3 *db;
	sqlite3_stmt *st;
	FILE *fp = open_memstream(&out, &len);

	snprintf(path, sizeof(path), "%s/state.db", dir);
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db,
			 "SELECT time_us, identity, rule, lim, win, count, queue_id FROM verdicts"
			 " ORDER BY time_us, id",
			 -1, &st, NULL),
	    SQLITE_OK);
	*n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		fprintf(fp, "%lld %s %s %s %s %lld %s\n", (long long)sqlite3_column_int64(st, 0),
		    sqlite3_column_text(st, 1), sqlite3_column_text(st, 2), sqlite3_column_text(st, 3),
		    sqlite3_column_text(st, 4), (long long)sqlite3_column_int64(st, 5),
		    sqlite3_column_text(st, 6));
		(*n)++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	fclose(fp);
	return (out);
}

/* repeated - 1 when some identity has two verdicts in vs (its windows re-armed after a block) */
static int
repeated(const char *vs)
{
	const char *p, *q;
	char id[256];

	for (p = vs; (p = strchr(p, ' ')) != NULL; p = strchr(p, '\n')) {
		size_t n = strcspn(++p, " ");

		if (n >= sizeof(id))
			continue;
		memcpy(id, p, n);
		id[n] = '\0';
		for (q = strchr(p, '\n'); q != NULL && (q = strstr(q, id)) != NULL; q++)
			if (q[-1] == ' ' && q[n] == ' ')
				return (1);
	}
	return (0);
}

/*
 * Monitor mode stores no block: its verdicts' blocks, and so where the
 * windows re-arm, must come back at a restart (from the stored verdicts),
 * or a daemon killed halfway misses the verdicts of an identity still over
 * its limit when it re-arms, and raises others early.  The same log, once
 * in one run and once killed after its first half: the same verdicts.
 */
Test(daemon, monitor_restart_raises_the_same_verdicts)
{
	size_t len, half;
	char *data = gen(&len, 40000), *once, *twice, path[160];
	const char *nl;
	int n1, n2;
	pid_t pid;

	write_conf("mode = monitor\n[limit s]\nby = sasl\nmessages = 10/1h\nblock_time = 5m\n");
	put_file(logp, data, len, 0);
	pid = start();
	wait_caught_up(logp);
	stop(pid, SIGTERM);
	once = verdicts(&n1);
	cr_assert(repeated(once), "no identity was over its limit twice: nothing re-armed:\n%s",
	    once);

	snprintf(path, sizeof(path), "%s/state.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/state.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/state.db-shm", dir);
	unlink(path);
	cr_assert_not_null(nl = memchr(data + len / 2, '\n', len - len / 2));
	half = (size_t)(nl - data) + 1;
	put_file(logp, data, half, 0);
	pid = start();
	wait_caught_up(logp);
	stop(pid, SIGKILL);
	put_file(logp, data + half, len - half, 1);
	pid = start();
	wait_caught_up(logp);
	stop(pid, SIGTERM);
	twice = verdicts(&n2);
	cr_expect_eq(n2, n1, "%d verdicts after a restart, %d in one run", n2, n1);
	cr_expect_str_eq(twice, once);
	free(once);
	free(twice);
	free(data);
}
