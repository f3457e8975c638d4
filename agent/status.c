/*
 * NAME
 *	status - what `sendguard status` shows (see status.h)
 * SUMMARY
 *	Three lists come from the store: the blocks in force, the mail still
 *	on hold after its block ended, and the actions failing or failed;
 *	then every non-zero count from the limits.  In a cluster, the link
 *	to PostgreSQL and the nodes come from the daemon's cluster/ (the
 *	outbox alone from the store when no daemon runs), and each count
 *	says how many of its window's messages each node sent (the store's
 *	messages of this node and of the others).  What a block state means
 *	(in force, in the map, holding new mail) comes from actions/
 *	(act_state_*).  Identities are written with util/esc: ESC_VIS on the
 *	terminal, JSON strings through util/json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "actions/act.h"
#include "agent/status.h"
#include "count/clients.h"
#include "store/store.h"
#include "util/arr.h"
#include "util/buf.h"
#include "util/esc.h"
#include "util/ident.h"
#include "util/json.h"

/* ---------------------------------------------------------------------- */
/* blocks, mail on hold, failing actions */

/* The walk over one list. */
struct stw {
	struct store *st;
	FILE *fp;
	int64_t now;
	int n, json;
};

/* counted - one more entry listed; 0 (go on walking) */
static int
counted(struct stw *w)
{
	w->n++;
	return (0);
}

/* item - a JSON list's separator before the next object */
static void
item(struct stw *w)
{
	fputs(w->n ? ",\n  " : "\n  ", w->fp);
}

/* json_key - ", \"key\": " then s as a JSON string */
static void
json_key(FILE *fp, const char *key, const char *s)
{
	fprintf(fp, ", \"%s\": ", key);
	json_cstr(fp, s);
}

/* json_ips - ", \"ips\": [...]": the client IPs a block named ("a,b"), "..." left out */
static void
json_ips(FILE *fp, const char *ips)
{
	const char *p, *end;
	int n = 0;

	fputs(", \"ips\": [", fp);
	for (p = ips != NULL ? ips : ""; *p != '\0'; p = *end ? end + 1 : end) {
		end = p + strcspn(p, ",");
		if (end == p || (end - p == 3 && memcmp(p, "...", 3) == 0))
			continue;
		fputs(n++ ? ", " : "", fp);
		esc_fp(fp, p, (size_t)(end - p), ESC_JSON);
	}
	fputc(']', fp);
}

/* count_hold - one more hold of a state */
static int
count_hold(void *ctx, const struct store_hold *h)
{
	(void)h;
	(*(long long *)ctx)++;
	return (0);
}

/* unconfirmed - identity's holds the queue did not confirm (left alone) */
static long long
unconfirmed(struct store *st, const char *identity)
{
	long long n = 0;
	char err[256];

	(void)store_each_hold(st, identity, "unconfirmed", count_hold, &n, err, sizeof(err));
	return (n);
}

static int
st_block(void *ctx, const struct store_block *b)
{
	struct stw *w = ctx;
	char tb[40], tb2[40], idv[256], ipv[CLIENTS_TEXT_MAX];
	int64_t held;
	long long unconf;

	if (!act_state_active(b->state) || (b->until_us != 0 && b->until_us <= w->now))
		return (0);
	held = store_count_holds(w->st, b->identity);
	unconf = unconfirmed(w->st, b->identity);
	if (w->json) {
		item(w);
		fputs("{\"identity\": ", w->fp);
		json_cstr(w->fp, b->identity);
		json_key(w->fp, "rule", b->rule);
		fprintf(w->fp,
		    ", \"since\": \"%s\", \"until\": ", json_time(b->since_us, tb, sizeof(tb)));
		if (b->until_us)
			fprintf(w->fp, "\"%s\"", json_time(b->until_us, tb2, sizeof(tb2)));
		else
			fputs("null", w->fp);
		fprintf(w->fp,
		    ", \"held\": %lld, \"unconfirmed\": %lld, \"in_map\": %s, \"holds_new\": %s, "
		    "\"times\": %ld",
		    (long long)held, unconf, act_state_mapped(b->state) ? "true" : "false",
		    act_state_holds(b->state) ? "true" : "false", b->count);
		json_ips(w->fp, b->ips);
		fputc('}', w->fp);
	} else {
		char uc[64] = "";

		if (unconf > 0)
			snprintf(uc, sizeof(uc), ", %lld not confirmed by the queue", unconf);
		fprintf(w->fp, "%s\n    rule %s since %s until %s, %lld held%s%s\n",
		    esc_vis(b->identity, idv, sizeof(idv)), b->rule ? b->rule : "-",
		    json_time(b->since_us, tb, sizeof(tb)),
		    b->until_us ? json_time(b->until_us, tb2, sizeof(tb2)) : "unblocked by hand",
		    (long long)held, uc, act_state_mapped(b->state) ? ", in the access map" : "");
		if (b->ips != NULL && b->ips[0] != '\0')
			fprintf(w->fp, "    ips %s\n", esc_vis(b->ips, ipv, sizeof(ipv)));
	}
	return (counted(w));
}

