#!/usr/bin/env bash
# test_export_json.sh - JSON lines collectors: a file whose records match
# the capture-based ground truth exactly, a rotation as logrotate does it
# (rename the file, SIGHUP: what came before stays in the renamed file,
# what follows goes to a new one, nothing lost or doubled), path = - on the
# agent's standard output, and the collector keys a typo must not slip
# through (biflow = yes with version = 9, path with a network collector:
# exit 2 with file:line).
. "$(dirname "$0")/lib.sh"
fe_init json
fe_topo_up sym

# config errors first: they need no traffic
bad=$FE_TMP/bad.ini
{
	fe_agent_conf tc
	printf '\n[collector v9]\naddress = 127.0.0.1:2055\nversion = 9\nbiflow = yes\n'
} >"$bad"
line=$(grep -n '^biflow = yes' "$bad" | cut -d: -f1)
"$FLOWAGENT" --check -c "$bad" >"$FE_TMP/bad.out" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q "$bad:$line: \[collector v9\] biflow = yes needs version = 10" "$FE_TMP/bad.out" ||
	fe_fail "biflow = yes with version = 9: exit $rc, $(cat "$FE_TMP/bad.out")"
{
	fe_agent_conf tc
	printf '\n[collector j]\nformat = json\npath = /tmp/x.json\naddress = 127.0.0.1:4739\n'
} >"$bad"
"$FLOWAGENT" --check -c "$bad" >"$FE_TMP/bad.out" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q "address is not used with format = json" "$FE_TMP/bad.out" ||
	fe_fail "address with format = json: exit $rc, $(cat "$FE_TMP/bad.out")"

log=$FE_TMP/flows.json
{
	fe_agent_conf xdp
	printf '\n[collector file]\nformat = json\npath = %s\nbiflow = no\n' "$log"
	printf '\n[collector out]\nformat = json\npath = -\n'
} >"$FE_TMP/agent.ini"
fe_agent_start "$FE_TMP/agent.ini"

fe_gen udpa udp --flows 2 --count 50 --size 300 --port 7201 --echo
fe_gen tcpa tcp --bytes 60000 --port 7202 --echo
fe_ctl flush --all >/dev/null || fe_fail "flush --all failed"
fe_wait_for 5 grep -q '"destinationTransportPort":7202' "$log" ||
	fe_fail "the first records were not written to $log"
mv "$log" "$log.1"
kill -HUP "$FE_AGENT_PID"
fe_wait_for 5 grep -q "collector file: reopened $log" "$FE_TMP/agent.log" ||
	fe_fail "SIGHUP did not reopen $log: $(tail -3 "$FE_TMP/agent.log")"
fe_gen udpb udp --count 40 --size 500 --port 7203 --echo
fe_gen icmpb icmp --count 6
fe_agent_stop

fe_log "before the rotation: $(fe_records flows.json.1) records; after: $(fe_records flows.json)"
grep -qE '"destinationTransportPort":720[12]' "$log" &&
	fe_fail "records of before the rotation in the new file"
grep -q '"destinationTransportPort":7203' "$log.1" &&
	fe_fail "records of after the rotation in the renamed file"
fe_verify "udpa tcpa" flows.json.1 --biflow no
fe_verify "udpb icmpb" flows.json --biflow no
# each flow record in exactly one of the two files
python3 - "$log.1" "$log" <<'PY' || fe_fail "a record was lost or doubled in the rotation"
import json, sys
keys = [tuple(sorted(json.loads(l).items())) for f in sys.argv[1:] for l in open(f)]
sys.exit(len(keys) != len(set(keys)))
PY
# path = -: biflow lines on the agent's standard output, reverse names
grep '^{"domain"' "$FE_TMP/agent.log" >"$FE_TMP/stdout.json"
grep -q '"reverseOctetDeltaCount"' "$FE_TMP/stdout.json" ||
	fe_fail "no biflow JSON lines on standard output"
fe_verify "udpa tcpa udpb icmpb" stdout.json --biflow yes --one-record
exit 0
