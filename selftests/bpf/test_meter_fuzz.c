/* test_meter_fuzz.c - randomized packets through the meters: 100,000
 * mutated frames (random truncation, bit flips, random header lengths,
 * random IPv6 extension chains, random GSO) through tc egress, tc ingress
 * and XDP. Every run must pass the packet unchanged, and every packet must
 * be accounted exactly once (flows + overflow + lost + non-IP + malformed).
 * Each frame also goes through a second meter whose parser uses only the
 * load helpers: both flow tables must come out identical in every batch
 * (preallocated maps: an insert fails only when a map is full, and a batch
 * holds fewer flows than the maps).
 * Deterministic: the same seed (MT_SEED=N, default FUZZ_SEED) gives the
 * same packets and the same result; MT_FUZZ_ITERS=N changes the length.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>
#include "meter_testlib.h"

#define FUZZ_MAX_FLOWS 32768
#define FUZZ_BATCH 5000 /* frames: at most 3 flows each, < FUZZ_MAX_FLOWS */
#define FUZZ_SEED 0x5eed

static __u64 rng_state;

static __u64 rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static __u32 rnd(__u32 n)
{
	return n ? rng() % n : 0;
}

static void random_spec(struct mt_pkt_spec *s)
{
	static const __u8 protos[] = { IPPROTO_TCP,	IPPROTO_UDP,
				       IPPROTO_UDPLITE, IPPROTO_SCTP,
				       IPPROTO_ICMP,	IPPROTO_ICMPV6,
				       IPPROTO_GRE,	IPPROTO_ESP };
	static const __u8 exts[] = { MT_IP6_HOP, MT_IP6_ROUTING, MT_IP6_FRAG,
				     MT_IP6_AH, MT_IP6_DST };
	static const __u16 tpids[] = { 0x8100, 0x88a8, 0x9100 };
	__u32 r = rnd(100), i;

	mt_spec_default(s,
			r < 45	 ? 4
			: r < 90 ? 6
				 : 0,
			rnd(8) ? protos[rnd(sizeof(protos))] : rnd(256));
	s->ethertype = rnd(2) ? MT_ETH_P_ARP : rnd(0x10000);
	s->nvlan = rnd(4) ? 0 : 1 + rnd(2);
	for (i = 0; i < 2; i++) {
		s->vlan_tpid[i] = tpids[rnd(3)];
		s->vlan_id[i] = rnd(0x10000);
	}
	/* few addresses and ports so flows repeat, some spread to overflow */
	s->src[rnd(4)] = rnd(4);
	s->dst[15] = rnd(8);
	s->sport = rnd(4) ? rnd(64) : rnd(0x10000);
	s->dport = rnd(8);
	s->tcp_flags = rnd(0x200);
	s->tcp_optlen = rnd(11) * 4;
	s->icmp_type = rnd(256);
	s->icmp_code = rnd(4);
	s->tos = rnd(256);
	s->ttl = rnd(256);
	s->flow_label = rnd(0x100000);
	s->ip4_optlen = rnd(3) ? 0 : rnd(11) * 4;
	if (!rnd(5)) {
		s->frag_mf = rnd(2);
		s->frag_offset = rnd(2) ? 0 : rnd(0x2000);
	}
	if (s->family == 6 && rnd(3) == 0) {
		s->n_ext = rnd(14);
		for (i = 0; i < (__u32)s->n_ext; i++)
			s->ext[i] = exts[rnd(sizeof(exts))];
	}
	s->payload = rnd(4) ? rnd(64) : rnd(1200);
}

/* Damages the frame in place; returns the new length (>= 14). */
static __u32 mutate(__u8 *pkt, __u32 len, __u32 cap,
		    const struct mt_pkt_info *inf)
{
	__u32 i, n, off;

	switch (rnd(8)) {
	case 0: /* intact */
		break;
	case 1: /* random header length fields */
		if (inf->l3off + 40 > len)
			break;
		if (rnd(2))
			pkt[inf->l3off] = (pkt[inf->l3off] & 0xf0) | rnd(16);
		mt_put16(pkt + inf->l3off + (rnd(2) ? 2 : 4), rnd(0x10000));
		if (inf->l4len && inf->l4off + 13 < len && rnd(2))
			pkt[inf->l4off + 12] = rnd(256);
		if (inf->ext_off[0] && inf->ext_off[0] + 1 < len)
			pkt[inf->ext_off[rnd(2)] + rnd(2)] = rnd(256);
		break;
	case 2: /* garbage tail */
		n = rnd(200);
		if (len + n > cap)
			n = cap - len;
		for (i = 0; i < n; i++)
			pkt[len + i] = rng();
		len += n;
		break;
	default: /* bit flips, mostly in the headers; maybe truncated */
		n = rnd(5);
		for (i = 0; i < n; i++) {
			off = rnd(4) ? rnd(len < 100 ? len : 100) : rnd(len);
			pkt[off] ^= 1 << rnd(8);
		}
		break;
	}
	if (rnd(3) == 0)
		len = 14 + rnd(len - 14 + 1);
	return len;
}

