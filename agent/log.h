/*
 * NAME
 *	log - the agent's diagnostics: stderr (foreground, commands) or syslog
 * SUMMARY
 *	log_warn appends strerror(errno); fatal/fatalx exit 3 / the given code.
 *	Only agent/ calls these; libraries return errors to it.
 */
#ifndef SG_LOG_H
#define SG_LOG_H

#include <stdarg.h>

void	log_init(int to_syslog, int verbose);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(int code, const char *, ...) __attribute__((format(printf, 2, 3), noreturn));

#endif
