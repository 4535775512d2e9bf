/* test_opts.c - unit tests of the option layer (agent/opts.c, opts_doc.c):
 * every kind of option, ranges, the one error format, --help and
 * --help=man text, table checks, and flowctl's command tables.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "commands.h"
#include "opts.h"

struct t_args {
	bool flag;
	int verbose;
	const char *name, *addr;
	unsigned int num;
	uint8_t u8;
	uint16_t u16;
	uint64_t u64;
	int kind;
};

static const struct t_args t_defaults = {
	.name = "dflt",
	.num = 7,
	.kind = 2,
};

static const struct opt_word t_kinds[] = {
	{ .word = "one", .value = 1 },
	{ .word = "two", .value = 2 },
	{ .word = "uno", .value = 1, .hidden = true },
	{ .word = NULL },
};

static const struct opt_def t_opts[] = {
	DEFINE_OPTION("flag", OPT_FLAG, struct t_args, flag, .short_name = 'f',
		      .help = "a flag"),
	DEFINE_OPTION("verbose", OPT_COUNTER, struct t_args, verbose,
		      .short_name = 'v', .help = "more"),
	DEFINE_OPTION("name", OPT_STRING, struct t_args, name,
		      .metavar = "NAME", .help = "a name", .show_default = true),
	DEFINE_OPTION("addr", OPT_ADDR, struct t_args, addr, .short_name = 'a',
		      .help = "an address"),
	DEFINE_OPTION("num", OPT_UINT, struct t_args, num, .short_name = 'n',
		      .help = "a number with a long help text that has to be "
			      "wrapped before the seventy-ninth column of "
			      "the terminal",
		      .min = 1, .max = 1000, .show_default = true),
	DEFINE_OPTION("u8", OPT_UINT, struct t_args, u8, .help = "octet"),
	DEFINE_OPTION("u16", OPT_UINT, struct t_args, u16, .help = "short"),
	DEFINE_OPTION("u64", OPT_UINT, struct t_args, u64, .help = "long"),
	DEFINE_OPTION("kind", OPT_ENUM, struct t_args, kind, .short_name = 'k',
		      .words = t_kinds, .help = "which kind",
		      .show_default = true),
	END_OPTIONS
};

static const struct opt_cmd t_cmd = {
	.name = "tool sub",
	.args = "[ARG...]",
	.summary = "a test command",
	.doc = "Does nothing.\n\nSecond paragraph.",
	.notes = "A note.",
	.version = "1.2",
	.opts = t_opts,
	.defaults = &t_defaults,
	.size = sizeof(struct t_args),
};

static const struct opt_cmd t_noargs = {
	.name = "tool",
	.opts = t_opts,
	.defaults = &t_defaults,
	.size = sizeof(struct t_args),
};

/* Runs opts_parse on a NULL-terminated list of words, the command name
 * first; what it writes to stdout and stderr lands in out and err.
 */
static char out[8192], err[8192];

static void capture_into(int fd, int saved, char *buf, size_t len, FILE *tmp)
{
	size_t n;

	fflush(fd == 1 ? stdout : stderr);
	dup2(saved, fd);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, len - 1, tmp);
	buf[n] = 0;
	fclose(tmp);
}

static int parse_words(const struct opt_cmd *c, struct t_args *a, int *next,
		       ...)
{
	char *argv[32];
	int argc = 0, r, so, se;
	FILE *to = tmpfile(), *te = tmpfile();
	va_list ap;

	va_start(ap, next);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	assert_non_null(to);
	assert_non_null(te);
	fflush(stdout);
	fflush(stderr);
	so = dup(1);
	se = dup(2);
	dup2(fileno(to), 1);
	dup2(fileno(te), 2);
	r = opts_parse(c, argc, argv, a, next);
	capture_into(1, so, out, sizeof(out), to);
	capture_into(2, se, err, sizeof(err), te);
	return r;
}

