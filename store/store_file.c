/*
 * NAME
 *	store_file - the state database's files on disk: what is checked
 *	before SQLite opens them, and the lock that lets one daemon at a time
 *	use a database
 * SUMMARY
 *	store_file_check() (store_priv.h) runs before store_open() hands a
 *	file to SQLite.  It gives the path SQLite is to open: the directory
 *	resolved (realpath), the file's own name kept, so that SQLite can
 *	open it with SQLITE_OPEN_NOFOLLOW, which refuses a symbolic link
 *	anywhere in the name it is given.  Then:
 *	- a symbolic link at the database, its -wal or its -shm is refused
 *	  (whoever put it there wants our writes to land elsewhere);
 *	- writable opens only: an existing database that is empty, or does
 *	  not start with the SQLite header, is refused: SQLite would take an
 *	  empty file for a new database, and a state that a full disk or a
 *	  crash emptied would then forget every block at the next start.  (A
 *	  read-only open is refused by SQLite or by the schema check; an
 *	  SQLite database without sendguard's schema is refused by the
 *	  migration, store.c.)
 *	- writable opens only: a missing database is created here, mode 0600,
 *	  without following a link (O_EXCL); SQLite makes the -wal and -shm
 *	  with the database's mode.  Existing files (database, -wal, -shm)
 *	  must be regular files of ours, and lose group and other
 *	  permissions, which older versions left them (0644): each change is
 *	  noted for store_notes().
 *
 *	store_lock() is the lock of one daemon per database: flock(LOCK_EX)
 *	on PATH.lock beside it (made 0600 like the rest), held for the
 *	daemon's life.  It is not SQLite's own locking: a second daemon must
 *	be stopped at start whatever socket it was given, while `status`
 *	and `explain` go on reading the database beside the first.  The
 *	kernel drops a flock when its holder dies, so a crash leaves no
 *	stale lock.  The lock file holds the holder's pid, for the message
 *	that names it.  The file is never removed (removing it would let a
 *	second locker lock a new file while the first holds the old one).
 * RETURNS
 *	0 / a descriptor, or -1 with "path: reason" in err; STORE_LOCKED when
 *	another process holds the lock.  Never prints or exits.
 * UNTRUSTED INPUT
 *	The files themselves: their first bytes are compared, never parsed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_priv.h"
#include "util/priv.h"

static const char sqlite_magic[16] = "SQLite format 3"; /* and its NUL */

/* note - add one "what happened" to the store's notes */
static void
note(struct store *s, const char *path, mode_t was)
{
	size_t n = strlen(s->notes);

	(void)snprintf(s->notes + n, sizeof(s->notes) - n,
	    "%s%s was mode %04o (others could read it): made 0600", n ? "; " : "", path,
	    (unsigned)was);
}

/* resolve - the path SQLite opens: the directory resolved, the name kept; NULL + err */
static char *
resolve(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX], real[PATH_MAX], *out;
	const char *slash = strrchr(path, '/'), *base = slash != NULL ? slash + 1 : path;
	size_t n = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);

	if (*base == '\0' || n >= sizeof(dir)) {
		(void)store_seterr(err, errlen, "%s: not a file name", path);
		return (NULL);
	}
	memcpy(dir, slash == NULL ? "." : path, n);
	dir[n] = '\0';
	if (realpath(dir, real) == NULL) {
		(void)store_seterr(err, errlen, "%s: %s: %s", path, dir, strerror(errno));
		return (NULL);
	}
	if ((out = malloc(strlen(real) + strlen(base) + 2)) == NULL) {
		(void)store_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	(void)snprintf(out, strlen(real) + strlen(base) + 2, "%s%s%s", real,
	    strcmp(real, "/") == 0 ? "" : "/", base);
	return (out);
}

/* check_head - an open database file: not empty, the SQLite header; 0 or -1 + err */
static int
check_head(int fd, const char *path, char *err, size_t errlen)
{
	char head[sizeof(sqlite_magic)];
	struct stat st;
	ssize_t r;

	if (fstat(fd, &st) < 0)
		return store_seterr(err, errlen, "%s: %s", path, strerror(errno));
	if (st.st_size == 0)
		return store_seterr(err, errlen,
		    "%s: an empty file (0 bytes), not a sendguard database: refusing it, "
		    "as taking it for a new one would forget every block and count (a full "
		    "disk or a crash may have emptied it): restore it from a backup, or "
		    "remove it to start afresh",
		    path);
	r = pread(fd, head, sizeof(head), 0);
	if (r < 0)
		return store_seterr(err, errlen, "%s: %s", path, strerror(errno));
	if (r != (ssize_t)sizeof(head) || memcmp(head, sqlite_magic, sizeof(head)) != 0)
		return store_seterr(err, errlen,
		    "%s: not a database (no SQLite header), so not sendguard's: refusing "
		    "it (is `state` the right file?)",
		    path);
	return 0;
}

