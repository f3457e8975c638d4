/*
 * NAME
 *	postcat - the queue's word on a message (see postcat.h)
 * SUMMARY
 *	postcat -e prints, for each queue file, a header line
 *	"*** ENVELOPE RECORDS deferred/5/58F29A725EE ***", one line per
 *	envelope record ("sender: bob@example.com", "named_attribute:
 *	sasl_username=bob@example.com", ...) and then "*** MESSAGE CONTENTS
 *	..." (fixtures from Postfix 3.7 in tests/postcat/).  Records after
 *	that line (the extracted ones) are not the envelope and are not read.
 *	A missing queue file is "postcat: fatal: open queue file QID: No such
 *	file or directory" on stderr and exit 1 (LANG=C from the runner).
 * RETURNS
 *	See postcat.h.
 * UNTRUSTED INPUT
 *	The text of a queue file, part of it the submitter's: only compared.
 */
#include <string.h>

#include "actions/postcat.h"
#include "util/ident.h"

#define HDR_ENV "*** ENVELOPE RECORDS "
#define HDR_MSG "*** MESSAGE CONTENTS "
#define HDR_END " ***"

/* A line of the text, without its newline. */
struct line {
	const char *p;
	size_t n;
};

/* next_line - the next whole line from *pos; 0 at the end (a last line without newline is cut) */
static int
next_line(const char *text, size_t len, size_t *pos, struct line *l)
{
	const char *nl;

	if (*pos >= len || (nl = memchr(text + *pos, '\n', len - *pos)) == NULL)
		return (0);
	l->p = text + *pos;
	l->n = (size_t)(nl - l->p);
	*pos += l->n + 1;
	return (1);
}

/* starts - line l begins with the NUL-terminated s */
static int
starts(const struct line *l, const char *s)
{
	size_t n = strlen(s);

	return (l->n >= n && memcmp(l->p, s, n) == 0);
}

/*
 * header_path - line l is "PREFIX path ***" with a path of queue names
 * and a last component equal to qid: the path into *path; 1, else 0
 */
static int
header_path(const struct line *l, const char *prefix, const char *qid, struct line *path)
{
	size_t pn = strlen(prefix), en = strlen(HDR_END), qn = strlen(qid), i;
	const char *p;
	size_t n;

	if (!starts(l, prefix) || l->n < pn + en + qn || memcmp(l->p + l->n - en, HDR_END, en) != 0)
		return (0);
	p = l->p + pn;
	n = l->n - pn - en;
	for (i = 0; i < n; i++)
		if (p[i] == '\0' ||
		    strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_-",
			p[i]) == NULL)
			return (0);
	if (memcmp(p + n - qn, qid, qn) != 0 || (n > qn && p[n - qn - 1] != '/'))
		return (0);
	path->p = p;
	path->n = n;
	return (1);
}

/* field_seen - one more occurrence of a field; the first one's value is kept */
static void
field_seen(struct postcat_field *f, const char *p, size_t n)
{
	if (f->count++ == 0) {
		f->p = p;
		f->n = n;
	}
}

/*
 * record - one envelope line "name: value": the fields it fills; 0 when
 * it is not a record's line at all
 */
static int
record(struct postcat_env *env, const struct line *l, int *is_sender, int *is_full)
{
	static const char attr[] = "named_attribute: ";
	const char *colon = memchr(l->p, ':', l->n), *v;
	size_t i, vn;

	*is_sender = *is_full = 0;
	if (colon == NULL || colon == l->p)
		return (0);
	for (i = 0; l->p + i < colon; i++)
		if (l->p[i] == '\0' ||
		    strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
			l->p[i]) == NULL)
			return (0);
	v = colon + 1;
	if (v < l->p + l->n && *v == ' ')
		v++;
	vn = (size_t)(l->p + l->n - v);
	if (starts(l, "sender: ") || (l->n == 7 && starts(l, "sender:"))) {
		field_seen(&env->sender, v, vn);
		*is_sender = 1;
	} else if (starts(l, "sender_fullname:")) {
		field_seen(&env->fullname, v, vn);
		*is_full = 1;
	} else if (starts(l, attr) && vn > 14 && memcmp(v, "sasl_username=", 14) == 0)
		field_seen(&env->sasl, v + 14, vn - 14);
	else if (starts(l, attr) && vn > 15 && memcmp(v, "client_address=", 15) == 0)
		field_seen(&env->client, v + 15, vn - 15);
	return (1);
}

