/* meter.c - loads, pins, attaches and drains the BPF meters (the only user
 * of the skeleton). Pins under the meter set's directory:
 *   fe_outer, fe_stats           maps the programs use
 *   fe_flows_a/b, fe_ovf_a/b     inner maps: one of each pair is live in
 *                                fe_outer, the other is the spare
 *   prog_tc_egress, prog_tc_ingress, prog_xdp
 *   link_<netns inode>_<ifindex>_<eg|in>   TCX links (kept alive by the pin)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "meter.h"
#include "log.h"
#include "netns.h"
#include "meter.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
/* TCX attach types (kernel >= 6.6); Debian 12's headers predate them. */
#define FE_BPF_TCX_INGRESS 46
#define FE_BPF_TCX_EGRESS 47
/* clsact fallback: our filter's handle and priority on the hook. */
#define FE_TC_HANDLE 0xfe
#define FE_TC_PRIO 0xfe00
#define FE_STATE_DIR "/run/flowexp"
#define DRAIN_BATCH 512
/* How long a creator waits for another one before giving up (ms). */
#define CREATE_LOCK_WAIT_MS 30000

_Static_assert(sizeof(struct fe_flow_key) == 52, "fe_flow_key layout");
_Static_assert(sizeof(struct fe_flow_val) == 48, "fe_flow_val layout");

struct meter {
	char pin[PATH_MAX];
	int outer_fd, stats_fd;
	int flows_fd[2], ovf_fd[2]; /* [0] = a, [1] = b */
	uint32_t flows_id[2], ovf_id[2];
	int prog_eg_fd, prog_in_fd, prog_xdp_fd;
	uint32_t prog_eg_id, prog_in_id, prog_xdp_id;
	unsigned int max_flows;
	int ncpu;
	struct fe_flow_key *keys; /* drain buffers */
	struct fe_flow_val *vals;
	int lock_fd; /* the pin directory, flock()ed by meter__lock() */
	/* false: opened with METER_F_ANY_LAYOUT and the maps are missing or
	 * of another layout; only the program ids (attach state) are usable
	 */
	bool maps_ok;
	bool swept; /* defunct link pins dropped once (by the first attach) */
};

static int pin_name(const struct meter *m, const char *name, char *buf,
		    size_t len)
{
	int n = snprintf(buf, len, "%s/%s", m->pin, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static uint32_t fd_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	/* map and prog info both start with type, id */
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

static int ensure_bpffs(const char *pin)
{
	struct statfs st;
	char path[PATH_MAX];
	char *p;

	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type != BPF_FS_MAGIC) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
			int err = -errno;

			pr_warn("mount bpffs on /sys/fs/bpf: %s\n",
				strerror(errno));
			return err;
		}
		pr_info("mounted bpffs on /sys/fs/bpf\n");
	}
	snprintf(path, sizeof(path), "%s", pin);
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0700) && errno != EEXIST)
			goto err;
		*p = '/';
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		goto err;
	if (statfs(pin, &st) == 0 && st.f_type != BPF_FS_MAGIC) {
		pr_warn("pin path %s is not on a bpffs file system\n", pin);
		return -EINVAL;
	}
	return 0;
err:
	pr_warn("create pin directory %s: %s\n", path, strerror(errno));
	return -errno;
}

static int create_inner(const char *name, unsigned int max)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
	int fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, name,
				sizeof(struct fe_flow_key),
				sizeof(struct fe_flow_val), max, &opts);

	if (fd < 0)
		pr_warn("create map %s (%u entries): %s\n", name, max,
			strerror(errno));
	return fd < 0 ? -errno : fd;
}

static const char *const pin_names[] = {
	FE_PIN_OUTER,	       FE_PIN_STATS,	       FE_PIN_FLOWS_A,
	FE_PIN_FLOWS_B,	       FE_PIN_OVF_A,	       FE_PIN_OVF_B,
	FE_PIN_PROG_TC_EGRESS, FE_PIN_PROG_TC_INGRESS, FE_PIN_PROG_XDP,
};

static int *pin_fd(struct meter *m, int i)
{
	int *fds[] = { &m->outer_fd,	&m->stats_fd,	&m->flows_fd[0],
		       &m->flows_fd[1], &m->ovf_fd[0],	&m->ovf_fd[1],
		       &m->prog_eg_fd,	&m->prog_in_fd, &m->prog_xdp_fd };
	return fds[i];
}

static void unpin_all(struct meter *m)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(pin_names) / sizeof(pin_names[0]); i++)
		if (!pin_name(m, pin_names[i], path, sizeof(path)))
			unlink(path);
}

