/*
 * NAME
 *	cmd_parse - `sendguard parse [--year Y] [FILE | -]`
 * SUMMARY
 *	cmd_parse() reads one log (plain or compressed, or standard input)
 *	through count/source and prints one JSON object per input line:
 *	"line" (1-based), "kind", then "unparsed": true for a line whose
 *	header is not recognised (plus "too_long": true for a line the
 *	reader skipped as longer than SOURCE_LINE_MAX), else the header
 *	fields ("time" in RFC 3339 UTC, "host", "instance", "daemon", "pid")
 *	and the event fields that are present, in the order of fields[].
 *	Times without an offset are local time (count/zone), BSD ones with
 *	the year from --year or the file's mtime.  Exit 0, or 2 on a usage
 *	or input error, 3 when standard output cannot be written.
 * UNTRUSTED INPUT
 *	The log lines (through the parser); every string goes out through
 *	json_str(), which escapes it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cmds.h"
#include "util/json.h"
#include "count/source.h"
#include "count/zone.h"
#include "parsers/pf.h"

static const char parse_usage[] =
    "usage: sendguard parse [--year Y] [FILE | -]\n"
    "\n"
    "Print each line of a Postfix log (plain, gzip, xz, bzip2, zstd, or - / none\n"
    "for standard input) as one JSON object: line, kind, time, host, instance,\n"
    "daemon, pid and the event's fields.\n"
    "\n"
    "  --year Y   year of the first line for headers without a year (BSD);\n"
    "             default: inferred from the file's modification time\n";

/* usage_err - print a usage error and return the usage exit code */
static int
usage_err(const char *msg, const char *arg)
{
	fprintf(stderr, "sendguard: parse: %s%s%s\n%s", msg, arg ? ": " : "", arg ? arg : "",
	    parse_usage);
	return (EXIT_USAGE);
}

/* parse_year - --year value: 1970..9999 */
static int
parse_year(const char *s, int *year)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || errno == ERANGE || v < 1970 || v > 9999)
		return (-1);
	*year = (int)v;
	return (0);
}

enum ftype { F_STR, F_LONG, F_LLONG, F_FLAG };

/*
 * The fields of an event, in the order they are printed after "time":
 * a string when present, a number when not -1, a flag as true when set.
 */
static const struct field {
	const char *name;
	enum ftype type;
	size_t off; /* in struct pf_event */
} fields[] = {
	{ "host", F_STR, offsetof(struct pf_event, host) },
	{ "instance", F_STR, offsetof(struct pf_event, instance) },
	{ "daemon", F_STR, offsetof(struct pf_event, daemon) },
	{ "pid", F_LONG, offsetof(struct pf_event, pid) },
	{ "queue_id", F_STR, offsetof(struct pf_event, queue_id) },
	{ "client_name", F_STR, offsetof(struct pf_event, client_name) },
	{ "client_ip", F_STR, offsetof(struct pf_event, client_ip) },
	{ "sasl_method", F_STR, offsetof(struct pf_event, sasl_method) },
	{ "sasl_username", F_STR, offsetof(struct pf_event, sasl_username) },
	{ "sasl_sender", F_STR, offsetof(struct pf_event, sasl_sender) },
	{ "orig_queue_id", F_STR, offsetof(struct pf_event, orig_queue_id) },
	{ "orig_client_name", F_STR, offsetof(struct pf_event, orig_client_name) },
	{ "orig_client_ip", F_STR, offsetof(struct pf_event, orig_client_ip) },
	{ "uid", F_LONG, offsetof(struct pf_event, uid) },
	{ "orig_id", F_STR, offsetof(struct pf_event, orig_id) },
	{ "sender", F_STR, offsetof(struct pf_event, sender) },
	{ "size", F_LLONG, offsetof(struct pf_event, size) },
	{ "nrcpt", F_LONG, offsetof(struct pf_event, nrcpt) },
	{ "to", F_STR, offsetof(struct pf_event, to) },
	{ "relay", F_STR, offsetof(struct pf_event, relay) },
	{ "status", F_STR, offsetof(struct pf_event, status) },
	{ "queued_as", F_STR, offsetof(struct pf_event, queued_as) },
	{ "bounce_id", F_STR, offsetof(struct pf_event, bounce_id) },
	{ "sasl_login_rejected", F_FLAG, offsetof(struct pf_event, sasl_login_rejected) },
	{ "reason", F_STR, offsetof(struct pf_event, reject_text) },
};

