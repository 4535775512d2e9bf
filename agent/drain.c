/* drain.c - the flow maps' contents: flip the live generation and drain
 * the quiescent one (lookup-and-delete in batches, else a walk one key at a
 * time), read, delete and count the live one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "meter_int.h"
#include "log.h"

/* Passes a non-empty entry to fn; what fn returns (nonzero: stop). An
 * entry the programs made holds a packet at least, or is a NAT
 * translation (FE_KIND_NAT: no counters); one without (written from user
 * space) makes no record.
 */
static int deliver(const struct fe_flow_key *k, const struct fe_flow_val *v,
		   meter_entry_fn fn, void *ctx)
{
	return v->packets || k->kind == FE_KIND_NAT ? fn(ctx, k, v) : 0;
}

/* Steps through the keys of a map. The next key is taken before the
 * caller sees the current one, which it may then delete, so the walk
 * never restarts: one pass over the map.
 */
struct key_walk {
	int fd;
	bool more; /* next holds the key after cur */
	struct fe_flow_key cur, next;
};

static void key_walk_start(struct key_walk *w, int fd)
{
	w->fd = fd;
	w->more = bpf_map_get_next_key(fd, NULL, &w->next) == 0;
}

/* Moves to the next key (w->cur); false at the end of the map. */
static bool key_walk_step(struct key_walk *w)
{
	if (!w->more)
		return false;
	w->cur = w->next;
	w->more = bpf_map_get_next_key(w->fd, &w->cur, &w->next) == 0;
	return true;
}

/* Reads every entry one key at a time (and deletes it if del). */
static int walk_map(struct meter *m, int fd, bool del, meter_entry_fn fn,
		    void *ctx)
{
	struct key_walk w;
	int n = 0;

	for (key_walk_start(&w, fd); key_walk_step(&w);) {
		if (bpf_map_lookup_elem(fd, &w.cur, m->vals))
			continue;
		n++;
		if (deliver(&w.cur, m->vals, fn, ctx))
			break;
		if (del)
			bpf_map_delete_elem(fd, &w.cur);
	}
	return n;
}

static int drain_map(struct meter *m, int fd, meter_entry_fn fn, void *ctx)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 batch, count;
	void *in = NULL;
	int total = 0, err;

	for (;;) {
		count = DRAIN_BATCH;
		err = bpf_map_lookup_and_delete_batch(fd, in, &batch, m->keys,
						      m->vals, &count, &opts);
		if (err && errno != ENOENT) {
			if (errno == ENOSPC || errno == EINVAL)
				return total + walk_map(m, fd, true, fn, ctx);
			err = -errno;
			pr_warn("drain flow map: %s\n", strerror(errno));
			return err;
		}
		/* the entries are out of the map now: deliver all of them */
		for (__u32 i = 0; i < count; i++)
			deliver(&m->keys[i], &m->vals[i], fn, ctx);
		total += count;
		if (err)
			break;
		in = &batch;
	}
	return total;
}

/* The swap of flowexp.h: fe_gen flipped by a plain update, then one
 * map-in-map update, a slot of the old generation rewritten with the map it
 * holds, for its synchronize_rcu(). On return the old generation (*old) is
 * quiescent.
 */
static int flip_generation(struct meter *m, int *old)
{
	__u32 zero = 0, next, slot;
	int live = meter_live_gen(m);

	if (live < 0)
		return live;
	next = !live;
	if (bpf_map_update_elem(m->gen_fd, &zero, &next, 0)) {
		int err = -errno;

		pr_warn("flip the live generation (fe_gen): %s\n",
			strerror(errno));
		return err;
	}
	/* the update returns once no program can still hold the old maps */
	slot = FE_SLOT_FLOWS(live);
	if (bpf_map_update_elem(m->outer_fd, &slot, &m->flows_fd[live], 0)) {
		int err = -errno;

		/* fe_gen is flipped but nothing is drained: the entries
		 * stay where they are for a later tick
		 */
		pr_warn("wait for the meters (update fe_outer slot %u): %s\n",
			slot, strerror(errno));
		return err;
	}
	*old = live;
	return 0;
}

int meter__drain(struct meter *m, meter_entry_fn fn, void *ctx)
{
	int old = 0, err, n1, n2;

	err = flip_generation(m, &old);
	if (err)
		return err;
	n1 = drain_map(m, m->flows_fd[old], fn, ctx);
	n2 = drain_map(m, m->ovf_fd[old], fn, ctx);
	if (n1 < 0)
		return n1;
	if (n2 < 0)
		return n2;
	return n1 + n2;
}

int meter__read(struct meter *m, meter_entry_fn fn, void *ctx)
{
	int g = meter_live_gen(m);

	if (g < 0)
		return g;
	return walk_map(m, m->flows_fd[g], false, fn, ctx) +
	       walk_map(m, m->ovf_fd[g], false, fn, ctx);
}

static int delete_matching(int fd,
			   bool (*match)(void *, const struct fe_flow_key *),
			   void *ctx)
{
	struct key_walk w;
	int n = 0;

	for (key_walk_start(&w, fd); key_walk_step(&w);)
		if ((!match || match(ctx, &w.cur)) &&
		    bpf_map_delete_elem(fd, &w.cur) == 0)
			n++;
	return n;
}

int meter__delete(struct meter *m,
		  bool (*match)(void *ctx, const struct fe_flow_key *k),
		  void *ctx)
{
	int g = meter_live_gen(m);

	if (g < 0)
		return g;
	return delete_matching(m->flows_fd[g], match, ctx) +
	       delete_matching(m->ovf_fd[g], match, ctx);
}

static int count_map(int fd)
{
	struct key_walk w;
	int n = 0;

	for (key_walk_start(&w, fd); key_walk_step(&w);)
		n++;
	return n;
}

int meter__count(struct meter *m, unsigned int *flows, unsigned int *ovf)
{
	int g = meter_live_gen(m);

	if (g < 0)
		return g;
	*flows = count_map(m->flows_fd[g]);
	*ovf = count_map(m->ovf_fd[g]);
	return 0;
}
