/* core.c - flowagent's core (see core.h): the agent's life (start,
 * tick, flush, reload, stop) over the way down from the meters to the
 * collectors, which is core_state.c's: a drain takes the kernel's entries
 * into the cache, the cache's expiry hands conversations to every
 * exporter, and the pinned state keeps both through a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "clock.h"
#include "core_int.h"
#include "log.h"
#include "netns.h"

static struct flowcache_cfg cache_cfg(const struct fe_config *c)
{
	struct flowcache_cfg fc = {
		.idle_timeout_ms = (uint64_t)c->idle_timeout * 1000,
		.active_timeout_ms = (uint64_t)c->active_timeout * 1000,
		.end_grace_ms = c->end_grace_ms,
		.max_flows = c->max_flows,
	};
	return fc;
}

/* Fills out[] for cfg's collectors, taking unchanged ones from a->exp
 * (same socket, same sequence). On failure everything taken goes back and
 * the new ones are freed: the running set stays as it was.
 */
static int open_exporters(struct agent *a, const struct fe_config *cfg,
			  struct exporter **out)
{
	int taken[FE_MAX_COLLECTORS];

	for (int i = 0; i < cfg->ncoll; i++) {
		out[i] = NULL;
		taken[i] = -1;
		for (int j = 0; j < a->nexp; j++) {
			if (a->exp[j] &&
			    !exporter__differs(a->exp[j], cfg, i)) {
				out[i] = a->exp[j];
				a->exp[j] = NULL;
				taken[i] = j;
				break;
			}
		}
		if (!out[i])
			out[i] = exporter__new(cfg, i, a->host_ns, a->meter_ns);
		if (out[i])
			continue;
		pr_warn("collector %s: %s\n", cfg->coll[i].name,
			strerror(errno));
		for (int k = 0; k < i; k++) {
			if (taken[k] >= 0)
				a->exp[taken[k]] = out[k];
			else
				exporter__free(out[k]);
		}
		return -1;
	}
	return 0;
}

/* The rate the set's programs were loaded with is the one in effect:
 * a->cfg takes it, so that the collectors, stats and metrics state it.
 */
static void meters_sampling(struct agent *a)
{
	struct fe_config *c = &a->cfg;
	unsigned int n = meter__sampling(a->m);

	if (!n) {
		pr_warn("meter set %s: its sampling rate cannot be read; "
			"stating sampling = %u to the collectors\n",
			c->pin_path, c->sampling);
		return;
	}
	if (n != c->sampling)
		pr_warn("meter set %s samples 1 in %u packets (the rate it was "
			"loaded with): sampling = %u applies to a new set "
			"(flowctl detach --all, remove %s, restart); the "
			"collectors get 1 in %u\n",
			c->pin_path, n, c->sampling, c->pin_path, n);
	c->sampling = n;
}

/* The meter set of cfg, opened (created when missing) and locked. */
static int open_meters(struct agent *a)
{
	const struct fe_config *c = &a->cfg;
	struct meter_opts mo = {
		.max_flows = c->kernel_max_flows,
		.flags = METER_F_CREATE |
			 (c->precise_ts ? METER_F_PRECISE_TS : 0),
		.sampling = c->sampling,
	};
	int err;

	a->m = meter__open_opts(c->pin_path, &mo);
	if (!a->m) {
		err = -errno;
		pr_warn("meter set %s: %s\n", c->pin_path, strerror(errno));
		return err;
	}
	/* two drainers of one set would race each other's swaps */
	err = meter__lock(a->m);
	if (err) {
		pr_warn("meter set %s: %s\n", c->pin_path,
			err == -EWOULDBLOCK ? "another flowagent drains it "
					      "(one agent per pin_path)"
					    : strerror(-err));
		return err;
	}
	if (meter__max_flows(a->m) != c->kernel_max_flows)
		pr_info("reusing the pinned meter set %s with %u flows per map "
			"(kernel_max_flows = %u applies to a new set)\n",
			c->pin_path, meter__max_flows(a->m),
			c->kernel_max_flows);
	meters_sampling(a);
	return 0;
}

int agent__start(struct agent *a, const struct fe_config *cfg,
		 const char *cfg_path)
{
	struct flowcache_cfg fcc = cache_cfg(cfg);
	int err;

	memset(a, 0, sizeof(*a));
	a->cfg = *cfg;
	a->cfg_path = cfg_path;
	a->host_ns = a->meter_ns = -1;
	/* collectors are reached from the host's namespace, the meters live
	 * in the configured one: remember both, sockets are made in the host's
	 */
	if (cfg->netns[0]) {
		err = fe_netns_enter(cfg->netns, &a->host_ns);
		if (err)
			return err;
		a->meter_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	}
	/* the meters first: the collectors state their sampling rate */
	err = open_meters(a);
	if (err)
		return err;
	if (open_exporters(a, &a->cfg, a->exp))
		return -EINVAL;
	a->nexp = a->cfg.ncoll;
	return agent_state_open(a, &fcc);
}

