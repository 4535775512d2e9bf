/* test_records.c - unit tests of fe_conv_records(): biflow and uniflow,
 * merged and per link, exact sums, dominant paths, overflow and ICMP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "records.h"

static const uint8_t A4[16] = { 192, 0, 2, 1 };
static const uint8_t B4[16] = { 198, 51, 100, 2 };
static const uint8_t Z[16];

static struct fe_path mkpath(uint32_t in_if, uint32_t out_if, int64_t pk,
			     uint64_t total, uint64_t first, uint64_t last)
{
	struct fe_path p;

	memset(&p, 0, sizeof(p));
	p.in_if = in_if;
	p.out_if = out_if;
	p.flow_dir = out_if ? FE_DIR_EGRESS : FE_DIR_INGRESS;
	p.packets = pk;
	p.octets = pk * 1000;
	p.total_packets = total;
	p.total_octets = total * 1000;
	p.first_ms = first;
	p.last_ms = last;
	p.ttl_min = (uint8_t)(60 + in_if);
	p.ttl_max = 64;
	p.tcp_flags = (uint16_t)(0x10 | out_if);
	p.seen = true;
	return p;
}

/* A TCP conversation A:40000 <-> B:443 on VLAN 5:
 * dir 0: (1,2) 5 new (10 exported before), (1,3) 7 new, (1,0) -2;
 * dir 1: (4,1) 3 new.
 */
static struct fe_path p0[3], p1[1];

static void mkconv(struct fe_conv *c)
{
	memset(c, 0, sizeof(*c));
	c->family = 4;
	c->proto = 6;
	c->vlan = 5;
	memcpy(c->addr[0], A4, 16);
	memcpy(c->addr[1], B4, 16);
	c->port[0] = 40000;
	c->port[1] = 443;
	c->init_known = true;
	p0[0] = mkpath(1, 2, 5, 10, 1000, 5000);
	p0[1] = mkpath(1, 3, 7, 0, 2000, 6000);
	p0[2] = mkpath(1, 0, -2, 0, 0, 0);
	p0[2].octets = -2000;
	p0[2].seen = false;
	p1[0] = mkpath(4, 1, 3, 0, 1500, 5500);
	c->dir[0].paths = p0;
	c->dir[0].npaths = 3;
	c->dir[0].first_ms = 1000;
	c->dir[0].last_ms = 6000;
	c->dir[0].tcp_flags = 0x1b;
	c->dir[0].tos = 0x10;
	c->dir[0].ttl_min = 61;
	c->dir[0].ttl_max = 64;
	c->dir[0].seen = true;
	c->dir[1].paths = p1;
	c->dir[1].npaths = 1;
	c->dir[1].first_ms = 1500;
	c->dir[1].last_ms = 5500;
	c->dir[1].tcp_flags = 0x12;
	c->dir[1].ttl_min = 50;
	c->dir[1].ttl_max = 55;
	c->dir[1].seen = true;
	c->start_ms = 1000;
	c->last_ms = 6000;
}

static void test_biflow_merged(void **state)
{
	struct fe_record r[4];
	struct fe_conv c;

	mkconv(&c);
	assert_int_equal(fe_conv_records(&c, FE_REC_BIFLOW, false, 2, r, 4), 1);
	assert_true(r[0].has_rev);
	assert_int_equal(r[0].family, 4);
	assert_int_equal(r[0].proto, 6);
	assert_int_equal(r[0].vlan, 5);
	assert_int_equal(r[0].end_reason, 2);
	assert_int_equal(r[0].biflow_dir, 1);
	assert_memory_equal(r[0].src, A4, 16);
	assert_memory_equal(r[0].dst, B4, 16);
	assert_int_equal(r[0].sport, 40000);
	assert_int_equal(r[0].dport, 443);
	/* negative (1,0) is not exported */
	assert_int_equal(r[0].fwd.packets, 12);
	assert_int_equal(r[0].fwd.octets, 12000);
	assert_int_equal(r[0].fwd.start_ms, 1000);
	assert_int_equal(r[0].fwd.end_ms, 6000);
	/* dominant over the life: (1,2) 15 beats (1,3) 7 */
	assert_int_equal(r[0].fwd.in_if, 1);
	assert_int_equal(r[0].fwd.out_if, 2);
	assert_int_equal(r[0].fwd.flow_dir, FE_DIR_EGRESS);
	assert_int_equal(r[0].fwd.tcp_flags, 0x1b);
	assert_int_equal(r[0].fwd.tos, 0x10);
	assert_int_equal(r[0].fwd.ttl_min, 61);
	assert_int_equal(r[0].rev.packets, 3);
	assert_int_equal(r[0].rev.octets, 3000);
	assert_int_equal(r[0].rev.in_if, 4);
	assert_int_equal(r[0].rev.out_if, 1);
	assert_int_equal(r[0].rev.start_ms, 1500);
	assert_int_equal(r[0].rev.ttl_min, 50);
	/* initiator guessed: arbitrary */
	c.init_known = false;
	fe_conv_records(&c, FE_REC_BIFLOW, false, 2, r, 4);
	assert_int_equal(r[0].biflow_dir, 0);
}

