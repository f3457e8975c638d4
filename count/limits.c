/*
 * NAME
 *	limits - exact sliding-window sums (see limits.h)
 * SUMMARY
 *	Per (rule, identity) one array of the messages inside the rule's
 *	longest window, sorted by time, with a running recipient sum, and,
 *	for a rule with bounces windows, one array of bounce lines (struct
 *	series each).  The value of a window at message m is computed over
 *	[lo, m] where lo is the first entry newer than t_m - W (binary
 *	search), so windows are exact to the microsecond and need no buckets.
 *	Distinct senders and distinct client IPs are counted exactly: each
 *	entry points at its sender, or its client address (parsed: 16 bytes,
 *	IPv4 mapped into IPv6), interned in one map each (struct sname,
 *	counted references, count/limits_name.c), so two entries have the
 *	same sender or address when they hold the same pointer; no hash is
 *	taken for equality.
 *	The client addresses of every identity a rule counts are kept in
 *	count/clients.c, for the addresses a verdict names.
 *	Bounded memory: the windows' clock is the newest time seen; a sweep,
 *	run when the states and block records have doubled since the last
 *	one, frees every state whose windows are empty at that clock less
 *	LIMITS_SLACK_US (its peaks handed to the retire callback first) and
 *	drops the block records no window reaches (count/limits_block.c,
 *	which keeps the blocks and re-arming).
 *	A caller that keeps a struct limits_ref beside an identity (the audit
 *	report's row) has its states, the refusals of the match lists, its
 *	block record and its client set found through it (refs_check, valid
 *	until a sweep or a new block record: l->gen from limits_gen()).
 *	limits_ident() is in count/limits_ident.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/arr.h"
#include "util/hmap.h"
#include "count/clients.h"
#include "count/limits_priv.h"
#include "util/ident.h"

#define SWEEP_MIN 1024 /* states or records made between sweeps, at least */
#define ADDR_LEN 16    /* a client address, parsed */

struct ent {
	int64_t t;
	long nrcpt;              /* messages: its recipients; bounces: recipients bounced */
	const struct sname *ip;  /* its client address (ips windows only), NULL for none */
	const struct sname *snd; /* its sender (senders windows only), NULL for none */
	int64_t cum;             /* running nrcpt sum up to and including this entry */
};

/* Entries in time order: the live ones are e[start .. n). */
struct series {
	struct ent *e;
	size_t start, n, cap;
};

struct wstate {
	int over;
	long peak;
	int64_t peak_at;
};

struct lstate {
	const struct conf_rule *rule;
	char *ident;
	unsigned epoch;  /* of its identity's lblock when last judged */
	struct series m; /* its messages */
	struct series b; /* its bounce lines (a rule with bounces windows) */
	int msgs, bncs;  /* the rule has windows over messages, over bounces */
	int snd;         /* the rule has senders windows: entries keep their sender */
	int ips;         /* the rule has ips windows: entries keep their client address */
	int64_t maxw;    /* longest window, microseconds */
	struct wstate w[];
};

struct limits *
limits_new(const struct conf *conf)
{
	struct limits *l;

	size_t i, j;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return (NULL);
	l->conf = conf;
	l->clock = INT64_MIN;
	l->id = limits_gen();
	l->gen = limits_gen();
	if ((l->states = hmap_new()) == NULL || (l->blocks = hmap_new()) == NULL ||
	    (l->counts = hmap_new()) == NULL || (l->senders = hmap_new()) == NULL ||
	    (l->addrs = hmap_new()) == NULL || (l->clients = clients_new()) == NULL) {
		limits_free(l);
		return (NULL);
	}
	for (i = 0; i < conf->nrules; i++)
		for (j = 0; j < conf->rules[i].nwin; j++)
			if (conf->rules[i].win[j].seconds * 1000000 > l->maxw)
				l->maxw = conf->rules[i].win[j].seconds * 1000000;
	return (l);
}

/* limits_gen - a number no limits had as its id or gen before; see limits_priv.h */
uint64_t
limits_gen(void)
{
	static _Atomic uint64_t last;

	return (++last);
}

/* A message's client IP parsed at most once, for its windows and its client list. */
struct caddr {
	const char *ip; /* the message's (NULL: none) */
	int state;      /* 0 not parsed yet, 1 an IP (a), -1 not an IP */
	unsigned char a[ADDR_LEN];
};

