/*
 * NAME
 *	test_clock - the parsers' clock with a local time lent by the test
 * SUMMARY
 *	One row per behaviour: a made-up zone (a fixed offset, a zone whose
 *	offset changes in summer, one that knows no time, none at all), the
 *	--year or reference time, up to four BSD or RFC 3339 lines and the
 *	UTC time each must resolve to, and how often the clock may ask the
 *	zone.  The process's own TZ is set to something else on purpose:
 *	nothing here may depend on it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parsers/pf.h"

/* A made-up zone: east of UTC by off hours, by summer_off from April to September. */
struct fake {
	int	off, summer_off;
	int	fail;			/* answer -1 to everything */
	int	calls;			/* hour_start calls */
	int64_t	year_ref;		/* the secs year_of was asked about */
};

/* utc_secs - seconds of a UTC calendar time (timegm knows no TZ) */
static int64_t
utc_secs(int y, int mon, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return ((int64_t)timegm(&tm));
}

static int
fake_off(const struct fake *f, int mon)
{
	return (mon >= 4 && mon <= 9 ? f->summer_off : f->off);
}

static int
fake_hour_start(void *arg, int y, int mon, int mday, int hour, int64_t *secs)
{
	struct fake *f = arg;

	f->calls++;
	if (f->fail)
		return (-1);
	*secs = utc_secs(y, mon, mday, hour, 0, 0) - (int64_t)fake_off(f, mon) * 3600;
	return (0);
}

static int
fake_year_of(void *arg, int64_t secs, int *year)
{
	struct fake *f = arg;
	time_t t;
	struct tm tm;

	f->year_ref = secs;
	if (f->fail)
		return (-1);
	t = (time_t)(secs + (int64_t)f->off * 3600);
	gmtime_r(&t, &tm);
	*year = tm.tm_year + 1900;
	return (0);
}

enum zkind { Z_FIXED, Z_SUMMER, Z_FAIL, Z_NONE };

struct clock_row {
	const char *name;
	enum zkind zone;
	int	off;			/* hours east (winter for Z_SUMMER) */
	int	year;			/* --year, 0: from ref */
	const char *ref;		/* UTC "YYYY-MM-DD HH:MM:SS" when year is 0 */
	const char *lines[4];		/* header times (BSD or RFC 3339) */
	const char *want[4];		/* UTC "YYYY-MM-DD HH:MM:SS", NULL: resolve fails */
	int	calls;			/* hour_start calls, -1: any */
};

static const struct clock_row rows[] = {
	{ "a fixed offset moves local time to UTC", Z_FIXED, 1, 2024, NULL,
	  { "Jan 15 12:00:00", "Jul  1 00:30:00" },
	  { "2024-01-15 11:00:00", "2024-06-30 23:30:00" }, 2 },
	{ "lines of one hour ask the zone once", Z_FIXED, -5, 2024, NULL,
	  { "Mar  5 08:00:01", "Mar  5 08:59:59", "Mar  5 09:00:00", "Mar  5 08:10:00" },
	  { "2024-03-05 13:00:01", "2024-03-05 13:59:59", "2024-03-05 14:00:00",
	    "2024-03-05 13:10:00" }, 3 },
	{ "the zone decides each hour's offset", Z_SUMMER, 1, 2024, NULL,
	  { "Mar 31 12:00:00", "Apr  1 12:00:00", "Oct  1 12:00:00" },
	  { "2024-03-31 11:00:00", "2024-04-01 10:00:00", "2024-10-01 11:00:00" }, 3 },
	{ "Dec -> Jan rolls the year over in local time", Z_FIXED, 2, 2023, NULL,
	  { "Dec 31 23:59:59", "Jan  1 00:00:01" },
	  { "2023-12-31 21:59:59", "2023-12-31 22:00:01" }, 2 },
	{ "the year of the reference is its local year", Z_FIXED, 14, 0, "2023-12-31 12:00:00",
	  { "Jan  1 01:00:00" }, { "2023-12-31 11:00:00" }, -1 },
	{ "a line over a day after the reference is last year's", Z_FIXED, 14, 0,
	  "2023-12-31 12:00:00",
	  { "Dec 31 23:00:00" }, { "2023-12-31 09:00:00" }, -1 },
	{ "a day's skew after the reference is still this year", Z_FIXED, 0, 0,
	  "2024-06-01 00:00:00",
	  { "Jun  1 23:00:00" }, { "2024-06-01 23:00:00" }, -1 },
	{ "an offset in the line needs no zone", Z_FIXED, 5, 2024, NULL,
	  { "2024-03-05T08:00:01+01:00", "2024-03-05T08:00:01Z" },
	  { "2024-03-05 07:00:01", "2024-03-05 08:00:01" }, 0 },
	{ "RFC 3339 without an offset is local time", Z_FIXED, 3, 2024, NULL,
	  { "2024-03-05T08:00:01" }, { "2024-03-05 05:00:01" }, 1 },
	{ "a zone without an answer fails the local lines only", Z_FAIL, 0, 2024, NULL,
	  { "Mar  5 08:00:01", "2024-03-05T08:00:01Z" }, { NULL, "2024-03-05 08:00:01" }, -1 },
	{ "no year from a zone without an answer", Z_FAIL, 0, 0, "2024-06-01 00:00:00",
	  { "Mar  5 08:00:01" }, { NULL }, -1 },
	{ "no zone: only lines with an offset resolve", Z_NONE, 0, 2024, NULL,
	  { "Mar  5 08:00:01", "2024-03-05T08:00:01-02:00" }, { NULL, "2024-03-05 10:00:01" }, 0 },
	{ "a day that the year has not fails", Z_FIXED, 0, 2023, NULL,
	  { "Feb 29 12:00:00" }, { NULL }, 0 },
};

