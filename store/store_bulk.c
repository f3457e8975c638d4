/*
 * NAME
 *	store_bulk - fill a new state file without upkeep of its look-up
 *	indexes, and make them once at the end
 * SUMMARY
 *	`sendguard audit --state FILE` writes every message of a log into a
 *	file in one go, and nothing reads them back while it does.  A file's
 *	indexes by login, sender, client address, uid and queue ID (the
 *	file_sql of the migrations (store_schema.c): what status, explain and
 *	enforcement look up) cost most of that write time when kept up to
 *	date row by row.  store_bulk_begin() drops them from a file that
 *	holds no message yet, store_bulk_end() makes them again from the
 *	same SQL over the finished table, so the file ends with exactly the
 *	schema a daemon makes (sqlite_master holds the same text).  The
 *	messages_time index stays: the delivery outcomes find their message
 *	through it while the load runs.
 *
 *	Both steps are one transaction each, so a file has all of the
 *	indexes or none.  A load cut short (killed, out of disk) leaves none:
 *	store_bulk_heal(), at every writable open, makes them then; readers
 *	in the meantime get the same answers, only slower.
 * RETURNS
 *	0 or 1 (store_bulk_begin: whether it dropped them), or -1 with
 *	"path: what: sqlite message" in err.  Never prints, never exits.
 * UNTRUSTED INPUT
 *	None: every statement here is constant text.
 */
#include <stddef.h>

#include <sqlite3.h>

#include "store/store_priv.h"

/*
 * The file_sql indexes by name, for dropping them and for telling whether
 * a file has them; tests/test_store.c checks that a bulk-loaded file ends
 * with every index of a daemon's.
 */
#define BULK_INDEXES \
	"'messages_sasl','messages_sender','messages_client_ip','messages_uid'," \
	"'messages_queue_id','remote_sasl','remote_sender','remote_ip','remote_uid'"

static const char drop_sql[] =
    "DROP INDEX IF EXISTS messages_sasl;DROP INDEX IF EXISTS messages_sender;"
    "DROP INDEX IF EXISTS messages_client_ip;DROP INDEX IF EXISTS messages_uid;"
    "DROP INDEX IF EXISTS messages_queue_id;DROP INDEX IF EXISTS remote_sasl;"
    "DROP INDEX IF EXISTS remote_sender;DROP INDEX IF EXISTS remote_ip;"
    "DROP INDEX IF EXISTS remote_uid;";

/* exec - run constant SQL; 0 or -1 with "path: what: reason" (err may be NULL) */
static int
exec(struct store *s, const char *sql, const char *what, char *err, size_t errlen)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	if (err != NULL)
		(void)store_seterr(err, errlen, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
	return -1;
}

/* count - the integer constant query sql returns; -1 with err on error */
static int64_t
count(struct store *s, const char *sql, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	if (n < 0 && err != NULL)
		(void)store_seterr(err, errlen, "%s: bulk load: %s", s->path,
		    sqlite3_errmsg(s->db));
	(void)sqlite3_finalize(st);
	return n;
}

/* finish - commit, or roll back and give -1 when rc < 0 already */
static int
finish(struct store *s, int rc, char *err, size_t errlen)
{
	if (rc == 0 && exec(s, "COMMIT", "bulk load", err, errlen) == 0)
		return 0;
	if (!sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/*
 * make_if_none - in one transaction: make the file indexes when the file
 * has none of them (1), else nothing (0); -1 with err
 */
static int
make_if_none(struct store *s, char *err, size_t errlen)
{
	static const char has_sql[] =
	    "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN (" BULK_INDEXES
	    ")";
	int64_t n;
	int made = 0, rc;

	/* a look first, without the write lock a daemon may be holding */
	if ((n = count(s, has_sql, err, errlen)) != 0)
		return n < 0 ? -1 : 0;
	if (exec(s, "BEGIN IMMEDIATE", "bulk load", err, errlen) < 0)
		return -1;
	n = count(s, has_sql, err, errlen);
	rc = n < 0 ? -1 : 0;
	if (n == 0) {
		rc = store_file_indexes(s, err, errlen);
		made = 1;
	}
	return finish(s, rc, err, errlen) < 0 ? -1 : made;
}

/* store_bulk_begin - drop the file indexes of an empty file; see store.h */
int
store_bulk_begin(struct store *s, char *err, size_t errlen)
{
	int64_t n;

	if (s->memory || s->readonly || s->bulk)
		return 0;
	if (!sqlite3_get_autocommit(s->db))
		return store_seterr(err, errlen, "%s: bulk load: a transaction is open", s->path);
	if (exec(s, "BEGIN IMMEDIATE", "bulk load", err, errlen) < 0)
		return -1;
	n = count(s, "SELECT EXISTS (SELECT 1 FROM messages) OR EXISTS (SELECT 1 FROM remote)", err,
	    errlen);
	if (n != 0)
		return finish(s, n < 0 ? -1 : 0, err, errlen);
	if (finish(s, exec(s, drop_sql, "bulk load", err, errlen), err, errlen) < 0)
		return -1;
	s->bulk = 1;
	return 1;
}

/* store_bulk_end - make the indexes store_bulk_begin() dropped; see store.h */
int
store_bulk_end(struct store *s, char *err, size_t errlen)
{
	if (!s->bulk)
		return 0;
	if (!sqlite3_get_autocommit(s->db)) {
		if (err != NULL)
			(void)store_seterr(err, errlen, "%s: bulk load: a transaction is open",
			    s->path);
		return -1;
	}
	if (make_if_none(s, err, errlen) < 0)
		return -1;
	s->bulk = 0;
	return 0;
}

/* store_bulk_heal - see store_priv.h */
int
store_bulk_heal(struct store *s, char *err, size_t errlen)
{
	return make_if_none(s, err, errlen) < 0 ? -1 : 0;
}
