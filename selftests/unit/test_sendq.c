/* test_sendq.c - unit tests of a collector's send queue (sendq.c): the
 * limit and what a full queue counts, a stream continued where a partial
 * write stopped (never a message cut), sequence numbers stamped as a
 * message starts to go out, a new session (messages from their start,
 * templates ahead of the queue), templates counted sent only once their
 * message went out, and the datagram drops.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "sendq.h"

#define MSG_LEN 40

/* A transport: takes at most budget octets in all (then -EAGAIN), at most
 * chunk per call (a short write), or fails with err.
 */
struct sink {
	uint8_t buf[8192];
	size_t len;
	size_t budget, chunk;
	int err;
	int calls;
};

static ssize_t sink_write(void *ctx, const struct iovec *iov, int n)
{
	struct sink *s = ctx;
	size_t took = 0;

	s->calls++;
	if (s->err)
		return -s->err;
	if (!s->budget)
		return -EAGAIN;
	for (int i = 0; i < n && s->budget; i++) {
		size_t k = iov[i].iov_len;

		if (k > s->budget)
			k = s->budget;
		if (s->chunk && took + k > s->chunk)
			k = s->chunk - took;
		memcpy(s->buf + s->len, iov[i].iov_base, k);
		s->len += k;
		s->budget -= k;
		took += k;
		if (k < iov[i].iov_len)
			break;
	}
	return took;
}

/* An IPFIX-shaped message: id in octet 0, sequence at 8..11 (0 here). */
static void msg(uint8_t *m, uint8_t id)
{
	memset(m, id, MSG_LEN);
	memset(m + 8, 0, 4);
}

static uint32_t seq_of(const uint8_t *m)
{
	return (uint32_t)m[8] << 24 | m[9] << 16 | m[10] << 8 | m[11];
}

static const struct ipfix_msg_counts flows3 = { .data = 3, .flows = 3,
						.packets = 30,
						.octets = 3000 };
static const struct ipfix_msg_counts tmpls = { .templates = 2 };

static struct sendq *queue(size_t limit, bool stream)
{
	struct sendq_cfg c = { .limit = limit, .stream = stream, .seq_off = 8 };
	struct sendq *q = sendq__new(&c);

	assert_non_null(q);
	return q;
}

static void test_full(void **state)
{
	struct sendq *q = queue(100, true);
	struct sendq_stats st;
	uint8_t m[MSG_LEN];

	msg(m, 1);
	assert_int_equal(sendq__push(q, m, MSG_LEN, &flows3), 0);
	assert_int_equal(sendq__push(q, m, MSG_LEN, &flows3), 0);
	/* 120 > 100: refused whole, its flows counted not sent */
	assert_int_equal(sendq__push(q, m, MSG_LEN, &flows3), -ENOBUFS);
	sendq__stats(q, &st);
	assert_int_equal(st.queued, 2 * MSG_LEN);
	assert_int_equal(st.queued_msgs, 2);
	assert_int_equal(st.queued_records, 6);
	assert_int_equal(st.full_drops, 1);
	assert_int_equal(st.not_sent, 3);
	assert_int_equal(st.not_sent_packets, 30);
	assert_int_equal(st.not_sent_octets, 3000);
	assert_int_equal(st.messages, 0);
	/* a new session's templates go in whatever the limit */
	assert_int_equal(sendq__push_front(q, m, MSG_LEN, &tmpls), 0);
	assert_int_equal(sendq__queued(q), 3 * MSG_LEN);
	assert_null(sendq__new(&(struct sendq_cfg){ .limit = 0 }));
	sendq__free(q);
}

static void test_partial_stream(void **state)
{
	struct sendq *q = queue(1 << 20, true);
	struct sink s = { .budget = 50, .chunk = 7 };
	struct sendq_stats st;
	uint8_t m[MSG_LEN];

	for (int i = 0; i < 3; i++) {
		msg(m, 1 + i);
		assert_int_equal(sendq__push(q, m, MSG_LEN, &flows3), 0);
	}
	/* short writes of 7, then the socket is full after 50 octets */
	assert_int_equal(sendq__send(q, sink_write, &s), -EAGAIN);
	assert_int_equal(s.len, 50);
	sendq__stats(q, &st);
	assert_int_equal(st.messages, 1); /* the second is cut: not sent */
	assert_int_equal(st.records, 3);
	assert_int_equal(st.octets, MSG_LEN);
	assert_int_equal(st.queued_msgs, 2);
	assert_int_equal(st.seq, 3);
	/* POLLOUT: the stream goes on where it stopped */
	s.budget = 1000;
	assert_int_equal(sendq__send(q, sink_write, &s), 0);
	assert_int_equal(s.len, 3 * MSG_LEN);
	for (int i = 0; i < 3; i++) {
		const uint8_t *p = s.buf + i * MSG_LEN;

		assert_int_equal(p[0], 1 + i);
		assert_int_equal(p[MSG_LEN - 1], 1 + i);
		/* data records sent before it in this session */
		assert_int_equal(seq_of(p), 3 * i);
	}
	sendq__stats(q, &st);
	assert_int_equal(st.messages, 3);
	assert_int_equal(st.records, 9);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.seq, 9);
	assert_int_equal(st.not_sent, 0);
	/* nothing queued: nothing written */
	s.calls = 0;
	assert_int_equal(sendq__send(q, sink_write, &s), 0);
	assert_int_equal(s.calls, 0);
	sendq__free(q);
}

