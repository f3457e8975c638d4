/*
 * NAME
 *	source_text - whether a block of bytes is a text log (count/source.c)
 * SUMMARY
 *	The rule of source.h's ERRORS, which source_open() applies to the
 *	first block it reads or decodes: at most a quarter of the bytes are
 *	neither printable ASCII, TAB, LF, CR, FF nor part of a well-formed
 *	UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, nothing
 *	above U+10FFFF; a sequence cut by the end of the block counts as
 *	text).  Moved out of source.c, which had grown past 1000 lines.
 * RETURNS
 *	source_is_text: 1 text, 0 not.  Never prints, never exits.
 * UNTRUSTED INPUT
 *	The bytes, read with their length only.
 */
#include <stddef.h>

#include "count/source_priv.h"

/* utf8_len - length of the well-formed UTF-8 sequence at p, 0 if none (RFC 3629) */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned lo = 0x80, hi = 0xbf;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0; /* no overlong forms */
		else if (p[0] == 0xed)
			hi = 0x9f; /* no surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f; /* nothing above U+10FFFF */
	} else
		return (0);
	if (n < len)
		return (n); /* cut by the end of the sample: give it the benefit */
	for (i = 1; i < len; i++) {
		if (p[i] < lo || p[i] > hi)
			return (0);
		lo = 0x80;
		hi = 0xbf;
	}
	return (len);
}

/* source_is_text - see source_priv.h */
int
source_is_text(const unsigned char *p, size_t n)
{
	size_t i = 0, odd = 0, k;

	while (i < n) {
		if ((p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\t' || p[i] == '\n' || p[i] == '\r' ||
		    p[i] == '\f') {
			i++;
			continue;
		}
		if (p[i] >= 0x80 && (k = utf8_len(p + i, n - i)) > 0) {
			i += k;
			continue;
		}
		odd++;
		i++;
	}
	return (odd <= n / 4);
}
