/*
 * NAME
 *	json - JSON string output (see json.h)
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/json.h"

/* utf8_len - length of a valid UTF-8 sequence at p, 0 if invalid */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t need, i;

	if (p[0] < 0xc2 || p[0] > 0xf4)
		return (0);
	need = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;
	if (n < need)
		return (0);
	for (i = 1; i < need; i++)
		if ((p[i] & 0xc0) != 0x80)
			return (0);
	return (need);
}

/* json_str - write a quoted, escaped string */
void
json_str(FILE *fp, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, k;

	putc('"', fp);
	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (c == '"' || c == '\\') {
			putc('\\', fp);
			putc(c, fp);
		} else if (c == '\n') {
			fputs("\\n", fp);
		} else if (c == '\t') {
			fputs("\\t", fp);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(fp, "\\u%04x", c);
		} else if (c < 0x80) {
			putc(c, fp);
		} else if ((k = utf8_len(p + i, n - i)) > 0) {
			fwrite(p + i, 1, k, fp);
			i += k - 1;
		} else {
			fprintf(fp, "\\u%04x", c);
		}
	}
	putc('"', fp);
}

void
json_cstr(FILE *fp, const char *s)
{
	if (s == NULL)
		fputs("null", fp);
	else
		json_str(fp, s, strlen(s));
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
