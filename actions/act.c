/*
 * NAME
 *	act - enforcement's decisions (see act.h)
 * SUMMARY
 *	decide() is the one path of a verdict (act_verdict) and of a block by
 *	hand (act_block): the callers fill a struct decision, decide()
 *	records the block (its state from the rule's actions and whether the
 *	identity can be a map key), logs it, and queues the runs of the
 *	actions in the rule's order as one chain (job.c): hold (hold.c), the
 *	map step (map.c), notify (notify.c), exec (exec.c).
 *	The blocks in force are also kept in memory (identity -> until, in
 *	the map, holds new mail), for act_message() and for the expiry timer
 *	at the earliest end.  The limits' owner hears of blocks by hand and
 *	of every block that ends through its hooks.
 *
 *	Every block (not in monitor mode) is logged in one stable line and
 *	one line per client address (blockline.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "actions/act_int.h"
#include "actions/exec.h"
#include "actions/hold.h"
#include "actions/notify.h"
#include "util/arr.h"
#include "util/esc.h"
#include "util/ident.h"
#include "util/json.h"

/* A block in force, in memory. */
struct act_binfo {
	int64_t until_us; /* 0: until unblocked */
	int mapped;
	int hold; /* its new messages are held */
};

/*
 * What a decision is made from: a verdict, or an administrator's block.
 * what is the crossing as the postmaster's report gives it, of which the
 * callers fill identity, rule (the rule's name; "manual" by hand), limit
 * and window ("messages", "1h"; by hand "manual", "-"), threshold and
 * count (by hand 0), time_us (of the crossing; by hand now) and ips (the
 * client IPs of the window; by hand those of the longest window);
 * decision_notify() adds the rest.
 */
struct decision {
	struct notify_info what;
	unsigned actions;           /* ACT_* */
	const unsigned char *order; /* the actions in the rule's order */
	size_t norder;
	int verdict;          /* 1: a verdict (logged as a crossing) */
	int64_t dur_us;       /* block time; 0: until unblocked */
	int64_t log_until_us; /* its end on the log's clock; 0: none */
	const char *queue_id; /* the crossing message; by hand NULL */
	struct waiter *w;     /* gets the runs to report on; NULL: none */
};

int64_t
act_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return ((int64_t)tv.tv_sec * 1000000 + tv.tv_usec);
}

void
act_say(struct act *a, enum act_level lv, const char *fmt, ...)
{
	char msg[ACT_SAY_MAX];
	struct buf b;
	va_list ap;

	buf_fixed(&b, msg, sizeof(msg));
	va_start(ap, fmt);
	if (buf_vaddf(&b, fmt, ap) < 0) {
		/* longer than a log line: the start of it, marked as cut */
		va_end(ap);
		va_start(ap, fmt);
		(void)vsnprintf(msg, sizeof(msg) - 3, fmt, ap);
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	}
	va_end(ap);
	if (a->log != NULL)
		a->log(a->lctx, lv, msg);
}

int
act_add_cut(struct buf *b, const char *s, size_t n, size_t max)
{
	if (n <= max)
		return (buf_add(b, s, n));
	return (buf_add(b, s, max) < 0 || buf_adds(b, "...") < 0 ? -1 : 0);
}

void
act_text_check(struct act *a, const struct buf *b, const char *what)
{
	if (b->failed)
		act_say(a, ACT_WARN, "%s: cut at %zu bytes (too long, or out of memory)", what,
		    b->len);
}

int
act_monitor(const struct act *a)
{
	return (a->conf->mode == MODE_MONITOR);
}

int
act_identity_ok(const char *in, char *out, size_t outlen, const char **why)
{
	return (ident_fold(in, out, outlen, why));
}

void *
act_slot(struct hmap *m, const char *key, size_t size)
{
	void **slot;
	int added;

	if ((slot = hmap_get_or_add(m, key, strlen(key), &added)) == NULL)
		return (NULL);
	if (added && (*slot = calloc(1, size)) == NULL)
		hmap_del(m, key, strlen(key));
	return (added && *slot == NULL ? NULL : *slot);
}

