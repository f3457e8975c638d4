/*
 * NAME
 *	control - the daemon's control socket (AF_UNIX stream, mode 0600)
 * SUMMARY
 *	control_listen() makes the listening socket for `run` (creating its
 *	directory, mode 0700, and replacing a stale socket that nobody
 *	answers on); control_request() is the client side, used by status,
 *	block, unblock and explain.  control_parse() reads one request
 *	line into a struct control_req: a pure function, fuzzed by
 *	fuzz/fuzz_control.c.  The server side (control_new()) accepts and
 *	reads clients in the daemon's event loop and hands each parsed
 *	request to the daemon (agent/cmd_run.c), which answers it.
 *
 *	The server lets in only a peer whose SO_PEERCRED uid is root or the
 *	daemon's own; any other gets "error: not allowed" and is logged.  A
 *	client has CONTROL_IDLE_MS to send its request line, then it gets
 *	"error: timeout" and is closed; at most CONTROL_CLIENTS_MAX are
 *	served at once (those waiting for a block's report included), and
 *	one more gets "error: busy" at once.  The socket file is 0600 in a
 *	0700 directory, so the peer check is a second wall behind the file
 *	modes, for a socket an administrator opened up by mistake.
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
 *	can be read as a separator; it is validated and folded like one
 *	typed by hand (util/ident).  block and unblock answer with
 *	enforcement's report once the programs ran (the client waits up to
 *	60 s).  A request that fails gets one line "error: WHY": an unknown
 *	request, a request too long, a bad identity, a bad duration, a bad
 *	unblock mode, not allowed, busy, timeout, or the failure.
 * RETURNS
 *	0 / fd, or -1 with err filled; the server logs what it refuses
 *	(agent/ may log).
 * UNTRUSTED INPUT
 *	Requests: parsed as data (a fixed set of words, a hex identity, a
 *	decimal number, a mode word), never passed on unchecked, whoever
 *	sent them.
 */
#ifndef SG_CONTROL_H
#define SG_CONTROL_H

#include <stddef.h>
#include <stdio.h>

#include "actions/act.h"
#include "util/ev.h"
#include "util/ident.h"

#define CONTROL_REQ_MAX (2 * IDENT_MAX + 64) /* "unblock", a hex identity, an argument */
#define CONTROL_IDLE_MS 5000                 /* to send the request line */
#define CONTROL_CLIENTS_MAX 16               /* served at once */

/* control_listen - a non-blocking listening socket at path; -1 with err */
int control_listen(const char *path, char *err, size_t errlen);

/*
 * control_request - send req (a line without newline) to the daemon at
 * path and copy the answer to out.  Returns 0; 1 when no daemon listens
 * there (no socket, or connection refused); -1 on another error.
 */
int control_request(const char *path, const char *req, FILE *out, char *err, size_t errlen);

/* ------------------------------------------------------- the requests */

enum control_verb { CONTROL_STATUS, CONTROL_BLOCK, CONTROL_UNBLOCK, CONTROL_EXPLAIN };

struct control_req {
	enum control_verb verb;
	int json;                   /* status: as JSON */
	char id[IDENT_MAX];         /* block, unblock, explain: validated, folded */
	long long secs;             /* block: 0 until unblocked by hand */
	enum act_unblock_mode mode; /* unblock */
};

/*
 * control_parse - one request line (len bytes, newline taken off) into
 * *r.  Returns 0, or -1 with the client's answer after "error: " in why
 * ("unknown request", "bad identity: contains a control character", ...).
 */
int control_parse(const char *line, size_t len, struct control_req *r, char *why, size_t whylen);

/* ----------------------------------------------------- the server side */

struct control;
struct control_client;

/*
 * The daemon's answer to a parsed request of client c: control_reply()
 * now, or control_defer() and control_reply() later.
 */
typedef void (*control_answer_fn)(void *ctx, struct control_client *c, const struct control_req *r);

/* control_new - serve listening socket lfd (not owned) in loop ev; NULL on ENOMEM */
struct control *control_new(struct ev *ev, int lfd, control_answer_fn answer, void *ctx);

/* control_free - stop listening and close every client (after the last control_reply) */
void control_free(struct control *);

/*
 * control_reply - write the whole answer to c (a client that does not read
 * gets 2 s), close and free it.
 */
void control_reply(struct control_client *c, const char *text, size_t len);

/* control_defer - c waits for an answer: stop reading it and its idle time limit */
void control_defer(struct control_client *c);

#endif
