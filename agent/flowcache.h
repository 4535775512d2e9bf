/* flowcache.h - the agent's conversation cache: merges the kernel's
 * per-link observations into two-way conversations, removes double
 * sightings of forwarded packets and decides when each is exported.
 * Pure logic: no BPF, no sockets, no clock (callers pass now_ms).
 */
#ifndef FE_FLOWCACHE_H
#define FE_FLOWCACHE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "flowtypes.h"

/* flowEndReason values (IPFIX IE 136) */
#define FE_END_IDLE 1
#define FE_END_ACTIVE 2
#define FE_END_EOF 3
#define FE_END_FORCED 4
#define FE_END_RESOURCES 5
#define FE_END_MAX 6

/* Paths per direction before extra paths merge into the catch-all path
 * (in_if 0, out_if 0), which no real observation produces.
 */
#define FE_CONV_MAX_PATHS 16

struct flowcache_cfg {
	uint64_t idle_timeout_ms;   /* > 0 */
	uint64_t active_timeout_ms; /* > 0 */
	uint64_t end_grace_ms;	    /* wait after FIN/FIN or RST; may be 0 */
	size_t max_flows;	    /* > 0 */
};

/* One path of one direction: the (ingress interface, egress interface)
 * pair its packets took. An egress observation on Y of a packet that came
 * in by X is path (X,Y) flow_dir egress (X 0: locally originated); an
 * ingress observation on X is path (X,0) flow_dir ingress.
 *
 * packets/octets are signed deltas since the last export. Only an (X,0)
 * path of an ingress-metered X goes negative: every egress sighting with
 * in_if X takes back the packet X's ingress meter already counted, and the
 * two sightings may arrive in different drains. Exporters read only the
 * positive part; before each export the cache nets negatives against the
 * positive paths of the same ingress interface, so the sum over the paths
 * of a direction always equals the packets of that direction.
 * total_packets/total_octets: what was exported from this path so far.
 */
struct fe_path {
	uint32_t in_if;
	uint32_t out_if;
	uint8_t flow_dir; /* FE_DIR_INGRESS / FE_DIR_EGRESS */
	uint8_t tos;	  /* of the last observation */
	uint8_t ttl_min;
	uint8_t ttl_max;
	uint16_t tcp_flags; /* OR over the path's life */
	uint16_t icmp_type_code;
	uint32_t flow_label;
	bool seen; /* an observation landed here (else it only took back) */
	int64_t packets;
	int64_t octets;
	uint64_t total_packets;
	uint64_t total_octets;
	uint64_t first_ms;
	uint64_t last_ms;
};

/* One direction of a conversation: 0 initiator->responder, 1 reverse.
 * paths[0..npaths) in creation order, never removed while the conversation
 * lives; the times and flags cover the whole life of the direction.
 */
struct fe_conv_dir {
	struct fe_path *paths;
	uint16_t npaths;
	uint16_t cap;
	uint16_t tcp_flags;
	uint16_t icmp_type_code; /* of the last observation */
	uint8_t tos;
	uint8_t ttl_min;
	uint8_t ttl_max;
	bool seen; /* at least one observation */
	bool syn;  /* a SYN without ACK came from this direction's source */
	uint32_t flow_label;
	uint64_t first_ms;
	uint64_t last_ms;
};

/* A conversation. Side 0 is the initiator: addr[0]/port[0] sent dir[0].
 * Addresses network order (IPv4 in the first 4 bytes), ports host order.
 * ICMP/ICMPv6: port[0] 0 and port[1] the initiator's type << 8 | code;
 * an echo request/reply pair is one conversation whose side 0 is the
 * requester. kflags: FE_KEY_FRAG/FE_KEY_TRUNC (no ports; their own
 * conversation) or FE_KEY_OVERFLOW (a per-(ovf_if, ovf_dir, ovf_in_if)
 * pseudo-conversation: no addresses, family 4, proto 0, dir[0] only).
 * init_known: the initiator is known (SYN or echo request), not guessed
 * from which side was seen first.
 * Times: start_ms/last_ms packet times (UNIX ms); the others are the
 * caller's now_ms: last_export_ms (creation until the first export),
 * active_ms (last observation), end_ms (when FIN/FIN or RST was seen).
 */
