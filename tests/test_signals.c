/*
 * test_signals - the compromise signals beyond volume, from log lines to
 * verdicts through the one pipeline audit and the daemon share: distinct
 * envelope senders (case folded, the null sender left out), bounced
 * recipients (at the bounce line, a content filter's copy counting for its
 * original in every line order, a reused queue ID's later message for its
 * own), and the client addresses a verdict names.  One story per row.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "count/pipeline.h"

#define BASE 1772445600 /* 2026-03-02T10:00:00Z */

/* What the verdicts were: "identity limit count queue_id @sec [ips]" each, "; " between. */
struct said {
	char text[4096];
	size_t len;
};

static void
on_verdict(void *ctx, const struct limits_verdict *v)
{
	struct said *s = ctx;

	s->len += (size_t)snprintf(s->text + s->len, sizeof(s->text) - s->len,
	    "%s%s %s %ld %s @%lld [%s]", s->len ? "; " : "", v->identity,
	    conf_limit_name(v->win->limit), v->count, v->queue_id,
	    (long long)(v->time_us / 1000000 - BASE), v->ips);
}

struct story {
	char name[80];
	char conf[200];    /* the [limit] sections */
	char lines[6000];  /* "SEC PROGRAM: TEXT" lines, \n after each */
	char want[600];
};

/* The lines of one message of alice (queue ID q, sender f, client ip) at second s. */
#define SUB(s, q, ip, f, n) \
	s " postfix/submission/smtpd[1]: " q ": client=unknown[" ip "], sasl_method=PLAIN, " \
	  "sasl_username=alice@example.com\n" s " postfix/qmgr[2]: " q ": from=<" f ">, size=100, " \
	  "nrcpt=" n " (queue active)\n"
/* A delivery line of q at second s with status st (and the text after it). */
#define TO(s, q, st, rest) \
	s " postfix/smtp[3]: " q ": to=<x@example.org>, relay=mx.example.org[203.0.113.201]:25, " \
	  "delay=1, delays=0/0/0/1, dsn=5.1.1, status=" st " (" rest ")\n"
#define BOUNCE(s, q) TO(s, q, "bounced", "host mx.example.org said: 550 5.1.1 no such user")
#define HANDOFF(s, q, copy) \
	s " postfix/amavis/smtp[4]: " q ": to=<x@example.org>, relay=127.0.0.1[127.0.0.1]:10024, " \
	  "delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): " \
	  "250 2.0.0 Ok: queued as " copy ")\n"
#define COPY(s, q, n) \
	s " postfix/10025/smtpd[5]: " q ": client=localhost[127.0.0.1]\n" s " postfix/qmgr[2]: " q \
	  ": from=<alice@example.com>, size=200, nrcpt=" n " (queue active)\n"
#define REMOVED(s, q) s " postfix/qmgr[2]: " q ": removed\n"

