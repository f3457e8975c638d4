/*
 * NAME
 *	store - SQLite persistence for sendguard: the core
 * SUMMARY
 *	Opens (and creates and migrates) the state database and runs the
 *	statements of both halves of the store: store_count.c (messages,
 *	verdicts, the cursor, key/value state) and store_enforce.c (blocks,
 *	holds, the job queue).  Exports store_open(), store_close(),
 *	store_begin(), store_commit(), store_rollback(), store_limit_size(),
 *	store_cache_size(), store_schema_version() and store_schema_latest() of store.h, and to
 *	the halves (store_priv.h) store_run(), store_walk(), store_put(),
 *	store_row(), store_int_row(), store_seterr() and the column readers.
 *
 *	Every statement is one row of store_sql[]: a label for errors and
 *	constant SQL, prepared on its first use and kept
 *	(sqlite3_reset()/sqlite3_clear_bindings() between uses) until
 *	store_close().  Statements without rows go through store_run(),
 *	statements with rows through store_walk(), the one loop that steps
 *	rows and hands each to a row function.  A struct of store.h is
 *	described once by a row map (store_priv.h): store_row() fills it
 *	from a row, store_put() binds it as parameters.
 *
 *	The schema version lives in PRAGMA user_version; store_schema.c
 *	holds one SQL step per version, each applied in its own transaction.  A
 *	file is checked before SQLite sees it (store_file.c: no symbolic
 *	link, not empty, an SQLite header, private modes) and opened with
 *	SQLITE_OPEN_NOFOLLOW; an SQLite database that is not sendguard's
 *	(tables but no schema version, or a version without our tables) is
 *	refused, never migrated.  store_begin() tells a write lock that
 *	another process held past the busy timeout (STORE_BUSY) from a
 *	failure, so the daemon can wait instead of stopping.  File
 *	databases run in WAL mode with synchronous=NORMAL; in-memory ones
 *	(audits) trade durability for speed.
 *	store_ckpt.c moves the WAL's checkpoints onto a thread (the daemon).
 * RETURNS
 *	0 (or a documented value) on success, -1 with "path: sqlite message"
 *	(or "path: what: sqlite message") in the caller's err buffer.  Never
 *	prints, never exits.
 * UNTRUSTED INPUT
 *	Every string from the log (host, queue ID, login, sender, address,
 *	identity, log path) is bound as a parameter with its exact length;
 *	no caller-supplied text is ever pasted into SQL.  Bytes are stored
 *	as given (no UTF-8 validation) and read back byte-exact.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store_priv.h"
#include "util/ident.h"

#define SCHEMA_LATEST store_nmigrations

/*
 * The columns of a table in the order of its row map (store_count.c,
 * store_enforce.c): what its walkers read and, where a statement writes
 * the whole map, what it writes, so that ?N is the map's N-th field.
 */
#define MSG_COLS "time_us, host, instance, queue_id, sasl, sender, client_ip, uid, nrcpt"
#define VERDICT_COLS "time_us, identity, rule, lim, win, threshold, count, queue_id"
#define BLOCK_COLS "identity, rule, since_us, until_us, count, state, ended_us, log_until_us, ips"
#define BOUNCE_COLS "time_us, host, instance, queue_id, sasl, sender, client_ip, uid, n, msg_us"
#define HOLD_COLS "host, instance, queue_id, identity, requested_us, changed_us, state"
#define JOB_COLS "id, time_us, identity, action, argv, stdin, status, attempts, next_us, outcome"
#define CMSG_COLS "id, node, " MSG_COLS
#define DECISION_COLS "id, time_us, kind, identity, rule, until_us, mode"
/*
 * The messages of an identity "kind:value", one statement per kind: the rows
 * from ?2 on still queued (then removed_us, NULL here, and the id: store_kept.c
 * merges a batch's kept messages in by (time_us, id)), or the newest ?2 with removed_us.
 */
#define QUEUED(cond) \
	"SELECT " MSG_COLS ", NULL, id FROM messages WHERE " cond \
	" AND time_us >= ?2 AND removed_us IS NULL ORDER BY time_us, id"
/*
 * Who sent the messages of an identity when, for status: this node's
 * (node NULL) and the other nodes' of the cluster, from ?2 on.
 */
#define NODES(cond) \
	"SELECT NULL, time_us FROM messages WHERE " cond " AND time_us >= ?2" \
	" UNION ALL SELECT node, time_us FROM remote WHERE " cond " AND time_us >= ?2"
/* At most ?2 rows of table t older than ?1, the first by order */
#define PRUNE_SOME(t, order) \
	"DELETE FROM " t " WHERE id IN (SELECT id FROM " t " WHERE time_us < ?1" \
	" ORDER BY " order " LIMIT ?2)"
#define RECENT(cond) \
	"SELECT " MSG_COLS ", removed_us FROM (SELECT * FROM" \
	" messages WHERE " cond " ORDER BY time_us DESC, id DESC LIMIT ?2)" \
	" ORDER BY time_us, id"
/*
 * store_each_recent()'s quick path (store_count.c): an identity's
 * messages as RECENT gives them, and their ids, newest id first (the
 * identity's index read backwards, no sort)
 */
#define RECENT_BYID(cond) \
	"SELECT " MSG_COLS ", removed_us, id FROM messages WHERE " cond " ORDER BY id DESC"
