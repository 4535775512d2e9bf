/* test_ipfix.c - unit tests of the IPFIX encoder: byte-exact headers, sets
 * and template records, reverse fields, MTU splitting, sequence numbers,
 * family variants and biflow ordering.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "endpoint.h"
#include "ie.h"
#include "ipfix.h"

#define MAX_MSGS 256

/* Messages the writer sent, copied; fail makes the callback refuse. */
struct sink {
	int n;
	size_t len[MAX_MSGS];
	uint8_t msg[MAX_MSGS][65536];
	int fail;
};

static int sink_send(void *ctx, const void *msg, size_t len)
{
	struct sink *s = ctx;

	if (s->fail)
		return -s->fail;
	assert_true(s->n < MAX_MSGS);
	memcpy(s->msg[s->n], msg, len);
	s->len[s->n++] = len;
	return 0;
}

static struct sink *sink_new(void)
{
	struct sink *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	return s;
}

static uint16_t g16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

static uint32_t g32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static uint64_t g64(const uint8_t *p)
{
	return (uint64_t)g32(p) << 32 | g32(p + 4);
}

static void small_template(struct ipfix_template *t)
{
	memset(t, 0, sizeof(*t));
	t->id = 300;
	t->family = 4;
	assert_int_equal(ipfix_template_add_field(t, 1, 8, 0), 0);
	assert_int_equal(ipfix_template_add_field(t, 8, 4, 0), 0);
	assert_int_equal(ipfix_template_add_field(t, 4, 1, 0), 0);
	assert_int_equal(t->rec_len, 13);
}

static void small_record(struct fe_record *r)
{
	memset(r, 0, sizeof(*r));
	r->family = 4;
	r->proto = 17;
	r->src[0] = 10;
	r->src[1] = 1;
	r->src[2] = 2;
	r->src[3] = 3;
	r->fwd.octets = 0x0102030405060708ULL;
	r->fwd.packets = 3;
}

static void test_template_set_bytes(void **state)
{
	static const uint8_t expect[] = {
		0x00, 0x0a, 0x00, 0x24, /* version 10, length 36 */
		0x5f, 0x00, 0x00, 0x01, /* export time */
		0x00, 0x00, 0x00, 0x00, /* sequence 0 */
		0x00, 0x00, 0x00, 0x07, /* domain 7 */
		0x00, 0x02, 0x00, 0x14, /* template set, 20 octets */
		0x01, 0x2c, 0x00, 0x03, /* template 300, 3 fields */
		0x00, 0x01, 0x00, 0x08, /* octetDeltaCount 8 */
		0x00, 0x08, 0x00, 0x04, /* sourceIPv4Address 4 */
		0x00, 0x04, 0x00, 0x01, /* protocolIdentifier 1 */
	};
	struct sink *s = sink_new();
	struct ipfix_template t;
	const struct ipfix_template *tp = &t;
	struct ipfix_writer *w;

	small_template(&t);
	w = ipfix_writer__new(7, 0, sink_send, s);
	assert_non_null(w);
	assert_int_equal(ipfix_writer__add_templates(w, &tp, 1, 0x5f000001), 0);
	assert_int_equal(ipfix_writer__flush(w, 0x5f000001), 0);
	assert_int_equal(s->n, 1);
	assert_int_equal(s->len[0], sizeof(expect));
	assert_memory_equal(s->msg[0], expect, sizeof(expect));
	/* nothing pending: flush sends nothing (never an empty message) */
	assert_int_equal(ipfix_writer__flush(w, 0x5f000002), 0);
	assert_int_equal(s->n, 1);
	assert_int_equal(ipfix_writer__seq(w), 0);
	ipfix_writer__free(w);
	free(s);
}

