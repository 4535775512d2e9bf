/* exporter.h - one collector: its template and output (IPFIX or NetFlow v9
 * over UDP or TCP, or JSON lines in a file); turns expired conversations
 * into records for it and counts what became of them.
 */
#ifndef FE_EXPORTER_H
#define FE_EXPORTER_H
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
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
	bool resolved;	  /* the collector's address is known */
	const char *kind; /* "ipfix", "netflow-v9", "json" */
	uint64_t messages;
	uint64_t records;	   /* flow records sent or written */
	uint64_t options;	   /* options data records sent */
	uint64_t templates;	   /* template records sent */
	uint64_t octets;	   /* message octets sent, or bytes written */
	uint64_t send_errors;	   /* sends or writes that failed */
	uint64_t not_sent;	   /* flow records dropped (full, errors) */
	uint64_t not_sent_packets; /* their packets */
	uint64_t not_sent_octets;  /* their octets */
	uint64_t queue_drops;	   /* messages dropped: the queue was full */
	uint64_t queued_octets;	   /* waiting to be sent (queue depth) */
	uint64_t queue_size;	   /* the queue's limit (queue_size) */
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
/* Sends what is queued, resends templates when due, reconnects TCP,
 * looks up a name that did not resolve yet.
 */
void exporter__tick(struct exporter *e, uint32_t now_s);
/* For the poll loop: fills p and returns 1 when the collector waits for
 * its socket to become writable (POLLOUT); else 0.
 */
int exporter__pollfd(const struct exporter *e, struct pollfd *p);
/* The socket of exporter__pollfd() polled ready (revents): sends on. */
void exporter__on_writable(struct exporter *e, short revents);
/* Octets queued that the collector can take now (0 while it is down). */
size_t exporter__pending(const struct exporter *e);
/* Before a stop: the last statistics record and the message being built
 * are queued; exporter__on_writable() then sends them.
 */
void exporter__finish(struct exporter *e);
/* SIGHUP: a JSON lines collector opens its file again, so that logrotate
 * can rename it; nothing for the others.
 */
void exporter__reopen(struct exporter *e);
void exporter__stats(const struct exporter *e, struct exporter_stats *s);
void exporter__print_stats(const struct exporter *e, FILE *out, bool json);

#endif
