/*
 * test_report_cache - a delivery outcome is added to the identities of its
 * own message, also when report_outcome() takes the rows from its cache
 * of recent messages (count/report_priv.h, struct rcache): messages that
 * share some of the fields identities are made of (login, uid, sender,
 * client address) but not all, a login "" beside none, and more messages
 * than the cache holds, each row's delivered/deferred/bounced checked in
 * the CSV report.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "count/conf.h"
#include "count/report.h"
#include "util/hmap.h"

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
};
#define NMSG (sizeof(msgs) / sizeof(msgs[0]))

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
