/* meter.c - the meter set's life: loads the BPF meters (the only user of
 * the skeleton), pins, reuses and locks the set, and reports its ids,
 * stats and size. Pins under the meter set's directory:
 *   fe_outer, fe_gen, fe_stats   maps the programs use
 *   fe_flows_a/b, fe_ovf_a/b     inner maps of generations 0 (a) and 1 (b),
 *                                in their fe_outer slots for the set's life;
 *                                fe_gen says which generation is live
 *   prog_tc_egress, prog_tc_ingress, prog_xdp
 *   prog_kfree_skb, tp_kfree_skb   the drop meter and its tracepoint link
 *                                (hook_drop.c); absent where the kernel
 *                                refuses tp_btf programs
 *   link_<netns inode>_<ifindex>_<eg|in>   TCX links (kept alive by the pin;
 *                                made by hook_tc.c)
 *   fe_state                     the agent's state that outlives it
 *                                (mmapable array; laid out by persist.c)
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

_Static_assert(sizeof(struct fe_flow_key) == 48, "fe_flow_key layout");
_Static_assert(sizeof(struct fe_flow_val) == 48, "fe_flow_val layout");
_Static_assert(sizeof(struct fe_nat_val) == sizeof(struct fe_flow_val),
	       "an FE_KIND_NAT value is a flows map value");
_Static_assert(sizeof(((struct fe_flow_val *)0)->flags) == 4,
	       "one 32-bit word of flags (BPF atomics are 32 or 64 bits)");

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

/* An inner map as flowexp.h describes them: shared, preallocated. */
static int create_inner(const char *name, unsigned int max)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, name,
				sizeof(struct fe_flow_key),
				sizeof(struct fe_flow_val), max, NULL);

	if (fd < 0)
		pr_warn("create map %s (%u entries, %llu MiB preallocated): "
			"%s\n",
			name, max,
			(unsigned long long)max * METER_MAP_BYTES_PER_ENTRY >>
				20,
			strerror(errno));
	return fd < 0 ? -errno : fd;
}

/* Maps first (MAP_PINS of them), then the programs; fe_outer, pinned
 * last by meter_create(), marks a complete set.
 */
#define MAP_PINS 7
#define NR_PINS 11
#define PIN_DROP 10 /* the drop meter: a set may lack it */
static const char *const pin_names[NR_PINS] = {
	FE_PIN_OUTER,		FE_PIN_GEN,
	FE_PIN_STATS,		FE_PIN_FLOWS_A,
	FE_PIN_FLOWS_B,		FE_PIN_OVF_A,
	FE_PIN_OVF_B,		FE_PIN_PROG_TC_EGRESS,
	FE_PIN_PROG_TC_INGRESS, FE_PIN_PROG_XDP,
	FE_PIN_PROG_DROP,
};

static int *pin_fd(struct meter *m, int i)
{
	int *fds[NR_PINS] = { &m->outer_fd,    &m->gen_fd,	&m->stats_fd,
			      &m->flows_fd[0], &m->flows_fd[1], &m->ovf_fd[0],
			      &m->ovf_fd[1],   &m->prog_eg_fd,	&m->prog_in_fd,
			      &m->prog_xdp_fd, &m->prog_drop_fd };
	return fds[i];
}

static void unpin_all(struct meter *m)
{
	char path[PATH_MAX];

	for (int i = 0; i < NR_PINS; i++)
		if (!meter_pin_name(m, pin_names[i], path, sizeof(path)))
			unlink(path);
	if (!meter_pin_name(m, FE_PIN_LINK_DROP, path, sizeof(path)))
		unlink(path);
	/* the state belongs to the set: its staged entries came from the
	 * maps that go
	 */
	meter__state_remove(m->pin);
}

/* The four inner maps: flows of max_flows entries, overflow smaller. */
static int create_inner_maps(struct meter *m)
{
	unsigned int ovf_max = m->max_flows < FE_OVF_MAX_ENTRIES
				       ? m->max_flows
				       : FE_OVF_MAX_ENTRIES;

	for (int g = 0; g < FE_NR_GEN; g++) {
		m->flows_fd[g] = create_inner(pin_names[3 + g], m->max_flows);
		if (m->flows_fd[g] < 0)
			return m->flows_fd[g];
		m->ovf_fd[g] = create_inner(pin_names[5 + g], ovf_max);
		if (m->ovf_fd[g] < 0)
			return m->ovf_fd[g];
	}
	return 0;
}

/* Every slot of fe_outer gets its map for the set's life (one grace
 * period each, at creation only); fe_gen starts at 0.
 */
