/*
 * test_json - any log bytes become valid JSON strings; times are RFC 3339 UTC.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

struct row {
	const char *in;
	size_t	n;
	const char *want;
};

Test(json, strings)
{
	static const struct row tab[] = {
		{ "plain", 5, "\"plain\"" },
		{ "a\"b\\c", 5, "\"a\\\"b\\\\c\"" },
		{ "t\tn\n", 4, "\"t\\tn\\n\"" },
		{ "\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"" },
		{ "caf\xc3\xa9", 5, "\"caf\xc3\xa9\"" },		/* valid UTF-8 kept */
		{ "bad\xff\xc3", 5, "\"bad\\u00ff\\u00c3\"" },	/* invalid bytes escaped */
		{ "nul\0x", 5, "\"nul\\u0000x\"" },
		/* not well-formed UTF-8 (a surrogate, past U+10FFFF): escaped byte by byte */
		{ "\xed\xa0\x80", 3, "\"\\u00ed\\u00a0\\u0080\"" },
		{ "\xf4\x90\x80\x80", 4, "\"\\u00f4\\u0090\\u0080\\u0080\"" },
	};
	size_t i, len;
	char *buf;
	FILE *fp;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		fp = open_memstream(&buf, &len);
		json_str(fp, tab[i].in, tab[i].n);
		fclose(fp);
		cr_expect_str_eq(buf, tab[i].want, "row %zu: got %s", i, buf);
		free(buf);
	}
}

Test(json, times)
{
	char b[40];

	cr_expect_str_eq(json_time(0, b, sizeof(b)), "1970-01-01T00:00:00Z");
	cr_expect_str_eq(json_time(1678752031185246LL, b, sizeof(b)), "2023-03-14T00:00:31Z");
	cr_expect_str_eq(json_time(-1, b, sizeof(b)), "1969-12-31T23:59:59Z");
}
