/*
 * test_track - queue-ID correlation: what counts, once, and what never does.
 * Events are built by hand (no parser), one scenario per table row.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "util/hmap.h"
#include "count/track.h"

#define S(x) ((struct pf_str){ (x), sizeof(x) - 1 })
#define SEC(n) ((int64_t)(n) * 1000000)

struct got {
	int	n;
	char	qid[64][PF_QID_MAX + 1];
	char	sasl[64][64];
	char	sender[64][64];
	char	ip[64][64];
	long	uid[64];
	long	nrcpt[64];
	int64_t	t[64];
};

static void
emit(void *ctx, const struct track_msg *m)
{
	struct got *g = ctx;

	cr_assert(g->n < 64);
	snprintf(g->qid[g->n], sizeof(g->qid[0]), "%s", m->queue_id);
	snprintf(g->sasl[g->n], sizeof(g->sasl[0]), "%s", m->sasl ? m->sasl : "-");
	snprintf(g->sender[g->n], sizeof(g->sender[0]), "%s", m->sender ? m->sender : "-");
	snprintf(g->ip[g->n], sizeof(g->ip[0]), "%s", m->client_ip ? m->client_ip : "-");
	g->uid[g->n] = m->uid;
	g->nrcpt[g->n] = m->nrcpt;
	g->t[g->n] = m->time_us;
	g->n++;
}

static struct pf_event
base(enum pf_kind k, const char *qid)
{
	struct pf_event e;

	memset(&e, 0, sizeof(e));
	e.hdr = PF_HDR_ISO;
	e.kind = k;
	e.host = S("mx");
	e.instance = S("postfix");
	e.queue_id = (struct pf_str){ qid, strlen(qid) };
	e.uid = -1;
	e.nrcpt = -1;
	e.size = -1;
	return (e);
}

static struct pf_event
client(const char *qid, const char *ip, const char *login)
{
	struct pf_event e = base(PF_CLIENT, qid);

	e.client_ip = (struct pf_str){ ip, strlen(ip) };
	if (login)
		e.sasl_username = (struct pf_str){ login, strlen(login) };
	return (e);
}

static struct pf_event
active(const char *qid, const char *from, long nrcpt)
{
	struct pf_event e = base(PF_ACTIVE, qid);

	e.sender = (struct pf_str){ from, strlen(from) };
	e.nrcpt = nrcpt;
	return (e);
}

static struct pf_event
handoff(const char *qid, const char *newid)
{
	struct pf_event e = base(PF_DELIVERY, qid);

	e.queued_as = (struct pf_str){ newid, strlen(newid) };
	e.status = S("sent");
	return (e);
}

static struct pf_event
removed(const char *qid)
{
	return (base(PF_REMOVED, qid));
}

static struct pf_event
pickup(const char *qid, long uid, const char *orig)
{
	struct pf_event e = base(PF_PICKUP, qid);

	e.uid = uid;
	if (orig)
		e.orig_id = (struct pf_str){ orig, strlen(orig) };
	return (e);
}

struct step {
	int	sec;
	struct pf_event ev;
};

struct scenario {
	const char *name;
	struct step steps[12];
	int	nsteps;
	const char *want;		/* emitted queue IDs in order, space separated */
	const char *want_ip;		/* their client IPs in the same order ("-": none) */
};

static void
run(const struct scenario *sc, struct got *g, struct track **tp)
{
	struct track *t = track_new(0, emit, g);
	int i;

	cr_assert_not_null(t);
	memset(g, 0, sizeof(*g));
	for (i = 0; i < sc->nsteps; i++)
		track_event(t, &sc->steps[i].ev, SEC(1000 + sc->steps[i].sec));
	track_flush(t, INT64_MAX);
	*tp = t;
}

static void
check(const struct scenario *sc)
{
	struct got g;
	struct track *t;
	char buf[512] = "", ips[1024] = "";
	size_t o = 0, oi = 0;
	int i;

	run(sc, &g, &t);
	for (i = 0; i < g.n; i++) {
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? " " : "", g.qid[i]);
		oi += (size_t)snprintf(ips + oi, sizeof(ips) - oi, "%s%s", i ? " " : "", g.ip[i]);
	}
	cr_expect_str_eq(buf, sc->want, "%s: emitted [%s], want [%s]", sc->name, buf, sc->want);
	cr_expect_str_eq(ips, sc->want_ip, "%s: client IPs [%s], want [%s]", sc->name, ips,
	    sc->want_ip);
	track_free(t);
}

