/*
 * NAME
 *	test_conf - agent.conf reader, check-config, example and man page
 * SUMMARY
 *	Tables of config snippets with the error each must give (file and
 *	line), of good values and what they become, of globs, durations and
 *	defaults; agent.conf.example and man/sendguard.conf.5 must agree with
 *	the key table; `sendguard check-config` is run on sample files.
 * UNTRUSTED INPUT
 *	None: the inputs are fixed here and in samples/conf/.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/cmds.h"
#include "count/conf.h"

/* ---- helpers ---- */

/* write_tmp - text into a new temporary file; its path in path */
static void
write_tmp(const char *text, size_t len, char *path, size_t plen)
{
	int fd;

	snprintf(path, plen, "/tmp/sg-test-conf-XXXXXX");
	fd = mkstemp(path);
	cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* load_text - conf_load() on text written to a temporary file */
static int
load_text(const char *text, struct conf **c, struct conf_errs *e, char *path, size_t plen)
{
	int rc;

	write_tmp(text, strlen(text), path, plen);
	rc = conf_load(path, c, e);
	unlink(path);
	return (rc);
}

/* src_path - name relative to the project root: $SG_SRCDIR, or found from the cwd */
static const char *
src_path(const char *name, char *buf, size_t len)
{
	static const char *const up[] = { "", "../", "../../", "../../../" };
	const char *top = getenv("SG_SRCDIR");
	size_t i;

	if (top != NULL && *top != '\0') {
		snprintf(buf, len, "%s/%s", top, name);
		if (access(buf, R_OK) == 0)
			return (buf);
	}
	for (i = 0; i < sizeof(up) / sizeof(up[0]); i++) {
		snprintf(buf, len, "%s%s", up[i], name);
		if (access(buf, R_OK) == 0)
			return (buf);
	}
	cr_assert_fail("cannot find %s from the current directory", name);
	return (NULL);
}

/* read_all - a whole file, NUL-terminated (caller frees) */
static char *
read_all(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	long n;

	cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = calloc(1, (size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return (buf);
}

/* join_errs - every error message, one per line, for failure reports */
static void
join_errs(const struct conf_errs *e, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < e->n && used < len; i++) {
		int r = snprintf(buf + used, len - used, "  %s\n", e->msg[i]);
		if (r < 0)
			break;
		used += (size_t)r;
	}
}

/* ---- errors: one row per mistake, the line it is on, what is said ---- */

struct err_row {
	const char *name;
	const char *text;
	int	line;		/* 0: no line ("path: message") */
	const char *msg;	/* substring of the message */
	size_t	nerr;		/* errors the whole text gives */
};

#define LIM "[limit r]\nby = sasl\n"	/* lines 1-2 of a valid rule start */

static const struct err_row err_rows[] = {
	{ "unknown key", "[agent]\nbogus = 1\n", 2, "unknown key 'bogus' in [agent]", 1 },
	{ "unknown key in limit", LIM "messages = 1/1h\nmesages = 2/1h\n", 4, "unknown key 'mesages' in [limit]", 1 },
	{ "unknown section, keys in it ignored", "[nope]\nx = 1\ny = 2\n", 1, "unknown section [nope]", 1 },
	{ "unknown action section", "[action frob]\n", 1, "unknown section [action frob]", 1 },
	{ "section names are lower case", "[Agent]\n", 1, "unknown section [Agent]", 1 },
	{ "section without ]", "[agent\n", 1, "section header without ']'", 1 },
	{ "key before any section", "log = /a\n[agent]\n", 1, "'log' is outside of any section", 1 },
	{ "duplicate key", "[agent]\nlog = /a\n\nlog = /b\n", 4, "log: given twice (first at line 2)", 1 },
	{ "duplicate key in merged section", "[agent]\nmode = monitor\n[exempt]\n[agent]\nmode = enforce\n", 5, "mode: given twice (first at line 2)", 1 },
	{ "duplicate key in a rule", LIM "messages = 1/1h\nby = uid\n", 4, "by: given twice (first at line 2)", 1 },
	{ "not key = value", "[agent]\nlog /var/log/mail.log\n", 2, "expected 'key = value' or '[section]'", 1 },
	{ "missing key", "[agent]\n = /a\n", 2, "missing key before '='", 1 },
	{ "empty value", "[agent]\nlog =\n", 2, "log: empty value", 1 },
	{ "value only a comment", "[agent]\nlog = # none\n", 2, "log: empty value", 1 },
	{ "control character", "[agent]\nlog = /a\x01z\n", 2, "control character in line", 1 },
	{ "CR inside a line", "[agent]\nlog = /a\rb\n", 2, "control character in line", 1 },
	{ "bad enum", "[agent]\nmode = fast\n", 2, "mode: unknown value 'fast' (expected enforce or monitor)", 1 },
	{ "bad start_at", "[agent]\nstart_at = middle\n", 2, "start_at: unknown value 'middle' (expected end or beginning)", 1 },
	{ "bad duration unit", "[agent]\nretention = 7x\n", 2, "retention: bad duration '7x'", 1 },
	{ "negative duration", "[agent]\nretention = -7d\n", 2, "retention: bad duration '-7d'", 1 },
	{ "duration too short", "[agent]\nretention = 10s\n", 2, "retention: 10s is out of range (1m to 3650d)", 1 },
	{ "duration too long", "[agent]\nretention = 4000d\n", 2, "retention: 4000d is out of range", 1 },
	{ "relative program", "[agent]\npostsuper = postsuper\n", 2, "postsuper: program path must be absolute, not 'postsuper'", 1 },
	{ "relative sendmail", "[agent]\nsendmail = ./sendmail\n", 2, "sendmail: program path must be absolute", 1 },
	{ "relative state", "[agent]\nstate = state.db\n", 2, "state: path must be absolute, not 'state.db'", 1 },
	{ "only log may be -", "[agent]\nstate = -\n", 2, "state: path must be absolute, not '-'", 1 },
	{ "relative journal path", "[agent]\nlog = journal:var/log/journal\n", 2, "log: the journal's path must be absolute, not 'var/log/journal'", 1 },
	{ "journal word glued on", "[agent]\nlog = journald\n", 2, "log: path must be absolute, not 'journald'", 1 },
	{ "only log may be a journal", "[agent]\nstate = journal\n", 2, "state: path must be absolute, not 'journal'", 1 },
	{ "postfix_user with a blank", "[agent]\npostfix_user = post fix\n", 2, "postfix_user: 'post fix' is not a name (1 to 64 letters, digits, '.', '-' or '_')", 1 },
	{ "postfix_user too long", "[agent]\npostfix_user = a2345678901234567890123456789012345678901234567890123456789012345\n", 2, "postfix_user: 'a234", 1 },
	{ "relative map", "[action block]\nsasl_map = sendguard_sasl\n", 2, "sasl_map: path must be absolute", 1 },
	{ "limit without name", "[limit]\n", 1, "[limit] needs a name", 1 },
	{ "bad limit name", "[limit a/b]\nby = sasl\nmessages = 1/1h\n", 1, "bad limit name 'a/b'", 1 },
	{ "limit name too long", "[limit aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\nby = sasl\nmessages = 1/1h\n", 1, "bad limit name", 1 },
	{ "limit defined twice", LIM "messages = 1/1h\n[limit r]\nby = uid\nmessages = 1/1h\n", 4, "limit 'r' defined twice (first at line 1)", 1 },
	{ "by missing", "[limit r]\nmessages = 1/1h\n", 1, "limit 'r': 'by' is missing", 1 },
	{ "no threshold", LIM "actions = hold\n", 1, "limit 'r': no threshold (set messages, recipients, ips, senders or bounces)", 1 },
	{ "empty limit", "[agent]\n[limit r]\n", 2, "limit 'r'", 2 },
	{ "bad by", "[limit r]\nby = group\nmessages = 1/1h\n", 2, "by: unknown value 'group' (expected sasl, uid, sender, ip, sasl_domain or sender_domain)", 1 },
	{ "window without count", LIM "messages = 100\n", 3, "messages: '100' is not COUNT/WINDOW", 1 },
	{ "window count zero", LIM "messages = 0/1h\n", 3, "messages: bad count '0'", 1 },
	{ "window count not a number", LIM "recipients = many/1h\n", 3, "recipients: bad count 'many'", 1 },
	{ "window count too big", LIM "messages = 99999999999999999999/1h\n", 3, "messages: bad count", 1 },
	{ "window bad duration", LIM "messages = 10/1y\n", 3, "messages: bad window '1y'", 1 },
	{ "window zero", LIM "messages = 10/0s\n", 3, "messages: window 0s is out of range", 1 },
	{ "window empty item", LIM "messages = 10/1h,,20/1d\n", 3, "messages: empty item in list", 1 },
	{ "window twice", LIM "messages = 10/1h, 20/60m\n", 3, "messages: window 1h given twice", 1 },
	{ "too many windows", LIM "messages = 1/1s,2/2s,3/3s,4/4s,5/5s,6/6s,7/7s,8/8s,9/9s\n", 3, "messages: 9 windows, at most 8", 1 },
	{ "eight windows are fine", LIM "messages = 1/1s,2/2s,3/3s,4/4s,5/5s,6/6s,7/7s,8/8s\nrecipients = x\n", 4, "recipients: '", 1 },
	{ "window longer than retention", LIM "messages = 10/1h, 10/8d\n", 3, "messages: window 8d is longer than retention (7d)", 1 },
	{ "retention set after the rule", LIM "recipients = 10/2d\n[agent]\nretention = 1d\n", 3, "recipients: window 2d is longer than retention (1d)", 1 },
	{ "ips with by uid", "[limit r]\nby = uid\nmessages = 1/1h\nips = 3/1h\n", 4, "ips: counts the client IPs of a login or sender; it cannot be used with by = uid", 1 },
	{ "ips with by ip", "[limit r]\nby = ip\nips = 3/1h\n", 3, "cannot be used with by = ip", 1 },
	{ "senders with by sender", "[limit r]\nby = sender\nsenders = 3/1h\n", 3, "senders: counts the envelope senders a login, uid, client or domain used; a sender identity has only one, so it cannot be used with by = sender", 1 },
	{ "bounces count bad", LIM "bounces = none/1h\n", 3, "bounces: bad count 'none'", 1 },
	{ "senders window twice", LIM "senders = 5/1h, 6/60m\n", 3, "senders: window 1h given twice", 1 },
	{ "block with by uid", "[limit r]\nby = uid\nmessages = 1/1h\nactions = hold, block\n", 4, "actions: block needs by = sasl or by = sender", 1 },
	{ "block with by ip", "[limit r]\nby = ip\nactions = block\nmessages = 1/1h\n", 3, "actions: block needs by = sasl or by = sender", 1 },
	{ "block with by sasl_domain", "[limit r]\nby = sasl_domain\nmessages = 1/1h\nactions = hold, block\n", 4,
	  "actions: block cannot work with by = sasl_domain: check_sasl_access looks up whole logins", 1 },
	{ "sasl_domain block, by given last", "[limit r]\nactions = block\nmessages = 1/1h\nby = SASL_Domain\n", 2, "never a bare domain", 1 },
	{ "domain match with an @", "[limit r]\nby = sender_domain\nmessages = 1/1h\nmatch = example.com, *@shop.example\n", 4,
	  "match: '*@shop.example' holds an '@'", 1 },
	{ "domain exempt with an @", "[exempt]\nsasl_domain = alice@example.com\n", 2, "sasl_domain: 'alice@example.com' holds an '@'", 1 },
	{ "exec without command", LIM "messages = 1/1h\nactions = exec\n", 4, "actions: exec needs 'command' in [action exec]", 1 },
	{ "unknown action", LIM "messages = 1/1h\nactions = hold, fly\n", 4, "actions: unknown action 'fly' (expected hold, block, notify or exec)", 1 },
	{ "action twice", LIM "messages = 1/1h\nactions = hold, HOLD\n", 4, "actions: 'hold' listed twice", 1 },
	{ "bad block_time", LIM "messages = 1/1h\nblock_time = soon\n", 4, "block_time: bad duration 'soon'", 1 },
	{ "block_time_factor below 1", LIM "messages = 1/1h\nblock_time_factor = 0.5\n", 4, "block_time_factor: 0.5 is out of range (1 to 100)", 1 },
	{ "block_time_factor not a number", LIM "messages = 1/1h\nblock_time_factor = 2x\n", 4, "block_time_factor: '2x' is not a number", 1 },
	{ "block_time_factor nan", LIM "messages = 1/1h\nblock_time_factor = nan\n", 4, "block_time_factor: 'nan' is not a number", 1 },
	{ "match item with a blank", LIM "messages = 1/1h\nmatch = a b, c\n", 4, "match: 'a b' contains a blank", 1 },
	{ "exempt item with a blank", "[exempt]\nsasl = alice bob\n", 2, "sasl: 'alice bob' contains a blank (separate items with commas)", 1 },
	{ "exempt empty item", "[exempt]\nuid = 0,,33\n", 2, "uid: empty item in list", 1 },
	{ "exempt unknown kind", "[exempt]\nuser = alice\n", 2, "unknown key 'user' in [exempt]", 1 },
	{ "reply with 2xx code", "[action block]\nreply = 250 fine\n", 2, "reply: must start with a 4NN or 5NN SMTP code", 1 },
	{ "reply with OK", "[action block]\nreply = OK\n", 2, "reply: must start with a 4NN or 5NN SMTP code or with REJECT, DEFER, DEFER_IF_PERMIT or HOLD, not 'OK'", 1 },
	{ "reply code too long", "[action block]\nreply = 4500 x\n", 2, "reply: must start", 1 },
	{ "reply with a tab", "[action block]\nreply = 450\tslow down\n", 2, "reply: only printable ASCII", 1 },
	{ "reply not ASCII", "[action block]\nreply = 450 tr\xc3\xa8s lent\n", 2, "reply: only printable ASCII", 1 },
	{ "unknown map type", "[action block]\nmap_type = texthash\n", 2, "map_type: unknown value 'texthash' (expected hash, btree, lmdb, cdb, dbm or sdbm)", 1 },
	{ "notify to two words", "[action notify]\nto = a@example.com b@example.com\n", 2, "to: 'a@example.com b@example.com' is not one mail address", 1 },
	{ "notify to a list", "[action notify]\nto = a@example.com,b@example.com\n", 2, "is not one mail address", 1 },
	{ "notify to an option", "[action notify]\nto = -oi\n", 2, "to: '-oi' is not a mail address", 1 },
	{ "notify to without domain", "[action notify]\nto = root@\n", 2, "to: 'root@' is not a mail address", 1 },
	{ "relative command", "[action exec]\ncommand = page-oncall %i\n", 2, "command: program must be an absolute path, not 'page-oncall'", 1 },
	{ "unknown token", "[action exec]\ncommand = /bin/page %i %x\n", 2, "command: unknown token '%x' in '%x'", 1 },
	{ "lone percent", "[action exec]\ncommand = /bin/page 100%\n", 2, "command: unknown token '%' in '100%'", 1 },
	{ "token in program path", "[action exec]\ncommand = /usr/bin/%i\n", 2, "command: the program path cannot hold a %-token", 1 },
	/* address ranges: only for ip, where a '/' that is not a range can never match */
	{ "range prefix over 32", "[exempt]\nip = 10.0.0.0/33\n", 2, "ip: '10.0.0.0/33' is not an address range: the prefix length 33 is over 32 for IPv4", 1 },
	{ "range prefix over 128", "[exempt]\nip = ::1, 2001:db8::/129\n", 2, "ip: '2001:db8::/129' is not an address range: the prefix length 129 is over 128", 1 },
	{ "range of a short address", "[agent]\n[exempt]\nip = 10.0.0/8\n", 3, "ip: '10.0.0/8' is not an address range: '10.0.0' is not an IPv4 or IPv6 address", 1 },
	{ "range of a word", "[exempt]\nip = foo/8\n", 2, "'foo/8' is not an address range", 1 },
	{ "range without bits", "[exempt]\nip = 10.0.0.0/\n", 2, "'10.0.0.0/' is not an address range: no prefix length after '/'", 1 },
	{ "range without address", "[exempt]\nip = /8\n", 2, "'/8' is not an address range: no address before '/'", 1 },
	{ "range bits not a number", "[exempt]\nip = 10.0.0.0/8a\n", 2, "the prefix length '8a' is not a number of bits", 1 },
	{ "range with a glob", "[exempt]\nip = 10.0.*.0/16\n", 2, "'10.0.*.0/16' is not an address range", 1 },
	{ "range with host bits", "[exempt]\nip = 10.1.2.3/8\n", 2, "'10.1.2.3/8' is not an address range: it has bits set after the first 8 (did you mean 10.0.0.0/8?)", 1 },
	{ "IPv6 range with host bits", "[exempt]\nip = 2001:db8::1/32\n", 2, "did you mean 2001:db8::/32?", 1 },
	{ "bad range in match", "[limit r]\nby = ip\nmessages = 1/1h\nmatch = 203.0.113.0/24, 198.51.100.0/33\n", 4,
	  "match: '198.51.100.0/33' is not an address range", 1 },
	{ "bad range in match, by given after it", "[limit r]\nmatch = 192.0.2.0/24,\t10.0.0/8\nmessages = 1/1h\nby = ip\n", 2,
	  "match: '10.0.0/8' is not an address range", 1 },
	{ "every bad range is named", "[exempt]\nip = 1.2.3.0/24, 1.2.3.0/40, ::/0, ::/200\n", 2, "'::/200' is not an address range", 2 },
	/* [cluster]: libpq parses conninfo; a password belongs in ~/.pgpass */
	{ "password in conninfo", "[cluster]\nconninfo = host=db user=sg password=secret\n", 2,
	  "conninfo: holds a password; give it in ~/.pgpass (or the file PGPASSFILE names)", 1 },
	{ "password in a URI", "[cluster]\nconninfo = postgresql://sg:secret@db/sendguard\n", 2,
	  "conninfo: holds a password", 1 },
	{ "conninfo libpq cannot read", "[cluster]\nconninfo = host=db dbname='sendguard\n", 2,
	  "conninfo: unterminated quoted string", 1 },
	{ "conninfo with an unknown word", "[cluster]\nconninfo = host=db colour=blue\n", 2,
	  "conninfo: invalid connection option \"colour\"", 1 },
	{ "bad node name", "[cluster]\nconninfo = host=db\nnode = mx 1\n", 3,
	  "node: 'mx 1' is not a node name (1 to 63 of A-Z a-z 0-9 _ . -)", 1 },
	{ "node without conninfo", "[cluster]\nnode = mx1\n", 2, "node: [cluster] needs conninfo too", 1 },
	{ "missing file", NULL, 0, "No such file or directory", 1 },
};

Test(conf, each_error_names_its_file_and_line)
{
	size_t i, j;

	for (i = 0; i < sizeof(err_rows) / sizeof(err_rows[0]); i++) {
		const struct err_row *r = &err_rows[i];
		struct conf_errs e = { NULL, 0 };
		struct conf *c = (struct conf *)1;
		char path[64], prefix[128], all[4096];
		int rc, found = 0;

		if (r->text == NULL) {
			snprintf(path, sizeof(path), "/tmp/sg-test-conf-does-not-exist");
			rc = conf_load(path, &c, &e);
		} else
			rc = load_text(r->text, &c, &e, path, sizeof(path));
		join_errs(&e, all, sizeof(all));
		cr_expect_eq(rc, -1, "%s: conf_load returned %d", r->name, rc);
		cr_expect_null(c, "%s: *out must be NULL on error", r->name);
		cr_expect_eq(e.n, r->nerr, "%s: %zu errors, expected %zu:\n%s",
		    r->name, e.n, r->nerr, all);
		if (r->line > 0)
			snprintf(prefix, sizeof(prefix), "%s:%d: ", path, r->line);
		else
			snprintf(prefix, sizeof(prefix), "%s: ", path);
		for (j = 0; j < e.n; j++)
			if (strncmp(e.msg[j], prefix, strlen(prefix)) == 0 &&
			    strstr(e.msg[j] + strlen(prefix), r->msg) != NULL)
				found = 1;
		cr_expect(found, "%s: no error \"%s%s\" in:\n%s", r->name, prefix, r->msg, all);
		conf_errs_free(&e);
	}
}

Test(conf, long_line_and_nul_byte)
{
	char big[5000], path[64];
	static const char nul[] = "[agent]\nlog = /a\0b\n";
	struct conf_errs e = { NULL, 0 };
	struct conf *c;
	size_t n;

	n = (size_t)snprintf(big, sizeof(big), "[agent]\nlog = /");
	memset(big + n, 'a', sizeof(big) - n - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(load_text(big, &c, &e, path, sizeof(path)), -1);
	cr_assert_eq(e.n, 1);
	cr_expect(strstr(e.msg[0], ":2: line longer than 4096 bytes") != NULL, "%s", e.msg[0]);
	conf_errs_free(&e);

	write_tmp(nul, sizeof(nul) - 1, path, sizeof(path));
	cr_assert_eq(conf_load(path, &c, &e), -1);
	unlink(path);
	cr_assert_eq(e.n, 1);
	cr_expect(strstr(e.msg[0], ":2: NUL byte in line") != NULL, "%s", e.msg[0]);
	conf_errs_free(&e);
}

/* ---- all the errors of a file are collected, in line order ---- */

struct line_msg {
	int	line;
	const char *msg;
};

static const struct line_msg broken_conf[] = {
	{ 3, "mode: unknown value 'enforcing'" },
	{ 4, "retention: bad duration '7x'" },
	{ 5, "postsuper: program path must be absolute" },
	{ 6, "unknown key 'colour' in [agent]" },
	{ 10, "messages: '1000' is not COUNT/WINDOW" },
	{ 11, "actions: 'hold' listed twice" },
	{ 15, "ips: counts the client IPs" },
	{ 16, "actions: block needs by = sasl or by = sender" },
	{ 18, "limit 'nothing': 'by' is missing" },
	{ 18, "limit 'nothing': no threshold" },
	{ 21, "sasl: 'a b' contains a blank" },
	{ 24, "to: '-oi' is not a mail address" },
};

Test(conf, every_error_of_a_file_is_collected_in_order)
{
	struct conf_errs e = { NULL, 0 };
	struct conf *c;
	char path[512], prefix[600], all[4096];
	size_t i, n = sizeof(broken_conf) / sizeof(broken_conf[0]);

	src_path("samples/conf/broken.conf", path, sizeof(path));
	cr_assert_eq(conf_load(path, &c, &e), -1);
	join_errs(&e, all, sizeof(all));
	cr_assert_eq(e.n, n, "%zu errors, expected %zu:\n%s", e.n, n, all);
	for (i = 0; i < n; i++) {
		snprintf(prefix, sizeof(prefix), "%s:%d: ", path, broken_conf[i].line);
		cr_expect(strncmp(e.msg[i], prefix, strlen(prefix)) == 0 &&
		    strstr(e.msg[i], broken_conf[i].msg) != NULL,
		    "error %zu is \"%s\", expected \"%s%s\"", i, e.msg[i], prefix, broken_conf[i].msg);
	}
	conf_errs_free(&e);
}

Test(conf, error_count_is_capped)
{
	char text[8192], path[64];
	struct conf_errs e = { NULL, 0 };
	struct conf *c;
	size_t used, i;

	used = (size_t)snprintf(text, sizeof(text), "[agent]\n");
	for (i = 0; i < 300; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used, "k%zu = 1\n", i);
	cr_assert_eq(load_text(text, &c, &e, path, sizeof(path)), -1);
	cr_expect_eq(e.n, 101, "%zu errors", e.n);
	cr_expect(strstr(e.msg[e.n - 1], ":101: too many errors, stopping here") != NULL,
	    "%s", e.msg[e.n - 1]);
	conf_errs_free(&e);
}

/* ---- good values of every type and what they become ---- */

enum field {
	F_LOG, F_PFUSER, F_STATE, F_SOCKET, F_PCDIR, F_POSTSUPER, F_MODE, F_START, F_RETENTION,
	F_MAPTYPE, F_REPLY, F_TO, F_SASLMAP, F_EXEC, F_EXEMPT_SASL, F_EXEMPT_IP,
	F_EXEMPT_CIDR, F_EXEMPT_SASL_DOMAIN, F_EXEMPT_SENDER_DOMAIN,
	F_CL_CONNINFO, F_CL_NODE,
	F_R_BY, F_R_MATCH, F_R_CIDR, F_R_WINDOWS, F_R_ACTIONS, F_R_BLOCKTIME, F_R_FACTOR,
};

struct good_row {
	const char *name;
	const char *text;
	enum field field;
	const char *want;	/* the field, shown as text */
};

#define RULE "[limit r]\nby = sasl\nmessages = 10/1h\n"

static const struct good_row good_rows[] = {
	{ "log path", "[agent]\nlog = /var/log/maillog\n", F_LOG, "/var/log/maillog" },
	{ "log from stdin", "[agent]\nlog = -\n", F_LOG, "-" },
	{ "log the system journal", "[agent]\nlog = journal\n", F_LOG, "journal" },
	{ "journal: is the system journal", "[agent]\nlog = journal:\n", F_LOG, "journal" },
	{ "log a journal directory", "[agent]\nlog = journal:/srv/journal/mx1\n", F_LOG, "journal:/srv/journal/mx1" },
	{ "postfix_user a name", "[agent]\npostfix_user = _postfix-2.x\n", F_PFUSER, "_postfix-2.x" },
	{ "postfix_user a uid", "[agent]\npostfix_user = 107\n", F_PFUSER, "107" },
	{ "blanks around =", "[agent]\n  log\t=\t/x/y  \n", F_LOG, "/x/y" },
	{ "no blanks around =", "[agent]\nlog=/x\n", F_LOG, "/x" },
	{ "trailing comment", "[agent]\nlog = /x # the log\n", F_LOG, "/x" },
	{ "trailing comment after tab", "[agent]\nlog = /x\t#the log\n", F_LOG, "/x" },
	{ "# inside a word is kept", "[agent]\nlog = /var/log/mail#1\n", F_LOG, "/var/log/mail#1" },
	{ "comment lines", "# top\n[agent]\n   # indented\n\nlog = /x\n", F_LOG, "/x" },
	{ "comment after section", "[agent]   # main\nlog = /x\n", F_LOG, "/x" },
	{ "CRLF lines", "[agent]\r\nlog = /x\r\n", F_LOG, "/x" },
	{ "byte order mark", "\xef\xbb\xbf[agent]\nlog = /x\n", F_LOG, "/x" },
	{ "last line without newline", "[agent]\nlog = /x", F_LOG, "/x" },
	{ "state", "[agent]\nstate = /srv/sg.db\n", F_STATE, "/srv/sg.db" },
	{ "socket", "[agent]\nsocket = /tmp/sg.sock\n", F_SOCKET, "/tmp/sg.sock" },
	{ "postfix_config_dir", "[agent]\npostfix_config_dir = /etc/postfix-out\n", F_PCDIR, "/etc/postfix-out" },
	{ "postsuper", "[agent]\npostsuper = /usr/local/sbin/postsuper\n", F_POSTSUPER, "/usr/local/sbin/postsuper" },
	{ "mode monitor", "[agent]\nmode = monitor\n", F_MODE, "monitor" },
	{ "mode any case", "[agent]\nmode = MONITOR\n", F_MODE, "monitor" },
	{ "start_at beginning", "[agent]\nstart_at = beginning\n", F_START, "beginning" },
	{ "retention in days", "[agent]\nretention = 30d\n", F_RETENTION, "2592000" },
	{ "retention in bare seconds", "[agent]\nretention = 90\n", F_RETENTION, "90" },
	{ "map_type folded", "[action block]\nmap_type = LMDB\n", F_MAPTYPE, "lmdb" },
	{ "reply 5xx", "[action block]\nreply = 550 5.7.1 Go away\n", F_REPLY, "550 5.7.1 Go away" },
	{ "reply code alone", "[action block]\nreply = 421\n", F_REPLY, "421" },
	{ "reply REJECT", "[action block]\nreply = REJECT too much mail\n", F_REPLY, "REJECT too much mail" },
	{ "reply defer_if_permit", "[action block]\nreply = defer_if_permit\n", F_REPLY, "defer_if_permit" },
	{ "reply HOLD", "[action block]\nreply = HOLD\n", F_REPLY, "HOLD" },
	{ "notify to", "[action notify]\nto = abuse@example.net\n", F_TO, "abuse@example.net" },
	{ "notify to a local name", "[action notify]\nto = root\n", F_TO, "root" },
	{ "sasl_map", "[action block]\nsasl_map = /etc/postfix/blocked\n", F_SASLMAP, "/etc/postfix/blocked" },
	{ "cluster conninfo", "[cluster]\nconninfo = host=db.example.com dbname=sendguard user=sg\nnode = mx1\n",
	  F_CL_CONNINFO, "host=db.example.com dbname=sendguard user=sg" },
	{ "cluster conninfo as a URI", "[cluster]\nconninfo = postgresql://sg@db/sendguard?sslmode=require\n",
	  F_CL_CONNINFO, "postgresql://sg@db/sendguard?sslmode=require" },
	{ "cluster node", "[cluster]\nconninfo = host=db\nnode = mx-1.example.com\n", F_CL_NODE, "mx-1.example.com" },
	{ "command split on blanks", "[action exec]\ncommand = /bin/page  %i\t%r %c%% %w %q\n", F_EXEC, "/bin/page|%i|%r|%c%%|%w|%q" },
	{ "command alone", "[action exec]\ncommand = /usr/local/bin/hook\n", F_EXEC, "/usr/local/bin/hook" },
	{ "exempt lower-cased", "[exempt]\nsasl = Alice@Example.COM, *@Lists.Example.com\n", F_EXEMPT_SASL, "alice@example.com|*@lists.example.com" },
	{ "exempt ip", "[exempt]\nip = 127.0.0.1,::1 , 2001:DB8::*\n", F_EXEMPT_IP, "127.0.0.1|::1|2001:db8::*" },
	{ "exempt sections merge", "[exempt]\nsasl = a\n[agent]\n[exempt]\nip = 10.0.0.1\n", F_EXEMPT_IP, "10.0.0.1" },
	{ "exempt ip ranges out of the globs", "[exempt]\nip = 127.0.0.1, 10.0.0.0/8, ::1, 2001:DB8::/32\n", F_EXEMPT_IP, "127.0.0.1|::1" },
	{ "exempt ip ranges parsed", "[exempt]\nip = 127.0.0.1, 10.0.0.0/8, ::1, 2001:DB8::/32\n", F_EXEMPT_CIDR, "10.0.0.0/8|2001:db8::/32" },
	{ "exempt ip /0 and /32", "[exempt]\nip = 0.0.0.0/0, 192.0.2.1/32, ::/0, ::1/128\n", F_EXEMPT_CIDR, "0.0.0.0/0|192.0.2.1/32|::/0|::1/128" },
	{ "exempt ip range list alone", "[exempt]\nip = 198.51.100.0/24\n", F_EXEMPT_IP, "" },
	{ "bare IPv6 written as Postfix logs it", "[exempt]\nip = 2001:DB8:0:0::7, ::FFFF:192.0.2.1\n", F_EXEMPT_IP, "2001:db8::7|::ffff:192.0.2.1" },
	{ "a / in a login is a glob", "[exempt]\nsasl = dept/alice, 10.0.0.0/33\n", F_EXEMPT_SASL, "dept/alice|10.0.0.0/33" },
	{ "exempt sasl_domain", "[exempt]\nsasl_domain = Example.COM, *.example.net\n", F_EXEMPT_SASL_DOMAIN, "example.com|*.example.net" },
	{ "exempt sender_domain", "[exempt]\nsender_domain = lists.example.org\n", F_EXEMPT_SENDER_DOMAIN, "lists.example.org" },
	{ "by uid", "[limit r]\nby = uid\nmessages = 1/1h\n", F_R_BY, "uid" },
	{ "by sender", "[limit r]\nby = Sender\nmessages = 1/1h\n", F_R_BY, "sender" },
	{ "by ip", "[limit r]\nby = ip\nmessages = 1/1h\n", F_R_BY, "ip" },
	{ "by sasl_domain", "[limit r]\nby = sasl_domain\nmessages = 1/1h\nips = 20/1h\n", F_R_BY, "sasl_domain" },
	{ "by sender_domain", "[limit r]\nby = Sender_Domain\nmessages = 1/1h\n", F_R_BY, "sender_domain" },
	{ "block for sender_domain", "[limit r]\nby = sender_domain\nmessages = 1/1h\nactions = hold, block\n", F_R_ACTIONS, "hold|block" },
	{ "sasl_domain without block", "[limit r]\nby = sasl_domain\nmessages = 1/1h\nactions = hold, notify\n", F_R_ACTIONS, "hold|notify" },
	{ "match globs of by ip", "[limit r]\nby = ip\nmessages = 1/1h\nmatch = 192.0.2.*, 203.0.113.0/24, ::/0\n", F_R_MATCH, "192.0.2.*" },
	{ "match ranges of by ip", "[limit r]\nby = ip\nmessages = 1/1h\nmatch = 192.0.2.*, 203.0.113.0/24, ::/0\n", F_R_CIDR, "203.0.113.0/24|::/0" },
	{ "match ranges, by after match", "[limit r]\nmatch = 2001:db8:8000::/33\nmessages = 1/1h\nby = ip\n", F_R_CIDR, "2001:db8:8000::/33" },
	{ "a / in a sasl match is a glob", "[limit r]\nby = sasl\nmessages = 1/1h\nmatch = dept/*, 10.0.0.0/33\n", F_R_MATCH, "dept/*|10.0.0.0/33" },
	{ "no ranges for sasl", "[limit r]\nby = sasl\nmessages = 1/1h\nmatch = 10.0.0.0/8\n", F_R_CIDR, "" },
	{ "match lower-cased", RULE "match = Alice@Example.COM, *@B.org\n", F_R_MATCH, "alice@example.com|*@b.org" },
	{ "no match: every identity", RULE, F_R_MATCH, "" },
	{ "windows kept in order", RULE "recipients = 500/1h, 2000/1d\n", F_R_WINDOWS, "messages 10/1h|recipients 500/1h|recipients 2000/1d" },
	{ "windows grouped by limit", "[limit r]\nby = sasl\nips = 5/1h\nmessages = 100/1h, 1000/1d\nrecipients = 10/15m\n", F_R_WINDOWS, "messages 100/1h|messages 1000/1d|recipients 10/15m|ips 5/1h" },
	{ "senders and bounces after the others", "[limit r]\nby = sasl\nbounces = 50/1h\nsenders = 5/1h, 20/1d\nmessages = 100/1h\n", F_R_WINDOWS, "messages 100/1h|senders 5/1h|senders 20/1d|bounces 50/1h" },
	{ "bounces alone is a threshold", "[limit r]\nby = sender\nbounces = 3/1h\n", F_R_WINDOWS, "bounces 3/1h" },
	{ "senders for uid", "[limit r]\nby = uid\nsenders = 4/1h\n", F_R_WINDOWS, "senders 4/1h" },
	{ "senders for ip", "[limit r]\nby = ip\nsenders = 4/10m\n", F_R_WINDOWS, "senders 4/10m" },
	{ "senders for sender_domain", "[limit r]\nby = sender_domain\nsenders = 40/1d\n", F_R_WINDOWS, "senders 40/1d" },
	{ "window in seconds", "[limit r]\nby = sasl\nmessages = 5/90, 7 / 3600\n", F_R_WINDOWS, "messages 5/90s|messages 7/1h" },
	{ "window up to retention", "[limit r]\nby = sasl\nmessages = 5/7d\n", F_R_WINDOWS, "messages 5/7d" },
	{ "actions in listed order", RULE "actions = notify, exec, block, hold\n[action exec]\ncommand = /bin/true\n", F_R_ACTIONS, "notify|exec|block|hold" },
	{ "actions any case", RULE "actions = Hold\n", F_R_ACTIONS, "hold" },
	{ "no actions", RULE, F_R_ACTIONS, "" },
	{ "block for sender", "[limit r]\nby = sender\nmessages = 1/1h\nactions = block\n", F_R_ACTIONS, "block" },
	{ "block_time default", RULE, F_R_BLOCKTIME, "3600" },
	{ "block_time forever", RULE "block_time = 0\n", F_R_BLOCKTIME, "0" },
	{ "block_time 15m", RULE "block_time = 15m\n", F_R_BLOCKTIME, "900" },
	{ "block_time_factor default", RULE, F_R_FACTOR, "1" },
	{ "block_time_factor 1.5", RULE "block_time_factor = 1.5\n", F_R_FACTOR, "1.5" },
	{ "block_time_factor 100", RULE "block_time_factor = 100\n", F_R_FACTOR, "100" },
};

/* show_list - "a|b|c" */
static void
show_list(char **v, size_t n, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "|" : "", v[i]);
}

/* show_cidr - "10.0.0.0/8|2001:db8::/32" */
static void
show_cidr(const struct conf_cidr *r, size_t n, char *buf, size_t len)
{
	char one[64];
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "|" : "",
		    conf_cidr_format(&r[i], one, sizeof(one)));
}

/* show_field - the field of a loaded config as text */
static void
show_field(const struct conf *c, enum field f, char *buf, size_t len)
{
	static const char *const act[] = { "?", "hold", "block", "?", "notify", "?", "?", "?", "exec" };
	const struct conf_rule *r = c->nrules ? &c->rules[0] : NULL;
	char d[32];
	size_t i, used = 0;

	buf[0] = '\0';
	if (f >= F_R_BY)
		cr_assert_not_null(r, "no rule loaded");
	switch (f) {
	case F_LOG: snprintf(buf, len, "%s", c->log); break;
	case F_PFUSER: snprintf(buf, len, "%s", c->postfix_user); break;
	case F_STATE: snprintf(buf, len, "%s", c->state); break;
	case F_SOCKET: snprintf(buf, len, "%s", c->socket); break;
	case F_PCDIR: snprintf(buf, len, "%s", c->postfix_config_dir); break;
	case F_POSTSUPER: snprintf(buf, len, "%s", c->postsuper); break;
	case F_MODE: snprintf(buf, len, "%s", c->mode == MODE_MONITOR ? "monitor" : "enforce"); break;
	case F_START: snprintf(buf, len, "%s", c->start_at == START_BEGINNING ? "beginning" : "end"); break;
	case F_RETENTION: snprintf(buf, len, "%lld", (long long)c->retention); break;
	case F_MAPTYPE: snprintf(buf, len, "%s", c->map_type); break;
	case F_REPLY: snprintf(buf, len, "%s", c->reply); break;
	case F_TO: snprintf(buf, len, "%s", c->notify_to); break;
	case F_SASLMAP: snprintf(buf, len, "%s", c->sasl_map); break;
	case F_CL_CONNINFO: snprintf(buf, len, "%s", c->cluster_conninfo); break;
	case F_CL_NODE: snprintf(buf, len, "%s", c->cluster_node); break;
	case F_EXEC:
		cr_expect_null(c->exec_argv[c->exec_argc], "exec_argv is NULL-terminated");
		show_list(c->exec_argv, c->exec_argc, buf, len);
		break;
	case F_EXEMPT_SASL: show_list(c->exempt[BY_SASL], c->nexempt[BY_SASL], buf, len); break;
	case F_EXEMPT_IP: show_list(c->exempt[BY_IP], c->nexempt[BY_IP], buf, len); break;
	case F_EXEMPT_CIDR: show_cidr(c->exempt_cidr, c->nexempt_cidr, buf, len); break;
	case F_EXEMPT_SASL_DOMAIN:
		show_list(c->exempt[BY_SASL_DOMAIN], c->nexempt[BY_SASL_DOMAIN], buf, len);
		break;
	case F_EXEMPT_SENDER_DOMAIN:
		show_list(c->exempt[BY_SENDER_DOMAIN], c->nexempt[BY_SENDER_DOMAIN], buf, len);
		break;
	case F_R_BY: snprintf(buf, len, "%s", conf_by_name(r->by)); break;
	case F_R_MATCH: show_list(r->match, r->nmatch, buf, len); break;
	case F_R_CIDR: show_cidr(r->cidr, r->ncidr, buf, len); break;
	case F_R_WINDOWS:
		for (i = 0; i < r->nwin && used < len; i++)
			used += (size_t)snprintf(buf + used, len - used, "%s%s %ld/%s", i ? "|" : "",
			    conf_limit_name(r->win[i].limit), r->win[i].threshold,
			    conf_format_duration(r->win[i].seconds, d, sizeof(d)));
		break;
	case F_R_ACTIONS: {
		unsigned mask = 0;

		for (i = 0; i < r->nactions && used < len; i++) {
			used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "|" : "",
			    r->action_order[i] < 9 ? act[r->action_order[i]] : "?");
			mask |= r->action_order[i];
		}
		cr_expect_eq(mask, r->actions, "actions mask agrees with action_order");
		break;
	}
	case F_R_BLOCKTIME: snprintf(buf, len, "%lld", (long long)r->block_time); break;
	case F_R_FACTOR: snprintf(buf, len, "%g", r->block_time_factor); break;
	}
}

