/*
 * NAME
 *	postfix - Postfix event parser: pf_parser_new, pf_parse, pf_kind_name
 * SUMMARY
 *	pf_parse() runs the syslog header parser (syslog.c), then a cheap
 *	prefilter: the daemon (last component of the syslog name) must be a
 *	Postfix program that logs one of the events in pf.h, and the text
 *	must start with "warning: ", "NOQUEUE: " or a queue ID and ": "
 *	followed by one of a few keywords.  Only then does an event parser
 *	run: PCRE2 (JIT) patterns for pickup, reject and SASL-failure
 *	lines, hand parsing for the rest.  The delivery line is read by hand
 *	along the first path its pattern's matcher tries (delivery_fast); only
 *	when that path fails does the pattern run, to try the others, so the
 *	fields are the pattern's (and a line costs a scan, not a backtracking
 *	match: a delivery line is one in four of a log).  The smtpd
 *	"client=" line is parsed from the right (see parse_client) because a
 *	SASL login may contain any printable text.  All strings returned
 *	point into the caller's line; nothing is allocated per line.
 * UNTRUSTED INPUT
 *	Every byte of the line.  Queue IDs (the event's, orig_queue_id,
 *	orig_id, queued_as, bounce_id) must have Postfix's short or long
 *	format or the event (or that field) is dropped.  Other fields are
 *	returned as logged.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/pf.h"
#include "parsers/pf_int.h"
#include "util/ident.h"

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define LIT(s) (s), (sizeof(s) - 1)

enum { RE_DELIVERY, RE_PICKUP, RE_REJECT, RE_SASL, RE_COUNT };

/* Anchored patterns, matched against the text after "QID: "/"NOQUEUE: ". */
static const char *const re_src[RE_COUNT] = {
	/*
	 * to=<R>, [orig_to=<O>, ]relay=X, [conn_use=N, ]delay=D, ...,
	 * status=S: the fields between relay and status are name=value
	 * with no space, comma, quote or angle bracket in the value.
	 */
	"^to=<(.*?)>, (?:orig_to=<(.*?)>, )?relay=([^\\s,\"<>@=]+), "
	"(?:[a-z_]+=[^\\s,\"<>]*, )*status=([A-Za-z]+)(?= |$)",
	/* uid=N from=<S>[ orig_id=Q] */
	"^uid=([0-9]{1,10}) from=<(.*)>(?: orig_id=([0-9A-Za-z]{1,32}))?$",
	/* reject: VERB from NAME[ADDR][:PORT]: */
	"^reject: [A-Z][-A-Z]* from ([^\\[\\s]*)\\[([^\\]\\s]+)\\](?::[0-9]+)?: ",
	/* warning: NAME[ADDR][:PORT]: SASL M authentication failed:[ REASON] */
	"^warning: ([^\\[\\s]*)\\[([^\\]\\s]+)\\](?::[0-9]+)?: SASL (\\S+) "
	"authentication failed:(?: (.*))?$",
};

struct pf_parser {
	pcre2_code *re[RE_COUNT];
	int jit[RE_COUNT];
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jstack;
	int lean;                 /* pf_parser_lean() */
	unsigned char dlv[256];   /* RE_DELIVERY's byte classes, for delivery_fast() */
	unsigned char qid[256];   /* QID_ALNUM, QID_HEX: a queue ID's bytes (text_event) */
	struct pf_hdr_memo hmemo; /* the last header's minute (parsers/syslog.c) */
};

static void dlv_init(unsigned char tab[256]);

#define QID_ALNUM 1 /* [0-9A-Za-z]: may be in a queue ID */
#define QID_HEX 2   /* [0-9A-F]: in a short one */

/* qid_init - the byte classes of queue IDs */
static void
qid_init(unsigned char tab[256])
{
	int c;

	memset(tab, 0, 256);
	for (c = '0'; c <= '9'; c++)
		tab[c] = QID_ALNUM | QID_HEX;
	for (c = 'A'; c <= 'Z'; c++)
		tab[c] = QID_ALNUM | (c <= 'F' ? QID_HEX : 0);
	for (c = 'a'; c <= 'z'; c++)
		tab[c] = QID_ALNUM;
}

/* pf_parser_lean - parse only what the counting pipeline uses; see pf.h */
void
pf_parser_lean(struct pf_parser *ps, int on)
{
	ps->lean = on != 0;
}

