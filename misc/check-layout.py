#!/usr/bin/env python3
"""check-layout.py - checks the tree's layout rules (make lint runs it):
no source file in ebpf/, agent/, ctl/ longer than 900 lines, no function
longer than 100 lines (from the first line of its signature to its closing
brace), and no cycle among the object files' calls (a module calls down,
never back up into its caller): read from the symbols `nm` lists in the
built objects, so a call through a header's inline function is not seen.

Usage: misc/check-layout.py [--objdir .output] [--report]
--report prints the longest functions and files even when all is well.
Exit status: 0 all rules hold, 1 a rule is broken (each breach is listed).
"""
import argparse
import glob
import os
import re
import subprocess
import sys

MAX_FILE = 900
MAX_FUNC = 100
DIRS = ("ebpf", "agent", "ctl")

# A definition starts in column 0 with a name followed by "(" and no ";"
# before its body's "{", which kernel style puts alone in column 0.
SIG = re.compile(r"^[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)\s*\(")


def sources():
    out = []
    for d in DIRS:
        out += sorted(glob.glob(f"{d}/*.c") + glob.glob(f"{d}/*.h"))
    return out


def functions(path):
    """Yields (name, first line, length) of every function defined in path."""
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        m = SIG.match(lines[i])
        if not m or lines[i].startswith(("#", "typedef", "struct ", "enum ")) \
                and not re.match(r"^(static|struct|enum)\b.*\)\s*$", lines[i]):
            i += 1
            continue
        # the signature runs until a line that is "{" alone
        j = i
        while j < len(lines) and lines[j] != "{" and ";" not in lines[j]:
            j += 1
        if j >= len(lines) or lines[j] != "{":
            i += 1
            continue
        k = j + 1
        while k < len(lines) and lines[k] != "}":
            k += 1
        if k >= len(lines):
            break
        yield m.group(1), i + 1, k - i + 1
        i = k + 1


def objects(objdir):
    return sorted(glob.glob(f"{objdir}/agent/*.o") + glob.glob(f"{objdir}/ctl/*.o"))


def symbols(obj):
    """(defined, undefined) global symbol names of an object file."""
    out = subprocess.run(["nm", obj], capture_output=True, text=True,
                         check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRGSVW":
            defined.add(parts[2])
    return defined, undefined


def cycles(graph):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, comps = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return comps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--objdir", default=".output")
    ap.add_argument("--report", action="store_true")
    args = ap.parse_args()
    bad = []

    files = [(sum(1 for _ in open(p, encoding="utf-8", errors="replace")), p)
             for p in sources()]
    funcs = [(n, p, name, line) for p in sources()
             for name, line, n in functions(p)]
    for n, p in files:
        if n > MAX_FILE:
            bad.append(f"{p}: {n} lines (limit {MAX_FILE})")
    for n, p, name, line in funcs:
        if n > MAX_FUNC:
            bad.append(f"{p}:{line}: {name}() is {n} lines (limit {MAX_FUNC})")

    objs = objects(args.objdir)
    if not objs:
        bad.append(f"no objects under {args.objdir}/agent, {args.objdir}/ctl: build first")
    syms = {o: symbols(o) for o in objs}
    owner = {}
    for o, (d, _) in syms.items():
        for s in d:
            owner[s] = o
    graph = {o: sorted({owner[s] for s in u if s in owner and owner[s] != o})
             for o, (_, u) in syms.items()}
    for comp in cycles(graph):
        names = [os.path.basename(c)[:-2] for c in comp]
        detail = []
        for a in comp:
            for b in graph[a]:
                if b in comp:
                    used = sorted(s for s in syms[a][1] if owner.get(s) == b)
                    detail.append(f"{os.path.basename(a)[:-2]} -> "
                                  f"{os.path.basename(b)[:-2]} ({', '.join(used[:3])})")
        bad.append("call cycle among " + ", ".join(names) + ": " + "; ".join(detail))

    if args.report or bad:
        files.sort(reverse=True)
        funcs.sort(reverse=True)
        print("longest files:", ", ".join(f"{p} {n}" for n, p in files[:5]))
        print("longest functions:", ", ".join(
            f"{name}() {n} ({p})" for n, p, name, _ in funcs[:5]))
    for b in bad:
        print("layout:", b)
    if bad:
        return 1
    print(f"layout: ok ({len(files)} files, {len(funcs)} functions, "
          f"{len(objs)} objects, no call cycles)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
