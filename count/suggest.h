/*
 * NAME
 *	suggest - limits suggested from history (`audit --suggest`)
 * SUMMARY
 *	suggest_message() takes every message the audit counts (from the
 *	pipeline's on_message), suggest_outcome() every delivery outcome
 *	(on_outcome: the bounces); suggest_print() then writes, for each
 *	identity kind that had traffic, the distribution of the
 *	per-identity peaks in 1h and 1d windows (p50, p90, p99, max) and a
 *	[limit suggested_KIND] section, as an agent.conf snippet whose
 *	comments explain every number.
 *
 *	The method (also in sendguard(8)).  For each identity the peaks are
 *	exact sliding-window values (count/limits, the same code that
 *	enforces).  Its usual rate in a window length W is the median of
 *	its message counts over the aligned W-long buckets in which it
 *	sent anything (known from SUGGEST_MIN_BUCKETS such buckets on; a
 *	log too short for that leaves only the crowd to judge).  The crowd's
 *	rate is the 90th percentile of the peaks of the kind.  An identity
 *	is an outlier when its message peak in 1h or in 1d is more than
 *	SUGGEST_FACTOR times the larger of its own usual rate and the
 *	crowd's: a burst far above both.  Every threshold is then put above
 *	the highest peak of the identities that are not outliers, with
 *	SUGGEST_HEADROOM to spare and rounded up, but below the lowest peak
 *	of the outliers, so that in the history given every outlier crosses
 *	and no other identity does.  When no such number exists (a normal
 *	identity peaks above an outlier) the outliers win, and the comments
 *	name the normal identities that would be flagged.
 *
 *	Limit kinds are rows of a table (suggest.c): messages, recipients,
 *	distinct client IPs for logins, distinct envelope senders (all kinds
 *	but sender) and bounced recipients; a new kind of limit that
 *	count/limits computes is one more row.  A senders or bounces row is
 *	suggested only for the kinds where some identity had one (an
 *	identity without bounces has no peak to put among the others).
 *
 *	Memory: the peaks use a limits object like the audit's (the
 *	messages of each identity inside 1d); the usual rates keep, per
 *	identity and window length, a histogram of SUGGEST_BINS counters.
 * RETURNS
 *	0, or -1 (out of memory, a write error); never prints on its own,
 *	never exits.
 * UNTRUSTED INPUT
 *	Identities from the log appear only in comments, escaped with
 *	util/esc (ESC_VIS): no byte of them can end the comment's line.
 */
#ifndef SG_SUGGEST_H
#define SG_SUGGEST_H

#include <stdint.h>
#include <stdio.h>

#include "count/conf.h"
#include "count/track.h"

#define SUGGEST_FACTOR 3      /* an outlier's peak: above this times the usual rates */
#define SUGGEST_HEADROOM 1.25 /* a threshold: this much above the normal peaks */
#define SUGGEST_MIN_BUCKETS 4 /* active buckets before an identity's own rate is known */
#define SUGGEST_BINS 64       /* histogram of an identity's bucket counts */

struct suggest;

/* suggest_new - conf gives the [exempt] identities left out (it must outlive s); NULL: ENOMEM */
struct suggest *suggest_new(const struct conf *);
void suggest_free(struct suggest *);
int suggest_message(struct suggest *, const struct track_msg *);
int suggest_outcome(struct suggest *, const struct track_outcome *);
int suggest_print(struct suggest *, FILE *);

#endif
