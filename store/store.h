/*
 * NAME
 *	store - SQLite persistence (the only module that includes sqlite3.h)
 * SUMMARY
 *	Accepted messages, verdicts (overruns), the log cursor, the tracker's
 *	state, blocks, holds, the job queue (action log) and, in a cluster,
 *	the outboxes and the other nodes' messages.  Schema versions via
 *	PRAGMA user_version with migrations; WAL for files; prepared
 *	statements; the caller groups writes into one transaction per batch
 *	with store_begin()/store_commit().  (PostgreSQL, for the cluster, is
 *	store/pg.h: the only module that includes libpq-fe.h, with its
 *	run-time loader store/pg_lib.h.)
 *
 *	Four files behind this one header: store.c, the core (open,
 *	migrate, batches, the statement table, the row walker); store_count.c,
 *	the counting half (messages, verdicts, cursor, key/value state);
 *	store_enforce.c, the enforcement half (blocks, holds, jobs);
 *	store_cluster.c, the cluster's half (outboxes, others' messages).
 * RETURNS
 *	One style for every function.  A failure returns -1 and, when the
 *	function takes an err buffer, fills it with "path: what: reason".
 *	Success returns 0, unless the function's comment names another value:
 *	- found or not: 1 (and the result filled) or 0 (store_get_cursor,
 *	  store_get_block);
 *	- a count or an id, >= 0 (store_count_messages, store_count_holds,
 *	  store_prune_some, store_add_job, store_schema_version,
 *	  store_count_outbox), or 1/0 for new or known (store_add_remote);
 *	- a walk (store_each_*, store_kv_each, store_get_job): 0 after the
 *	  last row, or the callback's first non-zero return, which stops the
 *	  walk and is passed back as is (err untouched).  Rows come in the
 *	  order the function's comment gives; the strings and blobs a
 *	  callback sees live until it returns.  A callback may call any store
 *	  function, even the walk it is in.
 *	The store never prints and never exits.
 * UNTRUSTED INPUT
 *	Strings from the log are bound as parameters, never pasted into SQL.
 */
#ifndef SG_STORE_H
#define SG_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* ------------------------------------------------------------ the core */

/*
 * store_open - path NULL or ":memory:" opens an in-memory database.
 * readonly opens an existing file without creating or migrating it.
 * A file is opened without following a symbolic link (the database, its
 * -wal and -shm), and refused when it is empty, not SQLite, or an SQLite
 * database without sendguard's schema (store_file.c, store.c): never
 * taken for a new one.  Writable: a new database is made 0600, and
 * existing files lose group and other permissions (see store_notes).
 */
int store_open(struct store **out, const char *path, int readonly, char *err, size_t errlen);
void store_close(struct store *);

/*
 * store_notes - what store_open() changed on disk, for the caller to
 * say ("PATH was mode 0644 (others could read it): made 0600"); "" for
 * nothing.
 */
const char *store_notes(const struct store *);

/*
 * store_lock - one daemon per database: an exclusive flock() on
 * PATH.lock (made 0600, no link followed), to hold while the database is
 * in use.  Returns the lock's descriptor (close-on-exec; store_unlock()
 * lets go), -1 with err on an error, or STORE_LOCKED when another
 * process holds it: *holder is then its pid (0 when unknown).  The lock
 * file holds the holder's pid; store_lock_pid() writes it again (after a
 * fork).  The kernel drops the lock when its holder dies.
 */
#define STORE_LOCKED (-2)
int store_lock(const char *path, long *holder, char *err, size_t errlen);
int store_lock_pid(int fd);
void store_unlock(int fd);

/*
 * store_begin - start a write batch (BEGIN IMMEDIATE), waiting up to
 * STORE_BUSY_MS for another process's write transaction to end; when it
 * still holds the database then: STORE_BUSY with err, nothing changed,
 * to be tried again later.
 */
#define STORE_BUSY (-2)
#define STORE_BUSY_MS 5000
int store_begin(struct store *, char *err, size_t errlen);
int store_commit(struct store *, char *err, size_t errlen);
/* store_rollback - 0 also when no batch is open (SQLite may have ended it) */
int store_rollback(struct store *);

