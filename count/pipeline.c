/*
 * NAME
 *	pipeline - parse -> track -> limits -> store for one line (see pipeline.h)
 * SUMMARY
 *	pipeline_line() parses and resolves a line, then either counts it at
 *	once (the fast path: its time is not ahead of any clock) or, in a
 *	replay, holds it back with the lines after it until the look-ahead
 *	has voted on it (pend(), drain()).  count_timed() and
 *	count_untimed() are the one place a line reaches the tracker and
 *	the interval totals, with the time it is counted at.
 * RETURNS
 *	Errors are latched in pl->failed and pl->err; never prints, never
 *	exits.
 * UNTRUSTED INPUT
 *	Log lines: their time stamps decide nothing until checked against
 *	the clock (see pipeline.h); lines held back are copied with their
 *	length, at most PEND_MAX of them and PEND_BYTES in all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/arr.h"
#include "count/pipeline.h"

#define PEND_MAX 64                     /* lines held back for the look-ahead, at most */
#define PEND_BYTES ((size_t)256 * 1024) /* and their bytes */
#define UNTIMED INT64_MIN               /* a held-back line without a time */

/* A line held back for the look-ahead (replay), with what its parse gave. */
struct pipeline_pend {
	char *line;
	size_t len;
	int64_t t;    /* resolved time, UNTIMED for none */
	int unparsed; /* untimed: not a syslog line (else a marker) */
	int beyond;   /* beyond the wall clock: future-dated whatever the vote */
};

/*
 * MSG_COPY - the fields a message has both as the tracker emits it
 * (struct track_msg) and as the store keeps it (struct store_msg), as
 * designated initializers from m, a message of either: message_cb()
 * copies them one way, rebuild_cb() the other.
 */
#define MSG_COPY(m) \
	.time_us = (m)->time_us, .host = (m)->host, .instance = (m)->instance, \
	.queue_id = (m)->queue_id, .sasl = (m)->sasl, .sender = (m)->sender, \
	.client_ip = (m)->client_ip, .uid = (m)->uid, .nrcpt = (m)->nrcpt

/* fail - latch the first error */
static void
fail(struct pipeline *pl, const char *what, const char *msg)
{
	if (!pl->failed)
		snprintf(pl->err, sizeof(pl->err), "%s: %s", what, msg);
	pl->failed = 1;
}

/*
 * overrun_block - the block an overrun of rule by identity at log time t
 * begins, unless it is blocked then: 1 with *dur set (0: no end), 0 when
 * it was blocked already, -1 on ENOMEM.  The one rule for it: a verdict
 * as it is raised and a stored one replayed at start-up
 * (pipeline_rebuild_blocks) block alike.
 */
static int
overrun_block(struct limits *l, const struct conf_rule *rule, const char *identity, int64_t t,
    int64_t *dur)
{
	*dur = 0;
	if (limits_blocked(l, identity, t))
		return (0);
	*dur = limits_block_time(rule, limits_block_count(l, identity) + 1);
	return (limits_block(l, identity, t, *dur) < 0 ? -1 : 1);
}

static void
verdict_cb(void *ctx, const struct limits_verdict *lv)
{
	struct pipeline *pl = ctx;
	struct limits_verdict vb = *lv, *v = &vb;
	char err[256], wb[32];
	int64_t dur;

	pl->verdicts++;
	/*
	 * The overrun blocks its identity (for the rule's block_time, longer
	 * for a repeat offender) from its log time: no overrun of it until the
	 * block ends, then its limits re-arm.  Audit and the daemon both get
	 * here, so they agree on which overruns are acted on.  Other overruns
	 * of the same message are reported, but begin no block.
	 */
	switch (overrun_block(pl->limits, v->rule, v->identity, v->time_us, &dur)) {
	case -1:
		fail(pl, "limits", "out of memory");
		/* FALLTHROUGH */
	case 1:
		v->blocks = 1;
		v->block_until_us = dur > 0 ? v->time_us + dur : 0;
		break;
	default:
		break;
	}
	if (pl->store != NULL && !pl->failed) {
		struct store_verdict sv = {
			.time_us = v->time_us,
			.identity = v->identity,
			.rule = v->rule->name,
			.limit = conf_limit_name(v->win->limit),
			.window = conf_format_duration(v->win->seconds, wb, sizeof(wb)),
			.queue_id = v->queue_id,
			.threshold = v->win->threshold,
			.count = v->count,
		};

		if (store_add_verdict(pl->store, &sv, err, sizeof(err)) < 0)
			fail(pl, "store", err);
	}
	if (pl->report != NULL && report_overrun(pl->report, v) < 0)
		fail(pl, "report", "out of memory");
	if (pl->on_verdict != NULL)
		pl->on_verdict(pl->ctx, v);
}

