/*
 * NAME
 *	test_batch - the daemon commits a busy log in batches, not per wake
 * SUMMARY
 *	A log written one line at a time, every 4 ms for 2 s (as a busy mail
 *	host writes it), wakes the daemon hundreds of times.  Each commit
 *	writes the database (its cursor at least); a daemon that committed
 *	once per wake made over one write system call per line, one that
 *	keeps its batch open for up to COMMIT_MS (50 ms) makes a few per
 *	batch.  The test counts the daemon's write calls (syscw of
 *	/proc/PID/io) while the lines flow, and then checks that every line
 *	was read and that a restart after SIGKILL resumes exactly where the
 *	committed batches end (nothing read twice, nothing lost).
 * UNTRUSTED INPUT
 *	None.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/runcmd.h"

#define LINES 500
#define EVERY_MS 4

static char dir[64], logp[128], confp[128], errp[128];

static void
setup(void)
{
	FILE *fp;

	snprintf(dir, sizeof(dir), "/tmp/sg-batch-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(logp, sizeof(logp), "%s/mail.log", dir);
	snprintf(confp, sizeof(confp), "%s/agent.conf", dir);
	snprintf(errp, sizeof(errp), "%s/daemon.err", dir);
	setenv("TZ", "UTC", 1);
	cr_assert_not_null(fp = fopen(confp, "w"));
	fprintf(fp,
	    "[agent]\nlog = %s\nstate = %s/state.db\nsocket = %s/ctl.sock\n"
	    "start_at = beginning\nmode = monitor\n"
	    "[limit s]\nby = sasl\nmessages = 100000/1d\n",
	    logp, dir, dir);
	fclose(fp);
}

static void
teardown(void)
{
	sg_rm_tmpdir(dir);
}

TestSuite(batch, .init = setup, .fini = teardown);

/* syscw - the write system calls process pid has made; -1 if unknown */
static long
syscw(pid_t pid)
{
	char path[64], line[128];
	long v = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "syscw:", 6) == 0)
			v = strtol(line + 6, NULL, 10);
	fclose(fp);
	return (v);
}

/* append - line i (an anvil statistics line: read, counted as a line, no message) */
static void
append(FILE *fp, int i)
{
	fprintf(fp, "2026-11-28T10:%02d:%02d.000000+00:00 mail postfix/anvil[9]: statistics: %d\n",
	    i / 60 % 60, i % 60, i);
	fflush(fp);
}

Test(batch, busy_log_few_commits_and_exact_restart)
{
	char *js;
	FILE *fp;
	pid_t pid;
	long w0, w1;
	int i;

	cr_assert_not_null(fp = fopen(logp, "w"));
	append(fp, 0);
	pid = sg_spawn_daemon(confp, errp);
	cr_assert_gt(pid, 0);
	cr_assert(sg_wait_running(confp), "the daemon never answered");
	cr_assert(sg_wait_caught_up(confp, logp, 400), "the daemon did not read the first line");
	w0 = syscw(pid);
	cr_assert_geq(w0, 0, "/proc/%d/io: %s", (int)pid, strerror(errno));
	for (i = 1; i < LINES; i++) {
		append(fp, i);
		sg_msleep(EVERY_MS);
	}
	sg_msleep(300); /* the last batch's commit timer */
	w1 = syscw(pid);
	cr_expect_lt(w1 - w0, LINES / 2,
	    "%ld write calls for %d lines written one at a time: a commit per wake, not per "
	    "batch",
	    w1 - w0, LINES - 1);
	cr_assert(sg_wait_caught_up(confp, logp, 400), "the daemon did not catch up");
	js = sg_status_running(confp);
	cr_assert_not_null(js);
	cr_expect_eq(sg_jnum(js, "\"lines\": "), (unsigned long long)LINES, "%s", js);
	free(js);

	/* killed with a batch perhaps open: the next start reads only what was not committed */
	for (i = LINES; i < LINES + 20; i++)
		append(fp, i);
	fclose(fp);
	cr_assert_neq(sg_kill_wait(pid, SIGKILL), -1);
	pid = sg_spawn_daemon(confp, errp);
	cr_assert_gt(pid, 0);
	cr_assert(sg_wait_running(confp), "the daemon did not restart");
	cr_assert(sg_wait_caught_up(confp, logp, 400), "the restarted daemon did not catch up");
	js = sg_status_running(confp);
	cr_assert_not_null(js);
	/* lines read since this start + the committed position's lines = every line once */
	cr_expect_leq(sg_jnum(js, "\"lines\": "), 20ULL, "read again after SIGKILL: %s", js);
	free(js);
	sg_kill_wait(pid, SIGTERM);
}