/* pf_parser_free - release the patterns and match data */
void
pf_parser_free(struct pf_parser *ps)
{
	int i;

	if (ps == NULL)
		return;
	for (i = 0; i < RE_COUNT; i++)
		pcre2_code_free(ps->re[i]);
	pcre2_match_data_free(ps->md);
	pcre2_match_context_free(ps->mctx);
	pcre2_jit_stack_free(ps->jstack);
	free(ps);
}

/* pf_parser_new - compile (and JIT-compile when possible) the patterns */
struct pf_parser *
pf_parser_new(char *err, size_t errlen)
{
	struct pf_parser *ps;
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off;
	int i, rc;

	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	for (i = 0; i < RE_COUNT; i++) {
		ps->re[i] =
		    pcre2_compile((PCRE2_SPTR)re_src[i], PCRE2_ZERO_TERMINATED, 0, &rc, &off, NULL);
		if (ps->re[i] == NULL) {
			pcre2_get_error_message(rc, msg, sizeof(msg));
			snprintf(err, errlen, "pattern %d at %zu: %s", i, (size_t)off,
			    (const char *)msg);
			pf_parser_free(ps);
			return (NULL);
		}
		ps->jit[i] = pcre2_jit_compile(ps->re[i], PCRE2_JIT_COMPLETE) == 0;
	}
	dlv_init(ps->dlv);
	qid_init(ps->qid);
	ps->md = pcre2_match_data_create(8, NULL);
	ps->mctx = pcre2_match_context_create(NULL);
	if (ps->md == NULL || ps->mctx == NULL) {
		snprintf(err, errlen, "out of memory");
		pf_parser_free(ps);
		return (NULL);
	}
	/* Bound the work a hostile line can cause. */
	pcre2_set_match_limit(ps->mctx, 200000);
	if ((ps->jstack = pcre2_jit_stack_create((PCRE2_SIZE)32 * 1024, (PCRE2_SIZE)512 * 1024,
		 NULL)) != NULL)
		pcre2_jit_stack_assign(ps->mctx, NULL, ps->jstack);
	return (ps);
}

/* match - run pattern i on p[0..n); the number of pairs set, <= 0 for no match */
static int
match(struct pf_parser *ps, int i, const char *p, size_t n)
{
	if (ps->jit[i])
		return (pcre2_jit_match(ps->re[i], (PCRE2_SPTR)p, n, 0, 0, ps->md, ps->mctx));
	return (pcre2_match(ps->re[i], (PCRE2_SPTR)p, n, 0, 0, ps->md, ps->mctx));
}

/* group - capture k of the last match into *s; 0 if it did not take part */
static int
group(struct pf_parser *ps, int rc, const char *p, int k, struct pf_str *s)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(ps->md);
	size_t i = (size_t)k * 2;

	if (k >= rc || ov[i] == PCRE2_UNSET)
		return (0);
	s->p = p + ov[i];
	s->n = ov[i + 1] - ov[i];
	return (1);
}

/* dnum - value of the n digits at p (n small enough not to overflow) */
static long long
dnum(const char *p, size_t n)
{
	long long v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (p[i] - '0');
	return (v);
}

/* starts - p[0..n) begins with s[0..sn) */
static int
starts(const char *p, size_t n, const char *s, size_t sn)
{
	return (n >= sn && memcmp(p, s, sn) == 0);
}

/* ends - p[0..n) ends with s[0..sn) */
static int
ends(const char *p, size_t n, const char *s, size_t sn)
{
	return (n >= sn && memcmp(p + n - sn, s, sn) == 0);
}

/* EQ - the n bytes at p are the literal s (n == sizeof(s) - 1: a compare the compiler inlines) */
#define EQ(p, s) (memcmp((p), (s), sizeof(s) - 1) == 0)

/*
 * is_pf_daemon - a Postfix program that logs an event of pf.h: smtpd,
 * qmgr, cleanup, smtp, pickup, postsuper, bounce, lmtp, local, virtual,
 * pipe, error, discard, qmqpd, oqmgr, nqmgr (by length, each compare of
 * a constant size: this runs for every line)
 */
PF_INLINE int
is_pf_daemon(const struct pf_str *d)
{
	const char *p = d->p;

	if (p == NULL)
		return (0);
	switch (d->n) {
	case 4:
		return (EQ(p, "qmgr") || EQ(p, "smtp") || EQ(p, "lmtp") || EQ(p, "pipe"));
	case 5:
		return (EQ(p, "smtpd") || EQ(p, "local") || EQ(p, "error") || EQ(p, "qmqpd") ||
		    EQ(p, "oqmgr") || EQ(p, "nqmgr"));
	case 6:
		return (EQ(p, "pickup") || EQ(p, "bounce"));
	case 7:
		return (EQ(p, "cleanup") || EQ(p, "virtual") || EQ(p, "discard"));
	case 9:
		return (EQ(p, "postsuper"));
	default:
		return (0);
	}
}

