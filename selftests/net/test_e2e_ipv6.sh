#!/bin/bash
# test_e2e_ipv6.sh - IPv6 end to end: UDP, ICMPv6 and TCP conversations to
# the server's IPv6 service address over the three ECMP links, biflow and
# uniflow collectors in the same run, tc ingress metering. Neighbour
# discovery and MLD happen too; they are other conversations and are left
# out of the comparison.
. "$(dirname "$0")/lib.sh"
fe_init ipv6

fe_topo_up sym
port=$(fe_port)
uport=$(fe_port)
fe_collect_start bi "$port"
fe_collect_start uni "$uport"
{
	fe_agent_conf tc
	fe_collector_conf bi "$port" yes no
	fe_collector_conf uni "$uport" no no
} >"$FE_TMP/agent.ini"
fe_agent_start "$FE_TMP/agent.ini"
fe_gen udp6 udp --dst fd00:fe:9::1 --flows 8 --count 30 --size 1000 --echo \
	--sport 45000 --interval 0.0005
fe_gen icmp6 icmp --dst fd00:fe:9::1 --count 20 --size 1200 --interval 0.005
fe_gen tcp6 tcp --dst fd00:fe:9::1 --flows 3 --bytes 150000 --write 3000 \
	--interval 0.001 --echo
fe_ctl dump --by-ifindex --json >"$FE_TMP/dump.jsonl" 2>&1 ||
	fe_fail "flowctl dump --by-ifindex --json failed: $(tail -3 "$FE_TMP/dump.jsonl")"
fe_agent_stop
fe_collect_stop bi
fe_collect_stop uni
fe_verify "udp6 icmp6" bi.jsonl --biflow yes --one-record
fe_verify "tcp6" bi.jsonl --biflow yes
fe_verify "udp6 icmp6 tcp6" uni.jsonl --biflow no
exit 0
