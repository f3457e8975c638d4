/*
 * NAME
 *	priv - private directories and files (the daemon's state, lock and
 *	socket)
 * SUMMARY
 *	priv_dir() makes a missing directory mode 0700 and checks one that
 *	exists: a directory (a symbolic link to one is followed: an
 *	administrator may move the state), owned by us or by root, and
 *	writable by nobody else.  Group or other write permission, with or
 *	without the sticky bit, is refused: whoever may write there can
 *	put a symbolic link or a file of their own where ours will be.
 *	A directory that others may only read or search is accepted, and
 *	its mode is given back so the caller can say so: the files in it
 *	are 0600 anyway, others see only their names.
 *
 *	priv_open() opens a file without following a symbolic link in its
 *	last component (O_NOFOLLOW), checks that it is a regular file owned
 *	by us, and takes group and other permissions away from it (a state
 *	file of an older version was 0644): the mode it had is given back
 *	when it changed, so the caller can say so.  With O_CREAT a new file
 *	is made 0600.
 *	Uses nothing of the project (the lower floor).
 * RETURNS
 *	priv_dir: 1 made, 0 there and private enough, -1 with err.
 *	priv_open: the descriptor (close-on-exec), or -1 with err and errno
 *	(ENOENT for a missing file, ELOOP for a symbolic link).  Never prints
 *	or exits.
 * UNTRUSTED INPUT
 *	Paths come from the configuration (root's); the directory's other
 *	writers, if any, are what this guards against.
 */
#ifndef SG_PRIV_H
#define SG_PRIV_H

#include <stddef.h>
#include <sys/types.h>

/*
 * priv_dir - dir made 0700 when missing (its parent must exist), or
 * checked; *mode (may be NULL) gets its permission bits.
 */
int priv_dir(const char *dir, mode_t *mode, char *err, size_t errlen);

/*
 * priv_dir_of - priv_dir() of the directory path is in ("." for a bare
 * name, "/" for a name at the root).
 */
int priv_dir_of(const char *path, mode_t *mode, char *err, size_t errlen);

/*
 * priv_open - open(path, oflags | O_NOFOLLOW | O_CLOEXEC, 0600), checked
 * and made private as above; *was (may be NULL) gets the permission bits
 * it had when they were changed, else 0.
 */
int priv_open(const char *path, int oflags, mode_t *was, char *err, size_t errlen);

#endif
