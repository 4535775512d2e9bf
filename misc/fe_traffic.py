#!/usr/bin/env python3
# fe_traffic.py - traffic generator with exact ground truth for flowexp's
# multipath topology (misc/create_netns.sh): sends UDP, TCP or ICMP from the
# client namespace to the server namespace and prints, as JSON, what really
# crossed the router per direction (packets, IP octets, router link used).
#
# Ground truth comes from AF_PACKET captures opened in the client and server
# namespaces before the first packet: the receiver's capture counts every
# packet that got through the router and sums the IP total length (IP header
# + payload, as IPFIX counts octets). Senders' own counts (datagrams sent,
# TcpOutSegs + TcpRetransSegs of the sender's namespace, ping's transmitted)
# cross-check it: "ok" is false when they disagree (a drop somewhere) or when
# a capture saw a GSO super-packet (the router's egress must segment; see
# fe_offloads in selftests/net/lib.sh). Exit status 3 then, 0 when exact.
#
# usage: fe_traffic.py udp|tcp|icmp [options]   (run as root, host netns)
#
# Output: {"mode", "family", "ok", "notes": [...], "directions": [{
#   "role": "request"|"reply", "flow": k, "src", "dst", "sport", "dport",
#   "proto", "packets", "octets" (the truth), "sent_packets" (sender's own
#   count; null for TCP, whose totals are checked per namespace),
#   "links": {"fe-sN": packets}, "link_octets": {"fe-sN": octets} (router
#   link used, from the server's side: exact for requests, and for replies
#   unless the server sends GSO super-packets), "max_iplen"}, ...]}
# ICMP: sport 0, dport type << 8 | code of that direction's messages;
# "echo_id": the echo identifier ping used (both directions).
#
# Behind a NAT (--nat; --to ADDR/--to-port PORT: where the client sends, a
# port forward, while the server listens on --dst/--port) the server side
# sees translated tuples: every direction then also has "post" {src, dst,
# sport, dport}, the tuple on the server's side of the router (ICMP: ports
# 0), learnt from what the server received (a flow index in the first two
# payload octets; ICMP: the captured echo requests). Requests are counted
# where the server receives their post tuple, links matched by it.
# --lossy: a burst into a shaped link; senders' counts may exceed the
# receivers' (the truth stays exact: it is the receiver's capture).
import argparse
import ctypes
import errno
import json
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time

CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_RCVBUFFORCE = 33
MTU = 1500
SETTLE = 0.3  # s after the last packet before the captures stop

_libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: " + os.strerror(err))