static int
st_job(void *ctx, const struct store_job *j)
{
	struct stw *w = ctx;
	char tb[40], idv[256], out[600];

	if (j->status == NULL || (strcmp(j->status, "failed") != 0 && j->attempts == 0))
		return (0);
	if (w->json) {
		item(w);
		fprintf(w->fp, "{\"id\": %lld, \"time\": \"%s\", \"identity\": ", (long long)j->id,
		    json_time(j->time_us, tb, sizeof(tb)));
		json_cstr(w->fp, j->identity);
		json_key(w->fp, "action", j->action);
		json_key(w->fp, "status", j->status);
		fprintf(w->fp, ", \"attempts\": %d", j->attempts);
		json_key(w->fp, "outcome", j->outcome);
		fputc('}', w->fp);
	} else
		fprintf(w->fp, "%s %s for %s: %s after %d tr%s: %s\n",
		    json_time(j->time_us, tb, sizeof(tb)), j->action ? j->action : "-",
		    esc_vis(j->identity ? j->identity : "-", idv, sizeof(idv)), j->status,
		    j->attempts, j->attempts == 1 ? "y" : "ies",
		    esc_vis(j->outcome ? j->outcome : "", out, sizeof(out)));
	return (counted(w));
}

/*
 * st_on_hold - an identity whose mail is still on hold although its block
 * has ended (or that was never blocked): it waits for the administrator
 */
static int
st_on_hold(void *ctx, const struct store_on_hold *h)
{
	struct stw *w = ctx;
	char tb[40], tb2[40], idv[256];
	int64_t ended = h->until_us; /* when it expired, or was unblocked by hand */
	int has_end = h->block_state != NULL && ended != 0;

	if (h->identity == NULL ||
	    (act_state_active(h->block_state) && (h->until_us == 0 || h->until_us > w->now)))
		return (0); /* still blocked: listed with its block */
	if (w->json) {
		item(w);
		fputs("{\"identity\": ", w->fp);
		json_cstr(w->fp, h->identity);
		fprintf(w->fp,
		    ", \"held\": %lld, \"since\": \"%s\", \"block_ended\": ", (long long)h->held,
		    json_time(h->since_us, tb, sizeof(tb)));
		if (has_end)
			fprintf(w->fp, "\"%s\"}", json_time(ended, tb2, sizeof(tb2)));
		else
			fputs("null}", w->fp);
	} else {
		esc_vis(h->identity, idv, sizeof(idv));
		fprintf(w->fp,
		    "%s\n    %lld held since %s%s%s; release: sendguard unblock %s "
		    "--release-held, or delete: sendguard unblock %s --delete-held\n",
		    idv, (long long)h->held, json_time(h->since_us, tb, sizeof(tb)),
		    has_end ? ", block ended " : "",
		    has_end ? json_time(ended, tb2, sizeof(tb2)) : "", idv, idv);
	}
	return (counted(w));
}

/* walk_blocked, walk_on_hold, walk_failing - one list each (none without a store) */
static void
walk_blocked(struct stw *w)
{
	char err[256];

	if (w->st != NULL)
		store_each_block(w->st, NULL, st_block, w, err, sizeof(err));
}

static void
walk_on_hold(struct stw *w)
{
	char err[256];

	if (w->st != NULL)
		store_each_on_hold(w->st, st_on_hold, w, err, sizeof(err));
}