static int fill_outer(struct meter *m)
{
	for (__u32 g = 0; g < FE_NR_GEN; g++) {
		__u32 fs = FE_SLOT_FLOWS(g), os = FE_SLOT_OVERFLOW(g);

		if (bpf_map_update_elem(m->outer_fd, &fs, &m->flows_fd[g], 0) ||
		    bpf_map_update_elem(m->outer_fd, &os, &m->ovf_fd[g], 0)) {
			int err = -errno;

			pr_warn("fill map-in-map fe_outer: %s\n",
				strerror(errno));
			return err;
		}
	}
	return 0;
}

/* Pins everything, fe_outer last: its pin marks a complete meter set. */
static int pin_set(struct meter *m)
{
	char path[PATH_MAX];
	int err, i;

	for (i = NR_PINS - 1; i >= 0; i--) {
		if (*pin_fd(m, i) < 0) /* the drop meter, not loaded */
			continue;
		err = meter_pin_name(m, pin_names[i], path, sizeof(path));
		if (!err && bpf_obj_pin(*pin_fd(m, i), path))
			err = -errno;
		if (!err)
			continue;
		pr_warn("pin %s: %s\n", path, strerror(-err));
		/* only what we pinned: an EEXIST pin is someone else's (a
		 * creator that does not take the lock)
		 */
		while (++i < NR_PINS)
			if (!meter_pin_name(m, pin_names[i], path,
					    sizeof(path)))
				unlink(path);
		return err;
	}
	return 0;
}

/* Opens and loads the skeleton, with the drop meter or without it. */
static int meter_load(struct meter *m, bool precise_ts, bool drop,
		      struct meter_bpf **out)
{
	struct meter_bpf *skel = meter_bpf__open();
	int err;

	if (!skel) {
		err = -errno;
		pr_warn("open BPF meters: %s\n", strerror(errno));
		return err;
	}
	skel->rodata->fe_cfg_precise_ts = precise_ts;
	skel->rodata->fe_cfg_sampling = m->sampling;
	err = bpf_program__set_autoload(skel->progs.fe_kfree_skb, drop);
	if (!err)
		err = bpf_map__set_inner_map_fd(skel->maps.fe_outer,
						m->flows_fd[0]);
	if (!err)
		err = meter_bpf__load(skel);
	if (err) {
		meter_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

/* Loads the programs, creates the inner maps, fills fe_outer, pins all. */
static int meter_create(struct meter *m, bool precise_ts)
{
	struct meter_bpf *skel = NULL;
	int err;

	unpin_all(m); /* leftovers of an interrupted creation */
	err = create_inner_maps(m);
	if (err)
		return err;
	/* the drop meter needs BTF tracing (tp_btf); the meters do not */
	err = meter_load(m, precise_ts, true, &skel);
	if (err) {
		pr_warn("load the drop meter (tp_btf/kfree_skb) with the "
			"meters: %s; loading them without it (packets a qdisc "
			"drops stay counted as sent)\n",
			strerror(-err));
		err = meter_load(m, precise_ts, false, &skel);
	}
	if (err) {
		pr_warn("load BPF meters: %s (run with -v for the verifier "
			"log)\n",
			strerror(-err));
		return err;
	}
	m->outer_fd = dup(bpf_map__fd(skel->maps.fe_outer));
	m->gen_fd = dup(bpf_map__fd(skel->maps.fe_gen));
	m->stats_fd = dup(bpf_map__fd(skel->maps.fe_stats));
	m->prog_eg_fd = dup(bpf_program__fd(skel->progs.fe_tc_egress));
	m->prog_in_fd = dup(bpf_program__fd(skel->progs.fe_tc_ingress));
	m->prog_xdp_fd = dup(bpf_program__fd(skel->progs.fe_xdp));
	if (bpf_program__fd(skel->progs.fe_kfree_skb) >= 0)
		m->prog_drop_fd =
			dup(bpf_program__fd(skel->progs.fe_kfree_skb));
	err = fill_outer(m);
	if (!err)
		err = pin_set(m);
	if (err)
		goto out;
	pr_info("loaded and pinned the meters under %s (%u flows per map, "
		"%llu MiB of kernel memory for the live and spare maps, %s "
		"timestamps, sampling 1 in %u)\n",
		m->pin, m->max_flows,
		(unsigned long long)m->max_flows * METER_MAP_BYTES_PER_ENTRY *
				FE_NR_GEN >>
			20,
		precise_ts ? "precise" : "coarse", m->sampling);
out:
	meter_bpf__destroy(skel);
	return err;
}

static bool map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, len);
	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, info, &len);
}

