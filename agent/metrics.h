/*
 * NAME
 *	metrics - the daemon's Prometheus text file (metrics_file)
 * SUMMARY
 *	metrics_verdict() counts the daemon's verdicts by rule as they come;
 *	metrics_write() gathers the rest when it is called (every
 *	METRICS_INTERVAL_MS from the daemon's loop) and replaces the file
 *	atomically (a temporary file in the same directory, mode 0644 so
 *	that node_exporter's textfile collector can read it, then rename):
 *	lines read and unparsed, messages counted, verdicts by rule, blocks
 *	in force, messages on hold, program runs and failures by action,
 *	untrusted and future-stamped lines, the lag of the log behind the
 *	wall clock, and the METRICS_TOP identities of each rule and window
 *	with the highest count in the window ending now (bounded
 *	cardinality: rules x windows x METRICS_TOP series), with the
 *	thresholds.  Counters count from the daemon's start.
 * RETURNS
 *	metrics_write: 0, or -1 with a message in err (the caller logs it);
 *	never prints, never exits.
 * UNTRUSTED INPUT
 *	Identities (from the log) become label values, escaped through
 *	util/esc (ESC_PROM): a quote, a backslash, a newline or a byte that
 *	is not UTF-8 cannot break the format.
 */
#ifndef SG_METRICS_H
#define SG_METRICS_H

#include <stdint.h>

#include "count/conf.h"
#include "count/limits.h"
#include "count/pipeline.h"
#include "store/store.h"

#define METRICS_INTERVAL_MS 15000
#define METRICS_TOP 10

struct metrics;

/* What metrics_write reads, at the moment it is called. */
struct metrics_input {
	const struct conf *conf;
	const struct pipeline *pl; /* lines, unparsed, messages, last log time */
	struct limits *limits;
	struct store *store;        /* blocks, holds, the action log */
	int64_t now_us;             /* the wall clock */
	uint64_t untrusted, future; /* lines refused as untrusted, stamped in the future */
};

struct metrics *metrics_new(void);
void metrics_free(struct metrics *);
/* metrics_verdict - one more verdict of rule */
void metrics_verdict(struct metrics *, const char *rule);
/* metrics_write - replace path with the metrics of in */
int metrics_write(struct metrics *, const char *path, const struct metrics_input *in, char *err,
    size_t errlen);

#endif
