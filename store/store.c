/*
 * NAME
 *	store - SQLite persistence for sendguard
 * SUMMARY
 *	Opens (and creates and migrates) the state database, and reads and
 *	writes accepted messages, verdicts and the log cursor.  Every SQL
 *	statement the hot path uses is prepared once in store_open() and reused
 *	with sqlite3_reset()/sqlite3_clear_bindings().  The schema version lives
 *	in PRAGMA user_version; migrations[] holds one SQL step per version,
 *	each applied in its own transaction.  File databases run in WAL mode
 *	with synchronous=NORMAL; in-memory ones (audits) trade durability for
 *	speed.  Exports the store_ functions of store.h.
 * RETURNS
 *	0 (or a count) on success, -1 with "path: sqlite message" (or
 *	"path: what: sqlite message") in the caller's err buffer.  Never prints,
 *	never exits.
 * UNTRUSTED INPUT
 *	Every string from the log (host, queue ID, login, sender, address,
 *	identity, log path) is bound with sqlite3_bind_text() with its exact
 *	length; no caller-supplied text is ever pasted into SQL.  Bytes are
 *	stored as given (no UTF-8 validation) and read back byte-exact.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "store/store.h"
#include "util/ident.h"

/*
 * migrations - migrations[i] takes a database from user_version i to i+1.
 * sql runs for every database; file_sql only for files: it holds the
 * indexes that serve on-disk look-ups by identity (status, explain), which
 * an in-memory audit store never makes and which would cost it over half
 * its insert time.  An in-memory database is built from version 0 by this
 * very binary every time, so the two kinds never meet in one history; a
 * later step that touches a file_sql index must say IF EXISTS.
 * Append new steps; never edit a step that has shipped.
 */
static const struct migration {
	const char *sql, *file_sql;
} migrations[] = {
	/* 0 -> 1: the initial schema */
	{ "CREATE TABLE messages ("
	  "  id        INTEGER PRIMARY KEY,"
	  "  time_us   INTEGER NOT NULL,"
	  "  host      TEXT,"
	  "  instance  TEXT,"
	  "  queue_id  TEXT,"
	  "  sasl      TEXT,"
	  "  sender    TEXT,"
	  "  client_ip TEXT,"
	  "  uid       INTEGER,"
	  "  nrcpt     INTEGER NOT NULL DEFAULT 0"
	  ");"
	  "CREATE INDEX messages_time ON messages(time_us);"
	  "CREATE TABLE verdicts ("
	  "  id        INTEGER PRIMARY KEY,"
	  "  time_us   INTEGER NOT NULL,"
	  "  identity  TEXT NOT NULL,"
	  "  rule      TEXT,"
	  "  lim       TEXT,"
	  "  win       TEXT,"
	  "  threshold INTEGER,"
	  "  count     INTEGER,"
	  "  queue_id  TEXT"
	  ");"
	  "CREATE INDEX verdicts_time ON verdicts(time_us);"
	  "CREATE INDEX verdicts_identity ON verdicts(identity, time_us);"
	  "CREATE TABLE cursor ("
	  "  log         TEXT PRIMARY KEY,"
	  "  dev         INTEGER NOT NULL,"
	  "  ino         INTEGER NOT NULL,"
	  "  offset      INTEGER NOT NULL,"
	  "  fingerprint TEXT"
	  ");"
	  "CREATE TABLE blocks ("
	  "  identity TEXT PRIMARY KEY,"
	  "  rule     TEXT,"
	  "  since_us INTEGER NOT NULL,"
	  "  until_us INTEGER NOT NULL DEFAULT 0,"
	  "  count    INTEGER NOT NULL DEFAULT 0,"
	  "  state    TEXT NOT NULL"
	  ");"
	  "CREATE TABLE action_log ("
	  "  id       INTEGER PRIMARY KEY,"
	  "  time_us  INTEGER NOT NULL,"
	  "  identity TEXT NOT NULL,"
	  "  action   TEXT NOT NULL,"
	  "  argv     TEXT,"
	  "  status   INTEGER,"
	  "  outcome  TEXT"
	  ");"
	  "CREATE INDEX action_log_identity ON action_log(identity, time_us);",
	  /* absent values are never looked up: partial indexes skip them */
	  "CREATE INDEX messages_sasl ON messages(sasl)"
	  "  WHERE sasl IS NOT NULL;"
	  "CREATE INDEX messages_sender ON messages(sender)"
	  "  WHERE sender IS NOT NULL;"
	  "CREATE INDEX messages_client_ip ON messages(client_ip)"
	  "  WHERE client_ip IS NOT NULL;"
	  "CREATE INDEX messages_uid ON messages(uid)"
	  "  WHERE uid IS NOT NULL;" },
	/* 1 -> 2: the tracker's in-flight state, so a restart resumes it */
	{ "CREATE TABLE track_state ("
	  "  ns INTEGER NOT NULL,"
	  "  k  BLOB NOT NULL,"
	  "  v  BLOB NOT NULL,"
	  "  PRIMARY KEY (ns, k)"
	  ") WITHOUT ROWID;", NULL },
	/* 2 -> 3: enforcement: removal of messages, holds, the job queue */
	{ "ALTER TABLE messages ADD COLUMN removed_us INTEGER;"
	  "CREATE TABLE holds ("
	  "  host         TEXT NOT NULL DEFAULT '',"
	  "  instance     TEXT NOT NULL DEFAULT '',"
	  "  queue_id     TEXT NOT NULL,"
	  "  identity     TEXT NOT NULL,"
	  "  requested_us INTEGER NOT NULL,"
	  "  changed_us   INTEGER,"
	  "  state        TEXT NOT NULL,"
	  "  PRIMARY KEY (host, instance, queue_id)"
	  ");"
	  "CREATE INDEX holds_identity ON holds(identity);"
	  "ALTER TABLE action_log ADD COLUMN stdin BLOB;"
	  "ALTER TABLE action_log ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;"
	  "ALTER TABLE action_log ADD COLUMN next_us INTEGER;"
	  "CREATE INDEX action_log_status ON action_log(status);",
	  "CREATE INDEX messages_queue_id ON messages(queue_id);" },
	/*
	 * 3 -> 4: a block's end in log time and when it ended (the limits'
	 * re-arm point), for re-arming and for held mail after a block
	 */
	{ "ALTER TABLE blocks ADD COLUMN ended_us INTEGER;"
	  "ALTER TABLE blocks ADD COLUMN log_until_us INTEGER;", NULL },
};

#define SCHEMA_LATEST ((int) (sizeof(migrations) / sizeof(migrations[0])))

