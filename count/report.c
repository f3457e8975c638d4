/*
 * NAME
 *	report - audit report (see report.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	/* only added to: their keys in blocks, not one allocation each */
	r->idents = hmap_new_arena();
	r->ipset = hmap_new_arena();
	r->sset = hmap_new_arena();
	if (r->idents == NULL || r->ipset == NULL || r->sset == NULL) {
		report_free(r);
		return (NULL);
	}
	return (r);
}

static void
rident_free(void *v)
{
	struct rident *ri = v;

	if (ri != NULL) {
		free(ri->peaks);
		free(ri->cl);
	}
	free(ri);
}

void
report_free(struct report *r)
{
	struct rip_block *b;
	size_t i;

	if (r == NULL)
		return;
	hmap_free(r->idents, rident_free);
	hmap_free(r->ipset, NULL); /* its rows are in the blocks */
	while ((b = r->rips) != NULL) {
		r->rips = b->next;
		free(b);
	}
	hmap_free(r->sset, NULL);
	for (i = 0; i < r->nov; i++)
		free(r->ov[i].identity);
	free(r->ov);
	for (i = 0; i < r->nids; i++)
		free(r->ids[i]);
	free(r->ids);
	free(r);
}

/* rident_get - the totals of identity id (n bytes, hmap_hash h), created on first use */
static struct rident *
rident_get(struct report *r, const char *id, size_t n, uint64_t h)
{
	void **slot;
	int added;

	if ((slot = hmap_get_or_add_h(r->idents, h, id, n, &added)) == NULL)
		return (NULL);
	if (added) {
		if ((*slot = calloc(1, sizeof(struct rident))) == NULL) {
			hmap_del_h(r->idents, h, id, n);
			return (NULL);
		}
	}
	return (*slot);
}

/* An identity of the message at hand: its name, length and hmap_hash. */
struct rname {
	const char *id;
	size_t n;
	uint64_t h;
};

/* A client IP or sender of the message at hand: its bytes, length and hmap_hash (0: not taken yet). */
struct rval {
	const char *s;
	size_t n;
	uint64_t h;
};

/*
 * pair_add - key "id \0 value" in m, new or not; its value slot (*added
 * set when it is new), NULL when out of memory, or (*added 2) when the
 * pair is too long to be a key (no address or sender is: it is left out).
 * Its hash: hmap_hash_mix(id's, value's), the value hashed at most once a
 * message; the pair maps are only ever added to and walked.
 */
static void **
pair_add(struct hmap *m, const struct rname *id, struct rval *v, int *added)
{
	char key[IDENT_MAX + 64];
	size_t n = id->n;

	*added = 0;
	if (v->n + n + 1 >= sizeof(key)) {
		*added = 2;
		return (NULL);
	}
	if (v->h == 0)
		v->h = hmap_hash(v->s, v->n);
	memcpy(key, id->id, n);
	key[n] = '\0';
	memcpy(key + n + 1, v->s, v->n);
	return (hmap_get_or_add_h(m, hmap_hash_mix(id->h, v->h), key, n + 1 + v->n, added));
}

/* last_is - v is the value kept in last (size bytes, NUL-terminated) */
static int
last_is(const char *last, size_t size, const struct rval *v)
{
	return (v->n < size && memcmp(last, v->s, v->n + 1) == 0);
}

/* last_keep - v into last (size bytes) when it fits, else last emptied */
static void
last_keep(char *last, size_t size, const struct rval *v)
{
	if (v->n < size)
		memcpy(last, v->s, v->n + 1);
	else
		last[0] = '\0';
}

/* rip_new - a zeroed client IP row from the report's blocks; NULL on ENOMEM */
static struct rip *
rip_new(struct report *r)
{
	struct rip_block *b = r->rips;

	if (b == NULL || b->used == REPORT_RIP_BLOCK) {
		if ((b = calloc(1, sizeof(*b))) == NULL)
			return (NULL);
		b->next = r->rips;
		r->rips = b;
	}
	return (&b->rip[b->used++]);
}

