/* config_check.c - the checks of flowexp.ini that one value cannot make:
 * whether a section may open (names, duplicates, limits), the required
 * keys and combinations of a section, the collectors' templates resolved
 * across the file, and the "did you mean" hints of unknown sections and
 * keys. Lists in messages are cut short, never past their buffer.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "config_parser.h"
#include "hint.h"

int cfg_check_section(struct cfg_parser *p, const struct cfg_section *s,
		      const char *name)
{
	const struct fe_config *cfg = p->cfg;
	bool coll = s->sect == SECT_COLLECTOR;
	const char *t = s->type;
	int i;

	if (s->sect == SECT_AGENT) {
		if (*name)
			return cfg_fail(p, p->line,
					"[agent] takes no name (found '%s')",
					name);
		if (p->agent_line)
			return cfg_fail(p, p->line,
					"duplicate section [agent] (first on "
					"line %d)",
					p->agent_line);
		return 0;
	}
	if (!*name)
		return cfg_fail(p, p->line, "[%s] needs a name: [%s NAME]", t,
				t);
	if (!cfg_valid_name(name))
		return cfg_fail(p, p->line,
				"[%s %s]: bad name (letters, digits, '_', '-', "
				"'.'; at most 63)",
				t, name);
	for (i = 0; coll && i < cfg->ncoll; i++)
		if (!strcmp(cfg->coll[i].name, name))
			return cfg_fail(p, p->line,
					"duplicate section [collector %s] "
					"(first on line %d)",
					name, cfg->coll[i].line);
	for (i = 0; !coll && i < cfg->ntmpl; i++)
		if (!strcmp(cfg->tmpl[i].name, name))
			return cfg_fail(p, p->line,
					"duplicate section [template %s] "
					"(first on line %d)",
					name, cfg->tmpl[i].line);
	if (coll && cfg->ncoll == FE_MAX_COLLECTORS)
		return cfg_fail(p, p->line, "more than %d collectors",
				FE_MAX_COLLECTORS);
	if (!coll && cfg->ntmpl == FE_MAX_TEMPLATES)
		return cfg_fail(p, p->line, "more than %d templates",
				FE_MAX_TEMPLATES);
	return 0;
}

int cfg_unknown_section(struct cfg_parser *p, const char *type,
			const char *name)
{
	const char *hint = NULL;
	int i;

	for (i = 0; i < cfg_nsections; i++)
		if (hint_close(type, cfg_sections[i].type))
			hint = cfg_sections[i].type;
	if (hint)
		return cfg_fail(p, p->line,
				"unknown section [%s%s%s] (did you mean [%s]? "
				"known: [agent], [collector NAME], [template "
				"NAME])",
				type, *name ? " " : "", name, hint);
	return cfg_fail(p, p->line,
			"unknown section [%s%s%s] (known: [agent], "
			"[collector NAME], [template NAME])",
			type, *name ? " " : "", name);
}

int cfg_unknown_key(struct cfg_parser *p, const char *name)
{
	char known[512] = "";
	const char *hint = NULL;
	int i, j;

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
	for (i = 0; i < cfg_nsections; i++) {
		const struct cfg_section *s = &cfg_sections[i];

		if (s->keys == p->keys)
			continue;
		for (j = 0; j < s->nkeys; j++)
			if (!strcasecmp(s->keys[j].name, name))
				return cfg_fail(p, p->line,
						"%s unknown key '%s' (it "
						"belongs in %s; known here: "
						"%s)",
						p->label, name, s->label,
						known);
	}
	return cfg_fail(p, p->line, "%s unknown key '%s' (known: %s)", p->label,
			name, known);
}

static int key_line(const struct cfg_parser *p, const char *name)
{
	int i;

	for (i = 0; i < p->nkeys; i++)
		if (!strcmp(p->keys[i].name, name))
			return p->key_line[i];
	return 0;
}

/* Keys that mean something for one format only: a json collector with an
 * address, or a network one with a path, is a mistake to point out.
 */
static const struct {
	enum fe_format format;
	const char *key;
} format_keys[] = {
	{ FE_FORMAT_IPFIX, "address" },
	{ FE_FORMAT_IPFIX, "transport" },
	{ FE_FORMAT_IPFIX, "version" },
	{ FE_FORMAT_IPFIX, "mtu" },
	{ FE_FORMAT_IPFIX, "template_refresh" },
	{ FE_FORMAT_JSON, "path" },
};

