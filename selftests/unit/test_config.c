/* test_config.c - unit tests of the flowexp.ini parser: the shipped configs,
 * defaults, lists, addresses, and a table of bad configs each with the line
 * and the words its error must name.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/sysinfo.h>
#include <cmocka.h>
#include "config.h"
#include "ie.h"
#include "log.h"

#define COLL "[collector main]\naddress = 127.0.0.1:4739\n"

static char err[1024];

static int parse(const char *text, struct fe_config *cfg)
{
	return fe_config_parse_string("t.ini", text, cfg, err, sizeof(err));
}

/* Finds a file of the source tree whether the test runs from the tree's
 * top (make test) or from anywhere else (next to .output/tests/).
 */
static const char *src_path(const char *rel, char *buf, size_t cap)
{
	char exe[PATH_MAX];
	ssize_t n;
	char *s;

	if (!access(rel, R_OK))
		return rel;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		s = strstr(exe, "/.output/");
		if (s && (size_t)(s - exe) + strlen(rel) + 2 <= cap) {
			memcpy(buf, exe, s - exe);
			buf[s - exe] = '/';
			strcpy(buf + (s - exe) + 1, rel);
			return buf;
		}
	}
	return rel;
}

static unsigned long long ram_bytes(void)
{
	struct sysinfo si;

	assert_int_equal(sysinfo(&si), 0);
	return (unsigned long long)si.totalram * si.mem_unit;
}

static void assert_defaults_agent(const struct fe_config *cfg)
{
	assert_int_equal(cfg->nifaces, 0);
	assert_int_equal(cfg->ingress, FE_INGRESS_TC);
	assert_int_equal(cfg->poll_interval_ms, 1000);
	assert_int_equal(cfg->active_timeout, 60);
	assert_int_equal(cfg->idle_timeout, 15);
	assert_int_equal(cfg->end_grace_ms, 2000);
	assert_int_equal(cfg->observation_domain, 1);
	assert_string_equal(cfg->pin_path, "/sys/fs/bpf/flowexp");
	assert_string_equal(cfg->control_socket, "/run/flowexp/flowagent.sock");
	assert_string_equal(cfg->netns, "");
	assert_int_equal(cfg->max_flows, 262144);
	assert_true(cfg->kernel_max_flows_auto);
	assert_int_equal(cfg->kernel_max_flows,
			 fe_kernel_max_flows_auto(262144, FE_INGRESS_TC,
						  ram_bytes()));
	assert_false(cfg->xdp_skb_mode);
	assert_false(cfg->precise_ts);
	assert_int_equal(cfg->sampling, 1);
	assert_int_equal(cfg->log_level, FE_LOG_INFO);
	assert_string_equal(cfg->metrics_listen, "");
	assert_int_equal(cfg->metrics_addrlen, 0);
}

static void assert_default_collector(const struct fe_collector_cfg *c)
{
	assert_int_equal(c->transport, FE_TRANSPORT_UDP);
	assert_true(c->biflow);
	assert_false(c->split_links);
	assert_int_equal(c->tmpl, -1);
	assert_int_equal(c->mtu, 1400);
	assert_int_equal(c->template_refresh, 60);
	assert_int_equal(c->observation_domain, 1);
	assert_int_equal(c->queue_size, FE_QUEUE_DEFAULT);
}

static void test_minimal_file(void **state)
{
	struct fe_config cfg;
	struct sockaddr_in *sin;
	char buf[PATH_MAX];
	int ret;

	ret = fe_config_load(src_path("config/minimal.ini", buf, sizeof(buf)),
			     &cfg, err, sizeof(err));
	if (ret)
		fail_msg("%s", err);
	assert_defaults_agent(&cfg);
	assert_int_equal(cfg.ncoll, 1);
	assert_int_equal(cfg.ntmpl, 0);
	assert_string_equal(cfg.coll[0].name, "main");
	assert_string_equal(cfg.coll[0].address, "127.0.0.1:4739");
	assert_default_collector(&cfg.coll[0]);
	sin = (struct sockaddr_in *)&cfg.coll[0].addr;
	assert_int_equal(cfg.coll[0].addrlen, sizeof(*sin));
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 4739);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000001);
}