/*
 * store_bulk_begin - before filling a new (empty) state file in one go
 * (audit --state): drop the indexes that serve look-ups by identity
 * (status, explain, enforcement), which cost most of the insert time,
 * and return 1; store_bulk_end() makes them again, once, over every row.
 * 0 (nothing dropped) for memory, a read-only store, or one that holds
 * messages already; -1 with err.  Call both outside a batch.  A load cut
 * short leaves the file without them until its next writable open,
 * which makes them; store_close() makes them when store_bulk_end() was
 * not called.  In between, a message added inside a batch is kept in
 * memory and written once, with the outcomes added to it meanwhile,
 * when the batch commits (store_bulk.c): after each store_commit() the
 * file holds the same rows as without a bulk load, but a read inside
 * the batch does not see the messages of the batch.  The commit itself
 * is a writer thread's: store_commit() hands it the batch and returns;
 * the next call that uses the database (or store_bulk_wait()) waits for
 * it and returns the error it met, as store_commit() did before.
 */
int store_bulk_begin(struct store *, char *err, size_t errlen);
/*
 * store_bulk_keep - the daemon's batches: a message added inside a batch
 * is kept in memory with the outcomes added to it meanwhile (and its
 * removal) and written once, its id the one it would have had, when the
 * batch commits or before any statement that reads or writes messages
 * otherwise (store_bulk.c; store_each_queued() and store_each_recent()
 * merge the kept messages in instead: store_kept.c), so that every read
 * sees it and the file
 * holds the same rows after every commit.  The indexes stay; no thread.
 * 0 (also for memory, a read-only store or one with a load already) or
 * -1 with err.  Call it outside a batch; store_close() ends it.
 */
int store_bulk_keep(struct store *, char *err, size_t errlen);
/* store_bulk_end - make the indexes store_bulk_begin() dropped; 0 (also when none) or -1 */
int store_bulk_end(struct store *, char *err, size_t errlen);
/*
 * store_bulk_finish - after the load's last commit: have its writer
 * thread make those indexes while the caller goes on (prints a report);
 * store_bulk_end() (or any other use of the store) waits for them and
 * returns the error they met.  0 (also without a load or a thread: then
 * store_bulk_end() makes them) or -1 with err (the last batch's error).
 */
int store_bulk_finish(struct store *, char *err, size_t errlen);
/* store_bulk_wait - wait for the last commit of a bulk load; 0 or -1 with its error */
int store_bulk_wait(struct store *, char *err, size_t errlen);

/* store_schema_version - PRAGMA user_version after migration, -1 on error */
int store_schema_version(struct store *);

/* store_schema_latest - the schema version this sendguard migrates to */
int store_schema_latest(void);

/*
 * store_limit_size - cap the database at about max_bytes (PRAGMA
 * max_page_count, never below its current size) for this connection;
 * writes past it fail with a "database or disk is full" error.
 */
int store_limit_size(struct store *, int64_t max_bytes, char *err, size_t errlen);

/*
 * store_cache_size - let SQLite keep up to kib KiB of the database's pages
 * in memory (its default is 2 MiB): a daemon that writes the messages'
 * indexes all day reads fewer of them back.  0, or -1 with err.
 */
int store_cache_size(struct store *, int64_t kib, char *err, size_t errlen);

/*
 * store_ckpt_thread - move the WAL's checkpoints (their page copies and
 * fsyncs) off the calling thread onto a thread with a connection of its
 * own, so that a commit never waits for one (the daemon); stopped by
 * store_close().  0, or -1 with err (the store then checkpoints as
 * before, at its commits).  A file database opened for writing only.
 */
int store_ckpt_thread(struct store *, char *err, size_t errlen);
/* store_ckpt_count - checkpoints that thread has run (0 without one) */
long store_ckpt_count(const struct store *);

/* ---------------------------------------------------- the counting half */

/* One accepted message.  NULL or "" for an absent string field. */
struct store_msg {
	int64_t time_us;
	const char *host, *instance, *queue_id;
	const char *sasl, *sender, *client_ip;
	long uid; /* -1 when absent */
	long nrcpt;
	int64_t removed_us; /* 0 while queued (read back by store_each_recent) */
};

/* One overrun. */
struct store_verdict {
	int64_t time_us;
	const char *identity, *rule, *limit, *window, *queue_id;
	long threshold, count;
};

#define STORE_JOURNAL_CURSOR_MAX 256 /* a journal cursor, NUL included */

/*
 * Where the log reader stands: committed with the batch it ends.  A file
 * is (dev, ino, offset, fingerprint); a journal is its cursor string
 * (dev, ino and offset 0).  time_us is the time of the line or entry it
 * stands after (INT64_MIN: unknown); a journal whose cursor is "" stands
 * only at that time.
 */
struct store_cursor {
	uint64_t dev, ino, offset;
	char fingerprint[65]; /* hex digest of the file's first line */
	char journal[STORE_JOURNAL_CURSOR_MAX];
	int64_t time_us;
};