static void
walk_failing(struct stw *w)
{
	char err[256];

	if (w->st == NULL)
		return;
	store_each_job(w->st, NULL, "pending", st_job, w, err, sizeof(err));
	store_each_job(w->st, NULL, "failed", st_job, w, err, sizeof(err));
}

/* list_end - a list is over: JSON closes it and opens the next one, key; text says "  none" */
static void
list_end(struct stw *w, const char *key)
{
	if (w->json)
		fprintf(w->fp, "%s],\n \"%s\": [", w->n ? "\n " : "", key);
	else if (w->n == 0)
		fputs("  none\n", w->fp);
	w->n = 0;
}

/*
 * blocks - the blocks in force, the mail on hold after its block, the
 * actions failing: JSON's "blocked", "on_hold" and "failing_actions"
 * arrays, or BLOCKED, ON HOLD (with a store only) and the failing
 * actions without a heading, for the terminal
 */
static void
blocks(struct store *st, FILE *fp, int64_t now, int json)
{
	struct stw w = { st, fp, now, 0, json };

	fputs(json ? "\"blocked\": [" : "BLOCKED:\n", fp);
	walk_blocked(&w);
	list_end(&w, "on_hold");
	if (json || st != NULL) {
		fputs(json ? "" : "\nON HOLD (no block any more; waiting for you):\n", fp);
		walk_on_hold(&w);
		list_end(&w, "failing_actions");
	}
	walk_failing(&w);
	if (json)
		fputs(w.n ? "\n ]" : "]", fp);
	else if (w.n > 0)
		fputs("(actions above are failing or failed; see sendguard explain)\n", fp);
}

/* ---------------------------------------------------------------------- */
/* counts */

struct crow {
	char *identity;
	const struct conf_rule *rule;
	const struct conf_window *win;
	long count;
};

struct cset {
	struct crow *v;
	size_t n, cap;
	int failed;
};

static void
collect(void *ctx, const struct limits_count *c)
{
	struct cset *cs = ctx;
	struct crow *nv;

	if ((nv = arr_grow(cs->v, cs->n, &cs->cap, sizeof(*nv), 64)) == NULL) {
		cs->failed = 1;
		return;
	}
	cs->v = nv;
	if ((cs->v[cs->n].identity = strdup(c->identity)) == NULL) {
		cs->failed = 1;
		return;
	}
	cs->v[cs->n].rule = c->rule;
	cs->v[cs->n].win = c->win;
	cs->v[cs->n].count = c->count;
	cs->n++;
}

static int
crow_cmp(const void *a, const void *b)
{
	const struct crow *x = a, *y = b;
	int c = strcmp(x->identity, y->identity);

	if (c != 0)
		return (c);
	if (x->rule != y->rule)
		return (x->rule < y->rule ? -1 : 1);
	return (x->win < y->win ? -1 : x->win > y->win);
}

/* tty_id - identity for a terminal (ESC_VIS); the columns written */
static int
tty_id(FILE *fp, const char *s)
{
	struct buf b;
	int w;

	buf_init(&b, (size_t)-1 / 2);
	(void)esc_buf(&b, s, strlen(s), ESC_VIS, 0);
	fputs(buf_str(&b), fp);
	w = (int)b.len;
	buf_free(&b);
	return (w);
}

/* ---------------------------------------------------------------------- */
/* the cluster: which nodes a count is made of, the link, the nodes */

/* The messages of one identity in one window, per node. */
struct ncount {
	struct {
		char name[CONF_NAME_MAX];
		long n;
	} v[CLUSTER_NODES_MAX];
	size_t n;
};

/*
 * The messages of one identity since the start of its longest window
 * shown (and its limits' last re-arm), each with the node that sent it:
 * read once for all of the identity's count rows, which come together.
 */
struct ntimes {
	char identity[IDENT_MAX]; /* whose ("": nobody's yet) */
	int64_t armed;            /* its limits count from here */
	const char *self;         /* this node's name, for its own messages */
	char name[CLUSTER_NODES_MAX][CONF_NAME_MAX];
	size_t nname;
	struct ntime {
		int64_t t;
		size_t node;
	} * v;
	size_t n, cap;
	int failed;
};

