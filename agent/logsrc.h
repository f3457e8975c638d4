/*
 * NAME
 *	logsrc - the daemon's log source: a followed file or the journal
 * SUMMARY
 *	`run` follows what `log =` names: a file (count/tail: rotation,
 *	truncation, standard input for "-") or the systemd journal
 *	(count/journal: "journal", "journal:PATH").  logsrc puts both behind
 *	the few calls the daemon's loop needs, and keeps each one's position
 *	in the store under the log's name: a file's (dev, ino, offset,
 *	fingerprint), the journal's cursor; both with the time of the line or
 *	entry they stand after.
 *
 *	logsrc_start() finds the stored position and opens the source there
 *	(a source never read starts at `start_at`).  The journal is opened
 *	again by logsrc_after_fork() when the daemon detaches, since an
 *	sd_journal cannot be used across fork(); it resumes where the first
 *	one stood.  logsrc_read() hands what the source has to the pipeline,
 *	at most max lines or entries, and logsrc_save() writes the position
 *	after the last of them into the caller's open batch, so the position
 *	is committed with the counts it ends.
 *
 *	Journal entries under a Postfix name from a sender that is not
 *	Postfix are counted (pipeline's `untrusted`) and logged with their
 *	_UID and _COMM at most once a minute, with how many more came since.
 * RETURNS
 *	0 / a count, or -1 with err filled.  Logs (util/log) its notes:
 *	rotations, a vacuumed cursor, untrusted entries.
 * UNTRUSTED INPUT
 *	Log lines and journal entries, passed to the pipeline with their
 *	lengths; an untrusted entry's identifier and _COMM are logged through
 *	log_vis().
 */
#ifndef SG_LOGSRC_H
#define SG_LOGSRC_H

#include <stddef.h>

#include "agent/status.h"
#include "count/conf.h"
#include "count/pipeline.h"
#include "store/store.h"

struct logsrc;

/*
 * logsrc_start - the source of conf->log, at its stored position in st;
 * lines go to pl.  0, or -1 with err (a journal that cannot be opened, a
 * postfix_user that is no user, a store error).
 */
int logsrc_start(struct logsrc **out, const struct conf *conf, struct store *st,
    struct pipeline *pl, char *err, size_t errlen);
void logsrc_close(struct logsrc *);

/* logsrc_after_fork - the child of a fork: reopen what cannot cross it; 0 or -1 */
int logsrc_after_fork(struct logsrc *, char *err, size_t errlen);

/* logsrc_fd - the descriptor the loop waits on to read */
int logsrc_fd(const struct logsrc *);

/*
 * logsrc_read - at most max lines or entries into the pipeline; how many,
 * or -1 with err (the source could not be read; the caller logs it and
 * goes on).  Stops early when the pipeline has failed.
 */
long logsrc_read(struct logsrc *, size_t max, char *err, size_t errlen);

/* logsrc_save - the position after the last line read, into the open batch; 0 or -1 */
int logsrc_save(struct logsrc *, struct store *, char *err, size_t errlen);

/* logsrc_eof - 1 once standard input ("-") has ended */
int logsrc_eof(const struct logsrc *);

/* logsrc_status - the source, its position and the untrusted count into *si */
void logsrc_status(const struct logsrc *, struct status_info *si);

/*
 * logsrc_stored - with no daemon: the source of conf->log and the
 * position stored for it in st into *si (none when st has none or fails);
 * si's cursor points into *c
 */
void logsrc_stored(const struct conf *conf, struct store *st, struct store_cursor *c,
    struct status_info *si);

#endif
