/*
 * NAME
 *	syslog - syslog header parsing, year inference and queue ID checks
 * SUMMARY
 *	pf_hdr_parse() (see pf_int.h) recognises the header forms in which
 *	Postfix lines reach a log file:
 *	  BSD/RFC 3164   "Mar  5 08:00:01", "Mar 05 ...", "Aug 3 ...",
 *	                 optional ".uuuuuu" (journalctl short-precise),
 *	                 optional leading "<PRI>"
 *	  RFC 3339       "2024-03-05T08:00:01[.f{1,9}](Z|+hh:mm|+hhmm)"
 *	                 (rsyslog, journalctl short-iso[-precise])
 *	  RFC 5424       "<PRI>1 TS HOST APP PROCID MSGID SD MSG"
 *	followed by "host tag[pid]: text".  journalctl marker lines
 *	("-- Boot ... --", "-- Logs begin at ... --", "-- No entries --")
 *	are PF_HDR_SKIP.  A Solaris "[ID n facility.level] " token after the
 *	tag and one nested header (a container's own syslog line inside the
 *	host's) are removed from the text.
 *
 *	pf_clock_init()/pf_clock_resolve() turn the broken-down header time
 *	into UTC microseconds: lines with an offset are exact, lines without
 *	one are local time through the clock's struct pf_zone (lent by the
 *	caller, cached per hour), and BSD lines get their year from --year or
 *	the file's mtime with Dec->Jan rollover detection.  Nothing here
 *	reads the process's time zone or the current time.
 *
 *	pf_qid_ok() is Postfix's mail_queue_id_ok() without '_';
 *	pf_qid_shape() additionally requires the short or long ID format.
 * UNTRUSTED INPUT
 *	Every byte of the line.  Nothing is copied; all fields point into it.
 */
#include <stdint.h>
#include <string.h>

#include "parsers/pf.h"
#include "parsers/pf_int.h"

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')

/* num - value of exactly n decimal digits at p, -1 if one is not a digit */
static int
num(const char *p, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!IS_DIGIT(p[i]))
			return (-1);
		v = v * 10 + (p[i] - '0');
	}
	return (v);
}

/* month_num - 1..12 for "Jan".."Dec" at p (3 bytes available), else 0 */
static int
month_num(const char *p)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	size_t i;

	for (i = 0; i + 3 < sizeof(names); i += 3)
		if (p[0] == names[i] && p[1] == names[i + 1] && p[2] == names[i + 2])
			return ((int)(i / 3) + 1);
	return (0);
}