Test(track, scenarios)
{
	const struct scenario tab[] = {
	{ "sasl message counts once at its first active", {
		{ 0, client("AAAAAA1", "192.0.2.1", "alice") },
		{ 1, active("AAAAAA1", "a@x", 2) },
		{ 2, active("AAAAAA1", "a@x", 2) },	/* retry */
		{ 3, removed("AAAAAA1") } }, 4, "AAAAAA1", "192.0.2.1" },
	{ "client line without active is not a message", {
		{ 0, client("AAAAAA2", "192.0.2.1", "alice") },
		{ 1, removed("AAAAAA2") } }, 2, "", "" },
	{ "queue ID reused after removed counts again", {
		{ 0, client("AAAAAA3", "192.0.2.1", "alice") },
		{ 1, active("AAAAAA3", "a@x", 1) },
		{ 2, removed("AAAAAA3") },
		{ 3, client("AAAAAA3", "192.0.2.2", "bob") },
		{ 4, active("AAAAAA3", "b@x", 1) },
		{ 5, removed("AAAAAA3") } }, 6, "AAAAAA3 AAAAAA3", "192.0.2.1 192.0.2.2" },
	{ "active without origin (bounce) is not counted", {
		{ 0, active("BBBBBB1", "", 1) },
		{ 1, removed("BBBBBB1") } }, 2, "", "" },
	{ "hand-off before the copy: copy not counted", {
		{ 0, client("CCCCC1", "192.0.2.1", "alice") },
		{ 1, active("CCCCC1", "a@x", 1) },
		{ 2, handoff("CCCCC1", "CCCCC2") },
		{ 3, client("CCCCC2", "127.0.0.1", NULL) },
		{ 3, active("CCCCC2", "a@x", 1) },
		{ 4, removed("CCCCC2") } }, 6, "CCCCC1", "192.0.2.1" },
	{ "copy before its hand-off, even removed first: not counted", {
		{ 0, client("DDDDD1", "192.0.2.1", "alice") },
		{ 1, active("DDDDD1", "a@x", 1) },
		{ 2, client("DDDDD2", "127.0.0.1", NULL) },
		{ 2, active("DDDDD2", "a@x", 1) },
		{ 2, removed("DDDDD2") },
		{ 3, handoff("DDDDD1", "DDDDD2") } }, 6, "DDDDD1", "192.0.2.1" },
	{ "hand-off between the copy's client and active lines: not counted", {
		{ 0, client("DDDDD3", "192.0.2.1", "alice") },
		{ 1, active("DDDDD3", "a@x", 1) },
		{ 2, client("DDDDD4", "127.0.0.1", NULL) },
		{ 2, handoff("DDDDD3", "DDDDD4") },
		{ 2, active("DDDDD4", "a@x", 1) },
		{ 3, removed("DDDDD4") } }, 6, "DDDDD3", "192.0.2.1" },
	{ "unauthenticated local SMTP never named by a hand-off counts", {
		{ 0, client("FFFFF1", "127.0.0.1", NULL) },
		{ 1, active("FFFFF1", "app@x", 3) },
		{ 2, removed("FFFFF1") } }, 3, "FFFFF1", "127.0.0.1" },
	{ "pickup counts; requeue (orig_id) does not", {
		{ 0, pickup("ABCDE1", 33, NULL) },
		{ 1, active("ABCDE1", "www@x", 1) },
		{ 2, pickup("ABCDE2", 0, "ABCDE1") },
		{ 3, active("ABCDE2", "www@x", 1) } }, 4, "ABCDE1", "-" },
	{ "hand-off naming an old, removed ID does not touch a counted message", {
		{ 0, client("GGGGG1", "192.0.2.9", "carol") },
		{ 1, active("GGGGG1", "c@x", 1) },
		{ 2, removed("GGGGG1") },
		{ 100, handoff("ZZZZZ9", "GGGGG1") } }, 4, "GGGGG1", "192.0.2.9" },
	/*
	 * Queue-ID reuse against a hand-off: an unrelated message X from
	 * 198.51.100.7 was received (and removed) before the original O was
	 * received, so it cannot be O's copy; the real copy X comes later.
	 * Want: the earlier X once, O once, the copy never.
	 */
	{ "reused ID, earlier X removed and held back, then sasl O, hand-off, copy", {
		{ 0, client("MMMMM1", "198.51.100.7", NULL) },
		{ 0, active("MMMMM1", "x@far", 1) },
		{ 1, removed("MMMMM1") },
		{ 2, client("MMMMM0", "192.0.2.1", "alice") },
		{ 2, active("MMMMM0", "a@x", 1) },
		{ 3, handoff("MMMMM0", "MMMMM1") },
		{ 3, removed("MMMMM0") },
		{ 4, client("MMMMM1", "127.0.0.1", NULL) },
		{ 4, active("MMMMM1", "a@x", 1) },
		{ 5, removed("MMMMM1") } }, 10, "MMMMM0 MMMMM1", "192.0.2.1 198.51.100.7" },
	{ "reused ID, earlier X removed and held back, then unauthenticated O", {
		{ 0, client("MMMMM3", "198.51.100.7", NULL) },
		{ 0, active("MMMMM3", "x@far", 1) },
		{ 1, removed("MMMMM3") },
		{ 2, client("MMMMM2", "203.0.113.5", NULL) },
		{ 2, active("MMMMM2", "in@y", 1) },
		{ 3, handoff("MMMMM2", "MMMMM3") },
		{ 3, removed("MMMMM2") },
		{ 4, client("MMMMM3", "127.0.0.1", NULL) },
		{ 4, active("MMMMM3", "in@y", 1) },
		{ 5, removed("MMMMM3") } }, 10, "MMMMM3 MMMMM2", "198.51.100.7 203.0.113.5" },
	{ "reused ID, earlier X still held back, not yet removed at the hand-off", {
		{ 0, client("MMMMM5", "198.51.100.7", NULL) },
		{ 0, active("MMMMM5", "x@far", 1) },
		{ 2, client("MMMMM4", "192.0.2.1", "alice") },
		{ 2, active("MMMMM4", "a@x", 1) },
		{ 3, handoff("MMMMM4", "MMMMM5") },
		{ 3, removed("MMMMM5") },
		{ 4, client("MMMMM5", "127.0.0.1", NULL) },
		{ 4, active("MMMMM5", "a@x", 1) },
		{ 5, removed("MMMMM5") } }, 9, "MMMMM4 MMMMM5", "192.0.2.1 198.51.100.7" },
	{ "reused ID, earlier X received before O, its active after O's client", {
		{ 0, client("MMMMM7", "198.51.100.7", NULL) },
		{ 1, client("MMMMM6", "192.0.2.1", "alice") },
		{ 1, active("MMMMM7", "x@far", 1) },
		{ 1, active("MMMMM6", "a@x", 1) },
		{ 2, removed("MMMMM7") },
		{ 3, handoff("MMMMM6", "MMMMM7") },
		{ 4, client("MMMMM7", "127.0.0.1", NULL) },
		{ 4, active("MMMMM7", "a@x", 1) },
		{ 5, removed("MMMMM7") } }, 9, "MMMMM6 MMMMM7", "192.0.2.1 198.51.100.7" },
	{ "reused ID, copy logged between client and active after the hand-off", {
		{ 0, client("MMMMM9", "198.51.100.7", NULL) },
		{ 0, active("MMMMM9", "x@far", 1) },
		{ 1, removed("MMMMM9") },
		{ 2, client("MMMMM8", "192.0.2.1", "alice") },
		{ 2, active("MMMMM8", "a@x", 1) },
		{ 3, client("MMMMM9", "127.0.0.1", NULL) },
		{ 3, handoff("MMMMM8", "MMMMM9") },
		{ 3, active("MMMMM9", "a@x", 1) },
		{ 4, removed("MMMMM9") } }, 9, "MMMMM8 MMMMM9", "192.0.2.1 198.51.100.7" },
	{ "reused ID, copy logged and removed before the hand-off", {
		{ 0, client("MMMMMB", "198.51.100.7", NULL) },
		{ 0, active("MMMMMB", "x@far", 1) },
		{ 1, removed("MMMMMB") },
		{ 2, client("MMMMMA", "192.0.2.1", "alice") },
		{ 2, active("MMMMMA", "a@x", 1) },
		{ 3, client("MMMMMB", "127.0.0.1", NULL) },
		{ 3, active("MMMMMB", "a@x", 1) },
		{ 3, removed("MMMMMB") },
		{ 4, handoff("MMMMMA", "MMMMMB") },
		{ 4, removed("MMMMMA") } }, 10, "MMMMMA MMMMMB", "192.0.2.1 198.51.100.7" },
	{ "reused ID, earlier X sasl and counted: the hand-off waits for the copy", {
		{ 0, client("MMMMMD", "198.51.100.7", "bob") },
		{ 0, active("MMMMMD", "b@x", 1) },
		{ 1, removed("MMMMMD") },
		{ 2, client("MMMMMC", "192.0.2.1", "alice") },
		{ 2, active("MMMMMC", "a@x", 1) },
		{ 3, handoff("MMMMMC", "MMMMMD") },
		{ 4, client("MMMMMD", "127.0.0.1", NULL) },
		{ 4, active("MMMMMD", "a@x", 1) },
		{ 5, removed("MMMMMD") } }, 9, "MMMMMD MMMMMC", "198.51.100.7 192.0.2.1" },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		check(&tab[i]);
}

Test(track, orig_queue_id_and_orig_client_are_copies)
{
	struct got g;
	struct track *t = track_new(0, emit, &g);
	struct pf_event c1 = client("HHHHH1", "127.0.0.1", NULL);
	struct pf_event c2 = client("HHHHH2", "198.51.100.7", NULL);

	memset(&g, 0, sizeof(g));
	c1.orig_queue_id = S("HHHHH0");
	c2.orig_client_ip = S("127.0.0.1");
	track_event(t, &c1, SEC(1));
	track_event(t, &(struct pf_event){ 0 }, SEC(1));
	track_event(t, &c2, SEC(1));
	{
		struct pf_event a1 = active("HHHHH1", "x@y", 1), a2 = active("HHHHH2", "x@y", 1);

		track_event(t, &a1, SEC(2));
		track_event(t, &a2, SEC(2));
	}
	track_flush(t, INT64_MAX);
	cr_expect_eq(g.n, 0, "copies marked by orig_queue_id/orig_client must not count");
	cr_expect_eq(track_stats(t)->reinjections, 2);
	track_free(t);
}

Test(track, identities_folded_and_fields_carried)
{
	struct got g;
	struct track *t = track_new(0, emit, &g);
	struct pf_event c = client("IIIII1", "2001:DB8::1", "Alice@Example.COM");
	struct pf_event a = active("IIIII1", "Alice@Example.COM", 7);

	memset(&g, 0, sizeof(g));
	track_event(t, &c, SEC(10));
	track_event(t, &a, SEC(11));
	cr_assert_eq(g.n, 1, "a sasl message is emitted at once, not held back");
	cr_expect_str_eq(g.sasl[0], "alice@example.com");
	cr_expect_str_eq(g.sender[0], "alice@example.com");
	cr_expect_eq(g.nrcpt[0], 7);
	cr_expect_eq(g.t[0], SEC(11), "a message's time is its first (queue active)");
	track_free(t);
}

Test(track, unauthenticated_held_back_for_link_window_only)
{
	struct got g;
	struct track *t = track_new(0, emit, &g);
	struct pf_event c = client("JJJJJ1", "203.0.113.5", NULL);
	struct pf_event a = active("JJJJJ1", "someone@example.net", 1);
	struct pf_event noise = base(PF_NONE, "");

	memset(&g, 0, sizeof(g));
	noise.queue_id = (struct pf_str){ NULL, 0 };
	track_event(t, &c, SEC(100));
	track_event(t, &a, SEC(100));
	cr_expect_eq(g.n, 0);
	track_event(t, &noise, SEC(100) + TRACK_LINK_WINDOW_US - 1);
	cr_expect_eq(g.n, 0, "still inside the link window");
	track_event(t, &noise, SEC(100) + TRACK_LINK_WINDOW_US);
	cr_expect_eq(g.n, 1, "released once the log moves past the window");
	track_free(t);
}

Test(track, same_qid_on_other_host_or_instance_is_another_message)
{
	struct got g;
	struct track *t = track_new(0, emit, &g);
	struct pf_event c1 = client("KKKKK1", "192.0.2.1", "alice");
	struct pf_event c2 = client("KKKKK1", "192.0.2.1", "bob");
	struct pf_event a1 = active("KKKKK1", "a@x", 1), a2 = active("KKKKK1", "b@x", 1);

	memset(&g, 0, sizeof(g));
	c2.host = S("mx2");
	a2.host = S("mx2");
	track_event(t, &c1, SEC(1));
	track_event(t, &c2, SEC(1));
	track_event(t, &a1, SEC(2));
	track_event(t, &a2, SEC(2));
	cr_expect_eq(g.n, 2);
	track_free(t);
}

/*
 * The tracker is bounded by bytes, not entries: records with 10 KB logins
 * cost 10 KB each, so a 64 KiB cap keeps a handful of them (the oldest
 * are evicted and counted) and hundreds of short ones.
 */
Test(track, table_is_bounded_by_bytes)
{
	static char big[10241];
	static const struct {
		const char *name;
		int biglogin;
		size_t most, least; /* records kept */
	} tab[] = {
		{ "10 KB logins", 1, 7, 5 },
		{ "short logins", 0, 400, 200 },
	};
	struct got g;
	char qid[16];
	size_t k;
	int i;

	memset(big, 'a', sizeof(big) - 1);
	for (k = 0; k < sizeof(tab) / sizeof(tab[0]); k++) {
		struct track *t = track_new(64 * 1024, emit, &g);

		memset(&g, 0, sizeof(g));
		for (i = 0; i < 1000; i++) {
			struct pf_event c;

			snprintf(qid, sizeof(qid), "%08X", i);
			c = client(qid, "192.0.2.1", tab[k].biglogin ? big : "alice");
			track_event(t, &c, SEC(i));
		}
		cr_expect_leq(track_size(t), tab[k].most, "%s: %zu records kept", tab[k].name,
		    track_size(t));
		cr_expect_geq(track_size(t), tab[k].least, "%s: %zu records kept", tab[k].name,
		    track_size(t));
		cr_expect_leq(track_bytes(t), 64 * 1024 + (tab[k].biglogin ? 10240 + 400 : 400),
		    "%s: %zu bytes held", tab[k].name, track_bytes(t));
		cr_expect_eq(track_stats(t)->evicted, 1000 - track_size(t), "%s: evictions counted",
		    tab[k].name);
		cr_expect_eq(track_stats(t)->dropped, 1000 - track_size(t));
		track_free(t);
	}
}

/*
 * When records alone cannot bring the tracker under its cap, held-back
 * messages are emitted early (counted, not lost) and counted as evicted.
 */
Test(track, byte_cap_emits_held_back_messages_early)
{
	struct got g;
	struct track *t = track_new(4096, emit, &g);
	char qid[40][16];
	int i;

	memset(&g, 0, sizeof(g));
	for (i = 0; i < 40; i++) {
		struct pf_event c, a;

		snprintf(qid[i], sizeof(qid[i]), "%08X", i);
		c = client(qid[i], "198.51.100.7", NULL);
		a = active(qid[i], "news@example.org", 1);
		track_event(t, &c, SEC(5));
		track_event(t, &a, SEC(5));
	}
	cr_expect_gt(g.n, 0, "no held-back message was released by the cap");
	cr_expect_leq(track_bytes(t), 4096 + 600, "%zu bytes held", track_bytes(t));
	cr_expect_geq(track_stats(t)->evicted, (uint64_t)g.n);
	track_flush(t, INT64_MAX);
	cr_expect_eq(g.n, 40, "every message counts once: %d", g.n);
	track_free(t);
}

Test(track, old_records_dropped_by_age)
{
	struct got g;
	struct track *t = track_new(0, emit, &g);
	struct pf_event c = client("LLLLL1", "192.0.2.1", "alice");
	struct pf_event c2 = client("LLLLL2", "192.0.2.1", "alice");

	memset(&g, 0, sizeof(g));
	track_event(t, &c, SEC(0));
	track_event(t, &c2, SEC(0) + TRACK_MAX_AGE_US + SEC(1));
	cr_expect_eq(track_size(t), 1);
	cr_expect_eq(track_stats(t)->dropped, 1);
	track_free(t);
}

/* A tiny key/value store for the persistence tests. */
struct kv {
	int	n;
	int	miss; /* deletes of entries it did not hold */
	int	ns[256];
	size_t	kn[256], vn[256];
	unsigned char k[256][128], v[256][8192];
};

static int
kv_find(struct kv *s, int ns, const void *key, size_t kn)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->ns[i] == ns && s->kn[i] == kn && memcmp(s->k[i], key, kn) == 0)
			return (i);
	return (-1);
}

