/*
 * NAME
 *	tail_rotate - a log's first-line fingerprint and its rotated files
 * SUMMARY
 *	Exports tail_fingerprint(); to tail.c (tail_priv.h) tail_first_fp(),
 *	tail_find_committed() and tail_next_rotated().
 *
 *	Fingerprint.  The first line of a file (its first SOURCE_LINE_MAX
 *	bytes if longer) is hashed into 256 bits (four seeded 64-bit lanes),
 *	written as 64 hex digits: what tells a file apart from the file that
 *	replaced it under the same inode or the copy logrotate made of it.
 *
 *	Rotated files.  A rotated name is NAME[.-]anything in the log's
 *	directory, not compressed (.gz, .bz2, .xz, .zst).  At resume the
 *	file of a committed position is looked for among them by inode and
 *	fingerprint, or, after a copytruncate while we were down, its copy
 *	by fingerprint (both tail_find_committed); while following, the
 *	rotated files newer than the one just finished are taken oldest
 *	first (tail_next_rotated).
 * RETURNS
 *	An open descriptor (name and stat filled) or -1; tail_first_fp() 1,
 *	0 (no complete first line yet) or -1.  Never prints or exits; notes
 *	go through the tail's note callback.
 * UNTRUSTED INPUT
 *	File contents are only hashed; the directory's file names are only
 *	compared against the log's name.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "count/tail_priv.h"

/* mix64 - final avalanche of a 64-bit lane (murmur3's finaliser constants) */
static uint64_t
mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (h);
}

/* tail_fingerprint - four seeded FNV-1a lanes, finalised, as 64 hex digits */
void
tail_fingerprint(const char *line, size_t len, char out[TAIL_FP_LEN + 1])
{
	static const uint64_t seed[4] = {
		0xcbf29ce484222325ULL,
		0x9e3779b97f4a7c15ULL,
		0x243f6a8885a308d3ULL,
		0x13198a2e03707344ULL,
	};
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)line;
	uint64_t h[4];
	size_t i;
	int k, b;

	for (k = 0; k < 4; k++)
		h[k] = seed[k] ^ ((uint64_t)len * 0x100000001b3ULL);
	for (i = 0; i < len; i++)
		for (k = 0; k < 4; k++) {
			h[k] ^= p[i];
			h[k] *= 0x100000001b3ULL;
		}
	for (k = 0; k < 4; k++) {
		h[k] = mix64(h[k] + (uint64_t)k);
		for (b = 0; b < 16; b++)
			out[k * 16 + b] = hex[(h[k] >> (60 - 4 * b)) & 0xf];
	}
	out[TAIL_FP_LEN] = '\0';
}

/*
 * tail_first_fp - fingerprint of the first line of fd: 1 known (out, *len, *nl
 * filled), 0 not yet known (no complete first line), -1 read error.
 */
