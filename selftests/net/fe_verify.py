#!/usr/bin/env python3
# fe_verify.py - compares exported flow records (`flowctl collect --json`
# lines, `nfdump -o json`, or `flowctl dump --json` rows) with
# misc/fe_traffic.py's ground truth: exact packets and octets per
# conversation and direction, and the router interfaces and flowDirection
# each direction's records carry.
#
# usage: fe_verify.py check --truth T.json... --records R... --ifmap M.json
#                           [--biflow yes|no] [--one-record] [--flowdir N]
#                           [--overflow] [--no-ifcheck] [--per-link]
#                           [--require-rev-if] [--nat] [--dropped N]
#                           [--quiet]
#        fe_verify.py ifmap NETNS          (prints {"fe-c0": 2, ...})
# Exit 0 when everything matches, 1 with one line per mismatch.
import argparse
import ipaddress
import json
import subprocess
import sys

ZERO = {"0.0.0.0", "::"}
ICMP = (1, 58)


def load_records(path):
    """Normalized records from one file: JSON lines (flowctl collect) or a
    JSON array (nfdump -o json)."""
    with open(path) as f:
        text = f.read()
    s = text.lstrip()
    if s.startswith("["):
        raw = json.loads(s) if s.strip() != "[" else []
        return [r for r in (norm_nfdump(x) for x in raw) if r]
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            raise SystemExit("%s:%d: not JSON: %s" % (path, n, line[:80]))
        r = norm_dump(obj) if "dir" in obj else norm_ipfix(obj)
        if r:
            out.append(r)
    return out


def addr(a):
    return str(ipaddress.ip_address(a)) if a is not None else None


def side(obj, pre):
    """One direction of an ipfix JSON record; pre "" or "reverse"."""
    def k(name):
        return pre + name[0].upper() + name[1:] if pre else name
    if k("packetDeltaCount") not in obj and k("octetDeltaCount") not in obj:
        return None
    return dict(packets=obj.get(k("packetDeltaCount"), 0),
                octets=obj.get(k("octetDeltaCount"), 0),
                dropped=obj.get(k("droppedPacketDeltaCount")),
                dropped_octets=obj.get(k("droppedOctetDeltaCount")),
                in_if=obj.get(k("ingressInterface")),
                out_if=obj.get(k("egressInterface")),
                flowdir=obj.get(k("flowDirection")))


def norm_ipfix(o):
    if o.get("options"):
        return None
    src = o.get("sourceIPv4Address", o.get("sourceIPv6Address"))
    dst = o.get("destinationIPv4Address", o.get("destinationIPv6Address"))
    fwd = side(o, "")
    if fwd is None:
        return None
    rev = side(o, "reverse")
    if rev and rev["flowdir"] is None:
        rev["flowdir"] = fwd["flowdir"]
    return dict(src=addr(src), dst=addr(dst),
                sport=o.get("sourceTransportPort", 0),
                dport=o.get("destinationTransportPort", 0),
                proto=o.get("protocolIdentifier", 0), fwd=fwd, rev=rev,
                reason=o.get("flowEndReason"), fmt="ipfix", raw=o)


def norm_dump(o):
    """A `flowctl dump [--by-ifindex] --json` row: one flow direction on
    one interface (or summed: ifindex 0, dir "all")."""
    egress = o.get("dir") == "egress"
    fwd = dict(packets=o.get("packets", 0), octets=o.get("bytes", 0),
               in_if=o.get("in_ifindex") or None,
               out_if=o.get("ifindex") if egress else None,
               flowdir={"egress": 1, "ingress": 0}.get(o.get("dir")))
    return dict(src=addr(o.get("src")), dst=addr(o.get("dst")),
                sport=o.get("sport", 0), dport=o.get("dport", 0),
                proto=o.get("proto", 0), fwd=fwd, rev=None, reason=None,
                fmt="dump", raw=o)


