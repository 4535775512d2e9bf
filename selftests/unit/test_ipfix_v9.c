/* test_ipfix_v9.c - unit tests of the NetFlow v9 wire format and of the
 * options records: byte-exact v9 headers (count, sysUptime, sequence per
 * packet, source ID), padded flowsets, v9 options templates with v9 scope
 * types, IPFIX options templates one per set, the interface and statistics
 * records, the sampling records of both (the fields and their order the
 * collectors need), and how the decoder and the table show them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <cmocka.h>
#include "ie.h"
#include "ipfix.h"
#include "ipfix_decode.h"
#include "ipfix_options.h"
#include "ipfix_table.h"
#include "nfv9.h"

#define MAX_MSGS 16

struct sink {
	int n;
	size_t len[MAX_MSGS];
	uint8_t msg[MAX_MSGS][2048];
	int fail;
};

static int sink_send(void *ctx, const void *msg, size_t len)
{
	struct sink *s = ctx;

	if (s->fail)
		return -s->fail;
	assert_true(s->n < MAX_MSGS && len <= sizeof(s->msg[0]));
	memcpy(s->msg[s->n], msg, len);
	s->len[s->n++] = len;
	return 0;
}

static uint16_t g16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

static uint32_t g32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static void small_template(struct ipfix_template *t)
{
	memset(t, 0, sizeof(*t));
	t->id = 300;
	t->family = 4;
	assert_int_equal(ipfix_template_add_field(t, 2, 8, 0), 0);
	assert_int_equal(ipfix_template_add_field(t, 4, 1, 0), 0);
}

static void small_record(struct fe_record *r, uint64_t packets)
{
	memset(r, 0, sizeof(*r));
	r->family = 4;
	r->proto = 17;
	r->fwd.packets = packets;
	r->fwd.octets = packets * 100;
}

static void test_v9_messages(void **state)
{
	static const uint8_t expect[] = {
		0x00, 0x09, 0x00, 0x03, /* version 9, count 3 */
		0x00, 0x00, 0x13, 0x88, /* sysUptime 5000 ms */
		0x5f, 0x00, 0x00, 0x01, /* unix_secs */
		0x00, 0x00, 0x00, 0x00, /* sequence 0 */
		0x00, 0x00, 0x00, 0x07, /* source ID 7 */
		0x00, 0x00, 0x00, 0x10, /* template flowset, 16 octets */
		0x01, 0x2c, 0x00, 0x02, /* template 300, 2 fields */
		0x00, 0x02, 0x00, 0x08, /* packetDeltaCount 8 */
		0x00, 0x04, 0x00, 0x01, /* protocolIdentifier 1 */
		0x01, 0x2c, 0x00, 0x18, /* data flowset 300, 24 octets */
		0,    0,    0,	  0,	0, 0, 0, 3, 17, /* record 1 */
		0,    0,    0,	  0,	0, 0, 0, 4, 17, /* record 2 */
		0x00, 0x00,				/* padding to 4 */
	};
	struct sink *s = calloc(1, sizeof(*s));
	struct ipfix_template t;
	const struct ipfix_template *tp = &t;
	struct ipfix_writer *w;
	struct ipfix_writer_stats st;
	struct fe_record r;
	uint64_t boot = 0x5f000001ULL * 1000 - 5000;

	small_template(&t);
	w = nfv9_writer__new(7, 0, boot, sink_send, s);
	assert_non_null(w);
	assert_int_equal(ipfix_writer__add_templates(w, &tp, 1, 0x5f000001), 0);
	small_record(&r, 3);
	assert_int_equal(ipfix_writer__add_record(w, &t, &r, 0x5f000001), 0);
	small_record(&r, 4);
	assert_int_equal(ipfix_writer__add_record(w, &t, &r, 0x5f000001), 0);
	assert_int_equal(ipfix_writer__flush(w, 0x5f000001), 0);
	assert_int_equal(s->n, 1);
	assert_int_equal(s->len[0], sizeof(expect));
	assert_memory_equal(s->msg[0], expect, sizeof(expect));
	/* the sequence counts export packets (RFC 3954 5.1), not records */
	assert_int_equal(ipfix_writer__seq(w), 1);
	assert_int_equal(ipfix_writer__add_record(w, &t, &r, 0x5f000002), 0);
	assert_int_equal(ipfix_writer__flush(w, 0x5f000002), 0);
	assert_int_equal(g32(s->msg[1] + 12), 1);
	assert_int_equal(g16(s->msg[1] + 2), 1);    /* count */
	assert_int_equal(g32(s->msg[1] + 4), 6000); /* sysUptime */
	assert_int_equal(ipfix_writer__seq(w), 2);
	ipfix_writer__stats(w, &st);
	assert_int_equal(st.messages, 2);
	assert_int_equal(st.records, 3);
	ipfix_writer__free(w);
	free(s);
}

