/*
 * NAME
 *	audit - `sendguard audit`: replay logs through the pipeline and report
 * SUMMARY
 *	Reads each LOG in order (plain or compressed, - for stdin) with its own
 *	year clock, runs every line through the same pipeline as the daemon,
 *	and prints the report.  Runs no action.  The store is in memory
 *	unless --state FILE is given; the daemon's database is never touched.
 *	Exit: 0 no overrun, 1 an overrun, 2 usage/config/input error,
 *	3 runtime failure.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/cmds.h"
#include "count/conf.h"
#include "util/json.h"
#include "count/pipeline.h"
#include "count/report.h"
#include "count/source.h"

static const char audit_usage[] =
"usage: sendguard audit [-c FILE] [--format table|json|csv] [--since T] [--until T]\n"
"                       [--year Y] [--state FILE] LOG...\n"
"\n"
"Replay Postfix logs (plain, gzip, xz, bzip2, zstd, or - for stdin), in order,\n"
"and report per identity: messages, recipients, distinct client IPs, the peak of\n"
"each configured window and every limit crossed, with the queue ID that crossed it.\n"
"Runs no action and never touches the daemon's database.\n"
"\n"
"  -c, --config FILE   agent.conf (default " SG_DEFAULT_CONF " if it exists,\n"
"                      else built-in defaults: count everything, no limits)\n"
"  -f, --format F      table (default), json or csv\n"
"      --since T       count messages accepted at or after T\n"
"      --until T       count messages accepted at or before T\n"
"                      T: 2026-11-27T17:20:00Z, 2026-11-27T18:20:00+01:00,\n"
"                      2026-11-27 17:20[:00] or 2026-11-27 (local time);\n"
"                      today or yesterday (local midnight of that day);\n"
"                      -90s, -30m, -2h, -7d (that long before now).\n"
"                      --since yesterday --until today: all of yesterday.\n"
"                      The report then shows the interval and its totals.\n"
"  -y, --year Y        year of the first line of logs without years (BSD syslog);\n"
"                      default: inferred from each file's mtime\n"
"      --state FILE    keep the state in this SQLite file instead of memory\n"
"Exit: 0 no limit crossed, 1 a limit crossed, 2 usage/config/input error,\n"
"3 runtime failure.\n";

/* progress - one status line on a terminal */
static void
progress(const struct source *src, uint64_t lines, int done)
{
	const struct source_info *si = source_info(src);

	if (si->size > 0 && si->pos <= si->size)
		fprintf(stderr, "\rsendguard: %s: %3d%% %llu lines", si->name,
		    (int)(si->pos * 100 / si->size), (unsigned long long)lines);
	else
		fprintf(stderr, "\rsendguard: %s: %llu lines", si->name,
		    (unsigned long long)lines);
	if (done)
		fputs("\033[K\r", stderr);
}

