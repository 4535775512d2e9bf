/* bench_drain.c - the kernel half of an agent's tick on the product's own
 * meter set (agent/meter.c, agent/drain.c): a burst of N new flows through
 * the pinned tc egress program, then one meter__drain() of them, and an
 * empty tick right after (what the swap itself costs: its grace periods).
 *
 * Per size N (BD_SIZES, default 10000,100000,1000000) and round (BD_ROUNDS,
 * default 3) a new meter set of BD_MAP (default: the power of two >= 2N)
 * entries is created under a private pin directory. The fill runs on CPU 0
 * (one BPF_PROG_TEST_RUN per flow, every frame a new 5-tuple: a burst as a
 * softirq sees one), the drain on CPU 1, as the agent would. Printed:
 * - overflow: packets of the burst that went to an overflow entry although
 *   the map had room (fe_stats overflow), and overflow_lost;
 * - drain: wall time of meter__drain() for N flows, µs per flow less the
 *   empty tick, kernel-thread CPU meanwhile (deferred frees);
 * - empty tick: wall ms of meter__drain() with nothing to drain;
 * - pinned: the same fill again, drained into a stage in the set's
 *   mmap()ed state map (as the agent's pinned state drains), µs per flow;
 * - memory: the memory cgroup's kernel charge per max entry at creation and
 *   per flow added by the fill, the growth of /proc/meminfo's Slab + Percpu
 *   + VmallocUsed at creation per max entry (system-wide: other load shows
 *   up), and the maps' memlock (fdinfo: the kernel's own count) per entry.
 * Every drain is checked exact: N entries, N packets. Medians of the rounds.
 * No timed assertions: compare figures from one run.
 */
#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "../bpf/meter_testlib.h"
#include "bench_maps_sys.h"
#include "meter.h"

struct bd_count {
	unsigned long entries, packets, ovf_entries;
};

static int bd_count(void *ctx, const struct fe_flow_key *k,
		    const struct fe_flow_val *v)
{
	struct bd_count *c = ctx;

	c->entries++;
	c->packets += v->packets;
	if (k->flags & FE_KEY_OVERFLOW)
		c->ovf_entries++;
	return 0;
}

static void bd_rmdir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	closedir(d);
	rmdir(dir);
}

/* memlock of every map pinned in dir whose name starts with prefix. */
static long long bd_memlock(const char *dir, const char *prefix)
{
	char path[PATH_MAX];
	struct dirent *e;
	long long sum = 0;
	DIR *d = opendir(dir);

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		int fd;

		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		sum += bs_memlock(fd);
		close(fd);
	}
	closedir(d);
	return sum;
}

/* Waits (at most 5 s) until the kernel has freed what the previous round's
 * set held: a map's memory is freed by a deferred work after its last
 * reference goes, and would hide this round's allocation.
 */
static void bd_settle(void)
{
	struct bs_meminfo a, b;

	bs_meminfo(&a);
	for (int i = 0; i < 50; i++) {
		usleep(100000);
		bs_meminfo(&b);
		if (a.slab + a.percpu + a.vmalloc - b.slab - b.percpu -
			    b.vmalloc <
		    (1 << 20))
			return;
		a = b;
	}
}

struct bd_round {
	double fill_s, drain_ms, empty_ms, us_flow, bg_ms;
	double state_us_flow; /* the drain into a stage in the state map */
	double create_b, fill_b, memlock_b, meminfo_b;
	unsigned long long overflow, lost;
	bool exact;
};

/* A frame of flow i: 10.a.b.c:sport -> 10.255.0.1:80, 64 bytes of data. */
static __u32 bd_frame(__u8 *buf, __u32 cap, unsigned long i)
{
	struct mt_pkt_spec s;

	mt_spec_default(&s, 4, IPPROTO_TCP);
	s.payload = 64;
	s.src[1] = i >> 14;
	s.src[2] = i >> 6;
	s.src[3] = i & 0x3f;
	s.sport = 1024 + (i >> 20);
	s.dst[1] = 255;
	return mt_pkt_build(&s, buf, cap, NULL);
}

