/*
 * test_audit - `sendguard audit` as an administrator runs it: exit codes,
 * formats, several inputs in order, gzip and stdin, --since/--until (the
 * report's head shows the interval and its totals; relative times),
 * hostile logins in every output format.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "tests/runcmd.h"

static char dir[64];

#define H "2024-03-01T10:"
/* alice sends three messages (4AAA01, 4AAA02, 4AAA03), one goes through a content filter */
static const char log_a[] =
H "00:00.000000+00:00 mx postfix/submission/smtpd[100]: 4AAA01: client=h.example.net[192.0.2.10], sasl_method=PLAIN, sasl_username=alice@example.com\n"
H "00:01.000000+00:00 mx postfix/qmgr[50]: 4AAA01: from=<alice@example.com>, size=1000, nrcpt=2 (queue active)\n"
H "00:02.000000+00:00 mx postfix/10025/smtpd[101]: 4BBB01: client=localhost[127.0.0.1]\n"
H "00:02.100000+00:00 mx postfix/qmgr[50]: 4BBB01: from=<alice@example.com>, size=1200, nrcpt=2 (queue active)\n"
H "00:02.200000+00:00 mx postfix/amavis/smtp[102]: 4AAA01: to=<x@example.org>, relay=127.0.0.1[127.0.0.1]:10024, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 4BBB01)\n"
H "00:02.300000+00:00 mx postfix/qmgr[50]: 4AAA01: removed\n"
H "10:00.000000+00:00 mx postfix/submission/smtpd[100]: 4AAA02: client=h.example.net[192.0.2.10], sasl_method=PLAIN, sasl_username=Alice@Example.com\n"
H "10:01.000000+00:00 mx postfix/qmgr[50]: 4AAA02: from=<alice@example.com>, size=1000, nrcpt=1 (queue active)\n";
static const char log_b[] =
H "20:00.000000+00:00 mx postfix/submission/smtpd[103]: 4AAA03: client=other.example.net[198.51.100.7], sasl_method=LOGIN, sasl_username=alice@example.com\n"
H "20:01.000000+00:00 mx postfix/qmgr[50]: 4AAA03: from=<alice@example.com>, size=1000, nrcpt=1 (queue active)\n"
H "30:00.000000+00:00 mx postfix/pickup[104]: 4CCC01: uid=33 from=<www-data@example.com>\n"
H "30:01.000000+00:00 mx postfix/qmgr[50]: 4CCC01: from=<www-data@example.com>, size=500, nrcpt=3 (queue active)"; /* no final newline */

static const char conf_2h[] =
"[limit submission]\n"
"by = sasl\n"
"messages = 2/1h\n";

static void
put(const char *name, const char *data, int gz)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (gz) {
		gzFile g = gzopen(path, "wb");

		cr_assert_not_null(g);
		gzwrite(g, data, (unsigned)strlen(data));
		gzclose(g);
	} else {
		FILE *fp = fopen(path, "w");

		cr_assert_not_null(fp);
		fputs(data, fp);
		fclose(fp);
	}
}

static char *
p(const char *name)
{
	static char bufs[8][256];
	static int i;

	i = (i + 1) % 8;
	snprintf(bufs[i], sizeof(bufs[i]), "%s/%s", dir, name);
	return (bufs[i]);
}