static void test_biflow_one_way(void **state)
{
	struct fe_record r[2];
	struct fe_conv c;

	mkconv(&c);
	p1[0].packets = 0;
	p1[0].octets = 0;
	assert_int_equal(fe_conv_records(&c, FE_REC_BIFLOW, false, 1, r, 2), 1);
	assert_int_equal(r[0].fwd.packets, 12);
	assert_int_equal(r[0].rev.packets, 0);
	assert_int_equal(r[0].rev.octets, 0);
	assert_int_equal(r[0].rev.start_ms, 0);
	assert_int_equal(r[0].rev.in_if, 0);
	/* only the reverse direction has news */
	mkconv(&c);
	p0[0].packets = p0[1].packets = 0;
	p0[0].octets = p0[1].octets = 0;
	assert_int_equal(fe_conv_records(&c, FE_REC_BIFLOW, false, 1, r, 2), 1);
	assert_memory_equal(r[0].src, A4, 16);
	assert_int_equal(r[0].fwd.packets, 0);
	assert_int_equal(r[0].fwd.end_ms, 0);
	assert_int_equal(r[0].rev.packets, 3);
}

static void test_nothing_to_export(void **state)
{
	struct fe_record r[4];
	struct fe_conv c;
	int mode, split;

	mkconv(&c);
	p0[0].packets = p0[1].packets = p1[0].packets = 0;
	p0[0].octets = p0[1].octets = p1[0].octets = 0;
	for (mode = 0; mode < 2; mode++)
		for (split = 0; split < 2; split++)
			assert_int_equal(
				fe_conv_records(&c, mode, split, 1, r, 4), 0);
}

static void test_uniflow_merged(void **state)
{
	struct fe_record r[4];
	struct fe_conv c;

	mkconv(&c);
	assert_int_equal(fe_conv_records(&c, FE_REC_UNIFLOW, false, 4, r, 4),
			 2);
	assert_false(r[0].has_rev);
	assert_memory_equal(r[0].src, A4, 16);
	assert_memory_equal(r[0].dst, B4, 16);
	assert_int_equal(r[0].sport, 40000);
	assert_int_equal(r[0].dport, 443);
	assert_int_equal(r[0].fwd.packets, 12);
	assert_int_equal(r[0].fwd.out_if, 2);
	assert_int_equal(r[0].end_reason, 4);
	assert_int_equal(r[0].biflow_dir, 0);
	assert_memory_equal(r[1].src, B4, 16);
	assert_memory_equal(r[1].dst, A4, 16);
	assert_int_equal(r[1].sport, 443);
	assert_int_equal(r[1].dport, 40000);
	assert_int_equal(r[1].fwd.packets, 3);
	assert_int_equal(r[1].fwd.in_if, 4);
	assert_int_equal(r[1].rev.packets, 0);
}

static void test_uniflow_split(void **state)
{
	struct fe_record r[8];
	struct fe_conv c;
	uint64_t pk = 0, oc = 0;
	int i, n;

	mkconv(&c);
	n = fe_conv_records(&c, FE_REC_UNIFLOW, true, 1, r, 8);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		pk += r[i].fwd.packets;
		oc += r[i].fwd.octets;
		assert_false(r[i].has_rev);
	}
	assert_int_equal(pk, 15);
	assert_int_equal(oc, 15000);
	assert_int_equal(r[0].fwd.out_if, 2);
	assert_int_equal(r[0].fwd.packets, 5);
	assert_int_equal(r[0].fwd.start_ms, 1000);
	assert_int_equal(r[0].fwd.end_ms, 5000);
	assert_int_equal(r[0].fwd.tcp_flags, 0x12);
	assert_int_equal(r[1].fwd.out_if, 3);
	assert_int_equal(r[1].fwd.packets, 7);
	assert_int_equal(r[1].fwd.start_ms, 2000);
	assert_int_equal(r[1].fwd.ttl_min, 61);
	assert_memory_equal(r[2].src, B4, 16);
	assert_int_equal(r[2].sport, 443);
	assert_int_equal(r[2].fwd.in_if, 4);
	assert_int_equal(r[2].fwd.out_if, 1);
	assert_int_equal(r[2].fwd.packets, 3);
}

static void test_biflow_split(void **state)
{
	struct fe_record r[8];
	struct fe_conv c;
	uint64_t fwd = 0, rv = 0;
	int i, n;

	mkconv(&c);
	n = fe_conv_records(&c, FE_REC_BIFLOW, true, 1, r, 8);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		assert_true(r[i].has_rev);
		assert_memory_equal(r[i].src, A4, 16);
		assert_int_equal(r[i].sport, 40000);
		/* one side of each record is empty */
		assert_true(!r[i].fwd.packets || !r[i].rev.packets);
		fwd += r[i].fwd.packets;
		rv += r[i].rev.packets;
	}
	assert_int_equal(fwd, 12);
	assert_int_equal(rv, 3);
	assert_int_equal(r[2].rev.in_if, 4);
	assert_int_equal(r[2].fwd.in_if, 0);
}

