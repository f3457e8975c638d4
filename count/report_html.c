/*
 * NAME
 *	report_html - the audit report as an HTML page (see report_html.h)
 * SUMMARY
 *	The page is written top to bottom: head and style sheet, summary,
 *	rate plots, overruns, top identities per kind, histograms.  Every
 *	text from the log goes through report_svg_html() (util/esc,
 *	ESC_HTML); numbers and times are sendguard's own.
 * RETURNS
 *	See report_html.h: 0, or -1 with err; never prints on its own.
 * UNTRUSTED INPUT
 *	Identities and queue IDs from the log: escaped for HTML wherever
 *	they go (text, titles); nothing from the log goes into an attribute
 *	name, a style or a URL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "count/report_html.h"
#include "count/report_svg.h"
#include "count/series.h"
#include "util/ident.h"
#include "util/json.h"

static const char style[] =
    "body{font:14px/1.45 system-ui,'DejaVu Sans',sans-serif;margin:0 auto;max-width:1360px;"
    "padding:16px 24px;color:#1d1d1d;background:#fff}\n"
    "h1{font-size:22px;margin:4px 0 12px}\n"
    "h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:30px}\n"
    "h3{font-size:15px;margin:2px 0 4px}\n"
    "table{border-collapse:collapse;margin:6px 0}\n"
    "td,th{padding:3px 12px 3px 0;text-align:left;border-bottom:1px solid #e6e6e6;"
    "vertical-align:top}\n"
    "th{font-weight:600;border-bottom:1px solid #999}\n"
    ".n{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".id{font-family:'DejaVu Sans Mono',monospace;word-break:break-all}\n"
    ".summary th{border:0;font-weight:600;padding-right:18px}\n"
    ".summary td{border:0}\n"
    ".plotbox{border:1px solid #ddd;border-radius:6px;padding:8px 14px;margin:14px 0;"
    "break-inside:avoid}\n"
    "svg{display:block;width:100%;height:auto}\n"
    "svg .area{fill:#fafafa;stroke:#bbb}\n"
    "svg .grid{stroke:#e8e8e8}\n"
    "svg .threshold{stroke:#c62828;stroke-dasharray:6 4;stroke-width:1.5}\n"
    "svg .series{fill:none;stroke-width:1.6}\n"
    "svg .pt{opacity:.6}\n"
    "svg .overrun{fill:none;stroke:#c62828;stroke-width:2.5}\n"
    "svg text{font:12px system-ui,'DejaVu Sans',sans-serif;fill:#555}\n"
    "svg .ylab{text-anchor:end}\n"
    "svg .xlab,svg .count{text-anchor:middle}\n"
    "svg .xlab.first{text-anchor:start}\n"
    "svg .xlab.last{text-anchor:end}\n"
    "svg .thlab{fill:#c62828}\n"
    "svg.plot .thlab,svg .thlab.left{text-anchor:end}\n"
    "svg.hist .bar{fill:#1f6fb4}\n"
    "svg.hist .bar.over{fill:#c62828}\n"
    ".legend span{display:inline-block;margin-right:18px}\n"
    ".sw{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-1px;"
    "margin-right:5px}\n"
    ".hists{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:14px}\n"
    ".flag{color:#c62828;font-weight:600}\n"
    ".note,.todo{color:#666;font-style:italic}\n"
    "@media print{body{max-width:none;font-size:10pt;padding:0}"
    ".plotbox,.hists>div,tr{break-inside:avoid}h2,h3{break-after:avoid}}\n";

/* The page being written. */
struct page {
	FILE *fp;
	struct report *r;
	const struct rview *vw;
	const struct report_totals *t;
};

/* h - text from anywhere, escaped */
static void
h(struct page *pg, const char *s)
{
	report_svg_html(pg->fp, s);
}

/* row - one line of the summary: a label and a number */
static void
row(struct page *pg, const char *label, unsigned long long v, const char *after)
{
	fprintf(pg->fp, "<tr><th>%s</th><td class=\"n\">%llu</td><td>%s</td></tr>\n", label, v,
	    after);
}

/* span - one line of the summary: a label and a time span (none: no line had a time) */
static void
span(struct page *pg, const char *label, int64_t first, int64_t last)
{
	char a[40], b[40];

	if (first == INT64_MIN)
		fprintf(pg->fp, "<tr><th>%s</th><td colspan=\"2\">no line</td></tr>\n", label);
	else
		fprintf(pg->fp, "<tr><th>%s</th><td colspan=\"2\">%s to %s</td></tr>\n", label,
		    json_time(first, a, sizeof(a)), json_time(last, b, sizeof(b)));
}