Test(conf, every_value_type_loads)
{
	size_t i;

	for (i = 0; i < sizeof(good_rows) / sizeof(good_rows[0]); i++) {
		const struct good_row *g = &good_rows[i];
		struct conf_errs e = { NULL, 0 };
		struct conf *c = NULL;
		char path[64], got[1024], all[2048];
		int rc = load_text(g->text, &c, &e, path, sizeof(path));

		join_errs(&e, all, sizeof(all));
		cr_expect_eq(rc, 0, "%s: errors:\n%s", g->name, all);
		conf_errs_free(&e);
		if (rc != 0)
			continue;
		cr_expect_str_eq(c->path, path, "%s: path", g->name);
		show_field(c, g->field, got, sizeof(got));
		cr_expect_str_eq(got, g->want, "%s: got \"%s\", want \"%s\"", g->name, got, g->want);
		conf_free(c);
	}
}

/* ---- defaults ---- */

struct default_row {
	enum field field;
	const char *want;
};

static const struct default_row default_rows[] = {
	{ F_LOG, "/var/log/mail.log" },
	{ F_PFUSER, "postfix" },
	{ F_STATE, "/var/lib/sendguard/state.db" },
	{ F_SOCKET, "/run/sendguard/control.sock" },
	{ F_PCDIR, "/etc/postfix" },
	{ F_POSTSUPER, "/usr/sbin/postsuper" },
	{ F_MODE, "enforce" },
	{ F_START, "end" },
	{ F_RETENTION, "604800" },
	{ F_MAPTYPE, "hash" },
	{ F_REPLY, "450 4.7.1 Sending rate limit exceeded, contact the postmaster" },
	{ F_TO, "postmaster" },
	{ F_SASLMAP, "/etc/postfix/sendguard_sasl_access" },
	{ F_EXEMPT_SASL, "" },
	{ F_EXEMPT_IP, "" },
	{ F_EXEMPT_CIDR, "" },
	{ F_EXEMPT_SASL_DOMAIN, "" },
	{ F_EXEMPT_SENDER_DOMAIN, "" },
};