/* max_mday - days in month m of year y (y == 0: any year, so February has 29) */
static int
max_mday(int y, int m)
{
	static const int dm[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && y != 0 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return (28);
	return (dm[m - 1]);
}

/* hms - "HH:MM:SS" at p (8 bytes available) into tm; -1 if malformed */
static int
hms(const char *p, struct pf_tm *tm)
{
	if (p[2] != ':' || p[5] != ':')
		return (-1);
	tm->hour = num(p, 2);
	tm->min = num(p + 3, 2);
	tm->sec = num(p + 6, 2);
	if (tm->hour < 0 || tm->hour > 23 || tm->min < 0 || tm->min > 59 || tm->sec < 0 ||
	    tm->sec > 60)
		return (-1);
	return (0);
}

/* fraction - ".d{1,9}" (or ",d{1,9}") at p; returns the end, p if none, NULL if bad */
static const char *
fraction(const char *p, const char *end, struct pf_tm *tm)
{
	const char *q;
	int v = 0, nd = 0;

	if (p >= end || (*p != '.' && *p != ','))
		return (p);
	q = p + 1;
	if (end - q > 6 && IS_DIGIT(q[0]) && IS_DIGIT(q[1]) && IS_DIGIT(q[2]) && IS_DIGIT(q[3]) &&
	    IS_DIGIT(q[4]) && IS_DIGIT(q[5]) && !IS_DIGIT(q[6])) {
		/* the usual microseconds, in one go */
		tm->usec = ((((q[0] - '0') * 10 + (q[1] - '0')) * 10 + (q[2] - '0')) * 1000) +
		    ((q[3] - '0') * 10 + (q[4] - '0')) * 10 + (q[5] - '0');
		return (q + 6);
	}
	for (; q < end && IS_DIGIT(*q); q++, nd++) {
		if (nd >= 9)
			return (NULL);
		if (nd < 6)
			v = v * 10 + (*q - '0');
	}
	if (nd == 0)
		return (NULL);
	for (; nd < 6; nd++)
		v *= 10;
	tm->usec = v;
	return (q);
}

/* parse_bsd - "Mmm [ ]d HH:MM:SS[.f]"; returns the end or NULL */
static const char *
parse_bsd(const char *p, const char *end, struct pf_tm *tm)
{
	const char *q;
	int day;

	if (end - p < 14 || (tm->mon = month_num(p)) == 0 || p[3] != ' ')
		return (NULL);
	for (q = p + 3; q < end && *q == ' '; q++)
		;
	if (end - q >= 2 && IS_DIGIT(q[0]) && IS_DIGIT(q[1]))
		day = num(q, 2), q += 2;
	else if (end - q >= 1 && IS_DIGIT(q[0]))
		day = q[0] - '0', q += 1;
	else
		return (NULL);
	if (day < 1 || day > max_mday(0, tm->mon) || end - q < 9 || *q != ' ' || hms(q + 1, tm) < 0)
		return (NULL);
	tm->mday = day;
	tm->year = 0;
	return (fraction(q + 9, end, tm));
}

/*
 * iso_date - "YYYY-MM-DDTHH:MM:SS" at p (19 bytes available) into tm; -1
 * if malformed.  With a memo, the first 16 bytes equal to the memo's are
 * its fields (they were checked when it was made), and valid new ones
 * become the memo.
 */
static int
iso_date(const char *p, struct pf_tm *tm, struct pf_hdr_memo *memo)
{
	if (memo != NULL && memo->ok && memcmp(p, memo->ymdhm, sizeof(memo->ymdhm)) == 0) {
		tm->year = memo->year;
		tm->mon = memo->mon;
		tm->mday = memo->mday;
		tm->hour = memo->hour;
		tm->min = memo->min;
		tm->sec = num(p + 17, 2);
		return (p[16] != ':' || tm->sec < 0 || tm->sec > 60 ? -1 : 0);
	}
	if (p[4] != '-' || p[7] != '-' || (p[10] != 'T' && p[10] != 't'))
		return (-1);
	tm->year = num(p, 4);
	tm->mon = num(p + 5, 2);
	tm->mday = num(p + 8, 2);
	if (tm->year < 1 || tm->mon < 1 || tm->mon > 12 || tm->mday < 1 ||
	    tm->mday > max_mday(tm->year, tm->mon) || hms(p + 11, tm) < 0)
		return (-1);
	if (memo != NULL) {
		memcpy(memo->ymdhm, p, sizeof(memo->ymdhm));
		memo->year = tm->year;
		memo->mon = tm->mon;
		memo->mday = tm->mday;
		memo->hour = tm->hour;
		memo->min = tm->min;
		memo->ok = 1;
	}
	return (0);
}

/* DIGIT_AT - p[i] is a decimal digit (one compare: the byte minus '0' as unsigned) */
#define DIGIT_AT(p, i) ((unsigned)((unsigned char)(p)[i] - '0') <= 9u)

/*
 * same_bytes - a[0..n) equals b[0..n), n <= 32, for the memos' short
 * keys, in compares the compiler makes in line: words of eight bytes (the
 * last one ending at n, overlapping the one before), or of four (the
 * first and the last) under eight, bytes under four
 */
static inline int
same_bytes(const char *a, const char *b, size_t n)
{
	uint64_t x, y, d = 0;
	uint32_t u, v, w, z;
	size_t i;

	if (n < sizeof(u)) {
		for (i = 0; i < n; i++)
			if (a[i] != b[i])
				return (0);
		return (1);
	}
	if (n < sizeof(x)) {
		memcpy(&u, a, sizeof(u));
		memcpy(&v, b, sizeof(v));
		memcpy(&w, a + n - sizeof(w), sizeof(w));
		memcpy(&z, b + n - sizeof(z), sizeof(z));
		return (((u ^ v) | (w ^ z)) == 0);
	}
	for (i = 0; i + sizeof(x) < n; i += sizeof(x)) {
		memcpy(&x, a + i, sizeof(x));
		memcpy(&y, b + i, sizeof(y));
		d |= x ^ y;
	}
	memcpy(&x, a + n - sizeof(x), sizeof(x));
	memcpy(&y, b + n - sizeof(y), sizeof(y));
	return ((d | (x ^ y)) == 0);
}

/*
 * sec_frac - "S.uuuuuu" at p (8 bytes, p[1] known to be '.') is a digit,
 * the dot and six digits: the word with its dot made a '0', then for each
 * byte a high nibble 3 both in it and in it plus 6 (0x30..0x39; a carry
 * out of a byte comes only from one that fails the test itself)
 */
static int
sec_frac(const char *p)
{
	static const char dot[8] = { 0, '.' ^ '0' };
	const uint64_t ones = UINT64_C(0x0101010101010101), hi = ones * 0xf0;
	uint64_t x, f;

	memcpy(&x, p, sizeof(x));
	memcpy(&f, dot, sizeof(f));
	x ^= f;
	return (((x & hi) | (((x + ones * 6) & hi) >> 4)) == ones * 0x33);
}

/*
 * iso_memo - "YYYY-MM-DDTHH:MM:SS.uuuuuu" and a zone, the minute and the
 * zone's bytes those of the memo (rsyslog's and journalctl's form, most
 * lines of such a log): the fields at once.  What parse_iso() would
 * check of the minute and the zone it checked when it made the memo;
 * the seconds, the six digits and a non-digit after them (the zone's
 * first byte: 'Z', '+' or '-') are checked here.  The end of the time,
 * or NULL when the line is not of that form (parse_iso() reads it).
 */
PF_INLINE const char *
iso_memo(const char *p, const char *end, struct pf_tm *tm, const struct pf_hdr_memo *memo)
{
	size_t on = memo->off_n;
	int sec;

	if (!memo->ok || on == 0 || (size_t)(end - p) < 26 + on || p[16] != ':' || p[19] != '.' ||
	    memcmp(p, memo->ymdhm, sizeof(memo->ymdhm)) != 0 || !same_bytes(p + 26, memo->off, on))
		return (NULL);
	if (!DIGIT_AT(p, 17) || !sec_frac(p + 18))
		return (NULL);
	if ((sec = (p[17] - '0') * 10 + (p[18] - '0')) > 60)
		return (NULL);
	tm->year = memo->year;
	tm->mon = memo->mon;
	tm->mday = memo->mday;
	tm->hour = memo->hour;
	tm->min = memo->min;
	tm->sec = sec;
	tm->usec = ((((p[20] - '0') * 10 + (p[21] - '0')) * 10 + (p[22] - '0')) * 1000) +
	    ((p[23] - '0') * 10 + (p[24] - '0')) * 10 + (p[25] - '0');
	tm->has_off = 1;
	tm->off_sec = memo->off_sec;
	return (p + 26 + on);
}

/* off_keep - the zone z..q (its seconds off_sec) into the memo, when it fits */
static void
off_keep(struct pf_hdr_memo *memo, const char *z, const char *q, int off_sec)
{
	size_t n = (size_t)(q - z);

	if (memo == NULL || n > sizeof(memo->off))
		return;
	memcpy(memo->off, z, n);
	memo->off_n = (unsigned char)n;
	memo->off_sec = off_sec;
}

/* parse_iso - "YYYY-MM-DDTHH:MM:SS[.f](Z|+hh:mm|+hhmm|)"; returns the end or NULL */
static const char *
parse_iso(const char *p, const char *end, struct pf_tm *tm, struct pf_hdr_memo *memo)
{
	const char *q, *z;
	int hh, mm, sign;

	if (memo != NULL && (q = iso_memo(p, end, tm, memo)) != NULL)
		return (q);
	if (end - p < 19 || iso_date(p, tm, memo) < 0)
		return (NULL);
	if ((q = fraction(p + 19, end, tm)) == NULL)
		return (NULL);
	if (q < end && (*q == 'Z' || *q == 'z')) {
		tm->has_off = 1;
		tm->off_sec = 0;
		off_keep(memo, q, q + 1, 0);
		return (q + 1);
	}
	if (q < end && (*q == '+' || *q == '-')) {
		z = q;
		sign = *q == '-' ? -1 : 1;
		if (end - q >= 6 && q[3] == ':') {
			hh = num(q + 1, 2), mm = num(q + 4, 2);
			q += 6;
		} else if (end - q >= 5) {
			hh = num(q + 1, 2), mm = num(q + 3, 2);
			q += 5;
		} else {
			return (NULL);
		}
		if (hh < 0 || hh > 23 || mm < 0 || mm > 59)
			return (NULL);
		tm->has_off = 1;
		tm->off_sec = sign * (hh * 3600 + mm * 60);
		off_keep(memo, z, q, tm->off_sec);
	}
	return (q);
}

/* set_prog - the name s[0..n) into ev, its first and last '/' at a and b (NULL: none) */
static void
set_prog(struct pf_event *ev, const char *s, size_t n, const char *a, const char *b)
{
	ev->instance.p = s;
	ev->instance.n = a != NULL ? (size_t)(a - s) : n;
	ev->daemon.p = b != NULL ? b + 1 : s;
	ev->daemon.n = n - (size_t)(ev->daemon.p - s);
}

/* pf_set_prog - split a syslog name into instance (first) and daemon (last component) */
void
pf_set_prog(struct pf_event *ev, const char *s, size_t n)
{
	set_prog(ev, s, n, memchr(s, '/', n), memrchr(s, '/', n));
}

/* token - a run of non-space bytes at p followed by ' ' or end; NULL if empty */
static const char *
token(const char *p, const char *end)
{
	const char *q = memchr(p, ' ', (size_t)(end - p));

	if (q == NULL)
		q = end;
	return (q == p ? NULL : q);
}

/*
 * host_token - the host field at p as token() finds it (its end, NULL
 * when empty), the memo's host first: its bytes and then a space are
 * where token() would stop (they hold none).  A host read by token()
 * becomes the memo's when it fits.  memo: the parser's, or NULL
 */
static const char *
host_token(struct pf_hdr_memo *memo, const char *p, const char *end)
{
	const char *q;
	size_t n;

	if (memo == NULL)
		return (token(p, end));
	n = memo->host_n;
	if (n > 0 && (size_t)(end - p) > n && p[n] == ' ' && same_bytes(p, memo->host, n))
		return (p + n);
	if ((q = token(p, end)) != NULL && (n = (size_t)(q - p)) <= sizeof(memo->host)) {
		memcpy(memo->host, p, n);
		memo->host_n = (unsigned char)n;
	}
	return (q);
}

/*
 * tag_set - the memo set (PF_TAG_WAYS slots) of a name at s with more
 * than PF_TAG_NAME_MAX bytes after it: a multiplicative hash of its
 * bytes 5..12, which tell Postfix's names apart ("ix/qmgr[", "ix/smtp[",
 * "ix/smtpd", "ix/submi", "ix/10025")
 */
static struct pf_tag_memo *
tag_set(struct pf_hdr_memo *memo, const char *s)
{
	uint64_t v;

	memcpy(&v, s + 5, sizeof(v));
	v *= UINT64_C(0x9e3779b97f4a7c15);
	return (&memo->tag[(size_t)(v >> 60) % PF_TAG_SETS * PF_TAG_WAYS]);
}

/*
 * tag_memo - the name at s as slot m keeps it: the name's end (its '['
 * or ':'), its first and last '/' into *a and *b; NULL when the slot
 * holds another name.  The bytes are the kept name's, none of them '[',
 * ':' or ' ', and then '[' or ':': the scan of parse_tag() would stop
 * there and note the same '/'s.
 */
static const char *
tag_memo(const struct pf_tag_memo *m, const char *s, const char **a, const char **b)
{
	if (m->n == 0 || !same_bytes(s, m->name, m->n) || (s[m->n] != '[' && s[m->n] != ':'))
		return (NULL);
	*a = m->a ? s + m->a - 1 : NULL;
	*b = m->b ? s + m->b - 1 : NULL;
	return (s + m->n);
}

/*
 * tag_keep - the name s..p (ended by '[' or ':', '/'s at a and b) into
 * the first slot of set m, the names there moved down one (the last one
 * dropped)
 */
static void
tag_keep(struct pf_tag_memo *m, const char *s, const char *p, const char *a, const char *b)
{
	size_t n = (size_t)(p - s);

	if (n > PF_TAG_NAME_MAX)
		return;
	memmove(m + 1, m, (PF_TAG_WAYS - 1) * sizeof(*m));
	memcpy(m->name, s, n);
	m->n = (unsigned char)n;
	m->a = a != NULL ? (unsigned char)(a - s + 1) : 0;
	m->b = b != NULL ? (unsigned char)(b - s + 1) : 0;
}

/*
 * pid_word - the decimal digits at p, of which 8 bytes can be read, in
 * one word: their count (1..7) with their value in *pid, 0 when p[0] is
 * not a digit, 8 when all 8 are (the byte loop then reads them).  Each
 * byte xor '0' is 0..9 for a digit; plus 0x76 it has its high bit set
 * for any other byte that had not (a carry out of a byte goes only into
 * the bytes after the first non-digit), so the lowest flagged byte is
 * the first non-digit.  The digits, moved to the word's top bytes (the
 * first of them, the most significant, above zeros), are then summed in
 * pairs, fours and eights.  Little-endian loads only: elsewhere 8.
 */
static inline int
pid_word(const char *p, long *pid)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = UINT64_C(0x0101010101010101);
	uint64_t x, other;
	int n;

	memcpy(&x, p, sizeof(x));
	x ^= ones * '0';
	if ((other = ((x + ones * 0x76) | x) & (ones * 0x80)) == 0)
		return (8);
	if ((n = __builtin_ctzll(other) >> 3) == 0)
		return (0);
	x <<= 8 * (8 - n);
	x = (x * 10 + (x >> 8)) & UINT64_C(0x00ff00ff00ff00ff);
	x = (x * 100 + (x >> 16)) & UINT64_C(0x0000ffff0000ffff);
	x = (x * 10000 + (x >> 32)) & UINT64_C(0x00000000ffffffff);
	*pid = (long)x;
	return (n);
#else
	(void)p;
	(void)pid;
	return (8);
#endif
}