static void test_truncated(void **state)
{
	struct fe_record r[2];
	struct fe_conv c;

	mkconv(&c);
	memset(r, 0xaa, sizeof(r));
	assert_int_equal(fe_conv_records(&c, FE_REC_UNIFLOW, true, 1, r, 1), 3);
	assert_int_equal(r[0].fwd.packets, 5);
	assert_int_equal(r[1].fwd.packets,
			 0xaaaaaaaaaaaaaaaaULL); /* untouched */
	assert_int_equal(fe_conv_records(&c, FE_REC_UNIFLOW, true, 1, NULL, 0),
			 3);
}

static void test_dominant_ties(void **state)
{
	struct fe_path p[4];
	struct fe_conv_dir d;

	memset(&d, 0, sizeof(d));
	assert_null(fe_conv_dominant_path(&d));
	p[0] = mkpath(3, 1, 4, 0, 1, 1);
	p[1] = mkpath(2, 9, 1, 3, 1, 1);
	p[2] = mkpath(2, 5, 4, 0, 1, 1);
	p[3] = mkpath(2, 7, -9, 4, 1, 1); /* 4 exported, negative now */
	d.paths = p;
	d.npaths = 4;
	/* all have 4 over their life: lowest in_if, then lowest out_if */
	assert_ptr_equal(fe_conv_dominant_path(&d), &p[2]);
	p[0].total_packets = 1;
	assert_ptr_equal(fe_conv_dominant_path(&d), &p[0]);
}

static void test_overflow_conv(void **state)
{
	struct fe_record r[2];
	struct fe_path p = mkpath(1, 2, 50, 0, 100, 200);
	struct fe_conv c;

	memset(&c, 0, sizeof(c));
	c.kflags = FE_KEY_OVERFLOW;
	c.family = 4;
	c.ovf_if = 2;
	c.ovf_in_if = 1;
	c.ovf_dir = FE_DIR_EGRESS;
	c.dir[0].paths = &p;
	c.dir[0].npaths = 1;
	c.dir[0].seen = true;
	assert_int_equal(fe_conv_records(&c, FE_REC_BIFLOW, false, 1, r, 2), 1);
	assert_false(r[0].has_rev);
	assert_memory_equal(r[0].src, Z, 16);
	assert_memory_equal(r[0].dst, Z, 16);
	assert_int_equal(r[0].proto, 0);
	assert_int_equal(r[0].family, 4);
	assert_int_equal(r[0].fwd.packets, 50);
	assert_int_equal(r[0].fwd.in_if, 1);
	assert_int_equal(r[0].fwd.out_if, 2);
	assert_int_equal(r[0].fwd.flow_dir, FE_DIR_EGRESS);
	assert_int_equal(r[0].fwd.start_ms, 100);
}

static void test_icmp_uniflow(void **state)
{
	struct fe_path q = mkpath(1, 2, 3, 0, 1, 2),
		       a = mkpath(2, 1, 3, 0, 1, 2);
	struct fe_record r[4];
	struct fe_conv c;

	memset(&c, 0, sizeof(c));
	c.family = 4;
	c.proto = 1;
	memcpy(c.addr[0], A4, 16);
	memcpy(c.addr[1], B4, 16);
	c.port[1] = 8 << 8;
	c.init_known = true;
	q.icmp_type_code = 8 << 8;
	a.icmp_type_code = 0;
	c.dir[0].paths = &q;
	c.dir[0].npaths = 1;
	c.dir[0].icmp_type_code = 8 << 8;
	c.dir[1].paths = &a;
	c.dir[1].npaths = 1;
	c.dir[1].icmp_type_code = 0;
	assert_int_equal(fe_conv_records(&c, FE_REC_UNIFLOW, false, 1, r, 4),
			 2);
	assert_int_equal(r[0].sport, 0);
	assert_int_equal(r[0].dport, 8 << 8);
	assert_int_equal(r[0].fwd.icmp_type_code, 8 << 8);
	assert_int_equal(r[1].sport, 0);
	assert_int_equal(r[1].dport, 0);
	assert_memory_equal(r[1].src, B4, 16);
	assert_int_equal(fe_conv_records(&c, FE_REC_BIFLOW, false, 1, r, 4), 1);
	assert_int_equal(r[0].dport, 8 << 8);
	assert_int_equal(r[0].rev.icmp_type_code, 0);
	assert_int_equal(fe_conv_records(&c, FE_REC_UNIFLOW, true, 1, r, 4), 2);
	assert_int_equal(r[1].dport, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_biflow_merged),
		cmocka_unit_test(test_biflow_one_way),
		cmocka_unit_test(test_nothing_to_export),
		cmocka_unit_test(test_uniflow_merged),
		cmocka_unit_test(test_uniflow_split),
		cmocka_unit_test(test_biflow_split),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_dominant_ties),
		cmocka_unit_test(test_overflow_conv),
		cmocka_unit_test(test_icmp_uniflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