/* state_is - st is one of the NULL-terminated names */
static int
state_is(const char *st, const char *const names[])
{
	for (; st != NULL && *names != NULL; names++)
		if (strcmp(st, *names) == 0)
			return (1);
	return (0);
}

int
act_state_active(const char *st)
{
	static const char *const names[] = { "blocked", "holding", "mapped", "noted", NULL };

	return (state_is(st, names));
}

int
act_state_mapped(const char *st)
{
	static const char *const names[] = { "blocked", "mapped", NULL };

	return (state_is(st, names));
}

int
act_state_holds(const char *st)
{
	static const char *const names[] = { "blocked", "holding", NULL };

	return (state_is(st, names));
}

/* state_name - the state of a block in force */
static const char *
state_name(int mapped, int hold)
{
	return (mapped ? (hold ? "blocked" : "mapped") : (hold ? "holding" : "noted"));
}

static void on_expiry(void *);

struct act *
act_new(struct runner *r, struct store *store, const struct conf *conf, act_log_fn log, void *lctx)
{
	struct act *a;

	if (r == NULL || (a = calloc(1, sizeof(*a))) == NULL) {
		runner_free(r);
		return (NULL);
	}
	a->runner = r;
	a->store = store;
	a->conf = conf;
	a->log = log;
	a->lctx = lctx;
	run_timer_init(&a->expiry, r, on_expiry, a);
	job_init(a);
	map_init(a);
	if ((a->blocked = hmap_new()) == NULL || (a->newholds = hmap_new()) == NULL) {
		act_free(a);
		return (NULL);
	}
	if (gethostname(a->hostname, sizeof(a->hostname)) < 0)
		snprintf(a->hostname, sizeof(a->hostname), "localhost");
	a->hostname[sizeof(a->hostname) - 1] = '\0';
	return (a);
}

void
act_free(struct act *a)
{
	if (a == NULL)
		return;
	run_timer_stop(&a->expiry);
	map_fini(a);
	job_fini(a);
	runner_free(a->runner); /* kills what runs; no callback */
	hmap_free(a->blocked, free);
	hmap_free(a->newholds, hold_list_free);
	free(a);
}

void
act_set_conf(struct act *a, const struct conf *c)
{
	a->conf = c;
}

void
act_set_hooks(struct act *a, const struct act_hooks *h)
{
	a->hooks = *h;
}

/* log_clock - the log's clock, else the wall clock */
static int64_t
log_clock(const struct act *a)
{
	return (a->hooks.clock != NULL ? a->hooks.clock(a->hooks.ctx) : act_now());
}

/*
 * rearm_at - where the limits of a block ending at log time end re-arm:
 * then, but never later than just after the newest line read (a log
 * clock behind the wall clock must not leave its next messages uncounted)
 */
static int64_t
rearm_at(const struct act *a, int64_t end)
{
	int64_t lognow = log_clock(a);

	return (end > lognow ? lognow + 1 : end);
}

/* restore_cb - one stored block into the limits */
static int
restore_cb(void *ctx, const struct store_block *b)
{
	struct limits *l = ctx;

	if (b->identity == NULL || b->state == NULL)
		return (0);
	return (limits_restore_block(l, b->identity, b->count, act_state_active(b->state),
		    b->log_until_us != 0 ? b->log_until_us : b->until_us,
		    b->ended_us != 0 ? b->ended_us : INT64_MIN) < 0);
}

int
act_restore_limits(struct store *st, struct limits *l, char *err, size_t errlen)
{
	int r = store_each_block(st, NULL, restore_cb, l, err, errlen);

	if (r > 0)
		snprintf(err, errlen, "out of memory");
	return (r != 0 ? -1 : 0);
}

/* block_remember - the in-memory view of the blocked identities */
static void
block_remember(struct act *a, const char *identity, int64_t until, int mapped, int hold)
{
	struct act_binfo *b = act_slot(a->blocked, identity, sizeof(*b));

	if (b == NULL)
		return;
	b->until_us = until;
	b->mapped = mapped;
	b->hold = hold;
}

