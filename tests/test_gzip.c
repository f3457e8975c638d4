/*
 * NAME
 *	test_gzip - the gzip decoder of count/source.c, member by member
 * SUMMARY
 *	gzip members put together byte by byte (deflate data from zlib, the
 *	header and trailer written here), so that each field can be set or
 *	damaged alone: every header flag (FEXTRA, FNAME, FCOMMENT, FHCRC),
 *	members one after another with NUL padding between, deflate levels 0
 *	(stored blocks), 1 and 9 over more than one decoded block; and a
 *	damaged CRC-32, length, header CRC, compression method or reserved
 *	flag bit each refused with the file's name and "gzip".  The Makefile
 *	builds this suite twice where ISA-L is present: once as the build
 *	inflates (ISA-L) and once against count/source.c compiled without it
 *	(zlib), so both decoders are held to the same answers.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "count/source.h"
#include "tests/runcmd.h"

#ifndef SG_GZIP_EXPECT
#ifdef HAVE_ISAL
#define SG_GZIP_EXPECT "isa-l"
#else
#define SG_GZIP_EXPECT "zlib"
#endif
#endif

static char dir[64];

static void
setup(void)
{
	cr_assert_eq(sg_lower_tmpdir(dir, sizeof(dir), "sg-gzip"), 0);
}

static void
teardown(void)
{
	sg_rm_tmpdir(dir);
}

TestSuite(gzip, .init = setup, .fini = teardown);

/* A growing byte string. */
struct bytes {
	unsigned char *p;
	size_t n, cap;
};

/* add - append n bytes to b */
static void
add(struct bytes *b, const void *p, size_t n)
{
	if (b->p == NULL || b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 16;
		b->p = realloc(b->p, b->cap);
		cr_assert_not_null(b->p);
	}
	if (n > 0)
		memcpy(b->p + b->n, p, n);
	b->n += n;
}

/* le - append v as n little-endian bytes */
static void
le(struct bytes *b, uint32_t v, size_t n)
{
	unsigned char c[4];
	size_t i;

	for (i = 0; i < n; i++)
		c[i] = (unsigned char)(v >> (8 * i));
	add(b, c, n);
}

/* How one member is written, and what is damaged in it. */
enum damage { D_NONE, D_CRC, D_LEN, D_HCRC, D_METHOD, D_RESERVED };

#define F_HCRC 0x02
#define F_EXTRA 0x04
#define F_NAME 0x08
#define F_COMMENT 0x10

/* member - append one gzip member of text (deflate level lvl) to b */
static void
member(struct bytes *b, const char *text, size_t len, int flags, int lvl, enum damage d)
{
	static const char name[] = "mail.log", note[] = "rotated by logrotate";
	unsigned char hdr[10] = { 0x1f, 0x8b, 8, 0, 0x80, 0x3e, 0x2c, 0x66, 0, 3 };
	size_t start = b->n, out_cap = compressBound((uLong)len) + 64;
	unsigned char *out = malloc(out_cap);
	uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)text, (uInt)len);
	z_stream z = { 0 };

	cr_assert_not_null(out);
	hdr[3] = (unsigned char)(flags | (d == D_RESERVED ? 0x20 : 0));
	if (d == D_METHOD)
		hdr[2] = 7;
	add(b, hdr, sizeof(hdr));
	if (flags & F_EXTRA) {
		le(b, 6, 2);
		add(b, "sg\x02\0ab", 6); /* one subfield "sg", two bytes */
	}
	if (flags & F_NAME)
		add(b, name, sizeof(name));
	if (flags & F_COMMENT)
		add(b, note, sizeof(note));
	if (flags & F_HCRC)
		le(b, (uint32_t)(crc32(0L, b->p + start, (uInt)(b->n - start)) & 0xffff) ^ (d == D_HCRC),
		    2);
	cr_assert_eq(deflateInit2(&z, lvl, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)text;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)out_cap;
	cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	add(b, out, out_cap - z.avail_out);
	deflateEnd(&z);
	le(b, crc ^ (d == D_CRC ? 0x10000u : 0), 4);
	le(b, (uint32_t)len + (d == D_LEN), 4);
	free(out);
}

