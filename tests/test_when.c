/*
 * test_when - the T of `audit --since T --until T` (report_parse_time):
 * one row per form, with a fixed "now" and TZ, so relative times are
 * tested without the wall clock.  TZ rules are POSIX strings, which need
 * no tzdata: CET/CEST as in Europe, EST/EDT as in New York, and Brazil's
 * rule of 2018, whose change to summer time skipped midnight.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "count/report.h"

#define CET "CET-1CEST,M3.5.0,M10.5.0/3"
#define NYC "EST5EDT,M3.2.0,M11.1.0"
#define BR2018 "BRT3BRST,M10.3.0/0,M2.3.0/0"

/* utc - "2026-11-27T17:20:00Z" to microseconds, independently of the code under test */
static int64_t
utc(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	cr_assert(end != NULL && *end == '\0', "bad time in the test table: %s", s);
	return ((int64_t)timegm(&tm) * 1000000);
}

struct row {
	const char *arg;
	const char *now;	/* UTC */
	const char *tz;
	const char *want;	/* UTC; NULL: an error */
	const char *msg;	/* for an error: in the message */
};

static const struct row rows[] = {
	/* today and yesterday: local midnight */
	{ "today", "2026-11-27T15:04:05Z", "UTC0", "2026-11-27T00:00:00Z", NULL },
	{ "yesterday", "2026-11-27T15:04:05Z", "UTC0", "2026-11-26T00:00:00Z", NULL },
	{ "today", "2026-11-27T00:00:00Z", "UTC0", "2026-11-27T00:00:00Z", NULL },
	/* 00:30 on the 28th in Paris is still the 27th in UTC */
	{ "today", "2026-11-27T23:30:00Z", CET, "2026-11-27T23:00:00Z", NULL },
	{ "yesterday", "2026-11-27T23:30:00Z", CET, "2026-11-26T23:00:00Z", NULL },
	/* 22:00 on the 27th in New York is the 28th in UTC */
	{ "today", "2026-11-28T03:00:00Z", NYC, "2026-11-27T05:00:00Z", NULL },
	{ "yesterday", "2026-11-28T03:00:00Z", NYC, "2026-11-26T05:00:00Z", NULL },
	/* the day summer time ends has 25 hours, the day it starts 23 */
	{ "today", "2026-10-26T10:00:00Z", CET, "2026-10-25T23:00:00Z", NULL },
	{ "yesterday", "2026-10-26T10:00:00Z", CET, "2026-10-24T22:00:00Z", NULL },
	{ "today", "2026-03-30T10:00:00Z", CET, "2026-03-29T22:00:00Z", NULL },
	{ "yesterday", "2026-03-30T10:00:00Z", CET, "2026-03-28T23:00:00Z", NULL },
	/* midnight did not exist: the day began at 01:00 local */
	{ "today", "2018-10-21T12:00:00Z", BR2018, "2018-10-21T03:00:00Z", NULL },
	{ "yesterday", "2018-10-22T12:00:00Z", BR2018, "2018-10-21T03:00:00Z", NULL },
	/* now minus a duration: exact seconds, whatever the TZ */
	{ "-2h", "2026-11-27T15:04:05Z", CET, "2026-11-27T13:04:05Z", NULL },
	{ "-30m", "2026-11-27T15:04:05Z", CET, "2026-11-27T14:34:05Z", NULL },
	{ "-90s", "2026-11-27T15:04:05Z", CET, "2026-11-27T15:02:35Z", NULL },
	{ "-7d", "2026-11-27T15:04:05Z", CET, "2026-11-20T15:04:05Z", NULL },
	{ "-7d", "2026-10-26T10:00:00Z", CET, "2026-10-19T10:00:00Z", NULL },
	{ "-0s", "2026-11-27T15:04:05Z", CET, "2026-11-27T15:04:05Z", NULL },
	{ "-2w", "2026-11-27T15:04:05Z", CET, NULL, "'-2w' is not a relative time" },
	{ "-90", "2026-11-27T15:04:05Z", CET, NULL, "'-90' is not a relative time" },
	{ "-h", "2026-11-27T15:04:05Z", CET, NULL, "'-h' is not a relative time" },
	{ "-", "2026-11-27T15:04:05Z", CET, NULL, "'-' is not a relative time" },
	{ "--2h", "2026-11-27T15:04:05Z", CET, NULL, "'--2h' is not a relative time" },
	{ "-1.5h", "2026-11-27T15:04:05Z", CET, NULL, "'-1.5h' is not a relative time" },
	{ "-2h ", "2026-11-27T15:04:05Z", CET, NULL, "'-2h ' is not a relative time" },
	{ "-99999999999d", "2026-11-27T15:04:05Z", CET, NULL, "before 1970" },
	{ "-99999999999999999999d", "2026-11-27T15:04:05Z", CET, NULL, "is not a relative time" },
	{ "2h", "2026-11-27T15:04:05Z", CET, NULL, "cannot read time '2h'" },
	{ "Today", "2026-11-27T15:04:05Z", CET, NULL, "cannot read time 'Today'" },
	{ "tomorrow", "2026-11-27T15:04:05Z", CET, NULL, "cannot read time 'tomorrow'" },
	{ "yesterdays", "2026-11-27T15:04:05Z", CET, NULL, "cannot read time 'yesterdays'" },
	{ "", "2026-11-27T15:04:05Z", CET, NULL, "cannot read time ''" },
	/* absolute forms do not depend on now */
	{ "2026-11-27T17:20:00Z", "2030-01-01T00:00:00Z", CET, "2026-11-27T17:20:00Z", NULL },
	{ "2026-11-27T18:20:00+01:00", "2030-01-01T00:00:00Z", "UTC0", "2026-11-27T17:20:00Z", NULL },
	{ "2026-11-27T18:20:00.123456+0100", "2030-01-01T00:00:00Z", "UTC0", "2026-11-27T17:20:00Z", NULL },
	{ "2026-11-27T12:20:00-05", "2030-01-01T00:00:00Z", "UTC0", "2026-11-27T17:20:00Z", NULL },
	{ "2026-11-27 18:20", "2030-01-01T00:00:00Z", CET, "2026-11-27T17:20:00Z", NULL },
	{ "2026-11-27 18:20:30", "2030-01-01T00:00:00Z", CET, "2026-11-27T17:20:30Z", NULL },
	{ "2026-11-27", "2030-01-01T00:00:00Z", CET, "2026-11-26T23:00:00Z", NULL },
	{ "2026-07-27", "2030-01-01T00:00:00Z", CET, "2026-07-26T22:00:00Z", NULL },
	{ "2026-11-27T17:20:00+1:00", "2030-01-01T00:00:00Z", CET, NULL, "cannot read time" },
	{ "2026-11-27T17:20:00+01:", "2030-01-01T00:00:00Z", CET, NULL, "cannot read time" },
	{ "2026-11-27T17:20:00+-1:00", "2030-01-01T00:00:00Z", CET, NULL, "cannot read time" },
	{ "2026-11-27T17:20:00+24:00", "2030-01-01T00:00:00Z", CET, NULL, "cannot read time" },
	{ "2026-11-27T17:20:00Zjunk", "2030-01-01T00:00:00Z", CET, NULL, "cannot read time" },
	{ "2026-13-01", "2030-01-01T00:00:00Z", CET, NULL, "cannot read time" },
	{ "27.11.2026", "2030-01-01T00:00:00Z", CET, NULL, "cannot read time" },
};

