/* exporter.h - one collector: its template and output (IPFIX or NetFlow v9
 * over UDP or TCP, or JSON lines in a file); turns expired conversations
 * into records for it and counts what became of them.
 */
#ifndef FE_EXPORTER_H
#define FE_EXPORTER_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "config.h"
#include "flowcache.h"
#include "ipfix.h"

struct exporter;

/* A collector's counters, for `flowctl stats` and a metrics module. For
 * JSON lines a message is a line and octets count what was written.
 */
struct exporter_stats {
	/* name and target point into the exporter: valid while it lives */
	const char *name;
	const char *target;    /* address, or the file of JSON lines */
	const char *transport; /* "udp", "tcp", "file" */
	bool biflow;
	bool up;	  /* socket open / TCP session up / file open */
	const char *kind; /* "ipfix", "netflow-v9", "json" */
	uint64_t messages;
	uint64_t records;	   /* flow records sent or written */
	uint64_t options;	   /* options data records sent */
	uint64_t templates;	   /* template records sent */
	uint64_t octets;	   /* message octets sent, or bytes written */
	uint64_t send_errors;	   /* messages or writes that failed */
	uint64_t not_sent;	   /* flow records lost in those */
	uint64_t not_sent_packets; /* their packets */
	uint64_t not_sent_octets;  /* their octets */
	uint64_t queued_octets;	   /* waiting to be sent (queue depth) */
	uint64_t sessions;	   /* TCP sessions made */
	uint32_t sequence;	   /* the next message's sequence number */
	/* records handed to the output by flowEndReason (1 idle .. 5) */
	uint64_t by_reason[8];
};

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
/* SIGHUP: a JSON lines collector opens its file again, so that logrotate
 * can rename it; nothing for the others.
 */
void exporter__reopen(struct exporter *e);
void exporter__stats(const struct exporter *e, struct exporter_stats *s);
void exporter__print_stats(const struct exporter *e, FILE *out, bool json);

#endif