static void test_values(void **state)
{
	struct t_args a;
	int next;

	assert_int_equal(parse_words(&t_cmd, &a, &next, "sub", NULL), 0);
	assert_false(a.flag);
	assert_string_equal(a.name, "dflt");
	assert_int_equal(a.num, 7);
	assert_int_equal(a.kind, 2);
	assert_int_equal(next, 1);

	assert_int_equal(parse_words(&t_cmd, &a, &next, "sub", "-f", "-vv",
				     "--name", "x", "-a", "[::1]:9", "-n",
				     "1000", "--kind=uno", "A", "--u8", "255",
				     "--u16", "65535", "--u64",
				     "18446744073709551615", "-v", "B", NULL),
			 0);
	assert_true(a.flag);
	assert_int_equal(a.verbose, 3);
	assert_string_equal(a.name, "x");
	assert_string_equal(a.addr, "[::1]:9");
	assert_int_equal(a.num, 1000);
	assert_int_equal(a.kind, 1);
	assert_int_equal(a.u8, 255);
	assert_int_equal(a.u16, 65535);
	assert_true(a.u64 == UINT64_MAX);
	assert_string_equal(err, "");
	/* getopt moved the arguments behind the options */
	assert_int_equal(next, 17);
}

static void expect_error(const char *arg1, const char *arg2, const char *msg)
{
	struct t_args a;
	char want[512];

	assert_int_equal(parse_words(&t_cmd, &a, NULL, "sub", arg1, arg2, NULL),
			 -EINVAL);
	snprintf(want, sizeof(want), "tool sub: %s\nTry 'tool sub --help'.\n",
		 msg);
	assert_string_equal(err, want);
	assert_string_equal(out, "");
}

static void test_number_errors(void **state)
{
	expect_error("-n", "12x", "--num: '12x' is not a number in 1..1000");
	expect_error("-n", "0", "--num: '0' is not a number in 1..1000");
	expect_error("-n", "1001", "--num: '1001' is not a number in 1..1000");
	expect_error("-n", "-1", "--num: '-1' is not a number in 1..1000");
	expect_error("-n", "+5", "--num: '+5' is not a number in 1..1000");
	expect_error("-n", " 5", "--num: ' 5' is not a number in 1..1000");
	expect_error("-n", "", "--num: '' is not a number in 1..1000");
	expect_error("--u8", "256", "--u8: '256' is not a number in 0..255");
	expect_error("--u16", "0x10",
		     "--u16: '0x10' is not a number in 0..65535");
	expect_error("--u64", "18446744073709551616",
		     "--u64: '18446744073709551616' is not a number in "
		     "0..18446744073709551615");
}

static void test_other_errors(void **state)
{
	struct t_args a;

	expect_error("--kind", "three", "--kind: 'three' is not one of one, two");
	expect_error("--bogus", NULL, "unknown option '--bogus'");
	expect_error("-x", NULL, "unknown option '-x'");
	expect_error("-fx", NULL, "unknown option '-x'");
	expect_error("-n", NULL, "--num: missing argument");
	expect_error("--name", NULL, "--name: missing argument");
	expect_error("--flag=1", NULL, "--flag takes no argument");
	expect_error("--help=txt", NULL, "--help=txt: only --help=man");
	assert_int_equal(parse_words(&t_noargs, &a, NULL, "tool", "-f", "extra",
				     NULL),
			 -EINVAL);
	assert_string_equal(err, "tool: unexpected argument 'extra'\n"
				 "Try 'tool --help'.\n");
	assert_int_equal(opts_exit_code(-EINVAL), 2);
	assert_int_equal(opts_exit_code(OPTS_DONE), 0);
}

static void test_help_and_version(void **state)
{
	struct t_args a;

	assert_int_equal(parse_words(&t_cmd, &a, NULL, "sub", "--version",
				     NULL),
			 OPTS_DONE);
	assert_string_equal(out, "tool sub 1.2\n");
	assert_int_equal(parse_words(&t_cmd, &a, NULL, "sub", "-n", "5", "-h",
				     NULL),
			 OPTS_DONE);
	assert_non_null(strstr(out, "Usage: tool sub "));
	/* defaults come from the table's defaults, not what was parsed */
	assert_non_null(strstr(out, "(default 7)"));
	assert_int_equal(parse_words(&t_noargs, &a, NULL, "tool", "--version",
				     NULL),
			 -EINVAL); /* no version: no such option */
}

