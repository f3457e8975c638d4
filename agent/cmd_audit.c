/*
 * NAME
 *	cmd_audit - `sendguard audit`: replay logs through the pipeline and report
 * SUMMARY
 *	Reads each LOG in order (plain or compressed, - for stdin) with its own
 *	year clock, or a journal (journal:, journal:PATH) entry by entry,
 *	runs every line through the same pipeline as the daemon, and prints
 *	the report.  A file's lines are read and parsed by a reader thread
 *	(count/prefetch.h) while this thread does the rest of the pipeline;
 *	SENDGUARD_THREADS=1 reads them here (pipeline_line), for a machine
 *	with one core and to compare the two.  Runs no action.  The store is a file with --state FILE,
 *	in memory for --format html (its rate plots read the messages back),
 *	and absent otherwise: the report and the limits need none.  The
 *	daemon's database is never touched.
 *	Exit: 0 no overrun, 1 an overrun, 2 usage/config/input error,
 *	3 runtime failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/cmds.h"
#include "agent/cmdutil.h"
#include "count/conf.h"
#include "count/journal.h"
#include "util/json.h"
#include "count/pipeline.h"
#include "count/prefetch.h"
#include "count/report.h"
#include "count/report_html.h"
#include "count/source.h"
#include "count/suggest.h"
#include "util/ident.h"

static const char audit_usage[] =
    "usage: sendguard audit [-c FILE] [--format table|json|csv|html] [--since T] [--until T]\n"
    "                       [--year Y] [--state FILE] [--top N] [--over-only]\n"
    "                       [--identity ID]... [--suggest] LOG...\n"
    "\n"
    "Replay Postfix logs (plain, gzip, xz, bzip2, zstd, or - for stdin; journal: for\n"
    "the system journal, journal:PATH for a journal file or directory), in order,\n"
    "and report per identity: messages, recipients, distinct client IPs, the peak of\n"
    "each configured window and every limit crossed, with the queue ID that crossed it.\n"
    "Runs no action and never touches the daemon's database.\n"
    "\n"
    "  -c, --config FILE   agent.conf (default " SG_DEFAULT_CONF " if it exists,\n"
    "                      else built-in defaults: count everything, no limits)\n"
    "  -f, --format F      table (default), json, csv, or html (one self-contained\n"
    "                      page with rate plots, on standard output)\n"
    "      --since T       count messages accepted at or after T\n"
    "      --until T       count messages accepted at or before T\n"
    "                      T: 2026-11-27T17:20:00Z, 2026-11-27T18:20:00+01:00,\n"
    "                      2026-11-27 17:20[:00] or 2026-11-27 (local time);\n"
    "                      today or yesterday (local midnight of that day);\n"
    "                      -90s, -30m, -2h, -7d (that long before now).\n"
    "                      --since yesterday --until today: all of yesterday.\n"
    "                      The report then shows the interval and its totals.\n"
    "                      A journal is read from an hour before --since to an\n"
    "                      hour after --until, by its own time.\n"
    "  -y, --year Y        year of the first line of logs without years (BSD syslog);\n"
    "                      default: inferred from each file's mtime\n"
    "      --state FILE    keep the state in this SQLite file instead of memory\n"
    "      --top N         show the N identities with the highest peak as a share of\n"
    "                      a threshold (then, without a limit, the most messages)\n"
    "      --over-only     show only identities that crossed a limit\n"
    "      --identity ID   show only ID (sasl:LOGIN, uid:N, sender:ADDR, ip:ADDR, ...);\n"
    "                      may be repeated.  Filters change what is shown, not the\n"
    "                      totals or the exit code.\n"
    "      --suggest       instead of the report, print [limit] sections suggested\n"
    "                      from these logs (an agent.conf snippet; exit 0)\n"
    "Exit: 0 no limit crossed, 1 a limit crossed, 2 usage/config/input error,\n"
    "3 runtime failure.\n";

static const struct option audit_opts[] = { { "config", required_argument, NULL, 'c' },
	{ "format", required_argument, NULL, 'f' }, { "since", required_argument, NULL, 'S' },
	{ "until", required_argument, NULL, 'U' }, { "year", required_argument, NULL, 'y' },
	{ "state", required_argument, NULL, 's' }, { "top", required_argument, NULL, 'T' },
	{ "over-only", no_argument, NULL, 'O' }, { "identity", required_argument, NULL, 'I' },
	{ "suggest", no_argument, NULL, 'G' }, { "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 } };

/* The words of --format, in the order of enum report_format. */
static const char *const format_names[] = { "table", "json", "csv", "html" };