static int
kv_put(void *ctx, int ns, const void *key, size_t kn, const void *val, size_t vn)
{
	struct kv *s = ctx;
	int i = kv_find(s, ns, key, kn);

	cr_assert(kn <= 128 && vn <= 8192);
	if (i < 0) {
		cr_assert_lt(s->n, 256);
		i = s->n++;
	}
	s->ns[i] = ns;
	s->kn[i] = kn;
	s->vn[i] = vn;
	memcpy(s->k[i], key, kn);
	memcpy(s->v[i], val, vn);
	return (0);
}

static int
kv_del(void *ctx, int ns, const void *key, size_t kn)
{
	struct kv *s = ctx;
	int i = kv_find(s, ns, key, kn);

	s->miss += i < 0 && ns != TRACK_NS_LOG;
	if (i >= 0) {
		s->n--;
		s->ns[i] = s->ns[s->n];
		s->kn[i] = s->kn[s->n];
		s->vn[i] = s->vn[s->n];
		memcpy(s->k[i], s->k[s->n], sizeof(s->k[0]));
		memcpy(s->v[i], s->v[s->n], sizeof(s->v[0]));
	}
	return (0);
}

static const struct track_persist_ops kv_ops = { kv_put, kv_del };

/*
 * kv_apply_log - as the daemon starts: each saved log row, oldest first
 * (8-byte big-endian keys), applied to the entries and deleted
 */
