/* config_print.c - a configuration written back as flowexp.ini, which
 * parses to the same struct (the round trip the unit and fuzz tests
 * check), and the names of its enums for messages.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include "config.h"
#include "ie.h"
#include "log.h"

const char *fe_ingress_name(enum fe_ingress ing)
{
	return ing == FE_INGRESS_XDP  ? "xdp"
	       : ing == FE_INGRESS_TC ? "tc"
				      : "off";
}

const char *fe_transport_name(enum fe_transport t)
{
	return t == FE_TRANSPORT_TCP ? "tcp" : "udp";
}

const char *fe_format_name(enum fe_format f)
{
	return f == FE_FORMAT_JSON ? "json" : "ipfix";
}

static void print_agent(FILE *f, const struct fe_config *cfg)
{
	static const char *const levels[] = { "warn", "info", "debug" };
	int i, lvl = cfg->log_level;
	char kmax[16] = "auto";

	if (lvl < 0 || lvl > 2)
		lvl = FE_LOG_INFO;
	if (!cfg->kernel_max_flows_auto)
		snprintf(kmax, sizeof(kmax), "%u", cfg->kernel_max_flows);
	fprintf(f, "[agent]\ninterfaces =");
	for (i = 0; i < cfg->nifaces; i++)
		fprintf(f, "%s%s", i && i % 8 == 0 ? "\n\t" : " ",
			cfg->ifaces[i]);
	fprintf(f,
		"\ningress = %s\npoll_interval_ms = %u\nactive_timeout = %u\n"
		"idle_timeout = %u\nend_grace_ms = %u\n"
		"observation_domain = %" PRIu32 "\npin_path = %s\n"
		"control_socket = %s\nnetns =%s%s\nmax_flows = %u\n"
		"kernel_max_flows = %s\nxdp_mode = %s\ntimestamps = %s\n"
		"sampling = %u\nstate = %s\nlog_level = %s\n"
		"metrics_listen =%s%s\n",
		fe_ingress_name(cfg->ingress), cfg->poll_interval_ms,
		cfg->active_timeout, cfg->idle_timeout, cfg->end_grace_ms,
		cfg->observation_domain, cfg->pin_path, cfg->control_socket,
		cfg->netns[0] ? " " : "", cfg->netns, cfg->max_flows, kmax,
		cfg->xdp_skb_mode ? "skb" : "native",
		cfg->precise_ts ? "precise" : "coarse", cfg->sampling,
		cfg->state_memory ? "memory" : "pinned", levels[lvl],
		cfg->metrics_listen[0] ? " " : "", cfg->metrics_listen);
}

/* Only the keys of the collector's format: the others are errors there. */
static void print_collector(FILE *f, const struct fe_config *cfg,
			    const struct fe_collector_cfg *c)
{
	fprintf(f, "\n[collector %s]\nformat = %s\n", c->name,
		fe_format_name(c->format));
	if (c->format == FE_FORMAT_JSON)
		fprintf(f, "path = %s\n", c->path);
	else
		fprintf(f, "address = %s\ntransport = %s\nversion = %u\n",
			c->address, fe_transport_name(c->transport),
			c->version);
	fprintf(f, "biflow = %s\nsplit_links = %s\n", c->biflow ? "yes" : "no",
		c->split_links ? "yes" : "no");
	if (c->tmpl >= 0 && c->tmpl < cfg->ntmpl)
		fprintf(f, "template = %s\n", cfg->tmpl[c->tmpl].name);
	if (c->format == FE_FORMAT_IPFIX)
		fprintf(f, "mtu = %u\ntemplate_refresh = %u\n", c->mtu,
			c->template_refresh);
	fprintf(f,
		"observation_domain = %" PRIu32 "\nqueue_size = %" PRIu32 "\n",
		c->observation_domain, c->queue_size);
}

static void print_template(FILE *f, const struct fe_template_cfg *t)
{
	int j;

	fprintf(f, "\n[template %s]\nid = %u\nfields =", t->name, t->id);
	for (j = 0; j < t->nies; j++) {
		const struct ie_def *ie = ie_by_id(t->ies[j]);

		fprintf(f, "%s", j && j % 4 == 0 ? "\n\t" : " ");
		if (ie)
			fprintf(f, "%s", ie->name);
		else
			fprintf(f, "unknown%u", t->ies[j]);
	}
	fprintf(f, "\n");
}

int fe_config_print(FILE *f, const struct fe_config *cfg)
{
	int i;

	print_agent(f, cfg);
	for (i = 0; i < cfg->ncoll; i++)
		print_collector(f, cfg, &cfg->coll[i]);
	for (i = 0; i < cfg->ntmpl; i++)
		print_template(f, &cfg->tmpl[i]);
	return ferror(f) ? -EIO : 0;
}
