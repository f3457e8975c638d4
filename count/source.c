/*
 * NAME
 *	source - line reader over plain and compressed files and stdin
 * SUMMARY
 *	See source.h.  The file is read in 64 KiB blocks into `in`; text is
 *	copied, compressed data goes through one streaming decoder (zlib,
 *	liblzma, libbz2 or libzstd), into `buf`, a fixed buffer of
 *	SOURCE_LINE_MAX + one block where lines are returned in place.
 *	Memory is fixed at open: the two buffers and the decoder's state.
 * UNTRUSTED INPUT
 *	The whole file.  Each decoder checks its format's own integrity
 *	data (gzip CRC-32 and length, the xz check, bzip2 CRCs, the zstd
 *	checksum when the file has one) and caps its memory; the end of the
 *	input inside a stream is reported as a truncated stream.
 */
#include <bzlib.h>
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "count/source.h"

#define BLOCK	((size_t)64 * 1024)
#define BUFSZ	(SOURCE_LINE_MAX + BLOCK + 1)
#define SNIFF	6			/* the longest magic we look at (xz) */
#define XZ_MEMLIMIT ((uint64_t)256 << 20)	/* xz -9 needs 65 MiB */

enum src_fmt { FMT_TEXT, FMT_GZIP, FMT_XZ, FMT_BZIP2, FMT_ZSTD, FMT_OTHER };

static const char *const fmt_name[] = { "text", "gzip", "xz", "bzip2", "zstd", "" };

struct source {
	char   *name;		/* as given; "-" is standard input */
	int	fd;
	int	is_stdin;	/* fd is standard input: never closed */
	enum src_fmt fmt;
	time_t	mtime;
	uint64_t size;
	uint64_t raw_pos;	/* bytes read from fd */
	uint64_t long_lines;
	int	eof;		/* no more decoded bytes */
	int	raw_eof;	/* read() on fd returned 0 */
	int	skipping;	/* inside an over-long line: drop to its newline */
	int	in_stream;	/* gzip, xz, bzip2: inside a member or stream */
	size_t	zstd_left;	/* last ZSTD_decompressStream() hint: 0 at a frame's end */
	char   *buf;
	size_t	start, end;	/* unread decoded bytes are buf[start..end) */
	unsigned char *in;
	size_t	in_start, in_end;	/* undecoded bytes are in[in_start..in_end) */
	z_stream z;
	int	z_live;
	lzma_stream xz;
	int	xz_live;
	bz_stream bz;
	int	bz_live;
	ZSTD_DStream *zs;
};

/* label - the file's name in messages */
static const char *
label(const struct source *s)
{
	return (s->is_stdin ? "standard input" : s->name);
}

/* raw_read - append one read() of the file to in; bytes read, 0 at EOF, -1 error */
static ssize_t
raw_read(struct source *s, char *err, size_t errlen)
{
	ssize_t n;

	if (s->in_start > 0) {
		memmove(s->in, s->in + s->in_start, s->in_end - s->in_start);
		s->in_end -= s->in_start;
		s->in_start = 0;
	}
	if (s->in_end == BLOCK)
		return (1);	/* full: the caller has input to work on */
	do
		n = read(s->fd, s->in + s->in_end, BLOCK - s->in_end);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", label(s), strerror(errno));
		return (-1);
	}
	if (n == 0)
		s->raw_eof = 1;
	s->in_end += (size_t)n;
	s->raw_pos += (uint64_t)n;
	return (n);
}

/* more_input - make sure compressed input is buffered: 0, or -1 (a truncated stream) */
static int
more_input(struct source *s, char *err, size_t errlen)
{
	while (s->in_start == s->in_end) {
		if (s->raw_eof) {
			snprintf(err, errlen, "%s: truncated %s stream", label(s), fmt_name[s->fmt]);
			return (-1);
		}
		if (raw_read(s, err, errlen) < 0)
			return (-1);
	}
	return (0);
}

