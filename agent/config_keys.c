/* config_keys.c - the keys of flowexp.ini: one table per section ([agent],
 * [collector NAME], [template NAME]) with a setter per key, the section
 * table, and the defaults every key starts from.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sysinfo.h>
#include "config_parser.h"
#include "ctlsock.h"
#include "endpoint.h"
#include "ie.h"
#include "log.h"
#include "meter.h"

#define NKEYS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* --- [agent] ------------------------------------------------------------ */

/* Interface names much as the kernel's dev_valid_name() accepts them. */
static int agent_interfaces(struct cfg_parser *p, const char *v)
{
	struct fe_config *cfg = p->cfg;
	char tok[64];
	size_t len;
	int i;

	while (cfg_next_token(&v, tok, sizeof(tok), &len)) {
		if (len > 15)
			return key_fail(p,
					"interface name '%s' is longer than 15 "
					"characters",
					tok);
		/* stricter than the kernel: no INI syntax either, so that
		 * fe_config_print() can put any name on a continuation line
		 */
		if (strpbrk(tok, "/:=[]") || !strcmp(tok, ".") ||
		    !strcmp(tok, ".."))
			return key_fail(p,
					"'%s' is not a valid interface name "
					"(none of / : = [ ], not '.' or '..')",
					tok);
		for (i = 0; i < cfg->nifaces; i++)
			if (!strcmp(cfg->ifaces[i], tok))
				return key_fail(
					p, "interface '%s' listed twice", tok);
		if (cfg->nifaces == FE_MAX_IFACES)
			return key_fail(p, "more than %d interfaces",
					FE_MAX_IFACES);
		strcpy(cfg->ifaces[cfg->nifaces++], tok);
	}
	return 0;
}

static int agent_ingress(struct cfg_parser *p, const char *v)
{
	static const char *const names[] = { "off", "xdp", "tc" };
	int i = 0;

	if (cfg_parse_enum(p, v, names, 3, "xdp, tc or off", &i))
		return -EINVAL;
	p->cfg->ingress = i == 1   ? FE_INGRESS_XDP
			  : i == 2 ? FE_INGRESS_TC
				   : FE_INGRESS_OFF;
	return 0;
}

static int agent_poll(struct cfg_parser *p, const char *v)
{
	return CFG_PARSE_UINT(p, v, 10, 60000, "ms", p->cfg->poll_interval_ms);
}

static int agent_active(struct cfg_parser *p, const char *v)
{
	return CFG_PARSE_UINT(p, v, 1, 86400, "s", p->cfg->active_timeout);
}

static int agent_idle(struct cfg_parser *p, const char *v)
{
	return CFG_PARSE_UINT(p, v, 1, 86400, "s", p->cfg->idle_timeout);
}

static int agent_grace(struct cfg_parser *p, const char *v)
{
	return CFG_PARSE_UINT(p, v, 0, 600000, "ms", p->cfg->end_grace_ms);
}

static int agent_od(struct cfg_parser *p, const char *v)
{
	return CFG_PARSE_UINT(p, v, 0, UINT32_MAX, "",
			      p->cfg->observation_domain);
}

static int agent_pin(struct cfg_parser *p, const char *v)
{
	return cfg_parse_path(p, v, p->cfg->pin_path, sizeof(p->cfg->pin_path));
}

static int agent_sock(struct cfg_parser *p, const char *v)
{
	return cfg_parse_path(p, v, p->cfg->control_socket,
			      sizeof(p->cfg->control_socket));
}

/* A name under /run/netns, as `ip netns` makes them; empty means none. */
static int agent_netns(struct cfg_parser *p, const char *v)
{
	const char *s;

	if (strlen(v) >= sizeof(p->cfg->netns))
		return key_fail(p, "name is longer than %zu characters",
				sizeof(p->cfg->netns) - 1);
	if (!strcmp(v, ".") || !strcmp(v, ".."))
		return key_fail(p, "'%s' is not a namespace name", v);
	for (s = v; *s; s++)
		if (*s == '/' || isspace((unsigned char)*s))
			return key_fail(p,
					"'%s' is not a namespace name (a name "
					"from `ip netns list`, no '/' or "
					"whitespace)",
					v);
	strcpy(p->cfg->netns, v);
	return 0;
}