static int
ntimes_cb(void *ctx, const char *node, int64_t t)
{
	struct ntimes *nt = ctx;
	struct ntime *nv;
	size_t i;

	if (node == NULL)
		node = nt->self;
	for (i = 0; i < nt->nname && strcmp(nt->name[i], node) != 0; i++)
		;
	if (i == nt->nname) {
		if (nt->nname == CLUSTER_NODES_MAX)
			return (0);
		snprintf(nt->name[nt->nname++], CONF_NAME_MAX, "%s", node);
	}
	if ((nv = arr_grow(nt->v, nt->n, &nt->cap, sizeof(*nv), 64)) == NULL) {
		nt->failed = 1;
		return (1);
	}
	nt->v = nv;
	nt->v[nt->n].t = t;
	nt->v[nt->n++].node = i;
	return (0);
}

/* ntimes_load - the messages of row i's identity, unless nt has them already */
static void
ntimes_load(struct ntimes *nt, struct store *st, const struct cset *cs, size_t i, int64_t now)
{
	const char *id = cs->v[i].identity;
	struct store_block b;
	char buf[2048], err[256];
	int64_t longest = 0, since;
	size_t j;

	if (strcmp(nt->identity, id) == 0)
		return;
	snprintf(nt->identity, sizeof(nt->identity), "%s", id);
	nt->n = nt->nname = 0;
	nt->armed = INT64_MIN;
	for (j = i; j < cs->n && strcmp(cs->v[j].identity, id) == 0; j++)
		if (cs->v[j].win->seconds > longest)
			longest = cs->v[j].win->seconds;
	since = now - longest * 1000000 + 1;
	if (store_get_block(st, id, &b, buf, sizeof(buf), err, sizeof(err)) == 1 && b.ended_us != 0)
		nt->armed = b.ended_us;
	(void)store_each_node_time(st, id, since > nt->armed ? since : nt->armed, ntimes_cb, nt,
	    err, sizeof(err));
}

/* ncount_cmp - by node name */
static int
ncount_cmp(const void *a, const void *b)
{
	return (strcmp(a, b)); /* the name is the first member */
}

/*
 * row_nodes - in a cluster, the messages of row i's identity in its
 * window ending at now (after its limits last re-armed), per node; no
 * node outside a cluster
 */
static void
row_nodes(struct ntimes *nt, struct store *st, const struct cset *cs, size_t i, int64_t now,
    struct ncount *nc)
{
	int64_t lo = now - cs->v[i].win->seconds * 1000000 + 1;
	long per[CLUSTER_NODES_MAX];
	size_t k;

	nc->n = 0;
	if (st == NULL || nt->self == NULL)
		return;
	ntimes_load(nt, st, cs, i, now);
	if (nt->armed > lo)
		lo = nt->armed;
	memset(per, 0, sizeof(per));
	for (k = 0; k < nt->n; k++)
		if (nt->v[k].t >= lo)
			per[nt->v[k].node]++;
	for (k = 0; k < nt->nname; k++)
		if (per[k] > 0) {
			snprintf(nc->v[nc->n].name, CONF_NAME_MAX, "%s", nt->name[k]);
			nc->v[nc->n++].n = per[k];
		}
	if (nc->n > 1)
		qsort(nc->v, nc->n, sizeof(nc->v[0]), ncount_cmp);
}

/* ntimes_new - for the rows of one status; NULL outside a cluster (self NULL) or on ENOMEM */
static struct ntimes *
ntimes_new(const char *self)
{
	struct ntimes *nt;

	if (self == NULL || (nt = calloc(1, sizeof(*nt))) == NULL)
		return (NULL);
	nt->self = self;
	return (nt);
}

static void
ntimes_free(struct ntimes *nt)
{
	if (nt != NULL)
		free(nt->v);
	free(nt);
}

/* nodes_text - " mx1:3 mx2:3" */
static void
nodes_text(FILE *fp, const struct ncount *nc)
{
	char vis[256];
	size_t i;

	for (i = 0; i < nc->n; i++)
		fprintf(fp, " %s:%ld", esc_vis(nc->v[i].name, vis, sizeof(vis)), nc->v[i].n);
}

/* opt_time - a JSON time, or null for 0 */
static void
opt_time(FILE *fp, int64_t t)
{
	char tb[40];

	if (t != 0)
		fprintf(fp, "\"%s\"", json_time(t, tb, sizeof(tb)));
	else
		fputs("null", fp);
}

