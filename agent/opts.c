/* opts.c - the option layer's parser: builds getopt_long's tables from a
 * command's option table, stores and range-checks each value into the
 * command's struct, and reports usage errors in one format.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "opts.h"

#define OPTS_MAX 32 /* options in one table */
/* getopt_long values of long-only options: above every char */
#define OPTS_VAL_LONG 256
#define OPTS_VAL_VERSION (OPTS_VAL_LONG + OPTS_MAX)

struct opts_getopt {
	struct option lopts[OPTS_MAX + 3]; /* + help, version, end */
	char sopts[3 * OPTS_MAX + 8];
};

int opts_error(const struct opt_cmd *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", c->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", c->name);
	return -EINVAL;
}

int opts_exit_code(int r)
{
	return r == OPTS_DONE ? 0 : 2;
}

const struct opt_cmd *opts_subcmd(const struct opt_cmd *c, const char *word)
{
	for (int i = 0; c->subcmds && c->subcmds[i]; i++) {
		const char *name = c->subcmds[i]->name;
		const char *sp = strrchr(name, ' ');

		if (!strcmp(sp ? sp + 1 : name, word))
			return c->subcmds[i];
	}
	return NULL;
}

static bool opts_size_ok(const struct opt_def *o)
{
	switch (o->kind) {
	case OPT_FLAG:
		return o->size == sizeof(bool);
	case OPT_COUNTER:
	case OPT_ENUM:
		return o->size == sizeof(int);
	case OPT_STRING:
	case OPT_ADDR:
		return o->size == sizeof(const char *);
	case OPT_UINT:
		return o->size == 1 || o->size == 2 || o->size == 4 ||
		       o->size == 8;
	case OPT_END:
		break;
	}
	return false;
}

/* The largest value an unsigned member of size octets holds. */
static uint64_t opts_uint_limit(const struct opt_def *o)
{
	return o->size >= 8 ? UINT64_MAX : (1ULL << (o->size * 8)) - 1;
}

static uint64_t opts_uint_max(const struct opt_def *o)
{
	return o->max ? o->max : opts_uint_limit(o);
}

static int opts_check_one(const struct opt_cmd *c, int i, char *err,
			  size_t errlen)
{
	const struct opt_def *o = &c->opts[i];

	if (!o->name || !o->help || !opts_size_ok(o) ||
	    o->off + o->size > c->size)
		goto bad;
	if (o->short_name == 'h' || !strcmp(o->name, "help") ||
	    !strcmp(o->name, "version"))
		goto bad; /* the layer's own */
	if (o->kind == OPT_UINT && (opts_uint_max(o) > opts_uint_limit(o) ||
				    o->min > opts_uint_max(o)))
		goto bad;
	if (o->kind == OPT_ENUM && (!o->words || !o->words[0].word))
		goto bad;
	for (int j = 0; j < i; j++)
		if (!strcmp(c->opts[j].name, o->name) ||
		    (o->short_name && c->opts[j].short_name == o->short_name))
			goto bad;
	return 0;
bad:
	snprintf(err, errlen, "%s: option table entry %d (--%s) is invalid",
		 c->name, i, o->name ? o->name : "?");
	return -EINVAL;
}

int opts_check(const struct opt_cmd *c, char *err, size_t errlen)
{
	int i;

	for (i = 0; c->opts && c->opts[i].kind != OPT_END; i++) {
		if (i >= OPTS_MAX) {
			snprintf(err, errlen, "%s: more than %d options",
				 c->name, OPTS_MAX);
			return -EINVAL;
		}
		if (opts_check_one(c, i, err, errlen))
			return -EINVAL;
	}
	if (i && !c->defaults) {
		snprintf(err, errlen, "%s: options but no defaults", c->name);
		return -EINVAL;
	}
	return 0;
}

static bool opts_takes_arg(const struct opt_def *o)
{
	return o->kind != OPT_FLAG && o->kind != OPT_COUNTER;
}

static int opts_val(const struct opt_cmd *c, int i)
{
	return c->opts[i].short_name ? (unsigned char)c->opts[i].short_name
				     : OPTS_VAL_LONG + i;
}

/* ':' first: getopt reports a missing argument as ':' and prints nothing. */
static void opts_build(const struct opt_cmd *c, struct opts_getopt *g)
{
	char *s = g->sopts;
	int i, n = 0;

	if (c->stop_at_arg)
		*s++ = '+';
	*s++ = ':';
	*s++ = 'h';
	for (i = 0; c->opts && c->opts[i].kind != OPT_END; i++) {
		const struct opt_def *o = &c->opts[i];

		g->lopts[n++] = (struct option){
			.name = o->name,
			.has_arg = opts_takes_arg(o) ? required_argument
						     : no_argument,
			.val = opts_val(c, i),
		};
		if (!o->short_name)
			continue;
		*s++ = o->short_name;
		if (opts_takes_arg(o))
			*s++ = ':';
	}
	*s = 0;
	g->lopts[n++] = (struct option){ "help", optional_argument, NULL, 'h' };
	if (c->version)
		g->lopts[n++] = (struct option){ "version", no_argument, NULL,
						 OPTS_VAL_VERSION };
	g->lopts[n] = (struct option){ 0 };
}

