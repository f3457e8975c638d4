/*
 * NAME
 *	memory - peak RSS of `sendguard run` against the number of distinct logins
 * SUMMARY
 *	memory SENDGUARD WORKDIR LOGINS [MESSAGES_PER_SEC]
 *
 *	Writes WORKDIR/mail.log: LOGINS distinct SASL logins, each sending one
 *	message, at MESSAGES_PER_SEC (default 50) of log time, ending a minute
 *	before now (every line in the past of the wall clock).  Each login has
 *	its own envelope sender and client address, so every kind of identity
 *	is new at every message.  A message is five lines: the submission
 *	smtpd client= line, cleanup, the qmgr (queue active) line, the smtp
 *	delivery and the qmgr removed.  Then starts `SENDGUARD run -f` on it
 *	(start_at = beginning, mode = monitor, rules with 10-minute windows
 *	for sasl, sender and ip, retention 1h), waits until the daemon has
 *	read the whole log and gone idle (it has read as many bytes as the log
 *	holds, /proc/PID/io, and its CPU time stops for half a second; the
 *	daemon's `status --json`, whose answer grows with the identities
 *	counted and would weigh on its memory, is asked only once the peak is
 *	taken, to confirm it read to the end), reads the daemon's peak RSS
 *	(VmHWM in /proc/PID/status) and stops it.
 *	Prints one line:
 *	  logins: N  messages/s: R  log span: S s  lines: L  read in: T s  peak RSS: M MiB
 *	With the same rate, the windows hold the same number of logins
 *	whatever N is: a daemon whose memory follows the windows peaks alike
 *	for 100,000 and 400,000 logins.  libc only; POSIX.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/procstat.h"

/* now_s - the monotonic clock, seconds */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* stamp - t as RFC 3339 with microseconds (UTC) into buf */
static void
stamp(char *buf, size_t len, time_t t, long us)
{
	struct tm tm;
	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06ld+00:00", us % 1000000);
}

/* write_log - the log of n logins at rate messages a second; the number of lines */
static long
write_log(const char *path, long n, double rate)
{
	FILE *fp = fopen(path, "w");
	time_t start = time(NULL) - 60 - (time_t)((double)n / rate);
	char tb[64], qid[24];
	long i, lines = 0;

	if (fp == NULL) {
		perror(path);
		exit(1);
	}
	for (i = 0; i < n; i++) {
		double at = (double)i / rate;
		time_t t = start + (time_t)at;
		long us = (long)((at - (double)(long)at) * 1e6);
		unsigned a = (unsigned)i;

		snprintf(qid, sizeof(qid), "%010lX", i + 1);
		stamp(tb, sizeof(tb), t, us);
		fprintf(fp,
		    "%s mx postfix/submission/smtpd[%ld]: %s: client=c%ld.example.net"
		    "[10.%u.%u.%u], sasl_method=PLAIN, sasl_username=user%ld@example.com\n",
		    tb, 1000 + i % 500, qid, i, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff, i);
		fprintf(fp, "%s mx postfix/cleanup[%ld]: %s: message-id=<m%ld@example.com>\n", tb,
		    2000 + i % 50, qid, i);
		fprintf(fp,
		    "%s mx postfix/qmgr[99]: %s: from=<user%ld@example.com>, size=%ld, nrcpt=1 "
		    "(queue active)\n",
		    tb, qid, i, 1000 + i % 9000);
		stamp(tb, sizeof(tb), t, us < 999000 ? us + 1000 : us);
		fprintf(fp,
		    "%s mx postfix/smtp[%ld]: %s: to=<r%ld@example.org>, relay=mx.example.org"
		    "[192.0.2.25]:25, delay=0.4, delays=0.1/0/0.1/0.2, dsn=2.0.0, status=sent "
		    "(250 2.0.0 Ok)\n",
		    tb, 3000 + i % 100, qid, i);
		fprintf(fp, "%s mx postfix/qmgr[99]: %s: removed\n", tb, qid);
		lines += 5;
	}
	if (fclose(fp) != 0) {
		perror(path);
		exit(1);
	}
	return (lines);
}

/* rchar - bytes pid has read so far (/proc/PID/io), -1 if unknown */
static long long
rchar(pid_t pid)
{
	char path[64], line[128];
	long long n = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "rchar:", 6) == 0)
			n = strtoll(line + 6, NULL, 10);
	fclose(fp);
	return (n);
}

