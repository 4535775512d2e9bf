#!/bin/bash
# create_netns.sh - builds/removes flowexp's multipath test topology:
# client -- router ==(3 links, ECMP)== server, IPv4 and IPv6.
#
#   usage: create_netns.sh up [sym|asym] | down | show
#   env:   FE_NS_PREFIX (default "fe-"): namespaces ${P}cli ${P}rtr ${P}srv
#          FE_QUIET=1: `up` prints nothing on success
#
#  ${P}cli                 ${P}rtr                          ${P}srv
# +-----------+        +--------------+                 +----------------+
# |  fe-cli0  |--------| fe-c0        |                 |                |
# | 10.10.0.2 |        | 10.10.0.1    |                 | lo: 10.10.9.1  |
# | fd00:fe::2|        | fd00:fe::1   |                 |   fd00:fe:9::1 |
# +-----------+        |        fe-s1 |-----------------| fe-r1          |
#                      |   10.10.1.1  |                 |   10.10.1.2    |
#                      |        fe-s2 |-----------------| fe-r2          |
#                      |   10.10.2.1  |                 |   10.10.2.2    |
#                      |        fe-s3 |-----------------| fe-r3          |
#                      |   10.10.3.1  |                 |   10.10.3.2    |
#                      +--------------+                 +----------------+
# (IPv6: fd00:fe:N::1 router side, fd00:fe:N::2 server side of link N.)
#
# sym:  router -> service: ECMP over fe-s1 fe-s2 fe-s3 (L4 hash);
#       server -> client:  ECMP over fe-r1 fe-r2 fe-r3 (L4 hash).
# asym: router -> service: ECMP over fe-s1 fe-s2 only;
#       server replies from the service address always leave by fe-r3
#       (policy rule "from SERVICE lookup 100"), so a reply never uses the
#       link its request came in on.
set -u

P=${FE_NS_PREFIX:-fe-}
CLI=${P}cli
RTR=${P}rtr
SRV=${P}srv

SVC4=10.10.9.1
SVC6=fd00:fe:9::1
CLI4=10.10.0.2
CLI6=fd00:fe::2
RTR4=10.10.0.1
RTR6=fd00:fe::1
CLINET4=10.10.0.0/24
CLINET6=fd00:fe::/64
ASYM_TABLE=100

die() {
	echo "create_netns.sh: $*" >&2
	exit 1
}

# run CMD... and die with its text when it fails, so a half-built topology
# never passes for a working one.
run() {
	"$@" || die "failed: $*"
}

ns_exists() {
	[ -e "/run/netns/$1" ]
}

# sysctls a namespace needs before any device is created in it: new devices
# inherit "default", so DAD and rp_filter are off from the start.
ns_sysctls() {
	local ns=$1
	run ip netns exec "$ns" sysctl -qw \
		net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 \
		net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_ra=0 \
		net.ipv6.conf.default.accept_ra=0 \
		net.ipv4.fib_multipath_hash_policy=1 \
		net.ipv6.fib_multipath_hash_policy=1
}

dev_sysctls() {
	local ns=$1 dev=$2
	run ip netns exec "$ns" sysctl -qw \
		"net.ipv4.conf.$dev.rp_filter=0" \
		"net.ipv6.conf.$dev.accept_dad=0" \
		"net.ipv6.conf.$dev.accept_ra=0"
}

# veth NS_A DEV_A NS_B DEV_B: one link between two namespaces.
veth() {
	run ip -n "$1" link add "$2" type veth peer name "$4" netns "$3"
	dev_sysctls "$1" "$2"
	dev_sysctls "$3" "$4"
}

addr() {
	run ip -n "$1" addr add "$3" dev "$2"
}

addr6() {
	run ip -n "$1" -6 addr add "$3" dev "$2" nodad
}

topo_down() {
	local ns
	for ns in "$CLI" "$RTR" "$SRV"; do
		if ns_exists "$ns"; then
			ip netns del "$ns" 2>/dev/null ||
				echo "create_netns.sh: cannot delete netns $ns" >&2
		fi
	done
	# veth pairs die with their namespace; nothing else is left behind.
	for ns in "$CLI" "$RTR" "$SRV"; do
		ns_exists "$ns" && return 1
	done
	return 0
}