/*
 * parse_tag - "prog[pid]: " or "prog: " at p; returns the text start or
 * NULL.  memo: the parser's (the names read lately), or NULL
 */
static const char *
parse_tag(const char *p, const char *end, struct pf_event *ev, struct pf_hdr_memo *memo)
{
	static const unsigned char cls[256] = { ['['] = 1, [':'] = 1, [' '] = 1, ['/'] = 2 };
	const char *s = p, *a = NULL, *b = NULL, *q, *d, *lim;
	struct pf_tag_memo *m = NULL;
	long pid = 0;
	unsigned char c;
	int i;

	if (memo != NULL && end - p > PF_TAG_NAME_MAX) {
		m = tag_set(memo, p);
		for (i = 0; i < PF_TAG_WAYS; i++)
			if ((q = tag_memo(&m[i], p, &a, &b)) != NULL) {
				p = q;
				m = NULL; /* nothing new to keep */
				goto named;
			}
	}
	/* the name: one look-up a byte, its first and last '/' noted on the way */
	for (; p < end && (c = cls[(unsigned char)*p]) != 1; p++)
		if (c == 2) {
			if (a == NULL)
				a = p;
			b = p;
		}
	if (p == s || p == end || *p == ' ')
		return (NULL);
	if (m != NULL)
		tag_keep(m, s, p, a, b);
named:
	set_prog(ev, s, (size_t)(p - s), a, b);
	if (*p == '[') {
		/* 1..10 digits: an 11th is where the ']' must be */
		d = ++p;
		if (end - p >= 8 && (i = pid_word(p, &pid)) < 8) {
			p += i; /* a pid of up to 7 digits: one word */
		} else {
			lim = end - p > 10 ? p + 10 : end;
			for (; p < lim && DIGIT_AT(p, 0); p++)
				pid = pid * 10 + (*p - '0');
		}
		if (p == d || end - p < 2 || p[0] != ']' || p[1] != ':')
			return (NULL);
		ev->pid = pid;
		p++;
	}
	p++; /* the ':' */
	if (p < end) {
		if (*p != ' ')
			return (NULL);
		p++;
	}
	return (p);
}