static void
setup(void)
{
	char both[4096];

	snprintf(dir, sizeof(dir), "/tmp/sg-audit-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	setenv("TZ", "UTC", 1);
	setenv("SG_NO_DEFAULT_CONF", "1", 1);
	put("a.log", log_a, 0);
	put("b.log", log_b, 0);
	put("b.log.gz", log_b, 1);
	snprintf(both, sizeof(both), "%s%s", log_a, log_b);
	put("all.log", both, 0);
	put("limit.conf", conf_2h, 0);
	put("broken.conf", "[limit x]\nby = nobody\nmessages = 2/1h\nbogus = 1\n", 0);
}

static void
teardown(void)
{
	const char *argv[] = { "/bin/rm", "-rf", dir, NULL };
	struct cmdres r = runcmd(argv, NULL);

	cmdres_free(&r);
}

#define RUN(...) ({ const char *argv_[] = { sg_bin(), __VA_ARGS__, NULL }; runcmd(argv_, NULL); })

TestSuite(audit, .init = setup, .fini = teardown);

Test(audit, counts_and_overrun_json)
{
	struct cmdres r = RUN("audit", "--format", "json", "-c", p("limit.conf"), p("a.log"), p("b.log"));

	cr_expect_eq(r.status, 1, "an overrun exits 1 (stderr: %s)", r.err);
	cr_expect_not_null(strstr(r.out, "{\"identity\": \"sasl:alice@example.com\", \"messages\": 3, \"recipients\": 4, \"ips\": 2"),
	    "alice: 3 messages (case folded, filter copy not counted): %s", r.out);
	cr_expect_not_null(strstr(r.out, "\"identity\": \"uid:33\", \"messages\": 1, \"recipients\": 3"),
	    "last line without newline still counts: %s", r.out);
	cr_expect_not_null(strstr(r.out, "\"threshold\": 2, \"count\": 3, \"at\": \"2024-03-01T10:20:01Z\", \"queue_id\": \"4AAA03\""),
	    "overrun names the crossing message: %s", r.out);
	cr_expect_null(strstr(r.out, "ip:127.0.0.1"), "the content-filter copy is no one's message");
	cr_expect_not_null(strstr(r.out, "\"peak\": 3"));
	cmdres_free(&r);
}

Test(audit, same_report_from_one_file_split_files_gzip_and_stdin)
{
	struct cmdres one = RUN("audit", "--format", "csv", "-c", p("limit.conf"), p("all.log"));
	struct cmdres two = RUN("audit", "--format", "csv", "-c", p("limit.conf"), p("a.log"), p("b.log.gz"));
	const char *argv[] = { sg_bin(), "audit", "--format", "csv", "-c", p("limit.conf"), "-", NULL };
	struct cmdres in = runcmd(argv, p("all.log"));

	cr_expect_eq(one.status, 1);
	cr_expect_str_eq(two.out, one.out);
	cr_expect_str_eq(in.out, one.out);
	cr_expect_not_null(strstr(one.out, "overrun,sasl:alice@example.com,submission,messages,1h,2,,,,3,2024-03-01T10:20:01Z,4AAA03,,,,,,\n"),
	    "csv overrun row: %s", one.out);
	cr_expect_not_null(strstr(one.out, "identity,sasl:alice@example.com,,,,,3,4,2,,,,1,0,0,0,"
	    "192.0.2.10=2 198.51.100.7=1,0\n"), "csv identity row: %s", one.out);
	cmdres_free(&one);
	cmdres_free(&two);
	cmdres_free(&in);
}

Test(audit, no_limits_exits_0)
{
	struct cmdres r = RUN("audit", p("all.log"));

	cr_expect_eq(r.status, 0, "stderr: %s", r.err);
	cr_expect_not_null(strstr(r.out, "sasl:alice@example.com"));
	cr_expect_not_null(strstr(r.out, "OVERRUNS: 0"));
	cmdres_free(&r);
}

Test(audit, since_until)
{
	struct cmdres r = RUN("audit", "--format", "csv", "--since", "2024-03-01T10:05:00Z",
	    "--until", "2024-03-01 10:25", p("all.log"));

	cr_expect_eq(r.status, 0, "stderr: %s", r.err);
	cr_expect_not_null(strstr(r.out, "identity,sasl:alice@example.com,,,,,2,2,"), "%s", r.out);
	cr_expect_null(strstr(r.out, "uid:33"), "after --until: %s", r.out);
	cmdres_free(&r);
}

/* a log with lines that have no time (A..F) between timed ones */
static const char log_gaps[] =
"junk A\n"
H "00:00.000000+00:00 mx postfix/qmgr[50]: 4DDD01: removed\n"
"junk B\n"
H "10:00.000000+00:00 mx postfix/qmgr[50]: 4DDD02: removed\n"
"junk C\n"
"junk D\n"
H "10:01.000000+00:00 mx postfix/qmgr[50]: 4DDD03: removed\n"
"junk E\n"
H "30:00.000000+00:00 mx postfix/qmgr[50]: 4DDD04: removed\n"
"junk F\n";

/*
 * The head of the JSON report with --since/--until: the interval, then
 * lines, unparsed, first, last and counted inside it, the whole input's
 * under "input".  A line without a time is inside when the timed lines on
 * both sides are; at either end of the input the one beside it decides.
 * Without an interval the head is as it always was.
 */
Test(audit, interval_head_json)
{
	static const struct {
		const char *why, *log, *since, *until, *head;
	} tab[] = {
		{ "no interval: unchanged", "all.log", NULL, NULL,
		  "{\"lines\": 12, \"unparsed\": 0, \"too_long\": 0, \"first\": \"2024-03-01T10:00:00Z\", "
		  "\"last\": \"2024-03-01T10:30:01Z\", \"counted\": 4, \"not_counted\": {" },
		{ "both bounds", "all.log", "2024-03-01T10:05:00Z", "2024-03-01 10:25",
		  "{\"since\": \"2024-03-01T10:05:00Z\", \"until\": \"2024-03-01T10:25:00Z\", "
		  "\"lines\": 4, \"unparsed\": 0, \"too_long\": 0, \"first\": \"2024-03-01T10:10:00Z\", "
		  "\"last\": \"2024-03-01T10:20:01Z\", \"counted\": 2, \"input\": {\"lines\": 12, "
		  "\"unparsed\": 0, \"first\": \"2024-03-01T10:00:00Z\", \"last\": \"2024-03-01T10:30:01Z\", "
		  "\"counted\": 4}, \"not_counted\": {" },
		{ "bounds are inclusive", "all.log", "2024-03-01T10:10:00Z", "2024-03-01T10:20:01Z",
		  "{\"since\": \"2024-03-01T10:10:00Z\", \"until\": \"2024-03-01T10:20:01Z\", "
		  "\"lines\": 4, \"unparsed\": 0, \"too_long\": 0, \"first\": \"2024-03-01T10:10:00Z\", "
		  "\"last\": \"2024-03-01T10:20:01Z\", \"counted\": 2, \"input\": {" },
		{ "since only", "all.log", "2024-03-01T10:20:00Z", NULL,
		  "{\"since\": \"2024-03-01T10:20:00Z\", \"until\": null, \"lines\": 4, \"unparsed\": 0, "
		  "\"too_long\": 0, \"first\": \"2024-03-01T10:20:00Z\", \"last\": \"2024-03-01T10:30:01Z\", "
		  "\"counted\": 2, \"input\": {" },
		{ "nothing inside", "all.log", "2024-03-02", NULL,
		  "{\"since\": \"2024-03-02T00:00:00Z\", \"until\": null, \"lines\": 0, \"unparsed\": 0, "
		  "\"too_long\": 0, \"first\": null, \"last\": null, \"counted\": 0, \"input\": {\"lines\": 12, " },
		{ "untimed lines between inside lines only", "gaps.log", "2024-03-01T10:05:00Z", "2024-03-01T10:25:00Z",
		  "{\"since\": \"2024-03-01T10:05:00Z\", \"until\": \"2024-03-01T10:25:00Z\", "
		  "\"lines\": 4, \"unparsed\": 2, \"too_long\": 0, \"first\": \"2024-03-01T10:10:00Z\", "
		  "\"last\": \"2024-03-01T10:10:01Z\", \"counted\": 0, \"input\": {\"lines\": 10, \"unparsed\": 6, " },
		{ "leading untimed lines go with the first timed line", "gaps.log", NULL, "2024-03-01T10:05:00Z",
		  "{\"since\": null, \"until\": \"2024-03-01T10:05:00Z\", \"lines\": 2, \"unparsed\": 1, "
		  "\"too_long\": 0, \"first\": \"2024-03-01T10:00:00Z\", \"last\": \"2024-03-01T10:00:00Z\", " },
		{ "trailing untimed lines go with the last timed line", "gaps.log", "2024-03-01T10:25:00Z", NULL,
		  "{\"since\": \"2024-03-01T10:25:00Z\", \"until\": null, \"lines\": 2, \"unparsed\": 1, "
		  "\"too_long\": 0, \"first\": \"2024-03-01T10:30:00Z\", \"last\": \"2024-03-01T10:30:00Z\", " },
	};
	size_t i;

	put("gaps.log", log_gaps, 0);
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		const char *argv[10] = { sg_bin(), "audit", "--format", "json" };
		struct cmdres r;
		int k = 4;

		if (tab[i].since != NULL) {
			argv[k++] = "--since";
			argv[k++] = tab[i].since;
		}
		if (tab[i].until != NULL) {
			argv[k++] = "--until";
			argv[k++] = tab[i].until;
		}
		argv[k++] = p(tab[i].log);
		argv[k] = NULL;
		r = runcmd(argv, NULL);
		cr_expect_eq(r.status, 0, "%s: exit %d (stderr: %s)", tab[i].why, r.status, r.err);
		cr_expect_eq(strncmp(r.out, tab[i].head, strlen(tab[i].head)), 0,
		    "%s:\n got  %.*s\n want %s", tab[i].why, (int)strlen(tab[i].head), r.out, tab[i].head);
		if (tab[i].since == NULL && tab[i].until == NULL)
			cr_expect_null(strstr(r.out, "\"input\""), "%s: %s", tab[i].why, r.out);
		cmdres_free(&r);
	}
}

