/*
 * NAME
 *	metrics - the Prometheus text file of the daemon (see metrics.h)
 * SUMMARY
 *	The file is written whole into memory first, then to a temporary
 *	file beside the target, fsync'd, made 0644 and renamed over it, so
 *	a reader (node_exporter) never sees half of it.  Counters come from
 *	the pipeline and metrics_verdict(); gauges from the store and the
 *	limits at the moment of writing.
 * RETURNS
 *	See metrics.h: 0, or -1 with err; the daemon logs it.
 * UNTRUSTED INPUT
 *	Identities and rule names as label values through util/esc
 *	(ESC_PROM); the path is the configuration's (absolute, checked at
 *	load), the temporary file opened with O_NOFOLLOW.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actions/act.h"
#include "agent/metrics.h"
#include "agent/status.h"
#include "util/arr.h"
#include "util/esc.h"

/* The programs sendguard runs, as the action log names them. */
static const char *const actions[] = { "hold", "map", "reload", "notify", "exec", "release",
	"delete" };
#define NACTIONS (sizeof(actions) / sizeof(actions[0]))

struct mrule {
	char name[CONF_NAME_MAX];
	uint64_t verdicts;
};

struct metrics {
	struct mrule *r; /* every rule that had a verdict, also after a reload dropped it */
	size_t n, cap;
};

/* The identities with the highest counts of one (rule, window). */
struct top {
	char *id[METRICS_TOP];
	long count[METRICS_TOP];
	size_t n;
};

/* What one write gathers. */
struct gather {
	const struct conf *conf;
	struct top *top; /* nrules x CONF_MAX_WINDOWS * LIM_COUNT */
	uint64_t runs[NACTIONS], fails[NACTIONS];
	uint64_t blocks, held;
	int64_t now;
	int oom;
};

struct metrics *
metrics_new(void)
{
	return (calloc(1, sizeof(struct metrics)));
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	free(m->r);
	free(m);
}

void
metrics_verdict(struct metrics *m, const char *rule)
{
	struct mrule *r;
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->r[i].name, rule) == 0) {
			m->r[i].verdicts++;
			return;
		}
	if ((r = arr_grow(m->r, m->n, &m->cap, sizeof(*r), 8)) == NULL)
		return;
	m->r = r;
	snprintf(r[m->n].name, sizeof(r[m->n].name), "%s", rule);
	r[m->n++].verdicts = 1;
}

/* on_count - one current count: into the top of its (rule, window) */
static void
on_count(void *ctx, const struct limits_count *c)
{
	struct gather *g = ctx;
	size_t ri = (size_t)(c->rule - g->conf->rules), wi = (size_t)(c->win - c->rule->win), i, lo;
	struct top *t;
	char *id;

	if (ri >= g->conf->nrules)
		return;
	t = &g->top[ri * CONF_MAX_WINDOWS * LIM_COUNT + wi];
	if (t->n == METRICS_TOP) {
		for (lo = 0, i = 1; i < t->n; i++)
			if (t->count[i] < t->count[lo])
				lo = i;
		if (c->count <= t->count[lo])
			return;
		free(t->id[lo]);
		t->id[lo] = t->id[--t->n];
		t->count[lo] = t->count[t->n];
	}
	if ((id = strdup(c->identity)) == NULL) {
		g->oom = 1;
		return;
	}
	t->id[t->n] = id;
	t->count[t->n++] = c->count;
}

/* on_job - one program run record: its attempts, and how many failed */
static int
on_job(void *ctx, const struct store_job *j)
{
	struct gather *g = ctx;
	size_t i;

	for (i = 0; i < NACTIONS; i++)
		if (strcmp(j->action, actions[i]) == 0) {
			g->runs[i] += (uint64_t)(j->attempts > 0 ? j->attempts : 0);
			if (j->attempts > 0)
				g->fails[i] +=
				    (uint64_t)(j->attempts - (strcmp(j->status, "ok") == 0));
		}
	return (0);
}

static int
on_block(void *ctx, const struct store_block *b)
{
	struct gather *g = ctx;

	if (act_state_active(b->state) && (b->until_us == 0 || b->until_us > g->now))
		g->blocks++;
	return (0);
}

static int
on_hold(void *ctx, const struct store_on_hold *h)
{
	struct gather *g = ctx;

	g->held += (uint64_t)(h->held > 0 ? h->held : 0);
	return (0);
}

