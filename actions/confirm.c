/*
 * NAME
 *	confirm - the queue confirms a postsuper run's queue IDs (see confirm.h)
 * SUMMARY
 *	The state of one job's confirmation: its queue IDs (a copy of the
 *	job's standard input, split), a verdict each, and one ask per ID
 *	(the runner's callback context, kept here so that nothing leaks when
 *	the runner is freed with runs in flight).  ask_next() starts asks
 *	until CONFIRM_PARALLEL run; each ending starts the next; the last one
 *	records the holds' states and calls the job back.  With the
 *	synchronous runner each postcat runs inside run_start() and its
 *	verdict arrives from runner_settle(), so the same code serves the
 *	daemon and the command-line tools.
 * RETURNS
 *	Nothing; see confirm.h.
 * UNTRUSTED INPUT
 *	Queue IDs from the log (checked again here), postcat's output
 *	(postcat.c), identities in log lines through util/esc.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/act_int.h"
#include "actions/confirm.h"
#include "actions/postcat.h"
#include "parsers/pf.h"
#include "util/esc.h"

#define CONFIRM_SAY_MAX 20 /* unconfirmed IDs logged one by one per job, then a count */

/* One queue ID shown to postcat: the runner's context. */
struct ask {
	struct confirm *cf;
	size_t i;
};

struct confirm {
	struct act *a;
	struct job *j;
	void (*then)(struct act *, struct job *);
	char **qid; /* the IDs, from the job's standard input */
	enum postcat_verdict *v;
	struct ask *ask;
	size_t n, next, inflight;
	struct confirm_tally t;
	char failure[256]; /* the first failed run */
	struct buf in;     /* the confirmed IDs, one a line */
};

void
confirm_free(struct confirm *cf)
{
	size_t i;

	if (cf == NULL)
		return;
	for (i = 0; i < cf->n; i++)
		free(cf->qid[i]);
	free(cf->qid);
	free(cf->v);
	free(cf->ask);
	buf_free(&cf->in);
	free(cf);
}

/* split - the valid queue IDs of in (len bytes, one a line) into cf; 0 or -1 (ENOMEM) */
static int
split(struct confirm *cf, const char *in, size_t len)
{
	size_t o = 0, cap = 0;

	while (o < len) {
		const char *nl = memchr(in + o, '\n', len - o);
		size_t n = nl ? (size_t)(nl - (in + o)) : len - o;

		if (n > 0 && !(n == 3 && memcmp(in + o, "ALL", 3) == 0) && pf_qid_ok(in + o, n)) {
			if (cf->n == cap) {
				char **nq =
				    realloc(cf->qid, (cap = cap ? cap * 2 : 16) * sizeof(*nq));

				if (nq == NULL)
					return (-1);
				cf->qid = nq;
			}
			if ((cf->qid[cf->n] = strndup(in + o, n)) == NULL)
				return (-1);
			cf->n++;
		}
		o += n + 1;
	}
	return (0);
}

/* say_unconfirmed - one unconfirmed ID in the log (the first CONFIRM_SAY_MAX of a job) */
static void
say_unconfirmed(struct confirm *cf, const char *qid, const char *why)
{
	char idv[ACT_ID_VIS];

	if (cf->t.unconfirmed > CONFIRM_SAY_MAX)
		return;
	esc_vis(cf->j->identity ? cf->j->identity : "-", idv, sizeof(idv));
	if (cf->t.unconfirmed == CONFIRM_SAY_MAX)
		act_say(cf->a, ACT_WARN,
		    "%s for %s: more queue IDs not confirmed (see the outcome)", cf->j->action,
		    idv);
	else
		act_say(cf->a, ACT_WARN,
		    "%s for %s: queue ID %s not confirmed by the queue: %s; "
		    "left alone",
		    cf->j->action, idv, qid, why);
}

/* Holds whose state the verdicts change. */
static int
state_cb(void *ctx, const struct store_hold *h)
{
	struct confirm *cf = ctx;
	const char *st;
	char err[256];
	size_t i;

	for (i = 0; i < cf->n; i++) {
		if (h->queue_id == NULL || strcmp(h->queue_id, cf->qid[i]) != 0)
			continue;
		st = cf->v[i] == POSTCAT_UNCONFIRMED ? "unconfirmed"
		    : cf->v[i] == POSTCAT_GONE       ? "removed"
						     : NULL;
		if (st != NULL && h->state != NULL && strcmp(h->state, st) != 0 &&
		    store_hold_state(cf->a->store, h->host, h->instance, h->queue_id, st, act_now(),
			err, sizeof(err)) < 0)
			act_say(cf->a, ACT_WARN, "%s", err);
		break;
	}
	return (0);
}

/* finish - every ID has its verdict: record the holds' states, call the job back */
static void
finish(struct confirm *cf)
{
	char err[256];

	if ((cf->t.unconfirmed > 0 || cf->t.gone > 0) && cf->j->identity != NULL &&
	    store_each_hold(cf->a->store, cf->j->identity, NULL, state_cb, cf, err, sizeof(err)) <
		0)
		act_say(cf->a, ACT_WARN, "%s", err);
	cf->then(cf->a, cf->j); /* may free the job, and cf with it */
}

