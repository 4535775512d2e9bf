// SPDX-License-Identifier: GPL-2.0-only
/* meter.bpf.c - the flow meters: tc egress/ingress and XDP programs that
 * count every packet (or, with sampling, 1 in N) into the shared flow map
 * of the live generation of fe_outer (fe_gen says which; see flowexp.h
 * for the swap), or into an overflow entry when that map is full. They
 * never alter or drop a packet: tc returns TC_ACT_UNSPEC, XDP returns
 * XDP_PASS.
 *
 * Two more kinds of entries go to the same maps (flowexp.h, FE_KIND_*):
 * the egress meter notes the translation of a connection the kernel NATs
 * when it creates an entry for one of its packets (fe_nat_note()), and
 * fe_kfree_skb, on the kfree_skb tracepoint, counts the packets an egress
 * meter counted and the stack then dropped (a qdisc, the transmit path).
 *
 * fe_stats, per packet (a GSO skb counts gso_segs): packets always; then
 * exactly one of non_ip, malformed, ipv4, ipv6. ipv4 + ipv6 == packets in
 * FE_KIND_PKT entries (flows and overflow) + overflow_lost, and octets
 * likewise for their octets; with sampling 1 in N, the right-hand sides
 * count the selected packets only (flowexp.h). fragments counts IP
 * fragments (first and later), gso_skbs GSO skbs. An empty flows slot of
 * the live generation counts nothing. dropped and dropped_octets: what
 * FE_KIND_DROP entries hold + dropped_lost.
 *
 * Built with -mcpu=v3 (BPF atomics: the add and OR of fe_val_merge()).
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "flowexp.h"
#include "kern.h"
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

/* 1: the egress meter notes NAT translations; 0: it does not. 2 (make
 * bench-datapath only): every packet's connection is the translated one in
 * fe_bench_ct, which the bench lays out as the running kernel's struct
 * nf_conn (BPF_PROG_TEST_RUN's skbs have no conntrack entry), so that the
 * bench measures the meter with and without NAT side by side.
 */
const volatile __u8 fe_cfg_nat = 1;
#define FE_NAT_BENCH 2
__u8 fe_bench_ct[512];

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

/* Adds the packet to key's entry in map, creating it; 0 (added), 1
 * (created) or -errno (-E2BIG: map full; a preallocated map returns it
 * only then).
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
		return err ? err : 1;
	/* another CPU created it between our lookup and update */
	v = bpf_map_lookup_elem(map, key);
	if (!v)
		return -FE_EEXIST;
	fe_val_merge(v, p, a);
	return 0;
}

/* The packets an skb of s is on the wire: gso_segs/gso_size of a GSO skb,
 * else 0. A GSO skb from a source the stack does not trust (virtio, tap,
 * an AF_PACKET vnet header: SKB_GSO_DODGY) reaches tc with gso_segs 0; the
 * stack counts its segments only when it segments, after tc.
 */
static __always_inline __u32 fe_segs(const struct fe_src *s,
				     const struct fe_pkt *p, int res,
				     __u32 gso_segs, __u32 gso_size)
{
	if (gso_size && !gso_segs && res == FE_PARSE_FLOW &&
	    s->len > p->l3off + p->hdr_len)
		gso_segs = (s->len - p->l3off - p->hdr_len + gso_size - 1) /
			   gso_size;
	return gso_segs > 1 ? gso_segs : 1;
}

/* The IP octets of those packets: what the wire carries, every segment
 * repeating the headers.
 */
static __always_inline __u64 fe_octets(const struct fe_src *s,
				       const struct fe_pkt *p, __u32 pkts)
{
	if (pkts > 1)
		return (__u64)(s->len - p->l3off) +
		       (__u64)(pkts - 1) * p->hdr_len;
	return p->ip_octets;
}

static __always_inline void fe_nat_addr(__u8 *to, const __u8 *from, __u8 family)
{
	__builtin_memset(to, 0, 16);
	if (family == 4)
		__builtin_memcpy(to, from, 4);
	else
		__builtin_memcpy(to, from, 16);
}

/* A connection's translation from its conntrack entry (t[0] the original
 * direction, t[1] the reply) into the FE_KIND_NAT entry k -> v.
 */
static __always_inline void fe_nat_entry(const struct fe_ct_tuple *t,
					 const struct fe_pkt *p,
					 struct fe_flow_key *k,
					 struct fe_nat_val *v)
{
	__u8 fam = p->key.family, proto = p->key.proto;

