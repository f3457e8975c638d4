/*
 * test_ident - util/ident's ident_ip against inet_pton(3): its own parse of
 * the plain dotted quad (the usual client address) takes exactly what
 * inet_pton(AF_INET) takes, with the same bytes, for a table of edges and
 * for every string of four groups of zero to four digits drawn at random;
 * the rest (IPv6, "ipv6:" prefixes, malformed text) as inet_pton decides;
 * and ident_lower, eight bytes at a time, against the byte-by-byte fold.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/ident.h"

/* agree - ident_ip(s) is inet_pton's answer for s (an "ipv6:" prefix aside) */
static void
agree(const char *s)
{
	const char *v = strncasecmp(s, "ipv6:", 5) == 0 ? s + 5 : s;
	unsigned char a[16], b4[4], b6[16];
	int r4 = inet_pton(AF_INET, v, b4) == 1, r6 = inet_pton(AF_INET6, v, b6) == 1;
	int got = ident_ip(s, a);

	cr_assert_eq(got, s[0] != '\0' && (r4 || r6), "\"%s\": ident_ip %d, inet_pton %d/%d", s, got,
	    r4, r6);
	if (r4)
		cr_assert(memcmp(a + 12, b4, 4) == 0 && a[10] == 0xff && a[11] == 0xff, "\"%s\"", s);
	else if (r6)
		cr_assert(memcmp(a, b6, 16) == 0, "\"%s\"", s);
}

Test(ident, ip_as_inet_pton)
{
	static const char *const edges[] = { "1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1",
		"01.2.3.4", "1.2.3.04", "00.0.0.0", "1.2.3", "1.2.3.4.", "1.2.3.4.5", "1..3.4",
		".1.2.3", "10.0.0.1x", " 1.2.3.4", "1.2.3.4 ", "192.168.001.1", "0.10.100.255",
		"999.1.1.1", "1.2.3.-1", "", "1.2.3.4:25", "ipv6:1.2.3.4", "IPv6:::1",
		"::ffff:1.2.3.4", "2001:db8::1", "0000.1.1.1", "1.2.3.2555", "+1.2.3.4", "unknown" };
	size_t i;
	int k, d, n, j;
	char s[32];

	for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		agree(edges[i]);
	srand(12);
	for (j = 0; j < 200000; j++) {
		for (n = 0, k = 0; k < 4; k++) {
			if (k > 0)
				s[n++] = '.';
			for (d = rand() % 5; d > 0; d--)
				s[n++] = (char)('0' + rand() % 10);
		}
		s[n] = '\0';
		agree(s);
	}
}

/* lower_ref - the byte-by-byte fold ident_lower must equal */
static void
lower_ref(char *dst, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = (char)((unsigned char)src[i] >= 'A' && (unsigned char)src[i] <= 'Z'
			? src[i] + ('a' - 'A')
			: src[i]);
	dst[n] = '\0';
}

/*
 * ident_lower folds eight bytes at a time: every byte value at every
 * place of a word and in the tail, and random texts of 0 to 40 bytes, as
 * the byte-by-byte fold (so '@', '[', '`', '{', 0x80 + 'A' stay)
 */
Test(ident, lower_as_byte_by_byte)
{
	char src[48], got[49], want[49];
	size_t n, pos;
	int c, j;

	for (c = 0; c < 256; c++)
		for (n = 1; n <= 17; n++)
			for (pos = 0; pos < n; pos++) {
				memset(src, 'Q', n);
				src[pos] = (char)c;
				memset(got, 0x55, sizeof(got));
				ident_lower(got, src, n);
				lower_ref(want, src, n);
				cr_assert(memcmp(got, want, n + 1) == 0, "byte %d at %zu of %zu", c, pos, n);
			}
	srand(5);
	for (j = 0; j < 100000; j++) {
		n = (size_t)(rand() % 41);
		for (pos = 0; pos < n; pos++)
			src[pos] = (char)(rand() % 256);
		ident_lower(got, src, n);
		lower_ref(want, src, n);
		cr_assert(memcmp(got, want, n + 1) == 0, "random text %d", j);
	}
}
