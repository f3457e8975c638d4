/*
 * NAME
 *	cmd_enforce - `sendguard block`, `unblock` and `explain`
 * SUMMARY
 *	Each validates the identity as an administrator typed it (kind
 *	sasl|uid|sender|ip, no control characters, at most 1024 bytes,
 *	folded to lower case), then asks the running daemon through its
 *	control socket (the identity hex-encoded, so no byte of it is ever
 *	read as a separator).  With no daemon running, block and unblock
 *	change the state database themselves and run postsuper, postmap and
 *	postfix reload through a synchronous runner (actions/run.h): the
 *	same code as the daemon's, which returns once every program has run;
 *	explain reads the database read-only (agent/explain.c).  Working
 *	on the database itself, block and unblock hold its lock (the one a
 *	daemon holds, store_lock()): when a daemon holds it but did not
 *	answer on the socket, they refuse (exit 3) rather than change the
 *	database behind its back.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/act.h"
#include "actions/run.h"
#include "agent/cmds.h"
#include "agent/control.h"
#include "agent/explain.h"
#include "count/conf.h"
#include "store/store.h"
#include "util/buf.h"

#define REQ_MAX 8192 /* a request to the daemon: verb, hex identity, argument */

static void
log_stderr(void *ctx, enum act_level lv, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "sendguard: %s%s\n", lv == ACT_WARN ? "warning: " : "", msg);
}

/* print_report - enforcement's report on standard output */
static void
print_report(void *ctx, const char *report)
{
	(void)ctx;
	fputs(report, stdout);
}

/* request - "VERB HEX [ARG]" for the control socket into b; 0, or -1 when it does not fit */
static int
request(struct buf *b, const char *verb, const char *id, const char *arg)
{
	size_t i;

	buf_addf(b, "%s ", verb);
	for (i = 0; id[i] != '\0'; i++)
		buf_addf(b, "%02x", (unsigned char)id[i]);
	if (arg != NULL)
		buf_addf(b, " %s", arg);
	return (b->failed ? -1 : 0);
}

/*
 * relay - ask the daemon at path: its answer on stdout, and 0, or
 * EXIT_USAGE when the answer starts with "error:" (it refused the
 * request); EXIT_RUNTIME when the daemon could not be asked; -1 when no
 * daemon answers there (the caller then works on the database itself)
 */
static int
relay(const char *path, const char *req)
{
	char *buf = NULL, err[512];
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	int r;

	if (fp == NULL)
		return (-1);
	r = control_request(path, req, fp, err, sizeof(err));
	fclose(fp);
	if (r < 0) {
		fprintf(stderr, "sendguard: %s\n", err);
		free(buf);
		return (EXIT_RUNTIME);
	}
	if (r == 1) {
		free(buf);
		return (-1); /* no daemon */
	}
	fputs(buf, stdout);
	r = strncmp(buf, "error:", 6) == 0 ? EXIT_USAGE : 0;
	free(buf);
	return (r);
}

static const char enforce_usage[] =
    "usage: sendguard block   [-c FILE] IDENTITY [--for DURATION]\n"
    "       sendguard unblock [-c FILE] IDENTITY [--release-held | --delete-held]\n"
    "       sendguard explain [-c FILE] IDENTITY\n"
    "\n"
    "IDENTITY is sasl:LOGIN, uid:N, sender:ADDRESS, ip:ADDRESS, sasl_domain:DOMAIN\n"
    "or sender_domain:DOMAIN.\n"
    "block holds the identity's queued mail and every new message, and for sasl,\n"
    "sender and sender_domain identities refuses its mail through the access map,\n"
    "for DURATION (30m, 2h, 1d; default: until unblocked).  unblock removes the\n"
    "block and the map entry, and the identity's limits count afresh from then;\n"
    "its held mail stays on hold unless --release-held (postsuper -H) or\n"
    "--delete-held (postsuper -d).  block and unblock answer when their programs\n"
    "have run, with what each said.  explain shows the messages, limits crossed,\n"
    "holds, actions and outcomes behind the identity's state.\n"
    "Through the running daemon; without one, directly on the state database.\n";

/*
 * lock_state - block and unblock without a daemon: take the database's
 * lock, so that no daemon starts on it meanwhile and none runs unseen.
 * A daemon that holds it but did not answer on the socket (another
 * `socket` in its configuration, or stuck) is not gone around: its
 * database is not changed behind its back.  The lock's descriptor, or -1
 * after the message.
 */
static int
lock_state(const struct conf *conf, const char *verb)
{
	char err[1024], who[48] = "";
	long holder;
	int fd = store_lock(conf->state, &holder, err, sizeof(err));

	if (fd == STORE_LOCKED) {
		if (holder > 0)
			snprintf(who, sizeof(who), " (pid %ld)", holder);
		fprintf(stderr,
		    "sendguard: %s: a sendguard daemon%s holds %s but does not answer on %s "
		    "(another socket in its configuration, or it is stuck); not changing the "
		    "database behind its back: ask it through its own socket, or stop it first\n",
		    verb, who, conf->state, conf->socket);
	} else if (fd < 0)
		fprintf(stderr, "sendguard: %s: no daemon answers on %s, and %s\n", verb,
		    conf->socket, err);
	return (fd < 0 ? -1 : fd);
}

