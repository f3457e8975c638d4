/*
 * NAME
 *	act - enforcement's decisions: verdicts and blocks by hand become
 *	block states, holds, map entries, notifications and exec runs,
 *	recorded in the store
 * SUMMARY
 *	The daemon hands act every verdict (act_verdict) and every accepted
 *	message (act_message) inside its batch transaction; act records its
 *	intent there (the block, the holds, one action_log row per program
 *	run) and queues the programs (actions/job.c).  After the batch
 *	commits the daemon calls act_kick(), which starts them through the
 *	runner it was made with: never a shell, a time limit each, outcome
 *	recorded, failures retried with backoff.  Map files are rewritten
 *	from the store's blocks (actions/map.c), then postmap, then one
 *	debounced `postfix reload` for a burst.  Blocks expire on a timer; a
 *	repeat offender's block time grows by the rule's factor.  In monitor
 *	mode every decision is made and logged as what would run; nothing
 *	runs and no block is recorded.
 *	The store is the truth: act_start() expires what is due, rewrites the
 *	maps from the store and re-queues jobs left pending by a crash.
 *	The code is the same for the daemon and the command-line tools; only
 *	the runner differs (actions/run.h): driven by the daemon's loop, or
 *	synchronous, so that act_kick() and act_block() return when every
 *	program has run once (retries and expiry are then left to the daemon).
 * RETURNS
 *	0 / -1 with err; it logs through the caller's log function and never
 *	exits.
 * UNTRUSTED INPUT
 *	Identities and queue IDs from the log or the control socket: an
 *	identity must pass act_identity_ok() to be acted on by hand, must pass
 *	map_key_ok() to become a map key (else it is held, not mapped,
 *	and the log says why), queue IDs must pass pf_qid_ok() before they
 *	reach postcat or postsuper, and postsuper gets only those the queue
 *	confirms as the identity's (actions/confirm.c) and that this Postfix
 *	logged (hold_local); everything reaches programs as separate argv
 *	elements or stdin lines, never a shell.
 */
#ifndef SG_ACT_H
#define SG_ACT_H

#include <stdint.h>
#include <stdio.h>

#include "actions/run.h"
#include "count/clients.h"
#include "count/conf.h"
#include "count/limits.h"
#include "count/track.h"
#include "store/store.h"

#define ACT_TIMEOUT_MS 30000 /* time limit of one program run */
#define ACT_MAX_ATTEMPTS 8   /* then a job is "failed" */
#define ACT_DEBOUNCE_MS 1000 /* map rewrite and reload after a burst */

enum act_level { ACT_INFO, ACT_WARN };
typedef void (*act_log_fn)(void *ctx, enum act_level, const char *msg);

struct act;

/*
 * act_new - enforcement over store and conf, running its programs and
 * timers through r (runner_new(ev) in the daemon, runner_new_sync() in a
 * command-line tool).  act takes r over (act_free frees it), also when it
 * fails: NULL, when r is NULL or memory runs out.
 */
struct act *act_new(struct runner *r, struct store *, const struct conf *, act_log_fn log,
    void *lctx);
void act_free(struct act *);
/* act_set_conf - after a reload (the old conf may be freed after this returns) */
void act_set_conf(struct act *, const struct conf *);

/*
 * Hooks for the owner of the limits (the daemon), so that the limits
 * block and re-arm in step with the store: clock gives the log's clock
 * (the time of the last line read; without it the wall clock is used);
 * on_block tells of a block by hand from log time from until until (0:
 * until unblocked); on_end tells that a block ended (by hand or because
 * its time ran out) and that the identity's limits re-arm at log time at;
 * ips gives the client IPs a block by hand names ("a,b" into buf, len at
 * least CLIENTS_TEXT_MAX; the addresses of its messages within the
 * longest window of the rules), or NULL for none.
 */
struct act_hooks {
	int64_t (*clock)(void *ctx);
	void (*on_block)(void *ctx, const char *identity, int64_t from_us, int64_t until_us);
	void (*on_end)(void *ctx, const char *identity, int64_t at_us);
	const char *(*ips)(void *ctx, const char *identity, char *buf, size_t len);
	void *ctx;
};
void act_set_hooks(struct act *, const struct act_hooks *);