/*
 * caddr_of - c's IP parsed (IPv4 as ::ffff:a.b.c.d, an "ipv6:" prefix
 * and case aside, util/ident's ident_ip), NULL when it is none
 */
static const unsigned char *
caddr_of(struct caddr *c)
{
	if (c->state == 0)
		c->state = ident_ip(c->ip, c->a) ? 1 : -1;
	return (c->state > 0 ? c->a : NULL);
}

/*
 * addr_get - the client IP c interned, one more reference; NULL for an IP
 * that does not parse, or ENOMEM (*oom set)
 */
static const struct sname *
addr_get(struct limits *l, struct caddr *c, int *oom)
{
	const unsigned char *a = caddr_of(c);
	const struct sname *sn;

	if (a == NULL)
		return (NULL);
	if ((sn = limits_sname_get(l->addrs, (const char *)a, ADDR_LEN)) == NULL)
		*oom = 1;
	return (sn);
}

/* drop_front - the oldest live entry of sr leaves it (its sender reference with it) */
static void
drop_front(struct limits *l, struct series *sr)
{
	limits_sname_put(l->senders, sr->e[sr->start].snd);
	limits_sname_put(l->addrs, sr->e[sr->start].ip);
	sr->start++;
}

/* series_clear - every live entry of sr leaves, its memory is freed */
static void
series_clear(struct limits *l, struct series *sr)
{
	while (sr->start < sr->n)
		drop_front(l, sr);
	free(sr->e);
	memset(sr, 0, sizeof(*sr));
}

/* lstate_free - a state; its sender references go with it (l NULL: the senders go too) */
static void
lstate_free(struct limits *l, struct lstate *s)
{
	if (s == NULL)
		return;
	if (l != NULL) {
		series_clear(l, &s->m);
		series_clear(l, &s->b);
	} else {
		free(s->m.e);
		free(s->b.e);
	}
	free(s->ident);
	free(s);
}

/* lstate_free_cb - lstate_free() as hmap_free()'s callback, at limits_free() */
static void
lstate_free_cb(void *v)
{
	lstate_free(NULL, v);
}

void
limits_free(struct limits *l)
{
	if (l == NULL)
		return;
	hmap_free(l->states, lstate_free_cb);
	hmap_free(l->blocks, free);
	hmap_free(l->counts, free);
	hmap_free(l->senders, free);
	hmap_free(l->addrs, free);
	clients_free(l->clients);
	free(l->set);
	free(l);
}

/*
 * lstate_get - the state of (rule, ident), created on first use when
 * create is set (else NULL for none); ident is idn bytes and hmap_hash h.
 * The states' key is "ri \0 ident", its hash hmap_hash_mix(h, ri) (every
 * use of l->states is here or walks it).
 */
static struct lstate *
lstate_get(struct limits *l, size_t ri, const char *ident, size_t idn, uint64_t h, int create)
{
	const struct conf_rule *rule = &l->conf->rules[ri];
	char key[IDENT_MAX];
	size_t kn, i;
	struct lstate *s;
	void **slot;
	int added, n = 0;
	size_t v = ri;

	do /* "%zu" of ri, by hand: this runs for every message and rule */
		n++;
	while ((v /= 10) != 0);
	if ((size_t)n + 1 + idn >= sizeof(key))
		return (NULL);
	for (v = ri, i = (size_t)n; i-- > 0; v /= 10)
		key[i] = (char)('0' + v % 10);
	key[n] = '\0';
	memcpy(key + n + 1, ident, idn);
	kn = (size_t)n + 1 + idn;
	h = hmap_hash_mix(h, ri);
	if (!create)
		return (hmap_get_h(l->states, h, key, kn));
	if ((slot = hmap_get_or_add_h(l->states, h, key, kn, &added)) == NULL)
		return (NULL);
	if (!added)
		return (*slot);
	if ((s = calloc(1, sizeof(*s) + rule->nwin * sizeof(struct wstate))) == NULL ||
	    (s->ident = strdup(ident)) == NULL) {
		free(s);
		hmap_del_h(l->states, h, key, kn);
		return (NULL);
	}
	s->rule = rule;
	for (i = 0; i < rule->nwin; i++) {
		if (rule->win[i].seconds * 1000000 > s->maxw)
			s->maxw = rule->win[i].seconds * 1000000;
		if (rule->win[i].limit == LIM_BOUNCES)
			s->bncs = 1;
		else
			s->msgs = 1;
		if (rule->win[i].limit == LIM_SENDERS)
			s->snd = 1;
		if (rule->win[i].limit == LIM_IPS)
			s->ips = 1;
	}
	*slot = s;
	return (s);
}

