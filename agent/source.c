/*
 * NAME
 *	source - line reader over plain files, gzip files and stdin
 * SUMMARY
 *	See source.h.  Reads in 64 KiB blocks into a fixed buffer of
 *	SOURCE_LINE_MAX + block bytes; lines are returned in place.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "agent/source.h"

#define BLOCK	(64 * 1024)
#define BUFSZ	(SOURCE_LINE_MAX + BLOCK + 1)

struct source {
	char	name[256];
	int	fd;
	gzFile	gz;		/* non-NULL for gzip input */
	time_t	mtime;
	uint64_t size;
	uint64_t long_lines;
	int	eof;
	int	skipping;	/* inside an over-long line: drop to its newline */
	char   *buf;
	size_t	start, end;	/* unread bytes are buf[start..end) */
};

/* source_open - open path, detect gzip by magic */
int
source_open(struct source **out, const char *path, char *err, size_t errlen)
{
	struct source *s;
	struct stat st;
	unsigned char magic[2];
	ssize_t n;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL || (s->buf = malloc(BUFSZ)) == NULL) {
		free(s);
		snprintf(err, errlen, "%s: out of memory", path);
		return (-1);
	}
	snprintf(s->name, sizeof(s->name), "%s", path);
	if (strcmp(path, "-") == 0) {
		s->fd = STDIN_FILENO;
		s->mtime = time(NULL);
		/* stdin may be gzip too; peek without seeking via gzdopen */
		if ((s->gz = gzdopen(dup(STDIN_FILENO), "rb")) == NULL) {
			snprintf(err, errlen, "-: cannot read standard input");
			goto fail;
		}
		gzbuffer(s->gz, BLOCK);
		*out = s;
		return (0);
	}
	if ((s->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(s->fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail_fd;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: is a directory", path);
		goto fail_fd;
	}
	s->mtime = st.st_mtime;
	s->size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	n = pread(s->fd, magic, 2, 0);
	if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
		if ((s->gz = gzdopen(dup(s->fd), "rb")) == NULL) {
			snprintf(err, errlen, "%s: cannot open gzip stream", path);
			goto fail_fd;
		}
		gzbuffer(s->gz, BLOCK);
	}
	*out = s;
	return (0);
fail_fd:
	close(s->fd);
fail:
	free(s->buf);
	free(s);
	return (-1);
}

/* fill - read more bytes after compacting; 0 at EOF, -1 on error */
static ssize_t
fill(struct source *s, char *err, size_t errlen)
{
	ssize_t n;
	int zerr;

	if (s->start > 0) {
		memmove(s->buf, s->buf + s->start, s->end - s->start);
		s->end -= s->start;
		s->start = 0;
	}
	if (s->gz != NULL) {
		n = gzread(s->gz, s->buf + s->end, BLOCK);
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", s->name, gzerror(s->gz, &zerr));
			return (-1);
		}
	} else {
		do
			n = read(s->fd, s->buf + s->end, BLOCK);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", s->name, strerror(errno));
			return (-1);
		}
	}
	s->end += (size_t)n;
	return (n);
}

/* source_next - next complete line, see source.h */
int
source_next(struct source *s, const char **line, size_t *len, char *err, size_t errlen)
{
	char *nl;
	ssize_t n;

	for (;;) {
		nl = memchr(s->buf + s->start, '\n', s->end - s->start);
		if (nl != NULL) {
			size_t l = (size_t)(nl - (s->buf + s->start));
			const char *p = s->buf + s->start;

			s->start += l + 1;
			if (s->skipping) {
				s->skipping = 0;
				continue;
			}
			if (l > SOURCE_LINE_MAX) {
				s->long_lines++;
				continue;
			}
			*line = p;
			*len = l;
			return (1);
		}
		if (s->end - s->start > SOURCE_LINE_MAX) {
			/* over-long: drop what we have, skip to the next newline */
			if (!s->skipping)
				s->long_lines++;
			s->skipping = 1;
			s->start = s->end = 0;
		}
		if (s->eof)
			break;
		if ((n = fill(s, err, errlen)) < 0)
			return (-1);
		if (n == 0)
			s->eof = 1;
	}
	if (s->end > s->start && !s->skipping) {
		/* a last line without a newline is still a line */
		*line = s->buf + s->start;
		*len = s->end - s->start;
		s->start = s->end;
		return (1);
	}
	return (0);
}

time_t
source_mtime(const struct source *s)
{
	return (s->mtime);
}

uint64_t
source_pos(const struct source *s)
{
	off_t o;

	if (s->gz != NULL)
		return ((uint64_t)gzoffset(s->gz));
	o = lseek(s->fd, 0, SEEK_CUR);
	return (o < 0 ? 0 : (uint64_t)o);
}

uint64_t
source_size(const struct source *s)
{
	return (s->size);
}

uint64_t
source_long_lines(const struct source *s)
{
	return (s->long_lines);
}

const char *
source_name(const struct source *s)
{
	return (s->name);
}

/* source_close - release everything; stdin itself stays open */
void
source_close(struct source *s)
{
	if (s == NULL)
		return;
	if (s->gz != NULL)
		gzclose(s->gz);
	if (s->fd != STDIN_FILENO)
		close(s->fd);
	free(s->buf);
	free(s);
}
