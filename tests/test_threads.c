/*
 * NAME
 *	test_threads - audit reads and parses on a thread of its own, with the same result
 * SUMMARY
 *	count/prefetch hands a source's lines, parsed, from a reader thread
 *	to the caller.  The unit tests hold its batches against source_next()
 *	and pf_parse() in one thread: the same lines in the same order, the
 *	same events, the same over-long count, a read error after the lines
 *	before it and then again.  The audit tests run the real binary
 *	($SG_BIN) on logs made here (thousands of lines, so many batches,
 *	with held-back lines, a forged line ahead of the log, a real gap,
 *	lines from beyond the wall clock, a BSD year rollover, over-long
 *	lines, lines that are not syslog) as a file, on standard input and
 *	as a truncated .gz, threaded and with
 *	SENDGUARD_THREADS=1: output, messages and exit code byte for byte
 *	the same.
 * UNTRUSTED INPUT
 *	None: the logs are made here.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "count/pipeline.h"
#include "count/prefetch.h"
#include "count/source.h"
#include "tests/runcmd.h"

static char dir[64];

static void
setup(void)
{
	cr_assert_eq(sg_lower_tmpdir(dir, sizeof(dir), "sg-threads"), 0);
}

static void
teardown(void)
{
	sg_rm_tmpdir(dir);
}

TestSuite(threads, .init = setup, .fini = teardown);

/* stamp - t (seconds since the epoch, UTC) as the header of a line of format bsd */
static void
stamp(char *b, size_t n, int64_t t, int bsd)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
		"Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	if (bsd)
		snprintf(b, n, "%s %2d %02d:%02d:%02d", mon[tm.tm_mon], tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
	else
		snprintf(b, n, "%04d-%02d-%02dT%02d:%02d:%02d.000000+00:00", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* message - the four lines of message i at t */
static void
message(FILE *fp, int i, int64_t t, int bsd)
{
	char h[64];

	stamp(h, sizeof(h), t, bsd);
	fprintf(fp,
	    "%s mail postfix/submission/smtpd[100]: A%06dBCDE: client=h.example.net[192.0.2.%d], "
	    "sasl_method=PLAIN, sasl_username=user%d@example.com\n",
	    h, i, i % 7 + 1, i % 13);
	fprintf(fp, "%s mail postfix/qmgr[50]: A%06dBCDE: from=<user%d@example.com>, size=1000, "
		    "nrcpt=%d (queue active)\n",
	    h, i, i % 13, i % 3 + 1);
	fprintf(fp, "%s mail postfix/smtp[60]: A%06dBCDE: to=<r%d@example.org>, relay=mx[198.51.100.1]:25, "
		    "delay=1, status=%s (250 ok)\n",
	    h, i, i, i % 11 == 0 ? "bounced" : "sent");
	fprintf(fp, "%s mail postfix/qmgr[50]: A%06dBCDE: removed\n", h, i);
}

/*
 * make_log - a log of nmsg messages a second apart from t0 (bsd: BSD
 * headers), with the oddities of the SUMMARY put near batch boundaries
 */
static void
make_log(const char *path, int64_t t0, int nmsg, int bsd)
{
	FILE *fp = fopen(path, "w");
	int64_t t = t0;
	char h[64];
	int i, k;

	cr_assert_not_null(fp, "%s", path);
	for (i = 0; i < nmsg; i++) {
		message(fp, i, t, bsd);
		t += 1;
		switch (i % 400) {
		case 255: /* a forged line two hours ahead, then the old time: future-dated */
			message(fp, 100000 + i, t + 7200, bsd);
			break;
		case 120: /* a real gap of three hours: held back, then counted */
			t += 3 * 3600;
			break;
		case 300: /* over-long lines and lines that are not syslog */
			for (k = 0; k < 20000; k++)
				fputc('x', fp);
			fputs("\nnot a syslog line\n\n", fp);
			break;
		case 77: /* beyond the wall clock */
			if (!bsd)
				fputs("2099-01-01T00:00:00.000000+00:00 mail postfix/qmgr[50]: "
				      "F1F1F1F1F1: removed\n",
				    fp);
			break;
		default:
			break;
		}
	}
	stamp(h, sizeof(h), t, bsd);
	fprintf(fp, "%s mail postfix/qmgr[50]: LASTLASTLA: removed", h); /* no newline */
	cr_assert_eq(fclose(fp), 0);
}

/* Lines as one thread reads them: the text and the event's header and kind. */
struct seen {
	char *text;
	size_t len;
	struct pf_event ev;
};

/* read_inline - every line of path through source_next and a pipeline parser; the count */
static size_t
read_inline(const char *path, struct seen **out, uint64_t *long_lines, char *err, size_t errlen,
    int *rc)
{
	struct pf_parser *p = pipeline_parser_new(err, errlen);
	struct source *src;
	struct seen *v = NULL;
	const char *line;
	size_t len, n = 0, cap = 0;
	int r;

	cr_assert_not_null(p);
	cr_assert_eq(source_open(&src, path, err, errlen), 0, "%s", err);
	while ((r = source_next(src, &line, &len, err, errlen)) > 0) {
		if (n == cap)
			cr_assert_not_null(v = realloc(v, (cap = cap ? 2 * cap : 1024) * sizeof(*v)));
		cr_assert_not_null(v[n].text = malloc(len + 1));
		memcpy(v[n].text, line, len);
		v[n].len = len;
		(void)pf_parse(p, v[n].text, len, &v[n].ev);
		n++;
	}
	*rc = r;
	*long_lines = source_info(src)->long_lines;
	source_close(src);
	pf_parser_free(p);
	*out = v;
	return (n);
}

/* same_event - the fields the pipeline reads of a line's parse, compared */
static void
same_event(const struct pf_event *a, const struct pf_event *b, size_t i)
{
	cr_expect_eq(a->hdr, b->hdr, "line %zu: header %d, threaded %d", i, a->hdr, b->hdr);
	cr_expect_eq(a->kind, b->kind, "line %zu: kind %d, threaded %d", i, a->kind, b->kind);
	cr_expect_eq(memcmp(&a->tm, &b->tm, sizeof(a->tm)), 0, "line %zu: time", i);
	if (a->kind != PF_NONE) {
		cr_expect_eq(a->queue_id.n, b->queue_id.n, "line %zu: queue id", i);
		cr_expect_eq(a->nrcpt, b->nrcpt, "line %zu: nrcpt", i);
	}
}

/*
 * check_prefetch - path read by prefetch (split) gives what read_inline
 * gives: the batches the reader parsed with their events, the others
 * parsed here as the audit does; the number of each in *nparsed, *nraw
 */
static void
check_prefetch_split(const char *path, enum prefetch_split split, int *nparsed, int *nraw)
{
	const struct prefetch_line *l;
	struct seen *v;
	struct prefetch *pf;
	struct source *src;
	char err[512], err2[512];
	struct pf_parser *p = pipeline_parser_new(err, sizeof(err));
	struct pf_event ev;
	uint64_t ll, pos;
	size_t i, k, n, nv;
	int rc, r, batches = 0, parsed;

	cr_assert_not_null(p, "%s", err);
	*nparsed = *nraw = 0;
	nv = read_inline(path, &v, &ll, err, sizeof(err), &rc);
	cr_assert_eq(source_open(&src, path, err2, sizeof(err2)), 0, "%s", err2);
	cr_assert_eq(prefetch_start(&pf, src, split, err2, sizeof(err2)), 0, "%s", err2);
	k = 0;
	while ((r = prefetch_next(pf, &l, &n, &parsed, &pos, err2, sizeof(err2))) > 0) {
		cr_assert_gt(n, 0, "an empty batch");
		batches++;
		*(parsed ? nparsed : nraw) += 1;
		for (i = 0; i < n; i++, k++) {
			const struct pf_event *e = &l[i].ev;

			cr_assert_lt(k, nv, "more lines threaded than in line");
			cr_assert_eq(l[i].len, v[k].len, "line %zu: length", k);
			cr_assert_eq(memcmp(l[i].line, v[k].text, v[k].len), 0, "line %zu: text", k);
			if (!parsed) { /* the caller's to parse, as pipeline_line() does */
				(void)pf_parse(p, l[i].line, l[i].len, &ev);
				e = &ev;
			}
			same_event(&v[k].ev, e, k);
			/* the event points into the batch's own copy of the line */
			if (e->queue_id.p != NULL)
				cr_expect(e->queue_id.p >= l[i].line &&
				    e->queue_id.p < l[i].line + l[i].len, "line %zu", k);
		}
	}
	cr_expect_eq(k, nv, "%zu lines threaded, %zu in line", k, nv);
	cr_expect_eq(r, rc, "answer %d, in line %d", r, rc);
	if (rc < 0)
		cr_expect_str_eq(err2, err);
	/* the last answer repeats */
	cr_expect_eq(prefetch_next(pf, &l, &n, &parsed, &pos, err2, sizeof(err2)), rc);
	cr_expect_eq(prefetch_next(pf, &l, &n, &parsed, &pos, err2, sizeof(err2)), rc);
	prefetch_stop(pf);
	cr_expect_eq(source_info(src)->long_lines, ll, "over-long lines");
	cr_expect_gt(batches, 3, "%d batches", batches);
	source_close(src);
	pf_parser_free(p);
	for (i = 0; i < nv; i++)
		free(v[i].text);
	free(v);
}

/*
 * check_prefetch - check_prefetch_split with every split: all batches
 * parsed by the reader, none, and as the audit splits them (any mix)
 */
static void
check_prefetch(const char *path)
{
	int np, nr;

	check_prefetch_split(path, PREFETCH_PARSE_ALL, &np, &nr);
	cr_expect_eq(nr, 0, "PREFETCH_PARSE_ALL left %d batches unparsed", nr);
	check_prefetch_split(path, PREFETCH_PARSE_NONE, &np, &nr);
	cr_expect_eq(np, 0, "PREFETCH_PARSE_NONE parsed %d batches", np);
	check_prefetch_split(path, PREFETCH_BALANCE, &np, &nr);
}

/* gzip_cut - path gzip'd (zlib) into gz, cut to half its size */
static void
gzip_cut(const char *path, const char *gz)
{
	FILE *in = fopen(path, "r");
	gzFile out = gzopen(gz, "wb");
	char buf[65536];
	struct stat st;
	size_t n;

	cr_assert_not_null(in, "%s", path);
	cr_assert_not_null(out, "%s", gz);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		cr_assert_eq(gzwrite(out, buf, (unsigned)n), (int)n);
	cr_assert_eq(fclose(in), 0);
	cr_assert_eq(gzclose(out), Z_OK);
	cr_assert_eq(stat(gz, &st), 0);
	cr_assert_eq(truncate(gz, st.st_size / 2), 0);
}

Test(threads, prefetch_gives_the_lines_and_parses_of_one_thread)
{
	const char *log = sg_path(dir, "a.log");

	make_log(log, 1772409600, 3000, 0); /* 2026-03-02 */
	check_prefetch(log);
}

Test(threads, prefetch_gives_a_read_error_after_the_lines_before_it)
{
	const char *log = sg_path(dir, "b.log"), *gz = sg_path(dir, "b.log.gz");

	make_log(log, 1772409600, 6000, 0);
	gzip_cut(log, gz);
	check_prefetch(gz);
}

/*
 * check_held - path through prefetch with each batch held a while before
 * its lines are looked at, so the reader runs ahead through its windows:
 * the lines of a batch stay as they were read until it is given back
 */
static void
check_held(const char *path)
{
	const struct prefetch_line *l;
	struct seen *v;
	struct prefetch *pf;
	struct source *src;
	char err[512], err2[512];
	uint64_t ll, pos;
	size_t i, k = 0, n, nv;
	int rc, r, parsed, batches = 0;

	nv = read_inline(path, &v, &ll, err, sizeof(err), &rc);
	cr_assert_eq(source_open(&src, path, err2, sizeof(err2)), 0, "%s", err2);
	cr_assert_eq(prefetch_start(&pf, src, PREFETCH_PARSE_NONE, err2, sizeof(err2)), 0, "%s",
	    err2);
	while ((r = prefetch_next(pf, &l, &n, &parsed, &pos, err2, sizeof(err2))) > 0) {
		batches++;
		usleep(2000); /* the reader fills the ring and waits for a window meanwhile */
		for (i = 0; i < n; i++, k++) {
			cr_assert_lt(k, nv, "more lines threaded than in line");
			cr_assert(l[i].len == v[k].len && memcmp(l[i].line, v[k].text, v[k].len) == 0,
			    "%s: line %zu changed while its batch was held", path, k);
		}
	}
	cr_expect_eq(k, nv, "%zu lines threaded, %zu in line", k, nv);
	cr_expect_eq(r, rc, "answer %d, in line %d", r, rc);
	cr_expect_gt(batches, 2 * PREFETCH_NWIN, "%d batches: more than the windows", batches);
	prefetch_stop(pf);
	source_close(src);
	for (i = 0; i < nv; i++)
		free(v[i].text);
	free(v);
}

/*
 * the lines stay in the source's windows (source_lend), each until its
 * batches are given back: a log, and lines of 6 to 14 KiB (a window holds
 * a few dozen, so the ring's batches span more windows than there are)
 */
Test(threads, prefetch_keeps_a_batch_s_lines_until_it_is_given_back)
{
	const char *log = sg_path(dir, "c.log"), *gz = sg_path(dir, "c.log.gz");
	const char *big = sg_path(dir, "big.log");
	FILE *fp;
	int i, k, len;

	make_log(log, 1772409600, 20000, 0);
	check_held(log);
	gzip_cut(log, gz); /* the first half, then a truncated stream */
	check_held(gz);
	cr_assert_not_null(fp = fopen(big, "w"));
	for (i = 0; i < 1500; i++) {
		len = 6000 + (i * 7919) % 8000;
		fprintf(fp, "line %d ", i);
		for (k = 0; k < len; k++)
			fputc('a' + (i + k) % 26, fp);
		fputc('\n', fp);
	}
	cr_assert_eq(fclose(fp), 0);
	check_held(big);
}

/*
 * a caller that waits for the reader (here one that does nothing with the
 * lines, the reader parsing every one) gets the lines parsed so far, not
 * a full batch: most batches are cut short, yet every line comes, in order
 */
Test(threads, prefetch_hands_a_waiting_caller_the_lines_parsed_so_far)
{
	const char *log = sg_path(dir, "d.log");
	const struct prefetch_line *l;
	struct prefetch *pf;
	struct source *src;
	char err[512];
	uint64_t pos;
	size_t n, lines = 0;
	int r, parsed, batches = 0, short_ones = 0;

	make_log(log, 1772409600, 20000, 0);
	cr_assert_eq(source_open(&src, log, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(prefetch_start(&pf, src, PREFETCH_PARSE_ALL, err, sizeof(err)), 0, "%s", err);
	while ((r = prefetch_next(pf, &l, &n, &parsed, &pos, err, sizeof(err))) > 0) {
		cr_assert(parsed, "PREFETCH_PARSE_ALL left a batch unparsed");
		batches++;
		short_ones += n < PREFETCH_LINES / 2;
		lines += n;
	}
	cr_expect_eq(r, 0, "%s", err);
	prefetch_stop(pf);
	source_close(src);
	cr_expect_gt(lines, 20000, "%zu lines", lines);
	cr_expect_gt(short_ones, batches / 2, "%d of %d batches cut short", short_ones, batches);
}

/* audit_both - audit args threaded and with SENDGUARD_THREADS=1: the same; the threaded result */
static struct cmdres
audit_both(const char *const argv[], const char *infile, const char *what)
{
	struct cmdres a, b;

	unsetenv("SENDGUARD_THREADS");
	a = runcmd(argv, infile);
	setenv("SENDGUARD_THREADS", "1", 1);
	b = runcmd(argv, infile);
	unsetenv("SENDGUARD_THREADS");
	cr_expect_eq(a.status, b.status, "%s: exit %d threaded, %d in one", what, a.status,
	    b.status);
	cr_expect_str_eq(a.out, b.out, "%s: standard output differs", what);
	cr_expect_str_eq(a.err, b.err, "%s: standard error differs", what);
	cmdres_free(&b);
	return (a);
}

/* One audit of the table below: the log's format and year, the input, what must show. */
struct acase {
	const char *name;
	int bsd;
	int64_t t0;
	const char *year; /* --year, NULL for none */
	int input;        /* 0 the file, 1 standard input, 2 truncated .gz */
	const char *want; /* in standard output (or error, for the .gz) */
};

static const struct acase acases[] = {
	{ "rfc3339 file", 0, 1772409600, NULL, 0, "\"future_lines\": " },
	{ "rfc3339 stdin", 0, 1772409600, NULL, 1, "\"future_lines\": " },
	{ "bsd across new year, --year", 1, 1767222000 - 3 * 3600, "2025", 0, "\"lines\": " },
	{ "bsd across new year, by mtime", 1, 1767222000 - 3 * 3600, NULL, 0, "\"lines\": " },
	{ "rfc3339 truncated gz", 0, 1772409600, NULL, 2, "truncated" },
};

Test(threads, audit_threaded_and_in_one_thread_agree)
{
	const char *conf = "bench/compare.conf";
	size_t i;

	setenv("TZ", "UTC", 1);
	setenv("SG_NO_DEFAULT_CONF", "1", 1);
	for (i = 0; i < sizeof(acases) / sizeof(acases[0]); i++) {
		const struct acase *c = &acases[i];
		const char *log = sg_path(dir, "c.log"), *gz = sg_path(dir, "c.log.gz");
		const char *argv[12] = { sg_bin(), "audit", "--format", "json", "-c", conf };
		struct cmdres r;
		int k = 6;

		make_log(log, c->t0, 12000, c->bsd);
		if (c->year != NULL) {
			argv[k++] = "--year";
			argv[k++] = c->year;
		}
		if (c->input == 2)
			gzip_cut(log, gz);
		argv[k++] = c->input == 1 ? "-" : c->input == 2 ? gz : log;
		argv[k] = NULL;
		r = audit_both(argv, c->input == 1 ? log : NULL, c->name);
		cr_expect(strstr(c->input == 2 ? r.err : r.out, c->want) != NULL, "%s: %s%s",
		    c->name, r.out, r.err);
		if (c->input == 2)
			cr_expect_eq(r.status, 2, "%s: exit %d", c->name, r.status);
		else
			cr_expect(strstr(r.err, "over-long lines skipped") != NULL, "%s: %s", c->name,
			    r.err);
		if (!c->bsd && c->input != 2)
			cr_expect(strstr(r.out, "\"future_lines\": 0,") == NULL, "%s: no future line",
			    c->name);
		cmdres_free(&r);
	}
}
