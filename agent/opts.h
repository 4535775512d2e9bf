/* opts.h - table-driven command lines for flowagent and every flowctl
 * command: one table per command declares its options, and from it come
 * the getopt_long parse, the range checks, --help, the man page's OPTIONS
 * text (--help=man) and every usage error, in one format.
 */
#ifndef FE_OPTS_H
#define FE_OPTS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum opt_kind {
	OPT_END,
	OPT_FLAG,    /* bool, set to true */
	OPT_COUNTER, /* int, one more each time given (-vv) */
	OPT_STRING,  /* const char *, the argument itself */
	OPT_ADDR,    /* const char *, ADDR:PORT; the command resolves it */
	OPT_UINT,    /* unsigned integer of the member's size, in min..max */
	OPT_ENUM,    /* int, the value of one of words[] */
};

/* A word an OPT_ENUM accepts; a hidden word (an alias) is not listed. */
struct opt_word {
	const char *word;
	int value;
	bool hidden;
};

struct opt_def {
	enum opt_kind kind;
	const char *name; /* the long name, without "--" */
	char short_name;  /* 0: long only */
	/* the argument in --help and man; NULL: "N", "ADDR:PORT", or the
	 * words of an enum
	 */
	const char *metavar;
	const char *help;  /* a phrase, wrapped on output */
	size_t off, size;  /* the member of the command's struct */
	uint64_t min, max; /* OPT_UINT; max 0: the member's largest value */
	const struct opt_word *words; /* OPT_ENUM, ends with { NULL } */
	bool show_default; /* the help ends "(default X)", X from defaults */
};

#define OPT_MEMBER_SIZE(type, member) sizeof(((type *)0)->member)

/* DEFINE_OPTION("count", OPT_UINT, struct send_args, count,
 *		 .short_name = 'n', .help = "...", .max = UINT32_MAX)
 */
#define DEFINE_OPTION(name_, kind_, type, member, ...)                       \
	{                                                                    \
		.kind = kind_, .name = name_, .off = offsetof(type, member), \
		.size = OPT_MEMBER_SIZE(type, member), __VA_ARGS__           \
	}
#define END_OPTIONS \
	{           \
		0   \
	}

/* A command: flowagent, flowctl, or one of flowctl's subcommands. --help
 * prints usage, doc, the options and notes; --help=man prints troff: a
 * tool's OPTIONS section (and a COMMANDS section with each subcommand's
 * synopsis, doc, notes and options). A tool's own doc and notes are for
 * --help only: its man page describes it in prose around the generated
 * text.
 */
struct opt_cmd {
	const char *name;    /* "flowctl send": in usage and messages */
	const char *args;    /* positional arguments; NULL: none taken */
	const char *summary; /* one line in the parent's command list */
	const char *doc;     /* paragraphs, split by a blank line */
	const char *notes;   /* after the options */
	const char *version; /* non-NULL: --version prints it */
	const struct opt_def *opts;
	const void *defaults; /* copied into the struct before parsing */
	size_t size;	      /* of that struct */
	bool stop_at_arg;     /* options end at the first argument */
	const struct opt_cmd *const *subcmds; /* NULL-terminated */
};

/* In an opt_cmd: the table, defaults and struct of the command, named by
 * one prefix (p_opts, p_defaults, struct p_args).
 */
#define OPTS_TABLE(p)                                \
	.opts = p##_opts, .defaults = &p##_defaults, \
	.size = sizeof(struct p##_args)

#define OPTS_DONE 1 /* --help or --version was served: exit 0 */

/* Parses argv[1..argc-1] into cfg (a struct of c->size octets). Returns 0
 * with *next (may be NULL) the index of the first argument; OPTS_DONE
 * after printing help or the version on stdout; -EINVAL after printing
 * the error on stderr.
 */
int opts_parse(const struct opt_cmd *c, int argc, char **argv, void *cfg,
	       int *next);
/* A usage error of c in the one format ("flowctl send: --count: ..." and
 * where to find help) on stderr. Returns -EINVAL.
 */
int opts_error(const struct opt_cmd *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The exit status for a non-zero opts_parse/opts_error result: 0 after
 * OPTS_DONE, else 2 (usage error).
 */
int opts_exit_code(int r);
/* The subcommand of c named word (the last word of its name), or NULL. */
const struct opt_cmd *opts_subcmd(const struct opt_cmd *c, const char *word);
/* Checks a table: kinds against member sizes, names unique, ranges sane.
 * Returns 0 or -EINVAL with err saying what is wrong.
 */
int opts_check(const struct opt_cmd *c, char *err, size_t errlen);

/* opts_doc.c: the texts made from a table. */
void opts_help(const struct opt_cmd *c, FILE *f);
void opts_man(const struct opt_cmd *c, FILE *f);
/* The listed words of an enum option joined by sep ("tc|xdp|none|keep").
 * Returns buf.
 */
const char *opts_enum_words(const struct opt_def *o, const char *sep, char *buf,
			    size_t len);

#endif
