/* ie.c - the IPFIX information element registry: IANA names, ids, types and
 * the two flowexp properties (reversible per RFC 5103, exportable from a
 * struct fe_record), and the parser of element name lists.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "hint.h"
#include "ie.h"

#define R true	/* reversible */
#define N false /* not reversible / not exportable */
#define X true	/* exportable */
#define IE(i, n, t, l, r, x)                                     \
	{                                                        \
		.id = i, .name = #n, .type = IE_T_##t, .len = l, \
		.reversible = r, .exportable = x                 \
	}
#define V IE_VARLEN

/* Sorted by id (ie_by_id bisects). "reversible" follows RFC 5103 6.1: the
 * Identifiers, the Process Configuration and Process Statistics elements,
 * paddingOctets and biflowDirection have no reverse twin; nor do the flow
 * key fields (addresses, ports, protocol, ipVersion, vlanId), which a
 * biflow carries once, nor flowEndReason, which a biflow record has once.
 * One deliberate exception: ingressInterface and egressInterface (listed
 * among the Identifiers) get reverse twins, because on a router with an
 * asymmetric return path the reply direction crosses other interfaces
 * than the request, and a biflow record must say which. Collectors decode
 * them as any reverse element (libfixbuf, Wireshark); nfdump keeps the
 * forward value, which follows its reverse twin. Uniflow records
 * (biflow = no) need no such extension.
 * tcpControlBits is exported in its 1-octet reduced size (the form every
 * collector decodes); decoders accept 1 or 2.
 */
