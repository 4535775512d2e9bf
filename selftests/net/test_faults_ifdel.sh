#!/bin/bash
# test_faults_ifdel.sh - a metered link (fe-s3) is deleted while the agent
# runs: the agent logs it, keeps metering the other links (traffic after
# the deletion is exact), still exports what fe-s3 carried before, and
# exits 0 on SIGTERM.
. "$(dirname "$0")/lib.sh"
fe_init ifdel

fe_topo_up sym
port=$(fe_port)
fe_collect_start c1 "$port"
{
	fe_agent_conf tc
	fe_collector_conf c1 "$port" yes no
} >"$FE_TMP/agent.ini"
fe_agent_start "$FE_TMP/agent.ini"

fe_gen before udp --flows 8 --count 30 --echo --sport 50000 --interval 0.0005
python3 - "$FE_TMP/before.json" <<'PY' || fe_fail "no flow used fe-s3 before the deletion"
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(not any("fe-s3" in x["links"] for x in d["directions"]))
PY
sleep 0.5 # a poll, so fe-s3's counts have been drained
mark=$(wc -l <"$FE_TMP/agent.log")
fe_nsexec rtr ip link del fe-s3 || fe_fail "cannot delete fe-s3"
# The kernel drops a multipath route with a dead device: route again.
fe_nsexec rtr ip route replace 10.10.9.1/32 \
	nexthop via 10.10.1.2 dev fe-s1 nexthop via 10.10.2.2 dev fe-s2 ||
	fe_fail "cannot re-route over fe-s1 fe-s2"
fe_nsexec srv ip route replace 10.10.0.0/24 \
	nexthop via 10.10.1.1 dev fe-r1 nexthop via 10.10.2.1 dev fe-r2 ||
	fe_fail "cannot re-route the server"
sleep 1
kill -0 "$FE_AGENT_PID" 2>/dev/null ||
	fe_fail "flowagent died when fe-s3 was deleted"
fe_gen after udp --flows 6 --count 30 --echo --sport 50100 --interval 0.0005
fe_gen icmp icmp --count 10
tail -n +"$((mark + 1))" "$FE_TMP/agent.log" >"$FE_TMP/ifdel.log"
grep -iE 'fe-s3|ifindex|gone|remov|delet' "$FE_TMP/ifdel.log" | head -3
grep -qiE 'fe-s3|gone|remov|delet|vanish' "$FE_TMP/ifdel.log" ||
	fe_fail "the agent logged nothing about fe-s3's deletion"
fe_agent_stop
fe_collect_stop c1
fe_verify "before after icmp" c1.jsonl --biflow yes
exit 0