/* The prepared statements, in the order of stmt_sql[]. */
enum {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_ADD_MSG,
	ST_ADD_VERDICT,
	ST_GET_CURSOR,
	ST_SET_CURSOR,
	ST_COUNT_MSG,
	ST_EACH_MSG,
	ST_EACH_VERDICT,
	ST_PRUNE_MSG,
	ST_PRUNE_VERDICT,
	ST_KV_PUT,
	ST_KV_DEL,
	ST_KV_EACH,
	ST_PRUNE_SOME_MSG,
	ST_PRUNE_SOME_VERDICT,
	ST_LAST_TIME,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_ADD_MSG] = "INSERT INTO messages (time_us, host, instance, queue_id,"
		       " sasl, sender, client_ip, uid, nrcpt, removed_us)"
		       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_ADD_VERDICT] = "INSERT INTO verdicts (time_us, identity, rule, lim,"
			   " win, threshold, count, queue_id)"
			   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_GET_CURSOR] = "SELECT dev, ino, offset, fingerprint FROM cursor"
			  " WHERE log = ?1",
	[ST_SET_CURSOR] = "INSERT OR REPLACE INTO cursor (log, dev, ino, offset,"
			  " fingerprint) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_COUNT_MSG] = "SELECT count(*) FROM messages",
	[ST_EACH_MSG] = "SELECT time_us, host, instance, queue_id, sasl, sender,"
			" client_ip, uid, nrcpt FROM messages"
			" WHERE time_us >= ?1 ORDER BY time_us, id",
	[ST_EACH_VERDICT] = "SELECT time_us, identity, rule, lim, win, threshold,"
			    " count, queue_id FROM verdicts WHERE time_us >= ?1"
			    " AND (?2 IS NULL OR identity = ?2)"
			    " ORDER BY time_us, id",
	[ST_PRUNE_MSG] = "DELETE FROM messages WHERE time_us < ?1",
	[ST_PRUNE_VERDICT] = "DELETE FROM verdicts WHERE time_us < ?1",
	[ST_KV_PUT] = "INSERT OR REPLACE INTO track_state (ns, k, v) VALUES (?1, ?2, ?3)",
	[ST_KV_DEL] = "DELETE FROM track_state WHERE ns = ?1 AND k = ?2",
	[ST_KV_EACH] = "SELECT k, v FROM track_state WHERE ns = ?1 ORDER BY k",
	[ST_PRUNE_SOME_MSG] = "DELETE FROM messages WHERE id IN (SELECT id FROM messages"
			      " WHERE time_us < ?1 ORDER BY time_us LIMIT ?2)",
	[ST_PRUNE_SOME_VERDICT] = "DELETE FROM verdicts WHERE id IN (SELECT id FROM verdicts"
				  " WHERE time_us < ?1 ORDER BY time_us LIMIT ?2)",
	[ST_LAST_TIME] = "SELECT max(time_us) FROM messages",
};

struct store {
	sqlite3 *db;
	char   *path;			/* for messages: the file or ":memory:" */
	int	readonly;
	int	memory;			/* an in-memory database */
	unsigned walking;		/* 1 << ST_EACH_*: that walk is running */
	sqlite3_stmt *st[ST_COUNT];
	sqlite3_stmt *xst[32];		/* enforcement statements, prepared on first use */
};

/* seterr - format a message into err when there is room for one */
static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void) vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * dberr - "path: what: sqlite message" for result code rc.  A full disk or
 * database is reported in plain words, whatever sqlite3_errmsg()
 * holds by now.
 */
static void
dberr(const struct store *s, int rc, const char *what, char *err, size_t errlen)
{
	const char *msg;
	int	sys;

	if (s->db != NULL && ((rc & 0xff) == SQLITE_CANTOPEN
			      || (rc & 0xff) == SQLITE_IOERR)
	    && (sys = sqlite3_system_errno(s->db)) != 0) {
		seterr(err, errlen, "%s: %s: %s (%s)", s->path, what,
		       sqlite3_errstr(rc), strerror(sys));
		return;
	}
	if ((rc & 0xff) == SQLITE_FULL)
		msg = "database or disk is full (SQLITE_FULL)";
	else if (s->db != NULL && (sqlite3_extended_errcode(s->db) == rc
				   || sqlite3_errcode(s->db) == (rc & 0xff)))
		msg = sqlite3_errmsg(s->db);
	else
		msg = sqlite3_errstr(rc);
	seterr(err, errlen, "%s: %s: %s", s->path, what, msg);
}

/* nonempty - NULL for an absent (NULL or "") string */
static const char *
nonempty(const char *p)
{
	return (p != NULL && *p != 0) ? p : NULL;
}

/* bind_str - bind p as text with its exact length, or NULL when absent */
static int
bind_str(sqlite3_stmt *st, int col, const char *p)
{
	size_t	len;

	if ((p = nonempty(p)) == NULL)
		return sqlite3_bind_null(st, col);
	len = strlen(p);
	if (len > (size_t) 0x7fffffff)
		return SQLITE_TOOBIG;
	return sqlite3_bind_text(st, col, p, (int) len, SQLITE_STATIC);
}

/* col_str - a text column as a C string, NULL for SQL NULL */
static const char *
col_str(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	return (const char *) sqlite3_column_text(st, col);
}

/* done - reset a statement for its next use, dropping the bound values */
static void
done(sqlite3_stmt *st)
{
	(void) sqlite3_reset(st);
	(void) sqlite3_clear_bindings(st);
}

/*
 * run_write - step a bound statement that returns no rows, then reset it.
 * Returns 0, or -1 with err filled.
 */
static int
run_write(struct store *s, int which, const char *what, char *err,
	  size_t errlen)
{
	sqlite3_stmt *st = s->st[which];
	int	rc;

	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		if (rc == SQLITE_ROW)
			rc = SQLITE_MISUSE;
		dberr(s, rc, what, err, errlen);
		done(st);
		return -1;
	}
	done(st);
	return 0;
}

/* run_sql - run constant SQL text (never caller data); 0 or -1 with err */
static int
run_sql(struct store *s, const char *sql, const char *what, char *err,
     size_t errlen)
{
	int	rc;

	rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		dberr(s, rc, what, err, errlen);
		return -1;
	}
	return 0;
}

/* pragma_int - the integer one PRAGMA query returns; -1 with err on error */
static int64_t
pragma_int(struct store *s, const char *sql, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int64_t	v = -1;
	int	rc;

	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		dberr(s, rc, "read schema", err, errlen);
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		dberr(s, rc == SQLITE_DONE ? SQLITE_ERROR : rc, "read schema",
		      err, errlen);
	(void) sqlite3_finalize(st);
	return v;
}

/* set_journal - set the journal mode and check that SQLite took it */
static int
set_journal(struct store *s, const char *mode, char *err, size_t errlen)
{
	char	sql[64];
	sqlite3_stmt *st;
	const char *got;
	int	rc, ok = 0;

	(void) snprintf(sql, sizeof(sql), "PRAGMA journal_mode=%s", mode);
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		dberr(s, rc, "set journal mode", err, errlen);
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		got = (const char *) sqlite3_column_text(st, 0);
		if (got != NULL && strcasecmp(got, mode) == 0)
			ok = 1;
		else
			seterr(err, errlen, "%s: cannot set journal mode %s "
			       "(got %s)", s->path, mode, got ? got : "nothing");
	} else {
		dberr(s, rc == SQLITE_DONE ? SQLITE_ERROR : rc,
		      "set journal mode", err, errlen);
	}
	(void) sqlite3_finalize(st);
	return ok ? 0 : -1;
}

