/*
 * NAME
 *	zone - the process's local time zone, as the parsers' clock wants it
 * SUMMARY
 *	zone_local is the struct pf_zone (parsers/pf.h) that `audit`, `parse`
 *	and `run` lend to their struct pf_clock: local time is the time zone
 *	of the process (TZ, else /etc/localtime) through mktime() and
 *	localtime_r(), read by the C library when first needed and again
 *	after tzset().  A skipped hour (DST starts) and a repeated one (DST
 *	ends) resolve as mktime() with tm_isdst = -1 resolves them.
 *	The parsers stay pure: this is the one place of the counting path
 *	that asks the C library about local time for a log line.
 * RETURNS
 *	0 / -1 through the pf_zone functions; never prints, never exits.
 */
#ifndef SG_ZONE_H
#define SG_ZONE_H

#include "parsers/pf.h"

extern const struct pf_zone zone_local;

#endif