/* Loads the programs, creates the inner maps, fills fe_outer, pins all. */
static int meter_create(struct meter *m, bool precise_ts)
{
	struct meter_bpf *skel = NULL;
	char path[PATH_MAX];
	int err, i;

	unpin_all(m); /* leftovers of an interrupted creation */
	const char *inner[] = { FE_PIN_FLOWS_A, FE_PIN_FLOWS_B, FE_PIN_OVF_A,
				FE_PIN_OVF_B };
	for (i = 0; i < 4; i++) {
		int fd = create_inner(inner[i], m->max_flows);

		if (fd < 0)
			return fd;
		*pin_fd(m, 2 + i) = fd;
	}
	skel = meter_bpf__open();
	if (!skel) {
		err = -errno;
		pr_warn("open BPF meters: %s\n", strerror(errno));
		return err;
	}
	skel->rodata->fe_cfg_precise_ts = precise_ts;
	err = bpf_map__set_inner_map_fd(skel->maps.fe_outer, m->flows_fd[0]);
	if (!err)
		err = meter_bpf__load(skel);
	if (err) {
		pr_warn("load BPF meters: %s (run with -v for the verifier "
			"log)\n",
			strerror(-err));
		goto out;
	}
	m->outer_fd = dup(bpf_map__fd(skel->maps.fe_outer));
	m->stats_fd = dup(bpf_map__fd(skel->maps.fe_stats));
	m->prog_eg_fd = dup(bpf_program__fd(skel->progs.fe_tc_egress));
	m->prog_in_fd = dup(bpf_program__fd(skel->progs.fe_tc_ingress));
	m->prog_xdp_fd = dup(bpf_program__fd(skel->progs.fe_xdp));
	__u32 slot = FE_SLOT_FLOWS;
	err = bpf_map_update_elem(m->outer_fd, &slot, &m->flows_fd[0], 0);
	slot = FE_SLOT_OVERFLOW;
	if (!err)
		err = bpf_map_update_elem(m->outer_fd, &slot, &m->ovf_fd[0], 0);
	if (err) {
		err = -errno;
		pr_warn("fill map-in-map fe_outer: %s\n", strerror(errno));
		goto out;
	}
	/* fe_outer last: its pin marks a complete meter set */
	for (i = 8; i >= 0; i--) {
		err = pin_name(m, pin_names[i], path, sizeof(path));
		if (!err && bpf_obj_pin(*pin_fd(m, i), path))
			err = -errno;
		if (err) {
			pr_warn("pin %s: %s\n", path, strerror(-err));
			/* only what we pinned: an EEXIST pin is someone
			 * else's (a creator that does not take the lock)
			 */
			while (++i <= 8)
				if (!pin_name(m, pin_names[i], path,
					      sizeof(path)))
					unlink(path);
			goto out;
		}
	}
	pr_info("loaded and pinned the meters under %s (%u flows per map, %s "
		"timestamps)\n",
		m->pin, m->max_flows, precise_ts ? "precise" : "coarse");
out:
	meter_bpf__destroy(skel);
	return err;
}

/* Opens the pins. With any_layout, missing or incompatible maps only
 * clear maps_ok (the programs are enough to find and remove the hooks).
 */
static int meter_reuse(struct meter *m, bool any_layout)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];

	m->maps_ok = true;
	for (int i = 0; i < 9; i++) {
		int fd;

		pin_name(m, pin_names[i], path, sizeof(path));
		fd = bpf_obj_get(path);
		if (fd < 0 && any_layout) {
			pr_debug("open pinned %s: %s\n", path, strerror(errno));
			if (i < 6)
				m->maps_ok = false;
			continue;
		}
		if (fd < 0) {
			int err = -errno;

			pr_warn("open pinned %s: %s\n", path, strerror(errno));
			return err;
		}
		*pin_fd(m, i) = fd;
	}
	if (m->flows_fd[0] >= 0 &&
	    bpf_obj_get_info_by_fd(m->flows_fd[0], &info, &len) && !any_layout)
		return -errno;
	if (info.key_size != sizeof(struct fe_flow_key) ||
	    info.value_size != sizeof(struct fe_flow_val)) {
		m->maps_ok = false;
		if (any_layout)
			return 0;
		pr_warn("pinned meter set %s is from an incompatible flowexp "
			"version; detach it (flowctl --pin-path %s detach "
			"--all) and remove the directory\n",
			m->pin, m->pin);
		return -EPROTO;
	}
	if (m->maps_ok)
		m->max_flows = info.max_entries;
	return 0;
}

static bool pin_exists(const struct meter *m, const char *name)
{
	char path[PATH_MAX];

	return !pin_name(m, name, path, sizeof(path)) &&
	       access(path, F_OK) == 0;
}

/* Whether a set is pinned: fe_outer, pinned last, marks a complete one;
 * with any_layout a program pin is enough (a set of another version).
 */
