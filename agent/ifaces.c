/* ifaces.c - the agent's configured interfaces and their meters (see
 * ifaces.h). Runs every tick: the checks are cheap name lookups.
 */
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

/* One configured interface: returns whether it was attached now. */
static bool sync_one(struct iface_state *st, struct meter *m, const char *name,
		     const struct fe_config *cfg)
{
	int idx = if_nametoindex(name);

	if (st->ifindex && idx == st->ifindex)
		return false;
	if (st->ifindex && idx != st->ifindex) {
		pr_warn("interface %s (ifindex %d) is gone; metering the other "
			"interfaces\n",
			name, st->ifindex);
		st->ifindex = 0;
		st->warned = false;
	}
	if (!idx) {
		if (!st->warned)
			pr_warn("interface %s does not exist; it will be "
				"metered when it appears\n",
				name);
		st->warned = true;
		return false;
	}
	if (meter__attach(m, name, cfg->ingress, cfg->xdp_skb_mode)) {
		if (!st->warned)
			pr_warn("interface %s: attach failed (see above); "
				"retrying every tick\n",
				name);
		st->warned = true;
		return false;
	}
	st->ifindex = idx;
	st->warned = false;
	st->ingress = cfg->ingress != FE_INGRESS_OFF;
	pr_info("metering %s (ifindex %d): egress tc%s%s\n", name, idx,
		st->ingress ? ", ingress " : "",
		st->ingress ? fe_ingress_name(cfg->ingress) : "");
	return true;
}

bool ifaces__sync(struct ifaces *s, struct meter *m, struct flowcache *fc,
		  const struct fe_config *cfg)
{
	bool changed = false;

	for (int i = 0; i < cfg->nifaces; i++)
		changed |= sync_one(&s->ifs[i], m, cfg->ifaces[i], cfg);
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
	}
	memset(s->ifs, 0, sizeof(s->ifs));
}
