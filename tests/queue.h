/*
 * queue.h - a stand-in Postfix queue for the tests, header-only: DIR/queue
 * holds one file per queued message, the text that the real `postcat -e
 * -q QID` prints for it (the shapes of tests/postcat/, captured from
 * Postfix 3.7), and DIR/bin/postcat prints it.  A message of another
 * login, a message that left the queue, a forged line: each is a file
 * here, or its absence.  Nothing here asserts.
 */
#ifndef SG_TEST_QUEUE_H
#define SG_TEST_QUEUE_H

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * sg_postcat_standin - DIR/bin/postcat and DIR/queue: it appends its last
 * argument (the queue ID) to DIR/postcat.log, prints DIR/queue/QID and
 * exits 0; without that file it says what the real one says (and exits
 * 1); while DIR/fail-postcat exists it fails otherwise.  0, or -1.
 */
static inline int
sg_postcat_standin(const char *dir)
{
	char p[512];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/queue", dir);
	if (mkdir(p, 0755) < 0)
		return (-1);
	snprintf(p, sizeof(p), "%s/bin/postcat", dir);
	if ((fp = fopen(p, "w")) == NULL)
		return (-1);
	fprintf(fp, "#!/bin/sh\n"
	    "D='%s'\n"
	    "for q; do :; done\n"
	    "echo \"$q\" >> \"$D/postcat.log\"\n"
	    "if [ -e \"$D/fail-postcat\" ]; then echo 'postcat: fatal: stand-in refuses' >&2; exit 1; fi\n"
	    "if [ -f \"$D/queue/$q\" ]; then cat \"$D/queue/$q\"; exit 0; fi\n"
	    "echo \"postcat: fatal: open queue file $q: No such file or directory\" >&2\n"
	    "exit 1\n", dir);
	return (fclose(fp) == 0 && chmod(p, 0755) == 0 ? 0 : -1);
}

/* sg_queue_path - DIR/queue/QID */
static inline void
sg_queue_path(char *buf, size_t len, const char *dir, const char *qid)
{
	snprintf(buf, len, "%s/queue/%s", dir, qid);
}

/*
 * sg_queue_msg - a queued message: over SMTP from client (with login,
 * when not NULL, as its sasl_username) or, with client NULL, through
 * sendmail (pickup); sender its envelope sender ("" for <>).  As the
 * real postcat -e prints it.  0, or -1.
 */
static inline int
sg_queue_msg(const char *dir, const char *qid, const char *login, const char *sender,
    const char *client)
{
	char p[512];
	FILE *fp;

	sg_queue_path(p, sizeof(p), dir, qid);
	if ((fp = fopen(p, "w")) == NULL)
		return (-1);
	fprintf(fp, "*** ENVELOPE RECORDS deferred/%c/%s ***\n"
	    "message_size:             380             707               1               0"
	    "             380               0\n"
	    "message_arrival_time: Mon Nov 30 00:47:56 2026\n"
	    "create_time: Mon Nov 30 00:47:56 2026\n", qid[0], qid);
	if (client != NULL)
		fprintf(fp, "named_attribute: log_ident=%s\n", qid);
	fputs("named_attribute: rewrite_context=local\n", fp);
	if (client != NULL && login != NULL)
		fprintf(fp, "named_attribute: sasl_method=PLAIN\n"
		    "named_attribute: sasl_username=%s\n", login);
	if (client == NULL)
		fputs("sender_fullname: www-data\n", fp);
	fprintf(fp, "sender: %s\n", sender);
	if (client != NULL)
		fprintf(fp, "named_attribute: log_client_name=h.example.net\n"
		    "named_attribute: log_client_address=%s\n"
		    "named_attribute: client_name=h.example.net\n"
		    "named_attribute: client_address=%s\n"
		    "named_attribute: protocol_name=ESMTP\n", client, client);
	fprintf(fp, "named_attribute: dsn_orig_rcpt=rfc822;someone@example.org\n"
	    "original_recipient: someone@example.org\n"
	    "recipient: someone@example.org\n"
	    "*** MESSAGE CONTENTS deferred/%c/%s ***\n"
	    "*** HEADER EXTRACTED deferred/%c/%s ***\n"
	    "*** MESSAGE FILE END deferred/%c/%s ***\n", qid[0], qid, qid[0], qid, qid[0], qid);
	return (fclose(fp));
}

/* sg_queue_rm - the message left the queue (delivered, deleted) */
static inline void
sg_queue_rm(const char *dir, const char *qid)
{
	char p[512];

	sg_queue_path(p, sizeof(p), dir, qid);
	unlink(p);
}

/* sg_postcat_asks - how often postcat was asked about qid (NULL: about anything) */
static inline int
sg_postcat_asks(const char *dir, const char *qid)
{
	char p[512], line[256];
	FILE *fp;
	int n = 0;

	snprintf(p, sizeof(p), "%s/postcat.log", dir);
	if ((fp = fopen(p, "r")) == NULL)
		return (0);
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (qid == NULL || strcmp(line, qid) == 0)
			n++;
	}
	fclose(fp);
	return (n);
}

#endif
