/*
 * NAME
 *	limits - exact sliding-window sums (see limits.h)
 * SUMMARY
 *	Per (rule, identity) one array of the messages inside the rule's
 *	longest window, sorted by time, with a running recipient sum.  The
 *	value of a window at message m is computed over [lo, m] where lo is
 *	the first entry newer than t_m - W (binary search), so windows are
 *	exact to the microsecond and need no buckets.
 *	Blocks are kept per identity (struct lblock, only for identities that
 *	were ever blocked): a re-arm bumps the block's epoch and moves its
 *	armed time; each (rule, identity) state notices the new epoch at its
 *	next message and clears its "over" marks, and every window's lower
 *	bound is at least the armed time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/arr.h"
#include "util/hmap.h"
#include "count/limits.h"
#include "util/ident.h"

struct ent {
	int64_t t;
	long nrcpt;
	uint64_t iph; /* hash of the client IP, 0 for none */
	int64_t cum;  /* running recipient sum up to and including this entry */
};

struct wstate {
	int over;
	long peak;
	int64_t peak_at;
};

/* The block state of one identity. */
struct lblock {
	int64_t until;  /* log time the block ends; 0: until unblocked */
	int64_t armed;  /* only messages at or after this count; INT64_MIN: all */
	long times;     /* blocks so far */
	unsigned epoch; /* bumped at each re-arm */
	int active;
};

struct lstate {
	const struct conf_rule *rule;
	char *ident;
	unsigned epoch; /* of its identity's lblock when last judged */
	struct ent *e;
	size_t start, n, cap; /* live entries are e[start .. n) */
	int64_t maxw;         /* longest window, microseconds */
	struct wstate w[];
};

struct limits {
	const struct conf *conf;
	struct hmap *states; /* "ruleindex\0identity" -> struct lstate */
	struct hmap *blocks; /* identity -> struct lblock */
	uint64_t *set;       /* scratch set for distinct IPs */
	size_t setcap;
};

struct limits *
limits_new(const struct conf *conf)
{
	struct limits *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return (NULL);
	l->conf = conf;
	if ((l->states = hmap_new()) == NULL || (l->blocks = hmap_new()) == NULL) {
		hmap_free(l->states, NULL);
		free(l);
		return (NULL);
	}
	return (l);
}

static void
lstate_free(void *v)
{
	struct lstate *s = v;

	if (s == NULL)
		return;
	free(s->e);
	free(s->ident);
	free(s);
}

void
limits_free(struct limits *l)
{
	if (l == NULL)
		return;
	hmap_free(l->states, lstate_free);
	hmap_free(l->blocks, free);
	free(l->set);
	free(l);
}

/* limits_ident - "kind:value" of m for kind by */
const char *
limits_ident(const struct track_msg *m, enum conf_by by, char *buf, size_t len)
{
	const char *d;
	int n;

	switch (by) {
	case BY_SASL:
		if (m->sasl == NULL)
			return (NULL);
		n = snprintf(buf, len, "sasl:%s", m->sasl);
		break;
	case BY_UID:
		if (m->uid < 0)
			return (NULL);
		n = snprintf(buf, len, "uid:%ld", m->uid);
		break;
	case BY_SENDER:
		if (m->sender == NULL || m->sender[0] == '\0')
			return (NULL);
		n = snprintf(buf, len, "sender:%s", m->sender);
		break;
	case BY_IP:
		if (m->client_ip == NULL || m->client_ip[0] == '\0')
			return (NULL);
		n = snprintf(buf, len, "ip:%s", m->client_ip);
		break;
	case BY_SASL_DOMAIN:
		if ((d = ident_domain(m->sasl)) == NULL)
			return (NULL);
		n = snprintf(buf, len, "sasl_domain:%s", d);
		break;
	case BY_SENDER_DOMAIN:
		if ((d = ident_domain(m->sender)) == NULL)
			return (NULL);
		n = snprintf(buf, len, "sender_domain:%s", d);
		break;
	default:
		return (NULL);
	}
	if (n < 0 || (size_t)n >= len)
		return (NULL);
	return (buf);
}

