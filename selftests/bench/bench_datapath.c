/* bench_datapath.c - ns per packet of the meters beside baselines, through
 * BPF_PROG_TEST_RUN on a typical TCP/IPv4 frame (1514 bytes, ACK).
 *
 * Method:
 * - existing flow: one frame run `repeat` times in the kernel (the flow
 *   exists after the first run); the kernel reports the mean ns per run.
 *   Median of `rounds` rounds.
 * - new flow: `nflows` frames that differ in source address and port, each
 *   run once (repeat=1), so every run inserts a flow; the kernel's per-run
 *   time then includes its own timer read (see the empty program's row).
 *   Median over all frames of all rounds; the maps are emptied (entries
 *   deleted) between rounds.
 * Programs: bench_empty (returns at once), bench_minimal (fixed-offset
 * eth+IPv4+TCP parse, per-CPU hash lookup, add; ebpf/bench.bpf.c),
 * fe_tc_egress and fe_xdp (ebpf/meter.bpf.c), and fe_tc_egress loaded with
 * fe_cfg_precise_ts=1 (bpf_ktime_get_ns() instead of the coarse clock),
 * fe_tc_egress loaded with fe_cfg_sampling=10 (1-in-10 sampling: the mean
 * over selected and skipped packets).
 * NAT: fe_tc_egress loaded with fe_cfg_nat=0 (no NAT code), and with
 * fe_cfg_nat=2, where every packet belongs to a translated connection:
 * its conntrack entry is fe_bench_ct, laid out here as the running
 * kernel's struct nf_conn (offsets from its BTF) with each frame's tuple
 * and a translation, so a new flow writes its FE_KIND_NAT entry as on a
 * NATing router. The default fe_tc_egress row is the meter on a router
 * without NAT (the skb has no conntrack entry). A packet of an existing
 * flow never looks at conntrack: the existing-flow rows must agree.
 * Rounds interleave the programs so drift hits all alike. No timed
 * assertions: the
 * machine is shared and noisy, compare ratios from one run.
 * The fastest round is shown too: on a shared VM, steal time and interrupts
 * only ever add, so the minimum is the steadiest figure.
 * The process is pinned to one CPU (BENCH_CPU, default 0) so rounds never
 * migrate. Env: BENCH_REPEAT (default 200000), BENCH_ROUNDS (15; at most 5
 * for new flows), BENCH_FLOWS (5000), BENCH_CPU (0).
 */
#include <sched.h>
#include <bpf/btf.h>
#include "../bpf/meter_testlib.h"
#include "bench.skel.h"

enum {
	P_EMPTY,
	P_MINIMAL,
	P_TC_EGRESS,
	P_XDP,
	P_TC_PRECISE,
	P_TC_SAMPLED,
	P_TC_NONAT,
	P_TC_NAT,
	P_NR
};

static const char *const prog_names[P_NR] = {
	"bench_empty (tc)",   "bench_minimal (tc)",
	"fe_tc_egress",	      "fe_xdp",
	"fe_tc_egress ns-ts", "fe_tc_egress 1/10",
	"fe_tc_egress nat=0", "fe_tc_egress NAT"
};

/* Where the meter reads a struct nf_conn (kern.h): the running kernel's
 * offsets, as CO-RE relocates them.
 */
struct ct_layout {
	__u32 tuple[2]; /* tuplehash[i].tuple */
	__u32 status;
};

static int btf_member(const struct btf *btf, const char *sname,
		      const char *mname, __u32 *off)
{
	int id = btf__find_by_name_kind(btf, sname, BTF_KIND_STRUCT);
	const struct btf_type *t;
	const struct btf_member *m;

	if (id < 0)
		return id;
	t = btf__type_by_id(btf, id);
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++) {
		if (!strcmp(btf__name_by_offset(btf, m->name_off), mname)) {
			*off = btf_member_bit_offset(t, i) / 8;
			return 0;
		}
	}
	return -ENOENT;
}

