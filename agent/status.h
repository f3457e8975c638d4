/*
 * NAME
 *	status - what `sendguard status` shows, from the daemon or the database
 * SUMMARY
 *	status_print() writes the blocks in force, the mail still on hold
 *	after its block ended, the actions failing or failed (all from the
 *	store), every (identity, rule, window) whose value in the window
 *	ending at now is non-zero (from the limits) and, in a cluster, the
 *	link to PostgreSQL, the nodes and which nodes each count is made of,
 *	as JSON (SPEC.md shape) or as text for a terminal.  The daemon calls it to answer the
 *	control socket; cmd_status() (agent/cmd_status.c) asks the daemon,
 *	or, when none runs, rebuilds the windows read-only from the state
 *	database and calls it itself.
 * UNTRUSTED INPUT
 *	Identities and outcomes (from the log, through the store): written
 *	with util/esc on the terminal and as JSON strings otherwise.
 */
#ifndef SG_STATUS_H
#define SG_STATUS_H

#include <stdint.h>
#include <stdio.h>

#include "cluster/cluster.h"
#include "count/conf.h"
#include "count/limits.h"
#include "store/store.h"

struct status_info {
	int running; /* 1: the daemon answers; 0: read from the database */
	long pid;
	const char *log;
	const char *state;
	uint64_t lines;  /* lines read since start */
	int64_t last_us; /* newest log time seen, INT64_MIN if none */
	const char *mode;
	const char *source;        /* "file", "journal" or "stdin"; NULL: not known */
	int has_pos;               /* a position is known: dev/ino/offset, or cursor */
	uint64_t dev, ino, offset; /* a file: where the daemon reads */
	const char *cursor;        /* the journal: its cursor ("": only a time) */
	int64_t pos_us;            /* the time of the line or entry it stands after, or INT64_MIN */
	uint64_t untrusted;        /* journal entries not counted since the daemon started */
	uint64_t future_lines;     /* lines stamped ahead of the clock (running only) */
	const char *cluster_node;  /* [cluster]: this node; NULL: no cluster */
	const struct cluster_info *cluster; /* the daemon's link (NULL: not running) */
};

/* status_print - st (may be NULL) gives the blocked identities and failing actions */
int status_print(FILE *, struct limits *, struct store *st, int64_t now_us,
    const struct status_info *, int json);

/*
 * status_now - the end of the windows: the later of the clock and the log;
 * the log's is the newest line counted, never a future-dated one
 */
int64_t status_now(int64_t last_log_us);

#endif