/* bound - an interval end for the summary */
static const char *
bound(int64_t t, const char *open, char *buf, size_t len)
{
	return (t == INT64_MIN || t == INT64_MAX ? open : json_time(t, buf, len));
}

static void
summary(struct page *pg)
{
	const struct report_totals *t = pg->t;
	char a[40], b[40], note[200];

	fputs("<section id=\"summary\"><h2>Input</h2><table class=\"summary\">\n", pg->fp);
	if (t->interval) {
		fprintf(pg->fp, "<tr><th>Interval</th><td colspan=\"2\">%s .. %s</td></tr>\n",
		    bound(t->since_us, "(start of input)", a, sizeof(a)),
		    bound(t->until_us, "(end of input)", b, sizeof(b)));
		row(pg, "Lines in the interval", t->in_lines, "");
		span(pg, "Log time in the interval", t->in_first_us, t->in_last_us);
		row(pg, "Messages counted in the interval", t->in_counted, "");
	}
	snprintf(note, sizeof(note), "%llu not syslog lines, %llu over-long",
	    (unsigned long long)t->unparsed, (unsigned long long)t->too_long);
	row(pg, "Lines read", t->lines, note);
	span(pg, "Log time", t->first_us, t->last_us);
	if (t->track != NULL) {
		snprintf(note, sizeof(note),
		    "not counted: %llu content-filter copies, %llu requeued, "
		    "%llu without a client or pickup line",
		    (unsigned long long)t->track->reinjections,
		    (unsigned long long)t->track->requeues, (unsigned long long)t->track->orphans);
		row(pg, "Messages counted", t->track->counted, note);
	}
	row(pg, "Identities shown", pg->vw->n, "");
	fprintf(pg->fp,
	    "<tr><th>Overruns shown</th><td class=\"n%s\">%zu</td><td>of %zu in the audit</td>"
	    "</tr>\n</table></section>\n",
	    pg->vw->nov ? " flag" : "", pg->vw->nov, report_overruns(pg->r));
}

/* legend - the windows of a plot, in its colours, with each peak */
static void
legend(struct page *pg, const struct series_set *set, size_t id, const struct rident *ri)
{
	char wb[32];
	size_t i, k, j;

	fputs("<div class=\"legend\">", pg->fp);
	for (i = 0, k = 0; i < set->n; i++) {
		const struct series *s = &set->s[i];
		long peak = 0;

		if (s->id != id)
			continue;
		for (j = 0; j < ri->npeaks; j++)
			if (ri->peaks[j].rule == s->rule && ri->peaks[j].win == s->win)
				peak = ri->peaks[j].peak;
		fprintf(pg->fp, "<span><i class=\"sw\" style=\"background:%s\"></i>",
		    report_svg_colors[k++ % REPORT_SVG_NCOLORS]);
		h(pg, s->rule->name);
		fprintf(pg->fp, " %s %ld/%s: peak %ld (%.0f%%)</span>",
		    conf_limit_name(s->win->limit), s->win->threshold,
		    conf_format_duration(s->win->seconds, wb, sizeof(wb)), peak,
		    (double)peak * 100.0 / (double)s->win->threshold);
	}
	fputs("<span><i class=\"sw\" style=\"border:2px solid #c62828\"></i>overrun</span>"
	      "</div>\n",
	    pg->fp);
}

/*
 * pick - the identities to plot, into want (room for SERIES_IDS_MAX): those
 * with an overrun, the highest percentage of a threshold first, then the
 * closest without one; returns how many
 */
static size_t
pick(const struct rview *vw, struct rident **want)
{
	struct rident **v;
	size_t i, n = 0, flagged = 0, close = 0;

	if (vw->n == 0 || (v = malloc(vw->n * sizeof(struct rident *))) == NULL)
		return (0);
	memcpy(v, vw->v, vw->n * sizeof(struct rident *));
	qsort(v, vw->n, sizeof(struct rident *), report_rank_cmp);
	for (i = 0; i < vw->n && n < SERIES_IDS_MAX; i++) {
		if (v[i]->pct < 0)
			break;
		if (v[i]->noverruns > 0 ? flagged++ < REPORT_HTML_FLAGGED
					: close++ < REPORT_HTML_CLOSE)
			want[n++] = v[i];
	}
	free(v);
	return (n);
}