static int bd_fill(int prog_fd, unsigned long n)
{
	static __u8 frame[2048];

	for (unsigned long i = 0; i < n; i++) {
		__u32 len = bd_frame(frame, sizeof(frame), i);
		int err = mt_run_fd(prog_fd, false, frame, len, NULL, 1, NULL,
				    NULL);

		if (err)
			return err;
	}
	return 0;
}

static void bd_batch(void *ctx, struct meter_stage *st)
{
	const struct fe_flow_key *k = meter_stage_keys(st);
	const struct fe_flow_val *v = meter_stage_vals(st);

	for (uint32_t i = 0; i < st->n; i++)
		if (v[i].packets)
			bd_count(ctx, &k[i], &v[i]);
}

/* The same fill drained into a stage in the set's state map (mmap()ed, as
 * the agent's pinned state has it): µs per flow, or -1.
 */
static double bd_state_drain(struct meter *m, int prog, unsigned long n,
			     double empty_ms, bool *exact)
{
	struct bd_count c = { 0 };
	size_t size = 0;
	int fd = meter__state_open(m, METER_STAGE_SIZE(METER_STAGE_CAP), &size);
	struct meter_stage *st;
	double t0, ms;

	if (fd < 0)
		return -1;
	st = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (st == MAP_FAILED)
		return -1;
	meter_stage_init(st, METER_STAGE_CAP);
	bs_pin(0, libbpf_num_possible_cpus());
	if (bd_fill(prog, n))
		return -1;
	bs_pin(1, libbpf_num_possible_cpus());
	t0 = bs_now_ns();
	meter__drain_staged(m, st, bd_batch, &c);
	ms = (bs_now_ns() - t0) / 1e6;
	*exact &= c.packets == n;
	munmap(st, size);
	return (ms - empty_ms) * 1e3 / n;
}

static int bd_one(const char *pin, unsigned long n, unsigned int max, int ncpu,
		  struct bd_round *r)
{
	struct bd_count c = { 0 }, e = { 0 };
	__u64 st[FE_STAT_MAX];
	char path[PATH_MAX];
	struct bs_meminfo i0, i1;
	long long k0, k1, k2;
	struct meter *m;
	double t0, bg0;
	int prog = -1, err;

	bd_rmdir(pin);
	bs_pin(0, ncpu);
	bd_settle();
	k0 = bs_kmem();
	bs_meminfo(&i0);
	m = meter__open(pin, max, METER_F_CREATE);
	if (!m) {
		fprintf(stderr, "bench_drain: meter set at %s: %s\n", pin,
			strerror(errno));
		return -errno;
	}
	k1 = bs_kmem();
	bs_meminfo(&i1);
	r->meminfo_b = (double)(i1.slab + i1.percpu + i1.vmalloc - i0.slab -
				i0.percpu - i0.vmalloc) /
		       max;
	snprintf(path, sizeof(path), "%s/%s", pin, FE_PIN_PROG_TC_EGRESS);
	prog = bpf_obj_get(path);
	if (prog < 0) {
		err = -errno;
		goto out;
	}
	t0 = bs_now_ns();
	err = bd_fill(prog, n);
	r->fill_s = (bs_now_ns() - t0) / 1e9;
	if (err) {
		close(prog);
		fprintf(stderr, "bench_drain: fill: %s\n", strerror(-err));
		goto out;
	}
	k2 = bs_kmem();
	r->memlock_b = (double)bd_memlock(pin, "fe_") / max;
	meter__stats(m, st);
	r->overflow = st[FE_STAT_OVERFLOW];
	r->lost = st[FE_STAT_OVF_LOST];

	bs_pin(1, ncpu);
	bg0 = bs_kthreads_ms();
	t0 = bs_now_ns();
	err = meter__drain(m, bd_count, &c);
	r->drain_ms = (bs_now_ns() - t0) / 1e6;
	usleep(200000); /* deferred frees show up in kernel threads */
	r->bg_ms = bs_kthreads_ms() - bg0;
	if (err < 0)
		goto out;
	t0 = bs_now_ns();
	err = meter__drain(m, bd_count, &e);
	r->empty_ms = (bs_now_ns() - t0) / 1e6;
	if (err < 0)
		goto out;
	err = 0;
	r->us_flow = (r->drain_ms - r->empty_ms) * 1e3 / n;
	r->exact = c.packets == n && e.entries == 0 &&
		   c.entries == n - r->overflow + c.ovf_entries;
	r->state_us_flow = bd_state_drain(m, prog, n, r->empty_ms, &r->exact);
	r->create_b = k0 >= 0 && k1 >= 0 ? (double)(k1 - k0) / max : -1;
	r->fill_b = k1 >= 0 && k2 >= 0 ? (double)(k2 - k1) / n : -1;
out:
	if (prog >= 0)
		close(prog);
	meter__close(m);
	bd_rmdir(pin);
	return err;
}