static void test_reference_file(void **state)
{
	static const char *const want[] = {
		"flowStartMilliseconds", "flowEndMilliseconds",
		"octetDeltaCount",	 "packetDeltaCount",
		"sourceIPv4Address",	 "destinationIPv4Address",
		"sourceTransportPort",	 "destinationTransportPort",
		"protocolIdentifier",	 "ipVersion",
		"tcpControlBits",	 "ingressInterface",
		"egressInterface",	 "flowDirection",
		"flowEndReason",
	};
	struct fe_config cfg;
	char buf[PATH_MAX];
	size_t i;
	int ret;

	ret = fe_config_load(src_path("config/flowexp.ini", buf, sizeof(buf)),
			     &cfg, err, sizeof(err));
	if (ret)
		fail_msg("%s", err);
	assert_int_equal(cfg.nifaces, 2);
	assert_string_equal(cfg.ifaces[0], "eth1");
	assert_string_equal(cfg.ifaces[1], "eth2");
	/* the reference file shows every default: only interfaces differ */
	cfg.nifaces = 0;
	assert_defaults_agent(&cfg);
	assert_int_equal(cfg.ncoll, 1);
	/* template = default names the file's [template default] */
	assert_int_equal(cfg.coll[0].tmpl, 0);
	cfg.coll[0].tmpl = -1;
	assert_default_collector(&cfg.coll[0]);
	assert_int_equal(cfg.ntmpl, 1);
	assert_string_equal(cfg.tmpl[0].name, "default");
	assert_int_equal(cfg.tmpl[0].id, 1024);
	assert_int_equal(cfg.tmpl[0].nies, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(ie_by_id(cfg.tmpl[0].ies[i])->name,
				    want[i]);
}

static void test_full_values(void **state)
{
	static const char text[] =
		"; every key set to something other than its default\n"
		"[Agent]\n"
		"Interfaces = veth0, veth1\n"
		"\tbr-lan.10 wan\n"
		"ingress = XDP\n"
		"xdp_mode = skb\n"
		"timestamps = precise\n"
		"sampling = 16777216\n"
		"poll_interval_ms = 10\n"
		"active_timeout = 1800 ; half an hour\n"
		"idle_timeout = 1\n"
		"end_grace_ms = 0\n"
		"observation_domain = 4294967295\n"
		"pin_path = /sys/fs/bpf/fe-test\n"
		"control_socket = /tmp/fe.sock\n"
		"netns = fe-cfg-router\n"
		"max_flows = 16\n"
		"kernel_max_flows = 16777216\n"
		"log_level = debug\n"
		"\n"
		"[collector a]\n"
		"address = [2001:db8::6]:2100\n"
		"transport = tcp\n"
		"biflow = off\n"
		"split_links = TRUE\n"
		"template = small\n"
		"mtu = 65507\n"
		"template_refresh = 0\n"
		"observation_domain = 7\n"
		"[collector b]\n"
		"address: 192.0.2.1:65535\n"
		"biflow = 0\n"
		"split_links = 1\n"
		"template = default\n"
		"[template small]\n"
		"id = 65534\n"
		"fields = octetDeltaCount\n";
	struct fe_config cfg;
	struct sockaddr_in6 *sin6;

	if (parse(text, &cfg))
		fail_msg("%s", err);
	assert_int_equal(cfg.nifaces, 4);
	assert_string_equal(cfg.ifaces[0], "veth0");
	assert_string_equal(cfg.ifaces[1], "veth1");
	assert_string_equal(cfg.ifaces[2], "br-lan.10");
	assert_string_equal(cfg.ifaces[3], "wan");
	assert_int_equal(cfg.ingress, FE_INGRESS_XDP);
	assert_true(cfg.xdp_skb_mode);
	assert_true(cfg.precise_ts);
	assert_int_equal(cfg.sampling, 16777216);
	assert_int_equal(cfg.poll_interval_ms, 10);
	assert_int_equal(cfg.active_timeout, 1800);
	assert_int_equal(cfg.idle_timeout, 1);
	assert_int_equal(cfg.end_grace_ms, 0);
	assert_int_equal(cfg.observation_domain, 4294967295u);
	assert_string_equal(cfg.pin_path, "/sys/fs/bpf/fe-test");
	assert_string_equal(cfg.control_socket, "/tmp/fe.sock");
	assert_string_equal(cfg.netns, "fe-cfg-router");
	assert_int_equal(cfg.max_flows, 16);
	assert_int_equal(cfg.kernel_max_flows, 16777216);
	assert_false(cfg.kernel_max_flows_auto);
	assert_int_equal(cfg.log_level, FE_LOG_DEBUG);

	assert_int_equal(cfg.ncoll, 2);
	assert_string_equal(cfg.coll[0].name, "a");
	assert_int_equal(cfg.coll[0].line, 21);
	assert_int_equal(cfg.coll[0].transport, FE_TRANSPORT_TCP);
	assert_false(cfg.coll[0].biflow);
	assert_true(cfg.coll[0].split_links);
	assert_int_equal(cfg.coll[0].tmpl, 0); /* defined after its user */
	assert_int_equal(cfg.coll[0].mtu, 65507);
	assert_int_equal(cfg.coll[0].template_refresh, 0);
	assert_int_equal(cfg.coll[0].observation_domain, 7);
	sin6 = (struct sockaddr_in6 *)&cfg.coll[0].addr;
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 2100);
	assert_int_equal(sin6->sin6_addr.s6_addr[0], 0x20);
	assert_int_equal(sin6->sin6_addr.s6_addr[15], 0x06);
	/* no override: the agent's domain, set before or after */
	assert_int_equal(cfg.coll[1].observation_domain, 4294967295u);
	assert_int_equal(cfg.coll[1].tmpl, -1); /* built-in default */
	assert_int_equal(cfg.coll[1].transport, FE_TRANSPORT_UDP);
	assert_false(cfg.coll[1].biflow);
	assert_int_equal(cfg.ntmpl, 1);
	assert_int_equal(cfg.tmpl[0].id, 65534);
	assert_int_equal(cfg.tmpl[0].line, 35);
}

/* metrics_listen: an address for bind(), IPv6 in brackets. */
static void test_metrics_listen(void **state)
{
	struct fe_config cfg;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&cfg.metrics_addr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&cfg.metrics_addr;

	if (parse(COLL "[agent]\nmetrics_listen = [::1]:9739\n", &cfg))
		fail_msg("%s", err);
	assert_string_equal(cfg.metrics_listen, "[::1]:9739");
	assert_int_equal(cfg.metrics_addrlen, sizeof(*sin6));
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 9739);
	assert_int_equal(sin6->sin6_addr.s6_addr[15], 1);
	if (parse(COLL "[agent]\nmetrics_listen = 0.0.0.0:80\n", &cfg))
		fail_msg("%s", err);
	assert_int_equal(cfg.metrics_addrlen, sizeof(*sin));
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 80);
	assert_int_equal(sin->sin_addr.s_addr, 0);
	if (parse(COLL "[agent]\nmetrics_listen =\n", &cfg))
		fail_msg("%s", err);
	assert_string_equal(cfg.metrics_listen, "");
	assert_int_equal(cfg.metrics_addrlen, 0);
}