static int ct_layout_get(struct ct_layout *l)
{
	struct btf *btf = btf__load_vmlinux_btf();
	__u32 th, tu, st;
	int id, err;
	__s64 hsz;

	if (!btf)
		return -errno;
	err = btf_member(btf, "nf_conn", "tuplehash", &th);
	if (!err)
		err = btf_member(btf, "nf_conntrack_tuple_hash", "tuple", &tu);
	if (!err)
		err = btf_member(btf, "nf_conn", "status", &st);
	id = btf__find_by_name_kind(btf, "nf_conntrack_tuple_hash",
				    BTF_KIND_STRUCT);
	hsz = id < 0 ? id : btf__resolve_size(btf, id);
	btf__free(btf);
	if (err)
		return err;
	if (hsz < 0)
		return (int)hsz;
	l->tuple[0] = th + tu;
	l->tuple[1] = th + (__u32)hsz + tu;
	l->status = st;
	return st + 8 <= sizeof(((struct meter_bpf__bss *)0)->fe_bench_ct) &&
			       l->tuple[1] + 40 <= st + 8
		       ? 0
		       : -E2BIG;
}

/* The kernel's struct nf_conntrack_tuple (kern.h: fe_ct_tuple). */
static void ct_tuple(__u8 *t, const __u8 *src, __u16 sport, const __u8 *dst,
		     __u16 dport, __u8 proto, __u8 dir)
{
	__u16 l3 = 2, sp = htons(sport), dp = htons(dport);

	memset(t, 0, 40);
	memcpy(t, src, 4);
	memcpy(t + 16, &sp, 2);
	memcpy(t + 18, &l3, 2);
	memcpy(t + 20, dst, 4);
	memcpy(t + 36, &dp, 2);
	t[38] = proto;
	t[39] = dir;
}