/* first_after - index of the first live entry of sr with time > t (in [start, end]) */
static size_t
first_after(const struct series *sr, size_t end, int64_t t)
{
	size_t lo = sr->start, hi = end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sr->e[mid].t > t)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (lo);
}

/*
 * ent_key - what e is told apart by: its interned client address (ips) or
 * sender (senders), as a pointer: equal keys are the same address or sender
 */
static uint64_t
ent_key(const struct ent *e, int senders)
{
	return ((uint64_t)(uintptr_t)(senders ? e->snd : e->ip));
}

/* distinct - distinct non-zero keys (ent_key) in e[lo..pos] of sr */
static long
distinct(struct limits *l, const struct series *sr, size_t lo, size_t pos, int senders)
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
		uint64_t h = ent_key(&sr->e[i], senders);

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

/* insert - add entry x to sr in time order (x.cum is set here); returns its index or -1 */
static long
insert(struct series *sr, const struct ent *x)
{
	struct ent *ne;
	size_t pos, i;

	if (sr->start > 0 && (sr->n == sr->cap || sr->start > sr->cap / 2)) {
		memmove(sr->e, sr->e + sr->start, (sr->n - sr->start) * sizeof(*sr->e));
		sr->n -= sr->start;
		sr->start = 0;
	}
	if ((ne = arr_grow(sr->e, sr->n, &sr->cap, sizeof(*sr->e), 8)) == NULL)
		return (-1);
	sr->e = ne;
	if (sr->n == sr->start || sr->e[sr->n - 1].t <= x->t)
		pos = sr->n;
	else {
		pos = first_after(sr, sr->n, x->t);
		memmove(sr->e + pos + 1, sr->e + pos, (sr->n - pos) * sizeof(*sr->e));
	}
	sr->n++;
	sr->e[pos] = *x;
	for (i = pos; i < sr->n; i++)
		sr->e[i].cum = (i > sr->start ? sr->e[i - 1].cum : 0) + sr->e[i].nrcpt;
	return ((long)pos);
}

/*
 * window_value - a window's value over the live entries lo..pos of its
 * series in s: messages, recipients, distinct client IPs, distinct
 * senders or bounced recipients; 0, or -1 on ENOMEM
 */
static int
window_value(struct limits *l, const struct lstate *s, size_t lo, size_t pos, enum conf_limit limit,
    long *value)
{
	const struct series *sr = limit == LIM_BOUNCES ? &s->b : &s->m;

	switch (limit) {
	case LIM_MESSAGES:
		*value = (long)(pos - lo + 1);
		break;
	case LIM_RECIPIENTS:
	case LIM_BOUNCES:
		*value = (long)(sr->e[pos].cum - (sr->e[lo].cum - sr->e[lo].nrcpt));
		break;
	case LIM_IPS:
	case LIM_SENDERS:
		if ((*value = distinct(l, sr, lo, pos, limit == LIM_SENDERS)) < 0)
			return (-1);
		break;
	default:
		*value = 0;
	}
	return (0);
}

/*
 * low - the first of the live entries of sr before end that is newer than
 * from and not older than armed (end when none is)
 */
static size_t
low(const struct series *sr, size_t end, int64_t from, int64_t armed)
{
	size_t lo = first_after(sr, end, from);

	if (armed != INT64_MIN) {
		size_t la = first_after(sr, end, armed - 1);

		if (la > lo)
			lo = la;
	}
	return (lo);
}

/* rearm_seen - the identity of s re-armed since s was last judged: every window starts afresh */
static void
rearm_seen(struct lstate *s, const struct lblock *b)
{
	size_t wi;

	if (b == NULL || s->epoch == b->epoch)
		return;
	for (wi = 0; wi < s->rule->nwin; wi++)
		s->w[wi].over = 0;
	s->epoch = b->epoch;
}

/*
 * raise - the verdict of window w of s at entry time t (queue ID qid),
 * naming the addresses the identity sent from in that window
 */
