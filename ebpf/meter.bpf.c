// SPDX-License-Identifier: GPL-2.0-only
/* meter.bpf.c - the flow meters: tc egress/ingress and XDP programs that
 * count every packet (or, with sampling, 1 in N) into the shared flow map
 * of the live generation of fe_outer (fe_gen says which; see flowexp.h
 * for the swap), or into an overflow entry when that map is full. They
 * never alter or drop a packet: tc returns TC_ACT_UNSPEC, XDP returns
 * XDP_PASS.
 *
 * fe_stats, per packet (a GSO skb counts gso_segs): packets always; then
 * exactly one of non_ip, malformed, ipv4, ipv6. ipv4 + ipv6 == packets in
 * flow entries + overflow + overflow_lost, and octets likewise for their
 * octets; with sampling 1 in N, the right-hand sides count the selected
 * packets only (flowexp.h). fragments counts IP fragments (first and
 * later), gso_skbs GSO skbs. An empty flows slot of the live generation
 * counts nothing.
 *
 * Built with -mcpu=v3 (BPF atomics: the add and OR of fe_val_merge()).
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "flowexp.h"
#include "parse.h"

#define FE_E2BIG 7
#define FE_EEXIST 17

char LICENSE[] SEC("license") = "GPL";

/* Tests set this to exercise the load-helper path of the parser; the
 * verifier removes the dead branch, so it costs nothing when 0.
 */
const volatile __u8 fe_cfg_slow_load = 0;

/* Timestamps: by default CLOCK_MONOTONIC as of a recent tick (fe_now():
 * 1 to 2 ticks behind, 4-8 ms at HZ=250), because a clock helper per packet
 * costs 20 ns (bpf_ktime_get_coarse_ns) to 30 ns (bpf_ktime_get_ns) in a
 * VM, a quarter to a third of a minimal meter (measured by
 * bench_datapath). Set to 1 before load for ns-exact bpf_ktime_get_ns().
 */
const volatile __u8 fe_cfg_precise_ts = 0;

/* 1-in-N packet sampling (flowexp.ini sampling), fixed for the programs'
 * life: set before load, read back from .rodata by agent/meter_rodata.c.
 * 0 and 1 select every packet, and the verifier drops the sampler.
 */
const volatile __u32 fe_cfg_sampling = 1;

/* Preallocated (no map_flags): see flowexp.h. */
struct fe_flows_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FE_DEFAULT_MAX_FLOWS);
	/* sizes, not BTF types: clang emits the structs only as forward
	 * declarations when they are reached through __array()
	 */
	__uint(key_size, sizeof(struct fe_flow_key));
	__uint(value_size, sizeof(struct fe_flow_val));
};

/* Slots filled by user space; an empty flows slot disarms the meter. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, FE_NR_SLOTS);
	__type(key, __u32);
	__array(values, struct fe_flows_inner);
} fe_outer SEC(".maps");

/* [0] bit 0: the live generation of fe_outer (flipped by the drain). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} fe_gen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fe_stats);
} fe_stats SEC(".maps");

/* Per CPU: the coarse clock read at the jiffy `jiffies`. Internal to the
 * programs (not pinned; they hold it).
 */
struct fe_clk {
	__u64 jiffies;
	__u64 ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fe_clk);
} fe_clk SEC(".maps");

/* The packet's time. Coarse: bpf_jiffies64() is inlined by the verifier
 * (one load), so the clock helper runs once per jiffy per CPU. The tick
 * advances jiffies before the timekeeping, so a refresh right at a tick can
 * cache the previous tick's time for that jiffy: 1 to 2 ticks behind.
 */
static __always_inline __u64 fe_now(void)
{
	struct fe_clk *c;
	__u32 zero = 0;
	__u64 j;

	if (fe_cfg_precise_ts)
		return bpf_ktime_get_ns();
	c = bpf_map_lookup_elem(&fe_clk, &zero);
	if (!c)
		return bpf_ktime_get_coarse_ns();
	j = bpf_jiffies64();
	if (c->jiffies != j || !c->ns) {
		c->ns = bpf_ktime_get_coarse_ns();
		c->jiffies = j;
	}
	return c->ns;
}

/* Per CPU: where the packets this CPU meters (at every hook) stand in
 * the current window of fe_cfg_sampling packets, and the window's selected
 * position (drawn when pos is 0). Internal to the programs (not pinned).
 */
struct fe_smp {
	__u32 pos;
	__u32 pick;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fe_smp);
} fe_smp SEC(".maps");

