/*
 * NAME
 *	latency - append-to-verdict latency and memory of `sendguard run`
 * SUMMARY
 *	latency SENDGUARD LOG_IN WORKDIR [LINES_PER_SEC]
 *
 *	Starts `SENDGUARD run -f` on WORKDIR/mail.log (config written to
 *	WORKDIR/agent.conf with low limits so that many identities cross
 *	them, in monitor mode so that no real postsuper or postfix is run
 *	on the machine's own mail system), then appends LOG_IN to WORKDIR/mail.log at a steady rate
 *	(default 20,000 lines/s, in 1 ms slices), noting the wall time at
 *	which each qmgr "(queue active)" line was written.  The daemon's
 *	stderr is read as it comes; for every "over limit: ... crossed by QID"
 *	line, latency = the time the line arrived - the time the crossing
 *	line was written.  Prints the rate achieved, the number of verdicts,
 *	p50/p90/p99/max latency, the daemon's CPU time while the lines
 *	flowed (utime + stime from /proc/PID/stat, as a share of one core
 *	over the time of the appends and the 2 s after them that let the
 *	last verdicts arrive), its CPU share over 2 s more with nothing to
 *	read (idle), and its peak RSS (VmHWM).
 *	libc only; POSIX.
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

#include "bench/procstat.h"

#define MAXQ 4000000

struct qt {
	char qid[24];
	double t;
};

static struct qt *qts;
static size_t nqt;
static double *lat, *lat2; /* sasl/uid verdicts; sender/ip verdicts */
static size_t nlat, nlat2;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* note_active - remember when a "(queue active)" line went out */
static void
note_active(const char *line, size_t n, double t)
{
	const char *p, *c;
	size_t k;

	if (n < 20 || memmem(line, n, "(queue active)", 14) == NULL || nqt >= MAXQ)
		return;
	if ((p = memmem(line, n, "]: ", 3)) == NULL)
		return;
	p += 3;
	if ((c = memchr(p, ':', (size_t)(line + n - p))) == NULL || (k = (size_t)(c - p)) >= 24)
		return;
	memcpy(qts[nqt].qid, p, k);
	qts[nqt].qid[k] = '\0';
	qts[nqt].t = t;
	nqt++;
}

static double
find_active(const char *qid)
{
	size_t i;

	for (i = nqt; i > 0; i--) /* recent first */
		if (strcmp(qts[i - 1].qid, qid) == 0)
			return (qts[i - 1].t);
	return (-1);
}

/* drain - read the daemon's stderr; every verdict becomes one latency */
static void
drain(int fd, char *buf, size_t *have, size_t cap)
{
	ssize_t r;
	char *nl, *q;
	double t;

	while ((r = read(fd, buf + *have, cap - *have - 1)) > 0) {
		t = now();
		*have += (size_t)r;
		buf[*have] = '\0';
		while ((nl = memchr(buf, '\n', *have)) != NULL) {
			*nl = '\0';
			if ((q = strstr(buf, "crossed by ")) != NULL) {
				double w = find_active(q + 11);

				if (w >= 0 &&
				    (strstr(buf, "over limit: sasl:") ||
					strstr(buf, "over limit: uid:")))
					lat[nlat++] = t - w;
				else if (w >= 0)
					lat2[nlat2++] = t - w;
			}
			*have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, *have);
		}
		if (*have >= cap - 1)
			*have = 0;
	}
}

/* cpu_s - the CPU seconds (user + system) process pid has used so far; -1 if unknown */
static double
cpu_s(pid_t pid)
{
	long long t = procstat_ticks(pid);

	return (t < 0 ? -1 : (double)t / (double)sysconf(_SC_CLK_TCK));
}

/*
 * sched - from /proc/PID/schedstat: the nanoseconds process pid has
 * waited on a run queue (ready, but another process had the CPU) and
 * the times it was scheduled; 0, or -1 if unknown
 */
static int
sched(pid_t pid, double *wait_ms, double *slices)
{
	char path[64], buf[256], *end;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return (-1);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	(void)strtoull(buf, &end, 10); /* time on the CPU */
	*wait_ms = (double)strtoull(end, &end, 10) / 1e6;
	*slices = (double)strtoull(end, &end, 10);
	return (0);
}

/* loadavg - the 1-minute load average, as text */
static const char *
loadavg(char *buf, size_t len)
{
	FILE *fp = fopen("/proc/loadavg", "r");
	char *sp;

	snprintf(buf, len, "?");
	if (fp != NULL) {
		if (fgets(buf, (int)len, fp) != NULL && (sp = strchr(buf, ' ')) != NULL)
			*sp = '\0';
		fclose(fp);
	}
	return (buf);
}

static int
dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

