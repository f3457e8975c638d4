/*
 * test_journal_fn - the small functions of count/journal, table by table:
 * journal_spec() (which `log =` values name a journal, and its path),
 * journal_postfix_comm() (which _COMM is a Postfix program: the daemons
 * master starts and postsuper, not sendmail, postdrop or postlog, which
 * any user runs), journal_limit() (an untrusted entry is reported at most
 * once a minute, with how many were held back) and journal_user_uid()
 * (postfix_user by name or number).  The journal itself, through the
 * real binary, is test_journal.c's.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "count/journal.h"

Test(journal_fn, spec_names_a_journal)
{
	static const struct {
		const char *log;
		int is;
		const char *path;
	} tab[] = {
		{ "journal", 1, NULL },
		{ "journal:", 1, NULL },
		{ "journal:/var/log/journal/remote", 1, "/var/log/journal/remote" },
		{ "journal:x.journal", 1, "x.journal" },
		{ "journalx", 0, NULL },
		{ "/var/log/journal", 0, NULL },
		{ "-", 0, NULL },
		{ "Journal", 0, NULL },
	};
	const char *path;
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		cr_expect_eq(journal_spec(tab[i].log, &path), tab[i].is, "%s", tab[i].log);
		if (tab[i].path == NULL)
			cr_expect_null(path, "%s", tab[i].log);
		else
			cr_expect_str_eq(path, tab[i].path, "%s", tab[i].log);
	}
}

Test(journal_fn, trusted_programs)
{
	static const struct {
		const char *comm;
		int trusted;
	} tab[] = {
		{ "smtpd", 1 },
		{ "qmgr", 1 },
		{ "cleanup", 1 },
		{ "pickup", 1 },
		{ "postsuper", 1 },
		{ "trivial-rewrite", 1 },
		{ "logger", 0 },
		{ "sendmail", 0 },
		{ "postdrop", 0 },
		{ "postlog", 0 },
		{ "smtpd2", 0 },
		{ "smtp", 1 },
		{ "", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		cr_expect_eq(journal_postfix_comm(tab[i].comm, strlen(tab[i].comm)), tab[i].trusted,
		    "%s", tab[i].comm);
	cr_expect_eq(journal_postfix_comm(NULL, 0), 0);
}

Test(journal_fn, one_report_a_minute)
{
	/* seconds since the first, and whether a report is due with how many held */
	static const struct {
		double at;
		int due;
		unsigned long long held;
	} tab[] = {
		{ 0, 1, 0 },
		{ 1, 0, 0 },
		{ 59.999999, 0, 0 },
		{ 60, 1, 2 },
		{ 61, 0, 0 },
		{ 200, 1, 1 },
		{ 260, 1, 0 },
	};
	struct journal_limiter l;
	uint64_t held;
	size_t i;
	int64_t t0 = 1772409600 * (int64_t)1000000;

	memset(&l, 0, sizeof(l));
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		held = 99;
		cr_expect_eq(journal_limit(&l, t0 + (int64_t)(tab[i].at * 1e6 + 0.5), &held), tab[i].due,
		    "at %g s", tab[i].at);
		if (tab[i].due)
			cr_expect_eq(held, tab[i].held, "at %g s: %llu held", tab[i].at,
			    (unsigned long long)held);
	}
}

Test(journal_fn, user_uid)
{
	char err[300];
	long uid;

	cr_expect_eq(journal_user_uid("107", &uid, err, sizeof(err)), 0);
	cr_expect_eq(uid, 107);
	cr_expect_eq(journal_user_uid("root", &uid, err, sizeof(err)), 0);
	cr_expect_eq(uid, 0);
	cr_expect_eq(journal_user_uid("no-such-user-sg", &uid, err, sizeof(err)), -1);
	cr_expect_not_null(strstr(err, "postfix_user 'no-such-user-sg' is not a user on this host"),
	    "%s", err);
}