int store_add_message(struct store *, const struct store_msg *, char *err, size_t errlen);
/* store_add_verdict - a verdict without identity is refused */
int store_add_verdict(struct store *, const struct store_verdict *, char *err, size_t errlen);

/* store_get_cursor - returns 1 and fills *c, 0 when none, -1 on error */
int store_get_cursor(struct store *, const char *log, struct store_cursor *c, char *err,
    size_t errlen);
int store_set_cursor(struct store *, const char *log, const struct store_cursor *c, char *err,
    size_t errlen);

/* store_count_messages - rows in messages (for tests and status); -1 on error */
int64_t store_count_messages(struct store *);

/*
 * store_each_message - call cb for every message counted here with
 * time_us >= since: this node's, then (in a cluster) the other nodes',
 * in time order (ties: this node's first, each in insertion order).  An
 * absent string ("" or NULL) reads back as NULL, an absent uid as -1;
 * removed_us reads as 0.
 */
int store_each_message(struct store *, int64_t since_us,
    int (*cb)(void *ctx, const struct store_msg *), void *ctx, char *err, size_t errlen);

/*
 * store_each_verdict - call cb for every verdict with time_us >= since, of
 * identity (NULL: of all identities), in time order.
 */
int store_each_verdict(struct store *, const char *identity, int64_t since_us,
    int (*cb)(void *ctx, const struct store_verdict *), void *ctx, char *err, size_t errlen);

/* store_prune - delete messages, verdicts and bounces with time_us < before_us */
int store_prune(struct store *, int64_t before_us, char *err, size_t errlen);

/* store_prune_some - delete at most limit old messages, verdicts and bounces; rows deleted or -1 */
int64_t store_prune_some(struct store *, int64_t before_us, int64_t limit, char *err,
    size_t errlen);

/*
 * Delivery outcomes.  A status= line of a counted message (for a content-
 * filter copy: of its original) adds n recipients to its message's
 * delivered, deferred or bounced count; a bounce is also kept with its
 * time and the message's identities, so that the bounces windows can be
 * rebuilt.  The message is named by its host, instance, queue ID and
 * time (a reused queue ID is another message); one that is not stored
 * (pruned, outside an audit's interval) changes nothing.
 */
enum store_status { STORE_SENT = 0, STORE_DEFERRED, STORE_BOUNCED };

struct store_outcome {
	int64_t time_us;             /* the delivery line's */
	int status;                  /* enum store_status */
	long n;                      /* recipients */
	const struct store_msg *msg; /* the message as counted (time_us: its acceptance) */
};

/* One bounce line, as kept: the message's identities, its recipients bounced. */
struct store_bounce {
	int64_t time_us; /* the bounce line's */
	const char *host, *instance, *queue_id;
	const char *sasl, *sender, *client_ip;
	long uid; /* -1 when absent */
	long n;
	int64_t msg_us; /* the message's acceptance */
};

/* An identity's delivery outcomes and distinct envelope senders. */
struct store_deliveries {
	int64_t messages, delivered, deferred, bounced, senders;
};

/* One client IP of an identity. */
struct store_client {
	const char *ip;
	int64_t messages, first_us, last_us;
};

int store_add_outcome(struct store *, const struct store_outcome *, char *err, size_t errlen);
/* store_each_bounce - every bounce with time_us >= since, in time order (ties as added) */
int store_each_bounce(struct store *, int64_t since_us,
    int (*cb)(void *ctx, const struct store_bounce *), void *ctx, char *err, size_t errlen);
/*
 * store_get_deliveries - the identity's stored messages accepted since
 * since_us: how many, their delivered, deferred and bounced recipients,
 * their distinct envelope senders (the null sender left out)
 */
int store_get_deliveries(struct store *, const char *identity, int64_t since_us,
    struct store_deliveries *out, char *err, size_t errlen);
/* store_each_client - the identity's client IPs (most messages first), at most limit */
int store_each_client(struct store *, const char *identity, int limit,
    int (*cb)(void *ctx, const struct store_client *), void *ctx, char *err, size_t errlen);

/*
 * store_last_message_time - 0 and the newest time of a message counted
 * here (this node's or, in a cluster, another's) in *t (INT64_MIN: none),
 * or -1
 */
int store_last_message_time(struct store *, int64_t *t, char *err, size_t errlen);

/*
 * Opaque key/value state for other modules (the tracker's in-flight
 * records), in namespaces ns; written inside the caller's batch.
 * store_kv_each walks one namespace in key order (memcmp); an empty key
 * or value reads as "" with length 0, never NULL.
 */
int store_kv_put(struct store *, int ns, const void *key, size_t klen, const void *val, size_t vlen,
    char *err, size_t errlen);
