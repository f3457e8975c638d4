/*
 * NAME
 *	tail - follow a log file by name through rotation and truncation
 * SUMMARY
 *	tail_open() opens the log at a committed position (or at its start or
 *	end for a log never seen) and watches it with inotify: the directory
 *	(IN_CREATE, IN_MOVED_TO, IN_MOVED_FROM, IN_DELETE) and the file
 *	(IN_MODIFY, IN_MOVE_SELF, IN_DELETE_SELF, IN_ATTRIB, IN_CLOSE_WRITE).  tail_fd() is the inotify
 *	descriptor for the caller's event loop; on each wake the caller calls
 *	tail_read(), which drains the inotify events and reads to EOF,
 *	handing every complete line to the callback with the position just
 *	after it.
 *
 *	Rotation by rename: the old file is read to its end, then the new
 *	file is opened and read from 0 (once it has data: a syslog daemon
 *	keeps writing to the renamed file until it reopens).  Rotated files
 *	newer than the one finished (several rotations while we were down or
 *	lagging) are read in order of modification time before the log.  Truncation (copytruncate): a size
 *	below the offset, or a first line that no longer matches the
 *	fingerprint, restarts at 0.  Delete and recreate: the new file is
 *	opened from 0.  A missing file is waited for (its creation in the
 *	directory wakes us).  A partial last line waits for its newline.
 *	Lines longer than SOURCE_LINE_MAX are counted and skipped.
 *
 *	Resume: with a position whose (dev, ino) is not the current file at
 *	the path, the old file is looked for among its rotated names in the
 *	same directory (NAME.1, NAME.0, NAME-YYYYMMDD, NAME.YYYYMMDD and the
 *	like: any uncompressed NAME[.-]* with that inode and fingerprint);
 *	if found it is finished from the position first, then any newer
 *	rotated files, then the log.  If the log itself was copied and
 *	truncated while we were down, the copy (a rotated file whose first
 *	line has the committed fingerprint) is finished first.
 *
 *	path "-" reads standard input (no inotify, no resume: positions are
 *	byte counts of the stream).
 * RETURNS
 *	0 / -1 with the caller's err buffer filled; never prints or exits.
 *	Events for the caller (rotations, truncations, skipped lines) are
 *	counted in struct tail_stats and reported through the note callback.
 * UNTRUSTED INPUT
 *	File contents are passed through as bytes with their lengths.
 */
#ifndef SG_TAIL_H
#define SG_TAIL_H

#include <stddef.h>
#include <stdint.h>

#include "count/source.h"

#define TAIL_FP_LEN 64 /* hex characters of the first-line fingerprint */

/* A position just after a complete line of one file. */
struct tail_pos {
	uint64_t dev, ino, offset;
	char fp[TAIL_FP_LEN + 1]; /* fingerprint of the file's first line, "" if none yet */
};

struct tail_stats {
	uint64_t rotations, truncations, long_lines, reopens;
};

enum tail_start { TAIL_START_END = 0, TAIL_START_BEGINNING };

/* line callback: return 0 to go on, non-zero to stop tail_read early */
typedef int (*tail_line_fn)(void *ctx, const char *line, size_t len, const struct tail_pos *after);
/* note callback: a human-readable note ("mail.log rotated, reading mail.log.1 to its end") */
typedef void (*tail_note_fn)(void *ctx, const char *msg);

struct tail;

/*
 * tail_open - resume NULL: a log never seen, start at its end or beginning.
 * A missing log is not an error: the tail waits for it.
 */
int tail_open(struct tail **out, const char *path, const struct tail_pos *resume,
    enum tail_start start, tail_note_fn note, void *nctx, char *err, size_t errlen);
void tail_close(struct tail *);

/* tail_fd - the descriptor to wait on for reading (inotify, or stdin for "-") */
int tail_fd(const struct tail *);

/*
 * tail_read - drain notifications, follow rotations, and call cb for each
 * complete line available, at most max_lines (0: no limit).  Returns the
 * number of lines delivered, 0 when nothing was available, -1 on error.
 * When max_lines was reached, more may be available: call again.
 */
long tail_read(struct tail *, tail_line_fn cb, void *ctx, size_t max_lines, char *err,
    size_t errlen);

/* tail_eof - 1 when "-" reached the end of standard input */
int tail_eof(const struct tail *);

/* tail_fingerprint - hex digest of a first line (for tests and the store) */
void tail_fingerprint(const char *line, size_t len, char out[TAIL_FP_LEN + 1]);

const struct tail_stats *tail_stats(const struct tail *);

#endif
