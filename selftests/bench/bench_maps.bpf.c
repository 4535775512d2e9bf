// SPDX-License-Identifier: GPL-2.0-only
/* bench_maps.bpf.c - candidate flow-map designs for bench_maps: the meter
 * of ebpf/meter.bpf.c (same parser, same GSO and overflow rules) over
 * per-CPU or shared hashes, preallocated or not. Not a product program:
 * it exists so the designs can be compared side by side in one run.
 *
 * The shared-hash candidates add with BPF atomics (built with -mcpu=v3),
 * OR the flags only when a bit is new (no locked op on the common path),
 * and store the rest plainly. Update failures are counted by errno in
 * bm_stats so a fill can tell allocation failure from a full map.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "flowexp.h"
#include "parse.h"
#include "bench_maps.h"

#define BM_ENOMEM 12
#define BM_EEXIST 17
#define BM_E2BIG 7
#define BM_EBUSY 16

char LICENSE[] SEC("license") = "GPL";

/* Next flow of a fill program; user space resets it between fills. */
__u64 bm_seq = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BM_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} bm_stats SEC(".maps");

static __always_inline void bm_stat_add(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&bm_stats, &idx);

	if (v)
		*v += n;
}

/* Inner-map templates; user space passes a real template fd before load,
 * these only give the verifier the shape.
 */
#define BM_INNER(name, maptype, flags, vtype)                 \
	struct bm_inner_##name {                              \
		__uint(type, maptype);                        \
		__uint(map_flags, flags);                     \
		__uint(max_entries, FE_DEFAULT_MAX_FLOWS);    \
		__uint(key_size, sizeof(struct fe_flow_key)); \
		__uint(value_size, sizeof(vtype));            \
	};                                                    \
	struct {                                              \
		__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);     \
		__uint(max_entries, BM_NR_SLOTS);             \
		__type(key, __u32);                           \
		__array(values, struct bm_inner_##name);      \
	} bm_outer_##name SEC(".maps")

BM_INNER(pcpu_nopre, BPF_MAP_TYPE_PERCPU_HASH, BPF_F_NO_PREALLOC,
	 struct fe_flow_val);
BM_INNER(pcpu_pre, BPF_MAP_TYPE_PERCPU_HASH, 0, struct fe_flow_val);
BM_INNER(shared_nopre, BPF_MAP_TYPE_HASH, BPF_F_NO_PREALLOC, struct bm_val);
BM_INNER(shared_pre, BPF_MAP_TYPE_HASH, 0, struct bm_val);

