/* meter_stage.c - a drain's stage (meter.h, struct meter_stage): where
 * the entries a batch took out of the kernel wait until they are applied,
 * readable after the death of the process that filled it.
 */
#include <string.h>
#include "meter.h"

#define STAGE_SET(st, v) __atomic_store_n(&(st)->state, (v), __ATOMIC_RELEASE)

void meter_stage_init(struct meter_stage *st, uint32_t cap)
{
	memset(st, 0, METER_STAGE_SIZE(cap));
	st->cap = cap;
}

bool meter_stage_recover(struct meter_stage *st)
{
	const struct fe_flow_val *v = meter_stage_vals(st);
	uint32_t n = 0;

	if (st->state == METER_STAGE_TAKING) {
		/* the kernel wrote [0, count) over a zeroed stage: every entry
		 * it made holds a packet at least
		 */
		for (uint32_t i = 0; i < st->cap; i++)
			if (v[i].packets)
				n = i + 1;
		st->n = n;
		STAGE_SET(st, METER_STAGE_FULL);
	}
	if (st->state == METER_STAGE_FULL && st->n)
		return true;
	meter_stage_done(st);
	return false;
}

void meter_stage_done(struct meter_stage *st)
{
	/* a zeroed stage: after a death while taking, the entries with
	 * packets are the ones the kernel wrote
	 */
	memset(meter_stage_vals(st), 0,
	       (size_t)st->n * sizeof(struct fe_flow_val));
	st->n = 0;
	STAGE_SET(st, METER_STAGE_EMPTY);
}