/* plots - one box per identity picked: its name, overruns, plot and legend */
static int
plots(struct page *pg, const struct conf *conf, struct store *st, char *err, size_t errlen)
{
	struct rident *want[SERIES_IDS_MAX];
	const char *ids[SERIES_IDS_MAX];
	struct series_set set;
	const struct report_totals *t = pg->t;
	int64_t t0 = t->interval ? t->in_first_us : t->first_us;
	int64_t t1 = t->interval ? t->in_last_us : t->last_us;
	size_t n = st != NULL && t0 != INT64_MIN ? pick(pg->vw, want) : 0, i;

	fputs("<section id=\"plots\"><h2>Over a limit, or closest to one</h2>\n"
	      "<p class=\"note\">Each window's count over time as a percentage of its "
	      "threshold (dashed line: 100&nbsp;%); red rings are overruns.  Hover over a "
	      "point for its time, count and queue ID.</p>\n",
	    pg->fp);
	if (n == 0) {
		fputs("<p>No limit counts any identity shown.</p></section>\n", pg->fp);
		return (0);
	}
	for (i = 0; i < n; i++)
		ids[i] = want[i]->name;
	if (series_collect(conf, st, ids, n, t0, t1, &set, err, errlen) < 0) {
		series_free(&set);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		fputs("<div class=\"plotbox\"><h3 class=\"id\">", pg->fp);
		h(pg, want[i]->name);
		fputs("</h3>\n<p>", pg->fp);
		if (want[i]->noverruns > 0)
			fprintf(pg->fp, "<span class=\"flag\">%zu overrun%s</span>; ",
			    want[i]->noverruns, want[i]->noverruns == 1 ? "" : "s");
		fprintf(pg->fp,
		    "highest peak %.0f%% of its threshold; %llu messages, %llu recipients, "
		    "%llu client IPs</p>\n",
		    want[i]->pct, (unsigned long long)want[i]->messages,
		    (unsigned long long)want[i]->recipients, (unsigned long long)want[i]->ips);
		report_svg_plot(pg->fp, &set, i, want[i], pg->vw);
		legend(pg, &set, i, want[i]);
		fputs("</div>\n", pg->fp);
	}
	series_free(&set);
	fputs("</section>\n", pg->fp);
	return (0);
}

static void
overruns(struct page *pg)
{
	char tb[40], wb[32];
	size_t i;

	fprintf(pg->fp, "<section id=\"overruns\"><h2>Overruns (%zu)</h2>\n", pg->vw->nov);
	if (pg->vw->nov == 0) {
		fputs("<p>No limit was crossed.</p></section>\n", pg->fp);
		return;
	}
	fputs("<table><tr><th>time</th><th>identity</th><th>rule</th><th>limit</th>"
	      "<th class=\"n\">count</th><th class=\"n\">threshold</th><th>window</th>"
	      "<th>crossed by queue ID</th></tr>\n",
	    pg->fp);
	for (i = 0; i < pg->vw->nov; i++) {
		const struct roverrun *o = pg->vw->ov[i];

		fprintf(pg->fp, "<tr><td>%s</td><td class=\"id\">",
		    json_time(o->time_us, tb, sizeof(tb)));
		h(pg, o->identity);
		fputs("</td><td>", pg->fp);
		h(pg, o->rule->name);
		fprintf(pg->fp,
		    "</td><td>%s</td><td class=\"n\">%ld</td><td class=\"n\">%ld</td><td>%s</td>"
		    "<td class=\"id\">",
		    conf_limit_name(o->win->limit), o->count, o->win->threshold,
		    conf_format_duration(o->win->seconds, wb, sizeof(wb)));
		h(pg, o->queue_id);
		fputs("</td></tr>\n", pg->fp);
	}
	fputs("</table></section>\n", pg->fp);
}

/*
 * addresses - the "addresses" cell of an identity: its REPORT_IPS_TABLE
 * client IPs with most messages, each with its messages, and how many
 * more it had
 */
static void
addresses(struct page *pg, const struct rident *ri)
{
	size_t i;

	for (i = 0; i < ri->ncl && i < REPORT_IPS_TABLE; i++) {
		if (i > 0)
			fputs(", ", pg->fp);
		h(pg, ri->cl[i].ip);
		fprintf(pg->fp, " (%llu)", (unsigned long long)ri->cl[i].messages);
	}
	if (ri->ncl > REPORT_IPS_TABLE)
		fprintf(pg->fp, ", +%zu more", ri->ncl - REPORT_IPS_TABLE);
}

