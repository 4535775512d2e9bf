/* test_ipfix_decode.c - unit tests of the IPFIX decoder: encode/decode round
 * trip of every exportable element, variable-length fields, options
 * templates, withdrawals, unknown templates, sequence gaps, malformed
 * messages, and the text/JSON rendering contract.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>
#include "ie.h"
#include "ipfix.h"
#include "ipfix_decode.h"

#define MAX_MSGS 64

struct sink {
	int n;
	size_t len[MAX_MSGS];
	uint8_t msg[MAX_MSGS][2048];
};

static int sink_send(void *ctx, const void *msg, size_t len)
{
	struct sink *s = ctx;

	assert_true(s->n < MAX_MSGS && len <= sizeof(s->msg[0]));
	memcpy(s->msg[s->n], msg, len);
	s->len[s->n++] = len;
	return 0;
}

/* What the decoder delivered: the last record as JSON and text, copies of
 * every record's values for checks after parsing.
 */
struct got {
	int records;
	char json[8192];
	char text[8192];
	struct ipfix_dec_record last;
	uint8_t data[4096];
};

static int got_record(void *ctx, const struct ipfix_dec_record *r)
{
	struct got *g = ctx;
	size_t off = 0;
	int i;

	g->records++;
	assert_true(ipfix_format_json(r, g->json, sizeof(g->json)) > 0);
	assert_true(ipfix_format_text(r, g->text, sizeof(g->text)) > 0);
	/* keep the values past the callback */
	g->last = *r;
	for (i = 0; i < r->nvalues; i++) {
		assert_true(off + r->v[i].len <= sizeof(g->data));
		memcpy(g->data + off, r->v[i].data, r->v[i].len);
		g->last.v[i].data = g->data + off;
		off += r->v[i].len;
	}
	return 0;
}

/* A byte builder for hand-made messages. */
struct mb {
	uint8_t b[4096];
	size_t len;
};

static void mb_u8(struct mb *m, uint8_t v)
{
	m->b[m->len++] = v;
}

static void mb_u16(struct mb *m, uint16_t v)
{
	mb_u8(m, v >> 8);
	mb_u8(m, v);
}

static void mb_u32(struct mb *m, uint32_t v)
{
	mb_u16(m, v >> 16);
	mb_u16(m, v);
}

