/* ifaces.c - the agent's configured interfaces and their meters (see
 * ifaces.h). Runs every tick: the checks are cheap name lookups.
 */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include "ifaces.h"
#include "log.h"

void ifaces__refresh_ingress(struct ifaces *s, struct meter *m,
			     struct flowcache *fc)
{
	struct meter_attachment at[FE_MAX_IFACES * 4];
	int n = meter__attachments(m, at, FE_MAX_IFACES * 4);

	if (n < 0)
		return;
	for (int i = 0; i < s->n_ing_if; i++)
		flowcache__set_ingress_metered(fc, s->ing_if[i], false);
	s->n_ing_if = 0;
	for (int i = 0; i < n; i++) {
		if (!at[i].ingress_xdp && !at[i].ingress_tc)
			continue;
		s->ing_if[s->n_ing_if++] = at[i].ifindex;
		flowcache__set_ingress_metered(fc, at[i].ifindex, true);
	}
}

/* The device st was attached to no longer has the configured name: it was
 * renamed (its meters come off: the configuration names another device)
 * or deleted (its hooks' pins go). Either way the name is looked up again.
 */
static void forget(struct iface_state *st, struct meter *m, const char *name)
{
	char now[IF_NAMESIZE];

	if (if_indextoname(st->ifindex, now))
		pr_warn("interface %s (ifindex %d) was renamed to %s: no "
			"longer metered\n",
			name, st->ifindex, now);
	else
		pr_warn("interface %s (ifindex %d) is gone; metering the other "
			"interfaces\n",
			name, st->ifindex);
	meter__detach(m, NULL, st->ifindex);
	st->ifindex = 0;
	st->warned = false;
	fe_backoff_reset(&st->retry);
}

/* One configured interface: returns whether its metering changed. */
static bool sync_one(struct iface_state *st, struct meter *m, const char *name,
		     const struct fe_config *cfg, uint64_t now_ms)
{
	int idx = if_nametoindex(name);
	int lookup_err = idx ? 0 : errno;
	bool forgot = false;
	uint32_t wait;

	if (st->ifindex && idx == st->ifindex)
		return false;
	if (st->ifindex) {
		forget(st, m, name);
		forgot = true;
	}
	if (!idx) {
		if (!st->warned && lookup_err != ENODEV)
			pr_warn("interface %s: cannot look it up: %s; trying "
				"again every tick\n",
				name, strerror(lookup_err));
		else if (!st->warned)
			pr_warn("interface %s does not exist; it will be "
				"metered when it appears\n",
				name);
		st->warned = true;
		return forgot;
	}
	if (!fe_backoff_due(&st->retry, now_ms))
		return forgot;
	if (meter__attach(m, name, cfg->ingress, cfg->xdp_skb_mode)) {
		wait = fe_backoff_fail(&st->retry, now_ms, 1000, 60000);
		if (!st->warned)
			pr_warn("interface %s: attach failed (see above); "
				"retrying in %u s, then up to every 60 s\n",
				name, wait / 1000);
		st->warned = true;
		return forgot;
	}
	st->ifindex = idx;
	st->warned = false;
	fe_backoff_reset(&st->retry);
	st->ingress = cfg->ingress != FE_INGRESS_OFF;
	pr_info("metering %s (ifindex %d): egress tc%s%s\n", name, idx,
		st->ingress ? ", ingress " : "",
		st->ingress ? fe_ingress_name(cfg->ingress) : "");
	return true;
}

bool ifaces__sync(struct ifaces *s, struct meter *m, struct flowcache *fc,
		  const struct fe_config *cfg, uint64_t now_ms)
{
	bool changed = false;

	for (int i = 0; i < cfg->nifaces; i++)
		changed |= sync_one(&s->ifs[i], m, cfg->ifaces[i], cfg, now_ms);
	if (changed)
		ifaces__refresh_ingress(s, m, fc);
	return changed;
}

void ifaces__reconfigure(struct ifaces *s, struct meter *m,
			 const struct fe_config *old,
			 const struct fe_config *cfg)
{
	for (int i = 0; i < old->nifaces; i++) {
		bool keep = false;

		for (int j = 0; j < cfg->nifaces; j++)
			keep |= !strcmp(old->ifaces[i], cfg->ifaces[j]);
		if (!keep && s->ifs[i].ifindex)
			meter__detach(m, NULL, s->ifs[i].ifindex);
		else if (s->ifs[i].ifindex && old->ingress == FE_INGRESS_XDP &&
			 old->xdp_skb_mode != cfg->xdp_skb_mode)
			meter__attach(m, old->ifaces[i], FE_INGRESS_OFF, false);
	}
	memset(s->ifs, 0, sizeof(s->ifs));
}
