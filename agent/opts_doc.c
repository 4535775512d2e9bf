/* opts_doc.c - the texts made from a command's option table: --help
 * (usage line, doc, option list, subcommands, notes) and the troff of its
 * man page's OPTIONS and COMMANDS sections (--help=man), so that the page
 * and the parser cannot disagree.
 */
#include <ctype.h>
#include <inttypes.h>
#include <string.h>
#include "opts.h"

#define DOC_WIDTH 79	/* columns of --help */
#define DOC_LEFT_MAX 24 /* widest option column before the help moves down */

const char *opts_enum_words(const struct opt_def *o, const char *sep, char *buf,
			    size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; o->words && o->words[i].word; i++) {
		if (o->words[i].hidden)
			continue;
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s",
			      n ? sep : "", o->words[i].word);
	}
	return buf;
}

static const char *doc_metavar(const struct opt_def *o, char *buf, size_t len)
{
	if (o->metavar)
		return o->metavar;
	if (o->kind == OPT_ENUM)
		return opts_enum_words(o, "|", buf, len);
	if (o->kind == OPT_ADDR)
		return "ADDR:PORT";
	if (o->kind == OPT_UINT)
		return "N";
	return o->kind == OPT_STRING ? "STRING" : NULL;
}

static uint64_t doc_uint(const void *p, size_t size)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (size) {
	case 1:
		memcpy(&u8, p, 1);
		return u8;
	case 2:
		memcpy(&u16, p, 2);
		return u16;
	case 4:
		memcpy(&u32, p, 4);
		return u32;
	default:
		memcpy(&u64, p, 8);
		return u64;
	}
}

/* The default of o as text, or NULL when the help shows none. */
static const char *doc_default(const struct opt_cmd *c, const struct opt_def *o,
			       char *buf, size_t len)
{
	const char *p, *s;
	uint64_t v = 0;
	int e;

	if (!o->show_default || !c->defaults)
		return NULL;
	p = (const char *)c->defaults + o->off;
	switch (o->kind) {
	case OPT_STRING:
	case OPT_ADDR:
		memcpy(&s, p, sizeof(s));
		return s;
	case OPT_UINT:
		v = doc_uint(p, o->size);
		snprintf(buf, len, "%" PRIu64, v);
		return buf;
	case OPT_ENUM:
		memcpy(&e, p, sizeof(e));
		for (int i = 0; o->words[i].word; i++)
			if (o->words[i].value == e && !o->words[i].hidden)
				return o->words[i].word;
		return NULL;
	default:
		return NULL;
	}
}

/* An option's help with its default. Returns buf. */
static const char *doc_help(const struct opt_cmd *c, const struct opt_def *o,
			    char *buf, size_t len)
{
	char d[64];
	const char *def = doc_default(c, o, d, sizeof(d));

	snprintf(buf, len, "%s%s%s%s", o->help, def ? " (default " : "",
		 def ? def : "", def ? ")" : "");
	return buf;
}

/* Prints text's words from column col on, breaking lines before width
 * and indenting continuation lines by indent; ends the line. A blank line
 * in text starts a new paragraph (after an empty line).
 */
static void doc_wrap(FILE *f, const char *text, int col, int indent)
{
	const char *p = text;
	bool first = true;

	while (*p) {
		size_t n;

		if (*p == '\n' && p[1] == '\n') {
			fprintf(f, "\n\n%*s", indent, "");
			col = indent;
			first = true;
			p += 2;
			continue;
		}
		if (isspace((unsigned char)*p)) {
			p++;
			continue;
		}
		n = strcspn(p, " \t\n");
		if (!first && col + 1 + (int)n > DOC_WIDTH) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
			first = true;
		}
		col += fprintf(f, "%s%.*s", first ? "" : " ", (int)n, p);
		first = false;
		p += n;
	}
	fputc('\n', f);
}

/* "[-d ADDR:PORT]" in --help's usage line. */
static void doc_token(const struct opt_def *o, char *buf, size_t len)
{
	char mv[256];
	const char *m = doc_metavar(o, mv, sizeof(mv));

	if (o->short_name)
		snprintf(buf, len, "[-%c%s%s%s]", o->short_name, m ? " " : "",
			 m ? m : "", o->kind == OPT_COUNTER ? "..." : "");
	else
		snprintf(buf, len, "[--%s%s%s%s]", o->name, m ? " " : "",
			 m ? m : "", o->kind == OPT_COUNTER ? "..." : "");
}

