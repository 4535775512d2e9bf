/* meter.c - the meter set's life: loads the BPF meters (the only user of
 * the skeleton), pins, reuses and locks the set, and reports its ids,
 * stats and size. Pins under the meter set's directory:
 *   fe_outer, fe_stats           maps the programs use
 *   fe_flows_a/b, fe_ovf_a/b     inner maps: one of each pair is live in
 *                                fe_outer, the other is the spare
 *   prog_tc_egress, prog_tc_ingress, prog_xdp
 *   link_<netns inode>_<ifindex>_<eg|in>   TCX links (kept alive by the pin;
 *                                made by hook_tc.c)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "meter_int.h"
#include "clock.h"
#include "log.h"
#include "meter.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
/* How long a creator waits for another one before giving up (ms). */
#define CREATE_LOCK_WAIT_MS 30000

_Static_assert(sizeof(struct fe_flow_key) == 52, "fe_flow_key layout");
_Static_assert(sizeof(struct fe_flow_val) == 48, "fe_flow_val layout");

int meter_pin_name(const struct meter *m, const char *name, char *buf,
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
		if (!meter_pin_name(m, pin_names[i], path, sizeof(path)))
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
		err = meter_pin_name(m, pin_names[i], path, sizeof(path));
		if (!err && bpf_obj_pin(*pin_fd(m, i), path))
			err = -errno;
		if (err) {
			pr_warn("pin %s: %s\n", path, strerror(-err));
			/* only what we pinned: an EEXIST pin is someone
			 * else's (a creator that does not take the lock)
			 */
			while (++i <= 8)
				if (!meter_pin_name(m, pin_names[i], path,
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

		meter_pin_name(m, pin_names[i], path, sizeof(path));
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

	return !meter_pin_name(m, name, path, sizeof(path)) &&
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
		fe_clock_sleep_ms(10);
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