static void test_help_text(void **state)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	opts_help(&t_cmd, f);
	fclose(f);
	assert_memory_equal(buf,
			    "Usage: tool sub [-f] [-v...] [--name NAME] "
			    "[-a ADDR:PORT] [-n N] [--u8 N]\n"
			    "                [--u16 N] [--u64 N] [-k one|two] "
			    "[ARG...]\n\nDoes nothing.\n\nSecond paragraph.\n",
			    strlen("Usage: tool sub [-f] [-v...] [--name NAME] "
				   "[-a ADDR:PORT] [-n N] [--u8 N]\n"
				   "                [--u16 N] [--u64 N] "
				   "[-k one|two] [ARG...]\n\nDoes nothing.\n\n"
				   "Second paragraph.\n"));
	/* one column for the help, wide enough for the widest option */
	assert_non_null(strstr(buf, "\n      --name NAME       a name "
				    "(default dflt)\n"));
	assert_non_null(strstr(buf, "\n  -k, --kind one|two    which kind "
				    "(default two)\n"));
	assert_non_null(strstr(buf, "wrapped\n                        before"));
	assert_non_null(strstr(buf, "\n  -h, --help"));
	assert_non_null(strstr(buf, "\n      --version"));
	assert_non_null(strstr(buf, "\nA note.\n"));
	assert_null(strstr(buf, "uno")); /* hidden words stay hidden */
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		assert_in_range(strlen(line), 0, 79);
	free(buf);
}

