/*
 * test_report_cache - a delivery outcome is added to the identities of its
 * own message, also when report_outcome() takes the rows from its cache
 * of recent messages (count/report_priv.h, struct rcache): messages that
 * share some of the fields identities are made of (login, uid, sender,
 * client address) but not all, a login "" beside none, and more messages
 * than the cache holds, each row's delivered/deferred/bounced checked in
 * the CSV report; and the pairs an identity keeps of its last message
 * (struct rident's last_ip, last_snd), with IPs and senders longer than
 * it keeps; and the report's times (report_json_time, with its kept
 * date) against util/json's json_time.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "count/conf.h"
#include "count/report.h"
#include "count/report_priv.h"
#include "util/hmap.h"
#include "util/json.h"

/* A message: its identity fields (NULL: none). */
struct msg {
	const char *sasl, *sender, *ip;
	long uid;
};

static const struct msg msgs[] = {
	{ "alice@example.com", "alice@example.com", "192.0.2.1", -1 },
	{ "alice@example.com", "bob@example.com", "192.0.2.1", -1 },   /* sender differs */
	{ "alice@example.com", "alice@example.com", "192.0.2.2", -1 }, /* address differs */
	{ NULL, "alice@example.com", "192.0.2.1", -1 },                /* no login */
	{ "", "alice@example.com", "192.0.2.1", -1 },                  /* login "" */
	{ NULL, "www@example.com", NULL, 33 },
	{ NULL, "www@example.com", NULL, 34 }, /* uid differs */
	{ "carol@example.com", NULL, "192.0.2.3", -1 },
	{ "dave@example.com", NULL, "192.0.2.4", -1 },
	{ "erin@example.com", NULL, "192.0.2.5", -1 },
	{ "frank@example.com", NULL, "192.0.2.6", -1 },
	{ "grace@example.com", NULL, "192.0.2.7", -1 },
	{ "heidi@example.com", NULL, "192.0.2.8", -1 },
	{ "ivan@example.com", NULL, "192.0.2.9", -1 },
	{ "judy@example.com", NULL, "192.0.2.10", -1 },
	{ "mallory@example.com", NULL, "192.0.2.11", -1 },
	{ "niaj@example.com", NULL, "192.0.2.12", -1 },
	{ "olivia@example.com", NULL, "192.0.2.13", -1 },
	{ "peggy@example.com", NULL, "192.0.2.14", -1 },
};
#define NMSG (sizeof(msgs) / sizeof(msgs[0]))
_Static_assert(NMSG > REPORT_CACHE, "more messages than the cache holds");

/* What a CSV identity row must end with: ",senders,delivered,deferred,bounced,". */
struct want {
	const char *identity;
	const char *tail;
};

/*
 * Message i gets i + 1 delivered recipients, one deferred attempt when
 * i is odd and two bounced when i % 3 == 0, its outcomes interleaved
 * with the others' (in rounds over every message).
 */
static const struct want wants[] = {
	{ "sasl:alice@example.com", ",2,6,1,2," },   /* messages 0, 1, 2 */
	{ "sender:alice@example.com", ",1,13,1,4," }, /* 0, 2, 3, 4 */
	{ "sender:bob@example.com", ",1,2,1,0," },    /* 1 */
	{ "ip:192.0.2.1", ",2,12,2,4," },             /* 0, 1, 3, 4 */
	{ "ip:192.0.2.2", ",1,3,0,0," },              /* 2 */
	{ "sasl:", ",1,5,0,0," },                     /* 4 */
	{ "uid:33", ",1,6,1,0," },                    /* 5 */
	{ "uid:34", ",1,7,0,2," },                    /* 6 */
	{ "sender:www@example.com", ",1,13,1,2," },   /* 5, 6 */
	{ "sasl:carol@example.com", ",0,8,1,0," },    /* 7 */
	{ "sasl:ivan@example.com", ",0,14,1,0," },    /* 13 */
	{ "sasl:peggy@example.com", ",0,19,0,2," },   /* 18 */
};

/* track - m as the tracker hands it over */
static struct track_msg
track(const struct msg *m, int64_t t)
{
	struct track_msg tm;

	memset(&tm, 0, sizeof(tm));
	tm.time_us = t;
	tm.host = "mx";
	tm.instance = "postfix";
	tm.queue_id = "4A0001";
	tm.sasl = m->sasl;
	tm.sender = m->sender;
	tm.client_ip = m->ip;
	tm.uid = m->uid;
	tm.nrcpt = 1;
	return (tm);
}

