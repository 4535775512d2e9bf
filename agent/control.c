/* control.c - flowagent's answers to flowctl over the control socket
 * (ctlsock.h): stats and flush at once; the rows of a dump streamed from
 * the cache in steps between ticks, so that a dump of a million flows
 * never holds up the drain, and a client that stops reading is dropped.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "clock.h"
#include "control.h"
#include "ctlsock.h"
#include "dumpfmt.h"
#include "filter.h"
#include "log.h"
#include "statsfmt.h"

#define DUMP_STEP 64		    /* conversations per frame */
#define DUMP_QUEUED (256 * 1024)    /* octets queued per client at most */
#define SERVE_BUDGET_NS (2000000LL) /* rows made per serve, at most */

struct rows {
	struct dump_row *r;
	size_t n, cap;
	bool by_if;
	const struct fe_filter *f;
	bool nomem;
};

struct client {
	struct ctlconn *conn;
	enum { CL_REQUEST, CL_WAIT_TICK, CL_STREAM, CL_REPLIED } state;
	bool by_if;
	bool filtered;
	struct fe_filter f;
	uint32_t cursor; /* flowcache__walk() */
};

struct control {
	int lfd;
	struct client cl[CONTROL_MAX_CLIENTS];
	int n;
	int polled; /* clients in the last control__pollfds() */
	struct rows rows;
	uint64_t served, dropped, refused;
};

struct control *control__open(const char *path)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	int fd;

	if (!ctl)
		return NULL;
	fd = ctlsock_listen(path);
	if (fd < 0) {
		free(ctl);
		errno = -fd;
		return NULL;
	}
	ctl->lfd = fd;
	return ctl;
}

void control__close(struct control *ctl)
{
	if (!ctl)
		return;
	for (int i = 0; i < ctl->n; i++)
		ctlconn__free(ctl->cl[i].conn);
	close(ctl->lfd);
	free(ctl->rows.r);
	free(ctl);
}

static struct dump_row *row_new(struct rows *rs)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 256;
		struct dump_row *r = realloc(rs->r, cap * sizeof(*r));

		if (!r) {
			rs->nomem = true;
			return NULL;
		}
		rs->r = r;
		rs->cap = cap;
	}
	memset(&rs->r[rs->n], 0, sizeof(rs->r[0]));
	return &rs->r[rs->n++];
}

/* What the rows of direction d of c share. */
static void dir_base(const struct fe_conv *c, int d, struct dump_row *b)
{
	memset(b, 0, sizeof(*b));
	b->family = c->family;
	b->proto = c->proto;
	b->flags = c->kflags;
	b->vlan = c->vlan;
	memcpy(b->src, c->addr[d], 16);
	memcpy(b->dst, c->addr[!d], 16);
	b->sport = c->port[d];
	b->dport = c->port[!d];
	if (FE_PROTO_IS_ICMP(c->proto)) {
		b->sport = 0;
		b->dport = c->dir[d].icmp_type_code;
	}
	if (c->kflags & FE_KEY_OVERFLOW) {
		b->ifindex = c->ovf_if;
		b->in_ifindex = c->ovf_in_if;
	}
}

/* One row per direction (summary) or per direction and path (by_if), with
 * the lifetime totals of the conversation.
 */
static void conv_rows(void *ctx, const struct fe_conv *c)
{
	struct rows *rs = ctx;

	for (int d = 0; d < 2; d++) {
		const struct fe_conv_dir *cd = &c->dir[d];
		struct dump_row base, *sum = NULL;

		if (!cd->seen)
			continue;
		dir_base(c, d, &base);
		for (int p = 0; p < cd->npaths; p++) {
			const struct fe_path *pa = &cd->paths[p];
			uint64_t pk = fe_path_life_packets(pa);
			uint32_t ifx = pa->flow_dir ? pa->out_if : pa->in_if;

			if (!pk)
				continue;
			if (rs->f && !fe_filter_match_flags(
					     rs->f, ifx, pa->in_if, base.family,
					     base.proto, base.src, base.dst,
					     base.sport, base.dport, c->kflags))
				continue;
			if (rs->by_if || !sum) {
				sum = row_new(rs);
				if (!sum)
					return;
				*sum = base;
				sum->dir =
					rs->by_if ? pa->flow_dir : DUMP_DIR_ALL;
				if (rs->by_if) {
					sum->ifindex = ifx;
					sum->in_ifindex = pa->in_if;
				}
				sum->first_ns = pa->first_ms * 1000000;
			}
			sum->packets += pk;
			sum->bytes += pa->total_octets + fe_pos(pa->octets);
			sum->tcp_flags |= pa->tcp_flags;
			if (pa->first_ms * 1000000 < sum->first_ns)
				sum->first_ns = pa->first_ms * 1000000;
			if (pa->last_ms * 1000000 > sum->last_ns)
				sum->last_ns = pa->last_ms * 1000000;
		}
	}
}