Test(when, table)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		int64_t got = 12345;
		char err[256] = "";
		int rc;

		setenv("TZ", r->tz, 1);
		tzset();
		rc = report_parse_time(r->arg, utc(r->now), &got, err, sizeof(err));
		if (r->want != NULL) {
			cr_expect_eq(rc, 0, "'%s' (now %s, TZ %s): error %s", r->arg, r->now, r->tz, err);
			cr_expect_eq(got, utc(r->want), "'%s' (now %s, TZ %s): %lld, want %s (%lld)",
			    r->arg, r->now, r->tz, (long long)got, r->want, (long long)utc(r->want));
		} else {
			cr_expect_eq(rc, -1, "'%s' (now %s, TZ %s): accepted as %lld", r->arg, r->now,
			    r->tz, (long long)got);
			cr_expect_not_null(strstr(err, r->msg), "'%s': message [%s], want [%s]",
			    r->arg, err, r->msg);
		}
	}
}

/* --since yesterday --until today is the whole of yesterday, however long it was */
Test(when, yesterday_to_today_is_one_calendar_day)
{
	static const struct { const char *now, *tz; int64_t hours; } days[] = {
		{ "2026-11-27T12:00:00Z", CET, 24 },
		{ "2026-10-26T12:00:00Z", CET, 25 },
		{ "2026-03-30T12:00:00Z", CET, 23 },
		{ "2026-11-02T12:00:00Z", NYC, 25 },
	};
	size_t i;

	for (i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
		int64_t since, until;
		char err[256];

		setenv("TZ", days[i].tz, 1);
		tzset();
		cr_assert_eq(report_parse_time("yesterday", utc(days[i].now), &since, err, sizeof(err)), 0);
		cr_assert_eq(report_parse_time("today", utc(days[i].now), &until, err, sizeof(err)), 0);
		cr_expect_eq(until - since, days[i].hours * 3600 * 1000000,
		    "now %s TZ %s: %lld s", days[i].now, days[i].tz, (long long)((until - since) / 1000000));
	}
}