static int agent_max_flows(struct cfg_parser *p, const char *v)
{
	return CFG_PARSE_UINT(p, v, 16, 1u << 26, "flows", p->cfg->max_flows);
}

/* N or auto: cfg_kernel_max_flows() computes auto once the section's
 * max_flows and ingress are known.
 */
static int agent_kmax_flows(struct cfg_parser *p, const char *v)
{
	p->cfg->kernel_max_flows_auto = !strcasecmp(v, "auto");
	if (p->cfg->kernel_max_flows_auto)
		return 0;
	return CFG_PARSE_UINT(p, v, FE_MIN_MAX_FLOWS, FE_MAX_MAX_FLOWS,
			      "entries, or auto", p->cfg->kernel_max_flows);
}

unsigned int fe_kernel_max_flows_auto(unsigned int max_flows,
				      enum fe_ingress ingress,
				      unsigned long long ram_bytes)
{
	unsigned long long want = (unsigned long long)max_flows *
				  (ingress == FE_INGRESS_OFF ? 2 : 4);
	unsigned long long fit =
		ram_bytes / 32 / (2 * METER_MAP_BYTES_PER_ENTRY);
	unsigned long long n = FE_MIN_MAX_FLOWS;

	while (n < want && n < FE_MAX_MAX_FLOWS)
		n <<= 1;
	while (n > fit && n > FE_MIN_MAX_FLOWS)
		n >>= 1;
	return (unsigned int)n;
}

void cfg_kernel_max_flows(struct fe_config *cfg)
{
	struct sysinfo si;
	unsigned long long ram;

	if (!cfg->kernel_max_flows_auto)
		return;
	/* no RAM figure: as if 8 GiB */
	ram = sysinfo(&si) ? 8ull << 30
			   : (unsigned long long)si.totalram * si.mem_unit;
	cfg->kernel_max_flows =
		fe_kernel_max_flows_auto(cfg->max_flows, cfg->ingress, ram);
}

/* A key of two words, the second one setting *out. */
static int parse_either(struct cfg_parser *p, const char *v, const char *no,
			const char *yes, bool *out)
{
	const char *const names[] = { no, yes };
	char allowed[64];
	int i = 0;

	snprintf(allowed, sizeof(allowed), "%s or %s", no, yes);
	if (cfg_parse_enum(p, v, names, 2, allowed, &i))
		return -EINVAL;
	*out = i == 1;
	return 0;
}

static int agent_xdp_mode(struct cfg_parser *p, const char *v)
{
	return parse_either(p, v, "native", "skb", &p->cfg->xdp_skb_mode);
}

static int agent_timestamps(struct cfg_parser *p, const char *v)
{
	return parse_either(p, v, "coarse", "precise", &p->cfg->precise_ts);
}

/* 1-in-N; the bound keeps the meters' window arithmetic in 32 bits. */
static int agent_sampling(struct cfg_parser *p, const char *v)
{
	return CFG_PARSE_UINT(p, v, 1, METER_MAX_SAMPLING, "",
			      p->cfg->sampling);
}

static int agent_state(struct cfg_parser *p, const char *v)
{
	return parse_either(p, v, "pinned", "memory", &p->cfg->state_memory);
}

static int agent_log_level(struct cfg_parser *p, const char *v)
{
	/* in the order of enum fe_log_level */
	static const char *const names[] = { "warn", "info", "debug" };

	return cfg_parse_enum(p, v, names, 3, "warn, info or debug",
			      &p->cfg->log_level);
}

/* ADDR:PORT of the Prometheus endpoint (metrics.c); empty: none. Both
 * are required: listening on every address (0.0.0.0, [::]) is written out.
 */
