/*
 * NAME
 *	pipeline - parse -> track -> limits -> store for one line (see pipeline.h)
 */
#include <stdio.h>
#include <string.h>

#include "count/pipeline.h"

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
	if (!limits_blocked(pl->limits, v->identity, v->time_us)) {
		dur = limits_block_time(v->rule, limits_block_count(pl->limits, v->identity) + 1);
		if (limits_block(pl->limits, v->identity, v->time_us, dur) < 0)
			fail(pl, "limits", "out of memory");
		v->blocks = 1;
		v->block_until_us = dur > 0 ? v->time_us + dur : 0;
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

static void
message_cb(void *ctx, const struct track_msg *m)
{
	struct pipeline *pl = ctx;
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
	}
	if (pl->report != NULL && report_message(pl->report, m) < 0)
		fail(pl, "report", "out of memory");
	if (pl->on_message != NULL)
		pl->on_message(pl->ctx, m);
	if (limits_message(pl->limits, m, verdict_cb, pl) < 0)
		fail(pl, "limits", "out of memory");
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
	if ((pl->parser = pf_parser_new(err, errlen)) == NULL)
		return (-1);
	if ((pl->track = track_new((size_t)conf->max_tracked_bytes, message_cb, pl)) == NULL ||
	    (pl->limits = limits_new(conf)) == NULL) {
		snprintf(err, errlen, "out of memory");
		pipeline_free(pl);
		return (-1);
	}
	if (report != NULL)
		limits_set_retire(pl->limits, report_peak, report);
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

void
pipeline_line(struct pipeline *pl, struct pf_clock *clk, const char *line, size_t len)
{
	struct pf_event ev;
	enum pf_hdr h;
	int64_t t;

	pl->lines++;
	h = pf_parse(pl->parser, line, len, &ev);
	if (h == PF_HDR_NONE) {
		pl->unparsed++;
		in_untimed(pl, 1);
		return;
	}
	if (h == PF_HDR_SKIP) {
		in_untimed(pl, 0);
		return;
	}
	if (pf_clock_resolve(clk, &ev.tm, &t) < 0) {
		pl->unparsed++;
		in_untimed(pl, 1);
		return;
	}
	if (pl->first_us == INT64_MIN || t < pl->first_us)
		pl->first_us = t;
	if (t > pl->last_us)
		pl->last_us = t;
	in_timed(pl, t);
	track_event(pl->track, &ev, t);
	if (pl->on_event != NULL && (ev.kind == PF_HOLD || ev.kind == PF_RELEASE))
		pl->on_event(pl->ctx, &ev, t);
}

int
pipeline_finish(struct pipeline *pl)
{
	char err[256];

	track_flush(pl->track, INT64_MAX);
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

int64_t
pipeline_rebuild(struct limits *l, struct store *s, int64_t since_us, char *err, size_t errlen)
{
	struct rebuild rb = { l, 0 };
	int r;

	if ((r = store_each_message(s, since_us, rebuild_cb, &rb, err, errlen)) != 0) {
		if (r > 0)
			snprintf(err, errlen, "out of memory");
		return (-1);
	}
	return (rb.n);
}