/* skip_sd - RFC 5424 STRUCTURED-DATA ("-" or "[...]..."); returns the end or NULL */
static const char *
skip_sd(const char *p, const char *end)
{
	int quoted;

	if (p < end && *p == '-')
		return (p + 1);
	if (p >= end || *p != '[')
		return (NULL);
	while (p < end && *p == '[') {
		for (p++, quoted = 0; p < end; p++) {
			if (quoted && *p == '\\' && p + 1 < end)
				p++;
			else if (*p == '"')
				quoted = !quoted;
			else if (!quoted && *p == ']')
				break;
		}
		if (p >= end)
			return (NULL);
		p++; /* the ']' */
	}
	return (p);
}

/* parse_5424 - the rest of "<PRI>1 TS HOST APP PROCID MSGID SD MSG"; text start or NULL */
static const char *
parse_5424(const char *p, const char *end, struct pf_event *ev)
{
	const char *q;
	long pid = 0;
	int nd;

	if (p < end && *p == '-' && (p + 1 == end || p[1] == ' '))
		q = p + 1; /* NILVALUE time: resolve fails later */
	else if ((q = parse_iso(p, end, &ev->tm, NULL)) == NULL)
		return (NULL);
	if (q >= end || *q != ' ')
		return (NULL);
	p = q + 1;
	if ((q = token(p, end)) == NULL || q == end) /* HOSTNAME */
		return (NULL);
	if (!(q - p == 1 && *p == '-'))
		ev->host.p = p, ev->host.n = (size_t)(q - p);
	p = q + 1;
	if ((q = token(p, end)) == NULL || q == end) /* APP-NAME */
		return (NULL);
	if (!(q - p == 1 && *p == '-'))
		pf_set_prog(ev, p, (size_t)(q - p));
	p = q + 1;
	if ((q = token(p, end)) == NULL || q == end) /* PROCID */
		return (NULL);
	for (nd = 0; p + nd < q && IS_DIGIT(p[nd]) && nd < 10; nd++)
		pid = pid * 10 + (p[nd] - '0');
	if (nd > 0 && p + nd == q)
		ev->pid = pid;
	p = q + 1;
	if ((q = token(p, end)) == NULL || q == end) /* MSGID */
		return (NULL);
	p = q + 1;
	if ((q = skip_sd(p, end)) == NULL)
		return (NULL);
	if (q == end)
		return (q);
	if (*q != ' ')
		return (NULL);
	q++;
	if (end - q >= 3 && memcmp(q, "\xef\xbb\xbf", 3) == 0)
		q += 3; /* BOM */
	return (q);
}

