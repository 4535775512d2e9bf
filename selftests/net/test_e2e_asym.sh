#!/bin/bash
# test_e2e_asym.sh - asymmetric routing: requests reach the server over
# fe-s1/fe-s2 (ECMP), every reply returns over fe-s3. One biflow record per
# conversation carries both directions exactly, the forward direction with
# (fe-c0 -> fe-s1|fe-s2) and the reverse with (fe-s3 -> fe-c0) interfaces
# (reverseIngressInterface/reverseEgressInterface); uniflow records say the
# same per direction. Metering egress only, egress + XDP, egress + tc
# ingress.
. "$(dirname "$0")/lib.sh"
fe_init asym

for ingress in off xdp tc; do
	fe_log "--- ingress = $ingress"
	fe_topo_up asym
	rm -rf "$FE_PIN"
	port=$(fe_port)
	uport=$(fe_port)
	fe_collect_start "c_$ingress" "$port"
	fe_collect_start "u_$ingress" "$uport"
	{
		fe_agent_conf "$ingress"
		fe_collector_conf c1 "$port" yes no
		fe_collector_conf u1 "$uport" no no
	} >"$FE_TMP/agent-$ingress.ini"
	fe_agent_start "$FE_TMP/agent-$ingress.ini"
	fe_gen "udp_$ingress" udp --flows 6 --count 30 --size 500 --echo \
		--sport 43000 --interval 0.0005
	fe_gen "udp6_$ingress" udp --dst fd00:fe:9::1 --flows 4 --count 30 \
		--size 700 --echo --sport 44000 --interval 0.0005
	fe_gen "icmp_$ingress" icmp --count 15 --size 100 --interval 0.005
	fe_gen "tcp_$ingress" tcp --flows 2 --bytes 100000 --write 4000 \
		--interval 0.001 --echo
	python3 - "$FE_TMP/udp_$ingress.json" "$FE_TMP/udp6_$ingress.json" <<'PY' || fe_fail "asym topology: a reply did not return over fe-s3 only"
import json, sys
for f in sys.argv[1:]:
    for x in json.load(open(f))["directions"]:
        if x["role"] == "reply" and set(x["links"]) != {"fe-s3"}:
            sys.exit(1)
        if x["role"] == "request" and "fe-s3" in x["links"]:
            sys.exit(1)
PY
	fe_agent_stop
	fe_collect_stop "c_$ingress"
	fe_collect_stop "u_$ingress"
	fe_log "uniflow records:"
	fe_verify "udp_$ingress udp6_$ingress icmp_$ingress tcp_$ingress" \
		"u_$ingress.jsonl" --biflow no --quiet
	fe_log "biflow records:"
	fe_verify "udp_$ingress udp6_$ingress icmp_$ingress" \
		"c_$ingress.jsonl" --biflow yes --one-record --require-rev-if \
		--quiet
	fe_verify "tcp_$ingress" "c_$ingress.jsonl" --biflow yes \
		--require-rev-if --quiet
done
exit 0
