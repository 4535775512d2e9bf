/* fill.h - fills a meter set's live flow map with many distinct flows,
 * fast: BPF_PROG_TEST_RUN of the set's own tc programs (found by id, so
 * whatever maps they use) on crafted frames, one run per flow and
 * direction (repeat = packets). Shared by bench_agent (make bench-agent)
 * and fe_fill (the filler of the netns scale test). Header-only.
 */
#ifndef FE_FILL_H
#define FE_FILL_H
#include <pthread.h>
#include "../bpf/meter_testlib.h"
#include "meter.h"

/* The tc programs of a meter set. */
struct fill_progs {
	int egress_fd, ingress_fd;
};

static inline int fill_progs_open(struct meter *m, struct fill_progs *p)
{
	struct meter_ids ids;

	meter__ids(m, &ids);
	p->egress_fd = bpf_prog_get_fd_by_id(ids.prog_tc_egress);
	p->ingress_fd = bpf_prog_get_fd_by_id(ids.prog_tc_ingress);
	if (p->egress_fd < 0 || p->ingress_fd < 0)
		return -errno;
	return 0;
}

static inline void fill_progs_close(struct fill_progs *p)
{
	if (p->egress_fd >= 0)
		close(p->egress_fd);
	if (p->ingress_fd >= 0)
		close(p->ingress_fd);
}

/* Flows first .. first + n - 1 of a set. Flow i of set s: IPv4
 * 10+s.i>>16.i>>8.i:(1024 + s) -> 192.168.0.1:80 (UDP :53), IPv6
 * fd00:s::i -> fd00::1. out_if is the egress run's ifindex and must exist
 * in the caller's netns (1: lo); in_if 0 means locally originated. With
 * ingress, every packet is first seen by the ingress meter of in_if (which
 * must then exist too): forwarded packets seen at both meters. With reply,
 * the reverse direction too (in by out_if, out by in_if).
 */
struct fill_flows {
	int family;
	uint8_t proto;
	uint8_t set;
	uint32_t first, n;
	uint32_t packets; /* per flow and direction: the run's repeat */
	uint32_t payload; /* bytes after the L4 header */
	uint32_t in_if, out_if;
	bool ingress, reply;
};

/* What was injected: runs made, and the distinct packets and their IP
 * octets (a packet seen at two meters once), what the export must total.
 */
struct fill_count {
	uint64_t runs, packets, octets, errors;
	int first_err;
};

static inline void fill_frame(const struct fill_flows *f, uint32_t i, bool rev,
			      uint8_t *buf, uint32_t cap,
			      struct mt_pkt_info *inf)
{
	struct mt_pkt_spec s;
	uint8_t a[16] = { 0 }, b[16] = { 0 };
	uint16_t pa = (uint16_t)(1024 + f->set);
	uint16_t pb = f->proto == IPPROTO_UDP ? 53 : 80;

	mt_spec_default(&s, f->family, f->proto);
	s.payload = (int)f->payload;
	if (f->family == 4) {
		a[0] = (uint8_t)(10 + f->set);
		a[1] = (uint8_t)(i >> 16);
		a[2] = (uint8_t)(i >> 8);
		a[3] = (uint8_t)i;
		b[0] = 192, b[1] = 168, b[3] = 1;
	} else {
		a[0] = 0xfd, a[2] = f->set;
		a[12] = (uint8_t)(i >> 24), a[13] = (uint8_t)(i >> 16);
		a[14] = (uint8_t)(i >> 8), a[15] = (uint8_t)i;
		b[0] = 0xfd, b[15] = 1;
	}
	memcpy(s.src, rev ? b : a, 16);
	memcpy(s.dst, rev ? a : b, 16);
	s.sport = rev ? pb : pa;
	s.dport = rev ? pa : pb;
	mt_pkt_build(&s, buf, cap, inf);
}

/* One test run of a tc program; no data_out, so threads can share it. */
static inline int fill_exec(int prog_fd, const void *pkt, uint32_t len,
			    uint32_t ifindex, uint32_t in_if, uint32_t repeat)
{
	struct __sk_buff skb = { .ifindex = ifindex, .ingress_ifindex = in_if };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len,
		    .ctx_in = &skb, .ctx_size_in = sizeof(skb),
		    .repeat = repeat);

	return bpf_prog_test_run_opts(prog_fd, &o) ? -errno : 0;
}

static inline void fill_err(struct fill_count *c, int err)
{
	if (!c->errors++)
		c->first_err = err;
}

/* One direction of flow i: ingress run on from (if metered there), egress
 * run on to with in_ifindex from.
 */
static inline void fill_one(const struct fill_progs *p,
			    const struct fill_flows *f, uint32_t i, bool rev,
			    struct fill_count *c)
{
	uint8_t buf[2048];
	struct mt_pkt_info inf = { 0 };
	uint32_t from = rev ? f->out_if : f->in_if;
	uint32_t to = rev ? f->in_if : f->out_if;
	int err;

	fill_frame(f, i, rev, buf, sizeof(buf), &inf);
	if (f->ingress) {
		err = fill_exec(p->ingress_fd, buf, inf.len, from, from,
				f->packets);
		c->runs++;
		if (err)
			fill_err(c, err);
	}
	err = fill_exec(p->egress_fd, buf, inf.len, to, from, f->packets);
	c->runs++;
	if (err) {
		fill_err(c, err);
		return;
	}
	c->packets += f->packets;
	c->octets += (uint64_t)f->packets * inf.ip_len;
}

static inline void fill_range(const struct fill_progs *p,
			      const struct fill_flows *f, struct fill_count *c)
{
	for (uint32_t i = f->first; i < f->first + f->n; i++) {
		fill_one(p, f, i, false, c);
		if (f->reply)
			fill_one(p, f, i, true, c);
	}
}

struct fill_job {
	const struct fill_progs *p;
	struct fill_flows f;
	struct fill_count c;
};

static inline void *fill_thread(void *arg)
{
	struct fill_job *j = arg;

	fill_range(j->p, &j->f, &j->c);
	return NULL;
}

#define FILL_MAX_THREADS 16

/* fill_range() split over nthreads threads; adds to c. */
static inline void fill_run(const struct fill_progs *p,
			    const struct fill_flows *f, int nthreads,
			    struct fill_count *c)
{
	struct fill_job jobs[FILL_MAX_THREADS];
	pthread_t th[FILL_MAX_THREADS];
	uint32_t per, at = f->first;
	int i;

	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > FILL_MAX_THREADS)
		nthreads = FILL_MAX_THREADS;
	per = (f->n + nthreads - 1) / nthreads;
	for (i = 0; i < nthreads; i++) {
		jobs[i].p = p;
		jobs[i].f = *f;
		jobs[i].f.first = at;
		jobs[i].f.n = at - f->first + per > f->n
				      ? f->n - (at - f->first)
				      : per;
		at += jobs[i].f.n;
		memset(&jobs[i].c, 0, sizeof(jobs[i].c));
		if (pthread_create(&th[i], NULL, fill_thread, &jobs[i]))
			fill_thread(&jobs[i]), th[i] = 0;
	}
	for (i = 0; i < nthreads; i++) {
		if (th[i])
			pthread_join(th[i], NULL);
		c->runs += jobs[i].c.runs;
		c->packets += jobs[i].c.packets;
		c->octets += jobs[i].c.octets;
		if (jobs[i].c.errors && !c->errors)
			c->first_err = jobs[i].c.first_err;
		c->errors += jobs[i].c.errors;
	}
}

#endif /* FE_FILL_H */
