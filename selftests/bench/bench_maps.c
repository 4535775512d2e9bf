/* bench_maps.c - kernel-side cost of candidate flow-map designs for issue 8
 * (router scale), side by side in one run: per-packet cost, overflow while
 * the map has room, drain cost per flow by strategy and batch size, kernel
 * memory per flow (projected to 64 CPUs), and the steady state of 1M flows
 * that stay active across polls.
 *
 * Designs (selftests/bench/bench_maps.bpf.c): PERCPU_HASH or HASH with
 * atomics, each BPF_F_NO_PREALLOC or preallocated, behind an ARRAY_OF_MAPS
 * like fe_outer. Baselines: bench_minimal (ebpf/bench.bpf.c) and the
 * product meter fe_tc_egress (ebpf/meter.bpf.c: PERCPU_HASH no-prealloc when
 * this bench was written, the shared-prealloc design since).
 *
 * Method:
 * - fills: "burst" runs bm_fill_<design> once with repeat=N (N distinct
 *   flows back to back in one BPF_PROG_TEST_RUN, as a softirq would see a
 *   flood); "paced" runs the meter once per syscall on N distinct frames
 *   (about the rate of issue 8's fill), optionally with a drain thread
 *   swapping and draining every 100 ms on the other CPU.
 * - fills run on CPU 0, drains on CPU 1 (packets and agent apart).
 * - drain cost is the wall time of the drain's syscalls (the kernel's
 *   part: copying and freeing), after the swap; every drain is checked
 *   exact (entries == flows, packets == packets sent). Work the kernel
 *   defers (RCU callbacks, the map free of a closed map) runs in kernel
 *   threads: "bg ms" is their CPU time, system-wide and tick-sampled.
 * - memory: memlock (fdinfo), the memory cgroup's kernel charge, and the
 *   /proc/meminfo Percpu delta (the per-CPU part, scaled to 64 CPUs).
 * No timed assertions: compare ratios from one run on a shared machine.
 * Env: BM_SIZES (10000,100000,1000000), BM_PHASES (acdfps: acceptance,
 * cost, drain, fill, paced fill, steady), BM_REPEAT (200000), BM_ROUNDS
 * (11), BM_POLLS (3), BM_BATCH (steady-state batch, 16384), BM_DESIGNS
 * (bit mask of the designs to run, 0xf; bit i = BM_* value i).
 */
#include <pthread.h>
#include <bpf/btf.h>
#include "../bpf/meter_testlib.h"
#include "bench.skel.h"
#include "bench_maps.h"
#include "bench_maps.skel.h"
#include "bench_maps_sys.h"

#define BM_MAX_BATCH 65536
#define BM_OVF_MAX 1024 /* overflow maps: one entry per interface/dir */
#define BM_SLACK 64	/* the "exact" map: N + BM_SLACK entries */
#define BM_MAX_SIZES 8

struct bm_design {
	const char *name;
	enum bpf_map_type type;
	__u32 flags;
	__u32 vsize;
	bool percpu;
	int outer_fd, meter_fd, fill_fd;
};

struct bm {
	struct bench_maps_bpf *skel;
	struct bench_bpf *base;
	struct mt_meter prod;
	struct bm_design d[BM_NR_DESIGNS];
	int ncpu, stats_fd;
	__u8 small[2048], big[2048];
	__u32 small_len, big_len;
	void *keys, *vals;
	unsigned long sizes[BM_MAX_SIZES];
	int nsizes;
	double idle_bg_ms_per_s; /* kernel threads' CPU when we do nothing */
	unsigned long mask;	 /* BM_DESIGNS: which designs run */
	bool tp_ok;		 /* per-CPU allocator tracepoints counted */
};

static bool want(const struct bm *b, int i)
{
	return b->mask & (1UL << i);
}

/* Result of one drain. */
struct bm_drain {
	long long entries;
	unsigned long long packets;
	double ns;	/* wall time of the drain's syscalls */
	double bg_ms;	/* kernel threads' CPU until the work settled */
	double sys_ms;	/* this process's system time */
	double free_ms; /* recreate: close + wait until the memory is back */
	unsigned long long ovf; /* packets the fill sent to overflow */
};

static const char *const design_names[BM_NR_DESIGNS] = {
	"pcpu-nopre", "pcpu-prealloc", "shared-nopre", "shared-prealloc"
};

static int inner_create(const struct bm_design *d, __u32 max)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = d->flags);
	int fd = bpf_map_create(d->type, "bm_flows", sizeof(struct fe_flow_key),
				d->vsize, max, &o);

	return fd < 0 ? -errno : fd;
}

/* Puts fd in slot of d's outer map; the wall time (the update waits for
 * running programs: synchronize_rcu()).
 */
static double slot_set_fd(int outer_fd, __u32 slot, int fd)
{
	double t0 = bs_now_ns();

	if (bpf_map_update_elem(outer_fd, &slot, &fd, BPF_ANY))
		return -1;
	return bs_now_ns() - t0;
}

static double slot_set(const struct bm_design *d, __u32 slot, int fd)
{
	return slot_set_fd(d->outer_fd, slot, fd);
}

/* Zeroes the n per-CPU u64 counters of a stats array. */
static int stats_reset(struct bm *b, int fd, __u32 n)
{
	__u64 *zero = calloc(b->ncpu, sizeof(__u64));
	int err = 0;

	if (!zero)
		return -ENOMEM;
	for (__u32 i = 0; i < n && !err; i++)
		if (bpf_map_update_elem(fd, &i, zero, BPF_ANY))
			err = -errno;
	free(zero);
	return err;
}

static unsigned long long stat_sum(struct bm *b, int fd, __u32 idx)
{
	__u64 v[256];
	unsigned long long s = 0;

	if (b->ncpu > 256 || bpf_map_lookup_elem(fd, &idx, v))
		return 0;
	for (int c = 0; c < b->ncpu; c++)
		s += v[c];
	return s;
}

/* One test run without context or output copy; the kernel's mean ns per
 * repetition in *dur.
 */
static int run_prog(int fd, const void *pkt, __u32 len, __u32 repeat,
		    __u32 *dur)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	if (dur)
		*dur = o.duration;
	return 0;
}

/* N distinct flows through d's fill program in one run; mean ns/run. */
static int fill_burst(struct bm *b, const struct bm_design *d, unsigned long n,
		      double *ns)
{
	__u32 dur = 0;
	int err;

	b->skel->bss->bm_seq = 0;
	bs_pin(0, b->ncpu);
	err = run_prog(d->fill_fd, b->small, b->small_len, n, &dur);
	if (ns)
		*ns = dur;
	return err;
}

/* Frame i of a paced fill: source address and port from i. */
static void frame_patch(__u8 *f, unsigned long i)
{
	__u32 a = htonl(0x0b000000 | (__u32)(i >> 16));

	memcpy(f + 14 + 12, &a, 4);
	f[34] = (i >> 8) & 0xff;
	f[35] = i & 0xff;
}

/* ---- reading maps ---- */

/* Adds n entries from the drain buffers to r (packets summed over CPUs). */
static void tally(struct bm *b, const struct bm_design *d, __u32 n,
		  struct bm_drain *r)
{
	int per = d->percpu ? b->ncpu : 1;

	for (__u32 i = 0; i < n; i++) {
		const __u8 *v = (const __u8 *)b->vals + (size_t)i * per * 48;

		for (int c = 0; c < per; c++)
			r->packets += *(const __u64 *)(v + c * 48);
	}
	r->entries += n;
}