static const struct ie_def ie_table[] = {
	IE(1, octetDeltaCount, U64, 8, R, X),
	IE(2, packetDeltaCount, U64, 8, R, X),
	IE(3, deltaFlowCount, U64, 8, R, N),
	IE(4, protocolIdentifier, U8, 1, N, X),
	IE(5, ipClassOfService, U8, 1, R, X),
	IE(6, tcpControlBits, U16, 1, R, X),
	IE(7, sourceTransportPort, U16, 2, N, X),
	IE(8, sourceIPv4Address, IPV4, 4, N, X),
	IE(9, sourceIPv4PrefixLength, U8, 1, N, N),
	IE(10, ingressInterface, U32, 4, R, X),
	IE(11, destinationTransportPort, U16, 2, N, X),
	IE(12, destinationIPv4Address, IPV4, 4, N, X),
	IE(13, destinationIPv4PrefixLength, U8, 1, N, N),
	IE(14, egressInterface, U32, 4, R, X),
	IE(15, ipNextHopIPv4Address, IPV4, 4, N, N),
	IE(16, bgpSourceAsNumber, U32, 4, N, N),
	IE(17, bgpDestinationAsNumber, U32, 4, N, N),
	IE(18, bgpNextHopIPv4Address, IPV4, 4, N, N),
	IE(19, postMCastPacketDeltaCount, U64, 8, R, N),
	IE(20, postMCastOctetDeltaCount, U64, 8, R, N),
	IE(21, flowEndSysUpTime, U32, 4, R, N),
	IE(22, flowStartSysUpTime, U32, 4, R, N),
	IE(23, postOctetDeltaCount, U64, 8, R, N),
	IE(24, postPacketDeltaCount, U64, 8, R, N),
	IE(25, minimumIpTotalLength, U64, 8, R, N),
	IE(26, maximumIpTotalLength, U64, 8, R, N),
	IE(27, sourceIPv6Address, IPV6, 16, N, X),
	IE(28, destinationIPv6Address, IPV6, 16, N, X),
	IE(29, sourceIPv6PrefixLength, U8, 1, N, N),
	IE(30, destinationIPv6PrefixLength, U8, 1, N, N),
	IE(31, flowLabelIPv6, U32, 4, R, X),
	IE(32, icmpTypeCodeIPv4, U16, 2, R, X),
	IE(33, igmpType, U8, 1, R, N),
	IE(34, samplingInterval, U32, 4, N, N),
	IE(35, samplingAlgorithm, U8, 1, N, N),
	IE(36, flowActiveTimeout, U16, 2, N, N),
	IE(37, flowIdleTimeout, U16, 2, N, N),
	IE(38, engineType, U8, 1, N, N),
	IE(39, engineId, U8, 1, N, N),
	IE(40, exportedOctetTotalCount, U64, 8, N, N),
	IE(41, exportedMessageTotalCount, U64, 8, N, N),
	IE(42, exportedFlowRecordTotalCount, U64, 8, N, N),
	IE(44, sourceIPv4Prefix, IPV4, 4, N, N),
	IE(45, destinationIPv4Prefix, IPV4, 4, N, N),
	IE(46, mplsTopLabelType, U8, 1, N, N),
	IE(47, mplsTopLabelIPv4Address, IPV4, 4, N, N),
	IE(48, samplerId, U8, 1, N, N),
	IE(49, samplerMode, U8, 1, N, N),
	IE(50, samplerRandomInterval, U32, 4, N, N),
	IE(51, classId, U8, 1, N, N),
	IE(52, minimumTTL, U8, 1, R, X),
	IE(53, maximumTTL, U8, 1, R, X),
	IE(54, fragmentIdentification, U32, 4, R, N),
	IE(55, postIpClassOfService, U8, 1, R, N),
	IE(56, sourceMacAddress, MAC, 6, N, N),
	IE(57, postDestinationMacAddress, MAC, 6, N, N),
	IE(58, vlanId, U16, 2, N, X),
	IE(59, postVlanId, U16, 2, N, N),
	IE(60, ipVersion, U8, 1, N, X),
	IE(61, flowDirection, U8, 1, R, X),
	IE(62, ipNextHopIPv6Address, IPV6, 16, N, N),
	IE(63, bgpNextHopIPv6Address, IPV6, 16, N, N),
	IE(64, ipv6ExtensionHeaders, U32, 4, R, N),
	IE(70, mplsTopLabelStackSection, OCTETS, V, N, N),
	IE(80, destinationMacAddress, MAC, 6, N, N),
	IE(81, postSourceMacAddress, MAC, 6, N, N),
	IE(82, interfaceName, STRING, V, N, N),
	IE(83, interfaceDescription, STRING, V, N, N),
	IE(84, samplerName, STRING, V, N, N),
	IE(85, octetTotalCount, U64, 8, R, N),
	IE(86, packetTotalCount, U64, 8, R, N),
	IE(87, flagsAndSamplerId, U32, 4, N, N),
	IE(88, fragmentOffset, U16, 2, R, N),
	IE(89, forwardingStatus, U32, 4, R, N),
	IE(90, mplsVpnRouteDistinguisher, OCTETS, V, N, N),
	IE(91, mplsTopLabelPrefixLength, U8, 1, N, N),
	IE(94, applicationDescription, STRING, V, N, N),
	IE(95, applicationId, OCTETS, V, N, N),
	IE(96, applicationName, STRING, V, N, N),
	IE(98, postIpDiffServCodePoint, U8, 1, R, N),
	IE(99, multicastReplicationFactor, U32, 4, R, N),
	IE(128, bgpNextAdjacentAsNumber, U32, 4, N, N),
	IE(129, bgpPrevAdjacentAsNumber, U32, 4, N, N),
	IE(130, exporterIPv4Address, IPV4, 4, N, N),
	IE(131, exporterIPv6Address, IPV6, 16, N, N),
	IE(132, droppedOctetDeltaCount, U64, 8, R, X),
	IE(133, droppedPacketDeltaCount, U64, 8, R, X),
	IE(134, droppedOctetTotalCount, U64, 8, R, N),
	IE(135, droppedPacketTotalCount, U64, 8, R, N),
	IE(136, flowEndReason, U8, 1, N, X),
	IE(137, commonPropertiesId, U64, 8, N, N),
	IE(138, observationPointId, U64, 8, N, N),
	IE(139, icmpTypeCodeIPv6, U16, 2, R, X),
	IE(140, mplsTopLabelIPv6Address, IPV6, 16, N, N),
	IE(141, lineCardId, U32, 4, N, N),
	IE(142, portId, U32, 4, N, N),
	IE(143, meteringProcessId, U32, 4, N, N),
	IE(144, exportingProcessId, U32, 4, N, N),
	IE(145, templateId, U16, 2, N, N),
	IE(146, wlanChannelId, U8, 1, N, N),
	IE(147, wlanSSID, STRING, V, N, N),
	IE(148, flowId, U64, 8, N, N),
	IE(149, observationDomainId, U32, 4, N, X),
	IE(150, flowStartSeconds, SEC, 4, R, X),
	IE(151, flowEndSeconds, SEC, 4, R, X),
	IE(152, flowStartMilliseconds, MS, 8, R, X),
	IE(153, flowEndMilliseconds, MS, 8, R, X),
	IE(154, flowStartMicroseconds, US, 8, R, X),
	IE(155, flowEndMicroseconds, US, 8, R, X),
	IE(156, flowStartNanoseconds, NS, 8, R, X),
	IE(157, flowEndNanoseconds, NS, 8, R, X),
	IE(158, flowStartDeltaMicroseconds, U32, 4, R, N),
	IE(159, flowEndDeltaMicroseconds, U32, 4, R, N),
	IE(160, systemInitTimeMilliseconds, MS, 8, N, N),
	IE(161, flowDurationMilliseconds, U32, 4, R, X),
	IE(162, flowDurationMicroseconds, U32, 4, R, X),
	IE(163, observedFlowTotalCount, U64, 8, N, N),
	IE(164, ignoredPacketTotalCount, U64, 8, N, N),
	IE(165, ignoredOctetTotalCount, U64, 8, N, N),
	IE(166, notSentFlowTotalCount, U64, 8, N, N),
	IE(167, notSentPacketTotalCount, U64, 8, N, N),
	IE(168, notSentOctetTotalCount, U64, 8, N, N),
	IE(169, destinationIPv6Prefix, IPV6, 16, N, N),
	IE(170, sourceIPv6Prefix, IPV6, 16, N, N),
	IE(171, postOctetTotalCount, U64, 8, R, N),
	IE(172, postPacketTotalCount, U64, 8, R, N),
	IE(173, flowKeyIndicator, U64, 8, N, N),
	IE(174, postMCastPacketTotalCount, U64, 8, R, N),
	IE(175, postMCastOctetTotalCount, U64, 8, R, N),
	IE(176, icmpTypeIPv4, U8, 1, R, X),
	IE(177, icmpCodeIPv4, U8, 1, R, X),
	IE(178, icmpTypeIPv6, U8, 1, R, X),
	IE(179, icmpCodeIPv6, U8, 1, R, X),
	IE(180, udpSourcePort, U16, 2, N, N),
	IE(181, udpDestinationPort, U16, 2, N, N),
	IE(182, tcpSourcePort, U16, 2, N, N),
	IE(183, tcpDestinationPort, U16, 2, N, N),
	IE(184, tcpSequenceNumber, U32, 4, R, N),
	IE(185, tcpAcknowledgementNumber, U32, 4, R, N),
	IE(186, tcpWindowSize, U16, 2, R, N),
	IE(187, tcpUrgentPointer, U16, 2, R, N),
	IE(188, tcpHeaderLength, U8, 1, R, N),
	IE(189, ipHeaderLength, U8, 1, R, N),
	IE(190, totalLengthIPv4, U16, 2, R, N),
	IE(191, payloadLengthIPv6, U16, 2, R, N),
	IE(192, ipTTL, U8, 1, R, N),
	IE(193, nextHeaderIPv6, U8, 1, N, N),
	IE(194, mplsPayloadLength, U32, 4, R, N),
	IE(195, ipDiffServCodePoint, U8, 1, R, X),
	IE(196, ipPrecedence, U8, 1, R, X),
	IE(197, fragmentFlags, U8, 1, R, N),
	IE(198, octetDeltaSumOfSquares, U64, 8, R, N),
	IE(199, octetTotalSumOfSquares, U64, 8, R, N),
	IE(200, mplsTopLabelTTL, U8, 1, R, N),
	IE(201, mplsLabelStackLength, U32, 4, R, N),
	IE(202, mplsLabelStackDepth, U32, 4, R, N),
	IE(203, mplsTopLabelExp, U8, 1, R, N),
	IE(204, ipPayloadLength, U32, 4, R, N),
	IE(205, udpMessageLength, U16, 2, R, N),
	IE(206, isMulticast, U8, 1, R, N),
	IE(207, ipv4IHL, U8, 1, R, N),
	IE(208, ipv4Options, U32, 4, R, N),
	IE(209, tcpOptions, U64, 8, R, N),
	IE(210, paddingOctets, OCTETS, V, N, N),
	IE(211, collectorIPv4Address, IPV4, 4, N, N),
	IE(212, collectorIPv6Address, IPV6, 16, N, N),
	IE(213, exportInterface, U32, 4, N, N),
	IE(214, exportProtocolVersion, U8, 1, N, N),
	IE(215, exportTransportProtocol, U8, 1, N, N),
	IE(216, collectorTransportPort, U16, 2, N, N),
	IE(217, exporterTransportPort, U16, 2, N, N),
	IE(218, tcpSynTotalCount, U64, 8, R, N),
	IE(219, tcpFinTotalCount, U64, 8, R, N),
	IE(220, tcpRstTotalCount, U64, 8, R, N),
	IE(221, tcpPshTotalCount, U64, 8, R, N),
	IE(222, tcpAckTotalCount, U64, 8, R, N),
	IE(223, tcpUrgTotalCount, U64, 8, R, N),
	IE(224, ipTotalLength, U64, 8, R, N),
	IE(225, postNATSourceIPv4Address, IPV4, 4, N, X),
	IE(226, postNATDestinationIPv4Address, IPV4, 4, N, X),
	IE(227, postNAPTSourceTransportPort, U16, 2, N, X),
	IE(228, postNAPTDestinationTransportPort, U16, 2, N, X),
	IE(229, natOriginatingAddressRealm, U8, 1, N, N),
	IE(230, natEvent, U8, 1, N, N),
	IE(231, initiatorOctets, U64, 8, N, N),
	IE(232, responderOctets, U64, 8, N, N),
	IE(233, firewallEvent, U8, 1, N, N),
	IE(234, ingressVRFID, U32, 4, N, N),
	IE(235, egressVRFID, U32, 4, N, N),
	IE(236, VRFname, STRING, V, N, N),
	IE(237, postMplsTopLabelExp, U8, 1, R, N),
	IE(238, tcpWindowScale, U16, 2, R, N),
	IE(239, biflowDirection, U8, 1, N, X),
	IE(240, ethernetHeaderLength, U8, 1, R, N),
	IE(241, ethernetPayloadLength, U16, 2, R, N),
	IE(242, ethernetTotalLength, U16, 2, R, N),
	IE(243, dot1qVlanId, U16, 2, N, X),
	IE(244, dot1qPriority, U8, 1, N, N),
	IE(245, dot1qCustomerVlanId, U16, 2, N, N),
	IE(246, dot1qCustomerPriority, U8, 1, N, N),
	IE(247, metroEvcId, STRING, V, N, N),
	IE(248, metroEvcType, U8, 1, N, N),
	IE(249, pseudoWireId, U32, 4, N, N),
	IE(250, pseudoWireType, U16, 2, N, N),
	IE(251, pseudoWireControlWord, U32, 4, N, N),
	IE(252, ingressPhysicalInterface, U32, 4, N, N),
	IE(253, egressPhysicalInterface, U32, 4, N, N),
	IE(254, postDot1qVlanId, U16, 2, N, N),
	IE(255, postDot1qCustomerVlanId, U16, 2, N, N),
	IE(256, ethernetType, U16, 2, N, N),
	IE(257, postIpPrecedence, U8, 1, R, N),
	IE(258, collectionTimeMilliseconds, MS, 8, N, N),
	IE(259, exportSctpStreamId, U16, 2, N, N),
	IE(260, maxExportSeconds, SEC, 4, N, N),
	IE(261, maxFlowEndSeconds, SEC, 4, N, N),
	IE(262, messageMD5Checksum, OCTETS, V, N, N),
	IE(263, messageScope, U8, 1, N, N),
	IE(264, minExportSeconds, SEC, 4, N, N),
	IE(265, minFlowStartSeconds, SEC, 4, N, N),
	IE(266, opaqueOctets, OCTETS, V, N, N),
	IE(267, sessionScope, U8, 1, N, N),
	IE(268, maxFlowEndMicroseconds, US, 8, N, N),
	IE(269, maxFlowEndMilliseconds, MS, 8, N, N),
	IE(270, maxFlowEndNanoseconds, NS, 8, N, N),
	IE(271, minFlowStartMicroseconds, US, 8, N, N),
	IE(272, minFlowStartMilliseconds, MS, 8, N, N),
	IE(273, minFlowStartNanoseconds, NS, 8, N, N),
	IE(276, dataRecordsReliability, BOOL, 1, N, N),
	IE(277, observationPointType, U8, 1, N, N),
	IE(278, newConnectionDeltaCount, U32, 4, R, N),
	IE(279, connectionSumDurationSeconds, U64, 8, R, N),
	IE(280, connectionTransactionId, U64, 8, N, N),
	IE(281, postNATSourceIPv6Address, IPV6, 16, N, X),
	IE(282, postNATDestinationIPv6Address, IPV6, 16, N, X),
	IE(283, natPoolId, U32, 4, N, N),
	IE(284, natPoolName, STRING, V, N, N),
	IE(285, anonymizationFlags, U16, 2, N, N),
	IE(286, anonymizationTechnique, U16, 2, N, N),
	IE(287, informationElementIndex, U16, 2, N, N),
	IE(288, p2pTechnology, STRING, V, N, N),
	IE(289, tunnelTechnology, STRING, V, N, N),
	IE(290, encryptedTechnology, STRING, V, N, N),
	IE(294, bgpValidityState, U8, 1, N, N),
	IE(295, IPSecSPI, U32, 4, N, N),
	IE(296, greKey, U32, 4, N, N),
	IE(297, natType, U8, 1, N, N),
	IE(298, initiatorPackets, U64, 8, N, N),
	IE(299, responderPackets, U64, 8, N, N),
	IE(300, observationDomainName, STRING, V, N, N),
	IE(301, selectionSequenceId, U64, 8, N, N),
	IE(302, selectorId, U64, 8, N, N),
	IE(303, informationElementId, U16, 2, N, N),
	IE(304, selectorAlgorithm, U16, 2, N, N),
	IE(305, samplingPacketInterval, U32, 4, N, N),
	IE(306, samplingPacketSpace, U32, 4, N, N),
	IE(307, samplingTimeInterval, U32, 4, N, N),
	IE(308, samplingTimeSpace, U32, 4, N, N),
	IE(309, samplingSize, U32, 4, N, N),
	IE(310, samplingPopulation, U32, 4, N, N),
	IE(311, samplingProbability, FLOAT64, 8, N, N),
	IE(312, dataLinkFrameSize, U16, 2, N, N),
	IE(313, ipHeaderPacketSection, OCTETS, V, N, N),
	IE(314, ipPayloadPacketSection, OCTETS, V, N, N),
	IE(315, dataLinkFrameSection, OCTETS, V, N, N),
	IE(316, mplsLabelStackSection, OCTETS, V, N, N),
	IE(317, mplsPayloadPacketSection, OCTETS, V, N, N),
	IE(318, selectorIdTotalPktsObserved, U64, 8, N, N),
	IE(319, selectorIdTotalPktsSelected, U64, 8, N, N),
	IE(320, absoluteError, FLOAT64, 8, N, N),
	IE(321, relativeError, FLOAT64, 8, N, N),
	IE(322, observationTimeSeconds, SEC, 4, N, N),
	IE(323, observationTimeMilliseconds, MS, 8, N, N),
	IE(324, observationTimeMicroseconds, US, 8, N, N),
	IE(325, observationTimeNanoseconds, NS, 8, N, N),
	IE(326, digestHashValue, U64, 8, N, N),
	IE(346, privateEnterpriseNumber, U32, 4, N, N),
	IE(351, layer2SegmentId, U64, 8, N, N),
	IE(352, layer2OctetDeltaCount, U64, 8, R, N),
	IE(353, layer2OctetTotalCount, U64, 8, R, N),
	IE(361, portRangeStart, U16, 2, N, N),
	IE(362, portRangeEnd, U16, 2, N, N),
	IE(368, ingressInterfaceType, U32, 4, N, N),
	IE(369, egressInterfaceType, U32, 4, N, N),
};