int
act_running(const struct act *a)
{
	return (a->jobs.nrunning);
}

int
act_is_blocked_any(struct act *a)
{
	return (hmap_count(a->blocked) > 0);
}

int
act_is_blocked(struct act *a, const char *identity)
{
	struct act_binfo *b = hmap_get(a->blocked, identity, strlen(identity));

	return (b != NULL && (b->until_us == 0 || b->until_us > act_now()));
}

int
act_holds_new(struct act *a, const char *identity)
{
	struct act_binfo *b = hmap_get(a->blocked, identity, strlen(identity));

	return (b != NULL && b->hold && act_is_blocked(a, identity));
}

/* ---------------------------------------------------------------------- */
/* expiry */

/* The earliest block end. */
static int
min_cb(void *ctx, const char *k, size_t n, void *v)
{
	int64_t *min = ctx;
	struct act_binfo *b = v;

	(void)k;
	(void)n;
	if (b->until_us > 0 && (*min == 0 || b->until_us < *min))
		*min = b->until_us;
	return (0);
}

/* expiry_rearm - the timer at the earliest block end (none: disarmed) */
static void
expiry_rearm(struct act *a)
{
	int64_t min = 0, d;

	hmap_each(a->blocked, min_cb, &min);
	if (min == 0) {
		run_timer_stop(&a->expiry);
		return;
	}
	d = (min - act_now()) / 1000 + 1;
	run_timer_set(&a->expiry, d > 0 ? (uint64_t)d : 1, 0);
}

/* The identities whose blocks are due. */
struct expwalk {
	int64_t now;
	char **ids;
	size_t n, cap;
};

static int
exp_cb(void *ctx, const char *k, size_t n, void *v)
{
	struct expwalk *ew = ctx;
	struct act_binfo *b = v;
	char **ni;

	(void)n;
	if (b->until_us == 0 || b->until_us > ew->now)
		return (0);
	if ((ni = arr_grow(ew->ids, ew->n, &ew->cap, sizeof(*ni), 8)) == NULL)
		return (1);
	ew->ids = ni;
	if ((ew->ids[ew->n] = strdup(k)) != NULL)
		ew->n++;
	return (0);
}

/* expire_one - identity's block ended: record it, tell the limits and the log */
static void
expire_one(struct act *a, const char *identity)
{
	struct act_binfo *bi = hmap_del(a->blocked, identity, strlen(identity));
	struct store_block b;
	char buf[2048], err[512], idv[ACT_ID_VIS];

	if (store_get_block(a->store, identity, &b, buf, sizeof(buf), err, sizeof(err)) == 1) {
		b.state = "expired";
		b.ended_us = rearm_at(a, b.log_until_us != 0 ? b.log_until_us : b.until_us);
		if (store_put_block(a->store, &b, err, sizeof(err)) < 0)
			act_say(a, ACT_WARN, "%s", err);
		if (a->hooks.on_end != NULL)
			a->hooks.on_end(a->hooks.ctx, identity, b.ended_us);
	}
	if (bi != NULL && bi->mapped)
		map_later(a);
	esc_vis(identity, idv, sizeof(idv));
	if (bi != NULL && bi->hold)
		act_say(a, ACT_INFO,
		    "block of %s expired; mail it had queued stays on hold "
		    "(sendguard unblock --release-held or --delete-held)",
		    idv);
	else
		act_say(a, ACT_INFO, "block of %s expired", idv);
	free(bi);
}

/* expire - end the blocks that are due, in one transaction */
static void
expire(struct act *a)
{
	struct expwalk ew;
	char err[512];
	size_t i;
	int started = 0;

	memset(&ew, 0, sizeof(ew));
	ew.now = act_now();
	hmap_each(a->blocked, exp_cb, &ew);
	for (i = 0; i < ew.n; i++) {
		if (!started && store_begin(a->store, err, sizeof(err)) == 0)
			started = 1;
		expire_one(a, ew.ids[i]);
		free(ew.ids[i]);
	}
	free(ew.ids);
	if (started && store_commit(a->store, err, sizeof(err)) < 0)
		act_say(a, ACT_WARN, "%s", err);
	expiry_rearm(a);
}