/* cluster_json - the "cluster" member: this node, its link, its outbox, every node */
static void
cluster_json(FILE *fp, struct store *st, const struct status_info *si)
{
	const struct cluster_info *ci = si->cluster;
	size_t i;

	if (si->cluster_node == NULL)
		return;
	fputs(",\n \"cluster\": {\"node\": ", fp);
	json_cstr(fp, si->cluster_node);
	fputs(", \"connection\": ", fp);
	json_cstr(fp, ci != NULL ? ci->link : NULL);
	fputs(", \"since\": ", fp);
	opt_time(fp, ci != NULL ? ci->link_since_us : 0);
	fputs(", \"error\": ", fp);
	json_cstr(fp, ci != NULL ? ci->why : NULL);
	fprintf(fp, ", \"outbox\": %lld",
	    (long long)(ci != NULL ? ci->outbox
		    : st != NULL   ? store_count_outbox(st)
				   : -1));
	if (ci == NULL) {
		fputs(", \"nodes\": []}", fp);
		return;
	}
	fprintf(fp, ", \"published\": %lld, \"last_publish\": ", (long long)ci->published);
	opt_time(fp, ci->last_publish_us);
	fprintf(fp, ", \"fetched\": %lld, \"nodes\": [", (long long)ci->fetched);
	for (i = 0; i < ci->nnodes; i++) {
		const struct cluster_node *n = &ci->nodes[i];
		int self = strcmp(n->name, ci->node) == 0;

		fputs(i ? ",\n  " : "\n  ", fp);
		fputs("{\"node\": ", fp);
		json_cstr(fp, n->name);
		fprintf(fp, ", \"self\": %s, \"last_publish\": ", self ? "true" : "false");
		opt_time(fp, n->last_publish_us);
		fputs(", \"newest\": ", fp);
		opt_time(fp, n->newest_us);
		fprintf(fp, ", \"published\": %lld, \"outbox\": %lld, \"lag_seconds\": ",
		    (long long)n->published, (long long)n->outbox);
		if (self)
			fputs("null}", fp);
		else
			fprintf(fp, "%.3f}",
			    n->newest_us > n->counted_us
				? (double)(n->newest_us - n->counted_us) / 1e6
				: 0.0);
	}
	fputs(ci->nnodes ? "\n ]}" : "]}", fp);
}

/* cluster_text - the CLUSTER block of the text form */
static void
cluster_text(FILE *fp, struct store *st, const struct status_info *si)
{
	const struct cluster_info *ci = si->cluster;
	char tb[40], tb2[40], vis[600];
	size_t i;

	if (si->cluster_node == NULL)
		return;
	fprintf(fp, "CLUSTER: node %s", esc_vis(si->cluster_node, vis, sizeof(vis)));
	if (ci == NULL) {
		fprintf(fp, " (no daemon running); %lld waiting in the outbox\n\n",
		    (long long)(st != NULL ? store_count_outbox(st) : -1));
		return;
	}
	fprintf(fp, ", PostgreSQL %s", strcmp(ci->link, "down") == 0 ? "DOWN" : ci->link);
	if (ci->link_since_us != 0)
		fprintf(fp, " since %s", json_time(ci->link_since_us, tb, sizeof(tb)));
	if (strcmp(ci->link, "down") == 0)
		fprintf(fp, " (%s): counting and enforcing alone",
		    esc_vis(ci->why != NULL ? ci->why : "", vis, sizeof(vis)));
	fprintf(fp, "; %lld waiting in the outbox\n", (long long)ci->outbox);
	fprintf(fp, "  %lld messages published since start, %lld of the others' counted\n",
	    (long long)ci->published, (long long)ci->fetched);
	fprintf(fp, "  %-20s %-20s %-20s %10s %8s\n", "NODE", "LAST PUBLISH", "NEWEST MESSAGE",
	    "LAG", "OUTBOX");
	for (i = 0; i < ci->nnodes; i++) {
		const struct cluster_node *n = &ci->nodes[i];
		int self = strcmp(n->name, ci->node) == 0;
		char lag[32];

		if (self)
			snprintf(lag, sizeof(lag), "-");
		else
			snprintf(lag, sizeof(lag), "%.1fs",
			    n->newest_us > n->counted_us
				? (double)(n->newest_us - n->counted_us) / 1e6
				: 0.0);
		fprintf(fp, "  %-20s %-20s %-20s %10s %8lld\n", esc_vis(n->name, vis, sizeof(vis)),
		    n->last_publish_us ? json_time(n->last_publish_us, tb, sizeof(tb)) : "-",
		    n->newest_us ? json_time(n->newest_us, tb2, sizeof(tb2)) : "-", lag,
		    (long long)n->outbox);
	}
	fputc('\n', fp);
}

