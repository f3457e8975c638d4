/*
 * NAME
 *	prefetch - read and parse a source's lines on a thread of their own
 * SUMMARY
 *	prefetch_start() takes an open source (count/source.h) and starts a
 *	reader thread that calls source_next() and pf_parse() (with a parser
 *	of its own, made by pipeline_parser_new(): the parse pipeline_line()
 *	does) on each line, in batches of at most PREFETCH_LINES lines.  A
 *	line is not copied: it stays where the source read or decoded it, in
 *	one of PREFETCH_NWIN window buffers the thread lends the source
 *	(source_lend), and the event points into it; a window is lent again
 *	only when every batch with lines in it has been given back (a batch's
 *	lines are in two windows at most).  The batches reach the caller in
 *	order through a ring of PREFETCH_NBATCH: prefetch_next() hands out
 *	the next one, valid until the next call or prefetch_stop().  What
 *	the caller does with the lines (clock, look-ahead, tracker, limits,
 *	report, store) stays on its own thread: the reader thread touches
 *	the source, its parser and the batches it fills, nothing else.
 *	After prefetch_stop() the caller owns the source again (its
 *	long_lines count is final when the end or an error was taken).
 *	Memory is fixed at start: the ring's batches and the windows.
 *
 *	The split (PREFETCH_BALANCE): when the caller had to wait for a
 *	batch since the reader began its last one, the reader is the slower
 *	of the two, and its next batch goes out with its lines cut and copied
 *	but not parsed (prefetch_next's *parsed is 0): the caller parses
 *	them itself (pipeline_line() instead of pipeline_line_parsed()).  So
 *	a reader slowed by inflating a .gz hands part of the parsing to the
 *	counting thread, and one that keeps ahead parses everything.  The
 *	lines and their events are the same either way; only which thread
 *	parses changes.  And a caller that waits does not wait for a whole
 *	parsed batch: once it has 64 lines (prefetch.c's PREFETCH_EARLY), the batch goes
 *	out with what it has.  PREFETCH_PARSE_ALL parses every batch,
 *	PREFETCH_PARSE_NONE none (for the tests).
 *
 *	A feed instead of a source (prefetch_start_feed(), for the daemon's
 *	followed file): the reader thread calls the feed once per batch, and
 *	the feed hands its lines over with prefetch_put(), each copied into
 *	the batch (PREFETCH_TEXT bytes of text a batch at most), with a mark
 *	of the feed's own (mark_size bytes, copied: the daemon's is the file
 *	position after the line), which the caller gets back with the line
 *	(prefetch_line's mark).  prefetch_put() always takes the line and
 *	says when the batch is full after it; the feed then stops and returns
 *	(tail_read's callback contract: the line it stopped on is taken); a
 *	line is at most SOURCE_LINE_MAX bytes (a longer one is cut there,
 *	which a feed that cuts its lines as count/source does never meets).  A
 *	feed that returns with the batch not full has nothing more now: that
 *	batch is the last (the end), and the thread ends; a feed's -1 is an
 *	error, as the source's.
 * RETURNS
 *	prefetch_start: 0, or -1 with err when the thread, its parser or its
 *	memory cannot be had (the caller then reads in line).  prefetch_next:
 *	1 a batch (never empty), 0 the end of the input, -1 the source's read
 *	or decode error in err (after every line read before it); the last
 *	answer repeats.  Never prints, never exits.
 * UNTRUSTED INPUT
 *	The lines, as source_next() and pf_parse() take them: cut and
 *	bounded by the source, copied with their length.
 */
#ifndef SG_PREFETCH_H
#define SG_PREFETCH_H

#include <stddef.h>
#include <stdint.h>

#include "count/source.h"
#include "parsers/pf.h"

#define PREFETCH_NBATCH 3                   /* batches between the threads */
#define PREFETCH_NWIN (PREFETCH_NBATCH + 2) /* a source's windows (see prefetch.c) */
#define PREFETCH_LINES 1024                 /* lines per batch, at most */
#define PREFETCH_TEXT ((size_t)256 * 1024)  /* text bytes per batch, at most */
#define PREFETCH_MARK_MAX 128               /* bytes of a feed's mark, at most */

/* One line of a batch: its text (no newline) and what pf_parse() made of it. */
struct prefetch_line {
	const char *line;
	size_t len;
	struct pf_event ev;
	const void *mark; /* a feed's mark for the line (prefetch_put), else NULL */
};

struct prefetch;

/* Which batches the reader parses (see SUMMARY). */
enum prefetch_split { PREFETCH_BALANCE, PREFETCH_PARSE_ALL, PREFETCH_PARSE_NONE };

/* prefetch_start - a reader thread over src; see RETURNS */
int prefetch_start(struct prefetch **out, struct source *src, enum prefetch_split split, char *err,
    size_t errlen);

/*
 * prefetch_feed_fn - one batch's lines from a feed into sink by
 * prefetch_put() until it says the batch is full or the feed has no more
 * now; how many, or -1 with err
 */
struct prefetch_sink;
typedef long (*prefetch_feed_fn)(void *ctx, struct prefetch_sink *sink, char *err, size_t errlen);

/* prefetch_put - a feed's line and its mark into the batch; 1 when the batch is now full, else 0 */
int prefetch_put(struct prefetch_sink *, const char *line, size_t len, const void *mark);

/*
 * prefetch_start_feed - a reader thread over feed (called on that thread
 * with fctx) whose lines carry marks of mark_size bytes (at most
 * PREFETCH_MARK_MAX); see RETURNS.  *pos of prefetch_next is 0.
 */
int prefetch_start_feed(struct prefetch **out, prefetch_feed_fn feed, void *fctx, size_t mark_size,
    enum prefetch_split split, char *err, size_t errlen);

/*
 * prefetch_next - the next batch in *lines, *n; *parsed: 1 when each
 * line's ev holds its parse, 0 when the caller must parse the lines;
 * *pos: bytes of the underlying file consumed after it (source_info's
 * pos, which the caller must not read while the thread runs); see RETURNS
 */
int prefetch_next(struct prefetch *, const struct prefetch_line **lines, size_t *n, int *parsed,
    uint64_t *pos, char *err, size_t errlen);

/* prefetch_stop - stop and join the thread, free the ring; the source stays open */
void prefetch_stop(struct prefetch *);

#endif
