#!/usr/bin/env bash
# test_export_tcp_stall.sh - a slow TCP collector, one that stops reading for
# 1 s after every 256 KiB (issue 10, item 1):
#  1. 50,000 one-packet flows expire together (flowctl flush): the collector
#     receives every record, once, in well-formed messages whose sequence
#     numbers count what came before, all in one session (a full socket is
#     no reason to close it);
#  2. SIGTERM with 5,000 more flows cached while the collector still
#     stalls: the agent waits for its queue to drain, exits 0, and the last
#     statistics record reports nothing lost;
#  3. queue_size = 64K: records are dropped only when the queue is full,
#     counted, and received + counted not sent = 50,000, the count also in
#     the last statistics record (notSentFlowTotalCount) the collector gets.
# The agent and its collectors share a namespace of the test's own (hst),
# whose TCP send buffers are held to 64 KiB (net.ipv4.tcp_wmem): the
# agent's queue, not the kernel's, has to hold what the collector is slow
# to take, and nothing else on the machine is touched.
. "$(dirname "$0")/lib.sh"
fe_init stall
N=50000
STALL="--stall-every 262144 --stall 1"

fe_topo_up sym
fe_ns_add hst
fe_nsexec hst sysctl -qw net.ipv4.tcp_wmem="4096 16384 65536" ||
	fe_fail "cannot set tcp_wmem in ${FE_NS_PREFIX}hst"
FE_AGENT_WRAP=(nsenter --net="/run/netns/${FE_NS_PREFIX}hst")

# coll NAME PORT [OPTIONS]: tcp_collector.py into $FE_TMP/NAME.ipfix
coll() {
	local name=$1 port=$2
	shift 2
	# shellcheck disable=SC2086
	fe_bg "$name" "${FE_AGENT_WRAP[@]}" python3 \
		"$(dirname "$0")/tcp_collector.py" 127.0.0.1 \
		"$port" "$FE_TMP/$name.ipfix" "$@" 2>>"$FE_TMP/$name.log"
	fe_wait_for 5 grep -q listening "$FE_TMP/$name.log" ||
		fe_fail "the TCP collector $name did not start"
}

conf() {
	fe_agent_conf off
	printf '\n[collector t]\naddress = 127.0.0.1:%s\ntransport = tcp\nbiflow = no\n' "$1"
	shift
	for kv in "$@"; do echo "$kv"; done
}

# flows COUNT BASE: one-packet UDP flows from sport 40000 to ports BASE..
flows() {
	python3 "$(dirname "$0")/many_flows.py" --ns "${FE_NS_PREFIX}cli" \
		--count "$1" --base "$2" --sport 40000 >/dev/null ||
		fe_fail "many_flows.py failed"
	sleep 1 # a few drains: every flow is in the cache
}

decode() {
	python3 "$(dirname "$0")/ipfix_stream.py" --sport 40000 \
		"$FE_TMP/$1.ipfix" >"$FE_TMP/$1.json"
}

field() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    d = d[k] if d is not None else None
print(d)' "$FE_TMP/$1.json" "$2"
}

stat() {
	fe_ctl stats --json | python3 -c 'import json, sys
print(json.load(sys.stdin)["collectors"][0][sys.argv[1]])' "$1"
}

# --- 1. everything arrives ---------------------------------------------
port=$(fe_port)
# shellcheck disable=SC2086
coll c1 "$port" $STALL
conf "$port" >"$FE_TMP/agent.ini"
fe_agent_start "$FE_TMP/agent.ini"
fe_wait_for 10 grep -q 'TCP session 1 up' "$FE_TMP/agent.log" ||
	fe_fail "no TCP session"
flows $N 10000
t0=$(date +%s)
fe_ctl flush sport 40000 >/dev/null || fe_fail "flush failed"
arrived() {
	decode c1
	[ "$(field c1 udp_ports)" -ge $N ]
}
fe_wait_for 120 arrived ||
	fe_fail "the stalling collector got $(field c1 udp_ports) of $N records: $(cat "$FE_TMP/c1.json")"