/* an identity's delivery outcomes and distinct senders, of messages from ?2 on */
#define DELIVERIES(cond) \
	"SELECT count(*), total(delivered), total(deferred), total(bounced)," \
	" count(DISTINCT sender) FROM messages WHERE " cond " AND time_us >= ?2"
/* an identity's client IPs: messages, first and last; the ?2 with most messages */
#define CLIENTS(cond) \
	"SELECT client_ip, count(*), min(time_us), max(time_us) FROM messages" \
	" WHERE " cond " AND client_ip IS NOT NULL GROUP BY client_ip" \
	" ORDER BY count(*) DESC, max(time_us) DESC, client_ip LIMIT ?2"
/* a domain's logins or senders: the value ends in "@" and the domain */
#define DOMAIN_OF(col) "substr(" col ", -length(?1) - 1) = '@' || ?1"
/* IDENT_FAMILY - the statements of family base, one per enum ident_kind */
#define IDENT_FAMILY(base, what, F) \
	[(base) + IDENT_SASL] = { (what), F("sasl = ?1") }, \
		  [(base) + IDENT_UID] = { (what), F("uid = ?1") }, \
		  [(base) + IDENT_SENDER] = { (what), F("sender = ?1") }, \
		  [(base) + IDENT_IP] = { (what), F("client_ip = ?1") }, \
		  [(base) + IDENT_SASL_DOMAIN] = { (what), F(DOMAIN_OF("sasl")) }, \
		  [(base) + IDENT_SENDER_DOMAIN] = { (what), F(DOMAIN_OF("sender")) }
_Static_assert(ST_QUEUED_SENDER_DOMAIN - ST_QUEUED_SASL == IDENT_KINDS - 1 &&
	ST_RECENT_SENDER_DOMAIN - ST_RECENT_SASL == IDENT_KINDS - 1 &&
	ST_DELIV_SENDER_DOMAIN - ST_DELIV_SASL == IDENT_KINDS - 1 &&
	ST_CLIENTS_SENDER_DOMAIN - ST_CLIENTS_SASL == IDENT_KINDS - 1 &&
	ST_NODES_SENDER_DOMAIN - ST_NODES_SASL == IDENT_KINDS - 1 &&
	ST_RECENT_BYID_SENDER_DOMAIN - ST_RECENT_BYID_SASL == IDENT_KINDS - 1,
    "a family has one statement per identity kind");

/* BULK_ROWS - STORE_BULK_ROWS rows of 14 anonymous parameters (ST_BULK_MSGS, ST_KEPT_MSGS) */
#define BULK_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define BULK_ROWS4 BULK_ROW ", " BULK_ROW ", " BULK_ROW ", " BULK_ROW
#define BULK_ROWS BULK_ROWS4 ", " BULK_ROWS4 ", " BULK_ROWS4 ", " BULK_ROWS4

/*
 * store_sql - the one statement table: what each statement does (for
 * error messages) and its constant SQL, values bound as ?N
 */
