#!/usr/bin/env bash
# test_scale_200k.sh - 200,000 conversations at once, exact: the router's
# meter set (ingress = tc on its four links) is filled through its own tc
# programs by fe_fill (BPF_PROG_TEST_RUN, in the router's netns, on the
# router's devices) with
#   A  100,000 IPv4 TCP flows in by fe-c0 and out by fe-s1, each packet
#      seen at both meters;
#   B   50,000 IPv6 UDP flows sent by the router out of fe-s2;
#   C   50,000 IPv4 UDP conversations both ways between fe-c0 and fe-s3,
#      both meters in both directions (four paths each);
# and the agent drains, caches and exports them (idle timeout) to
# `flowctl collect`. The exported packets and octets equal what fe_fill
# injected (a packet seen at two meters once), with one biflow record per
# conversation, and the cache holds no memory per flow beyond its records.
. "$(dirname "$0")/lib.sh"
fe_init s200k
FE_FILL=$OUTPUT/bench/fe_fill
[ -x "$FE_FILL" ] || fe_skip "$FE_FILL is not built (make tests)"
fe_topo_up sym

port=$(fe_port)
fe_collect_start c1 "$port"
{
	fe_agent_conf tc kernel_max_flows=262144 max_flows=300000 \
		idle_timeout=4 poll_interval_ms=200
	# large messages: 200k records in few datagrams on loopback
	fe_collector_conf c1 "$port" yes no mtu=60000
} >"$FE_TMP/agent.ini"
fe_agent_start "$FE_TMP/agent.ini"

fill() {
	local name=$1
	shift
	fe_nsexec rtr "$FE_FILL" --pin "$FE_PIN" --threads 2 "$@" \
		>"$FE_TMP/$name.json" 2>"$FE_TMP/$name.err" ||
		fe_fail "fe_fill $name: $(cat "$FE_TMP/$name.err")"
	fe_log "filled $name: $(cat "$FE_TMP/$name.json")"
}
t0=$(date +%s)
fill A --family 4 --proto tcp --set 1 --flows 100000 --packets 2 \
	--payload 200 --in fe-c0 --out fe-s1 --ingress
fill B --family 6 --proto udp --set 2 --flows 50000 --packets 1 \
	--payload 60 --out fe-s2
fill C --family 4 --proto udp --set 3 --flows 50000 --packets 3 \
	--payload 100 --in fe-c0 --out fe-s3 --ingress --reply

# everything goes out as idle once drained: wait for an empty cache
cache_flows() {
	fe_ctl stats --json | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["cache_flows"])'
}
empty() { [ "$(cache_flows)" = 0 ]; }
fe_wait_for 60 empty || fe_fail "the cache still holds $(cache_flows) flows 60 s after the fill"
fe_ctl stats >"$FE_TMP/stats.txt"
fe_log "filled and exported in $(($(date +%s) - t0)) s"
fe_agent_stop
fe_collect_stop c1

python3 - "$FE_TMP" <<'PY' || fe_fail "the export differs from what was injected"
import json, sys
tmp = sys.argv[1]
want = {"packets": 0, "octets": 0}
for n in "ABC":
    d = json.load(open(f"{tmp}/{n}.json"))
    want["packets"] += d["packets"]
    want["octets"] += d["octets"]
got = {"packets": 0, "octets": 0, "records": 0}
for line in open(f"{tmp}/c1.jsonl"):
    if not line.startswith("{"):
        continue
    o = json.loads(line)
    a = (o.get("sourceIPv4Address"), o.get("destinationIPv4Address"),
         o.get("sourceIPv6Address"), o.get("destinationIPv6Address"))
    # only fe_fill's flows: 192.168.0.1 or fd00::1 on one side
    if "192.168.0.1" not in a and "fd00::1" not in a:
        continue
    got["records"] += 1
    got["packets"] += o.get("packetDeltaCount", 0) + o.get("reversePacketDeltaCount", 0)
    got["octets"] += o.get("octetDeltaCount", 0) + o.get("reverseOctetDeltaCount", 0)
print("injected", want, "exported", got)
ok = got["packets"] == want["packets"] and got["octets"] == want["octets"]
ok &= got["records"] == 200000
sys.exit(0 if ok else 1)
PY
grep -E 'overflow|dedup_packets|cache_nomem|exported_idle' "$FE_TMP/stats.txt"
exit 0
