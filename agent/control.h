/*
 * NAME
 *	control - the daemon's control socket (AF_UNIX stream, mode 0600)
 * SUMMARY
 *	Protocol: the client sends one request line ("status json\n",
 *	"status text\n"); the daemon answers with the full response and
 *	closes.  Requests are at most CONTROL_REQ_MAX bytes; anything else
 *	gets "error: ..." and the connection is closed.
 *	control_listen() makes the listening socket (creating its directory,
 *	mode 0755, and replacing a stale socket that nobody answers on);
 *	control_request() is the client side.
 * RETURNS
 *	0 / fd, or -1 with err filled; never prints or exits.
 * UNTRUSTED INPUT
 *	Requests come from local root (the socket is 0600) but are still
 *	parsed as data: a fixed set of words, never passed on.
 */
#ifndef SG_CONTROL_H
#define SG_CONTROL_H

#include <stddef.h>
#include <stdio.h>

#define CONTROL_REQ_MAX 1024

/* control_listen - a non-blocking listening socket at path; -1 with err */
int	control_listen(const char *path, char *err, size_t errlen);

/*
 * control_request - send req (a line without newline) to the daemon at
 * path and copy the answer to out.  Returns 0; 1 when no daemon listens
 * there (no socket, or connection refused); -1 on another error.
 */
int	control_request(const char *path, const char *req, FILE *out, char *err,
			size_t errlen);

#endif