/* namaddr - "NAME[ADDR]" or "NAME[ADDR]:PORT" at p[0..n), exactly; 0 if not */
static int
namaddr(const char *p, size_t n, struct pf_str *name, struct pf_str *addr)
{
	const char *b = memchr(p, '[', n), *e, *end = p + n;

	if (b == NULL || memchr(p, ' ', (size_t)(b - p)) != NULL)
		return (0);
	if ((e = memchr(b + 1, ']', (size_t)(end - b - 1))) == NULL || e == b + 1 ||
	    memchr(b + 1, ' ', (size_t)(e - b - 1)) != NULL)
		return (0);
	if (e + 1 < end) {
		const char *q = e + 1;

		if (*q != ':' || q + 1 == end)
			return (0);
		for (q++; q < end; q++)
			if (!IS_DIGIT(*q))
				return (0);
	}
	name->p = p, name->n = (size_t)(b - p);
	addr->p = b + 1, addr->n = (size_t)(e - b - 1);
	return (1);
}

/*
 * last_of - the last occurrence of s[0..sn) (sn >= 1) in p[0..n), or
 * NULL: from the right, each s[0] that has sn bytes from it in p compared
 * (a login's few commas, not a search of the whole text per field)
 */
static const char *
last_of(const char *p, size_t n, const char *s, size_t sn)
{
	const char *q;

	if (n < sn)
		return (NULL);
	for (n -= sn - 1; (q = memrchr(p, s[0], n)) != NULL; n = (size_t)(q - p))
		if (memcmp(q, s, sn) == 0)
			return (q);
	return (NULL);
}

/*
 * parse_client - "NAME[ADDR][, sasl_method=M][, sasl_username=U]
 * [, sasl_sender=S][, orig_queue_id=Q][, orig_client=NAME[ADDR]]"
 * (the text after "client=").  The optional trailing fields are taken
 * off the right end first (each only when its value has the form Postfix
 * writes), then the left fields are read, and whatever remains after
 * "sasl_username=" is the login, exactly as logged.  A login that itself
 * ends in such a trailing field is ambiguous and is split.
 */
static int
parse_client(struct pf_event *ev, const char *p, size_t n)
{
	const char *end = p + n, *b, *e, *q, *r;
	struct pf_str nm, ad;
	size_t k;

	/* NAME[ADDR][:PORT] */
	if ((b = memchr(p, '[', n)) == NULL || (e = memchr(b, ']', (size_t)(end - b))) == NULL)
		return (0);
	q = e + 1;
	if (q < end && *q == ':')
		for (q++; q < end && IS_DIGIT(*q); q++)
			;
	if (!namaddr(p, (size_t)(q - p), &ev->client_name, &ev->client_ip))
		return (0);

	/* right end: orig_client, orig_queue_id, sasl_sender */
	if ((r = last_of(q, (size_t)(end - q), LIT(", orig_client="))) != NULL &&
	    namaddr(r + 14, (size_t)(end - r - 14), &nm, &ad)) {
		ev->orig_client_name = nm;
		ev->orig_client_ip = ad;
		end = r;
	}
	if ((r = last_of(q, (size_t)(end - q), LIT(", orig_queue_id="))) != NULL &&
	    pf_qid_shape(r + 16, (size_t)(end - r - 16))) {
		ev->orig_queue_id.p = r + 16;
		ev->orig_queue_id.n = (size_t)(end - r - 16);
		end = r;
	}
	if ((r = last_of(q, (size_t)(end - q), LIT(", sasl_sender="))) != NULL &&
	    memchr(r + 14, ' ', (size_t)(end - r - 14)) == NULL) {
		ev->sasl_sender.p = r + 14;
		ev->sasl_sender.n = (size_t)(end - r - 14);
		end = r;
	}

	/* left end: sasl_method, then the login up to what is left */
	if (starts(q, (size_t)(end - q), LIT(", sasl_method="))) {
		q += 14;
		for (k = 0; q + k < end && q[k] != ',' && q[k] != ' '; k++)
			;
		if (k == 0)
			return (0);
		ev->sasl_method.p = q;
		ev->sasl_method.n = k;
		q += k;
	}
	if (starts(q, (size_t)(end - q), LIT(", sasl_username="))) {
		ev->sasl_username.p = q + 16;
		ev->sasl_username.n = (size_t)(end - q - 16);
		q = end;
	}
	return (q == end);
}