static bool meter_pinned(const struct meter *m, bool any_layout)
{
	if (pin_exists(m, FE_PIN_OUTER))
		return true;
	return any_layout && (pin_exists(m, FE_PIN_PROG_TC_EGRESS) ||
			      pin_exists(m, FE_PIN_PROG_TC_INGRESS) ||
			      pin_exists(m, FE_PIN_PROG_XDP));
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Creates the set under an exclusive flock of the pin directory, so that
 * concurrent creators (two flowctl attach) load it once: the loser finds
 * fe_outer pinned once it gets the lock and reuses the set. The lock is
 * polled rather than waited for: a flowagent holds the same directory's
 * lock for its life (meter__lock()), and a creator must not hang behind
 * it; it gives up after CREATE_LOCK_WAIT_MS.
 */
static int meter_create_locked(struct meter *m, bool precise_ts)
{
	long waited = 0;
	int fd, err;

	err = ensure_bpffs(m->pin);
	if (err)
		return err;
	fd = open(m->pin, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_warn("open pin directory %s: %s\n", m->pin, strerror(errno));
		return err;
	}
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			err = -errno;
			pr_warn("lock pin directory %s: %s\n", m->pin,
				strerror(errno));
			goto out;
		}
		if (meter_pinned(m, false)) {
			/* created meanwhile; fe_outer is pinned last */
			err = meter_reuse(m, false);
			goto out;
		}
		if (waited >= CREATE_LOCK_WAIT_MS) {
			pr_warn("create meter set %s: the pin directory stays "
				"locked by another process (a flowagent whose "
				"set was removed?)\n",
				m->pin);
			err = -EWOULDBLOCK;
			goto out;
		}
		sleep_ms(10);
		waited += 10;
	}
	if (meter_pinned(m, false))
		err = meter_reuse(m, false);
	else
		err = meter_create(m, precise_ts);
out:
	close(fd); /* releases the lock: meter__lock() takes its own */
	return err;
}

struct meter *meter__open(const char *pin_path, unsigned int max_flows,
			  unsigned int flags)
{
	struct meter *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return NULL;
	for (int i = 0; i < 9; i++)
		*pin_fd(m, i) = -1;
	m->lock_fd = -1;
	m->maps_ok = true;
	snprintf(m->pin, sizeof(m->pin), "%s",
		 pin_path ? pin_path : FE_DEFAULT_PIN_PATH);
	m->max_flows = max_flows ? max_flows : FE_DEFAULT_MAX_FLOWS;
	m->ncpu = libbpf_num_possible_cpus();
	if (m->ncpu <= 0) {
		err = -EINVAL;
		goto fail;
	}
	if (meter_pinned(m, flags & METER_F_ANY_LAYOUT))
		err = meter_reuse(m, flags & METER_F_ANY_LAYOUT);
	else if (!(flags & METER_F_CREATE))
		err = -ENOENT;
	else
		err = meter_create_locked(m, flags & METER_F_PRECISE_TS);
	if (err)
		goto fail;
	if (!m->maps_ok)
		m->max_flows = 0;
	m->flows_id[0] = fd_id(m->flows_fd[0]);
	m->flows_id[1] = fd_id(m->flows_fd[1]);
	m->ovf_id[0] = fd_id(m->ovf_fd[0]);
	m->ovf_id[1] = fd_id(m->ovf_fd[1]);
	m->prog_eg_id = fd_id(m->prog_eg_fd);
	m->prog_in_id = fd_id(m->prog_in_fd);
	m->prog_xdp_id = fd_id(m->prog_xdp_fd);
	m->keys = calloc(DRAIN_BATCH, sizeof(*m->keys));
	m->vals = calloc((size_t)DRAIN_BATCH * m->ncpu, sizeof(*m->vals));
	if (!m->keys || !m->vals) {
		err = -ENOMEM;
		goto fail;
	}
	return m;
fail:
	meter__close(m);
	errno = -err;
	return NULL;
}

void meter__close(struct meter *m)
{
	if (!m)
		return;
	for (int i = 0; i < 9; i++)
		if (*pin_fd(m, i) >= 0)
			close(*pin_fd(m, i));
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	free(m->keys);
	free(m->vals);
	free(m);
}

unsigned int meter__max_flows(const struct meter *m)
{
	return m->max_flows;
}

int meter__lock(struct meter *m)
{
	int fd, err;

	if (m->lock_fd >= 0)
		return 0;
	/* a new open file description: flock() conflicts between those even
	 * within one process, which makes the lock per meter, not per process
	 */
	fd = open(m->pin, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_warn("open pin directory %s: %s\n", m->pin, strerror(errno));
		return err;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = -errno;
		close(fd);
		if (err != -EWOULDBLOCK)
			pr_warn("lock pin directory %s: %s\n", m->pin,
				strerror(-err));
		return err;
	}
	m->lock_fd = fd;
	return 0;
}

/* ---- attach / detach ---- */

