/*
 * NAME
 *	store_enforce - the enforcement half of the store: blocks, holds
 *	and the job queue (action log)
 * SUMMARY
 *	Exports store_get_block(), store_put_block(), store_each_block(),
 *	store_add_hold(), store_hold_state(), store_each_hold(),
 *	store_holds_set_state(), store_count_holds(), store_each_on_hold(),
 *	store_add_job(), store_update_job(), store_each_job() and
 *	store_get_job().
 *
 *	Each function names one statement of the core's table (store.c).
 *	A block, a hold, an identity on hold and a job are described once,
 *	by a row map that gives both their columns when read and their
 *	parameters when written: store_put() writes one, store_walk() with
 *	store_row() reads them.  Other statements take a short list of
 *	values (store_run(), store_walk()).
 * RETURNS
 *	0, -1 with "path: what: reason" in err, or the value store.h
 *	documents (1/0 for a block found or not, a count, a job's id, a
 *	callback's non-zero return).  Never prints, never exits.
 * UNTRUSTED INPUT
 *	Identities (from the log and the control socket), hosts and queue
 *	IDs (from the log), argv and stdin of programs (built from them):
 *	all bound as parameters with their exact lengths, never pasted into
 *	SQL; blobs are read back byte-exact with their lengths.
 */
#include <string.h>

#include "store/store_priv.h"

/* block_map - the columns of BLOCK_COLS, the parameters of ST_PUT_BLOCK */
#define SC_ROW struct store_block
static const struct store_col block_cols[] = { SC_STR(identity, SW_ASIS), SC_STR(rule, SW_OPT),
	SC_I64(since_us), SC_I64(until_us), SC_LONG(count), SC_STR(state, SW_ASIS),
	SC_I64(ended_us), SC_I64(log_until_us), SC_STR(ips, SW_OPT) };
#undef SC_ROW
static const struct store_map block_map = { SK_BLOCK, block_cols, STORE_NVAL(block_cols) };

/*
 * hold_map - the columns of HOLD_COLS; the first five are the
 * parameters of ST_ADD_HOLD (host and instance are never NULL in holds)
 */
#define SC_ROW struct store_hold
static const struct store_col hold_cols[] = { SC_STR(host, SW_EMPTY), SC_STR(instance, SW_EMPTY),
	SC_STR(queue_id, SW_ASIS), SC_STR(identity, SW_ASIS), SC_I64(requested_us),
	SC_I64(changed_us), SC_STR(state, SW_ASIS) };
#undef SC_ROW
static const struct store_map hold_map = { SK_HOLD, hold_cols, STORE_NVAL(hold_cols) };

/* on_hold_map - the columns of ST_EACH_ON_HOLD */
#define SC_ROW struct store_on_hold
static const struct store_col on_hold_cols[] = { SC_STR(identity, SW_ASIS), SC_I64(held),
	SC_I64(since_us), SC_STR(block_state, SW_ASIS), SC_I64(until_us), SC_I64(ended_us) };
#undef SC_ROW
static const struct store_map on_hold_map = { SK_ON_HOLD, on_hold_cols, STORE_NVAL(on_hold_cols) };

/*
 * job_map - the columns of JOB_COLS, the parameters ?1..?10 of ST_ADD_JOB
 * (a job without identity is stored with ''; without argv, an empty one)
 */
#define SC_ROW struct store_job
static const struct store_col job_cols[] = { SC_I64(id), SC_I64(time_us),
	SC_STR(identity, SW_EMPTY), SC_STR(action, SW_ASIS), SC_BLOB(argv, argv_len, SW_EMPTY),
	SC_BLOB(stdin_data, stdin_len, SW_ASIS), SC_STR(status, SW_ASIS), SC_INT(attempts),
	SC_I64(next_us), SC_STR(outcome, SW_OPT) };
#undef SC_ROW
static const struct store_map job_map = { SK_JOB, job_cols, STORE_NVAL(job_cols) };

/* Where store_get_block() copies the block it found. */
struct block_copy {
	struct store_block *b;
	char *buf;
	size_t buflen;
	const char *path;
	char *err;
	size_t errlen;
};

/*
 * copy_block - the found block into *bc->b, its strings into bc->buf (the
 * row goes when the walk ends); 1, or -1 with err when they do not fit
 */
static int
copy_block(void *ctx, const struct store_block *b)
{
	const struct block_copy *bc = ctx;
	const char *id = b->identity ? b->identity : "", *ru = b->rule ? b->rule : "";
	const char *sta = b->state ? b->state : "", *ips = b->ips;
	size_t a = strlen(id) + 1, c = strlen(ru) + 1, d = strlen(sta) + 1;
	size_t e = ips != NULL ? strlen(ips) + 1 : 0;

	if (a + c + d + e > bc->buflen)
		return store_seterr(bc->err, bc->errlen,
		    "%s: read block: "
		    "identity too long",
		    bc->path);
	*bc->b = *b;
	memcpy(bc->buf, id, a);
	memcpy(bc->buf + a, ru, c);
	memcpy(bc->buf + a + c, sta, d);
	bc->b->identity = bc->buf;
	bc->b->rule = bc->buf + a;
	bc->b->state = bc->buf + a + c;
	if (ips != NULL) {
		memcpy(bc->buf + a + c + d, ips, e);
		bc->b->ips = bc->buf + a + c + d;
	}
	return 1;
}

/*
 * store_get_block - 1 and *b (strings copied into buf), 0 when none, -1;
 * *b is zeroed unless found
 */