static void test_reverse_field_bytes(void **state)
{
	static const uint8_t expect[] = {
		0x00, 0x02, 0x00, 0x18, /* template set, 24 octets */
		0x04, 0x00, 0x00, 0x03, /* template 1024, 3 fields */
		0x80, 0x01, 0x00, 0x08, /* reverse octetDeltaCount */
		0x00, 0x00, 0x72, 0x79, /* PEN 29305 */
		0x00, 0x01, 0x00, 0x08, /* octetDeltaCount */
		0x00, 0xef, 0x00, 0x01, /* biflowDirection */
	};
	static const uint16_t ies[] = { 1 };
	struct sink *s = sink_new();
	struct ipfix_template t;
	const struct ipfix_template *tp = &t;
	struct ipfix_writer *w;
	char err[128];

	assert_int_equal(ipfix_template_build(&t, 1024, 4, true, ies, 1, err,
					      sizeof(err)),
			 0);
	w = ipfix_writer__new(1, 0, sink_send, s);
	assert_non_null(w);
	ipfix_writer__add_templates(w, &tp, 1, 1);
	ipfix_writer__flush(w, 1);
	assert_int_equal(s->n, 1);
	assert_int_equal(s->len[0], 16 + sizeof(expect));
	assert_int_equal(g16(s->msg[0] + 2), 16 + sizeof(expect));
	assert_memory_equal(s->msg[0] + 16, expect, sizeof(expect));
	ipfix_writer__free(w);
	free(s);
}

static void test_data_set_bytes(void **state)
{
	static const uint8_t expect_set[] = {
		0x01, 0x2c, 0x00, 0x11, /* data set 300, 17 octets: no pad */
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
		0x08, 0x0a, 0x01, 0x02, 0x03, 0x11,
	};
	struct sink *s = sink_new();
	struct ipfix_template t;
	struct fe_record r;
	struct ipfix_writer *w;

	small_template(&t);
	small_record(&r);
	w = ipfix_writer__new(7, 0, sink_send, s);
	assert_int_equal(ipfix_writer__add_record(w, &t, &r, 5), 0);
	assert_int_equal(ipfix_writer__pending(w), 16 + 4 + 13);
	assert_int_equal(ipfix_writer__flush(w, 5), 0);
	assert_int_equal(s->n, 1);
	assert_int_equal(s->len[0], 33);
	assert_int_equal(g16(s->msg[0] + 2), 33);
	assert_memory_equal(s->msg[0] + 16, expect_set, sizeof(expect_set));
	assert_int_equal(ipfix_writer__seq(w), 1);
	/* the next message carries the records sent before it */
	ipfix_writer__add_record(w, &t, &r, 6);
	ipfix_writer__add_record(w, &t, &r, 6);
	ipfix_writer__flush(w, 6);
	assert_int_equal(g32(s->msg[1] + 8), 1);
	assert_int_equal(g16(s->msg[1] + 18), 4 + 2 * 13);
	assert_int_equal(ipfix_writer__seq(w), 3);
	ipfix_writer__free(w);
	free(s);
}

/* Walks every message: sets within bounds, none empty, data sets whole
 * records; returns the data records seen and checks sequence numbers.
 */
static unsigned walk_messages(struct sink *s, uint16_t mtu, uint16_t rec_len,
			      bool templates_first)
{
	unsigned records = 0;
	int i;

	for (i = 0; i < s->n; i++) {
		const uint8_t *m = s->msg[i];
		size_t off = 16;
		bool seen_data = false;

		assert_true(s->len[i] <= mtu);
		assert_int_equal(g16(m), 10);
		assert_int_equal(g16(m + 2), s->len[i]);
		assert_int_equal(g32(m + 8), records);
		while (off < s->len[i]) {
			uint16_t sid = g16(m + off), slen = g16(m + off + 2);

			assert_true(slen > 4);
			assert_true(off + slen <= s->len[i]);
			if (sid == 2) {
				if (templates_first)
					assert_false(seen_data);
			} else {
				seen_data = true;
				assert_int_equal((slen - 4) % rec_len, 0);
				records += (slen - 4) / rec_len;
			}
			off += slen;
		}
		assert_int_equal(off, s->len[i]);
	}
	return records;
}