static void
on_expiry(void *ctx)
{
	struct act *a = ctx;

	expire(a);
	job_kick(a);
}

/* ---------------------------------------------------------------------- */
/* decisions */

/*
 * cluster_note - in a cluster, a block decided here or an unblock by hand
 * goes into the decision outbox, in the transaction that records it, for
 * the other nodes (cluster/ publishes it); not in monitor mode, and not
 * what another node decided (a->from_cluster)
 */
static void
cluster_note(struct act *a, const char *kind, const char *identity, const char *rule,
    int64_t until_us, const char *mode)
{
	struct store_decision d = { 0, act_now(), kind, identity, rule, until_us, mode };
	char err[512];

	if (a->conf->cluster_node == NULL || a->from_cluster || act_monitor(a))
		return;
	if (store_add_decision(a->store, &d, err, sizeof(err)) < 0)
		act_say(a, ACT_WARN, "%s", err);
}

/*
 * block_record - the block of d into the store and memory (not in monitor
 * mode), with its state; logged when a verdict made it.  Returns 1 when
 * the identity goes into an access map; *why says why not when it cannot.
 */
static int
block_record(struct act *a, const struct decision *d, struct store_block *b, const char **why)
{
	struct store_block prior;
	char pbuf[2048], err[512], idv[ACT_ID_VIS], tb[40];
	int have, mapped, hold = (d->actions & ACT_HOLD) != 0;
	int want_map = (d->actions & ACT_BLOCK) != 0;
	int64_t now = act_now();

	esc_vis(d->what.identity, idv, sizeof(idv));
	have = store_get_block(a->store, d->what.identity, &prior, pbuf, sizeof(pbuf), err,
	    sizeof(err));
	if (have < 0)
		act_say(a, ACT_WARN, "%s", err);
	memset(b, 0, sizeof(*b));
	b->identity = d->what.identity;
	b->rule = d->what.rule;
	b->ended_us = have == 1 ? prior.ended_us : 0; /* the end of the one before */
	b->since_us = now;
	b->count = have == 1 ? prior.count + 1 : 1;
	b->log_until_us = d->log_until_us;
	b->until_us = d->dur_us > 0 ? now + d->dur_us : 0;
	b->ips = d->what.ips;
	mapped = want_map && map_mappable(a, d->what.identity, why);
	if (want_map && !mapped)
		act_say(a, ACT_WARN,
		    "%s is not written to the access map: %s; its mail is still "
		    "held",
		    idv, *why);
	b->state = state_name(mapped, hold);
	if (!act_monitor(a)) {
		if (store_put_block(a->store, b, err, sizeof(err)) < 0)
			act_say(a, ACT_WARN, "%s", err);
		cluster_note(a, "block", d->what.identity, d->what.rule, b->until_us, NULL);
		block_remember(a, d->what.identity, b->until_us, mapped, hold);
		expiry_rearm(a);
	}
	if (d->verdict)
		act_say(a, ACT_WARN,
		    "%sblocking %s: rule %s, %s %ld > %ld in %s, crossed by %s; "
		    "block %ld for %s",
		    act_monitor(a) ? "monitor: would be " : "", idv, d->what.rule, d->what.limit,
		    d->what.count, d->what.threshold, d->what.window, d->queue_id, b->count,
		    b->until_us ? conf_format_duration(d->dur_us / 1000000, tb, sizeof(tb))
				: "ever");
	if (!act_monitor(a))
		act_block_line(a, d->what.identity, d->what.rule, d->what.ips);
	return (mapped);
}