static int link_pin(const struct meter *m, int ifindex, bool egress, char *buf,
		    size_t len)
{
	char name[96];

	snprintf(name, sizeof(name), "link_%llu_%d_%s",
		 (unsigned long long)fe_netns_ino(), ifindex,
		 egress ? "eg" : "in");
	return pin_name(m, name, buf, len);
}

/* What a pinned TCX link attaches: the program and the ifindex (0: the
 * link is defunct, its device or netns gone).
 */
static int tcx_link_info(int fd, int *ifindex, uint32_t *prog_id)
{
	/* struct bpf_link_info: type, id, prog_id, then the union at offset
	 * 16 whose tcx member starts with the ifindex; Debian 12's headers
	 * predate it, so read it raw.
	 */
	__u32 buf[32] = {};
	__u32 len = sizeof(buf);

	if (bpf_obj_get_info_by_fd(fd, buf, &len))
		return -errno;
	*prog_id = buf[2];
	*ifindex = (int)buf[4];
	return 0;
}

/* Goes through the link_* pins of the directory dir: with mine, detaches
 * and unpins those of the current netns; in every case unpins defunct
 * ones of any netns (a deleted netns's pins are never reached by name
 * again, and each holds a link).
 */
static void sweep_links(const char *dir, bool mine)
{
	char prefix[64];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	snprintf(prefix, sizeof(prefix), "link_%llu_",
		 (unsigned long long)fe_netns_ino());
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		uint32_t prog_id = 0;
		int fd, ifindex = -1;
		int n;

		if (strncmp(de->d_name, "link_", 5))
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		if (mine && !strncmp(de->d_name, prefix, strlen(prefix))) {
			bpf_link_detach(fd);
			unlink(path);
		} else if (!tcx_link_info(fd, &ifindex, &prog_id) && !ifindex) {
			pr_debug("unpin defunct tcx link %s\n", path);
			unlink(path);
		}
		close(fd);
	}
	closedir(d);
}

/* The link pinned at path, for ifindex: 0 when it attaches our program
 * there (after moving it to our program if it held another one: a set
 * re-created under the same pin path), 1 when a new link is needed (no
 * pin, or a stale one, now removed).
 */
static int tcx_pinned(const char *path, int ifindex, int prog_fd,
		      uint32_t prog_id)
{
	uint32_t id = 0;
	int fd, at = -1;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return 1;
	if (tcx_link_info(fd, &at, &id) || at != ifindex) {
		close(fd);
		unlink(path); /* the device it was on is gone */
		return 1;
	}
	if (id != prog_id && bpf_link_update(fd, prog_fd, NULL)) {
		pr_debug("update tcx link %s to program %u: %s\n", path,
			 prog_id, strerror(errno));
		bpf_link_detach(fd);
		close(fd);
		unlink(path);
		return 1;
	}
	close(fd);
	return 0;
}

static int clsact_marker(int ifindex, char *buf, size_t len)
{
	snprintf(buf, len, FE_STATE_DIR "/clsact_%llu_%d",
		 (unsigned long long)fe_netns_ino(), ifindex);
	return 0;
}

/* Whether a flowexp filter (our handle and priority) is on a clsact hook. */
static bool clsact_has_fe(int ifindex, bool egress)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point =
				    egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FE_TC_HANDLE,
			    .priority = FE_TC_PRIO);

	return bpf_tc_query(&hook, &opts) == 0;
}

/* Counts the filters (any kind, any chain) on one clsact hook with an
 * RTM_GETTFILTER dump: libbpf queries only a filter it can name. Returns
 * the count (0 also when there is no clsact qdisc) or -errno.
 */
static int tc_filter_count(int ifindex, __u32 parent)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req = {
		.nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
			.nlmsg_type = RTM_GETTFILTER,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = 1 },
		.tc = { .tcm_family = AF_UNSPEC,
			.tcm_ifindex = ifindex,
			.tcm_parent = parent },
	};
	const size_t bufsz = 32768; /* a dump part never exceeds it */
	int fd, count = 0, err = 0;
	bool done = false;
	char *buf;

	buf = malloc(bufsz);
	if (!buf)
		return -ENOMEM;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		err = -errno;
		goto out_free;
	}
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		err = -errno;
		goto out;
	}
	while (!done) {
		ssize_t n = recv(fd, buf, bufsz, 0);
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EPIPE;
			break;
		}
		while (!done && off + sizeof(struct nlmsghdr) <= (size_t)n) {
			struct nlmsghdr *nh = (struct nlmsghdr *)(buf + off);

			if (nh->nlmsg_len < sizeof(*nh) ||
			    nh->nlmsg_len > (size_t)n - off) {
				err = -EBADMSG;
				done = true;
			} else if (nh->nlmsg_type == NLMSG_DONE) {
				done = true;
			} else if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				err = e->error;
				done = true;
			} else if (nh->nlmsg_type == RTM_NEWTFILTER) {
				count++;
			}
			off += NLMSG_ALIGN(nh->nlmsg_len);
		}
	}
