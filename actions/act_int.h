/*
 * NAME
 *	act_int - what the modules of actions/ share: struct act
 * SUMMARY
 *	Private to actions/ (act.c decides, job.c queues and runs, hold.c,
 *	map.c, notify.c and exec.c make the runs of each action); nothing
 *	outside actions/ includes it.  Each module keeps its own part of the
 *	state in a struct of its header (struct jobs, struct maps) and is
 *	the only one that changes it.
 */
#ifndef SG_ACT_INT_H
#define SG_ACT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "actions/act.h"
#include "actions/job.h"
#include "actions/map.h"
#include "actions/run.h"
#include "util/buf.h"
#include "util/hmap.h"

#define ACT_TEXT_MAX ((size_t)64 * 1024) /* a decision's text, a report, a notice's outcomes */
#define ACT_SAY_MAX 2048                 /* one log line */
#define ACT_ID_VIS 256                   /* an identity shown in a log line */

struct act {
	struct runner *runner; /* loop-driven (daemon) or synchronous (tools) */
	struct store *store;
	const struct conf *conf;
	act_log_fn log;
	void *lctx;
	struct act_hooks hooks; /* the limits' owner */
	int from_cluster;       /* applying another node's decision: not published again */
	char hostname[256];
	struct hmap *blocked;    /* act.c: identity -> struct act_binfo */
	struct run_timer expiry; /* act.c: at the earliest block end */
	struct hmap *newholds;   /* hold.c: identity -> struct hold_list, this batch */
	struct jobs jobs;        /* job.c */
	struct maps maps;        /* map.c */
};

/* act_say - one log line through the owner's log function ("..." marks a cut) */
void act_say(struct act *, enum act_level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* act_now - the wall clock, microseconds */
int64_t act_now(void);
/* act_monitor - mode = monitor: decide and log, run nothing, record no block */
int act_monitor(const struct act *);
/* act_holds_new - 1 when identity is blocked now and its new mail is held */
int act_holds_new(struct act *, const char *identity);
/*
 * act_add_cut - append s (n bytes), or its first max bytes and "..." when
 * it is longer; -1 when b cannot take it
 */
int act_add_cut(struct buf *b, const char *s, size_t n, size_t max);
/* act_slot - key's value in m, a new zeroed one of size bytes if it had none; NULL: ENOMEM */
void *act_slot(struct hmap *m, const char *key, size_t size);
/* act_text_check - b was cut (ENOMEM or past its maximum): say so, naming what */
void act_text_check(struct act *, const struct buf *b, const char *what);

/* blockline.c: the block's log line and one block-ip line per address */
void act_block_line(struct act *a, const char *identity, const char *rule, const char *list);

#endif
