/* hook_xdp.c - the XDP meter on a device through libxdp: in libxdp's
 * dispatcher beside other programs, else alone in the mode asked for.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "meter_int.h"
#include "log.h"

/* The id of the program attached to the device, 0 when none; *mode its
 * XDP_ATTACHED_* mode.
 */
static int xdp_attached_id(int ifindex, int *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return 0;
	if (mode)
		*mode = q.attach_mode;
	return q.prog_id;
}

/* Whether our program is on the device: attached alone or as a libxdp
 * dispatcher's component (then *in_dispatcher is set).
 */
static bool xdp_is_ours(struct meter *m, int ifindex, bool *in_dispatcher)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p = NULL;
	bool found = false;

	*in_dispatcher = false;
	if (!m->prog_xdp_id) /* a set without its XDP program pin */
		return false;
	if (xdp_attached_id(ifindex, NULL) == (int)m->prog_xdp_id)
		return true;
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (libxdp_get_error(mp) || !mp)
		return false;
	if (!xdp_multiprog__is_legacy(mp)) {
		while ((p = xdp_multiprog__next_prog(p, mp)))
			if (xdp_program__id(p) == m->prog_xdp_id)
				found = true;
	}
	xdp_multiprog__close(mp);
	*in_dispatcher = found;
	return found;
}

int hook_xdp_attach(struct meter *m, const char *ifname, int ifindex, bool skb)
{
	struct xdp_program *prog;
	bool disp;
	int err;

	if (xdp_is_ours(m, ifindex, &disp))
		return 0;
	prog = xdp_program__from_fd(m->prog_xdp_fd);
	err = libxdp_get_error(prog);
	if (err) {
		pr_warn("XDP program for %s: %s\n", ifname, strerror(-err));
		return err;
	}
	err = xdp_program__attach(prog, ifindex,
				  skb ? XDP_MODE_SKB : XDP_MODE_NATIVE, 0);
	if (err) {
		int other = xdp_attached_id(ifindex, NULL);

		if (other)
			pr_warn("attach XDP meter on %s: %s (XDP program id %d "
				"is already attached and libxdp's dispatcher "
				"is unavailable)\n",
				ifname, strerror(-err), other);
		else
			pr_warn("attach XDP meter (%s mode) on %s: %s\n",
				skb ? "skb" : "native", ifname, strerror(-err));
	}
	xdp_program__close(prog);
	return err;
}

int hook_xdp_detach(struct meter *m, int ifindex)
{
	int mode = 0;
	bool disp;

	if (!xdp_is_ours(m, ifindex, &disp))
		return 0;
	if (!disp) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, o,
			    .old_prog_fd = m->prog_xdp_fd);
		__u32 flags;

		xdp_attached_id(ifindex, &mode);
		flags = mode == XDP_ATTACHED_SKB  ? XDP_FLAGS_SKB_MODE
			: mode == XDP_ATTACHED_HW ? XDP_FLAGS_HW_MODE
						  : XDP_FLAGS_DRV_MODE;
		flags |= XDP_FLAGS_REPLACE;
		if (bpf_xdp_detach(ifindex, flags, &o))
			return -errno;
		return 0;
	}
	struct xdp_program *prog = xdp_program__from_fd(m->prog_xdp_fd);
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	int err = libxdp_get_error(prog);

	if (!err)
		err = xdp_program__detach(prog, ifindex,
					  xdp_multiprog__attach_mode(mp), 0);
	xdp_multiprog__close(mp);
	xdp_program__close(prog);
	return err;
}

const char *hook_xdp_mode(struct meter *m, int ifindex)
{
	int mode = 0;
	bool disp;

	if (!xdp_is_ours(m, ifindex, &disp))
		return NULL;
	xdp_attached_id(ifindex, &mode);
	return disp			  ? "dispatcher"
	       : mode == XDP_ATTACHED_SKB ? "skb"
	       : mode == XDP_ATTACHED_HW  ? "hw"
					  : "native";
}
