/* dumpfmt.h - rows of `flowctl dump`, shared by flowctl (rows from the
 * kernel maps: dumprows.c) and flowagent (rows from its cache, sent over
 * the control socket: control.c), and their table/JSON rendering
 * (dumpfmt.c).
 */
#ifndef FE_DUMPFMT_H
#define FE_DUMPFMT_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include "flowexp.h"

#define DUMP_DIR_ALL 2 /* summary row: summed over interfaces and directions */

struct dump_row {
	uint32_t ifindex;    /* observation interface (0 in summary rows) */
	uint32_t in_ifindex; /* ingress interface (0: local / summary) */
	uint8_t dir;	     /* FE_DIR_INGRESS, FE_DIR_EGRESS, DUMP_DIR_ALL */
	uint8_t family, proto, flags;
	uint16_t sport, dport, vlan;
	uint16_t tcp_flags;
	uint8_t src[16], dst[16];
	uint64_t packets, bytes;
	uint64_t first_ns, last_ns; /* UNIX time, ns */
};

/* dumprows.c */
void dump_row_from_key(struct dump_row *r, const struct fe_flow_key *k,
		       const struct fe_flow_val *v, int64_t mono_to_unix_ns);
/* Merges by-interface rows into one row per flow direction (5-tuple and
 * VLAN), counting a forwarded packet seen at an ingress and an egress meter
 * once. Returns the new row count.
 */
size_t dump_summarize(struct dump_row *rows, size_t n);
/* Sorts by bytes, descending (stable on the key otherwise). */
void dump_sort(struct dump_row *rows, size_t n);
/* dumpfmt.c */
void dump_print(FILE *out, const struct dump_row *rows, size_t n,
		bool by_ifindex, bool json);

#endif
