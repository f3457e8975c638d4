/*
 * runcmd.h - run the sendguard binary from a test: fork + execve, stdin
 * from a file (or /dev/null), stdout and stderr captured into memory.
 * Header-only, for tests.
 */
#ifndef SG_TEST_RUNCMD_H
#define SG_TEST_RUNCMD_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct cmdres {
	int	status;			/* exit code, or 128 + signal */
	char   *out, *err;		/* NUL-terminated, caller frees */
};

static inline const char *
sg_bin(void)
{
	const char *b = getenv("SG_BIN");

	return (b ? b : "build/san/sendguard");
}

static inline const char *
sg_shared(void)
{
	const char *s = getenv("SG_SHARED");

	return (s ? s : "../shared");
}

static inline char *
slurp_fd(int fd)
{
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	ssize_t r;

	lseek(fd, 0, SEEK_SET);
	while ((r = read(fd, b + n, cap - n - 1)) > 0) {
		n += (size_t)r;
		if (cap - n < 2)
			b = realloc(b, cap *= 2);
	}
	b[n] = '\0';
	return (b);
}

/* runcmd - argv[0] is the program path; infile NULL means /dev/null */
static inline struct cmdres
runcmd(const char *const argv[], const char *infile)
{
	struct cmdres r = { -1, NULL, NULL };
	char *av[64];
	int i;
	FILE *o = tmpfile(), *e = tmpfile();
	pid_t pid;
	int st;

	if (o == NULL || e == NULL)
		return (r);
	for (i = 0; i < 63 && argv[i] != NULL; i++)
		av[i] = (char *)(uintptr_t)argv[i];	/* execve's prototype predates const */
	av[i] = NULL;
	if ((pid = fork()) == 0) {
		int in = open(infile ? infile : "/dev/null", O_RDONLY);

		dup2(in, 0);
		dup2(fileno(o), 1);
		dup2(fileno(e), 2);
		execve(av[0], av, environ);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r.out = slurp_fd(fileno(o));
	r.err = slurp_fd(fileno(e));
	fclose(o);
	fclose(e);
	return (r);
}

static inline void
cmdres_free(struct cmdres *r)
{
	free(r->out);
	free(r->err);
}

/* sg_msleep - sleep ms milliseconds, through signals */
static inline void
sg_msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* sg_jnum - the number after key in a JSON text (0 when absent) */
static inline unsigned long long
sg_jnum(const char *js, const char *key)
{
	const char *p = strstr(js, key);

	return (p ? strtoull(p + strlen(key), NULL, 10) : 0);
}

/* sg_spawn_daemon - `sendguard run -f -c conf`, stdout and stderr appended to errpath */
static inline pid_t
sg_spawn_daemon(const char *conf, const char *errpath)
{
	pid_t pid;

	if ((pid = fork()) == 0) {
		int e = open(errpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
		int n = open("/dev/null", O_RDONLY);

		dup2(n, 0);
		dup2(e, 1);
		dup2(e, 2);
		execl(sg_bin(), sg_bin(), "run", "-f", "-c", conf, (char *)NULL);
		_exit(127);
	}
	return (pid);
}

/* sg_kill_wait - send sig and reap; the wait status, or -1 */
static inline int
sg_kill_wait(pid_t pid, int sig)
{
	int st;

	kill(pid, sig);
	return (waitpid(pid, &st, 0) == pid ? st : -1);
}

/* sg_status_json - `status --json -c conf` output (caller frees), NULL if it failed */
static inline char *
sg_status_json(const char *conf)
{
	const char *argv[] = { sg_bin(), "status", "--json", "-c", conf, NULL };
	struct cmdres r = runcmd(argv, NULL);

	if (r.status != 0) {
		cmdres_free(&r);
		return (NULL);
	}
	free(r.err);
	return (r.out);
}

#endif
