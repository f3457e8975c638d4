/*
 * NAME
 *	cmds - the sendguard sub-commands called by main()
 * SUMMARY
 *	Each takes the argument vector starting at the command word
 *	(argv[0] = "audit") and returns the process exit code
 *	(0 ok, 1 audit found an overrun, 2 usage/config/input error,
 *	3 runtime failure).  They print their own diagnostics to stderr.
 */
#ifndef SG_CMDS_H
#define SG_CMDS_H

#define EXIT_OVERRUN 1
#define EXIT_USAGE 2
#define EXIT_RUNTIME 3

#define SG_DEFAULT_CONF "/etc/sendguard/agent.conf"

int cmd_audit(int argc, char **argv);        /* agent/cmd_audit.c */
int cmd_parse(int argc, char **argv);        /* agent/cmd_parse.c */
int cmd_check_config(int argc, char **argv); /* agent/cmd_check_config.c */
struct conf;
/* cmd_load_conf - agent/cmdutil.c: 0, or the exit code after printing every error */
int cmd_load_conf(const char *path, struct conf **out);
/*
 * cmd_load_conf_client - agent/cmdutil.c, for status, explain, block and
 * unblock: 0 and *out even when the file has errors (then one warning on
 * stderr: the count, each FILE:LINE: message, the socket and state used);
 * the exit code, *out NULL, only when the file cannot be read (2) or
 * memory runs out (3).  conf_load_lenient() says what *out holds.
 */
int cmd_load_conf_client(const char *path, struct conf **out);

/* One option of a command for cmd_opts (agent/cmdopt.c): a value (str) or a flag. */
struct cmd_val {
	int ch;           /* its letter; 0 ends the table */
	const char *name; /* its long name */
	const char **str; /* takes a value, stored here; or */
	int *flag;        /* a flag, set to 1 */
};
/*
 * cmd_opts - argv's options by vals, and -h/--help: 0 when they parsed
 * and no argument is left; -1 with the exit code in *rc after --help
 * (usage on stdout), a bad option (usage on stderr) or an argument
 */
int cmd_opts(const char *cmd, const char *usage, const struct cmd_val *vals, int argc, char **argv,
    int *rc);
/* cmd_usage - usage on stdout and 0 (help 1), or on stderr and EXIT_USAGE */
int cmd_usage(const char *usage, int help);

int cmd_run(int argc, char **argv);    /* agent/cmd_run.c */
int cmd_status(int argc, char **argv); /* agent/cmd_status.c */
int cmd_block(int argc, char **argv);  /* agent/cmd_enforce.c */
int cmd_unblock(int argc, char **argv);
int cmd_explain(int argc, char **argv);

#endif