/* note_ip - the message of identity ri (named id) came from ip at t */
static int
note_ip(struct report *r, struct rident *ri, const struct rname *id, struct rval *ip, int64_t t)
{
	struct rip *p;
	void **slot;
	int added;

	if (ri->last_ip != NULL && last_is(ri->last_ipv, sizeof(ri->last_ipv), ip)) {
		p = ri->last_ip; /* the same IP as its last message: the same pair */
	} else {
		if ((slot = pair_add(r->ipset, id, ip, &added)) == NULL)
			return (added == 2 ? 0 : -1);
		if (added) {
			if ((*slot = rip_new(r)) == NULL)
				return (-1);
			((struct rip *)*slot)->first_us = t;
			((struct rip *)*slot)->last_us = t;
			((struct rip *)*slot)->of = ri;
			ri->ips++;
		}
		p = *slot;
		last_keep(ri->last_ipv, sizeof(ri->last_ipv), ip);
		ri->last_ip = ri->last_ipv[0] != '\0' ? p : NULL;
	}
	p->messages++;
	if (t < p->first_us)
		p->first_us = t;
	if (t > p->last_us)
		p->last_us = t;
	return (0);
}

/* note_sender - identity ri (named id) sent from envelope sender s (not empty) */
static int
note_sender(struct report *r, struct rident *ri, const struct rname *id, struct rval *s)
{
	void **slot;
	int added;

	if (ri->last_snd[0] != '\0' && last_is(ri->last_snd, sizeof(ri->last_snd), s))
		return (0); /* the same sender as its last message: the pair is there */
	if ((slot = pair_add(r->sset, id, s, &added)) == NULL)
		return (added == 2 ? 0 : -1);
	if (added) {
		*slot = r;
		ri->senders++;
	}
	last_keep(ri->last_snd, sizeof(ri->last_snd), s);
	return (0);
}

/*
 * each_ident - the rows of the message's identities (ids, count/msgid.h)
 * that the report shows (not exempt), created on first use, into out[]
 * with their names in names[]; how many, or -1 on ENOMEM.  idh[k]: identity
 * k's hash, taken here where 0
 */
static int
each_ident(struct report *r, const struct msgid *ids, uint64_t idh[BY_COUNT], struct rident **out,
    struct rname *names, struct limits_ref **ref)
{
	int k, n = 0;

	for (k = 0; k < BY_COUNT; k++) {
		if (!(r->kinds & 1u << k) || ids->id[k] == NULL || msgid_exempt(ids, r->conf, k))
			continue;
		names[n].id = ids->id[k];
		names[n].n = ids->len[k];
		if (idh[k] == 0)
			idh[k] = hmap_hash(ids->id[k], ids->len[k]);
		names[n].h = idh[k];
		if ((out[n] = rident_get(r, ids->id[k], ids->len[k], names[n].h)) == NULL)
			return (-1);
		if (ref != NULL)
			ref[k] = &out[n]->lref;
		n++;
	}
	return (n);
}

int
report_message(struct report *r, const struct track_msg *m)
{
	struct msgid ids;
	uint64_t idh[BY_COUNT] = { 0 };

	msgid_make(&ids, r->conf, m);
	return (report_message_ids(r, m, &ids, idh));
}

int
report_message_ids(struct report *r, const struct track_msg *m, const struct msgid *ids,
    uint64_t idh[BY_COUNT])
{
	return (report_message_refs(r, m, ids, idh, NULL));
}

int
report_message_refs(struct report *r, const struct track_msg *m, const struct msgid *ids,
    uint64_t idh[BY_COUNT], struct limits_ref *ref[BY_COUNT])
{
	struct rident *ri[BY_COUNT];
	struct rname names[BY_COUNT];
	int i, n, ip = m->client_ip != NULL, snd = m->sender != NULL && m->sender[0] != '\0';
	struct rval ipv = { m->client_ip, 0, 0 }, sv = { m->sender, 0, 0 };

	if ((n = each_ident(r, ids, idh, ri, names, ref)) < 0)
		return (-1);
	if (n > 0 && ip)
		ipv.n = strlen(m->client_ip);
	if (n > 0 && snd)
		sv.n = strlen(m->sender);
	for (i = 0; i < n; i++) {
		ri[i]->messages++;
		ri[i]->recipients += (uint64_t)(m->nrcpt > 0 ? m->nrcpt : 0);
		if (ip && note_ip(r, ri[i], &names[i], &ipv, m->time_us) < 0)
			return (-1);
		if (snd && note_sender(r, ri[i], &names[i], &sv) < 0)
			return (-1);
	}
	report_cache_put(r, m, ri, n); /* for its delivery outcomes, which follow */
	return (0);
}

