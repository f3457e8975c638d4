/*
 * NAME
 *	run_batch - the daemon's read and commit cycle (see run_priv.h)
 * SUMMARY
 *	Every wake reads what the log has through the same pipeline as
 *	`audit` (verdicts are logged and handed to enforcement as their line
 *	is read).  A batch is one transaction that holds its messages, its
 *	verdicts, the tracker's changed in-flight state and the log position
 *	(a file's offset or the journal's cursor) after its last line; it
 *	stays open across wakes and is committed once it holds DAEMON_BATCH
 *	lines or is COMMIT_MS old (a timer), and before anything else uses
 *	the database (run_settle: a control request, pruning, a reload, the
 *	stop).  So a busy log costs one commit every COMMIT_MS, not one per
 *	wake, and the programs of a verdict run at most COMMIT_MS after it,
 *	once it is recorded.  A wake less than WAKE_GAP_US after the last
 *	read waits out the rest of the gap first (run_on_log).  A cluster
 *	node commits at every wake (its cluster reads the outbox and writes
 *	the store from callbacks of its own).  While catching up (a batch
 *	filled up, so the log has more) the next batch may hold
 *	CATCHUP_BATCH lines instead, read in one go: a commit writes every
 *	page the batch touched in the indexes, so fewer, larger commits
 *	catch up sooner (its verdicts' programs then run up to that read's
 *	length after them, about 0.1 s).  A crash loses nothing and counts nothing twice: the next start
 *	resumes at the committed position.  A failure to write the database
 *	stops the daemon (exit 3) with the batch rolled back; a write lock
 *	that another process holds past the busy timeout is waited out
 *	(busy_wait), reading nothing meanwhile.
 *
 *	Catching up (a read that fills the batch), logsrc reads and parses
 *	the file on a reader thread (agent/logsrc.c) and hands its lines on
 *	here in their order; the rest (tracker, limits, enforcement, store,
 *	the commit) stays on this thread.  The rules that keep: the position
 *	committed is always that of the last line whose effects are in the
 *	same transaction (logsrc takes each line's own position as the
 *	pipeline has it, never the reader's, which is ahead: a crash loses
 *	the lines read ahead, and they are read again at the next start); a
 *	verdict's programs run after the commit that holds it, as before;
 *	control requests, reloads, pruning and the stop meet a settled
 *	database (the reader touches only the file); a write error stops the
 *	daemon with exit 3 and the batch rolled back, the lines read ahead
 *	dropped with it.  tests/test_catchup.c kills the daemon while the
 *	reader runs and checks every message is counted once.
 * UNTRUSTED INPUT
 *	The log's lines, through the pipeline.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actions/act.h"
#include "agent/cmds.h"
#include "agent/logsrc.h"
#include "agent/run_priv.h"
#include "cluster/cluster.h"
#include "count/track.h"
#include "store/store.h"
#include "util/ev.h"
#include "util/log.h"

#define WAKE_GAP_US 1000   /* the log is read at most once a millisecond (run_on_log) */
#define BUSY_FIRST_MS 1000 /* waits between tries while another process holds the database */
#define BUSY_MAX_MS 30000

