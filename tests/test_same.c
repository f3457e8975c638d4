/*
 * NAME
 *	test_same - audit's output, byte for byte, as it was before it got faster
 * SUMMARY
 *	Each row of the case table names a log (a file of samples/ or of
 *	$SG_SHARED/logs, or one made by $SG_TOOLS/loggen with a fixed seed),
 *	a configuration and extra options.  The log is audited with
 *	`TZ=UTC $SG_BIN audit --year Y [options] -c CONF LOG` once per
 *	format (table, json, csv); the three outputs and the exit codes,
 *	joined, must equal tests/same/NAME.out byte for byte.  Those files
 *	were written by main's own audit, without issue 12's speed work (no
 *	store in memory, skipped regexes, identities built once, new hash
 *	maps): any difference is a change of what users see.  When a merge
 *	of main changes the output on purpose, they are written again by
 *	main's binary (SG_SAME_WRITE=1 SG_BIN=main's sendguard), never by
 *	the branch's.  Rows with a variant run
 *	the same audit another way and compare with the same file: with
 *	--state FILE (the SQLite store on), on the gzip copy of the log.
 *	SG_SAME_WRITE=1 writes the files instead of comparing (only when an
 *	output change is intended; review the diff).
 * UNTRUSTED INPUT
 *	None: the audit's output is compared, not parsed.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runcmd.h"

#define SAME_DIR "tests/same"

enum variant { V_PLAIN, V_STATE, V_GZIP };

/* Criterion copies parameters into the test process: no pointers here. */
struct same_case {
	char name[48];   /* tests/same/NAME.out */
	char log[64];    /* samples/F, shared:F, or gen:FORMAT:SEED:LINES */
	char conf[48];   /* -c */
	char year[8];    /* --year */
	char opt[2][40]; /* extra options ("" none) */
	int variant;     /* enum variant */
};

static struct same_case same_cases[] = {
	{ "samples-events", "samples/events.log", "bench/compare.conf", "2024", { "", "" },
	    V_PLAIN },
	{ "samples-header-bsd", "samples/header-bsd.log", "bench/compare.conf", "2024", { "", "" },
	    V_PLAIN },
	{ "samples-header-journal-iso", "samples/header-journal-iso.log", "bench/compare.conf",
	    "2024", { "", "" }, V_PLAIN },
	{ "samples-header-rfc3339", "samples/header-rfc3339.log", "bench/compare.conf", "2024",
	    { "", "" }, V_PLAIN },
	{ "samples-header-rfc5424", "samples/header-rfc5424.log", "bench/compare.conf", "2024",
	    { "", "" }, V_PLAIN },
	{ "samples-header-solaris", "samples/header-solaris.log", "bench/compare.conf", "2024",
	    { "", "" }, V_PLAIN },
	{ "samples-hostile-logins", "samples/hostile-logins.log", "bench/compare.conf", "2024",
	    { "", "" }, V_PLAIN },
	{ "samples-nomatch", "samples/nomatch.log", "bench/compare.conf", "2024", { "", "" },
	    V_PLAIN },
	{ "samples-incident", "samples/incident.log", "samples/incident.conf", "2024", { "", "" },
	    V_PLAIN },
	{ "samples-incident", "samples/incident.log", "samples/incident.conf", "2024", { "", "" },
	    V_STATE },
	{ "samples-lean-edges", "samples/lean-edges.log", "bench/compare.conf", "2026", { "", "" },
	    V_PLAIN },
	{ "samples-incident-compare", "samples/incident.log", "bench/compare.conf", "2024",
	    { "", "" }, V_PLAIN },
	{ "shared-colog", "shared:colog.log", "bench/compare.conf", "2024", { "", "" }, V_PLAIN },
	{ "shared-crowdsec", "shared:crowdsec-postfix.log", "bench/compare.conf", "2024",
	    { "", "" }, V_PLAIN },
	{ "shared-digineo", "shared:digineo.log", "bench/compare.conf", "2024", { "", "" },
	    V_PLAIN },
	{ "shared-ecs-malformed", "shared:ecs-malformed.log", "bench/compare.conf", "2024",
	    { "", "" }, V_PLAIN },
	{ "shared-fail2ban", "shared:fail2ban-postfix.log", "bench/compare.conf", "2024",
	    { "", "" }, V_PLAIN },
	{ "shared-logship", "shared:logship.log", "bench/compare.conf", "2024", { "", "" },
	    V_PLAIN },
	{ "shared-maillogsentinel-anon", "shared:maillogsentinel-anon.log", "bench/compare.conf",
	    "2024", { "", "" }, V_PLAIN },
	{ "shared-maillogsentinel-sasl", "shared:maillogsentinel-sasl.log", "bench/compare.conf",
	    "2024", { "", "" }, V_PLAIN },
	{ "shared-modoboa", "shared:modoboa.log", "bench/compare.conf", "2024", { "", "" },
	    V_PLAIN },
	{ "shared-logsums-2023", "shared:postfix-logsums-2023.log.xz", "bench/compare.conf", "2023",
	    { "", "" }, V_PLAIN },
	{ "shared-solaris-2007", "shared:tobinjt-solaris-2007.log", "bench/compare.conf", "2007",
	    { "", "" }, V_PLAIN },
	{ "shared-youyo-bsd", "shared:youyo-bsd.log", "bench/compare.conf", "2024", { "", "" },
	    V_PLAIN },
	{ "shared-youyo-rfc3339", "shared:youyo-rfc3339.log", "bench/compare.conf", "2024",
	    { "", "" }, V_PLAIN },
	{ "gen-rfc3339", "gen:rfc3339:7:25000", "bench/compare.conf", "2026", { "", "" }, V_PLAIN },
	{ "gen-rfc3339", "gen:rfc3339:7:25000", "bench/compare.conf", "2026", { "", "" }, V_STATE },
	{ "gen-rfc3339", "gen:rfc3339:7:25000", "bench/compare.conf", "2026", { "", "" }, V_GZIP },
	{ "gen-rfc3339-truth", "gen:rfc3339:7:25000", "tests/truth.conf", "2026", { "", "" },
	    V_PLAIN },
	{ "gen-rfc3339-interval", "gen:rfc3339:7:25000", "bench/compare.conf", "2026",
	    { "--since=2026-03-02T01:00:00Z", "--until=2026-03-02T02:30:00Z" }, V_PLAIN },
	{ "gen-bsd0", "gen:bsd0:8:25000", "bench/compare.conf", "2026", { "", "" }, V_PLAIN },
	{ "gen-bsd-truth", "gen:bsd:9:20000", "tests/truth.conf", "2026", { "", "" }, V_PLAIN },
};

