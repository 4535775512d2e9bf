/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* bench_maps.h - what bench_maps.bpf.c and bench_maps.c share: the value of
 * the shared-hash candidate, the extra stats the candidates count, and the
 * names of the candidate designs. Includes nothing (the includer provides
 * the __u32-style types); the keys are flowexp.h's.
 */
#ifndef BENCH_MAPS_H
#define BENCH_MAPS_H

/* Value of the shared (not per-CPU) hash candidates. Counters are added
 * with BPF atomics; flags are one 32-bit word because BPF atomics are
 * 32/64-bit only (tcp_flags in the low 16 bits, FE_VAL_* << 16). ttl_min,
 * ttl_max, tos, flow_label and last_ns are plain stores: last writer wins,
 * and two CPUs racing on one flow can lose a ttl_min/ttl_max update.
 */
struct bm_val {
	__u64 packets;
	__u64 octets;
	__u64 first_ns;
	__u64 last_ns;
	__u32 flags;
	__u32 flow_label;
	__u8 tos;
	__u8 ttl_min;
	__u8 ttl_max;
	__u8 pad;
	__u32 pad2;
};

/* bm_stats (per-CPU array, u64): FE_STAT_* first, then why an update of
 * the flows map failed (each counted once per failing packet).
 */
enum bm_stat {
	BM_STAT_ENOMEM = 16, /* element allocation failed */
	BM_STAT_E2BIG,	     /* map full */
	BM_STAT_EBUSY,	     /* bucket lock busy (reentrancy) */
	BM_STAT_EOTHER,
	BM_STAT_MAX
};

/* Slots of the candidates' outer maps: the two of the design measured
 * (one flows map, one overflow map, each swapped by its own map-in-map
 * update); the product has since moved to two generations in fe_outer
 * (flowexp.h).
 */
#define BM_SLOT_FLOWS 0
#define BM_SLOT_OVERFLOW 1
#define BM_NR_SLOTS 2

/* Candidate designs: value kind x allocation. Each has its own outer map
 * bm_outer_<name> (ARRAY_OF_MAPS, BM_NR_SLOTS slots) and two programs:
 * bm_meter_<name> (the meter, flows keyed by the packet) and bm_fill_<name>
 * (the same meter with the key's source address and port replaced by a
 * sequence number, so one BPF_PROG_TEST_RUN with repeat=N inserts N
 * distinct flows).
 */
#define BM_PCPU_NOPRE 0	  /* PERCPU_HASH, BPF_F_NO_PREALLOC (today) */
#define BM_PCPU_PRE 1	  /* PERCPU_HASH, preallocated */
#define BM_SHARED_NOPRE 2 /* HASH + atomics, BPF_F_NO_PREALLOC */
#define BM_SHARED_PRE 3	  /* HASH + atomics, preallocated */
#define BM_NR_DESIGNS 4

#endif /* BENCH_MAPS_H */
