/*
 * NAME
 *	logsrc - the daemon's log source (see logsrc.h)
 * SUMMARY
 *	A struct logsrc holds either a struct tail (with the year clock of
 *	its lines) or a struct journal, and the position to save.  A file's
 *	position comes with each line (tail's callback); the journal's is
 *	journal_pos() after a read.  "-" (standard input) has none.
 *
 *	Catching up (a file's read in line gave all the lines asked for, and
 *	they were at least PREFETCH_LINES),
 *	the file is read and its lines parsed on a reader thread
 *	(count/prefetch.h, prefetch_start_feed: tail_read() there, each line
 *	with the position after it as its mark) while the caller's thread
 *	runs the rest of the pipeline and the store; logsrc_read() hands the
 *	lines on from the thread's batches in their order and takes each
 *	one's position as it goes, so the position saved is always that of
 *	the last line the pipeline has had, never of one read ahead.  The
 *	thread ends once the file has nothing more (the lines it read ahead
 *	are handed on first), and the next read is in line again, as is
 *	every read of a log that does not fill a batch: so a log that grows
 *	at a steady rate never starts the thread, and an idle one has no
 *	thread at all.  While it runs, the struct tail is the thread's alone
 *	(nothing else here touches it: logsrc_fd's descriptor is only
 *	waited on).  SENDGUARD_THREADS=1 keeps every read in line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "agent/logsrc.h"
#include "count/prefetch.h"
#include "count/journal.h"
#include "count/tail.h"
#include "count/zone.h"
#include "util/log.h"

struct logsrc {
	const char *log; /* conf->log: the name the position is stored under */
	struct pipeline *pl;
	/* a file */
	struct tail *tail;
	struct pf_clock clk;
	struct tail_pos pos;
	/* the journal */
	struct journal *jr;
	struct journal_opts jo;
	const char *jpath;              /* NULL: the system journal */
	struct journal_pos jstart;      /* where it was opened (resume) */
	struct journal_limiter limiter; /* untrusted entries: one report a minute */
	int dirty;                      /* a position not saved yet */
	/* catching up a file: its reader thread and the batch being handed on */
	int catching;    /* the last read in line gave all the lines asked for */
	int inline_only; /* SENDGUARD_THREADS=1 */
	struct prefetch *pf;
	const struct prefetch_line *ahead; /* the batch taken from it, */
	size_t nahead, iahead;             /* its lines and the next to hand on */
	int parsed;                        /* whether the thread parsed them */
};

static void ahead_end(struct logsrc *);

/* on_note - the source's notes into the log */
static void
on_note(void *ctx, const char *msg)
{
	(void)ctx;
	log_info("%s", msg);
}

/* on_line - a file's line into the pipeline, and the position after it */
static int
on_line(void *ctx, const char *line, size_t len, const struct tail_pos *after)
{
	struct logsrc *s = ctx;

	pipeline_line(s->pl, &s->clk, line, len);
	s->pos = *after;
	s->dirty = 1;
	return (s->pl->failed ? 1 : 0);
}

/* untrusted - a Postfix name from another sender: logged at most once a minute */
static void
untrusted(struct logsrc *s, const struct journal_entry *e)
{
	char id[300], comm[100], raw[300], more[64] = "";
	struct timeval tv;
	uint64_t held;

	gettimeofday(&tv, NULL);
	if (!journal_limit(&s->limiter, (int64_t)tv.tv_sec * 1000000 + tv.tv_usec, &held))
		return;
	if (held > 0)
		snprintf(more, sizeof(more), " (and %llu more since the last report)",
		    (unsigned long long)held);
	snprintf(raw, sizeof(raw), "%.*s", (int)e->origin.ident.n, e->origin.ident.p);
	log_vis(raw, id, sizeof(id));
	snprintf(raw, sizeof(raw), "%.*s", e->comm.p ? (int)e->comm.n : 1,
	    e->comm.p ? e->comm.p : "-");
	log_vis(raw, comm, sizeof(comm));
	log_warnx("journal: not counted: an entry as %s from _UID=%ld _COMM=%s, which is not "
		  "a Postfix process%s",
	    id, e->uid, comm, more);
}

/* on_entry - a journal entry into the pipeline */
static int
on_entry(void *ctx, const struct journal_entry *e)
{
	struct logsrc *s = ctx;
	int bad = e->trust == JOURNAL_UNTRUSTED;

	pipeline_entry(s->pl, e->time_us, &e->origin, e->text, e->len, bad);
	if (bad)
		untrusted(s, e);
	return (s->pl->failed ? 1 : 0);
}