out:
	close(fd);
out_free:
	free(buf);
	return err ? err : count;
}

/* Once no flowexp filter is left on the clsact qdisc that flowexp
 * created (marker), removes the qdisc if no filter at all remains on
 * either hook; when someone else's filters remain, leaves it to them and
 * forgets that it was ours.
 */
static void clsact_release(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	char marker[PATH_MAX];
	int n_in, n_eg;

	clsact_marker(ifindex, marker, sizeof(marker));
	if (access(marker, F_OK))
		return;
	if (clsact_has_fe(ifindex, true) || clsact_has_fe(ifindex, false))
		return;
	n_in = tc_filter_count(ifindex,
			       TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS));
	n_eg = tc_filter_count(ifindex,
			       TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS));
	if (n_in < 0 || n_eg < 0) {
		/* keep the qdisc (and the marker, to retry) */
		pr_warn("list tc filters on ifindex %d: %s; leaving its "
			"clsact qdisc in place\n",
			ifindex, strerror(-(n_in < 0 ? n_in : n_eg)));
		return;
	}
	if (!n_in && !n_eg)
		bpf_tc_hook_destroy(&hook);
	else
		pr_debug("clsact qdisc on ifindex %d holds %d other filters: "
			 "leaving it\n",
			 ifindex, n_in + n_eg);
	unlink(marker);
}

static int clsact_attach(struct meter *m, const char *ifname, int ifindex,
			 bool egress)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point =
				    egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FE_TC_HANDLE,
			    .priority = FE_TC_PRIO);
	char marker[PATH_MAX];
	int err;

	clsact_marker(ifindex, marker, sizeof(marker));
	err = bpf_tc_hook_create(&hook);
	if (!err) {
		/* remember that the qdisc is ours, to remove it on detach */
		mkdir(FE_STATE_DIR, 0700);
		close(open(marker, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	} else if (err == -EEXIST) {
		/* Not created now. A marker is still valid while a flowexp
		 * filter sits in the qdisc (ours from the other direction):
		 * deleting the qdisc would have taken it along. Without one,
		 * the marker is of a qdisc since replaced by someone else's.
		 */
		if (!clsact_has_fe(ifindex, true) &&
		    !clsact_has_fe(ifindex, false))
			unlink(marker);
	} else {
		pr_warn("create clsact qdisc on %s: %s\n", ifname,
			strerror(-err));
		return err;
	}
	if (bpf_tc_query(&hook, &opts) == 0 &&
	    opts.prog_id == (egress ? m->prog_eg_id : m->prog_in_id))
		return 0; /* already attached */
	opts.prog_id = 0;
	opts.flags = BPF_TC_F_REPLACE;
	opts.prog_fd = egress ? m->prog_eg_fd : m->prog_in_fd;
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		pr_warn("attach tc %s meter (clsact) on %s: %s\n",
			egress ? "egress" : "ingress", ifname, strerror(-err));
		clsact_release(ifindex); /* a qdisc created for nothing */
	}
	return err;
}

/* Another attach of the same set on the same hook may have created its
 * link but not pinned it yet: the kernel refuses a second link of the
 * program there (EEXIST), and the pin follows at once. How many 10 ms
 * waits for it.
 */
#define TCX_PIN_WAITS 50

static int tc_attach(struct meter *m, const char *ifname, int ifindex,
		     bool egress)
{
	int prog_fd = egress ? m->prog_eg_fd : m->prog_in_fd;
	uint32_t prog_id = egress ? m->prog_eg_id : m->prog_in_id;
	const char *dir = egress ? "egress" : "ingress";
	char path[PATH_MAX];
	int fd, err, tries;

	err = link_pin(m, ifindex, egress, path, sizeof(path));
	if (err)
		return err;
	for (tries = 0; tries < TCX_PIN_WAITS; tries++) {
		if (tries)
			sleep_ms(10);
		err = tcx_pinned(path, ifindex, prog_fd, prog_id);
		if (err <= 0)
			return err;
		if (!m->swept) {
			sweep_links(m->pin, false);
			m->swept = true;
		}
		fd = bpf_link_create(
			prog_fd, ifindex,
			egress ? FE_BPF_TCX_EGRESS : FE_BPF_TCX_INGRESS, NULL);
		if (fd < 0 && (errno == EINVAL || errno == EOPNOTSUPP)) {
			pr_debug("TCX unavailable on %s (%s): using clsact\n",
				 ifname, strerror(errno));
			return clsact_attach(m, ifname, ifindex, egress);
		}
		if (fd < 0 && errno == EEXIST)
			continue; /* a concurrent attach: wait for its pin */
		if (fd < 0) {
			err = -errno;
			pr_warn("attach tc %s meter (tcx) on %s: %s\n", dir,
				ifname, strerror(errno));
			return err;
		}
		if (!bpf_obj_pin(fd, path)) {
			close(fd);
			return 0;
		}
		err = -errno;
		close(fd); /* unpinned: closing it detaches our link */
		if (err != -EEXIST) {
			pr_warn("pin tcx link %s: %s\n", path, strerror(-err));
			return err;
		}
		/* a concurrent attach pinned its link first: check it */
	}
	pr_warn("attach tc %s meter (tcx) on %s: the program is attached "
		"there by a link not pinned at %s\n",
		dir, ifname, path);
	return -EEXIST;
}

