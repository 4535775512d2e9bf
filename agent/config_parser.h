/* config_parser.h - what the parts of the flowexp.ini parser share, private
 * to agent/config_*.c: the parser's state, the key and section tables and
 * the value parsers. The layers call down only: config_read.c (lines,
 * sections, the inih handler, the entry points) -> config_check.c (what
 * may open a section, required keys, cross-section checks, hints) ->
 * config_keys.c (one key table per section and its setters) ->
 * config_values.c (value syntax and the "file:line: message" error).
 */
#ifndef FE_CONFIG_PARSER_H
#define FE_CONFIG_PARSER_H
#include <stdbool.h>
#include <stddef.h>
#include "config.h"

#define CFG_MAX_KEYS 32
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

/* A section type: "[agent]", "[collector NAME]", "[template NAME]". */
struct cfg_section {
	enum cfg_sect sect;
	const char *type;  /* as written in the header, case-insensitive */
	const char *label; /* in messages: "[collector NAME]" */
	const struct cfg_key *keys;
	int nkeys;
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

/* --- config_values.c ---------------------------------------------------- */

/* Records the first error as "file:line: message"; returns -EINVAL. */
__attribute__((format(printf, 3, 4))) int
cfg_fail(struct cfg_parser *p, int line, const char *fmt, ...);

/* An error about the value of the key on the current line. */
#define key_fail(p, fmt, ...)                                                 \
	cfg_fail(p, (p)->line, "%s %s: " fmt, (p)->label, (p)->cur_key->name, \
		 ##__VA_ARGS__)

/* Appends sep and item to the string in buf (cap bytes) without ever
 * writing past it; a list cut short ends in "...".
 */
void cfg_append(char *buf, size_t cap, const char *sep, const char *item);

/* Copies the next space- or comma-separated token of *s into tok (cut to
 * cap - 1 bytes; *len gets its full length). Returns false at the end.
 */
bool cfg_next_token(const char **s, char *tok, size_t cap, size_t *len);

/* A decimal number in [min, max]; unit names the unit in errors. */
int cfg_parse_num(struct cfg_parser *p, const char *v, unsigned long long min,
		  unsigned long long max, const char *unit,
		  unsigned long long *out);
#define CFG_PARSE_UINT(p, v, min, max, unit, dst)                    \
	({                                                           \
		unsigned long long _n;                               \
		int _err = cfg_parse_num(p, v, min, max, unit, &_n); \
		if (!_err)                                           \
			(dst) = _n;                                  \
		_err;                                                \
	})
/* A size in octets, optionally with a K, M or G suffix (powers of 1024),
 * in [min, max].
 */
int cfg_parse_size(struct cfg_parser *p, const char *v, unsigned long long min,
		   unsigned long long max, unsigned long long *out);
int cfg_parse_bool(struct cfg_parser *p, const char *v, bool *out);
/* Picks v out of names[] (case-insensitively); allowed lists them. */
int cfg_parse_enum(struct cfg_parser *p, const char *v,
		   const char *const *names, int n, const char *allowed,
		   int *out);
int cfg_parse_path(struct cfg_parser *p, const char *v, char *dst, size_t cap);
/* A name of a collector, template: letters, digits, '_', '-', '.'. */
bool cfg_valid_name(const char *s);

/* --- config_keys.c ------------------------------------------------------ */

extern const struct cfg_section cfg_sections[];
extern const int cfg_nsections;
/* The section type named type, NULL when there is none. */
const struct cfg_section *cfg_section_find(const char *type);
/* Makes s (named name) the current section, with a new collector or
 * template entry at its defaults. The caller checked that it may.
 */
void cfg_section_enter(struct cfg_parser *p, const struct cfg_section *s,
		       const char *name);
/* kernel_max_flows = auto resolved from the keys it depends on. */
void cfg_kernel_max_flows(struct fe_config *cfg);

/* --- config_check.c ----------------------------------------------------- */

/* Whether a section of type s named name may open here (names, duplicates,
 * limits). Returns 0 or -EINVAL.
 */
int cfg_check_section(struct cfg_parser *p, const struct cfg_section *s,
		      const char *name);
int cfg_unknown_section(struct cfg_parser *p, const char *type,
			const char *name);
int cfg_unknown_key(struct cfg_parser *p, const char *name);
/* Checks that need the whole section, then leaves it. */
int cfg_section_close(struct cfg_parser *p);
/* Checks that need the whole file; resolves the collectors' templates. */
int cfg_finish(struct cfg_parser *p);

#endif