static struct story stories[] = {
	{ "senders: case variants are one sender, the null sender none",
	  "[limit s]\nby = sasl\nsenders = 2/1h\n",
	  SUB("0", "A10000001A", "192.0.2.10", "alice@example.com", "1")
	      SUB("10", "A20000002A", "192.0.2.10", "Alice@Example.COM", "1")
	          SUB("20", "A30000003A", "192.0.2.10", "", "1")
	              SUB("30", "A40000004A", "192.0.2.10", "boss@example.com", "1")
	                  SUB("40", "A50000005A", "192.0.2.10", "BOSS@example.com", "1")
	                      SUB("50", "A60000006A", "192.0.2.10", "ceo@bank.example", "1"),
	  "sasl:alice@example.com senders 3 A60000006A @50 [192.0.2.10]" },
	{ "senders: a sender an hour old is out of the window",
	  "[limit s]\nby = sasl\nsenders = 1/1h\n",
	  SUB("0", "A10000001A", "192.0.2.10", "a@example.com", "1")
	      SUB("3600", "A20000002A", "192.0.2.10", "b@example.com", "1")
	          SUB("3601", "A30000003A", "192.0.2.10", "c@example.com", "1"),
	  "sasl:alice@example.com senders 2 A30000003A @3601 [192.0.2.10]" },
	{ "senders of a web server's uid",
	  "[limit w]\nby = uid\nsenders = 2/1h\n",
	  "0 postfix/pickup[6]: F10000001F: uid=33 from=<www-data>\n"
	  "0 postfix/qmgr[2]: F10000001F: from=<www-data@example.com>, size=1, nrcpt=1 (queue active)\n"
	  "1 postfix/pickup[6]: F20000002F: uid=33 from=<shop@example.com>\n"
	  "1 postfix/qmgr[2]: F20000002F: from=<shop@example.com>, size=1, nrcpt=1 (queue active)\n"
	  "2 postfix/pickup[6]: F30000003F: uid=33 from=<paypal@example.net>\n"
	  "2 postfix/qmgr[2]: F30000003F: from=<paypal@example.net>, size=1, nrcpt=1 (queue active)\n",
	  "uid:33 senders 3 F30000003F @2 []" },
	{ "bounces of a direct message: at the bounce line that crosses",
	  "[limit b]\nby = sasl\nbounces = 2/1h\n",
	  SUB("0", "A10000001A", "192.0.2.10", "alice@example.com", "3") BOUNCE("5", "A10000001A")
	      TO("6", "A10000001A", "sent", "250 ok") BOUNCE("7", "A10000001A") BOUNCE("9", "A10000001A") REMOVED("9", "A10000001A"),
	  "sasl:alice@example.com bounces 3 A10000001A @9 [192.0.2.10]" },
	{ "deferred, then bounced: the deferral is no bounce",
	  "[limit b]\nby = sasl\nbounces = 1/1h\n",
	  SUB("0", "A10000001A", "192.0.2.10", "alice@example.com", "2")
	      TO("5", "A10000001A", "deferred", "connect to mx.example.org: Connection timed out")
	          TO("6", "A10000001A", "deferred", "connect to mx.example.org: Connection timed out")
	              "600 postfix/qmgr[2]: A10000001A: from=<alice@example.com>, size=100, nrcpt=2 (queue active)\n"
	                  BOUNCE("601", "A10000001A") BOUNCE("602", "A10000001A") REMOVED("602", "A10000001A"),
	  "sasl:alice@example.com bounces 2 A10000001A @602 [192.0.2.10]" },
	{ "bounces of a copy, hand-off before the copy",
	  "[limit b]\nby = sasl\nbounces = 1/1h\n",
	  SUB("0", "A10000001A", "192.0.2.10", "alice@example.com", "2") HANDOFF("1", "A10000001A", "B20000002B")
	      HANDOFF("1", "A10000001A", "B20000002B") REMOVED("1", "A10000001A") COPY("2", "B20000002B", "2") BOUNCE("3", "B20000002B")
	          BOUNCE("4", "B20000002B") REMOVED("4", "B20000002B"),
	  "sasl:alice@example.com bounces 2 A10000001A @4 [192.0.2.10]" },
	{ "bounces of a copy, hand-off after the copy is queued",
	  "[limit b]\nby = sasl\nbounces = 1/1h\n",
	  SUB("0", "A10000001A", "192.0.2.10", "alice@example.com", "2") COPY("2", "B20000002B", "2")
	      HANDOFF("3", "A10000001A", "B20000002B") HANDOFF("3", "A10000001A", "B20000002B") REMOVED("3", "A10000001A")
	          BOUNCE("4", "B20000002B") BOUNCE("5", "B20000002B") REMOVED("5", "B20000002B"),
	  "sasl:alice@example.com bounces 2 A10000001A @5 [192.0.2.10]" },
	{ "bounces of a copy delivered and removed before the hand-off names it",
	  "[limit b]\nby = sasl\nbounces = 1/1h\n",
	  SUB("0", "A10000001A", "192.0.2.10", "alice@example.com", "2") COPY("2", "B20000002B", "2")
	      BOUNCE("3", "B20000002B") BOUNCE("4", "B20000002B") REMOVED("4", "B20000002B") HANDOFF("6", "A10000001A", "B20000002B")
	          HANDOFF("6", "A10000001A", "B20000002B") REMOVED("6", "A10000001A"),
	  "sasl:alice@example.com bounces 2 A10000001A @4 [192.0.2.10]" },
	{ "bounces of a reused queue ID's later message are the later message's",
	  "[limit b]\nby = sasl\nbounces = 1/1h\n",
	  SUB("0", "A10000001A", "192.0.2.10", "alice@example.com", "2") BOUNCE("1", "A10000001A")
	      REMOVED("2", "A10000001A")
	          "100 postfix/submission/smtpd[1]: A10000001A: client=unknown[192.0.2.20], sasl_method=PLAIN, "
	          "sasl_username=bob@example.com\n"
	          "100 postfix/qmgr[2]: A10000001A: from=<bob@example.com>, size=100, nrcpt=2 (queue active)\n"
	              BOUNCE("101", "A10000001A") BOUNCE("102", "A10000001A") REMOVED("102", "A10000001A"),
	  "sasl:bob@example.com bounces 2 A10000001A @102 [192.0.2.20]" },
	{ "a verdict names the addresses of its window, most messages first",
	  "[limit m]\nby = sasl\nmessages = 3/1h\n",
	  SUB("0", "A10000001A", "198.51.100.1", "alice@example.com", "1")
	      SUB("4000", "A20000002A", "2001:db8::7", "alice@example.com", "1")
	          SUB("4001", "A30000003A", "203.0.113.10", "alice@example.com", "1")
	              SUB("4002", "A40000004A", "203.0.113.10", "alice@example.com", "1")
	                  SUB("4003", "A50000005A", "2001:db8::9", "alice@example.com", "1"),
	  "sasl:alice@example.com messages 4 A50000005A @4003 [203.0.113.10,2001:db8::9,2001:db8::7]" },
	{ "a bounces verdict names the addresses that sent in its window",
	  "[limit b]\nby = sasl\nbounces = 1/10m\n",
	  SUB("0", "A10000001A", "198.51.100.1", "alice@example.com", "2")
	      SUB("1000", "A20000002A", "203.0.113.10", "alice@example.com", "2")
	          BOUNCE("1001", "A10000001A") BOUNCE("1002", "A20000002A"),
	  "sasl:alice@example.com bounces 2 A20000002A @1002 [203.0.113.10]" },
	{ "the bounces of a domain's logins add up",
	  "[limit d]\nby = sasl_domain\nbounces = 2/1h\n",
	  SUB("0", "A10000001A", "192.0.2.10", "alice@example.com", "1")
	      "1 postfix/submission/smtpd[1]: C10000001C: client=unknown[192.0.2.30], sasl_method=PLAIN, "
	      "sasl_username=carol@example.com\n"
	      "1 postfix/qmgr[2]: C10000001C: from=<carol@example.com>, size=100, nrcpt=2 (queue active)\n"
	          BOUNCE("5", "A10000001A") BOUNCE("6", "C10000001C") BOUNCE("7", "C10000001C"),
	  "sasl_domain:example.com bounces 3 C10000001C @7 [192.0.2.30,192.0.2.10]" },
	{ "at most 16 addresses are named, and the cut shows",
	  "[limit m]\nby = sasl\nmessages = 16/1h\n",
	      SUB("1", "D00000001D", "203.0.113.1", "alice@example.com", "1")
	      SUB("2", "D00000002D", "203.0.113.2", "alice@example.com", "1")
	      SUB("3", "D00000003D", "203.0.113.3", "alice@example.com", "1")
	      SUB("4", "D00000004D", "203.0.113.4", "alice@example.com", "1")
	      SUB("5", "D00000005D", "203.0.113.5", "alice@example.com", "1")
	      SUB("6", "D00000006D", "203.0.113.6", "alice@example.com", "1")
	      SUB("7", "D00000007D", "203.0.113.7", "alice@example.com", "1")
	      SUB("8", "D00000008D", "203.0.113.8", "alice@example.com", "1")
	      SUB("9", "D00000009D", "203.0.113.9", "alice@example.com", "1")
	      SUB("10", "D00000010D", "203.0.113.10", "alice@example.com", "1")
	      SUB("11", "D00000011D", "203.0.113.11", "alice@example.com", "1")
	      SUB("12", "D00000012D", "203.0.113.12", "alice@example.com", "1")
	      SUB("13", "D00000013D", "203.0.113.13", "alice@example.com", "1")
	      SUB("14", "D00000014D", "203.0.113.14", "alice@example.com", "1")
	      SUB("15", "D00000015D", "203.0.113.15", "alice@example.com", "1")
	      SUB("16", "D00000016D", "203.0.113.16", "alice@example.com", "1")
	      SUB("17", "D00000017D", "203.0.113.17", "alice@example.com", "1"),
	  "sasl:alice@example.com messages 17 D00000017D @17 [203.0.113.17,203.0.113.16,203.0.113.15,203.0.113.14,203.0.113.13,203.0.113.12,203.0.113.11,203.0.113.10,203.0.113.9,203.0.113.8,203.0.113.7,203.0.113.6,203.0.113.5,203.0.113.4,203.0.113.3,203.0.113.2,...]" },
};