/* lstate_get - the state of (rule, ident), created on first use */
static struct lstate *
lstate_get(struct limits *l, size_t ri, const char *ident)
{
	const struct conf_rule *rule = &l->conf->rules[ri];
	char key[IDENT_MAX];
	size_t idn = strlen(ident), kn, i;
	struct lstate *s;
	void **slot;
	int added, n;

	n = snprintf(key, sizeof(key), "%zu", ri);
	if (n < 0 || (size_t)n + 1 + idn >= sizeof(key))
		return (NULL);
	memcpy(key + n + 1, ident, idn);
	kn = (size_t)n + 1 + idn;
	if ((slot = hmap_get_or_add(l->states, key, kn, &added)) == NULL)
		return (NULL);
	if (!added)
		return (*slot);
	if ((s = calloc(1, sizeof(*s) + rule->nwin * sizeof(struct wstate))) == NULL ||
	    (s->ident = strdup(ident)) == NULL) {
		free(s);
		hmap_del(l->states, key, kn);
		return (NULL);
	}
	s->rule = rule;
	for (i = 0; i < rule->nwin; i++)
		if (rule->win[i].seconds * 1000000 > s->maxw)
			s->maxw = rule->win[i].seconds * 1000000;
	*slot = s;
	return (s);
}

/* first_after - index of the first live entry with time > t (in [start, end]) */
static size_t
first_after(const struct lstate *s, size_t end, int64_t t)
{
	size_t lo = s->start, hi = end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->e[mid].t > t)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (lo);
}

/* distinct_ips - distinct non-zero iph in e[lo..pos] */
static long
distinct_ips(struct limits *l, const struct lstate *s, size_t lo, size_t pos)
{
	size_t need = 16, i, j, mask;
	long count = 0;

	while (need < (pos - lo + 1) * 2)
		need *= 2;
	if (need > l->setcap) {
		uint64_t *ns = realloc(l->set, need * sizeof(*ns));

		if (ns == NULL)
			return (-1);
		l->set = ns;
		l->setcap = need;
	}
	memset(l->set, 0, need * sizeof(*l->set));
	mask = need - 1;
	for (i = lo; i <= pos; i++) {
		uint64_t h = s->e[i].iph;

		if (h == 0)
			continue;
		for (j = (size_t)h & mask; l->set[j] != 0 && l->set[j] != h; j = (j + 1) & mask)
			;
		if (l->set[j] == 0) {
			l->set[j] = h;
			count++;
		}
	}
	return (count);
}

/* insert - add (t, nrcpt, iph) in time order; returns its index or -1 */
static long
insert(struct lstate *s, int64_t t, long nrcpt, uint64_t iph)
{
	struct ent *ne;
	size_t pos, i;

	if (s->start > 0 && (s->n == s->cap || s->start > s->cap / 2)) {
		memmove(s->e, s->e + s->start, (s->n - s->start) * sizeof(*s->e));
		s->n -= s->start;
		s->start = 0;
	}
	if ((ne = arr_grow(s->e, s->n, &s->cap, sizeof(*s->e), 8)) == NULL)
		return (-1);
	s->e = ne;
	if (s->n == s->start || s->e[s->n - 1].t <= t)
		pos = s->n;
	else {
		pos = first_after(s, s->n, t);
		memmove(s->e + pos + 1, s->e + pos, (s->n - pos) * sizeof(*s->e));
	}
	s->n++;
	s->e[pos].t = t;
	s->e[pos].nrcpt = nrcpt;
	s->e[pos].iph = iph;
	for (i = pos; i < s->n; i++)
		s->e[i].cum = (i > s->start ? s->e[i - 1].cum : 0) + s->e[i].nrcpt;
	return ((long)pos);
}

/*
 * window_value - a window's value over the live entries lo..pos of s:
 * messages, recipients or distinct client IPs; 0, or -1 on ENOMEM
 */
