/*
 * NAME
 *	esc - the one escaper (see esc.h)
 * SUMMARY
 *	Every mode is a function from the input to a sequence of pieces
 *	(piece() writes one: a byte as it is, an escape, or a whole UTF-8
 *	sequence for JSON); esc_buf() and esc_fp() only differ in where the
 *	pieces go, so a cut never splits an escape.
 */
#include <string.h>

#include "util/esc.h"

static const char hex[] = "0123456789abcdef";

/* vis_kept - ESC_VIS writes byte c as it is: printable ASCII but '\\' */
static inline int
vis_kept(unsigned char c)
{
	return (c >= 0x20 && c < 0x7f && c != '\\');
}

/* utf8_len - length of a valid UTF-8 sequence at p (n bytes left), 0 if invalid */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t need, i;

	if (p[0] < 0xc2 || p[0] > 0xf4)
		return (0);
	need = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;
	if (n < need)
		return (0);
	for (i = 1; i < need; i++)
		if ((p[i] & 0xc0) != 0x80)
			return (0);
	/* no overlong 3- and 4-byte forms, no surrogates, nothing past U+10FFFF */
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
		return (0);
	return (need);
}

/* utf8_piece - a valid UTF-8 sequence at p as it is into out: its length (also in *used), 0 if none */
static size_t
utf8_piece(const unsigned char *p, size_t n, char *out, size_t *used)
{
	size_t k;

	if (p[0] < 0x80 || (k = utf8_len(p, n)) == 0)
		return (0);
	memcpy(out, p, k);
	*used = k;
	return (k);
}

/* hexbyte - the text \xNN of byte c at out (4 bytes) */
static size_t
hexbyte(unsigned char c, char *out)
{
	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[c >> 4];
	out[3] = hex[c & 15];
	return (4);
}

/*
 * piece_html - one piece of ESC_HTML: the five characters that mean
 * something in HTML text or a quoted attribute as references, valid UTF-8
 * as it is, every other byte outside printable ASCII (and the backslash)
 * as the text \xNN
 */