Test(conf, defaults_from_conf_default_and_an_empty_file)
{
	struct conf *d = conf_default(), *c = NULL;
	struct conf_errs e = { NULL, 0 };
	char path[64], got[512], got2[512];
	size_t i;

	cr_assert_not_null(d);
	cr_expect_null(d->path);
	cr_expect_eq(d->nrules, 0);
	cr_expect_eq(d->exec_argc, 0);
	cr_expect_str_eq(d->postmap, "/usr/sbin/postmap");
	cr_expect_str_eq(d->postfix, "/usr/sbin/postfix");
	cr_expect_str_eq(d->sendmail, "/usr/sbin/sendmail");
	cr_expect_str_eq(d->sender_map, "/etc/postfix/sendguard_sender_access");
	cr_assert_eq(load_text("# nothing but a comment\n\n", &c, &e, path, sizeof(path)), 0);
	for (i = 0; i < sizeof(default_rows) / sizeof(default_rows[0]); i++) {
		show_field(d, default_rows[i].field, got, sizeof(got));
		show_field(c, default_rows[i].field, got2, sizeof(got2));
		cr_expect_str_eq(got, default_rows[i].want, "conf_default field %d", default_rows[i].field);
		cr_expect_str_eq(got2, default_rows[i].want, "empty file field %d", default_rows[i].field);
	}
	cr_expect_eq(c->nrules, 0);
	conf_free(d);
	conf_free(c);
}

