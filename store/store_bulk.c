/*
 * NAME
 *	store_bulk - fill a new state file in one go: without upkeep of its
 *	look-up indexes, and each message written once with its outcomes;
 *	the daemon's batches likewise, with the indexes
 * SUMMARY
 *	`sendguard audit --state FILE` writes every message of a log into a
 *	file in one go, and nothing reads them back while it does.  Two
 *	costs of the daemon's way of writing are left out then, and the
 *	file ends with the same rows and the same schema.
 *
 *	The indexes.  A file's indexes by login, sender, client address,
 *	uid and queue ID (the file_sql of the migrations (store_schema.c):
 *	what status, explain and enforcement look up) cost most of the
 *	write time when kept up to date row by row.  store_bulk_begin()
 *	drops them from a file that holds no message yet, store_bulk_end()
 *	makes them again from the same SQL over the finished table, so the
 *	file ends with exactly the schema a daemon makes (sqlite_master
 *	holds the same text).  The messages_time index stays: the delivery
 *	outcomes of messages already written find their row through it.
 *	Both steps are one transaction each, so a file has all of the
 *	indexes or none.  A load cut short (killed, out of disk) leaves none:
 *	store_bulk_heal(), at every writable open, makes them then; readers
 *	in the meantime get the same answers, only slower.  Those three are
 *	in store_bulk_ix.c.
 *
 *	The outcomes.  The daemon inserts a message and then, for each of
 *	its delivery lines, UPDATEs its row.  In a bulk load a message added
 *	inside a batch is kept back instead (store_bulk_add()), the outcomes
 *	of the batch are summed on it in memory (store_bulk_outcome()), and
 *	its row is inserted once, with its sums, before the batch commits
 *	(store_bulk_flush(), from store_commit(): STORE_BULK_ROWS rows to
 *	an INSERT, as a statement's step costs about a third of a row's
 *	write), or earlier when
 *	BULK_PEND_MAX messages are kept back (the oldest goes).  An outcome
 *	of a message already written is the usual UPDATE: most outcomes come
 *	within seconds of their message, so only those of the last messages
 *	of a batch are.  A message is not written when its queue file is
 *	removed: a content filter's copy delivers it after that (amavis: a
 *	quarter of the deliveries of the bench log), so that wrote half of
 *	the outcomes as UPDATEs.  Every commit leaves the file with the rows
 *	the daemon's way leaves: each message with the id it would have had
 *	(ids are given, counted from the empty table) and the sums of its
 *	outcomes so far.  A rollback forgets what was kept back
 *	(store_bulk_drop()), as it does the rows.
 *
 *	One outcome UPDATEs every row of its key (host, instance, queue ID,
 *	time).  So a message is kept back only while it is the one row of
 *	its key: one whose key the file holds already (a reused queue ID in
 *	the same microsecond) is written at once, and one whose key is kept
 *	back already makes that one written first.  Messages without a
 *	queue ID, which no outcome names, are written at once.  Whether the
 *	file holds the key is not looked up: a message no newer than the
 *	newest written (only such a one can share its key) is written at
 *	once, which gives the same rows either way.
 *
 *	The writer thread.  The SQLite work of a batch runs on a second
 *	core while the audit parses the next batch.  store_commit() hands
 *	the batch (BEGIN, the writes queued, the messages kept back, COMMIT)
 *	to the thread and returns (store_bulk_on_commit()); store_begin()
 *	only notes the batch; the writes the audit makes inside a batch
 *	(outcome UPDATEs of messages already written, bounces, verdicts,
 *	messages written at once: each a statement whose only answer is
 *	success) are queued in memory with copies of their values
 *	(store_bulk_on_run(), at most BULK_OPS_MAX).  The connection is used
 *	by one thread at a time (opened SQLITE_OPEN_NOMUTEX; handed over
 *	with a mutex and a condition variable): any other use of it by the
 *	caller (store_bulk_sync(), from every statement of store.c) first
 *	waits for the writer and runs the queue, and the rest of that batch
 *	runs at once, as without the thread.  An error of the writer (a full
 *	disk) is returned by the next call that waits for it, at the latest
 *	the next store_commit() or store_bulk_wait(), with the text the
 *	failing statement gave; it stays until a rollback.  The file holds a
 *	committed batch once the writer is done with it.  At the end it makes
 *	the indexes too (store_bulk_on_end(): store_bulk_finish() of
 *	store_bulk_ix.c) while the audit prints its report.  Without the thread
 *	(pthread_create failed, or an SQLite built without threads:
 *	sqlite3_threadsafe() 0; Debian's is 1) every commit is written in
 *	the caller.
 *
 *	The daemon's batches (store_bulk_keep(), from `run`): the same
 *	keeping back of a batch's messages with their outcomes summed, in a
 *	file that holds rows already and keeps its indexes, without the
 *	thread, their INSERTs OR ROLLBACK (bulk_write_list() says why).  The daemon reads inside a batch (the enforcement looks up
 *	an identity's messages at a verdict), so a read must see every
 *	message added.  The enforcement's reads of an identity's queued and
 *	newest messages take the kept messages from memory, merged into the
 *	file's rows (store_kept.c, through store_bulk_kept()), so a verdict
 *	writes nothing; before any other statement that reads or writes the
 *	messages table, other than those that take the kept messages into
 *	account (store_bulk_before(), store_kept_leaves()), the kept
 *	messages are written; a removal (ST_MARK_REMOVED) is noted on the kept message too
 *	(store_bulk_removed()) while the statement still runs for the rows
 *	written, which may hold an older message of the same queue ID.  The
 *	ids are counted from max(id) + 1 and the newest time written is read
 *	from the file at the first message of each batch, and the id again
 *	after any statement that may delete rows (a prune), so each message
 *	gets the id the daemon's INSERT gave it.  So after every commit the
 *	file holds the same rows as before, the cursor and the tracker's
 *	state in the same transaction as ever: exactly once is untouched.
 * RETURNS
 *	0 or 1 (store_bulk_begin: whether it dropped them), or -1 with
 *	"path: what: sqlite message" in err.  Never prints, never exits.
 * UNTRUSTED INPUT
 *	Hosts, instances, queue IDs and identities from the log: copied with
 *	their lengths, hashed as map keys (util/hmap, keyed SipHash) and
 *	bound as parameters.  The SQL here is constant text.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store_priv.h"
#include "util/hmap.h"

#define BULK_PEND_MAX 4096 /* messages kept back at most */
#define BULK_KEY_MAX 768   /* host, instance, queue ID and their NULs */
#define BULK_OPS_MAX 65536 /* writes queued in a batch at most */

