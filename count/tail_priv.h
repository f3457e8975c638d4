/*
 * NAME
 *	tail_priv - what tail.c and tail_rotate.c share (private)
 * SUMMARY
 *	struct tail, the note callback's formatter, opening a regular file,
 *	the first-line fingerprint and the search for rotated files.
 *	Nothing outside count/tail*.c includes it.
 * RETURNS
 *	As tail.h: descriptors or -1 with errno; never prints or exits.
 * UNTRUSTED INPUT
 *	See tail.h.
 */
#ifndef SG_TAIL_PRIV_H
#define SG_TAIL_PRIV_H

#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "count/tail.h"

#define TAIL_FP_RAW 1024

struct tail {
	char path[PATH_MAX];
	char dir[PATH_MAX];
	char base[NAME_MAX + 1];
	char cur_name[PATH_MAX]; /* name the open file was opened by (notes) */
	int is_stdin, eof;
	int ifd, dwd, fwd, pwd; /* inotify fd; dir, file, pending new file watches */
	int fd;                 /* open file, -1 while waiting for the log */
	int missing_noted;
	int away_noted; /* said that we stay on a renamed-away file */
	uint64_t dev, ino;
	uint64_t off;             /* consumed: just after the last line handed out or skipped */
	char fp[TAIL_FP_LEN + 1]; /* fingerprint of the open file, "" unknown */
	size_t fp_len;            /* bytes hashed */
	int fp_nl;                /* the hashed bytes are followed by a newline */
	/*
	 * The bytes last found to hash to fp_raw_of (a first line up to
	 * TAIL_FP_RAW bytes): while fp is still fp_raw_of, a check compares
	 * the bytes instead of hashing them again at every wake
	 */
	char fp_raw[TAIL_FP_RAW];
	size_t fp_raw_len;
	char fp_raw_of[TAIL_FP_LEN + 1];
	off_t seen_size;
	struct timespec seen_mtime;
	off_t eof_at;          /* the open file's size at this wake's fstat (eof_known) */
	int eof_known;         /* read no further than eof_at: a later write wakes us again */
	int moved;             /* an event that may mean a rotation: look at the path */
	int64_t checked_ms;    /* when the path was last looked at (monotonic) */
	struct source_win win; /* BUFSZ bytes at win.buf */
	char *scratch;         /* SOURCE_LINE_MAX + 1 bytes for first-line reads */
	tail_note_fn note;
	void *nctx;
	struct tail_stats st;
	uint64_t visited[64][2]; /* (dev, ino) finished since the log itself was last open */
	int nvisited;
};

/* tail_note - hand a formatted note to the caller's callback, if any */
void tail_note(struct tail *, const char *, ...) __attribute__((format(printf, 2, 3)));

/* tail_open_reg - open a regular file read-only (relative to dfd): fd, or -1 (errno set) */
int tail_open_reg(int dfd, const char *name, struct stat *st);

/*
 * tail_first_fp - fingerprint of the first line of fd: 1 known (out, *len,
 * *nl filled), 0 not yet known (no complete first line), -1 read error
 */
int tail_first_fp(struct tail *, int fd, char out[TAIL_FP_LEN + 1], size_t *len, int *nl);

/*
 * tail_find_committed - the file of a committed position under a rotated
 * name (copy 0) or logrotate's copy of it (copy 1): its fd (name and stat
 * filled), or -1
 */
int tail_find_committed(struct tail *, const struct tail_pos *pos, int copy, char *name,
    size_t namelen, struct stat *st);

/*
 * tail_next_rotated - the rotated file, not the log itself nor dev/ino nor
 * one visited, with the oldest mtime from *after on: its fd (name and
 * stat filled), or -1
 */
int tail_next_rotated(struct tail *, const struct timespec *after, uint64_t dev, uint64_t ino,
    char *name, size_t namelen, struct stat *st);

#endif