/* ---- globs ---- */

struct glob_row {
	const char *conf;	/* [exempt] lines, or a match = line */
	enum conf_by by;
	const char *value;
	int	want;
};

static const struct glob_row glob_rows[] = {
	{ "sasl = alice@example.com", BY_SASL, "alice@example.com", 1 },
	{ "sasl = alice@example.com", BY_SASL, "bob@example.com", 0 },
	{ "sasl = Alice@Example.com", BY_SASL, "alice@example.com", 1 },
	{ "sasl = alice@example.com", BY_SASL, "ALICE@Example.com", 1 },	/* case evades nothing */
	{ "sasl = alice@example.com", BY_SENDER, "alice@example.com", 0 },
	{ "sasl = *@example.com", BY_SASL, "carol@example.com", 1 },
	{ "sasl = *@example.com", BY_SASL, "carol@example.com.evil.net", 0 },
	{ "sasl = *@example.com", BY_SASL, "carol@sub.example.com", 0 },
	{ "sasl = *@*.example.com", BY_SASL, "carol@sub.example.com", 1 },
	{ "sender = news?@example.com", BY_SENDER, "news1@example.com", 1 },
	{ "sender = news?@example.com", BY_SENDER, "news12@example.com", 0 },
	{ "uid = 0, 33", BY_UID, "33", 1 },
	{ "uid = 0, 33", BY_UID, "333", 0 },
	{ "uid = 0, 33", BY_UID, "0", 1 },
	{ "uid = 10[0-9][0-9]", BY_UID, "1001", 1 },
	{ "uid = 10[0-9][0-9]", BY_UID, "2001", 0 },
	{ "ip = 192.0.2.*", BY_IP, "192.0.2.77", 1 },
	{ "ip = 192.0.2.*", BY_IP, "192.0.20.1", 0 },
	{ "ip = 2001:DB8::*", BY_IP, "2001:db8::1", 1 },
	{ "uid = 0", BY_IP, "0", 0 },
};