static void
raise_verdict(struct limits *l, const struct lstate *s, const struct conf_window *w, long value,
    int64_t t, const char *qid, int64_t armed, limits_verdict_fn cb, void *ctx)
{
	struct clients_ip list[CLIENTS_MAX];
	struct limits_verdict v;
	int64_t from = t - w->seconds * 1000000;
	size_t n;
	int cut;

	if (armed != INT64_MIN && armed - 1 > from)
		from = armed - 1;
	n = clients_list(l->clients, s->ident, from, t, list, &cut);
	memset(&v, 0, sizeof(v));
	v.identity = s->ident;
	v.rule = s->rule;
	v.win = w;
	v.count = value;
	v.time_us = t;
	v.queue_id = qid;
	v.ips = clients_join(list, n, cut, l->ips, sizeof(l->ips));
	cb(ctx, &v);
}

/*
 * judge_series - the windows of s over one series (bounces: the bounces
 * windows over s->b, else the others over s->m) at its new entry pos, of
 * time t and queue ID qid; raises their verdicts unless blocked (the
 * identity was blocked when the entry came), then drops the entries no
 * window ending at or after the newest can reach.  The number of
 * verdicts raised, or -1 on ENOMEM.
 */
static int
judge_series(struct limits *l, struct lstate *s, size_t pos, int64_t t, const char *qid,
    int bounces, limits_verdict_fn cb, void *ctx, const struct lblock *b, int blocked)
{
	const struct conf_rule *rule = s->rule;
	struct series *sr = bounces ? &s->b : &s->m;
	int64_t armed = b != NULL ? b->armed : INT64_MIN, newest;
	size_t wi, lo;
	long value;
	int raised = 0;

	for (wi = 0; wi < rule->nwin; wi++) {
		const struct conf_window *w = &rule->win[wi];
		struct wstate *ws = &s->w[wi];

		if ((w->limit == LIM_BOUNCES) != bounces)
			continue;
		lo = low(sr, pos + 1, t - w->seconds * 1000000, armed);
		if (lo > pos) /* older than the re-arm: counts for nothing */
			continue;
		if (window_value(l, s, lo, pos, w->limit, &value) < 0)
			return (-1);
		if (value > ws->peak) {
			ws->peak = value;
			ws->peak_at = t;
		}
		if (value > w->threshold && !ws->over && !blocked && cb != NULL) {
			raised++;
			raise_verdict(l, s, w, value, t, qid, armed, cb, ctx);
		}
		ws->over = value > w->threshold;
	}
	newest = sr->e[sr->n - 1].t;
	while (sr->start < sr->n &&
	    (sr->e[sr->start].t <= newest - s->maxw || sr->e[sr->start].t < armed))
		drop_front(l, sr);
	return (raised);
}

/*
 * judge - add message m (its client IP ca, parsed at most once) to s and
 * raise the verdicts of its windows; b is the block state of s's identity
 * (NULL: never blocked), blocked whether it was blocked when m arrived
 * (then nothing is raised).
 */
static int
judge(struct limits *l, struct lstate *s, const struct track_msg *m, struct caddr *ca,
    limits_verdict_fn cb, void *ctx, const struct lblock *b, int blocked)
{
	struct ent x;
	long p;
	int oom = 0;

	rearm_seen(s, b);
	if (!s->msgs)
		return (0);
	memset(&x, 0, sizeof(x));
	x.t = m->time_us;
	x.nrcpt = m->nrcpt;
	if (s->ips && (x.ip = addr_get(l, ca, &oom)) == NULL && oom)
		return (-1);
	if (s->snd && m->sender != NULL && m->sender[0] != '\0' &&
	    (x.snd = limits_sname_get(l->senders, m->sender, strlen(m->sender))) == NULL) {
		limits_sname_put(l->addrs, x.ip);
		return (-1);
	}
	if ((p = insert(&s->m, &x)) < 0) {
		limits_sname_put(l->senders, x.snd);
		limits_sname_put(l->addrs, x.ip);
		return (-1);
	}
	return (judge_series(l, s, (size_t)p, m->time_us, m->queue_id, 0, cb, ctx, b, blocked));
}