static void test_new_session(void **state)
{
	struct sendq *q = queue(1 << 20, true);
	struct sink s = { .budget = 10 };
	struct sendq_stats st;
	uint8_t m[MSG_LEN];

	msg(m, 0x7);
	assert_int_equal(sendq__push(q, m, MSG_LEN, &tmpls), 0);
	assert_int_equal(sendq__send(q, sink_write, &s), -EAGAIN);
	msg(m, 1);
	assert_int_equal(sendq__push(q, m, MSG_LEN, &flows3), 0);
	/* the session died: its templates go, the cut message too */
	sendq__new_session(q);
	sendq__stats(q, &st);
	assert_int_equal(st.queued_msgs, 1);
	assert_int_equal(st.tmpl_queued, 0);
	assert_int_equal(st.seq, 0);
	/* the new session's templates and options, in this order, ahead */
	msg(m, 0xa);
	assert_int_equal(sendq__push_front(q, m, MSG_LEN, &tmpls), 0);
	msg(m, 0xb);
	assert_int_equal(sendq__push_front(q, m, MSG_LEN,
					   &(struct ipfix_msg_counts){
						   .data = 2 }),
			 0);
	memset(&s, 0, sizeof(s));
	s.budget = 1000;
	assert_int_equal(sendq__send(q, sink_write, &s), 0);
	assert_int_equal(s.len, 3 * MSG_LEN);
	assert_int_equal(s.buf[0], 0xa);
	assert_int_equal(s.buf[MSG_LEN], 0xb);
	assert_int_equal(s.buf[2 * MSG_LEN], 1);
	assert_int_equal(seq_of(s.buf), 0);
	assert_int_equal(seq_of(s.buf + MSG_LEN), 0);
	assert_int_equal(seq_of(s.buf + 2 * MSG_LEN), 2);
	sendq__free(q);
}

/* A front push never goes ahead of a message that started to go out. */
static void test_front_after_partial(void **state)
{
	struct sendq *q = queue(1 << 20, true);
	struct sink s = { .budget = 5 };
	uint8_t m[MSG_LEN];

	msg(m, 1);
	sendq__push(q, m, MSG_LEN, &flows3);
	assert_int_equal(sendq__send(q, sink_write, &s), -EAGAIN);
	msg(m, 2);
	sendq__push_front(q, m, MSG_LEN, &tmpls);
	s.budget = 1000;
	assert_int_equal(sendq__send(q, sink_write, &s), 0);
	assert_int_equal(s.len, 2 * MSG_LEN);
	assert_int_equal(s.buf[MSG_LEN - 1], 1);
	assert_int_equal(s.buf[MSG_LEN], 2);
	sendq__free(q);
}

/* Templates count as sent once their message went out, not when queued. */
static void test_template_sent_rule(void **state)
{
	struct sendq *q = queue(1 << 20, false);
	struct sink s = { 0 };
	struct sendq_stats st;
	uint8_t m[MSG_LEN];

	msg(m, 1);
	sendq__push(q, m, MSG_LEN, &tmpls);
	sendq__push(q, m, MSG_LEN, &flows3);
	assert_int_equal(sendq__send(q, sink_write, &s), -EAGAIN);
	sendq__stats(q, &st);
	assert_int_equal(st.tmpl_queued, 1);
	assert_int_equal(st.template_msgs, 0);
	assert_int_equal(st.templates, 0);
	/* refused by the transport: dropped, never counted sent */
	s.err = EMSGSIZE;
	assert_int_equal(sendq__send(q, sink_write, &s), -EMSGSIZE);
	sendq__drop_head(q);
	sendq__stats(q, &st);
	assert_int_equal(st.tmpl_queued, 0);
	assert_int_equal(st.template_msgs, 0);
	assert_int_equal(st.error_drops, 1);
	assert_int_equal(st.not_sent, 0);
	/* templates again: taken by send(), so sent */
	sendq__push(q, m, MSG_LEN, &tmpls);
	s.err = 0;
	s.budget = 1000;
	assert_int_equal(sendq__send(q, sink_write, &s), 0);
	sendq__stats(q, &st);
	assert_int_equal(st.template_msgs, 1);
	assert_int_equal(st.templates, 2);
	assert_int_equal(st.messages, 2);
	assert_int_equal(st.records, 3);
	sendq__free(q);
}

static void test_datagrams(void **state)
{
	struct sendq_cfg c = { .limit = 1 << 20,
			       .seq_off = 12,
			       .seq_per_message = true };
	struct sendq *q = sendq__new(&c);
	struct sink s = { .budget = 1000 };
	struct sendq_stats st;
	uint8_t m[MSG_LEN];

	msg(m, 1);
	memset(m + 12, 0, 4);
	for (int i = 0; i < 3; i++)
		sendq__push(q, m, MSG_LEN, &flows3);
	s.err = ECONNREFUSED;
	assert_int_equal(sendq__send(q, sink_write, &s), -ECONNREFUSED);
	/* the head stays for the caller to retry or drop */
	assert_int_equal(sendq__queued(q), 3 * MSG_LEN);
	sendq__drop_head(q);
	s.err = 0;
	assert_int_equal(sendq__send(q, sink_write, &s), 0);
	assert_int_equal(s.len, 2 * MSG_LEN);
	/* NetFlow v9: the sequence counts messages; the dropped one none */
	assert_int_equal(s.buf[12 + 3], 0);
	assert_int_equal(s.buf[MSG_LEN + 12 + 3], 1);
	sendq__stats(q, &st);
	assert_int_equal(st.error_drops, 1);
	assert_int_equal(st.not_sent, 3);
	assert_int_equal(st.not_sent_packets, 30);
	assert_int_equal(st.messages, 2);
	assert_int_equal(st.seq, 2);
	sendq__free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_partial_stream),
		cmocka_unit_test(test_new_session),
		cmocka_unit_test(test_front_after_partial),
		cmocka_unit_test(test_template_sent_rule),
		cmocka_unit_test(test_datagrams),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