class Netns:
    """Context manager: the calling thread enters netns NAME; sockets
    created inside stay in it after the thread returns home."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            fd = os.open("/run/netns/" + self.name, os.O_RDONLY)
        except OSError as e:
            os.close(self.home)
            raise SystemExit("fe_traffic: netns %s: %s" %
                             (self.name, e.strerror))
        try:
            setns(fd)
        finally:
            os.close(fd)
        return self

    def __exit__(self, *exc):
        setns(self.home)
        os.close(self.home)


def link_of(ifname):
    """Server device fe-rN is the peer of router device fe-sN."""
    if ifname.startswith("fe-r") and ifname[4:].isdigit():
        return "fe-s" + ifname[4:]
    return ifname


def parse_ip(pkt):
    """(family, src, dst, proto, sport, dport, iplen) of an IP packet that
    starts at pkt[0], or None. ICMP: sport 0, dport type << 8 | code (the
    flowexp key convention)."""
    if len(pkt) < 1:
        return None
    ver = pkt[0] >> 4
    if ver == 4 and len(pkt) >= 20:
        ihl = (pkt[0] & 15) * 4
        iplen = struct.unpack_from("!H", pkt, 2)[0]
        proto = pkt[9]
        src = socket.inet_ntop(socket.AF_INET, pkt[12:16])
        dst = socket.inet_ntop(socket.AF_INET, pkt[16:20])
        l4 = pkt[ihl:]
        fam = 4
    elif ver == 6 and len(pkt) >= 40:
        iplen = 40 + struct.unpack_from("!H", pkt, 4)[0]
        proto = pkt[6]
        src = socket.inet_ntop(socket.AF_INET6, pkt[8:24])
        dst = socket.inet_ntop(socket.AF_INET6, pkt[24:40])
        l4 = pkt[40:]  # the generator sends no extension headers
        fam = 6
    else:
        return None
    sport = dport = echo_id = 0
    if proto in (6, 17) and len(l4) >= 4:
        sport, dport = struct.unpack_from("!HH", l4, 0)
    elif proto in (1, 58) and len(l4) >= 2:
        dport = l4[0] << 8 | l4[1]
        if len(l4) >= 6:
            echo_id = struct.unpack_from("!H", l4, 4)[0]
    return fam, src, dst, proto, sport, dport, iplen, echo_id


class Capture:
    """AF_PACKET capture of every device of one namespace (lo excluded).
    Rows: (ifname, outgoing, parsed-tuple)."""

    def __init__(self, ns):
        with Netns(ns):
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                                      socket.htons(ETH_P_ALL))
        self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
        self.sock.setblocking(False)
        self.rows = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            r, _, _ = select.select([self.sock], [], [], 0.05)
            if not r:
                if self.stop.is_set():
                    return
                continue
            while True:
                try:
                    pkt, addr = self.sock.recvfrom(256)
                except BlockingIOError:
                    break
                ifname, proto, pkttype = addr[0], addr[1], addr[2]
                if ifname == "lo" or proto not in (ETH_P_IP, ETH_P_IPV6):
                    continue
                t = parse_ip(pkt)
                if t:
                    self.rows.append((ifname, pkttype == PACKET_OUTGOING, t))

    def finish(self):
        self.stop.set()
        self.thread.join()
        st = self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
        self.sock.close()
        _, drops = struct.unpack("II", st)
        return drops


def tcp_segs(ns):
    """TcpOutSegs + TcpRetransSegs of namespace NS (what nstat shows)."""
    with Netns(ns):
        with open("/proc/thread-self/net/snmp") as f:
            lines = [ln.split() for ln in f if ln.startswith("Tcp:")]
    tcp = dict(zip(lines[0][1:], (int(v) for v in lines[1][1:])))
    return tcp["OutSegs"] + tcp["RetransSegs"]


class Truth:
    """Per-direction ground truth built from the two captures."""

    def __init__(self, args, family):
        self.args = args
        self.family = family
        self.notes = []
        self.dirs = []  # dicts, in output order

    def add(self, src, dst, proto, sport, dport, role, flow, sent,
            post=None):
        self.dirs.append(dict(src=src, dst=dst, sport=sport, dport=dport,
                              proto=proto, role=role, flow=flow,
                              sent_packets=sent, packets=0, octets=0,
                              links={}, link_octets={}, max_iplen=0))
        if post:
            self.dirs[-1]["post"] = post

    def fill(self, cli_rows, srv_rows, match):
        """match(d, tuple) -> bool selects the rows of direction d. A
        request is counted where the server receives it, a reply where the
        client receives it; the router link comes from the server side."""
        for d in self.dirs:
            req = d["role"] == "request"
            rx = srv_rows if req else cli_rows
            srv_d = dict(d, **d.get("post", {}))  # the server's view
            rx_d = srv_d if req else d
            for ifname, out, t in rx:
                if not out and match(rx_d, t):
                    d["packets"] += 1
                    d["octets"] += t[6]
                    d["max_iplen"] = max(d["max_iplen"], t[6])
            for ifname, out, t in srv_rows:
                # server rx = request via fe-sN, server tx = reply via fe-sN
                if out != req and match(srv_d, t):
                    ln = link_of(ifname)
                    d["links"][ln] = d["links"].get(ln, 0) + 1
                    lo = d["link_octets"]
                    lo[ln] = lo.get(ln, 0) + t[6]
            if d["max_iplen"] > MTU:
                self.notes.append(
                    "%s %s:%d->%s:%d: capture saw a %d-octet GSO packet; "
                    "octets are not wire-exact (router egress must have "
                    "gso/tso off)" % (d["role"], d["src"], d["sport"],
                                      d["dst"], d["dport"], d["max_iplen"]))
            if d["sent_packets"] is not None and \
                    d["sent_packets"] != d["packets"] and \
                    not self.args.lossy:
                self.notes.append(
                    "%s %s:%d->%s:%d: sent %d, received %d packets" %
                    (d["role"], d["src"], d["sport"], d["dst"], d["dport"],
                     d["sent_packets"], d["packets"]))

    def dump(self, mode, extra=None):
        out = dict(mode=mode, family=self.family, ok=not self.notes,
                   notes=self.notes, directions=self.dirs)
        if extra:
            out.update(extra)
        text = json.dumps(out, indent=1)
        if self.args.output:
            tmp = self.args.output + ".tmp"
            with open(tmp, "w") as f:
                f.write(text + "\n")
            os.rename(tmp, self.args.output)
        else:
            print(text)
        if self.notes:
            for n in self.notes:
                print("fe_traffic: " + n, file=sys.stderr)
        return 0 if not self.notes else 3


def family_of(addr):
    return 6 if ":" in addr else 4


def src_addr(fam):
    return "fd00:fe::2" if fam == 6 else "10.10.0.2"


def pace(start, i, interval):
    """Sleep until packet i's slot: a fixed schedule, not a fixed gap, so
    the rate holds whatever the per-packet overhead."""
    if interval > 0:
        delay = start + i * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def captures(args):
    cli = Capture(args.cli)
    srv = Capture(args.srv)
    time.sleep(0.05)
    return cli, srv


def finish_captures(truth, cli, srv):
    time.sleep(SETTLE)
    for c, ns in ((cli, "client"), (srv, "server")):
        drops = c.finish()
        if drops:
            truth.notes.append("%s capture dropped %d packets" % (ns, drops))


def run_udp(args):
    fam = family_of(args.dst)
    af = socket.AF_INET6 if fam == 6 else socket.AF_INET
    hdr = 48 if fam == 6 else 28
    if args.size + hdr > MTU:
        raise SystemExit("fe_traffic: --size %d would fragment (max %d)" %
                         (args.size, MTU - hdr))
    truth = Truth(args, fam)
    cli_cap, srv_cap = captures(args)
    with Netns(args.srv):
        srv = socket.socket(af, socket.SOCK_DGRAM)
        # bound to the service address so replies come from it
        srv.bind((args.dst, args.port))
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    socks = []
    with Netns(args.cli):
        for k in range(args.flows):
            s = socket.socket(af, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
            sport = args.sport + k if args.sport else 0
            s.bind(("::" if fam == 6 else "0.0.0.0", sport))
            socks.append(s)
    srv_count = {}
    srv_peer = {}  # --nat: flow index -> the client as the server sees it
    stop = threading.Event()
    to = (args.to or args.dst, args.to_port or args.port)

    def server():
        srv.settimeout(0.05)
        while not stop.is_set():
            try:
                data, peer = srv.recvfrom(65535)
            except socket.timeout:
                continue
            key = peer[1]
            if args.nat:
                key = int.from_bytes(data[:2], "big")
                srv_peer[key] = peer
            srv_count[key] = srv_count.get(key, 0) + 1
            if args.echo:
                srv.sendto(data, peer)

    th = threading.Thread(target=server, daemon=True)
    th.start()
    payloads = [k.to_bytes(2, "big") + bytes(args.size - 2) if args.nat
                else bytes(args.size) for k in range(args.flows)]
    sent = [0] * args.flows
    start = time.monotonic()
    i = 0
    for n in range(args.count):
        for k, s in enumerate(socks):
            pace(start, i, args.interval)
            try:
                s.sendto(payloads[k], to)
                sent[k] += 1
            except OSError as e:
                # a full queue refused it: never on the wire
                if not args.lossy or e.errno != errno.ENOBUFS:
                    raise
            i += 1
    # wait for the last echoes, then stop the sink
    time.sleep(0.2)
    stop.set()
    th.join()
    for k, s in enumerate(socks):
        sport = s.getsockname()[1]
        key, post, rpost = sport, None, None
        if args.nat:
            key = k
            if k not in srv_peer:
                truth.notes.append("flow %d: the server received nothing" %
                                   k)
                continue
            pa, pp = srv_peer[k][:2]
            post = dict(src=pa, dst=args.dst, sport=pp, dport=args.port)
            rpost = dict(src=args.dst, dst=pa, sport=args.port, dport=pp)
        truth.add(src_addr(fam), to[0], 17, sport, to[1], "request", k,
                  sent[k], post)
        if args.echo:
            truth.add(to[0], src_addr(fam), 17, to[1], sport, "reply", k,
                      srv_count.get(key, 0), rpost)
        s.close()
    srv.close()
    finish_captures(truth, cli_cap, srv_cap)
    truth.fill(cli_cap.rows, srv_cap.rows, match_ports)
    return truth.dump("udp")


def match_ports(d, t):
    return (t[1] == d["src"] and t[2] == d["dst"] and t[3] == d["proto"] and
            t[4] == d["sport"] and t[5] == d["dport"])


def run_tcp(args):
    fam = family_of(args.dst)
    af = socket.AF_INET6 if fam == 6 else socket.AF_INET
    truth = Truth(args, fam)
    cli_cap, srv_cap = captures(args)
    with Netns(args.srv):
        lsock = socket.socket(af, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind(("::" if fam == 6 else "0.0.0.0", args.port))
        lsock.listen(64)
    conns = []
    with Netns(args.cli):
        for k in range(args.flows):
            s = socket.socket(af, socket.SOCK_STREAM)
            if args.nodelay:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if args.sport:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("::" if fam == 6 else "0.0.0.0", args.sport + k))
            conns.append(s)
    cli_before = tcp_segs(args.cli)
    srv_before = tcp_segs(args.srv)
    srv_bytes = {}
    srv_peer = {}  # --nat: connection index -> the client as seen
    cli_port = {}
    errors = []
    to = (args.to or args.dst, args.to_port or args.port)

    def serve(c, peer):
        total = 0
        try:
            while True:
                data = c.recv(262144)
                if not data:
                    break
                if args.nat and not total:
                    # the client's first two octets: its index
                    if len(data) < 2:
                        data += c.recv(1)
                    srv_peer[int.from_bytes(data[:2], "big")] = peer
                total += len(data)
                if args.echo:
                    c.sendall(data)
            c.shutdown(socket.SHUT_WR)
            while c.recv(65536):
                pass
        except OSError as e:
            errors.append("server %s: %s" % (peer, e))
        srv_bytes[peer[1]] = total
        c.close()

    def acceptor():
        threads = []
        for _ in range(args.flows):
            c, peer = lsock.accept()
            t = threading.Thread(target=serve, args=(c, peer), daemon=True)
            t.start()
            threads.append(t)
        for t in threads:
            t.join()

    acc = threading.Thread(target=acceptor, daemon=True)
    acc.start()

    def client(k, s):
        got = [0]

        def reader():
            # a reader of its own: a blocked send can never starve it, so
            # client and server cannot deadlock on full windows
            try:
                while True:
                    d = s.recv(262144)
                    if not d:
                        return
                    got[0] += len(d)
            except OSError as e:
                errors.append("client recv: %s" % e)

        try:
            s.connect(to)
            cli_port[k] = s.getsockname()[1]
            rd = threading.Thread(target=reader, daemon=True)
            rd.start()
            buf = bytes(args.write)
            left = args.bytes
            start = time.monotonic()
            i = 0
            if args.nat:
                left -= s.send(k.to_bytes(2, "big"))
            while left > 0:
                pace(start, i, args.interval)
                left -= s.send(buf[:min(left, args.write)])
                i += 1
            s.shutdown(socket.SHUT_WR)
            rd.join()
            if args.echo and got[0] != args.bytes:
                errors.append("client got %d of %d echoed bytes" %
                              (got[0], args.bytes))
        except OSError as e:
            errors.append("client: %s" % e)
        s.close()

    ths = [threading.Thread(target=client, args=(k, s), daemon=True)
           for k, s in enumerate(conns)]
    ports = []
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    acc.join(5)
    lsock.close()
    time.sleep(0.3)  # the last ACK of the close
    cli_segs = tcp_segs(args.cli) - cli_before
    srv_segs = tcp_segs(args.srv) - srv_before
    finish_captures(truth, cli_cap, srv_cap)
    # the client ports: from the captured SYNs (sockets are closed now)
    for _, out, t in cli_cap.rows:
        if out and t[3] == 6 and t[5] == to[1] and t[4] not in ports:
            ports.append(t[4])
    for k, sport in enumerate(ports):
        post = rpost = None
        if args.nat:
            kk = [j for j, p in cli_port.items() if p == sport]
            if not kk or kk[0] not in srv_peer:
                errors.append("connection from port %d: not seen by the "
                              "server" % sport)
                continue
            pa, pp = srv_peer[kk[0]][:2]
            post = dict(src=pa, dst=args.dst, sport=pp, dport=args.port)
            rpost = dict(src=args.dst, dst=pa, sport=args.port, dport=pp)
        truth.add(src_addr(fam), to[0], 6, sport, to[1], "request", k, None,
                  post)
        truth.add(to[0], src_addr(fam), 6, to[1], sport, "reply", k, None,
                  rpost)
    truth.fill(cli_cap.rows, srv_cap.rows, match_ports)
    req = sum(d["packets"] for d in truth.dirs if d["role"] == "request")
    rep = sum(d["packets"] for d in truth.dirs if d["role"] == "reply")
    if req != cli_segs:
        truth.notes.append("client sent %d segments (TcpOutSegs+Retrans), "
                           "server received %d" % (cli_segs, req))
    if rep != srv_segs:
        truth.notes.append("server sent %d segments (TcpOutSegs+Retrans), "
                           "client received %d" % (srv_segs, rep))
    if len(ports) != args.flows:
        truth.notes.append("saw %d connections, wanted %d" %
                           (len(ports), args.flows))
    truth.notes.extend(errors)
    return truth.dump("tcp", dict(client_segs=cli_segs, server_segs=srv_segs,
                                  server_bytes=srv_bytes))


def run_icmp(args):
    fam = family_of(args.dst)
    truth = Truth(args, fam)
    cli_cap, srv_cap = captures(args)
    to = args.to or args.dst
    cmd = ["nsenter", "--net=/run/netns/" + args.cli, "ping", "-q",
           "-%d" % fam, "-c", str(args.count), "-s", str(args.size),
           "-i", "%g" % args.interval, "-W", "1", to]
    p = subprocess.run(cmd, capture_output=True, text=True)
    tx = rx = None
    for ln in p.stdout.splitlines():
        if "transmitted" in ln:
            f = ln.split()
            tx, rx = int(f[0]), int(f[3])
    if tx is None:
        raise SystemExit("fe_traffic: ping failed: %s%s" % (p.stdout,
                                                             p.stderr))
    req_type = 128 << 8 if fam == 6 else 8 << 8
    rep_type = 129 << 8 if fam == 6 else 0
    proto = 58 if fam == 6 else 1
    finish_captures(truth, cli_cap, srv_cap)
    post = rpost = None
    if args.nat:
        # the source of the echo requests the server received
        seen = {t[1] for _, out, t in srv_cap.rows
                if not out and t[3] == proto and t[5] == req_type and
                t[2] == args.dst}
        if len(seen) != 1:
            raise SystemExit("fe_traffic: the server saw echo requests "
                             "from %s, want one source" % sorted(seen))
        pa = seen.pop()
        post = dict(src=pa, dst=args.dst, sport=0, dport=req_type)
        rpost = dict(src=args.dst, dst=pa, sport=0, dport=rep_type)
    truth.add(src_addr(fam), to, proto, 0, req_type, "request", 0, tx, post)
    truth.add(to, src_addr(fam), proto, 0, rep_type, "reply", 0, rx, rpost)
    # the echo identifier (the meters key an echo by it, in sport)
    ids = {t[7] for _, out, t in cli_cap.rows
           if out and t[3] == proto and t[5] == req_type}
    echo_id = ids.pop() if len(ids) == 1 else None
    for d in truth.dirs:
        d["echo_id"] = echo_id
    truth.fill(cli_cap.rows, srv_cap.rows, match_ports)
    if tx != rx:
        truth.notes.append("ping: %d transmitted, %d received" % (tx, rx))
    return truth.dump("icmp")


def main():
    pfx = os.environ.get("FE_NS_PREFIX", "fe-")
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="mode", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--cli", default=pfx + "cli", help="client netns")
    common.add_argument("--srv", default=pfx + "srv", help="server netns")
    common.add_argument("--dst", default="10.10.9.1",
                        help="server address (v4 or v6)")
    common.add_argument("-o", "--output", help="write the JSON here")
    common.add_argument("--nat", action="store_true",
                        help="the router translates: learn each "
                        "direction's tuple on the server side (post)")
    common.add_argument("--to", help="where the client sends (a port "
                        "forward; default --dst)")
    common.add_argument("--lossy", action="store_true",
                        help="drops on the way are expected (a shaped "
                        "link): senders' counts are not checked")
    u = sub.add_parser("udp", parents=[common])
    u.add_argument("--port", type=int, default=5001)
    u.add_argument("--count", type=int, default=100,
                   help="packets per flow")
    u.add_argument("--size", type=int, default=100, help="UDP payload")
    u.add_argument("--flows", type=int, default=1,
                   help="concurrent flows (source ports)")
    u.add_argument("--sport", type=int, default=0,
                   help="first source port (default: ephemeral)")
    u.add_argument("--interval", type=float, default=0.001,
                   help="seconds between packets (all flows)")
    u.add_argument("--echo", action="store_true",
                   help="server echoes each datagram")
    u.add_argument("--to-port", type=int, default=0,
                   help="the port the client sends to (default --port)")
    t = sub.add_parser("tcp", parents=[common])
    t.add_argument("--port", type=int, default=5002)
    t.add_argument("--bytes", type=int, default=100000)
    t.add_argument("--write", type=int, default=1000, help="write size")
    t.add_argument("--interval", type=float, default=0.001,
                   help="seconds between writes")
    t.add_argument("--flows", type=int, default=1,
                   help="concurrent connections")
    t.add_argument("--sport", type=int, default=0)
    t.add_argument("--echo", action="store_true")
    t.add_argument("--to-port", type=int, default=0)
    t.add_argument("--no-nodelay", dest="nodelay", action="store_false")
    i = sub.add_parser("icmp", parents=[common])
    i.add_argument("--count", type=int, default=20)
    i.add_argument("--size", type=int, default=56)
    i.add_argument("--interval", type=float, default=0.01)
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("fe_traffic: must run as root (setns, AF_PACKET)")
    return {"udp": run_udp, "tcp": run_tcp, "icmp": run_icmp}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
