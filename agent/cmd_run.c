/*
 * NAME
 *	daemon - `sendguard run`: follow the live log and count
 * SUMMARY
 *	One event loop (util/ev) over the log source's descriptor
 *	(agent/logsrc: a file's inotify, or the journal's), a signalfd
 *	(SIGHUP: reload the configuration keeping
 *	all counts; SIGTERM/SIGINT: commit and stop), timers and the control
 *	socket (agent/control).  The log is read and committed in batches
 *	by agent/run_batch.c (see there: one transaction per DAEMON_BATCH
 *	lines or COMMIT_MS, the cursor in it, so a crash loses nothing and
 *	counts nothing twice); the next start restores the tracker,
 *	rebuilds the windows from the stored messages, and resumes the log
 *	at the committed position.  A failure to write the database stops
 *	the daemon (exit 3) with the batch rolled back; Postfix never waits
 *	on sendguard.
 *
 *	At start the state is made ours alone (open_state): the state
 *	directory 0700, the lock of one daemon per database (store_lock: a
 *	second daemon exits 3 naming the pid that holds it, whatever socket
 *	it was given), the database opened without following links and
 *	refused when empty or foreign (store_open).  The control socket's
 *	clients (agent/control.c) are checked and time-limited there; this
 *	file answers their parsed requests (on_request).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "actions/act.h"
#include "actions/run.h"
#include "agent/cmds.h"
#include "cluster/cluster.h"
#include "count/conf.h"
#include "agent/control.h"
#include "agent/explain.h"
#include "agent/logsrc.h"
#include "agent/metrics.h"
#include "agent/run_priv.h"
#include "util/ev.h"
#include "util/json.h"
#include "util/log.h"
#include "count/pipeline.h"
#include "agent/status.h"
#include "store/store.h"
#include "util/priv.h"

#define PRUNE_MS 60000
#define PRUNE_ROWS 2000
#define NOTE_EVERY 60 /* seconds between two notes of future lines or evictions */

static const char run_usage[] =
    "usage: sendguard run [-c FILE] [-f]\n"
    "\n"
    "Follow the Postfix log named by `log =`, a file (through rotation and\n"
    "truncation) or the systemd journal, resuming where it stopped after a\n"
    "restart, and count every accepted message\n"
    "per identity.  -f stays in the foreground and logs to stderr (for systemd\n"
    "Type=simple); otherwise it detaches and logs to syslog (LOG_MAIL).\n"
    "SIGHUP reloads the configuration keeping all counts; SIGTERM stops cleanly.\n";

/* on_verdict - an identity went over a limit: log it and hand it to enforcement */
static void
on_verdict(void *ctx, const struct limits_verdict *v)
{
	char id[600], wb[32];

	struct daemon *d = ctx;

	log_warnx("over limit: %s: rule %s, %s %ld > %ld in %s, crossed by %s",
	    log_vis(v->identity, id, sizeof(id)), v->rule->name, conf_limit_name(v->win->limit),
	    v->count, v->win->threshold, conf_format_duration(v->win->seconds, wb, sizeof(wb)),
	    v->queue_id);
	if (d->metrics != NULL)
		metrics_verdict(d->metrics, v->rule->name);
	if (d->act != NULL)
		act_verdict(d->act, v);
}

/* on_message - a new message of a blocked identity is held at once */
static void
on_message(void *ctx, const struct track_msg *m)
{
	struct daemon *d = ctx;

	if (d->act != NULL)
		act_message(d->act, m);
}

/* cstr - a pf_str as a C string in buf */
static const char *
cstr(const struct pf_str *s, char *buf, size_t len)
{
	size_t n = s->p ? s->n : 0;

	if (n >= len)
		n = len - 1;
	if (n)
		memcpy(buf, s->p, n);
	buf[n] = '\0';
	return (buf);
}

/* on_event - postsuper's own word on what it held or released */
static void
on_event(void *ctx, const struct pf_event *ev, int64_t t)
{
	struct daemon *d = ctx;
	char h[256], i[256], q[PF_QID_MAX + 1];

	if (d->act == NULL || ev->queue_id.p == NULL)
		return;
	act_hold_event(d->act, cstr(&ev->host, h, sizeof(h)), cstr(&ev->instance, i, sizeof(i)),
	    cstr(&ev->queue_id, q, sizeof(q)), ev->kind == PF_HOLD ? "held" : "released", t);
}

