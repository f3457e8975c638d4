/*
 * test_metrics - metrics_file as node_exporter's textfile collector reads
 * it: the real daemon (`sendguard run -f`, enforcing through the
 * stand-in Postfix programs of runcmd.h, and the stand-in queue of
 * queue.h that confirms alice's messages) follows a known log; the file
 * appears at once with the counts of that log (lines, messages, verdicts
 * by rule, the block in force, the top identities of the rule's window,
 * with a hostile login's label escaped), then is rewritten by the 15 s
 * timer after more lines and the hold program's run; `promtool check
 * metrics` (Debian's prometheus) accepts it.  Without promtool that one
 * check is skipped with a message (sh .ci/install-deps installs it).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/queue.h"
#include "tests/runcmd.h"

#define PROMTOOL "/usr/bin/promtool"

static char dir[64], confp[128], logp[128], promp[128], errp[128];
static pid_t daemon_pid;

/* A login with a quote, a backslash and a byte that is not UTF-8. */
#define HOSTILE "we\"ird\\lo\xffgin@example.com"
#define HOSTILE_LABEL "sasl:we\\\"ird\\\\lo\\\\xffgin@example.com"

static void
setup(void)
{
	FILE *fp;
	time_t now = time(NULL);
	char qid[16];
	int i;

	cr_assert_eq(sg_lower_tmpdir(dir, sizeof(dir), "sg-metrics"), 0);
	cr_assert_eq(sg_standins(dir), 0);
	cr_assert_eq(sg_postcat_standin(dir), 0);
	snprintf(confp, sizeof(confp), "%s/agent.conf", dir);
	snprintf(logp, sizeof(logp), "%s/mail.log", dir);
	snprintf(promp, sizeof(promp), "%s/sendguard.prom", dir);
	snprintf(errp, sizeof(errp), "%s/daemon.err", dir);
	cr_assert_not_null(fp = fopen(logp, "w"));
	for (i = 0; i < 5; i++) { /* the 4th crosses 3/1h */
		snprintf(qid, sizeof(qid), "4A%04d", i);
		sg_log_msg(fp, now - 600 + i * 10, qid, "alice@example.com", "alice@example.com");
		cr_assert_eq(sg_queue_msg(dir, qid, "alice@example.com", "alice@example.com",
				 "192.0.2.10"),
		    0);
	}
	sg_log_msg(fp, now - 300, "4C0001", HOSTILE, "x@example.com");
	fclose(fp);
	cr_assert_not_null(fp = fopen(confp, "w"));
	fprintf(fp,
	    "[agent]\nlog = %s\nstate = %s/state.db\nsocket = %s/ctl.sock\nstart_at = beginning\n"
	    "postfix_config_dir = %s/etc\npostsuper = %s/bin/postsuper\npostmap = %s/bin/postmap\n"
	    "postfix = %s/bin/postfix\nsendmail = %s/bin/sendmail\npostcat = %s/bin/postcat\n"
	    "hostname = mx\nmetrics_file = %s\n\n"
	    "[limit submission]\nby = sasl\nmessages = 3/1h\nactions = hold\n",
	    logp, dir, dir, dir, dir, dir, dir, dir, dir, promp);
	fclose(fp);
}

static void
teardown(void)
{
	if (daemon_pid > 0)
		sg_kill_wait(daemon_pid, SIGTERM);
	daemon_pid = 0;
	sg_rm_tmpdir(dir);
}

TestSuite(metrics, .init = setup, .fini = teardown, .timeout = 90);

