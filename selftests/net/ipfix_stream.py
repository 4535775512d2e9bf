#!/usr/bin/env python3
# ipfix_stream.py - checks a file of IPFIX messages as a TCP collector
# received them (tcp_collector.py's OUT): every message well formed (version
# 10, sets that tile it exactly, none empty, data only after its template),
# sequence numbers that count the data records sent before each message in
# its session (a session starts at 0 with its templates), and prints a JSON
# summary: messages, sessions, flow records by protocol, the distinct
# destination ports of UDP flows (--sport: only from that source port) with
# their packets, and the last Exporting Process Reliability Statistics
# record. Exit status 1 when a check fails (the reasons in "errors").
import argparse
import json
import struct
import sys

ap = argparse.ArgumentParser()
ap.add_argument("file")
ap.add_argument("--sport", type=int, default=0)
a = ap.parse_args()

data = open(a.file, "rb").read()
errors = []
templates = {}  # id -> [(ie, len)] (enterprise fields as ie | 0x8000 <<)
summary = {"messages": 0, "sessions": 0, "flows": 0, "options": 0,
           "by_proto": {}, "udp_ports": 0, "udp_packets": 0,
           "duplicate_ports": 0, "stats": None}
ports = {}
seq = 0


def fields_of(body, off, count):
    f = []
    for _ in range(count):
        ie, ln = struct.unpack_from("!HH", body, off)
        off += 4
        if ie & 0x8000:
            pen, = struct.unpack_from("!I", body, off)
            off += 4
            ie = (pen << 16) | (ie & 0x7fff)
        f.append((ie, ln))
    return f, off


def value(rec, f, ie):
    off = 0
    for fid, ln in f:
        if fid == ie:
            return int.from_bytes(rec[off:off + ln], "big")
        off += ln
    return None


def template_set(body, sid):
    off = 0
    while len(body) - off >= 4:
        tid, count = struct.unpack_from("!HH", body, off)
        off += 4
        scope = 0
        if sid == 3:
            scope, = struct.unpack_from("!H", body, off)
            off += 2
        if tid < 256 or count == 0:
            break  # padding
        f, off = fields_of(body, off, count)
        templates[tid] = (f, scope)


def data_set(body, sid, where):
    if sid not in templates:
        errors.append(f"{where}: data set {sid} before its template")
        return 0
    f, scope = templates[sid]
    rl = sum(ln for _, ln in f)
    n = len(body) // rl
    if len(body) - n * rl >= 4:
        errors.append(f"{where}: set {sid} has {len(body) - n * rl} octets "
                      "after its records")
    for i in range(n):
        rec = body[i * rl:(i + 1) * rl]
        if scope:
            summary["options"] += 1
            if f[0][0] == 144:  # exportingProcessId: the statistics
                summary["stats"] = {str(ie): value(rec, f, ie)
                                    for ie in (40, 41, 42, 166, 167, 168)}
            continue
        summary["flows"] += 1
        proto = value(rec, f, 4)
        summary["by_proto"][str(proto)] = \
            summary["by_proto"].get(str(proto), 0) + 1
        if proto == 17 and (not a.sport or value(rec, f, 7) == a.sport):
            dport = value(rec, f, 11)
            if dport in ports:
                summary["duplicate_ports"] += 1
            ports[dport] = ports.get(dport, 0) + value(rec, f, 2)
    return n


off = 0
while off < len(data):
    where = f"message {summary['messages']} at octet {off}"
    if len(data) - off < 16:
        errors.append(f"{where}: {len(data) - off} octets, a cut header")
        break
    ver, length, _, mseq, _ = struct.unpack_from("!HHIII", data, off)
    if ver != 10 or length < 16 or off + length > len(data):
        errors.append(f"{where}: bad header (version {ver}, length "
                      f"{length}, {len(data) - off} octets left)")
        break
    msg = data[off:off + length]
    sets = []
    p = 16
    while p < length:
        if length - p < 4:
            errors.append(f"{where}: {length - p} octets after the sets")
            break
        sid, sl = struct.unpack_from("!HH", msg, p)
        if sl < 4 or p + sl > length:
            errors.append(f"{where}: set {sid} of length {sl} at {p} "
                          f"overruns the message ({length})")
            break
        if sl == 4:
            errors.append(f"{where}: empty set {sid}")
        sets.append((sid, msg[p + 4:p + sl]))
        p += sl
    if sets and sets[0][0] == 2 and mseq == 0:
        summary["sessions"] += 1  # each session opens with its templates
        seq = 0
    if mseq != seq:
        errors.append(f"{where}: sequence {mseq}, expected {seq}")
        seq = mseq
    ndata = 0
    for sid, body in sets:
        if sid in (2, 3):
            template_set(body, sid)
        elif sid >= 256:
            ndata += data_set(body, sid, where)
    seq = (seq + ndata) & 0xffffffff
    summary["messages"] += 1
    off += length

summary["udp_ports"] = len(ports)
summary["udp_packets"] = sum(ports.values())
summary["errors"] = errors[:20]
summary["nerrors"] = len(errors)
json.dump(summary, sys.stdout)
print()
sys.exit(1 if errors else 0)