/* head - the report's text before its identity table (cut in place) */
static const char *
head(char *out)
{
	char *e = strstr(out, "\nIDENTITY");

	if (e != NULL)
		*e = '\0';
	return (out);
}

/* The table's head with an interval: the interval and its totals first, then the whole input's */
Test(audit, interval_head_table)
{
	struct cmdres r = RUN("audit", "--since", "2024-03-01T10:05:00Z", "--until", "2024-03-01 10:25",
	    p("all.log"));
	struct cmdres o = RUN("audit", "--until", "2024-03-01T09:00:00+00:00", p("all.log"));
	struct cmdres n = RUN("audit", p("all.log"));

	cr_expect_eq(r.status, 0, "stderr: %s", r.err);
	cr_expect_str_eq(head(r.out),
	    "Interval:   2024-03-01T10:05:00Z .. 2024-03-01T10:25:00Z\n"
	    "Lines:      4 in the interval (0 not syslog lines)\n"
	    "Log time:   2024-03-01T10:10:00Z to 2024-03-01T10:20:01Z in the interval\n"
	    "Messages:   2 counted in the interval\n"
	    "Input:      12 lines read (0 not syslog lines, 0 over-long)\n"
	    "            2024-03-01T10:00:00Z to 2024-03-01T10:30:01Z\n"
	    "            4 messages counted; not counted: 1 content-filter copies, 0 requeued, "
	    "0 without a client or pickup line\n");
	cr_expect_str_eq(head(o.out),
	    "Interval:   (start of input) .. 2024-03-01T09:00:00Z\n"
	    "Lines:      0 in the interval (0 not syslog lines)\n"
	    "Log time:   no line in the interval\n"
	    "Messages:   0 counted in the interval\n"
	    "Input:      12 lines read (0 not syslog lines, 0 over-long)\n"
	    "            2024-03-01T10:00:00Z to 2024-03-01T10:30:01Z\n"
	    "            4 messages counted; not counted: 1 content-filter copies, 0 requeued, "
	    "0 without a client or pickup line\n");
	cr_expect_str_eq(head(n.out),
	    "Lines read: 12 (0 not syslog lines, 0 over-long)\n"
	    "Log time:   2024-03-01T10:00:00Z to 2024-03-01T10:30:01Z\n"
	    "Messages:   4 counted; not counted: 1 content-filter copies, 0 requeued, "
	    "0 without a client or pickup line\n", "without an interval, as before");
	cmdres_free(&r);
	cmdres_free(&o);
	cmdres_free(&n);
}

