#!/usr/bin/env python3
# tcp_collector.py - a minimal IPFIX-over-TCP collector for the tests: accepts
# sessions on ADDR PORT, splits each stream into messages by the header's
# length field and appends them to OUT (a file ipfixDump reads); prints one
# line per session to stderr. Stops on SIGTERM.
import signal
import socket
import struct
import sys
import threading

addr, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))


def session(conn, peer, n):
    buf = b""
    msgs = 0
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            buf += data
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
    print(f"session {n} from {peer[0]}:{peer[1]} closed after {msgs} messages",
          file=sys.stderr, flush=True)


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(4)
print(f"listening on {addr}:{port}", file=sys.stderr, flush=True)
n = 0
while True:
    c, peer = s.accept()
    n += 1
    print(f"session {n} from {peer[0]}:{peer[1]}", file=sys.stderr, flush=True)
    threading.Thread(target=session, args=(c, peer, n), daemon=True).start()