/* print_field - ,"name":value for one field of ev, when it is there */
static void
print_field(FILE *fp, const struct field *f, const struct pf_event *ev)
{
	const void *p = (const char *)ev + f->off;
	const struct pf_str *s = p;
	const long *l = p;
	const long long *ll = p;
	const int *flag = p;

	switch (f->type) {
	case F_STR:
		if (s->p != NULL) {
			fprintf(fp, ",\"%s\":", f->name);
			json_str(fp, s->p, s->n);
		}
		break;
	case F_LONG:
		if (*l >= 0)
			fprintf(fp, ",\"%s\":%ld", f->name, *l);
		break;
	case F_LLONG:
		if (*ll >= 0)
			fprintf(fp, ",\"%s\":%lld", f->name, *ll);
		break;
	case F_FLAG:
		if (*flag)
			fprintf(fp, ",\"%s\":true", f->name);
		break;
	}
}

/* print_event - one JSON object for one parsed line */
static void
print_event(FILE *fp, unsigned long long lineno, const struct pf_event *ev, struct pf_clock *clk)
{
	char tbuf[40];
	int64_t us;
	size_t i;

	fprintf(fp, "{\"line\":%llu,\"kind\":\"%s\"", lineno, pf_kind_name(ev->kind));
	if (ev->hdr == PF_HDR_NONE) {
		fputs(",\"unparsed\":true}\n", fp);
		return;
	}
	if (ev->hdr == PF_HDR_SKIP) {
		fputs("}\n", fp);
		return;
	}
	if (pf_clock_resolve(clk, &ev->tm, &us) == 0)
		fprintf(fp, ",\"time\":\"%s\"", json_time(us, tbuf, sizeof(tbuf)));
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		print_field(fp, &fields[i], ev);
	fputs("}\n", fp);
}

/*
 * parse_args - FILE ("-" when none) and --year from argv; -1 to go on,
 * else the exit code (0 after --help, 2 after a usage error)
 */
static int
parse_args(int argc, char **argv, const char **path, int *year)
{
	int i;

	*path = NULL;
	*year = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(parse_usage, stdout);
			return (0);
		} else if (strcmp(a, "--year") == 0) {
			if (++i >= argc)
				return (usage_err("--year needs a value", NULL));
			if (parse_year(argv[i], year) < 0)
				return (usage_err("bad --year (1970..9999)", argv[i]));
		} else if (strncmp(a, "--year=", 7) == 0) {
			if (parse_year(a + 7, year) < 0)
				return (usage_err("bad --year (1970..9999)", a + 7));
		} else if (strcmp(a, "--") == 0) {
			if (i + 1 < argc) {
				if (*path != NULL || i + 2 < argc)
					return (usage_err("only one FILE", NULL));
				*path = argv[i + 1];
			}
			break;
		} else if (a[0] == '-' && a[1] != '\0') {
			return (usage_err("unknown option", a));
		} else {
			if (*path != NULL)
				return (usage_err("only one FILE", NULL));
			*path = a;
		}
	}
	if (*path == NULL)
		*path = "-";
	return (-1);
}

/* cmd_parse - the `parse` command; argv[0] is "parse" */
int
cmd_parse(int argc, char **argv)
{
	static char obuf[1 << 20];
	const char *path, *line;
	char err[512];
	struct source *src;
	struct pf_parser *ps;
	struct pf_clock clk;
	struct pf_event ev;
	unsigned long long lineno = 0;
	uint64_t skipped = 0, nskip;
	size_t len;
	int year, rc, ret = 0;

	if ((rc = parse_args(argc, argv, &path, &year)) >= 0)
		return (rc);
	if ((ps = pf_parser_new(err, sizeof(err))) == NULL) {
		fprintf(stderr, "sendguard: parse: %s\n", err);
		return (EXIT_RUNTIME);
	}
	if (source_open(&src, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "sendguard: %s\n", err);
		pf_parser_free(ps);
		return (EXIT_USAGE);
	}
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	pf_clock_init(&clk, year, source_info(src)->mtime, &zone_local);
	for (;;) {
		rc = source_next(src, &line, &len, err, sizeof(err));
		/* Over-long lines the reader dropped still have a number. */
		for (nskip = source_info(src)->long_lines; skipped < nskip; skipped++)
			printf("{\"line\":%llu,\"kind\":\"none\",\"unparsed\":true,"
			       "\"too_long\":true}\n",
			    ++lineno);
		if (rc <= 0)
			break;
		lineno++;
		pf_parse(ps, line, len, &ev);
		print_event(stdout, lineno, &ev, &clk);
	}
	if (rc < 0) {
		fflush(stdout);
		fprintf(stderr, "sendguard: %s\n", err);
		ret = EXIT_USAGE;
	}
	source_close(src);
	pf_parser_free(ps);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "sendguard: standard output: write error\n");
		return (EXIT_RUNTIME);
	}
	return (ret);
}