/*
 * direct - no daemon answers: explain from the database read-only, or
 * block or unblock on it, the programs run through a synchronous runner
 * (the report is printed once they have run); the exit code
 */
static int
direct(const struct conf *conf, const char *verb, const char *id, int64_t dur, const char *mode)
{
	struct store *st = NULL;
	struct act *a;
	char err[1024];
	int rc = 0, unblock = strcmp(verb, "unblock") == 0, lockfd = -1;
	int explain = strcmp(verb, "explain") == 0;

	if (!explain && (lockfd = lock_state(conf, verb)) < 0)
		return (EXIT_RUNTIME);
	if (store_open(&st, conf->state, explain, err, sizeof(err)) < 0) {
		fprintf(stderr, "sendguard: %s: no daemon answers on %s, and %s\n", verb,
		    conf->socket, err);
		store_unlock(lockfd);
		return (EXIT_RUNTIME);
	}
	if (*store_notes(st) != '\0')
		fprintf(stderr, "sendguard: %s: %s\n", verb, store_notes(st));
	if (strcmp(verb, "explain") == 0) {
		if (explain_print(st, id, stdout, err, sizeof(err)) < 0) {
			fprintf(stderr, "sendguard: explain: %s\n", err);
			rc = EXIT_RUNTIME;
		}
	} else {
		fprintf(stderr, "sendguard: no daemon running: changing %s directly\n",
		    conf->state);
		if ((a = act_new(runner_new_sync(), st, conf, log_stderr, NULL)) == NULL)
			rc = EXIT_RUNTIME;
		else if ((unblock ? act_unblock(a, id,
					strcmp(mode, "release") == 0      ? ACT_UNBLOCK_RELEASE
					    : strcmp(mode, "delete") == 0 ? ACT_UNBLOCK_DELETE
									  : ACT_UNBLOCK_KEEP,
					print_report, NULL, err, sizeof(err))
				  : act_block(a, id, dur, print_report, NULL, err, sizeof(err))) <
		    0) {
			fprintf(stderr, "sendguard: %s: %s\n", verb, err);
			rc = EXIT_RUNTIME;
		}
		act_free(a);
	}
	store_close(st);
	store_unlock(lockfd);
	return (rc);
}

/* enforce - block, unblock or explain: through the daemon, else directly */
static int
enforce(int argc, char **argv, const char *verb)
{
	static const struct option opts[] = {
		{ .name = "config", .has_arg = required_argument, .val = 'c' },
		{ .name = "for", .has_arg = required_argument, .val = 'F' },
		{ .name = "release-held", .has_arg = no_argument, .val = 'R' },
		{ .name = "delete-held", .has_arg = no_argument, .val = 'D' },
		{ .name = "help", .has_arg = no_argument, .val = 'h' }, { .name = NULL }
	};
	const char *cfile = SG_DEFAULT_CONF, *why = NULL, *mode = "keep";
	char id[IDENT_MAX], secs[32] = "0";
	struct buf req;
	struct conf *conf = NULL;
	int ch, rc = 0;
	int64_t dur = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'F':
			if (strcmp(verb, "block") != 0 ||
			    (dur = conf_parse_duration(optarg)) <= 0) {
				fprintf(stderr,
				    "sendguard: %s: --for takes a duration (30m, 2h, 1d)\n", verb);
				return (EXIT_USAGE);
			}
			snprintf(secs, sizeof(secs), "%lld", (long long)dur);
			break;
		case 'R':
		case 'D':
			if (strcmp(verb, "unblock") != 0 || strcmp(mode, "keep") != 0) {
				fprintf(stderr,
				    "sendguard: --release-held and --delete-held go with unblock, "
				    "one of them\n");
				return (EXIT_USAGE);
			}
			mode = ch == 'R' ? "release" : "delete";
			break;
		case 'c':
			cfile = optarg;
			break;
		default:
			return (cmd_usage(enforce_usage, ch == 'h'));
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "sendguard: %s: give one IDENTITY\n", verb);
		fputs(enforce_usage, stderr);
		return (EXIT_USAGE);
	}
	if (!act_identity_ok(argv[optind], id, sizeof(id), &why)) {
		fprintf(stderr, "sendguard: %s: not an identity: %s\n", verb, why);
		return (EXIT_USAGE);
	}
	if ((rc = cmd_load_conf_client(cfile, &conf)) != 0)
		return (rc);
	buf_init(&req, REQ_MAX);
	if (request(&req, verb, id,
		strcmp(verb, "block") == 0         ? secs
		    : strcmp(verb, "unblock") == 0 ? mode
						   : NULL) < 0) {
		buf_free(&req);
		rc = EXIT_RUNTIME;
		goto out;
	}
	rc = relay(conf->socket, buf_str(&req));
	buf_free(&req);
	if (rc < 0) /* no daemon: the database itself */
		rc = direct(conf, verb, id, dur, mode);
out:
	conf_free(conf);
	return (rc);
}

int
cmd_block(int argc, char **argv)
{
	return (enforce(argc, argv, "block"));
}

int
cmd_unblock(int argc, char **argv)
{
	return (enforce(argc, argv, "unblock"));
}

int
cmd_explain(int argc, char **argv)
{
	return (enforce(argc, argv, "explain"));
}