/* parse_sasl_fail - "warning: NAME[ADDR]: SASL M authentication failed: R[, sasl_username=U]" */
static int
parse_sasl_fail(struct pf_parser *ps, struct pf_event *ev, const char *p, size_t n)
{
	struct pf_str why = { p + n, 0 };
	const char *u;
	int rc;

	if (n < 40 || memmem(p, n, LIT(" authentication failed:")) == NULL)
		return (0);
	if ((rc = match(ps, RE_SASL, p, n)) <= 0)
		return (0);
	group(ps, rc, p, 1, &ev->client_name);
	group(ps, rc, p, 2, &ev->client_ip);
	group(ps, rc, p, 3, &ev->sasl_method);
	group(ps, rc, p, 4, &why);
	/* Postfix >= 3.9: the reason (server text) then the client's login. */
	if ((u = memmem(why.p, why.n, LIT(", sasl_username="))) != NULL) {
		ev->sasl_username.p = u + 16;
		ev->sasl_username.n = why.n - (size_t)(u + 16 - why.p);
		why.n = (size_t)(u - why.p);
	}
	ev->reject_text = why;
	return (1);
}

/*
 * sasl_rejected - the reject reply's class is "SASL login name rejected":
 * the last "<KEY>: " before the first "; from=<" (where the sender and
 * recipients start) is followed by that class.
 */
static int
sasl_rejected(const char *p, size_t n)
{
	const char *f = memmem(p, n, LIT("; from=<")), *k;

	if (f != NULL)
		n = (size_t)(f - p);
	if ((k = last_of(p, n, LIT(">: "))) == NULL)
		return (0);
	return (starts(k + 3, n - (size_t)(k + 3 - p), LIT("SASL login name rejected")));
}

/* parse_reject - "reject: ..." from smtpd (client from "VERB from NAME[ADDR]") or cleanup */
static int
parse_reject(struct pf_parser *ps, struct pf_event *ev, const char *p, size_t n)
{
	int rc;

	if ((rc = match(ps, RE_REJECT, p, n)) > 0) {
		group(ps, rc, p, 1, &ev->client_name);
		group(ps, rc, p, 2, &ev->client_ip);
	}
	ev->reject_text.p = p + 8;
	ev->reject_text.n = n - 8;
	ev->sasl_login_rejected = sasl_rejected(p + 8, n - 8);
	return (1);
}

/*
 * ctl_free - p[0..n) has no control byte (under 0x20, or 0x7f): eight
 * bytes at a time, each word's test exact (a byte under 0x20 leaves its
 * high bit set in (x - 0x20..) & ~x, a 0x7f one a zero byte in x ^
 * 0x7f..; a borrow across bytes only ever starts at such a byte)
 */
static int
ctl_free(const char *p, size_t n)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones << 7;
	uint64_t x, y;
	size_t i;

	for (i = 0; n - i >= sizeof(x); i += sizeof(x)) {
		memcpy(&x, p + i, sizeof(x));
		y = x ^ (ones * 0x7f);
		if ((((x - ones * 0x20) & ~x) | ((y - ones) & ~y)) & highs)
			return (0);
	}
	for (; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return (0);
	return (1);
}

/*
 * plain_text - p[0..n) has no control byte and is no longer than
 * IDENT_VALUE_MAX, so no field of it can fail value_ok(): in lean mode a
 * reject or SASL-failure line like that is no event, without a regex.
 * Any other is parsed in full, to be counted as unparsed exactly when a
 * full parse would.
 */
static int
plain_text(const char *p, size_t n)
{
	return (n <= IDENT_VALUE_MAX && ctl_free(p, n));
}

/* The byte classes of RE_DELIVERY (dlv_class(), a table made once). */
enum {
	DLV_RELAY = 1, /* [^\s,"<>@=] */
	DLV_NAME = 2,  /* [a-z_] */
	DLV_VALUE = 4, /* [^\s,"<>] */
	DLV_ALPHA = 8, /* [A-Za-z] */
	DLV_STOP = 16  /* '>' or a byte "." may not take: a control byte or 0x85 */
};