static void test_man_text(void **state)
{
	static const struct opt_cmd *const subs[] = { &t_cmd, NULL };
	const struct opt_cmd top = {
		.name = "tool",
		.args = "COMMAND",
		.opts = t_opts,
		.defaults = &t_defaults,
		.size = sizeof(struct t_args),
		.subcmds = subs,
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	opts_man(&top, f);
	fclose(f);
	assert_memory_equal(buf, ".SH OPTIONS\n.TP\n\\fB\\-f\\fR, "
				 "\\fB\\-\\-flag\\fR\nA flag.\n",
			    strlen(".SH OPTIONS\n.TP\n\\fB\\-f\\fR, "
				   "\\fB\\-\\-flag\\fR\nA flag.\n"));
	assert_non_null(strstr(buf, "\n\\fB\\-n\\fR, \\fB\\-\\-num\\fR "
				    "\\fIN\\fR\nA number with"));
	assert_non_null(strstr(buf, "(default 7).\n"));
	assert_non_null(strstr(buf, "\n.SH COMMANDS\n.TP\n\\fBsub\\fR [\\fB"
				    "\\-f\\fR] [\\fB\\-v\\fR...]"));
	assert_non_null(strstr(buf, " [\\fIARG\\fR...]\nDoes nothing.\n.IP\n"
				    "Second paragraph.\n.IP\nA note.\n.RS\n"));
	assert_non_null(strstr(buf, ".RE\n"));
	free(buf);
}

static void test_subcmd(void **state)
{
	static const struct opt_cmd *const subs[] = { &t_cmd, NULL };
	const struct opt_cmd top = { .name = "tool", .subcmds = subs };
	static const struct opt_def stop_opts[] = {
		DEFINE_OPTION("verbose", OPT_COUNTER, struct t_args, verbose,
			      .short_name = 'v', .help = "more"),
		END_OPTIONS
	};
	const struct opt_cmd stop = {
		.name = "tool",
		.args = "COMMAND",
		.opts = stop_opts,
		.defaults = &t_defaults,
		.size = sizeof(struct t_args),
		.stop_at_arg = true,
	};
	struct t_args a;
	int next;

	assert_ptr_equal(opts_subcmd(&top, "sub"), &t_cmd);
	assert_null(opts_subcmd(&top, "tool"));
	assert_null(opts_subcmd(&t_cmd, "sub"));
	/* options after the subcommand's name are the subcommand's */
	assert_int_equal(parse_words(&stop, &a, &next, "tool", "-v", "sub",
				     "-x", NULL),
			 0);
	assert_int_equal(a.verbose, 1);
	assert_int_equal(next, 2);
}

static void expect_bad_table(const struct opt_def *opts)
{
	const struct opt_cmd c = {
		.name = "bad",
		.opts = opts,
		.defaults = &t_defaults,
		.size = sizeof(struct t_args),
	};
	char msg[256];
	struct t_args a;

	assert_int_equal(opts_check(&c, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "bad: "));
	assert_int_equal(parse_words(&c, &a, NULL, "bad", NULL), -EINVAL);
}

static void test_bad_tables(void **state)
{
	const struct opt_def flag_on_int[] = {
		DEFINE_OPTION("x", OPT_FLAG, struct t_args, num, .help = "x"),
		END_OPTIONS
	};
	const struct opt_def twice[] = {
		DEFINE_OPTION("x", OPT_FLAG, struct t_args, flag, .help = "x"),
		DEFINE_OPTION("x", OPT_COUNTER, struct t_args, verbose,
			      .help = "x"),
		END_OPTIONS
	};
	const struct opt_def short_twice[] = {
		DEFINE_OPTION("x", OPT_FLAG, struct t_args, flag,
			      .short_name = 'x', .help = "x"),
		DEFINE_OPTION("y", OPT_COUNTER, struct t_args, verbose,
			      .short_name = 'x', .help = "y"),
		END_OPTIONS
	};
	const struct opt_def takes_h[] = {
		DEFINE_OPTION("x", OPT_FLAG, struct t_args, flag,
			      .short_name = 'h', .help = "x"),
		END_OPTIONS
	};
	const struct opt_def bad_range[] = {
		DEFINE_OPTION("x", OPT_UINT, struct t_args, u8, .help = "x",
			      .max = 256),
		END_OPTIONS
	};
	const struct opt_def min_over_max[] = {
		DEFINE_OPTION("x", OPT_UINT, struct t_args, num, .help = "x",
			      .min = 10, .max = 5),
		END_OPTIONS
	};
	const struct opt_def no_words[] = {
		DEFINE_OPTION("x", OPT_ENUM, struct t_args, kind, .help = "x"),
		END_OPTIONS
	};
	const struct opt_def no_help[] = {
		DEFINE_OPTION("x", OPT_FLAG, struct t_args, flag),
		END_OPTIONS
	};
	const struct opt_cmd no_defaults = { .name = "bad", .opts = t_opts };
	char msg[256];

	expect_bad_table(flag_on_int);
	expect_bad_table(twice);
	expect_bad_table(short_twice);
	expect_bad_table(takes_h);
	expect_bad_table(bad_range);
	expect_bad_table(min_over_max);
	expect_bad_table(no_words);
	expect_bad_table(no_help);
	assert_int_equal(opts_check(&no_defaults, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(opts_check(&t_cmd, msg, sizeof(msg)), 0);
}

/* Every flowctl command's table passes the checks the parser makes. */
static void test_flowctl_tables(void **state)
{
	const struct ctl_command *cmds[] = {
		&attach_command, &detach_command,  &status_command,
		&dump_command,	 &flush_command,   &stats_command,
		&collect_command, &send_command,
	};
	char msg[256];

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const struct opt_cmd *c = &cmds[i]->opts;

		if (opts_check(c, msg, sizeof(msg)))
			fail_msg("%s", msg);
		assert_non_null(c->summary);
		assert_non_null(c->doc);
		assert_ptr_equal(ctl_command_of(c), cmds[i]);
		assert_non_null(cmds[i]->run);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_number_errors),
		cmocka_unit_test(test_other_errors),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_help_text),
		cmocka_unit_test(test_man_text),
		cmocka_unit_test(test_subcmd),
		cmocka_unit_test(test_bad_tables),
		cmocka_unit_test(test_flowctl_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