/* counts_json - the "counts" array (in a cluster, each with its "nodes") */
static void
counts_json(FILE *fp, const struct cset *cs, struct store *st, const struct status_info *si,
    int64_t now)
{
	struct ntimes *nt = ntimes_new(si->cluster_node);
	struct ncount nc;
	char wb[32];
	size_t i, k;

	fputs(",\n \"counts\": [", fp);
	for (i = 0; i < cs->n; i++) {
		fputs(i ? ",\n  " : "\n  ", fp);
		fputs("{\"identity\": ", fp);
		json_cstr(fp, cs->v[i].identity);
		json_key(fp, "rule", cs->v[i].rule->name);
		fprintf(fp,
		    ", \"limit\": \"%s\", \"window\": \"%s\", \"count\": %ld, "
		    "\"threshold\": %ld",
		    conf_limit_name(cs->v[i].win->limit),
		    conf_format_duration(cs->v[i].win->seconds, wb, sizeof(wb)), cs->v[i].count,
		    cs->v[i].win->threshold);
		if (si->cluster_node != NULL && nt != NULL) {
			row_nodes(nt, st, cs, i, now, &nc);
			fputs(", \"nodes\": {", fp);
			for (k = 0; k < nc.n; k++) {
				fputs(k ? ", " : "", fp);
				json_cstr(fp, nc.v[k].name);
				fprintf(fp, ": %ld", nc.v[k].n);
			}
			fputc('}', fp);
		}
		fputc('}', fp);
	}
	fputs(cs->n ? "\n ]" : "]", fp);
	ntimes_free(nt);
}

/* counts_text - the COUNTS table (in a cluster, with its messages per node) */
static void
counts_text(FILE *fp, const struct cset *cs, struct store *st, const struct status_info *si,
    int64_t now)
{
	struct ntimes *nt = ntimes_new(si->cluster_node);
	struct ncount nc;
	char cnt[48], wb[32];
	size_t i;
	int w;

	if (cs->n == 0)
		fputs("COUNTS: none\n", fp);
	else
		fprintf(fp, "%-30s %-10s %-10s %6s %15s%s\n", "IDENTITY", "RULE", "LIMIT", "WINDOW",
		    "COUNT/LIMIT", si->cluster_node != NULL ? "  MESSAGES PER NODE" : "");
	for (i = 0; i < cs->n; i++) {
		if ((w = tty_id(fp, cs->v[i].identity)) > 30)
			fprintf(fp, "\n%30s", "");
		else
			fprintf(fp, "%*s", 30 - w, "");
		snprintf(cnt, sizeof(cnt), "%ld/%ld", cs->v[i].count, cs->v[i].win->threshold);
		fprintf(fp, " %-10.10s %-10s %6s %15s", cs->v[i].rule->name,
		    conf_limit_name(cs->v[i].win->limit),
		    conf_format_duration(cs->v[i].win->seconds, wb, sizeof(wb)), cnt);
		if (si->cluster_node != NULL && nt != NULL) {
			row_nodes(nt, st, cs, i, now, &nc);
			fputc(' ', fp);
			nodes_text(fp, &nc);
		}
		fputc('\n', fp);
	}
	ntimes_free(nt);
}

/* json_time_or_null - a time as a JSON string, null for INT64_MIN */
static void
json_time_or_null(FILE *fp, int64_t us)
{
	char tb[40];

	if (us != INT64_MIN)
		fprintf(fp, "\"%s\"", json_time(us, tb, sizeof(tb)));
	else
		fputs("null", fp);
}

/*
 * position_json - ", \"position\": {...}": a file's dev, ino and offset or
 * the journal's cursor, and the time of the line or entry it stands after
 */
