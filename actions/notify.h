/*
 * NAME
 *	notify - the notify action: the postmaster's report, sent through
 *	sendmail once the runs it reports on have run
 * SUMMARY
 *	notify_compose() writes the report as a complete RFC 5322 message.
 *	notify_job() queues sendmail -i -f <> -- TO with it on standard
 *	input; notify_ready() holds that run until the runs decided before it
 *	have run once, then composes the report again with their outcomes.
 * RETURNS
 *	notify_compose(): 0 / -1 (errno EINVAL for a bad address or time);
 *	never prints or exits.
 * UNTRUSTED INPUT
 *	Identities, rule names, queue IDs and outcomes: every value that
 *	reaches a header or the body is written with util/esc's ESC_VIS
 *	(printable ASCII kept, other bytes and the backslash as \xNN) and
 *	cut with "...", so no value can add a header or a line.  The From
 *	and To addresses (configuration) must be printable ASCII.
 */
#ifndef SG_NOTIFY_H
#define SG_NOTIFY_H

#include <stdint.h>

#include "util/buf.h"

struct act;
struct job;

/* What a notification says. */
struct notify_info {
	const char *identity, *rule, *limit, *window;
	long threshold, count;
	const char *first_qid, *last_qid; /* may be NULL */
	const char *ips;                  /* client IPs "a,b" (",..." when cut); NULL: none */
	int64_t time_us;                  /* of the crossing */
	const char *actions; /* "hold: 12 queued messages held; block: in sasl map; ..." */
	const char *hostname;
	const char *from, *to;
	int monitor; /* 1: nothing was done, only logged */
};

/*
 * notify_compose - a complete RFC 5322 message (headers From, To,
 * Subject, Date, Auto-Submitted: auto-generated, MIME plain-text UTF-8 /
 * 8bit, then the body) appended to out.  Identities are shown with
 * control and non-ASCII bytes as \xNN and are never placed in a header
 * unescaped (no header injection).  Lines end in "\n" (sendmail -i takes
 * them).  -1, with nothing appended, on a bad address or time, or when
 * out cannot take it.
 */
int notify_compose(struct buf *out, const struct notify_info *);

/* notify_job - compose the report and queue sendmail with it */
void notify_job(struct act *, const struct notify_info *);
/*
 * notify_ready - 1 when the runs decided with j's report have run once (a
 * run waiting for a retry counts: the report says it failed); the report
 * is then composed again with their outcomes, and j is an ordinary run.
 */
int notify_ready(struct act *, struct job *j);

#endif