/* batch_tick - commit every PIPELINE_BATCH messages */
static void
batch_tick(struct pipeline *pl)
{
	char err[256];

	if (pl->store == NULL || pl->failed || pl->external_txn)
		return;
	if (!pl->in_txn) {
		if (store_begin(pl->store, err, sizeof(err)) < 0) {
			fail(pl, "store", err);
			return;
		}
		pl->in_txn = 1;
	}
	if (++pl->batch >= PIPELINE_BATCH) {
		pl->batch = 0;
		pl->in_txn = 0;
		if (store_commit(pl->store, err, sizeof(err)) < 0)
			fail(pl, "store", err);
	}
}

/*
 * outcome_cb - a delivery outcome of a counted message: inside the
 * interval (by the delivery line's time) it is stored (when kept),
 * reported, and counted in the bounces windows, whose verdicts go the
 * way of a message's
 */
static void
outcome_cb(void *ctx, const struct track_outcome *o)
{
	struct pipeline *pl = ctx;
	char err[256];

	if (o->time_us < pl->since_us || o->time_us > pl->until_us)
		return;
	if (pl->store != NULL && pl->keep_outcomes && !pl->failed) {
		const struct store_msg sm = { MSG_COPY(o->msg) };
		const struct store_outcome so = { o->time_us, (int)o->status, o->n, &sm };

		batch_tick(pl);
		if (!pl->failed && store_add_outcome(pl->store, &so, err, sizeof(err)) < 0)
			fail(pl, "store", err);
	}
	if (pl->report != NULL && report_outcome(pl->report, o) < 0)
		fail(pl, "report", "out of memory");
	if (limits_outcome(pl->limits, o, verdict_cb, pl) < 0)
		fail(pl, "limits", "out of memory");
	if (pl->on_outcome != NULL)
		pl->on_outcome(pl->ctx, o);
}

static void
message_cb(void *ctx, const struct track_msg *m)
{
	struct pipeline *pl = ctx;
	uint64_t idh[BY_COUNT];
	struct limits_ref *ref[BY_COUNT] = { NULL };
	char err[256];

	if (m->time_us < pl->since_us || m->time_us > pl->until_us)
		return;
	pl->messages++;
	if (pl->store != NULL && !pl->failed) {
		struct store_msg sm = {
			MSG_COPY(m),
			.removed_us = m->removed ? m->time_us : 0, /* removed while held back */
		};

		batch_tick(pl);
		if (!pl->failed && store_add_message(pl->store, &sm, err, sizeof(err)) < 0)
			fail(pl, "store", err);
		if (!pl->failed && pl->outbox &&
		    store_add_outbox(pl->store, &sm, err, sizeof(err)) < 0)
			fail(pl, "store", err);
	}
	/*
	 * once, for the report and the limits: the identities, their hashes
	 * and their look-ups (the report's rows keep what the limits found)
	 */
	msgid_make(&pl->ids, pl->conf, m);
	memset(idh, 0, sizeof(idh));
	if (pl->report != NULL && report_message_refs(pl->report, m, &pl->ids, idh, ref) < 0)
		fail(pl, "report", "out of memory");
	if (pl->on_message != NULL)
		pl->on_message(pl->ctx, m);
	if (limits_message_refs(pl->limits, m, &pl->ids, idh, ref, verdict_cb, pl) < 0)
		fail(pl, "limits", "out of memory");
}

