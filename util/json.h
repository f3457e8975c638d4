/*
 * NAME
 *	json - write JSON strings safely to a stdio stream
 * SUMMARY
 *	json_str() writes p[0..n) as a quoted JSON string through util/esc
 *	(ESC_JSON): quotes, backslash and control bytes are escaped, bytes
 *	>= 0x80 that are not well-formed UTF-8 (RFC 3629: no overlong forms,
 *	no surrogates, nothing past U+10FFFF) become \u00XX of the byte, so
 *	any log bytes give valid JSON.
 */
#ifndef SG_JSON_H
#define SG_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

void json_str(FILE *, const char *p, size_t n);
void json_cstr(FILE *, const char *s); /* NUL-terminated; NULL -> null */
/* json_time - "2026-11-27T17:20:00Z" (RFC 3339, UTC, seconds) into buf */
const char *json_time(int64_t usec, char *buf, size_t len);

#endif
