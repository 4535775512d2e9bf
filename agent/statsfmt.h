/* statsfmt.h - prints flowexp's counters: `name value` lines under text
 * headings, or one flat JSON object. The one printer behind `flowctl
 * stats`, whether flowagent answers (agent/control.c) or flowctl reads the
 * pinned maps itself (ctl/dump.c).
 */
#ifndef FE_STATSFMT_H
#define FE_STATSFMT_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include "flowexp.h"

struct statsfmt {
	FILE *out;
	bool json;
	int items; /* of the open JSON list */
};

struct stats_counter {
	const char *name;
	uint64_t value;
};

/* JSON: opens the object with "agent": true or false. */
void statsfmt_begin(struct statsfmt *s, FILE *out, bool json, bool agent);
/* Text only: a line starting a group of counters ("meter (PIN)"). */
void statsfmt_heading(struct statsfmt *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The meters' sampling rate (N of 1 in N, 1: every packet, 0: unknown;
 * key "sampling"), their counters (JSON keys "meter_NAME") and the map
 * fill.
 */
void statsfmt_meter(struct statsfmt *s, const __u64 st[FE_STAT_MAX],
		    unsigned int map_flows, unsigned int map_overflow,
		    unsigned int sampling);
void statsfmt_counters(struct statsfmt *s, const struct stats_counter *c,
		       int n);
/* JSON: "name":[ ... ]; before each element the caller prints (as its own
 * text or object) comes statsfmt_list_item(). Nothing in text.
 */
void statsfmt_list_begin(struct statsfmt *s, const char *name);
void statsfmt_list_item(struct statsfmt *s);
void statsfmt_list_end(struct statsfmt *s);
/* JSON: closes the object and the line. */
void statsfmt_end(struct statsfmt *s);

#endif
