/*
 * NAME
 *	main - sendguard command line: dispatch to a sub-command
 */
#include <stdio.h>
#include <string.h>

#include "agent/cmds.h"

static const char usage_text[] =
"usage: sendguard COMMAND [OPTIONS]\n"
"\n"
"Commands:\n"
"  audit [-c FILE] [--format table|json|csv] [--since T] [--until T]\n"
"        [--year Y] [--state FILE] LOG...\n"
"                      replay logs (plain, gzip, xz, bzip2, zstd, or - for\n"
"                      stdin) and report\n"
"  parse [--year Y] [FILE | -]\n"
"                      print each line's parsed event as JSON Lines\n"
"  check-config [-c FILE]\n"
"                      check the configuration and summarise its rules\n"
"  run [-c FILE] [-f]  follow the log, count and enforce (daemon; -f: foreground)\n"
"  status [-c FILE] [--json]\n"
"                      blocked identities, mail still on hold, failing\n"
"                      actions and current window counts\n"
"  block [-c FILE] IDENTITY [--for DURATION]\n"
"  unblock [-c FILE] IDENTITY [--release-held | --delete-held]\n"
"  explain [-c FILE] IDENTITY\n"
"                      block, unblock, and the story behind an identity's state\n"
"\n"
"  sendguard COMMAND --help   shows the options of one command.\n"
"Exit codes: 0 ok; 1 audit found an overrun; 2 usage, config or input error;\n"
"3 runtime failure.\n";

int
main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		fputs(usage_text, stderr);
		return (EXIT_USAGE);
	}
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return (0);
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
		printf("sendguard %s\n", SG_VERSION);
		return (0);
	}
	if (strcmp(cmd, "audit") == 0)
		return (cmd_audit(argc - 1, argv + 1));
	if (strcmp(cmd, "parse") == 0)
		return (cmd_parse(argc - 1, argv + 1));
	if (strcmp(cmd, "check-config") == 0)
		return (cmd_check_config(argc - 1, argv + 1));
	if (strcmp(cmd, "run") == 0)
		return (cmd_run(argc - 1, argv + 1));
	if (strcmp(cmd, "status") == 0)
		return (cmd_status(argc - 1, argv + 1));
	if (strcmp(cmd, "block") == 0)
		return (cmd_block(argc - 1, argv + 1));
	if (strcmp(cmd, "unblock") == 0)
		return (cmd_unblock(argc - 1, argv + 1));
	if (strcmp(cmd, "explain") == 0)
		return (cmd_explain(argc - 1, argv + 1));
	fprintf(stderr, "sendguard: unknown command '%s' (see sendguard --help)\n", cmd);
	return (EXIT_USAGE);
}
