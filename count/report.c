/*
 * NAME
 *	report - audit report (see report.h)
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/arr.h"
#include "util/buf.h"
#include "util/esc.h"
#include "util/hmap.h"
#include "util/json.h"
#include "count/report_priv.h"

struct report *
report_new(const struct conf *conf)
{
	struct report *r;
	size_t i;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (NULL);
	r->conf = conf;
	/* every login, uid, sender and client; a domain total only where a rule counts it */
	r->kinds = 1u << BY_SASL | 1u << BY_UID | 1u << BY_SENDER | 1u << BY_IP;
	for (i = 0; i < conf->nrules; i++)
		r->kinds |= 1u << conf->rules[i].by;
	r->idents = hmap_new();
	r->ipset = hmap_new();
	if (r->idents == NULL || r->ipset == NULL) {
		report_free(r);
		return (NULL);
	}
	return (r);
}

static void
rident_free(void *v)
{
	struct rident *ri = v;

	if (ri != NULL)
		free(ri->peaks);
	free(ri);
}

void
report_free(struct report *r)
{
	size_t i;

	if (r == NULL)
		return;
	hmap_free(r->idents, rident_free);
	hmap_free(r->ipset, NULL);
	for (i = 0; i < r->nov; i++)
		free(r->ov[i].identity);
	free(r->ov);
	for (i = 0; i < r->nids; i++)
		free(r->ids[i]);
	free(r->ids);
	free(r);
}

/* rident_get - the totals of identity, created on first use */
static struct rident *
rident_get(struct report *r, const char *id, size_t n)
{
	void **slot;
	int added;

	if ((slot = hmap_get_or_add(r->idents, id, n, &added)) == NULL)
		return (NULL);
	if (added) {
		if ((*slot = calloc(1, sizeof(struct rident))) == NULL) {
			hmap_del(r->idents, id, n);
			return (NULL);
		}
	}
	return (*slot);
}

int
report_message(struct report *r, const struct track_msg *m)
{
	char buf[IDENT_MAX];
	char key[IDENT_MAX + 64];
	struct rident *ri;
	const char *id;
	size_t n, ipn;
	void **slot;
	int k, added;

	for (k = 0; k < BY_COUNT; k++) {
		if (!(r->kinds & 1u << k) ||
		    (id = limits_ident(m, (enum conf_by)k, buf, sizeof(buf))) == NULL)
			continue;
		if (conf_exempt(r->conf, (enum conf_by)k, strchr(id, ':') + 1))
			continue;
		n = strlen(id);
		if ((ri = rident_get(r, id, n)) == NULL)
			return (-1);
		ri->messages++;
		ri->recipients += (uint64_t)(m->nrcpt > 0 ? m->nrcpt : 0);
		if (m->client_ip == NULL || (ipn = strlen(m->client_ip)) + n + 1 >= sizeof(key))
			continue;
		memcpy(key, id, n);
		key[n] = '\0';
		memcpy(key + n + 1, m->client_ip, ipn);
		if ((slot = hmap_get_or_add(r->ipset, key, n + 1 + ipn, &added)) == NULL)
			return (-1);
		if (added) {
			*slot = r;
			ri->ips++;
		}
	}
	return (0);
}

int
report_overrun(struct report *r, const struct limits_verdict *v)
{
	struct roverrun *ov, *o;

	if ((ov = arr_grow(r->ov, r->nov, &r->capov, sizeof(*ov), 16)) == NULL)
		return (-1);
	r->ov = ov;
	o = &ov[r->nov];
	if ((o->identity = strdup(v->identity)) == NULL)
		return (-1);
	o->time_us = v->time_us;
	o->rule = v->rule;
	o->win = v->win;
	o->count = v->count;
	snprintf(o->queue_id, sizeof(o->queue_id), "%s", v->queue_id ? v->queue_id : "");
	o->order.major = v->time_us;
	o->order.minor = (int64_t)r->nov++;
	return (0);
}

size_t
report_overruns(const struct report *r)
{
	return (r->nov);
}

