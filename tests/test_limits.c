/*
 * test_limits - exact sliding windows: verdicts at the right message,
 * peaks, exemptions, globs; and a randomized check against brute force.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "count/limits.h"
#include "count/limits_priv.h"

#define SEC(n) ((int64_t)(n) * 1000000)

struct vlog {
	int	n;
	char	ident[32][128];
	char	qid[32][32];
	long	count[32];
	int	limit[32];
};

static void
on_verdict(void *ctx, const struct limits_verdict *v)
{
	struct vlog *l = ctx;

	if (l->n >= 32)
		return;
	snprintf(l->ident[l->n], sizeof(l->ident[0]), "%s", v->identity);
	snprintf(l->qid[l->n], sizeof(l->qid[0]), "%s", v->queue_id);
	l->count[l->n] = v->count;
	l->limit[l->n] = (int)v->win->limit;
	l->n++;
}

/* one_rule - a config with one rule; windows as (limit, threshold, seconds) triples */
static struct conf *
one_rule(enum conf_by by, const char *match, int nwin, const long (*w)[3])
{
	struct conf *c = conf_default();
	struct conf_rule *r;
	int i;

	cr_assert_not_null(c);
	c->rules = calloc(1, sizeof(*c->rules));
	c->nrules = 1;
	r = &c->rules[0];
	snprintf(r->name, sizeof(r->name), "r");
	r->by = by;
	if (match) {
		r->match = calloc(1, sizeof(char *));
		r->match[0] = strdup(match);
		r->nmatch = 1;
	}
	for (i = 0; i < nwin; i++) {
		r->win[i].limit = (enum conf_limit)w[i][0];
		r->win[i].threshold = w[i][1];
		r->win[i].seconds = w[i][2];
	}
	r->nwin = (size_t)nwin;
	return (c);
}

static struct track_msg
msg(int64_t t, const char *qid, const char *sasl, const char *ip, long nrcpt)
{
	struct track_msg m;

	memset(&m, 0, sizeof(m));
	m.time_us = t;
	m.host = "mx";
	m.instance = "postfix";
	m.queue_id = qid;
	m.sasl = sasl;
	m.client_ip = ip;
	m.uid = -1;
	m.nrcpt = nrcpt;
	return (m);
}

struct row {
	const char *name;
	long	win[3];			/* limit, threshold, seconds */
	int	n;
	long	sec[8];			/* message times (s) */
	const char *ip[8];
	long	rcpt[8];
	const char *want;		/* queue IDs of verdicts, "m<i>" for message i */
};

Test(limits, table)
{
	static const struct row tab[] = {
	{ "4th message in an hour crosses 3/1h", { LIM_MESSAGES, 3, 3600 }, 4,
	  { 0, 10, 20, 30 }, { 0 }, { 1, 1, 1, 1 }, "m3" },
	{ "window is (t-W, t]: a message exactly W old has left", { LIM_MESSAGES, 3, 3600 }, 5,
	  { 0, 1800, 3599, 3600, 3601 }, { 0 }, { 1, 1, 1, 1, 1 }, "m4" },
	{ "at the threshold is not over it", { LIM_MESSAGES, 3, 60 }, 3,
	  { 0, 1, 2 }, { 0 }, { 1, 1, 1 }, "" },
	{ "recipients sum nrcpt", { LIM_RECIPIENTS, 10, 3600 }, 3,
	  { 0, 1, 2 }, { 0 }, { 4, 4, 4 }, "m2" },
	{ "ips counts distinct client IPs", { LIM_IPS, 2, 3600 }, 5,
	  { 0, 1, 2, 3, 4 }, { "192.0.2.1", "192.0.2.2", "192.0.2.1", "192.0.2.2", "192.0.2.3" },
	  { 1, 1, 1, 1, 1 }, "m4" },
	{ "over once per episode, again after falling back", { LIM_MESSAGES, 1, 10 }, 6,
	  { 0, 1, 2, 100, 101, 102 }, { 0 }, { 1, 1, 1, 1, 1, 1 }, "m1 m4" },
	{ "messages in the same second all count", { LIM_MESSAGES, 2, 1 }, 3,
	  { 5, 5, 5 }, { 0 }, { 1, 1, 1 }, "m2" },
	};
	size_t i;
	int k;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		const struct row *r = &tab[i];
		const long w[1][3] = { { r->win[0], r->win[1], r->win[2] } };
		struct conf *c = one_rule(BY_SASL, NULL, 1, w);
		struct limits *l = limits_new(c);
		struct vlog vl;
		char got[256] = "", qid[8][16];
		size_t o = 0;

		memset(&vl, 0, sizeof(vl));
		for (k = 0; k < r->n; k++) {
			struct track_msg m;

			snprintf(qid[k], sizeof(qid[k]), "m%d", k);
			m = msg(SEC(r->sec[k]), qid[k], "alice@example.com",
			    r->ip[k] ? r->ip[k] : NULL, r->rcpt[k]);
			cr_assert_geq(limits_message(l, &m, on_verdict, &vl), 0);
		}
		for (k = 0; k < vl.n; k++) {
			o += (size_t)snprintf(got + o, sizeof(got) - o, "%s%s", k ? " " : "", vl.qid[k]);
			cr_expect_str_eq(vl.ident[k], "sasl:alice@example.com");
		}
		cr_expect_str_eq(got, r->want, "%s: verdicts [%s], want [%s]", r->name, got, r->want);
		limits_free(l);
		conf_free(c);
	}
}

