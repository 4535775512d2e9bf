#!/usr/bin/env bash
# test_flowctl_dump.sh - the meters with flowctl alone (no agent) on the
# multipath topology: attach tc egress + XDP ingress on the router's four
# links, send known ICMP, UDP (IPv4, IPv6) and TCP traffic, and assert that
# `flowctl dump --by-ifindex --json` holds exactly the ground truth per
# ifindex and direction, that the summary counts each forwarded packet
# once, that `flush FILTER` removes just what it names, and that detach
# leaves no program, filter or qdisc of ours behind. Then the loader's
# corner cases: attach without --mode keeps the ingress meter, a
# non-Ethernet device is refused, the port words match transport ports
# only, detach --all drops the links of a deleted namespace and works on a
# set of another layout, and concurrent attaches on a fresh pin path load
# one set and attach both devices.
. "$(dirname "$0")/lib.sh"
fe_init fdump
# a namespace of our own, deleted in the test (and on exit, pass or fail)
FE_GONE=${FE_NS_PREFIX}gone
# shellcheck disable=SC2317 # called by the EXIT trap
fdump_cleanup() {
	local rc=$?
	ip netns del "$FE_GONE" 2>/dev/null
	(exit "$rc") # fe_cleanup reads the exit status
	fe_cleanup
}
trap fdump_cleanup EXIT
# nlinks DIR [PREFIX]: how many TCX link pins (link_PREFIX*) DIR holds
nlinks() {
	local f n=0
	for f in "$1"/link_"${2:-}"*; do
		[ -e "$f" ] && n=$((n + 1))
	done
	echo "$n"
}
fe_topo_up sym router-seg

fe_ctl attach --mode xdp fe-c0 fe-s1 fe-s2 fe-s3 2>"$FE_TMP/attach.err" ||
	fe_fail "flowctl attach failed: $(cat "$FE_TMP/attach.err")"
# XDP on veth costs the stack its GSO/GRO: one warning per device, with
# the measured cost, and none when nothing new is attached
[ "$(grep -c 'a veth device loses GSO/GRO.*measured 0\.[0-9]*x' "$FE_TMP/attach.err")" = 4 ] ||
	fe_fail "attach --mode xdp on veths did not warn once per device: $(cat "$FE_TMP/attach.err")"
fe_ctl attach --mode xdp fe-c0 2>"$FE_TMP/attach2.err" ||
	fe_fail "attaching twice is not a no-op"
grep -q 'GSO/GRO' "$FE_TMP/attach2.err" &&
	fe_fail "attaching what is attached warned again: $(cat "$FE_TMP/attach2.err")"
fe_ctl status >"$FE_TMP/status.txt"
[ "$(grep -cE ' tc +xdp +tcx ' "$FE_TMP/status.txt")" = 4 ] ||
	fe_fail "status does not show 4 devices with tc egress + xdp: $(cat "$FE_TMP/status.txt")"
# without --mode, attach leaves the ingress meter (here XDP) as it is
fe_ctl attach fe-c0 || fe_fail "attach without --mode failed"
fe_ctl status | grep -qE ' fe-c0 +tc +xdp ' ||
	fe_fail "attach without --mode removed the XDP meter of fe-c0: $(fe_ctl status)"
# device names may hold a quote and a backslash: status --json stays JSON
qname='fe"q\x'
fe_nsexec rtr ip link add "$qname" type veth peer name fe-qp ||
	fe_fail "add a veth named $qname"
fe_ctl attach --mode none "$qname" || fe_fail "attach on $qname failed"
fe_ctl status --json >"$FE_TMP/qstatus.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if sys.argv[2] in [x["name"] for x in d["devices"]] else 1)' \
	"$FE_TMP/qstatus.json" "$qname" ||
	fe_fail "status --json is not JSON naming $qname: $(cat "$FE_TMP/qstatus.json")"
fe_ctl detach "$qname" || fe_fail "detach $qname failed"
fe_nsexec rtr ip link del "$qname"
# the parser expects Ethernet: an L3 device (tun) is refused
if [ -c /dev/net/tun ]; then
	fe_nsexec rtr ip tuntap add fe-tun0 mode tun || fe_fail "add a tun device"
	fe_ctl attach fe-tun0 >"$FE_TMP/tun.txt" 2>&1 &&
		fe_fail "attach on a tun device succeeded"
	grep -q 'attach meters on fe-tun0: not an Ethernet device (type 65534)' \
		"$FE_TMP/tun.txt" || fe_fail "tun refused without the reason: $(cat "$FE_TMP/tun.txt")"
	fe_ctl status | grep -q fe-tun0 && fe_fail "status lists fe-tun0"
	fe_nsexec rtr ip link del fe-tun0
else
	echo "note: no /dev/net/tun: the non-Ethernet refusal is not checked"
fi

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
        # an echo's key holds its identifier in sport, both directions
        sp = d["echo_id"] if d["proto"] == 1 else d["sport"]
        k = (d["src"], d["dst"], sp, d["dport"], d["proto"])
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

# port words match transport ports only: ICMP's type/code (echo request
# 8/0 = 2048, reply 0/0) is not a port
fe_ctl dump --json port 2048 >"$FE_TMP/port.jsonl" || fe_fail "dump port failed"
grep -q '"proto":1,' "$FE_TMP/port.jsonl" && fe_fail "dump port 2048 lists ICMP flows"
fe_ctl dump --json sport 0 | grep -q '"proto":1,' && fe_fail "dump sport 0 lists ICMP flows"
fe_ctl dump --json port 6001 | grep -q '"proto":17,' ||
	fe_fail "dump port 6001 lists no UDP flow"
