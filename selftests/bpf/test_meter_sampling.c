/* test_meter_sampling.c - 1-in-N packet sampling in the meters
 * (fe_cfg_sampling, fe_sample() of ebpf/meter.bpf.c) on crafted packets
 * through BPF_PROG_TEST_RUN, at every hook (tc egress, tc ingress and XDP
 * share fe_meter()); every run checks the verdict (pass) and that the
 * packet is unchanged.
 * - sampling = 1 counts every packet, exactly;
 * - sampling = 10, M = 1,000,000 packets of one flow: the selected count S
 *   against M/N. The statistical bound is the binomial one of independent
 *   1-in-N selection: sd = sqrt(M (1/N)(1 - 1/N)) = 300, and |S - M/N| <=
 *   5 sd = 1,500, whose false-failure probability is 5.7e-7 for a binomial
 *   count (two-sided normal tail beyond 5 sd). The meters select at random
 *   1 out of every window of N packets per CPU, so S is in fact within 2
 *   per CPU of M/N; that is asserted too (it cannot fail by chance);
 * - two flows interleaved packet by packet (no per-CPU structure helps a
 *   flow): each one's estimate within its own 5 sd binomial bound;
 * - GSO skbs (tc): segments are selected, not skbs; the octets of an entry
 *   are the selected segments' share;
 * - fe_stats count every packet, sampled or not (flowexp.h), but for
 *   overflow: a full map's overflow entry and counter hold selected ones;
 * - the pinned set (agent/meter.c): a set keeps the rate it was created
 *   with, and meter__sampling() reads it back from its programs.
 * M is fixed and large, so the binomial bound does not flake.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "meter_testlib.h"
#include "meter.h"

#define N_SAMPLING 10
#define M_PACKETS 1000000u /* per hook, one test run of that many repeats */
#define SD_BOUND 5	   /* standard deviations */

static struct mt_meter sampled, every;
static bool meters_ok;
static char meters_why[256];
static char set_pin[128];

#define REQUIRE_METERS()                                           \
	do {                                                       \
		if (!meters_ok) {                                  \
			print_message("# SKIP: %s\n", meters_why); \
			skip();                                    \
		}                                                  \
		assert_int_equal(mt_meter_reset(&sampled), 0);     \
		assert_int_equal(mt_meter_reset(&every), 0);       \
	} while (0)

/* ceil(sqrt(v)) */
static unsigned long long sqrt_up(unsigned long long v)
{
	unsigned long long r = v, x = (v + 1) / 2;

	while (x < r) {
		r = x;
		x = (x + v / x) / 2;
	}
	return r * r < v ? r + 1 : r;
}

/* SD_BOUND binomial standard deviations of a count of m packets selected
 * 1 in n: SD_BOUND * sqrt(m (n - 1)) / n, rounded up.
 */
static unsigned long long binomial_bound(unsigned long long m,
					 unsigned long long n)
{
	return (SD_BOUND * sqrt_up(m * (n - 1)) + n - 1) / n;
}

static long long absdiff(unsigned long long a, unsigned long long b)
{
	return a > b ? (long long)(a - b) : (long long)(b - a);
}

static __u32 udp_frame(__u8 *buf, __u32 cap, __u8 host, __u32 *ip_len)
{
	struct mt_pkt_spec s;
	struct mt_pkt_info inf;
	__u32 len;

	mt_spec_default(&s, 4, IPPROTO_UDP);
	s.src[3] = host;
	s.payload = 200;
	len = mt_pkt_build(&s, buf, cap, &inf);
	*ip_len = inf.ip_len;
	return len;
}

/* M_PACKETS copies of one frame through hook of m, in one test run. */
static void run_repeat(struct mt_meter *m, enum mt_hook hook, const __u8 *pkt,
		       __u32 len, const struct mt_ctx *c, __u32 repeat)
{
	__u32 ret = ~0u;

	assert_int_equal(mt_run_fd(mt_prog_fd(m, hook), hook == MT_XDP, pkt,
				   len, c, repeat, &ret, NULL),
			 0);
	assert_int_equal(ret, mt_pass_verdict(hook));
}