/* dlv_init - fill tab (\s: the C locale's isspace(), as PCRE2's default tables) */
static void
dlv_init(unsigned char tab[256])
{
	int c;

	for (c = 0; c < 256; c++) {
		int space = c == ' ' || (c >= '\t' && c <= '\r');
		int value = !space && c != ',' && c != '"' && c != '<' && c != '>';

		tab[c] = (unsigned char)((value ? DLV_VALUE : 0) |
		    (value && c != '@' && c != '=' ? DLV_RELAY : 0) |
		    ((c >= 'a' && c <= 'z') || c == '_' ? DLV_NAME : 0) |
		    ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ? DLV_ALPHA : 0) |
		    (c < 0x20 || c == 0x85 || c == '>' ? DLV_STOP : 0));
	}
}

/* DLV - whether byte c is of class k (in the table tab) */
#define DLV(tab, c, k) ((tab)[(unsigned char)(c)] & (k))

/*
 * lazy_close - the first ">, " at or after p (before end), or NULL, also
 * when a control byte (or 0x85) comes first: whether "." takes it
 * depends on how PCRE2 was built (its newline), so the regex decides
 */
static const char *
lazy_close(const unsigned char *tab, const char *p, const char *end)
{
	for (; end - p >= 3; p++) {
		if (!DLV(tab, *p, DLV_STOP))
			continue;
		if (*p != '>')
			return (NULL);
		if (p[1] == ',' && p[2] == ' ')
			return (p);
	}
	return (NULL);
}

/*
 * delivery_fast - RE_DELIVERY by hand, on the first path its matcher
 * tries: the shortest recipient (the first ">, "), the orig_to group
 * when the text has one there with its shortest value, the relay and
 * the name=value fields each as long as they go (no shorter one can be
 * followed by what comes next), then "status=" and its letters, which
 * must be followed by a space or the end.  When that path holds, it is
 * the match the regex returns (the first it finds); when it does not, 0
 * and the caller runs the regex, which tries the other paths.  Fills
 * to, relay, status and *mend (the end of the match).
 */
static int
delivery_fast(const struct pf_parser *ps, struct pf_event *ev, const char *p, size_t n,
    const char **mend)
{
	const unsigned char *tab = ps->dlv;
	const char *end = p + n, *q, *c, *v;

	if ((c = lazy_close(tab, p + 4, end)) == NULL)
		return (0);
	ev->to.p = p + 4;
	ev->to.n = (size_t)(c - (p + 4));
	q = c + 3;
	if (starts(q, (size_t)(end - q), LIT("orig_to=<"))) {
		if ((c = lazy_close(tab, q + 9, end)) == NULL)
			return (0);
		q = c + 3;
	}
	if (!starts(q, (size_t)(end - q), LIT("relay=")))
		return (0);
	for (v = q += 6; q < end && DLV(tab, *q, DLV_RELAY); q++)
		;
	if (q == v || end - q < 2 || q[0] != ',' || q[1] != ' ')
		return (0);
	ev->relay.p = v;
	ev->relay.n = (size_t)(q - v);
	for (q += 2;; q = c + 2) { /* "name=value, " as often as it comes */
		for (c = q; c < end && DLV(tab, *c, DLV_NAME); c++)
			;
		if (c == q || c == end || *c != '=')
			break;
		for (c++; c < end && DLV(tab, *c, DLV_VALUE); c++)
			;
		if (end - c < 2 || c[0] != ',' || c[1] != ' ')
			break;
	}
	if (!starts(q, (size_t)(end - q), LIT("status=")))
		return (0);
	for (v = q += 7; q < end && DLV(tab, *q, DLV_ALPHA); q++)
		;
	if (q == v || (q < end && *q != ' '))
		return (0);
	ev->status.p = v;
	ev->status.n = (size_t)(q - v);
	*mend = q;
	return (1);
}

