/*
 * NAME
 *	source_priv - what source.c and source_text.c share (private)
 * SUMMARY
 *	The text rule of source.h's ERRORS (source_text.c).  Nothing outside
 *	count/source*.c includes it.
 * RETURNS
 *	source_is_text: 1 when at most a quarter of the n bytes at p are
 *	neither printable ASCII, TAB, LF, CR, FF nor in well-formed UTF-8,
 *	else 0.  Never prints, never exits.
 * UNTRUSTED INPUT
 *	The bytes, with their length.
 */
#ifndef SG_SOURCE_PRIV_H
#define SG_SOURCE_PRIV_H

#include <stddef.h>

/* source_is_text - see RETURNS */
int source_is_text(const unsigned char *p, size_t n);

#endif
