/*
 * NAME
 *	limits - exact sliding-window sums per (rule, identity)
 * SUMMARY
 *	limits_message() adds one accepted message to every rule that applies
 *	to one of its identities (by = sasl|uid|sender|ip, match globs,
 *	[exempt] skipped) and, for each window of the rule, computes over the
 *	log's own timestamps the messages, recipients or distinct client IPs
 *	in (t - W, t], where t is the message's time and only messages seen so
 *	far count.  When that value goes from at or below the threshold to
 *	above it, the message is an overrun and the verdict callback runs.
 *	The peak value of each window and when it happened are kept for the
 *	report.  A message older than the newest one of its identity (clock
 *	skew, a late hand-off decision) is inserted in time order and judged
 *	by the same rule at the moment it is seen.
 *	State of an identity whose windows are all empty is freed by
 *	limits_prune().
 */
#ifndef SG_LIMITS_H
#define SG_LIMITS_H

#include <stdint.h>

#include "agent/conf.h"
#include "agent/source.h"
#include "agent/track.h"

/* longest "kind:value" identity (a value can be as long as a log line) */
#define SG_IDENT_KEY_MAX (SOURCE_LINE_MAX + 16)

struct limits_verdict {
	const char *identity;			/* "sasl:alice@example.com" */
	const struct conf_rule *rule;
	const struct conf_window *win;
	long	count;				/* value after this message */
	int64_t	time_us;
	const char *queue_id;
};

typedef void (*limits_verdict_fn)(void *ctx, const struct limits_verdict *);

/* One peak, for limits_each_peak(). */
struct limits_peak {
	const char *identity;
	const struct conf_rule *rule;
	const struct conf_window *win;
	long	peak;
	int64_t	at_us;
};

struct limits;

/* limits_new - the config must outlive the limits; NULL on ENOMEM */
struct limits *limits_new(const struct conf *);
void	limits_free(struct limits *);

/* limits_ident - "kind:value" for message m and kind by into buf; NULL if m has none */
const char *limits_ident(const struct track_msg *, enum conf_by, char *buf, size_t len);

/* limits_message - count m; returns the number of verdicts raised, -1 on ENOMEM */
int	limits_message(struct limits *, const struct track_msg *m,
		       limits_verdict_fn cb, void *ctx);

/* limits_each_peak - every (identity, rule, window) with a non-zero peak */
void	limits_each_peak(struct limits *, void (*cb)(void *ctx,
			 const struct limits_peak *), void *ctx);

/* One current value, for limits_each_count(). */
struct limits_count {
	const char *identity;
	const struct conf_rule *rule;
	const struct conf_window *win;
	long	count;				/* value in (now - W, now] */
};

/* limits_each_count - every (identity, rule, window) whose value at now_us is non-zero */
void	limits_each_count(struct limits *, int64_t now_us, void (*cb)(void *ctx,
			  const struct limits_count *), void *ctx);

/* limits_prune - free state whose windows are all empty at time now_us */
void	limits_prune(struct limits *, int64_t now_us);
size_t	limits_size(const struct limits *);

#endif
