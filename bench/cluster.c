/*
 * NAME
 *	cluster - the added latency of a verdict in a cluster, against one node
 * SUMMARY
 *	cluster SENDGUARD LOG_IN WORKDIR CONNINFO [LINES_PER_SEC]
 *
 *	Streams LOG_IN at a steady rate (default 5,000 lines/s, in 1 ms
 *	slices) twice, each time into fresh daemons (`SENDGUARD run -f`):
 *	  1. one node without [cluster] (WORKDIR/one);
 *	  2. two nodes of a cluster on the PostgreSQL of CONNINFO (WORKDIR/a,
 *	     WORKDIR/b), each line to the node its queue ID hashes to (lines
 *	     without one to a), so that each node logs about half of every
 *	     login's messages and a limit is crossed only by the union.
 *	Every node runs in enforce mode with /bin/true for postsuper, postmap,
 *	postfix and sendmail, and limits low enough that many identities cross
 *	them (by sasl 3/10m with hold and block, by uid 5/10m with hold).
 *	For each sasl or uid identity the single node blocked (those counted
 *	at once: unauthenticated mail waits 30 s of log time for a late
 *	content-filter hand-off), the clock starts when the "(queue active)"
 *	line of the message that made it cross there was written, and stops
 *	  - single node: at its "over limit" line;
 *	  - cluster, first: at the first "over limit" of the identity on either
 *	    node;
 *	  - cluster, both: when both nodes enforce it (the other node's
 *	    "blocking it here too", or a verdict of its own).
 *	Prints the count and p50/p90/p99/max of each.  libc only; POSIX.
 * RETURNS
 *	Exit 0 after printing; 1 when a run failed (a daemon would not start,
 *	out of memory); 2 for bad arguments.
 * UNTRUSTED INPUT
 *	None: a generated log, read for queue IDs and the daemons' own
 *	stderr lines, each bounded by the buffers here.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXQ 2000000
#define MAXID 20000
#define QID_MAX 24
#define ID_MAX 256

/* When a "(queue active)" line of a queue ID was written (this run). */
struct written {
	char qid[QID_MAX];
	double t;
};

/* One identity the single node blocked, and what each run saw of it. */
struct ident {
	char id[ID_MAX];
	char qid[QID_MAX]; /* the message that made it cross on the single node */
	double single;     /* its latency there */
	double at[2];      /* cluster: when node a, node b enforced it (0: never) */
};

/* A daemon of a run: its pid and the read end of its stderr. */
struct daemon {
	pid_t pid;
	int err;
	char buf[65536];
	size_t have;
};

static struct written *wr;
static size_t nwr;
static struct ident ids[MAXID];
static size_t nids;
static int cluster_run;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* line_qid - the queue ID a log line is about ("... ]: QID: ..."), into q; 0 when none */
static int
line_qid(const char *line, size_t n, char *q)
{
	const char *p = memmem(line, n, "]: ", 3), *c;
	size_t k, i;

	if (p == NULL)
		return (0);
	p += 3;
	if ((c = memchr(p, ':', (size_t)(line + n - p))) == NULL || (k = (size_t)(c - p)) < 8 ||
	    k >= QID_MAX)
		return (0);
	for (i = 0; i < k; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'A' && p[i] <= 'Z') ||
			(p[i] >= 'a' && p[i] <= 'z')))
			return (0);
	memcpy(q, p, k);
	q[k] = '\0';
	return (1);
}

static double
written_at(const char *qid)
{
	size_t i;

	for (i = nwr; i > 0; i--) /* the newest first: queue IDs are reused */
		if (strcmp(wr[i - 1].qid, qid) == 0)
			return (wr[i - 1].t);
	return (-1);
}

static struct ident *
ident_find(const char *id)
{
	size_t i;

	for (i = 0; i < nids; i++)
		if (strcmp(ids[i].id, id) == 0)
			return (&ids[i]);
	return (NULL);
}

/* between - the text of line between after and until, into out; 0 when absent */
static int
between(const char *line, const char *after, const char *until, char *out, size_t len)
{
	const char *p = strstr(line, after), *e;

	if (p == NULL)
		return (0);
	p += strlen(after);
	if ((e = strstr(p, until)) == NULL || (size_t)(e - p) >= len)
		return (0);
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return (1);
}

