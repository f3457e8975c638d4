/*
 * NAME
 *	limits - exact sliding-window sums (see limits.h)
 * SUMMARY
 *	Per (rule, identity) one array of the messages inside the rule's
 *	longest window, sorted by time, with a running recipient sum.  The
 *	value of a window at message m is computed over [lo, m] where lo is
 *	the first entry newer than t_m - W (binary search), so windows are
 *	exact to the microsecond and need no buckets.
 *	Distinct IPs: a rule with an `ips` window keeps each entry's client
 *	address (16 bytes, IPv4 mapped into IPv6) beside it, and each such
 *	window a running multiset of the addresses in its range (a struct
 *	hcount of util/hmap: address -> how many entries), moved along as messages come in
 *	time order, so a message costs the entries that left the window,
 *	not the window.  A message inserted out of order, or a count at
 *	another time (status), counts a scratch set over its range instead.
 *	Blocks are kept per identity (struct lblock, only for identities that
 *	were blocked lately): a re-arm bumps the block's epoch and moves its
 *	armed time; each (rule, identity) state notices the new epoch at its
 *	next message and clears its "over" marks, and every window's lower
 *	bound is at least the armed time.
 *	sweep() frees what the windows' clock has left behind (see limits.h).
 * RETURNS
 *	See limits.h.
 * UNTRUSTED INPUT
 *	Identities and client IPs from the log.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/arr.h"
#include "util/hmap.h"
#include "count/limits.h"
#include "util/ident.h"

#define SWEEP_MIN 1024          /* states or records made between sweeps, at least */
#define FIRST_ROOM 2            /* entries of a new state: most identities send one message */
#define HMAP_SLOT ((size_t)48)  /* what one entry of a util/hmap costs beside its key, about */
#define MALLOC_OVH ((size_t)16) /* what one allocation costs beside its bytes, about */
/* what an entry of the counts table costs, its key n bytes */
#define COUNT_BYTES(n) ((n) + 1 + HMAP_SLOT + 2 * MALLOC_OVH + sizeof(long))

struct ent {
	int64_t t;
	long nrcpt;
	int64_t cum; /* running recipient sum up to and including this entry */
};

/* A client address; all zero bytes: none. */
struct addr {
	unsigned char a[16];
};

/* The running distinct count of one ips window: the addresses of entries [lo, hi). */
struct ipwin {
	struct hcount set;
	size_t lo, hi;
	int ok; /* lo, hi and set agree with the entries */
};

struct wstate {
	int over;
	long peak;
	int64_t peak_at;
	struct ipwin *iw; /* ips windows only, made at first use */
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
	struct addr *ip;      /* beside e when ips is set; else NULL */
	size_t start, n, cap; /* live entries are e[start .. n) */
	size_t ipcap;         /* room of ip */
	int ips;              /* the rule has an ips window: keep the addresses */
	int64_t maxw;         /* longest window, microseconds */
	struct wstate w[];
};

struct limits {
	const struct conf *conf;
	struct hmap *states;   /* "ruleindex\0identity" -> struct lstate */
	struct hmap *blocks;   /* identity -> struct lblock */
	struct hmap *counts;   /* identity -> long times (allocated), of dropped records */
	struct hcount scratch; /* distinct IPs counted outside a running window */
	int64_t clock;         /* newest message time seen */
	int64_t maxw;          /* longest window of any rule */
	size_t swept_left;     /* states and records the last sweep left */
	size_t bytes;          /* held by states, entries and records, about */
	void (*retire)(void *, const struct limits_peak *);
	void *retire_ctx;
	long (*times)(void *, const char *);
	void *times_ctx;
};

/* addr_parse - the client IP s as 16 bytes (IPv4 as ::ffff:a.b.c.d); all zero if it is none */
static void
addr_parse(const char *s, struct addr *out)
{
	unsigned char v4[4];

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return;
	if (strncasecmp(s, "ipv6:", 5) == 0)
		s += 5;
	if (strchr(s, ':') != NULL) {
		if (inet_pton(AF_INET6, s, out->a) != 1)
			memset(out, 0, sizeof(*out));
	} else if (inet_pton(AF_INET, s, v4) == 1) {
		out->a[10] = 0xff;
		out->a[11] = 0xff;
		memcpy(out->a + 12, v4, 4);
	}
}

/* addr_none - a is no address */
static int
addr_none(const struct addr *a)
{
	static const struct addr zero;

	return (memcmp(a, &zero, sizeof(zero)) == 0);
}