/* decision_text - what is decided, in the rule's order: for the notice and the one who asked */
static void
decision_text(struct act *a, const struct decision *d, const struct hold_list *ql,
    const struct hold_list *gl, int mapped, const char *why, struct buf *out)
{
	size_t i;

	for (i = 0; i < d->norder; i++) {
		const char *sep = i ? "; " : "";

		switch (d->order[i]) {
		case ACT_HOLD:
			buf_addf(out, "%shold: %zu queued message%s sent to postsuper -h", sep,
			    ql->n, ql->n == 1 ? "" : "s");
			if (gl->n > 0)
				buf_addf(out, " (and %zu the log calls removed)", gl->n);
			buf_adds(out, ", each once the queue confirms it");
			break;
		case ACT_BLOCK:
			buf_addf(out, "%sblock: %s", sep,
			    mapped    ? "added to the access map"
				: why ? why
				      : "not mappable");
			break;
		case ACT_NOTIFY:
			buf_addf(out, "%snotify: %s", sep,
			    a->conf->notify_to ? a->conf->notify_to : "-");
			break;
		case ACT_EXEC:
			buf_addf(out, "%sexec", sep);
			break;
		default:
			break;
		}
	}
	act_text_check(a, out, "the decision's text");
}

/* decision_notify - the postmaster's report of d */
static void
decision_notify(struct act *a, const struct decision *d, const struct hold_list *ql,
    const char *acts)
{
	struct notify_info ni = d->what;

	if (a->conf->notify_to == NULL)
		return;
	ni.first_qid = ql->n ? ql->q[0] : d->queue_id;
	ni.last_qid = ql->n ? ql->q[ql->n - 1] : d->queue_id;
	ni.actions = acts;
	ni.hostname = a->hostname;
	ni.from = "MAILER-DAEMON";
	ni.to = a->conf->notify_to;
	ni.monitor = act_monitor(a);
	notify_job(a, &ni);
}

/* decision_runs - the runs of d's actions, in the rule's order, one chain */
static void
decision_runs(struct act *a, const struct decision *d, const struct hold_list *ql,
    const struct hold_list *gl, int mapped, const char *acts)
{
	size_t i;

	job_chain_begin(a);
	for (i = 0; i < d->norder; i++) {
		switch (d->order[i]) {
		case ACT_HOLD:
			hold_job(a, "hold", "-h", d->what.identity, ql);
			break;
		case ACT_BLOCK:
			if (mapped)
				map_block(a, d->what.identity);
			break;
		case ACT_NOTIFY:
			decision_notify(a, d, ql, acts);
			break;
		case ACT_EXEC:
			exec_job(a, &d->what, ql);
			break;
		default:
			break;
		}
	}
	job_chain_end(a, d->w);
	/*
	 * the messages a `removed` line (perhaps forged) took out of the
	 * hold: the queue is asked about them too, after the chain's own
	 * runs have started; most are gone, and each costs postcat a second
	 */
	if (d->actions & ACT_HOLD)
		hold_job(a, "recheck", "-h", d->what.identity, gl);
}

/*
 * decide - put d's identity into the blocked state and queue its actions
 * in the order given, each run starting after the one before it has run
 * once (a map change: after the reload that puts it in force).  d->w, if
 * not NULL, gets the decision's runs to report on and what was decided.
 */
static void
decide(struct act *a, const struct decision *d)
{
	struct store_block b;
	struct hold_list ql = { NULL, 0, 0 }, gl = { NULL, 0, 0 };
	struct buf acts;
	const char *why = NULL;
	char idv[ACT_ID_VIS], tb[40];
	int mapped;

	mapped = block_record(a, d, &b, &why);
	if (d->actions & ACT_HOLD)
		hold_collect(a, d->what.identity, d->what.time_us, &ql, &gl);
	buf_init(&acts, ACT_TEXT_MAX);
	decision_text(a, d, &ql, &gl, mapped, why, &acts);
	decision_runs(a, d, &ql, &gl, mapped, buf_str(&acts));
	if (d->w != NULL)
		buf_addf(&d->w->head, "%s: %s%s%s\n", esc_vis(d->what.identity, idv, sizeof(idv)),
		    buf_str(&acts), b.until_us ? "; until " : "; until unblocked",
		    b.until_us ? json_time(b.until_us, tb, sizeof(tb)) : "");
	buf_free(&acts);
	hold_list_clear(&ql);
	hold_list_clear(&gl);
}

