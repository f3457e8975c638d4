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

/*
 * put - "prefix" (pn bytes) + value (vn bytes) into ids->buf[k]; NULL
 * (not set) when it would not fit.  Returns the value's copy, or NULL.
 */
static const char *
put(struct msgid *ids, int k, const char *prefix, size_t pn, const char *value, size_t vn)
{
	char *b = ids->buf[k];

	if (pn + vn >= IDENT_MAX)
		return (NULL);
	memcpy(b, prefix, pn);
	memcpy(b + pn, value, vn);
	b[pn + vn] = '\0';
	ids->id[k] = b;
	ids->len[k] = pn + vn;
	return (b + pn);
}

/* PUT - put() with a literal prefix, its length known when compiled */
#define PUT(ids, k, lit, value, vn) put((ids), (k), (lit), sizeof(lit) - 1, (value), (vn))

/* put_uid - "uid:N" */
static const char *
put_uid(struct msgid *ids, long uid)
{
	char digits[24], *d = digits + sizeof(digits);
	unsigned long v = (unsigned long)uid;

	do
		*--d = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	return (PUT(ids, BY_UID, "uid:", d, (size_t)(digits + sizeof(digits) - d)));
}

/*
 * put_domain - "prefix" + what follows the last '@' of addr[0..n) into
 * kind k, as ident_domain() finds it: nothing without an '@' or with
 * nothing after it
 */
static const char *
put_domain(struct msgid *ids, int k, const char *prefix, size_t pn, const char *addr, size_t n)
{
	const char *at = memrchr(addr, '@', n);

	if (at == NULL || (size_t)(at + 1 - addr) == n)
		return (NULL);
	return (put(ids, k, prefix, pn, at + 1, n - (size_t)(at + 1 - addr)));
}

/*
 * msgid_make - every identity of m, each string measured once and its
 * value (after the prefix) handed to conf_exempt() as it is
 */
void
msgid_make(struct msgid *ids, const struct conf *conf, const struct track_msg *m)
{
	const char *val[BY_COUNT] = { NULL };
	size_t n;
	int k;

	for (k = 0; k < BY_COUNT; k++) {
		ids->id[k] = NULL;
		ids->len[k] = 0;
		ids->exempt[k] = 0;
	}
	if (m->sasl != NULL) {
		n = strlen(m->sasl);
		val[BY_SASL] = PUT(ids, BY_SASL, "sasl:", m->sasl, n);
		val[BY_SASL_DOMAIN] = put_domain(ids, BY_SASL_DOMAIN,
		    "sasl_domain:", sizeof("sasl_domain:") - 1, m->sasl, n);
	}
	if (m->uid >= 0)
		val[BY_UID] = put_uid(ids, m->uid);
	if (m->sender != NULL && m->sender[0] != '\0') {
		n = strlen(m->sender);
		val[BY_SENDER] = PUT(ids, BY_SENDER, "sender:", m->sender, n);
		val[BY_SENDER_DOMAIN] = put_domain(ids, BY_SENDER_DOMAIN,
		    "sender_domain:", sizeof("sender_domain:") - 1, m->sender, n);
	}
	if (m->client_ip != NULL && m->client_ip[0] != '\0')
		val[BY_IP] = PUT(ids, BY_IP, "ip:", m->client_ip, strlen(m->client_ip));
	ids->conf = conf;
	for (k = 0; k < BY_COUNT && conf != NULL; k++)
		if (val[k] != NULL)
			ids->exempt[k] = conf_exempt(conf, (enum conf_by)k, val[k]);
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
