/* core_state.c - the agent's counts on their way, and what keeps them
 * through a crash (core_int.h): the drain through the stage into the flow
 * cache, the exports handed to every collector with how far each got in
 * the cache's export log, and the pinned state (persist.c) made, or
 * adopted and recovered after a restart.
 *
 * Exactly once across a death: a drained entry is in the stage until the
 * cache applied it (the cache's last tag says how far); an export is in
 * the log, committed before the conversation is reset or freed, until
 * the collector's counters say it went out (sent or dropped, counted).
 * What a restart cannot know is whether the send a collector was doing
 * when the agent died went out: those records (one message, as the IPFIX
 * writer sends a message when it fills, and progress is recorded after
 * each conversation) are sent again, and counted (restart_uncertain).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"
#include "core_int.h"
#include "dedup.h"
#include "log.h"
#include "persist.h"

/* Observations go to the cache DRAIN_OBS at a time: it prefetches the
 * records of the next ones while it adds one.
 */
#define DRAIN_OBS 64

struct drain_ctx {
	struct agent *a;
	int64_t off;	    /* CLOCK_MONOTONIC -> UNIX, ns, of the batch */
	uint64_t lost;	    /* observations the cache had no room for */
	uint64_t delivered; /* entries taken from the kernel */
	size_t n;
	struct fe_obs obs[DRAIN_OBS];
	uint64_t tags[DRAIN_OBS];
};

/* ---- to the collectors ---- */

/* What collector i's counters say of the log: the export ending at end
 * (0: none) was handed to it; idle (after a tick): its queue may be
 * empty, and then it has everything.
 */
static void agent_progress(struct agent *a, int i, uint64_t end, bool idle)
{
	struct exporter_stats s;
	uint64_t handed = 0, resolved, pos = 0;

	exporter__stats(a->exp[i], &s);
	for (int r = 0; r < 8; r++)
		handed += s.by_reason[r];
	resolved = s.records + s.not_sent;
	if (end)
		pos = exptrack__handed(a->track, i, end, handed);
	if (pos)
		flowcache__log_done(a->fc, i, pos);
	if (idle && !s.queued_octets) {
		exptrack__idle(a->track, i, handed, resolved);
		pos = flowcache__log_head(a->fc);
	} else {
		pos = exptrack__resolved(a->track, i, resolved);
	}
	if (pos)
		flowcache__log_done(a->fc, i, pos);
}

/* One conversation to collector i; with a pinned state the log marks the
 * hand-over (a death during it may leave a message sent unrecorded).
 */
static void agent_hand(struct agent *a, int i, const struct fe_conv *c,
		       uint8_t end_reason, uint64_t end)
{
	if (!a->ps) {
		exporter__conv(a->exp[i], c, end_reason, a->now_s);
		return;
	}
	flowcache__log_mark(a->fc, i, true);
	exporter__conv(a->exp[i], c, end_reason, a->now_s);
	agent_progress(a, i, end, false);
	flowcache__log_mark(a->fc, i, false);
}

void agent_emit(void *ctx, const struct fe_conv *c, uint8_t end_reason)
{
	struct agent *a = ctx;
	uint64_t end = a->ps ? flowcache__log_head(a->fc) : 0;

	for (int i = 0; i < a->nexp; i++)
		agent_hand(a, i, c, end_reason, end);
}

void agent_send(struct agent *a)
{
	for (int i = 0; i < a->nexp; i++) {
		if (!a->ps) {
			exporter__tick(a->exp[i], a->now_s);
			continue;
		}
		flowcache__log_mark(a->fc, i, true);
		exporter__tick(a->exp[i], a->now_s);
		agent_progress(a, i, 0, true);
		flowcache__log_mark(a->fc, i, false);
	}
}

void agent__on_writable(struct agent *a, struct exporter *e, short revents)
{
	for (int i = 0; i < a->nexp; i++) {
		if (a->exp[i] != e)
			continue;
		if (!a->ps) {
			exporter__on_writable(e, revents);
			return;
		}
		flowcache__log_mark(a->fc, i, true);
		exporter__on_writable(e, revents);
		agent_progress(a, i, 0, true);
		flowcache__log_mark(a->fc, i, false);
		return;
	}
	exporter__on_writable(e, revents); /* not one of a's: nothing kept */
}

void agent_readers(struct agent *a)
{
	const char *names[FE_MAX_COLLECTORS];

	if (!a->ps)
		return;
	for (int i = 0; i < a->nexp; i++) {
		names[i] = exporter__name(a->exp[i]);
		exptrack__reset(a->track, i);
	}
	flowcache__log_readers(a->fc, names, a->nexp);
}