/*
 * migrate - bring the schema from its current version to SCHEMA_LATEST,
 * one transaction per step.  A version newer than ours is refused; a
 * read-only store must already be current.
 */
static int
migrate(struct store *s, char *err, size_t errlen)
{
	char	sql[64];
	int64_t	v;

	if ((v = pragma_int(s, "PRAGMA user_version", err, errlen)) < 0)
		return -1;
	if (v > SCHEMA_LATEST) {
		seterr(err, errlen, "%s: schema version %lld is newer than this "
		       "sendguard (%d)", s->path, (long long) v, SCHEMA_LATEST);
		return -1;
	}
	if (s->readonly) {
		if (v == 0) {
			seterr(err, errlen, "%s: not a sendguard state database "
			       "(schema version 0)", s->path);
			return -1;
		}
		if (v < SCHEMA_LATEST) {
			seterr(err, errlen, "%s: schema version %lld is older than "
			       "this sendguard (%d); open it read-write once to "
			       "upgrade", s->path, (long long) v, SCHEMA_LATEST);
			return -1;
		}
		return 0;
	}
	for (; v < SCHEMA_LATEST; v++) {
		if (run_sql(s, "BEGIN IMMEDIATE", "migrate", err, errlen) < 0)
			return -1;
		(void) snprintf(sql, sizeof(sql), "PRAGMA user_version=%lld",
				(long long) v + 1);
		if (run_sql(s, migrations[v].sql, "migrate", err, errlen) < 0
		    || (!s->memory && migrations[v].file_sql != NULL
			&& run_sql(s, migrations[v].file_sql, "migrate", err,
				errlen) < 0)
		    || run_sql(s, sql, "migrate", err, errlen) < 0
		    || run_sql(s, "COMMIT", "migrate", err, errlen) < 0) {
			if (!sqlite3_get_autocommit(s->db))
				(void) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL,
						    NULL);
			return -1;
		}
	}
	return 0;
}

/* is_memory - whether path names an in-memory database */
static int
is_memory(const char *path)
{
	return path == NULL || strcmp(path, ":memory:") == 0;
}

/* store_open - open, create and migrate a store; see store.h */
int
store_open(struct store **out, const char *path, int readonly, char *err,
	   size_t errlen)
{
	struct store *s;
	int	flags, rc, i, mem = is_memory(path);

	*out = NULL;
	if (mem && readonly) {
		seterr(err, errlen, ":memory: cannot be opened read-only");
		return -1;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL
	    || (s->path = strdup(mem ? ":memory:" : path)) == NULL) {
		seterr(err, errlen, "%s: %s", mem ? ":memory:" : path,
		       strerror(errno));
		free(s);
		return -1;
	}
	s->readonly = readonly;
	s->memory = mem;
	flags = readonly ? SQLITE_OPEN_READONLY
			 : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(s->path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		if (s->db == NULL)
			seterr(err, errlen, "%s: %s", s->path, sqlite3_errstr(rc));
		else
			dberr(s, rc, "open", err, errlen);
		store_close(s);
		return -1;
	}
	(void) sqlite3_extended_result_codes(s->db, 1);
	(void) sqlite3_busy_timeout(s->db, 5000);

	if (mem) {
		if (set_journal(s, "memory", err, errlen) < 0
		    || run_sql(s, "PRAGMA synchronous=OFF", "open", err, errlen) < 0)
			goto fail;
	} else {
		/* Reading the header first turns "not a database" into an error here. */
		if (pragma_int(s, "PRAGMA user_version", err, errlen) < 0)
			goto fail;
		if (!readonly && set_journal(s, "wal", err, errlen) < 0)
			goto fail;
		if (run_sql(s, "PRAGMA synchronous=NORMAL", "open", err, errlen) < 0)
			goto fail;
	}
	if (migrate(s, err, errlen) < 0)
		goto fail;

	for (i = 0; i < ST_COUNT; i++) {
		rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
					SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL);
		if (rc != SQLITE_OK) {
			dberr(s, rc, "prepare", err, errlen);
			goto fail;
		}
	}
	*out = s;
	return 0;

fail:
	store_close(s);
	return -1;
}

/* store_close - finalize statements, roll back an open batch, close */
void
store_close(struct store *s)
{
	int	i;

	if (s == NULL)
		return;
	if (s->db != NULL) {
		if (!sqlite3_get_autocommit(s->db))
			(void) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		for (i = 0; i < ST_COUNT; i++)
			(void) sqlite3_finalize(s->st[i]);
		for (i = 0; i < (int) (sizeof(s->xst) / sizeof(s->xst[0])); i++)
			(void) sqlite3_finalize(s->xst[i]);
		(void) sqlite3_close(s->db);
	}
	free(s->path);
	free(s);
}

/* store_begin - start a write batch (BEGIN IMMEDIATE) */
int
store_begin(struct store *s, char *err, size_t errlen)
{
	if (!sqlite3_get_autocommit(s->db)) {
		seterr(err, errlen, "%s: begin: a transaction is already open",
		       s->path);
		return -1;
	}
	return run_write(s, ST_BEGIN, "begin", err, errlen);
}

/*
 * store_commit - commit the batch.  On failure the batch may still be
 * open; the caller rolls it back.
 */
int
store_commit(struct store *s, char *err, size_t errlen)
{
	if (sqlite3_get_autocommit(s->db)) {
		seterr(err, errlen, "%s: commit: no transaction is open",
		       s->path);
		return -1;
	}
	return run_write(s, ST_COMMIT, "commit", err, errlen);
}

/*
 * store_rollback - discard the batch.  Succeeds when SQLite already rolled
 * it back by itself (as it may after SQLITE_FULL or SQLITE_IOERR).
 */
int
store_rollback(struct store *s)
{
	if (sqlite3_get_autocommit(s->db))
		return 0;
	return run_write(s, ST_ROLLBACK, "rollback", NULL, 0);
}

/* store_add_message - insert one accepted message */
int
store_add_message(struct store *s, const struct store_msg *m, char *err,
		  size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_ADD_MSG];
	int	rc;

	rc = sqlite3_bind_int64(st, 1, m->time_us);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 2, m->host);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 3, m->instance);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 4, m->queue_id);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 5, m->sasl);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 6, m->sender);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 7, m->client_ip);
	if (rc == SQLITE_OK)
		rc = m->uid < 0 ? sqlite3_bind_null(st, 8)
				: sqlite3_bind_int64(st, 8, m->uid);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 9, m->nrcpt);
	if (rc == SQLITE_OK)
		rc = m->removed_us > 0 ? sqlite3_bind_int64(st, 10, m->removed_us)
				       : sqlite3_bind_null(st, 10);
	if (rc != SQLITE_OK) {
		dberr(s, rc, "add message", err, errlen);
		done(st);
		return -1;
	}
	return run_write(s, ST_ADD_MSG, "add message", err, errlen);
}