Test(limits, exempt_and_match)
{
	const long w[1][3] = { { LIM_MESSAGES, 0 + 1, 3600 } };
	struct conf *c = one_rule(BY_UID, "3?", 1, w);
	struct limits *l;
	struct vlog vl;
	struct track_msg m;
	int i;

	c->exempt[BY_UID] = calloc(1, sizeof(char *));
	c->exempt[BY_UID][0] = strdup("35");
	c->nexempt[BY_UID] = 1;
	l = limits_new(c);
	memset(&vl, 0, sizeof(vl));
	for (i = 0; i < 5; i++) {
		m = msg(SEC(i), "q", NULL, NULL, 1);
		m.uid = 33;			/* matches 3? */
		limits_message(l, &m, on_verdict, &vl);
		m.uid = 35;			/* matches, but exempt */
		limits_message(l, &m, on_verdict, &vl);
		m.uid = 1000;			/* does not match */
		limits_message(l, &m, on_verdict, &vl);
	}
	cr_assert_eq(vl.n, 1);
	cr_expect_str_eq(vl.ident[0], "uid:33");
	limits_free(l);
	conf_free(c);
}

struct peaks {
	long	peak[4];
	int64_t	at[4];
	int	n;
};

static void
on_peak(void *ctx, const struct limits_peak *p)
{
	struct peaks *pk = ctx;

	pk->peak[p->win->limit] = p->peak;
	pk->at[p->win->limit] = p->at_us;
	pk->n++;
}

Test(limits, peaks_per_window)
{
	const long w[2][3] = { { LIM_MESSAGES, 100, 60 }, { LIM_RECIPIENTS, 100, 60 } };
	struct conf *c = one_rule(BY_SASL, NULL, 2, w);
	struct limits *l = limits_new(c);
	struct vlog vl;
	struct peaks pk;
	const long t[] = { 0, 10, 20, 200, 201 };
	size_t i;

	memset(&vl, 0, sizeof(vl));
	memset(&pk, 0, sizeof(pk));
	for (i = 0; i < 5; i++) {
		struct track_msg m = msg(SEC(t[i]), "q", "bob", NULL, i == 4 ? 50 : 1);

		limits_message(l, &m, on_verdict, &vl);
	}
	limits_each_peak(l, on_peak, &pk);
	cr_expect_eq(pk.peak[LIM_MESSAGES], 3);
	cr_expect_eq(pk.at[LIM_MESSAGES], SEC(20));
	cr_expect_eq(pk.peak[LIM_RECIPIENTS], 51);
	cr_expect_eq(pk.at[LIM_RECIPIENTS], SEC(201));
	cr_expect_eq(vl.n, 0);
	limits_free(l);
	conf_free(c);
}

