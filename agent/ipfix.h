/* ipfix.h - the IPFIX encoder (RFC 7011, RFC 5103 biflows): templates
 * derived from a configured field list, and a message writer that packs
 * template, options and data records into MTU-sized messages of IPFIX or,
 * with nfv9.c's wire format, NetFlow v9.
 */
#ifndef FE_IPFIX_H
#define FE_IPFIX_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "flowtypes.h"

#define IPFIX_VERSION 10
#define IPFIX_MSG_HDR_LEN 16
#define IPFIX_SET_HDR_LEN 4
#define IPFIX_SET_TEMPLATE 2
#define IPFIX_SET_OPTIONS_TEMPLATE 3
#define IPFIX_MIN_TEMPLATE_ID 256
#define IPFIX_MAX_FIELDS 64
#define IPFIX_DEFAULT_MTU 1400
#define IPFIX_MIN_MTU 576 /* the largest template (64 PEN fields) fits */
#define IPFIX_DEFAULT_PORT 4739
/* Seconds between NTP's epoch (1900) and UNIX's (1970). */
#define IPFIX_NTP_EPOCH_OFFSET 2208988800ULL

struct ipfix_field {
	uint16_t id;  /* element id, enterprise bit clear */
	uint16_t len; /* length on the wire, never IE_VARLEN here */
	uint32_t pen; /* 0 (IANA) or IPFIX_PEN_REVERSE */
};

/* One family variant of a template, or an options template (scope > 0:
 * its first scope fields are the scope, RFC 7011 3.4.2.2). rec_len is the
 * sum of the field lengths (every field the encoder writes is
 * fixed-length).
 */
struct ipfix_template {
	uint16_t id;
	uint8_t family; /* 4 or 6; 0 for an options template */
	bool biflow;
	uint16_t scope; /* scope fields of an options template, else 0 */
	int nfields;
	struct ipfix_field f[IPFIX_MAX_FIELDS];
	uint16_t rec_len;
};

/* Builds the family variant (4 or 6) of a configured field list of IANA
 * element ids: maps address-like elements to the family (8<->27, 12<->28,
 * 32<->139, ...), drops elements meaningless for the family (flowLabelIPv6
 * in IPv4) and duplicates that mapping creates. For a biflow template each
 * reversible element gets its reverse twin (PEN 29305) placed just before
 * it (nfdump keeps the last value it reads for an element it does not map
 * to a reverse field), and biflowDirection is appended when absent. Every
 * id must be in the registry and exportable. Returns 0 or -EINVAL with the
 * reason in err.
 */
int ipfix_template_build(struct ipfix_template *t, uint16_t id, int family,
			 bool biflow, const uint16_t *ies, int nies, char *err,
			 size_t errlen);
/* Appends one field (for hand-made templates, e.g. tests); -EINVAL when
 * full or len is 0 or variable, -E2BIG when the record would exceed 64 KiB.
 */
int ipfix_template_add_field(struct ipfix_template *t, uint16_t id,
			     uint16_t len, uint32_t pen);
/* The field list used when the configuration names no template. */
const uint16_t *ipfix_default_fields(int *n);

/* The reverse uniflow record of a biflow record (for collectors that take
 * uniflow records only): addresses and ports swapped, rev as fwd.
 */
void ipfix_record_reverse(struct fe_record *out, const struct fe_record *in);

/* Writes one field's value for record r (fwd for IANA fields, rev for
 * reverse ones) into p (f->len octets). domain fills observationDomainId.
 */
void ipfix_encode_field(uint8_t *p, const struct ipfix_field *f,
			const struct fe_record *r, uint32_t domain);

/* One message header, as the writer fills it in on flush. */
struct ipfix_msg_hdr {
	size_t len;	    /* the whole message */
	uint32_t count;	    /* template and data records in it */
	uint32_t now_s;	    /* export time, UNIX s */
	uint32_t uptime_ms; /* ms since the system booted, mod 2^32 */
	uint32_t seq;
	uint32_t domain; /* observation domain (IPFIX), source ID (v9) */
};

/* What differs between IPFIX (RFC 7011) and NetFlow v9 (RFC 3954) on the
 * wire: the writer below builds messages of either. ipfix_wire_v10 is
 * IPFIX's; nfv9.c has v9's.
 */