/* store_add_verdict - insert one overrun */
int
store_add_verdict(struct store *s, const struct store_verdict *v, char *err,
		  size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_ADD_VERDICT];
	int	rc;

	if (nonempty(v->identity) == NULL) {
		seterr(err, errlen, "%s: add verdict: no identity", s->path);
		return -1;
	}
	rc = sqlite3_bind_int64(st, 1, v->time_us);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 2, v->identity);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 3, v->rule);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 4, v->limit);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 5, v->window);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 6, v->threshold);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 7, v->count);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 8, v->queue_id);
	if (rc != SQLITE_OK) {
		dberr(s, rc, "add verdict", err, errlen);
		done(st);
		return -1;
	}
	return run_write(s, ST_ADD_VERDICT, "add verdict", err, errlen);
}

/* store_get_cursor - 1 and *c filled, 0 when the log has no cursor, -1 */
int
store_get_cursor(struct store *s, const char *log, struct store_cursor *c,
		 char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_GET_CURSOR];
	const char *fp;
	size_t	len;
	int	rc;

	if (nonempty(log) == NULL) {
		seterr(err, errlen, "%s: get cursor: no log name", s->path);
		return -1;
	}
	if ((rc = bind_str(st, 1, log)) != SQLITE_OK) {
		dberr(s, rc, "get cursor", err, errlen);
		done(st);
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		done(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		dberr(s, rc, "get cursor", err, errlen);
		done(st);
		return -1;
	}
	memset(c, 0, sizeof(*c));
	c->dev = (uint64_t) sqlite3_column_int64(st, 0);
	c->ino = (uint64_t) sqlite3_column_int64(st, 1);
	c->offset = (uint64_t) sqlite3_column_int64(st, 2);
	if ((fp = col_str(st, 3)) != NULL) {
		len = (size_t) sqlite3_column_bytes(st, 3);
		if (len >= sizeof(c->fingerprint))
			len = sizeof(c->fingerprint) - 1;
		memcpy(c->fingerprint, fp, len);
		c->fingerprint[len] = 0;
	}
	done(st);
	return 1;
}

/*
 * store_set_cursor - insert or overwrite the cursor of one log.  The
 * unsigned values are stored bit-for-bit in SQLite's signed integers.
 */
int
store_set_cursor(struct store *s, const char *log, const struct store_cursor *c,
		 char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_SET_CURSOR];
	size_t	fplen;
	int	rc;

	if (nonempty(log) == NULL) {
		seterr(err, errlen, "%s: set cursor: no log name", s->path);
		return -1;
	}
	fplen = strnlen(c->fingerprint, sizeof(c->fingerprint));
	if (fplen == sizeof(c->fingerprint)) {
		seterr(err, errlen, "%s: set cursor: fingerprint is not "
		       "terminated", s->path);
		return -1;
	}
	rc = bind_str(st, 1, log);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, (sqlite3_int64) c->dev);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, (sqlite3_int64) c->ino);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, (sqlite3_int64) c->offset);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 5, c->fingerprint);
	if (rc != SQLITE_OK) {
		dberr(s, rc, "set cursor", err, errlen);
		done(st);
		return -1;
	}
	return run_write(s, ST_SET_CURSOR, "set cursor", err, errlen);
}

/* store_count_messages - rows in messages, -1 on error */
int64_t
store_count_messages(struct store *s)
{
	sqlite3_stmt *st = s->st[ST_COUNT_MSG];
	int64_t	n = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	done(st);
	return n;
}

/* fill_msg - the current row of an ST_EACH_MSG statement as a store_msg */
static void
fill_msg(sqlite3_stmt *st, struct store_msg *m)
{
	m->time_us = sqlite3_column_int64(st, 0);
	m->host = col_str(st, 1);
	m->instance = col_str(st, 2);
	m->queue_id = col_str(st, 3);
	m->sasl = col_str(st, 4);
	m->sender = col_str(st, 5);
	m->client_ip = col_str(st, 6);
	m->uid = sqlite3_column_type(st, 7) == SQLITE_NULL
		 ? -1 : (long) sqlite3_column_int64(st, 7);
	m->nrcpt = (long) sqlite3_column_int64(st, 8);
}

/*
 * walk_start - the statement for one walk: the prepared one, or, when a
 * callback of that same walk asks for another (nested) walk, a new one that
 * walk_end() finalizes.  NULL with err filled on error.
 */
static sqlite3_stmt *
walk_start(struct store *s, int which, const char *what, char *err,
	   size_t errlen)
{
	sqlite3_stmt *st;
	int	rc;

	if ((s->walking & (1u << which)) == 0) {
		s->walking |= 1u << which;
		return s->st[which];
	}
	rc = sqlite3_prepare_v2(s->db, stmt_sql[which], -1, &st, NULL);
	if (rc != SQLITE_OK) {
		dberr(s, rc, what, err, errlen);
		return NULL;
	}
	return st;
}

/* walk_end - give back what walk_start() returned */
static void
walk_end(struct store *s, int which, sqlite3_stmt *st)
{
	if (st == s->st[which]) {
		done(st);
		s->walking &= ~(1u << which);
	} else {
		(void) sqlite3_finalize(st);
	}
}

/*
 * store_each_message - call cb for each message with time_us >= since_us in
 * time order (ties in insertion order).  The strings cb sees live until cb
 * returns.  A non-zero return from cb stops the walk and is returned as is.
 * cb may call other store functions, even this one.
 */
int
store_each_message(struct store *s, int64_t since_us,
		   int (*cb)(void *ctx, const struct store_msg *), void *ctx,
		   char *err, size_t errlen)
{
	struct store_msg m;
	sqlite3_stmt *st;
	int	rc, ret = 0;

	if ((st = walk_start(s, ST_EACH_MSG, "read messages", err, errlen)) == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, since_us);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		fill_msg(st, &m);
		if ((ret = cb(ctx, &m)) != 0)
			break;
		rc = SQLITE_OK;
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		dberr(s, rc, "read messages", err, errlen);
		ret = -1;
	}
	walk_end(s, ST_EACH_MSG, st);
	return ret;
}

/*
 * store_each_verdict - call cb for each verdict with time_us >= since_us,
 * of one identity or (identity NULL) of all, in time order.  Same contract
 * as store_each_message().
 */
int
store_each_verdict(struct store *s, const char *identity, int64_t since_us,
		   int (*cb)(void *ctx, const struct store_verdict *), void *ctx,
		   char *err, size_t errlen)
{
	struct store_verdict v;
	sqlite3_stmt *st;
	int	rc, ret = 0;

	if ((st = walk_start(s, ST_EACH_VERDICT, "read verdicts", err,
			     errlen)) == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, since_us);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 2, identity);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		v.time_us = sqlite3_column_int64(st, 0);
		v.identity = col_str(st, 1);
		v.rule = col_str(st, 2);
		v.limit = col_str(st, 3);
		v.window = col_str(st, 4);
		v.threshold = (long) sqlite3_column_int64(st, 5);
		v.count = (long) sqlite3_column_int64(st, 6);
		v.queue_id = col_str(st, 7);
		if ((ret = cb(ctx, &v)) != 0)
			break;
		rc = SQLITE_OK;
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		dberr(s, rc, "read verdicts", err, errlen);
		ret = -1;
	}
	walk_end(s, ST_EACH_VERDICT, st);
	return ret;
}