ParameterizedTestParameters(same, audit_output_unchanged)
{
	return cr_make_param_array(struct same_case, same_cases,
	    sizeof(same_cases) / sizeof(same_cases[0]));
}

/* env_or - getenv(name), or dflt */
static const char *
env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return (v != NULL && *v != '\0' ? v : dflt);
}

/*
 * make_log - the log of c into logp (made by loggen, then gzip'd for
 * V_GZIP; else the path of the file itself); 0, -1 after a failure
 * message, 1 when the shared logs are absent
 */
static int
make_log(const struct same_case *c, const char *dir, char *logp, size_t len)
{
	char fmt[16] = "", seed[16] = "", lines[16] = "", gen[512], truth[600];
	struct cmdres r;

	if (strncmp(c->log, "shared:", 7) == 0) {
		snprintf(logp, len, "%s/logs/%s", sg_shared(), c->log + 7);
		return (access(logp, R_OK) == 0 ? 0 : 1);
	}
	if (strncmp(c->log, "gen:", 4) != 0) {
		snprintf(logp, len, "%s", c->log);
		return (0);
	}
	{
		const char *a = c->log + 4, *b = strchr(a, ':'), *d = b ? strchr(b + 1, ':') : NULL;

		if (b == NULL || d == NULL)
			return (-1);
		snprintf(fmt, sizeof(fmt), "%.*s", (int)(b - a), a);
		snprintf(seed, sizeof(seed), "%.*s", (int)(d - b - 1), b + 1);
		snprintf(lines, sizeof(lines), "%s", d + 1);
	}
	snprintf(gen, sizeof(gen), "%s/loggen", env_or("SG_TOOLS", "build/bench"));
	snprintf(logp, len, "%s/log", dir);
	snprintf(truth, sizeof(truth), "%s/truth", dir);
	{
		const char *argv[] = { gen, "--lines", lines, "--seed", seed, "--format", fmt,
			"--out", logp, "--truth", truth, NULL };

		r = runcmd(argv, NULL);
	}
	if (r.status != 0) {
		fprintf(stderr, "%s: loggen exited %d: %s\n", c->name, r.status, r.err);
		cmdres_free(&r);
		return (-1);
	}
	cmdres_free(&r);
	if (c->variant == V_GZIP) {
		const char *argv[] = { "/bin/gzip", "-f", logp, NULL };

		r = runcmd(argv, NULL);
		if (r.status != 0) {
			fprintf(stderr, "%s: gzip exited %d: %s\n", c->name, r.status, r.err);
			cmdres_free(&r);
			return (-1);
		}
		cmdres_free(&r);
		snprintf(logp, len, "%s/log.gz", dir);
	}
	return (0);
}