/*
 * next_stream - before a gzip member or an xz or bzip2 stream: skip NUL
 * padding, then 1 when a stream starts (its first byte is first), 0 at
 * the end of the file, -1 when anything else follows.
 */
static int
next_stream(struct source *s, unsigned char first, char *err, size_t errlen)
{
	for (;;) {
		while (s->in_start < s->in_end && s->in[s->in_start] == 0)
			s->in_start++;
		if (s->in_start < s->in_end) {
			if (s->in[s->in_start] == first)
				return (1);
			snprintf(err, errlen, "%s: data after the end of the %s stream", label(s),
			    fmt_name[s->fmt]);
			return (-1);
		}
		if (s->raw_eof)
			return (0);
		if (raw_read(s, err, errlen) < 0)
			return (-1);
	}
}

/* corrupt - the error of a decoder that rejected its input; always -1 */
static ssize_t
corrupt(const struct source *s, const char *why, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: corrupt %s stream (%s)", label(s), fmt_name[s->fmt],
	    why != NULL ? why : "bad data");
	return (-1);
}

/* text_fill - copy buffered bytes to out, else read into it; bytes, 0 at EOF, -1 */
static ssize_t
text_fill(struct source *s, char *out, size_t cap, char *err, size_t errlen)
{
	size_t n = s->in_end - s->in_start;
	ssize_t r;

	if (n > 0) {
		if (n > cap)
			n = cap;
		memcpy(out, s->in + s->in_start, n);
		s->in_start += n;
		return ((ssize_t)n);
	}
	if (s->raw_eof)
		return (0);
	do
		r = read(s->fd, out, cap);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", label(s), strerror(errno));
		return (-1);
	}
	if (r == 0)
		s->raw_eof = 1;
	s->raw_pos += (uint64_t)r;
	return (r);
}

/* gzip_fill - inflate member after member (cat a.gz b.gz); as text_fill */
static ssize_t
gzip_fill(struct source *s, char *out, size_t cap, char *err, size_t errlen)
{
	size_t got;
	int r;

	for (;;) {
		if (!s->in_stream) {
			if ((r = next_stream(s, 0x1f, err, errlen)) <= 0)
				return (r);
			if (inflateReset(&s->z) != Z_OK)
				return (corrupt(s, "cannot reset the decoder", err, errlen));
			s->in_stream = 1;
		}
		if (more_input(s, err, errlen) < 0)
			return (-1);
		s->z.next_in = s->in + s->in_start;
		s->z.avail_in = (uInt)(s->in_end - s->in_start);
		s->z.next_out = (Bytef *)out;
		s->z.avail_out = (uInt)cap;
		r = inflate(&s->z, Z_NO_FLUSH);
		s->in_start = s->in_end - s->z.avail_in;
		got = cap - s->z.avail_out;
		if (r == Z_STREAM_END)
			s->in_stream = 0;
		else if (r != Z_OK && r != Z_BUF_ERROR)
			return (corrupt(s, s->z.msg != NULL ? s->z.msg : zError(r), err, errlen));
		if (got > 0)
			return ((ssize_t)got);
	}
}

/* xz_why - what a liblzma error means to the administrator */
static const char *
xz_why(lzma_ret r)
{
	switch (r) {
	case LZMA_MEM_ERROR:
		return ("out of memory");
	case LZMA_MEMLIMIT_ERROR:
		return ("it needs more than 256 MiB of memory to decompress");
	case LZMA_FORMAT_ERROR:
		return ("bad stream header");
	case LZMA_OPTIONS_ERROR:
		return ("unsupported options");
	case LZMA_DATA_ERROR:
		return ("bad data or checksum");
	default:
		return ("decoder error");
	}
}