def norm_nfdump(o):
    if o.get("type") != "FLOW":
        return None
    src = o.get("src4_addr", o.get("src6_addr"))
    dst = o.get("dst4_addr", o.get("dst6_addr"))
    fwd = dict(packets=o.get("in_packets", 0), octets=o.get("in_bytes", 0),
               in_if=o.get("input_snmp"), out_if=o.get("output_snmp"),
               flowdir=o.get("direction"))
    rev = None
    if o.get("out_packets") or o.get("out_bytes"):
        # nfdump keeps one interface pair and one direction per record
        rev = dict(packets=o.get("out_packets", 0),
                   octets=o.get("out_bytes", 0), in_if=None, out_if=None,
                   flowdir=None)
    return dict(src=addr(src), dst=addr(dst), sport=o.get("src_port", 0),
                dport=o.get("dst_port", 0), proto=o.get("proto", 0),
                fwd=fwd, rev=rev, reason=None, fmt="nfdump", raw=o)


def matches(d, r, reverse):
    """Does record r (read forward, or reverse for its rev side) carry
    direction d of the truth?"""
    src, dst = (r["dst"], r["src"]) if reverse else (r["src"], r["dst"])
    if r["proto"] != d["proto"] or src != addr(d["src"]) or \
            dst != addr(d["dst"]):
        return False
    if d["proto"] in ICMP:
        return True  # type/code live in dport or icmpTypeCode*: not keys
    sp, dp = (r["dport"], r["sport"]) if reverse else (r["sport"],
                                                         r["dport"])
    return sp == d["sport"] and dp == d["dport"]


def post_errors(d, r, reverse):
    """--nat: the postNAT elements of record r against the truth's
    translation of d (its "post" tuple; without one, the tuple itself),
    read from r's forward side (a biflow's, or d reversed)."""
    o = r["raw"]
    if r["fmt"] != "ipfix":
        return ["%s: a %s record has no postNAT elements" % (dname(d),
                                                              r["fmt"])]
    p = d.get("post", d)
    want = dict(src=p["src"], dst=p["dst"], sport=p["sport"],
                dport=p["dport"])
    if reverse:
        want = dict(src=p["dst"], dst=p["src"], sport=p["dport"],
                    dport=p["sport"])
    got = dict(src=addr(o.get("postNATSourceIPv4Address",
                              o.get("postNATSourceIPv6Address"))),
               dst=addr(o.get("postNATDestinationIPv4Address",
                              o.get("postNATDestinationIPv6Address"))),
               sport=o.get("postNAPTSourceTransportPort"),
               dport=o.get("postNAPTDestinationTransportPort"))
    keys = ("src", "dst") if d["proto"] in ICMP else tuple(want)
    want = {k: addr(want[k]) if k in ("src", "dst") else want[k]
            for k in keys}
    got = {k: got[k] for k in keys}
    if got != want:
        return ["%s: postNAT %s, want %s" % (dname(d), got, want)]
    return []


def conv_key(d):
    ends = [(addr(d["src"]), d["sport"]), (addr(d["dst"]), d["dport"])]
    if d["proto"] in ICMP:
        ends = [(a, 0) for a, _ in ends]
    return (d["proto"], tuple(sorted(ends)))


def get_ifmap(ns):
    out = subprocess.run(["ip", "-n", ns, "-j", "link"], check=True,
                         capture_output=True, text=True).stdout
    return {l["ifname"]: l["ifindex"] for l in json.loads(out)}