static const struct {
	const char *what, *sql;
} store_sql[ST_COUNT] = {
	[ST_BEGIN] = { "begin", "BEGIN IMMEDIATE" },
	[ST_COMMIT] = { "commit", "COMMIT" },
	[ST_ROLLBACK] = { "rollback", "ROLLBACK" },

	[ST_ADD_MSG] = { "add message",
	    "INSERT INTO messages (" MSG_COLS ", removed_us)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)" },
	[ST_ADD_VERDICT] = { "add verdict",
	    "INSERT INTO verdicts (" VERDICT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)" },
	[ST_GET_CURSOR] = { "get cursor",
	    "SELECT dev, ino, offset, fingerprint, journal, time_us FROM cursor WHERE log = ?1" },
	[ST_SET_CURSOR] = { "set cursor",
	    "INSERT OR REPLACE INTO cursor (log, dev, ino, offset, fingerprint, journal, time_us)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)" },
	[ST_COUNT_MSG] = { "count messages", "SELECT count(*) FROM messages" },
	/* this node's messages and the cluster's others, merged by time (columns 11, 12: the tie) */
	[ST_EACH_MSG] = { "read messages",
	    "SELECT " MSG_COLS ", NULL, 0, id FROM messages WHERE time_us >= ?1"
	    " UNION ALL SELECT " MSG_COLS ", NULL, 1, id FROM remote"
	    " WHERE time_us >= ?1 ORDER BY 1, 11, 12" },
	[ST_EACH_VERDICT] = { "read verdicts",
	    "SELECT " VERDICT_COLS " FROM verdicts WHERE time_us >= ?1"
	    " AND (?2 IS NULL OR identity = ?2) ORDER BY time_us, id" },
	[ST_PRUNE_MSG] = { "prune messages", "DELETE FROM messages WHERE time_us < ?1" },
	[ST_PRUNE_VERDICT] = { "prune verdicts", "DELETE FROM verdicts WHERE time_us < ?1" },
	[ST_KV_PUT] = { "save state",
	    "INSERT OR REPLACE INTO track_state (ns, k, v) VALUES (?1, ?2, ?3)" },
	[ST_KV_DEL] = { "save state", "DELETE FROM track_state WHERE ns = ?1 AND k = ?2" },
	[ST_KV_EACH] = { "read state", "SELECT k, v FROM track_state WHERE ns = ?1 ORDER BY k" },
	[ST_PRUNE_SOME_MSG] = { "prune", PRUNE_SOME("messages", "time_us") },
	[ST_PRUNE_SOME_VERDICT] = { "prune", PRUNE_SOME("verdicts", "time_us") },
	[ST_LAST_TIME] = { "read messages",
	    "SELECT max(t) FROM (SELECT max(time_us) AS t FROM messages"
	    " UNION ALL SELECT max(time_us) FROM remote)" },
	[ST_MARK_REMOVED] = { "mark removed",
	    "UPDATE messages SET removed_us = ?1 WHERE queue_id = ?2"
	    " AND host IS ?3 AND instance IS ?4 AND removed_us IS NULL" },
	IDENT_FAMILY(ST_QUEUED_SASL, "read queued messages", QUEUED),
	IDENT_FAMILY(ST_RECENT_SASL, "read messages", RECENT),
	/* one message's outcome: n more recipients of status ?1 (0 sent, 1 deferred, 2 bounced) */
	[ST_ADD_OUTCOME] = { "save outcome",
	    "UPDATE messages SET delivered = delivered + (?1 = 0) * ?2,"
	    " deferred = deferred + (?1 = 1) * ?2, bounced = bounced + (?1 = 2) * ?2"
	    " WHERE queue_id = ?3 AND host IS ?4 AND instance IS ?5 AND time_us = ?6" },
	[ST_ADD_BOUNCE] = { "save bounce",
	    "INSERT INTO bounces (" BOUNCE_COLS
	    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)" },
	/* a bulk load (store_bulk.c): a message written once, its id and outcomes given */
	[ST_BULK_MSG] = { "add message",
	    "INSERT INTO messages (" MSG_COLS ", removed_us, delivered, deferred, bounced, id)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)" },
	[ST_BULK_MSGS] = { "add message",
	    "INSERT INTO messages (" MSG_COLS ", removed_us, delivered, deferred, bounced, id)"
	    " VALUES " BULK_ROWS },
	[ST_KEPT_MSGS] = { "add message",
	    "INSERT OR ROLLBACK INTO messages (" MSG_COLS
	    ", removed_us, delivered, deferred, bounced, id) VALUES " BULK_ROWS },
	[ST_EACH_BOUNCE] = { "read bounces",
	    "SELECT " BOUNCE_COLS " FROM bounces WHERE time_us >= ?1 ORDER BY time_us, id" },
	[ST_PRUNE_BOUNCE] = { "prune bounces", "DELETE FROM bounces WHERE time_us < ?1" },
	[ST_PRUNE_SOME_BOUNCE] = { "prune",
	    "DELETE FROM bounces WHERE id IN (SELECT id FROM bounces"
	    " WHERE time_us < ?1 ORDER BY time_us LIMIT ?2)" },
	IDENT_FAMILY(ST_DELIV_SASL, "read outcomes", DELIVERIES),
	IDENT_FAMILY(ST_CLIENTS_SASL, "read client IPs", CLIENTS),

	[ST_GET_BLOCK] = { "read block", "SELECT " BLOCK_COLS " FROM blocks WHERE identity = ?1" },
	[ST_PUT_BLOCK] = { "save block",
	    "INSERT OR REPLACE INTO blocks (" BLOCK_COLS ")"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULLIF(?7, 0), NULLIF(?8, 0), ?9)" },
	[ST_EACH_BLOCK] = { "read blocks",
	    "SELECT " BLOCK_COLS " FROM blocks WHERE (?1 IS NULL OR state = ?1)"
	    " ORDER BY identity" },
	[ST_ADD_HOLD] = { "save hold",
	    /*
		 * a queue file held for one identity stays its own while it is
		 * held; once released, deleted or removed, a new hold (of
		 * another identity, or of a reused queue ID) takes it over
		 */
	    "INSERT INTO holds (host, instance, queue_id, identity,"
	    " requested_us, state) VALUES (?1, ?2, ?3, ?4, ?5, 'requested')"
	    " ON CONFLICT (host, instance, queue_id) DO UPDATE SET"
	    " identity = excluded.identity, requested_us = excluded.requested_us,"
	    " changed_us = NULL, state = 'requested'"
	    " WHERE holds.state NOT IN ('requested', 'held')" },
	[ST_HOLD_STATE] = { "save hold",
	    "UPDATE holds SET state = ?1, changed_us = ?2 WHERE queue_id = ?3"
	    " AND host = ?4 AND (?5 = '' OR instance = ?5)" },
	[ST_EACH_HOLD] = { "read holds",
	    "SELECT " HOLD_COLS " FROM holds WHERE identity = ?1"
	    " AND (?2 IS NULL OR state = ?2) ORDER BY requested_us" },
	[ST_COUNT_HOLDS] = { "count holds",
	    "SELECT count(*) FROM holds WHERE identity = ?1"
	    " AND state IN ('requested', 'held')" },
	[ST_EACH_ON_HOLD] = { "read holds",
	    "SELECT h.identity, count(*), min(h.requested_us), b.state,"
	    " b.until_us, b.ended_us FROM holds h LEFT JOIN blocks b"
	    " ON b.identity = h.identity WHERE h.state IN ('requested', 'held')"
	    " GROUP BY h.identity ORDER BY h.identity" },
	[ST_HOLDS_STATE_IDENT] = { "save hold",
	    "UPDATE holds SET state = ?1, changed_us = ?2 WHERE identity = ?3"
	    " AND state IN ('requested', 'held')" },
	/* ?N is column N of JOB_COLS, bound by store_put(); a new job has no id yet */
	[ST_ADD_JOB] = { "save action",
	    "INSERT INTO action_log (time_us, identity, action, argv, stdin,"
	    " status, outcome, attempts, next_us)"
	    " VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?10, 0, ?9)" },
	[ST_UPDATE_JOB] = { "save action",
	    "UPDATE action_log SET status = ?2, attempts = ?3, next_us = ?4,"
	    " outcome = ?5 WHERE id = ?1" },
	[ST_EACH_JOB] = { "read actions",
	    "SELECT " JOB_COLS " FROM action_log WHERE (?1 IS NULL OR"
	    " identity = ?1) AND (?2 IS NULL OR status = ?2) ORDER BY id" },
	[ST_EACH_JOB_ID] = { "read actions", "SELECT " JOB_COLS " FROM action_log WHERE id = ?1" },

	[ST_ADD_OUTBOX] = { "add to outbox",
	    "INSERT INTO outbox (" MSG_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)" },
	[ST_EACH_OUTBOX] = { "read outbox",
	    "SELECT id, NULL, " MSG_COLS " FROM outbox ORDER BY id LIMIT ?1" },
	[ST_OUTBOX_SENT] = { "mark outbox sent", "DELETE FROM outbox WHERE id <= ?1" },
	[ST_COUNT_OUTBOX] = { "count outbox", "SELECT count(*) FROM outbox" },
	/* ?N is column N of DECISION_COLS; a new decision has no id yet */
	[ST_ADD_DECISION] = { "add to outbox",
	    "INSERT INTO decisions (time_us, kind, identity, rule, until_us, mode)"
	    " VALUES (?2, ?3, ?4, ?5, ?6, ?7)" },
	[ST_EACH_DECISION] = { "read outbox",
	    "SELECT " DECISION_COLS " FROM decisions ORDER BY id LIMIT ?1" },
	[ST_DECISION_SENT] = { "mark outbox sent", "DELETE FROM decisions WHERE id <= ?1" },
	[ST_ADD_REMOTE] = { "add remote message",
	    "INSERT OR IGNORE INTO remote (" CMSG_COLS ")"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)" },
	[ST_GET_CCURSOR] = { "read cluster cursor",
	    "SELECT v FROM track_state WHERE ns = 100 AND k = ?1" },
	[ST_SET_CCURSOR] = { "save cluster cursor",
	    "INSERT OR REPLACE INTO track_state (ns, k, v) VALUES (100, ?1, ?2)" },
	[ST_EACH_REMOTE_NODE] = { "read remote messages",
	    "SELECT node, max(time_us), count(*) FROM remote GROUP BY node ORDER BY node" },
	[ST_PRUNE_SOME_REMOTE] = { "prune", PRUNE_SOME("remote", "time_us") },
	[ST_PRUNE_SOME_OUTBOX] = { "prune", PRUNE_SOME("outbox", "id") },
	IDENT_FAMILY(ST_NODES_SASL, "read messages", NODES),
	IDENT_FAMILY(ST_RECENT_BYID_SASL, "read messages", RECENT_BYID),
};

