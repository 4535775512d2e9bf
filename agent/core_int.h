/* core_int.h - what core.c and core_state.c share, private to them:
 * core.c (the agent's life: start, tick, reload, stop) calls down into
 * core_state.c (the counts' way from the kernel to the collectors and the
 * state that keeps them through a crash); nothing calls back up.
 */
#ifndef FE_CORE_INT_H
#define FE_CORE_INT_H
#include "core.h"

/* The flow cache, the drain's stage and the export tracking: over the
 * pinned state (made, or adopted from a dead agent and recovered at the
 * first drain) unless cfg says state = memory or there is none to have.
 * 0 or -errno (-EPROTO: a state this agent refuses, logged).
 */
int agent_state_open(struct agent *a, const struct flowcache_cfg *fcc);
void agent_state_close(struct agent *a);
/* The cache's emit callback: one conversation to every collector. */
void agent_emit(void *ctx, const struct fe_conv *c, uint8_t end_reason);
/* Every collector's tick: what is queued goes out. */
void agent_send(struct agent *a);
/* The collectors changed (a->exp): the export log's readers follow. */
void agent_readers(struct agent *a);

#endif
