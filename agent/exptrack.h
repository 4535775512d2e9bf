/* exptrack.h - how far each collector got with the flow cache's export
 * log (a cache that outlives the process): for every export handed to a
 * collector, the log position after it and how many records the
 * collector had been handed after it; the collector's count of records
 * sent or dropped (records + not_sent) then says which exports it is done
 * with, so that the log keeps only what a restart must send again. Pure
 * logic: the caller reads the counts from the exporters.
 */
#ifndef FE_EXPTRACK_H
#define FE_EXPTRACK_H
#include <stddef.h>
#include <stdint.h>
#include "config.h"

#define EXPTRACK_MAX FE_MAX_COLLECTORS

struct exptrack;

/* Up to cap exports pending per collector (the log's entries at most;
 * 16 octets each, allocated when a collector is first handed one). NULL
 * + errno.
 */
struct exptrack *exptrack__new(size_t cap);
void exptrack__free(struct exptrack *t);
/* Collector i is new (or took another's place): nothing pending. */
void exptrack__reset(struct exptrack *t, int i);
/* Collector i was handed the export that ends at log position end, and
 * had been handed `handed` records in all after it. Returns a position
 * collector i is done with when the ring was full (the oldest given up)
 * or could not be allocated (this one), else 0.
 */
uint64_t exptrack__handed(struct exptrack *t, int i, uint64_t end,
			  uint64_t handed);
/* Collector i has sent or dropped `resolved` records in all: returns the
 * log position it is done with (0: no change).
 */
uint64_t exptrack__resolved(struct exptrack *t, int i, uint64_t resolved);
/* Collector i holds nothing (its queue is empty): done with everything
 * handed; the counts may disagree (records an output lost uncounted), so
 * their difference is taken as resolved from now on.
 */
void exptrack__idle(struct exptrack *t, int i, uint64_t handed,
		    uint64_t resolved);
/* Exports handed to collector i and not yet done with. */
size_t exptrack__pending(const struct exptrack *t, int i);

#endif
