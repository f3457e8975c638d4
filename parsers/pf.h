/*
 * NAME
 *	pf - pure Postfix log line parser
 * SUMMARY
 *	pf_parse() splits one log line (no trailing newline) into its syslog
 *	header (time fields, host, syslog name, pid) and, when the text is one
 *	of the Postfix events sendguard uses, the event kind and its fields.
 *	pf_parse_text() is the same parser for a record whose header comes
 *	as separate fields (a journal entry: _HOSTNAME, SYSLOG_IDENTIFIER,
 *	SYSLOG_PID, MESSAGE), so both sources share one reading of Postfix's
 *	text; pf_postfix_name() tells whether a syslog name is that of a
 *	Postfix program whose events it reads.
 *	No I/O, no global state, no allocation per line: every string in a
 *	struct pf_event points into the caller's line buffer (pf_str, not
 *	NUL-terminated) and is valid only as long as that buffer.
 *	pf_clock_resolve() turns the header's time into UTC with the local
 *	time its creator lends it (struct pf_zone): the parsers read neither
 *	the clock nor the process's time zone.
 *	A cheap prefilter rejects lines that cannot matter before any PCRE2
 *	(JIT) match runs, under a match limit against hostile lines.  The compiled patterns live in struct pf_parser,
 *	which the caller creates once; pf_parse() uses its match data, so one
 *	parser serves one thread.
 * UNTRUSTED INPUT
 *	Every byte of the line.  Queue IDs are validated ([0-9A-Za-z], at
 *	most PF_QID_MAX bytes); all other fields are returned as logged and
 *	must be validated by their consumer before they become keys.
 */
#ifndef SG_PF_H
#define SG_PF_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PF_QID_MAX 32 /* longest queue ID accepted */

struct pf_str {
	const char *p; /* NULL when the field is absent */
	size_t n;
};

enum pf_kind {
	PF_NONE = 0,  /* not a Postfix event sendguard uses */
	PF_CLIENT,    /* smtpd  QID: client=NAME[ADDR][, sasl_method=..]... */
	PF_PICKUP,    /* pickup QID: uid=N from=<S>[ orig_id=Q] */
	PF_ACTIVE,    /* qmgr   QID: from=<S>, size=N, nrcpt=N (queue active) */
	PF_EXPIRED,   /* qmgr   QID: from=<S>, status=expired, returned to sender */
	PF_DELIVERY,  /* any    QID: to=<R>, [orig_to=<O>,] relay=X, ... status=S (..) */
	PF_REMOVED,   /* qmgr|postsuper|cleanup QID: removed[ (reason)] */
	PF_HOLD,      /* postsuper QID: placed on hold */
	PF_RELEASE,   /* postsuper QID: released from hold */
	PF_REJECT,    /* smtpd|cleanup QID|NOQUEUE: reject: ... */
	PF_SASL_FAIL, /* smtpd warning: NAME[ADDR]: SASL M authentication failed: .. */
	PF_BOUNCE,    /* bounce QID: sender non-delivery notification: NEWID */
	PF_KIND_COUNT
};

enum pf_hdr {
	PF_HDR_NONE = 0, /* not a syslog line we recognise (unparsed) */
	PF_HDR_SKIP,     /* journalctl "-- Boot ... --" / "-- Logs begin" */
	PF_HDR_BSD,      /* "Mar  5 08:00:01" (no year, no zone) */
	PF_HDR_ISO,      /* RFC 3339 / journalctl short-iso(-precise) */
	PF_HDR_5424,     /* "<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD" */
	PF_HDR_FIELDS    /* pf_parse_text(): the header came as fields; no time in tm */
};

/* Broken-down header time, as written in the line. */
struct pf_tm {
	int year; /* 0: the line has no year (BSD) */
	int mon;  /* 1..12 */
	int mday, hour, min, sec;
	int usec;    /* fraction, scaled to microseconds */
	int has_off; /* 1: off_sec is valid (Z, +hh:mm, +hhmm) */
	int off_sec; /* east of UTC, seconds */
};

