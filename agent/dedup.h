/* dedup.h - the one rule for a packet seen at two meters, used by the flow
 * cache, the agent's overflow accounting and flowctl's kernel-map dump.
 *
 * A forwarded packet is seen at the ingress meter of the link it came in
 * by (X) and again at the egress meter of the link it leaves by (Y), whose
 * key records in_ifindex X. It counts once: the egress sighting counts (it
 * knows both interfaces) and takes the packet back from what X's ingress
 * meter counted. What X's ingress meter counted and no egress meter saw
 * (delivered locally, or leaving by a link without a meter) stays counted
 * at X.
 */
#ifndef FE_DEDUP_H
#define FE_DEDUP_H
#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "flowexp.h"

/* Whether a sighting at a meter in direction dir with in_ifindex was
 * already counted by the ingress meter of in_ifindex (in_metered: that
 * link has one).
 */
static inline bool fe_dedup_counted_at_ingress(uint8_t dir, uint32_t in_ifindex,
					       bool in_metered)
{
	return dir == FE_DIR_EGRESS && in_ifindex && in_metered;
}

#endif