#define IE_COUNT (sizeof(ie_table) / sizeof(ie_table[0]))

const struct ie_def *ie_by_id(uint16_t id)
{
	size_t lo = 0, hi = IE_COUNT;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ie_table[mid].id == id)
			return &ie_table[mid];
		if (ie_table[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct ie_def *ie_by_name(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < IE_COUNT; i++)
		if (!strcasecmp(ie_table[i].name, name))
			return &ie_table[i];
	return NULL;
}

const struct ie_def *ie_at(int i)
{
	if (i < 0 || (size_t)i >= IE_COUNT)
		return NULL;
	return &ie_table[i];
}

/* Pairs of elements that say the same thing for IPv4 and for IPv6. */
static const uint16_t ie_family_pairs[][2] = {
	{ 8, 27 },    /* source address */
	{ 12, 28 },   /* destination address */
	{ 15, 62 },   /* ipNextHop */
	{ 18, 63 },   /* bgpNextHop */
	{ 32, 139 },  /* icmpTypeCode */
	{ 176, 178 }, /* icmpType */
	{ 177, 179 }, /* icmpCode */
	{ 9, 29 },    /* source prefix length */
	{ 13, 30 },   /* destination prefix length */
	{ 44, 170 },  /* source prefix */
	{ 45, 169 },  /* destination prefix */
	{ 130, 131 }, /* exporter address */
	{ 225, 281 }, /* post-NAT source */
	{ 226, 282 }, /* post-NAT destination */
};

/* Elements that exist for one family only and have no twin. */
static bool ie_v6_only(uint16_t id)
{
	return id == 31 || id == 64 || id == 191 || id == 193;
}

static bool ie_v4_only(uint16_t id)
{
	return id == 190 || id == 207 || id == 208;
}

uint16_t ie_for_family(uint16_t id, int family)
{
	size_t i;

	for (i = 0; i < sizeof(ie_family_pairs) / sizeof(ie_family_pairs[0]);
	     i++) {
		if (id == ie_family_pairs[i][0] || id == ie_family_pairs[i][1])
			return ie_family_pairs[i][family == 6 ? 1 : 0];
	}
	if (family == 4 && ie_v6_only(id))
		return 0;
	if (family == 6 && ie_v4_only(id))
		return 0;
	return id;
}

/* The registry's name nearest to an unknown element name, if near. */
static const char *ie_suggest(const char *name)
{
	const struct ie_def *best = NULL;
	int d, bestd = 4;
	size_t i;

	for (i = 0; i < IE_COUNT; i++) {
		d = hint_distance(name, ie_table[i].name);
		if (d < bestd) {
			bestd = d;
			best = &ie_table[i];
		}
	}
	return best ? best->name : NULL;
}

/* The element a name of len characters at s names, with the error. */
static const struct ie_def *ie_list_lookup(const char *s, size_t len, char *err,
					   size_t errlen)
{
	const struct ie_def *ie = NULL;
	const char *hint = NULL;
	char name[64];

	/* no element has a longer name, nor does a near miss */
	if (len < sizeof(name)) {
		memcpy(name, s, len);
		name[len] = '\0';
		ie = ie_by_name(name);
		if (!ie)
			hint = ie_suggest(name);
	}
	if (ie && !ie->exportable)
		snprintf(err, errlen,
			 "information element '%s' is not exported by flowexp",
			 ie->name);
	else if (!ie && hint)
		snprintf(err, errlen,
			 "unknown information element '%.*s' (did you mean "
			 "'%s'?)",
			 (int)len, s, hint);
	else if (!ie)
		snprintf(err, errlen,
			 "unknown information element '%.*s' (IANA names, see "
			 "docs/flowexp.ini.5)",
			 (int)len, s);
	return ie && ie->exportable ? ie : NULL;
}

int ie_parse_list(const char *list, uint16_t *ies, int max, int *n, char *err,
		  size_t errlen)
{
	static const char sep[] = " \t\n\v\f\r,";
	const struct ie_def *ie;
	const char *s = list;
	size_t len;
	int i;

	for (s += strspn(s, sep); *s; s += len, s += strspn(s, sep)) {
		len = strcspn(s, sep);
		ie = ie_list_lookup(s, len, err, errlen);
		if (!ie)
			return -EINVAL;
		for (i = 0; i < *n && ies[i] != ie->id; i++)
			;
		if (i < *n) {
			snprintf(err, errlen, "'%s' listed twice", ie->name);
			return -EINVAL;
		}
		if (*n >= max) {
			snprintf(err, errlen, "more than %d fields", max);
			return -EINVAL;
		}
		ies[(*n)++] = ie->id;
	}
	return 0;
}
