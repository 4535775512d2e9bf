#!/usr/bin/env bash
# test_agent_control.sh - flowctl against a running flowagent (control
# socket) and SIGHUP reload: dump/stats come from the agent's cache, flush
# with a filter exports the matching conversation as forced end (reason 4)
# and leaves the others; a bad new configuration is refused (the agent
# keeps exporting with the old one); a good one moves export to another
# collector, keeping the cache; the control socket is root-only.
. "$(dirname "$0")/lib.sh"
fe_init actl
fe_topo_up sym

p1=$(fe_port)
p2=$(fe_port)
fe_collect_start c1 "$p1"
fe_collect_start c2 "$p2"
{
	fe_agent_conf xdp
	fe_collector_conf c1 "$p1" yes no
} >"$FE_TMP/agent.ini"
fe_agent_start "$FE_TMP/agent.ini"

[ "$(stat -c %a "$FE_SOCK")" = 600 ] ||
	fe_fail "control socket mode is $(stat -c %a "$FE_SOCK"), want 600"

# a second agent on the same meter set (another control socket) is refused:
# two drainers would race each other's map swaps
sed "s|^control_socket = .*|control_socket = $FE_SOCK.2|" "$FE_TMP/agent.ini" >"$FE_TMP/second.ini"
timeout 20 "$FLOWAGENT" -f -c "$FE_TMP/second.ini" >"$FE_TMP/second.log" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q 'another flowagent drains it' "$FE_TMP/second.log" ||
	fe_fail "a second agent on the same pin_path was not refused (exit $rc): $(tail -3 "$FE_TMP/second.log")"

fe_gen udpa udp --count 30 --size 100 --port 7101 --echo --sport 41001
fe_gen udpb udp --count 20 --size 100 --port 7102 --echo --sport 41002
fe_ctl dump --json >"$FE_TMP/dump.jsonl" || fe_fail "dump via the agent failed"
python3 - "$FE_TMP/dump.jsonl" <<'PY' || fe_fail "the agent's dump lacks the flows"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
want = {(41001, 7101): 30, (7101, 41001): 30, (41002, 7102): 20, (7102, 41002): 20}
got = {(r["sport"], r["dport"]): r["packets"] for r in rows if r["proto"] == 17}
bad = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
print("agent dump:", got)
sys.exit(1 if bad else 0)
PY
fe_ctl dump --by-ifindex | grep -q 'fe-s' || fe_fail "dump --by-ifindex shows no router link"
fe_ctl stats >"$FE_TMP/stats.txt" || fe_fail "stats via the agent failed"
grep -q '^agent' "$FE_TMP/stats.txt" && grep -q '^collector c1' "$FE_TMP/stats.txt" ||
	fe_fail "stats lack the agent's counters: $(cat "$FE_TMP/stats.txt")"

# flush one conversation: exported at once with flowEndReason 4
fe_ctl flush sport 41001 >"$FE_TMP/flush.txt" || fe_fail "flush via the agent failed"
grep -q 'flushed 1 flows' "$FE_TMP/flush.txt" || fe_fail "flush said: $(cat "$FE_TMP/flush.txt")"
fe_wait_for 5 grep -q '"sourceTransportPort":41001' "$FE_TMP/c1.jsonl" ||
	fe_fail "the flushed flow was not exported"
grep '"sourceTransportPort":41001' "$FE_TMP/c1.jsonl" | grep -q '"flowEndReason":4' ||
	fe_fail "the flushed flow's flowEndReason is not 4"
grep -q '"sourceTransportPort":41002' "$FE_TMP/c1.jsonl" &&
	fe_fail "flush sport 41001 exported the other flow too"
fe_ctl dump --json | grep -q '"sport":41001' && fe_fail "the flushed flow is still in the cache"

# an edit that changes no collector (a comment) keeps its socket and
# sequence number
seq1=$(fe_ctl stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["collectors"][0]["sequence"])')
[ "$seq1" -gt 0 ] || fe_fail "collector c1's sequence number is $seq1 after a flush"
sed -i '1i ; a comment shifts every line' "$FE_TMP/agent.ini"
kill -HUP "$FE_AGENT_PID"
fe_wait_for 5 grep -q 'configuration reloaded' "$FE_TMP/agent.log" ||
	fe_fail "the comment-only reload did not happen"
[ "$(grep -c 'collector c1: 127' "$FE_TMP/agent.log")" = 1 ] ||
	fe_fail "an unchanged collector was reopened on reload"
seq2=$(fe_ctl stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["collectors"][0]["sequence"])')
[ "$seq2" -ge "$seq1" ] || fe_fail "reload reset c1's sequence number ($seq1 -> $seq2)"
sed -i '1d' "$FE_TMP/agent.ini"

# a bad configuration is refused, the old one stays
cp "$FE_TMP/agent.ini" "$FE_TMP/good.ini"
printf '\n[collector typo]\nadress = 127.0.0.1:%s\n' "$p2" >>"$FE_TMP/agent.ini"
kill -HUP "$FE_AGENT_PID"
fe_wait_for 5 grep -q 'reload refused' "$FE_TMP/agent.log" ||
	fe_fail "a bad configuration was not refused"
grep 'reload refused' "$FE_TMP/agent.log" | grep -q 'agent.ini:[0-9]' ||
	fe_fail "the refusal does not name file:line"
kill -0 "$FE_AGENT_PID" || fe_fail "the agent died on a bad reload"

# a good one: export moves to c2, the cache (flow 41002) is kept, and
# ingress = off removes the XDP meters (the flow's counts stay exact)
{
	fe_agent_conf off
	fe_collector_conf c2 "$p2" yes no
} >"$FE_TMP/agent.ini"
kill -HUP "$FE_AGENT_PID"
reloads() { [ "$(grep -c 'configuration reloaded' "$FE_TMP/agent.log")" -ge "$1" ]; }
fe_wait_for 5 reloads 2 || fe_fail "the reload did not happen"
fe_ctl status >"$FE_TMP/status2.txt"; grep -qE "^[0-9]+ .* xdp " "$FE_TMP/status2.txt" && fe_fail "XDP meters left after reloading with ingress = off: $(cat "$FE_TMP/status2.txt")"
fe_gen udpc udp --count 10 --size 100 --port 7103 --echo --sport 41003
fe_agent_stop
fe_collect_stop c1
fe_collect_stop c2
grep -q '"sourceTransportPort":41002' "$FE_TMP/c2.jsonl" ||
	fe_fail "the cached flow was not exported to the new collector"
python3 - "$FE_TMP/c2.jsonl" <<'PY' || fe_fail "counts at the new collector are wrong"
import json, sys
want = {41002: (20, 20), 41003: (10, 10)}
got = {}
for l in open(sys.argv[1]):
    o = json.loads(l)
    sp = o.get("sourceTransportPort")
    if sp in want:
        got[sp] = (o["packetDeltaCount"], o["reversePacketDeltaCount"])
print("at c2:", got, "want", want)
sys.exit(0 if got == want else 1)
PY
exit 0
