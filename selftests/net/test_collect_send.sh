#!/usr/bin/env bash
# test_collect_send.sh - `flowctl send` to `flowctl collect` on loopback:
# record counts, decoded values (JSON and text), IPv6 + biflow, MTU
# splitting without sequence gaps, and usage errors.
# Exit 0 pass, 1 fail, 4 skip. Uses ${OUTPUT:-.output}/flowctl.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUTPUT=${OUTPUT:-.output}
case $OUTPUT in /*) ;; *) OUTPUT=$ROOT/$OUTPUT ;; esac
FLOWCTL=${FLOWCTL:-$OUTPUT/flowctl}
TMP=$(mktemp -d /tmp/fe-cs.XXXXXX)
CPID=

cleanup() {
	[ -n "$CPID" ] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; [ -f "$TMP/c.err" ] && sed 's/^/  collect: /' "$TMP/c.err"; exit 1; }
skip() { echo "SKIP: $*"; exit 4; }

[ -x "$FLOWCTL" ] || skip "$FLOWCTL is not built (make)"
command -v python3 >/dev/null || skip "python3 is not installed"

# start_collect ADDR ARGS...: collect in the background on ADDR (port 0: the
# kernel picks a free one); sets PORT from its "listening on" line.
start_collect() {
	local addr=$1 i
	shift
	: >"$TMP/c.out"
	: >"$TMP/c.err"
	"$FLOWCTL" collect -l "$addr" "$@" >"$TMP/c.out" 2>"$TMP/c.err" &
	CPID=$!
	for i in $(seq 50); do
		PORT=$(sed -n 's/^listening on .*:\([0-9][0-9]*\)$/\1/p' "$TMP/c.err")
		[ -n "$PORT" ] && return 0
		kill -0 "$CPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

wait_collect() {
	local rc
	wait "$CPID"
	rc=$?
	CPID=
	return $rc
}

# check_json FILE PYTHON-EXPR-over-`recs`: a list of the records' dicts
check_json() {
	python3 - "$1" "$2" <<'PY' || return 1
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ok = eval("(" + sys.argv[2] + "\n)")
if not ok:
    print("check failed:", sys.argv[2])
    for r in recs[:2]:
        print(" ", json.dumps(r))
    sys.exit(1)
PY
}

# 1. IPv4 uniflow, small MTU: several messages, every record, no gap
start_collect 127.0.0.1:0 --json -c 200 --timeout 20 || fail "collect did not start"
out=$("$FLOWCTL" send -d "127.0.0.1:$PORT" -n 200 --mtu 600 --domain 7) ||
	fail "send failed: $out"
echo "$out"
msgs=$(echo "$out" | sed -n 's/.* in \([0-9]*\) messages.*/\1/p')
[ "${msgs:-0}" -gt 1 ] || fail "200 records in ${msgs:-?} messages: expected a split"
wait_collect || fail "collect exited with an error"
n=$(wc -l <"$TMP/c.out")
[ "$n" -eq 200 ] || fail "collected $n records, sent 200"
grep -q "warning" "$TMP/c.err" && fail "unexpected warning"
check_json "$TMP/c.out" '
recs[0]["domain"] == 7 and recs[0]["template"] == 1024 and
recs[0]["sourceIPv4Address"] == "10.0.0.1" and
recs[0]["destinationIPv4Address"] == "192.0.2.1" and
recs[0]["destinationTransportPort"] == 443 and
recs[0]["sourceTransportPort"] == 1024 and
recs[0]["protocolIdentifier"] == 6 and recs[0]["octetDeltaCount"] == 100 and
recs[0]["packetDeltaCount"] == 1 and recs[0]["ipVersion"] == 4 and
recs[0]["flowDirection"] == 1 and recs[0]["tcpControlBits"] == 27 and
recs[1]["protocolIdentifier"] == 17 and recs[1]["destinationTransportPort"] == 53 and
recs[3]["protocolIdentifier"] == 1 and recs[3]["icmpTypeCodeIPv4"] == 2048 and
recs[199]["sourceIPv4Address"] == "10.0.0.200" and
recs[199]["octetDeltaCount"] == 100 * 100 + 199 and
all(r["flowEndMilliseconds"] - r["flowStartMilliseconds"] == 10000 for r in recs) and
sum(r["packetDeltaCount"] for r in recs) == sum(i % 100 + 1 for i in range(200)) and
not any(k.startswith("reverse") for k in recs[0])
' || fail "IPv4 record values"
echo "ok 1 - IPv4 uniflow: 200 records in $msgs messages"

# 2. IPv6 biflow over [::1]
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::1", 0))' 2>/dev/null; then
	start_collect '[::1]:0' --json -c 30 --timeout 20 || fail "collect on [::1] did not start"
	out=$("$FLOWCTL" send -d "[::1]:$PORT" -n 30 --ipv6 --biflow) ||
		fail "send --ipv6 --biflow failed: $out"
	wait_collect || fail "collect exited with an error"
	n=$(wc -l <"$TMP/c.out")
	[ "$n" -eq 30 ] || fail "collected $n IPv6 records, sent 30"
	check_json "$TMP/c.out" '
