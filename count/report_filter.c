/*
 * NAME
 *	report_filter - which identities and overruns the report shows
 * SUMMARY
 *	report_filter_view() narrows a sorted view (count/report_priv.h) by
 *	the filter of report_set_filter(): --identity ID (those named),
 *	--over-only (those with an overrun) and --top N (the N whose highest
 *	peak is the largest percentage of its threshold; identities that no
 *	limit counts come after every one that a limit counts, by messages).
 *	The overruns kept are those of the identities kept, so every format
 *	shows the same rows.
 * RETURNS
 *	0, or -1 when memory runs out; never prints or exits.
 * UNTRUSTED INPUT
 *	Identities from the log are only compared with the ones the caller
 *	validated (util/ident), byte for byte.
 */
#include <stdlib.h>
#include <string.h>

#include "count/report_priv.h"

/* ident_pct - the highest peak of ri as a percentage of its threshold; -1 when it has none */
static double
ident_pct(const struct rident *ri)
{
	double best = -1, p;
	size_t i;

	for (i = 0; i < ri->npeaks; i++) {
		p = (double)ri->peaks[i].peak * 100.0 / (double)ri->peaks[i].win->threshold;
		if (p > best)
			best = p;
	}
	return (best);
}

/* report_rank_cmp - the highest percentage of a threshold first, then most messages, then by name */
int
report_rank_cmp(const void *a, const void *b)
{
	const struct rident *x = *(struct rident *const *)a, *y = *(struct rident *const *)b;

	if (x->pct != y->pct)
		return (x->pct > y->pct ? -1 : 1);
	if (x->messages != y->messages)
		return (x->messages > y->messages ? -1 : 1);
	return (strcmp(x->name, y->name));
}

/* named - id is one of the identities of the filter */
static int
named(const struct report *r, const char *id)
{
	size_t i;

	for (i = 0; i < r->nids; i++)
		if (strcmp(r->ids[i], id) == 0)
			return (1);
	return (0);
}

int
report_filter_view(const struct report *r, struct rview *vw)
{
	struct rident *ri;
	size_t i, n;

	for (i = 0; i < vw->n; i++) {
		vw->v[i]->pct = ident_pct(vw->v[i]);
		vw->v[i]->noverruns = 0;
		vw->v[i]->shown = 0;
	}
	for (i = 0; i < vw->nov; i++)
		if ((ri = hmap_get(r->idents, vw->ov[i]->identity, strlen(vw->ov[i]->identity))) !=
		    NULL)
			ri->noverruns++;
	for (i = 0, n = 0; i < vw->n; i++) {
		ri = vw->v[i];
		if ((r->nids > 0 && !named(r, ri->name)) || (r->over_only && ri->noverruns == 0))
			continue;
		vw->v[n++] = ri;
	}
	vw->n = n;
	if (r->top > 0) {
		if (vw->n > 1)
			qsort(vw->v, vw->n, sizeof(struct rident *), report_rank_cmp);
		if (vw->n > r->top)
			vw->n = r->top;
		vw->ranked = 1;
	}
	for (i = 0; i < vw->n; i++)
		vw->v[i]->shown = 1;
	for (i = 0, n = 0; i < vw->nov; i++) {
		ri = hmap_get(r->idents, vw->ov[i]->identity, strlen(vw->ov[i]->identity));
		if (ri != NULL && ri->shown)
			vw->ov[n++] = vw->ov[i];
	}
	vw->nov = n;
	return (0);
}