/* skip_solaris - the "[ID 197553 mail.info] " token at the start of the text */
static const char *
skip_solaris(const char *p, const char *end)
{
	const char *q, *f;

	if (end - p < 4 || memcmp(p, "[ID ", 4) != 0)
		return (p);
	for (q = p + 4; q < end && IS_DIGIT(*q); q++)
		;
	if (q == p + 4 || q >= end || *q != ' ')
		return (p);
	for (f = ++q; q < end && *q != ']' && *q != ' '; q++)
		;
	if (q == f || q >= end || *q != ']')
		return (p);
	q++;
	if (q < end) {
		if (*q != ' ')
			return (p);
		q++;
	}
	return (q);
}

/*
 * may_nest - whether the text p..end may begin with a header hdr_one()
 * reads (other than a journalctl marker, which is not taken as nested):
 * "<PRI>", or the first bytes parse_iso() or parse_bsd() check.  Most
 * texts begin with a queue ID, a word or "warning:", and are let go
 * here without a second parse.
 */
static int
may_nest(const char *p, const char *end)
{
	if (*p == '<')
		return (1);
	if (IS_DIGIT(*p))
		return (end - p >= 19 && p[4] == '-');
	return (end - p >= 14 && p[3] == ' ' && month_num(p) != 0);
}

