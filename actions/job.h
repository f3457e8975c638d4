/*
 * NAME
 *	job - enforcement's job queue: one program run a job, recorded,
 *	chained, retried; and the reports to those who blocked by hand
 * SUMMARY
 *	job_queue() records a run in the store's action log ("pending", or
 *	"monitor" in monitor mode, when it is only logged) and queues it;
 *	job_kick() starts what may start through the runner, at most
 *	JOB_MAX_RUNNING at a time.  The outcome is recorded ("ok", or
 *	"pending" with a later next_us while retries last, then "failed")
 *	and logged; a failed run is tried again after a backoff of 5 s up
 *	to 1 h, ACT_MAX_ATTEMPTS times.
 *	The runs one decision queues between job_chain_begin() and
 *	job_chain_end() form a chain: each starts once the one before has
 *	run once (failed or not).  The decision's block step is a JOB_MAP
 *	run without a program: when its turn comes it asks for the maps to
 *	be rewritten (map.c) and it ends when that rewrite (postmap, then
 *	postfix reload) has ended, so the run after it waits for the map to
 *	be in force.  postmap and reload are jobs too (JOB_POSTMAP,
 *	JOB_RELOAD), outside any chain; map.c hears how they ended.
 *	A postsuper job (hold, release, delete, recheck) first has the queue
 *	confirm its queue IDs (confirm.c) and runs with the confirmed ones
 *	only; with none it does not run.
 *	A waiter is the report a block or unblock by hand owes the one who
 *	asked: what was decided, then what each run of its chain said and
 *	whether its map change is in force, sent when all of that is known,
 *	or after ACT_WAIT_MS with what is known by then.
 * RETURNS
 *	Nothing to the caller but the job; failures are logged and recorded.
 * UNTRUSTED INPUT
 *	argv elements and stdin come validated from the modules that make
 *	them (hold.c, map.c, notify.c, exec.c); they are shown in log lines
 *	through run_argv_text() and util/esc.
 */
#ifndef SG_JOB_H
#define SG_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "actions/act.h"
#include "actions/run.h"
#include "util/buf.h"

#define JOB_MAX_RUNNING 4
#define ACT_WAIT_MS 40000 /* longest a block or unblock by hand waits for its runs */

struct act;
struct confirm;
struct notify_info;

enum job_kind { JOB_PROG = 0, JOB_POSTMAP, JOB_RELOAD, JOB_MAP };

struct job {
	struct job *next;
	struct act *a;
	int64_t id; /* its action_log row */
	enum job_kind kind;
	char action[16]; /* "hold", "map", "postmap", "reload", "notify", ... */
	char *identity;  /* NULL: none (postmap, reload) */
	char **argv;
	char *in;
	size_t inlen;
	int attempts;
	int64_t next_us;
	int running;
	struct notify_info *ni; /* notify: composed again with the outcomes */
	int64_t first_id;       /* notify: the first run of its decision */
	int64_t after_id;       /* starts once this run (of its decision) has run once */
	uint64_t gen;           /* JOB_MAP: the map rewrite it asked for */
	int confirm;            /* postsuper: the queue confirms its IDs first (confirm.c) */
	struct confirm *cf;     /* that confirmation, from its start to the run's record */
};

/*
 * A decision's report for the one who asked (block by hand): sent when
 * every run it queued has run once and its map change is in force, with
 * what the programs said.
 */
struct waiter {
	struct waiter *next;
	char *identity;
	int64_t first_id, last_id; /* its runs; first_id 0: none */
	uint64_t gen;              /* its map generation; 0: none */
	struct buf head;           /* what was decided */
	int64_t deadline;          /* then it reports what it has */
	int late;                  /* the wait timer found it past its deadline */
	act_done_fn done;
	void *ctx;
};

/* The queue's state, in struct act. */
struct jobs {
	struct job *queue; /* started, waiting or to start */
	struct job *fresh; /* queued since the last job_kick() */
	int nrunning;
	struct run_timer retry; /* at the soonest retry */
	int in_chain;           /* a decision is queueing its runs */
	int64_t chain_first;    /* the first run recorded by it */
	int64_t chain_prev;     /* the last run queued by it */
	struct waiter *waiters;
	struct run_timer wait; /* at the earliest waiter's deadline */
};

/* job_init - an empty queue (timers on a's runner) */
void job_init(struct act *);
/* job_fini - stop the timers, free every job, send each waiter what it has */
void job_fini(struct act *);

/*
 * job_queue - record a program run in the action log and queue it (to
 * start at the next job_kick).  In monitor mode it is logged as what would
 * run, recorded as "monitor", and not queued (NULL).  Takes ownership of
 * argv and in.
 */
struct job *job_queue(struct act *, enum job_kind, const char *action, const char *identity,
    char **argv, char *in, size_t inlen);
/* job_kick - move the fresh jobs to the queue, start what may start, report to waiters */
void job_kick(struct act *);
/* job_requeue_pending - the runs a crash left pending, from the store (at start) */
int job_requeue_pending(struct act *, char *err, size_t errlen);

/* job_chain_begin - the runs queued from now on run one after the other */
void job_chain_begin(struct act *);
/* job_chain_first - the first run recorded since job_chain_begin (0: none) */
int64_t job_chain_first(const struct act *);
/* job_chain_end - end the chain; its first and last run (0: none) into the waiter, if any */
void job_chain_end(struct act *, struct waiter *);

/* job_prog - argv of a Postfix program with cflag (-c, -C) config_dir, then rest */
char **job_prog(const struct act *, const char *path, const char *cflag, const char *const rest[]);
/* job_argv_free - a NULL-terminated argv of allocated strings (NULL: nothing) */
void job_argv_free(char **);
/* job_argv_dup - a NULL-terminated copy; NULL when out of memory */
char **job_argv_dup(const char *const argv[]);
/* job_argv_text - the action log's NUL-separated argv as run_argv_text() writes it */
const char *job_argv_text(const void *blob, size_t len, char *buf, size_t buflen);

/* job_wait_new - a waiter with an empty head; NULL when out of memory */
struct waiter *job_wait_new(void);
/* job_wait_free - a waiter never added */
void job_wait_free(struct waiter *);
/* job_wait_add - send w's report to done once its runs have run (w is the queue's now) */
int job_wait_add(struct act *, struct waiter *w, const char *identity, act_done_fn done, void *ctx);

#endif
