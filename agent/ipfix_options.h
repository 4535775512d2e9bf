/* ipfix_options.h - the options templates and records a network collector
 * gets with its templates (RFC 7011 4): interface names, the Exporting
 * Process Reliability Statistics (RFC 7011 4.3) and, once sampling exists,
 * the sampling parameters. Pure encoding: the caller brings the links and
 * the counters.
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

/* A collector's options templates: the ids follow its data templates'. */
struct fe_options {
	/* scope ingressInterface: interfaceName, interfaceDescription */
	struct ipfix_template iface;
	/* scope exportingProcessId: exportedMessageTotalCount,
	 * exportedFlowRecordTotalCount, exportedOctetTotalCount and
	 * notSent{Flow,Packet,Octet}TotalCount
	 */
	struct ipfix_template stats;
	/* the sampling parameters; nfields 0 while sampling = 1 */
	struct ipfix_template sampling;
};

/* Builds the templates for a collector whose data templates are data_id
 * (IPv4) and data_id + 1 (IPv6): options ids are the three from 256 that
 * clash with neither. sampling is 1-in-N (1: every packet).
 */
void fe_options_init(struct fe_options *o, uint16_t data_id,
		     unsigned int sampling);
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
/* The hook for the sampling options record (issue 11 item 2: [agent]
 * sampling, selectorAlgorithm 304, samplingPacketInterval/Space 305/306,
 * samplingInterval 34, samplerRandomInterval 50): false, and nothing
 * written, while sampling = 1 (every packet) - which is all there is yet.
 */
bool fe_options_sampling_record(const struct fe_options *o, uint8_t *rec,
				unsigned int sampling);

#endif