/* mono_us - the monotonic clock in microseconds */
static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* kv_put / kv_del - the tracker's state into the store, inside the batch */
static int
kv_put(void *ctx, int ns, const void *k, size_t kn, const void *v, size_t vn)
{
	struct daemon *d = ctx;
	char err[256];

	if (store_kv_put(d->store, ns, k, kn, v, vn, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return (-1);
	}
	return (0);
}

static int
kv_del(void *ctx, int ns, const void *k, size_t kn)
{
	struct daemon *d = ctx;
	char err[256];

	if (store_kv_del(d->store, ns, k, kn, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return (-1);
	}
	return (0);
}

static const struct track_persist_ops kv_ops = { kv_put, kv_del };

/* The saved log's rows, copied before they are applied (not written to while walked). */
struct log_row {
	unsigned char *k, *v;
	size_t kn, vn;
};

struct log_rows {
	struct log_row *r;
	size_t n, cap;
	int nomem;
};

/* log_row - copy one saved log row (key, value) */
static int
log_row(void *ctx, const void *k, size_t kn, const void *v, size_t vn)
{
	struct log_rows *rs = ctx;
	struct log_row *r;

	if (rs->n == rs->cap) {
		size_t nc = rs->cap ? rs->cap * 2 : 64;
		struct log_row *nr = reallocarray(rs->r, nc, sizeof(*nr));

		if (nr == NULL) {
			rs->nomem = 1;
			return (1);
		}
		rs->r = nr;
		rs->cap = nc;
	}
	r = &rs->r[rs->n];
	if ((r->k = malloc(kn + 1)) == NULL || (r->v = malloc(vn + 1)) == NULL) {
		free(r->k);
		rs->nomem = 1;
		return (1);
	}
	memcpy(r->k, k, kn);
	memcpy(r->v, v, vn);
	r->kn = kn;
	r->vn = vn;
	rs->n++;
	return (0);
}

/* apply_rows - apply each row in order, then delete it; 0 or -1 (err set) */
static int
apply_rows(struct daemon *d, const struct log_rows *r, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		int rc = track_log_apply(r->r[i].v, r->r[i].vn, &kv_ops, d);

		if (rc == -2) {
			snprintf(err, errlen, "%s: applying the tracker's saved log failed",
			    d->conf->state);
			return (-1);
		}
		if (rc < 0)
			log_warnx("ignoring a damaged row of the tracker's saved log");
		if (store_kv_del(d->store, TRACK_NS_LOG, r->r[i].k, r->r[i].kn, err, errlen) < 0)
			return (-1);
	}
	return (0);
}

/* apply_saved - read the saved rows, then apply them in one transaction; 0 or -1 (err set) */
static int
apply_saved(struct daemon *d, struct log_rows *r, char *err, size_t errlen)
{
	if (store_kv_each(d->store, TRACK_NS_LOG, log_row, r, err, errlen) < 0 || r->nomem) {
		if (r->nomem)
			snprintf(err, errlen, "reading the tracker's saved log: out of memory");
		return (-1);
	}
	if (r->n == 0)
		return (0);
	if (store_begin(d->store, err, errlen) < 0)
		return (-1);
	if (apply_rows(d, r, err, errlen) < 0) {
		store_rollback(d->store);
		return (-1);
	}
	return (store_commit(d->store, err, errlen));
}

/* run_apply_log - the tracker's saved log into its entries, at start-up; see run_priv.h */
int
run_apply_log(struct daemon *d)
{
	struct log_rows r;
	char err[512];
	size_t i;
	int rc;

	memset(&r, 0, sizeof(r));
	if ((rc = apply_saved(d, &r, err, sizeof(err))) < 0)
		log_warnx("%s", err);
	for (i = 0; i < r.n; i++) {
		free(r.r[i].k);
		free(r.r[i].v);
	}
	free(r.r);
	return (rc < 0 ? -1 : 0);
}

/* run_fail_stop - a batch could not be committed: roll it back and stop */
void
run_fail_stop(struct daemon *d, const char *what)
{
	d->in_txn = 0;
	store_rollback(d->store);
	log_warnx("%s; stopping without the last batch (it is read again at the next start)", what);
	d->exit_code = EXIT_RUNTIME;
	ev_stop(d->ev);
}

/* commit - close the batch: tracker state, cursor, commit */
static int
commit(struct daemon *d)
{
	char err[512];

	if (d->pl.failed) {
		run_fail_stop(d, d->pl.err);
		return (-1);
	}
	if (track_persist(d->pl.track, &kv_ops, d) < 0) {
		run_fail_stop(d, "saving the tracker state failed");
		return (-1);
	}
	d->in_txn = 0;
	if (logsrc_save(d->src, d->store, err, sizeof(err)) < 0 ||
	    store_commit(d->store, err, sizeof(err)) < 0) {
		run_fail_stop(d, err);
		return (-1);
	}
	if (d->act != NULL)
		act_kick(d->act); /* what the batch decided, now that it is recorded */
	if (d->cluster != NULL)
		cluster_kick(d->cluster); /* cluster: the outbox to PostgreSQL */
	return (0);
}

void
run_on_log(struct ev *ev, int fd, int events, void *ctx)
{
	struct daemon *d = ctx;
	int64_t now = mono_us(), since = now - d->wake_us;

	(void)ev;
	(void)fd;
	(void)events;
	/*
	 * Under a steady stream of lines, read at most every WAKE_GAP_US: a
	 * wake that comes sooner waits out the rest first, so that each read
	 * takes the lines of a whole gap instead of a few (every wake costs
	 * an inotify read, a stat and the copytruncate check, about a quarter
	 * of the daemon's CPU at 20,000 lines/s one wake a millisecond).  A
	 * log that is quiet for longer is read at once.
	 */
	if (since >= 0 && since < WAKE_GAP_US) {
		struct timespec sl = { 0, (long)(WAKE_GAP_US - since) * 1000 };

		while (nanosleep(&sl, &sl) < 0 && errno == EINTR)
			;
		now = mono_us();
	}
	d->wake_us = now;
	run_read_log(d);
}

/* on_busy_retry - the wait is over: follow the log again and try */
static void
on_busy_retry(struct ev *ev, int id, void *ctx)
{
	struct daemon *d = ctx;

	(void)id;
	if (ev_add_fd(ev, logsrc_fd(d->src), EV_READ, run_on_log, d) < 0) {
		log_warn("event loop");
		d->exit_code = EXIT_RUNTIME;
		ev_stop(ev);
		return;
	}
	run_read_log(d);
}

/*
 * busy_wait - another process has held the database's write lock past
 * the busy timeout (a backup, sqlite3 by hand): not a reason to stop.
 * The log is left alone (its wake-ups too, or they would spin) and tried
 * again after a wait that doubles up to BUSY_MAX_MS; nothing was read, so
 * nothing is lost.  Standard input from a file has no wake-ups: the
 * caller's loop tries again after the busy timeout.
 */
static void
busy_wait(struct daemon *d, const char *err)
{
	d->busy_ms = d->busy_ms == 0       ? BUSY_FIRST_MS
	    : d->busy_ms * 2 > BUSY_MAX_MS ? BUSY_MAX_MS
					   : d->busy_ms * 2;
	if (d->busy_since == 0)
		d->busy_since = time(NULL);
	log_warnx("%s: another process has held it for over %d s; not stopping: trying again "
		  "in %d s",
	    err, STORE_BUSY_MS / 1000, d->busy_ms / 1000);
	if (d->stdin_file)
		return;
	(void)ev_del_fd(d->ev, logsrc_fd(d->src));
	if (ev_add_timer(d->ev, (uint64_t)d->busy_ms, 0, on_busy_retry, d) < 0) {
		log_warn("event loop");
		d->exit_code = EXIT_RUNTIME;
		ev_stop(d->ev);
	}
}

/* begin - a batch of ours: 0; else -1 after stopping, or waiting when the database is busy */
static int
begin(struct daemon *d)
{
	char err[512];
	int rc;

	if (d->in_txn)
		return (0);
	if ((rc = store_begin(d->store, err, sizeof(err))) == 0) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		d->in_txn = 1;
		d->txn_lines = 0;
		d->txn_max = d->catching ? CATCHUP_BATCH : DAEMON_BATCH;
		d->txn_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		if (d->busy_since != 0)
			log_info("%s: ours again after %lld s; reading the log on", d->conf->state,
			    (long long)(time(NULL) - d->busy_since));
		d->busy_ms = 0;
		d->busy_since = 0;
		return (0);
	}
	if (rc == STORE_BUSY)
		busy_wait(d, err);
	else
		run_fail_stop(d, err);
	return (-1);
}