/* v9 has no enterprise elements: a biflow template cannot be sent. */
static void test_v9_no_reverse(void **state)
{
	static const uint16_t ies[] = { 1, 2 };
	struct sink *s = calloc(1, sizeof(*s));
	struct ipfix_template t;
	const struct ipfix_template *tp = &t;
	struct ipfix_writer *w = nfv9_writer__new(1, 0, 0, sink_send, s);
	char err[128];

	assert_int_equal(ipfix_template_build(&t, 1024, 4, true, ies, 2, err,
					      sizeof(err)),
			 0);
	assert_int_equal(ipfix_writer__add_templates(w, &tp, 1, 1), -EINVAL);
	ipfix_writer__free(w);
	free(s);
}

static void test_options_ids(void **state)
{
	struct fe_options o;
	const struct ipfix_template *t[3];

	fe_options_init(&o, 1024, 1, false);
	assert_int_equal(o.iface.id, 256);
	assert_int_equal(o.stats.id, 257);
	/* no sampling template while sampling = 1 */
	assert_int_equal(fe_options_templates(&o, t), 2);
	assert_int_equal(o.iface.scope, 1);
	assert_int_equal(o.iface.rec_len,
			 4 + FE_OPT_IFNAME_LEN + FE_OPT_IFDESC_LEN);
	assert_int_equal(o.stats.rec_len, 4 + 6 * 8);
	assert_true(o.iface.rec_len <= FE_OPT_REC_MAX);
	/* the data templates 256/257 take those ids: the options move */
	fe_options_init(&o, 256, 1, false);
	assert_int_equal(o.iface.id, 258);
	fe_options_init(&o, 255, 1, false);
	assert_int_equal(o.iface.id, 257);
	fe_options_init(&o, 260, 1, false);
	assert_int_equal(o.iface.id, 256);
	assert_int_equal(o.sampling.id, 258);
}

static void test_options_records(void **state)
{
	struct fe_options o;
	struct fe_link l = { .ifindex = 5, .name = "eth1" };
	struct ipfix_writer_stats st = { .messages = 3,
					 .records = 40,
					 .octets = 5000,
					 .not_sent = 2,
					 .not_sent_packets = 9,
					 .not_sent_octets = 900 };
	uint8_t rec[FE_OPT_REC_MAX];

	fe_options_init(&o, 1024, 1, false);
	/* an alias cut at 64 octets, before the UTF-8 character across it */
	memset(l.alias, 'a', 63);
	memcpy(l.alias + 63, "\xc3\xa9", 3);
	fe_options_iface_record(&o, rec, &l);
	assert_int_equal(g32(rec), 5);
	assert_string_equal((char *)rec + 4, "eth1");
	assert_int_equal(rec[4 + 4], 0);
	assert_int_equal(rec[20 + 62], 'a');
	assert_int_equal(rec[20 + 63], 0);
	fe_options_stats_record(&o, rec, 9, &st);
	assert_int_equal(g32(rec), 9);
	assert_int_equal(g32(rec + 4 + 4), 3);	   /* messages */
	assert_int_equal(g32(rec + 12 + 4), 40);   /* flow records */
	assert_int_equal(g32(rec + 20 + 4), 5000); /* octets */
	assert_int_equal(g32(rec + 28 + 4), 2);	   /* not sent */
	assert_int_equal(g32(rec + 36 + 4), 9);	   /* their packets */
	assert_int_equal(g32(rec + 44 + 4), 900);  /* their octets */
	assert_false(fe_options_sampling_record(&o, rec, 1));
}

/* IPFIX: each options template in its own set (pmacct), scope count in
 * the record; options data records count in the sequence, not as flows.
 */