/* xz_fill - liblzma stream after stream (xz of several streams, cat a.xz b.xz); as text_fill */
static ssize_t
xz_fill(struct source *s, char *out, size_t cap, char *err, size_t errlen)
{
	lzma_ret r;
	size_t got;
	int k;

	for (;;) {
		if (!s->in_stream) {
			/* stream padding is NUL bytes; the next stream starts with fd */
			if ((k = next_stream(s, 0xfd, err, errlen)) <= 0)
				return (k);
			if ((r = lzma_stream_decoder(&s->xz, XZ_MEMLIMIT, 0)) != LZMA_OK)
				return (corrupt(s, xz_why(r), err, errlen));
			s->xz_live = 1;
			s->in_stream = 1;
		}
		if (more_input(s, err, errlen) < 0)
			return (-1);
		s->xz.next_in = s->in + s->in_start;
		s->xz.avail_in = s->in_end - s->in_start;
		s->xz.next_out = (uint8_t *)out;
		s->xz.avail_out = cap;
		r = lzma_code(&s->xz, LZMA_RUN);
		s->in_start = s->in_end - s->xz.avail_in;
		got = cap - s->xz.avail_out;
		if (r == LZMA_STREAM_END)
			s->in_stream = 0;
		else if (r != LZMA_OK)
			return (corrupt(s, xz_why(r), err, errlen));
		if (got > 0)
			return ((ssize_t)got);
	}
}

/* bz_why - what a libbz2 error means */
static const char *
bz_why(int r)
{
	switch (r) {
	case BZ_MEM_ERROR:
		return ("out of memory");
	case BZ_DATA_ERROR_MAGIC:
		return ("bad stream header");
	case BZ_DATA_ERROR:
		return ("bad data or checksum");
	default:
		return ("decoder error");
	}
}

/* bzip2_fill - libbz2 stream after stream (pbzip2, cat a.bz2 b.bz2); as text_fill */
static ssize_t
bzip2_fill(struct source *s, char *out, size_t cap, char *err, size_t errlen)
{
	size_t got;
	int r;

	for (;;) {
		if (!s->in_stream) {
			if ((r = next_stream(s, 'B', err, errlen)) <= 0)
				return (r);
			if (s->bz_live)
				BZ2_bzDecompressEnd(&s->bz);
			memset(&s->bz, 0, sizeof(s->bz));
			s->bz_live = 0;
			if ((r = BZ2_bzDecompressInit(&s->bz, 0, 0)) != BZ_OK)
				return (corrupt(s, bz_why(r), err, errlen));
			s->bz_live = 1;
			s->in_stream = 1;
		}
		if (more_input(s, err, errlen) < 0)
			return (-1);
		s->bz.next_in = (char *)(s->in + s->in_start);
		s->bz.avail_in = (unsigned)(s->in_end - s->in_start);
		s->bz.next_out = out;
		s->bz.avail_out = (unsigned)cap;
		r = BZ2_bzDecompress(&s->bz);
		s->in_start = s->in_end - s->bz.avail_in;
		got = cap - s->bz.avail_out;
		if (r == BZ_STREAM_END)
			s->in_stream = 0;
		else if (r != BZ_OK)
			return (corrupt(s, bz_why(r), err, errlen));
		if (got > 0)
			return ((ssize_t)got);
	}
}

/* zstd_fill - libzstd frame after frame (skippable frames too); as text_fill */
static ssize_t
zstd_fill(struct source *s, char *out, size_t cap, char *err, size_t errlen)
{
	ZSTD_inBuffer zi;
	ZSTD_outBuffer zo;
	size_t r;

	for (;;) {
		if (s->in_start == s->in_end && !s->raw_eof && raw_read(s, err, errlen) < 0)
			return (-1);
		if (s->in_start == s->in_end && s->zstd_left == 0)
			return (0);	/* the file ends with a complete frame */
		zi.src = s->in + s->in_start;
		zi.size = s->in_end - s->in_start;
		zi.pos = 0;
		zo.dst = out;
		zo.size = cap;
		zo.pos = 0;
		r = ZSTD_decompressStream(s->zs, &zo, &zi);
		if (ZSTD_isError(r))
			return (corrupt(s, ZSTD_getErrorName(r), err, errlen));
		s->in_start += zi.pos;
		s->zstd_left = r;
		if (zo.pos > 0)
			return ((ssize_t)zo.pos);
		if (zi.size == 0) {
			/* the file has ended, the frame has not, nothing left to flush */
			snprintf(err, errlen, "%s: truncated zstd stream", label(s));
			return (-1);
		}
	}
}

