/* output.h - what a collector's output is to exporter.c, private to them:
 * records in, counters out. Two kinds: IPFIX or NetFlow v9 messages over
 * UDP or TCP (export_net.c) and JSON lines in a file (export_json.c).
 */
#ifndef FE_OUTPUT_H
#define FE_OUTPUT_H
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "exporter.h"
#include "flowtypes.h"
#include "ipfix.h"

struct fe_output;

/* What an output is opened with. cc and tmpl belong to the exporter, which
 * outlives its output: the output keeps the pointers. tmpl[0] is the IPv4
 * variant of the collector's template, tmpl[1] the IPv6 one.
 */
struct fe_output_args {
	const struct fe_collector_cfg *cc;
	const struct ipfix_template *tmpl;
	int host_ns, meter_ns; /* see exporter__new() */
	unsigned int sampling; /* the meters' 1-in-N rate, for options */
};

struct fe_output_ops {
	/* NULL + errno (the reason logged) */
	struct fe_output *(*open)(const struct fe_output_args *a);
	/* Queues one record (its family picks the template). */
	void (*record)(struct fe_output *o, const struct fe_record *r,
		       uint32_t now_s);
	/* Sends or writes what is queued; transport upkeep. */
	void (*tick)(struct fe_output *o, uint32_t now_s);
	/* Fills p and returns 1 when the output waits for its fd to become
	 * writable (a full socket, a TCP connect under way); else 0.
	 */
	int (*pollfd)(const struct fe_output *o, struct pollfd *p);
	/* Its fd polled writable (revents): sends what is queued. */
	void (*writable)(struct fe_output *o, short revents);
	/* Octets queued that the transport can take now (0 while it is
	 * down: they wait for a session a stop does not make).
	 */
	size_t (*pending)(const struct fe_output *o);
	/* Before a stop: the last statistics record and the message being
	 * built go to the queue.
	 */
	void (*finish)(struct fe_output *o);
	/* SIGHUP: a file output opens its path again (logrotate). */
	void (*reopen)(struct fe_output *o);
	void (*stats)(const struct fe_output *o, struct exporter_stats *s);
	/* Finishes, sends what the transport takes without waiting, and
	 * frees; the rest is lost (logged).
	 */
	void (*close)(struct fe_output *o);
};

extern const struct fe_output_ops fe_output_net;
extern const struct fe_output_ops fe_output_json;

#endif
