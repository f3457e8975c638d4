/*
 * NAME
 *	test_pid - the syslog header's pid, read a word at a time, against
 *	the byte loop
 * SUMMARY
 *	parsers/syslog.c reads the pid of "prog[pid]:" from one 8-byte word
 *	when 8 bytes follow the '[' and fewer than 8 of them are digits, and
 *	byte by byte otherwise.  Both must take what the byte loop takes: 1
 *	to 10 digits, then "]:", then the line's end or a space; any other
 *	line has no header we read.  A table of edges (7 and 8 digits, the
 *	line ending inside the word or just after it, bytes just beside the
 *	digits in value: '/', ':', 0xb0, 0xb9, 0xff) and 300,000 lines drawn
 *	at random are parsed, each alone in a buffer of its size (ASan sees
 *	a read past it), and compared with a model of the byte loop here.
 * UNTRUSTED INPUT
 *	None (the lines are the test's own).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/pf.h"

#define PREFIX "2024-03-05T08:00:02.000000+00:00 mx postfix/qmgr["

/* model - the byte loop's pid of the text after '[' (n bytes): the pid, or -2 for no header */
static long
model(const unsigned char *t, size_t n)
{
	size_t i = 0;
	long v = 0;

	while (i < n && i < 10 && t[i] >= '0' && t[i] <= '9')
		v = v * 10 + (t[i++] - '0');
	if (i == 0 || n - i < 2 || t[i] != ']' || t[i + 1] != ':')
		return (-2);
	if (n - i > 2 && t[i + 2] != ' ')
		return (-2);
	return (v);
}

/* check - PREFIX + tail[0..n) parsed: header and pid as the model says */
static void
check(struct pf_parser *ps, const unsigned char *tail, size_t n)
{
	size_t pn = strlen(PREFIX);
	long want = model(tail, n);
	struct pf_event ev;
	enum pf_hdr h;
	char *line;

	cr_assert_not_null(line = malloc(pn + n));
	memcpy(line, PREFIX, pn);
	memcpy(line + pn, tail, n);
	h = pf_parse(ps, line, pn + n, &ev);
	if (want == -2)
		cr_assert_eq(h, PF_HDR_NONE, "\"[%.*s\": header %d, want none", (int)n, tail, h);
	else {
		cr_assert_eq(h, PF_HDR_ISO, "\"[%.*s\": header %d, want one", (int)n, tail, h);
		cr_assert_eq(ev.pid, want, "\"[%.*s\": pid %ld, want %ld", (int)n, tail, ev.pid,
		    want);
	}
	free(line);
}

Test(pid, word_as_byte_loop)
{
	static const char *const edges[] = { "1]:", "1]: x", "1234567]: 3A1B2C3D4E: removed",
		"1234567]:", "1234567]", "1234567", "12345678]: x", "12345678]:", "123456789]: x",
		"1234567890]: x", "12345678901]: x", "0000000]: x", "00000000]: x", "9999999]: x",
		"7]:x y z w", "123]: 3A1B2C3D4E: removed", "123/]: xxxxx", "123:]: xxxxx",
		"12\xb0]: xxxxxxx", "12\xb9]: xxxxxxx", "12\xff]: xxxxxxx", "\xb0\x31]: xxxxxxx",
		"]: xxxxxxxxxx", "]]]]]]]]]]", "", "1", "12]:  3A1B2C3D4E: removed",
		"4294967295]: x", "2147483648]: x" };
	static const unsigned char other[] = { ']', ':', ' ', '/', 'a', '[', 0x00, 0x2f, 0x3a, 0x80,
		0xb0, 0xb9, 0xc9, 0xff, 0x7f, 0x0a };
	static const char *const ends[] = { "", "]", "]:", "]: ", "]: 3A1B2C3D4E: removed", "]:x",
		"] x", "]: x", ":]" };
	unsigned char t[64];
	struct pf_parser *ps;
	char err[256];
	size_t i, n, k, e;
	int j;

	cr_assert_not_null(ps = pf_parser_new(err, sizeof(err)), "%s", err);
	for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		check(ps, (const unsigned char *)edges[i], strlen(edges[i]));
	srand(42);
	for (j = 0; j < 300000; j++) {
		n = (size_t)(rand() % 13);
		for (k = 0; k < n; k++)
			t[k] = rand() % 8 != 0 ? (unsigned char)('0' + rand() % 10)
					       : other[rand() % (int)sizeof(other)];
		e = (size_t)rand() % (sizeof(ends) / sizeof(ends[0]));
		memcpy(t + n, ends[e], strlen(ends[e]));
		check(ps, t, n + strlen(ends[e]));
	}
	pf_parser_free(ps);
}
