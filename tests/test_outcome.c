/*
 * test_outcome - whose delivery outcomes a status= line is: the tracker
 * attributes every status=sent, deferred or bounced line of a counted
 * message to that message, a content-filter copy's to its original in
 * every order the lines can come in, never a reused queue ID's earlier
 * message's; and the state behind it survives a restart.  Events are built
 * by hand (no parser), one story per table row.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "count/track.h"

#define SEC(n) ((int64_t)(n) * 1000000)
#define T0 1000

/* What the tracker said, as text: "M qid who @s" per message, "O status qid who n @s" per outcome. */
struct said {
	char text[4096];
	size_t len;
};

/* who - the identity a message counts under first: its login, else its client, else its uid */
static const char *
who(const struct track_msg *m, char *buf, size_t len)
{
	if (m->sasl != NULL)
		return (m->sasl);
	if (m->client_ip != NULL)
		return (m->client_ip);
	snprintf(buf, len, "uid%ld", m->uid);
	return (buf);
}

static void
on_emit(void *ctx, const struct track_msg *m)
{
	struct said *s = ctx;
	char b[32];

	s->len += (size_t)snprintf(s->text + s->len, sizeof(s->text) - s->len, "%sM %s %s @%lld",
	    s->len ? "; " : "", m->queue_id, who(m, b, sizeof(b)),
	    (long long)(m->time_us / 1000000 - T0));
}

static void
on_outcome(void *ctx, const struct track_outcome *o)
{
	static const char *const st[] = { "sent", "deferred", "bounced" };
	struct said *s = ctx;
	char b[32];

	s->len += (size_t)snprintf(s->text + s->len, sizeof(s->text) - s->len,
	    "%sO %s %s %s %ld @%lld", s->len ? "; " : "", st[o->status], o->msg->queue_id,
	    who(o->msg, b, sizeof(b)), o->n, (long long)(o->time_us / 1000000 - T0));
}

/* ---------------------------------------------------------------- events */

/* One line of a story, as text: see ev() for the words. */
struct step {
	int sec;
	char line[120];
};

/* words - split s (in place) on blanks into w[], at most n; their number */
static int
words(char *s, char **w, int n)
{
	char *save = NULL, *p;
	int k = 0;

	for (p = strtok_r(s, " ", &save); p != NULL && k < n; p = strtok_r(NULL, " ", &save))
		w[k++] = p;
	return (k);
}

/* str - a pf_str over s */
static struct pf_str
str(const char *s)
{
	return ((struct pf_str){ s, strlen(s) });
}

/*
 * ev - the event of a step's line:
 *   client QID IP [LOGIN|-] [orig=QID]   smtpd client=
 *   pickup QID UID [orig=QID]             pickup uid= (orig_id=: a requeue)
 *   active QID FROM NRCPT                 qmgr (queue active); FROM "-": <>
 *   to QID STATUS [queued=QID]            a delivery line
 *   removed QID
 * The strings point into line, which must outlive the event.
 */
static struct pf_event
ev(char *line)
{
	struct pf_event e;
	char *w[8];
	int n;

	memset(&e, 0, sizeof(e));
	n = words(line, w, 8);
	cr_assert_geq(n, 2, "bad step");
	e.hdr = PF_HDR_ISO;
	e.host = str("mx");
	e.instance = str("postfix");
	e.queue_id = str(w[1]);
	e.uid = -1;
	e.nrcpt = -1;
	e.size = -1;
	if (strcmp(w[0], "client") == 0) {
		e.kind = PF_CLIENT;
		e.client_ip = str(w[2]);
		if (n > 3 && strcmp(w[3], "-") != 0 && strncmp(w[3], "orig=", 5) != 0)
			e.sasl_username = str(w[3]);
		if (strncmp(w[n - 1], "orig=", 5) == 0)
			e.orig_queue_id = str(w[n - 1] + 5);
	} else if (strcmp(w[0], "pickup") == 0) {
		e.kind = PF_PICKUP;
		e.uid = strtol(w[2], NULL, 10);
		if (n > 3)
			e.orig_id = str(w[3] + 5);
	} else if (strcmp(w[0], "active") == 0) {
		e.kind = PF_ACTIVE;
		e.sender = str(strcmp(w[2], "-") == 0 ? "" : w[2]);
		e.nrcpt = strtol(w[3], NULL, 10);
	} else if (strcmp(w[0], "to") == 0) {
		e.kind = PF_DELIVERY;
		e.to = str("rcpt@example.org");
		e.relay = str("mx.example.org[203.0.113.201]:25");
		e.status = str(w[2]);
		if (n > 3)
			e.queued_as = str(w[3] + 7);
	} else if (strcmp(w[0], "removed") == 0) {
		e.kind = PF_REMOVED;
	} else {
		cr_assert_fail("unknown step %s", w[0]);
	}
	return (e);
}