#define AUDIT_IDS_MAX 64 /* --identity options */

/* One run of the command: what the command line asked, then what it opened. */
struct audit {
	const char *cfile, *state;
	enum report_format fmt;
	int64_t now_us; /* one now for both bounds */
	int64_t since, until;
	int interval; /* --since or --until given */
	int year;
	struct conf *conf;
	struct store *store;
	struct report *rep;
	struct pipeline pl;
	int pl_ok;
	uint64_t too_long;
	int journal;      /* a journal was read */
	long postfix_uid; /* the mail owner's, once a journal needs it; -2 before */
	int tty;          /* stderr is a terminal: show progress */
	struct report_filter filter;
	char *ids[AUDIT_IDS_MAX]; /* --identity, folded */
	int suggest;              /* --suggest */
	struct suggest *sug;
	int sug_failed;
};

/*
 * A journal is read from JOURNAL_MARGIN_US before --since (the client=
 * line of a message accepted just after it) to as long after --until
 * (the hand-off line that shows a message inside was a content filter's
 * copy): a seek, where a file is read whole.
 */
#define JOURNAL_MARGIN_US (3600 * (int64_t)1000000)

/* progress - one status line on a terminal: name, how far (pos of size, 0: unknown), lines */
static void
progress(const char *name, uint64_t pos, uint64_t size, uint64_t lines, int done)
{
	if (size > 0 && pos <= size)
		fprintf(stderr, "\rsendguard: %s: %3d%% %llu lines", name, (int)(pos * 100 / size),
		    (unsigned long long)lines);
	else
		fprintf(stderr, "\rsendguard: %s: %llu lines", name, (unsigned long long)lines);
	if (done)
		fputs("\033[K\r", stderr);
}

/* audit_filter_option - --top, --over-only, --identity into a->filter; 0, or 2 after a message */
static int
audit_filter_option(struct audit *a, int ch, const char *arg)
{
	char id[IDENT_MAX], *end;
	const char *why = NULL;
	long long n;

	if (ch == 'O') {
		a->filter.over_only = 1;
		return (0);
	}
	if (ch == 'T') {
		errno = 0;
		n = strtoll(arg, &end, 10);
		if (*arg == '\0' || *end != '\0' || errno == ERANGE || n < 1 || n > 1000000000) {
			fprintf(stderr, "sendguard: audit: --top: '%s' is not a number from 1\n",
			    arg);
			return (EXIT_USAGE);
		}
		a->filter.top = (size_t)n;
		return (0);
	}
	if (!ident_fold(arg, id, sizeof(id), &why)) {
		fprintf(stderr, "sendguard: audit: --identity: %s\n", why);
		return (EXIT_USAGE);
	}
	if (a->filter.nids >= AUDIT_IDS_MAX) {
		fprintf(stderr, "sendguard: audit: --identity: at most %d\n", AUDIT_IDS_MAX);
		return (EXIT_USAGE);
	}
	if ((a->ids[a->filter.nids] = strdup(id)) == NULL) {
		fprintf(stderr, "sendguard: audit: out of memory\n");
		return (EXIT_RUNTIME);
	}
	a->filter.nids++;
	return (0);
}

