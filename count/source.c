/*
 * NAME
 *	source - line reader over plain and compressed files and stdin
 * SUMMARY
 *	See source.h.  Text is read in 256 KiB blocks (the first one into
 *	`in`, then straight into the window), compressed data in 64 KiB
 *	blocks into `in`, whence it goes through its format's streaming decoder
 *	(ISA-L's igzip, or zlib where the build has no ISA-L; liblzma, libbz2
 *	or libzstd), into `win.buf`, a fixed buffer
 *	of SOURCE_LINE_MAX + one block where source_cut() finds the lines
 *	and they are returned in place.  A refill compacts it, or with a
 *	lender (source_lend) moves to the next buffer lent, so that the
 *	lines returned stay where they are.
 *	One driver, stream_fill(), runs every decoder: a row of codecs[] per
 *	format says how a stream starts and gives its begin and step.
 *	A compressed regular file is decoded by a thread of its own (struct
 *	decoder: NCHUNK blocks handed over under a mutex) when the process
 *	may run on more CPUs than the caller keeps busy (source_open_beside),
 *	so that decompression costs no wall time beside the parsing; standard
 *	input, a machine without a CPU to spare, and a thread that cannot be
 *	made, are decoded in line.  On two cores the audit's reader and
 *	counter take both: a third busy thread made the .gz audit slower
 *	(0.45 s against 0.41 s in line with ISA-L, the bench log, in a
 *	measurement-only build; bench/RESULTS.md).  Only
 *	the thread touches the decoder, `in` and the read position until
 *	source_close() has joined it.
 *	Memory is fixed at open: the buffers and the decoder's state.
 *	gzip goes through ISA-L's inflater when the build has it (HAVE_ISAL,
 *	set by the Makefile when pkg-config finds libisal): on the bench log
 *	the .gz audit took 0.15 s less CPU than with zlib (bench/compare
 *	against a `make ISAL=no` build; bench/RESULTS.md).  Both
 *	check the same things: the header, the deflate data, the CRC-32 and
 *	the length of each member.
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
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#ifdef HAVE_ISAL
#include <isa-l/igzip_lib.h>
#else
#include <zlib.h>
#endif

#include "count/source.h"
#include "count/source_priv.h"

#define BLOCK ((size_t)256 * 1024)  /* text read at once, or decoded at once */
#define INBLOCK ((size_t)64 * 1024) /* compressed input read at once (`in`) */
#define BUFSZ (SOURCE_LINE_MAX + BLOCK + 1)
_Static_assert(BUFSZ == SOURCE_WIN_SIZE, "source.h's window size is the buffer's");
#define SNIFF 6                           /* the longest magic we look at (xz) */
#define XZ_MEMLIMIT ((uint64_t)256 << 20) /* xz -9 needs 65 MiB */

#define NCHUNK 4 /* decoded blocks between the decoder thread and the reader */

enum src_fmt { FMT_TEXT, FMT_GZIP, FMT_XZ, FMT_BZIP2, FMT_ZSTD, FMT_OTHER };

/* What a decoder is given and leaves: like the libraries' own stream buffers. */
struct io {
	unsigned char *in;
	size_t in_n; /* in: bytes to decode; out: bytes not consumed */
	char *out;
	size_t out_n; /* in: room; out: room left */
	int rc;       /* the library's return code (DECODE) */
};

/*
 * A compressed format, for stream_fill(), the one driver: first is the
 * byte each stream starts with after NUL padding (-1: the decoder tells
 * its frames apart and may flush with no input left, zstd); begin sets a
 * stream's decoder up (NULL, or why not); step decodes io, returning 1
 * at the end of a stream, 0 before it, -1 with why.  Text has no step.
 */
struct codec {
	const char *name;
	int first;
	const char *(*begin)(struct source *);
	int (*step)(struct source *, struct io *, const char **why);
};