/* Whether the pinned maps have this version's layout (flowexp.h); if not,
 * what differs, in why.
 */
static bool layout_ok(struct meter *m, char *why, size_t len)
{
	struct bpf_map_info info;

	if (!map_info(m->outer_fd, &info) || info.max_entries != FE_NR_SLOTS) {
		snprintf(why, len, "fe_outer has %u slots, not %d",
			 info.max_entries, FE_NR_SLOTS);
		return false;
	}
	if (!map_info(m->gen_fd, &info) || info.value_size != 4) {
		snprintf(why, len, "no %s map", FE_PIN_GEN);
		return false;
	}
	if (!map_info(m->stats_fd, &info) ||
	    info.value_size != sizeof(struct fe_stats)) {
		snprintf(why, len, "%s values are %u B, not %zu", FE_PIN_STATS,
			 info.value_size, sizeof(struct fe_stats));
		return false;
	}
	for (int i = 3; i < MAP_PINS; i++) {
		if (!map_info(*pin_fd(m, i), &info)) {
			snprintf(why, len, "no %s map", pin_names[i]);
			return false;
		}
		if (info.type != BPF_MAP_TYPE_HASH || info.map_flags ||
		    info.key_size != sizeof(struct fe_flow_key) ||
		    info.value_size != sizeof(struct fe_flow_val)) {
			const char *t = libbpf_bpf_map_type_str(info.type);

			snprintf(why, len,
				 "%s is a %s map%s, key %u B, value %u B; this "
				 "version's are preallocated hash maps, key "
				 "%zu B, value %zu B",
				 pin_names[i], t ? t : "unknown",
				 info.map_flags & BPF_F_NO_PREALLOC
					 ? " (no_prealloc)"
					 : "",
				 info.key_size, info.value_size,
				 sizeof(struct fe_flow_key),
				 sizeof(struct fe_flow_val));
			return false;
		}
		if (i == 3)
			m->max_flows = info.max_entries;
	}
	return true;
}

/* Opens the pins. With any_layout, missing or incompatible maps only
 * clear maps_ok (the programs are enough to find and remove the hooks);
 * without, they are -EPROTO.
 */
