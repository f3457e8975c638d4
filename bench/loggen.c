/*
 * NAME
 *	loggen - realistic Postfix log generator with ground truth
 * SUMMARY
 *	loggen --lines N [--seed S] [--format bsd|bsd0|rfc3339] [--start EPOCH]
 *	       [--rate LINES_PER_SEC] [--long-ids PCT] --out FILE|- --truth FILE
 *
 *	Writes an interleaved mail log of exactly N lines, as one Postfix host
 *	("mail") would log it: many concurrent SMTP sessions and daemons,
 *	noise that must not matter (postscreen, dnsblog, anvil, tlsproxy,
 *	connect/disconnect, cleanup message-id, TLS lines, SASL failures,
 *	NOQUEUE rejects, dovecot and cron lines), and these message kinds:
 *	SASL submissions (with burst logins and mixed-case logins), deferred
 *	mail with retries, an after-queue content filter (amavis, 10024/10025)
 *	with the re-injection logged before, after, and even removed before
 *	the hand-off line, queue-ID reuse after "removed", bounces with their
 *	NDRs, pickup submissions (uid 33 bursts), postsuper -r requeues,
 *	inbound mail from remote MX hosts, and local applications that submit
 *	to 127.0.0.1 without SASL and without a content filter.
 *	The same seed and options give the same bytes.  bsd is the classic
 *	syslog header with a space-padded day ("Mar  2"), bsd0 the zero-padded
 *	one of maillog_file ("Mar 02"), rfc3339 has microseconds and +00:00.
 *	All times are UTC; audit BSD logs with TZ=UTC and --year.
 *
 *	The truth file is TSV with two kinds of lines (message lines first, in
 *	log order, then identity lines sorted by identity):
 *
 *	  message<TAB>EPOCH<TAB>QUEUE_ID<TAB>NRCPT<TAB>ID1,ID2,...
 *	  identity<TAB>ID<TAB>MESSAGES<TAB>RECIPIENTS<TAB>BOUNCED
 *
 *	EPOCH is the time of the message's first qmgr "(queue active)" line
 *	as the log shows it, in seconds with six decimals (".000000" for the
 *	BSD formats, which log whole seconds).  A message counts once, at that
 *	line; NRCPT is the nrcpt of that line.  Its identities are sasl:LOGIN
 *	(lower-cased) for an smtpd client line with sasl_username, uid:N for a
 *	pickup submission, ip:ADDR for an smtpd client line, sender:ADDR from
 *	the qmgr from=<ADDR> (lower-cased, none when empty).  Content-filter
 *	re-injections, bounces (NDRs) and postsuper -r requeues are not
 *	counted and give no identity.  BOUNCED is the number of status=bounced
 *	lines (one recipient each) in the log of the identity's counted
 *	messages, their content-filter copies included (a copy's deliveries
 *	are its original's).  Burst logins (stolen passwords) forge envelope
 *	senders (a third of their messages) and bounce ten times as often.
 * UNTRUSTED INPUT
 *	Only the command line, which is range-checked.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define USEC 1000000LL
#define HOSTNAME "mail"
#define MAX_RCPT 5
#define REUSE_GAP (45 * USEC) /* a reused short QID rests this long */

enum fmt { FMT_BSD, FMT_BSD0, FMT_RFC3339 };

/* ------------------------------------------------------------------ */
/* random numbers (splitmix64) */

static uint64_t rng_state;

/* rnd - next 64 random bits */
static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* rint_in - uniform integer in [lo, hi] */
static long
rint_in(long lo, long hi)
{
	return lo + (long)(rnd() % (uint64_t)(hi - lo + 1));
}

/* runit - uniform double in [0, 1) */
static double
runit(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* chance - 1 with probability p */
static int
chance(double p)
{
	return runit() < p;
}

/* ms - random duration between lo and hi milliseconds, in microseconds */
static int64_t
ms(long lo, long hi)
{
	return (int64_t)rint_in(lo * 1000L, hi * 1000L);
}

/* rexp - exponential variate with the given mean */
static double
rexp(double mean)
{
	return -mean * log(1.0 - runit());
}

/* ------------------------------------------------------------------ */
/* fatal errors and memory */

/* die - print a message and exit 2 */
static void
die(const char *msg)
{
	fprintf(stderr, "loggen: %s\n", msg);
	exit(2);
}

/* xmalloc - malloc or die */
static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		die("out of memory");
	return p;
}

/* xstrdup - strdup or die */
static char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = xmalloc(n);

	memcpy(p, s, n);
	return p;
}

/* lower - copy s lower-cased into buf */
static void
lower(char *buf, size_t len, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
	buf[i] = '\0';
}

/* ------------------------------------------------------------------ */
/* pending lines: a heap ordered by (time, push order) */

struct tmsg { /* a counted message, for the truth */
	char qid[32];
	int nrcpt;
	char ids[4][144];
	int nids;
	int bounce; /* 1: the record of a bounce line of that message, not the message */
};

struct pline {
	int64_t t;
	uint64_t seq;
	char *text;
	struct tmsg *tm;
};

static struct pline *heap;
static size_t heap_n, heap_cap;
static uint64_t push_seq;
static uint64_t pushed_total;

/* pl_less - heap order */
static int
pl_less(const struct pline *a, const struct pline *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

/* heap_push - add one pending line */
static void
heap_push(int64_t t, char *text, struct tmsg *tm)
{
	size_t i;
	struct pline x;

	if (heap_n == heap_cap) {
		heap_cap = heap_cap ? heap_cap * 2 : 4096;
		heap = realloc(heap, heap_cap * sizeof(*heap));
		if (heap == NULL)
			die("out of memory");
	}
	x.t = t;
	x.seq = push_seq++;
	x.text = text;
	x.tm = tm;
	i = heap_n++;
	while (i > 0 && pl_less(&x, &heap[(i - 1) / 2])) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = x;
	pushed_total++;
}

/* heap_pop - remove the earliest line */
static struct pline
heap_pop(void)
{
	struct pline top = heap[0], x = heap[--heap_n];
	size_t i = 0, c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= heap_n)
			break;
		if (c + 1 < heap_n && pl_less(&heap[c + 1], &heap[c]))
			c++;
		if (!pl_less(&heap[c], &x))
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (heap_n > 0)
		heap[i] = x;
	return top;
}