static int bd_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define BD_MED(rs, nr, field)                            \
	({                                               \
		double _v[16];                           \
		for (int _i = 0; _i < (nr); _i++)        \
			_v[_i] = (rs)[_i].field;         \
		qsort(_v, (nr), sizeof(double), bd_cmp); \
		_v[(nr) / 2];                            \
	})

int main(void)
{
	const char *sizes = getenv("BD_SIZES");
	unsigned long rounds = bs_env_ul("BD_ROUNDS", 3);
	int ncpu = libbpf_num_possible_cpus();
	char pin[64], buf[256], *tok, *save = NULL;
	struct bd_round rs[16];

	if (rounds < 1 || rounds > 16)
		rounds = 3;
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/fe-bench-drain-%d",
		 (int)getpid());
	snprintf(buf, sizeof(buf), "%s",
		 sizes ? sizes : "10000,100000,1000000");
	printf("flowexp drain bench: product meter set, tc egress fill on CPU "
	       "0, meter__drain on CPU 1, %d CPUs, median of %lu rounds\n\n",
	       ncpu, rounds);
	printf("%9s %9s %7s %5s %9s %9s %9s %8s %8s %8s %8s %8s %8s %6s\n",
	       "flows", "map", "fill s", "ovf", "drain ms", "µs/flow",
	       "pinned µs", "empty ms", "bg ms", "B/entry", "B/flow",
	       "meminfo", "memlock", "exact");
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned long n = strtoul(tok, NULL, 0);
		unsigned int max = bs_env_ul("BD_MAP", 0);
		bool exact = true;
		unsigned long long ovf = 0;

		if (!max)
			for (max = 16; max < 2 * n; max <<= 1)
				;
		for (unsigned long r = 0; r < rounds; r++) {
			if (bd_one(pin, n, max, ncpu, &rs[r]))
				return 1;
			exact &= rs[r].exact;
			ovf = rs[r].overflow > ovf ? rs[r].overflow : ovf;
		}
		printf("%9lu %9u %7.2f %5llu %9.1f %9.3f %9.3f %8.1f %8.0f "
		       "%8.0f %8.0f %8.0f %8.0f %6s\n",
		       n, max, BD_MED(rs, (int)rounds, fill_s), ovf,
		       BD_MED(rs, (int)rounds, drain_ms),
		       BD_MED(rs, (int)rounds, us_flow),
		       BD_MED(rs, (int)rounds, state_us_flow),
		       BD_MED(rs, (int)rounds, empty_ms),
		       BD_MED(rs, (int)rounds, bg_ms),
		       BD_MED(rs, (int)rounds, create_b),
		       BD_MED(rs, (int)rounds, fill_b),
		       BD_MED(rs, (int)rounds, meminfo_b),
		       BD_MED(rs, (int)rounds, memlock_b),
		       exact ? "yes" : "NO");
	}
	printf("\novf: most burst packets sent to an overflow entry in a "
	       "round while the map had room; µs/flow: (drain - empty tick) "
	       "/ flows; pinned µs: the same into a stage in the set's "
	       "mmap()ed state map (a second fill), as the agent's pinned "
	       "state drains; empty ms: a tick with nothing to drain (the swap's "
	       "grace periods); bg: kernel threads' CPU during the drain and "
	       "200 ms after; B/entry: memory-cgroup kernel charge at "
	       "creation per map entry; B/flow: charge the fill added per "
	       "flow; meminfo: Slab+Percpu+VmallocUsed growth at creation "
	       "per map entry; memlock: of the set's maps per map entry\n");
	return 0;
}