int
main(int argc, char **argv)
{
	char logp[512], confp[512], statp[512], buf[65536], line[256];
	double rate = argc > 4 ? strtod(argv[4], NULL) : 20000, t0, next, start, end;
	int pfd[2], fd, status;
	long lines = 0;
	size_t have = 0;
	pid_t pid;
	FILE *in, *fp;
	char *l = NULL;
	size_t lcap = 0;
	ssize_t n;
	long hwm = -1;
	double cpu0, cpu1, cpu2, busy_s, w0 = 0, w1 = 0, n0 = 0, n1 = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: latency SENDGUARD LOG_IN WORKDIR [LINES_PER_SEC]\n");
		return (2);
	}
	qts = calloc(MAXQ, sizeof(*qts));
	lat = calloc(MAXQ, sizeof(*lat));
	lat2 = calloc(MAXQ, sizeof(*lat2));
	snprintf(logp, sizeof(logp), "%s/mail.log", argv[3]);
	snprintf(confp, sizeof(confp), "%s/agent.conf", argv[3]);
	if ((fp = fopen(confp, "w")) == NULL || (in = fopen(argv[2], "r")) == NULL) {
		perror("latency");
		return (1);
	}
	fprintf(fp,
	    "[agent]\nlog = %s\nstate = %s/state.db\nsocket = %s/ctl.sock\n"
	    "start_at = beginning\nretention = 7d\nmode = monitor\n"
	    "[limit s]\nby = sasl\nmessages = 3/10m, 1000/1d\nrecipients = 10/10m\nips = 2/1h\n"
	    "[limit u]\nby = uid\nmessages = 5/10m\n"
	    "[limit f]\nby = sender\nmessages = 5/10m\n"
	    "[limit i]\nby = ip\nmessages = 10/10m\n",
	    logp, argv[3], argv[3]);
	fclose(fp);
	if ((fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644)) < 0 || pipe(pfd) < 0) {
		perror("latency");
		fclose(in);
		return (1);
	}
	if ((pid = fork()) == 0) {
		dup2(pfd[1], 2);
		close(pfd[0]);
		execl(argv[1], argv[1], "run", "-f", "-c", confp, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	usleep(300000);
	cpu0 = cpu_s(pid);
	(void)sched(pid, &w0, &n0);
	t0 = next = start = now();
	while ((n = getline(&l, &lcap, in)) > 0) {
		double t;

		while ((t = now()) < next) {
			drain(pfd[0], buf, &have, sizeof(buf));
			usleep(200);
		}
		if (write(fd, l, (size_t)n) != n) {
			perror("write");
			return (1);
		}
		note_active(l, (size_t)n, now());
		lines++;
		next = t0 + (double)lines / rate;
	}
	end = now();
	/* let the last verdicts arrive */
	for (t0 = now(); now() - t0 < 2.0;) {
		drain(pfd[0], buf, &have, sizeof(buf));
		usleep(1000);
	}
	cpu1 = cpu_s(pid);
	(void)sched(pid, &w1, &n1);
	busy_s = now() - start;
	/* nothing to read: the daemon should sleep */
	for (t0 = now(); now() - t0 < 2.0;) {
		drain(pfd[0], buf, &have, sizeof(buf));
		usleep(20000);
	}
	cpu2 = cpu_s(pid);
	snprintf(statp, sizeof(statp), "/proc/%d/status", (int)pid);
	if ((fp = fopen(statp, "r")) != NULL) {
		while (fgets(line, sizeof(line), fp))
			if (strncmp(line, "VmHWM:", 6) == 0)
				hwm = strtol(line + 6, NULL, 10);
		fclose(fp);
	}
	kill(pid, SIGTERM);
	/* keep reading its stderr until it exits, or it may block writing */
	while (waitpid(pid, &status, WNOHANG) == 0) {
		drain(pfd[0], buf, &have, sizeof(buf));
		usleep(10000);
	}
	qsort(lat, nlat, sizeof(*lat), dcmp);
	qsort(lat2, nlat2, sizeof(*lat2), dcmp);
	printf("lines: %ld in %.1f s (%.0f lines/s)\n", lines, end - start,
	    (double)lines / (end - start));
	if (nlat > 0)
		printf("sasl/uid verdicts: %zu  append-to-verdict latency: p50 %.2f ms  p90 %.2f "
		       "ms  "
		       "p99 %.2f ms  max %.2f ms\n",
		    nlat, lat[nlat / 2] * 1e3, lat[nlat * 9 / 10] * 1e3, lat[nlat * 99 / 100] * 1e3,
		    lat[nlat - 1] * 1e3);
	if (nlat2 > 0)
		printf("sender/ip verdicts: %zu  (unauthenticated mail is held back 30 s of log "
		       "time\n"
		       "  for a late content-filter hand-off)  p50 %.0f ms  p99 %.0f ms\n",
		    nlat2, lat2[nlat2 / 2] * 1e3, lat2[nlat2 * 99 / 100] * 1e3);
	printf("daemon CPU: %.2f s in %.1f s (%.1f%% of a core) while the lines flowed; "
	       "idle: %.1f%% of a core over 2 s\n",
	    cpu1 - cpu0, busy_s, 100 * (cpu1 - cpu0) / busy_s, 100 * (cpu2 - cpu1) / 2.0);
	if (n1 > n0)
		printf("daemon waited for a CPU (run queue) %.0f ms in all while the lines flowed: "
		       "%.2f ms per time it ran (%.0f times; load average %s)\n",
		    w1 - w0, (w1 - w0) / (n1 - n0), n1 - n0, loadavg(line, sizeof(line)));
	printf("daemon peak RSS: %.1f MiB\n", (double)hwm / 1024);
	free(l);
	fclose(in);
	return (0);
}