/* parse_delivery - "to=<R>, [orig_to=<O>, ]relay=X, ..., status=S (text)" */
static int
parse_delivery(struct pf_parser *ps, struct pf_event *ev, const char *p, size_t n)
{
	const char *s, *end = p + n, *id;
	int rc;

	if (!delivery_fast(ps, ev, p, n, &s)) {
		ev->to = ev->relay = ev->status = (struct pf_str){ NULL, 0 };
		if ((rc = match(ps, RE_DELIVERY, p, n)) <= 0)
			return (0);
		group(ps, rc, p, 1, &ev->to);
		group(ps, rc, p, 3, &ev->relay);
		group(ps, rc, p, 4, &ev->status);
		s = p + pcre2_get_ovector_pointer(ps->md)[1];
	}
	/* " (... queued as NEWID)" / " (forwarded as NEWID)" */
	if (end - s >= 4 && s[0] == ' ' && s[1] == '(' && end[-1] == ')') {
		for (id = end - 1; id > s &&
		     ((*(id - 1) >= '0' && *(id - 1) <= '9') ||
			 (*(id - 1) >= 'A' && *(id - 1) <= 'Z') ||
			 (*(id - 1) >= 'a' && *(id - 1) <= 'z'));
		     id--)
			;
		if ((ends(s, (size_t)(id - s), LIT(" queued as ")) ||
			ends(s, (size_t)(id - s), LIT("(queued as ")) ||
			ends(s, (size_t)(id - s), LIT(" forwarded as ")) ||
			ends(s, (size_t)(id - s), LIT("(forwarded as "))) &&
		    pf_qid_shape(id, (size_t)(end - 1 - id))) {
			ev->queued_as.p = id;
			ev->queued_as.n = (size_t)(end - 1 - id);
		}
	}
	return (1);
}

/*
 * digits_back - the run of 1..max digits that ends at end and follows
 * the text s[0..sn) that starts at or after p; its start, or NULL
 */
static const char *
digits_back(const char *p, const char *end, size_t max, const char *s, size_t sn)
{
	const char *d = end;

	while (d > p && IS_DIGIT(d[-1]))
		d--;
	if (d == end || (size_t)(end - d) > max || (size_t)(d - p) < sn ||
	    memcmp(d - sn, s, sn) != 0)
		return (NULL);
	return (d);
}

/*
 * parse_active - "from=<S>, size=N, nrcpt=N (queue active)", by hand
 * (the most frequent event: no regex), read from the right as the
 * anchored pattern ^from=<(.*)>, size=([0-9]{1,18}), nrcpt=([0-9]{1,9})
 * \(queue active\)$ would match it: nrcpt 1..9 digits, size 1..18, the
 * sender everything between "from=<" and the ">, size=" before them (as
 * the greedy "(.*)" takes it), with no newline in it.  The caller
 * checked the two ends.
 */
static int
parse_active(struct pf_event *ev, const char *p, size_t n)
{
	const char *end = p + n - (sizeof(" (queue active)") - 1), *nr, *sz;

	if ((nr = digits_back(p, end, 9, LIT(", nrcpt="))) == NULL ||
	    (sz = digits_back(p, nr - 8, 18, LIT(">, size="))) == NULL || sz - 8 < p + 6 ||
	    memchr(p + 6, '\n', (size_t)(sz - 8 - (p + 6))) != NULL)
		return (0);
	ev->sender.p = p + 6;
	ev->sender.n = (size_t)(sz - 8 - (p + 6));
	ev->size = dnum(sz, (size_t)(nr - 8 - sz));
	ev->nrcpt = (long)dnum(nr, (size_t)(end - nr));
	return (1);
}

/* parse_from - qmgr "from=<S>, size=N, nrcpt=N (queue active)" or "..., status=expired, returned to sender" */
static int
parse_from(struct pf_event *ev, const char *p, size_t n)
{
	static const char exp[] = ">, status=expired, returned to sender";

	if (ends(p, n, LIT(exp))) {
		ev->sender.p = p + 6;
		ev->sender.n = n - 6 - (sizeof(exp) - 1);
		ev->kind = PF_EXPIRED;
		return (1);
	}
	if (!ends(p, n, LIT(" (queue active)")) || !parse_active(ev, p, n))
		return (0);
	ev->kind = PF_ACTIVE;
	return (1);
}

/* parse_pickup - "uid=N from=<S>[ orig_id=Q]" */
static int
parse_pickup(struct pf_parser *ps, struct pf_event *ev, const char *p, size_t n)
{
	struct pf_str v = { NULL, 0 };
	long long uid;
	int rc;

	if ((rc = match(ps, RE_PICKUP, p, n)) <= 0)
		return (0);
	if (!group(ps, rc, p, 1, &v) || (uid = dnum(v.p, v.n)) > 0x7fffffffLL)
		return (0);
	ev->uid = (long)uid;
	group(ps, rc, p, 2, &ev->sender);
	if (group(ps, rc, p, 3, &v) && pf_qid_shape(v.p, v.n))
		ev->orig_id = v;
	return (1);
}