/* numbered - n "line N" lines (caller frees) */
static char *
numbered(unsigned n, size_t *len)
{
	char *t = malloc((size_t)n * 96 + 1);
	size_t o = 0;
	unsigned i;

	cr_assert_not_null(t);
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(t + o, 96,
		    "2024-03-01T10:%02u:%02u+00:00 mx postfix/qmgr[%u]: %08X: removed\n", i / 60 % 60,
		    i % 60, 100 + i % 900, i * 2654435761u);
	*len = o;
	return (t);
}

/*
 * read_beside - read_file with source_open_beside(busy): *threaded (when
 * not NULL) says whether a decoder thread of its own did the work
 */
static int
read_beside(const char *path, int busy, int *threaded, size_t *lines, uint32_t *sum, char *err,
    size_t errlen)
{
	struct source *s;
	const char *line;
	size_t len;
	int r;

	*lines = 0;
	*sum = 0;
	err[0] = '\0';
	if (source_open_beside(&s, path, busy, err, errlen) < 0)
		return (-1);
	if (threaded != NULL)
		*threaded = source_info(s)->threaded;
	while ((r = source_next(s, &line, &len, err, errlen)) > 0) {
		(*lines)++;
		*sum = (uint32_t)crc32(*sum, (const Bytef *)line, (uInt)len);
		*sum = (uint32_t)crc32(*sum, (const Bytef *)"\n", 1);
	}
	source_close(s);
	return (r < 0 ? -1 : 0);
}

/*
 * read_file - open path with count/source.c and read it to its end: the
 * number of lines and a hash of their bytes, or -1 with the error in err
 */
static int
read_file(const char *path, size_t *lines, uint32_t *sum, char *err, size_t errlen)
{
	return (read_beside(path, 1, NULL, lines, sum, err, errlen));
}

/* put_file - write b to dir/name; the path */
static const char *
put_file(const char *name, const struct bytes *b)
{
	const char *path = sg_path(dir, name);
	FILE *fp = fopen(path, "wb");

	cr_assert_not_null(fp, "%s", path);
	cr_assert_eq(fwrite(b->p, 1, b->n, fp), b->n);
	cr_assert_eq(fclose(fp), 0);
	return (path);
}

/* The build's decoder is the one the Makefile says it is. */
Test(gzip, decoder_is_the_builds)
{
	cr_expect_str_eq(source_gzip_decoder(), SG_GZIP_EXPECT);
}

/* Members as gzip, pigz, logrotate and hand-made tools write them read whole. */
Test(gzip, members_read_whole)
{
	static const struct {
		const char *name;
		int flags, lvl, members, pad;
		unsigned lines;
	} tab[] = {
		{ "no flags, level 6", 0, 6, 1, 0, 200 },
		{ "a file name (gzip without -n)", F_NAME, 6, 1, 0, 200 },
		{ "every flag: extra, name, comment, header CRC", F_EXTRA | F_NAME | F_COMMENT | F_HCRC,
		    6, 1, 0, 200 },
		{ "stored blocks (level 0) over several decoded blocks", 0, 0, 1, 0, 20000 },
		{ "level 1 over several decoded blocks", 0, 1, 1, 0, 20000 },
		{ "level 9 over several decoded blocks", F_NAME, 9, 1, 0, 20000 },
		{ "three members (cat a.gz b.gz c.gz)", F_NAME, 6, 3, 0, 3000 },
		{ "two members with NUL padding between", 0, 6, 2, 7, 3000 },
		{ "an empty member", 0, 6, 1, 0, 0 },
	};
	size_t i, len, lines, want_lines;
	uint32_t sum, want_sum;
	int m;
	char err[512];

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		char *text = numbered(tab[i].lines, &len);
		struct bytes b = { 0 }, plain = { 0 };
		static const unsigned char nul[16];
		const char *path;

		for (m = 0; m < tab[i].members; m++) {
			member(&b, text, len, tab[i].flags, tab[i].lvl, D_NONE);
			add(&plain, text, len);
			if (tab[i].pad > 0)
				add(&b, nul, (size_t)tab[i].pad);
		}
		add(&plain, "", 0);
		path = put_file("plain.log", &plain);
		cr_assert_eq(read_file(path, &want_lines, &want_sum, err, sizeof(err)), 0, "%s", err);
		path = put_file("member.gz", &b);
		cr_expect_eq(read_file(path, &lines, &sum, err, sizeof(err)), 0, "%s: %s", tab[i].name,
		    err);
		cr_expect_eq(lines, want_lines, "%s: %zu lines, want %zu", tab[i].name, lines,
		    want_lines);
		cr_expect_eq(sum, want_sum, "%s: the lines differ from the text's", tab[i].name);
		free(b.p);
		free(plain.p);
		free(text);
	}
}

