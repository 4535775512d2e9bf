/* core.h - flowagent's core: one running agent (its meter set, flow cache,
 * interfaces and collectors) and what is done to it: drain the meters into
 * the cache, the poll tick, flush, reload, stop. The poll loop
 * (flowagent.c) and the control socket (control.c) both call down into it;
 * it calls neither.
 */
#ifndef FE_CORE_H
#define FE_CORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "exporter.h"
#include "flowcache.h"
#include "histogram.h"
#include "ifaces.h"
#include "exptrack.h"
#include "meter.h"
#include "persist.h"

struct agent {
	struct fe_config cfg;
	const char *cfg_path;
	struct meter *m;
	struct flowcache *fc;
	struct exporter *exp[FE_MAX_COLLECTORS];
	int nexp;
	struct ifaces ifs;
	int host_ns, meter_ns; /* netns fds (-1: no netns configured) */
	/* the tick's clocks: CLOCK_MONOTONIC ms, the cache's (expiry), and
	 * UNIX s, the export time
	 */
	uint64_t now_ms;
	uint32_t now_s;
	/* the state that outlives the agent (NULL: state = memory), the
	 * drain's stage (in it, or in memory), how far each collector got
	 * in the cache's export log; recover: adopted, the first drain
	 * finishes what the dead agent left (core_state.c)
	 */
	struct persist *ps;
	struct meter_stage *stage;
	struct exptrack *track;
	bool recover;
	/* counters */
	uint64_t ticks, drained, drain_errors, early_drains;
	uint64_t drain_store_failed; /* drained entries the cache lost */
	/* after a restart: conversations sent again from the log, collectors
	 * the dead agent was handing records to (a message may come twice),
	 * kernel entries it had drained and the restart applied
	 */
	uint64_t restart_replayed, restart_uncertain, restart_staged;
	uint64_t tick_late_max_ms; /* the poll loop's: a tick after its time */
	uint64_t last_overflow;
	uint64_t overflow_dup; /* egress overflow packets the ingress counted */
	/* each tick's drain (metrics.c): its time, and its entries (the
	 * maps' fill when they were swapped out)
	 */
	struct fe_hist drain_time;
	uint64_t tick_entries;
};

/* Switches to the configured netns, opens (creating when needed) and
 * locks the meter set, opens the collectors and makes the flow cache;
 * takes a copy of cfg, with the sampling rate of the set in use. Interfaces are attached by agent__sync_ifaces(). Returns 0
 * or -errno with the reason logged; agent__close() undoes what was done.
 */
int agent__start(struct agent *a, const struct fe_config *cfg,
		 const char *cfg_path);
void agent__close(struct agent *a);
/* Attaches the configured interfaces that are not (yet, or any more)
 * metered; notices the ones that went away.
 */
void agent__sync_ifaces(struct agent *a);
/* Drains the kernel maps into the cache. Returns entries or -errno. */
int agent__drain(struct agent *a);
/* One poll: interfaces, drain, expiry, exporters. Returns the ms until the
 * next one (shorter while the flow map overflows).
 */
unsigned int agent__tick(struct agent *a);
/* Drains, then exports (forced end) and removes the conversations match
 * selects (NULL: all) and sends them. Returns how many it removed.
 */
size_t agent__flush(struct agent *a,
		    bool (*match)(void *mctx, const struct fe_conv *c),
		    void *mctx);
/* Re-reads the configuration file; keeps the running one on any error. */
void agent__reload(struct agent *a);
/* Shutdown: everything counted so far goes out as forced end. */
void agent__stop(struct agent *a);
/* The poll loop found collector e's socket ready (revents; 0: try it
 * anyway): e sends on, and with a pinned state the export log learns
 * what e has sent, so that a restart does not send it again.
 */
void agent__on_writable(struct agent *a, struct exporter *e, short revents);

#endif
