/*
 * NAME
 *	series - window counts over time for the rate plots (see series.h)
 * SUMMARY
 *	One walk over the stored messages.  A message with a wanted identity
 *	is counted in that identity's own limits object, which sees only the
 *	identity's messages (its verdicts begin blocks as in the pipeline,
 *	so re-arming shows; the identity's windows depend on nothing else);
 *	then every window value of the identity, taken at the message's
 *	time, goes into its column.
 * RETURNS
 *	See series.h: 0, or -1 with err; never prints, never exits.
 * UNTRUSTED INPUT
 *	Identities and queue IDs read back from the store: compared and
 *	copied (queue IDs cut at PF_QID_MAX), never interpreted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "count/limits.h"
#include "count/series.h"
#include "util/arr.h"
#include "util/hmap.h"

struct walk {
	const struct conf *conf;
	struct limits *l[SERIES_IDS_MAX]; /* one per wanted identity: only its messages */
	struct limits *cur;               /* the one being fed */
	struct hmap *want;                /* identity -> its entry in idx[] */
	size_t idx[SERIES_IDS_MAX];
	struct series_set *out;
	const char *hit[BY_COUNT]; /* the wanted identities of the message at hand */
	size_t hitid[BY_COUNT], nhit;
	const char *qid;
	int64_t t;
	int failed;
};

size_t
series_col_of(const struct series_set *set, int64_t t)
{
	int64_t span = set->t1 - set->t0;

	if (t <= set->t0 || span <= 0)
		return (0);
	if (t >= set->t1)
		return (SERIES_COLUMNS - 1);
	return ((size_t)((double)(t - set->t0) / (double)span * (SERIES_COLUMNS - 1)));
}

/* series_of - the series of (id, rule, window), created on first use; NULL on ENOMEM */
static struct series *
series_of(struct series_set *set, size_t id, const struct conf_rule *rule,
    const struct conf_window *win)
{
	struct series *s;
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->s[i].id == id && set->s[i].rule == rule && set->s[i].win == win)
			return (&set->s[i]);
	if ((s = arr_grow(set->s, set->n, &set->cap, sizeof(*s), 8)) == NULL)
		return (NULL);
	set->s = s;
	s = &set->s[set->n++];
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->rule = rule;
	s->win = win;
	return (s);
}

/* on_count - one window value of the message at hand: into its column if its identity is wanted */
static void
on_count(void *ctx, const struct limits_count *c)
{
	struct walk *w = ctx;
	struct series_col *col;
	struct series *s;
	size_t i;

	for (i = 0; i < w->nhit; i++)
		if (strcmp(w->hit[i], c->identity) == 0)
			break;
	if (i == w->nhit)
		return;
	if ((s = series_of(w->out, w->hitid[i], c->rule, c->win)) == NULL) {
		w->failed = 1;
		return;
	}
	col = &s->col[series_col_of(w->out, w->t)];
	if (col->value == 0 || w->t < col->first)
		col->first = w->t;
	if (col->value == 0 || w->t > col->last)
		col->last = w->t;
	if (c->count > col->value) {
		col->value = c->count;
		col->t = w->t;
		snprintf(col->qid, sizeof(col->qid), "%s", w->qid != NULL ? w->qid : "");
	}
}

/* on_verdict - as the pipeline: an overrun of an identity not blocked blocks it */
static void
on_verdict(void *ctx, const struct limits_verdict *v)
{
	struct walk *w = ctx;
	int64_t dur;

	if (limits_blocked(w->cur, v->identity, v->time_us))
		return;
	dur = limits_block_time(v->rule, limits_block_count(w->cur, v->identity) + 1);
	if (limits_block(w->cur, v->identity, v->time_us, dur) < 0)
		w->failed = 1;
}

/* on_message - one stored message: replayed if it has a wanted identity */
static int
on_message(void *ctx, const struct store_msg *sm)
{
	struct walk *w = ctx;
	char buf[BY_COUNT][IDENT_MAX];
	const struct track_msg m = { .time_us = sm->time_us,
		.host = sm->host,
		.instance = sm->instance,
		.queue_id = sm->queue_id,
		.sasl = sm->sasl,
		.sender = sm->sender,
		.client_ip = sm->client_ip,
		.uid = sm->uid,
		.nrcpt = sm->nrcpt };
	const char *id;
	const size_t *idx;
	size_t i, n;
	int k;

	w->nhit = 0;
	for (k = 0; k < BY_COUNT; k++) {
		if ((id = limits_ident(&m, (enum conf_by)k, buf[k], sizeof(buf[k]))) == NULL ||
		    (idx = hmap_get(w->want, id, strlen(id))) == NULL)
			continue;
		w->hit[w->nhit] = id;
		w->hitid[w->nhit++] = *idx;
	}
	w->t = m.time_us;
	w->qid = m.queue_id;
	for (i = 0, n = w->nhit; i < n; i++) {
		/* the limits of one wanted identity hold only its messages: few states to read */
		w->cur = w->l[w->hitid[i]];
		if (limits_message(w->cur, &m, on_verdict, w) < 0)
			return (1);
		limits_each_count(w->cur, m.time_us, on_count, w);
	}
	return (w->failed);
}

int
series_collect(const struct conf *conf, struct store *st, const char *const *ids, size_t nids,
    int64_t t0, int64_t t1, struct series_set *out, char *err, size_t errlen)
{
	struct walk w;
	void **slot;
	size_t i;
	int added, r;

	memset(out, 0, sizeof(*out));
	out->t0 = t0;
	out->t1 = t1 > t0 ? t1 : t0 + 1000000;
	memset(&w, 0, sizeof(w));
	w.conf = conf;
	w.out = out;
	if ((w.want = hmap_new()) == NULL)
		goto oom;
	for (i = 0; i < nids && i < SERIES_IDS_MAX; i++) {
		if ((w.l[i] = limits_new(conf)) == NULL)
			goto oom;
		if ((slot = hmap_get_or_add(w.want, ids[i], strlen(ids[i]), &added)) == NULL)
			goto oom;
		w.idx[i] = i;
		if (added)
			*slot = &w.idx[i];
	}
	r = i == 0 ? 0 : store_each_message(st, INT64_MIN, on_message, &w, err, errlen);
	for (i = 0; i < SERIES_IDS_MAX; i++)
		limits_free(w.l[i]);
	hmap_free(w.want, NULL);
	if (r > 0)
		snprintf(err, errlen, "rate plots: out of memory");
	return (r == 0 ? 0 : -1);
oom:
	for (i = 0; i < SERIES_IDS_MAX; i++)
		limits_free(w.l[i]);
	hmap_free(w.want, NULL);
	snprintf(err, errlen, "rate plots: out of memory");
	return (-1);
}

void
series_free(struct series_set *set)
{
	free(set->s);
	memset(set, 0, sizeof(*set));
}