/* ------------------------------------------------------------ errors */

/* store_seterr - format a message into err when there is room for one; -1 */
int
store_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return -1;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * dberr - "path: what: sqlite message" for result code rc; returns -1.
 * A full disk or database is reported in plain words, whatever
 * sqlite3_errmsg() holds by now.
 */
static int
dberr(const struct store *s, int rc, const char *what, char *err, size_t errlen)
{
	const char *msg;
	int sys;

	if (s->db != NULL && ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_IOERR) &&
	    (sys = sqlite3_system_errno(s->db)) != 0)
		return store_seterr(err, errlen, "%s: %s: %s (%s)", s->path, what,
		    sqlite3_errstr(rc), strerror(sys));
	if ((rc & 0xff) == SQLITE_FULL)
		msg = "database or disk is full (SQLITE_FULL)";
	else if (s->db != NULL &&
	    (sqlite3_extended_errcode(s->db) == rc || sqlite3_errcode(s->db) == (rc & 0xff)))
		msg = sqlite3_errmsg(s->db);
	else
		msg = sqlite3_errstr(rc);
	return store_seterr(err, errlen, "%s: %s: %s", s->path, what, msg);
}

/* ------------------------------------------------ statements, one walker */

/* done - reset a statement for its next use, dropping the bound values */
static void
done(sqlite3_stmt *st)
{
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
}

/* stmt_get - *out = statement which, prepared on first use; 0 or -1 with err */
static int
stmt_get(struct store *s, enum store_st which, sqlite3_stmt **out, char *err, size_t errlen)
{
	int rc;

	if (store_bulk_sync(s, err, errlen) < 0) /* the writer thread's turn ends */
		return -1;
	if (s->st[which] == NULL) {
		rc = sqlite3_prepare_v3(s->db, store_sql[which].sql, -1, SQLITE_PREPARE_PERSISTENT,
		    &s->st[which], NULL);
		if (rc != SQLITE_OK) {
			s->st[which] = NULL;
			return dberr(s, rc, "prepare", err, errlen);
		}
	}
	*out = s->st[which];
	return 0;
}

/*
 * bind_vals - bind v[0..nv) to ?1..?nv of st, copying text and blobs when
 * how is SQLITE_TRANSIENT; 0, or -1 with err (the statement is reset).
 */