struct fuzz_totals {
	__u64 runs;
	__u64 packets; /* gso_segs counted */
};

/* Accounting identity of one meter after the run. */
static void check_totals(struct mt_meter *m, const char *name,
			 const struct fuzz_totals *t, bool verbose)
{
	__u64 st[FE_STAT_MAX];
	long long flows, ovf, ents = 0, oents = 0;
	__u64 foct = 0, ooct = 0;

	assert_int_equal(mt_stats_read(m, st), 0);
	flows = mt_map_sum(m, m->flows_fd, &ents, &foct);
	ovf = mt_map_sum(m, m->ovf_fd, &oents, &ooct);
	assert_true(flows >= 0 && ovf >= 0);
	if (verbose)
		print_message(
			"# %s: %llu runs, %llu packets: %llu non-IP, %llu "
			"malformed, %llu IPv4, %llu IPv6, %llu fragments, "
			"%lld flow entries, %llu overflow (%lld entries), %llu "
			"lost, "
			"%llu GSO\n",
			name, (unsigned long long)t->runs,
			(unsigned long long)t->packets,
			(unsigned long long)st[FE_STAT_NON_IP],
			(unsigned long long)st[FE_STAT_MALFORMED],
			(unsigned long long)st[FE_STAT_IPV4],
			(unsigned long long)st[FE_STAT_IPV6],
			(unsigned long long)st[FE_STAT_FRAGMENTS], ents,
			(unsigned long long)st[FE_STAT_OVERFLOW], oents,
			(unsigned long long)st[FE_STAT_OVF_LOST],
			(unsigned long long)st[FE_STAT_GSO]);
	assert_int_equal(st[FE_STAT_PACKETS], t->packets);
	assert_int_equal(st[FE_STAT_NON_IP] + st[FE_STAT_MALFORMED] +
				 st[FE_STAT_IPV4] + st[FE_STAT_IPV6],
			 t->packets);
	assert_int_equal((__u64)flows + (__u64)ovf + st[FE_STAT_OVF_LOST],
			 st[FE_STAT_IPV4] + st[FE_STAT_IPV6]);
	assert_int_equal((__u64)ovf, st[FE_STAT_OVERFLOW]);
	assert_int_equal(flows + ovf + st[FE_STAT_OVF_LOST] +
				 st[FE_STAT_NON_IP] + st[FE_STAT_MALFORMED],
			 t->packets);
	/* octets: the lost packets' are in the stat only */
	assert_true(foct + ooct <= st[FE_STAT_OCTETS]);
	if (!st[FE_STAT_OVF_LOST])
		assert_int_equal(foct + ooct, st[FE_STAT_OCTETS]);
}

static int cmp_flow(const void *a, const void *b)
{
	return memcmp(&((const struct mt_flow *)a)->key,
		      &((const struct mt_flow *)b)->key,
		      sizeof(struct fe_flow_key));
}

/* Both parsers must have recorded the same flows. false when either meter
 * overflowed, which a batch smaller than the maps never does (the caller
 * asserts it): a preallocated map fails an insert only when it is full.
 */
static bool compare_meters(struct mt_meter *a, struct mt_meter *b,
			   struct mt_flow *fa, struct mt_flow *fb)
{
	__u64 sa[FE_STAT_MAX], sb[FE_STAT_MAX];
	int na, nb, i;

	assert_int_equal(mt_stats_read(a, sa), 0);
	assert_int_equal(mt_stats_read(b, sb), 0);
	if (sa[FE_STAT_OVERFLOW] || sb[FE_STAT_OVERFLOW] ||
	    sa[FE_STAT_OVF_LOST] || sb[FE_STAT_OVF_LOST])
		return false;
	na = mt_flows_read(a, a->flows_fd, fa, FUZZ_MAX_FLOWS);
	nb = mt_flows_read(b, b->flows_fd, fb, FUZZ_MAX_FLOWS);
	assert_true(na >= 0);
	assert_int_equal(na, nb);
	qsort(fa, na, sizeof(*fa), cmp_flow);
	qsort(fb, nb, sizeof(*fb), cmp_flow);
	for (i = 0; i < na; i++) {
		assert_memory_equal(&fa[i].key, &fb[i].key, sizeof(fa[i].key));
		assert_int_equal(fa[i].val.packets, fb[i].val.packets);
		assert_int_equal(fa[i].val.octets, fb[i].val.octets);
		assert_int_equal(fa[i].val.tcp_flags, fb[i].val.tcp_flags);
		assert_int_equal(fa[i].val.vflags, fb[i].val.vflags);
	}
	return true;
}

