#!/bin/bash
# test_faults_collector.sh - the collector goes away and comes back on the
# same port: the agent keeps metering and running, logs its failed sends,
# and a collector started afresh (no templates) decodes records again once
# a template refresh has passed; what was exported to a listening collector
# is exact.
. "$(dirname "$0")/lib.sh"
fe_init fcoll
REFRESH=2

fe_topo_up sym
port=$(fe_port)
fe_collect_start c1 "$port"
{
	fe_agent_conf tc idle_timeout=1
	fe_collector_conf c1 "$port" yes no template_refresh=$REFRESH
} >"$FE_TMP/agent.ini"
fe_agent_start "$FE_TMP/agent.ini"

fe_gen a udp --flows 2 --count 50 --echo --sport 47000 --interval 0.001
sleep 2.5 # idle timeout + a poll: A is exported to c1
fe_collect_stop c1
fe_verify a c1.jsonl --biflow yes

# Outage: B is metered and exported into the void; sends must fail loudly.
mark=$(wc -l <"$FE_TMP/agent.log")
fe_gen b udp --flows 2 --count 50 --echo --sport 47100 --interval 0.001
sleep $((2 * REFRESH + 2))
kill -0 "$FE_AGENT_PID" 2>/dev/null ||
	fe_fail "flowagent died while the collector was down"
tail -n +"$((mark + 1))" "$FE_TMP/agent.log" >"$FE_TMP/outage.log"
grep -iE 'refused|unreachable|send|collector' "$FE_TMP/outage.log" | head -3
grep -qiE 'refused|unreachable|send' "$FE_TMP/outage.log" ||
	fe_fail "no send error logged while the collector was down"

# A fresh collector knows no templates; after one refresh period it must
# decode again.
fe_collect_start c2 "$port"
sleep $((REFRESH + 1))
fe_gen c udp --flows 2 --count 50 --echo --sport 47200 --interval 0.001
sleep 2.5
fe_agent_stop
fe_collect_stop c2
[ "$(fe_records c2.jsonl)" -gt 0 ] ||
	fe_fail "the restarted collector decoded no record: $(tail -3 "$FE_TMP/c2.err")"
fe_verify c c2.jsonl --biflow yes
exit 0
