/*
 * NAME
 *	buf - bounded text buffer (see buf.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
buf_fixed(struct buf *b, char *array, size_t size)
{
	memset(b, 0, sizeof(*b));
	b->p = array;
	b->cap = size;
	b->max = size - 1;
	b->fixed = 1;
	array[0] = '\0';
}

/* grow - room for need more bytes and the NUL; -1 past the maximum or ENOMEM */
static int
grow(struct buf *b, size_t need)
{
	size_t nc;
	char *np;

	if (need > b->max - b->len) {
		b->failed = 1;
		return (-1);
	}
	if (b->len + need + 1 <= b->cap)
		return (0);
	if (b->fixed) {
		b->failed = 1;
		return (-1);
	}
	nc = b->cap ? b->cap : 64;
	while (nc < b->len + need + 1)
		nc *= 2;
	if (nc > b->max + 1)
		nc = b->max + 1;
	if ((np = realloc(b->p, nc)) == NULL) {
		b->failed = 1;
		return (-1);
	}
	b->p = np;
	b->cap = nc;
	return (0);
}

int
buf_add(struct buf *b, const void *s, size_t n)
{
	/* the room is there (the usual case: a buffer reused for rows of text) */
	if ((n > b->max - b->len || b->len + n + 1 > b->cap) && grow(b, n) < 0)
		return (-1);
	if (n == 1) /* an escaper's piece: most are one byte */
		b->p[b->len] = *(const char *)s;
	else if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return (0);
}

int
buf_adds(struct buf *b, const char *s)
{
	return (buf_add(b, s, strlen(s)));
}

int
buf_addc(struct buf *b, char c)
{
	if ((b->len >= b->max || b->len + 2 > b->cap) && grow(b, 1) < 0)
		return (-1);
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
	return (0);
}

int
buf_addu(struct buf *b, unsigned long long v)
{
	char digits[24], *d = digits + sizeof(digits);

	do
		*--d = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	return (buf_add(b, d, (size_t)(digits + sizeof(digits) - d)));
}

int
buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || grow(b, (size_t)n) < 0) {
		b->failed = 1;
		return (-1);
	}
	(void)vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return (0);
}

int
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return (r);
}

size_t
buf_room(const struct buf *b)
{
	return (b->max - b->len);
}

const char *
buf_str(const struct buf *b)
{
	return (b->p != NULL ? b->p : "");
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->failed = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

void
buf_free(struct buf *b)
{
	if (!b->fixed) {
		free(b->p);
		b->p = NULL;
		b->cap = 0;
	}
	buf_reset(b);
}
