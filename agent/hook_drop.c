/* hook_drop.c - the meter set's one global hook: fe_kfree_skb on the
 * kfree_skb tracepoint (tp_btf), which takes back what an egress meter
 * counted and the stack then dropped. Its link is pinned (tp_kfree_skb:
 * not link_*, the tc links hook_tc.c sweeps) and lives as long as that
 * pin, in every netns the set meters, whatever the devices: hook.c makes
 * it with an egress meter.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "meter_int.h"
#include "log.h"

bool hook_drop_attached(const struct meter *m)
{
	char path[PATH_MAX];

	return !meter_pin_name(m, FE_PIN_LINK_DROP, path, sizeof(path)) &&
	       access(path, F_OK) == 0;
}

int hook_drop_attach(struct meter *m)
{
	char path[PATH_MAX];
	int fd, err;

	if (m->prog_drop_fd < 0) /* loaded without it (see meter.c) */
		return -EOPNOTSUPP;
	if (hook_drop_attached(m))
		return 0;
	err = meter_pin_name(m, FE_PIN_LINK_DROP, path, sizeof(path));
	if (err)
		return err;
	/* a tp_btf program knows its tracepoint: no name */
	fd = bpf_raw_tracepoint_open(NULL, m->prog_drop_fd);
	if (fd < 0) {
		err = -errno;
		pr_warn("attach the drop meter to tracepoint kfree_skb: %s; "
			"packets a qdisc drops stay counted as sent\n",
			strerror(errno));
		return err;
	}
	err = bpf_obj_pin(fd, path) ? -errno : 0;
	close(fd);
	if (err == -EEXIST) /* a concurrent attach pinned its own */
		return 0;
	if (err)
		pr_warn("pin %s: %s\n", path, strerror(-err));
	return err;
}
