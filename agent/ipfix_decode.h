/* ipfix_decode.h - the IPFIX decoder (RFC 7011, RFC 5103): a session that
 * keeps templates per (source, observation domain, template id), decodes
 * data records into (element, value) lists, and renders them as text or
 * as one flat JSON object per record.
 */
#ifndef FE_IPFIX_DECODE_H
#define FE_IPFIX_DECODE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPFIX_DEC_MAX_FIELDS 512     /* per template; more is rejected */
#define IPFIX_DEC_MAX_TEMPLATES 4096 /* per decoder; more is rejected */
#define IPFIX_DEC_MAX_SOURCE 32	     /* octets of a source key kept */

/* One value of a data record; data points into the message being parsed
 * (valid during the callback only).
 */
struct ipfix_dec_value {
	uint16_t id; /* enterprise bit clear */
	uint16_t len;
	uint32_t pen; /* 0: IANA */
	const uint8_t *data;
};

struct ipfix_dec_record {
	uint32_t domain;
	uint32_t export_time; /* message header, UNIX s */
	uint32_t seq;	      /* message header */
	uint16_t template_id;
	bool options; /* from an options template */
	uint16_t scope_count;
	int nvalues;
	struct ipfix_dec_value v[IPFIX_DEC_MAX_FIELDS];
};

/* What one message held; filled even when parsing fails part way. */
struct ipfix_dec_msg {
	uint32_t domain;
	uint32_t export_time;
	uint32_t seq;
	uint32_t records;      /* data records decoded (options included) */
	uint32_t templates;    /* template records learnt */
	uint32_t withdrawals;  /* template withdrawals */
	uint32_t unknown_sets; /* data sets skipped: template not (yet) known */
	uint16_t unknown_template; /* the last such set's id */
	bool seq_gap;	       /* seq differs from the records seen so far */
	uint32_t seq_expected; /* with seq_gap */
};

struct ipfix_decoder_stats {
	uint64_t messages;
	uint64_t malformed;
	uint64_t records;
	uint64_t templates;
	uint64_t unknown_sets;
	uint64_t seq_gaps;
	uint64_t seq_lost; /* data records the gaps add up to */
};

struct ipfix_decoder;

/* Called once per data record; a non-zero return stops parsing and is
 * returned by ipfix_decoder__parse.
 */
typedef int (*ipfix_record_fn)(void *ctx, const struct ipfix_dec_record *r);

struct ipfix_decoder *ipfix_decoder__new(void);
void ipfix_decoder__free(struct ipfix_decoder *d);
/* Parses one message from src (any bytes naming the exporter, e.g. its
 * sockaddr; NULL for a single source). Returns 0, -EINVAL for a malformed
 * message (err says why; records before the fault were delivered), -ENOMEM,
 * or the callback's non-zero return. info may be NULL.
 */
int ipfix_decoder__parse(struct ipfix_decoder *d, const void *src,
			 size_t srclen, const uint8_t *msg, size_t len,
			 ipfix_record_fn cb, void *ctx,
			 struct ipfix_dec_msg *info, char *err, size_t errlen);
void ipfix_decoder__stats(const struct ipfix_decoder *d,
			  struct ipfix_decoder_stats *s);

/* ipfix_format.c: names and renderings of decoded records. */

/* The name of an element: the IANA name, "reverse" + IANA name with its
 * first letter upper-cased for PEN 29305 (RFC 5103), "ie<ID>" or
 * "ie<PEN>.<ID>" when unknown. Returns buf.
 */
const char *ipfix_ie_name(uint16_t id, uint32_t pen, char *buf, size_t len);

/* Renders a record as one line (no newline) into buf. Text:
 * `domain=1 template=1024 name=value ...`. JSON, one flat object keyed by
 * element name: {"domain":1,"template":1024,"export_time":S,
 * ["options":true,] "sourceIPv4Address":"10.0.0.1","octetDeltaCount":12,..}
 * Addresses as strings, integers (and dateTime values, in their own unit:
 * s, ms, and UNIX us/ns for the NTP-based micro/nanosecond types) as
 * numbers, booleans as true/false, strings escaped, octet arrays and
 * values of odd lengths as hex strings. Returns the length or -ENOSPC.
 */
int ipfix_format_text(const struct ipfix_dec_record *r, char *buf, size_t len);
int ipfix_format_json(const struct ipfix_dec_record *r, char *buf, size_t len);
/* Finds the first value of an element in a record (NULL: absent), and
 * reads an unsigned integer value of 1..8 octets (false: other length).
 */
const struct ipfix_dec_value *ipfix_dec_find(const struct ipfix_dec_record *r,
					     uint16_t id, uint32_t pen);
bool ipfix_dec_uint(const struct ipfix_dec_value *v, uint64_t *out);

#endif
