/*
 * NAME
 *	confirm - the queue confirms a postsuper run's queue IDs before it
 *	runs: one `postcat -c DIR -e -q QID` per ID, a few at a time
 * SUMMARY
 *	A hold, release or delete (hold.c) is a job whose standard input
 *	lists the queue IDs that the log gives the identity.  Before job.c
 *	starts postsuper it calls confirm_start(): each ID is shown to
 *	postcat (at most CONFIRM_PARALLEL at once, each under the action
 *	time limit) and judged by postcat_verdict() (postcat.c): confirmed
 *	(the queue file is the identity's), unconfirmed (it is in the queue
 *	but not the identity's, or says nothing that shows it), gone (not in
 *	the queue any more: delivered or deleted; not an error), or failed
 *	(postcat did not answer).  When every ID has its verdict, the holds
 *	of the unconfirmed ones are recorded as "unconfirmed" and of the gone
 *	ones as "removed", each unconfirmed ID is logged with the reason, and
 *	then() is called: confirm_input() is postsuper's standard input (the
 *	confirmed IDs only), confirm_tally() what the queue said.
 *	One postcat per ID, not one for many: postcat stops at the first
 *	missing ID (and a fatal error costs Postfix's one-second pause), and
 *	one queue file's text must never be read as another's (postcat.h).
 * RETURNS
 *	Nothing; failures are counted in the tally and logged.
 * UNTRUSTED INPUT
 *	Queue IDs (from the log) are checked with pf_qid_ok() before they
 *	become a postcat argument (a separate argv element after -q, never
 *	the word ALL); postcat's output is read by postcat.c.
 */
#ifndef SG_CONFIRM_H
#define SG_CONFIRM_H

#include <stddef.h>

#include "util/buf.h"

#define CONFIRM_PARALLEL 4 /* postcat runs at once, per job */

struct act;
struct job;
struct confirm;

/* What the queue said about one job's queue IDs. */
struct confirm_tally {
	size_t asked, confirmed, unconfirmed, gone, failed;
};

/*
 * confirm_start - ask the queue about j's queue IDs (j->in, one a line)
 * for j->identity; then(a, j) once every one has its verdict.  j->cf
 * holds the state until confirm_free().  then() may free j.
 */
void confirm_start(struct act *, struct job *j, void (*then)(struct act *, struct job *));
/* confirm_input - the confirmed IDs, one a line (NULL, len 0: none) */
const char *confirm_input(const struct confirm *, size_t *len);
/* confirm_tally - the counts */
struct confirm_tally confirm_tally(const struct confirm *);
/* confirm_failure - what the first failed postcat run said ("" when none failed) */
const char *confirm_failure(const struct confirm *);
/* confirm_say - "queue: 3 confirmed, 1 unconfirmed, 2 gone" into b */
void confirm_say(const struct confirm *, struct buf *b);
/* confirm_free - the state and its copies (safe on NULL; runs in flight are the runner's) */
void confirm_free(struct confirm *);

#endif
