#!/usr/bin/env bash
# test_metrics_prometheus.sh - [agent] metrics_listen with a real Prometheus
# server (the Debian package) scraping the agent every second on loopback:
#
#   prometheus (host, 127.0.0.1:PP) --scrape 1 s--> flowagent /metrics
#   (host, 127.0.0.1:MP; the agent meters the router's links from there)
#
# The endpoint lives in the agent's own network namespace, not the metered
# one; the live text passes `promtool check metrics`; once traffic stops,
# every quiescent counter Prometheus' HTTP API returns equals what `flowctl
# stats` shows, and the records the collector got equal the records series.
# Then the bounds: connections beyond the per-address and total limits are
# refused or wait, ticks go on meanwhile, idle ones are closed after the
# timeout. Prometheus keeps its data in the test's temp dir and is killed
# on exit, pass or fail (lib.sh's cleanup).
. "$(dirname "$0")/lib.sh"
fe_init prom
fe_require_cmd prometheus curl

# A free TCP port on 127.0.0.1 (fe_port's are UDP).
tcp_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

fe_topo_up sym
cport=$(fe_port)
mport=$(tcp_port)
pport=$(tcp_port)
[ "$mport" != "$pport" ] || pport=$(tcp_port)
fe_collect_start c1 "$cport"
{
	fe_agent_conf tc idle_timeout=2 metrics_listen=127.0.0.1:$mport
	fe_collector_conf c1 "$cport" no no
} >"$FE_TMP/agent.ini"
fe_agent_start "$FE_TMP/agent.ini"
url=http://127.0.0.1:$mport

# --- the endpoint itself ---------------------------------------------------
curl -sf -D "$FE_TMP/headers.txt" -o "$FE_TMP/scrape.txt" "$url/metrics" ||
	fe_fail "GET $url/metrics failed"
grep -qi '^content-type: text/plain; version=0.0.4' "$FE_TMP/headers.txt" ||
	fe_fail "Content-Type: $(grep -i content-type "$FE_TMP/headers.txt")"
grep -q '^flowexp_agent_ticks_total [0-9]' "$FE_TMP/scrape.txt" ||
	fe_fail "the scrape lacks flowexp_agent_ticks_total"
if command -v promtool >/dev/null; then
	promtool check metrics <"$FE_TMP/scrape.txt" >"$FE_TMP/promtool.txt" 2>&1 ||
		fe_fail "promtool check metrics: $(head -5 "$FE_TMP/promtool.txt")"
else
	fe_log "promtool not installed: the live text is not linted"
fi
ss -Hltn "sport = :$mport" | grep -q . ||
	fe_fail "nothing listens on :$mport in the agent's namespace"
fe_nsexec rtr ss -Hltn "sport = :$mport" | grep -q . &&
	fe_fail "the endpoint listens in the metered namespace $FE_RTR"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/")" = 404 ] ||
	fe_fail "GET / is not 404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/metrics")" = 405 ] ||
	fe_fail "POST /metrics is not 405"

# --- Prometheus ------------------------------------------------------------
cat >"$FE_TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: flowexp
    static_configs:
      - targets: ['127.0.0.1:$mport']
EOF
fe_bg prometheus prometheus --config.file="$FE_TMP/prometheus.yml" \
	--storage.tsdb.path="$FE_TMP/prom-data" \
	--web.listen-address="127.0.0.1:$pport" \
	>"$FE_TMP/prometheus.log" 2>&1
prom=http://127.0.0.1:$pport
fe_wait_for 30 curl -sf -o /dev/null "$prom/-/ready" ||
	fe_fail "Prometheus not ready after 30 s: $(tail -3 "$FE_TMP/prometheus.log")"
# its first scrape comes a few seconds after ready (target discovery)
scraped() {
	curl -sf "$prom/api/v1/query?query=up%7Bjob%3D%22flowexp%22%7D" |
		grep -q '"value":\[[0-9.]*,"1"\]'
}
fe_wait_for 30 scraped ||
	fe_fail "Prometheus did not scrape the agent within 30 s: $(tail -3 "$FE_TMP/prometheus.log")"
fe_log "Prometheus up on :$pport, scraping :$mport"