def check(args):
    dirs = []
    for t in args.truth:
        with open(t) as f:
            tr = json.load(f)
        if not tr.get("ok", False):
            print("truth %s is not exact: %s" % (t, "; ".join(tr["notes"])))
            return 1
        dirs.extend(tr["directions"])
    recs = []
    for rf in args.records:
        recs.extend(load_records(rf))
    with open(args.ifmap) as f:
        ifmap = json.load(f)
    c0 = ifmap.get("fe-c0")
    errs = []
    used = set()
    conv_recs = {}
    ovf_pkts = ovf_oct = 0
    # forwarding pairs of the topology: what an overflow record may carry
    links = {ifmap[n] for n in ifmap if n.startswith("fe-s")}
    for i, r in enumerate(recs):
        if args.overflow and r["src"] in ZERO and r["dst"] in ZERO and \
                r["proto"] == 0:
            for s in (r["fwd"], r["rev"]):
                if not s:
                    continue
                pair = (s["in_if"], s["out_if"])
                if (pair[0] == c0 and pair[1] in links) or \
                        (pair[1] == c0 and pair[0] in links):
                    ovf_pkts += s["packets"]
                    ovf_oct += s["octets"]
            used.add(i)
    tot_truth = [0, 0]
    tot_seen = [0, 0]
    dropped = [0, 0]
    for d in dirs:
        pk = oc = 0
        nrec = 0
        per_link = {}
        want_in = want_out = None
        lk = {ifmap.get(n) for n in d.get("links", {})}
        if d["role"] == "request":
            want_in, want_out = {c0}, lk
        else:
            want_in, want_out = lk, {c0}
        for i, r in enumerate(recs):
            for reverse, s in ((False, r["fwd"]), (True, r["rev"])):
                if s is None or not matches(d, r, reverse):
                    continue
                used.add(i)
                conv_recs.setdefault(conv_key(d), set()).add(i)
                if args.nat:
                    errs.extend(post_errors(d, r, reverse))
                dropped[0] += (s.get("dropped") or 0)
                dropped[1] += (s.get("dropped_octets") or 0)
                if args.biflow == "yes" and r["rev"] is None and \
                        "reversePacketDeltaCount" not in r["raw"] and \
                        "out_packets" not in r["raw"]:
                    errs.append("record %d is not a biflow record" % i)
                if args.biflow == "no" and r["rev"] is not None:
                    errs.append("record %d is a biflow record" % i)
                pk += s["packets"]
                oc += s["octets"]
                if s["packets"] == 0:
                    continue
                # the router link: where requests left, replies came in
                ln = s["out_if"] if d["role"] == "request" else s["in_if"]
                lp = per_link.setdefault(ln, [0, 0])
                lp[0] += s["packets"]
                lp[1] += s["octets"]
                nrec += 1
                rv = "reverse" if reverse else ""
                if args.ifcheck and s["in_if"] is not None and \
                        s["in_if"] not in want_in:
                    errs.append("%s: %singressInterface %s, want %s" %
                                (dname(d), rv, s["in_if"], sorted(want_in)))
                if args.ifcheck and s["out_if"] is not None and \
                        s["out_if"] not in want_out:
                    errs.append("%s: %segressInterface %s, want %s" %
                                (dname(d), rv, s["out_if"],
                                 sorted(want_out)))
                if args.require_rev_if and reverse and \
                        s["in_if"] is None and r["fmt"] == "ipfix":
                    errs.append("%s: biflow record %d lacks "
                                "reverseIngressInterface" % (dname(d), i))
                if args.flowdir >= 0 and s["flowdir"] is not None and \
                        s["flowdir"] != args.flowdir:
                    errs.append("%s: %sflowDirection %s, want %d" %
                                (dname(d), rv, s["flowdir"], args.flowdir))
        tot_truth[0] += d["packets"]
        tot_truth[1] += d["octets"]
        tot_seen[0] += pk
        tot_seen[1] += oc
        ok = (pk, oc) == (d["packets"], d["octets"])
        if args.overflow:
            ok = pk <= d["packets"] and oc <= d["octets"]
        if not args.quiet or not ok:
            print("%-4s %-60s truth %6d pkts %9d oct | exported %6d pkts "
                  "%9d oct in %d records" %
                  ("ok" if ok else "DIFF", dname(d), d["packets"],
                   d["octets"], pk, oc, nrec))
        if not ok:
            errs.append("%s: exported %d packets %d octets, truth %d "
                        "packets %d octets" % (dname(d), pk, oc,
                                               d["packets"], d["octets"]))
        if args.per_link:
            want = {ifmap.get(n): [c, d["link_octets"].get(n)]
                    for n, c in d["links"].items()}
            if d["role"] == "reply" and d["proto"] == 6:
                # the server's TSO rows are not per wire packet
                want = {k: None for k in want}
            got = {k: v for k, v in per_link.items()}
            if None in got:
                # nfdump keeps no interfaces for a biflow's reverse side
                if not args.quiet:
                    print("     per link: not in these records")
            elif set(want) != set(got) or any(
                    w is not None and w != got[k] for k, w in want.items()):
                errs.append("%s: per link %s, truth %s (ifindex: "
                            "[packets, octets])" % (dname(d), got, want))
            elif not args.quiet:
                print("     per link %s" % got)
    if args.overflow:
        seen = (tot_seen[0] + ovf_pkts, tot_seen[1] + ovf_oct)
        print("total: truth %d pkts %d oct; exported %d + overflow %d pkts, "
              "%d + %d oct" % (tot_truth[0], tot_truth[1], tot_seen[0],
                               ovf_pkts, tot_seen[1], ovf_oct))
        if seen != tuple(tot_truth):
            errs.append("total exported %s != truth %s" %
                        (seen, tuple(tot_truth)))
        if args.expect_overflow and not ovf_pkts:
            errs.append("no overflow record carried any packets")
    if args.dropped is not None:
        print("dropped: %d packets %d octets in the matched records, want "
              "%d packets" % (dropped[0], dropped[1], args.dropped))
        if dropped[0] != args.dropped:
            errs.append("droppedPacketDeltaCount adds up to %d, want %d" %
                        (dropped[0], args.dropped))
        if args.dropped_octets is not None and \
                dropped[1] != args.dropped_octets:
            errs.append("droppedOctetDeltaCount adds up to %d, want %d" %
                        (dropped[1], args.dropped_octets))
    if args.one_record:
        for k, ids in conv_recs.items():
            if len(ids) != 1:
                errs.append("conversation %s in %d records, want 1" %
                            (k, len(ids)))
    extra = len(recs) - len(used)
    if not args.quiet:
        print("%d records, %d matched the truth, %d other" %
              (len(recs), len(used), extra))
    for e in dict.fromkeys(errs):
        print("FAIL: " + e)
    return 1 if errs else 0


