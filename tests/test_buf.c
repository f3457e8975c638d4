/*
 * test_buf - util/buf at its bounds: appends that fit whole go in, one
 * that would pass the maximum adds nothing and marks the buffer failed,
 * the text stays NUL-terminated; for a buffer in the caller's array and
 * one on the heap, byte by byte (buf_addc) and in pieces (buf_add), with
 * the room reused after buf_reset (buf_add's and buf_addc's path for a
 * buffer that has the room already, the audit report's rows), and in
 * pieces by buf_put (buf_add in line: the JSON report's rows).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "util/buf.h"

/* One way to fill: pieces of len bytes ("" pieces: buf_addc of each byte). */
struct row {
	const char *name;
	int heap;       /* buf_init(max) instead of buf_fixed(array of max + 1) */
	size_t max;     /* text bytes it may hold */
	size_t piece;   /* bytes a call (0: buf_addc) */
	size_t want;    /* bytes that go in before the first refusal */
	int put;        /* pieces by buf_put (in line) instead of buf_add */
};

static const struct row rows[] = {
	{ "fixed, bytes", 0, 5, 0, 5, 0 },
	{ "fixed, pairs", 0, 5, 2, 4, 0 },
	{ "fixed, exact pieces", 0, 6, 3, 6, 0 },
	{ "heap, bytes past 64", 1, 70, 0, 70, 0 },
	{ "heap, pieces past 64", 1, 70, 7, 70, 0 },
	{ "heap, pieces not fitting", 1, 70, 8, 64, 0 },
	{ "heap, one byte", 1, 1, 0, 1, 0 },
	{ "fixed, pairs by buf_put", 0, 5, 2, 4, 1 },
	{ "fixed, exact pieces by buf_put", 0, 6, 3, 6, 1 },
	{ "heap, pieces past 64 by buf_put", 1, 70, 7, 70, 1 },
	{ "heap, pieces not fitting by buf_put", 1, 70, 8, 64, 1 },
};

/* fill - append to b from src until a call fails; returns how many bytes went in */
static size_t
fill(struct buf *b, const struct row *r, const char *src)
{
	size_t in = 0;

	for (;;) {
		int rc = r->piece == 0 ? buf_addc(b, src[in])
		    : r->put         ? buf_put(b, src + in, r->piece)
				     : buf_add(b, src + in, r->piece);

		if (rc < 0)
			break;
		in += r->piece == 0 ? 1 : r->piece;
	}
	return (in);
}

Test(buf, appends_at_the_bounds)
{
	char src[256], array[256];
	size_t i, round;

	for (i = 0; i < sizeof(src); i++)
		src[i] = (char)('a' + i % 26);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct buf b;

		if (r->heap)
			buf_init(&b, r->max);
		else
			buf_fixed(&b, array, r->max + 1);
		for (round = 0; round < 2; round++) { /* the second one in the room of the first */
			size_t in = fill(&b, r, src);

			cr_expect_eq(in, r->want, "%s, round %zu: %zu bytes in", r->name, round, in);
			cr_expect_eq(b.len, r->want, "%s: len %zu", r->name, b.len);
			cr_expect(b.failed, "%s: the refused append marks it", r->name);
			cr_expect_eq(strlen(buf_str(&b)), r->want, "%s: NUL-terminated", r->name);
			cr_expect_eq(memcmp(buf_str(&b), src, r->want), 0, "%s: the text", r->name);
			buf_reset(&b);
			cr_expect(!b.failed && b.len == 0 && buf_str(&b)[0] == '\0', "%s: reset",
			    r->name);
		}
		buf_free(&b);
	}
}
