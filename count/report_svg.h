/*
 * NAME
 *	report_svg - the drawings of the HTML report, as inline SVG
 * SUMMARY
 *	report_svg_plot() draws one identity's rate plot: the value of each
 *	of its windows over time as a percentage of the window's threshold
 *	(so windows of any length and threshold share one axis), the
 *	threshold as a dashed line at 100 %, its overruns as red rings, and
 *	a hover title (<title>) on every point with the time, the count
 *	against the threshold, the window and the queue ID.
 *	report_svg_hist() draws the histogram of the per-identity peaks of
 *	one (rule, window) in bins that double (1, 2-3, 4-7, ...), with the
 *	threshold marked.  Both are drawn by sendguard itself: no script, no
 *	external resource.
 * RETURNS
 *	Nothing; they write to fp (its error flag tells).
 * UNTRUSTED INPUT
 *	Identities, rule names and queue IDs go out through util/esc
 *	(ESC_HTML), numbers are formatted by sendguard.
 */
#ifndef SG_REPORT_SVG_H
#define SG_REPORT_SVG_H

#include <stdio.h>

#include "count/report_priv.h"
#include "count/series.h"

/* The colours of the windows in a plot and its legend, by series order. */
#define REPORT_SVG_NCOLORS 6
extern const char *const report_svg_colors[REPORT_SVG_NCOLORS];

/* report_svg_plot - the plot of identity number id of set, with ri's overruns from vw */
void report_svg_plot(FILE *fp, const struct series_set *set, size_t id, const struct rident *ri,
    const struct rview *vw);

/* report_svg_hist - the histogram of the peaks of (rule, win) among the identities of vw */
void report_svg_hist(FILE *fp, const struct rview *vw, const struct conf_rule *rule,
    const struct conf_window *win);

/* report_svg_html - s escaped for HTML text or a quoted attribute (util/esc, ESC_HTML) */
void report_svg_html(FILE *fp, const char *s);

#endif
