/* flowcache_store.c - the flow cache's store (flowcache_int.h): the region
 * of conversation and path records from the allocator hook, its growth,
 * the free lists, and the hash index of conversations (open addressing,
 * rebuilt from the records when a region is adopted).
 */
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "flowcache_int.h"
#include "siphash.h"

#define FCS_MIN_SIZE (64 * 1024)
#define FCS_MIN_SLOTS 1024
#define FCS_HUGE_SIZE (64u << 20)

/* The default hook: anonymous memory, grown by mremap() (no copy, pages
 * faulted in as records are first used).
 */
static void *mmap_resize(void *ctx, void *old, size_t old_size, size_t new_size)
{
	void *p;

	if (!old)
		p = mmap(NULL, new_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	else
		p = mremap(old, old_size, new_size, MREMAP_MAYMOVE);
	if (p == MAP_FAILED)
		return NULL;
	/* a large region: huge pages (where THP is "madvise") spare most
	 * page faults of new records and TLB misses of lookups, for at most
	 * two huge pages (front and back) not yet used
	 */
	if (new_size >= FCS_HUGE_SIZE)
		madvise(p, new_size, MADV_HUGEPAGE);
	return p;
}

static void mmap_release(void *ctx, void *region, size_t size)
{
	munmap(region, size);
}

/* Drops the whole pages inside [p, p + len). */
static void mmap_discard(void *ctx, void *p, size_t len)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = ((uintptr_t)p + pg - 1) & ~(pg - 1);
	uintptr_t b = ((uintptr_t)p + len) & ~(pg - 1);

	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

static const struct flowcache_mem mmap_mem = {
	.resize = mmap_resize,
	.release = mmap_release,
	.discard = mmap_discard,
};

uint32_t fcs_hash(const struct fc_store *s, const struct fc_key *k)
{
	return (uint32_t)siphash13(s->sipkey, k, sizeof(*k));
}

static void fcs_slot_put(struct fc_slot *t, uint32_t mask, uint32_t hash,
			 uint32_t conv)
{
	uint32_t i = hash & mask;

	while (t[i].conv != FC_NIL)
		i = (i + 1) & mask;
	t[i].hash = hash;
	t[i].conv = conv;
}

/* Index tables: anonymous memory (every slot is written at once, so all
 * of it is resident anyway), in huge pages when large: a lookup is a
 * random slot, and in a VM a TLB miss costs as much as the cache miss.
 */
static struct fc_slot *fcs_slots_new(uint32_t n)
{
	size_t len = (size_t)n * sizeof(struct fc_slot);
	struct fc_slot *t = mmap(NULL, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (t == MAP_FAILED)
		return NULL;
	if (len >= (2u << 20))
		madvise(t, len, MADV_HUGEPAGE);
	memset(t, 0xff, len); /* conv FC_NIL */
	return t;
}

static void fcs_slots_free(struct fc_slot *t, uint32_t n)
{
	if (t)
		munmap(t, (size_t)n * sizeof(*t));
}

/* A table of n slots; its contents from the old table (no record read)
 * or, for an adopted region, from the records with their hashes
 * recomputed. The old table stays on allocation failure (fuller, still
 * correct).
 */
static int fcs_reindex(struct fc_store *s, uint32_t n, bool from_records)
{
	struct fc_slot *t = fcs_slots_new(n);
	uint32_t i;

	if (!t)
		return -ENOMEM;
	if (from_records) {
		for (i = 0; i < s->r->nconv; i++) {
			struct fc_conv *c = fcs_conv(s, i);

			if (!(c->flags & FC_LIVE))
				continue;
			c->hash = fcs_hash(s, &c->key);
			fcs_slot_put(t, n - 1, c->hash, i);
		}
	} else {
		for (i = 0; i < s->nslots; i++)
			if (s->slots[i].conv != FC_NIL)
				fcs_slot_put(t, n - 1, s->slots[i].hash,
					     s->slots[i].conv);
	}
	fcs_slots_free(s->slots, s->nslots);
	s->slots = t;
	s->nslots = n;
	return 0;
}

static void fcs_region_init(struct fc_region *r, size_t size, size_t log)
{
	memset(r, 0, FC_HDR_SIZE);
	r->magic = FC_MAGIC;
	r->version = FC_VERSION;
	r->conv_size = sizeof(struct fc_conv);
	r->path_size = sizeof(struct fc_path);
	r->journal_size = sizeof(struct fc_journal);
	r->log_hdr_size = sizeof(struct fc_log);
	r->size = size - log;
	r->log_size = log;
	r->log.nslots = (uint32_t)(log / FC_LOG_SLOT);
	r->conv_free = r->path_free = FC_NIL;
	fe_ilist_init(&r->lru);
	fe_ilist_init(&r->act);
	fe_ilist_init(&r->ended);
}

int fcs_init(struct fc_store *s, const struct flowcache_mem *mem,
	     size_t log_size)
{
	size_t size = mem && mem->fixed_size ? mem->fixed_size : FCS_MIN_SIZE;
	struct fc_region *r;

	memset(s, 0, sizeof(*s));
	s->mem = mem ? *mem : mmap_mem;
	if (!s->mem.fixed_size)
		log_size = 0;
	log_size -= log_size % FC_LOG_SLOT;
	if ((log_size && log_size < FC_LOG_MIN_SLOTS * FC_LOG_SLOT) ||
	    size < FC_HDR_SIZE + sizeof(struct fc_conv) + log_size)
		return -EINVAL;
	siphash_key_init(s->sipkey);
	r = s->mem.resize(s->mem.ctx, NULL, 0, size);
	if (!r)
		return -ENOMEM;
	fcs_region_init(r, size, log_size);
	r->fixed = !!s->mem.fixed_size;
	s->r = r;
	s->journal = log_size > 0;
	if (fcs_reindex(s, FCS_MIN_SLOTS, false)) {
		s->mem.release(s->mem.ctx, r, size);
		s->r = NULL;
		return -ENOMEM;
	}
	return 0;
}

static bool fcs_region_valid(const struct fc_region *r, size_t size)
{
	return size >= FC_HDR_SIZE && r->magic == FC_MAGIC &&
	       r->version == FC_VERSION &&
	       r->conv_size == sizeof(struct fc_conv) &&
	       r->path_size == sizeof(struct fc_path) &&
	       r->journal_size == sizeof(struct fc_journal) &&
	       r->log_hdr_size == sizeof(struct fc_log) &&
	       r->size + r->log_size == size && (!r->log_size || r->fixed) &&
	       FC_HDR_SIZE + (uint64_t)r->nconv * sizeof(struct fc_conv) +
			       (uint64_t)r->npath * sizeof(struct fc_path) <=
		       r->size &&
	       fc_log_valid(r);
}

int fcs_reindex_records(struct fc_store *s)
{
	uint32_t n = FCS_MIN_SLOTS;

	while (n / 4 * 3 < s->r->count && n < (1u << 31))
		n *= 2;
	/* a new process has a new hash key: every hash is recomputed */
	return fcs_reindex(s, n, true);
}

int fcs_adopt(struct fc_store *s, const struct flowcache_mem *mem, void *region,
	      size_t size)
{
	memset(s, 0, sizeof(*s));
	if (!fcs_region_valid(region, size))
		return -EINVAL;
	s->mem = mem ? *mem : mmap_mem;
	s->r = region;
	s->journal = s->r->log_size > 0;
	siphash_key_init(s->sipkey);
	return 0;
}

void fcs_free(struct fc_store *s)
{
	if (s->r)
		s->mem.release(s->mem.ctx, s->r, s->r->size + s->r->log_size);
	fcs_slots_free(s->slots, s->nslots);
	memset(s, 0, sizeof(*s));
}

void fcs_clear(struct fc_store *s)
{
	struct fc_region *r = s->r;
	size_t used = (size_t)r->nconv * sizeof(struct fc_conv);
	size_t parea = (size_t)r->npath * sizeof(struct fc_path);

	if (s->mem.discard) {
		s->mem.discard(s->mem.ctx, (char *)r + FC_HDR_SIZE, used);
		s->mem.discard(s->mem.ctx, (char *)r + r->size - parea, parea);
	}
	r->nconv = r->npath = r->count = 0;
	r->nconv_free = r->npath_free = 0;
	r->conv_free = r->path_free = FC_NIL;
	fe_ilist_init(&r->lru);
	fe_ilist_init(&r->act);
	fe_ilist_init(&r->ended);
	memset(s->slots, 0xff, (size_t)s->nslots * sizeof(*s->slots));
}

static uint64_t fcs_used(const struct fc_region *r, uint64_t nconv,
			 uint64_t npath)
{
	return FC_HDR_SIZE + nconv * sizeof(struct fc_conv) +
	       npath * sizeof(struct fc_path);
}

/* Doubles the region (or more, to need) and moves the path area to its
 * new end, where the indices counted from the end find it again.
 */
static int fcs_grow(struct fc_store *s, uint64_t need)
{
	struct fc_region *r = s->r;
	uint64_t old = r->size, size = old * 2;
	size_t parea = (size_t)r->npath * sizeof(struct fc_path);
	char *p;

	while (size < need)
		size *= 2;
	if (r->fixed || size > SIZE_MAX / 2)
		return -ENOMEM;
	p = s->mem.resize(s->mem.ctx, r, old, size);
	if (!p)
		return -ENOMEM;
	memmove(p + size - parea, p + old - parea, parea);
	/* the old path area is free room now, up to where the new one is */
	if (s->mem.discard && parea)
		s->mem.discard(s->mem.ctx, p + old - parea,
			       parea < size - old ? parea : size - old);
	s->r = (struct fc_region *)p;
	s->r->size = size;
	return 0;
}

int fcs_reserve(struct fc_store *s, uint32_t nconv, uint32_t npath)
{
	const struct fc_region *r = s->r;
	uint64_t c = nconv > r->nconv_free ? nconv - r->nconv_free : 0;
	uint64_t p = npath > r->npath_free ? npath - r->npath_free : 0;
	uint64_t need = fcs_used(r, r->nconv + c, r->npath + p);

	if (r->nconv + c >= FC_NIL || r->npath + p >= FC_NIL)
		return -ENOMEM;
	return need <= r->size ? 0 : fcs_grow(s, need);
}

uint32_t fcs_take_conv(struct fc_store *s)
{
	struct fc_region *r = s->r;
	uint32_t i = r->conv_free;

	if (i != FC_NIL) {
		r->conv_free = fcs_conv(s, i)->lru.next;
		r->nconv_free--;
	} else {
		i = r->nconv++;
	}
	memset(fcs_conv(s, i), 0, sizeof(struct fc_conv));
	return i;
}

uint32_t fcs_take_path(struct fc_store *s)
{
	struct fc_region *r = s->r;
	uint32_t k = r->path_free;

	if (k != FC_NIL) {
		r->path_free = fcs_path(s, k)->next;
		r->npath_free--;
	} else {
		k = r->npath++;
	}
	memset(fcs_path(s, k), 0, sizeof(struct fc_path));
	return k;
}

void fcs_put_path(struct fc_store *s, uint32_t k)
{
	fcs_path(s, k)->next = s->r->path_free;
	s->r->path_free = k;
	s->r->npath_free++;
}

struct fc_conv *fcs_lookup(const struct fc_store *s, const struct fc_key *k,
			   uint32_t hash)
{
	uint32_t mask = s->nslots - 1, i = hash & mask;

	for (; s->slots[i].conv != FC_NIL; i = (i + 1) & mask) {
		struct fc_conv *c;

		if (s->slots[i].hash != hash)
			continue;
		c = fcs_conv(s, s->slots[i].conv);
		if (!memcmp(&c->key, k, sizeof(*k)))
			return c;
	}
	return NULL;
}

void fcs_insert(struct fc_store *s, uint32_t i)
{
	fcs_slot_put(s->slots, s->nslots - 1, fcs_conv(s, i)->hash, i);
	s->r->count++;
	if (s->r->count > s->nslots / 4 * 3 && s->nslots < (1u << 31))
		fcs_reindex(s, s->nslots * 2, false);
}

/* Empties slot i, shifting back the slots of the run after it that
 * would no longer be found (linear probing's deletion, no tombstones).
 */
static void fcs_slot_del(struct fc_store *s, uint32_t i)
{
	uint32_t mask = s->nslots - 1, j = i, home;

	for (;;) {
		j = (j + 1) & mask;
		if (s->slots[j].conv == FC_NIL)
			break;
		home = s->slots[j].hash & mask;
		/* slot j may stay unless its home lies cyclically in (i, j] */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		s->slots[i] = s->slots[j];
		i = j;
	}
	s->slots[i].conv = FC_NIL;
}

void fcs_remove(struct fc_store *s, uint32_t i)
{
	struct fc_conv *c = fcs_conv(s, i);
	uint32_t mask = s->nslots - 1, pos = c->hash & mask, k, next;

	while (s->slots[pos].conv != i)
		pos = (pos + 1) & mask;
	fcs_slot_del(s, pos);
	/* its extra paths (path0 is inline) */
	for (k = c->npaths[0] + c->npaths[1] ? c->path0.next : FC_NIL;
	     k != FC_NIL; k = next) {
		next = fcs_path(s, k)->next;
		fcs_put_path(s, k);
	}
	c->flags = 0;
	c->lru.next = s->r->conv_free;
	s->r->conv_free = i;
	s->r->nconv_free++;
	s->r->count--;
}
