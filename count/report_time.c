/*
 * NAME
 *	report_time - the report's times: the --since and --until bounds of
 *	an audit read, its log times written
 * SUMMARY
 *	report_parse_time() (declared in report.h, as it always was): RFC
 *	3339, a local date and time, today, yesterday, or now minus a
 *	duration, read against a "now" the caller passes in.
 *	report_json_time() (report_priv.h): util/json's json_time() text,
 *	with the dates of the days asked for kept per thread, so that the
 *	report's many times (a few days of log) cost no strftime each.
 * RETURNS
 *	0, or -1 with a message in err; never prints, never exits.
 * UNTRUSTED INPUT
 *	The command-line argument, read with strptime and checked to its end.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/json.h"
#include "count/report_priv.h"

#define DAY_S 86400
#define DAYS_KEPT 16             /* dates kept, by day number modulo this */
#define YEAR10K_S 253402300800LL /* 10000-01-01T00:00:00Z: four-digit years before it */

/*
 * report_json_time - json_time(us) into buf: for a time from 1970 to
 * 9999 the date of its day (json_time's, kept for DAYS_KEPT days by day
 * number: a report's rows alternate between the few days of its log) and
 * the time of day in digits; anything else, or a buffer shorter than the
 * text, json_time itself
 */
const char *
report_json_time(int64_t us, char *buf, size_t len)
{
	static _Thread_local struct {
		int64_t day;   /* days since the epoch, plus one (0: none kept) */
		char date[12]; /* "YYYY-MM-DDT" */
	} memo[DAYS_KEPT];
	int64_t s = us / 1000000, d = s / DAY_S, sec = s - d * DAY_S;
	size_t slot = (size_t)d % DAYS_KEPT;
	char full[40];

	if (us < 0 || s >= YEAR10K_S || len < sizeof("YYYY-MM-DDTHH:MM:SSZ"))
		return (json_time(us, buf, len));
	if (memo[slot].day != d + 1) {
		if (strlen(json_time(d * DAY_S * 1000000, full, sizeof(full))) != 20)
			return (json_time(us, buf, len));
		memcpy(memo[slot].date, full, 11);
		memo[slot].day = d + 1;
	}
	memcpy(buf, memo[slot].date, 11);
	buf[11] = (char)('0' + sec / 36000);
	buf[12] = (char)('0' + sec / 3600 % 10);
	buf[13] = ':';
	buf[14] = (char)('0' + sec % 3600 / 600);
	buf[15] = (char)('0' + sec % 3600 / 60 % 10);
	buf[16] = ':';
	buf[17] = (char)('0' + sec % 60 / 10);
	buf[18] = (char)('0' + sec % 10);
	buf[19] = 'Z';
	buf[20] = '\0';
	return (buf);
}

/* read2 - the two decimal digits at s into *v; 0, or -1 if they are not */
static int
read2(const char *s, long *v)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return (-1);
	*v = (s[0] - '0') * 10 + (s[1] - '0');
	return (0);
}

/* parse_absolute - RFC 3339, or a local date [and time]; 0, or -1 if s is neither */
static int
parse_absolute(const char *s, int64_t *out)
{
	static const char *const fmts[] = {
		"%Y-%m-%dT%H:%M:%S",
		"%Y-%m-%d %H:%M:%S",
		"%Y-%m-%d %H:%M",
		"%Y-%m-%d",
	};
	struct tm tm;
	const char *end = NULL;
	time_t t;
	long off = 0, hh, mm = 0;
	size_t i;
	int zoned = 0;

	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]) && end == NULL; i++) {
		memset(&tm, 0, sizeof(tm)); /* a failed attempt may have filled some */
		end = strptime(s, fmts[i], &tm);
	}
	if (end == NULL)
		return (-1);
	if (*end == '.') { /* fraction: ignored */
		end++;
		while (isdigit((unsigned char)*end))
			end++;
	}
	if (*end == 'Z' || *end == 'z') {
		zoned = 1;
		end++;
	} else if (*end == '+' || *end == '-') {
		int sign = *end == '-' ? -1 : 1;

		if (read2(end + 1, &hh) < 0)
			return (-1);
		end += 3;
		if (*end == ':') { /* +01:00 */
			if (read2(end + 1, &mm) < 0)
				return (-1);
			end += 3;
		} else if (*end != '\0') { /* +0100; +01 alone is whole hours */
			if (read2(end, &mm) < 0)
				return (-1);
			end += 2;
		}
		if (hh > 23 || mm > 59)
			return (-1);
		off = sign * (hh * 3600 + mm * 60);
		zoned = 1;
	}
	if (*end != '\0')
		return (-1);
	if (zoned) {
		if ((t = timegm(&tm)) == (time_t)-1)
			return (-1);
		t -= off;
	} else {
		tm.tm_isdst = -1;
		if ((t = mktime(&tm)) == (time_t)-1)
			return (-1);
	}
	*out = (int64_t)t * 1000000;
	return (0);
}

/*
 * local_midnight - the local midnight days_back days before the day of
 * now_us.  The day is stepped in the calendar (mktime normalises), not by
 * 86400 s, so a day of 23 or 25 hours is a day; where a change of daylight
 * saving time skips midnight, mktime gives the first time the day has.
 */
static int
local_midnight(int64_t now_us, int days_back, int64_t *out)
{
	time_t now = (time_t)(now_us >= 0 ? now_us / 1000000 : (now_us - 999999) / 1000000);
	struct tm tm;
	time_t t;

	if (localtime_r(&now, &tm) == NULL)
		return (-1);
	tm.tm_hour = 0;
	tm.tm_min = 0;
	tm.tm_sec = 0;
	tm.tm_mday -= days_back;
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) == (time_t)-1)
		return (-1);
	*out = (int64_t)t * 1000000;
	return (0);
}

/* report_parse_time - a --since/--until T into microseconds, relative to now_us (see report.h) */
int
report_parse_time(const char *s, int64_t now_us, int64_t *out, char *err, size_t errlen)
{
	size_t n = strlen(s);
	int64_t d;

	if (strcmp(s, "today") == 0 || strcmp(s, "yesterday") == 0) {
		if (local_midnight(now_us, s[0] == 'y', out) < 0) {
			snprintf(err, errlen, "'%s': cannot find the local midnight", s);
			return (-1);
		}
		return (0);
	}
	if (s[0] == '-') {
		/* -N with a unit: conf_parse_duration alone would take a bare -90 as seconds */
		if (n < 3 || strchr("smhd", s[n - 1]) == NULL ||
		    (d = conf_parse_duration(s + 1)) < 0) {
			snprintf(err, errlen,
			    "'%s' is not a relative time "
			    "(a minus, a number and a unit s, m, h or d: -90s, -30m, -2h, -7d)",
			    s);
			return (-1);
		}
		if (now_us < 0 || d > now_us / 1000000) {
			snprintf(err, errlen, "'%s' reaches back before 1970", s);
			return (-1);
		}
		*out = now_us - d * 1000000;
		return (0);
	}
	if (parse_absolute(s, out) < 0) {
		snprintf(err, errlen,
		    "cannot read time '%s' (use 2026-11-27T17:20:00Z, "
		    "2026-11-27 17:20, 2026-11-27, today, yesterday or -2h)",
		    s);
		return (-1);
	}
	return (0);
}