/*
 * wall_now - the wall clock, microseconds.  The daemon asks for every
 * line (the future-time check), so the coarse clock: a read of the
 * kernel's last tick (a few milliseconds' resolution, far below any
 * max_clock_skew) instead of a timer read per line.
 */
static int64_t
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* pipeline_remote - another node's message into the limits only (see pipeline.h) */
void
pipeline_remote(struct pipeline *pl, const struct track_msg *m)
{
	if (limits_message(pl->limits, m, verdict_cb, pl) < 0)
		fail(pl, "limits", "out of memory");
}

/* pipeline_parser_new - a parser that parses as pipeline_line()'s own (see pipeline.h) */
struct pf_parser *
pipeline_parser_new(char *err, size_t errlen)
{
	struct pf_parser *p;

	if ((p = pf_parser_new(err, errlen)) != NULL)
		pf_parser_lean(p, 1); /* no regex for events that nothing here uses */
	return (p);
}

int
pipeline_init(struct pipeline *pl, const struct conf *conf, struct store *store,
    struct report *report, char *err, size_t errlen)
{
	memset(pl, 0, sizeof(*pl));
	pl->conf = conf;
	pl->store = store;
	pl->report = report;
	pl->since_us = INT64_MIN;
	pl->until_us = INT64_MAX;
	pl->first_us = INT64_MIN;
	pl->last_us = INT64_MIN;
	pl->prev_us = INT64_MIN;
	pl->future_max_us = INT64_MIN;
	pl->max_skew_us = conf->max_clock_skew * 1000000;
	pl->replay = report != NULL;
	pl->replay_wall_us = wall_now();
	if ((pl->parser = pipeline_parser_new(err, errlen)) == NULL)
		return (-1);
	if ((pl->track = track_new((size_t)conf->max_tracked_bytes, message_cb, pl)) == NULL ||
	    (pl->limits = limits_new(conf)) == NULL) {
		snprintf(err, errlen, "out of memory");
		pipeline_free(pl);
		return (-1);
	}
	if (report != NULL)
		limits_set_retire(pl->limits, report_peak, report);
	track_set_outcome(pl->track, outcome_cb, pl);
	return (0);
}

enum { IN_NONE = 0, IN_INSIDE = 1, IN_OUTSIDE = 2 }; /* pl->in_prev */

/*
 * in_untimed - a line without a time.  Counted inside at once when the
 * timed line before it is inside (taken back if the next timed line is
 * outside, kept at the end of the input); before the first timed line it
 * waits for that line to decide.
 */
static void
in_untimed(struct pipeline *pl, int unparsed)
{
	pl->in_gap_lines++;
	pl->in_gap_unparsed += (uint64_t)unparsed;
	if (pl->in_prev == IN_INSIDE) {
		pl->in_lines++;
		pl->in_unparsed += (uint64_t)unparsed;
	}
}

/* in_timed - a line at t: count it if inside, and settle the untimed lines before it */
static void
in_timed(struct pipeline *pl, int64_t t)
{
	int inside = t >= pl->since_us && t <= pl->until_us;

	if (inside) {
		/* in_lines is 0 until the first timed line inside: untimed ones need one */
		int none = pl->in_lines == 0;

		if (pl->in_prev == IN_NONE) { /* the start of the input */
			pl->in_lines += pl->in_gap_lines;
			pl->in_unparsed += pl->in_gap_unparsed;
		}
		pl->in_lines++;
		if (none || t < pl->in_first_us)
			pl->in_first_us = t;
		if (none || t > pl->in_last_us)
			pl->in_last_us = t;
	} else if (pl->in_prev == IN_INSIDE) { /* between inside and outside: not inside */
		pl->in_lines -= pl->in_gap_lines;
		pl->in_unparsed -= pl->in_gap_unparsed;
	}
	pl->in_gap_lines = 0;
	pl->in_gap_unparsed = 0;
	pl->in_prev = inside ? IN_INSIDE : IN_OUTSIDE;
}

