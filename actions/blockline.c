/*
 * NAME
 *	blockline - the log lines of a block, for people and for fail2ban
 * SUMMARY
 *	Every block (not in monitor mode) is logged in one stable line,
 *	"block: IDENTITY rule RULE ips A,B" (ips "-" for none), the identity
 *	written as one word (util/esc ESC_WORD), then one line per address,
 *	"block-ip: A identity IDENTITY rule RULE": fail2ban takes one
 *	failure from a line, never more (contrib/fail2ban).  The address
 *	comes right after fixed words, so no identity can stand in its place.
 * RETURNS
 *	Nothing: the lines go to act_say().
 * UNTRUSTED INPUT
 *	The identity and the client list come from the log: the identity is
 *	escaped to one word, and only what ident_ip() takes as an IPv4 or
 *	IPv6 address is written as an address.
 */
#include <string.h>

#include "actions/act_int.h"
#include "count/clients.h"
#include "util/buf.h"
#include "util/esc.h"
#include "util/ident.h"

/*
 * block_ips - the addresses of list ("a,b,...") that are addresses, into
 * out as "a,b" (",..." kept when the list was cut; "-" when none)
 */
static const char *
block_ips(const char *list, struct buf *out)
{
	const char *p, *end;
	unsigned char a[16];
	char ip[64];
	size_t n;

	for (p = list != NULL ? list : ""; *p != '\0'; p = *end ? end + 1 : end) {
		end = p + strcspn(p, ",");
		n = (size_t)(end - p);
		if (n == 3 && memcmp(p, "...", 3) == 0 && out->len > 0) {
			buf_adds(out, ",...");
			continue;
		}
		if (n == 0 || n >= sizeof(ip))
			continue;
		memcpy(ip, p, n);
		ip[n] = '\0';
		if (ident_ip(ip, a))
			buf_addf(out, "%s%s", out->len ? "," : "", ip);
	}
	return (out->len ? buf_str(out) : "-");
}

/*
 * act_block_line - the one stable line of a block, and one line per address
 * (see the top); the identity as one word, the addresses checked
 */
void
act_block_line(struct act *a, const char *identity, const char *rule, const char *list)
{
	char word[ACT_ID_VIS], ips[CLIENTS_TEXT_MAX];
	const char *p, *end;
	struct buf b, w;

	buf_fixed(&w, word, sizeof(word));
	(void)esc_buf(&w, identity, strlen(identity), ESC_WORD, sizeof(word) - 1);
	buf_fixed(&b, ips, sizeof(ips));
	act_say(a, ACT_WARN, "block: %s rule %s ips %s", word, rule, block_ips(list, &b));
	for (p = buf_str(&b); *p != '\0'; p = *end ? end + 1 : end) {
		end = p + strcspn(p, ",");
		if (end - p == 3 && memcmp(p, "...", 3) == 0)
			continue;
		act_say(a, ACT_WARN, "block-ip: %.*s identity %s rule %s", (int)(end - p), p, word,
		    rule);
	}
}