struct pf_event {
	enum pf_hdr hdr;
	enum pf_kind kind;
	struct pf_tm tm;
	struct pf_str host;
	struct pf_str instance; /* first syslog_name component ("postfix");
					 * the whole name when it has no '/' */
	struct pf_str daemon;   /* last component ("smtpd") */
	long pid;               /* -1 when absent */
	struct pf_str queue_id; /* validated QID, or absent (NOQUEUE, PF_NONE) */
	/*
	 * Not the parser's: 0 and NULL after a parse.  A caller that parsed
	 * the line on another thread may leave here what the user of the
	 * event would otherwise work out from it (count/prefetch.c:
	 * track_key_hash()), and with it the hint_kn bytes it is the hash of
	 * (track_key()), kept as long as the event.
	 */
	uint64_t hint;
	const char *hint_key;
	size_t hint_kn;

	/* PF_CLIENT (and client of PF_REJECT / PF_SASL_FAIL) */
	struct pf_str client_name, client_ip;
	struct pf_str sasl_method, sasl_username, sasl_sender;
	struct pf_str orig_queue_id; /* validated */
	struct pf_str orig_client_name, orig_client_ip;

	/* PF_PICKUP */
	long uid;              /* -1 when absent */
	struct pf_str orig_id; /* postsuper -r requeue; validated */

	/* PF_PICKUP, PF_ACTIVE, PF_EXPIRED: envelope sender without <> ("" = null sender) */
	struct pf_str sender;
	long long size; /* -1 when absent */
	long nrcpt;     /* -1 when absent */

	/* PF_DELIVERY */
	struct pf_str to, relay, status;
	struct pf_str queued_as; /* "queued as NEWID" / "forwarded as NEWID"; validated */

	/* PF_BOUNCE */
	struct pf_str bounce_id; /* the NDR's queue ID; validated */

	/* PF_REJECT */
	int sasl_login_rejected;   /* "SASL login name rejected" */
	struct pf_str reject_text; /* PF_REJECT: the text after "reject: ";
					 * PF_SASL_FAIL: the failure reason */
};

struct pf_parser;

/* pf_parser_new - compile the patterns; NULL with err filled on failure */
struct pf_parser *pf_parser_new(char *err, size_t errlen);
void pf_parser_free(struct pf_parser *);

/*
 * pf_parser_lean - with on != 0, parse only what the counting pipeline
 * uses: reject and SASL-failure lines come back as PF_NONE (their
 * regexes run only on a line with a control byte or over IDENT_VALUE_MAX
 * bytes, which may make the line PF_HDR_NONE exactly as in a full parse).
 * Every other event, and the header of every line, is what a full parse
 * gives.  In lean mode the event fields (client_name on) of a PF_NONE
 * event are unspecified, not cleared: only lines that may be events pay
 * for clearing them.  Off by default (`sendguard parse` shows every
 * event, its fields absent when it is none).
 */
void pf_parser_lean(struct pf_parser *, int on);

/*
 * pf_parse - parse one line (len bytes, no newline).  Always fills *ev
 * (zeroed first; see pf_parser_lean for the exception).  Returns ev->hdr:
 * PF_HDR_NONE for a line whose header is not recognised, PF_HDR_SKIP for
 * journal markers; otherwise ev->kind says whether it is a Postfix event
 * sendguard uses.
 */
enum pf_hdr pf_parse(struct pf_parser *, const char *line, size_t len, struct pf_event *ev);

/*
 * struct pf_zone - local time, lent to the clock by its creator: the
 * parsers own no time zone and call no time function of the C library.
 * hour_start gives the seconds since the epoch (UTC) of the local time
 * year-mon-mday hour:00:00 (mon 1..12); for an hour that the zone skips
 * or repeats it picks as it likes (the default, count/zone.c, does as
 * mktime() with tm_isdst = -1).  year_of gives the local calendar year
 * at secs.  Both return 0, or -1 when the zone has no answer.  arg is
 * passed to both.
 */
struct pf_zone {
	int (*hour_start)(void *arg, int year, int mon, int mday, int hour, int64_t *secs);
	int (*year_of)(void *arg, int64_t secs, int *year);
	void *arg;
};