/* fill - decode more bytes into buf after compacting; bytes, 0 at end of input, -1 */
static ssize_t
fill(struct source *s, char *err, size_t errlen)
{
	char *out;
	ssize_t n = -1;

	if (s->start > 0) {
		memmove(s->buf, s->buf + s->start, s->end - s->start);
		s->end -= s->start;
		s->start = 0;
	}
	/* source_next keeps end <= SOURCE_LINE_MAX here: one block fits */
	out = s->buf + s->end;
	switch (s->fmt) {
	case FMT_TEXT:
		n = text_fill(s, out, BLOCK, err, errlen);
		break;
	case FMT_GZIP:
		n = gzip_fill(s, out, BLOCK, err, errlen);
		break;
	case FMT_XZ:
		n = xz_fill(s, out, BLOCK, err, errlen);
		break;
	case FMT_BZIP2:
		n = bzip2_fill(s, out, BLOCK, err, errlen);
		break;
	case FMT_ZSTD:
		n = zstd_fill(s, out, BLOCK, err, errlen);
		break;
	case FMT_OTHER:
		snprintf(err, errlen, "%s: unknown format", label(s));
		break;
	}
	if (n > 0)
		s->end += (size_t)n;
	return (n);
}

/* Compressed formats sendguard cannot read, named so the refusal says what to do. */
static const struct {
	unsigned char magic[6];
	size_t	len;
	const char *name;
} unsupported[] = {
	{ { 0x04, 0x22, 0x4d, 0x18 }, 4, "lz4" },
	{ { 'L', 'Z', 'I', 'P' }, 4, "lzip" },
	{ { 0x1f, 0x9d }, 2, "compress (.Z)" },
	{ { 'P', 'K', 0x03, 0x04 }, 4, "zip" },
	{ { '7', 'z', 0xbc, 0xaf, 0x27, 0x1c }, 6, "7-Zip" },
};

/* sniff - the format of the first n bytes p; *other names an unsupported one */
static enum src_fmt
sniff(const unsigned char *p, size_t n, const char **other)
{
	static const unsigned char xz[] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };
	size_t i;

	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return (FMT_GZIP);
	if (n >= sizeof(xz) && memcmp(p, xz, sizeof(xz)) == 0)
		return (FMT_XZ);
	if (n >= 4 && memcmp(p, "BZh", 3) == 0 && p[3] >= '1' && p[3] <= '9')
		return (FMT_BZIP2);
	/* a frame (28 b5 2f fd) or a skippable frame (5? 2a 4d 18) */
	if (n >= 4 && ((p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) ||
	    ((p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d && p[3] == 0x18)))
		return (FMT_ZSTD);
	for (i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
		if (n >= unsupported[i].len && memcmp(p, unsupported[i].magic, unsupported[i].len) == 0) {
			*other = unsupported[i].name;
			return (FMT_OTHER);
		}
	return (FMT_TEXT);
}

/* utf8_len - length of the well-formed UTF-8 sequence at p, 0 if none (RFC 3629) */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned lo = 0x80, hi = 0xbf;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* no overlong forms */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* no surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* nothing above U+10FFFF */
	} else
		return (0);
	if (n < len)
		return (n);	/* cut by the end of the sample: give it the benefit */
	for (i = 1; i < len; i++) {
		if (p[i] < lo || p[i] > hi)
			return (0);
		lo = 0x80;
		hi = 0xbf;
	}
	return (len);
}

/*
 * is_text - the rule of source.h: at most a quarter of the bytes are
 * neither printable ASCII, TAB, LF, CR, FF nor in well-formed UTF-8.
 */
