#!/usr/bin/env bash
# test_dump_load.sh - flowctl dump of a big cache while the agent keeps its
# schedule. The router's meter set is filled with 200,000 conversations
# (fe_fill), then:
# - `flowctl dump --json` lists every one of them;
# - a client that reads its dump slowly: the ticks go on at their pace
#   (ticks counted, tick_late_max_ms under the poll interval) while the
#   rows stream; once it stops reading for longer than the agent's bound
#   (5 s) the agent drops it (control_dropped) and its reply ends without
#   the end frame;
# - a reply cut off makes flowctl fail (exit 1, with a message), against a
#   fake agent that stops in the middle of a frame;
# - `flowctl dump | head` leaves the agent serving.
. "$(dirname "$0")/lib.sh"
fe_init dload
FE_FILL=$OUTPUT/bench/fe_fill
[ -x "$FE_FILL" ] || fe_skip "$FE_FILL is not built (make tests)"
fe_topo_up sym

port=$(fe_port)
fe_collect_start c1 "$port"
{
	fe_agent_conf tc kernel_max_flows=262144 max_flows=300000 \
		idle_timeout=600 active_timeout=600 poll_interval_ms=200
	fe_collector_conf c1 "$port" yes no
} >"$FE_TMP/agent.ini"
fe_agent_start "$FE_TMP/agent.ini"
fe_nsexec rtr "$FE_FILL" --pin "$FE_PIN" --threads 2 --family 4 \
	--proto udp --set 5 --flows 200000 --out fe-s1 >"$FE_TMP/fill.json" ||
	fe_fail "fe_fill failed"

stat() {
	fe_ctl stats --json | python3 -c \
		"import json,sys; print(json.load(sys.stdin)[\"$1\"])"
}
cached() { [ "$(stat cache_flows)" -ge 200000 ]; }
fe_wait_for 30 cached || fe_fail "the cache holds $(stat cache_flows) flows, not 200000"

# the whole table
t0=$(date +%s.%N)
fe_ctl dump --json >"$FE_TMP/dump.jsonl" || fe_fail "flowctl dump failed"
fe_log "dump of 200000 flows in $(python3 -c "import time; print(round(time.time() - $t0, 2))") s"
n=$(grep -c '"dst":"192.168.0.1"' "$FE_TMP/dump.jsonl")
[ "$n" = 200000 ] || fe_fail "the dump lists $n of the 200000 flows"
fe_log "dump: $(wc -l <"$FE_TMP/dump.jsonl") rows"

# a slow reader, then one that stops: the schedule holds, the agent
# drops it after its bound, and the reply has no end
late0=$(stat tick_late_max_ms)
drop0=$(stat control_dropped)
ticks0=$(stat ticks)
python3 - "$FE_SOCK" "$FE_PIN" >"$FE_TMP/slow.txt" 2>&1 <<'PY' &
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(("rows %s 88\n" % sys.argv[2]).encode())
got = b""
t0 = time.time()
while time.time() - t0 < 3:          # slowly: 8 KiB every 50 ms
    got += s.recv(8192)
    time.sleep(0.05)
time.sleep(8)                         # then not at all
s.settimeout(10)
while True:
    b = s.recv(1 << 20)
    if not b:
        break
    got += b
status, _, body = got.partition(b"\n")
frames, off, ended = 0, 0, False
while off + 4 <= len(body):
    (n,) = struct.unpack("!I", body[off:off + 4])
    off += 4
    if n == 0:
        ended = True
        break
    if off + n > len(body):
        break
    off += n
    frames += 1
print("status", status, "frames", frames, "ended", ended, "octets", len(got))
sys.exit(0 if status == b"OK" and not ended else 1)
PY
slow=$!
sleep 2.5
ticks1=$(stat ticks)
wait $slow || fe_fail "the stopped reader's reply: $(cat "$FE_TMP/slow.txt")"
cat "$FE_TMP/slow.txt"
late1=$(stat tick_late_max_ms)
drop1=$(stat control_dropped)
fe_log "ticks $ticks0 -> $ticks1 in about 2.5 s; tick_late_max_ms $late0 -> $late1; dropped $drop0 -> $drop1"
[ $((ticks1 - ticks0)) -ge 6 ] ||
	fe_fail "only $((ticks1 - ticks0)) ticks in 2.5 s of a slow dump (poll 200 ms)"
# the max since start: it may come from the fill (CPUs busy), not the dump
[ "$late1" -lt 200 ] || [ "$late1" = "$late0" ] ||
	fe_fail "a tick ran $late1 ms late while a dump streamed"
[ "$drop1" = $((drop0 + 1)) ] || fe_fail "the stopped reader was not dropped ($drop0 -> $drop1)"
grep -q 'client dropped: took none of its reply for 5 s' "$FE_TMP/agent.log" ||
	fe_fail "the agent did not log the drop"

# flowctl and a reply cut off in the middle of a frame
python3 - "$FE_TMP/fake.sock" <<'PY' &
import os, socket, struct, sys
l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
l.bind(sys.argv[1])
l.listen(1)
c, _ = l.accept()
c.recv(1024)
c.sendall(b"OK\n" + struct.pack("!I", 880) + b"\0" * 88 * 4)
c.close()
PY
fake=$!
fe_wait_for 5 test -S "$FE_TMP/fake.sock" || fe_fail "the fake agent did not start"
"$FLOWCTL" --pin-path "$FE_PIN" --socket "$FE_TMP/fake.sock" dump \
	>"$FE_TMP/cut.out" 2>"$FE_TMP/cut.err"
rc=$?
wait $fake
[ "$rc" = 1 ] || fe_fail "flowctl dump of a cut-off reply exited $rc, not 1"
grep -q 'cut off' "$FE_TMP/cut.err" || fe_fail "no message for a cut-off reply: $(cat "$FE_TMP/cut.err")"
cat "$FE_TMP/cut.err"

# a reader that goes away: the agent goes on
fe_ctl dump | head -2
fe_ctl dump --json | wc -l >"$FE_TMP/again.txt" || fe_fail "a dump after dump | head failed"
[ "$(cat "$FE_TMP/again.txt")" -ge 200000 ] || fe_fail "the dump after dump | head has $(cat "$FE_TMP/again.txt") rows"
kill -0 "$FE_AGENT_PID" || fe_fail "the agent died"
fe_agent_stop
fe_collect_stop c1
exit 0
