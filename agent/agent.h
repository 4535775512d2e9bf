/* agent.h - flowagent's state, shared by its main loop (flowagent.c) and
 * its control-socket handler (control.c).
 */
#ifndef FE_AGENT_H
#define FE_AGENT_H
#include <stdbool.h>
#include <stdint.h>
#include "config.h"
#include "exporter.h"
#include "flowcache.h"
#include "meter.h"

struct agent_if {
	int ifindex;  /* 0: not attached (missing or failed) */
	bool ingress; /* an ingress meter is attached */
	bool warned;  /* the problem was logged already */
};

struct agent {
	struct fe_config cfg;
	const char *cfg_path;
	struct meter *m;
	struct flowcache *fc;
	struct exporter *exp[FE_MAX_COLLECTORS];
	int nexp;
	struct agent_if ifs[FE_MAX_IFACES];
	int host_ns, meter_ns; /* netns fds (-1: no netns configured) */
	/* ifindexes with an ingress meter of ours, as the kernel says */
	int ing_if[FE_MAX_IFACES * 4];
	int n_ing_if;
	uint64_t now_ms; /* UNIX ms of the current tick */
	/* counters */
	uint64_t ticks, drained, drain_errors, early_drains;
	uint64_t last_overflow;
	uint64_t overflow_dup; /* egress overflow packets the ingress counted */
};

/* Delivers a conversation to every collector (the cache's emit callback). */
void agent_emit(void *ctx, const struct fe_conv *c, uint8_t end_reason);
/* Drains the kernel maps into the cache. */
int agent_drain(struct agent *a);
/* Serves one control request on fd (then closes it). */
void control_handle(struct agent *a, int fd, const char *line);

#endif
