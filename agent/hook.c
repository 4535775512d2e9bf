/* hook.c - a meter set's hooks on the devices of the current netns: which
 * meters a device gets (egress tc, ingress tc or XDP, with a warning where
 * XDP costs more than it saves), removing them, and listing them. The
 * hooks themselves are hook_tc.c's and hook_xdp.c's.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/sockios.h>
#include "meter_int.h"
#include "log.h"

/* An ioctl about ifname in the current netns, where it lives; 0 or -errno
 * (what failed is logged: "what" on ifname).
 */
static int dev_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr,
		     const char *what)
{
	int fd, err;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		pr_warn("attach meters on %s: socket for the %s: %s\n", ifname,
			what, strerror(errno));
		return err;
	}
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	err = ioctl(fd, req, ifr) ? -errno : 0;
	close(fd);
	return err;
}

/* The parser assumes an Ethernet header: refuse L3 devices (WireGuard,
 * tun, IP tunnels), whose packets it would misread.
 */
static int check_ethernet(const char *ifname)
{
	struct ifreq ifr = {};
	int err;

	err = dev_ioctl(ifname, SIOCGIFHWADDR, &ifr, "device type");
	if (err) {
		pr_warn("attach meters on %s: device type: %s\n", ifname,
			strerror(-err));
		return err;
	}
	if (ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER ||
	    ifr.ifr_hwaddr.sa_family == ARPHRD_LOOPBACK)
		return 0;
	pr_warn("attach meters on %s: not an Ethernet device (type %u); "
		"flowexp meters Ethernet devices only\n",
		ifname, ifr.ifr_hwaddr.sa_family);
	return -EPFNOSUPPORT;
}

/* Forwarded TCP with the meters, as a share of the throughput without any
 * (make bench-forwarding, iperf3 through the 3-link router of veths,
 * median of 5 rounds; docs/scale.md): XDP, even a bare XDP_PASS program,
 * against tc ingress.
 */
#define HOOK_XDP_VETH_COST "0.14x"
#define HOOK_TC_VETH_COST "0.95x"

/* Drivers that give up GSO/GRO (the stack's, or the device's offloads) as
 * soon as an XDP program is attached, whatever it does.
 */
static const char *const xdp_costly_drivers[] = { "veth", "virtio_net" };

/* Says what XDP costs on a device of a costly driver (issue 8: measured by
 * make bench-forwarding on the router's veths, docs/scale.md).
 */
static void warn_xdp_cost(const char *ifname)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { .ifr_data = (void *)&info };

	if (dev_ioctl(ifname, SIOCETHTOOL, &ifr, "driver"))
		return;
	for (size_t i = 0;
	     i < sizeof(xdp_costly_drivers) / sizeof(xdp_costly_drivers[0]);
	     i++) {
		if (strcmp(info.driver, xdp_costly_drivers[i]))
			continue;
		pr_warn("XDP meter on %s: a %s device loses GSO/GRO with any "
			"XDP program attached: forwarded TCP through veth "
			"measured %s of the throughput without XDP, tc "
			"ingress %s (make bench-forwarding); meter it with "
			"ingress = tc (flowctl attach --mode tc)\n",
			ifname, info.driver, HOOK_XDP_VETH_COST,
			HOOK_TC_VETH_COST);
		return;
	}
}

int meter__attach(struct meter *m, const char *ifname, enum fe_ingress ing,
		  bool xdp_skb)
{
	int ifindex = if_nametoindex(ifname);
	bool fresh;
	int err;

	if (!ifindex) {
		err = -errno;
		pr_warn("attach meters on %s: %s\n", ifname, strerror(errno));
		return err;
	}
	if (!m->maps_ok) {
		pr_warn("attach meters on %s: the meter set %s is incomplete "
			"or of another flowexp version\n",
			ifname, m->pin);
		return -EPROTO;
	}
	err = check_ethernet(ifname);
	if (err)
		return err;
	err = hook_tc_attach(m, ifname, ifindex, true);
	if (err)
		return err;
	/* what the egress meter counts and a qdisc then drops: one global
	 * hook for the set, made with its first egress meter (or again)
	 */
	if (m->prog_drop_fd >= 0 && !hook_drop_attached(m))
		hook_drop_attach(m);
	switch (ing) {
	case FE_INGRESS_KEEP:
		return 0;
	case FE_INGRESS_XDP:
		hook_tc_detach(m, ifindex, false);
		fresh = !hook_xdp_mode(m, ifindex);
		err = hook_xdp_attach(m, ifname, ifindex, xdp_skb);
		if (!err && fresh)
			warn_xdp_cost(ifname);
		return err;
	case FE_INGRESS_TC:
		hook_xdp_detach(m, ifindex);
		return hook_tc_attach(m, ifname, ifindex, false);
	case FE_INGRESS_OFF:
		/* egress only: an ingress meter left from an earlier mode
		 * would count forwarded packets twice in the agent's view
		 */
		hook_tc_detach(m, ifindex, false);
		return hook_xdp_detach(m, ifindex);
	}
	return 0;
}

int meter__detach(struct meter *m, const char *ifname, int ifindex)
{
	int err;

	if (ifname) {
		ifindex = if_nametoindex(ifname);
		if (!ifindex) {
			err = -errno;
			pr_warn("detach meters from %s: %s\n", ifname,
				strerror(errno));
			return err;
		}
	}
	hook_tc_detach(m, ifindex, true);
	hook_tc_detach(m, ifindex, false);
	err = hook_xdp_detach(m, ifindex);
	if (err)
		pr_warn("detach XDP meter from %s: %s\n",
			ifname ? ifname : "device", strerror(-err));
	return err;
}

int meter__attachments(struct meter *m, struct meter_attachment *out, int max)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int n = 0;

	if (!ifs)
		return -errno;
	for (i = ifs; i->if_index && n < max; i++) {
		struct meter_attachment a = { .ifindex = i->if_index };
		const char *eg = hook_tc_kind(m, a.ifindex, true);
		const char *in = hook_tc_kind(m, a.ifindex, false);

		snprintf(a.ifname, sizeof(a.ifname), "%s", i->if_name);
		a.egress = eg != NULL;
		a.ingress_tc = in != NULL;
		a.tc_kind = in ? in : eg;
		a.xdp_mode = hook_xdp_mode(m, a.ifindex);
		a.ingress_xdp = a.xdp_mode != NULL;
		if (a.egress || a.ingress_tc || a.ingress_xdp)
			out[n++] = a;
	}
	if_freenameindex(ifs);
	return n;
}

int meter__detach_all(struct meter *m)
{
	struct meter_attachment at[256];
	int n, err = 0;

	n = meter__attachments(m, at, 256);
	for (int i = 0; i < n; i++)
		if (meter__detach(m, NULL, at[i].ifindex))
			err = -EIO;
	/* links of devices that are gone, and of deleted netns */
	hook_tc_sweep_links(m->pin, true);
	return n < 0 ? n : err;
}

int meter__detach_links(const char *pin_path)
{
	hook_tc_sweep_links(pin_path ? pin_path : FE_DEFAULT_PIN_PATH, true);
	return 0;
}

void meter__sweep_defunct(struct meter *m)
{
	hook_tc_sweep_links(m->pin, false);
}