/*
 * timed_event - a parsed event at time t (NULL: an untrusted journal
 * entry, its time only): the input's span, the interval, the tracker
 */
static void
timed_event(struct pipeline *pl, const struct pf_event *ev, int64_t t)
{
	pl->prev_us = t;
	if (pl->first_us == INT64_MIN || t < pl->first_us)
		pl->first_us = t;
	if (t > pl->last_us)
		pl->last_us = t;
	in_timed(pl, t);
	if (ev == NULL)
		return;
	track_event(pl->track, ev, t);
	if (pl->on_event != NULL && (ev->kind == PF_HOLD || ev->kind == PF_RELEASE))
		pl->on_event(pl->ctx, ev, t);
}

/* count_untimed - a line without a time (not a syslog line, a marker) */
static void
count_untimed(struct pipeline *pl, int unparsed)
{
	pl->unparsed += (uint64_t)unparsed;
	in_untimed(pl, unparsed);
}

/*
 * count_timed - a parsed line at time t into the tracker and the totals;
 * future: t is not to be trusted, the line is counted at the time of the
 * line before it (and not at all when there is none)
 */
static void
count_timed(struct pipeline *pl, const struct pf_event *ev, int64_t t, int future)
{
	if (future) {
		pl->future_lines++;
		if (t > pl->future_max_us)
			pl->future_max_us = t;
		if (pl->report != NULL)
			report_future_line(pl->report);
		if (pl->prev_us == INT64_MIN) {
			in_untimed(pl, 0);
			return;
		}
		t = pl->prev_us;
	}
	timed_event(pl, ev, t);
}

/* ahead - t is more than max_clock_skew after the newest line counted (replay) */
static int
ahead(const struct pipeline *pl, int64_t t)
{
	return (pl->replay && pl->max_skew_us > 0 && pl->last_us != INT64_MIN &&
	    t > pl->last_us + pl->max_skew_us);
}

/* pend - hold a line back, copied; 0, or -1 when out of memory (latched) */
static int
pend(struct pipeline *pl, const char *line, size_t len, int64_t t, int unparsed, int beyond)
{
	struct pipeline_pend *np, *p;

	if ((np = arr_grow(pl->pend, pl->npend, &pl->cappend, sizeof(*np), 16)) == NULL)
		goto oom;
	pl->pend = np;
	p = &pl->pend[pl->npend];
	if ((p->line = malloc(len + 1)) == NULL)
		goto oom;
	memcpy(p->line, line, len);
	p->line[len] = '\0';
	p->len = len;
	p->t = t;
	p->unparsed = unparsed;
	p->beyond = beyond;
	pl->npend++;
	pl->pendbytes += len;
	return (0);
oom:
	fail(pl, "pipeline", "out of memory");
	return (-1);
}

/* pop_count - count the oldest held-back line (future: see count_timed) and forget it */
static void
pop_count(struct pipeline *pl, int future)
{
	struct pipeline_pend *p = &pl->pend[0];
	struct pf_event ev;

	if (p->t == UNTIMED)
		count_untimed(pl, p->unparsed);
	else {
		(void)pf_parse(pl->parser, p->line, p->len, &ev); /* as when it came */
		count_timed(pl, &ev, p->t, future);
	}
	pl->pendbytes -= p->len;
	free(p->line);
	memmove(pl->pend, pl->pend + 1, (pl->npend - 1) * sizeof(*pl->pend));
	pl->npend--;
}

/*
 * vote - the look-ahead on the oldest held-back line, which is ahead of
 * the log: 1 it is future-dated, 0 it is not, -1 wait for more lines
 * (final: no more will come)
 */
static int
vote(const struct pipeline *pl, int final)
{
	const struct pipeline_pend *h = &pl->pend[0];
	int votes = 0, yes = 0;
	size_t j;

	for (j = 1; j < pl->npend && votes < PIPELINE_LOOKAHEAD; j++) {
		if (pl->pend[j].t == UNTIMED || pl->pend[j].beyond)
			continue; /* a line from beyond the clock confirms nothing */
		votes++;
		yes += pl->pend[j].t >= h->t - pl->max_skew_us;
	}
	if (votes < PIPELINE_LOOKAHEAD && !final && pl->npend < PEND_MAX &&
	    pl->pendbytes < PEND_BYTES)
		return (-1);
	return (votes > 0 && 2 * yes <= votes);
}

