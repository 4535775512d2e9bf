/* flowcache_int.h - the flow cache's records and the store that holds them
 * (flowcache_store.c): one relocatable region of fixed-size records linked
 * by 32-bit indices, and the hash index over it; the journal and the
 * export log of a region that outlives its process (flowcache_journal.c,
 * flowcache_log.c). Private to the flowcache*.c files.
 *
 * The region:
 *   [fc_region header, journal][conv 0][conv 1]... -> free <- ...[path 1]
 *   [path 0][export log]
 * Conversation records grow from the front, path records from the back,
 * so both share whatever room there is. Path k sits at
 * region + size - (k + 1) * sizeof(struct fc_path): growing the region
 * moves the path area to the new end and its indices stay valid. The
 * export log (a fixed region only) follows at region + size. Nothing in
 * the region is a pointer.
 *
 * The index: open addressing with linear probing over {hash, record}
 * slots, at most 3/4 full. A lookup reads one slot run and only the record
 * whose 32-bit hash matches; growing it needs no record (the position is
 * the hash's low bits).
 */
#ifndef FE_FLOWCACHE_INT_H
#define FE_FLOWCACHE_INT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "flowcache.h"
#include "list.h"

#define FC_MAGIC 0x66636331u /* "fcc1" */
/* The layout of everything in the region: a change of any record (fields
 * added to fc_conv, fc_path, fc_key, the journal or the log entry) is a
 * new version, and a region of another version is refused.
 */
#define FC_VERSION 3
#define FC_NIL FE_INIL
/* Clock stamps are renormalised when the clock moved this far (see
 * flowcache.c).
 */
#define FC_NORM_MS (1ULL << 30)

/* One path of one direction (struct fe_path, packed to 64 octets). Times
 * are UNIX ms in 48 bits (to the year 10889); next chains the paths of a
 * conversation in creation order (FC_NIL ends), side says the direction
 * (0 initiator -> responder). A drop record (drop set) is no path of its
 * own: it holds the packets the egress meter of out_if counted on path
 * (in_if, out_if) and the stack then dropped (packets/octets: since the
 * last export, totals: exported), and only that; it is never seen.
 */
struct fc_path {
	int64_t packets, octets;
	uint64_t total_packets, total_octets;
	uint64_t first_ms : 48, tcp_flags : 16;
	uint64_t last_ms : 48, tos : 8, ttl_min : 8;
	uint32_t in_if, out_if;
	uint32_t flow_label : 20, ttl_max : 8, flow_dir : 1, seen : 1, side : 1,
		drop : 1;
	uint32_t next;
};
_Static_assert(sizeof(struct fc_path) == 64, "fc_path is 64 octets");

/* The hash key: the conversation with its two sides in canonical order
 * (the lower {addr, port} first; for ICMP the requester of an echo first,
 * other types sorted, ports {0, type/code with replies folded onto
 * requests}). An overflow pseudo-conversation keeps ovf_if and ovf_in_if
 * in addr[0]. No holes: hashed and compared as bytes.
 */
struct fc_key {
	uint8_t addr[2][16];
	uint16_t port[2];
	uint16_t vlan;
	uint8_t family;
	uint8_t proto;
	uint8_t kflags;
	uint8_t ovf_dir;
};
_Static_assert(sizeof(struct fc_key) == 42, "fc_key must have no holes");

/* A conversation's translation by the router's NAT, learnt from an
 * FE_KIND_NAT entry: a record of the path area (64 octets, like a path;
 * fc_conv.nat is its index + 1). akey is the conversation's key as the
 * packets carry it on the translated side (the alias index files the
 * conversation under it too), akey.addr[i] and port[i] the translation of
 * key.addr[i ^ flip] and key.port[i ^ flip].
 */
struct fc_nat {
	struct fc_key akey;
	uint8_t flip;
	uint8_t pad;
	uint32_t hash;	/* of akey */
	uint32_t anext; /* the next conversation in its alias bucket */
	uint8_t pad2[8];
	uint32_t next; /* where fc_path keeps it: the free list's link */
};
_Static_assert(sizeof(struct fc_nat) == sizeof(struct fc_path),
	       "fc_nat is a path record");
