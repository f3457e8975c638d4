/*
 * NAME
 *	parse_cmd - `sendguard parse [--year Y] [FILE | -]`
 * SUMMARY
 *	cmd_parse() reads one log (plain, gzip or standard input) and prints
 *	one JSON object per input line: "line" (1-based), "kind", then
 *	"unparsed": true for a line whose header is not recognised (plus
 *	"too_long": true for a line the reader skipped as longer than
 *	SOURCE_LINE_MAX), else the header fields
 *	("time" in RFC 3339 UTC, "host", "instance", "daemon", "pid") and the
 *	event fields that are present.  Exit 0, or 2 on a usage or input
 *	error, 3 when standard output cannot be written.
 * UNTRUSTED INPUT
 *	The log lines (through the parser); every string goes out through
 *	json_str(), which escapes it.
 */
#include <errno.h>
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
"Print each line of a Postfix log (plain, gzip, or - / none for standard\n"
"input) as one JSON object: line, kind, time, host, instance, daemon, pid\n"
"and the event's fields.\n"
"\n"
"  --year Y   year of the first line for headers without a year (BSD);\n"
"             default: inferred from the file's modification time\n";

/* usage_err - print a usage error and return the usage exit code */
static int
usage_err(const char *msg, const char *arg)
{
	fprintf(stderr, "sendguard: parse: %s%s%s\n%s", msg, arg ? ": " : "",
	    arg ? arg : "", parse_usage);
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

/* field - write ,"name":"value" when the string is present */
static void
field(FILE *fp, const char *name, const struct pf_str *s)
{
	if (s->p == NULL)
		return;
	fprintf(fp, ",\"%s\":", name);
	json_str(fp, s->p, s->n);
}

/* print_event - one JSON object for one parsed line */
static void
print_event(FILE *fp, unsigned long long lineno, const struct pf_event *ev,
	    struct pf_clock *clk)
{
	char tbuf[40];
	int64_t us;

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
	field(fp, "host", &ev->host);
	field(fp, "instance", &ev->instance);
	field(fp, "daemon", &ev->daemon);
	if (ev->pid >= 0)
		fprintf(fp, ",\"pid\":%ld", ev->pid);
	field(fp, "queue_id", &ev->queue_id);
	field(fp, "client_name", &ev->client_name);
	field(fp, "client_ip", &ev->client_ip);
	field(fp, "sasl_method", &ev->sasl_method);
	field(fp, "sasl_username", &ev->sasl_username);
	field(fp, "sasl_sender", &ev->sasl_sender);
	field(fp, "orig_queue_id", &ev->orig_queue_id);
	field(fp, "orig_client_name", &ev->orig_client_name);
	field(fp, "orig_client_ip", &ev->orig_client_ip);
	if (ev->uid >= 0)
		fprintf(fp, ",\"uid\":%ld", ev->uid);
	field(fp, "orig_id", &ev->orig_id);
	field(fp, "sender", &ev->sender);
	if (ev->size >= 0)
		fprintf(fp, ",\"size\":%lld", ev->size);
	if (ev->nrcpt >= 0)
		fprintf(fp, ",\"nrcpt\":%ld", ev->nrcpt);
	field(fp, "to", &ev->to);
	field(fp, "relay", &ev->relay);
	field(fp, "status", &ev->status);
	field(fp, "queued_as", &ev->queued_as);
	field(fp, "bounce_id", &ev->bounce_id);
	if (ev->sasl_login_rejected)
		fputs(",\"sasl_login_rejected\":true", fp);
	field(fp, "reason", &ev->reject_text);
	fputs("}\n", fp);
}

/* cmd_parse - the `parse` command; argv[0] is "parse" */
int
cmd_parse(int argc, char **argv)
{
	static char obuf[1 << 20];
	const char *path = NULL, *line;
	char err[512];
	struct source *src;
	struct pf_parser *ps;
	struct pf_clock clk;
	struct pf_event ev;
	unsigned long long lineno = 0;
	uint64_t skipped = 0, nskip;
	size_t len;
	int i, year = 0, rc, ret = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(parse_usage, stdout);
			return (0);
		} else if (strcmp(a, "--year") == 0) {
			if (++i >= argc)
				return (usage_err("--year needs a value", NULL));
			if (parse_year(argv[i], &year) < 0)
				return (usage_err("bad --year (1970..9999)", argv[i]));
		} else if (strncmp(a, "--year=", 7) == 0) {
			if (parse_year(a + 7, &year) < 0)
				return (usage_err("bad --year (1970..9999)", a + 7));
		} else if (strcmp(a, "--") == 0) {
			if (i + 1 < argc) {
				if (path != NULL || i + 2 < argc)
					return (usage_err("only one FILE", NULL));
				path = argv[i + 1];
			}
			break;
		} else if (a[0] == '-' && a[1] != '\0') {
			return (usage_err("unknown option", a));
		} else {
			if (path != NULL)
				return (usage_err("only one FILE", NULL));
			path = a;
		}
	}
	if (path == NULL)
		path = "-";

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
			    "\"too_long\":true}\n", ++lineno);
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
