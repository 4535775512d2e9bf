# lib.sh - shared helpers of flowexp's netns end-to-end tests: skip/fail
# conventions, the multipath topology (misc/create_netns.sh), flowagent,
# `flowctl collect` and nfcapd in the background, ground truth
# (misc/fe_traffic.py) and its comparison with exported records
# (selftests/net/fe_verify.py). Source it, then call fe_init TAG.
#
# Exit codes: 0 pass, 1 fail, 4 skip (with "SKIP: reason" printed).
# Everything a test starts is recorded and torn down by an EXIT trap, pass
# or fail: processes (by pid), namespaces, pins, sockets, temp files (kept
# with FE_KEEP=1 or on failure, for the logs).
#
# Where things run: the agent in the host network namespace with
# `netns = ${FE_NS_PREFIX}rtr` (it switches netns itself to meter the
# router's links, and keeps the host's bpffs); collectors on the host's
# loopback; traffic between the client and server namespaces.
# shellcheck shell=bash

FE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUTPUT=${OUTPUT:-.output}
case $OUTPUT in
/*) ;;
*) OUTPUT=$FE_ROOT/$OUTPUT ;;
esac
FLOWAGENT=${FLOWAGENT:-$OUTPUT/flowagent}
FLOWCTL=${FLOWCTL:-$OUTPUT/flowctl}
FE_NETNS_SH=$FE_ROOT/misc/create_netns.sh
FE_TRAFFIC=$FE_ROOT/misc/fe_traffic.py
FE_VERIFY=$FE_ROOT/selftests/net/fe_verify.py

declare -A FE_PIDS=() # name -> pid of every background process we started
FE_EXTRA_NS=()        # namespaces of fe_ns_add, removed on exit
FE_AGENT_WRAP=()      # a command fe_agent_start runs flowagent under (exec)
FE_AGENT_PID=
FE_FAILED=0
FE_FAIL_MSG=

fe_log() {
	printf '[%s] %s\n' "$(date +%T.%3N)" "$*"
}

fe_skip() {
	echo "SKIP: $*"
	exit 4
}

fe_fail() {
	echo "FAIL: $*"
	FE_FAILED=1
	FE_FAIL_MSG=$*
	exit 1
}

# fe_require_cmd CMD...: skip when a tool is missing.
fe_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			fe_skip "$c is not installed"
	done
}

fe_require_bins() {
	[ -x "$FLOWAGENT" ] || fe_skip "$FLOWAGENT is not built (make)"
	[ -x "$FLOWCTL" ] || fe_skip "$FLOWCTL is not built (make)"
}

# fe_init TAG: checks the prerequisites and sets up the per-run names
# (the pid keeps two runs of one test apart): FE_NS_PREFIX=fe-TAG-PID-,
# FE_PIN=/sys/fs/bpf/fe-TAG-PID, FE_SOCK=/run/flowexp/fe-TAG-PID.sock,
# FE_TMP (logs, truths, records).
fe_init() {
	FE_TAG=$1
	[ "$(id -u)" = 0 ] || fe_skip "needs root (netns, BPF)"
	fe_require_cmd ip python3 ethtool nsenter ping
	fe_require_bins
	export FE_NS_PREFIX=fe-$FE_TAG-$$-
	FE_RTR=${FE_NS_PREFIX}rtr
	FE_PIN=/sys/fs/bpf/fe-$FE_TAG-$$
	FE_SOCK=/run/flowexp/fe-$FE_TAG-$$.sock
	FE_TMP=$(mktemp -d "/tmp/fe-$FE_TAG.XXXXXX") ||
		fe_fail "cannot create a temp directory"
	trap fe_cleanup EXIT
	trap 'exit 1' INT TERM
	if ! mountpoint -q /sys/fs/bpf; then
		mount -t bpf bpf /sys/fs/bpf ||
			fe_skip "cannot mount bpffs on /sys/fs/bpf"
	fi
	mkdir -p /run/flowexp
	rm -rf "$FE_PIN" "$FE_SOCK"
	# Quiet libxdp: where kernel lockdown refuses freplace (EPERM) its
	# dispatcher cannot load, and libxdp falls back to one program per
	# interface after logging the failure; skip the attempt.
	export LIBXDP_SKIP_DISPATCHER=1
	fe_log "test $FE_TAG: netns ${FE_NS_PREFIX}*, pins $FE_PIN, files $FE_TMP"
}

# fe_bg NAME CMD...: starts CMD in the background and records its pid.
fe_bg() {
	local name=$1
	shift
	"$@" &
	FE_PIDS[$name]=$!
}

# fe_kill NAME [SIGNAL]: signals a recorded process and waits for it;
# returns its exit status (or 0 if it was not running).
fe_kill() {
	local name=$1 sig=${2:-TERM} pid=${FE_PIDS[$1]:-} rc i
	[ -n "$pid" ] || return 0
	kill -"$sig" "$pid" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "$name (pid $pid) ignored SIG$sig for 10 s; killing it" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	unset "FE_PIDS[$name]"
	return $rc
}

fe_cleanup() {
	local rc=$? name
	trap - EXIT
	[ "$FE_FAILED" = 1 ] && rc=1
	for name in "${!FE_PIDS[@]}"; do
		fe_kill "$name" TERM >/dev/null 2>&1
	done
	"$FE_NETNS_SH" down >/dev/null 2>&1 ||
		echo "cleanup: could not remove namespaces ${FE_NS_PREFIX}*"
	for name in "${FE_EXTRA_NS[@]}"; do
		ip netns del "$name" 2>/dev/null
	done
	rm -rf "$FE_PIN" "$FE_SOCK"
	if [ "$rc" != 0 ] && [ "$rc" != 4 ]; then
		if [ -s "$FE_TMP/agent.log" ]; then
			echo "--- last lines of the agent's log ($FE_TMP/agent.log):"
			tail -n 25 "$FE_TMP/agent.log"
		fi
		echo "files kept in $FE_TMP"
	elif [ "${FE_KEEP:-0}" = 1 ]; then
		echo "files kept in $FE_TMP"
	else
		rm -rf "$FE_TMP"
	fi
	case $rc in
	0) echo "PASS: $FE_TAG" ;;
	4) ;;
	*) echo "FAIL: $FE_TAG (exit $rc)${FE_FAIL_MSG:+: $FE_FAIL_MSG}" ;;
	esac
	exit "$rc"
}

# fe_reach ADDR: the client reaches ADDR within 5 tries of 1 s. A loaded
# machine can lose the first echo while neighbour entries on the three
# links resolve; this waits for the topology, it measures nothing.
fe_reach() {
	local try
	for try in 1 2 3 4 5; do
		fe_nsexec cli ping -c1 -W1 -q "$1" >/dev/null && return 0
	done
	return 1
}

# fe_topo_up sym|asym [OFFLOADS]: (re)builds the topology, warms up the
# neighbour caches (so no ARP/ND happens while a test measures) and writes
# the router's ifindexes to $FE_TMP/ifmap.json. OFFLOADS (fe_offloads):
# default "router-seg".
fe_topo_up() {
	local mode=$1 off=${2:-router-seg} i
	FE_QUIET=1 "$FE_NETNS_SH" up "$mode" >"$FE_TMP/topo.log" 2>&1 ||
		fe_fail "create_netns.sh up $mode: $(tail -1 "$FE_TMP/topo.log")"
	fe_offloads "$off"
	local pids=()
	for i in 1 2 3; do
		fe_nsexec rtr ping -c1 -W1 -q 10.10.$i.2 >/dev/null &
		pids+=($!)
		fe_nsexec rtr ping -c1 -W1 -q fd00:fe:$i::2 >/dev/null &
		pids+=($!)
		fe_nsexec srv ping -c1 -W1 -q 10.10.$i.1 >/dev/null &
		pids+=($!)
		fe_nsexec srv ping -c1 -W1 -q fd00:fe:$i::1 >/dev/null &
		pids+=($!)
	done
	fe_nsexec cli ping -c1 -W1 -q 10.10.0.1 >/dev/null &
	pids+=($!)
	fe_nsexec cli ping -c1 -W1 -q fd00:fe::1 >/dev/null &
	pids+=($!)
	# only the pings: collectors may already run in the background
	wait "${pids[@]}"
	fe_reach 10.10.9.1 || fe_fail "topology $mode: client cannot reach 10.10.9.1"
	fe_reach fd00:fe:9::1 ||
		fe_fail "topology $mode: client cannot reach fd00:fe:9::1"
	python3 "$FE_VERIFY" ifmap "$FE_RTR" >"$FE_TMP/ifmap.json" ||
		fe_fail "cannot read the router's links"
	fe_log "topology $mode up ($off): router links $(cat "$FE_TMP/ifmap.json")"
}

# fe_ns_add NAME: one more namespace, ${FE_NS_PREFIX}NAME with lo up,
# removed on exit; e.g. a "host" side of the test's own for the agent
# (FE_AGENT_WRAP=(nsenter --net=/run/netns/${FE_NS_PREFIX}NAME)), where its
# collector sockets, sysctls and qdiscs touch nothing else.
fe_ns_add() {
	local ns=${FE_NS_PREFIX}$1
	ip netns add "$ns" || fe_fail "ip netns add $ns"
	FE_EXTRA_NS+=("$ns")
	ip -n "$ns" link set lo up || fe_fail "lo up in $ns"
}

# fe_nsexec cli|rtr|srv CMD...: CMD in that namespace's network only
# (nsenter keeps the host's /sys and bpffs, unlike `ip netns exec`).
fe_nsexec() {
	local ns=${FE_NS_PREFIX}$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# fe_ethtool NS DEV FEATURE on|off...
fe_ethtool() {
	local ns=$1 dev=$2
	shift 2
	fe_nsexec "$ns" ethtool -K "$dev" "$@" 2>/dev/null ||
		fe_fail "ethtool -K $dev $* in ${FE_NS_PREFIX}$ns"
}

# fe_offloads PROFILE: how packets cross the veths.
#  router-seg  endpoints send TSO/GSO super-packets (veth default), the
#              router merges with GRO and segments at egress (gso/tso off),
#              so its tc egress meters GSO skbs while the receivers, and so
#              the ground truth captures, see wire-sized packets.
#  wire        every offload off everywhere: one skb per wire packet.
#  default     veth defaults (TCP ground truth is then not wire-exact).
fe_offloads() {
	local d i
	case $1 in
	router-seg)
		for d in fe-c0 fe-s1 fe-s2 fe-s3; do
			fe_ethtool rtr $d gso off tso off gro on
		done
		fe_ethtool cli fe-cli0 gro off
		for i in 1 2 3; do fe_ethtool srv fe-r$i gro off; done
		;;
	wire)
		for d in fe-c0 fe-s1 fe-s2 fe-s3; do
			fe_ethtool rtr $d gso off tso off gro off
		done
		fe_ethtool cli fe-cli0 gso off tso off gro off
		for i in 1 2 3; do
			fe_ethtool srv fe-r$i gso off tso off gro off
		done
		;;
	default) ;;
	*) fe_fail "unknown offload profile $1" ;;
	esac
}

# fe_port: a port of 127.0.0.1 free for both UDP and TCP.
fe_port() {
	python3 -c 'import socket
# free for TCP and UDP alike: collectors, metrics and TCP sessions share
# the loopback with the other tests a machine runs
for _ in range(100):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port)
    break'
}

# fe_wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds.
fe_wait_for() {
	local t=$1 i
	shift
	for i in $(seq $((t * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# fe_collect_start NAME PORT: `flowctl collect --json` on 127.0.0.1:PORT,
# records to $FE_TMP/NAME.jsonl.
fe_collect_start() {
	local name=$1 port=$2
	fe_bg "$name" "$FLOWCTL" collect -l "127.0.0.1:$port" --json \
		>>"$FE_TMP/$name.jsonl" 2>>"$FE_TMP/$name.err"
	fe_wait_for 5 grep -qi listening "$FE_TMP/$name.err" ||
		fe_fail "flowctl collect on port $port did not start: $(tail -3 "$FE_TMP/$name.err")"
}

fe_collect_stop() {
	fe_kill "$1" TERM
	return 0
}

# fe_nfcapd_start NAME PORT / fe_nfcapd_stop NAME: nfcapd into
# $FE_TMP/NAME.d; stop converts its file to $FE_TMP/NAME.json.
fe_nfcapd_start() {
	local name=$1 port=$2
	mkdir -p "$FE_TMP/$name.d"
	fe_bg "$name" nfcapd -b 127.0.0.1 -p "$port" -w "$FE_TMP/$name.d" -t 60 \
		>"$FE_TMP/$name.log" 2>&1
	fe_wait_for 5 grep -q "Startup" "$FE_TMP/$name.log" ||
		fe_fail "nfcapd on port $port did not start: $(tail -3 "$FE_TMP/$name.log")"
}

fe_nfcapd_stop() {
	local name=$1
	fe_kill "$name" TERM
	ls "$FE_TMP/$name.d"/nfcapd.* >/dev/null 2>&1 ||
		fe_fail "nfcapd wrote no file: $(tail -3 "$FE_TMP/$name.log")"
	# every file: nfcapd rotates at each minute boundary (-t 60)
	nfdump -R "$FE_TMP/$name.d" -o json >"$FE_TMP/$name.json" \
		2>"$FE_TMP/$name.nfdump.err" ||
		fe_fail "nfdump -R $FE_TMP/$name.d: $(cat "$FE_TMP/$name.nfdump.err")"
}

# fe_agent_conf INGRESS [KEY=VALUE...]: an [agent] section for the router's
# four links on stdout; extra keys override or add.
fe_agent_conf() {
	local ingress=$1 kv
	shift
	declare -A k=(
		[interfaces]="fe-c0 fe-s1 fe-s2 fe-s3"
		[ingress]=$ingress
		[netns]=$FE_RTR
		[pin_path]=$FE_PIN
		[control_socket]=$FE_SOCK
		[poll_interval_ms]=200
		[active_timeout]=120
		[idle_timeout]=60
	)
	for kv in "$@"; do
		k[${kv%%=*}]=${kv#*=}
	done
	echo "[agent]"
	for kv in interfaces ingress netns pin_path control_socket \
		poll_interval_ms active_timeout idle_timeout; do
		echo "$kv = ${k[$kv]}"
		unset "k[$kv]"
	done
	for kv in "${!k[@]}"; do
		echo "$kv = ${k[$kv]}"
	done
}

# fe_collector_conf NAME PORT BIFLOW SPLIT [KEY=VALUE...]
fe_collector_conf() {
	local name=$1 port=$2 biflow=$3 split=$4 kv
	shift 4
	printf '\n[collector %s]\naddress = 127.0.0.1:%s\nbiflow = %s\nsplit_links = %s\n' \
		"$name" "$port" "$biflow" "$split"
	for kv in "$@"; do
		echo "${kv%%=*} = ${kv#*=}"
	done
}

# fe_agent_kill_safe: SIGKILL of the agent once it stops at a point where
# a death cannot cut a send (x86-64 syscall numbers: 7 poll, 321 bpf, 230
# clock_nanosleep, 35 nanosleep); a death right after a send the agent did
# not record yet may send that message again (flowagent(8),
# restart_uncertain_sends), which exact totals cannot allow.
fe_agent_kill_safe() {
	local pid=$FE_AGENT_PID try nr
	for try in $(seq 200); do
		kill -STOP "$pid"
		nr=$(cut -d' ' -f1 "/proc/$pid/syscall" 2>/dev/null)
		case $nr in
		7 | 321 | 230 | 35)
			kill -KILL "$pid"
			wait "$pid" 2>/dev/null
			unset "FE_PIDS[agent]"
			FE_AGENT_PID=
			fe_log "flowagent killed (SIGKILL) in syscall $nr, try $try"
			return 0
			;;
		esac
		kill -CONT "$pid"
		sleep "0.0$((RANDOM % 9 + 1))"
	done
	fe_fail "flowagent never stopped at a safe point to kill"
}

# fe_masquerade: the router masquerades what leaves by fe-s1..3 (nft; TCP
# and UDP ports moved to 20000-29999).
fe_masquerade() {
	fe_nsexec rtr nft -f - <<'NFT' || fe_fail "nft: cannot load the masquerade rules"
table inet fe_nat {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname { "fe-s1", "fe-s2", "fe-s3" } meta l4proto { tcp, udp } masquerade to :20000-29999
		oifname { "fe-s1", "fe-s2", "fe-s3" } masquerade
	}
}
NFT
}

# fe_nat_template: a [template nat] section (id 2000) with the postNAT and
# dropped elements, for the collectors of the NAT and shaping tests.
fe_nat_template() {
	cat <<'INI'

[template nat]
id = 2000
fields = flowStartMilliseconds flowEndMilliseconds
	octetDeltaCount packetDeltaCount protocolIdentifier
	sourceIPv4Address destinationIPv4Address
	sourceTransportPort destinationTransportPort
	ingressInterface egressInterface flowDirection icmpTypeCodeIPv4
	postNATSourceIPv4Address postNATDestinationIPv4Address
	postNAPTSourceTransportPort postNAPTDestinationTransportPort
	droppedPacketDeltaCount droppedOctetDeltaCount flowEndReason
INI
}

# fe_pair_start NAME INGRESS [KEY=VALUE...]: a biflow collector c_NAME and
# a uniflow collector u_NAME (records to $FE_TMP/c_NAME.jsonl and
# u_NAME.jsonl), with the KEY=VALUE collector keys (template=nat adds
# fe_nat_template), and the agent for them with ingress INGRESS, on fresh
# pins. fe_pair_stop NAME stops the three.
fe_pair_start() {
	local name=$1 ingress=$2 port uport kv
	shift 2
	rm -rf "$FE_PIN"
	port=$(fe_port)
	uport=$(fe_port)
	fe_collect_start "c_$name" "$port"
	fe_collect_start "u_$name" "$uport"
	{
		fe_agent_conf "$ingress"
		fe_collector_conf c1 "$port" yes no "$@"
		fe_collector_conf u1 "$uport" no no "$@"
		for kv in "$@"; do
			[ "$kv" = template=nat ] && fe_nat_template
		done
	} >"$FE_TMP/agent-$name.ini"
	fe_agent_start "$FE_TMP/agent-$name.ini"
}

fe_pair_stop() {
	fe_agent_stop
	fe_collect_stop "c_$1"
	fe_collect_stop "u_$1"
}

# fe_agent_start CONF: flowagent in the foreground mode, in the
# background, logging to $FE_TMP/agent.log; returns when its control
# socket answers (or fails the test).
fe_agent_start() {
	local conf=$1
	rm -f "$FE_SOCK"
	echo "=== flowagent -f -c $conf ($(date +%T))" >>"$FE_TMP/agent.log"
	fe_bg agent "${FE_AGENT_WRAP[@]}" "$FLOWAGENT" -f -c "$conf" \
		2>>"$FE_TMP/agent.log" \
		>>"$FE_TMP/agent.log"
	FE_AGENT_PID=${FE_PIDS[agent]}
	if ! fe_wait_for 15 fe_agent_ready; then
		kill -0 "$FE_AGENT_PID" 2>/dev/null ||
			fe_fail "flowagent exited at start-up: $(tail -5 "$FE_TMP/agent.log")"
		fe_fail "flowagent not ready after 15 s (no control socket $FE_SOCK)"
	fi
	fe_log "flowagent up (pid $FE_AGENT_PID)"
}

fe_agent_ready() {
	kill -0 "$FE_AGENT_PID" 2>/dev/null || return 1
	[ -S "$FE_SOCK" ] || return 1
	fe_ctl status >/dev/null 2>&1
}

# fe_agent_stop: SIGTERM (the agent exports everything as forced end);
# fails the test unless it exits 0.
fe_agent_stop() {
	local rc
	fe_kill agent TERM
	rc=$?
	FE_AGENT_PID=
	[ "$rc" = 0 ] || fe_fail "flowagent exited with status $rc on SIGTERM"
	# the last export is on loopback; give the collectors a moment
	sleep 0.3
	fe_log "flowagent stopped"
}

# fe_ctl ARGS...: flowctl on this test's pins and control socket.
fe_ctl() {
	"$FLOWCTL" --pin-path "$FE_PIN" -n "$FE_RTR" --socket "$FE_SOCK" "$@"
}

# fe_gen NAME MODE ARGS...: runs the generator (see misc/fe_traffic.py),
# truth to $FE_TMP/NAME.json; fails the test when the truth is not exact.
fe_gen() {
	local name=$1
	shift
	python3 "$FE_TRAFFIC" "$@" -o "$FE_TMP/$name.json" \
		2>"$FE_TMP/$name.gen.err" ||
		fe_fail "traffic $name ($*): $(cat "$FE_TMP/$name.gen.err")"
	fe_log "traffic $name: $(fe_truth_summary "$FE_TMP/$name.json")"
}

# fe_gen_bg NAME MODE ARGS... / fe_gen_wait NAME: the same, in the
# background.
fe_gen_bg() {
	local name=$1
	shift
	fe_bg "gen_$name" python3 "$FE_TRAFFIC" "$@" -o "$FE_TMP/$name.json" \
		2>"$FE_TMP/$name.gen.err"
}

fe_gen_wait() {
	local name=$1 pid=${FE_PIDS[gen_$1]:-}
	[ -n "$pid" ] || fe_fail "no background traffic $name"
	wait "$pid" || fe_fail "traffic $name: $(cat "$FE_TMP/$name.gen.err")"
	unset "FE_PIDS[gen_$name]"
	fe_log "traffic $name: $(fe_truth_summary "$FE_TMP/$name.json")"
}

fe_truth_summary() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
links = sorted({l for x in d["directions"] for l in x["links"]})
print("%s v%d: %d directions, %d packets, %d octets, links %s" % (d["mode"],
      d["family"], len(d["directions"]),
      sum(x["packets"] for x in d["directions"]),
      sum(x["octets"] for x in d["directions"]), " ".join(links)))' "$1"
}

# fe_verify TRUTH_NAMES RECORD_FILES [fe_verify.py options]: TRUTH_NAMES and
# RECORD_FILES are space-separated lists (truth names as given to fe_gen,
# record files relative to $FE_TMP). Fails the test on a mismatch.
fe_verify() {
	local truths=() recs=() t
	for t in $1; do truths+=("$FE_TMP/$t.json"); done
	for t in $2; do recs+=("$FE_TMP/$t"); done
	shift 2
	python3 "$FE_VERIFY" check --truth "${truths[@]}" \
		--records "${recs[@]}" --ifmap "$FE_TMP/ifmap.json" "$@" ||
		fe_fail "exported records differ from the ground truth ($*)"
}

# fe_records FILE: number of flow records in a collector's output (data
# records that are not options records).
fe_records() {
	grep '^{' "$FE_TMP/$1" 2>/dev/null | grep -vc '"options":true' || true
}
