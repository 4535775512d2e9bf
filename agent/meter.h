/* meter.h - the pinned meter set: load/pin/reuse the BPF meters (meter.c,
 * the only file that knows the skeleton), attach and detach them (hook.c,
 * hook_tc.c, hook_xdp.c), swap and drain their flow maps (drain.c).
 */
#ifndef FE_METER_H
#define FE_METER_H
#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "flowexp.h"

#define FE_DEFAULT_PIN_PATH "/sys/fs/bpf/flowexp"

/* Kernel memory of one entry of a flows map, allocated when the set is
 * created whether used or not (preallocated; measured on 6.18 with make
 * bench-drain, docs/scale.md): the element, 48 B of kernel header + the
 * 48 B key + the 48 B value, and 16 B of hash bucket at a power-of-two
 * max_entries. A set holds two flows maps (live and spare): twice this per
 * kernel_max_flows entry, at any CPU count.
 */
#define METER_MAP_BYTES_PER_ENTRY 160

/* How a device's ingress is metered: the `ingress =` key of flowexp.ini
 * (off, xdp, tc) and `flowctl attach --mode`. KEEP (flowctl only): attach
 * the egress meter and leave the ingress meter (of either kind, or none)
 * as it is; OFF removes it.
 */
enum fe_ingress {
	FE_INGRESS_OFF,
	FE_INGRESS_XDP,
	FE_INGRESS_TC,
	FE_INGRESS_KEEP,
};

struct meter;

/* Opens the meter set pinned at pin_path. When nothing is pinned there and
 * METER_F_CREATE is set, loads the programs and pins programs and maps (mounting
 * bpffs on /sys/fs/bpf first when needed); max_flows sizes the flow maps.
 * Concurrent creators are serialised by a flock() of the pin directory,
 * released before this returns: one loads the set, the others reuse it.
 * Returns NULL with errno set (ENOENT: nothing pinned and no METER_F_CREATE;
 * EPROTO: a set of an incompatible flowexp version).
 * METER_F_PRECISE_TS applies only to a set created by this call.
 * METER_F_ANY_LAYOUT opens a set whatever its map layout, and with maps
 * missing, for detach and status: the program ids find its hooks; drain,
 * read, delete, count and stats then fail with EPROTO, attach too, and
 * meter__max_flows() is 0.
 */
#define METER_F_CREATE 0x1     /* load and pin when nothing is pinned */
#define METER_F_PRECISE_TS 0x2 /* new set: bpf_ktime_get_ns(), not coarse */
#define METER_F_ANY_LAYOUT 0x4 /* programs only: for detach and status */
struct meter *meter__open(const char *pin_path, unsigned int max_flows,
			  unsigned int flags);
/* meter__open() that gives a set it creates a 1-in-N packet sampling rate
 * too (flowexp.ini sampling; 0 and 1: every packet). The rate is fixed in
 * the programs when they are loaded: a reused set keeps its own, which
 * meter__sampling() reads back from them.
 */
struct meter_opts {
	unsigned int max_flows;
	unsigned int flags; /* METER_F_* */
	unsigned int sampling;
};
#define METER_MAX_SAMPLING (1u << 24)
struct meter *meter__open_opts(const char *pin_path,
			       const struct meter_opts *o);
void meter__close(struct meter *m);
unsigned int meter__max_flows(const struct meter *m);
/* The sampling rate of the set's programs: N of 1-in-N, 1 for every packet
 * (and for a set older than sampling), 0 when it cannot be read.
 */
unsigned int meter__sampling(const struct meter *m);
/* Takes an exclusive non-blocking flock() of the pin directory for the
 * meter's life (released by meter__close()), so that one process alone
 * drains a set. Returns 0 or -errno: -EWOULDBLOCK when another process
 * (or another struct meter) holds it.
 */
int meter__lock(struct meter *m);

/* Attaches the egress meter (TCX, else clsact) and the ingress meter ing
 * asks for to the device in the current network namespace, removing an
 * ingress meter of the other kind (NONE: removes both; KEEP: touches
 * neither). Attaching what is already attached is a no-op. xdp_skb
 * selects generic XDP. Fails with EPFNOSUPPORT on a device that is not
 * Ethernet (or loopback): the parser expects an Ethernet header.
 */
int meter__attach(struct meter *m, const char *ifname, enum fe_ingress ing,
		  bool xdp_skb);
/* Removes every hook of this meter set from the device (by name or, when
 * the device is gone, by ifindex). Missing hooks are not an error.
 */
int meter__detach(struct meter *m, const char *ifname, int ifindex);

struct meter_attachment {
	int ifindex;
	char ifname[16];
	bool egress;	      /* tc egress meter present */
	bool ingress_tc;      /* tc ingress meter present */
	bool ingress_xdp;     /* XDP meter present */
	const char *tc_kind;  /* "tcx" or "clsact" */
	const char *xdp_mode; /* "native", "skb", ... */
};
/* Lists this meter set's hooks on the devices of the current netns; returns
 * how many were written to out (at most max) or -errno.
 */
int meter__attachments(struct meter *m, struct meter_attachment *out, int max);
/* Detaches from every device of the current netns (and drops stale pins:
 * the links of devices gone, and defunct links of any netns).
 */