/* start_file - the stored position of a file, and the tail there */
static int
start_file(struct logsrc *s, const struct conf *conf, struct store *st, char *err, size_t errlen)
{
	struct store_cursor c;
	struct tail_pos *resume = NULL;
	int r = 0;

	if (strcmp(s->log, "-") != 0 && (r = store_get_cursor(st, s->log, &c, err, errlen)) < 0)
		return (-1);
	if (r == 1) {
		memset(&s->pos, 0, sizeof(s->pos));
		s->pos.dev = c.dev;
		s->pos.ino = c.ino;
		s->pos.offset = c.offset;
		snprintf(s->pos.fp, sizeof(s->pos.fp), "%s", c.fingerprint);
		resume = &s->pos;
	}
	pf_clock_init(&s->clk, 0, time(NULL), &zone_local);
	return (tail_open(&s->tail, s->log, resume,
	    conf->start_at == START_BEGINNING ? TAIL_START_BEGINNING : TAIL_START_END, on_note, s,
	    err, errlen));
}

/* start_journal - the mail owner's uid, the stored cursor, and the journal there */
static int
start_journal(struct logsrc *s, const struct conf *conf, struct store *st, char *err, size_t errlen)
{
	struct store_cursor c;
	int r;

	memset(&s->jo, 0, sizeof(s->jo));
	if (journal_user_uid(conf->postfix_user, &s->jo.postfix_uid, err, errlen) < 0)
		return (-1);
	if ((r = store_get_cursor(st, s->log, &c, err, errlen)) < 0)
		return (-1);
	s->jo.path = s->jpath;
	s->jo.follow = 1;
	s->jo.start =
	    conf->start_at == START_BEGINNING ? JOURNAL_START_BEGINNING : JOURNAL_START_END;
	s->jo.note = on_note;
	if (r == 1) {
		snprintf(s->jstart.cursor, sizeof(s->jstart.cursor), "%s", c.journal);
		s->jstart.time_us = c.time_us;
		s->jo.resume = &s->jstart;
	}
	if (journal_open(&s->jr, &s->jo, err, errlen) < 0)
		return (-1);
	/* a journal never read: its starting point is saved at the first commit */
	s->dirty = r != 1;
	return (0);
}

int
logsrc_start(struct logsrc **out, const struct conf *conf, struct store *st, struct pipeline *pl,
    char *err, size_t errlen)
{
	struct logsrc *s;
	const char *env;
	int r;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	s->log = conf->log;
	s->pl = pl;
	env = getenv("SENDGUARD_THREADS");
	s->inline_only = env != NULL && strcmp(env, "1") == 0;
	r = journal_spec(conf->log, &s->jpath) ? start_journal(s, conf, st, err, errlen)
					       : start_file(s, conf, st, err, errlen);
	if (r < 0) {
		logsrc_close(s);
		return (-1);
	}
	*out = s;
	return (0);
}

int
logsrc_after_fork(struct logsrc *s, char *err, size_t errlen)
{
	if (s->jr == NULL)
		return (0);
	/* resume where the parent's journal stood: it has read nothing yet */
	s->jstart = *journal_pos(s->jr);
	if (s->jstart.cursor[0] != '\0' || s->jstart.time_us != INT64_MIN)
		s->jo.resume = &s->jstart;
	journal_close(s->jr);
	s->jr = NULL;
	return (journal_open(&s->jr, &s->jo, err, errlen));
}

void
logsrc_close(struct logsrc *s)
{
	if (s == NULL)
		return;
	if (s->pf != NULL)
		ahead_end(s);
	tail_close(s->tail);
	journal_close(s->jr);
	free(s);
}

int
logsrc_fd(const struct logsrc *s)
{
	return (s->jr != NULL ? journal_fd(s->jr) : tail_fd(s->tail));
}

/* feed_line - on the reader thread: one line of the file and the position after it */
static int
feed_line(void *ctx, const char *line, size_t len, const struct tail_pos *after)
{
	return (prefetch_put(ctx, line, len, after));
}

/* feed - on the reader thread: one batch of the file's lines (prefetch_feed_fn) */
static long
feed(void *ctx, struct prefetch_sink *sink, char *err, size_t errlen)
{
	struct logsrc *s = ctx;

	return (tail_read(s->tail, feed_line, sink, 0, err, errlen));
}

/* ahead_end - the reader thread has ended: join it; reads are in line again */
static void
ahead_end(struct logsrc *s)
{
	prefetch_stop(s->pf);
	s->pf = NULL;
	s->ahead = NULL;
	s->nahead = s->iahead = 0;
	s->catching = 0;
}

