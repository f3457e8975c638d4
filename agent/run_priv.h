/*
 * NAME
 *	run_priv - the daemon's state, shared by agent/cmd_run.c and
 *	agent/run_batch.c (private to those two)
 * SUMMARY
 *	struct daemon is one `sendguard run`: its configuration, event loop,
 *	store, log source, pipeline, enforcement and cluster, and the state
 *	of the open batch.  cmd_run.c starts and stops it, answers signals,
 *	timers and the control socket; run_batch.c reads the log into
 *	batches and commits them (run_read_log, run_settle, run_on_log,
 *	run_on_commit, run_on_idle, run_fail_stop).  cmd_run.c lends it
 *	run_note_trust().
 * UNTRUSTED INPUT
 *	None here: see the two files.
 */
#ifndef SG_RUN_PRIV_H
#define SG_RUN_PRIV_H

#include <stdint.h>
#include <time.h>

#include "count/pipeline.h"
#include "util/ev.h"

#define DAEMON_BATCH 20000 /* lines per transaction, at most */
/*
 * a batch begun right after a full one (catching up: the log had more than
 * a batch) may hold this many: each commit writes every page its rows
 * touched in the indexes (about 3.4 ms a commit on the 1M-line bench log),
 * so fewer, larger ones catch up sooner (bench/RESULTS.md, branch i12w)
 */
#define CATCHUP_BATCH 50000
#define COMMIT_MS 50           /* the longest a batch stays open */
#define DAEMON_CACHE_KIB 16384 /* SQLite's page cache (its default: 2 MiB) */
#define IDLE_FLUSH_MS ((TRACK_LINK_WINDOW_US / 1000) + 1000)
/*
 * the idle timer is armed anew at most this often while lines flow (not at
 * every wake), for IDLE_FLUSH_MS + IDLE_REARM_MS: still at least
 * IDLE_FLUSH_MS of quiet after the last line before it fires
 */
#define IDLE_REARM_MS 250

struct daemon {
	const char *conf_path;
	struct conf *conf;
	struct ev *ev;
	struct store *store;
	struct logsrc *src; /* the log: a file or the journal */
	struct pipeline pl;
	int pl_ok;
	int ctl;                /* the listening control socket */
	struct control *ctlsrv; /* its clients */
	int lockfd;             /* one daemon per state database (store_lock) */
	int idle_timer;
	int commit_timer;  /* ends the open batch at COMMIT_MS */
	int in_txn;        /* a batch is open */
	long txn_lines;    /* lines read into it */
	long txn_max;      /* lines it may hold: DAEMON_BATCH, or CATCHUP_BATCH */
	int catching;      /* the last batch filled up: the next may hold CATCHUP_BATCH */
	int64_t txn_ms;    /* when it began (monotonic) */
	int64_t idle_ms;   /* when the idle timer was last armed by a read (monotonic) */
	int64_t wake_us;   /* when the log was last read after a wake (monotonic, us) */
	int busy_ms;       /* the wait before the next try while another holds the database */
	time_t busy_since; /* when that began, 0 when not busy */
	int exit_code;
	int stdin_file;          /* log = - from a regular file: no epoll */
	struct act *act;         /* enforcement, made with the loop */
	struct cluster *cluster; /* [cluster]: limits shared through PostgreSQL; NULL: none */
	int drain_ticks;
	/* what was said of future-dated lines and tracker evictions, and when */
	uint64_t future_said, evicted_said;
	time_t future_when, evicted_when;
	struct metrics *metrics; /* verdicts by rule, for metrics_file */
	int metrics_failing;     /* the last write failed (logged once) */
};

/* run_read_log - read what the log has into batches; see run_batch.c */
void run_read_log(struct daemon *);
/* run_settle - commit the open batch, if any; 0, or -1 after stopping */
int run_settle(struct daemon *);
/*
 * run_apply_log - at start-up, before the tracker is restored: the saved
 * log of the tracker's changes applied to its entries, in one transaction
 * (count/track_log.c); 0, or -1 after saying why
 */
int run_apply_log(struct daemon *);
/* run_fail_stop - a batch could not be committed: roll it back and stop */
void run_fail_stop(struct daemon *, const char *what);
/* the event loop's callbacks: the log's descriptor, the commit and idle timers */
void run_on_log(struct ev *, int fd, int events, void *ctx);
void run_on_commit(struct ev *, int id, void *ctx);
void run_on_idle(struct ev *, int id, void *ctx);
/* run_note_trust - say what came of untrusted time stamps and evictions (cmd_run.c) */
void run_note_trust(struct daemon *);

#endif