/* One write queued while the writer thread has the connection: a statement and its values. */
struct bulk_op {
	struct bulk_op *next;
	enum store_st which;
	size_t nv;
	struct store_val v[]; /* then the bytes of the text and blob values */
};

/* One message kept back: its row as it will be written. */
struct bulk_msg {
	struct bulk_msg *prev, *next; /* kept back, oldest first */
	struct store_msg m;           /* strings in data */
	int64_t n[3];                 /* delivered, deferred, bounced (enum store_status) */
	int64_t id;
	uint64_t h;  /* hmap_hash() of the key, */
	size_t klen; /* data[0..klen) (the index keeps a pointer to it) */
	char data[]; /* host\0instance\0queue_id\0, sasl\0, sender\0, client_ip\0 */
};

/* What a bulk load keeps back. */
struct bulk_load {
	struct hmap *ix; /* key (host\0instance\0queue_id) -> struct bulk_msg */
	struct bulk_msg *head, *tail;
	size_t n;
	int64_t next_id; /* the id of the next message; 0: to be read from the file */
	int64_t max_us;  /* the newest time of a message written (INT64_MIN: none) */
	int keep;        /* the daemon's (store_bulk_keep): indexes kept, no thread */
	int max_known;   /* keep: max_us read from the file in this batch */
	/* the batch, as the parsing thread sees it */
	int in_batch;                /* store_begin() was called, store_commit() not yet */
	int deferred;                /* its BEGIN and its writes (ops) wait for a commit */
	int handed;                  /* a commit is with the writer */
	struct bulk_op *ops, **opt;  /* the batch's writes */
	struct bulk_op *pre, **pret; /* writes outside a batch, after the commit handed */
	size_t nops;
	/* the writer thread */
	int thread; /* started */
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct bulk_job {
		struct bulk_op *pre;   /* first these, each its own transaction */
		int begin;             /* then BEGIN */
		struct bulk_op *ops;   /* in their order */
		struct bulk_msg *held; /* then these, oldest first, and COMMIT */
		int index;             /* none of those: make the indexes (store_bulk_index) */
	} job;
	int busy, stop, wfailed; /* under mu */
	int indexed;             /* set under mu: the writer made the indexes */
	char werr[512];          /* written by the writer when it sets wfailed */
	int failed;              /* the parsing thread's copy of wfailed, and its error: */
	char ferr[512];
};

/* set in the writer thread, and while the parsing thread replays the queue */
static _Thread_local int bulk_direct;

/*
 * bulk_row - a message row of ST_BULK_MSG: the columns of ST_ADD_MSG,
 * then its outcomes and its id
 */