/* One decoded block on its way from the decoder thread to fill(). */
struct chunk {
	char *buf;    /* BLOCK bytes */
	ssize_t n;    /* bytes, 0 at the end, -1 on an error (err) */
	uint64_t pos; /* rawpos after it */
	char err[256];
};

/* The decoder thread: it fills c[head % NCHUNK], fill() takes c[tail % NCHUNK]. */
struct decoder {
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct chunk c[NCHUNK];
	unsigned head, tail;
	int stop; /* source_close() asks it to end */
};

struct source {
	char *name; /* as given; "-" is standard input */
	int fd;
	int is_stdin; /* fd is standard input: never closed */
	enum src_fmt fmt;
	const struct codec *codec; /* codecs[fmt], set when fmt is known */
	struct source_info info;   /* name, mtime, pos (bytes read from fd), size, long_lines */
	int eof;                   /* no more decoded bytes */
	int raw_eof;               /* read() on fd returned 0 */
	int in_stream;             /* inside a gzip member, an xz or bzip2 stream, a zstd frame */
	struct source_win win;     /* the decoded bytes not yet handed out */
	char *own;                 /* the source's own window buffer (win.buf unless lent) */
	source_lend_fn lend;       /* source_lend's lender, with */
	void *lend_ctx;            /* its context */
	unsigned char *in;
	size_t in_start, in_end; /* undecoded bytes are in[in_start..in_end) */
#ifdef HAVE_ISAL
	struct inflate_state *gz; /* ISA-L's inflater (about 85 KiB), made at open */
	uint64_t gz_off;          /* bytes of the gzip member taken so far */
#else
	z_stream z;
	int z_live;
#endif
	lzma_stream xz;
	int xz_live;
	bz_stream bz;
	int bz_live;
	ZSTD_DStream *zs;
	uint64_t rawpos;    /* bytes read from fd (info.pos is set from it by the reader) */
	struct decoder *th; /* NULL: decoded in line */
};

/* label - the file's name in messages */
static const char *
label(const struct source *s)
{
	return (s->is_stdin ? "standard input" : s->name);
}

/* compact - move the unread bytes p[*start..*end) to the front */
static void
compact(void *p, size_t *start, size_t *end)
{
	if (*start > 0) {
		memmove(p, (char *)p + *start, *end - *start);
		*end -= *start;
		*start = 0;
	}
}

/* read_fd - one read() of at most n bytes into p; bytes read, 0 at EOF (raw_eof set), -1 */
static ssize_t
read_fd(struct source *s, void *p, size_t n, char *err, size_t errlen)
{
	ssize_t r;

	do
		r = read(s->fd, p, n);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", label(s), strerror(errno));
		return (-1);
	}
	if (r == 0)
		s->raw_eof = 1;
	s->rawpos += (uint64_t)r;
	return (r);
}

/* raw_read - append one read() of the file to in; bytes read, 0 at EOF, -1 error */
static ssize_t
raw_read(struct source *s, char *err, size_t errlen)
{
	ssize_t n;

	compact(s->in, &s->in_start, &s->in_end);
	if (s->in_end == INBLOCK)
		return (1); /* full: the caller has input to work on */
	if ((n = read_fd(s, s->in + s->in_end, INBLOCK - s->in_end, err, errlen)) > 0)
		s->in_end += (size_t)n;
	return (n);
}

/* text_fill - copy buffered bytes to out, else read into it; bytes, 0 at EOF, -1 */
static ssize_t
text_fill(struct source *s, char *out, size_t cap, char *err, size_t errlen)
{
	size_t n = s->in_end - s->in_start;

	if (n > 0) {
		if (n > cap)
			n = cap;
		memcpy(out, s->in + s->in_start, n);
		s->in_start += n;
		return ((ssize_t)n);
	}
	return (s->raw_eof ? 0 : read_fd(s, out, cap, err, errlen));
}