/* outcome - n recipients of message i with status st */
static void
outcome(struct report *r, size_t i, enum track_status st, long n)
{
	struct track_msg tm = track(&msgs[i], 1709287200000000LL);
	struct track_outcome o;

	memset(&o, 0, sizeof(o));
	o.msg = &tm;
	o.status = st;
	o.n = n;
	o.time_us = 1709287200000000LL;
	cr_assert_eq(report_outcome(r, &o), 0);
}

Test(report_cache, outcomes_to_their_own_message)
{
	struct conf *c = conf_default();
	struct report *r;
	struct report_totals tot;
	char *out = NULL, line[512];
	size_t len = 0, i, k;
	FILE *fp;

	cr_assert_not_null(c);
	cr_assert_not_null(r = report_new(c));
	for (i = 0; i < NMSG; i++) {
		struct track_msg tm = track(&msgs[i], 1709287200000000LL + (int64_t)i);

		cr_assert_eq(report_message(r, &tm), 0);
	}
	for (k = 0; k < NMSG; k++) /* round k: one delivered recipient of every message still owed */
		for (i = k; i < NMSG; i++)
			outcome(r, i, TRACK_SENT, 1);
	for (i = 0; i < NMSG; i++) {
		if (i % 2 == 1)
			outcome(r, i, TRACK_DEFERRED, 1);
		if (i % 3 == 0)
			outcome(r, i, TRACK_BOUNCED, 2);
	}
	memset(&tot, 0, sizeof(tot));
	tot.first_us = tot.last_us = INT64_MIN;
	cr_assert_not_null(fp = open_memstream(&out, &len));
	cr_assert_eq(report_print(r, NULL, &tot, REPORT_CSV, fp), 0);
	fclose(fp);
	for (i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
		const char *p;
		char *nl;

		snprintf(line, sizeof(line), "identity,%s,", wants[i].identity);
		p = strstr(out, line);
		cr_expect_not_null(p, "no row %s in:\n%s", wants[i].identity, out);
		if (p == NULL)
			continue;
		snprintf(line, sizeof(line), "%s", p);
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		cr_expect_not_null(strstr(line, wants[i].tail), "%s: want ...%s", line, wants[i].tail);
	}
	free(out);
	report_free(r);
	conf_free(c);
}

/*
 * report_message_ids() leaves the hash of each identity it took in idh[]
 * for the limits (count/pipeline.c hands the same array on): the keyed
 * hash of the identity's own text, a hash given by the caller used as it
 * is, and nothing taken for an identity the report does not show.
 */
Test(report_cache, identity_hashes_left_for_the_limits)
{
	struct conf *c = conf_default();
	struct report *r;
	struct msgid ids;
	uint64_t idh[BY_COUNT];
	struct track_msg tm = track(&msgs[0], 1709287200000000LL);
	int k;

	cr_assert_not_null(c);
	cr_assert_not_null(r = report_new(c));
	msgid_make(&ids, c, &tm);
	memset(idh, 0, sizeof(idh));
	cr_assert_eq(report_message_ids(r, &tm, &ids, idh), 0);
	for (k = 0; k < BY_COUNT; k++) {
		if (ids.id[k] == NULL || ids.exempt[k] || idh[k] == 0)
			continue;
		cr_expect_eq(idh[k], hmap_hash(ids.id[k], ids.len[k]), "%s: hash", ids.id[k]);
	}
	cr_expect_eq(idh[BY_SASL], hmap_hash("sasl:alice@example.com", 22));
	cr_expect_eq(idh[BY_IP], hmap_hash("ip:192.0.2.1", 12));
	cr_expect_eq(idh[BY_UID], 0, "no uid, no hash");
	/* a hash the caller has is used, not taken again */
	idh[BY_SASL] = 12345;
	cr_assert_eq(report_message_ids(r, &tm, &ids, idh), 0);
	cr_expect_eq(idh[BY_SASL], 12345);
	report_free(r);
	conf_free(c);
}

/* long_value - a client IP or sender of n bytes: c repeated, last as its last byte */
static const char *
long_value(char *buf, size_t n, char c, char last)
{
	memset(buf, c, n);
	buf[n - 1] = last;
	buf[n] = '\0';
	return (buf);
}

