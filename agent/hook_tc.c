/* hook_tc.c - the tc meters on a device: a TCX link pinned per netns,
 * device and direction, else a filter on a clsact qdisc (created, and
 * removed when the last filter goes, by flowexp); the netlink filter dump
 * that tells whether a clsact qdisc still holds anyone's filters.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "meter_int.h"
#include "clock.h"
#include "log.h"
#include "netns.h"

/* TCX attach types (kernel >= 6.6); Debian 12's headers predate them. */
#define FE_BPF_TCX_INGRESS 46
#define FE_BPF_TCX_EGRESS 47
/* clsact fallback: our filter's handle and priority on the hook. */
#define FE_TC_HANDLE 0xfe
#define FE_TC_PRIO 0xfe00
#define FE_STATE_DIR "/run/flowexp"

static int link_pin(const struct meter *m, int ifindex, bool egress, char *buf,
		    size_t len)
{
	char name[96];

	snprintf(name, sizeof(name), "link_%llu_%d_%s",
		 (unsigned long long)fe_netns_ino(), ifindex,
		 egress ? "eg" : "in");
	return meter_pin_name(m, name, buf, len);
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
void hook_tc_sweep_links(const char *dir, bool mine)
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
static int tcx_reuse_pin(const char *path, int ifindex, int prog_fd,
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

/* A flowexp filter (our handle and priority) on one clsact hook. */
struct tc_filter {
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
};

static void tc_filter_init(struct tc_filter *f, int ifindex, bool egress)
{
	memset(f, 0, sizeof(*f));
	f->hook.sz = sizeof(f->hook);
	f->hook.ifindex = ifindex;
	f->hook.attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS;
	f->opts.sz = sizeof(f->opts);
	f->opts.handle = FE_TC_HANDLE;
	f->opts.priority = FE_TC_PRIO;
}

/* Whether a flowexp filter is on a clsact hook; *prog_id its program. */
static bool clsact_query(int ifindex, bool egress, uint32_t *prog_id)
{
	struct tc_filter f;

	tc_filter_init(&f, ifindex, egress);
	if (bpf_tc_query(&f.hook, &f.opts))
		return false;
	*prog_id = f.opts.prog_id;
	return true;
}

static bool clsact_has_fe(int ifindex, bool egress)
{
	uint32_t id;

	return clsact_query(ifindex, egress, &id);
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
	struct tc_filter f;
	char marker[PATH_MAX];
	int err;

	tc_filter_init(&f, ifindex, egress);
	clsact_marker(ifindex, marker, sizeof(marker));
	err = bpf_tc_hook_create(&f.hook);
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
	if (bpf_tc_query(&f.hook, &f.opts) == 0 &&
	    f.opts.prog_id == (egress ? m->prog_eg_id : m->prog_in_id))
		return 0; /* already attached */
	f.opts.prog_id = 0;
	f.opts.flags = BPF_TC_F_REPLACE;
	f.opts.prog_fd = egress ? m->prog_eg_fd : m->prog_in_fd;
	err = bpf_tc_attach(&f.hook, &f.opts);
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

int hook_tc_attach(struct meter *m, const char *ifname, int ifindex,
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
			fe_clock_sleep_ms(10);
		err = tcx_reuse_pin(path, ifindex, prog_fd, prog_id);
		if (err <= 0)
			return err;
		if (!m->swept) {
			hook_tc_sweep_links(m->pin, false);
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

int hook_tc_detach(struct meter *m, int ifindex, bool egress)
{
	struct tc_filter f;
	char path[PATH_MAX];
	int fd;

	tc_filter_init(&f, ifindex, egress);
	link_pin(m, ifindex, egress, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		bpf_link_detach(fd);
		close(fd);
		unlink(path);
	}
	if (bpf_tc_query(&f.hook, &f.opts) == 0 &&
	    f.opts.prog_id == (egress ? m->prog_eg_id : m->prog_in_id)) {
		f.opts.prog_id = 0;
		f.opts.flags = 0;
		bpf_tc_detach(&f.hook, &f.opts);
	}
	clsact_release(ifindex);
	return 0;
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
	uint32_t prog_id;

	return clsact_query(ifindex, egress, &prog_id) && prog_id == id;
}

const char *hook_tc_kind(struct meter *m, int ifindex, bool egress)
{
	uint32_t id = egress ? m->prog_eg_id : m->prog_in_id;

	if (tcx_has(ifindex, egress ? FE_BPF_TCX_EGRESS : FE_BPF_TCX_INGRESS,
		    id))
		return "tcx";
	if (clsact_has(ifindex, egress, id))
		return "clsact";
	return NULL;
}