static int
bind_vals(struct store *s, sqlite3_stmt *st, const struct store_val *v, size_t nv,
    sqlite3_destructor_type how, const char *what, char *err, size_t errlen)
{
	size_t i;
	int rc = SQLITE_OK;

	if ((size_t)sqlite3_bind_parameter_count(st) != nv)
		rc = SQLITE_RANGE;
	for (i = 0; i < nv && rc == SQLITE_OK; i++) {
		int col = (int)i + 1;

		if ((v[i].type == SV_TEXT || v[i].type == SV_BLOB) && v[i].n > (size_t)0x7fffffff)
			rc = SQLITE_TOOBIG;
		else if (v[i].type == SV_INT)
			rc = sqlite3_bind_int64(st, col, v[i].i);
		else if (v[i].type == SV_TEXT)
			rc = sqlite3_bind_text(st, col, v[i].p, (int)v[i].n, how);
		else if (v[i].type == SV_BLOB)
			rc = sqlite3_bind_blob(st, col, v[i].p, (int)v[i].n, how);
		else
			rc = sqlite3_bind_null(st, col);
	}
	if (rc != SQLITE_OK) {
		done(st);
		return dberr(s, rc, what, err, errlen);
	}
	return 0;
}

/*
 * store_run - bind and step a statement that returns no rows, then reset
 * it.  The values are bound in place (SQLITE_STATIC): they outlive the
 * step, and done() drops them before this returns.  0, or -1 with err.
 */