static void test_ipfix_options_sets(void **state)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct fe_options o;
	const struct ipfix_template *t[3];
	struct ipfix_writer *w = ipfix_writer__new(1, 0, sink_send, s);
	struct ipfix_writer_stats st;
	struct fe_link l = { .ifindex = 2, .name = "lo" };
	uint8_t rec[FE_OPT_REC_MAX], *p;
	int n;

	fe_options_init(&o, 1024, 1, false);
	n = fe_options_templates(&o, t);
	assert_int_equal(ipfix_writer__add_templates(w, t, n, 1), 0);
	fe_options_iface_record(&o, rec, &l);
	assert_int_equal(ipfix_writer__add_options(w, &o.iface, rec, 1), 0);
	assert_int_equal(ipfix_writer__flush(w, 1), 0);
	p = s->msg[0] + 16;
	assert_int_equal(g16(p), 3); /* options template set */
	assert_int_equal(g16(p + 2), 4 + 6 + 3 * 4);
	assert_int_equal(g16(p + 4), 256);
	assert_int_equal(g16(p + 6), 3); /* fields */
	assert_int_equal(g16(p + 8), 1); /* scope fields */
	assert_int_equal(g16(p + 10), 10);
	p += g16(p + 2);
	assert_int_equal(g16(p), 3); /* the second, in a set of its own */
	assert_int_equal(g16(p + 4), 257);
	p += g16(p + 2);
	assert_int_equal(g16(p), 256); /* the data set */
	assert_int_equal(ipfix_writer__seq(w), 1);
	ipfix_writer__stats(w, &st);
	assert_int_equal(st.records, 0);
	assert_int_equal(st.options, 1);
	ipfix_writer__free(w);
	free(s);
}

static void test_v9_options_template(void **state)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct fe_options o;
	const struct ipfix_template *t[3];
	struct ipfix_writer *w = nfv9_writer__new(1, 0, 0, sink_send, s);
	uint8_t *p;

	fe_options_init(&o, 1024, 1, true);
	assert_int_equal(fe_options_templates(&o, t), 2);
	assert_int_equal(ipfix_writer__add_templates(w, t, 2, 1), 0);
	assert_int_equal(ipfix_writer__flush(w, 1), 0);
	p = s->msg[0] + 20;
	assert_int_equal(g16(p), 1);	  /* options template flowset */
	assert_int_equal(g16(p + 2), 24); /* 4 + 6 + 12, padded to 24 */
	assert_int_equal(g16(p + 4), 256);
	assert_int_equal(g16(p + 6), 4);	 /* scope length, octets */
	assert_int_equal(g16(p + 8), 8);	 /* option length, octets */
	assert_int_equal(g16(p + 10), 2);	 /* scope type Interface */
	assert_int_equal(g16(p + 14), 82);	 /* interfaceName */
	assert_int_equal(g16(p + 24 + 10), 1);	 /* the stats: System scope */
	assert_int_equal(g16(s->msg[0] + 2), 2); /* count: two templates */
	ipfix_writer__free(w);
	free(s);
}

static int dec_cb(void *ctx, const struct ipfix_dec_record *r);

/* IPFIX sampling record, 1 in 10: scope meteringProcessId, then 34, 50,
 * 304 (3: random n-out-of-N), 309/310 (1 of N), 305/306 (1, N - 1) last:
 * nfdump 1.7.1 reads 34, 50 and 306 into one slot, the last one winning.
 */
