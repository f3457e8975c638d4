/*
 * NAME
 *	hold - the hold action: an identity's queued mail to postsuper -h,
 *	its new mail while blocked, and postsuper's word on what it did
 * SUMMARY
 *	hold_collect() finds an identity's accepted, not yet removed
 *	messages in the store and records a hold requested for each;
 *	hold_job() queues one postsuper run (-h hold, -H release, -d delete)
 *	with the queue IDs on its standard input; hold_message() notes a new
 *	message of a blocked identity inside the daemon's batch, and
 *	hold_kick() queues one postsuper run per identity for them after the
 *	batch.  hold_said() finds postsuper's summary line ("Placed on hold:
 *	3 messages") in its output.
 * RETURNS
 *	Nothing to the caller but lists; failures are logged.
 * UNTRUSTED INPUT
 *	Queue IDs (from the log): only those that pass pf_qid_ok(), and never
 *	the word ALL, reach postsuper, one a line on its standard input, and
 *	only once the queue has confirmed that the message is the identity's
 *	(confirm.c); never those the log gives another host or instance.
 *	postsuper's output: bounded by the runner, cut and marked here.
 */
#ifndef SG_HOLD_H
#define SG_HOLD_H

#include <stddef.h>
#include <stdint.h>

#include "actions/run.h"
#include "count/track.h"
#include "util/buf.h"

struct act;

/* A list of queue IDs. */
struct hold_list {
	char **q;
	size_t n, cap;
};

/* hold_list_push - a copy of qid at the end; -1 when out of memory */
int hold_list_push(struct hold_list *, const char *qid);
/* hold_list_clear - free its strings, empty it */
void hold_list_clear(struct hold_list *);
/* hold_list_free - clear and free a heap list (an hmap value) */
void hold_list_free(void *);

#define HOLD_RECHECK_MAX 1000 /* newest messages of an identity looked at for "removed" ones */

/*
 * hold_collect - identity's messages accepted after log_now minus the
 * queue lifetime, of this Postfix (hold_local): the ones not yet removed
 * into out, and those the log says were removed (among its newest
 * HOLD_RECHECK_MAX) into gone, for the queue to be asked about them too
 * (a `removed` line may be forged).  Each is recorded as a hold requested
 * (not in monitor mode); a message of another host or instance is
 * recorded as unconfirmed, and the log says how many there were.
 */
void hold_collect(struct act *, const char *identity, int64_t log_now, struct hold_list *out,
    struct hold_list *gone);
/*
 * hold_local - 1 when a message logged with host and instance is this
 * Postfix's: the host's first label is [agent] hostname's (the system
 * host name for "auto"), case aside, and the instance is
 * postfix_instance.  An empty host is nobody's.
 */
int hold_local(const struct act *, const char *host, const char *instance);
/*
 * hold_held - identity's holds requested or confirmed, of this Postfix
 * (hold_local), into out; 0, or -1 with err
 */
int hold_held(struct act *, const char *identity, struct hold_list *out, char *err, size_t errlen);
/*
 * hold_job - postsuper flag (-h, -H, -d) - with the valid queue IDs of l
 * on stdin, once the queue has confirmed each (confirm.c): only the
 * confirmed ones reach postsuper
 */
void hold_job(struct act *, const char *action, const char *flag, const char *identity,
    const struct hold_list *l);
/* hold_message - m, a new message of a blocked identity whose new mail is held, is held */
void hold_message(struct act *, const struct track_msg *m);
/* hold_kick - one postsuper run per identity for the messages hold_message noted */
void hold_kick(struct act *);

/*
 * hold_said - postsuper's summary line ("Placed on hold: 3 messages",
 * "Released from hold: 1 message", "Deleted: 2 messages") from its
 * stderr or stdout, appended to out (cut with "..." to what out can
 * take); 1 when there is one, else 0
 */
int hold_said(const struct run_result *, struct buf *out);

/*
 * hold_stdin - "QID\n" for every valid queue ID (pf_qid_ok, not ALL) of
 * qids[]; invalid ones are skipped and counted in *skipped.  Allocated;
 * caller frees.  NULL with *len 0 when none is valid.
 */
char *hold_stdin(const char *const qids[], size_t n, size_t *len, size_t *skipped);

#endif