static void
kv_apply_log(struct kv *s)
{
	static unsigned char row[8192];
	unsigned char key[128];
	int i, first;
	size_t n;

	for (;;) {
		first = -1;
		for (i = 0; i < s->n; i++)
			if (s->ns[i] == TRACK_NS_LOG &&
			    (first < 0 || memcmp(s->k[i], s->k[first], 8) < 0))
				first = i;
		if (first < 0)
			return;
		cr_assert_eq(s->kn[first], 8);
		memcpy(key, s->k[first], 8);
		memcpy(row, s->v[first], s->vn[first]);
		n = s->vn[first];
		cr_assert_eq(track_log_apply(row, n, &kv_ops, s), 0);
		kv_del(s, TRACK_NS_LOG, key, 8);
	}
}

/* restore in key order per namespace, as the store returns it */
static void
kv_restore(struct kv *s, struct track *t)
{
	int ns, i, j, order[256], n;

	kv_apply_log(s);

	for (ns = 1; ns <= 3; ns++) {
		n = 0;
		for (i = 0; i < s->n; i++)
			if (s->ns[i] == ns)
				order[n++] = i;
		for (i = 1; i < n; i++)
			for (j = i; j > 0; j--) {
				int a = order[j - 1], b = order[j];
				size_t m = s->kn[a] < s->kn[b] ? s->kn[a] : s->kn[b];
				int c = memcmp(s->k[a], s->k[b], m);

				if (c > 0 || (c == 0 && s->kn[a] > s->kn[b])) {
					order[j - 1] = b;
					order[j] = a;
				}
			}
		for (i = 0; i < n; i++)
			cr_assert_eq(track_restore(t, ns, s->k[order[i]], s->kn[order[i]],
			    s->v[order[i]], s->vn[order[i]]), 0);
	}
}