fe_ctl dump --json proto icmp | grep -q '"proto":1,' ||
	fe_fail "dump proto icmp lists no ICMP flow"

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

# --mode none removes the ingress meter explicitly
fe_ctl attach --mode none fe-s3 || fe_fail "attach --mode none failed"
fe_ctl status | grep -qE ' fe-s3 +tc +- ' ||
	fe_fail "attach --mode none left the ingress meter of fe-s3: $(fe_ctl status)"

# links pinned for a namespace that is then deleted: defunct, and swept
# by detach --all from any namespace. The veth's peer sits in the router:
# it goes when the deleted namespace's devices are unregistered.
ip netns add "$FE_GONE" || fe_fail "add netns $FE_GONE"
ip -n "$FE_GONE" link add fe-g0 type veth peer name fe-gp netns "$FE_RTR" ||
	fe_fail "add a veth in $FE_GONE"
ip -n "$FE_GONE" link set fe-g0 up
"$FLOWCTL" --pin-path "$FE_PIN" -n "$FE_GONE" attach --mode tc fe-g0 ||
	fe_fail "attach in $FE_GONE failed"
gone_ino=$(stat -L -c %i "/run/netns/$FE_GONE")
[ "$(nlinks "$FE_PIN" "${gone_ino}_")" = 2 ] ||
	fe_fail "no link pins for $FE_GONE: $(ls "$FE_PIN")"
ip netns del "$FE_GONE"
for _ in $(seq 100); do
	fe_nsexec rtr ip link show fe-gp >/dev/null 2>&1 || break
	sleep 0.1
done
fe_nsexec rtr ip link show fe-gp >/dev/null 2>&1 && fe_fail "$FE_GONE's veth outlived it"
sleep 0.5 # the tcx links are released in the same unregistration

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
[ "$(nlinks "$FE_PIN")" = 0 ] || fe_fail "TCX link pins left in $FE_PIN: $(ls "$FE_PIN")"
fe_nsexec rtr tc filter show dev fe-s1 egress | grep -q "bytecode '1,6 0 0 0'" ||
	fe_fail "detach removed someone else's filter on fe-s1"
for d in fe-c0 fe-s2 fe-s3; do
	fe_nsexec rtr tc qdisc show dev $d | grep -q clsact &&
		fe_fail "a clsact qdisc is left on $d"
done

# a set whose maps another flowexp version made: dump refuses it, status and
# detach --all still work (by the program ids)
if command -v bpftool >/dev/null; then
	old=$FE_PIN/old
	"$FLOWCTL" --pin-path "$old" -n "$FE_RTR" attach --mode tc fe-s2 ||
		fe_fail "attach (set old) failed"
	rm "$old/fe_flows_a"
	bpftool map create "$old/fe_flows_a" type hash key 8 value 8 entries 4 \
		name fe_old_layout || fe_fail "bpftool map create failed"
	"$FLOWCTL" --pin-path "$old" -n "$FE_RTR" dump >/dev/null 2>&1 &&
		fe_fail "dump accepted a set of another layout"
	"$FLOWCTL" --pin-path "$old" -n "$FE_RTR" status | grep -qE ' fe-s2 +tc +tc ' ||
		fe_fail "status of a set of another layout does not list fe-s2"
	"$FLOWCTL" --pin-path "$old" -n "$FE_RTR" detach --all ||
		fe_fail "detach --all of a set of another layout failed"
	[ "$(nlinks "$old")" = 0 ] || fe_fail "link pins left in $old"
	"$FLOWCTL" --pin-path "$old" -n "$FE_RTR" status | grep -q fe-s2 &&
		fe_fail "fe-s2 still metered by the set of another layout"
	rm -rf "$old"
else
	echo "note: no bpftool: detach of a set of another layout is not checked"
fi

# two attaches at once on a fresh pin path: one set, both devices
for i in 1 2 3 4 5; do
	p=$FE_PIN/conc$i
	"$FLOWCTL" --pin-path "$p" -n "$FE_RTR" attach fe-s2 2>"$FE_TMP/c2.txt" &
	a=$!
	"$FLOWCTL" --pin-path "$p" -n "$FE_RTR" attach fe-s3 2>"$FE_TMP/c3.txt" &
	b=$!
	wait $a || fe_fail "concurrent attach fe-s2 (run $i) failed: $(cat "$FE_TMP/c2.txt")"
	wait $b || fe_fail "concurrent attach fe-s3 (run $i) failed: $(cat "$FE_TMP/c3.txt")"
	n=$("$FLOWCTL" --pin-path "$p" -n "$FE_RTR" status | grep -cE ' fe-s[23] +tc ')
	[ "$n" = 2 ] || fe_fail "concurrent attach (run $i): status shows $n of 2 devices"
	[ "$(nlinks "$p")" = 2 ] ||
		fe_fail "concurrent attach (run $i): link pins $(ls "$p")"
	"$FLOWCTL" --pin-path "$p" -n "$FE_RTR" detach --all ||
		fe_fail "detach --all (run $i) failed"
	[ "$(nlinks "$p")" = 0 ] || fe_fail "link pins left in $p"
	rm -rf "$p"
done
exit 0