/* Randomized: verdicts equal a brute-force count over all earlier messages. */
Test(limits, matches_brute_force)
{
	enum { N = 3000 };
	const long w[2][3] = { { LIM_MESSAGES, 7, 600 }, { LIM_RECIPIENTS, 25, 3600 } };
	struct conf *c = one_rule(BY_SASL, NULL, 2, w);
	struct limits *l = limits_new(c);
	static int64_t ts[N];
	static long rc[N];
	static const char *who[N];
	const char *users[] = { "a", "b", "c" };
	int i, j, k, over[3][2] = { { 0 } }, want = 0;
	int64_t t = 0;
	struct vlog vl;
	unsigned seed = 12345;

	memset(&vl, 0, sizeof(vl));
	for (i = 0; i < N; i++) {
		char qid[16];
		struct track_msg m;
		long cnt[2] = { 0, 0 };
		int u = rand_r(&seed) % 3;

		t += (rand_r(&seed) % 4 == 0) ? SEC(rand_r(&seed) % 900) : SEC(rand_r(&seed) % 3);
		ts[i] = t;
		rc[i] = 1 + rand_r(&seed) % 4;
		who[i] = users[u];
		for (j = 0; j <= i; j++) {
			if (who[j] != who[i])
				continue;
			if (ts[j] > t - SEC(600))
				cnt[0]++;
			if (ts[j] > t - SEC(3600))
				cnt[1] += rc[j];
		}
		for (k = 0; k < 2; k++) {
			if (cnt[k] > w[k][1] && !over[u][k])
				want++;
			over[u][k] = cnt[k] > w[k][1];
		}
		snprintf(qid, sizeof(qid), "Q%d", i);
		m = msg(t, qid, users[u], NULL, rc[i]);
		vl.n = 0;
		limits_message(l, &m, on_verdict, &vl);
		want -= vl.n;
		cr_assert_eq(want, 0, "message %d: verdicts differ from brute force", i);
	}
	limits_free(l);
	conf_free(c);
}

/* send - messages of alice at the given seconds; the verdicts' queue IDs, space-separated */
static void
send_alice(struct limits *l, const long *sec, int n, int base, char *got, size_t len)
{
	struct vlog vl;
	char qid[16][16];
	size_t o = strlen(got);
	int k;

	memset(&vl, 0, sizeof(vl));
	for (k = 0; k < n; k++) {
		struct track_msg m;

		snprintf(qid[k], sizeof(qid[k]), "m%d", base + k);
		m = msg(SEC(sec[k]), qid[k], "alice@example.com", "192.0.2.1", 1);
		cr_assert_geq(limits_message(l, &m, on_verdict, &vl), 0);
	}
	for (k = 0; k < vl.n; k++)
		o += (size_t)snprintf(got + o, len - o, "%s%s", o ? " " : "", vl.qid[k]);
}

/* count_one - the count of the one (identity, rule, window) listed */
static void
count_one(void *ctx, const struct limits_count *c)
{
	*(long *)ctx = c->count;
}

/*
 * The issue-8 story: 3/10m, alice goes over and is blocked; while blocked
 * nothing fires; unblocked, she sends again: three pass, the fourth fires.
 * Without re-arming the fourth never fired (her count never fell back).
 */
Test(limits, unblock_rearms)
{
	const long w[1][3] = { { LIM_MESSAGES, 3, 600 } };
	struct conf *c = one_rule(BY_SASL, NULL, 1, w);
	struct limits *l = limits_new(c);
	const long burst[] = { 0, 1, 2, 3 }, during[] = { 4, 5, 6, 7, 8, 9 };
	const long after[] = { 20, 21, 22, 23, 24 };
	char got[256] = "";
	long cnt = -1;

	send_alice(l, burst, 4, 0, got, sizeof(got));
	cr_assert_str_eq(got, "m3");
	cr_assert_eq(limits_block(l, "sasl:alice@example.com", SEC(3), 0), 1);
	cr_assert(limits_blocked(l, "sasl:alice@example.com", SEC(100)));
	send_alice(l, during, 6, 4, got, sizeof(got));
	cr_assert_str_eq(got, "m3", "overruns raised while blocked: %s", got);
	limits_unblock(l, "sasl:alice@example.com", SEC(15));
	cr_assert_not(limits_blocked(l, "sasl:alice@example.com", SEC(15)));
	limits_each_count(l, SEC(16), count_one, &cnt);
	cr_assert_eq(cnt, -1, "after the unblock the window counts afresh, got %ld", cnt);
	send_alice(l, after, 5, 10, got, sizeof(got));
	cr_assert_str_eq(got, "m3 m13", "the fourth new message fires again: %s", got);
	limits_each_count(l, SEC(30), count_one, &cnt);
	cr_assert_eq(cnt, 5);
	cr_assert_eq(limits_block(l, "sasl:alice@example.com", SEC(24), 0), 2);
	cr_assert_eq(limits_block_count(l, "sasl:alice@example.com"), 2);
	limits_free(l);
	conf_free(c);
}

