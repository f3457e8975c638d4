/*
 * NAME
 *	act - enforcement (see act.h)
 * SUMMARY
 *	Jobs: one external program run each, recorded in action_log first
 *	("pending"), then with its outcome ("ok", or "pending" with a later
 *	next_us while retries last, then "failed").  Map rewrites are not
 *	jobs: the maps are derived from the blocks table whenever it changed
 *	(debounced), then one postmap job per map, then one reload job.
 *	Block states while blocked: "blocked" (in the access map, new mail
 *	held), "holding" (new mail held, not in a map: the rule has no block
 *	action or the identity is not a safe key), "mapped" (in the map, the
 *	rule has no hold action), "noted" (neither: notify/exec only); then
 *	"expired" or "unblocked".
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "actions/act.h"
#include "actions/blockmap.h"
#include "actions/run.h"
#include "util/hmap.h"
#include "util/json.h"
#include "util/log.h"
#include "parsers/pf.h"
#include "util/ident.h"

#define MAX_RUNNING	4
#define IDENT_MAX	1024

/*
 * JOB_MAP is a decision's block step: no program of its own, it asks for
 * the maps to be rewritten when its turn comes and ends when that rewrite
 * (postmap, then reload) has ended, so the step after it waits for the map
 * to be in force.
 */
enum job_kind { JOB_PROG = 0, JOB_POSTMAP, JOB_RELOAD, JOB_MAP };

struct job {
	struct job *next;
	int64_t	id;
	enum job_kind kind;
	char	action[16];
	char   *identity;
	char  **argv;
	char   *in;
	size_t	inlen;
	int	attempts;
	int64_t	next_us;
	int	running;
	void   *jc;		/* the runner's context while running */
	struct notify_info *ni;	/* notify: composed again with the outcomes */
	int64_t	first_id;	/* notify: the first run of its decision */
	int64_t	after_id;	/* starts once this run (of its decision) has run once */
	uint64_t gen;		/* JOB_MAP: the map rewrite it asked for */
};

/*
 * A decision's report for the one who asked (block by hand): sent when
 * every run it queued has run once and its map change is in force, with
 * what the programs said.
 */
struct waiter {
	struct waiter *next;
	char   *identity;
	int64_t	first_id, last_id;	/* its runs; first_id 0: none */
	uint64_t gen;			/* its map generation; 0: none */
	char   *head;			/* what was decided */
	int64_t	deadline;		/* then it reports what it has (daemon only) */
	act_done_fn done;
	void   *ctx;
};

#define ACT_WAIT_MS	40000	/* longest a block or unblock by hand waits for its runs */

struct binfo {
	int64_t	until_us;	/* 0: until unblocked */
	int	mapped;
	int	hold;		/* its new messages are held */
};

/* The block states (see above). */
static int
state_active(const char *st)
{
	return (st != NULL && (strcmp(st, "blocked") == 0 || strcmp(st, "holding") == 0 ||
	    strcmp(st, "mapped") == 0 || strcmp(st, "noted") == 0));
}

static int
state_mapped(const char *st)
{
	return (st != NULL && (strcmp(st, "blocked") == 0 || strcmp(st, "mapped") == 0));
}

static int
state_holds(const char *st)
{
	return (st != NULL && (strcmp(st, "blocked") == 0 || strcmp(st, "holding") == 0));
}

static const char *
state_name(int mapped, int hold)
{
	return (mapped ? (hold ? "blocked" : "mapped") : (hold ? "holding" : "noted"));
}

struct qlist {
	char  **q;
	size_t	n, cap;
};

struct act {
	struct ev *ev;
	struct runner *runner;
	struct store *store;
	const struct conf *conf;
	act_log_fn log;
	void   *lctx;
	struct job *queue;		/* started, waiting or to start */
	struct job *fresh;		/* queued in the current batch */
	int	nrunning;
	struct hmap *blocked;		/* identity -> struct binfo */
	struct hmap *newholds;		/* identity -> struct qlist, this batch */
	int	maps_dirty, maps_busy, postmaps_left, postmap_failed;
	int	reload_wanted, reload_running;
	int	debounce_timer, expiry_timer, retry_timer;
	int	in_decision;		/* decide() is queueing a decision's runs */
	int64_t	decision_first_id;	/* first run recorded by the current decision */
	int64_t	chain_prev;		/* the last run queued by the current decision */
	uint64_t gen_want, gen_running, gen_done;	/* map rewrites: asked, started, ended */
	uint64_t gen_ok;			/* the last one put in force */
	struct waiter *waiters;
	int	wait_timer;
	char	hostname[256];
	struct act_hooks hooks;		/* the limits' owner */
};

static void start_jobs(struct act *);
static void maps_sync(struct act *);

/* waiter_done - send w's report (head, then tail) and free it */
static void
waiter_done(struct waiter *w, const char *tail)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	if (fp != NULL) {
		fprintf(fp, "%s%s", w->head ? w->head : "", tail ? tail : "");
		fclose(fp);
	}
	w->done(w->ctx, text != NULL ? text : "");
	free(text);
	free(w->head);
	free(w->identity);
	free(w);
}

static int64_t
now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return ((int64_t)tv.tv_sec * 1000000 + tv.tv_usec);
}

static void __attribute__((format(printf, 3, 4)))
say(struct act *a, enum act_level lv, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (a->log != NULL)
		a->log(a->lctx, lv, buf);
}

int
act_identity_ok(const char *in, char *out, size_t outlen, const char **why)
{
	return (ident_fold(in, out, outlen, why));
}

/* value_of - the part after "kind:" */
static const char *
value_of(const char *identity)
{
	const char *c = strchr(identity, ':');

	return (c ? c + 1 : identity);
}

/*
 * map_of - the access map an identity's kind goes into: sasl logins into
 * sasl_map (check_sasl_access), senders and sender domains into sender_map
 * (check_sender_access looks up the address, then its domain); NULL for
 * the kinds no Postfix access map can hold
 */
static const char *
map_of(const struct act *a, const char *identity, int *is_sasl)
{
	enum ident_kind k;
	const char *v, *why;

	*is_sasl = 0;
	if (ident_parse(identity, &k, &v, &why) < 0)
		return (NULL);
	if (k == IDENT_SASL) {
		*is_sasl = 1;
		return (a->conf->sasl_map);
	}
	return (k == IDENT_SENDER || k == IDENT_SENDER_DOMAIN ? a->conf->sender_map : NULL);
}

/* mappable - 1 when identity can go into an access map (why filled otherwise) */
static int
mappable(const struct act *a, const char *identity, const char **why)
{
	int is_sasl;

	if (map_of(a, identity, &is_sasl) == NULL && !is_sasl) {
		*why = "only sasl, sender and sender_domain identities can be blocked through an "
		    "access map";
		return (0);
	}
	return (blockmap_key_ok(value_of(identity), why));
}

struct act *
act_new(struct ev *ev, struct store *store, const struct conf *conf, act_log_fn log,
	void *lctx)
{
	struct act *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return (NULL);
	a->ev = ev;
	a->store = store;
	a->conf = conf;
	a->log = log;
	a->lctx = lctx;
	a->debounce_timer = a->expiry_timer = a->retry_timer = a->wait_timer = -1;
	if ((a->blocked = hmap_new()) == NULL || (a->newholds = hmap_new()) == NULL ||
	    (ev != NULL && (a->runner = runner_new(ev)) == NULL)) {
		act_free(a);
		return (NULL);
	}
	if (gethostname(a->hostname, sizeof(a->hostname)) < 0)
		snprintf(a->hostname, sizeof(a->hostname), "localhost");
	a->hostname[sizeof(a->hostname) - 1] = '\0';
	return (a);
}

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
	free(j);
}

static void
qlist_free(void *v)
{
	struct qlist *q = v;
	size_t i;

	if (q == NULL)
		return;
	for (i = 0; i < q->n; i++)
		free(q->q[i]);
	free(q->q);
	free(q);
}

