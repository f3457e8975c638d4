/*
 * NAME
 *	explain - the story behind an identity's state (see explain.h)
 * SUMMARY
 *	One section per kind of record, each "  none" when empty: the block
 *	(with the client IPs it named), the limits crossed, the delivery
 *	outcomes and distinct senders, the client IPs (each with its
 *	messages, first and last time), the latest messages, the holds, the
 *	runs of the actions.  What a
 *	block state means comes from actions/ (act_state_*), so the words
 *	here and the decisions there cannot drift apart.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "actions/act.h"
#include "actions/job.h"
#include "agent/explain.h"
#include "count/clients.h"
#include "util/esc.h"
#include "util/json.h"

#define EXPLAIN_IPS 20 /* client IPs shown, those with most messages */

/* The walk over one section. */
struct ex {
	FILE *fp;
	int n;
};

/* ex_put - one line of a section, counted; 0 (go on walking) */
static int __attribute__((format(printf, 2, 3))) ex_put(void *ctx, const char *fmt, ...)
{
	struct ex *e = ctx;
	va_list ap;

	va_start(ap, fmt);
	vfprintf(e->fp, fmt, ap);
	va_end(ap);
	e->n++;
	return (0);
}

static int
ex_msg(void *ctx, const struct store_msg *m)
{
	char tb[40], tb2[40];

	return (ex_put(ctx, "  %s  %-16s %ld rcpt  %s%s\n", json_time(m->time_us, tb, sizeof(tb)),
	    m->queue_id ? m->queue_id : "-", m->nrcpt, m->removed_us ? "removed " : "queued",
	    m->removed_us ? json_time(m->removed_us, tb2, sizeof(tb2)) : ""));
}

static int
ex_verdict(void *ctx, const struct store_verdict *v)
{
	char tb[40];

	return (ex_put(ctx, "  %s  rule %s: %s %ld > %ld in %s, crossed by %s\n",
	    json_time(v->time_us, tb, sizeof(tb)), v->rule ? v->rule : "-",
	    v->limit ? v->limit : "-", v->count, v->threshold, v->window ? v->window : "-",
	    v->queue_id ? v->queue_id : "-"));
}

static int
ex_hold(void *ctx, const struct store_hold *h)
{
	char tb[40];

	return (ex_put(ctx, "  %-16s %-9s requested %s\n", h->queue_id ? h->queue_id : "-",
	    h->state ? h->state : "-", json_time(h->requested_us, tb, sizeof(tb))));
}

/* ex_client - one client IP with its messages, first and last */
static int
ex_client(void *ctx, const struct store_client *c)
{
	char tb[40], tb2[40], ipv[64];

	return (ex_put(ctx, "  %-39s %6lld message%s  first %s  last %s\n",
	    esc_vis(c->ip, ipv, sizeof(ipv)), (long long)c->messages, c->messages == 1 ? " " : "s",
	    json_time(c->first_us, tb, sizeof(tb)), json_time(c->last_us, tb2, sizeof(tb2))));
}

/* ex_deliveries - the identity's delivery outcomes and distinct senders; 0 or -1 */
static int
ex_deliveries(struct store *st, const char *identity, FILE *fp, char *err, size_t errlen)
{
	struct store_deliveries d = { 0 };

	if (store_get_deliveries(st, identity, INT64_MIN, &d, err, errlen) < 0)
		return (-1);
	fprintf(fp,
	    "\ndeliveries (of its %lld stored messages, a content filter's copies counting for "
	    "their originals):\n"
	    "  delivered %lld, deferred %lld (attempts), bounced %lld (recipients); "
	    "%lld distinct sender%s\n",
	    (long long)d.messages, (long long)d.delivered, (long long)d.deferred,
	    (long long)d.bounced, (long long)d.senders, d.senders == 1 ? "" : "s");
	return (0);
}

/* ex_count - one more hold of a state */
static int
ex_count(void *ctx, const struct store_hold *h)
{
	(void)h;
	(*(long *)ctx)++;
	return (0);
}

