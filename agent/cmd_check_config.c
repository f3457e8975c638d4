/*
 * NAME
 *	cmd_check_config - `sendguard check-config [-c FILE]`
 * SUMMARY
 *	Exports cmd_check_config().  Loads the configuration with
 *	cmd_load_conf(); on errors prints each "FILE:LINE: message" and a
 *	count on stderr and returns 2 (3 when memory runs out).  Otherwise
 *	prints a summary on stdout (mode, log, state file, one line per rule,
 *	the exemptions; address ranges after the globs, as ADDRESS/BITS) and
 *	returns 0, or 3 when stdout cannot be written.  A broken file is
 *	refused here, as by `run`; only the client commands read it leniently.
 *	With log = journal (or journal:PATH) it also tries the journal the
 *	way `run` will open it: one that cannot be opened or read (a missing
 *	path, files this user may not read) is an error (exit 2); one with no
 *	entry yet, and a postfix_user that is no user on this host, are
 *	warnings on stderr.
 * UNTRUSTED INPUT
 *	The command line and the config file; conf_load() refuses control
 *	characters, so every value printed here is plain text.
 */
#include <stdio.h>
#include <string.h>

#include "agent/cmds.h"
#include "count/conf.h"
#include "count/journal.h"

static const char usage_text[] =
    "usage: sendguard check-config [-c FILE]\n"
    "\n"
    "Reads the configuration (default " SG_DEFAULT_CONF ") and reports every\n"
    "error as FILE:LINE: message (exit 2), or prints a summary of the mode,\n"
    "the log, the state file, each limit rule and the exemptions (exit 0).\n"
    "With log = journal or journal:PATH it also opens the journal: one that\n"
    "cannot be read is an error (exit 2).\n";

static const char *const action_names[] = { "hold", "block", "notify", "exec" };

/* action_name - "hold" for ACT_HOLD, ... */
static const char *
action_name(unsigned act)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		if (act == (1u << i))
			return (action_names[i]);
	return ("?");
}

/*
 * print_rule - one line:
 * rule submission: by sasl, messages 100/1h 1000/1d, ips 10/1h; actions hold, block; block_time 1h x2
 */
static void
print_rule(FILE *fp, const struct conf_rule *r)
{
	char buf[64];
	size_t i;
	int l;

	fprintf(fp, "rule %s: by %s", r->name, conf_by_name(r->by));
	if (r->nmatch + r->ncidr > 0) {
		fputs(" match", fp);
		for (i = 0; i < r->nmatch; i++)
			fprintf(fp, " %s", r->match[i]);
		for (i = 0; i < r->ncidr; i++)
			fprintf(fp, " %s", conf_cidr_format(&r->cidr[i], buf, sizeof(buf)));
	}
	for (l = 0; l < LIM_COUNT; l++) {
		int first = 1;

		for (i = 0; i < r->nwin; i++) {
			if ((int)r->win[i].limit != l)
				continue;
			if (first)
				fprintf(fp, ", %s", conf_limit_name((enum conf_limit)l));
			first = 0;
			fprintf(fp, " %ld/%s", r->win[i].threshold,
			    conf_format_duration(r->win[i].seconds, buf, sizeof(buf)));
		}
	}
	fputs("; actions", fp);
	if (r->nactions == 0)
		fputs(" none", fp);
	for (i = 0; i < r->nactions; i++)
		fprintf(fp, "%s %s", i ? "," : "", action_name(r->action_order[i]));
	if (r->block_time == 0)
		fputs("; block_time until unblocked", fp);
	else
		fprintf(fp, "; block_time %s",
		    conf_format_duration(r->block_time, buf, sizeof(buf)));
	if (r->block_time_factor != 1.0)
		fprintf(fp, " x%g", r->block_time_factor);
	fputc('\n', fp);
}

/* print_summary - what the configuration will do */
static void
print_summary(FILE *fp, const struct conf *c)
{
	const char *jpath;
	char buf[64];
	size_t i, j, n;
	int by, any = 0;

	fprintf(fp, "mode %s\n", c->mode == MODE_MONITOR ? "monitor" : "enforce");
	fprintf(fp, "log %s\n", strcmp(c->log, "-") == 0 ? "- (standard input)" : c->log);
	if (journal_spec(c->log, &jpath))
		fprintf(fp, "postfix_user %s\n", c->postfix_user);
	fprintf(fp, "state %s\n", c->state);
	if (c->metrics_file != NULL)
		fprintf(fp, "metrics_file %s\n", c->metrics_file);
	if (c->nrules == 0)
		fputs("rules none (messages are counted, no limit applies)\n", fp);
	for (i = 0; i < c->nrules; i++)
		print_rule(fp, &c->rules[i]);
	for (by = 0; by < BY_COUNT; by++) {
		size_t nr = by == BY_IP ? c->nexempt_cidr : 0;

		if (c->nexempt[by] + nr == 0)
			continue;
		any = 1;
		fprintf(fp, "exempt %s:", conf_by_name((enum conf_by)by));
		for (j = n = 0; j < c->nexempt[by]; j++)
			fprintf(fp, "%s %s", n++ ? "," : "", c->exempt[by][j]);
		for (j = 0; j < nr; j++)
			fprintf(fp, "%s %s", n++ ? "," : "",
			    conf_cidr_format(&c->exempt_cidr[j], buf, sizeof(buf)));
		fputc('\n', fp);
	}
	if (!any)
		fputs("exempt none\n", fp);
}

/*
 * check_journal - log names a journal: can it be read, and is the mail
 * owner a user?  0, or EXIT_USAGE after the message
 */
static int
check_journal(const char *path, const struct conf *c)
{
	const char *jpath;
	char err[1024];
	long uid;
	int r;

	if (!journal_spec(c->log, &jpath))
		return (0);
	if ((r = journal_check(jpath, err, sizeof(err))) < 0) {
		fprintf(stderr, "sendguard: %s: log: %s\n", path, err);
		return (EXIT_USAGE);
	}
	if (r > 0)
		fprintf(stderr, "sendguard: %s: warning: log: %s\n", path, err);
	if (journal_user_uid(c->postfix_user, &uid, err, sizeof(err)) < 0)
		fprintf(stderr, "sendguard: %s: warning: %s; `run` cannot start until it is\n",
		    path, err);
	return (0);
}

/* cmd_check_config - argv[0] is "check-config"; returns the exit code */
int
cmd_check_config(int argc, char **argv)
{
	const char *path = SG_DEFAULT_CONF;
	struct conf *c = NULL;
	int a, rc;

	for (a = 1; a < argc; a++) {
		const char *arg = argv[a];

		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			fputs(usage_text, stdout);
			return (0);
		}
		if (strcmp(arg, "-c") == 0) {
			if (a + 1 >= argc) {
				fprintf(stderr, "sendguard: check-config: -c needs a FILE\n");
				fputs(usage_text, stderr);
				return (EXIT_USAGE);
			}
			path = argv[++a];
		} else if (strncmp(arg, "-c", 2) == 0) {
			path = arg + 2;
		} else {
			fprintf(stderr, "sendguard: check-config: unexpected argument '%s'\n", arg);
			fputs(usage_text, stderr);
			return (EXIT_USAGE);
		}
	}
	if ((rc = cmd_load_conf(path, &c)) != 0)
		return (rc);
	if ((rc = check_journal(path, c)) != 0) {
		conf_free(c);
		return (rc);
	}
	print_summary(stdout, c);
	conf_free(c);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("sendguard: check-config: stdout");
		return (EXIT_RUNTIME);
	}
	return (0);
}
