/* sendq.h - a collector's bounded send queue: whole messages (IPFIX or
 * NetFlow v9 messages, or batches of JSON lines) waiting for their
 * transport, written without blocking as datagrams or into a byte stream
 * continued where it stopped, with the counters of what went out and of
 * what was dropped. Pure logic: the caller brings the write function.
 */
#ifndef FE_SENDQ_H
#define FE_SENDQ_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include "ipfix.h" /* struct ipfix_msg_counts */

struct sendq;

struct sendq_cfg {
	size_t limit; /* octets of queued messages */
	bool stream;  /* TCP, a file: one byte stream; else datagrams */
	/* offset of the header's 32-bit sequence number, stamped when the
	 * message starts to go out; -1: none (JSON lines)
	 */
	int seq_off;
	bool seq_per_message; /* NetFlow v9 counts messages, IPFIX records */
};

/* What went out (counted once the last byte of a message was taken by
 * the transport) and what never will. Drops are whole messages.
 */
struct sendq_stats {
	uint64_t messages, records, options, templates, octets; /* sent */
	uint64_t template_msgs; /* sent messages with template records */
	uint64_t full_drops;	/* messages refused: the queue was full */
	uint64_t error_drops;	/* messages the transport refused */
	uint64_t not_sent, not_sent_packets, not_sent_octets; /* their flows */
	size_t queued;		 /* octets waiting */
	size_t queued_msgs;	 /* messages waiting */
	uint64_t queued_records; /* flow records in them */
	uint32_t tmpl_queued;	 /* waiting messages with template records */
	uint32_t seq;		 /* the next message's sequence number */
};

/* Writes iov[0..n) without blocking (a datagram: n is 1). Returns the
 * octets taken (a stream may take fewer) or -errno.
 */
typedef ssize_t (*sendq_write_fn)(void *ctx, const struct iovec *iov, int n);

/* NULL + errno (EINVAL, ENOMEM). */
struct sendq *sendq__new(const struct sendq_cfg *cfg);
/* Frees the queue; returns the flow records it still held, lost. */
uint64_t sendq__free(struct sendq *q);
/* Appends a copy of msg (len octets; c counts what it holds). Returns 0,
 * or -ENOBUFS when it does not fit the limit (or -ENOMEM): the message is
 * dropped and its flow records counted not sent.
 */
int sendq__push(struct sendq *q, const void *msg, size_t len,
		const struct ipfix_msg_counts *c);
/* The same ahead of every message queued before, after the messages
 * pushed to the front since sendq__new_session(), and whatever the limit
 * (a new session's templates come first).
 */
int sendq__push_front(struct sendq *q, const void *msg, size_t len,
		      const struct ipfix_msg_counts *c);
/* A new transport session: the sequence restarts at 0, a message cut by
 * the old session goes out again from its start, and the messages of
 * template (and options) records without flow records are dropped
 * uncounted (each session sends its own).
 */
void sendq__new_session(struct sendq *q);
/* Writes from the head until the queue is empty (0) or the transport
 * stops: -EAGAIN (full: wait for POLLOUT) or its -errno (the head stays;
 * the caller decides: wait, sendq__drop_head(), or a new session).
 */
int sendq__send(struct sendq *q, sendq_write_fn write, void *ctx);
/* Drops the head (a datagram the transport refuses), its flows counted
 * not sent. A stream's head is dropped only when none of it was sent.
 */
void sendq__drop_head(struct sendq *q);
void sendq__stats(const struct sendq *q, struct sendq_stats *s);
size_t sendq__queued(const struct sendq *q);

#endif