static void test_ie_case_insensitive(void **state)
{
	struct fe_config cfg;

	if (parse(COLL "[template t]\nid = 300\n"
		       "fields = FlowEndMilliseconds OCTETDELTACOUNT "
		       "packetdeltacount\n",
		  &cfg))
		fail_msg("%s", err);
	assert_int_equal(cfg.ntmpl, 1);
	assert_int_equal(cfg.tmpl[0].nies, 3);
	assert_int_equal(cfg.tmpl[0].ies[0], 153);
	assert_int_equal(cfg.tmpl[0].ies[1], 1);
	assert_int_equal(cfg.tmpl[0].ies[2], 2);
}

static void test_multiline_fields(void **state)
{
	struct fe_config cfg;

	if (parse("[template t]\n"
		  "id = 256\n"
		  "fields =\n"
		  "    flowStartMilliseconds   flowEndMilliseconds ; times\n"
		  "; a comment line does not end the list\n"
		  "\n"
		  "\toctetDeltaCount,packetDeltaCount\n"
		  "  # nor does an indented comment\n"
		  "      sourceIPv6Address\n"
		  "[template u]\n"
		  "id = 258\n"
		  "fields = ipVersion\n" COLL "template = u\n",
		  &cfg))
		fail_msg("%s", err);
	assert_int_equal(cfg.ntmpl, 2);
	assert_int_equal(cfg.tmpl[0].nies, 5);
	assert_int_equal(cfg.tmpl[0].ies[0], 152);
	assert_int_equal(cfg.tmpl[0].ies[1], 153);
	assert_int_equal(cfg.tmpl[0].ies[2], 1);
	assert_int_equal(cfg.tmpl[0].ies[3], 2);
	assert_int_equal(cfg.tmpl[0].ies[4], 27);
	assert_int_equal(cfg.tmpl[1].nies, 1);
	assert_int_equal(cfg.tmpl[1].ies[0], 60);
	assert_int_equal(cfg.coll[0].tmpl, 1);
}

static void test_ipv6_address(void **state)
{
	struct fe_config cfg;
	struct sockaddr_in6 *sin6;

	if (parse("[collector v6]\naddress = [::1]:4739\n", &cfg))
		fail_msg("%s", err);
	sin6 = (struct sockaddr_in6 *)&cfg.coll[0].addr;
	assert_int_equal(cfg.coll[0].addrlen, sizeof(*sin6));
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 4739);
	assert_memory_equal(&sin6->sin6_addr, &in6addr_loopback, 16);
	assert_string_equal(cfg.coll[0].address, "[::1]:4739");
}

/* localhost comes from /etc/hosts: no resolver traffic */
static void test_hostname(void **state)
{
	struct fe_config cfg;

	if (access("/etc/hosts", R_OK))
		skip();
	if (parse("[collector h]\naddress = localhost:2100\n", &cfg))
		fail_msg("%s", err);
	assert_true(cfg.coll[0].addrlen > 0);
	/* a name that is never looked up with NO_RESOLVE */
	assert_int_equal(fe_config_parse("t.ini",
					 "[collector h]\n"
					 "address = collector.example:2100\n",
					 FE_CONFIG_NO_RESOLVE, &cfg, err,
					 sizeof(err)),
			 0);
	assert_int_equal(cfg.coll[0].addrlen, 0);
	assert_string_equal(cfg.coll[0].address, "collector.example:2100");
}

/* The agent's loads leave collector names to the agent's resolver: one
 * that does not resolve (yet) is no error, a malformed one still is.
 */
static void test_deferred_names(void **state)
{
	struct fe_config cfg;

	assert_int_equal(fe_config_parse("t.ini",
					 "[agent]\nmetrics_listen = "
					 "127.0.0.1:9\n[collector h]\n"
					 "address = no-such-host.invalid:2100\n"
					 "[collector l]\naddress = 10.1.2.3:9\n",
					 FE_CONFIG_DEFER_COLLECTORS, &cfg, err,
					 sizeof(err)),
			 0);
	assert_int_equal(cfg.coll[0].addrlen, 0);
	assert_string_equal(cfg.coll[0].address, "no-such-host.invalid:2100");
	/* literals need no resolver: filled in as before */
	assert_int_equal(cfg.coll[1].addrlen, sizeof(struct sockaddr_in));
	assert_true(cfg.metrics_addrlen > 0);
	assert_int_equal(fe_config_parse("t.ini",
					 "[collector h]\naddress = bad_host:1\n",
					 FE_CONFIG_DEFER_COLLECTORS, &cfg, err,
					 sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "t.ini:2: "));
}

static void test_queue_size(void **state)
{
	static const struct {
		const char *v;
		uint32_t want;
	} ok[] = { { "65536", 65536 },	 { "64K", 64 << 10 }, { "64k", 64 << 10 },
		   { "8M", 8 << 20 },	 { "3m", 3 << 20 },   { "1G", 1u << 30 },
		   { "1000000", 1000000 } };
	struct fe_config cfg;
	char text[128];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text),
			 "[collector q]\naddress = 1.2.3.4:5\nqueue_size = %s\n",
			 ok[i].v);
		if (parse(text, &cfg))
			fail_msg("queue_size = %s: %s", ok[i].v, err);
		assert_int_equal(cfg.coll[0].queue_size, ok[i].want);
	}
}

static void test_crlf_and_bom(void **state)
{
	struct fe_config cfg;

	if (parse("\xEF\xBB\xBF[agent]\r\ningress = tc\r\n"
		  "interfaces = a\r\n  b\r\n"
		  "[collector x]\r\naddress = 10.0.0.1:1\r\n",
		  &cfg))
		fail_msg("%s", err);
	assert_int_equal(cfg.ingress, FE_INGRESS_TC);
	assert_int_equal(cfg.nifaces, 2);
	assert_string_equal(cfg.ifaces[1], "b");
}