/*
 * restart_everywhere - for every split point k of seq, feed seq[0..k) to a
 * tracker, persist it, restore a new one from the saved state and feed the
 * rest: what is emitted (queue IDs and client IPs) must not depend on k.
 */
static void
restart_everywhere(const struct step *seq, int n, const char *want, const char *want_ip)
{
	static const int lags[] = { 0, 1, 2, 40 };
	int k, i, li;

	for (li = 0; li < 4; li++)
	for (k = 0; k <= n; k++) {
		static struct kv s;
		struct got g;
		struct track *a, *b;
		char buf[256] = "", ips[512] = "";
		size_t o = 0, oi = 0;

		memset(&s, 0, sizeof(s));
		memset(&g, 0, sizeof(g));
		a = track_new(0, emit, &g);
		track_keep_dirty(a, 1);
		cr_assert_eq(track_log_lag(a, lags[li]), 0);
		for (i = 0; i < k; i++) {
			track_event(a, &seq[i].ev, SEC(1000 + seq[i].sec));
			if (i % 3 == 2)
				cr_assert_eq(track_persist(a, &kv_ops, &s), 0);
		}
		cr_assert_eq(track_persist(a, &kv_ops, &s), 0);
		track_free(a);
		b = track_new(0, emit, &g);
		track_keep_dirty(b, 1);
		cr_assert_eq(track_log_lag(b, lags[li]), 0);
		kv_restore(&s, b);
		for (i = k; i < n; i++) {
			track_event(b, &seq[i].ev, SEC(1000 + seq[i].sec));
			if (i % 2 == 1)
				cr_assert_eq(track_persist(b, &kv_ops, &s), 0);
		}
		track_flush(b, INT64_MAX);
		cr_assert_eq(track_persist(b, &kv_ops, &s), 0);
		for (i = 0; i < g.n; i++) {
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? " " : "", g.qid[i]);
			oi += (size_t)snprintf(ips + oi, sizeof(ips) - oi, "%s%s", i ? " " : "", g.ip[i]);
		}
		cr_expect_str_eq(buf, want, "lag %d, restart after %d events: emitted [%s]", lags[li], k, buf);
		if (want_ip != NULL)
			cr_expect_str_eq(ips, want_ip, "lag %d, restart after %d events: client IPs [%s]", lags[li], k, ips);
		track_free(b);
	}
}

/* Every split point of a mixed sequence: a restart in between changes nothing. */
Test(track, restart_anywhere_counts_the_same)
{
	const struct step seq[] = {
		{ 0, client("AB0001", "192.0.2.1", "alice") },
		{ 1, client("AB0002", "127.0.0.1", NULL) },		/* copy, named later */
		{ 1, pickup("AB0003", 33, NULL) },
		{ 2, active("AB0001", "a@x", 2) },
		{ 2, active("AB0002", "a@x", 2) },
		{ 3, client("AB0004", "203.0.113.9", NULL) },		/* inbound, counts */
		{ 3, handoff("AB0001", "AB0002") },
		{ 4, active("AB0003", "www@x", 1) },
		{ 4, handoff("AB0009", "AB0005") },			/* before the copy */
		{ 5, client("AB0005", "127.0.0.1", NULL) },
		{ 5, active("AB0005", "a@x", 1) },
		{ 6, active("AB0004", "in@y", 1) },
		{ 7, active("AB0001", "a@x", 2) },			/* retry */
		{ 8, removed("AB0001") },
		{ 9, client("AB0001", "192.0.2.2", "bob") },		/* reused ID */
		{ 10, active("AB0001", "b@x", 1) },
		{ 100, removed("AB0003") },
	};

	/* AB0004 waits 30 s */
	restart_everywhere(seq, (int)(sizeof(seq) / sizeof(seq[0])),
	    "AB0001 AB0003 AB0001 AB0004", "192.0.2.1 - 192.0.2.2 203.0.113.9");
}

/*
 * Queue IDs reused across a hand-off, with a restart anywhere: the held-back
 * message RU0001 and the not-yet-active RU0002 were both received before the
 * original RU0000, so neither is its copy, also after their state was saved
 * and restored; the real copies come later.
 */
Test(track, restart_anywhere_keeps_copies_younger_than_original)
{
	const struct step seq[] = {
		{ 0, client("RU0001", "198.51.100.7", NULL) },	/* unrelated */
		{ 1, client("RU0002", "198.51.100.8", NULL) },	/* unrelated */
		{ 2, client("RU0000", "192.0.2.1", "alice") },	/* the original */
		{ 2, active("RU0001", "x@far", 1) },		/* held back */
		{ 2, active("RU0000", "a@x", 2) },
		{ 3, removed("RU0001") },
		{ 3, handoff("RU0000", "RU0001") },		/* not the held one */
		{ 3, handoff("RU0000", "RU0002") },		/* not the open one */
		{ 4, active("RU0002", "y@far", 1) },
		{ 4, removed("RU0002") },
		{ 4, removed("RU0000") },
		{ 5, client("RU0001", "127.0.0.1", NULL) },	/* the copies */
		{ 5, active("RU0001", "a@x", 1) },
		{ 6, client("RU0002", "127.0.0.1", NULL) },
		{ 7, active("RU0002", "a@x", 1) },
		{ 8, removed("RU0001") },
		{ 8, removed("RU0002") },
	};

	restart_everywhere(seq, (int)(sizeof(seq) / sizeof(seq[0])),
	    "RU0000 RU0001 RU0002", "192.0.2.1 198.51.100.7 198.51.100.8");
}

