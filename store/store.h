/*
 * NAME
 *	store - SQLite persistence (the only module that includes sqlite3.h)
 * SUMMARY
 *	Accepted messages, verdicts (overruns), the log cursor, blocks and the
 *	action log.  Schema versions via PRAGMA user_version with migrations;
 *	WAL for files; prepared statements; the caller groups writes into one
 *	transaction per batch with store_begin()/store_commit().
 *	Functions return 0 on success, -1 on failure with err filled; they
 *	never print and never exit.
 * UNTRUSTED INPUT
 *	Strings from the log are bound as parameters, never pasted into SQL.
 */
#ifndef SG_STORE_H
#define SG_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* One accepted message.  NULL or "" for an absent string field. */
struct store_msg {
	int64_t	time_us;
	const char *host, *instance, *queue_id;
	const char *sasl, *sender, *client_ip;
	long	uid;			/* -1 when absent */
	long	nrcpt;
};

/* One overrun. */
struct store_verdict {
	int64_t	time_us;
	const char *identity, *rule, *limit, *window, *queue_id;
	long	threshold, count;
};

/* Where the log reader stands: committed with the batch it ends. */
struct store_cursor {
	uint64_t dev, ino, offset;
	char	fingerprint[65];	/* hex digest of the file's first line */
};

/*
 * store_open - path NULL or ":memory:" opens an in-memory database.
 * readonly opens an existing file without creating or migrating it.
 */
int	store_open(struct store **out, const char *path, int readonly,
		   char *err, size_t errlen);
void	store_close(struct store *);

int	store_begin(struct store *, char *err, size_t errlen);
int	store_commit(struct store *, char *err, size_t errlen);
int	store_rollback(struct store *);

int	store_add_message(struct store *, const struct store_msg *,
			  char *err, size_t errlen);
int	store_add_verdict(struct store *, const struct store_verdict *,
			  char *err, size_t errlen);

/* store_get_cursor - returns 1 and fills *c, 0 when none, -1 on error */
int	store_get_cursor(struct store *, const char *log, struct store_cursor *c,
			 char *err, size_t errlen);
int	store_set_cursor(struct store *, const char *log,
			 const struct store_cursor *c, char *err, size_t errlen);

/* store_count_messages - rows in messages (for tests and status) */
int64_t	store_count_messages(struct store *);

/* store_each_message - call cb for every message with time_us >= since, in time order */
int	store_each_message(struct store *, int64_t since_us,
			   int (*cb)(void *ctx, const struct store_msg *), void *ctx,
			   char *err, size_t errlen);

/* store_schema_version - PRAGMA user_version after migration */
int	store_schema_version(struct store *);

/*
 * Added with store.c:
 * store_each_message: cb's strings live until it returns; a non-zero
 * return from cb stops the walk and is returned as is (err untouched).
 * An absent string ("" or NULL) reads back as NULL, an absent uid as -1.
 */

/*
 * store_each_verdict - call cb for every verdict with time_us >= since, of
 * identity (NULL: of all identities), in time order; as store_each_message.
 */
int	store_each_verdict(struct store *, const char *identity, int64_t since_us,
			   int (*cb)(void *ctx, const struct store_verdict *),
			   void *ctx, char *err, size_t errlen);

/* store_schema_latest - the schema version this sendguard migrates to */
int	store_schema_latest(void);

/* store_prune - delete messages and verdicts with time_us < before_us */
int	store_prune(struct store *, int64_t before_us, char *err, size_t errlen);

/*
 * store_limit_size - cap the database at about max_bytes (PRAGMA
 * max_page_count, never below its current size) for this connection;
 * writes past it fail with a "database or disk is full" error.
 */
int	store_limit_size(struct store *, int64_t max_bytes, char *err,
			 size_t errlen);

/*
 * Opaque key/value state for other modules (the tracker's in-flight
 * records), in namespaces ns; written inside the caller's batch.
 */
int	store_kv_put(struct store *, int ns, const void *key, size_t klen,
		     const void *val, size_t vlen, char *err, size_t errlen);
int	store_kv_del(struct store *, int ns, const void *key, size_t klen,
		     char *err, size_t errlen);
int	store_kv_each(struct store *, int ns, int (*cb)(void *ctx, const void *key,
		      size_t klen, const void *val, size_t vlen), void *ctx,
		      char *err, size_t errlen);

/* store_prune_some - delete at most limit old messages and verdicts; rows deleted or -1 */
int64_t	store_prune_some(struct store *, int64_t before_us, int64_t limit,
			 char *err, size_t errlen);

/* store_last_message_time - the newest message's time, INT64_MIN when none */
int	store_last_message_time(struct store *, int64_t *t, char *err, size_t errlen);

#endif
