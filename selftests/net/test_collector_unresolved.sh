#!/usr/bin/env bash
# test_collector_unresolved.sh - a collector whose host name does not
# resolve (DNS not up at boot; issue 10, item 5) beside a working one:
#  - `flowagent --check` warns on stderr and exits 0; a malformed address
#    is still an error with FILE:LINE, exit 2;
#  - the agent starts and meters: the working collector gets exact
#    records, `flowctl stats` (text and JSON) shows the other unresolved,
#    flowexp_collector_up is 0 for it;
#  - once the name resolves, the agent's retry finds it and the collector
#    gets what was queued for it meanwhile and what follows, exactly;
#  - a reload adding another unresolvable collector keeps the agent
#    running and shows it unresolved.
# Names resolve from a hosts file of the test's own: the agent runs in a
# private mount namespace where it is /etc/hosts and nsswitch.conf says
# "hosts: files" (no DNS traffic, nothing outside the test changed).
. "$(dirname "$0")/lib.sh"
fe_init unres
fe_require_cmd unshare mount
NAME=fe-unres-$$.test NAME2=fe-unres2-$$.test

printf '127.0.0.1 localhost\n::1 localhost\n' >"$FE_TMP/hosts"
printf 'passwd: files\ngroup: files\nhosts: files\n' >"$FE_TMP/nsswitch.conf"
# shellcheck disable=SC2016
FE_AGENT_WRAP=(unshare --mount --propagation private sh -c '
	mount --bind "$0/hosts" /etc/hosts &&
	mount --bind "$0/nsswitch.conf" /etc/nsswitch.conf &&
	exec "$@"' "$FE_TMP")

# --- --check -------------------------------------------------------------
conf() {
	fe_agent_conf off metrics_listen=127.0.0.1:$mport
	fe_collector_conf c1 "$p1" no no
	printf '\n[collector c2]\naddress = %s:%s\nbiflow = no\n' "$1" "$p2"
}
p1=$(fe_port) p2=$(fe_port) mport=$(fe_port)
conf "$NAME" >"$FE_TMP/agent.ini"
"${FE_AGENT_WRAP[@]}" "$FLOWAGENT" --check -c "$FE_TMP/agent.ini" \
	>"$FE_TMP/check.out" 2>"$FE_TMP/check.err"
rc=$?
cat "$FE_TMP/check.err"
[ "$rc" = 0 ] || fe_fail "--check with an unresolvable name: exit $rc: $(cat "$FE_TMP/check.err")"
grep -q "agent.ini:[0-9]*: warning: .*collector c2.*$NAME" "$FE_TMP/check.err" ||
	fe_fail "--check gave no warning on stderr for $NAME"
conf "bad_name!" >"$FE_TMP/bad.ini"
"$FLOWAGENT" --check -c "$FE_TMP/bad.ini" >"$FE_TMP/bad.out" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q 'bad.ini:[0-9]*: .*bad_name!' "$FE_TMP/bad.out" ||
	fe_fail "a malformed address: exit $rc, $(cat "$FE_TMP/bad.out")"

# --- the agent meters without the name -------------------------------------
fe_topo_up sym
fe_collect_start c1 "$p1"
fe_collect_start c2 "$p2"
fe_agent_start "$FE_TMP/agent.ini"
grep -q "collector c2: cannot resolve $NAME" "$FE_TMP/agent.log" ||
	fe_wait_for 5 grep -q "collector c2: cannot resolve $NAME" "$FE_TMP/agent.log" ||
	fe_fail "no lookup failure logged"
fe_ctl stats >"$FE_TMP/stats.txt" || fe_fail "flowctl stats failed"
sed -n '/collector c2/,/collector\|^$/p' "$FE_TMP/stats.txt" | head -3
sed -n '/collector c2/,$p' "$FE_TMP/stats.txt" | grep -q 'state *unresolved' ||
	fe_fail "flowctl stats does not show c2 unresolved: $(cat "$FE_TMP/stats.txt")"
state() {
	fe_ctl stats --json | python3 -c 'import json, sys
print({c["name"]: c["state"] for c in json.load(sys.stdin)["collectors"]}[sys.argv[1]])' "$1"
}
[ "$(state c2)" = unresolved ] && [ "$(state c1)" = up ] ||
	fe_fail "flowctl stats --json: c1 $(state c1), c2 $(state c2)"
up() {
	python3 -c 'import sys, urllib.request
t = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1]).read().decode()
print([l.split()[1] for l in t.splitlines()
       if l.startswith("flowexp_collector_up{collector=\"%s\"}" % sys.argv[2])][0])' "$mport" "$1"
}
[ "$(up c2)" = 0 ] && [ "$(up c1)" = 1 ] ||
	fe_fail "flowexp_collector_up: c1 $(up c1), c2 $(up c2)"

fe_gen a udp --count 30 --size 120 --port 7301 --echo --sport 43001
fe_ctl flush port 7301 >/dev/null || fe_fail "flush failed"
sleep 1
fe_verify a c1.jsonl --biflow no

# --- the name resolves ---------------------------------------------------
echo "127.0.0.1 $NAME" >>"$FE_TMP/hosts"
fe_wait_for 70 grep -q "collector c2: $NAME:$p2 resolved to 127.0.0.1" "$FE_TMP/agent.log" ||
	fe_fail "the agent did not resolve $NAME after it appeared"
fe_wait_for 5 eval '[ "$(state c2)" = up ]' || fe_fail "c2 is $(state c2)"
fe_gen b udp --count 20 --size 200 --port 7302 --echo --sport 43002
fe_ctl flush port 7302 >/dev/null || fe_fail "flush failed"
sleep 1

# --- a reload adds another name that does not resolve -------------------
{
	conf "$NAME"
	printf '\n[collector c3]\naddress = %s:%s\nbiflow = no\n' "$NAME2" "$(fe_port)"
} >"$FE_TMP/agent.ini"
kill -HUP "$FE_AGENT_PID"
fe_wait_for 5 grep -q 'configuration reloaded' "$FE_TMP/agent.log" ||
	fe_fail "the reload failed: $(tail -3 "$FE_TMP/agent.log")"
fe_wait_for 5 eval '[ "$(state c3)" = unresolved ]' ||
	fe_fail "c3 after the reload: $(state c3)"
[ "$(state c2)" = up ] || fe_fail "the reload disturbed c2: $(state c2)"

fe_agent_stop
fe_collect_stop c1
fe_collect_stop c2
# c2 got what was queued while its name did not resolve, and what followed
fe_verify "a b" c2.jsonl --biflow no
fe_verify "a b" c1.jsonl --biflow no
exit 0