/*
 * Year inference for headers without a year (BSD).  The caller owns one
 * struct pf_clock per input file.  year > 0: the file's first BSD line is
 * in that year and a month that goes backwards by more than six months
 * (Dec -> Jan) moves to the next year.  year == 0: ref (the file's mtime,
 * or now for stdin) is the newest time the file can hold, so a line that
 * would be more than a day after ref belongs to the year before.
 * Times without a zone offset (BSD, RFC 3339 without one) are local
 * time in the zone given at init; lines with an offset are exact.
 */
struct pf_clock {
	int year;                   /* --year, 0 for none */
	time_t ref;                 /* mtime or now, used when year == 0 */
	const struct pf_zone *zone; /* the creator's; NULL: no local time */
	int cur_year;               /* year of the last BSD line, 0 before the first */
	int cur_mon;
	/* cache of the local-time conversion for the last hour seen */
	int c_year, c_mon, c_mday, c_hour;
	int64_t c_base;
	/* cache of the last date of a line with an offset, as days since 1970-01-01 */
	int d_year, d_mon, d_mday;
	int64_t d_days;
	/* cache of the last minute of a line with a year and an offset: its UTC seconds */
	int m_ok, m_year, m_mon, m_mday, m_hour, m_min, m_off;
	int64_t m_secs;
};

/*
 * pf_clock_init - a clock for one input file.  zone must outlive the
 * clock; with NULL only times that carry an offset resolve.
 */
void pf_clock_init(struct pf_clock *, int year, time_t ref, const struct pf_zone *zone);

/*
 * pf_clock_resolve_date - pf_clock_resolve() of a time whose minute is
 * not the clock's last one: the date worked out (and kept as that minute
 * when the time has a year and an offset)
 */
int pf_clock_resolve_date(struct pf_clock *, const struct pf_tm *, int64_t *usec);

/*
 * pf_clock_resolve - microseconds since the epoch (UTC); -1 on a bad date.
 * A time with a year and an offset in the minute of the last such one
 * takes that minute's seconds from the clock, here in line (most lines of
 * an RFC 3339 log: the call was a third of their cost); any other goes to
 * pf_clock_resolve_date().
 */
static inline int
pf_clock_resolve(struct pf_clock *c, const struct pf_tm *tm, int64_t *usec)
{
	if (tm->year != 0 && tm->has_off && c->m_ok && tm->min == c->m_min &&
	    tm->hour == c->m_hour && tm->mday == c->m_mday && tm->mon == c->m_mon &&
	    tm->year == c->m_year && tm->off_sec == c->m_off) {
		*usec = (c->m_secs + tm->sec) * 1000000 + tm->usec;
		return (0);
	}
	return (pf_clock_resolve_date(c, tm, usec));
}

/*
 * The sender of a text whose header comes apart from it (a journal
 * entry), as the strings pf_parse_text() fills the event's header with.
 */
struct pf_origin {
	struct pf_str host;  /* _HOSTNAME; p NULL when absent */
	struct pf_str ident; /* SYSLOG_IDENTIFIER: "postfix/submission/smtpd" */
	long pid;            /* SYSLOG_PID, -1 when absent */
};

/*
 * pf_parse_text - text[0..len) (a journal entry's MESSAGE, text NULL
 * when it has none) as the program of o logged it.  Fills *ev as
 * pf_parse() does, with ev->hdr PF_HDR_FIELDS and ev->tm zero (the
 * caller has the entry's time); host, instance, daemon and pid come from
 * o.  Returns ev->hdr: PF_HDR_NONE for an event whose identity field is
 * refused (over-long, a control byte), as pf_parse() would.
 */
enum pf_hdr pf_parse_text(struct pf_parser *, const struct pf_origin *o, const char *text,
    size_t len, struct pf_event *ev);

/*
 * pf_postfix_name - 1 when the last component of syslog name s[0..n)
 * ("postfix-out/relay/smtp" -> "smtp") is a Postfix program whose events
 * the parser reads (the prefilter of pf_parse()), else 0
 */
int pf_postfix_name(const char *s, size_t n);

const char *pf_kind_name(enum pf_kind);

/* pf_qid_ok - mail_queue_id_ok(): [0-9A-Za-z], 1..PF_QID_MAX bytes */
int pf_qid_ok(const char *p, size_t n);

#endif
