#!/bin/bash
# test_nat_masquerade.sh - the router masquerades (nft, SNAT to the address
# of each server-side link fe-s1..3, ports moved to 20000-29999) over the
# three ECMP links. In ingress modes tc, xdp and off, every conversation
# (UDP, TCP and ICMP echo, over IPv4 and IPv6: NAT66) is one record
# under its original tuple, both directions exact against the receivers'
# captures, and postNATSourceIPv4Address / postNAPTSourceTransportPort (and
# the IPv6 twin) equal the translation the server saw. Uniflow records say
# the same per direction.
. "$(dirname "$0")/lib.sh"
fe_init masq
fe_require_cmd nft

for ingress in tc xdp off; do
	fe_log "--- ingress = $ingress"
	fe_topo_up sym
	fe_masquerade
	fe_pair_start "$ingress" "$ingress" template=nat
	fe_gen "udp_$ingress" udp --nat --flows 6 --count 30 --size 500 \
		--echo --sport 43000 --interval 0.0005
	fe_gen "udp6_$ingress" udp --nat --dst fd00:fe:9::1 --flows 3 \
		--count 30 --size 700 --echo --sport 44000 --interval 0.0005
	fe_gen "icmp_$ingress" icmp --nat --count 15 --size 100 \
		--interval 0.005
	fe_gen "tcp_$ingress" tcp --nat --flows 2 --bytes 60000 --write 4000 \
		--interval 0.001 --echo
	fe_gen "tcp6_$ingress" tcp --nat --dst fd00:fe:9::1 --flows 1 \
		--bytes 30000 --write 3000 --interval 0.001 --echo
	fe_gen "icmp6_$ingress" icmp --nat --dst fd00:fe:9::1 --count 10 \
		--size 100 --interval 0.005
	# the translation really moved the ports and spread over the links
	python3 - "$FE_TMP"/udp_"$ingress".json "$FE_TMP"/tcp_"$ingress".json <<'PY' || fe_fail "the masquerade did not translate as the test expects"
import json, sys
links = set()
for f in sys.argv[1:]:
    for x in json.load(open(f))["directions"]:
        p = x["post"]
        if x["role"] == "request":
            assert p["src"].startswith("10.10.") and \
                p["src"] != x["src"], p
            assert 20000 <= p["sport"] <= 29999, p
            links.update(x["links"])
assert len(links) >= 2, links
PY
	fe_pair_stop "$ingress"
	fe_log "uniflow records:"
	fe_verify "udp_$ingress udp6_$ingress icmp_$ingress tcp_$ingress tcp6_$ingress icmp6_$ingress" \
		"u_$ingress.jsonl" --biflow no --nat --quiet
	fe_log "biflow records:"
	fe_verify "udp_$ingress udp6_$ingress icmp_$ingress tcp_$ingress tcp6_$ingress icmp6_$ingress" \
		"c_$ingress.jsonl" --biflow yes --nat --one-record --quiet
done
exit 0
