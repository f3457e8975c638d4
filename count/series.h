/*
 * NAME
 *	series - the window counts of a few identities over time, for the
 *	HTML report's rate plots
 * SUMMARY
 *	series_collect() makes a second pass over the messages the audit
 *	stored (store_each_message, in time order) after the report is
 *	known, so it needs to keep nothing during the audit for identities
 *	that turn out not to matter.  It replays every message of each
 *	wanted identity through a limits object of that identity's own, with
 *	the audit's configuration, and simulates blocks and re-arming as the
 *	pipeline does (an overrun of an identity that is not blocked blocks
 *	it for the rule's block_time, grown by block_time_factor), so the
 *	values are the ones the audit judged.  After each such message it
 *	reads the value of every window of every rule counting the identity.
 *
 *	Memory is bounded whatever the log holds: each (identity, rule,
 *	window) keeps SERIES_COLUMNS columns over [t0, t1]; a column keeps
 *	the highest value in it (with its time and queue ID) and the times
 *	of its first and last message.  At most SERIES_IDS_MAX identities.
 *	So the series take at most SERIES_IDS_MAX x (windows of the rules)
 *	x SERIES_COLUMNS x sizeof(struct series_col); the replay's limits
 *	hold, like the audit's, the wanted identities' messages inside the
 *	longest window.
 * RETURNS
 *	0, or -1 with a message in err; never prints or exits.
 * UNTRUSTED INPUT
 *	Identities and queue IDs read back from the store, kept as bytes:
 *	the HTML printer escapes them.
 */
#ifndef SG_SERIES_H
#define SG_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "count/conf.h"
#include "parsers/pf.h"
#include "store/store.h"

#define SERIES_COLUMNS 360
#define SERIES_IDS_MAX 64

/* One column: the highest value of the window in it, and where. */
struct series_col {
	int64_t t;           /* time of the message with the highest value */
	int64_t first, last; /* its first and last message in the column */
	long value;          /* 0: no message of the identity in the column */
	char qid[PF_QID_MAX + 1];
};

struct series {
	size_t id; /* index into the identities given */
	const struct conf_rule *rule;
	const struct conf_window *win;
	struct series_col col[SERIES_COLUMNS];
};

struct series_set {
	int64_t t0, t1; /* the time span of the columns */
	struct series *s;
	size_t n, cap;
};

/*
 * series_collect - the series of ids[0..nids) (at most SERIES_IDS_MAX,
 * the rest ignored) over [t0_us, t1_us], from the messages in st counted
 * with conf.  out is emptied first.
 */
int series_collect(const struct conf *, struct store *st, const char *const *ids, size_t nids,
    int64_t t0_us, int64_t t1_us, struct series_set *out, char *err, size_t errlen);
/* series_col_of - the column of time t in set */
size_t series_col_of(const struct series_set *, int64_t t_us);
void series_free(struct series_set *);

#endif
