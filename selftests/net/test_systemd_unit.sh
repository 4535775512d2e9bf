#!/bin/bash
# test_systemd_unit.sh - misc/flowagent.service stays hardened (issue 10
# item 8): `systemd-analyze security --offline=true` scores its exposure at
# 5.0 or below ("OK" or better), and its CapabilityBoundingSet holds every
# capability flowagent keeps after start-up (agent/privs.c), so the
# sandbox never takes away what the loop needs. Needs no namespace.
set -u
unit=$(cd "$(dirname "$0")/../.." && pwd)/misc/flowagent.service
command -v systemd-analyze >/dev/null 2>&1 ||
	{ echo "SKIP: systemd-analyze is not installed"; exit 4; }
out=$(systemd-analyze security --offline=true "$unit" 2>&1)
score=$(sed -n 's/.*Overall exposure level for flowagent.service: \([0-9.]*\).*/\1/p' <<<"$out")
[ -n "$score" ] || { echo "FAIL: no exposure score: $out"; exit 1; }
echo "exposure score: $score"
awk -v s="$score" 'BEGIN { exit !(s <= 5.0) }' ||
	{ echo "FAIL: exposure $score is above 5.0"; grep '✗' <<<"$out"; exit 1; }
bnd=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
for cap in CAP_NET_ADMIN CAP_BPF CAP_PERFMON CAP_SYS_ADMIN CAP_NET_BIND_SERVICE; do
	grep -qw "$cap" <<<"$bnd" ||
		{ echo "FAIL: CapabilityBoundingSet lacks $cap, which flowagent keeps"; exit 1; }
done
grep -q '^ExecStartPre=+.*mount -t bpf' "$unit" ||
	{ echo "FAIL: the unit does not mount bpffs outside its sandbox"; exit 1; }
exit 0