/* store_prune - delete messages and verdicts older than before_us */
int
store_prune(struct store *s, int64_t before_us, char *err, size_t errlen)
{
	int	rc;

	if ((rc = sqlite3_bind_int64(s->st[ST_PRUNE_MSG], 1, before_us)) != SQLITE_OK
	    || (rc = sqlite3_bind_int64(s->st[ST_PRUNE_VERDICT], 1, before_us))
	       != SQLITE_OK) {
		dberr(s, rc, "prune", err, errlen);
		done(s->st[ST_PRUNE_MSG]);
		done(s->st[ST_PRUNE_VERDICT]);
		return -1;
	}
	if (run_write(s, ST_PRUNE_MSG, "prune messages", err, errlen) < 0) {
		done(s->st[ST_PRUNE_VERDICT]);
		return -1;
	}
	return run_write(s, ST_PRUNE_VERDICT, "prune verdicts", err, errlen);
}

/* store_limit_size - cap the database at about max_bytes; see store.h */
int
store_limit_size(struct store *s, int64_t max_bytes, char *err, size_t errlen)
{
	char	sql[64];
	int64_t	page, pages;

	if (max_bytes <= 0) {
		seterr(err, errlen, "%s: limit size: %lld is not a size",
		       s->path, (long long) max_bytes);
		return -1;
	}
	if ((page = pragma_int(s, "PRAGMA page_size", err, errlen)) <= 0)
		return -1;
	pages = max_bytes / page;
	if (pages < 1)
		pages = 1;
	if (pages > 0xfffffffe)
		pages = 0xfffffffe;
	(void) snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%lld",
			(long long) pages);
	if (pragma_int(s, sql, err, errlen) < 0)
		return -1;
	return 0;
}

/* store_schema_version - PRAGMA user_version, -1 on error */
int
store_schema_version(struct store *s)
{
	return (int) pragma_int(s, "PRAGMA user_version", NULL, 0);
}

/* store_schema_latest - the version this sendguard migrates to */
int
store_schema_latest(void)
{
	return SCHEMA_LATEST;
}

/* store_kv_put - insert or replace (ns, key) -> val in track_state */
int
store_kv_put(struct store *s, int ns, const void *key, size_t klen,
	     const void *val, size_t vlen, char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_KV_PUT];
	int	rc;

	if ((rc = sqlite3_bind_int(st, 1, ns)) != SQLITE_OK ||
	    (rc = sqlite3_bind_blob(st, 2, key, (int) klen, SQLITE_TRANSIENT)) != SQLITE_OK ||
	    (rc = sqlite3_bind_blob(st, 3, vlen ? val : "", (int) vlen, SQLITE_TRANSIENT)) != SQLITE_OK) {
		dberr(s, rc, "save state", err, errlen);
		done(st);
		return -1;
	}
	return run_write(s, ST_KV_PUT, "save state", err, errlen);
}

/* store_kv_del - delete (ns, key) from track_state; absent is not an error */
int
store_kv_del(struct store *s, int ns, const void *key, size_t klen, char *err,
	     size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_KV_DEL];
	int	rc;

	if ((rc = sqlite3_bind_int(st, 1, ns)) != SQLITE_OK ||
	    (rc = sqlite3_bind_blob(st, 2, key, (int) klen, SQLITE_TRANSIENT)) != SQLITE_OK) {
		dberr(s, rc, "save state", err, errlen);
		done(st);
		return -1;
	}
	return run_write(s, ST_KV_DEL, "save state", err, errlen);
}

/*
 * store_kv_each - call cb for every entry of ns in key order (memcmp);
 * a non-zero return from cb stops the walk and is returned.
 */
int
store_kv_each(struct store *s, int ns, int (*cb)(void *ctx, const void *key,
	      size_t klen, const void *val, size_t vlen), void *ctx, char *err,
	      size_t errlen)
{
	sqlite3_stmt *st;
	int	rc, ret = 0;

	if ((st = walk_start(s, ST_KV_EACH, "read state", err, errlen)) == NULL)
		return -1;
	rc = sqlite3_bind_int(st, 1, ns);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const void *k = sqlite3_column_blob(st, 0);
		size_t kn = (size_t) sqlite3_column_bytes(st, 0);
		const void *v = sqlite3_column_blob(st, 1);
		size_t vn = (size_t) sqlite3_column_bytes(st, 1);

		if ((ret = cb(ctx, k ? k : "", kn, v ? v : "", vn)) != 0)
			break;
		rc = SQLITE_OK;
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		dberr(s, rc, "read state", err, errlen);
		ret = -1;
	}
	walk_end(s, ST_KV_EACH, st);
	return ret;
}

/*
 * store_prune_some - delete at most limit messages and limit verdicts older
 * than before_us, oldest first.  Returns how many rows went, or -1.
 */
int64_t
store_prune_some(struct store *s, int64_t before_us, int64_t limit, char *err,
		 size_t errlen)
{
	int64_t	n = 0;
	int	which[2] = { ST_PRUNE_SOME_MSG, ST_PRUNE_SOME_VERDICT };
	int	i, rc;

	for (i = 0; i < 2; i++) {
		sqlite3_stmt *st = s->st[which[i]];

		if ((rc = sqlite3_bind_int64(st, 1, before_us)) != SQLITE_OK ||
		    (rc = sqlite3_bind_int64(st, 2, limit)) != SQLITE_OK) {
			dberr(s, rc, "prune", err, errlen);
			done(st);
			return -1;
		}
		if (run_write(s, which[i], "prune", err, errlen) < 0)
			return -1;
		n += sqlite3_changes(s->db);
	}
	return n;
}

/* store_last_message_time - newest message time; 0 with *t = INT64_MIN when none */
int
store_last_message_time(struct store *s, int64_t *t, char *err, size_t errlen)
{
	sqlite3_stmt *st = s->st[ST_LAST_TIME];
	int	rc;

	*t = INT64_MIN;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) != SQLITE_NULL)
			*t = sqlite3_column_int64(st, 0);
		done(st);
		return 0;
	}
	dberr(s, rc, "read messages", err, errlen);
	done(st);
	return -1;
}

/*
 * Enforcement: removed messages, blocks, holds and the job queue.
 * Statements are constant SQL prepared on first use; every value from the
 * log or the control socket is bound.
 */