static void test_fuzz(void **state)
{
	static __u8 pkt[3000];
	/* fast and slow: the two parsers, compared and reset every batch;
	 * small: a tiny map that overflows, never reset
	 */
	struct mt_meter fast, slow, small, *ms[3] = { &fast, &slow, &small };
	struct fuzz_totals batch = { 0 }, all = { 0 };
	struct mt_pkt_spec s;
	struct mt_pkt_info inf;
	struct mt_flow *fa, *fb;
	const char *env;
	char why[256];
	__u64 seed, iters = 100000, it;
	int h, m, err, compared = 0, batches = 0;
	struct timespec t0, t1;

	env = getenv("MT_SEED");
	seed = env ? strtoull(env, NULL, 0) : FUZZ_SEED;
	env = getenv("MT_FUZZ_ITERS");
	if (env)
		iters = strtoull(env, NULL, 0);
	rng_state = seed ? seed : 1;
	print_message("# seed %llu (MT_SEED=%llu replays), %llu packets\n",
		      (unsigned long long)seed, (unsigned long long)seed,
		      (unsigned long long)iters);

	if (mt_meter_open(&fast, FUZZ_MAX_FLOWS, 0, why, sizeof(why))) {
		print_message("# SKIP: %s\n", why);
		skip();
	}
	err = mt_meter_open(&slow, FUZZ_MAX_FLOWS, MT_SLOW_LOAD, why,
			    sizeof(why));
	if (!err)
		err = mt_meter_open(&small, 256, 0, why, sizeof(why));
	if (err)
		fail_msg("%s", why);
	fa = calloc(FUZZ_MAX_FLOWS, sizeof(*fa));
	fb = calloc(FUZZ_MAX_FLOWS, sizeof(*fb));
	assert_non_null(fa);
	assert_non_null(fb);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (it = 0; it < iters; it++) {
		__u32 len, ret = 0;

		random_spec(&s);
		memset(&inf, 0, sizeof(inf));
		len = mt_pkt_build(&s, pkt, sizeof(pkt) - 256, &inf);
		assert_true(len >= 14);
		len = mutate(pkt, len, sizeof(pkt), &inf);
		for (h = 0; h < MT_NR_HOOKS; h++) {
			struct mt_ctx c = { 0 };
			__u64 n;

			if (h != MT_XDP && !mt_tc_runnable(pkt, len))
				continue;
			if (h != MT_XDP && !rnd(10))
				c.gso_segs = 2 + rnd(63), c.gso_size = 100;
			if (h == MT_TC_EGRESS)
				c.ingress_ifindex = rnd(4) ? 0 : 2 + rnd(3);
			for (m = 0; m < 3; m++) {
				err = mt_run(ms[m], h, pkt, len, &c, &ret);
				if (err || ret != mt_pass_verdict(h))
					fail_msg("seed %llu packet %llu %s len "
						 "%u: err %d verdict %u",
						 (unsigned long long)seed,
						 (unsigned long long)it,
						 mt_hook_names[h], len, err,
						 ret);
			}
			n = c.gso_segs > 1 ? c.gso_segs : 1;
			batch.runs++;
			batch.packets += n;
			all.runs++;
			all.packets += n;
		}
		if ((it + 1) % FUZZ_BATCH == 0 || it + 1 == iters) {
			check_totals(&fast, "direct", &batch, false);
			check_totals(&slow, "helpers", &batch, false);
			compared += compare_meters(&fast, &slow, fa, fb);
			batches++;
			assert_int_equal(mt_meter_reset(&fast), 0);
			assert_int_equal(mt_meter_reset(&slow), 0);
			memset(&batch, 0, sizeof(batch));
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("# %.1f s; parsers compared in %d of %d batches\n",
		      (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
		      compared, batches);
	check_totals(&small, "small map", &all, true);
	/* most batches compared (kept from the no-prealloc maps, whose
	 * ENOMEM under a burst skipped some), and now every one: a map with
	 * room never refuses an insert
	 */
	assert_true(compared * 2 >= batches);
	assert_int_equal(compared, batches);
	free(fa);
	free(fb);
	mt_meter_close(&fast);
	mt_meter_close(&slow);
	mt_meter_close(&small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests_name("meter_fuzz", tests, NULL, NULL);
}