struct bad_cfg {
	const char *what;
	const char *text;
	int line;
	const char *msg;
};

#define TMPL "[template t]\nid = 1024\nfields = octetDeltaCount\n"

static const struct bad_cfg bad_cfgs[] = {
	{ "unknown section", COLL "[colector b]\naddress = 1.2.3.4:5\n", 3,
	  "unknown section [colector b] (did you mean [collector]?" },
	{ "unknown section, no hint", COLL "[exporter]\n", 3,
	  "unknown section [exporter] (known: [agent]" },
	{ "unknown key", "[collector main]\nadress = 1.2.3.4:5\n", 2,
	  "[collector main] unknown key 'adress' (did you mean 'address'?" },
	{ "unknown agent key", COLL "[agent]\nfoo = 1\n", 4,
	  "[agent] unknown key 'foo' (known: interfaces, ingress" },
	{ "key of another section", COLL "[agent]\naddress = 1.2.3.4:5\n", 4,
	  "unknown key 'address' (it belongs in [collector NAME]" },
	{ "unknown template key", COLL TMPL "ids = 5\n", 6,
	  "[template t] unknown key 'ids' (did you mean 'id'?" },
	{ "queue_size not a size", "[collector q]\naddress = 1.2.3.4:5\n"
	  "queue_size = 8MB\n", 3,
	  "queue_size: '8MB' is not a size (expected octets, or a number with "
	  "K, M or G: 64K..1G)" },
	{ "queue_size too small", "[collector q]\naddress = 1.2.3.4:5\n"
	  "queue_size = 1000\n", 3, "queue_size: 1000 is out of range (64K..1G)" },
	{ "queue_size too large", "[collector q]\naddress = 1.2.3.4:5\n"
	  "queue_size = 2G\n", 3, "queue_size: 2G is out of range" },
	{ "queue_size overflow", "[collector q]\naddress = 1.2.3.4:5\n"
	  "queue_size = 99999999999999999999999k\n", 3, "is out of range" },
	{ "not a number", COLL "[agent]\npoll_interval_ms = 1s\n", 4,
	  "poll_interval_ms: '1s' is not a whole number (expected 10..60000 "
	  "ms)" },
	{ "below range", COLL "[agent]\npoll_interval_ms = 9\n", 4,
	  "poll_interval_ms: 9 is out of range (10..60000 ms)" },
	{ "above range", COLL "[agent]\npoll_interval_ms = 60001\n", 4,
	  "out of range (10..60000 ms)" },
	{ "negative", COLL "[agent]\nactive_timeout = -1\n", 4,
	  "active_timeout: '-1' is not a whole number" },
	{ "zero timeout", COLL "[agent]\nidle_timeout = 0\n", 4,
	  "idle_timeout: 0 is out of range (1..86400 s)" },
	{ "huge number",
	  COLL "[agent]\nend_grace_ms = 99999999999999999999999\n", 4,
	  "end_grace_ms: 99999999999999999999999 is out of range" },
	{ "u32 overflow", COLL "[agent]\nobservation_domain = 4294967296\n", 4,
	  "observation_domain: 4294967296 is out of range (0..4294967295)" },
	{ "empty number", COLL "[agent]\nmax_flows =\n", 4,
	  "max_flows: empty value" },
	{ "small max_flows", COLL "[agent]\nmax_flows = 15\n", 4,
	  "max_flows: 15 is out of range (16.." },
	{ "small kernel_max_flows", COLL "[agent]\nkernel_max_flows = 0\n", 4,
	  "kernel_max_flows: 0 is out of range" },
	{ "bad kernel_max_flows", COLL "[agent]\nkernel_max_flows = lots\n", 4,
	  "kernel_max_flows: 'lots' is not a whole number (expected 16..16777216 "
	  "entries, or auto)" },
	{ "bad ingress", COLL "[agent]\ningress = bpf\n", 4,
	  "ingress: 'bpf' is not allowed (expected xdp, tc or off)" },
	{ "empty ingress", COLL "[agent]\ningress =\n", 4,
	  "ingress: empty value (expected xdp, tc or off)" },
	{ "bad xdp_mode", COLL "[agent]\nxdp_mode = generic\n", 4,
	  "xdp_mode: 'generic' is not allowed (expected native or skb)" },
	{ "bad timestamps", COLL "[agent]\ntimestamps = exact\n", 4,
	  "timestamps: 'exact' is not allowed (expected coarse or precise)" },
	{ "zero sampling", COLL "[agent]\nsampling = 0\n", 4,
	  "sampling: 0 is out of range (1..16777216)" },
	{ "huge sampling", COLL "[agent]\nsampling = 16777217\n", 4,
	  "sampling: 16777217 is out of range (1..16777216)" },
	{ "bad sampling", COLL "[agent]\nsampling = 1/100\n", 4,
	  "sampling: '1/100' is not a whole number (expected 1..16777216)" },
	{ "bad log_level", COLL "[agent]\nlog_level = verbose\n", 4,
	  "expected warn, info or debug" },
	{ "bad boolean", "[collector c]\naddress = 1.2.3.4:5\nbiflow = maybe\n",
	  3, "biflow: 'maybe' is not a boolean" },
	{ "bad transport", "[collector c]\ntransport = sctp\n", 2,
	  "transport: 'sctp' is not allowed (expected udp or tcp)" },
	{ "duplicate key", COLL "[agent]\ningress = xdp\n\nIngress = tc\n", 6,
	  "[agent] duplicate key 'ingress' (first set on line 4)" },
	{ "duplicate agent", "[agent]\n" COLL "[agent]\n", 4,
	  "duplicate section [agent] (first on line 1)" },
	{ "duplicate collector", COLL COLL, 3,
	  "duplicate section [collector main] (first on line 1)" },
	{ "duplicate template", COLL TMPL TMPL, 6,
	  "duplicate section [template t] (first on line 3)" },
	{ "duplicate template id",
	  COLL TMPL "[template u]\nid = 1024\nfields = ipVersion\n", 7,
	  "[template u] id: 1024 clashes with [template t] id 1024 (line 3)" },
	{ "overlapping template id",
	  COLL TMPL "[template u]\nfields = ipVersion\nid = 1023\n", 8,
	  "1023 clashes with [template t] id 1024" },
	{ "template id too small", COLL "[template t]\nid = 255\n", 4,
	  "id: 255 is out of range (256..65534)" },
	{ "template id 65535", COLL "[template t]\nid = 65535\n", 4,
	  "id: 65535 is out of range (256..65534)" },
	{ "missing template", COLL "template = nope\n" TMPL, 3,
	  "[collector main] template 'nope' is not defined (known: default, "
	  "t)" },
	{ "metrics_listen without a port",
	  COLL "[agent]\nmetrics_listen = ::1\n", 4,
	  "[agent] metrics_listen: '::1': an IPv6 address needs brackets" },
	{ "metrics_listen port 0",
	  COLL "[agent]\nmetrics_listen = 127.0.0.1:0\n", 4,
	  "[agent] metrics_listen: '127.0.0.1:0' has no valid port" },
	{ "metrics_listen without an address",
	  COLL "[agent]\nmetrics_listen = :9739\n", 4,
	  "[agent] metrics_listen: " },
	{ "no collector", "[agent]\ningress = xdp\n; end\n", 3,
	  "no [collector NAME] section" },
	{ "empty file", "", 1, "no [collector NAME] section" },
	{ "missing address", "[collector c]\ntransport = tcp\n[agent]\n", 1,
	  "[collector c] missing required key 'address'" },
	{ "missing address at end", COLL "[collector c]\nmtu = 1500\n", 3,
	  "[collector c] missing required key 'address'" },
	{ "template without id", COLL "[template t]\nfields = ipVersion\n", 3,
	  "[template t] missing required key 'id'" },
	{ "template without fields", COLL "[template t]\nid = 300\n", 3,
	  "[template t] missing required key 'fields'" },
	{ "empty field list", COLL "[template t]\nid = 300\nfields =\n", 5,
	  "[template t] empty field list" },
	{ "unknown IE", COLL "[template t]\nid = 300\nfields = octetDeltaCnt\n",
	  5,
	  "unknown information element 'octetDeltaCnt' (did you mean "
	  "'octetDeltaCount'?)" },
	{ "IE not exported",
	  COLL "[template t]\nid = 300\nfields = ipVersion\n"
	       "  bgpSourceAsNumber\n",
	  6, "'bgpSourceAsNumber' is not exported by flowexp" },
	{ "IE twice",
	  COLL "[template t]\nid = 300\nfields = ipVersion\n  IPVERSION\n", 6,
	  "fields: 'ipVersion' listed twice" },
	{ "bad IE on a continuation line",
	  COLL "[template t]\nid = 300\nfields = ipVersion\n\n"
	       "  octetDeltaCount\n\tflowEndMillisecond\n",
	  8, "unknown information element 'flowEndMillisecond'" },
	{ "address without port", "[collector c]\naddress = 10.0.0.1\n", 2,
	  "address: '10.0.0.1' lacks a port" },
	{ "port 0", "[collector c]\naddress = 10.0.0.1:0\n", 2,
	  "has no valid port (expected host:port or [v6addr]:port, port "
	  "1..65535)" },
	{ "port too big", "[collector c]\naddress = 10.0.0.1:65536\n", 2,
	  "has no valid port (expected host:port or [v6addr]:port, port "
	  "1..65535)" },
	{ "port not numeric", "[collector c]\naddress = 10.0.0.1:ipfix\n", 2,
	  "has no valid port" },
	{ "bad IPv4", "[collector c]\naddress = 10.1.2.300:2100\n", 2,
	  "'10.1.2.300' is not an IPv4 address" },
	{ "short IPv4", "[collector c]\naddress = 10.1:2100\n", 2,
	  "'10.1' is not an IPv4 address" },
	{ "IPv6 without brackets", "[collector c]\naddress = ::1:2100\n", 2,
	  "an IPv6 address needs brackets" },
	{ "IPv4 in brackets", "[collector c]\naddress = [10.0.0.1]:2100\n", 2,
	  "'10.0.0.1' is not an IPv6 address" },
	{ "unclosed bracket", "[collector c]\naddress = [::1:2100\n", 2,
	  "lacks the closing ']'" },
	{ "bad host name", "[collector c]\naddress = bad_host!:2100\n", 2,
	  "'bad_host!' is not an IP address or a host name" },
	{ "empty host", "[collector c]\naddress = :2100\n", 2, "lacks a host" },
	{ "small mtu", "[collector c]\naddress = 1.2.3.4:5\nmtu = 575\n", 3,
	  "mtu: 575 is out of range (576..65507 bytes)" },
	{ "refresh 0 over udp",
	  "[collector c]\naddress = 1.2.3.4:5\ntemplate_refresh = 0\n"
	  "[agent]\n",
	  3, "template_refresh = 0 needs transport = tcp" },
	{ "long interface name",
	  COLL "[agent]\ninterfaces = eth0 abcdefghijklmnop\n", 4,
	  "interface name 'abcdefghijklmnop' is longer than 15" },
	{ "interface with slash", COLL "[agent]\ninterfaces = eth0\n  a/b\n", 5,
	  "'a/b' is not a valid interface name" },
	{ "interface twice", COLL "[agent]\ninterfaces = eth0 eth1\n  eth0\n",
	  5, "interface 'eth0' listed twice" },
	{ "relative pin_path", COLL "[agent]\npin_path = sys/fs/bpf\n", 4,
	  "pin_path: 'sys/fs/bpf' is not an absolute path" },
	{ "long control_socket",
	  COLL "[agent]\ncontrol_socket = /run/"
	       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
	  4, "control_socket: path is longer than 107 characters" },
	{ "netns with slash", COLL "[agent]\nnetns = /run/netns/x\n", 4,
	  "netns: '/run/netns/x' is not a namespace name" },
	{ "key outside section", "ingress = xdp\n" COLL, 1,
	  "key 'ingress' outside any section" },
	{ "line without '='", COLL "[agent]\ningress\n", 4,
	  "expected 'key = value', '[section]' or a comment, found 'ingress'" },
	{ "section without ']'", COLL "[agent\n", 3,
	  "section header lacks the closing ']'" },
	{ "text after ']'", COLL "[agent] x\n", 3,
	  "unexpected text after ']': ' x'" },
	{ "'#' after a value", COLL "[agent]\ningress = xdp # fast\n", 4,
	  "'#' starts a comment only at the start of a line" },
	{ "';' without space", COLL "[agent]\ningress = xdp;fast\n", 4,
	  "';' starts a comment only after whitespace" },
	{ "indented scalar", COLL "[agent]\ningress = xdp\n   tc\n", 5,
	  "[agent] indented line continues 'ingress', which takes one value" },
	{ "indented key", COLL "[agent]\ningress = xdp\n  idle_timeout = 5\n",
	  5, "indented 'idle_timeout = 5' continues the previous key" },
	{ "indented section", COLL "  [agent]\n", 3,
	  "indented '[agent]' continues the previous key" },
	{ "collector without name", "[collector]\naddress = 1.2.3.4:5\n", 1,
	  "[collector] needs a name: [collector NAME]" },
	{ "bad collector name", "[collector a b]\naddress = 1.2.3.4:5\n", 1,
	  "[collector a b]: bad name" },
	{ "named agent", COLL "[agent x]\n", 3, "[agent] takes no name" },
	{ "missing key name", COLL "= 5\n", 3,
	  "[collector main] missing key name before '='" },
	{ "control character",
	  COLL "[agent]\nnetns = a\x01"
	       "b\n",
	  4, "netns: control character in the value" },
	{ "error after comments",
	  "; header\n# more\n\n[agent] ; the agent\n  ; indented comment\n"
	  "ingress = off ; no ingress\n\n\nbogus = 1\n" COLL,
	  9, "[agent] unknown key 'bogus'" },
};