void
report_future_line(struct report *r)
{
	r->future_lines++;
}

/*
 * report_peak - a peak of limits onto its identity: the higher of it and
 * the one of the same rule and window already there (a state freed and
 * made again has one each), the earlier on a tie
 */
void
report_peak(void *ctx, const struct limits_peak *p)
{
	struct report *r = ctx;
	struct rident *ri = rident_get(r, p->identity, strlen(p->identity));
	struct rpeak *pk;
	/* the rules are r->conf's: limits counts with the report's configuration */
	const struct rorder order = { p->rule - r->conf->rules, p->win - p->rule->win };
	size_t i;

	if (ri == NULL) {
		r->failed = 1;
		return;
	}
	for (i = 0; i < ri->npeaks; i++) {
		pk = &ri->peaks[i];
		if (pk->order.major != order.major || pk->order.minor != order.minor)
			continue;
		if (p->peak > pk->peak || (p->peak == pk->peak && p->at_us < pk->at_us)) {
			pk->peak = p->peak;
			pk->at_us = p->at_us;
		}
		return;
	}
	if ((pk = arr_grow(ri->peaks, ri->npeaks, &ri->cappeaks, sizeof(*pk), 4)) == NULL) {
		r->failed = 1;
		return;
	}
	ri->peaks = pk;
	ri->peaks[ri->npeaks++] = (struct rpeak){
		.order = order,
		.rule = p->rule,
		.win = p->win,
		.peak = p->peak,
		.at_us = p->at_us,
	};
}

struct collect {
	struct rident **v;
	size_t n;
};

static int
collect_cb(void *ctx, const char *key, size_t n, void *val)
{
	struct collect *c = ctx;
	struct rident *ri = val;

	(void)n;
	ri->name = key;
	c->v[c->n++] = ri;
	return (0);
}

/* sign - -1, 0 or 1 as a is below, at or above b */
static int
sign(int64_t a, int64_t b)
{
	return ((a > b) - (a < b));
}

/* report_ident_cmp - the identities with most messages first, then by name */
int
report_ident_cmp(const void *a, const void *b)
{
	const struct rident *x = *(struct rident *const *)a, *y = *(struct rident *const *)b;

	if (x->messages != y->messages)
		return (x->messages > y->messages ? -1 : 1);
	return (strcmp(x->name, y->name));
}

/* order_cmp - rows (peaks, overruns) by the struct rorder they begin with */
static int
order_cmp(const void *a, const void *b)
{
	const struct rorder *x = a, *y = b;

	return (x->major != y->major ? sign(x->major, y->major) : sign(x->minor, y->minor));
}

/*
 * tprint - write s for a terminal through util/esc (ESC_VIS: non-printable
 * bytes as \xNN), in a column of width: a longer text keeps width - 3
 * bytes of its escaped form and ends in "...", a shorter one is padded
 * when pad is set.
 */
static void
tprint(FILE *fp, const char *s, int width, int pad)
{
	char text[512];
	struct buf b;
	int cut;

	buf_fixed(&b, text, sizeof(text));
	cut = esc_buf(&b, s, strlen(s), ESC_VIS, sizeof(text) - 1) != 0;
	if (width > 0 && (b.len > (size_t)width || cut)) {
		if (width > 3)
			fprintf(fp, "%.*s...", width - 3, text);
		else
			fprintf(fp, "%.*s", width, text);
		return;
	}
	if (width > 0 && pad)
		fprintf(fp, "%-*s", width, text);
	else
		fputs(text, fp);
}

/* csv - one RFC 4180 field (util/esc, ESC_CSV); nothing for NULL */
static void
csv(FILE *fp, const char *s)
{
	if (s != NULL)
		esc_fp(fp, s, strlen(s), ESC_CSV);
}

/* bound - an interval bound for the table: its time, or what an open end means */
static const char *
bound(int64_t us, const char *open, char *buf, size_t len)
{
	if (us == INT64_MIN || us == INT64_MAX)
		return (open);
	return (json_time(us, buf, len));
}

