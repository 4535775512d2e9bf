/* flowcache.h - the agent's conversation cache: merges the kernel's
 * per-link observations into two-way conversations, removes double
 * sightings of forwarded packets and decides when each is exported.
 * Pure logic: no BPF, no sockets, no clock (callers pass now_ms).
 *
 * Memory: fixed-size records in one region the cache gets from an
 * allocator hook (struct flowcache_mem), linked by 32-bit indices: a
 * conversation is 168 octets with its first path inline, every further
 * path 64 octets, plus 11 to 21 octets of index (rebuilt, never in the
 * region). No allocation per flow or per path; the region doubles when
 * full, or has a fixed size (flowcache_mem.fixed_size).
 *
 * Persistence (a cache that outlives the process, issue 10): the region
 * holds the whole state but the index (header, conversations, paths, free
 * lists, expiry lists, clock), with no pointer in it. Give
 * flowcache__new_in() a hook with a fixed_size region in memory that
 * survives the process (flowexp: a pinned BPF_F_MMAPABLE array map,
 * agent/persist.c) and a log_size; after a restart map it again, anywhere,
 * and call flowcache__adopt(): it checks the header (layout version and
 * record sizes), recovers, and rebuilds the index. Such a cache journals
 * each change of a conversation (an observation added, an export) with
 * the record's before-image, and writes each export to its export log
 * before the conversation is reset or freed. A death at any instant
 * leaves every observation applied once or not at all (the last one
 * applied: flowcache__last_tag()), and every export either logged and
 * done, or not begun. The log keeps each export until every reader (a
 * collector) confirmed it (flowcache__log_done()); a restarted process
 * replays to each reader what it had not confirmed.
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

/* The longest timeout the cache takes (about 12 days): its clock stamps
 * are 32-bit (see flowcache.c).
 */
#define FLOWCACHE_MAX_TIMEOUT_MS ((1ULL << 30) - 1)

/* Where the region lives. resize returns a region of new_size octets that
 * holds the first old_size octets of old (old NULL, old_size 0: a new
 * one), or NULL (old stays valid); release frees it. discard, optional,
 * tells the owner that a range inside the region holds nothing (its pages
 * may be dropped). ctx is passed to each.
 * fixed_size (0: the region grows as needed): the region is that size
 * from the start and never grows; when its records are all taken, the
 * least recently active conversation is exported (reason 5) to make room,
 * as at max_flows. log_size (a fixed region only; 0: none, else at least
 * flowcache__log_min_size()) of its octets hold the export log: the cache
 * then journals every change (see "Persistence" above).
 */
struct flowcache_mem {
	void *(*resize)(void *ctx, void *old, size_t old_size, size_t new_size);
	void (*release)(void *ctx, void *region, size_t size);
	void (*discard)(void *ctx, void *p, size_t len);
	void *ctx;
	size_t fixed_size;
	size_t log_size;
};

struct flowcache_cfg {
	uint64_t idle_timeout_ms;   /* 1..FLOWCACHE_MAX_TIMEOUT_MS */
	uint64_t active_timeout_ms; /* 1..FLOWCACHE_MAX_TIMEOUT_MS */
	uint64_t end_grace_ms;	    /* wait after FIN/FIN or RST; may be 0 */
	size_t max_flows;	    /* > 0 */
};

/* One path of one direction: the (ingress interface, egress interface)
 * pair its packets took. An egress observation on Y of a packet that came
 * in by X is path (X,Y) flow_dir egress (X 0: locally originated); an
 * ingress observation on X is path (X,0) flow_dir ingress.
 *
 * packets/octets are signed deltas since the last export. An (X,0) path
 * of an ingress-metered X goes negative while an egress sighting with
 * in_if X has taken back a packet whose ingress sighting is not here yet
 * (the two may come in any order within a drain) or was exported already
 * (an earlier drain); an (X,Y) path while a drop after its export is
 * taken back. Exporters read only the positive part; before each export
 * the cache settles the take-backs and nets the negatives (see
 * flowcache_dedup.c), so the sum over the paths of a direction always
 * equals the packets of that direction.
 * total_packets/total_octets: what was exported from this path so far, a
 * packet counted once: one exported on (X,0) that a later egress sighting
 * shows to have left by Y moves to (X,Y).
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
	/* what the egress meter of out_if counted on this path and the stack
	 * then dropped (a qdisc), since the last export: not in packets
	 */
	uint64_t dropped_packets;
	uint64_t dropped_octets;
};

/* One direction of a conversation: 0 initiator->responder, 1 reverse.
 * paths[0..npaths) in creation order, never removed while the conversation
 * lives; the times and flags cover the whole life of the direction.
 */
