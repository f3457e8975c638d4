/*
 * NAME
 *	prefetch - read and parse a source's lines on a thread of their own
 * SUMMARY
 *	prefetch_start() takes an open source (count/source.h) and starts a
 *	reader thread that calls source_next() and pf_parse() (with a parser
 *	of its own, made by pipeline_parser_new(): the parse pipeline_line()
 *	does) on each line, in batches of at most PREFETCH_LINES lines and
 *	PREFETCH_TEXT bytes of text, each line copied into its batch with
 *	the event pointing into the copy.  The batches reach the caller in
 *	order through a ring of PREFETCH_NBATCH: prefetch_next() hands out
 *	the next one, valid until the next call or prefetch_stop().  What
 *	the caller does with the lines (clock, look-ahead, tracker, limits,
 *	report, store) stays on its own thread: the reader thread touches
 *	the source, its parser and the batches it fills, nothing else.
 *	After prefetch_stop() the caller owns the source again (its
 *	long_lines count is final when the end or an error was taken).
 *	Memory is fixed at start: the ring's batches.
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

#define PREFETCH_NBATCH 3                  /* batches between the threads */
#define PREFETCH_LINES 1024                /* lines per batch, at most */
#define PREFETCH_TEXT ((size_t)256 * 1024) /* text bytes per batch, at most */

/* One line of a batch: its text (no newline) and what pf_parse() made of it. */
struct prefetch_line {
	const char *line;
	size_t len;
	struct pf_event ev;
};

struct prefetch;

/* prefetch_start - a reader thread over src; see RETURNS */
int prefetch_start(struct prefetch **out, struct source *src, char *err, size_t errlen);

/*
 * prefetch_next - the next batch in *lines, *n; *pos: bytes of the
 * underlying file consumed after it (source_info's pos, which the caller
 * must not read while the thread runs); see RETURNS
 */
int prefetch_next(struct prefetch *, const struct prefetch_line **lines, size_t *n, uint64_t *pos,
    char *err, size_t errlen);

/* prefetch_stop - stop and join the thread, free the ring; the source stays open */
void prefetch_stop(struct prefetch *);

#endif