static void test_bad_configs(void **state)
{
	struct fe_config cfg;
	char want[32];
	size_t i;
	int ret;

	for (i = 0; i < sizeof(bad_cfgs) / sizeof(bad_cfgs[0]); i++) {
		const struct bad_cfg *b = &bad_cfgs[i];

		ret = parse(b->text, &cfg);
		if (getenv("FE_TEST_VERBOSE"))
			printf("# %s\n", err);
		snprintf(want, sizeof(want), "t.ini:%d: ", b->line);
		if (ret != -EINVAL || strncmp(err, want, strlen(want)) ||
		    !strstr(err, b->msg))
			fail_msg("bad config '%s': ret %d, error '%s'; want "
				 "'%s...%s'",
				 b->what, ret, err, want, b->msg);
	}
	/* the task asks for at least 25 distinct bad configs */
	assert_true(i >= 25);
}

static void test_too_many(void **state)
{
	char text[8192], *o = text;
	struct fe_config cfg;
	int i;

	for (i = 0; i <= FE_MAX_COLLECTORS; i++)
		o += sprintf(o, "[collector c%d]\naddress = 10.0.0.%d:2100\n",
			     i, i + 1);
	assert_int_equal(parse(text, &cfg), -EINVAL);
	assert_string_equal(err, "t.ini:33: more than 16 collectors");

	o = text;
	o += sprintf(o, COLL);
	for (i = 0; i <= FE_MAX_TEMPLATES; i++)
		o += sprintf(o, "[template t%d]\nid = %d\nfields = ipVersion\n",
			     i, 256 + 2 * i);
	assert_int_equal(parse(text, &cfg), -EINVAL);
	assert_string_equal(err, "t.ini:99: more than 32 templates");

	o = text + sprintf(text, COLL "[agent]\ninterfaces =");
	for (i = 0; i < FE_MAX_IFACES; i++)
		o += sprintf(o, "\n  e%d", i);
	assert_int_equal(parse(text, &cfg), 0);
	assert_int_equal(cfg.nifaces, FE_MAX_IFACES);
	sprintf(o, " e%d\n", i);
	assert_int_equal(parse(text, &cfg), -EINVAL);
	assert_non_null(strstr(err, "more than 64 interfaces"));
}