static int tc_detach(struct meter *m, int ifindex, bool egress)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point =
				    egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FE_TC_HANDLE,
			    .priority = FE_TC_PRIO);
	char path[PATH_MAX];
	int fd;

	link_pin(m, ifindex, egress, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		bpf_link_detach(fd);
		close(fd);
		unlink(path);
	}
	if (bpf_tc_query(&hook, &opts) == 0 &&
	    opts.prog_id == (egress ? m->prog_eg_id : m->prog_in_id)) {
		opts.prog_id = 0;
		opts.flags = 0;
		bpf_tc_detach(&hook, &opts);
	}
	clsact_release(ifindex);
	return 0;
}

static int xdp_attached_id(int ifindex, int *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return 0;
	if (mode)
		*mode = q.attach_mode;
	return q.prog_id;
}

/* Our program's id on the device: attached alone or as a libxdp
 * dispatcher's component. Returns 0 when absent.
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

static int xdp_attach(struct meter *m, const char *ifname, int ifindex,
		      bool skb)
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

static int xdp_detach(struct meter *m, int ifindex)
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

/* The parser assumes an Ethernet header: refuse L3 devices (WireGuard,
 * tun, IP tunnels), whose packets it would misread. Asks the current
 * netns, where ifname lives.
 */
static int check_ethernet(const char *ifname)
{
	struct ifreq ifr = {};
	int fd, err;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		pr_warn("attach meters on %s: socket for the device type: "
			"%s\n",
			ifname, strerror(errno));
		return err;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		err = -errno;
		pr_warn("attach meters on %s: device type: %s\n", ifname,
			strerror(errno));
		close(fd);
		return err;
	}
	close(fd);
	if (ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER ||
	    ifr.ifr_hwaddr.sa_family == ARPHRD_LOOPBACK)
		return 0;
	pr_warn("attach meters on %s: not an Ethernet device (type %u); "
		"flowexp meters Ethernet devices only\n",
		ifname, ifr.ifr_hwaddr.sa_family);
	return -EPFNOSUPPORT;
}

