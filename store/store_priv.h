/*
 * NAME
 *	store_priv - what the store's core gives its two halves (private)
 * SUMMARY
 *	Included only by store/store.c (the core: open, migrate, the one
 *	statement table, binding, the one row walker, errors) and by the
 *	parts built on it: store/store_count.c (messages, verdicts, the
 *	cursor, key/value state), store/store_enforce.c (blocks, holds, the
 *	job queue) and store/store_cluster.c (the cluster's outboxes and the
 *	other nodes' messages).  Nothing outside store/ includes it, so
 *	sqlite3.h stays inside the store.
 *
 *	A half never prepares, binds or steps a statement by hand: it names
 *	one of enum store_st, lists its parameters as store_val values and
 *	calls store_run() (a statement without rows) or store_walk() (a
 *	statement with rows, one call of a row function per row).
 * RETURNS
 *	As the public functions (store.h): 0, -1 with "path: what: reason"
 *	in err, or the value a function documents.
 * UNTRUSTED INPUT
 *	Values from the log reach SQL only as bound parameters (store_val);
 *	the SQL text is the constant table in store.c.
 */
#ifndef SG_STORE_PRIV_H
#define SG_STORE_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store.h"
#include "util/ident.h"

/*
 * The statements, in the order of store_sql[] (store.c).  The QUEUED_,
 * RECENT_, DELIV_ and CLIENTS_ families hold one statement per identity
 * kind, in the order of enum ident_kind (store_count.c picks one by
 * adding the kind).
 */
enum store_st {
	/* the core: batches */
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	/* the counting half: messages, verdicts, cursor, key/value state */
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
	ST_MARK_REMOVED,
	ST_QUEUED_SASL,
	ST_QUEUED_UID,
	ST_QUEUED_SENDER,
	ST_QUEUED_IP,
	ST_QUEUED_SASL_DOMAIN,
	ST_QUEUED_SENDER_DOMAIN,
	ST_RECENT_SASL,
	ST_RECENT_UID,
	ST_RECENT_SENDER,
	ST_RECENT_IP,
	ST_RECENT_SASL_DOMAIN,
	ST_RECENT_SENDER_DOMAIN,
	ST_ADD_OUTCOME,
	ST_ADD_BOUNCE,
	ST_EACH_BOUNCE,
	ST_PRUNE_BOUNCE,
	ST_PRUNE_SOME_BOUNCE,
	ST_BULK_MSG,  /* store_bulk.c: a message with its id and outcomes */
	ST_BULK_MSGS, /* store_bulk.c: STORE_BULK_ROWS of them in one */
	ST_KEPT_MSGS, /* the same, OR ROLLBACK: the daemon's, no statement journal */
	ST_DELIV_SASL,
	ST_DELIV_UID,
	ST_DELIV_SENDER,
	ST_DELIV_IP,
	ST_DELIV_SASL_DOMAIN,
	ST_DELIV_SENDER_DOMAIN,
	ST_CLIENTS_SASL,
	ST_CLIENTS_UID,
	ST_CLIENTS_SENDER,
	ST_CLIENTS_IP,
	ST_CLIENTS_SASL_DOMAIN,
	ST_CLIENTS_SENDER_DOMAIN,
	/* the enforcement half: blocks, holds, jobs */
	ST_GET_BLOCK,
	ST_PUT_BLOCK,
	ST_EACH_BLOCK,
	ST_ADD_HOLD,
	ST_HOLD_STATE,
	ST_EACH_HOLD,
	ST_COUNT_HOLDS,
	ST_EACH_ON_HOLD,
	ST_HOLDS_STATE_IDENT,
	ST_ADD_JOB,
	ST_UPDATE_JOB,
	ST_EACH_JOB,
	ST_EACH_JOB_ID,
	/* the cluster (store_cluster.c): outboxes, the others' messages, cursors */
	ST_ADD_OUTBOX,
	ST_EACH_OUTBOX,
	ST_OUTBOX_SENT,
	ST_COUNT_OUTBOX,
	ST_ADD_DECISION,
	ST_EACH_DECISION,
	ST_DECISION_SENT,
	ST_ADD_REMOTE,
	ST_GET_CCURSOR,
	ST_SET_CCURSOR,
	ST_EACH_REMOTE_NODE,
	ST_PRUNE_SOME_REMOTE,
	ST_PRUNE_SOME_OUTBOX,
	ST_NODES_SASL,
	ST_NODES_UID,
	ST_NODES_SENDER,
	ST_NODES_IP,
	ST_NODES_SASL_DOMAIN,
	ST_NODES_SENDER_DOMAIN,
	ST_RECENT_BYID_SASL, /* store_each_recent()'s quick path (store_count.c) */
	ST_RECENT_BYID_UID,
	ST_RECENT_BYID_SENDER,
	ST_RECENT_BYID_IP,
	ST_RECENT_BYID_SASL_DOMAIN,
	ST_RECENT_BYID_SENDER_DOMAIN,
	ST_COUNT
};