/* seen - one line of node k's log at time t */
static void
seen(int k, const char *line, double t)
{
	char id[ID_MAX], qid[QID_MAX];
	struct ident *x;
	int verdict = between(line, "over limit: ", ": rule ", id, sizeof(id));

	if (!verdict && !between(line, "cluster: ", " was blocked on node ", id, sizeof(id)))
		return;
	if (strncmp(id, "sasl:", 5) != 0 && strncmp(id, "uid:", 4) != 0)
		return;
	if (!cluster_run) {
		const char *q = strstr(line, "crossed by ");
		double w;

		if (!verdict || q == NULL || ident_find(id) != NULL || nids == MAXID)
			return;
		snprintf(qid, sizeof(qid), "%s", q + 11);
		if ((w = written_at(qid)) < 0)
			return;
		x = &ids[nids++];
		snprintf(x->id, sizeof(x->id), "%s", id);
		snprintf(x->qid, sizeof(x->qid), "%s", qid);
		x->single = t - w;
		return;
	}
	if ((x = ident_find(id)) == NULL)
		return;
	if (x->at[k] == 0)
		x->at[k] = t;
}

/* drain - read what node k wrote to its stderr */
static void
drain(int k, struct daemon *d)
{
	ssize_t r;
	char *nl;
	double t;

	while (
	    d->err >= 0 && (r = read(d->err, d->buf + d->have, sizeof(d->buf) - d->have - 1)) > 0) {
		t = now();
		d->have += (size_t)r;
		d->buf[d->have] = '\0';
		while ((nl = memchr(d->buf, '\n', d->have)) != NULL) {
			*nl = '\0';
			seen(k, d->buf, t);
			d->have -= (size_t)(nl + 1 - d->buf);
			memmove(d->buf, nl + 1, d->have);
		}
		if (d->have >= sizeof(d->buf) - 1)
			d->have = 0;
	}
}

