/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* flowexp.h - the one definition of every key, value and constant shared by
 * the BPF meters (ebpf/) and user space (agent/, ctl/). Includes nothing:
 * the includer provides the __u8/__u16/__u32/__u64 types.
 */
#ifndef FLOWEXP_H
#define FLOWEXP_H

/* Observation direction (also IPFIX flowDirection: 0 ingress, 1 egress). */
#define FE_DIR_INGRESS 0
#define FE_DIR_EGRESS 1

/* IP protocol numbers (IANA) the meters and the agent name. */
#define FE_IPPROTO_HOPOPTS 0
#define FE_IPPROTO_ICMP 1
#define FE_IPPROTO_TCP 6
#define FE_IPPROTO_UDP 17
#define FE_IPPROTO_ROUTING 43
#define FE_IPPROTO_FRAGMENT 44
#define FE_IPPROTO_AH 51
#define FE_IPPROTO_ICMPV6 58
#define FE_IPPROTO_DSTOPTS 60
#define FE_IPPROTO_SCTP 132
#define FE_IPPROTO_UDPLITE 136

/* ICMP and ICMPv6 flows have no ports: their key carries sport 0 and
 * dport type << 8 | code.
 */
#define FE_PROTO_IS_ICMP(p) ((p) == FE_IPPROTO_ICMP || (p) == FE_IPPROTO_ICMPV6)
/* The protocols whose key carries transport ports. */
#define FE_PROTO_HAS_PORTS(p)                              \
	((p) == FE_IPPROTO_TCP || (p) == FE_IPPROTO_UDP || \
	 (p) == FE_IPPROTO_SCTP || (p) == FE_IPPROTO_UDPLITE)

/* The meter set's maps (agent/meter.c creates and pins them, the programs
 * of ebpf/meter.bpf.c count into them, agent/drain.c empties them):
 *
 * - fe_outer, an ARRAY_OF_MAPS of FE_NR_SLOTS slots: two generations, each
 *   a flows map in slot FE_SLOT_FLOWS(g) and an overflow map in slot
 *   FE_SLOT_OVERFLOW(g). The four inner maps are put in their slots when
 *   the set is created and stay there.
 * - fe_gen, an ARRAY of one __u32: bit 0 is the live generation. A program
 *   reads it once per packet and counts into that generation's maps only.
 *
 * Inner maps are shared (not per-CPU) BPF_MAP_TYPE_HASH fe_flow_key ->
 * fe_flow_val, preallocated: an insert cannot fail while the map has room
 * (no allocation in the packet path), and a drain frees nothing to the
 * allocator. The flows maps hold kernel_max_flows entries each, the
 * overflow maps min(kernel_max_flows, FE_OVF_MAX_ENTRIES): for a hash inner
 * map the kernel compares type, key and value size and flags, not
 * max_entries (6.18, measured; older kernels compared it for every type).
 *
 * The swap, one RCU grace period per tick (agent/drain.c):
 *  1. fe_gen[0] = g ^ 1, a plain array update (no wait): a program that
 *     reads fe_gen after it counts into generation g ^ 1.
 *  2. one map-in-map update of fe_outer (a slot of generation g rewritten
 *     with the map it already holds): the kernel returns from it only after
 *     synchronize_rcu().
 *  3. generation g's two maps are quiescent: drained with lookup-and-delete,
 *     they are empty again and become the spares of the next tick.
 * Why no packet is lost or counted twice: the programs are non-sleepable
 * (tc, XDP), so each runs inside an RCU read-side critical section, and
 * reads fe_gen and updates the maps in that one section. synchronize_rcu()
 * returns only after every section that began before it has ended, and
 * orders the store of step 1 before any section that begins after it. So
 * after step 2 no program holds, or can obtain, generation g's maps: a
 * program that read g before step 1 has finished its update, and every
 * later one reads g ^ 1. Draining after the wait sees every update made to
 * generation g, and no update can land behind the drain.
 * Deleting from a live map (flowctl dump --delete) is the one exception:
 * a preallocated element is reused at once, so a packet counted in that
 * instant may land in the flow that reuses it.
 */
#define FE_NR_GEN 2
#define FE_SLOT_FLOWS(g) (2 * (g))	  /* per-flow counters */
#define FE_SLOT_OVERFLOW(g) (2 * (g) + 1) /* per-link overflow entries */
#define FE_NR_SLOTS (2 * FE_NR_GEN)

#define FE_DEFAULT_MAX_FLOWS 65536
/* The range of max_entries user space gives the flow maps (flowexp.ini
 * kernel_max_flows, flowctl attach --max-flows).
 */
