/*
 * NAME
 *	zone - local time through the C library (see zone.h)
 */
#include <string.h>
#include <time.h>

#include "count/zone.h"

/* hour_start - epoch seconds of local year-mon-mday hour:00:00, as mktime() sees it */
static int
hour_start(void *arg, int year, int mon, int mday, int hour, int64_t *secs)
{
	struct tm t;
	time_t r;

	(void)arg;
	memset(&t, 0, sizeof(t));
	t.tm_year = year - 1900;
	t.tm_mon = mon - 1;
	t.tm_mday = mday;
	t.tm_hour = hour;
	t.tm_isdst = -1;
	if ((r = mktime(&t)) == (time_t)-1)
		return (-1);
	*secs = (int64_t)r;
	return (0);
}

/* year_of - the local calendar year at secs */
static int
year_of(void *arg, int64_t secs, int *year)
{
	time_t t = (time_t)secs;
	struct tm lt;

	(void)arg;
	if (localtime_r(&t, &lt) == NULL)
		return (-1);
	*year = lt.tm_year + 1900;
	return (0);
}

const struct pf_zone zone_local = { hour_start, year_of, NULL };
