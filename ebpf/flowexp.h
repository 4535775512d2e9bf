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

/* Slots of the outer map fe_outer (ARRAY_OF_MAPS). Both slots hold inner
 * maps of the same shape (PERCPU_HASH fe_flow_key -> fe_flow_val). The agent
 * swaps a fresh inner map into each slot; the kernel waits for running
 * programs on every map-in-map update, so the map swapped out is quiescent
 * and can be drained with no race.
 */
#define FE_SLOT_FLOWS 0	   /* per-flow counters */
#define FE_SLOT_OVERFLOW 1 /* per-interface overflow entries (flows map full) */
#define FE_NR_SLOTS 2

/* Inner maps are BPF_F_NO_PREALLOC (memory follows the live flows) and all
 * four (flows a/b, overflow a/b) share max_entries, as map-in-map requires.
 */
#define FE_DEFAULT_MAX_FLOWS 65536
/* The range of max_entries user space gives the flow maps (flowexp.ini
 * kernel_max_flows, flowctl attach --max-flows).
 */
#define FE_MIN_MAX_FLOWS 16
#define FE_MAX_MAX_FLOWS (1u << 24)

/* fe_flow_key.flags */
#define FE_KEY_OVERFLOW \
	0x01		  /* overflow entry: only ifindex/dir/in_ifindex set */
#define FE_KEY_FRAG 0x02  /* non-first fragment: no ports */
#define FE_KEY_TRUNC 0x04 /* L4 header truncated/absent: no ports */

/* fe_flow_val.vflags */
#define FE_VAL_SYN 0x01 /* a TCP SYN without ACK was seen (initiator hint) */

/* Flow key. Addresses in network byte order; IPv4 in the first 4 bytes of
 * src/dst with the rest zero. Ports in host byte order. For ICMP/ICMPv6,
 * sport is 0 and dport is type << 8 | code. vlan is the outermost VLAN id
 * (0: untagged). in_ifindex: at egress, the ifindex the packet entered the
 * host by (0: locally originated); at ingress, equal to ifindex.
 */
struct fe_flow_key {
	__u32 ifindex;
	__u32 in_ifindex;
	__u8 dir;
	__u8 family; /* 4 or 6 */
	__u8 proto;
	__u8 flags;
	__u16 sport;
	__u16 dport;
	__u16 vlan;
	__u16 pad; /* always 0 */
	__u8 src[16];
	__u8 dst[16];
};

/* Per-CPU flow counters; user space sums packets/octets, ORs flags, takes
 * the min of first_ns and ttl_min and the max of last_ns and ttl_max.
 * octets are IP-level (IP header + payload, no L2), and a GSO skb counts
 * gso_segs packets with each segment's headers. Times are
 * bpf_ktime_get_ns() (CLOCK_MONOTONIC). An entry whose packets is 0 on a CPU
 * carries no data for that CPU.
 */
struct fe_flow_val {
	__u64 packets;
	__u64 octets;
	__u64 first_ns;
	__u64 last_ns;
	__u16 tcp_flags; /* OR of the TCP flag bits (9 bits: NS..FIN) */
	__u8 tos;	 /* ToS/traffic class of the last packet */
	__u8 ttl_min;
	__u8 ttl_max;
	__u8 vflags; /* FE_VAL_* */
	__u16 pad;
	__u32 flow_label; /* IPv6 flow label of the last packet */
	__u32 pad2;
};

/* Indexes of the per-CPU stats array fe_stats (u64 each, cumulative,
 * never reset by the programs).
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
	FE_STAT_MAX
};

#define FE_STAT_NAMES                                                      \
	{                                                                  \
		"packets", "non_ip", "malformed", "fragments", "overflow", \
			"overflow_lost", "ipv4", "ipv6", "gso_skbs"        \
	}

/* Pin names under the pin directory (default /sys/fs/bpf/flowexp). */
#define FE_PIN_OUTER "fe_outer"
#define FE_PIN_STATS "fe_stats"
#define FE_PIN_FLOWS_A "fe_flows_a"
#define FE_PIN_FLOWS_B "fe_flows_b"
#define FE_PIN_OVF_A "fe_ovf_a"
#define FE_PIN_OVF_B "fe_ovf_b"
#define FE_PIN_PROG_TC_EGRESS "prog_tc_egress"
#define FE_PIN_PROG_TC_INGRESS "prog_tc_ingress"
#define FE_PIN_PROG_XDP "prog_xdp"

#endif /* FLOWEXP_H */