static size_t
piece_html(const unsigned char *p, size_t n, char *out, size_t *used)
{
	static const struct {
		unsigned char c;
		const char *ref;
	} refs[] = { { '&', "&amp;" }, { '<', "&lt;" }, { '>', "&gt;" }, { '"', "&quot;" },
		{ '\'', "&#39;" } };
	unsigned char c = p[0];
	size_t i, k;

	for (i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
		if (c == refs[i].c) {
			k = strlen(refs[i].ref);
			memcpy(out, refs[i].ref, k);
			return (k);
		}
	if (c >= 0x20 && c < 0x7f && c != '\\') {
		out[0] = (char)c;
		return (1);
	}
	if ((k = utf8_piece(p, n, out, used)) > 0)
		return (k);
	return (hexbyte(c, out));
}

/*
 * piece_prom - one piece of ESC_PROM: \\, \" and \n as the text format
 * wants them, valid UTF-8 as it is, other bytes as \\xNN
 */
static size_t
piece_prom(const unsigned char *p, size_t n, char *out, size_t *used)
{
	unsigned char c = p[0];
	size_t k;

	if (c == '\\' || c == '"' || c == '\n') {
		out[0] = '\\';
		out[1] = (char)(c == '\n' ? 'n' : c);
		return (2);
	}
	if (c >= 0x20 && c < 0x7f) {
		out[0] = (char)c;
		return (1);
	}
	if ((k = utf8_piece(p, n, out, used)) > 0)
		return (k);
	out[0] = '\\';
	return (1 + hexbyte(c, out + 1));
}

/*
 * piece - the output for the input at p (n > 0 bytes left) in mode m into
 * out (at least 8 bytes); *used gets the input bytes it stands for.
 * Returns the piece's length.
 */
static size_t
piece(enum esc_mode m, const unsigned char *p, size_t n, char *out, size_t *used)
{
	unsigned char c = p[0];
	size_t k;

	*used = 1;
	switch (m) {
	case ESC_JSON:
		if (c == '"' || c == '\\') {
			out[0] = '\\';
			out[1] = (char)c;
			return (2);
		}
		if (c == '\n' || c == '\t') {
			out[0] = '\\';
			out[1] = c == '\n' ? 'n' : 't';
			return (2);
		}
		if (c >= 0x20 && c < 0x7f) {
			out[0] = (char)c;
			return (1);
		}
		if ((k = utf8_piece(p, n, out, used)) > 0)
			return (k);
		memcpy(out, "\\u00", 4);
		out[4] = hex[c >> 4];
		out[5] = hex[c & 15];
		return (6);
	case ESC_CSV:
		if (c == '"') {
			out[0] = out[1] = '"';
			return (2);
		}
		out[0] = (char)c;
		return (1);
	case ESC_HTML:
		return (piece_html(p, n, out, used));
	case ESC_PROM:
		return (piece_prom(p, n, out, used));
	case ESC_VIS:
	case ESC_ARG:
	case ESC_WORD:
	default:
		if (vis_kept(c) && !(m == ESC_ARG && c == '\'') && !(m == ESC_WORD && c == ' ')) {
			out[0] = (char)c;
			return (1);
		}
		return (hexbyte(c, out));
	}
}

/* esc_vis_plain - s is its own ESC_VIS form; see esc.h */
int
esc_vis_plain(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	for (i = 0; i < n; i++)
		if (!vis_kept(p[i]))
			return (0);
	return (1);
}

/* quoted - the mode wraps s in quotes */
static int
quoted(enum esc_mode m, const char *s, size_t n)
{
	size_t i;

	if (m == ESC_JSON)
		return (1);
	if (m != ESC_CSV)
		return (0);
	for (i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			return (1);
	return (0);
}

/* escaped_len - the length of s written for mode m, quotes included */
static size_t
escaped_len(enum esc_mode m, const unsigned char *p, size_t n, size_t q)
{
	size_t i = 0, used, len = 2 * q;
	char pc[8];

	while (i < n) {
		len += piece(m, p + i, n - i, pc, &used);
		i += used;
	}
	return (len);
}

int
esc_buf(struct buf *b, const char *s, size_t n, enum esc_mode m, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, used, k, q = quoted(m, s, n) ? 1 : 0, start = b->len, out;
	int cut = 0;
	char pc[8];

	if (max != 0 && max < 2 * q + 3)
		max = 2 * q + 3;
	if (max != 0 && escaped_len(m, p, n, q) > max) {
		cut = 1;
		max -= 3; /* room for "..." */
	} else
		max = 0;
	if (q && buf_addc(b, '"') < 0)
		goto full;
	for (out = q; i < n; i += used, out += k) {
		k = piece(m, p + i, n - i, pc, &used);
		if (cut && out + k + q > max)
			break;
		if (buf_add(b, pc, k) < 0)
			goto full;
	}
	if ((cut && buf_add(b, "...", 3) < 0) || (q && buf_addc(b, '"') < 0))
		goto full;
	return (cut);
full:
	b->len = start;
	if (b->p != NULL)
		b->p[start] = '\0';
	b->failed = 1;
	return (-1);
}

/* esc_fp - the pieces gathered in a buffer, one fwrite() per buffer (not per piece: per byte) */
void
esc_fp(FILE *fp, const char *s, size_t n, enum esc_mode m)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, used, k, o = 0;
	int q = quoted(m, s, n);
	char out[256];

	if (q)
		putc('"', fp);
	while (i < n) {
		if (o + 8 > sizeof(out)) { /* a piece is at most 8 bytes */
			fwrite(out, 1, o, fp);
			o = 0;
		}
		k = piece(m, p + i, n - i, out + o, &used);
		o += k;
		i += used;
	}
	if (o > 0)
		fwrite(out, 1, o, fp);
	if (q)
		putc('"', fp);
}

const char *
esc_vis(const char *s, char *array, size_t size)
{
	struct buf b;

	buf_fixed(&b, array, size);
	if (s == NULL)
		s = "(none)";
	(void)esc_buf(&b, s, strlen(s), ESC_VIS, size - 1);
	return (array);
}