/*
 * store_order - what a connection knows of the order of the messages it
 * inserted itself (store_count.c, store_each_recent's quick path)
 */
struct store_order {
	int state;     /* 0 nothing known, 1 top read, 2 ids lo..hi are ours, -1 given up */
	int64_t lo;    /* the first id this connection inserted */
	int64_t hi;    /* the last; every id between is one of ours */
	int64_t top;   /* the newest time_us in the table when ours went in (INT64_MIN: none) */
	int64_t slack; /* how much older than top a message of ours was, at most */
};

struct store {
	sqlite3 *db;
	char *path;  /* for messages: the file or ":memory:" */
	char *fpath; /* what SQLite opens: path with its directory resolved */
	int readonly;
	int memory;                      /* an in-memory database */
	struct store_ckpt *ckpt;         /* the checkpoint thread, or NULL (store_ckpt.c) */
	sqlite3_stmt *st[ST_COUNT];      /* prepared on first use, kept until close */
	unsigned char walking[ST_COUNT]; /* st[i] is stepping through a walk */
	char notes[1024];                /* what opening changed on disk (store_notes) */
	int bulk;                        /* store_bulk_begin() dropped the file indexes */
	struct bulk_load *load;          /* store_bulk.c: messages not written yet */
	struct store_order ord;          /* store_count.c: the order of our messages */
};

/*
 * store_file_indexes - the indexes only a file has (every migration's
 * file_sql), made in the open transaction (store.c); store_bulk_heal() -
 * make them when a bulk load was cut short and left none (store_bulk.c).
 * 0 or -1 with err.
 */
int store_file_indexes(struct store *s, char *err, size_t errlen);
int store_bulk_heal(struct store *s, char *err, size_t errlen);
/* store_set_journal - PRAGMA journal_mode=mode, -1 with err unless SQLite took it (store.c) */
int store_set_journal(struct store *s, const char *mode, char *err, size_t errlen);

/*
 * store_bulk_load_new() makes s->load, for a bulk load (keep 0, its
 * writer thread started) or the daemon's batches (keep 1), 0 or -1 with
 * err; store_bulk_free() ends and frees it (store_bulk.c).
 * store_bulk_count() runs a constant query of one integer, -1 with err
 * (store_bulk_ix.c).
 */
int store_bulk_load_new(struct store *s, int keep, char *err, size_t errlen);
/* store_copy_str - s (NULL stays NULL) copied to *pp, moved past it; the copy (store_count.c) */
const char *store_copy_str(char **pp, const char *s);
void store_bulk_free(struct store *s);
int64_t store_bulk_count(struct store *s, const char *sql, char *err, size_t errlen);
/*
 * The messages a bulk load or the daemon's batches keep back
 * (store_bulk.c): store_bulk_add() takes a message in place of
 * ST_ADD_MSG (*id: the id it has or will have), store_bulk_outcome()
 * adds an outcome to a message kept back (1) or leaves it to
 * ST_ADD_OUTCOME (0), store_bulk_removed() notes a removal on one,
 * store_bulk_before() writes them before a statement that reads or
 * writes messages, store_bulk_drop() forgets them at a rollback.
 */
int store_bulk_add(struct store *s, const struct store_msg *m, int64_t *id, char *err,
    size_t errlen);
int store_bulk_outcome(struct store *s, const struct store_outcome *o);
void store_bulk_removed(struct store *s, const char *host, const char *instance, const char *qid,
    int64_t time_us);