/* ---------------------------------------------------------------- stories */

struct story {
	char name[80];
	struct step steps[16];
	int nsteps;
	char want[600]; /* what the tracker said, in order */
};

#define ALICE_A(s) { s, "client A1 192.0.2.10 alice@example.com" }, { s, "active A1 alice@example.com 1" }

static struct story stories[] = {
	{ "a direct message: each status line is its own",
	  { ALICE_A(0), { 1, "to A1 deferred" }, { 2, "to A1 bounced" }, { 3, "to A1 sent" },
	      { 4, "removed A1" } },
	  5, "M A1 alice@example.com @0; O deferred A1 alice@example.com 1 @1; "
	     "O bounced A1 alice@example.com 1 @2; O sent A1 alice@example.com 1 @3" },
	{ "deferred, retried, then bounced",
	  { ALICE_A(0), { 5, "to A1 deferred" }, { 600, "active A1 alice@example.com 1" },
	      { 601, "to A1 bounced" }, { 602, "removed A1" } },
	  5, "M A1 alice@example.com @0; O deferred A1 alice@example.com 1 @5; "
	     "O bounced A1 alice@example.com 1 @601" },
	{ "a copy, hand-off first: its bounces are the original's, the hand-off no delivery",
	  { ALICE_A(0), { 1, "to A1 sent queued=B2" }, { 1, "removed A1" },
	      { 2, "client B2 127.0.0.1 -" }, { 2, "active B2 alice@example.com 1" },
	      { 3, "to B2 bounced" }, { 4, "removed B2" } },
	  7, "M A1 alice@example.com @0; O bounced A1 alice@example.com 1 @3" },
	{ "a copy, hand-off after the copy was queued",
	  { ALICE_A(0), { 2, "client B2 127.0.0.1 -" }, { 2, "active B2 alice@example.com 1" },
	      { 3, "to A1 sent queued=B2" }, { 3, "removed A1" }, { 4, "to B2 bounced" },
	      { 5, "removed B2" } },
	  7, "M A1 alice@example.com @0; O bounced A1 alice@example.com 1 @4" },
	{ "a copy delivered and removed before the hand-off names it",
	  { ALICE_A(0), { 2, "client B2 127.0.0.1 -" }, { 2, "active B2 alice@example.com 2" },
	      { 3, "to B2 bounced" }, { 3, "to B2 sent" }, { 4, "removed B2" },
	      { 5, "to A1 sent queued=B2" }, { 5, "to A1 sent queued=B2" }, { 5, "removed A1" } },
	  9, "M A1 alice@example.com @0; O bounced A1 alice@example.com 1 @3; "
	     "O sent A1 alice@example.com 1 @3" },
	{ "a reused queue ID: the later message's bounce is the later message's",
	  { ALICE_A(0), { 1, "to A1 bounced" }, { 2, "removed A1" },
	      { 100, "client A1 192.0.2.20 bob@example.com" },
	      { 100, "active A1 bob@example.com 1" }, { 101, "to A1 bounced" },
	      { 102, "removed A1" } },
	  7, "M A1 alice@example.com @0; O bounced A1 alice@example.com 1 @1; "
	     "M A1 bob@example.com @100; O bounced A1 bob@example.com 1 @101" },
	{ "a hand-off names a reused ID: the earlier holder's bounce stays its own",
	  { { 0, "client B2 198.51.100.7 -" }, { 0, "active B2 info@shop.example 1" },
	      { 1, "to B2 bounced" }, { 1, "removed B2" }, ALICE_A(2),
	      { 3, "to A1 sent queued=B2" }, { 3, "removed A1" }, { 4, "client B2 127.0.0.1 -" },
	      { 4, "active B2 alice@example.com 1" }, { 5, "to B2 bounced" },
	      { 6, "removed B2" } },
	  12, "M A1 alice@example.com @2; O bounced A1 alice@example.com 1 @5; "
	      "M B2 198.51.100.7 @0; O bounced B2 198.51.100.7 1 @1" },
	{ "orig_queue_id names the original",
	  { ALICE_A(0), { 2, "client B2 127.0.0.1 - orig=A1" },
	      { 2, "active B2 alice@example.com 1" }, { 3, "to B2 bounced" },
	      { 4, "to A1 sent queued=B2" }, { 4, "removed A1" }, { 5, "removed B2" } },
	  7, "M A1 alice@example.com @0; O bounced A1 alice@example.com 1 @3" },
	{ "a requeue's deliveries are its original's",
	  { { 0, "pickup P1 33" }, { 0, "active P1 www-data@example.com 1" },
	      { 1, "to P1 deferred" }, { 60, "pickup P2 0 orig=P1" },
	      { 60, "active P2 www-data@example.com 1" }, { 61, "to P2 bounced" },
	      { 62, "removed P2" } },
	  7, "M P1 uid33 @0; O deferred P1 uid33 1 @1; O bounced P1 uid33 1 @61" },
	{ "a remote server's queued as is a delivery, once no copy claims it",
	  { ALICE_A(0), { 1, "to A1 sent queued=R9" }, { 1, "to A1 sent queued=R9" },
	      { 2, "removed A1" } },
	  4, "M A1 alice@example.com @0; O sent A1 alice@example.com 2 @1" },
	{ "an unauthenticated message's bounce waits with it, at its own time",
	  { { 0, "client C3 127.0.0.1 -" }, { 0, "active C3 app@example.com 1" },
	      { 1, "to C3 bounced" }, { 2, "removed C3" } },
	  4, "M C3 127.0.0.1 @0; O bounced C3 127.0.0.1 1 @1" },
	{ "a bounce notice and a forward count for nobody",
	  { { 0, "active N4 - 1" }, { 1, "to N4 bounced" }, { 2, "removed N4" } },
	  3, "" },
	{ "the copy of a held-back original: its outcomes wait for the original",
	  { { 0, "client D5 198.51.100.7 -" }, { 0, "active D5 news@lists.example 1" },
	      { 1, "to D5 sent queued=E6" }, { 1, "removed D5" }, { 2, "client E6 127.0.0.1 -" },
	      { 2, "active E6 news@lists.example 1" }, { 3, "to E6 bounced" },
	      { 4, "removed E6" } },
	  8, "M D5 198.51.100.7 @0; O bounced D5 198.51.100.7 1 @3" },
};