/* hdr_one - one header level; depth 0 may strip one nested header */
static enum pf_hdr
hdr_one(const char *line, size_t len, struct pf_event *ev, const char **text, size_t *tlen,
    int depth, struct pf_hdr_memo *memo)
{
	const char *p = line, *end = line + len, *q;
	enum pf_hdr kind;
	int pri = 0, nd = 0;

	if (len >= 3 && memcmp(p, "-- ", 3) == 0)
		return (len >= 6 && memcmp(end - 3, " --", 3) == 0 ? PF_HDR_SKIP : PF_HDR_NONE);
	if (p < end && *p == '<') {
		for (q = p + 1; q < end && IS_DIGIT(*q) && nd < 3; q++, nd++)
			pri = pri * 10 + (*q - '0');
		if (nd == 0 || q >= end || *q != '>' || pri > 191)
			return (PF_HDR_NONE);
		p = q + 1;
		if (end - p >= 2 && p[0] == '1' && p[1] == ' ') {
			if ((q = parse_5424(p + 2, end, ev)) == NULL)
				return (PF_HDR_NONE);
			kind = PF_HDR_5424;
			goto text;
		}
	}
	if (p < end && IS_DIGIT(*p)) {
		/* the memo's minute and zone here, in line; parse_iso() for the rest */
		if (memo == NULL || (q = iso_memo(p, end, &ev->tm, memo)) == NULL)
			q = parse_iso(p, end, &ev->tm, memo);
		kind = PF_HDR_ISO;
	} else {
		q = parse_bsd(p, end, &ev->tm);
		kind = PF_HDR_BSD;
	}
	if (q == NULL || q >= end || *q != ' ')
		return (PF_HDR_NONE);
	p = q + 1;
	if ((q = host_token(memo, p, end)) == NULL || q == end)
		return (PF_HDR_NONE);
	ev->host.p = p;
	ev->host.n = (size_t)(q - p);
	if ((q = parse_tag(q + 1, end, ev, memo)) == NULL)
		return (PF_HDR_NONE);

text:
	q = skip_solaris(q, end);
	if (depth == 0 && q < end && may_nest(q, end)) {
		struct pf_event in;
		const char *t2;
		size_t n2;
		enum pf_hdr h;

		/*
		 * Only what the nested level writes and is read back below (no
		 * memset of the whole event: this runs for every line).
		 */
		in.tm = (struct pf_tm){ 0 };
		in.host = in.instance = in.daemon = (struct pf_str){ NULL, 0 };
		in.pid = -1;
		h = hdr_one(q, (size_t)(end - q), &in, &t2, &n2, 1, NULL);
		if (h != PF_HDR_NONE && h != PF_HDR_SKIP && in.daemon.p != NULL) {
			if (in.host.p != NULL)
				ev->host = in.host;
			ev->instance = in.instance;
			ev->daemon = in.daemon;
			ev->pid = in.pid;
			q = t2;
			end = t2 + n2;
		}
	}
	*text = q;
	*tlen = (size_t)(end - q);
	return (kind);
}

