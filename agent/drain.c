/* drain.c - the flow maps' contents: swap the spare maps in and drain the
 * quiescent ones (lookup-and-delete in batches, else a walk one key at a
 * time), read, delete and count the live ones; the per-CPU values of each
 * entry summed into one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "meter_int.h"
#include "log.h"

void meter_sum_percpu(const struct fe_flow_val *vals, int ncpu,
		      struct fe_flow_val *out)
{
	uint64_t newest = 0;

	memset(out, 0, sizeof(*out));
	for (int c = 0; c < ncpu; c++) {
		const struct fe_flow_val *v = &vals[c];

		if (!v->packets)
			continue;
		if (!out->packets || v->first_ns < out->first_ns)
			out->first_ns = v->first_ns;
		if (!out->packets || v->ttl_min < out->ttl_min)
			out->ttl_min = v->ttl_min;
		if (v->ttl_max > out->ttl_max)
			out->ttl_max = v->ttl_max;
		if (v->last_ns >= newest) {
			newest = v->last_ns;
			out->tos = v->tos;
			out->flow_label = v->flow_label;
		}
		out->packets += v->packets;
		out->octets += v->octets;
		out->tcp_flags |= v->tcp_flags;
		out->vflags |= v->vflags;
	}
	out->last_ns = newest;
}

/* Index (0 = a, 1 = b) of the map live in a slot. */
static int live_index(struct meter *m, __u32 slot, const uint32_t ids[2])
{
	__u32 id = 0;

	if (!m->maps_ok) /* METER_F_ANY_LAYOUT: no flow maps to use */
		return -EPROTO;
	if (bpf_map_lookup_elem(m->outer_fd, &slot, &id))
		return -errno;
	return id == ids[1] ? 1 : 0;
}

/* Sums the per-CPU values of the buffered entry i and passes a non-empty
 * one to fn. Returns what fn returns (nonzero: stop), 0 for an empty one.
 */
static int sum_and_deliver(struct meter *m, int i, meter_entry_fn fn, void *ctx)
{
	struct fe_flow_val sum;

	meter_sum_percpu(&m->vals[(size_t)i * m->ncpu], m->ncpu, &sum);
	if (!sum.packets)
		return 0;
	return fn(ctx, &m->keys[i], &sum);
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
		m->keys[0] = w.cur;
		n++;
		if (sum_and_deliver(m, 0, fn, ctx))
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
			sum_and_deliver(m, i, fn, ctx);
		total += count;
		if (err)
			break;
		in = &batch;
	}
	return total;
}

static int swap_slot(struct meter *m, __u32 slot, const int fds[2],
		     const uint32_t ids[2], int *old_fd)
{
	int live = live_index(m, slot, ids);

	if (live < 0)
		return live;
	/* the update returns once no program can still hold the old map */
	if (bpf_map_update_elem(m->outer_fd, &slot, &fds[!live], 0)) {
		int err = -errno;

		pr_warn("swap flow map in slot %u: %s\n", slot,
			strerror(errno));
		return err;
	}
	*old_fd = fds[live];
	return 0;
}

int meter__drain(struct meter *m, meter_entry_fn fn, void *ctx)
{
	int old_flows, old_ovf, err, n1, n2;

	err = swap_slot(m, FE_SLOT_FLOWS, m->flows_fd, m->flows_id, &old_flows);
	if (err)
		return err;
	err = swap_slot(m, FE_SLOT_OVERFLOW, m->ovf_fd, m->ovf_id, &old_ovf);
	if (err)
		return err;
	n1 = drain_map(m, old_flows, fn, ctx);
	n2 = drain_map(m, old_ovf, fn, ctx);
	if (n1 < 0)
		return n1;
	if (n2 < 0)
		return n2;
	return n1 + n2;
}

int meter__read(struct meter *m, meter_entry_fn fn, void *ctx)
{
	int f = live_index(m, FE_SLOT_FLOWS, m->flows_id);
	int o = live_index(m, FE_SLOT_OVERFLOW, m->ovf_id);

	if (f < 0)
		return f;
	if (o < 0)
		return o;
	return walk_map(m, m->flows_fd[f], false, fn, ctx) +
	       walk_map(m, m->ovf_fd[o], false, fn, ctx);
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
	int f = live_index(m, FE_SLOT_FLOWS, m->flows_id);
	int o = live_index(m, FE_SLOT_OVERFLOW, m->ovf_id);

	if (f < 0 || o < 0)
		return f < 0 ? f : o;
	return delete_matching(m->flows_fd[f], match, ctx) +
	       delete_matching(m->ovf_fd[o], match, ctx);
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
	int f = live_index(m, FE_SLOT_FLOWS, m->flows_id);
	int o = live_index(m, FE_SLOT_OVERFLOW, m->ovf_id);

	if (f < 0 || o < 0)
		return f < 0 ? f : o;
	*flows = count_map(m->flows_fd[f]);
	*ovf = count_map(m->ovf_fd[o]);
	return 0;
}
