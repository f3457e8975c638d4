/*
 * NAME
 *	test_clients - the client addresses kept per identity (count/clients)
 *	and the one address reader they share with the limits and the block
 *	line (util/ident ident_ip)
 * SUMMARY
 *	What reaches %a, explain, status and the block line is only ever a
 *	list of real addresses: text a forged client= line puts between the
 *	brackets (a comma-separated list, "unknown", a word) is not kept.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "count/clients.h"
#include "util/ident.h"

struct ipcase {
	const char *in;
	int ok;
};

Test(clients, ident_ip_takes_addresses_only)
{
	static const struct ipcase rows[] = {
		{ "192.0.2.7", 1 },
		{ "2001:db8::7", 1 },
		{ "ipv6:2001:db8::7", 1 },
		{ "IPv6:::1", 1 },
		{ "unknown", 0 },
		{ "", 0 },
		{ "192.0.2.7,203.0.113.9", 0 },
		{ "192.0.2.256", 0 },
		{ "ipv6:192.0.2.7x", 0 },
	};
	unsigned char a[16], b[16];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		cr_expect_eq(ident_ip(rows[i].in, a), rows[i].ok, "%s", rows[i].in);
	cr_assert_eq(ident_ip("ipv6:2001:DB8::7", a), 1);
	cr_assert_eq(ident_ip("2001:db8:0::7", b), 1);
	cr_expect_eq(memcmp(a, b, 16), 0, "one address, two spellings, the same bytes");
	cr_assert_eq(ident_ip("192.0.2.7", a), 1);
	cr_expect_eq(a[10], 0xff, "IPv4 as ::ffff:a.b.c.d");
	cr_expect_eq(a[15], 7);
}

Test(clients, a_forged_address_list_is_not_kept)
{
	struct clients *c = clients_new();
	struct clients_ip out[CLIENTS_MAX];
	char text[CLIENTS_TEXT_MAX];
	int cut;
	size_t n;

	cr_assert_not_null(c);
	cr_assert_eq(clients_add(c, "sasl:alice@example.com", "192.0.2.7", 1000000), 0);
	cr_assert_eq(clients_add(c, "sasl:alice@example.com", "192.0.2.7,203.0.113.9", 2000000), 0);
	cr_assert_eq(clients_add(c, "sasl:alice@example.com", "unknown", 3000000), 0);
	cr_assert_eq(clients_add(c, "sasl:alice@example.com", "2001:db8::7", 4000000), 0);
	n = clients_list(c, "sasl:alice@example.com", 0, 5000000, out, &cut);
	cr_assert_eq(n, 2, "only the two real addresses: %zu", n);
	cr_expect_str_eq(clients_join(out, n, cut, text, sizeof(text)), "2001:db8::7,192.0.2.7");
	clients_free(c);
}

/* What clients_ip_ok() takes is what clients_add() keeps (limits checks a message's address once with it). */
Test(clients, ip_ok_is_what_add_keeps)
{
	static const struct {
		const char *ip;
		int ok;
	} t[] = { { "192.0.2.7", 1 }, { "2001:db8::7", 1 }, { "unknown", 0 }, { "", 0 },
		{ NULL, 0 }, { "192.0.2.7,203.0.113.9", 0 }, { "192.0.2.777", 0 },
		{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc", 0 } };
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct clients *c = clients_new();
		struct clients_ip out[CLIENTS_MAX];
		int cut;

		cr_assert_not_null(c);
		cr_expect_eq(clients_ip_ok(t[i].ip), t[i].ok, "%s", t[i].ip ? t[i].ip : "(null)");
		cr_assert_eq(clients_add(c, "sasl:a@example.com", t[i].ip, 1000000), 0);
		cr_expect_eq(clients_list(c, "sasl:a@example.com", 0, 2000000, out, &cut),
		    (size_t)t[i].ok, "%s", t[i].ip ? t[i].ip : "(null)");
		clients_free(c);
	}
}

/*
 * clients_ip_fits() with ident_ip()'s answer is clients_ip_ok(): the
 * limits parse a message's address once for its windows and its client
 * list.  An address the windows take may still be too long for the list
 * (an "IPv6:" prefix on a 45-byte address).
 */
Test(clients, ip_fits_with_the_parse_given)
{
	static const struct {
		const char *ip;
		int parsed, ok;
	} t[] = { { "192.0.2.7", 1, 1 }, { "2001:db8::7", 1, 1 }, { "unknown", 0, 0 },
		{ "", 0, 0 }, { NULL, 0, 0 },
		{ "IPv6:0000:0000:0000:0000:0000:ffff:192.000.002.007", 0, 0 },
		{ "IPv6:0000:0000:0000:0000:0000:0000:0000:0001", 1, 1 },
		{ "IPv6:0000:0000:0000:0000:0000:ffff:0000:0001:", 0, 0 },
		{ "IPv6:0000:0000:0000:0000:0000:ffff:c000:0207", 1, 1 },
		{ "IPv6:0000:0000:0000:0000:0000:0000:192.0.2.7", 1, 1 },
		{ "ipv6:0000:0000:0000:0000:0000:ffff:192.0.2.77", 1, 1 },
		{ "IPv6:0000:0000:0000:0000:0000:ffff:192.000.2.7", 0, 0 },
		{ "IPv6:0000:0000:0000:0000:0000:ffff:192.0.002.77", 0, 0 },
		{ "IPv6:0000:0000:0000:0000:0000:0000:0000:0000:0001", 0, 0 },
		{ "IPv6:0000:0000:0000:0000:0000:ffff:255.255.255.255", 1, 0 } };
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		unsigned char a[16];
		int parsed = ident_ip(t[i].ip, a);
		const char *s = t[i].ip ? t[i].ip : "(null)";

		cr_expect_eq(parsed, t[i].parsed, "%s: parsed", s);
		cr_expect_eq(clients_ip_fits(t[i].ip, parsed), t[i].ok, "%s", s);
		cr_expect_eq(clients_ip_fits(t[i].ip, parsed), clients_ip_ok(t[i].ip), "%s", s);
	}
}