/* pf_hdr_parse - see pf_int.h */
enum pf_hdr
pf_hdr_parse(const char *line, size_t len, struct pf_event *ev, const char **text, size_t *tlen,
    struct pf_hdr_memo *memo)
{
	return (hdr_one(line, len, ev, text, tlen, 0, memo));
}

/* is_long_char - the base-52 alphabet of long queue IDs: 0-9 B-Z b-z without vowels */
static int
is_long_char(unsigned char c)
{
	if (IS_DIGIT(c))
		return (1);
	if (!((c >= 'B' && c <= 'Z') || (c >= 'b' && c <= 'z')))
		return (0);
	switch (c) {
	case 'E':
	case 'I':
	case 'O':
	case 'U':
	case 'e':
	case 'i':
	case 'o':
	case 'u':
		return (0);
	default:
		return (1);
	}
}

/* pf_qid_shape - short ([0-9A-F]{6,}) or long queue ID format, at most PF_QID_MAX */
int
pf_qid_shape(const char *p, size_t n)
{
	const char *z;
	size_t i, zi;

	if (n < 6 || n > PF_QID_MAX)
		return (0);
	for (i = 0; i < n; i++)
		if (!(IS_DIGIT(p[i]) || (p[i] >= 'A' && p[i] <= 'F')))
			break;
	if (i == n)
		return (1);
	if ((z = memrchr(p, 'z', n)) == NULL)
		return (0);
	zi = (size_t)(z - p);
	if (zi < 10 || zi + 1 == n)
		return (0);
	for (i = 0; i < n; i++)
		if (!is_long_char((unsigned char)p[i]))
			return (0);
	return (1);
}

