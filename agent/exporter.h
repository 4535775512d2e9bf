/* exporter.h - one collector: its transport (UDP or TCP), IPFIX writer and
 * templates; turns expired conversations into records for it.
 */
#ifndef FE_EXPORTER_H
#define FE_EXPORTER_H
#include <stdint.h>
#include <stdio.h>
#include "config.h"
#include "flowcache.h"
#include "ipfix.h"

struct exporter;

/* Collector idx of cfg. Its sockets are made in host_ns's network
 * namespace (collectors are reached from the host's), then the thread
 * returns to meter_ns's; both -1: where the thread is. The fds must stay
 * open for the exporter's life. NULL + errno on error.
 */
struct exporter *exporter__new(const struct fe_config *cfg, int idx,
			       int host_ns, int meter_ns);
void exporter__free(struct exporter *e);
/* Nonzero when the collector's settings differ (a reload replaces it). */
int exporter__differs(const struct exporter *e, const struct fe_config *cfg,
		      int idx);
const char *exporter__name(const struct exporter *e);
/* Queues the records of one conversation (per the collector's biflow and
 * split_links settings).
 */
void exporter__conv(struct exporter *e, const struct fe_conv *c,
		    uint8_t end_reason, uint32_t now_s);
/* Sends what is queued, resends templates when due, reconnects TCP. */
void exporter__tick(struct exporter *e, uint32_t now_s);
void exporter__print_stats(const struct exporter *e, FILE *out, bool json);

/* A collector's counters and state, for the metrics endpoint. name and
 * address point into the exporter: valid while it lives.
 */
struct exporter_stats {
	const char *name, *address;
	enum fe_transport transport;
	bool biflow;
	bool up;	     /* UDP: socket open; TCP: session up */
	size_t queued_bytes; /* built, not yet sent: the pending message */
	struct ipfix_writer_stats w;
};
void exporter__stats(const struct exporter *e, struct exporter_stats *s);

#endif