/* ---- from the kernel ---- */

static void drain_feed(struct drain_ctx *d)
{
	d->lost += flowcache__add_tagged(d->a->fc, d->obs, d->tags, d->n,
					 d->a->now_ms, agent_emit, d->a);
	d->n = 0;
}

/* A kernel entry as an observation (false: nothing to add). */
static bool entry_obs(struct drain_ctx *d, const struct fe_flow_key *k,
		      const struct fe_flow_val *v, struct fe_obs *o)
{
	if (!v->packets) /* written from user space: no record */
		return false;
	/* The egress map was full, but the ingress meter of the link the
	 * packet came in by counted it (in a flow or its own overflow entry):
	 * counting the egress overflow too would count it twice.
	 */
	if ((k->flags & FE_KEY_OVERFLOW) &&
	    fe_dedup_counted_at_ingress(
		    k->dir, k->in_ifindex,
		    flowcache__ingress_metered(d->a->fc, k->in_ifindex))) {
		d->a->overflow_dup += v->packets;
		return false;
	}
	*o = (struct fe_obs){
		.key = *k,
		.packets = v->packets,
		.octets = v->octets,
		.first_ms = (uint64_t)((int64_t)v->first_ns + d->off) / 1000000,
		.last_ms = (uint64_t)((int64_t)v->last_ns + d->off) / 1000000,
		.tcp_flags = v->tcp_flags,
		.tos = v->tos,
		.ttl_min = v->ttl_min,
		.ttl_max = v->ttl_max,
		.vflags = v->vflags,
		.flow_label = v->flow_label,
	};
	return true;
}

/* A batch in the stage, from the entry after the last one the cache
 * applied (a restart resumes a batch a death cut): entry i of batch seq
 * is tag seq << 32 | i + 1.
 */
static void on_batch(void *ctx, struct meter_stage *st)
{
	struct drain_ctx *d = ctx;
	const struct fe_flow_key *k = meter_stage_keys(st);
	const struct fe_flow_val *v = meter_stage_vals(st);
	uint64_t last = flowcache__last_tag(d->a->fc);
	uint32_t i = last >> 32 == (uint32_t)st->seq ? (uint32_t)last : 0;

	d->delivered += st->n;
	for (; i < st->n; i++) {
		/* a translation the router's NAT makes: joins the
		 * conversation's two sides before (or after) their packets
		 * come; applied again after a death cut its batch, which
		 * changes nothing
		 */
		if (k[i].kind == FE_KIND_NAT) {
			flowcache__nat(d->a->fc, &k[i],
				       (const struct fe_nat_val *)&v[i],
				       d->a->now_ms, agent_emit, d->a);
			continue;
		}
		if (!entry_obs(d, &k[i], &v[i], &d->obs[d->n]))
			continue;
		d->tags[d->n++] = st->seq << 32 | (i + 1);
		if (d->n == DRAIN_OBS)
			drain_feed(d);
	}
	drain_feed(d); /* all of it applied before the stage empties */
}

struct agent_replay {
	struct agent *a;
	int i;
};

static void agent_replayed(void *ctx, const struct fe_conv *c,
			   uint8_t end_reason, uint64_t end)
{
	struct agent_replay *r = ctx;

	agent_hand(r->a, r->i, c, end_reason, end);
}

/* After a restart over a dead agent's state: what it had exported and no
 * collector confirmed goes to them again, and the batch it had taken from
 * the kernel and not finished applying is applied.
 */
static void agent_recover(struct agent *a)
{
	struct drain_ctx d = { .a = a };

	a->recover = false;
	for (int i = 0; i < a->nexp; i++) {
		struct agent_replay r = { a, i };
		size_t n;

		if (flowcache__log_marked(a->fc, i)) {
			a->restart_uncertain++;
			pr_warn("collector %s: the agent died while sending "
				"to it: the messages of that send may come "
				"again\n",
				exporter__name(a->exp[i]));
		}
		n = flowcache__log_replay(a->fc, i, agent_replayed, &r);
		a->restart_replayed += n;
		if (n)
			pr_info("collector %s: %zu conversations exported "
				"before the restart and not known sent: sent "
				"again\n",
				exporter__name(a->exp[i]), n);
	}
	if (!meter_stage_recover(a->stage))
		return;
	d.off = a->stage->note;
	flowcache__batch(a->fc);
	on_batch(&d, a->stage);
	meter_stage_done(a->stage);
	a->restart_staged += d.delivered;
	a->drain_store_failed += d.lost;
	pr_info("applied %llu kernel entries the agent had drained before "
		"the restart\n",
		(unsigned long long)d.delivered);
}