/* A uniform position in 0..n-1 without a division (bias below n / 2^32). */
static __always_inline __u32 fe_pick(__u32 n)
{
	return (__u32)(((__u64)bpf_get_prandom_u32() * n) >> 32);
}

/* Random 1-out-of-N sampling (RFC 5475 6.1, n-out-of-N with n = 1): each
 * CPU's packets fall in windows of N consecutive packets, and one packet of
 * each window, at a random position, is selected. Every packet has the
 * chance 1/N, k packets give k/N on average and at most 2 away from it on
 * one CPU, and a GSO skb's k segments cost O(1): the windows it covers
 * whole give one each. Returns how many of the k packets are selected.
 */
static __always_inline __u32 fe_sample(__u32 k)
{
	__u32 n = fe_cfg_sampling, zero = 0, sel, left;
	struct fe_smp *w = bpf_map_lookup_elem(&fe_smp, &zero);

	if (!w)
		return k;
	if (!w->pos)
		w->pick = fe_pick(n);
	left = n - w->pos;
	if (k < left) {
		sel = w->pick >= w->pos && w->pick < w->pos + k;
		w->pos += k;
		return sel;
	}
	sel = w->pick >= w->pos;
	k -= left;
	w->pos = 0;
	if (k) {
		sel += k / n;
		w->pos = k % n;
	}
	if (w->pos) {
		w->pick = fe_pick(n);
		sel += w->pick < w->pos;
	}
	return sel;
}

/* What one packet (pkts segments) adds to an entry. */
struct fe_add {
	__u64 pkts;
	__u64 octets;
	__u64 now;
	__u32 flags; /* as fe_flow_val.flags: tcp_flags | vflags << 16 */
};

/* Adds a to the entry v, which other CPUs may update at the same time: the
 * rules of each field are above struct fe_flow_val.
 */
static __always_inline void fe_val_merge(struct fe_flow_val *v,
					 const struct fe_pkt *p,
					 const struct fe_add *a)
{
	__sync_fetch_and_add(&v->packets, a->pkts);
	__sync_fetch_and_add(&v->octets, a->octets);
	if ((v->flags & a->flags) != a->flags)
		__sync_fetch_and_or(&v->flags, a->flags);
	if (p->ttl < v->ttl_min)
		v->ttl_min = p->ttl;
	if (p->ttl > v->ttl_max)
		v->ttl_max = p->ttl;
	if (a->now > v->last_ns)
		v->last_ns = a->now;
	v->tos = p->tos;
	v->flow_label = p->flow_label;
}

/* Adds the packet to key's entry in map, creating it; 0 or -errno
 * (-E2BIG: map full; a preallocated map returns it only then).
 */
static __always_inline long fe_account(void *map, const struct fe_flow_key *key,
				       const struct fe_pkt *p,
				       const struct fe_add *a)
{
	struct fe_flow_val *v, nv;
	long err;

	v = bpf_map_lookup_elem(map, key);
	if (v) {
		fe_val_merge(v, p, a);
		return 0;
	}
	__builtin_memset(&nv, 0, sizeof(nv));
	nv.packets = a->pkts;
	nv.octets = a->octets;
	nv.first_ns = a->now;
	nv.last_ns = a->now;
	nv.flags = a->flags;
	nv.tos = p->tos;
	nv.ttl_min = p->ttl;
	nv.ttl_max = p->ttl;
	nv.flow_label = p->flow_label;
	err = bpf_map_update_elem(map, key, &nv, BPF_NOEXIST);
	if (err != -FE_EEXIST)
		return err;
	/* another CPU created it between our lookup and update */
	v = bpf_map_lookup_elem(map, key);
	if (!v)
		return -FE_EEXIST;
	fe_val_merge(v, p, a);
	return 0;
}