	__builtin_memset(k, 0, sizeof(*k));
	__builtin_memset(v, 0, sizeof(*v));
	k->family = fam;
	k->proto = proto;
	k->kind = FE_KIND_NAT;
	fe_nat_addr(k->src, t[0].saddr, fam);
	fe_nat_addr(k->dst, t[0].daddr, fam);
	/* the original direction after translation: the reply reversed */
	fe_nat_addr(v->src, t[1].daddr, fam);
	fe_nat_addr(v->dst, t[1].saddr, fam);
	if (FE_PROTO_HAS_PORTS(proto)) {
		k->sport = bpf_ntohs(t[0].sport);
		k->dport = bpf_ntohs(t[0].dport);
		v->sport = bpf_ntohs(t[1].dport);
		v->dport = bpf_ntohs(t[1].sport);
	} else if (FE_PROTO_IS_ICMP(proto)) {
		/* the echo identifier is a source "port" both ways */
		k->sport = bpf_ntohs(t[0].sport);
		k->dport = bpf_ntohs(t[0].dport);
		v->sport = bpf_ntohs(t[1].sport);
		v->dport = k->dport;
	}
}

/* At tc egress, after the stack's NAT: when this packet's connection is
 * translated, its translation goes to the live flows map (FE_KIND_NAT, one
 * per connection and generation). Called when the packet created its
 * entry only: a flow pays it once per drain, not per packet. The skb holds
 * its conntrack entry (netfilter attached it before tc egress), so there
 * is no lookup, and every protocol conntrack tracks is covered (ICMP
 * too, which bpf_skb_ct_lookup() refuses).
 */
static __always_inline void fe_nat_note(struct __sk_buff *ctx, void *flows,
					const struct fe_pkt *p, __u64 now,
					struct fe_stats *st)
{
	struct sk_buff *skb = bpf_cast_to_kern_ctx(ctx);
	struct fe_ct_tuple t[2];
	unsigned long nfct, status;
	struct fe_flow_key k;
	struct fe_nat_val v;
	struct nf_conn *ct;
	__u32 info;
	long err;

	if (fe_cfg_nat == FE_NAT_BENCH) {
		nfct = 0;
		ct = (struct nf_conn *)fe_bench_ct;
	} else {
		nfct = skb->_nfct;
		ct = (struct nf_conn *)(nfct & ~7UL);
	}
	info = nfct & 7;
	/* a related packet (an ICMP error) has another tuple than its
	 * connection's
	 */
	if (!ct || info == FE_CT_RELATED || info == FE_CT_RELATED_REPLY)
		return;
	if (bpf_probe_read_kernel(&status, sizeof(status), &ct->status) ||
	    !(status & (FE_IPS_SRC_NAT | FE_IPS_DST_NAT)))
		return;
	if (bpf_probe_read_kernel(&t[0], sizeof(t[0]),
				  &ct->tuplehash[0].tuple) ||
	    bpf_probe_read_kernel(&t[1], sizeof(t[1]), &ct->tuplehash[1].tuple))
		return;
	if (t[0].protonum != p->key.proto ||
	    t[0].l3num != (p->key.family == 4 ? FE_AF_INET : FE_AF_INET6))
		return;
	fe_nat_entry(t, p, &k, &v);
	v.first_ns = now;
	err = bpf_map_update_elem(flows, &k, &v, BPF_NOEXIST);
	if (!err)
		st->n[FE_STAT_NAT] += 1;
	else if (err != -FE_EEXIST)
		st->n[FE_STAT_NAT_LOST] += 1;
}

/* The meter proper. gso_segs/gso_size: of a GSO skb (tc), else 0. nat: tc
 * egress (s->ctx is its skb), where translations are noted.
 */