/* node - WORKDIR/name with its config, empty log, and its daemon; the log's descriptor */
static int
node(const char *bin, const char *work, const char *name, const char *conninfo, struct daemon *d)
{
	char dir[512], conf[600], logp[600];
	int pfd[2], fd;
	FILE *fp;

	snprintf(dir, sizeof(dir), "%s/%s", work, name);
	snprintf(conf, sizeof(conf), "%s/agent.conf", dir);
	snprintf(logp, sizeof(logp), "%s/mail.log", dir);
	if ((mkdir(dir, 0755) < 0 && errno != EEXIST) || (fp = fopen(conf, "w")) == NULL)
		return (-1);
	fprintf(fp,
	    "[agent]\nlog = %s\nstate = %s/state.db\nsocket = %s/ctl.sock\nstart_at = beginning\n"
	    "postfix_config_dir = %s\npostsuper = /bin/true\npostmap = /bin/true\n"
	    "postfix = /bin/true\nsendmail = /bin/true\n"
	    "[limit s]\nby = sasl\nmessages = 3/10m\nactions = hold, block\n"
	    "[limit u]\nby = uid\nmessages = 5/10m\nactions = hold\n"
	    "[action block]\nsasl_map = %s/sasl_access\nsender_map = %s/sender_access\n",
	    logp, dir, dir, dir, dir, dir);
	if (conninfo != NULL)
		fprintf(fp, "[cluster]\nconninfo = %s\nnode = %s\n", conninfo, name);
	fclose(fp);
	if ((fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644)) < 0 || pipe(pfd) < 0)
		return (-1);
	if ((d->pid = fork()) == 0) {
		dup2(pfd[1], 2);
		close(pfd[0]);
		execl(bin, bin, "run", "-f", "-c", conf, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	d->err = pfd[0];
	d->have = 0;
	return (fd);
}

/* run - stream the log into n daemons (2: the cluster); 0 or -1 */
static int
run(const char *bin, const char *logp, const char *work, const char *conninfo, double rate)
{
	static struct daemon d[2];
	int fd[2], k, n = conninfo != NULL ? 2 : 1, st;
	FILE *in;
	char *l = NULL, qid[QID_MAX];
	size_t cap = 0;
	ssize_t len;
	long lines = 0;
	double t0, next;

	nwr = 0;
	cluster_run = n == 2;
	for (k = 0; k < n; k++)
		if ((fd[k] = node(bin, work, n == 2 ? (k ? "b" : "a") : "one", conninfo, &d[k])) <
		    0)
			return (-1);
	if ((in = fopen(logp, "r")) == NULL)
		return (-1);
	usleep(n == 2 ? 1500000 : 300000); /* the daemons start, the cluster connects */
	t0 = next = now();
	while ((len = getline(&l, &cap, in)) > 0) {
		int to = 0;

		while (now() < next) {
			for (k = 0; k < n; k++)
				drain(k, &d[k]);
			usleep(200);
		}
		if (line_qid(l, (size_t)len, qid)) {
			unsigned h = 5381;
			const char *p;

			for (p = qid; *p; p++)
				h = h * 33 + (unsigned char)*p;
			to = n == 2 ? (int)(h % 2) : 0;
			if (memmem(l, (size_t)len, "(queue active)", 14) != NULL && nwr < MAXQ) {
				snprintf(wr[nwr].qid, QID_MAX, "%s", qid);
				wr[nwr++].t = now();
			}
		}
		if (write(fd[to], l, (size_t)len) != len)
			return (-1);
		lines++;
		next = t0 + (double)lines / rate;
	}
	printf("%s: %ld lines in %.1f s\n", n == 2 ? "cluster of two" : "single node", lines,
	    now() - t0);
	for (t0 = now(); now() - t0 < 3.0;) { /* the last verdicts */
		for (k = 0; k < n; k++)
			drain(k, &d[k]);
		usleep(1000);
	}
	for (k = 0; k < n; k++) {
		kill(d[k].pid, SIGTERM);
		while (waitpid(d[k].pid, &st, WNOHANG) == 0) {
			drain(k, &d[k]);
			usleep(10000);
		}
		close(d[k].err);
		close(fd[k]);
	}
	free(l);
	fclose(in);
	return (0);
}

static int
dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/* report - the percentiles of n latencies (seconds) */
static void
report(const char *what, double *v, size_t n, size_t of)
{
	if (n == 0) {
		printf("%-34s none\n", what);
		return;
	}
	qsort(v, n, sizeof(*v), dcmp);
	printf("%-34s %4zu of %zu  p50 %7.1f ms  p90 %7.1f ms  p99 %7.1f ms  max %7.1f ms\n", what,
	    n, of, v[n / 2] * 1e3, v[n * 9 / 10] * 1e3, v[n * 99 / 100] * 1e3, v[n - 1] * 1e3);
}

int
main(int argc, char **argv)
{
	double rate = 5000, *v[3], w;
	size_t n[3] = { 0, 0, 0 }, i;
	long long r;
	char *end;

	if (argc > 5) {
		errno = 0;
		r = strtoll(argv[5], &end, 10);
		if (end == argv[5] || *end != '\0' || errno == ERANGE || r < 1 || r > 1000000) {
			fprintf(stderr, "cluster: LINES_PER_SEC: 1 to 1000000, not '%s'\n",
			    argv[5]);
			return (2);
		}
		rate = (double)r;
	}
	if (argc < 5) {
		fprintf(stderr,
		    "usage: cluster SENDGUARD LOG_IN WORKDIR CONNINFO [LINES_PER_SEC]\n");
		return (2);
	}
	signal(SIGPIPE, SIG_IGN);
	if ((wr = calloc(MAXQ, sizeof(*wr))) == NULL ||
	    (v[0] = calloc(MAXID, sizeof(double))) == NULL ||
	    (v[1] = calloc(MAXID, sizeof(double))) == NULL ||
	    (v[2] = calloc(MAXID, sizeof(double))) == NULL) {
		perror("cluster");
		return (1);
	}
	if (run(argv[1], argv[2], argv[3], NULL, rate) < 0 ||
	    run(argv[1], argv[2], argv[3], argv[4], rate) < 0) {
		perror("cluster");
		return (1);
	}
	for (i = 0; i < nids; i++) {
		v[0][n[0]++] = ids[i].single;
		if ((w = written_at(ids[i].qid)) < 0)
			continue;
		if (ids[i].at[0] != 0 || ids[i].at[1] != 0)
			v[1][n[1]++] =
			    (ids[i].at[0] != 0 && (ids[i].at[1] == 0 || ids[i].at[0] < ids[i].at[1])
				    ? ids[i].at[0]
				    : ids[i].at[1]) -
			    w;
		if (ids[i].at[0] != 0 && ids[i].at[1] != 0)
			v[2][n[2]++] =
			    (ids[i].at[0] > ids[i].at[1] ? ids[i].at[0] : ids[i].at[1]) - w;
	}
	printf("identities blocked (sasl, uid), crossing line written -> enforced:\n");
	report("single node: verdict", v[0], n[0], nids);
	report("cluster: first node enforces", v[1], n[1], nids);
	report("cluster: both nodes enforce", v[2], n[2], nids);
	return (0);
}
