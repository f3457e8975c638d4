/*
 * NAME
 *	status - `sendguard status` (see status.h)
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "agent/cmds.h"
#include "agent/control.h"
#include "util/json.h"
#include "count/pipeline.h"
#include "agent/status.h"
#include "actions/act.h"
#include "store/store.h"

struct crow {
	char   *identity;
	const struct conf_rule *rule;
	const struct conf_window *win;
	long	count;
};

struct cset {
	struct crow *v;
	size_t	n, cap;
	int	failed;
};

static void
collect(void *ctx, const struct limits_count *c)
{
	struct cset *cs = ctx;

	if (cs->n == cs->cap) {
		size_t nc = cs->cap ? cs->cap * 2 : 64;
		struct crow *nv = realloc(cs->v, nc * sizeof(*nv));

		if (nv == NULL) {
			cs->failed = 1;
			return;
		}
		cs->v = nv;
		cs->cap = nc;
	}
	if ((cs->v[cs->n].identity = strdup(c->identity)) == NULL) {
		cs->failed = 1;
		return;
	}
	cs->v[cs->n].rule = c->rule;
	cs->v[cs->n].win = c->win;
	cs->v[cs->n].count = c->count;
	cs->n++;
}

static int
crow_cmp(const void *a, const void *b)
{
	const struct crow *x = a, *y = b;
	int c = strcmp(x->identity, y->identity);

	if (c != 0)
		return (c);
	if (x->rule != y->rule)
		return (x->rule < y->rule ? -1 : 1);
	return (x->win < y->win ? -1 : x->win > y->win);
}

/* tty_str - identity for a terminal: control and non-ASCII bytes as \xNN; columns written */
static int
tty_str(FILE *fp, const char *s)
{
	int w = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f || c == '\\') {
			fprintf(fp, "\\x%02x", c);
			w += 4;
		} else {
			putc(c, fp);
			w++;
		}
	}
	return (w);
}

int64_t
status_now(int64_t last_log_us)
{
	struct timeval tv;
	int64_t now;

	gettimeofday(&tv, NULL);
	now = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	return (last_log_us > now ? last_log_us : now);
}

int
status_print(FILE *fp, struct limits *l, struct store *st, int64_t now,
	     const struct status_info *si, int json)
{
	struct cset cs = { NULL, 0, 0, 0 };
	char tb[40], wb[32];
	size_t i;

	if (l != NULL)
		limits_each_count(l, now, collect, &cs);
	if (cs.n > 1)
		qsort(cs.v, cs.n, sizeof(*cs.v), crow_cmp);
	if (json) {
		fputs("{", fp);
		act_status_json(st, fp, now);
		fputs(",\n \"counts\": [", fp);
		for (i = 0; i < cs.n; i++) {
			fputs(i ? ",\n  " : "\n  ", fp);
			fputs("{\"identity\": ", fp);
			json_cstr(fp, cs.v[i].identity);
			fputs(", \"rule\": ", fp);
			json_cstr(fp, cs.v[i].rule->name);
			fprintf(fp, ", \"limit\": \"%s\", \"window\": \"%s\", \"count\": %ld, "
			    "\"threshold\": %ld}", conf_limit_name(cs.v[i].win->limit),
			    conf_format_duration(cs.v[i].win->seconds, wb, sizeof(wb)),
			    cs.v[i].count, cs.v[i].win->threshold);
		}
		fprintf(fp, "%s],\n \"now\": \"%s\", \"daemon\": {\"running\": %s",
		    cs.n ? "\n " : "", json_time(now, tb, sizeof(tb)), si->running ? "true" : "false");
		if (si->running)
			fprintf(fp, ", \"pid\": %ld, \"lines\": %llu, \"position\": {\"dev\": %llu, "
			    "\"ino\": %llu, \"offset\": %llu}", si->pid, (unsigned long long)si->lines,
			    (unsigned long long)si->dev, (unsigned long long)si->ino,
			    (unsigned long long)si->offset);
		fputs(", \"log\": ", fp);
		json_cstr(fp, si->log);
		fputs(", \"state\": ", fp);
		json_cstr(fp, si->state);
		fputs(", \"mode\": ", fp);
		json_cstr(fp, si->mode);
		fputs(", \"last_log_time\": ", fp);
		if (si->last_us != INT64_MIN)
			fprintf(fp, "\"%s\"", json_time(si->last_us, tb, sizeof(tb)));
		else
			fputs("null", fp);
		fputs("}}\n", fp);
	} else {
		if (si->running)
			fprintf(fp, "sendguard: running (pid %ld, %s mode), %llu lines read from %s\n",
			    si->pid, si->mode ? si->mode : "?", (unsigned long long)si->lines,
			    si->log ? si->log : "?");
		else
			fprintf(fp, "sendguard: not running; counts from %s\n", si->state ? si->state : "?");
		if (si->last_us != INT64_MIN)
			fprintf(fp, "%s: %s\n", si->running ? "Newest log line" : "Newest message",
			    json_time(si->last_us, tb, sizeof(tb)));
		fprintf(fp, "Windows ending %s\n\n", json_time(now, tb, sizeof(tb)));
		act_status_text(st, fp, now);
		fputc('\n', fp);
		if (cs.n == 0)
			fputs("COUNTS: none\n", fp);
		else
			fprintf(fp, "%-30s %-10s %-10s %6s %15s\n", "IDENTITY", "RULE", "LIMIT",
			    "WINDOW", "COUNT/LIMIT");
		for (i = 0; i < cs.n; i++) {
			char cnt[48];
			int w = tty_str(fp, cs.v[i].identity);

			if (w > 30)
				fprintf(fp, "\n%30s", "");
			else
				fprintf(fp, "%*s", 30 - w, "");
			snprintf(cnt, sizeof(cnt), "%ld/%ld", cs.v[i].count, cs.v[i].win->threshold);
			fprintf(fp, " %-10.10s %-10s %6s %15s\n",
			    cs.v[i].rule->name, conf_limit_name(cs.v[i].win->limit),
			    conf_format_duration(cs.v[i].win->seconds, wb, sizeof(wb)), cnt);
		}
	}
	for (i = 0; i < cs.n; i++)
		free(cs.v[i].identity);
	free(cs.v);
	return (cs.failed || ferror(fp) ? -1 : 0);
}

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
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfile = SG_DEFAULT_CONF;
	struct conf *conf = NULL;
	struct store *st = NULL;
	struct limits *l = NULL;
	struct status_info si;
	char err[512];
	int ch, json = 0, r, rc = 0;
	int64_t last, now;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cfile = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(status_usage, stdout);
			return (0);
		default:
			fputs(status_usage, stderr);
			return (EXIT_USAGE);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "sendguard: status: unexpected argument '%s'\n", argv[optind]);
		return (EXIT_USAGE);
	}
	if ((rc = cmd_load_conf_client(cfile, &conf)) != 0)
		return (rc);
	r = control_request(conf->socket, json ? "status json" : "status text", stdout,
	    err, sizeof(err));
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
	if (status_print(stdout, l, st, now, &si, json) < 0 || fflush(stdout) != 0)
		rc = EXIT_RUNTIME;
out:
	limits_free(l);
	store_close(st);
	conf_free(conf);
	return (rc);
}