_Static_assert(offsetof(struct fc_nat, next) == offsetof(struct fc_path, next),
	       "fc_nat keeps the free list's link where fc_path does");

/* fc_conv.flags */
#define FC_LIVE 0x01	 /* in use (a free record has flags 0) */
#define FC_SIDE 0x02	 /* the initiator is key.addr[1] (else addr[0]) */
#define FC_INIT 0x04	 /* initiator known (SYN or echo request) */
#define FC_EXPORTED 0x08 /* exported at least once (active timeout) */
#define FC_ENDED 0x10	 /* FIN both ways or RST: in the ended list */
#define FC_SYN0 0x20	 /* a SYN from direction 0's source */
#define FC_SYN1 0x40
#define FC_EPOCH 0x80 /* stamps renormalised to the region's epoch (bit 0) */

/* A conversation: its key, its per-direction "of the last observation"
 * values (indexed by direction, 0 = initiator -> responder), the cache
 * clock stamps (low 32 bits of now_ms: every live stamp is within 2^31 ms
 * of the clock, see flowcache.c), its links and its first path inline.
 * Invariants: a live record has one index slot, is in the lru list
 * (ordered by active) and the act list (ordered by last_export), and in
 * the ended list (ordered by end) iff FC_ENDED; npaths[0] + npaths[1]
 * paths (drop records included) hang off path0 (path0 unused when 0).
 */
struct fc_conv {
	struct fc_key key;
	uint8_t flags;
	uint8_t batch; /* the drain that made it (flowcache__batch) */
	uint8_t npaths[2];
	uint8_t tos[2];
	uint16_t icmp_tc[2];
	uint32_t flow_label[2];
	uint32_t active, last_export, end;
	uint32_t nat;  /* index + 1 of its struct fc_nat, 0: not translated */
	uint32_t hash; /* low 32 bits of the key's siphash */
	struct fe_ilink lru, act, ended;
	struct fc_path path0;
};
_Static_assert(sizeof(struct fc_conv) == 168, "fc_conv is 168 octets");

/* The records a journaled operation saves: a conversation's extra paths
 * and the record of its translation.
 */
#define FCJ_MAX_IMG (2 * FE_CONV_MAX_PATHS + 1)

/* The journal of a region that outlives its process (flowcache_journal.c):
 * the one operation under way on a conversation, with the before-image of
 * its record and paths. An operation changes nothing before its image is
 * saved and op set; op goes back to FCJ_NONE once it is complete. A
 * restarted process restores the image, then completes the operation if
 * its export reached the log (seq < the log's head): a death at any
 * instant leaves each observation applied once or not at all, and each
 * export done (conversation reset or freed, export logged) or not begun.
 */
#define FCJ_NONE 0
#define FCJ_ADD 1    /* an observation (tag) lands on conv */
#define FCJ_FINISH 2 /* conv's last export, then it is freed */
#define FCJ_ACTIVE 3 /* conv's active-timeout export, then reset */
#define FCJ_RENORM 4 /* every live stamp renormalised (see flowcache.c) */
struct fc_journal {
	uint32_t op;
	uint32_t conv;	    /* FC_NIL: a conversation FCJ_ADD creates */
	uint64_t tag;	    /* FCJ_ADD: the observation's */
	uint64_t last_tag;  /* of the last observation applied */
	uint64_t prev_tag;  /* last_tag before the operation */
	uint64_t seq;	    /* FCJ_FINISH/ACTIVE: its export's log position */
	uint64_t now;	    /* FCJ_ACTIVE: last_export; FCJ_RENORM: the clock */
	uint64_t old_clock; /* FCJ_RENORM: the clock before */
	uint32_t epoch;	    /* FCJ_RENORM: the epoch it renormalises to */
	uint32_t npaths;    /* extra paths saved, then its struct fc_nat */
	uint32_t path_idx[FCJ_MAX_IMG];
	struct fc_conv conv_img;
	struct fc_path path_img[FCJ_MAX_IMG];
};

