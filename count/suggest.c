/*
 * NAME
 *	suggest - limits suggested from history (see suggest.h)
 * SUMMARY
 *	A limits object of its own counts every message under one rule per
 *	identity kind, with a 1h and a 1d window for every limit row that
 *	applies to the kind and thresholds no count reaches, so that its
 *	peaks are the exact per-identity peaks.  Beside it, per identity,
 *	the message counts of its aligned 1h and 1d buckets go into small
 *	histograms for its usual rate.
 * RETURNS
 *	See suggest.h: 0, or -1; never prints on its own, never exits.
 * UNTRUSTED INPUT
 *	Identities from the log: counted as keys, printed only in comments
 *	through esc_vis() (util/esc), never as configuration values.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "count/limits.h"
#include "count/suggest.h"
#include "util/arr.h"
#include "util/esc.h"
#include "util/hmap.h"
#include "util/json.h"

#define NWIN 2

/* The limits suggested: one row per kind of limit (a new one is a new row). */
static const struct srow {
	enum conf_limit limit;
	unsigned kinds; /* 1 << enum conf_by it applies to */
} rows[] = {
	{ LIM_MESSAGES, ~0u },
	{ LIM_RECIPIENTS, ~0u },
	{ LIM_IPS, 1u << BY_SASL },
	{ LIM_SENDERS, ~(1u << BY_SENDER) }, /* a sender identity has one */
	{ LIM_BOUNCES, ~0u },
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

static const int64_t win_seconds[NWIN] = { 3600, 86400 };

/* What each identity kind's section does, and what to know about it. */
static const struct skind {
	const char *actions;
	const char *note;
} kinds[BY_COUNT] = {
	[BY_SASL] = { "hold, block, notify", NULL },
	[BY_UID] = { "hold, notify", NULL },
	[BY_SENDER] = { "hold, notify",
	    "counts mail from the Internet to your users too: narrow it to your own "
	    "senders with match = *@your.domain" },
	[BY_IP] = { "notify",
	    "counts the servers that send to you too: narrow it with match = your "
	    "networks, and exempt the content filter's re-injection address" },
	[BY_SASL_DOMAIN] = { "hold, notify", NULL },
	[BY_SENDER_DOMAIN] = { "notify", "counts inbound mail too: narrow it with match" },
};

/* Per identity: its buckets, for its usual rate. */
struct sid {
	const char *name; /* the hmap's key */
	int kind;
	int outlier;       /* 1 << w: an outlier by its message peak in window w */
	int64_t cur[NWIN]; /* the bucket being filled */
	uint32_t count[NWIN];
	uint16_t hist[NWIN][SUGGEST_BINS];
	uint32_t nbuckets[NWIN];
};

/* One identity's peak in one (row, window). */
struct spk {
	long peak;
	struct sid *id;
};

struct slist {
	struct spk *v;
	size_t n, cap;
};

struct suggest {
	struct conf conf; /* the audit's, with rules of our own */
	struct conf_rule rules[BY_COUNT];
	struct limits *l;
	struct hmap *ids; /* identity -> struct sid */
	uint64_t msgs[BY_COUNT];
	int64_t first, last;
	struct slist pk[BY_COUNT][NROWS][NWIN];
	int failed;
};

struct suggest *
suggest_new(const struct conf *c)
{
	struct suggest *s;
	size_t k, r, w;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (NULL);
	s->conf = *c;
	s->conf.rules = s->rules;
	s->conf.nrules = BY_COUNT;
	for (k = 0; k < BY_COUNT; k++) {
		struct conf_rule *rule = &s->rules[k];

		snprintf(rule->name, sizeof(rule->name), "suggested_%s",
		    conf_by_name((enum conf_by)k));
		rule->by = (enum conf_by)k;
		for (r = 0; r < NROWS; r++)
			for (w = 0; w < NWIN && (rows[r].kinds & 1u << k); w++)
				rule->win[rule->nwin++] =
				    (struct conf_window){ rows[r].limit, LONG_MAX, win_seconds[w] };
	}
	s->first = INT64_MAX;
	s->last = INT64_MIN;
	if ((s->l = limits_new(&s->conf)) == NULL || (s->ids = hmap_new()) == NULL) {
		suggest_free(s);
		return (NULL);
	}
	return (s);
}

void
suggest_free(struct suggest *s)
{
	size_t k, r, w;

	if (s == NULL)
		return;
	limits_free(s->l);
	hmap_free(s->ids, free);
	for (k = 0; k < BY_COUNT; k++)
		for (r = 0; r < NROWS; r++)
			for (w = 0; w < NWIN; w++)
				free(s->pk[k][r][w].v);
	free(s);
}

/* bin_of - the histogram bin of a bucket's count: exact below 32, then 6 bins per doubling */
static int
bin_of(uint32_t v)
{
	int b;

	if (v < 32)
		return ((int)v);
	b = 32 + (int)(6 * log2((double)v / 32));
	return (b < SUGGEST_BINS ? b : SUGGEST_BINS - 1);
}

/* bin_value - the smallest count of bin b */
static double
bin_value(int b)
{
	return (b < 32 ? b : 32 * pow(2, (b - 32) / 6.0));
}

/* flush - the bucket being filled of id, window w, into its histogram */
static void
flush(struct sid *id, int w)
{
	uint16_t *h;

	if (id->count[w] == 0)
		return;
	h = &id->hist[w][bin_of(id->count[w])];
	if (*h < UINT16_MAX)
		(*h)++;
	id->nbuckets[w]++;
	id->count[w] = 0;
}

/* sid_get - the buckets of identity, made on first use */
static struct sid *
sid_get(struct suggest *s, const char *id, int kind)
{
	size_t n = strlen(id);
	void **slot;
	int added;

	if ((slot = hmap_get_or_add(s->ids, id, n, &added)) == NULL)
		return (NULL);
	if (added && (*slot = calloc(1, sizeof(struct sid))) == NULL) {
		hmap_del(s->ids, id, n);
		return (NULL);
	}
	((struct sid *)*slot)->kind = kind;
	return (*slot);
}

int
suggest_message(struct suggest *s, const struct track_msg *m)
{
	char buf[IDENT_MAX];
	const char *id;
	struct sid *sd;
	int k, w;

	if (limits_message(s->l, m, NULL, NULL) < 0)
		return (-1);
	if (m->time_us < s->first)
		s->first = m->time_us;
	if (m->time_us > s->last)
		s->last = m->time_us;
	for (k = 0; k < BY_COUNT; k++) {
		if ((id = limits_ident(m, (enum conf_by)k, buf, sizeof(buf))) == NULL ||
		    conf_exempt(&s->conf, (enum conf_by)k, strchr(id, ':') + 1))
			continue;
		if ((sd = sid_get(s, id, k)) == NULL)
			return (-1);
		s->msgs[k]++;
		for (w = 0; w < NWIN; w++) {
			/* a message held back a few seconds counts in the bucket at hand */
			int64_t b = m->time_us / (win_seconds[w] * 1000000);

			if (b > sd->cur[w]) {
				flush(sd, w);
				sd->cur[w] = b;
			}
			sd->count[w]++;
		}
	}
	return (0);
}

/* usual - the median of id's bucket counts in window w; -1 when too few buckets */
static double
usual(const struct sid *id, int w)
{
	uint32_t half = (id->nbuckets[w] + 1) / 2, seen = 0;
	int b;

	if (id->nbuckets[w] < SUGGEST_MIN_BUCKETS)
		return (-1);
	for (b = 0; b < SUGGEST_BINS; b++)
		if ((seen += id->hist[w][b]) >= half)
			return (bin_value(b));
	return (bin_value(SUGGEST_BINS - 1));
}

static int
flush_cb(void *ctx, const char *key, size_t n, void *val)
{
	struct sid *id = val;
	int w;

	(void)ctx;
	(void)n;
	id->name = key;
	for (w = 0; w < NWIN; w++)
		flush(id, w);
	return (0);
}

/* peak_cb - one peak of the limits into the list of its (kind, row, window) */
static void
peak_cb(void *ctx, const struct limits_peak *p)
{
	struct suggest *s = ctx;
	size_t k = (size_t)(p->rule - s->rules), r, w;
	struct slist *li;
	struct spk *v;
	struct sid *id;

	if ((id = hmap_get(s->ids, p->identity, strlen(p->identity))) == NULL)
		return;
	for (r = 0; r < NROWS && rows[r].limit != p->win->limit; r++)
		;
	for (w = 0; w < NWIN && win_seconds[w] != p->win->seconds; w++)
		;
	if (r == NROWS || w == NWIN)
		return;
	li = &s->pk[k][r][w];
	if ((v = arr_grow(li->v, li->n, &li->cap, sizeof(*v), 64)) == NULL) {
		s->failed = 1;
		return;
	}
	li->v = v;
	li->v[li->n++] = (struct spk){ p->peak, id };
}

static int
spk_cmp(const void *a, const void *b)
{
	const struct spk *x = a, *y = b;

	if (x->peak != y->peak)
		return (x->peak < y->peak ? -1 : 1);
	return (strcmp(x->id->name, y->id->name));
}

/* pctl - the q-quantile (nearest rank) of a sorted list */
static long
pctl(const struct slist *li, double q)
{
	size_t k = (size_t)ceil(q * (double)li->n);

	return (li->v[k > 0 ? k - 1 : 0].peak);
}

/* mark_outliers - of kind k: message peaks above SUGGEST_FACTOR x max(own usual, crowd) */
static void
mark_outliers(struct suggest *s, int k)
{
	size_t w, i;

	for (w = 0; w < NWIN; w++) {
		const struct slist *li = &s->pk[k][0][w]; /* rows[0] is messages */
		double crowd, own;

		if (li->n == 0)
			continue;
		crowd = (double)pctl(li, 0.90);
		for (i = 0; i < li->n; i++) {
			own = usual(li->v[i].id, (int)w);
			if ((double)li->v[i].peak > SUGGEST_FACTOR * (own > crowd ? own : crowd))
				li->v[i].id->outlier |= 1 << w;
		}
	}
}

/* nice_up - v rounded up to a number easy to read: 1..20, then steps of 5, 10, 50, ... */
static long
nice_up(double v)
{
	long step = 1, n = (long)ceil(v);

	if (n > 20)
		step = 5;
	if (n > 100)
		step = 10;
	if (n > 500)
		step = 50;
	if (n > 2000)
		step = 100;
	if (n > 10000)
		step = 1000;
	return ((n + step - 1) / step * step);
}

/* The threshold of one (kind, row, window), with what it rests on. */
struct choice {
	long t;
	long hi, lo;            /* highest normal peak; lowest outlier peak (LONG_MAX: none) */
	const struct sid *hiid; /* who peaked at hi */
	size_t over;            /* normal identities above t (a conflict) */
};

/* over - the normal identities of li above threshold t */
static size_t
over(const struct slist *li, long t)
{
	size_t i, n = 0;

	for (i = 0; i < li->n; i++)
		if (!li->v[i].id->outlier && li->v[i].peak > t)
			n++;
	return (n);
}

/*
 * choose - above every normal peak with headroom (catch_all() makes sure
 * that every outlier crosses some threshold)
 */
static struct choice
choose(const struct slist *li)
{
	struct choice c = { 1, 0, LONG_MAX, NULL, 0 };
	size_t i;

	for (i = 0; i < li->n; i++) {
		const struct spk *p = &li->v[i];

		if (p->id->outlier && p->peak < c.lo)
			c.lo = p->peak;
		else if (!p->id->outlier && p->peak >= c.hi) {
			c.hi = p->peak;
			c.hiid = p->id;
		}
	}
	c.t = nice_up((double)c.hi * SUGGEST_HEADROOM);
	if (c.t <= c.hi)
		c.t = c.hi + 1;
	return (c);
}

/*
 * catch_all - every outlier must cross some threshold: one that crosses
 * none lowers the message threshold of a window it is an outlier in to
 * just below its peak there (the comments then count the normal
 * identities that cross it too)
 */
static void
catch_all(struct suggest *s, int k, struct choice c[][NWIN])
{
	size_t r, w, i, j;

	for (i = 0; i < s->pk[k][0][0].n; i++) {
		const struct sid *id = s->pk[k][0][0].v[i].id;
		int caught = 0;

		if (!id->outlier)
			continue;
		for (r = 0; r < NROWS; r++)
			for (w = 0; w < NWIN; w++)
				for (j = 0; j < s->pk[k][r][w].n; j++)
					if (s->pk[k][r][w].v[j].id == id &&
					    s->pk[k][r][w].v[j].peak > c[r][w].t)
						caught = 1;
		for (w = 0; w < NWIN && !caught; w++)
			for (j = 0; j < s->pk[k][0][w].n && !caught; j++)
				if (s->pk[k][0][w].v[j].id == id && (id->outlier & 1 << w)) {
					c[0][w].t = s->pk[k][0][w].v[j].peak - 1;
					caught = 1;
				}
	}
	for (r = 0; r < NROWS; r++)
		for (w = 0; w < NWIN; w++)
			c[r][w].over = over(&s->pk[k][r][w], c[r][w].t);
}

/* print_dist - one line of the distribution of the peaks */
static void
print_dist(FILE *fp, const struct slist *li, size_t r, size_t w)
{
	char wb[32];

	fprintf(fp, "#   %-10s in %-2s per-identity peaks: p50 %ld, p90 %ld, p99 %ld, max %ld\n",
	    conf_limit_name(rows[r].limit), conf_format_duration(win_seconds[w], wb, sizeof(wb)),
	    pctl(li, 0.5), pctl(li, 0.9), pctl(li, 0.99), li->v[li->n - 1].peak);
}

/* print_outliers - the outliers of kind k, with their peaks and usual rates */
static void
print_outliers(FILE *fp, struct suggest *s, int k)
{
	const struct slist *h = &s->pk[k][0][0], *d = &s->pk[k][0][1];
	char vb[200];
	size_t i, j, n = 0;

	for (i = h->n; i-- > 0;) {
		const struct sid *id = h->v[i].id;
		long dpeak = 0;

		if (!id->outlier)
			continue;
		if (n++ == 0)
			fprintf(fp,
			    "#   outliers (a message peak above %d x the larger of the identity's "
			    "own "
			    "usual rate\n#   and the crowd's, the p90 above):\n",
			    SUGGEST_FACTOR);
		if (n > 20) {
			fputs("#     ... and more\n", fp);
			break;
		}
		for (j = 0; j < d->n; j++)
			if (d->v[j].id == id)
				dpeak = d->v[j].peak;
		fprintf(fp, "#     %s: %ld in 1h, %ld in 1d", esc_vis(id->name, vb, sizeof(vb)),
		    h->v[i].peak, dpeak);
		if (usual(id, 0) >= 0)
			fprintf(fp, "; usually %.0f in an hour it sends in", usual(id, 0));
		fputc('\n', fp);
	}
	if (n == 0)
		fputs("#   no outlier: no identity's peak is far above its own usual rate and the "
		      "crowd's\n",
		    fp);
}

/* print_kind - the comments and the [limit] section of kind k */
static void
print_kind(FILE *fp, struct suggest *s, int k)
{
	char wb[32], vb[200];
	size_t r, w, nid = s->pk[k][0][0].n;
	struct choice c[NROWS][NWIN];

	fprintf(fp, "\n# ---- %s: %zu identities, %llu messages\n", conf_by_name((enum conf_by)k),
	    nid, (unsigned long long)s->msgs[k]);
	for (r = 0; r < NROWS; r++)
		for (w = 0; w < NWIN; w++)
			if (s->pk[k][r][w].n > 0)
				print_dist(fp, &s->pk[k][r][w], r, w);
	print_outliers(fp, s, k);
	memset(c, 0, sizeof(c));
	for (r = 0; r < NROWS; r++)
		for (w = 0; w < NWIN; w++)
			if (s->pk[k][r][w].n > 0)
				c[r][w] = choose(&s->pk[k][r][w]);
	catch_all(s, k, c);
	for (r = 0; r < NROWS; r++)
		for (w = 0; w < NWIN; w++) {
			if (s->pk[k][r][w].n == 0)
				continue;
			fprintf(fp, "#   %s %ld/%s: ", conf_limit_name(rows[r].limit), c[r][w].t,
			    conf_format_duration(win_seconds[w], wb, sizeof(wb)));
			if (c[r][w].hiid != NULL)
				fprintf(fp, "the others peak at %ld at most (%s), ", c[r][w].hi,
				    esc_vis(c[r][w].hiid->name, vb, sizeof(vb)));
			fprintf(fp, "%d %% more, rounded up", (int)(SUGGEST_HEADROOM * 100 - 100));
			if (c[r][w].lo != LONG_MAX)
				fprintf(fp, "; the outliers peak at %ld at least", c[r][w].lo);
			fputc('\n', fp);
			if (c[r][w].over > 0)
				fprintf(fp,
				    "#     NOTE: %zu identit%s that %s not an outlier peak%s above "
				    "it "
				    "too:\n#     exempt %s or give %s a rule of %s own\n",
				    c[r][w].over, c[r][w].over == 1 ? "y" : "ies",
				    c[r][w].over == 1 ? "is" : "are", c[r][w].over == 1 ? "s" : "",
				    c[r][w].over == 1 ? "it" : "them",
				    c[r][w].over == 1 ? "it" : "them",
				    c[r][w].over == 1 ? "its" : "their");
		}
	if (kinds[k].note != NULL)
		fprintf(fp, "#   NOTE: this kind %s.\n", kinds[k].note);
	fprintf(fp, "[limit suggested_%s]\nby = %s\n", conf_by_name((enum conf_by)k),
	    conf_by_name((enum conf_by)k));
	for (r = 0; r < NROWS; r++) {
		if (s->pk[k][r][0].n == 0)
			continue;
		fprintf(fp, "%s = ", conf_limit_name(rows[r].limit));
		for (w = 0; w < NWIN; w++)
			if (s->pk[k][r][w].n > 0)
				fprintf(fp, "%s%ld/%s", w ? ", " : "", c[r][w].t,
				    conf_format_duration(win_seconds[w], wb, sizeof(wb)));
		fputc('\n', fp);
	}
	fprintf(fp, "actions = %s\nblock_time = 1h\n", kinds[k].actions);
}

int
suggest_outcome(struct suggest *s, const struct track_outcome *o)
{
	return (limits_outcome(s->l, o, NULL, NULL) < 0 ? -1 : 0);
}

int
suggest_print(struct suggest *s, FILE *fp)
{
	char a[40], b[40];
	size_t r, w;
	int k;

	hmap_each(s->ids, flush_cb, s);
	limits_each_peak(s->l, peak_cb, s);
	if (s->failed)
		return (-1);
	fputs("# Limits suggested by sendguard audit --suggest from the history it read.\n", fp);
	if (s->first == INT64_MAX) {
		fputs("# No message was counted: nothing to suggest.\n", fp);
		return (ferror(fp) ? -1 : 0);
	}
	fprintf(fp,
	    "# Messages from %s to %s (%.1f days).\n"
	    "# Review, then copy the sections into agent.conf; check them with\n"
	    "# sendguard check-config and try them with sendguard audit -c.\n"
	    "# The method: sendguard(8), SUGGESTED LIMITS.\n",
	    json_time(s->first, a, sizeof(a)), json_time(s->last, b, sizeof(b)),
	    (double)(s->last - s->first) / 86400e6);
	for (k = 0; k < BY_COUNT; k++) {
		if (s->msgs[k] == 0)
			continue;
		for (r = 0; r < NROWS; r++)
			for (w = 0; w < NWIN; w++)
				if (s->pk[k][r][w].n > 1)
					qsort(s->pk[k][r][w].v, s->pk[k][r][w].n,
					    sizeof(struct spk), spk_cmp);
		mark_outliers(s, k);
		print_kind(fp, s, k);
	}
	return (ferror(fp) ? -1 : 0);
}