/* A block with an end ends at the first message at or after it, by log time. */
Test(limits, block_expires_by_log_time)
{
	const long w[1][3] = { { LIM_MESSAGES, 2, 3600 } };
	struct conf *c = one_rule(BY_SASL, NULL, 1, w);
	struct limits *l = limits_new(c);
	const long a[] = { 0, 1, 2 }, b[] = { 30, 50, 59 }, d[] = { 60, 61, 62 };
	char got[256] = "";
	long cnt = -1;

	send_alice(l, a, 3, 0, got, sizeof(got));
	limits_block(l, "sasl:alice@example.com", SEC(2), SEC(58));	/* until 60 s */
	send_alice(l, b, 3, 3, got, sizeof(got));
	cr_assert_str_eq(got, "m2");
	limits_each_count(l, SEC(60), count_one, &cnt);
	cr_assert_eq(cnt, -1, "a count at the end of the block starts afresh (got %ld)", cnt);
	cr_assert_not(limits_blocked(l, "sasl:alice@example.com", SEC(60)));
	send_alice(l, d, 3, 6, got, sizeof(got));
	cr_assert_str_eq(got, "m2 m8", "three messages at or after the end: the third fires (%s)", got);
	limits_free(l);
	conf_free(c);
}

/* Restored from the store: messages before the last block's end never count again. */
Test(limits, restored_block_cuts_the_window)
{
	const long w[1][3] = { { LIM_MESSAGES, 2, 3600 } };
	struct conf *c = one_rule(BY_SASL, NULL, 1, w);
	struct limits *l = limits_new(c), *l2;
	const long old[] = { 0, 1, 2, 3 }, fresh[] = { 20, 21, 22 };
	char got[256] = "";
	long cnt = -1;

	cr_assert_eq(limits_restore_block(l, "sasl:alice@example.com", 1, 0, 0, SEC(10)), 0);
	send_alice(l, old, 4, 0, got, sizeof(got));
	cr_assert_str_eq(got, "", "messages before the re-arm count for nothing: %s", got);
	send_alice(l, fresh, 3, 4, got, sizeof(got));
	cr_assert_str_eq(got, "m6");
	/* a reload keeps the block states */
	l2 = limits_new(c);
	cr_assert_eq(limits_copy_blocks(l2, l), 0);
	cr_assert_eq(limits_block_count(l2, "sasl:alice@example.com"), 1);
	limits_each_count(l, SEC(23), count_one, &cnt);
	cr_assert_eq(cnt, 3);
	limits_free(l2);
	limits_free(l);
	conf_free(c);
}

/* block_time grows by the factor for a repeat offender; 0 is for ever */
Test(limits, block_time)
{
	const long w[1][3] = { { LIM_MESSAGES, 2, 3600 } };
	struct conf *c = one_rule(BY_SASL, NULL, 1, w);

	c->rules[0].block_time = 3600;
	c->rules[0].block_time_factor = 2;
	cr_expect_eq(limits_block_time(&c->rules[0], 1), SEC(3600));
	cr_expect_eq(limits_block_time(&c->rules[0], 3), SEC(4 * 3600));
	c->rules[0].block_time = 0;
	cr_expect_eq(limits_block_time(&c->rules[0], 5), 0);
	conf_free(c);
}

