/*
 * test_fail2ban - the client IPs of a blocked identity leave sendguard:
 * the daemon (stand-in Postfix programs, tests/runcmd.h) reads a log in
 * which alice's password is used by a thief from two addresses while her
 * own usual address sent two hours before and bob sends from his; when
 * she goes over the limit, the block line names exactly the thief's
 * addresses (those of the window that crossed), and so do status --json,
 * the exec command's %a, explain and, fed the daemon's own output with a
 * syslog header as rsyslog and journalctl write it, the real
 * fail2ban-regex with contrib/fail2ban's filter.  fail2ban-regex comes
 * from Debian's fail2ban package (.ci/install-deps); without it that test
 * is skipped and says so.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/queue.h"
#include "tests/runcmd.h"

#define F2B_REGEX "/usr/bin/fail2ban-regex"
#define F2B_COMMON "/etc/fail2ban/filter.d/common.conf"

static char dir[64], logp[128], confp[128], errp[128], callsp[128];
static pid_t daemon_pid;

static void
setup(void)
{
	cr_assert_eq(sg_lower_tmpdir(dir, sizeof(dir), "sg-f2b"), 0, "no temporary directory");
	cr_assert_eq(sg_standins(dir), 0, "stand-ins in %s", dir);
	cr_assert_eq(sg_postcat_standin(dir), 0, "stand-in postcat in %s", dir);
	snprintf(logp, sizeof(logp), "%s/mail.log", dir);
	snprintf(confp, sizeof(confp), "%s/agent.conf", dir);
	snprintf(errp, sizeof(errp), "%s/daemon.err", dir);
	snprintf(callsp, sizeof(callsp), "%s/calls.log", dir);
	setenv("TZ", "UTC", 1);
}

static void
teardown(void)
{
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGKILL);
		waitpid(daemon_pid, NULL, 0);
		daemon_pid = 0;
	}
	if (getenv("SG_KEEP") == NULL)
		sg_rm_tmpdir(dir);
}

TestSuite(fail2ban, .init = setup, .fini = teardown);

/* The thief's addresses, as the block names them: as many messages each, the newest first. */
#define THIEF "2001:db8::7,203.0.113.10"

/*
 * blocked - the story, read by the daemon until alice is blocked: her own
 * address two hours before, bob's two messages, the thief's four (the
 * fourth crosses messages = 3/1h).  Returns the daemon's output (caller
 * frees); the daemon is stopped.
 */
static char *
blocked(void)
{
	static const struct {
		int ago;
		const char *qid, *login, *ip;
	} m[] = {
		{ 7200, "A1A1A1A1A1", "alice@example.com", "192.0.2.10" },
		{ 600, "B1B1B1B1B1", "bob@example.com", "198.51.100.20" },
		{ 590, "B2B2B2B2B2", "bob@example.com", "198.51.100.20" },
		{ 300, "C1C1C1C1C1", "alice@example.com", "203.0.113.10" },
		{ 299, "C2C2C2C2C2", "alice@example.com", "203.0.113.10" },
		{ 298, "C3C3C3C3C3", "alice@example.com", "2001:db8::7" },
		{ 297, "C4C4C4C4C4", "alice@example.com", "2001:db8::7" },
	};
	time_t now = time(NULL);
	FILE *fp;
	size_t i;
	long t;
	int st;

	cr_assert_not_null(fp = fopen(confp, "w"));
	fprintf(fp, "[agent]\nlog = %s\nstate = %s/state.db\nsocket = %s/ctl.sock\n"
	    "start_at = beginning\nretention = 30d\npostfix_config_dir = %s/etc\n"
	    "postsuper = %s/bin/postsuper\npostmap = %s/bin/postmap\npostfix = %s/bin/postfix\n"
	    "sendmail = %s/bin/sendmail\npostcat = %s/bin/postcat\nhostname = mx\n\n"
	    "[limit submission]\nby = sasl\nmessages = 3/1h\nactions = hold, block, exec\n\n"
	    "[action block]\nsasl_map = %s/etc/sasl_access\nsender_map = %s/etc/sender_access\n\n"
	    "[action exec]\ncommand = %s/bin/exec %%i %%a\n",
	    logp, dir, dir, dir, dir, dir, dir, dir, dir, dir, dir, dir);
	fclose(fp);
	cr_assert_not_null(fp = fopen(logp, "w"));
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		cr_assert_eq(sg_queue_msg(dir, m[i].qid, m[i].login, m[i].login, m[i].ip), 0);
		sg_log_msg_ip(fp, now - m[i].ago, m[i].qid, m[i].login, m[i].login, m[i].ip);
	}
	fclose(fp);
	cr_assert_gt(daemon_pid = sg_spawn_daemon(confp, errp), 0);
	for (t = 0; t < 15000 && !sg_file_has(callsp, "== exec"); t += 50)
		sg_msleep(50);
	st = sg_kill_wait(daemon_pid, SIGTERM);
	daemon_pid = 0;
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the daemon did not stop cleanly");
	return (sg_slurp_path(errp));
}