int
store_run(struct store *s, enum store_st which, const struct store_val *v, size_t nv, char *err,
    size_t errlen)
{
	const char *what = store_sql[which].what;
	sqlite3_stmt *st = NULL;
	int rc;

	if (store_bulk_before(s, which, err, errlen) < 0)
		return -1; /* the daemon's messages kept back go first (store_bulk.c) */
	if ((rc = store_bulk_on_run(s, which, v, nv, err, errlen)) <= 0)
		return rc; /* queued for the writer thread (store_bulk.c), or its error */
	if (stmt_get(s, which, &st, err, errlen) < 0 ||
	    bind_vals(s, st, v, nv, SQLITE_STATIC, what, err, errlen) < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = SQLITE_MISUSE;
	if (rc != SQLITE_DONE)
		(void)dberr(s, rc, what, err, errlen);
	done(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * store_walk - the one row walker; see store_priv.h.  The kept statement
 * serves the walk unless a row function of that same walk asks for it
 * again: the nested walk then prepares a statement of its own and
 * finalizes it at its end.
 */
int
store_walk(struct store *s, enum store_st which, const struct store_val *v, size_t nv,
    store_row_fn row, void *arg, char *err, size_t errlen)
{
	const char *what = store_sql[which].what;
	sqlite3_stmt *st = NULL;
	int rc, ret = 0, nested = s->walking[which];

	if (store_bulk_before(s, which, err, errlen) < 0)
		return -1; /* the daemon's messages kept back go first (store_bulk.c) */
	if (nested) {
		rc = sqlite3_prepare_v2(s->db, store_sql[which].sql, -1, &st, NULL);
		if (rc != SQLITE_OK)
			return dberr(s, rc, what, err, errlen);
	} else if (stmt_get(s, which, &st, err, errlen) < 0)
		return -1;
	s->walking[which] = 1;
	if (bind_vals(s, st, v, nv, SQLITE_TRANSIENT, what, err, errlen) < 0)
		ret = -1;
	else {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			if ((ret = row(st, arg)) != 0)
				break;
		if (ret == 0 && rc != SQLITE_DONE)
			ret = dberr(s, rc, what, err, errlen);
	}
	if (nested) {
		(void)sqlite3_finalize(st);
	} else {
		done(st);
		s->walking[which] = 0;
	}
	return ret;
}

/* ------------------------------------------------------------ row maps */

/* store_col_str - a text column as a C string, NULL for SQL NULL */
const char *
store_col_str(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	return (const char *)sqlite3_column_text(st, col);
}

/* store_col_int - an integer column, dflt for SQL NULL */
int64_t
store_col_int(sqlite3_stmt *st, int col, int64_t dflt)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return dflt;
	return sqlite3_column_int64(st, col);
}

/* fill - column i of st into the field of row that c names */
static void
fill(sqlite3_stmt *st, int i, const struct store_col *c, char *row)
{
	void *f = row + c->off;

	switch (c->type) {
	case SC_STR_T:
		*(const char **)f = store_col_str(st, i);
		break;
	case SC_I64_T:
		*(int64_t *)f = store_col_int(st, i, c->null);
		break;
	case SC_LONG_T:
		*(long *)f = (long)store_col_int(st, i, c->null);
		break;
	case SC_INT_T:
		*(int *)f = (int)store_col_int(st, i, c->null);
		break;
	case SC_BLOB_T:
		*(const void **)f = sqlite3_column_blob(st, i);
		*(size_t *)(void *)(row + c->len_off) = (size_t)sqlite3_column_bytes(st, i);
		break;
	}
}

/* STORE_KIND_CALL - in store_row(), a kind's case: its callback gets its row */
#define STORE_KIND_CALL(kind, s, m) \
	case kind: \
		return r->cb.m(r->ctx, &row.m);

/* store_row - fill the struct of the walk's kind, hand it to the callback */
int
store_row(sqlite3_stmt *st, void *arg)
{
	const struct store_rows *r = arg;
	union {
		STORE_KINDS(STORE_KIND_ROW)
	} row;
	int i, n = sqlite3_column_count(st);

	memset(&row, 0, sizeof(row));
	for (i = 0; i < n && (size_t)i < r->map->ncol; i++)
		fill(st, i, &r->map->col[i], (char *)&row);
	switch (r->map->kind) {
		STORE_KINDS(STORE_KIND_CALL)
	}
	return -1;
}
#undef STORE_KIND_CALL

/* store_int_row - the first column into *(int64_t *) arg, unless NULL; 1 */
int
store_int_row(sqlite3_stmt *st, void *arg)
{
	int64_t *v = arg;

	*v = store_col_int(st, 0, *v);
	return 1;
}

/* store_int_query - the one number a one-row statement st (no parameters) reads; -1 on error */
int64_t
store_int_query(struct store *s, enum store_st st)
{
	int64_t n = -1;

	if (store_walk(s, st, NULL, 0, store_int_row, &n, NULL, 0) < 0)
		return -1;
	return n;
}

/* field_val - the field of row that c names, as the value to bind */
static struct store_val
field_val(const struct store_col *c, const char *row)
{
	const void *f = row + c->off;
	const char *p;
	const void *b;
	int64_t i = 0;

	switch (c->type) {
	case SC_STR_T:
		p = *(const char *const *)f;
		return c->write == SW_OPT  ? sv_opt(p)
		    : c->write == SW_EMPTY ? sv_text0(p)
					   : sv_text(p);
	case SC_BLOB_T:
		b = *(const void *const *)f;
		return sv_blob(b == NULL && c->write == SW_EMPTY ? "" : b,
		    *(const size_t *)(const void *)(row + c->len_off));
	case SC_I64_T:
		i = *(const int64_t *)f;
		break;
	case SC_LONG_T:
		i = *(const long *)f;
		break;
	case SC_INT_T:
		i = *(const int *)f;
		break;
	}
	return c->write == SW_OPT && i <= c->null ? sv_null() : sv_int(i);
}

/* store_row_vals - the fields of row by map into v[0..map->ncol); see store_priv.h */
void
store_row_vals(const struct store_map *map, const void *row, struct store_val *v)
{
	size_t i;

	for (i = 0; i < map->ncol; i++)
		v[i] = field_val(&map->col[i], row);
}

/* store_put - bind a struct's fields by its map and run which; see store_priv.h */
int
store_put(struct store *s, enum store_st which, const struct store_map *map, const void *row,
    char *err, size_t errlen)
{
	struct store_val v[16];
	sqlite3_stmt *st = NULL;
	size_t i, n;
	int rc;

	if (s->load != NULL && map->ncol <= STORE_NVAL(v)) {
		store_row_vals(map, row, v); /* a bulk load may queue it (store_bulk.c) */
		if ((rc = store_bulk_on_run(s, which, v, map->ncol, err, errlen)) <= 0)
			return rc;
	}
	if (stmt_get(s, which, &st, err, errlen) < 0)
		return -1;
	n = (size_t)sqlite3_bind_parameter_count(st);
	if (n > map->ncol || n > STORE_NVAL(v))
		return dberr(s, SQLITE_RANGE, store_sql[which].what, err, errlen);
	for (i = 0; i < n; i++)
		v[i] = field_val(&map->col[i], row);
	return store_run(s, which, v, n, err, errlen);
}

/* ------------------------------------------------ open, migrate, batches */

/* run_sql - run constant SQL text (never caller data); 0 or -1 with err */
static int
run_sql(struct store *s, const char *sql, const char *what, char *err, size_t errlen)
{
	int rc;

	if (store_bulk_sync(s, err, errlen) < 0)
		return -1;
	rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return dberr(s, rc, what, err, errlen);
	return 0;
}

/*
 * pragma - run one PRAGMA (constant text) that returns a row, and give
 * its first column: as an integer in *i, as text (copied) in txt.  0, or
 * -1 with "path: what: reason".
 */
static int
pragma(struct store *s, const char *sql, const char *what, int64_t *i, char *txt, size_t txtlen,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	const char *t;
	int rc;

	if (store_bulk_sync(s, err, errlen) < 0)
		return -1;
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return dberr(s, rc, what, err, errlen);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (i != NULL)
			*i = sqlite3_column_int64(st, 0);
		if (txt != NULL && txtlen > 0) {
			t = (const char *)sqlite3_column_text(st, 0);
			(void)snprintf(txt, txtlen, "%s", t != NULL ? t : "");
		}
	} else
		(void)dberr(s, rc == SQLITE_DONE ? SQLITE_ERROR : rc, what, err, errlen);
	(void)sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* pragma_int - the integer one PRAGMA query returns; -1 with err on error */
static int64_t
pragma_int(struct store *s, const char *sql, char *err, size_t errlen)
{
	int64_t v = -1;

	if (pragma(s, sql, "read schema", &v, NULL, 0, err, errlen) < 0)
		return -1;
	return v;
}

/* store_set_journal - set the journal mode and check that SQLite took it; 0 or -1 */
int
store_set_journal(struct store *s, const char *mode, char *err, size_t errlen)
{
	char sql[64], got[32] = "";

	(void)snprintf(sql, sizeof(sql), "PRAGMA journal_mode=%s", mode);
	if (pragma(s, sql, "set journal mode", NULL, got, sizeof(got), err, errlen) < 0)
		return -1;
	if (strcasecmp(got, mode) != 0)
		return store_seterr(err, errlen,
		    "%s: cannot set journal mode %s "
		    "(got %s)",
		    s->path, mode, got[0] != '\0' ? got : "nothing");
	return 0;
}

/*
 * foreign - refuse an SQLite database that is not sendguard's: at version
 * 0 (new to us) it must have no table, past it it must have our messages
 * table.  Someone else's database is never migrated into ours.
 */
static int
foreign(struct store *s, int64_t v, char *err, size_t errlen)
{
	int64_t n;

	n = pragma_int(s,
	    v == 0
		? "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite!_%' ESCAPE '!'"
		: "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'messages'",
	    err, errlen);
	if (n < 0)
		return -1;
	if (v == 0 && n > 0)
		return store_seterr(err, errlen,
		    "%s: an SQLite database of something else (%lld tables, indexes or "
		    "views, and no sendguard schema): refusing it (is `state` the right file?)",
		    s->path, (long long)n);
	if (v > 0 && n == 0)
		return store_seterr(err, errlen,
		    "%s: an SQLite database of something else (schema version %lld "
		    "without sendguard's tables): refusing it (is `state` the right file?)",
		    s->path, (long long)v);
	return 0;
}

/*
 * migrate - bring the schema from its current version to SCHEMA_LATEST,
 * one transaction per step.  A version newer than ours is refused; a
 * read-only store must already be current.
 */
static int
migrate(struct store *s, char *err, size_t errlen)
{
	char sql[64];
	int64_t v;

	if ((v = pragma_int(s, "PRAGMA user_version", err, errlen)) < 0 ||
	    foreign(s, v, err, errlen) < 0)
		return -1;
	if (v > SCHEMA_LATEST)
		return store_seterr(err, errlen,
		    "%s: schema version %lld is newer "
		    "than this sendguard (%d)",
		    s->path, (long long)v, SCHEMA_LATEST);
	if (s->readonly && v == 0)
		return store_seterr(err, errlen,
		    "%s: not a sendguard state "
		    "database (schema version 0)",
		    s->path);
	if (s->readonly && v < SCHEMA_LATEST)
		return store_seterr(err, errlen,
		    "%s: schema version %lld is older "
		    "than this sendguard (%d); open it read-write "
		    "once to upgrade",
		    s->path, (long long)v, SCHEMA_LATEST);
	for (; v < SCHEMA_LATEST; v++) {
		if (run_sql(s, "BEGIN IMMEDIATE", "migrate", err, errlen) < 0)
			return -1;
		(void)snprintf(sql, sizeof(sql), "PRAGMA user_version=%lld", (long long)v + 1);
		if (run_sql(s, store_migrations[v].sql, "migrate", err, errlen) < 0 ||
		    (!s->memory && store_migrations[v].file_sql != NULL &&
			run_sql(s, store_migrations[v].file_sql, "migrate", err, errlen) < 0) ||
		    run_sql(s, sql, "migrate", err, errlen) < 0 ||
		    run_sql(s, "COMMIT", "migrate", err, errlen) < 0) {
			if (!sqlite3_get_autocommit(s->db))
				(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	return s->readonly || s->memory ? 0 : store_bulk_heal(s, err, errlen);
}

/*
 * store_file_indexes - run every step's file_sql, in order, in the open
 * transaction: the indexes store_bulk_begin() dropped (store_bulk.c)
 */
int
store_file_indexes(struct store *s, char *err, size_t errlen)
{
	int v;

	for (v = 0; v < SCHEMA_LATEST; v++)
		if (store_migrations[v].file_sql != NULL &&
		    run_sql(s, store_migrations[v].file_sql, "create indexes", err, errlen) < 0)
			return -1;
	return 0;
}

/* is_memory - whether path names an in-memory database */
static int
is_memory(const char *path)
{
	return path == NULL || strcmp(path, ":memory:") == 0;
}

/*
 * set_up - the connection's settings: no journal on disk for memory,
 * WAL for a file that may be written; the header of a file is read first,
 * which turns "not a database" into an error here.  0 or -1 with err.
 */
static int
set_up(struct store *s, char *err, size_t errlen)
{
	(void)sqlite3_extended_result_codes(s->db, 1);
	(void)sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
	if (s->memory)
		return store_set_journal(s, "memory", err, errlen) < 0 ||
			run_sql(s, "PRAGMA synchronous=OFF", "open", err, errlen) < 0
		    ? -1
		    : 0;
	if (pragma_int(s, "PRAGMA user_version", err, errlen) < 0 ||
	    (!s->readonly && store_set_journal(s, "wal", err, errlen) < 0) ||
	    run_sql(s, "PRAGMA synchronous=NORMAL", "open", err, errlen) < 0)
		return -1;
	return 0;
}

/*
 * store_open - open, create and migrate a store; see store.h.  The
 * statements are prepared on their first use, so a short-lived command
 * pays only for those it runs.
 */
int
store_open(struct store **out, const char *path, int readonly, char *err, size_t errlen)
{
	struct store *s;
	int flags, rc, created = 0, mem = is_memory(path);

	*out = NULL;
	if (mem && readonly)
		return store_seterr(err, errlen, ":memory: cannot be opened read-only");
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(mem ? ":memory:" : path)) == NULL) {
		free(s);
		return store_seterr(err, errlen, "%s: %s", mem ? ":memory:" : path,
		    strerror(errno));
	}
	s->readonly = readonly;
	s->memory = mem;
	if (!mem && store_file_check(s, &created, err, errlen) < 0) {
		store_close(s);
		return -1;
	}
	flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (!mem)
		flags |= SQLITE_OPEN_NOFOLLOW;
	rc = sqlite3_open_v2(mem ? s->path : s->fpath, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		(void)(s->db == NULL
			? store_seterr(err, errlen, "%s: %s", s->path, sqlite3_errstr(rc))
			: dberr(s, rc, "open", err, errlen));
	if (rc != SQLITE_OK || set_up(s, err, errlen) < 0 || migrate(s, err, errlen) < 0) {
		if (created)
			(void)unlink(s->fpath); /* ours, from this call: no empty file left */
		store_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

/* store_close - finalize statements, roll back an open batch, close */
void
store_close(struct store *s)
{
	char berr[256];
	int i;

	if (s == NULL)
		return;
	if (s->db != NULL) {
		store_bulk_stop(s); /* the writer thread ends, its batch is dropped */
		if (!sqlite3_get_autocommit(s->db))
			(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		(void)store_bulk_end(s, berr, sizeof(berr)); /* a bulk load left open */
		store_ckpt_stop(
		    s); /* before the last close, which checkpoints and removes the WAL */
		for (i = 0; i < ST_COUNT; i++)
			(void)sqlite3_finalize(s->st[i]);
		(void)sqlite3_close(s->db);
	}
	free(s->fpath);
	free(s->path);
	free(s);
}

/*
 * batch_step - run ST_BEGIN or ST_COMMIT, which want a batch open (1) or
 * not (0) before them; otherwise -1 with "path: what: refusal"
 */
static int
batch_step(struct store *s, enum store_st which, int want_open, const char *refusal, char *err,
    size_t errlen)
{
	int open = sqlite3_get_autocommit(s->db) == 0;

	if (open != want_open)
		return store_seterr(err, errlen, "%s: %s: %s", s->path, store_sql[which].what,
		    refusal);
	return store_run(s, which, NULL, 0, err, errlen);
}

/* store_begin - start a write batch (BEGIN IMMEDIATE); STORE_BUSY: another writer holds it */
int
store_begin(struct store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = store_bulk_on_begin(s, err, errlen)) <= 0)
		return rc; /* a bulk load's BEGIN waits for its commit (store_bulk.c) */
	if (!sqlite3_get_autocommit(s->db))
		return batch_step(s, ST_BEGIN, 0, "a transaction is already open", err, errlen);
	if (stmt_get(s, ST_BEGIN, &st, err, errlen) < 0)
		return -1;
	rc = sqlite3_step(st);
	done(st);
	if (rc == SQLITE_DONE)
		return 0;
	(void)dberr(s, rc, store_sql[ST_BEGIN].what, err, errlen);
	return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ? STORE_BUSY : -1;
}

/* store_commit - commit the batch.  On failure it may still be open; the caller rolls it back */
int
store_commit(struct store *s, char *err, size_t errlen)
{
	int rc;

	if ((rc = store_bulk_on_commit(s, err, errlen)) <= 0)
		return rc; /* a bulk load's batch goes to its writer thread (store_bulk.c) */
	return batch_step(s, ST_COMMIT, 1, "no transaction is open", err, errlen);
}

/*
 * store_rollback - discard the batch.  Succeeds when SQLite already rolled
 * it back by itself (as it may after SQLITE_FULL or SQLITE_IOERR).
 */
int
store_rollback(struct store *s)
{
	store_bulk_on_rollback(s);
	/* ids rolled back are given again, perhaps to another process's rows */
	if (s->ord.state != 0)
		s->ord.state = -1;
	if (sqlite3_get_autocommit(s->db))
		return 0;
	return store_run(s, ST_ROLLBACK, NULL, 0, NULL, 0);
}

/* store_limit_size - cap the database at about max_bytes; see store.h */
int
store_limit_size(struct store *s, int64_t max_bytes, char *err, size_t errlen)
{
	char sql[64];
	int64_t page, pages;

	if (max_bytes <= 0)
		return store_seterr(err, errlen, "%s: limit size: %lld is not a size", s->path,
		    (long long)max_bytes);
	if ((page = pragma_int(s, "PRAGMA page_size", err, errlen)) <= 0)
		return -1;
	pages = max_bytes / page;
	if (pages < 1)
		pages = 1;
	if (pages > 0xfffffffe)
		pages = 0xfffffffe;
	(void)snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%lld", (long long)pages);
	if (pragma_int(s, sql, err, errlen) < 0)
		return -1;
	return 0;
}

/* store_cache_size - the connection's page cache, kib KiB; see store.h */
int
store_cache_size(struct store *s, int64_t kib, char *err, size_t errlen)
{
	char sql[64];

	if (kib <= 0 || kib > INT32_MAX)
		return store_seterr(err, errlen, "%s: cache size: %lld KiB is not a size", s->path,
		    (long long)kib);
	(void)snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%lld", (long long)kib);
	return run_sql(s, sql, "set cache size", err, errlen);
}

/* store_schema_version - PRAGMA user_version, -1 on error */
int
store_schema_version(struct store *s)
{
	return (int)pragma_int(s, "PRAGMA user_version", NULL, 0);
}

/* store_schema_latest - the version this sendguard migrates to */
int
store_schema_latest(void)
{
	return SCHEMA_LATEST;
}