int
report_outcome(struct report *r, const struct track_outcome *o)
{
	struct msgid ids;
	uint64_t idh[BY_COUNT] = { 0 };
	struct rident *ri[BY_COUNT];
	struct rname names[BY_COUNT];
	const struct rcache *c;
	int i, n;

	if ((unsigned)o->status >= TRACK_STATUS_COUNT)
		return (0);
	if ((c = report_cache_find(r, o->msg)) != NULL) {
		for (i = 0; i < c->n; i++)
			c->ri[i]->out[o->status] += (uint64_t)(o->n > 0 ? o->n : 0);
		return (0);
	}
	msgid_make(&ids, r->conf, o->msg);
	if ((n = each_ident(r, &ids, idh, ri, names, NULL)) < 0)
		return (-1);
	for (i = 0; i < n; i++)
		ri[i]->out[o->status] += (uint64_t)(o->n > 0 ? o->n : 0);
	report_cache_put(r, o->msg, ri, n);
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
	size_t idn = strlen(p->identity);
	struct rident *ri = rident_get(r, p->identity, idn, hmap_hash(p->identity, idn));
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

/* gather_cb - one client IP of the ipset onto its identity's list */
static int
gather_cb(void *ctx, const char *key, size_t n, void *val)
{
	struct rip *p = val, *ncl;
	size_t idn = strnlen(key, n);
	struct rident *ri = p->of; /* set when the pair was made: no look-up */

	(void)ctx;
	if (ri == NULL || idn + 1 >= n)
		return (0);
	if ((ncl = arr_grow(ri->cl, ri->ncl, &ri->capcl, sizeof(*ncl), 2)) == NULL)
		return (1);
	ri->cl = ncl;
	ri->cl[ri->ncl] = *p;
	ri->cl[ri->ncl++].ip = key + idn + 1; /* the key is NUL-terminated in the map */
	return (0);
}

/* rip_cmp - most messages first, then the one seen last, then by address */
static int
rip_cmp(const void *a, const void *b)
{
	const struct rip *x = a, *y = b;

	if (x->messages != y->messages)
		return (x->messages > y->messages ? -1 : 1);
	if (x->last_us != y->last_us)
		return (x->last_us > y->last_us ? -1 : 1);
	return (strcmp(x->ip, y->ip));
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
	const char *out = s; /* a plain s is its own escaped form */
	size_t n = strlen(s);
	struct buf b = { .len = n };
	int cut = 0;

	if (!esc_vis_plain(s, n) || n >= sizeof(text)) {
		out = text; /* no limit first: it measures the whole text before writing */
		buf_fixed(&b, text, sizeof(text));
		if ((cut = esc_buf(&b, s, n, ESC_VIS, 0)) != 0) {
			buf_fixed(&b, text, sizeof(text));
			cut = esc_buf(&b, s, n, ESC_VIS, sizeof(text) - 1) != 0;
		}
	}
	if (width > 0 && (b.len > (size_t)width || cut)) {
		if (width > 3)
			fprintf(fp, "%.*s...", width - 3, out);
		else
			fprintf(fp, "%.*s", width, out);
		return;
	}
	if (width > 0 && pad)
		fprintf(fp, "%-*s", width, out);
	else
		fputs(out, fp);
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
	return (report_json_time(us, buf, len));
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
		fprintf(fp, "%s%s to %s\n", w->time, report_json_time(t->first_us, tb, sizeof(tb)),
		    report_json_time(t->last_us, tb2, sizeof(tb2)));
	if (t->track != NULL)
		fprintf(fp,
		    "%s%llu%s counted; not counted: %llu content-filter copies, "
		    "%llu requeued, %llu without a client or pickup line\n",
		    w->msgs, (unsigned long long)t->track->counted, w->msgs_after,
		    (unsigned long long)t->track->reinjections,
		    (unsigned long long)t->track->requeues, (unsigned long long)t->track->orphans);
	if (t->journal)
		fprintf(fp,
		    "Untrusted:  %llu journal entries under a Postfix name from another "
		    "sender, not counted\n",
		    (unsigned long long)t->untrusted);
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
		    report_json_time(t->in_first_us, tb, sizeof(tb)),
		    report_json_time(t->in_last_us, tb2, sizeof(tb2)));
	else
		fputs("Log time:   no line in the interval\n", fp);
	fprintf(fp, "Messages:   %llu counted in the interval\n",
	    (unsigned long long)t->in_counted);
	print_input(t, &words_below, fp);
}