/*
 * Relative times against the real clock: a log of 2024 lies wholly before
 * -7d, yesterday and today, and wholly before --until today.  (Their exact
 * values are tested with a fixed now in test_when.)
 */
Test(audit, relative_times)
{
	static const struct { const char *opt, *arg, *lines; } tab[] = {
		{ "--since", "-7d", "\"lines\": 0, " },
		{ "--since", "-90s", "\"lines\": 0, " },
		{ "--since", "yesterday", "\"lines\": 0, " },
		{ "--since", "today", "\"lines\": 0, " },
		{ "--until", "today", "\"lines\": 12, " },
		{ "--until", "-2h", "\"lines\": 12, " },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct cmdres r = RUN("audit", "--format", "json", tab[i].opt, tab[i].arg, p("all.log"));

		cr_expect_eq(r.status, 0, "%s %s: exit %d (%s)", tab[i].opt, tab[i].arg, r.status, r.err);
		cr_expect_not_null(strstr(r.out, tab[i].lines), "%s %s: %s", tab[i].opt, tab[i].arg, r.out);
		cr_expect_not_null(strstr(r.out, tab[i].opt[2] == 's' ? "\"until\": null" : "\"since\": null"),
		    "%s %s: %s", tab[i].opt, tab[i].arg, r.out);
		cmdres_free(&r);
	}
}

struct bad {
	const char *why;
	const char *a[8];
	const char *msg;
};