/* side_file - the -wal or -shm of a writable database: no link, ours, private */
static int
side_file(struct store *s, const char *suffix, char *err, size_t errlen)
{
	char p[PATH_MAX];
	mode_t was;
	int fd;

	if ((size_t)snprintf(p, sizeof(p), "%s%s", s->fpath, suffix) >= sizeof(p))
		return store_seterr(err, errlen, "%s: path too long", s->path);
	if ((fd = priv_open(p, O_RDONLY, &was, err, errlen)) < 0)
		return errno == ENOENT ? 0 : -1;
	(void)close(fd);
	if (was != 0)
		note(s, p, was);
	return 0;
}

/* store_file_check - see the head of this file */
int
store_file_check(struct store *s, int *created, char *err, size_t errlen)
{
	mode_t was = 0;
	int fd, r;

	*created = 0;
	if ((s->fpath = resolve(s->path, err, errlen)) == NULL)
		return -1;
	if (s->readonly)
		fd = open(s->fpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	else
		fd = priv_open(s->fpath, O_RDONLY, &was, err, errlen);
	if (fd < 0 && errno == ENOENT) {
		if (s->readonly)
			return 0; /* SQLite says it cannot open it */
		if ((fd = priv_open(s->fpath, O_RDWR | O_CREAT | O_EXCL, NULL, err, errlen)) < 0)
			return -1;
		(void)close(fd);
		*created = 1;
		return 0;
	}
	if (fd < 0) {
		if (s->readonly)
			(void)store_seterr(err, errlen, "%s: %s", s->path,
			    errno == ELOOP ? "a symbolic link: refusing to follow it"
					   : strerror(errno));
		return -1;
	}
	r = s->readonly ? 0 : check_head(fd, s->path, err, errlen);
	(void)close(fd);
	if (r < 0 || s->readonly)
		return r;
	if (was != 0)
		note(s, s->path, was);
	return side_file(s, "-wal", err, errlen) < 0 || side_file(s, "-shm", err, errlen) < 0 ? -1
											      : 0;
}

/* lock_path - PATH.lock into out; 0 or -1 + err */
static int
lock_path(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	if ((size_t)snprintf(out, outlen, "%s.lock", path) >= outlen)
		return store_seterr(err, errlen, "%s: path too long", path);
	return 0;
}

/* holder_of - the pid written in an open lock file; 0 when unreadable */
static long
holder_of(int fd)
{
	char b[32], *end;
	ssize_t r = pread(fd, b, sizeof(b) - 1, 0);
	long pid;

	if (r <= 0)
		return 0;
	b[r] = '\0';
	errno = 0;
	pid = strtol(b, &end, 10);
	if (errno == ERANGE || end == b || (*end != '\n' && *end != '\0') || pid <= 0)
		return 0;
	return pid;
}

/* store_lock - see store.h */
int
store_lock(const char *path, long *holder, char *err, size_t errlen)
{
	char lp[PATH_MAX];
	int fd;

	*holder = 0;
	if (lock_path(path, lp, sizeof(lp), err, errlen) < 0 ||
	    (fd = priv_open(lp, O_RDWR | O_CREAT, NULL, err, errlen)) < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		if (e == EWOULDBLOCK || e == EAGAIN) {
			*holder = holder_of(fd);
			(void)close(fd);
			(void)store_seterr(err, errlen, "%s: locked by another process", lp);
			return STORE_LOCKED;
		}
		(void)close(fd);
		return store_seterr(err, errlen, "%s: flock: %s", lp, strerror(e));
	}
	if (store_lock_pid(fd) < 0) {
		int e = errno;

		(void)close(fd);
		return store_seterr(err, errlen, "%s: %s", lp, strerror(e));
	}
	return fd;
}

/* store_lock_pid - write our pid into the lock file (again after a fork) */
int
store_lock_pid(int fd)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, b, (size_t)n, 0) != n)
		return -1;
	return 0;
}

/* store_unlock - let go of the lock (the file stays) */
void
store_unlock(int fd)
{
	if (fd >= 0)
		(void)close(fd);
}

/* store_notes - what store_open() changed on disk, "" for nothing */
const char *
store_notes(const struct store *s)
{
	return s->notes;
}