Test(conf, exempt_and_match_globs)
{
	size_t i;

	for (i = 0; i < sizeof(glob_rows) / sizeof(glob_rows[0]); i++) {
		const struct glob_row *g = &glob_rows[i];
		const char *pats = strchr(g->conf, '=') + 1;
		size_t klen = strcspn(g->conf, " ");
		int same_kind = strlen(conf_by_name(g->by)) == klen &&
		    strncmp(g->conf, conf_by_name(g->by), klen) == 0;
		struct conf_errs e = { NULL, 0 };
		struct conf *c = NULL;
		char text[512], path[64];

		/* The same patterns in [exempt] and as the match of a rule. */
		snprintf(text, sizeof(text), "[exempt]\n%s\n[limit r]\nby = %s\nmessages = 1/1h\nmatch =%s\n",
		    g->conf, conf_by_name(g->by), pats);
		cr_assert_eq(load_text(text, &c, &e, path, sizeof(path)), 0, "row %zu", i);
		cr_expect_eq(conf_exempt(c, g->by, g->value), g->want,
		    "conf_exempt(%s, %s) with %s", conf_by_name(g->by), g->value, g->conf);
		if (same_kind)
			cr_expect_eq(conf_rule_match(&c->rules[0], g->value), g->want,
			    "conf_rule_match(%s) with match = %s", g->value, pats);
		conf_free(c);
	}
}

Test(conf, rule_without_match_applies_to_all)
{
	struct conf_errs e = { NULL, 0 };
	struct conf *c = NULL;
	char path[64];

	cr_assert_eq(load_text(RULE, &c, &e, path, sizeof(path)), 0);
	cr_expect_eq(conf_rule_match(&c->rules[0], "anyone@example.org"), 1);
	cr_expect_eq(conf_exempt(c, BY_SASL, "anyone@example.org"), 0);
	conf_free(c);
}

/* ---- address ranges of ip patterns ---- */

struct cidr_row {
	const char *pats;	/* the list, as in [exempt] ip = and match = */
	const char *value;	/* a client address as logged */
	int	want;
};