/* 32 templates with 63-character names and a collector naming a missing
 * one: the "known: ..." hint of the error once overran a 256-byte stack
 * buffer (issue 10 item 6). The error is reported, bounded by err.
 */
static void test_missing_template_long_names(void **state)
{
	static const char name61[] = "ttttttttttttttttttttttttttttttttttttttttt"
				     "ttttttttttttttttttttt";
	static char text[16384];
	static const size_t errlens[] = { sizeof(err), 512, 64, 1 };
	struct fe_config cfg;
	char *o = text;
	size_t i;

	o += sprintf(o, "[collector main]\naddress = 127.0.0.1:4739\n"
			"template = nope\n");
	for (i = 0; i < FE_MAX_TEMPLATES; i++)
		o += sprintf(o,
			     "[template %.61s%02zu]\nid = %zu\nfields = "
			     "ipVersion\n",
			     name61, i, 256 + 2 * i);
	for (i = 0; i < sizeof(errlens) / sizeof(errlens[0]); i++) {
		memset(err, 'x', sizeof(err));
		assert_int_equal(fe_config_parse_string("t.ini", text, &cfg,
							err, errlens[i]),
				 -EINVAL);
		assert_non_null(memchr(err, '\0', errlens[i]));
		assert_true(errlens[i] == sizeof(err) ||
			    err[errlens[i]] == 'x');
	}
	assert_int_equal(parse(text, &cfg), -EINVAL);
	assert_non_null(strstr(err, "t.ini:3: [collector main] template "
				    "'nope' is not defined (known: default, "
				    "ttttt"));
	/* a list that does not fit says so */
	assert_non_null(strstr(err, ", ...)"));
}