struct limits *
limits_new(const struct conf *conf)
{
	struct limits *l;
	size_t i, j;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return (NULL);
	l->conf = conf;
	l->clock = INT64_MIN;
	for (i = 0; i < conf->nrules; i++)
		for (j = 0; j < conf->rules[i].nwin; j++)
			if (conf->rules[i].win[j].seconds * 1000000 > l->maxw)
				l->maxw = conf->rules[i].win[j].seconds * 1000000;
	if ((l->states = hmap_new()) == NULL || (l->blocks = hmap_new()) == NULL ||
	    (l->counts = hmap_new()) == NULL) {
		limits_free(l);
		return (NULL);
	}
	return (l);
}

static void
lstate_free(void *v)
{
	struct lstate *s = v;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->rule->nwin; i++)
		if (s->w[i].iw != NULL) {
			hcount_free(&s->w[i].iw->set);
			free(s->w[i].iw);
		}
	free(s->e);
	free(s->ip);
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
	hmap_free(l->counts, free);
	hcount_free(&l->scratch);
	free(l);
}

/* limits_ident - "kind:value" of m for kind by (the kinds of util/ident, in its order) */
const char *
limits_ident(const struct track_msg *m, enum conf_by by, char *buf, size_t len)
{
	const char *v = NULL, *prefix = ident_prefix((enum ident_kind)by);
	char uid[24];
	int n;

	if (by == BY_SASL || by == BY_SASL_DOMAIN)
		v = by == BY_SASL ? m->sasl : ident_domain(m->sasl);
	else if (by == BY_SENDER || by == BY_SENDER_DOMAIN)
		v = by == BY_SENDER ? m->sender : ident_domain(m->sender);
	else if (by == BY_IP)
		v = m->client_ip;
	else if (by == BY_UID && m->uid >= 0 && snprintf(uid, sizeof(uid), "%ld", m->uid) > 0)
		v = uid;
	if (v == NULL || prefix == NULL || (v[0] == '\0' && by != BY_SASL) ||
	    (n = snprintf(buf, len, "%s%s", prefix, v)) < 0 || (size_t)n >= len)
		return (NULL);
	return (buf);
}

/* state_bytes - what a state of rule costs before its entries, about */
static size_t
state_bytes(const struct conf_rule *rule, size_t idn)
{
	return (sizeof(struct lstate) + rule->nwin * sizeof(struct wstate) + 2 * (idn + 1) + 24 +
	    HMAP_SLOT + 3 * MALLOC_OVH);
}