static int agent_metrics(struct cfg_parser *p, const char *v)
{
	struct fe_config *cfg = p->cfg;
	unsigned int flags = 0;
	char msg[512];

	cfg->metrics_listen[0] = '\0';
	cfg->metrics_addrlen = 0;
	if (!*v)
		return 0;
	if (strlen(v) >= sizeof(cfg->metrics_listen))
		return key_fail(p, "address is longer than %zu characters",
				sizeof(cfg->metrics_listen) - 1);
	if (p->flags & FE_CONFIG_NO_RESOLVE)
		flags |= ENDPOINT_NO_RESOLVE;
	if (endpoint_parse(v, 0, flags, &cfg->metrics_addr,
			   &cfg->metrics_addrlen, msg, sizeof(msg)))
		return key_fail(p, "%s", msg);
	strcpy(cfg->metrics_listen, v);
	return 0;
}

static const struct cfg_key agent_keys[] = {
	{ "interfaces", agent_interfaces, true },
	{ "ingress", agent_ingress, false },
	{ "poll_interval_ms", agent_poll, false },
	{ "active_timeout", agent_active, false },
	{ "idle_timeout", agent_idle, false },
	{ "end_grace_ms", agent_grace, false },
	{ "observation_domain", agent_od, false },
	{ "pin_path", agent_pin, false },
	{ "control_socket", agent_sock, false },
	{ "netns", agent_netns, false },
	{ "max_flows", agent_max_flows, false },
	{ "kernel_max_flows", agent_kmax_flows, false },
	{ "xdp_mode", agent_xdp_mode, false },
	{ "timestamps", agent_timestamps, false },
	{ "sampling", agent_sampling, false },
	{ "state", agent_state, false },
	{ "log_level", agent_log_level, false },
	{ "metrics_listen", agent_metrics, false },
};

/* --- [collector NAME] --------------------------------------------------- */

static struct fe_collector_cfg *cur_coll(struct cfg_parser *p)
{
	return &p->cfg->coll[p->cfg->ncoll - 1];
}

static int coll_address(struct cfg_parser *p, const char *v)
{
	struct fe_collector_cfg *c = cur_coll(p);
	unsigned int flags = 0;
	char msg[512];

	if (strlen(v) > CFG_MAX_VALUE)
		return key_fail(p, "address is longer than %d characters",
				CFG_MAX_VALUE);
	if (p->flags & (FE_CONFIG_NO_RESOLVE | FE_CONFIG_DEFER_COLLECTORS))
		flags |= ENDPOINT_NO_RESOLVE;
	if (endpoint_parse(v, 0, flags, &c->addr, &c->addrlen, msg,
			   sizeof(msg)))
		return key_fail(p, "%s", msg);
	strcpy(c->address, v);
	return 0;
}

static int coll_transport(struct cfg_parser *p, const char *v)
{
	static const char *const names[] = { "udp", "tcp" };
	int i = 0;

	if (cfg_parse_enum(p, v, names, 2, "udp or tcp", &i))
		return -EINVAL;
	cur_coll(p)->transport = i ? FE_TRANSPORT_TCP : FE_TRANSPORT_UDP;
	return 0;
}

static int coll_biflow(struct cfg_parser *p, const char *v)
{
	return cfg_parse_bool(p, v, &cur_coll(p)->biflow);
}

static int coll_split(struct cfg_parser *p, const char *v)
{
	return cfg_parse_bool(p, v, &cur_coll(p)->split_links);
}

/* Resolved at the end: templates may follow the collectors using them. */
static int coll_template(struct cfg_parser *p, const char *v)
{
	int i = p->cfg->ncoll - 1;

	if (!cfg_valid_name(v))
		return key_fail(p,
				"'%s' is not a template name (letters, digits, "
				"'_', '-', '.'; at most 63)",
				v);
	strcpy(p->coll_tmpl[i], v);
	p->coll_tmpl_line[i] = p->line;
	return 0;
}