struct bulk_row {
	struct store_msg m;
	int64_t delivered, deferred, bounced, id;
};

#define SC_ROW struct bulk_row
static const struct store_col bulk_cols[] = { SC_I64(m.time_us), SC_STR(m.host, SW_OPT),
	SC_STR(m.instance, SW_OPT), SC_STR(m.queue_id, SW_OPT), SC_STR(m.sasl, SW_OPT),
	SC_STR(m.sender, SW_OPT), SC_STR(m.client_ip, SW_OPT), SC_LONG_OPT(m.uid, -1),
	SC_LONG(m.nrcpt), SC_I64_OPT(m.removed_us, 0), SC_I64(delivered), SC_I64(deferred),
	SC_I64(bounced), SC_I64(id) };
#undef SC_ROW
static const struct store_map bulk_map = { SK_MSG, bulk_cols, STORE_NVAL(bulk_cols) };

static void bulk_free(struct store *s);
static void bulk_start(struct store *s);

/* ------------------------------------------ the messages kept back */

/* bulk_key - host\0instance\0queue_id\0 of m into buf; its length, 0 without a queue ID */
static size_t
bulk_key(char *buf, size_t size, const char *host, const char *instance, const char *qid)
{
	const char *part[3] = { host, instance, qid };
	size_t len = 0, n;
	int i;

	if (qid == NULL || qid[0] == '\0')
		return 0;
	for (i = 0; i < 3; i++) {
		/* NULL and "" are both SQL NULL (sv_opt), so both are "" here */
		n = part[i] != NULL ? strlen(part[i]) : 0;
		if (n + 1 > size - len)
			return 0;
		if (n > 0)
			memcpy(buf + len, part[i], n);
		buf[len + n] = '\0';
		len += n + 1;
	}
	return len;
}

/* bulk_next_id - the id the next message gets; -1 with err */
static int64_t
bulk_next_id(struct store *s, char *err, size_t errlen)
{
	struct bulk_load *L = s->load;

	if (L->next_id == 0 &&
	    (L->next_id = store_bulk_count(s, "SELECT coalesce(max(id), 0) + 1 FROM messages", err,
		 errlen)) < 0) {
		L->next_id = 0;
		return -1;
	}
	return L->next_id++;
}

/* bulk_insert - write message m with its id and outcomes n[] (NULL: none); 0 or -1 */
static int
bulk_insert(struct store *s, const struct store_msg *m, int64_t id, const int64_t *n, char *err,
    size_t errlen)
{
	struct bulk_row r = { .m = *m, .id = id };

	if (n != NULL) {
		r.delivered = n[STORE_SENT];
		r.deferred = n[STORE_DEFERRED];
		r.bounced = n[STORE_BOUNCED];
	}
	if (store_put(s, ST_BULK_MSG, &bulk_map, &r, err, errlen) < 0)
		return -1;
	if (m->time_us > s->load->max_us)
		s->load->max_us = m->time_us;
	return 0;
}

/* bulk_unlink - take b out of the list and the index, and free it */
static void
bulk_unlink(struct bulk_load *L, struct bulk_msg *b)
{
	if (b->prev != NULL)
		b->prev->next = b->next;
	else
		L->head = b->next;
	if (b->next != NULL)
		b->next->prev = b->prev;
	else
		L->tail = b->prev;
	(void)hmap_del_h(L->ix, b->h, b->data, b->klen);
	L->n--;
	free(b);
}

/* bulk_write - write the message kept back b, with its outcomes, and forget it; 0 or -1 */
static int
bulk_write(struct store *s, struct bulk_msg *b, char *err, size_t errlen)
{
	int rc = bulk_insert(s, &b->m, b->id, b->n, err, errlen);

	bulk_unlink(s->load, b);
	return rc;
}

/* bulk_keep - keep m back under key[0..klen) (hash h, not kept yet) with id; 0 or -1 (ENOMEM) */
static int
bulk_keep(struct store *s, const struct store_msg *m, const char *key, size_t klen, uint64_t h,
    int64_t id, char *err, size_t errlen)
{
	struct bulk_load *L = s->load;
	size_t more = (m->sasl ? strlen(m->sasl) + 1 : 0) +
	    (m->sender ? strlen(m->sender) + 1 : 0) + (m->client_ip ? strlen(m->client_ip) + 1 : 0);
	struct bulk_msg *b;
	void *old;
	char *p;

	if ((b = calloc(1, sizeof(*b) + klen + more)) != NULL)
		memcpy(b->data, key, klen); /* the index keeps this copy of the key */
	if (b == NULL || hmap_put_ref_h(L->ix, h, b->data, klen, b, &old) < 0) {
		free(b);
		return store_seterr(err, errlen, "%s: add message: out of memory", s->path);
	}
	b->h = h;
	b->klen = klen;
	b->id = id;
	b->m = *m;
	b->m.host = b->data;
	b->m.instance = b->data + strlen(b->data) + 1;
	b->m.queue_id = b->m.instance + strlen(b->m.instance) + 1;
	p = b->data + klen;
	b->m.sasl = store_copy_str(&p, m->sasl);
	b->m.sender = store_copy_str(&p, m->sender);
	b->m.client_ip = store_copy_str(&p, m->client_ip);
	b->prev = L->tail;
	if (L->tail != NULL)
		L->tail->next = b;
	else
		L->head = b;
	L->tail = b;
	L->n++;
	return 0;
}