/* audit_all - the outputs of the three formats and their exit codes, joined; NULL on failure */
static char *
audit_all(const struct same_case *c, const char *logp, const char *dir)
{
	static const char *const fmts[] = { "table", "json", "csv" };
	char *out = NULL, state[600];
	size_t len = 0, i;
	FILE *fp = open_memstream(&out, &len);

	if (fp == NULL)
		return (NULL);
	for (i = 0; i < 3; i++) {
		const char *argv[16];
		struct cmdres r;
		int k = 0;

		argv[k++] = sg_bin();
		argv[k++] = "audit";
		argv[k++] = "--year";
		argv[k++] = c->year;
		argv[k++] = "--format";
		argv[k++] = fmts[i];
		argv[k++] = "-c";
		argv[k++] = c->conf;
		if (c->opt[0][0] != '\0')
			argv[k++] = c->opt[0];
		if (c->opt[1][0] != '\0')
			argv[k++] = c->opt[1];
		if (c->variant == V_STATE) {
			snprintf(state, sizeof(state), "%s/state-%s.db", dir, fmts[i]);
			argv[k++] = "--state";
			argv[k++] = state;
		}
		argv[k++] = logp;
		argv[k] = NULL;
		r = runcmd(argv, NULL);
		fprintf(fp, "== %s: exit %d\n%s", fmts[i], r.status, r.out ? r.out : "");
		if (r.status != 0 && r.status != 1)
			fprintf(stderr, "%s: audit --format %s exited %d: %s\n", c->name, fmts[i],
			    r.status, r.err ? r.err : "");
		cmdres_free(&r);
	}
	fclose(fp);
	return (out);
}

/* first_diff - the line number of the first difference of a and b */
static size_t
first_diff(const char *a, const char *b)
{
	size_t line = 1;

	for (; *a != '\0' && *a == *b; a++, b++)
		if (*a == '\n')
			line++;
	return (line);
}

ParameterizedTest(struct same_case *c, same, audit_output_unchanged)
{
	static const char *const vname[] = { "", " (--state FILE)", " (gzip)" };
	char dir[] = "/tmp/sg-same-XXXXXX", logp[600], expp[600];
	char *got, *want;
	int r;

	setenv("TZ", "UTC", 1);
	setenv("SG_NO_DEFAULT_CONF", "1", 1);
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	if ((r = make_log(c, dir, logp, sizeof(logp))) != 0) {
		rmdir(dir);
		if (r > 0)
			cr_skip_test("%s/logs not found", sg_shared());
		cr_assert_fail("%s: cannot make the log", c->name);
	}
	got = audit_all(c, logp, dir);
	cr_assert_not_null(got, "out of memory");
	snprintf(expp, sizeof(expp), "%s/%s.out", SAME_DIR, c->name);
	if (getenv("SG_SAME_WRITE") != NULL && c->variant == V_PLAIN) {
		FILE *fp = fopen(expp, "w");

		cr_assert_not_null(fp, "%s: %s", expp, strerror(errno));
		fputs(got, fp);
		fclose(fp);
	}
	want = sg_slurp_path(expp);
	if (want == NULL) {
		free(got);
		cr_assert_fail("%s: %s: %s", c->name, expp, strerror(errno));
	}
	if (strcmp(got, want) != 0) {
		FILE *fp;

		snprintf(logp, sizeof(logp), "%s/got.out", dir);
		if ((fp = fopen(logp, "w")) != NULL) {
			fputs(got, fp);
			fclose(fp);
		}
		cr_expect_fail("%s%s: the audit's output differs from %s from line %zu on "
			       "(see diff %s %s)",
		    c->name, vname[c->variant], expp, first_diff(got, want), expp, logp);
	} else {
		const char *argv[] = { "/bin/rm", "-rf", dir, NULL };
		struct cmdres rr = runcmd(argv, NULL);

		cmdres_free(&rr);
	}
	free(got);
	free(want);
}