/* value - the value of the sample line that starts with name (with its labels); -1: none */
static double
value(const char *text, const char *name)
{
	const char *p = text;
	size_t n = strlen(name);

	while ((p = strstr(p, name)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return (strtod(p + n + 1, NULL));
		p += n;
	}
	return (-1);
}

/* wait_for - the file once the sample name reaches at least want (tries x 100 ms); caller frees */
static char *
wait_for(const char *name, double want, int tries)
{
	char *text = NULL;
	int i;

	for (i = 0; i < tries; i++) {
		free(text);
		if ((text = sg_slurp_path(promp)) != NULL && value(text, name) >= want)
			return (text);
		sg_msleep(100);
	}
	return (text);
}

Test(metrics, values_of_a_known_log_and_rewritten_by_the_timer)
{
	char *text;
	FILE *fp;
	struct stat st;

	daemon_pid = sg_spawn_daemon(confp, errp);
	cr_assert(sg_wait_running(confp), "the daemon answers");
	text = wait_for("sendguard_messages_counted_total", 6, 100);
	cr_assert_not_null(text, "%s was written", promp);
	cr_expect_eq(value(text, "sendguard_lines_read_total"), 12, "%s", text);
	cr_expect_eq(value(text, "sendguard_lines_unparsed_total"), 0);
	cr_expect_eq(value(text, "sendguard_messages_counted_total"), 6);
	cr_expect_eq(value(text, "sendguard_verdicts_total{rule=\"submission\"}"), 1);
	cr_expect_eq(value(text, "sendguard_blocks_active"), 1);
	cr_expect_eq(value(text, "sendguard_untrusted_lines_total"), 0);
	cr_expect_eq(value(text, "sendguard_future_lines_total"), 0);
	cr_expect_eq(value(text, "sendguard_window_threshold{rule=\"submission\",limit=\"messages\","
				 "window=\"1h\"}"),
	    3);
	cr_expect_eq(value(text, "sendguard_window_value{rule=\"submission\",limit=\"messages\","
				 "window=\"1h\",identity=\"sasl:alice@example.com\"}"),
	    5, "%s", text);
	cr_expect_eq(value(text, "sendguard_window_value{rule=\"submission\",limit=\"messages\","
				 "window=\"1h\",identity=\"" HOSTILE_LABEL "\"}"),
	    1, "the hostile login's label is escaped: %s", text);
	cr_expect(value(text, "sendguard_lag_seconds") >= 299 &&
		value(text, "sendguard_lag_seconds") < 400,
	    "the lag: wall clock minus the last line (300 s)");
	cr_expect_eq(stat(promp, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0644, "readable by node_exporter");
	free(text);

	/* more lines; the timer writes the file again, with the hold run by then */
	cr_assert_not_null(fp = fopen(logp, "a"));
	sg_log_msg(fp, time(NULL) - 5, "4B0001", "bob@example.com", "bob@example.com");
	sg_log_msg(fp, time(NULL) - 4, "4B0002", "bob@example.com", "bob@example.com");
	fclose(fp);
	text = wait_for("sendguard_messages_counted_total", 8, 250);
	cr_assert_not_null(text);
	cr_expect_eq(value(text, "sendguard_messages_counted_total"), 8, "rewritten: %s", text);
	cr_expect_eq(value(text, "sendguard_lines_read_total"), 16);
	cr_expect_geq(value(text, "sendguard_action_runs_total{action=\"hold\"}"), 1, "%s", text);
	cr_expect_eq(value(text, "sendguard_action_failures_total{action=\"hold\"}"), 0);
	cr_expect_geq(value(text, "sendguard_held_messages"), 4, "alice's queued mail is held");
	cr_expect_null(strstr(text, "bob@example.com\"} 0"), "only counts above 0");
	free(text);
}

Test(metrics, promtool_accepts_the_file)
{
	const char *argv[] = { PROMTOOL, "check", "metrics", NULL };
	struct cmdres r;
	char *text;

	if (access(PROMTOOL, X_OK) != 0)
		cr_skip_test("promtool not installed (sh .ci/install-deps installs prometheus)");
	daemon_pid = sg_spawn_daemon(confp, errp);
	cr_assert(sg_wait_running(confp), "the daemon answers");
	text = wait_for("sendguard_messages_counted_total", 6, 100);
	cr_assert_not_null(text);
	free(text);
	r = runcmd(argv, promp);
	cr_expect_eq(r.status, 0, "promtool check metrics: %s%s", r.out, r.err);
	cmdres_free(&r);
}