/* judge_bounce - add n bounced recipients of o's message to s; as judge() */
static int
judge_bounce(struct limits *l, struct lstate *s, const struct track_outcome *o,
    limits_verdict_fn cb, void *ctx, const struct lblock *b, int blocked)
{
	struct ent x;
	long p;

	rearm_seen(s, b);
	if (!s->bncs)
		return (0);
	memset(&x, 0, sizeof(x));
	x.t = o->time_us;
	x.nrcpt = o->n;
	if ((p = insert(&s->b, &x)) < 0)
		return (-1);
	return (
	    judge_series(l, s, (size_t)p, o->time_us, o->msg->queue_id, 1, cb, ctx, b, blocked));
}

/*
 * The identities of one message, as the rules see them at log time t,
 * each with its length and hmap_hash, taken once for the blocks, the
 * states and the client addresses
 */
struct idents {
	const char *id[BY_COUNT]; /* the msgid's; NULL: the message has none of that kind */
	size_t n[BY_COUNT];
	uint64_t h[BY_COUNT]; /* 0: not taken yet (idents_hash) */
	struct lblock *blk[BY_COUNT];
	int exempt[BY_COUNT], blocked[BY_COUNT];
	struct limits_ref *ref[BY_COUNT]; /* the caller's, or NULL */
};

/* idents_hash - the hmap_hash of is's identity of kind k, taken on first use */
static uint64_t
idents_hash(struct idents *is, int k)
{
	if (is->h[k] == 0)
		is->h[k] = hmap_hash(is->id[k], is->n[k]);
	return (is->h[k]);
}

/* idents_of - a message's identities, whether each is exempt and blocked at t (blocks ending by then end) */
static void
idents_of(struct limits *l, const struct msgid *ids, const uint64_t idh[BY_COUNT], int64_t t,
    struct idents *is)
{
	int k;

	for (k = 0; k < BY_COUNT; k++) {
		struct limits_ref *r = is->ref[k];

		is->id[k] = ids->id[k];
		is->exempt[k] = msgid_exempt(ids, l->conf, k);
		is->blk[k] = NULL;
		is->blocked[k] = 0;
		if (is->id[k] == NULL || is->exempt[k])
			continue;
		is->n[k] = ids->len[k];
		is->h[k] = idh != NULL ? idh[k] : 0;
		if (!limits_blk_may(l, k))
			continue;
		if (r != NULL && r->blk_known) {
			is->blk[k] = r->blk;
		} else {
			is->blk[k] = limits_blk_get_h(l, is->id[k], is->n[k], idents_hash(is, k));
			if (r != NULL) {
				r->blk = is->blk[k];
				r->blk_known = 1;
			}
		}
		if (is->blk[k] != NULL) {
			limits_blk_expire(is->blk[k], t);
			is->blocked[k] = is->blk[k]->active;
		}
	}
}

/*
 * refs_check - is's refs made good for l: one of another limits starts
 * over, one of an older generation keeps only the refusals of the match
 * lists (a rule's match of an identity does not change)
 */
static void
refs_check(const struct limits *l, struct idents *is)
{
	int k;

	for (k = 0; k < BY_COUNT; k++) {
		struct limits_ref *r = is->ref[k];

		if (r == NULL || (r->owner == l->id && r->gen == l->gen))
			continue;
		if (r->owner != l->id) {
			memset(r, 0, sizeof(*r));
			r->owner = l->id;
		}
		memset(r->st, 0, sizeof(r->st));
		r->blk = NULL;
		r->blk_known = 0;
		r->gen = l->gen;
	}
}

/*
 * state_of - the state of rule ri for is's identity, NULL when the rule
 * does not apply.  A state is made only for an identity the rule's match
 * took, so for a rule with a match list an existing state is looked for
 * first: the patterns run once per identity and window, not per message.
 */
static struct lstate *
state_of(struct limits *l, size_t ri, struct idents *is, int *oom)
{
	const struct conf_rule *rule = &l->conf->rules[ri];
	int k = (int)rule->by;
	const char *id = is->id[k];
	struct limits_ref *r = ri < LIMITS_REF_RULES ? is->ref[k] : NULL;
	struct lstate *s;

	if (id == NULL || is->exempt[k])
		return (NULL);
	if (r != NULL && (r->nomatch & 1u << ri))
		return (NULL);
	if (r != NULL && r->st[ri] != NULL)
		return (r->st[ri]);
	if ((rule->nmatch != 0 || rule->ncidr != 0) &&
	    (s = lstate_get(l, ri, id, is->n[k], idents_hash(is, k), 0)) != NULL)
		return (r != NULL ? r->st[ri] = s : s);
	if (!conf_rule_match(rule, strchr(id, ':') + 1)) {
		if (r != NULL)
			r->nomatch |= 1u << ri;
		return (NULL);
	}
	if ((s = lstate_get(l, ri, id, is->n[k], idents_hash(is, k), 1)) == NULL)
		*oom = 1;
	else if (r != NULL)
		r->st[ri] = s;
	return (s);
}

