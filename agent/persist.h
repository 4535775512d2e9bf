/* persist.h - the agent's state that outlives it (issue 10): one pinned
 * BPF_F_MMAPABLE array map, FE_PIN_STATE in the meter set's pin directory
 * (meter.c makes and pins it), mmap()ed whole and laid out as
 *   [header][the drain's stage][the flow cache's region: records, export
 *   log]
 * The header says what made it (layout version, the kernel entries'
 * sizes, the pin directory, max_flows it was sized for); the cache region
 * has its own header (flowcache.c checks it on adoption). It lives as long
 * as its pin: a killed agent's successor adopts it; a reboot, `flowctl
 * detach --all` (with no agent running) or a new meter set removes it.
 */
#ifndef FE_PERSIST_H
#define FE_PERSIST_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "flowcache.h"
#include "meter.h"

/* The layout of the header and the stage (the cache's is its own). */
#define PERSIST_VERSION 1u
/* Octets of the state per max_flows conversation: its record (168) and
 * one path record (64), allocated when the state is made (kernel memory,
 * charged to the agent's memory cgroup).
 */
#define PERSIST_BYTES_PER_FLOW 232
/* The smallest export log (it grows with max_flows: 32 octets each). */
#define PERSIST_LOG_MIN (4u << 20)

struct persist;

/* The octets a state for max_flows conversations takes. */
size_t persist__size_for(unsigned int max_flows);
/* Maps meter set m's state (pin is its directory), making one sized for
 * max_flows when there is none. 0 (*out set) or -errno with the reason
 * logged; -EPROTO: a state this flowagent refuses (of another layout or
 * pin directory; the message says how to export or drop it).
 */
int persist__open(struct meter *m, const char *pin, unsigned int max_flows,
		  uint64_t now_ms, struct persist **out);
/* Unmaps (the state stays pinned). */
void persist__close(struct persist *p);
/* Logs why the state of pin is refused, and what to do. */
void persist__refuse_msg(const char *pin, const char *why);
/* Whether persist__open() made it (nothing to adopt). */
bool persist__fresh(const struct persist *p);
unsigned int persist__max_flows(const struct persist *p);
size_t persist__bytes(const struct persist *p);
struct meter_stage *persist__stage(struct persist *p);
/* The flow cache's region and the hook to give flowcache__new_in() or
 * flowcache__adopt() (fixed size, with its export log).
 */
void *persist__cache(struct persist *p, size_t *size);
struct flowcache_mem persist__cache_mem(struct persist *p);

#endif