/* ips_rule - a sasl rule with the given ips windows (threshold, seconds) */
static struct limits *
ips_limits(struct conf **c, long th1, long s1, long th2, long s2)
{
	const long w[2][3] = { { LIM_IPS, th1, s1 }, { LIM_IPS, th2, s2 } };

	*c = one_rule(BY_SASL, NULL, th2 > 0 ? 2 : 1, w);
	return (limits_new(*c));
}

/*
 * Two client addresses are two, whatever a hash says: the first two IPv6
 * addresses, as strings, had the same old hmap_hash (FNV-1a 64 with the
 * offset basis 1469598103934665603, then h ^= h >> 29: 0x468e0ffce197eb76),
 * which the limits compared client IPs by, so they counted as one and
 * ips = 1/1h never crossed (a distinguished-point collision search over
 * "2001:db8:XXXX:XXXX:XXXX:XXXX::1" found them); one address spelled two
 * ways is one.
 */
Test(limits, ips_compares_addresses_not_hashes)
{
	static const struct {
		const char *name, *ip1, *ip2;
		const char *want; /* verdicts of ips = 1/1h over two messages */
	} tab[] = {
		{ "colliding FNV-1a hashes", "2001:db8:4934:1d48:edd3:d8c3::1",
		    "2001:db8:efcd:7d95:cefc:8782::1", "m1" },
		{ "two IPv4 addresses", "192.0.2.1", "192.0.2.2", "m1" },
		{ "IPv4 and its IPv4-mapped IPv6 form", "192.0.2.1", "::ffff:192.0.2.1", "" },
		{ "IPv6 spelled two ways", "2001:db8::7", "2001:DB8:0:0::7", "" },
		{ "the ipv6: prefix Postfix may log", "2001:db8::7", "IPv6:2001:db8::7", "" },
		{ "a value that is no address counts as none", "192.0.2.1", "unknown", "" },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct conf *c;
		struct limits *l = ips_limits(&c, 1, 3600, 0, 0);
		struct track_msg m0 = msg(SEC(1), "m0", "alice", tab[i].ip1, 1);
		struct track_msg m1 = msg(SEC(2), "m1", "alice", tab[i].ip2, 1);
		struct vlog vl;
		long cnt = -1;

		memset(&vl, 0, sizeof(vl));
		cr_assert_geq(limits_message(l, &m0, on_verdict, &vl), 0);
		cr_assert_geq(limits_message(l, &m1, on_verdict, &vl), 0);
		cr_expect_str_eq(vl.n ? vl.qid[0] : "", tab[i].want, "%s: verdicts", tab[i].name);
		limits_each_count(l, SEC(3), count_one, &cnt);
		cr_expect_eq(cnt, tab[i].want[0] ? 2 : 1, "%s: status counts %ld", tab[i].name,
		    cnt);
		limits_free(l);
		conf_free(c);
	}
}

/*
 * Randomized: the distinct-IP count (interned addresses) gives the verdicts of a
 * brute-force count over all earlier messages, with messages that come
 * out of time order (held back by the tracker) among them.
 */
Test(limits, ips_count_matches_brute_force)
{
	enum { N = 4000 };
	const long th[2] = { 3, 5 }, secs[2] = { 600, 3600 };
	struct conf *c;
	struct limits *l = ips_limits(&c, th[0], secs[0], th[1], secs[1]);
	static int64_t ts[N];
	static int ipx[N], who[N];
	const char *users[] = { "a", "b", "c" };
	char ips[12][48];
	int i, j, k, over[3][2] = { { 0 } }, want = 0;
	int64_t t = 0;
	struct vlog vl;
	unsigned seed = 4242;

	for (i = 0; i < 12; i++)
		snprintf(ips[i], sizeof(ips[i]), i % 2 ? "192.0.2.%d" : "2001:db8::%x", i + 1);
	memset(&vl, 0, sizeof(vl));
	for (i = 0; i < N; i++) {
		char qid[16];
		struct track_msg m;
		long cnt[2];
		int u = rand_r(&seed) % 3, seen[2][12];

		t += (rand_r(&seed) % 5 == 0) ? SEC(rand_r(&seed) % 400) : SEC(rand_r(&seed) % 4);
		/* one message in eight is late: up to 30 s older than the newest */
		ts[i] = rand_r(&seed) % 8 == 0 ? t - SEC(rand_r(&seed) % 30) : t;
		who[i] = u;
		ipx[i] = rand_r(&seed) % 12;
		memset(seen, 0, sizeof(seen));
		for (k = 0; k < 2; k++) {
			cnt[k] = 0;
			for (j = 0; j <= i; j++)
				if (who[j] == u && ts[j] > ts[i] - SEC(secs[k]) && ts[j] <= ts[i] &&
				    !seen[k][ipx[j]]) {
					seen[k][ipx[j]] = 1;
					cnt[k]++;
				}
			if (cnt[k] > th[k] && !over[u][k])
				want++;
			over[u][k] = cnt[k] > th[k];
		}
		snprintf(qid, sizeof(qid), "Q%d", i);
		m = msg(ts[i], qid, users[u], ips[ipx[i]], 1);
		vl.n = 0;
		cr_assert_geq(limits_message(l, &m, on_verdict, &vl), 0);
		want -= vl.n;
		cr_assert_eq(want, 0, "message %d: verdicts differ from brute force", i);
	}
	limits_free(l);
	conf_free(c);
}