/* head - the HELP and TYPE lines of a metric */
static void
head(FILE *fp, const char *name, const char *type, const char *help)
{
	fprintf(fp, "# HELP sendguard_%s %s\n# TYPE sendguard_%s %s\n", name, help, name, type);
}

/* label - a label value, escaped for the text format */
static void
label(FILE *fp, const char *s)
{
	esc_fp(fp, s, strlen(s), ESC_PROM);
}

/* window_labels - rule="..",limit="..",window=".." */
static void
window_labels(FILE *fp, const struct conf_rule *r, const struct conf_window *w)
{
	char wb[32];

	fputs("rule=\"", fp);
	label(fp, r->name);
	fprintf(fp, "\",limit=\"%s\",window=\"%s\"", conf_limit_name(w->limit),
	    conf_format_duration(w->seconds, wb, sizeof(wb)));
}

/* print_counters - what the pipeline counted since the start, and the verdicts by rule */
static void
print_counters(FILE *fp, const struct metrics *m, const struct metrics_input *in)
{
	size_t i, j;

	head(fp, "lines_read_total", "counter", "Log lines read since the daemon started.");
	fprintf(fp, "sendguard_lines_read_total %llu\n", (unsigned long long)in->pl->lines);
	head(fp, "lines_unparsed_total", "counter", "Lines read that were not syslog lines.");
	fprintf(fp, "sendguard_lines_unparsed_total %llu\n", (unsigned long long)in->pl->unparsed);
	head(fp, "messages_counted_total", "counter", "Accepted messages counted.");
	fprintf(fp, "sendguard_messages_counted_total %llu\n",
	    (unsigned long long)in->pl->messages);
	head(fp, "untrusted_lines_total", "counter",
	    "Journal entries that are not Postfix's, never counted.");
	fprintf(fp, "sendguard_untrusted_lines_total %llu\n", (unsigned long long)in->untrusted);
	head(fp, "future_lines_total", "counter",
	    "Lines stamped ahead of the clock, counted at the time of the line before.");
	fprintf(fp, "sendguard_future_lines_total %llu\n", (unsigned long long)in->future);
	head(fp, "verdicts_total", "counter", "Overruns since the daemon started, by rule.");
	for (i = 0; i < in->conf->nrules; i++) {
		uint64_t n = 0;

		for (j = 0; j < m->n; j++)
			if (strcmp(m->r[j].name, in->conf->rules[i].name) == 0)
				n = m->r[j].verdicts;
		fputs("sendguard_verdicts_total{rule=\"", fp);
		label(fp, in->conf->rules[i].name);
		fprintf(fp, "\"} %llu\n", (unsigned long long)n);
	}
	for (j = 0; j < m->n; j++) { /* rules a reload took away */
		for (i = 0; i < in->conf->nrules; i++)
			if (strcmp(m->r[j].name, in->conf->rules[i].name) == 0)
				break;
		if (i < in->conf->nrules)
			continue;
		fputs("sendguard_verdicts_total{rule=\"", fp);
		label(fp, m->r[j].name);
		fprintf(fp, "\"} %llu\n", (unsigned long long)m->r[j].verdicts);
	}
}

/* print_gauges - enforcement's state, the action log and the lag */
static void
print_gauges(FILE *fp, const struct gather *g, const struct metrics_input *in)
{
	size_t i;

	head(fp, "blocks_active", "gauge", "Identities blocked now.");
	fprintf(fp, "sendguard_blocks_active %llu\n", (unsigned long long)g->blocks);
	head(fp, "held_messages", "gauge", "Messages sendguard put on hold that are still held.");
	fprintf(fp, "sendguard_held_messages %llu\n", (unsigned long long)g->held);
	head(fp, "action_runs_total", "counter", "Program runs by action, from the action log.");
	for (i = 0; i < NACTIONS; i++)
		fprintf(fp, "sendguard_action_runs_total{action=\"%s\"} %llu\n", actions[i],
		    (unsigned long long)g->runs[i]);
	head(fp, "action_failures_total", "counter", "Program runs that failed, by action.");
	for (i = 0; i < NACTIONS; i++)
		fprintf(fp, "sendguard_action_failures_total{action=\"%s\"} %llu\n", actions[i],
		    (unsigned long long)g->fails[i]);
	head(fp, "lag_seconds", "gauge",
	    "The wall clock minus the time of the newest log line read (NaN before any).");
	if (in->pl->last_us == INT64_MIN)
		fputs("sendguard_lag_seconds NaN\n", fp);
	else
		fprintf(fp, "sendguard_lag_seconds %.3f\n",
		    (double)(in->now_us - in->pl->last_us) / 1e6);
}