/* P - queue one line "prog[pid]: text" at time t (tm: truth record) */
static void P(int64_t t, struct tmsg *tm, const char *prog, long pid, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
P(int64_t t, struct tmsg *tm, const char *prog, long pid, const char *fmt, ...)
{
	char buf[2048];
	int n;
	va_list ap;

	n = snprintf(buf, sizeof(buf), "%s[%ld]: ", prog, pid);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	heap_push(t, xstrdup(buf), tm);
}

/* R - queue a raw line (program and pid already in text) */
static void
R(int64_t t, const char *text)
{
	heap_push(t, xstrdup(text), NULL);
}

/* ------------------------------------------------------------------ */
/* processes */

static long next_pid = 21000;
static long qmgr_pid, pickup_pid, postscreen_pid, anvil_pid;
static long cleanup_pid[3], smtp_pid[4], virtual_pid[2], bounce_pid;
static long amavis_child[4];
static int amavis_seq[4];

/* new_pid - a fresh process id */
static long
new_pid(void)
{
	next_pid += rint_in(1, 9);
	if (next_pid > 4190000)
		next_pid = 1200;
	return next_pid;
}

/* pool_pid - one of a small pool of worker pids, sometimes replaced */
static long
pool_pid(long *pool, size_t n)
{
	size_t i = (size_t)rint_in(0, (long)n - 1);

	if (pool[i] == 0 || chance(0.004))
		pool[i] = new_pid();
	return pool[i];
}

/* ------------------------------------------------------------------ */
/* queue IDs */

static const char b52[] = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";

/* set of every ID ever handed out (local and remote), open addressing */
static char **idset;
static size_t idset_n, idset_cap;

/* str_hash - FNV-1a */
static uint64_t
str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* idset_add - 1 when added, 0 when already there */
static int
idset_add(const char *id)
{
	size_t i;

	if (idset_n * 2 >= idset_cap) {
		char **old = idset;
		size_t oc = idset_cap, j;

		idset_cap = oc ? oc * 2 : 1 << 14;
		idset = calloc(idset_cap, sizeof(*idset));
		if (idset == NULL)
			die("out of memory");
		idset_n = 0;
		for (j = 0; j < oc; j++)
			if (old[j] != NULL) {
				i = str_hash(old[j]) & (idset_cap - 1);
				while (idset[i] != NULL)
					i = (i + 1) & (idset_cap - 1);
				idset[i] = old[j];
				idset_n++;
			}
		free(old);
	}
	i = str_hash(id) & (idset_cap - 1);
	while (idset[i] != NULL) {
		if (strcmp(idset[i], id) == 0)
			return 0;
		i = (i + 1) & (idset_cap - 1);
	}
	idset[i] = xstrdup(id);
	idset_n++;
	return 1;
}

/* enc52 - value in base 52 (or 51), at least width digits */
static void
enc52(char *out, size_t len, uint64_t v, int base, int width)
{
	char tmp[32];
	int n = 0, i;

	do {
		tmp[n++] = b52[v % (uint64_t)base];
		v /= (uint64_t)base;
	} while (v > 0 && n < 30);
	while (n < width && n < 30)
		tmp[n++] = '0';
	for (i = 0; i < n && (size_t)i + 1 < len; i++)
		out[i] = tmp[n - 1 - i];
	out[i] = '\0';
}

/* make_id - a fresh queue ID for a file created at time t */
static void
make_id(char *out, size_t len, int64_t t, int is_long)
{
	if (is_long) {
		char a[10], b[6], c[8];

		enc52(a, sizeof(a), (uint64_t)(t / USEC), 52, 6);
		enc52(b, sizeof(b), (uint64_t)(t % USEC), 52, 4);
		enc52(c, sizeof(c), (uint64_t)rint_in(20000, 6000000), 51, 1);
		snprintf(out, len, "%s%sz%s", a, b, c);
	} else if (chance(0.2)) {
		snprintf(out, len, "%05X%lX", (unsigned)(t % USEC),
		    (unsigned long)rint_in(0x100000, 0x3FFFFF));
	} else {
		snprintf(out, len, "%05X%lX", (unsigned)(t % USEC),
		    (unsigned long)rint_in(0x10000, 0xFFFFF));
	}
}

/* short IDs that were removed and may be used again */
struct freeid {
	char id[32];
	int64_t free_after;
};

static struct freeid *freeids;
static size_t nfree, free_cap;
static double long_frac = 0.1;
static unsigned long reused_ids;

/* qid_new - a queue ID free from time t on (maybe a reused one) */
static void
qid_new(char *out, size_t len, int64_t t)
{
	size_t i, start;

	if (nfree > 0 && chance(0.03)) {
		start = (size_t)rint_in(0, (long)nfree - 1);
		for (i = 0; i < nfree && i < 64; i++) {
			size_t k = (start + i) % nfree;

			if (freeids[k].free_after + REUSE_GAP < t) {
				snprintf(out, len, "%s", freeids[k].id);
				freeids[k] = freeids[--nfree];
				reused_ids++;
				return;
			}
		}
	}
	do
		make_id(out, len, t, chance(long_frac));
	while (!idset_add(out));
}

/* qid_release - id is removed at time t; short IDs may come back */
static void
qid_release(const char *id, int64_t t)
{
	size_t k;

	if (strchr(id, 'z') != NULL || strlen(id) >= 14)
		return; /* long IDs are not reused */
	if (nfree == free_cap) {
		if (free_cap >= 4096) {
			k = (size_t)rint_in(0, (long)nfree - 1);
			snprintf(freeids[k].id, sizeof(freeids[k].id), "%s", id);
			freeids[k].free_after = t;
			return;
		}
		free_cap = free_cap ? free_cap * 2 : 256;
		freeids = realloc(freeids, free_cap * sizeof(*freeids));
		if (freeids == NULL)
			die("out of memory");
	}
	snprintf(freeids[nfree].id, sizeof(freeids[nfree].id), "%s", id);
	freeids[nfree].free_after = t;
	nfree++;
}

/* remote_id - a queue ID of a remote server, never one of ours */
static void
remote_id(char *out, size_t len, int64_t t)
{
	do
		make_id(out, len, t + ms(0, 900), 0);
	while (!idset_add(out));
}

/* ------------------------------------------------------------------ */
/* people, hosts and addresses */

static const char *const first_names[] = {
	"alice",
	"bob",
	"carol",
	"dave",
	"erin",
	"frank",
	"grace",
	"heidi",
	"ivan",
	"judy",
	"mallory",
	"niaj",
	"olivia",
	"peggy",
	"rupert",
	"sybil",
	"trent",
	"victor",
	"walter",
	"wendy",
	"yolanda",
	"zoe",
	"anna",
	"ben",
	"clara",
	"dirk",
	"elena",
	"felix",
	"greta",
	"hugo",
	"ines",
	"jonas",
	"karla",
	"lars",
	"mona",
	"nils",
	"oskar",
	"paula",
	"quinn",
	"rosa",
	"sven",
	"tina",
	"ulf",
	"vera",
	"willi",
	"xenia",
	"yusuf",
	"zora",
	"info",
	"office",
	"sales",
	"support",
	"billing",
	"hr",
	"press",
	"team",
	"kontakt",
	"service",
	"admin",
	"booking",
};
#define NFIRST (sizeof(first_names) / sizeof(first_names[0]))

static const char *const hosted[] = { "example.com", "example.net", "mail.example.org" };
static const char *const remote_domains[] = {
	"example.org",
	"partner.example.net",
	"shop.example.org",
	"lists.example.org",
	"corp.example.com",
	"example.edu",
};
static const char *const remote_mx[] = {
	"mx.example.org[203.0.113.201]",
	"mx2.example.org[203.0.113.202]",
	"mail.partner.example.net[198.51.100.221]",
	"aspmx.example.net[2001:db8:4860::1b]",
	"mx.corp.example.com[203.0.113.210]",
	"relay.example.edu[198.51.100.230]",
};

struct user {
	char login[64]; /* canonical, lower case */
	char mixed[64]; /* upper-case spelling, "" when none */
	char ip[3][48];
	char host[3][96];
	int nip;
	double weight;
	int burster;
};

static struct user *users;
static size_t nusers;
static double user_wsum;

struct mxhost {
	char name[64];
	char ip[24];
};

static struct mxhost inmx[40];
static const size_t ninmx = 40;

static const char *const local_apps[] = {
	"nextcloud@example.com",
	"monitor@mail.example.com",
	"GitLab@Example.NET",
	"noreply@shop.example.com",
};

/* mixed_case - an upper-case spelling of a lower-case address */
static void
mixed_case(char *out, size_t len, const char *s)
{
	size_t i;
	int up = 1, style = (int)rint_in(0, 2);

	for (i = 0; s[i] != '\0' && i + 1 < len; i++) {
		char c = s[i];

		if (style == 2 || (up && c >= 'a' && c <= 'z') ||
		    (style == 1 && i > 0 && s[i - 1] == '@'))
			c = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
		up = (c == '@' || c == '.');
		out[i] = c;
	}
	out[i] = '\0';
}

/* user_ip - make one client address (and its PTR name) for user u */
static void
user_ip(struct user *u, int k)
{
	int a = (int)rint_in(2, 250);

	if (chance(0.12)) {
		snprintf(u->ip[k], sizeof(u->ip[k]), "2001:db8:%lx:%lx::%x",
		    (unsigned long)rint_in(1, 0xffff), (unsigned long)rint_in(1, 0xffff),
		    (unsigned)a);
		snprintf(u->host[k], sizeof(u->host[k]), "unknown");
		return;
	}
	if (chance(0.5)) {
		snprintf(u->ip[k], sizeof(u->ip[k]), "192.0.2.%d", a);
		snprintf(u->host[k], sizeof(u->host[k]), "dsl-192-0-2-%d.dyn.example.net", a);
	} else {
		a = (int)rint_in(2, 150);
		snprintf(u->ip[k], sizeof(u->ip[k]), "203.0.113.%d", a);
		snprintf(u->host[k], sizeof(u->host[k]), "%s",
		    chance(0.5) ? "unknown" : "office-gw.example.com");
	}
}

/* setup_people - users, inbound MX hosts */
static void
setup_people(long lines)
{
	size_t i, j, k;
	long want = 50 + lines / 1500;

	if (want > 200)
		want = 200;
	nusers = (size_t)want;
	users = calloc(nusers, sizeof(*users));
	if (users == NULL)
		die("out of memory");
	for (i = 0; i < nusers; i++) {
		struct user *u = &users[i];
		int dup;

		do {
			const char *fn = first_names[rint_in(0, (long)NFIRST - 1)];
			const char *dom = hosted[rint_in(0, 2)];

			if (chance(0.6))
				snprintf(u->login, sizeof(u->login), "%s@%s", fn, dom);
			else
				snprintf(u->login, sizeof(u->login), "%s.%c%ld@%s", fn,
				    (char)('a' + rint_in(0, 25)), rint_in(1, 99), dom);
			dup = 0;
			for (j = 0; j < i; j++)
				if (strcmp(users[j].login, u->login) == 0)
					dup = 1;
		} while (dup);
		if (chance(0.12))
			mixed_case(u->mixed, sizeof(u->mixed), u->login);
		u->nip = (int)rint_in(1, 3);
		for (k = 0; k < (size_t)u->nip; k++)
			user_ip(u, (int)k);
		u->weight = chance(0.15) ? 4.0 + runit() * 6.0 : 0.3 + runit();
		user_wsum += u->weight;
	}
	/* a few logins whose password is stolen, and one that was never mixed */
	for (k = 0; k < 4 && k < nusers; k++)
		users[(k * 7 + 3) % nusers].burster = 1;
	for (i = 0; i < ninmx; i++) {
		static const char *const pfx[] = { "mx", "mail", "smtp", "out", "mta" };

		snprintf(inmx[i].name, sizeof(inmx[i].name), "%s%zu.%s", pfx[i % 5], i / 5 + 1,
		    remote_domains[i % 6]);
		snprintf(inmx[i].ip, sizeof(inmx[i].ip), "198.51.100.%zu", 10 + i * 4);
	}
}

/* pick_user - a user chosen by activity weight */
static struct user *
pick_user(void)
{
	double x = runit() * user_wsum;
	size_t i;

	for (i = 0; i + 1 < nusers; i++) {
		x -= users[i].weight;
		if (x < 0)
			break;
	}
	return &users[i];
}

/* remote_addr - a random address outside our domains */
static void
remote_addr(char *out, size_t len)
{
	const char *fn = first_names[rint_in(0, (long)NFIRST - 1)];
	const char *dom = remote_domains[rint_in(0, 5)];

	if (chance(0.5))
		snprintf(out, len, "%s@%s", fn, dom);
	else
		snprintf(out, len, "%s.%c@%s", fn, (char)('a' + rint_in(0, 25)), dom);
}

/* n_rcpt - 1..5, mostly 1 */
static int
n_rcpt(void)
{
	double x = runit();

	return x < 0.62 ? 1 : x < 0.82 ? 2 : x < 0.92 ? 3 : x < 0.97 ? 4 : 5;
}

/* msgid - a Message-ID value */
static void
msgid(char *out, size_t len, int64_t t, const char *dom)
{
	snprintf(out, len, "%" PRIx64 ".%08lx%04lx@%s", (uint64_t)(t / 1000),
	    (unsigned long)rint_in(0, 0x7fffffff), (unsigned long)rint_in(0, 0xffff), dom);
}

/* ------------------------------------------------------------------ */
/* message life cycle */

struct msg {
	char qid[32];
	char from[128]; /* as logged by qmgr */
	char rcpt[MAX_RCPT][128];
	int nrcpt;
	long size;
	int local;        /* recipients are our users */
	struct tmsg *tm;  /* truth record, NULL when not counted */
	struct tmsg *own; /* truth record of the counted message whose deliveries these are */
	int bouncy;       /* a stolen login's mail: bounces often */
};

enum route { ROUTE_DIRECT, ROUTE_FILTER };

static const char tls_in[] = "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) "
			     "key-exchange X25519 server-signature RSA-PSS (2048 bits) "
			     "server-digest SHA256";

/* truth_new - a truth record for a counted message */
static struct tmsg *
truth_new(const struct msg *m, const char *kind1, const char *ip)
{
	struct tmsg *tm = xmalloc(sizeof(*tm));
	char low[128];

	memset(tm, 0, sizeof(*tm));
	snprintf(tm->qid, sizeof(tm->qid), "%s", m->qid);
	tm->nrcpt = m->nrcpt;
	if (kind1 != NULL) {
		lower(low, sizeof(low), kind1);
		snprintf(tm->ids[tm->nids++], sizeof(tm->ids[0]), "%s", low);
	}
	if (ip != NULL) {
		lower(low, sizeof(low), ip);
		snprintf(tm->ids[tm->nids++], sizeof(tm->ids[0]), "ip:%s", low);
	}
	if (m->from[0] != '\0') {
		lower(low, sizeof(low), m->from);
		snprintf(tm->ids[tm->nids++], sizeof(tm->ids[0]), "sender:%s", low);
	}
	return tm;
}

/* truth_bounce - the truth record of a bounce line of m (NULL when m counts nowhere) */
static struct tmsg *
truth_bounce(const struct msg *m)
{
	const struct tmsg *own = m->own != NULL ? m->own : m->tm;
	struct tmsg *b;

	if (own == NULL)
		return NULL;
	b = xmalloc(sizeof(*b));
	*b = *own;
	b->bounce = 1;
	return b;
}

/* active - the qmgr "(queue active)" line */
static void
active(int64_t t, const struct msg *m, int nrcpt, struct tmsg *tm)
{
	P(t, tm, "postfix/qmgr", qmgr_pid, "%s: from=<%s>, size=%ld, nrcpt=%d (queue active)",
	    m->qid, m->from, m->size, nrcpt);
}

/* delays - "delay=D, delays=a/b/c/d" for a delivery that took d usec */
static void
delays(char *out, size_t len, int64_t d)
{
	double s = (double)d / 1e6;
	double a = s * 0.1, b = s * 0.05, c = s * 0.3;

	snprintf(out, len, "delay=%.2g, delays=%.2g/%.2g/%.2g/%.2g", s, a, b, c,
	    s - a - b - c > 0 ? s - a - b - c : 0.0);
}

static int64_t deliver(int64_t t, struct msg *m, int retry, int64_t t0);

/* ndr - bounce notice for m, the NDR's own life; returns its end */
static int64_t
ndr(int64_t t, const struct msg *m)
{
	struct msg n;
	char mid[128];

	memset(&n, 0, sizeof(n));
	qid_new(n.qid, sizeof(n.qid), t);
	P(t, NULL, "postfix/bounce", pool_pid(&bounce_pid, 1),
	    "%s: sender non-delivery notification: %s", m->qid, n.qid);
	t += ms(1, 8);
	msgid(mid, sizeof(mid), t, HOSTNAME ".example.com");
	P(t, NULL, "postfix/cleanup", pool_pid(cleanup_pid, 3), "%s: message-id=<%s>", n.qid, mid);
	t += ms(1, 30);
	n.from[0] = '\0';
	n.size = 2000 + m->size / 10;
	n.nrcpt = 1;
	snprintf(n.rcpt[0], sizeof(n.rcpt[0]), "%s", m->from);
	n.local = strstr(m->from, "example.com") != NULL || strstr(m->from, "example.net") != NULL;
	active(t, &n, 1, NULL);
	return deliver(t + ms(5, 300), &n, 2, t);
}

/* deliver - delivery attempts of m from t on (retry: 0 first, 1 retry,
 * 2 never defer or bounce); logs "removed" and returns its time */
static int64_t
deliver(int64_t t, struct msg *m, int retry, int64_t t0)
{
	int i, left = 0, bounced = -1, keep[MAX_RCPT];
	char dl[96], rid[32];
	int64_t end;

	for (i = 0; i < m->nrcpt; i++) {
		int64_t d = ms(20, m->local ? 200 : 1500);
		long pid;

		t += d;
		delays(dl, sizeof(dl), t - t0);
		keep[i] = 0;
		if (m->local) {
			if (chance(0.5))
				P(t, NULL, "postfix/virtual", pool_pid(virtual_pid, 2),
				    "%s: to=<%s>, relay=virtual, %s, dsn=2.0.0, "
				    "status=sent (delivered to maildir)",
				    m->qid, m->rcpt[i], dl);
			else
				P(t, NULL, "postfix/pipe", new_pid(),
				    "%s: to=<%s>, relay=dovecot, %s, dsn=2.0.0, "
				    "status=sent (delivered via dovecot service)",
				    m->qid, m->rcpt[i], dl);
			continue;
		}
		pid = pool_pid(smtp_pid, 4);
		if (retry < 2 && chance(retry ? 0.35 : 0.05)) {
			P(t, NULL, "postfix/smtp", pid,
			    "%s: to=<%s>, relay=none, %s, dsn=4.4.1, status=deferred "
			    "(connect to %s:25: Connection timed out)",
			    m->qid, m->rcpt[i], dl, remote_mx[rint_in(0, 5)]);
			keep[i] = 1;
			left++;
			continue;
		}
		if (retry < 2 && (bounced < 0 || m->bouncy) && chance(m->bouncy ? 0.3 : 0.03)) {
			const char *mx = remote_mx[rint_in(0, 5)];

			P(t, truth_bounce(m), "postfix/smtp", pid,
			    "%s: to=<%s>, relay=%s:25, %s, dsn=5.1.1, status=bounced "
			    "(host %s said: 550 5.1.1 <%s>: Recipient address "
			    "rejected: User unknown in virtual mailbox table (in "
			    "reply to RCPT TO command))",
			    m->qid, m->rcpt[i], mx, dl, mx, m->rcpt[i]);
			if (bounced < 0)
				bounced = i;
			continue;
		}
		if (chance(0.3))
			P(t - ms(5, 15), NULL, "postfix/smtp", pid,
			    "Trusted TLS connection established to %s:25: TLSv1.3 "
			    "with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) "
			    "key-exchange X25519 server-signature RSA-PSS (2048 bits) "
			    "server-digest SHA256",
			    remote_mx[rint_in(0, 5)]);
		remote_id(rid, sizeof(rid), t);
		P(t, NULL, "postfix/smtp", pid,
		    "%s: to=<%s>, relay=%s:25, %s, dsn=2.0.0, status=sent "
		    "(250 2.0.0 Ok: queued as %s)",
		    m->qid, m->rcpt[i], remote_mx[rint_in(0, 5)], dl, rid);
	}
	if (bounced >= 0 && m->from[0] != '\0') {
		t += ms(2, 40);
		end = ndr(t, m);
		(void)end;
		t += ms(1, 5);
	}
	if (left > 0) {
		int j = 0;
		int64_t later = t + (int64_t)(rint_in(300, retry ? 4000 : 1800)) * USEC;

		for (i = 0; i < m->nrcpt; i++)
			if (keep[i])
				memmove(m->rcpt[j++], m->rcpt[i], sizeof(m->rcpt[0]));
		m->nrcpt = left;
		if (chance(0.15)) {
			/* the postmaster requeues it: postsuper -r, new queue ID */
			struct msg n = *m;
			long ps = new_pid();

			P(later, NULL, "postfix/postsuper", ps, "%s: requeued", m->qid);
			P(later + ms(0, 2), NULL, "postfix/postsuper", ps, "Requeued: 1 message");
			later += ms(100, 2000);
			qid_new(n.qid, sizeof(n.qid), later);
			P(later, NULL, "postfix/pickup", pickup_pid,
			    "%s: uid=0 from=<%s> orig_id=%s", n.qid, m->from, m->qid);
			later += ms(1, 10);
			msgid(dl, sizeof(dl), later, "example.com");
			P(later, NULL, "postfix/cleanup", pool_pid(cleanup_pid, 3),
			    "%s: message-id=<%s>", n.qid, dl);
			later += ms(5, 60);
			active(later, &n, n.nrcpt, NULL);
			/* the old ID is gone without "removed": never reused */
			return deliver(later + ms(5, 100), &n, 2, later);
		}
		active(later, m, left, NULL);
		return deliver(later + ms(5, 200), m, retry + 1, t0);
	}
	t += ms(0, 3);
	P(t, NULL, "postfix/qmgr", qmgr_pid, "%s: removed", m->qid);
	qid_release(m->qid, t);
	return t;
}

/* filter - hand m (already active at t) to amavis; the clean copy is
 * re-injected on 10025 with a new queue ID.  Three orders: (a) the
 * hand-off line comes before the copy's client line, (b) after the copy's
 * client and active lines, (c) after the copy is delivered and removed. */
static void
filter(int64_t t, struct msg *m, const char *cli_ip)
{
	struct msg c = *m;
	int order = (int)rint_in(0, 9); /* 0-1: (a) 2-6: (b) 7-9: (c) */
	int64_t tc, th, tq2, te, tr1;
	long spid = new_pid(), apid = pool_pid(amavis_child, 4);
	long cpid = pool_pid(cleanup_pid, 3), fpid = new_pid();
	size_t ai;
	char mid[128], dl[96], rid[32], rcpts[700];
	int i;

	for (ai = 0; ai < 3; ai++)
		if (amavis_child[ai] == apid)
			break;
	tc = t + ms(300, 1800); /* the re-injection connects */
	if (order < 2) {
		th = tc + ms(1, 10);
		tq2 = th + ms(1, 15);
	} else {
		tq2 = tc + ms(2, 10);
		th = 0; /* set below */
	}
	te = tq2 + ms(5, 10);
	qid_new(c.qid, sizeof(c.qid), order < 2 ? th - 2000 : tq2);
	c.tm = NULL;
	c.own = m->tm;
	c.size = m->size + rint_in(300, 1200);
	P(tc, NULL, "postfix/10025/smtpd", spid, "connect from localhost[127.0.0.1]");
	if (chance(0.25))
		P(tq2, NULL, "postfix/10025/smtpd", spid,
		    "%s: client=localhost[127.0.0.1], orig_queue_id=%s", c.qid, m->qid);
	else
		P(tq2, NULL, "postfix/10025/smtpd", spid, "%s: client=localhost[127.0.0.1]", c.qid);
	msgid(mid, sizeof(mid), tq2, "example.com");
	P(tq2 + ms(1, 4), NULL, "postfix/cleanup", cpid, "%s: message-id=<%s>", c.qid, mid);
	P(tq2 + ms(4, 5), NULL, "postfix/10025/smtpd", spid,
	    "disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=%d data=1 "
	    "quit=1 commands=%d",
	    c.nrcpt, c.nrcpt + 4);
	active(te, &c, c.nrcpt, NULL);
	if (order >= 7) {
		/* (c): the copy is delivered and removed before the hand-off */
		int64_t d = te + ms(5, 40);

		for (i = 0; i < c.nrcpt; i++) {
			delays(dl, sizeof(dl), d - te);
			if (c.local) {
				P(d, NULL, "postfix/virtual", pool_pid(virtual_pid, 2),
				    "%s: to=<%s>, relay=virtual, %s, dsn=2.0.0, "
				    "status=sent (delivered to maildir)",
				    c.qid, c.rcpt[i], dl);
			} else {
				remote_id(rid, sizeof(rid), d);
				P(d, NULL, "postfix/smtp", pool_pid(smtp_pid, 4),
				    "%s: to=<%s>, relay=%s:25, %s, dsn=2.0.0, status=sent "
				    "(250 2.0.0 Ok: queued as %s)",
				    c.qid, c.rcpt[i], remote_mx[rint_in(0, 5)], dl, rid);
			}
			d += ms(1, 20);
		}
		P(d, NULL, "postfix/qmgr", qmgr_pid, "%s: removed", c.qid);
		th = d + ms(1, 400);
	} else if (order >= 2) {
		th = te + ms(5, 120);
	}
	/* the amavis summary and the hand-off lines */
	rcpts[0] = '\0';
	for (i = 0; i < m->nrcpt; i++) {
		size_t n = strlen(rcpts);

		snprintf(rcpts + n, sizeof(rcpts) - n, "%s<%s>", i ? "," : "", m->rcpt[i]);
	}
	P(th - ms(1, 2), NULL, "amavis", apid,
	    "(%05ld-%02d) Passed CLEAN {%s}, %s[%s]:%ld <%s> -> %s, Queue-ID: %s, "
	    "Message-ID: <%s>, mail_id: %08lx%04lx, Hits: %.3f, size: %ld, "
	    "queued_as: %s, %ld ms",
	    apid % 100000, ++amavis_seq[ai], m->local ? "RelayedInbound" : "RelayedOutbound",
	    m->local ? "" : "ORIGINATING LOCAL ", cli_ip, rint_in(1024, 65000), m->from, rcpts,
	    m->qid, mid, (unsigned long)rint_in(0, 0x7fffffff), (unsigned long)rint_in(0, 0xffff),
	    runit() * 4 - 2, m->size, c.qid, rint_in(200, 3000));
	tr1 = th;
	for (i = 0; i < m->nrcpt; i++) {
		delays(dl, sizeof(dl), tr1 - t);
		P(tr1, NULL, "postfix/amavis/smtp", fpid,
		    "%s: to=<%s>, relay=127.0.0.1[127.0.0.1]:10024, %s, dsn=2.0.0, "
		    "status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): "
		    "250 2.0.0 Ok: queued as %s)",
		    m->qid, m->rcpt[i], dl, c.qid);
		tr1 += ms(0, 1);
	}
	tr1 += ms(0, 2);
	P(tr1, NULL, "postfix/qmgr", qmgr_pid, "%s: removed", m->qid);
	qid_release(m->qid, tr1);
	if (order >= 7)
		qid_release(c.qid, tr1); /* not before its hand-off line */
	else
		deliver(te + ms(5, 100), &c, 0, te);
}

/* route_msg - after m's first active line at t: filter or deliver */
static void
route_msg(int64_t t, struct msg *m, enum route r, const char *cli_ip)
{
	if (r == ROUTE_FILTER)
		filter(t, m, cli_ip);
	else
		deliver(t + ms(5, 200), m, 0, t);
}

/* fill_rcpts - recipients: our users when local, else remote */
static void
fill_rcpts(struct msg *m, int n, int local)
{
	int i;

	m->nrcpt = n;
	m->local = local;
	for (i = 0; i < n; i++) {
		if (local) {
			struct user *u = &users[rint_in(0, (long)nusers - 1)];

			snprintf(m->rcpt[i], sizeof(m->rcpt[i]), "%s", u->login);
		} else {
			remote_addr(m->rcpt[i], sizeof(m->rcpt[i]));
		}
	}
	m->size = rint_in(900, chance(0.1) ? 4000000 : 90000);
}

/* ------------------------------------------------------------------ */
/* stories: each queues all of its lines at once */

/* st_submission - one authenticated session of user u with n messages;
 * ip: override address (burst from a bot), returns the session end */
static int64_t
st_submission(int64_t t, struct user *u, int n, const char *ip, const char *host, int spammer)
{
	long pid = new_pid();
	char cli[160], mid[128];
	const char *login = u->login;
	const char *method = chance(0.7) ? "PLAIN" : "LOGIN";
	int i, rc = 0, k = (int)rint_in(0, u->nip - 1);

	if (ip == NULL) {
		ip = u->ip[k];
		host = u->host[k];
	}
	if (u->mixed[0] != '\0' && chance(0.5))
		login = u->mixed;
	snprintf(cli, sizeof(cli), "%s[%s]", host, ip);
	P(t, NULL, "postfix/submission/smtpd", pid, "connect from %s", cli);
	t += ms(20, 200);
	P(t, NULL, "postfix/submission/smtpd", pid,
	    "Anonymous TLS connection established from %s: %s", cli, tls_in);
	if (!spammer && chance(0.03)) {
		t += ms(100, 900);
		P(t, NULL, "postfix/submission/smtpd", pid,
		    "warning: %s: SASL %s authentication failed: "
		    "(reason unavailable), sasl_username=%s",
		    cli, method, login);
	}
	t += ms(50, 400);
	for (i = 0; i < n; i++) {
		struct msg m;
		int64_t ta;

		memset(&m, 0, sizeof(m));
		fill_rcpts(&m, n_rcpt(), chance(spammer ? 0.02 : 0.25));
		m.bouncy = spammer;
		if (spammer && chance(0.3))
			remote_addr(m.from, sizeof(m.from));
		else if (chance(0.1))
			snprintf(m.from, sizeof(m.from), "%s", login);
		else
			snprintf(m.from, sizeof(m.from), "%s", u->login);
		qid_new(m.qid, sizeof(m.qid), t);
		P(t, NULL, "postfix/submission/smtpd", pid,
		    "%s: client=%s, sasl_method=%s, sasl_username=%s", m.qid, cli, method, login);
		msgid(mid, sizeof(mid), t, strchr(u->login, '@') + 1);
		P(t + ms(2, 20), NULL, "postfix/cleanup", pool_pid(cleanup_pid, 3),
		    "%s: message-id=<%s>", m.qid, mid);
		ta = t + ms(25, 400);
		{
			char sl[80];

			snprintf(sl, sizeof(sl), "sasl:%s", login);
			m.tm = truth_new(&m, sl, ip);
		}
		active(ta, &m, m.nrcpt, m.tm);
		route_msg(ta, &m, chance(0.3) ? ROUTE_FILTER : ROUTE_DIRECT, ip);
		rc += m.nrcpt;
		t = ta + ms(spammer ? 50 : 200, spammer ? 900 : 4000);
	}
	P(t, NULL, "postfix/submission/smtpd", pid,
	    "disconnect from %s ehlo=2 starttls=1 auth=1 mail=%d rcpt=%d data=%d "
	    "quit=1 commands=%d",
	    cli, n, rc, n, 5 + 2 * n + rc);
	return t;
}

/* st_burst - a stolen login sends many messages from several places */
static void
st_burst(int64_t t, struct user *u)
{
	int total = (int)rint_in(40, 220), sent = 0;
	int64_t span = (int64_t)rint_in(600, 3000) * USEC;
	char bip[4][48], bhost[4][16];
	int nb = (int)rint_in(1, 3), i;

	for (i = 0; i < nb; i++) {
		snprintf(bip[i], sizeof(bip[i]), "203.0.113.%ld", rint_in(151, 199));
		snprintf(bhost[i], sizeof(bhost[i]), "unknown");
	}
	while (sent < total) {
		int n = (int)rint_in(1, 5);

		if (n > total - sent)
			n = total - sent;
		if (chance(0.2))
			st_submission(t, u, n, NULL, NULL, 1);
		else {
			i = (int)rint_in(0, nb - 1);
			st_submission(t, u, n, bip[i], bhost[i], 1);
		}
		sent += n;
		t += (int64_t)((double)span / total * n * (0.5 + runit()));
	}
}

/* st_inbound - mail from a remote MX, maybe through the content filter */
static void
st_inbound(int64_t t)
{
	const struct mxhost *h = &inmx[rint_in(0, (long)ninmx - 1)];
	long pid = new_pid(), port = rint_in(20000, 65000);
	struct msg m;
	char cli[120], mid[128];
	int64_t ta;

	P(t, NULL, "postfix/postscreen", postscreen_pid, "CONNECT from [%s]:%ld to [192.0.2.1]:25",
	    h->ip, port);
	t += ms(1, 120);
	P(t, NULL, "postfix/postscreen", postscreen_pid, "PASS OLD [%s]:%ld", h->ip, port);
	t += ms(1, 10);
	snprintf(cli, sizeof(cli), "%s[%s]", h->name, h->ip);
	P(t, NULL, "postfix/smtpd", pid, "connect from %s", cli);
	t += ms(20, 80);
	if (chance(0.8))
		P(t, NULL, "postfix/smtpd", pid, "Anonymous TLS connection established from %s: %s",
		    cli, tls_in);
	t += ms(100, 900);
	memset(&m, 0, sizeof(m));
	fill_rcpts(&m, n_rcpt(), 1);
	remote_addr(m.from, sizeof(m.from));
	if (chance(0.05))
		mixed_case(m.from, sizeof(m.from), m.from);
	else if (chance(0.03))
		m.from[0] = '\0'; /* a remote bounce: from=<> */
	qid_new(m.qid, sizeof(m.qid), t);
	P(t, NULL, "postfix/smtpd", pid, "%s: client=%s", m.qid, cli);
	msgid(mid, sizeof(mid), t, remote_domains[rint_in(0, 5)]);
	P(t + ms(2, 30), NULL, "postfix/cleanup", pool_pid(cleanup_pid, 3), "%s: message-id=<%s>",
	    m.qid, mid);
	P(t + ms(40, 300), NULL, "postfix/smtpd", pid,
	    "disconnect from %s ehlo=2 starttls=1 mail=1 rcpt=%d data=1 quit=1 "
	    "commands=%d",
	    cli, m.nrcpt, 6 + m.nrcpt);
	ta = t + ms(40, 320);
	m.tm = truth_new(&m, NULL, h->ip);
	active(ta, &m, m.nrcpt, m.tm);
	route_msg(ta, &m, chance(0.6) ? ROUTE_FILTER : ROUTE_DIRECT, h->ip);
}

/* st_pickup - sendmail(1) submission by a local uid; n messages */
static void
st_pickup(int64_t t, long uid, int n)
{
	int i;

	if (pickup_pid == 0 || chance(0.01))
		pickup_pid = new_pid();
	for (i = 0; i < n; i++) {
		struct msg m;
		char pfrom[128], mid[128], uidid[32];
		int64_t ta;

		memset(&m, 0, sizeof(m));
		fill_rcpts(&m, uid == 33 ? (int)rint_in(1, 3) : n_rcpt(), chance(0.2));
		if (uid == 33 && chance(0.5)) {
			snprintf(pfrom, sizeof(pfrom), "www-data");
			snprintf(m.from, sizeof(m.from), "www-data@mail.example.com");
		} else if (uid == 33) {
			snprintf(pfrom, sizeof(pfrom), "%s",
			    chance(0.5) ? "WordPress@Example.COM" : "shop@example.com");
			snprintf(m.from, sizeof(m.from), "%s", pfrom);
		} else if (uid == 0) {
			snprintf(pfrom, sizeof(pfrom), "root");
			snprintf(m.from, sizeof(m.from), "root@mail.example.com");
		} else {
			snprintf(pfrom, sizeof(pfrom), "user%ld", uid);
			snprintf(m.from, sizeof(m.from), "user%ld@mail.example.com", uid);
		}
		qid_new(m.qid, sizeof(m.qid), t);
		P(t, NULL, "postfix/pickup", pickup_pid, "%s: uid=%ld from=<%s>", m.qid, uid,
		    pfrom);
		msgid(mid, sizeof(mid), t, "mail.example.com");
		P(t + ms(1, 10), NULL, "postfix/cleanup", pool_pid(cleanup_pid, 3),
		    "%s: message-id=<%s>", m.qid, mid);
		ta = t + ms(10, 90);
		snprintf(uidid, sizeof(uidid), "uid:%ld", uid);
		m.tm = truth_new(&m, uidid, NULL);
		active(ta, &m, m.nrcpt, m.tm);
		route_msg(ta, &m, chance(0.2) ? ROUTE_FILTER : ROUTE_DIRECT, "127.0.0.1");
		t = ta + ms(uid == 33 ? 200 : 500, uid == 33 ? 3000 : 8000);
	}
}

/* st_localapp - an application on this host submits over SMTP without
 * AUTH and without a content filter; n messages in one session */
static void
st_localapp(int64_t t, int n)
{
	const char *app = local_apps[rint_in(0, 3)];
	long pid = new_pid();
	char mid[128];
	int i;

	P(t, NULL, "postfix/smtpd", pid, "connect from localhost[127.0.0.1]");
	t += ms(2, 30);
	for (i = 0; i < n; i++) {
		struct msg m;
		int64_t ta;

		memset(&m, 0, sizeof(m));
		fill_rcpts(&m, n_rcpt(), chance(0.3));
		snprintf(m.from, sizeof(m.from), "%s", app);
		qid_new(m.qid, sizeof(m.qid), t);
		P(t, NULL, "postfix/smtpd", pid, "%s: client=localhost[127.0.0.1]", m.qid);
		msgid(mid, sizeof(mid), t, "example.com");
		P(t + ms(1, 8), NULL, "postfix/cleanup", pool_pid(cleanup_pid, 3),
		    "%s: message-id=<%s>", m.qid, mid);
		ta = t + ms(8, 60);
		m.tm = truth_new(&m, NULL, "127.0.0.1");
		active(ta, &m, m.nrcpt, m.tm);
		route_msg(ta, &m, ROUTE_DIRECT, "127.0.0.1");
		t = ta + ms(30, 600);
	}
	P(t, NULL, "postfix/smtpd", pid,
	    "disconnect from localhost[127.0.0.1] ehlo=1 mail=%d rcpt=%d data=%d "
	    "quit=1 commands=%d",
	    n, n, n, 2 + 3 * n);
}

/* st_noise - lines that carry no message */
static void
st_noise(int64_t t)
{
	char ip[48], buf[512];
	long pid, port = rint_in(1024, 65000);
	int k = (int)rint_in(0, 99);

	if (chance(0.5))
		snprintf(ip, sizeof(ip), "198.51.100.%ld", rint_in(201, 254));
	else
		snprintf(ip, sizeof(ip), "203.0.113.%ld", rint_in(151, 199));
	if (k < 35) { /* a bot that postscreen turns away */
		long dp = new_pid();

		P(t, NULL, "postfix/postscreen", postscreen_pid,
		    "CONNECT from [%s]:%ld to [192.0.2.1]:25", ip, port);
		P(t + ms(5, 120), NULL, "postfix/dnsblog", dp,
		    "addr %s listed by domain zen.example.org as 127.0.0.%ld", ip, rint_in(2, 11));
		if (chance(0.5))
			P(t + ms(200, 400), NULL, "postfix/postscreen", postscreen_pid,
			    "PREGREET 11 after 0.2%ld from [%s]:%ld: EHLO User\\r\\n",
			    rint_in(0, 9), ip, port);
		P(t + ms(400, 600), NULL, "postfix/postscreen", postscreen_pid,
		    "DNSBL rank %ld for [%s]:%ld", rint_in(2, 6), ip, port);
		if (chance(0.3)) {
			long tp = new_pid();

			P(t + ms(700, 900), NULL, "postfix/tlsproxy", tp, "CONNECT from [%s]:%ld",
			    ip, port);
			P(t + ms(1000, 1500), NULL, "postfix/tlsproxy", tp,
			    "Anonymous TLS connection established from [%s]:%ld: "
			    "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 "
			    "(256/256 bits)",
			    ip, port);
			P(t + ms(1600, 2000), NULL, "postfix/tlsproxy", tp, "DISCONNECT [%s]:%ld",
			    ip, port);
			P(t + ms(2000, 2001), NULL, "postfix/postscreen", postscreen_pid,
			    "HANGUP after 2.1 from [%s]:%ld in tests after SMTP "
			    "handshake",
			    ip, port);
		}
		P(t + ms(2002, 2500), NULL, "postfix/postscreen", postscreen_pid,
		    "DISCONNECT [%s]:%ld", ip, port);
	} else if (k < 55) { /* password guessing on submission */
		const char *fn = first_names[rint_in(0, (long)NFIRST - 1)];
		int n = (int)rint_in(1, 3), i;

		pid = new_pid();
		P(t, NULL, "postfix/submission/smtpd", pid, "connect from unknown[%s]", ip);
		for (i = 0; i < n; i++) {
			t += ms(500, 3000);
			if (chance(0.5))
				P(t, NULL, "postfix/submission/smtpd", pid,
				    "warning: unknown[%s]: SASL LOGIN authentication "
				    "failed: (reason unavailable), sasl_username=%s@%s",
				    ip, fn, hosted[rint_in(0, 2)]);
			else
				P(t, NULL, "postfix/submission/smtpd", pid,
				    "warning: unknown[%s]: SASL LOGIN authentication "
				    "failed: UGFzc3dvcmQ6",
				    ip);
		}
		t += ms(10, 500);
		if (chance(0.5))
			P(t, NULL, "postfix/submission/smtpd", pid,
			    "lost connection after AUTH from unknown[%s]", ip);
		P(t, NULL, "postfix/submission/smtpd", pid,
		    "disconnect from unknown[%s] ehlo=1 auth=0/%d commands=1/%d", ip, n, n + 1);
	} else if (k < 70) { /* rejected at RCPT */
		char to[128], from[128];

		pid = new_pid();
		remote_addr(from, sizeof(from));
		snprintf(to, sizeof(to), "%s", users[rint_in(0, (long)nusers - 1)].login);
		P(t, NULL, "postfix/postscreen", postscreen_pid,
		    "CONNECT from [%s]:%ld to [192.0.2.1]:25", ip, port);
		P(t + ms(1, 5), NULL, "postfix/postscreen", postscreen_pid, "PASS NEW [%s]:%ld", ip,
		    port);
		t += ms(6, 20);
		P(t, NULL, "postfix/smtpd", pid, "connect from unknown[%s]", ip);
		t += ms(200, 900);
		if (chance(0.5))
			P(t, NULL, "postfix/smtpd", pid,
			    "NOQUEUE: reject: RCPT from unknown[%s]: 450 4.7.1 "
			    "<win-%04lx>: Helo command rejected: Host not found; "
			    "from=<%s> to=<%s> proto=ESMTP helo=<win-%04lx>",
			    ip, (unsigned long)rint_in(0, 0xffff), from, to,
			    (unsigned long)rint_in(0, 0xffff));
		else
			P(t, NULL, "postfix/smtpd", pid,
			    "NOQUEUE: reject: RCPT from unknown[%s]: 554 5.7.1 <%s>: "
			    "Relay access denied; from=<%s> to=<%s> proto=ESMTP "
			    "helo=<[%s]>",
			    ip, from, from, from, ip);
		t += ms(10, 300);
		P(t, NULL, "postfix/smtpd", pid,
		    "disconnect from unknown[%s] ehlo=1 mail=1 rcpt=0/1 quit=1 "
		    "commands=3/4",
		    ip);
	} else if (k < 78) { /* a scanner */
		static const char *const after[] = { "CONNECT", "EHLO", "STARTTLS", "UNKNOWN" };

		const char *prog = chance(0.5) ? "postfix/smtpd" : "postfix/submission/smtpd";
		char name[64];

		pid = new_pid();
		snprintf(name, sizeof(name), "scanner-%ld.example.net", rint_in(1, 40));
		P(t, NULL, prog, pid, "connect from %s[%s]", name, ip);
		P(t + ms(100, 3000), NULL, prog, pid, "lost connection after %s from %s[%s]",
		    after[rint_in(0, 3)], name, ip);
		P(t + ms(3001, 3100), NULL, prog, pid, "disconnect from %s[%s] ehlo=1 commands=1",
		    name, ip);
	} else if (k < 82) { /* anvil statistics */
		if (anvil_pid == 0 || chance(0.2))
			anvil_pid = new_pid();
		P(t, NULL, "postfix/anvil", anvil_pid,
		    "statistics: max connection rate %ld/60s for (smtpd:%s) at "
		    "Mar  2 03:1%ld:07",
		    rint_in(1, 9), ip, rint_in(0, 9));
		P(t + ms(0, 2), NULL, "postfix/anvil", anvil_pid,
		    "statistics: max connection count %ld for (smtpd:%s) at Mar  2 "
		    "03:1%ld:07",
		    rint_in(1, 4), ip, rint_in(0, 9));
		P(t + ms(2, 4), NULL, "postfix/anvil", anvil_pid,
		    "statistics: max cache size %ld at Mar  2 03:1%ld:07", rint_in(1, 12),
		    rint_in(0, 9));
	} else if (k < 92) { /* dovecot mentions users, and is not Postfix */
		struct user *u = pick_user();

		snprintf(buf, sizeof(buf),
		    "dovecot: imap-login: Login: user=<%s>, method=PLAIN, "
		    "rip=%s, lip=192.0.2.1, mpid=%ld, TLS, session=<%08lx>",
		    u->login, u->ip[0], new_pid(), (unsigned long)rint_in(0, 0x7fffffff));
		R(t, buf);
		if (chance(0.5)) {
			snprintf(buf, sizeof(buf),
			    "dovecot: imap(%s)<%ld><%08lx>: Disconnected: Logged "
			    "out in=%ld out=%ld",
			    u->login, new_pid(), (unsigned long)rint_in(0, 0x7fffffff),
			    rint_in(100, 9000), rint_in(100, 90000));
			R(t + ms(500, 60000), buf);
		}
	} else if (k < 95) {
		snprintf(buf, sizeof(buf),
		    "CRON[%ld]: (root) CMD (command -v "
		    "debian-sa1 > /dev/null && debian-sa1 1 1)",
		    new_pid());
		R(t, buf);
	} else { /* a warning that names no queue file */
		P(t, NULL, "postfix/smtpd", new_pid(),
		    "warning: hostname host-%ld.example.net does not resolve to "
		    "address %s: Name or service not known",
		    rint_in(1, 999), ip);
	}
}

/* st_one - start one story at time t (big: bursts allowed) */
static void
st_one(int64_t t, int big)
{
	double x = runit();
	int i;

	if (!big && x < 0.0016)
		x = 0.5;
	if (x < 0.0004) { /* a stolen login */
		struct user *b = NULL;

		for (i = 0; i < 20 && b == NULL; i++) {
			struct user *u = &users[rint_in(0, (long)nusers - 1)];

			if (u->burster)
				b = u;
		}
		st_burst(t, b ? b : &users[0]);
	} else if (x < 0.0007) { /* a contact-form spam run */
		st_pickup(t, 33, (int)rint_in(40, 160));
	} else if (x < 0.0010) { /* the newsletter job */
		int n = (int)rint_in(60, 120);

		while (n > 0) {
			int k = n > 8 ? 8 : n;

			st_localapp(t, k);
			n -= k;
			t += ms(4000, 9000);
		}
	} else if (x < 0.25) {
		st_submission(t, pick_user(), chance(0.85) ? 1 : (int)rint_in(2, 3), NULL, NULL, 0);
	} else if (x < 0.43) {
		st_inbound(t);
	} else if (x < 0.49) {
		static const long uids[] = { 33, 33, 1000, 1001, 0, 1002 };

		st_pickup(t, uids[rint_in(0, 5)], chance(0.8) ? 1 : 2);
	} else if (x < 0.52) {
		st_localapp(t, chance(0.7) ? 1 : (int)rint_in(2, 4));
	} else {
		st_noise(t);
	}
}

/* ------------------------------------------------------------------ */
/* output and truth */

struct ident {
	char *id;
	long msgs, rcpts, bounced;
};

static struct ident *itab;
static size_t itab_n, itab_cap;

/* ident_add - count one message of identity id (nrcpt < 0: one bounced recipient) */
static void
ident_add(const char *id, int nrcpt)
{
	size_t i;

	if (itab_n * 2 >= itab_cap) {
		struct ident *old = itab;
		size_t oc = itab_cap, j;

		itab_cap = oc ? oc * 2 : 1024;
		itab = calloc(itab_cap, sizeof(*itab));
		if (itab == NULL)
			die("out of memory");
		for (j = 0; j < oc; j++)
			if (old[j].id != NULL) {
				i = str_hash(old[j].id) & (itab_cap - 1);
				while (itab[i].id != NULL)
					i = (i + 1) & (itab_cap - 1);
				itab[i] = old[j];
			}
		free(old);
	}
	i = str_hash(id) & (itab_cap - 1);
	while (itab[i].id != NULL && strcmp(itab[i].id, id) != 0)
		i = (i + 1) & (itab_cap - 1);
	if (itab[i].id == NULL) {
		itab[i].id = xstrdup(id);
		itab_n++;
	}
	if (nrcpt < 0) {
		itab[i].bounced++;
		return;
	}
	itab[i].msgs++;
	itab[i].rcpts += nrcpt;
}

/* ident_cmp - qsort by identity */
static int
ident_cmp(const void *a, const void *b)
{
	const struct ident *x = a, *y = b;

	return strcmp(x->id, y->id);
}

static enum fmt out_fmt = FMT_RFC3339;

/* header - the syslog header of time t into buf */
static void
header(char *buf, size_t len, int64_t t)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
		"Sep", "Oct", "Nov", "Dec" };
	time_t s = (time_t)(t / USEC);
	struct tm tm;

	gmtime_r(&s, &tm);
	if (out_fmt == FMT_RFC3339)
		snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00 " HOSTNAME,
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    (int)(t % USEC));
	else
		snprintf(buf, len,
		    out_fmt == FMT_BSD ? "%s %2d %02d:%02d:%02d " HOSTNAME
				       : "%s %02d %02d:%02d:%02d " HOSTNAME,
		    mon[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* emit - write one line (and its truth) */
static void
emit(FILE *out, FILE *truth, const struct pline *l)
{
	char hdr[64];
	int i;

	header(hdr, sizeof(hdr), l->t);
	fprintf(out, "%s %s\n", hdr, l->text);
	if (l->tm != NULL && l->tm->bounce) {
		for (i = 0; i < l->tm->nids; i++)
			ident_add(l->tm->ids[i], -1);
	} else if (l->tm != NULL) {
		int64_t shown = out_fmt == FMT_RFC3339 ? l->t : l->t / USEC * USEC;

		fprintf(truth, "message\t%lld.%06d\t%s\t%d\t", (long long)(shown / USEC),
		    (int)(shown % USEC), l->tm->qid, l->tm->nrcpt);
		for (i = 0; i < l->tm->nids; i++) {
			fprintf(truth, "%s%s", i ? "," : "", l->tm->ids[i]);
			ident_add(l->tm->ids[i], l->tm->nrcpt);
		}
		fputc('\n', truth);
	}
}

/* num_arg - parse a number option or die */
static double
num_arg(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi)) {
		fprintf(stderr, "loggen: bad value for %s: %s\n", opt, s);
		exit(2);
	}
	return v;
}

