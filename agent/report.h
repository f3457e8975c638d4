/*
 * NAME
 *	report - the audit report: per-identity totals, peaks and overruns
 * SUMMARY
 *	report_message() adds an accepted message to every identity it has
 *	(exempt identities are left out); report_overrun() records a verdict;
 *	report_print() writes the report as an aligned table (80 columns),
 *	JSON (SPEC.md shape) or CSV (the same fields, one record per row).
 * UNTRUSTED INPUT
 *	Identities come from the log: JSON and CSV quote them, the table
 *	shows control and non-ASCII bytes as \xNN so a hostile login cannot
 *	drive the terminal.
 */
#ifndef SG_REPORT_H
#define SG_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "agent/conf.h"
#include "agent/limits.h"
#include "agent/track.h"

enum report_format { REPORT_TABLE = 0, REPORT_JSON, REPORT_CSV };

/* Input totals the report prints in its head. */
struct report_totals {
	uint64_t lines, unparsed, too_long;
	int64_t	first_us, last_us;		/* INT64_MIN when none */
	const struct track_stats *track;
};

struct report;

struct report *report_new(const struct conf *);
void	report_free(struct report *);
int	report_message(struct report *, const struct track_msg *);
int	report_overrun(struct report *, const struct limits_verdict *);
size_t	report_overruns(const struct report *);
int	report_print(struct report *, struct limits *, const struct report_totals *,
		     enum report_format, FILE *);

#endif
