/* config.c - parses and validates flowexp.ini (docs/flowexp.ini.5) with
 * inih. inih reports neither line numbers nor section headers and treats
 * indented lines as continuations of the previous key, so the parser feeds
 * inih through its own line reader: the reader numbers the lines, opens
 * and closes sections, strips inline comments the same way on every line
 * and tells the handler whether it is looking at a continuation line.
 * Lines may be of any length (inih's own buffer holds 199 characters: see
 * struct cfg_parser). Parsing stops at the first error, which names its
 * file and line.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ini.h>
#include "config.h"
#include "ctlsock.h"
#include "endpoint.h"
#include "hint.h"
#include "meter.h"
#include "ie.h"
#include "log.h"

#define CFG_MAX_FILE (1 << 20)
#define CFG_MAX_KEYS 16
/* Addresses and paths longer than this are refused (docs/flowexp.ini.5). */
#define CFG_MAX_VALUE 180

enum cfg_sect { SECT_NONE, SECT_AGENT, SECT_COLLECTOR, SECT_TEMPLATE };
enum cfg_line { LINE_OTHER, LINE_SECTION, LINE_KEY, LINE_CONT };

struct cfg_parser;

/* One key of a section. list keys take continuation lines. */
struct cfg_key {
	const char *name;
	int (*parse)(struct cfg_parser *p, const char *val);
	bool list;
};

/* State of one parse. buf holds the current line, which the reader owns:
 * lines of any length, while inih's own buffer holds 199 characters. For
 * a line longer than that (long_kv), the reader splits the key and value
 * itself (lname, lvalue point into buf) and inih sees a short stand-in.
 */
struct cfg_parser {
	const char *file;
	unsigned int flags;
	struct fe_config *cfg;
	char *err;
	size_t errlen;
	bool failed;
	int error; /* -errno of the failure */

	const char *pos; /* next line of the text */
	int line;	 /* current line, 1-based */
	enum cfg_line kind;
	bool have_key; /* a key line was seen in this section: indented
			* lines continue it */
	char *buf;
	size_t cap;
	char *start; /* the line's text after BOM and indentation, in buf */
	bool long_kv;
	const char *lname, *lvalue;

	enum cfg_sect sect;
	int sect_line;
	char label[80]; /* "[collector main]" */
	const struct cfg_key *keys;
	int nkeys;
	int key_line[CFG_MAX_KEYS];    /* line each key was set on, 0 = not */
	const struct cfg_key *cur_key; /* of the last key line */

	int agent_line;
	/* per collector: its template key and observation_domain override */
	char coll_tmpl[FE_MAX_COLLECTORS][64];
	int coll_tmpl_line[FE_MAX_COLLECTORS];
	bool coll_od_set[FE_MAX_COLLECTORS];
};