/* read_ahead - at most max lines read by the reader thread into the pipeline; as logsrc_read */
static long
read_ahead(struct logsrc *s, size_t max, char *err, size_t errlen)
{
	const struct prefetch_line *l;
	uint64_t pos;
	long n = 0;
	int r;

	while ((size_t)n < max && !s->pl->failed) {
		if (s->iahead == s->nahead) {
			r = prefetch_next(s->pf, &s->ahead, &s->nahead, &s->parsed, &pos, err,
			    errlen);
			s->iahead = 0;
			if (r <= 0) { /* every line it read has been handed on */
				ahead_end(s);
				return (r < 0 ? -1 : n);
			}
		}
		l = &s->ahead[s->iahead++];
		if (s->parsed)
			pipeline_line_parsed(s->pl, &s->clk, l->line, l->len, &l->ev);
		else
			pipeline_line(s->pl, &s->clk, l->line, l->len);
		memcpy(&s->pos, l->mark, sizeof(s->pos));
		s->dirty = 1;
		n++;
	}
	return (n);
}

long
logsrc_read(struct logsrc *s, size_t max, char *err, size_t errlen)
{
	const struct journal_pos *jp;
	int64_t before;
	long n;

	if (s->tail != NULL) {
		if (s->catching && s->pf == NULL && !s->inline_only &&
		    prefetch_start_feed(&s->pf, feed, s, sizeof(struct tail_pos), PREFETCH_BALANCE,
			err, errlen) < 0) {
			log_warnx("reading the log in line: %s", err);
			s->inline_only = 1;
		}
		if (s->pf != NULL)
			return (read_ahead(s, max, err, errlen));
		n = tail_read(s->tail, on_line, s, max, err, errlen);
		/*
		 * a full read of many lines (not the few that end a batch):
		 * more is there, the log is being caught up
		 */
		s->catching = max >= PREFETCH_LINES && n == (long)max && strcmp(s->log, "-") != 0;
		return (n);
	}
	jp = journal_pos(s->jr);
	before = jp->time_us;
	n = journal_read(s->jr, on_entry, s, max, err, errlen);
	/* an entry skipped as over-long moves the position too */
	if (n > 0 || jp->time_us != before)
		s->dirty = 1;
	return (n);
}

int
logsrc_save(struct logsrc *s, struct store *st, char *err, size_t errlen)
{
	struct store_cursor c;
	const struct journal_pos *jp;

	if (!s->dirty || strcmp(s->log, "-") == 0)
		return (0);
	memset(&c, 0, sizeof(c));
	c.time_us = s->pl->last_us;
	if (s->jr != NULL) {
		jp = journal_pos(s->jr);
		if (jp->cursor[0] == '\0' && jp->time_us == INT64_MIN)
			return (0); /* at the head of a journal never read: nothing to keep */
		snprintf(c.journal, sizeof(c.journal), "%s", jp->cursor);
		c.time_us = jp->time_us;
	} else {
		c.dev = s->pos.dev;
		c.ino = s->pos.ino;
		c.offset = s->pos.offset;
		snprintf(c.fingerprint, sizeof(c.fingerprint), "%s", s->pos.fp);
	}
	if (store_set_cursor(st, s->log, &c, err, errlen) < 0)
		return (-1);
	s->dirty = 0;
	return (0);
}

int
logsrc_eof(const struct logsrc *s)
{
	return (s->tail != NULL && tail_eof(s->tail));
}

void
logsrc_status(const struct logsrc *s, struct status_info *si)
{
	const struct journal_pos *jp;

	si->untrusted = s->pl->untrusted;
	if (s->jr != NULL) {
		jp = journal_pos(s->jr);
		si->source = "journal";
		si->cursor = jp->cursor;
		si->pos_us = jp->time_us;
		si->has_pos = 1;
		return;
	}
	si->source = strcmp(s->log, "-") == 0 ? "stdin" : "file";
	si->dev = s->pos.dev;
	si->ino = s->pos.ino;
	si->offset = s->pos.offset;
	si->pos_us = s->pl->last_us;
	si->has_pos = 1;
}

void
logsrc_stored(const struct conf *conf, struct store *st, struct store_cursor *c,
    struct status_info *si)
{
	const char *path;
	char err[512];

	si->source = journal_spec(conf->log, &path) ? "journal"
	    : strcmp(conf->log, "-") == 0           ? "stdin"
						    : "file";
	si->pos_us = INT64_MIN;
	if (strcmp(si->source, "stdin") == 0 ||
	    store_get_cursor(st, conf->log, c, err, sizeof(err)) != 1)
		return;
	si->has_pos = 1;
	si->pos_us = c->time_us;
	if (strcmp(si->source, "journal") == 0) {
		si->cursor = c->journal;
		return;
	}
	si->dev = c->dev;
	si->ino = c->ino;
	si->offset = c->offset;
}
