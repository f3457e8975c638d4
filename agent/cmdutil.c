/*
 * NAME
 *	cmdutil - what every command does the same way
 * SUMMARY
 *	cmd_load_conf() reads the configuration and, when it has errors,
 *	prints each as "FILE:LINE: message" and their count on stderr; run
 *	and check-config use it and refuse a broken file.
 *	cmd_load_conf_client() is for status, explain, block and unblock,
 *	which need only the socket, the state database and the action
 *	programs and maps: after a half-finished edit it warns on stderr
 *	(the count, every "FILE:LINE: message", the socket and state it
 *	goes on with) and goes on with what could be read.  A file that
 *	cannot be read at all is an error for both.
 *	cmd_options() reads a command's options by the shared conventions
 *	(see cmdutil.h).
 */
#include <stdio.h>

#include "agent/cmds.h"
#include "agent/cmdutil.h"
#include "count/conf.h"

/* print_errs - each error on its own line, then "N errors in PATH" */
static void
print_errs(const char *path, const struct conf_errs *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->msg[i]);
	fprintf(stderr, "sendguard: %zu error%s in %s\n", errs->n, errs->n == 1 ? "" : "s", path);
}

/* refuse - a file that did not load: its errors (none: out of memory); the exit code */
static int
refuse(const char *path, struct conf_errs *errs)
{
	if (errs->n == 0) {
		fprintf(stderr, "sendguard: %s: out of memory\n", path);
		return (EXIT_RUNTIME);
	}
	print_errs(path, errs);
	conf_errs_free(errs);
	return (EXIT_USAGE);
}

/* cmd_load_conf - 0 and *out, or the exit code after printing the errors */
int
cmd_load_conf(const char *path, struct conf **out)
{
	struct conf_errs errs = { NULL, 0 };

	if (conf_load(path, out, &errs) == 0)
		return (0);
	return (refuse(path, &errs));
}

/*
 * cmd_load_conf_client - 0 and *out, with one warning on stderr when the
 * file has errors; the exit code (2: unreadable, 3: out of memory) and
 * *out NULL when there is nothing to go on with.
 */
int
cmd_load_conf_client(const char *path, struct conf **out)
{
	struct conf_errs errs = { NULL, 0 };
	size_t i;

	if (conf_load_lenient(path, out, &errs) < 0)
		return (refuse(path, &errs));
	if (errs.n == 0)
		return (0);
	fprintf(stderr,
	    "sendguard: warning: %s has %zu error%s (sendguard run and check-config "
	    "refuse it; a running daemon keeps its last good configuration):\n",
	    path, errs.n, errs.n == 1 ? "" : "s");
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msg[i]);
	fprintf(stderr,
	    "sendguard: warning: going on with socket %s and state %s, as far as "
	    "%s could be read (defaults for the rest)\n",
	    (*out)->socket, (*out)->state, path);
	conf_errs_free(&errs);
	return (0);
}

/* cmd_options - getopt_long with the conventions of every command (see cmdutil.h) */
int
cmd_options(int argc, char **argv, const char *shortopts, const struct option *longopts,
    const char *usage, int (*fn)(void *ctx, int ch, const char *arg), void *ctx)
{
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (ch == 'h') {
			fputs(usage, stdout);
			return (0);
		}
		if (ch == '?' || ch == ':') {
			fputs(usage, stderr);
			return (EXIT_USAGE);
		}
		if ((rc = fn(ctx, ch, optarg)) != 0)
			return (rc);
	}
	return (-1);
}
