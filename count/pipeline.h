/*
 * NAME
 *	pipeline - one log line through parse -> track -> limits -> store
 * SUMMARY
 *	The spine shared by `audit` and `run`: pipeline_line() parses a
 *	line, resolves its time with the caller's per-file clock (a struct
 *	pf_clock made with pf_clock_init(); count/zone.h's zone_local gives
 *	it the process's local time), feeds the tracker, and for each
 *	accepted message the tracker emits: filters it by --since/--until,
 *	stores it, adds it to the report and to the limits; each delivery
 *	outcome likewise (filtered by its delivery line's time, stored only
 *	when keep_outcomes is set: the daemon's store, audit's --state);
 *	each verdict begins a block when its identity is not blocked yet,
 *	and is stored, reported and passed to on_verdict.  PF_HOLD and PF_RELEASE lines go
 *	to on_event.  Store writes are grouped into one transaction per
 *	PIPELINE_BATCH messages, unless the caller runs its own
 *	(external_txn: the daemon commits one per batch of lines).
 *	pipeline_entry() is the same for a journal entry: its time is given,
 *	its text goes to the body parser with the header's fields as the
 *	journal has them (pf_parse_text()), and an entry whose sender the
 *	journal shows is not Postfix is counted in `untrusted`, never read.
 *	A cluster node also puts each stored message into the store's outbox
 *	(outbox), in the same transaction, and counts the other nodes'
 *	messages with pipeline_remote().
 *	Errors (out of memory, store failure) are latched in pl->failed with
 *	a message in pl->err; the caller checks after each file or batch.
 *
 *	Log time is not trusted blindly.  A line stamped more than
 *	max_clock_skew (conf) ahead of the clock does not move any clock
 *	(the tracker's, the windows', first/last): it is counted at the time
 *	of the line before it (dropped when there is none) and counted in
 *	future_lines; its year inference does not move the file's clock.
 *	Which clock: live (the daemon, no report) the wall clock when the
 *	line is read.  Replay (audit, a report given) the audit's wall clock
 *	and the log itself: a line more than max_clock_skew ahead of the
 *	newest line counted so far is held back with the lines after it, up
 *	to PIPELINE_LOOKAHEAD timed ones, and is future-dated unless more
 *	than half of those are at or after its time less max_clock_skew (a
 *	real gap in the log is followed by lines of its new time, a forged
 *	line by lines of the old one); at the end of the input, the lines
 *	there are vote.  So one bad line, or up to half the look-ahead in a
 *	row, cannot move the clock; an ordinary log, whose lines only go
 *	forward, is never held back or changed.
 */
#ifndef SG_PIPELINE_H
#define SG_PIPELINE_H

#include <stdint.h>

#include "count/conf.h"
#include "count/limits.h"
#include "count/msgid.h"
#include "count/report.h"
#include "count/track.h"
#include "count/zone.h"
#include "parsers/pf.h"
#include "store/store.h"

#define PIPELINE_BATCH 5000  /* messages per store transaction */
#define PIPELINE_LOOKAHEAD 8 /* timed lines that vote on a line ahead of the log (replay) */

struct pipeline_pend; /* a line held back for the look-ahead (pipeline.c) */

struct pipeline {
	const struct conf *conf;
	struct pf_parser *parser;
	struct track *track;
	struct limits *limits;
	struct store *store;        /* may be NULL */
	struct report *report;      /* may be NULL */
	int64_t since_us, until_us; /* INT64_MIN / INT64_MAX: no bound */
	void (*on_verdict)(void *ctx, const struct limits_verdict *);
	void (*on_message)(void *ctx, const struct track_msg *);     /* after it is stored */
	void (*on_outcome)(void *ctx, const struct track_outcome *); /* likewise */
	void (*on_event)(void *ctx, const struct pf_event *,
	    int64_t time_us); /* PF_HOLD, PF_RELEASE */
	void *ctx;
	/* counters */
	uint64_t lines, unparsed, messages, verdicts;
	uint64_t untrusted; /* journal entries under a Postfix name from another sender */
	int64_t first_us, last_us;
	/*
	 * The lines inside [since_us, until_us], for audit's report head.  A
	 * line with a time is inside when its time is.  A line without one
	 * (unparsed, a journal marker) is inside when the nearest timed lines
	 * before and after it both are; at the start or end of the input the
	 * one timed line beside it decides.  in_first_us/in_last_us (earliest
	 * and latest time inside) are valid only when in_lines > 0.
	 */
	uint64_t in_lines, in_unparsed;
	int64_t in_first_us, in_last_us;
	uint64_t in_gap_lines, in_gap_unparsed; /* untimed lines since the last timed one */
	int in_prev;      /* last timed line: 0 none yet, 1 inside, 2 outside */
	struct msgid ids; /* the identities of the message at hand */
	/* time not trusted blindly (see above) */
	int64_t max_skew_us;        /* 0: log time trusted */
	int replay;                 /* judge against the log as well (audit) */
	int64_t replay_wall_us;     /* the wall clock of a replay, taken once */
	uint64_t future_lines;      /* lines counted at the time of the line before */
	int64_t future_max_us;      /* the furthest stamp of those (INT64_MIN: none) */
	int64_t prev_us;            /* time of the last line counted (INT64_MIN: none) */
	struct pipeline_pend *pend; /* held back, oldest first (replay) */
	size_t npend, cappend, pendbytes;
	/* batching and errors */
	int in_txn;
	int external_txn;  /* the caller begins and commits (daemon) */
	int keep_outcomes; /* store delivery outcomes (an in-memory audit store needs none) */
	int outbox;        /* a cluster node: each stored message also into the outbox */
	unsigned batch;
	int failed;
	char err[512];
};

