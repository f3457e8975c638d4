/*
 * test_catchup - the daemon catching up a log that is already there reads
 * and parses it on a reader thread (agent/logsrc.c over count/prefetch.h's
 * feed): killed with SIGKILL while that thread reads ahead, and started
 * again, it still counts every message of the log once (loggen's truth),
 * and it runs the thread only while catching up; it commits a catch-up
 * 20,000 lines and then 50,000 lines at a time.  The feed itself: every
 * line reaches the caller once, in order, with its own mark, and a feed's
 * error after the lines read before it.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "count/prefetch.h"
#include "tests/runcmd.h"

/* A feed over lines "line N" made on the fly: n of them, then nothing, or an error. */
struct fake_feed {
	long n, next; /* lines in all, the next to hand over */
	long fail_at; /* -1, or the line at which the feed fails */
	long calls;   /* batches asked for */
};

/* fake - prefetch_feed_fn over a struct fake_feed; the mark is the line's number */
static long
fake(void *ctx, struct prefetch_sink *sink, char *err, size_t errlen)
{
	struct fake_feed *f = ctx;
	char line[64];
	long got = 0;
	int len;

	f->calls++;
	while (f->next < f->n) {
		if (f->next == f->fail_at) {
			snprintf(err, errlen, "the feed broke at %ld", f->next);
			return (-1);
		}
		len = snprintf(line, sizeof(line), "line %ld", f->next);
		got++;
		if (prefetch_put(sink, line, (size_t)len, &f->next) != 0) {
			f->next++;
			return (got);
		}
		f->next++;
	}
	return (got);
}

/* drain - every line of a feed of n lines (failing at fail_at) by prefetch_next; its answer */
static int
drain(long n, long fail_at, enum prefetch_split split, char *err, size_t errlen)
{
	struct fake_feed f = { n, 0, fail_at, 0 };
	const struct prefetch_line *l;
	struct prefetch *pf;
	uint64_t pos;
	size_t i, k;
	long seen = 0;
	int r, parsed;
	char want[64];

	cr_assert_eq(prefetch_start_feed(&pf, fake, &f, sizeof(long), split, err, errlen), 0, "%s",
	    err);
	while ((r = prefetch_next(pf, &l, &k, &parsed, &pos, err, errlen)) > 0) {
		cr_assert_gt(k, 0, "a batch is never empty");
		for (i = 0; i < k; i++, seen++) {
			snprintf(want, sizeof(want), "line %ld", seen);
			cr_assert_eq(l[i].len, strlen(want));
			cr_assert_eq(memcmp(l[i].line, want, l[i].len), 0, "line %ld", seen);
			cr_assert_not_null(l[i].mark);
			cr_assert_eq(*(const long *)l[i].mark, seen, "the mark of line %ld", seen);
		}
	}
	cr_expect_eq(seen, fail_at >= 0 ? fail_at : n, "every line read comes out once");
	/* the last answer repeats */
	cr_expect_eq(prefetch_next(pf, &l, &k, &parsed, &pos, err, errlen), r);
	prefetch_stop(pf);
	return (r);
}

Test(catchup, feed_lines_come_out_once_in_order_with_their_marks)
{
	static const long sizes[] = { 0, 1, PREFETCH_LINES - 1, PREFETCH_LINES, PREFETCH_LINES + 1,
		10 * PREFETCH_LINES + 7 };
	static const enum prefetch_split splits[] = { PREFETCH_BALANCE, PREFETCH_PARSE_ALL,
		PREFETCH_PARSE_NONE };
	char err[512];
	size_t i, j;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (j = 0; j < sizeof(splits) / sizeof(splits[0]); j++)
			cr_expect_eq(drain(sizes[i], -1, splits[j], err, sizeof(err)), 0,
			    "%ld lines: %s", sizes[i], err);
}

