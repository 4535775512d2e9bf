#!/usr/bin/env python3
# many_flows.py - COUNT one-packet UDP flows from a namespace (the client's)
# to DST, one source port and COUNT destination ports from --base, paced in
# small bursts so that no veth backlog overflows (every flow reaches the
# meters). Prints how many datagrams it sent.
import argparse
import ctypes
import os
import socket
import time

CLONE_NEWNET = 0x40000000

ap = argparse.ArgumentParser()
ap.add_argument("--ns", required=True, help="netns to send from")
ap.add_argument("--dst", default="10.10.9.1")
ap.add_argument("--count", type=int, required=True)
ap.add_argument("--base", type=int, default=10000, help="first dport")
ap.add_argument("--sport", type=int, default=40000)
ap.add_argument("--size", type=int, default=32, help="UDP payload")
ap.add_argument("--burst", type=int, default=50)
ap.add_argument("--gap", type=float, default=0.002, help="s between bursts")
a = ap.parse_args()
if a.base + a.count > 65536:
    raise SystemExit("many_flows: base + count exceeds the port range")

libc = ctypes.CDLL(None, use_errno=True)
fd = os.open("/run/netns/" + a.ns, os.O_RDONLY)
if libc.setns(fd, CLONE_NEWNET) != 0:
    raise SystemExit("many_flows: setns %s: %s" %
                     (a.ns, os.strerror(ctypes.get_errno())))
os.close(fd)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", a.sport))
payload = b"x" * a.size
for i in range(a.count):
    s.sendto(payload, (a.dst, a.base + i))
    if (i + 1) % a.burst == 0:
        time.sleep(a.gap)
print(a.count)