/* The meter proper. gso_segs/gso_size: of a GSO skb (tc), else 0. */
static __always_inline void fe_meter(const struct fe_src *s, struct fe_pkt *p,
				     bool have_vlan, __u32 gso_segs,
				     __u32 gso_size)
{
	struct fe_flow_key okey;
	struct fe_flow_val fv;
	struct fe_add a;
	__u64 pkts, octets;
	__u32 zero = 0, slot, g, *gen;
	struct fe_stats *st;
	void *flows, *ovf;
	int res;

	gen = bpf_map_lookup_elem(&fe_gen, &zero);
	st = bpf_map_lookup_elem(&fe_stats, &zero);
	if (!gen || !st)
		return;
	/* read once: this packet uses one generation's maps only */
	g = *(volatile __u32 *)gen & 1;
	slot = FE_SLOT_FLOWS(g);
	flows = bpf_map_lookup_elem(&fe_outer, &slot);
	if (!flows)
		return;
	res = fe_parse(s, p, have_vlan);
	/* A GSO skb from a source the stack does not trust (virtio, tap, an
	 * AF_PACKET vnet header: SKB_GSO_DODGY) reaches tc with gso_segs 0;
	 * the stack counts its segments only when it segments, after tc.
	 */
	if (gso_size && !gso_segs && res == FE_PARSE_FLOW &&
	    s->len > p->l3off + p->hdr_len)
		gso_segs = (s->len - p->l3off - p->hdr_len + gso_size - 1) /
			   gso_size;
	pkts = gso_segs > 1 ? gso_segs : 1;
	st->n[FE_STAT_PACKETS] += pkts;
	if (res != FE_PARSE_FLOW) {
		st->n[res == FE_PARSE_NON_IP ? FE_STAT_NON_IP
					     : FE_STAT_MALFORMED] += pkts;
		return;
	}
	st->n[p->key.family == 4 ? FE_STAT_IPV4 : FE_STAT_IPV6] += pkts;
	if (p->frag)
		st->n[FE_STAT_FRAGMENTS] += pkts;
	if (gso_segs > 1) {
		/* what the wire carries: every segment repeats the headers */
		octets = (__u64)(s->len - p->l3off) +
			 (__u64)(gso_segs - 1) * p->hdr_len;
		st->n[FE_STAT_GSO] += 1;
	} else {
		octets = p->ip_octets;
	}
	st->n[FE_STAT_OCTETS] += octets;
	/* sampling: the counters above count every packet, the entries only
	 * the selected ones (a GSO skb's share of its octets)
	 */
	if (fe_cfg_sampling > 1) {
		__u32 sel = fe_sample(pkts);

		if (!sel)
			return;
		if (sel != pkts)
			octets = octets * sel / pkts;
		pkts = sel;
	}
	a.pkts = pkts;
	a.octets = octets;
	a.now = fe_now();
	/* the word layout of fe_flow_val.flags, whatever the byte order */
	fv.flags = 0;
	fv.tcp_flags = p->tcp_flags;
	fv.vflags = p->vflags;
	a.flags = fv.flags;
	if (!fe_account(flows, &p->key, p, &a))
		return;

	__builtin_memset(&okey, 0, sizeof(okey));
	okey.ifindex = p->key.ifindex;
	okey.in_ifindex = p->key.in_ifindex;
	okey.dir = p->key.dir;
	okey.flags = FE_KEY_OVERFLOW;
	slot = FE_SLOT_OVERFLOW(g);
	ovf = bpf_map_lookup_elem(&fe_outer, &slot);
	if (ovf && !fe_account(ovf, &okey, p, &a))
		st->n[FE_STAT_OVERFLOW] += pkts;
	else
		st->n[FE_STAT_OVF_LOST] += pkts;
}

static __always_inline void fe_tc(struct __sk_buff *skb, __u8 dir)
{
	struct fe_src s = {
		.ctx = skb,
		.data = (void *)(long)skb->data,
		.data_end = (void *)(long)skb->data_end,
		.len = skb->len,
		.xdp = false,
		.slow = fe_cfg_slow_load,
	};
	bool have_vlan = skb->vlan_present;
	struct fe_pkt p;

	__builtin_memset(&p, 0, sizeof(p));
	p.key.ifindex = skb->ifindex;
	p.key.in_ifindex =
		dir == FE_DIR_EGRESS ? skb->ingress_ifindex : skb->ifindex;
	p.key.dir = dir;
	if (have_vlan)
		p.key.vlan = skb->vlan_tci & 0xfff;
	fe_meter(&s, &p, have_vlan, skb->gso_segs, skb->gso_size);
}

SEC("tc")
int fe_tc_egress(struct __sk_buff *skb)
{
	fe_tc(skb, FE_DIR_EGRESS);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int fe_tc_ingress(struct __sk_buff *skb)
{
	fe_tc(skb, FE_DIR_INGRESS);
	return TC_ACT_UNSPEC;
}

SEC("xdp")
int fe_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct fe_src s = {
		.ctx = ctx,
		.data = data,
		.data_end = data_end,
		.len = data_end - data,
		.xdp = true,
		.slow = fe_cfg_slow_load,
	};
	struct fe_pkt p;

	__builtin_memset(&p, 0, sizeof(p));
	p.key.ifindex = ctx->ingress_ifindex;
	p.key.in_ifindex = ctx->ingress_ifindex;
	p.key.dir = FE_DIR_INGRESS;
	fe_meter(&s, &p, false, 0, 0);
	return XDP_PASS;
}
