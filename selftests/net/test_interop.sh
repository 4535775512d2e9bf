#!/usr/bin/env bash
# test_interop.sh - the agent's real export for a known traffic set (UDP,
# TCP, ICMP over IPv4, UDP over IPv6 through the multipath router, tc
# egress + tc ingress) decoded by four collectors: flowctl collect, tshark,
# ipfixDump (libfixbuf-tools) and nfcapd/nfdump. Uniflow export: all four
# agree on every record's addresses, ports, protocol, packets, octets,
# flowDirection, interfaces and times. Biflow export: flowctl collect,
# tshark and ipfixDump agree on the forward and reverse halves, nfdump on
# everything it keeps (one time pair). flowctl collect's records also equal
# the ground truth.
. "$(dirname "$0")/lib.sh"
fe_require_cmd tshark ipfixDump nfcapd nfdump tcpdump xxd
fe_init interop
fe_topo_up sym

p_uni=$(fe_port)
p_nfu=$(fe_port)
p_bi=$(fe_port)
p_nfb=$(fe_port)
fe_bg tcpdump tcpdump -i lo --immediate-mode -U -s 0 -w "$FE_TMP/export.pcap" \
	"udp and (port $p_uni or port $p_bi)" 2>"$FE_TMP/tcpdump.err"
fe_wait_for 5 grep -q listening "$FE_TMP/tcpdump.err" ||
	fe_fail "tcpdump did not start: $(cat "$FE_TMP/tcpdump.err")"
fe_collect_start uni "$p_uni"
fe_collect_start bi "$p_bi"
fe_nfcapd_start nfu "$p_nfu"
fe_nfcapd_start nfb "$p_nfb"
{
	fe_agent_conf tc
	fe_collector_conf uni "$p_uni" no no
	fe_collector_conf nfu "$p_nfu" no no
	fe_collector_conf bi "$p_bi" yes no
	fe_collector_conf nfb "$p_nfb" yes no
} >"$FE_TMP/agent.ini"
fe_agent_start "$FE_TMP/agent.ini"

fe_gen udp4 udp --flows 2 --count 60 --size 200 --port 7001 --echo
fe_gen tcp4 tcp --bytes 120000 --port 7002 --echo
fe_gen icmp4 icmp --count 8
fe_gen udp6 udp --dst fd00:fe:9::1 --count 40 --size 500 --port 7003 --echo
fe_agent_stop
fe_collect_stop uni
fe_collect_stop bi
fe_nfcapd_stop nfu
fe_nfcapd_stop nfb
sleep 1 # tcpdump writes what the kernel still holds
fe_kill tcpdump INT

export TZ=UTC
for p in uni:$p_uni bi:$p_bi; do
	n=${p%%:*} port=${p#*:}
	tshark -r "$FE_TMP/export.pcap" -Y "udp.dstport==$port" -T fields \
		-e udp.payload 2>/dev/null | xxd -r -p >"$FE_TMP/$n.ipfix"
	ipfixDump --in "$FE_TMP/$n.ipfix" >"$FE_TMP/$n.ipfixdump" 2>&1 ||
		fe_fail "ipfixDump could not read the $n export: $(tail -3 "$FE_TMP/$n.ipfixdump")"
done

fe_log "uniflow: flowctl collect vs tshark, ipfixDump, nfdump"
python3 "$(dirname "$0")/interop.py" compare --collect "$FE_TMP/uni.jsonl" \
	--tshark "$FE_TMP/export.pcap" "$p_uni" \
	--ipfixdump "$FE_TMP/uni.ipfixdump" --nfdump "$FE_TMP/nfu.json" ||
	fe_fail "the collectors disagree on the uniflow export"
fe_log "biflow: flowctl collect vs tshark, ipfixDump, nfdump"
python3 "$(dirname "$0")/interop.py" compare --collect "$FE_TMP/bi.jsonl" \
	--tshark "$FE_TMP/export.pcap" "$p_bi" \
	--ipfixdump "$FE_TMP/bi.ipfixdump" --nfdump "$FE_TMP/nfb.json" --biflow ||
	fe_fail "the collectors disagree on the biflow export"
fe_log "records against the ground truth"
fe_verify "udp4 tcp4 icmp4 udp6" uni.jsonl --biflow no
fe_verify "udp4 tcp4 icmp4 udp6" bi.jsonl --biflow yes --one-record
exit 0
