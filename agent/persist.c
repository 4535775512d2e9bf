/* persist.c - the agent's state that outlives it (see persist.h): the
 * pinned state map of the meter set, mmap()ed whole, its header checked
 * or written, and the parts it holds handed out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "flowcache.h"
#include "log.h"
#include "persist.h"

#define PERSIST_MAGIC 0x66657374u /* "fest" */
#define PERSIST_HDR 4096

/* The header: what made the state, and where its parts are. magic is
 * written last: a state whose creation was cut has none, and is made
 * again.
 */
struct persist_hdr {
	uint32_t magic, version;
	uint64_t size;		     /* of the map */
	uint32_t key_size, val_size; /* struct fe_flow_key, fe_flow_val */
	uint32_t max_flows;	     /* it was sized for */
	uint32_t stage_cap;
	uint64_t stage_off, cache_off, cache_size, log_size;
	uint64_t created_ms; /* UNIX ms */
	char pin[256];	     /* the pin directory it was made in */
};
_Static_assert(sizeof(struct persist_hdr) <= PERSIST_HDR, "header fits");

struct persist {
	int fd;
	void *map;
	size_t size;
	bool fresh;
	struct persist_hdr *h;
};

static size_t page_up(size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (n + pg - 1) / pg * pg;
}

/* The parts for max_flows conversations: each with its record and one
 * path record beyond the inline one (the reverse direction of a biflow),
 * and an export log of one slot per two conversations (at least 4 MiB:
 * what a send queue holds, conversations exported but not yet sent).
 */
static void layout(struct persist_hdr *h, unsigned int max_flows)
{
	uint64_t recs = 4096 + (uint64_t)max_flows * PERSIST_BYTES_PER_FLOW;
	uint64_t log = (uint64_t)max_flows * 32;

	if (log < PERSIST_LOG_MIN)
		log = PERSIST_LOG_MIN;
	h->max_flows = max_flows;
	h->stage_cap = METER_STAGE_CAP;
	h->stage_off = PERSIST_HDR;
	h->cache_off = h->stage_off + page_up(METER_STAGE_SIZE(h->stage_cap));
	h->log_size = page_up(log);
	h->cache_size = page_up(recs) + h->log_size;
	h->size = h->cache_off + h->cache_size;
}

size_t persist__size_for(unsigned int max_flows)
{
	struct persist_hdr h;

	layout(&h, max_flows);
	return h.size;
}

static void format(struct persist *p, const char *pin, unsigned int max_flows,
		   uint64_t now_ms)
{
	struct persist_hdr *h = p->h;

	memset(h, 0, PERSIST_HDR);
	layout(h, max_flows);
	h->size = p->size; /* whole pages: perhaps more than asked */
	h->cache_size = p->size - h->cache_off;
	if (h->log_size > h->cache_size / 4) /* a map left by an older try */
		h->log_size = page_up(h->cache_size / 4) - 4096;
	h->version = PERSIST_VERSION;
	h->key_size = sizeof(struct fe_flow_key);
	h->val_size = sizeof(struct fe_flow_val);
	h->created_ms = now_ms;
	snprintf(h->pin, sizeof(h->pin), "%s", pin);
	meter_stage_init(persist__stage(p), h->stage_cap);
	__atomic_store_n(&h->magic, PERSIST_MAGIC, __ATOMIC_RELEASE);
	p->fresh = true;
}

/* Whether the header is this version's, made under pin; if not why. */
static bool check(const struct persist *p, const char *pin, char *why,
		  size_t len)
{
	const struct persist_hdr *h = p->h;

	if (h->version != PERSIST_VERSION)
		snprintf(why, len, "layout version %u, this flowagent's is %u",
			 h->version, PERSIST_VERSION);
	else if (h->key_size != sizeof(struct fe_flow_key) ||
		 h->val_size != sizeof(struct fe_flow_val))
		snprintf(why, len,
			 "kernel entries of %u+%u octets, not %zu+%zu",
			 h->key_size, h->val_size, sizeof(struct fe_flow_key),
			 sizeof(struct fe_flow_val));
	else if (strncmp(h->pin, pin, sizeof(h->pin)))
		snprintf(why, len, "made under the pin directory %.200s",
			 h->pin);
	else if (h->size != p->size || h->cache_off + h->cache_size > p->size ||
		 h->stage_cap != METER_STAGE_CAP ||
		 h->stage_off + METER_STAGE_SIZE(h->stage_cap) > h->cache_off)
		snprintf(why, len, "a header that does not fit the map");
	else
		return true;
	return false;
}

void persist__refuse_msg(const char *pin, const char *why)
{
	pr_warn("pinned agent state %s/%s: %s. It may hold counts not yet "
		"exported: run the flowagent that made it and stop it with "
		"SIGTERM to export them, or drop them with `flowctl --pin-path "
		"%s detach --all`; refusing to start over it\n",
		pin, FE_PIN_STATE, why, pin);
}

int persist__open(struct meter *m, const char *pin, unsigned int max_flows,
		  uint64_t now_ms, struct persist **out)
{
	struct persist *p = calloc(1, sizeof(*p));
	char why[300];
	int err;

	if (!p)
		return -ENOMEM;
	p->fd = meter__state_open(m, persist__size_for(max_flows), &p->size);
	if (p->fd < 0) {
		err = p->fd;
		free(p);
		if (err == -EPROTO)
			persist__refuse_msg(pin, "not a state map");
		return err;
	}
	p->map = mmap(NULL, p->size, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd,
		      0);
	if (p->map == MAP_FAILED) {
		err = -errno;
		pr_warn("map the agent's state %s/%s: %s\n", pin, FE_PIN_STATE,
			strerror(errno));
		close(p->fd);
		free(p);
		return err;
	}
	p->h = p->map;
	if (p->h->magic != PERSIST_MAGIC) {
		format(p, pin, max_flows, now_ms);
	} else if (!check(p, pin, why, sizeof(why))) {
		persist__refuse_msg(pin, why);
		persist__close(p);
		return -EPROTO;
	}
	*out = p;
	return 0;
}

void persist__close(struct persist *p)
{
	if (!p)
		return;
	munmap(p->map, p->size);
	close(p->fd);
	free(p);
}

bool persist__fresh(const struct persist *p)
{
	return p->fresh;
}

unsigned int persist__max_flows(const struct persist *p)
{
	return p->h->max_flows;
}

size_t persist__bytes(const struct persist *p)
{
	return p->size;
}

struct meter_stage *persist__stage(struct persist *p)
{
	return (struct meter_stage *)((char *)p->map + p->h->stage_off);
}

void *persist__cache(struct persist *p, size_t *size)
{
	*size = p->h->cache_size;
	return (char *)p->map + p->h->cache_off;
}

/* The cache's hook: its region is the map's cache part, whole, once. */
static void *cache_resize(void *ctx, void *old, size_t old_size,
			  size_t new_size)
{
	struct persist *p = ctx;
	size_t size;
	void *r = persist__cache(p, &size);

	return !old && new_size == size ? r : NULL;
}

static void cache_release(void *ctx, void *region, size_t size)
{
	/* the map's: unmapped by persist__close(), kept by its pin */
}

struct flowcache_mem persist__cache_mem(struct persist *p)
{
	struct flowcache_mem m = {
		.resize = cache_resize,
		.release = cache_release,
		.ctx = p,
		.fixed_size = p->h->cache_size,
		.log_size = p->h->log_size,
	};
	return m;
}
