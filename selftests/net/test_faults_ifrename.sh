#!/bin/bash
# test_faults_ifrename.sh - stale state is cleaned as it appears (issue 10
# item 7), on the multipath topology with the agent metering the router:
#  - a metered link renamed away loses its meters (the configuration names
#    another device) and gets them back when renamed back;
#  - a metered link deleted leaves no TCX link pin behind, and a new device
#    of the same name is metered;
#  - a native XDP attach that keeps failing (loopback has no native XDP) is
#    retried with backoff, not every tick;
#  - a reload applies control_socket and log_level, and at exit the agent
#    removes the socket it listens on.
. "$(dirname "$0")/lib.sh"
fe_init ifren

fe_topo_up sym
port=$(fe_port)
fe_collect_start c1 "$port"
{
	fe_agent_conf tc
	fe_collector_conf c1 "$port" yes no
} >"$FE_TMP/agent.ini"
fe_agent_start "$FE_TMP/agent.ini"

# metered_on DEV: flowctl status lists DEV with our tc egress meter
metered_on() {
	fe_ctl status | grep -qE " $1 +tc "
}
# pins_of IFINDEX: the TCX link pins of this netns for IFINDEX
pins_of() {
	local ino
	ino=$(fe_nsexec rtr stat -L -c %i /proc/self/ns/net)
	ls "$FE_PIN" | grep -c "^link_${ino}_$1_" || true
}

# -- rename away and back (from a metered fe-s3: the agent's first tick may
# still be attaching it)
fe_wait_for 5 metered_on fe-s3 ||
	fe_fail "fe-s3 is not metered before the rename: $(fe_ctl status;
		fe_nsexec rtr ip -o link show fe-s3)"
fe_nsexec rtr ip link set fe-s3 down
fe_nsexec rtr ip link set fe-s3 name fe-x3 || fe_fail "cannot rename fe-s3"
fe_nsexec rtr ip link set fe-x3 up
fe_wait_for 5 eval '! metered_on fe-x3' ||
	fe_fail "fe-s3 renamed to fe-x3 is still metered: $(fe_ctl status)"
grep -q 'fe-s3 (ifindex [0-9]*) was renamed to fe-x3' "$FE_TMP/agent.log" ||
	fe_fail "the agent did not log the rename"
fe_nsexec rtr ip link set fe-x3 down
fe_nsexec rtr ip link set fe-x3 name fe-s3
fe_nsexec rtr ip link set fe-s3 up
fe_wait_for 5 metered_on fe-s3 || fe_fail "fe-s3 renamed back is not metered"

# -- delete: no pin left; re-create: metered again
old=$(ip -n "$FE_RTR" -o link show fe-s3 | cut -d: -f1)
[ "$(pins_of "$old")" -ge 1 ] || fe_fail "no TCX pin for fe-s3 (ifindex $old)"
fe_nsexec rtr ip link del fe-s3 || fe_fail "cannot delete fe-s3"
fe_wait_for 5 eval '[ "$(pins_of "$old")" = 0 ]' ||
	fe_fail "TCX link pins of the deleted fe-s3 are left: $(ls "$FE_PIN")"
fe_nsexec rtr ip link add fe-s3 type veth peer name fe-s3p ||
	fe_fail "cannot re-create fe-s3"
fe_nsexec rtr ip link set fe-s3 up
fe_wait_for 5 metered_on fe-s3 || fe_fail "the re-created fe-s3 is not metered"
new=$(ip -n "$FE_RTR" -o link show fe-s3 | cut -d: -f1)
[ "$new" != "$old" ] || fe_fail "the re-created fe-s3 kept ifindex $old"

# -- reload: control_socket and log_level apply
sock2=${FE_SOCK%.sock}-2.sock
sed -e "s|^control_socket = .*|control_socket = $sock2|" \
	-e 's|^\[agent\]$|[agent]\nlog_level = debug|' "$FE_TMP/agent.ini" \
	>"$FE_TMP/agent2.ini"
cp "$FE_TMP/agent2.ini" "$FE_TMP/agent.ini"
kill -HUP "$FE_AGENT_PID"
fe_wait_for 5 test -S "$sock2" || fe_fail "the reload did not open $sock2"
"$FLOWCTL" --pin-path "$FE_PIN" -n "$FE_RTR" --socket "$sock2" stats |
	grep -q '^agent' || fe_fail "the agent does not answer on $sock2"
[ -e "$FE_SOCK" ] && fe_fail "the old control socket $FE_SOCK is still there"
mark=$(wc -l <"$FE_TMP/agent.log")
sleep 0.5
tail -n +"$((mark + 1))" "$FE_TMP/agent.log" | grep -q 'tick [0-9]*: drained' ||
	fe_fail "log_level = debug did not apply: no tick messages after the reload"
fe_kill agent TERM || fe_fail "flowagent exited non-zero on SIGTERM"
FE_AGENT_PID=
[ -e "$sock2" ] && fe_fail "the agent left its control socket $sock2"

# -- a native XDP attach that keeps failing: backoff
{
	fe_agent_conf xdp interfaces=lo poll_interval_ms=100
	fe_collector_conf c1 "$port" yes no
} >"$FE_TMP/lo.ini"
mark=$(wc -l <"$FE_TMP/agent.log")
fe_agent_start "$FE_TMP/lo.ini"
sleep 3
tries=$(tail -n +"$((mark + 1))" "$FE_TMP/agent.log" |
	grep -c 'attach XDP meter (native mode) on lo')
fe_log "native XDP on lo tried $tries times in 3 s (30 ticks)"
[ "$tries" -ge 1 ] || fe_fail "the agent never tried XDP on lo"
# backoff 1 s, 2 s, 4 s: at most 3 tries in these 3 s (every tick: 30)
[ "$tries" -le 3 ] || fe_fail "native XDP on lo was tried $tries times in 3 s"
fe_agent_stop
fe_collect_stop c1
exit 0
