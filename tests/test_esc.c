/*
 * test_esc - the one escaper and the bounded buffer: what each mode makes
 * of hostile bytes, cuts that never split an escape, and a buffer that
 * refuses an append past its maximum instead of shortening it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "util/buf.h"
#include "util/esc.h"

struct row {
	const char *name;
	enum esc_mode mode;
	const char *in;
	size_t	n;			/* 0: strlen(in) */
	size_t	max;
	const char *want;
	int	cut;
};

Test(esc, table)
{
	static const struct row tab[] = {
	{ "vis keeps printable ASCII", ESC_VIS, "alice@example.com", 0, 0, "alice@example.com", 0 },
	{ "vis escapes control bytes, DEL, high bytes and backslash", ESC_VIS,
	  "a\nb\x1b[2J\x7f\xc3\xa9\\", 0, 0, "a\\x0ab\\x1b[2J\\x7f\\xc3\\xa9\\x5c", 0 },
	{ "vis keeps the single quote", ESC_VIS, "o'neil", 0, 0, "o'neil", 0 },
	{ "arg escapes the single quote too", ESC_ARG, "o'neil", 0, 0, "o\\x27neil", 0 },
	{ "word escapes the space too, one word", ESC_WORD, "sasl:a rule x ips 6.6.6.6", 0, 0,
	  "sasl:a\\x20rule\\x20x\\x20ips\\x206.6.6.6", 0 },
	{ "word is vis otherwise", ESC_WORD, "o'neil\\\n", 0, 0, "o'neil\\x5c\\x0a", 0 },
	{ "a NUL inside is a byte like any other", ESC_VIS, "a\0b", 3, 0, "a\\x00b", 0 },
	{ "json quotes and escapes", ESC_JSON, "say \"hi\"\\\n\t", 0, 0, "\"say \\\"hi\\\"\\\\\\n\\t\"", 0 },
	{ "json keeps valid UTF-8", ESC_JSON, "caf\xc3\xa9", 0, 0, "\"caf\xc3\xa9\"", 0 },
	{ "json escapes invalid UTF-8 and overlongs", ESC_JSON, "\xc3(\xc0\xaf\xed\xa0\x80", 0, 0,
	  "\"\\u00c3(\\u00c0\\u00af\\u00ed\\u00a0\\u0080\"", 0 },
	{ "json escapes control bytes", ESC_JSON, "\x01\x7f", 0, 0, "\"\\u0001\\u007f\"", 0 },
	{ "csv leaves a plain field alone", ESC_CSV, "plain", 0, 0, "plain", 0 },
	{ "csv quotes a comma and doubles quotes", ESC_CSV, "a,\"b\"", 0, 0, "\"a,\"\"b\"\"\"", 0 },
	{ "csv quotes a newline", ESC_CSV, "a\nb", 0, 0, "\"a\nb\"", 0 },
	{ "a text that fits exactly is not cut", ESC_VIS, "abcdefghij", 0, 10, "abcdefghij", 0 },
	{ "one byte more is cut with ...", ESC_VIS, "abcdefghijk", 0, 10, "abcdefg...", 1 },
	{ "a cut never splits an escape", ESC_VIS, "abcde\x01\x02", 0, 10, "abcde...", 1 },
	{ "json keeps its quotes when cut", ESC_JSON, "abcdefghijklmnop", 0, 10, "\"abcde...\"", 1 },
	{ "html: a login that is a script tag stays text", ESC_HTML,
	  "<script>alert(1)</script>@example.com", 0, 0,
	  "&lt;script&gt;alert(1)&lt;/script&gt;@example.com", 0 },
	{ "html: quotes cannot end an attribute", ESC_HTML, "a\"b'c&d", 0, 0,
	  "a&quot;b&#39;c&amp;d", 0 },
	{ "html: control bytes, DEL, invalid bytes and the backslash as visible \\xNN", ESC_HTML,
	  "a\n\x1b[2J\x7f\xff\\", 0, 0, "a\\x0a\\x1b[2J\\x7f\\xff\\x5c", 0 },
	{ "html: a NUL does not end the text", ESC_HTML, "a\0<", 3, 0, "a\\x00&lt;", 0 },
	{ "html keeps valid UTF-8", ESC_HTML, "j\xc3\xb6rg", 0, 0, "j\xc3\xb6rg", 0 },
	{ "html: a cut never splits a reference", ESC_HTML, "abcdef<<", 0, 10, "abcdef...", 1 },
	{ "prom: backslash, quote and newline as the format wants", ESC_PROM, "a\\b\"c\nd", 0, 0,
	  "a\\\\b\\\"c\\nd", 0 },
	{ "prom: other control and invalid bytes as text, valid UTF-8 kept", ESC_PROM,
	  "\x01\xff\xc3\xa9}", 0, 0, "\\\\x01\\\\xff\xc3\xa9}", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		const struct row *r = &tab[i];
		struct buf b;
		size_t n = r->n ? r->n : strlen(r->in);
		int cut;

		buf_init(&b, 4096);
		cut = esc_buf(&b, r->in, n, r->mode, r->max);
		cr_expect_str_eq(buf_str(&b), r->want, "%s: got [%s]", r->name, buf_str(&b));
		cr_expect_eq(cut, r->cut, "%s: cut %d", r->name, cut);
		cr_expect(r->max == 0 || b.len <= r->max, "%s: %zu bytes > %zu", r->name, b.len, r->max);
		buf_free(&b);
	}
}

/* fp_vs_buf - esc_fp() of in[0..n) in every mode writes what esc_buf() makes of it */
static void
fp_vs_buf(const char *in, size_t n)
{
	enum esc_mode m;

	for (m = ESC_VIS; m <= ESC_PROM; m++) {
		char *out = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&out, &len);
		struct buf b;

		cr_assert_not_null(fp);
		esc_fp(fp, in, n, m);
		fclose(fp);
		buf_init(&b, 16384);
		cr_assert_eq(esc_buf(&b, in, n, m, 0), 0);
		cr_expect_eq(len, b.len, "mode %d, %zu bytes: %zu, want %zu", (int)m, n, len, b.len);
		cr_expect(len == b.len && memcmp(out, buf_str(&b), len) == 0, "mode %d, %zu bytes",
		    (int)m, n);
		buf_free(&b);
		free(out);
	}
}