/* truncated - the error of an input that ends inside a stream; always -1 */
static ssize_t
truncated(const struct source *s, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: truncated %s stream", label(s), s->codec->name);
	return (-1);
}

/* corrupt - the error of a decoder that rejected its input; always -1 */
static ssize_t
corrupt(const struct source *s, const char *why, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: corrupt %s stream (%s)", label(s), s->codec->name,
	    why != NULL ? why : "bad data");
	return (-1);
}

/* rejected - a step's answer to a code its library calls an error: -1 with why */
static int
rejected(const char **why, const char *text)
{
	*why = text;
	return (-1);
}

/*
 * stream_start - before a stream.  With a first byte (gzip, xz, bzip2):
 * skip NUL padding, then 1 when a stream starts with it, 0 at the end of
 * the file, -1 when anything else follows.  Without (zstd, whose decoder
 * tells frames apart itself): 1 when input is left, 0 at the end.
 */
static int
stream_start(struct source *s, int first, char *err, size_t errlen)
{
	for (;;) {
		while (first >= 0 && s->in_start < s->in_end && s->in[s->in_start] == 0)
			s->in_start++;
		if (s->in_start < s->in_end) {
			if (first < 0 || s->in[s->in_start] == first)
				return (1);
			snprintf(err, errlen, "%s: data after the end of the %s stream", label(s),
			    s->codec->name);
			return (-1);
		}
		if (s->raw_eof)
			return (0);
		if (raw_read(s, err, errlen) < 0)
			return (-1);
	}
}

/*
 * stream_input - inside a stream: with a first byte, input must be
 * buffered (its end is a truncated stream); without, one read when none
 * is, as the decoder may still have output to flush.  0, or -1.
 */
static int
stream_input(struct source *s, int first, char *err, size_t errlen)
{
	while (s->in_start == s->in_end && !s->raw_eof) {
		if (raw_read(s, err, errlen) < 0)
			return (-1);
		if (first < 0)
			break;
	}
	if (first >= 0 && s->in_start == s->in_end)
		return ((int)truncated(s, err, errlen));
	return (0);
}

/*
 * stream_fill - the one driver of every decoder: stream after stream
 * (cat a.gz b.gz, multi-stream xz, pbzip2, zstd frames), the format's
 * begin before each and its step until the stream ends; as text_fill.
 */
static ssize_t
stream_fill(struct source *s, char *out, size_t cap, char *err, size_t errlen)
{
	const struct codec *c = s->codec;
	const char *why = NULL;
	struct io io;
	size_t had;
	int r;

	for (;;) {
		if (!s->in_stream) {
			if ((r = stream_start(s, c->first, err, errlen)) <= 0)
				return (r);
			if (c->begin != NULL && (why = c->begin(s)) != NULL)
				return (corrupt(s, why, err, errlen));
			s->in_stream = 1;
		}
		if (stream_input(s, c->first, err, errlen) < 0)
			return (-1);
		had = s->in_end - s->in_start;
		io.in = s->in + s->in_start;
		io.in_n = had;
		io.out = out;
		io.out_n = cap;
		if ((r = c->step(s, &io, &why)) < 0)
			return (corrupt(s, why, err, errlen));
		s->in_start = s->in_end - io.in_n;
		if (r == 1)
			s->in_stream = 0;
		if (io.out_n < cap)
			return ((ssize_t)(cap - io.out_n));
		if (had == 0) /* the file ended inside a frame, nothing to flush */
			return (truncated(s, err, errlen));
	}
}

