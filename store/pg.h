/*
 * NAME
 *	pg - the cluster's PostgreSQL: one non-blocking libpq connection,
 *	its schema, and the few operations the cluster needs (the only
 *	module that includes libpq-fe.h, with pg_lib, its loader)
 * SUMMARY
 *	libpq is not linked: pg_conninfo_check() and pg_connect() load
 *	libpq.so.5 first (pg_lib.h) and fail, with err naming the library
 *	and its Debian package, where it is not installed.
 *	pg_connect() starts a connection without waiting (PQconnectStart);
 *	the caller watches pg_fd() for pg_want() in its event loop and calls
 *	pg_io() when it is ready.  Once connected, pg creates or migrates
 *	the schema (versioned in sendguard_schema, one step a transaction
 *	under an advisory lock, so that nodes starting together migrate
 *	once), sets a statement timeout and LISTENs on the channel
 *	"sendguard", then says PG_UP through on_state.  A lost connection
 *	says PG_DOWN (with libpq's reason) and fails what was queued; the
 *	caller decides when to connect again.
 *	Operations are queued and run one at a time, each one statement (a
 *	server-side function where it must be one transaction): each calls
 *	its done function once, with its rows before that.
 *	- pg_publish_add() and pg_publish(): a batch of this node's messages
 *	  into sendguard_messages, INSERT ... ON CONFLICT DO NOTHING on
 *	  (node, host, instance, queue_id, time_us), so a batch sent twice
 *	  (a crash before the outbox was marked sent) is stored once.  The
 *	  inserts take a transaction-level advisory lock before their ids
 *	  are drawn, so ids become visible in id order and a reader that
 *	  fetches "id > last" never skips one committed late.
 *	- pg_fetch_messages(), pg_fetch_events(): rows after an id.
 *	- pg_decide(): a block decided here (one row per block episode in
 *	  sendguard_blocks; a unique index on the identity of the episodes
 *	  in force makes two nodes crossing at once record one) or an
 *	  unblock (ends the episode), each with a row in sendguard_events
 *	  that every other node applies.
 *	- pg_nodes(): every node's last publish, newest message, outbox.
 *	- pg_prune(): rows older than the retention.
 *	Each publish and decision NOTIFYs "sendguard" with "m NODE" or
 *	"e NODE"; on_notify hears every notification.
 * RETURNS
 *	0 / -1 with err; operations return -1 when the connection is not
 *	up.  Never prints, never exits.
 * UNTRUSTED INPUT
 *	Strings from the logs (hosts, queue IDs, logins, senders, addresses,
 *	identities) travel as hex and are stored as bytea, byte-exact
 *	whatever their encoding, and come back as hex; every value is a
 *	bound parameter, never SQL text.  Rows read back are checked (hex,
 *	lengths up to IDENT_VALUE_MAX, numbers) before a callback sees them.
 *	The connection string is the administrator's: pg_conninfo_check()
 *	refuses one with a password.
 */
#ifndef SG_PG_H
#define SG_PG_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define PG_WANT_READ 0x01
#define PG_WANT_WRITE 0x02
#define PG_CHANNEL "sendguard"
#define PG_SCHEMA_LATEST 1

enum pg_link { PG_DOWN = 0, PG_CONNECTING, PG_UP };

struct pg;

struct pg_hooks {
	/* state changes: PG_UP once ready, PG_DOWN with why */
	void (*on_state)(void *ctx, enum pg_link, const char *why);
	void (*on_notify)(void *ctx, const char *payload);
	void *ctx;
};

/* How an operation ended, for its done function. */
struct pg_done {
	int ok;
	int64_t n;       /* rows read or written, or the operation's value */
	int64_t last_id; /* fetches: the id of the last row read (0: none) */
	int64_t bad;     /* fetches: malformed rows skipped (their ids count in last_id) */
	const char *why; /* !ok: why; NULL when ok */
};
typedef void (*pg_done_fn)(void *ctx, const struct pg_done *);

/* One event of sendguard_events: another node's block or unblock. */
struct pg_event {
	int64_t id, time_us;
	const char *node, *kind; /* "block", "unblock" */
	const char *identity;
	const char *rule; /* block */
	int64_t until_us; /* block: wall clock; 0: until unblocked */
	const char *mode; /* unblock: keep, release, delete */
};

/* One row of sendguard_nodes. */
struct pg_node {
	const char *node;
	int64_t last_publish_us, newest_us, published, outbox;
};

/*
 * pg_conninfo_check - libpq.so.5 loads, conninfo parses (key = value
 * words or a URI) and holds no password; 0, or -1 with why in err
 */
int pg_conninfo_check(const char *conninfo, char *err, size_t errlen);

/* pg_new - for node (its name in the cluster); nothing is connected yet.  NULL: ENOMEM */
struct pg *pg_new(const char *conninfo, const char *node, const struct pg_hooks *);
/* pg_free - close and free; queued operations are dropped without their done */
void pg_free(struct pg *);

/*
 * pg_connect - start connecting (PG_DOWN -> PG_CONNECTING); 0, or -1
 * with err (also when libpq.so.5 cannot be loaded)
 */
int pg_connect(struct pg *, char *err, size_t errlen);
/* pg_close - drop the connection (PG_DOWN): queued operations fail, on_state tells why */
void pg_close(struct pg *, const char *why);
/* pg_fd - the socket to watch, -1 when none */
int pg_fd(const struct pg *);
/* pg_want - PG_WANT_READ and/or PG_WANT_WRITE for pg_fd() (0: none) */
int pg_want(const struct pg *);
/* pg_io - pg_fd() is ready: connect, send, read results and notifications */
void pg_io(struct pg *);
enum pg_link pg_state(const struct pg *);
/* pg_busy - operations queued or running */
int pg_busy(const struct pg *);

/* pg_publish_add - one more message for the next pg_publish(); -1 when out of memory */
int pg_publish_add(struct pg *, const struct store_msg *);
/*
 * pg_publish - the messages added since the last pg_publish, with the
 * outbox left behind them and the wall clock now (for sendguard_nodes);
 * n: the rows that were new to PostgreSQL
 */
int pg_publish(struct pg *, int64_t outbox_left, int64_t now_us, pg_done_fn, void *ctx);
/*
 * pg_fetch_messages - at most limit messages with id > after_id accepted
 * at or after since_us, by id, every node's (the caller skips its own);
 * n: the rows read, last_id the last one's id
 */
int pg_fetch_messages(struct pg *, int64_t after_id, int64_t since_us, int limit,
    int (*row)(void *ctx, const struct store_cmsg *), pg_done_fn, void *ctx);
/* pg_fetch_events - at most limit events with id > after_id, by id, every node's */
int pg_fetch_events(struct pg *, int64_t after_id, int limit,
    int (*row)(void *ctx, const struct pg_event *), pg_done_fn, void *ctx);
/*
 * pg_decide - a block or unblock of this node at wall clock now; n: 1
 * when it made an event (a block: no other episode of the identity was
 * in force), 0 when not
 */
int pg_decide(struct pg *, const struct store_decision *, int64_t now_us, pg_done_fn, void *ctx);
/* pg_nodes - every node's row, by name */
int pg_nodes(struct pg *, int (*row)(void *ctx, const struct pg_node *), pg_done_fn, void *ctx);
/* pg_prune - messages, events and ended blocks older than before_us; n: rows deleted */
int pg_prune(struct pg *, int64_t before_us, pg_done_fn, void *ctx);

#endif