Test(audit, usage_and_input_errors_exit_2)
{
	struct bad tab[] = {
		{ "no log", { "audit", NULL }, "no log file" },
		{ "missing log", { "audit", "/nonexistent/mail.log", NULL }, "/nonexistent/mail.log" },
		{ "bad format", { "audit", "--format", "xml", "x", NULL }, "--format" },
		{ "bad since", { "audit", "--since", "last week", "x", NULL }, "--since: cannot read time 'last week'" },
		{ "bad year", { "audit", "--year", "20x4", "x", NULL }, "--year" },
		{ "broken config", { "audit", "-c", NULL, "x", NULL }, "broken.conf:2:" },
		{ "missing config", { "audit", "-c", "/nonexistent.conf", "x", NULL }, "/nonexistent.conf" },
		{ "bad relative until", { "audit", "--until", "-2w", "x", NULL },
		  "--until: '-2w' is not a relative time" },
		{ "relative without unit", { "audit", "--since", "-90", "x", NULL },
		  "--since: '-90' is not a relative time" },
		{ "tomorrow", { "audit", "--until", "tomorrow", "x", NULL }, "--until: cannot read time 'tomorrow'" },
		{ "since after until", { "audit", "--since", "2024-03-02", "--until", "2024-03-01T12:00:00Z", "x", NULL },
		  "--since (2024-03-02T00:00:00Z) is after --until (2024-03-01T12:00:00Z)" },
		{ "since today, until yesterday", { "audit", "--since", "today", "--until", "yesterday", "x", NULL },
		  "is after --until" },
	};
	size_t i;
	int k;

	tab[5].a[2] = p("broken.conf");
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		const char *argv[10] = { sg_bin() };
		struct cmdres r;

		for (k = 0; tab[i].a[k] != NULL || (i == 5 && k == 2); k++)
			argv[k + 1] = tab[i].a[k];
		argv[k + 1] = NULL;
		r = runcmd(argv, NULL);
		cr_expect_eq(r.status, 2, "%s: exit %d", tab[i].why, r.status);
		cr_expect_not_null(strstr(r.err, tab[i].msg), "%s: stderr [%s]", tab[i].why, r.err);
		cmdres_free(&r);
	}
}

Test(audit, help_and_version)
{
	struct cmdres h = RUN("audit", "--help");
	struct cmdres v = RUN("--version");
	struct cmdres g = RUN("--help");

	cr_expect_eq(h.status, 0);
	cr_expect_not_null(strstr(h.out, "usage: sendguard audit"));
	cr_expect_eq(v.status, 0);
	cr_expect_not_null(strstr(v.out, "sendguard "));
	cr_expect_eq(g.status, 0);
	cr_expect_not_null(strstr(g.out, "check-config"));
	cmdres_free(&h);
	cmdres_free(&v);
	cmdres_free(&g);
}

Test(audit, hostile_login_in_every_format)
{
	static const char hostile[] =
	H "00:00.000000+00:00 mx postfix/smtpd[1]: 5AAA01: client=h[192.0.2.1], sasl_method=PLAIN, sasl_username=ev,il \"x\" \xff[31m=1\n"
	H "00:01.000000+00:00 mx postfix/qmgr[2]: 5AAA01: from=<>, size=1, nrcpt=1 (queue active)\n";
	struct cmdres t, j, c;

	put("hostile.log", hostile, 0);
	t = RUN("audit", p("hostile.log"));
	j = RUN("audit", "--format", "json", p("hostile.log"));
	c = RUN("audit", "--format", "csv", p("hostile.log"));
	cr_expect_null(strchr(t.out, '\xff'), "no raw high byte reaches the terminal: %s", t.out);
	cr_expect_not_null(strstr(t.out, "sasl:ev,il \"x\" \\xff[31m=1"), "%s", t.out);
	cr_expect_not_null(strstr(j.out, "\"sasl:ev,il \\\"x\\\" \\u00ff[31m=1\""), "%s", j.out);
	cr_expect_not_null(strstr(c.out, "identity,\"sasl:ev,il \"\"x\"\" \xff[31m=1\",,,,,1,1,1"), "%s", c.out);
	cr_expect_null(strstr(j.out, "sender:"), "the null sender is no identity");
	cmdres_free(&t);
	cmdres_free(&j);
	cmdres_free(&c);
}

/*
 * The JSON rows write a printable ASCII identity as it is: a double quote
 * or a backslash alone (no other byte to escape) must still be escaped
 */