/* decode_main - the decoder thread: blocks into free chunks until the end, an error or stop */
static void *
decode_main(void *arg)
{
	struct source *s = arg;
	struct decoder *d = s->th;
	struct chunk *c;

	for (;;) {
		pthread_mutex_lock(&d->mu);
		while (d->head - d->tail == NCHUNK && !d->stop)
			pthread_cond_wait(&d->cv, &d->mu);
		if (d->stop) {
			pthread_mutex_unlock(&d->mu);
			return (NULL);
		}
		c = &d->c[d->head % NCHUNK];
		pthread_mutex_unlock(&d->mu);
		c->n = stream_fill(s, c->buf, BLOCK, c->err, sizeof(c->err));
		c->pos = s->rawpos;
		pthread_mutex_lock(&d->mu);
		d->head++;
		pthread_cond_broadcast(&d->cv);
		pthread_mutex_unlock(&d->mu);
		if (c->n <= 0)
			return (NULL);
	}
}

/*
 * thread_take - fill() from the decoder thread: the next chunk appended
 * to the window (the last one, 0 or -1, stays for later calls); as fill
 */
static ssize_t
thread_take(struct source *s, char *err, size_t errlen)
{
	struct decoder *d = s->th;
	struct chunk *c;
	ssize_t n;

	pthread_mutex_lock(&d->mu);
	while (d->head == d->tail)
		pthread_cond_wait(&d->cv, &d->mu);
	c = &d->c[d->tail % NCHUNK];
	pthread_mutex_unlock(&d->mu);
	if ((n = c->n) > 0) {
		memcpy(s->win.buf + s->win.end, c->buf, (size_t)n);
		s->win.end += (size_t)n;
	} else if (n < 0)
		snprintf(err, errlen, "%s", c->err);
	s->info.pos = c->pos;
	if (n > 0) {
		pthread_mutex_lock(&d->mu);
		d->tail++;
		pthread_cond_broadcast(&d->cv);
		pthread_mutex_unlock(&d->mu);
	}
	return (n);
}

/* cpus - the CPUs this process may run on (1 when unknown) */
static int
cpus(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return (CPU_COUNT(&set));
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return (n > 0 && n < 4096 ? (int)n : 1);
}

/*
 * thread_start - decode a compressed regular file in a thread when a CPU
 * is left beside the caller's busy threads; stays in line otherwise and
 * when none is made
 */
static void
thread_start(struct source *s, int busy)
{
	struct decoder *d;
	int i;

	if (s->codec->step == NULL || s->is_stdin || s->eof || cpus() <= busy ||
	    (d = calloc(1, sizeof(*d))) == NULL)
		return;
	for (i = 0; i < NCHUNK; i++)
		if ((d->c[i].buf = malloc(BLOCK)) == NULL)
			goto fail;
	if (pthread_mutex_init(&d->mu, NULL) != 0)
		goto fail;
	if (pthread_cond_init(&d->cv, NULL) != 0) {
		pthread_mutex_destroy(&d->mu);
		goto fail;
	}
	s->th = d;
	if (pthread_create(&d->tid, NULL, decode_main, s) == 0) {
		s->info.threaded = 1;
		return;
	}
	s->th = NULL;
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
fail:
	for (i = 0; i < NCHUNK; i++)
		free(d->c[i].buf);
	free(d);
}

/* thread_stop - end and join the decoder thread, if any */
static void
thread_stop(struct source *s)
{
	struct decoder *d = s->th;
	int i;

	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	d->stop = 1;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->tid, NULL);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	for (i = 0; i < NCHUNK; i++)
		free(d->c[i].buf);
	free(d);
	s->th = NULL;
}

/*
 * DECODE - one call of a zlib-style decoder, whose return code it is:
 * zlib, liblzma and libbz2 name their buffers alike (next_in, avail_in,
 * next_out, avail_out), so io goes in in the library's types, call runs,
 * and what is left of both comes back to io.
 */
#define DECODE(strm, io, ptr_t, len_t, call) \
	((strm).next_in = (ptr_t)(io)->in, (strm).avail_in = (len_t)(io)->in_n, \
	    (strm).next_out = (ptr_t)(io)->out, (strm).avail_out = (len_t)(io)->out_n, \
	    (io)->rc = (int)(call), (io)->in_n = (strm).avail_in, (io)->out_n = (strm).avail_out, \
	    (io)->rc)

