/* metrics_text.h - the agent's counters in the Prometheus text exposition
 * format (version 0.0.4): one family per series name with its HELP and
 * TYPE lines, counters ending in _total, label values escaped. Pure: it
 * formats a snapshot the caller took (metrics.c), so the unit test checks
 * it with promtool without an agent.
 */
#ifndef FE_METRICS_TEXT_H
#define FE_METRICS_TEXT_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include "config.h"
#include "exporter.h"
#include "flowcache.h"
#include "flowexp.h"
#include "histogram.h"

/* Everything one scrape shows, read at one instant of the agent's loop. */
struct metrics_snapshot {
	const char *pin_path, *netns; /* netns "" = none */
	bool meter_ok;		      /* meter[] could be read */
	__u64 meter[FE_STAT_MAX];
	uint64_t map_entries; /* drained by the last tick */
	unsigned int map_capacity;
	unsigned int sampling; /* the meters' 1-in-N rate (0: unknown) */
	struct flowcache_stats cache;
	uint64_t cache_capacity;
	uint64_t ticks, drained, drain_errors, early_drains, overflow_dup;
	uint64_t drain_store_failed, restart_replayed, restart_uncertain,
		restart_staged;
	struct fe_hist drain_time;
	struct exporter_stats coll[FE_MAX_COLLECTORS];
	int ncoll;
};

/* The Content-Type of what metrics_text_write() writes. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Writes the exposition of s. Returns 0 or -EIO. */
int metrics_text_write(FILE *f, const struct metrics_snapshot *s);
/* Writes v as a label value: \ " and newline escaped (exposed for tests). */
void metrics_text_label(FILE *f, const char *v);

#endif