int store_bulk_before(struct store *s, enum store_st which, char *err, size_t errlen);
void store_bulk_drop(struct store *s);
/* store_bulk_kept - the daemon's kept messages one by one: the one after *it (NULL: first) */
const struct store_msg *store_bulk_kept(const struct store *s, const void **it, int64_t *id);

/*
 * A bulk load's writer thread (store_bulk.c) has the connection between
 * a commit and the next use of it: store_bulk_on_begin(),
 * store_bulk_on_commit() and store_bulk_on_run() (0: done, -1 with err,
 * 1: the caller goes on as without a load) hand it a batch or queue the
 * batch's writes; store_bulk_sync() (0 or -1 with the writer's error)
 * before any other use of s->db waits for the writer and runs what the
 * batch queued; store_bulk_on_rollback() forgets the batch,
 * store_bulk_stop() ends the thread.  Without a load they do nothing.
 */
struct store_val;
int store_bulk_on_begin(struct store *s, char *err, size_t errlen);
int store_bulk_on_commit(struct store *s, char *err, size_t errlen);
int store_bulk_on_run(struct store *s, enum store_st which, const struct store_val *v, size_t nv,
    char *err, size_t errlen);
int store_bulk_sync(struct store *s, char *err, size_t errlen);
void store_bulk_on_rollback(struct store *s);
/*
 * At the load's end (store_bulk_ix.c): store_bulk_on_end() hands the
 * making of the indexes to the writer thread (1; 0 without the thread;
 * -1 with err), which runs store_bulk_index() there; after a
 * store_bulk_sync(), store_bulk_indexed() tells whether it made them.
 */
int store_bulk_on_end(struct store *s, char *err, size_t errlen);
int store_bulk_index(struct store *s, char *err, size_t errlen);
int store_bulk_indexed(const struct store *s);
void store_bulk_stop(struct store *s);

/*
 * store_file_check - the checks before SQLite opens a file (store_file.c):
 * sets s->fpath; *created when it made the (missing, writable) database.
 */
int store_file_check(struct store *s, int *created, char *err, size_t errlen);

/* store_ckpt_stop - end the checkpoint thread, if any (store_ckpt.c; store_close()) */
void store_ckpt_stop(struct store *s);

/*
 * One bound parameter.  A text or blob points at the caller's bytes,
 * which must stay unchanged until store_run() or store_walk() returns.
 */
struct store_val {
	enum { SV_NULL, SV_INT, SV_TEXT, SV_BLOB } type;
	int64_t i;
	const void *p;
	size_t n;
};

#define STORE_NVAL(a) (sizeof(a) / sizeof((a)[0]))

/* sv_null - SQL NULL */
static inline struct store_val
sv_null(void)
{
	struct store_val v = { .type = SV_NULL };

	return v;
}

/* sv_int - an integer */
static inline struct store_val
sv_int(int64_t i)
{
	struct store_val v = { .type = SV_INT, .i = i };

	return v;
}

/* sv_text - a C string as text; NULL is SQL NULL, "" stays '' */
static inline struct store_val
sv_text(const char *p)
{
	struct store_val v = { .type = p != NULL ? SV_TEXT : SV_NULL,
		.p = p,
		.n = p != NULL ? strlen(p) : 0 };

	return v;
}

/* sv_opt - a string that may be absent: NULL or "" is SQL NULL */
static inline struct store_val
sv_opt(const char *p)
{
	return sv_text(p != NULL && *p != '\0' ? p : NULL);
}

/* sv_text0 - a string that is never NULL in SQL: NULL is '' */
static inline struct store_val
sv_text0(const char *p)
{
	return sv_text(p != NULL ? p : "");
}

/* sv_blob - n bytes at p; p NULL is SQL NULL */
static inline struct store_val
sv_blob(const void *p, size_t n)
{
	struct store_val v = { .type = p != NULL ? SV_BLOB : SV_NULL, .p = p, .n = n };

	return v;
}

/*
 * A row map: how the columns of a table, in order, are the fields of one
 * struct of store.h, both ways.  Reading, a row with fewer columns than
 * the map leaves the rest of the struct zero, and SQL NULL reads as the
 * column's null value (a string as NULL).  Writing, store_put() binds the
 * first fields to ?1, ?2, ... as the statement has parameters, each as
 * its write mode says.  The macros check each field's type.
 */
