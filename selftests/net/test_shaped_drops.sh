#!/bin/bash
# test_shaped_drops.sh - wire-exact counts on shaped links: on the
# router's server-side links fe-s1..3 the test's UDP flows (to port 5001)
# go through a shaping qdisc, handle 10: (tbf rate 20mbit burst 16k limit
# 32k; or a pfifo of 100 packets under an htb class of 20mbit), everything
# else through an htb class of its own (so that no other packet, an ARP or
# MLD message, can be dropped by the qdisc the test reads). The client
# sends a burst of 3 flows x 1000 datagrams at about 8 times that rate.
# With ingress meters tc, off (and xdp), the exported packets and octets of
# each flow equal the server's capture (what left the router), and the
# records' droppedPacketDeltaCount adds up to the qdiscs' drop counters
# (tc -s qdisc), droppedOctetDeltaCount to those drops' octets, exactly.
#   usage: test_shaped_drops.sh [fq_codel]   (fq_codel: an fq_codel leaf
#   under the 20mbit class instead, test_shaped_fq_codel.sh; SKIP where
#   the kernel has no fq_codel)
. "$(dirname "$0")/lib.sh"
LEAF=${1:-}
fe_init "shaped${LEAF:+-$LEAF}"
fe_require_cmd tc
RUNS="tbf:tc tbf:off pfifo:tc pfifo:xdp"
[ "$LEAF" = fq_codel ] && RUNS="fq_codel:tc fq_codel:off"

SIZE=972 # 1000 IP octets

# shape tbf|pfifo|fq_codel: htb on fe-s1..3, class 1:1 for the test's UDP
# (its leaf 10: the shaping qdisc), 1:2 for the rest
shape() {
	local i dev rate=20mbit
	[ "$1" = tbf ] && rate=1gbit # tbf shapes
	for i in 1 2 3; do
		dev=fe-s$i
		fe_nsexec rtr tc qdisc replace dev $dev root handle 1: htb \
			default 2 ||
			fe_fail "tc: cannot put htb on $dev"
		fe_nsexec rtr tc class add dev $dev parent 1: classid 1:1 \
			htb rate $rate ceil $rate quantum 1514 ||
			fe_fail "tc: cannot add class 1:1 on $dev"
		fe_nsexec rtr tc class add dev $dev parent 1: classid 1:2 \
			htb rate 1gbit quantum 1514 ||
			fe_fail "tc: cannot add class 1:2 on $dev"
		fe_nsexec rtr tc filter add dev $dev parent 1: protocol ip \
			u32 match ip protocol 17 0xff match ip dport 5001 0xffff \
			flowid 1:1 ||
			fe_fail "tc: cannot classify the test's UDP on $dev"
		leaf $dev "$1"
	done
}

# leaf DEV tbf|pfifo|fq_codel: the shaping qdisc 10: under class 1:1
leaf() {
	local err args
	case $2 in
	tbf) args="tbf rate 20mbit burst 16k limit 32k" ;;
	pfifo) args="pfifo limit 100" ;;
	fq_codel) args="fq_codel limit 100" ;;
	esac
	# shellcheck disable=SC2086 # args is a word list
	err=$(fe_nsexec rtr tc qdisc add dev "$1" parent 1:1 handle 10: \
		$args 2>&1) && return
	case $2:$err in
	fq_codel:*"kind is unknown"*)
		fe_skip "this kernel has no fq_codel qdisc (CONFIG_NET_SCH_FQ_CODEL): $err" ;;
	esac
	fe_fail "tc: no $2 leaf on $1: $err"
}

# qdisc_drops KIND: the drop counters of the KIND qdiscs 10: on fe-s1..3,
# added
qdisc_drops() {
	local i
	for i in 1 2 3; do
		fe_nsexec rtr tc -s -j qdisc show dev fe-s$i
	done | python3 -c 'import json, sys
n = 0
for line in sys.stdin:
    for q in json.loads(line):
        if q["kind"] == sys.argv[1] and q["handle"] == "10:":
            n += q["drops"]
print(n)' "$1"
}

for run in $RUNS; do
	q=${run%%:*} ingress=${run#*:}
	name=${q}_$ingress
	fe_log "--- $q, ingress = $ingress"
	fe_topo_up sym
	shape "$q"
	fe_pair_start "$name" "$ingress" template=nat
	kind=$q
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
	fe_pair_stop "$name"
	fe_log "uniflow records:"
	fe_verify "burst_$name" "u_$name.jsonl" --biflow no \
		--dropped "$drops" --dropped-octets $((drops * (SIZE + 28)))
	fe_log "biflow records:"
	fe_verify "burst_$name" "c_$name.jsonl" --biflow yes --one-record \
		--dropped "$drops" --dropped-octets $((drops * (SIZE + 28))) \
		--quiet
done
exit 0
