/* meter_int.h - what the meter files share (meter.c, hook.c, hook_tc.c,
 * hook_xdp.c, drain.c): struct meter and the calls down into the set's
 * internals and the hooks. Nothing outside these files includes it.
 *
 * The calls go one way: hook.c calls hook_tc.c, hook_xdp.c and
 * hook_drop.c, and those and drain.c call meter.c, which calls
 * meter_rodata.c; nothing calls back up.
 */
#ifndef FE_METER_INT_H
#define FE_METER_INT_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "meter.h"

#define DRAIN_BATCH METER_STAGE_CAP

struct meter {
	char pin[PATH_MAX];
	int outer_fd, gen_fd, stats_fd;
	int flows_fd[FE_NR_GEN], ovf_fd[FE_NR_GEN]; /* by generation: a, b */
	uint32_t flows_id[FE_NR_GEN], ovf_id[FE_NR_GEN];
	int prog_eg_fd, prog_in_fd, prog_xdp_fd;
	uint32_t prog_eg_id, prog_in_id, prog_xdp_id;
	int prog_drop_fd; /* fe_kfree_skb, -1 when the set has none */
	uint32_t prog_drop_id;
	unsigned int max_flows;
	unsigned int sampling;	   /* of the programs: 1-in-N, 0 = unknown */
	int ncpu;		   /* of fe_stats, the one per-CPU map */
	struct meter_stage *stage; /* meter__drain()'s, DRAIN_BATCH entries */
	int lock_fd; /* the pin directory, flock()ed by meter__lock() */
	/* false: opened with METER_F_ANY_LAYOUT and the maps are missing or
	 * of another layout; only the program ids (attach state) are usable
	 */
	bool maps_ok;
	bool swept; /* defunct link pins dropped once (by the first attach) */
};

/* meter.c: the set's internals */
/* The path of the pin name in the set's directory; -ENAMETOOLONG. */
int meter_pin_name(const struct meter *m, const char *name, char *buf,
		   size_t len);
/* The live generation (fe_gen): 0 or 1, or -errno (-EPROTO: the set's
 * maps are unusable, METER_F_ANY_LAYOUT).
 */
int meter_live_gen(struct meter *m);

/* meter_rodata.c: a const volatile var of the BPF object, as the
 * program prog_fd was loaded with, into val (len octets: the var's size).
 * -ENOENT when the program has no such var (a set of an older version),
 * -EPROTO when its size differs, else -errno.
 */
int meter_rodata_read(int prog_fd, const char *var, void *val, size_t len);

/* hook_tc.c: the tc meters (TCX, else clsact) */
int hook_tc_attach(struct meter *m, const char *ifname, int ifindex,
		   bool egress);
int hook_tc_detach(struct meter *m, int ifindex, bool egress);
/* "tcx" or "clsact" when our meter is on that hook of the device, or NULL */
const char *hook_tc_kind(struct meter *m, int ifindex, bool egress);
void hook_tc_sweep_links(const char *dir, bool mine);

/* hook_xdp.c: the XDP meter, alone or in libxdp's dispatcher */
int hook_xdp_attach(struct meter *m, const char *ifname, int ifindex, bool skb);
int hook_xdp_detach(struct meter *m, int ifindex);
/* The mode our XDP meter is attached in on the device ("native", "skb",
 * "hw", "dispatcher"), or NULL when it is not.
 */
const char *hook_xdp_mode(struct meter *m, int ifindex);

/* hook_drop.c: fe_kfree_skb's link (global, pinned) */
bool hook_drop_attached(const struct meter *m);
/* Attaches and pins it unless it is; 0 or -errno (-EOPNOTSUPP: the set
 * has no drop program).
 */
int hook_drop_attach(struct meter *m);

#endif