/* on_removed - a counted message left the queue */
static void
on_removed(void *ctx, const char *host, const char *instance, const char *qid, int64_t t)
{
	struct daemon *d = ctx;
	char err[512];

	if (store_mark_removed(d->store, host, instance, qid, t, err, sizeof(err)) < 0) {
		snprintf(d->pl.err, sizeof(d->pl.err), "%s", err);
		d->pl.failed = 1;
	}
	/* mail on hold that leaves the queue (deleted by hand, say) is no longer on hold */
	if (d->act != NULL)
		act_hold_event(d->act, host, instance, qid, "removed", t);
}

/* log_now - the log's clock: the time of the last line read, else the wall clock */
static int64_t
log_now(const struct daemon *d)
{
	struct timeval tv;

	if (d->pl.last_us != INT64_MIN)
		return (d->pl.last_us);
	gettimeofday(&tv, NULL);
	return ((int64_t)tv.tv_sec * 1000000 + tv.tv_usec);
}

static int64_t
clock_hook(void *ctx)
{
	return (log_now(ctx));
}

/* on_block_hook - a block by hand: the limits raise no overrun of it until it ends */
static void
on_block_hook(void *ctx, const char *identity, int64_t from, int64_t until)
{
	struct daemon *d = ctx;

	if (limits_block(d->pl.limits, identity, from, until != 0 ? until - from : 0) < 0)
		log_warnx("out of memory");
}

/* on_end_hook - a block ended: the identity's limits re-arm at log time at */
static void
on_end_hook(void *ctx, const char *identity, int64_t at)
{
	struct daemon *d = ctx;

	limits_unblock(d->pl.limits, identity, at);
}

/* ips_hook - the client IPs a block by hand names: those of the limits' longest window */
static const char *
ips_hook(void *ctx, const char *identity, char *buf, size_t len)
{
	struct daemon *d = ctx;

	return (limits_ips(d->pl.limits, identity, log_now(d), buf, len));
}

/* act_log - enforcement's messages into our log */
static void
act_log(void *ctx, enum act_level lv, const char *msg)
{
	(void)ctx;
	if (lv == ACT_WARN)
		log_warnx("%s", msg);
	else
		log_info("%s", msg);
}

/* cluster_log, cluster_fatal - the cluster's messages; its store failure stops us too */
static void
cluster_log(void *ctx, int warn, const char *msg)
{
	act_log(ctx, warn ? ACT_WARN : ACT_INFO, msg);
}

static void
cluster_fatal(void *ctx, const char *msg)
{
	run_fail_stop(ctx, msg);
}

/*
 * run_note_trust - say how many lines were stamped ahead of the clock and how
 * many tracker entries its byte cap evicted since the last note, each at
 * most once a minute (a flood of forged lines must not flood the log)
 */
void
run_note_trust(struct daemon *d)
{
	const struct track_stats *ts = track_stats(d->pl.track);
	time_t now = time(NULL);
	char tb[40], wb[32];

	if (d->pl.future_lines > d->future_said && now >= d->future_when + NOTE_EVERY) {
		log_warnx("%llu lines stamped more than %s ahead of the clock (the furthest at %s) "
			  "were counted at the time of the line before; %llu since start",
		    (unsigned long long)(d->pl.future_lines - d->future_said),
		    conf_format_duration(d->conf->max_clock_skew, wb, sizeof(wb)),
		    json_time(d->pl.future_max_us, tb, sizeof(tb)),
		    (unsigned long long)d->pl.future_lines);
		d->future_said = d->pl.future_lines;
		d->future_when = now;
	}
	if (ts->evicted > d->evicted_said && now >= d->evicted_when + NOTE_EVERY) {
		log_warnx("tracker over max_tracked_bytes: %llu entries evicted, oldest first "
			  "(their messages may go uncounted); %llu since start",
		    (unsigned long long)(ts->evicted - d->evicted_said),
		    (unsigned long long)ts->evicted);
		d->evicted_said = ts->evicted;
		d->evicted_when = now;
	}
}