/* A line may be of any length (issue 11 item 7): a 16-field template on one
 * line as a user writes it, a 10,000-character line, 63 interfaces on one
 * line. Scalar values keep their own limits.
 */
static void test_long_lines(void **state)
{
	static const char *const f16[] = {
		"flowStartMilliseconds", "flowEndMilliseconds",
		"octetDeltaCount",	 "packetDeltaCount",
		"sourceIPv4Address",	 "destinationIPv4Address",
		"sourceTransportPort",	 "destinationTransportPort",
		"protocolIdentifier",	 "ipDiffServCodePoint",
		"ipClassOfService",	 "flowDurationMilliseconds",
		"observationDomainId",	 "ingressInterface",
		"egressInterface",	 "flowEndReason",
	};
	static char text[32768];
	struct fe_config cfg;
	char *o, *line;
	size_t i, n;

	o = text + sprintf(text, COLL "template = t\n[template t]\nid = 256\n");
	line = o;
	o += sprintf(o, "fields =");
	for (i = 0; i < 16; i++)
		o += sprintf(o, "%s %s", i ? "," : "", f16[i]);
	n = o - line;
	sprintf(o, "\n");
	assert_true(n >= 330);
	if (parse(text, &cfg))
		fail_msg("%zu-character line: %s", n, err);
	assert_int_equal(cfg.tmpl[0].nies, 16);
	for (i = 0; i < 16; i++)
		assert_string_equal(ie_by_id(cfg.tmpl[0].ies[i])->name, f16[i]);

	/* the same fields padded with spaces and commas to 10,000 characters,
	 * then a key on the next line
	 */
	o = line + sprintf(line, "fields =");
	for (i = 0; i < 16; i++) {
		o += sprintf(o, "%*s%s,", 500, "", f16[i]);
	}
	while (o - line < 10000)
		*o++ = ' ';
	o += sprintf(o, " ; a comment\n[agent]\ningress = tc\n");
	if (parse(text, &cfg))
		fail_msg("10,000-character line: %s", err);
	assert_int_equal(cfg.tmpl[0].nies, 16);
	assert_int_equal(cfg.tmpl[0].ies[15], 136);
	assert_int_equal(cfg.ingress, FE_INGRESS_TC);

	/* errors on a long line name its line and keep their wording */
	o = line + sprintf(line, "fields = ipVersion");
	memset(o, ' ', 10000);
	o += 10000;
	o += sprintf(o, "octetDeltaCnt\n");
	assert_int_equal(parse(text, &cfg), -EINVAL);
	assert_non_null(strstr(err, "t.ini:6: [template t] fields: unknown "
				    "information element 'octetDeltaCnt' (did "
				    "you mean 'octetDeltaCount'?)"));
	o = text + sprintf(text, "[collector main]\naddress = 10.0.0.1:");
	memset(o, '1', 10000);
	sprintf(o + 10000, "\n");
	assert_int_equal(parse(text, &cfg), -EINVAL);
	assert_non_null(strstr(err, "t.ini:2: [collector main] address: "
				    "address is longer than 180 characters"));
	o = text + sprintf(text, COLL "[");
	memset(o, 'a', 10000);
	sprintf(o + 10000, "]\n");
	assert_int_equal(parse(text, &cfg), -EINVAL);
	assert_non_null(strstr(err, "t.ini:3: unknown section [aaaa"));

	/* one list on one line, as the bad-config table once refused */
	if (parse(COLL
		  "[agent]\ninterfaces = "
		  "a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 b0 b1 b2 b3 b4 b5 b6 b7 b8 b9 "
		  "c0 c1 c2 c3 c4 c5 c6 c7 c8 c9 d0 d1 d2 d3 d4 d5 d6 d7 d8 d9 "
		  "e0 e1 e2 e3 e4 e5 e6 e7 e8 e9 f0 f1 f2 f3 f4 f5 f6 f7 f8 f9 "
		  "g0 g1 g2\n",
		  &cfg))
		fail_msg("%s", err);
	assert_int_equal(cfg.nifaces, 63);
	assert_string_equal(cfg.ifaces[62], "g2");
}

static void test_load_errors(void **state)
{
	char path[] = "/tmp/fe-test-config-XXXXXX";
	struct fe_config cfg;
	int fd, ret;

	ret = fe_config_load("/nonexistent/flowexp.ini", &cfg, err,
			     sizeof(err));
	assert_int_equal(ret, -ENOENT);
	assert_string_equal(
		err, "/nonexistent/flowexp.ini: No such file or directory");

	ret = fe_config_load("/tmp", &cfg, err, sizeof(err));
	assert_int_equal(ret, -EISDIR);
	assert_string_equal(err, "/tmp: Is a directory");

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, COLL "[agent]\n\0", sizeof(COLL) + 8),
			 sizeof(COLL) + 8);
	close(fd);
	ret = fe_config_load(path, &cfg, err, sizeof(err));
	unlink(path);
	assert_int_equal(ret, -EINVAL);
	assert_non_null(strstr(err, ":4: NUL byte"));
	assert_memory_equal(err, path, strlen(path));
}

