/*
 * NAME
 *	priv - private directories and files (see priv.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/priv.h"

/* priv_dir - make dir 0700, or check the one that is there */
int
priv_dir(const char *dir, mode_t *mode, char *err, size_t errlen)
{
	struct stat st;
	int made = 0;

	if (mkdir(dir, 0700) == 0)
		made = 1;
	else if (errno != EEXIST) {
		snprintf(err, errlen, "%s: cannot make the directory: %s", dir, strerror(errno));
		return (-1);
	}
	if (stat(dir, &st) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return (-1);
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		return (-1);
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(err, errlen, "%s: owned by uid %lu, not by us (uid %lu) or root", dir,
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
		return (-1);
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(err, errlen,
		    "%s: writable by others (mode %04o): whoever can write there can "
		    "replace our files; use a directory of its own (chmod go-w, or mode 0700)",
		    dir, (unsigned)(st.st_mode & 07777));
		return (-1);
	}
	if (mode != NULL)
		*mode = st.st_mode & 07777;
	return (made);
}

/* priv_dir_of - priv_dir() of the directory path is in */
int
priv_dir_of(const char *path, mode_t *mode, char *err, size_t errlen)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL)
		return (priv_dir(".", mode, err, errlen));
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(dir)) {
		snprintf(err, errlen, "%s: path too long", path);
		return (-1);
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	return (priv_dir(dir, mode, err, errlen));
}

/* priv_open - open without following a symlink, check, take group and other bits away */
int
priv_open(const char *path, int oflags, mode_t *was, char *err, size_t errlen)
{
	struct stat st;
	int fd, e;

	if (was != NULL)
		*was = 0;
	if ((fd = open(path, oflags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600)) < 0) {
		e = errno;
		if (e == ELOOP)
			snprintf(err, errlen, "%s: a symbolic link: refusing to follow it", path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return (-1);
	}
	e = 0;
	if (fstat(fd, &st) < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
	} else if (!S_ISREG(st.st_mode)) {
		e = EPERM;
		snprintf(err, errlen, "%s: not a regular file", path);
	} else if (st.st_uid != geteuid()) {
		e = EPERM;
		snprintf(err, errlen, "%s: owned by uid %lu, not by us (uid %lu)", path,
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
	}
	if (e != 0) {
		(void)close(fd);
		errno = e;
		return (-1);
	}
	if ((st.st_mode & 077) != 0) {
		if (fchmod(fd, st.st_mode & 0700) < 0) {
			e = errno;
			snprintf(err, errlen, "%s: cannot make it private (mode %04o): %s", path,
			    (unsigned)(st.st_mode & 07777), strerror(e));
			(void)close(fd);
			errno = e;
			return (-1);
		}
		if (was != NULL)
			*was = st.st_mode & 07777;
	}
	return (fd);
}