/* play - the story through a tracker, lines first to last, then the end of the input */
static void
play(const struct story *st, struct said *s)
{
	struct track *t = track_new(0, on_emit, s);
	struct step copy[16];
	int i;

	cr_assert_not_null(t);
	memset(s, 0, sizeof(*s));
	memcpy(copy, st->steps, sizeof(copy));
	track_set_outcome(t, on_outcome, s);
	for (i = 0; i < st->nsteps; i++) {
		struct pf_event e = ev(copy[i].line);

		track_event(t, &e, SEC(T0 + copy[i].sec));
	}
	track_finish(t);
	track_free(t);
}

ParameterizedTestParameters(outcome, stories)
{
	return (cr_make_param_array(struct story, stories, sizeof(stories) / sizeof(stories[0])));
}

ParameterizedTest(struct story *st, outcome, stories)
{
	struct said s;

	play(st, &s);
	cr_expect_str_eq(s.text, st->want, "%s:\n got  %s\n want %s", st->name, s.text, st->want);
}

/* ---------------------------------------------------------------- restarts */

/* A key/value store in memory, as the daemon's track_state table. */
struct kv {
	int ns[256];
	unsigned char k[256][512], v[256][16384];
	size_t kn[256], vn[256], n;
};

/* kv_find - the entry (ns, key), or n when there is none */
static size_t
kv_find(const struct kv *kv, int ns, const void *k, size_t kn)
{
	size_t i;

	for (i = 0; i < kv->n; i++)
		if (kv->ns[i] == ns && kv->kn[i] == kn && memcmp(kv->k[i], k, kn) == 0)
			return (i);
	return (kv->n);
}