/* The export log's header (flowcache_log.c). The log is a ring of nslots
 * 64-octet slots after the records; positions count slots from the
 * region's creation (slot pos % nslots). An entry is the conversation's
 * record as exported (deltas netted), then its extra paths, one slot
 * each; it never wraps (a filler entry takes the ring's end). head is the
 * commit: an entry exists once head has passed it. A reader (a
 * collector, by name) has everything before its done position.
 */
#define FC_LOG_READERS FLOWCACHE_LOG_READERS
struct fc_log_reader {
	char name[64];
	uint64_t done;
	uint32_t sending; /* the caller's mark: a send under way */
	uint32_t used;
};
struct fc_log {
	uint64_t head, tail;
	uint64_t dropped; /* entries dropped unread: the ring was full */
	uint32_t nslots;
	uint32_t pad;
	struct fc_log_reader reader[FC_LOG_READERS];
};

/* The region's header: everything but the index, so a region taken over
 * by another process (flowcache__adopt) is the whole cache.
 */
struct fc_region {
	uint32_t magic, version;
	uint32_t conv_size, path_size;
	uint64_t size;	       /* of the records' part, octets */
	uint32_t nconv, npath; /* records ever handed out (bump) */
	uint32_t conv_free;    /* free list, chained by lru.next */
	uint32_t path_free;    /* free list, chained by next */
	uint32_t nconv_free, npath_free;
	uint32_t count; /* live conversations */
	uint32_t batch; /* the current drain (flowcache__batch) */
	struct fe_ilist lru, act, ended;
	uint64_t clock;	     /* latest now_ms */
	uint64_t norm_clock; /* clock at the last stamp renormalisation */
	uint64_t log_size;   /* octets of the export log after size */
	uint32_t fixed;	     /* the region never grows */
	uint32_t epoch;	     /* of the last renormalisation (bit 0) */
	uint32_t journal_size, log_hdr_size;
	struct fc_log log;
	struct fc_journal journal;
};

#define FC_HDR_SIZE 4096
_Static_assert(sizeof(struct fc_region) <= FC_HDR_SIZE, "header fits");

/* A log entry's first three slots: the header, then the record. */
struct fc_log_entry {
	uint64_t pos;
	uint16_t nslots;
	uint8_t reason; /* 0: a filler */
	uint8_t npaths; /* extra paths after it */
	uint8_t nat;	/* its struct fc_nat follows the paths */
	uint8_t pad[3];
	uint64_t spare;
	struct fc_conv conv;
};
_Static_assert(sizeof(struct fc_log_entry) == 192, "three slots");
#define FC_LOG_SLOT 64
/* The smallest ring: two entries of the largest conversation. */
#define FC_LOG_MIN_SLOTS (2 * (3 + 2 * FE_CONV_MAX_PATHS))

/* Whether an adopted region's log is well-formed. */
static inline bool fc_log_valid(const struct fc_region *r)
{
	const struct fc_log *l = &r->log;

	if (!r->log_size)
		return true;
	return l->nslots >= FC_LOG_MIN_SLOTS &&
	       (uint64_t)l->nslots * FC_LOG_SLOT <= r->log_size &&
	       l->tail <= l->head && l->head - l->tail <= l->nslots;
}

/* An index slot: FC_NIL conv when empty. */
struct fc_slot {
	uint32_t hash, conv;
};

/* The store: the region (through the allocator hook) and the index.
 * journal: the region outlives the process (operations are journaled,
 * exports logged).
 */
struct fc_store {
	struct fc_region *r;
	struct flowcache_mem mem;
	struct fc_slot *slots;
	uint32_t nslots; /* power of two */
	bool journal;
	uint64_t redone, dropped; /* by fcj_recover() at adoption */
	uint64_t sipkey[2];
};

static inline struct fc_conv *fcs_conv(const struct fc_store *s, uint32_t i)
{
	return (struct fc_conv *)((char *)s->r + FC_HDR_SIZE +
				  (size_t)i * sizeof(struct fc_conv));
}

static inline struct fc_path *fcs_path(const struct fc_store *s, uint32_t k)
{
	return (struct fc_path *)((char *)s->r + s->r->size -
				  ((size_t)k + 1) * sizeof(struct fc_path));
}

