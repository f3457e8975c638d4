/*
 * NAME
 *	ident - identities: "kind:value" (sasl:, uid:, sender:, ip:,
 *	sasl_domain:, sender_domain:)
 * SUMMARY
 *	The one place that knows the kinds, their prefixes and what a value
 *	of each may look like.  ident_parse() splits and checks an identity
 *	(typed by an administrator, sent over the control socket or read
 *	back from the store); ident_domain() gives the domain part of a
 *	login or address, the value of the domain kinds.
 *	Uses nothing of the project (the lower floor).
 * RETURNS
 *	Never prints, never exits, never allocates.
 * UNTRUSTED INPUT
 *	Every argument: identities come from the log and the control socket.
 *	A value is 1..IDENT_VALUE_MAX bytes without control characters; a uid
 *	is decimal digits; a domain has no '@'.
 */
#ifndef SG_IDENT_H
#define SG_IDENT_H

#include <stddef.h>

/* The kinds, in the order of conf's "by" (enum conf_by has the same values). */
enum ident_kind {
	IDENT_SASL = 0,
	IDENT_UID,
	IDENT_SENDER,
	IDENT_IP,
	IDENT_SASL_DOMAIN,
	IDENT_SENDER_DOMAIN,
	IDENT_KINDS
};

/*
 * The one cap on identities: a value (a login, an address, a client IP) is
 * at most IDENT_VALUE_MAX bytes wherever it comes from; the parser refuses
 * a log line with a longer one (the line is counted as unparsed), so an
 * identity read from the log can always be typed back by an administrator.
 * IDENT_MAX holds any whole identity, "kind:" and NUL included.
 */
#define IDENT_VALUE_MAX 1024
#define IDENT_MAX (16 + IDENT_VALUE_MAX)

/* ident_prefix - "sasl:" for IDENT_SASL; NULL past the end */
const char *ident_prefix(enum ident_kind);

/*
 * ident_parse - the kind of id and where its value starts; 0, or -1 with
 * *why ("an identity starts with sasl:, ...", "the value after the kind
 * is empty", ...).  Case is not changed; see ident_fold().
 */
int ident_parse(const char *id, enum ident_kind *kind, const char **value, const char **why);

/*
 * ident_fold - in validated and folded to lower case into out (outlen
 * bytes): 1, or 0 with *why.  What an administrator types goes through
 * here before it is looked up or acted on.
 */
int ident_fold(const char *in, char *out, size_t outlen, const char **why);

/*
 * ident_lower - the n bytes at src with ASCII upper case folded to lower
 * case into dst, NUL added (dst n + 1 bytes; src may be dst); other bytes
 * as they are.  Eight bytes at a time: the tracker folds every login and
 * sender it keeps.
 */
void ident_lower(char *dst, const char *src, size_t n);

/*
 * ident_domain - the domain of a login or address: what follows its last
 * '@', when that is not empty; NULL otherwise (a login without '@').
 */
const char *ident_domain(const char *addr);

/*
 * ident_ip - s is an IPv4 or IPv6 address as a log writes it (an "ipv6:"
 * prefix allowed, any case); 1 with its 16 bytes in a (IPv4 as
 * ::ffff:a.b.c.d, so equal addresses have equal bytes), 0 if it is not one
 */
int ident_ip(const char *s, unsigned char a[16]);

#endif
