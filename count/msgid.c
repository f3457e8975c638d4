/*
 * NAME
 *	msgid - the identities of one accepted message, built once (see msgid.h)
 * SUMMARY
 *	Each identity is its kind's prefix and the value copied after it
 *	(the uid in decimal), with the same NULL cases as limits_ident():
 *	no value, an empty sender or address, no domain, or a result of
 *	IDENT_MAX bytes or more.
 * UNTRUSTED INPUT
 *	The message's fields, copied with their lengths.
 */
#include <string.h>

#include "count/msgid.h"

/* put - "prefix" + value into ids->buf[k]; NULL (not set) when it would not fit */
static void
put(struct msgid *ids, int k, const char *prefix, const char *value)
{
	size_t pn = strlen(prefix), vn = strlen(value);

	if (pn + vn >= IDENT_MAX)
		return;
	memcpy(ids->buf[k], prefix, pn);
	memcpy(ids->buf[k] + pn, value, vn + 1);
	ids->id[k] = ids->buf[k];
	ids->len[k] = pn + vn;
}

/* put_uid - "uid:N" */
static void
put_uid(struct msgid *ids, long uid)
{
	char digits[24], *d = digits + sizeof(digits);
	unsigned long v = (unsigned long)uid;

	*--d = '\0';
	do
		*--d = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	put(ids, BY_UID, "uid:", d);
}

void
msgid_make(struct msgid *ids, const struct conf *conf, const struct track_msg *m)
{
	const char *d;
	int k;

	for (k = 0; k < BY_COUNT; k++) {
		ids->id[k] = NULL;
		ids->len[k] = 0;
		ids->exempt[k] = 0;
	}
	if (m->sasl != NULL)
		put(ids, BY_SASL, "sasl:", m->sasl);
	if (m->uid >= 0)
		put_uid(ids, m->uid);
	if (m->sender != NULL && m->sender[0] != '\0')
		put(ids, BY_SENDER, "sender:", m->sender);
	if (m->client_ip != NULL && m->client_ip[0] != '\0')
		put(ids, BY_IP, "ip:", m->client_ip);
	if ((d = ident_domain(m->sasl)) != NULL)
		put(ids, BY_SASL_DOMAIN, "sasl_domain:", d);
	if ((d = ident_domain(m->sender)) != NULL)
		put(ids, BY_SENDER_DOMAIN, "sender_domain:", d);
	ids->conf = conf;
	for (k = 0; k < BY_COUNT && conf != NULL; k++)
		if (ids->id[k] != NULL)
			ids->exempt[k] =
			    conf_exempt(conf, (enum conf_by)k, strchr(ids->id[k], ':') + 1);
}

int
msgid_exempt(const struct msgid *ids, const struct conf *conf, int k)
{
	if (ids->id[k] == NULL)
		return (0);
	if (conf == ids->conf)
		return (ids->exempt[k]);
	return (conf_exempt(conf, (enum conf_by)k, strchr(ids->id[k], ':') + 1));
}