static inline uint32_t fcs_index(const struct fc_store *s,
				 const struct fc_conv *c)
{
	return (uint32_t)(((const char *)c - (const char *)s->r - FC_HDR_SIZE) /
			  sizeof(struct fc_conv));
}

/* The array the conversation lists link through (member: lru, act, ended). */
#define FCS_LINKS(s, member)                                       \
	((struct fe_iarray){ .base = (char *)(s)->r + FC_HDR_SIZE, \
			     .stride = sizeof(struct fc_conv),     \
			     .off = offsetof(struct fc_conv, member) })

/* The paths of a conversation: one chain, path0 first. */
static inline struct fc_path *fcs_first(struct fc_conv *c)
{
	return c->npaths[0] + c->npaths[1] ? &c->path0 : NULL;
}

static inline struct fc_path *fcs_next(const struct fc_store *s,
				       const struct fc_path *p)
{
	return p->next == FC_NIL ? NULL : fcs_path(s, p->next);
}

#define fcs_for_each_path(s, c, p) for (p = fcs_first(c); p; p = fcs_next(s, p))

/* The translation record of a conversation with c->nat set. */
static inline struct fc_nat *fcs_nat(const struct fc_store *s,
				     const struct fc_conv *c)
{
	return (struct fc_nat *)fcs_path(s, c->nat - 1);
}

/* A new empty region from mem (NULL: the default, mmap). A fixed region
 * (mem->fixed_size) is taken whole at once, with log_size octets of it
 * for the export log. 0, -EINVAL (too small) or -ENOMEM.
 */
int fcs_init(struct fc_store *s, const struct flowcache_mem *mem,
	     size_t log_size);
/* Takes over region (size octets) that holds a cache of this layout (0)
 * or refuses it (-EINVAL); the caller then recovers a journaled one
 * (fcj_recover()) and builds the index (fcs_reindex_records()).
 */
int fcs_adopt(struct fc_store *s, const struct flowcache_mem *mem, void *region,
	      size_t size);
/* The region's index from its records (a new hash key): 0 or -ENOMEM. */
int fcs_reindex_records(struct fc_store *s);
void fcs_free(struct fc_store *s);
/* Forgets every record at once (their memory may be dropped). */
void fcs_clear(struct fc_store *s);
uint32_t fcs_hash(const struct fc_store *s, const struct fc_key *k);
/* Ensures that nconv conversations and npath paths can be taken without
 * failing (growing the region). 0 or -ENOMEM.
 */
int fcs_reserve(struct fc_store *s, uint32_t nconv, uint32_t npath);
/* Take after fcs_reserve(); the record is zeroed (flags 0). */
uint32_t fcs_take_conv(struct fc_store *s);
uint32_t fcs_take_path(struct fc_store *s);
void fcs_put_path(struct fc_store *s, uint32_t k);
/* Index: lookup, insert a record whose key and hash are set, remove
 * (the record goes back to the free list).
 */
struct fc_conv *fcs_lookup(const struct fc_store *s, const struct fc_key *k,
			   uint32_t hash);
void fcs_insert(struct fc_store *s, uint32_t i);
void fcs_remove(struct fc_store *s, uint32_t i);

/* ---- flowcache_journal.c: a region that outlives its process ---- */

/* Starts operation op on conversation i (FC_NIL: one FCJ_ADD creates):
 * saves its image. A no-op unless s->journal.
 */
void fcj_begin(struct fc_store *s, uint32_t op, uint32_t i, uint64_t tag,
	       uint64_t seq, uint64_t now);
/* FCJ_ADD made conversation i: restoring it means freeing it. */
void fcj_created(struct fc_store *s, uint32_t i);
/* The operation is complete (an FCJ_ADD's tag becomes the last applied). */
void fcj_end(struct fc_store *s);
/* After a restart: undoes or completes the operation a death cut
 * (counted in *redone), then rebuilds the free lists, the counts and the
 * lists from the records (lru by active, act by last_export, ended by
 * end); a record whose paths are out of shape is freed (*dropped). 0 or
 * -ENOMEM.
 */
