#!/usr/bin/env bash
# test_flowctl_dump.sh - the meters with flowctl alone (no agent) on the
# multipath topology: attach tc egress + XDP ingress on the router's four
# links, send known ICMP, UDP (IPv4, IPv6) and TCP traffic, and assert that
# `flowctl dump --by-ifindex --json` holds exactly the ground truth per
# ifindex and direction, that the summary counts each forwarded packet
# once, that `flush FILTER` removes just what it names, and that detach
# leaves no program, filter or qdisc of ours behind.
. "$(dirname "$0")/lib.sh"
fe_init fdump
fe_topo_up sym router-seg

fe_ctl attach --mode xdp fe-c0 fe-s1 fe-s2 fe-s3 ||
	fe_fail "flowctl attach failed"
fe_ctl attach --mode xdp fe-c0 || fe_fail "attaching twice is not a no-op"
fe_ctl status >"$FE_TMP/status.txt"
[ "$(grep -cE ' tc +xdp +tcx ' "$FE_TMP/status.txt")" = 4 ] ||
	fe_fail "status does not show 4 devices with tc egress + xdp: $(cat "$FE_TMP/status.txt")"

# a clean slate: warm-up pings are not part of the truth
fe_ctl flush --all >/dev/null || fe_fail "flush --all failed"
fe_gen udp4 udp --count 40 --size 300 --port 6001 --echo
fe_gen udp6 udp --dst fd00:fe:9::1 --count 30 --size 700 --port 6002 --echo
fe_gen icmp4 icmp --count 12 --size 100
fe_gen tcp4 tcp --bytes 150000 --port 6003 --echo
fe_ctl dump --by-ifindex --json >"$FE_TMP/dump.jsonl" || fe_fail "dump failed"
fe_ctl dump --json >"$FE_TMP/summary.jsonl" || fe_fail "dump (summary) failed"

python3 - "$FE_TMP" <<'PY' || fe_fail "dump differs from the ground truth"
import json, sys
tmp = sys.argv[1]
ifmap = json.load(open(f"{tmp}/ifmap.json"))
rows = [json.loads(l) for l in open(f"{tmp}/dump.jsonl")]
summ = [json.loads(l) for l in open(f"{tmp}/summary.jsonl")]
c0 = ifmap["fe-c0"]
bad = 0
def key(r):
    return (r["src"], r["dst"], r["sport"], r["dport"], r["proto"])
def got(ifindex, d, in_if, k):
    m = [r for r in rows if r["ifindex"] == ifindex and r["dir"] == d
         and r["in_ifindex"] == in_if and key(r) == k]
    return sum(r["packets"] for r in m), sum(r["bytes"] for r in m)
def check(what, have, want):
    global bad
    ok = have == want
    print(("ok   " if ok else "FAIL ") + f"{what}: dump {have}, truth {want}")
    bad += not ok
for name in ("udp4", "udp6", "icmp4", "tcp4"):
    t = json.load(open(f"{tmp}/{name}.json"))
    for d in t["directions"]:
        k = (d["src"], d["dst"], d["sport"], d["dport"], d["proto"])
        want = (d["packets"], d["octets"])
        tag = f'{name} {d["role"]} {d["src"]}:{d["sport"]}->{d["dst"]}:{d["dport"]}'
        # the link(s) it crossed between router and server
        for link, pk in d["links"].items():
            li = ifmap[link]
            lw = (pk, d["link_octets"][link])
            if d["role"] == "request":
                check(f"{tag} ingress {c0}(fe-c0)", got(c0, "ingress", c0, k), want)
                check(f"{tag} egress {li}({link}) from fe-c0", got(li, "egress", c0, k), lw)
            else:
                check(f"{tag} ingress {li}({link})", got(li, "ingress", li, k), lw)
                check(f"{tag} egress {c0}(fe-c0) from {link}", got(c0, "egress", li, k), lw)
        s = [r for r in summ if key(r) == k]
        check(f"{tag} summary (each packet once)",
              (sum(r["packets"] for r in s), sum(r["bytes"] for r in s)), want)
sys.exit(1 if bad else 0)
PY

# flush with a filter removes the UDP flows, nothing else
fe_ctl flush proto udp >/dev/null || fe_fail "flush proto udp failed"
fe_ctl dump --by-ifindex --json >"$FE_TMP/after.jsonl"
grep -q '"proto":17' "$FE_TMP/after.jsonl" && fe_fail "UDP flows survived flush proto udp"
grep -q '"proto":6,' "$FE_TMP/after.jsonl" || fe_fail "flush proto udp removed the TCP flows too"
grep -q '"proto":1,' "$FE_TMP/after.jsonl" || fe_fail "flush proto udp removed the ICMP flows too"
fe_ctl flush src 10.10.0.2 >/dev/null || fe_fail "flush src failed"
grep -q '"src":"10.10.0.2"' <(fe_ctl dump --by-ifindex --json) &&
	fe_fail "flows from 10.10.0.2 survived flush src 10.10.0.2"
fe_ctl flush bogus 1 >/dev/null 2>&1
[ $? = 2 ] || fe_fail "flush with a bad filter word did not exit 2"

# a (classic BPF) filter of someone else's on fe-s1 survives our detach
fe_nsexec rtr tc qdisc add dev fe-s1 clsact || fe_fail "add clsact"
fe_nsexec rtr tc filter add dev fe-s1 egress prio 7 bpf bytecode '1,6 0 0 0' ||
	fe_fail "add a foreign filter"
fe_ctl detach --all || fe_fail "detach --all failed"
for d in fe-c0 fe-s1 fe-s2 fe-s3; do
	fe_nsexec rtr ip -d link show dev $d | grep -q 'prog/xdp' &&
		fe_fail "an XDP program is left on $d"
done
fe_ctl status --json >"$FE_TMP/status.json"
grep -q '"devices":\[\]' "$FE_TMP/status.json" ||
	fe_fail "status still lists devices after detach: $(cat "$FE_TMP/status.json")"
ls "$FE_PIN" | grep -q '^link_' && fe_fail "TCX link pins left in $FE_PIN"
fe_nsexec rtr tc filter show dev fe-s1 egress | grep -q "bytecode '1,6 0 0 0'" ||
	fe_fail "detach removed someone else's filter on fe-s1"
for d in fe-c0 fe-s2 fe-s3; do
	fe_nsexec rtr tc qdisc show dev $d | grep -q clsact &&
		fe_fail "a clsact qdisc is left on $d"
done
exit 0