/* usage - print usage and exit 2 */
static void
usage(void)
{
	fprintf(stderr,
	    "usage: loggen --lines N [--seed S] [--format bsd|bsd0|rfc3339] "
	    "[--start EPOCH] [--rate LINES_PER_SEC] [--long-ids PCT] "
	    "--out FILE|- --truth FILE\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	long lines = -1, emitted = 0;
	uint64_t seed = 1;
	double rate = 2.0, avg = 12.0;
	int64_t start = 1772409600LL * USEC; /* 2026-03-02T00:00:00Z */
	int64_t next_t, last_t;
	const char *outp = NULL, *truthp = NULL;
	FILE *out, *truth;
	uint64_t stories = 0;
	size_t i;
	int a;

	for (a = 1; a < argc; a++) {
		const char *o = argv[a];

		if (a + 1 >= argc)
			usage();
		if (strcmp(o, "--lines") == 0)
			lines = (long)num_arg(o, argv[++a], 1, 1e9);
		else if (strcmp(o, "--seed") == 0)
			seed = (uint64_t)num_arg(o, argv[++a], 0, 1e15);
		else if (strcmp(o, "--start") == 0)
			start = (int64_t)num_arg(o, argv[++a], 0, 4e9) * USEC;
		else if (strcmp(o, "--rate") == 0)
			rate = num_arg(o, argv[++a], 0.001, 1e6);
		else if (strcmp(o, "--long-ids") == 0)
			long_frac = num_arg(o, argv[++a], 0, 100) / 100.0;
		else if (strcmp(o, "--out") == 0)
			outp = argv[++a];
		else if (strcmp(o, "--truth") == 0)
			truthp = argv[++a];
		else if (strcmp(o, "--format") == 0) {
			const char *f = argv[++a];

			if (strcmp(f, "bsd") == 0)
				out_fmt = FMT_BSD;
			else if (strcmp(f, "bsd0") == 0)
				out_fmt = FMT_BSD0;
			else if (strcmp(f, "rfc3339") == 0)
				out_fmt = FMT_RFC3339;
			else
				usage();
		} else
			usage();
	}
	if (lines < 0 || outp == NULL || truthp == NULL)
		usage();
	rng_state = seed * 0x2545F4914F6CDD1DULL + 0x1234567ULL;
	if (strcmp(outp, "-") == 0)
		out = stdout;
	else if ((out = fopen(outp, "w")) == NULL) {
		perror(outp);
		return 2;
	}
	if ((truth = fopen(truthp, "w")) == NULL) {
		perror(truthp);
		return 2;
	}
	setvbuf(out, NULL, _IOFBF, 1 << 20);
	setup_people(lines);
	qmgr_pid = new_pid();
	postscreen_pid = new_pid();

	/*
	 * Stories start at exponential intervals sized so that the log has
	 * about `rate` lines a second.  A story queues all its lines; lines
	 * leave the heap in time order.  New stories stop when what is queued
	 * could overrun N lines; the rest is drained, then padded with noise.
	 */
	next_t = start;
	last_t = start;
	while (emitted < lines) {
		if (heap_n > 0 && heap[0].t < next_t) {
			struct pline l = heap_pop();

			emit(out, truth, &l);
			last_t = l.t;
			free(l.text);
			free(l.tm);
			emitted++;
			continue;
		}
		if ((long)heap_n + emitted + 400 >= lines)
			break;
		st_one(next_t, (long)heap_n + emitted + 8000 < lines);
		stories++;
		avg = (double)pushed_total / (double)stories;
		next_t += (int64_t)(rexp(avg / rate) * 1e6) + 1;
	}
	while (heap_n > 0) {
		struct pline l = heap_pop();

		if (emitted >= lines)
			die("internal error: queued lines overran --lines");
		emit(out, truth, &l);
		emitted++;
		last_t = l.t;
		free(l.text);
		free(l.tm);
	}
	while (emitted < lines) { /* pad: lines that carry no message */
		char buf[160], hdr[64];

		last_t += (int64_t)(rexp(1.0 / rate) * 1e6) + 1;
		header(hdr, sizeof(hdr), last_t);
		snprintf(buf, sizeof(buf),
		    "postfix/postscreen[%ld]: CONNECT from "
		    "[198.51.100.%ld]:%ld to [192.0.2.1]:25",
		    postscreen_pid, rint_in(201, 254), rint_in(1024, 65000));
		fprintf(out, "%s %s\n", hdr, buf);
		emitted++;
	}
	{
		size_t j = 0;

		for (i = 0; i < itab_cap; i++) /* compact, then sort */
			if (itab[i].id != NULL)
				itab[j++] = itab[i];
		qsort(itab, j, sizeof(*itab), ident_cmp);
		for (i = 0; i < j; i++)
			fprintf(truth, "identity\t%s\t%ld\t%ld\t%ld\n", itab[i].id, itab[i].msgs,
			    itab[i].rcpts, itab[i].bounced);
	}
	if (fflush(out) != 0 || ferror(out) || (out != stdout && fclose(out) != 0)) {
		perror(outp);
		return 2;
	}
	if (fclose(truth) != 0) {
		perror(truthp);
		return 2;
	}
	fprintf(stderr, "loggen: %ld lines, %zu identities, %lu reused queue IDs\n", emitted,
	    itab_n, reused_ids);
	return 0;
}
