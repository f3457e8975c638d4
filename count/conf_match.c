/*
 * NAME
 *	conf_match - agent.conf reader: globs, address ranges and exemptions
 * SUMMARY
 *	Exports conf_exempt(), conf_rule_match() and conf_cidr_format(); to
 *	the reader (conf_priv.h) conf_split_ranges().
 *
 *	Client-IP patterns (match of a by = ip rule, [exempt] ip) that hold
 *	a '/' are address ranges: parsed once, after the last line (a rule
 *	may give match before by), into struct conf_cidr and taken out of
 *	the glob list; a '/' that is not a valid range is an error.  Other
 *	kinds keep '/' as a plain glob character (a login may contain one).
 *	A value is compared with the globs (fnmatch, ASCII case ignored)
 *	and, for client IPs, parsed once per call and compared with the
 *	ranges by their leading bits.
 * RETURNS
 *	1 for a match, 0 for none; conf_split_ranges() 0, or -1 with the
 *	error recorded.  Never prints, never exits.
 * UNTRUSTED INPUT
 *	Values compared are from the log (logins, senders, client
 *	addresses, lower case); they are only matched, never copied.
 *	Patterns are from the config file.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "count/conf_priv.h"

/* ---- client-IP patterns: address ranges beside the globs ---- */

/* host_bits_zero - 1 when no bit of addr[0..nbytes) after the first bits is set */
static int
host_bits_zero(const unsigned char *addr, size_t nbytes, unsigned bits)
{
	size_t i = bits / 8;

	if (i < nbytes && (addr[i] & (0xffu >> (bits % 8))) != 0)
		return (0);
	for (i++; i < nbytes; i++)
		if (addr[i] != 0)
			return (0);
	return (1);
}

/* clear_host_bits - zero every bit of addr[0..nbytes) after the first bits */
static void
clear_host_bits(unsigned char *addr, size_t nbytes, unsigned bits)
{
	size_t i = bits / 8;

	if (i < nbytes)
		addr[i++] &= (unsigned char)(0xff00u >> (bits % 8));
	for (; i < nbytes; i++)
		addr[i] = 0;
}

/*
 * parse_range - "ADDRESS/BITS" into *r: an IPv4 address with 0..32 bits
 * or an IPv6 address with 0..128, no bit set after the prefix (Postfix's
 * cidr tables refuse those too: 10.0.0.1/8 is a typo, not a range).
 * Returns 0, or -1 with what is wrong in why; *hint: add the form to it.
 */
static int
parse_range(const char *item, struct conf_cidr *r, char *why, size_t len, int *hint)
{
	const char *slash = strchr(item, '/'), *b = slash + 1;
	char addr[INET6_ADDRSTRLEN + 1], fix[64];
	size_t alen = (size_t)(slash - item), nd = strspn(b, "0123456789");
	unsigned bits = 0, max;
	int af;

	memset(r, 0, sizeof(*r));
	*hint = 1;
	if (alen == 0) {
		snprintf(why, len, "no address before '/'");
		return (-1);
	}
	if (alen >= sizeof(addr)) {
		snprintf(why, len, "'%.*s' is not an IPv4 or IPv6 address", (int)alen, item);
		return (-1);
	}
	memcpy(addr, item, alen);
	addr[alen] = '\0';
	af = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(af, addr, r->addr) != 1) {
		snprintf(why, len, "'%s' is not an IPv4 or IPv6 address", addr);
		return (-1);
	}
	r->family = af == AF_INET ? 4 : 6;
	max = af == AF_INET ? 32 : 128;
	if (*b == '\0') {
		snprintf(why, len, "no prefix length after '/'");
		return (-1);
	}
	if (b[nd] != '\0' || nd > 3) {
		snprintf(why, len, "the prefix length '%s' is not a number of bits", b);
		return (-1);
	}
	for (; *b; b++)
		bits = bits * 10 + (unsigned)(*b - '0');
	if (bits > max) {
		snprintf(why, len, "the prefix length %u is over %u for IPv%u", bits, max,
		    r->family);
		return (-1);
	}
	r->bits = (unsigned char)bits;
	if (!host_bits_zero(r->addr, max / 8, bits)) {
		clear_host_bits(r->addr, max / 8, bits);
		snprintf(why, len, "it has bits set after the first %u (did you mean %s?)", bits,
		    conf_cidr_format(r, fix, sizeof(fix)));
		*hint = 0;
		return (-1);
	}
	return (0);
}

/*
 * conf_split_ranges - take the items with a '/' of a client-IP list (key at
 * line) out of *list into *out as ranges; bare IPv6 addresses are written
 * the way Postfix logs them (2001:DB8:0::7 -> 2001:db8::7) so the glob
 * compares equal.  On an error the whole list is dropped (the key keeps
 * its default, none) and -1 is returned.
 */
int
conf_split_ranges(struct pstate *ps, int line, const char *key, char ***list, size_t *n,
    struct conf_cidr **out, size_t *nout)
{
	struct conf_cidr *r = NULL, *fit;
	char why[160], canon[INET6_ADDRSTRLEN];
	unsigned char a6[16];
	size_t i, nr = 0, kept = 0, total = *n;
	int bad = 0, hint;