/*
 * act_restore_limits - the stored blocks into l (before its windows are
 * rebuilt): how often each identity was blocked, which blocks are in
 * force, and when the last one ended (its limits count from then on).
 */
int act_restore_limits(struct store *, struct limits *, char *err, size_t errlen);

/* act_start - heal from the store (expire, rewrite maps, re-queue pending jobs); call outside a batch */
int act_start(struct act *, char *err, size_t errlen);

/* inside the daemon's batch transaction */
void act_verdict(struct act *, const struct limits_verdict *);
void act_message(struct act *, const struct track_msg *);
void act_hold_event(struct act *, const char *host, const char *instance, const char *qid,
    const char *state, int64_t time_us);

/* act_kick - start what the batch queued (after its commit) */
void act_kick(struct act *);

/*
 * By hand (control socket or command line); each runs its own store
 * transaction and returns 0, or -1 with err (then done is not called).
 * seconds 0: until unblocked.  done gets the report, once: what was
 * decided and what each program run said (postsuper's own count of the
 * messages it held, released or deleted), when every run has run once
 * and the map change is in force, or after ACT_WAIT_MS at the latest.
 * With a synchronous runner the programs run before act_block returns,
 * and so does done.
 */
typedef void (*act_done_fn)(void *ctx, const char *report);
enum act_unblock_mode {
	ACT_UNBLOCK_KEEP = 0, /* held mail stays on hold */
	ACT_UNBLOCK_RELEASE,  /* postsuper -H */
	ACT_UNBLOCK_DELETE    /* postsuper -d */
};
int act_block(struct act *, const char *identity, int64_t seconds, act_done_fn done, void *ctx,
    char *err, size_t errlen);
int act_unblock(struct act *, const char *identity, enum act_unblock_mode mode, act_done_fn done,
    void *ctx, char *err, size_t errlen);

/*
 * The cluster (cluster/): another node decided a block of identity
 * under rule (its wall-clock end until_us, 0: until unblocked), or ended
 * one by hand, releasing or deleting its held mail with mode.  Applied
 * here as a block or unblock by hand is, inside the caller's transaction
 * and without a report: this host's queued mail of the identity held
 * (only queue IDs of its own log: the others' are in their queues), its
 * map written and Postfix reloaded when the rule blocks (a rule this
 * node does not have, and "manual", hold and block like a block by
 * hand); no notify or exec, which the deciding node ran.  A block of an
 * identity already blocked here, or already over, is left alone.  Not
 * published again.  In a cluster, every block this node records and
 * every unblock by hand go into the store's decision outbox for the
 * others, in the transaction that records them.
 */
void act_cluster_block(struct act *, const char *identity, const char *rule, int64_t until_us,
    const char *node);
void act_cluster_unblock(struct act *, const char *identity, enum act_unblock_mode,
    const char *node);

/* act_running - program runs not yet finished */
int act_running(const struct act *);
/* act_is_blocked_any - 1 when some identity is blocked (holds may be pending) */
int act_is_blocked_any(struct act *);
/* act_is_blocked - 1 when identity is blocked now */
int act_is_blocked(struct act *, const char *identity);

/*
 * The block states a stored block may be in.  While blocked: "blocked"
 * (in the access map, new mail held), "holding" (new mail held, not in a
 * map: the rule has no block action or the identity is not a safe key),
 * "mapped" (in the map, the rule has no hold action), "noted" (neither:
 * notify/exec only); then "expired" or "unblocked".
 * act_state_active - 1 for the four states of a block in force
 * act_state_mapped - 1 when the state puts the identity in an access map
 * act_state_holds - 1 when the state holds the identity's new mail
 */
int act_state_active(const char *state);
int act_state_mapped(const char *state);
int act_state_holds(const char *state);

/*
 * act_identity_ok - a well-formed identity typed by an admin: kind
 * sasl|uid|sender|ip, a non-empty value of at most 1024 bytes without
 * control characters; folded to lower case into out.
 */
int act_identity_ok(const char *in, char *out, size_t outlen, const char **why);

#endif