/* ymdhms - UTC seconds of "YYYY-MM-DD HH:MM:SS" */
static int64_t
ymdhms(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	cr_assert_not_null(strptime(s, "%Y-%m-%d %H:%M:%S", &tm), "%s", s);
	return ((int64_t)timegm(&tm));
}

static void
elsewhere(void)
{
	setenv("TZ", "XST+7", 1);	/* the process's own zone: never used here */
	tzset();
}

Test(clock, an_injected_zone, .init = elsewhere)
{
	char err[256];
	struct pf_parser *ps = pf_parser_new(err, sizeof(err));
	size_t i, k;

	cr_assert_not_null(ps, "%s", err);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct clock_row *r = &rows[i];
		struct fake f = { r->off, r->zone == Z_SUMMER ? r->off + 1 : r->off,
				  r->zone == Z_FAIL, 0, -1 };
		struct pf_zone z = { fake_hour_start, fake_year_of, &f };
		time_t ref = r->ref != NULL ? (time_t)ymdhms(r->ref) : 0;
		struct pf_clock clk;

		pf_clock_init(&clk, r->year, ref, r->zone == Z_NONE ? NULL : &z);
		for (k = 0; k < 4 && r->lines[k] != NULL; k++) {
			struct pf_event ev;
			char line[128];
			int64_t us = 0;
			int rc;

			snprintf(line, sizeof(line), "%s mx postfix/qmgr[1]: 3A1B2C3D4E: removed",
			    r->lines[k]);
			cr_assert_neq(pf_parse(ps, line, strlen(line), &ev), PF_HDR_NONE, "%s", line);
			rc = pf_clock_resolve(&clk, &ev.tm, &us);
			if (r->want[k] == NULL) {
				cr_expect_eq(rc, -1, "%s: %s should fail", r->name, r->lines[k]);
				continue;
			}
			cr_expect_eq(rc, 0, "%s: %s did not resolve", r->name, r->lines[k]);
			cr_expect_eq(us, ymdhms(r->want[k]) * 1000000, "%s: %s gave %lld, want %s",
			    r->name, r->lines[k], (long long)(us / 1000000), r->want[k]);
		}
		if (r->calls >= 0)
			cr_expect_eq(f.calls, r->calls, "%s: %d calls to the zone, want %d", r->name,
			    f.calls, r->calls);
		if (r->year == 0 && r->zone != Z_NONE)
			cr_expect_eq(f.year_ref, (int64_t)ref, "%s: year_of asked about %lld",
			    r->name, (long long)f.year_ref);
	}
	pf_parser_free(ps);
}

/*
 * A line with a year and an offset in the minute of the one before takes
 * that minute's seconds from the clock: every line here must resolve as it
 * does on a clock of its own, whatever came before it (the same minute at
 * another offset, another day or year with the same time, a second 60, a
 * BSD line or a bad date in between).
 */
Test(clock, minute_cache_changes_no_time, .init = elsewhere)
{
	static const struct pf_tm tms[] = {
		{ 2026, 3, 2, 10, 15, 0, 1, 1, 0 },
		{ 2026, 3, 2, 10, 15, 59, 999999, 1, 0 },
		{ 2026, 3, 2, 10, 15, 60, 0, 1, 0 },
		{ 2026, 3, 2, 10, 15, 7, 0, 1, 3600 },  /* the same minute, another offset */
		{ 2026, 3, 2, 10, 15, 7, 0, 1, -1800 },
		{ 2026, 3, 3, 10, 15, 7, 0, 1, -1800 },  /* another day */
		{ 2026, 4, 3, 10, 15, 7, 0, 1, -1800 },  /* another month */
		{ 2027, 4, 3, 10, 15, 7, 0, 1, -1800 },  /* another year */
		{ 2027, 4, 3, 11, 15, 7, 0, 1, -1800 },  /* another hour */
		{ 0, 4, 3, 11, 15, 8, 0, 0, 0 },         /* BSD between */
		{ 2027, 4, 3, 11, 15, 9, 0, 1, -1800 },
		{ 2027, 2, 29, 11, 15, 9, 0, 1, -1800 }, /* no such day: -1 */
		{ 2027, 2, 29, 11, 15, 10, 0, 1, -1800 },
		{ 2027, 4, 3, 11, 15, 11, 0, 0, 0 },     /* a year, no offset: the zone's */
		{ 2027, 4, 3, 11, 15, 12, 0, 1, -1800 },
	};
	struct fake f = { 1, 2, 0, 0, 0 };
	struct pf_zone z = { fake_hour_start, fake_year_of, &f };
	struct pf_clock run, one;
	int64_t a, b;
	int ra, rb;
	size_t i;

	pf_clock_init(&run, 2027, 0, &z);
	for (i = 0; i < sizeof(tms) / sizeof(tms[0]); i++) {
		pf_clock_init(&one, 2027, 0, &z);
		a = b = -7;
		ra = pf_clock_resolve(&run, &tms[i], &a);
		rb = pf_clock_resolve(&one, &tms[i], &b);
		cr_expect(ra == rb && a == b, "row %zu: %d %lld after the rows before, %d %lld alone",
		    i, ra, (long long)a, rb, (long long)b);
	}
	pf_clock_init(&run, 0, 0, NULL);
	cr_expect_eq(pf_clock_resolve(&run, &tms[0], &a), 0);
	cr_expect_eq(a, utc_secs(2026, 3, 2, 10, 15, 0) * 1000000 + 1);
	cr_expect_eq(pf_clock_resolve(&run, &tms[3], &a), 0);
	cr_expect_eq(a, utc_secs(2026, 3, 2, 9, 15, 7) * 1000000);
}