/* kv_count - entries of namespace ns in s */
static int
kv_count(const struct kv *s, int ns)
{
	int i, c = 0;

	for (i = 0; i < s->n; i++)
		c += s->ns[i] == ns;
	return (c);
}

/*
 * The point of the saved log: a message that comes and goes within the
 * lag never reaches the entries' rows (one log row per commit instead);
 * with lag 0 it does.  Either way the state saved at the end is empty and
 * so is the log once applied, and an open message survives a restart.
 */
Test(track, short_lived_entries_stay_in_the_log)
{
	static struct kv s;
	const struct pf_event evs[] = {
		client("SL0001", "192.0.2.1", "alice"),
		active("SL0001", "a@x", 1),
		removed("SL0001"),
		client("SL0002", "192.0.2.2", "bob"),
	};
	struct got g;
	struct track *a, *b;
	int lag, i, mid_entries[2];

	for (lag = 0; lag <= 40; lag += 40) {
		int lag1;

		/* folded one commit late: SL0001 never reached the rows, so no delete either */
		memset(&s, 0, sizeof(s));
		a = track_new(0, emit, &g);
		track_keep_dirty(a, 1);
		cr_assert_eq(track_log_lag(a, 1), 0);
		for (lag1 = 0; lag1 < 4; lag1++) {
			track_event(a, &evs[lag1], SEC(1000 + lag1));
			cr_assert_eq(track_persist(a, &kv_ops, &s), 0);
		}
		cr_expect_eq(s.miss, 0, "lag 1: %d deletes of rows never written", s.miss);
		track_free(a);

		memset(&s, 0, sizeof(s));
		memset(&g, 0, sizeof(g));
		a = track_new(0, emit, &g);
		track_keep_dirty(a, 1);
		cr_assert_eq(track_log_lag(a, lag), 0);
		for (i = 0; i < 4; i++) {
			track_event(a, &evs[i], SEC(1000 + i));
			cr_assert_eq(track_persist(a, &kv_ops, &s), 0);
			if (i == 1)
				mid_entries[lag ? 1 : 0] = kv_count(&s, TRACK_NS_REC);
		}
		cr_expect_eq(g.n, 1, "lag %d: SL0001 counted once", lag);
		if (lag == 40) {
			cr_expect_eq(kv_count(&s, TRACK_NS_REC), 0, "lag 40: no record row");
			cr_expect_eq(kv_count(&s, TRACK_NS_LOG), 4, "lag 40: a log row per commit");
		} else {
			cr_expect_eq(kv_count(&s, TRACK_NS_LOG), 0, "lag 0: rows folded at once");
			cr_expect_eq(kv_count(&s, TRACK_NS_REC), 1, "lag 0: SL0002's record row");
		}
		track_free(a);
		b = track_new(0, emit, &g);
		kv_restore(&s, b);
		cr_expect_eq(kv_count(&s, TRACK_NS_LOG), 0);
		cr_expect_eq(kv_count(&s, TRACK_NS_REC), 1, "lag %d: SL0002 saved", lag);
		cr_expect_eq(track_size(b), 1, "lag %d: SL0002 open after the restart", lag);
		track_free(b);
	}
	cr_expect_eq(mid_entries[0], 1, "lag 0: SL0001's record row while it is open");
	cr_expect_eq(mid_entries[1], 0, "lag 40: no record row while it is open");
}

/*
 * A queue ID saved, removed, reused and removed again, each change in a
 * commit of its own and folded late: the saved state must not bring the
 * first message back at a restart (its deletion must reach the saved
 * entries although the last record of that ID was made after it).
 */
Test(track, reused_id_removed_twice_is_not_restored)
{
	static struct kv s;
	char other[8];
	const struct pf_event q1 = client("RR0001", "192.0.2.1", "alice");
	const struct pf_event q1a = active("RR0001", "a@x", 1);
	const struct pf_event q1r = removed("RR0001");
	const struct pf_event *mine[] = { &q1, &q1a, NULL, NULL, &q1r, &q1, &q1r };
	struct pf_event e;
	struct got g;
	struct track *a, *b;
	int i, nother = 0;

	memset(&s, 0, sizeof(s));
	memset(&g, 0, sizeof(g));
	a = track_new(0, emit, &g);
	track_keep_dirty(a, 1);
	cr_assert_eq(track_log_lag(a, 2), 0);
	for (i = 0; i < 11; i++) {
		if (i < 7 && mine[i] != NULL) {
			track_event(a, mine[i], SEC(1000 + i));
		} else {
			snprintf(other, sizeof(other), "OT%04d", i % 100);
			e = client(other, "198.51.100.1", NULL);
			track_event(a, &e, SEC(1000 + i));
			nother++;
		}
		cr_assert_eq(track_persist(a, &kv_ops, &s), 0);
	}
	cr_expect_eq(track_size(a), (size_t)nother);
	track_free(a);
	b = track_new(0, emit, &g);
	kv_restore(&s, b);
	cr_expect_eq(track_size(b), (size_t)nother, "RR0001 came back from the saved state");
	track_free(b);
}

/* A damaged log row is refused whole: none of its changes is applied. */
Test(track, malformed_log_row_is_refused_whole)
{
	static struct kv s;
	/* a good delete of key "k", then an op byte that is neither put nor delete */
	const unsigned char row[] = { 0, TRACK_NS_REC, 1, 0, 0, 0, 'k', 7, TRACK_NS_REC };
	/* a put whose value length runs past the end */
	const unsigned char shortv[] = { 1, TRACK_NS_REC, 1, 0, 0, 0, 'k', 9, 0, 0, 0, 'v' };
	/* a namespace the log never holds */
	const unsigned char badns[] = { 0, 99, 1, 0, 0, 0, 'k' };

	memset(&s, 0, sizeof(s));
	cr_assert_eq(kv_put(&s, TRACK_NS_REC, "k", 1, "v", 1), 0);
	cr_expect_eq(track_log_apply(row, sizeof(row), &kv_ops, &s), -1);
	cr_expect_eq(track_log_apply(shortv, sizeof(shortv), &kv_ops, &s), -1);
	cr_expect_eq(track_log_apply(badns, sizeof(badns), &kv_ops, &s), -1);
	cr_expect_eq(kv_count(&s, TRACK_NS_REC), 1, "the entry is still there");
	cr_expect_eq(track_log_apply(row, 7, &kv_ops, &s), 0, "the good part alone applies");
	cr_expect_eq(kv_count(&s, TRACK_NS_REC), 0);
}