/* lines - "SEC REST" lines as syslog lines with an RFC 3339 header at BASE + SEC */
static void
feed(struct pipeline *pl, struct pf_clock *clk, const char *text)
{
	const char *s, *nl;
	char line[1200];

	for (s = text; (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
		char *end;
		long sec = strtol(s, &end, 10);
		time_t t = (time_t)(BASE + sec);
		struct tm tm;
		int n;

		cr_assert(end > s && *end == ' ', "bad line: %.40s", s);
		gmtime_r(&t, &tm);
		n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.000000+00:00 mx %.*s",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    (int)(nl - end - 1), end + 1);
		cr_assert(n > 0 && (size_t)n < sizeof(line));
		pipeline_line(pl, clk, line, (size_t)n);
	}
}

/* conf_of - a config of the [limit] text */
static struct conf *
conf_of(const char *text)
{
	char path[] = "/tmp/sg-test-signals-XXXXXX";
	struct conf_errs e = { NULL, 0 };
	struct conf *c = NULL;
	int fd = mkstemp(path);
	size_t n = strlen(text);

	cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
	cr_assert_eq(write(fd, text, n), (ssize_t)n);
	close(fd);
	cr_assert_eq(conf_load(path, &c, &e), 0, "%s", e.n ? e.msg[0] : "?");
	unlink(path);
	return (c);
}

ParameterizedTestParameters(signals, stories)
{
	return (cr_make_param_array(struct story, stories, sizeof(stories) / sizeof(stories[0])));
}

ParameterizedTest(struct story *st, signals, stories)
{
	struct conf *c = conf_of(st->conf);
	struct pipeline pl;
	struct pf_clock clk;
	struct said s;
	char err[256];

	memset(&s, 0, sizeof(s));
	cr_assert_eq(pipeline_init(&pl, c, NULL, NULL, err, sizeof(err)), 0, "%s", err);
	pl.on_verdict = on_verdict;
	pl.ctx = &s;
	pf_clock_init(&clk, 2026, 0, NULL);
	feed(&pl, &clk, st->lines);
	cr_assert_eq(pipeline_finish(&pl), 0, "%s", pl.err);
	pipeline_free(&pl);
	conf_free(c);
	cr_expect_str_eq(s.text, st->want, "%s:\n got  %s\n want %s", st->name, s.text, st->want);
}