int agent__drain(struct agent *a)
{
	struct drain_ctx d = { .a = a, .off = fe_clock_mono_to_unix_ns() };
	int n;

	/* the cache's clock, which times every expiry, is monotonic: a step
	 * of the wall clock moves only the records' stamps (d.off)
	 */
	a->now_ms = fe_clock_mono_ms();
	a->now_s = fe_clock_unix_s();
	if (a->recover)
		agent_recover(a);
	/* the kernel hands entries over in hash order: the cache orients the
	 * conversations this drain makes by their first packet
	 */
	flowcache__batch(a->fc);
	a->stage->note = d.off;
	n = meter__drain_staged(a->m, a->stage, on_batch, &d);
	a->drained += d.delivered;
	if (d.lost) {
		a->drain_store_failed += d.lost;
		pr_warn("drain: no room in the flow cache; %llu observations "
			"lost (stats: drain_store_failed)\n",
			(unsigned long long)d.lost);
	}
	if (n < 0)
		a->drain_errors++;
	return n;
}

/* ---- the state ---- */

/* The cache over the pinned state: made, or adopted (recovered). */
static int state_cache(struct agent *a, const struct flowcache_cfg *fcc)
{
	struct flowcache_mem mem = persist__cache_mem(a->ps);
	struct flowcache_stats st;
	size_t size;
	void *region = persist__cache(a->ps, &size);
	bool fresh = persist__fresh(a->ps);
	uint64_t t0 = fe_clock_mono_ns();

	a->fc = fresh ? flowcache__new_in(fcc, &mem)
		      : flowcache__adopt(fcc, &mem, region, size);
	if (!a->fc && errno == EINVAL && !fresh) {
		persist__refuse_msg(a->cfg.pin_path,
				    "a flow cache of another layout version");
		return -EPROTO;
	}
	if (!a->fc) {
		pr_warn("flow cache in the pinned state: %s\n",
			strerror(errno));
		return -errno;
	}
	flowcache__stats(a->fc, &st);
	/* the time an adoption takes (a scan of every record) is the
	 * restart's cost: said, so that an operator can size max_flows
	 */
	pr_info("flow cache state %s %s/%s: %zu MiB for %u conversations "
		"(%llu cached%s, %llu ms)\n",
		fresh ? "made at" : "adopted from", a->cfg.pin_path,
		FE_PIN_STATE, persist__bytes(a->ps) >> 20,
		persist__max_flows(a->ps), (unsigned long long)st.flows,
		st.recovered_ops ? ", an operation a death cut recovered" : "",
		(unsigned long long)((fe_clock_mono_ns() - t0) / 1000000));
	if (persist__max_flows(a->ps) < a->cfg.max_flows)
		pr_info("the pinned state has room for %u conversations: "
			"max_flows = %u applies to a new state (flowctl "
			"detach --all while no agent runs)\n",
			persist__max_flows(a->ps), a->cfg.max_flows);
	a->track = exptrack__new(st.log_slots / 3);
	if (!a->track)
		return -ENOMEM;
	a->stage = persist__stage(a->ps);
	a->recover = !fresh;
	agent_readers(a);
	return 0;
}

int agent_state_open(struct agent *a, const struct flowcache_cfg *fcc)
{
	const struct fe_config *c = &a->cfg;
	int err = 0;

	if (!c->state_memory)
		err = persist__open(a->m, c->pin_path, c->max_flows,
				    fe_clock_unix_ms(), &a->ps);
	if (err == -EPROTO)
		return err;
	if (err)
		pr_warn("no pinned state (%s): the flow cache is in memory, "
			"and "
			"a crash loses what was not exported\n",
			strerror(-err));
	if (a->ps)
		return state_cache(a, fcc);
	a->stage = malloc(METER_STAGE_SIZE(METER_STAGE_CAP));
	if (!a->stage)
		return -ENOMEM;
	meter_stage_init(a->stage, METER_STAGE_CAP);
	a->fc = flowcache__new(fcc);
	if (!a->fc) {
		err = -errno;
		pr_warn("flow cache: %s\n", strerror(errno));
		return err;
	}
	return 0;
}

void agent_state_close(struct agent *a)
{
	flowcache__free(a->fc);
	a->fc = NULL;
	exptrack__free(a->track);
	a->track = NULL;
	if (!a->ps)
		free(a->stage);
	a->stage = NULL;
	persist__close(a->ps);
	a->ps = NULL;
}
