/*
 * NAME
 *	tail - follow a log file by name through rotation and truncation
 * SUMMARY
 *	See tail.h for the contract.  This file follows the open file;
 *	tail_rotate.c computes fingerprints and finds rotated files;
 *	tail_priv.h is what the two share.
 *
 *	One inotify descriptor carries a watch on the log's directory
 *	(IN_CREATE, IN_MOVED_TO, IN_MOVED_FROM, IN_DELETE) and one on the
 *	open file (IN_MODIFY, IN_MOVE_SELF, IN_DELETE_SELF, IN_ATTRIB,
 *	IN_CLOSE_WRITE).  Nothing polls: the
 *	events only wake the caller; tail_read() then drains them and decides
 *	from fstat(2) of the open file and stat(2) of the path what happened,
 *	so a lost or coalesced event (or a call with no event at all, as on
 *	the start-up pass) never loses a line.
 *
 *	Cost of a wake.  A busy log wakes us thousands of times a second, so
 *	a wake that saw only writes (IN_MODIFY, IN_CLOSE_WRITE of the open
 *	file) costs one read of the events, one fstat(2) (truncation, and the
 *	size to read up to: a write after it queues an event that wakes us
 *	again), the first line's pread(2) when the size changed, and the
 *	pread(2) of the new bytes.  The path is looked at (stat(2), and
 *	fstat(2) for the link count) when an event may mean a rotation or a
 *	deletion (any event of the directory or of a new file's watch, a
 *	move, deletion or attribute change of the open file, a queue
 *	overflow), on the start-up pass and after a switch of files, and at
 *	least every RECHECK_MS of wakes whatever the events said.
 *
 *	Positions.  The offset handed with a line is the byte offset just
 *	after its newline in the file (dev, ino) it was read from; bytes of a
 *	partial last line are not consumed until its newline arrives.  Lines
 *	are read with pread(2) in blocks into one fixed buffer of
 *	SOURCE_LINE_MAX + 64 KiB, cut into lines by source_cut() (the
 *	splitter of the replay reader) and handed out in place.
 *
 *	Fingerprint.  The first line of a file (its first SOURCE_LINE_MAX
 *	bytes if longer) is hashed into 256 bits (four seeded 64-bit lanes).
 *	On a wake where the file's size or mtime changed, the first line is
 *	read again (one pread of its known length) and compared: a different
 *	first line, or a size below what was read, means the file was
 *	truncated (copytruncate) and it is read again from 0.
 *
 *	Rotation by rename.  When the path names another inode than the open
 *	file, the open file is read to its end and then the new file is
 *	opened at 0.  While the new file is still empty and the old one is
 *	still linked, the old file is kept and read: syslog daemons go on
 *	writing to the renamed file until they are told to reopen, and
 *	switching at the mere creation of the new file would lose those
 *	lines.  A watch on the new file wakes us on its first write.  When
 *	we do switch, a final unterminated line of the old file is handed
 *	out as a line (it will never be completed).  If the path does not
 *	exist at all, the old file is kept and read until a new one appears.
 *	A deleted file (link count 0) is finished and closed, and its name
 *	is waited for.
 *
 *	Copytruncate race.  logrotate's copytruncate copies the file and then
 *	truncates it; lines written between the copy and the truncation are
 *	in the copy only, and lines not yet read before the truncation are
 *	gone from the live file.  Such lines are lost unless the reader had
 *	read them before the truncation; no reader can avoid that, which is
 *	why rename rotation (create) is the recommended setup.
 *
 *	Resume.  tail_open() with a committed position continues in the same
 *	file if (dev, ino), the fingerprint and the size agree; otherwise it
 *	looks for the file among the uncompressed rotated names in the
 *	directory and finishes it first; otherwise it starts the current
 *	file at 0 and says (through the note callback) that lines may have
 *	been lost.
 * RETURNS
 *	0 / -1 with the caller's err buffer filled; never prints or exits.
 * UNTRUSTED INPUT
 *	File contents are passed through as bytes with their lengths; the
 *	directory's file names are only compared against the log's name.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "count/tail_priv.h"

#define BLOCK (64 * 1024)
#define BUFSZ (SOURCE_LINE_MAX + BLOCK)
#define FILE_MASK (IN_MODIFY | IN_MOVE_SELF | IN_DELETE_SELF | IN_ATTRIB | IN_CLOSE_WRITE)
#define DIR_MASK (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR)
#define WRITE_EVENTS (IN_MODIFY | IN_CLOSE_WRITE) /* of the open file: no rotation */
#define RECHECK_MS 250 /* the path is looked at this often at least, events or not */

