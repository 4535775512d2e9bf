/* histogram.h - a fixed-bucket histogram of durations (the drain time per
 * tick): cumulative counters only, so a scraper can rate and aggregate it
 * (the Prometheus histogram type), and an observation costs a few
 * comparisons, with nothing to allocate or lock.
 */
#ifndef FE_HISTOGRAM_H
#define FE_HISTOGRAM_H
#include <stdint.h>

/* Buckets: FE_HIST_NBOUNDS upper bounds (fe_hist_bounds_ns, 100 us to
 * 5 s), then +Inf for the rest.
 */
#define FE_HIST_NBOUNDS 15

/* bucket[i]: observations <= bound i (not cumulative: the formatter adds
 * them up); bucket[FE_HIST_NBOUNDS]: the ones above the last bound.
 */
struct fe_hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t bucket[FE_HIST_NBOUNDS + 1];
};

extern const uint64_t fe_hist_bounds_ns[FE_HIST_NBOUNDS];

void fe_hist_observe(struct fe_hist *h, uint64_t ns);

#endif