static bool conv_match(void *ctx, const struct fe_conv *c)
{
	return fe_filter_match_conv(ctx, c);
}

static void do_flush(struct agent *a, FILE *out, const struct fe_filter *f)
{
	size_t n = agent__flush(a, f->all ? NULL : conv_match, (void *)f);

	fprintf(out, "flushed %zu flows (exported as forced end)\n", n);
	pr_info("control: flushed %zu flows\n", n);
}

static void do_stats(const struct control *ctl, struct agent *a, FILE *out,
		     bool json)
{
	struct flowcache_stats cs;
	__u64 st[FE_STAT_MAX] = { 0 };
	unsigned int nf = 0, no = 0;
	struct statsfmt s;

	meter__stats(a->m, st);
	meter__count(a->m, &nf, &no);
	flowcache__stats(a->fc, &cs);
	const struct stats_counter agent[] = {
		{ "ticks", a->ticks },
		{ "tick_late_max_ms", a->tick_late_max_ms },
		{ "drained_entries", a->drained },
		{ "drain_errors", a->drain_errors },
		{ "drain_store_failed", a->drain_store_failed },
		{ "early_drains", a->early_drains },
		{ "overflow_dup_packets", a->overflow_dup },
		{ "cache_flows", cs.flows },
		{ "cache_created", cs.created },
		{ "cache_nomem", cs.obs_nomem },
		{ "exported_idle", cs.exported[1] },
		{ "exported_active", cs.exported[2] },
		{ "exported_end", cs.exported[3] },
		{ "exported_forced", cs.exported[4] },
		{ "exported_resources", cs.exported[5] },
		{ "cache_evicted_full", cs.evicted_full },
		{ "state_log_used_slots", cs.log_used },
		{ "state_log_dropped", cs.log_dropped },
		{ "restart_replayed", a->restart_replayed },
		{ "restart_uncertain_sends", a->restart_uncertain },
		{ "restart_staged_entries", a->restart_staged },
		{ "dedup_packets", cs.dedup_packets },
		{ "dedup_clamped_packets", cs.dedup_clamped_packets },
		{ "control_clients", ctl->served },
		{ "control_dropped", ctl->dropped },
		{ "control_refused", ctl->refused },
	};
	statsfmt_begin(&s, out, json, true);
	statsfmt_heading(&s, "meter (%s)", a->cfg.pin_path);
	statsfmt_meter(&s, st, nf, no, a->cfg.sampling);
	statsfmt_heading(&s, "agent");
	statsfmt_counters(&s, agent, sizeof(agent) / sizeof(agent[0]));
	statsfmt_list_begin(&s, "collectors");
	for (int i = 0; i < a->nexp; i++) {
		statsfmt_list_item(&s);
		exporter__print_stats(a->exp[i], out, json);
	}
	statsfmt_list_end(&s);
	statsfmt_end(&s);
}

/* A reply made at once (stats, flush): one text frame. */
static void reply_text(struct control *ctl, struct client *cl, struct agent *a,
		       const char *verb, bool json, const struct fe_filter *f)
{
	char *body = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&body, &len);

	if (!out) {
		ctlconn__status(cl->conn, "ERR out of memory");
		return;
	}
	if (!strcmp(verb, "stats"))
		do_stats(ctl, a, out, json);
	else
		do_flush(a, out, f);
	fclose(out);
	if (ctlconn__status(cl->conn, "OK") ||
	    ctlconn__frame(cl->conn, body, len) || ctlconn__end(cl->conn))
		pr_warn("control: no memory for a reply of %zu octets\n", len);
	free(body);
	cl->state = CL_REPLIED;
}

