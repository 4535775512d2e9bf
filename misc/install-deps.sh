#!/usr/bin/env bash
# install-deps.sh - installs the Debian packages flowexp needs to build and test.
# Usage: misc/install-deps.sh [--if-missing]
#   --if-missing  do nothing when every package is already installed
set -euo pipefail

PKGS=(
	# build
	make gcc clang llvm pkg-config bpftool libbpf-dev libxdp-dev xdp-tools
	libelf-dev zlib1g-dev libinih-dev libcmocka-dev linux-libc-dev
	# the HTTP server of the Prometheus endpoint (agent/metrics.c)
	libmicrohttpd-dev
	# drops the agent's capabilities after start-up (agent/privs.c)
	libcap-ng-dev
	# lint
	clang-format cppcheck
	# tests and demo
	iproute2 ethtool iputils-ping tcpdump python3 jq procps
	tshark nfdump libfixbuf-tools pmacct iperf3
	# nft: the NAT (masquerade, DNAT) of the router tests
	nftables
	# the baseline exporter of make bench-forwarding
	softflowd
	# promtool and the Prometheus server that scrapes the agent in tests
	prometheus curl
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done

if [ "${1:-}" = "--if-missing" ] && [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PKGS[@]} packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run this script as root" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The tests run their own Prometheus server in a temp directory and the
# bench its own softflowd; the packages' services (Prometheus listening on
# :9090, softflowd on the host's interfaces) are not needed: stop what this
# script just installed.
for svc in prometheus softflowd; do
	[[ " ${missing[*]} " == *" $svc "* ]] || continue
	if [ -d /run/systemd/system ]; then
		systemctl disable --now "$svc" >/dev/null 2>&1 || true
	else # no systemd running: only the boot-time link
		systemctl disable "$svc" >/dev/null 2>&1 || true
	fi
done
echo "install-deps: done"
