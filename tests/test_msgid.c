/*
 * NAME
 *	test_msgid - a message's identities built once equal limits_ident's
 * SUMMARY
 *	One row per message shape: every kind of msgid_make() must be the
 *	string limits_ident() gives (or NULL where it gives NULL), with its
 *	length, and exempt exactly where conf_exempt() says so.
 * UNTRUSTED INPUT
 *	None.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "count/conf.h"
#include "count/limits.h"
#include "count/msgid.h"

static char longval[IDENT_MAX + 8];
static char edge[IDENT_MAX];

static void
fill_values(void)
{
	size_t n;

	memset(longval, 'a', sizeof(longval) - 1);
	longval[sizeof(longval) - 1] = '\0';
	/* "sender:" + value is IDENT_MAX - 1 bytes: the longest that fits */
	n = IDENT_MAX - 1 - strlen("sender:");
	memset(edge, 'b', n);
	memcpy(edge + n - 12, "@example.org", 12);
	edge[n] = '\0';
}

Test(msgid, same_as_limits_ident)
{
	struct track_msg rows[] = {
		{ .sasl = "alice@example.com", .sender = "alice@example.com",
		    .client_ip = "192.0.2.1", .uid = -1 },
		{ .sasl = NULL, .sender = NULL, .client_ip = NULL, .uid = 0 },
		{ .sasl = NULL, .sender = "", .client_ip = "", .uid = 33 },
		{ .sasl = "bob", .sender = "bob@", .client_ip = "2001:db8::1", .uid = 2147483647 },
		{ .sasl = "x@y@z", .sender = "@", .client_ip = "ipv6:2001:db8::2", .uid = -1 },
		{ .sasl = longval, .sender = edge, .client_ip = longval, .uid = 1000 },
		{ .sasl = edge, .sender = longval, .client_ip = edge, .uid = -1 },
		{ .sasl = "news@lists.example.com", .sender = "newsletter@example.com",
		    .client_ip = "10.1.2.3", .uid = 0 },
	};
	char path[] = "/tmp/sg-msgid-XXXXXX";
	struct conf_errs errs;
	FILE *fp;
	int fd;
	struct conf *c;
	struct msgid ids;
	char buf[IDENT_MAX];
	const char *want;
	size_t i;
	int k;

	fill_values();
	cr_assert_geq(fd = mkstemp(path), 0);
	cr_assert_not_null(fp = fdopen(fd, "w"));
	fputs("[agent]\nmode = monitor\n[exempt]\nip = 127.0.0.1, 10.0.0.0/8\n"
	      "sasl_domain = lists.example.com\nsender = newsletter@example.com\nuid = 0\n",
	    fp);
	fclose(fp);
	memset(&errs, 0, sizeof(errs));
	cr_assert_eq(conf_load(path, &c, &errs), 0, "the test's configuration");
	unlink(path);
	cr_assert_not_null(c);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		msgid_make(&ids, c, &rows[i]);
		for (k = 0; k < BY_COUNT; k++) {
			want = limits_ident(&rows[i], (enum conf_by)k, buf, sizeof(buf));
			if (want == NULL) {
				cr_expect_null(ids.id[k], "row %zu kind %d: %s", i, k, ids.id[k]);
				continue;
			}
			cr_assert_not_null(ids.id[k], "row %zu kind %d: want %s", i, k, want);
			cr_expect_str_eq(ids.id[k], want, "row %zu kind %d", i, k);
			cr_expect_eq(ids.len[k], strlen(want), "row %zu kind %d", i, k);
			cr_expect_eq(ids.exempt[k],
			    conf_exempt(c, (enum conf_by)k, strchr(want, ':') + 1), "row %zu kind %d",
			    i, k);
		}
	}
	/* the last row is exempt in four kinds */
	msgid_make(&ids, c, &rows[sizeof(rows) / sizeof(rows[0]) - 1]);
	cr_expect(ids.exempt[BY_IP] && ids.exempt[BY_SASL_DOMAIN] && ids.exempt[BY_SENDER] &&
	    ids.exempt[BY_UID] && !ids.exempt[BY_SASL]);
	conf_free(c);
}
