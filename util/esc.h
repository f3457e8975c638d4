/*
 * NAME
 *	esc - the one escaper: text from the log made safe for a log line, a
 *	terminal, an argv shown in a log, JSON, CSV, HTML and Prometheus
 *	label values
 * SUMMARY
 *	ESC_VIS keeps printable ASCII and writes every other byte, and the
 *	backslash, as \xNN: nothing can end a line, move a terminal's cursor
 *	or look like another field.  ESC_ARG does the same and also escapes
 *	the single quote (argv elements are shown in '...').  ESC_JSON writes
 *	a JSON string with its quotes (valid UTF-8 kept, control bytes and
 *	invalid bytes as \u00NN).  ESC_CSV writes an RFC 4180 field (quoted
 *	only when it must be, quotes doubled, bytes otherwise as they are).
 *	ESC_HTML writes text safe both between tags and inside a quoted
 *	attribute value: & < > " ' as character references, valid UTF-8
 *	kept, and control bytes, DEL, invalid bytes and the backslash as the
 *	visible text \xNN (as ESC_VIS), so no byte of the log can open a
 *	tag, end an attribute or hide in the page.  ESC_PROM writes a
 *	Prometheus text-format label value (without its quotes): the
 *	backslash, the double quote and the newline as \\, \" and \n, valid
 *	UTF-8 kept, other control bytes and invalid bytes as the text
 *	\\xNN (a backslash the format reads back as one, then xNN), so the
 *	value is always valid UTF-8 and one line.
 *	ESC_WORD is ESC_VIS with the space escaped too (\x20): the text is
 *	one word, so a field of a log line that others parse (the block
 *	line) cannot be taken for two.
 *	Uses nothing of the project but util/buf (the lower floor).
 * RETURNS
 *	Never prints on its own, never exits.
 * UNTRUSTED INPUT
 *	All of it: s may hold any bytes.
 */
#ifndef SG_ESC_H
#define SG_ESC_H

#include <stddef.h>
#include <stdio.h>

#include "util/buf.h"

enum esc_mode { ESC_VIS = 0, ESC_ARG, ESC_JSON, ESC_CSV, ESC_HTML, ESC_PROM, ESC_WORD };

/*
 * esc_buf - append s (n bytes) written for mode to b.  max (0: no limit)
 * bounds the bytes appended: a text that does not fit whole is cut after
 * a whole escape and "..." marks the cut (the quotes of JSON and CSV are
 * kept).  Returns 0, 1 when s was cut, -1 when b could not take it.
 */
int esc_buf(struct buf *b, const char *s, size_t n, enum esc_mode mode, size_t max);

/* esc_fp - write s (n bytes) for mode to fp, whole */
void esc_fp(FILE *fp, const char *s, size_t n, enum esc_mode mode);

/*
 * esc_vis - s (NULL: "(none)") as ESC_VIS into array (size bytes, at
 * least 4), cut with "..." when it does not fit; returns array
 */
const char *esc_vis(const char *s, char *array, size_t size);

/* esc_vis_plain - 1 when ESC_VIS writes s (n bytes) as it is, else 0 */
int esc_vis_plain(const char *s, size_t n);

#endif