/* on_metrics - rewrite metrics_file, if one is set (a failure is logged once, until it works) */
static void
on_metrics(struct ev *ev, int id, void *ctx)
{
	struct daemon *d = ctx;
	struct timeval tv;
	char err[512];
	struct metrics_input in = { d->conf, &d->pl, d->pl.limits, d->store, 0, d->pl.untrusted,
		0 };

	(void)ev;
	(void)id;
	if (d->conf->metrics_file == NULL || d->metrics == NULL)
		return;
	gettimeofday(&tv, NULL);
	in.now_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	in.future = d->pl.future_lines;
	if (metrics_write(d->metrics, d->conf->metrics_file, &in, err, sizeof(err)) < 0) {
		if (!d->metrics_failing)
			log_warnx("%s (metrics not written until this works again)", err);
		d->metrics_failing = 1;
	} else
		d->metrics_failing = 0;
}

/* on_prune - delete rows older than retention, a few thousand at a time */
static void
on_prune(struct ev *ev, int id, void *ctx)
{
	struct daemon *d = ctx;
	char err[512];
	int64_t n;
	struct timeval tv;
	int64_t now;

	(void)ev;
	(void)id;
	gettimeofday(&tv, NULL);
	now = (int64_t)tv.tv_sec * 1000000;
	if (run_settle(d) < 0)
		return;
	if (store_begin(d->store, err, sizeof(err)) < 0) {
		log_warnx("retention: %s", err);
		return;
	}
	n = store_prune_some(d->store, now - d->conf->retention * 1000000, PRUNE_ROWS, err,
	    sizeof(err));
	if (n < 0) {
		log_warnx("retention: %s", err);
		store_rollback(d->store);
		return;
	}
	if (store_commit(d->store, err, sizeof(err)) < 0) {
		log_warnx("retention: %s", err);
		return;
	}
	limits_prune(d->pl.limits, status_now(d->pl.last_us));
	/* more to delete: come back soon instead of stalling the log now */
	ev_reset_timer(d->ev, id, n >= PRUNE_ROWS ? 200 : PRUNE_MS);
}

/*
 * stored_times - how many times identity was blocked, as the store
 * records it (every block of enforce mode, by a rule or by hand): the
 * limits ask here once they have dropped their record of it
 */
static long
stored_times(void *ctx, const char *identity)
{
	struct daemon *d = ctx;
	struct store_block b;
	char buf[2048], err[256];

	if (store_get_block(d->store, identity, &b, buf, sizeof(buf), err, sizeof(err)) == 1)
		return (b.count);
	return (0);
}

/*
 * rebuild - a limits object for conf, filled from the stored messages;
 * the block states come from old (a reload) or else from the store.
 */
