/*
 * NAME
 *	source - replay lines from a plain file, a gzip file or stdin
 * SUMMARY
 *	source_open() opens a path ("-" is standard input); gzip is detected
 *	by its magic bytes, not the file name.  source_next() returns one
 *	complete line at a time without its newline (a last line without a
 *	newline is still a line; a trailing CR is kept).  A line longer than
 *	SOURCE_LINE_MAX is skipped and counted.  The returned pointer is valid
 *	until the next call.  No allocation per line.
 */
#ifndef SG_SOURCE_H
#define SG_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SOURCE_LINE_MAX 16384

struct source;

/* source_open - 0 or -1 with err ("path: reason") */
int	source_open(struct source **out, const char *path, char *err, size_t errlen);

/* source_next - 1 line returned, 0 end of input, -1 read error (err filled) */
int	source_next(struct source *, const char **line, size_t *len,
		    char *err, size_t errlen);

/* source_mtime - the file's mtime; the current time for stdin */
time_t	source_mtime(const struct source *);
/* source_pos/source_size - bytes consumed of the underlying file, its size (0 if unknown) */
uint64_t source_pos(const struct source *);
uint64_t source_size(const struct source *);
uint64_t source_long_lines(const struct source *);
const char *source_name(const struct source *);
void	source_close(struct source *);

#endif