int fcj_recover(struct fc_store *s, uint64_t *redone, uint64_t *dropped);
/* A stamp renormalised (see flowcache.c): age clamped to FC_NORM_MS. */
uint32_t fcj_restamp(uint32_t stamp, uint32_t old, uint64_t jump, uint64_t now);
/* Renormalises the live stamps for a clock that moved to now, journaled
 * (a death midway is completed by fcj_recover()).
 */
void fcj_renorm(struct fc_store *s, uint64_t now);

/* ---- flowcache_log.c: the export log ---- */

/* Appends conversation c as exported (netted, before its reset) with its
 * reason; the commit of an export. Returns its position. Drops the
 * oldest entries when the ring is full (counted).
 */
uint64_t fcl_append(struct fc_store *s, struct fc_conv *c, uint8_t reason);

/* ---- flowcache_conv.c: one conversation's contents ---- */

/* An observation's tuple in packet order: side is the key side its source
 * is on; forced_dir, for an ICMP echo, the direction (0: request).
 */
struct fc_tuple {
	int side;
	int forced_dir; /* -1: decided by addresses */
};

/* The key of o's conversation. 0 or -EINVAL (bad family). */
int fcc_key(const struct fe_obs *o, struct fc_key *k, struct fc_tuple *t);
/* A packet time as stored (48 bits). */
uint64_t fcc_ms(uint64_t ms);
/* The paths of direction d in creation order; returns how many. */
int fcc_dir_paths(const struct fc_store *s, struct fc_conv *c, int d,
		  struct fc_path **out);
/* A path record looked for: the path (in_if, out_if), or its drop record
 * (drop); flow_dir for a new one.
 */
struct fcc_want {
	uint32_t in_if, out_if;
	uint8_t flow_dir;
	bool drop;
};
/* Finds or makes record w of direction d (room reserved, see
 * fcc_paths_to_make()); past FE_CONV_MAX_PATHS - 1 records the catch-all
 * (0,0) of its kind, and *merged counts it.
 */
struct fc_path *fcc_path_get(struct fc_store *s, struct fc_conv *c, int d,
			     const struct fcc_want *w, uint64_t *merged);
/* How many path records fcc_path_get() of w[0..nw) would take in
 * direction d.
 */
int fcc_paths_to_make(const struct fc_store *s, struct fc_conv *c, int d,
		      const struct fcc_want *w, int nw);
void fcc_path_observe(struct fc_path *p, const struct fe_obs *o);
/* Nets the take-backs of both directions; whether anything is left to
 * export.
 */
bool fcc_net(const struct fc_store *s, struct fc_conv *c);
uint64_t fcc_negative_packets(const struct fc_store *s, struct fc_conv *c);
/* After an export: positive deltas go to the totals. */
void fcc_reset(const struct fc_store *s, struct fc_conv *c);
/* Turns the conversation round: the responder becomes the initiator. */
void fcc_swap(const struct fc_store *s, struct fc_conv *c);

/* Room for the view of one conversation. */
struct fcc_view {
	struct fe_conv conv;
	struct fe_path path[2][FE_CONV_MAX_PATHS];
};
const struct fe_conv *fcc_view(const struct fc_store *s, struct fc_conv *c,
			       struct fcc_view *buf);

/* ---- flowcache_dedup.c: links, take-backs and their settling ---- */

struct fcd_link {
	uint32_t ifindex;
	uint32_t master; /* IFLA_MASTER, 0: none */
	bool metered;	 /* has an ingress meter */
};

/* The links the cache knows something of (unordered; few). */
struct fcd_links {
	struct fcd_link *l;
	size_t n, cap;
};

/* The conversations whose take-backs went beyond their ledger in the
 * current drain (duplicates allowed): settled when it is in.
 */
struct fcd_pending {
	uint32_t *v;
	size_t n, cap;
};

int fcd_set_metered(struct fcd_links *l, uint32_t ifindex, bool on);
int fcd_set_masters(struct fcd_links *l, const uint32_t (*pairs)[2], size_t n);
void fcd_free(struct fcd_links *l, struct fcd_pending *p);
bool fcd_metered(const struct fcd_links *l, uint32_t ifindex);
/* Whether a packet an egress meter saw enter by ifindex was counted at
 * ingress: ifindex, or a slave of it, has an ingress meter.
 */
