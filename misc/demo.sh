#!/usr/bin/env bash
# demo.sh - flowexp end to end (`make demo`): builds the multipath topology
# (misc/create_netns.sh asym), meters the router's four links (tc egress,
# tc ingress: the links are veths, where XDP would cost the stack its GSO),
# runs flowagent exporting to `flowctl collect`, sends a few
# seconds of TCP, UDP and ICMP over IPv4 and IPv6, shows the multipath view
# (`flowctl dump --by-ifindex`) and the IPFIX records as flowctl collect's
# table - without the link-local and multicast chatter (ND, MLD) of the
# links, so that a newcomer sees the traffic sent first (FE_DEMO_ALL=1 shows
# every record) - and tears it all down (also on Ctrl-C). Run as root from
# the source tree after `make`.
set -u
cd "$(dirname "$0")/.."
OUT=${OUTPUT:-.output}
FLOWCTL=$OUT/flowctl
FLOWAGENT=$OUT/flowagent
export FE_NS_PREFIX=fe-demo-
RTR=${FE_NS_PREFIX}rtr
PIN=/sys/fs/bpf/fe-demo
SOCK=/run/flowexp/fe-demo.sock
PORT=${FE_DEMO_PORT:-47390}
TMP=$(mktemp -d /tmp/fe-demo.XXXXXX)
MODE=${FE_DEMO_MODE:-asym}

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it creates namespaces and loads BPF)" >&2; exit 1; }
[ -x "$FLOWAGENT" ] && [ -x "$FLOWCTL" ] || { echo "demo: build first (make)" >&2; exit 1; }

agent_pid= coll_pid=
cleanup() {
	trap - EXIT INT TERM
	[ -n "$agent_pid" ] && kill -TERM "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
	[ -n "$coll_pid" ] && kill -TERM "$coll_pid" 2>/dev/null && wait "$coll_pid" 2>/dev/null
	"$FLOWCTL" --pin-path "$PIN" -n "$RTR" detach --all 2>/dev/null
	rm -rf "$PIN"
	misc/create_netns.sh down >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "topology ($MODE): client -- router ==3 links (ECMP)== server"
misc/create_netns.sh up "$MODE" || exit 1

cat >"$TMP/flowexp.ini" <<INI
[agent]
interfaces = fe-c0 fe-s1 fe-s2 fe-s3
ingress = tc
netns = $RTR
pin_path = $PIN
control_socket = $SOCK
poll_interval_ms = 250
idle_timeout = 5
active_timeout = 30

[collector demo]
address = 127.0.0.1:$PORT
biflow = yes
INI
step "flowagent -f -c $TMP/flowexp.ini  (exporting to flowctl collect on 127.0.0.1:$PORT)"
NOISE=--hide-noise
[ "${FE_DEMO_ALL:-0}" = 1 ] && NOISE=
# shellcheck disable=SC2086 # NOISE is one word or none
"$FLOWCTL" collect -l "127.0.0.1:$PORT" $NOISE >"$TMP/records.txt" 2>"$TMP/collect.err" &
coll_pid=$!
"$FLOWAGENT" -f -c "$TMP/flowexp.ini" 2>"$TMP/agent.log" &
agent_pid=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || { echo "demo: flowagent did not start:" >&2; cat "$TMP/agent.log" >&2; exit 1; }
"$FLOWCTL" --pin-path "$PIN" -n "$RTR" status

step "traffic: TCP, UDP, ICMP over IPv4 and IPv6 (client -> server service address)"
T=misc/fe_traffic.py
python3 $T tcp --flows 3 --bytes 200000 --echo -o "$TMP/tcp4.json" >/dev/null
python3 $T udp --flows 2 --count 200 --size 400 --echo --port 5011 -o "$TMP/udp4.json" >/dev/null
python3 $T icmp --count 10 -o "$TMP/icmp4.json" >/dev/null
python3 $T tcp --dst fd00:fe:9::1 --flows 2 --bytes 100000 --echo --port 5012 -o "$TMP/tcp6.json" >/dev/null
python3 $T icmp --dst fd00:fe:9::1 --count 10 -o "$TMP/icmp6.json" >/dev/null
for f in "$TMP"/*.json; do
	python3 - "$f" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for x in d["directions"]:
    links = ",".join(f"{k}:{v}" for k, v in sorted(x.get("links", {}).items()))
    print(f'  sent {d["mode"]:<4} {x["role"]:<7} {x["src"]}:{x["sport"]} -> {x["dst"]}:{x["dport"]}  '
          f'{x["packets"]} pkts {x["octets"]} octets  via {links}')
PY
done

step "flowctl -n $RTR dump --by-ifindex   (the multipath view, from the agent's cache)"
"$FLOWCTL" --pin-path "$PIN" --socket "$SOCK" -n "$RTR" dump --by-ifindex
step "flowctl dump   (one row per flow direction, each packet once)"
"$FLOWCTL" --pin-path "$PIN" --socket "$SOCK" -n "$RTR" dump

step "stopping flowagent (SIGTERM: every cached flow is exported)"
kill -TERM "$agent_pid"; wait "$agent_pid"; agent_pid=
sleep 0.5
kill -TERM "$coll_pid"; wait "$coll_pid" 2>/dev/null; coll_pid=
step "IPFIX records received by flowctl collect${NOISE:+ (link-local and multicast hidden; FE_DEMO_ALL=1 shows them)}"
cat "$TMP/records.txt"
cat "$TMP/collect.err"
grep -iE 'warn|fail|error' "$TMP/agent.log" | head -5
step "done: topology removed, meters detached"