/*
 * store_bulk_add - a message of a bulk load: kept back inside a batch
 * while it is the one row of its key, else written at once (store_priv.h)
 */
int
store_bulk_add(struct store *s, const struct store_msg *m, int64_t *idp, char *err, size_t errlen)
{
	struct bulk_load *L = s->load;
	struct bulk_msg *b;
	char key[BULK_KEY_MAX];
	size_t klen = bulk_key(key, sizeof(key), m->host, m->instance, m->queue_id);
	uint64_t h = klen > 0 ? hmap_hash(key, klen) : 0; /* once, for both look-ups */
	int64_t id;

	/* the daemon's file holds rows already: its newest, once a batch */
	if (L->keep && !L->max_known) {
		if (store_last_message_time(s, &L->max_us, err, errlen) < 0)
			return -1;
		L->max_known = 1;
	}
	if ((*idp = id = bulk_next_id(s, err, errlen)) < 0)
		return -1;
	if (klen > 0 && (b = hmap_get_h(L->ix, h, key, klen)) != NULL &&
	    bulk_write(s, b, err, errlen) < 0)
		return -1;
	/*
	 * Only a message no newer than the newest written may share its key
	 * with a row of the file: written at once (exact either way, and no
	 * look-up that would wait for the writer thread).
	 */
	if (klen == 0 || !(L->thread ? L->in_batch : !sqlite3_get_autocommit(s->db)) ||
	    m->time_us <= L->max_us)
		return bulk_insert(s, m, id, NULL, err, errlen);
	if (L->n >= BULK_PEND_MAX && bulk_write(s, L->head, err, errlen) < 0)
		return -1;
	return bulk_keep(s, m, key, klen, h, id, err, errlen);
}

/* store_bulk_outcome - add o to its message when that is kept back: 1, else 0 */
int
store_bulk_outcome(struct store *s, const struct store_outcome *o)
{
	const struct store_msg *m = o->msg;
	struct bulk_msg *b;
	char key[BULK_KEY_MAX];
	size_t klen;

	if (s->load == NULL || s->load->n == 0 ||
	    (klen = bulk_key(key, sizeof(key), m->host, m->instance, m->queue_id)) == 0 ||
	    (b = hmap_get(s->load->ix, key, klen)) == NULL || b->m.time_us != m->time_us)
		return 0;
	b->n[o->status] += o->n;
	return 1;
}

/*
 * store_bulk_removed - ST_MARK_REMOVED for the message kept back under
 * (host, instance, qid), if any (the statement itself still runs for the
 * rows written)
 */
void
store_bulk_removed(struct store *s, const char *host, const char *instance, const char *qid,
    int64_t time_us)
{
	struct bulk_msg *b;
	char key[BULK_KEY_MAX];
	size_t klen;

	if (s->load != NULL && s->load->n > 0 &&
	    (klen = bulk_key(key, sizeof(key), host, instance, qid)) > 0 &&
	    (b = hmap_get(s->load->ix, key, klen)) != NULL && b->m.removed_us == 0)
		b->m.removed_us = time_us;
}

/* bulk_row_of - the row of the message kept back b */
static struct bulk_row
bulk_row_of(const struct bulk_msg *b)
{
	struct bulk_row r = { .m = b->m,
		.delivered = b->n[STORE_SENT],
		.deferred = b->n[STORE_DEFERRED],
		.bounced = b->n[STORE_BOUNCED],
		.id = b->id };

	return r;
}

/*
 * bulk_write_rows - write the STORE_BULK_ROWS oldest messages of the list
 * *head in one statement (fewer steps: a bulk load's insert costs mostly
 * its statement), and free them; 0 or -1
 */