static void test_mtu_split(void **state)
{
	struct sink *s = sink_new();
	struct ipfix_writer_stats st;
	struct ipfix_template t;
	const struct ipfix_template *tp = &t;
	struct ipfix_writer *w;
	struct fe_record r;
	const uint16_t *ies;
	char err[128];
	int n, i;

	ies = ipfix_default_fields(&n);
	assert_int_equal(ipfix_template_build(&t, 1024, 4, true, ies, n, err,
					      sizeof(err)),
			 0);
	small_record(&r);
	w = ipfix_writer__new(3, 600, sink_send, s);
	assert_non_null(w);
	ipfix_writer__add_templates(w, &tp, 1, 9);
	for (i = 0; i < 1000; i++) {
		r.fwd.packets = i;
		assert_int_equal(ipfix_writer__add_record(w, &t, &r, 9), 0);
	}
	ipfix_writer__flush(w, 9);
	assert_true(s->n > 1000 * t.rec_len / 600);
	assert_int_equal(walk_messages(s, 600, t.rec_len, true), 1000);
	/* the first message opens with the template set */
	assert_int_equal(g16(s->msg[0] + 16), 2);
	ipfix_writer__stats(w, &st);
	assert_int_equal(st.records, 1000);
	assert_int_equal(st.messages, s->n);
	assert_int_equal(st.templates, 1);
	assert_int_equal(ipfix_writer__seq(w), 1000);
	ipfix_writer__free(w);
	free(s);
}

static void test_templates_between_data(void **state)
{
	struct sink *s = sink_new();
	struct ipfix_template t4, t6;
	const struct ipfix_template *tp[2] = { &t4, &t6 };
	struct ipfix_writer *w;
	struct fe_record r4, r6;
	const uint16_t *ies;
	char err[128];
	int n, i;

	ies = ipfix_default_fields(&n);
	assert_int_equal(ipfix_template_build(&t4, 1024, 4, false, ies, n, err,
					      sizeof(err)),
			 0);
	assert_int_equal(ipfix_template_build(&t6, 1025, 6, false, ies, n, err,
					      sizeof(err)),
			 0);
	small_record(&r4);
	r6 = r4;
	r6.family = 6;
	w = ipfix_writer__new(1, 0, sink_send, s);
	ipfix_writer__add_templates(w, tp, 2, 1);
	/* alternate families: a new data set each time the template changes */
	for (i = 0; i < 6; i++)
		ipfix_writer__add_record(w, i & 1 ? &t6 : &t4,
					 i & 1 ? &r6 : &r4, 1);
	ipfix_writer__flush(w, 1);
	assert_int_equal(s->n, 1);
	{
		const uint8_t *m = s->msg[0];
		size_t off = 16;
		int sets = 0;

		assert_int_equal(g16(m + off), 2);
		/* both template records share one template set */
		assert_int_equal(g16(m + off + 4), 1024);
		off += g16(m + off + 2);
		while (off < s->len[0]) {
			uint16_t sid = g16(m + off), slen = g16(m + off + 2);

			assert_int_equal(sid, sets & 1 ? 1025 : 1024);
			assert_int_equal(
				slen, 4 + (sets & 1 ? t6.rec_len : t4.rec_len));
			off += slen;
			sets++;
		}
		assert_int_equal(sets, 6);
	}
	ipfix_writer__free(w);
	free(s);
}

static bool has_field(const struct ipfix_template *t, uint16_t id, uint32_t pen)
{
	int i;

	for (i = 0; i < t->nfields; i++)
		if (t->f[i].id == id && t->f[i].pen == pen)
			return true;
	return false;
}

static void test_family_variants(void **state)
{
	static const uint16_t ies[] = { 8, 12, 31, 32, 1, 27, 178 };
	struct ipfix_template t;
	char err[128];

	assert_int_equal(ipfix_template_build(&t, 1024, 6, false, ies, 7, err,
					      sizeof(err)),
			 0);
	assert_int_equal(t.nfields, 6);
	assert_int_equal(t.f[0].id, 27);
	assert_int_equal(t.f[0].len, 16);
	assert_int_equal(t.f[1].id, 28);
	assert_int_equal(t.f[2].id, 31);
	assert_int_equal(t.f[3].id, 139);
	assert_int_equal(t.f[4].id, 1);
	assert_int_equal(t.f[5].id, 178);
	assert_int_equal(t.rec_len, 16 + 16 + 4 + 2 + 8 + 1);
	assert_int_equal(t.family, 6);

	assert_int_equal(ipfix_template_build(&t, 1024, 4, false, ies, 7, err,
					      sizeof(err)),
			 0);
	/* flowLabelIPv6 dropped, 27 merges into 8, 178 becomes 176 */
	assert_int_equal(t.nfields, 5);
	assert_int_equal(t.f[0].id, 8);
	assert_int_equal(t.f[0].len, 4);
	assert_int_equal(t.f[1].id, 12);
	assert_int_equal(t.f[2].id, 32);
	assert_int_equal(t.f[3].id, 1);
	assert_int_equal(t.f[4].id, 176);
	assert_false(has_field(&t, 31, 0));
	assert_int_equal(t.rec_len, 4 + 4 + 2 + 8 + 1);
}