/* Errors name the file as given to fe_config_load. */
static void test_load_error_names_file(void **state)
{
	char path[] = "/tmp/fe-test-config-XXXXXX";
	struct fe_config cfg;
	char want[128];
	int fd, ret;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_true(write(fd, "[agent]\nadress = x\n", 19) == 19);
	close(fd);
	ret = fe_config_load(path, &cfg, err, sizeof(err));
	unlink(path);
	assert_int_equal(ret, -EINVAL);
	snprintf(want, sizeof(want), "%s:2: [agent] unknown key 'adress'",
		 path);
	assert_memory_equal(err, want, strlen(want));
}

/* kernel_max_flows = auto: max_flows x sightings, a power of two, within
 * 1/32 of the RAM (2 x 160 B per entry) and the key's range.
 */
static void test_kernel_max_flows_auto(void **state)
{
	const unsigned long long gib = 1ull << 30;
	struct fe_config cfg;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(fe_kernel_max_flows_auto(262144, FE_INGRESS_TC,
						  24 * gib),
			 1048576);
	assert_int_equal(fe_kernel_max_flows_auto(262144, FE_INGRESS_XDP,
						  24 * gib),
			 1048576);
	assert_int_equal(fe_kernel_max_flows_auto(262144, FE_INGRESS_OFF,
						  24 * gib),
			 524288);
	/* 4 GiB: 128 MiB for the maps, 419430 entries: 2^18 */
	assert_int_equal(fe_kernel_max_flows_auto(262144, FE_INGRESS_TC,
						  4 * gib),
			 262144);
	assert_int_equal(fe_kernel_max_flows_auto(1000, FE_INGRESS_TC,
						  24 * gib),
			 4096);
	assert_int_equal(fe_kernel_max_flows_auto(16, FE_INGRESS_OFF, gib), 32);
	assert_int_equal(fe_kernel_max_flows_auto(1u << 26, FE_INGRESS_TC,
						  1024 * gib),
			 1u << 24);
	/* 1 MiB: 102 entries fit, 64 is the power of two; 64 KiB: none */
	assert_int_equal(fe_kernel_max_flows_auto(262144, FE_INGRESS_TC,
						  1 << 20),
			 64);
	assert_int_equal(fe_kernel_max_flows_auto(262144, FE_INGRESS_TC,
						  1 << 16),
			 FE_MIN_MAX_FLOWS);

	if (parse(COLL "[agent]\nkernel_max_flows = AUTO\nmax_flows = 1000\n"
		       "ingress = off\n",
		  &cfg))
		fail_msg("%s", err);
	assert_true(cfg.kernel_max_flows_auto);
	assert_int_equal(cfg.kernel_max_flows,
			 fe_kernel_max_flows_auto(1000, FE_INGRESS_OFF,
						  ram_bytes()));
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(fe_config_print(f, &cfg), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\nkernel_max_flows = auto\n"));
	free(buf);
	/* a number turns auto off */
	if (parse(COLL "[agent]\nkernel_max_flows = 4096\n", &cfg))
		fail_msg("%s", err);
	assert_false(cfg.kernel_max_flows_auto);
	assert_int_equal(cfg.kernel_max_flows, 4096);
}

/* fe_config_print writes what parses back to the same configuration. */
static void test_print_roundtrip(void **state)
{
	static const char text[] =
		"[agent]\ninterfaces = a b c d e f g h i j\ningress = tc\n"
		"netns = x\nlog_level = warn\nobservation_domain = 9\n"
		"sampling = 100\n"
		"metrics_listen = 127.0.0.1:9739\n"
		"[collector a]\naddress = [::1]:2100\ntemplate = t\n"
		"transport = tcp\ntemplate_refresh = 0\n"
		"[collector b]\naddress = 127.0.0.1:2100\nbiflow = no\n"
		"[template t]\nid = 512\nfields = ipVersion octetDeltaCount "
		"packetDeltaCount flowDirection flowEndReason\n";
	struct fe_config a, b;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int i;

	if (parse(text, &a))
		fail_msg("%s", err);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(fe_config_print(f, &a), 0);
	fclose(f);
	if (parse(buf, &b))
		fail_msg("%s\n%s", err, buf);
	free(buf);
	/* only the line numbers may differ */
	for (i = 0; i < a.ncoll; i++)
		a.coll[i].line = b.coll[i].line = 0;
	for (i = 0; i < a.ntmpl; i++)
		a.tmpl[i].line = b.tmpl[i].line = 0;
	assert_memory_equal(&a, &b, sizeof(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_file),
		cmocka_unit_test(test_reference_file),
		cmocka_unit_test(test_full_values),
		cmocka_unit_test(test_metrics_listen),
		cmocka_unit_test(test_ie_case_insensitive),
		cmocka_unit_test(test_multiline_fields),
		cmocka_unit_test(test_ipv6_address),
		cmocka_unit_test(test_hostname),
		cmocka_unit_test(test_deferred_names),
		cmocka_unit_test(test_queue_size),
		cmocka_unit_test(test_crlf_and_bom),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_missing_template_long_names),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load_error_names_file),
		cmocka_unit_test(test_print_roundtrip),
		cmocka_unit_test(test_kernel_max_flows_auto),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
