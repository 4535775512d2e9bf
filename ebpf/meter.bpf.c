// SPDX-License-Identifier: GPL-2.0-only
/* meter.bpf.c - the flow meters: tc egress/ingress and XDP programs that
 * count every packet into the per-CPU flow map in slot FE_SLOT_FLOWS of
 * fe_outer (or an overflow entry when that map is full). They never alter
 * or drop a packet: tc returns TC_ACT_UNSPEC, XDP returns XDP_PASS.
 *
 * fe_stats, per packet (a GSO skb counts gso_segs): packets always; then
 * exactly one of non_ip, malformed, ipv4, ipv6. ipv4 + ipv6 == packets in
 * flow entries + overflow + overflow_lost. fragments counts IP fragments
 * (first and later), gso_skbs GSO skbs. An empty FE_SLOT_FLOWS counts
 * nothing.
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

/* Timestamps: bpf_ktime_get_coarse_ns() by default, CLOCK_MONOTONIC as of
 * the last tick (1/HZ: 4 ms at HZ=250), because bpf_ktime_get_ns() costs
 * about 30 ns per packet in a VM (half a minimal meter; measured by
 * bench_datapath). Set to 1 before load for ns-exact times.
 */
const volatile __u8 fe_cfg_precise_ts = 0;

struct fe_flows_inner {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, FE_DEFAULT_MAX_FLOWS);
	/* sizes, not BTF types: clang emits the structs only as forward
	 * declarations when they are reached through __array()
	 */
	__uint(key_size, sizeof(struct fe_flow_key));
	__uint(value_size, sizeof(struct fe_flow_val));
};

/* Slots filled by user space; an empty FE_SLOT_FLOWS disarms the meter. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, FE_NR_SLOTS);
	__type(key, __u32);
	__array(values, struct fe_flows_inner);
} fe_outer SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FE_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} fe_stats SEC(".maps");

static __always_inline void fe_stat_add(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&fe_stats, &idx);

	if (v)
		*v += n;
}

static __always_inline void fe_val_add(struct fe_flow_val *v,
				       const struct fe_pkt *p, __u64 pkts,
				       __u64 octets, __u64 now)
{
	/* packets == 0: this CPU's copy of an entry another CPU created */
	if (!v->packets) {
		v->first_ns = now;
		v->ttl_min = p->ttl;
		v->ttl_max = p->ttl;
	} else {
		if (p->ttl < v->ttl_min)
			v->ttl_min = p->ttl;
		if (p->ttl > v->ttl_max)
			v->ttl_max = p->ttl;
	}
	v->packets += pkts;
	v->octets += octets;
	v->last_ns = now;
	v->tcp_flags |= p->tcp_flags;
	v->tos = p->tos;
	v->flow_label = p->flow_label;
	v->vflags |= p->vflags;
}

/* Adds the packet(s) to key's entry in map, creating it; 0 or -errno
 * (-E2BIG: map full).
 */
static __always_inline long fe_account(void *map, const struct fe_flow_key *key,
				       const struct fe_pkt *p, __u64 pkts,
				       __u64 octets, __u64 now)
{
	struct fe_flow_val *v, nv;
	long err;

	v = bpf_map_lookup_elem(map, key);
	if (v) {
		fe_val_add(v, p, pkts, octets, now);
		return 0;
	}
	__builtin_memset(&nv, 0, sizeof(nv));
	fe_val_add(&nv, p, pkts, octets, now);
	err = bpf_map_update_elem(map, key, &nv, BPF_NOEXIST);
	if (err != -FE_EEXIST)
		return err;
	/* another CPU created it between our lookup and update */
	v = bpf_map_lookup_elem(map, key);
	if (!v)
		return -FE_EEXIST;
	fe_val_add(v, p, pkts, octets, now);
	return 0;
}

/* The meter proper. gso_segs/gso_size: of a GSO skb (tc), else 0. */
static __always_inline void fe_meter(const struct fe_src *s, struct fe_pkt *p,
				     bool have_vlan, __u32 gso_segs,
				     __u32 gso_size)
{
	__u32 slot = FE_SLOT_FLOWS;
	struct fe_flow_key okey;
	__u64 pkts, octets, now;
	void *flows, *ovf;
	int res;

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
	fe_stat_add(FE_STAT_PACKETS, pkts);
	if (res != FE_PARSE_FLOW) {
		fe_stat_add(res == FE_PARSE_NON_IP ? FE_STAT_NON_IP
						   : FE_STAT_MALFORMED,
			    pkts);
		return;
	}
	fe_stat_add(p->key.family == 4 ? FE_STAT_IPV4 : FE_STAT_IPV6, pkts);
	if (p->frag)
		fe_stat_add(FE_STAT_FRAGMENTS, pkts);
	if (gso_segs > 1) {
		/* what the wire carries: every segment repeats the headers */
		octets = (__u64)(s->len - p->l3off) +
			 (__u64)(gso_segs - 1) * p->hdr_len;
		fe_stat_add(FE_STAT_GSO, 1);
	} else {
		octets = p->ip_octets;
	}
	now = fe_cfg_precise_ts ? bpf_ktime_get_ns()
				: bpf_ktime_get_coarse_ns();
	if (!fe_account(flows, &p->key, p, pkts, octets, now))
		return;

	__builtin_memset(&okey, 0, sizeof(okey));
	okey.ifindex = p->key.ifindex;
	okey.in_ifindex = p->key.in_ifindex;
	okey.dir = p->key.dir;
	okey.flags = FE_KEY_OVERFLOW;
	slot = FE_SLOT_OVERFLOW;
	ovf = bpf_map_lookup_elem(&fe_outer, &slot);
	if (ovf && !fe_account(ovf, &okey, p, pkts, octets, now))
		fe_stat_add(FE_STAT_OVERFLOW, pkts);
	else
		fe_stat_add(FE_STAT_OVF_LOST, pkts);
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