static int
window_value(struct limits *l, const struct lstate *s, size_t lo, size_t pos, enum conf_limit limit,
    long *value)
{
	switch (limit) {
	case LIM_MESSAGES:
		*value = (long)(pos - lo + 1);
		break;
	case LIM_RECIPIENTS:
		*value = (long)(s->e[pos].cum - (s->e[lo].cum - s->e[lo].nrcpt));
		break;
	case LIM_IPS:
		if ((*value = distinct_ips(l, s, lo, pos)) < 0)
			return (-1);
		break;
	default:
		*value = 0;
	}
	return (0);
}

/* blk_get - the block state of ident, NULL when it was never blocked */
static struct lblock *
blk_get(const struct limits *l, const char *ident)
{
	if (hmap_count(l->blocks) == 0)
		return (NULL);
	return (hmap_get(l->blocks, ident, strlen(ident)));
}

/* blk_rearm - the block ends at log time at: its identity's limits re-arm */
static void
blk_rearm(struct lblock *b, int64_t at)
{
	b->active = 0;
	if (at > b->armed)
		b->armed = at;
	b->epoch++;
}

/* blk_expire - end b if its time ran out at log time t */
static void
blk_expire(struct lblock *b, int64_t t)
{
	if (b->active && b->until != 0 && t >= b->until)
		blk_rearm(b, b->until);
}

/* armed_at - the armed time of b as seen at log time t, without changing b */
static int64_t
armed_at(const struct lblock *b, int64_t t)
{
	if (b == NULL)
		return (INT64_MIN);
	if (b->active && b->until != 0 && t >= b->until && b->until > b->armed)
		return (b->until);
	return (b->armed);
}

/*
 * low - the first of the live entries before end that is newer than from
 * and not older than armed (end when none is)
 */
static size_t
low(const struct lstate *s, size_t end, int64_t from, int64_t armed)
{
	size_t lo = first_after(s, end, from);

	if (armed != INT64_MIN) {
		size_t la = first_after(s, end, armed - 1);

		if (la > lo)
			lo = la;
	}
	return (lo);
}

/*
 * judge - add m to s and raise the verdicts of its windows; b is the block
 * state of s's identity (NULL: never blocked), blocked whether it was
 * blocked when m arrived (then nothing is raised).
 */
static int
judge(struct limits *l, struct lstate *s, const struct track_msg *m, limits_verdict_fn cb,
    void *ctx, const struct lblock *b, int blocked)
{
	const struct conf_rule *rule = s->rule;
	uint64_t iph = m->client_ip ? hmap_hash(m->client_ip, strlen(m->client_ip)) : 0;
	size_t wi, lo, pos;
	long p, value;
	int raised = 0;
	int64_t newest;

	int64_t armed = b != NULL ? b->armed : INT64_MIN;

	if (b != NULL && s->epoch != b->epoch) {
		/* re-armed since s was last judged: every window starts afresh */
		for (wi = 0; wi < rule->nwin; wi++)
			s->w[wi].over = 0;
		s->epoch = b->epoch;
	}
	if ((p = insert(s, m->time_us, m->nrcpt, iph)) < 0)
		return (-1);
	pos = (size_t)p;
	for (wi = 0; wi < rule->nwin; wi++) {
		const struct conf_window *w = &rule->win[wi];
		struct wstate *ws = &s->w[wi];

		lo = low(s, pos + 1, m->time_us - w->seconds * 1000000, armed);
		if (lo > pos) /* older than the re-arm: counts for nothing */
			continue;
		if (window_value(l, s, lo, pos, w->limit, &value) < 0)
			return (-1);
		if (value > ws->peak) {
			ws->peak = value;
			ws->peak_at = m->time_us;
		}
		if (value > w->threshold && !ws->over && !blocked && cb != NULL) {
			struct limits_verdict v;

			memset(&v, 0, sizeof(v));
			v.identity = s->ident;
			v.rule = rule;
			v.win = w;
			v.count = value;
			v.time_us = m->time_us;
			v.queue_id = m->queue_id;
			raised++;
			cb(ctx, &v);
		}
		ws->over = value > w->threshold;
	}
	/* drop entries no window ending at or after the newest can reach */
	newest = s->e[s->n - 1].t;
	while (
	    s->start < s->n && (s->e[s->start].t <= newest - s->maxw || s->e[s->start].t < armed))
		s->start++;
	return (raised);
}