# 2 s of traffic, so that several ticks and scrapes see it
fe_gen udpa udp --count 100 --size 100 --port 7101 --echo --sport 41001 \
	--interval 0.02
fe_gen ping icmp --count 20
# quiescent: both conversations expired (idle_timeout = 2) and exported
idle_done() {
	fe_ctl stats --json | python3 -c 'import json, sys
s = json.load(sys.stdin)
sys.exit(0 if s["cache_flows"] == 0 and s["exported_idle"] >= 2 else 1)'
}
fe_wait_for 20 idle_done || fe_fail "the flows were not exported within 20 s"
want=$(fe_ctl stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["collectors"][0]["records"])')
fe_wait_for 10 eval '[ "$(fe_records c1.jsonl)" -ge "$want" ]' ||
	fe_fail "collector c1 got $(fe_records c1.jsonl) records, the agent sent $want"

# Prometheus' values against flowctl stats read before and after the
# query: equal while the two reads agree (the counter was quiescent).
python3 - "$prom" "$FLOWCTL" --pin-path "$FE_PIN" -n "$FE_RTR" \
	--socket "$FE_SOCK" <<'PY' || fe_fail "Prometheus' values differ from flowctl stats"
import json, subprocess, sys, time, urllib.parse, urllib.request

prom, ctl = sys.argv[1], sys.argv[2:]
PAIRS = {  # flowctl stats key -> (series, labels)
    "map_flows": None,  # live map: compared as flowexp_map_entries below
    "ticks": None,  # not quiescent: checked apart
    "drained_entries": ("flowexp_agent_drained_entries_total", {}),
    "drain_errors": ("flowexp_agent_drain_errors_total", {}),
    "early_drains": ("flowexp_agent_early_drains_total", {}),
    "overflow_dup_packets": ("flowexp_agent_overflow_dup_packets_total", {}),
    "cache_flows": ("flowexp_cache_flows", {}),
    "cache_created": ("flowexp_cache_created_total", {}),
    "dedup_packets": ("flowexp_cache_dedup_packets_total", {}),
    "sampling": ("flowexp_sampling_interval", {}),
}
REASONS = {"idle": "idleTimeout", "active": "activeTimeout",
           "end": "endOfFlowDetected", "forced": "forcedEnd",
           "resources": "lackOfResources"}
COLL = {"messages": "messages_total", "records": "records_total",
        "options_records": "options_records_total",
        "template_records": "template_records_total",
        "octets": "sent_bytes_total", "send_errors": "send_errors_total",
        "records_not_sent": "records_not_sent_total"}


def stats():
    return json.loads(subprocess.check_output(ctl + ["stats", "--json"]))


def query(q):
    u = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
    d = json.load(urllib.request.urlopen(u, timeout=5))
    out = {}
    for r in d["data"]["result"]:
        m = r["metric"]
        name = m.pop("__name__", q)
        m.pop("job", None)
        m.pop("instance", None)
        out[(name, tuple(sorted(m.items())))] = float(r["value"][1])
    return out


def expected(s):
    want = {}
    for k, v in s.items():
        if k.startswith("meter_"):
            want[("flowexp_" + k + "_total", ())] = v
        elif k.startswith("exported_"):
            want[("flowexp_cache_exported_flows_total",
                  (("reason", REASONS[k[9:]]),))] = v
        elif PAIRS.get(k):
            want[(PAIRS[k][0], ())] = v
    for c in s["collectors"]:
        for k, suffix in COLL.items():
            want[("flowexp_collector_" + suffix,
                  (("collector", c["name"]),))] = c[k]
        want[("flowexp_collector_up", (("collector", c["name"]),))] = 1
    want[("flowexp_map_entries", ())] = 0  # no traffic: the drains are empty
    return want


bad = {}
for attempt in range(30):
    a = stats()
    got = query('{__name__=~"flowexp_.*"}')
    b = stats()
    # ticks and the control socket's own counters (each flowctl stats is
    # a client) move with every read; the rest must hold still
    moving = ("ticks", "tick_late_max_ms", "control_clients")
    if {k: v for k, v in a.items() if k not in moving} != \
            {k: v for k, v in b.items() if k not in moving}:
        time.sleep(1)
        continue  # something moved between the two reads
    want = expected(a)
    bad = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
    if not bad and a["ticks"] >= got[("flowexp_agent_ticks_total", ())] > 0:
        break
    time.sleep(1)