int meter__attach(struct meter *m, const char *ifname, enum meter_ingress ing,
		  bool xdp_skb)
{
	int ifindex = if_nametoindex(ifname);
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
	err = tc_attach(m, ifname, ifindex, true);
	if (err)
		return err;
	switch (ing) {
	case METER_INGRESS_KEEP:
		return 0;
	case METER_INGRESS_XDP:
		tc_detach(m, ifindex, false);
		return xdp_attach(m, ifname, ifindex, xdp_skb);
	case METER_INGRESS_TC:
		xdp_detach(m, ifindex);
		return tc_attach(m, ifname, ifindex, false);
	case METER_INGRESS_NONE:
		/* egress only: an ingress meter left from an earlier mode
		 * would count forwarded packets twice in the agent's view
		 */
		tc_detach(m, ifindex, false);
		return xdp_detach(m, ifindex);
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
	tc_detach(m, ifindex, true);
	tc_detach(m, ifindex, false);
	err = xdp_detach(m, ifindex);
	if (err)
		pr_warn("detach XDP meter from %s: %s\n",
			ifname ? ifname : "device", strerror(-err));
	return err;
}

static bool tcx_has(int ifindex, int type, uint32_t id)
{
	__u32 ids[64], cnt = 64;

	if (bpf_prog_query(ifindex, type, 0, NULL, ids, &cnt))
		return false;
	for (__u32 i = 0; i < cnt; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static bool clsact_has(int ifindex, bool egress, uint32_t id)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point =
				    egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FE_TC_HANDLE,
			    .priority = FE_TC_PRIO);

	return bpf_tc_query(&hook, &opts) == 0 && opts.prog_id == id;
}

int meter__attachments(struct meter *m, struct meter_attachment *out, int max)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int n = 0;

	if (!ifs)
		return -errno;
	for (i = ifs; i->if_index && n < max; i++) {
		struct meter_attachment a = { .ifindex = i->if_index };
		int mode = 0;
		bool disp;

		snprintf(a.ifname, sizeof(a.ifname), "%s", i->if_name);
		if (tcx_has(a.ifindex, FE_BPF_TCX_EGRESS, m->prog_eg_id)) {
			a.egress = true;
			a.tc_kind = "tcx";
		} else if (clsact_has(a.ifindex, true, m->prog_eg_id)) {
			a.egress = true;
			a.tc_kind = "clsact";
		}
		if (tcx_has(a.ifindex, FE_BPF_TCX_INGRESS, m->prog_in_id)) {
			a.ingress_tc = true;
			a.tc_kind = "tcx";
		} else if (clsact_has(a.ifindex, false, m->prog_in_id)) {
			a.ingress_tc = true;
			a.tc_kind = "clsact";
		}
		if (xdp_is_ours(m, a.ifindex, &disp)) {
			a.ingress_xdp = true;
			xdp_attached_id(a.ifindex, &mode);
			a.xdp_mode = disp			? "dispatcher"
				     : mode == XDP_ATTACHED_SKB ? "skb"
				     : mode == XDP_ATTACHED_HW	? "hw"
								: "native";
		}
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
	sweep_links(m->pin, true);
	return n < 0 ? n : err;
}

int meter__detach_links(const char *pin_path)
{
	sweep_links(pin_path ? pin_path : FE_DEFAULT_PIN_PATH, true);
	return 0;
}

void meter__ids(struct meter *m, struct meter_ids *ids)
{
	__u32 slot = FE_SLOT_FLOWS, id = 0;

	ids->prog_tc_egress = m->prog_eg_id;
	ids->prog_tc_ingress = m->prog_in_id;
	ids->prog_xdp = m->prog_xdp_id;
	ids->outer = fd_id(m->outer_fd);
	ids->stats = fd_id(m->stats_fd);
	bpf_map_lookup_elem(m->outer_fd, &slot, &id);
	ids->flows_cur = id;
	slot = FE_SLOT_OVERFLOW;
	id = 0;
	bpf_map_lookup_elem(m->outer_fd, &slot, &id);
	ids->ovf_cur = id;
}

/* ---- reading and draining ---- */

void meter_sum_percpu(const struct fe_flow_val *vals, int ncpu,
		      struct fe_flow_val *out)
{
	uint64_t newest = 0;

	memset(out, 0, sizeof(*out));
	for (int c = 0; c < ncpu; c++) {
		const struct fe_flow_val *v = &vals[c];

		if (!v->packets)
			continue;
		if (!out->packets || v->first_ns < out->first_ns)
			out->first_ns = v->first_ns;
		if (!out->packets || v->ttl_min < out->ttl_min)
			out->ttl_min = v->ttl_min;
		if (v->ttl_max > out->ttl_max)
			out->ttl_max = v->ttl_max;
		if (v->last_ns >= newest) {
			newest = v->last_ns;
			out->tos = v->tos;
			out->flow_label = v->flow_label;
		}
		out->packets += v->packets;
		out->octets += v->octets;
		out->tcp_flags |= v->tcp_flags;
		out->vflags |= v->vflags;
	}
	out->last_ns = newest;
}

/* Index (0 = a, 1 = b) of the map live in a slot. */
static int live_index(struct meter *m, __u32 slot, const uint32_t ids[2])
{
	__u32 id = 0;

	if (!m->maps_ok) /* METER_F_ANY_LAYOUT: no flow maps to use */
		return -EPROTO;
	if (bpf_map_lookup_elem(m->outer_fd, &slot, &id))
		return -errno;
	return id == ids[1] ? 1 : 0;
}

static int emit(struct meter *m, int n, meter_entry_fn fn, void *ctx)
{
	for (int i = 0; i < n; i++) {
		struct fe_flow_val sum;

		meter_sum_percpu(&m->vals[(size_t)i * m->ncpu], m->ncpu, &sum);
		if (!sum.packets)
			continue;
		if (fn(ctx, &m->keys[i], &sum))
			return 1;
	}
	return 0;
}

/* Reads every entry one key at a time (and deletes it if del). The next
 * key is taken before the current one is deleted, so the walk never
 * restarts: one pass over the map.
 */
static int walk_map(struct meter *m, int fd, bool del, meter_entry_fn fn,
		    void *ctx)
{
	struct fe_flow_key cur, next;
	bool more;
	int n = 0;

	if (bpf_map_get_next_key(fd, NULL, &cur))
		return 0;
	do {
		more = bpf_map_get_next_key(fd, &cur, &next) == 0;
		if (bpf_map_lookup_elem(fd, &cur, m->vals) == 0) {
			m->keys[0] = cur;
			n++;
			if (emit(m, 1, fn, ctx))
				break;
			if (del)
				bpf_map_delete_elem(fd, &cur);
		}
		cur = next;
	} while (more);
	return n;
}

static int drain_map(struct meter *m, int fd, meter_entry_fn fn, void *ctx)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 batch, count;
	void *in = NULL;
	int total = 0, err;

	for (;;) {
		count = DRAIN_BATCH;
		err = bpf_map_lookup_and_delete_batch(fd, in, &batch, m->keys,
						      m->vals, &count, &opts);
		if (err && errno != ENOENT) {
			if (errno == ENOSPC || errno == EINVAL)
				return total + walk_map(m, fd, true, fn, ctx);
			err = -errno;
			pr_warn("drain flow map: %s\n", strerror(errno));
			return err;
		}
		/* the entries are out of the map now: deliver all of them */
		for (__u32 i = 0; i < count; i++) {
			struct fe_flow_val sum;

			meter_sum_percpu(&m->vals[(size_t)i * m->ncpu], m->ncpu,
					 &sum);
			if (sum.packets)
				fn(ctx, &m->keys[i], &sum);
		}
		total += count;
		if (err)
			break;
		in = &batch;
	}
	return total;
}

