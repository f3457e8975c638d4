/*
 * NAME
 *	fuzz_parse - libFuzzer target: the log line parser, pf_parse()
 *	(parsers/: the syslog header and the Postfix body), and the header's
 *	time through pf_clock_resolve()
 * SUMMARY
 *	The input is cut at each newline, as the sources cut a log, and
 *	every piece goes through pf_parse() with one parser and one clock,
 *	as a file does.  Besides not crashing (ASan, UBSan), each event must
 *	keep what pf.h promises: every string field points into its line;
 *	queue IDs pass pf_qid_ok(); an identity field (login, sender, client
 *	address) is at most IDENT_VALUE_MAX bytes without a control byte;
 *	a line without a recognised header has no event.
 *	Seeds: the lines of the .log files of samples/ (fuzz/run.sh).
 * UNTRUSTED INPUT
 *	Every byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "count/zone.h"
#include "fuzz/fuzz.h"
#include "parsers/pf.h"
#include "util/ident.h"

/* in_line - s is absent, or lies inside line[0..len) */
static int
in_line(const struct pf_str *s, const char *line, size_t len)
{
	return (s->p == NULL || (s->p >= line && s->n <= len && s->p + s->n <= line + len));
}

/* ident_field_ok - absent, or short enough and free of control bytes */
static int
ident_field_ok(const struct pf_str *s)
{
	size_t i;

	if (s->p == NULL)
		return (1);
	if (s->n > IDENT_VALUE_MAX)
		return (0);
	for (i = 0; i < s->n; i++)
		if ((unsigned char)s->p[i] < 0x20 || s->p[i] == 0x7f)
			return (0);
	return (1);
}

/* check - the promises of pf.h about one parsed line */
static void
check(const struct pf_event *ev, const char *line, size_t len)
{
	const struct pf_str *const all[] = { &ev->host, &ev->instance, &ev->daemon,
		&ev->queue_id, &ev->client_name, &ev->client_ip, &ev->sasl_method,
		&ev->sasl_username, &ev->sasl_sender, &ev->orig_queue_id, &ev->orig_client_name,
		&ev->orig_client_ip, &ev->orig_id, &ev->sender, &ev->to, &ev->relay, &ev->status,
		&ev->queued_as, &ev->bounce_id, &ev->reject_text };
	const struct pf_str *const qids[] = { &ev->queue_id, &ev->orig_queue_id, &ev->orig_id,
		&ev->queued_as, &ev->bounce_id };
	const struct pf_str *const idents[] = { &ev->sasl_username, &ev->sender, &ev->client_ip,
		&ev->orig_client_ip, &ev->sasl_sender };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		FUZZ_CHECK(in_line(all[i], line, len));
	for (i = 0; i < sizeof(qids) / sizeof(qids[0]); i++)
		FUZZ_CHECK(qids[i]->p == NULL || pf_qid_ok(qids[i]->p, qids[i]->n));
	if (ev->kind == PF_NONE)
		return;
	FUZZ_CHECK(ev->hdr != PF_HDR_NONE && ev->hdr != PF_HDR_SKIP);
	FUZZ_CHECK(ev->kind < PF_KIND_COUNT && pf_kind_name(ev->kind) != NULL);
	for (i = 0; i < sizeof(idents) / sizeof(idents[0]); i++)
		FUZZ_CHECK(ident_field_ok(idents[i]));
}

/* fuzz_parse_one - every line of data through one parser and one clock */
static int
fuzz_parse_one(const uint8_t *data, size_t size)
{
	static struct pf_parser *ps;
	struct pf_clock clk;
	struct pf_event ev;
	const char *p = (const char *)data, *end = p + size, *nl;
	char err[256];
	int64_t us;

	if (ps == NULL) {
		setenv("TZ", "UTC", 1);
		if ((ps = pf_parser_new(err, sizeof(err))) == NULL) {
			fprintf(stderr, "pf_parser_new: %s\n", err);
			abort();
		}
	}
	pf_clock_init(&clk, 0, 1700000000, &zone_local);
	while (p <= end) {
		size_t n;
		char *line;

		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		/* a copy of its own, so ASan sees a read past the line */
		if ((line = malloc(n + 1)) == NULL)
			abort();
		memcpy(line, p, n);
		(void)pf_parse(ps, line, n, &ev);
		check(&ev, line, n);
		if (ev.hdr != PF_HDR_NONE && ev.hdr != PF_HDR_SKIP)
			(void)pf_clock_resolve(&clk, &ev.tm, &us);
		free(line);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return (0);
}

FUZZ_MAIN(fuzz_parse_one)