static void doc_usage(const struct opt_cmd *c, FILE *f)
{
	int indent = (int)strlen("Usage: ") + (int)strlen(c->name) + 1;
	int col = fprintf(f, "Usage: %s", c->name);
	char tok[320];

	for (const struct opt_def *o = c->opts; o && o->kind != OPT_END; o++) {
		doc_token(o, tok, sizeof(tok));
		if (col + 1 + (int)strlen(tok) > DOC_WIDTH) {
			fprintf(f, "\n%*s", indent - 1, "");
			col = indent - 1;
		}
		col += fprintf(f, " %s", tok);
	}
	if (c->args && col + 1 + (int)strlen(c->args) > DOC_WIDTH) {
		fprintf(f, "\n%*s", indent - 1, "");
		col = indent - 1;
	}
	fprintf(f, "%s%s\n", c->args ? " " : "", c->args ? c->args : "");
}

/* "  -d, --dest ADDR:PORT"; returns its width. */
static int doc_left(const struct opt_def *o, char *buf, size_t len)
{
	char mv[256];
	const char *m = doc_metavar(o, mv, sizeof(mv));

	if (o->short_name)
		return snprintf(buf, len, "  -%c, --%s%s%s", o->short_name,
				o->name, m ? " " : "", m ? m : "");
	return snprintf(buf, len, "      --%s%s%s", o->name, m ? " " : "",
			m ? m : "");
}

static void doc_option(const struct opt_cmd *c, const struct opt_def *o,
		       int col, FILE *f)
{
	char left[320], help[1024];
	int w = doc_left(o, left, sizeof(left));

	if (w + 2 > col)
		fprintf(f, "%s\n%*s", left, col, "");
	else
		fprintf(f, "%-*s", col, left);
	doc_wrap(f, doc_help(c, o, help, sizeof(help)), col, col);
}

static int doc_column(const struct opt_cmd *c)
{
	char left[320];
	int col = (int)strlen("      --version") + 2;

	for (const struct opt_def *o = c->opts; o && o->kind != OPT_END; o++) {
		int w = doc_left(o, left, sizeof(left)) + 2;

		if (w <= DOC_LEFT_MAX + 2 && w > col)
			col = w;
	}
	return col;
}

void opts_help(const struct opt_cmd *c, FILE *f)
{
	int col = doc_column(c);

	doc_usage(c, f);
	if (c->doc) {
		fputc('\n', f);
		doc_wrap(f, c->doc, 0, 0);
	}
	fprintf(f, "\nOptions:\n");
	for (const struct opt_def *o = c->opts; o && o->kind != OPT_END; o++)
		doc_option(c, o, col, f);
	fprintf(f, "%-*s", col, "  -h, --help");
	doc_wrap(f,
		 c->subcmds ? "this help; COMMAND --help for a command's"
			    : "this help",
		 col, col);
	if (c->version)
		fprintf(f, "%-*sprint the version and exit\n", col,
			"      --version");
	if (c->subcmds) {
		fprintf(f, "\nCommands:\n");
		for (int i = 0; c->subcmds[i]; i++) {
			const char *sp = strrchr(c->subcmds[i]->name, ' ');

			fprintf(f, "  %-8s ",
				sp ? sp + 1 : c->subcmds[i]->name);
			doc_wrap(f, c->subcmds[i]->summary, 11, 11);
		}
	}
	if (c->notes) {
		fputc('\n', f);
		doc_wrap(f, c->notes, 0, 0);
	}
}

/* Text in troff: '-' and '\' escaped, a control character at the start
 * of a line defused.
 */
static void man_puts(FILE *f, const char *s, bool line_start)
{
	for (; *s; s++) {
		if (line_start && (*s == '.' || *s == '\''))
			fputs("\\&", f);
		line_start = *s == '\n';
		if (*s == '-')
			fputs("\\-", f);
		else if (*s == '\\')
			fputs("\\e", f);
		else
			fputc(*s, f);
	}
}