/* "VERB PIN [ROWSIZE] [by_ifindex] [json] FILTER..." */
static void handle(struct control *ctl, struct client *cl, struct agent *a)
{
	char buf[1024], *words[64], *save = NULL, *w, err[256], msg[320];
	bool by_if = false, json = false, rows;
	int n = 0, first = 2;

	snprintf(buf, sizeof(buf), "%s", ctlconn__request(cl->conn));
	for (w = strtok_r(buf, " ", &save); w && n < 64;
	     w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	cl->state = CL_REPLIED;
	if (n < 2) {
		ctlconn__status(cl->conn, "ERR malformed request");
		return;
	}
	if (strcmp(words[1], a->cfg.pin_path)) {
		snprintf(msg, sizeof(msg), "ERR other-pin %s", a->cfg.pin_path);
		ctlconn__status(cl->conn, msg);
		return;
	}
	rows = !strcmp(words[0], "rows");
	if (rows &&
	    (n < 3 || strtoul(words[2], NULL, 10) != sizeof(struct dump_row))) {
		snprintf(msg, sizeof(msg),
			 "ERR flowctl and flowagent differ in version (dump "
			 "row of %s octets, the agent's %zu)",
			 n < 3 ? "?" : words[2], sizeof(struct dump_row));
		ctlconn__status(cl->conn, msg);
		return;
	}
	first += rows;
	while (first < n && (!strcmp(words[first], "by_ifindex") ||
			     !strcmp(words[first], "json"))) {
		by_if |= words[first][0] == 'b';
		json |= words[first][0] == 'j';
		first++;
	}
	/* filter words name interfaces by index: parsed here unchanged */
	if (fe_filter_parse(n - first, words + first, &cl->f, err,
			    sizeof(err))) {
		snprintf(msg, sizeof(msg), "ERR %s", err);
		ctlconn__status(cl->conn, msg);
	} else if (rows) {
		/* the rows come from the cache after the next tick's drain:
		 * no drain of its own, and what the kernel held is in
		 */
		cl->by_if = by_if;
		cl->filtered = !fe_filter_empty(&cl->f);
		cl->state = CL_WAIT_TICK;
		ctlconn__status(cl->conn, "OK");
	} else if (!strcmp(words[0], "stats") || !strcmp(words[0], "flush")) {
		reply_text(ctl, cl, a, words[0], json, &cl->f);
	} else {
		snprintf(msg, sizeof(msg), "ERR unknown request '%.64s'",
			 words[0]);
		ctlconn__status(cl->conn, msg);
	}
}

/* One step of a dump: the rows of up to DUMP_STEP conversations in one
 * frame, and the end after the last.
 */
static int stream_step(struct control *ctl, struct client *cl, struct agent *a)
{
	struct rows *rs = &ctl->rows;
	bool more;

	rs->n = 0;
	rs->nomem = false;
	rs->by_if = cl->by_if;
	rs->f = cl->filtered ? &cl->f : NULL;
	more = flowcache__walk(a->fc, &cl->cursor, DUMP_STEP, conv_rows, rs);
	if (rs->nomem ||
	    ctlconn__frame(cl->conn, rs->r, rs->n * sizeof(*rs->r)))
		return -ENOMEM;
	if (!more) {
		cl->state = CL_REPLIED;
		return ctlconn__end(cl->conn);
	}
	return 0;
}

static bool wants_rows(const struct client *cl)
{
	return cl->state == CL_STREAM &&
	       ctlconn__queued(cl->conn) < DUMP_QUEUED;
}

static void drop(struct control *ctl, int i, const char *why)
{
	if (why) {
		ctl->dropped++;
		pr_warn("control: client dropped: %s (%llu so far)\n", why,
			(unsigned long long)ctl->dropped);
	}
	ctlconn__free(ctl->cl[i].conn);
	ctl->cl[i] = ctl->cl[--ctl->n];
}

int control__pollfds(struct control *ctl, struct pollfd *p, int max)
{
	int n = 0;

	if (max < 1)
		return 0;
	p[n++] = (struct pollfd){ .fd = ctl->lfd, .events = POLLIN };
	for (int i = 0; i < ctl->n && n < max; i++)
		p[n++] = (struct pollfd){ .fd = ctlconn__fd(ctl->cl[i].conn),
					  .events = ctlconn__events(
						  ctl->cl[i].conn) };
	ctl->polled = n - 1;
	return n;
}

int control__timeout(const struct control *ctl, uint64_t now_ms)
{
	uint64_t next = UINT64_MAX;

	for (int i = 0; i < ctl->n; i++) {
		uint64_t d = ctlconn__deadline(ctl->cl[i].conn);

		if (wants_rows(&ctl->cl[i]) || !d)
			return 0;
		if (d < next)
			next = d;
	}
	if (next == UINT64_MAX)
		return -1;
	return next > now_ms ? (int)(next - now_ms) : 0;
}

static void accept_clients(struct control *ctl, uint64_t now_ms)
{
	struct ctlconn *c;

	while ((c = ctlconn__accept(ctl->lfd, now_ms))) {
		if (ctl->n == CONTROL_MAX_CLIENTS) {
			/* best effort: the socket buffer takes it at once */
			ctlconn__status(c, "ERR busy: too many flowctl "
					   "clients at once, try again");
			ctlconn__io(c, now_ms);
			ctlconn__free(c);
			ctl->refused++;
			continue;
		}
		ctl->cl[ctl->n++] = (struct client){ .conn = c };
		ctl->served++;
	}
}

/* The I/O poll reported; requests that came are answered (stats and
 * flush at once). Returns whether client i is still there.
 */
static bool client_io(struct control *ctl, int i, struct agent *a,
		      short revents, uint64_t now_ms)
{
	struct client *cl = &ctl->cl[i];
	int r = 0;

	if (revents & POLLERR || (revents & POLLHUP && !(revents & POLLIN)))
		r = -ECONNRESET; /* gone: polling it again would spin */
	else if (revents & (POLLIN | POLLOUT))
		r = ctlconn__io(cl->conn, now_ms);
	if (r == 1)
		handle(ctl, cl, a);
	if (r < 0 || ctlconn__done(cl->conn)) {
		drop(ctl, i, NULL);
		return false;
	}
	if (ctlconn__stalled(cl->conn, now_ms)) {
		drop(ctl, i,
		     cl->state == CL_REQUEST
			     ? "no request within 1 s"
			     : "took none of its reply for 5 s");
		return false;
	}
	return true;
}

void control__serve(struct control *ctl, struct agent *a,
		    const struct pollfd *p, int n)
{
	uint64_t now = fe_clock_mono_ms();
	int64_t t0 = (int64_t)fe_clock_mono_ns();
	bool any = true;

	/* clients that went since are at the end: p[] still matches */
	for (int i = ctl->polled - 1; i >= 0; i--)
		client_io(ctl, i, a, i + 1 < n ? p[i + 1].revents : 0, now);
	if (n > 0 && (p[0].revents & POLLIN))
		accept_clients(ctl, now);
	/* rows in turns, within a budget: the tick comes first */
	while (any && (int64_t)fe_clock_mono_ns() - t0 < SERVE_BUDGET_NS) {
		any = false;
		for (int i = ctl->n - 1; i >= 0; i--) {
			if (!wants_rows(&ctl->cl[i]))
				continue;
			any = true;
			if (stream_step(ctl, &ctl->cl[i], a)) {
				drop(ctl, i, "out of memory for its reply");
				continue;
			}
			ctlconn__io(ctl->cl[i].conn, now);
		}
	}
}

void control__ticked(struct control *ctl)
{
	for (int i = 0; i < ctl->n; i++)
		if (ctl->cl[i].state == CL_WAIT_TICK)
			ctl->cl[i].state = CL_STREAM;
}
