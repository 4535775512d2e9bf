/* test_metrics.c - unit tests of the Prometheus exposition (metrics_text.c)
 * and the drain-time histogram: series names, HELP and TYPE before every
 * family, _total on counters, escaped label values, cumulative buckets,
 * and the whole text through `promtool check metrics` when installed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "metrics_text.h"

/* Label values that need every escape: backslash, quote, newline. */
#define ODD_PIN "/sys/fs/bpf/a\"b\\c\nd"
#define ODD_PIN_ESC "/sys/fs/bpf/a\\\"b\\\\c\\nd"

static void snapshot(struct metrics_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->pin_path = ODD_PIN;
	s->netns = "";
	s->meter_ok = true;
	for (int i = 0; i < FE_STAT_MAX; i++)
		s->meter[i] = 100 + i;
	s->map_entries = 8;
	s->map_capacity = 65536;
	s->sampling = 10;
	s->cache.flows = 42;
	s->cache.created = 50;
	for (int r = 1; r < FE_END_MAX; r++)
		s->cache.exported[r] = 10 * r;
	s->cache_capacity = 262144;
	s->ticks = 9;
	s->drained = 70;
	fe_hist_observe(&s->drain_time, 20000000);   /* 20 ms */
	fe_hist_observe(&s->drain_time, 100000);     /* on the first bound */
	fe_hist_observe(&s->drain_time, 9000000000); /* above the last */
	s->ncoll = 2;
	s->coll[0] = (struct exporter_stats){
		.name = "main",
		.target = "10.0.0.1:4739",
		.transport = "udp",
		.up = true,
		.messages = 3,
		.records = 30,
		.octets = 1500,
	};
	s->coll[1] = (struct exporter_stats){
		.name = "odd\"name",
		.target = "[::1]:4739",
		.transport = "tcp",
		.biflow = true,
		.queued_octets = 512,
		.send_errors = 2,
		.not_sent = 5,
	};
}

static char *render(const struct metrics_snapshot *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(metrics_text_write(f, s), 0);
	fclose(f);
	return buf;
}

static void assert_has(const char *text, const char *line)
{
	if (!strstr(text, line))
		fail_msg("missing: %s", line);
}

/* The family a sample belongs to: its name without a histogram suffix. */
static void family_of(const char *sample, const char *type, char *out,
		      size_t len)
{
	size_t n = strcspn(sample, "{ ");

	snprintf(out, len, "%.*s", (int)n, sample);
	if (!strcmp(type, "histogram"))
		for (const char *suf = "_bucket\0_sum\0_count\0"; *suf;
		     suf += strlen(suf) + 1) {
			size_t k = strlen(suf), m = strlen(out);

			if (m > k && !strcmp(out + m - k, suf)) {
				out[m - k] = '\0';
				break;
			}
		}
}

/* Every sample follows the HELP and TYPE of its family; every name starts
 * with flowexp_; counters end in _total; no family appears twice.
 */
static void test_structure(void **state)
{
	struct metrics_snapshot s;
	char *text, *save = NULL, *line;
	char help[128] = "", type[128] = "", tname[16] = "", seen[4096] = " ";
	int samples = 0;

	snapshot(&s);
	text = render(&s);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char fam[128], key[132];

		if (!strncmp(line, "# HELP ", 7)) {
			sscanf(line + 7, "%127s", help);
			assert_true(strlen(line) > 8 + strlen(help));
			snprintf(key, sizeof(key), " %s ", help);
			if (strstr(seen, key))
				fail_msg("family %s twice", help);
			strncat(seen, key + 1, sizeof(seen) - strlen(seen) - 1);
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			assert_int_equal(
				sscanf(line + 7, "%127s %15s", type, tname), 2);
			assert_string_equal(type, help);
			if (!strcmp(tname, "counter")) {
				size_t n = strlen(type);

				assert_true(n > 6 &&
					    !strcmp(type + n - 6, "_total"));
			} else if (strcmp(tname, "gauge") &&
				   strcmp(tname, "histogram")) {
				fail_msg("type %s of %s", tname, type);
			}
			continue;
		}
		assert_true(line[0] != '#');
		assert_int_equal(strncmp(line, "flowexp_", 8), 0);
		family_of(line, tname, fam, sizeof(fam));
		if (strcmp(fam, type))
			fail_msg("sample '%s' outside its family (%s)", line,
				 type);
		samples++;
	}
	assert_true(samples > 40);
	free(text);
}

