/* test_iflinks.c - the RTM_NEWLINK parser of agent/iflinks.c on crafted
 * netlink datagrams: names, aliases and IFLA_MASTER (a VRF's slaves), the
 * end of a dump and its errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "iflinks.h"

struct dgram {
	char buf[4096] __attribute__((aligned(4)));
	size_t len;
};

static struct rtattr *attr(struct nlmsghdr *h, unsigned short type,
			   const void *data, size_t len)
{
	struct rtattr *a =
		(struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

/* One RTM_NEWLINK of ifindex, name and master (0: none) at the end. */
static void link_msg(struct dgram *d, int ifindex, const char *name,
		     uint32_t master)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(d->buf + d->len);
	struct ifinfomsg *ifi = NLMSG_DATA(h);

	memset(h, 0, NLMSG_SPACE(sizeof(*ifi)));
	h->nlmsg_type = RTM_NEWLINK;
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	ifi->ifi_index = ifindex;
	attr(h, IFLA_IFNAME, name, strlen(name) + 1);
	if (master)
		attr(h, IFLA_MASTER, &master, sizeof(master));
	d->len += NLMSG_ALIGN(h->nlmsg_len);
}

static void done_msg(struct dgram *d, int type, int error)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(d->buf + d->len);

	memset(h, 0, NLMSG_SPACE(sizeof(struct nlmsgerr)));
	h->nlmsg_type = type;
	h->nlmsg_len = NLMSG_LENGTH(sizeof(struct nlmsgerr));
	((struct nlmsgerr *)NLMSG_DATA(h))->error = error;
	d->len += NLMSG_ALIGN(h->nlmsg_len);
}

/* A VRF (ifindex 9) with two slaves, and a link without a master; the
 * dump spans two datagrams.
 */
static void test_masters(void **state)
{
	static struct dgram a, b;
	struct fe_link out[8];
	int n = 0;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	link_msg(&a, 9, "vrf-blue", 0);
	link_msg(&a, 5, "eth1", 9);
	assert_int_equal(fe_links_parse(a.buf, a.len, out, 8, &n), 0);
	assert_int_equal(n, 2);
	link_msg(&b, 6, "eth2", 9);
	link_msg(&b, 2, "eth0", 0);
	done_msg(&b, NLMSG_DONE, 0);
	assert_int_equal(fe_links_parse(b.buf, b.len, out, 8, &n), 1);
	assert_int_equal(n, 4);
	assert_int_equal(out[0].ifindex, 9);
	assert_int_equal(out[0].master, 0);
	assert_string_equal(out[0].name, "vrf-blue");
	assert_int_equal(out[1].ifindex, 5);
	assert_int_equal(out[1].master, 9);
	assert_int_equal(out[2].master, 9);
	assert_string_equal(out[2].name, "eth2");
	assert_int_equal(out[3].master, 0);
	assert_string_equal(out[3].alias, "");
}

/* More links than room: the first max kept; an error ends the dump. */
static void test_limits(void **state)
{
	static struct dgram d;
	struct fe_link out[1];
	int n = 0;

	memset(&d, 0, sizeof(d));
	link_msg(&d, 3, "a", 1);
	link_msg(&d, 4, "b", 1);
	done_msg(&d, NLMSG_DONE, 0);
	assert_int_equal(fe_links_parse(d.buf, d.len, out, 1, &n), 1);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].ifindex, 3);
	memset(&d, 0, sizeof(d));
	n = 0;
	done_msg(&d, NLMSG_ERROR, -13);
	assert_int_equal(fe_links_parse(d.buf, d.len, out, 1, &n), -13);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_masters),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
