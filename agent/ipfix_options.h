/* ipfix_options.h - the options templates and records a network collector
 * gets with its templates (RFC 7011 4): interface names, the Exporting
 * Process Reliability Statistics (RFC 7011 4.3) and, with sampling, the
 * sampling parameters (RFC 5476 6.5, RFC 3954 6.1). Pure encoding: the
 * caller brings the links, the counters and the rate.
 */
#ifndef FE_IPFIX_OPTIONS_H
#define FE_IPFIX_OPTIONS_H
#include <stdbool.h>
#include <stdint.h>
#include "iflinks.h"
#include "ipfix.h"

/* Fixed lengths (NetFlow v9 has no variable-length fields): a name is at
 * most 15 characters, a longer alias is cut (on a UTF-8 boundary).
 */
#define FE_OPT_IFNAME_LEN 16
#define FE_OPT_IFDESC_LEN 64
#define FE_OPT_MAX_LINKS 512 /* interface records per refresh */
#define FE_OPT_REC_MAX 128   /* octets of the longest options record */
/* selectorAlgorithm (IANA PSAMP registry, RFC 5476): what the meters do */
#define FE_OPT_SELECTOR_RANDOM_N_OF_N 3
/* NetFlow v9 SAMPLING_ALGORITHM (RFC 3954): 1 deterministic, 2 random */
#define FE_OPT_NFV9_RANDOM 2

/* A collector's options templates: the ids follow its data templates'. */
struct fe_options {
	/* scope ingressInterface: interfaceName, interfaceDescription */
	struct ipfix_template iface;
	/* scope exportingProcessId: exportedMessageTotalCount,
	 * exportedFlowRecordTotalCount, exportedOctetTotalCount and
	 * notSent{Flow,Packet,Octet}TotalCount
	 */
	struct ipfix_template stats;
	/* scope meteringProcessId: the sampling parameters (see
	 * ipfix_options.c for the fields); nfields 0 while sampling = 1
	 */
	struct ipfix_template sampling;
	unsigned int rate; /* 1-in-N, 1: every packet */
	bool nfv9;	   /* the sampling fields of NetFlow v9 */
};

/* Builds the templates for a collector whose data templates are data_id
 * (IPv4) and data_id + 1 (IPv6): options ids are the three from 256 that
 * clash with neither. sampling is 1-in-N (0, 1: every packet, and no
 * sampling template); nfv9 picks NetFlow v9's sampling fields.
 */
void fe_options_init(struct fe_options *o, uint16_t data_id,
		     unsigned int sampling, bool nfv9);
/* The options templates to send, into t[0..3); returns how many. */
int fe_options_templates(const struct fe_options *o,
			 const struct ipfix_template **t);
/* One interface record (o->iface.rec_len octets) into rec. */
void fe_options_iface_record(const struct fe_options *o, uint8_t *rec,
			     const struct fe_link *l);
/* The statistics record of exporting process process_id (the collector's
 * observation domain) from its writer's counters into rec.
 */
void fe_options_stats_record(const struct fe_options *o, uint8_t *rec,
			     uint32_t process_id,
			     const struct ipfix_writer_stats *s);
/* The sampling record (o->sampling.rec_len octets) of metering process
 * process_id (the collector's observation domain) into rec; false, and
 * nothing written, while sampling = 1 (every packet).
 */
bool fe_options_sampling_record(const struct fe_options *o, uint8_t *rec,
				uint32_t process_id);

#endif
