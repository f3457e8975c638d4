/*
 * test_report_filter - `audit --top N`, `--over-only` and `--identity ID`
 * in every format: one row per filter and format, with the identities the
 * report must show and must not show.  The head's totals and the exit
 * code stay those of the whole audit; a malformed --identity or --top is
 * a usage error.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/runcmd.h"

static char dir[64];

/*
 * alice: 6 messages (over 3/1h, 200 %), bob: 3 (100 %), carol: 1 (33 %); no
 * limit counts ip:192.0.2.10 (their client, 10 messages) or uid:33 (9)
 */
static void
setup(void)
{
	char path[128];
	FILE *fp;
	int i;
	char qid[16];

	snprintf(dir, sizeof(dir), "/tmp/sg-filter-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	setenv("TZ", "UTC", 1);
	setenv("SG_NO_DEFAULT_CONF", "1", 1);
	snprintf(path, sizeof(path), "%s/mail.log", dir);
	cr_assert_not_null(fp = fopen(path, "w"));
	for (i = 0; i < 6; i++) {
		snprintf(qid, sizeof(qid), "4A%04d", i);
		sg_log_msg(fp, 1709287200 + i * 60, qid, "alice@example.com", "alice@example.com");
	}
	for (i = 0; i < 3; i++) {
		snprintf(qid, sizeof(qid), "4B%04d", i);
		sg_log_msg(fp, 1709287600 + i * 60, qid, "bob@example.com", "bob@example.com");
	}
	sg_log_msg(fp, 1709287900, "4C0001", "carol@example.com", "carol@example.com");
	for (i = 0; i < 9; i++) {
		char tb[64];

		snprintf(qid, sizeof(qid), "4D%04d", i);
		sg_stamp(tb, sizeof(tb), 1709288000 + i);
		fprintf(fp, "%s mx postfix/pickup[7]: %s: uid=33 from=<www-data>\n", tb, qid);
		sg_stamp(tb, sizeof(tb), 1709288000 + i);
		fprintf(fp, "%s mx postfix/qmgr[50]: %s: from=<www-data@example.com>, size=1, "
		    "nrcpt=1 (queue active)\n", tb, qid);
	}
	fclose(fp);
	snprintf(path, sizeof(path), "%s/limit.conf", dir);
	cr_assert_not_null(fp = fopen(path, "w"));
	fputs("[limit submission]\nby = sasl\nmessages = 3/1h\n", fp);
	fclose(fp);
}

static void
teardown(void)
{
	sg_rm_tmpdir(dir);
}

TestSuite(filter, .init = setup, .fini = teardown);

struct row {
	const char *name;
	const char *format;
	const char *args[5]; /* the filter options */
	const char *shown[4];  /* each must be in the output */
	const char *hidden[6]; /* none of these */
};

static const struct row rows[] = {
	{ "table --top 2: the two highest shares of a threshold", "table", { "--top", "2" },
	    { "sasl:alice@example.com", "sasl:bob@example.com" },
	    { "sasl:carol@example.com", "uid:33", "sender:" } },
	{ "json --top 3: then the next by share, before the busiest without a limit", "json",
	    { "--top", "3" }, { "\"sasl:carol@example.com\"" }, { "\"uid:33\"", "\"sender:" } },
	{ "csv --top 4: identities without a limit follow, by messages", "csv", { "--top", "4" },
	    { "identity,ip:192.0.2.10,", "identity,sasl:carol@example.com," },
	    { "uid:33", "sender:" } },
	{ "table --over-only", "table", { "--over-only" },
	    { "sasl:alice@example.com", "OVERRUNS: 1" }, { "sasl:bob", "uid:33", "ip:" } },
	{ "json --over-only", "json", { "--over-only" },
	    { "{\"identity\": \"sasl:alice@example.com\", \"messages\": 6" },
	    { "\"sasl:bob", "\"uid:33\"" } },
	{ "csv --identity, folded", "csv", { "--identity", "sasl:Bob@Example.COM" },
	    { "identity,sasl:bob@example.com,", "peak,sasl:bob@example.com," },
	    { "alice", "carol", "overrun," } },
	{ "json --identity twice, overruns of the others left out", "json",
	    { "--identity", "uid:33", "--identity", "sasl:alice@example.com" },
	    { "\"uid:33\"", "\"queue_id\": \"4A0003\"" }, { "bob", "carol" } },
	{ "html --over-only", "html", { "--over-only" },
	    { "<h3 class=\"id\">sasl:alice@example.com</h3>" }, { "bob@", "carol@", "uid:33" } },
	{ "the head keeps the whole input's totals", "json", { "--identity", "sasl:carol@example.com" },
	    { "\"counted\": 19" }, { "alice" } },
};

Test(filter, every_format)
{
	char conf[128], log[128];
	size_t i, j;

	snprintf(conf, sizeof(conf), "%s/limit.conf", dir);
	snprintf(log, sizeof(log), "%s/mail.log", dir);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		const char *argv[16] = { sg_bin(), "audit", "--format", r->format, "-c", conf };
		struct cmdres res;
		int n = 6;

		for (j = 0; j < 5 && r->args[j] != NULL; j++)
			argv[n++] = r->args[j];
		argv[n++] = log;
		argv[n] = NULL;
		res = runcmd(argv, NULL);
		cr_expect_eq(res.status, 1, "%s: the exit code is the whole audit's (%s)", r->name,
		    res.err);
		for (j = 0; j < 4 && r->shown[j] != NULL; j++)
			cr_expect_not_null(strstr(res.out, r->shown[j]), "%s: lacks %s:\n%s", r->name,
			    r->shown[j], res.out);
		for (j = 0; j < 6 && r->hidden[j] != NULL; j++)
			cr_expect_null(strstr(res.out, r->hidden[j]), "%s: shows %s:\n%s", r->name,
			    r->hidden[j], res.out);
		cmdres_free(&res);
	}
}