else:
    print("differ (series: prometheus, flowctl):", bad)
    sys.exit(1)
print("Prometheus = flowctl stats on %d series, e.g. meter_packets %d, "
      "records %d" % (len(want), a["meter_packets"],
                      a["collectors"][0]["records"]))
got = query("max_over_time(flowexp_map_entries[5m])")
if not any(v > 0 for v in got.values()):
    print("flowexp_map_entries never above 0 while traffic ran:", got)
    sys.exit(1)
h = query("flowexp_drain_duration_seconds_count")
t = query("flowexp_agent_ticks_total")
if not 0 < list(h.values())[0] <= list(t.values())[0]:
    print("drain histogram count %s, ticks %s" % (h, t))
    sys.exit(1)
up = query('up{job="flowexp"}')
dur = query('scrape_duration_seconds{job="flowexp"}')
print("up %s, last scrape took %.4f s" % (list(up.values()),
                                          list(dur.values())[0]))
sys.exit(0 if list(up.values()) == [1.0] else 1)
PY
# the collector's count is the records series'
curl -s -o "$FE_TMP/scrape-end.txt" "$url/metrics"
got=$(awk '/^flowexp_collector_records_total\{collector="c1"\}/ {print $2}' "$FE_TMP/scrape-end.txt")
[ "$got" = "$(fe_records c1.jsonl)" ] ||
	fe_fail "flowexp_collector_records_total is $got, collector c1 got $(fe_records c1.jsonl)"
got=$(awk '/^flowexp_collector_options_records_total\{collector="c1"\}/ {print $2}' "$FE_TMP/scrape-end.txt")
opts=$(grep -c '"options":true' "$FE_TMP/c1.jsonl")
[ "$got" = "$opts" ] ||
	fe_fail "flowexp_collector_options_records_total is $got, collector c1 got $opts"
fe_kill prometheus TERM

# --- what a hostile client can cost ----------------------------------------
ticks() { fe_ctl stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["ticks"])'; }
t0=$(ticks)
python3 - "$mport" <<'PY' || fe_fail "the endpoint's connection bounds do not hold"
import socket, subprocess, sys, time

port = int(sys.argv[1])


def conn(src):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(3)
    s.connect(("127.0.0.1", port))
    return s


def state(s, wait):
    s.settimeout(wait)
    try:
        return "data" if s.recv(100) else "closed"
    except socket.timeout:
        return "open"
    except ConnectionResetError:
        return "closed"


# 4 idle connections from one address: its limit; a 5th is closed at once
held = [conn("127.0.0.1") for _ in range(4)]
time.sleep(0.5)
fifth = state(conn("127.0.0.1"), 2)
# another address is still served
other = subprocess.run(["curl", "-sf", "-o", "/dev/null", "--interface",
                        "127.0.0.2", "http://127.0.0.1:%d/metrics" % port],
                       timeout=10).returncode
# 8 in all: a 9th gets no answer while they stay
held += [conn("127.0.0.%d" % i) for i in (2, 3, 4, 5)]
time.sleep(0.5)
ninth = conn("127.0.0.6")
ninth.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
ninth_state = state(ninth, 2)
# the timeout (10 s without progress) closes the idle ones
time.sleep(11)
after = [state(s, 0.2) for s in held]
print("5th from one address: %s; another address: curl exit %d; 9th in all: "
      "%s; held ones after 11 s: %s" % (fifth, other, ninth_state, after))
ok = fifth == "closed" and other == 0 and ninth_state in ("open", "closed") \
    and ninth_state != "data" and after == ["closed"] * 8
sys.exit(0 if ok else 1)
PY
t1=$(ticks)
# 14 s held at poll_interval_ms = 200: about 60 ticks (a slow drain on a
# loaded machine takes some); a loop stuck on a client would make none
[ $((t1 - t0)) -ge 20 ] || fe_fail "only $((t1 - t0)) ticks while clients held the endpoint"
fe_log "ticks while clients held the endpoint: $((t1 - t0))"
curl -sf -o /dev/null "$url/metrics" || fe_fail "no scrape after the idle clients were closed"
fe_agent_stop
fe_collect_stop c1
exit 0