/* What a library's error code means to the administrator. */
struct why {
	int code;
	const char *text;
};

static const struct why xz_whys[] = { { LZMA_MEM_ERROR, "out of memory" },
	{ LZMA_MEMLIMIT_ERROR, "it needs more than 256 MiB of memory to decompress" },
	{ LZMA_FORMAT_ERROR, "bad stream header" }, { LZMA_OPTIONS_ERROR, "unsupported options" },
	{ LZMA_DATA_ERROR, "bad data or checksum" }, { 0, NULL } };

static const struct why bz_whys[] = { { BZ_MEM_ERROR, "out of memory" },
	{ BZ_DATA_ERROR_MAGIC, "bad stream header" }, { BZ_DATA_ERROR, "bad data or checksum" },
	{ 0, NULL } };

/* why_text - the text of code in tab (ended by a NULL text), else "decoder error" */
static const char *
why_text(const struct why *tab, int code)
{
	for (; tab->text != NULL; tab++)
		if (tab->code == code)
			return (tab->text);
	return ("decoder error");
}

/* outcome - a step's answer from its library's code r: 0 ok, 1 end of stream, -1 and why */
static int
outcome(int r, int ok, int end, const struct why *tab, const char **why)
{
	if (r == ok)
		return (0);
	if (r == end)
		return (1);
	return (rejected(why, why_text(tab, r)));
}

#ifdef HAVE_ISAL
static const struct why gz_whys[] = { { ISAL_INVALID_BLOCK, "invalid deflate block" },
	{ ISAL_INVALID_SYMBOL, "invalid code" }, { ISAL_INVALID_LOOKBACK, "invalid distance" },
	{ ISAL_INVALID_WRAPPER, "bad gzip header" },
	{ ISAL_UNSUPPORTED_METHOD, "unknown compression method" },
	{ ISAL_INCORRECT_CHECKSUM, "incorrect data check (CRC-32 or length)" }, { 0, NULL } };

/* gzip_begin - a new member: reset the inflater (made at open), gzip wrapper parsed and checked */
static const char *
gzip_begin(struct source *s)
{
	isal_inflate_reset(s->gz);
	s->gz->crc_flag = ISAL_GZIP;
	s->gz_off = 0;
	return (NULL);
}

/*
 * gzip_step - isal_inflate; a member ends once its CRC-32 and length have
 * been checked.  ISA-L passes over the reserved bits of a header's flags
 * byte (its fourth), which RFC 1952 says a decoder must refuse and zlib
 * does: they are looked at here, so that both builds take the same files.
 */
static int
gzip_step(struct source *s, struct io *io, const char **why)
{
	size_t had = io->in_n;

	if (s->gz_off <= 3 && s->gz_off + had > 3 && (io->in[3 - s->gz_off] & 0xe0) != 0)
		return (rejected(why, "unknown header flags set"));
	if (DECODE(*s->gz, io, uint8_t *, uint32_t, isal_inflate(s->gz)) != ISAL_DECOMP_OK)
		return (rejected(why, why_text(gz_whys, io->rc)));
	s->gz_off += had - io->in_n;
	return (s->gz->block_state == ISAL_BLOCK_FINISH);
}
#else
/* gzip_begin - a new member: reset the inflater (started at open) */
static const char *
gzip_begin(struct source *s)
{
	return (inflateReset(&s->z) == Z_OK ? NULL : "cannot reset the decoder");
}

/* gzip_step - inflate; the gzip wrapper's CRC-32 and length are checked */
static int
gzip_step(struct source *s, struct io *io, const char **why)
{
	int r = DECODE(s->z, io, Bytef *, uInt, inflate(&s->z, Z_NO_FLUSH));

	if (r == Z_OK || r == Z_BUF_ERROR)
		return (0);
	return (r == Z_STREAM_END ? 1 : rejected(why, s->z.msg != NULL ? s->z.msg : zError(r)));
}
#endif