/* run_out - argv's standard output (at most len - 1 bytes) into buf; its exit status */
static int
run_out(char *const argv[], char *buf, size_t len)
{
	int p[2], st;
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	if (pipe(p) < 0)
		return (-1);
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(p[1], 1);
		dup2(null, 2);
		close(p[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	while ((r = read(p[0], buf + n, len - 1 - n)) > 0 || (r < 0 && errno == EINTR)) {
		n += r > 0 ? (size_t)r : 0;
		if (n == len - 1) /* keep the tail: the daemon object is last */
			memmove(buf, buf + len / 2, (n -= len / 2));
	}
	buf[n] = '\0';
	close(p[0]);
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return (-1);
	return (WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* offset - the daemon's read offset from its status, -1 if it does not answer */
static long long
offset(const char *sg, const char *conf)
{
	static char out[1 << 16];
	char status[] = "status", json[] = "--json", c[] = "-c";
	char *argv[] = { (char *)(uintptr_t)sg, status, json, c, (char *)(uintptr_t)conf, NULL };
	const char *p;

	if (run_out(argv, out, sizeof(out)) != 0 || (p = strstr(out, "\"offset\": ")) == NULL)
		return (-1);
	return (strtoll(p + 10, NULL, 10));
}

/* hwm - VmHWM of pid in KiB, -1 if unknown */
static long
hwm(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(fp);
	return (kib);
}

int
main(int argc, char **argv)
{
	char logp[512], confp[512], errp[512];
	double rate = argc > 4 ? strtod(argv[4], NULL) : 50, t0, t1;
	long n, lines, kib;
	struct stat st;
	FILE *fp;
	pid_t pid;
	int status, idle;

	if (argc < 4 || (n = strtol(argv[3], NULL, 10)) <= 0 || rate <= 0) {
		fprintf(stderr, "usage: memory SENDGUARD WORKDIR LOGINS [MESSAGES_PER_SEC]\n");
		return (2);
	}
	snprintf(logp, sizeof(logp), "%s/mail.log", argv[2]);
	snprintf(confp, sizeof(confp), "%s/agent.conf", argv[2]);
	snprintf(errp, sizeof(errp), "%s/daemon.err", argv[2]);
	lines = write_log(logp, n, rate);
	if ((fp = fopen(confp, "w")) == NULL) {
		perror(confp);
		return (1);
	}
	fprintf(fp,
	    "[agent]\nlog = %s\nstate = %s/state.db\nsocket = %s/ctl.sock\n"
	    "start_at = beginning\nretention = 1h\nmode = monitor\n"
	    "[limit s]\nby = sasl\nmessages = 3/10m\nrecipients = 10/10m\nips = 2/10m\n"
	    "[limit f]\nby = sender\nmessages = 5/10m\n"
	    "[limit i]\nby = ip\nmessages = 10/10m\n",
	    logp, argv[2], argv[2]);
	fclose(fp);
	if (stat(logp, &st) < 0) {
		perror(logp);
		return (1);
	}
	t0 = now_s();
	if ((pid = fork()) == 0) {
		int e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(e, 1);
		dup2(e, 2);
		execl(argv[1], argv[1], "run", "-f", "-c", confp, (char *)NULL);
		_exit(127);
	}
	/*
	 * read as many bytes as the log has (and the database's), then idle
	 * for half a second: its last batch is committed; status confirms it
	 * afterwards, once the peak is taken
	 */
	for (idle = 0; idle < 5;) {
		long long ticks = procstat_ticks(pid);

		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "memory: the daemon stopped; see %s\n", errp);
			return (1);
		}
		usleep(100000);
		idle = rchar(pid) >= (long long)st.st_size && procstat_ticks(pid) == ticks
		    ? idle + 1
		    : 0;
	}
	t1 = now_s() - 0.5;
	kib = hwm(pid);
	if (offset(argv[1], confp) != (long long)st.st_size) {
		fprintf(stderr, "memory: the daemon went idle before the end of the log\n");
		kib = -1;
	}
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	printf("logins: %ld  messages/s: %.0f  log span: %.0f s  lines: %ld  read in: %.1f s  "
	       "peak RSS: %.1f MiB\n",
	    n, rate, (double)n / rate, lines, t1 - t0, (double)kib / 1024);
	return (kib < 0 ? 1 : 0);
}
