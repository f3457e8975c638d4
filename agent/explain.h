/*
 * NAME
 *	explain - the story behind an identity's state, from the store
 * SUMMARY
 *	explain_print() writes what the store knows about one identity: its
 *	block state, the limits it crossed, its latest messages, its holds,
 *	and every action run for it with its outcome.  `sendguard explain`
 *	calls it on the database read-only; the daemon calls it to answer
 *	"explain" on its control socket.
 * RETURNS
 *	0, or -1 with err when the store cannot be read.
 * UNTRUSTED INPUT
 *	Identities, queue IDs, argv elements and outcomes from the store
 *	(the log wrote them): shown through util/esc (control and non-ASCII
 *	bytes as \xNN).
 */
#ifndef SG_EXPLAIN_H
#define SG_EXPLAIN_H

#include <stddef.h>
#include <stdio.h>

#include "store/store.h"

int explain_print(struct store *, const char *identity, FILE *out, char *err, size_t errlen);

#endif