void
act_verdict(struct act *a, const struct limits_verdict *v)
{
	const struct conf_rule *r = v->rule;
	char wb[32];
	/* the pipeline began the block on the log's clock */
	const struct decision d = {
		.what = {
			.identity = v->identity,
			.rule = r->name,
			.limit = conf_limit_name(v->win->limit),
			.window = conf_format_duration(v->win->seconds, wb, sizeof(wb)),
			.threshold = v->win->threshold,
			.count = v->count,
			.time_us = v->time_us,
			.ips = v->ips,
		},
		.actions = r->actions,
		.order = r->action_order,
		.norder = r->nactions,
		.verdict = 1,
		.dur_us = v->block_until_us != 0 ? v->block_until_us - v->time_us : 0,
		.log_until_us = v->block_until_us,
		.queue_id = v->queue_id,
	};

	if (!v->blocks || act_is_blocked(a, v->identity))
		return; /* one overrun, one set of actions */
	decide(a, &d);
}

void
act_message(struct act *a, const struct track_msg *m)
{
	if (hmap_count(a->blocked) > 0)
		hold_message(a, m);
}

void
act_hold_event(struct act *a, const char *host, const char *instance, const char *qid,
    const char *state, int64_t t)
{
	char err[256];

	if (store_hold_state(a->store, host, instance, qid, state, t, err, sizeof(err)) < 0)
		act_say(a, ACT_WARN, "%s", err);
}

void
act_kick(struct act *a)
{
	hold_kick(a);
	job_kick(a);
	runner_settle(a->runner);
}

/* load_cb - a stored block in force, into memory */
static int
load_cb(void *ctx, const struct store_block *b)
{
	struct act *a = ctx;

	if (b->identity != NULL && act_state_active(b->state))
		block_remember(a, b->identity, b->until_us, act_state_mapped(b->state),
		    act_state_holds(b->state));
	return (0);
}

int
act_start(struct act *a, char *err, size_t errlen)
{
	int nblocked;

	if (store_each_block(a->store, NULL, load_cb, a, err, errlen) != 0)
		return (-1);
	nblocked = (int)hmap_count(a->blocked);
	expire(a);
	if (!act_monitor(a)) {
		/* the store is the truth: the maps say what it says */
		map_heal(a, nblocked);
		if (job_requeue_pending(a, err, errlen) < 0)
			return (-1);
	}
	expiry_rearm(a);
	job_kick(a);
	runner_settle(a->runner);
	return (0);
}

/* ---------------------------------------------------------------------- */
/* by hand */

/* by_hand - a change by hand begins: its waiter, and its store transaction; NULL with err */
static struct waiter *
by_hand(struct act *a, char *err, size_t errlen)
{
	struct waiter *w = job_wait_new();

	if (w == NULL)
		snprintf(err, errlen, "out of memory");
	else if (store_begin(a->store, err, errlen) < 0) {
		job_wait_free(w);
		w = NULL;
	}
	return (w);
}

/* act_waiter - end a change by hand: commit, then report to done once its runs have run */
static int
act_waiter(struct act *a, struct waiter *w, const char *identity, act_done_fn done, void *ctx,
    char *err, size_t errlen)
{
	if (store_commit(a->store, err, errlen) < 0) {
		job_wait_free(w);
		return (-1);
	}
	if (job_wait_add(a, w, identity, done, ctx) < 0) {
		snprintf(err, errlen, "out of memory");
		job_wait_free(w);
		return (-1);
	}
	act_kick(a);
	return (0);
}

/*
 * block_now - identity blocked from now for seconds (0: until unblocked)
 * under rule ("manual" by hand): its queued and new mail held and, when
 * its kind has a map and the rule blocks (by hand: always), it goes into
 * the map; w (NULL: none) gets the report.  The limits hear of it.
 */
