#!/bin/bash
# test_e2e_udp_icmp.sh - flowagent on the symmetric multipath topology
# exports exact per-direction packets/octets for UDP and ICMP conversations
# spread over the three ECMP links, metering egress only and egress + tc ingress;
# ingress/egress interfaces and flowDirection right per direction.
#
#   client --fe-c0[router]fe-s1/2/3== server   (misc/create_netns.sh sym)
. "$(dirname "$0")/lib.sh"
fe_init udpicmp

for ingress in off tc; do
	fe_log "--- ingress = $ingress"
	fe_topo_up sym
	rm -rf "$FE_PIN"
	port=$(fe_port)
	uport=$(fe_port)
	fe_collect_start "bi_$ingress" "$port"
	fe_collect_start "uni_$ingress" "$uport"
	{
		fe_agent_conf "$ingress"
		fe_collector_conf bi "$port" yes no
		fe_collector_conf uni "$uport" no no
	} >"$FE_TMP/agent-$ingress.ini"
	fe_agent_start "$FE_TMP/agent-$ingress.ini"

	# 8 flows hash over the 3 links; echo makes both directions.
	fe_gen "udp_$ingress" udp --flows 8 --count 40 --size 300 --echo \
		--sport 41000 --port 5001 --interval 0.0005
	fe_gen "icmp_$ingress" icmp --count 20 --size 200 --interval 0.005
	fe_gen "udp1_$ingress" udp --count 25 --size 1400 --sport 42000 \
		--port 5003
	python3 - "$FE_TMP/udp_$ingress.json" <<'PY' || fe_fail "ECMP did not spread 8 flows over 2+ links"
import json, sys
d = json.load(open(sys.argv[1]))
links = {l for x in d["directions"] for l in x["links"]}
print("links used by the 8 UDP flows:", sorted(links))
sys.exit(len(links) < 2)
PY
	# The multipath view, from the agent's cache: each direction's row
	# names the links it used and holds its exact counts.
	fe_ctl dump --by-ifindex >"$FE_TMP/dump-$ingress.txt" 2>&1 ||
		fe_fail "flowctl dump --by-ifindex failed: $(tail -3 "$FE_TMP/dump-$ingress.txt")"
	fe_ctl dump --by-ifindex --json >"$FE_TMP/dump-$ingress.jsonl" \
		2>"$FE_TMP/dump-$ingress.err" ||
		fe_fail "flowctl dump --by-ifindex --json failed: $(tail -3 "$FE_TMP/dump-$ingress.err")"
	fe_agent_stop
	fe_collect_stop "bi_$ingress"
	fe_collect_stop "uni_$ingress"

	names="udp_$ingress icmp_$ingress udp1_$ingress"
	fe_log "flowctl dump --by-ifindex:"
	fe_verify "$names" "dump-$ingress.jsonl" --per-link --quiet
	fe_log "biflow collector:"
	fe_verify "$names" "bi_$ingress.jsonl" --biflow yes --one-record
	fe_log "uniflow collector:"
	fe_verify "$names" "uni_$ingress.jsonl" --biflow no
done
exit 0
