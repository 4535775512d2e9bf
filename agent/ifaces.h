/* ifaces.h - the agent's configured interfaces and their meters: attaches
 * the ones that appear, notices the ones that go, and tells the flow cache
 * which links have an ingress meter (as the kernel says, so meters flowctl
 * attached to the same set count too).
 */
#ifndef FE_IFACES_H
#define FE_IFACES_H
#include <stdbool.h>
#include <stdint.h>
#include "backoff.h"
#include "config.h"
#include "flowcache.h"
#include "meter.h"

struct iface_state {
	int ifindex;  /* 0: not attached (missing or failed) */
	bool ingress; /* an ingress meter is attached */
	bool warned;  /* the problem was logged already */
	/* failed attaches are retried 1 s, 2 s, ... 60 s apart: a native XDP
	 * attach that keeps failing must not cost libxdp a load every tick
	 */
	struct fe_backoff retry;
};

/* ifs[i] is cfg->ifaces[i]; ing_if lists the ifindexes the cache was told
 * have an ingress meter.
 */
struct ifaces {
	struct iface_state ifs[FE_MAX_IFACES];
	int ing_if[FE_MAX_IFACES * 4];
	int n_ing_if;
};

/* Attaches what cfg names and is not metered (a failed attach is retried
 * with backoff on now_ms, the monotonic clock); detaches a configured
 * device that was renamed, and drops the hooks and pins of one that went
 * away. Returns whether anything changed (the ingress set is then
 * refreshed already).
 */
bool ifaces__sync(struct ifaces *s, struct meter *m, struct flowcache *fc,
		  const struct fe_config *cfg, uint64_t now_ms);
/* Reads which links have an ingress meter of this set, and which have a
 * master (IFLA_MASTER), from the kernel and tells the cache.
 */
void ifaces__refresh_ingress(struct ifaces *s, struct meter *m,
			     struct flowcache *fc);
/* A new configuration: detaches the interfaces it no longer names, takes
 * the ingress meters off when the XDP mode changed (the next sync puts them
 * back in the new mode; ingress is not metered in between) and forgets the
 * state of the rest (the next sync re-checks them).
 */
void ifaces__reconfigure(struct ifaces *s, struct meter *m,
			 const struct fe_config *old,
			 const struct fe_config *cfg);

#endif
