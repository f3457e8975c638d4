/*
 * NAME
 *	main - sendguard command line: dispatch to a sub-command
 * SUMMARY
 *	One row of commands[] per command word: its function, its synopsis
 *	and a line of help.  main() finds the row of argv[1] and calls its
 *	function with the argument vector starting at the command word;
 *	`sendguard --help` (-h, help) prints the table, `--version` (-V) the
 *	version; both are rows too, so every word main() knows is in one
 *	place.  No command word, or one not in the table: exit 2.
 */
#include <stdio.h>
#include <string.h>

#include "agent/cmds.h"

struct command {
	const char *name;
	const char *alias[2]; /* other words for it, or NULL */
	int (*fn)(int argc, char **argv);
	const char *synopsis; /* after "sendguard NAME"; lines after the first are indented */
	const char *help;     /* one line */
};

static int help(int, char **);
static int version(int, char **);

static const struct command commands[] = {
	{ "audit", { NULL, NULL }, cmd_audit,
	    "[-c FILE] [--format table|json|csv] [--since T] [--until T]\n"
	    "[--year Y] [--state FILE] LOG...",
	    "replay logs (plain, compressed, or - for stdin) and report" },
	{ "parse", { NULL, NULL }, cmd_parse, "[--year Y] [FILE | -]",
	    "print each line's parsed event as JSON Lines" },
	{ "check-config", { NULL, NULL }, cmd_check_config, "[-c FILE]",
	    "check the configuration and summarise its rules" },
	{ "run", { NULL, NULL }, cmd_run, "[-c FILE] [-f]",
	    "follow the log, count and enforce (daemon; -f: foreground)" },
	{ "status", { NULL, NULL }, cmd_status, "[-c FILE] [--json]",
	    "blocked identities, mail still on hold, failing actions, window counts" },
	{ "block", { NULL, NULL }, cmd_block, "[-c FILE] IDENTITY [--for DURATION]",
	    "block an identity by hand (through the daemon when it runs)" },
	{ "unblock", { NULL, NULL }, cmd_unblock,
	    "[-c FILE] IDENTITY [--release-held | --delete-held]",
	    "end a block; its held mail stays held, is released or deleted" },
	{ "explain", { NULL, NULL }, cmd_explain, "[-c FILE] IDENTITY",
	    "the story behind an identity's state" },
	{ "--help", { "-h", "help" }, help, NULL, "print this text" },
	{ "--version", { "-V", NULL }, version, NULL, "print the version" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* usage - the table on fp: the commands with their synopsis, then the other words */
static void
usage(FILE *fp)
{
	const struct command *c;
	const char *s, *nl;
	int col, i;

	fputs("usage: sendguard COMMAND [OPTIONS]\n\nCommands:\n", fp);
	for (c = commands; c < commands + NCOMMANDS; c++) {
		if (c->synopsis == NULL)
			continue;
		fprintf(fp, "  %s", c->name);
		for (s = c->synopsis; (nl = strchr(s, '\n')) != NULL; s = nl + 1)
			fprintf(fp, " %.*s\n       ", (int)(nl - s), s);
		fprintf(fp, " %s\n%22s%s\n", s, "", c->help);
	}
	fputc('\n', fp);
	for (c = commands; c < commands + NCOMMANDS; c++) {
		if (c->synopsis != NULL)
			continue;
		col = fprintf(fp, "  sendguard %s", c->name);
		for (i = 0; i < 2 && c->alias[i] != NULL; i++)
			col += fprintf(fp, ", %s", c->alias[i]);
		fprintf(fp, "%*s%s\n", col < 30 ? 30 - col : 1, "", c->help);
	}
	fprintf(fp, "%-30s%s\n", "  sendguard COMMAND --help", "the options of one command");
	fputs("Exit codes: 0 ok; 1 audit found an overrun; 2 usage, config or input error;\n"
	      "3 runtime failure.\n",
	    fp);
}

/* help - the table on standard output */
static int
help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return (0);
}

/* version - "sendguard VERSION" */
static int
version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("sendguard %s\n", SG_VERSION);
	return (0);
}

/* find - the row whose name or alias is word, NULL if none */
static const struct command *
find(const char *word)
{
	const struct command *c;

	for (c = commands; c < commands + NCOMMANDS; c++)
		if (strcmp(word, c->name) == 0 ||
		    (c->alias[0] != NULL && strcmp(word, c->alias[0]) == 0) ||
		    (c->alias[1] != NULL && strcmp(word, c->alias[1]) == 0))
			return (c);
	return (NULL);
}

int
main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		usage(stderr);
		return (EXIT_USAGE);
	}
	if ((c = find(argv[1])) == NULL) {
		fprintf(stderr, "sendguard: unknown command '%s' (see sendguard --help)\n",
		    argv[1]);
		return (EXIT_USAGE);
	}
	return (c->fn(argc - 1, argv + 1));
}
