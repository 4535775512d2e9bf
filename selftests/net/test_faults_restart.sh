#!/bin/bash
# test_faults_restart.sh - the agent is stopped (SIGTERM) and started again
# while UDP and TCP traffic flows steadily. The meters and their maps stay
# pinned, so the restarted agent drains what was counted meanwhile: the
# records of both runs add up to the ground truth exactly.
. "$(dirname "$0")/lib.sh"
fe_init restart

fe_topo_up sym
port=$(fe_port)
fe_collect_start c1 "$port"
{
	fe_agent_conf tc
	fe_collector_conf c1 "$port" yes no
} >"$FE_TMP/agent.ini"
fe_agent_start "$FE_TMP/agent.ini"

fe_gen_bg udp udp --flows 4 --count 500 --interval 0.002 --echo --size 200 \
	--sport 48000
fe_gen_bg tcp tcp --flows 2 --bytes 1500000 --write 6000 --interval 0.008 \
	--echo --port 5006
sleep 1.2
fe_agent_stop
sleep 0.8 # traffic goes on with no agent: the meters keep counting
fe_agent_start "$FE_TMP/agent.ini"
fe_gen_wait udp
fe_gen_wait tcp
fe_agent_stop
fe_collect_stop c1
grep -c '"flowEndReason":4' "$FE_TMP/c1.jsonl" >/dev/null ||
	fe_log "note: no record with flowEndReason 4 (forced end)"
fe_verify "udp tcp" c1.jsonl --biflow yes
exit 0
