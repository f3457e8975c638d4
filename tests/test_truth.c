/*
 * NAME
 *	test_truth - audit exactness against loggen's ground truth
 * SUMMARY
 *	Each row of the case table gives a log and its truth: two logs of
 *	200,000 lines made by $SG_TOOLS/loggen (RFC 3339 and BSD headers,
 *	fixed seeds) and one tiny hand-made log with every hard case in a
 *	few lines.  The log is audited with
 *	`TZ=UTC $SG_BIN audit --year 2026 --format csv -c tests/truth.conf`
 *	and the test asserts that
 *	 - every identity's messages, recipients and bounced recipients
 *	   (status=bounced lines of its messages and of their content-filter
 *	   copies) equal the truth, and the audit reports no identity that
 *	   the truth lacks;
 *	 - the overruns the audit reports are exactly those of a plain
 *	   reference computation (identity, rule, window, queue ID, count and
 *	   second), blocks and re-arming included;
 *	 - audit exits 1 exactly when some overrun exists.
 *	A second table checks the reference computation itself, and one test
 *	audits the real shared log postfix-logsums-2023.log.xz.
 *	Reference: take an identity's messages in (time, log order).  The
 *	value of window W at message m is the number of messages (the sum of
 *	their nrcpt, or the number of distinct envelope senders: the sender:
 *	identities of the messages) of that identity with time in (t_m - W, t_m], not
 *	before the identity's armed time, that come at or before m.  m is an
 *	overrun of W with threshold T when the value exceeds T, did not at the
 *	identity's previous message (for W), and the identity is not blocked
 *	when m arrives.  An overrun blocks the identity from t_m for the
 *	block_time of the first rule (in file order) that m crossed, times
 *	block_time_factor for each earlier block; at its first message at or
 *	after the end, the block ends, the armed time becomes the end and
 *	every window starts afresh.
 * UNTRUSTED INPUT
 *	The audit's output, parsed as RFC 4180 CSV.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <math.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/hmap.h"

extern char **environ;

#define START_EPOCH	"1772409600"	/* 2026-03-02T00:00:00Z */
#define YEAR		"2026"
#define CONF		"tests/truth.conf"
#define MAX_REPORT	25		/* mismatches printed per case */

/* ------------------------------------------------------------------ */
/* small helpers: environment, files, processes */

/* env_or - getenv(name) or a default */
static const char *
env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : dflt;
}