int
limits_message(struct limits *l, const struct track_msg *m, limits_verdict_fn cb, void *ctx)
{
	const struct conf *c = l->conf;
	char buf[BY_COUNT][IDENT_MAX];
	const char *id[BY_COUNT];
	struct lblock *blk[BY_COUNT];
	int exempt[BY_COUNT], blocked[BY_COUNT];
	size_t ri;
	int k, r, raised = 0;

	for (k = 0; k < BY_COUNT; k++) {
		id[k] = limits_ident(m, (enum conf_by)k, buf[k], sizeof(buf[k]));
		exempt[k] =
		    id[k] != NULL && conf_exempt(c, (enum conf_by)k, strchr(id[k], ':') + 1);
		blk[k] = NULL;
		blocked[k] = 0;
		if (id[k] != NULL && !exempt[k] && (blk[k] = blk_get(l, id[k])) != NULL) {
			blk_expire(blk[k], m->time_us);
			blocked[k] = blk[k]->active;
		}
	}
	for (ri = 0; ri < c->nrules; ri++) {
		const struct conf_rule *rule = &c->rules[ri];
		struct lstate *s;

		if (id[rule->by] == NULL || exempt[rule->by] ||
		    !conf_rule_match(rule, strchr(id[rule->by], ':') + 1))
			continue;
		if ((s = lstate_get(l, ri, id[rule->by])) == NULL)
			return (-1);
		if ((r = judge(l, s, m, cb, ctx, blk[rule->by], blocked[rule->by])) < 0)
			return (-1);
		raised += r;
	}
	return (raised);
}

/*
 * A walk over every (rule, identity) state: each_state() is the one
 * hmap_each callback, state() does the walk's work on one state.
 */
struct walk {
	struct limits *l;
	int64_t now;
	void (*state)(struct walk *, struct lstate *);
	void (*peak)(void *, const struct limits_peak *);
	void (*count)(void *, const struct limits_count *);
	void *ctx;
};

static int
each_state(void *ctx, const char *key, size_t n, void *val)
{
	struct walk *w = ctx;

	(void)key;
	(void)n;
	w->state(w, val);
	return (0);
}

/* peak_state - every window of s with a non-zero peak, to w->peak */
static void
peak_state(struct walk *w, struct lstate *s)
{
	struct limits_peak p;
	size_t i;

	for (i = 0; i < s->rule->nwin; i++) {
		if (s->w[i].peak == 0)
			continue;
		p.identity = s->ident;
		p.rule = s->rule;
		p.win = &s->rule->win[i];
		p.peak = s->w[i].peak;
		p.at_us = s->w[i].peak_at;
		w->peak(w->ctx, &p);
	}
}

void
limits_each_peak(struct limits *l, void (*cb)(void *, const struct limits_peak *), void *ctx)
{
	struct walk w = { .l = l, .state = peak_state, .peak = cb, .ctx = ctx };

	hmap_each(l->states, each_state, &w);
}

/* count_state - every window of s whose value at w->now is non-zero, to w->count */
static void
count_state(struct walk *w, struct lstate *s)
{
	struct limits_count c;
	size_t i, lo, last;
	int64_t armed;

	if (s->n == s->start)
		return;
	last = s->n - 1;
	armed = armed_at(blk_get(w->l, s->ident), w->now);
	for (i = 0; i < s->rule->nwin; i++) {
		const struct conf_window *win = &s->rule->win[i];

		lo = low(s, s->n, w->now - win->seconds * 1000000, armed);
		if (lo > last)
			continue;
		if (window_value(w->l, s, lo, last, win->limit, &c.count) < 0 || c.count <= 0)
			continue;
		c.identity = s->ident;
		c.rule = s->rule;
		c.win = win;
		w->count(w->ctx, &c);
	}
}

