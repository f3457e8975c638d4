/*
 * test_suggest - `audit --suggest` on logs with known bursts.  Each row
 * generates a log with $SG_TOOLS/loggen (its stolen-password bursts are
 * the logins' messages from the bot addresses 203.0.113.151-199, which
 * no normal login uses), asks for suggested limits, and checks that
 *  - the snippet is accepted by `sendguard check-config`;
 *  - it gives the p50/p90/p99/max of the peaks and a [limit] section for
 *    logins and uids;
 *  - `audit -c SNIPPET` catches every burst: an overrun of its login
 *    during it, or within the block time (1h) before it (the login was
 *    blocked then);
 *  - it flags at most 1 % of the logins and uids besides the bursters.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/runcmd.h"
#include "util/hmap.h"

/* Fixed arrays, not pointers: Criterion copies the parameters into each test's process. */
struct sg_case {
	char seed[8];
	char lines[12];
};

static char dir[64];

/* p - a file in the test's directory */
static char *
p(const char *name)
{
	return (sg_path(dir, name));
}

/* One burst: a login's messages from bot addresses, none further apart than an hour. */
struct burst {
	char login[256];
	double start, end;
};

/* bot_ip - ip:203.0.113.151 .. 199, the addresses only bursts use */
static int
bot_ip(const char *ids)
{
	const char *ip = strstr(ids, "ip:203.0.113.");
	long o;

	if (ip == NULL)
		return (0);
	o = strtol(ip + 13, NULL, 10);
	return (o >= 151 && o <= 199);
}

/* add_burst - a bot message of login at t: extends the login's last burst or opens one */
static int
add_burst(struct burst *b, int nb, int max, const char *login, size_t n, double t)
{
	int i;

	for (i = nb - 1; i >= 0; i--)
		if (strlen(b[i].login) == n && strncmp(b[i].login, login, n) == 0)
			break;
	if (i >= 0 && t - b[i].end <= 3600) {
		b[i].end = t;
		return (nb);
	}
	cr_assert_lt(nb, max, "too many bursts");
	snprintf(b[nb].login, sizeof(b[nb].login), "%.*s", (int)n, login);
	b[nb].start = b[nb].end = t;
	return (nb + 1);
}

/*
 * read_truth - the bursts of the truth file into b (room for max), the
 * logins and uids into ids (a set); returns the number of bursts
 */
static int
read_truth(const char *path, struct burst *b, int max, struct hmap *ids)
{
	FILE *fp = fopen(path, "r");
	char line[4096];
	int nb = 0, added;

	cr_assert_not_null(fp, "%s", path);
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *f = line, *id, *end;
		double t;
		int k, bot;

		if (strncmp(line, "message\t", 8) != 0)
			continue;
		t = strtod(line + 8, NULL);
		for (k = 0; k < 4 && f != NULL; k++)
			if ((f = strchr(f, '\t')) != NULL)
				f++;
		cr_assert_not_null(f, "truth line: %s", line);
		f[strcspn(f, "\n")] = '\0';
		bot = bot_ip(f);
		for (id = f; *id != '\0'; id = *end ? end + 1 : end) {
			size_t n = strcspn(id, ",");

			end = id + n;
			if (strncmp(id, "sasl:", 5) != 0 && strncmp(id, "uid:", 4) != 0)
				continue;
			hmap_get_or_add(ids, id, n, &added);
			if (bot && id[0] == 's')
				nb = add_burst(b, nb, max, id, n, t);
		}
	}
	fclose(fp);
	return (nb);
}

/* run - argv (NULL-terminated) with stdout into path; the exit status */
static int
run_to(const char *const *argv, const char *path)
{
	struct cmdres r = runcmd(argv, NULL);
	FILE *fp = fopen(path, "w");
	int st = r.status;

	cr_assert_not_null(fp);
	fputs(r.out, fp);
	fclose(fp);
	if (st != 0 && st != 1)
		cr_log_error("%s: exit %d: %s", argv[1], st, r.err);
	cmdres_free(&r);
	return (st);
}

/* utime_of - the epoch seconds of an RFC 3339 UTC time "2026-03-02T10:00:00Z" */
static double
utime_of(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	cr_assert_not_null(strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm), "time %s", s);
	return ((double)timegm(&tm));
}

ParameterizedTestParameters(suggest, bursts_caught_few_flagged)
{
	static struct sg_case cases[] = {
		{ "1", "200000" },
		{ "3", "200000" },
	};

	return (cr_make_param_array(struct sg_case, cases, sizeof(cases) / sizeof(cases[0])));
}