void
act_free(struct act *a)
{
	struct job *j, *next;

	if (a == NULL)
		return;
	runner_free(a->runner);		/* kills what runs; no callback */
	for (j = a->queue; j; j = next) {
		next = j->next;
		free(j->jc);
		job_free(j);
	}
	for (j = a->fresh; j; j = next) {
		next = j->next;
		job_free(j);
	}
	if (a->ev != NULL) {
		if (a->debounce_timer >= 0)
			ev_del_timer(a->ev, a->debounce_timer);
		if (a->expiry_timer >= 0)
			ev_del_timer(a->ev, a->expiry_timer);
		if (a->retry_timer >= 0)
			ev_del_timer(a->ev, a->retry_timer);
		if (a->wait_timer >= 0)
			ev_del_timer(a->ev, a->wait_timer);
	}
	while (a->waiters != NULL) {
		struct waiter *w = a->waiters;

		a->waiters = w->next;
		waiter_done(w, "  (sendguard stopped before its programs ended; see sendguard explain)\n");
	}
	hmap_free(a->blocked, free);
	hmap_free(a->newholds, qlist_free);
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
	return (a->hooks.clock != NULL ? a->hooks.clock(a->hooks.ctx) : now_us());
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

/* act_restore_limits - restore_cb: one stored block into the limits */
static int
restore_cb(void *ctx, const struct store_block *b)
{
	struct limits *l = ctx;

	if (b->identity == NULL || b->state == NULL)
		return (0);
	return (limits_restore_block(l, b->identity, b->count, state_active(b->state),
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

/* argv_dup - a NULL-terminated copy */
static char **
argv_dup(const char *const argv[])
{
	size_t n = 0, i;
	char **v;

	while (argv[n])
		n++;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return (NULL);
	for (i = 0; i < n; i++)
		if ((v[i] = strdup(argv[i])) == NULL) {
			while (i > 0)
				free(v[--i]);
			free(v);
			return (NULL);
		}
	return (v);
}

/*
 * queue_job - record a program run in the action log and queue it (to start
 * at act_kick).  In monitor mode it is logged and recorded as "monitor".
 * Takes ownership of argv and in.
 */
static struct job *
queue_job(struct act *a, enum job_kind kind, const char *action, const char *identity,
	  char **argv, char *in, size_t inlen)
{
	struct store_job sj;
	struct job *j, **pp;
	char err[512], text[2048], idv[256];
	size_t blen = 0;
	char *blob;

	run_argv_text((const char *const *)argv, text, sizeof(text));
	memset(&sj, 0, sizeof(sj));
	sj.time_us = now_us();
	sj.identity = identity ? identity : "";
	sj.action = action;
	blob = argv_blob(argv, &blen);
	sj.argv = blob;
	sj.argv_len = blen;
	sj.stdin_data = in;
	sj.stdin_len = inlen;
	sj.status = a->conf->mode == MODE_MONITOR ? "monitor" : "pending";
	sj.next_us = sj.time_us;
	if (a->conf->mode == MODE_MONITOR) {
		sj.outcome = "not run (mode = monitor)";
		say(a, ACT_INFO, "monitor: %s for %s: would run %s%s", action,
		    log_vis(identity ? identity : "-", idv, sizeof(idv)), text,
		    in == NULL ? "" : strcmp(action, "notify") == 0 ? " (the report on standard input)" :
		    " (queue IDs on standard input)");
	}
	if ((sj.id = store_add_job(a->store, &sj, err, sizeof(err))) < 0)
		say(a, ACT_WARN, "recording %s: %s", action, err);
	else if (a->in_decision && a->decision_first_id == 0)
		a->decision_first_id = sj.id;
	free(blob);
	if (a->conf->mode == MODE_MONITOR) {
		char **v;

		for (v = argv; v && *v; v++)
			free(*v);
		free(argv);
		free(in);
		return (NULL);
	}
	if ((j = calloc(1, sizeof(*j))) == NULL || (identity &&
	    (j->identity = strdup(identity)) == NULL)) {
		free(j);
		say(a, ACT_WARN, "%s: out of memory", action);
		return (NULL);
	}
	j->id = sj.id;
	j->kind = kind;
	if ((kind == JOB_PROG || kind == JOB_MAP) && a->in_decision) {
		/* one decision's runs go one after the other, in the rule's order */
		j->after_id = a->chain_prev;
		a->chain_prev = sj.id;
	}
	snprintf(j->action, sizeof(j->action), "%s", action);
	j->argv = argv;
	j->in = in;
	j->inlen = inlen;
	j->next_us = sj.time_us;
	for (pp = &a->fresh; *pp; pp = &(*pp)->next)
		;
	*pp = j;
	return (j);
}

/* prog - argv for one of the Postfix programs, with -c (or -C) config_dir */
static char **
prog(const struct act *a, const char *path, const char *cflag, const char *const rest[])
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
	return (argv_dup(v));
}

/* postsuper_job - postsuper -h|-H|-d - with the queue IDs on stdin */
static void
postsuper_job(struct act *a, const char *action, const char *flag, const char *identity,
	      const char *const qids[], size_t n)
{
	const char *rest[] = { flag, "-", NULL };
	size_t len = 0, skipped = 0;
	char *in, idv[256];

	if (n == 0)
		return;
	if ((in = hold_stdin(qids, n, &len, &skipped)) == NULL) {
		say(a, ACT_WARN, "%s for %s: no valid queue ID", action,
		    log_vis(identity, idv, sizeof(idv)));
		return;
	}
	if (skipped > 0)
		say(a, ACT_WARN, "%s for %s: %zu invalid queue IDs left out", action,
		    log_vis(identity, idv, sizeof(idv)), skipped);
	queue_job(a, JOB_PROG, action, identity, prog(a, a->conf->postsuper, "-c", rest), in, len);
}

/* Queued messages of an identity. */
struct qcollect {
	struct act *a;
	const char *identity;
	struct qlist ql;
	int	failed;
};

static int
qpush(struct qlist *q, const char *qid)
{
	if (q->n == q->cap) {
		size_t nc = q->cap ? q->cap * 2 : 16;
		char **nq = realloc(q->q, nc * sizeof(*nq));

		if (nq == NULL)
			return (-1);
		q->q = nq;
		q->cap = nc;
	}
	if ((q->q[q->n] = strdup(qid)) == NULL)
		return (-1);
	q->n++;
	return (0);
}

static int
queued_cb(void *ctx, const struct store_msg *m)
{
	struct qcollect *qc = ctx;
	struct store_hold h;
	char err[256];

	if (m->queue_id == NULL || !pf_qid_ok(m->queue_id, strlen(m->queue_id)))
		return (0);
	if (qc->a->conf->mode != MODE_MONITOR) {
		memset(&h, 0, sizeof(h));
		h.host = m->host;
		h.instance = m->instance;
		h.queue_id = m->queue_id;
		h.identity = qc->identity;
		h.requested_us = now_us();
		if (store_add_hold(qc->a->store, &h, err, sizeof(err)) < 0) {
			say(qc->a, ACT_WARN, "%s", err);
			qc->failed = 1;
			return (1);
		}
	}
	if (qpush(&qc->ql, m->queue_id) < 0) {
		qc->failed = 1;
		return (1);
	}
	return (0);
}

/*
 * collect_queued - the identity's accepted, not yet removed messages into
 * out, each recorded as a hold requested (not in monitor mode)
 */
static void
collect_queued(struct act *a, const char *identity, int64_t log_now, struct qlist *out)
{
	struct qcollect qc;
	char err[512];

	memset(&qc, 0, sizeof(qc));
	qc.a = a;
	qc.identity = identity;
	if (store_each_queued(a->store, identity, log_now - TRACK_MAX_AGE_US, queued_cb, &qc,
	    err, sizeof(err)) < 0)
		say(a, ACT_WARN, "%s", err);
	*out = qc.ql;
}

/* block_remember - the in-memory view of the blocked identities */
static void
block_remember(struct act *a, const char *identity, int64_t until, int mapped, int hold)
{
	void **slot;
	int added;
	struct binfo *b;

	if ((slot = hmap_get_or_add(a->blocked, identity, strlen(identity), &added)) == NULL)
		return;
	if (added && (*slot = calloc(1, sizeof(struct binfo))) == NULL) {
		hmap_del(a->blocked, identity, strlen(identity));
		return;
	}
	b = *slot;
	b->until_us = until;
	b->mapped = mapped;
	b->hold = hold;
}

int
act_running(const struct act *a)
{
	return (a->nrunning);
}

int
act_is_blocked_any(struct act *a)
{
	return (hmap_count(a->blocked) > 0);
}

int
act_is_blocked(struct act *a, const char *identity)
{
	struct binfo *b = hmap_get(a->blocked, identity, strlen(identity));

	return (b != NULL && (b->until_us == 0 || b->until_us > now_us()));
}

/* arm - (re)arm timer *id to fire after ms, creating it on first use */
static void
arm(struct act *a, int *id, uint64_t ms, ev_timer_fn cb)
{
	if (a->ev == NULL)
		return;
	if (*id >= 0 && ev_reset_timer(a->ev, *id, ms) == 0)
		return;
	*id = ev_add_timer(a->ev, ms, 0, cb, a);
}

static void on_expiry(struct ev *, int, void *);

/* expiry_rearm - the timer at the earliest block end */
struct minwalk {
	int64_t	min;
};

static int
min_cb(void *ctx, const char *k, size_t n, void *v)
{
	struct minwalk *mw = ctx;
	struct binfo *b = v;

	(void)k;
	(void)n;
	if (b->until_us > 0 && (mw->min == 0 || b->until_us < mw->min))
		mw->min = b->until_us;
	return (0);
}

static void
expiry_rearm(struct act *a)
{
	struct minwalk mw = { 0 };
	int64_t d;

	hmap_each(a->blocked, min_cb, &mw);
	if (mw.min == 0) {
		if (a->ev != NULL && a->expiry_timer >= 0)
			ev_reset_timer(a->ev, a->expiry_timer, 86400000ULL * 365);
		return;
	}
	d = (mw.min - now_us()) / 1000 + 1;
	arm(a, &a->expiry_timer, d > 0 ? (uint64_t)d : 1, on_expiry);
}

/* maps_later - the maps changed: rewrite them after the debounce */
static void
on_debounce(struct ev *ev, int id, void *ctx)
{
	struct act *a = ctx;

	(void)ev;
	(void)id;
	maps_sync(a);
	start_jobs(a);
}

static uint64_t
maps_later(struct act *a)
{
	a->maps_dirty = 1;
	a->gen_want++;
	if (a->ev != NULL)
		arm(a, &a->debounce_timer, ACT_DEBOUNCE_MS, on_debounce);
	return (a->gen_want);
}

/* ni_copy - a notify_info with its strings in one allocation */
static struct notify_info *
ni_copy(const struct notify_info *ni)
{
	const char *const src[] = { ni->identity, ni->rule, ni->limit, ni->window, ni->first_qid,
	    ni->last_qid, ni->actions, ni->hostname, ni->from, ni->to };
	const char **dst[10];
	struct notify_info *c;
	size_t n = sizeof(*c), i, l;
	char *p;

	for (i = 0; i < 10; i++)
		n += src[i] ? strlen(src[i]) + 1 : 0;
	if ((c = calloc(1, n)) == NULL)
		return (NULL);
	*c = *ni;
	dst[0] = &c->identity; dst[1] = &c->rule; dst[2] = &c->limit; dst[3] = &c->window;
	dst[4] = &c->first_qid; dst[5] = &c->last_qid; dst[6] = &c->actions;
	dst[7] = &c->hostname; dst[8] = &c->from; dst[9] = &c->to;
	p = (char *)(c + 1);
	for (i = 0; i < 10; i++) {
		if (src[i] == NULL) {
			*dst[i] = NULL;
			continue;
		}
		l = strlen(src[i]) + 1;
		memcpy(p, src[i], l);
		*dst[i] = p;
		p += l;
	}
	return (c);
}

/* notify_job - compose the report and queue sendmail */
static void
notify_job(struct act *a, const struct notify_info *ni)
{
	const char *rest[] = { "-i", "-f", "<>", "--", a->conf->notify_to, NULL };
	char *buf = NULL;
	size_t len = 0;
	struct job *j;
	FILE *fp;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		return;
	notify_compose(fp, ni);
	fclose(fp);
	if ((j = queue_job(a, JOB_PROG, "notify", ni->identity, prog(a, a->conf->sendmail, "-C",
	    rest), buf, len)) == NULL)
		return;
	/* keep what it says, to tell the outcomes of the runs before it */
	j->first_id = a->decision_first_id ? a->decision_first_id : j->id;
	j->ni = ni_copy(ni);
}

/* exec_job - the admin's command with %i %r %c %w %q */
static void
exec_job(struct act *a, const char *identity, const char *rule, long count,
	 const char *window, const struct qlist *ql)
{
	struct exec_vars ev;
	char **argv = NULL, err[256], *qids = NULL;
	size_t i, len = 0;
	FILE *fp;

	if (a->conf->exec_argv == NULL || a->conf->exec_argc == 0)
		return;
	if ((fp = open_memstream(&qids, &len)) == NULL)
		return;
	for (i = 0; ql != NULL && i < ql->n; i++)
		fprintf(fp, "%s%s", i ? "," : "", ql->q[i]);
	fclose(fp);
	ev.identity = identity;
	ev.rule = rule;
	ev.count = count;
	ev.window = window;
	ev.qids = qids;
	if (exec_expand((const char *const *)a->conf->exec_argv, a->conf->exec_argc, &ev, &argv,
	    err, sizeof(err)) < 0) {
		say(a, ACT_WARN, "exec: %s", err);
		free(qids);
		return;
	}
	free(qids);
	queue_job(a, JOB_PROG, "exec", identity, argv, NULL, 0);
}

/* map_job - the block step of a decision: the maps rewritten in its turn */
static void
map_job(struct act *a, const char *identity)
{
	int is_sasl;
	const char *map = map_of(a, identity, &is_sasl);
	const char *v[] = { "map", map != NULL ? map : "-", NULL };

	queue_job(a, JOB_MAP, "map", identity, argv_dup(v), NULL, 0);
}

/* qlist_clear - free a list's strings, keep nothing */
static void
qlist_clear(struct qlist *q)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		free(q->q[i]);
	free(q->q);
	memset(q, 0, sizeof(*q));
}

/*
 * decide - put identity into the blocked state and queue its actions in
 * the order given, each run starting after the one before it has run
 * once (a map change: after the reload that puts it in force).  w, if
 * not NULL, gets the decision's runs to report on.
 */
static void
decide(struct act *a, const char *identity, const char *rulename, unsigned order_mask,
       const unsigned char *order, size_t norder, int64_t seconds,
       const struct limits_verdict *v, struct waiter *w)
{
	struct store_block prior, b;
	char pbuf[2048], err[512], idv[256], wb[32], tb[40], *acts = NULL;
	const char *why = NULL;
	int have, mapped, want_map = (order_mask & ACT_BLOCK) != 0;
	int64_t now = now_us(), dur;
	struct qlist ql = { NULL, 0, 0 };
	size_t i, alen = 0;
	FILE *fp;

	log_vis(identity, idv, sizeof(idv));
	have = store_get_block(a->store, identity, &prior, pbuf, sizeof(pbuf), err, sizeof(err));
	if (have < 0)
		say(a, ACT_WARN, "%s", err);
	memset(&b, 0, sizeof(b));
	b.identity = identity;
	b.rule = rulename;
	b.ended_us = have == 1 ? prior.ended_us : 0;	/* the end of the one before */
	b.since_us = now;
	b.count = have == 1 ? prior.count + 1 : 1;
	/* the pipeline began the block on the log's clock; a block by hand begins now */
	if (v != NULL) {
		dur = v->block_until_us != 0 ? v->block_until_us - v->time_us : 0;
		b.log_until_us = v->block_until_us;
	} else {
		dur = seconds * 1000000;
		b.log_until_us = dur > 0 ? log_clock(a) + dur : 0;
	}
	b.until_us = dur > 0 ? now + dur : 0;
	mapped = want_map && mappable(a, identity, &why);
	if (want_map && !mapped)
		say(a, ACT_WARN, "%s is not written to the access map: %s; its mail is still held",
		    idv, why);
	b.state = state_name(mapped, (order_mask & ACT_HOLD) != 0);
	if (a->conf->mode != MODE_MONITOR) {
		if (store_put_block(a->store, &b, err, sizeof(err)) < 0)
			say(a, ACT_WARN, "%s", err);
		block_remember(a, identity, b.until_us, mapped, (order_mask & ACT_HOLD) != 0);
		expiry_rearm(a);
	}
	if (v != NULL)
		say(a, ACT_WARN, "%sblocking %s: rule %s, %s %ld > %ld in %s, crossed by %s; "
		    "block %ld for %s", a->conf->mode == MODE_MONITOR ? "monitor: would be " : "",
		    idv, rulename, conf_limit_name(v->win->limit), v->count, v->win->threshold,
		    conf_format_duration(v->win->seconds, wb, sizeof(wb)), v->queue_id, b.count,
		    b.until_us ? conf_format_duration(dur / 1000000, tb, sizeof(tb)) : "ever");
	if (order_mask & ACT_HOLD)
		collect_queued(a, identity, v ? v->time_us : now, &ql);

	/* what is decided, in the rule's order: for the notice and the one who asked */
	if ((fp = open_memstream(&acts, &alen)) == NULL) {
		qlist_clear(&ql);
		return;
	}
	for (i = 0; i < norder; i++) {
		const char *sep = i ? "; " : "";

		switch (order[i]) {
		case ACT_HOLD:
			fprintf(fp, "%shold: %zu queued message%s sent to postsuper -h", sep, ql.n,
			    ql.n == 1 ? "" : "s");
			break;
		case ACT_BLOCK:
			fprintf(fp, "%sblock: %s", sep, mapped ? "added to the access map" :
			    why ? why : "not mappable");
			break;
		case ACT_NOTIFY:
			fprintf(fp, "%snotify: %s", sep, a->conf->notify_to ? a->conf->notify_to : "-");
			break;
		case ACT_EXEC:
			fprintf(fp, "%sexec", sep);
			break;
		default:
			break;
		}
	}
	fclose(fp);

	/* the runs, one after the other */
	a->in_decision = 1;
	a->decision_first_id = a->chain_prev = 0;
	for (i = 0; i < norder; i++) {
		switch (order[i]) {
		case ACT_HOLD:
			postsuper_job(a, "hold", "-h", identity, (const char *const *)ql.q, ql.n);
			break;
		case ACT_BLOCK:
			if (mapped && a->conf->mode == MODE_MONITOR) {
				int is_sasl;
				const char *map = map_of(a, identity, &is_sasl);

				say(a, ACT_INFO, "monitor: block for %s: would write \"%s %s\" to %s, "
				    "then run %s -c %s %s:%s and %s -c %s reload", idv, value_of(identity),
				    a->conf->reply, map ? map : "-", a->conf->postmap,
				    a->conf->postfix_config_dir, a->conf->map_type ? a->conf->map_type : "hash",
				    map ? map : "-", a->conf->postfix, a->conf->postfix_config_dir);
			} else if (mapped)
				map_job(a, identity);
			break;
		case ACT_NOTIFY:
			if (a->conf->notify_to != NULL) {
				struct notify_info ni;

				memset(&ni, 0, sizeof(ni));
				ni.identity = identity;
				ni.rule = rulename;
				ni.limit = v ? conf_limit_name(v->win->limit) : "manual";
				ni.window = v ? conf_format_duration(v->win->seconds, wb, sizeof(wb)) : "-";
				ni.threshold = v ? v->win->threshold : 0;
				ni.count = v ? v->count : 0;
				ni.first_qid = ql.n ? ql.q[0] : (v ? v->queue_id : NULL);
				ni.last_qid = ql.n ? ql.q[ql.n - 1] : (v ? v->queue_id : NULL);
				ni.time_us = v ? v->time_us : now;
				ni.actions = acts;
				ni.hostname = a->hostname;
				ni.from = "MAILER-DAEMON";
				ni.to = a->conf->notify_to;
				ni.monitor = a->conf->mode == MODE_MONITOR;
				notify_job(a, &ni);
			}
			break;
		case ACT_EXEC:
			exec_job(a, identity, rulename, v ? v->count : 0,
			    v ? conf_format_duration(v->win->seconds, wb, sizeof(wb)) : "-", &ql);
			break;
		default:
			break;
		}
	}
	if (w != NULL) {
		FILE *hf;
		size_t hlen = 0;

		w->first_id = a->decision_first_id;
		w->last_id = a->chain_prev;
		if ((hf = open_memstream(&w->head, &hlen)) != NULL) {
			fprintf(hf, "%s: %s%s%s\n", idv, acts ? acts : "",
			    b.until_us ? "; until " : "; until unblocked",
			    b.until_us ? json_time(b.until_us, tb, sizeof(tb)) : "");
			fclose(hf);
		}
	}
	a->in_decision = 0;
	a->decision_first_id = a->chain_prev = 0;
	free(acts);
	qlist_clear(&ql);
}

void
act_verdict(struct act *a, const struct limits_verdict *v)
{
	const struct conf_rule *r = v->rule;

	if (!v->blocks || act_is_blocked(a, v->identity))
		return;		/* one overrun, one set of actions */
	decide(a, v->identity, r->name, r->actions, r->action_order, r->nactions, 0, v, NULL);
}

void
act_message(struct act *a, const struct track_msg *m)
{
	char buf[SG_IDENT_KEY_MAX], err[256];
	const char *id;
	struct store_hold h;
	struct qlist *q;
	void **slot;
	int k, added;

	if (hmap_count(a->blocked) == 0 || m->removed || m->queue_id == NULL ||
	    !pf_qid_ok(m->queue_id, strlen(m->queue_id)))
		return;
	for (k = 0; k < BY_COUNT; k++) {
		struct binfo *bi;

		if ((id = limits_ident(m, (enum conf_by)k, buf, sizeof(buf))) == NULL ||
		    !act_is_blocked(a, id) ||
		    (bi = hmap_get(a->blocked, id, strlen(id))) == NULL || !bi->hold)
			continue;
		memset(&h, 0, sizeof(h));
		h.host = m->host;
		h.instance = m->instance;
		h.queue_id = m->queue_id;
		h.identity = id;
		h.requested_us = now_us();
		if (store_add_hold(a->store, &h, err, sizeof(err)) < 0)
			say(a, ACT_WARN, "%s", err);
		if ((slot = hmap_get_or_add(a->newholds, id, strlen(id), &added)) == NULL)
			continue;
		if (added && (*slot = calloc(1, sizeof(struct qlist))) == NULL) {
			hmap_del(a->newholds, id, strlen(id));
			continue;
		}
		q = *slot;
		qpush(q, m->queue_id);
		break;		/* one hold per message */
	}
}

void
act_hold_event(struct act *a, const char *host, const char *instance, const char *qid,
	       const char *state, int64_t t)
{
	char err[256];

	if (store_hold_state(a->store, host, instance, qid, state, t, err, sizeof(err)) < 0)
		say(a, ACT_WARN, "%s", err);
}

/* maps_sync - write the map files from the store's blocks, then postmap */
struct mapkeys {
	const struct act *a;
	const char **sasl, **sender;
	size_t	ns, nf, cap;
	char  **own;
	size_t	nown;
};

static int
keys_cb(void *ctx, const struct store_block *b)
{
	struct mapkeys *mk = ctx;
	const char *why;
	char *v;

	int is_sasl;

	if (b->identity == NULL || !state_mapped(b->state) || !mappable(mk->a, b->identity, &why))
		return (0);
	if (b->until_us != 0 && b->until_us <= now_us())
		return (0);
	if (mk->nown == mk->cap) {
		size_t nc = mk->cap ? mk->cap * 2 : 32;
		char **no;
		const char **ns, **nf;

		if ((no = realloc(mk->own, nc * sizeof(*no))) == NULL)
			return (1);
		mk->own = no;
		if ((ns = realloc(mk->sasl, nc * sizeof(*ns))) == NULL)
			return (1);
		mk->sasl = ns;
		if ((nf = realloc(mk->sender, nc * sizeof(*nf))) == NULL)
			return (1);
		mk->sender = nf;
		mk->cap = nc;
	}
	if ((v = strdup(value_of(b->identity))) == NULL)
		return (1);
	mk->own[mk->nown++] = v;
	(void)map_of(mk->a, b->identity, &is_sasl);
	if (is_sasl)
		mk->sasl[mk->ns++] = v;
	else
		mk->sender[mk->nf++] = v;
	return (0);
}

static void
maps_sync(struct act *a)
{
	struct mapkeys mk;
	char err[512], spec[4200];
	const char *paths[2] = { a->conf->sasl_map, a->conf->sender_map };
	size_t i;

	if (!a->maps_dirty || a->conf->mode == MODE_MONITOR)
		return;
	if (a->maps_busy) {
		return;		/* again when the running postmap/reload ends */
	}
	a->maps_dirty = 0;
	a->gen_running = a->gen_want;
	memset(&mk, 0, sizeof(mk));
	mk.a = a;
	if (store_each_block(a->store, NULL, keys_cb, &mk, err, sizeof(err)) != 0) {
		say(a, ACT_WARN, "reading blocks: %s", err);
		a->maps_dirty = 1;
		goto out;
	}
	for (i = 0; i < 2; i++) {
		const char *const *keys = (const char *const *)(i == 0 ? mk.sasl : mk.sender);
		size_t n = i == 0 ? mk.ns : mk.nf;
		const char *rest[] = { spec, NULL };

		if (paths[i] == NULL)
			continue;
		if (blockmap_write(paths[i], keys, n, a->conf->reply, err, sizeof(err)) < 0) {
			say(a, ACT_WARN, "%s", err);
			continue;
		}
		snprintf(spec, sizeof(spec), "%s:%s", a->conf->map_type ? a->conf->map_type : "hash",
		    paths[i]);
		a->maps_busy = 1;
		a->postmaps_left++;
		queue_job(a, JOB_POSTMAP, "postmap", NULL, prog(a, a->conf->postmap, "-c", rest),
		    NULL, 0);
	}
out:
	if (a->postmaps_left == 0 && !a->maps_dirty) {
		/* nothing to run (no map configured, or writing failed): as far as it goes */
		a->maps_busy = 0;
		a->gen_done = a->gen_running;
	}
	for (i = 0; i < mk.nown; i++)
		free(mk.own[i]);
	free(mk.own);
	free(mk.sasl);
	free(mk.sender);
}

/* reload_job - postfix reload, one at a time */
static void
reload_job(struct act *a)
{
	const char *rest[] = { "reload", NULL };

	if (a->reload_running) {
		a->reload_wanted = 1;
		return;
	}
	a->reload_running = 1;
	a->maps_busy = 1;
	queue_job(a, JOB_RELOAD, "reload", NULL, prog(a, a->conf->postfix, "-c", rest), NULL, 0);
}

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

static void job_done(void *ctx, const struct run_result *r);

struct jctx {
	struct act *a;
	struct job *j;
};

/* unlink_job - take j off the queue */
static void
unlink_job(struct act *a, struct job *j)
{
	struct job **pp;

	for (pp = &a->queue; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			return;
		}
}

static void on_retry(struct ev *, int, void *);

/*
 * postsuper_said - postsuper's summary line ("Placed on hold: 3 messages",
 * "Released from hold: 1 message", "Deleted: 2 messages") from its output,
 * into buf; NULL when it printed none
 */
static const char *
postsuper_said(const struct run_result *r, char *buf, size_t len)
{
	static const char *const what[] = { "Placed on hold: ", "Released from hold: ",
	    "Deleted: " };
	const char *const out[] = { r->err, r->out };
	size_t i, k, n;

	for (k = 0; k < 2; k++)
		for (i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
			const char *p = strstr(out[k], what[i]);

			if (p == NULL)
				continue;
			n = strcspn(p, "\r\n");
			if (n >= len)
				n = len - 1;
			memcpy(buf, p, n);
			buf[n] = '\0';
			return (buf);
		}
	return (NULL);
}

/* finish - a job's outcome: record, log, retry or chain */
static void
finish(struct act *a, struct job *j, const struct run_result *r)
{
	char what[256], err[512], text[1024], outcome[1200], idv[256], said[96];
	const char *status;
	int ok = run_ok(r);
	int64_t next = 0;

	run_describe(r, what, sizeof(what));
	run_argv_text((const char *const *)j->argv, text, sizeof(text));
	j->attempts++;
	if (ok)
		status = "ok";
	else if (j->attempts < ACT_MAX_ATTEMPTS && j->kind == JOB_PROG) {
		status = "pending";
		next = now_us() + backoff_us(j->attempts);
	} else
		status = "failed";
	snprintf(outcome, sizeof(outcome), "%s%s%.900s", what, r->err[0] ? ": " : "", r->err);
	said[0] = '\0';
	if ((strcmp(j->action, "hold") == 0 || strcmp(j->action, "release") == 0 ||
	    strcmp(j->action, "delete") == 0) && postsuper_said(r, said, sizeof(said)) != NULL)
		/* what postsuper itself counted ("Placed on hold: 3 messages") */
		snprintf(outcome, sizeof(outcome), "%s: postsuper: %s", what, said);
	if (store_update_job(a->store, j->id, status, j->attempts, next, outcome, err,
	    sizeof(err)) < 0)
		say(a, ACT_WARN, "%s", err);
	log_vis(j->identity ? j->identity : "-", idv, sizeof(idv));
	if (ok)
		say(a, ACT_INFO, "%s for %s: %s: ok%s%s%s%.300s", j->action, idv, text,
		    said[0] ? "; postsuper: " : "", said, !said[0] && r->out[0] ? "; said: " : "",
		    said[0] ? "" : r->out);
	else
		say(a, ACT_WARN, "%s for %s: %s: %s%s%.500s%s", j->action, idv, text, what,
		    r->err[0] ? "; stderr: " : "", r->err,
		    next ? "; will retry" : "; giving up");
	j->running = 0;
	a->nrunning--;
	if (!ok && next) {
		j->next_us = next;
		return;		/* stays queued */
	}
	unlink_job(a, j);
	if (j->kind == JOB_POSTMAP) {
		if (!ok)
			a->postmap_failed = 1;
		if (--a->postmaps_left == 0) {
			if (!a->postmap_failed)
				reload_job(a);
			else {
				a->gen_done = a->gen_running;	/* failed: the runs after it go on */
				a->maps_busy = 0;
				a->maps_dirty = 1;	/* try the whole rewrite again later */
				arm(a, &a->debounce_timer, 60000, on_debounce);
			}
			a->postmap_failed = 0;
		}
	} else if (j->kind == JOB_RELOAD) {
		a->reload_running = 0;
		a->maps_busy = 0;
		a->gen_done = a->gen_running;
		if (ok)
			a->gen_ok = a->gen_running;
		if (!ok) {
			a->maps_dirty = 1;
			arm(a, &a->debounce_timer, 60000, on_debounce);
		} else if (a->reload_wanted) {
			a->reload_wanted = 0;
			reload_job(a);
		}
		if (a->maps_dirty && !a->maps_busy)
			maps_sync(a);
	}
	job_free(j);
}

static void
job_done(void *ctx, const struct run_result *r)
{
	struct jctx *jc = ctx;
	struct act *a = jc->a;

	jc->j->jc = NULL;
	finish(a, jc->j, r);
	free(jc);
	start_jobs(a);
}

/*
 * notify_ready - 1 when the runs decided with this notice have run once
 * (a run waiting for a retry counts: the report says it failed).  Then the
 * report is composed again with their outcomes.
 */
struct outc {
	int64_t	from, to;
	FILE   *fp;
	int	n;
};

static int
outc_cb(void *ctx, const struct store_job *sj)
{
	struct outc *o = ctx;
	char v[400];

	if (sj->id < o->from || sj->id >= o->to)
		return (0);
	fprintf(o->fp, "%s%s: %s%s%s", o->n++ ? "; " : "", sj->action ? sj->action : "-",
	    sj->status ? sj->status : "-", sj->outcome ? " (" : "",
	    sj->outcome ? log_vis(sj->outcome, v, sizeof(v)) : "");
	if (sj->outcome)
		fputc(')', o->fp);
	return (0);
}

static int
notify_ready(struct act *a, struct job *j)
{
	struct job *k;
	struct outc o;
	struct notify_info ni;
	char *acts = NULL, *msg = NULL, err[256];
	size_t alen = 0, mlen = 0;
	FILE *fp;

	for (k = a->queue; k; k = k->next)
		if (k != j && k->id >= j->first_id && k->id < j->id && k->identity != NULL &&
		    j->identity != NULL && strcmp(k->identity, j->identity) == 0 &&
		    (k->running || k->attempts == 0))
			return (0);
	if ((fp = open_memstream(&acts, &alen)) == NULL)
		return (1);
	fprintf(fp, "%s", j->ni->actions ? j->ni->actions : "");
	o.from = j->first_id;
	o.to = j->id;
	o.fp = fp;
	o.n = 0;
	fputs("; outcomes: ", fp);
	store_each_job(a->store, j->identity, NULL, outc_cb, &o, err, sizeof(err));
	if (o.n == 0)
		fputs("none run", fp);
	fclose(fp);
	ni = *j->ni;
	ni.actions = acts;
	if ((fp = open_memstream(&msg, &mlen)) != NULL) {
		if (notify_compose(fp, &ni) == 0) {
			fclose(fp);
			free(j->in);
			j->in = msg;
			j->inlen = mlen;
			msg = NULL;
		} else
			fclose(fp);
	}
	free(msg);
	free(acts);
	free(j->ni);		/* composed: from now on an ordinary run */
	j->ni = NULL;
	return (1);
}

/* map_done - a block step's map rewrite has ended: record how, dequeue it */
static void
map_done(struct act *a, struct job *j)
{
	char err[256];
	int ok = a->gen_ok >= j->gen;

	if (store_update_job(a->store, j->id, ok ? "ok" : "failed", 1, 0, ok ?
	    "in force: map written, postmap and postfix reload ran" :
	    "not in force yet: postmap or reload failed; tried again later", err, sizeof(err)) < 0)
		say(a, ACT_WARN, "%s", err);
	unlink_job(a, j);
	job_free(j);
}

/* job_waiting - run id is queued and has not run once yet */
static int
job_waiting(const struct act *a, int64_t id)
{
	const struct job *k;

	for (k = a->queue; k; k = k->next)
		if (k->id == id)
			return (k->running || k->attempts == 0);
	for (k = a->fresh; k; k = k->next)
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

/* One run of a decision, as the report to the one who asked tells it. */
struct wrun {
	int64_t	from, to;
	FILE   *fp;
};

static int
wrun_cb(void *ctx, const struct store_job *sj)
{
	struct wrun *wr = ctx;
	char v[600];

	if (sj->id < wr->from || sj->id > wr->to)
		return (0);
	fprintf(wr->fp, "  %s: %s%s%s\n", sj->action ? sj->action : "-",
	    sj->status ? sj->status : "-", sj->outcome ? ": " : "",
	    sj->outcome ? log_vis(sj->outcome, v, sizeof(v)) : "");
	return (0);
}

/*
 * waiters_check - report each decision by hand whose runs have all run
 * once and whose map change is in force (or whose time is up)
 */
static void
waiters_check(struct act *a)
{
	struct waiter **pp = &a->waiters, *w;
	int64_t now = now_us(), id;
	char *tail, err[256];
	size_t len;
	FILE *fp;

	while ((w = *pp) != NULL) {
		int busy = w->gen != 0 && a->gen_done < w->gen;

		for (id = w->first_id; id != 0 && id <= w->last_id && !busy; id++)
			busy = job_waiting(a, id);
		if (busy && (a->ev == NULL || now < w->deadline)) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		tail = NULL;
		len = 0;
		if ((fp = open_memstream(&tail, &len)) != NULL) {
			struct wrun wr = { w->first_id, w->last_id, fp };

			if (w->first_id != 0)
				store_each_job(a->store, w->identity, NULL, wrun_cb, &wr, err, sizeof(err));
			if (w->gen != 0)
				fprintf(fp, "  map: %s\n", a->gen_ok >= w->gen ?
				    "in force (postmap and postfix reload ran)" : a->gen_done >= w->gen ?
				    "rewrite failed, will be tried again (see sendguard status)" :
				    "still being rewritten");
			if (busy)
				fputs("  (some programs are still running; see sendguard explain)\n", fp);
			fclose(fp);
		}
		waiter_done(w, tail);
		free(tail);
	}
}

static void
on_wait(struct ev *ev, int id, void *ctx)
{
	(void)ev;
	(void)id;
	waiters_check(ctx);
}

/* waiter_add - report the decision just made to done once its runs have run */
static int
waiter_add(struct act *a, struct waiter *w, const char *identity, act_done_fn done, void *ctx)
{
	struct waiter **pp;

	if ((w->identity = strdup(identity)) == NULL)
		return (-1);
	w->done = done;
	w->ctx = ctx;
	w->deadline = now_us() + (int64_t)ACT_WAIT_MS * 1000;
	for (pp = &a->waiters; *pp; pp = &(*pp)->next)
		;
	*pp = w;
	arm(a, &a->wait_timer, ACT_WAIT_MS + 10, on_wait);
	return (0);
}

/* start_jobs - move fresh jobs to the queue and start what may start */
static void
start_jobs(struct act *a)
{
	struct job *j, **pp, *next;
	int64_t now = now_us(), soonest = 0;
	char err[512];

	for (pp = &a->queue; *pp; pp = &(*pp)->next)
		;
	*pp = a->fresh;
	a->fresh = NULL;
	for (j = a->queue; j; j = next) {
		next = j->next;
		if (j->kind == JOB_MAP) {
			if (j->running && a->gen_done >= j->gen) {
				map_done(a, j);
				next = a->queue;	/* the ones after it may start now */
			} else if (!j->running && job_may_start(a, j)) {
				j->running = 1;
				j->gen = maps_later(a);
			}
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
			continue;	/* the run before it in its decision has not run yet */
		if (j->ni != NULL && !notify_ready(a, j))
			continue;	/* the runs it reports on have not run yet */
		if (a->ev == NULL) {
			struct run_result *r = calloc(1, sizeof(*r));

			if (r == NULL)
				return;
			if (run_sync((const char *const *)j->argv, j->in, j->inlen,
			    (unsigned)(a->conf->action_timeout > 0 ? a->conf->action_timeout * 1000 : ACT_TIMEOUT_MS), r,
			    err, sizeof(err)) < 0) {
				r->exited = 1;
				r->status = 127;
				snprintf(r->err, sizeof(r->err), "%s", err);
			}
			j->running = 1;
			a->nrunning++;
			finish(a, j, r);
			free(r);
			next = a->queue;	/* the queue may have changed */
			continue;
		}
		if (a->nrunning >= MAX_RUNNING)
			break;
		{
			struct jctx *jc = calloc(1, sizeof(*jc));

			if (jc == NULL)
				break;
			jc->a = a;
			jc->j = j;
			j->jc = jc;
			if (run_start(a->runner, (const char *const *)j->argv, j->in, j->inlen,
			    (unsigned)(a->conf->action_timeout > 0 ? a->conf->action_timeout * 1000 : ACT_TIMEOUT_MS), job_done, jc, err, sizeof(err)) < 0) {
				struct run_result r;

				free(jc);
				memset(&r, 0, sizeof(r));
				r.exited = 1;
				r.status = 127;
				snprintf(r.err, sizeof(r.err), "%s", err);
				j->running = 1;
				a->nrunning++;
				finish(a, j, &r);
				continue;
			}
			j->running = 1;
			a->nrunning++;
		}
	}
	if (soonest > 0 && a->ev != NULL) {
		int64_t d = (soonest - now) / 1000 + 1;

		arm(a, &a->retry_timer, (uint64_t)(d > 0 ? d : 1), on_retry);
	}
	/* without a loop, what the runs just queued (postmap -> reload) runs now */
	if (a->ev == NULL && a->maps_dirty && !a->maps_busy)
		maps_sync(a);
	if (a->ev == NULL && a->fresh != NULL)
		start_jobs(a);
	if (a->waiters != NULL)
		waiters_check(a);
}

static void
on_retry(struct ev *ev, int id, void *ctx)
{
	(void)ev;
	(void)id;
	start_jobs(ctx);
}

static int
newhold_cb(void *ctx, const char *key, size_t n, void *val)
{
	struct act *a = ctx;
	struct qlist *q = val;

	(void)n;
	postsuper_job(a, "hold", "-h", key, (const char *const *)q->q, q->n);
	return (0);
}

void
act_kick(struct act *a)
{
	if (hmap_count(a->newholds) > 0) {
		struct hmap *m = a->newholds, *fresh = hmap_new();

		if (fresh != NULL) {
			a->newholds = fresh;
			hmap_each(m, newhold_cb, a);
			hmap_free(m, qlist_free);
		}
	}
	if (a->ev == NULL && a->maps_dirty)
		maps_sync(a);
	start_jobs(a);
}

/* expire - end the blocks that are due */
struct expwalk {
	struct act *a;
	int64_t	now;
	char  **ids;
	size_t	n, cap;
};

static int
exp_cb(void *ctx, const char *k, size_t n, void *v)
{
	struct expwalk *ew = ctx;
	struct binfo *b = v;

	(void)n;
	if (b->until_us == 0 || b->until_us > ew->now)
		return (0);
	if (ew->n == ew->cap) {
		size_t nc = ew->cap ? ew->cap * 2 : 8;
		char **ni = realloc(ew->ids, nc * sizeof(*ni));

		if (ni == NULL)
			return (1);
		ew->ids = ni;
		ew->cap = nc;
	}
	if ((ew->ids[ew->n] = strdup(k)) != NULL)
		ew->n++;
	return (0);
}

static void
expire(struct act *a)
{
	struct expwalk ew;
	struct store_block b;
	char buf[2048], err[512], idv[256];
	size_t i;
	int started = 0;

	memset(&ew, 0, sizeof(ew));
	ew.a = a;
	ew.now = now_us();
	hmap_each(a->blocked, exp_cb, &ew);
	for (i = 0; i < ew.n; i++) {
		struct binfo *bi = hmap_del(a->blocked, ew.ids[i], strlen(ew.ids[i]));

		if (!started && store_begin(a->store, err, sizeof(err)) == 0)
			started = 1;
		if (store_get_block(a->store, ew.ids[i], &b, buf, sizeof(buf), err, sizeof(err)) == 1) {
			b.state = "expired";
			b.ended_us = rearm_at(a, b.log_until_us != 0 ? b.log_until_us : b.until_us);
			if (store_put_block(a->store, &b, err, sizeof(err)) < 0)
				say(a, ACT_WARN, "%s", err);
			if (a->hooks.on_end != NULL)
				a->hooks.on_end(a->hooks.ctx, ew.ids[i], b.ended_us);
		}
		if (bi != NULL && bi->mapped)
			maps_later(a);
		if (bi != NULL && bi->hold)
			say(a, ACT_INFO, "block of %s expired; mail it had queued stays on hold "
			    "(sendguard unblock --release-held or --delete-held)",
			    log_vis(ew.ids[i], idv, sizeof(idv)));
		else
			say(a, ACT_INFO, "block of %s expired", log_vis(ew.ids[i], idv, sizeof(idv)));
		free(bi);
		free(ew.ids[i]);
	}
	free(ew.ids);
	if (started && store_commit(a->store, err, sizeof(err)) < 0)
		say(a, ACT_WARN, "%s", err);
	expiry_rearm(a);
	if (a->ev == NULL && a->maps_dirty)
		maps_sync(a);
}

static void
on_expiry(struct ev *ev, int id, void *ctx)
{
	struct act *a = ctx;

	(void)ev;
	(void)id;
	expire(a);
	start_jobs(a);
}

/* act_start - heal from the store */
static int
load_cb(void *ctx, const struct store_block *b)
{
	struct act *a = ctx;

	if (b->identity == NULL || b->state == NULL)
		return (0);
	if (state_active(b->state))
		block_remember(a, b->identity, b->until_us, state_mapped(b->state),
		    state_holds(b->state));
	return (0);
}

/* split_argv - the NUL-separated argv of the action log */
static char **
split_argv(const void *blob, size_t len)
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

static int
pending_cb(void *ctx, const struct store_job *sj)
{
	struct act *a = ctx;
	struct job *j, **pp;

	if (sj->action == NULL || strcmp(sj->action, "postmap") == 0 ||
	    strcmp(sj->action, "reload") == 0 || strcmp(sj->action, "map") == 0) {
		char err[256];

		/* maps are rewritten from the blocks at start anyway */
		store_update_job(a->store, sj->id, "failed", sj->attempts, 0,
		    "superseded by the maps rewritten at start", err, sizeof(err));
		return (0);
	}
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return (0);
	j->id = sj->id;
	j->kind = JOB_PROG;
	snprintf(j->action, sizeof(j->action), "%s", sj->action);
	j->identity = sj->identity ? strdup(sj->identity) : NULL;
	j->argv = split_argv(sj->argv, sj->argv_len);
	if (sj->stdin_data != NULL && sj->stdin_len > 0 && (j->in = malloc(sj->stdin_len)) != NULL) {
		memcpy(j->in, sj->stdin_data, sj->stdin_len);
		j->inlen = sj->stdin_len;
	}
	j->attempts = sj->attempts;
	j->next_us = sj->next_us;
	if (j->argv == NULL || j->argv[0] == NULL) {
		job_free(j);
		return (0);
	}
	for (pp = &a->fresh; *pp; pp = &(*pp)->next)
		;
	*pp = j;
	return (0);
}

int
act_start(struct act *a, char *err, size_t errlen)
{
	struct stat st;
	int nblocked;

	if (store_each_block(a->store, NULL, load_cb, a, err, errlen) != 0)
		return (-1);
	nblocked = (int)hmap_count(a->blocked);
	expire(a);
	if (a->conf->mode != MODE_MONITOR) {
		/* the store is the truth: the maps say what it says */
		if (nblocked > 0 || (a->conf->sasl_map && stat(a->conf->sasl_map, &st) == 0) ||
		    (a->conf->sender_map && stat(a->conf->sender_map, &st) == 0)) {
			a->maps_dirty = 1;
			maps_sync(a);
		}
		if (store_each_job(a->store, NULL, "pending", pending_cb, a, err, errlen) != 0)
			return (-1);
	}
	expiry_rearm(a);
	start_jobs(a);
	return (0);
}

/* By hand. */
int
act_block(struct act *a, const char *identity, int64_t seconds, act_done_fn done, void *ctx,
	  char *err, size_t errlen)
{
	static const unsigned char order[] = { ACT_HOLD, ACT_BLOCK };
	unsigned mask = ACT_HOLD;
	struct store_block b;
	struct waiter *w;
	char buf[2048];

	int is_sasl;

	if (map_of(a, identity, &is_sasl) != NULL || is_sasl)
		mask |= ACT_BLOCK;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	if (store_begin(a->store, err, errlen) < 0) {
		free(w);
		return (-1);
	}
	decide(a, identity, "manual", mask, order, (mask & ACT_BLOCK) ? 2 : 1, seconds, NULL, w);
	if (a->hooks.on_block != NULL && a->conf->mode != MODE_MONITOR &&
	    store_get_block(a->store, identity, &b, buf, sizeof(buf), err, errlen) == 1)
		a->hooks.on_block(a->hooks.ctx, identity, b.log_until_us != 0 ?
		    b.log_until_us - seconds * 1000000 : log_clock(a), b.log_until_us);
	if (store_commit(a->store, err, errlen) < 0 || waiter_add(a, w, identity, done, ctx) < 0) {
		free(w->head);
		free(w);
		return (-1);
	}
	act_kick(a);
	return (0);
}

struct heldwalk {
	struct qlist ql;
	struct act *a;
	const char *newstate;
};

static int
held_cb(void *ctx, const struct store_hold *h)
{
	struct heldwalk *hw = ctx;

	if (h->state == NULL || (strcmp(h->state, "requested") != 0 && strcmp(h->state, "held") != 0))
		return (0);
	return (qpush(&hw->ql, h->queue_id) < 0);
}

int
act_unblock(struct act *a, const char *identity, enum act_unblock_mode mode, act_done_fn done,
	    void *ctx, char *err, size_t errlen)
{
	struct store_block b;
	struct heldwalk hw;
	struct waiter *w;
	char buf[2048], idv[256];
	struct binfo *bi;
	int have;
	size_t hlen = 0;
	FILE *out;

	log_vis(identity, idv, sizeof(idv));
	if ((w = calloc(1, sizeof(*w))) == NULL || (out = open_memstream(&w->head, &hlen)) == NULL) {
		free(w);
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	memset(&hw, 0, sizeof(hw));
	hw.a = a;
	if (store_begin(a->store, err, errlen) < 0)
		goto fail;
	have = store_get_block(a->store, identity, &b, buf, sizeof(buf), err, errlen);
	if (have < 0)
		goto fail;
	if (have == 1 && state_active(b.state)) {
		int was_mapped = state_mapped(b.state);

		b.state = "unblocked";
		b.ended_us = rearm_at(a, now_us());
		if (store_put_block(a->store, &b, err, errlen) < 0)
			goto fail;
		if (was_mapped)
			w->gen = maps_later(a);
		fprintf(out, "%s: unblocked%s; its limits count afresh from now\n", idv,
		    was_mapped ? "; removed from the access map" : "");
		say(a, ACT_INFO, "%s unblocked by hand", idv);
		if (a->hooks.on_end != NULL)
			a->hooks.on_end(a->hooks.ctx, identity, b.ended_us);
	} else
		fprintf(out, "%s: was not blocked\n", idv);
	if ((bi = hmap_del(a->blocked, identity, strlen(identity))) != NULL)
		free(bi);
	expiry_rearm(a);
	if (mode != ACT_UNBLOCK_KEEP) {
		if (store_each_hold(a->store, identity, NULL, held_cb, &hw, err, errlen) != 0)
			goto fail;
		a->in_decision = 1;
		postsuper_job(a, mode == ACT_UNBLOCK_RELEASE ? "release" : "delete",
		    mode == ACT_UNBLOCK_RELEASE ? "-H" : "-d", identity,
		    (const char *const *)hw.ql.q, hw.ql.n);
		w->first_id = a->decision_first_id;
		w->last_id = a->chain_prev;
		a->in_decision = 0;
		a->decision_first_id = a->chain_prev = 0;
		if (hw.ql.n > 0 && store_holds_set_state(a->store, identity,
		    mode == ACT_UNBLOCK_RELEASE ? "released" : "deleted", now_us(), err, errlen) < 0)
			goto fail;
		fprintf(out, "%s: %zu held message%s sent to %s\n", idv, hw.ql.n, hw.ql.n == 1 ? "" : "s",
		    mode == ACT_UNBLOCK_RELEASE ? "postsuper -H (release)" : "postsuper -d (delete)");
	}
	qlist_clear(&hw.ql);
	fclose(out);
	out = NULL;
	if (store_commit(a->store, err, errlen) < 0 || waiter_add(a, w, identity, done, ctx) < 0) {
		free(w->head);
		free(w);
		return (-1);
	}
	act_kick(a);
	return (0);
fail:
	qlist_clear(&hw.ql);
	if (out != NULL)
		fclose(out);
	store_rollback(a->store);
	free(w->head);
	free(w);
	return (-1);
}

/* act_explain - the story of one identity, from the store */
struct ex {
	FILE   *fp;
	int	n;
};

static int
ex_msg(void *ctx, const struct store_msg *m)
{
	struct ex *e = ctx;
	char tb[40], tb2[40];

	fprintf(e->fp, "  %s  %-16s %ld rcpt  %s%s\n", json_time(m->time_us, tb, sizeof(tb)),
	    m->queue_id ? m->queue_id : "-", m->nrcpt,
	    m->removed_us ? "removed " : "queued",
	    m->removed_us ? json_time(m->removed_us, tb2, sizeof(tb2)) : "");
	e->n++;
	return (0);
}

static int
ex_verdict(void *ctx, const struct store_verdict *v)
{
	struct ex *e = ctx;
	char tb[40];

	fprintf(e->fp, "  %s  rule %s: %s %ld > %ld in %s, crossed by %s\n",
	    json_time(v->time_us, tb, sizeof(tb)), v->rule ? v->rule : "-",
	    v->limit ? v->limit : "-", v->count, v->threshold, v->window ? v->window : "-",
	    v->queue_id ? v->queue_id : "-");
	e->n++;
	return (0);
}

static int
ex_hold(void *ctx, const struct store_hold *h)
{
	struct ex *e = ctx;
	char tb[40];

	fprintf(e->fp, "  %-16s %-9s requested %s\n", h->queue_id ? h->queue_id : "-",
	    h->state ? h->state : "-", json_time(h->requested_us, tb, sizeof(tb)));
	e->n++;
	return (0);
}

static int
ex_job(void *ctx, const struct store_job *j)
{
	struct ex *e = ctx;
	char tb[40], text[1024], out[600];
	char **argv = split_argv(j->argv, j->argv_len);
	size_t i;

	run_argv_text((const char *const *)(argv ? argv : (char *[]){ NULL }), text, sizeof(text));
	fprintf(e->fp, "  %s  %-8s %-8s tries %d  %s\n", json_time(j->time_us, tb, sizeof(tb)),
	    j->action ? j->action : "-", j->status ? j->status : "-", j->attempts, text);
	if (j->outcome != NULL)
		fprintf(e->fp, "      %s\n", log_vis(j->outcome, out, sizeof(out)));
	for (i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
	e->n++;
	return (0);
}

int
act_explain(struct store *st, const char *identity, FILE *fp, char *err, size_t errlen)
{
	struct store_block b;
	struct ex e = { fp, 0 };
	char buf[2048], idv[256], tb[40], tb2[40];
	int have;

	fprintf(fp, "%s\n", log_vis(identity, idv, sizeof(idv)));
	if ((have = store_get_block(st, identity, &b, buf, sizeof(buf), err, errlen)) < 0)
		return (-1);
	if (have == 1)
		fprintf(fp, "state: %s%s (rule %s) since %s until %s; blocked %ld time%s\n", b.state,
		    !state_active(b.state) ? "" : state_mapped(b.state) ?
		    (state_holds(b.state) ? ": in the access map, new mail held" : ": in the access map") :
		    (state_holds(b.state) ? ": new mail held, not in a map" : ": noted only"),
		    b.rule ? b.rule : "-", json_time(b.since_us, tb, sizeof(tb)),
		    b.until_us ? json_time(b.until_us, tb2, sizeof(tb2)) : "unblocked by hand",
		    b.count, b.count == 1 ? "" : "s");
	else
		fputs("state: never blocked\n", fp);
	fputs("\nlimits crossed:\n", fp);
	if (store_each_verdict(st, identity, INT64_MIN, ex_verdict, &e, err, errlen) != 0)
		return (-1);
	if (e.n == 0)
		fputs("  none\n", fp);
	e.n = 0;
	fputs("\nlatest messages (50 at most):\n", fp);
	if (store_each_recent(st, identity, 50, ex_msg, &e, err, errlen) != 0)
		return (-1);
	if (e.n == 0)
		fputs("  none\n", fp);
	e.n = 0;
	fputs("\nholds:\n", fp);
	if (store_each_hold(st, identity, NULL, ex_hold, &e, err, errlen) != 0)
		return (-1);
	if (e.n == 0)
		fputs("  none\n", fp);
	e.n = 0;
	fputs("\nactions and outcomes:\n", fp);
	if (store_each_job(st, identity, NULL, ex_job, &e, err, errlen) != 0)
		return (-1);
	if (e.n == 0)
		fputs("  none\n", fp);
	return (0);
}

/* status: the blocked identities and the failing actions */
struct stw {
	struct store *st;
	FILE   *fp;
	int64_t	now;
	int	n, json;
};

static int
st_block(void *ctx, const struct store_block *b)
{
	struct stw *w = ctx;
	char tb[40], tb2[40], idv[256];
	int64_t held;

	if (!state_active(b->state))
		return (0);
	if (b->until_us != 0 && b->until_us <= w->now)
		return (0);
	held = store_count_holds(w->st, b->identity);
	if (w->json) {
		fputs(w->n ? ",\n  " : "\n  ", w->fp);
		fputs("{\"identity\": ", w->fp);
		json_cstr(w->fp, b->identity);
		fputs(", \"rule\": ", w->fp);
		json_cstr(w->fp, b->rule);
		fprintf(w->fp, ", \"since\": \"%s\", \"until\": ", json_time(b->since_us, tb, sizeof(tb)));
		if (b->until_us)
			fprintf(w->fp, "\"%s\"", json_time(b->until_us, tb2, sizeof(tb2)));
		else
			fputs("null", w->fp);
		fprintf(w->fp, ", \"held\": %lld, \"in_map\": %s, \"holds_new\": %s, \"times\": %ld}",
		    (long long)held, state_mapped(b->state) ? "true" : "false",
		    state_holds(b->state) ? "true" : "false", b->count);
	} else
		fprintf(w->fp, "%s\n    rule %s since %s until %s, %lld held%s\n",
		    log_vis(b->identity, idv, sizeof(idv)), b->rule ? b->rule : "-",
		    json_time(b->since_us, tb, sizeof(tb)),
		    b->until_us ? json_time(b->until_us, tb2, sizeof(tb2)) : "unblocked by hand",
		    (long long)held, state_mapped(b->state) ? ", in the access map" : "");
	w->n++;
	return (0);
}

static int
st_job(void *ctx, const struct store_job *j)
{
	struct stw *w = ctx;
	char tb[40], idv[256], out[600];

	if (j->status == NULL || (strcmp(j->status, "failed") != 0 && j->attempts == 0))
		return (0);
	if (w->json) {
		fputs(w->n ? ",\n  " : "\n  ", w->fp);
		fprintf(w->fp, "{\"id\": %lld, \"time\": \"%s\", \"identity\": ", (long long)j->id,
		    json_time(j->time_us, tb, sizeof(tb)));
		json_cstr(w->fp, j->identity);
		fputs(", \"action\": ", w->fp);
		json_cstr(w->fp, j->action);
		fputs(", \"status\": ", w->fp);
		json_cstr(w->fp, j->status);
		fprintf(w->fp, ", \"attempts\": %d, \"outcome\": ", j->attempts);
		json_cstr(w->fp, j->outcome);
		fputc('}', w->fp);
	} else
		fprintf(w->fp, "%s %s for %s: %s after %d tr%s: %s\n", json_time(j->time_us, tb, sizeof(tb)),
		    j->action ? j->action : "-", log_vis(j->identity ? j->identity : "-", idv, sizeof(idv)),
		    j->status, j->attempts, j->attempts == 1 ? "y" : "ies",
		    log_vis(j->outcome ? j->outcome : "", out, sizeof(out)));
	w->n++;
	return (0);
}

/*
 * st_on_hold - an identity whose mail is still on hold although its block
 * has ended (or that was never blocked): it waits for the administrator
 */
static int
st_on_hold(void *ctx, const struct store_on_hold *h)
{
	struct stw *w = ctx;
	char tb[40], tb2[40], idv[256];
	int64_t ended = h->ended_us != 0 ? h->ended_us : h->until_us;

	if (h->identity == NULL || (state_active(h->block_state) &&
	    (h->until_us == 0 || h->until_us > w->now)))
		return (0);		/* still blocked: listed with its block */
	if (w->json) {
		fputs(w->n ? ",\n  " : "\n  ", w->fp);
		fputs("{\"identity\": ", w->fp);
		json_cstr(w->fp, h->identity);
		fprintf(w->fp, ", \"held\": %lld, \"since\": \"%s\", \"block_ended\": ",
		    (long long)h->held, json_time(h->since_us, tb, sizeof(tb)));
		if (h->block_state != NULL && ended != 0)
			fprintf(w->fp, "\"%s\"}", json_time(ended, tb2, sizeof(tb2)));
		else
			fputs("null}", w->fp);
	} else {
		log_vis(h->identity, idv, sizeof(idv));
		fprintf(w->fp, "%s\n    %lld held since %s%s%s; release: sendguard unblock %s "
		    "--release-held, or delete: sendguard unblock %s --delete-held\n", idv,
		    (long long)h->held, json_time(h->since_us, tb, sizeof(tb)),
		    h->block_state != NULL && ended != 0 ? ", block ended " : "",
		    h->block_state != NULL && ended != 0 ? json_time(ended, tb2, sizeof(tb2)) : "",
		    idv, idv);
	}
	w->n++;
	return (0);
}

int
act_status_json(struct store *st, FILE *fp, int64_t now)
{
	struct stw w = { st, fp, now, 0, 1 };
	char err[256];

	fputs("\"blocked\": [", fp);
	if (st != NULL)
		store_each_block(st, NULL, st_block, &w, err, sizeof(err));
	fputs(w.n ? "\n ],\n \"on_hold\": [" : "],\n \"on_hold\": [", fp);
	w.n = 0;
	if (st != NULL)
		store_each_on_hold(st, st_on_hold, &w, err, sizeof(err));
	fputs(w.n ? "\n ],\n \"failing_actions\": [" : "],\n \"failing_actions\": [", fp);
	w.n = 0;
	if (st != NULL)
		store_each_job(st, NULL, "pending", st_job, &w, err, sizeof(err));
	if (st != NULL)
		store_each_job(st, NULL, "failed", st_job, &w, err, sizeof(err));
	fputs(w.n ? "\n ]" : "]", fp);
	return (0);
}

int
act_status_text(struct store *st, FILE *fp, int64_t now)
{
	struct stw w = { st, fp, now, 0, 0 };
	char err[256];

	fputs("BLOCKED:\n", fp);
	if (st != NULL)
		store_each_block(st, NULL, st_block, &w, err, sizeof(err));
	if (w.n == 0)
		fputs("  none\n", fp);
	w.n = 0;
	if (st != NULL) {
		fputs("\nON HOLD (no block any more; waiting for you):\n", fp);
		store_each_on_hold(st, st_on_hold, &w, err, sizeof(err));
		if (w.n == 0)
			fputs("  none\n", fp);
	}
	w.n = 0;
	if (st != NULL) {
		store_each_job(st, NULL, "pending", st_job, &w, err, sizeof(err));
		store_each_job(st, NULL, "failed", st_job, &w, err, sizeof(err));
	}
	if (w.n > 0)
		fputs("(actions above are failing or failed; see sendguard explain)\n", fp);
	return (0);
}