/* print_tops - the identities with the highest counts of each rule and window */
static void
print_tops(FILE *fp, struct gather *g)
{
	const struct conf *c = g->conf;
	size_t ri, wi, i, j;

	head(fp, "window_threshold", "gauge", "The threshold of each rule and window.");
	for (ri = 0; ri < c->nrules; ri++)
		for (wi = 0; wi < c->rules[ri].nwin; wi++) {
			fputs("sendguard_window_threshold{", fp);
			window_labels(fp, &c->rules[ri], &c->rules[ri].win[wi]);
			fprintf(fp, "} %ld\n", c->rules[ri].win[wi].threshold);
		}
	head(fp, "window_value", "gauge",
	    "The identities with the highest count in the window ending now (top 10 per rule and "
	    "window).");
	for (ri = 0; ri < c->nrules; ri++)
		for (wi = 0; wi < c->rules[ri].nwin; wi++) {
			struct top *t = &g->top[ri * CONF_MAX_WINDOWS * LIM_COUNT + wi];

			for (i = 0; i < t->n; i++) { /* highest first */
				size_t best = i;
				long cn;
				char *id;

				for (j = i + 1; j < t->n; j++)
					if (t->count[j] > t->count[best] ||
					    (t->count[j] == t->count[best] &&
						strcmp(t->id[j], t->id[best]) < 0))
						best = j;
				cn = t->count[best];
				id = t->id[best];
				t->count[best] = t->count[i];
				t->id[best] = t->id[i];
				t->count[i] = cn;
				t->id[i] = id;
				fputs("sendguard_window_value{", fp);
				window_labels(fp, &c->rules[ri], &c->rules[ri].win[wi]);
				fputs(",identity=\"", fp);
				label(fp, id);
				fprintf(fp, "\"} %ld\n", cn);
			}
		}
}

/* replace - write len bytes of text to path atomically, mode 0644 */
static int
replace(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
	char tmp[4096];
	size_t off = 0;
	ssize_t w;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return (-1);
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return (-1);
	}
	while (off < len && ((w = write(fd, text + off, len - off)) > 0 || errno == EINTR))
		off += w > 0 ? (size_t)w : 0;
	if (off < len || fchmod(fd, 0644) < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return (-1);
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return (-1);
	}
	return (0);
}

int
metrics_write(struct metrics *m, const char *path, const struct metrics_input *in, char *err,
    size_t errlen)
{
	struct gather g;
	char *text = NULL, serr[256];
	size_t len = 0, i, ntop = in->conf->nrules * CONF_MAX_WINDOWS * LIM_COUNT;
	FILE *fp;
	int rc = -1;

	memset(&g, 0, sizeof(g));
	g.conf = in->conf;
	g.now = in->now_us;
	if ((g.top = calloc(ntop + 1, sizeof(*g.top))) == NULL ||
	    (fp = open_memstream(&text, &len)) == NULL) {
		free(g.top);
		snprintf(err, errlen, "metrics: out of memory");
		return (-1);
	}
	limits_each_count(in->limits, status_now(in->pl->last_us), on_count, &g);
	if (in->store != NULL &&
	    (store_each_job(in->store, NULL, NULL, on_job, &g, serr, sizeof(serr)) < 0 ||
		store_each_block(in->store, NULL, on_block, &g, serr, sizeof(serr)) < 0 ||
		store_each_on_hold(in->store, on_hold, &g, serr, sizeof(serr)) < 0))
		snprintf(err, errlen, "metrics: %s", serr);
	else if (g.oom)
		snprintf(err, errlen, "metrics: out of memory");
	else {
		print_counters(fp, m, in);
		print_gauges(fp, &g, in);
		print_tops(fp, &g);
		rc = 0;
	}
	if (fclose(fp) != 0 && rc == 0) {
		snprintf(err, errlen, "metrics: out of memory");
		rc = -1;
	}
	if (rc == 0)
		rc = replace(path, text, len, err, errlen);
	for (i = 0; i < ntop; i++)
		while (g.top[i].n > 0)
			free(g.top[i].id[--g.top[i].n]);
	free(g.top);
	free(text);
	return (rc);
}
