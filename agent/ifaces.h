/* ifaces.h - the agent's configured interfaces and their meters: attaches
 * the ones that appear, notices the ones that go, and tells the flow cache
 * which links have an ingress meter (as the kernel says, so meters flowctl
 * attached to the same set count too).
 */
#ifndef FE_IFACES_H
#define FE_IFACES_H
#include <stdbool.h>
#include "config.h"
#include "flowcache.h"
#include "meter.h"

struct iface_state {
	int ifindex;  /* 0: not attached (missing or failed) */
	bool ingress; /* an ingress meter is attached */
	bool warned;  /* the problem was logged already */
};

/* ifs[i] is cfg->ifaces[i]; ing_if lists the ifindexes the cache was told
 * have an ingress meter.
 */
struct ifaces {
	struct iface_state ifs[FE_MAX_IFACES];
	int ing_if[FE_MAX_IFACES * 4];
	int n_ing_if;
};

/* Attaches what cfg names and is not metered; returns whether anything was
 * attached (the ingress set is then refreshed already).
 */
bool ifaces__sync(struct ifaces *s, struct meter *m, struct flowcache *fc,
		  const struct fe_config *cfg);
/* Reads which links have an ingress meter of this set from the kernel and
 * tells the cache.
 */
void ifaces__refresh_ingress(struct ifaces *s, struct meter *m,
			     struct flowcache *fc);
/* A new configuration: detaches the interfaces it no longer names and
 * forgets the state of the rest (the next sync re-checks them).
 */
void ifaces__reconfigure(struct ifaces *s, struct meter *m,
			 const struct fe_config *old,
			 const struct fe_config *cfg);

#endif
