/*
 * test_report_html - `audit --format html` as a browser shows it: the page
 * is rendered by real headless Chromium (Debian's chromium), which dumps
 * its DOM and takes a 1400 px wide screenshot, kept as the test artefact
 * build/test-artefacts/report.png (doc/report.png in the README is one).
 * The test checks one rate plot per identity that crossed a limit, plus
 * one for each of the (at most five) closest that did not; nothing external (no http:, no src=, no
 * <link>, no script); hostile logins (a <script> tag, an attribute break
 * with an <svg onload>, a byte that is not UTF-8) as text in the DOM and
 * never as elements; and hover titles with the time and queue ID.
 * Without chromium the Chromium test is skipped with a message saying so
 * (sh .ci/install-deps installs it); the checks of the page's text run
 * anyway.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/runcmd.h"

#define CHROMIUM "/usr/bin/chromium"
#define ARTEFACTS "build/test-artefacts"

static char dir[64];

/* One login's messages: count of them, from minute start, one every step seconds. */
struct sender {
	const char *login;
	int count, start, step;
};

static const struct sender senders[] = {
	{ "alice@example.com", 40, 60, 20 },   /* a burst: over 10/1h */
	{ "bob@example.com", 14, 120, 90 },    /* over, more slowly */
	{ "<script>alert('x')</script>@evil.example", 12, 30, 30 }, /* hostile and over */
	{ "\"><svg onload=alert(2)>@evil.example", 8, 10, 300 }, /* hostile, 80 %: close */
	{ "caf\xff@evil.example", 2, 200, 60 },                      /* not UTF-8 */
	{ "carol@example.com", 3, 0, 3000 },
	{ "dave@example.com", 3, 20, 2000 },
	{ "erin@example.com", 2, 40, 4000 },
};
#define NFLAGGED 3
#define NPLOTS (NFLAGGED + 5) /* and the five closest of the rest */

static const char conf_text[] = "[limit submission]\n"
				"by = sasl\n"
				"messages = 10/1h\n"
				"block_time = 2h\n";

/* p - a file in the test's directory */
static char *
p(const char *name)
{
	return (sg_path(dir, name));
}

static void
setup(void)
{
	FILE *fp;
	size_t i;
	int k, q = 0;
	char qid[32];

	snprintf(dir, sizeof(dir), "/tmp/sg-html-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	setenv("TZ", "UTC", 1);
	setenv("SG_NO_DEFAULT_CONF", "1", 1);
	cr_assert_not_null(fp = fopen(p("mail.log"), "w"));
	for (i = 0; i < sizeof(senders) / sizeof(senders[0]); i++)
		for (k = 0; k < senders[i].count; k++) {
			snprintf(qid, sizeof(qid), "4F%05X", q++);
			sg_log_msg(fp, 1709287200 + senders[i].start * 60 + k * senders[i].step, qid,
			    senders[i].login, "x@example.com");
		}
	fclose(fp);
	/* sort by time: the lines of each login were written one login after another */
	{
		const char *argv[] = { "/usr/bin/sort", "-o", p("sorted.log"), p("mail.log"), NULL };
		struct cmdres r = runcmd(argv, NULL);

		cr_assert_eq(r.status, 0, "sort: %s", r.err);
		cmdres_free(&r);
	}
	cr_assert_not_null(fp = fopen(p("limit.conf"), "w"));
	fputs(conf_text, fp);
	fclose(fp);
}

static void
teardown(void)
{
	sg_rm_tmpdir(dir);
}

TestSuite(html, .init = setup, .fini = teardown);

/* count - occurrences of needle in hay */
static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return (n);
}

/* has_ci - hay contains needle, ignoring case */
static int
has_ci(const char *hay, const char *needle)
{
	return (strcasestr(hay, needle) != NULL);
}

/* html_report - the page for the test log (caller frees) */
static char *
html_report(void)
{
	const char *argv[] = { sg_bin(), "audit", "--format", "html", "-c", p("limit.conf"),
		p("sorted.log"), NULL };
	struct cmdres r = runcmd(argv, NULL);
	FILE *fp;

	cr_assert_eq(r.status, 1, "an overrun exits 1 (stderr: %s)", r.err);
	cr_assert_not_null(fp = fopen(p("report.html"), "w"));
	fputs(r.out, fp);
	fclose(fp);
	free(r.err);
	return (r.out);
}