static int
bulk_write_rows(struct store *s, struct bulk_msg **head, char *err, size_t errlen)
{
	/* the daemon's: OR ROLLBACK (see bulk_write_list) */
	enum store_st which = s->load->keep ? ST_KEPT_MSGS : ST_BULK_MSGS;
	struct store_val v[STORE_BULK_ROWS * STORE_NVAL(bulk_cols)];
	struct bulk_row r;
	struct bulk_msg *b = *head, *next;
	int i, rc;

	for (i = 0; i < STORE_BULK_ROWS; i++, b = b->next) {
		r = bulk_row_of(b);
		store_row_vals(&bulk_map, &r, v + (size_t)i * STORE_NVAL(bulk_cols));
	}
	rc = store_run(s, which, v, STORE_NVAL(v), err, errlen);
	for (i = 0, b = *head; i < STORE_BULK_ROWS; i++, b = next) {
		next = b->next;
		free(b);
	}
	*head = b;
	return rc;
}

/*
 * bulk_write_list - write the messages of the list head, oldest first,
 * unless rc < 0 already, and free them; 0 or -1.  STORE_BULK_ROWS to a
 * statement, the rest one by one.  The daemon's (keep) statement is
 * INSERT OR ROLLBACK (ST_KEPT_MSGS): an INSERT of several rows that may
 * fail half-way with its transaction open makes SQLite keep a statement
 * journal (a temporary file) of every page it changes, which with the
 * file's indexes kept cost more than the statements saved (1M-line
 * catch-up: 0.3 s, most of it system time); one whose failure rolls the
 * transaction back needs none.  The daemon's batch fails as a whole
 * either way (a failed write stops it, the batch rolled back: exit 3;
 * SQLite may roll it back by itself at an I/O error or a full disk in a
 * write of one row already), and its ids are unique, so nothing changes
 * (1M-line catch-up: 0.09 s less CPU than one row to a statement).
 */
static int
bulk_write_list(struct store *s, struct bulk_msg *head, int rc, char *err, size_t errlen)
{
	struct bulk_msg *b;
	struct bulk_row r;
	size_t n = 0;

	for (b = head; b != NULL; b = b->next)
		n++;
	for (; n >= STORE_BULK_ROWS && rc == 0; n -= STORE_BULK_ROWS)
		rc = bulk_write_rows(s, &head, err, errlen);
	for (; head != NULL; head = b) {
		b = head->next;
		r = bulk_row_of(head);
		if (rc == 0)
			rc = store_put(s, ST_BULK_MSG, &bulk_map, &r, err, errlen);
		free(head);
	}
	return rc;
}

/*
 * bulk_detach - take every message kept back out of the index, note the
 * newest time, and give the list (they count as written from now on)
 */
static struct bulk_msg *
bulk_detach(struct bulk_load *L)
{
	struct bulk_msg *b, *head = L->head;

	for (b = head; b != NULL; b = b->next) {
		(void)hmap_del_h(L->ix, b->h, b->data, b->klen);
		if (b->m.time_us > L->max_us)
			L->max_us = b->m.time_us;
	}
	L->head = L->tail = NULL;
	L->n = 0;
	return head;
}

/* bulk_free_ops - free a list of queued writes */
static void
bulk_free_ops(struct bulk_op *op)
{
	struct bulk_op *next;

	for (; op != NULL; op = next) {
		next = op->next;
		free(op);
	}
}

/* bulk_reset - empty the queues (their writes now belong to a job) */
static void
bulk_reset(struct bulk_load *L)
{
	L->ops = L->pre = NULL;
	L->opt = &L->ops;
	L->pret = &L->pre;
	L->nops = 0;
}