/* ex_job - a run and, on a line of its own, its outcome */
static int
ex_job(void *ctx, const struct store_job *j)
{
	struct ex *e = ctx;
	char tb[40], text[1024], out[600];

	fprintf(e->fp, "  %s  %-8s %-8s tries %d  %s\n", json_time(j->time_us, tb, sizeof(tb)),
	    j->action ? j->action : "-", j->status ? j->status : "-", j->attempts,
	    job_argv_text(j->argv, j->argv_len, text, sizeof(text)));
	return (j->outcome == NULL
		? (e->n++, 0)
		: ex_put(e, "      %s\n", esc_vis(j->outcome, out, sizeof(out))));
}

/* state_words - what a block state means, after its name */
static const char *
state_words(const char *st)
{
	if (!act_state_active(st))
		return ("");
	if (act_state_mapped(st))
		return (act_state_holds(st) ? ": in the access map, new mail held"
					    : ": in the access map");
	return (act_state_holds(st) ? ": new mail held, not in a map" : ": noted only");
}

/* section_end - a section's walk returned r: "  none" when it wrote nothing; 0 or -1 */
static int
section_end(struct ex *e, int r)
{
	if (r == 0 && e->n == 0)
		fputs("  none\n", e->fp);
	e->n = 0;
	return (r != 0 ? -1 : 0);
}

int
explain_print(struct store *st, const char *identity, FILE *fp, char *err, size_t errlen)
{
	struct store_block b;
	struct ex e = { fp, 0 };
	char buf[2048], idv[256], tb[40], tb2[40], ipv[CLIENTS_TEXT_MAX];
	long unconfirmed = 0;
	int have;

	fprintf(fp, "%s\n", esc_vis(identity, idv, sizeof(idv)));
	if ((have = store_get_block(st, identity, &b, buf, sizeof(buf), err, errlen)) < 0)
		return (-1);
	if (have == 1) {
		fprintf(fp, "state: %s%s (rule %s) since %s until %s; blocked %ld time%s\n",
		    b.state, state_words(b.state), b.rule ? b.rule : "-",
		    json_time(b.since_us, tb, sizeof(tb)),
		    b.until_us ? json_time(b.until_us, tb2, sizeof(tb2)) : "unblocked by hand",
		    b.count, b.count == 1 ? "" : "s");
		fprintf(fp, "its last block named the client IPs: %s\n",
		    b.ips != NULL && b.ips[0] != '\0' ? esc_vis(b.ips, ipv, sizeof(ipv)) : "none");
	} else
		fputs("state: never blocked\n", fp);
	fputs("\nlimits crossed:\n", fp);
	if (section_end(&e,
		store_each_verdict(st, identity, INT64_MIN, ex_verdict, &e, err, errlen)) < 0)
		return (-1);
	if (ex_deliveries(st, identity, fp, err, errlen) < 0)
		return (-1);
	fprintf(fp, "\nclient IPs (%d with most messages, at most):\n", EXPLAIN_IPS);
	if (section_end(&e,
		store_each_client(st, identity, EXPLAIN_IPS, ex_client, &e, err, errlen)) < 0)
		return (-1);
	fputs("\nlatest messages (50 at most):\n", fp);
	if (section_end(&e, store_each_recent(st, identity, 50, ex_msg, &e, err, errlen)) < 0)
		return (-1);
	fputs("\nholds:\n", fp);
	if (section_end(&e, store_each_hold(st, identity, NULL, ex_hold, &e, err, errlen)) < 0 ||
	    store_each_hold(st, identity, "unconfirmed", ex_count, &unconfirmed, err, errlen) != 0)
		return (-1);
	fprintf(fp,
	    "unconfirmed: %ld (queue IDs the log gave this identity that the queue did not "
	    "show as its own, or that another host or Postfix instance logged: left "
	    "alone)\n",
	    unconfirmed);
	fputs("\nactions and outcomes:\n", fp);
	return (section_end(&e, store_each_job(st, identity, NULL, ex_job, &e, err, errlen)));
}