/* audit_option - one option ch with its argument into ctx; 0, or the exit code after a message */
static int
audit_option(void *ctx, int ch, const char *arg)
{
	struct audit *a = ctx;
	char err[512], *end;
	long year;
	size_t i;

	switch (ch) {
	case 'c':
		a->cfile = arg;
		return (0);
	case 's':
		a->state = arg;
		return (0);
	case 'f':
		for (i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
			if (strcmp(arg, format_names[i]) == 0) {
				a->fmt = (enum report_format)i;
				return (0);
			}
		fprintf(stderr,
		    "sendguard: audit: --format must be table, json, csv or html, not '%s'\n", arg);
		return (EXIT_USAGE);
	case 'T':
	case 'O':
	case 'I':
		return (audit_filter_option(a, ch, arg));
	case 'G':
		a->suggest = 1;
		return (0);
	case 'S':
	case 'U':
		if (report_parse_time(arg, a->now_us, ch == 'S' ? &a->since : &a->until, err,
			sizeof(err)) < 0) {
			fprintf(stderr, "sendguard: audit: --%s: %s\n",
			    ch == 'S' ? "since" : "until", err);
			return (EXIT_USAGE);
		}
		a->interval = 1;
		return (0);
	case 'y':
		errno = 0;
		year = strtol(arg, &end, 10);
		if (*arg == '\0' || *end != '\0' || errno != 0 || year < 1970 || year > 9999) {
			fprintf(stderr, "sendguard: audit: --year: '%s' is not a year\n", arg);
			return (EXIT_USAGE);
		}
		a->year = (int)year;
		return (0);
	default: /* not in audit_opts: cannot happen */
		return (EXIT_USAGE);
	}
}

/*
 * audit_args - the command line into a; -1 to go on with the logs from
 * argv[optind], else the exit code (after --help, or a message)
 */
static int
audit_args(struct audit *a, int argc, char **argv)
{
	char sb[40], ub[40];
	int rc;

	memset(a, 0, sizeof(*a));
	a->fmt = REPORT_TABLE;
	a->postfix_uid = -2;
	a->now_us = (int64_t)time(NULL) * 1000000;
	a->since = INT64_MIN;
	a->until = INT64_MAX;
	a->filter.ids = (const char *const *)a->ids;
	if ((rc = cmd_options(argc, argv, "c:f:y:h", audit_opts, audit_usage, audit_option, a)) >=
	    0)
		return (rc);
	if (optind >= argc) {
		fprintf(stderr, "sendguard: audit: no log file given (use - for standard input)\n");
		fputs(audit_usage, stderr);
		return (EXIT_USAGE);
	}
	if (a->since > a->until) {
		fprintf(stderr, "sendguard: audit: --since (%s) is after --until (%s)\n",
		    json_time(a->since, sb, sizeof(sb)), json_time(a->until, ub, sizeof(ub)));
		return (EXIT_USAGE);
	}
	return (-1);
}

/* on_outcome - every delivery outcome, for --suggest's bounces */
static void
on_outcome(void *ctx, const struct track_outcome *o)
{
	struct audit *a = ctx;

	if (suggest_outcome(a->sug, o) < 0)
		a->sug_failed = 1;
}

/* on_message - every message counted, for --suggest */
static void
on_message(void *ctx, const struct track_msg *m)
{
	struct audit *a = ctx;

	if (suggest_message(a->sug, m) < 0)
		a->sug_failed = 1;
}

/*
 * audit_open - the configuration (-c, else the default file if it
 * exists, else the defaults), the store, the report and the pipeline;
 * 0, or the exit code after a message
 */
static int
audit_open(struct audit *a)
{
	char err[512];
	int rc;

	if (a->cfile == NULL && getenv("SG_NO_DEFAULT_CONF") == NULL &&
	    access(SG_DEFAULT_CONF, F_OK) == 0)
		a->cfile = SG_DEFAULT_CONF;
	if (a->cfile != NULL) {
		if ((rc = cmd_load_conf(a->cfile, &a->conf)) != 0)
			return (rc);
	} else if ((a->conf = conf_default()) == NULL) {
		fprintf(stderr, "sendguard: audit: out of memory\n");
		return (EXIT_RUNTIME);
	}
	/*
	 * Nothing reads the messages of an audit back except the HTML page's
	 * rate plots: without --state or --format html there is no store
	 * (a fifth of the time and most of the memory of a large audit).
	 */
	if ((a->state != NULL || a->fmt == REPORT_HTML) &&
	    store_open(&a->store, a->state, 0, err, sizeof(err)) < 0) {
		fprintf(stderr, "sendguard: audit: %s\n", err);
		return (EXIT_RUNTIME);
	}
	/* a new --state file: its look-up indexes made once, at the end (cmd_audit) */
	if (a->state != NULL && store_bulk_begin(a->store, err, sizeof(err)) < 0) {
		fprintf(stderr, "sendguard: audit: %s\n", err);
		return (EXIT_RUNTIME);
	}
	if ((a->rep = report_new(a->conf)) == NULL || report_set_filter(a->rep, &a->filter) < 0) {
		fprintf(stderr, "sendguard: audit: out of memory\n");
		return (EXIT_RUNTIME);
	}
	if (pipeline_init(&a->pl, a->conf, a->store, a->rep, err, sizeof(err)) < 0) {
		fprintf(stderr, "sendguard: audit: %s\n", err);
		return (EXIT_RUNTIME);
	}
	a->pl_ok = 1;
	if (a->suggest) {
		if ((a->sug = suggest_new(a->conf)) == NULL) {
			fprintf(stderr, "sendguard: audit: out of memory\n");
			return (EXIT_RUNTIME);
		}
		a->pl.on_message = on_message;
		a->pl.on_outcome = on_outcome;
		a->pl.ctx = a;
	}
	a->pl.since_us = a->since;
	a->pl.until_us = a->until;
	/* a --state file keeps the outcomes, as the daemon's does; memory needs none */
	a->pl.keep_outcomes = a->state != NULL;
	return (0);
}

/* audit_progress - the progress line every 65536 lines, at most once a second */
static void
audit_progress(struct audit *a, const char *path, uint64_t pos, uint64_t size, time_t *next)
{
	if (a->tty && (a->pl.lines & 0xffff) == 0 && time(NULL) >= *next) {
		progress(path, pos, size, a->pl.lines, 0);
		*next = time(NULL) + 1;
	}
}

/* audit_inline - read and parse src in this thread (SENDGUARD_THREADS=1); as source_next */
static int
audit_inline(struct audit *a, struct source *src, struct pf_clock *clk, time_t *next, char *err,
    size_t errlen)
{
	const char *line;
	size_t len;
	int r;

	while ((r = source_next(src, &line, &len, err, errlen)) > 0) {
		pipeline_line(&a->pl, clk, line, len);
		if (a->tty) /* the source's position asked for only where it may be shown */
			audit_progress(a, source_info(src)->name, source_info(src)->pos,
			    source_info(src)->size, next);
	}
	return (r);
}

/*
 * audit_prefetched - src read and parsed by a reader thread, the rest
 * here (count/prefetch.h); as source_next, or -2 when no thread can be
 * had (nothing read yet: the caller reads in line)
 */
static int
audit_prefetched(struct audit *a, struct source *src, struct pf_clock *clk, time_t *next, char *err,
    size_t errlen)
{
	const struct prefetch_line *l;
	struct prefetch *pf;
	uint64_t pos, size = source_info(src)->size;
	const char *name = source_info(src)->name;
	size_t i, n;
	int r, parsed;

	if (prefetch_start(&pf, src, PREFETCH_BALANCE, err, errlen) < 0)
		return (-2);
	while ((r = prefetch_next(pf, &l, &n, &parsed, &pos, err, errlen)) > 0)
		for (i = 0; i < n; i++) {
			/* a batch the reader left unparsed: it was the slower thread */
			if (parsed)
				pipeline_line_parsed(&a->pl, clk, l[i].line, l[i].len, &l[i].ev);
			else
				pipeline_line(&a->pl, clk, l[i].line, l[i].len);
			audit_progress(a, name, pos, size, next);
		}
	prefetch_stop(pf);
	return (r);
}

/*
 * audit_file - every line of one LOG, with its own year clock, through the
 * pipeline; 0 or 2.  Unless SENDGUARD_THREADS=1, the lines are read and
 * parsed by a thread of their own while this one counts them.
 */
static int
audit_file(struct audit *a, const char *path)
{
	const char *env = getenv("SENDGUARD_THREADS");
	int inline_only = env != NULL && strcmp(env, "1") == 0;
	struct source *src;
	struct pf_clock clk;
	char err[512];
	time_t next = 0;
	int r = -2;

	/* a compressed file's own decoder thread only with a CPU beside the reader and the counter */
	if (source_open_beside(&src, path, inline_only ? 1 : 2, err, sizeof(err)) < 0) {
		fprintf(stderr, "sendguard: audit: %s\n", err);
		return (EXIT_USAGE);
	}
	pf_clock_init(&clk, a->year, source_info(src)->mtime, &zone_local);
	if (!inline_only)
		r = audit_prefetched(a, src, &clk, &next, err, sizeof(err));
	if (r == -2)
		r = audit_inline(a, src, &clk, &next, err, sizeof(err));
	if (a->tty && next != 0)
		progress(path, 0, 0, a->pl.lines, 1);
	a->too_long += source_info(src)->long_lines;
	source_close(src);
	if (r < 0) {
		fprintf(stderr, "sendguard: audit: %s\n", err);
		return (EXIT_USAGE);
	}
	return (0);
}

/* audit_entry - one journal entry through the pipeline */
static int
audit_entry(void *ctx, const struct journal_entry *e)
{
	struct audit *a = ctx;

	pipeline_entry(&a->pl, e->time_us, &e->origin, e->text, e->len,
	    e->trust == JOURNAL_UNTRUSTED);
	return (a->pl.failed ? 1 : 0);
}

/*
 * audit_journal - the entries of the journal arg names (path NULL: the
 * system journal) through the pipeline, from a seek near --since to just
 * past --until; 0 or 2
 */
static int
audit_journal(struct audit *a, const char *arg, const char *path)
{
	struct journal_opts o;
	struct journal *jr;
	char err[512];
	time_t next = 0;
	long n;

	if (a->postfix_uid == -2 &&
	    journal_user_uid(a->conf->postfix_user, &a->postfix_uid, err, sizeof(err)) < 0) {
		fprintf(stderr, "sendguard: audit: %s: %s\n", arg, err);
		return (EXIT_USAGE);
	}
	memset(&o, 0, sizeof(o));
	o.path = path;
	o.postfix_uid = a->postfix_uid;
	o.from_us = a->since == INT64_MIN ? INT64_MIN : a->since - JOURNAL_MARGIN_US;
	o.to_us = a->until == INT64_MAX ? INT64_MAX : a->until + JOURNAL_MARGIN_US;
	if (journal_open(&jr, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "sendguard: audit: %s\n", err);
		return (EXIT_USAGE);
	}
	a->journal = 1;
	while ((n = journal_read(jr, audit_entry, a, 65536, err, sizeof(err))) > 0 && !a->pl.failed)
		if (a->tty && time(NULL) >= next) {
			progress(arg, 0, 0, a->pl.lines, 0);
			next = time(NULL) + 1;
		}
	if (a->tty && next != 0)
		progress(arg, 0, 0, a->pl.lines, 1);
	a->too_long += journal_long(jr);
	journal_close(jr);
	if (n < 0) {
		fprintf(stderr, "sendguard: audit: %s\n", err);
		return (EXIT_USAGE);
	}
	return (0);
}

/* audit_report - commit, then print the report; the exit code (1: a limit was crossed) */
static int
audit_report(struct audit *a)
{
	const struct pipeline *pl = &a->pl;
	struct report_totals tot;
	char serr[512];

	if (pipeline_finish(&a->pl) < 0) {
		fprintf(stderr, "sendguard: audit: %s\n", pl->err);
		return (EXIT_RUNTIME);
	}
	/*
	 * --state: the last commit went to the store's writer thread; its
	 * error is the pipeline's.  Then that thread makes the file's
	 * indexes while the report is printed (cmd_audit waits for them).
	 */
	if (a->store != NULL &&
	    (store_bulk_wait(a->store, serr, sizeof(serr)) < 0 ||
		store_bulk_finish(a->store, serr, sizeof(serr)) < 0)) {
		fprintf(stderr, "sendguard: audit: store: %s\n", serr);
		return (EXIT_RUNTIME);
	}
	if (a->too_long > 0)
		fprintf(stderr, "sendguard: audit: %llu over-long lines skipped\n",
		    (unsigned long long)a->too_long);
	/* after pipeline_finish: it emits the messages held back */
	tot = (struct report_totals){
		.lines = pl->lines,
		.unparsed = pl->unparsed,
		.too_long = a->too_long,
		.untrusted = pl->untrusted,
		.journal = a->journal,
		.first_us = pl->first_us,
		.last_us = pl->last_us,
		.track = track_stats(pl->track),
		.interval = a->interval,
		.since_us = a->since,
		.until_us = a->until,
		.in_lines = pl->in_lines,
		.in_unparsed = pl->in_unparsed,
		.in_counted = pl->messages,
		.in_first_us = pl->in_lines > 0 ? pl->in_first_us : INT64_MIN,
		.in_last_us = pl->in_lines > 0 ? pl->in_last_us : INT64_MIN,
	};
	if (a->sug != NULL) {
		if (a->sug_failed || suggest_print(a->sug, stdout) < 0 || fflush(stdout) != 0) {
			fprintf(stderr, "sendguard: audit: --suggest: %s\n",
			    a->sug_failed ? "out of memory" : strerror(errno));
			return (EXIT_RUNTIME);
		}
		return (0);
	}
	if (a->fmt == REPORT_HTML) {
		char err[512] = "";

		if (report_html_print(a->rep, pl->limits, a->store, &tot, stdout, err,
			sizeof(err)) < 0 ||
		    fflush(stdout) != 0) {
			fprintf(stderr, "sendguard: audit: writing the report: %s\n",
			    err[0] ? err : strerror(errno));
			return (EXIT_RUNTIME);
		}
	} else if (report_print(a->rep, pl->limits, &tot, a->fmt, stdout) < 0 ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "sendguard: audit: writing the report: %s\n", strerror(errno));
		return (EXIT_RUNTIME);
	}
	return (report_overruns(a->rep) > 0 ? EXIT_OVERRUN : 0);
}

