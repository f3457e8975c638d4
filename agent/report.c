/*
 * NAME
 *	report - audit report (see report.h)
 */
#include <stdlib.h>
#include <string.h>

#include "agent/hmap.h"
#include "agent/json.h"
#include "agent/report.h"

struct rpeak {
	const struct conf_rule *rule;
	const struct conf_window *win;
	long	peak;
	int64_t	at_us;
};

struct rident {
	const char *name;		/* the hmap's copy of the key */
	uint64_t messages, recipients, ips;
	struct rpeak *peaks;
	size_t	npeaks, cappeaks;
};

struct roverrun {
	int64_t	time_us;
	char   *identity;
	const struct conf_rule *rule;
	const struct conf_window *win;
	long	count;
	char	queue_id[PF_QID_MAX + 1];
	size_t	seq;
};

struct report {
	const struct conf *conf;
	struct hmap *idents;		/* identity -> struct rident */
	struct hmap *ipset;		/* identity \0 ip -> (void *)1 */
	struct roverrun *ov;
	size_t	nov, capov;
};

struct report *
report_new(const struct conf *conf)
{
	struct report *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (NULL);
	r->conf = conf;
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
	char buf[SG_IDENT_KEY_MAX];
	char key[SG_IDENT_KEY_MAX + 64];
	struct rident *ri;
	const char *id;
	size_t n, ipn;
	void **slot;
	int k, added;

	for (k = 0; k < BY_COUNT; k++) {
		if ((id = limits_ident(m, (enum conf_by)k, buf, sizeof(buf))) == NULL)
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
	struct roverrun *o;

	if (r->nov == r->capov) {
		size_t nc = r->capov ? r->capov * 2 : 16;
		struct roverrun *n = realloc(r->ov, nc * sizeof(*n));

		if (n == NULL)
			return (-1);
		r->ov = n;
		r->capov = nc;
	}
	o = &r->ov[r->nov];
	if ((o->identity = strdup(v->identity)) == NULL)
		return (-1);
	o->time_us = v->time_us;
	o->rule = v->rule;
	o->win = v->win;
	o->count = v->count;
	snprintf(o->queue_id, sizeof(o->queue_id), "%s", v->queue_id ? v->queue_id : "");
	o->seq = r->nov++;
	return (0);
}

size_t
report_overruns(const struct report *r)
{
	return (r->nov);
}

/* collect - peaks from limits onto their identities */
static void
peak_in(void *ctx, const struct limits_peak *p)
{
	struct report *r = ctx;
	struct rident *ri = rident_get(r, p->identity, strlen(p->identity));

	if (ri == NULL)
		return;
	if (ri->npeaks == ri->cappeaks) {
		size_t nc = ri->cappeaks ? ri->cappeaks * 2 : 4;
		struct rpeak *n = realloc(ri->peaks, nc * sizeof(*n));

		if (n == NULL)
			return;
		ri->peaks = n;
		ri->cappeaks = nc;
	}
	ri->peaks[ri->npeaks].rule = p->rule;
	ri->peaks[ri->npeaks].win = p->win;
	ri->peaks[ri->npeaks].peak = p->peak;
	ri->peaks[ri->npeaks].at_us = p->at_us;
	ri->npeaks++;
}

struct collect {
	struct rident **v;
	size_t	n;
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

static int
ident_cmp(const void *a, const void *b)
{
	const struct rident *x = *(struct rident *const *)a, *y = *(struct rident *const *)b;

	if (x->messages != y->messages)
		return (x->messages > y->messages ? -1 : 1);
	return (strcmp(x->name, y->name));
}

static int
peak_cmp(const void *a, const void *b)
{
	const struct rpeak *x = a, *y = b;

	if (x->rule != y->rule)
		return (x->rule < y->rule ? -1 : 1);
	return (x->win < y->win ? -1 : x->win > y->win);
}

static int
ov_cmp(const void *a, const void *b)
{
	const struct roverrun *x = a, *y = b;

	if (x->time_us != y->time_us)
		return (x->time_us < y->time_us ? -1 : 1);
	return (x->seq < y->seq ? -1 : x->seq > y->seq);
}

/* tprint - write s for a terminal: non-printable bytes as \xNN; cut to width, pad if asked */
static void
tprint(FILE *fp, const char *s, int width, int pad)
{
	char buf[512];
	size_t o = 0, i;
	int cut = 0;

	for (i = 0; s[i] != '\0' && o + 5 < sizeof(buf); i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	if (s[i] != '\0')
		cut = 1;
	buf[o] = '\0';
	if (width > 0 && (o > (size_t)width || cut)) {
		if (width > 3) {
			size_t keep = (size_t)width - 3;

			if (keep > o)
				keep = o;
			fprintf(fp, "%.*s...", (int)keep, buf);
		} else
			fprintf(fp, "%.*s", width, buf);
		return;
	}
	if (width > 0 && pad)
		fprintf(fp, "%-*s", width, buf);
	else
		fputs(buf, fp);
}

/* csv - one RFC 4180 field */
static void
csv(FILE *fp, const char *s)
{
	const char *p;

	if (s == NULL)
		return;
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, fp);
		return;
	}
	putc('"', fp);
	for (p = s; *p; p++) {
		if (*p == '"')
			putc('"', fp);
		putc(*p, fp);
	}
	putc('"', fp);
}

static void
print_table(struct report *r, struct rident **v, size_t n, const struct report_totals *t, FILE *fp)
{
	char tb[40], tb2[40], wb[32];
	size_t i, j;

	fprintf(fp, "Lines read: %llu (%llu not syslog lines, %llu over-long)\n",
	    (unsigned long long)t->lines, (unsigned long long)t->unparsed,
	    (unsigned long long)t->too_long);
	if (t->first_us != INT64_MIN)
		fprintf(fp, "Log time:   %s to %s\n", json_time(t->first_us, tb, sizeof(tb)),
		    json_time(t->last_us, tb2, sizeof(tb2)));
	if (t->track != NULL)
		fprintf(fp, "Messages:   %llu counted; not counted: %llu content-filter copies, "
		    "%llu requeued, %llu without a client or pickup line\n",
		    (unsigned long long)t->track->counted, (unsigned long long)t->track->reinjections,
		    (unsigned long long)t->track->requeues, (unsigned long long)t->track->orphans);
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

				fprintf(fp, "    %-16.16s %-10s %6s %7ld / %-7ld at %s\n", p->rule->name,
				    conf_limit_name(p->win->limit),
				    conf_format_duration(p->win->seconds, wb, sizeof(wb)),
				    p->peak, p->win->threshold, json_time(p->at_us, tb, sizeof(tb)));
			}
		}
	}
	fprintf(fp, "\nOVERRUNS: %zu\n", r->nov);
	for (i = 0; i < r->nov; i++) {
		const struct roverrun *o = &r->ov[i];

		fprintf(fp, "%s  ", json_time(o->time_us, tb, sizeof(tb)));
		tprint(fp, o->identity, 56, 0);
		fprintf(fp, "\n    %s: %s %ld > %ld in %s, crossed by %s\n", o->rule->name,
		    conf_limit_name(o->win->limit), o->count, o->win->threshold,
		    conf_format_duration(o->win->seconds, wb, sizeof(wb)), o->queue_id);
	}
}