enum {
	/* the X_QUEUED_ and X_RECENT_ families are in the order of enum ident_kind */
	X_MARK_REMOVED, X_QUEUED_SASL, X_QUEUED_UID, X_QUEUED_SENDER, X_QUEUED_IP,
	X_QUEUED_SASL_DOMAIN, X_QUEUED_SENDER_DOMAIN,
	X_RECENT_SASL, X_RECENT_UID, X_RECENT_SENDER, X_RECENT_IP,
	X_RECENT_SASL_DOMAIN, X_RECENT_SENDER_DOMAIN,
	X_GET_BLOCK, X_PUT_BLOCK, X_EACH_BLOCK, X_ADD_HOLD, X_HOLD_STATE,
	X_EACH_HOLD, X_COUNT_HOLDS, X_EACH_ON_HOLD, X_ADD_JOB, X_UPDATE_JOB, X_EACH_JOB,
	X_EACH_JOB_ID, X_HOLDS_STATE_IDENT, X_COUNT
};

static const char *const xsql[X_COUNT] = {
	[X_MARK_REMOVED] = "UPDATE messages SET removed_us = ?1 WHERE queue_id = ?2"
			   " AND host IS ?3 AND instance IS ?4 AND removed_us IS NULL",
#define QUEUED(col) "SELECT time_us, host, instance, queue_id, sasl, sender," \
	" client_ip, uid, nrcpt FROM messages WHERE " col " = ?1 AND time_us >= ?2" \
	" AND removed_us IS NULL ORDER BY time_us, id"
	[X_QUEUED_SASL] = QUEUED("sasl"),
	[X_QUEUED_UID] = QUEUED("uid"),
	[X_QUEUED_SENDER] = QUEUED("sender"),
	[X_QUEUED_IP] = QUEUED("client_ip"),
	/* a domain's logins or senders: the value ends in "@" and the domain */
#define DOMAIN_OF(col) "substr(" col ", -length(?1) - 1) = '@' || ?1"
	[X_QUEUED_SASL_DOMAIN] = "SELECT time_us, host, instance, queue_id, sasl, sender,"
	    " client_ip, uid, nrcpt FROM messages WHERE " DOMAIN_OF("sasl")
	    " AND time_us >= ?2 AND removed_us IS NULL ORDER BY time_us, id",
	[X_QUEUED_SENDER_DOMAIN] = "SELECT time_us, host, instance, queue_id, sasl, sender,"
	    " client_ip, uid, nrcpt FROM messages WHERE " DOMAIN_OF("sender")
	    " AND time_us >= ?2 AND removed_us IS NULL ORDER BY time_us, id",
#define RECENT(col) "SELECT time_us, host, instance, queue_id, sasl, sender," \
	" client_ip, uid, nrcpt, removed_us FROM (SELECT * FROM messages WHERE " col \
	" = ?1 ORDER BY time_us DESC, id DESC LIMIT ?2) ORDER BY time_us, id"
	[X_RECENT_SASL] = RECENT("sasl"),
	[X_RECENT_UID] = RECENT("uid"),
	[X_RECENT_SENDER] = RECENT("sender"),
	[X_RECENT_IP] = RECENT("client_ip"),
#define RECENT_WHERE(cond) "SELECT time_us, host, instance, queue_id, sasl, sender," \
	" client_ip, uid, nrcpt, removed_us FROM (SELECT * FROM messages WHERE " cond \
	" ORDER BY time_us DESC, id DESC LIMIT ?2) ORDER BY time_us, id"
	[X_RECENT_SASL_DOMAIN] = RECENT_WHERE(DOMAIN_OF("sasl")),
	[X_RECENT_SENDER_DOMAIN] = RECENT_WHERE(DOMAIN_OF("sender")),
	[X_GET_BLOCK] = "SELECT identity, rule, since_us, until_us, count, state,"
			" ended_us, log_until_us FROM blocks WHERE identity = ?1",
	[X_PUT_BLOCK] = "INSERT OR REPLACE INTO blocks (identity, rule, since_us,"
			" until_us, count, state, ended_us, log_until_us) VALUES (?1, ?2,"
			" ?3, ?4, ?5, ?6, NULLIF(?7, 0), NULLIF(?8, 0))",
	[X_EACH_BLOCK] = "SELECT identity, rule, since_us, until_us, count, state,"
			 " ended_us, log_until_us FROM blocks WHERE (?1 IS NULL OR"
			 " state = ?1) ORDER BY identity",
	[X_ADD_HOLD] = "INSERT OR IGNORE INTO holds (host, instance, queue_id, identity,"
		       " requested_us, state) VALUES (?1, ?2, ?3, ?4, ?5, 'requested')",
	[X_HOLD_STATE] = "UPDATE holds SET state = ?1, changed_us = ?2 WHERE queue_id = ?3"
			 " AND host = ?4 AND (?5 = '' OR instance = ?5)",
	[X_EACH_HOLD] = "SELECT host, instance, queue_id, identity, requested_us,"
			" changed_us, state FROM holds WHERE identity = ?1"
			" AND (?2 IS NULL OR state = ?2) ORDER BY requested_us",
	[X_EACH_ON_HOLD] = "SELECT h.identity, count(*), min(h.requested_us), b.state,"
			   " b.until_us, b.ended_us FROM holds h LEFT JOIN blocks b"
			   " ON b.identity = h.identity WHERE h.state IN ('requested', 'held')"
			   " GROUP BY h.identity ORDER BY h.identity",
	[X_COUNT_HOLDS] = "SELECT count(*) FROM holds WHERE identity = ?1"
			  " AND state IN ('requested', 'held')",
	[X_ADD_JOB] = "INSERT INTO action_log (time_us, identity, action, argv, stdin,"
		      " status, outcome, attempts, next_us) VALUES (?1, ?2, ?3, ?4, ?5,"
		      " ?6, ?7, 0, ?8)",
	[X_UPDATE_JOB] = "UPDATE action_log SET status = ?2, attempts = ?3, next_us = ?4,"
			 " outcome = ?5 WHERE id = ?1",
	[X_EACH_JOB] = "SELECT id, time_us, identity, action, argv, stdin, status,"
		       " attempts, next_us, outcome FROM action_log WHERE"
		       " (?1 IS NULL OR identity = ?1) AND (?2 IS NULL OR status = ?2)"
		       " ORDER BY id",
	[X_HOLDS_STATE_IDENT] = "UPDATE holds SET state = ?1, changed_us = ?2 WHERE identity = ?3"
				" AND state IN ('requested', 'held')",
	[X_EACH_JOB_ID] = "SELECT id, time_us, identity, action, argv, stdin, status,"
			  " attempts, next_us, outcome FROM action_log WHERE id = ?1",
};

/* xstmt - the prepared statement i, preparing it on first use */
static sqlite3_stmt *
xstmt(struct store *s, int i, char *err, size_t errlen)
{
	int	rc;

	if (s->xst[i] != NULL)
		return s->xst[i];
	rc = sqlite3_prepare_v3(s->db, xsql[i], -1, SQLITE_PREPARE_PERSISTENT,
				&s->xst[i], NULL);
	if (rc != SQLITE_OK) {
		dberr(s, rc, "prepare", err, errlen);
		s->xst[i] = NULL;
		return NULL;
	}
	return s->xst[i];
}