/*
 * AUDIT_FREES - 1 when the audit frees the pipeline's and the report's
 * tables before it returns.  main() exits right after, which gives their
 * memory back at once; the frees walk every record, state, row and key
 * again, one cache miss after another, after the report is written
 * (0.66 % of the audit's instructions, all on the wall clock).  A build
 * with AddressSanitizer (`make check`, whose LeakSanitizer must still
 * see anything else left unfreed) frees them as before.
 */
#if defined(__SANITIZE_ADDRESS__)
#define AUDIT_FREES 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AUDIT_FREES 1
#endif
#endif
#ifndef AUDIT_FREES
#define AUDIT_FREES 0
#endif

/* cmd_audit - argv[0] is "audit"; returns the exit code */
int
cmd_audit(int argc, char **argv)
{
	struct audit a;
	char err[512];
	size_t k;
	int i, rc;

	if ((rc = audit_args(&a, argc, argv)) >= 0) {
		for (k = 0; k < a.filter.nids; k++)
			free(a.ids[k]);
		return (rc);
	}
	a.tty = isatty(STDERR_FILENO);
	if ((rc = audit_open(&a)) == 0) {
		for (i = optind; i < argc && rc == 0 && !a.pl.failed; i++) {
			const char *jpath;

			rc = journal_spec(argv[i], &jpath) ? audit_journal(&a, argv[i], jpath)
							   : audit_file(&a, argv[i]);
		}
		if (rc == 0)
			rc = audit_report(&a);
	}
	/* freed while the store's writer thread may still make the indexes */
	if (AUDIT_FREES && a.pl_ok)
		pipeline_free(&a.pl);
	if (AUDIT_FREES)
		report_free(a.rep);
	suggest_free(a.sug);
	if (a.store != NULL && (rc == 0 || rc == EXIT_OVERRUN) &&
	    store_bulk_end(a.store, err, sizeof(err)) < 0) {
		fprintf(stderr, "sendguard: audit: %s\n", err);
		rc = EXIT_RUNTIME;
	}
	if (a.store != NULL)
		store_close(a.store);
	conf_free(a.conf);
	for (k = 0; k < a.filter.nids; k++)
		free(a.ids[k]);
	return (rc);
}