Test(esc, fp_matches_buf)
{
	static const char in[] = "x,\"y\"\n\x01\xc3\xa9\\'<&>";

	fp_vs_buf(in, sizeof(in) - 1);
}

/* esc_fp gathers pieces in a buffer: long inputs whose escapes fall across its end at every offset */
Test(esc, fp_matches_buf_long)
{
	static const char unit[] = "x,\"y\"\n\x01\xc3\xa9\\'<&>\xff";
	char in[2000];
	size_t n, i;

	for (n = 250; n <= sizeof(in); n += 37) {
		for (i = 0; i < n; i++)
			in[i] = unit[i % (sizeof(unit) - 1)];
		fp_vs_buf(in, n);
	}
}

Test(esc, vis_into_an_array)
{
	char a[12];

	cr_expect_str_eq(esc_vis("evil\nline", a, sizeof(a)), "evil\\x0a...");
	cr_expect_str_eq(esc_vis(NULL, a, sizeof(a)), "(none)");
	cr_expect_str_eq(esc_vis("short", a, sizeof(a)), "short");
}

/*
 * The report prints a cell as it is when esc_vis_plain says ESC_VIS would
 * leave it so: that must hold for every byte, alone and inside a text.
 */
Test(esc, vis_plain_is_what_vis_keeps)
{
	static const char *const texts[] = { "", "alice@example.org", "a b", "a\\b", "caf\xc3\xa9",
		"tab\there", "~end", "del\x7f" };
	char one[2], text[64];
	size_t i;

	for (i = 0; i < 256; i++) {
		struct buf b;

		buf_init(&b, 64);
		one[0] = (char)i;
		one[1] = '\0';
		cr_assert_eq(esc_buf(&b, one, 1, ESC_VIS, 0), 0);
		cr_expect_eq(esc_vis_plain(one, 1), b.len == 1 && b.p[0] == one[0],
		    "byte 0x%02zx: esc_vis_plain disagrees with ESC_VIS", i);
		buf_free(&b);
	}
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		size_t n = strlen(texts[i]);

		esc_vis(texts[i], text, sizeof(text));
		cr_expect_eq(esc_vis_plain(texts[i], n), strcmp(text, texts[i]) == 0,
		    "\"%s\": esc_vis_plain disagrees with ESC_VIS", text);
	}
}

Test(buf, refuses_past_its_maximum)
{
	struct buf b;
	char arr[8];

	buf_init(&b, 5);
	cr_assert_eq(buf_adds(&b, "abc"), 0);
	cr_expect_eq(buf_adds(&b, "def"), -1, "past the maximum: refused whole");
	cr_expect_str_eq(buf_str(&b), "abc", "nothing of the refused append is kept");
	cr_expect(b.failed);
	cr_expect_eq(buf_addf(&b, "%d", 42), 0);
	cr_expect_str_eq(buf_str(&b), "abc42");
	cr_expect_eq(buf_room(&b), 0);
	buf_reset(&b);
	cr_expect_str_eq(buf_str(&b), "");
	cr_expect_not(b.failed);
	buf_free(&b);

	buf_fixed(&b, arr, sizeof(arr));
	cr_expect_str_eq(buf_str(&b), "");
	cr_expect_eq(buf_addf(&b, "%s", "1234567"), 0);
	cr_expect_eq(buf_addc(&b, '8'), -1, "a fixed buffer never grows");
	cr_expect_str_eq(arr, "1234567");
	buf_free(&b);
}

Test(buf, grows_on_the_heap)
{
	struct buf b;
	int i;

	buf_init(&b, 100000);
	for (i = 0; i < 10000; i++)
		cr_assert_eq(buf_addc(&b, (char)('a' + i % 26)), 0);
	cr_expect_eq(b.len, 10000);
	cr_expect_eq(strlen(buf_str(&b)), 10000);
	cr_expect_eq(buf_str(&b)[9999], 'a' + 9999 % 26);
	buf_free(&b);
}

/* buf_addu prints what "%llu" does, and like every append fails whole past the maximum */
Test(buf, addu_as_printf)
{
	static const unsigned long long v[] = { 0, 1, 9, 10, 99, 100, 12345, 4294967295ULL,
		4294967296ULL, 18446744073709551615ULL };
	char want[32], arr[4];
	struct buf b;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		buf_init(&b, 64);
		cr_assert_eq(buf_adds(&b, "n="), 0);
		cr_assert_eq(buf_addu(&b, v[i]), 0);
		snprintf(want, sizeof(want), "n=%llu", v[i]);
		cr_expect_str_eq(buf_str(&b), want);
		buf_free(&b);
	}
	buf_fixed(&b, arr, sizeof(arr));
	cr_expect_eq(buf_addu(&b, 123), 0);
	cr_expect_eq(buf_addu(&b, 4), -1, "past the maximum");
	cr_expect_str_eq(buf_str(&b), "123");
}