static void
position_json(FILE *fp, const struct status_info *si)
{
	if (!si->has_pos)
		return;
	fputs(", \"position\": {", fp);
	if (si->cursor != NULL) {
		fputs("\"cursor\": ", fp);
		json_cstr(fp, si->cursor);
	} else
		fprintf(fp, "\"dev\": %llu, \"ino\": %llu, \"offset\": %llu",
		    (unsigned long long)si->dev, (unsigned long long)si->ino,
		    (unsigned long long)si->offset);
	fputs(", \"time\": ", fp);
	json_time_or_null(fp, si->pos_us);
	fputc('}', fp);
}

/* daemon_json - the "now" and "daemon" members, closing the object */
static void
daemon_json(FILE *fp, int64_t now, const struct status_info *si)
{
	char tb[40];

	fprintf(fp, ",\n \"now\": \"%s\", \"daemon\": {\"running\": %s",
	    json_time(now, tb, sizeof(tb)), si->running ? "true" : "false");
	if (si->running)
		fprintf(fp,
		    ", \"pid\": %ld, \"lines\": %llu, \"untrusted\": %llu, \"future_lines\": %llu",
		    si->pid, (unsigned long long)si->lines, (unsigned long long)si->untrusted,
		    (unsigned long long)si->future_lines);
	position_json(fp, si);
	json_key(fp, "log", si->log);
	if (si->source != NULL)
		json_key(fp, "source", si->source);
	json_key(fp, "state", si->state);
	json_key(fp, "mode", si->mode);
	fputs(", \"last_log_time\": ", fp);
	json_time_or_null(fp, si->last_us);
	fputs("}}\n", fp);
}

/* daemon_text - the head of the text form */
static void
daemon_text(FILE *fp, int64_t now, const struct status_info *si)
{
	char tb[40];
	int journal = si->source != NULL && strcmp(si->source, "journal") == 0;

	if (si->running)
		fprintf(fp, "sendguard: running (pid %ld, %s mode), %llu %s read from %s\n",
		    si->pid, si->mode ? si->mode : "?", (unsigned long long)si->lines,
		    journal ? "journal entries" : "lines", si->log ? si->log : "?");
	else
		fprintf(fp, "sendguard: not running; counts from %s\n",
		    si->state ? si->state : "?");
	if (si->last_us != INT64_MIN)
		fprintf(fp, "%s: %s\n", si->running ? "Newest log line" : "Newest message",
		    json_time(si->last_us, tb, sizeof(tb)));
	if (si->running && si->future_lines > 0)
		fprintf(fp,
		    "Future-dated lines: %llu (stamped ahead of the clock; counted at the "
		    "time of the line before)\n",
		    (unsigned long long)si->future_lines);
	if (journal && si->has_pos)
		fprintf(fp, "Journal cursor: %s\n",
		    si->pos_us != INT64_MIN ? json_time(si->pos_us, tb, sizeof(tb))
					    : "(the journal's beginning)");
	if (journal && si->running)
		fprintf(fp,
		    "Untrusted: %llu journal entries under a Postfix name from another "
		    "sender, not counted\n",
		    (unsigned long long)si->untrusted);
	fprintf(fp, "Windows ending %s\n\n", json_time(now, tb, sizeof(tb)));
}

/* status_now - the later of the wall clock and last_log_us (see status.h) */
int64_t
status_now(int64_t last_log_us)
{
	struct timeval tv;
	int64_t now;

	gettimeofday(&tv, NULL);
	now = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	return (last_log_us > now ? last_log_us : now);
}

int
status_print(FILE *fp, struct limits *l, struct store *st, int64_t now,
    const struct status_info *si, int json)
{
	struct cset cs = { NULL, 0, 0, 0 };
	size_t i;

	if (l != NULL)
		limits_each_count(l, now, collect, &cs);
	if (cs.n > 1)
		qsort(cs.v, cs.n, sizeof(*cs.v), crow_cmp);
	if (json) {
		fputs("{", fp);
		blocks(st, fp, now, 1);
		counts_json(fp, &cs, st, si, now);
		cluster_json(fp, st, si);
		daemon_json(fp, now, si);
	} else {
		daemon_text(fp, now, si);
		cluster_text(fp, st, si);
		blocks(st, fp, now, 0);
		fputc('\n', fp);
		counts_text(fp, &cs, st, si, now);
	}
	for (i = 0; i < cs.n; i++)
		free(cs.v[i].identity);
	free(cs.v);
	return (cs.failed || ferror(fp) ? -1 : 0);
}
