/* flowtypes.h - the data that flows between the agent's modules: an
 * observation drained from the kernel (fe_obs, map drain -> flow cache) and
 * a flow record ready to encode (fe_record, records -> encoder). Pure data;
 * no BPF, no sockets.
 */
#ifndef FE_FLOWTYPES_H
#define FE_FLOWTYPES_H
#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "flowexp.h"

/* One kernel flow entry with its per-CPU values combined and its times
 * converted to UNIX milliseconds.
 */
struct fe_obs {
	struct fe_flow_key key;
	uint64_t packets;
	uint64_t octets;
	uint64_t first_ms;
	uint64_t last_ms;
	uint16_t tcp_flags;
	uint8_t tos;
	uint8_t ttl_min;
	uint8_t ttl_max;
	uint8_t vflags; /* FE_VAL_* */
	uint32_t flow_label;
};

/* One direction of a record. Counters are deltas since the flow's last
 * export; start_ms is the true start of this direction of the flow.
 */
struct fe_rec_dir {
	uint64_t packets;
	uint64_t octets;
	uint64_t start_ms;
	uint64_t end_ms;
	uint32_t in_if;	 /* ingressInterface */
	uint32_t out_if; /* egressInterface (0: unknown/local) */
	uint16_t tcp_flags;
	uint16_t icmp_type_code; /* type << 8 | code, ICMP only */
	uint8_t flow_dir;	 /* flowDirection: FE_DIR_INGRESS/EGRESS */
	uint8_t tos;
	uint8_t ttl_min;
	uint8_t ttl_max;
	uint32_t flow_label;
	/* droppedPacketDeltaCount, droppedOctetDeltaCount: counted by the
	 * egress meter of out_if, then dropped (a qdisc): not in packets
	 */
	uint64_t dropped_packets;
	uint64_t dropped_octets;
};

/* A flow record. Addresses network order (IPv4 in the first 4 bytes),
 * ports host order. For a biflow (has_rev) the addresses and ports are the
 * initiator's: src is the initiator, fwd is initiator->responder and rev
 * responder->initiator. For a uniflow, src/dst/ports are those of fwd's
 * packets and rev is unused. A translated conversation's tuple is the one
 * its initiator's side of the NAT carries (the original), nat_* the other.
 */
struct fe_record {
	uint8_t family; /* 4 or 6 */
	uint8_t proto;
	uint8_t end_reason; /* flowEndReason: 1 idle .. 5 lack of resources */
	uint8_t biflow_dir; /* biflowDirection: 0 arbitrary, 1 initiator */
	uint16_t sport;
	uint16_t dport;
	uint16_t vlan;
	bool has_rev;
	uint8_t src[16];
	uint8_t dst[16];
	/* postNATSource/DestinationIPv4|6Address, postNAPTSource/
	 * DestinationTransportPort: src, dst and the ports as the router's
	 * NAT turns them (the same when it does not: nat false)
	 */
	bool nat;
	uint8_t nat_src[16];
	uint8_t nat_dst[16];
	uint16_t nat_sport;
	uint16_t nat_dport;
	struct fe_rec_dir fwd;
	struct fe_rec_dir rev;
};

#endif
