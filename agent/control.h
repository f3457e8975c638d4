/*
 * NAME
 *	control - the daemon's control socket (AF_UNIX stream, mode 0600)
 * SUMMARY
 *	control_listen() makes the listening socket for `run` (creating its
 *	directory, mode 0755, and replacing a stale socket that nobody
 *	answers on); control_request() is the client side, used by status,
 *	block, unblock and explain.  The daemon (agent/cmd_run.c) answers.
 * PROTOCOL
 *	One request per connection: a line of at most CONTROL_REQ_MAX - 1
 *	bytes ended by "\n" (a "\r\n" is taken too).  The daemon writes the
 *	whole answer and closes.  The requests:
 *	  status, status text	the status report as text
 *	  status json		the same as JSON
 *	  block HEX SECONDS	block the identity for SECONDS (0: until
 *				unblocked by hand)
 *	  unblock HEX MODE	end its block; MODE keep, release or delete
 *				says what becomes of its held mail (stays
 *				held, postsuper -H, postsuper -d)
 *	  explain HEX		the story behind the identity's state
 *	HEX is the identity's bytes as lower-case hex, so that no byte of it
 *	can be read as a separator; the daemon validates it as one typed by
 *	hand.  block and unblock answer with enforcement's report once the
 *	programs ran (the client waits up to 60 s).  A request that fails
 *	gets one line "error: WHY": an unknown request, a request too long,
 *	a bad identity, a bad duration, a bad unblock mode, or the failure.
 * RETURNS
 *	0 / fd, or -1 with err filled; never prints or exits.
 * UNTRUSTED INPUT
 *	Requests come from local root (the socket is 0600) but are still
 *	parsed as data: a fixed set of words and a hex identity, never
 *	passed on unchecked.
 */
#ifndef SG_CONTROL_H
#define SG_CONTROL_H

#include <stddef.h>
#include <stdio.h>

#include "util/ident.h"

#define CONTROL_REQ_MAX (2 * IDENT_MAX + 64) /* "unblock", a hex identity, an argument */

/* control_listen - a non-blocking listening socket at path; -1 with err */
int control_listen(const char *path, char *err, size_t errlen);

/*
 * control_request - send req (a line without newline) to the daemon at
 * path and copy the answer to out.  Returns 0; 1 when no daemon listens
 * there (no socket, or connection refused); -1 on another error.
 */
int control_request(const char *path, const char *req, FILE *out, char *err, size_t errlen);

#endif
