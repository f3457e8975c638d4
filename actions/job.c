/*
 * NAME
 *	job - enforcement's job queue (see job.h)
 * SUMMARY
 *	Jobs wait in two lists: fresh (queued since the last kick, inside a
 *	batch that may not be committed yet) and queue (started, waiting for
 *	the run before them, or for a retry).  job_kick() appends fresh to
 *	queue and walks it once; a job whose run ends is recorded, logged,
 *	and either kept for its retry or taken off and freed, and the walk is
 *	done again (job_done), since what it ended may let others start.
 *	Everything goes through the runner act was made with, so the same
 *	code serves the daemon's loop and the command-line tools; with a
 *	synchronous runner the retry and wait timers never fire, and what
 *	is still pending stays in the store for the daemon.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/act_int.h"
#include "actions/confirm.h"
#include "actions/hold.h"
#include "actions/job.h"
#include "actions/map.h"
#include "actions/notify.h"
#include "util/esc.h"

#define JOB_OUTCOME_ERR 900 /* bytes of a program's stderr kept in its outcome */
#define JOB_LOG_OUT 300     /* of its stdout in the log line of a success */
#define JOB_LOG_ERR 500     /* of its stderr in the log line of a failure */
#define JOB_VIS_OUT 600     /* an outcome in a report */

static void on_retry(void *);
static void on_wait(void *);

void
job_init(struct act *a)
{
	memset(&a->jobs, 0, sizeof(a->jobs));
	run_timer_init(&a->jobs.retry, a->runner, on_retry, a);
	run_timer_init(&a->jobs.wait, a->runner, on_wait, a);
}

/* job_free - a job and what it owns */
static void
job_free(struct job *j)
{
	size_t i;

	if (j == NULL)
		return;
	for (i = 0; j->argv && j->argv[i]; i++)
		free(j->argv[i]);
	free(j->argv);
	free(j->identity);
	free(j->in);
	free(j->ni);
	confirm_free(j->cf);
	free(j);
}