static void tick(struct limits *, int64_t);

/* add_client - m's client address to identity k of is (the caller checked it) */
static int
add_client(struct limits *l, struct idents *is, int k, const struct track_msg *m)
{
	struct limits_ref *r = is->ref[k];

	/* the hash is taken there only if the ref is not good */
	return (clients_add_ref(l->clients, r != NULL ? &r->cl : NULL, is->id[k], is->n[k],
	    is->h[k], m->client_ip, m->time_us));
}

int
limits_message(struct limits *l, const struct track_msg *m, limits_verdict_fn cb, void *ctx)
{
	struct msgid ids;

	msgid_make(&ids, l->conf, m);
	return (limits_message_ids(l, m, &ids, NULL, cb, ctx));
}

int
limits_message_ids(struct limits *l, const struct track_msg *m, const struct msgid *ids,
    const uint64_t idh[BY_COUNT], limits_verdict_fn cb, void *ctx)
{
	struct limits_ref *const none[BY_COUNT] = { NULL };

	return (limits_message_refs(l, m, ids, idh, none, cb, ctx));
}

int
limits_message_refs(struct limits *l, const struct track_msg *m, const struct msgid *ids,
    const uint64_t idh[BY_COUNT], struct limits_ref *const ref[BY_COUNT], limits_verdict_fn cb,
    void *ctx)
{
	struct idents is;
	struct caddr ca = { m->client_ip, 0, { 0 } };
	unsigned kinds = 0;
	size_t ri;
	int r, raised = 0, oom = 0, ipok = -1; /* -1: not checked yet */

	tick(l, m->time_us); /* a sweep first: the refs are checked after it */
	memcpy(is.ref, ref, sizeof(is.ref));
	refs_check(l, &is);
	idents_of(l, ids, idh, m->time_us, &is);
	for (ri = 0; ri < l->conf->nrules; ri++) {
		const struct conf_rule *rule = &l->conf->rules[ri];
		struct lstate *s = state_of(l, ri, &is, &oom);

		if (oom)
			return (-1);
		if (s == NULL)
			continue;
		/* the identity's address first: a verdict of this message names it */
		if (!(kinds & 1u << rule->by)) {
			kinds |= 1u << rule->by;
			if (ipok < 0)
				ipok = clients_ip_fits(m->client_ip, caddr_of(&ca) != NULL);
			if (ipok && add_client(l, &is, (int)rule->by, m) < 0)
				return (-1);
		}
		if ((r = judge(l, s, m, &ca, cb, ctx, is.blk[rule->by], is.blocked[rule->by])) < 0)
			return (-1);
		raised += r;
	}
	return (raised);
}

int
limits_outcome(struct limits *l, const struct track_outcome *o, limits_verdict_fn cb, void *ctx)
{
	struct msgid ids;
	struct idents is;
	size_t ri;
	int r, raised = 0, oom = 0;

	if (o->status != TRACK_BOUNCED || o->n <= 0)
		return (0);
	tick(l, o->time_us);
	msgid_make(&ids, l->conf, o->msg);
	memset(is.ref, 0, sizeof(is.ref));
	idents_of(l, &ids, NULL, o->time_us, &is);
	for (ri = 0; ri < l->conf->nrules; ri++) {
		const struct conf_rule *rule = &l->conf->rules[ri];
		struct lstate *s = state_of(l, ri, &is, &oom);

		if (oom)
			return (-1);
		if (s == NULL)
			continue;
		if ((r = judge_bounce(l, s, o, cb, ctx, is.blk[rule->by], is.blocked[rule->by])) <
		    0)
			return (-1);
		raised += r;
	}
	return (raised);
}