/* The labels of the whole input's totals: alone, or below an interval's. */
struct input_words {
	const char *lines, *lines_after; /* around the count of lines */
	const char *time;                /* before the first and last time */
	const char *msgs, *msgs_after;   /* around the count of messages */
};

static const struct input_words words_alone = { "Lines read: ", "",
	"Log time:   ", "Messages:   ", "" };
static const struct input_words words_below = { "Input:      ", " lines read", "            ",
	"            ", " messages" };

/* print_input - the whole input's lines, time span and messages, labelled by w */
static void
print_input(const struct report_totals *t, const struct input_words *w, FILE *fp)
{
	char tb[40], tb2[40];

	fprintf(fp, "%s%llu%s (%llu not syslog lines, %llu over-long)\n", w->lines,
	    (unsigned long long)t->lines, w->lines_after, (unsigned long long)t->unparsed,
	    (unsigned long long)t->too_long);
	if (t->first_us != INT64_MIN)
		fprintf(fp, "%s%s to %s\n", w->time, json_time(t->first_us, tb, sizeof(tb)),
		    json_time(t->last_us, tb2, sizeof(tb2)));
	if (t->track != NULL)
		fprintf(fp,
		    "%s%llu%s counted; not counted: %llu content-filter copies, "
		    "%llu requeued, %llu without a client or pickup line\n",
		    w->msgs, (unsigned long long)t->track->counted, w->msgs_after,
		    (unsigned long long)t->track->reinjections,
		    (unsigned long long)t->track->requeues, (unsigned long long)t->track->orphans);
}

/*
 * print_table_interval - the head of a report with --since/--until: the
 * interval and its totals first, then the whole input's below "Input:".
 */
static void
print_table_interval(const struct report_totals *t, FILE *fp)
{
	char tb[40], tb2[40];

	fprintf(fp, "Interval:   %s .. %s\n",
	    bound(t->since_us, "(start of input)", tb, sizeof(tb)),
	    bound(t->until_us, "(end of input)", tb2, sizeof(tb2)));
	fprintf(fp, "Lines:      %llu in the interval (%llu not syslog lines)\n",
	    (unsigned long long)t->in_lines, (unsigned long long)t->in_unparsed);
	if (t->in_first_us != INT64_MIN)
		fprintf(fp, "Log time:   %s to %s in the interval\n",
		    json_time(t->in_first_us, tb, sizeof(tb)),
		    json_time(t->in_last_us, tb2, sizeof(tb2)));
	else
		fputs("Log time:   no line in the interval\n", fp);
	fprintf(fp, "Messages:   %llu counted in the interval\n",
	    (unsigned long long)t->in_counted);
	print_input(t, &words_below, fp);
}

static void
print_table(const struct rview *vw, const struct report_totals *t, FILE *fp)
{
	const struct report *r = vw->r;
	struct rident *const *v = vw->v;
	size_t n = vw->n;
	char tb[40], wb[32];
	size_t i, j;

	if (t->interval)
		print_table_interval(t, fp);
	else
		print_input(t, &words_alone, fp);
	if (r->future_lines > 0)
		fprintf(fp,
		    "Future:     %llu lines stamped more than %s ahead of the log, "
		    "counted at the time of the line before\n",
		    (unsigned long long)r->future_lines,
		    conf_format_duration(r->conf->max_clock_skew, wb, sizeof(wb)));
	fprintf(fp, "\n%-50s %9s %10s %7s\n", "IDENTITY", "MESSAGES", "RECIPIENTS", "IPS");
	for (i = 0; i < n; i++) {
		tprint(fp, v[i]->name, 50, 1);
		fprintf(fp, " %9llu %10llu %7llu\n", (unsigned long long)v[i]->messages,
		    (unsigned long long)v[i]->recipients, (unsigned long long)v[i]->ips);
	}
	if (n == 0)
		fputs("(no messages)\n", fp);
	for (i = 0, j = 0; i < n; i++)
		j += v[i]->npeaks;
	if (j > 0) {
		fprintf(fp, "\nPEAKS (highest value in each window)\n");
		for (i = 0; i < n; i++) {
			if (v[i]->npeaks == 0)
				continue;
			tprint(fp, v[i]->name, 78, 0);
			putc('\n', fp);
			for (j = 0; j < v[i]->npeaks; j++) {
				const struct rpeak *p = &v[i]->peaks[j];

				fprintf(fp, "    %-16.16s %-10s %6s %7ld / %-7ld at %s\n",
				    p->rule->name, conf_limit_name(p->win->limit),
				    conf_format_duration(p->win->seconds, wb, sizeof(wb)), p->peak,
				    p->win->threshold, json_time(p->at_us, tb, sizeof(tb)));
			}
		}
	}
	fprintf(fp, "\nOVERRUNS: %zu\n", vw->nov);
	for (i = 0; i < vw->nov; i++) {
		const struct roverrun *o = vw->ov[i];

		fprintf(fp, "%s  ", json_time(o->time_us, tb, sizeof(tb)));
		tprint(fp, o->identity, 56, 0);
		fprintf(fp, "\n    %s: %s %ld > %ld in %s, crossed by %s\n", o->rule->name,
		    conf_limit_name(o->win->limit), o->count, o->win->threshold,
		    conf_format_duration(o->win->seconds, wb, sizeof(wb)), o->queue_id);
	}
}