def dname(d):
    return "%s %s:%d->%s:%d/%d" % (d["role"], d["src"], d["sport"],
                                    d["dst"], d["dport"], d["proto"])


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("--truth", nargs="+", required=True)
    c.add_argument("--records", nargs="+", required=True)
    c.add_argument("--ifmap", required=True)
    c.add_argument("--biflow", choices=("yes", "no", "any"), default="any")
    c.add_argument("--one-record", action="store_true",
                   help="each conversation is exactly one record")
    c.add_argument("--flowdir", type=int, default=1,
                   help="expected flowDirection (-1: any)")
    c.add_argument("--overflow", action="store_true",
                   help="count overflow records into the totals")
    c.add_argument("--expect-overflow", action="store_true")
    c.add_argument("--no-ifcheck", dest="ifcheck", action="store_false")
    c.add_argument("--require-rev-if", action="store_true",
                   help="biflow records carry reverse{In,E}gressInterface")
    c.add_argument("--per-link", action="store_true",
                   help="packets/octets per router link match the truth")
    c.add_argument("--nat", action="store_true",
                   help="postNAT elements equal the truth's translation")
    c.add_argument("--dropped", type=int,
                   help="droppedPacketDeltaCount of the matched records "
                   "adds up to N")
    c.add_argument("--dropped-octets", type=int,
                   help="and droppedOctetDeltaCount to N")
    c.add_argument("--quiet", action="store_true")
    m = sub.add_parser("ifmap")
    m.add_argument("netns")
    args = ap.parse_args()
    if args.cmd == "ifmap":
        print(json.dumps(get_ifmap(args.netns)))
        return 0
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