static int meter_reuse(struct meter *m, bool any_layout)
{
	char path[PATH_MAX], why[256];

	m->maps_ok = true;
	for (int i = 0; i < NR_PINS; i++) {
		int fd;

		meter_pin_name(m, pin_names[i], path, sizeof(path));
		fd = bpf_obj_get(path);
		if (fd < 0 && (any_layout || i < MAP_PINS || i == PIN_DROP)) {
			/* a set of another version has other maps */
			pr_debug("open pinned %s: %s\n", path, strerror(errno));
			if (i < MAP_PINS)
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
	if (layout_ok(m, why, sizeof(why)))
		return 0;
	m->maps_ok = false;
	if (any_layout)
		return 0;
	pr_warn("pinned meter set %s is from another flowexp version (%s): "
		"remove it with `flowctl --pin-path %s detach --all` in every "
		"network namespace it meters, then `rm -r %s`; the next start "
		"loads this version's meters\n",
		m->pin, why, m->pin, m->pin);
	return -EPROTO;
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

/* The rate the set's programs were loaded with: a set without the knob
 * is older than sampling and counts every packet.
 */
static unsigned int programs_sampling(const struct meter *m)
{
	__u32 n = 0;
	int err;

	if (m->prog_eg_fd < 0)
		return 0;
	err = meter_rodata_read(m->prog_eg_fd, "fe_cfg_sampling", &n,
				sizeof(n));
	if (err == -ENOENT)
		return 1;
	if (err) {
		pr_debug("read the sampling rate of the pinned meters in %s: "
			 "%s\n",
			 m->pin, strerror(-err));
		return 0;
	}
	return n > 1 ? n : 1;
}

struct meter *meter__open(const char *pin_path, unsigned int max_flows,
			  unsigned int flags)
{
	struct meter_opts o = { .max_flows = max_flows, .flags = flags };

	return meter__open_opts(pin_path, &o);
}

struct meter *meter__open_opts(const char *pin_path, const struct meter_opts *o)
{
	struct meter *m = calloc(1, sizeof(*m));
	unsigned int max_flows = o->max_flows, flags = o->flags;
	int err;

	if (!m)
		return NULL;
	for (int i = 0; i < NR_PINS; i++)
		*pin_fd(m, i) = -1;
	m->lock_fd = -1;
	m->maps_ok = true;
	snprintf(m->pin, sizeof(m->pin), "%s",
		 pin_path ? pin_path : FE_DEFAULT_PIN_PATH);
	m->max_flows = max_flows ? max_flows : FE_DEFAULT_MAX_FLOWS;
	m->sampling = o->sampling > 1 ? o->sampling : 1;
	if (m->sampling > METER_MAX_SAMPLING) {
		err = -EINVAL;
		goto fail;
	}
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
	m->prog_drop_id = fd_id(m->prog_drop_fd);
	/* what the programs were loaded with, by this call or another */
	m->sampling = programs_sampling(m);
	m->stage = malloc(METER_STAGE_SIZE(DRAIN_BATCH));
	if (!m->stage) {
		err = -ENOMEM;
		goto fail;
	}
	meter_stage_init(m->stage, DRAIN_BATCH);
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
	for (int i = 0; i < NR_PINS; i++)
		if (*pin_fd(m, i) >= 0)
			close(*pin_fd(m, i));
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	free(m->stage);
	free(m);
}

unsigned int meter__max_flows(const struct meter *m)
{
	return m->max_flows;
}

unsigned int meter__sampling(const struct meter *m)
{
	return m->sampling;
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

/* The state map: an array of whole pages, so that its values are one
 * contiguous region mmap() gives whole.
 */
static int state_create(struct meter *m, const char *path, size_t want,
			size_t *size)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_MMAPABLE);
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = (want + pg - 1) / pg;
	int fd, err;

	if (n > UINT32_MAX / pg)
		return -E2BIG;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "fe_state", 4, (__u32)pg,
			    (__u32)n, &o);
	if (fd < 0) {
		err = -errno;
		pr_warn("create the agent's state map (%zu MiB): %s\n",
			n * pg >> 20, strerror(errno));
		return err;
	}
	if (bpf_obj_pin(fd, path)) {
		err = -errno;
		pr_warn("pin %s: %s\n", path, strerror(errno));
		close(fd);
		return err;
	}
	*size = n * pg;
	return fd;
}

int meter__state_open(struct meter *m, size_t want, size_t *size)
{
	struct bpf_map_info info;
	char path[PATH_MAX];
	int fd, err;

	err = meter_pin_name(m, FE_PIN_STATE, path, sizeof(path));
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0 && errno == ENOENT)
		return want ? state_create(m, path, want, size) : -ENOENT;
	if (fd < 0) {
		err = -errno;
		pr_warn("open pinned %s: %s\n", path, strerror(errno));
		return err;
	}
	if (!map_info(fd, &info) || info.type != BPF_MAP_TYPE_ARRAY ||
	    !(info.map_flags & BPF_F_MMAPABLE) || info.value_size % 8) {
		pr_warn("pinned %s is not a flowexp state map\n", path);
		close(fd);
		return -EPROTO;
	}
	*size = (size_t)info.value_size * info.max_entries;
	return fd;
}

int meter__state_remove(const char *pin_path)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%s",
			 pin_path ? pin_path : FE_DEFAULT_PIN_PATH,
			 FE_PIN_STATE);

	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	if (unlink(path))
		return errno == ENOENT ? 0 : -errno;
	return 1;
}

int meter_live_gen(struct meter *m)
{
	__u32 zero = 0, gen = 0;

	if (!m->maps_ok) /* METER_F_ANY_LAYOUT: no flow maps to use */
		return -EPROTO;
	if (bpf_map_lookup_elem(m->gen_fd, &zero, &gen))
		return -errno;
	return gen & 1;
}

void meter__ids(struct meter *m, struct meter_ids *ids)
{
	int g = meter_live_gen(m);

	ids->prog_tc_egress = m->prog_eg_id;
	ids->prog_tc_ingress = m->prog_in_id;
	ids->prog_xdp = m->prog_xdp_id;
	ids->outer = fd_id(m->outer_fd);
	ids->stats = fd_id(m->stats_fd);
	ids->flows_cur = g < 0 ? 0 : m->flows_id[g];
	ids->ovf_cur = g < 0 ? 0 : m->ovf_id[g];
}

int meter__stats(struct meter *m, __u64 out[FE_STAT_MAX])
{
	struct fe_stats *v;
	__u32 zero = 0;

	memset(out, 0, sizeof(__u64) * FE_STAT_MAX);
	if (!m->maps_ok)
		return -EPROTO;
	v = calloc(m->ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(m->stats_fd, &zero, v)) {
		int err = -errno;

		free(v);
		return err;
	}
	for (int c = 0; c < m->ncpu; c++)
		for (int i = 0; i < FE_STAT_MAX; i++)
			out[i] += v[c].n[i];
	free(v);
	return 0;
}