#define FE_MIN_MAX_FLOWS 16
#define FE_MAX_MAX_FLOWS (1u << 24)
/* Entries of an overflow map at most: its keys are (ifindex, in_ifindex,
 * dir), a few per pair of links.
 */
#define FE_OVF_MAX_ENTRIES 4096

/* fe_flow_key.flags (4 bits) */
#define FE_KEY_OVERFLOW \
	0x01		  /* overflow entry: only ifindex/dir/in_ifindex set */
#define FE_KEY_FRAG 0x02  /* non-first fragment: no ports */
#define FE_KEY_TRUNC 0x04 /* L4 header truncated/absent: no ports */

/* fe_flow_key.kind (4 bits): what an entry of a flows or overflow map is.
 * - FE_KIND_PKT: packets a meter counted (every field as described at
 *   struct fe_flow_key).
 * - FE_KIND_DROP: packets an egress meter counted that the stack then freed
 *   without transmitting them (a qdisc drop, or a drop by the device's
 *   transmit path), written by fe_kfree_skb: the key of the egress entry
 *   that counted them (an overflow key when they went to the overflow
 *   entry), the value their packets, octets and first/last_ns, the rest 0.
 * - FE_KIND_NAT: a connection the kernel translates (conntrack), noted by
 *   the egress meter when it creates an entry for one of its packets:
 *   family, proto, src, dst, sport and dport are the connection's original
 *   direction (its first packet as it entered the router; ICMP echo: sport
 *   the identifier, dport the request's type << 8 | code), every other
 *   field 0; the value is a struct fe_nat_val. One per connection and
 *   generation, whatever the number of its entries.
 */
#define FE_KIND_PKT 0
#define FE_KIND_DROP 1
#define FE_KIND_NAT 2

/* fe_flow_val.vflags */
#define FE_VAL_SYN 0x01 /* a TCP SYN without ACK was seen (initiator hint) */

/* Flow key. Addresses in network byte order; IPv4 in the first 4 bytes of
 * src/dst with the rest zero. Ports in host byte order. For ICMP/ICMPv6,
 * dport is type << 8 | code and sport the identifier of an echo request or
 * reply (8/0, 128/129; conntrack keys echoes by it too), else 0. vlan is
 * the outermost VLAN id (0: untagged), kind says what the entry counts
 * (FE_KIND_*). in_ifindex: at egress, the ifindex the packet entered the
 * host by (0: locally originated); at ingress, equal to ifindex.
 * dir, family and flags share one byte so that the key is 48 bytes, a
 * multiple of 8: the kernel rounds a hash key up to one, and every byte
 * is paid twice per kernel_max_flows entry (live and spare map). Zero the
 * whole key before filling it: it is hashed and compared as bytes.
 */
struct fe_flow_key {
	__u32 ifindex;
	__u32 in_ifindex;
	__u8 dir : 1;	 /* FE_DIR_* */
	__u8 family : 3; /* 4 or 6; 0 in an overflow entry */
	__u8 flags : 4;	 /* FE_KEY_* */
	__u8 proto;
	__u16 sport;
	__u16 dport;
	__u16 vlan : 12;
	__u16 kind : 4; /* FE_KIND_* */
	__u8 src[16];
	__u8 dst[16];
};

/* Flow counters, one shared value per entry (not per CPU), updated by the
 * programs of every CPU at once:
 * - packets, octets: __sync_fetch_and_add(), never lost;
 * - flags (tcp_flags and vflags, one 32-bit word): __sync_fetch_and_or(),
 *   done only when the packet brings a bit the entry lacks, so a busy
 *   flow's word is read, not written;
 * - first_ns, and ttl_min = ttl_max: of the packet that created the entry;
 * - ttl_min, ttl_max, last_ns (kept from moving back), tos and flow_label
 *   (of the last packet): plain stores. Two CPUs updating one flow at the
 *   same instant can lose a ttl_min/ttl_max widening or store a last_ns a
 *   few ns old; the counts stay exact.
 * octets are IP-level (IP header + payload, no L2), and a GSO skb counts
 * gso_segs packets with each segment's headers. Times are
 * bpf_ktime_get_ns() (CLOCK_MONOTONIC). User space reads a value as it is:
 * there is nothing to combine.
 * Sampling: a meter set loaded with a 1-in-N rate (fe_cfg_sampling of
 * meter.bpf.c, fixed for its programs' life) counts the selected packets
 * only, raw: packets and octets are not scaled by N. User space states N
 * next to them (the IPFIX sampling options record); N = 1 counts all.
 */