/* pf_qid_ok - [0-9A-Za-z], 1..PF_QID_MAX bytes */
int
pf_qid_ok(const char *p, size_t n)
{
	size_t i;

	if (p == NULL || n == 0 || n > PF_QID_MAX)
		return (0);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!(IS_DIGIT(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
			return (0);
	}
	return (1);
}

/* days_from_civil - days since 1970-01-01 of a proleptic Gregorian date */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

/* local_secs - local time to epoch seconds through the clock's zone, cached per hour */
static int
local_secs(struct pf_clock *c, int y, const struct pf_tm *tm, int64_t *out)
{
	if (!(c->c_year == y && c->c_mon == tm->mon && c->c_mday == tm->mday &&
		c->c_hour == tm->hour)) {
		int64_t base;

		if (c->zone == NULL ||
		    c->zone->hour_start(c->zone->arg, y, tm->mon, tm->mday, tm->hour, &base) < 0)
			return (-1);
		c->c_year = y;
		c->c_mon = tm->mon;
		c->c_mday = tm->mday;
		c->c_hour = tm->hour;
		c->c_base = base;
	}
	*out = c->c_base + (int64_t)tm->min * 60 + tm->sec;
	return (0);
}

/* to_secs - epoch seconds of tm taken in year y; -1 on a bad date */
static int
to_secs(struct pf_clock *c, int y, const struct pf_tm *tm, int64_t *out)
{
	if (y < 1 || y > 9999 || tm->mon < 1 || tm->mon > 12 || tm->mday < 1 ||
	    tm->mday > max_mday(y, tm->mon))
		return (-1);
	if (tm->year != 0 && tm->has_off) {
		if (!(c->d_year == y && c->d_mon == tm->mon && c->d_mday == tm->mday)) {
			c->d_year = y;
			c->d_mon = tm->mon;
			c->d_mday = tm->mday;
			c->d_days = days_from_civil(y, tm->mon, tm->mday);
		}
		*out = c->d_days * 86400 + (int64_t)tm->hour * 3600 + (int64_t)tm->min * 60 +
		    tm->sec - tm->off_sec;
		return (0);
	}
	return (local_secs(c, y, tm, out));
}

/* pf_clock_init - start year inference for one input file */
void
pf_clock_init(struct pf_clock *c, int year, time_t ref, const struct pf_zone *zone)
{
	memset(c, 0, sizeof(*c));
	c->year = year;
	c->ref = ref;
	c->zone = zone;
}

/* infer_year - the year of a BSD line; updates the rollover state */
static int
infer_year(struct pf_clock *c, const struct pf_tm *tm)
{
	int y;
	int64_t s;

	if (c->cur_year == 0) {
		if (c->year > 0) {
			y = c->year;
		} else {
			if (c->zone == NULL ||
			    c->zone->year_of(c->zone->arg, (int64_t)c->ref, &y) < 0)
				return (-1);
			if (to_secs(c, y, tm, &s) == 0 && s > (int64_t)c->ref + 86400)
				y--;
		}
		c->cur_year = y;
		c->cur_mon = tm->mon;
		return (y);
	}
	if (tm->mon + 6 < c->cur_mon) { /* Dec -> Jan: a new year */
		c->cur_year++;
		c->cur_mon = tm->mon;
		return (c->cur_year);
	}
	if (tm->mon > c->cur_mon + 6) /* a late line of the old year */
		return (c->cur_year - 1);
	c->cur_mon = tm->mon;
	return (c->cur_year);
}

/*
 * pf_clock_resolve_date - the time's date and seconds worked out; a time
 * with a year and an offset becomes the clock's minute, whose seconds
 * pf_clock_resolve() (pf.h, in line) takes for the next lines of that
 * minute (the checks of its date passed here)
 */
int
pf_clock_resolve_date(struct pf_clock *c, const struct pf_tm *tm, int64_t *usec)
{
	int64_t s;
	int y;

	if (tm->mon < 1 || tm->mon > 12)
		return (-1);
	y = tm->year != 0 ? tm->year : infer_year(c, tm);
	if (to_secs(c, y, tm, &s) < 0)
		return (-1);
	if (tm->year != 0 && tm->has_off) {
		c->m_ok = 1;
		c->m_year = tm->year;
		c->m_mon = tm->mon;
		c->m_mday = tm->mday;
		c->m_hour = tm->hour;
		c->m_min = tm->min;
		c->m_off = tm->off_sec;
		c->m_secs = s - tm->sec;
	}
	*usec = s * 1000000 + tm->usec;
	return (0);
}