struct store_col {
	enum { SC_STR_T, SC_I64_T, SC_LONG_T, SC_INT_T, SC_BLOB_T } type;
	enum {
		SW_ASIS, /* a NULL pointer is SQL NULL */
		SW_OPT,  /* absent is SQL NULL: a NULL pointer, "",
					   a number <= null */
		SW_EMPTY /* a NULL pointer is '' or an empty blob */
	} write;
	size_t off;     /* the field */
	size_t len_off; /* SC_BLOB_T: the size_t field of its length */
	int64_t null;   /* a number field's value for SQL NULL */
};

/*
 * The macros of a column, one per field type, for a field f of the struct
 * that SC_ROW names: a table of columns is written between
 * "#define SC_ROW struct store_x" and "#undef SC_ROW".  SC_COL checks the
 * field's type T (a wrong type does not compile).
 */
/* clang-format off */
#define SC_FIELD(f, T) _Generic(((SC_ROW *)0)->f, T : offsetof(SC_ROW, f))
#define SC_COL(type, w, f, T, len_off, null) { type, w, SC_FIELD(f, T), len_off, null }
#define SC_STR(f, w)         SC_COL(SC_STR_T, w, f, const char *, 0, 0)
#define SC_I64(f)            SC_COL(SC_I64_T, SW_ASIS, f, int64_t, 0, 0)
#define SC_I64_OPT(f, null)  SC_COL(SC_I64_T, SW_OPT, f, int64_t, 0, null)
#define SC_LONG(f)           SC_COL(SC_LONG_T, SW_ASIS, f, long, 0, 0)
#define SC_LONG_OPT(f, null) SC_COL(SC_LONG_T, SW_OPT, f, long, 0, null)
#define SC_INT(f)            SC_COL(SC_INT_T, SW_ASIS, f, int, 0, 0)
#define SC_BLOB(f, n, w)     SC_COL(SC_BLOB_T, w, f, const void *, SC_FIELD(n, size_t), 0)
/* clang-format on */

/*
 * The structs of store.h that rows fill, one line each: its kind, its
 * struct, and its member in the unions that hold one of them (a walk's
 * callback in struct store_rows, the row that store_row() fills).
 */
/* clang-format off */
#define STORE_KINDS(X) \
	X(SK_MSG,     store_msg,     msg) \
	X(SK_VERDICT, store_verdict, verdict) \
	X(SK_BLOCK,   store_block,   block) \
	X(SK_HOLD,    store_hold,    hold) \
	X(SK_ON_HOLD, store_on_hold, on_hold) \
	X(SK_JOB,     store_job,     job) \
	X(SK_BOUNCE,  store_bounce,  bounce) \
	X(SK_DELIV,   store_deliveries, deliv) \
	X(SK_CLIENT,  store_client,  client) \
	X(SK_CMSG,    store_cmsg,    cmsg) \
	X(SK_DECISION, store_decision, decision)
#define STORE_KIND_ENUM(kind, s, m) kind,
#define STORE_KIND_CB(kind, s, m)   int (*m)(void *, const struct s *);
#define STORE_KIND_ROW(kind, s, m)  struct s m;
/* clang-format on */

enum store_kind { STORE_KINDS(STORE_KIND_ENUM) };

/* The row map of one kind. */
struct store_map {
	enum store_kind kind;
	const struct store_col *col;
	size_t ncol;
};

/* The rows of a walk: how they fill their struct, and the caller's callback. */
struct store_rows {
	const struct store_map *map;
	union {
		STORE_KINDS(STORE_KIND_CB)
	} cb; /* the member of map->kind */
	void *ctx;
};

/*
 * store_row_fn - called by store_walk() for each row of st; its non-zero
 * return stops the walk and is what store_walk() returns.  Column text
 * and blobs live until it returns.
 */
typedef int (*store_row_fn)(sqlite3_stmt *st, void *arg);

/*
 * store_run - bind v[0..nv) to ?1..?nv of statement which and step it to
 * its end (a statement without rows).  0, or -1 with err.
 */
int store_run(struct store *, enum store_st which, const struct store_val *v, size_t nv, char *err,
    size_t errlen);