/* verdict - the verdict on ID i */
static void
verdict(struct confirm *cf, size_t i, enum postcat_verdict v, const char *why, const char *fail)
{
	cf->v[i] = v;
	switch (v) {
	case POSTCAT_CONFIRMED:
		cf->t.confirmed++;
		if (buf_adds(&cf->in, cf->qid[i]) < 0 || buf_addc(&cf->in, '\n') < 0)
			act_say(cf->a, ACT_WARN, "confirm: out of memory");
		break;
	case POSTCAT_UNCONFIRMED:
		cf->t.unconfirmed++;
		say_unconfirmed(cf, cf->qid[i], why);
		break;
	case POSTCAT_GONE:
		cf->t.gone++;
		break;
	case POSTCAT_FAILED:
		if (cf->t.failed++ == 0)
			snprintf(cf->failure, sizeof(cf->failure), "%s", fail);
		break;
	}
}

static int ask_next(struct confirm *);

/*
 * asked - the runner's callback: one postcat run ended.  After the last
 * one the job's queue moves on (the job may have ended without a run).
 */
static void
asked(void *ctx, const struct run_result *r)
{
	struct ask *k = ctx;
	struct confirm *cf = k->cf;
	struct act *a = cf->a;
	const char *why = NULL;
	char what[128], fail[256];
	enum postcat_verdict v =
	    postcat_verdict(r, cf->qid[k->i], cf->j->identity ? cf->j->identity : "", &why);

	fail[0] = '\0';
	if (v == POSTCAT_FAILED) {
		run_describe(r, what, sizeof(what));
		snprintf(fail, sizeof(fail), "postcat: %s%s%.*s", what, r->err[0] ? ": " : "",
		    (int)strcspn(r->err, "\n"), r->err);
	}
	cf->inflight--;
	verdict(cf, k->i, v, why, fail);
	if (ask_next(cf))
		job_kick(a);
}

/*
 * ask_next - start asks while fewer than CONFIRM_PARALLEL run; after the
 * last verdict, finish (then 1: cf may be gone)
 */
static int
ask_next(struct confirm *cf)
{
	const struct conf *c = cf->a->conf;
	unsigned ms = (unsigned)(c->action_timeout > 0 ? c->action_timeout * 1000 : ACT_TIMEOUT_MS);
	char err[256];

	while (cf->next < cf->n && cf->inflight < CONFIRM_PARALLEL) {
		size_t i = cf->next++;
		const char *rest[] = { "-e", "-q", cf->qid[i], NULL };
		char **argv = job_prog(cf->a, c->postcat, "-c", rest);

		cf->ask[i].cf = cf;
		cf->ask[i].i = i;
		cf->inflight++;
		if (argv == NULL ||
		    run_start(cf->a->runner, (const char *const *)argv, NULL, 0, ms, asked,
			&cf->ask[i], err, sizeof(err)) < 0) {
			cf->inflight--;
			verdict(cf, i, POSTCAT_FAILED, NULL,
			    argv == NULL ? "postcat: out of memory" : err);
		}
		job_argv_free(argv);
	}
	if (cf->next < cf->n || cf->inflight > 0)
		return (0);
	finish(cf);
	return (1);
}

void
confirm_start(struct act *a, struct job *j, void (*then)(struct act *, struct job *))
{
	struct confirm *cf = calloc(1, sizeof(*cf));

	if (cf != NULL)
		buf_init(&cf->in, (size_t)-1 / 2);
	if (cf == NULL || split(cf, j->in ? j->in : "", j->inlen) < 0 ||
	    (cf->n > 0 &&
		((cf->v = calloc(cf->n, sizeof(*cf->v))) == NULL ||
		    (cf->ask = calloc(cf->n, sizeof(*cf->ask))) == NULL))) {
		if (cf != NULL) {
			cf->t.failed = 1;
			snprintf(cf->failure, sizeof(cf->failure), "confirm: out of memory");
		}
	}
	j->cf = cf;
	if (cf == NULL) {
		then(a, j);
		return;
	}
	cf->a = a;
	cf->j = j;
	cf->then = then;
	cf->t.asked = cf->n;
	if (cf->t.failed > 0) {
		then(a, j); /* nothing asked: the job fails and is tried again */
		return;
	}
	(void)ask_next(cf);
}

const char *
confirm_input(const struct confirm *cf, size_t *len)
{
	*len = cf != NULL ? cf->in.len : 0;
	return (cf != NULL && cf->in.len > 0 ? buf_str(&cf->in) : NULL);
}

struct confirm_tally
confirm_tally(const struct confirm *cf)
{
	struct confirm_tally none = { 0, 0, 0, 0, 1 };

	return (cf != NULL ? cf->t : none);
}

const char *
confirm_failure(const struct confirm *cf)
{
	return (cf != NULL ? cf->failure : "confirm: out of memory");
}

void
confirm_say(const struct confirm *cf, struct buf *b)
{
	struct confirm_tally t = confirm_tally(cf);

	buf_addf(b, "queue: %zu confirmed, %zu unconfirmed, %zu gone", t.confirmed, t.unconfirmed,
	    t.gone);
	if (t.failed > 0)
		buf_addf(b, ", %zu not answered (%s)", t.failed, confirm_failure(cf));
}