/* json_first_last - "first": "...", "last": "...", (null when there is no line) */
static void
json_first_last(FILE *fp, int64_t first_us, int64_t last_us)
{
	char tb[40];

	if (first_us == INT64_MIN) {
		fputs("\"first\": null, \"last\": null, ", fp);
		return;
	}
	fprintf(fp, "\"first\": \"%s\", ", json_time(first_us, tb, sizeof(tb)));
	fprintf(fp, "\"last\": \"%s\", ", json_time(last_us, tb, sizeof(tb)));
}

/* json_bound - an interval bound: its time, or null for an open end */
static void
json_bound(FILE *fp, int64_t us)
{
	char tb[40];

	if (us == INT64_MIN || us == INT64_MAX)
		fputs("null", fp);
	else
		fprintf(fp, "\"%s\"", json_time(us, tb, sizeof(tb)));
}

static void
print_json(const struct rview *vw, const struct report_totals *t, FILE *fp)
{
	const struct report *r = vw->r;
	struct rident *const *v = vw->v;
	size_t n = vw->n;
	char tb[40], wb[32];
	size_t i, j;

	if (!t->interval) {
		fprintf(fp, "{\"lines\": %llu, \"unparsed\": %llu, \"too_long\": %llu, ",
		    (unsigned long long)t->lines, (unsigned long long)t->unparsed,
		    (unsigned long long)t->too_long);
		json_first_last(fp, t->first_us, t->last_us);
		if (t->track != NULL)
			fprintf(fp, "\"counted\": %llu, ", (unsigned long long)t->track->counted);
	} else {
		/* lines, unparsed, first, last and counted are the interval's */
		fputs("{\"since\": ", fp);
		json_bound(fp, t->since_us);
		fputs(", \"until\": ", fp);
		json_bound(fp, t->until_us);
		fprintf(fp, ", \"lines\": %llu, \"unparsed\": %llu, \"too_long\": %llu, ",
		    (unsigned long long)t->in_lines, (unsigned long long)t->in_unparsed,
		    (unsigned long long)t->too_long);
		json_first_last(fp, t->in_first_us, t->in_last_us);
		fprintf(fp, "\"counted\": %llu, \"input\": {\"lines\": %llu, \"unparsed\": %llu, ",
		    (unsigned long long)t->in_counted, (unsigned long long)t->lines,
		    (unsigned long long)t->unparsed);
		json_first_last(fp, t->first_us, t->last_us);
		fprintf(fp, "\"counted\": %llu}, ",
		    t->track != NULL ? (unsigned long long)t->track->counted : 0ULL);
	}
	if (t->track != NULL)
		fprintf(fp,
		    "\"not_counted\": {\"content_filter\": %llu, "
		    "\"requeued\": %llu, \"no_origin\": %llu, \"root_null_sender\": %llu}, "
		    "\"retries\": %llu, ",
		    (unsigned long long)t->track->reinjections,
		    (unsigned long long)t->track->requeues, (unsigned long long)t->track->orphans,
		    (unsigned long long)t->track->own, (unsigned long long)t->track->retries);
	/* the whole input's, as too_long: a future-dated line has no time of its own */
	fprintf(fp, "\"future_lines\": %llu, ", (unsigned long long)r->future_lines);
	fputs("\n \"identities\": [", fp);
	for (i = 0; i < n; i++) {
		fputs(i ? ",\n  " : "\n  ", fp);
		fputs("{\"identity\": ", fp);
		json_cstr(fp, v[i]->name);
		fprintf(fp,
		    ", \"messages\": %llu, \"recipients\": %llu, \"ips\": %llu, \"peaks\": [",
		    (unsigned long long)v[i]->messages, (unsigned long long)v[i]->recipients,
		    (unsigned long long)v[i]->ips);
		for (j = 0; j < v[i]->npeaks; j++) {
			const struct rpeak *p = &v[i]->peaks[j];

			fprintf(fp, "%s{\"rule\": ", j ? ", " : "");
			json_cstr(fp, p->rule->name);
			fprintf(fp,
			    ", \"limit\": \"%s\", \"window\": \"%s\", \"threshold\": %ld, "
			    "\"peak\": %ld, \"at\": \"%s\"}",
			    conf_limit_name(p->win->limit),
			    conf_format_duration(p->win->seconds, wb, sizeof(wb)),
			    p->win->threshold, p->peak, json_time(p->at_us, tb, sizeof(tb)));
		}
		fputs("]}", fp);
	}
	fputs(n ? "\n ],\n \"overruns\": [" : "],\n \"overruns\": [", fp);
	for (i = 0; i < vw->nov; i++) {
		const struct roverrun *o = vw->ov[i];

		fputs(i ? ",\n  " : "\n  ", fp);
		fputs("{\"identity\": ", fp);
		json_cstr(fp, o->identity);
		fputs(", \"rule\": ", fp);
		json_cstr(fp, o->rule->name);
		fprintf(fp,
		    ", \"limit\": \"%s\", \"window\": \"%s\", \"threshold\": %ld, "
		    "\"count\": %ld, \"at\": \"%s\", \"queue_id\": ",
		    conf_limit_name(o->win->limit),
		    conf_format_duration(o->win->seconds, wb, sizeof(wb)), o->win->threshold,
		    o->count, json_time(o->time_us, tb, sizeof(tb)));
		json_cstr(fp, o->queue_id);
		fputc('}', fp);
	}
	fputs(vw->nov ? "\n ]}\n" : "]}\n", fp);
}

