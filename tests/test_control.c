/*
 * test_control - the control socket's request parser, control_parse()
 * (agent/control.c): one row per request, what the daemon is asked or
 * the error the client gets.  The inputs that fuzz/fuzz_control.c found
 * worth keeping stand in the table too.  (The server side, its peer
 * check, idle time limit and client limit, is tested against the real
 * daemon in test_daemon.c.)
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/control.h"

#define NROWS(t) (sizeof(t) / sizeof((t)[0]))

struct crow {
	const char *label;
	const char *line;	/* the request, hex written as "<sasl:x@y>" is encoded */
	int	ok;
	enum control_verb verb;
	int	json;
	const char *id;		/* validated, folded */
	long long secs;
	enum act_unblock_mode mode;
	const char *why;	/* when refused: the client's error after "error: " */
};

static const struct crow crows[] = {
	{ "status", "status", 1, CONTROL_STATUS, 0, "", 0, 0, NULL },
	{ "status text", "status text", 1, CONTROL_STATUS, 0, "", 0, 0, NULL },
	{ "status json", "status json", 1, CONTROL_STATUS, 1, "", 0, 0, NULL },
	{ "status xml", "status xml", 0, 0, 0, NULL, 0, 0, "unknown request" },
	{ "status with a trailing space", "status ", 0, 0, 0, NULL, 0, 0, "unknown request" },
	{ "empty", "", 0, 0, 0, NULL, 0, 0, "unknown request" },
	{ "upper-case verb", "STATUS", 0, 0, 0, NULL, 0, 0, "unknown request" },
	{ "unknown verb", "shutdown now", 0, 0, 0, NULL, 0, 0, "unknown request" },
	{ "block", "block <sasl:alice@example.com> 3600", 1, CONTROL_BLOCK, 0,
	  "sasl:alice@example.com", 3600, 0, NULL },
	{ "block until unblocked", "block <uid:33> 0", 1, CONTROL_BLOCK, 0, "uid:33", 0, 0, NULL },
	{ "identity folded", "explain <sasl:Alice@Example.COM>", 1, CONTROL_EXPLAIN, 0,
	  "sasl:alice@example.com", 0, 0, NULL },
	{ "block without duration", "block <uid:33>", 0, 0, 0, NULL, 0, 0, "bad duration" },
	{ "negative duration", "block <uid:33> -1", 0, 0, 0, NULL, 0, 0, "bad duration" },
	{ "duration with junk", "block <uid:33> 12x", 0, 0, 0, NULL, 0, 0, "bad duration" },
	{ "duration out of range", "block <uid:33> 99999999999999999999", 0, 0, 0, NULL, 0, 0,
	  "bad duration" },
	{ "empty duration", "block <uid:33> ", 0, 0, 0, NULL, 0, 0, "bad duration" },
	{ "unblock keep", "unblock <sender:a@b.example> keep", 1, CONTROL_UNBLOCK, 0,
	  "sender:a@b.example", 0, ACT_UNBLOCK_KEEP, NULL },
	{ "unblock release", "unblock <ip:192.0.2.1> release", 1, CONTROL_UNBLOCK, 0,
	  "ip:192.0.2.1", 0, ACT_UNBLOCK_RELEASE, NULL },
	{ "unblock delete", "unblock <ip:192.0.2.1> delete", 1, CONTROL_UNBLOCK, 0,
	  "ip:192.0.2.1", 0, ACT_UNBLOCK_DELETE, NULL },
	{ "unblock purge", "unblock <ip:192.0.2.1> purge", 0, 0, 0, NULL, 0, 0,
	  "bad unblock mode" },
	{ "unblock without mode", "unblock <ip:192.0.2.1>", 0, 0, 0, NULL, 0, 0,
	  "bad unblock mode" },
	{ "explain with an argument", "explain <uid:33> 5", 0, 0, 0, NULL, 0, 0,
	  "unknown request" },
	{ "upper-case hex", "explain 7569643A3333", 0, 0, 0, NULL, 0, 0, "bad identity: not hex" },
	{ "odd hex", "explain 756", 0, 0, 0, NULL, 0, 0, "bad identity: not hex" },
	{ "no hex", "explain ", 0, 0, 0, NULL, 0, 0, "bad identity: not hex" },
	{ "no kind", "explain <nobody>", 0, 0, 0, NULL, 0, 0,
	  "bad identity: an identity starts with" },
	{ "control byte", "explain <sasl:a\tb>", 0, 0, 0, NULL, 0, 0,
	  "bad identity: contains a control character" },
	{ "uid not a number", "explain <uid:root>", 0, 0, 0, NULL, 0, 0,
	  "bad identity: a uid is a number" },
	{ "two spaces", "block  <uid:33> 5", 0, 0, 0, NULL, 0, 0, "bad identity: not hex" },
};