enum bm_batch_op {
	OP_LAD,	     /* lookup_and_delete_batch */
	OP_READ,     /* lookup_batch */
	OP_READ_DEL, /* lookup_batch, then delete_batch of the keys read */
};

static int drain_batch(struct bm *b, const struct bm_design *d, int fd,
		       __u32 batch, enum bm_batch_op op, struct bm_drain *r)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	__u32 out, cnt, dc;
	void *in = NULL;
	int err, derr = 0;
	double t0;

	for (;;) {
		cnt = batch;
		t0 = bs_now_ns();
		if (op == OP_LAD)
			err = bpf_map_lookup_and_delete_batch(
				fd, in, &out, b->keys, b->vals, &cnt, &o);
		else
			err = bpf_map_lookup_batch(fd, in, &out, b->keys,
						   b->vals, &cnt, &o);
		if (op == OP_READ_DEL && (!err || err == -ENOENT) && cnt) {
			dc = cnt;
			derr = bpf_map_delete_batch(fd, b->keys, &dc, &o);
		}
		r->ns += bs_now_ns() - t0;
		if (err && err != -ENOENT)
			return err;
		if (derr)
			return derr;
		tally(b, d, cnt, r);
		if (err)
			return 0;
		in = &out;
	}
}

static int drain_lad(struct bm *b, const struct bm_design *d, int fd,
		     __u32 batch, struct bm_drain *r)
{
	return drain_batch(b, d, fd, batch, OP_LAD, r);
}

/* One key at a time, the agent's fallback (next key taken before the
 * current one is deleted).
 */
static int drain_walk(struct bm *b, const struct bm_design *d, int fd,
		      struct bm_drain *r)
{
	struct fe_flow_key cur, next;
	double t0 = bs_now_ns();
	bool more;

	if (bpf_map_get_next_key(fd, NULL, &cur))
		goto out;
	do {
		more = bpf_map_get_next_key(fd, &cur, &next) == 0;
		if (!bpf_map_lookup_elem(fd, &cur, b->vals)) {
			r->ns += bs_now_ns() - t0;
			tally(b, d, 1, r);
			t0 = bs_now_ns();
			bpf_map_delete_elem(fd, &cur);
		}
		cur = next;
	} while (more);
out:
	r->ns += bs_now_ns() - t0;
	return 0;
}

/* Waits (at most 15 s) until the memory cgroup's kernel charge is back
 * within 1% of the growth above base; the ms waited.
 */
static double wait_freed(long long base, long long grown)
{
	double t0 = bs_now_ns();
	long long slack = (grown - base) / 100 + (1 << 20);

	if (base < 0)
		return 0;
	while (bs_now_ns() - t0 < 15e9) {
		if (bs_kmem() <= base + slack)
			break;
		usleep(2000);
	}
	return (bs_now_ns() - t0) / 1e6;
}

enum bm_strategy {
	S_LAD,	    /* lookup_and_delete_batch */
	S_LB_DB,    /* lookup_batch + delete_batch */
	S_RECREATE, /* lookup_batch, close, create a fresh map */
	S_WALK,	    /* get_next_key + lookup + delete per flow */
	S_READ,	    /* lookup_batch only: the floor of reading (no delete) */
};

/* Drains fd with strategy s; *fd is replaced by a fresh map of cap
 * entries for S_RECREATE, whose free is waited for (kmem_empty: the
 * cgroup's kernel charge when the map was empty). 0 or -errno.
 */
static int drain(struct bm *b, const struct bm_design *d, int *fd, __u32 cap,
		 enum bm_strategy s, __u32 batch, long long kmem_empty,
		 struct bm_drain *r)
{
	double bg0 = bs_kthreads_ms(), sys0 = bs_self_sys_ms(), t0;
	long long k0 = bs_kmem();
	int err = 0, nfd;

	memset(r, 0, sizeof(*r));
	bs_pin(1, b->ncpu);
	switch (s) {
	case S_LAD:
		err = drain_lad(b, d, *fd, batch, r);
		break;
	case S_LB_DB:
		err = drain_batch(b, d, *fd, batch, OP_READ_DEL, r);
		break;
	case S_READ:
		err = drain_batch(b, d, *fd, batch, OP_READ, r);
		break;
	case S_WALK:
		err = drain_walk(b, d, *fd, r);
		break;
	case S_RECREATE:
		err = drain_batch(b, d, *fd, batch, OP_READ, r);
		t0 = bs_now_ns();
		close(*fd);
		nfd = inner_create(d, cap);
		r->ns += bs_now_ns() - t0;
		*fd = nfd;
		if (nfd < 0)
			return nfd;
		r->free_ms = wait_freed(kmem_empty, k0);
		break;
	}
	usleep(100000); /* let RCU callbacks and irq_work run */
	r->bg_ms = bs_kthreads_ms() - bg0 - b->idle_bg_ms_per_s * 0.1;
	if (r->bg_ms < 0)
		r->bg_ms = 0;
	r->sys_ms = bs_self_sys_ms() - sys0;
	return err;
}

/* ---- setup ---- */

static bool have_tracepoint(const char *name)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	char tname[128];
	bool ok;

	if (!vmlinux)
		return false;
	snprintf(tname, sizeof(tname), "btf_trace_%s", name);
	ok = btf__find_by_name_kind(vmlinux, tname, BTF_KIND_TYPEDEF) > 0;
	btf__free(vmlinux);
	return ok;
}