/*
 * store_walk - the one row walker: bind v[0..nv) to statement which and
 * call row(st, arg) for every row.  0 when every row was seen, row's
 * non-zero return as is, or -1 with "path: what: reason" in err (what:
 * the statement's entry in the table).  Bound values are copied, so the
 * caller's strings may change during the walk; row may call any store
 * function, even a walk of the same statement (that one runs on a
 * statement of its own).
 */
int store_walk(struct store *, enum store_st which, const struct store_val *v, size_t nv,
    store_row_fn row, void *arg, char *err, size_t errlen);

/*
 * store_put - bind the fields of row, a struct of map's kind, by the map
 * and run statement which (as store_run)
 */
int store_put(struct store *, enum store_st which, const struct store_map *map, const void *row,
    char *err, size_t errlen);

/* store_row_vals - the fields of row, a struct of map's kind, as values v[0..map->ncol) */
void store_row_vals(const struct store_map *map, const void *row, struct store_val *v);

#define STORE_BULK_ROWS 16 /* rows of ST_BULK_MSGS */

/*
 * store_row - the row function of every walk over structs: fill the
 * struct of the store_rows at arg by its map, then return what the
 * caller's callback returns
 */
int store_row(sqlite3_stmt *st, void *arg);

/*
 * store_int_row - a row function for one-row queries: the first column
 * into the int64_t at arg (left as it is for SQL NULL); stops the walk
 * with 1
 */
int store_int_row(sqlite3_stmt *st, void *arg);

/* store_int_query - the number a one-row statement without parameters reads; -1 on error */
int64_t store_int_query(struct store *s, enum store_st st);

/* store_seterr - format into err when there is room; returns -1 */
int store_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* store_col_str - a text column as a C string, NULL for SQL NULL */
const char *store_col_str(sqlite3_stmt *, int col);

/* store_col_int - an integer column, dflt for SQL NULL */
int64_t store_col_int(sqlite3_stmt *, int col, int64_t dflt);

/* store_msg_map - the row map of struct store_msg (store_count.c), for store_cluster.c */
extern const struct store_map *const store_msg_map;

/*
 * store_ident_vals - the two values of a statement of an identity family
 * (store.c's IDENT_FAMILY) for identity "kind:value": v[0] its value (a
 * uid as an integer), v[1] arg2; the kind in *kind.  0, or -1 with err.
 */
int store_ident_vals(const char *identity, int64_t arg2, struct store_val v[2],
    enum ident_kind *kind, char *err, size_t errlen);

/*
 * store_kept.c: an identity's messages with those the daemon's batch
 * keeps back merged in.  store_kept_leaves() - statement which may leave
 * the kept messages in memory (store_bulk_before()).  store_msg_copy() -
 * a message copied with its place (time_us, id) in RECENT's and QUEUED's
 * order (NULL: no memory); store_msg_copy_less() - a is before (t, id).
 * store_kept_as_read() - a kept message as its row reads back.
 * store_kept_rows() - copies of the kept messages of identity kind k,
 * value v (queued: from since_us on, not removed), oldest id first; 0 or
 * -1 with err.  store_kept_queued() - the walk of a QUEUED statement
 * with the kept rows merged in, as store_walk() returns.
 */
struct store_msg_copy {
	int64_t t, id;
	struct store_msg m;
	char data[]; /* m's strings */
};
int store_kept_leaves(enum store_st which);
struct store_msg_copy *store_msg_copy(const struct store_msg *m, int64_t id);
void store_msg_copies_free(struct store_msg_copy **c, size_t n);
int store_msg_copy_less(const struct store_msg_copy *a, int64_t t, int64_t id);
struct store_msg store_kept_as_read(const struct store_msg *m);
int store_kept_rows(struct store *s, enum ident_kind k, const struct store_val *v, int queued,
    int64_t since_us, struct store_msg_copy ***rows, size_t *n, char *err, size_t errlen);
int store_kept_queued(struct store *s, enum store_st which, enum ident_kind k,
    const struct store_val v[2], struct store_rows *r, char *err, size_t errlen);

/*
 * store_schema.c: store_migrations[i] takes a database from user_version
 * i to i+1 (sql for every database, file_sql only for files); there are
 * store_nmigrations steps
 */
struct store_migration {
	const char *sql, *file_sql;
};
extern const struct store_migration store_migrations[];
extern const int store_nmigrations;

#endif
