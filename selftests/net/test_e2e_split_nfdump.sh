#!/bin/bash
# test_e2e_split_nfdump.sh - conversations whose requests move between the
# router's links mid-flow (the route to the service is replaced twice while
# traffic runs). split_links = yes: one record per link, exact per link and
# in total; split_links = no: one biflow record per conversation. In the
# same run nfcapd/nfdump decodes the same split export as `flowctl collect`
# and both agree, record for record.
. "$(dirname "$0")/lib.sh"
fe_require_cmd nfcapd nfdump
fe_init splitnf

fe_topo_up sym
p_split=$(fe_port)
p_nf=$(fe_port)
p_one=$(fe_port)
p_uni=$(fe_port)
fe_collect_start split "$p_split"
fe_nfcapd_start nf "$p_nf"
fe_collect_start one "$p_one"
fe_collect_start uni "$p_uni"
{
	fe_agent_conf tc
	fe_collector_conf split "$p_split" yes yes
	fe_collector_conf nf "$p_nf" yes yes
	fe_collector_conf one "$p_one" yes no
	fe_collector_conf uni "$p_uni" no yes
} >"$FE_TMP/agent.ini"
fe_agent_start "$FE_TMP/agent.ini"

fe_gen_bg udp udp --flows 4 --count 150 --interval 0.005 --echo --size 400 \
	--sport 46000
sleep 1
fe_nsexec rtr ip route replace 10.10.9.1/32 via 10.10.1.2 dev fe-s1 ||
	fe_fail "cannot move the route to fe-s1"
sleep 1
fe_nsexec rtr ip route replace 10.10.9.1/32 via 10.10.2.2 dev fe-s2 ||
	fe_fail "cannot move the route to fe-s2"
fe_gen_wait udp
python3 - "$FE_TMP/udp.json" <<'PY' || fe_fail "no request used two links: the route change did not take"
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(not any(len(x["links"]) > 1 for x in d["directions"]))
PY
fe_agent_stop
fe_collect_stop split
fe_collect_stop one
fe_collect_stop uni
fe_nfcapd_stop nf

fe_log "split_links = yes (flowctl collect):"
fe_verify udp split.jsonl --biflow yes --per-link
fe_log "split_links = yes (nfdump):"
fe_verify udp nf.json --biflow yes --per-link
fe_log "split_links = no:"
fe_verify udp one.jsonl --biflow yes --one-record
fe_log "uniflow, split_links = yes:"
fe_verify udp uni.jsonl --biflow no --per-link

# nfdump and flowctl collect saw the same records.
python3 - "$FE_TMP/split.jsonl" "$FE_TMP/nf.json" <<'PY' || fe_fail "nfdump and flowctl collect disagree"
import json, sys
def key(src, dst, sp, dp, pr, ip, op, ib, ob, iif, oif):
    return (src, dst, sp, dp, pr, ip, op, ib, ob, iif, oif)
a = []
for line in open(sys.argv[1]):
    if not line.startswith("{"):
        continue
    o = json.loads(line)
    if o.get("options") or o.get("protocolIdentifier") != 17:
        continue
    a.append(key(o.get("sourceIPv4Address"), o.get("destinationIPv4Address"),
                 o.get("sourceTransportPort"), o.get("destinationTransportPort"),
                 17, o.get("packetDeltaCount", 0),
                 o.get("reversePacketDeltaCount", 0),
                 o.get("octetDeltaCount", 0), o.get("reverseOctetDeltaCount", 0),
                 o.get("ingressInterface"), o.get("egressInterface")))
b = []
for o in json.load(open(sys.argv[2])):
    if o.get("type") != "FLOW" or o.get("proto") != 17:
        continue
    b.append(key(o.get("src4_addr"), o.get("dst4_addr"), o.get("src_port"),
                 o.get("dst_port"), 17, o.get("in_packets", 0),
                 o.get("out_packets", 0), o.get("in_bytes", 0),
                 o.get("out_bytes", 0), o.get("input_snmp"),
                 o.get("output_snmp")))
print("flowctl collect: %d UDP records, nfdump: %d" % (len(a), len(b)))
only_a = sorted(set(a) - set(b))
only_b = sorted(set(b) - set(a))
for r in only_a:
    print("only in flowctl collect:", r)
for r in only_b:
    print("only in nfdump:", r)
sys.exit(bool(only_a or only_b) or sorted(a) != sorted(b))
PY
exit 0