static int bm_open(struct bm *b, char *why, size_t wl)
{
	static const enum bpf_map_type types[BM_NR_DESIGNS] = {
		BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_HASH,
		BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_HASH
	};
	static const char *const suffix[BM_NR_DESIGNS] = {
		"pcpu_nopre", "pcpu_pre", "shared_nopre", "shared_pre"
	};
	struct bpf_map *outers[BM_NR_DESIGNS];
	struct bpf_program *meters[BM_NR_DESIGNS], *fills[BM_NR_DESIGNS];
	struct mt_pkt_spec s;
	int i, err, tmpl[BM_NR_DESIGNS];

	b->ncpu = libbpf_num_possible_cpus();
	if (mt_meter_open(&b->prod, FE_DEFAULT_MAX_FLOWS, 0, why, wl))
		return -1;
	b->base = bench_bpf__open_and_load();
	b->skel = bench_maps_bpf__open();
	if (!b->base || !b->skel) {
		snprintf(why, wl, "open bench/bench_maps skeletons: %s",
			 strerror(errno));
		return -1;
	}
	for (i = 0; i < BM_NR_DESIGNS; i++) {
		char name[3][64];

		snprintf(name[0], sizeof(name[0]), "bm_outer_%s", suffix[i]);
		snprintf(name[1], sizeof(name[1]), "bm_meter_%s", suffix[i]);
		snprintf(name[2], sizeof(name[2]), "bm_fill_%s", suffix[i]);
		outers[i] = bpf_object__find_map_by_name(b->skel->obj, name[0]);
		meters[i] =
			bpf_object__find_program_by_name(b->skel->obj, name[1]);
		fills[i] =
			bpf_object__find_program_by_name(b->skel->obj, name[2]);
		if (!outers[i] || !meters[i] || !fills[i]) {
			snprintf(why, wl, "bench_maps.bpf.o lacks %s", name[0]);
			return -1;
		}
	}
	for (i = 0; i < BM_NR_DESIGNS; i++) {
		struct bm_design *d = &b->d[i];

		d->name = design_names[i];
		d->type = types[i];
		d->flags = i == BM_PCPU_NOPRE || i == BM_SHARED_NOPRE
				   ? BPF_F_NO_PREALLOC
				   : 0;
		d->percpu = types[i] == BPF_MAP_TYPE_PERCPU_HASH;
		d->vsize = d->percpu ? sizeof(struct fe_flow_val)
				     : sizeof(struct bm_val);
		tmpl[i] = inner_create(d, BM_OVF_MAX);
		if (tmpl[i] < 0 ||
		    bpf_map__set_inner_map_fd(outers[i], tmpl[i])) {
			snprintf(why, wl, "inner map template %s: %s", d->name,
				 strerror(tmpl[i] < 0 ? -tmpl[i] : errno));
			return -1;
		}
	}
	b->tp_ok = have_tracepoint("percpu_alloc_percpu_fail") &&
		   have_tracepoint("percpu_create_chunk");
	bpf_program__set_autoload(b->skel->progs.bm_pcpu_alloc_fail, b->tp_ok);
	bpf_program__set_autoload(b->skel->progs.bm_pcpu_new_chunk, b->tp_ok);
	err = bench_maps_bpf__load(b->skel);
	for (i = 0; i < BM_NR_DESIGNS; i++)
		close(tmpl[i]);
	if (!err && b->tp_ok &&
	    (!bpf_program__attach(b->skel->progs.bm_pcpu_alloc_fail) ||
	     !bpf_program__attach(b->skel->progs.bm_pcpu_new_chunk)))
		b->tp_ok = false;
	if (err) {
		snprintf(why, wl, "load bench_maps.bpf.o: %s", strerror(-err));
		return -1;
	}
	for (i = 0; i < BM_NR_DESIGNS; i++) {
		b->d[i].outer_fd = bpf_map__fd(outers[i]);
		b->d[i].meter_fd = bpf_program__fd(meters[i]);
		b->d[i].fill_fd = bpf_program__fd(fills[i]);
	}
	b->stats_fd = bpf_map__fd(b->skel->maps.bm_stats);
	mt_spec_default(&s, 4, IPPROTO_TCP);
	s.payload = 0;
	b->small_len = mt_pkt_build(&s, b->small, sizeof(b->small), NULL);
	s.payload = 1514 - 14 - 20 - 20;
	b->big_len = mt_pkt_build(&s, b->big, sizeof(b->big), NULL);
	b->keys = malloc((size_t)BM_MAX_BATCH * sizeof(struct fe_flow_key));
	b->vals = malloc((size_t)BM_MAX_BATCH * 48 * b->ncpu);
	if (!b->keys || !b->vals || !b->small_len || !b->big_len) {
		snprintf(why, wl, "out of memory");
		return -1;
	}
	return 0;
}

/* A design's maps in place: flows (cap entries) and a small overflow map
 * in the outer map's slots.
 */
struct bm_inst {
	int flows, ovf, spare;
	__u32 cap;
};

static void inst_free(struct bm_inst *in)
{
	if (in->flows >= 0)
		close(in->flows);
	if (in->ovf >= 0)
		close(in->ovf);
	if (in->spare >= 0)
		close(in->spare);
	in->flows = in->ovf = in->spare = -1;
}

/* spare: also an empty map to swap in while flows is drained. */
static int inst_new(const struct bm_design *d, __u32 cap, bool spare,
		    struct bm_inst *in)
{
	in->cap = cap;
	in->flows = inner_create(d, cap);
	in->ovf = inner_create(d, BM_OVF_MAX);
	in->spare = spare ? inner_create(d, cap) : -1;
	if (in->flows < 0 || in->ovf < 0 || (spare && in->spare < 0)) {
		int err = in->flows < 0 ? in->flows
			  : in->ovf < 0 ? in->ovf
					: in->spare;

		inst_free(in);
		return err;
	}
	if (slot_set(d, BM_SLOT_FLOWS, in->flows) < 0 ||
	    slot_set(d, BM_SLOT_OVERFLOW, in->ovf) < 0) {
		int err = -errno;

		inst_free(in);
		return err;
	}
	return 0;
}

/* Entries and packets of a map, read without deleting. */
static int map_count(struct bm *b, const struct bm_design *d, int fd,
		     struct bm_drain *r)
{
	memset(r, 0, sizeof(*r));
	return drain_batch(b, d, fd, 4096, OP_READ, r);
}

/* ---- acceptance: what the kernel takes for inner maps ---- */

static void phase_accept(struct bm *b)
{
	const struct bm_design *d = &b->d[BM_SHARED_NOPRE];
	LIBBPF_OPTS(bpf_map_create_opts, o,
		    .map_flags = BPF_F_NO_PREALLOC | BPF_F_INNER_MAP);
	int fd, small, pre, pc;

	printf("## Kernel acceptance (ARRAY_OF_MAPS of hashes)\n\n");
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "bm_t",
			    sizeof(struct fe_flow_key), 48, 64, &o);
	printf("- HASH with BPF_F_INNER_MAP: %s\n",
	       fd < 0 ? strerror(errno) : "created");
	if (fd >= 0)
		close(fd);
	small = inner_create(d, 16);
	pre = inner_create(&b->d[BM_SHARED_PRE], 16);
	pc = inner_create(&b->d[BM_PCPU_NOPRE], 16);
	printf("- inner hash of 16 entries into a slot whose template has "
	       "%u: %s\n",
	       BM_OVF_MAX,
	       slot_set(d, BM_SLOT_OVERFLOW, small) >= 0 ? "accepted"
							 : strerror(errno));
	printf("- preallocated hash into a no-prealloc slot: %s\n",
	       slot_set(d, BM_SLOT_OVERFLOW, pre) >= 0 ? "accepted"
						       : strerror(errno));
	printf("- PERCPU_HASH into a HASH slot: %s\n\n",
	       slot_set(d, BM_SLOT_OVERFLOW, pc) >= 0 ? "accepted"
						      : strerror(errno));
	close(small);
	close(pre);
	close(pc);
}

/* Creation cost of each design at cap entries (what S_RECREATE and a
 * preallocated map pay up front).
 */
static void phase_create(struct bm *b, __u32 cap)
{
	printf("## Map creation at %u entries\n\n", cap);
	printf("| design | create ms | kernel MiB at create | close+free ms "
	       "|\n");
	printf("|---|---|---|---|\n");
	for (int i = 0; i < BM_NR_DESIGNS; i++) {
		long long k0 = bs_kmem(), k1;
		double t0 = bs_now_ns(), tc;
		int fd = inner_create(&b->d[i], cap);

		tc = (bs_now_ns() - t0) / 1e6;
		k1 = bs_kmem();
		if (fd < 0) {
			printf("| %s | %s | | |\n", b->d[i].name,
			       strerror(-fd));
			continue;
		}
		close(fd);
		printf("| %s | %.1f | %.1f | %.1f |\n", b->d[i].name, tc,
		       k0 >= 0 ? (k1 - k0) / 1048576.0 : -1,
		       wait_freed(k0, k1));
	}
	printf("\n");
}

/* ---- per-packet cost ---- */

enum { C_MIN, C_PROD, C_D0, C_NR = C_D0 + BM_NR_DESIGNS };