/* slurp - whole file, NUL-terminated; NULL on error */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (cap - n < 65536) {
			char *nb;

			cap = cap ? cap * 2 : 1 << 20;
			nb = realloc(buf, cap + 1);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

/* run - spawn argv (PATH search when search), stdout/stderr to files;
 * tz_utc adds TZ=UTC.  Returns the exit status, or -1. */
static int
run(char *const argv[], const char *out, const char *err, int tz_utc, int search)
{
	posix_spawn_file_actions_t fa;
	char **envp;
	size_t n = 0, i, j = 0;
	pid_t pid;
	int st, rc;

	while (environ[n] != NULL)
		n++;
	envp = calloc(n + 2, sizeof(*envp));
	if (envp == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (!tz_utc || strncmp(environ[i], "TZ=", 3) != 0)
			envp[j++] = environ[i];
	if (tz_utc)
		envp[j++] = (char *)(uintptr_t)"TZ=UTC";
	envp[j] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	rc = search ? posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp)
		    : posix_spawn(&pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	if (rc != 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* tmpdir_clean - remove the files the test made, then the directory */
static void
tmpdir_clean(const char *dir)
{
	static const char *const names[] = { "log", "truth", "out.csv",
		"err", "gen.err", "xz.err" };
	char p[512];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

/* ------------------------------------------------------------------ */
/* RFC 4180 CSV */

struct rec {
	char  **f;
	size_t	n, cap;
};

/* rec_clear - free the fields of r */
static void
rec_clear(struct rec *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->f[i]);
	r->n = 0;
}

/* rec_push - append one field (bytes b..b+len) */
static int
rec_push(struct rec *r, const char *b, size_t len)
{
	char *s;

	if (r->n == r->cap) {
		char **nf = realloc(r->f, (r->cap ? r->cap * 2 : 16) * sizeof(*nf));

		if (nf == NULL)
			return -1;
		r->f = nf;
		r->cap = r->cap ? r->cap * 2 : 16;
	}
	s = malloc(len + 1);
	if (s == NULL)
		return -1;
	memcpy(s, b, len);
	s[len] = '\0';
	r->f[r->n++] = s;
	return 0;
}

/*
 * csv_next - parse one record at *pp (up to end) into r.  Quoted fields
 * may hold commas, CR, LF and doubled quotes.  Returns 1 for a record,
 * 0 at the end, -1 for malformed input.
 */
static int
csv_next(const char **pp, const char *end, struct rec *r)
{
	const char *p = *pp;
	char *buf;
	size_t bl;

	rec_clear(r);
	if (p >= end)
		return 0;
	buf = malloc((size_t)(end - p) + 1);
	if (buf == NULL)
		return -1;
	for (;;) {
		bl = 0;
		if (p < end && *p == '"') {
			p++;
			for (;;) {
				if (p >= end) {
					free(buf);
					return -1;	/* unterminated quote */
				}
				if (*p == '"') {
					if (p + 1 < end && p[1] == '"') {
						buf[bl++] = '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				buf[bl++] = *p++;
			}
			if (p < end && *p != ',' && *p != '\r' && *p != '\n') {
				free(buf);
				return -1;	/* text after closing quote */
			}
		} else {
			while (p < end && *p != ',' && *p != '\r' && *p != '\n') {
				if (*p == '"') {
					free(buf);
					return -1;	/* quote inside bare field */
				}
				buf[bl++] = *p++;
			}
		}
		if (rec_push(r, buf, bl) < 0) {
			free(buf);
			return -1;
		}
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p == '\r')
			p++;
		if (p < end && *p == '\n')
			p++;
		break;
	}
	free(buf);
	*pp = p;
	return 1;
}

/* ------------------------------------------------------------------ */
/* identities, messages, rules */

struct ident {
	char   *id;
	long	t_msgs, t_rcpts, t_bounced;	/* truth (t_bounced -1: not given) */
	long	a_msgs, a_rcpts, a_bounced;	/* audit */
	int	in_truth, in_audit;
	size_t *mi;			/* indexes into messages, log order */
	size_t	nmi, cmi;
};

struct tmsg {
	int64_t	t_us;
	char	qid[40];
	long	nrcpt;
	const char *sender;		/* its sender: identity (one string per sender), or NULL */
};

struct window {
	int	rcpt;			/* 0 messages, 1 recipients, 2 senders */
	long	threshold;
	int64_t	seconds;
};

struct rule {
	char	name[64];
	char	by[16];
	char	match[16][64];
	size_t	nmatch;
	struct window w[16];
	size_t	nw;
	int64_t	block_time;		/* seconds; 0: until unblocked */
	double	factor;			/* block_time_factor */
};

struct overrun {
	char   *identity, *rule, *limit, *window, *at, *qid;
	long	threshold, count;
	int	seen;			/* matched a reference crossing */
};

struct world {
	struct ident *tab;		/* open addressing */
	size_t	cap, n;
	struct tmsg *msgs;
	size_t	nmsgs, cmsgs;
	struct rule rules[16];
	size_t	nrules;
	struct overrun *ov;
	size_t	nov, cov;
	int	fails;
};

/*
 * ident_get - the entry for id, created on first use; NULL when out of
 * memory.  The table hashes with the project's map hash (util/hmap).
 */
static struct ident *
ident_get(struct world *w, const char *id)
{
	size_t i;

	if (w->n * 2 >= w->cap) {
		struct ident *old = w->tab;
		size_t oc = w->cap, j;

		w->cap = oc ? oc * 2 : 1024;
		w->tab = calloc(w->cap, sizeof(*w->tab));
		if (w->tab == NULL)
			return NULL;
		for (j = 0; j < oc; j++)
			if (old[j].id != NULL) {
				i = hmap_hash(old[j].id, strlen(old[j].id)) & (w->cap - 1);
				while (w->tab[i].id != NULL)
					i = (i + 1) & (w->cap - 1);
				w->tab[i] = old[j];
			}
		free(old);
	}
	i = hmap_hash(id, strlen(id)) & (w->cap - 1);
	while (w->tab[i].id != NULL) {
		if (strcmp(w->tab[i].id, id) == 0)
			return &w->tab[i];
		i = (i + 1) & (w->cap - 1);
	}
	w->tab[i].id = strdup(id);
	if (w->tab[i].id == NULL)
		return NULL;
	w->n++;
	return &w->tab[i];
}

/* world_free - release everything */
static void
world_free(struct world *w)
{
	size_t i;

	for (i = 0; i < w->cap; i++) {
		free(w->tab[i].id);
		free(w->tab[i].mi);
	}
	free(w->tab);
	free(w->msgs);
	for (i = 0; i < w->nov; i++) {
		free(w->ov[i].identity);
		free(w->ov[i].rule);
		free(w->ov[i].limit);
		free(w->ov[i].window);
		free(w->ov[i].at);
		free(w->ov[i].qid);
	}
	free(w->ov);
	memset(w, 0, sizeof(*w));
}

/* fail - count a mismatch and print the first few */
static void fail(struct world *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
fail(struct world *w, const char *fmt, ...)
{
	va_list ap;

	if (w->fails++ < MAX_REPORT) {
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

/* num - strtol of a whole field, -1 on error */
static long
num(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	return v;
}

/* parse_epoch_us - "1772409600.123456" -> microseconds, -1 on error */
static int64_t
parse_epoch_us(const char *s)
{
	char *end;
	long long sec;
	int64_t us = 0, scale = 100000;

	errno = 0;
	sec = strtoll(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	if (*end == '.')
		for (end++; *end >= '0' && *end <= '9'; end++, scale /= 10)
			us += (*end - '0') * scale;
	if (*end != '\0')
		return -1;
	return (int64_t)sec * 1000000 + us;
}

/*
 * next_tok - the token at *sp up to sep (NUL-terminated in place), and
 * *sp moves past it; NULL at the end.  Empty tokens are skipped.
 */
static char *
next_tok(char **sp, char sep)
{
	char *s = *sp, *e;

	while (s != NULL && *s == sep)
		s++;
	if (s == NULL || *s == '\0')
		return NULL;
	e = strchr(s, sep);
	if (e != NULL) {
		*e = '\0';
		*sp = e + 1;
	} else {
		*sp = s + strlen(s);
	}
	return s;
}

/* load_truth - message and identity lines; 0 ok, -1 error */
static int
load_truth(struct world *w, const char *path)
{
	char *buf = slurp(path, NULL), *line, *save;

	if (buf == NULL)
		return -1;
	save = buf;
	while ((line = next_tok(&save, '\n')) != NULL) {
		char *f[5], *s2 = line, *x;
		int nf = 0;

		while (nf < 5 && (x = next_tok(&s2, '\t')) != NULL)
			f[nf++] = x;
		if ((nf == 4 || nf == 5) && strcmp(f[0], "identity") == 0) {
			struct ident *id = ident_get(w, f[1]);

			if (id == NULL)
				goto bad;
			id->in_truth = 1;
			id->t_msgs = num(f[2]);
			id->t_rcpts = num(f[3]);
			id->t_bounced = nf == 5 ? num(f[4]) : -1;
		} else if (nf == 5 && strcmp(f[0], "message") == 0) {
			struct tmsg *m;
			char *s3 = f[4];

			if (w->nmsgs == w->cmsgs) {
				struct tmsg *nm;

				w->cmsgs = w->cmsgs ? w->cmsgs * 2 : 4096;
				nm = realloc(w->msgs, w->cmsgs * sizeof(*nm));
				if (nm == NULL)
					goto bad;
				w->msgs = nm;
			}
			m = &w->msgs[w->nmsgs];
			m->t_us = parse_epoch_us(f[1]);
			snprintf(m->qid, sizeof(m->qid), "%s", f[2]);
			m->nrcpt = num(f[3]);
			m->sender = NULL;
			if (m->t_us < 0 || m->nrcpt < 0)
				goto bad;
			while ((x = next_tok(&s3, ',')) != NULL) {
				struct ident *id = ident_get(w, x);

				if (id == NULL)
					goto bad;
				if (strncmp(x, "sender:", 7) == 0)
					m->sender = id->id;	/* the table's copy: one per sender */
				if (id->nmi == id->cmi) {
					size_t *nmi;

					id->cmi = id->cmi ? id->cmi * 2 : 16;
					nmi = realloc(id->mi, id->cmi * sizeof(*nmi));
					if (nmi == NULL)
						goto bad;
					id->mi = nmi;
				}
				id->mi[id->nmi++] = w->nmsgs;
			}
			w->nmsgs++;
		} else {
			goto bad;
		}
	}
	free(buf);
	return 0;
bad:
	free(buf);
	return -1;
}

/*
 * trim - strip blanks at both ends, in place.  The reference reads
 * truth.conf with its own code, not count/conf's, so that a slip there
 * cannot hide itself here.
 */
static char *
trim(char *s)
{
	size_t n;

	s += strspn(s, " \t");
	for (n = strlen(s); n > 0 && strchr(" \t\r", s[n - 1]) != NULL; n--)
		;
	s[n] = '\0';
	return s;
}

/* parse_dur - "90", "15m", "1h", "7d" -> seconds, -1 on error */
static int64_t
parse_dur(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || v <= 0)
		return -1;
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		v *= 60;
		break;
	case 'h':
		v *= 3600;
		break;
	case 'd':
		v *= 86400;
		break;
	default:
		return -1;
	}
	return (int64_t)v;
}

/* fmt_dur - the largest exact unit: 3600 -> "1h" */
static void
fmt_dur(char *buf, size_t len, int64_t s)
{
	if (s % 86400 == 0)
		snprintf(buf, len, "%lldd", (long long)(s / 86400));
	else if (s % 3600 == 0)
		snprintf(buf, len, "%lldh", (long long)(s / 3600));
	else if (s % 60 == 0)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else
		snprintf(buf, len, "%llds", (long long)s);
}

/* load_rules - the [limit NAME] sections of the config; 0 ok, -1 error */
static int
load_rules(struct world *w, const char *path)
{
	char *buf = slurp(path, NULL), *line, *save;
	struct rule *r = NULL;

	if (buf == NULL)
		return -1;
	save = buf;
	while ((line = next_tok(&save, '\n')) != NULL) {
		char *s = trim(line), *eq, *key, *val, *item, *s2;

		if (*s == '#' || *s == '\0')
			continue;
		if (*s == '[') {
			r = NULL;
			if (strncmp(s, "[limit ", 7) == 0 && w->nrules < 16) {
				r = &w->rules[w->nrules++];
				memset(r, 0, sizeof(*r));
				r->block_time = 3600;	/* sendguard's defaults */
				r->factor = 1;
				snprintf(r->name, sizeof(r->name), "%.*s",
					 (int)strcspn(s + 7, "]"), s + 7);
			}
			continue;
		}
		if (r == NULL || (eq = strchr(s, '=')) == NULL)
			continue;
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		if (strcmp(key, "by") == 0) {
			snprintf(r->by, sizeof(r->by), "%s", val);
		} else if (strcmp(key, "block_time") == 0) {
			if ((r->block_time = parse_dur(val)) < 0)
				goto bad;
		} else if (strcmp(key, "block_time_factor") == 0) {
			if ((r->factor = strtod(val, NULL)) < 1)
				goto bad;
		} else if (strcmp(key, "match") == 0) {
			s2 = val;
			while (r->nmatch < 16 && (item = next_tok(&s2, ',')) != NULL)
				snprintf(r->match[r->nmatch++], sizeof(r->match[0]),
					 "%s", trim(item));
		} else if (strcmp(key, "messages") == 0 ||
			   strcmp(key, "recipients") == 0 || strcmp(key, "senders") == 0) {
			int rc = key[0] == 'r' ? 1 : key[0] == 's' ? 2 : 0;

			s2 = val;
			while (r->nw < 16 && (item = next_tok(&s2, ',')) != NULL) {
				char *sl = strchr(item, '/');

				if (sl == NULL)
					goto bad;
				*sl = '\0';
				r->w[r->nw].rcpt = rc;
				r->w[r->nw].threshold = num(trim(item));
				r->w[r->nw].seconds = parse_dur(trim(sl + 1));
				if (r->w[r->nw].threshold <= 0 || r->w[r->nw].seconds <= 0)
					goto bad;
				r->nw++;
			}
		}
	}
	free(buf);
	return 0;
bad:
	free(buf);
	return -1;
}

/* rule_applies - 1 when rule r covers identity "kind:value" */
static int
rule_applies(const struct rule *r, const char *id)
{
	size_t kl = strlen(r->by), i;

	if (strncmp(id, r->by, kl) != 0 || id[kl] != ':')
		return 0;
	if (r->nmatch == 0)
		return 1;
	for (i = 0; i < r->nmatch; i++)
		if (fnmatch(r->match[i], id + kl + 1, 0) == 0)
			return 1;
	return 0;
}

/* One overrun the reference expects: rule and window indexes, message. */
struct xrun {
	size_t	rule, win;
	long	idx;			/* into mi */
	long	count;
};

#define XRUN_MAX 4096

/* distinct_senders - the distinct senders of msgs[mi[lo..i]] (the null sender: none) */
static long
distinct_senders(const struct tmsg *msgs, const size_t *mi, size_t lo, size_t i)
{
	size_t a, b;
	long n = 0;

	for (a = lo; a <= i; a++) {
		const char *s = msgs[mi[a]].sender;

		if (s == NULL)
			continue;
		for (b = lo; b < a && msgs[mi[b]].sender != s; b++)
			;
		if (b == a)
			n++;
	}
	return n;
}

/*
 * simulate - the reference (see the top of the file) for one identity's
 * messages msgs[mi[0..n)] under rules[0..nr) (those that apply to it);
 * the expected overruns go to out (at most max), their number is
 * returned.
 */
static size_t
simulate(const struct tmsg *msgs, const size_t *mi, size_t n, const struct rule *const *rules,
	 size_t nr, struct xrun *out, size_t max)
{
	static long cum[200001];	/* recipients before message i */
	size_t j[16][16], ja = 0, i, r, v, no = 0;
	int over[16][16], blocked = 0;
	int64_t armed = INT64_MIN, until = 0;
	long times = 0;

	if (n > 200000)
		n = 200000;
	memset(j, 0, sizeof(j));
	memset(over, 0, sizeof(over));
	cum[0] = 0;
	for (i = 0; i < n; i++)
		cum[i + 1] = cum[i] + msgs[mi[i]].nrcpt;
	for (i = 0; i < n; i++) {
		int64_t t = msgs[mi[i]].t_us;
		long first = -1;

		if (blocked && until != 0 && t >= until) {
			blocked = 0;
			armed = until;
			memset(over, 0, sizeof(over));
		}
		while (armed != INT64_MIN && ja < i && msgs[mi[ja]].t_us < armed)
			ja++;
		for (r = 0; r < nr; r++)
			for (v = 0; v < rules[r]->nw; v++) {
				const struct window *w = &rules[r]->w[v];
				size_t lo;
				long val;

				while (msgs[mi[j[r][v]]].t_us <= t - w->seconds * 1000000)
					j[r][v]++;
				lo = j[r][v] > ja ? j[r][v] : ja;
				if (w->rcpt == 2)
					val = distinct_senders(msgs, mi, lo, i);
				else
					val = w->rcpt ? cum[i + 1] - cum[lo] : (long)(i + 1 - lo);
				if (val > w->threshold && !over[r][v] && !blocked) {
					if (no < max) {
						out[no].rule = r;
						out[no].win = v;
						out[no].idx = (long)i;
						out[no].count = val;
					}
					no++;
					if (first < 0)
						first = (long)r;
				}
				over[r][v] = val > w->threshold;
			}
		if (first >= 0 && !blocked) {
			double d = (double)rules[first]->block_time * pow(rules[first]->factor,
			    (double)times);

			times++;
			blocked = 1;
			until = d > 0 ? t + (int64_t)d * 1000000 : 0;
		}
	}
	return no;
}

/* parse_rfc3339 - "2026-03-02T10:00:00[.frac](Z|+00:00)" -> epoch seconds */
static int64_t
parse_rfc3339(const char *s)
{
	struct tm tm;
	const char *p;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
		return -1;
	return (int64_t)timegm(&tm);
}

/* load_audit - identity and overrun rows of the CSV; 0 ok, -1 error */
static int
load_audit(struct world *w, const char *path)
{
	static const char *const hdr[] = { "record", "identity", "rule",
		"limit", "window", "threshold", "messages", "recipients", "ips",
		"count", "at", "queue_id", "senders", "delivered", "deferred",
		"bounced", "client_ips", "client_ips_more" };
	size_t len, i;
	char *buf = slurp(path, &len);
	const char *p, *end;
	struct rec r = { NULL, 0, 0 };
	int rc, line = 1;

	if (buf == NULL)
		return -1;
	p = buf;
	end = buf + len;
	rc = csv_next(&p, end, &r);
	if (rc != 1 || r.n != 18) {
		fail(w, "audit CSV: no 18-field header");
		goto bad;
	}
	for (i = 0; i < 18; i++)
		if (strcmp(r.f[i], hdr[i]) != 0) {
			fail(w, "audit CSV header field %zu is \"%s\", want \"%s\"",
			     i + 1, r.f[i], hdr[i]);
			goto bad;
		}
	while ((rc = csv_next(&p, end, &r)) == 1) {
		line++;
		if (r.n != 18) {
			fail(w, "audit CSV record %d has %zu fields", line, r.n);
			goto bad;
		}
		if (strcmp(r.f[0], "identity") == 0) {
			struct ident *id = ident_get(w, r.f[1]);

			if (id == NULL)
				goto bad;
			if (id->in_audit)
				fail(w, "audit reports identity %s twice", r.f[1]);
			id->in_audit = 1;
			id->a_msgs = num(r.f[6]);
			id->a_rcpts = num(r.f[7]);
			id->a_bounced = num(r.f[15]);
		} else if (strcmp(r.f[0], "overrun") == 0) {
			struct overrun *o;

			if (w->nov == w->cov) {
				struct overrun *no;

				w->cov = w->cov ? w->cov * 2 : 256;
				no = realloc(w->ov, w->cov * sizeof(*no));
				if (no == NULL)
					goto bad;
				w->ov = no;
			}
			o = &w->ov[w->nov++];
			memset(o, 0, sizeof(*o));
			o->identity = strdup(r.f[1]);
			o->rule = strdup(r.f[2]);
			o->limit = strdup(r.f[3]);
			o->window = strdup(r.f[4]);
			o->threshold = num(r.f[5]);
			o->count = num(r.f[9]);
			o->at = strdup(r.f[10]);
			o->qid = strdup(r.f[11]);
		} else if (strcmp(r.f[0], "peak") != 0) {
			fail(w, "audit CSV record %d: unknown record \"%s\"", line, r.f[0]);
		}
	}
	if (rc < 0) {
		fail(w, "audit CSV: malformed record after line %d", line);
		goto bad;
	}
	rec_clear(&r);
	free(r.f);
	free(buf);
	return 0;
bad:
	rec_clear(&r);
	free(r.f);
	free(buf);
	return -1;
}

/* check_counts - identity rows against the truth */
static void
check_counts(struct world *w)
{
	size_t i;

	for (i = 0; i < w->cap; i++) {
		const struct ident *id = &w->tab[i];

		if (id->id == NULL)
			continue;
		if (id->in_truth && !id->in_audit)
			fail(w, "identity %s: truth %ld messages %ld recipients, "
			     "audit reports nothing", id->id, id->t_msgs, id->t_rcpts);
		else if (!id->in_truth && id->in_audit)
			fail(w, "identity %s: audit reports %ld messages %ld "
			     "recipients, truth has no such identity", id->id,
			     id->a_msgs, id->a_rcpts);
		else if (id->in_truth && (id->t_msgs != id->a_msgs ||
					  id->t_rcpts != id->a_rcpts))
			fail(w, "identity %s: truth %ld messages %ld recipients, "
			     "audit %ld messages %ld recipients", id->id,
			     id->t_msgs, id->t_rcpts, id->a_msgs, id->a_rcpts);
		else if (id->in_truth && id->t_bounced >= 0 && id->t_bounced != id->a_bounced)
			fail(w, "identity %s: truth %ld bounced recipients, audit %ld", id->id,
			     id->t_bounced, id->a_bounced);
	}
}

/* check_overruns - the audit's overruns against the reference; returns
 * the number of overruns the reference found */
static long
check_overruns(struct world *w)
{
	static struct xrun xr[XRUN_MAX];
	size_t i, k, o, x, nx, nr;
	long crossings = 0;

	for (i = 0; i < w->cap; i++) {
		const struct ident *id = &w->tab[i];
		const struct rule *rules[16];

		if (id->id == NULL || !id->in_truth)
			continue;
		for (k = nr = 0; k < w->nrules; k++)
			if (rule_applies(&w->rules[k], id->id))
				rules[nr++] = &w->rules[k];
		if (nr == 0)
			continue;
		nx = simulate(w->msgs, id->mi, id->nmi, rules, nr, xr, XRUN_MAX);
		if (nx > XRUN_MAX) {
			fail(w, "%s: more than %d overruns", id->id, XRUN_MAX);
			nx = XRUN_MAX;
		}
		crossings += (long)nx;
		for (x = 0; x < nx; x++) {
			const struct window *wd = &rules[xr[x].rule]->w[xr[x].win];
			const char *lim = wd->rcpt == 2 ? "senders" : wd->rcpt ? "recipients" : "messages";
			const struct tmsg *m = &w->msgs[id->mi[xr[x].idx]];
			int64_t sec = m->t_us / 1000000;
			char ws[32];
			int found = 0;

			fmt_dur(ws, sizeof(ws), wd->seconds);
			for (o = 0; o < w->nov && !found; o++) {
				struct overrun *ov = &w->ov[o];

				if (ov->seen || strcmp(ov->identity, id->id) != 0 ||
				    strcmp(ov->rule, rules[xr[x].rule]->name) != 0 ||
				    strcmp(ov->limit, lim) != 0 || strcmp(ov->window, ws) != 0 ||
				    ov->threshold != wd->threshold || strcmp(ov->qid, m->qid) != 0)
					continue;
				ov->seen = found = 1;
				if (ov->count != xr[x].count || parse_rfc3339(ov->at) != sec)
					fail(w, "%s rule %s %s %ld/%s at queue_id %s: audit count %ld "
					     "at %s, reference count %ld at t=%lld.%06lld", id->id,
					     rules[xr[x].rule]->name, lim, wd->threshold, ws, m->qid,
					     ov->count, ov->at, xr[x].count, (long long)sec,
					     (long long)(m->t_us % 1000000));
			}
			if (!found)
				fail(w, "%s rule %s %s %ld/%s: reference overrun at message #%ld "
				     "queue_id %s (t=%lld.%06lld, count %ld), audit reports none there",
				     id->id, rules[xr[x].rule]->name, lim, wd->threshold, ws,
				     xr[x].idx + 1, m->qid, (long long)sec,
				     (long long)(m->t_us % 1000000), xr[x].count);
		}
	}
	for (o = 0; o < w->nov; o++)
		if (!w->ov[o].seen)
			fail(w, "audit overrun %s rule %s %s %ld/%s at %s queue_id %s "
			     "matches no overrun of the reference",
			     w->ov[o].identity, w->ov[o].rule, w->ov[o].limit,
			     w->ov[o].threshold, w->ov[o].window, w->ov[o].at,
			     w->ov[o].qid);
	return crossings;
}

/* ------------------------------------------------------------------ */
/* the hand-made log: every hard case once, with its truth */

static const char *const tiny_log[] = {
	"2026-03-02T10:00:00.000000+00:00 mail postfix/submission/smtpd[100]: connect from unknown[192.0.2.10]",
	"2026-03-02T10:00:00.050000+00:00 mail postfix/submission/smtpd[100]: warning: unknown[192.0.2.10]: SASL PLAIN authentication failed: (reason unavailable), sasl_username=mallory@example.com",
	"2026-03-02T10:00:00.200000+00:00 mail postfix/submission/smtpd[100]: 1A2B3C4D5E: client=unknown[192.0.2.10], sasl_method=PLAIN, sasl_username=Alice@Example.COM",
	"2026-03-02T10:00:00.210000+00:00 mail postfix/cleanup[70]: 1A2B3C4D5E: message-id=<a1@example.com>",
	"2026-03-02T10:00:00.300000+00:00 mail postfix/qmgr[50]: 1A2B3C4D5E: from=<Alice@Example.COM>, size=1200, nrcpt=2 (queue active)",
	/* (a) the hand-off comes before the copy's client line */
	"2026-03-02T10:00:01.000000+00:00 mail postfix/amavis/smtp[60]: 1A2B3C4D5E: to=<bob@example.org>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.7, delays=0.1/0/0/0.6, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 2B3C4D5E6F)",
	"2026-03-02T10:00:01.001000+00:00 mail postfix/amavis/smtp[60]: 1A2B3C4D5E: to=<carol@example.org>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.7, delays=0.1/0/0/0.6, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 2B3C4D5E6F)",
	"2026-03-02T10:00:01.002000+00:00 mail postfix/qmgr[50]: 1A2B3C4D5E: removed",
	"2026-03-02T10:00:01.005000+00:00 mail postfix/10025/smtpd[101]: 2B3C4D5E6F: client=localhost[127.0.0.1]",
	"2026-03-02T10:00:01.010000+00:00 mail postfix/qmgr[50]: 2B3C4D5E6F: from=<alice@example.com>, size=1500, nrcpt=2 (queue active)",
	"2026-03-02T10:00:01.500000+00:00 mail postfix/smtp[61]: 2B3C4D5E6F: to=<bob@example.org>, relay=none, delay=0.5, delays=0/0/0.5/0, dsn=4.4.1, status=deferred (connect to mx.example.org[203.0.113.201]:25: Connection timed out)",
	"2026-03-02T10:00:01.600000+00:00 mail postfix/smtp[61]: 2B3C4D5E6F: to=<carol@example.org>, relay=mx.example.org[203.0.113.201]:25, delay=0.6, delays=0/0/0.3/0.3, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9F8E7D6C5B)",
	/* a local application: 127.0.0.1, no SASL, no content filter: counts */
	"2026-03-02T10:00:02.000000+00:00 mail postfix/smtpd[102]: 3C4D5E6F70: client=localhost[127.0.0.1]",
	"2026-03-02T10:00:02.010000+00:00 mail postfix/qmgr[50]: 3C4D5E6F70: from=<nextcloud@example.com>, size=900, nrcpt=1 (queue active)",
	"2026-03-02T10:00:02.400000+00:00 mail postfix/smtp[61]: 3C4D5E6F70: to=<x@example.org>, relay=mx.example.org[203.0.113.201]:25, delay=0.4, delays=0/0/0.2/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 0A1B2C3D4E)",
	"2026-03-02T10:00:02.401000+00:00 mail postfix/qmgr[50]: 3C4D5E6F70: removed",
	/* (c) the copy is delivered and removed before the hand-off line */
	"2026-03-02T10:00:03.000000+00:00 mail postfix/submission/smtpd[103]: 4D5E6F7081: client=unknown[2001:db8::5], sasl_method=LOGIN, sasl_username=alice@example.com",
	"2026-03-02T10:00:03.100000+00:00 mail postfix/qmgr[50]: 4D5E6F7081: from=<alice@example.com>, size=800, nrcpt=1 (queue active)",
	"2026-03-02T10:00:04.000000+00:00 mail postfix/10025/smtpd[104]: 5E6F708192: client=localhost[127.0.0.1]",
	"2026-03-02T10:00:04.005000+00:00 mail postfix/qmgr[50]: 5E6F708192: from=<alice@example.com>, size=1100, nrcpt=1 (queue active)",
	"2026-03-02T10:00:04.100000+00:00 mail postfix/virtual[62]: 5E6F708192: to=<dave@example.com>, relay=virtual, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered to maildir)",
	"2026-03-02T10:00:04.101000+00:00 mail postfix/qmgr[50]: 5E6F708192: removed",
	"2026-03-02T10:00:04.300000+00:00 mail postfix/amavis/smtp[60]: 4D5E6F7081: to=<dave@example.com>, relay=127.0.0.1[127.0.0.1]:10024, delay=1.2, delays=0.1/0/0/1.1, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 5E6F708192)",
	"2026-03-02T10:00:04.302000+00:00 mail postfix/qmgr[50]: 4D5E6F7081: removed",
	/* a retry (does not count again), then a bounce and its NDR */
	"2026-03-02T10:10:01.500000+00:00 mail postfix/qmgr[50]: 2B3C4D5E6F: from=<alice@example.com>, size=1500, nrcpt=1 (queue active)",
	"2026-03-02T10:10:02.000000+00:00 mail postfix/smtp[61]: 2B3C4D5E6F: to=<bob@example.org>, relay=mx.example.org[203.0.113.201]:25, delay=600, delays=600/0/0.2/0.3, dsn=5.1.1, status=bounced (host mx.example.org[203.0.113.201] said: 550 5.1.1 <bob@example.org>: Recipient address rejected (in reply to RCPT TO command))",
	"2026-03-02T10:10:02.010000+00:00 mail postfix/bounce[63]: 2B3C4D5E6F: sender non-delivery notification: 6F708192A3",
	"2026-03-02T10:10:02.020000+00:00 mail postfix/qmgr[50]: 2B3C4D5E6F: removed",
	"2026-03-02T10:10:02.030000+00:00 mail postfix/cleanup[70]: 6F708192A3: message-id=<20260302101002.6F708192A3@mail.example.com>",
	"2026-03-02T10:10:02.040000+00:00 mail postfix/qmgr[50]: 6F708192A3: from=<>, size=3000, nrcpt=1 (queue active)",
	"2026-03-02T10:10:02.100000+00:00 mail postfix/virtual[62]: 6F708192A3: to=<alice@example.com>, relay=virtual, delay=0.06, delays=0/0/0/0.06, dsn=2.0.0, status=sent (delivered to maildir)",
	"2026-03-02T10:10:02.101000+00:00 mail postfix/qmgr[50]: 6F708192A3: removed",
	/* the first queue ID again, for a different message of someone else */
	"2026-03-02T10:20:00.000000+00:00 mail postfix/pickup[64]: 1A2B3C4D5E: uid=33 from=<www-data>",
	"2026-03-02T10:20:00.050000+00:00 mail postfix/qmgr[50]: 1A2B3C4D5E: from=<www-data@mail.example.com>, size=700, nrcpt=3 (queue active)",
	"2026-03-02T10:20:00.500000+00:00 mail postfix/smtp[61]: 1A2B3C4D5E: to=<eve@example.org>, relay=mx.example.org[203.0.113.201]:25, delay=0.45, delays=0/0/0.2/0.25, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 1B2C3D4E5F)",
	"2026-03-02T10:20:00.501000+00:00 mail postfix/qmgr[50]: 1A2B3C4D5E: removed",
	/* inbound mail, deferred, then requeued with postsuper -r */
	"2026-03-02T10:30:00.000000+00:00 mail postfix/smtpd[105]: 708192A3B4: client=mx1.example.net[198.51.100.20]",
	"2026-03-02T10:30:00.100000+00:00 mail postfix/qmgr[50]: 708192A3B4: from=<News@Lists.Example.ORG>, size=5000, nrcpt=1 (queue active)",
	"2026-03-02T10:30:00.300000+00:00 mail postfix/pipe[65]: 708192A3B4: to=<alice@example.com>, relay=dovecot, delay=0.2, delays=0/0/0/0.2, dsn=4.3.0, status=deferred (temporary failure)",
	"2026-03-02T10:40:00.000000+00:00 mail postfix/postsuper[66]: 708192A3B4: requeued",
	"2026-03-02T10:40:00.001000+00:00 mail postfix/postsuper[66]: Requeued: 1 message",
	"2026-03-02T10:40:01.000000+00:00 mail postfix/pickup[64]: 8192A3B4C5: uid=0 from=<News@Lists.Example.ORG> orig_id=708192A3B4",
	"2026-03-02T10:40:01.050000+00:00 mail postfix/qmgr[50]: 8192A3B4C5: from=<News@Lists.Example.ORG>, size=5000, nrcpt=1 (queue active)",
	"2026-03-02T10:40:01.200000+00:00 mail postfix/pipe[65]: 8192A3B4C5: to=<alice@example.com>, relay=dovecot, delay=0.15, delays=0/0/0/0.15, dsn=2.0.0, status=sent (delivered via dovecot service)",
	"2026-03-02T10:40:01.201000+00:00 mail postfix/qmgr[50]: 8192A3B4C5: removed",
	/* (b) with orig_queue_id: the copy's lines before the hand-off */
	"2026-03-02T10:50:00.000000+00:00 mail postfix/submission/smtpd[106]: 92A3B4C5D6: client=unknown[203.0.113.7], sasl_method=PLAIN, sasl_username=BOB@example.net",
	"2026-03-02T10:50:00.100000+00:00 mail postfix/qmgr[50]: 92A3B4C5D6: from=<bob@example.net>, size=900, nrcpt=1 (queue active)",
	"2026-03-02T10:50:01.000000+00:00 mail postfix/10025/smtpd[107]: A3B4C5D6E7: client=localhost[127.0.0.1], orig_queue_id=92A3B4C5D6",
	"2026-03-02T10:50:01.010000+00:00 mail postfix/qmgr[50]: A3B4C5D6E7: from=<bob@example.net>, size=1300, nrcpt=1 (queue active)",
	"2026-03-02T10:50:01.100000+00:00 mail postfix/amavis/smtp[60]: 92A3B4C5D6: to=<zoe@example.org>, relay=127.0.0.1[127.0.0.1]:10024, delay=1.1, delays=0.1/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as A3B4C5D6E7)",
	"2026-03-02T10:50:01.101000+00:00 mail postfix/qmgr[50]: 92A3B4C5D6: removed",
	"2026-03-02T10:50:01.600000+00:00 mail postfix/smtp[61]: A3B4C5D6E7: to=<zoe@example.org>, relay=mx.example.org[203.0.113.201]:25, delay=0.6, delays=0/0/0.3/0.3, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 2C3D4E5F60)",
	"2026-03-02T10:50:01.601000+00:00 mail postfix/qmgr[50]: A3B4C5D6E7: removed",
	"2026-03-02T10:50:02.000000+00:00 mail dovecot: imap-login: Login: user=<alice@example.com>, method=PLAIN, rip=192.0.2.10, lip=192.0.2.1, mpid=900, TLS",
	/* (d) a reused queue ID: an unrelated inbound message held B4C5D6E7F8 and
	 * was removed before alice's message was received; the hand-off then
	 * names B4C5D6E7F8 for the copy, which comes after it */
	"2026-03-02T11:00:00.000000+00:00 mail postfix/smtpd[108]: B4C5D6E7F8: client=mx2.example.net[198.51.100.7]",
	"2026-03-02T11:00:00.100000+00:00 mail postfix/qmgr[50]: B4C5D6E7F8: from=<Info@Shop.example.net>, size=2000, nrcpt=1 (queue active)",
	"2026-03-02T11:00:00.300000+00:00 mail postfix/pipe[65]: B4C5D6E7F8: to=<alice@example.com>, relay=dovecot, delay=0.3, delays=0.1/0/0/0.2, dsn=2.0.0, status=sent (delivered via dovecot service)",
	"2026-03-02T11:00:00.301000+00:00 mail postfix/qmgr[50]: B4C5D6E7F8: removed",
	"2026-03-02T11:00:01.000000+00:00 mail postfix/submission/smtpd[109]: C5D6E7F809: client=unknown[192.0.2.10], sasl_method=PLAIN, sasl_username=alice@example.com",
	"2026-03-02T11:00:01.100000+00:00 mail postfix/qmgr[50]: C5D6E7F809: from=<alice@example.com>, size=700, nrcpt=1 (queue active)",
	"2026-03-02T11:00:01.800000+00:00 mail postfix/amavis/smtp[60]: C5D6E7F809: to=<frank@example.org>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.8, delays=0.1/0/0/0.7, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as B4C5D6E7F8)",
	"2026-03-02T11:00:01.802000+00:00 mail postfix/qmgr[50]: C5D6E7F809: removed",
	"2026-03-02T11:00:01.805000+00:00 mail postfix/10025/smtpd[110]: B4C5D6E7F8: client=localhost[127.0.0.1]",
	"2026-03-02T11:00:01.810000+00:00 mail postfix/qmgr[50]: B4C5D6E7F8: from=<alice@example.com>, size=1100, nrcpt=1 (queue active)",
	"2026-03-02T11:00:02.300000+00:00 mail postfix/smtp[61]: B4C5D6E7F8: to=<frank@example.org>, relay=mx.example.org[203.0.113.201]:25, delay=0.5, delays=0/0/0.2/0.3, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 3D4E5F6071)",
	"2026-03-02T11:00:02.301000+00:00 mail postfix/qmgr[50]: B4C5D6E7F8: removed",
	NULL
};

static const char tiny_truth[] =
	"message\t1772445600.300000\t1A2B3C4D5E\t2\tsasl:alice@example.com,ip:192.0.2.10,sender:alice@example.com\n"
	"message\t1772445602.010000\t3C4D5E6F70\t1\tip:127.0.0.1,sender:nextcloud@example.com\n"
	"message\t1772445603.100000\t4D5E6F7081\t1\tsasl:alice@example.com,ip:2001:db8::5,sender:alice@example.com\n"
	"message\t1772446800.050000\t1A2B3C4D5E\t3\tuid:33,sender:www-data@mail.example.com\n"
	"message\t1772447400.100000\t708192A3B4\t1\tip:198.51.100.20,sender:news@lists.example.org\n"
	"message\t1772448600.100000\t92A3B4C5D6\t1\tsasl:bob@example.net,ip:203.0.113.7,sender:bob@example.net\n"
	"message\t1772449200.100000\tB4C5D6E7F8\t1\tip:198.51.100.7,sender:info@shop.example.net\n"
	"message\t1772449201.100000\tC5D6E7F809\t1\tsasl:alice@example.com,ip:192.0.2.10,sender:alice@example.com\n"
	"identity\tip:127.0.0.1\t1\t1\t0\n"
	"identity\tip:192.0.2.10\t2\t3\t1\n"
	"identity\tip:198.51.100.20\t1\t1\t0\n"
	"identity\tip:198.51.100.7\t1\t1\t0\n"
	"identity\tip:2001:db8::5\t1\t1\t0\n"
	"identity\tip:203.0.113.7\t1\t1\t0\n"
	"identity\tsasl:alice@example.com\t3\t4\t1\n"
	"identity\tsasl:bob@example.net\t1\t1\t0\n"
	"identity\tsender:alice@example.com\t3\t4\t1\n"
	"identity\tsender:bob@example.net\t1\t1\t0\n"
	"identity\tsender:info@shop.example.net\t1\t1\t0\n"
	"identity\tsender:nextcloud@example.com\t1\t1\t0\n"
	"identity\tsender:news@lists.example.org\t1\t1\t0\n"
	"identity\tsender:www-data@mail.example.com\t1\t3\t0\n"
	"identity\tuid:33\t1\t3\t0\n";

/* write_tiny - the hand-made log and its truth into dir */
static int
write_tiny(const char *dir)
{
	char p[512];
	FILE *f;
	size_t i;

	snprintf(p, sizeof(p), "%s/log", dir);
	if ((f = fopen(p, "w")) == NULL)
		return -1;
	for (i = 0; tiny_log[i] != NULL; i++)
		fprintf(f, "%s\n", tiny_log[i]);
	if (fclose(f) != 0)
		return -1;
	snprintf(p, sizeof(p), "%s/truth", dir);
	if ((f = fopen(p, "w")) == NULL)
		return -1;
	fputs(tiny_truth, f);
	return fclose(f);
}

/* ------------------------------------------------------------------ */
/* the cases */

/* Criterion copies parameters into the test process: no pointers here. */
struct truth_case {
	char	name[48];
	char	format[16];	/* loggen --format; "": the hand-made log */
	char	seed[8];
	char	lines[12];
};

static struct truth_case truth_cases[] = {
	{ "hand-made log, every hard case once", "", "", "" },
	{ "loggen rfc3339 200k lines", "rfc3339", "1", "200000" },
	{ "loggen bsd 200k lines", "bsd", "2", "200000" },
};

ParameterizedTestParameters(truth, audit_matches_truth)
{
	return cr_make_param_array(struct truth_case, truth_cases,
				   sizeof(truth_cases) / sizeof(truth_cases[0]));
}

/* No .timeout: with --jobs 2 Criterion's runner then leaks 48 bytes and
 * LeakSanitizer fails the whole binary. */
ParameterizedTest(struct truth_case *c, truth, audit_matches_truth)
{
	const char *bin = env_or("SG_BIN", "build/san/sendguard");
	const char *tools = env_or("SG_TOOLS", "build/bench");
	char dir[] = "/tmp/sg-truth-XXXXXX";
	char gen[512], logp[512], truthp[512], outp[512], errp[512], generr[512];
	struct world w;
	int rc = -1, ok_setup = 0, fails;
	long crossings = 0;

	memset(&w, 0, sizeof(w));
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(gen, sizeof(gen), "%s/loggen", tools);
	snprintf(logp, sizeof(logp), "%s/log", dir);
	snprintf(truthp, sizeof(truthp), "%s/truth", dir);
	snprintf(outp, sizeof(outp), "%s/out.csv", dir);
	snprintf(errp, sizeof(errp), "%s/err", dir);
	snprintf(generr, sizeof(generr), "%s/gen.err", dir);

	if (c->format[0] == '\0') {
		ok_setup = write_tiny(dir) == 0;
	} else {
		char *gargv[] = { gen, (char *)(uintptr_t)"--lines",
			(char *)(uintptr_t)c->lines, (char *)(uintptr_t)"--seed",
			(char *)(uintptr_t)c->seed, (char *)(uintptr_t)"--format",
			(char *)(uintptr_t)c->format, (char *)(uintptr_t)"--start",
			(char *)(uintptr_t)START_EPOCH, (char *)(uintptr_t)"--out",
			logp, (char *)(uintptr_t)"--truth", truthp, NULL };

		ok_setup = run(gargv, "/dev/null", generr, 0, 0) == 0;
		if (!ok_setup)
			fprintf(stderr, "%s: %s failed (see %s)\n", c->name, gen, generr);
	}
	if (ok_setup) {
		char *aargv[] = { (char *)(uintptr_t)bin, (char *)(uintptr_t)"audit",
			(char *)(uintptr_t)"--year", (char *)(uintptr_t)YEAR,
			(char *)(uintptr_t)"--format", (char *)(uintptr_t)"csv",
			(char *)(uintptr_t)"-c", (char *)(uintptr_t)CONF, logp, NULL };

		rc = run(aargv, outp, errp, 1, 0);
		if (load_truth(&w, truthp) < 0 || load_rules(&w, CONF) < 0 ||
		    w.nrules == 0) {
			fail(&w, "%s: cannot read %s or %s", c->name, truthp, CONF);
		} else if (rc != 0 && rc != 1) {
			char *e = slurp(errp, NULL);

			fail(&w, "%s: audit exited %d: %.2000s", c->name, rc,
			     e ? e : "");
			free(e);
		} else if (load_audit(&w, outp) == 0) {
			check_counts(&w);
			crossings = check_overruns(&w);
			if (rc != (crossings > 0 ? 1 : 0))
				fail(&w, "%s: audit exited %d, but the reference has "
				     "%ld crossings", c->name, rc, crossings);
		}
		if (w.fails > 0)
			fprintf(stderr, "%s: %d mismatches; %zu truth messages, "
				"%ld reference crossings\n", c->name, w.fails,
				w.nmsgs, crossings);
	}
	fails = w.fails;
	world_free(&w);
	if (ok_setup && fails == 0)
		tmpdir_clean(dir);
	else
		fprintf(stderr, "%s: files kept in %s\n", c->name, dir);
	cr_assert(ok_setup, "%s: could not make the log", c->name);
	cr_assert_eq(fails, 0, "%s: audit differs from the truth", c->name);
	if (c->format[0] != '\0')
		cr_assert_gt(crossings, 10, "%s: loggen made too few crossings "
			     "for the test to mean much", c->name);
}

/* ------------------------------------------------------------------ */
/* the reference computation itself */

struct ref_case {
	char	name[80];
	double	t[12];			/* seconds */
	long	nrcpt[12];
	size_t	n;
	int64_t	window;
	long	threshold;
	int	rcpt;
	int64_t	block_time;
	double	factor;
	char	want[64];		/* "index:count ..." of the overruns */
};

static struct ref_case ref_cases[] = {
	{ "third message in an hour crosses 2/1h", { 0, 10, 20 }, { 1, 1, 1 }, 3, 3600, 2, 0,
	  3600, 1, "2:3" },
	{ "exactly W apart is outside the window", { 0, 3600, 7200 }, { 1, 1, 1 }, 3, 3600, 1, 0,
	  3600, 1, "" },
	{ "W minus a microsecond is inside", { 0, 3599.999999 }, { 1, 1 }, 2, 3600, 1, 0,
	  3600, 1, "1:2" },
	{ "ties at one second count in log order", { 5, 5, 5, 5 }, { 1, 1, 1, 1 }, 4, 60, 2, 0,
	  3600, 1, "2:3" },
	{ "recipients sum crosses at the message that tips it", { 0, 1, 2 }, { 3, 2, 1 }, 3, 3600,
	  4, 1, 3600, 1, "1:5" },
	{ "old messages slide out", { 0, 1, 4000, 4001, 4002 }, { 1, 1, 1, 1, 1 }, 5, 3600, 2, 0,
	  3600, 1, "4:3" },
	{ "never above the threshold", { 0, 100, 200 }, { 1, 1, 1 }, 3, 3600, 3, 0, 3600, 1, "" },
	{ "blocked: no overrun until the block ends, then threshold new ones",
	  { 0, 1, 2, 3, 4, 100, 101, 102 }, { 1, 1, 1, 1, 1, 1, 1, 1 }, 8, 3600, 2, 0, 50, 1,
	  "2:3 7:3" },
	{ "a repeat offender's block grows by the factor",
	  { 0, 1, 2, 20, 21, 22, 50, 51, 52 }, { 1, 1, 1, 1, 1, 1, 1, 1, 1 }, 9, 3600, 2, 0, 10, 4,
	  "2:3 5:3" },
	{ "block_time 0 lasts for ever", { 0, 1, 2, 9000, 9001, 9002 }, { 1, 1, 1, 1, 1, 1 }, 6,
	  3600, 2, 0, 0, 1, "2:3" },
};

ParameterizedTestParameters(truth, reference)
{
	return cr_make_param_array(struct ref_case, ref_cases,
				   sizeof(ref_cases) / sizeof(ref_cases[0]));
}

ParameterizedTest(struct ref_case *c, truth, reference)
{
	struct tmsg m[12];
	struct rule r;
	const struct rule *rp = &r;
	struct xrun xr[12];
	size_t mi[12], i, n;
	char got[128] = "";
	size_t o = 0;

	memset(m, 0, sizeof(m));
	memset(&r, 0, sizeof(r));
	for (i = 0; i < c->n; i++) {
		m[i].t_us = (int64_t)(c->t[i] * 1e6 + 0.5);
		m[i].nrcpt = c->nrcpt[i];
		mi[i] = i;
	}
	r.nw = 1;
	r.w[0].rcpt = c->rcpt;
	r.w[0].threshold = c->threshold;
	r.w[0].seconds = c->window;
	r.block_time = c->block_time;
	r.factor = c->factor;
	n = simulate(m, mi, c->n, &rp, 1, xr, 12);
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(got + o, sizeof(got) - o, "%s%ld:%ld", i ? " " : "",
		    xr[i].idx, xr[i].count);
	cr_assert_str_eq(got, c->want, "%s: overruns [%s], want [%s]", c->name, got, c->want);
}

/* the CSV parser on quoted fields */
Test(truth, csv_quoting)
{
	static const char in[] = "a,\"b,c\",\"d\"\"e\",\"f\ng\",\r\nx,y\n";
	const char *p = in, *end = in + sizeof(in) - 1;
	struct rec r = { NULL, 0, 0 };

	cr_assert_eq(csv_next(&p, end, &r), 1);
	cr_assert_eq(r.n, 5);
	cr_expect_str_eq(r.f[1], "b,c");
	cr_expect_str_eq(r.f[2], "d\"e");
	cr_expect_str_eq(r.f[3], "f\ng");
	cr_expect_str_eq(r.f[4], "");
	cr_assert_eq(csv_next(&p, end, &r), 1);
	cr_expect_eq(r.n, 2);
	cr_expect_eq(csv_next(&p, end, &r), 0);
	rec_clear(&r);
	free(r.f);
}

/* ------------------------------------------------------------------ */
/*
 * The real log shared with the project, audited as the .xz it is shipped
 * as.  A clone without ../shared (or SG_SHARED naming a missing folder)
 * skips this test; tests/run.sh reports the skip.
 */

Test(truth, real_logsums_vmail)
{
	const char *bin = env_or("SG_BIN", "build/san/sendguard");
	const char *shared = env_or("SG_SHARED", "../shared");
	char dir[] = "/tmp/sg-truth-XXXXXX";
	char logs[512], xzp[512], outp[512], errp[512];
	struct world w;
	struct stat st;
	const struct ident *id;
	int rc;

	snprintf(logs, sizeof(logs), "%s/logs", shared);
	if (stat(logs, &st) < 0 && (errno == ENOENT || errno == ENOTDIR))
		cr_skip_test("%s not found", logs);
	memset(&w, 0, sizeof(w));
	cr_assert_not_null(mkdtemp(dir));
	snprintf(xzp, sizeof(xzp), "%s/logs/postfix-logsums-2023.log.xz", shared);
	snprintf(outp, sizeof(outp), "%s/out.csv", dir);
	snprintf(errp, sizeof(errp), "%s/err", dir);
	{
		char *aargv[] = { (char *)(uintptr_t)bin, (char *)(uintptr_t)"audit",
			(char *)(uintptr_t)"--format", (char *)(uintptr_t)"csv",
			(char *)(uintptr_t)"-c", (char *)(uintptr_t)CONF, xzp, NULL };

		rc = run(aargv, outp, errp, 1, 0);
		if (rc == 0 || rc == 1)
			rc = load_audit(&w, outp) == 0 ? 0 : 9;
	}
	id = rc == 0 ? ident_get(&w, "sasl:vmail@uhu-banane.net") : NULL;
	tmpdir_clean(dir);
	if (rc == 0 && id != NULL) {
		long m = id->a_msgs, r = id->a_rcpts;
		int seen = id->in_audit;

		world_free(&w);
		cr_assert(seen, "audit of the logsums log has no sasl:vmail@uhu-banane.net");
		cr_expect_eq(m, 16, "sasl:vmail@uhu-banane.net messages %ld, want 16", m);
		cr_expect_eq(r, 16, "sasl:vmail@uhu-banane.net recipients %ld, want 16", r);
		return;
	}
	world_free(&w);
	cr_assert_fail("audit of %s failed (status %d; 9: unreadable CSV)", xzp, rc);
}
