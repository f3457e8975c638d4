/*
 * NAME
 *	hex - bytes as hexadecimal text and back
 * SUMMARY
 *	hex_encode() appends bytes as lower-case hex digits to a bounded
 *	buffer; hex_decode() turns hex digits (either case) back into bytes.
 *	What crosses a boundary that must not see a byte of its own (the
 *	control socket's identities, the cluster's strings in PostgreSQL)
 *	travels this way.
 *	Uses nothing of the project but util/buf (the lower floor).
 * RETURNS
 *	Never prints, never exits, never allocates (but through the buffer).
 * UNTRUSTED INPUT
 *	hex_decode()'s text: anything but an even number of hex digits, or
 *	more bytes than out can hold, is refused.
 */
#ifndef SG_HEX_H
#define SG_HEX_H

#include <stddef.h>

#include "util/buf.h"

/* hex_encode - the n bytes at p as 2n lower-case hex digits appended to b; 0, or -1 */
int hex_encode(struct buf *b, const void *p, size_t n);

/*
 * hex_decode - the n hex digits at h as bytes into out (outlen bytes),
 * NUL-terminated: the number of bytes, or -1 when n is odd, a digit is
 * not hex, or out has no room for them and the NUL
 */
long hex_decode(const char *h, size_t n, char *out, size_t outlen);

#endif