static void test_values_and_labels(void **state)
{
	struct metrics_snapshot s;
	char *text;

	snapshot(&s);
	text = render(&s);
	assert_has(text, "\nflowexp_meter_packets_total 100\n");
	assert_has(text, "\nflowexp_meter_non_ip_total 101\n");
	assert_has(text, "\nflowexp_meter_malformed_total 102\n");
	assert_has(text, "\nflowexp_meter_overflow_total 104\n");
	assert_has(text, "\nflowexp_map_entries 8\n");
	assert_has(text, "\nflowexp_map_capacity 65536\n");
	assert_has(text, "\nflowexp_sampling_interval 10\n");
	assert_has(text, "\nflowexp_cache_flows 42\n");
	assert_has(text, "\nflowexp_cache_exported_flows_total"
			 "{reason=\"idleTimeout\"} 10\n");
	assert_has(text, "\nflowexp_cache_exported_flows_total"
			 "{reason=\"lackOfResources\"} 50\n");
	assert_has(text, "\nflowexp_agent_ticks_total 9\n");
	assert_has(text, "flowexp_agent_info{pin_path=\"" ODD_PIN_ESC
			 "\",netns=\"\"} 1\n");
	assert_has(text, "\nflowexp_collector_records_total"
			 "{collector=\"main\"} 30\n");
	assert_has(text, "\nflowexp_collector_up{collector=\"main\"} 1\n");
	assert_has(text, "\nflowexp_collector_send_errors_total"
			 "{collector=\"odd\\\"name\"} 2\n");
	assert_has(text, "\nflowexp_collector_queue_bytes"
			 "{collector=\"odd\\\"name\"} 512\n");
	assert_has(text, "\nflowexp_collector_info{collector=\"odd\\\"name\","
			 "address=\"[::1]:4739\",transport=\"tcp\","
			 "records=\"biflow\"} 1\n");
	/* cumulative buckets; a value on a bound falls in that bucket */
	assert_has(text, "\nflowexp_drain_duration_seconds_bucket"
			 "{le=\"0.0001\"} 1\n");
	assert_has(text, "\nflowexp_drain_duration_seconds_bucket"
			 "{le=\"0.01\"} 1\n");
	assert_has(text, "\nflowexp_drain_duration_seconds_bucket"
			 "{le=\"0.025\"} 2\n");
	assert_has(text, "\nflowexp_drain_duration_seconds_bucket"
			 "{le=\"5\"} 2\n");
	assert_has(text, "\nflowexp_drain_duration_seconds_bucket"
			 "{le=\"+Inf\"} 3\n");
	assert_has(text, "\nflowexp_drain_duration_seconds_sum 9.0201\n");
	assert_has(text, "\nflowexp_drain_duration_seconds_count 3\n");
	free(text);
}

/* Without collectors or a readable meter set their families are left
 * out, not written empty or as zeros that would look like real counts.
 */
static void test_missing_parts(void **state)
{
	struct metrics_snapshot s;
	char *text;

	snapshot(&s);
	s.ncoll = 0;
	s.meter_ok = false;
	text = render(&s);
	assert_null(strstr(text, "flowexp_collector_"));
	assert_null(strstr(text, "flowexp_meter_"));
	assert_has(text, "\nflowexp_map_capacity 65536\n");
	assert_has(text, "\nflowexp_cache_flows 42\n");
	free(text);
}

static void test_label_escape(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	metrics_text_label(f, "a\\b\"c\nd\te");
	fclose(f);
	assert_string_equal(buf, "a\\\\b\\\"c\\nd\te");
	free(buf);
}

/* promtool parses the text and lints it (names, _total, HELP). */
static void test_promtool(void **state)
{
	struct metrics_snapshot s;
	char *text;
	FILE *p;
	int rc;

	if (system("command -v promtool >/dev/null 2>&1")) {
		printf("# SKIP promtool is not installed (Debian package "
		       "prometheus)\n");
		skip();
	}
	snapshot(&s);
	text = render(&s);
	p = popen("promtool check metrics 2>&1", "w");
	assert_non_null(p);
	fputs(text, p);
	rc = pclose(p);
	free(text);
	assert_int_equal(rc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_values_and_labels),
		cmocka_unit_test(test_missing_parts),
		cmocka_unit_test(test_label_escape),
		cmocka_unit_test(test_promtool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
