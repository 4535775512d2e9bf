#!/usr/bin/env bash
# bench_forwarding.sh - `make bench-forwarding`: what metering costs the
# router's forwarding. iperf3 (BF_STREAMS TCP streams, default 8, for
# BF_SECONDS, default 5) from the client through the 3-link router to the
# server of misc/create_netns.sh sym (veths, default offloads), with the
# router's four links
#   none       not metered
#   tc         flowagent, tc egress + tc ingress (the default)
#   xdp        flowagent, tc egress + XDP ingress
#   bare-xdp   a bare XDP_PASS program (ebpf/bench.bpf.c), nothing else
#   softflowd  softflowd (libpcap) on each link
# Every round (BF_ROUNDS, default 3) runs every mode once, in that order, so
# drift hits all alike; the table shows each mode's median and best Gbit/s
# and the ratios from the same run: tc/none, xdp/bare-xdp (what the meter
# adds to XDP itself), xdp/none, bare-xdp/none, softflowd/none. No pass or
# fail: it prints figures (docs/scale.md). On a shared machine a round can
# lose half its throughput to other load: compare ratios, and more rounds
# (BF_ROUNDS) when they disagree.
# shellcheck source=../net/lib.sh
. "$(dirname "$0")/../net/lib.sh"

SECONDS_RUN=${BF_SECONDS:-5}
STREAMS=${BF_STREAMS:-8}
ROUNDS=${BF_ROUNDS:-3}
MODES=(none tc xdp bare-xdp softflowd)
LINKS=(fe-c0 fe-s1 fe-s2 fe-s3)
BENCH_OBJ=$OUTPUT/bench.bpf.o

fe_init bfwd
fe_require_cmd iperf3
[ -f "$BENCH_OBJ" ] || fe_skip "$BENCH_OBJ is not built (make)"
have_softflowd=1
command -v softflowd >/dev/null 2>&1 || have_softflowd=0
fe_topo_up sym default

port=$(fe_port)
fe_collect_start sink "$port"
# nsenter execs the program: the recorded pid is the server's own
fe_bg iperf3srv nsenter --net="/run/netns/${FE_NS_PREFIX}srv" \
	iperf3 -s -B 10.10.9.1 -p 5201 >"$FE_TMP/iperf3srv.log" 2>&1
listening() { fe_nsexec srv ss -ltn | grep -q '10.10.9.1:5201'; }
fe_wait_for 5 listening || fe_fail "iperf3 server did not start"

# mode_up MODE / mode_down MODE: meter the router's links as MODE does.
mode_up() {
	case $1 in
	tc | xdp)
		{
			fe_agent_conf "$1" poll_interval_ms=1000
			fe_collector_conf sink "$port" yes no
		} >"$FE_TMP/agent-$1.ini"
		fe_agent_start "$FE_TMP/agent-$1.ini"
		;;
	bare-xdp)
		local d
		for d in "${LINKS[@]}"; do
			ip -n "$FE_RTR" link set dev "$d" xdpdrv obj "$BENCH_OBJ" \
				sec xdp 2>>"$FE_TMP/xdp.log" ||
				fe_fail "attach XDP_PASS on $d: $(tail -2 "$FE_TMP/xdp.log")"
		done
		;;
	softflowd)
		local d i=0
		for d in "${LINKS[@]}"; do
			fe_bg "sfd$i" nsenter --net="/run/netns/$FE_RTR" \
				softflowd -d -i "$d" \
				-n "127.0.0.1:$port" -v 10 -p "$FE_TMP/sfd$i.pid" \
				-c "$FE_TMP/sfd$i.ctl" >>"$FE_TMP/softflowd.log" 2>&1
			i=$((i + 1))
		done
		sleep 1 # pcap handles open
		for i in 0 1 2 3; do
			kill -0 "${FE_PIDS[sfd$i]}" 2>/dev/null ||
				fe_fail "softflowd exited: $(tail -3 "$FE_TMP/softflowd.log")"
		done
		;;
	esac
}

mode_down() {
	case $1 in
	tc | xdp)
		fe_agent_stop
		fe_ctl detach --all >/dev/null 2>&1
		;;
	bare-xdp)
		local d
		for d in "${LINKS[@]}"; do
			ip -n "$FE_RTR" link set dev "$d" xdpdrv off
		done
		;;
	softflowd)
		local i
		for i in 0 1 2 3; do fe_kill "sfd$i" TERM; done
		;;
	esac
}

# run_iperf OUT: Gbit/s received, to stdout.
run_iperf() {
	fe_nsexec cli iperf3 -c 10.10.9.1 -p 5201 -P "$STREAMS" \
		-t "$SECONDS_RUN" -J >"$1" 2>&1 ||
		fe_fail "iperf3: $(tail -3 "$1")"
	python3 -c 'import json, sys
print("%.3f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' "$1"
}

declare -A results=()
run_iperf "$FE_TMP/iperf-warmup.json" >/dev/null # caches, neighbours, CPU clocks
for r in $(seq "$ROUNDS"); do
	for m in "${MODES[@]}"; do
		[ "$m" = softflowd ] && [ "$have_softflowd" = 0 ] && continue
		mode_up "$m"
		g=$(run_iperf "$FE_TMP/iperf-$m-$r.json")
		mode_down "$m"
		results[$m]+="$g "
		fe_log "round $r $m: $g Gbit/s"
	done
done

python3 - "$STREAMS" "$SECONDS_RUN" "$ROUNDS" \
	"none=${results[none]}" "tc=${results[tc]}" "xdp=${results[xdp]}" \
	"bare-xdp=${results[bare-xdp]}" "softflowd=${results[softflowd]:-}" <<'PY'
import statistics, sys
streams, secs, rounds = sys.argv[1:4]
res = {}
for a in sys.argv[4:]:
    k, v = a.split("=", 1)
    if v.split():
        res[k] = [float(x) for x in v.split()]
med = {k: statistics.median(v) for k, v in res.items()}
best = {k: max(v) for k, v in res.items()}
print(f"\nflowexp forwarding bench: iperf3 {streams} TCP streams x {secs} s "
      f"through the 3-link veth router, {rounds} rounds\n")
print(f"{'mode':<10} {'median':>8} {'best':>8}  Gbit/s per round")
for k in ("none", "tc", "xdp", "bare-xdp", "softflowd"):
    if k in med:
        print(f"{k:<10} {med[k]:8.2f} {best[k]:8.2f}  "
              + " ".join(f"{x:.2f}" for x in res[k]))
    else:
        print(f"{k:<10} {'-':>8}  (not installed)")
print(f"\n{'ratio':<16} {'median':>7} {'best':>7}")
for a, b in (("tc", "none"), ("xdp", "bare-xdp"), ("xdp", "none"),
             ("bare-xdp", "none"), ("softflowd", "none")):
    if a in med and b in med and med[b] > 0:
        print(f"{a + '/' + b:<16} {med[a] / med[b]:6.2f}x "
              f"{best[a] / best[b]:6.2f}x")
print("\nbest: the fastest round (other load on a shared machine only ever "
      "slows a round)")
PY
fe_collect_stop sink
exit 0
