/* config_read.c - reads flowexp.ini (docs/flowexp.ini.5) with inih. inih
 * reports neither line numbers nor section headers and treats indented
 * lines as continuations of the previous key, so the parser feeds inih
 * through its own line reader: the reader numbers the lines, opens and
 * closes sections, strips inline comments the same way on every line and
 * tells the handler whether it is looking at a continuation line. Lines
 * may be of any length (inih's own buffer holds 199 characters: see
 * struct cfg_parser). Parsing stops at the first error, which names its
 * file and line. The entry points fe_config_parse() and fe_config_load()
 * are here.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ini.h>
#include "config_parser.h"
#include "endpoint.h"

#define CFG_MAX_FILE (1 << 20)

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

/* "[type name]" (inner: inside the brackets) opens a section. */
static int section_open(struct cfg_parser *p, char *inner)
{
	const struct cfg_section *s;
	char *type = skip_space(inner), *name;

	name = type;
	while (*name && !isspace((unsigned char)*name))
		name++;
	if (*name)
		*name++ = '\0';
	name = skip_space(name);
	trim_end(name);

	memset(p->key_line, 0, sizeof(p->key_line));
	p->sect_line = p->line;
	p->have_key = false;
	p->cur_key = NULL;
	s = cfg_section_find(type);
	if (!s)
		return cfg_unknown_section(p, type, name);
	if (cfg_check_section(p, s, name))
		return -EINVAL;
	cfg_section_enter(p, s, name);
	return 0;
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
		if (p->sect != SECT_NONE && cfg_section_close(p))
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

/* The key of a key line: known in this section, and set only once. */
static int key_line_start(struct cfg_parser *p, const char *name)
{
	int i;

	if (p->sect == SECT_NONE)
		return cfg_fail(p, p->line,
				"key '%s' outside any section (start with "
				"[agent], [collector NAME] or [template NAME])",
				name);
	for (i = 0; i < p->nkeys; i++)
		if (!strcasecmp(p->keys[i].name, name))
			break;
	if (i == p->nkeys)
		return cfg_unknown_key(p, name);
	if (p->key_line[i])
		return cfg_fail(p, p->line,
				"%s duplicate key '%s' (first set on line %d)",
				p->label, p->keys[i].name, p->key_line[i]);
	p->key_line[i] = p->line;
	p->cur_key = &p->keys[i];
	return 0;
}

/* One key line or continuation line of the current section. */
static int cfg_key_value(struct cfg_parser *p, const char *name,
			 const char *value)
{
	if (p->kind == LINE_CONT) {
		if (!p->cur_key) /* cannot happen: a key line came first */
			return cfg_fail(p, p->line, "unexpected indented line");
		if (!p->cur_key->list)
			return cfg_fail(p, p->line,
					"%s indented line continues '%s', "
					"which takes one value (indent only "
					"continuations of interfaces or "
					"fields)",
					p->label, p->cur_key->name);
	} else if (p->kind == LINE_KEY) {
		if (key_line_start(p, name))
			return -EINVAL;
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
		cfg_finish(p);
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

/* Reads the whole file (at most CFG_MAX_FILE bytes) into *buf. */
static int read_file(const char *path, char **buf, char *err, size_t errlen)
{
	size_t len;
	FILE *f;
	int ret;

	*buf = NULL;
	f = fopen(path, "re");
	if (!f)
		goto fail_errno;
	*buf = malloc(CFG_MAX_FILE + 1);
	if (!*buf)
		goto fail_errno_close;
	len = fread(*buf, 1, CFG_MAX_FILE + 1, f);
	if (ferror(f))
		goto fail_errno_close;
	fclose(f);
	if (len > CFG_MAX_FILE) {
		snprintf(err, errlen, "%s: larger than %d bytes", path,
			 CFG_MAX_FILE);
		return -EFBIG;
	}
	(*buf)[len] = '\0';
	return len;

fail_errno_close:
	ret = -errno;
	fclose(f);
	goto fail;
fail_errno:
	ret = -errno;
fail:
	if (!ret)
		ret = -EIO;
	snprintf(err, errlen, "%s: %s", path, strerror(-ret));
	return ret;
}

int fe_config_load(const char *path, struct fe_config *cfg, char *err,
		   size_t errlen)
{
	const char *nul, *s;
	char *buf;
	int len, line = 1, ret;

	fe_config_defaults(cfg);
	len = read_file(path, &buf, err, errlen);
	if (len < 0) {
		free(buf);
		return len;
	}
	nul = memchr(buf, '\0', len);
	if (nul) {
		for (s = buf; s < nul; s++)
			line += *s == '\n';
		snprintf(err, errlen, "%s:%d: NUL byte (not a text file?)",
			 path, line);
		free(buf);
		return -EINVAL;
	}
	ret = fe_config_parse(path, buf, FE_CONFIG_DEFER_COLLECTORS, cfg, err,
			      errlen);
	free(buf);
	return ret;
}

int fe_config_check_names(const struct fe_config *cfg, const char *path,
			  FILE *out)
{
	int n = 0;

	for (int i = 0; i < cfg->ncoll; i++) {
		const struct fe_collector_cfg *c = &cfg->coll[i];
		struct sockaddr_storage ss;
		socklen_t len;
		char msg[512];

		if (c->format != FE_FORMAT_IPFIX || c->addrlen)
			continue;
		if (!endpoint_parse(c->address, 0, 0, &ss, &len, msg,
				    sizeof(msg)))
			continue;
		fprintf(out,
			"%s:%d: warning: [collector %s] address: %s; the "
			"agent meters anyway and retries the name with "
			"backoff\n",
			path, c->line, c->name, msg);
		n++;
	}
	return n;
}