int store_kv_del(struct store *, int ns, const void *key, size_t klen, char *err, size_t errlen);
int store_kv_each(struct store *, int ns,
    int (*cb)(void *ctx, const void *key, size_t klen, const void *val, size_t vlen), void *ctx,
    char *err, size_t errlen);

/*
 * An identity's messages, for enforcement.  Identities are "kind:value"
 * (sasl:, uid:, sender:, ip:, sasl_domain:, sender_domain:); one that
 * ident_parse() refuses is an error.
 */

/* store_mark_removed - the queued message (host, instance, qid) is gone */
int store_mark_removed(struct store *, const char *host, const char *instance, const char *qid,
    int64_t time_us, char *err, size_t errlen);
/* store_each_queued - messages of identity accepted since since_us and not removed, in time order */
int store_each_queued(struct store *, const char *identity, int64_t since_us,
    int (*cb)(void *ctx, const struct store_msg *), void *ctx, char *err, size_t errlen);
/* store_each_recent - the identity's newest limit messages, oldest first, with removed_us */
int store_each_recent(struct store *, const char *identity, int limit,
    int (*cb)(void *ctx, const struct store_msg *), void *ctx, char *err, size_t errlen);
/*
 * store_each_queued_recent - store_each_queued(identity, since_us, qcb)
 * and then store_each_recent(identity, limit, rcb), the same rows in the
 * same order, mostly from one scan (the enforcement at a verdict); -1
 * with err, else what the last callback of rcb returned
 */
int store_each_queued_recent(struct store *, const char *identity, int64_t since_us, int limit,
    int (*qcb)(void *, const struct store_msg *), int (*rcb)(void *, const struct store_msg *),
    void *ctx, char *err, size_t errlen);

/* ------------------------------------------------- the enforcement half */

struct store_block {
	const char *identity, *rule;
	int64_t since_us, until_us; /* until 0: until unblocked by hand */
	long count;                 /* times blocked, for repeat offenders */
	const char *state;          /* "blocked", "expired", "unblocked" */
	/*
	 * The same block on the log's clock, as the limits see it: its end
	 * (0: none) and where its limits re-armed when the last block of it
	 * ended (0: never).  The wall-clock since/until drive the map.
	 */
	int64_t log_until_us, ended_us;
	const char *ips; /* the client IPs it named when it began: "a,b" (NULL: none) */
};

struct store_hold {
	const char *host, *instance, *queue_id, *identity;
	int64_t requested_us, changed_us;
	const char *state; /* "requested", "held", "released", "deleted", "removed" */
};

/* One external program run (its intent first, then its outcome). */
struct store_job {
	int64_t id, time_us;
	const char *identity,
	    *action;      /* "hold", "map", "reload", "notify", "exec", "release", "delete" */
	const void *argv; /* NUL-separated argv */
	size_t argv_len;
	const void *stdin_data; /* NULL: none */
	size_t stdin_len;
	const char *status; /* "pending", "ok", "failed", "monitor" */
	int attempts;
	int64_t next_us; /* when a pending job may run (again) */
	const char *outcome;
};

/* store_get_block - 1 and *b (strings copied into buf), 0 when none (*b zeroed), -1 */
int store_get_block(struct store *, const char *identity, struct store_block *b, char *buf,
    size_t buflen, char *err, size_t errlen);
int store_put_block(struct store *, const struct store_block *, char *err, size_t errlen);
/* store_each_block - blocks in state (NULL: all), by identity */
int store_each_block(struct store *, const char *state,
    int (*cb)(void *ctx, const struct store_block *), void *ctx, char *err, size_t errlen);

/*
 * store_add_hold - a hold requested.  A queue file already on hold (requested
 * or held) for some identity stays that identity's; one released, deleted or
 * removed is taken over by the new request.
 */
int store_add_hold(struct store *, const struct store_hold *, char *err, size_t errlen);
/* store_hold_state - what postsuper logged for a queue file (instance "" matches any) */
int store_hold_state(struct store *, const char *host, const char *instance, const char *qid,
    const char *state, int64_t time_us, char *err, size_t errlen);
/* store_each_hold - the identity's holds in state (NULL: any), oldest request first */
int store_each_hold(struct store *, const char *identity, const char *state,
    int (*cb)(void *ctx, const struct store_hold *), void *ctx, char *err, size_t errlen);
/* store_holds_set_state - every requested or held hold of identity to state */
int store_holds_set_state(struct store *, const char *identity, const char *state, int64_t time_us,
    char *err, size_t errlen);
/* store_count_holds - the identity's holds requested or confirmed; -1 on error */
int64_t store_count_holds(struct store *, const char *identity);