	if (total == 0)
		return (0);
	/* Room for every item, cut to the ranges found at the end. */
	if ((r = calloc(*n, sizeof(*r))) == NULL) {
		conf_ps_err(ps, line, "out of memory");
		return (-1);
	}
	for (i = 0; i < total; i++) {
		char *item = (*list)[i];

		if (strchr(item, '/') != NULL) {
			if (parse_range(item, &r[nr], why, sizeof(why), &hint) < 0) {
				conf_ps_err(ps, line, "%s: '%s' is not an address range: %s%s", key,
				    item, why,
				    hint ? " (write ADDRESS/BITS, e.g. 203.0.113.0/24 or "
					   "2001:db8::/32)"
					 : "");
				bad = 1;
			} else
				nr++;
			free(item);
			continue;
		}
		if (strpbrk(item, "*?[") == NULL && strchr(item, ':') != NULL &&
		    inet_pton(AF_INET6, item, a6) == 1 &&
		    inet_ntop(AF_INET6, a6, canon, sizeof(canon)) != NULL &&
		    strcmp(canon, item) != 0 && set_str(&item, canon) < 0) {
			conf_ps_err(ps, line, "out of memory");
			bad = 1;
		}
		(*list)[kept++] = item;
	}
	*n = kept;
	if (bad) {
		free_list(*list, *n);
		*list = NULL;
		*n = 0;
		free(r);
		return (-1);
	}
	if (*n == 0) {
		free(*list);
		*list = NULL;
	}
	if (nr == 0) {
		free(r);
		r = NULL;
	} else if (nr < total && (fit = realloc(r, nr * sizeof(*r))) != NULL)
		r = fit;
	free(*out);
	*out = r;
	*nout = nr;
	return (0);
}

/* glob_any - 1 when one of the n globs matches value (ASCII case ignored) */
static int
glob_any(char *const *globs, size_t n, const char *value)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fnmatch(globs[i], value, FNM_CASEFOLD) == 0)
			return (1);
	return (0);
}

/* An address as logged, parsed once for every range of a list. */
struct ipval {
	unsigned char a6[16], a4[4];
	int has6, has4; /* IPv4-mapped IPv6: both */
};

/*
 * ip_text - a logged client address without an "ipv6:" prefix (any case:
 * Postfix writes "IPv6:" in address literals and folded values keep it in
 * lower case), so the prefixed form matches the same patterns.
 */
static const char *
ip_text(const char *v)
{
	return (strncasecmp(v, "ipv6:", 5) == 0 ? v + 5 : v);
}

/* ipval_parse - v (without prefix) as IPv4 or IPv6; 0 when it is neither */
static int
ipval_parse(const char *v, struct ipval *iv)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	iv->has4 = iv->has6 = 0;
	if (strchr(v, ':') == NULL) {
		iv->has4 = inet_pton(AF_INET, v, iv->a4) == 1;
		return (iv->has4);
	}
	if (inet_pton(AF_INET6, v, iv->a6) != 1)
		return (0);
	iv->has6 = 1;
	if (memcmp(iv->a6, mapped, sizeof(mapped)) == 0) {
		memcpy(iv->a4, iv->a6 + 12, 4);
		iv->has4 = 1;
	}
	return (1);
}

/* prefix_eq - 1 when a and b agree in their first bits */
static int
prefix_eq(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	size_t whole = bits / 8;
	unsigned rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return (0);
	if (rest == 0)
		return (1);
	return (((a[whole] ^ b[whole]) & (0xff00u >> rest) & 0xffu) == 0);
}

/* cidr_any - 1 when the address iv is in one of the n ranges */
static int
cidr_any(const struct conf_cidr *r, size_t n, const struct ipval *iv)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((r[i].family == 4 && iv->has4 && prefix_eq(iv->a4, r[i].addr, r[i].bits)) ||
		    (r[i].family == 6 && iv->has6 && prefix_eq(iv->a6, r[i].addr, r[i].bits)))
			return (1);
	return (0);
}

/* pattern_match - value against n globs and, for client IPs, ncidr ranges */
static int
pattern_match(char *const *globs, size_t n, const struct conf_cidr *cidr, size_t ncidr, int is_ip,
    const char *value)
{
	struct ipval iv;

	if (is_ip)
		value = ip_text(value);
	if (glob_any(globs, n, value))
		return (1);
	return (ncidr > 0 && ipval_parse(value, &iv) && cidr_any(cidr, ncidr, &iv));
}

/* conf_exempt - 1 when value (lower case) of kind by is exempt */
int
conf_exempt(const struct conf *c, enum conf_by by, const char *value)
{
	if (c == NULL || value == NULL || (unsigned)by >= BY_COUNT)
		return (0);
	if (c->nexempt[by] == 0 && (by != BY_IP || c->nexempt_cidr == 0))
		return (0); /* nothing of the kind exempt: no pattern to read the value */
	if (by != BY_IP)
		return (glob_any(c->exempt[by], c->nexempt[by], value));
	return (pattern_match(c->exempt[by], c->nexempt[by], c->exempt_cidr, c->nexempt_cidr, 1,
	    value));
}

/* conf_rule_match - 1 when the rule applies to value (lower case) */
int
conf_rule_match(const struct conf_rule *r, const char *value)
{
	if (r->nmatch == 0 && r->ncidr == 0)
		return (1);
	return (value != NULL &&
	    pattern_match(r->match, r->nmatch, r->cidr, r->ncidr, r->by == BY_IP, value));
}

/* conf_cidr_format - "203.0.113.0/24" of a range into buf */
const char *
conf_cidr_format(const struct conf_cidr *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (len == 0)
		return (buf);
	if (inet_ntop(r->family == 4 ? AF_INET : AF_INET6, r->addr, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s/%u", a, (unsigned)r->bits);
	return (buf);
}