bool fcd_counted(const struct fcd_links *l, uint32_t ifindex);
/* The ingress path (its in_if) an egress sighting of direction d of c
 * with in_if takes back from (fcd_counted(in_if) holds): in_if itself, or
 * the slave of it that the ledger points to.
 */
uint32_t fcd_take_from(const struct fcd_links *l, const struct fc_store *s,
		       struct fc_conv *c, int d, uint32_t in_if);
/* Notes conv for settling; -ENOMEM (it is then netted unsettled). */
int fcd_pend(struct fcd_pending *p, uint32_t conv);

/* The packets a removed conversation's ingress path (key side side,
 * in_if) had counted and no egress sighting had claimed.
 */
struct fcd_orphan {
	struct fc_key key;
	uint8_t side;  /* key side of the packets' source */
	uint32_t hash; /* the conversation's */
	uint32_t in_if;
	int64_t packets;
};

/* v[0..old): noted before the current drain; v[old..n): since. */
struct fcd_orphans {
	struct fcd_orphan *v;
	size_t n, cap, old;
};

/* Notes c's orphans as it goes. */
void fcd_orphans_note(struct fcd_orphans *o, const struct fc_store *s,
		      const struct fc_conv *c);
/* A new drain: the orphans of two drains ago go. */
void fcd_orphans_age(struct fcd_orphans *o);
void fcd_orphans_free(struct fcd_orphans *o);

struct fcd_ctx {
	const struct fcd_links *l;
	struct fc_store *s; /* settling journals what it changes */
	struct fcd_orphans *o;
	struct flowcache_stats *st;
};
/* Settles the take-backs of the pending conversations (see the file's
 * head) and empties the list.
 */
void fcd_settle(const struct fcd_ctx *x, struct fcd_pending *p);

/* ---- flowcache_nat.c: translated conversations ---- */

/* The alias index: buckets of conversation indexes chained through
 * fc_nat.anext.
 */
struct fcn_index {
	uint32_t *head;
	uint32_t nb; /* buckets, a power of two */
	uint32_t count;
};

/* The keys of a translation: ok of the original tuple (ot its side), ak
 * of the translated one, flip as in struct fc_nat. 0, or -EINVAL (bad
 * family, or no translation at all).
 */
int fcn_keys(const struct fe_flow_key *orig, const struct fe_nat_val *post,
	     struct fc_key *ok, struct fc_tuple *ot, struct fc_key *ak,
	     uint8_t *flip);
void fcn_free(struct fcn_index *x);
/* Forgets every alias (the records went with fcs_clear()). */
void fcn_clear(struct fcn_index *x);
struct fc_conv *fcn_lookup(const struct fcn_index *x, const struct fc_store *s,
			   const struct fc_key *k, uint32_t h);
/* Files conversation conv, whose translation record is filled, under its
 * alias. 0 or -ENOMEM.
 */
int fcn_insert(struct fcn_index *x, struct fc_store *s, uint32_t conv);
/* Unfiles c and frees its translation record. */
void fcn_remove(struct fcn_index *x, struct fc_store *s, struct fc_conv *c);
/* The index of an adopted region's translated conversations. */
int fcn_rebuild(struct fcn_index *x, struct fc_store *s);
/* Moves the paths and per-direction values of p, a conversation under
 * o's alias key (flip as in o's record), into o (room reserved: as many
 * paths as p has); p is left to be removed.
 */
void fcn_merge(struct fc_store *s, struct fc_conv *o, struct fc_conv *p,
	       uint8_t flip, uint64_t *merged);

/* The cache (flowcache.c; the export log's calls are flowcache_log.c's). */
struct flowcache {
	struct flowcache_cfg cfg;
	struct fc_store s;
	struct fcd_links links;
	struct fcd_pending pend;
	struct fcd_orphans orph;
	struct fcn_index nat;
	struct flowcache_stats st;
	struct fcc_view view; /* what callbacks get */
};

/* The drain that came in is complete: its take-backs are settled. */
static inline void fc_settle(struct flowcache *fc)
{
	struct fcd_ctx x = { &fc->links, &fc->s, &fc->orph, &fc->st };

	fcd_settle(&x, &fc->pend);
}

#endif
