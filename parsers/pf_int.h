/*
 * NAME
 *	pf_int - internals shared by parsers/syslog.c and parsers/postfix.c
 * SUMMARY
 *	pf_hdr_parse() splits the syslog header off a line; pf_set_prog()
 *	splits a syslog name into instance and program; pf_qid_shape()
 *	checks the Postfix short/long queue ID format.  Not for use outside
 *	parsers/.
 * UNTRUSTED INPUT
 *	Every byte of the line.
 */
#ifndef SG_PF_INT_H
#define SG_PF_INT_H

#include <stddef.h>

#include "parsers/pf.h"

/*
 * pf_hdr_memo - the first 16 bytes ("YYYY-MM-DDTHH:MM") of the last RFC
 * 3339 time pf_hdr_parse() read, valid, with their fields, and its zone:
 * a line of the same minute reads only its seconds and what follows (a
 * log's lines mostly share their minute and zone with the line before).
 * And the syslog names read lately (tag[]): a few names ("postfix/smtpd",
 * "postfix/qmgr") make up a log, and one already read is compared, not
 * scanned a byte at a time again.  The names are kept in sets of two
 * (PF_TAG_WAYS), the set chosen by a hash of bytes 5..12 of the name
 * ("ix/smtpd", "ix/submi": the program's first letters after
 * "postfix/"), the newest first: two names of one set, interleaved
 * ("postfix/smtpd" and "postfix/submission/smtpd" were one slot's in a
 * table of one name a slot), are both kept.  One per parser, zeroed at
 * first (ok 0, every tag's n 0); only a cache: the result is the same
 * without it.
 */
/*
 * PF_INLINE - made inline where it is called, whatever the compiler's
 * own measure: for the small functions every line passes (the call was
 * a tenth of their cost and more)
 */
#if defined(__GNUC__)
#define PF_INLINE static inline __attribute__((always_inline))
#else
#define PF_INLINE static inline
#endif

#define PF_TAG_WAYS 2                           /* names a set */
#define PF_TAG_SETS 16                          /* sets, a power of two */
#define PF_TAG_MEMO (PF_TAG_WAYS * PF_TAG_SETS) /* names kept */
#define PF_TAG_NAME_MAX 31                      /* the longest name kept */

struct pf_tag_memo {
	unsigned char n;    /* the name's length (0: empty slot) */
	unsigned char a, b; /* 1 + the offset of its first and last '/', 0: none */
	char name[PF_TAG_NAME_MAX];
};

struct pf_hdr_memo {
	int ok;
	char ymdhm[16];
	int year, mon, mday, hour, min;
	/*
	 * the zone of the last RFC 3339 time with one, as written ("Z",
	 * "+hhmm" or "+hh:mm": off_n bytes, 0 none yet) and its seconds: a
	 * line of the memo's minute with six digits of fraction and the same
	 * zone bytes is read in one go (parsers/syslog.c, iso_memo)
	 */
	char off[6];
	unsigned char off_n;
	int off_sec;
	/* the last host (host_n bytes, none a space; 0: none yet), compared before a scan */
	unsigned char host_n;
	char host[PF_TAG_NAME_MAX];
	struct pf_tag_memo tag[PF_TAG_MEMO];
};

/*
 * pf_hdr_parse - parse the syslog header of line[0..len) into ev (time,
 * host, instance, daemon, pid; ev must be zeroed with pid = -1 by the
 * caller).  Returns the header kind; for PF_HDR_BSD/ISO/5424 *text and
 * *tlen are the message text after the tag (Solaris "[ID n f.l] " and one
 * nested header removed).  memo: the parser's pf_hdr_memo, or NULL.
 */
enum pf_hdr pf_hdr_parse(const char *line, size_t len, struct pf_event *ev, const char **text,
    size_t *tlen, struct pf_hdr_memo *memo);

/*
 * pf_set_prog - the syslog name s[0..n) ("postfix/submission/smtpd") into
 * ev->instance (its first component, "postfix"; the whole name when it
 * has no '/') and ev->daemon (its last, "smtpd")
 */
void pf_set_prog(struct pf_event *ev, const char *s, size_t n);

/*
 * pf_qid_shape - 1 when p[0..n) is a Postfix queue ID: short (upper-case
 * hex, 6 or more) or long (10+ base-52 chars, 'z', 1+ base-51 chars), and
 * at most PF_QID_MAX bytes.
 */
int pf_qid_shape(const char *p, size_t n);

#endif
