#!/usr/bin/env bash
# test_interop.sh - the agent's real export for a known traffic set (UDP,
# TCP, ICMP over IPv4, UDP over IPv6 through the multipath router, tc
# egress + tc ingress), in every output, decoded by the collectors that
# read it:
#  - IPFIX uniflow: flowctl collect, tshark, ipfixDump, nfcapd/nfdump and
#    pmacct's nfacctd agree on every record's addresses, ports, protocol,
#    packets, octets, flowDirection, interfaces and times;
#  - IPFIX biflow: flowctl collect, tshark and ipfixDump agree on both
#    halves, nfdump on everything it keeps (one time pair), nfacctd (which
#    skips reverse elements) on the forward halves, and logs no error;
#  - NetFlow v9: tshark, nfdump and nfacctd decode the records exactly as
#    flowctl collect decoded the IPFIX ones;
#  - options records: flowctl collect, tshark (IPFIX and v9) and ipfixDump
#    name the router's links; the exporter's statistics count every record;
#  - JSON lines: the same objects as flowctl collect --json prints;
#  - flowctl collect's table: one row per record, noise hidden.
# flowctl collect's records and the JSON lines also equal the ground truth.
. "$(dirname "$0")/lib.sh"
fe_require_cmd tshark ipfixDump nfcapd nfdump nfacctd tcpdump xxd
fe_init interop
fe_topo_up sym

# fe_nfacctd_start NAME PORT / fe_nfacctd_stop NAME: nfacctd's print
# plugin, one JSON line per record (aggregated on every key field and both
# times, so records stay apart) into $FE_TMP/NAME.json.
fe_nfacctd_start() {
	local name=$1 port=$2
	cat >"$FE_TMP/$name.conf" <<PM
daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: $port
plugins: print
print_output: json
print_output_file: $FE_TMP/$name.json
print_output_file_append: true
print_refresh_time: 1
print_num_protos: true
timestamps_utc: true
aggregate: src_host, dst_host, src_port, dst_port, proto, in_iface, out_iface, timestamp_start, timestamp_end
PM
	fe_bg "$name" nfacctd -f "$FE_TMP/$name.conf" >"$FE_TMP/$name.log" 2>&1
	fe_wait_for 10 grep -q "waiting for NetFlow/IPFIX data" "$FE_TMP/$name.log" ||
		fe_fail "nfacctd on port $port did not start: $(tail -3 "$FE_TMP/$name.log")"
}

fe_nfacctd_stop() {
	sleep 2 # a refresh writes what it holds
	fe_kill "$1" INT # nfacctd stops on SIGINT, not promptly on SIGTERM
	[ -s "$FE_TMP/$1.json" ] || fe_fail "nfacctd $1 wrote no record: $(tail -3 "$FE_TMP/$1.log")"
	# (its plugin may say "Core process *seems* gone" as it stops)
	if grep -v 'Core process .*seems.* gone' "$FE_TMP/$1.log" |
		grep -E '^(ERROR|WARN)|malformed|unable to'; then
		fe_fail "nfacctd $1 logged errors"
	fi
	return 0
}

p_uni=$(fe_port)
p_nfu=$(fe_port)
p_bi=$(fe_port)
p_nfb=$(fe_port)
p_v9=$(fe_port)
p_pmu=$(fe_port)
p_pmb=$(fe_port)
p_pm9=$(fe_port)
p_tab=$(fe_port)
fe_bg tcpdump tcpdump -i lo --immediate-mode -U -s 0 -w "$FE_TMP/export.pcap" \
	"udp and (port $p_uni or port $p_bi or port $p_v9)" 2>"$FE_TMP/tcpdump.err"
fe_wait_for 5 grep -q listening "$FE_TMP/tcpdump.err" ||
	fe_fail "tcpdump did not start: $(cat "$FE_TMP/tcpdump.err")"
fe_collect_start uni "$p_uni"
fe_collect_start bi "$p_bi"
fe_bg tab "$FLOWCTL" collect -l "127.0.0.1:$p_tab" --hide-noise \
	>"$FE_TMP/tab.txt" 2>"$FE_TMP/tab.err"
fe_wait_for 5 grep -qi listening "$FE_TMP/tab.err" || fe_fail "collect (table) did not start"
fe_nfcapd_start nfu "$p_nfu"
fe_nfcapd_start nfb "$p_nfb"
fe_nfcapd_start v9 "$p_v9"
fe_nfacctd_start pmu "$p_pmu"
fe_nfacctd_start pmb "$p_pmb"
fe_nfacctd_start pm9 "$p_pm9"
{
	fe_agent_conf tc
	# a short refresh: options records (and statistics) more than once
	fe_collector_conf uni "$p_uni" no no template_refresh=3
	fe_collector_conf nfu "$p_nfu" no no
	fe_collector_conf bi "$p_bi" yes no
	fe_collector_conf nfb "$p_nfb" yes no
	fe_collector_conf v9 "$p_v9" no no version=9
	fe_collector_conf pmu "$p_pmu" no no
	fe_collector_conf pmb "$p_pmb" yes no
	fe_collector_conf pm9 "$p_pm9" no no version=9
	fe_collector_conf tab "$p_tab" no no
	printf '\n[collector js]\nformat = json\npath = %s\nbiflow = no\n' "$FE_TMP/js.json"
	printf '\n[collector jb]\nformat = json\npath = %s\n' "$FE_TMP/jb.json"
} >"$FE_TMP/agent.ini"
fe_agent_start "$FE_TMP/agent.ini"