static void
print_csv(const struct rview *vw, FILE *fp)
{
	struct rident *const *v = vw->v;
	size_t n = vw->n;
	char tb[40], wb[32];
	size_t i, j;

	fputs("record,identity,rule,limit,window,threshold,messages,recipients,ips,count,at,queue_"
	      "id\n",
	    fp);
	for (i = 0; i < n; i++) {
		fputs("identity,", fp);
		csv(fp, v[i]->name);
		fprintf(fp, ",,,,,%llu,%llu,%llu,,,\n", (unsigned long long)v[i]->messages,
		    (unsigned long long)v[i]->recipients, (unsigned long long)v[i]->ips);
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < v[i]->npeaks; j++) {
			const struct rpeak *p = &v[i]->peaks[j];

			fputs("peak,", fp);
			csv(fp, v[i]->name);
			putc(',', fp);
			csv(fp, p->rule->name);
			fprintf(fp, ",%s,%s,%ld,,,,%ld,%s,\n", conf_limit_name(p->win->limit),
			    conf_format_duration(p->win->seconds, wb, sizeof(wb)),
			    p->win->threshold, p->peak, json_time(p->at_us, tb, sizeof(tb)));
		}
	}
	for (i = 0; i < vw->nov; i++) {
		const struct roverrun *o = vw->ov[i];

		fputs("overrun,", fp);
		csv(fp, o->identity);
		putc(',', fp);
		csv(fp, o->rule->name);
		fprintf(fp, ",%s,%s,%ld,,,,%ld,%s,", conf_limit_name(o->win->limit),
		    conf_format_duration(o->win->seconds, wb, sizeof(wb)), o->win->threshold,
		    o->count, json_time(o->time_us, tb, sizeof(tb)));
		csv(fp, o->queue_id);
		putc('\n', fp);
	}
}