/* sampling = 1: every packet, at every hook. */
static void test_every_packet(void **state)
{
	static __u8 pkt[2048];
	__u32 ip_len, len = udp_frame(pkt, sizeof(pkt), 1, &ip_len);
	__u64 st[FE_STAT_MAX], octets = 0;

	REQUIRE_METERS();
	for (int h = 0; h < MT_NR_HOOKS; h++) {
		assert_int_equal(mt_meter_reset(&every), 0);
		run_repeat(&every, h, pkt, len, NULL, M_PACKETS / 4);
		assert_int_equal(
			mt_map_sum(&every, every.flows_fd, NULL, &octets),
			M_PACKETS / 4);
		assert_int_equal(octets, (__u64)M_PACKETS / 4 * ip_len);
		assert_int_equal(mt_stats_read(&every, st), 0);
		assert_int_equal(st[FE_STAT_PACKETS], M_PACKETS / 4);
	}
}

/* sampling = 10 at every hook: the count, the octets, the stats. */
static void test_one_flow(void **state)
{
	static __u8 pkt[2048];
	__u32 ip_len, len = udp_frame(pkt, sizeof(pkt), 1, &ip_len);
	unsigned long long want = M_PACKETS / N_SAMPLING;
	unsigned long long bound = binomial_bound(M_PACKETS, N_SAMPLING);
	__u64 st[FE_STAT_MAX], octets = 0;
	long long sel, entries;

	REQUIRE_METERS();
	assert_int_equal(bound, 1500);
	for (int h = 0; h < MT_NR_HOOKS; h++) {
		assert_int_equal(mt_meter_reset(&sampled), 0);
		run_repeat(&sampled, h, pkt, len, NULL, M_PACKETS);
		sel = mt_map_sum(&sampled, sampled.flows_fd, &entries, &octets);
		print_message("# %s: %lld of %u packets selected (M/N %llu, "
			      "binomial bound +-%llu)\n",
			      mt_hook_names[h], sel, M_PACKETS, want, bound);
		assert_true(sel > 0);
		assert_int_equal(entries, 1);
		assert_true(absdiff(sel, want) <= (long long)bound);
		/* the windows: within 2 per CPU of M/N */
		assert_true(absdiff(sel, want) < 2 * sampled.ncpus);
		assert_int_equal(octets, (__u64)sel * ip_len);
		/* fe_stats: every packet the program saw */
		assert_int_equal(mt_stats_read(&sampled, st), 0);
		assert_int_equal(st[FE_STAT_PACKETS], M_PACKETS);
		assert_int_equal(st[FE_STAT_IPV4], M_PACKETS);
		assert_int_equal(st[FE_STAT_OCTETS], (__u64)M_PACKETS * ip_len);
		assert_int_equal(st[FE_STAT_OVERFLOW], 0);
	}
}

/* Two flows, A B A B ...: per-flow estimates, one run per packet. */
static void test_interleaved_flows(void **state)
{
	static __u8 a[2048], b[2048];
	const unsigned int per_flow = 20000;
	__u32 ip_len, la = udp_frame(a, sizeof(a), 1, &ip_len);
	__u32 lb = udp_frame(b, sizeof(b), 2, &ip_len);
	unsigned long long want = per_flow / N_SAMPLING;
	unsigned long long bound = binomial_bound(per_flow, N_SAMPLING);
	struct mt_flow f[4];
	int n;

	REQUIRE_METERS();
	for (unsigned int i = 0; i < per_flow; i++) {
		run_repeat(&sampled, MT_TC_EGRESS, a, la, NULL, 1);
		run_repeat(&sampled, MT_TC_EGRESS, b, lb, NULL, 1);
	}
	n = mt_flows_read(&sampled, sampled.flows_fd, f, 4);
	assert_int_equal(n, 2);
	for (int i = 0; i < n; i++) {
		print_message("# flow %d: %llu of %u selected (bound %llu +-"
			      "%llu)\n",
			      i, (unsigned long long)f[i].val.packets, per_flow,
			      want, bound);
		assert_true(absdiff(f[i].val.packets, want) <=
			    (long long)bound);
	}
	assert_true(absdiff(f[0].val.packets + f[1].val.packets,
			    2 * per_flow / N_SAMPLING) < 2 * sampled.ncpus);
}