static void test_biflow_order(void **state)
{
	const uint16_t *ies;
	struct ipfix_template t;
	char err[128];
	int n, i, bdir = 0;

	ies = ipfix_default_fields(&n);
	assert_int_equal(ipfix_template_build(&t, 1024, 4, true, ies, n, err,
					      sizeof(err)),
			 0);
	for (i = 0; i < t.nfields; i++) {
		const struct ie_def *d = ie_by_id(t.f[i].id);

		assert_non_null(d);
		if (t.f[i].pen) {
			assert_int_equal(t.f[i].pen, IPFIX_PEN_REVERSE);
			assert_true(d->reversible);
			/* reverse twin right before its forward twin */
			assert_true(i + 1 < t.nfields);
			assert_int_equal(t.f[i + 1].id, t.f[i].id);
			assert_int_equal(t.f[i + 1].pen, 0);
		} else if (d->reversible) {
			assert_true(i > 0);
			assert_int_equal(t.f[i - 1].id, t.f[i].id);
			assert_int_equal(t.f[i - 1].pen, IPFIX_PEN_REVERSE);
		}
		if (t.f[i].id == 239)
			bdir++;
	}
	assert_int_equal(bdir, 1);
	assert_int_equal(t.f[t.nfields - 1].id, 239);
	/* not reversible: addresses, ports, protocol */
	assert_false(has_field(&t, 8, IPFIX_PEN_REVERSE));
	assert_false(has_field(&t, 7, IPFIX_PEN_REVERSE));
	assert_false(has_field(&t, 4, IPFIX_PEN_REVERSE));
	/* interfaces: reversed on purpose (asymmetric return paths) */
	assert_true(has_field(&t, 10, IPFIX_PEN_REVERSE));
	assert_true(has_field(&t, 14, IPFIX_PEN_REVERSE));
	assert_false(has_field(&t, 136, IPFIX_PEN_REVERSE));
	assert_true(has_field(&t, 1, IPFIX_PEN_REVERSE));
	assert_true(has_field(&t, 152, IPFIX_PEN_REVERSE));
	assert_true(has_field(&t, 6, IPFIX_PEN_REVERSE));

	/* uniflow: no reverse fields, no biflowDirection added */
	assert_int_equal(ipfix_template_build(&t, 1024, 4, false, ies, n, err,
					      sizeof(err)),
			 0);
	assert_int_equal(t.nfields, n);
	assert_false(has_field(&t, 239, 0));
}

static void test_tcp_flags_one_octet(void **state)
{
	static const uint16_t ies[] = { 6 };
	struct ipfix_template t;
	struct fe_record r;
	uint8_t buf[8];
	char err[128];

	assert_int_equal(ie_by_name("tcpControlBits")->len, 1);
	assert_int_equal(ipfix_template_build(&t, 1024, 4, true, ies, 1, err,
					      sizeof(err)),
			 0);
	assert_int_equal(t.f[0].len, 1);
	assert_int_equal(t.f[1].len, 1);
	small_record(&r);
	r.fwd.tcp_flags = 0x112; /* NS + SYN/ACK: reduced size keeps 0x12 */
	r.rev.tcp_flags = 0x11;
	ipfix_encode_field(buf, &t.f[1], &r, 0);
	assert_int_equal(buf[0], 0x12);
	ipfix_encode_field(buf, &t.f[0], &r, 0);
	assert_int_equal(buf[0], 0x11);
	/* a hand-made 2-octet field carries all 9 bits */
	{
		struct ipfix_field f = { .id = 6, .len = 2 };

		ipfix_encode_field(buf, &f, &r, 0);
		assert_int_equal(g16(buf), 0x112);
	}
}