static const char *cost_name(const struct bm *b, int p)
{
	if (p == C_MIN)
		return "bench_minimal";
	if (p == C_PROD)
		return "fe_tc_egress (product)";
	return b->d[p - C_D0].name;
}

static int cost_fd(const struct bm *b, int p)
{
	if (p == C_MIN)
		return bpf_program__fd(b->base->progs.bench_minimal);
	if (p == C_PROD)
		return mt_prog_fd(&b->prod, MT_TC_EGRESS);
	return b->d[p - C_D0].meter_fd;
}

struct bm_contend {
	pthread_barrier_t *bar;
	struct bm *b;
	int fd, cpu;
	__u32 repeat, dur;
};

static void *contend_thread(void *arg)
{
	struct bm_contend *c = arg;

	bs_pin(c->cpu, c->b->ncpu);
	pthread_barrier_wait(c->bar);
	run_prog(c->fd, c->b->big, c->b->big_len, c->repeat, &c->dur);
	return NULL;
}

/* The same flow from both CPUs at once: per-CPU values never share a
 * cache line, atomics on a shared value do.
 */
static double contend(struct bm *b, int fd, __u32 repeat)
{
	pthread_barrier_t bar;
	struct bm_contend c[2];
	pthread_t t[2];

	pthread_barrier_init(&bar, NULL, 2);
	for (int i = 0; i < 2; i++) {
		c[i] = (struct bm_contend){ .bar = &bar,
					    .b = b,
					    .fd = fd,
					    .cpu = i,
					    .repeat = repeat };
		pthread_create(&t[i], NULL, contend_thread, &c[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&bar);
	return (c[0].dur + c[1].dur) / 2.0;
}

static int phase_cost(struct bm *b)
{
	unsigned long repeat = bs_env_ul("BM_REPEAT", 200000);
	int rounds = bs_env_ul("BM_ROUNDS", 11), p, r;
	struct bm_inst in[BM_NR_DESIGNS];
	double *ex = calloc((size_t)C_NR * rounds, sizeof(double));
	double med[C_NR], min[C_NR], con;
	__u32 dur = 0;

	if (!ex)
		return -ENOMEM;
	for (int i = 0; i < BM_NR_DESIGNS; i++)
		if (inst_new(&b->d[i], FE_DEFAULT_MAX_FLOWS, false, &in[i]))
			return -errno;
	bs_pin(0, b->ncpu);
	for (r = 0; r < rounds; r++)
		for (p = 0; p < C_NR; p++) {
			if (run_prog(cost_fd(b, p), b->big, b->big_len, repeat,
				     &dur))
				return -errno;
			ex[p * rounds + r] = dur;
		}
	for (p = 0; p < C_NR; p++) {
		med[p] = bs_median(ex + p * rounds, rounds);
		min[p] = ex[p * rounds];
	}
	printf("## Per packet: existing flow, %u-byte TCP/IPv4 frame\n\n",
	       b->big_len);
	printf("BPF_PROG_TEST_RUN repeat=%lu, median (fastest) of %d "
	       "interleaved rounds, CPU 0; 2-CPU: the same flow from both "
	       "CPUs at once.\n\n",
	       repeat, rounds);
	printf("| program | ns/run | x minimal | fastest | x minimal | "
	       "2-CPU same flow ns | x 1-CPU |\n");
	printf("|---|---|---|---|---|---|---|\n");
	for (p = 0; p < C_NR; p++) {
		con = contend(b, cost_fd(b, p), repeat);
		printf("| %s | %.1f | %.2f | %.1f | %.2f | %.1f | %.2f |\n",
		       cost_name(b, p), med[p], med[p] / med[C_MIN], min[p],
		       min[p] / min[C_MIN], con, con / med[p]);
	}
	printf("\n");
	for (int i = 0; i < BM_NR_DESIGNS; i++)
		inst_free(&in[i]);
	free(ex);
	return 0;
}

/* ---- drain cost and memory ---- */

struct bm_strat {
	enum bm_strategy s;
	__u32 batch;
	const char *label;
};

static const struct bm_strat strats[] = {
	{ S_LAD, 256, "lookup_and_delete_batch 256" },
	{ S_LAD, 1024, "lookup_and_delete_batch 1024" },
	{ S_LAD, 4096, "lookup_and_delete_batch 4096" },
	{ S_LAD, 16384, "lookup_and_delete_batch 16384" },
	{ S_LAD, 65536, "lookup_and_delete_batch 65536" },
	{ S_LB_DB, 4096, "lookup_batch + delete_batch 4096" },
	{ S_RECREATE, 4096, "lookup_batch 4096 + close + create" },
	{ S_WALK, 0, "per-element walk (next/lookup/delete)" },
	{ S_READ, 4096, "lookup_batch 4096, no delete (floor)" },
};

#define BM_NR_STRATS (int)(sizeof(strats) / sizeof(strats[0]))

/* Memory of one flows map, from the memory cgroup's kernel charge: it is
 * per object (slab object size, per-CPU bytes on every CPU), so unlike
 * /proc/meminfo it does not hide allocations in slabs or per-CPU pages
 * freed earlier. The kernel does not charge the per-CPU values of a
 * preallocated PERCPU_HASH (seen here: 1M entries grew the charge by
 * 128.8 MB, memlock says 224.8 MB and Percpu grew 95.3 MB), so those are
 * added from their size. memlock (the kernel's map_mem_usage()) is shown
 * as a cross-check.
 */
struct bm_mem {
	double create;	/* charge at creation, per max entry */
	double fill;	/* charge of the fill, per flow */
	double pcpu;	/* per-CPU value bytes per flow, all CPUs */
	double total;	/* this map per flow at this fill */
	double proj64;	/* the same with 64 CPUs */
	double memlock; /* fdinfo after the fill, per flow */
	double seen;	/* /proc/meminfo Percpu growth per flow (a check) */
	double ins_ns, ex_ns, swap_ms;
};

static struct bm_mem mem[BM_MAX_SIZES][BM_NR_DESIGNS];
static struct bm_drain dres[BM_MAX_SIZES][BM_NR_STRATS][BM_NR_DESIGNS];
static int dexact[BM_MAX_SIZES][BM_NR_STRATS][BM_NR_DESIGNS];

/* Waits (at most 5 s) until the kernel charge has not moved by more than
 * 256 KiB for 500 ms: memory freed after RCU grace periods (maps closed
 * earlier, elements freed by a drain) must not land inside the next
 * measurement.
 */
static void settle(void)
{
	long long last = bs_kmem(), cur;
	int stable = 0;

	for (int i = 0; i < 100 && stable < 10 && last >= 0; i++) {
		usleep(50000);
		cur = bs_kmem();
		stable = llabs(cur - last) < (256 << 10) ? stable + 1 : 0;
		last = cur;
	}
}

static int mem_fill(struct bm *b, const struct bm_design *d, unsigned long n,
		    struct bm_inst *in, struct bm_mem *m, long long *kempty)
{
	bool prealloc = !(d->flags & BPF_F_NO_PREALLOC);
	struct bs_meminfo ma, mb, mc0, mc;
	long long ka, kb, kc0, kc;
	double per_cpu, entries;
	int err;

	settle();
	ka = bs_kmem();
	bs_meminfo(&ma);
	in->cap = 2 * n;
	in->flows = inner_create(d, in->cap);
	kb = bs_kmem();
	bs_meminfo(&mb);
	in->ovf = inner_create(d, BM_OVF_MAX);
	in->spare = inner_create(d, in->cap);
	if (in->flows < 0 || in->ovf < 0 || in->spare < 0 ||
	    slot_set(d, BM_SLOT_FLOWS, in->flows) < 0 ||
	    slot_set(d, BM_SLOT_OVERFLOW, in->ovf) < 0)
		return -ENOMEM;
	settle();
	kc0 = *kempty = bs_kmem();
	bs_meminfo(&mc0);
	err = fill_burst(b, d, n, &m->ins_ns);
	kc = bs_kmem();
	bs_meminfo(&mc);
	if (!err)
		err = fill_burst(b, d, n, &m->ex_ns); /* all exist now */
	m->seen = (double)(mb.percpu - ma.percpu + mc.percpu - mc0.percpu) / n;
	m->memlock = (double)bs_memlock(in->flows) / n;
	m->create = (double)(kb - ka) / in->cap;
	m->fill = (double)(kc - kc0) / n;
	/* per-CPU values: one per live flow, or per entry if preallocated */
	entries = prealloc ? in->cap : n;
	per_cpu = d->percpu ? ((d->vsize + 7) & ~7u) * entries / n : 0;
	m->pcpu = per_cpu * b->ncpu;
	m->total = (double)(kb - ka + kc - kc0) / n + (prealloc ? m->pcpu : 0);
	m->proj64 = m->total + per_cpu * (64 - b->ncpu);
	return err;
}

/* Fills a fresh map of 2N entries, reads the memory it took, then runs
 * every strategy on it (refilled each time), swapped out of the slot as
 * the agent does.
 */
static int drain_design(struct bm *b, int si, int di)
{
	const struct bm_design *d = &b->d[di];
	unsigned long n = b->sizes[si];
	struct bm_inst in = { .flows = -1, .ovf = -1, .spare = -1 };
	unsigned long long sent = 2 * (unsigned long long)n, lost;
	double swaps[BM_NR_STRATS];
	long long kempty, mem_base = bs_kmem();
	struct bm_drain ovf, *r;
	int err, j;

	err = stats_reset(b, b->stats_fd, BM_STAT_MAX);
	if (!err)
		err = mem_fill(b, d, n, &in, &mem[si][di], &kempty);
	if (err)
		goto out;
	for (j = 0; j < BM_NR_STRATS; j++) {
		r = &dres[si][j][di];
		if (j && ((err = stats_reset(b, b->stats_fd, BM_STAT_MAX)) ||
			  (err = fill_burst(b, d, n, NULL))))
			goto out;
		swaps[j] = slot_set(d, BM_SLOT_FLOWS, in.spare) / 1e6;
		err = drain(b, d, &in.flows, 2 * n, strats[j].s,
			    strats[j].batch, kempty, r);
		if (err) {
			fprintf(stderr, "bench_maps: drain %s %s: %s\n",
				d->name, strats[j].label, strerror(-err));
			goto out;
		}
		if (strats[j].s == S_READ)
			drain_lad(b, d, in.flows, 4096, &ovf);
		/* exact: every packet sent is in a flow, an overflow entry,
		 * or counted lost
		 */
		memset(&ovf, 0, sizeof(ovf));
		drain_lad(b, d, in.ovf, 4096, &ovf);
		lost = stat_sum(b, b->stats_fd, FE_STAT_OVF_LOST);
		r->ovf = ovf.packets + lost;
		dexact[si][j][di] = r->packets + ovf.packets + lost == sent;
		sent = n;
		err = slot_set(d, BM_SLOT_FLOWS, in.flows) < 0 ? -errno : 0;
		if (err)
			goto out;
	}
	mem[si][di].swap_ms = bs_median(swaps, BM_NR_STRATS);
out:
	inst_free(&in);
	/* the next design's memory must not see this one's deferred free */
	wait_freed(mem_base, bs_kmem());
	return err;
}

/* A table header: strategy, then one column per design. */
static void print_design_header(const struct bm *b)
{
	printf("| strategy |");
	for (int i = 0; i < BM_NR_DESIGNS; i++)
		printf(" %s |", b->d[i].name);
	printf("\n|---|");
	for (int i = 0; i < BM_NR_DESIGNS; i++)
		printf("---|");
	printf("\n");
}

/* One cell of a drain table; false when the design did not run. */
static bool print_skipped(const struct bm *b, int i)
{
	if (want(b, i))
		return false;
	printf(" - |");
	return true;
}

static void print_drain(struct bm *b, int si)
{
	printf("### Drain, %lu flows in a %lu-entry map: kernel us/flow\n\n",
	       b->sizes[si], 2 * b->sizes[si]);
	print_design_header(b);
	for (int j = 0; j < BM_NR_STRATS; j++) {
		printf("| %s |", strats[j].label);
		for (int i = 0; i < BM_NR_DESIGNS; i++) {
			const struct bm_drain *r = &dres[si][j][i];

			if (print_skipped(b, i))
				continue;
			printf(" %.3f%s", r->ns / 1e3 / b->sizes[si],
			       dexact[si][j][i] ? "" : " NOT EXACT");
			if (r->ovf)
				printf(" (fill: %llu to overflow)", r->ovf);
			printf(" |");
		}
		printf("\n");
	}
	printf("\nDeferred work, ms per drain (kernel threads' CPU; "
	       "recreate: +wait until freed):\n\n");
	print_design_header(b);
	for (int j = 0; j < BM_NR_STRATS; j++) {
		if (strats[j].s != S_RECREATE && strats[j].batch != 16384)
			continue;
		printf("| %s |", strats[j].label);
		for (int i = 0; i < BM_NR_DESIGNS; i++) {
			const struct bm_drain *r = &dres[si][j][i];

			if (print_skipped(b, i))
				continue;
			if (strats[j].s == S_RECREATE)
				printf(" bg %.0f, freed after %.0f |", r->bg_ms,
				       r->free_ms);
			else
				printf(" bg %.0f |", r->bg_ms);
		}
		printf("\n");
	}
	printf("\n");
}

static void print_mem(struct bm *b)
{
	printf("## Kernel memory per flow and insert cost (flows map of 2N "
	       "entries)\n\n");
	printf("Memory cgroup kernel charge: at creation per max entry "
	       "(buckets; preallocated elements), and the fill's per flow. "
	       "per-CPU: value bytes on all %d CPUs per flow (inside the "
	       "charge, except preallocated ones, which the kernel does not "
	       "charge and are added). B/flow: this map at this fill; at 64 "
	       "CPUs: the per-CPU part scaled. Percpu: /proc/meminfo growth / "
	       "N, a check (0 when freed per-CPU pages are reused). memlock: "
	       "the kernel's own figure (fdinfo) / N. insert: burst fill, ns "
	       "per new flow; "
	       "update: the same flows again.\n\n",
	       b->ncpu);
	printf("| design | N | create B/entry | fill B/flow | per-CPU B/flow "
	       "| B/flow | at 64 CPUs | Percpu B/flow | memlock B/flow | "
	       "insert ns | update ns | swap ms |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (int i = 0; i < BM_NR_DESIGNS; i++)
		for (int si = 0; si < b->nsizes && want(b, i); si++) {
			const struct bm_mem *m = &mem[si][i];

			printf("| %s | %lu | %.0f | %.0f | %.0f | %.0f | %.0f "
			       "| %.0f | %.0f | %.0f | %.0f | %.1f |\n",
			       b->d[i].name, b->sizes[si], m->create, m->fill,
			       m->pcpu, m->total, m->proj64, m->seen,
			       m->memlock, m->ins_ns, m->ex_ns, m->swap_ms);
		}
	printf("\n");
}

static int phase_drain(struct bm *b)
{
	int err;

	printf("## Drain cost per flow\n\n");
	printf("Each strategy drains the same N flows from a map swapped "
	       "out of its slot (fills on CPU 0, drains on CPU 1); the time "
	       "is the wall time of the drain's syscalls. NOT EXACT: the "
	       "packets in flows, overflow entries and the lost count do "
	       "not add up to the packets sent.\n\n");
	for (int si = 0; si < b->nsizes; si++) {
		for (int i = 0; i < BM_NR_DESIGNS; i++) {
			if (!want(b, i))
				continue;
			err = drain_design(b, si, i);
			if (err) {
				fprintf(stderr,
					"bench_maps: drain %s at %lu: "
					"%s\n",
					b->d[i].name, b->sizes[si],
					strerror(-err));
				return err;
			}
		}
		print_drain(b, si);
		fflush(stdout);
	}
	print_mem(b);
	return 0;
}

/* ---- fills: overflow while the map has room ---- */

/* What a fill left: flows in the map, packets in overflow entries, lost,
 * and why updates failed.
 */
struct bm_fill {
	long long entries;
	unsigned long long ovf, lost, enomem, e2big, ebusy, other;
	unsigned long long pcpu_fail, chunks; /* per-CPU allocator events */
	double flows_per_s;
	int drains;
};

/* Starts (start) or ends counting the per-CPU allocator's events. */
static void pcpu_events(struct bm *b, struct bm_fill *f, bool start)
{
	int sign = start ? -1 : 1;

	f->pcpu_fail += sign * b->skel->bss->bm_pcpu_fail;
	f->chunks += sign * b->skel->bss->bm_pcpu_chunks;
}

static void fill_stats(struct bm *b, int stats_fd, bool breakdown,
		       struct bm_fill *f)
{
	f->ovf = stat_sum(b, stats_fd, FE_STAT_OVERFLOW);
	f->lost = stat_sum(b, stats_fd, FE_STAT_OVF_LOST);
	if (!breakdown)
		return;
	f->enomem = stat_sum(b, stats_fd, BM_STAT_ENOMEM);
	f->e2big = stat_sum(b, stats_fd, BM_STAT_E2BIG);
	f->ebusy = stat_sum(b, stats_fd, BM_STAT_EBUSY);
	f->other = stat_sum(b, stats_fd, BM_STAT_EOTHER);
}

static void print_fill_row(struct bm *b, const char *name, unsigned long n,
			   __u32 cap, const struct bm_fill *f, bool breakdown)
{
	char why[96] = "", pc[64] = "n/a";

	if (breakdown)
		snprintf(why, sizeof(why), " (ENOMEM %llu, E2BIG %llu%s)",
			 f->enomem, f->e2big,
			 f->ebusy || f->other ? ", other" : "");
	if (b->tp_ok)
		snprintf(pc, sizeof(pc), "%llu (%llu)", f->pcpu_fail,
			 f->chunks);
	printf("| %s | %lu | %u | %lld | %llu%s | %llu | %s | %s |", name, n,
	       cap, f->entries, f->ovf, why, f->lost,
	       (unsigned long long)f->entries + f->ovf + f->lost == n ? "yes"
								      : "NO",
	       pc);
	if (f->flows_per_s > 0)
		printf(" %.0fk/s, %d drains |", f->flows_per_s / 1e3,
		       f->drains);
	printf("\n");
}

static int fill_one(struct bm *b, const struct bm_design *d, unsigned long n,
		    __u32 cap, struct bm_fill *f)
{
	struct bm_inst in;
	struct bm_drain r;
	int err;

	memset(f, 0, sizeof(*f));
	err = inst_new(d, cap, false, &in);
	if (!err)
		err = stats_reset(b, b->stats_fd, BM_STAT_MAX);
	pcpu_events(b, f, true);
	if (!err)
		err = fill_burst(b, d, n, NULL);
	pcpu_events(b, f, false);
	if (!err)
		err = map_count(b, d, in.flows, &r);
	f->entries = r.entries;
	fill_stats(b, b->stats_fd, true, f);
	inst_free(&in);
	return err;
}

static int phase_fill(struct bm *b)
{
	struct bm_fill f;
	int err;

	printf("## Burst fill: N new flows back to back (one test run, "
	       "repeat=N, CPU 0)\n\n");
	printf("| design | N | map entries | flows in map | packets to "
	       "overflow (why) | lost | all counted | per-CPU alloc fails "
	       "(new chunks) |\n");
	printf("|---|---|---|---|---|---|---|---|\n");
	for (int si = 0; si < b->nsizes; si++) {
		unsigned long n = b->sizes[si];
		__u32 caps[2] = { 2 * n, n + BM_SLACK };

		for (int c = 0; c < 2; c++)
			for (int i = 0; i < BM_NR_DESIGNS; i++) {
				if (!want(b, i))
					continue;
				err = fill_one(b, &b->d[i], n, caps[c], &f);
				if (err)
					return err;
				print_fill_row(b, b->d[i].name, n, caps[c], &f,
					       true);
			}
		fflush(stdout);
	}
	printf("\n");
	return 0;
}

/* A meter under test for paced fills: the product's or a candidate's. */
struct bm_target {
	const char *name;
	const struct bm_design *d; /* shape of its inner maps */
	int outer_fd, prog_fd, stats_fd;
	__u32 nstats;
	bool breakdown;
	bool prod; /* the product's fe_stats: one struct fe_stats per CPU */
};

/* The product's counters (fe_stats holds one struct fe_stats per CPU). */
static int prod_stats_reset(struct bm *b)
{
	struct fe_stats *zero = calloc(b->ncpu, sizeof(*zero));
	__u32 key = 0;
	int err;

	if (!zero)
		return -ENOMEM;
	err = bpf_map_update_elem(b->prod.stats_fd, &key, zero, BPF_ANY)
		      ? -errno
		      : 0;
	free(zero);
	return err;
}

static void prod_fill_stats(struct bm *b, struct bm_fill *f)
{
	__u64 st[FE_STAT_MAX];

	if (mt_stats_read(&b->prod, st))
		return;
	f->ovf = st[FE_STAT_OVERFLOW];
	f->lost = st[FE_STAT_OVF_LOST];
}

/* Swaps the slots every 100 ms and drains what it swapped out, on CPU 1,
 * while the main thread fills: the agent's loop.
 */
struct bm_drainer {
	struct bm *b;
	const struct bm_target *t;
	int flows[2], ovf[2], live;
	volatile int stop;
	struct bm_drain flows_r, ovf_r;
	int drains, err;
};

static void drainer_cycle(struct bm_drainer *dr)
{
	int old = dr->live, nw = !old;

	if (slot_set_fd(dr->t->outer_fd, BM_SLOT_FLOWS, dr->flows[nw]) < 0 ||
	    slot_set_fd(dr->t->outer_fd, BM_SLOT_OVERFLOW, dr->ovf[nw]) < 0) {
		dr->err = -errno;
		return;
	}
	dr->live = nw;
	dr->err =
		drain_lad(dr->b, dr->t->d, dr->flows[old], 4096, &dr->flows_r);
	if (!dr->err)
		dr->err = drain_lad(dr->b, dr->t->d, dr->ovf[old], 4096,
				    &dr->ovf_r);
	dr->drains++;
}

static void *drainer_thread(void *arg)
{
	struct bm_drainer *dr = arg;

	bs_pin(1, dr->b->ncpu);
	while (!dr->stop && !dr->err) {
		usleep(100000);
		drainer_cycle(dr);
	}
	return NULL;
}

enum bm_pace {
	PACE_ONE,	  /* one packet per syscall */
	PACE_ONE_DRAIN,	  /* the same with the drainer running */
	PACE_BURST_DRAIN, /* one burst run (fill program), drainer running */
};

/* Fills n distinct flows (CPU 0) as mode says. Counts every flow once:
 * entries drained + overflow packets + lost == n.
 */
static int fill_paced(struct bm *b, const struct bm_target *t, unsigned long n,
		      __u32 cap, enum bm_pace mode, struct bm_fill *f)
{
	bool with_drain = mode != PACE_ONE;
	struct bm_drainer dr = { .b = b, .t = t };
	pthread_t th;
	double t0;
	int err = 0, i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < 2; i++) {
		dr.flows[i] = inner_create(t->d, cap);
		dr.ovf[i] = inner_create(t->d, BM_OVF_MAX);
	}
	if (dr.flows[0] < 0 || dr.flows[1] < 0 || dr.ovf[0] < 0 ||
	    dr.ovf[1] < 0 ||
	    slot_set_fd(t->outer_fd, BM_SLOT_FLOWS, dr.flows[0]) < 0 ||
	    slot_set_fd(t->outer_fd, BM_SLOT_OVERFLOW, dr.ovf[0]) < 0 ||
	    (t->prod ? prod_stats_reset(b)
		     : stats_reset(b, t->stats_fd, t->nstats))) {
		err = -ENOMEM;
		goto out;
	}
	pcpu_events(b, f, true);
	if (with_drain)
		pthread_create(&th, NULL, drainer_thread, &dr);
	bs_pin(0, b->ncpu);
	t0 = bs_now_ns();
	if (mode == PACE_BURST_DRAIN)
		err = fill_burst(b, t->d, n, NULL);
	for (unsigned long k = 0; k < n && !err && mode != PACE_BURST_DRAIN;
	     k++) {
		frame_patch(b->small, k + 1);
		err = run_prog(t->prog_fd, b->small, b->small_len, 1, NULL);
	}
	f->flows_per_s = n / ((bs_now_ns() - t0) / 1e9);
	if (with_drain) {
		dr.stop = 1;
		pthread_join(th, NULL);
	}
	drainer_cycle(&dr); /* what is live now */
	pcpu_events(b, f, false);
	err = err ? err : dr.err;
	f->entries = dr.flows_r.entries;
	f->drains = dr.drains;
	if (t->prod)
		prod_fill_stats(b, f);
	else
		fill_stats(b, t->stats_fd, t->breakdown, f);
	/* the overflow entries' packets, as drained, must match the stat */
	if (dr.ovf_r.packets != f->ovf)
		f->ovf = dr.ovf_r.packets;
out:
	for (i = 0; i < 2; i++) {
		if (dr.flows[i] >= 0)
			close(dr.flows[i]);
		if (dr.ovf[i] >= 0)
			close(dr.ovf[i]);
	}
	return err;
}

static int phase_paced(struct bm *b)
{
	unsigned long n = b->sizes[b->nsizes - 1];
	struct bm_target t[1 + BM_NR_DESIGNS];
	struct bm_fill f;
	int err;

	/* the product's inner maps are shared-prealloc's shape now; its
	 * programs use generation 0's slots, the candidates' two
	 */
	t[0] = (struct bm_target){ .name = "fe_tc_egress (product)",
				   .d = &b->d[BM_SHARED_PRE],
				   .outer_fd = b->prod.outer_fd,
				   .prog_fd =
					   mt_prog_fd(&b->prod, MT_TC_EGRESS),
				   .stats_fd = b->prod.stats_fd,
				   .prod = true };
	for (int i = 0; i < BM_NR_DESIGNS; i++)
		t[1 + i] = (struct bm_target){ .name = b->d[i].name,
					       .d = &b->d[i],
					       .outer_fd = b->d[i].outer_fd,
					       .prog_fd = b->d[i].meter_fd,
					       .stats_fd = b->stats_fd,
					       .nstats = BM_STAT_MAX,
					       .breakdown = true };
	printf("## Paced fill: one packet per BPF_PROG_TEST_RUN (CPU 0), "
	       "without and with the agent's loop (swap + drain every 100 "
	       "ms, CPU 1); then a burst fill with that loop running\n\n");
	printf("| meter | N | map entries | flows drained | packets to "
	       "overflow (why) | lost | all counted | per-CPU alloc fails "
	       "(new chunks) | rate |\n");
	printf("|---|---|---|---|---|---|---|---|---|\n");
	for (int w = PACE_ONE; w <= PACE_BURST_DRAIN; w++)
		for (int i = 0; i < 1 + BM_NR_DESIGNS; i++) {
			if (!want(b, i ? i - 1 : BM_SHARED_PRE) ||
			    (w == PACE_BURST_DRAIN && !i))
				continue; /* the product has no fill program */
			err = fill_paced(b, &t[i], n, 2 * n, w, &f);
			if (err)
				return err;
			print_fill_row(b, t[i].name, n, 2 * n, &f,
				       t[i].breakdown);
			fflush(stdout);
		}
	printf("\n");
	return 0;
}

/* ---- steady state: N flows active across polls ---- */

struct bm_poll {
	double swap_ms, drain_ms, insert_ms, update_ms, bg_ms, sys_ms;
	unsigned long long ovf;
	bool exact;
};

/* One poll: swap the live map out, drain it, then every flow sends its
 * next packet (re-creating its entry in the fresh map).
 */
/* lost: in, what the previous fill counted lost; out, this one's. */
static int steady_poll(struct bm *b, const struct bm_design *d, int fl[2],
		       int ov[2], int live, unsigned long n,
		       unsigned long long pkts, double ex_ns, __u32 batch,
		       unsigned long long *lost, struct bm_poll *p)
{
	double bg0 = bs_kthreads_ms(), sys0 = bs_self_sys_ms();
	double t0 = bs_now_ns(), ins;
	struct bm_drain r = { 0 }, ro = { 0 };
	int err;

	memset(p, 0, sizeof(*p));
	stats_reset(b, b->stats_fd, BM_STAT_MAX);
	bs_pin(1, b->ncpu);
	p->swap_ms = (slot_set(d, BM_SLOT_FLOWS, fl[!live]) +
		      slot_set(d, BM_SLOT_OVERFLOW, ov[!live])) /
		     1e6;
	err = drain_lad(b, d, fl[live], batch, &r);
	if (!err)
		err = drain_lad(b, d, ov[live], batch, &ro);
	if (err)
		return err;
	p->drain_ms = (r.ns + ro.ns) / 1e6;
	p->exact = r.packets + ro.packets + *lost == pkts;
	err = fill_burst(b, d, n, &ins);
	if (err)
		return err;
	p->insert_ms = ins * n / 1e6;
	p->update_ms = ex_ns * n / 1e6;
	*lost = stat_sum(b, b->stats_fd, FE_STAT_OVF_LOST);
	p->ovf = stat_sum(b, b->stats_fd, FE_STAT_OVERFLOW) + *lost;
	p->bg_ms = bs_kthreads_ms() - bg0 -
		   b->idle_bg_ms_per_s * (bs_now_ns() - t0) / 1e9;
	p->sys_ms = bs_self_sys_ms() - sys0;
	return 0;
}

static int steady_design(struct bm *b, const struct bm_design *d,
			 unsigned long n, int polls, __u32 batch)
{
	struct bm_poll p[16], med;
	double v[5][16], ex_ns;
	int fl[2], ov[2], err = 0, live = 0, k, exact = 1;
	unsigned long long pkts = 2 * (unsigned long long)n, ovf = 0, lost;

	for (k = 0; k < 2; k++) {
		fl[k] = inner_create(d, 2 * n);
		ov[k] = inner_create(d, BM_OVF_MAX);
	}
	if (fl[0] < 0 || fl[1] < 0 || ov[0] < 0 || ov[1] < 0 ||
	    slot_set(d, BM_SLOT_FLOWS, fl[0]) < 0 ||
	    slot_set(d, BM_SLOT_OVERFLOW, ov[0]) < 0) {
		err = -ENOMEM;
		goto out;
	}
	err = stats_reset(b, b->stats_fd, BM_STAT_MAX);
	if (!err)
		err = fill_burst(b, d, n, NULL);
	if (!err)
		err = fill_burst(b, d, n, &ex_ns);
	ovf = stat_sum(b, b->stats_fd, FE_STAT_OVERFLOW);
	lost = stat_sum(b, b->stats_fd, FE_STAT_OVF_LOST);
	ovf += lost;
	for (k = 0; k < polls && !err; k++) {
		err = steady_poll(b, d, fl, ov, live, n, pkts, ex_ns, batch,
				  &lost, &p[k]);
		live = !live;
		pkts = n;
		exact &= p[k].exact;
		ovf += p[k].ovf;
		v[0][k] = p[k].swap_ms;
		v[1][k] = p[k].drain_ms;
		v[2][k] = p[k].insert_ms;
		v[3][k] = p[k].bg_ms;
		v[4][k] = p[k].sys_ms;
	}
	if (err)
		goto out;
	med.swap_ms = bs_median(v[0], polls);
	med.drain_ms = bs_median(v[1], polls);
	med.insert_ms = bs_median(v[2], polls);
	med.bg_ms = bs_median(v[3], polls);
	med.sys_ms = bs_median(v[4], polls);
	med.update_ms = p[0].update_ms;
	printf("| %s | %.1f | %.0f | %.0f | %.0f | %.0f | %.0f | %.2f | "
	       "%.2f | %llu | %s |\n",
	       d->name, med.swap_ms, med.drain_ms, med.insert_ms, med.update_ms,
	       med.bg_ms, med.sys_ms,
	       (med.drain_ms + med.insert_ms - med.update_ms + med.bg_ms) / 1e3,
	       (med.drain_ms + med.insert_ms + med.bg_ms) / 1e3, ovf,
	       exact ? "yes" : "NO");
out:
	for (k = 0; k < 2; k++) {
		if (fl[k] >= 0)
			close(fl[k]);
		if (ov[k] >= 0)
			close(ov[k]);
	}
	return err;
}

static int phase_steady(struct bm *b)
{
	unsigned long n = b->sizes[b->nsizes - 1];
	int polls = bs_env_ul("BM_POLLS", 3);
	__u32 batch = bs_env_ul("BM_BATCH", 16384);
	int err;

	if (polls < 1 || polls > 16 || batch > BM_MAX_BATCH)
		return -EINVAL;
	printf("## Steady state: %lu flows active across polls (map of %lu "
	       "entries)\n\n",
	       n, 2 * n);
	printf("Each poll: swap the slots, lookup_and_delete_batch %u the "
	       "map swapped out (CPU 1), then every flow sends one packet "
	       "(burst fill, CPU 0), re-creating its entry. Median of %d "
	       "polls. update: what the same packets cost had the entries "
	       "stayed. bg: kernel threads' CPU (less the idle rate). "
	       "cores: CPU seconds per 1 s poll, (drain + insert - update "
	       "+ bg) and (drain + insert + bg).\n\n",
	       batch, polls);
	printf("| design | swap ms | drain ms | insert ms | update ms | bg "
	       "ms | sys ms (bench) | cores (extra) | cores (all) | "
	       "overflow | exact |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (int i = 0; i < BM_NR_DESIGNS; i++) {
		if (!want(b, i))
			continue;
		err = steady_design(b, &b->d[i], n, polls, batch);
		if (err) {
			fprintf(stderr, "bench_maps: steady state %s: %s\n",
				b->d[i].name, strerror(-err));
			return err;
		}
		fflush(stdout);
	}
	printf("\n");
	return 0;
}

/* ---- main ---- */

static int parse_sizes(struct bm *b)
{
	const char *env = getenv("BM_SIZES");
	char buf[256], *tok, *save;

	snprintf(buf, sizeof(buf), "%s",
		 env && *env ? env : "10000,100000,1000000");
	for (tok = strtok_r(buf, ",", &save); tok && b->nsizes < BM_MAX_SIZES;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned long n = strtoul(tok, NULL, 0);

		if (n < 1 || n > (1UL << 24))
			return -EINVAL;
		b->sizes[b->nsizes++] = n;
	}
	return b->nsizes ? 0 : -EINVAL;
}

int main(void)
{
	const char *ph = getenv("BM_PHASES");
	static struct bm b;
	char why[256];
	double bg0;
	int err = 0;

	if (!ph || !*ph)
		ph = "acdfps";
	b.mask = bs_env_ul("BM_DESIGNS", (1UL << BM_NR_DESIGNS) - 1);
	if (parse_sizes(&b)) {
		fprintf(stderr, "bench_maps: BM_SIZES: comma-separated flow "
				"counts, 1 .. 16777216\n");
		return 2;
	}
	if (bm_open(&b, why, sizeof(why))) {
		fprintf(stderr, "bench_maps: %s\n", why);
		return 1;
	}
	bg0 = bs_kthreads_ms();
	sleep(1);
	b.idle_bg_ms_per_s = bs_kthreads_ms() - bg0;
	printf("# flowexp kernel flow-map bench (issue 8)\n\n");
	printf("%d possible CPUs; kernel threads' CPU while idle: %.0f ms/s; "
	       "memory cgroup kernel charge: %s\n\n",
	       b.ncpu, b.idle_bg_ms_per_s,
	       bs_kmem() >= 0 ? "available" : "not available");
	if (strchr(ph, 'a')) {
		phase_accept(&b);
		phase_create(&b, 2 * b.sizes[b.nsizes - 1]);
	}
	if (!err && strchr(ph, 'c'))
		err = phase_cost(&b);
	if (!err && strchr(ph, 'd'))
		err = phase_drain(&b);
	if (!err && strchr(ph, 'f'))
		err = phase_fill(&b);
	if (!err && strchr(ph, 'p'))
		err = phase_paced(&b);
	if (!err && strchr(ph, 's'))
		err = phase_steady(&b);
	if (err)
		fprintf(stderr, "bench_maps: %s\n", strerror(-err));
	bench_maps_bpf__destroy(b.skel);
	bench_bpf__destroy(b.base);
	mt_meter_close(&b.prod);
	return err ? 1 : 0;
}
