/*
 * NAME
 *	buf - one bounded, always NUL-terminated text buffer
 * SUMMARY
 *	A buffer is made with a maximum size.  Appends that would pass it
 *	fail as a whole (nothing of them is added), return -1 and mark the
 *	buffer failed, so the caller sees it instead of a silently shortened
 *	text.  A buffer either grows on the heap up to its maximum
 *	(buf_init) or lives in the caller's array (buf_fixed: no allocation,
 *	for hot paths and small texts).  The text is NUL-terminated at all
 *	times; buf_str() of an empty buffer is "".
 *	Uses nothing of the project (the lower floor).
 * RETURNS
 *	0 / -1; never prints, never exits.
 */
#ifndef SG_BUF_H
#define SG_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

struct buf {
	char *p;    /* the text, NUL-terminated; NULL while empty (heap) */
	size_t len; /* bytes of text */
	size_t cap; /* bytes allocated (or of the caller's array) */
	size_t max; /* most text bytes it may hold */
	int fixed;  /* p is the caller's array */
	int failed; /* an append did not fit (or ENOMEM) */
};

/* buf_init - an empty heap buffer of at most max bytes of text */
void buf_init(struct buf *, size_t max);
/* buf_fixed - an empty buffer in the caller's array of size bytes (size > 0) */
void buf_fixed(struct buf *, char *array, size_t size);
/* buf_add - append n bytes; -1 (nothing added, failed set) past the maximum or on ENOMEM */
int buf_add(struct buf *, const void *s, size_t n);
/*
 * buf_put - buf_add in line: when the room is there, the bytes are copied
 * here (a memcpy of a length the compiler knows is a move or two), else
 * buf_add grows the buffer or fails.  For callers that append many short
 * pieces of text (the JSON report's rows).
 */
static inline int
buf_put(struct buf *b, const void *s, size_t n)
{
	if (n > b->max - b->len || b->len + n + 1 > b->cap)
		return (buf_add(b, s, n));
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return (0);
}
/* buf_adds - append a C string */
int buf_adds(struct buf *, const char *s);
/* buf_addc - append one byte */
int buf_addc(struct buf *, char c);
/* buf_addu - append v in decimal (what "%llu" prints, without printf's work) */
int buf_addu(struct buf *, unsigned long long v);
/* buf_addf - append printf-style; as buf_add */
int buf_addf(struct buf *, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *, const char *fmt, va_list) __attribute__((format(printf, 2, 0)));
/* buf_room - bytes that may still be appended */
size_t buf_room(const struct buf *);
/* buf_str - the text ("" when empty) */
const char *buf_str(const struct buf *);
/* buf_reset - empty it again (keeps its memory and its maximum; clears failed) */
void buf_reset(struct buf *);
/* buf_free - release a heap buffer (a fixed one is only reset) */
void buf_free(struct buf *);

#endif
