/*
 * NAME
 *	cmd_status - `sendguard status`
 * SUMMARY
 *	Asks the running daemon through its control socket; with no daemon
 *	running, rebuilds the windows read-only from the state database and
 *	prints the same (agent/status.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/act.h"
#include "agent/cmds.h"
#include "agent/control.h"
#include "agent/logsrc.h"
#include "agent/status.h"
#include "count/pipeline.h"
#include "store/store.h"

static const char status_usage[] =
    "usage: sendguard status [-c FILE] [--json]\n"
    "\n"
    "Asks the running daemon (through its control socket) for the blocked\n"
    "identities, the identities whose block ended while mail of theirs is still\n"
    "on hold (to release or delete with unblock), the failing actions and every\n"
    "identity's current count in each window.  With no daemon running, reads the\n"
    "state database read-only instead.\n"
    "\n"
    "  -c, --config FILE   agent.conf (default " SG_DEFAULT_CONF ");\n"
    "                      with errors in it, warns and uses what could be read\n"
    "      --json          one JSON object: blocked, on_hold, failing_actions,\n"
    "                      counts, now, daemon\n";

/* cmd_status - see status_usage */
int
cmd_status(int argc, char **argv)
{
	const char *cfile = SG_DEFAULT_CONF;
	struct conf *conf = NULL;
	struct store *st = NULL;
	struct limits *l = NULL;
	struct status_info si;
	struct store_cursor cur;
	char err[512];
	int json = 0, r, rc = 0;
	int64_t last, now;
	const struct cmd_val vals[] = { { 'c', "config", &cfile, NULL },
		{ 'j', "json", NULL, &json }, { 0, NULL, NULL, NULL } };

	if (cmd_opts("status", status_usage, vals, argc, argv, &rc) < 0)
		return (rc);
	if ((rc = cmd_load_conf_client(cfile, &conf)) != 0)
		return (rc);
	r = control_request(conf->socket, json ? "status json" : "status text", stdout, err,
	    sizeof(err));
	if (r == 0) {
		conf_free(conf);
		return (fflush(stdout) == 0 ? 0 : EXIT_RUNTIME);
	}
	if (r < 0) {
		fprintf(stderr, "sendguard: status: %s\n", err);
		conf_free(conf);
		return (EXIT_RUNTIME);
	}
	/* no daemon: the database, read-only */
	if (store_open(&st, conf->state, 1, err, sizeof(err)) < 0) {
		fprintf(stderr, "sendguard: status: no daemon answers on %s, and %s\n",
		    conf->socket, err);
		conf_free(conf);
		return (EXIT_RUNTIME);
	}
	if ((l = limits_new(conf)) == NULL ||
	    store_last_message_time(st, &last, err, sizeof(err)) < 0) {
		fprintf(stderr, "sendguard: status: %s\n", l ? err : "out of memory");
		rc = EXIT_RUNTIME;
		goto out;
	}
	now = status_now(last);
	if (act_restore_limits(st, l, err, sizeof(err)) < 0 ||
	    pipeline_rebuild(l, st, now - pipeline_max_window(conf), err, sizeof(err)) < 0) {
		fprintf(stderr, "sendguard: status: %s\n", err);
		rc = EXIT_RUNTIME;
		goto out;
	}
	memset(&si, 0, sizeof(si));
	si.log = conf->log;
	si.state = conf->state;
	si.last_us = last;
	si.mode = conf->mode == MODE_MONITOR ? "monitor" : "enforce";
	logsrc_stored(conf, st, &cur, &si);
	si.cluster_node = conf->cluster_node;
	if (status_print(stdout, l, st, now, &si, json) < 0 || fflush(stdout) != 0)
		rc = EXIT_RUNTIME;
out:
	limits_free(l);
	store_close(st);
	conf_free(conf);
	return (rc);
}