/* xstep_write - step a write statement, reset it; 0 or -1 */
static int
xstep_write(struct store *s, sqlite3_stmt *st, int rc, const char *what, char *err,
	    size_t errlen)
{
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			rc = SQLITE_MISUSE;
	}
	if (rc != SQLITE_DONE) {
		dberr(s, rc, what, err, errlen);
		done(st);
		return -1;
	}
	done(st);
	return 0;
}

/* bind_str_empty - like bind_str but "" (never NULL) for absent */
static int
bind_str_empty(sqlite3_stmt *st, int col, const char *p)
{
	return sqlite3_bind_text(st, col, p ? p : "", -1, SQLITE_TRANSIENT);
}

int
store_mark_removed(struct store *s, const char *host, const char *instance,
		   const char *qid, int64_t time_us, char *err, size_t errlen)
{
	sqlite3_stmt *st = xstmt(s, X_MARK_REMOVED, err, errlen);
	int	rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, time_us);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 2, qid);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 3, host);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 4, instance);
	return xstep_write(s, st, rc, "mark removed", err, errlen);
}

/* ident_stmt - the statement of family base for identity "kind:value"; binds ?1 */
static sqlite3_stmt *
ident_stmt(struct store *s, int base, const char *identity, char *err, size_t errlen)
{
	enum ident_kind k;
	const char *v, *why;
	sqlite3_stmt *st;
	int	rc;

	if (ident_parse(identity, &k, &v, &why) < 0) {
		seterr(err, errlen, "%.200s: not an identity: %s", identity, why);
		return NULL;
	}
	if ((st = xstmt(s, base + (int) k, err, errlen)) == NULL)
		return NULL;
	if (k == IDENT_UID) {
		char   *end;
		long long uid;

		errno = 0;
		uid = strtoll(v, &end, 10);
		if (*end != '\0' || errno != 0) {
			seterr(err, errlen, "%.200s: not a uid", identity);
			return NULL;
		}
		rc = sqlite3_bind_int64(st, 1, uid);
	} else
		rc = sqlite3_bind_text(st, 1, v, -1, SQLITE_TRANSIENT);
	if (rc != SQLITE_OK) {
		dberr(s, rc, "bind", err, errlen);
		done(st);
		return NULL;
	}
	return st;
}

static int
walk_msgs(struct store *s, sqlite3_stmt *st, int with_removed,
	  int (*cb)(void *, const struct store_msg *), void *ctx, const char *what,
	  char *err, size_t errlen)
{
	struct store_msg m;
	int	rc, ret = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&m, 0, sizeof(m));
		fill_msg(st, &m);
		m.removed_us = with_removed && sqlite3_column_type(st, 9) != SQLITE_NULL
		    ? sqlite3_column_int64(st, 9) : 0;
		if ((ret = cb(ctx, &m)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		dberr(s, rc, what, err, errlen);
		ret = -1;
	}
	done(st);
	return ret;
}

int
store_each_queued(struct store *s, const char *identity, int64_t since_us,
		  int (*cb)(void *, const struct store_msg *), void *ctx, char *err,
		  size_t errlen)
{
	sqlite3_stmt *st = ident_stmt(s, X_QUEUED_SASL, identity, err, errlen);

	if (st == NULL)
		return -1;
	if (sqlite3_bind_int64(st, 2, since_us) != SQLITE_OK) {
		done(st);
		return -1;
	}
	return walk_msgs(s, st, 0, cb, ctx, "read queued messages", err, errlen);
}

int
store_each_recent(struct store *s, const char *identity, int limit,
		  int (*cb)(void *, const struct store_msg *), void *ctx, char *err,
		  size_t errlen)
{
	sqlite3_stmt *st = ident_stmt(s, X_RECENT_SASL, identity, err, errlen);

	if (st == NULL)
		return -1;
	if (sqlite3_bind_int(st, 2, limit) != SQLITE_OK) {
		done(st);
		return -1;
	}
	return walk_msgs(s, st, 1, cb, ctx, "read messages", err, errlen);
}

static void
fill_block(sqlite3_stmt *st, struct store_block *b)
{
	b->identity = col_str(st, 0);
	b->rule = col_str(st, 1);
	b->since_us = sqlite3_column_int64(st, 2);
	b->until_us = sqlite3_column_int64(st, 3);
	b->count = (long) sqlite3_column_int64(st, 4);
	b->state = col_str(st, 5);
	b->ended_us = sqlite3_column_int64(st, 6);	/* NULL reads as 0 */
	b->log_until_us = sqlite3_column_int64(st, 7);
}

int
store_get_block(struct store *s, const char *identity, struct store_block *b,
		char *buf, size_t buflen, char *err, size_t errlen)
{
	sqlite3_stmt *st = xstmt(s, X_GET_BLOCK, err, errlen);
	int	rc;

	if (st == NULL)
		return -1;
	if ((rc = sqlite3_bind_text(st, 1, identity, -1, SQLITE_TRANSIENT)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_ROW) {
		if (rc == SQLITE_DONE) {
			done(st);
			return 0;
		}
		dberr(s, rc, "read block", err, errlen);
		done(st);
		return -1;
	}
	fill_block(st, b);
	/* copy the strings out: the row goes at done() */
	{
		const char *id = b->identity ? b->identity : "", *ru = b->rule ? b->rule : "";
		const char *sta = b->state ? b->state : "";
		size_t	a = strlen(id) + 1, c = strlen(ru) + 1, d = strlen(sta) + 1;

		if (a + c + d > buflen) {
			seterr(err, errlen, "%s: read block: identity too long", s->path);
			done(st);
			return -1;
		}
		memcpy(buf, id, a);
		memcpy(buf + a, ru, c);
		memcpy(buf + a + c, sta, d);
		b->identity = buf;
		b->rule = buf + a;
		b->state = buf + a + c;
	}
	done(st);
	return 1;
}

int
store_put_block(struct store *s, const struct store_block *b, char *err, size_t errlen)
{
	sqlite3_stmt *st = xstmt(s, X_PUT_BLOCK, err, errlen);
	int	rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, b->identity, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 2, b->rule);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, b->since_us);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, b->until_us);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 5, b->count);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 6, b->state, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 7, b->ended_us);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 8, b->log_until_us);
	return xstep_write(s, st, rc, "save block", err, errlen);
}

int
store_each_block(struct store *s, const char *state,
		 int (*cb)(void *, const struct store_block *), void *ctx, char *err,
		 size_t errlen)
{
	sqlite3_stmt *st = xstmt(s, X_EACH_BLOCK, err, errlen);
	struct store_block b;
	int	rc, ret = 0;

	if (st == NULL)
		return -1;
	rc = bind_str(st, 1, state);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		fill_block(st, &b);
		if ((ret = cb(ctx, &b)) != 0)
			break;
		rc = SQLITE_OK;
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		dberr(s, rc, "read blocks", err, errlen);
		ret = -1;
	}
	done(st);
	return ret;
}

