/* test_manpages.c - the generated text of docs/flowagent.8 and
 * docs/flowctl.8 (between BEGIN GENERATED and END GENERATED) is exactly
 * what the built binaries print from their option tables (--help=man).
 * A failure means a table changed without `make man`.
 * Runs from the top of the tree, with $OUTPUT (default .output) built.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define BEGIN_MARK ".\\\" BEGIN GENERATED\n"
#define END_MARK ".\\\" END GENERATED\n"

static char *slurp(FILE *f)
{
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	do {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r);
	buf[n] = 0;
	return buf;
}

/* The first line where a and b differ, for the failure message. */
static int first_diff_line(const char *a, const char *b)
{
	int line = 1;

	for (; *a && *a == *b; a++, b++)
		line += *a == '\n';
	return line;
}

static void check_page(const char *tool)
{
	const char *output = getenv("OUTPUT") ? getenv("OUTPUT") : ".output";
	char bin[512], cmd[600], page[256];
	char *doc, *gen, *begin, *end;
	FILE *f;

	snprintf(bin, sizeof(bin), "%s/%s", output, tool);
	snprintf(page, sizeof(page), "docs/%s.8", tool);
	if (access(bin, X_OK) || access(page, R_OK)) {
		print_message("SKIP: %s or %s missing (run from the top of "
			      "the tree after make)\n",
			      bin, page);
		skip();
	}
	f = fopen(page, "r");
	assert_non_null(f);
	doc = slurp(f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "'%s' --help=man", bin);
	f = popen(cmd, "r");
	assert_non_null(f);
	gen = slurp(f);
	assert_int_equal(pclose(f), 0);

	begin = strstr(doc, BEGIN_MARK);
	end = begin ? strstr(begin, END_MARK) : NULL;
	if (!begin || !end)
		fail_msg("%s: no BEGIN GENERATED ... END GENERATED lines", page);
	begin += strlen(BEGIN_MARK);
	*end = 0;
	if (strcmp(begin, gen))
		fail_msg("%s disagrees with %s --help=man (generated line %d): "
			 "run make man",
			 page, tool, first_diff_line(begin, gen));
	free(doc);
	free(gen);
}

static void test_flowagent_page(void **state)
{
	check_page("flowagent");
}

static void test_flowctl_page(void **state)
{
	check_page("flowctl");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flowagent_page),
		cmocka_unit_test(test_flowctl_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