static const struct cidr_row cidr_rows[] = {
	{ "203.0.113.0/24", "203.0.113.5", 1 },
	{ "203.0.113.0/24", "203.0.113.0", 1 },
	{ "203.0.113.0/24", "203.0.113.255", 1 },
	{ "203.0.113.0/24", "203.0.114.0", 0 },
	{ "203.0.113.0/24", "203.0.112.255", 0 },
	{ "203.0.113.0/24", "203.0.113.5x", 0 },		/* not an address */
	{ "203.0.113.128/25", "203.0.113.127", 0 },
	{ "203.0.113.128/25", "203.0.113.128", 1 },
	{ "198.18.0.0/15", "198.19.255.1", 1 },			/* prefix inside a byte */
	{ "198.18.0.0/15", "198.20.0.1", 0 },
	{ "198.18.0.0/15", "198.17.255.255", 0 },
	{ "10.0.0.0/8", "10.255.255.255", 1 },
	{ "10.0.0.0/8", "11.0.0.0", 0 },
	{ "0.0.0.0/0", "192.0.2.1", 1 },			/* /0: every IPv4 address */
	{ "0.0.0.0/0", "2001:db8::1", 0 },			/* ... and no IPv6 one */
	{ "::/0", "2001:db8::1", 1 },
	{ "::/0", "192.0.2.1", 0 },				/* an IPv4 value is not IPv6 */
	{ "192.0.2.1/32", "192.0.2.1", 1 },
	{ "192.0.2.1/32", "192.0.2.10", 0 },
	{ "192.0.2.1/32", "192.0.2.0", 0 },
	{ "2001:db8::/32", "2001:db8::7", 1 },
	{ "2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
	{ "2001:db8::/32", "2001:db9::7", 0 },
	{ "2001:db8::/32", "2001:db7:ffff::7", 0 },
	{ "2001:db8::/32", "2001:0db8:0000::7", 1 },		/* any spelling of the address */
	{ "2001:db8::/32", "ipv6:2001:db8::7", 1 },		/* with Postfix's IPv6: prefix */
	{ "2001:db8::/32", "IPv6:2001:DB8::7", 1 },
	{ "2001:db8::7/128", "2001:db8::7", 1 },
	{ "2001:db8::7/128", "2001:db8::6", 0 },
	{ "2001:db8::7/128", "2001:db8::7:0", 0 },
	{ "2001:db8:8000::/33", "2001:db8:7fff::1", 0 },
	{ "2001:db8:8000::/33", "2001:db8:8000::1", 1 },
	{ "fe80::/10", "febf::1", 1 },
	{ "fe80::/10", "fec0::1", 0 },
	{ "203.0.113.0/24", "::ffff:203.0.113.5", 1 },		/* IPv4-mapped: the IPv4 address */
	{ "203.0.113.0/24", "::ffff:203.0.114.5", 0 },
	{ "203.0.113.0/24", "::203.0.113.5", 0 },		/* IPv4-compatible is not mapped */
	{ "::ffff:0:0/96", "::ffff:203.0.113.5", 1 },		/* and still an IPv6 address */
	{ "10.0.0.0/8, 2001:db8::/32", "2001:db8::7", 1 },	/* the list of issue 8 */
	{ "10.0.0.0/8, 2001:db8::/32", "10.1.2.3", 1 },
	{ "10.0.0.0/8, 2001:db8::/32", "172.16.0.1", 0 },
	{ "10.0.0.0/8, 2001:db8::/32", "2001:db9::1", 0 },
	{ "192.0.2.*, 203.0.113.0/24", "192.0.2.9", 1 },	/* globs and ranges mixed */
	{ "192.0.2.*, 203.0.113.0/24", "203.0.113.9", 1 },
	{ "192.0.2.*, 203.0.113.0/24", "198.51.100.1", 0 },
	{ "203.0.113.0/24, 192.0.2.7, 2001:db8::/48", "192.0.2.7", 1 },
	{ "203.0.113.0/24, 192.0.2.7, 2001:db8::/48", "192.0.2.70", 0 },
	{ "203.0.113.0/24, 192.0.2.7, 2001:db8::/48", "2001:db8:0:1::1", 1 },
	{ "203.0.113.0/24, 192.0.2.7, 2001:db8::/48", "2001:db8:1::1", 0 },
	{ "192.0.2.1", "192.0.2.1", 1 },			/* a bare address: exact */
	{ "192.0.2.1", "192.0.2.10", 0 },
	{ "2001:DB8:0::7", "2001:db8::7", 1 },
	{ "2001:db8::7", "ipv6:2001:db8::7", 1 },
	{ "10.0.0.0/8", "unknown", 0 },
	{ "10.0.0.0/8", "", 0 },
};

Test(conf, exempt_and_match_address_ranges)
{
	size_t i;

	for (i = 0; i < sizeof(cidr_rows) / sizeof(cidr_rows[0]); i++) {
		const struct cidr_row *g = &cidr_rows[i];
		struct conf_errs e = { NULL, 0 };
		struct conf *c = NULL;
		char text[512], path[64], all[2048];
		int rc;

		snprintf(text, sizeof(text), "[exempt]\nip = %s\n[limit r]\nby = ip\nmessages = 1/1h\n"
		    "match = %s\n", g->pats, g->pats);
		rc = load_text(text, &c, &e, path, sizeof(path));
		join_errs(&e, all, sizeof(all));
		cr_assert_eq(rc, 0, "%s: errors:\n%s", g->pats, all);
		cr_expect_eq(conf_exempt(c, BY_IP, g->value), g->want,
		    "conf_exempt(ip, \"%s\") with ip = %s: want %d", g->value, g->pats, g->want);
		cr_expect_eq(conf_rule_match(&c->rules[0], g->value), g->want,
		    "conf_rule_match(\"%s\") with match = %s: want %d", g->value, g->pats, g->want);
		cr_expect_eq(conf_exempt(c, BY_SASL, g->value), 0, "ranges are for ip only");
		conf_free(c);
	}
}

/* ---- lenient reading, for status, explain, block and unblock ---- */

struct lenient_row {
	const char *name;
	const char *text;
	size_t	nerr;		/* errors it gives (strict and lenient alike) */
	int	line;		/* of the first error */
	const char *msg;	/* substring of the first error */
	size_t	nrules;		/* rules the lenient config keeps */
	enum field f1, f2;	/* two fields of the lenient config ... */
	const char *want1, *want2; /* ... and their values */
};

#define EDIT	"[agent]\nsocket = /tmp/sg-i8.sock\nstate = /srv/sg-i8.db\n"	/* lines 1-3 */

static const struct lenient_row lenient_rows[] = {
	{ "half-finished edit", EDIT "[limit r]\nby = sasl\nmessages = 10 minutes\n",
	  1, 6, "messages: '10 minutes' is not COUNT/WINDOW", 0,
	  F_SOCKET, F_STATE, "/tmp/sg-i8.sock", "/srv/sg-i8.db" },
	{ "edit before the socket line", "[limit r]\nby = sasl\nmessages = 10 minutes\n" EDIT,
	  1, 3, "messages: '10 minutes'", 0, F_SOCKET, F_STATE, "/tmp/sg-i8.sock", "/srv/sg-i8.db" },
	{ "bad socket keeps the default", "[agent]\nsocket = run/sg.sock\nstate = /srv/sg-i8.db\n",
	  1, 2, "socket: path must be absolute", 0,
	  F_SOCKET, F_STATE, "/run/sendguard/control.sock", "/srv/sg-i8.db" },
	{ "a good rule stays, a bad one goes",
	  "[limit good]\nby = sasl\nmessages = 5/1h\n[limit bad]\nby = ip\nmessages = 5/1h\nmatch = 10.0.0.0/33\n" EDIT,
	  1, 7, "match: '10.0.0.0/33' is not an address range", 1, F_R_BY, F_STATE, "sasl", "/srv/sg-i8.db" },
	{ "a rule with a cross-key error goes", EDIT "[limit r]\nby = uid\nmessages = 1/1h\nactions = block\n",
	  1, 7, "actions: block needs", 0, F_SOCKET, F_STATE, "/tmp/sg-i8.sock", "/srv/sg-i8.db" },
	{ "unknown section and key", "[agnet]\nsocket = /x\n[agent]\nstate = /srv/sg-i8.db\nsoket = /y\n",
	  2, 1, "unknown section [agnet]", 0, F_SOCKET, F_STATE, "/run/sendguard/control.sock", "/srv/sg-i8.db" },
	{ "action programs and maps still read",
	  "[agent]\npostsuper = /opt/pf/postsuper\nmode = fast\n[action block]\nsasl_map = /etc/postfix/blocked\n",
	  1, 3, "mode: unknown value 'fast'", 0, F_POSTSUPER, F_SASLMAP, "/opt/pf/postsuper", "/etc/postfix/blocked" },
	{ "a bad exempt ip list keeps none", "[exempt]\nip = 10.0.0.0/8, 10.0.0.0/33\nsasl = a@b\n",
	  1, 2, "ip: '10.0.0.0/33' is not an address range", 0, F_EXEMPT_CIDR, F_EXEMPT_SASL, "", "a@b" },
	{ "clean file", EDIT "[limit r]\nby = sasl\nmessages = 10/10m\n",
	  0, 0, NULL, 1, F_SOCKET, F_R_WINDOWS, "/tmp/sg-i8.sock", "messages 10/10m" },
};

Test(conf, lenient_load_keeps_what_parsed)
{
	size_t i;

	for (i = 0; i < sizeof(lenient_rows) / sizeof(lenient_rows[0]); i++) {
		const struct lenient_row *r = &lenient_rows[i];
		struct conf_errs e = { NULL, 0 }, se = { NULL, 0 };
		struct conf *c = NULL, *sc = (struct conf *)1;
		char path[64], prefix[128], got[512], all[4096];
		int rc, src;

		write_tmp(r->text, strlen(r->text), path, sizeof(path));
		rc = conf_load_lenient(path, &c, &e);
		src = conf_load(path, &sc, &se);
		unlink(path);
		join_errs(&e, all, sizeof(all));
		cr_assert_eq(rc, 0, "%s: conf_load_lenient returned %d:\n%s", r->name, rc, all);
		cr_assert_not_null(c, "%s: no config", r->name);
		cr_expect_eq(e.n, r->nerr, "%s: %zu errors, want %zu:\n%s", r->name, e.n, r->nerr, all);
		if (r->nerr > 0 && e.n > 0) {
			snprintf(prefix, sizeof(prefix), "%s:%d: ", path, r->line);
			cr_expect(strncmp(e.msg[0], prefix, strlen(prefix)) == 0 &&
			    strstr(e.msg[0], r->msg) != NULL, "%s: first error \"%s\", want \"%s%s\"",
			    r->name, e.msg[0], prefix, r->msg);
		}
		cr_expect_eq(c->nrules, r->nrules, "%s: %zu rules kept, want %zu", r->name,
		    c->nrules, r->nrules);
		if (c->nrules >= 1 || r->f1 < F_R_BY) {
			show_field(c, r->f1, got, sizeof(got));
			cr_expect_str_eq(got, r->want1, "%s: got \"%s\", want \"%s\"", r->name, got, r->want1);
		}
		if (c->nrules >= 1 || r->f2 < F_R_BY) {
			show_field(c, r->f2, got, sizeof(got));
			cr_expect_str_eq(got, r->want2, "%s: got \"%s\", want \"%s\"", r->name, got, r->want2);
		}
		/* The strict loader (run, check-config) still refuses the same file. */
		if (r->nerr > 0) {
			cr_expect_eq(src, -1, "%s: conf_load accepted a broken file", r->name);
			cr_expect_null(sc, "%s", r->name);
			cr_expect_eq(se.n, e.n, "%s: strict and lenient disagree on the errors", r->name);
		} else {
			cr_expect_eq(src, 0, "%s", r->name);
			conf_free(sc);
		}
		conf_errs_free(&e);
		conf_errs_free(&se);
		conf_free(c);
	}
}

Test(conf, lenient_load_still_needs_a_readable_file)
{
	static const char *const paths[] = { "/tmp/sg-test-conf-does-not-exist", "/tmp" };
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct conf_errs e = { NULL, 0 };
		struct conf *c = (struct conf *)1;

		cr_expect_eq(conf_load_lenient(paths[i], &c, &e), -1, "%s was read", paths[i]);
		cr_expect_null(c, "%s", paths[i]);
		cr_expect_eq(e.n, 1, "%s: %zu errors", paths[i], e.n);
		if (e.n > 0)
			cr_expect(strncmp(e.msg[0], paths[i], strlen(paths[i])) == 0, "%s", e.msg[0]);
		conf_errs_free(&e);
	}
}

/* ---- cmd_load_conf_client: the client commands warn and go on ---- */

/* with_stderr - call fn(path, &c) with stderr captured; its return value */
static int
with_stderr(int (*fn)(const char *, struct conf **), const char *path, struct conf **c,
	    char **err)
{
	char epath[64];
	int efd, saved, rc;

	snprintf(epath, sizeof(epath), "/tmp/sg-test-conf-errXXXXXX");
	cr_assert((efd = mkstemp(epath)) >= 0);
	fflush(stderr);
	saved = dup(2);
	cr_assert(saved >= 0);
	dup2(efd, 2);
	rc = fn(path, c);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(efd);
	*err = read_all(epath);
	unlink(epath);
	return (rc);
}

struct client_row {
	const char *name;
	const char *text;	/* NULL: a missing file */
	int	rc_client;	/* cmd_load_conf_client() */
	int	rc_strict;	/* cmd_load_conf() (run, check-config) */
	const char *err[3];	/* substrings of the client's stderr; {} is the path */
};

static const struct client_row client_rows[] = {
	{ "half-finished edit", EDIT "[limit r]\nby = sasl\nmessages = 10 minutes\n", 0, 2,
	  { "sendguard: warning: {} has 1 error ",
	    "\n{}:6: messages: '10 minutes' is not COUNT/WINDOW",
	    "going on with socket /tmp/sg-i8.sock and state /srv/sg-i8.db" } },
	{ "two errors", EDIT "[limit r]\nby = sasl\nmessages = 10 minutes\nactions = hold, hold\n", 0, 2,
	  { "has 2 errors", "{}:6: messages:", "{}:7: actions: 'hold' listed twice" } },
	{ "clean file: silent", EDIT, 0, 0, { NULL } },
	{ "missing file: an error", NULL, 2, 2, { "{}: No such file or directory" } },
};

/* subst - "{}" in in replaced by path (each time) */
static void
subst(const char *in, const char *path, char *out, size_t len)
{
	const char *p;
	size_t used = 0;

	out[0] = '\0';
	while ((p = strstr(in, "{}")) != NULL && used < len) {
		used += (size_t)snprintf(out + used, len - used, "%.*s%s", (int)(p - in), in, path);
		in = p + 2;
	}
	if (used < len)
		snprintf(out + used, len - used, "%s", in);
}