int
store_get_block(struct store *s, const char *identity, struct store_block *b, char *buf,
    size_t buflen, char *err, size_t errlen)
{
	struct block_copy bc = { NULL, buf, buflen, s->path, err, errlen };
	struct store_rows r = { &block_map, { .block = copy_block }, &bc };
	const struct store_val v[] = { sv_text(identity) };

	memset(b, 0, sizeof(*b));
	bc.b = b;
	return store_walk(s, ST_GET_BLOCK, v, STORE_NVAL(v), store_row, &r, err, errlen);
}

/* store_put_block - insert or replace the identity's block */
int
store_put_block(struct store *s, const struct store_block *b, char *err, size_t errlen)
{
	return store_put(s, ST_PUT_BLOCK, &block_map, b, err, errlen);
}

/* store_each_block - blocks in state (NULL: all), by identity */
int
store_each_block(struct store *s, const char *state, int (*cb)(void *, const struct store_block *),
    void *ctx, char *err, size_t errlen)
{
	struct store_rows r = { &block_map, { .block = cb }, ctx };
	const struct store_val v[] = { sv_opt(state) };

	return store_walk(s, ST_EACH_BLOCK, v, STORE_NVAL(v), store_row, &r, err, errlen);
}

/* store_add_hold - a hold requested (ignored when that queue file is already recorded) */
int
store_add_hold(struct store *s, const struct store_hold *h, char *err, size_t errlen)
{
	return store_put(s, ST_ADD_HOLD, &hold_map, h, err, errlen);
}

/* store_hold_state - what postsuper logged for a queue file (instance "" matches any) */
int
store_hold_state(struct store *s, const char *host, const char *instance, const char *qid,
    const char *state, int64_t time_us, char *err, size_t errlen)
{
	const struct store_val v[] = {
		sv_text(state),
		sv_int(time_us),
		sv_text(qid),
		sv_text0(host),
		sv_text0(instance),
	};

	return store_run(s, ST_HOLD_STATE, v, STORE_NVAL(v), err, errlen);
}

/* store_each_hold - the identity's holds in state (NULL: any), oldest request first */
int
store_each_hold(struct store *s, const char *identity, const char *state,
    int (*cb)(void *, const struct store_hold *), void *ctx, char *err, size_t errlen)
{
	struct store_rows r = { &hold_map, { .hold = cb }, ctx };
	const struct store_val v[] = { sv_text(identity), sv_opt(state) };

	return store_walk(s, ST_EACH_HOLD, v, STORE_NVAL(v), store_row, &r, err, errlen);
}

/* store_holds_set_state - every requested or held hold of identity to state */
int
store_holds_set_state(struct store *s, const char *identity, const char *state, int64_t time_us,
    char *err, size_t errlen)
{
	const struct store_val v[] = {
		sv_text(state),
		sv_int(time_us),
		sv_text(identity),
	};

	return store_run(s, ST_HOLDS_STATE_IDENT, v, STORE_NVAL(v), err, errlen);
}

/* store_count_holds - the identity's holds requested or confirmed; -1 on error */
int64_t
store_count_holds(struct store *s, const char *identity)
{
	const struct store_val v[] = { sv_text(identity) };
	int64_t n = -1;

	if (store_walk(s, ST_COUNT_HOLDS, v, STORE_NVAL(v), store_int_row, &n, NULL, 0) < 0)
		return -1;
	return n;
}

/* store_each_on_hold - every identity with mail on hold, by identity */
int
store_each_on_hold(struct store *s, int (*cb)(void *, const struct store_on_hold *), void *ctx,
    char *err, size_t errlen)
{
	struct store_rows r = { &on_hold_map, { .on_hold = cb }, ctx };

	return store_walk(s, ST_EACH_ON_HOLD, NULL, 0, store_row, &r, err, errlen);
}

/* store_add_job - record a job's intent; its id, or -1 */
int64_t
store_add_job(struct store *s, const struct store_job *j, char *err, size_t errlen)
{
	if (store_put(s, ST_ADD_JOB, &job_map, j, err, errlen) < 0)
		return -1;
	return sqlite3_last_insert_rowid(s->db);
}

/* store_each_job - jobs of identity (NULL: all) in status (NULL: any), oldest first */
int
store_each_job(struct store *s, const char *identity, const char *status,
    int (*cb)(void *, const struct store_job *), void *ctx, char *err, size_t errlen)
{
	struct store_rows r = { &job_map, { .job = cb }, ctx };
	const struct store_val v[] = { sv_opt(identity), sv_opt(status) };

	return store_walk(s, ST_EACH_JOB, v, STORE_NVAL(v), store_row, &r, err, errlen);
}

/* store_get_job - call cb for the job id, if there is one */
int
store_get_job(struct store *s, int64_t id, int (*cb)(void *, const struct store_job *), void *ctx,
    char *err, size_t errlen)
{
	struct store_rows r = { &job_map, { .job = cb }, ctx };
	const struct store_val v[] = { sv_int(id) };

	return store_walk(s, ST_EACH_JOB_ID, v, STORE_NVAL(v), store_row, &r, err, errlen);
}

/* store_update_job - a job's status, attempts, next run and outcome */
int
store_update_job(struct store *s, int64_t id, const char *status, int attempts, int64_t next_us,
    const char *outcome, char *err, size_t errlen)
{
	const struct store_val v[] = {
		sv_int(id),
		sv_text(status),
		sv_int(attempts),
		sv_int(next_us),
		sv_opt(outcome),
	};

	return store_run(s, ST_UPDATE_JOB, v, STORE_NVAL(v), err, errlen);
}
