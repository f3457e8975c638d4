/*
 * NAME
 *	cmdopt - a command's options, from a table
 * SUMMARY
 *	cmd_opts() parses the options of a command whose options are plain
 *	values and flags (status, run) from one table row per option, with
 *	-h/--help added; cmd_usage() is what every command does with --help
 *	and with an option it does not know.  getopt_long itself reports an
 *	unknown option or a missing value on stderr.
 * RETURNS
 *	cmd_opts: 0, or -1 with the command's exit code in *rc.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "agent/cmds.h"

#define CMD_OPTS_MAX 15 /* options of one command, --help not counted */

int
cmd_usage(const char *usage, int help)
{
	fputs(usage, help ? stdout : stderr);
	return (help ? 0 : EXIT_USAGE);
}

/* cmd_find - the row of letter ch, NULL for none */
static const struct cmd_val *
cmd_find(const struct cmd_val *vals, int ch)
{
	for (; vals->ch != 0; vals++)
		if (vals->ch == ch)
			return (vals);
	return (NULL);
}

int
cmd_opts(const char *cmd, const char *usage, const struct cmd_val *vals, int argc, char **argv,
    int *rc)
{
	struct option lo[CMD_OPTS_MAX + 2];
	char letters[3 * CMD_OPTS_MAX + 2];
	const struct cmd_val *v;
	size_t n = 0, k = 0;
	int ch;

	for (v = vals; v->ch != 0 && n < CMD_OPTS_MAX; v++, n++) {
		lo[n].name = v->name;
		lo[n].has_arg = v->str != NULL ? required_argument : no_argument;
		lo[n].flag = NULL;
		lo[n].val = v->ch;
		letters[k++] = (char)v->ch;
		if (v->str != NULL)
			letters[k++] = ':';
	}
	lo[n] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n + 1] = (struct option){ NULL, 0, NULL, 0 };
	letters[k++] = 'h';
	letters[k] = '\0';
	optind = 1;
	while ((ch = getopt_long(argc, argv, letters, lo, NULL)) != -1) {
		if ((v = cmd_find(vals, ch)) == NULL) {
			*rc = cmd_usage(usage, ch == 'h');
			return (-1);
		}
		if (v->str != NULL)
			*v->str = optarg;
		else
			*v->flag = 1;
	}
	if (optind != argc) {
		fprintf(stderr, "sendguard: %s: unexpected argument '%s'\n", cmd, argv[optind]);
		*rc = EXIT_USAGE;
		return (-1);
	}
	return (0);
}