static struct limits *
rebuild(struct daemon *d, const struct conf *conf, const struct limits *old)
{
	struct limits *l;
	char err[512];
	int64_t last, n;

	if ((l = limits_new(conf)) == NULL) {
		log_warnx("out of memory");
		return (NULL);
	}
	/* monitor mode records no block: there the limits keep the counts themselves */
	if (conf->mode == MODE_ENFORCE)
		limits_set_times(l, stored_times, d);
	if (old != NULL ? limits_copy_blocks(l, old) < 0
			: act_restore_limits(d->store, l, err, sizeof(err)) < 0) {
		log_warnx("%s", old != NULL ? "out of memory" : err);
		limits_free(l);
		return (NULL);
	}
	/*
	 * monitor mode stores no block: the ones its verdicts began come back
	 * from the stored verdicts, so that the windows re-arm where they did
	 */
	if (old == NULL && conf->mode != MODE_ENFORCE &&
	    pipeline_rebuild_blocks(l, conf, d->store, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		limits_free(l);
		return (NULL);
	}
	if (store_last_message_time(d->store, &last, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		limits_free(l);
		return (NULL);
	}
	if (last == INT64_MIN)
		return (l);
	if ((n = pipeline_rebuild(l, d->store, last - pipeline_max_window(conf), err,
		 sizeof(err))) < 0) {
		log_warnx("%s", err);
		limits_free(l);
		return (NULL);
	}
	log_info("windows rebuilt from %lld stored messages", (long long)n);
	return (l);
}

/* reload - SIGHUP: a new configuration, the same counts */
static void
reload(struct daemon *d)
{
	struct conf *nc;
	struct conf_errs errs = { NULL, 0 };
	struct limits *nl;
	size_t k;

	if (conf_load(d->conf_path, &nc, &errs) < 0) {
		for (k = 0; k < errs.n; k++)
			log_warnx("%s", errs.msg[k]);
		log_warnx("configuration not reloaded: %zu error%s in %s; keeping the old one",
		    errs.n, errs.n == 1 ? "" : "s", d->conf_path);
		conf_errs_free(&errs);
		return;
	}
	if (strcmp(nc->log, d->conf->log) != 0 || strcmp(nc->state, d->conf->state) != 0 ||
	    strcmp(nc->socket, d->conf->socket) != 0 ||
	    strcmp(nc->postfix_user, d->conf->postfix_user) != 0)
		log_warnx(
		    "log, postfix_user, state and socket changes take effect at the next start");
	if ((nl = rebuild(d, nc, d->pl.limits)) == NULL) {
		log_warnx("configuration not reloaded; keeping the old one");
		conf_free(nc);
		return;
	}
	/* keep following the same files until a restart */
	{
		char *t;

		t = nc->log;
		nc->log = d->conf->log;
		d->conf->log = t;
		t = nc->state;
		nc->state = d->conf->state;
		d->conf->state = t;
		t = nc->socket;
		nc->socket = d->conf->socket;
		d->conf->socket = t;
	}
	limits_free(d->pl.limits);
	d->pl.limits = nl;
	d->pl.conf = nc;
	if (d->act != NULL)
		act_set_conf(d->act, nc);
	if (d->cluster != NULL)
		cluster_set_conf(d->cluster, nc);
	conf_free(d->conf);
	d->conf = nc;
	log_info("configuration reloaded from %s: %zu rule%s", d->conf_path, nc->nrules,
	    nc->nrules == 1 ? "" : "s");
}

static void
on_signal(struct ev *ev, int signo, void *ctx)
{
	struct daemon *d = ctx;

	if (run_settle(d) < 0)
		return;
	if (signo == SIGHUP) {
		reload(d);
		return;
	}
	log_info("signal %d: stopping", signo);
	ev_stop(ev);
}

/* on_act_done - enforcement's report of a block or unblock by hand, for its client */
static void
on_act_done(void *ctx, const char *report)
{
	control_reply(ctx, report, strlen(report));
}

/* status_answer - the status report of the running daemon into fp */
static void
status_answer(struct daemon *d, FILE *fp, int json)
{
	struct status_info si;
	struct cluster_info ci;

	memset(&si, 0, sizeof(si));
	si.running = 1;
	si.pid = (long)getpid();
	si.log = d->conf->log;
	si.state = d->conf->state;
	si.lines = d->pl.lines;
	si.last_us = d->pl.last_us;
	si.mode = d->conf->mode == MODE_MONITOR ? "monitor" : "enforce";
	logsrc_status(d->src, &si);
	si.future_lines = d->pl.future_lines;
	si.cluster_node = d->conf->cluster_node;
	if (d->cluster != NULL) { /* cluster: the link and the nodes */
		cluster_info(d->cluster, &ci);
		si.cluster = &ci;
	}
	status_print(fp, d->pl.limits, d->store, status_now(d->pl.last_us), &si, json);
}

/*
 * on_request - answer one parsed control request (agent/control.c checked
 * its peer and its form).  block and unblock answer once their programs
 * ran (on_act_done); the rest at once.
 */
static void
on_request(void *ctx, struct control_client *c, const struct control_req *r)
{
	struct daemon *d = ctx;
	char *buf = NULL, err[512];
	size_t len = 0;
	FILE *fp;
	int rc;

	if (run_settle(d) < 0) /* a change by hand is a transaction of its own */
		return;
	if (r->verb == CONTROL_BLOCK || r->verb == CONTROL_UNBLOCK) {
		control_defer(c); /* it waits for the report */
		rc = r->verb == CONTROL_BLOCK
		    ? act_block(d->act, r->id, r->secs, on_act_done, c, err, sizeof(err))
		    : act_unblock(d->act, r->id, r->mode, on_act_done, c, err, sizeof(err));
		if (rc == 0) {
			if (d->cluster != NULL)
				cluster_kick(
				    d->cluster); /* cluster: the decision to the other nodes */
			return; /* answered by on_act_done (c may already be gone) */
		}
		if ((fp = open_memstream(&buf, &len)) != NULL) {
			fprintf(fp, "error: %s\n", err);
			fclose(fp);
		}
	} else if ((fp = open_memstream(&buf, &len)) != NULL) {
		if (r->verb == CONTROL_STATUS)
			status_answer(d, fp, r->json);
		else if (explain_print(d->store, r->id, fp, err, sizeof(err)) < 0)
			fprintf(fp, "error: %s\n", err);
		fclose(fp);
	}
	control_reply(c, buf != NULL ? buf : "", buf != NULL ? len : 0);
	free(buf);
}

/* restore_cb - one saved tracker entry */
static int
restore_cb(void *ctx, const void *k, size_t kn, const void *v, size_t vn)
{
	struct daemon *d = ((void **)ctx)[0];
	int ns = *(int *)((void **)ctx)[1];

	if (track_restore(d->pl.track, ns, k, kn, v, vn) < 0)
		log_warnx("ignoring a damaged saved tracker entry");
	return (0);
}

/*
 * open_state - the state database, ours alone: its directory made 0700
 * (or one nobody else may write), its lock taken (a second daemon on the
 * same database stops here, whatever socket it was given), then the
 * database opened (no symbolic link followed; an empty or foreign file
 * refused; modes an older version left readable made private, and said).
 * 0 or an exit code.
 */
static int
open_state(struct daemon *d)
{
	char err[1024];
	mode_t mode = 0;
	long holder;
	int r;

	if ((r = priv_dir_of(d->conf->state, &mode, err, sizeof(err))) < 0) {
		log_warnx("state: %s", err);
		return (EXIT_RUNTIME);
	}
	if (r == 0 && (mode & 077) != 0)
		log_warnx("state: the directory of %s is mode %04o: others can list the names "
			  "of the state files, though not read them (chmod 0700 it)",
		    d->conf->state, (unsigned)mode);
	if ((d->lockfd = store_lock(d->conf->state, &holder, err, sizeof(err))) < 0) {
		if (d->lockfd == STORE_LOCKED && holder > 0)
			log_warnx("%s: another sendguard (pid %ld) is running on this state "
				  "database; "
				  "stopping (two daemons would count every message twice)",
			    d->conf->state, holder);
		else if (d->lockfd == STORE_LOCKED)
			log_warnx("%s: another sendguard is running on this state database; "
				  "stopping (two daemons would count every message twice)",
			    d->conf->state);
		else
			log_warnx("%s", err);
		return (EXIT_RUNTIME);
	}
	if (store_open(&d->store, d->conf->state, 0, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return (EXIT_RUNTIME);
	}
	if (*store_notes(d->store) != '\0')
		log_warnx("state: %s (an older sendguard left it so)", store_notes(d->store));
	/* the indexes the batches write stay in memory: fewer pages read back */
	if (store_cache_size(d->store, DAEMON_CACHE_KIB, err, sizeof(err)) < 0)
		log_warnx("%s", err);
	/* a batch's messages written once each, with their outcomes, at its commit */
	if (store_bulk_keep(d->store, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return (EXIT_RUNTIME);
	}
	return (0);
}

/* start - everything before the loop; 0 or an exit code */
static int
start(struct daemon *d)
{
	struct limits *l;
	char err[512];
	int ns, r;
	void *rctx[2];

	if ((r = open_state(d)) != 0)
		return (r);
	if (pipeline_init(&d->pl, d->conf, d->store, NULL, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return (EXIT_RUNTIME);
	}
	d->pl_ok = 1;
	d->pl.external_txn = 1;
	d->pl.keep_outcomes = 1;
	d->pl.outbox = d->conf->cluster_node != NULL; /* cluster: messages to publish */
	d->pl.on_verdict = on_verdict;
	d->pl.on_message = on_message;
	d->pl.on_event = on_event;
	d->pl.ctx = d;
	track_set_removed(d->pl.track, on_removed, d);
	/* the tracker's in-flight state, then the windows */
	if (run_apply_log(d) < 0)
		return (EXIT_RUNTIME);
	rctx[0] = d;
	rctx[1] = &ns;
	for (ns = TRACK_NS_REC; ns <= TRACK_NS_EXPECT; ns++)
		if (store_kv_each(d->store, ns, restore_cb, rctx, err, sizeof(err)) < 0) {
			log_warnx("%s", err);
			return (EXIT_RUNTIME);
		}
	track_keep_dirty(d->pl.track, 1);
	if ((l = rebuild(d, d->conf, NULL)) == NULL)
		return (EXIT_RUNTIME);
	limits_free(d->pl.limits);
	d->pl.limits = l;
	/* the log, where we stopped */
	if (logsrc_start(&d->src, d->conf, d->store, &d->pl, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return (EXIT_RUNTIME);
	}
	/* the control socket */
	if ((d->ctl = control_listen(d->conf->socket, err, sizeof(err))) < 0) {
		log_warnx("%s", err);
		return (EXIT_RUNTIME);
	}
	return (0);
}

/*
 * start_ckpt - the WAL's checkpoints (page copies, fsyncs) on a thread of
 * their own, so that they never delay a batch or a verdict
 * (store/store_ckpt.c); after detaching, since a thread does not outlive
 * fork()
 */
static void
start_ckpt(struct daemon *d)
{
	char err[512];

	if (store_ckpt_thread(d->store, err, sizeof(err)) < 0)
		log_warnx("%s; checkpointing at the commits instead", err);
}

/*
 * start_loop - the event loop, made after detaching: a signalfd's
 * readiness belongs to the process that created it.
 */
static int
start_loop(struct daemon *d)
{
	if ((d->ev = ev_new()) == NULL) {
		log_warn("event loop");
		return (EXIT_RUNTIME);
	}
	if (ev_add_fd(d->ev, logsrc_fd(d->src), EV_READ, run_on_log, d) < 0) {
		/* standard input from a regular file cannot be polled: read it all */
		if (!(errno == EPERM && strcmp(d->conf->log, "-") == 0)) {
			log_warn("event loop");
			return (EXIT_RUNTIME);
		}
		d->stdin_file = 1;
	}
	if ((d->ctlsrv = control_new(d->ev, d->ctl, on_request, d)) == NULL ||
	    ev_add_signal(d->ev, SIGHUP, on_signal, d) < 0 ||
	    ev_add_signal(d->ev, SIGTERM, on_signal, d) < 0 ||
	    ev_add_signal(d->ev, SIGINT, on_signal, d) < 0 ||
	    (d->idle_timer = ev_add_timer(d->ev, IDLE_FLUSH_MS, 0, run_on_idle, d)) < 0 ||
	    (d->commit_timer = ev_add_timer(d->ev, 86400000, 0, run_on_commit, d)) < 0 ||
	    ev_add_timer(d->ev, 1000, 0, on_prune, d) < 0 ||
	    ev_add_timer(d->ev, METRICS_INTERVAL_MS, 1, on_metrics, d) < 0 ||
	    (d->metrics = metrics_new()) == NULL) {
		log_warn("event loop");
		return (EXIT_RUNTIME);
	}
	if ((d->act = act_new(runner_new(d->ev), d->store, d->conf, act_log, d)) == NULL) {
		log_warnx("out of memory");
		return (EXIT_RUNTIME);
	}
	{
		const struct act_hooks h = { clock_hook, on_block_hook, on_end_hook, ips_hook, d };

		act_set_hooks(d->act, &h);
	}
	{
		char err[512];

		/* the store is the truth: heal the maps and the jobs a crash left */
		if (act_start(d->act, err, sizeof(err)) < 0) {
			log_warnx("%s", err);
			return (EXIT_RUNTIME);
		}
	}
	if (d->conf->cluster_node != NULL) { /* cluster: its socket joins the loop */
		const struct cluster_env env = { d->ev, d->store, &d->pl, d->act, cluster_log,
			cluster_fatal, d };

		if ((d->cluster = cluster_new(d->conf, &env)) == NULL) {
			log_warnx("out of memory");
			return (EXIT_RUNTIME);
		}
	}
	return (0);
}

/* drain - at a stop, let running programs finish (5 s at most; the rest run again at the next start) */
static void
on_drain_tick(struct ev *ev, int id, void *ctx)
{
	struct daemon *d = ctx;

	(void)id;
	if (d->act == NULL || act_running(d->act) == 0 || --d->drain_ticks <= 0)
		ev_stop(ev);
}

static void
drain(struct daemon *d)
{
	if (d->act == NULL || d->ev == NULL)
		return;
	act_kick(d->act);
	if (act_running(d->act) == 0)
		return;
	d->drain_ticks = 50;
	if (ev_add_timer(d->ev, 100, 1, on_drain_tick, d) >= 0)
		(void)ev_run(d->ev);
}

int
cmd_run(int argc, char **argv)
{
	struct daemon d;
	int fg = 0, rc;
	const struct cmd_val vals[] = { { 'c', "config", &d.conf_path, NULL },
		{ 'f', "foreground", NULL, &fg }, { 0, NULL, NULL, NULL } };

	memset(&d, 0, sizeof(d));
	d.conf_path = SG_DEFAULT_CONF;
	d.ctl = -1;
	d.lockfd = -1;
	if (cmd_opts("run", run_usage, vals, argc, argv, &rc) < 0)
		return (rc);
	if ((rc = cmd_load_conf(d.conf_path, &d.conf)) != 0)
		return (rc);
	log_init(0, 0); /* start-up errors go to the terminal */
	signal(SIGPIPE, SIG_IGN);
	if ((rc = start(&d)) == 0) {
		if (!fg) {
			char err[512];

			if (daemon(1, 0) < 0) {
				log_warn("daemon");
				rc = EXIT_RUNTIME;
				goto out;
			}
			log_init(1, 0);
			(void)store_lock_pid(d.lockfd); /* the pid that holds it now */
			if (logsrc_after_fork(d.src, err, sizeof(err)) < 0) {
				log_warnx("%s", err);
				rc = EXIT_RUNTIME;
				goto out;
			}
		}
		start_ckpt(&d);
		if ((rc = start_loop(&d)) != 0)
			goto out;
		log_info("started: following %s, state in %s, %zu rule%s, %s mode", d.conf->log,
		    d.conf->state, d.conf->nrules, d.conf->nrules == 1 ? "" : "s",
		    d.conf->mode == MODE_MONITOR ? "monitor" : "enforce");
		run_read_log(&d); /* what the log already has */
		on_metrics(NULL, 0, &d);
		while (d.stdin_file && d.exit_code == 0 && !logsrc_eof(d.src))
			run_read_log(&d);
		if (d.exit_code == 0 && !logsrc_eof(d.src) && ev_run(d.ev) < 0) {
			log_warn("event loop");
			d.exit_code = EXIT_RUNTIME;
		}
		if (d.exit_code == 0 && logsrc_eof(d.src))
			run_on_idle(NULL, 0, &d); /* standard input ended: count what is held */
		if (d.exit_code == 0)
			(void)run_settle(&d);
		drain(&d);
		rc = d.exit_code;
		log_info("stopped after %llu lines", (unsigned long long)d.pl.lines);
	}
out:
	cluster_free(d.cluster); /* cluster: before act, whose paths it uses */
	act_free(d.act);         /* reports to the clients that wait: before control_free */
	control_free(d.ctlsrv);
	if (d.ctl >= 0) {
		close(d.ctl);
		unlink(d.conf->socket);
	}
	metrics_free(d.metrics);
	ev_free(d.ev);
	logsrc_close(d.src);
	if (d.pl_ok)
		pipeline_free(&d.pl);
	store_close(d.store);
	store_unlock(d.lockfd);
	conf_free(d.conf);
	return (rc);
}