/* drain - count the held-back lines that can be decided now (final: all of them) */
static void
drain(struct pipeline *pl, int final)
{
	int future;

	while (pl->npend > 0) {
		const struct pipeline_pend *p = &pl->pend[0];

		future = 0;
		if (p->t != UNTIMED) {
			future = p->beyond;
			if (!future && ahead(pl, p->t) && (future = vote(pl, final)) < 0)
				return;
		}
		pop_count(pl, future);
	}
}

/*
 * line_parsed - a line and its parse (ev, from pf_parse() by a parser of
 * pipeline_parser_new()): resolve its time, count it or hold it back
 */
static inline void
line_parsed(struct pipeline *pl, struct pf_clock *clk, const char *line, size_t len,
    const struct pf_event *ev)
{
	/* the year inference's state: the rest of the clock is caches */
	int cur_year = clk->cur_year, cur_mon = clk->cur_mon;
	enum pf_hdr h = ev->hdr;
	int64_t t;
	int beyond, held;

	pl->lines++;
	if (h == PF_HDR_NONE || h == PF_HDR_SKIP || pf_clock_resolve(clk, &ev->tm, &t) < 0) {
		if (pl->npend > 0)
			(void)pend(pl, line, len, UNTIMED, h != PF_HDR_SKIP, 0);
		else
			count_untimed(pl, h != PF_HDR_SKIP);
		return;
	}
	beyond = pl->max_skew_us > 0 &&
	    t > (pl->replay ? pl->replay_wall_us : wall_now()) + pl->max_skew_us;
	held = !beyond && ahead(pl, t);
	if (beyond || held) { /* its year inference moves no clock either */
		clk->cur_year = cur_year;
		clk->cur_mon = cur_mon;
	}
	if (pl->npend == 0 && !held) {
		count_timed(pl, ev, t, beyond);
		return;
	}
	if (pend(pl, line, len, t, 0, beyond) == 0)
		drain(pl, 0);
}

void
pipeline_line(struct pipeline *pl, struct pf_clock *clk, const char *line, size_t len)
{
	struct pf_event ev;

	(void)pf_parse(pl->parser, line, len, &ev);
	line_parsed(pl, clk, line, len, &ev);
}

/* pipeline_line_parsed - pipeline_line() of a line parsed elsewhere (see pipeline.h) */
void
pipeline_line_parsed(struct pipeline *pl, struct pf_clock *clk, const char *line, size_t len,
    const struct pf_event *ev)
{
	line_parsed(pl, clk, line, len, ev);
}

/*
 * pipeline_entry - a journal entry: its time is the journal's (journald's
 * own clock when it received it, not the sender's), so it is taken as it
 * is; held-back lines never come from a journal
 */
void
pipeline_entry(struct pipeline *pl, int64_t time_us, const struct pf_origin *o, const char *text,
    size_t len, int untrusted)
{
	struct pf_event ev;

	pl->lines++;
	if (untrusted) {
		pl->untrusted++;
		timed_event(pl, NULL, time_us);
		return;
	}
	if (pf_parse_text(pl->parser, o, text, len, &ev) == PF_HDR_NONE) {
		pl->unparsed++;
		in_untimed(pl, 1);
		return;
	}
	timed_event(pl, &ev, time_us);
}

int
pipeline_finish(struct pipeline *pl)
{
	char err[256];

	drain(pl, 1);
	track_finish(pl->track);
	if (pl->store != NULL && pl->in_txn) {
		pl->in_txn = 0;
		pl->batch = 0;
		if (pl->failed)
			store_rollback(pl->store);
		else if (store_commit(pl->store, err, sizeof(err)) < 0)
			fail(pl, "store", err);
	}
	return (pl->failed ? -1 : 0);
}

