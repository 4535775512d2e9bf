#!/bin/bash
# test_privs.sh - least privilege (issue 10 item 8): once started, flowagent
# keeps only CAP_NET_ADMIN, CAP_BPF, CAP_PERFMON and (with `netns`)
# CAP_SYS_ADMIN, in every set including the bounding set, with
# no_new_privs; and with just those it still attaches a device that
# appears later and, after a reload, sends exact records to a collector it
# opened after the drop (its socket made in the host's namespace).
. "$(dirname "$0")/lib.sh"
fe_init privs

fe_topo_up sym
port=$(fe_port)
port2=$(fe_port)
fe_collect_start c1 "$port"
fe_collect_start c2 "$port2"
{
	fe_agent_conf tc "interfaces=fe-c0 fe-s1 fe-s2 fe-s3 fe-n0"
	fe_collector_conf c1 "$port" yes no
} >"$FE_TMP/agent.ini"
fe_agent_start "$FE_TMP/agent.ini"

# CAP_NET_ADMIN 12, CAP_SYS_ADMIN 21, CAP_PERFMON 38, CAP_BPF 39
want=$(printf '%016x' $(((1 << 12) | (1 << 21) | (1 << 38) | (1 << 39))))
for set in CapEff CapPrm CapBnd; do
	got=$(awk -v s="$set:" '$1 == s { print $2 }' "/proc/$FE_AGENT_PID/status")
	fe_log "$set $got"
	[ "$got" = "$want" ] || fe_fail "$set is $got, want $want"
done
[ "$(awk '$1 == "NoNewPrivs:" { print $2 }' "/proc/$FE_AGENT_PID/status")" = 1 ] ||
	fe_fail "no_new_privs is not set"
grep -q 'capabilities kept: cap_net_admin cap_bpf cap_perfmon cap_sys_admin' \
	"$FE_TMP/agent.log" || fe_fail "the agent did not log what it kept"

# a configured device that appears after the drop is metered
fe_nsexec rtr ip link add fe-n0 type veth peer name fe-n0p ||
	fe_fail "cannot add fe-n0"
fe_wait_for 5 eval 'fe_ctl status | grep -qE " fe-n0 +tc "' ||
	fe_fail "fe-n0, added after start-up, is not metered: $(fe_ctl status)"

# a collector added by a reload gets exact records
fe_collector_conf c2 "$port2" no no >>"$FE_TMP/agent.ini"
kill -HUP "$FE_AGENT_PID"
fe_wait_for 5 grep -q 'configuration reloaded' "$FE_TMP/agent.log" ||
	fe_fail "the reload did not happen"
fe_gen after udp --flows 4 --count 20 --echo --sport 43000 --interval 0.0005
fe_agent_stop
fe_collect_stop c1
fe_collect_stop c2
fe_verify after c2.jsonl --biflow no
exit 0