static void test_field_values(void **state)
{
	struct fe_record r;
	struct ipfix_field f = { 0 };
	uint8_t b[16];
	uint64_t sec = 1700000000ULL + 2208988800ULL;

	small_record(&r);
	r.fwd.start_ms = 1700000000123ULL;
	r.fwd.end_ms = 1700000001500ULL;
	r.rev.octets = 99;
	r.fwd.icmp_type_code = 0x0303;
	r.fwd.tos = 0xb8;
	r.fwd.flow_dir = 1;
	r.fwd.in_if = 7;
	r.fwd.out_if = 9;

#define ENC(i, l, p)                               \
	do {                                       \
		f.id = i;                          \
		f.len = l;                         \
		f.pen = p;                         \
		ipfix_encode_field(b, &f, &r, 42); \
	} while (0)
	ENC(150, 4, 0);
	assert_int_equal(g32(b), 1700000000);
	ENC(152, 8, 0);
	assert_int_equal(g64(b), 1700000000123ULL);
	ENC(153, 8, 0);
	assert_int_equal(g64(b), 1700000001500ULL);
	ENC(154, 8, 0);
	assert_int_equal(g32(b), sec);
	assert_int_equal(g32(b + 4), ((123ULL << 32) / 1000) & ~0x7ffULL);
	ENC(156, 8, 0);
	assert_int_equal(g32(b + 4), (123ULL << 32) / 1000);
	ENC(161, 4, 0);
	assert_int_equal(g32(b), 1377);
	ENC(1, 8, IPFIX_PEN_REVERSE);
	assert_int_equal(g64(b), 99);
	ENC(176, 1, 0);
	assert_int_equal(b[0], 3);
	ENC(177, 1, 0);
	assert_int_equal(b[0], 3);
	ENC(195, 1, 0);
	assert_int_equal(b[0], 0x2e);
	ENC(60, 1, 0);
	assert_int_equal(b[0], 4);
	ENC(61, 1, 0);
	assert_int_equal(b[0], 1);
	ENC(10, 4, 0);
	assert_int_equal(g32(b), 7);
	ENC(14, 4, 0);
	assert_int_equal(g32(b), 9);
	ENC(149, 4, 0);
	assert_int_equal(g32(b), 42);
	ENC(8, 4, 0);
	assert_int_equal(g32(b), 0x0a010203);
	/* the NAT's tuple and the drops */
	r.nat = true;
	r.nat_src[0] = 192, r.nat_src[3] = 1;
	r.nat_dst[0] = 10, r.nat_dst[3] = 9;
	r.nat_sport = 61000;
	r.nat_dport = 443;
	r.fwd.dropped_packets = 6;
	r.fwd.dropped_octets = 600;
	r.rev.dropped_packets = 2;
	ENC(225, 4, 0);
	assert_int_equal(g32(b), 0xc0000001);
	ENC(226, 4, 0);
	assert_int_equal(g32(b), 0x0a000009);
	ENC(227, 2, 0);
	assert_int_equal(b[0] << 8 | b[1], 61000);
	ENC(228, 2, 0);
	assert_int_equal(b[0] << 8 | b[1], 443);
	ENC(281, 16, 0);
	assert_int_equal(b[0], 192);
	assert_int_equal(b[15], 0);
	ENC(133, 8, 0);
	assert_int_equal(g64(b), 6);
	ENC(132, 8, 0);
	assert_int_equal(g64(b), 600);
	ENC(133, 8, IPFIX_PEN_REVERSE);
	assert_int_equal(g64(b), 2);
#undef ENC
}

