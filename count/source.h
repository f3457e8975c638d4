/*
 * NAME
 *	source - replay lines from a plain or compressed file or stdin
 * SUMMARY
 *	source_open() opens a path ("-" is standard input) and tells its
 *	format by its first bytes, never by its name: gzip (1f 8b), xz
 *	(fd 37 7a 58 5a 00), bzip2 ("BZh" and a digit), zstd (28 b5 2f fd,
 *	or a skippable frame) are decompressed as they are read; anything
 *	else must be text.  Concatenated streams (cat a.gz b.gz, pbzip2,
 *	multi-stream xz, several zstd frames) read as one text.
 *	source_next() returns one complete line at a time without its
 *	newline (a last line without a newline is still a line; a trailing
 *	CR is kept).  A line longer than SOURCE_LINE_MAX is skipped and
 *	counted.  The returned pointer is valid until the next call (with a
 *	lender, until the lender gives its buffer out again: source_lend).
 *	source_cut() is the line splitter itself, over a struct source_win
 *	of read bytes; the log follower (tail.c) cuts its lines with it too.  No
 *	allocation per line; memory is fixed at open (xz streams that need
 *	more than 256 MiB and zstd frames with a window over 128 MiB are
 *	refused as errors).
 * ERRORS
 *	Every message starts with the file's name ("standard input" for -).
 *	source_open() refuses a file whose first block read (up to 64 KiB,
 *	after decompression) is not text: more than a quarter of its bytes are neither
 *	printable ASCII, TAB, LF, CR, FF nor part of a well-formed UTF-8
 *	sequence (random or encrypted data, UTF-16, archives, formats it
 *	cannot decompress such as lz4, which are named).  Later blocks are
 *	not judged: a log with a few stray bytes or a run of NULs left by a
 *	crash still reads.  A truncated or corrupt compressed stream, or data
 *	after its end, is an error from source_open() or source_next(),
 *	never a silent end of input.
 */
#ifndef SG_SOURCE_H
#define SG_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SOURCE_LINE_MAX 16384
/* a window's buffer: the longest line, one block read or decoded at once (256 KiB), a NUL */
#define SOURCE_WIN_SIZE (SOURCE_LINE_MAX + (size_t)256 * 1024 + 1)

struct source;

/* source_open - 0 or -1 with err ("path: reason"), see ERRORS; source_open_beside(.., 1, ..) */
int source_open(struct source **out, const char *path, char *err, size_t errlen);

/*
 * source_open_beside - source_open for a caller that keeps busy threads
 * of its own busy while it reads (the audit: 2, a reader and a counter):
 * a compressed regular file is decoded by a thread of its own only when
 * the process may run on more CPUs than that (sched_getaffinity), else
 * in line, in the thread that calls source_next(); on two cores a third
 * busy thread costs the audit more wall time than it saves
 */
int source_open_beside(struct source **out, const char *path, int busy, char *err, size_t errlen);

/* source_next - 1 line returned, 0 end of input, -1 read or decode error (err filled) */
int source_next(struct source *, const char **line, size_t *len, char *err, size_t errlen);

/* What a source tells of itself, kept current as it reads. */
struct source_info {
	const char *name;    /* as given; "-" is standard input */
	time_t mtime;        /* the file's mtime; the current time for stdin */
	uint64_t pos;        /* bytes of the underlying (compressed) file consumed so far */
	uint64_t size;       /* its size, 0 if unknown (stdin, a pipe) */
	uint64_t long_lines; /* lines skipped as longer than SOURCE_LINE_MAX */
	int threaded;        /* decoded by a thread of its own (see source_open_beside) */
};

/*
 * A window of bytes read but not yet handed out, which source_cut() cuts
 * into lines; both readers keep one (source.c, tail.c).  The unread
 * bytes are buf[start, end).
 */
struct source_win {
	char *buf;
	size_t start, end;
	int skipping; /* inside an over-long line: drop to its newline */
};

/*
 * source_cut - the next complete line of the window: 1 with it (in place,
 * without its newline) in *line, *len; 0 when the window holds none.  A
 * line longer than SOURCE_LINE_MAX is skipped and counted in *long_lines;
 * so is one that fills more than SOURCE_LINE_MAX bytes of the window
 * without a newline: the window is emptied (start = end = 0) and the rest
 * is skipped up to its newline.  *cut, when not NULL, grows by every byte
 * taken out of the window (lines, newlines and skipped bytes).
 */
int source_cut(struct source_win *, uint64_t *long_lines, uint64_t *cut, const char **line,
    size_t *len);

/*
 * source_lend - lines that stay where they are (count/prefetch.c, which
 * keeps a batch's lines in place until its caller gives the batch back):
 * while lend is set, a refill of the window does not move its unread
 * bytes (a part of a line) to the window's front, over lines returned
 * before: it moves them to the start of the buffer lend(ctx) returns
 * (SOURCE_WIN_SIZE bytes, the lender's, called on the thread that calls
 * source_next()), which becomes the window, so every line returned stays
 * valid until the lender gives its buffer out again (the source's own
 * buffer, the window before the first loan, is never reused while lend
 * is set).  lend NULL: the unread bytes move back into the source's own
 * buffer and refills compact in place again; call it before the lent
 * buffers are freed.
 */
typedef char *(*source_lend_fn)(void *ctx);
void source_lend(struct source *, source_lend_fn lend, void *ctx);

/* source_info - valid until source_close() */
const struct source_info *source_info(const struct source *);
void source_close(struct source *);

/* source_gzip_decoder - "isa-l" or "zlib": the library this build inflates gzip with */
const char *source_gzip_decoder(void);

#endif
