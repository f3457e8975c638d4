/*
 * NAME
 *	cmdutil - the command-line conventions every command shares
 * SUMMARY
 *	cmd_options() reads a command's options with getopt_long() the way
 *	every sendguard command does: -h/--help prints the command's usage
 *	on stdout and ends it with 0; an unknown option or a missing
 *	argument prints the usage on stderr and ends it with 2 (EXIT_USAGE).
 *	Every other option goes to the command's own function.  (The
 *	configuration loaders of agent/cmdutil.c are declared in cmds.h.)
 */
#ifndef SG_CMDUTIL_H
#define SG_CMDUTIL_H

#include <getopt.h>

/*
 * cmd_options - the options of argv (argv[0] is the command word) in
 * shortopts/longopts ('h' must be the help option).  fn(ctx, ch, arg)
 * takes each other option and returns 0 to go on, or an exit code after
 * its own message.  Returns -1 when every option is read (the operands
 * start at optind), else the exit code the command ends with.
 */
int cmd_options(int argc, char **argv, const char *shortopts, const struct option *longopts,
    const char *usage, int (*fn)(void *ctx, int ch, const char *arg), void *ctx);

#endif
