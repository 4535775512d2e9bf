#!/bin/bash
# test_shaped_drops.sh - wire-exact counts on shaped links: the router's
# server-side links fe-s1..3 are shaped (tbf rate 20mbit burst 16k limit
# 32k; htb at 20mbit with a pfifo leaf of 100 packets) and the client sends
# a UDP burst of 3 flows x 1000 datagrams at about 8 times that rate. With
# ingress meters tc, off (and xdp for htb), the exported packets and octets
# of each flow equal the server's capture (what left the router), and the
# records' droppedPacketDeltaCount adds up to the qdiscs' drop counters
# (tc -s qdisc), droppedOctetDeltaCount to those drops' octets, exactly.
#   usage: test_shaped_drops.sh [fq_codel]   (fq_codel: htb with an
#   fq_codel leaf instead, test_shaped_fq_codel.sh; SKIP where the kernel
#   has no fq_codel)
. "$(dirname "$0")/lib.sh"
LEAF=${1:-}
fe_init "shaped${LEAF:+-$LEAF}"
fe_require_cmd tc
RUNS="tbf:tc tbf:off htb:tc htb:xdp"
[ "$LEAF" = fq_codel ] && RUNS="fq_codel:tc fq_codel:off"

SIZE=972 # 1000 IP octets

# shape tbf|fq_codel: the qdisc on fe-s1..3
shape() {
	local i dev
	for i in 1 2 3; do
		dev=fe-s$i
		case $1 in
		tbf)
			fe_nsexec rtr tc qdisc replace dev $dev root tbf \
				rate 20mbit burst 16k limit 32k ||
				fe_fail "tc: cannot shape $dev with tbf"
			;;
		*)
			fe_nsexec rtr tc qdisc replace dev $dev root handle 1: \
				htb default 1 &&
				fe_nsexec rtr tc class add dev $dev parent 1: \
					classid 1:1 htb rate 20mbit ceil 20mbit \
					quantum 1514 ||
				fe_fail "tc: cannot shape $dev with htb"
			leaf $dev "$1"
			;;
		esac
	done
}

# leaf DEV htb|fq_codel: htb's leaf, pfifo or fq_codel
leaf() {
	local err
	if [ "$2" = htb ]; then
		fe_nsexec rtr tc qdisc add dev "$1" parent 1:1 handle 10: \
			pfifo limit 100 || fe_fail "tc: no pfifo leaf on $1"
		return
	fi
	err=$(fe_nsexec rtr tc qdisc add dev "$1" parent 1:1 handle 10: \
		fq_codel limit 100 2>&1) && return
	case $err in
	*"kind is unknown"*)
		fe_skip "this kernel has no fq_codel qdisc (CONFIG_NET_SCH_FQ_CODEL): $err" ;;
	esac
	fe_fail "tc: no fq_codel leaf on $1: $err"
}

# the qdisc whose drop counter a run reads
counter_kind() {
	case $1 in
	htb) echo pfifo ;;
	*) echo "$1" ;;
	esac
}

# qdisc_drops KIND: the drop counters of the KIND qdiscs on fe-s1..3, added
qdisc_drops() {
	local i
	for i in 1 2 3; do
		fe_nsexec rtr tc -s -j qdisc show dev fe-s$i
	done | python3 -c 'import json, sys
n = 0
for line in sys.stdin:
    for q in json.loads(line):
        if q["kind"] == sys.argv[1]:
            n += q["drops"]
print(n)' "$1"
}

for run in $RUNS; do
	q=${run%%:*} ingress=${run#*:}
	name=${q}_$ingress
	fe_log "--- $q, ingress = $ingress"
	fe_topo_up sym
	shape "$q"
	rm -rf "$FE_PIN"
	port=$(fe_port)
	uport=$(fe_port)
	fe_collect_start "c_$name" "$port"
	fe_collect_start "u_$name" "$uport"
	{
		fe_agent_conf "$ingress"
		fe_collector_conf c1 "$port" yes no template=nat
		fe_collector_conf u1 "$uport" no no template=nat
		fe_nat_template
	} >"$FE_TMP/agent-$name.ini"
	fe_agent_start "$FE_TMP/agent-$name.ini"
	kind=$(counter_kind "$q")
	before=$(qdisc_drops "$kind")
	fe_gen "burst_$name" udp --lossy --flows 3 --count 1000 \
		--size $SIZE --sport 45000 --interval 0.00005
	drops=$(($(qdisc_drops "$kind") - before))
	read -r sent recv < <(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))["directions"]
print(sum(x["sent_packets"] for x in d), sum(x["packets"] for x in d))' \
		"$FE_TMP/burst_$name.json")
	fe_log "burst: $sent datagrams sent, $recv received, $kind dropped $drops"
	[ "$drops" -gt 0 ] || fe_fail "$q dropped nothing: the burst did not congest the links"
	fe_agent_stop
	fe_collect_stop "c_$name"
	fe_collect_stop "u_$name"
	fe_log "uniflow records:"
	fe_verify "burst_$name" "u_$name.jsonl" --biflow no \
		--dropped "$drops" --dropped-octets $((drops * (SIZE + 28)))
	fe_log "biflow records:"
	fe_verify "burst_$name" "c_$name.jsonl" --biflow yes --one-record \
		--dropped "$drops" --dropped-octets $((drops * (SIZE + 28))) \
		--quiet
done
exit 0
