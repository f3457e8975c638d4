/*
 * NAME
 *	hold - the hold action (see hold.h)
 * SUMMARY
 *	postsuper reads the queue IDs from its standard input ("postsuper
 *	-h -"), so any number of them make one run and no ID is ever a
 *	command-line word.  Every postsuper job is marked for confirmation:
 *	before it runs, the queue confirms each ID (confirm.c) and postsuper
 *	gets only those.  The new messages of a blocked identity are
 *	gathered per identity for the length of a batch (act->newholds) and
 *	held with one run each after the batch commits.
 *	Queue IDs logged by another host or Postfix instance are never
 *	postsuper's: hold_local() tells them apart by the log's host (first
 *	label, case aside) and instance, against [agent] hostname and
 *	postfix_instance.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/act_int.h"
#include "actions/hold.h"
#include "util/arr.h"
#include "parsers/pf.h"
#include "util/esc.h"

int
hold_list_push(struct hold_list *l, const char *qid)
{
	char **nq;

	if ((nq = arr_grow(l->q, l->n, &l->cap, sizeof(*nq), 16)) == NULL)
		return (-1);
	l->q = nq;
	if ((l->q[l->n] = strdup(qid)) == NULL)
		return (-1);
	l->n++;
	return (0);
}

void
hold_list_clear(struct hold_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->q[i]);
	free(l->q);
	memset(l, 0, sizeof(*l));
}

void
hold_list_free(void *v)
{
	if (v == NULL)
		return;
	hold_list_clear(v);
	free(v);
}

/* fold - ASCII lower case */
static int
fold(int c)
{
	return (c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

/* same_label - x and y have the same first label (up to the first '.'), case aside */
static int
same_label(const char *x, const char *y)
{
	size_t i;

	for (i = 0;; i++) {
		int cx = x[i] == '.' ? '\0' : fold((unsigned char)x[i]);
		int cy = y[i] == '.' ? '\0' : fold((unsigned char)y[i]);

		if (cx != cy)
			return (0);
		if (cx == '\0')
			return (1);
	}
}

int
hold_local(const struct act *a, const char *host, const char *instance)
{
	const struct conf *c = a->conf;
	const char *me =
	    c->hostname != NULL && strcmp(c->hostname, "auto") != 0 ? c->hostname : a->hostname;
	const char *inst = c->postfix_instance != NULL ? c->postfix_instance : "postfix";

	return (host != NULL && host[0] != '\0' && instance != NULL && same_label(host, me) &&
	    strcmp(instance, inst) == 0);
}

/* hold_add - record a hold requested for one queued message */
static int
hold_add(struct act *a, const char *host, const char *instance, const char *qid,
    const char *identity)
{
	struct store_hold h;
	char err[256];

	memset(&h, 0, sizeof(h));
	h.host = host;
	h.instance = instance;
	h.queue_id = qid;
	h.identity = identity;
	h.requested_us = act_now();
	if (store_add_hold(a->store, &h, err, sizeof(err)) < 0) {
		act_say(a, ACT_WARN, "%s", err);
		return (-1);
	}
	return (0);
}

/* hold_foreign - a message of another host or instance: recorded as an unconfirmed hold */
static void
hold_foreign(struct act *a, const char *host, const char *instance, const char *qid,
    const char *identity)
{
	char err[256];

	if (!act_monitor(a) && hold_add(a, host, instance, qid, identity) == 0 &&
	    store_hold_state(a->store, host ? host : "", instance ? instance : "", qid,
		"unconfirmed", act_now(), err, sizeof(err)) < 0)
		act_say(a, ACT_WARN, "%s", err);
}

/* Messages of an identity: queued, and those the log says are gone. */
struct qcollect {
	struct act *a;
	const char *identity;
	int64_t since;
	struct hold_list l, gone;
	size_t foreign;
	char fhost[64], finst[64]; /* the first foreign one, for the log */
};

/*
 * collect - one message of the identity: recorded as a hold requested
 * (not in monitor mode) and listed, or, when another host or instance
 * logged it, recorded as unconfirmed and counted
 */
static int
collect(struct qcollect *qc, const struct store_msg *m, struct hold_list *l)
{
	if (m->queue_id == NULL || !pf_qid_ok(m->queue_id, strlen(m->queue_id)))
		return (0);
	if (!hold_local(qc->a, m->host, m->instance)) {
		if (qc->foreign++ == 0) {
			esc_vis(m->host ? m->host : "", qc->fhost, sizeof(qc->fhost));
			esc_vis(m->instance ? m->instance : "", qc->finst, sizeof(qc->finst));
		}
		hold_foreign(qc->a, m->host, m->instance, m->queue_id, qc->identity);
		return (0);
	}
	if (!act_monitor(qc->a) &&
	    hold_add(qc->a, m->host, m->instance, m->queue_id, qc->identity) < 0)
		return (1);
	return (hold_list_push(l, m->queue_id) < 0);
}

static int
queued_cb(void *ctx, const struct store_msg *m)
{
	struct qcollect *qc = ctx;

	return (collect(qc, m, &qc->l));
}

/* gone_cb - a message the log says left the queue: the queue is asked too */
static int
gone_cb(void *ctx, const struct store_msg *m)
{
	struct qcollect *qc = ctx;

	if (m->removed_us == 0 || m->time_us < qc->since)
		return (0);
	return (collect(qc, m, &qc->gone));
}

void
hold_collect(struct act *a, const char *identity, int64_t log_now, struct hold_list *out,
    struct hold_list *gone)
{
	struct qcollect qc;
	char err[512], idv[ACT_ID_VIS];

	memset(&qc, 0, sizeof(qc));
	qc.a = a;
	qc.identity = identity;
	qc.since = log_now - TRACK_MAX_AGE_US;
	/* the queued ones, then the newest HOLD_RECHECK_MAX: one scan of the identity's messages */
	if (store_each_queued_recent(a->store, identity, qc.since, HOLD_RECHECK_MAX, queued_cb,
		gone_cb, &qc, err, sizeof(err)) < 0)
		act_say(a, ACT_WARN, "%s", err);
	if (qc.foreign > 0)
		act_say(a, ACT_WARN,
		    "hold for %s: %zu queue IDs logged by another host or Postfix instance (the "
		    "first by host %s, instance %s) are not held here",
		    esc_vis(identity, idv, sizeof(idv)), qc.foreign, qc.fhost, qc.finst);
	*out = qc.l;
	*gone = qc.gone;
}

/* The holds of an identity still requested or confirmed. */
struct hcollect {
	const struct act *a;
	struct hold_list l;
};

/* held_cb - a hold still requested or confirmed, of this Postfix */
static int
held_cb(void *ctx, const struct store_hold *h)
{
	struct hcollect *hc = ctx;

	if (h->state == NULL ||
	    (strcmp(h->state, "requested") != 0 && strcmp(h->state, "held") != 0) ||
	    !hold_local(hc->a, h->host, h->instance))
		return (0);
	return (hold_list_push(&hc->l, h->queue_id) < 0);
}

int
hold_held(struct act *a, const char *identity, struct hold_list *out, char *err, size_t errlen)
{
	struct hcollect hc = { a, { NULL, 0, 0 } };
	int r = store_each_hold(a->store, identity, NULL, held_cb, &hc, err, errlen) != 0 ? -1 : 0;

	*out = hc.l;
	return (r);
}

void
hold_job(struct act *a, const char *action, const char *flag, const char *identity,
    const struct hold_list *l)
{
	const char *rest[] = { flag, "-", NULL };
	size_t len = 0, skipped = 0;
	char *in, idv[ACT_ID_VIS];
	struct job *j;

	if (l->n == 0)
		return;
	if ((in = hold_stdin((const char *const *)l->q, l->n, &len, &skipped)) == NULL) {
		act_say(a, ACT_WARN, "%s for %s: no valid queue ID", action,
		    esc_vis(identity, idv, sizeof(idv)));
		return;
	}
	if (skipped > 0)
		act_say(a, ACT_WARN, "%s for %s: %zu invalid queue IDs left out", action,
		    esc_vis(identity, idv, sizeof(idv)), skipped);
	j = job_queue(a, JOB_PROG, action, identity, job_prog(a, a->conf->postsuper, "-c", rest),
	    in, len);
	if (j != NULL)
		j->confirm = 1; /* the queue confirms each ID before postsuper sees it */
}

void
hold_message(struct act *a, const struct track_msg *m)
{
	char buf[IDENT_MAX];
	const char *id;
	struct hold_list *l;
	int k;

	if (m->removed || m->queue_id == NULL || !pf_qid_ok(m->queue_id, strlen(m->queue_id)))
		return;
	for (k = 0; k < BY_COUNT; k++) {
		if ((id = limits_ident(m, (enum conf_by)k, buf, sizeof(buf))) == NULL ||
		    !act_holds_new(a, id))
			continue;
		if (!hold_local(a, m->host, m->instance)) {
			char idv[ACT_ID_VIS], hv[64], iv[64];

			act_say(a, ACT_WARN,
			    "hold for %s: queue ID %s was logged by host %s, instance %s: not "
			    "this Postfix, not held here",
			    esc_vis(id, idv, sizeof(idv)), m->queue_id,
			    esc_vis(m->host ? m->host : "", hv, sizeof(hv)),
			    esc_vis(m->instance ? m->instance : "", iv, sizeof(iv)));
			hold_foreign(a, m->host, m->instance, m->queue_id, id);
			return;
		}
		(void)hold_add(a, m->host, m->instance, m->queue_id, id);
		if ((l = act_slot(a->newholds, id, sizeof(*l))) != NULL)
			(void)hold_list_push(l, m->queue_id);
		break; /* one hold per message */
	}
}

/* newhold_cb - one identity's new messages to postsuper */
static int
newhold_cb(void *ctx, const char *key, size_t n, void *val)
{
	(void)n;
	hold_job(ctx, "hold", "-h", key, val);
	return (0);
}

void
hold_kick(struct act *a)
{
	struct hmap *m = a->newholds, *fresh;

	if (hmap_count(m) == 0 || (fresh = hmap_new()) == NULL)
		return;
	a->newholds = fresh;
	hmap_each(m, newhold_cb, a);
	hmap_free(m, hold_list_free);
}

int
hold_said(const struct run_result *r, struct buf *out)
{
	static const char *const what[] = { "Placed on hold: ", "Released from hold: ",
		"Deleted: " };
	const char *const text[] = { r->err, r->out };
	size_t i, k, n, room;

	for (k = 0; k < 2; k++)
		for (i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
			const char *p = strstr(text[k], what[i]);

			if (p == NULL)
				continue;
			n = strcspn(p, "\r\n");
			room = buf_room(out);
			(void)act_add_cut(out, p, n, n <= room ? n : room > 3 ? room - 3 : 0);
			return (1);
		}
	return (0);
}

/*
 * qid_usable - pf_qid_ok(), and not the word ALL: it is a valid
 * mail_queue_id_ok() string but means "every message" on postsuper's
 * command line, so it is never passed on, even on stdin.
 */
static int
qid_usable(const char *q)
{
	return (q != NULL && strcmp(q, "ALL") != 0 && pf_qid_ok(q, strlen(q)));
}

char *
hold_stdin(const char *const qids[], size_t n, size_t *len, size_t *skipped)
{
	size_t i, total = 0, o = 0, bad = 0;
	char *buf;

	*len = 0;
	for (i = 0; i < n; i++) {
		if (qid_usable(qids[i]))
			total += strlen(qids[i]) + 1;
		else
			bad++;
	}
	if (skipped != NULL)
		*skipped = bad;
	if (total == 0)
		return (NULL);
	if ((buf = malloc(total + 1)) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		size_t l;

		if (!qid_usable(qids[i]))
			continue;
		l = strlen(qids[i]);
		memcpy(buf + o, qids[i], l);
		o += l;
		buf[o++] = '\n';
	}
	buf[o] = '\0';
	*len = o;
	return (buf);
}