static void test_send_failure(void **state)
{
	struct sink *s = sink_new();
	struct ipfix_writer_stats st;
	struct ipfix_template t;
	struct ipfix_writer *w;
	struct fe_record r;

	small_template(&t);
	small_record(&r);
	w = ipfix_writer__new(1, 0, sink_send, s);
	ipfix_writer__add_record(w, &t, &r, 1);
	ipfix_writer__add_record(w, &t, &r, 1);
	s->fail = ECONNREFUSED;
	assert_int_equal(ipfix_writer__flush(w, 1), -ECONNREFUSED);
	ipfix_writer__stats(w, &st);
	assert_int_equal(st.send_errors, 1);
	assert_int_equal(st.not_sent, 2);
	assert_int_equal(st.records, 0);
	/* records that never left do not advance the sequence number */
	assert_int_equal(ipfix_writer__seq(w), 0);
	assert_int_equal(ipfix_writer__pending(w), 0);
	s->fail = 0;
	ipfix_writer__add_record(w, &t, &r, 2);
	assert_int_equal(ipfix_writer__flush(w, 2), 0);
	assert_int_equal(g32(s->msg[0] + 8), 0);
	assert_int_equal(ipfix_writer__seq(w), 1);
	ipfix_writer__free(w);
	free(s);
}

static void test_build_errors(void **state)
{
	uint16_t ies[IPFIX_MAX_FIELDS + 8];
	struct ipfix_template t;
	char err[128];
	int i;

	ies[0] = 9999;
	assert_int_equal(ipfix_template_build(&t, 1024, 4, false, ies, 1, err,
					      sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "9999"));
	ies[0] = 85; /* octetTotalCount: not something flowexp fills */
	assert_int_equal(ipfix_template_build(&t, 1024, 4, false, ies, 1, err,
					      sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "octetTotalCount"));
	ies[0] = 1;
	assert_int_equal(ipfix_template_build(&t, 255, 4, false, ies, 1, err,
					      sizeof(err)),
			 -EINVAL);
	ies[0] = 31; /* only flowLabelIPv6: nothing left for IPv4 */
	assert_int_equal(ipfix_template_build(&t, 1024, 4, false, ies, 1, err,
					      sizeof(err)),
			 -EINVAL);
	assert_int_equal(ipfix_writer__new(1, 100, sink_send, NULL), NULL);
	assert_int_equal(errno, EINVAL);
	/* an over-long list is refused, not truncated */
	memset(&t, 0, sizeof(t));
	for (i = 0; i < IPFIX_MAX_FIELDS; i++)
		assert_int_equal(ipfix_template_add_field(&t, 1, 8, 0), 0);
	assert_int_equal(ipfix_template_add_field(&t, 1, 8, 0), -EINVAL);
	assert_int_equal(ipfix_template_add_field(&t, 1, IE_VARLEN, 0),
			 -EINVAL);
}

static void test_record_reverse(void **state)
{
	struct fe_record r, o;

	small_record(&r);
	r.dst[0] = 192;
	r.sport = 1000;
	r.dport = 53;
	r.has_rev = true;
	r.biflow_dir = 1;
	r.rev.octets = 5;
	ipfix_record_reverse(&o, &r);
	assert_int_equal(o.src[0], 192);
	assert_int_equal(o.dst[0], 10);
	assert_int_equal(o.sport, 53);
	assert_int_equal(o.dport, 1000);
	assert_int_equal(o.fwd.octets, 5);
	assert_false(o.has_rev);
	assert_int_equal(o.biflow_dir, 2);
	/* the translation turns round with the tuple */
	r.nat_src[0] = 1;
	r.nat_dst[0] = 2;
	r.nat_sport = 3;
	r.nat_dport = 4;
	ipfix_record_reverse(&o, &r);
	assert_int_equal(o.nat_src[0], 2);
	assert_int_equal(o.nat_dst[0], 1);
	assert_int_equal(o.nat_sport, 4);
	assert_int_equal(o.nat_dport, 3);
}

