#!/bin/bash
# test_faults_overflow.sh - the kernel flow map holds 16 flows; 40 UDP
# conversations (80 directions) arrive between two drains. Packets that find
# the map full go to the per-interface overflow records: the totals stay
# exact, no conversation is over-counted, and `flowctl stats` shows the
# overflow.
. "$(dirname "$0")/lib.sh"
fe_init ovf

fe_topo_up sym
port=$(fe_port)
fe_collect_start c1 "$port"
{
	fe_agent_conf off kernel_max_flows=16 poll_interval_ms=1000
	fe_collector_conf c1 "$port" yes no
} >"$FE_TMP/agent.ini"
fe_agent_start "$FE_TMP/agent.ini"

fe_gen udp udp --flows 40 --count 10 --echo --size 120 --sport 49000 \
	--interval 0.0005
fe_ctl stats >"$FE_TMP/stats.txt" 2>&1 ||
	fe_fail "flowctl stats failed: $(tail -3 "$FE_TMP/stats.txt")"
cat "$FE_TMP/stats.txt"
fe_agent_stop
fe_collect_stop c1
grep -iE 'overflow[^0-9]*[1-9]' "$FE_TMP/stats.txt" >/dev/null ||
	fe_fail "flowctl stats shows no overflow"
fe_verify udp c1.jsonl --overflow --expect-overflow --quiet
exit 0
