/*
 * NAME
 *	report_svg - rate plots and histograms as inline SVG (see report_svg.h)
 * SUMMARY
 *	Coordinates are those of a fixed viewBox; the page scales the SVG to
 *	its width.  A plot's line goes through the highest value of each
 *	column (struct series_col) and drops to 0 one window after a
 *	column's last message when the next message is further away than
 *	that: the value of a window with no message in it is 0.
 * RETURNS
 *	Nothing: it writes to the caller's stream; never exits.
 * UNTRUSTED INPUT
 *	Identities, rule names and queue IDs: written only through
 *	report_svg_html() (util/esc, ESC_HTML), inside text or titles.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "count/report_svg.h"
#include "util/esc.h"
#include "util/json.h"

#define PW 1200 /* viewBox of a plot */
#define PH 280
#define PL 64 /* margins: left, right, top, bottom */
#define PR 16
#define PT 14
#define PB 34
#define HW 560 /* viewBox of a histogram */
#define HH 200
#define HBINS 40

const char *const report_svg_colors[REPORT_SVG_NCOLORS] = { "#1f6fb4", "#e08a00", "#2a9d4b",
	"#8a4fbf", "#6b6b6b", "#b8860b" };

void
report_svg_html(FILE *fp, const char *s)
{
	esc_fp(fp, s, strlen(s), ESC_HTML);
}

/* The scales of one plot. */
struct axes {
	int64_t t0, t1;
	double ymax; /* percent at the top */
};

static double
xof(const struct axes *a, int64_t t)
{
	double f = a->t1 > a->t0 ? (double)(t - a->t0) / (double)(a->t1 - a->t0) : 0;

	if (f < 0)
		f = 0;
	if (f > 1)
		f = 1;
	return (PL + f * (PW - PL - PR));
}

static double
yof(const struct axes *a, double pct)
{
	return (PH - PB - (pct / a->ymax) * (PH - PT - PB));
}

/* pct - value as a percentage of the window's threshold */
static double
pct(long value, const struct conf_window *w)
{
	return ((double)value * 100.0 / (double)w->threshold);
}

/* tick_step - a round step for about five ticks up to max */
static double
tick_step(double max)
{
	static const double steps[] = { 1, 2, 2.5, 5 };
	double mag = 1;
	size_t i;

	while (mag * 10 < max / 5)
		mag *= 10;
	for (;;) {
		for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
			if (steps[i] * mag * 6 >= max)
				return (steps[i] * mag);
		mag *= 10;
	}
}

/* short_time - "03-02 14:05" (UTC) of t into buf */
static const char *
short_time(int64_t t, char *buf, size_t len)
{
	char full[40];

	json_time(t, full, sizeof(full));
	snprintf(buf, len, "%.5s %.5s", full + 5, full + 11);
	return (buf);
}

/* frame - the axes, their ticks and the threshold line */
static void
frame(FILE *fp, const struct axes *a)
{
	char tb[40];
	double step = tick_step(a->ymax), y;
	int i, k;

	fprintf(fp, "<rect class=\"area\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n", PL, PT,
	    PW - PL - PR, PH - PT - PB);
	for (k = 0; (y = k * step) <= a->ymax + 1e-9; k++)
		fprintf(fp,
		    "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
		    "<text class=\"ylab\" x=\"%d\" y=\"%.1f\">%g%%</text>\n",
		    PL, PW - PR, yof(a, y), yof(a, y), PL - 6, yof(a, y) + 4, y);
	for (i = 0; i <= 6; i++) {
		int64_t t = a->t0 + (a->t1 - a->t0) * i / 6;

		fprintf(fp, "<text class=\"xlab%s\" x=\"%.1f\" y=\"%d\">%s</text>\n",
		    i == 0       ? " first"
			: i == 6 ? " last"
				 : "",
		    xof(a, t), PH - PB + 18, short_time(t, tb, sizeof(tb)));
	}
	fprintf(fp,
	    "<line class=\"threshold\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
	    "<text class=\"thlab\" x=\"%d\" y=\"%.1f\">threshold</text>\n",
	    PL, PW - PR, yof(a, 100), yof(a, 100), PW - PR - 4, yof(a, 100) - 4);
}