Test(filter, top_orders_by_share_of_threshold)
{
	char conf[128], log[128];
	const char *argv[] = { sg_bin(), "audit", "--top", "3", "-c", conf, log, NULL };
	struct cmdres r;
	const char *a, *b, *c;

	snprintf(conf, sizeof(conf), "%s/limit.conf", dir);
	snprintf(log, sizeof(log), "%s/mail.log", dir);
	r = runcmd(argv, NULL);
	a = strstr(r.out, "\nsasl:alice");
	b = strstr(r.out, "\nsasl:bob");
	c = strstr(r.out, "\nsasl:carol");
	cr_expect(a != NULL && b != NULL && c != NULL && a < b && b < c,
	    "alice (200 %%), bob (100 %%), carol (33 %%):\n%s", r.out);
	cmdres_free(&r);
}

Test(filter, bad_values_are_usage_errors)
{
	static const char *const bad[][3] = { { "--top", "0", "--top: '0' is not a number from 1" },
		{ "--top", "x", "--top: 'x' is not a number" },
		{ "--identity", "alice@example.com", "--identity: an identity starts with sasl:" },
		{ "--identity", "sasl:", "--identity: " } };
	char log[128];
	size_t i;

	snprintf(log, sizeof(log), "%s/mail.log", dir);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[] = { sg_bin(), "audit", bad[i][0], bad[i][1], log, NULL };
		struct cmdres r = runcmd(argv, NULL);

		cr_expect_eq(r.status, 2, "%s %s: exit %d", bad[i][0], bad[i][1], r.status);
		cr_expect_not_null(strstr(r.err, bad[i][2]), "the message says what is wrong: %s", r.err);
		cr_expect_null(strstr(r.err, "unrecognized"), "the option is known: %s", r.err);
		cmdres_free(&r);
	}
}
