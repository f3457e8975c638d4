/*
 * NAME
 *	report - the audit report: per-identity totals, peaks and overruns
 * SUMMARY
 *	report_message() adds an accepted message to every identity it has
 *	(exempt identities are left out): its recipients, its client IP (each
 *	address with its messages and first and last time) and its envelope
 *	sender (distinct senders, the null sender left out);
 *	report_outcome() adds a delivery outcome (delivered, deferred
 *	attempts, bounced recipients) to the identities of its message;
 *	report_overrun() records a verdict;
 *	report_print() writes the report as an aligned table (80 columns),
 *	JSON (SPEC.md shape) or CSV (the same fields, one record per row).
 *	With --since/--until the head (table and JSON) shows the interval and
 *	the totals inside it, and the whole input's totals beside them.
 *	JSON always carries "untrusted" (journal entries not counted); the
 *	table shows it when a journal was read.
 *	report_set_filter() narrows the identities and overruns shown
 *	(--top, --over-only, --identity; count/report_filter.c).
 *	report_parse_time() reads a --since/--until bound, relative to a
 *	"now" the caller passes in (so it can be tested with a fixed clock).
 * UNTRUSTED INPUT
 *	Identities come from the log and go out through util/esc: JSON and
 *	CSV quote them, the table shows control and non-ASCII bytes and the
 *	backslash as \xNN so a hostile login cannot drive the terminal.
 */
#ifndef SG_REPORT_H
#define SG_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "count/conf.h"
#include "count/limits.h"
#include "count/msgid.h"
#include "count/track.h"

/* REPORT_HTML is printed by report_html_print() (count/report_html.h), not report_print(). */
enum report_format { REPORT_TABLE = 0, REPORT_JSON, REPORT_CSV, REPORT_HTML };

/*
 * What the report shows, in every format (the head's totals and the exit
 * code always cover everything): top > 0 keeps the top identities with
 * the highest peak as a percentage of a threshold (then, for identities
 * no limit counts, the most messages), in that order; over_only keeps the
 * identities with an overrun; ids (nids of them, validated and folded by
 * the caller, util/ident) keeps only those.  The overruns shown are those
 * of the identities kept.
 */
struct report_filter {
	size_t top;
	int over_only;
	const char *const *ids;
	size_t nids;
};

/* Input totals the report prints in its head. */
struct report_totals {
	uint64_t lines, unparsed, too_long; /* the whole input */
	/*
	 * untrusted: journal entries under a Postfix name whose trusted
	 * fields show another sender (never counted), over the whole input;
	 * journal: a journal was read (the table then shows untrusted)
	 */
	uint64_t untrusted;
	int journal;
	int64_t first_us, last_us; /* INT64_MIN when none */
	const struct track_stats *track;
	/*
	 * interval: --since or --until was given.  since_us/until_us are the
	 * bounds (INT64_MIN / INT64_MAX: open), the in_ fields the totals
	 * inside them: lines, unparsed lines, messages counted, and the first
	 * and last line time (INT64_MIN when no line is inside).
	 */
	int interval;
	int64_t since_us, until_us;
	uint64_t in_lines, in_unparsed, in_counted;
	int64_t in_first_us, in_last_us;
};

struct report;

struct report *report_new(const struct conf *);
void report_free(struct report *);
int report_message(struct report *, const struct track_msg *);
/*
 * report_message_ids - report_message with m's identities made once by
 * the caller (count/msgid.h); idh[k] is the hmap_hash of identity k, 0
 * where the caller has not taken it: those the report takes are left
 * there for the next user of the same identities (limits_message_ids)
 */
int report_message_ids(struct report *, const struct track_msg *, const struct msgid *,
    uint64_t idh[BY_COUNT]);
/*
 * report_message_refs - report_message_ids that also sets ref[k] to the
 * struct limits_ref the report keeps in identity k's row (NULL where it
 * has no row of it), for limits_message_refs: the identity table of the
 * report is then the limits' too, and a message's identities are looked
 * up once for both
 */
int report_message_refs(struct report *, const struct track_msg *, const struct msgid *,
    uint64_t idh[BY_COUNT], struct limits_ref *ref[BY_COUNT]);
int report_outcome(struct report *, const struct track_outcome *);
int report_overrun(struct report *, const struct limits_verdict *);
/*
 * report_peak - a window's peak for the report (ctx is the report): the
 * limits hand over the peaks of the states they free (limits_set_retire),
 * report_print() those of the states still held; per identity, rule and
 * window the highest is kept, the earliest of equal ones
 */
void report_peak(void *ctx, const struct limits_peak *);
size_t report_overruns(const struct report *);
/* report_future_line - one more line counted at the time of the line before (see pipeline.h) */
void report_future_line(struct report *);
/* report_set_filter - set before printing; the ids are copied.  0, or -1 on ENOMEM */
int report_set_filter(struct report *, const struct report_filter *);
/*
 * report_print - the report in fmt on fp, with the peaks of l (which
 * counts with the configuration the report was made with; NULL: none).
 * 0, or -1 when fp reports a write error or memory runs out.
 */
int report_print(struct report *, struct limits *, const struct report_totals *, enum report_format,
    FILE *);

/*
 * report_parse_time - a --since/--until argument T into *out (microseconds
 * since the epoch).  T is RFC 3339 (2026-11-27T17:20:00Z, with a fraction,
 * which is ignored, or an offset: +01:00), a local date and time
 * (2026-11-27 17:20[:00]) or date (2026-11-27: its local midnight), or
 * relative to now_us: "today" (local midnight of now), "yesterday" (local
 * midnight of the day before) or -N followed by a unit s, m, h or d (now
 * minus exactly that many seconds; -7d is 604800 s even across a change
 * of daylight saving time).  Local means the TZ of the process.
 * Returns 0, or -1 with a message in err (the argument quoted, not the
 * option: the caller names that).
 */
int report_parse_time(const char *s, int64_t now_us, int64_t *out, char *err, size_t errlen);

#endif
