#!/usr/bin/env bash
# test_export_tcp.sh - IPFIX over TCP (transport = tcp): the collector is
# down when the agent starts (metering goes on, the agent retries with
# backoff), comes up (the session opens, templates first), goes down and
# up again (a new session with templates again); ipfixDump decodes the
# stream and the records of the traffic sent while a session was up equal
# the ground truth.
. "$(dirname "$0")/lib.sh"
fe_require_cmd ipfixDump
fe_init xtcp
fe_topo_up sym

port=$(fe_port)
coll() {
	fe_bg tcpcoll python3 "$(dirname "$0")/tcp_collector.py" 127.0.0.1 \
		"$port" "$FE_TMP/stream.ipfix" 2>>"$FE_TMP/tcpcoll.log"
	fe_wait_for 5 grep -q listening "$FE_TMP/tcpcoll.log" ||
		fe_fail "the TCP collector did not start"
}
{
	fe_agent_conf off
	printf '\n[collector t]\naddress = 127.0.0.1:%s\ntransport = tcp\nbiflow = no\n' "$port"
} >"$FE_TMP/agent.ini"
fe_agent_start "$FE_TMP/agent.ini"
fe_wait_for 5 grep -q 'collector t.*send failed' "$FE_TMP/agent.log" ||
	fe_fail "no connect error logged while the collector is down"
coll
fe_wait_for 10 grep -q 'TCP session 1 up' "$FE_TMP/agent.log" ||
	fe_fail "no TCP session within the backoff"
fe_gen udp1 udp --count 25 --size 150 --port 7201 --echo --sport 42001
fe_ctl flush port 7201 >/dev/null || fe_fail "flush failed"

sleep 0.5
fe_kill tcpcoll TERM
coll # a new collector process: the agent must open a new session
fe_gen udp2 udp --count 15 --size 300 --port 7202 --echo --sport 42002
fe_wait_for 15 grep -q 'TCP session 2 up' "$FE_TMP/agent.log" ||
	fe_fail "the agent did not reconnect"
fe_agent_stop
sleep 0.5
fe_kill tcpcoll TERM
ipfixDump --in "$FE_TMP/stream.ipfix" >"$FE_TMP/stream.txt" 2>&1 ||
	fe_fail "ipfixDump cannot read the TCP stream: $(tail -3 "$FE_TMP/stream.txt")"
python3 - "$FE_TMP" <<'PY' || fe_fail "records over TCP differ from the ground truth"
import json, re, sys
tmp = sys.argv[1]
recs, cur = [], None
for line in open(f"{tmp}/stream.txt"):
    if line.startswith("--- "):
        cur = {} if "data record" in line else None
        if cur is not None:
            recs.append(cur)
        continue
    m = re.match(r"\s*\((\d+)\)\s+(\S+)\s+:\s+(.*)$", line)
    if cur is not None and m:
        cur[m.group(2)] = m.group(3).strip()
bad = 0
for name in ("udp1", "udp2"):
    for d in json.load(open(f"{tmp}/{name}.json"))["directions"]:
        got = [(int(r["packetDeltaCount"]), int(r["octetDeltaCount"])) for r in recs
               if int(r.get("sourceTransportPort", -1)) == d["sport"]
               and int(r.get("destinationTransportPort", -1)) == d["dport"]]
        p = sum(g[0] for g in got); o = sum(g[1] for g in got)
        ok = (p, o) == (d["packets"], d["octets"])
        bad += not ok
        print(("ok  " if ok else "FAIL"), name, d["sport"], "->", d["dport"],
              f"exported {p}/{o}, truth {d['packets']}/{d['octets']}")
sys.exit(1 if bad else 0)
PY
[ "$(grep -c 'template record' "$FE_TMP/stream.txt")" -ge 4 ] ||
	fe_fail "templates were not sent at the start of each session"
# each session numbers its messages from 0 (sequence numbers are per
# transport session)
[ "$(grep -c 'sequence number: 0 ' "$FE_TMP/stream.txt")" -ge 2 ] ||
	fe_fail "the second TCP session did not start at sequence number 0"
grep -qi 'no template\|template not found\|missing template' "$FE_TMP/stream.txt" &&
	fe_fail "data arrived before its template: $(grep -i template "$FE_TMP/stream.txt" | head -3)"
exit 0