static void
print_json(struct report *r, struct rident **v, size_t n, const struct report_totals *t, FILE *fp)
{
	char tb[40], wb[32];
	size_t i, j;

	fprintf(fp, "{\"lines\": %llu, \"unparsed\": %llu, \"too_long\": %llu, ",
	    (unsigned long long)t->lines, (unsigned long long)t->unparsed,
	    (unsigned long long)t->too_long);
	if (t->first_us != INT64_MIN) {
		fprintf(fp, "\"first\": \"%s\", ", json_time(t->first_us, tb, sizeof(tb)));
		fprintf(fp, "\"last\": \"%s\", ", json_time(t->last_us, tb, sizeof(tb)));
	} else
		fputs("\"first\": null, \"last\": null, ", fp);
	if (t->track != NULL)
		fprintf(fp, "\"counted\": %llu, \"not_counted\": {\"content_filter\": %llu, "
		    "\"requeued\": %llu, \"no_origin\": %llu, \"root_null_sender\": %llu}, "
		    "\"retries\": %llu, ",
		    (unsigned long long)t->track->counted, (unsigned long long)t->track->reinjections,
		    (unsigned long long)t->track->requeues, (unsigned long long)t->track->orphans,
		    (unsigned long long)t->track->own, (unsigned long long)t->track->retries);
	fputs("\n \"identities\": [", fp);
	for (i = 0; i < n; i++) {
		fputs(i ? ",\n  " : "\n  ", fp);
		fputs("{\"identity\": ", fp);
		json_cstr(fp, v[i]->name);
		fprintf(fp, ", \"messages\": %llu, \"recipients\": %llu, \"ips\": %llu, \"peaks\": [",
		    (unsigned long long)v[i]->messages, (unsigned long long)v[i]->recipients,
		    (unsigned long long)v[i]->ips);
		for (j = 0; j < v[i]->npeaks; j++) {
			const struct rpeak *p = &v[i]->peaks[j];

			fprintf(fp, "%s{\"rule\": ", j ? ", " : "");
			json_cstr(fp, p->rule->name);
			fprintf(fp, ", \"limit\": \"%s\", \"window\": \"%s\", \"threshold\": %ld, "
			    "\"peak\": %ld, \"at\": \"%s\"}", conf_limit_name(p->win->limit),
			    conf_format_duration(p->win->seconds, wb, sizeof(wb)), p->win->threshold,
			    p->peak, json_time(p->at_us, tb, sizeof(tb)));
		}
		fputs("]}", fp);
	}
	fputs(n ? "\n ],\n \"overruns\": [" : "],\n \"overruns\": [", fp);
	for (i = 0; i < r->nov; i++) {
		const struct roverrun *o = &r->ov[i];

		fputs(i ? ",\n  " : "\n  ", fp);
		fputs("{\"identity\": ", fp);
		json_cstr(fp, o->identity);
		fputs(", \"rule\": ", fp);
		json_cstr(fp, o->rule->name);
		fprintf(fp, ", \"limit\": \"%s\", \"window\": \"%s\", \"threshold\": %ld, "
		    "\"count\": %ld, \"at\": \"%s\", \"queue_id\": ", conf_limit_name(o->win->limit),
		    conf_format_duration(o->win->seconds, wb, sizeof(wb)), o->win->threshold,
		    o->count, json_time(o->time_us, tb, sizeof(tb)));
		json_cstr(fp, o->queue_id);
		fputc('}', fp);
	}
	fputs(r->nov ? "\n ]}\n" : "]}\n", fp);
}