struct fe_conv {
	uint8_t family;
	uint8_t proto;
	uint8_t kflags;
	uint8_t ovf_dir;
	uint16_t vlan;
	uint16_t port[2];
	uint8_t addr[2][16];
	uint32_t ovf_if;
	uint32_t ovf_in_if;
	bool init_known;
	bool exported; /* at least once (active timeout) */
	bool ended;    /* FIN both ways or RST: reason 3 after end_grace_ms */
	struct fe_conv_dir dir[2];
	uint64_t start_ms;
	uint64_t last_ms;
	uint64_t last_export_ms;
	uint64_t active_ms;
	uint64_t end_ms;
};

static inline uint64_t fe_pos(int64_t v)
{
	return v > 0 ? (uint64_t)v : 0;
}

/* Packets of a path over the conversation's life, for "dominant path". */
static inline uint64_t fe_path_life_packets(const struct fe_path *p)
{
	return p->total_packets + fe_pos(p->packets);
}

struct flowcache;

/* Called before the cache resets the deltas (active timeout) or frees the
 * conversation (every other reason); c is valid only during the call. Its
 * deltas are netted: the positive parts (fe_pos) are exactly what to
 * export. Not called for a conversation with nothing new to export.
 */
typedef void (*flowcache_emit_fn)(void *ctx, const struct fe_conv *c,
				  uint8_t end_reason);

/* NULL with errno EINVAL (bad cfg) or ENOMEM. */
struct flowcache *flowcache__new(const struct flowcache_cfg *cfg);
/* Frees without emitting: flush first to export. */
void flowcache__free(struct flowcache *fc);
/* New timeouts apply to existing conversations; a lower max_flows evicts
 * (reason 5) at the next expire or add. 0 or -EINVAL.
 */
int flowcache__set_cfg(struct flowcache *fc, const struct flowcache_cfg *cfg);
/* Whether ifindex has an ingress meter; decides the dedup of forwarded
 * packets (dedup.h). 0 or -ENOMEM.
 */
int flowcache__set_ingress_metered(struct flowcache *fc, uint32_t ifindex,
				   bool on);
bool flowcache__ingress_metered(const struct flowcache *fc, uint32_t ifindex);

/* Adds one observation (deltas since the previous drain). Evicts the least
 * recently active conversation (reason 5) when the cache is full. now_ms
 * should not go backwards (it is clamped to the latest seen). 0, -EINVAL
 * (bad family) or -ENOMEM (the observation is lost and counted).
 */
int flowcache__add(struct flowcache *fc, const struct fe_obs *o,
		   uint64_t now_ms, flowcache_emit_fn emit, void *ctx);
/* Emits every conversation due at now_ms: end of flow (3), idle (1),
 * active (2), and resources (5) when over max_flows. Returns how many
 * emits it made.
 */
size_t flowcache__expire(struct flowcache *fc, uint64_t now_ms,
			 flowcache_emit_fn emit, void *ctx);

/* Emits (reason 4) and removes the conversations for which match returns
 * true (match NULL: all), e.g. fe_filter_match_conv() of a flowctl filter.
 * Returns how many it removed.
 */
size_t flowcache__flush(struct flowcache *fc,
			bool (*match)(void *mctx, const struct fe_conv *c),
			void *mctx, uint64_t now_ms, flowcache_emit_fn emit,
			void *ctx);
/* Calls fn for every conversation, least recently active first (for
 * flowctl dump: deltas are live, an (X,0) path may be transiently
 * negative). fn must not call into the cache.
 */
void flowcache__foreach(struct flowcache *fc,
			void (*fn)(void *ctx, const struct fe_conv *c),
			void *ctx);

struct flowcache_stats {
	uint64_t flows;	  /* conversations in the cache now */
	uint64_t buckets; /* hash table size */
	uint64_t created;
	uint64_t exported[FE_END_MAX]; /* emits by flowEndReason (1..5) */
	uint64_t removed_empty;	 /* expired with nothing to export: no emit */
	uint64_t active_skipped; /* active timeout with zero deltas */
	uint64_t obs;
	uint64_t obs_overflow;	/* FE_KEY_OVERFLOW observations */
	uint64_t obs_invalid;	/* bad family: ignored */
	uint64_t obs_nomem;	/* no memory for the conversation/path */
	uint64_t swapped;	/* initiator corrected by a later SYN */
	uint64_t dedup_packets; /* packets seen at both meters, counted once */
	uint64_t dedup_clamped_packets; /* negative residuals at final export */
	uint64_t path_merged; /* observations put in the catch-all path */
};

void flowcache__stats(const struct flowcache *fc, struct flowcache_stats *st);

#endif /* FE_FLOWCACHE_H */