static int
is_text(const unsigned char *p, size_t n)
{
	size_t i = 0, odd = 0, k;

	while (i < n) {
		if ((p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\t' || p[i] == '\n' ||
		    p[i] == '\r' || p[i] == '\f') {
			i++;
			continue;
		}
		if (p[i] >= 0x80 && (k = utf8_len(p + i, n - i)) > 0) {
			i += k;
			continue;
		}
		odd++;
		i++;
	}
	return (odd <= n / 4);
}

/* start_decoder - set up the decoder of s->fmt; -1 with err */
static int
start_decoder(struct source *s, char *err, size_t errlen)
{
	switch (s->fmt) {
	case FMT_GZIP:
		/* 15 + 16: a 32 KiB window, gzip wrapper only (its CRC is checked) */
		if (inflateInit2(&s->z, 15 + 16) != Z_OK)
			break;
		s->z_live = 1;
		return (0);
	case FMT_XZ: {
		lzma_stream init = LZMA_STREAM_INIT;

		s->xz = init;	/* xz_fill starts a decoder per stream */
		return (0);
	}
	case FMT_ZSTD:
		if ((s->zs = ZSTD_createDStream()) == NULL ||
		    ZSTD_isError(ZSTD_initDStream(s->zs)))
			break;
		s->zstd_left = 1;
		return (0);
	case FMT_TEXT:
	case FMT_BZIP2:		/* bzip2_fill starts a decoder per stream */
	case FMT_OTHER:
		return (0);
	}
	snprintf(err, errlen, "%s: cannot start the %s decoder (out of memory)", label(s),
	    fmt_name[s->fmt]);
	return (-1);
}

/*
 * source_open - open path, tell its format by magic, decode the first
 * block and refuse it unless it is text (see source.h)
 */
int
source_open(struct source **out, const char *path, char *err, size_t errlen)
{
	struct source *s;
	struct stat st;
	const char *other = NULL;
	ssize_t n;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return (-1);
	}
	s->fd = -1;
	if ((s->name = strdup(path)) == NULL || (s->buf = malloc(BUFSZ)) == NULL ||
	    (s->in = malloc(BLOCK)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	if (strcmp(path, "-") == 0) {
		s->is_stdin = 1;
		s->fd = STDIN_FILENO;
		s->mtime = time(NULL);
	} else {
		if ((s->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (fstat(s->fd, &st) < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%s: is a directory", path);
			goto fail;
		}
		s->mtime = st.st_mtime;
		s->size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	}
	/*
	 * A pipe may deliver a byte at a time: wait for the longest magic, the
	 * end, or a newline (no magic holds one, so a line typed on a terminal
	 * is not kept waiting).
	 */
	while (s->in_end < SNIFF && !s->raw_eof && memchr(s->in, '\n', s->in_end) == NULL)
		if (raw_read(s, err, errlen) < 0)
			goto fail;
	s->fmt = sniff(s->in, s->in_end, &other);
	if (s->fmt == FMT_OTHER) {
		snprintf(err, errlen, "%s: %s data, which sendguard cannot read (decompress it first)",
		    label(s), other);
		goto fail;
	}
	if (start_decoder(s, err, errlen) < 0 || (n = fill(s, err, errlen)) < 0)
		goto fail;
	if (n == 0)
		s->eof = 1;
	if (!is_text((const unsigned char *)s->buf, s->end)) {
		if (s->fmt == FMT_TEXT)
			snprintf(err, errlen, "%s: not a text log (nor gzip, xz, bzip2 or zstd data)",
			    label(s));
		else
			snprintf(err, errlen, "%s: %s data, but not a text log", label(s),
			    fmt_name[s->fmt]);
		goto fail;
	}
	*out = s;
	return (0);
fail:
	source_close(s);
	return (-1);
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
	return (s->raw_pos);
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
	if (s->z_live)
		inflateEnd(&s->z);
	if (s->xz_live)
		lzma_end(&s->xz);
	if (s->bz_live)
		BZ2_bzDecompressEnd(&s->bz);
	ZSTD_freeDStream(s->zs);
	if (!s->is_stdin && s->fd >= 0)
		close(s->fd);
	free(s->in);
	free(s->buf);
	free(s->name);
	free(s);
}