static __attribute__((format(printf, 3, 4))) int
cfg_fail(struct cfg_parser *p, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return -EINVAL;
	p->failed = true;
	p->error = -EINVAL;
	if (!p->errlen)
		return -EINVAL;
	n = snprintf(p->err, p->errlen, "%s:%d: ", p->file, line);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* An error about the value of the key on the current line. */
#define key_fail(p, fmt, ...)                                                 \
	cfg_fail(p, (p)->line, "%s %s: " fmt, (p)->label, (p)->cur_key->name, \
		 ##__VA_ARGS__)

/* --- small helpers ------------------------------------------------------ */

static bool is_sep(char c)
{
	return isspace((unsigned char)c) || c == ',';
}

/* Copies the next space- or comma-separated token of *s into tok (cut to
 * cap - 1 bytes; *len gets its full length). Returns false at the end.
 */
static bool next_token(const char **s, char *tok, size_t cap, size_t *len)
{
	const char *b = *s, *e;

	while (*b && is_sep(*b))
		b++;
	if (!*b)
		return false;
	for (e = b; *e && !is_sep(*e); e++)
		;
	*len = e - b;
	snprintf(tok, cap, "%.*s", (int)(e - b), b);
	*s = e;
	return true;
}

/* Appends sep and item to the string in buf (cap bytes) without ever
 * writing past it; a list cut short ends in "...".
 */
static void cfg_append(char *buf, size_t cap, const char *sep, const char *item)
{
	static const char more[] = "...";
	size_t len = strnlen(buf, cap), need = strlen(sep) + strlen(item);

	if (len >= cap)
		return; /* not a string: leave it alone */
	/* room for this item and for a "..." that may follow it */
	if (len + need + strlen(sep) + sizeof(more) <= cap) {
		snprintf(buf + len, cap - len, "%s%s", sep, item);
		return;
	}
	if (len >= sizeof(more) - 1 &&
	    !strcmp(buf + len - (sizeof(more) - 1), more))
		return; /* already cut short */
	snprintf(buf + len, cap - len, "%s%s", sep, more);
}

/* Parses a decimal number in [min, max]; unit names the unit in errors. */
static int parse_num(struct cfg_parser *p, const char *v,
		     unsigned long long min, unsigned long long max,
		     const char *unit, unsigned long long *out)
{
	unsigned long long n = 0;
	const char *s;

	if (!*v)
		return key_fail(p, "empty value (expected %llu..%llu%s%s)", min,
				max, *unit ? " " : "", unit);
	for (s = v; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return key_fail(p,
					"'%s' is not a whole number (expected "
					"%llu..%llu%s%s)",
					v, min, max, *unit ? " " : "", unit);
		if (n > (ULLONG_MAX - 9) / 10)
			n = ULLONG_MAX - 1; /* saturate: out of range below */
		else
			n = n * 10 + (*s - '0');
	}
	if (n < min || n > max)
		return key_fail(p, "%s is out of range (%llu..%llu%s%s)", v,
				min, max, *unit ? " " : "", unit);
	*out = n;
	return 0;
}

#define PARSE_UINT(p, v, min, max, unit, dst)                    \
	({                                                       \
		unsigned long long _n;                           \
		int _err = parse_num(p, v, min, max, unit, &_n); \
		if (!_err)                                       \
			(dst) = _n;                              \
		_err;                                            \
	})

static int parse_bool(struct cfg_parser *p, const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return key_fail(p,
			"'%s' is not a boolean (yes/no, true/false, "
			"on/off, 1/0)",
			v);
}

/* Picks v out of names[] (case-insensitively); allowed lists them. */
static int parse_enum(struct cfg_parser *p, const char *v,
		      const char *const *names, int n, const char *allowed,
		      int *out)
{
	int i;

	for (i = 0; i < n; i++) {
		if (!strcasecmp(v, names[i])) {
			*out = i;
			return 0;
		}
	}
	if (!*v)
		return key_fail(p, "empty value (expected %s)", allowed);
	return key_fail(p, "'%s' is not allowed (expected %s)", v, allowed);
}

/* A name of a collector, template: letters, digits, '_', '-', '.'. */
static bool valid_name(const char *s)
{
	if (!*s || strlen(s) > 63)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-.", *s))
			return false;
	return true;
}

static int parse_path(struct cfg_parser *p, const char *v, char *dst,
		      size_t cap)
{
	const char *s;

	if (!*v)
		return key_fail(p, "empty value (expected an absolute path)");
	if (v[0] != '/')
		return key_fail(p, "'%s' is not an absolute path", v);
	if (strlen(v) >= cap || strlen(v) > CFG_MAX_VALUE)
		return key_fail(p, "path is longer than %zu characters",
				cap - 1 < CFG_MAX_VALUE ? cap - 1
							: CFG_MAX_VALUE);
	for (s = v; *s; s++)
		if (isspace((unsigned char)*s))
			return key_fail(p, "'%s' contains whitespace", v);
	strcpy(dst, v);
	return 0;
}

/* --- [agent] ------------------------------------------------------------ */

/* Interface names much as the kernel's dev_valid_name() accepts them. */
static int agent_interfaces(struct cfg_parser *p, const char *v)
{
	struct fe_config *cfg = p->cfg;
	char tok[64];
	size_t len;
	int i;

	while (next_token(&v, tok, sizeof(tok), &len)) {
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

	if (parse_enum(p, v, names, 3, "xdp, tc or off", &i))
		return -EINVAL;
	p->cfg->ingress = i == 1   ? FE_INGRESS_XDP
			  : i == 2 ? FE_INGRESS_TC
				   : FE_INGRESS_OFF;
	return 0;
}

static int agent_poll(struct cfg_parser *p, const char *v)
{
	return PARSE_UINT(p, v, 10, 60000, "ms", p->cfg->poll_interval_ms);
}

static int agent_active(struct cfg_parser *p, const char *v)
{
	return PARSE_UINT(p, v, 1, 86400, "s", p->cfg->active_timeout);
}

static int agent_idle(struct cfg_parser *p, const char *v)
{
	return PARSE_UINT(p, v, 1, 86400, "s", p->cfg->idle_timeout);
}

static int agent_grace(struct cfg_parser *p, const char *v)
{
	return PARSE_UINT(p, v, 0, 600000, "ms", p->cfg->end_grace_ms);
}

static int agent_od(struct cfg_parser *p, const char *v)
{
	return PARSE_UINT(p, v, 0, UINT32_MAX, "", p->cfg->observation_domain);
}

static int agent_pin(struct cfg_parser *p, const char *v)
{
	return parse_path(p, v, p->cfg->pin_path, sizeof(p->cfg->pin_path));
}

static int agent_sock(struct cfg_parser *p, const char *v)
{
	return parse_path(p, v, p->cfg->control_socket,
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
	return PARSE_UINT(p, v, 16, 1u << 26, "flows", p->cfg->max_flows);
}

static int agent_kmax_flows(struct cfg_parser *p, const char *v)
{
	return PARSE_UINT(p, v, 16, 1u << 24, "entries",
			  p->cfg->kernel_max_flows);
}

static int agent_xdp_mode(struct cfg_parser *p, const char *v)
{
	static const char *const names[] = { "native", "skb" };
	int i = 0;

	if (parse_enum(p, v, names, 2, "native or skb", &i))
		return -EINVAL;
	p->cfg->xdp_skb_mode = i == 1;
	return 0;
}

static int agent_timestamps(struct cfg_parser *p, const char *v)
{
	static const char *const names[] = { "coarse", "precise" };
	int i = 0;

	if (parse_enum(p, v, names, 2, "coarse or precise", &i))
		return -EINVAL;
	p->cfg->precise_ts = i == 1;
	return 0;
}

static int agent_log_level(struct cfg_parser *p, const char *v)
{
	/* in the order of enum fe_log_level */
	static const char *const names[] = { "warn", "info", "debug" };

	return parse_enum(p, v, names, 3, "warn, info or debug",
			  &p->cfg->log_level);
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
	{ "log_level", agent_log_level, false },
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
	if (p->flags & FE_CONFIG_NO_RESOLVE)
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

	if (parse_enum(p, v, names, 2, "udp or tcp", &i))
		return -EINVAL;
	cur_coll(p)->transport = i ? FE_TRANSPORT_TCP : FE_TRANSPORT_UDP;
	return 0;
}

static int coll_biflow(struct cfg_parser *p, const char *v)
{
	return parse_bool(p, v, &cur_coll(p)->biflow);
}

static int coll_split(struct cfg_parser *p, const char *v)
{
	return parse_bool(p, v, &cur_coll(p)->split_links);
}

/* Resolved at the end: templates may follow the collectors using them. */
static int coll_template(struct cfg_parser *p, const char *v)
{
	int i = p->cfg->ncoll - 1;

	if (!valid_name(v))
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
	return PARSE_UINT(p, v, 576, 65507, "bytes", cur_coll(p)->mtu);
}

static int coll_refresh(struct cfg_parser *p, const char *v)
{
	return PARSE_UINT(p, v, 0, 86400, "s", cur_coll(p)->template_refresh);
}

static int coll_od(struct cfg_parser *p, const char *v)
{
	p->coll_od_set[p->cfg->ncoll - 1] = true;
	return PARSE_UINT(p, v, 0, UINT32_MAX, "",
			  cur_coll(p)->observation_domain);
}

static const struct cfg_key coll_keys[] = {
	{ "address", coll_address, false },
	{ "transport", coll_transport, false },
	{ "biflow", coll_biflow, false },
	{ "split_links", coll_split, false },
	{ "template", coll_template, false },
	{ "mtu", coll_mtu, false },
	{ "template_refresh", coll_refresh, false },
	{ "observation_domain", coll_od, false },
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

	if (PARSE_UINT(p, v, 256, 65534, "", t->id))
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

#define NKEYS(a) ((int)(sizeof(a) / sizeof((a)[0])))
_Static_assert(NKEYS(agent_keys) <= CFG_MAX_KEYS, "key_line[] too small");
_Static_assert(NKEYS(coll_keys) <= CFG_MAX_KEYS, "key_line[] too small");

static const struct {
	const char *label;
	const struct cfg_key *keys;
	int nkeys;
} sections[] = {
	{ "[agent]", agent_keys, NKEYS(agent_keys) },
	{ "[collector NAME]", coll_keys, NKEYS(coll_keys) },
	{ "[template NAME]", tmpl_keys, NKEYS(tmpl_keys) },
};

/* --- sections ----------------------------------------------------------- */

static int key_index(struct cfg_parser *p, const char *name)
{
	int i;

	for (i = 0; i < p->nkeys; i++)
		if (!strcmp(p->keys[i].name, name))
			return i;
	return -1;
}

/* Checks that need the whole section: required keys, combinations. */
static int section_close(struct cfg_parser *p)
{
	int k;

	if (p->sect == SECT_COLLECTOR) {
		struct fe_collector_cfg *c = cur_coll(p);

		if (!p->key_line[key_index(p, "address")])
			return cfg_fail(p, p->sect_line,
					"%s missing required key 'address' "
					"(host:port or [v6addr]:port)",
					p->label);
		k = key_index(p, "template_refresh");
		if (p->key_line[k] && !c->template_refresh &&
		    c->transport == FE_TRANSPORT_UDP)
			return cfg_fail(p, p->key_line[k],
					"%s template_refresh = 0 needs "
					"transport = tcp (a UDP collector that "
					"restarts would never learn the "
					"templates again)",
					p->label);
	} else if (p->sect == SECT_TEMPLATE) {
		struct fe_template_cfg *t = cur_tmpl(p);

		if (!p->key_line[key_index(p, "id")])
			return cfg_fail(p, p->sect_line,
					"%s missing required key 'id' "
					"(256..65534)",
					p->label);
		k = key_index(p, "fields");
		if (!p->key_line[k])
			return cfg_fail(p, p->sect_line,
					"%s missing required key 'fields' "
					"(a list of IPFIX element names)",
					p->label);
		if (!t->nies)
			return cfg_fail(p, p->key_line[k],
					"%s empty field list (fields = "
					"IPFIX element names)",
					p->label);
	}
	p->sect = SECT_NONE;
	return 0;
}

static void collector_defaults(struct fe_config *cfg,
			       struct fe_collector_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->transport = FE_TRANSPORT_UDP;
	c->biflow = true;
	c->split_links = false;
	c->tmpl = -1;
	c->mtu = 1400;
	c->template_refresh = 60;
	c->observation_domain = cfg->observation_domain;
}

/* "[type name]" (inside the brackets, trimmed) opens a section. */
static int section_open(struct cfg_parser *p, char *inner)
{
	struct fe_config *cfg = p->cfg;
	char *type = inner, *name;
	int i;

	while (isspace((unsigned char)*type))
		type++;
	name = type;
	while (*name && !isspace((unsigned char)*name))
		name++;
	if (*name)
		*name++ = '\0';
	while (isspace((unsigned char)*name))
		name++;
	for (i = strlen(name); i > 0 && isspace((unsigned char)name[i - 1]);
	     i--)
		name[i - 1] = '\0';

	memset(p->key_line, 0, sizeof(p->key_line));
	p->sect_line = p->line;
	p->have_key = false;
	p->cur_key = NULL;
	if (!strcasecmp(type, "agent")) {
		if (*name)
			return cfg_fail(p, p->line,
					"[agent] takes no name (found '%s')",
					name);
		if (p->agent_line)
			return cfg_fail(p, p->line,
					"duplicate section [agent] (first on "
					"line %d)",
					p->agent_line);
		p->agent_line = p->line;
		p->sect = SECT_AGENT;
		p->keys = agent_keys;
		p->nkeys = NKEYS(agent_keys);
		snprintf(p->label, sizeof(p->label), "[agent]");
		return 0;
	}
	if (!strcasecmp(type, "collector") || !strcasecmp(type, "template")) {
		bool coll = !strcasecmp(type, "collector");
		const char *t = coll ? "collector" : "template";

		if (!*name)
			return cfg_fail(p, p->line,
					"[%s] needs a name: [%s NAME]", t, t);
		if (!valid_name(name))
			return cfg_fail(p, p->line,
					"[%s %s]: bad name (letters, digits, "
					"'_', '-', '.'; at most 63)",
					t, name);
		for (i = 0; coll && i < cfg->ncoll; i++)
			if (!strcmp(cfg->coll[i].name, name))
				return cfg_fail(p, p->line,
						"duplicate section [collector "
						"%s] (first on line %d)",
						name, cfg->coll[i].line);
		for (i = 0; !coll && i < cfg->ntmpl; i++)
			if (!strcmp(cfg->tmpl[i].name, name))
				return cfg_fail(p, p->line,
						"duplicate section [template "
						"%s] (first on line %d)",
						name, cfg->tmpl[i].line);
		snprintf(p->label, sizeof(p->label), "[%s %.63s]", t, name);
		if (coll) {
			struct fe_collector_cfg *c;

			if (cfg->ncoll == FE_MAX_COLLECTORS)
				return cfg_fail(p, p->line,
						"more than %d collectors",
						FE_MAX_COLLECTORS);
			c = &cfg->coll[cfg->ncoll++];
			collector_defaults(cfg, c);
			strcpy(c->name, name);
			c->line = p->line;
			p->sect = SECT_COLLECTOR;
			p->keys = coll_keys;
			p->nkeys = NKEYS(coll_keys);
		} else {
			struct fe_template_cfg *tc;

			if (cfg->ntmpl == FE_MAX_TEMPLATES)
				return cfg_fail(p, p->line,
						"more than %d templates",
						FE_MAX_TEMPLATES);
			tc = &cfg->tmpl[cfg->ntmpl++];
			memset(tc, 0, sizeof(*tc));
			strcpy(tc->name, name);
			tc->line = p->line;
			p->sect = SECT_TEMPLATE;
			p->keys = tmpl_keys;
			p->nkeys = NKEYS(tmpl_keys);
		}
		return 0;
	}
	{
		static const char *const known[] = { "agent", "collector",
						     "template" };
		const char *hint = NULL;

		for (i = 0; i < 3; i++)
			if (hint_close(type, known[i]))
				hint = known[i];
		if (hint)
			return cfg_fail(
				p, p->line,
				"unknown section [%s%s%s] (did you mean "
				"[%s]? known: [agent], [collector NAME], "
				"[template NAME])",
				type, *name ? " " : "", name, hint);
		return cfg_fail(p, p->line,
				"unknown section [%s%s%s] (known: [agent], "
				"[collector NAME], [template NAME])",
				type, *name ? " " : "", name);
	}
}

/* --- the line reader and the handler ------------------------------------ */

static char *skip_space(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

static void trim_end(char *s)
{
	char *e = s + strlen(s);

	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
}

/* Classifies the line in buf exactly as inih 55 will (continuation if
 * indented after a key of this section, comment, section, key) and opens
 * sections. Returns 0 or -EINVAL.
 */
static int classify(struct cfg_parser *p, char *buf)
{
	char *s = buf, *e;

	if (p->line == 1 && !strncmp(s, "\xEF\xBB\xBF", 3))
		s += 3;
	s = skip_space(s);
	p->start = s;
	p->kind = LINE_OTHER;
	if (!*s || *s == ';' || *s == '#')
		return 0;
	if (p->have_key && s > buf) {
		/* inih would append these to the previous key: say why */
		if (*s == '[' || strchr(s, '='))
			return cfg_fail(p, p->line,
					"indented '%s' continues the previous "
					"key; only continuation lines of a "
					"list may be indented",
					s);
		p->kind = LINE_CONT;
		return 0;
	}
	if (*s == '[') {
		p->kind = LINE_SECTION;
		e = strchr(s, ']');
		if (!e)
			return cfg_fail(p, p->line,
					"section header lacks the closing ']'");
		if (e[1])
			return cfg_fail(p, p->line,
					"unexpected text after ']': '%s'",
					e + 1);
		if (p->sect != SECT_NONE && section_close(p))
			return -EINVAL;
		*e = '\0';
		return section_open(p, s + 1);
	}
	if (!strpbrk(s, "=:"))
		return cfg_fail(p, p->line,
				"expected 'key = value', '[section]' or a "
				"comment, found '%s'",
				s);
	p->kind = LINE_KEY;
	p->have_key = true;
	return 0;
}

/* Copies the next line of the text into p->buf without its inline comment
 * (';' after whitespace) and trailing whitespace. 0 or -ENOMEM.
 */
static int next_line(struct cfg_parser *p)
{
	const char *nl = strchr(p->pos, '\n');
	size_t len = nl ? (size_t)(nl - p->pos) : strlen(p->pos);
	char *s;

	p->line++;
	if (len >= p->cap) {
		s = realloc(p->buf, len + 1);
		if (!s) {
			cfg_fail(p, p->line, "%s", strerror(ENOMEM));
			p->error = -ENOMEM;
			return -ENOMEM;
		}
		p->buf = s;
		p->cap = len + 1;
	}
	memcpy(p->buf, p->pos, len);
	p->buf[len] = '\0';
	p->pos += nl ? len + 1 : len;

	for (s = p->buf; *s; s++) {
		if (s > p->buf && *s == ';' && isspace((unsigned char)s[-1])) {
			*s = '\0';
			break;
		}
	}
	trim_end(p->buf);
	return 0;
}

/* A line too long for inih: splits a key line as inih would (at the first
 * '=' or ':', both sides trimmed) for the handler, and hands inih a short
 * line of the same kind.
 */
static char *long_line(struct cfg_parser *p, char *str, int num)
{
	static const char *const standin[] = {
		[LINE_OTHER] = ";",
		[LINE_SECTION] = "[s]",
		[LINE_KEY] = "k=",
		[LINE_CONT] = " k",
	};
	char *eq;

	if (num < 4) { /* inih's is 200 bytes */
		cfg_fail(p, p->line, "inih's line buffer holds %d bytes", num);
		return NULL;
	}
	p->long_kv = true;
	p->lname = "";
	p->lvalue = p->start;
	if (p->kind == LINE_KEY) {
		eq = strpbrk(p->start, "=:");
		*eq = '\0';
		trim_end(p->start);
		p->lname = p->start;
		p->lvalue = skip_space(eq + 1);
	}
	strcpy(str, standin[p->kind]);
	return str;
}

/* ini_reader: hands inih the next line; NULL at the end or once an error
 * was found, which stops inih.
 */
static char *cfg_reader(char *str, int num, void *stream)
{
	struct cfg_parser *p = stream;
	size_t len;

	if (p->failed || !*p->pos)
		return NULL;
	if (next_line(p))
		return NULL;
	len = strlen(p->buf);
	p->long_kv = false;
	if (len < (size_t)num)
		memcpy(str, p->buf, len + 1);
	/* classify() cuts section headers up in p->buf: str is a copy */
	if (classify(p, p->buf))
		return NULL;
	return len < (size_t)num ? str : long_line(p, str, num);
}

static int check_value(struct cfg_parser *p, const char *v)
{
	const char *s;

	for (s = v; *s; s++) {
		if (*s == '#')
			return key_fail(
				p, "'#' starts a comment only at the start "
				   "of a line (use ' ; comment' after a "
				   "value)");
		if (*s == ';')
			return key_fail(p, "';' starts a comment only after "
					   "whitespace");
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return key_fail(p, "control character in the value");
		if ((unsigned char)*s == 0x7f)
			return key_fail(p, "control character in the value");
	}
	return 0;
}

static int unknown_key(struct cfg_parser *p, const char *name)
{
	char known[512] = "";
	const char *hint = NULL;
	int i;

	if (!*name)
		return cfg_fail(p, p->line, "%s missing key name before '='",
				p->label);
	for (i = 0; i < p->nkeys; i++) {
		cfg_append(known, sizeof(known), i ? ", " : "",
			   p->keys[i].name);
		if (!hint && hint_close(name, p->keys[i].name))
			hint = p->keys[i].name;
	}
	if (hint)
		return cfg_fail(p, p->line,
				"%s unknown key '%s' (did you mean '%s'? "
				"known: %s)",
				p->label, name, hint, known);
	for (i = 0; i < NKEYS(sections); i++) {
		const struct cfg_key *k = sections[i].keys;
		int j;

		if (k == p->keys)
			continue;
		for (j = 0; j < sections[i].nkeys; j++)
			if (!strcasecmp(k[j].name, name))
				return cfg_fail(
					p, p->line,
					"%s unknown key '%s' (it belongs "
					"in %s; known here: %s)",
					p->label, name, sections[i].label,
					known);
	}
	return cfg_fail(p, p->line, "%s unknown key '%s' (known: %s)", p->label,
			name, known);
}

/* One key line or continuation line of the current section. */
static int cfg_key_value(struct cfg_parser *p, const char *name,
			 const char *value)
{
	int i;

	if (p->kind == LINE_CONT) {
		if (!p->cur_key) /* cannot happen: a key line came first */
			return cfg_fail(p, p->line, "unexpected indented line");
		if (!p->cur_key->list)
			return cfg_fail(
				p, p->line,
				"%s indented line continues '%s', "
				"which takes one value (indent only "
				"continuations of interfaces or fields)",
				p->label, p->cur_key->name);
	} else if (p->kind == LINE_KEY) {
		if (p->sect == SECT_NONE)
			return cfg_fail(p, p->line,
					"key '%s' outside any section (start "
					"with [agent], [collector NAME] or "
					"[template NAME])",
					name);
		for (i = 0; i < p->nkeys; i++)
			if (!strcasecmp(p->keys[i].name, name))
				break;
		if (i == p->nkeys)
			return unknown_key(p, name);
		if (p->key_line[i])
			return cfg_fail(p, p->line,
					"%s duplicate key '%s' (first set on "
					"line %d)",
					p->label, p->keys[i].name,
					p->key_line[i]);
		p->key_line[i] = p->line;
		p->cur_key = &p->keys[i];
	} else {
		return cfg_fail(p, p->line,
				"internal error: inih and flowexp disagree "
				"about this line");
	}
	p->kind = LINE_OTHER; /* one handler call per line */
	if (check_value(p, value))
		return -EINVAL;
	return p->cur_key->parse(p, value);
}

/* ini_handler: nonzero means success to inih. */
static int cfg_handler(void *user, const char *section, const char *name,
		       const char *value)
{
	struct cfg_parser *p = user;

	if (p->failed)
		return 0;
	if (p->long_kv) {
		name = p->lname;
		value = p->lvalue;
	}
	return cfg_key_value(p, name, value) == 0;
}

/* Checks that need the whole file. */
static int config_finish(struct cfg_parser *p)
{
	struct fe_config *cfg = p->cfg;
	int i, j;

	if (p->sect != SECT_NONE && section_close(p))
		return -EINVAL;
	if (!cfg->ncoll)
		return cfg_fail(p, p->line ? p->line : 1,
				"no [collector NAME] section: at least one "
				"collector is required");
	for (i = 0; i < cfg->ncoll; i++) {
		struct fe_collector_cfg *c = &cfg->coll[i];
		const char *want =
			p->coll_tmpl_line[i] ? p->coll_tmpl[i] : "default";

		if (!p->coll_od_set[i])
			c->observation_domain = cfg->observation_domain;
		c->tmpl = -1;
		for (j = 0; j < cfg->ntmpl; j++)
			if (!strcmp(cfg->tmpl[j].name, want))
				c->tmpl = j;
		/* "default" without a [template default] is the built-in */
		if (c->tmpl < 0 && strcmp(want, "default")) {
			char known[256] = "default";

			for (j = 0; j < cfg->ntmpl; j++)
				cfg_append(known, sizeof(known), ", ",
					   cfg->tmpl[j].name);
			return cfg_fail(p, p->coll_tmpl_line[i],
					"[collector %s] template '%s' is not "
					"defined (known: %s)",
					c->name, want, known);
		}
	}
	return 0;
}

void fe_config_defaults(struct fe_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ingress = FE_INGRESS_OFF;
	cfg->poll_interval_ms = 1000;
	cfg->active_timeout = 60;
	cfg->idle_timeout = 15;
	cfg->end_grace_ms = 2000;
	cfg->observation_domain = 1;
	strcpy(cfg->pin_path, FE_DEFAULT_PIN_PATH);
	strcpy(cfg->control_socket, FE_DEFAULT_CONTROL_SOCKET);
	cfg->max_flows = 262144;
	cfg->kernel_max_flows = 65536;
	cfg->xdp_skb_mode = false;
	cfg->precise_ts = false;
	cfg->log_level = FE_LOG_INFO;
}

int fe_config_parse(const char *name, const char *text, unsigned int flags,
		    struct fe_config *cfg, char *err, size_t errlen)
{
	struct cfg_parser *p;
	int ret;

	/* the parser is big (names of every collector): keep it off the
	 * stack of the caller
	 */
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "%s: %s", name, strerror(ENOMEM));
		return -ENOMEM;
	}
	if (errlen)
		err[0] = '\0';
	fe_config_defaults(cfg);
	p->file = name;
	p->flags = flags;
	p->cfg = cfg;
	p->err = err;
	p->errlen = errlen;
	p->pos = text;

	ret = ini_parse_stream(cfg_reader, p, cfg_handler, p);
	if (!p->failed && ret > 0)
		cfg_fail(p, ret, "syntax error");
	else if (!p->failed && ret < 0)
		cfg_fail(p, p->line, "inih failed (%d)", ret);
	if (!p->failed)
		config_finish(p);
	ret = p->failed ? p->error : 0;
	free(p->buf);
	free(p);
	return ret;
}

int fe_config_parse_string(const char *name, const char *text,
			   struct fe_config *cfg, char *err, size_t errlen)
{
	return fe_config_parse(name, text, 0, cfg, err, errlen);
}

int fe_config_load(const char *path, struct fe_config *cfg, char *err,
		   size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	const char *nul;
	FILE *f;
	int ret;

	fe_config_defaults(cfg);
	f = fopen(path, "re");
	if (!f)
		goto fail_errno;
	buf = malloc(CFG_MAX_FILE + 1);
	if (!buf)
		goto fail_errno_close;
	len = fread(buf, 1, CFG_MAX_FILE + 1, f);
	if (ferror(f))
		goto fail_errno_close;
	fclose(f);
	if (len > CFG_MAX_FILE) {
		free(buf);
		snprintf(err, errlen, "%s: larger than %d bytes", path,
			 CFG_MAX_FILE);
		return -EFBIG;
	}
	buf[len] = '\0';
	nul = memchr(buf, '\0', len);
	if (nul) {
		int line = 1;
		const char *s;

		for (s = buf; s < nul; s++)
			line += *s == '\n';
		snprintf(err, errlen, "%s:%d: NUL byte (not a text file?)",
			 path, line);
		free(buf);
		return -EINVAL;
	}
	ret = fe_config_parse(path, buf, 0, cfg, err, errlen);
	free(buf);
	return ret;

fail_errno_close:
	ret = -errno;
	fclose(f);
	goto fail;
fail_errno:
	ret = -errno;
fail:
	free(buf);
	if (!ret)
		ret = -EIO;
	snprintf(err, errlen, "%s: %s", path, strerror(-ret));
	return ret;
}

/* --- printing ----------------------------------------------------------- */

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

int fe_config_print(FILE *f, const struct fe_config *cfg)
{
	static const char *const levels[] = { "warn", "info", "debug" };
	int i, j, lvl = cfg->log_level;

	if (lvl < 0 || lvl > 2)
		lvl = FE_LOG_INFO;
	fprintf(f, "[agent]\ninterfaces =");
	for (i = 0; i < cfg->nifaces; i++)
		fprintf(f, "%s%s", i && i % 8 == 0 ? "\n\t" : " ",
			cfg->ifaces[i]);
	fprintf(f,
		"\ningress = %s\npoll_interval_ms = %u\nactive_timeout = %u\n"
		"idle_timeout = %u\nend_grace_ms = %u\n"
		"observation_domain = %" PRIu32 "\npin_path = %s\n"
		"control_socket = %s\nnetns =%s%s\nmax_flows = %u\n"
		"kernel_max_flows = %u\nxdp_mode = %s\ntimestamps = %s\n"
		"log_level = %s\n",
		fe_ingress_name(cfg->ingress), cfg->poll_interval_ms,
		cfg->active_timeout, cfg->idle_timeout, cfg->end_grace_ms,
		cfg->observation_domain, cfg->pin_path, cfg->control_socket,
		cfg->netns[0] ? " " : "", cfg->netns, cfg->max_flows,
		cfg->kernel_max_flows, cfg->xdp_skb_mode ? "skb" : "native",
		cfg->precise_ts ? "precise" : "coarse", levels[lvl]);
	for (i = 0; i < cfg->ncoll; i++) {
		const struct fe_collector_cfg *c = &cfg->coll[i];

		fprintf(f,
			"\n[collector %s]\naddress = %s\ntransport = %s\n"
			"biflow = %s\nsplit_links = %s\n",
			c->name, c->address, fe_transport_name(c->transport),
			c->biflow ? "yes" : "no",
			c->split_links ? "yes" : "no");
		if (c->tmpl >= 0 && c->tmpl < cfg->ntmpl)
			fprintf(f, "template = %s\n", cfg->tmpl[c->tmpl].name);
		fprintf(f,
			"mtu = %u\ntemplate_refresh = %u\n"
			"observation_domain = %" PRIu32 "\n",
			c->mtu, c->template_refresh, c->observation_domain);
	}
	for (i = 0; i < cfg->ntmpl; i++) {
		const struct fe_template_cfg *t = &cfg->tmpl[i];

		fprintf(f, "\n[template %s]\nid = %u\nfields =", t->name,
			t->id);
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
	return ferror(f) ? -EIO : 0;
}