struct fe_flow_val {
	__u64 packets;
	__u64 octets;
	__u64 first_ns;
	__u64 last_ns;
	union {
		__u32 flags; /* the word the programs OR into */
		struct {
			__u16 tcp_flags; /* TCP flag bits seen (9: NS..FIN) */
			__u8 vflags;	 /* FE_VAL_* */
			__u8 flags_pad;
		};
	};
	__u8 tos; /* ToS/traffic class of the last packet */
	__u8 ttl_min;
	__u8 ttl_max;
	__u8 pad;
	__u32 flow_label; /* IPv6 flow label of the last packet */
	__u32 pad2;
};

/* The value of an FE_KIND_NAT entry (the size of struct fe_flow_val, in
 * the same maps): the original direction's tuple after translation, as its
 * packets leave the router (masquerade: the router's address and port;
 * DNAT: the inside server's), in the key's conventions. The reply
 * direction's packets carry it reversed before the router translates them
 * back. first_ns: when a meter noted it in this generation.
 */
struct fe_nat_val {
	__u8 src[16];
	__u8 dst[16];
	__u16 sport;
	__u16 dport;
	__u32 pad;
	__u64 first_ns;
};

/* Indexes of the meters' counters (cumulative, never reset by the
 * programs) in struct fe_stats. With sampling 1 in N every counter still
 * counts every packet the programs saw, selected or not, except overflow
 * and overflow_lost: they count selected packets, where those went when a
 * map was full. So packets, ipv4, ipv6 and octets are the wire's, and
 * ipv4 + ipv6 is about N times what the flow entries, overflow and
 * overflow_lost hold.
 */
enum fe_stat {
	FE_STAT_PACKETS = 0, /* every packet the programs saw */
	FE_STAT_NON_IP,	     /* frames that are not IPv4/IPv6: not flows */
	FE_STAT_MALFORMED,   /* IP packets with a bad/truncated header */
	FE_STAT_FRAGMENTS,   /* IP fragments (first and later) */
	FE_STAT_OVERFLOW,    /* packets accounted to an overflow entry */
	FE_STAT_OVF_LOST, /* overflow map itself full: counted nowhere else */
	FE_STAT_IPV4,
	FE_STAT_IPV6,
	FE_STAT_GSO, /* GSO skbs (each counted as gso_segs packets) */
	/* IP octets of the ipv4 + ipv6 packets, as fe_flow_val counts them:
	 * the octets of flow entries + overflow entries + of the packets in
	 * overflow_lost
	 */
	FE_STAT_OCTETS,
	/* FE_KIND_NAT entries written (a translated connection, once per
	 * generation), and those the flows map had no room for
	 */
	FE_STAT_NAT,
	FE_STAT_NAT_LOST,
	/* packets (and their octets) an egress meter counted and the stack
	 * freed untransmitted (FE_KIND_DROP entries), and such packets no
	 * map had room for (they stay counted as transmitted)
	 */
	FE_STAT_DROPPED,
	FE_STAT_DROPPED_OCTETS,
	FE_STAT_DROP_LOST,
	FE_STAT_MAX
};

/* The value of fe_stats, a per-CPU array of one element: one lookup per
 * packet for every counter. User space sums the CPUs.
 */
struct fe_stats {
	__u64 n[FE_STAT_MAX];
};

#define FE_STAT_NAMES                                                          \
	{                                                                      \
		"packets", "non_ip", "malformed", "fragments", "overflow",     \
			"overflow_lost", "ipv4", "ipv6", "gso_skbs", "octets", \
			"nat_records", "nat_lost", "dropped",                  \
			"dropped_octets", "dropped_lost"                       \
	}

/* Pin names under the pin directory (default /sys/fs/bpf/flowexp). */
#define FE_PIN_OUTER "fe_outer"
#define FE_PIN_GEN "fe_gen"
#define FE_PIN_STATS "fe_stats"
#define FE_PIN_FLOWS_A "fe_flows_a" /* generation 0 */
#define FE_PIN_FLOWS_B "fe_flows_b" /* generation 1 */
#define FE_PIN_OVF_A "fe_ovf_a"
#define FE_PIN_OVF_B "fe_ovf_b"
#define FE_PIN_PROG_TC_EGRESS "prog_tc_egress"
#define FE_PIN_PROG_TC_INGRESS "prog_tc_ingress"
#define FE_PIN_PROG_XDP "prog_xdp"
#define FE_PIN_PROG_DROP "prog_kfree_skb"
/* the tp_btf/kfree_skb link of fe_kfree_skb, held by its pin (global: one
 * per meter set, whatever the netns)
 */
#define FE_PIN_LINK_DROP "tp_kfree_skb"
/* The agent's state that outlives it (user space only: agent/persist.c),
 * a BPF_F_MMAPABLE array; not part of a set (removed with it).
 */
#define FE_PIN_STATE "fe_state"

#endif /* FLOWEXP_H */