/* lstate_get - the state of (rule, ident), created on first use */
static struct lstate *
lstate_get(struct limits *l, size_t ri, const char *ident)
{
	const struct conf_rule *rule = &l->conf->rules[ri];
	char key[IDENT_MAX + 24];
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
	for (i = 0; i < rule->nwin; i++) {
		if (rule->win[i].seconds * 1000000 > s->maxw)
			s->maxw = rule->win[i].seconds * 1000000;
		if (rule->win[i].limit == LIM_IPS)
			s->ips = 1;
	}
	l->bytes += state_bytes(rule, idn);
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

/* set_add - one more address a in c, its growth counted in l->bytes; -1 on ENOMEM */
static int
set_add(struct limits *l, struct hcount *c, const struct addr *a)
{
	size_t before = hcount_bytes(c);

	if (hcount_add(c, a->a) < 0)
		return (-1);
	l->bytes += hcount_bytes(c) - before;
	return (0);
}

/* ips_scratch - distinct addresses of the entries lo..pos, counted afresh; -1 on ENOMEM */
static long
ips_scratch(struct limits *l, const struct lstate *s, size_t lo, size_t pos)
{
	size_t i;

	hcount_clear(&l->scratch);
	for (i = lo; i <= pos; i++)
		if (!addr_none(&s->ip[i]) && set_add(l, &l->scratch, &s->ip[i]) < 0)
			return (-1);
	return ((long)l->scratch.distinct);
}

/*
 * ips_running - the distinct addresses of entries lo..pos of window ws,
 * pos being the newest entry: the window's running set moves from its
 * old range to [lo, pos], or is rebuilt when the two do not follow on
 * (first use, an insertion out of order, a re-arm); -1 on ENOMEM
 */
static long
ips_running(struct limits *l, struct lstate *s, struct wstate *ws, size_t lo, size_t pos)
{
	struct ipwin *iw = ws->iw;
	size_t i;

	if (iw == NULL && lo == pos) /* one entry: no set needed yet */
		return (addr_none(&s->ip[pos]) ? 0 : 1);
	if (iw == NULL) {
		if ((iw = ws->iw = calloc(1, sizeof(*iw))) == NULL)
			return (-1);
		l->bytes += sizeof(*iw) + MALLOC_OVH;
	}
	if (!iw->ok || lo < iw->lo || iw->hi != pos) {
		hcount_clear(&iw->set);
		iw->lo = iw->hi = lo;
		iw->ok = 1;
	}
	for (; iw->lo < lo; iw->lo++)
		hcount_del(&iw->set, s->ip[iw->lo].a);
	for (i = iw->hi; i <= pos; i++)
		if (!addr_none(&s->ip[i]) && set_add(l, &iw->set, &s->ip[i]) < 0) {
			iw->ok = 0;
			return (-1);
		}
	iw->hi = pos + 1;
	return ((long)iw->set.distinct);
}

/*
 * iw_shift - the entries moved down by `by` (by 0: moved otherwise): the
 * running sets follow, or are rebuilt at their next use
 */
static void
iw_shift(struct lstate *s, size_t by)
{
	struct ipwin *iw;
	size_t i;

	for (i = 0; i < s->rule->nwin; i++) {
		if ((iw = s->w[i].iw) == NULL)
			continue;
		if (by > 0 && iw->ok && iw->lo >= by) {
			iw->lo -= by;
			iw->hi -= by;
		} else
			iw->ok = 0;
	}
}

/* room - room for one more entry (and its address); -1 on ENOMEM */
static int
room(struct limits *l, struct lstate *s)
{
	size_t cap = s->cap, ipcap = s->ipcap;
	struct ent *ne;
	struct addr *na;

	if ((ne = arr_grow(s->e, s->n, &s->cap, sizeof(*s->e), FIRST_ROOM)) == NULL)
		return (-1);
	s->e = ne;
	l->bytes += (s->cap - cap) * sizeof(*s->e);
	if (!s->ips)
		return (0);
	if ((na = arr_grow(s->ip, s->n, &s->ipcap, sizeof(*s->ip), FIRST_ROOM)) == NULL)
		return (-1);
	s->ip = na;
	l->bytes += (s->ipcap - ipcap) * sizeof(*s->ip);
	return (0);
}

/* insert - add (t, nrcpt, ip) in time order; returns its index or -1 */
static long
insert(struct limits *l, struct lstate *s, int64_t t, long nrcpt, const char *ip)
{
	size_t pos, i, by = s->start;

	if (by > 0 && (s->n == s->cap || by > s->cap / 2)) {
		memmove(s->e, s->e + by, (s->n - by) * sizeof(*s->e));
		if (s->ip != NULL)
			memmove(s->ip, s->ip + by, (s->n - by) * sizeof(*s->ip));
		s->n -= by;
		s->start = 0;
		iw_shift(s, by);
	}
	if (room(l, s) < 0)
		return (-1);
	if (s->n == s->start || s->e[s->n - 1].t <= t)
		pos = s->n;
	else {
		pos = first_after(s, s->n, t);
		memmove(s->e + pos + 1, s->e + pos, (s->n - pos) * sizeof(*s->e));
		if (s->ip != NULL)
			memmove(s->ip + pos + 1, s->ip + pos, (s->n - pos) * sizeof(*s->ip));
		iw_shift(s, 0);
	}
	s->n++;
	s->e[pos].t = t;
	s->e[pos].nrcpt = nrcpt;
	if (s->ip != NULL)
		addr_parse(ip, &s->ip[pos]);
	for (i = pos; i < s->n; i++)
		s->e[i].cum = (i > s->start ? s->e[i - 1].cum : 0) + s->e[i].nrcpt;
	return ((long)pos);
}

/*
 * window_value - a window's value over the live entries lo..pos of s:
 * messages, recipients or distinct client IPs (running when ws is given
 * and pos is the newest entry); 0, or -1 on ENOMEM
 */
static int
window_value(struct limits *l, struct lstate *s, struct wstate *ws, size_t lo, size_t pos,
    enum conf_limit limit, long *value)
{
	switch (limit) {
	case LIM_MESSAGES:
		*value = (long)(pos - lo + 1);
		break;
	case LIM_RECIPIENTS:
		*value = (long)(s->e[pos].cum - (s->e[lo].cum - s->e[lo].nrcpt));
		break;
	case LIM_IPS:
		*value = ws != NULL && pos + 1 == s->n ? ips_running(l, s, ws, lo, pos)
						       : ips_scratch(l, s, lo, pos);
		if (*value < 0)
			return (-1);
		break;
	default:
		*value = 0;
	}
	return (0);
}

/* blk_get - the block state of ident, NULL when it was not blocked lately */
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
 * state of s's identity (NULL: not blocked lately), blocked whether it was
 * blocked when m arrived (then nothing is raised).
 */
static int
judge(struct limits *l, struct lstate *s, const struct track_msg *m, limits_verdict_fn cb,
    void *ctx, const struct lblock *b, int blocked)
{
	const struct conf_rule *rule = s->rule;
	int64_t armed = b != NULL ? b->armed : INT64_MIN, newest;
	size_t wi, lo, pos;
	long p, value;
	int raised = 0;

	if (b != NULL && s->epoch != b->epoch) {
		/* re-armed since s was last judged: every window starts afresh */
		for (wi = 0; wi < rule->nwin; wi++)
			s->w[wi].over = 0;
		s->epoch = b->epoch;
		iw_shift(s, 0);
	}
	if ((p = insert(l, s, m->time_us, m->nrcpt, m->client_ip)) < 0)
		return (-1);
	pos = (size_t)p;
	for (wi = 0; wi < rule->nwin; wi++) {
		const struct conf_window *w = &rule->win[wi];
		struct wstate *ws = &s->w[wi];

		lo = low(s, pos + 1, m->time_us - w->seconds * 1000000, armed);
		if (lo > pos) /* older than the re-arm: counts for nothing */
			continue;
		if (window_value(l, s, ws, lo, pos, w->limit, &value) < 0)
			return (-1);
		if (value > ws->peak) {
			ws->peak = value;
			ws->peak_at = m->time_us;
		}
		if (value > w->threshold && !ws->over && !blocked && cb != NULL) {
			const struct limits_verdict v = { .identity = s->ident,
				.rule = rule,
				.win = w,
				.count = value,
				.time_us = m->time_us,
				.queue_id = m->queue_id };

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

static void sweep(struct limits *, int64_t now);

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

	if (m->time_us > l->clock)
		l->clock = m->time_us;
	/*
	 * a sweep costs what it walks: it waits until the states and records
	 * are twice what the last one left (at least SWEEP_MIN more), so the
	 * new ones pay for it and at most half of what is held has expired
	 */
	if (hmap_count(l->states) + hmap_count(l->blocks) >=
	    (l->swept_left > SWEEP_MIN ? 2 * l->swept_left : l->swept_left + SWEEP_MIN))
		sweep(l, l->clock);
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
		if (window_value(w->l, s, NULL, lo, last, win->limit, &c.count) < 0 || c.count <= 0)
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

/* lstate_bytes - what s holds, about (the inverse of what lstate_get and insert add) */
static size_t
lstate_bytes(const struct lstate *s)
{
	size_t i, n = state_bytes(s->rule, strlen(s->ident));

	n += s->cap * sizeof(*s->e) + s->ipcap * sizeof(*s->ip);
	for (i = 0; i < s->rule->nwin; i++)
		if (s->w[i].iw != NULL)
			n += sizeof(*s->w[i].iw) + MALLOC_OVH + hcount_bytes(&s->w[i].iw->set);
	return (n);
}

/*
 * drop_state - hmap_sweep: free s when no window of it reaches past
 * now - LIMITS_SLACK_US (a message emitted that late still finds it),
 * its peaks handed to the retire callback first
 */
static int
drop_state(void *ctx, const char *key, size_t n, void *val)
{
	struct walk *w = ctx;
	struct lstate *s = val;

	(void)key;
	(void)n;
	if (s->n > s->start && s->e[s->n - 1].t > w->now - LIMITS_SLACK_US - s->maxw)
		return (0);
	if (w->l->retire != NULL) {
		w->peak = w->l->retire;
		w->ctx = w->l->retire_ctx;
		peak_state(w, s);
	}
	w->l->bytes -= lstate_bytes(s);
	lstate_free(s);
	return (1);
}

/* blk_bytes - what the record of identity key (n bytes) costs, about */
static size_t
blk_bytes(size_t n)
{
	return (sizeof(struct lblock) + n + 1 + HMAP_SLOT + 2 * MALLOC_OVH);
}

/* count_put - times into the counts table for identity key (n bytes); -1 on ENOMEM */
static int
count_put(struct limits *l, const char *key, size_t n, long times)
{
	void **slot;
	int added;

	if ((slot = hmap_get_or_add(l->counts, key, n, &added)) == NULL)
		return (-1);
	if (added && (*slot = malloc(sizeof(long))) == NULL) {
		hmap_del(l->counts, key, n);
		return (-1);
	}
	l->bytes += added ? COUNT_BYTES(n) : 0;
	*(long *)*slot = times;
	return (0);
}

/*
 * drop_block - hmap_sweep: forget the record of an identity not blocked
 * whose last block ended before every window that ends at now - slack
 * begins; the number of its blocks goes to the counts table unless a
 * times source knows it
 */
static int
drop_block(void *ctx, const char *key, size_t n, void *val)
{
	struct walk *w = ctx;
	struct limits *l = w->l;
	struct lblock *b = val;
	int64_t ended = b->active ? b->until : b->armed, horizon = w->now - LIMITS_SLACK_US;

	if ((b->active && (b->until == 0 || b->until > horizon)) ||
	    (ended != INT64_MIN && ended > horizon - l->maxw))
		return (0);
	if (l->times == NULL && b->times > 0 && count_put(l, key, n, b->times) < 0)
		return (0); /* out of memory: keep the record */
	l->bytes -= blk_bytes(n);
	free(b);
	return (1);
}

/* sweep - free what the windows' clock, at now, has left behind */
static void
sweep(struct limits *l, int64_t now)
{
	struct walk w = { .l = l, .now = now };

	if (now == INT64_MIN)
		return;
	hmap_sweep(l->states, drop_state, &w);
	hmap_sweep(l->blocks, drop_block, &w);
	l->swept_left = hmap_count(l->states) + hmap_count(l->blocks);
}

void
limits_prune(struct limits *l, int64_t now)
{
	sweep(l, now < l->clock ? now : l->clock);
}

size_t
limits_size(const struct limits *l)
{
	return (hmap_count(l->states));
}

size_t
limits_blocks(const struct limits *l)
{
	return (hmap_count(l->blocks));
}

size_t
limits_bytes(const struct limits *l)
{
	return (l->bytes);
}

int64_t
limits_clock(const struct limits *l)
{
	return (l->clock);
}

void
limits_set_retire(struct limits *l, void (*cb)(void *, const struct limits_peak *), void *ctx)
{
	l->retire = cb;
	l->retire_ctx = ctx;
}

void
limits_set_times(struct limits *l, long (*fn)(void *, const char *), void *ctx)
{
	l->times = fn;
	l->times_ctx = ctx;
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

/*
 * blk_add - the block state of ident, created on first use: never
 * blocked, nothing cut, or as many blocks as a dropped record of it had
 */
static struct lblock *
blk_add(struct limits *l, const char *ident)
{
	size_t n = strlen(ident);
	void **slot;
	long *t;
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
		if (hmap_count(l->counts) > 0 && (t = hmap_del(l->counts, ident, n)) != NULL) {
			b->times = *t;
			free(t);
			l->bytes -= COUNT_BYTES(n);
		}
		l->bytes += blk_bytes(n);
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
	const struct lblock *b;
	const long *t;

	if (l->times != NULL)
		return (l->times(l->times_ctx, identity));
	if ((b = blk_get(l, identity)) != NULL)
		return (b->times);
	if (hmap_count(l->counts) == 0 ||
	    (t = hmap_get(l->counts, identity, strlen(identity))) == NULL)
		return (0);
	return (*t);
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
	if (added) {
		if ((*slot = calloc(1, sizeof(struct lblock))) == NULL) {
			hmap_del(dst->blocks, key, n);
			return (1);
		}
		dst->bytes += blk_bytes(n);
	}
	b = *slot;
	*b = *src;
	b->epoch++;
	return (0);
}

static int
copy_count_cb(void *ctx, const char *key, size_t n, void *val)
{
	return (count_put(ctx, key, n, *(const long *)val) < 0);
}

int
limits_copy_blocks(struct limits *dst, const struct limits *src)
{
	if (src->clock > dst->clock)
		dst->clock = src->clock;
	if (hmap_each(src->blocks, copy_cb, dst) != 0 ||
	    hmap_each(src->counts, copy_count_cb, dst) != 0)
		return (-1);
	return (0);
}