/* window_label - "submission messages 100/1h" into buf */
static const char *
window_label(const struct conf_rule *r, const struct conf_window *w, char *buf, size_t len)
{
	char wb[32];

	snprintf(buf, len, "%s %s %ld/%s", r->name, conf_limit_name(w->limit), w->threshold,
	    conf_format_duration(w->seconds, wb, sizeof(wb)));
	return (buf);
}

/* line - the polyline of one series */
static void
line(FILE *fp, const struct axes *a, const struct series *s, const char *color)
{
	int64_t w = s->win->seconds * 1000000;
	const struct series_col *prev = NULL;
	size_t i;

	fprintf(fp, "<polyline class=\"series\" stroke=\"%s\" points=\"", color);
	for (i = 0; i < SERIES_COLUMNS; i++) {
		const struct series_col *c = &s->col[i];

		if (c->value == 0)
			continue;
		if (prev != NULL && c->first - prev->last > w)
			fprintf(fp, "%.1f,%.1f %.1f,%.1f ", xof(a, prev->last + w), yof(a, 0),
			    xof(a, c->first), yof(a, 0));
		else if (prev == NULL)
			fprintf(fp, "%.1f,%.1f ", xof(a, c->first), yof(a, 0));
		fprintf(fp, "%.1f,%.1f ", xof(a, c->t), yof(a, pct(c->value, s->win)));
		prev = c;
	}
	if (prev != NULL)
		fprintf(fp, "%.1f,%.1f", xof(a, prev->last + w), yof(a, 0));
	fputs("\"/>\n", fp);
}

/* points - one hover target per column: time, count / threshold, window, queue ID */
static void
points(FILE *fp, const struct axes *a, const struct series *s, const char *color)
{
	char tb[40], lb[200];
	size_t i;

	window_label(s->rule, s->win, lb, sizeof(lb));
	for (i = 0; i < SERIES_COLUMNS; i++) {
		const struct series_col *c = &s->col[i];

		if (c->value == 0)
			continue;
		fprintf(fp,
		    "<circle class=\"pt\" fill=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\"><title>%s: ",
		    color, xof(a, c->t), yof(a, pct(c->value, s->win)),
		    json_time(c->t, tb, sizeof(tb)));
		report_svg_html(fp, lb);
		fprintf(fp, ": %ld of %ld (%.0f%%), queue ID ", c->value, s->win->threshold,
		    pct(c->value, s->win));
		report_svg_html(fp, c->qid);
		fputs("</title></circle>\n", fp);
	}
}

/* marks - the overruns of identity ri as red rings */
static void
marks(FILE *fp, const struct axes *a, const struct rident *ri, const struct rview *vw)
{
	char tb[40], lb[200];
	size_t i;

	for (i = 0; i < vw->nov; i++) {
		const struct roverrun *o = vw->ov[i];

		if (strcmp(o->identity, ri->name) != 0)
			continue;
		fprintf(fp,
		    "<circle class=\"overrun\" cx=\"%.1f\" cy=\"%.1f\" r=\"7\"><title>overrun at "
		    "%s: ",
		    xof(a, o->time_us), yof(a, pct(o->count, o->win)),
		    json_time(o->time_us, tb, sizeof(tb)));
		report_svg_html(fp, window_label(o->rule, o->win, lb, sizeof(lb)));
		fprintf(fp, ": %ld &gt; %ld, crossed by queue ID ", o->count, o->win->threshold);
		report_svg_html(fp, o->queue_id);
		fputs("</title></circle>\n", fp);
	}
}