Test(track, malformed_saved_state_is_refused)
{
	struct got g;
	struct track *t = track_new(0, emit, &g);
	const unsigned char junk[] = { 1, 2, 3 };

	cr_expect_eq(track_restore(t, TRACK_NS_REC, "mx\0postfix\0AAAAAA", 17, junk, sizeof(junk)), -1);
	cr_expect_eq(track_restore(t, TRACK_NS_HELD, "12345678", 8, junk, sizeof(junk)), -1);
	cr_expect_eq(track_restore(t, 99, "k", 1, junk, sizeof(junk)), -1);
	{
		/* a hand-off time, then 4 stray bytes: neither old nor new */
		const unsigned char odd[12] = { 0 };

		cr_expect_eq(track_restore(t, TRACK_NS_EXPECT, "mx\0Q1", 5, odd, sizeof(odd)), -1);
	}
	cr_expect_eq(track_size(t), 0);
	track_free(t);
}

/* put64 - v as 8 little-endian bytes at b + *n, the saved-value encoding */
static void
put64(unsigned char *b, size_t *n, int64_t v)
{
	uint64_t u = (uint64_t)v;
	int i;

	for (i = 0; i < 8; i++)
		b[(*n)++] = (unsigned char)(u >> (8 * i));
}

/* putstr - a saved string: its length as put64, then its bytes */
static void
putstr(unsigned char *b, size_t *n, const char *str)
{
	put64(b, n, (int64_t)strlen(str));
	memcpy(b + *n, str, strlen(str));
	*n += strlen(str);
}

/*
 * Values saved before held-back messages kept their receipt time and
 * expectations their original's: still read, and used as before.
 */
Test(track, saved_state_of_older_versions_is_read)
{
	struct got g;
	struct track *t = track_new(0, emit, &g);
	unsigned char v[256], seq1[8] = { 0, 0, 0, 0, 0, 0, 0, 1 }, seq2[8] = { 0, 0, 0, 0, 0, 0, 0, 2 };
	size_t n;
	struct pf_event c = client("OLD003", "127.0.0.1", NULL), a = active("OLD003", "a@x", 1);
	struct pf_event o = client("OLD000", "192.0.2.1", "alice"), h = handoff("OLD000", "OLD002");

	memset(&g, 0, sizeof(g));
	/* an expectation: the hand-off time only */
	n = 0;
	put64(v, &n, SEC(1000));
	cr_assert_eq(track_restore(t, TRACK_NS_EXPECT, "mx\0OLD003", 9, v, n), 0);
	/* two held-back messages without their receipt time */
	n = 0;
	put64(v, &n, SEC(1000));
	put64(v, &n, 0);
	put64(v, &n, 1);
	putstr(v, &n, "mx");
	putstr(v, &n, "postfix");
	putstr(v, &n, "OLD001");
	putstr(v, &n, "in@y");
	putstr(v, &n, "203.0.113.5");
	cr_assert_eq(track_restore(t, TRACK_NS_HELD, seq1, 8, v, n), 0);
	n = 0;
	put64(v, &n, SEC(1000));
	put64(v, &n, 0);
	put64(v, &n, 1);
	putstr(v, &n, "mx");
	putstr(v, &n, "postfix");
	putstr(v, &n, "OLD002");
	putstr(v, &n, "a@x");
	putstr(v, &n, "127.0.0.1");
	cr_assert_eq(track_restore(t, TRACK_NS_HELD, seq2, 8, v, n), 0);
	cr_expect_eq(track_held(t), 2);
	/* the expected copy arrives; OLD002 is named by a hand-off */
	track_event(t, &o, SEC(999));
	track_event(t, &c, SEC(1001));
	track_event(t, &a, SEC(1001));
	track_event(t, &h, SEC(1001));
	track_flush(t, INT64_MAX);
	cr_assert_eq(g.n, 1, "only the unrelated held-back message counts");
	cr_expect_str_eq(g.qid[0], "OLD001");
	cr_expect_str_eq(g.ip[0], "203.0.113.5");
	cr_expect_eq(track_stats(t)->reinjections, 2);
	track_free(t);
}

struct rm_log {
	int	n;
	char	qid[8][PF_QID_MAX + 1];
};

static void
on_removed(void *ctx, const char *host, const char *inst, const char *qid, int64_t t)
{
	struct rm_log *l = ctx;

	(void)t;
	cr_expect_str_eq(host, "mx");
	cr_expect_str_eq(inst, "postfix");
	snprintf(l->qid[l->n++], sizeof(l->qid[0]), "%s", qid);
}

static int held_removed_flag = -1;

static void
emit_flag(void *ctx, const struct track_msg *m)
{
	emit(ctx, m);
	if (strcmp(m->queue_id, "RM0003") == 0)
		held_removed_flag = m->removed;
}

Test(track, removal_of_counted_messages_is_reported)
{
	struct got g;
	struct rm_log rl;
	struct track *t;
	const struct step seq[] = {
		{ 0, client("RM0001", "192.0.2.1", "alice") },
		{ 1, active("RM0001", "a@x", 1) },
		{ 2, removed("RM0001") },			/* counted: reported */
		{ 3, active("RM0002", "", 1) },		/* orphan (bounce) */
		{ 4, removed("RM0002") },			/* not counted: not reported */
		{ 5, client("RM0003", "203.0.113.5", NULL) },
		{ 6, active("RM0003", "in@y", 1) },		/* held back */
		{ 7, removed("RM0003") },			/* before it is emitted */
	};
	size_t i;

	memset(&g, 0, sizeof(g));
	memset(&rl, 0, sizeof(rl));
	t = track_new(0, emit_flag, &g);
	track_set_removed(t, on_removed, &rl);
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		track_event(t, &seq[i].ev, SEC(seq[i].sec));
	track_flush(t, INT64_MAX);
	cr_assert_eq(rl.n, 1);
	cr_expect_str_eq(rl.qid[0], "RM0001");
	cr_assert_eq(g.n, 2);
	cr_expect_eq(held_removed_flag, 1, "a held-back message removed meanwhile is emitted as removed");
	track_free(t);
}

