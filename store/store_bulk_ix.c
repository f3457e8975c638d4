/*
 * NAME
 *	store_bulk_ix - a bulk load's file without its look-up indexes, and
 *	with them again at its end
 * SUMMARY
 *	The index half of store_bulk.c (see there): store_bulk_begin() drops
 *	the file_sql indexes of a file that holds no message yet and starts
 *	the load, store_bulk_end() ends the load and makes them again,
 *	store_bulk_heal() makes them for a load cut short; store_bulk_finish()
 *	has the load's writer thread make them while the caller goes on
 *	(store_bulk_end() then waits for it).  Each step is one transaction,
 *	so a file has all of the indexes or none.  At the load's end they are
 *	made with a rollback journal (store_bulk_index()): their pages are
 *	written into the file once, not into the write-ahead log and then
 *	again by its checkpoint.  Also store_bulk_count(), the one-integer
 *	constant query both halves ask.
 * RETURNS
 *	0 or 1 (store_bulk_begin: whether it dropped them), or -1 with
 *	"path: what: sqlite message" in err.  Never prints, never exits.
 * UNTRUSTED INPUT
 *	None: the SQL here is constant text.
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

/* store_bulk_count - the integer constant query sql returns; -1 with err on error */
int64_t
store_bulk_count(struct store *s, const char *sql, char *err, size_t errlen)
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
	if ((n = store_bulk_count(s, has_sql, err, errlen)) != 0)
		return n < 0 ? -1 : 0;
	if (exec(s, "BEGIN IMMEDIATE", "bulk load", err, errlen) < 0)
		return -1;
	n = store_bulk_count(s, has_sql, err, errlen);
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
	n = store_bulk_count(s,
	    "SELECT EXISTS (SELECT 1 FROM messages) OR EXISTS (SELECT 1 FROM remote)", err, errlen);
	if (n != 0)
		return finish(s, n < 0 ? -1 : 0, err, errlen);
	if (finish(s, exec(s, drop_sql, "bulk load", err, errlen), err, errlen) < 0)
		return -1;
	s->bulk = 1;
	return store_bulk_load_new(s, 0, err, errlen) < 0 ? -1 : 1;
}

/*
 * store_bulk_index - make the indexes of a bulk load (when the file has
 * none) with a rollback journal, then go back to write-ahead logging: the
 * new index pages go to the file once, instead of into the log and then
 * (at the checkpoint) into the file; the journal holds the few pages
 * that were there before (the schema, the free list).  One transaction
 * either way.  When the mode cannot change (another connection has the
 * file open) they are made in the log.  A file left in the rollback mode
 * (cut short there) goes back to the log at its next writable open
 * (store.c set_up).  0 or -1 with err.
 */
int
store_bulk_index(struct store *s, char *err, size_t errlen)
{
	int rollback = store_set_journal(s, "delete", NULL, 0) == 0, rc;

	rc = make_if_none(s, err, errlen);
	if (rollback)
		(void)store_set_journal(s, "wal", NULL, 0);
	return rc < 0 ? -1 : 0;
}

/* store_bulk_finish - start making the indexes on the load's writer thread; see store.h */
int
store_bulk_finish(struct store *s, char *err, size_t errlen)
{
	return s->bulk && store_bulk_on_end(s, err, errlen) < 0 ? -1 : 0;
}

/* store_bulk_end - make the indexes store_bulk_begin() dropped; see store.h */
int
store_bulk_end(struct store *s, char *err, size_t errlen)
{
	if (!s->bulk)
		return 0;
	if (s->load != NULL && store_bulk_sync(s, err, errlen) < 0)
		return -1;           /* the writer's error, of a batch or of the indexes */
	if (store_bulk_indexed(s)) { /* store_bulk_finish() had them made */
		store_bulk_free(s);
		s->bulk = 0;
		return 0;
	}
	if (!sqlite3_get_autocommit(s->db)) {
		if (err != NULL)
			(void)store_seterr(err, errlen, "%s: bulk load: a transaction is open",
			    s->path);
		return -1;
	}
	store_bulk_free(s); /* what is kept back now was never committed */
	if (store_bulk_index(s, err, errlen) < 0)
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