struct fe_conv_dir {
	struct fe_path *paths;
	uint16_t npaths;
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
 * from which side sent the first packet.
 * Times: start_ms/last_ms packet times (UNIX ms).
 * The cache hands out a struct fe_conv as a view of its records, valid
 * during the callback it is given to.
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
	/* the router translates it (NAT): nat_addr[i]/nat_port[i] is what
	 * addr[i]/port[i] becomes on the other side of the translation (ICMP:
	 * nat_port 0)
	 */
	bool nat;
	uint8_t nat_addr[2][16];
	uint16_t nat_port[2];
	struct fe_conv_dir dir[2];
	uint64_t start_ms;
	uint64_t last_ms;
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

/* A cache whose region comes from mem (NULL: anonymous mmap()). NULL with
 * errno EINVAL (bad cfg) or ENOMEM.
 */
struct flowcache *flowcache__new_in(const struct flowcache_cfg *cfg,
				    const struct flowcache_mem *mem);
/* flowcache__new_in(cfg, NULL). */
struct flowcache *flowcache__new(const struct flowcache_cfg *cfg);
/* A cache over region (size octets, at any address) that holds the
 * records of a cache flowcache__new_in() made, e.g. in another process;
 * mem must be able to resize and release it. Rebuilds the index. NULL
 * with errno EINVAL (bad cfg, or region is not such a cache) or ENOMEM.
 */
struct flowcache *flowcache__adopt(const struct flowcache_cfg *cfg,
				   const struct flowcache_mem *mem,
				   void *region, size_t size);
/* The region and its size (it moves when it grows). */
void *flowcache__region(const struct flowcache *fc, size_t *size);
/* Frees without emitting (flush first to export), the region included. */
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
/* Whether a packet an egress meter saw enter by ifindex was counted at
 * ingress: ifindex has an ingress meter, or it is the master (a VRF, a
 * bridge, a bond) of a link that has one (dedup.h).
 */
bool flowcache__ingress_metered(const struct flowcache *fc, uint32_t ifindex);
/* The links that have a master (IFLA_MASTER): pairs[i] = {ifindex, master};
 * replaces the previous set. 0 or -ENOMEM.
 */
int flowcache__set_masters(struct flowcache *fc, const uint32_t (*pairs)[2],
			   size_t n);

/* The observations added from now until the next call come from one drain
 * of the kernel maps, in no particular order: a conversation they create
 * takes as its initiator the side that sent the first packet (the earlier
 * first_ms; on a tie, the side sending from a higher port to a lower one)
 * until it is exported or its initiator is known. Without this call, or
 * across drains, the side seen first is the initiator.
 */
void flowcache__batch(struct flowcache *fc);

/* Adds one observation (deltas since the previous drain). Evicts the least
 * recently active conversation (reason 5) when the cache is full. now_ms
 * should not go backwards (it is clamped to the latest seen). 0, -EINVAL
 * (bad family) or -ENOMEM (the region could not grow: the observation is
 * lost and counted).
 */
int flowcache__add(struct flowcache *fc, const struct fe_obs *o,
		   uint64_t now_ms, flowcache_emit_fn emit, void *ctx);
/* flowcache__add() of o[0..n) in that order, faster: the index slots and
 * records of the next ones are prefetched while one is added. Returns how
 * many were lost for want of memory (-ENOMEM).
 */
size_t flowcache__add_many(struct flowcache *fc, const struct fe_obs *o,
			   size_t n, uint64_t now_ms, flowcache_emit_fn emit,
			   void *ctx);
/* A connection the router translates (an FE_KIND_NAT entry: orig its key,
 * post its value): its conversation, made if needed under the original
 * tuple, is filed under the translated one too, so the packets metered on
 * the translated side (after SNAT at egress, before the reverse
 * translation at ingress) join it, and a conversation the translated ones
 * made before is merged into it. 0, -EINVAL (bad family) or -ENOMEM.
 */
int flowcache__nat(struct flowcache *fc, const struct fe_flow_key *orig,
		   const struct fe_nat_val *post, uint64_t now_ms,
		   flowcache_emit_fn emit, void *ctx);
/* flowcache__add_many() where o[i] carries tag tags[i] (nonzero): in a
 * journaled cache, the tag of the last observation applied survives a
 * death (flowcache__last_tag()), so that the caller knows where to resume.
 */
size_t flowcache__add_tagged(struct flowcache *fc, const struct fe_obs *o,
			     const uint64_t *tags, size_t n, uint64_t now_ms,
			     flowcache_emit_fn emit, void *ctx);
uint64_t flowcache__last_tag(const struct flowcache *fc);
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
/* Calls fn for every conversation, least recently active first (deltas
 * are live: an (X,0) path may be transiently negative). fn must not call
 * into the cache.
 */
void flowcache__foreach(struct flowcache *fc,
			void (*fn)(void *ctx, const struct fe_conv *c),
			void *ctx);
/* A walk in record order that survives changes of the cache between its
 * steps (for a flowctl dump streamed between ticks): every conversation
 * that lives for the whole walk is visited exactly once, one that comes
 * or goes meanwhile at most once. Start with *cursor 0; each call visits
 * at most max conversations and returns false when the walk is over.
 */
bool flowcache__walk(struct flowcache *fc, uint32_t *cursor, size_t max,
		     void (*fn)(void *ctx, const struct fe_conv *c), void *ctx);
/* The 32-bit hash the index files o's conversation under (for tests that
 * make chosen keys collide).
 */
uint32_t flowcache__obs_hash(const struct flowcache *fc,
			     const struct fe_obs *o);

/* ---- the export log (a cache with a log_size) ---- */

/* The smallest log_size. */
size_t flowcache__log_min_size(void);
/* The position the next export takes in the log (0 without a log). In an
 * emit callback, the position right after the export being emitted.
 */
uint64_t flowcache__log_head(const struct flowcache *fc);
/* The log's readers become names[0..n) (reader i is names[i]): a name the
 * log knew (from before a restart too) keeps its position, a new one
 * starts at the head; the others are forgotten. 0, or -EINVAL (more than
 * FLOWCACHE_LOG_READERS, or no log).
 */
#define FLOWCACHE_LOG_READERS 16
int flowcache__log_readers(struct flowcache *fc, const char *const *names,
			   int n);
/* Reader i has every export before position pos; what no reader needs
 * any more leaves the log.
 */
void flowcache__log_done(struct flowcache *fc, int i, uint64_t pos);
uint64_t flowcache__log_done_pos(const struct flowcache *fc, int i);
/* The caller's mark on reader i, kept across a restart (flowexp: a send
 * to that collector was under way).
 */
void flowcache__log_mark(struct flowcache *fc, int i, bool on);
bool flowcache__log_marked(const struct flowcache *fc, int i);
/* Calls fn for every export in the log that reader i has not confirmed,
 * oldest first, as the emit callback saw it (c valid during the call),
 * with the position after it. fn must not call into the cache but for
 * flowcache__log_head() and flowcache__log_done(). Returns how many.
 */
typedef void (*flowcache_log_fn)(void *ctx, const struct fe_conv *c,
				 uint8_t end_reason, uint64_t end);
size_t flowcache__log_replay(struct flowcache *fc, int i, flowcache_log_fn fn,
			     void *ctx);

struct flowcache_stats {
	uint64_t flows;	  /* conversations in the cache now */
	uint64_t buckets; /* index slots (at most 3/4 used) */
	uint64_t created;
	uint64_t exported[FE_END_MAX]; /* emits by flowEndReason (1..5) */
	uint64_t removed_empty;	 /* expired with nothing to export: no emit */
	uint64_t active_skipped; /* active timeout with zero deltas */
	uint64_t obs;
	uint64_t obs_overflow;	/* FE_KEY_OVERFLOW observations */
	uint64_t obs_invalid;	/* bad family: ignored */
	uint64_t obs_nomem;	/* no memory for the conversation/path */
	uint64_t swapped;	/* initiator corrected by a later SYN */
	uint64_t reoriented;	/* initiator: the first packet, same drain */
	uint64_t dedup_packets; /* packets seen at both meters, counted once */
	/* egress packets whose ingress sighting was not in their conversation
	 * (counted at egress alone), and those taken from the ingress overflow
	 * record that held their ingress sighting instead
	 */
	uint64_t dedup_unmatched_packets;
	uint64_t dedup_overflow_packets;
	/* egress packets whose ingress sighting an earlier record of their
	 * conversation (ended or evicted since) exported
	 */
	uint64_t dedup_late_packets;
	uint64_t dedup_clamped_packets; /* negative residuals at final export */
	uint64_t nat_learnt;  /* translations filed (flowcache__nat) */
	uint64_t nat_merged;  /* conversations of translated tuples joined */
	uint64_t obs_dropped; /* FE_KIND_DROP observations */
	uint64_t path_merged; /* observations put in the catch-all path */
	uint64_t paths;	      /* path records beyond the inline ones now */
	uint64_t region_bytes;
	uint64_t evicted_full;	/* of exported[5]: a fixed region was full */
	uint64_t log_slots;	/* the export log's size, 64-octet slots */
	uint64_t log_used;	/* slots held for a reader now */
	uint64_t log_dropped;	/* exports dropped unconfirmed: log full */
	uint64_t recovered_ops; /* operations a death cut, undone or redone */
	uint64_t recovered_dropped; /* records out of shape, freed */
};

void flowcache__stats(const struct flowcache *fc, struct flowcache_stats *st);

#endif /* FE_FLOWCACHE_H */