static void test_sampling_ipfix(void **state)
{
	static const uint16_t ids[] = { 143, 34, 50, 304, 309, 310, 305, 306 };
	static const uint16_t lens[] = { 4, 4, 4, 2, 4, 4, 4, 4 };
	struct sink *s = calloc(1, sizeof(*s));
	struct ipfix_writer *w = ipfix_writer__new(7, 0, sink_send, s);
	struct ipfix_decoder *d = ipfix_decoder__new();
	const struct ipfix_template *t[3];
	uint8_t rec[FE_OPT_REC_MAX], *p;
	char out[8192] = "", err[128];
	struct fe_options o;
	int n;

	fe_options_init(&o, 1024, 10, false);
	n = fe_options_templates(&o, t);
	assert_int_equal(n, 3);
	assert_ptr_equal(t[2], &o.sampling);
	assert_int_equal(o.sampling.id, 258);
	assert_int_equal(o.sampling.scope, 1);
	assert_int_equal(o.sampling.nfields, 8);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(o.sampling.f[i].id, ids[i]);
		assert_int_equal(o.sampling.f[i].len, lens[i]);
		assert_int_equal(o.sampling.f[i].pen, 0);
	}
	assert_int_equal(o.sampling.rec_len, 30);
	assert_true(fe_options_sampling_record(&o, rec, 7));
	assert_int_equal(g32(rec), 7);	     /* meteringProcessId */
	assert_int_equal(g32(rec + 4), 10);  /* samplingInterval */
	assert_int_equal(g32(rec + 8), 10);  /* samplerRandomInterval */
	assert_int_equal(g16(rec + 12), 3);  /* selectorAlgorithm */
	assert_int_equal(g32(rec + 14), 1);  /* samplingSize */
	assert_int_equal(g32(rec + 18), 10); /* samplingPopulation */
	assert_int_equal(g32(rec + 22), 1);  /* samplingPacketInterval */
	assert_int_equal(g32(rec + 26), 9);  /* samplingPacketSpace */
	/* on the wire, and as flowctl collect reads it back */
	ipfix_writer__add_templates(w, t, n, 1);
	ipfix_writer__add_options(w, &o.sampling, rec, 1);
	ipfix_writer__flush(w, 1);
	p = s->msg[0] + 16;
	for (int i = 0; i < 3; i++)
		p += g16(p + 2); /* iface, stats, sampling templates */
	assert_int_equal(g16(p), 258);
	assert_int_equal(g16(p + 2), 4 + 30); /* IPFIX sets: no padding */
	assert_int_equal(ipfix_decoder__parse(d, NULL, 0, s->msg[0], s->len[0],
					      dec_cb, out, NULL, err,
					      sizeof(err)),
			 0);
	assert_non_null(strstr(out, "\"meteringProcessId\":7,"
				    "\"samplingInterval\":10,"
				    "\"samplerRandomInterval\":10,"
				    "\"selectorAlgorithm\":3,"
				    "\"samplingSize\":1,"
				    "\"samplingPopulation\":10,"
				    "\"samplingPacketInterval\":1,"
				    "\"samplingPacketSpace\":9}"));
	/* every packet: no sampling template, no record */
	fe_options_init(&o, 1024, 1, false);
	assert_int_equal(fe_options_templates(&o, t), 2);
	assert_false(fe_options_sampling_record(&o, rec, 7));
	fe_options_init(&o, 1024, 0, false);
	assert_int_equal(fe_options_templates(&o, t), 2);
	ipfix_decoder__free(d);
	ipfix_writer__free(w);
	free(s);
}

/* NetFlow v9 sampling record, 1 in 100: System scope, SAMPLING_INTERVAL,
 * SAMPLING_ALGORITHM 2 (random), FLOW_SAMPLER_RANDOM_INTERVAL.
 */
static void test_sampling_v9(void **state)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct ipfix_writer *w = nfv9_writer__new(1, 0, 0, sink_send, s);
	const struct ipfix_template *t[3];
	uint8_t rec[FE_OPT_REC_MAX], *p;
	struct fe_options o;
	int n;

	fe_options_init(&o, 1024, 100, true);
	n = fe_options_templates(&o, t);
	assert_int_equal(n, 3);
	assert_int_equal(o.sampling.nfields, 4);
	assert_int_equal(o.sampling.rec_len, 13);
	assert_true(fe_options_sampling_record(&o, rec, 1));
	assert_int_equal(g32(rec), 1);
	assert_int_equal(g32(rec + 4), 100);
	assert_int_equal(rec[8], 2);
	assert_int_equal(g32(rec + 9), 100);
	assert_int_equal(ipfix_writer__add_templates(w, t, n, 1), 0);
	assert_int_equal(ipfix_writer__add_options(w, &o.sampling, rec, 1), 0);
	assert_int_equal(ipfix_writer__flush(w, 1), 0);
	p = s->msg[0] + 20;
	for (int i = 0; i < 2; i++)
		p += g16(p + 2);	   /* iface, stats: one flowset each */
	assert_int_equal(g16(p), 1);	   /* options template flowset */
	assert_int_equal(g16(p + 4), 258); /* template id */
	assert_int_equal(g16(p + 6), 4);   /* scope length */
	assert_int_equal(g16(p + 8), 12);  /* 3 option fields */
	assert_int_equal(g16(p + 10), 1);  /* scope type System */
	assert_int_equal(g16(p + 12), 4);  /* its length */
	assert_int_equal(g16(p + 14), 34); /* SAMPLING_INTERVAL */
	assert_int_equal(g16(p + 16), 4);
	assert_int_equal(g16(p + 18), 35); /* SAMPLING_ALGORITHM */
	assert_int_equal(g16(p + 20), 1);
	assert_int_equal(g16(p + 22), 50); /* FLOW_SAMPLER_RANDOM_INTERVAL */
	assert_int_equal(g16(p + 24), 4);
	p += g16(p + 2);
	assert_int_equal(g16(p), 258); /* the data flowset */
	assert_int_equal(g16(p + 2), 4 + 13 + 3);
	assert_int_equal(g32(p + 8), 100);
	ipfix_writer__free(w);
	free(s);
}