/* now_ms - the monotonic clock, milliseconds */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* tail_note - hand a formatted note to the caller's callback, if any */
void
tail_note(struct tail *t, const char *fmt, ...)
{
	char msg[PATH_MAX * 2 + 256];
	va_list ap;

	if (t->note == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->note(t->nctx, msg);
}

/* fp_learn - fill in the open file's fingerprint if not known yet */
static void
fp_learn(struct tail *t)
{
	if (t->fp[0] == '\0' && t->fd >= 0 && !t->is_stdin)
		(void)tail_first_fp(t, t->fd, t->fp, &t->fp_len, &t->fp_nl);
}

/* fp_same - 1 when the open file still starts with the fingerprinted line */
static int
fp_same(struct tail *t)
{
	size_t want = t->fp_len + (t->fp_nl ? 1 : 0);
	char fp[TAIL_FP_LEN + 1];
	ssize_t n;

	do
		n = pread(t->fd, t->scratch, want, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return (-1);
	if ((size_t)n != want || memchr(t->scratch, '\n', t->fp_len) != NULL)
		return (0);
	if (t->fp_nl && t->scratch[t->fp_len] != '\n')
		return (0);
	if (t->fp_raw_len == t->fp_len && strcmp(t->fp_raw_of, t->fp) == 0)
		return (memcmp(t->scratch, t->fp_raw, t->fp_len) == 0);
	tail_fingerprint(t->scratch, t->fp_len, fp);
	if (strcmp(fp, t->fp) != 0)
		return (0);
	if (t->fp_len <= sizeof(t->fp_raw)) { /* the next checks compare these bytes */
		memcpy(t->fp_raw, t->scratch, t->fp_len);
		t->fp_raw_len = t->fp_len;
		memcpy(t->fp_raw_of, t->fp, sizeof(t->fp_raw_of));
	}
	return (1);
}

/* watch_fd - watch the very inode behind fd (immune to renames in between) */
static int
watch_fd(struct tail *t, int fd, const char *name)
{
	char proc[64];
	int wd;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((wd = inotify_add_watch(t->ifd, proc, FILE_MASK)) < 0)
		wd = inotify_add_watch(t->ifd, name, FILE_MASK);
	return (wd);
}

/* file_drop - close the open file and forget its watch */
static void
file_drop(struct tail *t)
{
	if (t->fwd >= 0) {
		(void)inotify_rm_watch(t->ifd, t->fwd);
		t->fwd = -1;
	}
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->win.start = t->win.end = 0;
	t->win.skipping = 0;
	t->fp[0] = '\0';
	t->eof_known = 0;
	t->moved = 1;
}

/*
 * file_set - make fd (opened as name, stat st) the open file, read from
 * off.  -1 when it cannot be watched (the fd is kept: a later wake may
 * still read it, but appends alone would not wake us).
 */
static int
file_set(struct tail *t, int fd, const struct stat *st, uint64_t off, const char *name, char *err,
    size_t errlen)
{
	int wd, saved;

	t->fd = fd;
	t->dev = (uint64_t)st->st_dev;
	t->ino = (uint64_t)st->st_ino;
	t->off = off;
	t->win.start = t->win.end = 0;
	t->win.skipping = 0;
	t->seen_size = st->st_size;
	t->seen_mtime = st->st_mtim;
	t->eof_known = 0;
	t->moved = 1; /* a new file: look at the path after reading it */
	t->fp[0] = '\0';
	t->away_noted = 0;
	snprintf(t->cur_name, sizeof(t->cur_name), "%s", name);
	fp_learn(t);
	wd = watch_fd(t, fd, name);
	saved = errno;
	if (t->pwd >= 0 && t->pwd != wd)
		(void)inotify_rm_watch(t->ifd, t->pwd);
	t->pwd = -1;
	t->fwd = wd;
	if (wd < 0) {
		snprintf(err, errlen, "%s: inotify watch: %s", name, strerror(saved));
		return (-1);
	}
	return (0);
}

/* tail_open_reg - open a regular file read-only (relative to dfd): fd, or -1 (errno set) */
int
tail_open_reg(int dfd, const char *name, struct stat *st)
{
	int fd, saved;

	if ((fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return (-1);
	if (fstat(fd, st) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return (-1);
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		errno = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
		return (-1);
	}
	return (fd);
}

/* end_boundary - offset just after the last newline before size (0 if none) */
static uint64_t
end_boundary(struct tail *t, int fd, uint64_t size)
{
	uint64_t at = size;
	ssize_t n;
	size_t chunk;
	char *p;

	while (at > 0) {
		chunk = at > SOURCE_LINE_MAX ? SOURCE_LINE_MAX : (size_t)at;
		n = pread(fd, t->scratch, chunk, (off_t)(at - chunk));
		if (n != (ssize_t)chunk)
			return (0);
		if ((p = memrchr(t->scratch, '\n', chunk)) != NULL)
			return (at - chunk + (uint64_t)(p - t->scratch) + 1);
		at -= chunk;
	}
	return (0);
}

/*
 * open_path - open the log by its name from offset 0: 1 opened, 0 it does
 * not exist (yet), -1 error.
 */
static int
open_path(struct tail *t, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if ((fd = tail_open_reg(AT_FDCWD, t->path, &st)) < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			if (!t->missing_noted)
				tail_note(t, "%s: does not exist (yet), waiting for it", t->path);
			t->missing_noted = 1;
			return (0);
		}
		snprintf(err, errlen, "%s: %s", t->path, strerror(errno));
		return (-1);
	}
	if (t->missing_noted) {
		tail_note(t, "%s: appeared, reading it from the start", t->path);
		t->st.reopens++;
	}
	t->missing_noted = 0;
	return (file_set(t, fd, &st, 0, t->path, err, errlen) < 0 ? -1 : 1);
}

/* deliver - hand one line to cb; 1 when reading must stop (cb or max_lines) */
static int
deliver(struct tail *t, tail_line_fn cb, void *ctx, const char *line, size_t len, size_t max,
    long *n)
{
	struct tail_pos pos;

	fp_learn(t);
	pos.dev = t->is_stdin ? 0 : t->dev;
	pos.ino = t->is_stdin ? 0 : t->ino;
	pos.offset = t->off;
	memcpy(pos.fp, t->fp, sizeof(pos.fp));
	(*n)++;
	if (cb(ctx, line, len, &pos) != 0)
		return (1);
	return (max != 0 && (size_t)*n >= max);
}

/*
 * fill - read more bytes into the buffer: >0 bytes read, 0 end of file
 * (or of stdin), -2 stdin has nothing now, -1 error.
 */
static ssize_t
fill(struct tail *t)
{
	struct pollfd pfd;
	ssize_t n;

	for (;;) {
		if (t->is_stdin) {
			pfd.fd = STDIN_FILENO;
			pfd.events = POLLIN;
			pfd.revents = 0;
			if (poll(&pfd, 1, 0) < 0) {
				if (errno == EINTR)
					continue;
				return (-1);
			}
			if (pfd.revents == 0)
				return (-2);
			n = read(STDIN_FILENO, t->win.buf + t->win.end, BUFSZ - t->win.end);
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return (-2);
		} else {
			uint64_t at = t->off + t->win.end;
			size_t room = BUFSZ - t->win.end;

			if (t->eof_known) { /* the size this wake's fstat saw */
				if (at >= (uint64_t)t->eof_at)
					return (0);
				if ((uint64_t)t->eof_at - at < room)
					room = (size_t)((uint64_t)t->eof_at - at);
			}
			n = pread(t->fd, t->win.buf + t->win.end, room, (off_t)at);
		}
		if (n < 0 && errno == EINTR)
			continue;
		return (n);
	}
}

/*
 * read_lines - hand out the complete lines of the open file (or stdin) up
 * to its end.  final: the file will not grow again, so an unterminated
 * last line is a line.  Returns 0 at the end, 1 stopped early, -1 error.
 */
static int
read_lines(struct tail *t, tail_line_fn cb, void *ctx, size_t max, long *n, int final, char *err,
    size_t errlen)
{
	const char *p;
	size_t len;
	ssize_t r;

	for (;;) {
		while (source_cut(&t->win, &t->st.long_lines, &t->off, &p, &len))
			if (deliver(t, cb, ctx, p, len, max, n))
				return (1);
		if (t->win.start > 0) {
			memmove(t->win.buf, t->win.buf + t->win.start, t->win.end - t->win.start);
			t->win.end -= t->win.start;
			t->win.start = 0;
		}
		if ((r = fill(t)) == -2)
			return (0);
		if (r < 0) {
			snprintf(err, errlen, "%s: read: %s", t->is_stdin ? "-" : t->cur_name,
			    strerror(errno));
			return (-1);
		}
		if (r > 0) {
			t->win.end += (size_t)r;
			continue;
		}
		/* end of file */
		if (t->is_stdin)
			t->eof = final = 1;
		if (!final || t->win.end == 0)
			return (0);
		len = t->win.end;
		t->off += len;
		t->win.start = t->win.end = 0;
		if (t->win.skipping) {
			t->win.skipping = 0;
			return (0);
		}
		return (deliver(t, cb, ctx, t->win.buf, len, max, n));
	}
}

/* check_trunc - restart the open file at 0 if it was truncated; -1 error */
static int
check_trunc(struct tail *t, char *err, size_t errlen)
{
	struct stat st;
	uint64_t rd = t->off + (t->win.end - t->win.start);
	int trunc = 0, same;

	if (fstat(t->fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", t->cur_name, strerror(errno));
		return (-1);
	}
	if ((uint64_t)st.st_size < rd) {
		trunc = 1;
	} else if (t->fp[0] != '\0' &&
	    (st.st_size != t->seen_size || st.st_mtim.tv_sec != t->seen_mtime.tv_sec ||
		st.st_mtim.tv_nsec != t->seen_mtime.tv_nsec)) {
		if ((same = fp_same(t)) < 0) {
			snprintf(err, errlen, "%s: read: %s", t->cur_name, strerror(errno));
			return (-1);
		}
		trunc = !same;
	}
	t->seen_size = st.st_size;
	t->seen_mtime = st.st_mtim;
	t->eof_at = st.st_size;
	if (trunc) {
		tail_note(t,
		    "%s: truncated (copytruncate?) at offset %llu, reading it again from the start",
		    t->cur_name, (unsigned long long)t->off);
		t->st.truncations++;
		t->off = 0;
		t->win.start = t->win.end = 0;
		t->win.skipping = 0;
		t->fp[0] = '\0';
		fp_learn(t);
	}
	return (0);
}

/* drain_events - empty the inotify queue; the events themselves only wake us */
static int
drain_events(struct tail *t, char *err, size_t errlen)
{
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *e;
	ssize_t n;
	size_t i;

	for (;;) {
		n = read(t->ifd, ev, sizeof(ev));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return (0);
			snprintf(err, errlen, "%s: inotify: %s", t->path, strerror(errno));
			return (-1);
		}
		if (n == 0)
			return (0);
		for (i = 0; i + sizeof(*e) <= (size_t)n; i += sizeof(*e) + e->len) {
			e = (const struct inotify_event *)(const void *)(ev + i);
			if (e->wd != t->fwd || (e->mask & ~(uint32_t)WRITE_EVENTS) != 0)
				t->moved = 1; /* the directory, a new file, a move, an overflow */
			if (!(e->mask & IN_IGNORED))
				continue;
			if (e->wd == t->fwd)
				t->fwd = -1;
			else if (e->wd == t->pwd)
				t->pwd = -1;
			else if (e->wd == t->dwd) {
				t->dwd = -1;
				tail_note(t,
				    "%s: its directory went away; the log can no longer be "
				    "followed",
				    t->path);
			}
		}
		/* room left for the longest event: the queue was empty */
		if ((size_t)n + sizeof(*e) + NAME_MAX + 1 <= sizeof(ev))
			return (0);
	}
}

/* note_away - say once per file why we stay on the open file after the log moved away */
static void
note_away(struct tail *t, const char *why)
{
	if (!t->away_noted)
		tail_note(t, "%s: %s", t->path, why);
	t->away_noted = 1;
}

/*
 * follow - read the open file to its end, then decide from stat(2) whether
 * it is still the log; switch to the new file when it is not.  Returns the
 * number of lines handed out, or -1.
 */
static long
follow(struct tail *t, tail_line_fn cb, void *ctx, size_t max, char *err, size_t errlen)
{
	struct stat st, fst;
	long n = 0;
	int r, wd;

	for (;;) {
		if (t->fd < 0 && (r = open_path(t, err, errlen)) <= 0)
			return (r < 0 ? -1 : n);
		if (check_trunc(t, err, errlen) < 0)
			return (-1);
		t->eof_known = 1;
		r = read_lines(t, cb, ctx, max, &n, 0, err, errlen);
		t->eof_known = 0;
		if (r != 0)
			return (r < 0 ? -1 : n);
		if (!t->moved && now_ms() - t->checked_ms < RECHECK_MS)
			return (n); /* only writes since the path was last looked at */
		t->moved = 0;
		t->checked_ms = now_ms();
		if (fstat(t->fd, &fst) < 0) {
			snprintf(err, errlen, "%s: %s", t->cur_name, strerror(errno));
			return (-1);
		}
		if (stat(t->path, &st) < 0) {
			if (errno != ENOENT && errno != ENOTDIR) {
				snprintf(err, errlen, "%s: %s", t->path, strerror(errno));
				return (-1);
			}
			if (fst.st_nlink > 0) {
				/* renamed away, no new file yet */
				note_away(t,
				    "renamed away; reading the old file until a new one appears");
				return (n);
			}
			if ((r = read_lines(t, cb, ctx, max, &n, 1, err, errlen)) != 0)
				return (r < 0 ? -1 : n);
			tail_note(t,
			    "%s: deleted; finished the open file at offset %llu, waiting for the "
			    "log to reappear",
			    t->path, (unsigned long long)t->off);
			file_drop(t);
			t->missing_noted = 1;
			continue;
		}
		if ((uint64_t)st.st_dev == t->dev && (uint64_t)st.st_ino == t->ino)
			return (n);
		if (fst.st_nlink > 0 && st.st_size == 0) {
			/*
			 * A new, still empty log: the writer may not have
			 * reopened yet.  Keep the old file and wake on the new
			 * one's first write; look again after adding the watch
			 * in case it was written meanwhile.
			 */
			note_away(t,
			    "rotated, the new file is still empty; reading the old file until "
			    "the new one is written");
			if ((wd = inotify_add_watch(t->ifd, t->path, FILE_MASK)) >= 0) {
				if (wd == t->pwd)
					return (n);
				if (t->pwd >= 0 && t->pwd != t->fwd)
					(void)inotify_rm_watch(t->ifd, t->pwd);
				t->pwd = wd;
				t->moved = 1; /* look at it again at once */
				continue;
			}
			/* cannot watch it: switch now rather than sleep through its writes */
		}
		if ((r = read_lines(t, cb, ctx, max, &n, 1, err, errlen)) != 0)
			return (r < 0 ? -1 : n);
		if (fst.st_nlink == 0) {
			tail_note(t,
			    "%s: deleted and created again; finished the old file, reading the new "
			    "one from the start",
			    t->path);
			t->st.reopens++;
			file_drop(t);
			continue;
		}
		tail_note(t, "%s: rotated; finished %s at offset %llu", t->path, t->cur_name,
		    (unsigned long long)t->off);
		t->st.rotations++;
		{
			/*
			 * Files rotated after this one (several rotations while
			 * we were down, or while we lagged) come before the log.
			 */
			struct timespec was = fst.st_mtim;
			uint64_t dev = t->dev, ino = t->ino;
			char name[PATH_MAX];
			struct stat nst;
			int nfd;

			file_drop(t);
			if (t->nvisited < (int)(sizeof(t->visited) / sizeof(t->visited[0]))) {
				t->visited[t->nvisited][0] = dev;
				t->visited[t->nvisited][1] = ino;
				t->nvisited++;
			}
			if ((nfd = tail_next_rotated(t, &was, dev, ino, name, sizeof(name),
				 &nst)) >= 0) {
				tail_note(t, "%s: reading %s, rotated after it, from the start",
				    t->path, name);
				if (file_set(t, nfd, &nst, 0, name, err, errlen) < 0)
					return (-1);
				continue;
			}
		}
		tail_note(t, "%s: reading the new file from the start", t->path);
		t->nvisited = 0;
	}
}

/* tail_read - drain notifications, follow rotations, hand out lines */
long
tail_read(struct tail *t, tail_line_fn cb, void *ctx, size_t max_lines, char *err, size_t errlen)
{
	long n = 0;
	int r;

	if (t->is_stdin) {
		if (t->eof)
			return (0);
		r = read_lines(t, cb, ctx, max_lines, &n, 0, err, errlen);
		return (r < 0 ? -1 : n);
	}
	if (drain_events(t, err, errlen) < 0)
		return (-1);
	return (follow(t, cb, ctx, max_lines, err, errlen));
}

/* start_resume - open the log at a committed position (see the header) */
static int
start_resume(struct tail *t, const struct tail_pos *pos, char *err, size_t errlen)
{
	char name[PATH_MAX], fp[TAIL_FP_LEN + 1];
	struct stat st;
	size_t flen;
	int fd, nl, known;

	if ((fd = tail_open_reg(AT_FDCWD, t->path, &st)) >= 0 && (uint64_t)st.st_dev == pos->dev &&
	    (uint64_t)st.st_ino == pos->ino) {
		known = tail_first_fp(t, fd, fp, &flen, &nl);
		if ((uint64_t)st.st_size >= pos->offset &&
		    (pos->fp[0] == '\0' || (known == 1 && strcmp(fp, pos->fp) == 0))) {
			tail_note(t, "%s: resuming at offset %llu", t->path,
			    (unsigned long long)pos->offset);
			return (file_set(t, fd, &st, pos->offset, t->path, err, errlen));
		}
		t->st.truncations++;
		{
			struct stat cst;
			int cfd;

			if ((cfd = tail_find_committed(t, pos, 1, name, sizeof(name), &cst)) >= 0) {
				/* finish the copy; the log itself comes next, from 0 */
				close(fd);
				tail_note(t,
				    "%s: copied and truncated while we were down; finishing the "
				    "copy %s from offset %llu, then the log from the start",
				    t->path, name, (unsigned long long)pos->offset);
				return (file_set(t, cfd, &cst, pos->offset, name, err, errlen));
			}
		}
		tail_note(t,
		    "%s: truncated or rewritten while we were down (size %llu, committed offset "
		    "%llu); reading it from the start",
		    t->path, (unsigned long long)st.st_size, (unsigned long long)pos->offset);
		return (file_set(t, fd, &st, 0, t->path, err, errlen));
	}
	if (fd < 0 && errno != ENOENT && errno != ENOTDIR) {
		snprintf(err, errlen, "%s: %s", t->path, strerror(errno));
		return (-1);
	}
	if (fd >= 0)
		close(fd);
	if ((fd = tail_find_committed(t, pos, 0, name, sizeof(name), &st)) >= 0) {
		tail_note(t, "%s: rotated while we were down; finishing %s from offset %llu first",
		    t->path, name, (unsigned long long)pos->offset);
		t->st.rotations++;
		return (file_set(t, fd, &st, pos->offset, name, err, errlen));
	}
	tail_note(t,
	    "%s: the file of the committed position (inode %llu) is gone or compressed; reading "
	    "the current log from the start, lines written in between may be lost",
	    t->path, (unsigned long long)pos->ino);
	return (open_path(t, err, errlen) < 0 ? -1 : 0);
}

/* start_fresh - open a log never seen at its end (line boundary) or start */
static int
start_fresh(struct tail *t, enum tail_start start, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if ((fd = tail_open_reg(AT_FDCWD, t->path, &st)) < 0) {
		if (errno != ENOENT && errno != ENOTDIR) {
			snprintf(err, errlen, "%s: %s", t->path, strerror(errno));
			return (-1);
		}
		tail_note(t, "%s: does not exist (yet), waiting for it", t->path);
		t->missing_noted = 1;
		return (0);
	}
	return (file_set(t, fd, &st,
	    start == TAIL_START_END ? end_boundary(t, fd, (uint64_t)st.st_size) : 0, t->path, err,
	    errlen));
}

/* split_path - the log's directory and base name */
static int
split_path(struct tail *t, const char *path, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	size_t dl;

	if (snprintf(t->path, sizeof(t->path), "%s", path) >= (int)sizeof(t->path)) {
		snprintf(err, errlen, "%.64s...: path too long", path);
		return (-1);
	}
	if (slash == NULL) {
		snprintf(t->dir, sizeof(t->dir), ".");
		slash = path - 1;
	} else {
		dl = (size_t)(slash - path);
		if (dl == 0)
			dl = 1; /* "/name" */
		memcpy(t->dir, path, dl);
		t->dir[dl] = '\0';
	}
	if (slash[1] == '\0' || strlen(slash + 1) > NAME_MAX) {
		snprintf(err, errlen, "%s: not a file name", path);
		return (-1);
	}
	snprintf(t->base, sizeof(t->base), "%s", slash + 1);
	return (0);
}

/* tail_open - see tail.h */
int
tail_open(struct tail **out, const char *path, const struct tail_pos *resume, enum tail_start start,
    tail_note_fn note_fn, void *nctx, char *err, size_t errlen)
{
	struct tail *t;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL || (t->win.buf = malloc(BUFSZ)) == NULL ||
	    (t->scratch = malloc(SOURCE_LINE_MAX + 1)) == NULL) {
		if (t != NULL)
			free(t->win.buf);
		free(t);
		snprintf(err, errlen, "%s: out of memory", path);
		return (-1);
	}
	t->fd = t->ifd = t->dwd = t->fwd = t->pwd = -1;
	t->note = note_fn;
	t->nctx = nctx;
	if (strcmp(path, "-") == 0) {
		t->is_stdin = 1;
		snprintf(t->path, sizeof(t->path), "-");
		snprintf(t->cur_name, sizeof(t->cur_name), "-");
		*out = t;
		return (0);
	}
	if (split_path(t, path, err, errlen) < 0)
		goto fail;
	if ((t->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: inotify: %s", path, strerror(errno));
		goto fail;
	}
	if ((t->dwd = inotify_add_watch(t->ifd, t->dir, DIR_MASK)) < 0) {
		snprintf(err, errlen, "%s: cannot watch directory %s: %s", path, t->dir,
		    strerror(errno));
		goto fail;
	}
	if ((resume != NULL ? start_resume(t, resume, err, errlen)
			    : start_fresh(t, start, err, errlen)) < 0)
		goto fail;
	*out = t;
	return (0);
fail:
	tail_close(t);
	return (-1);
}

/* tail_close - release everything; NULL is fine */
void
tail_close(struct tail *t)
{
	if (t == NULL)
		return;
	if (t->fd >= 0)
		close(t->fd);
	if (t->ifd >= 0)
		close(t->ifd);
	free(t->win.buf);
	free(t->scratch);
	free(t);
}

/* tail_fd - inotify descriptor, or 0 for standard input */
int
tail_fd(const struct tail *t)
{
	return (t->is_stdin ? STDIN_FILENO : t->ifd);
}

/* tail_eof - 1 once standard input is exhausted */
int
tail_eof(const struct tail *t)
{
	return (t->eof);
}

/* tail_stats - counters since tail_open */
const struct tail_stats *
tail_stats(const struct tail *t)
{
	return (&t->st);
}
