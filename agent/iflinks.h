/* iflinks.h - the network links of the calling thread's namespace, as
 * rtnetlink lists them: index, name and alias (the interface names the
 * options records carry), and master (the dedup of forwarded packets).
 */
#ifndef FE_IFLINKS_H
#define FE_IFLINKS_H
#include <stddef.h>
#include <stdint.h>

#define FE_LINK_ALIAS_MAX 256 /* IFALIASZ */

struct fe_link {
	uint32_t ifindex;
	uint32_t master; /* IFLA_MASTER (VRF, bridge, bond), 0: none */
	char name[16];	 /* IFNAMSIZ */
	char alias[FE_LINK_ALIAS_MAX]; /* "" when not set */
};

/* Fills out[0..max) with the links of the current network namespace (an
 * RTM_GETLINK dump; netlink answers in the namespace of the socket, unlike
 * sysfs, which shows the one it was mounted in). Returns how many links
 * were stored (a namespace with more than max is cut short) or -errno.
 */
int fe_links_read(struct fe_link *out, int max);

/* The RTM_NEWLINK messages of one netlink datagram (len octets) into
 * out[*n..max): 1 at NLMSG_DONE, 0 when more datagrams follow, -errno
 * for an NLMSG_ERROR. For tests too.
 */
int fe_links_parse(const void *buf, size_t len, struct fe_link *out, int max,
		   int *n);

#endif
