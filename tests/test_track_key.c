/*
 * NAME
 *	test_track_key - the tracker's record key, copied in words, against
 *	the bytes it must hold
 * SUMMARY
 *	track_key() writes "host\0instance\0qid" with count/track.c's
 *	copy_short(): pieces of up to 16 bytes by overlapping words in line,
 *	longer ones by memcpy().  For 200,000 events drawn at random (each
 *	piece 0 to 40 bytes, alone in a buffer of its size, so ASan sees a
 *	read past it; the buffer given 0 to 8 bytes more or less than the key
 *	needs) the key must be exactly the pieces joined, its length theirs,
 *	0 when the buffer is too small, and no byte after the key written.
 *	Every length from 0 to 40 of every piece is in a table besides.
 * UNTRUSTED INPUT
 *	None (the events are the test's own).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "count/track.h"
#include "parsers/pf.h"

#define PIECE_MAX 40

/* piece - n random bytes (any value but NUL) alone in a buffer of n bytes, NULL when n is 0 */
static char *
piece(size_t n)
{
	char *p;
	size_t i;

	if (n == 0)
		return (NULL);
	cr_assert_not_null(p = malloc(n));
	for (i = 0; i < n; i++)
		p[i] = (char)(1 + rand() % 255);
	return (p);
}

/* one - a key of pieces of hn, in and qn bytes into a buffer of room bytes, checked */
static void
one(size_t hn, size_t in, size_t qn, size_t room)
{
	char *h = piece(hn), *ins = piece(in), *q = piece(qn == 0 ? 1 : qn);
	size_t want = hn + 1 + in + 1 + qn, got, i;
	struct pf_event ev;
	char buf[3 * PIECE_MAX + 16], exp[3 * PIECE_MAX + 16];

	memset(&ev, 0, sizeof(ev));
	ev.kind = PF_ACTIVE;
	ev.host = (struct pf_str){ h, hn };
	ev.instance = (struct pf_str){ ins, in };
	ev.queue_id = (struct pf_str){ q, qn };
	memset(buf, 0xa5, sizeof(buf));
	cr_assert_leq(room, sizeof(buf));
	got = track_key(&ev, buf, room);
	if (want >= room) {
		cr_assert_eq(got, 0, "pieces %zu %zu %zu, room %zu: %zu", hn, in, qn, room, got);
		for (i = 0; i < sizeof(buf); i++)
			cr_assert_eq((unsigned char)buf[i], 0xa5, "byte %zu written", i);
	} else {
		if (hn > 0)
			memcpy(exp, h, hn);
		exp[hn] = '\0';
		if (in > 0)
			memcpy(exp + hn + 1, ins, in);
		exp[hn + 1 + in] = '\0';
		if (qn > 0)
			memcpy(exp + hn + 2 + in, q, qn);
		cr_assert_eq(got, want, "pieces %zu %zu %zu: length %zu", hn, in, qn, got);
		cr_assert(memcmp(buf, exp, want) == 0, "pieces %zu %zu %zu: bytes", hn, in, qn);
		for (i = want; i < sizeof(buf); i++)
			cr_assert_eq((unsigned char)buf[i], 0xa5,
			    "pieces %zu %zu %zu: byte %zu written", hn, in, qn, i);
	}
	free(h);
	free(ins);
	free(q);
}

Test(track_key, words_as_bytes)
{
	size_t n, i;
	int j;

	srand(7);
	for (n = 0; n <= PIECE_MAX; n++)
		for (i = 0; i < 3; i++)
			one(i == 0 ? n : 4, i == 1 ? n : 7, i == 2 ? n : 10, 3 * PIECE_MAX + 16);
	for (j = 0; j < 200000; j++) {
		size_t hn = (size_t)(rand() % (PIECE_MAX + 1)),
		       in = (size_t)(rand() % (PIECE_MAX + 1));
		size_t qn = (size_t)(1 + rand() % PIECE_MAX), need = hn + in + qn + 2;
		size_t room =
		    need + 9 > (size_t)(rand() % 17) ? need + 9 - (size_t)(rand() % 17) : 0;

		one(hn, in, qn, room > 3 * PIECE_MAX + 16 ? 3 * PIECE_MAX + 16 : room);
	}
}

Test(track_key, none_without_a_queue_id)
{
	struct pf_event ev;
	char buf[64];

	memset(&ev, 0, sizeof(ev));
	ev.kind = PF_ACTIVE;
	ev.host = (struct pf_str){ "mail", 4 };
	cr_assert_eq(track_key(&ev, buf, sizeof(buf)), 0);
}