static void test_ie_registry(void **state)
{
	static const uint16_t must[] = {
		1,   2,	  4,   5,   6,	 7,   8,   10,	11,  12,  14,  15,  27,
		28,  29,  30,  31,  32,	 41,  42,  52,	53,  56,  58,  60,  61,
		80,  82,  85,  86,  136, 139, 148, 149, 150, 151, 152, 153, 154,
		155, 156, 157, 160, 164, 166, 176, 177, 178, 179, 239, 305,
	};
	const struct ie_def *d, *prev = NULL;
	size_t i;

	for (i = 0; i < sizeof(must) / sizeof(must[0]); i++)
		assert_non_null(ie_by_id(must[i]));
	for (i = 0; (d = ie_at(i)); i++) {
		if (prev)
			assert_true(prev->id < d->id);
		assert_ptr_equal(ie_by_name(d->name), d);
		prev = d;
	}
	assert_ptr_equal(ie_by_name("FlowEndMilliseconds"), ie_by_id(153));
	assert_ptr_equal(ie_by_name("OCTETDELTACOUNT"), ie_by_id(1));
	assert_null(ie_by_name("octetDeltaCounts"));
	assert_null(ie_by_id(0));
	assert_true(ie_by_id(1)->reversible && ie_by_id(1)->exportable);
	assert_false(ie_by_id(8)->reversible);
	assert_false(ie_by_id(239)->reversible);
	assert_false(ie_by_id(85)->exportable);
	assert_int_equal(ie_for_family(8, 6), 27);
	assert_int_equal(ie_for_family(139, 4), 32);
	assert_int_equal(ie_for_family(31, 4), 0);
	assert_int_equal(ie_for_family(1, 6), 1);
	/* what a router's NAT and its qdiscs make */
	assert_true(ie_by_id(225)->exportable && !ie_by_id(225)->reversible);
	assert_true(ie_by_id(228)->exportable);
	assert_true(ie_by_id(133)->exportable && ie_by_id(133)->reversible);
	assert_int_equal(ie_for_family(225, 6), 281);
	assert_int_equal(ie_for_family(282, 4), 226);
}

static void test_endpoint(void **state)
{
	struct sockaddr_storage ss;
	unsigned int len;
	char err[128], buf[80];

	assert_int_equal(endpoint_parse("127.0.0.1:2100", 4739,
					ENDPOINT_PORT_OPTIONAL, &ss, &len, err,
					sizeof(err)),
			 0);
	assert_string_equal(endpoint_format((void *)&ss, buf, sizeof(buf)),
			    "127.0.0.1:2100");
	assert_int_equal(endpoint_parse("[::1]:9", 4739, ENDPOINT_PORT_OPTIONAL,
					&ss, &len, err, sizeof(err)),
			 0);
	assert_string_equal(endpoint_format((void *)&ss, buf, sizeof(buf)),
			    "[::1]:9");
	assert_int_equal(endpoint_parse("10.0.0.1", 4739,
					ENDPOINT_PORT_OPTIONAL, &ss, &len, err,
					sizeof(err)),
			 0);
	assert_string_equal(endpoint_format((void *)&ss, buf, sizeof(buf)),
			    "10.0.0.1:4739");
	assert_int_equal(endpoint_parse("::1", 4739, ENDPOINT_PORT_OPTIONAL,
					&ss, &len, err, sizeof(err)),
			 0);
	assert_int_equal(endpoint_parse("10.0.0.1:99999", 4739,
					ENDPOINT_PORT_OPTIONAL, &ss, &len, err,
					sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "99999"));
	assert_int_equal(endpoint_parse("[::1", 4739, ENDPOINT_PORT_OPTIONAL,
					&ss, &len, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(endpoint_parse(":4739", 4739, ENDPOINT_PORT_OPTIONAL,
					&ss, &len, err, sizeof(err)),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_set_bytes),
		cmocka_unit_test(test_reverse_field_bytes),
		cmocka_unit_test(test_data_set_bytes),
		cmocka_unit_test(test_mtu_split),
		cmocka_unit_test(test_templates_between_data),
		cmocka_unit_test(test_family_variants),
		cmocka_unit_test(test_biflow_order),
		cmocka_unit_test(test_tcp_flags_one_octet),
		cmocka_unit_test(test_field_values),
		cmocka_unit_test(test_send_failure),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_record_reverse),
		cmocka_unit_test(test_ie_registry),
		cmocka_unit_test(test_endpoint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