static int swap_slot(struct meter *m, __u32 slot, const int fds[2],
		     const uint32_t ids[2], int *old_fd)
{
	int live = live_index(m, slot, ids);

	if (live < 0)
		return live;
	/* the update returns once no program can still hold the old map */
	if (bpf_map_update_elem(m->outer_fd, &slot, &fds[!live], 0)) {
		int err = -errno;

		pr_warn("swap flow map in slot %u: %s\n", slot,
			strerror(errno));
		return err;
	}
	*old_fd = fds[live];
	return 0;
}

int meter__drain(struct meter *m, meter_entry_fn fn, void *ctx)
{
	int old_flows, old_ovf, err, n1, n2;

	err = swap_slot(m, FE_SLOT_FLOWS, m->flows_fd, m->flows_id, &old_flows);
	if (err)
		return err;
	err = swap_slot(m, FE_SLOT_OVERFLOW, m->ovf_fd, m->ovf_id, &old_ovf);
	if (err)
		return err;
	n1 = drain_map(m, old_flows, fn, ctx);
	n2 = drain_map(m, old_ovf, fn, ctx);
	if (n1 < 0)
		return n1;
	if (n2 < 0)
		return n2;
	return n1 + n2;
}

int meter__read(struct meter *m, meter_entry_fn fn, void *ctx)
{
	int f = live_index(m, FE_SLOT_FLOWS, m->flows_id);
	int o = live_index(m, FE_SLOT_OVERFLOW, m->ovf_id);

	if (f < 0)
		return f;
	if (o < 0)
		return o;
	return walk_map(m, m->flows_fd[f], false, fn, ctx) +
	       walk_map(m, m->ovf_fd[o], false, fn, ctx);
}

static int delete_matching(struct meter *m, int fd,
			   bool (*match)(void *, const struct fe_flow_key *),
			   void *ctx)
{
	struct fe_flow_key cur, next;
	bool more;
	int n = 0;

	if (bpf_map_get_next_key(fd, NULL, &cur))
		return 0;
	do {
		/* the next key first: cur may be gone in a moment */
		more = bpf_map_get_next_key(fd, &cur, &next) == 0;
		if ((!match || match(ctx, &cur)) &&
		    bpf_map_delete_elem(fd, &cur) == 0)
			n++;
		cur = next;
	} while (more);
	return n;
}

int meter__delete(struct meter *m,
		  bool (*match)(void *ctx, const struct fe_flow_key *k),
		  void *ctx)
{
	int f = live_index(m, FE_SLOT_FLOWS, m->flows_id);
	int o = live_index(m, FE_SLOT_OVERFLOW, m->ovf_id);

	if (f < 0 || o < 0)
		return f < 0 ? f : o;
	return delete_matching(m, m->flows_fd[f], match, ctx) +
	       delete_matching(m, m->ovf_fd[o], match, ctx);
}

static int count_map(int fd)
{
	struct fe_flow_key key, next;
	void *prev = NULL;
	int n = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		n++;
		key = next;
		prev = &key;
	}
	return n;
}

int meter__count(struct meter *m, unsigned int *flows, unsigned int *ovf)
{
	int f = live_index(m, FE_SLOT_FLOWS, m->flows_id);
	int o = live_index(m, FE_SLOT_OVERFLOW, m->ovf_id);

	if (f < 0 || o < 0)
		return f < 0 ? f : o;
	*flows = count_map(m->flows_fd[f]);
	*ovf = count_map(m->ovf_fd[o]);
	return 0;
}

int meter__stats(struct meter *m, __u64 out[FE_STAT_MAX])
{
	if (!m->maps_ok)
		return -EPROTO;
	__u64 *v = calloc(m->ncpu, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (__u32 i = 0; i < FE_STAT_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(m->stats_fd, &i, v))
			continue;
		for (int c = 0; c < m->ncpu; c++)
			out[i] += v[c];
	}
	free(v);
	return 0;
}
