/*
 * NAME
 *	report_html - the audit report as one self-contained HTML page
 * SUMMARY
 *	report_html_print() writes `audit --format html`: the input summary
 *	and interval; a rate plot for each identity that crossed a limit
 *	(at most REPORT_HTML_FLAGGED of them, the highest percentage of a
 *	threshold first) and for the REPORT_HTML_CLOSE that came closest
 *	without crossing; the overrun table; the top identities of each kind
 *	with their client IPs; a histogram of the per-identity peaks of
 *	every rule and window.  The page carries its own style sheet
 *	(with print rules) and draws its plots as inline SVG
 *	(count/report_svg.c): no script, no external style sheet, font or
 *	image, nothing fetched.  The report's filter (--top, --over-only,
 *	--identity) applies as in every format.  The plots come from a
 *	second pass over the stored messages (count/series.h, which states
 *	its memory bound).
 * RETURNS
 *	0, or -1 with a message in err (out of memory, the store, a write
 *	error of fp); never prints on its own, never exits.
 * UNTRUSTED INPUT
 *	Identities and queue IDs come from the log: every one goes out
 *	through util/esc (ESC_HTML), so a login such as
 *	"<script>...</script>" or one with quotes or control bytes is text
 *	on the page, never markup.
 */
#ifndef SG_REPORT_HTML_H
#define SG_REPORT_HTML_H

#include <stdio.h>

#include "count/limits.h"
#include "count/report.h"
#include "store/store.h"

#define REPORT_HTML_FLAGGED 40 /* rate plots of identities over a limit, at most */
#define REPORT_HTML_CLOSE 5    /* and of those closest to one without crossing */
#define REPORT_HTML_TOP 10     /* identities per kind in the top table */

/*
 * report_html_print - the page for r (the peaks of l, the messages of
 * st for the plots; st NULL: no plots) with the totals t, on fp
 */
int report_html_print(struct report *, struct limits *l, struct store *st,
    const struct report_totals *t, FILE *fp, char *err, size_t errlen);

#endif