/* A refused message: its flow records, packets and octets are not sent. */
static void test_not_sent(void **state)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct ipfix_template t;
	struct ipfix_writer *w = ipfix_writer__new(1, 0, sink_send, s);
	struct ipfix_writer_stats st;
	struct fe_record r;

	small_template(&t);
	small_record(&r, 5);
	r.rev.packets = 2;
	r.rev.octets = 20;
	ipfix_writer__add_record(w, &t, &r, 1);
	s->fail = ECONNREFUSED;
	assert_int_equal(ipfix_writer__flush(w, 1), -ECONNREFUSED);
	ipfix_writer__stats(w, &st);
	assert_int_equal(st.not_sent, 1);
	assert_int_equal(st.not_sent_packets, 7);
	assert_int_equal(st.not_sent_octets, 520);
	assert_int_equal(st.send_errors, 1);
	assert_int_equal(ipfix_writer__seq(w), 0);
	ipfix_writer__free(w);
	free(s);
}

static int dec_cb(void *ctx, const struct ipfix_dec_record *r)
{
	char *out = ctx, line[2048];
	struct ipfix_table *tab = ipfix_table__new();

	assert_true(ipfix_format_json(r, line, sizeof(line)) > 0);
	strcat(out, line);
	strcat(out, "\n");
	assert_true(ipfix_table__format(tab, r, line, sizeof(line)) > 0);
	strcat(out, line);
	strcat(out, "\n");
	ipfix_table__free(tab);
	return 0;
}

/* The options records as flowctl collect shows them: the zero padding of
 * fixed-length names is not part of the name.
 */
static void test_options_decoded(void **state)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct fe_options o;
	const struct ipfix_template *t[3];
	struct ipfix_writer *w = ipfix_writer__new(1, 0, sink_send, s);
	struct ipfix_decoder *d = ipfix_decoder__new();
	struct fe_link l = { .ifindex = 3, .name = "fe-s1", .alias = "uplink" };
	uint8_t rec[FE_OPT_REC_MAX];
	char out[8192] = "", err[128];
	int n;

	fe_options_init(&o, 1024, 1, false);
	n = fe_options_templates(&o, t);
	ipfix_writer__add_templates(w, t, n, 1);
	fe_options_iface_record(&o, rec, &l);
	ipfix_writer__add_options(w, &o.iface, rec, 1);
	ipfix_writer__flush(w, 1);
	assert_int_equal(ipfix_decoder__parse(d, NULL, 0, s->msg[0], s->len[0],
					      dec_cb, out, NULL, err,
					      sizeof(err)),
			 0);
	assert_non_null(strstr(out, "\"options\":true,\"ingressInterface\":3,"
				    "\"interfaceName\":\"fe-s1\","
				    "\"interfaceDescription\":\"uplink\"}"));
	assert_non_null(
		strstr(out, "# domain 1 interface 3: fe-s1 \"uplink\""));
	ipfix_decoder__free(d);
	ipfix_writer__free(w);
	free(s);
}