/* source_gzip_decoder - see source.h */
const char *
source_gzip_decoder(void)
{
#ifdef HAVE_ISAL
	return ("isa-l");
#else
	return ("zlib");
#endif
}

/* xz_begin - a decoder per stream (stream padding is NUL bytes, a stream starts with fd) */
static const char *
xz_begin(struct source *s)
{
	lzma_ret r;

	if ((r = lzma_stream_decoder(&s->xz, XZ_MEMLIMIT, 0)) != LZMA_OK)
		return (why_text(xz_whys, (int)r));
	s->xz_live = 1;
	return (NULL);
}

/* xz_step - lzma_code; the stream's check is verified */
static int
xz_step(struct source *s, struct io *io, const char **why)
{
	return (outcome(DECODE(s->xz, io, uint8_t *, size_t, lzma_code(&s->xz, LZMA_RUN)), LZMA_OK,
	    LZMA_STREAM_END, xz_whys, why));
}

/* bzip2_begin - a fresh decoder per stream (pbzip2 writes many) */
static const char *
bzip2_begin(struct source *s)
{
	int r;

	if (s->bz_live)
		BZ2_bzDecompressEnd(&s->bz);
	memset(&s->bz, 0, sizeof(s->bz));
	s->bz_live = 0;
	if ((r = BZ2_bzDecompressInit(&s->bz, 0, 0)) != BZ_OK)
		return (why_text(bz_whys, r));
	s->bz_live = 1;
	return (NULL);
}

/* bzip2_step - BZ2_bzDecompress; the block and stream CRCs are checked */
static int
bzip2_step(struct source *s, struct io *io, const char **why)
{
	return (outcome(DECODE(s->bz, io, char *, unsigned, BZ2_bzDecompress(&s->bz)), BZ_OK,
	    BZ_STREAM_END, bz_whys, why));
}

/* zstd_step - ZSTD_decompressStream; a frame ends when it says 0 (all flushed) */
static int
zstd_step(struct source *s, struct io *io, const char **why)
{
	ZSTD_inBuffer zi = { io->in, io->in_n, 0 };
	ZSTD_outBuffer zo = { io->out, io->out_n, 0 };
	size_t r = ZSTD_decompressStream(s->zs, &zo, &zi);

	if (ZSTD_isError(r))
		return (rejected(why, ZSTD_getErrorName(r)));
	io->in_n -= zi.pos;
	io->out_n -= zo.pos;
	return (r == 0);
}

/* One row per format, in the order of enum src_fmt. */
static const struct codec codecs[] = {
	[FMT_TEXT] = { "text", -1, NULL, NULL },
	[FMT_GZIP] = { "gzip", 0x1f, gzip_begin, gzip_step },
	[FMT_XZ] = { "xz", 0xfd, xz_begin, xz_step },
	[FMT_BZIP2] = { "bzip2", 'B', bzip2_begin, bzip2_step },
	[FMT_ZSTD] = { "zstd", -1, NULL, zstd_step },
	[FMT_OTHER] = { "", -1, NULL, NULL },
};

/* window_to - the window's unread bytes to the start of buf, which becomes the window */
static void
window_to(struct source_win *w, char *buf)
{
	size_t n = w->end - w->start;

	memcpy(buf, w->buf + w->start, n);
	w->buf = buf;
	w->start = 0;
	w->end = n;
}

/*
 * fill - read or decode more bytes into the window after compacting it
 * (or moving it to a lent buffer: source_lend); bytes, 0 at end of input, -1
 */