/* A paragraph per line (troff fills them), the first letter upper-cased
 * and a full stop at the end. Paragraphs after the first start with sep.
 */
static void man_paragraphs(FILE *f, const char *text, const char *sep)
{
	char buf[4096], *p, *q;
	bool first = true;

	snprintf(buf, sizeof(buf), "%s", text);
	for (p = buf; p && *p; p = q) {
		size_t n;

		q = strstr(p, "\n\n");
		if (q) {
			*q = 0;
			q += 2;
		}
		for (char *s = p; *s; s++)
			if (*s == '\n')
				*s = ' ';
		if (!first)
			fprintf(f, "%s\n", sep);
		first = false;
		*p = toupper((unsigned char)*p);
		man_puts(f, p, true);
		n = strlen(p);
		fputs(n && strchr(".:!?", p[n - 1]) ? "\n" : ".\n", f);
	}
}

/* Upper-case words of an argument synopsis ("DEV...") in italics. */
static void man_args(FILE *f, const char *args)
{
	for (const char *s = args; *s;) {
		size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_:");

		if (n) {
			fprintf(f, "\\fI%.*s\\fR", (int)n, s);
			s += n;
			continue;
		}
		if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
		s++;
	}
}

/* An option's name and argument in troff: bold name, italic argument. */
static void man_option_name(const struct opt_def *o, bool both, FILE *f)
{
	char mv[256];
	const char *m = doc_metavar(o, mv, sizeof(mv));

	if (o->short_name)
		fprintf(f, "\\fB\\-%c\\fR%s", o->short_name, both ? ", " : "");
	if (both || !o->short_name) {
		fprintf(f, "\\fB");
		man_puts(f, "--", false);
		man_puts(f, o->name, false);
		fprintf(f, "\\fR");
	}
	if (m) {
		fprintf(f, " \\fI");
		man_puts(f, m, false);
		fprintf(f, "\\fR");
	}
	if (o->kind == OPT_COUNTER && !both)
		fprintf(f, "...");
}

static void man_option(const struct opt_cmd *c, const struct opt_def *o,
		       FILE *f)
{
	char help[1024];

	fprintf(f, ".TP\n");
	man_option_name(o, true, f);
	fputc('\n', f);
	man_paragraphs(f, doc_help(c, o, help, sizeof(help)), ".IP");
}

static void man_command(const struct opt_cmd *c, FILE *f)
{
	const char *sp = strrchr(c->name, ' ');

	fprintf(f, ".TP\n\\fB%s\\fR", sp ? sp + 1 : c->name);
	for (const struct opt_def *o = c->opts; o && o->kind != OPT_END; o++) {
		fputs(" [", f);
		man_option_name(o, false, f);
		fputc(']', f);
	}
	if (c->args) {
		fputc(' ', f);
		man_args(f, c->args);
	}
	fputc('\n', f);
	if (c->doc)
		man_paragraphs(f, c->doc, ".IP");
	if (c->notes) {
		fprintf(f, ".IP\n");
		man_paragraphs(f, c->notes, ".IP");
	}
	if (!c->opts || c->opts[0].kind == OPT_END)
		return;
	fprintf(f, ".RS\n");
	for (const struct opt_def *o = c->opts; o && o->kind != OPT_END; o++)
		man_option(c, o, f);
	fprintf(f, ".RE\n");
}

void opts_man(const struct opt_cmd *c, FILE *f)
{
	fprintf(f, ".SH OPTIONS\n");
	for (const struct opt_def *o = c->opts; o && o->kind != OPT_END; o++)
		man_option(c, o, f);
	fprintf(f, ".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\n");
	fprintf(f, "Print the options and exit%s.\n",
		c->subcmds ? "; \\fICOMMAND\\fR \\fB\\-\\-help\\fR prints a "
			     "command's"
			   : "");
	if (c->version)
		fprintf(f, ".TP\n\\fB\\-\\-version\\fR\nPrint the version "
			   "and exit.\n");
	if (!c->subcmds)
		return;
	fprintf(f, ".SH COMMANDS\n");
	for (int i = 0; c->subcmds[i]; i++)
		man_command(c->subcmds[i], f);
}