Test(audit, json_escapes_a_lone_quote_or_backslash)
{
	static const char log[] =
	H "00:00.000000+00:00 mx postfix/smtpd[1]: 5AAA01: client=h[192.0.2.1], sasl_method=PLAIN, sasl_username=q\"uote\n"
	H "00:01.000000+00:00 mx postfix/qmgr[2]: 5AAA01: from=<a\"b@x>, size=1, nrcpt=1 (queue active)\n"
	H "00:02.000000+00:00 mx postfix/smtpd[1]: 5AAA02: client=h[192.0.2.1], sasl_method=PLAIN, sasl_username=back\\slash\n"
	H "00:03.000000+00:00 mx postfix/qmgr[2]: 5AAA02: from=<>, size=1, nrcpt=1 (queue active)\n";
	struct cmdres j;

	put("quote.log", log, 0);
	j = RUN("audit", "--format", "json", p("quote.log"));
	cr_expect_not_null(strstr(j.out, "{\"identity\": \"sasl:q\\\"uote\", "), "%s", j.out);
	cr_expect_not_null(strstr(j.out, "{\"identity\": \"sender:a\\\"b@x\", "), "%s", j.out);
	cr_expect_not_null(strstr(j.out, "{\"identity\": \"sasl:back\\\\slash\", "), "%s", j.out);
	cr_expect_not_null(strstr(j.out, "{\"ip\": \"192.0.2.1\", "), "%s", j.out);
	cmdres_free(&j);
}

/*
 * The JSON rows of a report of REPORT_JSON_SPLIT (1,024) identities or
 * more are made by two threads, the second half's text written after the
 * first: 1,500 logins of one message each from one address, the address's
 * row first, then the logins' in name order, each once, joined by ",\n  "
 * across the halves as within them; with SENDGUARD_THREADS=1 one thread
 * makes them all, the same bytes
 */
Test(audit, json_rows_of_many_identities_in_order)
{
	enum { LOGINS = 1500 };
	static const char conf[] = "[limit s]\nby = sasl\nmessages = 5/1h\nactions = hold\n";
	size_t cap = LOGINS * 400, len = 0, k = 0;
	char *log = malloc(cap), want[64];
	const char *at;
	struct cmdres j, one;
	int i;

	cr_assert_not_null(log);
	for (i = 0; i < LOGINS; i++)
		len += (size_t)snprintf(log + len, cap - len,
		    H "%02d:%02d.000000+00:00 mx postfix/smtpd[1]: 6A%04X: client=h[192.0.2.1], "
		      "sasl_method=PLAIN, sasl_username=u%04d\n" H
		      "%02d:%02d.000001+00:00 mx postfix/qmgr[2]: 6A%04X: from=<>, size=1, nrcpt=1 "
		      "(queue active)\n",
		    i / 60 % 60, i % 60, i, i, i / 60 % 60, i % 60, i);
	put("many.log", log, 0);
	put("sasl.conf", conf, 0);
	free(log);
	j = RUN("audit", "--format", "json", "-c", p("sasl.conf"), p("many.log"));
	at = strstr(j.out, "\"identities\": [\n  {\"identity\": \"ip:192.0.2.1\", \"messages\": 1500, ");
	cr_assert_not_null(at, "%.400s", j.out);
	for (at += 20; (at = strstr(at, "{\"identity\": ")) != NULL; at++, k++) {
		snprintf(want, sizeof(want), "{\"identity\": \"sasl:u%04zu\", ", k);
		if (strncmp(at, want, strlen(want)) != 0 || strncmp(at - 5, "},\n  {", 5) != 0)
			break;
	}
	cr_expect_eq(k, LOGINS, "%zu rows in order, each after \"},\\n  \"", k);
	cr_expect_not_null(strstr(j.out, "\"peaks\": [{\"rule\": \"s\", \"limit\": \"messages\", "
					 "\"window\": \"1h\", \"threshold\": 5, \"peak\": 1, "
					 "\"at\": \"2024-03-01T10:24:59Z\"}]}\n ],\n \"overruns\": []}"),
	    "the end");
	setenv("SENDGUARD_THREADS", "1", 1); /* every row made by the one thread */
	one = RUN("audit", "--format", "json", "-c", p("sasl.conf"), p("many.log"));
	unsetenv("SENDGUARD_THREADS");
	cr_expect_str_eq(one.out, j.out, "the same bytes in one thread");
	cmdres_free(&one);
	cmdres_free(&j);
}

Test(audit, state_file_keeps_the_messages)
{
	struct cmdres r = RUN("audit", "--state", p("state.db"), p("all.log"));
	struct stat st;

	cr_expect_eq(r.status, 0, "stderr: %s", r.err);
	cr_expect_eq(stat(p("state.db"), &st), 0);
	cr_expect_gt(st.st_size, 0);
	cmdres_free(&r);
}