fe_log "the stalling collector got all $N records in $(($(date +%s) - t0)) s: $(cat "$FE_TMP/c1.json")"
[ "$(field c1 nerrors)" = 0 ] || fe_fail "malformed stream: $(field c1 errors)"
[ "$(field c1 sessions)" = 1 ] && [ "$(grep -c '^session' "$FE_TMP/c1.log")" = 1 ] ||
	fe_fail "the session was not kept: $(cat "$FE_TMP/c1.log")"
[ "$(field c1 duplicate_ports)" = 0 ] && [ "$(field c1 udp_packets)" = $N ] ||
	fe_fail "records counted twice or wrong: $(cat "$FE_TMP/c1.json")"
[ "$(stat records_not_sent)" = 0 ] || fe_fail "the agent counts records not sent"
grep -c 'stalls' "$FE_TMP/c1.log" >/dev/null

# --- 2. SIGTERM waits for the queue --------------------------------------
flows 5000 60000
fe_agent_stop
grep -q 'the collectors took what was queued' "$FE_TMP/agent.log" ||
	fe_fail "the stop did not wait for the queue: $(tail -3 "$FE_TMP/agent.log")"
sleep 2 # what the sockets still hold
fe_wait_for 30 eval 'decode c1; [ "$(field c1 udp_ports)" -ge $((N + 5000)) ]' ||
	fe_fail "after SIGTERM the collector got $(field c1 udp_ports) of $((N + 5000)): $(cat "$FE_TMP/c1.json")"
[ "$(field c1 nerrors)" = 0 ] || fe_fail "malformed stream: $(field c1 errors)"
[ "$(field c1 stats.166)" = 0 ] && [ "$(field c1 stats.42)" -ge $((N + 5000)) ] ||
	fe_fail "the last statistics record: $(field c1 stats)"
fe_kill c1 TERM

# --- 3. a queue too small: drops counted ---------------------------------
port=$(fe_port)
# shellcheck disable=SC2086
coll c2 "$port" $STALL --rcvbuf 65536
conf "$port" "queue_size = 64K" >"$FE_TMP/agent.ini"
fe_agent_start "$FE_TMP/agent.ini"
fe_wait_for 10 grep -q 'TCP session 1 up' "$FE_TMP/agent.log" ||
	fe_fail "no TCP session"
flows $N 10000
fe_ctl flush sport 40000 >/dev/null || fe_fail "flush failed"
drained() { [ "$(stat queued_octets)" = 0 ]; }
fe_wait_for 60 drained || fe_fail "the queue did not drain"
lost=$(stat records_not_sent)
fe_agent_stop
settled() {
	decode c2
	[ "$(field c2 stats.166)" != None ] &&
		[ "$(($(field c2 udp_ports) + lost))" -ge $N ]
}
fe_wait_for 60 settled || true
fe_log "queue_size 64K: received $(field c2 udp_ports), not sent $lost; last statistics record $(field c2 stats)"
[ "$lost" -gt 0 ] || fe_fail "no record was dropped with a 64K queue"
[ "$(($(field c2 udp_ports) + lost))" = $N ] ||
	fe_fail "received $(field c2 udp_ports) + not sent $lost != $N"
[ "$(field c2 stats.166)" = "$lost" ] ||
	fe_fail "notSentFlowTotalCount $(field c2 stats.166), the agent counted $lost"
[ "$(field c2 nerrors)" = 0 ] || fe_fail "malformed stream: $(field c2 errors)"
[ "$(field c2 sessions)" = 1 ] || fe_fail "the session was not kept"
grep -q 'send queue full' "$FE_TMP/agent.log" || fe_fail "no drop logged"
[ "$(grep -c 'send queue full' "$FE_TMP/agent.log")" -lt 20 ] ||
	fe_fail "drops are not logged rate-limited"
exit 0
