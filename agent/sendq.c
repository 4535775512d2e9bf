/* sendq.c - a collector's bounded send queue (sendq.h): a list of whole
 * messages, the head written without blocking and, in a stream, continued
 * where the transport stopped; sequence numbers stamped as a message
 * starts to go out, so they count what was sent in this session.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "sendq.h"

#define SENDQ_IOV 64 /* messages per write of a stream */

struct sendq_msg {
	struct sendq_msg *next;
	struct ipfix_msg_counts c;
	size_t len;
	uint8_t data[];
};

/* Invariant: head..tail is the queue in order of sending; front is the
 * last message pushed to the front in this session (NULL: none), and is
 * in the list. off octets of the head went out (a stream only; 0 for a
 * datagram). queued sums the lengths, tmpl_queued counts the messages
 * with template records.
 */
struct sendq {
	struct sendq_cfg cfg;
	struct sendq_msg *head, *tail, *front;
	size_t off;
	struct sendq_stats st;
};

struct sendq *sendq__new(const struct sendq_cfg *cfg)
{
	struct sendq *q;

	if (!cfg->limit) {
		errno = EINVAL;
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->cfg = *cfg;
	return q;
}

uint64_t sendq__free(struct sendq *q)
{
	struct sendq_msg *m, *n;
	uint64_t lost;

	if (!q)
		return 0;
	lost = q->st.queued_records;
	for (m = q->head; m; m = n) {
		n = m->next;
		free(m);
	}
	free(q);
	return lost;
}

static void sendq_count_lost(struct sendq *q, const struct ipfix_msg_counts *c)
{
	q->st.not_sent += c->flows;
	q->st.not_sent_packets += c->packets;
	q->st.not_sent_octets += c->octets;
}

static struct sendq_msg *sendq_msg_new(struct sendq *q, const void *msg,
				       size_t len,
				       const struct ipfix_msg_counts *c)
{
	struct sendq_msg *m = malloc(sizeof(*m) + len);

	if (!m) {
		q->st.full_drops++;
		sendq_count_lost(q, c);
		return NULL;
	}
	m->next = NULL;
	m->c = *c;
	m->len = len;
	memcpy(m->data, msg, len);
	q->st.queued += len;
	q->st.queued_msgs++;
	q->st.queued_records += c->flows;
	q->st.tmpl_queued += c->templates > 0;
	return m;
}

int sendq__push(struct sendq *q, const void *msg, size_t len,
		const struct ipfix_msg_counts *c)
{
	struct sendq_msg *m;

	if (len > q->cfg.limit || q->st.queued > q->cfg.limit - len) {
		q->st.full_drops++;
		sendq_count_lost(q, c);
		return -ENOBUFS;
	}
	m = sendq_msg_new(q, msg, len, c);
	if (!m)
		return -ENOMEM;
	if (q->tail)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	return 0;
}

int sendq__push_front(struct sendq *q, const void *msg, size_t len,
		      const struct ipfix_msg_counts *c)
{
	struct sendq_msg *m = sendq_msg_new(q, msg, len, c);
	struct sendq_msg **at;

	if (!m)
		return -ENOMEM;
	/* never ahead of a message that started to go out */
	if (q->front)
		at = &q->front->next;
	else if (q->off)
		at = &q->head->next;
	else
		at = &q->head;
	m->next = *at;
	*at = m;
	if (!m->next)
		q->tail = m;
	q->front = m;
	return 0;
}

/* Unlinks the head (which the caller accounts for) and frees it. */
static void sendq_pop(struct sendq *q)
{
	struct sendq_msg *m = q->head;

	q->head = m->next;
	if (!q->head)
		q->tail = NULL;
	if (q->front == m)
		q->front = NULL;
	q->st.queued -= m->len;
	q->st.queued_msgs--;
	q->st.queued_records -= m->c.flows;
	q->st.tmpl_queued -= m->c.templates > 0;
	q->off = 0;
	free(m);
}

void sendq__new_session(struct sendq *q)
{
	struct sendq_msg **pp = &q->head, *m, *last = NULL;

	q->off = 0;
	q->front = NULL;
	q->st.seq = 0;
	while ((m = *pp)) {
		if (m->c.templates && !m->c.flows) {
			*pp = m->next;
			q->st.queued -= m->len;
			q->st.queued_msgs--;
			q->st.tmpl_queued--;
			free(m);
			continue;
		}
		last = m;
		pp = &m->next;
	}
	q->tail = last;
}

static void sendq_stamp(const struct sendq *q, struct sendq_msg *m,
			uint32_t seq)
{
	if (q->cfg.seq_off < 0 || m->len < (size_t)q->cfg.seq_off + 4)
		return;
	ipfix_put32(m->data + q->cfg.seq_off, seq);
}

static uint32_t sendq_seq_step(const struct sendq *q, const struct sendq_msg *m)
{
	return q->cfg.seq_per_message ? 1 : m->c.data;
}

/* The head went out: counted sent, the sequence moves past it. */
static void sendq_sent(struct sendq *q)
{
	const struct sendq_msg *m = q->head;

	q->st.messages++;
	q->st.records += m->c.flows;
	q->st.options += m->c.data - m->c.flows;
	q->st.templates += m->c.templates;
	q->st.template_msgs += m->c.templates > 0;
	q->st.octets += m->len;
	q->st.seq += sendq_seq_step(q, m);
	sendq_pop(q);
}

static int sendq_send_datagrams(struct sendq *q, sendq_write_fn write,
				void *ctx)
{
	while (q->head) {
		struct iovec iov = { q->head->data, q->head->len };
		ssize_t n;

		sendq_stamp(q, q->head, q->st.seq);
		n = write(ctx, &iov, 1);
		if (n == -EINTR)
			continue;
		if (n < 0)
			return (int)n;
		sendq_sent(q);
	}
	return 0;
}

/* Up to SENDQ_IOV messages from the head in one write; the head's first
 * off octets are gone already (its header too: stamped before).
 */
static int sendq_send_stream(struct sendq *q, sendq_write_fn write, void *ctx)
{
	struct iovec iov[SENDQ_IOV];

	while (q->head) {
		struct sendq_msg *m = q->head;
		uint32_t seq = q->st.seq;
		ssize_t n;
		int k;

		for (k = 0; m && k < SENDQ_IOV; k++, m = m->next) {
			size_t skip = k ? 0 : q->off;

			if (!skip)
				sendq_stamp(q, m, seq);
			seq += sendq_seq_step(q, m);
			iov[k] =
				(struct iovec){ m->data + skip, m->len - skip };
		}
		n = write(ctx, iov, k);
		if (n == -EINTR)
			continue;
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EAGAIN;
		while (n > 0 && q->head) {
			size_t left = q->head->len - q->off;

			if ((size_t)n < left) {
				q->off += n;
				break;
			}
			n -= left;
			sendq_sent(q);
		}
	}
	return 0;
}

int sendq__send(struct sendq *q, sendq_write_fn write, void *ctx)
{
	int ret = q->cfg.stream ? sendq_send_stream(q, write, ctx)
				: sendq_send_datagrams(q, write, ctx);

	return ret == -EWOULDBLOCK ? -EAGAIN : ret;
}

void sendq__drop_head(struct sendq *q)
{
	if (!q->head || q->off)
		return;
	q->st.error_drops++;
	sendq_count_lost(q, &q->head->c);
	sendq_pop(q);
}

void sendq__stats(const struct sendq *q, struct sendq_stats *s)
{
	*s = q->st;
}

size_t sendq__queued(const struct sendq *q)
{
	return q->st.queued;
}
