#!/usr/bin/env bash
# test_export_udp_burst.sh - a burst of UDP export faster than the path to
# the collector (issue 10, item 1): 20,000 flows expire together and their
# messages leave through a 20 Mbit/s token bucket. The agent's socket fills
# (EAGAIN): the agent waits for POLLOUT instead of dropping, so the
# collector gets every record with no sequence gap.
#
#   flowagent (hst: the agent's "host" side) fe-hc0 --tbf 20mbit--> fe-hc1
#   (col: flowctl collect on 10.99.0.2)
#
# The bucket's queue (4 MB) is larger than the socket's send buffer, so the
# qdisc never drops: what the collector misses is what the agent dropped.
. "$(dirname "$0")/lib.sh"
fe_init udpb
fe_require_cmd tc
N=20000

fe_topo_up sym
fe_ns_add hst
fe_ns_add col
H=${FE_NS_PREFIX}hst C=${FE_NS_PREFIX}col
ip link add fe-hc0 netns "$H" type veth peer name fe-hc1 netns "$C" ||
	fe_fail "veth between $H and $C"
ip -n "$H" addr add 10.99.0.1/30 dev fe-hc0 &&
	ip -n "$C" addr add 10.99.0.2/30 dev fe-hc1 &&
	ip -n "$H" link set fe-hc0 up && ip -n "$C" link set fe-hc1 up ||
	fe_fail "addresses on fe-hc0/fe-hc1"
tc -n "$H" qdisc add dev fe-hc0 root tbf rate 20mbit burst 32kb limit 4mb ||
	fe_skip "tbf is not available"
fe_nsexec hst ping -c1 -W1 -q 10.99.0.2 >/dev/null ||
	fe_fail "$H cannot reach the collector's namespace"

port=$(fe_port)
fe_bg c1 nsenter --net="/run/netns/$C" "$FLOWCTL" collect \
	-l "10.99.0.2:$port" --json >>"$FE_TMP/c1.jsonl" 2>>"$FE_TMP/c1.err"
fe_wait_for 5 grep -qi listening "$FE_TMP/c1.err" ||
	fe_fail "flowctl collect did not start: $(tail -3 "$FE_TMP/c1.err")"
{
	fe_agent_conf off
	printf '\n[collector c1]\naddress = 10.99.0.2:%s\nbiflow = no\n' "$port"
} >"$FE_TMP/agent.ini"
FE_AGENT_WRAP=(nsenter --net="/run/netns/$H")
fe_agent_start "$FE_TMP/agent.ini"

python3 "$(dirname "$0")/many_flows.py" --ns "${FE_NS_PREFIX}cli" \
	--count $N --base 20000 --sport 40000 >/dev/null ||
	fe_fail "many_flows.py failed"
sleep 1
t0=$(date +%s.%N)
fe_ctl flush sport 40000 >/dev/null || fe_fail "flush failed"
stat() {
	fe_ctl stats --json | python3 -c 'import json, sys
print(json.load(sys.stdin)["collectors"][0][sys.argv[1]])' "$1"
}
# done when the collector's file stops growing (the queue is empty)
settled() {
	local n
	n=$(wc -c <"$FE_TMP/c1.jsonl")
	sleep 1
	[ "$n" -gt 0 ] && [ "$n" = "$(wc -c <"$FE_TMP/c1.jsonl")" ]
}
fe_wait_for 30 settled || fe_fail "the collector's records did not settle"
fe_log "settled after $(echo "$(date +%s.%N) - $t0" | bc) s; stats: $(fe_ctl stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["collectors"][0])')"
lost=$(stat records_not_sent)
fe_agent_stop
sleep 1
fe_kill c1 INT
cat "$FE_TMP/c1.err"
got=$(python3 -c 'import json, sys
n = set()
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("sourceTransportPort") == 40000 and r.get("protocolIdentifier") == 17:
        n.add(r["destinationTransportPort"])
print(len(n))' "$FE_TMP/c1.jsonl")
fe_log "the collector got $got of $N records; the agent counted $lost not sent"
[ "$lost" = 0 ] || fe_fail "the agent dropped $lost records of a burst"
[ "$got" = $N ] || fe_fail "the collector got $got of $N records"
grep -q ' 0 sequence gaps' "$FE_TMP/c1.err" ||
	fe_fail "sequence gaps: $(tail -1 "$FE_TMP/c1.err")"
exit 0