static int
kv_put(void *ctx, int ns, const void *k, size_t kn, const void *v, size_t vn)
{
	struct kv *kv = ctx;
	size_t i = kv_find(kv, ns, k, kn);

	cr_assert_lt(i, 256);
	cr_assert_leq(kn, sizeof(kv->k[0]));
	cr_assert_leq(vn, sizeof(kv->v[0]));
	if (i == kv->n)
		kv->n++;
	kv->ns[i] = ns;
	memcpy(kv->k[i], k, kn);
	kv->kn[i] = kn;
	memcpy(kv->v[i], v, vn);
	kv->vn[i] = vn;
	return (0);
}

static int
kv_del(void *ctx, int ns, const void *k, size_t kn)
{
	struct kv *kv = ctx;
	size_t i = kv_find(kv, ns, k, kn);

	if (i < kv->n) {
		kv->n--;
		kv->ns[i] = kv->ns[kv->n];
		memcpy(kv->k[i], kv->k[kv->n], kv->kn[kv->n]);
		kv->kn[i] = kv->kn[kv->n];
		memcpy(kv->v[i], kv->v[kv->n], kv->vn[kv->n]);
		kv->vn[i] = kv->vn[kv->n];
	}
	return (0);
}

static const struct track_persist_ops kv_ops = { kv_put, kv_del };

/* kv_apply_log - as the daemon starts: the saved log rows, oldest first, applied and deleted */
static void
kv_apply_log(struct kv *kv)
{
	static unsigned char row[16384];
	unsigned char key[8];
	size_t i, first, n;

	for (;;) {
		first = kv->n;
		for (i = 0; i < kv->n; i++)
			if (kv->ns[i] == TRACK_NS_LOG &&
			    (first == kv->n || memcmp(kv->k[i], kv->k[first], 8) < 0))
				first = i;
		if (first == kv->n)
			return;
		cr_assert_eq(kv->kn[first], 8);
		memcpy(key, kv->k[first], 8);
		n = kv->vn[first];
		memcpy(row, kv->v[first], n);
		cr_assert_eq(track_log_apply(row, n, &kv_ops, kv), 0);
		kv_del(kv, TRACK_NS_LOG, key, 8);
	}
}

/*
 * Each story again, with the tracker saved after every line and a new one
 * restored from what was saved before the next: what it says must not
 * change (exactly once across restarts).
 */
ParameterizedTestParameters(outcome, restarts)
{
	return (cr_make_param_array(struct story, stories, sizeof(stories) / sizeof(stories[0])));
}

ParameterizedTest(struct story *st, outcome, restarts)
{
	static const int lags[] = { 0, 1, 40 };
	static struct kv kv;
	struct step copy[16];
	struct said s;
	struct track *t;
	int i, ns, li;
	size_t j;

	for (li = 0; li < 3; li++) {
	memset(&kv, 0, sizeof(kv));
	memset(&s, 0, sizeof(s));
	memcpy(copy, st->steps, sizeof(copy));
	for (i = 0; i <= st->nsteps; i++) {
		cr_assert_not_null(t = track_new(0, on_emit, &s));
		track_set_outcome(t, on_outcome, &s);
		cr_assert_eq(track_log_lag(t, lags[li]), 0);
		kv_apply_log(&kv);
		for (ns = TRACK_NS_REC; ns <= TRACK_NS_EXPECT; ns++)
			for (j = 0; j < kv.n; j++)
				if (kv.ns[j] == ns)
					cr_assert_eq(track_restore(t, ns, kv.k[j], kv.kn[j], kv.v[j],
							 kv.vn[j]),
					    0, "%s: entry of namespace %d not restored", st->name, ns);
		track_keep_dirty(t, 1);
		if (i == st->nsteps) {
			track_finish(t);
		} else {
			struct pf_event e = ev(copy[i].line);

			track_event(t, &e, SEC(T0 + copy[i].sec));
		}
		cr_assert_eq(track_persist(t, &kv_ops, &kv), 0);
		track_free(t);
	}
	cr_expect_str_eq(s.text, st->want,
	    "%s, lag %d, restarted after every line:\n got  %s\n want %s", st->name, lags[li],
	    s.text, st->want);
	}
}
