/*
 * NAME
 *	msgid - the identities of one accepted message, built once
 * SUMMARY
 *	msgid_make() writes every "kind:value" identity of a message (sasl,
 *	uid, sender, ip, sasl_domain, sender_domain) into one struct msgid,
 *	each exactly as limits_ident() would, with its length and whether
 *	the configuration exempts it.  The pipeline makes one per message
 *	and hands it to the report and the limits, so neither formats the
 *	strings again (they were built with snprintf per consumer and kind).
 *	No allocation; the struct is large (BY_COUNT x IDENT_MAX bytes of
 *	text) and meant for the caller's stack or its own storage.
 * RETURNS
 *	Nothing: a kind the message has not, or whose identity would not fit
 *	IDENT_MAX bytes, is NULL (as limits_ident() returns NULL).
 * UNTRUSTED INPUT
 *	The message's fields, from the log (validated by the parser: no
 *	control byte, at most IDENT_VALUE_MAX bytes).
 */
#ifndef SG_MSGID_H
#define SG_MSGID_H

#include <stddef.h>

#include "count/conf.h"
#include "count/track.h"
#include "util/ident.h"

struct msgid {
	const struct conf *conf;  /* the one exempt[] was worked out by */
	const char *id[BY_COUNT]; /* "kind:value", or NULL */
	size_t len[BY_COUNT];     /* strlen(id[k]) */
	int exempt[BY_COUNT];     /* conf_exempt() of the value */
	char buf[BY_COUNT][IDENT_MAX];
};

/* msgid_make - every identity of m into ids; exempt[] by conf (NULL: none exempt) */
void msgid_make(struct msgid *ids, const struct conf *conf, const struct track_msg *m);

/* msgid_exempt - whether conf exempts identity k of ids (worked out again for another conf) */
int msgid_exempt(const struct msgid *ids, const struct conf *conf, int k);

#endif
