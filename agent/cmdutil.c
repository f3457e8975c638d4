/*
 * NAME
 *	cmdutil - what every command does the same way
 * SUMMARY
 *	cmd_load_conf() reads the configuration and, when it has errors,
 *	prints each as "FILE:LINE: message" and their count on stderr.
 */
#include <stdio.h>

#include "agent/cmds.h"
#include "agent/conf.h"

/* cmd_load_conf - 0 and *out, or the exit code after printing the errors */
int
cmd_load_conf(const char *path, struct conf **out)
{
	struct conf_errs errs = { NULL, 0 };
	size_t i;

	if (conf_load(path, out, &errs) == 0)
		return (0);
	if (errs.n == 0) {
		fprintf(stderr, "sendguard: %s: out of memory\n", path);
		return (EXIT_RUNTIME);
	}
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msg[i]);
	fprintf(stderr, "sendguard: %zu error%s in %s\n", errs.n, errs.n == 1 ? "" : "s", path);
	conf_errs_free(&errs);
	return (EXIT_USAGE);
}
