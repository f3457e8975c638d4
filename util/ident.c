/*
 * NAME
 *	ident - identities (see ident.h)
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "util/ident.h"

static const char *const prefixes[IDENT_KINDS] = {
	[IDENT_SASL] = "sasl:",
	[IDENT_UID] = "uid:",
	[IDENT_SENDER] = "sender:",
	[IDENT_IP] = "ip:",
	[IDENT_SASL_DOMAIN] = "sasl_domain:",
	[IDENT_SENDER_DOMAIN] = "sender_domain:",
};

/* ident_prefix - the "kind:" of a kind */
const char *
ident_prefix(enum ident_kind k)
{
	return ((unsigned)k < IDENT_KINDS ? prefixes[k] : NULL);
}

/* ident_parse - split id into kind and value, and check the value's form */
int
ident_parse(const char *id, enum ident_kind *kind, const char **value, const char **why)
{
	size_t k, n, i, len;
	const char *v;

	for (k = 0; k < IDENT_KINDS; k++) {
		n = strlen(prefixes[k]);
		if (strncmp(id, prefixes[k], n) == 0)
			break;
	}
	if (k == IDENT_KINDS) {
		*why = "an identity starts with sasl:, uid:, sender:, ip:, sasl_domain: or "
		       "sender_domain:";
		return (-1);
	}
	v = id + n;
	len = strlen(v);
	if (len == 0) {
		*why = "the value after the kind is empty";
		return (-1);
	}
	if (len > IDENT_VALUE_MAX) {
		*why = "longer than 1024 bytes";
		return (-1);
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x20 || c == 0x7f) {
			*why = "contains a control character";
			return (-1);
		}
		if (k == IDENT_UID && (c < '0' || c > '9')) {
			*why = "a uid is a number";
			return (-1);
		}
		if ((k == IDENT_SASL_DOMAIN || k == IDENT_SENDER_DOMAIN) && c == '@') {
			*why = "a domain has no @";
			return (-1);
		}
	}
	*kind = (enum ident_kind)k;
	*value = v;
	return (0);
}

/* ident_fold - validate and fold to lower case */
int
ident_fold(const char *in, char *out, size_t outlen, const char **why)
{
	enum ident_kind k;
	const char *v;
	size_t n = strlen(in), i;

	if (ident_parse(in, &k, &v, why) < 0)
		return (0);
	if (n + 1 > outlen) {
		*why = "too long";
		return (0);
	}
	for (i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)in[i];

		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	return (1);
}

/* ident_domain - what follows the last '@' */
const char *
ident_domain(const char *addr)
{
	const char *at;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL || at[1] == '\0')
		return (NULL);
	return (at + 1);
}

/* lower8 - the ASCII upper-case bytes of the 8 in x folded: 0x20 added where a byte is 'A'..'Z' */
static inline uint64_t
lower8(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t low7 = x & ~high; /* each byte's low seven bits: no carry leaves a byte below */
	/* high bit set where low7 >= 'A', and where low7 > 'Z' */
	uint64_t ge_a = low7 + (0x80 - 'A') * ones, gt_z = low7 + (0x7f - 'Z') * ones;

	return (x | (((ge_a ^ gt_z) & ~x & high) >> 2)); /* ASCII bytes only: 0x80 >> 2 is 0x20 */
}

/* ident_lower - fold ASCII upper case, eight bytes at a time; see ident.h */
void
ident_lower(char *dst, const char *src, size_t n)
{
	size_t i = 0;
	uint64_t w;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, src + i, 8);
		w = lower8(w);
		memcpy(dst + i, &w, 8);
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	dst[n] = '\0';
}

/*
 * dotted_quad - s is four decimal octets without leading zeros (what a
 * Postfix client address mostly is), into out[4]: 1; 0 for anything else,
 * which inet_pton() then decides.  It takes only what inet_pton(AF_INET)
 * takes, with the same value, without its call per message.
 */
static int
dotted_quad(const char *s, unsigned char out[4])
{
	int k, d;
	unsigned v;

	for (k = 0; k < 4; k++) {
		if (k > 0 && *s++ != '.')
			return (0);
		for (v = 0, d = 0; *s >= '0' && *s <= '9'; s++, d++) {
			if (d == 3 || (d > 0 && v == 0))
				return (0); /* a fourth digit, or a leading zero */
			v = v * 10 + (unsigned)(*s - '0');
		}
		if (d == 0 || v > 255)
			return (0);
		out[k] = (unsigned char)v;
	}
	return (*s == '\0');
}

/* ident_ip - see ident.h */
int
ident_ip(const char *s, unsigned char a[16])
{
	if (s == NULL || s[0] == '\0')
		return (0);
	if ((s[0] == 'i' || s[0] == 'I') && strncasecmp(s, "ipv6:", 5) == 0)
		s += 5;
	memset(a, 0, 16);
	if (dotted_quad(s, a + 12) || inet_pton(AF_INET, s, a + 12) == 1) {
		a[10] = a[11] = 0xff;
		return (1);
	}
	return (inet_pton(AF_INET6, s, a) == 1);
}
