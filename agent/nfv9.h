/* nfv9.h - NetFlow v9 (RFC 3954) export: the v9 wire format for the
 * message writer of ipfix.h, which shares IPFIX's template derivation and
 * field encoding. Uniflow only (v9 has no enterprise elements, so no RFC
 * 5103 reverse fields).
 */
#ifndef FE_NFV9_H
#define FE_NFV9_H
#include <stdint.h>
#include "ipfix.h"

#define NFV9_VERSION 9
#define NFV9_MSG_HDR_LEN 20
#define NFV9_SET_TEMPLATE 0
#define NFV9_SET_OPTIONS_TEMPLATE 1
/* v9's own scope field types (RFC 3954 6.1) */
#define NFV9_SCOPE_SYSTEM 1
#define NFV9_SCOPE_INTERFACE 2

extern const struct ipfix_wire nfv9_wire;

/* A v9 writer: source_id is the header's Source ID (the collector's
 * observation domain), boot_ms the UNIX ms the system booted at (the
 * header's sysUptime counts from it). As ipfix_writer__new otherwise.
 */
struct ipfix_writer *nfv9_writer__new(uint32_t source_id, uint16_t mtu,
				      uint64_t boot_ms, ipfix_send_fn send,
				      void *ctx);

/* The v9 scope field type of an IPFIX scope element: interface indexes
 * (ingressInterface, egressInterface) are "Interface", everything else
 * (exportingProcessId, observationDomainId, ...) "System".
 */
uint16_t nfv9_scope_type(uint16_t ie);

#endif
