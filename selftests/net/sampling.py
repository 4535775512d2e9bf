#!/usr/bin/env python3
# sampling.py - the checks of test_sampling.sh, for an export sampled 1 in
# N (flowexp.ini sampling):
#
#   estimate  records' raw packets and octets x N against the ground truth
#             (misc/fe_traffic.py) per direction and in total. Bound: 5
#             standard deviations of a binomial count, sd = sqrt(P p (1-p))
#             for P true packets and p = 1/N; for octets, with packets of
#             at most s octets, Var <= s * O * p (1-p) for O true octets.
#             The meters' random 1-out-of-N windows select each packet with
#             chance 1/N and a set of packets with at most the binomial
#             variance (per window: a Bernoulli of k/N, not k of 1/N), so
#             the bound holds; a binomial count is outside 5 sd with
#             probability 5.7e-7, and the ~25 comparisons of a run fail by
#             chance with probability below 1.5e-5. Also: fe_stats (flowctl
#             stats --json) count every packet, not the sampled ones.
#   options   the sampling options record as tshark decodes it (IPFIX or
#             NetFlow v9) and as flowctl collect printed it (IPFIX).
#   nfdump    nfdump applied the rate: each of its records is flowctl
#             collect's record with packets and octets x N.
# Prints what it compares; exit 0 when everything holds, 1 otherwise.
import argparse
import json
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fe_verify  # noqa: E402

SD = 5


def bound(n, var):
    """SD standard deviations of an estimate N * count, count of variance
    var."""
    return math.ceil(n * SD * math.sqrt(var))


def estimate(args):
    n, p = args.n, 1.0 / args.n
    dirs = []
    for t in args.truth:
        dirs += json.load(open(t))["directions"]
    recs = []
    for r in args.records:
        recs += fe_verify.load_records(r)
    bad = 0
    tot = dict(P=0, O=0, sp=0, so=0, smax=0)
    print("%-44s %8s %8s %8s %7s %6s | %9s %9s %8s %5s" %
          ("direction", "truth", "raw", "x N", "bound", "z", "octets",
           "x N", "bound", "z"))
    for d in dirs:
        P, O = d["packets"], d["octets"]
        smax = d.get("max_iplen") or 1500
        sp = sum(r["fwd"]["packets"] for r in recs
                 if fe_verify.matches(d, r, False))
        so = sum(r["fwd"]["octets"] for r in recs
                 if fe_verify.matches(d, r, False))
        bp = bound(n, P * p * (1 - p))
        bo = bound(n, smax * O * p * (1 - p))
        zp = (n * sp - P) / (n * math.sqrt(P * p * (1 - p)))
        zo = (n * so - O) / (n * math.sqrt(smax * O * p * (1 - p)))
        name = "%s %s:%s > %s:%s" % (d["proto"], d["src"], d["sport"],
                                     d["dst"], d["dport"])
        print("%-44s %8d %8d %8d %7d %+6.2f | %9d %9d %8d %+5.2f" %
              (name, P, sp, n * sp, bp, zp, O, n * so, bo, zo))
        if abs(n * sp - P) > bp or abs(n * so - O) > bo or not sp:
            print("  outside the bound")
            bad += 1
        tot["P"] += P
        tot["O"] += O
        tot["sp"] += sp
        tot["so"] += so
        tot["smax"] = max(tot["smax"], smax)
    bp = bound(n, tot["P"] * p * (1 - p))
    bo = bound(n, tot["smax"] * tot["O"] * p * (1 - p))
    print("%-44s %8d %8d %8d %7d %6s | %9d %9d %8d" %
          ("total", tot["P"], tot["sp"], n * tot["sp"], bp, "", tot["O"],
           n * tot["so"], bo))
    if abs(n * tot["sp"] - tot["P"]) > bp or \
            abs(n * tot["so"] - tot["O"]) > bo:
        print("  total outside the bound")
        bad += 1
    if args.stats:
        st = json.load(open(args.stats))
        # every forwarded packet passes an ingress and an egress meter
        seen = st.get("meter_ipv4", 0) + st.get("meter_ipv6", 0)
        print("fe_stats: %d IP packets seen, sampling %s; truth x 2 = %d" %
              (seen, st.get("sampling"), 2 * tot["P"]))
        if seen < 2 * tot["P"] or st.get("sampling") != n:
            print("  the meters' counters are not every packet's")
            bad += 1
    return 1 if bad else 0