/* The connection of frame i masqueraded to 192.0.2.1, port 20000 + i. */
static void ct_fill(__u8 *ct, const struct ct_layout *l,
		    const struct mt_pkt_spec *s, __u32 i)
{
	static const __u8 nat[4] = { 192, 0, 2, 1 };
	unsigned long status = 0x10 | 0x8; /* SRC_NAT, CONFIRMED */

	ct_tuple(ct + l->tuple[0], s->src, s->sport, s->dst, s->dport, s->proto,
		 0);
	ct_tuple(ct + l->tuple[1], s->dst, s->dport, nat,
		 (__u16)(20000 + (i & 0x7fff)), s->proto, 1);
	memcpy(ct + l->status, &status, sizeof(status));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static unsigned long env_ul(const char *name, unsigned long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoul(v, NULL, 0) : def;
}

static int clear_map(int fd, __u32 key_size)
{
	__u8 key[64];

	if (key_size > sizeof(key))
		return -EINVAL;
	while (!bpf_map_get_next_key(fd, NULL, key))
		if (bpf_map_delete_elem(fd, key))
			return -errno;
	return 0;
}

static void build_frame(__u8 *buf, __u32 cap, __u32 i, __u32 *len,
			struct mt_pkt_spec *s)
{
	mt_spec_default(s, 4, IPPROTO_TCP);
	s->payload = 1514 - 14 - 20 - 20;
	s->src[1] = i >> 16;
	s->src[2] = i >> 8;
	s->sport = 1024 + (i & 0xff);
	*len = mt_pkt_build(s, buf, cap, NULL);
}

static __u64 nat_entries(const struct mt_meter *m)
{
	struct fe_stats st[m->ncpus];
	__u32 zero = 0;
	__u64 n = 0;

	if (bpf_map_lookup_elem(m->stats_fd, &zero, st))
		return 0;
	for (int c = 0; c < m->ncpus; c++)
		n += st[c].n[FE_STAT_NAT];
	return n;
}

int main(void)
{
	unsigned long repeat = env_ul("BENCH_REPEAT", 200000);
	unsigned long rounds = env_ul("BENCH_ROUNDS", 15);
	unsigned long nflows = env_ul("BENCH_FLOWS", 5000);
	unsigned long nrounds;
	double existing[P_NR], exmin[P_NR], newflow[P_NR], *samples, *ex;
	static __u8 frame[2048];
	struct bench_bpf *bench = NULL;
	struct mt_meter meter, precise, sampled, nonat, nat;
	struct mt_pkt_spec *specs, spec;
	struct ct_layout ctl;
	int fds[P_NR], p, err;
	unsigned long r, i;
	char why[256];
	__u32 len, dur = 0;
	__u8 **frames;
	__u32 *lens;

	/* one CPU for the whole run: no migration between rounds, and every
	 * program hits the same per-CPU map slots and caches
	 */
	cpu_set_t set;
	long cpu = env_ul("BENCH_CPU", 0);

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fprintf(stderr,
			"bench_datapath: pin to CPU %ld: %s (going on)\n", cpu,
			strerror(errno));
	if (mt_meter_open(&meter, FE_DEFAULT_MAX_FLOWS, 0, why, sizeof(why))) {
		fprintf(stderr, "bench_datapath: %s\n", why);
		return 1;
	}
	if (mt_meter_open(&precise, FE_DEFAULT_MAX_FLOWS, MT_PRECISE_TS, why,
			  sizeof(why))) {
		fprintf(stderr, "bench_datapath: %s\n", why);
		return 1;
	}
	if (mt_meter_open_sampled(&sampled, FE_DEFAULT_MAX_FLOWS, 0, 10, why,
				  sizeof(why))) {
		fprintf(stderr, "bench_datapath: %s\n", why);
		return 1;
	}
	if (mt_meter_open(&nonat, FE_DEFAULT_MAX_FLOWS, MT_NO_NAT, why,
			  sizeof(why)) ||
	    mt_meter_open(&nat, FE_DEFAULT_MAX_FLOWS, MT_NAT_BENCH, why,
			  sizeof(why))) {
		fprintf(stderr, "bench_datapath: %s\n", why);
		return 1;
	}
	err = ct_layout_get(&ctl);
	if (err) {
		fprintf(stderr,
			"bench_datapath: struct nf_conn from the kernel's "
			"BTF: %s\n",
			strerror(-err));
		return 1;
	}
	bench = bench_bpf__open_and_load();
	if (!bench) {
		fprintf(stderr, "bench_datapath: load bench.bpf.o: %s\n",
			strerror(errno));
		mt_meter_close(&meter);
		return 1;
	}
	fds[P_EMPTY] = bpf_program__fd(bench->progs.bench_empty);
	fds[P_MINIMAL] = bpf_program__fd(bench->progs.bench_minimal);
	fds[P_TC_EGRESS] = mt_prog_fd(&meter, MT_TC_EGRESS);
	fds[P_XDP] = mt_prog_fd(&meter, MT_XDP);
	fds[P_TC_PRECISE] = mt_prog_fd(&precise, MT_TC_EGRESS);
	fds[P_TC_SAMPLED] = mt_prog_fd(&sampled, MT_TC_EGRESS);
	fds[P_TC_NONAT] = mt_prog_fd(&nonat, MT_TC_EGRESS);
	fds[P_TC_NAT] = mt_prog_fd(&nat, MT_TC_EGRESS);

	samples = calloc(rounds * (nflows > 1 ? nflows : 1), sizeof(double));
	frames = calloc(nflows, sizeof(*frames));
	lens = calloc(nflows, sizeof(*lens));
	specs = calloc(nflows, sizeof(*specs));
	if (!samples || !frames || !lens || !specs) {
		fprintf(stderr, "bench_datapath: out of memory\n");
		return 1;
	}
	for (i = 0; i < nflows; i++) {
		frames[i] = malloc(2048);
		if (!frames[i]) {
			fprintf(stderr, "bench_datapath: out of memory\n");
			return 1;
		}
		build_frame(frames[i], 2048, i + 1, &lens[i], &specs[i]);
	}
	build_frame(frame, sizeof(frame), 0, &len, &spec);
	ct_fill(nat.skel->bss->fe_bench_ct, &ctl, &spec, 0);

	/* existing flow: rounds interleave the programs */
	ex = calloc(P_NR * rounds, sizeof(double));
	if (!ex) {
		fprintf(stderr, "bench_datapath: out of memory\n");
		return 1;
	}
	for (r = 0; r < rounds; r++) {
		for (p = 0; p < P_NR; p++) {
			err = mt_run_fd(fds[p], p == P_XDP, frame, len, NULL,
					repeat, NULL, &dur);
			if (err) {
				fprintf(stderr,
					"bench_datapath: test run of %s: %s\n",
					prog_names[p], strerror(-err));
				return 1;
			}
			ex[p * rounds + r] = dur;
		}
	}
	for (p = 0; p < P_NR; p++) {
		qsort(ex + p * rounds, rounds, sizeof(double), cmp_double);
		existing[p] = ex[p * rounds + rounds / 2];
		exmin[p] = ex[p * rounds];
	}
	free(ex);

	/* new flows */
	nrounds = rounds < 5 ? rounds : 5;
	for (p = 0; p < P_NR; p++) {
		for (r = 0; r < nrounds; r++) {
			/* emptied by deletes, like the baseline's map, so
			 * every program inserts into a warm allocator
			 */
			if (clear_map(meter.flows_fd,
				      sizeof(struct fe_flow_key)) ||
			    clear_map(precise.flows_fd,
				      sizeof(struct fe_flow_key)) ||
			    clear_map(sampled.flows_fd,
				      sizeof(struct fe_flow_key)) ||
			    clear_map(nonat.flows_fd,
				      sizeof(struct fe_flow_key)) ||
			    clear_map(nat.flows_fd,
				      sizeof(struct fe_flow_key)) ||
			    clear_map(bpf_map__fd(bench->maps.bench_flows),
				      sizeof(struct fe_flow_key))) {
				fprintf(stderr, "bench_datapath: empty the "
						"maps failed\n");
				return 1;
			}
			for (i = 0; i < nflows; i++) {
				/* this frame's connection (untimed) */
				if (p == P_TC_NAT)
					ct_fill(nat.skel->bss->fe_bench_ct,
						&ctl, &specs[i], i + 1);
				dur = 0;
				err = mt_run_fd(fds[p], p == P_XDP, frames[i],
						lens[i], NULL, 1, NULL, &dur);
				if (err) {
					fprintf(stderr,
						"bench_datapath: test run of "
						"%s: %s\n",
						prog_names[p], strerror(-err));
					return 1;
				}
				samples[r * nflows + i] = dur;
			}
		}
		qsort(samples, nrounds * nflows, sizeof(double), cmp_double);
		newflow[p] = samples[nrounds * nflows / 2];
	}

	printf("flowexp datapath bench: TCP/IPv4 %u-byte frame, "
	       "BPF_PROG_TEST_RUN, %lu CPUs\n",
	       len, (unsigned long)meter.ncpus);
	printf("existing flow: median (and fastest) of %lu rounds of %lu "
	       "runs; new flow: "
	       "median of %lu x %lu single runs (%lu distinct flows)\n\n",
	       rounds, repeat, nrounds, nflows, nflows);
	printf("%-20s %12s %7s %9s %7s %12s %7s\n", "program", "existing ns",
	       "ratio", "(fastest", "ratio)", "new-flow ns", "ratio");
	for (p = 0; p < P_NR; p++) {
		double ne = newflow[p] - newflow[P_EMPTY];
		double nm = newflow[P_MINIMAL] - newflow[P_EMPTY];

		printf("%-20s %12.1f %6.2fx %9.1f %6.2fx %12.1f %6.2fx\n",
		       prog_names[p], existing[p],
		       existing[p] / existing[P_MINIMAL], exmin[p],
		       exmin[p] / exmin[P_MINIMAL], newflow[p],
		       nm > 0 ? ne / nm : 0);
	}
	printf("\nratio: to bench_minimal (new flow: both less the empty "
	       "program's per-run timer cost)\n");
	printf("NAT: new flow %+.1f ns with a translated connection, %+.1f ns "
	       "without one, against the meter built without NAT "
	       "(%llu translations written)\n",
	       newflow[P_TC_NAT] - newflow[P_TC_NONAT],
	       newflow[P_TC_EGRESS] - newflow[P_TC_NONAT],
	       (unsigned long long)nat_entries(&nat));
	printf("target: <= 1.30x of minimal\n");

	for (i = 0; i < nflows; i++)
		free(frames[i]);
	free(frames);
	free(lens);
	free(samples);
	free(specs);
	bench_bpf__destroy(bench);
	mt_meter_close(&sampled);
	mt_meter_close(&nat);
	mt_meter_close(&nonat);
	mt_meter_close(&precise);
	mt_meter_close(&meter);
	return 0;
}