Test(catchup, feed_error_comes_after_the_lines_before_it)
{
	char err[512];

	cr_expect_eq(drain(5000, 3000, PREFETCH_BALANCE, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "the feed broke at 3000");
	cr_expect_eq(drain(5000, 0, PREFETCH_PARSE_ALL, err, sizeof(err)), -1);
}

Test(catchup, feed_mark_too_large_is_refused)
{
	struct fake_feed f = { 1, 0, -1, 0 };
	struct prefetch *pf;
	char err[512];

	cr_expect_eq(prefetch_start_feed(&pf, fake, &f, PREFETCH_MARK_MAX + 1, PREFETCH_BALANCE,
			 err, sizeof(err)),
	    -1);
	cr_expect_null(pf);
}

/* The daemon's part. */
static char dir[64];
static char logp[128], confp[128], truthp[128], errp[128], dbp[128];

static void
setup(void)
{
	cr_assert_eq(sg_lower_tmpdir(dir, sizeof(dir), "sg-catchup"), 0);
	snprintf(logp, sizeof(logp), "%s/mail.log", dir);
	snprintf(confp, sizeof(confp), "%s/agent.conf", dir);
	snprintf(truthp, sizeof(truthp), "%s/truth.tsv", dir);
	snprintf(errp, sizeof(errp), "%s/daemon.err", dir);
	snprintf(dbp, sizeof(dbp), "%s/state.db", dir);
	setenv("TZ", "UTC", 1);
}

static void
teardown(void)
{
	sg_rm_tmpdir(dir);
}

TestSuite(catchup_daemon, .init = setup, .fini = teardown);

/* gen_log - loggen's lines lines (20 a second, from two days ago) at logp, its truth at truthp */
static void
gen_log(int lines)
{
	char start[32], nlines[32], loggen[300];
	const char *tools = getenv("SG_TOOLS");
	const char *argv[] = { loggen, "--lines", nlines, "--seed", "5", "--start", start, "--rate",
		"20", "--out", logp, "--truth", truthp, NULL };
	struct cmdres r;

	snprintf(loggen, sizeof(loggen), "%s/loggen", tools ? tools : "build/bench");
	snprintf(nlines, sizeof(nlines), "%d", lines);
	snprintf(start, sizeof(start), "%lld", (long long)(time(NULL) - 2 * 86400));
	r = runcmd(argv, NULL);
	cr_assert_eq(r.status, 0, "loggen: %s", r.err);
	cmdres_free(&r);
}

/* write_conf - the daemon's configuration: the log from its beginning, every identity counted */
static void
write_conf(void)
{
	FILE *fp;

	cr_assert_not_null(fp = fopen(confp, "w"));
	fprintf(fp,
	    "[agent]\nlog = %s\nstate = %s\nsocket = %s/ctl.sock\nstart_at = beginning\n"
	    "retention = 30d\n%s",
	    logp, dbp, dir, SG_COUNT_ALL);
	fclose(fp);
}

/* counted_once - the running daemon catches up and its status holds loggen's truth */
static void
counted_once(void)
{
	int ids = 0;
	char *js;

	cr_assert(sg_wait_caught_up(confp, logp, 1200), "the daemon did not catch up");
	cr_assert_not_null(js = sg_status_running(confp));
	cr_expect_eq(sg_truth_mismatches(js, truthp, &ids), 0, "status differs from the truth");
	cr_expect_gt(ids, 100);
	free(js);
}

/* committed - the log offset the database holds (0: none yet, or it is busy) */
static long long
committed(void)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long off = 0;

	if (sqlite3_open_v2(dbp, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return (0);
	}
	sqlite3_busy_timeout(db, 100);
	if (sqlite3_prepare_v2(db, "SELECT offset FROM cursor", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			off = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return (off);
}

/* threads - how many threads process pid has (0: none to be seen) */
static int
threads(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return (0);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return (n);
}

/*
 * run_until - start the daemon and wait, watching its threads, until the
 * committed offset reaches upto (then SIGKILL it) or, upto 0, the whole
 * log (then it stays); the most threads seen
 */
static int
run_until(pid_t *pidp, long long upto, long long size)
{
	pid_t pid = sg_spawn_daemon(confp, errp);
	int most = 0, i, t;

	cr_assert_gt(pid, 0);
	for (i = 0; i < 6000; i++) {
		long long off = committed();

		if ((t = threads(pid)) > most)
			most = t;
		if (upto > 0 && off >= upto) {
			cr_assert(sg_stopped(pid, SIGKILL));
			cr_assert_lt(off, size, "killed only after the end: the log is too short");
			*pidp = 0;
			return (most);
		}
		if (upto == 0 && off == size) {
			*pidp = pid;
			return (most);
		}
		sg_msleep(5);
	}
	cr_assert_fail("the daemon did not get to offset %lld of %lld:\n%s", upto ? upto : size,
	    size, sg_slurp_path(errp));
	return (0);
}

Test(catchup_daemon, killed_while_reading_ahead_counts_every_message_once, .timeout = 300)
{
	static const double kills[] = { 0.2, 0.45, 0.7 };
	int most[4], idle;
	struct stat st;
	pid_t pid = 0;
	size_t i;

	gen_log(200000);
	cr_assert_eq(stat(logp, &st), 0);
	write_conf();
	/* killed three times well past the first batch (read in line), started again */
	for (i = 0; i < 3; i++)
		most[i] = run_until(&pid, (long long)(kills[i] * (double)st.st_size), st.st_size);
	most[3] = run_until(&pid, 0, st.st_size);
	counted_once();
	/* caught up, the reader thread is gone; each run had it while catching up */
	idle = threads(pid);
	cr_assert(sg_stopped(pid, SIGTERM));
	cr_expect_gt(idle, 0);
	for (i = 0; i < 4; i++)
		cr_expect_gt(most[i], idle, "run %zu: no reader thread while catching up", i + 1);
}

/*
 * A write error while catching up (the state file cannot grow: `ulimit
 * -f`, as a full disk) stops the daemon with exit 3 and the error, and
 * loses nothing: the file keeps the batches before it, rows and position
 * together, and started again (no limit) the daemon counts every message
 * of the log once.
 */
Test(catchup_daemon, a_write_error_stops_with_exit_3_and_loses_nothing, .timeout = 300)
{
	/* 2000 blocks of 512 bytes (dash): the first batch fits, a later one not */
	const char *argv[] = { "/bin/sh", "-c", "trap '' XFSZ; ulimit -f 2000; exec \"$0\" \"$@\"",
		sg_bin(), "run", "-f", "-c", confp, NULL };
	struct cmdres r;
	struct stat st;
	long long off;
	pid_t pid;

	gen_log(200000);
	cr_assert_eq(stat(logp, &st), 0);
	write_conf();
	r = runcmd(argv, NULL);
	cr_expect_eq(r.status, 3, "exit %d:\n%s", r.status, r.err);
	cr_expect_not_null(strstr(r.err, "disk I/O error"), "%s", r.err);
	cr_expect_not_null(strstr(r.err, "; stopping without the last batch"), "%s", r.err);
	cmdres_free(&r);
	off = committed();
	cr_expect_gt(off, 0, "the batches before the error are in the file");
	cr_expect_lt(off, st.st_size, "the error came before the end");
	(void)run_until(&pid, 0, st.st_size);
	counted_once();
	cr_assert(sg_stopped(pid, SIGTERM));
}

/* line_ends - the offsets after lines at[0..n) of the log (each at[i] lines in), in ends */
static void
line_ends(const long *at, size_t n, long long *ends)
{
	char buf[65536];
	long lines = 0;
	long long off = 0;
	size_t got, i = 0, j;
	FILE *fp;

	cr_assert_not_null(fp = fopen(logp, "r"));
	while (i < n && (got = fread(buf, 1, sizeof(buf), fp)) > 0) {
		for (j = 0; j < got && i < n; j++)
			if (buf[j] == '\n' && ++lines == at[i])
				ends[i++] = off + (long long)j + 1;
		off += (long long)got;
	}
	fclose(fp);
	cr_assert_eq(i, n, "the log has fewer than %ld lines", at[n - 1]);
}

/*
 * Catching up, the daemon commits its first batch (read in line) at
 * 20,000 lines and then 50,000 lines at a time (each commit writes every
 * page its rows touched in the indexes: fewer, larger ones catch up
 * sooner): every position the file holds while it catches up is the end
 * of one of those batches, and every message is counted once.
 */
Test(catchup_daemon, catching_up_commits_20000_lines_then_50000_at_a_time, .timeout = 300)
{
	static const long at[] = { 20000, 70000, 120000, 170000 };
	long long ends[4], off, last = 0;
	size_t i, mid = 0;
	struct stat st;
	pid_t pid;
	int k;

	gen_log(200000);
	cr_assert_eq(stat(logp, &st), 0);
	line_ends(at, 4, ends);
	write_conf();
	cr_assert_gt(pid = sg_spawn_daemon(confp, errp), 0);
	for (k = 0; k < 60000 && last != st.st_size; k++) {
		if ((off = committed()) != last && off != st.st_size) {
			for (i = 0; i < 4 && ends[i] != off; i++)
				;
			cr_assert_lt(i, 4,
			    "committed at offset %lld: not the end of a batch of 20,000 "
			    "then 50,000 lines (%lld %lld %lld %lld)",
			    off, ends[0], ends[1], ends[2], ends[3]);
			mid += i > 0;
		}
		last = off;
		sg_msleep(1);
	}
	cr_assert_eq(last, st.st_size, "the daemon did not catch up:\n%s", sg_slurp_path(errp));
	cr_expect_gt(mid, 0, "no position between the first batch and the end was seen");
	counted_once();
	cr_assert(sg_stopped(pid, SIGTERM));
}
