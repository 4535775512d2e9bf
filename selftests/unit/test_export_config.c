/* test_export_config.c - unit tests of the collector keys of issue 11:
 * format = ipfix|json, path, version = 9|10; the errors a typo must give
 * (file:line and what is wrong) and the print round trip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "config.h"

static char err[1024];

static int parse(const char *text, struct fe_config *cfg)
{
	return fe_config_parse_string("t.ini", text, cfg, err, sizeof(err));
}

static void test_v9_and_json(void **state)
{
	static const char text[] =
		"[collector v9]\naddress = 127.0.0.1:2055\nversion = 9\n"
		"[collector ipfix]\naddress = 127.0.0.1:4739\nversion = 10\n"
		"[collector log]\nformat = json\npath = /var/log/f.json\n"
		"[collector out]\nformat = JSON\npath = -\nbiflow = no\n";
	struct fe_config cfg;

	if (parse(text, &cfg))
		fail_msg("%s", err);
	assert_int_equal(cfg.ncoll, 4);
	assert_int_equal(cfg.coll[0].version, 9);
	/* v9 has no biflow: the default (yes) is IPFIX's */
	assert_false(cfg.coll[0].biflow);
	assert_int_equal(cfg.coll[0].format, FE_FORMAT_IPFIX);
	assert_int_equal(cfg.coll[1].version, 10);
	assert_true(cfg.coll[1].biflow);
	assert_int_equal(cfg.coll[2].format, FE_FORMAT_JSON);
	assert_string_equal(cfg.coll[2].path, "/var/log/f.json");
	assert_true(cfg.coll[2].biflow);
	assert_int_equal(cfg.coll[2].addrlen, 0);
	assert_string_equal(cfg.coll[3].path, "-");
	assert_false(cfg.coll[3].biflow);
	assert_string_equal(fe_format_name(cfg.coll[3].format), "json");
}

static const struct {
	const char *what, *text;
	int line;
	const char *msg;
} bad[] = {
	{ "biflow = yes with v9",
	  "[collector a]\naddress = 127.0.0.1:2055\nversion = 9\nbiflow = "
	  "yes\n",
	  4,
	  "[collector a] biflow = yes needs version = 10: NetFlow v9 has "
	  "no biflow records (version = 9 on line 3" },
	{ "biflow = yes before version = 9",
	  "[collector a]\nbiflow = yes\naddress = 127.0.0.1:2055\nversion = "
	  "9\n",
	  2, "biflow = yes needs version = 10" },
	{ "version 5", "[collector a]\naddress = 127.0.0.1:2055\nversion = 5\n",
	  3, "version: '5' is not allowed (expected 10 (IPFIX) or 9" },
	{ "unknown format", "[collector a]\nformat = csv\n", 2,
	  "format: 'csv' is not allowed (expected ipfix" },
	{ "json without path", "[collector a]\nformat = json\n", 1,
	  "[collector a] missing required key 'path'" },
	{ "json with address",
	  "[collector a]\nformat = json\npath = -\naddress = 1.2.3.4:5\n", 4,
	  "[collector a] address is not used with format = json" },
	{ "json with version",
	  "[collector a]\nformat = json\npath = -\n"
	  "version = 9\n",
	  4, "version is not used with format = json" },
	{ "ipfix with path",
	  "[collector a]\naddress = 1.2.3.4:5\npath = /tmp/x.json\n", 3,
	  "path is not used with format = ipfix" },
	{ "relative path", "[collector a]\nformat = json\npath = x.json\n", 3,
	  "path: 'x.json' is not an absolute path (or '-'" },
	{ "ipfix without address", "[collector a]\nversion = 9\n", 1,
	  "[collector a] missing required key 'address'" },
};

static void test_bad_keys(void **state)
{
	struct fe_config cfg;
	char want[32];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = parse(bad[i].text, &cfg);

		snprintf(want, sizeof(want), "t.ini:%d: ", bad[i].line);
		if (ret != -EINVAL || strncmp(err, want, strlen(want)) ||
		    !strstr(err, bad[i].msg))
			fail_msg("'%s': ret %d, error '%s'; want '%s...%s'",
				 bad[i].what, ret, err, want, bad[i].msg);
	}
}

static void test_print_roundtrip(void **state)
{
	static const char text[] =
		"[collector v9]\naddress = 127.0.0.1:2055\nversion = 9\n"
		"transport = tcp\n"
		"[collector log]\nformat = json\npath = /var/log/f.json\n"
		"split_links = yes\nobservation_domain = 4\n";
	struct fe_config a, b;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (parse(text, &a))
		fail_msg("%s", err);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(fe_config_print(f, &a), 0);
	fclose(f);
	if (parse(buf, &b))
		fail_msg("%s\n%s", err, buf);
	assert_non_null(strstr(buf, "format = json\npath = /var/log/f.json\n"));
	assert_null(strstr(buf, "address = \n"));
	free(buf);
	for (int i = 0; i < a.ncoll; i++)
		a.coll[i].line = b.coll[i].line = 0;
	assert_memory_equal(&a, &b, sizeof(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v9_and_json),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_print_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
