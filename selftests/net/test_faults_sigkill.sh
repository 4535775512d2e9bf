#!/bin/bash
# test_faults_sigkill.sh - the agent is killed with SIGKILL three times in
# the middle of UDP and TCP traffic and started again each time. Two 3 MB
# TCP transfers and four UDP flows finished before the first kill and wait
# in the flow cache (end_grace_ms and idle_timeout longer than the test);
# the pinned state keeps them, the drain's stage and the export log across
# every death. Two live UDP flows are flushed (exported) between kills and
# go on. After the last start and a SIGTERM, the records of all runs add
# up to the ground truth exactly: nothing lost, nothing counted twice.
#
# A kill lands only where the agent is in poll(), in a bpf() call (a drain
# under way, or just returned) or asleep (fe_agent_kill_safe).
. "$(dirname "$0")/lib.sh"
fe_init sigkill

fe_topo_up sym
port=$(fe_port)
fe_collect_start c1 "$port"
{
	fe_agent_conf tc end_grace_ms=600000 idle_timeout=600 \
		active_timeout=600
	fe_collector_conf c1 "$port" yes no
} >"$FE_TMP/agent.ini"

fe_agent_start "$FE_TMP/agent.ini"
# finished before the first kill, waiting in the cache
fe_gen tcp_done tcp --flows 2 --bytes 3000000 --write 16000 --interval 0.002 \
	--echo --port 5007
fe_gen udp_done udp --flows 4 --count 300 --interval 0.001 --echo --size 300 \
	--sport 47000
sleep 0.5 # drained: in the flow cache, not exported
[ "$(fe_records c1.jsonl)" = 0 ] ||
	fe_fail "records exported before the kill: the test needs them cached"

fe_gen_bg udp udp --flows 4 --count 900 --interval 0.002 --echo --size 200 \
	--sport 48000
fe_gen_bg tcp tcp --flows 2 --bytes 2000000 --write 6000 --interval 0.008 \
	--echo --port 5006
for round in 1 2 3; do
	sleep "0.$((RANDOM % 6 + 3))"
	fe_agent_kill_safe
	sleep 0.4 # traffic goes on with no agent: the meters keep counting
	fe_agent_start "$FE_TMP/agent.ini"
	fe_ctl stats >"$FE_TMP/stats.$round" ||
		fe_fail "flowctl stats after restart $round"
	grep -E 'restart_|cache_flows' "$FE_TMP/stats.$round" | tr -s ' ' |
		tr '\n' ' ' | sed "s/^/restart $round: /"
	echo
	# a live flow exported now (forced end) and again at the end: what
	# was exported before a kill must not be sent again after it
	[ "$round" = 3 ] || fe_ctl flush sport $((48000 + round)) ||
		fe_fail "flowctl flush sport $((48000 + round))"
done
grep -q "adopted from" "$FE_TMP/agent.log" ||
	fe_fail "the restarted agent did not adopt the pinned state"
fe_gen_wait udp
fe_gen_wait tcp
fe_agent_stop
fe_collect_stop c1
grep -h 'restart_uncertain_sends' "$FE_TMP"/stats.* | grep -qv ' 0$' &&
	fe_fail "a kill landed in a send (restart_uncertain_sends)"
fe_verify "tcp_done udp_done udp tcp" c1.jsonl --biflow yes
exit 0