void
pipeline_free(struct pipeline *pl)
{
	size_t i;

	for (i = 0; i < pl->npend; i++)
		free(pl->pend[i].line);
	free(pl->pend);
	pl->pend = NULL;
	pl->npend = pl->cappend = pl->pendbytes = 0;
	if (pl->parser != NULL)
		pf_parser_free(pl->parser);
	track_free(pl->track);
	limits_free(pl->limits);
	pl->parser = NULL;
	pl->track = NULL;
	pl->limits = NULL;
}

int64_t
pipeline_max_window(const struct conf *c)
{
	int64_t m = 0;
	size_t i, j;

	for (i = 0; i < c->nrules; i++)
		for (j = 0; j < c->rules[i].nwin; j++)
			if (c->rules[i].win[j].seconds * 1000000 > m)
				m = c->rules[i].win[j].seconds * 1000000;
	return (m);
}

struct rebuild {
	struct limits *l;
	int64_t n;
};

static int
rebuild_cb(void *ctx, const struct store_msg *sm)
{
	struct rebuild *rb = ctx;
	const struct track_msg m = { MSG_COPY(sm) };

	rb->n++;
	return (limits_message(rb->l, &m, NULL, NULL) < 0 ? -1 : 0);
}

/* rebuild_bounce - one stored bounce line back into the bounces windows */
static int
rebuild_bounce(void *ctx, const struct store_bounce *b)
{
	struct rebuild *rb = ctx;
	const struct track_msg m = {
		.time_us = b->msg_us,
		.host = b->host,
		.instance = b->instance,
		.queue_id = b->queue_id,
		.sasl = b->sasl,
		.sender = b->sender,
		.client_ip = b->client_ip,
		.uid = b->uid,
	};
	const struct track_outcome o = { &m, TRACK_BOUNCED, b->n, b->time_us };

	return (limits_outcome(rb->l, &o, NULL, NULL) < 0 ? -1 : 0);
}

/* The stored verdicts replayed into the blocks: the limits and the rules they name. */
struct vrebuild {
	struct limits *l;
	const struct conf *conf;
	int64_t n;
};

/* rebuild_verdict - one stored verdict's block, as verdict_cb() began it */
static int
rebuild_verdict(void *ctx, const struct store_verdict *sv)
{
	struct vrebuild *vr = ctx;
	const struct conf_rule *rule = NULL;
	int64_t dur;
	size_t i;

	for (i = 0; i < vr->conf->nrules && sv->rule != NULL && rule == NULL; i++)
		if (strcmp(vr->conf->rules[i].name, sv->rule) == 0)
			rule = &vr->conf->rules[i];
	if (rule == NULL || sv->identity == NULL)
		return (0); /* a rule no longer configured: it blocks nothing now */
	vr->n++;
	return (overrun_block(vr->l, rule, sv->identity, sv->time_us, &dur) < 0 ? -1 : 0);
}

int64_t
pipeline_rebuild_blocks(struct limits *l, const struct conf *conf, struct store *s, char *err,
    size_t errlen)
{
	struct vrebuild vr = { l, conf, 0 };
	int r;

	if ((r = store_each_verdict(s, NULL, INT64_MIN, rebuild_verdict, &vr, err, errlen)) != 0) {
		if (r > 0)
			snprintf(err, errlen, "out of memory");
		return (-1);
	}
	return (vr.n);
}

int64_t
pipeline_rebuild(struct limits *l, struct store *s, int64_t since_us, char *err, size_t errlen)
{
	struct rebuild rb = { l, 0 };
	int r;

	/*
	 * the messages, then the bounces: each window counts one of the two,
	 * so the windows come out as if they had been read in log order
	 */
	if ((r = store_each_message(s, since_us, rebuild_cb, &rb, err, errlen)) != 0 ||
	    (r = store_each_bounce(s, since_us, rebuild_bounce, &rb, err, errlen)) != 0) {
		if (r > 0)
			snprintf(err, errlen, "out of memory");
		return (-1);
	}
	return (rb.n);
}
