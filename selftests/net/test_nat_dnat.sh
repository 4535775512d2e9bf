#!/bin/bash
# test_nat_dnat.sh - a port forward: the router DNATs what the client sends
# to its own address (10.10.0.1 / fd00:fe::1, TCP 8080, UDP 8081) to the
# service behind the three ECMP links (10.10.9.1 / fd00:fe:9::1, 5002 and
# 5001). In ingress modes tc, xdp and off every conversation is one biflow
# record under the tuple the client used, both directions exact against
# the captures, with postNATDestinationIPv4Address (IPv6 twin) and
# postNAPTDestinationTransportPort the service's; uniflow records the same
# per direction.
. "$(dirname "$0")/lib.sh"
fe_init dnat
fe_require_cmd nft

port_forward() {
	fe_nsexec rtr nft -f - <<'NFT' || fe_fail "nft: cannot load the port forward"
table inet fe_dnat {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "fe-c0" ip daddr 10.10.0.1 tcp dport 8080 dnat ip to 10.10.9.1:5002
		iifname "fe-c0" ip daddr 10.10.0.1 udp dport 8081 dnat ip to 10.10.9.1:5001
		iifname "fe-c0" ip6 daddr fd00:fe::1 udp dport 8081 dnat ip6 to [fd00:fe:9::1]:5001
	}
}
NFT
}

for ingress in tc xdp off; do
	fe_log "--- ingress = $ingress"
	fe_topo_up sym
	port_forward
	fe_pair_start "$ingress" "$ingress" template=nat
	fe_gen "udp_$ingress" udp --nat --to 10.10.0.1 --to-port 8081 \
		--flows 4 --count 30 --size 500 --echo --sport 43000 \
		--interval 0.0005
	fe_gen "udp6_$ingress" udp --nat --to fd00:fe::1 --to-port 8081 \
		--dst fd00:fe:9::1 --flows 2 --count 30 --size 700 --echo \
		--sport 44000 --interval 0.0005
	fe_gen "tcp_$ingress" tcp --nat --to 10.10.0.1 --to-port 8080 \
		--flows 2 --bytes 60000 --write 4000 --interval 0.001 --echo
	python3 - "$FE_TMP"/udp_"$ingress".json "$FE_TMP"/tcp_"$ingress".json <<'PY' || fe_fail "the port forward did not translate as the test expects"
import json, sys
for f in sys.argv[1:]:
    for x in json.load(open(f))["directions"]:
        if x["role"] == "request":
            assert x["dst"] == "10.10.0.1" and \
                x["post"]["dst"] == "10.10.9.1", x
            assert x["dport"] in (8080, 8081) and \
                x["post"]["dport"] in (5001, 5002), x
PY
	fe_pair_stop "$ingress"
	fe_log "uniflow records:"
	fe_verify "udp_$ingress udp6_$ingress tcp_$ingress" \
		"u_$ingress.jsonl" --biflow no --nat --quiet
	fe_log "biflow records:"
	fe_verify "udp_$ingress udp6_$ingress tcp_$ingress" \
		"c_$ingress.jsonl" --biflow yes --nat --one-record --quiet
done
exit 0