static const struct opt_def *opts_by_val(const struct opt_cmd *c, int val)
{
	for (int i = 0; c->opts && c->opts[i].kind != OPT_END; i++)
		if (opts_val(c, i) == val)
			return &c->opts[i];
	return NULL;
}

/* A decimal number, nothing around it: no sign, no space, no suffix. */
static bool opts_number(const char *s, uint64_t *out)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !*end && !errno;
}

static void opts_store_uint(void *p, size_t size, uint64_t v)
{
	uint8_t u8 = v;
	uint16_t u16 = v;
	uint32_t u32 = v;

	if (size == 1)
		memcpy(p, &u8, 1);
	else if (size == 2)
		memcpy(p, &u16, 2);
	else if (size == 4)
		memcpy(p, &u32, 4);
	else
		memcpy(p, &v, 8);
}

static int opts_store_enum(const struct opt_cmd *c, const struct opt_def *o,
			   const char *arg, void *p)
{
	char words[256];

	for (int i = 0; o->words[i].word; i++) {
		if (!strcmp(o->words[i].word, arg)) {
			memcpy(p, &o->words[i].value, sizeof(int));
			return 0;
		}
	}
	return opts_error(c, "--%s: '%s' is not one of %s", o->name, arg,
			  opts_enum_words(o, ", ", words, sizeof(words)));
}

static int opts_store(const struct opt_cmd *c, const struct opt_def *o,
		      const char *arg, void *cfg)
{
	char *p = (char *)cfg + o->off;
	uint64_t v;
	int n;

	switch (o->kind) {
	case OPT_FLAG:
		*(bool *)p = true;
		return 0;
	case OPT_COUNTER:
		memcpy(&n, p, sizeof(n));
		n++;
		memcpy(p, &n, sizeof(n));
		return 0;
	case OPT_STRING:
	case OPT_ADDR:
		memcpy(p, &arg, sizeof(arg));
		return 0;
	case OPT_UINT:
		if (!opts_number(arg, &v) || v < o->min || v > opts_uint_max(o))
			return opts_error(c,
					  "--%s: '%s' is not a number in "
					  "%" PRIu64 "..%" PRIu64,
					  o->name, arg, o->min,
					  opts_uint_max(o));
		opts_store_uint(p, o->size, v);
		return 0;
	case OPT_ENUM:
		return opts_store_enum(c, o, arg, p);
	case OPT_END:
		break;
	}
	return -EINVAL;
}

/* getopt's '?' and ':' turned into the layer's messages. */
static int opts_getopt_error(const struct opt_cmd *c, int ch, char **argv)
{
	const struct opt_def *o = optopt ? opts_by_val(c, optopt) : NULL;

	if (ch == ':' && o)
		return opts_error(c, "--%s: missing argument", o->name);
	if (ch == ':')
		return opts_error(c, "-%c: missing argument", optopt);
	if (o)
		return opts_error(c, "--%s takes no argument", o->name);
	if (optopt && optopt < OPTS_VAL_LONG)
		return opts_error(c, "unknown option '-%c'", optopt);
	return opts_error(c, "unknown option '%s'", argv[optind - 1]);
}

static int opts_one(const struct opt_cmd *c, int ch, char **argv, void *cfg)
{
	const struct opt_def *o;

	if (ch == 'h' && optarg && strcmp(optarg, "man"))
		return opts_error(c, "--help=%s: only --help=man", optarg);
	if (ch == 'h') {
		if (optarg)
			opts_man(c, stdout);
		else
			opts_help(c, stdout);
		return OPTS_DONE;
	}
	if (ch == OPTS_VAL_VERSION) {
		printf("%s %s\n", c->name, c->version);
		return OPTS_DONE;
	}
	if (ch == '?' || ch == ':')
		return opts_getopt_error(c, ch, argv);
	o = opts_by_val(c, ch);
	if (!o)
		return opts_error(c, "unknown option");
	return opts_store(c, o, optarg, cfg);
}

int opts_parse(const struct opt_cmd *c, int argc, char **argv, void *cfg,
	       int *next)
{
	struct opts_getopt g = { 0 };
	char err[256];
	int ch, r;

	if (opts_check(c, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -EINVAL;
	}
	opts_build(c, &g);
	if (c->defaults)
		memcpy(cfg, c->defaults, c->size);
	optind = 0; /* a full reset: flowctl parses twice */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, g.sopts, g.lopts, NULL)) != -1) {
		r = opts_one(c, ch, argv, cfg);
		if (r)
			return r;
	}
	if (!c->args && optind < argc)
		return opts_error(c, "unexpected argument '%s'", argv[optind]);
	if (next)
		*next = optind;
	return 0;
}
