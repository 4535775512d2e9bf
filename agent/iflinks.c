/* iflinks.c - the links of the current network namespace through one
 * rtnetlink dump (RTM_GETLINK): index, IFLA_IFNAME, IFLA_IFALIAS,
 * IFLA_MASTER.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "iflinks.h"

static void links_copy(char *dst, size_t cap, const struct rtattr *a)
{
	size_t n = RTA_PAYLOAD(a);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, RTA_DATA(a), n);
	dst[n] = 0;
}

/* One RTM_NEWLINK message into out. */
static void links_parse(const struct nlmsghdr *h, struct fe_link *out)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
	const struct rtattr *a = IFLA_RTA(ifi);

	memset(out, 0, sizeof(*out));
	out->ifindex = ifi->ifi_index;
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_IFNAME)
			links_copy(out->name, sizeof(out->name), a);
		else if (a->rta_type == IFLA_IFALIAS)
			links_copy(out->alias, sizeof(out->alias), a);
		else if (a->rta_type == IFLA_MASTER &&
			 RTA_PAYLOAD(a) >= sizeof(uint32_t))
			memcpy(&out->master, RTA_DATA(a), sizeof(uint32_t));
	}
}

static int links_request(int fd)
{
	char buf[NLMSG_SPACE(sizeof(struct ifinfomsg))]
		__attribute__((aligned(4))) = { 0 };
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct ifinfomsg *ifi = NLMSG_DATA(h);

	/* every link, all families */
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	h->nlmsg_type = RTM_GETLINK;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	h->nlmsg_seq = 1;
	ifi->ifi_family = AF_UNSPEC;
	return send(fd, buf, h->nlmsg_len, 0) < 0 ? -errno : 0;
}

int fe_links_parse(const void *buf, size_t len, struct fe_link *out, int max,
		   int *n)
{
	const struct nlmsghdr *h = buf;

	for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
		if (h->nlmsg_type == NLMSG_DONE)
			return 1;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			return e->error ? e->error : -EIO;
		}
		if (h->nlmsg_type == RTM_NEWLINK && *n < max &&
		    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg)))
			links_parse(h, &out[(*n)++]);
	}
	return 0;
}

/* Reads the dump's messages until NLMSG_DONE. */
static int links_collect(int fd, struct fe_link *out, int max)
{
	char buf[32768] __attribute__((aligned(4)));
	int n = 0, ret;

	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);

		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			return len < 0 ? -errno : -EIO;
		ret = fe_links_parse(buf, (size_t)len, out, max, &n);
		if (ret)
			return ret < 0 ? ret : n;
	}
}

int fe_links_read(struct fe_link *out, int max)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	int ret;

	if (fd < 0)
		return -errno;
	ret = links_request(fd);
	if (!ret)
		ret = links_collect(fd, out, max);
	close(fd);
	return ret;
}