/*
 * An identity's pairs of its last message (struct rident's last_ip and
 * last_snd): runs of one IP and sender, a return to an earlier one, and
 * IPs and senders at and over the lengths kept (REPORT_LAST_IP,
 * REPORT_LAST_SENDER) that differ only in their last byte from the one
 * before, so that a kept prefix taken for the whole would merge them.
 * The login's row must count every distinct IP and sender, and the IPs'
 * messages.
 */
Test(report_cache, pairs_of_the_last_message)
{
	static char ip47a[64], ip47b[64], ip48a[64], ip48b[64];
	static char s63a[96], s63b[96], s64a[96], s64b[96];
	const char *ips[10], *snds[10];
	struct conf *c = conf_default();
	struct report *r;
	struct report_totals tot;
	char *out = NULL;
	size_t len = 0, i;
	FILE *fp;

	long_value(ip47a, REPORT_LAST_IP - 1, '1', 'a');
	long_value(ip47b, REPORT_LAST_IP - 1, '1', 'b');
	long_value(ip48a, REPORT_LAST_IP, '2', 'a');
	long_value(ip48b, REPORT_LAST_IP, '2', 'b');
	long_value(s63a, REPORT_LAST_SENDER - 1, 'x', 'a');
	long_value(s63b, REPORT_LAST_SENDER - 1, 'x', 'b');
	long_value(s64a, REPORT_LAST_SENDER, 'y', 'a');
	long_value(s64b, REPORT_LAST_SENDER, 'y', 'b');
	ips[0] = ips[1] = ips[3] = ips[9] = "192.0.2.1";
	ips[2] = "192.0.2.2";
	ips[4] = ip47a, ips[5] = ip47b, ips[6] = ip48a, ips[7] = ip48b, ips[8] = ip48a;
	snds[0] = snds[1] = snds[3] = snds[9] = "alice@example.com";
	snds[2] = "bob@example.com";
	snds[4] = s63a, snds[5] = s63b, snds[6] = s64a, snds[7] = s64b, snds[8] = s64a;
	cr_assert_not_null(c);
	cr_assert_not_null(r = report_new(c));
	for (i = 0; i < 10; i++) {
		struct msg m = { "alice@example.com", snds[i], ips[i], -1 };
		struct track_msg tm = track(&m, 1709287200000000LL + (int64_t)i);

		cr_assert_eq(report_message(r, &tm), 0);
	}
	memset(&tot, 0, sizeof(tot));
	tot.first_us = tot.last_us = INT64_MIN;
	cr_assert_not_null(fp = open_memstream(&out, &len));
	cr_assert_eq(report_print(r, NULL, &tot, REPORT_CSV, fp), 0);
	fclose(fp);
	/* messages, recipients, ips; senders, delivered, deferred, bounced */
	cr_expect_not_null(strstr(out, "identity,sasl:alice@example.com,,,,,10,10,6,,,,6,0,0,0,"),
	    "%s", out);
	cr_expect_not_null(strstr(out, "192.0.2.1=4"), "%s", out);
	cr_expect_not_null(strstr(out, "identity,ip:192.0.2.1,,,,,4,4,1,,,,1,0,0,0,"), "%s", out);
	free(out);
	report_free(r);
	conf_free(c);
}

/*
 * report_json_time() writes json_time()'s text whatever the order of the
 * days asked for: across midnight both ways, back to a day kept before,
 * the first second and microsecond of a day and its last, the epoch,
 * before it, the year 9999's last second and the year 10000 (json_time
 * itself there), and a buffer too short for the text.
 */
Test(report_time, json_time_text)
{
	static const int64_t s[] = {
		1772409599, 1772409600, 1772409599, 1772496000, 1772409600, 0, 86399, 86400,
		-1, 253402300799LL, 253402300800LL, 1772450096, 1772409600 + 86399,
	};
	char want[40], got[40], small[8], small_want[8];
	size_t i;
	int us;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		for (us = 0; us < 1000000; us += 999999) {
			int64_t t = s[i] * 1000000 + us;

			json_time(t, want, sizeof(want));
			cr_expect_str_eq(report_json_time(t, got, sizeof(got)), want,
			    "%lld us: %s, want %s", (long long)t, got, want);
		}
	json_time(1772450096000000LL, small_want, sizeof(small_want));
	cr_expect_str_eq(report_json_time(1772450096000000LL, small, sizeof(small)), small_want);
}