/* Store operations made by a persist on entries (not log rows), counted. */
struct kv_count {
	int puts, dels;
};

static int
count_put(void *ctx, int ns, const void *key, size_t kn, const void *val, size_t vn)
{
	(void)key, (void)kn, (void)val, (void)vn;
	((struct kv_count *)ctx)->puts += ns != TRACK_NS_LOG;
	return (0);
}

static int
count_del(void *ctx, int ns, const void *key, size_t kn)
{
	(void)key, (void)kn;
	((struct kv_count *)ctx)->dels += ns != TRACK_NS_LOG;
	return (0);
}

/*
 * Messages whose whole life (client, active, removed; a held-back one
 * emitted) falls between two commits leave nothing to write: the store
 * never had them, so no put and no delete (the daemon's catch-up spent
 * a twelfth of its time deleting rows that were never written).  One
 * that was saved before is deleted.
 */
Test(track, life_within_one_batch_writes_nothing)
{
	static const struct track_persist_ops ops = { count_put, count_del };
	struct kv_count kc = { 0, 0 };
	struct got g;
	struct track *t;
	const struct step seq[] = {
		{ 0, client("BB0001", "192.0.2.1", "alice") },
		{ 1, active("BB0001", "a@x", 1) },
		{ 2, removed("BB0001") },
		{ 3, client("BB0002", "203.0.113.5", NULL) },
		{ 4, active("BB0002", "in@y", 1) }, /* held back, then emitted */
		{ 5, removed("BB0002") },
		{ 6, handoff("BB0003", "BB0004") },  /* an expectation that expires */
	};
	size_t i;

	memset(&g, 0, sizeof(g));
	t = track_new(0, emit, &g);
	track_keep_dirty(t, 1);
	cr_assert_eq(track_log_lag(t, 0), 0); /* each commit's row folded at once */
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		track_event(t, &seq[i].ev, SEC(seq[i].sec));
	track_flush(t, INT64_MAX);
	track_event(t, &seq[0].ev, SEC(100000)); /* expires the expectation; a new BB0001 */
	cr_assert_eq(track_persist(t, &ops, &kc), 0);
	cr_expect_eq(g.n, 2);
	cr_expect_eq(kc.dels, 0, "%d deletes of entries the store never had", kc.dels);
	cr_expect_eq(kc.puts, 1, "%d puts: only the open BB0001", kc.puts);
	/* saved, then gone: deleted */
	memset(&kc, 0, sizeof(kc));
	track_event(t, &seq[2].ev, SEC(100001));
	cr_assert_eq(track_persist(t, &ops, &kc), 0);
	cr_expect_eq(kc.dels, 1);
	track_free(t);
}

/*
 * track_key_hash(): the hash track_event() takes of a line's record key
 * (host \0 instance \0 queue ID), for the audit's reader thread to take
 * instead (count/prefetch.c); 0 for a line the tracker looks nothing up
 * for; and track_key(), the key's bytes, which the reader leaves beside
 * the hash (hint_key).  The same lines with and without them give the
 * same messages.
 */
Test(track, key_hash_for_the_reader)
{
	struct pf_event c = client("3A1B2C3D4E", "192.0.2.1", "alice"), n = c;
	struct pf_event a = active("3A1B2C3D4E", "alice@example.com", 2);
	struct pf_event lines[2];
	struct got g1, g2, g3;
	struct track *t;
	char keys[2][TRACK_KEY_MAX];
	int pass, i;

	cr_expect_eq(track_key_hash(&c), hmap_hash("mx\0postfix\0" "3A1B2C3D4E", 21));
	cr_expect_eq(track_key(&c, keys[0], sizeof(keys[0])), 21);
	cr_expect_eq(memcmp(keys[0], "mx\0postfix\0" "3A1B2C3D4E", 21), 0);
	cr_expect_eq(track_key(&c, keys[0], 21), 0, "a key that does not fit is none");
	cr_expect_eq(track_key_hash(&a), track_key_hash(&c), "one key for the message's lines");
	n.kind = PF_NONE;
	cr_expect_eq(track_key_hash(&n), 0, "a line of no kind has a key");
	n = c;
	n.kind = PF_REJECT;
	cr_expect_eq(track_key_hash(&n), 0, "a reject line has a key");
	n = c;
	n.queue_id = (struct pf_str){ NULL, 0 };
	cr_expect_eq(track_key_hash(&n), 0, "a line without a queue ID has a key");
	for (pass = 0; pass < 3; pass++) {
		struct got *g = pass == 2 ? &g3 : pass ? &g2 : &g1;

		memset(g, 0, sizeof(*g));
		lines[0] = c;
		lines[1] = a;
		t = track_new(0, emit, g);
		cr_assert_not_null(t);
		for (i = 0; i < 2; i++) {
			if (pass)
				lines[i].hint = track_key_hash(&lines[i]);
			if (pass == 2) { /* the key's bytes too, somewhere else */
				lines[i].hint_kn = track_key(&lines[i], keys[i], sizeof(keys[i]));
				lines[i].hint_key = keys[i];
			}
			track_event(t, &lines[i], SEC(i + 1));
		}
		track_free(t);
	}
	cr_expect_eq(g1.n, 1);
	cr_expect_eq(g2.n, g1.n);
	cr_expect_str_eq(g2.qid[0], g1.qid[0]);
	cr_expect_str_eq(g2.sasl[0], "alice");
	cr_expect_eq(g3.n, g1.n);
	cr_expect_str_eq(g3.qid[0], g1.qid[0]);
	cr_expect_str_eq(g3.sasl[0], "alice");
}