void
job_argv_free(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* argv_blob - argv as NUL-separated bytes for the action log */
static char *
argv_blob(char *const argv[], size_t *len)
{
	size_t n = 0, i, o = 0;
	char *b;

	for (i = 0; argv[i]; i++)
		n += strlen(argv[i]) + 1;
	if ((b = malloc(n + 1)) == NULL)
		return (NULL);
	for (i = 0; argv[i]; i++) {
		size_t l = strlen(argv[i]) + 1;

		memcpy(b + o, argv[i], l);
		o += l;
	}
	*len = o;
	return (b);
}

/* argv_split - the NUL-separated argv of the action log, NULL-terminated */
static char **
argv_split(const void *blob, size_t len)
{
	const char *p = blob, *end = p + len;
	size_t n = 0, i;
	char **v;

	for (i = 0; i < len; i++)
		if (p[i] == '\0')
			n++;
	if (n == 0 || (v = calloc(n + 1, sizeof(*v))) == NULL)
		return (NULL);
	for (i = 0; i < n && p < end; i++) {
		size_t l = strnlen(p, (size_t)(end - p));

		if ((v[i] = strndup(p, l)) == NULL)
			break;
		p += l + 1;
	}
	return (v);
}

const char *
job_argv_text(const void *blob, size_t len, char *buf, size_t buflen)
{
	char **argv = argv_split(blob, len);

	run_argv_text((const char *const *)(argv ? argv : (char *[]){ NULL }), buf, buflen);
	job_argv_free(argv);
	return (buf);
}

char **
job_argv_dup(const char *const argv[])
{
	size_t n = 0, i;
	char **v;

	while (argv[n])
		n++;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return (NULL);
	for (i = 0; i < n; i++)
		if ((v[i] = strdup(argv[i])) == NULL) {
			job_argv_free(v);
			return (NULL);
		}
	return (v);
}

char **
job_prog(const struct act *a, const char *path, const char *cflag, const char *const rest[])
{
	const char *v[16];
	size_t n = 0, i;

	v[n++] = path;
	if (a->conf->postfix_config_dir != NULL && cflag != NULL) {
		v[n++] = cflag;
		v[n++] = a->conf->postfix_config_dir;
	}
	for (i = 0; rest[i] && n < 15; i++)
		v[n++] = rest[i];
	v[n] = NULL;
	return (job_argv_dup(v));
}

/* job_append - j at the end of list *pp */
static void
job_append(struct job **pp, struct job *j)
{
	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = j;
}

static int is_postsuper(const char *action);

/* monitor_say - what a run would be, in monitor mode */
static void
monitor_say(struct act *a, const char *action, const char *identity, char **argv, const char *in)
{
	char text[2048], idv[ACT_ID_VIS];

	run_argv_text((const char *const *)argv, text, sizeof(text));
	act_say(a, ACT_INFO, "monitor: %s for %s: would run %s%s", action,
	    esc_vis(identity ? identity : "-", idv, sizeof(idv)), text,
	    in == NULL                          ? ""
		: strcmp(action, "notify") == 0 ? " (the report on standard input)"
		: is_postsuper(action)
		? " (queue IDs on standard input, each confirmed with postcat first)"
		: " (queue IDs on standard input)");
}

/* job_record_new - its action_log row; the row's id, or -1 (logged) */
static int64_t
job_record_new(struct act *a, const char *action, const char *identity, char **argv, const char *in,
    size_t inlen, int64_t now)
{
	struct store_job sj;
	char err[512];
	size_t blen = 0;
	char *blob = argv_blob(argv, &blen);

	memset(&sj, 0, sizeof(sj));
	sj.time_us = now;
	sj.identity = identity ? identity : "";
	sj.action = action;
	sj.argv = blob;
	sj.argv_len = blen;
	sj.stdin_data = in;
	sj.stdin_len = inlen;
	sj.status = act_monitor(a) ? "monitor" : "pending";
	sj.next_us = now;
	if (act_monitor(a))
		sj.outcome = "not run (mode = monitor)";
	if ((sj.id = store_add_job(a->store, &sj, err, sizeof(err))) < 0)
		act_say(a, ACT_WARN, "recording %s: %s", action, err);
	free(blob);
	return (sj.id);
}

struct job *
job_queue(struct act *a, enum job_kind kind, const char *action, const char *identity, char **argv,
    char *in, size_t inlen)
{
	struct jobs *q = &a->jobs;
	struct job *j;
	int64_t now = act_now(), id;

	if (argv == NULL) {
		act_say(a, ACT_WARN, "%s: out of memory", action);
		free(in);
		return (NULL);
	}
	if (act_monitor(a))
		monitor_say(a, action, identity, argv, in);
	id = job_record_new(a, action, identity, argv, in, inlen, now);
	if (id >= 0 && q->in_chain && q->chain_first == 0)
		q->chain_first = id;
	if (act_monitor(a)) {
		job_argv_free(argv);
		free(in);
		return (NULL);
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (identity && (j->identity = strdup(identity)) == NULL)) {
		free(j);
		job_argv_free(argv);
		free(in);
		act_say(a, ACT_WARN, "%s: out of memory", action);
		return (NULL);
	}
	j->a = a;
	j->id = id;
	j->kind = kind;
	if ((kind == JOB_PROG || kind == JOB_MAP) && q->in_chain) {
		/* one decision's runs go one after the other, in the rule's order */
		j->after_id = q->chain_prev;
		q->chain_prev = id;
	}
	snprintf(j->action, sizeof(j->action), "%s", action);
	j->argv = argv;
	j->in = in;
	j->inlen = inlen;
	j->next_us = now;
	job_append(&q->fresh, j);
	return (j);
}

void
job_chain_begin(struct act *a)
{
	a->jobs.in_chain = 1;
	a->jobs.chain_first = a->jobs.chain_prev = 0;
}

int64_t
job_chain_first(const struct act *a)
{
	return (a->jobs.chain_first);
}

void
job_chain_end(struct act *a, struct waiter *w)
{
	if (w != NULL) {
		w->first_id = a->jobs.chain_first;
		w->last_id = a->jobs.chain_prev;
	}
	a->jobs.in_chain = 0;
	a->jobs.chain_first = a->jobs.chain_prev = 0;
}

/* backoff_us - the wait before attempt attempts + 1 */
static int64_t
backoff_us(int attempts)
{
	static const int secs[] = { 5, 15, 60, 300, 900, 1800, 3600 };
	int i = attempts - 1;

	if (i < 0)
		i = 0;
	if (i >= (int)(sizeof(secs) / sizeof(secs[0])))
		i = (int)(sizeof(secs) / sizeof(secs[0])) - 1;
	return ((int64_t)secs[i] * 1000000);
}

/* job_unlink - take j off the queue */
static void
job_unlink(struct act *a, struct job *j)
{
	struct job **pp;

	for (pp = &a->jobs.queue; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			return;
		}
}

/* is_postsuper - the action is one of postsuper's */
static int
is_postsuper(const char *action)
{
	return (strcmp(action, "hold") == 0 || strcmp(action, "release") == 0 ||
	    strcmp(action, "delete") == 0 || strcmp(action, "recheck") == 0);
}

/*
 * job_record - a run's outcome into the action log and the log: what the
 * result says ("exit 1", ...) with the program's stderr, or for postsuper
 * the summary line it printed (its own count of what it did)
 */
static void
job_record(struct act *a, const struct job *j, const struct run_result *r, int ok,
    const char *status, int64_t next)
{
	char what[256], err[512], text[1024], idv[ACT_ID_VIS], oarr[1200], sarr[96];
	struct buf outcome, said, line;
	size_t inlen;
	/* the queue confirmed none of its IDs: postsuper did not run */
	int notrun = j->confirm && confirm_input(j->cf, &inlen) == NULL;

	buf_fixed(&outcome, oarr, sizeof(oarr));
	buf_fixed(&said, sarr, sizeof(sarr));
	buf_init(&line, (size_t)4 * ACT_SAY_MAX); /* act_say cuts it to a log line, marked */
	run_describe(r, what, sizeof(what));
	run_argv_text((const char *const *)j->argv, text, sizeof(text));
	if (notrun)
		buf_adds(&outcome, "not run: no queue ID confirmed");
	else if (is_postsuper(j->action) && hold_said(r, &said) > 0)
		buf_addf(&outcome, "%s: postsuper: %s", what, buf_str(&said));
	else if (buf_adds(&outcome, what) == 0 && r->err[0] != '\0' &&
	    buf_adds(&outcome, ": ") == 0)
		act_add_cut(&outcome, r->err, strlen(r->err), JOB_OUTCOME_ERR);
	if (j->confirm) {
		buf_adds(&outcome, "; ");
		confirm_say(j->cf, &outcome);
	}
	if (store_update_job(a->store, j->id, status, j->attempts, next, buf_str(&outcome), err,
		sizeof(err)) < 0)
		act_say(a, ACT_WARN, "%s", err);
	esc_vis(j->identity ? j->identity : "-", idv, sizeof(idv));
	buf_addf(&line, "%s for %s: %s: ", j->action, idv, text);
	if (j->confirm) {
		confirm_say(j->cf, &line);
		buf_adds(&line, "; ");
	}
	if (notrun)
		buf_adds(&line, "not run");
	else if (ok && said.len > 0)
		buf_addf(&line, "ok; postsuper: %s", buf_str(&said));
	else if (ok) {
		buf_adds(&line, r->out[0] ? "ok; said: " : "ok");
		act_add_cut(&line, r->out, strlen(r->out), JOB_LOG_OUT);
	} else {
		buf_addf(&line, "%s%s", what, r->err[0] ? "; stderr: " : "");
		act_add_cut(&line, r->err, strlen(r->err), JOB_LOG_ERR);
	}
	if (!ok)
		buf_adds(&line, next ? "; will retry" : "; giving up");
	act_text_check(a, &outcome, "outcome");
	act_say(a, ok ? ACT_INFO : ACT_WARN, "%s", buf_str(&line));
	buf_free(&line);
}

/* job_finish - a run's outcome: record, log, retry or take it off */
static void
job_finish(struct act *a, struct job *j, const struct run_result *r)
{
	/* a postcat that did not answer fails the run: it is tried again */
	int ok = run_ok(r) && (!j->confirm || confirm_tally(j->cf).failed == 0);
	int64_t next = 0;

	j->attempts++;
	if (!ok && j->attempts < ACT_MAX_ATTEMPTS && j->kind == JOB_PROG)
		next = act_now() + backoff_us(j->attempts);
	job_record(a, j, r, ok, ok ? "ok" : next ? "pending" : "failed", next);
	confirm_free(j->cf); /* a retry asks the queue again */
	j->cf = NULL;
	j->running = 0;
	a->jobs.nrunning--;
	if (!ok && next) {
		j->next_us = next;
		return; /* stays queued */
	}
	job_unlink(a, j);
	if (j->kind == JOB_POSTMAP || j->kind == JOB_RELOAD)
		map_run_ended(a, j->kind == JOB_RELOAD, ok);
	job_free(j);
}

/* job_done - the runner's callback: a run ended */
static void
job_done(void *ctx, const struct run_result *r)
{
	struct job *j = ctx;
	struct act *a = j->a;

	job_finish(a, j, r);
	job_kick(a);
}

/* job_run - run j's program with in on its stdin; a run that cannot start fails as exit 127 */
static void
job_run(struct act *a, struct job *j, const char *in, size_t inlen)
{
	const struct conf *c = a->conf;
	unsigned ms = (unsigned)(c->action_timeout > 0 ? c->action_timeout * 1000 : ACT_TIMEOUT_MS);
	struct run_result r;
	char err[512];

	if (run_start(a->runner, (const char *const *)j->argv, in, inlen, ms, job_done, j, err,
		sizeof(err)) == 0)
		return;
	memset(&r, 0, sizeof(r));
	r.exited = 1;
	r.status = 127;
	snprintf(r.err, sizeof(r.err), "%s", err);
	job_finish(a, j, &r);
}

/*
 * job_confirmed - the queue has judged j's queue IDs (confirm.c):
 * postsuper gets the confirmed ones; with none it does not run, and the
 * run ends as it is (failed if postcat did not answer, else ok)
 */
static void
job_confirmed(struct act *a, struct job *j)
{
	struct run_result r;
	size_t len = 0;
	const char *in = confirm_input(j->cf, &len);

	if (in != NULL) {
		job_run(a, j, in, len);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.exited = 1;
	job_finish(a, j, &r);
}

/*
 * job_start - start j: a postsuper run asks the queue about its queue
 * IDs first (confirm.c), any other runs at once
 */
static void
job_start(struct act *a, struct job *j)
{
	j->running = 1;
	a->jobs.nrunning++;
	if (j->confirm)
		confirm_start(a, j, job_confirmed);
	else
		job_run(a, j, j->in, j->inlen);
}

/* job_waiting - run id is queued and has not run once yet */
static int
job_waiting(const struct act *a, int64_t id)
{
	const struct job *k;

	for (k = a->jobs.queue; k; k = k->next)
		if (k->id == id)
			return (k->running || k->attempts == 0);
	for (k = a->jobs.fresh; k; k = k->next)
		if (k->id == id)
			return (1);
	return (0);
}

/* job_may_start - the runs before j in its decision have run (or failed) once */
static int
job_may_start(const struct act *a, const struct job *j)
{
	return (j->after_id == 0 || !job_waiting(a, j->after_id));
}

/*
 * job_map_step - a decision's block step (JOB_MAP) in the walk: when its
 * turn comes it asks for the map rewrite; when that has ended it is
 * recorded and taken off.  1 when it was taken off (the walk starts over).
 */
static int
job_map_step(struct act *a, struct job *j)
{
	char err[256];
	int ok;

	if (!j->running) {
		if (job_may_start(a, j)) {
			j->running = 1;
			j->gen = map_later(a);
		}
		return (0);
	}
	if (!map_gen_done(a, j->gen))
		return (0);
	ok = map_gen_ok(a, j->gen);
	if (store_update_job(a->store, j->id, ok ? "ok" : "failed", 1, 0,
		ok ? "in force: map written, postmap and postfix reload ran"
		   : "not in force yet: postmap or reload failed; tried again later",
		err, sizeof(err)) < 0)
		act_say(a, ACT_WARN, "%s", err);
	job_unlink(a, j);
	job_free(j);
	return (1);
}

static void waiters_check(struct act *);

void
job_kick(struct act *a)
{
	struct jobs *q = &a->jobs;
	struct job *j, *next;
	int64_t now = act_now(), soonest = 0;

	job_append(&q->queue, q->fresh);
	q->fresh = NULL;
	for (j = q->queue; j; j = next) {
		next = j->next;
		if (j->kind == JOB_MAP) {
			if (job_map_step(a, j))
				next = q->queue; /* the ones after it may start now */
			continue;
		}
		if (j->running)
			continue;
		if (j->next_us > now) {
			if (soonest == 0 || j->next_us < soonest)
				soonest = j->next_us;
			continue;
		}
		if (!job_may_start(a, j))
			continue; /* the run before it in its decision has not run yet */
		if (j->ni != NULL && !notify_ready(a, j))
			continue; /* the runs it reports on have not run yet */
		if (q->nrunning >= JOB_MAX_RUNNING)
			break;
		job_start(a, j);
	}
	if (soonest > 0) {
		int64_t d = (soonest - now) / 1000 + 1;

		run_timer_set(&q->retry, (uint64_t)(d > 0 ? d : 1), 0);
	}
	if (q->waiters != NULL)
		waiters_check(a);
}

static void
on_retry(void *ctx)
{
	job_kick(ctx);
}

/* pending_cb - a run left pending: queued again (map work is done afresh at start) */
static int
pending_cb(void *ctx, const struct store_job *sj)
{
	struct act *a = ctx;
	struct job *j;

	if (sj->action == NULL || strcmp(sj->action, "postmap") == 0 ||
	    strcmp(sj->action, "reload") == 0 || strcmp(sj->action, "map") == 0) {
		char err[256];

		/* maps are rewritten from the blocks at start anyway */
		store_update_job(a->store, sj->id, "superseded", sj->attempts, 0,
		    "superseded by the maps rewritten at start", err, sizeof(err));
		return (0);
	}
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return (0);
	j->a = a;
	j->id = sj->id;
	j->kind = JOB_PROG;
	snprintf(j->action, sizeof(j->action), "%s", sj->action);
	j->identity = sj->identity ? strdup(sj->identity) : NULL;
	j->argv = argv_split(sj->argv, sj->argv_len);
	if (sj->stdin_data != NULL && sj->stdin_len > 0 &&
	    (j->in = malloc(sj->stdin_len)) != NULL) {
		memcpy(j->in, sj->stdin_data, sj->stdin_len);
		j->inlen = sj->stdin_len;
	}
	j->attempts = sj->attempts;
	j->next_us = sj->next_us;
	j->confirm = is_postsuper(j->action); /* the queue is asked again */
	if (j->argv == NULL || j->argv[0] == NULL) {
		job_free(j);
		return (0);
	}
	job_append(&a->jobs.fresh, j);
	return (0);
}

int
job_requeue_pending(struct act *a, char *err, size_t errlen)
{
	return (
	    store_each_job(a->store, NULL, "pending", pending_cb, a, err, errlen) != 0 ? -1 : 0);
}

/* ---------------------------------------------------------------------- */
/* waiters */

struct waiter *
job_wait_new(void)
{
	struct waiter *w = calloc(1, sizeof(*w));

	if (w != NULL)
		buf_init(&w->head, ACT_TEXT_MAX);
	return (w);
}

void
job_wait_free(struct waiter *w)
{
	if (w != NULL) {
		buf_free(&w->head);
		free(w->identity);
	}
	free(w);
}

/* waiter_done - send w's report (head, then tail) and free it */
static void
waiter_done(struct act *a, struct waiter *w, const char *tail)
{
	if (tail != NULL)
		(void)buf_adds(&w->head, tail);
	act_text_check(a, &w->head, "report");
	w->done(w->ctx, buf_str(&w->head));
	job_wait_free(w);
}

/* One run of a decision, as the report to the one who asked tells it. */
struct wrun {
	int64_t from, to;
	struct buf *b;
};

static int
wrun_cb(void *ctx, const struct store_job *sj)
{
	struct wrun *wr = ctx;

	if (sj->id < wr->from || sj->id > wr->to)
		return (0);
	buf_addf(wr->b, "  %s: %s%s", sj->action ? sj->action : "-", sj->status ? sj->status : "-",
	    sj->outcome ? ": " : "");
	if (sj->outcome)
		esc_buf(wr->b, sj->outcome, strlen(sj->outcome), ESC_VIS, JOB_VIS_OUT - 1);
	buf_addc(wr->b, '\n');
	return (0);
}

/* waiter_busy - some run of w has not run once, or its map change has not ended */
static int
waiter_busy(const struct act *a, const struct waiter *w)
{
	int64_t id;

	if (w->gen != 0 && !map_gen_done(a, w->gen))
		return (1);
	for (id = w->first_id; id != 0 && id <= w->last_id; id++)
		if (job_waiting(a, id))
			return (1);
	return (0);
}

/* waiter_tail - what the runs of w said, and where its map change stands */
static void
waiter_tail(struct act *a, const struct waiter *w, int busy, struct buf *tail)
{
	struct wrun wr = { w->first_id, w->last_id, tail };
	char err[256];

	if (w->first_id != 0)
		store_each_job(a->store, w->identity, NULL, wrun_cb, &wr, err, sizeof(err));
	if (w->gen != 0)
		buf_addf(tail, "  map: %s\n",
		    map_gen_ok(a, w->gen) ? "in force (postmap and postfix reload ran)"
			: map_gen_done(a, w->gen)
			? "rewrite failed, will be tried again (see sendguard status)"
			: "still being rewritten");
	if (busy)
		buf_adds(tail, "  (some programs are still running; see sendguard explain)\n");
}

/*
 * waiters_check - report each decision by hand whose runs have all run
 * once and whose map change is in force (or whose time is up)
 */
static void
waiters_check(struct act *a)
{
	struct waiter **pp = &a->jobs.waiters, *w;
	struct buf tail;
	int busy;

	while ((w = *pp) != NULL) {
		busy = waiter_busy(a, w);
		if (busy && !w->late) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		buf_init(&tail, ACT_TEXT_MAX);
		waiter_tail(a, w, busy, &tail);
		act_text_check(a, &tail, "report");
		waiter_done(a, w, buf_str(&tail));
		buf_free(&tail);
	}
}

/* wait_arm - the wait timer at the earliest deadline not yet passed */
static void
wait_arm(struct act *a)
{
	const struct waiter *w;
	int64_t min = 0, now = act_now(), d;

	for (w = a->jobs.waiters; w != NULL; w = w->next)
		if (!w->late && (min == 0 || w->deadline < min))
			min = w->deadline;
	if (min == 0) {
		run_timer_stop(&a->jobs.wait);
		return;
	}
	d = (min - now) / 1000 + 10;
	run_timer_set(&a->jobs.wait, (uint64_t)(d > 0 ? d : 1), 0);
}

/* on_wait - deadlines passed: those waiters report what they have */
static void
on_wait(void *ctx)
{
	struct act *a = ctx;
	struct waiter *w;
	int64_t now = act_now();

	for (w = a->jobs.waiters; w != NULL; w = w->next)
		if (w->deadline <= now)
			w->late = 1;
	waiters_check(a);
	wait_arm(a);
}

int
job_wait_add(struct act *a, struct waiter *w, const char *identity, act_done_fn done, void *ctx)
{
	struct waiter **pp;

	if ((w->identity = strdup(identity)) == NULL)
		return (-1);
	w->done = done;
	w->ctx = ctx;
	w->deadline = act_now() + (int64_t)ACT_WAIT_MS * 1000;
	for (pp = &a->jobs.waiters; *pp; pp = &(*pp)->next)
		;
	*pp = w;
	wait_arm(a);
	return (0);
}

void
job_fini(struct act *a)
{
	struct job *j, *next;
	struct waiter *w;

	run_timer_stop(&a->jobs.retry);
	run_timer_stop(&a->jobs.wait);
	for (j = a->jobs.queue; j; j = next) {
		next = j->next;
		job_free(j);
	}
	for (j = a->jobs.fresh; j; j = next) {
		next = j->next;
		job_free(j);
	}
	a->jobs.queue = a->jobs.fresh = NULL;
	while ((w = a->jobs.waiters) != NULL) {
		a->jobs.waiters = w->next;
		waiter_done(a, w,
		    "  (sendguard stopped before its programs ended; see sendguard explain)\n");
	}
}