static int coll_mtu(struct cfg_parser *p, const char *v)
{
	return CFG_PARSE_UINT(p, v, 576, 65507, "bytes", cur_coll(p)->mtu);
}

static int coll_refresh(struct cfg_parser *p, const char *v)
{
	return CFG_PARSE_UINT(p, v, 0, 86400, "s",
			      cur_coll(p)->template_refresh);
}

static int coll_od(struct cfg_parser *p, const char *v)
{
	p->coll_od_set[p->cfg->ncoll - 1] = true;
	return CFG_PARSE_UINT(p, v, 0, UINT32_MAX, "",
			      cur_coll(p)->observation_domain);
}

static int coll_version(struct cfg_parser *p, const char *v)
{
	static const char *const names[] = { "10", "9" };
	int i = 0;

	if (cfg_parse_enum(p, v, names, 2,
			   "10 (IPFIX) or 9 (NetFlow v9, uniflow only)", &i))
		return -EINVAL;
	cur_coll(p)->version = i ? 9 : 10;
	return 0;
}

static int coll_format(struct cfg_parser *p, const char *v)
{
	static const char *const names[] = { "ipfix", "json" };
	int i = 0;

	if (cfg_parse_enum(p, v, names, 2,
			   "ipfix (messages to address) or json (lines to "
			   "path)",
			   &i))
		return -EINVAL;
	cur_coll(p)->format = i ? FE_FORMAT_JSON : FE_FORMAT_IPFIX;
	return 0;
}

static int coll_path(struct cfg_parser *p, const char *v)
{
	struct fe_collector_cfg *c = cur_coll(p);

	if (!strcmp(v, "-")) {
		strcpy(c->path, v);
		return 0;
	}
	if (v[0] != '/')
		return key_fail(p,
				"'%s' is not an absolute path (or '-' for "
				"standard output)",
				v);
	return cfg_parse_path(p, v, c->path, sizeof(c->path));
}

/* Octets of messages (or JSON lines) waiting for a slow collector. */
static int coll_queue(struct cfg_parser *p, const char *v)
{
	unsigned long long n;
	int err = cfg_parse_size(p, v, FE_QUEUE_MIN, FE_QUEUE_MAX, &n);

	if (!err)
		cur_coll(p)->queue_size = n;
	return err;
}

static const struct cfg_key coll_keys[] = {
	{ "format", coll_format, false },
	{ "address", coll_address, false },
	{ "path", coll_path, false },
	{ "version", coll_version, false },
	{ "transport", coll_transport, false },
	{ "biflow", coll_biflow, false },
	{ "split_links", coll_split, false },
	{ "template", coll_template, false },
	{ "mtu", coll_mtu, false },
	{ "template_refresh", coll_refresh, false },
	{ "observation_domain", coll_od, false },
	{ "queue_size", coll_queue, false },
};

/* --- [template NAME] ---------------------------------------------------- */

static struct fe_template_cfg *cur_tmpl(struct cfg_parser *p)
{
	return &p->cfg->tmpl[p->cfg->ntmpl - 1];
}

static int tmpl_id(struct cfg_parser *p, const char *v)
{
	struct fe_template_cfg *t = cur_tmpl(p);
	int i;

	if (CFG_PARSE_UINT(p, v, 256, 65534, "", t->id))
		return -EINVAL;
	for (i = 0; i < p->cfg->ntmpl - 1; i++) {
		const struct fe_template_cfg *o = &p->cfg->tmpl[i];

		if (abs((int)o->id - (int)t->id) < 2)
			return key_fail(p,
					"%u clashes with [template %s] id %u "
					"(line %d): a template uses ids id "
					"(IPv4) and id+1 (IPv6), so ids must "
					"differ by at least 2",
					t->id, o->name, o->id, o->line);
	}
	return 0;
}