static void
block_now(struct act *a, const char *identity, const char *rule, int64_t seconds, struct waiter *w)
{
	static const unsigned char order[] = { ACT_HOLD, ACT_BLOCK };
	struct store_block b;
	char buf[2048], err[512], ips[CLIENTS_TEXT_MAX] = "";
	const struct conf_rule *r = NULL;
	size_t i;
	int is_sasl, map = map_of(a, identity, &is_sasl) != NULL || is_sasl;
	struct decision d = {
		.what = {
			.identity = identity,
			.rule = rule,
			.limit = strcmp(rule, "manual") == 0 ? "manual" : "cluster",
			.window = "-",
			.time_us = act_now(),
		},
		.actions = ACT_HOLD,
		.order = order,
		.norder = 1,
		.dur_us = seconds * 1000000,
		.w = w,
	};

	for (i = 0; i < a->conf->nrules && strcmp(rule, "manual") != 0; i++)
		if (strcmp(a->conf->rules[i].name, rule) == 0)
			r = &a->conf->rules[i];
	if (r != NULL) /* another node's verdict: this rule's hold and block, here */
		map = map && (r->actions & ACT_BLOCK);
	if (map) {
		d.actions |= ACT_BLOCK;
		d.norder = 2;
	}
	d.log_until_us = d.dur_us > 0 ? log_clock(a) + d.dur_us : 0;
	if (a->hooks.ips != NULL)
		d.what.ips = a->hooks.ips(a->hooks.ctx, identity, ips, sizeof(ips));
	decide(a, &d);
	if (a->hooks.on_block != NULL && !act_monitor(a) &&
	    store_get_block(a->store, identity, &b, buf, sizeof(buf), err, sizeof(err)) == 1)
		a->hooks.on_block(a->hooks.ctx, identity,
		    b.log_until_us != 0 ? b.log_until_us - seconds * 1000000 : log_clock(a),
		    b.log_until_us);
}

int
act_block(struct act *a, const char *identity, int64_t seconds, act_done_fn done, void *ctx,
    char *err, size_t errlen)
{
	struct waiter *w;

	if ((w = by_hand(a, err, errlen)) == NULL)
		return (-1);
	block_now(a, identity, "manual", seconds, w);
	return (act_waiter(a, w, identity, done, ctx, err, errlen));
}

/* unblock_block - identity's block in force ends by hand; 0, or -1 with err */
static int
unblock_block(struct act *a, const char *identity, struct waiter *w, char *err, size_t errlen)
{
	struct store_block b;
	char buf[2048], idv[ACT_ID_VIS];
	int have, was_mapped;

	esc_vis(identity, idv, sizeof(idv));
	if ((have = store_get_block(a->store, identity, &b, buf, sizeof(buf), err, errlen)) < 0)
		return (-1);
	if (have == 1 && act_state_active(b.state)) {
		was_mapped = act_state_mapped(b.state);
		b.state = "unblocked";
		b.until_us = act_now(); /* it ended now, by hand */
		b.ended_us = rearm_at(a, b.until_us);
		if (store_put_block(a->store, &b, err, errlen) < 0)
			return (-1);
		if (was_mapped) {
			uint64_t gen = map_later(a);

			if (w != NULL)
				w->gen = gen;
		}
		if (w != NULL)
			buf_addf(&w->head, "%s: unblocked%s; its limits count afresh from now\n",
			    idv, was_mapped ? "; removed from the access map" : "");
		act_say(a, ACT_INFO, "%s unblocked %s", idv,
		    a->from_cluster ? "on another node" : "by hand");
		if (a->hooks.on_end != NULL)
			a->hooks.on_end(a->hooks.ctx, identity, b.ended_us);
	} else if (w != NULL)
		buf_addf(&w->head, "%s: was not blocked\n", idv);
	free(hmap_del(a->blocked, identity, strlen(identity)));
	expiry_rearm(a);
	return (0);
}