Test(conf, client_commands_warn_and_go_on)
{
	size_t i, j;

	for (i = 0; i < sizeof(client_rows) / sizeof(client_rows[0]); i++) {
		const struct client_row *r = &client_rows[i];
		struct conf *c = NULL;
		char path[64], want[512], *err;
		int rc;

		if (r->text != NULL)
			write_tmp(r->text, strlen(r->text), path, sizeof(path));
		else
			snprintf(path, sizeof(path), "/tmp/sg-test-conf-does-not-exist");
		rc = with_stderr(cmd_load_conf_client, path, &c, &err);
		cr_expect_eq(rc, r->rc_client, "%s: cmd_load_conf_client returned %d, want %d\n%s",
		    r->name, rc, r->rc_client, err);
		if (r->rc_client == 0) {
			cr_expect_not_null(c, "%s: no config", r->name);
			if (c != NULL && r->text != NULL && strstr(r->text, "/tmp/sg-i8.sock") != NULL)
				cr_expect_str_eq(c->socket, "/tmp/sg-i8.sock", "%s", r->name);
		} else
			cr_expect_null(c, "%s", r->name);
		if (r->err[0] == NULL)
			cr_expect_str_eq(err, "", "%s: stderr should be empty", r->name);
		for (j = 0; j < 3 && r->err[j] != NULL; j++) {
			subst(r->err[j], path, want, sizeof(want));
			cr_expect(strstr(err, want) != NULL, "%s: stderr lacks \"%s\":\n%s",
			    r->name, want, err);
		}
		conf_free(c);
		free(err);
		c = NULL;
		rc = with_stderr(cmd_load_conf, path, &c, &err);
		cr_expect_eq(rc, r->rc_strict, "%s: cmd_load_conf returned %d, want %d", r->name,
		    rc, r->rc_strict);
		conf_free(c);
		free(err);
		if (r->text != NULL)
			unlink(path);
	}
}

/* ---- durations ---- */

struct dur_row {
	const char *in;
	int64_t	secs;		/* -1: rejected */
	const char *out;	/* conf_format_duration(secs) */
};

static const struct dur_row dur_rows[] = {
	{ "0", 0, "0" },
	{ "90", 90, "90s" },
	{ "60", 60, "1m" },
	{ "90s", 90, "90s" },
	{ "15m", 900, "15m" },
	{ "90m", 5400, "90m" },
	{ "1h", 3600, "1h" },
	{ "36h", 129600, "36h" },
	{ "24h", 86400, "1d" },
	{ "7d", 604800, "7d" },
	{ "3650d", 315360000, "3650d" },
	{ "", -1, NULL },
	{ "h", -1, NULL },
	{ "-5", -1, NULL },
	{ "+5", -1, NULL },
	{ " 5", -1, NULL },
	{ "5 ", -1, NULL },
	{ "5 m", -1, NULL },
	{ "1x", -1, NULL },
	{ "1hh", -1, NULL },
	{ "1H", -1, NULL },
	{ "1.5h", -1, NULL },
	{ "1h30m", -1, NULL },
	{ "99999999999999999999", -1, NULL },
	{ "9223372036854775807d", -1, NULL },
};

Test(conf, duration_parse_and_format_round_trip)
{
	size_t i;
	char buf[32];

	for (i = 0; i < sizeof(dur_rows) / sizeof(dur_rows[0]); i++) {
		const struct dur_row *d = &dur_rows[i];
		int64_t got = conf_parse_duration(d->in);

		cr_expect_eq(got, d->secs, "conf_parse_duration(\"%s\") = %lld, want %lld",
		    d->in, (long long)got, (long long)d->secs);
		if (d->out == NULL)
			continue;
		cr_expect_str_eq(conf_format_duration(d->secs, buf, sizeof(buf)), d->out);
		cr_expect_eq(conf_parse_duration(buf), d->secs, "round trip of %s", buf);
	}
	cr_expect_eq(conf_parse_duration(NULL), -1);
	cr_expect_str_eq(conf_format_duration(7200, buf, 3), "2h");
	cr_expect_str_eq(conf_format_duration(86400 * 10, buf, 3), "10");	/* truncated, still a string */
}

Test(conf, names)
{
	static const char *const by[] = {
		"sasl", "uid", "sender", "ip", "sasl_domain", "sender_domain"
	};
	static const char *const lim[] = { "messages", "recipients", "ips", "senders", "bounces" };
	int i;

	cr_assert_eq(BY_COUNT, sizeof(by) / sizeof(by[0]));
	cr_expect_eq(BY_IP, 3, "existing kinds keep their values");
	cr_assert_eq(LIM_COUNT, sizeof(lim) / sizeof(lim[0]));
	cr_expect_eq(LIM_IPS, 2, "existing limits keep their values");
	for (i = 0; i < BY_COUNT; i++)
		cr_expect_str_eq(conf_by_name((enum conf_by)i), by[i]);
	for (i = 0; i < LIM_COUNT; i++)
		cr_expect_str_eq(conf_limit_name((enum conf_limit)i), lim[i]);
	cr_expect_null(conf_key_name(conf_key_count()));
	cr_expect_null(conf_key_section(conf_key_count()));
}

/* ---- agent.conf.example and the man page agree with the key table ---- */

/* example_has - 1 when "[section] key" is set in the example text */
static int
example_has(char *const *pairs, size_t n, const char *sec, const char *key)
{
	char want[128];
	size_t i;

	snprintf(want, sizeof(want), "%s|%s", sec, key);
	for (i = 0; i < n; i++)
		if (strcmp(pairs[i], want) == 0)
			return (1);
	return (0);
}

/* table_has - 1 when the key table has key in section sec */
static int
table_has(const char *sec, const char *key)
{
	size_t i;

	for (i = 0; i < conf_key_count(); i++)
		if (strcmp(conf_key_section(i), sec) == 0 && strcmp(conf_key_name(i), key) == 0)
			return (1);
	return (0);
}

Test(conf, example_loads_and_documents_every_key)
{
	struct conf_errs e = { NULL, 0 };
	struct conf *c = NULL;
	char path[512], all[4096], sec[64] = "", *text, *line, *next, *pairs[256];
	size_t i, npairs = 0;
	int rc;

	src_path("agent.conf.example", path, sizeof(path));
	rc = conf_load(path, &c, &e);
	join_errs(&e, all, sizeof(all));
	cr_assert_eq(rc, 0, "agent.conf.example:\n%s", all);
	cr_expect_geq(c->nrules, 1);
	conf_free(c);

	/* Every "key = value" line of the example, with its section. */
	text = read_all(path);
	for (line = text; line != NULL; line = next) {
		char *p = line + strspn(line, " \t"), *eq;
		size_t klen;

		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';

		/*
		 * [cluster] is shown commented out ("#[cluster]", then "#key =
		 * value"): its presence turns the cluster on, which a host alone
		 * must not get from the example.  Its keys count as set.
		 */
		if (strncmp(p, "#[cluster]", 10) == 0 || (strcmp(sec, "cluster") == 0 &&
		    p[0] == '#' && p[1] != ' ' && p[1] != '\0' && strchr(p, '=') != NULL))
			p++;
		if (*p == '#' || *p == '\0')
			continue;
		if (*p == '[') {
			size_t n = strcspn(p + 1, "]");

			snprintf(sec, sizeof(sec), "%.*s", (int)n, p + 1);
			if (strncmp(sec, "limit ", 6) == 0)
				sec[5] = '\0';
			continue;
		}
		eq = strchr(p, '=');
		cr_assert_not_null(eq, "odd line in example: %s", line);
		klen = strcspn(p, " \t=");
		cr_assert_lt(npairs, 256);
		pairs[npairs] = malloc(strlen(sec) + klen + 2);
		cr_assert_not_null(pairs[npairs]);
		snprintf(pairs[npairs], strlen(sec) + klen + 2, "%s|%.*s", sec, (int)klen, p);
		cr_expect(table_has(sec, pairs[npairs] + strlen(sec) + 1),
		    "example sets \"%s\" which the key table does not know", pairs[npairs]);
		npairs++;
	}
	free(text);

	text = read_all(path);
	cr_expect_gt(conf_key_count(), 20);
	for (i = 0; i < conf_key_count(); i++) {
		char doc[600];

		cr_expect(example_has(pairs, npairs, conf_key_section(i), conf_key_name(i)),
		    "key [%s] %s is not set in agent.conf.example",
		    conf_key_section(i), conf_key_name(i));
		if (conf_key_default(i) == NULL)
			continue;
		snprintf(doc, sizeof(doc), "Default: %s\n", conf_key_default(i));
		cr_expect(strstr(text, doc) != NULL,
		    "agent.conf.example does not say \"Default: %s\" for %s",
		    conf_key_default(i), conf_key_name(i));
	}
	free(text);
	for (i = 0; i < npairs; i++)
		free(pairs[i]);
}

/* the example's [cluster], uncommented, is a valid one */
Test(conf, example_cluster_uncommented_loads)
{
	struct conf_errs e = { NULL, 0 };
	struct conf *c = NULL;
	char path[512], tmp[64], all[4096], *text, *line, *next;
	FILE *fp;
	int rc, in = 0;

	src_path("agent.conf.example", path, sizeof(path));
	text = read_all(path);
	snprintf(tmp, sizeof(tmp), "/tmp/sg-test-conf-XXXXXX");
	cr_assert_not_null(fp = fdopen(mkstemp(tmp), "w"));
	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		in = in || strcmp(line, "#[cluster]") == 0;
		fprintf(fp, "%s\n", in && line[0] == '#' && line[1] != ' ' && line[1] != '\0' ? line + 1
											  : line);
	}
	fclose(fp);
	free(text);
	cr_assert(in, "agent.conf.example has no \"#[cluster]\"");
	rc = conf_load(tmp, &c, &e);
	unlink(tmp);
	join_errs(&e, all, sizeof(all));
	cr_assert_eq(rc, 0, "the example's cluster:\n%s", all);
	cr_expect_str_eq(c->cluster_conninfo, "host=db.example.com dbname=sendguard user=sendguard");
	cr_expect_str_eq(c->cluster_node, "mx1");
	conf_free(c);
}