/*
 * print_table_clients - "    ips: A (n), B (n), +k more" under an
 * identity row: its REPORT_IPS_TABLE addresses with most messages.  None
 * for a client IP identity (its name says it) or an identity without one.
 */
static void
print_table_clients(const struct rident *ri, FILE *fp)
{
	size_t i;

	if (ri->ncl == 0 || strncmp(ri->name, "ip:", 3) == 0)
		return;
	fputs("    ips:", fp);
	for (i = 0; i < ri->ncl && i < REPORT_IPS_TABLE; i++) {
		fputs(i ? ", " : " ", fp);
		tprint(fp, ri->cl[i].ip, 40, 0);
		fprintf(fp, " (%llu)", (unsigned long long)ri->cl[i].messages);
	}
	if (ri->ncl > REPORT_IPS_TABLE)
		fprintf(fp, ", +%zu more", ri->ncl - REPORT_IPS_TABLE);
	putc('\n', fp);
}

/* print_table_deliveries - each identity's senders, delivery outcomes and top client IPs */
static void
print_table_deliveries(struct rident *const *v, size_t n, FILE *fp)
{
	size_t i;

	fprintf(fp, "\n%-40s %7s %9s %8s %7s\n", "DELIVERIES", "SENDERS", "DELIVERED", "DEFERRED",
	    "BOUNCED");
	for (i = 0; i < n; i++) {
		tprint(fp, v[i]->name, 40, 1);
		fprintf(fp, " %7llu %9llu %8llu %7llu\n", (unsigned long long)v[i]->senders,
		    (unsigned long long)v[i]->out[TRACK_SENT],
		    (unsigned long long)v[i]->out[TRACK_DEFERRED],
		    (unsigned long long)v[i]->out[TRACK_BOUNCED]);
		print_table_clients(v[i], fp);
	}
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
	else
		print_table_deliveries(v, n, fp);
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
				    p->win->threshold, report_json_time(p->at_us, tb, sizeof(tb)));
			}
		}
	}
	fprintf(fp, "\nOVERRUNS: %zu\n", vw->nov);
	for (i = 0; i < vw->nov; i++) {
		const struct roverrun *o = vw->ov[i];

		fprintf(fp, "%s  ", report_json_time(o->time_us, tb, sizeof(tb)));
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
	fprintf(fp, "\"first\": \"%s\", ", report_json_time(first_us, tb, sizeof(tb)));
	fprintf(fp, "\"last\": \"%s\", ", report_json_time(last_us, tb, sizeof(tb)));
}

/* json_bound - an interval bound: its time, or null for an open end */
static void
json_bound(FILE *fp, int64_t us)
{
	char tb[40];

	if (us == INT64_MIN || us == INT64_MAX)
		fputs("null", fp);
	else
		fprintf(fp, "\"%s\"", report_json_time(us, tb, sizeof(tb)));
}

/* print_json - the JSON report; 0, or -1 when a row's buffer could not be had */
static int
print_json(const struct rview *vw, const struct report_totals *t, FILE *fp)
{
	const struct report *r = vw->r;
	size_t n = vw->n;
	char tb[40], wb[32];
	size_t i;

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
	/* like too_long, untrusted covers the whole input */
	fprintf(fp, "\"untrusted\": %llu, ", (unsigned long long)t->untrusted);
	/* the whole input's, as too_long: a future-dated line has no time of its own */
	fprintf(fp, "\"future_lines\": %llu, ", (unsigned long long)r->future_lines);
	fputs("\n \"identities\": [", fp);
	if (report_json_rows(vw->v, n, fp) < 0)
		return (-1);
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
		    o->count, report_json_time(o->time_us, tb, sizeof(tb)));
		json_cstr(fp, o->queue_id);
		fputc('}', fp);
	}
	fputs(vw->nov ? "\n ]}\n" : "]}\n", fp);
	return (0);
}