int meter__detach_all(struct meter *m);
/* The part of meter__detach_all() that needs no meter set: detaches and
 * unpins the TCX links pinned under pin_path for the current netns, and
 * unpins defunct ones (for a directory whose set is gone or broken).
 */
int meter__detach_links(const char *pin_path);
/* Unpins the TCX links whose device is gone, in any netns (each pin holds
 * a link; a deleted device's is never reached by name again).
 */
void meter__sweep_defunct(struct meter *m);

/* The agent's state that outlives it: the pinned BPF_F_MMAPABLE array
 * FE_PIN_STATE of the set's directory (its layout is persist.c's). Opens
 * it, or when there is none and want > 0 creates and pins one of at
 * least want octets. Returns its fd with its size in *size (mmap() it
 * whole), or -errno: -ENOENT (none, want 0), -EPROTO (not a state map).
 */
int meter__state_open(struct meter *m, size_t want, size_t *size);
/* Unpins the state of the set at pin_path (its memory goes with the last
 * fd or mapping). 1 (removed), 0 (there was none) or -errno.
 */
int meter__state_remove(const char *pin_path);

struct meter_ids {
	uint32_t prog_tc_egress, prog_tc_ingress, prog_xdp;
	uint32_t outer, stats, flows_cur, ovf_cur;
};
void meter__ids(struct meter *m, struct meter_ids *ids);

/* Called once per kernel entry with its value (one shared value per entry:
 * nothing to combine; the field rules are above struct fe_flow_val).
 * Returning nonzero stops (meter__read()).
 */
typedef int (*meter_entry_fn)(void *ctx, const struct fe_flow_key *k,
			      const struct fe_flow_val *v);

/* Where a drain puts the entries it takes out of the kernel until its
 * caller has applied them: this header, then keys[cap], then vals[cap].
 * It may live in memory that outlives the process (agent/persist.c): a
 * process that dies at any instant leaves it saying which entries the
 * kernel handed over (meter_stage_recover()). No pointer inside.
 *   EMPTY   nothing held
 *   TAKING  a kernel call into the stage (batch seq) is under way; the
 *           vals were zeroed before it, so the entries it wrote are the
 *           ones with packets
 *   FULL    n entries of batch seq held, being applied
 */
#define METER_STAGE_EMPTY 0
#define METER_STAGE_TAKING 1
#define METER_STAGE_FULL 2
/* Entries per lookup-and-delete batch, the size of a stage to give a
 * drain (2 x 192 KiB): any size from 256 up drains as fast
 * (docs/scale.md).
 */
#define METER_STAGE_CAP 4096
struct meter_stage {
	uint32_t state;
	uint32_t n;
	uint32_t cap;
	uint32_t pad;
	uint64_t seq; /* batches taken so far: the held one's number */
	int64_t note; /* the caller's, about what the stage holds */
	uint64_t spare[4];
};
#define METER_STAGE_SIZE(cap)         \
	(sizeof(struct meter_stage) + \
	 (size_t)(cap) *              \
		 (sizeof(struct fe_flow_key) + sizeof(struct fe_flow_val)))

static inline struct fe_flow_key *meter_stage_keys(struct meter_stage *st)
{
	return (struct fe_flow_key *)(st + 1);
}

static inline struct fe_flow_val *meter_stage_vals(struct meter_stage *st)
{
	return (struct fe_flow_val *)(meter_stage_keys(st) + st->cap);
}

/* An empty stage of cap entries over METER_STAGE_SIZE(cap) octets. */
void meter_stage_init(struct meter_stage *st, uint32_t cap);
/* After a restart: what a dead process's stage holds. A call into the
 * kernel it did not see return becomes FULL with the entries the kernel
 * wrote. Returns whether the stage holds entries (FULL) to apply; then
 * meter_stage_done() once they are.
 */
bool meter_stage_recover(struct meter_stage *st);
/* The held entries are applied: the stage is empty (and zeroed). */
void meter_stage_done(struct meter_stage *st);

/* Called with the stage FULL: apply st's n entries (the caller knows from
 * its own record how many of batch st->seq it applied before a restart).
 */
typedef void (*meter_batch_fn)(void *ctx, struct meter_stage *st);

/* Flips the live generation and waits one RCU grace period for running
 * programs (flowexp.h: the swap), then drains the generation that was live
 * (lookup-and-delete) into st, batch by batch, calling fn with each: every
 * packet is delivered exactly once. An error in a batch still delivers the
 * entries the kernel handed over, and the other map is drained; what the
 * error left in the maps comes out of a later drain. Returns entries
 * drained or the first -errno.
 */
int meter__drain_staged(struct meter *m, struct meter_stage *st,
			meter_batch_fn fn, void *ctx);
/* meter__drain_staged() into the meter's own stage, fn per entry. */
int meter__drain(struct meter *m, meter_entry_fn fn, void *ctx);
/* Reads the live maps without taking anything out. */
int meter__read(struct meter *m, meter_entry_fn fn, void *ctx);
/* Deletes the live entries for which match returns true (NULL: all). */
int meter__delete(struct meter *m,
		  bool (*match)(void *ctx, const struct fe_flow_key *k),
		  void *ctx);
/* Entries in the live flow map (for the fill level). */
int meter__count(struct meter *m, unsigned int *flows, unsigned int *ovf);

int meter__stats(struct meter *m, __u64 out[FE_STAT_MAX]);

#endif
