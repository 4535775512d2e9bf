#!/usr/bin/env python3
# tcp_collector.py - a minimal IPFIX-over-TCP collector for the tests: accepts
# sessions on ADDR PORT, splits each stream into messages by the header's
# length field and appends them to OUT (a file ipfixDump reads); prints one
# line per session to stderr. Stops on SIGTERM.
#
# A slow collector: --stall-every BYTES --stall SECONDS stops reading for
# SECONDS after every BYTES received (the sender's socket fills up);
# --rcvbuf sets SO_RCVBUF of the sessions (a small window fills sooner).
import argparse
import signal
import socket
import struct
import sys
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("addr")
ap.add_argument("port", type=int)
ap.add_argument("out")
ap.add_argument("--stall-every", type=int, default=0)
ap.add_argument("--stall", type=float, default=0.0)
ap.add_argument("--rcvbuf", type=int, default=0)
args = ap.parse_args()
addr, port, out = args.addr, args.port, args.out
lock = threading.Lock()
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))


def session(conn, peer, n):
    buf = b""
    msgs = 0
    got = 0  # octets since the last stall
    stalls = 0
    with conn:
        while True:
            want = 65536
            if args.stall_every:
                want = min(want, args.stall_every - got)
            data = conn.recv(want)
            if not data:
                break
            buf += data
            got += len(data)
            if args.stall_every and got >= args.stall_every:
                time.sleep(args.stall)
                got = 0
                stalls += 1
            while len(buf) >= 16:
                ver, length = struct.unpack("!HH", buf[:4])
                if ver != 10 or length < 16:
                    print(f"session {n}: bad message header", file=sys.stderr,
                          flush=True)
                    return
                if len(buf) < length:
                    break
                with lock, open(out, "ab") as f:
                    f.write(buf[:length])
                buf = buf[length:]
                msgs += 1
    print(f"session {n} from {peer[0]}:{peer[1]} closed after {msgs} messages"
          f" ({stalls} stalls, {len(buf)} octets of a cut message)",
          file=sys.stderr, flush=True)


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if args.rcvbuf:
    # inherited by accepted sessions; set before listen() to bound the window
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
s.bind((addr, port))
s.listen(4)
print(f"listening on {addr}:{port}", file=sys.stderr, flush=True)
n = 0
while True:
    c, peer = s.accept()
    n += 1
    print(f"session {n} from {peer[0]}:{peer[1]}", file=sys.stderr, flush=True)
    threading.Thread(target=session, args=(c, peer, n), daemon=True).start()