static __always_inline void fe_meter(const struct fe_src *s, struct fe_pkt *p,
				     bool have_vlan, __u32 gso_segs,
				     __u32 gso_size, bool nat)
{
	struct fe_flow_key okey;
	struct fe_flow_val fv;
	struct fe_add a;
	__u64 pkts, octets;
	__u32 zero = 0, slot, g, *gen;
	struct fe_stats *st;
	void *flows, *ovf;
	long res;

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
	pkts = fe_segs(s, p, res, gso_segs, gso_size);
	st->n[FE_STAT_PACKETS] += pkts;
	if (res != FE_PARSE_FLOW) {
		st->n[res == FE_PARSE_NON_IP ? FE_STAT_NON_IP
					     : FE_STAT_MALFORMED] += pkts;
		return;
	}
	st->n[p->key.family == 4 ? FE_STAT_IPV4 : FE_STAT_IPV6] += pkts;
	if (p->frag)
		st->n[FE_STAT_FRAGMENTS] += pkts;
	if (pkts > 1)
		st->n[FE_STAT_GSO] += 1;
	octets = fe_octets(s, p, pkts);
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
	res = fe_account(flows, &p->key, p, &a);
	if (res == 1 && nat && fe_cfg_nat)
		fe_nat_note(s->ctx, flows, p, a.now, st);
	if (res >= 0)
		return;

	__builtin_memset(&okey, 0, sizeof(okey));
	okey.ifindex = p->key.ifindex;
	okey.in_ifindex = p->key.in_ifindex;
	okey.dir = p->key.dir;
	okey.flags = FE_KEY_OVERFLOW;
	slot = FE_SLOT_OVERFLOW(g);
	ovf = bpf_map_lookup_elem(&fe_outer, &slot);
	if (ovf && fe_account(ovf, &okey, p, &a) >= 0)
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
	fe_meter(&s, &p, have_vlan, skb->gso_segs, skb->gso_size,
		 dir == FE_DIR_EGRESS);
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
	fe_meter(&s, &p, false, 0, 0, false);
	return XDP_PASS;
}

/* The drop reasons of a packet freed after tc egress on its device: by a
 * qdisc (any), by the transmit path (checksum or GSO on the way to the
 * driver, device not ready, ring full, too deep a recursion) or with a
 * purged queue. Not TC_EGRESS: a tc program that runs before the meter can
 * drop a packet the meter never saw. The values are the running kernel's
 * (CO-RE); a reason it lacks matches nothing.
 */
enum skb_drop_reason {
	SKB_DROP_REASON_QDISC_DROP,
	SKB_DROP_REASON_QDISC_OVERLIMIT,
	SKB_DROP_REASON_QDISC_CONGESTED,
	SKB_DROP_REASON_CAKE_FLOOD,
	SKB_DROP_REASON_FQ_BAND_LIMIT,
	SKB_DROP_REASON_FQ_HORIZON_LIMIT,
	SKB_DROP_REASON_FQ_FLOW_LIMIT,
	SKB_DROP_REASON_DUALPI2_STEP_DROP,
	SKB_DROP_REASON_SKB_CSUM,
	SKB_DROP_REASON_SKB_GSO_SEG,
	SKB_DROP_REASON_DEV_HDR,
	SKB_DROP_REASON_DEV_READY,
	SKB_DROP_REASON_FULL_RING,
	SKB_DROP_REASON_RECURSION_LIMIT,
	SKB_DROP_REASON_QUEUE_PURGE,
};

#define FE_REASON(r, name)                                         \
	(bpf_core_enum_value_exists(enum skb_drop_reason, name) && \
	 (r) == bpf_core_enum_value(enum skb_drop_reason, name))

static __always_inline bool fe_drop_after_egress(__u32 r)
{
	return FE_REASON(r, SKB_DROP_REASON_QDISC_DROP) ||
	       FE_REASON(r, SKB_DROP_REASON_QDISC_OVERLIMIT) ||
	       FE_REASON(r, SKB_DROP_REASON_QDISC_CONGESTED) ||
	       FE_REASON(r, SKB_DROP_REASON_CAKE_FLOOD) ||
	       FE_REASON(r, SKB_DROP_REASON_FQ_BAND_LIMIT) ||
	       FE_REASON(r, SKB_DROP_REASON_FQ_HORIZON_LIMIT) ||
	       FE_REASON(r, SKB_DROP_REASON_FQ_FLOW_LIMIT) ||
	       FE_REASON(r, SKB_DROP_REASON_DUALPI2_STEP_DROP) ||
	       FE_REASON(r, SKB_DROP_REASON_SKB_CSUM) ||
	       FE_REASON(r, SKB_DROP_REASON_SKB_GSO_SEG) ||
	       FE_REASON(r, SKB_DROP_REASON_DEV_HDR) ||
	       FE_REASON(r, SKB_DROP_REASON_DEV_READY) ||
	       FE_REASON(r, SKB_DROP_REASON_FULL_RING) ||
	       FE_REASON(r, SKB_DROP_REASON_RECURSION_LIMIT) ||
	       FE_REASON(r, SKB_DROP_REASON_QUEUE_PURGE);
}

/* Whether map (one of fe_outer's slots) holds key. */
static __always_inline bool fe_slot_has(__u32 slot,
					const struct fe_flow_key *key)
{
	void *map = bpf_map_lookup_elem(&fe_outer, &slot);

	return map && bpf_map_lookup_elem(map, key);
}