/* without node, the host name is the node's name */
Test(conf, cluster_node_is_the_host_name)
{
	struct conf_errs e = { NULL, 0 };
	struct conf *c = NULL;
	char path[64], host[256];

	cr_assert_eq(gethostname(host, sizeof(host)), 0);
	cr_assert_eq(load_text("[cluster]\nconninfo = host=/run/postgresql\n", &c, &e, path,
	    sizeof(path)), 0);
	cr_expect_str_eq(c->cluster_node, host);
	conf_free(c);
	cr_assert_eq(load_text("[agent]\nmode = monitor\n", &c, &e, path, sizeof(path)), 0);
	cr_expect_null(c->cluster_node, "no [cluster], no cluster");
	cr_expect_null(c->cluster_conninfo);
	conf_free(c);
}

Test(conf, man_page_documents_every_key)
{
	char path[512], want[128], *text;
	size_t i;

	src_path("man/sendguard.conf.5", path, sizeof(path));
	text = read_all(path);
	for (i = 0; i < conf_key_count(); i++) {
		snprintf(want, sizeof(want), "\n.It Cm %s ", conf_key_name(i));
		cr_expect(strstr(text, want) != NULL, "man/sendguard.conf.5 lacks \".It Cm %s\"",
		    conf_key_name(i));
		if (conf_key_default(i) != NULL && strcmp(conf_key_name(i), "block_time_factor") != 0)
			cr_expect(strstr(text, conf_key_default(i)) != NULL,
			    "man page does not give the default %s of %s",
			    conf_key_default(i), conf_key_name(i));
	}
	free(text);
}

/* ---- sendguard check-config ---- */

struct cli_row {
	const char *name;
	const char *args[4];	/* after "check-config"; {name}: name's source path */
	int	exit;
	const char *out;	/* substring of stdout, or NULL */
	const char *err;	/* substring of stderr, or NULL */
};

static const struct cli_row cli_rows[] = {
	{ "broken file: first error", { "-c", "{samples/conf/broken.conf}" }, 2, NULL,
	  "{samples/conf/broken.conf}:3: mode: unknown value 'enforcing'" },
	{ "broken file: a rule error", { "-c", "{samples/conf/broken.conf}" }, 2, NULL,
	  "{samples/conf/broken.conf}:16: actions: block needs by = sasl or by = sender" },
	{ "broken file: the count", { "-c", "{samples/conf/broken.conf}" }, 2, NULL,
	  "sendguard: 12 errors in {samples/conf/broken.conf}\n" },
	{ "one error", { "-c", "{samples/conf/needs-exec.conf}" }, 2, NULL,
	  "{samples/conf/needs-exec.conf}:5: actions: exec needs 'command' in [action exec]\n"
	  "sendguard: 1 error in " },
	{ "missing file", { "-c", "/nonexistent/agent.conf" }, 2, NULL,
	  "/nonexistent/agent.conf: No such file or directory" },
	{ "good file: mode", { "-c", "{samples/conf/good.conf}" }, 0, "mode enforce\n", NULL },
	{ "good file: log and state", { "-c", "{samples/conf/good.conf}" }, 0,
	  "log /var/log/mail.log\nstate /var/lib/sendguard/state.db\n", NULL },
	{ "good file: rule summary", { "-c", "{samples/conf/good.conf}" }, 0,
	  "rule submission: by sasl, messages 100/1h 1000/1d, recipients 2000/1d, ips 10/1h; "
	  "actions hold, block, notify; block_time 1h x2\n", NULL },
	{ "good file: matched rule", { "-c", "{samples/conf/good.conf}" }, 0,
	  "rule webapps: by uid match 33 1001, messages 50/1h; actions hold, notify; block_time 1h\n", NULL },
	{ "good file: exemptions", { "-c", "{samples/conf/good.conf}" }, 0,
	  "exempt sasl: newsletter@example.com\nexempt uid: 0\n", NULL },
	{ "-cFILE form", { "-c{samples/conf/minimal.conf}" }, 0,
	  "mode monitor\nlog - (standard input)\n", NULL },
	{ "minimal: folded glob", { "-c", "{samples/conf/minimal.conf}" }, 0,
	  "rule senders: by sender match *@example.com, messages 20/10m; actions none; block_time 1h\n"
	  "exempt none\n", NULL },
	{ "CRLF and BOM", { "-c", "{samples/conf/crlf-bom.conf}" }, 0,
	  "rule a: by ip, messages 5/1m; actions none", NULL },
	{ "the example", { "-c", "{agent.conf.example}" }, 0,
	  "exempt ip: 127.0.0.1, ::1\n", NULL },
	{ "the example follows the journal", { "-c", "{agent.conf.example}" }, 0,
	  "log journal\npostfix_user postfix\n", NULL },
	{ "a missing journal", { "-c", "{samples/conf/journal-missing.conf}" }, 2, NULL,
	  "sendguard: {samples/conf/journal-missing.conf}: log: journal:/nonexistent/sendguard/journal: "
	  "cannot open: No such file or directory\n" },
	{ "half-finished edit is refused", { "-c", "{samples/conf/half-edit.conf}" }, 2, NULL,
	  "{samples/conf/half-edit.conf}:10: messages: '10 minutes' is not COUNT/WINDOW (e.g. 100/1h)\n"
	  "sendguard: 1 error in " },
	{ "domain kinds", { "-c", "{samples/conf/ranges-domains.conf}" }, 0,
	  "rule tenants: by sender_domain, messages 500/1h; actions hold, block, notify; block_time 1h\n"
	  "rule logins-per-domain: by sasl_domain, messages 2000/1d; actions hold, notify; block_time 1h\n", NULL },
	{ "ranges after the globs", { "-c", "{samples/conf/ranges-domains.conf}" }, 0,
	  "rule nets: by ip match 192.0.2.7 203.0.113.0/24 2001:db8::/32, messages 100/1h; actions hold; block_time 1h\n"
	  "exempt ip: 127.0.0.1, ::1, 10.0.0.0/8\nexempt sasl_domain: lists.example.com\n", NULL },
	{ "help", { "--help" }, 0, "usage: sendguard check-config [-c FILE]", NULL },
	{ "-c without file", { "-c" }, 2, NULL, "-c needs a FILE" },
	{ "unknown option", { "-x" }, 2, NULL, "unexpected argument '-x'" },
};

/* expand - a "{name}" in "in" replaced by the source path of name */
static void
expand(const char *in, char *out, size_t len)
{
	const char *open = strchr(in, '{'), *close = open ? strchr(open, '}') : NULL;
	char src[512], name[256];

	if (open == NULL || close == NULL) {
		snprintf(out, len, "%s", in);
		return;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(close - open - 1), open + 1);
	src_path(name, src, sizeof(src));
	snprintf(out, len, "%.*s%s%s", (int)(open - in), in, src, close + 1);
}

/* run_cli - bin check-config args...; exit code, stdout and stderr */
static int
run_cli(const char *bin, char *const *argv, char **out, char **err)
{
	char opath[64], epath[64];
	int ofd, efd, status;
	pid_t pid;

	snprintf(opath, sizeof(opath), "/tmp/sg-test-conf-outXXXXXX");
	snprintf(epath, sizeof(epath), "/tmp/sg-test-conf-errXXXXXX");
	cr_assert((ofd = mkstemp(opath)) >= 0);
	cr_assert((efd = mkstemp(epath)) >= 0);
	fflush(NULL);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(ofd, 1);
		dup2(efd, 2);
		execv(bin, argv);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	close(ofd);
	close(efd);
	*out = read_all(opath);
	*err = read_all(epath);
	unlink(opath);
	unlink(epath);
	cr_assert(WIFEXITED(status), "%s did not exit normally", bin);
	return (WEXITSTATUS(status));
}

Test(conf, check_config_command)
{
	const char *bin = getenv("SG_BIN");
	size_t i, j;

	if (bin == NULL || *bin == '\0')
		bin = "build/san/sendguard";
	if (access(bin, X_OK) != 0)
		cr_skip_test("no sendguard binary at %s (set SG_BIN)", bin);
	for (i = 0; i < sizeof(cli_rows) / sizeof(cli_rows[0]); i++) {
		const struct cli_row *r = &cli_rows[i];
		char a0[] = "sendguard", a1[] = "check-config";
		char args[4][600], want[1200], *argv[7], *out, *err;
		int rc;

		argv[0] = a0;
		argv[1] = a1;
		for (j = 0; j < 4 && r->args[j]; j++) {
			expand(r->args[j], args[j], sizeof(args[j]));
			argv[2 + j] = args[j];
		}
		argv[2 + j] = NULL;
		rc = run_cli(bin, argv, &out, &err);
		cr_expect_eq(rc, r->exit, "%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s",
		    r->name, rc, r->exit, out, err);
		if (r->out) {
			expand(r->out, want, sizeof(want));
			cr_expect(strstr(out, want) != NULL, "%s: stdout lacks \"%s\":\n%s",
			    r->name, want, out);
		}
		if (r->err) {
			expand(r->err, want, sizeof(want));
			cr_expect(strstr(err, want) != NULL, "%s: stderr lacks \"%s\":\n%s",
			    r->name, want, err);
		}
		if (r->exit == 2 && r->err && strncmp(r->name, "broken", 6) == 0)
			cr_expect_str_eq(out, "", "%s: nothing on stdout on errors", r->name);
		free(out);
		free(err);
	}
}

/* An audit with [exempt] ip ranges leaves those clients out of the report. */
Test(conf, audit_leaves_out_an_exempt_range)
{
	static const char text[] = "[exempt]\nip = 203.0.113.0/24, 2001:db8::/32\n";
	const char *bin = getenv("SG_BIN");
	char a0[] = "sendguard", a1[] = "audit", a2[] = "--format", a3[] = "json", a4[] = "--year",
	    a5[] = "2024", a6[] = "-c", cpath[64], log[512], *argv[10], *out, *err;
	int rc;

	if (bin == NULL || *bin == '\0')
		bin = "build/san/sendguard";
	if (access(bin, X_OK) != 0)
		cr_skip_test("no sendguard binary at %s (set SG_BIN)", bin);
	write_tmp(text, sizeof(text) - 1, cpath, sizeof(cpath));
	src_path("samples/incident.log", log, sizeof(log));
	argv[0] = a0; argv[1] = a1; argv[2] = a2; argv[3] = a3; argv[4] = a4; argv[5] = a5;
	argv[6] = a6; argv[7] = cpath; argv[8] = log; argv[9] = NULL;
	rc = run_cli(bin, argv, &out, &err);
	unlink(cpath);
	cr_expect(rc == 0 || rc == 1, "audit exit %d:\n%s", rc, err);
	cr_expect(strstr(out, "\"ip:198.51.100.") != NULL, "other clients are reported:\n%.500s", out);
	cr_expect(strstr(out, "\"ip:203.0.113.") == NULL, "203.0.113.0/24 is exempt:\n%.2000s", out);
	free(out);
	free(err);
}
