/*
 * test_postcat - the queue's word on a message (actions/postcat.c) and
 * whole map keys (actions/map.c's map_ident_ok), both as tables.
 *
 * The postcat fixtures in tests/postcat/ are the real output of Postfix
 * 3.7's `postcat -e -q QID` on this project's end-to-end instance: an
 * authenticated message deferred and one on hold, a pickup (sendmail)
 * message, sendguard's own notice from <>, the stderr of a queue ID that
 * is gone, and a local user's message whose sendmail -F full name wrote
 * lines into its envelope.  The hostile rows are the same texts changed
 * the way a forger or a truncated read would change them.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions/map.h"
#include "actions/postcat.h"
#include "actions/run.h"

#define NROWS(t) (sizeof(t) / sizeof((t)[0]))

/* fixture - tests/postcat/NAME, found from $SG_SRCDIR or the cwd (caller frees) */
static char *
fixture(const char *name)
{
	static const char *const up[] = { "", "../", "../../", "../../../" };
	const char *top = getenv("SG_SRCDIR");
	char path[512];
	FILE *fp = NULL;
	char *b;
	long n;
	size_t i;

	if (top != NULL && *top != '\0') {
		snprintf(path, sizeof(path), "%s/tests/postcat/%s", top, name);
		fp = fopen(path, "r");
	}
	for (i = 0; fp == NULL && i < NROWS(up); i++) {
		snprintf(path, sizeof(path), "%stests/postcat/%s", up[i], name);
		fp = fopen(path, "r");
	}
	cr_assert_not_null(fp, "fixture tests/postcat/%s not found", name);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	cr_assert_not_null(b = calloc(1, (size_t)n + 1));
	cr_assert_eq(fread(b, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return (b);
}

/* result - a postcat run that exited status with out and err */
static void
result(struct run_result *r, int status, const char *out, const char *err)
{
	memset(r, 0, sizeof(*r));
	r->exited = 1;
	r->status = status;
	snprintf(r->out, sizeof(r->out), "%s", out);
	snprintf(r->err, sizeof(r->err), "%s", err);
}

/* ---------------------------------------------------------------------- */
/* the real output */

#define BOB "58F29A725EE"    /* sasl-deferred.txt: bob@test.example from 127.0.0.1 */
#define ALICE "04777A725D4"  /* sasl-hold.txt: alice@test.example, on hold */
#define NOTICE "3FE20A724BD" /* null-sender.txt: root's notice, from <> through sendmail */
#define WWW "DE416A72638"    /* pickup.txt: www-data@test.example through sendmail */
#define INJ "B717CA72057"    /* pickup-fullname-injected.txt */

struct real {
	const char *file, *qid, *identity;
	enum postcat_verdict want;
};

static const struct real reals[] = {
	/* an authenticated message confirms its login, sender, client and their domains */
	{ "sasl-deferred.txt", BOB, "sasl:bob@test.example", POSTCAT_CONFIRMED },
	{ "sasl-deferred.txt", BOB, "sasl:BOB@Test.Example", POSTCAT_CONFIRMED },
	{ "sasl-deferred.txt", BOB, "sasl_domain:test.example", POSTCAT_CONFIRMED },
	{ "sasl-deferred.txt", BOB, "sender:bob@test.example", POSTCAT_CONFIRMED },
	{ "sasl-deferred.txt", BOB, "sender_domain:test.example", POSTCAT_CONFIRMED },
	{ "sasl-deferred.txt", BOB, "ip:127.0.0.1", POSTCAT_CONFIRMED },
	/* ... and nobody else */
	{ "sasl-deferred.txt", BOB, "sasl:alice@test.example", POSTCAT_UNCONFIRMED },
	{ "sasl-deferred.txt", BOB, "sasl:bob@test.exampl", POSTCAT_UNCONFIRMED },
	{ "sasl-deferred.txt", BOB, "sasl:bob", POSTCAT_UNCONFIRMED },
	{ "sasl-deferred.txt", BOB, "sasl_domain:example", POSTCAT_UNCONFIRMED },
	{ "sasl-deferred.txt", BOB, "sender:alice@test.example", POSTCAT_UNCONFIRMED },
	{ "sasl-deferred.txt", BOB, "sender_domain:other.example", POSTCAT_UNCONFIRMED },
	{ "sasl-deferred.txt", BOB, "ip:127.0.0.2", POSTCAT_UNCONFIRMED },
	{ "sasl-deferred.txt", BOB, "ip:127.0.0.10", POSTCAT_UNCONFIRMED },
	{ "sasl-deferred.txt", BOB, "uid:33", POSTCAT_UNCONFIRMED }, /* came in over SMTP */
	/* asked about another queue ID, the text of this one confirms nothing */
	{ "sasl-deferred.txt", ALICE, "sasl:bob@test.example", POSTCAT_UNCONFIRMED },
	{ "sasl-deferred.txt", "8F29A725EE", "sasl:bob@test.example", POSTCAT_UNCONFIRMED },
	{ "sasl-hold.txt", ALICE, "sasl:alice@test.example", POSTCAT_CONFIRMED },
	{ "sasl-hold.txt", ALICE, "sasl:bob@test.example", POSTCAT_UNCONFIRMED },
	/* sendmail (pickup): uid: is confirmed as a local submission, the sender as itself */
	{ "pickup.txt", WWW, "uid:33", POSTCAT_CONFIRMED },
	{ "pickup.txt", WWW, "sender:www-data@test.example", POSTCAT_CONFIRMED },
	{ "pickup.txt", WWW, "ip:127.0.0.1", POSTCAT_UNCONFIRMED },
	{ "pickup.txt", WWW, "sasl:www-data@test.example", POSTCAT_UNCONFIRMED },
	{ "null-sender.txt", NOTICE, "uid:0", POSTCAT_CONFIRMED },
	{ "null-sender.txt", NOTICE, "sender:root@test.example", POSTCAT_UNCONFIRMED },
	/*
	 * sendmail -F "Full\n*** ENVELOPE RECORDS hold/ABCDEF123 ***\n
	 * named_attribute: client_address=10.9.9.9\nsender: x@y.example":
	 * the lines it wrote confirm nothing; the message is still a local one
	 */
	{ "pickup-fullname-injected.txt", INJ, "uid:33", POSTCAT_CONFIRMED },
	{ "pickup-fullname-injected.txt", INJ, "sender:x@y.example", POSTCAT_UNCONFIRMED },
	{ "pickup-fullname-injected.txt", INJ, "sender:inj@b.example", POSTCAT_UNCONFIRMED },
	{ "pickup-fullname-injected.txt", INJ, "ip:10.9.9.9", POSTCAT_UNCONFIRMED },
	{ "pickup-fullname-injected.txt", "ABCDEF123", "ip:10.9.9.9", POSTCAT_UNCONFIRMED },
};

Test(postcat, real_output_table)
{
	struct run_result r;
	const char *why;
	size_t i;

	for (i = 0; i < NROWS(reals); i++) {
		char *text = fixture(reals[i].file);
		enum postcat_verdict v;

		result(&r, 0, text, "");
		why = NULL;
		v = postcat_verdict(&r, reals[i].qid, reals[i].identity, &why);
		cr_expect_eq(v, reals[i].want, "row %zu: %s as %s of %s: verdict %d, want %d (%s)", i,
		    reals[i].file, reals[i].qid, reals[i].identity, v, reals[i].want,
		    why ? why : "-");
		if (v != POSTCAT_CONFIRMED)
			cr_expect_not_null(why, "row %zu: a reason", i);
		free(text);
	}
}

/* What the parser makes of the real texts: fields, and which envelope was written into. */
Test(postcat, real_output_parsed)
{
	static const struct {
		const char *file, *qid;
		int tampered, complete, nsender, nsasl, nclient;
	} rows[] = {
		{ "sasl-deferred.txt", BOB, 0, 1, 1, 1, 1 },
		{ "sasl-hold.txt", ALICE, 0, 1, 1, 1, 1 },
		{ "pickup.txt", WWW, 0, 1, 1, 0, 0 },
		{ "null-sender.txt", NOTICE, 0, 1, 1, 0, 0 },
		{ "pickup-fullname-injected.txt", INJ, 1, 1, 2, 0, 1 },
	};
	struct postcat_env env;
	size_t i;

	for (i = 0; i < NROWS(rows); i++) {
		char *text = fixture(rows[i].file);

		cr_assert_eq(postcat_parse(text, strlen(text), rows[i].qid, &env), 0, "%s",
		    rows[i].file);
		cr_expect_eq(env.tampered, rows[i].tampered, "%s: tampered", rows[i].file);
		cr_expect_eq(env.complete, rows[i].complete, "%s: complete", rows[i].file);
		cr_expect_eq(env.sender.count, rows[i].nsender, "%s: sender", rows[i].file);
		cr_expect_eq(env.sasl.count, rows[i].nsasl, "%s: sasl_username", rows[i].file);
		cr_expect_eq(env.client.count, rows[i].nclient, "%s: client_address", rows[i].file);
		free(text);
	}
	{
		char *text = fixture("null-sender.txt");

		cr_assert_eq(postcat_parse(text, strlen(text), NOTICE, &env), 0);
		cr_expect_eq(env.sender.n, 0, "the null sender is an empty value");
		free(text);
	}
}

/* ---------------------------------------------------------------------- */
/* hostile and broken texts */

/* The head and tail of bob's envelope, to build variants from. */
#define HEAD(q)                                                                    \
	"*** ENVELOPE RECORDS deferred/5/" q " ***\n"                              \
	"message_size:             380             707               1               0" \
	"             380               0\n"                                        \
	"message_arrival_time: Mon Nov 30 00:47:56 2026\n"                          \
	"named_attribute: rewrite_context=local\n"
#define SMTP(login, client)                                \
	"named_attribute: sasl_method=PLAIN\n"             \
	"named_attribute: sasl_username=" login "\n"       \
	"sender: bob@test.example\n"                       \
	"named_attribute: client_address=" client "\n"
#define TAIL(q)                                    \
	"recipient: someone@example.org\n"         \
	"*** MESSAGE CONTENTS deferred/5/" q " ***\n" \
	"*** HEADER EXTRACTED deferred/5/" q " ***\n" \
	"*** MESSAGE FILE END deferred/5/" q " ***\n"

struct hostile {
	const char *label, *text, *qid, *identity;
	enum postcat_verdict want;
};

static const struct hostile hostiles[] = {
	{ "the plain variant confirms", HEAD(BOB) SMTP("bob@test.example", "127.0.0.1") TAIL(BOB),
	  BOB, "sasl:bob@test.example", POSTCAT_CONFIRMED },
	{ "a second sasl_username", HEAD(BOB) SMTP("bob@test.example", "127.0.0.1")
	  "named_attribute: sasl_username=eve@test.example\n" TAIL(BOB),
	  BOB, "sasl:bob@test.example", POSTCAT_UNCONFIRMED },
	{ "a second sasl_username, the other login", HEAD(BOB) SMTP("bob@test.example", "127.0.0.1")
	  "named_attribute: sasl_username=eve@test.example\n" TAIL(BOB),
	  BOB, "sasl:eve@test.example", POSTCAT_UNCONFIRMED },
	{ "a second client_address", HEAD(BOB) SMTP("bob@test.example", "127.0.0.1")
	  "named_attribute: client_address=192.0.2.66\n" TAIL(BOB),
	  BOB, "ip:192.0.2.66", POSTCAT_UNCONFIRMED },
	{ "a second sender", HEAD(BOB) SMTP("bob@test.example", "127.0.0.1")
	  "sender: eve@test.example\n" TAIL(BOB), BOB, "sender:bob@test.example", POSTCAT_UNCONFIRMED },
	{ "lines written into the full name", HEAD(BOB) "sender_fullname: Bob\n"
	  "named_attribute: sasl_username=bob@test.example\n" "sender: bob@test.example\n" TAIL(BOB),
	  BOB, "sasl:bob@test.example", POSTCAT_UNCONFIRMED },
	{ "... still a local submission", HEAD(BOB) "sender_fullname: Bob\n"
	  "named_attribute: client_address=192.0.2.1\n" "sender: bob@test.example\n" TAIL(BOB),
	  BOB, "uid:1000", POSTCAT_CONFIRMED },
	{ "a header for another queue file inside", HEAD("F00000000F") "sender_fullname: x\n"
	  "*** ENVELOPE RECORDS deferred/5/" BOB " ***\n"
	  "named_attribute: sasl_username=bob@test.example\n" "sender: bob@test.example\n"
	  TAIL("F00000000F"), BOB, "sasl:bob@test.example", POSTCAT_UNCONFIRMED },
	{ "a header line inside the envelope", HEAD(BOB) SMTP("bob@test.example", "127.0.0.1")
	  "*** ENVELOPE RECORDS deferred/5/" BOB " ***\n" TAIL(BOB),
	  BOB, "sasl:bob@test.example", POSTCAT_UNCONFIRMED },
	{ "a line that is no record", HEAD(BOB) "garbage without a colon\n"
	  SMTP("bob@test.example", "127.0.0.1") TAIL(BOB),
	  BOB, "sasl:bob@test.example", POSTCAT_UNCONFIRMED },
	{ "the login only after the envelope (extracted)", HEAD(BOB) "sender: bob@test.example\n"
	  "recipient: someone@example.org\n" "*** MESSAGE CONTENTS deferred/5/" BOB " ***\n"
	  "*** HEADER EXTRACTED deferred/5/" BOB " ***\n"
	  "named_attribute: sasl_username=bob@test.example\n", BOB, "sasl:bob@test.example",
	  POSTCAT_UNCONFIRMED },
	{ "cut inside the sender line", HEAD(BOB) "sender: bob@test.exa", BOB,
	  "sender:bob@test.example", POSTCAT_UNCONFIRMED },
	{ "cut after the records (recipients dropped): still confirmed", HEAD(BOB)
	  SMTP("bob@test.example", "127.0.0.1") "recipient: a", BOB, "sasl:bob@test.example",
	  POSTCAT_CONFIRMED },
	{ "the header cut", "*** ENVELOPE RECORDS deferred/5/58F2", BOB, "sasl:bob@test.example",
	  POSTCAT_UNCONFIRMED },
	{ "no output", "", BOB, "sasl:bob@test.example", POSTCAT_UNCONFIRMED },
	{ "a header with a longer ID", HEAD("X" BOB) SMTP("bob@test.example", "127.0.0.1") TAIL(BOB),
	  BOB, "sasl:bob@test.example", POSTCAT_UNCONFIRMED },
	{ "a header with a space in the path", "*** ENVELOPE RECORDS deferred/5 /" BOB " ***\n"
	  SMTP("bob@test.example", "127.0.0.1") TAIL(BOB), BOB, "sasl:bob@test.example",
	  POSTCAT_UNCONFIRMED },
	{ "a login with the identity as prefix", HEAD(BOB)
	  SMTP("bob@test.example.evil", "127.0.0.1") TAIL(BOB), BOB, "sasl:bob@test.example",
	  POSTCAT_UNCONFIRMED },
	{ "a domain that ends like the identity's", HEAD(BOB)
	  SMTP("bob@eviltest.example", "127.0.0.1") TAIL(BOB), BOB, "sasl_domain:test.example",
	  POSTCAT_UNCONFIRMED },
	{ "IPv6, case and prefix aside", HEAD(BOB) SMTP("bob@test.example", "2001:DB8::7") TAIL(BOB),
	  BOB, "ip:ipv6:2001:db8::7", POSTCAT_CONFIRMED },
	{ "an empty login", HEAD(BOB) SMTP("", "127.0.0.1") TAIL(BOB), BOB, "sasl:bob@test.example",
	  POSTCAT_UNCONFIRMED },
};

Test(postcat, hostile_table)
{
	struct run_result r;
	const char *why;
	size_t i;

	for (i = 0; i < NROWS(hostiles); i++) {
		enum postcat_verdict v;

		result(&r, 0, hostiles[i].text, "");
		why = NULL;
		v = postcat_verdict(&r, hostiles[i].qid, hostiles[i].identity, &why);
		cr_expect_eq(v, hostiles[i].want, "row %zu (%s): verdict %d, want %d (%s)", i,
		    hostiles[i].label, v, hostiles[i].want, why ? why : "-");
	}
}

/* A NUL inside the text (the runner replaces them; a direct caller may not) */
Test(postcat, nul_inside)
{
	static const char text[] = HEAD(BOB) "named_attribute: sasl_username=bob@test.example\0x\n"
	    "sender: bob@test.example\n" TAIL(BOB);
	struct postcat_env env;
	const char *why;

	cr_assert_eq(postcat_parse(text, sizeof(text) - 1, BOB, &env), 0);
	cr_expect_eq(postcat_match(&env, "sasl:bob@test.example", &why), 0,
	    "a login with a NUL inside is not bob's");
}

/* ---------------------------------------------------------------------- */
/* postcat's exit: gone, failed */

Test(postcat, exit_table)
{
	char *gone = fixture("gone.stderr"); /* postcat -q 0NOSUCH0 */
	static const struct {
		const char *label;
		int exited, status, sig, timed_out;
		const char *err, *qid;
		enum postcat_verdict want;
	} rows[] = {
		{ "no such queue file", 1, 1, 0, 0, NULL, "0NOSUCH0", POSTCAT_GONE },
		{ "gone, but another ID", 1, 1, 0, 0, NULL, "0NOSUCH1", POSTCAT_FAILED },
		{ "another fatal error", 1, 1, 0, 0, "postcat: fatal: open /etc/postfix/main.cf: "
		  "Permission denied\n", "0NOSUCH0", POSTCAT_FAILED },
		{ "cannot execute", 1, 127, 0, 0, "cannot execute /usr/sbin/postcat", "0NOSUCH0",
		  POSTCAT_FAILED },
		{ "killed at the time limit", 0, 0, 9, 1, "", "0NOSUCH0", POSTCAT_FAILED },
		{ "exit 0, nothing said", 1, 0, 0, 0, "", "0NOSUCH0", POSTCAT_UNCONFIRMED },
	};
	struct run_result r;
	const char *why;
	size_t i;

	for (i = 0; i < NROWS(rows); i++) {
		enum postcat_verdict v;

		result(&r, rows[i].status, "", rows[i].err ? rows[i].err : gone);
		r.exited = rows[i].exited;
		r.signaled = rows[i].sig != 0;
		r.sig = rows[i].sig;
		r.timed_out = rows[i].timed_out;
		v = postcat_verdict(&r, rows[i].qid, "sasl:bob@test.example", &why);
		cr_expect_eq(v, rows[i].want, "row %zu (%s): verdict %d, want %d", i, rows[i].label, v,
		    rows[i].want);
	}
	free(gone);
}

/* ---------------------------------------------------------------------- */
/* map keys: whole addresses only */

struct keyrow {
	const char *identity;
	int ok;
	const char *why; /* a part of the reason when refused */
};

static const struct keyrow keyrows[] = {
	{ "sasl:alice@example.com", 1, NULL },
	{ "sasl:printer-service", 1, NULL }, /* a login is whole as it is */
	{ "sasl:evil ok", 0, "whitespace" },
	{ "sasl:#hash", 0, "'#'" },
	{ "sender:alice@example.com", 1, NULL },
	{ "sender:alice+tag@mail.example.co.uk", 1, NULL },
	{ "sender:example.com", 0, "no @" },
	{ "sender:@example.com", 0, "no local part" },
	{ "sender:alice@", 0, "no domain" },
	{ "sender:<>", 0, "no @" },
	{ "sender:alice@localhost", 0, "dotted" },
	{ "sender:alice@example.", 0, "dotted" },
	{ "sender:alice@.example.com", 0, "dotted" },
	{ "sender:alice@example..com", 0, "dotted" },
	{ "sender:alice@[192.0.2.1]", 0, "dotted" },
	{ "sender:a@b@example.com", 0, "more than one @" },
	{ "sender:alice@exa mple.com", 0, "whitespace" },
	{ "sender_domain:shop.example", 1, NULL },
	{ "sender_domain:example", 0, "dotted" },
	{ "sender_domain:.example.com", 0, "dotted" },
	{ "sender_domain:[192.0.2.1]", 0, "dotted" },
	{ "sasl_domain:example.com", 0, "only sasl, sender and sender_domain" },
	{ "uid:33", 0, "only sasl, sender and sender_domain" },
	{ "ip:192.0.2.1", 0, "only sasl, sender and sender_domain" },
	{ "sender:", 0, "empty" },
	{ "nonsense", 0, "an identity starts with" },
};

Test(postcat, map_key_table)
{
	size_t i;

	for (i = 0; i < NROWS(keyrows); i++) {
		const char *why = NULL;
		int ok = map_ident_ok(keyrows[i].identity, &why);

		cr_expect_eq(ok, keyrows[i].ok, "row %zu: %s: %d, want %d (%s)", i,
		    keyrows[i].identity, ok, keyrows[i].ok, why ? why : "-");
		if (!keyrows[i].ok)
			cr_expect(why != NULL && strstr(why, keyrows[i].why) != NULL,
			    "row %zu: %s: the reason \"%s\" says \"%s\"", i, keyrows[i].identity,
			    why ? why : "(none)", keyrows[i].why);
	}
	cr_expect_eq(map_ident_ok(NULL, NULL), 0);
}