fe_gen udp4 udp --flows 2 --count 60 --size 200 --port 7001 --echo
fe_gen tcp4 tcp --bytes 120000 --port 7002 --echo
fe_gen icmp4 icmp --count 8
fe_gen udp6 udp --dst fd00:fe:9::1 --count 40 --size 500 --port 7003 --echo
fe_agent_stop
fe_collect_stop uni
fe_collect_stop bi
fe_collect_stop tab
fe_nfcapd_stop nfu
fe_nfcapd_stop nfb
fe_nfcapd_stop v9
fe_nfacctd_stop pmu
fe_nfacctd_stop pmb
fe_nfacctd_stop pm9
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

IOP=$(dirname "$0")/interop.py
fe_log "uniflow: flowctl collect vs tshark, ipfixDump, nfdump, nfacctd"
python3 "$IOP" compare --collect "$FE_TMP/uni.jsonl" \
	--tshark "$FE_TMP/export.pcap" "$p_uni" \
	--ipfixdump "$FE_TMP/uni.ipfixdump" --nfdump "$FE_TMP/nfu.json" \
	--nfacctd "$FE_TMP/pmu.json" ||
	fe_fail "the collectors disagree on the uniflow export"
fe_log "biflow: flowctl collect vs tshark, ipfixDump, nfdump"
python3 "$IOP" compare --collect "$FE_TMP/bi.jsonl" \
	--tshark "$FE_TMP/export.pcap" "$p_bi" \
	--ipfixdump "$FE_TMP/bi.ipfixdump" --nfdump "$FE_TMP/nfb.json" --biflow ||
	fe_fail "the collectors disagree on the biflow export"
fe_log "biflow: the forward halves in nfacctd"
python3 "$IOP" compare --collect "$FE_TMP/bi.jsonl" --biflow --forward-only \
	--nfacctd "$FE_TMP/pmb.json" ||
	fe_fail "nfacctd disagrees on the biflow export's forward halves"
fe_log "NetFlow v9: tshark, nfdump, nfacctd vs flowctl collect's IPFIX records"
python3 "$IOP" compare --collect "$FE_TMP/uni.jsonl" \
	--tshark "$FE_TMP/export.pcap" "$p_v9" --nfdump "$FE_TMP/v9.json" \
	--nfacctd "$FE_TMP/pm9.json" ||
	fe_fail "the collectors disagree on the NetFlow v9 export"
grep -q 'Sequence Errors: 0,' "$FE_TMP/v9.log" ||
	fe_fail "nfcapd counted v9 sequence errors: $(grep Sequence "$FE_TMP/v9.log")"
fe_log "options records: interface names and the exporter's statistics"
python3 "$IOP" options --collect "$FE_TMP/uni.jsonl" --ifmap "$FE_TMP/ifmap.json" \
	--tshark "$FE_TMP/export.pcap" "$p_uni" --ipfixdump "$FE_TMP/uni.ipfixdump" ||
	fe_fail "the options records are not what they should be (IPFIX)"
python3 "$IOP" options --collect "$FE_TMP/uni.jsonl" --ifmap "$FE_TMP/ifmap.json" \
	--tshark "$FE_TMP/export.pcap" "$p_v9" ||
	fe_fail "the options records are not what they should be (NetFlow v9)"
fe_log "JSON lines: the objects flowctl collect --json prints"
python3 "$IOP" jsonl --collect "$FE_TMP/uni.jsonl" --jsonl "$FE_TMP/js.json" ||
	fe_fail "the uniflow JSON lines differ from flowctl collect's"
python3 "$IOP" jsonl --collect "$FE_TMP/bi.jsonl" --jsonl "$FE_TMP/jb.json" ||
	fe_fail "the biflow JSON lines differ from flowctl collect's"
grep -q '"reverseOctetDeltaCount"' "$FE_TMP/jb.json" ||
	fe_fail "the biflow JSON lines carry no reverse names"
fe_log "flowctl collect's table"
head -1 "$FE_TMP/tab.txt" | grep -q '^TIME  *PROTO  *SRC  *DST  *PKTS  *BYTES  *RPKTS  *RBYTES  *IN>OUT  *DIR  *END$' ||
	fe_fail "table heading: $(head -1 "$FE_TMP/tab.txt")"
grep -E '^[0-9:.]+ +udp +10\.10\.0\.2:[0-9]+ +-> +10\.10\.9\.1:7001 +60 +13680 +- +- +fe-c0>fe-s[123] +out +forced$' \
	"$FE_TMP/tab.txt" >/dev/null || fe_fail "no table row for the udp4 flow: $(cat "$FE_TMP/tab.txt")"
grep -qE 'fe80:|ff02:' "$FE_TMP/tab.txt" && fe_fail "--hide-noise showed link-local records"
grep -q '^# domain 1 interface [0-9]*: fe-s2$' "$FE_TMP/tab.txt" ||
	fe_fail "the table shows no interface names: $(grep '^#' "$FE_TMP/tab.txt")"
rows=$(grep -c '^[0-9]' "$FE_TMP/tab.txt")
hidden=$(sed -n 's/.*records (\([0-9]*\) hidden as noise).*/\1/p' "$FE_TMP/tab.err")
flows=$(grep -v '"options"' "$FE_TMP/uni.jsonl" | grep -c '^{')
[ $((rows + hidden)) = "$flows" ] ||
	fe_fail "table: $rows rows + $hidden hidden, flowctl collect --json: $flows records"
fe_log "records against the ground truth"
fe_verify "udp4 tcp4 icmp4 udp6" uni.jsonl --biflow no
fe_verify "udp4 tcp4 icmp4 udp6" bi.jsonl --biflow yes --one-record
fe_verify "udp4 tcp4 icmp4 udp6" js.json --biflow no
fe_verify "udp4 tcp4 icmp4 udp6" jb.json --biflow yes --one-record
exit 0