/* encode - line with each <...> written as the hex of its bytes */
static size_t
encode(const char *line, char *out, size_t outlen)
{
	size_t n = 0;
	int hex = 0;

	for (; *line != '\0' && n + 3 < outlen; line++) {
		if (*line == '<' || *line == '>') {
			hex = *line == '<';
			continue;
		}
		n += (size_t)(hex ? snprintf(out + n, outlen - n, "%02x", (unsigned char)*line)
				  : snprintf(out + n, outlen - n, "%c", *line));
	}
	out[n] = '\0';
	return (n);
}

Test(control, parse_table)
{
	size_t i;

	for (i = 0; i < NROWS(crows); i++) {
		const struct crow *c = &crows[i];
		struct control_req r;
		char line[4096], why[256] = "";
		size_t n = encode(c->line, line, sizeof(line));
		int rc = control_parse(line, n, &r, why, sizeof(why));

		if (!c->ok) {
			cr_expect_eq(rc, -1, "%s: accepted", c->label);
			cr_expect_eq(strncmp(why, c->why, strlen(c->why)), 0,
			    "%s: error \"%s\", want \"%s\"", c->label, why, c->why);
			continue;
		}
		cr_expect_eq(rc, 0, "%s: refused: %s", c->label, why);
		cr_expect_eq(r.verb, c->verb, "%s: verb", c->label);
		cr_expect_eq(r.json, c->json, "%s: json", c->label);
		cr_expect_str_eq(r.id, c->id, "%s: identity", c->label);
		cr_expect_eq(r.secs, c->secs, "%s: seconds", c->label);
		cr_expect_eq(r.mode, c->mode, "%s: mode", c->label);
	}
}

/* Bytes a line read from the socket can hold that a C string cannot. */
Test(control, nul_and_length)
{
	static const char nul[] = "status\0 json";
	struct control_req r;
	char why[256], *big;
	size_t n = CONTROL_REQ_MAX;

	cr_expect_eq(control_parse(nul, sizeof(nul) - 1, &r, why, sizeof(why)), -1);
	cr_expect_str_eq(why, "unknown request");
	cr_expect_eq(control_parse("explain 7569643a3333\0", 21, &r, why, sizeof(why)), -1,
	    "a NUL after the identity");
	big = malloc(n);
	cr_assert_not_null(big);
	memset(big, 'a', n);
	memcpy(big, "explain ", 8);
	cr_expect_eq(control_parse(big, n, &r, why, sizeof(why)), -1);
	cr_expect_str_eq(why, "request too long");
	/* the longest identity there is fits a request: "sasl:" and 1024 "f" (hex 66) */
	memset(big + 8, '6', 2 * IDENT_VALUE_MAX + 12);
	memcpy(big + 8, "7361736c3a", 10);
	cr_expect_eq(control_parse(big, 8 + 10 + 2 * IDENT_VALUE_MAX, &r, why, sizeof(why)), 0,
	    "%s", why);
	cr_expect_eq(strlen(r.id), 5 + IDENT_VALUE_MAX);
	cr_expect_eq(control_parse(big, 8 + 10 + 2 * IDENT_VALUE_MAX + 2, &r, why, sizeof(why)),
	    -1, "one byte more");
	cr_expect_str_eq(why, "bad identity: longer than 1024 bytes");
	free(big);
}