void agent__close(struct agent *a)
{
	for (int i = 0; i < a->nexp; i++)
		exporter__free(a->exp[i]);
	a->nexp = 0;
	agent_state_close(a);
	meter__close(a->m);
	a->m = NULL;
	if (a->meter_ns >= 0)
		close(a->meter_ns);
	if (a->host_ns >= 0)
		close(a->host_ns);
	a->host_ns = a->meter_ns = -1;
}

void agent__sync_ifaces(struct agent *a)
{
	ifaces__sync(&a->ifs, a->m, a->fc, &a->cfg, fe_clock_mono_ms());
}

unsigned int agent__tick(struct agent *a)
{
	__u64 st[FE_STAT_MAX] = { 0 };
	unsigned int interval = a->cfg.poll_interval_ms;
	uint64_t t0;
	int n;

	a->ticks++;
	agent__sync_ifaces(a);
	/* meters flowctl attached or detached meanwhile, and the pins of
	 * links whose device is gone
	 */
	if (a->ticks % 10 == 0) {
		ifaces__refresh_ingress(&a->ifs, a->m, a->fc);
		meter__sweep_defunct(a->m);
	}
	t0 = fe_clock_mono_ns();
	n = agent__drain(a);
	t0 = fe_clock_mono_ns() - t0;
	fe_hist_observe(&a->drain_time, t0);
	pr_debug("tick %llu: drained %d entries in %llu us\n",
		 (unsigned long long)a->ticks, n,
		 (unsigned long long)(t0 / 1000));
	a->tick_entries = n > 0 ? n : 0;
	flowcache__expire(a->fc, a->now_ms, agent_emit, a);
	agent_send(a);
	/* the flow map filled up: drain sooner until it stops */
	if (!meter__stats(a->m, st) &&
	    st[FE_STAT_OVERFLOW] != a->last_overflow) {
		a->last_overflow = st[FE_STAT_OVERFLOW];
		interval = interval / 4 > 10 ? interval / 4 : 10;
		a->early_drains++;
	}
	return interval;
}

size_t agent__flush(struct agent *a,
		    bool (*match)(void *mctx, const struct fe_conv *c),
		    void *mctx)
{
	size_t n;

	agent__drain(a);
	n = flowcache__flush(a->fc, match, mctx, a->now_ms, agent_emit, a);
	agent_send(a);
	return n;
}

/* The keys a running agent cannot change: they keep their running values
 * (named in the log) and the rest of the new configuration applies.
 */
static void reload_restart_keys(const struct agent *a, struct fe_config *n)
{
	const struct fe_config *o = &a->cfg;

	if (strcmp(n->pin_path, o->pin_path))
		pr_warn("reload: pin_path needs a restart; keeping %s\n",
			o->pin_path);
	if (strcmp(n->netns, o->netns))
		pr_warn("reload: netns needs a restart; keeping '%s'\n",
			o->netns);
	snprintf(n->pin_path, sizeof(n->pin_path), "%s", o->pin_path);
	snprintf(n->netns, sizeof(n->netns), "%s", o->netns);
	/* these shape the pinned meter set: a new set would take them */
	if (n->kernel_max_flows != o->kernel_max_flows ||
	    n->precise_ts != o->precise_ts || n->sampling != o->sampling)
		pr_warn("reload: kernel_max_flows, timestamps and sampling "
			"apply to a new meter set (after detach --all and a "
			"restart); sampling stays 1 in %u\n",
			o->sampling);
	n->sampling = o->sampling;
}

void agent__reload(struct agent *a)
{
	struct fe_config *n = malloc(sizeof(*n));
	struct exporter *exp[FE_MAX_COLLECTORS];
	struct flowcache_cfg fcc;
	char err[512];

	/* SIGHUP also tells file collectors that logrotate moved their
	 * files, whatever becomes of the new configuration
	 */
	for (int i = 0; i < a->nexp; i++)
		exporter__reopen(a->exp[i]);
	if (!n)
		return;
	if (fe_config_load(a->cfg_path, n, err, sizeof(err))) {
		pr_warn("reload refused, keeping the running configuration: "
			"%s\n",
			err);
		goto out;
	}
	reload_restart_keys(a, n);
	if (open_exporters(a, n, exp)) {
		pr_warn("reload refused: collectors could not be opened\n");
		goto out;
	}
	/* the old collectors get what is queued for them, then go */
	for (int i = 0; i < a->nexp; i++)
		exporter__free(a->exp[i]);
	memcpy(a->exp, exp, sizeof(exp));
	a->nexp = n->ncoll;
	agent_readers(a);
	ifaces__reconfigure(&a->ifs, a->m, &a->cfg, n);
	fcc = cache_cfg(n);
	flowcache__set_cfg(a->fc, &fcc);
	a->cfg = *n;
	agent__sync_ifaces(a);
	ifaces__refresh_ingress(&a->ifs, a->m, a->fc);
	pr_info("configuration reloaded from %s\n", a->cfg_path);
out:
	free(n);
}

void agent__stop(struct agent *a)
{
	pr_info("stopping: draining and exporting every cached flow\n");
	agent__drain(a);
	flowcache__flush(a->fc, NULL, NULL, a->now_ms, agent_emit, a);
	agent_send(a);
}