recs[0]["sourceIPv6Address"] == "2001:db8::1" and
recs[0]["destinationIPv6Address"] == "2001:db8:1::1" and
recs[0]["ipVersion"] == 6 and recs[0]["biflowDirection"] == 1 and
recs[0]["reverseOctetDeltaCount"] == 80 and recs[0]["reversePacketDeltaCount"] == 1 and
recs[0]["reverseFlowDirection"] == 0 and recs[0]["flowDirection"] == 1 and
recs[3]["protocolIdentifier"] == 58 and recs[3]["icmpTypeCodeIPv6"] == 128 * 256 and
recs[3]["reverseIcmpTypeCodeIPv6"] == 129 * 256 and
recs[29]["sourceIPv6Address"] == "2001:db8::1e" and
"sourceIPv4Address" not in recs[0] and "reverseSourceIPv6Address" not in recs[0]
' || fail "IPv6 biflow record values"
	echo "ok 2 - IPv6 biflow over [::1]"
else
	echo "ok 2 - # SKIP no IPv6 loopback"
fi

# 3. text output (name=value) and a chosen field list
start_collect 127.0.0.1:0 --format kv -c 3 --timeout 20 || fail "collect did not start"
"$FLOWCTL" send -d "127.0.0.1:$PORT" -n 3 \
	--fields "SourceIPv4Address destinationTransportPort octetDeltaCount" >/dev/null ||
	fail "send --fields failed"
wait_collect || fail "collect exited with an error"
expect="domain=1 template=1024 export_time=X sourceIPv4Address=10.0.0.1 destinationTransportPort=443 octetDeltaCount=100"
got=$(head -1 "$TMP/c.out" | sed 's/export_time=[0-9]*/export_time=X/')
[ "$got" = "$expect" ] || fail "text line: got '$got', expected '$expect'"
[ "$(wc -l <"$TMP/c.out")" -eq 3 ] || fail "text: expected 3 lines"
echo "ok 3 - text output"

# 3b. the default table: one heading, one row per record
start_collect 127.0.0.1:0 -c 4 --timeout 20 || fail "collect did not start"
"$FLOWCTL" send -d "127.0.0.1:$PORT" -n 4 >/dev/null || fail "send failed"
wait_collect || fail "collect exited with an error"
head -1 "$TMP/c.out" | grep -q '^TIME  *PROTO  *SRC  *DST  *PKTS' || fail "table heading: $(head -1 "$TMP/c.out")"
grep -qE '^[0-9:.]+ +tcp +10\.0\.0\.1:1024 +-> +192\.0\.2\.1:443 +1 +100 +- +- +2>3 +out +idle$' "$TMP/c.out" ||
	fail "table row: $(sed -n 2p "$TMP/c.out")"
[ "$(wc -l <"$TMP/c.out")" -eq 5 ] || fail "table: expected 5 lines"
echo "ok 3b - table output"

# 4. --timeout ends collect; a missing --count is not an error
start_collect 127.0.0.1:0 --timeout 1 || fail "collect did not start"
wait_collect || fail "collect --timeout 1 should exit 0"
start_collect 127.0.0.1:0 -c 5 --timeout 1 || fail "collect did not start"
wait_collect && fail "collect -c 5 with nothing received should exit 1"
echo "ok 4 - timeouts"

# 5. usage errors exit 2, --help 0, SIGTERM 0
for args in "collect --bogus" "collect -c abc" "collect -l 1.2.3.4:99999" \
	"send -n abc" "send --mtu 10" "send --fields nosuchElement" \
	"send --fields octetTotalCount" "send extra"; do
	"$FLOWCTL" $args >/dev/null 2>"$TMP/u.err"
	rc=$?
	[ $rc -eq 2 ] || fail "'flowctl $args' exited $rc, expected 2"
	[ -s "$TMP/u.err" ] || fail "'flowctl $args' printed no error"
done
"$FLOWCTL" collect --help | grep -q "Usage: flowctl collect" || fail "collect --help"
"$FLOWCTL" send --help | grep -q "Usage: flowctl send" || fail "send --help"
start_collect 127.0.0.1:0 || fail "collect did not start"
kill -TERM "$CPID"
wait_collect || fail "collect should exit 0 on SIGTERM"
echo "ok 5 - usage errors and signals"

# 6. a stop signal still reads what the socket holds: messages that came
# while collect was not scheduled (stopped here) are printed, not lost
start_collect 127.0.0.1:0 --json || fail "collect did not start"
kill -STOP "$CPID"
out=$("$FLOWCTL" send -d "127.0.0.1:$PORT" -n 200 --mtu 600) ||
	fail "send failed: $out"
kill -TERM "$CPID"
kill -CONT "$CPID"
wait_collect || fail "collect should exit 0 on SIGTERM"
n=$(wc -l <"$TMP/c.out")
[ "$n" -eq 200 ] || fail "SIGTERM with 200 records queued: printed $n"
echo "ok 6 - a stop reads what is queued"
echo "PASS"
exit 0