/* A flow record as a table row, and the noise filter. */
static void test_table_row(void **state)
{
	static const uint16_t ies[] = { 152, 1, 2,  8,	12, 7,
					11,  4, 10, 14, 61, 136 };
	struct sink *s = calloc(1, sizeof(*s));
	struct ipfix_template t;
	const struct ipfix_template *tp = &t;
	struct ipfix_writer *w = ipfix_writer__new(1, 0, sink_send, s);
	struct ipfix_decoder *d = ipfix_decoder__new();
	struct fe_record r;
	char out[8192] = "", err[128];

	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(ipfix_template_build(&t, 1024, 4, true, ies, 12, err,
					      sizeof(err)),
			 0);
	small_record(&r, 3);
	memcpy(r.src, "\x0a\x00\x00\x01", 4);
	memcpy(r.dst, "\xc0\x00\x02\x01", 4);
	r.sport = 40000;
	r.dport = 443;
	r.proto = 6;
	r.has_rev = true;
	r.rev.packets = 2;
	r.rev.octets = 120;
	r.fwd.start_ms = 3600 * 1000 + 5;
	r.fwd.in_if = 2;
	r.fwd.out_if = 3;
	r.fwd.flow_dir = 1;
	r.end_reason = 2;
	ipfix_writer__add_templates(w, &tp, 1, 1);
	ipfix_writer__add_record(w, &t, &r, 1);
	ipfix_writer__flush(w, 1);
	ipfix_decoder__parse(d, NULL, 0, s->msg[0], s->len[0], dec_cb, out,
			     NULL, err, sizeof(err));
	assert_non_null(strstr(out,
			       "01:00:00.005 tcp   10.0.0.1:40000           -> "
			       "192.0.2.1:443                   3        300"
			       "        2        120 2>3             out "
			       "active"));
	ipfix_decoder__free(d);
	ipfix_writer__free(w);
	free(s);
}

static void test_noise(void **state)
{
	static const struct {
		const char *src, *dst;
		uint8_t proto;
		uint16_t type_code;
		bool noise;
	} cases[] = {
		{ "\x0a\x00\x00\x01", "\x0a\x00\x00\x02", 17, 0, false },
		{ "\x0a\x00\x00\x01", "\xe0\x00\x00\xfb", 17, 0, true },
		{ "\xa9\xfe\x01\x01", "\x0a\x00\x00\x02", 6, 0, true },
	};
	struct ipfix_dec_record *r = calloc(1, sizeof(*r));
	uint8_t v6s[16] = { 0xfd }, v6d[16] = { 0xfd }, p58 = 58, tc[2];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r->nvalues = 3;
		r->v[0] = (struct ipfix_dec_value){
			.id = 8, .len = 4, .data = (const uint8_t *)cases[i].src
		};
		r->v[1] = (struct ipfix_dec_value){
			.id = 12,
			.len = 4,
			.data = (const uint8_t *)cases[i].dst
		};
		r->v[2] = (struct ipfix_dec_value){ .id = 4,
						    .len = 1,
						    .data = &cases[i].proto };
		assert_int_equal(ipfix_record_is_noise(r), cases[i].noise);
	}
	/* IPv6 neighbour solicitation between global addresses */
	tc[0] = 135;
	tc[1] = 0;
	r->nvalues = 4;
	r->v[0] = (struct ipfix_dec_value){ .id = 27, .len = 16, .data = v6s };
	r->v[1] = (struct ipfix_dec_value){ .id = 28, .len = 16, .data = v6d };
	r->v[2] = (struct ipfix_dec_value){ .id = 4, .len = 1, .data = &p58 };
	r->v[3] = (struct ipfix_dec_value){ .id = 139, .len = 2, .data = tc };
	assert_true(ipfix_record_is_noise(r));
	tc[0] = 128; /* echo request: not noise */
	assert_false(ipfix_record_is_noise(r));
	v6d[0] = 0xfe;
	v6d[1] = 0x80; /* link-local */
	assert_true(ipfix_record_is_noise(r));
	r->options = true; /* options records are never noise */
	assert_false(ipfix_record_is_noise(r));
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v9_messages),
		cmocka_unit_test(test_v9_no_reverse),
		cmocka_unit_test(test_options_ids),
		cmocka_unit_test(test_options_records),
		cmocka_unit_test(test_ipfix_options_sets),
		cmocka_unit_test(test_v9_options_template),
		cmocka_unit_test(test_sampling_ipfix),
		cmocka_unit_test(test_sampling_v9),
		cmocka_unit_test(test_not_sent),
		cmocka_unit_test(test_options_decoded),
		cmocka_unit_test(test_table_row),
		cmocka_unit_test(test_noise),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