int
store_add_hold(struct store *s, const struct store_hold *h, char *err, size_t errlen)
{
	sqlite3_stmt *st = xstmt(s, X_ADD_HOLD, err, errlen);
	int	rc;

	if (st == NULL)
		return -1;
	rc = bind_str_empty(st, 1, h->host);
	if (rc == SQLITE_OK)
		rc = bind_str_empty(st, 2, h->instance);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, h->queue_id, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 4, h->identity, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 5, h->requested_us);
	return xstep_write(s, st, rc, "save hold", err, errlen);
}

int
store_hold_state(struct store *s, const char *host, const char *instance,
		 const char *qid, const char *state, int64_t time_us, char *err,
		 size_t errlen)
{
	sqlite3_stmt *st = xstmt(s, X_HOLD_STATE, err, errlen);
	int	rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, state, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, time_us);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, qid, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = bind_str_empty(st, 4, host);
	if (rc == SQLITE_OK)
		rc = bind_str_empty(st, 5, instance);
	return xstep_write(s, st, rc, "save hold", err, errlen);
}

int
store_each_hold(struct store *s, const char *identity, const char *state,
		int (*cb)(void *, const struct store_hold *), void *ctx, char *err,
		size_t errlen)
{
	sqlite3_stmt *st = xstmt(s, X_EACH_HOLD, err, errlen);
	struct store_hold h;
	int	rc, ret = 0;

	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, identity, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 2, state);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		h.host = col_str(st, 0);
		h.instance = col_str(st, 1);
		h.queue_id = col_str(st, 2);
		h.identity = col_str(st, 3);
		h.requested_us = sqlite3_column_int64(st, 4);
		h.changed_us = sqlite3_column_type(st, 5) == SQLITE_NULL ? 0 :
		    sqlite3_column_int64(st, 5);
		h.state = col_str(st, 6);
		if ((ret = cb(ctx, &h)) != 0)
			break;
		rc = SQLITE_OK;
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		dberr(s, rc, "read holds", err, errlen);
		ret = -1;
	}
	done(st);
	return ret;
}

int64_t
store_count_holds(struct store *s, const char *identity)
{
	sqlite3_stmt *st = xstmt(s, X_COUNT_HOLDS, NULL, 0);
	int64_t	n = -1;

	if (st == NULL)
		return -1;
	if (sqlite3_bind_text(st, 1, identity, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	done(st);
	return n;
}

int
store_each_on_hold(struct store *s, int (*cb)(void *, const struct store_on_hold *), void *ctx,
		   char *err, size_t errlen)
{
	sqlite3_stmt *st = xstmt(s, X_EACH_ON_HOLD, err, errlen);
	struct store_on_hold h;
	int	rc, ret = 0;

	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		h.identity = col_str(st, 0);
		h.held = sqlite3_column_int64(st, 1);
		h.since_us = sqlite3_column_int64(st, 2);
		h.block_state = col_str(st, 3);
		h.until_us = sqlite3_column_int64(st, 4);
		h.ended_us = sqlite3_column_int64(st, 5);
		if ((ret = cb(ctx, &h)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		dberr(s, rc, "read holds", err, errlen);
		ret = -1;
	}
	done(st);
	return ret;
}

int64_t
store_add_job(struct store *s, const struct store_job *j, char *err, size_t errlen)
{
	sqlite3_stmt *st = xstmt(s, X_ADD_JOB, err, errlen);
	int	rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, j->time_us);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, j->identity ? j->identity : "", -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, j->action, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, 4, j->argv ? j->argv : "", (int) j->argv_len,
				       SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = j->stdin_data ? sqlite3_bind_blob(st, 5, j->stdin_data,
		    (int) j->stdin_len, SQLITE_TRANSIENT) : sqlite3_bind_null(st, 5);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 6, j->status, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 7, j->outcome);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 8, j->next_us);
	if (xstep_write(s, st, rc, "save action", err, errlen) < 0)
		return -1;
	return sqlite3_last_insert_rowid(s->db);
}

int
store_update_job(struct store *s, int64_t id, const char *status, int attempts,
		 int64_t next_us, const char *outcome, char *err, size_t errlen)
{
	sqlite3_stmt *st = xstmt(s, X_UPDATE_JOB, err, errlen);
	int	rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, status, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 3, attempts);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, next_us);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 5, outcome);
	return xstep_write(s, st, rc, "save action", err, errlen);
}

static int
walk_jobs(struct store *s, sqlite3_stmt *st, int rc,
	  int (*cb)(void *, const struct store_job *), void *ctx, char *err, size_t errlen)
{
	struct store_job j;
	int	ret = 0;

	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&j, 0, sizeof(j));
		j.id = sqlite3_column_int64(st, 0);
		j.time_us = sqlite3_column_int64(st, 1);
		j.identity = col_str(st, 2);
		j.action = col_str(st, 3);
		j.argv = sqlite3_column_blob(st, 4);
		j.argv_len = (size_t) sqlite3_column_bytes(st, 4);
		j.stdin_data = sqlite3_column_blob(st, 5);
		j.stdin_len = (size_t) sqlite3_column_bytes(st, 5);
		j.status = col_str(st, 6);
		j.attempts = sqlite3_column_int(st, 7);
		j.next_us = sqlite3_column_int64(st, 8);
		j.outcome = col_str(st, 9);
		if ((ret = cb(ctx, &j)) != 0)
			break;
		rc = SQLITE_OK;
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		dberr(s, rc, "read actions", err, errlen);
		ret = -1;
	}
	done(st);
	return ret;
}

int
store_each_job(struct store *s, const char *identity, const char *status,
	       int (*cb)(void *, const struct store_job *), void *ctx, char *err,
	       size_t errlen)
{
	sqlite3_stmt *st = xstmt(s, X_EACH_JOB, err, errlen);
	int	rc;

	if (st == NULL)
		return -1;
	rc = bind_str(st, 1, identity);
	if (rc == SQLITE_OK)
		rc = bind_str(st, 2, status);
	return walk_jobs(s, st, rc, cb, ctx, err, errlen);
}

int
store_get_job(struct store *s, int64_t id, int (*cb)(void *, const struct store_job *),
	      void *ctx, char *err, size_t errlen)
{
	sqlite3_stmt *st = xstmt(s, X_EACH_JOB_ID, err, errlen);

	if (st == NULL)
		return -1;
	return walk_jobs(s, st, sqlite3_bind_int64(st, 1, id), cb, ctx, err, errlen);
}

int
store_holds_set_state(struct store *s, const char *identity, const char *state,
		      int64_t time_us, char *err, size_t errlen)
{
	sqlite3_stmt *st = xstmt(s, X_HOLDS_STATE_IDENT, err, errlen);
	int	rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_bind_text(st, 1, state, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, time_us);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, identity, -1, SQLITE_TRANSIENT);
	return xstep_write(s, st, rc, "save hold", err, errlen);
}
