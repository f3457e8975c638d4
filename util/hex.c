/*
 * NAME
 *	hex - bytes as hexadecimal text and back (see hex.h)
 * SUMMARY
 *	hex_encode() and hex_decode(), for what must cross a boundary
 *	without a byte of its own (the cluster's strings in PostgreSQL).
 * RETURNS
 *	0 / -1, or the number of bytes decoded; never prints, never exits.
 * UNTRUSTED INPUT
 *	hex_decode()'s text: odd lengths, non-hex digits and too many bytes
 *	are refused.
 */
#include "util/hex.h"

static const char digits[] = "0123456789abcdef";

/* hex_encode - n bytes at p as lower-case hex digits appended to b; 0, or -1 */
int
hex_encode(struct buf *b, const void *p, size_t n)
{
	const unsigned char *s = p;
	char pair[2];
	size_t i;

	for (i = 0; i < n; i++) {
		pair[0] = digits[s[i] >> 4];
		pair[1] = digits[s[i] & 0x0f];
		if (buf_add(b, pair, 2) < 0)
			return (-1);
	}
	return (0);
}

/* nibble - the value of one hex digit, -1 for another byte */
static int
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* hex_decode - n hex digits at h as bytes into out, NUL-terminated; their number, or -1 */
long
hex_decode(const char *h, size_t n, char *out, size_t outlen)
{
	size_t i;
	int hi, lo;

	if (n % 2 != 0 || n / 2 >= outlen)
		return (-1);
	for (i = 0; i < n / 2; i++) {
		if ((hi = nibble(h[2 * i])) < 0 || (lo = nibble(h[2 * i + 1])) < 0)
			return (-1);
		out[i] = (char)(hi * 16 + lo);
	}
	out[n / 2] = '\0';
	return ((long)(n / 2));
}