/* The product's per-CPU add (ebpf/meter.bpf.c fe_val_add). */
static __always_inline void bm_pcpu_add(struct fe_flow_val *v,
					const struct fe_pkt *p, __u64 pkts,
					__u64 octets, __u64 now)
{
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

static __always_inline void bm_shared_add(struct bm_val *v,
					  const struct fe_pkt *p, __u64 pkts,
					  __u64 octets, __u64 now)
{
	__u32 f = p->tcp_flags | (__u32)p->vflags << 16;

	__sync_fetch_and_add(&v->packets, pkts);
	__sync_fetch_and_add(&v->octets, octets);
	if ((v->flags & f) != f)
		__sync_fetch_and_or(&v->flags, f);
	if (p->ttl < v->ttl_min)
		v->ttl_min = p->ttl;
	if (p->ttl > v->ttl_max)
		v->ttl_max = p->ttl;
	v->last_ns = now;
	v->tos = p->tos;
	v->flow_label = p->flow_label;
}

static __always_inline void bm_err_stat(long err)
{
	if (err == -BM_ENOMEM)
		bm_stat_add(BM_STAT_ENOMEM, 1);
	else if (err == -BM_E2BIG)
		bm_stat_add(BM_STAT_E2BIG, 1);
	else if (err == -BM_EBUSY)
		bm_stat_add(BM_STAT_EBUSY, 1);
	else
		bm_stat_add(BM_STAT_EOTHER, 1);
}

/* fe_account of meter.bpf.c for either value kind; 0 or -errno. */
static __always_inline long bm_account(void *map, const struct fe_flow_key *key,
				       const struct fe_pkt *p, __u64 pkts,
				       __u64 octets, __u64 now, bool shared)
{
	union {
		struct fe_flow_val pc;
		struct bm_val sh;
	} nv;
	void *v;
	long err;

	v = bpf_map_lookup_elem(map, key);
	if (!v)
		goto create;
add:
	if (shared)
		bm_shared_add(v, p, pkts, octets, now);
	else
		bm_pcpu_add(v, p, pkts, octets, now);
	return 0;
create:
	__builtin_memset(&nv, 0, sizeof(nv));
	if (shared) {
		nv.sh.first_ns = now;
		nv.sh.ttl_min = p->ttl;
		nv.sh.ttl_max = p->ttl;
		nv.sh.packets = pkts;
		nv.sh.octets = octets;
		nv.sh.last_ns = now;
		nv.sh.flags = p->tcp_flags | (__u32)p->vflags << 16;
		nv.sh.tos = p->tos;
		nv.sh.flow_label = p->flow_label;
	} else {
		bm_pcpu_add(&nv.pc, p, pkts, octets, now);
	}
	err = bpf_map_update_elem(map, key, &nv, BPF_NOEXIST);
	if (err != -BM_EEXIST)
		return err;
	v = bpf_map_lookup_elem(map, key);
	if (!v)
		return -BM_EEXIST;
	goto add;
}

/* fe_meter of meter.bpf.c over outer; fill: key from bm_seq. */
static __always_inline void bm_meter(void *outer, struct __sk_buff *skb,
				     bool shared, bool fill)
{
	struct fe_src s = {
		.ctx = skb,
		.data = (void *)(long)skb->data,
		.data_end = (void *)(long)skb->data_end,
		.len = skb->len,
	};
	__u32 gso_segs = skb->gso_segs, gso_size = skb->gso_size;
	__u32 slot = BM_SLOT_FLOWS;
	struct fe_flow_key okey;
	__u64 pkts, octets, now;
	void *flows, *ovf;
	struct fe_pkt p;
	long err;
	int res;

	__builtin_memset(&p, 0, sizeof(p));
	p.key.ifindex = skb->ifindex;
	p.key.in_ifindex = skb->ingress_ifindex;
	p.key.dir = FE_DIR_EGRESS;
	flows = bpf_map_lookup_elem(outer, &slot);
	if (!flows)
		return;
	res = fe_parse(&s, &p, false);
	if (gso_size && !gso_segs && res == FE_PARSE_FLOW &&
	    s.len > p.l3off + p.hdr_len)
		gso_segs =
			(s.len - p.l3off - p.hdr_len + gso_size - 1) / gso_size;
	pkts = gso_segs > 1 ? gso_segs : 1;
	bm_stat_add(FE_STAT_PACKETS, pkts);
	if (res != FE_PARSE_FLOW) {
		bm_stat_add(res == FE_PARSE_NON_IP ? FE_STAT_NON_IP
						   : FE_STAT_MALFORMED,
			    pkts);
		return;
	}
	bm_stat_add(p.key.family == 4 ? FE_STAT_IPV4 : FE_STAT_IPV6, pkts);
	if (p.frag)
		bm_stat_add(FE_STAT_FRAGMENTS, pkts);
	if (gso_segs > 1) {
		octets = (__u64)(s.len - p.l3off) +
			 (__u64)(gso_segs - 1) * p.hdr_len;
		bm_stat_add(FE_STAT_GSO, 1);
	} else {
		octets = p.ip_octets;
	}
	if (fill) {
		__u64 seq = __sync_fetch_and_add(&bm_seq, 1);
		__u32 a = bpf_htonl(0x0a000000 | (__u32)(seq >> 16));

		__builtin_memcpy(p.key.src, &a, 4);
		p.key.sport = seq & 0xffff;
	}
	now = bpf_ktime_get_coarse_ns();
	err = bm_account(flows, &p.key, &p, pkts, octets, now, shared);
	if (!err)
		return;
	bm_err_stat(err);

	__builtin_memset(&okey, 0, sizeof(okey));
	okey.ifindex = p.key.ifindex;
	okey.in_ifindex = p.key.in_ifindex;
	okey.dir = p.key.dir;
	okey.flags = FE_KEY_OVERFLOW;
	slot = BM_SLOT_OVERFLOW;
	ovf = bpf_map_lookup_elem(outer, &slot);
	if (ovf && !bm_account(ovf, &okey, &p, pkts, octets, now, shared))
		bm_stat_add(FE_STAT_OVERFLOW, pkts);
	else
		bm_stat_add(FE_STAT_OVF_LOST, pkts);
}

#define BM_PROGS(name, shared)                                  \
	SEC("tc") int bm_meter_##name(struct __sk_buff *skb)    \
	{                                                       \
		bm_meter(&bm_outer_##name, skb, shared, false); \
		return TC_ACT_UNSPEC;                           \
	}                                                       \
	SEC("tc") int bm_fill_##name(struct __sk_buff *skb)     \
	{                                                       \
		bm_meter(&bm_outer_##name, skb, shared, true);  \
		return TC_ACT_UNSPEC;                           \
	}

BM_PROGS(pcpu_nopre, false)
BM_PROGS(pcpu_pre, false)
BM_PROGS(shared_nopre, true)
BM_PROGS(shared_pre, true)

/* Per-CPU allocator events, so a fill can show why per-CPU elements fail
 * to allocate (the atomic path cannot populate pages or create chunks).
 * Optional: user space loads them only when the tracepoints exist.
 */
__u64 bm_pcpu_fail = 0;
__u64 bm_pcpu_chunks = 0;

SEC("tp_btf/percpu_alloc_percpu_fail")
int bm_pcpu_alloc_fail(__u64 *ctx)
{
	__sync_fetch_and_add(&bm_pcpu_fail, 1);
	return 0;
}

SEC("tp_btf/percpu_create_chunk")
int bm_pcpu_new_chunk(__u64 *ctx)
{
	__sync_fetch_and_add(&bm_pcpu_chunks, 1);
	return 0;
}