/* One line of the list; continuation lines append to it. */
static int tmpl_fields(struct cfg_parser *p, const char *v)
{
	struct fe_template_cfg *t = cur_tmpl(p);
	char msg[512];

	if (ie_parse_list(v, t->ies, FE_MAX_FIELDS, &t->nies, msg, sizeof(msg)))
		return key_fail(p, "%s", msg);
	return 0;
}

static const struct cfg_key tmpl_keys[] = {
	{ "id", tmpl_id, false },
	{ "fields", tmpl_fields, true },
};

/* --- sections and defaults ---------------------------------------------- */

_Static_assert(NKEYS(agent_keys) <= CFG_MAX_KEYS, "key_line[] too small");
_Static_assert(NKEYS(coll_keys) <= CFG_MAX_KEYS, "key_line[] too small");
_Static_assert(NKEYS(tmpl_keys) <= CFG_MAX_KEYS, "key_line[] too small");

const struct cfg_section cfg_sections[] = {
	{ SECT_AGENT, "agent", "[agent]", agent_keys, NKEYS(agent_keys) },
	{ SECT_COLLECTOR, "collector", "[collector NAME]", coll_keys,
	  NKEYS(coll_keys) },
	{ SECT_TEMPLATE, "template", "[template NAME]", tmpl_keys,
	  NKEYS(tmpl_keys) },
};
const int cfg_nsections = NKEYS(cfg_sections);

const struct cfg_section *cfg_section_find(const char *type)
{
	int i;

	for (i = 0; i < cfg_nsections; i++)
		if (!strcasecmp(type, cfg_sections[i].type))
			return &cfg_sections[i];
	return NULL;
}

static void collector_defaults(struct fe_config *cfg,
			       struct fe_collector_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->format = FE_FORMAT_IPFIX;
	c->version = 10;
	c->transport = FE_TRANSPORT_UDP;
	c->biflow = true;
	c->split_links = false;
	c->tmpl = -1;
	c->mtu = 1400;
	c->template_refresh = 60;
	c->observation_domain = cfg->observation_domain;
	c->queue_size = FE_QUEUE_DEFAULT;
}

void cfg_section_enter(struct cfg_parser *p, const struct cfg_section *s,
		       const char *name)
{
	struct fe_config *cfg = p->cfg;

	p->sect = s->sect;
	p->keys = s->keys;
	p->nkeys = s->nkeys;
	if (s->sect == SECT_AGENT) {
		p->agent_line = p->line;
		snprintf(p->label, sizeof(p->label), "[agent]");
	} else if (s->sect == SECT_COLLECTOR) {
		struct fe_collector_cfg *c = &cfg->coll[cfg->ncoll++];

		collector_defaults(cfg, c);
		snprintf(c->name, sizeof(c->name), "%s", name);
		c->line = p->line;
	} else {
		struct fe_template_cfg *t = &cfg->tmpl[cfg->ntmpl++];

		memset(t, 0, sizeof(*t));
		snprintf(t->name, sizeof(t->name), "%s", name);
		t->line = p->line;
	}
	if (s->sect != SECT_AGENT)
		snprintf(p->label, sizeof(p->label), "[%s %.63s]", s->type,
			 name);
}

void fe_config_defaults(struct fe_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ingress = FE_INGRESS_TC;
	cfg->poll_interval_ms = 1000;
	cfg->active_timeout = 60;
	cfg->idle_timeout = 15;
	cfg->end_grace_ms = 2000;
	cfg->observation_domain = 1;
	strcpy(cfg->pin_path, FE_DEFAULT_PIN_PATH);
	strcpy(cfg->control_socket, FE_DEFAULT_CONTROL_SOCKET);
	cfg->max_flows = 262144;
	cfg->kernel_max_flows_auto = true;
	cfg_kernel_max_flows(cfg);
	cfg->xdp_skb_mode = false;
	cfg->precise_ts = false;
	cfg->sampling = 1;
	cfg->log_level = FE_LOG_INFO;
}