/* unblock_held - identity's held mail to postsuper -H or -d; 0, or -1 with err */
static int
unblock_held(struct act *a, const char *identity, enum act_unblock_mode mode, struct waiter *w,
    char *err, size_t errlen)
{
	int release = mode == ACT_UNBLOCK_RELEASE;
	struct hold_list held = { NULL, 0, 0 };
	char idv[ACT_ID_VIS];
	int r = 0;

	if (hold_held(a, identity, &held, err, errlen) < 0)
		return (-1);
	job_chain_begin(a);
	hold_job(a, release ? "release" : "delete", release ? "-H" : "-d", identity, &held);
	job_chain_end(a, w);
	if (held.n > 0 &&
	    store_holds_set_state(a->store, identity, release ? "released" : "deleted", act_now(),
		err, errlen) < 0)
		r = -1;
	else if (w != NULL)
		buf_addf(&w->head, "%s: %zu held message%s sent to %s\n",
		    esc_vis(identity, idv, sizeof(idv)), held.n, held.n == 1 ? "" : "s",
		    release ? "postsuper -H (release)" : "postsuper -d (delete)");
	hold_list_clear(&held);
	return (r);
}

int
act_unblock(struct act *a, const char *identity, enum act_unblock_mode mode, act_done_fn done,
    void *ctx, char *err, size_t errlen)
{
	struct waiter *w;

	if ((w = by_hand(a, err, errlen)) == NULL)
		return (-1);
	if (unblock_block(a, identity, w, err, errlen) < 0 ||
	    (mode != ACT_UNBLOCK_KEEP && unblock_held(a, identity, mode, w, err, errlen) < 0)) {
		store_rollback(a->store);
		job_wait_free(w);
		return (-1);
	}
	cluster_note(a, "unblock", identity, NULL, 0,
	    mode == ACT_UNBLOCK_RELEASE      ? "release"
		: mode == ACT_UNBLOCK_DELETE ? "delete"
					     : "keep");
	return (act_waiter(a, w, identity, done, ctx, err, errlen));
}

/* ---------------------------------------------------------------------- */
/* what another node of the cluster decided */

void
act_cluster_block(struct act *a, const char *identity, const char *rule, int64_t until_us,
    const char *node)
{
	int64_t now = act_now(), secs = 0;
	char idv[ACT_ID_VIS], nv[ACT_ID_VIS];

	if (act_is_blocked(a, identity) || (until_us != 0 && until_us <= now))
		return; /* blocked here already (this node crossed too), or over */
	if (until_us != 0 && (secs = (until_us - now + 999999) / 1000000) < 1)
		secs = 1;
	act_say(a, ACT_WARN, "cluster: %s was blocked on node %s (rule %s): blocking it here too",
	    esc_vis(identity, idv, sizeof(idv)), esc_vis(node, nv, sizeof(nv)), rule);
	a->from_cluster = 1;
	block_now(a, identity, rule, secs, NULL);
	a->from_cluster = 0;
}

void
act_cluster_unblock(struct act *a, const char *identity, enum act_unblock_mode mode,
    const char *node)
{
	char err[512], idv[ACT_ID_VIS], nv[ACT_ID_VIS];

	act_say(a, ACT_INFO, "cluster: %s was unblocked on node %s%s",
	    esc_vis(identity, idv, sizeof(idv)), esc_vis(node, nv, sizeof(nv)),
	    mode == ACT_UNBLOCK_RELEASE      ? "; releasing its held mail here"
		: mode == ACT_UNBLOCK_DELETE ? "; deleting its held mail here"
					     : "");
	a->from_cluster = 1;
	if (unblock_block(a, identity, NULL, err, sizeof(err)) < 0 ||
	    (mode != ACT_UNBLOCK_KEEP &&
		unblock_held(a, identity, mode, NULL, err, sizeof(err)) < 0))
		act_say(a, ACT_WARN, "cluster: unblock of %s: %s", idv, err);
	a->from_cluster = 0;
}
