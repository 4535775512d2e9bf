/* backoff.h - exponential backoff for retries (a collector's connect, an
 * interface's attach, a name's resolution): the first retry after `min`
 * ms, doubling to `max` ms, on the caller's monotonic clock. Header-only.
 */
#ifndef FE_BACKOFF_H
#define FE_BACKOFF_H
#include <stdbool.h>
#include <stdint.h>

struct fe_backoff {
	uint64_t next_ms;  /* earliest next try; 0: try now */
	uint32_t delay_ms; /* of the last wait; 0: no failure yet */
};

/* Whether a try is due at now_ms. */
static inline bool fe_backoff_due(const struct fe_backoff *b, uint64_t now_ms)
{
	return now_ms >= b->next_ms;
}

/* A try failed at now_ms: the next is due after min, 2*min, ... max ms.
 * Returns the wait.
 */
static inline uint32_t fe_backoff_fail(struct fe_backoff *b, uint64_t now_ms,
				       uint32_t min, uint32_t max)
{
	uint64_t d = b->delay_ms ? (uint64_t)b->delay_ms * 2 : min;

	b->delay_ms = (uint32_t)(d > max ? max : d);
	b->next_ms = now_ms + b->delay_ms;
	return b->delay_ms;
}

static inline void fe_backoff_reset(struct fe_backoff *b)
{
	b->next_ms = 0;
	b->delay_ms = 0;
}

#endif