struct retired {
	long n;      /* peaks handed over */
	long max[2]; /* the highest of each window */
};

static void
on_retire(void *ctx, const struct limits_peak *p)
{
	struct retired *r = ctx;

	r->n++;
	if (p->peak > r->max[p->win->limit == LIM_IPS])
		r->max[p->win->limit == LIM_IPS] = p->peak;
}

/*
 * stream - n distinct logins, one message a second each, through l; the
 * most states and bytes l held meanwhile
 */
static void
stream(struct limits *l, int n, size_t *max_states, size_t *max_bytes)
{
	char login[32];
	int i;

	*max_states = *max_bytes = 0;
	for (i = 0; i < n; i++) {
		struct track_msg m;

		snprintf(login, sizeof(login), "user%d@example.com", i);
		m = msg(SEC(i), "q", login, "192.0.2.1", 1);
		cr_assert_geq(limits_message(l, &m, NULL, NULL), 0);
		if (limits_size(l) > *max_states)
			*max_states = limits_size(l);
		if (limits_bytes(l) > *max_bytes)
			*max_bytes = limits_bytes(l);
	}
}

/*
 * Bounded memory: the state of an identity whose windows have passed is
 * freed (its peaks handed to the report first), so what limits holds
 * follows the identities inside the windows, not those ever seen:
 * 20,000 and 80,000 logins at the same rate peak alike.
 */
Test(limits, states_freed_when_their_windows_pass)
{
	const long w[2][3] = { { LIM_MESSAGES, 3, 600 }, { LIM_IPS, 2, 600 } };
	struct conf *c = one_rule(BY_SASL, NULL, 2, w);
	struct limits *l = limits_new(c), *l4 = limits_new(c);
	struct retired r = { 0, { 0, 0 } };
	size_t states, bytes, states4, bytes4;

	limits_set_retire(l, on_retire, &r);
	stream(l, 20000, &states, &bytes);
	cr_expect_leq(states, 3000, "20,000 logins, 600 s windows: %zu states at most", states);
	limits_prune(l, INT64_MAX); /* capped at the windows' clock: the last 660 s stay */
	cr_expect_leq(limits_size(l), 661, "%zu states left", limits_size(l));
	cr_expect_geq(limits_size(l), 600, "%zu states left", limits_size(l));
	cr_expect_eq(r.n, 2 * (20000 - (long)limits_size(l)), "%ld peaks handed over", r.n);
	cr_expect_eq(r.max[0], 1);
	cr_expect_eq(r.max[1], 1);
	{
		struct track_msg m = msg(SEC(100000), "q", "late@example.com", NULL, 1);

		cr_assert_geq(limits_message(l, &m, NULL, NULL), 0);
	}
	limits_prune(l, INT64_MAX);
	cr_expect_eq(limits_size(l), 1, "a day later only the newest is held: %zu",
	    limits_size(l));
	cr_expect_lt(limits_bytes(l), 2000, "%zu bytes held for one state", limits_bytes(l));
	stream(l4, 80000, &states4, &bytes4);
	cr_expect_leq(bytes4 * 2, bytes * 3, "80,000 logins peak at %zu bytes, 20,000 at %zu",
	    bytes4, bytes);
	cr_expect_leq(states4, 3000, "80,000 logins: %zu states at most", states4);
	limits_free(l);
	limits_free(l4);
	conf_free(c);
}