/* Each damaged field alone is refused, naming the file and the format. */
Test(gzip, damage_is_refused)
{
	static const struct {
		const char *name;
		enum damage d;
		int flags;
		const char *why; /* NULL: any reason */
	} tab[] = {
		{ "a CRC-32 one bit off", D_CRC, 0, NULL },
		{ "a length one off", D_LEN, 0, NULL },
		{ "a header CRC one bit off", D_HCRC, F_HCRC | F_NAME, NULL },
		{ "compression method 7", D_METHOD, 0, "method" },
		{ "a reserved flag bit set", D_RESERVED, 0, "flags" },
	};
	size_t i, len, lines;
	uint32_t sum;
	char err[512], *text = numbered(3000, &len);

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct bytes b = { 0 };
		const char *path;

		/* a good member first: the damage is found in the second */
		member(&b, text, len, 0, 6, D_NONE);
		member(&b, text, len, tab[i].flags, 6, tab[i].d);
		path = put_file("bad.gz", &b);
		cr_expect_eq(read_file(path, &lines, &sum, err, sizeof(err)), -1,
		    "%s: read without error (%zu lines)", tab[i].name, lines);
		cr_expect_not_null(strstr(err, path), "%s: %s", tab[i].name, err);
		cr_expect_not_null(strstr(err, "gzip"), "%s: %s", tab[i].name, err);
		if (tab[i].why != NULL)
			cr_expect_not_null(strstr(err, tab[i].why), "%s: %s", tab[i].name, err);
		free(b.p);
	}
	free(text);
}

/*
 * A .gz reads the same decoded by a thread of its own (a CPU to spare
 * beside the caller's busy threads) and in line (none to spare: the
 * audit's reader and counter on two cores), and the choice follows the
 * CPUs: no busy thread of the caller leaves one, a thousand none.
 */
Test(gzip, in_line_and_threaded_read_the_same)
{
	size_t len, lines[2];
	uint32_t sum[2];
	int threaded[2];
	char err[512], *text = numbered(40000, &len);
	struct bytes b = { 0 };
	const char *path;

	member(&b, text, len, F_NAME, 6, D_NONE);
	member(&b, text, len, 0, 1, D_NONE);
	path = put_file("two.gz", &b);
	cr_assert_eq(read_beside(path, 0, &threaded[0], &lines[0], &sum[0], err, sizeof(err)), 0,
	    "%s", err);
	cr_assert_eq(read_beside(path, 1000, &threaded[1], &lines[1], &sum[1], err, sizeof(err)), 0,
	    "%s", err);
	cr_expect_eq(threaded[0], 1, "a CPU to spare: decoded by a thread of its own");
	cr_expect_eq(threaded[1], 0, "none to spare: decoded in line");
	cr_expect_eq(lines[0], 80000);
	cr_expect_eq(lines[1], 80000);
	cr_expect_eq(sum[0], sum[1], "the same lines either way");
	free(b.p);
	free(text);
}