/* One identity with mail on hold (requested or confirmed), and its block. */
struct store_on_hold {
	const char *identity;
	int64_t held;            /* messages */
	int64_t since_us;        /* the first hold was asked for */
	const char *block_state; /* NULL: no block recorded */
	int64_t until_us, ended_us;
};

/* store_each_on_hold - every identity with mail on hold, by identity */
int store_each_on_hold(struct store *, int (*cb)(void *ctx, const struct store_on_hold *),
    void *ctx, char *err, size_t errlen);

/* store_add_job - its id, or -1 */
int64_t store_add_job(struct store *, const struct store_job *, char *err, size_t errlen);
int store_update_job(struct store *, int64_t id, const char *status, int attempts, int64_t next_us,
    const char *outcome, char *err, size_t errlen);
/* store_each_job - jobs of identity (NULL: all) in status (NULL: any), oldest first */
int store_each_job(struct store *, const char *identity, const char *status,
    int (*cb)(void *ctx, const struct store_job *), void *ctx, char *err, size_t errlen);
/* store_get_job - cb for the job id (not called when there is none) */
int store_get_job(struct store *, int64_t id, int (*cb)(void *ctx, const struct store_job *),
    void *ctx, char *err, size_t errlen);

/* ------------------------------------------------------ the cluster half */

/*
 * With [cluster] (store_cluster.c): every message this node accepts goes
 * into the outbox in the same transaction as the log cursor, and every
 * block this node decides or ends by hand into the decision outbox; the
 * publisher reads them oldest first and, once PostgreSQL has committed
 * them, deletes what it sent (store_*_sent).  The other nodes' messages
 * are kept by their PostgreSQL id with the fetch cursor that follows
 * them, in one transaction, so each is counted here exactly once; they
 * count in store_each_message() and store_last_message_time(), never in
 * the look-ups of queued mail (they are in another host's queue).
 */

/* One message of the cluster: an outbox row (node NULL), or another node's. */
struct store_cmsg {
	int64_t id; /* the outbox row, or the message's id in PostgreSQL */
	const char *node;
	struct store_msg m; /* removed_us unused */
};

/* One block decision of this node for the others: kind "block" or "unblock". */
struct store_decision {
	int64_t id, time_us;
	const char *kind, *identity;
	const char *rule; /* block: the rule ("manual" by hand) */
	int64_t until_us; /* block: its wall-clock end; 0: until unblocked */
	const char *mode; /* unblock: "keep", "release" or "delete" */
};

int store_add_outbox(struct store *, const struct store_msg *, char *err, size_t errlen);
/* store_each_outbox - the oldest limit outbox rows, oldest first */
int store_each_outbox(struct store *, int limit, int (*cb)(void *ctx, const struct store_cmsg *),
    void *ctx, char *err, size_t errlen);
/* store_outbox_sent - delete the outbox rows up to id (PostgreSQL has them) */
int store_outbox_sent(struct store *, int64_t id, char *err, size_t errlen);
/* store_count_outbox - messages waiting to be published; -1 on error */
int64_t store_count_outbox(struct store *);

int store_add_decision(struct store *, const struct store_decision *, char *err, size_t errlen);
/* store_each_decision - the oldest limit decisions not yet published, oldest first */
int store_each_decision(struct store *, int limit,
    int (*cb)(void *ctx, const struct store_decision *), void *ctx, char *err, size_t errlen);
/* store_decision_sent - delete the decisions up to id */
int store_decision_sent(struct store *, int64_t id, char *err, size_t errlen);

/* store_add_remote - another node's message: 1, or 0 when its id is here already */
int store_add_remote(struct store *, const struct store_cmsg *, char *err, size_t errlen);
/* store_get_ccursor - the last id fetched of stream name ("messages", "events"); 0: none */
int store_get_ccursor(struct store *, const char *name, int64_t *id, char *err, size_t errlen);
int store_set_ccursor(struct store *, const char *name, int64_t id, char *err, size_t errlen);
/* store_each_remote_node - per other node: its newest message here and how many, by node */
int store_each_remote_node(struct store *,
    int (*cb)(void *ctx, const char *node, int64_t newest_us, int64_t n), void *ctx, char *err,
    size_t errlen);
/*
 * store_each_node_time - the messages of identity accepted at or after
 * since_us, this node's (node NULL) and the others': who and when, in no
 * particular order
 */
int store_each_node_time(struct store *, const char *identity, int64_t since_us,
    int (*cb)(void *ctx, const char *node, int64_t time_us), void *ctx, char *err, size_t errlen);

#endif