void
report_svg_plot(FILE *fp, const struct series_set *set, size_t id, const struct rident *ri,
    const struct rview *vw)
{
	struct axes a = { set->t0, set->t1, 120 };
	size_t i, k, j;
	double p;

	for (i = 0; i < set->n; i++)
		for (j = 0; set->s[i].id == id && j < SERIES_COLUMNS; j++)
			if ((p = pct(set->s[i].col[j].value, set->s[i].win)) > a.ymax)
				a.ymax = p;
	for (i = 0; i < vw->nov; i++)
		if (strcmp(vw->ov[i]->identity, ri->name) == 0 &&
		    (p = pct(vw->ov[i]->count, vw->ov[i]->win)) > a.ymax)
			a.ymax = p;
	a.ymax = ceil(a.ymax * 1.08 / tick_step(a.ymax * 1.08)) * tick_step(a.ymax * 1.08);
	fprintf(fp, "<svg class=\"plot\" viewBox=\"0 0 %d %d\" role=\"img\"><title>rate plot of ",
	    PW, PH);
	report_svg_html(fp, ri->name);
	fputs("</title>\n", fp);
	frame(fp, &a);
	for (i = 0, k = 0; i < set->n; i++) {
		if (set->s[i].id != id)
			continue;
		line(fp, &a, &set->s[i], report_svg_colors[k % REPORT_SVG_NCOLORS]);
		points(fp, &a, &set->s[i], report_svg_colors[k % REPORT_SVG_NCOLORS]);
		k++;
	}
	marks(fp, &a, ri, vw);
	fputs("</svg>\n", fp);
}

/* bin_of - the histogram bin of a peak: 0 for 1, 1 for 2-3, 2 for 4-7, ... */
static int
bin_of(long v)
{
	int b = 0;

	while (v > 1 && b < HBINS - 1) {
		v >>= 1;
		b++;
	}
	return (b);
}

void
report_svg_hist(FILE *fp, const struct rview *vw, const struct conf_rule *rule,
    const struct conf_window *win)
{
	long count[HBINS] = { 0 }, most = 1;
	int nb = bin_of(win->threshold) + 2, b;
	double bw, x;
	size_t i, j;

	for (i = 0; i < vw->n; i++)
		for (j = 0; j < vw->v[i]->npeaks; j++)
			if (vw->v[i]->peaks[j].rule == rule && vw->v[i]->peaks[j].win == win) {
				b = bin_of(vw->v[i]->peaks[j].peak);
				count[b]++;
				if (b + 1 > nb)
					nb = b + 1;
			}
	for (b = 0; b < nb; b++)
		if (count[b] > most)
			most = count[b];
	bw = (double)(HW - 50) / nb;
	fprintf(fp, "<svg class=\"hist\" viewBox=\"0 0 %d %d\" role=\"img\">\n", HW, HH);
	for (b = 0; b < nb; b++) {
		long lo = 1L << b, hi = (1L << (b + 1)) - 1;
		double h = (double)count[b] / (double)most * (HH - 50);

		x = 40 + b * bw;
		fprintf(fp,
		    "<rect class=\"bar%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
		    "<title>peak %ld to %ld: %ld identit%s</title></rect>\n",
		    lo > win->threshold ? " over" : "", x + 1, HH - 30 - h, bw - 2, h, lo, hi,
		    count[b], count[b] == 1 ? "y" : "ies");
		if (count[b] > 0)
			fprintf(fp, "<text class=\"count\" x=\"%.1f\" y=\"%.1f\">%ld</text>\n",
			    x + bw / 2, HH - 34 - h, count[b]);
		fprintf(fp, "<text class=\"xlab\" x=\"%.1f\" y=\"%d\">%ld</text>\n", x + bw / 2,
		    HH - 14, lo);
	}
	b = bin_of(win->threshold);
	x = 40 + (b + (double)(win->threshold - (1L << b) + 1) / (double)(1L << b)) * bw;
	/* the label right of the line, or left of it near the right edge */
	fprintf(fp,
	    "<line class=\"threshold\" x1=\"%.1f\" x2=\"%.1f\" y1=\"10\" y2=\"%d\"/>"
	    "<text class=\"thlab%s\" x=\"%.1f\" y=\"12\">threshold %ld</text>\n</svg>\n",
	    x, x, HH - 30, x > HW - 130 ? " left" : "", x > HW - 130 ? x - 4 : x + 4,
	    win->threshold);
}
