/*
 * NAME
 *	control - control socket helpers (see control.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/control.h"

/* mkaddr - fill sun from path; -1 if it does not fit */
static int
mkaddr(struct sockaddr_un *sun, const char *path)
{
	size_t n = strlen(path);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (n == 0 || n >= sizeof(sun->sun_path))
		return (-1);
	memcpy(sun->sun_path, path, n + 1);
	return (0);
}

/* mkparent - create the socket's directory if it is missing (one level) */
static void
mkparent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return;
	*slash = '\0';
	(void)mkdir(dir, 0755);
}

int
control_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd, probe;
	mode_t old;

	if (mkaddr(&sun, path) < 0) {
		snprintf(err, errlen, "%s: socket path empty or too long", path);
		return (-1);
	}
	mkparent(path);
	/* a socket file nobody answers on is stale: replace it */
	if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
		if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(probe);
			snprintf(err, errlen, "%s: another sendguard is running", path);
			return (-1);
		}
		close(probe);
	}
	(void)unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		snprintf(err, errlen, "%s: socket: %s", path, strerror(errno));
		return (-1);
	}
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		snprintf(err, errlen, "%s: bind: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	umask(old);
	if (chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

int
control_request(const char *path, const char *req, FILE *out, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct timeval tv = { 60, 0 }; /* a block by hand answers when its programs ran */
	char buf[8192];
	size_t n = strlen(req);
	ssize_t r;
	int fd;

	if (mkaddr(&sun, path) < 0) {
		snprintf(err, errlen, "%s: socket path empty or too long", path);
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return (-1);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		close(fd);
		if (e == ENOENT || e == ECONNREFUSED)
			return (1);
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return (-1);
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (write(fd, req, n) != (ssize_t)n || write(fd, "\n", 1) != 1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)r, out);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}