/* top_kind - the identities of one kind with the most messages */
static void
top_kind(struct page *pg, struct rident **v, size_t n, const char *prefix)
{
	size_t i, shown = 0, plen = strlen(prefix);

	for (i = 0; i < n && shown < REPORT_HTML_TOP; i++) {
		if (strncmp(v[i]->name, prefix, plen) != 0)
			continue;
		if (shown++ == 0) {
			fprintf(pg->fp, "<h3>%.*s</h3>\n", (int)(plen - 1), prefix);
			fputs("<table><tr><th>identity</th><th class=\"n\">messages</th>"
			      "<th class=\"n\">recipients</th><th class=\"n\">client IPs</th>"
			      "<th>addresses</th><th class=\"n\">senders</th>"
			      "<th class=\"n\">delivered</th><th class=\"n\">deferred</th>"
			      "<th class=\"n\">bounced</th><th class=\"n\">overruns</th></tr>\n",
			    pg->fp);
		}
		fputs("<tr><td class=\"id\">", pg->fp);
		h(pg, v[i]->name);
		fprintf(pg->fp,
		    "</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td "
		    "class=\"n\">%llu</td><td class=\"id\">",
		    (unsigned long long)v[i]->messages, (unsigned long long)v[i]->recipients,
		    (unsigned long long)v[i]->ips);
		addresses(pg, v[i]);
		fprintf(pg->fp,
		    "</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td><td "
		    "class=\"n\">%llu</td><td class=\"n\">%llu</td><td "
		    "class=\"n%s\">%zu</td></tr>\n",
		    (unsigned long long)v[i]->senders, (unsigned long long)v[i]->out[TRACK_SENT],
		    (unsigned long long)v[i]->out[TRACK_DEFERRED],
		    (unsigned long long)v[i]->out[TRACK_BOUNCED], v[i]->noverruns ? " flag" : "",
		    v[i]->noverruns);
	}
	if (shown > 0)
		fputs("</table>\n", pg->fp);
}

static void
tops(struct page *pg)
{
	struct rident **v;
	int k;

	fprintf(pg->fp,
	    "<section id=\"top\"><h2>Top identities per kind (at most %d each, by "
	    "messages)</h2>\n",
	    REPORT_HTML_TOP);
	if (pg->vw->n > 0 && (v = malloc(pg->vw->n * sizeof(struct rident *))) != NULL) {
		memcpy(v, pg->vw->v, pg->vw->n * sizeof(struct rident *));
		qsort(v, pg->vw->n, sizeof(struct rident *), report_ident_cmp);
		for (k = 0; k < IDENT_KINDS; k++)
			top_kind(pg, v, pg->vw->n, ident_prefix((enum ident_kind)k));
		free(v);
	} else
		fputs("<p>(no messages)</p>\n", pg->fp);
	fputs("</section>\n", pg->fp);
}

static void
hists(struct page *pg, const struct conf *conf)
{
	char wb[32];
	size_t i, j;

	fputs("<section id=\"peaks\"><h2>Peaks per rule</h2>\n<p class=\"note\">How many "
	      "identities reached each peak (bins double: 1, 2&ndash;3, 4&ndash;7, ...); red bars "
	      "are above the threshold.</p>\n<div class=\"hists\">\n",
	    pg->fp);
	for (i = 0; i < conf->nrules; i++)
		for (j = 0; j < conf->rules[i].nwin; j++) {
			const struct conf_window *w = &conf->rules[i].win[j];

			fputs("<div><h3>", pg->fp);
			h(pg, conf->rules[i].name);
			fprintf(pg->fp, ": %s %ld/%s (by %s)</h3>\n", conf_limit_name(w->limit),
			    w->threshold, conf_format_duration(w->seconds, wb, sizeof(wb)),
			    conf_by_name(conf->rules[i].by));
			report_svg_hist(pg->fp, pg->vw, &conf->rules[i], w);
			fputs("</div>\n", pg->fp);
		}
	if (conf->nrules == 0)
		fputs("<p>No limit is configured.</p>\n", pg->fp);
	fputs("</div></section>\n", pg->fp);
}

int
report_html_print(struct report *r, struct limits *l, struct store *st,
    const struct report_totals *t, FILE *fp, char *err, size_t errlen)
{
	struct rview vw;
	struct page pg = { fp, r, &vw, t };
	int rc = 0;

	if (report_view(r, l, &vw) < 0) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	fprintf(fp,
	    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	    "<title>sendguard audit</title>\n<style>\n%s</style></head>\n<body>\n"
	    "<h1>sendguard audit</h1>\n",
	    style);
	summary(&pg);
	if (plots(&pg, r->conf, st, err, errlen) < 0)
		rc = -1;
	overruns(&pg);
	tops(&pg);
	hists(&pg, r->conf);
	fputs("<footer class=\"note\"><p>sendguard " SG_VERSION
	      " audit report; times are UTC.</p></footer>\n</body></html>\n",
	    fp);
	report_view_free(&vw);
	if (rc == 0 && ferror(fp)) {
		snprintf(err, errlen, "write error");
		rc = -1;
	}
	return (rc);
}
