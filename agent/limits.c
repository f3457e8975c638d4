/*
 * NAME
 *	limits - exact sliding-window sums (see limits.h)
 * SUMMARY
 *	Per (rule, identity) one array of the messages inside the rule's
 *	longest window, sorted by time, with a running recipient sum.  The
 *	value of a window at message m is computed over [lo, m] where lo is
 *	the first entry newer than t_m - W (binary search), so windows are
 *	exact to the microsecond and need no buckets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/hmap.h"
#include "agent/limits.h"

struct ent {
	int64_t	t;
	long	nrcpt;
	uint64_t iph;		/* hash of the client IP, 0 for none */
	int64_t	cum;		/* running recipient sum up to and including this entry */
};

struct wstate {
	int	over;
	long	peak;
	int64_t	peak_at;
};

struct lstate {
	const struct conf_rule *rule;
	char   *ident;
	struct ent *e;
	size_t	start, n, cap;	/* live entries are e[start .. n) */
	int64_t	maxw;		/* longest window, microseconds */
	struct wstate w[];
};

struct limits {
	const struct conf *conf;
	struct hmap *states;	/* "ruleindex\0identity" -> struct lstate */
	uint64_t *set;		/* scratch set for distinct IPs */
	size_t	setcap;
};

struct limits *
limits_new(const struct conf *conf)
{
	struct limits *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return (NULL);
	l->conf = conf;
	if ((l->states = hmap_new()) == NULL) {
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
	free(l->set);
	free(l);
}

/* limits_ident - "kind:value" of m for kind by */
const char *
limits_ident(const struct track_msg *m, enum conf_by by, char *buf, size_t len)
{
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
	char key[SG_IDENT_KEY_MAX];
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
	size_t pos, i;

	if (s->start > 0 && (s->n == s->cap || s->start > s->cap / 2)) {
		memmove(s->e, s->e + s->start, (s->n - s->start) * sizeof(*s->e));
		s->n -= s->start;
		s->start = 0;
	}
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 8;
		struct ent *ne = realloc(s->e, nc * sizeof(*ne));

		if (ne == NULL)
			return (-1);
		s->e = ne;
		s->cap = nc;
	}
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

/* judge - add m to s and raise the verdicts of its windows */
static int
judge(struct limits *l, struct lstate *s, const struct track_msg *m,
      limits_verdict_fn cb, void *ctx)
{
	const struct conf_rule *rule = s->rule;
	uint64_t iph = m->client_ip ? hmap_hash(m->client_ip, strlen(m->client_ip)) : 0;
	size_t wi, lo, pos;
	long p, value;
	int raised = 0;
	int64_t newest;

	if ((p = insert(s, m->time_us, m->nrcpt, iph)) < 0)
		return (-1);
	pos = (size_t)p;
	for (wi = 0; wi < rule->nwin; wi++) {
		const struct conf_window *w = &rule->win[wi];
		struct wstate *ws = &s->w[wi];

		lo = first_after(s, pos, m->time_us - w->seconds * 1000000);
		switch (w->limit) {
		case LIM_MESSAGES:
			value = (long)(pos - lo + 1);
			break;
		case LIM_RECIPIENTS:
			value = (long)(s->e[pos].cum - (s->e[lo].cum - s->e[lo].nrcpt));
			break;
		case LIM_IPS:
			if ((value = distinct_ips(l, s, lo, pos)) < 0)
				return (-1);
			break;
		default:
			value = 0;
		}
		if (value > ws->peak) {
			ws->peak = value;
			ws->peak_at = m->time_us;
		}
		if (value > w->threshold && !ws->over) {
			struct limits_verdict v;

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
	while (s->start < s->n && s->e[s->start].t <= newest - s->maxw)
		s->start++;
	return (raised);
}

int
limits_message(struct limits *l, const struct track_msg *m, limits_verdict_fn cb, void *ctx)
{
	const struct conf *c = l->conf;
	char buf[BY_COUNT][SG_IDENT_KEY_MAX];
	const char *id[BY_COUNT];
	int exempt[BY_COUNT];
	size_t ri;
	int k, r, raised = 0;

	for (k = 0; k < BY_COUNT; k++) {
		id[k] = limits_ident(m, (enum conf_by)k, buf[k], sizeof(buf[k]));
		exempt[k] = id[k] != NULL &&
		    conf_exempt(c, (enum conf_by)k, strchr(id[k], ':') + 1);
	}
	for (ri = 0; ri < c->nrules; ri++) {
		const struct conf_rule *rule = &c->rules[ri];
		struct lstate *s;

		if (id[rule->by] == NULL || exempt[rule->by] ||
		    !conf_rule_match(rule, strchr(id[rule->by], ':') + 1))
			continue;
		if ((s = lstate_get(l, ri, id[rule->by])) == NULL)
			return (-1);
		if ((r = judge(l, s, m, cb, ctx)) < 0)
			return (-1);
		raised += r;
	}
	return (raised);
}

struct peak_walk {
	void (*cb)(void *, const struct limits_peak *);
	void   *ctx;
};

static int
peak_cb(void *ctx, const char *key, size_t n, void *val)
{
	struct peak_walk *pw = ctx;
	struct lstate *s = val;
	struct limits_peak p;
	size_t i;

	(void)key;
	(void)n;
	for (i = 0; i < s->rule->nwin; i++) {
		if (s->w[i].peak == 0)
			continue;
		p.identity = s->ident;
		p.rule = s->rule;
		p.win = &s->rule->win[i];
		p.peak = s->w[i].peak;
		p.at_us = s->w[i].peak_at;
		pw->cb(pw->ctx, &p);
	}
	return (0);
}

void
limits_each_peak(struct limits *l, void (*cb)(void *, const struct limits_peak *), void *ctx)
{
	struct peak_walk pw = { cb, ctx };

	hmap_each(l->states, peak_cb, &pw);
}

struct count_walk {
	struct limits *l;
	int64_t	now;
	void  (*cb)(void *, const struct limits_count *);
	void   *ctx;
};

static int
count_cb(void *ctx, const char *key, size_t n, void *val)
{
	struct count_walk *cw = ctx;
	struct lstate *s = val;
	struct limits_count c;
	size_t i, lo, last;

	(void)key;
	(void)n;
	if (s->n == s->start)
		return (0);
	last = s->n - 1;
	for (i = 0; i < s->rule->nwin; i++) {
		const struct conf_window *w = &s->rule->win[i];

		lo = first_after(s, s->n, cw->now - w->seconds * 1000000);
		if (lo > last)
			continue;
		switch (w->limit) {
		case LIM_MESSAGES:
			c.count = (long)(last - lo + 1);
			break;
		case LIM_RECIPIENTS:
			c.count = (long)(s->e[last].cum - (s->e[lo].cum - s->e[lo].nrcpt));
			break;
		case LIM_IPS:
			c.count = distinct_ips(cw->l, s, lo, last);
			break;
		default:
			c.count = 0;
		}
		if (c.count <= 0)
			continue;
		c.identity = s->ident;
		c.rule = s->rule;
		c.win = w;
		cw->cb(cw->ctx, &c);
	}
	return (0);
}

void
limits_each_count(struct limits *l, int64_t now, void (*cb)(void *, const struct limits_count *),
		  void *ctx)
{
	struct count_walk cw = { l, now, cb, ctx };

	hmap_each(l->states, count_cb, &cw);
}

static int
prune_cb(void *ctx, const char *key, size_t n, void *val)
{
	int64_t now = *(const int64_t *)ctx;
	struct lstate *s = val;

	(void)key;
	(void)n;
	if (s->n > s->start && s->e[s->n - 1].t <= now - s->maxw) {
		free(s->e);
		s->e = NULL;
		s->start = s->n = s->cap = 0;
	}
	return (0);
}

void
limits_prune(struct limits *l, int64_t now)
{
	hmap_each(l->states, prune_cb, &now);
}

size_t
limits_size(const struct limits *l)
{
	return (hmap_count(l->states));
}