/* has_line - text has a line that starts with start and holds part */
static int
has_line(const char *text, const char *start, const char *part)
{
	const char *p, *nl;

	for (p = text; *p != '\0'; p = *nl ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		if (strncmp(p, start, strlen(start)) == 0 &&
		    memmem(p, (size_t)(nl - p), part, strlen(part)) != NULL)
			return (1);
	}
	return (0);
}

/* copy - the file from into to; 0 or -1 */
static int
copy(const char *from, const char *to)
{
	char *b = sg_slurp_path(from);
	FILE *fp;
	int r;

	if (b == NULL || (fp = fopen(to, "w")) == NULL) {
		free(b);
		return (-1);
	}
	r = fputs(b, fp) < 0 ? -1 : 0;
	free(b);
	return (fclose(fp) != 0 ? -1 : r);
}

Test(fail2ban, block_line_status_exec_and_explain_name_the_windows_addresses)
{
	char *out = blocked(), *js, *b;
	const char *argv[] = { sg_bin(), "explain", "-c", confp, "sasl:alice@example.com", NULL };
	struct cmdres r;
	struct sg_calls cs;
	int i, seen = 0;

	cr_assert_not_null(out);
	cr_expect_not_null(strstr(out, "sendguard: block: sasl:alice@example.com rule submission "
					"ips " THIEF "\n"),
	    "the block line names the thief's addresses:\n%s", out);
	cr_expect_not_null(strstr(out, "sendguard: block-ip: 2001:db8::7 identity "
					"sasl:alice@example.com rule submission\n"),
	    "%s", out);
	cr_expect_not_null(strstr(out, "sendguard: block-ip: 203.0.113.10 identity "
					"sasl:alice@example.com rule submission\n"),
	    "%s", out);
	cr_expect_null(strstr(out, "block-ip: 192.0.2.10"), "the owner's old address: %s", out);
	cr_expect_null(strstr(out, "block-ip: 198.51.100.20"), "bob's address: %s", out);
	cr_expect_null(strstr(out, "sasl:bob@example.com rule"), "bob is not blocked: %s", out);
	free(out);

	/* status --json, read from the database now that the daemon is gone */
	cr_assert_not_null(js = sg_status_json(confp));
	cr_assert_not_null(b = sg_blocked_entry(js, "sasl:alice@example.com"), "%s", js);
	cr_expect_not_null(strstr(b, "\"ips\": [\"2001:db8::7\", \"203.0.113.10\"]"), "%s", b);
	free(b);
	free(js);

	/* the exec command got %a as one argument */
	sg_calls_load(&cs, callsp, 0);
	for (i = 0; i < cs.n; i++)
		if (strcmp(cs.c[i].name, "exec") == 0) {
			seen = 1;
			cr_expect_eq(cs.c[i].narg, 2, "exec argv: %%i %%a");
			if (cs.c[i].narg == 2) {
				cr_expect_str_eq(cs.c[i].arg[0], "sasl:alice@example.com");
				cr_expect_str_eq(cs.c[i].arg[1], THIEF);
			}
		}
	sg_calls_free(&cs);
	cr_expect(seen, "the exec command ran");

	/* explain: every address with its messages, first and last; the block's own */
	r = runcmd(argv, NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect_not_null(strstr(r.out, "its last block named the client IPs: " THIEF "\n"), "%s",
	    r.out);
	cr_expect(has_line(r.out, "  2001:db8::7 ", " 2 messages  first "), "%s", r.out);
	cr_expect(has_line(r.out, "  203.0.113.10 ", " 2 messages  first "), "%s", r.out);
	cr_expect(has_line(r.out, "  192.0.2.10 ", " 1 message   first "), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "deliveries (of its 5 stored messages"), "%s", r.out);
	cmdres_free(&r);
}