/*
 * pipeline_init - 0, or -1 with err; store and report may be NULL.  With
 * a report the pipeline replays (audit: see "Log time" above) and hands
 * the report the peaks of the states the limits free.
 */
int pipeline_init(struct pipeline *, const struct conf *, struct store *, struct report *,
    char *err, size_t errlen);
void pipeline_line(struct pipeline *, struct pf_clock *, const char *line, size_t len);
/*
 * pipeline_line_parsed - pipeline_line() for a line whose parse was made
 * already (on another thread: count/prefetch.h): ev is what pf_parse()
 * gave for line[0..len) with a parser of pipeline_parser_new(), its
 * strings pointing into line.  Everything after the parse (the clock,
 * the look-ahead, which re-parses a held line with pl's own parser, the
 * tracker, limits, report and store) is as in pipeline_line(), so the
 * same lines give the same counts whichever thread parsed them.
 */
void pipeline_line_parsed(struct pipeline *, struct pf_clock *, const char *line, size_t len,
    const struct pf_event *ev);
/* pipeline_parser_new - a parser as pipeline_line()'s own (lean); NULL with err */
struct pf_parser *pipeline_parser_new(char *err, size_t errlen);
/*
 * pipeline_entry - one journal entry (one line of the counts) at time_us
 * (__REALTIME_TIMESTAMP): text[0..len) (MESSAGE, NULL when absent) as the
 * program of o logged it.  untrusted: its SYSLOG_IDENTIFIER names a
 * Postfix program but its trusted fields show another sender; it is
 * counted in pl->untrusted and goes no further.
 */
void pipeline_entry(struct pipeline *, int64_t time_us, const struct pf_origin *o, const char *text,
    size_t len, int untrusted);
/*
 * pipeline_remote - a message another node of the cluster accepted: it
 * counts in the limits as a local one does, and its verdicts go the same
 * way (a block begins, the verdict is stored and reaches on_verdict);
 * it is not stored as this node's message, not reported and not passed
 * to on_message (it is in another host's queue).  Errors latch in pl.
 */
void pipeline_remote(struct pipeline *, const struct track_msg *m);
/* pipeline_finish - emit held-back messages, commit; 0 or -1 (pl->err) */
int pipeline_finish(struct pipeline *);
void pipeline_free(struct pipeline *);

/*
 * pipeline_rebuild_blocks - the blocks the stored verdicts began, replayed
 * in their order into l (monitor mode, where no block is stored: without
 * them a restarted daemon's windows would not re-arm where the running
 * one's did); the number of verdicts replayed, or -1 (err set)
 */
int64_t pipeline_rebuild_blocks(struct limits *l, const struct conf *conf, struct store *s,
    char *err, size_t errlen);
/* pipeline_max_window - the longest window of any rule, microseconds (0: none) */
int64_t pipeline_max_window(const struct conf *);

/*
 * pipeline_rebuild - refill l from the stored messages accepted at or after
 * since_us and the stored bounces logged at or after it, raising no
 * verdict (they were raised and stored before).  Returns the number of
 * messages read, or -1 with err.
 */
int64_t pipeline_rebuild(struct limits *l, struct store *s, int64_t since_us, char *err,
    size_t errlen);

#endif