static ssize_t
fill(struct source *s, char *err, size_t errlen)
{
	ssize_t n;

	/* with a lender, the lines returned stay where they are */
	if (s->lend != NULL)
		window_to(&s->win, s->lend(s->lend_ctx));
	else
		compact(s->win.buf, &s->win.start, &s->win.end);
	/* source_next keeps end <= SOURCE_LINE_MAX here: one block fits */
	if (s->th != NULL)
		return (thread_take(s, err, errlen));
	if (s->codec->step == NULL)
		n = text_fill(s, s->win.buf + s->win.end, BLOCK, err, errlen);
	else
		n = stream_fill(s, s->win.buf + s->win.end, BLOCK, err, errlen);
	if (n > 0)
		s->win.end += (size_t)n;
	s->info.pos = s->rawpos;
	return (n);
}

/* Compressed formats sendguard cannot read, named so the refusal says what to do. */
static const struct {
	unsigned char magic[6];
	size_t len;
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
	if (n >= 4 &&
	    ((p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) ||
		((p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d && p[3] == 0x18)))
		return (FMT_ZSTD);
	for (i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
		if (n >= unsupported[i].len &&
		    memcmp(p, unsupported[i].magic, unsupported[i].len) == 0) {
			*other = unsupported[i].name;
			return (FMT_OTHER);
		}
	return (FMT_TEXT);
}

/* start_decoder - set up the decoder of s->fmt; -1 with err */
static int
start_decoder(struct source *s, char *err, size_t errlen)
{
	switch (s->fmt) {
	case FMT_GZIP:
#ifdef HAVE_ISAL
		if ((s->gz = malloc(sizeof(*s->gz))) == NULL)
			break;
		isal_inflate_init(s->gz); /* gzip_begin sets it up for each member */
#else
		/* 15 + 16: a 32 KiB window, gzip wrapper only (its CRC is checked) */
		if (inflateInit2(&s->z, 15 + 16) != Z_OK)
			break;
		s->z_live = 1;
#endif
		return (0);
	case FMT_XZ: {
		lzma_stream init = LZMA_STREAM_INIT;

		s->xz = init; /* xz_fill starts a decoder per stream */
		return (0);
	}
	case FMT_ZSTD:
		if ((s->zs = ZSTD_createDStream()) == NULL || ZSTD_isError(ZSTD_initDStream(s->zs)))
			break;
		return (0);
	case FMT_TEXT:
	case FMT_BZIP2: /* bzip2_fill starts a decoder per stream */
	case FMT_OTHER:
		return (0);
	}
	snprintf(err, errlen, "%s: cannot start the %s decoder (out of memory)", label(s),
	    s->codec->name);
	return (-1);
}

/*
 * source_open_beside - open path, tell its format by magic, decode the first
 * block and refuse it unless it is text (see source.h)
 */
int
source_open_beside(struct source **out, const char *path, int busy, char *err, size_t errlen)
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
	if ((s->name = strdup(path)) == NULL || (s->own = s->win.buf = malloc(BUFSZ)) == NULL ||
	    (s->in = malloc(INBLOCK)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	s->info.name = s->name;
	if (strcmp(path, "-") == 0) {
		s->is_stdin = 1;
		s->fd = STDIN_FILENO;
		s->info.mtime = time(NULL);
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
		s->info.mtime = st.st_mtime;
		s->info.size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
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
	s->codec = &codecs[s->fmt];
	if (s->fmt == FMT_OTHER) {
		snprintf(err, errlen,
		    "%s: %s data, which sendguard cannot read (decompress it first)", label(s),
		    other);
		goto fail;
	}
	if (start_decoder(s, err, errlen) < 0 || (n = fill(s, err, errlen)) < 0)
		goto fail;
	if (n == 0)
		s->eof = 1;
	if (!source_is_text((const unsigned char *)s->win.buf, s->win.end)) {
		if (s->fmt == FMT_TEXT)
			snprintf(err, errlen,
			    "%s: not a text log (nor gzip, xz, bzip2 or zstd data)", label(s));
		else
			snprintf(err, errlen, "%s: %s data, but not a text log", label(s),
			    s->codec->name);
		goto fail;
	}
	thread_start(s, busy); /* the rest of a compressed file, beside the reader */
	*out = s;
	return (0);
fail:
	source_close(s);
	return (-1);
}

/* source_open - see source.h: beside one busy thread, the caller's */
int
source_open(struct source **out, const char *path, char *err, size_t errlen)
{
	return (source_open_beside(out, path, 1, err, errlen));
}

/* source_cut - cut the next line out of a window; see source.h */
int
source_cut(struct source_win *w, uint64_t *long_lines, uint64_t *cut, const char **line,
    size_t *len)
{
	const char *p, *nl;
	size_t avail, n;

	while (w->start < w->end) {
		p = w->buf + w->start;
		avail = w->end - w->start;
		if ((nl = memchr(p, '\n', avail)) == NULL) {
			if (avail > SOURCE_LINE_MAX) {
				/* over-long: drop what we have, skip to the next newline */
				if (!w->skipping)
					(*long_lines)++;
				w->skipping = 1;
				w->start = w->end = 0;
				if (cut != NULL)
					*cut += avail;
			}
			return (0);
		}
		n = (size_t)(nl - p);
		w->start += n + 1;
		if (cut != NULL)
			*cut += n + 1;
		if (w->skipping) {
			w->skipping = 0;
			continue;
		}
		if (n > SOURCE_LINE_MAX) {
			(*long_lines)++;
			continue;
		}
		*line = p;
		*len = n;
		return (1);
	}
	return (0);
}

/* source_next - next complete line, see source.h */
int
source_next(struct source *s, const char **line, size_t *len, char *err, size_t errlen)
{
	struct source_win *w = &s->win;
	const char *p, *nl;
	ssize_t n;

	/*
	 * Most lines: whole in the window and not too long, cut here without
	 * source_cut()'s call and its cases (an over-long line, the skipping
	 * of one, which is over before source_cut() returns a line).
	 */
	if (!w->skipping && w->start < w->end) {
		p = w->buf + w->start;
		if ((nl = memchr(p, '\n', w->end - w->start)) != NULL &&
		    (size_t)(nl - p) <= SOURCE_LINE_MAX) {
			*line = p;
			*len = (size_t)(nl - p);
			w->start += *len + 1;
			return (1);
		}
	}
	for (;;) {
		if (source_cut(&s->win, &s->info.long_lines, NULL, line, len))
			return (1);
		if (s->eof)
			break;
		if ((n = fill(s, err, errlen)) < 0)
			return (-1);
		if (n == 0)
			s->eof = 1;
	}
	if (s->win.end > s->win.start && !s->win.skipping) {
		/* a last line without a newline is still a line */
		*line = s->win.buf + s->win.start;
		*len = s->win.end - s->win.start;
		s->win.start = s->win.end;
		return (1);
	}
	return (0);
}

/* source_lend - see source.h */
void
source_lend(struct source *s, source_lend_fn lend, void *ctx)
{
	if (lend == NULL && s->win.buf != s->own)
		window_to(&s->win, s->own);
	s->lend = lend;
	s->lend_ctx = ctx;
}

/* source_info - what the caller may know of s, kept current as it reads */
const struct source_info *
source_info(const struct source *s)
{
	return (&s->info);
}

/* source_close - release everything; stdin itself stays open */
void
source_close(struct source *s)
{
	if (s == NULL)
		return;
	thread_stop(s);
#ifdef HAVE_ISAL
	free(s->gz);
#else
	if (s->z_live)
		inflateEnd(&s->z);
#endif
	if (s->xz_live)
		lzma_end(&s->xz);
	if (s->bz_live)
		BZ2_bzDecompressEnd(&s->bz);
	ZSTD_freeDStream(s->zs);
	if (!s->is_stdin && s->fd >= 0)
		close(s->fd);
	free(s->in);
	free(s->own);
	free(s->name);
	free(s);
}