/*
 * headed - the daemon's lines as they reach fail2ban: each with an
 * rsyslog header (RFC 3339; the daemon logging to syslog writes no
 * "sendguard: " of its own) and as journalctl writes the unit's entry
 */
static void
headed(const char *out, const char *path)
{
	const char *p, *nl;
	FILE *fp;

	cr_assert_not_null(fp = fopen(path, "w"));
	for (p = out; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		int n = (int)(nl - p);

		if (n > 11 && strncmp(p, "sendguard: ", 11) == 0)
			fprintf(fp, "2026-03-02T10:00:01.123456+00:00 mx sendguard[4242]: %.*s\n", n - 11,
			    p + 11);
		fprintf(fp, "Mar 02 10:00:01 mx sendguard[4242]: %.*s\n", n, p);
	}
	fclose(fp);
}

Test(fail2ban, the_real_fail2ban_regex_finds_exactly_the_thiefs_addresses)
{
	char *out, path[256], filter[512], fdir[256], src[512], common[512];
	const char *srcdir = getenv("SG_SRCDIR");
	struct cmdres r;
	struct stat st;

	if (stat(F2B_REGEX, &st) != 0 || stat(F2B_COMMON, &st) != 0)
		cr_skip_test("fail2ban-regex not installed (Debian package fail2ban)");
	out = blocked();
	cr_assert_not_null(out);
	snprintf(path, sizeof(path), "%s/sendguard.log", dir);
	headed(out, path);
	free(out);
	/* the filter beside the package's common.conf, as in /etc/fail2ban/filter.d */
	snprintf(fdir, sizeof(fdir), "%s/f2b", dir);
	cr_assert_eq(mkdir(fdir, 0755), 0);
	snprintf(fdir, sizeof(fdir), "%s/f2b/filter.d", dir);
	cr_assert_eq(mkdir(fdir, 0755), 0);
	snprintf(filter, sizeof(filter), "%s/sendguard.conf", fdir);
	snprintf(common, sizeof(common), "%s/common.conf", fdir);
	snprintf(src, sizeof(src), "%s/contrib/fail2ban/filter.d/sendguard.conf",
	    srcdir != NULL ? srcdir : ".");
	cr_assert_eq(copy(F2B_COMMON, common), 0, "%s", F2B_COMMON);
	cr_assert_eq(copy(src, filter), 0, "%s", src);
	{
		/* as the server reads a line: one regex, one failure */
		const char *argv[] = { F2B_REGEX, "--no-check-all", "-o", "ip", path, filter, NULL };

		r = runcmd(argv, NULL);
	}
	cr_assert_eq(r.status, 0, "fail2ban-regex: %s", r.err);
	cr_expect_str_eq(r.out, "2001:db8::7\n2001:db8::7\n203.0.113.10\n203.0.113.10\n",
	    "each of the thief's addresses once from each header, nothing else:\n%s", r.out);
	cmdres_free(&r);
}