int
cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "format", required_argument, NULL, 'f' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "year", required_argument, NULL, 'y' },
		{ "state", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfile = NULL, *state = NULL;
	enum report_format fmt = REPORT_TABLE;
	int64_t since = INT64_MIN, until = INT64_MAX;
	int64_t now_us = (int64_t)time(NULL) * 1000000;	/* one now for both bounds */
	long year = 0;
	struct conf *conf = NULL;
	struct store *store = NULL;
	struct report *rep = NULL;
	struct pipeline pl;
	struct report_totals tot;
	uint64_t too_long = 0;
	char err[512];
	int ch, i, rc = 0, tty = isatty(STDERR_FILENO), pl_ok = 0, interval = 0;
	char *end;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:f:y:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cfile = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "table") == 0)
				fmt = REPORT_TABLE;
			else if (strcmp(optarg, "json") == 0)
				fmt = REPORT_JSON;
			else if (strcmp(optarg, "csv") == 0)
				fmt = REPORT_CSV;
			else {
				fprintf(stderr, "sendguard: audit: --format must be table, json or csv, not '%s'\n", optarg);
				return (EXIT_USAGE);
			}
			break;
		case 'S':
		case 'U':
			if (report_parse_time(optarg, now_us, ch == 'S' ? &since : &until,
			    err, sizeof(err)) < 0) {
				fprintf(stderr, "sendguard: audit: --%s: %s\n",
				    ch == 'S' ? "since" : "until", err);
				return (EXIT_USAGE);
			}
			interval = 1;
			break;
		case 'y':
			errno = 0;
			year = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 || year < 1970 || year > 9999) {
				fprintf(stderr, "sendguard: audit: --year: '%s' is not a year\n", optarg);
				return (EXIT_USAGE);
			}
			break;
		case 's':
			state = optarg;
			break;
		case 'h':
			fputs(audit_usage, stdout);
			return (0);
		default:
			fputs(audit_usage, stderr);
			return (EXIT_USAGE);
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "sendguard: audit: no log file given (use - for standard input)\n");
		fputs(audit_usage, stderr);
		return (EXIT_USAGE);
	}
	if (since > until) {
		char sb[40], ub[40];

		fprintf(stderr, "sendguard: audit: --since (%s) is after --until (%s)\n",
		    json_time(since, sb, sizeof(sb)), json_time(until, ub, sizeof(ub)));
		return (EXIT_USAGE);
	}

	/* configuration: -c, else the default file if it exists, else defaults */
	if (cfile == NULL && getenv("SG_NO_DEFAULT_CONF") == NULL &&
	    access(SG_DEFAULT_CONF, F_OK) == 0)
		cfile = SG_DEFAULT_CONF;
	if (cfile != NULL) {
		if ((rc = cmd_load_conf(cfile, &conf)) != 0)
			return (rc);
	} else if ((conf = conf_default()) == NULL) {
		fprintf(stderr, "sendguard: audit: out of memory\n");
		return (EXIT_RUNTIME);
	}

	if (store_open(&store, state, 0, err, sizeof(err)) < 0) {
		fprintf(stderr, "sendguard: audit: %s\n", err);
		rc = EXIT_RUNTIME;
		goto out;
	}
	if ((rep = report_new(conf)) == NULL) {
		fprintf(stderr, "sendguard: audit: out of memory\n");
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (pipeline_init(&pl, conf, store, rep, err, sizeof(err)) < 0) {
		fprintf(stderr, "sendguard: audit: %s\n", err);
		rc = EXIT_RUNTIME;
		goto out;
	}
	pl_ok = 1;
	pl.since_us = since;
	pl.until_us = until;

	for (i = optind; i < argc; i++) {
		struct source *src;
		struct pf_clock clk;
		const char *line;
		size_t len;
		int r;
		time_t next = 0;

		if (source_open(&src, argv[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "sendguard: audit: %s\n", err);
			rc = EXIT_USAGE;
			goto out;
		}
		pf_clock_init(&clk, (int)year, source_info(src)->mtime, &zone_local);
		while ((r = source_next(src, &line, &len, err, sizeof(err))) > 0) {
			pipeline_line(&pl, &clk, line, len);
			if (tty && (pl.lines & 0xffff) == 0 && time(NULL) >= next) {
				progress(src, pl.lines, 0);
				next = time(NULL) + 1;
			}
		}
		if (tty && next != 0)
			progress(src, pl.lines, 1);
		too_long += source_info(src)->long_lines;
		source_close(src);
		if (r < 0) {
			fprintf(stderr, "sendguard: audit: %s\n", err);
			rc = EXIT_USAGE;
			goto out;
		}
		if (pl.failed)
			break;
	}
	if (pipeline_finish(&pl) < 0) {
		fprintf(stderr, "sendguard: audit: %s\n", pl.err);
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (too_long > 0)
		fprintf(stderr, "sendguard: audit: %llu over-long lines skipped\n",
		    (unsigned long long)too_long);
	memset(&tot, 0, sizeof(tot));
	tot.lines = pl.lines;
	tot.unparsed = pl.unparsed;
	tot.too_long = too_long;
	tot.first_us = pl.first_us;
	tot.last_us = pl.last_us;
	tot.track = track_stats(pl.track);
	tot.interval = interval;
	tot.since_us = since;
	tot.until_us = until;
	tot.in_lines = pl.in_lines;
	tot.in_unparsed = pl.in_unparsed;
	tot.in_counted = pl.messages;
	tot.in_first_us = pl.in_lines > 0 ? pl.in_first_us : INT64_MIN;
	tot.in_last_us = pl.in_lines > 0 ? pl.in_last_us : INT64_MIN;
	if (report_print(rep, pl.limits, &tot, fmt, stdout) < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "sendguard: audit: writing the report: %s\n", strerror(errno));
		rc = EXIT_RUNTIME;
		goto out;
	}
	rc = report_overruns(rep) > 0 ? EXIT_OVERRUN : 0;
out:
	if (pl_ok)
		pipeline_free(&pl);
	report_free(rep);
	if (store != NULL)
		store_close(store);
	conf_free(conf);
	return (rc);
}