static void mb_bytes(struct mb *m, const void *p, size_t n)
{
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

static void mb_header(struct mb *m, uint32_t seq, uint32_t domain)
{
	m->len = 0;
	mb_u16(m, 10);
	mb_u16(m, 0); /* fixed by mb_end */
	mb_u32(m, 1700000000);
	mb_u32(m, seq);
	mb_u32(m, domain);
}

static size_t mb_set(struct mb *m, uint16_t id)
{
	size_t off = m->len;

	mb_u16(m, id);
	mb_u16(m, 0);
	return off;
}

static void mb_set_end(struct mb *m, size_t off)
{
	m->b[off + 2] = (m->len - off) >> 8;
	m->b[off + 3] = m->len - off;
}

static void mb_end(struct mb *m)
{
	m->b[2] = m->len >> 8;
	m->b[3] = m->len;
}

static void fill_record(struct fe_record *r, int family)
{
	int i;

	memset(r, 0, sizeof(*r));
	r->family = family;
	r->proto = 6;
	r->end_reason = 2;
	r->biflow_dir = 1;
	r->sport = 40000;
	r->dport = 443;
	r->vlan = 100;
	r->has_rev = true;
	for (i = 0; i < 16; i++) {
		r->src[i] = 0x20 + i;
		r->dst[i] = 0x40 + i;
	}
	if (family == 4) {
		memcpy(r->src, "\x0a\x01\x02\x03", 4);
		memcpy(r->dst, "\xc0\x00\x02\x07", 4);
		memset(r->src + 4, 0, 12);
		memset(r->dst + 4, 0, 12);
	}
	r->fwd.packets = 10;
	r->fwd.octets = 1234;
	r->fwd.start_ms = 1700000000123ULL;
	r->fwd.end_ms = 1700000004567ULL;
	r->fwd.in_if = 2;
	r->fwd.out_if = 3;
	r->fwd.tcp_flags = 0x1b;
	r->fwd.icmp_type_code = 0x0800;
	r->fwd.flow_dir = 1;
	r->fwd.tos = 0x28;
	r->fwd.ttl_min = 61;
	r->fwd.ttl_max = 64;
	r->fwd.flow_label = 0x12345;
	r->rev.packets = 7;
	r->rev.octets = 99;
	r->rev.start_ms = 1700000000200ULL;
	r->rev.end_ms = 1700000004000ULL;
	r->rev.tcp_flags = 0x12;
	r->rev.flow_dir = 0;
	r->rev.tos = 0x10;
	r->rev.ttl_min = 50;
	r->rev.ttl_max = 51;
	r->rev.flow_label = 0x54321;
}

static void roundtrip_family(int family)
{
	uint16_t ies[IPFIX_MAX_FIELDS];
	struct ipfix_decoder *d = ipfix_decoder__new();
	struct sink *s = calloc(1, sizeof(*s));
	struct got *g = calloc(1, sizeof(*g));
	const struct ie_def *def;
	struct ipfix_template t;
	const struct ipfix_template *tp = &t;
	struct ipfix_writer *w;
	struct ipfix_dec_msg info;
	struct fe_record r;
	char err[256], exp[128];
	int i, n = 0;

	assert_non_null(d);
	assert_non_null(s);
	assert_non_null(g);
	/* every exportable element, in two templates so the biflow variant
	 * stays within IPFIX_MAX_FIELDS
	 */
	for (i = 0; (def = ie_at(i)); i++)
		if (def->exportable)
			ies[n++] = def->id;
	fill_record(&r, family);
	w = ipfix_writer__new(5, 1400, sink_send, s);
	assert_non_null(w);
	for (i = 0; i < n; i += 20) {
		int k = n - i < 20 ? n - i : 20, j;
		uint8_t buf[64];

		assert_int_equal(ipfix_template_build(&t, 1024 + i, family,
						      true, ies + i, k, err,
						      sizeof(err)),
				 0);
		s->n = 0;
		ipfix_writer__add_templates(w, &tp, 1, 1);
		ipfix_writer__add_record(w, &t, &r, 1);
		ipfix_writer__flush(w, 1);
		assert_int_equal(s->n, 1);
		g->records = 0;
		assert_int_equal(ipfix_decoder__parse(d, "A", 1, s->msg[0],
						      s->len[0], got_record, g,
						      &info, err, sizeof(err)),
				 0);
		assert_int_equal(g->records, 1);
		assert_int_equal(info.templates, 1);
		assert_int_equal(info.records, 1);
		assert_false(info.seq_gap);
		assert_int_equal(g->last.nvalues, t.nfields);
		for (j = 0; j < t.nfields; j++) {
			const struct ipfix_dec_value *v = &g->last.v[j];

			assert_int_equal(v->id, t.f[j].id);
			assert_int_equal(v->pen, t.f[j].pen);
			assert_int_equal(v->len, t.f[j].len);
			ipfix_encode_field(buf, &t.f[j], &r, 5);
			assert_memory_equal(v->data, buf, v->len);
		}
		/* spot checks of the JSON contract, field by field */
		for (j = 0; j < t.nfields; j++) {
			uint16_t id = t.f[j].id;
			bool rev = t.f[j].pen == IPFIX_PEN_REVERSE;
			const struct fe_rec_dir *dd = rev ? &r.rev : &r.fwd;
			char name[64];

			ipfix_ie_name(id, t.f[j].pen, name, sizeof(name));
			exp[0] = 0;
			if (id == 1)
				snprintf(exp, sizeof(exp), "\"%s\":%llu", name,
					 (unsigned long long)dd->octets);
			if (id == 152)
				snprintf(exp, sizeof(exp), "\"%s\":%llu", name,
					 (unsigned long long)dd->start_ms);
			if (id == 154)
				snprintf(exp, sizeof(exp), "\"%s\":%llu", name,
					 (unsigned long long)dd->start_ms *
						 1000);
			if (id == 157)
				snprintf(exp, sizeof(exp), "\"%s\":%llu", name,
					 (unsigned long long)dd->end_ms *
						 1000000);
			if (id == 151)
				snprintf(exp, sizeof(exp), "\"%s\":%llu", name,
					 (unsigned long long)dd->end_ms / 1000);
			if (id == 8)
				snprintf(exp, sizeof(exp),
					 "\"sourceIPv4Address\":\"10.1.2.3\"");
			if (id == 12)
				snprintf(exp, sizeof(exp),
					 "\"destinationIPv4Address\":\"192.0.2."
					 "7\"");
			if (id == 27)
				snprintf(exp, sizeof(exp),
					 "\"sourceIPv6Address\":\"2021:2223:"
					 "2425:2627:2829:2a2b:2c2d:2e2f\"");
			if (id == 7)
				snprintf(exp, sizeof(exp),
					 "\"sourceTransportPort\":40000");
			if (id == 6)
				snprintf(exp, sizeof(exp), "\"%s\":%u", name,
					 dd->tcp_flags);
			if (id == 61)
				snprintf(exp, sizeof(exp), "\"%s\":%u", name,
					 dd->flow_dir);
			if (id == 149)
				snprintf(exp, sizeof(exp),
					 "\"observationDomainId\":5");
			if (id == 31)
				snprintf(exp, sizeof(exp), "\"%s\":%u", name,
					 dd->flow_label);
			if (exp[0] && !strstr(g->json, exp))
				fail_msg("%s not in %s", exp, g->json);
		}
		assert_non_null(strstr(g->json, "{\"domain\":5,\"template\":"));
		assert_non_null(strstr(g->json, "\"export_time\":1,"));
		assert_null(strstr(g->json, "\"options\""));
		assert_int_equal(g->json[strlen(g->json) - 1], '}');
		assert_non_null(strstr(g->text, "domain=5 template="));
	}
	ipfix_writer__free(w);
	ipfix_decoder__free(d);
	free(s);
	free(g);
}

static void test_roundtrip_v4(void **state)
{
	roundtrip_family(4);
}

static void test_roundtrip_v6(void **state)
{
	roundtrip_family(6);
}

static void test_varlen(void **state)
{
	struct ipfix_decoder *d = ipfix_decoder__new();
	struct got *g = calloc(1, sizeof(*g));
	struct mb *m = calloc(1, sizeof(*m));
	const struct ipfix_dec_value *v;
	char err[256], big[300];
	size_t s;
	uint64_t u;

	memset(big, 'x', sizeof(big));
	mb_header(m, 0, 9);
	s = mb_set(m, 2);
	mb_u16(m, 500);
	mb_u16(m, 3);
	mb_u16(m, 82); /* interfaceName, variable */
	mb_u16(m, 65535);
	mb_u16(m, 1); /* octetDeltaCount in 4 octets (reduced size) */
	mb_u16(m, 4);
	mb_u16(m, 0x8000 | 77); /* enterprise element, variable */
	mb_u16(m, 65535);
	mb_u32(m, 12345);
	mb_set_end(m, s);
	s = mb_set(m, 500);
	/* record 1: 1-octet lengths, a string that needs escaping */
	mb_u8(m, 6);
	mb_bytes(m, "e\"\\\n0\xff", 6);
	mb_u32(m, 77);
	mb_u8(m, 2);
	mb_bytes(m, "\xab\xcd", 2);
	/* record 2: 3-octet length (255, then 300), empty octet array */
	mb_u8(m, 255);
	mb_u16(m, 300);
	mb_bytes(m, big, 300);
	mb_u32(m, 78);
	mb_u8(m, 0);
	mb_set_end(m, s);
	mb_end(m);

	assert_int_equal(ipfix_decoder__parse(d, NULL, 0, m->b, m->len,
					      got_record, g, NULL, err,
					      sizeof(err)),
			 0);
	assert_int_equal(g->records, 2);
	v = ipfix_dec_find(&g->last, 82, 0);
	assert_non_null(v);
	assert_int_equal(v->len, 300);
	v = ipfix_dec_find(&g->last, 77, 12345);
	assert_non_null(v);
	assert_int_equal(v->len, 0);
	assert_true(ipfix_dec_uint(ipfix_dec_find(&g->last, 1, 0), &u));
	assert_int_equal(u, 78);
	assert_non_null(strstr(g->json, "\"ie12345.77\":\"\"}"));
	assert_non_null(strstr(g->json, "\"octetDeltaCount\":78,"));
	assert_non_null(strstr(g->json, "\"interfaceName\":\"xxxxxxxx"));

	ipfix_decoder__free(d);
	free(g);
	free(m);
}

static void test_string_escape(void **state)
{
	struct ipfix_decoder *d = ipfix_decoder__new();
	struct got *g = calloc(1, sizeof(*g));
	struct mb *m = calloc(1, sizeof(*m));
	char err[256];
	size_t s;

	mb_header(m, 0, 9);
	s = mb_set(m, 2);
	mb_u16(m, 501);
	mb_u16(m, 3);
	mb_u16(m, 82);
	mb_u16(m, 65535);
	mb_u16(m, 95); /* applicationId: octetArray */
	mb_u16(m, 3);
	mb_u16(m, 56); /* sourceMacAddress */
	mb_u16(m, 6);
	mb_set_end(m, s);
	s = mb_set(m, 501);
	mb_u8(m, 6);
	mb_bytes(m, "e\"\\\n0\xff", 6);
	mb_bytes(m, "\x01\xab\xff", 3);
	mb_bytes(m, "\x00\x11\x22\x33\x44\x55", 6);
	mb_set_end(m, s);
	mb_end(m);
	assert_int_equal(ipfix_decoder__parse(d, NULL, 0, m->b, m->len,
					      got_record, g, NULL, err,
					      sizeof(err)),
			 0);
	assert_int_equal(g->records, 1);
	assert_string_equal(
		g->json,
		"{\"domain\":9,\"template\":501,\"export_time\":1700000000,"
		"\"interfaceName\":\"e\\\"\\\\\\u000a0\\u00ff\","
		"\"applicationId\":\"01abff\","
		"\"sourceMacAddress\":\"00:11:22:33:44:55\"}");
	assert_string_equal(g->text,
			    "domain=9 template=501 export_time=1700000000 "
			    "interfaceName=\"e\\\"\\\\\\u000a0\\u00ff\" "
			    "applicationId=0x01abff "
			    "sourceMacAddress=00:11:22:33:44:55");
	ipfix_decoder__free(d);
	free(g);
	free(m);
}

static void test_options_template(void **state)
{
	struct ipfix_decoder *d = ipfix_decoder__new();
	struct got *g = calloc(1, sizeof(*g));
	struct mb *m = calloc(1, sizeof(*m));
	struct ipfix_dec_msg info;
	char err[256];
	size_t s;

	mb_header(m, 0, 3);
	s = mb_set(m, 3);
	mb_u16(m, 400);
	mb_u16(m, 3); /* fields */
	mb_u16(m, 1); /* scope fields */
	mb_u16(m, 149);
	mb_u16(m, 4);
	mb_u16(m, 41);
	mb_u16(m, 8);
	mb_u16(m, 166);
	mb_u16(m, 8);
	mb_u16(m, 0); /* padding */
	mb_set_end(m, s);
	s = mb_set(m, 400);
	mb_u32(m, 3);
	mb_u32(m, 0);
	mb_u32(m, 17);
	mb_u32(m, 0);
	mb_u32(m, 2);
	mb_set_end(m, s);
	mb_end(m);
	assert_int_equal(ipfix_decoder__parse(d, "x", 1, m->b, m->len,
					      got_record, g, &info, err,
					      sizeof(err)),
			 0);
	assert_int_equal(info.templates, 1);
	assert_int_equal(g->records, 1);
	assert_true(g->last.options);
	assert_int_equal(g->last.scope_count, 1);
	assert_string_equal(
		g->json,
		"{\"domain\":3,\"template\":400,\"export_time\":1700000000,"
		"\"options\":true,\"observationDomainId\":3,"
		"\"exportedMessageTotalCount\":17,"
		"\"notSentFlowTotalCount\":2}");

	/* scope count 0 is malformed */
	m->b[16 + 4 + 4 + 1] = 0;
	assert_int_equal(ipfix_decoder__parse(d, "x", 1, m->b, m->len,
					      got_record, g, &info, err,
					      sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "scope"));
	ipfix_decoder__free(d);
	free(g);
	free(m);
}

/* A valid message: template 256 (octetDeltaCount, sourceIPv4Address) and
 * two data records, from the encoder.
 */
static size_t valid_message(uint8_t *out, uint32_t seq_records)
{
	static const uint16_t ies[] = { 1, 8 };
	struct sink *s = calloc(1, sizeof(*s));
	struct ipfix_template t;
	const struct ipfix_template *tp = &t;
	struct ipfix_writer *w;
	struct fe_record r;
	char err[128];
	size_t len;
	uint32_t i;

	assert_int_equal(ipfix_template_build(&t, 256, 4, false, ies, 2, err,
					      sizeof(err)),
			 0);
	fill_record(&r, 4);
	w = ipfix_writer__new(1, 0, sink_send, s);
	for (i = 0; i < seq_records; i++)
		ipfix_writer__add_record(w, &t, &r, 1);
	ipfix_writer__flush(w, 1);
	s->n = 0;
	ipfix_writer__add_templates(w, &tp, 1, 1);
	ipfix_writer__add_record(w, &t, &r, 1);
	ipfix_writer__add_record(w, &t, &r, 1);
	ipfix_writer__flush(w, 1);
	len = s->len[0];
	memcpy(out, s->msg[0], len);
	ipfix_writer__free(w);
	free(s);
	return len;
}

static void expect_bad(uint8_t *msg, size_t len, const char *what)
{
	struct ipfix_decoder *d = ipfix_decoder__new();
	char err[256] = "";

	assert_int_equal(ipfix_decoder__parse(d, NULL, 0, msg, len, NULL, NULL,
					      NULL, err, sizeof(err)),
			 -EINVAL);
	if (!strstr(err, what))
		fail_msg("error '%s' does not mention '%s'", err, what);
	ipfix_decoder__free(d);
}

static void test_malformed(void **state)
{
	uint8_t msg[2048], bad[2048];
	size_t len = valid_message(msg, 0), i;
	struct ipfix_decoder *d;
	char err[256];
	int b;

	/* 16 header + 4 + 12 template set + 4 + 2 * 12 data set */
	assert_int_equal(len, 60);
	/* truncated at every offset: rejected */
	for (i = 0; i < len; i++) {
		memcpy(bad, msg, len);
		d = ipfix_decoder__new();
		assert_int_equal(ipfix_decoder__parse(d, NULL, 0, bad, i, NULL,
						      NULL, NULL, err,
						      sizeof(err)),
				 -EINVAL);
		/* ... and with the header length fixed up to match */
		if (i >= 4) {
			bad[2] = i >> 8;
			bad[3] = i;
			ipfix_decoder__parse(d, NULL, 0, bad, i, NULL, NULL,
					     NULL, err, sizeof(err));
		}
		ipfix_decoder__free(d);
	}
	/* every byte corrupted in turn: no crash (ASan/valgrind check it) */
	for (i = 0; i < len; i++) {
		for (b = 0; b < 8; b++) {
			memcpy(bad, msg, len);
			bad[i] ^= 1 << b;
			d = ipfix_decoder__new();
			ipfix_decoder__parse(d, NULL, 0, bad, len, NULL, NULL,
					     NULL, err, sizeof(err));
			ipfix_decoder__free(d);
		}
	}

	memcpy(bad, msg, len);
	bad[1] = 9;
	expect_bad(bad, len, "version 9");
	memcpy(bad, msg, len);
	bad[3]++;
	expect_bad(bad, len, "header says");
	memcpy(bad, msg, len);
	bad[16 + 3] = 0; /* template set length 0 */
	expect_bad(bad, len, "less than 4");
	memcpy(bad, msg, len);
	bad[16 + 2] = 1; /* template set length 268 */
	expect_bad(bad, len, "overruns the message");
	memcpy(bad, msg, len);
	bad[16 + 1] = 1; /* set id 1 */
	expect_bad(bad, len, "reserved set id");
	memcpy(bad, msg, len);
	bad[16 + 6] = 0x02; /* 512 + 2 fields */
	expect_bad(bad, len, "more than 512");
	memcpy(bad, msg, len);
	bad[16 + 7] = 3; /* 3 fields in a set holding 2 */
	expect_bad(bad, len, "truncated");
	memcpy(bad, msg, len);
	bad[16 + 4] = 0; /* template id 1 */
	expect_bad(bad, len, "below 256");
	memcpy(bad, msg, len);
	bad[16 + 10] = bad[16 + 11] = 0; /* field length 0 */
	expect_bad(bad, len, "length 0");
	/* stray octets after the last set */
	memcpy(bad, msg, len);
	bad[len] = bad[len + 1] = 0;
	bad[3] = len + 2;
	expect_bad(bad, len + 2, "stray");
	/* a variable-length field overrunning its set */
	{
		struct mb *m = calloc(1, sizeof(*m));
		size_t s;

		mb_header(m, 0, 1);
		s = mb_set(m, 2);
		mb_u16(m, 300);
		mb_u16(m, 1);
		mb_u16(m, 82);
		mb_u16(m, 65535);
		mb_set_end(m, s);
		s = mb_set(m, 300);
		mb_u8(m, 5);
		mb_bytes(m, "ab", 2);
		mb_set_end(m, s);
		mb_end(m);
		expect_bad(m->b, m->len, "overruns the set");
		m->b[m->len - 3] = 255; /* 3-octet length cut short */
		expect_bad(m->b, m->len, "overruns the set");
		free(m);
	}
	/* the decoder still works after all that */
	d = ipfix_decoder__new();
	assert_int_equal(ipfix_decoder__parse(d, NULL, 0, msg, len, NULL, NULL,
					      NULL, err, sizeof(err)),
			 0);
	{
		struct ipfix_decoder_stats st;

		ipfix_decoder__stats(d, &st);
		assert_int_equal(st.records, 2);
		assert_int_equal(st.templates, 1);
		assert_int_equal(st.malformed, 0);
	}
	ipfix_decoder__free(d);
}

static void test_unknown_and_withdrawn(void **state)
{
	struct ipfix_decoder *d = ipfix_decoder__new();
	struct got *g = calloc(1, sizeof(*g));
	struct ipfix_dec_msg info;
	uint8_t msg[2048], data[2048];
	size_t len = valid_message(msg, 0), dlen;
	struct mb *m = calloc(1, sizeof(*m));
	char err[256];
	size_t s;

	/* the data set alone (template 256 unknown): skipped and counted */
	memcpy(data, msg, 16);
	memcpy(data + 16, msg + 32, len - 32);
	dlen = 16 + len - 32;
	data[2] = dlen >> 8;
	data[3] = dlen;
	assert_int_equal(ipfix_decoder__parse(d, "A", 1, data, dlen, got_record,
					      g, &info, err, sizeof(err)),
			 0);
	assert_int_equal(g->records, 0);
	assert_int_equal(info.unknown_sets, 1);
	assert_int_equal(info.unknown_template, 256);
	/* templates are per source: B's template does not serve A */
	assert_int_equal(ipfix_decoder__parse(d, "B", 1, msg, len, got_record,
					      g, &info, err, sizeof(err)),
			 0);
	assert_int_equal(g->records, 2);
	assert_int_equal(ipfix_decoder__parse(d, "A", 1, data, dlen, got_record,
					      g, &info, err, sizeof(err)),
			 0);
	assert_int_equal(info.unknown_sets, 1);
	assert_int_equal(g->records, 2);
	/* once known, decoded */
	assert_int_equal(ipfix_decoder__parse(d, "A", 1, msg, len, got_record,
					      g, &info, err, sizeof(err)),
			 0);
	assert_int_equal(g->records, 4);
	assert_int_equal(ipfix_decoder__parse(d, "A", 1, data, dlen, got_record,
					      g, &info, err, sizeof(err)),
			 0);
	assert_int_equal(g->records, 6);
	/* withdrawal (field count 0): unknown again */
	mb_header(m, 0, 1);
	s = mb_set(m, 2);
	mb_u16(m, 256);
	mb_u16(m, 0);
	mb_set_end(m, s);
	mb_end(m);
	assert_int_equal(ipfix_decoder__parse(d, "A", 1, m->b, m->len,
					      got_record, g, &info, err,
					      sizeof(err)),
			 0);
	assert_int_equal(info.withdrawals, 1);
	assert_int_equal(ipfix_decoder__parse(d, "A", 1, data, dlen, got_record,
					      g, &info, err, sizeof(err)),
			 0);
	assert_int_equal(info.unknown_sets, 1);
	assert_int_equal(g->records, 6);
	/* withdraw-all (template id 2) removes B's too */
	m->b[20] = 0;
	m->b[21] = 2;
	assert_int_equal(ipfix_decoder__parse(d, "B", 1, m->b, m->len,
					      got_record, g, &info, err,
					      sizeof(err)),
			 0);
	assert_int_equal(ipfix_decoder__parse(d, "B", 1, data, dlen, got_record,
					      g, &info, err, sizeof(err)),
			 0);
	assert_int_equal(info.unknown_sets, 1);
	ipfix_decoder__free(d);
	free(g);
	free(m);
}

static void test_template_redefined(void **state)
{
	struct ipfix_decoder *d = ipfix_decoder__new();
	struct got *g = calloc(1, sizeof(*g));
	struct mb *m = calloc(1, sizeof(*m));
	struct ipfix_dec_msg info;
	char err[256];
	size_t s;
	uint64_t u;

	/* the same id twice in one set, then again in the next message: the
	 * latest definition wins
	 */
	mb_header(m, 0, 1);
	s = mb_set(m, 2);
	mb_u16(m, 256);
	mb_u16(m, 1);
	mb_u16(m, 1);
	mb_u16(m, 8);
	mb_u16(m, 256);
	mb_u16(m, 1);
	mb_u16(m, 2);
	mb_u16(m, 8);
	mb_set_end(m, s);
	mb_end(m);
	assert_int_equal(ipfix_decoder__parse(d, NULL, 0, m->b, m->len, NULL,
					      NULL, &info, err, sizeof(err)),
			 0);
	assert_int_equal(info.templates, 2);
	mb_header(m, 0, 1);
	s = mb_set(m, 2);
	mb_u16(m, 256);
	mb_u16(m, 1);
	mb_u16(m, 2);
	mb_u16(m, 4);
	mb_set_end(m, s);
	s = mb_set(m, 256);
	mb_u32(m, 42);
	mb_set_end(m, s);
	mb_end(m);
	assert_int_equal(ipfix_decoder__parse(d, NULL, 0, m->b, m->len,
					      got_record, g, &info, err,
					      sizeof(err)),
			 0);
	assert_int_equal(g->records, 1);
	assert_true(ipfix_dec_uint(ipfix_dec_find(&g->last, 2, 0), &u));
	assert_int_equal(u, 42);
	assert_string_equal(g->json, "{\"domain\":1,\"template\":256,"
				     "\"export_time\":1700000000,"
				     "\"packetDeltaCount\":42}");
	ipfix_decoder__free(d);
	free(g);
	free(m);
}

static void test_sequence_gap(void **state)
{
	static const uint16_t ies[] = { 1, 8 };
	struct ipfix_decoder *d = ipfix_decoder__new();
	struct sink *s = calloc(1, sizeof(*s));
	struct ipfix_decoder_stats st;
	struct ipfix_template t;
	const struct ipfix_template *tp = &t;
	struct ipfix_dec_msg info;
	struct ipfix_writer *w;
	struct fe_record r;
	char err[256];
	int i;

	assert_int_equal(ipfix_template_build(&t, 256, 4, false, ies, 2, err,
					      sizeof(err)),
			 0);
	fill_record(&r, 4);
	w = ipfix_writer__new(1, 0, sink_send, s);
	ipfix_writer__add_templates(w, &tp, 1, 1);
	for (i = 0; i < 3; i++) { /* messages of 1, 2, 3 records */
		int k;

		for (k = 0; k <= i; k++)
			ipfix_writer__add_record(w, &t, &r, 1);
		ipfix_writer__flush(w, 1);
	}
	assert_int_equal(s->n, 3);
	assert_int_equal(ipfix_decoder__parse(d, NULL, 0, s->msg[0], s->len[0],
					      NULL, NULL, &info, err,
					      sizeof(err)),
			 0);
	assert_false(info.seq_gap);
	/* message 1 (2 records) lost */
	assert_int_equal(ipfix_decoder__parse(d, NULL, 0, s->msg[2], s->len[2],
					      NULL, NULL, &info, err,
					      sizeof(err)),
			 0);
	assert_true(info.seq_gap);
	assert_int_equal(info.seq, 3);
	assert_int_equal(info.seq_expected, 1);
	ipfix_decoder__stats(d, &st);
	assert_int_equal(st.seq_gaps, 1);
	assert_int_equal(st.seq_lost, 2);
	ipfix_writer__free(w);
	ipfix_decoder__free(d);
	free(s);
}

static void test_names(void **state)
{
	char b[64];

	assert_string_equal(ipfix_ie_name(1, 0, b, sizeof(b)),
			    "octetDeltaCount");
	assert_string_equal(ipfix_ie_name(1, 29305, b, sizeof(b)),
			    "reverseOctetDeltaCount");
	assert_string_equal(ipfix_ie_name(152, 29305, b, sizeof(b)),
			    "reverseFlowStartMilliseconds");
	assert_string_equal(ipfix_ie_name(9999, 0, b, sizeof(b)), "ie9999");
	assert_string_equal(ipfix_ie_name(5, 9, b, sizeof(b)), "ie9.5");
}

static void test_format_nospace(void **state)
{
	struct ipfix_dec_record *r = calloc(1, sizeof(*r));
	char buf[20];

	r->domain = 1;
	r->template_id = 256;
	assert_int_equal(ipfix_format_json(r, buf, sizeof(buf)), -ENOSPC);
	assert_true(strlen(buf) < sizeof(buf));
	assert_int_equal(ipfix_format_text(r, buf, 0), -ENOSPC);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_v4),
		cmocka_unit_test(test_roundtrip_v6),
		cmocka_unit_test(test_varlen),
		cmocka_unit_test(test_string_escape),
		cmocka_unit_test(test_options_template),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_unknown_and_withdrawn),
		cmocka_unit_test(test_template_redefined),
		cmocka_unit_test(test_sequence_gap),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_format_nospace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