/* GSO skbs of segs segments (fewer and more than N): segments are the
 * unit; an entry's octets are its selected segments' share of the skb's.
 */
static void test_gso_segments(void **state)
{
	static __u8 pkt[4096];
	static const __u32 segs_of[] = { 7, 23 };
	const __u32 skbs = 50000;
	struct mt_pkt_spec s;
	struct mt_pkt_info inf;
	__u64 st[FE_STAT_MAX], octets = 0, total;
	long long sel;
	__u32 len, hdr;

	REQUIRE_METERS();
	mt_spec_default(&s, 4, IPPROTO_TCP);
	s.payload = 2800;
	len = mt_pkt_build(&s, pkt, sizeof(pkt), &inf);
	assert_true(len > 0);
	hdr = inf.l4off - inf.l3off + inf.l4len;
	for (size_t i = 0; i < sizeof(segs_of) / sizeof(segs_of[0]); i++) {
		__u32 segs = segs_of[i];
		struct mt_ctx c = { .gso_segs = segs, .gso_size = 400 };
		unsigned long long m = (unsigned long long)skbs * segs;

		assert_int_equal(mt_meter_reset(&sampled), 0);
		run_repeat(&sampled, MT_TC_EGRESS, pkt, len, &c, skbs);
		sel = mt_map_sum(&sampled, sampled.flows_fd, NULL, &octets);
		print_message("# GSO %u segments: %lld of %llu selected\n",
			      segs, sel, m);
		assert_true(absdiff(sel, m / N_SAMPLING) <=
			    (long long)binomial_bound(m, N_SAMPLING));
		assert_true(absdiff(sel, m / N_SAMPLING) < 2 * sampled.ncpus);
		/* each skb adds floor(its octets * selected / segs) */
		total = (len - inf.l3off) + (__u64)(segs - 1) * hdr;
		assert_true(octets * segs <= (__u64)sel * total);
		assert_true(octets * segs + (__u64)sel * segs >=
			    (__u64)sel * total);
		assert_int_equal(mt_stats_read(&sampled, st), 0);
		assert_int_equal(st[FE_STAT_PACKETS], m);
		assert_int_equal(st[FE_STAT_GSO], skbs);
		assert_int_equal(st[FE_STAT_OCTETS], (__u64)skbs * total);
	}
}

/* A full flow map: overflow and the overflow entry count selected packets
 * (they are where those went), fe_stats' packets every packet.
 */
static void test_overflow_sampled(void **state)
{
	const __u32 flows = 64, per_flow = 2000, max = 16;
	static __u8 pkt[2048];
	struct mt_meter small;
	__u64 st[FE_STAT_MAX];
	long long in_map, in_ovf;
	unsigned long long m = (unsigned long long)flows * per_flow;
	char why[256];
	__u32 ip_len;

	REQUIRE_METERS();
	if (mt_meter_open_sampled(&small, max, 0, N_SAMPLING, why,
				  sizeof(why))) {
		print_message("# SKIP: %s\n", why);
		skip();
	}
	for (__u32 i = 0; i < flows; i++) {
		__u32 len = udp_frame(pkt, sizeof(pkt), 1 + i, &ip_len);

		run_repeat(&small, MT_TC_EGRESS, pkt, len, NULL, per_flow);
	}
	in_map = mt_map_packets(&small, small.flows_fd, NULL);
	in_ovf = mt_map_packets(&small, small.ovf_fd, NULL);
	assert_int_equal(mt_stats_read(&small, st), 0);
	mt_meter_close(&small);
	print_message("# %llu packets, %lld selected in %u entries, %lld in "
		      "overflow\n",
		      m, in_map, max, in_ovf);
	assert_true(in_ovf > 0);
	assert_int_equal(st[FE_STAT_OVERFLOW], in_ovf);
	assert_int_equal(st[FE_STAT_OVF_LOST], 0);
	assert_int_equal(st[FE_STAT_PACKETS], m);
	assert_true(absdiff(in_map + in_ovf, m / N_SAMPLING) <=
		    (long long)binomial_bound(m, N_SAMPLING));
	assert_true(absdiff(in_map + in_ovf, m / N_SAMPLING) <
		    2 * sampled.ncpus);
}