/* limits_ips - identity's client IPs within the longest window ending at to; see limits.h */
const char *
limits_ips(struct limits *l, const char *identity, int64_t to, char *buf, size_t len)
{
	struct clients_ip list[CLIENTS_MAX];
	size_t n;
	int cut;

	n = clients_list(l->clients, identity, to - l->maxw, to, list, &cut);
	return (clients_join(list, n, cut, buf, len));
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
	const struct series *sr;
	size_t i, lo;
	int64_t armed;

	armed = limits_armed_at(limits_blk_get(w->l, s->ident), w->now);
	for (i = 0; i < s->rule->nwin; i++) {
		const struct conf_window *win = &s->rule->win[i];

		sr = win->limit == LIM_BOUNCES ? &s->b : &s->m;
		if (sr->n == sr->start)
			continue;
		lo = low(sr, sr->n, w->now - win->seconds * 1000000, armed);
		if (lo > sr->n - 1)
			continue;
		if (window_value(w->l, s, lo, sr->n - 1, win->limit, &c.count) < 0 || c.count <= 0)
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

/* prune_state - free the entries of a series of s whose newest is older than its longest window */
static void
prune_state(struct walk *w, struct lstate *s)
{
	if (s->m.n > s->m.start && s->m.e[s->m.n - 1].t <= w->now - s->maxw)
		series_clear(w->l, &s->m);
	if (s->b.n > s->b.start && s->b.e[s->b.n - 1].t <= w->now - s->maxw)
		series_clear(w->l, &s->b);
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
	int64_t edge = w->now - LIMITS_SLACK_US - s->maxw;

	(void)key;
	(void)n;
	if ((s->m.n > s->m.start && s->m.e[s->m.n - 1].t > edge) ||
	    (s->b.n > s->b.start && s->b.e[s->b.n - 1].t > edge))
		return (0);
	if (w->l->retire != NULL) {
		w->peak = w->l->retire;
		w->ctx = w->l->retire_ctx;
		peak_state(w, s);
	}
	lstate_free(w->l, s);
	return (1);
}

/* sweep - free what the windows' clock, at now, has left behind */
static void
sweep(struct limits *l, int64_t now)
{
	struct walk w = { .l = l, .now = now };

	if (now == INT64_MIN)
		return;
	l->gen = limits_gen(); /* a struct limits_ref may point at what goes */
	hmap_sweep(l->states, drop_state, &w);
	limits_blk_sweep(l, now);
	clients_prune(l->clients, now - LIMITS_SLACK_US - l->maxw);
	l->swept_left = hmap_count(l->states) + hmap_count(l->blocks);
}

/*
 * tick - the windows' clock to t; a sweep when the states and records are
 * twice what the last one left (at least SWEEP_MIN more), so the new ones
 * pay for it and at most half of what is held has expired
 */
static void
tick(struct limits *l, int64_t t)
{
	if (t > l->clock)
		l->clock = t;
	if (hmap_count(l->states) + hmap_count(l->blocks) >=
	    (l->swept_left > SWEEP_MIN ? 2 * l->swept_left : l->swept_left + SWEEP_MIN))
		sweep(l, l->clock);
}

void
limits_prune(struct limits *l, int64_t now)
{
	struct walk w = { .l = l, .state = prune_state };

	/* capped at the windows' clock: a lagging log still counts what its next lines reach */
	w.now = now < l->clock ? now : l->clock;
	if (w.now == INT64_MIN)
		return;
	hmap_each(l->states, each_state, &w);
	sweep(l, w.now);
}

size_t
limits_size(const struct limits *l)
{
	return (hmap_count(l->states));
}

/* state_bytes_cb - hmap_each: what one state holds, about, into *ctx */
static int
state_bytes_cb(void *ctx, const char *key, size_t n, void *val)
{
	const struct lstate *s = val;

	(void)key;
	*(size_t *)ctx += sizeof(*s) + s->rule->nwin * sizeof(struct wstate) + n + 1 +
	    strlen(s->ident) + 1 + LIMITS_HMAP_SLOT + 3 * LIMITS_MALLOC_OVH +
	    (s->m.cap + s->b.cap) * sizeof(struct ent);
	return (0);
}

size_t
limits_bytes(const struct limits *l)
{
	struct limits_sum names = { 0,
		sizeof(struct sname) + LIMITS_HMAP_SLOT + 2 * LIMITS_MALLOC_OVH };
	size_t n = 0;

	hmap_each(l->states, state_bytes_cb, &n);
	hmap_each(l->senders, limits_sum_cb, &names);
	hmap_each(l->addrs, limits_sum_cb, &names);
	return (n + names.bytes + limits_blk_bytes(l));
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
