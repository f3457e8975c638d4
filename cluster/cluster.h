/*
 * NAME
 *	cluster - limits shared by several mail hosts through PostgreSQL:
 *	publish this node's messages and decisions, count the others',
 *	apply their blocks
 * SUMMARY
 *	A floor of its own between the daemon (agent/) and enforcement
 *	(actions/): it uses act (actions/), the pipeline (count/), the
 *	SQLite store and the PostgreSQL connection (store/, store/pg.h) and
 *	the daemon's event loop (util/ev), and nothing below includes it.
 *
 *	Publishing.  The pipeline writes every accepted message into the
 *	store's outbox, and act every block it records and every unblock by
 *	hand into the decision outbox, each in the transaction that holds
 *	the log cursor or the decision.  After each commit the daemon calls
 *	cluster_kick(): the oldest CLUSTER_BATCH outbox rows go to
 *	PostgreSQL in one statement (pg_publish) and are deleted here once
 *	it has committed them; decisions go one at a time (pg_decide).  A
 *	crash between the two sends a batch again, which PostgreSQL's key
 *	stores once: nothing is published twice, nothing is lost.
 *
 *	Counting the union.  A NOTIFY from another node (the libpq socket is
 *	in the event loop; an idle cluster sends nothing and polls nothing)
 *	fetches its messages after the last id fetched, back to the longest
 *	window before the log's clock (older ones can no longer count), and
 *	each goes, in one SQLite transaction with the new cursor, into the
 *	store (so the windows are rebuilt with it after a restart) and
 *	through pipeline_remote() into the limits, where it counts under the
 *	same identities as a local message and may raise a verdict here.
 *	Events (blocks and unblocks of the others) are fetched the same way
 *	and applied through act_cluster_block() and act_cluster_unblock();
 *	after connecting, the events come first, so that a block in force
 *	elsewhere keeps the messages that caused it from raising a verdict
 *	here too.
 *
 *	PostgreSQL away.  Nothing waits for it: the log is read, counted and
 *	enforced on this node's own view while the outbox grows; the loss is
 *	logged as a warning (and every CLUSTER_NAG_US while it lasts) and
 *	shown by status.  Connecting again (non-blocking, from the loop)
 *	backs off from CLUSTER_RETRY_MIN_MS to CLUSTER_RETRY_MAX_MS; once
 *	up, the outbox is published and the others' messages fetched from
 *	the cursor on, so every node ends with the union's counts.
 * RETURNS
 *	Nothing to the daemon but status; a failure of the local store
 *	(which the daemon cannot go on without) goes to env->fatal, except
 *	a write lock another process holds past the busy timeout, which is
 *	logged and waited out (CLUSTER_BUSY_MS); the rest is logged through
 *	env->log.  Never prints, never exits.
 * UNTRUSTED INPUT
 *	Rows from PostgreSQL, written by other nodes: pg.c has checked their
 *	form; identities pass act_identity_ok() and rule names the config's
 *	name rule before they reach act; node names are shown escaped.
 */
#ifndef SG_CLUSTER_H
#define SG_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "actions/act.h"
#include "count/conf.h"
#include "count/pipeline.h"
#include "store/store.h"
#include "util/ev.h"

#define CLUSTER_BATCH 1000                 /* outbox rows per publish */
#define CLUSTER_FETCH 5000                 /* rows per fetch */
#define CLUSTER_RETRY_MIN_MS 500           /* first wait before connecting again */
#define CLUSTER_RETRY_MAX_MS 30000         /* longest wait */
#define CLUSTER_NAG_US (300LL * 1000000)   /* a still-down warning every 5 min */
#define CLUSTER_BUSY_MS 10000              /* the state database busy: try again after */
#define CLUSTER_PRUNE_US (600LL * 1000000) /* PostgreSQL's retention: at most every 10 min */
#define CLUSTER_NODES_MAX 64

/* What the daemon lends the cluster; all of it outlives the cluster. */
struct cluster_env {
	struct ev *ev;
	struct store *store;
	struct pipeline *pl; /* the other nodes' messages: pipeline_remote() */
	struct act *act;     /* their blocks and unblocks */
	void (*log)(void *ctx, int warn, const char *msg);
	void (*fatal)(void *ctx, const char *msg); /* the local store failed */
	void *ctx;
};

/* One node as this node knows it (PostgreSQL's sendguard_nodes and what it counted). */
struct cluster_node {
	char name[CONF_NAME_MAX];
	int64_t last_publish_us; /* wall clock; 0: never */
	int64_t newest_us;       /* its newest message published (log time); 0: none */
	int64_t published;       /* its messages in PostgreSQL so far */
	int64_t outbox;          /* its outbox when it last published */
	int64_t counted_us;      /* the newest of its messages counted here (0: none) */
};

/* What status shows of the cluster. */
struct cluster_info {
	const char *node;
	const char *link;        /* "up", "connecting", "down" */
	const char *why;         /* why it went down (NULL: it did not) */
	int64_t link_since_us;   /* wall clock */
	int64_t outbox;          /* messages waiting here to be published */
	int64_t published;       /* messages published since start */
	int64_t last_publish_us; /* 0: none since start */
	int64_t fetched;         /* the others' messages counted since start */
	const struct cluster_node *nodes;
	size_t nnodes;
};

struct cluster;

/* cluster_new - for conf's [cluster], connecting at once; NULL when out of memory */
struct cluster *cluster_new(const struct conf *, const struct cluster_env *);
void cluster_free(struct cluster *);
/* cluster_set_conf - after a reload (conninfo and node change at the next start) */
void cluster_set_conf(struct cluster *, const struct conf *);
/* cluster_kick - a transaction committed: publish what the outboxes hold */
void cluster_kick(struct cluster *);
/* cluster_info - the state for status (valid until the next call into the cluster) */
void cluster_info(struct cluster *, struct cluster_info *);

#endif
