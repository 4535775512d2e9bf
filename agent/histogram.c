/* histogram.c - observations into the fixed buckets of histogram.h. */
#include "histogram.h"

/* A drain waits for one RCU grace period (the generation flip, 8-30 ms
 * seen here on an idle map), then for one syscall per batch of entries.
 */
const uint64_t fe_hist_bounds_ns[FE_HIST_NBOUNDS] = {
	100000,	   250000,    500000,	  1000000,     2500000,
	5000000,   10000000,  25000000,	  50000000,    100000000,
	250000000, 500000000, 1000000000, 2500000000u, 5000000000u,
};

void fe_hist_observe(struct fe_hist *h, uint64_t ns)
{
	int i = 0;

	while (i < FE_HIST_NBOUNDS && ns > fe_hist_bounds_ns[i])
		i++;
	h->bucket[i]++;
	h->count++;
	h->sum_ns += ns;
}