/* store_bulk_drop - forget the messages kept back and the writes queued (a rollback) */
void
store_bulk_drop(struct store *s)
{
	struct bulk_load *L = s->load;
	struct bulk_msg *b, *next;

	if (L == NULL)
		return;
	for (b = bulk_detach(L); b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	bulk_free_ops(L->ops);
	bulk_free_ops(L->pre);
	bulk_reset(L);
	L->next_id = 0; /* the rows rolled back gave their ids back */
}

/* ------------------------------------------------- the writer thread */

/*
 * bulk_run - on the connection, in this thread: BEGIN when begin, the
 * writes queued, then (when commit) the messages of held and COMMIT.
 * Frees ops and held; 0 or -1 with err (the rest is not written).
 */
static int
bulk_run(struct store *s, const struct bulk_job *j, int commit, char *err, size_t errlen)
{
	struct bulk_op *op;
	int rc = 0;

	bulk_direct = 1;
	if (j->index) {
		rc = store_bulk_index(s, err, errlen);
		bulk_direct = 0;
		return rc;
	}
	for (op = j->pre; op != NULL && rc == 0; op = op->next)
		rc = store_run(s, op->which, op->v, op->nv, err, errlen);
	bulk_free_ops(j->pre);
	if (j->begin && rc == 0)
		rc = store_begin(s, err, errlen) < 0 ? -1 : 0;
	for (op = j->ops; op != NULL && rc == 0; op = op->next)
		rc = store_run(s, op->which, op->v, op->nv, err, errlen);
	bulk_free_ops(j->ops);
	if (commit) {
		rc = bulk_write_list(s, j->held, rc, err, errlen);
		if (rc == 0)
			rc = store_commit(s, err, errlen);
	}
	bulk_direct = 0;
	return rc;
}

/* bulk_writer - the writer thread: runs each job handed to it, until told to stop */
static void *
bulk_writer(void *arg)
{
	struct store *s = arg;
	struct bulk_load *L = s->load;
	struct bulk_job j;
	char err[sizeof(L->werr)];
	int rc;

	(void)pthread_mutex_lock(&L->mu);
	for (;;) {
		while (!L->busy && !L->stop)
			(void)pthread_cond_wait(&L->cv, &L->mu);
		if (!L->busy)
			break;
		j = L->job;
		(void)pthread_mutex_unlock(&L->mu);
		rc = bulk_run(s, &j, 1, err, sizeof(err));
		(void)pthread_mutex_lock(&L->mu);
		if (rc < 0 && !L->wfailed) {
			L->wfailed = 1;
			memcpy(L->werr, err, sizeof(err));
		}
		if (rc == 0 && j.index)
			L->indexed = 1;
		L->busy = 0;
		(void)pthread_cond_broadcast(&L->cv);
	}
	(void)pthread_mutex_unlock(&L->mu);
	return NULL;
}

/*
 * bulk_wait - wait until the writer has done what it was handed; -1 with
 * its error (which stays until a rollback), else 0
 */
static int
bulk_wait(struct bulk_load *L, char *err, size_t errlen)
{
	if (L->handed) {
		(void)pthread_mutex_lock(&L->mu);
		while (L->busy)
			(void)pthread_cond_wait(&L->cv, &L->mu);
		if (L->wfailed && !L->failed) {
			L->failed = 1;
			memcpy(L->ferr, L->werr, sizeof(L->ferr));
		}
		L->wfailed = 0;
		(void)pthread_mutex_unlock(&L->mu);
		L->handed = 0;
	}
	if (L->failed)
		return store_seterr(err, errlen, "%s", L->ferr);
	return 0;
}

/*
 * store_bulk_sync - before a use of the connection by the parsing
 * thread: wait for the writer, then run the BEGIN and the writes queued
 * in this batch (the rest of the batch runs at once); 0 or -1 with err
 */
int
store_bulk_sync(struct store *s, char *err, size_t errlen)
{
	struct bulk_load *L = s->load;
	struct bulk_job j = { 0 };

	if (L == NULL || bulk_direct || (!L->handed && !L->deferred && !L->failed && !L->pre))
		return 0;
	if (bulk_wait(L, err, errlen) < 0)
		return -1;
	j.pre = L->pre;
	j.begin = L->deferred;
	j.ops = L->ops;
	bulk_reset(L);
	L->deferred = 0;
	return bulk_run(s, &j, 0, err, errlen);
}

/* bulk_queueable - a write whose only answer is success: it may wait for the commit */
static int
bulk_queueable(enum store_st which)
{
	return which == ST_BULK_MSG || which == ST_ADD_OUTCOME || which == ST_ADD_BOUNCE ||
	    which == ST_ADD_VERDICT;
}

/*
 * store_bulk_on_run - before store_run(): queue the write (0), or -1 with
 * err, or 1: run it now (after store_bulk_sync())
 */
int
store_bulk_on_run(struct store *s, enum store_st which, const struct store_val *v, size_t nv,
    char *err, size_t errlen)
{
	struct bulk_load *L = s->load;
	struct bulk_op *op;
	size_t i, bytes = 0;
	char *p;

	if (L == NULL || bulk_direct)
		return 1;
	/* in a batch, or between batches while the writer commits the last */
	if (!(L->deferred || (!L->in_batch && (L->handed || L->pre != NULL))) ||
	    !bulk_queueable(which) || L->nops >= BULK_OPS_MAX)
		return store_bulk_sync(s, err, errlen) < 0 ? -1 : 1;
	for (i = 0; i < nv; i++)
		if (v[i].type == SV_TEXT || v[i].type == SV_BLOB)
			bytes += v[i].n;
	if ((op = malloc(sizeof(*op) + nv * sizeof(op->v[0]) + bytes)) == NULL)
		return store_seterr(err, errlen, "%s: %s: out of memory", s->path, "bulk load");
	op->next = NULL;
	op->which = which;
	op->nv = nv;
	p = (char *)(op->v + nv);
	for (i = 0; i < nv; i++) {
		op->v[i] = v[i];
		if ((v[i].type == SV_TEXT || v[i].type == SV_BLOB) && v[i].n > 0) {
			memcpy(p, v[i].p, v[i].n);
			op->v[i].p = p;
			p += v[i].n;
		}
	}
	if (L->deferred) {
		*L->opt = op;
		L->opt = &op->next;
	} else {
		*L->pret = op;
		L->pret = &op->next;
	}
	L->nops++;
	return 0;
}

/*
 * store_bulk_before - before statement which (store_run, store_walk):
 * the daemon's messages kept back are written first unless which leaves
 * them alone (store_kept_leaves), so that every read sees them and every other
 * write finds them; 0 or -1 with err
 */
int
store_bulk_before(struct store *s, enum store_st which, char *err, size_t errlen)
{
	struct bulk_load *L = s->load;
	int rc;

	if (L == NULL || !L->keep || bulk_direct || store_kept_leaves(which))
		return 0;
	L->next_id = 0; /* which may delete rows: the next id is read again */
	if (L->n == 0)
		return 0;
	bulk_direct = 1;
	rc = bulk_write_list(s, bulk_detach(L), 0, err, errlen);
	bulk_direct = 0;
	return rc;
}

/*
 * store_bulk_kept - the daemon's messages kept back, oldest first: the
 * one after *it (NULL: the first), with its id; NULL after the last or
 * outside the daemon's batches (store_kept.c reads them)
 */
const struct store_msg *
store_bulk_kept(const struct store *s, const void **it, int64_t *id)
{
	const struct bulk_msg *b = *it;

	if (s->load == NULL || !s->load->keep)
		return NULL;
	if ((b = b == NULL ? s->load->head : b->next) == NULL)
		return NULL;
	*it = b;
	*id = b->id;
	return &b->m;
}

/* store_bulk_keep - see store.h */
int
store_bulk_keep(struct store *s, char *err, size_t errlen)
{
	if (s->memory || s->readonly || s->load != NULL)
		return 0;
	return store_bulk_load_new(s, 1, err, errlen);
}

/* store_bulk_on_begin - store_begin() of a bulk load: 0 (deferred), -1, or 1: begin now */
int
store_bulk_on_begin(struct store *s, char *err, size_t errlen)
{
	struct bulk_load *L = s->load;

	if (L != NULL && L->keep) { /* rows may have gone since: ids and times read again */
		L->next_id = 0;
		L->max_known = 0;
		return 1;
	}
	if (L == NULL || bulk_direct || !L->thread)
		return 1;
	if (L->in_batch || L->failed)
		return store_bulk_sync(s, err, errlen) < 0 ? -1 : 1;
	L->in_batch = 1;
	L->deferred = 1;
	return 0;
}

/* bulk_hand - give job j to the writer thread, which must be idle */
static void
bulk_hand(struct bulk_load *L, const struct bulk_job *j)
{
	(void)pthread_mutex_lock(&L->mu);
	L->job = *j;
	L->busy = 1;
	(void)pthread_cond_broadcast(&L->cv);
	(void)pthread_mutex_unlock(&L->mu);
	L->handed = 1;
}

/*
 * store_bulk_on_commit - store_commit() of a bulk load: hand the batch
 * (its BEGIN, its queued writes, the messages kept back, COMMIT) to the
 * writer and return 0 at once; without the thread write them here; -1
 * with err (the writer's error of the batch before); 1: commit now
 */
int
store_bulk_on_commit(struct store *s, char *err, size_t errlen)
{
	struct bulk_load *L = s->load;
	struct bulk_job j = { 0 };

	if (L == NULL || bulk_direct)
		return 1;
	if (!L->thread) {
		if (sqlite3_get_autocommit(s->db))
			return 1;
		return bulk_run(s, &(struct bulk_job){ .held = bulk_detach(L) }, 1, err, errlen);
	}
	if (!L->in_batch)
		return store_bulk_sync(s, err, errlen) < 0 ? -1 : 1;
	if (bulk_wait(L, err, errlen) < 0)
		return -1;
	j.pre = L->pre;
	j.begin = L->deferred;
	j.ops = L->ops;
	j.held = bulk_detach(L);
	bulk_reset(L);
	L->in_batch = L->deferred = 0;
	bulk_hand(L, &j);
	return 0;
}

/*
 * store_bulk_on_end - hand the making of the indexes to the writer (1),
 * or 0: no writer, it is for the caller; -1 with err (the writer's error
 * of the last batch, or a batch is open)
 */
int
store_bulk_on_end(struct store *s, char *err, size_t errlen)
{
	struct bulk_load *L = s->load;

	if (L == NULL || !L->thread || L->keep)
		return 0;
	if (store_bulk_sync(s, err, errlen) < 0)
		return -1;
	if (!sqlite3_get_autocommit(s->db))
		return store_seterr(err, errlen, "%s: bulk load: a transaction is open", s->path);
	bulk_hand(L, &(struct bulk_job){ .index = 1 });
	return 1;
}

/* store_bulk_indexed - whether the writer made the indexes (after store_bulk_sync()) */
int
store_bulk_indexed(const struct store *s)
{
	return s->load != NULL && s->load->indexed;
}

/* store_bulk_on_rollback - store_rollback() of a bulk load: wait, forget the batch */
void
store_bulk_on_rollback(struct store *s)
{
	struct bulk_load *L = s->load;

	if (L == NULL || bulk_direct)
		return;
	(void)bulk_wait(L, NULL, 0);
	if (L->pre != NULL && !L->failed) {
		/* writes outside the batch, done before it began: they stay */
		struct bulk_job j = { .pre = L->pre };

		L->pre = NULL;
		L->pret = &L->pre;
		(void)bulk_run(s, &j, 0, NULL, 0);
	}
	store_bulk_drop(s);
	L->in_batch = L->deferred = L->failed = 0;
}

/* store_bulk_wait - see store.h */
int
store_bulk_wait(struct store *s, char *err, size_t errlen)
{
	return s->load == NULL ? 0 : store_bulk_sync(s, err, errlen);
}

/* bulk_stop - wait for the writer and end the thread */
static void
bulk_stop(struct bulk_load *L)
{
	if (!L->thread)
		return;
	(void)bulk_wait(L, NULL, 0);
	(void)pthread_mutex_lock(&L->mu);
	L->stop = 1;
	(void)pthread_cond_broadcast(&L->cv);
	(void)pthread_mutex_unlock(&L->mu);
	(void)pthread_join(L->tid, NULL);
	(void)pthread_cond_destroy(&L->cv);
	(void)pthread_mutex_destroy(&L->mu);
	L->thread = 0;
}

/* store_bulk_stop - end the writer thread, forget the open batch (store_close); see store_priv.h */
void
store_bulk_stop(struct store *s)
{
	if (s->load == NULL)
		return;
	bulk_stop(s->load);
	store_bulk_on_rollback(s);
	if (s->load->keep)
		bulk_free(s);
}

/* bulk_free - end the writer, drop the messages kept back and the load itself */
static void
bulk_free(struct store *s)
{
	if (s->load == NULL)
		return;
	bulk_stop(s->load);
	store_bulk_drop(s);
	hmap_free(s->load->ix, NULL);
	free(s->load);
	s->load = NULL;
}

/* bulk_start - start the writer thread; without it the load writes in this thread */
static void
bulk_start(struct store *s)
{
	struct bulk_load *L = s->load;

	bulk_reset(L);
	/* a library built single-threaded (0) must not be used from two threads */
	if (sqlite3_threadsafe() == 0 || pthread_mutex_init(&L->mu, NULL) != 0)
		return;
	if (pthread_cond_init(&L->cv, NULL) != 0) {
		(void)pthread_mutex_destroy(&L->mu);
		return;
	}
	if (pthread_create(&L->tid, NULL, bulk_writer, s) != 0) {
		(void)pthread_cond_destroy(&L->cv);
		(void)pthread_mutex_destroy(&L->mu);
		return;
	}
	L->thread = 1;
}

/*
 * store_bulk_load_new - s->load for a bulk load (its thread started; the
 * table is empty) or, keep, for the daemon's batches; 0 or -1 with err
 */
int
store_bulk_load_new(struct store *s, int keep, char *err, size_t errlen)
{
	if ((s->load = calloc(1, sizeof(*s->load))) == NULL ||
	    (s->load->ix = hmap_new_ref()) == NULL) {
		free(s->load);
		s->load = NULL;
		return store_seterr(err, errlen, "%s: %s: out of memory", s->path,
		    keep ? "keeping messages" : "bulk load");
	}
	s->load->keep = keep;
	s->load->next_id = keep ? 0 : 1; /* a bulk load's table is empty */
	s->load->max_us = INT64_MIN;
	if (keep)
		bulk_reset(s->load);
	else
		bulk_start(s);
	return 0;
}

/* store_bulk_free - end the load: its writer, what it keeps back, the load itself */
void
store_bulk_free(struct store *s)
{
	bulk_free(s);
}
