/*
 * NAME
 *	postcat - what Postfix's queue says a message is: the envelope that
 *	`postcat -e -q QID` prints, read, and an identity matched against it
 * SUMMARY
 *	postcat_parse() reads the envelope section of one queue file from
 *	postcat's output: the records a hold is confirmed with (the sender,
 *	the sasl_username and client_address named attributes) and whether
 *	the text shows signs of lines that a local sender wrote into a
 *	record (see UNTRUSTED INPUT).  postcat_match() says whether the
 *	envelope confirms an identity; postcat_verdict() turns one postcat
 *	run (its exit, stdout and stderr) into confirmed, unconfirmed, gone
 *	from the queue, or failed.  Pure functions: no I/O, no state.
 * RETURNS
 *	postcat_parse(): 0, or -1 with env->why when the text is not the
 *	envelope of that queue ID.  postcat_match(): 1 or 0 with why.
 *	postcat_verdict(): an enum postcat_verdict, with why.
 * UNTRUSTED INPUT
 *	postcat's output is the queue file's text, and part of it comes from
 *	whoever submitted the message.  postcat prints a record's value as it
 *	is, and Postfix 3.7's sendmail takes a newline inside its -F full
 *	name, so a local user can put whole lines ("named_attribute:
 *	sasl_username=bob", "*** ENVELOPE RECORDS ...") into the envelope of
 *	his own message.  Those lines always sit between the sender_fullname
 *	record and the sender record that sendmail writes right after it, or
 *	repeat a record: an envelope with a line there, a repeated sender,
 *	sasl_username, client_address or sender_fullname record, a second
 *	header or a line that is not a record is "tampered", and confirms no
 *	identity but uid: (it can only be a local submission).  Only the
 *	first 1..RUN_OUT_MAX bytes are seen; a line cut at the end is
 *	ignored.  Values are compared, never copied or printed here.
 */
#ifndef SG_POSTCAT_H
#define SG_POSTCAT_H

#include <stddef.h>

#include "actions/run.h"

/* One field of the envelope: where it is in the text, and how often it was seen. */
struct postcat_field {
	const char *p; /* the first occurrence's value (not NUL-terminated) */
	size_t n;
	int count;
};

/* The envelope of one queue file as postcat printed it. */
struct postcat_env {
	struct postcat_field sender, sasl, client, fullname;
	int complete;    /* the envelope section ended inside the text */
	int tampered;    /* lines that no Postfix program wrote as records */
	const char *why; /* postcat_parse() -1: what was wrong */
};

/*
 * postcat_parse - the envelope of qid in text (len bytes, postcat -e -q
 * output) into env; 0, or -1 (env->why) when the text does not start
 * with qid's "*** ENVELOPE RECORDS queue/.../QID ***" line
 */
int postcat_parse(const char *text, size_t len, const char *qid, struct postcat_env *env);

/*
 * postcat_match - 1 when env confirms identity ("kind:value", lower
 * case): sasl: the sasl_username; sasl_domain: its domain; sender: the
 * envelope sender; sender_domain: its domain; ip: the client_address;
 * uid: a local submission (no sasl_username, no client_address, or a
 * tampered envelope, which only a local sender can write; the uid itself
 * is not in the queue file).  Case is ignored.  Else 0 and why.
 */
int postcat_match(const struct postcat_env *env, const char *identity, const char **why);

enum postcat_verdict {
	POSTCAT_CONFIRMED = 0, /* the queue file is the identity's */
	POSTCAT_UNCONFIRMED,   /* in the queue, but not shown to be the identity's */
	POSTCAT_GONE,          /* not in the queue (delivered, deleted, never there) */
	POSTCAT_FAILED         /* postcat did not answer: cannot run, timed out, ... */
};

/* postcat_verdict - one `postcat -e -q qid` run's result for identity; why filled but for CONFIRMED */
enum postcat_verdict postcat_verdict(const struct run_result *, const char *qid,
    const char *identity, const char **why);

#endif
