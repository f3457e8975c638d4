/*
 * NAME
 *	fuzz_control - libFuzzer target: the control socket's request
 *	parser, control_parse() (agent/control.c)
 * SUMMARY
 *	The input is one request line as the daemon takes it off the socket
 *	(its bytes up to the newline, which may hold anything).  Besides not
 *	crashing, an accepted request must be one the daemon can act on: a
 *	known verb; for block, unblock and explain an identity that passes
 *	ident_fold() again unchanged (valid and already folded); a duration
 *	that is not negative; a known unblock mode.  A refused one has a
 *	reason.
 *	Seeds: one request of each kind (fuzz/run.sh).
 * UNTRUSTED INPUT
 *	Every byte.
 */
#include <stdint.h>
#include <string.h>

#include "agent/control.h"
#include "fuzz/fuzz.h"
#include "util/ident.h"

/* fuzz_control_one - data as one request line */
static int
fuzz_control_one(const uint8_t *data, size_t size)
{
	struct control_req r;
	char why[256] = "", again[IDENT_MAX];
	const char *bad = NULL;

	if (control_parse((const char *)data, size, &r, why, sizeof(why)) < 0) {
		FUZZ_CHECK(why[0] != '\0');
		return (0);
	}
	FUZZ_CHECK(size < CONTROL_REQ_MAX);
	FUZZ_CHECK(r.verb == CONTROL_STATUS || r.verb == CONTROL_BLOCK ||
	    r.verb == CONTROL_UNBLOCK || r.verb == CONTROL_EXPLAIN);
	if (r.verb == CONTROL_STATUS)
		return (0);
	FUZZ_CHECK(ident_fold(r.id, again, sizeof(again), &bad) == 1);
	FUZZ_CHECK(strcmp(again, r.id) == 0);
	FUZZ_CHECK(r.secs >= 0);
	FUZZ_CHECK(r.mode == ACT_UNBLOCK_KEEP || r.mode == ACT_UNBLOCK_RELEASE ||
	    r.mode == ACT_UNBLOCK_DELETE);
	return (0);
}

FUZZ_MAIN(fuzz_control_one)