/*
 * print_csv_clients - the last two fields of an identity record: its
 * REPORT_IPS_JSON client IPs with most messages as "ip=messages" pairs
 * separated by spaces (one field), and how many more it had; a newline
 */
static void
print_csv_clients(const struct rident *ri, FILE *fp)
{
	struct buf b;
	size_t i;

	buf_init(&b, (size_t)64 * 1024);
	for (i = 0; i < ri->ncl && i < REPORT_IPS_JSON; i++)
		buf_addf(&b, "%s%s=%llu", i ? " " : "", ri->cl[i].ip,
		    (unsigned long long)ri->cl[i].messages);
	csv(fp, buf_str(&b));
	fprintf(fp, ",%zu\n", ri->ncl > REPORT_IPS_JSON ? ri->ncl - REPORT_IPS_JSON : 0);
	buf_free(&b);
}

static void
print_csv(const struct rview *vw, FILE *fp)
{
	struct rident *const *v = vw->v;
	size_t n = vw->n;
	char tb[40], wb[32];
	size_t i, j;

	fputs("record,identity,rule,limit,window,threshold,messages,recipients,ips,count,at,queue_"
	      "id,senders,delivered,deferred,bounced,client_ips,client_ips_more\n",
	    fp);
	for (i = 0; i < n; i++) {
		fputs("identity,", fp);
		csv(fp, v[i]->name);
		fprintf(fp, ",,,,,%llu,%llu,%llu,,,,%llu,%llu,%llu,%llu,",
		    (unsigned long long)v[i]->messages, (unsigned long long)v[i]->recipients,
		    (unsigned long long)v[i]->ips, (unsigned long long)v[i]->senders,
		    (unsigned long long)v[i]->out[TRACK_SENT],
		    (unsigned long long)v[i]->out[TRACK_DEFERRED],
		    (unsigned long long)v[i]->out[TRACK_BOUNCED]);
		print_csv_clients(v[i], fp);
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < v[i]->npeaks; j++) {
			const struct rpeak *p = &v[i]->peaks[j];

			fputs("peak,", fp);
			csv(fp, v[i]->name);
			putc(',', fp);
			csv(fp, p->rule->name);
			fprintf(fp, ",%s,%s,%ld,,,,%ld,%s,,,,,,,\n", conf_limit_name(p->win->limit),
			    conf_format_duration(p->win->seconds, wb, sizeof(wb)),
			    p->win->threshold, p->peak, report_json_time(p->at_us, tb, sizeof(tb)));
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
		    o->count, report_json_time(o->time_us, tb, sizeof(tb)));
		csv(fp, o->queue_id);
		fputs(",,,,,,\n", fp);
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
	if (!r->gathered && hmap_each(r->ipset, gather_cb, r) != 0) {
		free(c.v);
		return (-1);
	}
	r->gathered = 1;
	if (c.n > 1)
		qsort(c.v, c.n, sizeof(struct rident *), report_ident_cmp);
	for (i = 0; i < c.n; i++) {
		if (c.v[i]->npeaks > 1)
			qsort(c.v[i]->peaks, c.v[i]->npeaks, sizeof(struct rpeak), order_cmp);
		if (c.v[i]->ncl > 1)
			qsort(c.v[i]->cl, c.v[i]->ncl, sizeof(struct rip), rip_cmp);
	}
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
	int rc = 0;

	if (report_view(r, l, &vw) < 0)
		return (-1);
	switch (fmt) {
	case REPORT_JSON:
		rc = print_json(&vw, t, fp);
		break;
	case REPORT_CSV:
		print_csv(&vw, fp);
		break;
	default:
		print_table(&vw, t, fp);
		break;
	}
	report_view_free(&vw);
	return (rc < 0 || ferror(fp) || r->failed ? -1 : 0);
}
