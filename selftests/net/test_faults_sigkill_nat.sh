#!/bin/bash
# test_faults_sigkill_nat.sh - crash-safe accounting behind NAT: the router
# masquerades over its three ECMP links (fe_masquerade) and the agent is
# killed with SIGKILL twice in the middle of translated UDP and TCP traffic
# and started again each time. Flows finished before the first kill wait in
# the pinned flow cache, joined with their translations; live ones go on
# across the deaths, with replies metered under the translated tuple. After
# the last start and a SIGTERM every conversation is one biflow record,
# both directions exact against the receivers' captures, with the postNAT
# elements of its translation: nothing lost, nothing twice, still joined.
. "$(dirname "$0")/lib.sh"
fe_init signat
fe_require_cmd nft

fe_topo_up sym
fe_masquerade
port=$(fe_port)
fe_collect_start c1 "$port"
{
	fe_agent_conf tc end_grace_ms=600000 idle_timeout=600 \
		active_timeout=600
	fe_collector_conf c1 "$port" yes no template=nat
	fe_nat_template
} >"$FE_TMP/agent.ini"

fe_agent_start "$FE_TMP/agent.ini"
# finished before the first kill, waiting in the cache
fe_gen udp_done udp --nat --flows 4 --count 200 --size 300 --echo \
	--sport 47000 --interval 0.001
fe_gen tcp_done tcp --nat --flows 1 --bytes 1000000 --write 16000 \
	--interval 0.002 --echo --port 5007
sleep 0.5 # drained: in the flow cache, not exported
[ "$(fe_records c1.jsonl)" = 0 ] ||
	fe_fail "records exported before the kill: the test needs them cached"

fe_gen_bg udp udp --nat --flows 4 --count 600 --size 200 --echo \
	--sport 48000 --interval 0.002
fe_gen_bg tcp tcp --nat --flows 1 --bytes 1000000 --write 6000 \
	--interval 0.008 --echo --port 5006
for round in 1 2; do
	sleep "0.$((RANDOM % 6 + 3))"
	fe_agent_kill_safe
	sleep 0.4 # traffic goes on with no agent: the meters keep counting
	fe_agent_start "$FE_TMP/agent.ini"
	fe_ctl stats >"$FE_TMP/stats.$round" ||
		fe_fail "flowctl stats after restart $round"
done
grep -q "adopted from" "$FE_TMP/agent.log" ||
	fe_fail "the restarted agent did not adopt the pinned state"
fe_gen_wait udp
fe_gen_wait tcp
fe_agent_stop
fe_collect_stop c1
grep -h 'restart_uncertain_sends' "$FE_TMP"/stats.* | grep -qv ' 0$' &&
	fe_fail "a kill landed in a send (restart_uncertain_sends)"
fe_verify "udp_done tcp_done udp tcp" c1.jsonl --biflow yes --nat --one-record
exit 0
