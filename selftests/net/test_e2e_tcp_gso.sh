#!/bin/bash
# test_e2e_tcp_gso.sh - exact TCP accounting with offloads on and off.
# "gso": the endpoints send TSO super-packets and the router merges with
# GRO, so its meters see GSO skbs (gso_segs packets each) while the wire
# carries MSS-sized packets; "wire": every offload off. Ground truth: the
# receivers' captures, cross-checked with the senders' TcpOutSegs +
# TcpRetransSegs (misc/fe_traffic.py).
. "$(dirname "$0")/lib.sh"
fe_init tcpgso

run() {
	local prof=$1 ingress=$2 port
	fe_log "--- offloads $prof, ingress = $ingress"
	fe_topo_up sym "$prof"
	rm -rf "$FE_PIN"
	port=$(fe_port)
	fe_collect_start "c_${prof}_$ingress" "$port"
	{
		fe_agent_conf "$ingress"
		fe_collector_conf c1 "$port" yes no
	} >"$FE_TMP/agent-${prof}_$ingress.ini"
	fe_agent_start "$FE_TMP/agent-${prof}_$ingress.ini"
	# 64 KB writes: TSO super-packets at the client; the server echoes.
	fe_gen "tcp_${prof}_$ingress" tcp --flows 3 --bytes 400000 --write 65536 \
		--interval 0.004 --echo --port 5002
	fe_gen "tcp6_${prof}_$ingress" tcp --dst fd00:fe:9::1 --flows 2 --bytes 200000 \
		--write 16384 --interval 0.002 --port 5004
	fe_ctl stats >"$FE_TMP/stats-${prof}_$ingress.txt" 2>&1 ||
		fe_fail "flowctl stats failed: $(tail -3 "$FE_TMP/stats-${prof}_$ingress.txt")"
	grep -i gso "$FE_TMP/stats-${prof}_$ingress.txt"
	if [ "$prof" = router-seg ]; then
		# the point of this profile: the meters did see GSO skbs
		grep -qE 'gso_skbs +[1-9]' "$FE_TMP/stats-${prof}_$ingress.txt" ||
			fe_fail "offloads on, yet the meters saw no GSO skb"
	fi
	fe_agent_stop
	fe_collect_stop "c_${prof}_$ingress"
	fe_verify "tcp_${prof}_$ingress tcp6_${prof}_$ingress" "c_${prof}_$ingress.jsonl" --biflow yes
}

# GSO at the router's egress with each ingress mode; offload-free wire
run router-seg off
run router-seg xdp
run router-seg tc
run wire xdp
exit 0