Test(html, page_is_self_contained_and_escapes_the_log)
{
	char *html = html_report();
	static const char *const external[] = { "http:", "https:", "src=", "<link", "<script",
		"@import", "url(", "<img", "<iframe", "<object" };
	size_t i;

	cr_expect(strncmp(html, "<!DOCTYPE html>", 15) == 0, "starts as an HTML page");
	for (i = 0; i < sizeof(external) / sizeof(external[0]); i++)
		cr_expect(!has_ci(html, external[i]), "the page holds \"%s\"", external[i]);
	cr_expect_eq(count(html, "<svg class=\"plot\""), NPLOTS,
	    "one plot per flagged identity and the closest unflagged ones");
	cr_expect_eq(count(html, "<span class=\"flag\">"), NFLAGGED, "the flagged ones say so");
	cr_expect_not_null(strstr(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;@evil.example"));
	cr_expect_not_null(strstr(html, "&quot;&gt;&lt;svg onload=alert(2)&gt;@evil.example"));
	cr_expect_not_null(strstr(html, "caf\\xff@evil.example"), "a byte that is not UTF-8 shows as \\xff");
	cr_expect_not_null(strstr(html, "@media print"), "a print style sheet");
	cr_expect_not_null(strstr(html, "<title>2024-03-01T"), "hover titles give the time");
	cr_expect_not_null(strstr(html, "queue ID 4F"), "... and the queue ID");
	cr_expect_not_null(strstr(html, "class=\"overrun\""), "overruns are marked");
	cr_expect_not_null(strstr(html, "<svg class=\"hist\""), "a histogram of the peaks");
	cr_expect_not_null(strstr(html, "<td class=\"id\">192.0.2.10 (40)</td>"),
	    "alice's client address with her 40 messages");
	cr_expect_not_null(strstr(html, "<th class=\"n\">senders</th><th class=\"n\">delivered</th>"
					"<th class=\"n\">deferred</th><th class=\"n\">bounced</th>"),
	    "the delivery outcomes have their columns");
	free(html);
}

/* chromium - run headless Chromium with the test's flags and extra (NULL-terminated) */
static struct cmdres
chromium(const char *const *extra)
{
	const char *argv[24] = { "/usr/bin/timeout", "120", CHROMIUM, "--headless", "--no-sandbox",
		"--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync" };
	char udd[300], url[300];
	int n = 11;

	snprintf(udd, sizeof(udd), "--user-data-dir=%s", p("chromium"));
	snprintf(url, sizeof(url), "file://%s", p("report.html"));
	argv[n++] = udd;
	argv[n++] = "--window-size=1400,2000";
	while (*extra != NULL)
		argv[n++] = *extra++;
	argv[n++] = url;
	argv[n] = NULL;
	return (runcmd(argv, NULL));
}

/* png_size - width and height from a PNG's IHDR; 0 when it is not a PNG */
static int
png_size(const char *path, unsigned *w, unsigned *h)
{
	unsigned char b[24];
	FILE *fp = fopen(path, "rb");
	int ok;

	if (fp == NULL)
		return (0);
	ok = fread(b, 1, sizeof(b), fp) == sizeof(b) && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0;
	fclose(fp);
	*w = (unsigned)b[16] << 24 | (unsigned)b[17] << 16 | (unsigned)b[18] << 8 | b[19];
	*h = (unsigned)b[20] << 24 | (unsigned)b[21] << 16 | (unsigned)b[22] << 8 | b[23];
	return (ok);
}

Test(html, chromium_renders_one_plot_per_flagged_identity)
{
	const char *dump[] = { "--dump-dom", NULL };
	char shot[300], *html;
	const char *shoot[] = { shot, NULL };
	struct cmdres r;
	unsigned w = 0, hgt = 0;

	if (access(CHROMIUM, X_OK) != 0)
		cr_skip_test("chromium not installed (sh .ci/install-deps installs it)");
	html = html_report();
	free(html);
	r = chromium(dump);
	cr_assert_eq(r.status, 0, "chromium --dump-dom: %s", r.err);
	cr_expect_eq(count(r.out, "<svg class=\"plot\""), NPLOTS, "plots in the DOM");
	cr_expect_eq(count(r.out, "class=\"overrun\""), NFLAGGED, "one overrun ring per overrun");
	cr_expect(!has_ci(r.out, "<script"), "no script element in the DOM");
	cr_expect(!has_ci(r.out, "<img"), "no img element in the DOM");
	cr_expect(!has_ci(r.out, "<svg onload"), "no element made of a login in the DOM");
	cr_expect_not_null(strstr(r.out, "&lt;script&gt;alert('x')&lt;/script&gt;@evil.example"),
	    "the hostile login is text");
	cr_expect_not_null(strstr(r.out, "\"&gt;&lt;svg onload=alert(2)&gt;@evil.example"),
	    "the attribute break is text");
	cmdres_free(&r);

	mkdir("build", 0755);
	mkdir(ARTEFACTS, 0755);
	snprintf(shot, sizeof(shot), "--screenshot=%s/report.png", ARTEFACTS);
	unlink(ARTEFACTS "/report.png");
	r = chromium(shoot);
	cr_assert_eq(r.status, 0, "chromium --screenshot: %s", r.err);
	cr_expect(png_size(ARTEFACTS "/report.png", &w, &hgt), "a PNG screenshot");
	cr_expect_eq(w, 1400, "1400 px wide");
	cr_expect_eq(hgt, 2000);
	cmdres_free(&r);
}
