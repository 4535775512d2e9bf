#!/usr/bin/env python3
# interop.py - decodes one export with several decoders and compares them
# record for record with flowctl collect --json: tshark (cflow, IPFIX and
# NetFlow v9), ipfixDump (libfixbuf-tools), nfcapd/nfdump and pmacct's
# nfacctd. Each record is reduced to the fields the issue names: addresses,
# ports, protocol, packets, octets, direction, interfaces and start/end
# times (ms), plus the reverse counters and times of a biflow record (what
# a decoder does not keep is left out of its comparison). Also checks the
# options records (interface names, exporter statistics) each decoder
# shows, and that JSON lines equal flowctl collect's objects.
#
# usage: interop.py compare --collect F.jsonl [--tshark F.pcap PORT]
#                           [--ipfixdump F.txt] [--nfdump F.json]
#                           [--nfacctd F.json] [--biflow] [--forward-only]
#        interop.py options --collect F.jsonl --ifmap M.json
#                           [--tshark F.pcap PORT] [--ipfixdump F.txt]
#        interop.py jsonl --collect F.jsonl --jsonl F.json
import argparse
import datetime
import ipaddress
import json
import re
import subprocess
import sys


def ms(text):
    """'Nov 26, 2026 10:50:45.902000000 UTC', '2026-11-26 10:50:45.902',
    '2026-11-26T10:50:45.902' -> UNIX ms (UTC)."""
    t = text.replace(" UTC", "").strip()
    for fmt in ("%b %d, %Y %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f",
                "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            frac = ""
            m = re.match(r"(.*\.)(\d+)$", t)
            s = t
            if m:  # datetime takes at most 6 fraction digits
                s = m.group(1) + m.group(2)[:6]
            d = datetime.datetime.strptime(s, fmt).replace(
                tzinfo=datetime.timezone.utc)
            return int(round(d.timestamp() * 1000))
        except ValueError:
            continue
    raise ValueError(f"unknown time format: {text!r}")


def rec(src, dst, sport, dport, proto, fwd, rev=None):
    if int(proto) in (1, 58):
        # nfdump keeps ICMP type/code apart from the ports; the ground-truth
        # check covers them
        sport = dport = 0
    r = dict(src=str(ipaddress.ip_address(src)),
             dst=str(ipaddress.ip_address(dst)), sport=int(sport),
             dport=int(dport), proto=int(proto),
             packets=int(fwd["packets"]), octets=int(fwd["octets"]),
             dir=fwd.get("dir"), start=fwd.get("start"), end=fwd.get("end"))
    for k in ("in_if", "out_if"):
        if k in fwd:
            r[k] = fwd[k]
    if rev is not None:
        r.update(rpackets=int(rev["packets"]), roctets=int(rev["octets"]),
                 rstart=rev.get("start"), rend=rev.get("end"))
    return r


def from_collect(path, biflow):
    out = []
    for line in open(path):
        if not line.startswith("{"):
            continue
        o = json.loads(line)
        if o.get("options"):
            continue
        v6 = "sourceIPv6Address" in o

        def side(pre):
            k = (lambda n: pre + n[0].upper() + n[1:]) if pre else (lambda n: n)
            return dict(packets=o.get(k("packetDeltaCount"), 0),
                        octets=o.get(k("octetDeltaCount"), 0),
                        dir=o.get(k("flowDirection")),
                        in_if=o.get(k("ingressInterface")),
                        out_if=o.get(k("egressInterface")),
                        start=o.get(k("flowStartMilliseconds")),
                        end=o.get(k("flowEndMilliseconds")))
        out.append(rec(o["sourceIPv6Address" if v6 else "sourceIPv4Address"],
                       o["destinationIPv6Address" if v6 else "destinationIPv4Address"],
                       o.get("sourceTransportPort", 0),
                       o.get("destinationTransportPort", 0),
                       o.get("protocolIdentifier", 0), side(""),
                       side("reverse") if biflow else None))
    return out


def pairs_hook(pairs):
    d = {}
    for k, v in pairs:
        d.setdefault(k, []).append(v)
    return d


def from_tshark(pcap, port, biflow):
    """tshark's JSON keeps a biflow's reverse element under the forward
    element's name, before it (the template's order): field lists hold
    [reverse, forward]."""
    out = []
    for pkt in tshark_json(pcap, port):
        layers = pkt["_source"][0]["layers"][0]
        for f in tshark_flows(layers):
            if "cflow.packets" in f:  # not an options record
                out.append(tshark_flow(f, biflow))
    return out


def tshark_flows(layers):
    """Every decoded data record of one packet: IPFIX calls its sets
    "Set N", NetFlow v9 "FlowSet N"."""
    for cf in layers.get("cflow", []):
        for key, sets in cf.items():
            if not key.startswith(("Set ", "FlowSet ")):
                continue
            for s in sets:
                for fk, flows in s.items():
                    if fk.startswith("Flow "):
                        yield from flows


def tshark_json(pcap, port):
    js = subprocess.run(["tshark", "-r", pcap, "-d", f"udp.port=={port},cflow",
                         "-T", "json", f"udp.port=={port}"],
                        capture_output=True, text=True, check=True).stdout
    return json.loads(js, object_pairs_hook=pairs_hook)


def tshark_flow(f, biflow):
    def one(name, i=-1):
        v = f.get(name)
        return v[i] if v else None
    times = f["cflow.timedelta_tree"]
    starts = [ms(t) for tt in times for t in tt.get("cflow.abstimestart", [])]
    ends = [ms(t) for tt in times for t in tt.get("cflow.abstimeend", [])]
    src = one("cflow.srcaddr") or one("cflow.srcaddrv6")
    dst = one("cflow.dstaddr") or one("cflow.dstaddrv6")
    dirs = f.get("cflow.direction", [])
    ins = f.get("cflow.inputint", [])
    outs = f.get("cflow.outputint", [])
    fwd = dict(packets=one("cflow.packets"), octets=one("cflow.octets"),
               dir=int(dirs[-1]) if dirs else None, start=starts[-1],
               end=ends[-1], in_if=int(ins[-1]), out_if=int(outs[-1]))
    rev = None
    if biflow:
        rev = dict(packets=one("cflow.packets", 0), octets=one("cflow.octets", 0),
                   start=starts[0], end=ends[0])
    return rec(src, dst, one("cflow.srcport") or 0, one("cflow.dstport") or 0,
               one("cflow.protocol"), fwd, rev)


def ipfixdump_records(path):
    """Every data record ipfixDump printed, as {name: value text}."""
    out, cur = [], None
    for line in open(path):
        if line.startswith("--- "):
            if cur is not None:
                out.append(cur)
            cur = {} if "data record" in line else None
            continue
        # "(82)  interfaceName : ...", "(10) (S)  ingressInterface : 1"
        m = re.match(r"\s*\((\d+)(?:/(\d+))?\)\s+(?:\(S\)\s+)?(\S+)\s+:\s+(.*)$",
                     line)
        if cur is not None and m:
            cur[m.group(3)] = m.group(4).strip()
    if cur is not None:
        out.append(cur)
    return out


def from_ipfixdump(path, biflow):
    res = []
    for d in ipfixdump_records(path):
        if "packetDeltaCount" not in d:
            continue
        v6 = "sourceIPv6Address" in d

        def side(pre):
            k = (lambda n: pre + n[0].upper() + n[1:]) if pre else (lambda n: n)
            return dict(packets=d.get(k("packetDeltaCount"), 0),
                        octets=d.get(k("octetDeltaCount"), 0),
                        dir=int(d[k("flowDirection")]) if k("flowDirection") in d else None,
                        in_if=int(d[k("ingressInterface")]) if k("ingressInterface") in d else None,
                        out_if=int(d[k("egressInterface")]) if k("egressInterface") in d else None,
                        start=ms(d[k("flowStartMilliseconds")]),
                        end=ms(d[k("flowEndMilliseconds")]))
        res.append(rec(d["sourceIPv6Address" if v6 else "sourceIPv4Address"],
                       d["destinationIPv6Address" if v6 else "destinationIPv4Address"],
                       d.get("sourceTransportPort", 0),
                       d.get("destinationTransportPort", 0),
                       d.get("protocolIdentifier", 0), side(""),
                       side("reverse") if biflow else None))
    return res


def from_nfdump(path, biflow):
    out = []
    for o in json.load(open(path)):
        if o.get("type") != "FLOW":
            continue
        fwd = dict(packets=o.get("in_packets", 0), octets=o.get("in_bytes", 0),
                   dir=o.get("direction"), start=ms(o["first"]),
                   end=ms(o["last"]), in_if=o.get("input_snmp"),
                   out_if=o.get("output_snmp"))
        rev = None
        if biflow:  # nfdump keeps one time pair: no reverse times
            rev = dict(packets=o.get("out_packets", 0),
                       octets=o.get("out_bytes", 0))
        out.append(rec(o.get("src4_addr", o.get("src6_addr")),
                       o.get("dst4_addr", o.get("dst6_addr")),
                       o.get("src_port", 0), o.get("dst_port", 0),
                       o.get("proto", 0), fwd, rev))
    return out


def from_nfacctd(path):
    """nfacctd's print plugin (print_output: json, print_num_protos: true,
    timestamps_utc: true), aggregated on every key field and both times so
    that each record stays one line. pmacct keeps no flowDirection."""
    out = []
    for line in open(path):
        if not line.startswith("{"):
            continue
        o = json.loads(line)
        fwd = dict(packets=o["packets"], octets=o["bytes"],
                   start=ms(o["timestamp_start"]), end=ms(o["timestamp_end"]),
                   in_if=o["iface_in"], out_if=o["iface_out"])
        out.append(rec(o["ip_src"], o["ip_dst"], o.get("port_src", 0),
                       o.get("port_dst", 0), o["ip_proto"], fwd))
    return out


def canon(records, drop=()):
    keys = []
    for r in records:
        keys.append(tuple(sorted((k, v) for k, v in r.items() if k not in drop)))
    return sorted(keys)


def compare(a):
    ref = from_collect(a.collect, a.biflow and not a.forward_only)
    if not ref:
        print("FAIL: flowctl collect decoded no record")
        return 1
    others = []
    bi = a.biflow and not a.forward_only
    if a.tshark:
        others.append(("tshark", from_tshark(a.tshark[0], a.tshark[1], bi), ()))
    if a.ipfixdump:
        others.append(("ipfixDump", from_ipfixdump(a.ipfixdump, bi), ()))
    if a.nfdump:
        others.append(("nfdump", from_nfdump(a.nfdump, bi),
                       ("rstart", "rend")))
    if a.nfacctd:
        others.append(("nfacctd", from_nfacctd(a.nfacctd), ("dir",)))
    bad = 0
    for name, recs, drop in others:
        want, got = canon(ref, drop), canon(recs, drop)
        if want == got:
            print(f"ok   {name}: {len(got)} records identical to flowctl collect's")
            continue
        bad += 1
        print(f"FAIL {name}: {len(got)} records, flowctl collect {len(want)}")
        for x in sorted(set(want) - set(got))[:5]:
            print("   only in flowctl collect:", dict(x))
        for x in sorted(set(got) - set(want))[:5]:
            print(f"   only in {name}:", dict(x))
    return 1 if bad else 0


def options_from_collect(path):
    """(interfaces {ifindex: name}, statistics records, flow records)."""
    ifs, stats, flows = {}, [], 0
    for line in open(path):
        if not line.startswith("{"):
            continue
        o = json.loads(line)
        if not o.get("options"):
            flows += 1
        elif "interfaceName" in o:
            ifs[o["ingressInterface"]] = o["interfaceName"]
        elif "exportedFlowRecordTotalCount" in o:
            stats.append(o)
    return ifs, stats, flows


def options(a):
    """The router's links named in every decoder's options records, and
    the exporter's last statistics record counting every flow record."""
    links = {v: k for k, v in json.load(open(a.ifmap)).items()}
    ifs, stats, flows = options_from_collect(a.collect)
    got = {"flowctl collect": ifs}
    if a.tshark:
        t = {}
        for pkt in tshark_json(a.tshark[0], a.tshark[1]):
            for f in tshark_flows(pkt["_source"][0]["layers"][0]):
                if "cflow.if_name" in f:
                    idx = f.get("cflow.inputint") or f.get("cflow.scope_interface")
                    t[int(idx[0])] = f["cflow.if_name"][0]
        got["tshark"] = t
    if a.ipfixdump:
        got["ipfixDump"] = {
            int(d["ingressInterface"]): d["interfaceName"].split(")", 1)[1].strip()
            for d in ipfixdump_records(a.ipfixdump) if "interfaceName" in d}
    bad = 0
    for name, m in got.items():
        miss = {i: n for i, n in links.items() if m.get(i) != n}
        if miss:
            bad += 1
            print(f"FAIL {name}: interface names {m}, expected {links}")
        else:
            print(f"ok   {name}: names of links {sorted(links.values())}")
    if not stats:
        print("FAIL flowctl collect: no Exporting Process statistics record")
        return 1
    last = stats[-1]
    counts = [s["exportedFlowRecordTotalCount"] for s in stats]
    if counts != sorted(counts) or last["exportedFlowRecordTotalCount"] != flows \
            or last.get("notSentFlowTotalCount", 0) != 0:
        print(f"FAIL statistics: {counts} flow records exported, "
              f"{flows} received, last {last}")
        return 1
    print(f"ok   statistics: {len(stats)} records, the last counts "
          f"{flows} flow records, {last['exportedMessageTotalCount']} "
          f"messages, {last['exportedOctetTotalCount']} octets, none lost")
    return 1 if bad else 0


def jsonl(a):
    """JSON lines equal flowctl collect's objects but for export_time."""
    def objs(path, flows_only):
        out = []
        for line in open(path):
            if line.startswith("{"):
                o = json.loads(line)
                if flows_only and o.get("options"):
                    continue
                o.pop("export_time", None)
                out.append(json.dumps(o, sort_keys=True))
        return sorted(out)
    want, got = objs(a.collect, True), objs(a.jsonl, False)
    if want == got:
        print(f"ok   JSON lines: {len(got)} records identical to flowctl collect's")
        return 0
    print(f"FAIL JSON lines: {len(got)} records, flowctl collect {len(want)}")
    for x in sorted(set(want) - set(got))[:3]:
        print("   only in flowctl collect:", x)
    for x in sorted(set(got) - set(want))[:3]:
        print("   only in the JSON lines:", x)
    return 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["compare", "options", "jsonl"])
    ap.add_argument("--collect", required=True)
    ap.add_argument("--tshark", nargs=2, metavar=("PCAP", "PORT"))
    ap.add_argument("--ipfixdump")
    ap.add_argument("--nfdump")
    ap.add_argument("--nfacctd")
    ap.add_argument("--ifmap")
    ap.add_argument("--jsonl")
    ap.add_argument("--biflow", action="store_true")
    ap.add_argument("--forward-only", action="store_true",
                    help="compare the forward half of biflow records only")
    a = ap.parse_args()
    return {"compare": compare, "options": options, "jsonl": jsonl}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