/* Counts the dropped packets of p against the entry that counted them at
 * egress: key's entry in a flows map, else the link's overflow entry, of
 * the live generation or, for a packet that waited in a queue across a
 * drain, the previous one. A packet the egress meter never counted (a
 * device without it, another netns) has neither and is left alone.
 */
static __always_inline void fe_drop_count(struct fe_pkt *p, struct fe_add *a,
					  struct fe_stats *st, __u32 g)
{
	struct fe_flow_key *k = &p->key;
	__u32 slot = FE_SLOT_FLOWS(g);
	void *map;

	if (!fe_slot_has(FE_SLOT_FLOWS(g), k) &&
	    !fe_slot_has(FE_SLOT_FLOWS(g ^ 1), k)) {
		__builtin_memset(k->src, 0, sizeof(k->src));
		__builtin_memset(k->dst, 0, sizeof(k->dst));
		k->family = 0;
		k->proto = 0;
		k->sport = 0;
		k->dport = 0;
		k->vlan = 0;
		k->flags = FE_KEY_OVERFLOW;
		if (!fe_slot_has(FE_SLOT_OVERFLOW(g), k) &&
		    !fe_slot_has(FE_SLOT_OVERFLOW(g ^ 1), k))
			return;
		slot = FE_SLOT_OVERFLOW(g);
	}
	k->kind = FE_KIND_DROP;
	map = bpf_map_lookup_elem(&fe_outer, &slot);
	st->n[FE_STAT_DROPPED] += a->pkts;
	st->n[FE_STAT_DROPPED_OCTETS] += a->octets;
	if (!map || fe_account(map, k, p, a) < 0)
		st->n[FE_STAT_DROP_LOST] += a->pkts;
}

/* A packet freed after the egress meter of its device counted it: parsed
 * from its mac header in kernel memory, keyed as the egress meter keyed it
 * (the device, skb_iif, the outermost VLAN), its segments and octets
 * counted as the meter counted them.
 */
static __always_inline void fe_drop(struct sk_buff *skb)
{
	struct net_device *dev = skb->dev;
	struct skb_shared_info *sh;
	struct fe_src s = { .kern = true };
	__u32 zero = 0, g, *gen;
	__u16 gso_size = 0, gso_segs = 0;
	__u64 head, data;
	struct fe_stats *st;
	struct fe_add a;
	struct fe_pkt p;
	long data_off;
	__u16 mac;
	bool vlan;
	int res;

	gen = bpf_map_lookup_elem(&fe_gen, &zero);
	st = bpf_map_lookup_elem(&fe_stats, &zero);
	if (!dev || !gen || !st)
		return;
	g = *(volatile __u32 *)gen & 1;
	/* as numbers (the verifier types the members as untrusted memory of
	 * size 0): every read below is a bpf_probe_read_kernel()
	 */
	if (bpf_probe_read_kernel(&head, sizeof(head), &skb->head) ||
	    bpf_probe_read_kernel(&data, sizeof(data), &skb->data))
		return;
	mac = skb->mac_header;
	data_off = (long)(data - head);
	if (mac == 0xffff || data_off < 0 || skb->len + data_off < mac)
		return;
	s.kbase = (const __u8 *)(head + mac);
	s.len = skb->len + data_off - mac;
	__builtin_memset(&p, 0, sizeof(p));
	p.key.ifindex = dev->ifindex;
	p.key.in_ifindex = skb->skb_iif;
	p.key.dir = FE_DIR_EGRESS;
	vlan = skb->vlan_all != 0;
	if (vlan)
		p.key.vlan = skb->vlan_tci & 0xfff;
	res = fe_parse(&s, &p, vlan);
	if (res != FE_PARSE_FLOW)
		return;
	sh = (struct skb_shared_info *)(head + skb->end);
	bpf_probe_read_kernel(&gso_size, sizeof(gso_size), &sh->gso_size);
	bpf_probe_read_kernel(&gso_segs, sizeof(gso_segs), &sh->gso_segs);
	__builtin_memset(&a, 0, sizeof(a));
	a.pkts = fe_segs(&s, &p, res, gso_segs, gso_size);
	a.octets = fe_octets(&s, &p, a.pkts);
	/* tracing has no coarse clock; drops are not the fast path */
	a.now = bpf_ktime_get_ns();
	fe_drop_count(&p, &a, st, g);
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(fe_kfree_skb, struct sk_buff *skb, void *location,
	     enum skb_drop_reason reason)
{
	/* with sampling, whether the meter selected a dropped packet is not
	 * known: taking back every drop would cancel unselected packets
	 */
	if (fe_cfg_sampling <= 1 && fe_drop_after_egress(reason))
		fe_drop(skb);
	return 0;
}