ParameterizedTest(struct sg_case *c, suggest, bursts_caught_few_flagged)
{
	char loggen[512], *snippet, *csv, *line, *next;
	const char *tools = getenv("SG_TOOLS");
	static struct burst b[256];
	struct hmap *ids, *flagged;
	int nb, i, caught, extra = 0, added;
	size_t nids;

	snprintf(loggen, sizeof(loggen), "%s/loggen", tools ? tools : "build/bench");
	if (access(loggen, X_OK) != 0)
		cr_skip_test("%s not built (make tools)", loggen);
	snprintf(dir, sizeof(dir), "/tmp/sg-suggest-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	setenv("TZ", "UTC", 1);
	setenv("SG_NO_DEFAULT_CONF", "1", 1);
	{
		const char *argv[] = { loggen, "--lines", c->lines, "--seed", c->seed, "--out",
			p("mail.log"), "--truth", p("truth.tsv"), NULL };
		cr_assert_eq(run_to(argv, p("loggen.out")), 0);
	}
	{
		const char *argv[] = { sg_bin(), "audit", "--suggest", p("mail.log"), NULL };
		cr_assert_eq(run_to(argv, p("suggested.conf")), 0, "audit --suggest exits 0");
	}
	{
		const char *argv[] = { sg_bin(), "check-config", "-c", p("suggested.conf"), NULL };
		cr_expect_eq(run_to(argv, p("check.out")), 0, "check-config accepts the snippet");
	}
	snippet = sg_slurp_path(p("suggested.conf"));
	cr_expect_not_null(strstr(snippet, "[limit suggested_sasl]\nby = sasl\nmessages = "));
	cr_expect_not_null(strstr(snippet, "[limit suggested_uid]\nby = uid\nmessages = "));
	/* the stolen logins forge senders and bounce: both signals get thresholds */
	cr_expect_not_null(strstr(snippet, "\nsenders = "), "a senders threshold:\n%s", snippet);
	cr_expect_not_null(strstr(snippet, "\nbounces = "), "a bounces threshold:\n%s", snippet);
	cr_expect_not_null(strstr(snippet, "#   bounces    in 1h per-identity peaks: p50 "));
	cr_expect_not_null(strstr(snippet, "#   messages   in 1h per-identity peaks: p50 "));
	cr_expect_not_null(strstr(snippet, "#   messages   in 1d per-identity peaks: p50 "));
	cr_expect_not_null(strstr(snippet, ", p90 "));
	cr_expect_not_null(strstr(snippet, ", p99 "));
	{
		const char *argv[] = { sg_bin(), "audit", "--format", "csv", "-c", p("suggested.conf"),
			p("mail.log"), NULL };
		cr_assert_eq(run_to(argv, p("audit.csv")), 1, "the bursts cross the suggested limits");
	}
	cr_assert_not_null(ids = hmap_new());
	cr_assert_not_null(flagged = hmap_new());
	nb = read_truth(p("truth.tsv"), b, 256, ids);
	cr_assert_gt(nb, 0, "the log has bursts");
	nids = hmap_count(ids);
	csv = sg_slurp_path(p("audit.csv"));
	for (i = 0; i < nb; i++) {
		caught = 0;
		for (line = csv; line != NULL && *line != '\0'; line = next) {
			char id[300];
			const char *at;
			int k;

			next = strchr(line, '\n');
			next = next ? next + 1 : NULL;
			if (strncmp(line, "overrun,", 8) != 0)
				continue;
			snprintf(id, sizeof(id), "%.*s", (int)strcspn(line + 8, ","), line + 8);
			if (strcmp(id, b[i].login) != 0)
				continue;
			for (at = line, k = 0; k < 10 && at != NULL; k++)
				if ((at = strchr(at, ',')) != NULL)
					at++;
			cr_assert_not_null(at, "overrun row: %s", line);
			if (utime_of(at) >= b[i].start - 3600 && utime_of(at) <= b[i].end)
				caught = 1;
		}
		cr_expect(caught, "burst of %s from %.0f to %.0f not caught", b[i].login, b[i].start,
		    b[i].end);
	}
	for (line = csv; line != NULL && *line != '\0'; line = next) {
		size_t n;

		next = strchr(line, '\n');
		next = next ? next + 1 : NULL;
		if (strncmp(line, "overrun,sasl:", 13) != 0 && strncmp(line, "overrun,uid:", 12) != 0)
			continue;
		n = strcspn(line + 8, ",");
		hmap_get_or_add(flagged, line + 8, n, &added);
		for (i = 0; added && i < nb; i++)
			if (strlen(b[i].login) == n && strncmp(b[i].login, line + 8, n) == 0)
				break;
		if (added && i == nb) {
			extra++;
			cr_log_warn("flagged besides the bursters: %.*s", (int)n, line + 8);
		}
	}
	cr_expect_leq(extra * 100, (int)nids, "%d of %zu logins and uids flagged besides the bursters",
	    extra, nids);
	free(snippet);
	free(csv);
	hmap_free(ids, NULL);
	hmap_free(flagged, NULL);
	sg_rm_tmpdir(dir);
}