/* report_set_filter - what report_print and the HTML page show (see report.h) */
int
report_set_filter(struct report *r, const struct report_filter *f)
{
	size_t i;

	r->top = f->top;
	r->over_only = f->over_only;
	if (f->nids == 0)
		return (0);
	if ((r->ids = calloc(f->nids, sizeof(char *))) == NULL)
		return (-1);
	for (i = 0; i < f->nids; i++) {
		if ((r->ids[i] = strdup(f->ids[i])) == NULL)
			return (-1);
		r->nids = i + 1;
	}
	return (0);
}

/* report_view - the sorted, filtered rows of r (see report_priv.h) */
int
report_view(struct report *r, struct limits *l, struct rview *vw)
{
	struct collect c;
	size_t i;

	memset(vw, 0, sizeof(*vw));
	vw->r = r;
	if (l != NULL && !r->peaks_in)
		limits_each_peak(l, report_peak, r);
	r->peaks_in = 1;
	c.n = 0;
	if ((c.v = calloc(hmap_count(r->idents) + 1, sizeof(struct rident *))) == NULL)
		return (-1);
	hmap_each(r->idents, collect_cb, &c);
	if (c.n > 1)
		qsort(c.v, c.n, sizeof(struct rident *), report_ident_cmp);
	for (i = 0; i < c.n; i++)
		if (c.v[i]->npeaks > 1)
			qsort(c.v[i]->peaks, c.v[i]->npeaks, sizeof(struct rpeak), order_cmp);
	if (r->nov > 1)
		qsort(r->ov, r->nov, sizeof(*r->ov), order_cmp);
	vw->v = c.v;
	vw->n = c.n;
	if ((vw->ov = calloc(r->nov + 1, sizeof(struct roverrun *))) == NULL) {
		report_view_free(vw);
		return (-1);
	}
	for (i = 0; i < r->nov; i++)
		vw->ov[i] = &r->ov[i];
	vw->nov = r->nov;
	if (report_filter_view(r, vw) < 0) {
		report_view_free(vw);
		return (-1);
	}
	return (0);
}

/* report_view_free - the arrays of a view */
void
report_view_free(struct rview *vw)
{
	free(vw->v);
	free(vw->ov);
	memset(vw, 0, sizeof(*vw));
}

int
report_print(struct report *r, struct limits *l, const struct report_totals *t,
    enum report_format fmt, FILE *fp)
{
	struct rview vw;

	if (report_view(r, l, &vw) < 0)
		return (-1);
	switch (fmt) {
	case REPORT_JSON:
		print_json(&vw, t, fp);
		break;
	case REPORT_CSV:
		print_csv(&vw, fp);
		break;
	default:
		print_table(&vw, t, fp);
		break;
	}
	report_view_free(&vw);
	return (ferror(fp) || r->failed ? -1 : 0);
}

/* read2 - the two decimal digits at s into *v; 0, or -1 if they are not */
static int
read2(const char *s, long *v)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return (-1);
	*v = (s[0] - '0') * 10 + (s[1] - '0');
	return (0);
}

