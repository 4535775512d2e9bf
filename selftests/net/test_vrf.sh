#!/bin/bash
# test_vrf.sh - the router's four links are slaves of a VRF (fe-vrf, table
# 10, the ECMP routes in it). A forwarded packet then names the VRF master
# as the interface it came in by at egress (vrf_ip_rcv sets skb_iif), while
# the ingress meters sit on the slaves: the agent maps the master to its
# slaves (IFLA_MASTER) so that, with ingress meters tc and xdp (and off),
# every conversation is one record, both directions exact against the
# captures: nothing counted twice. The ingressInterface of a forwarded path
# is not checked: with several slaves of one master it can name another
# slave than the one the packets came in by (docs/multipath.md).
# SKIP where the kernel has no VRF (ip link add type vrf fails).
. "$(dirname "$0")/lib.sh"
fe_init vrf

vrf_up() {
	local err d i
	err=$(fe_nsexec rtr ip link add fe-vrf type vrf table 10 2>&1) ||
		fe_skip "this kernel has no VRF (ip link add fe-vrf type vrf table 10: $err)"
	# enslaving cycles a link: keep its IPv6 addresses
	fe_nsexec rtr sysctl -qw net.ipv6.conf.all.keep_addr_on_down=1
	fe_nsexec rtr ip link set fe-vrf up || fe_fail "cannot set fe-vrf up"
	for d in fe-c0 fe-s1 fe-s2 fe-s3; do
		fe_nsexec rtr ip link set $d master fe-vrf ||
			fe_fail "cannot enslave $d to fe-vrf"
	done
	local nh4=() nh6=()
	for i in 1 2 3; do
		nh4+=(nexthop via "10.10.$i.2" dev "fe-s$i")
		nh6+=(nexthop via "fd00:fe:$i::2" dev "fe-s$i")
	done
	fe_nsexec rtr ip route add table 10 10.10.9.1/32 "${nh4[@]}" ||
		fe_fail "cannot add the IPv4 ECMP route to the VRF's table"
	fe_nsexec rtr ip -6 route add table 10 fd00:fe:9::1/128 "${nh6[@]}" ||
		fe_fail "cannot add the IPv6 ECMP route to the VRF's table"
	fe_reach 10.10.9.1 || fe_fail "VRF: client cannot reach 10.10.9.1"
	fe_reach fd00:fe:9::1 || fe_fail "VRF: client cannot reach fd00:fe:9::1"
	# the links' neighbours again: enslaving flushed them
	for i in 1 2 3; do
		fe_nsexec rtr ping -c1 -W1 -q -I fe-vrf "10.10.$i.2" >/dev/null
		fe_nsexec rtr ping -6 -c1 -W1 -q -I fe-vrf "fd00:fe:$i::2" \
			>/dev/null
	done
	python3 "$FE_VERIFY" ifmap "$FE_RTR" >"$FE_TMP/ifmap.json" ||
		fe_fail "cannot read the router's links"
	fe_log "VRF up: $(cat "$FE_TMP/ifmap.json")"
}

for ingress in tc xdp off; do
	fe_log "--- ingress = $ingress"
	fe_topo_up sym
	vrf_up
	fe_pair_start "$ingress" "$ingress"
	fe_gen "udp_$ingress" udp --flows 6 --count 30 --size 500 --echo \
		--sport 43000 --interval 0.0005
	fe_gen "udp6_$ingress" udp --dst fd00:fe:9::1 --flows 3 --count 30 \
		--size 700 --echo --sport 44000 --interval 0.0005
	fe_gen "icmp_$ingress" icmp --count 15 --size 100 --interval 0.005
	fe_gen "tcp_$ingress" tcp --flows 2 --bytes 60000 --write 4000 \
		--interval 0.001 --echo
	fe_pair_stop "$ingress"
	fe_log "uniflow records:"
	fe_verify "udp_$ingress udp6_$ingress icmp_$ingress tcp_$ingress" \
		"u_$ingress.jsonl" --biflow no --no-ifcheck --quiet
	fe_log "biflow records:"
	fe_verify "udp_$ingress udp6_$ingress icmp_$ingress tcp_$ingress" \
		"c_$ingress.jsonl" --biflow yes --one-record --no-ifcheck --quiet
done
exit 0