/* body - the text after "QID: " (qid non-NULL) or "NOQUEUE: "; sets ev->kind */
static void
body(struct pf_parser *ps, struct pf_event *ev, const char *p, size_t n, int has_qid)
{
	static const char ndr[] = "sender non-delivery notification: ";

	if (n < 6)
		return;
	switch (p[0]) {
	case 'c':
		if (starts(p, n, LIT("client=")) && parse_client(ev, p + 7, n - 7))
			ev->kind = PF_CLIENT;
		return;
	case 'r':
		if (starts(p, n, LIT("reject: "))) {
			if (!(ps->lean && plain_text(p, n)) && parse_reject(ps, ev, p, n))
				ev->kind = PF_REJECT;
		} else if (!has_qid) {
			return;
		} else if ((n == 7 && memcmp(p, "removed", 7) == 0) ||
		    (starts(p, n, LIT("removed (")) && p[n - 1] == ')')) {
			ev->kind = PF_REMOVED;
		} else if (n == 18 && memcmp(p, "released from hold", 18) == 0) {
			ev->kind = PF_RELEASE;
		}
		return;
	}
	if (!has_qid)
		return;
	switch (p[0]) {
	case 'u':
		if (starts(p, n, LIT("uid=")) && parse_pickup(ps, ev, p, n))
			ev->kind = PF_PICKUP;
		return;
	case 'f':
		if (starts(p, n, LIT("from=<")))
			parse_from(ev, p, n);
		return;
	case 't':
		if (starts(p, n, LIT("to=<")) && parse_delivery(ps, ev, p, n))
			ev->kind = PF_DELIVERY;
		return;
	case 'p':
		if (n == 14 && memcmp(p, "placed on hold", 14) == 0)
			ev->kind = PF_HOLD;
		return;
	case 's':
		if (starts(p, n, LIT(ndr)) &&
		    pf_qid_shape(p + sizeof(ndr) - 1, n - (sizeof(ndr) - 1))) {
			ev->bounce_id.p = p + sizeof(ndr) - 1;
			ev->bounce_id.n = n - (sizeof(ndr) - 1);
			ev->kind = PF_BOUNCE;
		}
		return;
	default:
		return;
	}
}

/*
 * value_ok - a field an identity is made of is at most IDENT_VALUE_MAX bytes
 * and has no control byte (a NUL would shorten it to another user's name)
 */
static int
value_ok(const struct pf_str *v)
{
	return (v->p == NULL || plain_text(v->p, v->n));
}

/* idents_ok - every identity field of ev is acceptable */
static int
idents_ok(const struct pf_event *ev)
{
	return (value_ok(&ev->sasl_username) && value_ok(&ev->sender) && value_ok(&ev->client_ip) &&
	    value_ok(&ev->orig_client_ip) && value_ok(&ev->sasl_sender));
}

/* BODY_AT - where the event fields (after the header's) begin in struct pf_event */
#define BODY_AT offsetof(struct pf_event, client_name)

/* body_open - the event fields absent, before an event parser fills some */
static void
body_open(struct pf_event *ev)
{
	memset((char *)ev + BODY_AT, 0, sizeof(*ev) - BODY_AT);
	ev->uid = -1;
	ev->size = -1;
	ev->nrcpt = -1;
}

/*
 * event_init - an empty event: no header, no event, every number absent.
 * In lean mode only the header: body_open() clears the event fields of a
 * line that may be an event (under a third of a log's lines), so the
 * fields of a PF_NONE event are left as they were (pf.h).
 */
PF_INLINE void
event_init(const struct pf_parser *ps, struct pf_event *ev)
{
	if (!ps->lean) {
		memset(ev, 0, BODY_AT);
		body_open(ev);
	} else {
		ev->hdr = PF_HDR_NONE;
		ev->kind = PF_NONE;
		memset(&ev->tm, 0, sizeof(ev->tm));
		ev->host = ev->instance = ev->daemon = ev->queue_id = (struct pf_str){ NULL, 0 };
		ev->hint = 0;
		ev->hint_key = NULL;
	}
	ev->pid = -1;
}

/*
 * text_event - the Postfix part of a record whose header (program, host,
 * pid) is already in ev: the prefilter, then the event parsers.  Returns
 * ev->hdr, PF_HDR_NONE when an identity field is refused.
 */
