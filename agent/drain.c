/* drain.c - the flow maps' contents: flip the live generation and drain
 * the quiescent one into a stage (lookup-and-delete in batches, else one
 * key at a time), read, delete and count the live one. The stage may live
 * in memory that outlives the process: at every instant it says which
 * entries the kernel has handed over and the caller may not have applied.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "meter_int.h"
#include "log.h"

/* A store the stage's readers (a restarted process) rely on: what comes
 * before it in program order is written first.
 */
#define STAGE_SET(st, v) __atomic_store_n(&(st)->state, (v), __ATOMIC_RELEASE)

static void stage_begin(struct meter_stage *st)
{
	st->seq++;
	STAGE_SET(st, METER_STAGE_TAKING);
}

/* The stage holds n entries: the caller applies them, then it empties. */
static void stage_deliver(struct meter_stage *st, uint32_t n, meter_batch_fn fn,
			  void *ctx)
{
	if (!n) {
		STAGE_SET(st, METER_STAGE_EMPTY);
		return;
	}
	st->n = n;
	STAGE_SET(st, METER_STAGE_FULL);
	fn(ctx, st);
	meter_stage_done(st);
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

/* Takes every entry one key at a time (lookup-and-delete of one element:
 * the value reaches the stage and leaves the map in one call).
 */
static int walk_take(int fd, struct meter_stage *st, meter_batch_fn fn,
		     void *ctx)
{
	struct fe_flow_key *keys = meter_stage_keys(st);
	struct fe_flow_val *vals = meter_stage_vals(st);
	struct key_walk w;
	uint32_t n = 0;
	int total = 0;

	stage_begin(st);
	for (key_walk_start(&w, fd); key_walk_step(&w);) {
		keys[n] = w.cur;
		if (bpf_map_lookup_and_delete_elem(fd, &keys[n], &vals[n]))
			continue;
		total++;
		if (++n < st->cap)
			continue;
		stage_deliver(st, n, fn, ctx);
		n = 0;
		stage_begin(st);
	}
	stage_deliver(st, n, fn, ctx);
	return total;
}

/* Drains one map into the stage, batch by batch. What the kernel hands
 * over is out of the map, error or not: every such entry is delivered.
 * Returns entries taken; *err the first error (0: none).
 */
static int drain_map(int fd, struct meter_stage *st, meter_batch_fn fn,
		     void *ctx, int *err)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 batch, count;
	void *in = NULL;
	int total = 0, e;

	for (;;) {
		count = st->cap;
		stage_begin(st);
		e = bpf_map_lookup_and_delete_batch(
			fd, in, &batch, meter_stage_keys(st),
			meter_stage_vals(st), &count, &opts);
		e = e ? -errno : 0;
		if (count > st->cap) /* never from the kernel */
			count = 0;
		/* a failed copy may have left part of an entry past count */
		if (e && e != -ENOENT)
			memset(meter_stage_vals(st) + count, 0,
			       (size_t)(st->cap - count) *
				       sizeof(struct fe_flow_val));
		stage_deliver(st, count, fn, ctx);
		total += count;
		if (e == -ENOENT)
			return total;
		if (e == -ENOSPC || e == -EINVAL)
			return total + walk_take(fd, st, fn, ctx);
		if (e) {
			pr_warn("drain flow map: %s (%d entries taken before "
				"it, all delivered)\n",
				strerror(-e), total);
			*err = e;
			return total;
		}
		in = &batch;
	}
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

int meter__drain_staged(struct meter *m, struct meter_stage *st,
			meter_batch_fn fn, void *ctx)
{
	int old = 0, err, n;

	err = flip_generation(m, &old);
	if (err)
		return err;
	/* an error in the flows map still leaves the overflow map to drain:
	 * what stays in either is drained by a later tick
	 */
	n = drain_map(m->flows_fd[old], st, fn, ctx, &err);
	n += drain_map(m->ovf_fd[old], st, fn, ctx, &err);
	return err ? err : n;
}

/* Whether an entry makes a record or joins one. An entry the programs
 * made holds a packet at least, or is a NAT translation (FE_KIND_NAT: no
 * counters); one without (written from user space) makes no record.
 */
static bool entry_used(const struct fe_flow_key *k, const struct fe_flow_val *v)
{
	return v->packets || k->kind == FE_KIND_NAT;
}

/* meter__drain()'s adapter: a batch, entry by entry (entry_used()). */
struct entry_fn {
	meter_entry_fn fn;
	void *ctx;
};

static void deliver_entries(void *ctx, struct meter_stage *st)
{
	const struct fe_flow_key *k = meter_stage_keys(st);
	const struct fe_flow_val *v = meter_stage_vals(st);
	struct entry_fn *e = ctx;

	for (uint32_t i = 0; i < st->n; i++)
		if (entry_used(&k[i], &v[i]))
			e->fn(e->ctx, &k[i], &v[i]);
}

int meter__drain(struct meter *m, meter_entry_fn fn, void *ctx)
{
	struct entry_fn e = { fn, ctx };

	return meter__drain_staged(m, m->stage, deliver_entries, &e);
}

/* Reads every entry of a map one key at a time, leaving it there. */
static int walk_read(int fd, meter_entry_fn fn, void *ctx)
{
	struct fe_flow_val v;
	struct key_walk w;
	int n = 0;

	for (key_walk_start(&w, fd); key_walk_step(&w);) {
		if (bpf_map_lookup_elem(fd, &w.cur, &v))
			continue;
		n++;
		if (entry_used(&w.cur, &v) && fn(ctx, &w.cur, &v))
			break;
	}
	return n;
}

int meter__read(struct meter *m, meter_entry_fn fn, void *ctx)
{
	int g = meter_live_gen(m);

	if (g < 0)
		return g;
	return walk_read(m->flows_fd[g], fn, ctx) +
	       walk_read(m->ovf_fd[g], fn, ctx);
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