/* parse_absolute - RFC 3339, or a local date [and time]; 0, or -1 if s is neither */
static int
parse_absolute(const char *s, int64_t *out)
{
	static const char *const fmts[] = {
		"%Y-%m-%dT%H:%M:%S",
		"%Y-%m-%d %H:%M:%S",
		"%Y-%m-%d %H:%M",
		"%Y-%m-%d",
	};
	struct tm tm;
	const char *end = NULL;
	time_t t;
	long off = 0, hh, mm = 0;
	size_t i;
	int zoned = 0;

	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]) && end == NULL; i++) {
		memset(&tm, 0, sizeof(tm)); /* a failed attempt may have filled some */
		end = strptime(s, fmts[i], &tm);
	}
	if (end == NULL)
		return (-1);
	if (*end == '.') { /* fraction: ignored */
		end++;
		while (isdigit((unsigned char)*end))
			end++;
	}
	if (*end == 'Z' || *end == 'z') {
		zoned = 1;
		end++;
	} else if (*end == '+' || *end == '-') {
		int sign = *end == '-' ? -1 : 1;

		if (read2(end + 1, &hh) < 0)
			return (-1);
		end += 3;
		if (*end == ':') { /* +01:00 */
			if (read2(end + 1, &mm) < 0)
				return (-1);
			end += 3;
		} else if (*end != '\0') { /* +0100; +01 alone is whole hours */
			if (read2(end, &mm) < 0)
				return (-1);
			end += 2;
		}
		if (hh > 23 || mm > 59)
			return (-1);
		off = sign * (hh * 3600 + mm * 60);
		zoned = 1;
	}
	if (*end != '\0')
		return (-1);
	if (zoned) {
		if ((t = timegm(&tm)) == (time_t)-1)
			return (-1);
		t -= off;
	} else {
		tm.tm_isdst = -1;
		if ((t = mktime(&tm)) == (time_t)-1)
			return (-1);
	}
	*out = (int64_t)t * 1000000;
	return (0);
}

/*
 * local_midnight - the local midnight days_back days before the day of
 * now_us.  The day is stepped in the calendar (mktime normalises), not by
 * 86400 s, so a day of 23 or 25 hours is a day; where a change of daylight
 * saving time skips midnight, mktime gives the first time the day has.
 */
static int
local_midnight(int64_t now_us, int days_back, int64_t *out)
{
	time_t now = (time_t)(now_us >= 0 ? now_us / 1000000 : (now_us - 999999) / 1000000);
	struct tm tm;
	time_t t;

	if (localtime_r(&now, &tm) == NULL)
		return (-1);
	tm.tm_hour = 0;
	tm.tm_min = 0;
	tm.tm_sec = 0;
	tm.tm_mday -= days_back;
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) == (time_t)-1)
		return (-1);
	*out = (int64_t)t * 1000000;
	return (0);
}

/* report_parse_time - a --since/--until T into microseconds, relative to now_us (see report.h) */
int
report_parse_time(const char *s, int64_t now_us, int64_t *out, char *err, size_t errlen)
{
	size_t n = strlen(s);
	int64_t d;

	if (strcmp(s, "today") == 0 || strcmp(s, "yesterday") == 0) {
		if (local_midnight(now_us, s[0] == 'y', out) < 0) {
			snprintf(err, errlen, "'%s': cannot find the local midnight", s);
			return (-1);
		}
		return (0);
	}
	if (s[0] == '-') {
		/* -N with a unit: conf_parse_duration alone would take a bare -90 as seconds */
		if (n < 3 || strchr("smhd", s[n - 1]) == NULL ||
		    (d = conf_parse_duration(s + 1)) < 0) {
			snprintf(err, errlen,
			    "'%s' is not a relative time "
			    "(a minus, a number and a unit s, m, h or d: -90s, -30m, -2h, -7d)",
			    s);
			return (-1);
		}
		if (now_us < 0 || d > now_us / 1000000) {
			snprintf(err, errlen, "'%s' reaches back before 1970", s);
			return (-1);
		}
		*out = now_us - d * 1000000;
		return (0);
	}
	if (parse_absolute(s, out) < 0) {
		snprintf(err, errlen,
		    "cannot read time '%s' (use 2026-11-27T17:20:00Z, "
		    "2026-11-27 17:20, 2026-11-27, today, yesterday or -2h)",
		    s);
		return (-1);
	}
	return (0);
}