/* A collector's format and version against its other keys. */
static int collector_close(struct cfg_parser *p, struct fe_collector_cfg *c)
{
	const char *fmt = fe_format_name(c->format);
	size_t i;
	int line;

	for (i = 0; i < sizeof(format_keys) / sizeof(format_keys[0]); i++) {
		line = key_line(p, format_keys[i].key);
		if (line && format_keys[i].format != c->format)
			return cfg_fail(p, line,
					"%s %s is not used with format = %s "
					"(format = %s takes %s)",
					p->label, format_keys[i].key, fmt, fmt,
					c->format == FE_FORMAT_JSON
						? "path"
						: "address");
	}
	if (c->format == FE_FORMAT_JSON && !key_line(p, "path"))
		return cfg_fail(p, p->sect_line,
				"%s missing required key 'path' (a file for "
				"the JSON lines, '-' for standard output)",
				p->label);
	if (c->format == FE_FORMAT_IPFIX && !key_line(p, "address"))
		return cfg_fail(p, p->sect_line,
				"%s missing required key 'address' (host:port "
				"or [v6addr]:port)",
				p->label);
	if (c->version != 9)
		return 0;
	line = key_line(p, "biflow");
	if (line && c->biflow)
		return cfg_fail(p, line,
				"%s biflow = yes needs version = 10: NetFlow "
				"v9 has no biflow records (version = 9 on "
				"line %d; use biflow = no)",
				p->label, key_line(p, "version"));
	c->biflow = false; /* the default, yes, is IPFIX's */
	return 0;
}

/* Keys a section must set, in the order they are checked. */
static const struct {
	enum cfg_sect sect;
	const char *key, *what;
} required_keys[] = {
	{ SECT_TEMPLATE, "id", "256..65534" },
	{ SECT_TEMPLATE, "fields", "a list of IPFIX element names" },
};

int cfg_section_close(struct cfg_parser *p)
{
	const struct fe_config *cfg = p->cfg;
	size_t i;
	int line;

	for (i = 0; i < sizeof(required_keys) / sizeof(required_keys[0]); i++)
		if (required_keys[i].sect == p->sect &&
		    !key_line(p, required_keys[i].key))
			return cfg_fail(p, p->sect_line,
					"%s missing required key '%s' (%s)",
					p->label, required_keys[i].key,
					required_keys[i].what);
	if (p->sect == SECT_COLLECTOR) {
		struct fe_collector_cfg *c = &p->cfg->coll[p->cfg->ncoll - 1];

		if (collector_close(p, c))
			return -EINVAL;
		line = key_line(p, "template_refresh");
		if (line && !c->template_refresh &&
		    c->transport == FE_TRANSPORT_UDP)
			return cfg_fail(p, line,
					"%s template_refresh = 0 needs "
					"transport = tcp (a UDP collector that "
					"restarts would never learn the "
					"templates again)",
					p->label);
	}
	if (p->sect == SECT_TEMPLATE && !cfg->tmpl[cfg->ntmpl - 1].nies)
		return cfg_fail(p, key_line(p, "fields"),
				"%s empty field list (fields = IPFIX element "
				"names)",
				p->label);
	p->sect = SECT_NONE;
	return 0;
}

/* Finds collector i's template by name ("default" without a [template
 * default] is the built-in one: -1).
 */
static int resolve_template(struct cfg_parser *p, int i)
{
	struct fe_config *cfg = p->cfg;
	struct fe_collector_cfg *c = &cfg->coll[i];
	const char *want = p->coll_tmpl_line[i] ? p->coll_tmpl[i] : "default";
	char known[256] = "default";
	int j;

	c->tmpl = -1;
	for (j = 0; j < cfg->ntmpl; j++)
		if (!strcmp(cfg->tmpl[j].name, want))
			c->tmpl = j;
	if (c->tmpl >= 0 || !strcmp(want, "default"))
		return 0;
	for (j = 0; j < cfg->ntmpl; j++)
		cfg_append(known, sizeof(known), ", ", cfg->tmpl[j].name);
	return cfg_fail(p, p->coll_tmpl_line[i],
			"[collector %s] template '%s' is not defined (known: "
			"%s)",
			c->name, want, known);
}

int cfg_finish(struct cfg_parser *p)
{
	struct fe_config *cfg = p->cfg;
	int i;

	if (p->sect != SECT_NONE && cfg_section_close(p))
		return -EINVAL;
	if (!cfg->ncoll)
		return cfg_fail(p, p->line ? p->line : 1,
				"no [collector NAME] section: at least one "
				"collector is required");
	for (i = 0; i < cfg->ncoll; i++) {
		if (!p->coll_od_set[i])
			cfg->coll[i].observation_domain =
				cfg->observation_domain;
		if (resolve_template(p, i))
			return -EINVAL;
	}
	cfg_kernel_max_flows(cfg);
	return 0;
}