static long
store_says(void *ctx, const char *identity)
{
	(void)identity;
	return (*(long *)ctx);
}

/*
 * The block record of an identity is dropped once its block has ended
 * longer ago than the longest window; a repeat offender's count of
 * blocks (what block_time_factor multiplies by) survives in a compact
 * table, or is asked of the times source (the daemon's store).
 */
Test(limits, block_records_dropped_count_kept)
{
	const long w[1][3] = { { LIM_MESSAGES, 3, 600 } };
	struct conf *c = one_rule(BY_SASL, NULL, 1, w);
	struct limits *l = limits_new(c);
	const char *alice = "sasl:alice@example.com";
	const long burst[] = { 0, 1, 2, 3 }, later[] = { 5000, 5001, 5002, 5003 };
	char got[256] = "";
	long stored = 7;
	int i;

	send_alice(l, burst, 4, 0, got, sizeof(got));
	cr_assert_str_eq(got, "m3");
	cr_assert_eq(limits_block(l, alice, SEC(3), SEC(60)), 1);
	for (i = 0; i < 3000; i++) { /* others' messages move the clock on and sweep */
		struct track_msg m = msg(SEC(4 + i), "q", "bob@example.com", NULL, 1);

		cr_assert_geq(limits_message(l, &m, NULL, NULL), 0);
	}
	limits_prune(l, INT64_MAX);
	cr_expect_eq(limits_blocks(l), 0, "alice's record is kept after her block ended long ago");
	cr_expect_eq(limits_block_count(l, alice), 1, "her one block is forgotten");
	send_alice(l, later, 4, 4, got, sizeof(got));
	cr_expect_str_eq(got, "m3 m7", "she crosses again: %s", got);
	cr_expect_eq(limits_block(l, alice, SEC(5003), SEC(120)), 2, "her second block is her 2nd");
	limits_set_times(l, store_says, &stored);
	cr_expect_eq(limits_block_count(l, alice), 7, "the times source is asked");
	limits_free(l);
	conf_free(c);
}

/*
 * A message's identities are looked up in the block records only for the
 * kinds that have some (struct limits' nblk, limits_blk_may): the counts
 * follow blocks made, restored, copied and dropped, and a record whose
 * identity has no known kind makes every kind looked up.  Alice blocked
 * again after her record was dropped is found blocked.
 */
Test(limits, block_kinds_counted)
{
	const long w[1][3] = { { LIM_MESSAGES, 3, 600 } };
	struct conf *c = one_rule(BY_SASL, NULL, 1, w);
	struct limits *l = limits_new(c), *l2 = limits_new(c);
	const char *alice = "sasl:alice@example.com";
	int i, k;

	cr_assert_not_null(l);
	cr_assert_not_null(l2);
	for (k = 0; k < BY_COUNT; k++)
		cr_expect(!limits_blk_may(l, k), "kind %d before any block", k);
	cr_assert_eq(limits_block(l, alice, SEC(3), SEC(60)), 1);
	cr_assert_eq(limits_restore_block(l, "ip:192.0.2.1", 1, 0, 0, SEC(2)), 0);
	cr_expect(limits_blk_may(l, BY_SASL));
	cr_expect(limits_blk_may(l, BY_IP));
	cr_expect(!limits_blk_may(l, BY_SASL_DOMAIN), "sasl: is not sasl_domain:");
	cr_expect(!limits_blk_may(l, BY_UID));
	cr_assert_eq(limits_copy_blocks(l2, l), 0);
	cr_expect(limits_blk_may(l2, BY_SASL) && limits_blk_may(l2, BY_IP), "copied");
	cr_expect(!limits_blk_may(l2, BY_SENDER));
	for (i = 0; i < 3000; i++) { /* others' messages move the clock on and sweep */
		struct track_msg m = msg(SEC(4 + i), "q", "bob@example.com", NULL, 1);

		cr_assert_geq(limits_message(l, &m, NULL, NULL), 0);
	}
	limits_prune(l, INT64_MAX);
	cr_assert_eq(limits_blocks(l), 0);
	for (k = 0; k < BY_COUNT; k++)
		cr_expect(!limits_blk_may(l, k), "kind %d after the records were dropped", k);
	cr_assert_eq(limits_block(l, alice, SEC(5000), SEC(600)), 2);
	cr_expect(limits_blocked(l, alice, SEC(5001)), "blocked again");
	cr_expect(limits_blk_may(l, BY_SASL));
	cr_assert_eq(limits_restore_block(l2, "x", 1, 0, 0, SEC(2)), 0);
	for (k = 0; k < BY_COUNT; k++)
		cr_expect(limits_blk_may(l2, k), "kind %d beside a record of no kind", k);
	limits_free(l2);
	limits_free(l);
	conf_free(c);
}

