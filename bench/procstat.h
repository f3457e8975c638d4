/*
 * NAME
 *	procstat - a process's CPU time from /proc/PID/stat, for the bench
 *	tools (header only: each bench C file is a program of its own)
 * UNTRUSTED INPUT
 *	None: the kernel's own file.
 */
#ifndef SG_BENCH_PROCSTAT_H
#define SG_BENCH_PROCSTAT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* procstat_ticks - user + system time of pid, clock ticks; -1 if unknown */
static long long
procstat_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *fp;
	size_t n;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return (-1);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* fields 14 and 15, after the ")" that ends the command name */
	if ((p = strrchr(buf, ')')) == NULL)
		return (-1);
	for (i = 0; i < 12 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return (-1);
	ut = strtoull(p + 1, &p, 10);
	st = strtoull(p, NULL, 10);
	return ((long long)(ut + st));
}

#endif