int
tail_first_fp(struct tail *t, int fd, char out[TAIL_FP_LEN + 1], size_t *len, int *nl)
{
	ssize_t n;
	char *p;

	do
		n = pread(fd, t->scratch, SOURCE_LINE_MAX + 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return (-1);
	if ((p = memchr(t->scratch, '\n', (size_t)n)) != NULL) {
		*len = (size_t)(p - t->scratch);
		*nl = 1;
	} else if (n > SOURCE_LINE_MAX) {
		*len = SOURCE_LINE_MAX; /* over-long first line: its head */
		*nl = 0;
	} else {
		out[0] = '\0';
		return (0);
	}
	tail_fingerprint(t->scratch, *len, out);
	return (1);
}

/* rotated_name - NAME[.-]anything, not compressed */
static int
rotated_name(const struct tail *t, const char *name)
{
	static const char *const zext[] = { ".gz", ".bz2", ".xz", ".zst" };
	size_t bl = strlen(t->base), nl = strlen(name), el, i;

	if (nl <= bl + 1 || memcmp(name, t->base, bl) != 0)
		return (0);
	if (name[bl] != '.' && name[bl] != '-')
		return (0);
	for (i = 0; i < sizeof(zext) / sizeof(zext[0]); i++) {
		el = strlen(zext[i]);
		if (nl >= el && strcmp(name + nl - el, zext[i]) == 0)
			return (0);
	}
	return (1);
}

/* was_visited - (dev, ino) was finished since the log itself was last open */
static int
was_visited(const struct tail *t, uint64_t dev, uint64_t ino)
{
	int i;

	for (i = 0; i < t->nvisited; i++)
		if (t->visited[i][0] == dev && t->visited[i][1] == ino)
			return (1);
	return (0);
}

/*
 * older_name - for two rotated files with the same mtime: NAME.2 is older
 * than NAME.1 (logrotate's numbers count back); other suffixes (dates)
 * sort forward.
 */
static int
older_name(const struct tail *t, const char *a, const char *b)
{
	size_t bl = strlen(t->base);
	char *ea, *eb;
	long na = strtol(a + bl + 1, &ea, 10), nb = strtol(b + bl + 1, &eb, 10);

	if (*ea == '\0' && *eb == '\0' && ea != a + bl + 1 && eb != b + bl + 1)
		return (na > nb);
	return (strcmp(a, b) < 0);
}

/*
 * tail_next_rotated - the rotated file (uncompressed, not the log itself, not
 * dev/ino) with the oldest mtime after *after; its fd (name, stat filled),
 * or -1.  A compressed one in that range is noted: its lines are skipped.
 */
int
tail_next_rotated(struct tail *t, const struct timespec *after, uint64_t dev, uint64_t ino,
    char *name, size_t namelen, struct stat *st)
{
	const struct dirent *d;
	struct stat cur, s2, best;
	char bestname[NAME_MAX + 1] = "";
	int have_cur, fd;
	DIR *dp;

	memset(&best, 0, sizeof(best));
	have_cur = stat(t->path, &cur) == 0;
	if ((dp = opendir(t->dir)) == NULL)
		return (-1);
	while ((d = readdir(dp)) != NULL) {
		size_t bl = strlen(t->base);

		if (strncmp(d->d_name, t->base, bl) != 0 ||
		    (d->d_name[bl] != '.' && d->d_name[bl] != '-'))
			continue;
		if (fstatat(dirfd(dp), d->d_name, &s2, 0) < 0 || !S_ISREG(s2.st_mode))
			continue;
		if (((uint64_t)s2.st_dev == dev && (uint64_t)s2.st_ino == ino) ||
		    (have_cur && s2.st_dev == cur.st_dev && s2.st_ino == cur.st_ino) ||
		    was_visited(t, (uint64_t)s2.st_dev, (uint64_t)s2.st_ino))
			continue;
		/* equal times are possible: file times are coarser than our reads */
		if (s2.st_mtim.tv_sec < after->tv_sec ||
		    (s2.st_mtim.tv_sec == after->tv_sec && s2.st_mtim.tv_nsec < after->tv_nsec))
			continue;
		if (!rotated_name(t, d->d_name)) {
			tail_note(t,
			    "%s: %s/%s was rotated after the file we finished but is compressed; "
			    "its lines are not read",
			    t->path, t->dir, d->d_name);
			continue;
		}
		if (bestname[0] == '\0' || s2.st_mtim.tv_sec < best.st_mtim.tv_sec ||
		    (s2.st_mtim.tv_sec == best.st_mtim.tv_sec &&
			(s2.st_mtim.tv_nsec < best.st_mtim.tv_nsec ||
			    (s2.st_mtim.tv_nsec == best.st_mtim.tv_nsec &&
				older_name(t, d->d_name, bestname))))) {
			best = s2;
			snprintf(bestname, sizeof(bestname), "%s", d->d_name);
		}
	}
	fd = -1;
	if (bestname[0] != '\0' &&
	    (size_t)snprintf(name, namelen, "%s/%s", t->dir, bestname) < namelen)
		fd = tail_open_reg(dirfd(dp), bestname, st);
	closedir(dp);
	return (fd);
}

/*
 * tail_find_committed - look among the rotated names in the log's
 * directory for the file of a committed position (copy 0: that very
 * inode, known by its name's stat before it is opened) or, after a
 * copytruncate while we were down, for logrotate's copy of it (copy 1:
 * another inode that starts with the committed first line).  Either
 * reaches the committed offset and, where a fingerprint was committed,
 * starts with that line.  Its fd (name and stat filled), or -1.
 */
int
tail_find_committed(struct tail *t, const struct tail_pos *pos, int copy, char *name,
    size_t namelen, struct stat *st)
{
	const struct dirent *d;
	char fp[TAIL_FP_LEN + 1];
	size_t flen;
	int fd = -1, nl;
	DIR *dp;

	if ((copy && pos->fp[0] == '\0') || (dp = opendir(t->dir)) == NULL)
		return (-1);
	while (fd < 0 && (d = readdir(dp)) != NULL) {
		if (!rotated_name(t, d->d_name))
			continue;
		if (!copy &&
		    (fstatat(dirfd(dp), d->d_name, st, 0) < 0 || (uint64_t)st->st_dev != pos->dev ||
			(uint64_t)st->st_ino != pos->ino))
			continue;
		if ((size_t)snprintf(name, namelen, "%s/%s", t->dir, d->d_name) >= namelen ||
		    (fd = tail_open_reg(dirfd(dp), d->d_name, st)) < 0)
			continue;
		if (((uint64_t)st->st_ino == pos->ino) == copy ||
		    (uint64_t)st->st_size < pos->offset ||
		    (pos->fp[0] != '\0' &&
			(tail_first_fp(t, fd, fp, &flen, &nl) != 1 || strcmp(fp, pos->fp) != 0))) {
			close(fd);
			fd = -1;
		}
	}
	closedir(dp);
	return (fd);
}