PF_INLINE enum pf_hdr
text_event(struct pf_parser *ps, struct pf_event *ev, const char *t, size_t tn)
{
	const char *q, *end, *c;
	unsigned all;

	/* Prefilter: a Postfix daemon, and a text that can be an event. */
	if (tn < 8 || !is_pf_daemon(&ev->daemon))
		return (ev->hdr);
	end = t + tn;
	if (t[0] == 'w') {
		if (!starts(t, tn, LIT("warning: ")) || (ps->lean && plain_text(t, tn)))
			return (ev->hdr);
		body_open(ev);
		if (parse_sasl_fail(ps, ev, t, tn))
			ev->kind = PF_SASL_FAIL;
	} else if (t[0] == 'N' && starts(t, tn, LIT("NOQUEUE: "))) {
		body_open(ev);
		body(ps, ev, t + 9, tn - 9, 0);
	} else {
		/*
		 * [0-9A-Za-z]{,PF_QID_MAX} and ": ": the first ':' of the first
		 * PF_QID_MAX + 1 bytes, then the classes of the bytes before it
		 * gathered without a branch a byte (one not [0-9A-Za-z] clears
		 * QID_ALNUM; any not short-ID hex, QID_HEX)
		 */
		if ((q = memchr(t, ':', tn > PF_QID_MAX + 1 ? PF_QID_MAX + 1 : tn)) == NULL ||
		    end - q < 2 || q[1] != ' ')
			return (ev->hdr);
		for (c = t, all = QID_ALNUM | QID_HEX; c < q; c++)
			all &= ps->qid[(unsigned char)*c];
		if (!(all & QID_ALNUM))
			return (ev->hdr);
		/* all hex: a short ID by its length alone (pf_qid_shape's first test) */
		if ((all & QID_HEX) ? q - t < 6 || q - t > PF_QID_MAX
				    : !pf_qid_shape(t, (size_t)(q - t)))
			return (ev->hdr);
		body_open(ev);
		body(ps, ev, q + 2, (size_t)(end - q - 2), 1);
		if (ev->kind != PF_NONE) {
			ev->queue_id.p = t;
			ev->queue_id.n = (size_t)(q - t);
		}
	}
	if (ev->kind == PF_NONE) {
		if (!ps->lean && ev->client_name.p != NULL) /* parse_client failed half-way */
			body_open(ev);
	} else if (!idents_ok(ev)) {
		/* an over-long login or one with a control byte: unparsed, never shortened */
		if (!ps->lean)
			body_open(ev);
		ev->kind = PF_NONE;
		ev->hdr = PF_HDR_NONE;
		ev->queue_id = (struct pf_str){ NULL, 0 };
	} else if (ps->lean && (ev->kind == PF_REJECT || ev->kind == PF_SASL_FAIL)) {
		/* parsed only to see whether the line is unparsed (above) */
		ev->kind = PF_NONE;
		ev->queue_id = (struct pf_str){ NULL, 0 };
	}
	return (ev->hdr);
}

/* pf_parse - parse one line; see pf.h */
enum pf_hdr
pf_parse(struct pf_parser *ps, const char *line, size_t len, struct pf_event *ev)
{
	const char *t;
	size_t tn;

	event_init(ps, ev);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	ev->hdr = pf_hdr_parse(line, len, ev, &t, &tn, &ps->hmemo);
	if (ev->hdr == PF_HDR_NONE || ev->hdr == PF_HDR_SKIP)
		return (ev->hdr);
	return (text_event(ps, ev, t, tn));
}

/* pf_parse_text - a text whose header came as fields; see pf.h */
enum pf_hdr
pf_parse_text(struct pf_parser *ps, const struct pf_origin *o, const char *text, size_t len,
    struct pf_event *ev)
{
	event_init(ps, ev);
	ev->hdr = PF_HDR_FIELDS;
	ev->host = o->host;
	ev->pid = o->pid;
	if (o->ident.p != NULL && o->ident.n > 0)
		pf_set_prog(ev, o->ident.p, o->ident.n);
	if (text == NULL)
		return (ev->hdr);
	return (text_event(ps, ev, text, len));
}

/* pf_postfix_name - the program of syslog name s[0..n) is one whose events pf reads */
int
pf_postfix_name(const char *s, size_t n)
{
	const char *b;
	struct pf_str d;

	if (s == NULL || n == 0)
		return (0);
	b = memrchr(s, '/', n);
	d.p = b != NULL ? b + 1 : s;
	d.n = n - (size_t)(d.p - s);
	return (is_pf_daemon(&d));
}

/* pf_kind_name - the JSON name of an event kind */
const char *
pf_kind_name(enum pf_kind k)
{
	static const char *const names[PF_KIND_COUNT] = {
		"none",
		"client",
		"pickup",
		"active",
		"expired",
		"delivery",
		"removed",
		"hold",
		"release",
		"reject",
		"sasl_fail",
		"bounce",
	};

	return ((unsigned)k < PF_KIND_COUNT ? names[k] : "none");
}