def tshark_fields(pcap, port, filt, fields):
    cmd = ["tshark", "-r", pcap, "-d", "udp.port==%s,cflow" % port, "-Y",
           "udp.dstport==%s && %s" % (port, filt), "-T", "fields",
           "-E", "separator=|", "-E", "occurrence=f"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return [line.split("|") for line in out.stdout.splitlines() if line]


def options(args):
    n = args.n
    pcap, port, kind = args.tshark
    if kind == "ipfix":
        want = {"cflow.sampling_interval": n,
                "cflow.sampler_random_interval": n,
                "cflow.selector_algorithm": 3, "cflow.sampling_size": 1,
                "cflow.sampling_population": n,
                "cflow.sampling_packet_interval": 1,
                "cflow.sampling_packet_space": n - 1}
        filt = "cflow.selector_algorithm"
    else:
        want = {"cflow.sampling_interval": n,
                "cflow.sampling_algorithm": 2,
                "cflow.sampler_random_interval": n}
        filt = "cflow.sampling_algorithm"
    names = list(want)
    rows = tshark_fields(pcap, port, filt, names)
    bad = 0
    if not rows:
        print("tshark (%s): no sampling options record" % kind)
        return 1
    for row in rows:
        got = dict(zip(names, row))
        print("tshark (%s): %s" % (kind, ", ".join(
            "%s=%s" % (k.split(".")[1], v) for k, v in got.items())))
        for k, v in want.items():
            if got.get(k) != str(v):
                print("  %s: %s, want %s" % (k, got.get(k), v))
                bad += 1
    if args.collect:
        want = {"samplingInterval": n, "samplerRandomInterval": n,
                "selectorAlgorithm": 3, "samplingSize": 1,
                "samplingPopulation": n, "samplingPacketInterval": 1,
                "samplingPacketSpace": n - 1}
        seen = 0
        for line in open(args.collect):
            if '"selectorAlgorithm"' not in line:
                continue
            o = json.loads(line)
            seen += 1
            if seen == 1:
                print("flowctl collect: %s" % line.strip())
            for k, v in want.items():
                if o.get(k) != v:
                    print("  flowctl collect %s: %s, want %s" %
                          (k, o.get(k), v))
                    bad += 1
        if not seen:
            print("flowctl collect: no sampling options record")
            bad += 1
    return 1 if bad else 0


def rec_key(r):
    f = r["fwd"]
    # nfdump moves ICMP type/code out of the ports
    ports = (0, 0) if r["proto"] in fe_verify.ICMP else (r["sport"],
                                                         r["dport"])
    return (r["src"], r["dst"]) + ports + (r["proto"], f["in_if"] or 0,
                                           f["out_if"] or 0)


def nfdump(args):
    n = args.n
    mine = sorted((rec_key(r), n * r["fwd"]["packets"],
                   n * r["fwd"]["octets"])
                  for r in fe_verify.load_records(args.collect))
    theirs = sorted((rec_key(r), r["fwd"]["packets"], r["fwd"]["octets"])
                    for r in fe_verify.load_records(args.nfdump))
    print("flowctl collect: %d records (raw x %d: %d packets), nfdump: %d "
          "records (%d packets)" % (len(mine), n, sum(x[1] for x in mine),
                                    len(theirs), sum(x[1] for x in theirs)))
    only_a = sorted(set(mine) - set(theirs))
    only_b = sorted(set(theirs) - set(mine))
    for r in only_a[:10]:
        print("  only in flowctl collect (x %d): %s" % (n, r))
    for r in only_b[:10]:
        print("  only in nfdump: %s" % (r,))
    return 1 if only_a or only_b or mine != theirs else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("estimate")
    e.add_argument("-n", type=int, required=True)
    e.add_argument("--truth", nargs="+", required=True)
    e.add_argument("--records", nargs="+", required=True)
    e.add_argument("--stats")
    o = sub.add_parser("options")
    o.add_argument("-n", type=int, required=True)
    o.add_argument("--tshark", nargs=3, required=True,
                   metavar=("PCAP", "PORT", "ipfix|v9"))
    o.add_argument("--collect")
    f = sub.add_parser("nfdump")
    f.add_argument("-n", type=int, required=True)
    f.add_argument("--collect", required=True)
    f.add_argument("--nfdump", required=True)
    args = ap.parse_args()
    return {"estimate": estimate, "options": options,
            "nfdump": nfdump}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