void
limits_each_count(struct limits *l, int64_t now, void (*cb)(void *, const struct limits_count *),
    void *ctx)
{
	struct walk w = { .l = l, .now = now, .state = count_state, .count = cb, .ctx = ctx };

	hmap_each(l->states, each_state, &w);
}

/* prune_state - free the entries of s when its newest is older than its longest window */
static void
prune_state(struct walk *w, struct lstate *s)
{
	if (s->n > s->start && s->e[s->n - 1].t <= w->now - s->maxw) {
		free(s->e);
		s->e = NULL;
		s->start = s->n = s->cap = 0;
	}
}

void
limits_prune(struct limits *l, int64_t now)
{
	struct walk w = { .l = l, .now = now, .state = prune_state };

	hmap_each(l->states, each_state, &w);
}

size_t
limits_size(const struct limits *l)
{
	return (hmap_count(l->states));
}

int64_t
limits_block_time(const struct conf_rule *r, long times)
{
	double d;

	if (r == NULL || r->block_time <= 0)
		return (0);
	d = (double)r->block_time * pow(r->block_time_factor, (double)(times > 1 ? times - 1 : 0));
	if (d > 10.0 * 365 * 86400)
		d = 10.0 * 365 * 86400;
	return ((int64_t)d * 1000000);
}

/* blk_add - the block state of ident, created (never blocked, nothing cut) on first use */
static struct lblock *
blk_add(struct limits *l, const char *ident)
{
	size_t n = strlen(ident);
	void **slot;
	int added;

	if ((slot = hmap_get_or_add(l->blocks, ident, n, &added)) == NULL)
		return (NULL);
	if (added) {
		struct lblock *b = calloc(1, sizeof(*b));

		if (b == NULL) {
			hmap_del(l->blocks, ident, n);
			return (NULL);
		}
		b->armed = INT64_MIN;
		*slot = b;
	}
	return (*slot);
}

long
limits_block(struct limits *l, const char *identity, int64_t from, int64_t dur)
{
	struct lblock *b;

	if ((b = blk_add(l, identity)) == NULL)
		return (-1);
	blk_expire(b, from);
	if (b->active)
		return (b->times);
	b->active = 1;
	b->until = dur > 0 ? from + dur : 0;
	return (++b->times);
}

void
limits_unblock(struct limits *l, const char *identity, int64_t at)
{
	struct lblock *b = blk_get(l, identity);

	if (b != NULL && b->active)
		blk_rearm(b, at);
}

int
limits_blocked(struct limits *l, const char *identity, int64_t t)
{
	const struct lblock *b = blk_get(l, identity);

	return (b != NULL && b->active && (b->until == 0 || t < b->until));
}

long
limits_block_count(struct limits *l, const char *identity)
{
	const struct lblock *b = blk_get(l, identity);

	return (b != NULL ? b->times : 0);
}

int
limits_restore_block(struct limits *l, const char *identity, long times, int active, int64_t until,
    int64_t armed)
{
	struct lblock *b;

	if ((b = blk_add(l, identity)) == NULL)
		return (-1);
	b->times = times;
	b->active = active;
	b->until = active ? until : 0;
	b->armed = armed;
	b->epoch++;
	return (0);
}

static int
copy_cb(void *ctx, const char *key, size_t n, void *val)
{
	struct limits *dst = ctx;
	const struct lblock *src = val;
	void **slot;
	int added;
	struct lblock *b;

	if ((slot = hmap_get_or_add(dst->blocks, key, n, &added)) == NULL)
		return (1);
	if (added && (*slot = calloc(1, sizeof(struct lblock))) == NULL) {
		hmap_del(dst->blocks, key, n);
		return (1);
	}
	b = *slot;
	*b = *src;
	b->epoch++;
	return (0);
}

int
limits_copy_blocks(struct limits *dst, const struct limits *src)
{
	return (hmap_each(src->blocks, copy_cb, dst) != 0 ? -1 : 0);
}