int
postcat_parse(const char *text, size_t len, const char *qid, struct postcat_env *env)
{
	struct line l, path, end;
	size_t pos = 0;
	int is_sender, is_full, after_full = 0;

	memset(env, 0, sizeof(*env));
	if (!next_line(text, len, &pos, &l) || !header_path(&l, HDR_ENV, qid, &path)) {
		env->why = "postcat did not show that queue file's envelope";
		return (-1);
	}
	while (next_line(text, len, &pos, &l)) {
		if (starts(&l, "*** ")) {
			if (after_full || !header_path(&l, HDR_MSG, qid, &end) || end.n != path.n ||
			    memcmp(end.p, path.p, path.n) != 0) {
				env->tampered = 1; /* a header inside the envelope */
				continue;
			}
			env->complete = 1;
			break;
		}
		if (!record(env, &l, &is_sender, &is_full)) {
			env->tampered = 1;
			continue;
		}
		if (after_full && !is_sender)
			env->tampered =
			    1; /* written into the full name: sendmail puts the sender next */
		after_full = is_full || (after_full && !is_sender);
	}
	if (env->sender.count > 1 || env->sasl.count > 1 || env->client.count > 1 ||
	    env->fullname.count > 1)
		env->tampered = 1;
	return (0);
}

/* same - the value of f is s (n bytes), ASCII case aside */
static int
same(const struct postcat_field *f, const char *s, size_t n)
{
	size_t i;

	if (f->count != 1 || f->n != n)
		return (0);
	for (i = 0; i < n; i++) {
		unsigned char a = (unsigned char)f->p[i], b = (unsigned char)s[i];

		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a + ('a' - 'A'));
		if (b >= 'A' && b <= 'Z')
			b = (unsigned char)(b + ('a' - 'A'));
		if (a != b)
			return (0);
	}
	return (1);
}

/* same_domain - the part of f after its last '@' is the domain d */
static int
same_domain(const struct postcat_field *f, const char *d)
{
	struct postcat_field dom = *f;
	size_t i;

	for (i = f->n; i > 0 && f->p[i - 1] != '@'; i--)
		;
	if (i == 0)
		return (0);
	dom.p = f->p + i;
	dom.n = f->n - i;
	return (same(&dom, d, strlen(d)));
}

/* same_ip - the client address f is ip, an "ipv6:" prefix and case aside */
static int
same_ip(const struct postcat_field *f, const char *ip)
{
	struct postcat_field a = *f;

	if (a.n > 5 && strncmp(a.p, "ipv6:", 5) == 0) {
		a.p += 5;
		a.n -= 5;
	}
	if (strncmp(ip, "ipv6:", 5) == 0)
		ip += 5;
	return (same(&a, ip, strlen(ip)));
}

int
postcat_match(const struct postcat_env *env, const char *identity, const char **why)
{
	enum ident_kind k;
	const char *v;
	int ok;

	if (ident_parse(identity, &k, &v, why) < 0)
		return (0);
	if (k == IDENT_UID) {
		if (env->tampered || (env->sasl.count == 0 && env->client.count == 0))
			return (1);
		*why = "the queue file came in over SMTP, not through sendmail";
		return (0);
	}
	if (env->tampered) {
		*why = "the envelope holds lines a local sender wrote into it (sendmail -F)";
		return (0);
	}
	switch (k) {
	case IDENT_SASL:
		ok = same(&env->sasl, v, strlen(v));
		*why = "the queue file's sasl_username is another login, or none";
		break;
	case IDENT_SASL_DOMAIN:
		ok = env->sasl.count == 1 && same_domain(&env->sasl, v);
		*why = "the queue file's sasl_username is of another domain, or none";
		break;
	case IDENT_SENDER:
		ok = same(&env->sender, v, strlen(v));
		*why = "the queue file's sender is another address";
		break;
	case IDENT_SENDER_DOMAIN:
		ok = env->sender.count == 1 && same_domain(&env->sender, v);
		*why = "the queue file's sender is of another domain";
		break;
	case IDENT_IP:
		ok = env->client.count == 1 && same_ip(&env->client, v);
		*why = "the queue file's client_address is another address, or none";
		break;
	default:
		ok = 0;
		*why = "no such identity kind";
		break;
	}
	return (ok);
}

/* gone - stderr says the queue has no such file */
static int
gone(const char *err, const char *qid)
{
	static const char pre[] = "postcat: fatal: open queue file ";
	static const char post[] = ": No such file or directory";
	const char *p;
	size_t qn = strlen(qid);

	for (p = strstr(err, pre); p != NULL; p = strstr(p + 1, pre)) {
		const char *q = p + sizeof(pre) - 1;

		if (strncmp(q, qid, qn) == 0 && strncmp(q + qn, post, sizeof(post) - 1) == 0)
			return (1);
	}
	return (0);
}

enum postcat_verdict
postcat_verdict(const struct run_result *r, const char *qid, const char *identity, const char **why)
{
	struct postcat_env env;

	if (r->exited && r->status == 1 && gone(r->err, qid)) {
		*why = "not in the queue";
		return (POSTCAT_GONE);
	}
	if (!run_ok(r)) {
		*why = "postcat failed";
		return (POSTCAT_FAILED);
	}
	if (postcat_parse(r->out, strlen(r->out), qid, &env) < 0) {
		*why = env.why;
		return (POSTCAT_UNCONFIRMED);
	}
	return (postcat_match(&env, identity, why) ? POSTCAT_CONFIRMED : POSTCAT_UNCONFIRMED);
}