/* Frames that are not IP: counted in fe_stats, in no entry. */
static void test_non_ip(void **state)
{
	static __u8 pkt[2048];
	struct mt_pkt_spec s;
	__u64 st[FE_STAT_MAX];
	__u32 len;

	REQUIRE_METERS();
	mt_spec_default(&s, 0, 0);
	s.ethertype = MT_ETH_P_ARP;
	s.payload = 28;
	len = mt_pkt_build(&s, pkt, sizeof(pkt), NULL);
	run_repeat(&sampled, MT_XDP, pkt, len, NULL, 1000);
	assert_int_equal(mt_map_packets(&sampled, sampled.flows_fd, NULL), 0);
	assert_int_equal(mt_stats_read(&sampled, st), 0);
	assert_int_equal(st[FE_STAT_PACKETS], 1000);
	assert_int_equal(st[FE_STAT_NON_IP], 1000);
}

/* ---- the pinned set (agent/meter.c) ---- */

static void set_unpin(void)
{
	char path[256];
	struct dirent *e;
	DIR *d = opendir(set_pin);

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", set_pin,
				 e->d_name);
			unlink(path);
		}
	closedir(d);
	rmdir(set_pin);
}

/* A set keeps the rate it was created with: a reuse asking for another
 * one gets the set's, read back from the pinned programs.
 */
static void test_set_rate(void **state)
{
	struct meter_opts o = { .max_flows = 64,
				.flags = METER_F_CREATE,
				.sampling = 25 };
	struct meter *m, *m2;

	set_unpin();
	m = meter__open_opts(set_pin, &o);
	if (!m) {
		print_message("# SKIP: create a meter set at %s: %s\n", set_pin,
			      strerror(errno));
		skip();
	}
	assert_int_equal(meter__sampling(m), 25);
	o.sampling = 7;
	m2 = meter__open_opts(set_pin, &o);
	assert_non_null(m2);
	assert_int_equal(meter__sampling(m2), 25);
	meter__close(m2);
	m2 = meter__open(set_pin, 0, METER_F_ANY_LAYOUT);
	assert_non_null(m2);
	assert_int_equal(meter__sampling(m2), 25);
	meter__close(m2);
	meter__close(m);
	set_unpin();
	/* every packet, and a rate out of range is refused */
	m = meter__open(set_pin, 64, METER_F_CREATE);
	assert_non_null(m);
	assert_int_equal(meter__sampling(m), 1);
	meter__close(m);
	set_unpin();
	o.sampling = METER_MAX_SAMPLING + 1;
	assert_null(meter__open_opts(set_pin, &o));
	assert_int_equal(errno, EINVAL);
}

static int setup(void **state)
{
	struct stat st;

	snprintf(set_pin, sizeof(set_pin), "/sys/fs/bpf/fe-test-sampling-%d",
		 (int)getpid());
	if (stat("/sys/fs/bpf", &st))
		mkdir("/sys/fs/bpf", 0700);
	/* both opened (a failed open leaves no fd to close) */
	meters_ok = !mt_meter_open_sampled(&sampled, 1024, 0, N_SAMPLING,
					   meters_why, sizeof(meters_why));
	meters_ok &=
		!mt_meter_open(&every, 1024, 0, meters_why, sizeof(meters_why));
	return 0;
}

static int teardown(void **state)
{
	mt_meter_close(&sampled);
	mt_meter_close(&every);
	set_unpin();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_packet),
		cmocka_unit_test(test_one_flow),
		cmocka_unit_test(test_interleaved_flows),
		cmocka_unit_test(test_gso_segments),
		cmocka_unit_test(test_overflow_sampled),
		cmocka_unit_test(test_non_ip),
		cmocka_unit_test(test_set_rate),
	};

	return cmocka_run_group_tests_name("meter_sampling", tests, setup,
					   teardown);
}
