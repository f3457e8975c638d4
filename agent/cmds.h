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

#define EXIT_OVERRUN	1
#define EXIT_USAGE	2
#define EXIT_RUNTIME	3

#define SG_DEFAULT_CONF "/etc/sendguard/agent.conf"

int	cmd_audit(int argc, char **argv);		/* agent/cmd_audit.c */
int	cmd_parse(int argc, char **argv);		/* agent/cmd_parse.c */
int	cmd_check_config(int argc, char **argv);	/* agent/cmd_check_config.c */
struct conf;
/* cmd_load_conf - agent/cmdutil.c: 0, or the exit code after printing every error */
int	cmd_load_conf(const char *path, struct conf **out);
/*
 * cmd_load_conf_client - agent/cmdutil.c, for status, explain, block and
 * unblock: 0 and *out even when the file has errors (then one warning on
 * stderr: the count, each FILE:LINE: message, the socket and state used);
 * the exit code, *out NULL, only when the file cannot be read (2) or
 * memory runs out (3).  conf_load_lenient() says what *out holds.
 */
int	cmd_load_conf_client(const char *path, struct conf **out);

int	cmd_run(int argc, char **argv);			/* agent/cmd_run.c */
int	cmd_status(int argc, char **argv);		/* agent/cmd_status.c */
int	cmd_block(int argc, char **argv);		/* agent/cmd_enforce.c */
int	cmd_unblock(int argc, char **argv);
int	cmd_explain(int argc, char **argv);

#endif