topo_up() {
	local mode=$1 ns i

	case $mode in
	sym | asym) ;;
	*) die "unknown mode '$mode' (sym|asym)" ;;
	esac
	topo_down || die "leftover namespaces could not be removed"

	for ns in "$CLI" "$RTR" "$SRV"; do
		run ip netns add "$ns"
		run ip -n "$ns" link set lo up
		ns_sysctls "$ns"
	done
	run ip netns exec "$RTR" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1

	veth "$RTR" fe-c0 "$CLI" fe-cli0
	addr "$RTR" fe-c0 $RTR4/24
	addr6 "$RTR" fe-c0 $RTR6/64
	addr "$CLI" fe-cli0 $CLI4/24
	addr6 "$CLI" fe-cli0 $CLI6/64
	for i in 1 2 3; do
		veth "$RTR" fe-s$i "$SRV" fe-r$i
		addr "$RTR" fe-s$i 10.10.$i.1/24
		addr6 "$RTR" fe-s$i fd00:fe:$i::1/64
		addr "$SRV" fe-r$i 10.10.$i.2/24
		addr6 "$SRV" fe-r$i fd00:fe:$i::2/64
	done
	addr "$SRV" lo $SVC4/32
	addr6 "$SRV" lo $SVC6/128
	for ns in "$CLI" "$RTR" "$SRV"; do
		for i in $(ip -n "$ns" -o link show | awk -F': ' '{print $2}' |
			sed 's/@.*//'); do
			run ip -n "$ns" link set "$i" up
		done
	done

	run ip -n "$CLI" route add default via $RTR4
	run ip -n "$CLI" -6 route add default via $RTR6

	if [ "$mode" = sym ]; then
		run ip -n "$RTR" route add $SVC4/32 \
			nexthop via 10.10.1.2 dev fe-s1 \
			nexthop via 10.10.2.2 dev fe-s2 \
			nexthop via 10.10.3.2 dev fe-s3
		run ip -n "$RTR" -6 route add $SVC6/128 \
			nexthop via fd00:fe:1::2 dev fe-s1 \
			nexthop via fd00:fe:2::2 dev fe-s2 \
			nexthop via fd00:fe:3::2 dev fe-s3
		run ip -n "$SRV" route add $CLINET4 \
			nexthop via 10.10.1.1 dev fe-r1 \
			nexthop via 10.10.2.1 dev fe-r2 \
			nexthop via 10.10.3.1 dev fe-r3
		run ip -n "$SRV" -6 route add $CLINET6 \
			nexthop via fd00:fe:1::1 dev fe-r1 \
			nexthop via fd00:fe:2::1 dev fe-r2 \
			nexthop via fd00:fe:3::1 dev fe-r3
	else
		run ip -n "$RTR" route add $SVC4/32 \
			nexthop via 10.10.1.2 dev fe-s1 \
			nexthop via 10.10.2.2 dev fe-s2
		run ip -n "$RTR" -6 route add $SVC6/128 \
			nexthop via fd00:fe:1::2 dev fe-s1 \
			nexthop via fd00:fe:2::2 dev fe-s2
		# Traffic to the link addresses still returns on links 1-2;
		# only the service's replies are pinned to link 3.
		run ip -n "$SRV" route add $CLINET4 \
			nexthop via 10.10.1.1 dev fe-r1 \
			nexthop via 10.10.2.1 dev fe-r2
		run ip -n "$SRV" -6 route add $CLINET6 \
			nexthop via fd00:fe:1::1 dev fe-r1 \
			nexthop via fd00:fe:2::1 dev fe-r2
		run ip -n "$SRV" route add $CLINET4 via 10.10.3.1 dev fe-r3 \
			table $ASYM_TABLE
		run ip -n "$SRV" -6 route add $CLINET6 via fd00:fe:3::1 \
			dev fe-r3 table $ASYM_TABLE
		run ip -n "$SRV" rule add from $SVC4 lookup $ASYM_TABLE pref 100
		run ip -n "$SRV" -6 rule add from $SVC6 lookup $ASYM_TABLE \
			pref 100
	fi
	[ "${FE_QUIET:-0}" = 1 ] || topo_show
}

topo_show() {
	local mode i

	ns_exists "$RTR" || die "topology ${P}* is not up"
	# The policy rule is what makes the topology asymmetric.
	if [ -n "$(ip -n "$SRV" rule show pref 100 2>/dev/null)" ]; then
		mode=asym
	else
		mode=sym
	fi
	cat <<EOF
topology $mode: namespaces $CLI $RTR $SRV
  client  $CLI fe-cli0  $CLI4/24  $CLI6/64  (default via router)
  router  $RTR fe-c0    $RTR4/24  $RTR6/64
EOF
	for i in 1 2 3; do
		printf '  router  %s fe-s%d    10.10.%d.1/24  fd00:fe:%d::1/64  <->  server fe-r%d 10.10.%d.2/24  fd00:fe:%d::2/64\n' \
			"$RTR" $i $i $i $i $i $i
	done
	echo "  service $SRV lo       $SVC4/32  $SVC6/128"
	if [ "$mode" = asym ]; then
		echo "  requests to the service: ECMP fe-s1 fe-s2; replies: fe-r3 (-> router fe-s3)"
	else
		echo "  requests to the service: ECMP fe-s1 fe-s2 fe-s3; replies: ECMP fe-r1 fe-r2 fe-r3"
	fi
	echo "  router ifindexes:"
	ip -n "$RTR" -o link show | awk -F': ' '$2 != "lo" {sub(/@.*/, "", $2); printf "    %s %s\n", $1, $2}'
}

case ${1:-} in
up)
	[ "$(id -u)" = 0 ] || die "must run as root"
	topo_up "${2:-sym}"
	;;
down)
	topo_down || die "namespaces ${P}* still exist"
	;;
show)
	topo_show
	;;
*)
	echo "usage: $0 up [sym|asym] | down | show" >&2
	exit 2
	;;
esac