/*
 * send_ref - one message of sasl at sec through limits_message_refs with
 * ref; its verdicts into vl (NULL: counted only)
 */
static void
send_ref(struct limits *l, const struct conf *c, struct limits_ref *ref, long sec, const char *qid,
    const char *sasl, struct vlog *vl)
{
	struct track_msg m = msg(SEC(sec), qid, sasl, "192.0.2.1", 1);
	struct limits_ref *refs[BY_COUNT] = { NULL };
	struct msgid ids;

	refs[BY_SASL] = ref;
	msgid_make(&ids, c, &m);
	cr_assert_geq(limits_message_refs(l, &m, &ids, NULL, refs, vl ? on_verdict : NULL, vl), 0);
}

/*
 * What a caller keeps of an identity (struct limits_ref, the audit
 * report's row) changes nothing: unblock_rearms's story through one ref,
 * beside another login's block record (so alice's absence of one is
 * noted): her block record made after the ref noted none is still found
 * (without the generation a new record bumps, her unblock did not re-arm
 * her windows and m13 did not fire), and her state freed by a sweep is
 * not used through it (ASan: use after free).
 */
Test(limits, refs_follow_blocks_and_sweeps)
{
	const long w[1][3] = { { LIM_MESSAGES, 3, 600 } };
	struct conf *c = one_rule(BY_SASL, NULL, 1, w);
	struct limits *l = limits_new(c);
	const long sec[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 20, 21, 22, 23, 24 };
	struct limits_ref ref;
	struct vlog vl;
	char qid[24], who[64];
	long i;

	memset(&ref, 0, sizeof(ref));
	memset(&vl, 0, sizeof(vl));
	cr_assert_eq(limits_block(l, "sasl:carol@example.com", 0, 0), 1);
	for (i = 0; i < 15; i++) {
		if (i == 4) /* after the burst */
			cr_assert_eq(limits_block(l, "sasl:alice@example.com", SEC(3), 0), 1);
		if (i == 10)
			limits_unblock(l, "sasl:alice@example.com", SEC(15));
		snprintf(qid, sizeof(qid), "m%ld", i);
		send_ref(l, c, &ref, sec[i], qid, "alice@example.com", &vl);
	}
	cr_assert_eq(vl.n, 2, "verdicts: %d", vl.n);
	cr_assert_str_eq(vl.qid[0], "m3");
	cr_assert_str_eq(vl.qid[1], "m13", "the fourth new message fires again: %s", vl.qid[1]);
	for (i = 0; i < 3000; i++) { /* others' messages move the clock on and sweep */
		struct limits_ref other;

		memset(&other, 0, sizeof(other));
		snprintf(who, sizeof(who), "u%ld@example.com", i);
		send_ref(l, c, &other, 5000 + i, "q", who, NULL);
	}
	for (i = 0; i < 4; i++) { /* alice's state was swept: a new one, through the same ref */
		snprintf(qid, sizeof(qid), "n%ld", i);
		send_ref(l, c, &ref, 9000 + i, qid, "alice@example.com", &vl);
	}
	cr_assert_eq(vl.n, 3, "verdicts: %d", vl.n);
	cr_assert_str_eq(vl.qid[2], "n3");
	limits_free(l);
	conf_free(c);
}