/* run_settle - commit the open batch, if any, before something else uses the database; 0 or -1 */
int
run_settle(struct daemon *d)
{
	return (d->in_txn ? commit(d) : 0);
}

/* run_on_commit - the open batch is COMMIT_MS old */
void
run_on_commit(struct ev *ev, int id, void *ctx)
{
	ev_reset_timer(ev, id, 86400000); /* kept for run_read_log() to re-arm ("never") */
	(void)run_settle(ctx);
}

/*
 * run_read_log - read what the log has into the open batch (begun if none):
 * commit it when full (then read on) or COMMIT_MS old, else leave it
 * open for the commit timer
 */
void
run_read_log(struct daemon *d)
{
	struct timespec ts;
	char err[512];
	long n, want;
	int64_t age, now;

	do {
		if (begin(d) < 0)
			return;
		want = d->txn_max - d->txn_lines;
		if ((n = logsrc_read(d->src, (size_t)want, err, sizeof(err))) < 0) {
			log_warnx("%s", err);
			n = 0;
		}
		d->txn_lines += n;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		age = now - d->txn_ms;
		/*
		 * A cluster node commits at every wake, as before: the cluster's
		 * own callbacks read the outbox and begin transactions of their
		 * own, and must never meet an open batch (cluster/cluster.c)
		 */
		/*
		 * A batch that filled up means more to read (catching up): the
		 * next may hold CATCHUP_BATCH lines, read in one go and committed
		 * then, later than COMMIT_MS after its first verdict; a read that
		 * comes short ends that.  Not for standard input or a cluster
		 * node, which commit at every read.
		 */
		d->catching =
		    n >= want && d->txn_lines >= d->txn_max && !d->stdin_file && d->cluster == NULL;
		if (d->txn_lines >= d->txn_max || d->txn_lines == 0 || age >= COMMIT_MS ||
		    d->stdin_file || d->cluster != NULL) {
			if (commit(d) < 0)
				return;
		} else if (d->txn_lines == n) /* the batch began with this read */
			ev_reset_timer(d->ev, d->commit_timer, (uint64_t)(COMMIT_MS - age));
		run_note_trust(d);
		if (n > 0 && track_held(d->pl.track) > 0 && now - d->idle_ms >= IDLE_REARM_MS) {
			ev_reset_timer(d->ev, d->idle_timer, IDLE_FLUSH_MS + IDLE_REARM_MS);
			d->idle_ms = now;
		}
	} while (n >= want);
	if (logsrc_eof(d->src)) {
		log_info("end of standard input");
		ev_stop(d->ev);
	}
}

/* run_on_idle - the log has been quiet for the link window: release held messages */
void
run_on_idle(struct ev *ev, int id, void *ctx)
{
	struct daemon *d = ctx;

	/* keep the one-shot timer alive for run_read_log() to re-arm (a day is "never") */
	if (ev != NULL)
		ev_reset_timer(ev, id, 86400000);
	if (track_held(d->pl.track) == 0)
		return;
	if (d->busy_since != 0) { /* the database is not ours yet: again later */
		if (ev != NULL)
			ev_reset_timer(ev, id, IDLE_FLUSH_MS);
		return;
	}
	if (begin(d) < 0)
		return;
	track_flush(d->pl.track, INT64_MAX);
	commit(d);
}
