/*
 * NAME
 *	limits_ident - the "kind:value" identity of a message for one kind
 * SUMMARY
 *	limits_ident() (count/limits.h) writes the identity a rule by kind
 *	counts a message under: "sasl:LOGIN", "uid:N", "sender:ADDRESS",
 *	"ip:ADDRESS", "sasl_domain:D", "sender_domain:D" (count/msgid.c makes
 *	every kind of a message at once, the same way).
 * RETURNS
 *	buf, or NULL when the message has none of that kind or it does not fit.
 * UNTRUSTED INPUT
 *	The message's fields, from the log (validated by the parser).
 */
#include <stdio.h>

#include "util/ident.h"
#include "count/limits.h"

/* limits_ident - "kind:value" of m for kind by */
const char *
limits_ident(const struct track_msg *m, enum conf_by by, char *buf, size_t len)
{
	const char *d;
	int n;

	switch (by) {
	case BY_SASL:
		if (m->sasl == NULL)
			return (NULL);
		n = snprintf(buf, len, "sasl:%s", m->sasl);
		break;
	case BY_UID:
		if (m->uid < 0)
			return (NULL);
		n = snprintf(buf, len, "uid:%ld", m->uid);
		break;
	case BY_SENDER:
		if (m->sender == NULL || m->sender[0] == '\0')
			return (NULL);
		n = snprintf(buf, len, "sender:%s", m->sender);
		break;
	case BY_IP:
		if (m->client_ip == NULL || m->client_ip[0] == '\0')
			return (NULL);
		n = snprintf(buf, len, "ip:%s", m->client_ip);
		break;
	case BY_SASL_DOMAIN:
		if ((d = ident_domain(m->sasl)) == NULL)
			return (NULL);
		n = snprintf(buf, len, "sasl_domain:%s", d);
		break;
	case BY_SENDER_DOMAIN:
		if ((d = ident_domain(m->sender)) == NULL)
			return (NULL);
		n = snprintf(buf, len, "sender_domain:%s", d);
		break;
	default:
		return (NULL);
	}
	if (n < 0 || (size_t)n >= len)
		return (NULL);
	return (buf);
}