struct ipfix_wire {
	const char *name; /* "IPFIX", "NetFlow v9" in messages */
	uint16_t version;
	uint16_t hdr_len;
	uint16_t set_template, set_options; /* set ids of the template kinds */
	bool pad_sets;	       /* pad every set to a multiple of 4 octets */
	bool options_set_each; /* one options template per set */
	bool seq_per_message;  /* the sequence counts messages, not records */
	bool enterprise;       /* fields may carry an enterprise number */
	uint8_t seq_off;       /* offset of the header's sequence number */
	void (*put_header)(uint8_t *p, const struct ipfix_msg_hdr *h);
	/* The 4 (template) or 6 (options template) octets before the field
	 * specifiers of t's template record.
	 */
	void (*put_template_header)(uint8_t *p, const struct ipfix_template *t);
	/* The type a scope field of element ie has on the wire (NULL: ie). */
	uint16_t (*scope_type)(uint16_t ie);
};
extern const struct ipfix_wire ipfix_wire_v10;

/* Big-endian stores, shared by the wire formats. */
static inline void ipfix_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline void ipfix_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* One writer per (collector transport session, observation domain). It
 * holds at most one message being built; a message is sent (through the
 * callback) when the next record does not fit, or on flush.
 */
struct ipfix_writer;
/* Returns 0 when the message was handed to the transport, -errno if not. */
typedef int (*ipfix_send_fn)(void *ctx, const void *msg, size_t len);

/* What one message holds. */
struct ipfix_msg_counts {
	uint32_t data;		  /* data records: flow and options */
	uint32_t flows;		  /* flow records */
	uint32_t templates;	  /* template records */
	uint64_t packets, octets; /* of the flow records */
};

/* The counters of RFC 7011 4.3's Exporting Process Reliability Statistics
 * and a little more; one set per writer.
 */
struct ipfix_writer_stats {
	uint64_t messages; /* sent (exportedMessageTotalCount) */
	uint64_t records; /* flow records sent (exportedFlowRecordTotalCount) */
	uint64_t options; /* options data records sent */
	uint64_t templates; /* template records sent */
	uint64_t octets;    /* message octets sent (exportedOctetTotalCount) */
	uint64_t send_errors; /* messages the transport refused */
	uint64_t not_sent; /* flow records in those (notSentFlowTotalCount) */
	uint64_t not_sent_packets; /* their packets (notSentPacketTotalCount) */
	uint64_t not_sent_octets;  /* their octets (notSentOctetTotalCount) */
};

/* An IPFIX writer. mtu: the largest message (UDP payload),
 * IPFIX_MIN_MTU..65535; 0 means IPFIX_DEFAULT_MTU. NULL with errno EINVAL
 * or ENOMEM.
 */
struct ipfix_writer *ipfix_writer__new(uint32_t domain, uint16_t mtu,
				       ipfix_send_fn send, void *ctx);
/* A writer of wire's format; boot_ms is the UNIX time in ms the system
 * booted at (v9's sysUptime is export time - boot_ms).
 */
struct ipfix_writer *ipfix_writer__new_wire(const struct ipfix_wire *wire,
					    uint32_t domain, uint16_t mtu,
					    uint64_t boot_ms,
					    ipfix_send_fn send, void *ctx);
void ipfix_writer__free(struct ipfix_writer *w);
/* Adds the template records of t[0..n-1], options templates (scope > 0)
 * included (one set per kind and message they occupy). Returns 0, -EINVAL
 * for a template that cannot fit a message or this format, or the -errno
 * of a send this had to make first (the others are queued either way).
 */
int ipfix_writer__add_templates(struct ipfix_writer *w,
				const struct ipfix_template *const *t, int n,
				uint32_t now_s);
/* Adds one flow record encoded with t (which must match r->family).
 * Returns as add_templates does; the record is queued unless -EINVAL.
 */
int ipfix_writer__add_record(struct ipfix_writer *w,
			     const struct ipfix_template *t,
			     const struct fe_record *r, uint32_t now_s);
/* Adds one options data record of options template t: rec holds its
 * t->rec_len octets, already encoded. Returns as add_record does.
 */
int ipfix_writer__add_options(struct ipfix_writer *w,
			      const struct ipfix_template *t,
			      const uint8_t *rec, uint32_t now_s);
/* Sends the pending message, if any, stamped with export time now_s. */
int ipfix_writer__flush(struct ipfix_writer *w, uint32_t now_s);
/* The sequence number the next message will carry. */
uint32_t ipfix_writer__seq(const struct ipfix_writer *w);
/* What the message being built holds; inside the send callback, the
 * message being sent (a queue keeps it with the message).
 */
const struct ipfix_msg_counts *
ipfix_writer__msg_counts(const struct ipfix_writer *w);
/* Bytes in the message being built (0: none pending). */
size_t ipfix_writer__pending(const struct ipfix_writer *w);
void ipfix_writer__stats(const struct ipfix_writer *w,
			 struct ipfix_writer_stats *s);

#endif