static void
print_csv(struct report *r, struct rident **v, size_t n, FILE *fp)
{
	char tb[40], wb[32];
	size_t i, j;

	fputs("record,identity,rule,limit,window,threshold,messages,recipients,ips,count,at,queue_id\n", fp);
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
			    conf_format_duration(p->win->seconds, wb, sizeof(wb)), p->win->threshold,
			    p->peak, json_time(p->at_us, tb, sizeof(tb)));
		}
	}
	for (i = 0; i < r->nov; i++) {
		const struct roverrun *o = &r->ov[i];

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

int
report_print(struct report *r, struct limits *l, const struct report_totals *t,
	     enum report_format fmt, FILE *fp)
{
	struct collect c;
	size_t i;

	if (l != NULL)
		limits_each_peak(l, peak_in, r);
	c.n = 0;
	if ((c.v = calloc(hmap_count(r->idents) + 1, sizeof(*c.v))) == NULL)
		return (-1);
	hmap_each(r->idents, collect_cb, &c);
	if (c.n > 1)
		qsort(c.v, c.n, sizeof(*c.v), ident_cmp);
	for (i = 0; i < c.n; i++)
		if (c.v[i]->npeaks > 1)
			qsort(c.v[i]->peaks, c.v[i]->npeaks, sizeof(struct rpeak), peak_cmp);
	if (r->nov > 1)
		qsort(r->ov, r->nov, sizeof(*r->ov), ov_cmp);
	switch (fmt) {
	case REPORT_JSON:
		print_json(r, c.v, c.n, t, fp);
		break;
	case REPORT_CSV:
		print_csv(r, c.v, c.n, fp);
		break;
	default:
		print_table(r, c.v, c.n, t, fp);
		break;
	}
	free(c.v);
	return (ferror(fp) ? -1 : 0);
}
