/*
 * NAME
 *	json - JSON string output (see json.h)
 * SUMMARY
 *	Strings go through util/esc's ESC_JSON, the one escaper; this module
 *	only adds null for a missing string and the RFC 3339 time.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/esc.h"
#include "util/json.h"

/* json_str - write a quoted, escaped string */
void
json_str(FILE *fp, const char *s, size_t n)
{
	esc_fp(fp, s, n, ESC_JSON);
}

/* json_cstr - a C string as json_str, NULL as null */
void
json_cstr(FILE *fp, const char *s)
{
	if (s == NULL)
		fputs("null", fp);
	else
		esc_fp(fp, s, strlen(s), ESC_JSON);
}

/* json_time - RFC 3339 UTC with seconds */
const char *
json_time(int64_t usec, char *buf, size_t len)
{
	time_t t = (time_t)(usec >= 0 ? usec / 1000000 : (usec - 999999) / 1000000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "invalid");
	return (buf);
}
